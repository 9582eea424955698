//! Throughput of the simulator through its public API.
//!
//! `cargo bench --bench engine` reports, for the bundled M/M/1 scenario, the
//! three-tier retry chain, a message queue with batch consumers
//! (`consumer-outage-backlog.yaml`) and a thousand independent M/M/1
//! services (`thousand-services`, 10⁶ requests in all: the cost of many
//! components against one), events per second (group `events`) and
//! requests per second (group `requests`). A hand-written minimal M/M/1 loop
//! (a binary heap, one ChaCha8 stream, libm) is measured alongside as the
//! machine's baseline, so the ratio between the two can be quoted on a noisy
//! shared machine. Group `report` times what follows a run of the thousand
//! services: the summary, and every file `run --out` writes (charts,
//! tables, JSON, CSV), built in memory.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stampede::engine::RngStream;
use stampede::model;
use stampede::report::files::run_files;
use stampede::report::summary::summarize;
use stampede::scenario::{self, Scenario};

fn bundled(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    scenario::load(Path::new(&path)).expect("bundled scenarios are valid")
}

/// A thousand services, each with its own source at 10/s for 100s and a
/// mean service time of 1ms: the single queue's work spread over many
/// components.
fn thousand_services() -> Scenario {
    let mut text = String::from("duration: 100s\nsources:\n");
    for i in 0..1000 {
        text.push_str(&format!("  u{i}: {{ target: s{i}, rate: 10/s }}\n"));
    }
    text.push_str("services:\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  s{i}: {{ workers: 1, service_time: exp(mean=1ms) }}\n"
        ));
    }
    scenario::load_str("thousand-services", &text).expect("the generated scenario is valid")
}

/// Events and requests of one run, for the throughput denominators.
fn counts(scenario: &Scenario) -> (u64, u64) {
    let outcome = model::run(scenario);
    let summary = summarize(scenario, &outcome);
    (outcome.events, summary.totals.requests)
}

/// The smallest honest M/M/1 event loop: what the engine is measured against.
fn minimal_mm1_loop(customers: u64) -> u64 {
    let mut arrivals = RngStream::derive(1, "baseline", "arrivals");
    let mut services = RngStream::derive(1, "baseline", "service");
    let mut heap: BinaryHeap<Reverse<(u64, u64, bool)>> = BinaryHeap::new();
    let mut queue: VecDeque<u64> = VecDeque::new();
    let (mut seq, mut events, mut busy, mut generated) = (0u64, 0u64, false, 0u64);
    let exp = |rng: &mut RngStream, mean: f64| (-mean * libm::log(rng.uniform_open_low())) as u64;
    heap.push(Reverse((exp(&mut arrivals, 1.25e6), seq, true)));
    while let Some(Reverse((now, _, is_arrival))) = heap.pop() {
        events += 1;
        seq += 1;
        if is_arrival {
            generated += 1;
            if generated < customers {
                heap.push(Reverse((now + exp(&mut arrivals, 1.25e6), seq, true)));
            }
            if busy {
                queue.push_back(now);
            } else {
                busy = true;
                heap.push(Reverse((now + exp(&mut services, 1e6), seq, false)));
            }
        } else if queue.pop_front().is_some() {
            heap.push(Reverse((now + exp(&mut services, 1e6), seq, false)));
        } else {
            busy = false;
        }
    }
    events
}

fn throughput(c: &mut Criterion) {
    let scenarios = [
        ("mm1", bundled("mm1.yaml")),
        ("retry-chain", bundled("retry-chain.yaml")),
        ("queue-consumers", bundled("consumer-outage-backlog.yaml")),
        ("thousand-services", thousand_services()),
    ];
    for (unit, pick) in [("events", 0usize), ("requests", 1usize)] {
        let mut group = c.benchmark_group(unit);
        group.sample_size(10);
        for (name, scenario) in &scenarios {
            let (events, requests) = counts(scenario);
            group.throughput(Throughput::Elements([events, requests][pick]));
            group.bench_function(*name, |b| {
                b.iter(|| black_box(model::run(black_box(scenario))))
            });
        }
        group.finish();
    }
    let mut baseline = c.benchmark_group("events");
    baseline.sample_size(10);
    let customers = 240_000;
    baseline.throughput(Throughput::Elements(minimal_mm1_loop(customers)));
    baseline.bench_function("minimal-loop-baseline", |b| {
        b.iter(|| black_box(minimal_mm1_loop(black_box(customers))))
    });
    baseline.finish();
    let mut report = c.benchmark_group("report");
    report.sample_size(10);
    let (_, many) = &scenarios[3];
    let outcome = model::run(many);
    report.bench_function("thousand-services", |b| {
        b.iter(|| {
            let summary = summarize(many, &outcome);
            black_box(run_files(many, &summary, &outcome, ""))
        })
    });
    report.finish();
}

// Criterion's HTML plots use plotters, which this crate builds with its own
// embedded-font backend; the numbers are what matter here, so no plots.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = throughput
}
criterion_main!(benches);
