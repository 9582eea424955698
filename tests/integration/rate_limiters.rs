//! Rate limiters: a token bucket admits exactly burst + rate · t under
//! saturation, passes admitted attempts on to its target unchanged, answers
//! the rest as `throttled` (so `retry_on` governs them), and keeps every
//! request accounted for.

use crate::common::{run, scenario_from};

/// A gateway in front of `api`: constant arrivals at `arrival_rate`, a
/// bucket of `rate` and `burst`, and a client `retry` block.
fn gateway(arrival_rate: &str, rate: &str, burst: u32, retry: &str) -> String {
    format!(
        "name: gateway\nseed: 5\nduration: 10s\n\
         sources:\n  users:\n    target: gateway\n    arrivals: constant\n    rate: {arrival_rate}\n    retry: {retry}\n\
         rate_limiters:\n  gateway:\n    target: api\n    rate: {rate}\n    burst: {burst}\n\
         services:\n  api:\n    workers: 1000\n    service_time: 1ms\n"
    )
}

#[test]
fn a_saturated_bucket_admits_exactly_burst_plus_rate_times_time() {
    // (arrivals, rate, burst): the arrivals always find the bucket drained,
    // so over 10s it admits its first `burst` and then one per 1/rate.
    let cases = [
        ("1000/s", "100/s", 20, 20 + 100 * 10),
        ("500/s", "250/s", 1, 1 + 250 * 10),
        ("2000/s", "1/s", 100, 100 + 10),
    ];
    for (arrivals, rate, burst, expected) in cases {
        let scenario = scenario_from(&gateway(arrivals, rate, burst, "{ max_attempts: 1 }"));
        let (_, summary) = run(&scenario);
        let limiter = &summary.gates.rate_limiters[0];
        let admitted = limiter.requests - limiter.throttled;
        // The last earned token may fall due after the last arrival of the run.
        assert!(
            admitted == expected || admitted + 1 == expected,
            "{arrivals} into {rate} burst {burst}: admitted {admitted}, expected {expected}"
        );
        assert_eq!(summary.services[0].attempts, admitted);
    }
}

#[test]
fn a_bucket_below_its_rate_throttles_nothing() {
    let scenario = scenario_from(&gateway("50/s", "100/s", 1, "{ max_attempts: 1 }"));
    let (_, summary) = run(&scenario);
    assert_eq!(summary.gates.rate_limiters[0].throttled, 0);
    assert_eq!(summary.sources[0].failed.total(), 0);
}

#[test]
fn throttled_attempts_are_their_own_failure_kind_that_retry_on_governs() {
    let blind = gateway("400/s", "100/s", 10, "{ max_attempts: 3, backoff: none }");
    let (_, retried) = run(&scenario_from(&blind));
    let without = gateway(
        "400/s",
        "100/s",
        10,
        "{ max_attempts: 3, backoff: none, retry_on: [timeout] }",
    );
    let (_, not_retried) = run(&scenario_from(&without));
    let calls = |s: &stampede::report::summary::Summary| s.calls[0].attempts;
    assert!(calls(&retried) > calls(&not_retried));
    assert_eq!(not_retried.calls[0].attempts, not_retried.calls[0].calls);
    assert!(not_retried.sources[0].failed.throttled > 0);
    assert_eq!(not_retried.sources[0].failed.rejected, 0);
    // Every request is accounted for either way.
    for summary in [&retried, &not_retried] {
        let source = &summary.sources[0];
        assert_eq!(
            source.requests,
            source.succeeded + source.failed.total() + source.in_flight_at_end
        );
    }
}

/// The report's rate-limiter table, and the rest of a small gateway's
/// report, as a reviewed snapshot: a change to what a user reads shows up
/// in review as a diff of `snapshots/`.
#[test]
fn the_report_shows_what_the_limiter_throttled() {
    let scenario = scenario_from(&gateway("300/s", "200/s", 50, "{ max_attempts: 1 }"));
    let (_, summary) = run(&scenario);
    let text = stampede::report::text::render(&summary, "stampede run gateway.yaml");
    insta::assert_snapshot!("gateway_report", text);
}

#[test]
fn compare_shows_each_limiter_s_throttled_share() {
    let scenario = scenario_from(&gateway("400/s", "100/s", 10, "{ max_attempts: 1 }"));
    let (_, summary) = run(&scenario);
    let metrics = stampede::report::compare::headline_metrics(&summary);
    let throttled = metrics
        .iter()
        .find(|(name, _, _)| name == "gateway throttled")
        .and_then(|(_, _, value)| *value)
        .expect("a row for the limiter");
    assert!((throttled - 100.0 * summary.gates.rate_limiters[0].throttled_ratio).abs() < 1e-9);
    assert!(throttled > 70.0, "{throttled}");
}
