//! Results a user can trust: latency that does not hide failures, "no data"
//! that never reads as 0, processing as the headline of queue scenarios,
//! amplification per source, a recovery verdict that does not flip on
//! noise, the bare command, one variant fully, and README kept true.

use crate::common::{run, scenario_from, stampede, write_temp};
use serde_json::Value;

/// Two sources: `users` call `api` through `db`, which always fails;
/// `status` polls `api` only.
const TWO_SOURCES: &str = "
name: two sources
seed: 7
duration: 30s
warmup: 5s
sources:
  users:
    target: api
    arrivals: poisson
    rate: 100/s
    timeout_per_attempt: 1s
    retry: { max_attempts: 2 }
  status:
    target: health
    arrivals: poisson
    rate: 900/s
services:
  api:
    workers: 50
    service_time: 1ms
    calls:
      - target: db
        retry: { max_attempts: 2 }
  health:
    workers: 50
    service_time: 1ms
  db:
    workers: 50
    service_time: 5ms
    error_rate: 100%
";

#[test]
fn latency_of_failures_and_of_all_is_reported_and_no_data_is_null() {
    let (_, summary) = run(&scenario_from(TWO_SOURCES));
    let users = &summary.sources[0];
    assert_eq!(users.succeeded, 0);
    // No request succeeded: no latency, not a latency of 0.
    assert_eq!(users.latency.count, 0);
    assert_eq!(users.latency.p99_ms, None);
    assert!(users.latency_failed.count > 0);
    assert_eq!(users.latency_all.count, users.latency_failed.count);
    assert_eq!(users.latency_all.p99_ms, users.latency_failed.p99_ms);
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["sources"][0]["latency"]["p50_ms"], Value::Null);
    let text = stampede::report::text::render(&summary, "x");
    let row = text.lines().find(|l| l.contains("users (open)")).unwrap();
    assert!(row.contains('–'), "{row}");
}

#[test]
fn amplification_is_per_source_and_the_total_is_kept() {
    let (_, summary) = run(&scenario_from(TWO_SOURCES));
    let api = summary.services.iter().find(|s| s.name == "api").unwrap();
    let db = summary.services.iter().find(|s| s.name == "db").unwrap();
    // Only `users` reach api and db: 2 attempts at api, 4 at db per request.
    assert_eq!(api.amplification_by_source.len(), 1);
    assert_eq!(api.amplification_by_source[0].source, "users");
    assert!((api.amplification_by_source[0].amplification - 2.0).abs() < 0.05);
    assert!((db.amplification_by_source[0].amplification - 4.0).abs() < 0.1);
    // The total divides by every source's requests, `status` included.
    assert!(api.amplification < 0.3, "{}", api.amplification);
}

#[test]
fn the_time_series_has_latency_per_interval_and_empty_cells_without_data() {
    let (outcome, _) = run(&scenario_from(TWO_SOURCES));
    let series = &outcome.timeseries;
    let ok_p99 = series.column("users.latency_p99_ms").unwrap();
    let all_p99 = series.column("users.latency_all_p99_ms").unwrap();
    assert!(ok_p99.iter().all(|v| v.is_nan()), "nothing succeeded");
    assert!(all_p99.iter().skip(1).all(|v| v.is_finite() && *v > 0.0));
    let csv = series.to_csv();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "users.latency_p99_ms")
        .unwrap();
    let second = csv.lines().nth(2).unwrap();
    assert_eq!(second.split(',').nth(column), Some(""));
}

#[test]
fn compare_says_when_a_lower_latency_hides_failures() {
    let output = stampede()
        .args([
            "compare",
            &crate::common::scenario_path("thundering-herd.yaml"),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("latency_all p99"), "{text}");
    assert!(text.contains("goodput during"), "{text}");
    assert!(
        text.contains("A lower p99 for `clients` requests that comes with more failures")
            && text
                .contains("`no-jitter` p99 56.4ms but 98.8% succeeded (over every one, p99 29.6s)"),
        "{text}"
    );
}

#[test]
fn before_during_and_after_split_the_measured_requests() {
    let scenario = crate::common::bundled("backoff-vs-no-backoff.yaml");
    let (_, summary) = run(&scenario);
    let source = &summary.sources[0];
    let phases = source.phases.as_ref().expect("the source has a surge");
    assert_eq!(
        phases.each_ref().map(|p| p.phase),
        ["before", "during", "after"]
    );
    assert_eq!(phases[0].from_s, summary.warmup_s);
    assert_eq!(phases[1].from_s, 20.0);
    assert_eq!(phases[1].to_s, 30.0);
    assert_eq!(phases[2].to_s, summary.duration_s);
    assert!(phases[1].latency_all_p99_ms > phases[0].latency_all_p99_ms);
}

/// Ten seconds of producers faster than the consumer.
const FALLING_BEHIND: &str = "
name: consumers falling behind
seed: 3
duration: 60s
warmup: 5s
sources:
  producers:
    target: jobs
    arrivals: poisson
    rate: 100/s
queues:
  jobs: {}
consumers:
  workers:
    queue: jobs
    pollers: 1
    max_messages: 1
    time_per_message: 12ms
";

#[test]
fn a_queue_scenario_leads_with_processing_and_warns_when_consumers_fall_behind() {
    let (_, summary) = run(&scenario_from(FALLING_BEHIND));
    let jobs = &summary.queues[0];
    let behind = jobs.falling_behind.as_ref().expect("the backlog grows");
    assert!(behind.to > behind.from + 500.0, "{behind:?}");
    assert!((behind.growth_per_s - 16.7).abs() < 4.0, "{behind:?}");
    assert!(jobs.unfinished_at_end as f64 >= behind.to - 1.0);
    let text = stampede::report::text::render(&summary, "x");
    let processing = text.find("queue jobs:").unwrap();
    let sends = text.find("sends by producers").unwrap();
    assert!(processing < sends, "{text}");
    assert!(
        text.contains("consumers are falling behind: backlog grew from"),
        "{text}"
    );
    // A consumer that keeps up is not flagged.
    let relaxed = FALLING_BEHIND.replace("12ms", "5ms");
    let (_, summary) = run(&scenario_from(&relaxed));
    assert_eq!(summary.queues[0].falling_behind, None);
}

#[test]
fn a_sweep_of_batch_size_marks_the_points_that_fall_behind() {
    let output = stampede()
        .args([
            "sweep",
            &crate::common::scenario_path("batch-vs-async.yaml"),
        ])
        .args([
            "--param",
            "consumers.settlement.max_messages",
            "--values",
            "1,10",
        ])
        .args(["--variants", "base"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = text.lines().find(|l| l.contains("│ 1 ")).unwrap();
    assert!(first.contains("BEHIND"), "{text}");
    let header = text.lines().find(|l| l.contains("processed")).unwrap();
    assert!(
        header.find("processed").unwrap() < header.find("offered").unwrap(),
        "{header}"
    );
}

/// 40 requests a second, never overloaded, 5% more for one second.
const SMALL_SPIKE: &str = "
name: a small spike at a low rate
seed: 1
duration: 120s
warmup: 10s
sources:
  users:
    target: api
    arrivals: poisson
    rate: 40/s
    shape: { kind: spike, at: 30s, duration: 1s, multiplier: 1.05 }
services:
  api:
    workers: 8
    service_time: exp(mean=10ms)
";

#[test]
fn noise_at_a_low_rate_does_not_read_as_a_failure_to_recover() {
    let base = scenario_from(SMALL_SPIKE);
    let mut quick = 0;
    for seed in 1..=20 {
        let mut scenario = base.clone();
        scenario.seed = seed;
        let (_, summary) = run(&scenario);
        let verdict = &summary.recovery[0];
        let interval_s = scenario.sample_interval.as_secs_f64();
        if verdict
            .recovery_time_s
            .is_some_and(|t| t <= 2.0 * interval_s)
        {
            quick += 1;
        }
    }
    assert!(quick >= 19, "only {quick} of 20 seeds recovered at once");
}

#[test]
fn the_autoscaler_scaling_below_the_start_is_said() {
    let yaml = "
name: scaled down
seed: 1
duration: 120s
warmup: 30s
sources:
  users: { target: api, arrivals: poisson, rate: 10/s }
services:
  api:
    instances: 4
    workers: 4
    service_time: 10ms
    autoscaling:
      metric: utilisation
      target: 60%
      evaluation_period: 5s
      max_instances: 4
";
    let (_, summary) = run(&scenario_from(yaml));
    let api = &summary.services[0];
    assert_eq!(api.instances_min, 1, "{api:?}");
    let text = stampede::report::text::render(&summary, "x");
    assert!(
        text.contains("note: the autoscaler scaled api down to 1 instance (it starts with 4)"),
        "{text}"
    );
    assert!(text.contains("api (4w; 4→"), "{text}");
}

#[test]
fn bare_stampede_runs_the_built_in_scenario() {
    let bare = stampede().output().unwrap();
    assert_eq!(bare.status.code(), Some(0));
    let run = stampede().arg("run").output().unwrap();
    assert_eq!(bare.stdout, run.stdout);
    let text = String::from_utf8(bare.stdout).unwrap();
    assert!(text.contains("three-tier retry chain"), "{text}");
}

#[test]
fn help_explains_itself_and_every_command() {
    for args in [vec!["help", "--help"], vec!["help", "run"], vec!["help"]] {
        let output = stampede().args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
    let run = stampede().args(["help", "run"]).output().unwrap();
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("Usage: stampede run"), "{text}");
    assert!(text.contains("timeseries.csv"), "--out says what it writes");
    let unknown = stampede().args(["help", "rnu"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean `run`"));
}

#[test]
fn one_variant_runs_fully_and_compare_writes_a_folder_per_variant() {
    let path = crate::common::scenario_path("backoff-vs-no-backoff.yaml");
    let dir = tempfile::tempdir().unwrap();
    let output = stampede()
        .args(["run", &path, "--variant", "backoff", "--format", "json"])
        .arg("--out")
        .arg(dir.path().join("one"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let one: Value = serde_json::from_slice(&output.stdout).unwrap();
    for file in [
        "summary.json",
        "timeseries.csv",
        "report.md",
        "latency-over-time.svg",
    ] {
        assert!(dir.path().join("one").join(file).exists(), "{file}");
    }
    let compared = stampede()
        .args(["compare", &path, "--out"])
        .arg(dir.path().join("both"))
        .output()
        .unwrap();
    assert!(compared.status.success());
    let folder: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("both/backoff/summary.json")).unwrap(),
    )
    .unwrap();
    // The variant's own report is the same run as `run --variant`.
    assert_eq!(folder["totals"], one["totals"]);
    assert!(dir.path().join("both/no-backoff/report.md").exists());
    let missing = stampede()
        .args(["run", &path, "--variant", "bakoff"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("did you mean `backoff`"));
}

/// README's first excerpt is the start of what `stampede` prints: it is
/// checked line by line, with `…` in README standing for elided columns.
#[test]
fn the_readme_excerpt_matches_the_built_in_run() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("The first command prints a report like this")
        .unwrap();
    let block = &readme[start..];
    let block = &block[block.find("```\n").unwrap() + 4..];
    let block = &block[..block.find("```").unwrap()];
    let output = stampede().output().unwrap();
    let printed = String::from_utf8(output.stdout).unwrap();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split('…').map(str::trim).collect();
        let found = printed.lines().any(|printed_line| {
            let mut rest = printed_line;
            parts.iter().all(|part| match rest.find(part) {
                Some(at) => {
                    rest = &rest[at + part.len()..];
                    true
                }
                None => false,
            })
        });
        assert!(found, "README line not in the output: {line}\n{printed}");
    }
}

#[test]
fn run_json_without_data_prints_null() {
    let file = write_temp(TWO_SOURCES);
    let output = stampede()
        .args(["run", file.path().to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["sources"][0]["latency"]["p99_ms"], Value::Null);
    assert!(
        json["sources"][0]["latency_all"]["p99_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

/// `stampede … | head -1`: a reader that goes away is not a crash.
#[test]
fn a_closed_pipe_is_not_a_panic_and_a_full_disk_is_an_error() {
    let binary = env!("CARGO_BIN_EXE_stampede");
    for args in [vec!["run"], vec!["validate", "scenarios/mm1.yaml"]] {
        let mut child = std::process::Command::new(binary)
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before anything is read.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(output.stderr.is_empty(), "{args:?}: {:?}", output.stderr);
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    if let Ok(full) = full {
        let output = std::process::Command::new(binary)
            .arg("run")
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot write to standard output"),
            "{stderr}"
        );
    }
}

fn bundled_text(name: &str, variant: &str) -> String {
    let output = stampede()
        .args([
            "run",
            &crate::common::scenario_path(name),
            "--variant",
            variant,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{name} {variant}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_backlog_that_does_not_leave_is_not_called_falling_behind() {
    // Poison messages without a dead-letter queue come back for ever while
    // the consumers idle: the diagnosis is not "falling behind".
    let text = bundled_text("poison-message-dlq.yaml", "no-dlq");
    assert!(text.contains("messages are not leaving"), "{text}");
    assert!(!text.contains("falling behind"), "{text}");
}

#[test]
fn processed_counts_what_the_consumers_did_whenever_the_message_was_sent() {
    let (_, summary) = run(&scenario_from(FALLING_BEHIND));
    let jobs = &summary.queues[0];
    // One poller at 12ms a message: 83.3 a second, backlog or not.
    assert!((jobs.processed_per_s - 83.3).abs() < 2.0, "{jobs:?}");
    assert!(jobs.processed >= jobs.deleted);
}

#[test]
fn queue_producers_get_a_drain_verdict_not_a_recovery_verdict() {
    let scenario = crate::common::bundled("consumer-outage-backlog.yaml");
    let (_, summary) = run(&scenario);
    assert!(summary.recovery.is_empty(), "{:?}", summary.recovery);
    let output = stampede()
        .args([
            "compare",
            &crate::common::scenario_path("consumer-outage-backlog.yaml"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let retention = text.lines().find(|l| l.contains("retention-1m ")).unwrap();
    assert!(
        retention.contains("expired, were dropped or dead-lettered instead of processed"),
        "{retention}"
    );
    assert!(!text.contains("goodput during"), "{text}");
}

#[test]
fn a_phase_of_no_length_has_no_goodput() {
    // The slow instance is slow for the whole run: nothing before, nothing after.
    let (_, summary) = run(&crate::common::bundled("slow-instance.yaml"));
    let phases = summary.sources[0].phases.as_ref().unwrap();
    assert_eq!(phases[0].goodput_per_s, None);
    assert_eq!(phases[2].goodput_per_s, None);
    assert!(phases[1].goodput_per_s.unwrap() > 0.0);
}

#[test]
fn an_autoscaler_at_its_maximum_is_said() {
    let text = bundled_text("autoscaling-surge.yaml", "cold-start-60s");
    assert!(
        text.contains("note: the autoscaler took web to its maximum of 10 instances"),
        "{text}"
    );
}

#[test]
fn compare_says_when_fewer_messages_are_processed_but_faster() {
    let output = stampede()
        .args([
            "compare",
            &crate::common::scenario_path("poison-message-dlq.yaml"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("A lower p99 for messages of `payments-queue`")
            && text.contains("`dlq-after-1` p99"),
        "{text}"
    );
}

/// The report's `why` sentences of a bundled scenario's variant.
fn why_of(name: &str, variant: &str) -> (stampede::report::summary::Summary, Vec<String>) {
    let study =
        stampede::scenario::load_study(std::path::Path::new(&crate::common::scenario_path(name)))
            .unwrap();
    let scenario = match variant {
        "base" => study.base().clone(),
        _ => study
            .variants
            .iter()
            .find(|v| v.name == variant)
            .expect("the variant exists")
            .scenario
            .clone(),
    };
    let (_, summary) = run(&scenario);
    let why = summary.why.clone();
    (summary, why)
}

fn says(why: &[String], fragment: &str) -> bool {
    why.iter().any(|s| s.contains(fragment))
}

/// Each cause is named where the data shows it, with its numbers, and not
/// where it does not.
#[test]
fn why_explains_causes_from_the_data() {
    // The retry chain: three tiers of two attempts.
    let (_, why) = why_of("retry-chain.yaml", "base");
    assert!(
        says(&why, "`db` receives 8.00 attempts per request"),
        "{why:#?}"
    );
    assert!(
        says(
            &why,
            "users → frontend → api → db allow up to 2 × 2 × 2 = 8"
        ),
        "{why:#?}"
    );
    assert!(!says(&why, "outlived its cause"), "{why:#?}");
    // Where its failures are: db's own errors, by its error_rate.
    assert!(
        says(&why, "Where attempts failed: at `db`")
            && says(
                &why,
                "were answered with errors of its own (its error_rate is 100%)"
            ),
        "{why:#?}"
    );
    // An outage first, then the full queue that the retries it caused filled.
    let (_, why) = why_of("dependency-outage.yaml", "base");
    let sentence = why
        .iter()
        .find(|s| s.starts_with("Where attempts failed"))
        .unwrap_or_else(|| panic!("{why:#?}"));
    let outage = sentence.find("refused or left unanswered by an outage");
    let full = sentence.find("turned away because its queue was full (capacity 1,000");
    assert!(
        matches!((outage, full), (Some(a), Some(b)) if a < b),
        "{sentence}"
    );
    let (summary, why) = why_of("metastable-retry-storm.yaml", "no-defence");
    let api = &summary.services[0];
    let abandoned = stampede::report::text::group_digits(api.abandoned_work);
    assert!(
        says(
            &why,
            "longer than the 250ms timeout per attempt of its caller `users`"
        ),
        "{why:#?}"
    );
    assert!(says(&why, &format!("{abandoned} answers")), "{why:#?}");
    assert!(says(&why, "`api` is the bottleneck"), "{why:#?}");
    assert!(says(&why, "A failure that outlived its cause"), "{why:#?}");
    // The breaker stops it, and is named for it.
    let (_, why) = why_of("metastable-retry-storm.yaml", "circuit-breaker");
    assert!(
        says(&why, "the circuit breaker on users → api opened"),
        "{why:#?}"
    );
    assert!(!says(&why, "outlived its cause"), "{why:#?}");
    let (_, why) = why_of("metastable-retry-storm.yaml", "retry-budget");
    assert!(
        says(&why, "the retry limit on users → api refused"),
        "{why:#?}"
    );
    // A quiet M/M/1 at 80%: only its bottleneck, and no failures to place.
    let (_, why) = why_of("mm1.yaml", "base");
    assert_eq!(why.len(), 1, "{why:#?}");
    assert!(!says(&why, "Where attempts failed"), "{why:#?}");
    assert!(says(&why, "`server` is the bottleneck: 80"), "{why:#?}");
}

/// `run` on a file with variants says that it ran the base and how to run
/// the others; with `--variant`, or without variants, it says nothing.
#[test]
fn run_says_when_a_file_holds_variants_it_did_not_run() {
    let variants = "duration: 5s\nsources:\n  u: { target: web, rate: 50/s }\nservices:\n  web: { workers: 2, service_time: 1ms }\nvariants:\n  faster:\n    set:\n      services.web.service_time: 500us\n";
    let file = write_temp(variants);
    let stdout = |args: &[&str]| {
        let output = stampede().args(args).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let path = file.path().to_str().unwrap();
    let base = stdout(&["run", path]);
    assert!(
        base.contains("This is the base scenario. The file also declares the variants faster: `stampede compare"),
        "{base}"
    );
    let chosen = stdout(&["run", path, "--variant", "faster"]);
    assert!(!chosen.contains("also declares the variants"), "{chosen}");
    let plain = write_temp(variants.split("variants:").next().unwrap());
    let plain = stdout(&["run", plain.path().to_str().unwrap()]);
    assert!(!plain.contains("also declares the variants"), "{plain}");
}

/// One client's surge can leave another's requests failing long after it:
/// every source gets a recovery verdict, not only the one that surged. In
/// the bulkhead scenario's base the analysts surge and recover at once,
/// while the shoppers never do, and the report's first lines say so.
#[test]
fn the_source_that_suffers_gets_a_verdict_even_when_another_surged() {
    let (_, summary) = run(&crate::common::bundled("bulkhead-isolation.yaml"));
    let verdict = |name: &str| {
        let found = summary.recovery.iter().find(|r| r.source == name);
        found.unwrap_or_else(|| panic!("no verdict for {name}: {:?}", summary.recovery))
    };
    assert!(!verdict("shoppers").recovered, "{:?}", summary.recovery);
    assert!(verdict("analysts").recovered, "{:?}", summary.recovery);
    let text = stampede()
        .args([
            "run",
            &crate::common::scenario_path("bulkhead-isolation.yaml"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "shoppers (goodput before 600.8/s): did NOT recover from the surge at 30s–60s"
        ),
        "{text}"
    );
}

/// Where retries multiply down a long chain, the report names the eight
/// services with the most attempts per request and counts the rest: each
/// sentence spells out a path, and a chain of thousands would otherwise
/// spell out every prefix (3,000 services: 73 MB of JSON).
#[test]
fn retries_multiplying_down_a_long_chain_name_eight_services_and_count_the_rest() {
    let mut text = String::from(
        "duration: 5s\nsources:\n  u: { target: s0, rate: 20/s, timeout_per_attempt: 100s, retry: { max_attempts: 2, backoff: none } }\nservices:\n",
    );
    for i in 0..12 {
        let calls = match i {
            11 => ", error_rate: 1.0".to_string(),
            _ => format!(", calls: [{{ target: s{} }}]", i + 1),
        };
        text.push_str(&format!(
            "  s{i}: {{ workers: 4, service_time: 1ms{calls} }}\n"
        ));
    }
    let (_, summary) = run(&scenario_from(&text));
    let named: Vec<&String> = (summary.why.iter())
        .filter(|s| s.starts_with("Retries multiply: "))
        .collect();
    assert_eq!(named.len(), 8, "{:#?}", summary.why);
    // Every service receives two attempts per request: the first eight stay.
    assert!(
        named[0].starts_with("Retries multiply: `s0` receives 2.00"),
        "{}",
        named[0]
    );
    assert!(
        named[7].starts_with("Retries multiply: `s7` receives 2.00"),
        "{}",
        named[7]
    );
    assert!(
        (summary.why.iter()).any(|s| s.starts_with("Retries multiply at 4 more services too")),
        "{:#?}",
        summary.why
    );
}
