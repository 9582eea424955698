//! Faults and traffic shapes, pinned with constant times where the outcome is
//! exact: outages (fail fast and hang), crashes, slowdowns, error windows,
//! added latency and capacity loss; and the realised arrival counts of every
//! rate shape, including a CSV trace, against the configured profile.

use crate::common::*;
use stampede::engine::SimDuration;

/// 100 requests/s, one every 10ms, to a 5ms service with room for all, and
/// the given faults.
fn steady(faults: &str) -> String {
    format!(
        "duration: 20s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 100/s, timeout_per_attempt: 1s }}\nservices:\n  s: {{ workers: 200, service_time: 5ms }}\nfaults:\n{faults}"
    )
}

#[test]
fn a_fail_fast_outage_refuses_every_arrival_in_its_window() {
    let (_, summary) = run(&scenario_from(&steady(
        "  - { kind: outage, target: s, at: 5s, duration: 2s }\n",
    )));
    let s = &summary.services[0];
    // Two seconds of arrivals at 100/s, give or take one at either edge.
    assert!((199..=201).contains(&s.refused), "{}", s.refused);
    assert_eq!(summary.sources[0].failed.error, s.refused);
    assert_eq!(summary.faults[0].kind, "outage");
}

#[test]
fn a_hanging_outage_swallows_requests_until_their_callers_time_out() {
    let (_, summary) = run(&scenario_from(&steady(
        "  - { kind: outage, mode: hang, target: s, at: 5s, duration: 2s }\n",
    )));
    let s = &summary.services[0];
    assert!((199..=201).contains(&s.hung), "{}", s.hung);
    assert_eq!(summary.sources[0].failed.timeout, s.hung);
    assert_eq!(s.refused, 0);
}

/// A crash loses what is in service (here a 1s job per 10ms arrival: about
/// 100 at once), and the instance refuses arrivals until it restarts.
#[test]
fn a_crash_loses_the_work_in_progress_and_refuses_until_restart() {
    let text = "duration: 20s\nsources:\n  u: { target: s, arrivals: constant, rate: 100/s }\nservices:\n  s: { workers: 500, service_time: 1s }\nfaults:\n  - { kind: crash, target: s, at: 5s, duration: 3s }\n";
    let (_, summary) = run(&scenario_from(text));
    let s = &summary.services[0];
    assert!((99..=101).contains(&s.lost_in_crash), "{}", s.lost_in_crash);
    assert!((299..=301).contains(&s.refused), "{}", s.refused);
    assert_eq!(summary.sources[0].failed.error, s.lost_in_crash + s.refused);
}

/// Crashing one instance of three takes a third of the traffic for the window.
#[test]
fn a_fault_on_one_instance_leaves_the_others_alone() {
    let text = "duration: 20s\nsources:\n  u: { target: s, arrivals: constant, rate: 300/s }\nservices:\n  s: { instances: 3, workers: 100, service_time: 5ms }\nfaults:\n  - { kind: outage, target: s, instance: 1, at: 5s, duration: 2s }\n";
    let (_, summary) = run(&scenario_from(text));
    let refused = summary.services[0].refused;
    assert!((199..=201).contains(&refused), "{refused}");
    assert_eq!(summary.faults[0].target, "s[1]");
}

/// Constant service times make slowdowns, added latency and their overlap exact.
#[test]
fn slowdowns_and_added_latency_stretch_latency_exactly() {
    let cases = [
        (
            "  - { kind: slowdown, target: s, at: 0s, duration: 30s, factor: 3 }\n",
            15.0,
        ),
        (
            "  - { kind: latency, target: s, at: 0s, duration: 30s, latency: 40ms }\n",
            45.0,
        ),
        (
            "  - { kind: slowdown, target: s, at: 0s, duration: 30s, factor: 2 }\n  - { kind: slowdown, target: s, at: 0s, duration: 30s, factor: 3 }\n",
            30.0,
        ),
        (
            "  - { kind: latency, caller: u, target: s, at: 0s, duration: 30s, latency: 10ms }\n  - { kind: slowdown, target: s, at: 0s, duration: 30s, factor: 2 }\n",
            20.0,
        ),
    ];
    for (faults, mean_ms) in cases {
        let (_, summary) = run(&scenario_from(&steady(faults)));
        let latency = &summary.sources[0].latency;
        assert_eq!(latency.mean_ms.unwrap(), mean_ms, "{faults}");
    }
}

#[test]
fn an_error_window_fails_the_configured_fraction() {
    let text = "duration: 100s\nsources:\n  u: { target: s, rate: 1000/s }\nservices:\n  s: { workers: 100, service_time: 1ms }\nfaults:\n  - { kind: errors, target: s, at: 0s, duration: 100s, error_rate: 30% }\n";
    let (_, summary) = run(&scenario_from(text));
    let s = &summary.services[0];
    let fraction = s.errors as f64 / (s.errors + s.succeeded) as f64;
    // 100,000 Bernoulli draws: sd 0.0015.
    assert!((fraction - 0.3).abs() < 0.008, "{fraction}");
}

/// Losing half of 10 workers leaves an Erlang loss system with 5 servers:
/// the carried load matches Erlang B.
#[test]
fn capacity_loss_takes_workers_away_for_its_window() {
    let text = "duration: 20s\nsources:\n  u: { target: s, rate: 2000/s }\nservices:\n  s: { workers: 10, queue: { capacity: 0 }, service_time: 4ms }\nfaults:\n  - { kind: capacity_loss, target: s, at: 0s, duration: 20s, fraction: 50% }\n";
    let (_, summary) = run(&scenario_from(text));
    let s = &summary.services[0];
    // Offered 2000/s × 4ms = 8 erlangs to 5 servers with no queue.
    let offered = 8.0;
    let blocking = (1..=5).fold(1.0, |b: f64, n| offered * b / (f64::from(n) + offered * b));
    let utilisation = offered * (1.0 - blocking) / 10.0;
    assert!(
        (s.utilisation - utilisation).abs() < 0.01,
        "measured {}, Erlang B {utilisation}",
        s.utilisation
    );
    assert!(s.rejected > 10_000);
}

/// A hang followed by a crash: the crash resets every hung request at once.
#[test]
fn a_crash_resets_requests_a_hang_had_swallowed() {
    let text = "duration: 30s\nsources:\n  u: { target: s, arrivals: constant, rate: 100/s, timeout_per_attempt: 30s }\nservices:\n  s: { workers: 100, service_time: 5ms }\nfaults:\n  - { kind: outage, mode: hang, target: s, at: 5s, duration: 10s }\n  - { kind: crash, target: s, at: 10s, duration: 1s }\n";
    let (_, summary) = run(&scenario_from(text));
    let source = &summary.sources[0];
    // Five seconds of hung requests fail at 10s; none waits for its timeout.
    assert_eq!(source.failed.timeout, 0);
    assert!(source.failed.error >= 499, "{}", source.failed.error);
}

/// Faults count as triggers for the recovery verdict.
#[test]
fn recovery_is_measured_from_the_end_of_a_fault() {
    let (_, summary) = run(&scenario_from(&steady(
        "  - { kind: outage, target: s, at: 5s, duration: 2s }\n",
    )));
    let verdict = &summary.recovery[0];
    assert_eq!((verdict.trigger_start_s, verdict.trigger_end_s), (5.0, 7.0));
    assert!(verdict.recovered);
}

/// For each shape, the arrivals counted in each 10s window match the rate
/// integrated over that window, within five Poisson standard deviations.
#[test]
fn every_shape_realises_its_rate_profile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trace.csv"),
        "time_s,rate_per_s\n0,500\n20,2000\n40,1000\n",
    )
    .unwrap();
    let shapes = [
        "rate: 1000/s, shape: { kind: ramp, at: 10s, duration: 30s, multiplier: 3 }",
        "rate: 1000/s, shape: { kind: sine, period: 40s, amplitude: 80% }",
        "rate: 1000/s, shape: { kind: step, at: 30s, multiplier: 0.5 }",
        "shape: { kind: piecewise, interpolate: linear, points: [[0s, 200/s], [30s, 2000/s], [60s, 500/s]] }",
        "shape: { kind: trace, file: trace.csv }",
        "shape: { kind: trace, file: trace.csv, interpolate: linear }",
    ];
    for shape in shapes {
        let text = format!(
            "duration: 60s\nsources:\n  u: {{ target: s, {shape} }}\nservices:\n  s: {{ workers: 10000, queue: {{ capacity: 0 }}, service_time: 1ms }}\n"
        );
        let path = dir.path().join("shape.yaml");
        std::fs::write(&path, text).unwrap();
        let scenario = stampede::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let stampede::scenario::spec::Load::Open {
            rate_per_second,
            shape: Some(profile),
            ..
        } = &scenario.sources[0].load
        else {
            panic!("{shape}: not a shaped open-loop source");
        };
        let (outcome, _) = run(&scenario);
        let offered = outcome.timeseries.column("u.offered_per_s").unwrap();
        for window in 0..6 {
            let counted: f64 = offered[window * 10..window * 10 + 10].iter().sum();
            // The rate integrated over the window in 1ms steps.
            let expected: f64 = (0..10_000)
                .map(|step| {
                    let at = SimDuration(((window * 10_000 + step) as u64) * 1_000_000 + 500_000);
                    profile.multiplier_at(at) * rate_per_second / 1000.0
                })
                .sum();
            let tolerance = 5.0 * expected.sqrt() + 1.0;
            assert!(
                (counted - expected).abs() <= tolerance,
                "{shape}: window {window}: counted {counted}, expected {expected:.0} ± {tolerance:.0}"
            );
        }
    }
}

/// Everything at once, run twice and in parallel with other runs: the same bytes.
#[test]
fn faults_defences_and_autoscaling_together_are_deterministic() {
    let text = "seed: 99\nduration: 40s\nwarmup: 5s\nsources:\n  u: { target: lb, rate: 800/s, shape: { kind: sine, period: 20s, amplitude: 50% }, timeout_per_attempt: 100ms, retry: { max_attempts: 3, jitter: decorrelated, budget: {} }, circuit_breaker: { sliding_window_size: 50, minimum_number_of_calls: 20 } }\nservices:\n  a: { instances: 2, workers: 4, service_time: exp(mean=4ms), queue: { discipline: adaptive_lifo, timeout: 50ms }, calls: [ { target: db, hedging: { max_attempts: 2, hedging_delay: 10ms } } ], autoscaling: { target: 60%, evaluation_period: 2s, max_instances: 6, cold_start: 3s } }\n  b: { workers: 8, service_time: exp(mean=3ms), concurrency_limit: { kind: aimd }, calls: [ { target: db, retry: { throttle: {} } } ] }\n  db: { workers: 16, service_time: exp(mean=2ms) }\nload_balancers:\n  lb: { strategy: power_of_two_choices, backends: [a, b] }\nfaults:\n  - { kind: crash, target: a, instance: 0, at: 10s, duration: 3s }\n  - { kind: latency, target: db, at: 15s, duration: 5s, latency: exp(mean=20ms) }\n  - { kind: errors, target: db, at: 18s, duration: 4s, error_rate: 20% }\n";
    let scenario = scenario_from(text);
    let first = run(&scenario).1.to_json();
    assert_eq!(first, run(&scenario).1.to_json());
    let copies = vec![scenario.clone(); 4];
    for parallel in stampede::runner::run_all(&copies) {
        assert_eq!(parallel.summary.to_json(), first);
    }
}
