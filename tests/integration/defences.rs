//! Overload defences, pinned with constant times and failures so the counts
//! are exact: retry limits, the circuit breaker, hedging, shedding, queue
//! disciplines and autoscaling; and the bundled metastable scenario, whose
//! verdicts (collapse without defences, recovery with each) are asserted.

use crate::common::*;
use stampede::runner;
use stampede::scenario;

/// 100 requests/s, one every 10ms, into a service that always fails at once.
fn always_failing(policy: &str) -> String {
    format!(
        "duration: 20s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 100/s, {policy} }}\nservices:\n  s: {{ workers: 100, service_time: 1ms, error_rate: 100% }}\n"
    )
}

/// When every attempt fails and nothing refills the bucket, a retry limit
/// lets through exactly what its budget holds, however long the run.
#[test]
fn retry_limits_never_let_more_retries_through_than_their_budget() {
    let cases = [
        // gRPC: 10 tokens, one per failure, retries only above 5: tokens 9, 8, 7, 6.
        ("throttle: { max_tokens: 10, token_ratio: 0.1 }", 4),
        // AWS SDK: 500 capacity, 5 per retry.
        ("quota: { capacity: 500, retry_cost: 5 }", 100),
        ("quota: { capacity: 40, retry_cost: 4 }", 10),
    ];
    for (limit, retries) in cases {
        let policy = format!("retry: {{ max_attempts: 10, backoff: none, {limit} }}");
        let (_, summary) = run(&scenario_from(&always_failing(&policy)));
        let call = &summary.calls[0];
        assert_eq!(call.retries, retries, "{limit}");
        assert!(call.retries_throttled > 1_000, "{limit}");
    }
}

/// Envoy's budget: with 20% and a minimum of 3, and calls that each last a
/// second, at most max(3, 20% of calls in progress) retries are in progress;
/// here about 100 calls are in progress, so retries are throttled to about
/// 20 at a time and most failures are not retried.
#[test]
fn an_envoy_budget_caps_retries_in_progress() {
    let text = "duration: 20s\nsources:\n  u: { target: s, arrivals: constant, rate: 100/s, retry: { max_attempts: 5, backoff: none, budget: { budget_percent: 20%, min_retry_concurrency: 3 } } }\nservices:\n  s: { workers: 1000, service_time: 1s, error_rate: 100% }\n";
    let (_, summary) = run(&scenario_from(text));
    let call = &summary.calls[0];
    // Without the budget every call would retry 4 times.
    assert!(
        call.retries < call.calls / 2,
        "{} retries for {} calls",
        call.retries,
        call.calls
    );
    assert!(call.retries_throttled > call.calls / 2);
}

/// The breaker opens after its window of failures and then, every wait,
/// lets exactly `permitted_calls_in_half_open_state` attempts through.
#[test]
fn a_breaker_opens_on_failures_and_lets_exactly_the_permitted_calls_through() {
    let breaker = "circuit_breaker: { failure_rate_threshold: 50%, sliding_window_size: 10, minimum_number_of_calls: 10, wait_duration_in_open_state: 1s, permitted_calls_in_half_open_state: 3 }";
    let (_, summary) = run(&scenario_from(&always_failing(breaker)));
    let call = &summary.calls[0];
    let service = &summary.services[0];
    assert!(call.breaker_opened >= 15, "opened {}", call.breaker_opened);
    // Ten to open, then three per half-open phase (one per reopening).
    assert_eq!(service.attempts, 10 + 3 * (call.breaker_opened - 1));
    assert_eq!(call.short_circuited, call.calls - service.attempts);
    assert_eq!(call.failed.short_circuited, call.short_circuited);
}

/// A healthy target keeps the breaker closed: nothing is short-circuited.
#[test]
fn a_breaker_stays_closed_below_its_threshold() {
    let text = "duration: 20s\nsources:\n  u: { target: s, rate: 100/s, circuit_breaker: { failure_rate_threshold: 50%, sliding_window_size: 20, minimum_number_of_calls: 10 } }\nservices:\n  s: { workers: 10, service_time: 1ms, error_rate: 10% }\n";
    let (_, summary) = run(&scenario_from(text));
    assert_eq!(summary.calls[0].breaker_opened, 0);
    assert_eq!(summary.calls[0].short_circuited, 0);
}

/// A 100ms service hedged every 30ms sends all 3 attempts for every call and
/// answers in exactly 100ms; hedged every 150ms, it never hedges.
#[test]
fn hedging_sends_another_attempt_each_delay_until_one_answers() {
    let cases = [("30ms", 2), ("150ms", 0)];
    for (delay, hedges_per_call) in cases {
        let text = format!(
            "duration: 20s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 10/s, hedging: {{ max_attempts: 3, hedging_delay: {delay} }} }}\nservices:\n  s: {{ workers: 100, service_time: 100ms }}\n"
        );
        let (_, summary) = run(&scenario_from(&text));
        let call = &summary.calls[0];
        // Calls still out at the end may not have sent all their hedges yet.
        assert!(call.in_flight_at_end <= 1, "delay {delay}");
        assert_eq!(call.succeeded + call.in_flight_at_end, call.calls);
        assert!(
            hedges_per_call * call.succeeded <= call.hedges,
            "delay {delay}"
        );
        assert!(call.hedges <= hedges_per_call * call.calls, "delay {delay}");
        assert_eq!(call.latency.mean_ms.unwrap(), 100.0, "delay {delay}");
    }
}

/// Hedging cuts the tail when a few requests are slow: one in twenty takes
/// a second, and a hedge after 50ms usually finds a fast worker.
#[test]
fn hedging_cuts_the_tail_of_a_bimodal_service() {
    let scenario = |hedging: &str| {
        scenario_from(&format!(
            "duration: 60s\nsources:\n  u: {{ target: s, rate: 100/s{hedging} }}\nservices:\n  s:\n    workers: 200\n    service_time: empirical(5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 5ms, 1s)\n"
        ))
    };
    let (_, plain) = run(&scenario(""));
    let (_, hedged) = run(&scenario(
        ", hedging: { max_attempts: 2, hedging_delay: 50ms }",
    ));
    assert!(plain.sources[0].latency.p99_ms.unwrap() >= 999.0);
    assert!(
        hedged.sources[0].latency.p99_ms.unwrap() < 60.0,
        "{}",
        hedged.sources[0].latency.p99_ms.unwrap()
    );
}

/// A fixed concurrency limit of L on c workers admits exactly what a queue of
/// L − c does: the same run, with "shed" in place of "rejected".
#[test]
fn a_fixed_concurrency_limit_admits_what_workers_plus_queue_would() {
    let service = |admission: &str| {
        scenario_from(&format!(
            "duration: 60s\nsources:\n  u: {{ target: s, rate: 450/s }}\nservices:\n  s: {{ workers: 2, service_time: exp(mean=4ms), {admission} }}\n"
        ))
    };
    let (_, queue) = run(&service("queue: { capacity: 3 }"));
    let (_, limit) = run(&service(
        "queue: { capacity: 1000 }, concurrency_limit: { kind: fixed, limit: 5 }",
    ));
    let (queue, limit) = (&queue.services[0], &limit.services[0]);
    assert!(queue.rejected > 100);
    assert_eq!(queue.rejected, limit.shed);
    assert_eq!(queue.succeeded, limit.succeeded);
    assert_eq!(queue.latency.p99_ms.unwrap(), limit.latency.p99_ms.unwrap());
}

/// An AIMD limit sheds under overload and keeps the latency of what it
/// serves near its threshold, where an unlimited queue grows without bound.
#[test]
fn an_aimd_limit_sheds_to_keep_latency_down() {
    let service = |admission: &str| {
        scenario_from(&format!(
            "duration: 30s\nsources:\n  u: {{ target: s, rate: 1200/s }}\nservices:\n  s: {{ workers: 4, queue: {{ capacity: 100000 }}, service_time: exp(mean=4ms){admission} }}\n"
        ))
    };
    let (_, unlimited) = run(&service(""));
    let (_, aimd) = run(&service(
        ", concurrency_limit: { kind: aimd, initial_limit: 10, min_limit: 4, max_limit: 100, latency_threshold: 50ms }",
    ));
    assert!(unlimited.services[0].latency.p50_ms.unwrap() > 1_000.0);
    assert!(aimd.services[0].shed > 1_000);
    assert!(
        aimd.services[0].latency.p99_ms.unwrap() < 200.0,
        "{}",
        aimd.services[0].latency.p99_ms.unwrap()
    );
}

/// A queue timeout drops requests that waited too long when a worker takes
/// them: no request that was served waited longer.
#[test]
fn a_queue_timeout_bounds_the_wait_of_everything_served() {
    let text = "duration: 30s\nsources:\n  u: { target: s, rate: 1100/s }\nservices:\n  s: { workers: 4, queue: { capacity: 10000, timeout: 20ms }, service_time: exp(mean=4ms) }\n";
    let (_, summary) = run(&scenario_from(text));
    let service = &summary.services[0];
    assert!(service.queue_timeouts > 500);
    // Histogram values are exact to three significant digits.
    assert!(service.queue_wait.max_ms.unwrap() <= 20.0 * 1.001);
}

/// Adaptive LIFO is FIFO while the queue is no longer than its threshold and
/// LIFO beyond: with a huge threshold it is FIFO, with zero it is LIFO.
#[test]
fn adaptive_lifo_is_fifo_below_its_threshold_and_lifo_above() {
    let service = |queue: &str| {
        scenario_from(&format!(
            "duration: 30s\nsources:\n  u: {{ target: s, rate: 950/s }}\nservices:\n  s: {{ workers: 1, queue: {{ {queue} }}, service_time: exp(mean=1ms) }}\n"
        ))
    };
    // The scenarios differ, and so do their provenance records: the results must not.
    let json = |queue: &str| {
        let mut summary = run(&service(queue)).1;
        summary.provenance = stampede::report::provenance::of_batch(summary.seed, Vec::new());
        // Only plain fifo is recognised as a textbook queue.
        summary.theory.clear();
        summary.to_json()
    };
    assert_eq!(
        json("discipline: adaptive_lifo, lifo_threshold: 1000000"),
        json("discipline: fifo")
    );
    assert_eq!(
        json("discipline: adaptive_lifo, lifo_threshold: 0"),
        json("discipline: lifo")
    );
}

/// The bundled autoscaling scenario never exceeds its maximum, and no new
/// instance takes traffic before the surge plus the cold start.
#[test]
fn autoscaling_honours_the_maximum_and_the_cold_start() {
    let scenario = bundled("autoscaling-surge.yaml");
    let (outcome, summary) = run(&scenario);
    let web = &summary.services[0];
    assert!(web.instances_max <= 10 && web.instances_max > 2);
    let series = &outcome.timeseries;
    let instances = series.column("web.instances").unwrap();
    let surge_at = 60.0;
    let cold_start = 60.0;
    for (time, count) in series.times().into_iter().zip(&instances) {
        assert!(*count <= 10.0, "{count} instances at {time}s");
        if time <= surge_at + cold_start {
            assert!(
                *count <= 2.0,
                "{count} instances at {time}s, before any could start"
            );
        }
    }
    assert!(instances.iter().any(|&count| count >= 4.0));
}

/// The HPA scales back down only after its stabilisation window: instances
/// stay up for 300s after the surge, within the run, then fall.
#[test]
fn autoscaling_scales_down_after_the_stabilisation_window() {
    let text = "duration: 400s\nsources:\n  u: { target: s, rate: 300/s, shape: { kind: spike, at: 20s, duration: 20s, multiplier: 3 } }\nservices:\n  s: { instances: 1, workers: 4, service_time: exp(mean=5ms), autoscaling: { target: 50%, evaluation_period: 5s, scale_down_stabilization: 100s, max_instances: 8, cold_start: 5s } }\n";
    let (outcome, _) = run(&scenario_from(text));
    let series = &outcome.timeseries;
    let instances = series.column("s.instances").unwrap();
    let at = |seconds: f64| {
        let index = series.times().iter().position(|&t| t >= seconds).unwrap();
        instances[index]
    };
    assert!(at(60.0) > 1.5, "scaled up for the surge: {}", at(60.0));
    assert!(at(120.0) > 1.5, "held through the window: {}", at(120.0));
    assert!(at(390.0) <= 1.0, "back down at the end: {}", at(390.0));
}

/// The acceptance test for the metastable scenario: without defences
/// goodput stays collapsed after the surge; every defence recovers.
#[test]
fn the_metastable_storm_persists_without_defences_and_each_defence_breaks_it() {
    let path = format!(
        "{}/scenarios/metastable-retry-storm.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let study = scenario::load_study(std::path::Path::new(&path)).unwrap();
    let scenarios: Vec<_> = study.variants.iter().map(|v| v.scenario.clone()).collect();
    let runs = runner::run_all(&scenarios);
    for (variant, run) in study.variants.iter().zip(&runs) {
        let verdict = &run.summary.recovery[0];
        // The base is the scenario as written: no defence.
        let expected = !matches!(variant.name.as_str(), "no-defence" | "base");
        assert_eq!(verdict.recovered, expected, "{}: {verdict:?}", variant.name);
        if !expected {
            assert!(verdict.final_goodput_ratio < 0.2, "{verdict:?}");
        }
    }
    assert!(study.variants.iter().any(|v| v.name == "backoff-jitter"));
}
