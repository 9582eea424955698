//! `stampede check` as a CI gate: thresholds per variant and between
//! variants, replications and their intervals, `--strict`, and the outputs
//! pipelines read (JSON, JUnit XML, GitHub annotations), all on the
//! regression the gate exists to catch: a checkout whose call to payments
//! had its per-attempt timeout raised from 250ms to 2s.

use serde_json::Value;

use crate::common::{scenario_path, stampede, write_temp};

/// Payments answers in about 20ms, and one request in a hundred takes over
/// a second; checkout retries after 250ms, so its p99 stays near 400ms.
const CHECKOUT: &str = "name: checkout
seed: 7
duration: 60s
warmup: 5s
sources:
  shoppers:
    target: checkout
    rate: 100/s
    timeout_per_attempt: 5s
services:
  checkout:
    workers: 64
    service_time: exp(mean=5ms)
    calls:
      - target: payments
        timeout_per_attempt: 250ms
        retry: { max_attempts: 3, backoff_base: 10ms }
  payments:
    workers: 64
    service_time: lognormal(median=20ms, p99=1s)
expect:
  - p99(shoppers.latency) < 500ms
  - success_ratio(shoppers) >= 99%
";

/// The line of `p99(shoppers.latency) < 500ms` in [`CHECKOUT`].
const P99_LINE: u64 = 22;

fn regressed() -> String {
    CHECKOUT.replace("timeout_per_attempt: 250ms", "timeout_per_attempt: 2s")
}

/// Runs `check` with `args` after the file; (exit code, stdout).
fn check(file: &tempfile::NamedTempFile, args: &[&str]) -> (i32, String) {
    let output = stampede()
        .arg("check")
        .arg(file.path())
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (output.status.code().unwrap(), stdout)
}

#[test]
fn the_timeout_regression_fails_over_ten_replications_every_time() {
    let good = write_temp(CHECKOUT);
    let bad = write_temp(&regressed());
    let (code, text) = check(&good, &["--replications", "10", "--strict"]);
    assert_eq!(code, 0, "{text}");
    let (code, first) = check(&bad, &["--replications", "10"]);
    assert_eq!(code, 1, "{first}");
    assert!(
        first.contains("FAIL  p99(shoppers.latency) < 500ms")
            && first.contains("PASS  success_ratio(shoppers) >= 99%")
            && first.contains("10 runs each"),
        "{first}"
    );
    let (_, again) = check(&bad, &["--replications", "10"]);
    assert_eq!(first, again, "the same seeds give the same verdicts");
}

#[test]
fn json_gives_each_threshold_with_its_interval_and_location() {
    let bad = write_temp(&regressed());
    let (code, json) = check(&bad, &["--replications", "10", "--format", "json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["kind"], "check");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["passed"], 1);
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["replications"], 10);
    let p99 = &scenario["thresholds"][0];
    assert_eq!(p99["expression"], "p99(shoppers.latency) < 500ms");
    assert_eq!(p99["variant"], "base");
    assert_eq!(p99["verdict"], "fail");
    assert_eq!(p99["unit"], "ms");
    assert_eq!(p99["limit"], 500.0);
    assert_eq!(p99["line"], P99_LINE);
    assert_eq!(p99["column"], 5);
    let mean = p99["measured"]["mean"].as_f64().unwrap();
    let half = p99["measured"]["ci95"].as_f64().unwrap();
    assert!(mean - half > 500.0, "{p99}");
}

#[test]
fn junit_has_a_case_per_threshold_and_the_failure_says_what_and_where() {
    let bad = write_temp(&regressed());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("check.xml");
    let (code, xml) = check(
        &bad,
        &["--format", "junit", "--junit", file.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), xml);
    // Read back by a JUnit consumer's parser, not by string matching.
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures), (2, 1));
    let suite = &report.test_suites[0];
    assert!(suite.name.as_str().ends_with("· variant base"), "{xml}");
    let failing = suite
        .test_cases
        .iter()
        .find(|case| !matches!(case.status, quick_junit::TestCaseStatus::Success { .. }))
        .unwrap();
    assert_eq!(failing.name.as_str(), "p99(shoppers.latency) < 500ms");
    let quick_junit::TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &failing.status
    else {
        panic!("a failure");
    };
    let message = message.as_ref().unwrap().as_str();
    assert!(
        message.starts_with("measured ") && message.contains("limit 500ms"),
        "{message}"
    );
    let location = format!(":{P99_LINE}:5: p99(shoppers.latency) < 500ms");
    assert!(description.as_ref().unwrap().contains(&location), "{xml}");
}

#[test]
fn github_annotates_the_line_of_the_failing_threshold() {
    let bad = write_temp(&regressed());
    let (code, out) = check(&bad, &["--format", "github"]);
    assert_eq!(code, 1);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    let expected = format!(
        "::error file={},line={P99_LINE},col=5,title=stampede check::p99(shoppers.latency) < 500ms [base]: measured ",
        bad.path().display()
    );
    assert!(errors[0].starts_with(&expected), "{out}");
}

const VARIANTS: &str = "seed: 3
duration: 20s
sources:
  users: { target: api, rate: 50/s }
services:
  api: { workers: 4, service_time: exp(mean=20ms) }
expect:
  - p99(users.latency) < 150ms
  - p99(users.latency)[fast] < p99(users.latency)[base]
variants:
  fast:
    set: { services.api.service_time: exp(mean=5ms) }
    expect:
      - p99(users.latency) < 40ms
  slow:
    set: { services.api.service_time: exp(mean=40ms) }
    expect:
      - p99(users.latency) < 400ms
";

#[test]
fn every_variant_is_checked_with_its_own_thresholds_and_against_another() {
    let file = write_temp(VARIANTS);
    let (code, json) = check(&file, &["--format", "json"]);
    assert_eq!(code, 0, "{json}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let rows: Vec<(String, String)> = report["scenarios"][0]["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let variant = t["variant"].as_str().unwrap().to_string();
            (variant, t["expression"].as_str().unwrap().to_string())
        })
        .collect();
    let expected = [
        ("base", "p99(users.latency) < 150ms"),
        ("fast", "p99(users.latency) < 40ms"),
        ("slow", "p99(users.latency) < 400ms"),
        (
            "fast",
            "p99(users.latency)[fast] < p99(users.latency)[base]",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(v, e)| (v.to_string(), e.to_string()))
        .collect();
    assert_eq!(rows, expected);
    let compared = &report["scenarios"][0]["thresholds"][3]["compared_with"];
    assert_eq!(compared["variant"], "base");
    // The comparison turned round fails; --variants leaves out what it names.
    let reversed = VARIANTS.replace("[fast] < p99", "[fast] > p99");
    let (code, text) = check(&write_temp(&reversed), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL  p99(users.latency)[fast] > p99(users.latency)[base]"));
    let (code, text) = check(&write_temp(&reversed), &["--variants", "fast"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("not checked (a variant it names was not run)"),
        "{text}"
    );
}

#[test]
fn a_gate_within_noise_says_so_and_fails_under_strict() {
    // M/M/1's mean wait is 4ms: a limit of 4ms is a coin toss.
    let mm1 = std::fs::read_to_string(scenario_path("mm1.yaml")).unwrap();
    let text = mm1.replace("duration: 300s", "duration: 60s");
    let text = text.replace(
        "mean(server.queue_wait) < 4.4ms",
        "mean(server.queue_wait) < 4ms",
    );
    let file = write_temp(&text);
    let (code, out) = check(&file, &["--replications", "5"]);
    assert!(out.contains("within noise"), "{out}");
    let (strict_code, strict) = check(&file, &["--replications", "5", "--strict"]);
    assert_eq!(strict_code, 1, "{strict}");
    assert_eq!(code, 0, "on the mean it holds: {out}");
    let (code, one_run) = check(&file, &["--strict"]);
    assert_eq!(code, 2, "{one_run}");
}

#[test]
fn edges_are_unsurprising() {
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with.yaml");
    let without = dir.path().join("without.yaml");
    std::fs::write(&with, CHECKOUT).unwrap();
    let bare = "duration: 5s\nsources:\n  u: { target: s, rate: 10/s }\nservices:\n  s: { service_time: 1ms }\n";
    std::fs::write(&without, bare).unwrap();
    // A folder is its scenario files; one without thresholds is an error
    // unless allowed.
    let output = stampede().arg("check").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("without.yaml: no `expect:` thresholds"),
        "{stderr}"
    );
    stampede()
        .arg("check")
        .arg(dir.path())
        .arg("--allow-empty")
        .assert()
        .code(0);
    stampede().arg("validate").arg(dir.path()).assert().code(0);
    // Thresholds inside `set:` were silently ignored once.
    let misplaced =
        format!("{bare}variants:\n  v:\n    set:\n      expect: [\"p99(u.latency) < 1s\"]\n");
    let output = stampede()
        .arg("validate")
        .arg(write_temp(&misplaced).path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("variants.v.set.expect"), "{stderr}");
    // A scenario that cannot be read still reaches the pipeline: an
    // annotation on its line, and a JUnit report with the error.
    let wrong = CHECKOUT.replace(
        "p99(shoppers.latency) < 500ms",
        "p99(shopers.latency) < 500ms",
    );
    let wrong = write_temp(&wrong);
    let junit = dir.path().join("invalid.xml");
    let output = stampede()
        .arg("check")
        .arg(wrong.path())
        .args(["--format", "github", "--junit", junit.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let annotation = format!(
        "::error file={},line={P99_LINE},col=5,",
        wrong.path().display()
    );
    assert!(stdout.starts_with(&annotation), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.errors), (1, 1), "{xml}");
    // A run a safety limit stops is not a pass.
    let stopped = format!("{CHECKOUT}limits: {{ max_events: 1000 }}\n");
    let (code, text) = check(&write_temp(&stopped), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("STOPPED"), "{text}");
}
