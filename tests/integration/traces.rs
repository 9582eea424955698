//! Request traces: the Chrome trace follows the Trace Event Format's rules
//! (every slice has a length, flows pair up, each track runs forwards in
//! time and its slices nest), tracing changes no result and repeats byte
//! for byte, and `stampede trace` prints a request's life: the retry
//! chain's 2 → 4 → 8.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

/// Runs `scenario` with `--trace`, and returns the trace and the summary.
fn traced(scenario: &str, requests: u32) -> (Value, String) {
    traced_with(scenario, requests, &[])
}

fn traced_with(scenario: &str, requests: u32, extra: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.json");
    let output = stampede()
        .args([
            "run",
            &scenario_path(scenario),
            "--format",
            "json",
            "--trace",
        ])
        .arg(&file)
        .args(["--trace-requests", &requests.to_string()])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let trace = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    (trace, String::from_utf8(output.stdout).unwrap())
}

/// The checks a trace viewer relies on.
fn assert_valid(trace: &Value) {
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let mut flows: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
    let mut tracks: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
    let mut named: Vec<(u64, u64)> = Vec::new();
    let mut last_ts: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    for event in events {
        let pid = event["pid"].as_u64().expect("pid");
        let tid = event["tid"].as_u64().expect("tid");
        let ph = event["ph"].as_str().expect("ph");
        if ph == "M" {
            named.push((
                pid,
                if event["name"] == "process_name" {
                    0
                } else {
                    tid
                },
            ));
            continue;
        }
        let ts = event["ts"].as_f64().expect("ts");
        let last = last_ts.entry((pid, tid)).or_insert(f64::MIN);
        assert!(
            ts >= *last,
            "track ({pid}, {tid}) goes back in time at {event}"
        );
        *last = ts;
        match ph {
            "X" => {
                let dur = event["dur"].as_f64().expect("dur");
                assert!(dur >= 0.0, "{event}");
                tracks.entry((pid, tid)).or_default().push((ts, ts + dur));
            }
            "s" => flows.entry(event["id"].as_u64().unwrap()).or_default().0 += 1,
            "f" => flows.entry(event["id"].as_u64().unwrap()).or_default().1 += 1,
            "i" => assert_eq!(event["s"], "t", "{event}"),
            other => panic!("unexpected phase {other}"),
        }
    }
    for (id, ends) in &flows {
        assert_eq!(*ends, (1, 1), "flow {id} does not pair up");
    }
    for ((pid, tid), slices) in &tracks {
        assert!(named.contains(&(*pid, 0)), "process {pid} has no name");
        assert!(
            named.contains(&(*pid, *tid)),
            "thread ({pid}, {tid}) has no name"
        );
        // Sorted by start, longest first: each slice lies inside every
        // open slice that started before it, or after it has ended.
        let mut open: Vec<f64> = Vec::new();
        for &(start, end) in slices {
            while open.last().is_some_and(|&e| e <= start + 1e-6) {
                open.pop();
            }
            if let Some(&enclosing) = open.last() {
                assert!(
                    end <= enclosing + 1e-6,
                    "slices overlap on ({pid}, {tid}) at {start}"
                );
            }
            open.push(end);
        }
    }
    assert!(!tracks.is_empty());
}

#[test]
fn traces_follow_the_trace_event_format() {
    for scenario in [
        "retry-chain.yaml",
        "metastable-retry-storm.yaml",
        "cache-cold-start.yaml",
        "load-balanced-pool.yaml",
        "fan-out.yaml",
    ] {
        let (trace, _) = traced(scenario, 50);
        assert_valid(&trace);
    }
    // In a retry storm one request's attempts wait at the same instance at
    // once: each has its own thread there, so slices still nest.
    let storm = ["--variant", "no-defence", "--trace-from", "45s"];
    let (trace, _) = traced_with("metastable-retry-storm.yaml", 30, &storm);
    assert_valid(&trace);
}

/// Tracing observes: the summary is the same with it and without, and a
/// traced run repeats byte for byte.
#[test]
fn tracing_changes_nothing_and_repeats() {
    let (first, summary) = traced("retry-chain.yaml", 20);
    let (second, _) = traced("retry-chain.yaml", 20);
    assert_eq!(first, second);
    let untraced = stampede()
        .args([
            "run",
            &scenario_path("retry-chain.yaml"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(summary, String::from_utf8(untraced.stdout).unwrap());
}

/// db fails everything; each tier tries twice: one request makes 2
/// attempts at frontend, 4 at api and 8 at db.
#[test]
fn the_waterfall_shows_retries_multiply_down_the_chain() {
    let output = stampede()
        .args([
            "trace",
            &scenario_path("retry-chain.yaml"),
            "--request",
            "3",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let attempts_at = |service: &str| {
        text.lines()
            .filter(|l| l.contains("attempt") && l.contains(&format!("→ {service}[")))
            .count()
    };
    assert_eq!(
        (
            attempts_at("frontend"),
            attempts_at("api"),
            attempts_at("db")
        ),
        (2, 4, 8),
        "{text}"
    );
    assert!(
        text.starts_with("request 3 of `users` after warm-up"),
        "{text}"
    );
    assert!(text.contains("retry at once (no backoff)"), "{text}");
    assert!(text.contains("reproduce: stampede trace"), "{text}");
}

#[test]
fn trace_picks_the_slowest_and_the_first_failed() {
    let slowest = stampede()
        .args([
            "trace",
            &scenario_path("mm1.yaml"),
            "--slowest",
            "--among",
            "200",
        ])
        .output()
        .unwrap();
    assert!(slowest.status.success(), "{slowest:?}");
    let text = String::from_utf8(slowest.stdout).unwrap();
    assert!(text.contains("queued at server[0] for"), "{text}");
    assert!(
        text.contains("the slowest to finish of the first 200 requests after warm-up"),
        "{text}"
    );
    // M/M/1 with no errors: none fails, which is said, with exit code 2.
    let failed = stampede()
        .args([
            "trace",
            &scenario_path("mm1.yaml"),
            "--first-failed",
            "--among",
            "50",
        ])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    let message = String::from_utf8(failed.stderr).unwrap();
    assert!(
        message.contains("none of the first 50 requests looked at failed"),
        "{message}"
    );
}

#[test]
fn a_trace_file_that_cannot_be_written_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = stampede()
        .args(["run", &scenario_path("mm1.yaml"), "--trace"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("is a folder")
    );
    let flag_alone = stampede()
        .args(["run", &scenario_path("mm1.yaml"), "--trace-requests", "5"])
        .output()
        .unwrap();
    assert_eq!(flag_alone.status.code(), Some(2));
}

/// Marks follow a request past its answers: a timeout and the retry it
/// causes, and a message it sent being received and deleted.
#[test]
fn marks_follow_timeouts_and_messages() {
    let text = |args: &[&str]| {
        let output = stampede().args(args).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let storm = scenario_path("metastable-retry-storm.yaml");
    let waterfall = text(&[
        "trace",
        &storm,
        "--variant",
        "no-defence",
        "--first-failed",
        "--from",
        "45s",
    ]);
    assert!(
        waterfall.contains("· timeout: the caller stops waiting"),
        "{waterfall}"
    );
    assert!(
        waterfall.contains("after its caller had given up (abandoned work)"),
        "{waterfall}"
    );
    let payments = scenario_path("poison-message-dlq.yaml");
    let waterfall = text(&["trace", &payments, "--request", "3"]);
    assert!(
        waterfall.contains("· message received from payments-queue (receive 1)"),
        "{waterfall}"
    );
    assert!(
        waterfall.contains("· message processed and deleted from payments-queue"),
        "{waterfall}"
    );
    assert!(waterfall.contains("ok after 0ms"), "{waterfall}");
}

/// A request held by a gate says so where it waited: a bulkhead's line, a
/// shaper's wait for its turn, each with its length.
#[test]
fn the_waterfall_shows_where_a_gate_held_an_attempt() {
    let cases = [
        (
            "bulkheads:\n  gate: { target: db, max_concurrent: 1, max_waiting: 100 }\n",
            "got a place at gate after",
        ),
        (
            "shapers:\n  gate: { target: db, rate: 50/s, max_delay: 2s }\n",
            "by gate until its turn",
        ),
    ];
    for (gate, expected) in cases {
        let text = format!(
            "duration: 5s\nsources:\n  users: {{ target: gate, rate: 80/s }}\n\
             services:\n  db: {{ workers: 4, service_time: 10ms }}\n{gate}"
        );
        let file = write_temp(&text);
        let output = stampede()
            .args(["trace", "--slowest"])
            .arg(file.path())
            .output()
            .unwrap();
        let waterfall = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{waterfall}");
        assert!(waterfall.contains(expected), "{expected}: {waterfall}");
    }
}
