//! The study commands on the real binary: compare, sweep, report, check, diff.

use crate::common::{scenario_path, stampede, write_temp};
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let output = stampede()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn compare_shows_backoff_recovering_where_blind_retries_do_not() {
    let comparison = json_of(&["compare", &scenario_path("backoff-vs-no-backoff.yaml")]);
    assert_eq!(
        comparison["variants"],
        serde_json::json!(["no-backoff", "backoff"])
    );
    let recovery = comparison["recovery"].as_array().unwrap();
    assert_eq!(recovery[0]["variant"], "no-backoff");
    assert_eq!(recovery[0]["recovered_runs"], 0);
    assert_eq!(recovery[1]["variant"], "backoff");
    assert_eq!(recovery[1]["recovered_runs"], 1);
    let goodput = &comparison["metrics"][0];
    assert_eq!(goodput["metric"], "goodput");
    let (blind, backoff) = (
        goodput["values"][0]["mean"].as_f64().unwrap(),
        goodput["values"][1]["mean"].as_f64().unwrap(),
    );
    assert!(backoff > 1.5 * blind, "goodput {blind} vs {backoff}");
    let text = String::from_utf8(
        stampede()
            .args(["compare", &scenario_path("backoff-vs-no-backoff.yaml")])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        text.contains("did NOT recover") && text.contains("recovered"),
        "{text}"
    );
}

#[test]
fn replications_give_confidence_intervals_and_stay_deterministic() {
    let args = [
        "compare",
        &scenario_path("backoff-vs-no-backoff.yaml"),
        "--replications",
        "3",
        "--variants",
        "backoff,base",
    ];
    let first = json_of(&args);
    assert_eq!(first, json_of(&args));
    assert_eq!(first["replications"], 3);
    assert!(first["metrics"][0]["values"][0]["ci95"].as_f64().is_some());
}

#[test]
fn unknown_variants_and_bad_overrides_are_located_errors() {
    let output = stampede()
        .args([
            "compare",
            &scenario_path("backoff-vs-no-backoff.yaml"),
            "--variants",
            "bakoff",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `backoff`"));
    let file = write_temp(
        "duration: 10s\nsources:\n  u: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 1ms }\nvariants:\n  more:\n    set:\n      services.wbe.workers: 4\n  typo:\n    set:\n      services.web.wokers: 4\n",
    );
    let output = stampede()
        .arg("validate")
        .arg(file.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(":9:29: variants.more.set.services.wbe.workers"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `web`?"), "{stderr}");
    assert!(
        stderr.contains(":12:28:")
            && stderr.contains("unknown key `wokers`")
            && stderr.contains("did you mean `workers`?"),
        "{stderr}"
    );
}

#[test]
fn a_load_sweep_shows_latency_rising_with_load() {
    let result = json_of(&[
        "sweep",
        &scenario_path("mm1.yaml"),
        "--param",
        "sources.arrivals.rate",
        "--values",
        "300/s..900/s:300/s",
    ]);
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    let p99: Vec<f64> = points
        .iter()
        .map(|p| p["sources"][0]["latency_p99_ms"]["mean"].as_f64().unwrap())
        .collect();
    assert!(p99[0] < p99[1] && p99[1] < p99[2], "{p99:?}");
    // M/M/1 mean response time 1/(μ − λ): 1.43ms at 300/s, 10ms at 900/s.
    let goodput: Vec<f64> = points
        .iter()
        .map(|p| p["goodput_per_s"]["mean"].as_f64().unwrap())
        .collect();
    assert!((goodput[2] - 900.0).abs() < 15.0, "{goodput:?}");
    let dir = tempfile::tempdir().unwrap();
    stampede()
        .args([
            "sweep",
            &scenario_path("mm1.yaml"),
            "--param",
            "sources.arrivals.rate",
            "--values",
            "300/s,600/s",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    for file in [
        "sweep.json",
        "sweep.txt",
        "latency-vs-param.svg",
        "latency-vs-param.png",
        "goodput-vs-param.png",
    ] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
    let output = stampede()
        .args([
            "sweep",
            &scenario_path("mm1.yaml"),
            "--param",
            "sources.arrivals.rate",
            "--values",
            "300/s..100/s:1/s",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn report_writes_markdown_charts_and_data() {
    let dir = tempfile::tempdir().unwrap();
    stampede()
        .args([
            "report",
            &scenario_path("backoff-vs-no-backoff.yaml"),
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let folder = dir.path().join("backoff-vs-no-backoff");
    for file in [
        "report.md",
        "summary.json",
        "timeseries.csv",
        "compare.json",
        "sweep.json",
        "goodput-by-variant.svg",
        "latency-vs-param.png",
    ] {
        assert!(folder.join(file).exists(), "{file} missing");
    }
    let png = std::fs::read(folder.join("load-over-time.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(folder.join("load-over-time.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("requests per second") && svg.contains("surge"));
    let markdown = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(
        markdown.contains("![load over time](load-over-time.svg)")
            && markdown.contains("did NOT recover"),
        "{markdown}"
    );
}

#[test]
fn check_exits_0_when_expectations_hold_1_when_one_fails_2_when_invalid() {
    stampede()
        .args([
            "check",
            &scenario_path("mm1.yaml"),
            &scenario_path("retry-chain.yaml"),
        ])
        .assert()
        .code(0);
    let failing = write_temp(
        "duration: 10s\nsources:\n  u: { target: s, rate: 100/s }\nservices:\n  s: { service_time: exp(mean=5ms) }\nexpect:\n  - p99(u.latency) < 5ms\n  - goodput > 90/s\n",
    );
    let output = stampede()
        .arg("check")
        .arg(failing.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("FAIL  p99(u.latency) < 5ms") && stdout.contains("PASS  goodput > 90/s"),
        "{stdout}"
    );
    let invalid = write_temp(
        "duration: 10s\nsources:\n  u: { target: s, rate: 100/s }\nservices:\n  s: { service_time: 1ms }\nexpect:\n  - p99(x.latency) < 5ms\n",
    );
    stampede().arg("check").arg(invalid.path()).assert().code(2);
}

#[test]
fn diff_compares_summaries_with_a_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let c = dir.path().join("c.json");
    std::fs::write(
        &a,
        stampede()
            .args(["run", &scenario_path("mm1.yaml"), "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &b,
        stampede()
            .args(["run", &scenario_path("mm1.yaml"), "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &c,
        stampede()
            .args([
                "run",
                &scenario_path("mm1.yaml"),
                "--format",
                "json",
                "--seed",
                "2",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    stampede().arg("diff").arg(&a).arg(&b).assert().code(0);
    let output = stampede().arg("diff").arg(&a).arg(&c).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("seed: ") && line.contains("1 → 2")),
        "{stdout}"
    );
    stampede()
        .arg("diff")
        .arg(&a)
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2);
}
