//! The numbers a run reports, computed from its metrics alone.
//!
//! [`Summary`] is what `--format json` prints and what the terminal tables
//! show. Its fields serialize in declaration order, so the JSON key order is
//! stable, and every float is rounded to a fixed number of decimals so that
//! the bytes are the same on every machine. The schema is documented in
//! `docs/json-schema.md`; bump [`SCHEMA_VERSION`] when it changes.

use serde::{Deserialize, Serialize};

use crate::engine::{SimDuration, SimTime};
use crate::model::RunOutcome;
use crate::report::metrics::{
    EdgeMetrics, FailureCounts, Latency, Metrics, Phases, ServiceMetrics,
};
use crate::report::queues::{
    ConsumerSummary, QueueSummary, consumer_summary, drain_of, falling_behind, queue_summary,
};
use crate::report::timeseries::{Recovery, recoveries};
use crate::scenario::Scenario;
use crate::scenario::spec::{Class, FaultSpec, FaultTarget, Load, Priced};

pub use super::provenance::SCHEMA_VERSION;
use super::provenance::{self, Provenance};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// What this document is, for `diff`: always `summary`.
    #[serde(deserialize_with = "crate::report::interned")]
    pub kind: crate::report::Word,
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Simulated seconds the statistics cover (duration − warm-up, or less if stopped).
    pub measured_s: f64,
    pub events: u64,
    /// Why the run stopped before its duration, if it did.
    pub stopped_early: Option<String>,
    pub totals: Totals,
    /// For each source, when any source surges or anything fails: did its
    /// goodput come back after the disturbance?
    pub recovery: Vec<Recovery>,
    pub sources: Vec<SourceSummary>,
    /// Sources grouped by class, when they are of more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassSummary>,
    pub services: Vec<ServiceSummary>,
    pub load_balancers: Vec<BalancerSummary>,
    pub calls: Vec<CallSummary>,
    pub caches: Vec<CacheSummary>,
    /// Rate limiters and bulkheads, each kind's list under its own key.
    #[serde(flatten)]
    pub gates: super::gates::GateSummaries,
    pub queues: Vec<QueueSummary>,
    pub consumers: Vec<ConsumerSummary>,
    /// The scenario's fault schedule, for readers of the report.
    pub faults: Vec<FaultSummary>,
    /// What the run cost, when the scenario prices anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostSummary>,
    /// Causes read off the data, in sentences that cite their numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
    /// Services that are textbook queues: closed forms beside the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub theory: Vec<super::theory::TheorySummary>,
    /// Version, seed and the resolved scenario with its hash (last: it is the bulky part).
    pub provenance: Provenance,
}

/// What the measured window cost, per priced component and in all.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CostSummary {
    pub items: Vec<CostItem>,
    pub total: f64,
    /// Per 1,000 requests that succeeded (all sources), when any did.
    pub per_1000_requests_succeeded: Option<f64>,
    /// Per 1,000 messages processed (all queues), when any were.
    pub per_1000_messages_processed: Option<f64>,
    /// Per 1,000 asynchronous jobs completed (all job sources), when any were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_1000_jobs_completed: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CostItem {
    pub component: String,
    /// "service", "consumer" or "queue".
    #[serde(deserialize_with = "crate::report::interned")]
    pub kind: crate::report::Word,
    /// Hours of each running instance (a consumer group's pollers), summed.
    pub instance_hours: f64,
    /// Requests billed: attempts at a service, API calls at a queue.
    pub requests: u64,
    pub cost: f64,
}

/// The requests of every source of one class, together.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClassSummary {
    #[serde(deserialize_with = "crate::report::interned")]
    pub class: crate::report::Word,
    pub sources: Vec<String>,
    pub requests: u64,
    pub succeeded: u64,
    pub goodput_per_s: f64,
    pub success_ratio: f64,
    /// End-to-end latency of the class's successful requests.
    pub latency: LatencySummary,
    /// Every finished request of the class, failures included.
    pub latency_all: LatencySummary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CacheSummary {
    pub name: String,
    pub target: String,
    pub requests: u64,
    pub hits: u64,
    pub stale_hits: u64,
    pub misses: u64,
    pub hit_ratio: f64,
    /// Misses that waited for a fetch already in progress.
    pub coalesced: u64,
    /// Calls made to the target (fills and refreshes), and how many failed.
    pub backend_calls: u64,
    pub backend_failures: u64,
    pub backend_calls_per_s: f64,
    pub evictions: u64,
    pub expirations: u64,
    pub entries_at_end: u64,
    pub hit_latency: LatencySummary,
    pub miss_latency: LatencySummary,
    /// Age of the entry each hit served (time since it was filled).
    pub hit_age: LatencySummary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultSummary {
    #[serde(deserialize_with = "crate::report::interned")]
    pub kind: crate::report::Word,
    /// The service, `service[instance]`, or the callee of a latency fault.
    pub target: String,
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Totals {
    pub requests: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub in_flight_at_end: u64,
    pub offered_per_s: f64,
    pub goodput_per_s: f64,
    /// Attempts at all services ÷ requests: the total work per request.
    pub work_per_request: f64,
}

/// A latency distribution's statistics. With no samples every statistic is
/// `None` (`null` in JSON, `–` in tables): no data is not a latency of 0.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceSummary {
    pub name: String,
    /// How critical its requests are: "critical", "default" or "sheddable".
    #[serde(deserialize_with = "crate::report::interned")]
    pub class: crate::report::Word,
    /// "open" or "closed" loop.
    #[serde(deserialize_with = "crate::report::interned")]
    pub kind: crate::report::Word,
    pub target: String,
    /// What the target is: "service", "load_balancer", "cache", "queue" or
    /// "topic". A send to a queue or topic succeeds when the message is
    /// accepted; what happens to it is in the queue's summary.
    #[serde(deserialize_with = "crate::report::interned")]
    pub target_kind: crate::report::Word,
    pub requests: u64,
    pub succeeded: u64,
    pub failed: FailureCounts,
    pub in_flight_at_end: u64,
    pub attempts: u64,
    pub retries: u64,
    pub offered_per_s: f64,
    /// Requests finished (succeeded or failed) per second.
    pub throughput_per_s: f64,
    /// Requests succeeded per second.
    pub goodput_per_s: f64,
    pub success_ratio: f64,
    /// End-to-end latency of successful requests, retries included.
    pub latency: LatencySummary,
    /// Until the caller got its failure, retries included.
    pub latency_failed: LatencySummary,
    /// Every finished request, successful or failed: the latency users felt.
    pub latency_all: LatencySummary,
    /// Before, during and after the disturbance (surge or fault), by when
    /// requests finished; absent when the source has none.
    pub phases: Option<[PhaseSummary; 3]>,
    /// For a source whose requests submit asynchronous jobs: the jobs. Its
    /// latencies above are then the user's wait (submit → the poll that
    /// saw the job end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<super::jobs::JobSummary>,
}

/// What finished in one phase of the run around its disturbance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhaseSummary {
    /// "before", "during" or "after".
    #[serde(deserialize_with = "crate::report::interned")]
    pub phase: crate::report::Word,
    pub from_s: f64,
    pub to_s: f64,
    /// `None` when the phase has no length (a fault that lasts the whole run).
    pub goodput_per_s: Option<f64>,
    /// Succeeded ÷ finished; `None` if nothing finished.
    pub success_ratio: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_all_p99_ms: Option<f64>,
}

fn phase_summaries(
    phases: &Phases,
    measured_from: SimTime,
    ended_at: SimTime,
) -> [PhaseSummary; 3] {
    let start = phases.start_at.max(measured_from).min(ended_at);
    let end = phases.end_at.max(start).min(ended_at);
    let bounds = [(measured_from, start), (start, end), (end, ended_at)];
    let names = ["before", "during", "after"];
    std::array::from_fn(|index| {
        let part = &phases.parts[index];
        let (from, to) = bounds[index];
        let finished = part.succeeded + part.failed;
        let all = part.latency.merged(&part.latency_failed);
        PhaseSummary {
            phase: names[index],
            from_s: round(from.as_secs_f64(), 6),
            to_s: round(to.as_secs_f64(), 6),
            goodput_per_s: (to > from).then(|| per_second(part.succeeded, to.since(from))),
            success_ratio: (finished > 0).then(|| ratio(part.succeeded, finished)),
            latency_p99_ms: LatencySummary::of(&part.latency).p99_ms,
            latency_all_p99_ms: LatencySummary::of(&all).p99_ms,
        }
    })
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub name: String,
    pub instances: u32,
    /// Time-average and most instances taking traffic (they vary with autoscaling).
    pub instances_mean: f64,
    pub instances_max: u64,
    /// The fewest instances the autoscaler left taking traffic, warm-up
    /// included (the starting count without autoscaling).
    pub instances_min: u64,
    /// The autoscaler's `max_instances`, if the service has one.
    pub autoscaling_max_instances: Option<u32>,
    pub workers_per_instance: u32,
    pub attempts: u64,
    /// Attempts arriving here ÷ requests entering the system (all sources).
    pub amplification: f64,
    /// Per source whose requests reach this service: its attempts here ÷
    /// its requests.
    pub amplification_by_source: Vec<SourceAmplification>,
    pub succeeded: u64,
    pub errors: u64,
    pub rejected: u64,
    pub expired: u64,
    /// Turned away by the concurrency limit.
    pub shed: u64,
    /// Dropped from the queue for a more critical arrival (`priority`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub displaced: u64,
    /// Dropped after waiting longer than the queue timeout.
    pub queue_timeouts: u64,
    /// Refused by an instance that was down (outage, crash).
    pub refused: u64,
    /// Swallowed by a hanging outage.
    pub hung: u64,
    /// Lost when their instance crashed.
    pub lost_in_crash: u64,
    /// Instances ejected by outlier detection, and marked unhealthy by health
    /// checks, on the service's own router.
    pub ejections: u64,
    pub marked_unhealthy: u64,
    /// Requests answered after their caller had given up.
    pub abandoned_work: u64,
    /// Requests queued or in service when the run ended.
    pub in_system_at_end: u64,
    pub throughput_per_s: f64,
    /// Busy worker time ÷ (workers × ready instance time).
    pub utilisation: f64,
    /// The busiest instance's busy worker time ÷ (workers × measured time),
    /// for a service with more than one instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilisation_busiest_instance: Option<f64>,
    /// Time-average number waiting, summed over instances.
    pub queue_length_mean: f64,
    pub queue_length_max: u64,
    pub queue_wait: LatencySummary,
    /// Arrival to answer, for every answered request (success or error).
    pub latency: LatencySummary,
    /// Stop-the-world pauses that began in the measured window, over all
    /// instances, and their total length (absent for a service that never
    /// paused).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pauses: u64,
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub paused_s: f64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_zero_f64(value: &f64) -> bool {
    *value == 0.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BalancerSummary {
    pub name: String,
    #[serde(deserialize_with = "crate::report::interned")]
    pub strategy: crate::report::Word,
    pub backends: Vec<String>,
    pub attempts: u64,
    pub amplification: f64,
    pub ejections: u64,
    pub marked_unhealthy: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallSummary {
    pub caller: String,
    pub target: String,
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    /// Retries refused by the edge's retry limit (throttle, budget or quota).
    pub retries_throttled: u64,
    /// Attempts the circuit breaker refused to send.
    pub short_circuited: u64,
    /// Attempts the caller's own rate limit refused (failed as throttled),
    /// and those it held back until a token was free.
    pub throttled_by_caller: u64,
    pub delayed_by_rate_limit: u64,
    /// Attempts the edge's network lost (the caller timed out on them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost_in_network: u64,
    pub breaker_opened: u64,
    pub succeeded: u64,
    pub failed: FailureCounts,
    pub cancelled: u64,
    pub in_flight_at_end: u64,
    /// Why individual attempts failed (retried or not).
    pub attempt_failures: FailureCounts,
    /// Latency of successful calls as the caller saw it, retries included.
    pub latency: LatencySummary,
    /// Until the caller saw the call fail, retries included.
    pub latency_failed: LatencySummary,
    /// Every finished call, successful or failed.
    pub latency_all: LatencySummary,
}

/// Rounds to `decimals` places; exact IEEE operations only, so identical everywhere.
pub(super) fn round(value: f64, decimals: i32) -> f64 {
    let scale = [
        1.0,
        10.0,
        100.0,
        1_000.0,
        10_000.0,
        100_000.0,
        1_000_000.0,
        1e7,
        1e8,
        1e9,
    ][decimals as usize];
    (value * scale).round() / scale
}

pub(super) fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        round(numerator as f64 / denominator as f64, 4)
    }
}

pub(super) fn per_second(count: u64, span: SimDuration) -> f64 {
    if span == SimDuration::ZERO {
        0.0
    } else {
        round(count as f64 / span.as_secs_f64(), 3)
    }
}

fn millis(duration: SimDuration) -> f64 {
    round(duration.as_millis_f64(), 3)
}

impl LatencySummary {
    pub fn of(latency: &Latency) -> LatencySummary {
        let count = latency.count();
        let stat = |value: SimDuration| (count > 0).then(|| millis(value));
        let [p50, p90, p99, p999] = latency.quantiles([0.50, 0.90, 0.99, 0.999]);
        LatencySummary {
            count,
            mean_ms: stat(latency.mean()),
            p50_ms: stat(p50),
            p90_ms: stat(p90),
            p99_ms: stat(p99),
            p999_ms: stat(p999),
            max_ms: stat(latency.max()),
        }
    }
}

/// Summarises one run of `scenario`.
pub fn summarize(scenario: &Scenario, outcome: &RunOutcome) -> Summary {
    let warmup_end = SimTime::ZERO + scenario.warmup;
    let measured = outcome.ended_at.since(warmup_end);
    let metrics = &outcome.metrics;
    let requests: u64 = metrics.sources.iter().map(|s| s.requests).sum();
    let sources = scenario
        .sources
        .iter()
        .zip(&metrics.sources)
        .map(|(spec, m)| {
            let edge = &metrics.edges[spec.edge as usize];
            let finished = m.succeeded + m.failed.total();
            SourceSummary {
                name: spec.name.clone(),
                class: spec.class.name(),
                kind: match spec.load {
                    Load::Open { .. } => "open",
                    Load::Closed { .. } => "closed",
                },
                target: scenario.edges[spec.edge as usize].target_name.clone(),
                target_kind: scenario.edges[spec.edge as usize].target.kind_name(),
                requests: m.requests,
                succeeded: m.succeeded,
                failed: m.failed,
                in_flight_at_end: m.in_flight,
                attempts: edge.attempts,
                retries: edge.retries,
                offered_per_s: per_second(m.requests, measured),
                throughput_per_s: per_second(finished, measured),
                goodput_per_s: per_second(m.succeeded, measured),
                success_ratio: ratio(m.succeeded, finished),
                latency: LatencySummary::of(&m.latency),
                latency_failed: LatencySummary::of(&m.latency_failed),
                latency_all: LatencySummary::of(&m.latency.merged(&m.latency_failed)),
                phases: m
                    .phases
                    .as_ref()
                    .map(|p| phase_summaries(p, warmup_end, outcome.ended_at)),
                job: m
                    .job
                    .as_ref()
                    .and_then(|job| super::jobs::job_summary(scenario, spec, job, measured)),
            }
        })
        .collect();
    let services = scenario
        .services
        .iter()
        .zip(&metrics.services)
        .enumerate()
        .map(|(index, (spec, m))| {
            let mut summary = service_summary(spec, m, requests, measured);
            summary.amplification_by_source =
                amplification_by_source(scenario, m, &metrics.sources);
            summary.ejections = metrics.router_ejections[index];
            summary.marked_unhealthy = metrics.router_unhealthy[index];
            summary
        })
        .collect();
    let load_balancers = scenario
        .balancers
        .iter()
        .zip(&metrics.balancer_attempts)
        .enumerate()
        .map(|(index, (spec, &attempts))| BalancerSummary {
            ejections: metrics.router_ejections[scenario.services.len() + index],
            marked_unhealthy: metrics.router_unhealthy[scenario.services.len() + index],
            name: spec.name.clone(),
            strategy: spec.strategy.name(),
            backends: spec
                .backends
                .iter()
                .map(|&s| scenario.services[s as usize].name.clone())
                .collect(),
            attempts,
            amplification: ratio(attempts, requests),
        })
        .collect();
    let calls = scenario
        .edges
        .iter()
        .zip(&metrics.edges)
        .map(|(spec, m)| call_summary(&spec.caller, &spec.target_name, m))
        .collect();
    let consumers: Vec<ConsumerSummary> = scenario
        .consumers
        .iter()
        .zip(&metrics.consumers)
        .map(|(spec, m)| consumer_summary(scenario, spec, m, measured))
        .collect();
    let mut summary = Summary {
        kind: "summary",
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        duration_s: round(scenario.duration.as_secs_f64(), 6),
        warmup_s: round(scenario.warmup.as_secs_f64(), 6),
        measured_s: round(measured.as_secs_f64(), 6),
        events: outcome.events,
        stopped_early: outcome.stopped.as_ref().map(ToString::to_string),
        totals: totals(outcome, measured),
        recovery: recoveries(scenario, &outcome.timeseries),
        classes: class_summaries(scenario, metrics, measured),
        sources,
        services,
        load_balancers,
        calls,
        gates: super::gates::summarize(scenario, metrics),
        caches: scenario
            .caches
            .iter()
            .zip(&metrics.caches)
            .map(|(spec, m)| CacheSummary {
                name: spec.name.clone(),
                target: scenario.edges[spec.backend_edge as usize]
                    .target_name
                    .clone(),
                requests: m.requests,
                hits: m.hits,
                stale_hits: m.stale_hits,
                misses: m.requests - m.hits,
                hit_ratio: ratio(m.hits, m.requests),
                coalesced: m.coalesced,
                backend_calls: m.backend_calls,
                backend_failures: m.backend_failures,
                backend_calls_per_s: per_second(m.backend_calls, measured),
                evictions: m.evictions,
                expirations: m.expirations,
                entries_at_end: m.entries_at_end,
                hit_latency: LatencySummary::of(&m.hit_latency),
                miss_latency: LatencySummary::of(&m.miss_latency),
                hit_age: LatencySummary::of(&m.hit_age),
            })
            .collect(),
        queues: scenario
            .queues
            .iter()
            .zip(&metrics.queues)
            .map(|(spec, m)| {
                let series = &outcome.timeseries;
                let drain = drain_of(scenario, series, &spec.name);
                let behind = falling_behind(scenario, series, &spec.name).map(|mut b| {
                    b.consumer_utilisation = utilisation_of(&consumers, &spec.name);
                    b
                });
                queue_summary(spec, m, measured, (drain, behind))
            })
            .collect(),
        consumers,
        faults: scenario
            .faults
            .iter()
            .map(|f| fault_summary(scenario, f))
            .collect(),
        cost: cost_summary(
            scenario,
            metrics,
            measured,
            metrics.sources.iter().map(|s| s.succeeded).sum(),
        ),
        theory: super::theory::theory_summaries(scenario, outcome),
        why: Vec::new(),
        provenance: provenance::of_run(scenario),
    };
    summary.why = super::why::why(scenario, &summary);
    summary
}

/// Attempts at a service that served one source's requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceAmplification {
    pub source: String,
    pub attempts: u64,
    /// Attempts ÷ the source's requests.
    pub amplification: f64,
}

fn amplification_by_source(
    scenario: &Scenario,
    m: &ServiceMetrics,
    sources: &[crate::report::metrics::SourceMetrics],
) -> Vec<SourceAmplification> {
    m.attempts_by_source
        .iter()
        .filter(|&(_, attempts)| attempts > 0)
        .map(|(index, attempts)| SourceAmplification {
            source: scenario.sources[index as usize].name.clone(),
            attempts,
            amplification: ratio(attempts, sources[index as usize].requests),
        })
        .collect()
}

/// The busiest utilisation among the consumers of `queue`.
fn utilisation_of(consumers: &[ConsumerSummary], queue: &str) -> f64 {
    consumers
        .iter()
        .filter(|c| c.queue == queue)
        .map(|c| c.utilisation)
        .fold(0.0, f64::max)
}

fn fault_summary(scenario: &Scenario, fault: &FaultSpec) -> FaultSummary {
    let target = match &fault.target {
        FaultTarget::Service(id) => scenario.services[*id as usize].name.clone(),
        FaultTarget::Instance { service, index } => {
            format!("{}[{index}]", scenario.services[*service as usize].name)
        }
        FaultTarget::Cache(id) => scenario.caches[*id as usize].name.clone(),
        FaultTarget::Consumer { consumer, poller } => {
            let name = &scenario.consumers[*consumer as usize].name;
            match poller {
                Some(index) => format!("{name}[{index}]"),
                None => name.clone(),
            }
        }
        FaultTarget::Edges(edges) => {
            let names: Vec<String> = edges
                .iter()
                .map(|&e| {
                    let edge = &scenario.edges[e as usize];
                    format!("{} → {}", edge.caller, edge.target_name)
                })
                .collect();
            names.join(", ")
        }
    };
    FaultSummary {
        kind: fault.kind.name(),
        target,
        start_s: round(fault.at.as_secs_f64(), 6),
        end_s: round((fault.at + fault.duration).as_secs_f64(), 6),
    }
}

fn totals(outcome: &RunOutcome, measured: SimDuration) -> Totals {
    let sources = &outcome.metrics.sources;
    let requests: u64 = sources.iter().map(|s| s.requests).sum();
    let succeeded: u64 = sources.iter().map(|s| s.succeeded).sum();
    let service_attempts: u64 = outcome.metrics.services.iter().map(|s| s.attempts).sum();
    Totals {
        requests,
        succeeded,
        failed: sources.iter().map(|s| s.failed.total()).sum(),
        in_flight_at_end: sources.iter().map(|s| s.in_flight).sum(),
        offered_per_s: per_second(requests, measured),
        goodput_per_s: per_second(succeeded, measured),
        work_per_request: ratio(service_attempts, requests),
    }
}

/// Per class, the requests of its sources together; empty unless the
/// sources are of more than one class.
fn class_summaries(
    scenario: &Scenario,
    metrics: &Metrics,
    measured: SimDuration,
) -> Vec<ClassSummary> {
    let first = scenario.sources.first().map(|s| s.class);
    if scenario.sources.iter().all(|s| Some(s.class) == first) {
        return Vec::new();
    }
    let mut classes = Vec::new();
    for class in [Class::Critical, Class::Default, Class::Sheddable] {
        let members: Vec<usize> = (0..scenario.sources.len())
            .filter(|&i| scenario.sources[i].class == class)
            .collect();
        if members.is_empty() {
            continue;
        }
        let mut latency = Latency::default();
        let mut latency_failed = Latency::default();
        let (mut requests, mut succeeded, mut failed) = (0, 0, 0);
        for &i in &members {
            let m = &metrics.sources[i];
            requests += m.requests;
            succeeded += m.succeeded;
            failed += m.failed.total();
            latency = latency.merged(&m.latency);
            latency_failed = latency_failed.merged(&m.latency_failed);
        }
        classes.push(ClassSummary {
            class: class.name(),
            sources: members
                .iter()
                .map(|&i| scenario.sources[i].name.clone())
                .collect(),
            requests,
            succeeded,
            goodput_per_s: per_second(succeeded, measured),
            success_ratio: ratio(succeeded, succeeded + failed),
            latency: LatencySummary::of(&latency),
            latency_all: LatencySummary::of(&latency.merged(&latency_failed)),
        });
    }
    classes
}

/// Prices times use over the measured window: instance-hours from the
/// time integral of instances taking traffic (autoscaling included) or
/// from a consumer group's pollers, requests from the counters.
fn cost_summary(
    scenario: &Scenario,
    metrics: &Metrics,
    measured: SimDuration,
    succeeded: u64,
) -> Option<CostSummary> {
    if scenario.cost.is_empty() {
        return None;
    }
    const NANOS_PER_HOUR: f64 = 3_600e9;
    let items: Vec<CostItem> = scenario
        .cost
        .iter()
        .map(|price| {
            let (component, kind, instance_hours, requests) = match price.component {
                Priced::Service(id) => {
                    let m = &metrics.services[id as usize];
                    let hours = m.ready_instances.integral() as f64 / NANOS_PER_HOUR;
                    (
                        &scenario.services[id as usize].name,
                        "service",
                        hours,
                        m.attempts,
                    )
                }
                Priced::Consumer(id) => {
                    // Pollers that run continuously are billed for the whole
                    // window; a scheduled job's only while they process
                    // (billed by duration, as a Lambda or a batch job is).
                    let spec = &scenario.consumers[id as usize];
                    let nanos = match spec.schedule {
                        Some(_) => metrics.consumers[id as usize].busy.integral() as f64,
                        None => f64::from(spec.pollers) * measured.as_nanos() as f64,
                    };
                    (&spec.name, "consumer", nanos / NANOS_PER_HOUR, 0)
                }
                Priced::Queue(id) => {
                    let m = &metrics.queues[id as usize];
                    let calls = m.sent + m.receives + m.delete_calls;
                    (&scenario.queues[id as usize].name, "queue", 0.0, calls)
                }
            };
            let cost = instance_hours * price.per_instance_hour
                + requests as f64 / 1e6 * price.per_million_requests;
            CostItem {
                component: component.clone(),
                kind,
                instance_hours: round(instance_hours, 6),
                requests,
                cost: round(cost, 9),
            }
        })
        .collect();
    let total = items.iter().map(|i| i.cost).sum::<f64>();
    let processed: u64 = metrics.queues.iter().map(|q| q.processed).sum();
    let jobs = metrics.sources.iter().filter_map(|s| s.job.as_ref());
    let jobs_completed: u64 = jobs.map(|job| job.completed).sum();
    // Nine decimals: a fraction of a millionth of a currency unit still shows.
    let per_1000 = |count: u64| (count > 0).then(|| round(total / count as f64 * 1000.0, 9));
    Some(CostSummary {
        items,
        total: round(total, 9),
        per_1000_requests_succeeded: per_1000(succeeded),
        per_1000_messages_processed: per_1000(processed),
        per_1000_jobs_completed: per_1000(jobs_completed),
    })
}

fn service_summary(
    spec: &crate::scenario::spec::ServiceSpec,
    m: &ServiceMetrics,
    requests: u64,
    measured: SimDuration,
) -> ServiceSummary {
    let instances_mean = m.ready_instances.mean_over(measured);
    let capacity = f64::from(spec.workers) * instances_mean;
    ServiceSummary {
        name: spec.name.clone(),
        instances: spec.instances,
        instances_mean: round(instances_mean, 4),
        instances_max: m.ready_instances_max,
        instances_min: m.ready_instances_min.min(u64::from(spec.instances)),
        autoscaling_max_instances: spec.autoscaling.as_ref().map(|a| a.max_instances),
        workers_per_instance: spec.workers,
        attempts: m.attempts,
        amplification: ratio(m.attempts, requests),
        amplification_by_source: Vec::new(),
        succeeded: m.succeeded,
        errors: m.errors,
        rejected: m.rejected,
        expired: m.expired,
        shed: m.shed,
        displaced: m.displaced,
        queue_timeouts: m.queue_timeouts,
        refused: m.refused,
        hung: m.hung,
        lost_in_crash: m.lost_in_crash,
        ejections: 0,
        marked_unhealthy: 0,
        abandoned_work: m.abandoned_work,
        in_system_at_end: m.in_system_at_end,
        throughput_per_s: per_second(m.succeeded + m.errors, measured),
        utilisation: round(
            m.busy.mean_over(measured) / capacity.max(f64::MIN_POSITIVE),
            4,
        ),
        utilisation_busiest_instance: (spec.instance_slots() > 1).then(|| {
            let busiest = m.busy_busiest_instance as f64 / measured.as_nanos().max(1) as f64;
            round(busiest / f64::from(spec.workers), 4)
        }),
        queue_length_mean: round(m.queue.mean_over(measured), 4),
        queue_length_max: m.queue_max,
        queue_wait: LatencySummary::of(&m.queue_wait),
        latency: LatencySummary::of(&m.latency),
        pauses: m.pauses,
        paused_s: round(m.paused_nanos as f64 / 1e9, 6),
    }
}

fn call_summary(caller: &str, target: &str, m: &EdgeMetrics) -> CallSummary {
    CallSummary {
        caller: caller.to_string(),
        target: target.to_string(),
        calls: m.calls,
        attempts: m.attempts,
        retries: m.retries,
        hedges: m.hedges,
        retries_throttled: m.retries_throttled,
        short_circuited: m.short_circuited,
        throttled_by_caller: m.throttled_by_caller,
        delayed_by_rate_limit: m.delayed_by_rate_limit,
        lost_in_network: m.lost_in_network,
        breaker_opened: m.breaker_opened,
        succeeded: m.succeeded,
        failed: m.failed,
        cancelled: m.cancelled,
        in_flight_at_end: m.in_flight_at_end,
        attempt_failures: m.attempt_failures,
        latency: LatencySummary::of(&m.latency),
        latency_failed: LatencySummary::of(&m.latency_failed),
        latency_all: LatencySummary::of(&m.latency.merged(&m.latency_failed)),
    }
}

/// True for a target kind that acknowledges a send at once (a queue or a
/// topic): the latency of such a request says nothing about the work.
pub fn is_send_target(target_kind: &str) -> bool {
    matches!(target_kind, "queue" | "topic")
}

impl SourceSummary {
    /// The source sends messages to a queue or topic.
    pub fn sends_messages(&self) -> bool {
        is_send_target(self.target_kind)
    }
}

impl Totals {
    /// Succeeded ÷ finished, as a fraction (0 when nothing finished).
    pub fn success_ratio(&self) -> f64 {
        let finished = self.succeeded + self.failed;
        if finished == 0 {
            0.0
        } else {
            self.succeeded as f64 / finished as f64
        }
    }
}

impl Summary {
    /// Pretty JSON with a trailing newline: the stable machine format.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a summary always serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_fixed_decimals() {
        assert_eq!(round(1.23456, 3), 1.235);
        assert_eq!(round(2.0 / 3.0, 4), 0.6667);
        assert_eq!(ratio(1, 0), 0.0);
        assert_eq!(per_second(10, SimDuration(2_000_000_000)), 5.0);
    }
}
