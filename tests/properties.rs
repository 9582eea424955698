//! Property tests: conservation on random scenarios, and no panic on any input.
//!
//! Each generated scenario carries its own seed, and proptest prints the whole
//! failing scenario (seed included) when a property fails, so every failure
//! can be replayed with `stampede run`.

mod common;

use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct CallParams {
    target_offset: usize,
    timeout_ms: Option<u32>,
    deadline_ms: Option<u32>,
    max_attempts: u32,
    backoff: &'static str,
    jitter: &'static str,
    retry_on: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct ServiceParams {
    instances: u32,
    strategy: &'static str,
    workers: u32,
    capacity: u32,
    discipline: &'static str,
    service_time: String,
    error_rate: f64,
    parallel: bool,
    calls: Vec<CallParams>,
}

fn call_params() -> impl Strategy<Value = CallParams> {
    (
        0usize..3,
        proptest::option::of(1u32..60),
        proptest::option::of(5u32..300),
        1u32..5,
        prop::sample::select(vec!["none", "constant", "exponential"]),
        prop::sample::select(vec!["none", "full", "equal", "decorrelated"]),
        prop::sample::subsequence(vec!["error", "timeout", "rejected"], 1..=3),
    )
        .prop_map(
            |(target_offset, timeout_ms, deadline_ms, max_attempts, backoff, jitter, retry_on)| {
                let jitter = if backoff == "exponential" {
                    jitter
                } else {
                    "full"
                };
                CallParams {
                    target_offset,
                    timeout_ms,
                    deadline_ms,
                    max_attempts,
                    backoff,
                    jitter,
                    retry_on,
                }
            },
        )
}

fn service_params() -> impl Strategy<Value = ServiceParams> {
    let service_time = prop::sample::select(vec![
        "exp(mean=4ms)",
        "2ms",
        "uniform(min=1ms, max=9ms)",
        "lognormal(median=3ms, p99=30ms)",
        "pareto(scale=1ms, shape=2.2)",
        "normal(mean=5ms, sd=3ms)",
    ]);
    (
        1u32..4,
        prop::sample::select(vec![
            "round_robin",
            "random",
            "least_outstanding",
            "power_of_two_choices",
        ]),
        1u32..5,
        0u32..8,
        prop::sample::select(vec!["fifo", "lifo"]),
        service_time,
        prop::sample::select(vec![0.0, 0.05, 0.3, 1.0]),
        any::<bool>(),
        prop::collection::vec(call_params(), 0..3),
    )
        .prop_map(
            |(
                instances,
                strategy,
                workers,
                capacity,
                discipline,
                service_time,
                error_rate,
                parallel,
                calls,
            )| ServiceParams {
                instances,
                strategy,
                workers,
                capacity,
                discipline,
                service_time: service_time.to_string(),
                error_rate,
                parallel,
                calls,
            },
        )
}

fn policy_yaml(call: &CallParams) -> String {
    let mut parts = Vec::new();
    if let Some(timeout) = call.timeout_ms {
        parts.push(format!("timeout_per_attempt: {timeout}ms"));
    }
    if let Some(deadline) = call.deadline_ms {
        parts.push(format!("deadline: {deadline}ms"));
    }
    parts.push(format!(
        "retry: {{ max_attempts: {}, backoff: {}, backoff_base: 2ms, jitter: {}, retry_on: [{}] }}",
        call.max_attempts,
        call.backoff,
        call.jitter,
        call.retry_on.join(", ")
    ));
    parts.join(", ")
}

/// A scenario whose services form a DAG: service i only calls services after it.
#[allow(clippy::too_many_arguments)]
fn scenario_yaml(
    seed: u64,
    closed: bool,
    rate: u32,
    warmup_ms: u32,
    propagation: bool,
    balancer: bool,
    entry: &CallParams,
    services: &[ServiceParams],
) -> String {
    let load = if closed {
        format!("clients: {}, think_time: exp(mean=20ms)", rate / 40 + 1)
    } else {
        format!("rate: {rate}/s")
    };
    let target = if balancer && services.len() > 1 {
        "lb"
    } else {
        "s0"
    };
    let mut text = format!(
        "seed: {seed}\nduration: 3s\nwarmup: {warmup_ms}ms\ndeadline_propagation: {propagation}\nsources:\n  src: {{ target: {target}, {load}, {} }}\nservices:\n",
        policy_yaml(entry)
    );
    for (index, service) in services.iter().enumerate() {
        text.push_str(&format!(
            "  s{index}:\n    instances: {}\n    balancer: {}\n    workers: {}\n    queue: {{ capacity: {}, discipline: {} }}\n    service_time: {}\n    error_rate: {}\n    call_mode: {}\n",
            service.instances,
            service.strategy,
            service.workers,
            service.capacity,
            service.discipline,
            service.service_time,
            service.error_rate,
            if service.parallel { "parallel" } else { "sequential" }
        ));
        let later = services.len() - index - 1;
        let calls: Vec<String> = service
            .calls
            .iter()
            .filter(|_| later > 0)
            .map(|call| {
                format!(
                    "{{ target: s{}, {} }}",
                    index + 1 + call.target_offset % later,
                    policy_yaml(call)
                )
            })
            .collect();
        if !calls.is_empty() {
            text.push_str(&format!("    calls: [{}]\n", calls.join(", ")));
        }
    }
    if balancer && services.len() > 1 {
        text.push_str(
            "load_balancers:\n  lb: { strategy: least_outstanding, backends: [s0, s1] }\n",
        );
    }
    text
}

fn any_scenario() -> impl Strategy<Value = (String, bool)> {
    (
        any::<u64>(),
        any::<bool>(),
        20u32..1500,
        prop::sample::select(vec![0u32, 0, 500]),
        any::<bool>(),
        any::<bool>(),
        call_params(),
        prop::collection::vec(service_params(), 1..5),
    )
        .prop_map(
            |(seed, closed, rate, warmup_ms, propagation, balancer, entry, services)| {
                // s1 behind the balancer must not call s0's callers; the DAG order guarantees it.
                (
                    scenario_yaml(
                        seed,
                        closed,
                        rate,
                        warmup_ms,
                        propagation,
                        balancer,
                        &entry,
                        &services,
                    ),
                    warmup_ms == 0,
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every request ends exactly once: generated = succeeded + failed + in flight.
    /// Every attempt at a service ends exactly once: arrived = rejected + succeeded
    /// + errors + expired + still inside at the end. Every call ends exactly once:
    /// started = succeeded + failed + cancelled + in flight. All with or without warm-up.
    #[test]
    fn every_request_attempt_and_call_ends_exactly_once((yaml, _) in any_scenario()) {
        let scenario = scenario_from(&yaml);
        let (_, summary) = run(&scenario);
        prop_assert!(summary.stopped_early.is_none(), "stopped: {:?}", summary.stopped_early);
        for source in &summary.sources {
            let ended = source.succeeded + source.failed.total() + source.in_flight_at_end;
            prop_assert_eq!(source.requests, ended, "source {}", source.name);
        }
        for service in &summary.services {
            let ended = service.rejected + service.succeeded + service.errors + service.expired + service.in_system_at_end;
            prop_assert_eq!(service.attempts, ended, "service {}", service.name);
        }
        for call in &summary.calls {
            let ended = call.succeeded + call.failed.total() + call.cancelled + call.in_flight_at_end;
            prop_assert_eq!(call.calls, ended, "call {} → {}", call.caller, call.target);
        }
    }

    /// The same scenario and seed give the same bytes.
    #[test]
    fn runs_are_deterministic((yaml, _) in any_scenario()) {
        let scenario = scenario_from(&yaml);
        let first = run(&scenario).1.to_json();
        let second = run(&scenario).1.to_json();
        prop_assert_eq!(first, second);
    }

    /// Any text at all is either a scenario or a list of errors, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = stampede::scenario::load_str("fuzz.yaml", &text);
    }

    /// Bundled scenarios with random edits either load or explain why not;
    /// those that load also run (under a small event limit) without panicking.
    #[test]
    fn mutated_scenarios_never_panic(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, "[a-z0-9:\\-{}\\[\\],. \n]{0,6}"), 1..4),
    ) {
        let names = ["retry-chain.yaml", "mm1.yaml", "mmc.yaml", "load-balanced-pool.yaml", "closed-loop.yaml"];
        let path = format!("{}/scenarios/{}", env!("CARGO_MANIFEST_DIR"), names[which]);
        let mut text = std::fs::read_to_string(path).unwrap();
        for (at, deleted, inserted) in edits {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + deleted).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(start..end, &inserted);
        }
        if let Ok(mut scenario) = stampede::scenario::load_str("mutated.yaml", &text) {
            scenario.limits.max_events = 200_000;
            let _ = run(&scenario);
        }
    }
}
