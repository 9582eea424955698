//! Common random numbers: each component and purpose has its own stream, so
//! changing one policy leaves everybody else's random numbers alone.

use crate::common::*;
use stampede::scenario::spec::{Backoff, Jitter};

#[test]
fn a_changed_retry_policy_leaves_the_arrival_stream_unchanged() {
    let base = bundled("retry-chain.yaml");
    let mut variant = base.clone();
    for edge in &mut variant.edges {
        edge.policy.max_attempts = 4;
        edge.policy.backoff = Backoff::Exponential {
            base: stampede::engine::SimDuration(10_000_000),
            multiplier: 2.0,
            max: stampede::engine::SimDuration(1_000_000_000),
        };
        edge.policy.jitter = Jitter::Full;
    }
    let (_, before) = run(&base);
    let (_, after) = run(&variant);
    // The same arrivals: the same number of requests, with different fates.
    assert_eq!(before.sources[0].requests, after.sources[0].requests);
    assert_ne!(before.services[2].attempts, after.services[2].attempts);
}

#[test]
fn adding_a_component_leaves_other_streams_unchanged() {
    let base = scenario_from(
        "duration: 30s\nsources:\n  a: { target: web, rate: 300/s }\nservices:\n  web: { workers: 8, service_time: exp(mean=5ms) }\n",
    );
    let extended = scenario_from(
        "duration: 30s\nsources:\n  a: { target: web, rate: 300/s }\n  b: { target: other, rate: 50/s }\nservices:\n  web: { workers: 8, service_time: exp(mean=5ms) }\n  other: { workers: 1, service_time: 1ms }\n",
    );
    let (_, before) = run(&base);
    let (_, after) = run(&extended);
    assert_eq!(before.sources[0].requests, after.sources[0].requests);
    assert_eq!(
        before.services[0].latency.p99_ms.unwrap(),
        after.services[0].latency.p99_ms.unwrap()
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let scenario = bundled("load-balanced-pool.yaml");
    let first = run(&scenario).1.to_json();
    assert_eq!(first, run(&scenario).1.to_json());
    let mut reseeded = scenario.clone();
    reseeded.seed += 1;
    assert_ne!(first, run(&reseeded).1.to_json());
}

#[test]
fn a_parallel_batch_gives_the_same_bytes_as_a_serial_one() {
    let scenarios: Vec<_> = [
        "mm1.yaml",
        "retry-chain.yaml",
        "closed-loop.yaml",
        "load-balanced-pool.yaml",
        "consumer-outage-backlog.yaml",
        "fan-out.yaml",
    ]
    .iter()
    .flat_map(|name| stampede::runner::replicas(&bundled(name), 3))
    .collect();
    let parallel: Vec<String> = stampede::runner::run_all(&scenarios)
        .iter()
        .map(|r| r.summary.to_json())
        .collect();
    let serial: Vec<String> = scenarios.iter().map(|s| run(s).1.to_json()).collect();
    assert_eq!(parallel, serial);
}
