//! Property tests: conservation on random scenarios, and no panic on any input.
//!
//! Each generated scenario carries its own seed, and proptest prints the whole
//! failing scenario (seed included) when a property fails, so every failure
//! can be replayed with `stampede run`.

use crate::common::*;
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
    /// A client-side defence: "", throttle, budget, quota, breaker or hedging.
    defence: &'static str,
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
    /// Server-side: a queue timeout, a concurrency limit, autoscaling.
    queue_timeout_ms: Option<u32>,
    concurrency: &'static str,
    autoscale: bool,
    /// Bit 0: slowdown with load; bit 1: random pauses.
    mechanisms: u8,
}

fn call_params() -> impl Strategy<Value = CallParams> {
    (
        0usize..3,
        proptest::option::of(1u32..60),
        proptest::option::of(5u32..300),
        1u32..5,
        prop::sample::select(vec!["none", "constant", "exponential"]),
        prop::sample::select(vec!["none", "full", "equal", "decorrelated"]),
        prop::sample::subsequence(vec!["error", "timeout", "rejected", "throttled"], 1..=4),
        prop::sample::select(vec![
            "",
            "",
            "throttle",
            "budget",
            "quota",
            "breaker",
            "hedging",
            "rate_limit",
            "network",
            "retry_breaker",
        ]),
    )
        .prop_map(
            |(
                target_offset,
                timeout_ms,
                deadline_ms,
                max_attempts,
                backoff,
                jitter,
                retry_on,
                defence,
            )| {
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
                    defence,
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
        "'mixture(0.9: 2ms, 0.1: exp(mean=20ms))'",
        "erlang(k=3, mean=4ms)",
        "gamma(shape=0.5, mean=4ms)",
        "hyperexp(mean=4ms, cv=3)",
    ]);
    (
        1u32..4,
                prop::sample::select(vec![
            "round_robin",
            "random",
            "least_outstanding",
            "power_of_two_choices",
            "consistent_hash",
            "round_robin\n    outlier_detection: { consecutive_5xx: 2, interval: 50ms, base_ejection_time: 100ms, max_ejection_percent: 50% }",
            "random\n    health_check: { interval: 100ms }",
        ]),
        1u32..5,
        0u32..8,
        prop::sample::select(vec![
            "fifo",
            "lifo",
            "adaptive_lifo",
            "processor_sharing",
            "priority",
        ]),
        service_time,
        prop::sample::select(vec![0.0, 0.05, 0.3, 1.0]),
        any::<bool>(),
        prop::collection::vec(call_params(), 0..3),
        (
            proptest::option::of(1u32..20),
            prop::sample::select(vec!["", "", "fixed", "aimd"]),
            any::<bool>(),
            0u8..4,
        ),
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
                (queue_timeout_ms, concurrency, autoscale, mechanisms),
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
                queue_timeout_ms,
                concurrency,
                autoscale,
                mechanisms,
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
    let limit = match call.defence {
        "throttle" => ", throttle: { max_tokens: 4, token_ratio: 0.5 }",
        "budget" => ", budget: { budget_percent: 10%, min_retry_concurrency: 1 }",
        "quota" => ", quota: { capacity: 20 }",
        "retry_breaker" => {
            ", breaker: { failure_rate_threshold: 30%, sliding_window_size: 10, minimum_number_of_calls: 5 }"
        }
        _ => "",
    };
    match call.defence {
        "hedging" => parts.push(format!(
            "hedging: {{ max_attempts: {}, hedging_delay: 3ms }}",
            call.max_attempts
        )),
        _ => parts.push(format!(
            "retry: {{ max_attempts: {}, backoff: {}, backoff_base: 2ms, jitter: {}, retry_on: [{}]{limit} }}",
            call.max_attempts,
            call.backoff,
            call.jitter,
            call.retry_on.join(", ")
        )),
    }
    if call.defence == "rate_limit" {
        let wait = if call.max_attempts.is_multiple_of(2) {
            "0"
        } else {
            "2ms"
        };
        parts.push(format!(
            "rate_limit: {{ rate: 300/s, burst: 3, max_wait: {wait} }}"
        ));
    }
    if call.defence == "network" {
        let loss = if call.timeout_ms.is_some() || call.deadline_ms.is_some() {
            ", loss: 5%"
        } else {
            ""
        };
        parts.push(format!("network: {{ latency: exp(mean=1ms){loss} }}"));
    }
    if call.defence == "breaker" {
        parts.push("circuit_breaker: { sliding_window_size: 10, minimum_number_of_calls: 5, wait_duration_in_open_state: 100ms, permitted_calls_in_half_open_state: 2, slow_call_duration_threshold: 20ms }".to_string());
    }
    parts.join(", ")
}

/// Server-side defences of one service, as YAML lines.
fn server_yaml(service: &ServiceParams) -> String {
    let mut text = String::new();
    match service.concurrency {
        "fixed" => text.push_str("    concurrency_limit: { kind: fixed, limit: 3 }\n"),
        "aimd" => text.push_str("    concurrency_limit: { kind: aimd, initial_limit: 4, min_limit: 1, max_limit: 20, latency_threshold: 10ms }\n"),
        _ => {}
    }
    if service.mechanisms & 1 == 1 {
        // A fixed cost per request in service has no place in processor sharing.
        let per_request = if service.discipline == "processor_sharing" {
            ""
        } else {
            ", per_request: 100us"
        };
        text.push_str(&format!(
            "    slowdown_with_load: {{ contention: 0.1, coherency: 0.01{per_request} }}\n"
        ));
    }
    // Processor sharing takes no pauses (validation refuses them).
    if service.mechanisms & 2 == 2 && service.discipline != "processor_sharing" {
        text.push_str("    pauses: { every: exp(mean=300ms), duration: exp(mean=50ms) }\n");
    }
    if service.autoscale {
        text.push_str(&format!("    autoscaling: {{ target: 50%, evaluation_period: 200ms, scale_down_stabilization: 400ms, min_instances: 1, max_instances: {}, cold_start: 100ms }}\n", service.instances + 2));
    }
    text
}

/// Faults on the first services, overlapping, of every kind.
fn faults_yaml(kinds: &[&str], sharing: &[bool], entry_target: &str) -> String {
    let services = sharing.len();
    if kinds.is_empty() {
        return String::new();
    }
    let mut text = String::from("faults:\n");
    for (index, kind) in kinds.iter().enumerate() {
        let target = format!("s{}", index % services);
        let at = 300 + 400 * index;
        let extra = match *kind {
            "outage" => "mode: fail_fast",
            "hang" => "mode: hang",
            "slowdown" => "factor: 5",
            "errors" => "error_rate: 50%",
            "latency" => "latency: exp(mean=5ms)",
            "capacity_loss" => "fraction: 50%",
            _ => "instance: 0",
        };
        // A processor-sharing service takes a crash instead of a pause.
        let kind = match *kind {
            "hang" => "outage",
            "pause" if sharing[index % services] => "crash",
            other => other,
        };
        let latency_target = if kind == "latency" {
            entry_target
        } else {
            &target
        };
        text.push_str(&format!(
            "  - {{ kind: {kind}, target: {latency_target}, at: {at}ms, duration: 700ms, {extra} }}\n"
        ));
    }
    text
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
    faults: &[&str],
    cached: bool,
) -> String {
    let load = if closed {
        format!("clients: {}, think_time: exp(mean=20ms)", rate / 40 + 1)
    } else {
        format!("rate: {rate}/s")
    };
    let backend = if balancer && services.len() > 1 {
        "lb"
    } else {
        "s0"
    };
    // One scenario in three sends its entry traffic through a bulkhead,
    // with or without a line, with or without a longest wait; another
    // through a shaper, which may or may not hold attempts back.
    let bulkhead = !cached && seed.is_multiple_of(3);
    let shaper = !cached && seed % 3 == 1;
    let target = match (cached, bulkhead, shaper) {
        (true, _, _) => "c",
        (false, true, _) => "bh",
        (false, false, true) => "sh",
        (false, false, false) => backend,
    };
    let mut text = format!(
        "seed: {seed}\nduration: 3s\nwarmup: {warmup_ms}ms\ndeadline_propagation: {propagation}\nsources:\n  src: {{ target: {target}, {load}, keys: \"zipf(count=300, exponent=1.0)\", {} }}\n  low: {{ target: {target}, rate: 30/s, class: sheddable }}\nservices:\n",
        policy_yaml(entry)
    );
    if cached {
        text = text.replace(
            "services:\n",
            &format!("caches:\n  c: {{ target: {backend}, capacity: 60, ttl: 30ms, stale_while_revalidate: 10ms, coalescing: {coalescing}, timeout_per_attempt: 40ms }}\nservices:\n", coalescing = seed.is_multiple_of(2)),
        );
    }
    for (index, service) in services.iter().enumerate() {
        text.push_str(&format!(
                        "  s{index}:\n    instances: {}\n    balancer: {}\n    workers: {}\n    queue: {{ capacity: {}, discipline: {}{} }}\n    service_time: {}\n    error_rate: {}\n    call_mode: {}\n",
                        service.instances,
            // Extra routing keys ride along after the strategy, on lines of their own.
            service.strategy,
            service.workers,
            service.capacity,
            service.discipline,
            service
                .queue_timeout_ms
                .map(|t| format!(", timeout: {t}ms"))
                .unwrap_or_default(),
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
                // Every other call is made on only some requests.
                let chance = if call.target_offset == 1 {
                    "probability: 60%, "
                } else {
                    ""
                };
                format!(
                    "{{ target: s{}, {chance}{} }}",
                    index + 1 + call.target_offset % later,
                    policy_yaml(call)
                )
            })
            .collect();
        if !calls.is_empty() {
            text.push_str(&format!("    calls: [{}]\n", calls.join(", ")));
        }
        text.push_str(&server_yaml(service));
    }
    let sharing: Vec<bool> = services
        .iter()
        .map(|s| s.discipline == "processor_sharing")
        .collect();
    // A latency fault applies to calls into the entry: a bulkhead, if there is one.
    let called = if cached { backend } else { target };
    text.push_str(&faults_yaml(faults, &sharing, called));
    if balancer && services.len() > 1 {
        text.push_str(
            "load_balancers:\n  lb: { strategy: least_outstanding, backends: [s0, s1] }\n",
        );
    }
    if shaper {
        // Shorter than the entry's callers wait, as validation requires.
        let waited = entry.timeout_ms.into_iter().chain(entry.deadline_ms).min();
        let max_delay = waited.map_or(u64::MAX, |ms| u64::from(ms) - 1);
        text.push_str(&format!(
            "shapers:\n  sh: {{ target: {backend}, rate: {}/s, max_delay: {}ms }}\n",
            u64::from(rate / 2 + 1) + (seed / 3) % 500,
            ((seed / 9) % 3 * 50).min(max_delay)
        ));
    }
    if bulkhead {
        let line = (seed / 7) % 4 * 5;
        let max_wait = match line > 0 && (seed / 28) % 2 == 1 {
            true => ", max_wait: 30ms",
            false => "",
        };
        text.push_str(&format!(
            "bulkheads:\n  bh: {{ target: {backend}, max_concurrent: {}, max_waiting: {line}{max_wait} }}\n",
            1 + seed % 7
        ));
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
        prop::sample::subsequence(
            vec![
                "outage",
                "hang",
                "slowdown",
                "errors",
                "crash",
                "latency",
                "capacity_loss",
                "pause",
            ],
            0..=3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                seed,
                closed,
                rate,
                warmup_ms,
                propagation,
                balancer,
                entry,
                services,
                faults,
                cached,
            )| {
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
                        &faults,
                        cached,
                    ),
                    warmup_ms == 0,
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Every request ends exactly once: generated = succeeded + failed + in flight.
    /// Every attempt at a service ends exactly once: arrived = rejected + shed +
    /// dropped by the queue timeout + refused + hung + lost in a crash +
    /// succeeded + errors + expired + still inside at the end. Every call ends
    /// exactly once: started = succeeded + failed + cancelled + in flight. All
    /// with or without warm-up, with faults and defences of every kind; without
    /// warm-up, every try on an edge is a first attempt, a retry or a hedge.
    #[test]
    fn every_request_attempt_and_call_ends_exactly_once((yaml, no_warmup) in any_scenario()) {
        let scenario = scenario_from(&yaml);
        let (_, summary) = run(&scenario);
        prop_assert!(summary.stopped_early.is_none(), "stopped: {:?}", summary.stopped_early);
        for source in &summary.sources {
            let ended = source.succeeded + source.failed.total() + source.in_flight_at_end;
            prop_assert_eq!(source.requests, ended, "source {}", source.name);
        }
        for service in &summary.services {
                        let lost = service.shed + service.displaced + service.queue_timeouts + service.refused + service.hung + service.lost_in_crash;
            let ended = service.rejected + lost + service.succeeded + service.errors + service.expired + service.in_system_at_end;
            prop_assert_eq!(service.attempts, ended, "service {}", service.name);
        }
        for shaper in &summary.gates.shapers {
            prop_assert!(shaper.throttled <= shaper.requests, "{:?}", shaper);
            prop_assert!(shaper.delay_max_ms.unwrap_or(0.0) <= shaper.max_delay_ms + 1e-3, "{:?}", shaper);
        }
        for bulkhead in &summary.gates.bulkheads {
            prop_assert!(bulkhead.in_use_max <= bulkhead.max_concurrent, "{:?}", bulkhead);
            prop_assert!(bulkhead.rejected <= bulkhead.requests, "{:?}", bulkhead);
            prop_assert!(bulkhead.wait_max_ms.unwrap_or(0.0) <= bulkhead.max_wait_ms.unwrap_or(f64::MAX), "{:?}", bulkhead);
        }
                for cache in &summary.caches {
            prop_assert_eq!(cache.requests, cache.hits + cache.misses);
            prop_assert!(cache.coalesced + cache.backend_calls >= cache.misses);
        }
        for call in &summary.calls {
            let ended = call.succeeded + call.failed.total() + call.cancelled + call.in_flight_at_end;
            prop_assert_eq!(call.calls, ended, "call {} → {}", call.caller, call.target);
            if no_warmup {
                prop_assert_eq!(call.attempts, call.calls + call.retries + call.hedges, "tries on {} → {}", call.caller, call.target);
            }
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
                which in 0usize..10,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, "[a-z0-9:\\-{}\\[\\],. \n]{0,6}"), 1..4),
    ) {
                let names = [
            "retry-chain.yaml", "mm1.yaml", "mmc.yaml", "load-balanced-pool.yaml", "closed-loop.yaml",
            "backoff-vs-no-backoff.yaml", "metastable-retry-storm.yaml", "dependency-outage.yaml",
            "autoscaling-surge.yaml", "thundering-herd.yaml",
        ];
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
