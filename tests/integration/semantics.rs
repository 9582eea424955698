//! The request path, pinned with constant times so that outcomes are exact:
//! timeouts abandon attempts but not the work, deadline propagation drops
//! expired work, parallel and sequential calls, backoff timing, queue
//! disciplines, closed-loop populations.

use crate::common::*;

/// 10 requests/s into a 100ms service with a 30ms timeout: every request times
/// out, yet the service finishes every one of them for nobody.
#[test]
fn a_timeout_abandons_the_attempt_but_not_the_work() {
    let scenario = scenario_from(
        "duration: 100s\nsources:\n  u: { target: slow, arrivals: constant, rate: 10/s, timeout_per_attempt: 30ms }\nservices:\n  slow: { workers: 4, service_time: 100ms }\n",
    );
    let (_, summary) = run(&scenario);
    let source = &summary.sources[0];
    let slow = &summary.services[0];
    assert_eq!(source.succeeded, 0);
    assert_eq!(
        source.failed.timeout + source.in_flight_at_end,
        source.requests
    );
    assert_eq!(
        slow.succeeded, slow.abandoned_work,
        "every answer found no one waiting"
    );
    assert!(slow.succeeded >= source.requests - 2);
    assert!(
        (slow.utilisation - 0.25).abs() < 0.01,
        "10/s × 100ms on 4 workers: {}",
        slow.utilisation
    );
}

/// An overloaded single worker: without deadline propagation it serves stale
/// requests (abandoned work); with it, it drops them unserved (expired).
#[test]
fn deadline_propagation_drops_expired_work_instead_of_serving_it() {
    let text = |propagation: bool| {
        format!(
            "duration: 60s\ndeadline_propagation: {propagation}\nsources:\n  u: {{ target: s, rate: 150/s, timeout_per_attempt: 50ms }}\nservices:\n  s: {{ workers: 1, queue: {{ capacity: 1000 }}, service_time: 10ms }}\n"
        )
    };
    let (_, without) = run(&scenario_from(&text(false)));
    let (_, with) = run(&scenario_from(&text(true)));
    assert_eq!(without.services[0].expired, 0);
    assert!(
        without.services[0].abandoned_work > 1000,
        "{:?}",
        without.services[0]
    );
    assert!(with.services[0].expired > 1000, "{:?}", with.services[0]);
    // Requests that start just before their deadline still finish after it, so
    // some work is still wasted, but far less.
    assert!(with.services[0].abandoned_work < without.services[0].abandoned_work * 2 / 3);
    // Dropping doomed work frees the worker for requests that can still make it:
    // without propagation the worker serves only requests nobody waits for.
    assert!(
        without.sources[0].goodput_per_s < 1.0,
        "{:?}",
        without.sources[0]
    );
    assert!(
        with.sources[0].goodput_per_s > 30.0,
        "{:?}",
        with.sources[0]
    );
}

fn fan_out(mode: &str) -> String {
    format!(
        "duration: 10s\nsources:\n  u: {{ target: front, arrivals: constant, rate: 10/s }}\nservices:\n  front:\n    workers: 100\n    service_time: 1ms\n    call_mode: {mode}\n    calls: [ {{ target: a }}, {{ target: b }} ]\n  a: {{ workers: 100, service_time: 10ms }}\n  b: {{ workers: 100, service_time: 20ms }}\n"
    )
}

#[test]
fn parallel_calls_take_the_longest_and_sequential_ones_the_sum() {
    let (_, parallel) = run(&scenario_from(&fan_out("parallel")));
    let (_, sequential) = run(&scenario_from(&fan_out("sequential")));
    // Means are exact (percentiles are histogram buckets, within 0.1%).
    assert_eq!(parallel.sources[0].latency.mean_ms.unwrap(), 21.0);
    assert_eq!(sequential.sources[0].latency.mean_ms.unwrap(), 31.0);
}

#[test]
fn a_parallel_failure_fails_fast_and_cancels_the_sibling() {
    let text = fan_out("parallel").replace(
        "a: { workers: 100, service_time: 10ms }",
        "a: { workers: 100, service_time: 10ms, error_rate: 1.0 }",
    );
    let (_, summary) = run(&scenario_from(&text));
    let to_b = summary.calls.iter().find(|c| c.target == "b").unwrap();
    assert_eq!(summary.sources[0].succeeded, 0);
    assert_eq!(to_b.cancelled, to_b.calls - to_b.in_flight_at_end);
    // b still did the work: cancelling a call does not reach the callee.
    assert_eq!(
        summary.services[2].abandoned_work,
        summary.services[2].succeeded
    );
}

/// Attempts of 1ms at an always-failing service with a constant 50ms backoff
/// start at exactly 0, 51 and 102ms. A deadline just after 102ms lets three
/// attempts through; one just before it lets two. (Runs end in a quiet gap
/// between constant arrivals, so no request is left in flight.)
#[test]
fn constant_backoff_spaces_attempts_exactly() {
    for (deadline, attempts) in [("102500us", 3), ("101500us", 2), ("1s", 3)] {
        let scenario = scenario_from(&format!(
            "duration: 10350ms
sources:
  u: {{ target: s, arrivals: constant, rate: 5/s, deadline: {deadline}, retry: {{ max_attempts: 3, backoff: constant, backoff_base: 50ms, jitter: none }} }}
services:
  s: {{ workers: 10, service_time: 1ms, error_rate: 1.0 }}
"
        ));
        let (_, summary) = run(&scenario);
        let source = &summary.sources[0];
        assert_eq!(source.in_flight_at_end, 0);
        assert_eq!(
            source.attempts,
            attempts * source.requests,
            "deadline {deadline}"
        );
        let expected_failure = if deadline == "1s" {
            source.failed.error
        } else {
            source.failed.deadline_exceeded
        };
        assert_eq!(
            expected_failure, source.requests,
            "deadline {deadline}: {:?}",
            source.failed
        );
    }
}

/// Non-preemptive LIFO and FIFO have the same mean wait in M/M/1, but LIFO
/// leaves the unlucky waiting far longer.
#[test]
fn lifo_keeps_the_mean_wait_but_stretches_the_tail() {
    let text = |discipline: &str| {
        format!(
            "duration: 400s\nwarmup: 10s\nsources:\n  u: {{ target: s, rate: 800/s }}\nservices:\n  s: {{ workers: 1, queue: {{ capacity: 100_000, discipline: {discipline} }}, service_time: exp(mean=1ms) }}\n"
        )
    };
    let (_, fifo) = run(&scenario_from(&text("fifo")));
    let (_, lifo) = run(&scenario_from(&text("lifo")));
    let (fifo_wait, lifo_wait) = (&fifo.services[0].queue_wait, &lifo.services[0].queue_wait);
    assert!(
        (fifo_wait.mean_ms.unwrap() - lifo_wait.mean_ms.unwrap()).abs()
            / fifo_wait.mean_ms.unwrap()
            < 0.05,
        "{fifo_wait:?} vs {lifo_wait:?}"
    );
    assert!(
        lifo_wait.p999_ms.unwrap() > 2.0 * fifo_wait.p999_ms.unwrap(),
        "{fifo_wait:?} vs {lifo_wait:?}"
    );
    assert!(lifo_wait.p50_ms.unwrap() < fifo_wait.p50_ms.unwrap());
}

#[test]
fn a_closed_loop_never_has_more_requests_in_flight_than_clients() {
    let scenario = scenario_from(
        "duration: 30s\nsources:\n  u: { target: s, clients: 7, think_time: 0 }\nservices:\n  s: { workers: 1, service_time: 10ms }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    // Zero think time and 7 clients: one in service, six waiting, always.
    assert_eq!(service.queue_length_max, 6);
    assert!(
        (service.queue_length_mean - 6.0).abs() < 0.01,
        "{}",
        service.queue_length_mean
    );
    assert!((summary.sources[0].throughput_per_s - 100.0).abs() < 0.5);
}

#[test]
fn a_deadline_bounds_the_whole_call_across_retries() {
    let scenario = scenario_from(
        "duration: 20300ms\nsources:\n  u: { target: s, arrivals: constant, rate: 2/s, deadline: 120ms, retry: { max_attempts: 10, backoff: constant, backoff_base: 50ms, jitter: none } }\nservices:\n  s: { workers: 10, service_time: 1ms, error_rate: 1.0 }\n",
    );
    let (_, summary) = run(&scenario);
    let source = &summary.sources[0];
    assert_eq!(source.in_flight_at_end, 0);
    assert_eq!(source.failed.deadline_exceeded, source.requests);
    // Attempts at 0, 51 and 102ms fit in 120ms; the fourth would start at 153ms.
    assert_eq!(source.attempts, 3 * source.requests);
}

#[test]
fn queue_capacity_zero_rejects_when_all_workers_are_busy() {
    // Erlang loss: 2 servers, no waiting room, offered 2 erlangs → B(2, 2) = 0.4.
    let scenario = scenario_from(
        "duration: 500s\nsources:\n  u: { target: s, rate: 200/s }\nservices:\n  s: { workers: 2, queue: { capacity: 0 }, service_time: exp(mean=10ms) }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    let blocked = service.rejected as f64 / service.attempts as f64;
    assert!(
        (blocked - 0.4).abs() < 0.01,
        "blocking probability {blocked}, Erlang B says 0.4"
    );
}

/// A spike triples the Poisson rate for its window and only then: the
/// realised arrival counts per window match the profile.
#[test]
fn a_spike_shapes_the_arrival_rate_exactly_where_configured() {
    let scenario = scenario_from(
        "duration: 60s\nsources:\n  u: { target: s, rate: 1000/s, shape: { kind: spike, at: 20s, duration: 20s, multiplier: 3 } }\nservices:\n  s: { workers: 1000, queue: { capacity: 0 }, service_time: 1ms }\n",
    );
    let (outcome, _) = run(&scenario);
    let offered = outcome.timeseries.column("u.offered_per_s").unwrap();
    let window = |from: usize, to: usize| offered[from..to].iter().sum::<f64>();
    // Counts are Poisson: 20,000 expected before (sd 141), 60,000 during (sd 245).
    assert!(
        (window(0, 20) - 20_000.0).abs() < 600.0,
        "{}",
        window(0, 20)
    );
    assert!(
        (window(20, 40) - 60_000.0).abs() < 1_000.0,
        "{}",
        window(20, 40)
    );
    assert!(
        (window(40, 60) - 20_000.0).abs() < 600.0,
        "{}",
        window(40, 60)
    );
}
