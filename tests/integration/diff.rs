//! `stampede diff` on the real binary, and the provenance it reads: a
//! changed timeout named as the cause of a worse p99, documents of different
//! kinds refused, tolerances and metric globs, folders paired by name.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::stampede;

/// A small checkout: the api calls payments, whose slow tail a 250 ms
/// per-attempt timeout cuts off (and retries); with 2 s the tail comes
/// through, so the p99 grows.
const CHECKOUT: &str = "name: checkout
seed: 7
duration: 20s
warmup: 2s
sources:
  shoppers:
    target: api
    rate: 100/s
    timeout_per_attempt: 5s
services:
  api:
    workers: 16
    service_time: exp(mean=2ms)
    calls:
      - target: payments
        timeout_per_attempt: 250ms
        retry: { max_attempts: 2, backoff: none }
  payments:
    workers: 16
    service_time: lognormal(median=50ms, p99=1s)
variants:
  patient:
    set:
      services.api.calls[0].timeout_per_attempt: 2s
";

/// The checkout with the timeout raised to 2 s in the file itself.
fn patient_checkout() -> String {
    CHECKOUT.replace("timeout_per_attempt: 250ms", "timeout_per_attempt: 2s")
}

/// Writes `text` to `dir/name` (making folders) and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// `stampede run SCENARIO --format json EXTRA…` written to `dir/name`.
fn run_json(dir: &Path, scenario: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let output = stampede()
        .arg("run")
        .arg(scenario)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    write(dir, name, &String::from_utf8(output.stdout).unwrap())
}

/// `stampede diff LEFT RIGHT ARGS…`: exit code and standard output and error.
fn diff(left: &Path, right: &Path, args: &[&str]) -> (i32, String, String) {
    let output = stampede()
        .arg("diff")
        .arg(left)
        .arg(right)
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (
        output.status.code().unwrap(),
        text(output.stdout),
        text(output.stderr),
    )
}

/// Two summaries: the checkout with a 250 ms timeout and with 2 s.
fn timeout_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let short = write(dir, "short.yaml", CHECKOUT);
    let patient = write(dir, "patient.yaml", &patient_checkout());
    (
        run_json(dir, &short, "short.json", &[]),
        run_json(dir, &patient, "patient.json", &[]),
    )
}

#[test]
fn a_longer_timeout_is_named_as_the_cause_of_a_worse_p99() {
    let dir = tempfile::tempdir().unwrap();
    let (short, patient) = timeout_pair(dir.path());
    let (code, stdout, _) = diff(&short, &patient, &[]);
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let changed_key = lines
        .iter()
        .position(|l| l.trim() == "services.api.calls[0].timeout_per_attempt: 250ms → 2s")
        .unwrap_or_else(|| panic!("the changed key is not named:\n{stdout}"));
    let worse_p99 = lines
        .iter()
        .position(|l| l.contains("latency.p99_ms") && l.contains(" worse "))
        .unwrap_or_else(|| panic!("no p99 is worse:\n{stdout}"));
    assert!(
        changed_key < worse_p99,
        "the cause comes before the metrics"
    );
    assert!(stdout.contains("scenario: different"), "{stdout}");
    assert!(stdout.contains("seed: 7 on both sides"), "{stdout}");
    // The seed and the provenance are header, not metrics.
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("provenance") || l.starts_with("seed "))
    );
}

#[test]
fn exit_codes_follow_fail_on_tolerances_and_metric_globs() {
    let dir = tempfile::tempdir().unwrap();
    let (short, patient) = timeout_pair(dir.path());
    // (arguments, exit code, text on standard output or error)
    let cases: &[(&[&str], i32, &str)] = &[
        (&[], 1, " worse "),
        (&["--fail-on", "never"], 0, " worse "),
        (&["--metric", "*goodput*"], 0, " better "),
        (
            &["--metric", "*goodput*", "--fail-on", "any"],
            1,
            " better ",
        ),
        // `latency.p99*` matches the tail of `sources.shoppers.latency.p99_ms`.
        (&["--metric", "latency.p99*"], 1, " worse "),
        (
            &["--metric", "latency.p99*", "--tolerance", "p99*=1000%"],
            0,
            "no metric differs beyond the tolerance (0% (p99*: 1000%))",
        ),
        // The first matching glob wins over later ones and over the default.
        (
            &[
                "--metric",
                "latency.p99*",
                "--tolerance",
                "p99*=1000%",
                "--tolerance",
                "*=0%",
            ],
            0,
            "no metric differs",
        ),
        (
            &["--metric", "latency.p99*", "--tolerance", "1000"],
            0,
            "no metric differs",
        ),
        (&["--metric", "totals.failed"], 0, " better "),
        (&["--tolerance", "lots"], 2, "`lots` is not a tolerance"),
        (&["--tolerance=-5%"], 2, "zero or more"),
        (&["--metric", "a[b"], 2, "--metric: `a[b` is not a glob"),
        // A typo in a glob would turn the gate green for good.
        (
            &["--metric", "nosuch*"],
            2,
            "--metric nosuch* matches no metric",
        ),
    ];
    for (args, code, text) in cases {
        let (actual, stdout, stderr) = diff(&short, &patient, args);
        assert_eq!(actual, *code, "{args:?}:\n{stdout}{stderr}");
        assert!(
            stdout.contains(text) || stderr.contains(text),
            "{args:?}: no `{text}` in:\n{stdout}{stderr}"
        );
    }
}

#[test]
fn provenance_tells_a_seed_or_a_version_from_a_scenario_change() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "checkout.yaml", CHECKOUT);
    let first = run_json(dir.path(), &scenario, "first.json", &[]);
    let again = run_json(dir.path(), &scenario, "again.json", &[]);
    let reseeded = run_json(dir.path(), &scenario, "reseeded.json", &["--seed", "8"]);
    let mut summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    summary["provenance"]["stampede_version"] = "0.0.1".into();
    summary["totals"]["goodput_per_s"] = 1.0.into();
    let older = write(dir.path(), "older.json", &summary.to_string());
    // (right side, exit code, the line that explains it)
    let cases = [
        (&again, 0, "no metric differs"),
        (&reseeded, 1, "same scenario, different seed"),
        (
            &older,
            1,
            "same scenario and seed: the difference comes from the stampede version (0.1.0 → 0.0.1)",
        ),
    ];
    for (right, code, text) in cases {
        let (actual, stdout, _) = diff(&first, right, &[]);
        assert_eq!(actual, code, "{}:\n{stdout}", right.display());
        assert!(stdout.contains(text), "no `{text}` in:\n{stdout}");
        assert!(stdout.contains("scenario: the same (sha256 "), "{stdout}");
    }
}

#[test]
fn the_scenario_hash_ignores_the_seed_and_is_the_same_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "checkout.yaml", CHECKOUT);
    let read = |path: PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let first = read(run_json(dir.path(), &scenario, "a.json", &[]));
    let reseeded = read(run_json(dir.path(), &scenario, "b.json", &["--seed", "9"]));
    let provenance = &first["provenance"];
    assert_eq!(first["kind"], "summary");
    assert_eq!(provenance["stampede_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(provenance["schema_version"], first["schema_version"]);
    assert_eq!(provenance["seed"], 7);
    assert_eq!(reseeded["provenance"]["seed"], 9);
    assert_eq!(provenance["scenario"]["seed"], 7);
    assert_eq!(
        provenance["scenario"]["services"]["api"]["calls"][0]["timeout_per_attempt"],
        "250ms"
    );
    // The canonical form of the document does not depend on the machine:
    // this hash is the same everywhere, and a new seed does not change it.
    let hash = "b86df4055177";
    let recorded = provenance["scenario_sha256"].as_str().unwrap();
    assert_eq!(recorded.len(), 64);
    assert!(recorded.starts_with(hash), "{recorded}");
    assert_eq!(reseeded["provenance"]["scenario_sha256"], recorded);
}

#[test]
fn documents_of_different_kinds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "checkout.yaml", CHECKOUT);
    let summary = run_json(dir.path(), &scenario, "summary.json", &[]);
    // What `stampede COMMAND SCENARIO ARGS…` prints, in a file.
    let json_of = |command: &str, args: &[&str], name: &str| {
        let output = stampede()
            .arg(command)
            .arg(&scenario)
            .args(args)
            .output()
            .unwrap();
        write(dir.path(), name, &String::from_utf8(output.stdout).unwrap())
    };
    let json = ["--format", "json"];
    let compare = json_of(
        "compare",
        &[&json[..], &["--variants", "base,patient"]].concat(),
        "compare.json",
    );
    let swapped = json_of(
        "compare",
        &[&json[..], &["--variants", "patient,base"]].concat(),
        "swapped.json",
    );
    let check = json_of(
        "check",
        &[&json[..], &["--allow-empty"]].concat(),
        "check.json",
    );
    let other = write(dir.path(), "other.json", r#"{"a": 1}"#);
    let text = write(dir.path(), "text.json", "not json");
    // (left, right, exit code, message)
    let cases = [
        (&summary, &compare, 2, "is a summary and"),
        (&compare, &summary, 2, "is a compare and"),
        (&summary, &other, 2, "is not a stampede report"),
        (&summary, &text, 2, "not a JSON report"),
        (&compare, &compare, 0, "no metric differs"),
        // The same variants in another order: paired by name, not position.
        (&compare, &swapped, 0, "no metric differs"),
        (&check, &check, 2, "are check results"),
    ];
    for (left, right, code, message) in cases {
        let (actual, stdout, stderr) = diff(left, right, &[]);
        assert_eq!(actual, code, "{stdout}{stderr}");
        assert!(
            stdout.contains(message) || stderr.contains(message),
            "no `{message}` in:\n{stdout}{stderr}"
        );
    }
    let (code, _, stderr) = diff(&summary, dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("both be files or both be folders"),
        "{stderr}"
    );
}

#[test]
fn report_folders_pair_by_name_and_keep_the_resolved_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    write(&old, "checkout.yaml", CHECKOUT);
    write(
        &old,
        "gone.yaml",
        "duration: 2s\nsources:\n  u: { target: s, rate: 10/s }\nservices:\n  s: { service_time: 1ms }\n",
    );
    write(&new, "checkout.yaml", &patient_checkout());
    let (old_reports, new_reports) = (dir.path().join("r-old"), dir.path().join("r-new"));
    for (scenarios, out) in [(&old, &old_reports), (&new, &new_reports)] {
        stampede()
            .arg("report")
            .arg(scenarios)
            .arg("--out")
            .arg(out)
            .assert()
            .code(0);
    }
    let resolved =
        std::fs::read_to_string(old_reports.join("checkout/scenario.resolved.yaml")).unwrap();
    assert!(
        resolved.contains("timeout_per_attempt: 250ms"),
        "{resolved}"
    );
    assert!(!resolved.contains("variants"), "{resolved}");
    let (code, stdout, _) = diff(&old_reports, &new_reports, &["--metric", "p99*"]);
    assert_eq!(code, 1, "{stdout}");
    for expected in [
        "== checkout/summary.json ==",
        "== checkout/compare.json ==",
        &format!("only in {}: gone/summary.json", old_reports.display()),
        "2 reports compared, 1 on one side only",
        "    services.api.calls[0].timeout_per_attempt: 250ms → 2s",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }
    // The compared variant, `patient`, runs the same scenario on both sides.
    let compared = stdout.split("== checkout/compare.json ==").nth(1).unwrap();
    assert!(compared.contains("scenario: the same"), "{compared}");
}

/// Long values (the `why` sentences) do not widen the table past a screen:
/// the row says `(below)`, and both sides follow the table in full.
#[test]
fn long_values_are_written_under_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let failing = "duration: 10s\nsources:\n  u: { target: web, rate: 100/s }\nservices:\n  web: { workers: 4, service_time: 1ms, error_rate: 0.5 }\n";
    let left = write(dir.path(), "left.yaml", failing);
    let right = write(
        dir.path(),
        "right.yaml",
        &failing.replace("error_rate: 0.5", "error_rate: 0.25"),
    );
    let left = run_json(dir.path(), &left, "left.json", &[]);
    let right = run_json(dir.path(), &right, "right.json", &[]);
    let (_, stdout, stderr) = diff(&left, &right, &[]);
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("metric"))
        .take_while(|line| !line.is_empty())
        .collect();
    assert!(table.len() > 2, "{stdout}{stderr}");
    assert!(
        table.iter().all(|line| line.chars().count() < 160),
        "{stdout}"
    );
    assert!(
        table
            .iter()
            .any(|line| line.starts_with("why ") && line.contains("(below) →  (below)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nwhy:\n  left:  [\"Where attempts failed: at `web`")
            && stdout.contains("its error_rate is 25%"),
        "{stdout}"
    );
}
