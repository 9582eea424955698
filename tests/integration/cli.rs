//! The real `stampede` binary: default run, determinism, outputs, exit codes.

use crate::common::{scenario_path, stampede, write_temp};
use serde_json::Value;

/// Every scenario in `scenarios/`, so a new one is tested without a list to update.
fn bundled_names() -> Vec<String> {
    let folder = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

fn run_json(args: &[&str]) -> String {
    let output = stampede()
        .arg("run")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn default_run_prints_the_retry_chain_seed_and_reproduction() {
    let output = stampede().arg("run").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("three-tier retry chain"), "{text}");
    assert!(text.contains("seed 42"), "{text}");
    assert!(text.contains("reproduce: stampede run --seed 42"), "{text}");
    for amplification in ["2.00×", "4.00×", "8.00×"] {
        assert!(
            text.contains(amplification),
            "missing {amplification}:\n{text}"
        );
    }
}

/// `run --format json` prints the summary that `report` writes (and
/// `reports/` holds) byte for byte. Every bundled scenario's summary is
/// pinned through `report` by
/// `reports::regenerated_data_files_match_the_committed_reports`; here a
/// single queue, a chain of calls with retries, and a study with variants
/// and a sweep (whose base run `run` prints) show `run` prints the same.
#[test]
fn run_prints_the_summary_that_report_writes() {
    for stem in ["mm1", "retry-chain", "backoff-vs-no-backoff"] {
        let json = run_json(&[&scenario_path(&format!("{stem}.yaml"))]);
        let committed = format!("{}/reports/{stem}/summary.json", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::fs::read_to_string(&committed).unwrap() == json,
            "`stampede run scenarios/{stem}.yaml --format json` differs from reports/{stem}/summary.json"
        );
    }
}

#[test]
fn json_reports_the_seed_and_the_reproduction_goes_to_stderr() {
    let output = stampede()
        .args([
            "run",
            &scenario_path("mm1.yaml"),
            "--format",
            "json",
            "--seed",
            "99",
        ])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["seed"], 99);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--seed 99"), "{stderr}");
    assert_ne!(
        run_json(&[&scenario_path("mm1.yaml"), "--seed", "99"]),
        run_json(&[&scenario_path("mm1.yaml")])
    );
}

#[test]
fn out_writes_the_summary_and_the_text_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    stampede()
        .args(["run", &scenario_path("mmc.yaml"), "--out"])
        .arg(&out)
        .assert()
        .success();
    let written = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(written, run_json(&[&scenario_path("mmc.yaml")]));
    let report = std::fs::read_to_string(out.join("report.txt")).unwrap();
    assert!(report.contains("M/M/4"), "{report}");
}

#[test]
fn validate_accepts_the_bundled_scenarios() {
    let paths: Vec<String> = bundled_names()
        .iter()
        .map(|name| scenario_path(name))
        .collect();
    stampede().arg("validate").args(&paths).assert().success();
}

#[test]
fn a_typo_is_located_explained_and_exits_2() {
    let file = write_temp(
        "duration: 10s\nsources:\n  u: { target: web, rate: 1/s }\nservices:\n  web:\n    wokers: 4\n    service_time: 1ms\n",
    );
    let output = stampede()
        .arg("validate")
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(":6:5: services.web.wokers: unknown key `wokers`"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `workers`?"), "{stderr}");
    let run = stampede().arg("run").arg(file.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stdout.is_empty());
}

#[test]
fn unreadable_and_empty_files_exit_2() {
    let missing = stampede()
        .args(["run", "no/such/scenario.yaml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the file"));
    let empty = write_temp("");
    let output = stampede().arg("run").arg(empty.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the scenario is empty"));
}

#[test]
fn a_runaway_scenario_stops_with_a_clear_message() {
    let cases = [
        (
            "limits: { max_events: 5000 }\nduration: 1h\n",
            "limits.max_events",
        ),
        // No timeouts and a queue deeper than the limit: the backlog grows until stopped.
        (
            "limits: { max_in_flight: 2000 }\nduration: 1h\n",
            "limits.max_in_flight",
        ),
    ];
    for (head, limit) in cases {
        let file = write_temp(&format!(
            "{head}sources:\n  u: {{ target: slow, rate: 1000/s }}\nservices:\n  slow: {{ workers: 1, queue: {{ capacity: 10_000_000 }}, service_time: 10ms }}\n"
        ));
        let output = stampede().arg("run").arg(file.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{limit}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(limit), "{stderr}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains("WARNING: stopped at"), "{stdout}");
    }
}

#[test]
fn help_lists_the_commands() {
    let output = stampede().arg("--help").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("run") && text.contains("validate"), "{text}");
}

/// An absurd thread count is capped with a warning, not a panic in rayon.
#[test]
fn an_absurd_rayon_thread_count_is_capped() {
    let output = stampede()
        .env("RAYON_NUM_THREADS", "100000")
        .args(["compare", &scenario_path("thundering-herd.yaml")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("using 256 threads"), "{stderr}");
}

/// A sweep range whose step makes the point count overflow is a located
/// error, not an index panic.
#[test]
fn a_sweep_range_too_fine_to_count_is_refused() {
    let output = stampede()
        .args(["sweep", &scenario_path("mm1.yaml")])
        .args(["--param", "sources.arrivals.rate"])
        .args(["--values", "100/s..200/s:1e-300/s"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at most 1000 are allowed"), "{stderr}");
}
