//! The validated scenario: what the engine trusts.
//!
//! Every name is resolved to an index, every value is in range and in engine
//! units (nanoseconds, events per second), and every call edge is explicit.
//! Nothing here can be wrong in a way the simulation would have to check.

use crate::engine::{Dist, SimDuration};

pub use super::messaging::*;
pub use super::shape::Shape;

pub type SourceId = u32;
pub type ServiceId = u32;
pub type BalancerId = u32;
pub type EdgeId = u32;
pub type CacheId = u32;
pub type RateLimiterId = u32;
pub type BulkheadId = u32;
pub type ShaperId = u32;

/// Where a call goes: straight to a service (balanced over its instances),
/// through a named load balancer, to a cache, through a gate (a rate
/// limiter, a bulkhead, a shaper), or onto a queue or topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Service(ServiceId),
    Balancer(BalancerId),
    Cache(CacheId),
    Gate(Gate),
    Queue(QueueId),
    Topic(TopicId),
}

/// Every kind a call may name, in words, for messages about a name that
/// is none of them.
pub const TARGET_KINDS_IN_WORDS: &str =
    "service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic";

/// A component that stands in front of one service or load balancer and
/// decides, attempt by attempt, to pass it on as the same attempt (now or
/// after a wait) or to turn it away. The rest of the scenario sees only
/// that: a call through a gate is a call to what it guards, and costs,
/// cycles and faults follow it there. A new kind of gate adds a variant
/// here and its arms in [`Gate`]'s and [`GateSpecs`]'s methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    RateLimiter(RateLimiterId),
    Bulkhead(BulkheadId),
    Shaper(ShaperId),
}

/// Each kind of gate's section in a scenario file.
pub const GATE_SECTIONS: [&str; 3] = ["rate_limiters", "bulkheads", "shapers"];

impl Gate {
    /// The kind, as reports' JSON names it (`rate_limiter`).
    pub fn kind_name(self) -> &'static str {
        match self {
            Gate::RateLimiter(_) => "rate_limiter",
            Gate::Bulkhead(_) => "bulkhead",
            Gate::Shaper(_) => "shaper",
        }
    }

    /// The kind in a sentence (`a rate limiter`), for messages.
    pub fn kind_in_words(self) -> &'static str {
        match self {
            Gate::RateLimiter(_) => "a rate limiter",
            Gate::Bulkhead(_) => "a bulkhead",
            Gate::Shaper(_) => "a shaper",
        }
    }
}

/// The gates of a scenario, by kind.
#[derive(Clone, Debug, Default)]
pub struct GateSpecs {
    pub rate_limiters: Vec<RateLimiterSpec>,
    pub bulkheads: Vec<BulkheadSpec>,
    pub shapers: Vec<ShaperSpec>,
}

impl GateSpecs {
    /// The service or load balancer behind `gate`; `None` only while
    /// validating, for a gate that failed (its error is reported).
    pub fn behind(&self, gate: Gate) -> Option<Target> {
        match gate {
            Gate::RateLimiter(id) => Some(self.rate_limiters.get(id as usize)?.target),
            Gate::Bulkhead(id) => Some(self.bulkheads.get(id as usize)?.target),
            Gate::Shaper(id) => Some(self.shapers.get(id as usize)?.target),
        }
    }

    pub fn name(&self, gate: Gate) -> &str {
        match gate {
            Gate::RateLimiter(id) => &self.rate_limiters[id as usize].name,
            Gate::Bulkhead(id) => &self.bulkheads[id as usize].name,
            Gate::Shaper(id) => &self.shapers[id as usize].name,
        }
    }

    /// Every gate, kind by kind in [`GATE_SECTIONS`] order: the order of
    /// [`GateSpecs::index`].
    pub fn all(&self) -> impl Iterator<Item = Gate> + use<> {
        let rate_limiters = (0..self.rate_limiters.len() as u32).map(Gate::RateLimiter);
        let bulkheads = (0..self.bulkheads.len() as u32).map(Gate::Bulkhead);
        let shapers = (0..self.shapers.len() as u32).map(Gate::Shaper);
        rate_limiters.chain(bulkheads).chain(shapers)
    }

    /// A gate's place among every gate, for what is kept per gate of any
    /// kind (the time series' counters).
    pub fn index(&self, gate: Gate) -> usize {
        let (rate_limiters, bulkheads) = (self.rate_limiters.len(), self.bulkheads.len());
        match gate {
            Gate::RateLimiter(id) => id as usize,
            Gate::Bulkhead(id) => rate_limiters + id as usize,
            Gate::Shaper(id) => rate_limiters + bulkheads + id as usize,
        }
    }

    pub fn len(&self) -> usize {
        self.rate_limiters.len() + self.bulkheads.len() + self.shapers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Target {
    /// The kind, as reports' JSON names it (`load_balancer`).
    pub fn kind_name(self) -> &'static str {
        match self {
            Target::Service(_) => "service",
            Target::Balancer(_) => "load_balancer",
            Target::Cache(_) => "cache",
            Target::Gate(gate) => gate.kind_name(),
            Target::Queue(_) => "queue",
            Target::Topic(_) => "topic",
        }
    }

    /// The kind in a sentence (`a load balancer`), for messages.
    pub fn kind_in_words(self) -> &'static str {
        match self {
            Target::Service(_) => "a service",
            Target::Balancer(_) => "a load balancer",
            Target::Cache(_) => "a cache",
            Target::Gate(gate) => gate.kind_in_words(),
            Target::Queue(_) => "a queue",
            Target::Topic(_) => "a topic",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Total simulated time, warm-up included.
    pub duration: SimDuration,
    /// Statistics ignore everything before this instant.
    pub warmup: SimDuration,
    /// Callees drop work whose caller's deadline has passed when it is dequeued.
    pub deadline_propagation: bool,
    /// The time series records one row per this much simulated time.
    pub sample_interval: SimDuration,
    pub limits: Limits,
    pub sources: Vec<SourceSpec>,
    pub services: Vec<ServiceSpec>,
    pub balancers: Vec<BalancerSpec>,
    pub caches: Vec<CacheSpec>,
    /// Rate limiters and bulkheads.
    pub gates: GateSpecs,
    pub queues: Vec<QueueSpec>,
    pub topics: Vec<TopicSpec>,
    pub consumers: Vec<ConsumerSpec>,
    pub edges: Vec<EdgeSpec>,
    /// Scheduled failures, in file order.
    pub faults: Vec<FaultSpec>,
    /// Prices of what the scenario uses, in file order.
    pub cost: Vec<Price>,
    /// The document this scenario was read from, after its variant's and
    /// sweep point's overrides (without `variants`, `sweep` and `expect`):
    /// what reports record as its provenance. Shared, since replications
    /// clone the scenario.
    pub document: std::sync::Arc<serde_json::Value>,
}

/// What one component costs, in any currency: per hour of each running
/// instance (a service's instances, a consumer group's pollers) and per
/// million requests (attempts reaching a service; a queue's API calls:
/// sends, receive calls and delete calls, a batch counting once, as SQS
/// bills them).
#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    pub component: Priced,
    pub per_instance_hour: f64,
    pub per_million_requests: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priced {
    Service(ServiceId),
    Consumer(u32),
    Queue(u32),
}

/// A token bucket in front of a service or load balancer. An attempt that
/// finds a token passes on to the target as the same attempt; one that
/// finds none is turned away at once (as `throttled`, like an HTTP 429).
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiterSpec {
    pub name: String,
    /// A service or load balancer.
    pub target: Target,
    /// Tokens added per second.
    pub rate_per_s: f64,
    /// The bucket's size; it starts full.
    pub burst: u32,
}

/// A cap on the attempts in progress through it, in front of a service or
/// load balancer. An attempt takes a place and passes on to the target as
/// the same attempt, holding the place until its caller has its answer or
/// stops waiting; with every place taken it waits in line (up to
/// `max_waiting`, at most `max_wait`) or is turned away as `rejected`.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkheadSpec {
    pub name: String,
    /// A service or load balancer.
    pub target: Target,
    pub max_concurrent: u32,
    /// Attempts that may wait for a place; 0 rejects at once.
    pub max_waiting: u32,
    /// How long an attempt may wait before it is rejected; `None` for as
    /// long as its caller waits.
    pub max_wait: Option<SimDuration>,
}

/// A pacer in front of a service or load balancer: attempts pass at most
/// `rate_per_s` a second, evenly spaced (the generic cell rate algorithm);
/// one that comes early is held back until its turn, as the same attempt,
/// and one whose turn is more than `max_delay` away is turned away at once
/// as `throttled`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShaperSpec {
    pub name: String,
    /// A service or load balancer.
    pub target: Target,
    pub rate_per_s: f64,
    pub max_delay: SimDuration,
}

/// Something going wrong for a while, on a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub target: FaultTarget,
    pub at: SimDuration,
    /// How long it lasts (for a crash: until the instance is back).
    pub duration: SimDuration,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Arrivals are refused at once (`hang: false`, connection refused) or
    /// accepted and never answered (`hang: true`, a black hole).
    Outage { hang: bool },
    /// Service times are multiplied by `factor`.
    Slowdown { factor: f64 },
    /// Requests fail with this extra probability.
    Errors { error_rate: f64 },
    /// The instance dies: work queued and in service is lost (callers see an
    /// error), and it refuses arrivals until it restarts.
    Crash,
    /// Every attempt on the affected edges takes this much longer to arrive.
    Latency { added: Dist },
    /// This fraction of each instance's workers is unavailable.
    CapacityLoss { fraction: f64 },
    /// A cache is emptied at the start and stores nothing for the duration
    /// (a restart): every request misses.
    Flush,
    /// A stop-the-world pause for the duration: nothing is served, work in
    /// service is frozen, arrivals queue.
    Pause,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultTarget {
    /// Every instance of a service.
    Service(ServiceId),
    /// One instance (0-based) of a service.
    Instance { service: ServiceId, index: u32 },
    /// Call edges (a latency fault).
    Edges(Vec<EdgeId>),
    /// A cache (a flush).
    Cache(CacheId),
    /// A consumer group's pollers, or one of them.
    Consumer {
        consumer: ConsumerId,
        poller: Option<u32>,
    },
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Outage { hang: false } => "outage",
            FaultKind::Outage { hang: true } => "outage (hang)",
            FaultKind::Slowdown { .. } => "slowdown",
            FaultKind::Errors { .. } => "errors",
            FaultKind::Crash => "crash",
            FaultKind::Latency { .. } => "latency",
            FaultKind::CapacityLoss { .. } => "capacity loss",
            FaultKind::Flush => "flush",
            FaultKind::Pause => "pause",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The run stops, with a message, after this many events.
    pub max_events: u64,
    /// The run stops, with a message, when this many requests are in flight.
    pub max_in_flight: u64,
    /// The run stops, with a message, when queues hold this many messages.
    pub max_messages: u64,
    /// The run stops, with a message, after this many events in a row at one
    /// simulated instant: work that takes no simulated time (a closed loop
    /// with no think time calling a service with no service time) would
    /// otherwise spin until `max_events`.
    pub max_events_at_one_instant: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_in_flight: 1_000_000,
            max_messages: 10_000_000,
            max_events_at_one_instant: 10_000_000,
        }
    }
}

/// `repr(C)` and aligned to a line of memory, to keep what every request
/// reads (its edge, whether it is a job, its load) in that first line, as
/// in [`EdgeSpec`]; the job is boxed, so that its fields do not push the
/// load into another line.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct SourceSpec {
    /// The edge from this source into the system, with its call policy.
    pub edge: EdgeId,
    /// How critical its requests are, downstream calls included.
    pub class: Class,
    /// Each request submits an asynchronous job and polls for its end.
    pub job: Option<Box<JobSpec>>,
    pub load: Load,
    /// Which key each request asks for; without a model, every request has
    /// a key of its own (its sequence number).
    pub keys: Option<crate::engine::keys::KeyModel>,
    pub name: String,
}

/// A source's requests as asynchronous jobs: the source's edge submits the
/// job (the API answers with an id), the job enters `queue` when the client
/// hears it was accepted, and the client polls over `poll_edge` until it
/// sees the job finished or failed, or its `deadline` passes.
#[derive(Clone, Debug)]
pub struct JobSpec {
    pub queue: u32,
    /// The edge from the source to the status endpoint, one attempt per poll.
    pub poll_edge: EdgeId,
    pub poll: PollPolicy,
    /// The client stops waiting this long after it started the submit.
    pub deadline: Option<SimDuration>,
}

/// The wait before each poll.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollPolicy {
    /// Constant (`interval`) or exponential (from `interval`, to its cap).
    pub backoff: Backoff,
    pub jitter: Jitter,
    /// The status service's answer says when to come back: the expected
    /// time left (recent jobs' mean time to finish, less this job's age),
    /// within `interval` and the cap; `backoff` is then the bounds only.
    pub retry_after: bool,
    /// The shortest wait `retry_after` asks for, and the longest.
    pub interval: SimDuration,
    pub max_interval: SimDuration,
}

/// A request's criticality, as Google's SRE book describes it (CRITICAL,
/// the default, and SHEDDABLE): a service serving `priority` takes the
/// most critical first and, when full, drops the least critical first.
/// Ordered from most to least critical.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Critical,
    #[default]
    Default,
    Sheddable,
}

impl Class {
    pub const NAMES: [&'static str; 3] = ["critical", "default", "sheddable"];

    pub fn name(self) -> &'static str {
        Class::NAMES[self as usize]
    }
}

/// `repr(C, u8)`, with an open loop's shape boxed and first, so that what
/// each arrival reads (whether the rate is shaped, the interarrival time's
/// distribution) follows the tag within the first line of its source's
/// [`SourceSpec`].
#[derive(Clone, Debug)]
#[repr(C, u8)]
pub enum Load {
    /// Requests arrive regardless of how the system copes (open loop); with a
    /// shape, the rate varies in time (Poisson arrivals only).
    Open {
        shape: Option<Box<Shape>>,
        interarrival: Dist,
        rate_per_second: f64,
    },
    /// A fixed population of clients, each waiting for its response and then
    /// thinking before it sends the next request (closed loop).
    Closed { clients: u32, think_time: Dist },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    Fifo,
    Lifo,
    /// Fifo while the queue is short, lifo once it holds more than
    /// `threshold` (Facebook's adaptive LIFO): under overload the newest
    /// requests, whose callers are still waiting, are served first.
    AdaptiveLifo {
        threshold: u32,
    },
    /// Every request admitted is in service at once, sharing the workers'
    /// capacity equally (a CPU, a web server with more threads than cores):
    /// n requests each progress at min(1, workers / n) of full speed. At
    /// most workers + queue capacity are admitted; no one waits in line.
    ProcessorSharing,
    /// Strict priority by class (critical, then default, then sheddable),
    /// oldest first within a class; when the queue is full, or the
    /// concurrency limit reached, an arrival displaces the newest waiting
    /// request of a less critical class.
    Priority,
}

/// How many requests an instance admits at once (queued or in service);
/// arrivals beyond the limit are shed at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConcurrencyLimit {
    Fixed {
        limit: u32,
    },
    /// Netflix concurrency-limits' AIMD: +1 when a request finishes within
    /// `latency_threshold` while the limit is half used, × `backoff_ratio`
    /// when one is slower or is shed.
    Aimd {
        initial_limit: u32,
        min_limit: u32,
        max_limit: u32,
        backoff_ratio: f64,
        latency_threshold: SimDuration,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// Downstream calls one after another; the first failure fails the request.
    Sequential,
    /// All downstream calls at once; the request succeeds when all do.
    Parallel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RoundRobin,
    Random,
    LeastOutstanding,
    PowerOfTwoChoices,
    /// Smooth weighted round robin (as nginx): each backend in proportion to its weight.
    WeightedRoundRobin,
    /// A hash ring over the request key: the same key, the same instance.
    ConsistentHash,
}

impl Strategy {
    pub const ALL: [Strategy; 6] = [
        Strategy::RoundRobin,
        Strategy::Random,
        Strategy::LeastOutstanding,
        Strategy::PowerOfTwoChoices,
        Strategy::WeightedRoundRobin,
        Strategy::ConsistentHash,
    ];
    pub const NAMES: [&'static str; 6] = [
        "round_robin",
        "random",
        "least_outstanding",
        "power_of_two_choices",
        "weighted_round_robin",
        "consistent_hash",
    ];

    pub fn name(self) -> &'static str {
        let index = Self::ALL.iter().position(|&s| s == self).unwrap_or(0);
        Self::NAMES[index]
    }
}

/// How a router treats its instances beyond the strategy: weights, the hash
/// ring's size, and taking failing instances out.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RoutingOptions {
    /// Weight per backend service (balancers with weighted round robin); empty: all 1.
    pub weights: Vec<u32>,
    /// Points per instance on the consistent-hash ring.
    pub virtual_nodes: u32,
    pub outlier_detection: Option<OutlierSpec>,
    pub health_check: Option<HealthCheckSpec>,
}

/// Envoy's outlier detection (consecutive failures).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierSpec {
    /// Failures in a row (errors, rejections, timeouts) that eject an instance.
    pub consecutive_5xx: u32,
    /// How often ejections are reviewed and expired ones returned.
    pub interval: SimDuration,
    /// An ejection lasts this × the number of times the instance has been ejected.
    pub base_ejection_time: SimDuration,
    /// At most this fraction of instances ejected at once (always at least one).
    pub max_ejection_fraction: f64,
}

/// Active health checks: a probe per instance every interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthCheckSpec {
    pub interval: SimDuration,
    /// Failed probes in a row that take an instance out.
    pub unhealthy_threshold: u32,
    /// Passed probes in a row that put it back.
    pub healthy_threshold: u32,
}

/// `repr(C)` and aligned to a line of memory, with what every request reads
/// (workers, queue, discipline, queue timeout, error rate, downstream
/// calls, service time) in its first two lines, as in [`EdgeSpec`].
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct ServiceSpec {
    /// Workers per instance.
    pub workers: u32,
    /// Queue capacity per instance (requests waiting, not those in service).
    pub queue_capacity: u32,
    pub discipline: Discipline,
    /// Requests that waited longer than this are shed when dequeued.
    pub queue_timeout: Option<SimDuration>,
    pub error_rate: f64,
    pub call_mode: CallMode,
    pub calls: Vec<EdgeId>,
    pub service_time: Dist,
    pub slowdown_with_load: Option<LoadSlowdown>,
    pub concurrency_limit: Option<ConcurrencyLimit>,
    pub instances: u32,
    /// How calls addressed to the service are spread over its instances.
    pub balancing: Strategy,
    pub routing: RoutingOptions,
    pub autoscaling: Option<AutoscalingSpec>,
    pub pauses: Option<PauseSpec>,
    pub name: String,
}

/// Stop-the-world pauses (garbage collection, compaction) of each instance,
/// independently: the time from the end of one pause to the start of the
/// next is drawn from `every`, its length from `duration`. While paused an
/// instance serves nothing: work in service is frozen and resumes where it
/// stopped, arrivals wait in the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct PauseSpec {
    pub every: Dist,
    pub duration: Dist,
}

/// A server that gets less efficient as it gets busier (contention for
/// locks, cores and caches; coordination between requests). A job that
/// starts while n requests are in service at its instance (itself
/// included) takes its drawn service time × (1 + σ(n − 1) + κ·n(n − 1)),
/// plus β(n − 1): Gunther's Universal Scalability Law with contention σ and
/// coherency κ, and a fixed cost β per other request. Throughput n / S(n)
/// then peaks at n* = √((1 − σ)/κ) and falls beyond it, so a backlog that
/// pushes concurrency past the peak keeps the server slow after the
/// trigger has gone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadSlowdown {
    pub contention: f64,
    pub coherency: f64,
    /// Nanoseconds added per other request in service.
    pub per_request: f64,
}

impl LoadSlowdown {
    /// The service time of a job whose drawn work is `work` nanoseconds,
    /// started with `in_service` requests in service (itself included).
    pub fn stretch(&self, work: f64, in_service: u32) -> f64 {
        let others = f64::from(in_service.max(1) - 1);
        work * self.factor(in_service) + self.per_request * others
    }

    /// The multiplier 1 + σ(n − 1) + κ·n(n − 1) alone.
    pub fn factor(&self, in_service: u32) -> f64 {
        let n = f64::from(in_service.max(1));
        let others = n - 1.0;
        1.0 + self.contention * others + self.coherency * n * others
    }

    /// The concurrency at which throughput n / S(n) peaks, if it does.
    pub fn peak_concurrency(&self) -> Option<f64> {
        (self.coherency > 0.0)
            .then(|| libm::sqrt((1.0 - self.contention).max(0.0) / self.coherency))
    }
}

/// A cache in front of a target: hits answer after `hit_latency`, misses
/// call the target over `backend_edge` and fill.
#[derive(Clone, Debug)]
pub struct CacheSpec {
    pub name: String,
    pub backend_edge: EdgeId,
    pub lookup: CacheLookup,
    pub hit_latency: Dist,
    /// Start filled with the most popular keys (staggered expiry) instead of empty.
    pub warm: bool,
    /// Concurrent misses for a key wait for one backend call (single flight).
    pub coalescing: bool,
    /// An entry this far past its TTL is still served while it is refreshed.
    pub stale_while_revalidate: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CacheLookup {
    /// Real entries: keys, capacity, eviction and time to live.
    Entries {
        capacity: u32,
        eviction: Eviction,
        /// `None`: entries never expire.
        ttl: Option<SimDuration>,
        refresh_on_hit: bool,
    },
    /// A fixed chance of a hit, for quick sketches.
    HitRatio(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    Lru,
    Lfu,
    Fifo,
}

/// Kubernetes HPA-style autoscaling of a service's instances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoscalingSpec {
    pub metric: ScalingMetric,
    /// The metric's target: a utilisation fraction, or requests per instance.
    pub target: f64,
    pub evaluation_period: SimDuration,
    /// No change while metric ÷ target is within 1 ± tolerance.
    pub tolerance: f64,
    /// A scale-up uses the lowest recommendation of this window, a
    /// scale-down the highest of its own, so one noisy reading cannot flap.
    pub scale_up_stabilization: SimDuration,
    pub scale_down_stabilization: SimDuration,
    pub min_instances: u32,
    pub max_instances: u32,
    /// A new instance takes traffic only this long after it is added.
    pub cold_start: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingMetric {
    /// Busy workers ÷ workers of ready instances, averaged over the period.
    Utilisation,
    /// Requests waiting per ready instance, averaged over the period.
    QueueLength,
    /// Requests waiting or in service per ready instance, averaged.
    Concurrency,
}

impl ScalingMetric {
    pub const NAMES: [&'static str; 3] = ["utilisation", "queue_length", "concurrency"];
}

impl ServiceSpec {
    /// Instances to allocate: the initial count, or the autoscaling maximum.
    pub fn instance_slots(&self) -> u32 {
        self.autoscaling
            .map_or(self.instances, |a| a.max_instances.max(self.instances))
    }
}

#[derive(Clone, Debug)]
pub struct BalancerSpec {
    pub name: String,
    pub strategy: Strategy,
    pub routing: RoutingOptions,
    pub backends: Vec<ServiceId>,
}

/// A caller → target edge and the policy every call on it follows.
///
/// `repr(C)`, here and in [`CallPolicy`], to keep the fields every attempt
/// reads (the target, the timeout, the deadline, hedging) at the front,
/// together in a line or two of memory rather than wherever the compiler's
/// layout puts them, and aligned so that the front starts a line: with a
/// thousand edges taking turns, each line is a cache miss.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct EdgeSpec {
    pub target: Target,
    /// The share of a caller's requests that make this call (1: all).
    pub probability: f64,
    pub policy: CallPolicy,
    /// The caller does not wait for the answer (an asynchronous send).
    pub fire_and_forget: bool,
    pub caller: String,
    pub target_name: String,
}

#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct CallPolicy {
    /// The caller abandons an attempt after this long (Envoy's per_try_timeout).
    pub timeout_per_attempt: Option<SimDuration>,
    /// The whole call, retries included, fails after this long (a gRPC deadline).
    pub deadline: Option<SimDuration>,
    /// Extra attempts sent while the first is still out (instead of retries).
    pub hedging: Option<HedgingSpec>,
    /// Attempts in all, the first included (gRPC and AWS SDK `max_attempts`).
    pub max_attempts: u32,
    pub retry_on: RetryOn,
    pub backoff: Backoff,
    pub jitter: Jitter,
    /// What may stop a retry the policy would otherwise make.
    pub retry_limit: Option<RetryLimit>,
    /// Fails attempts fast while the target looks unhealthy.
    pub breaker: Option<BreakerSpec>,
    /// The caller's own limit on the attempts it sends on this call.
    pub rate_limit: Option<CallRateLimit>,
    /// The network between caller and target.
    pub network: Option<NetworkSpec>,
}

/// The network an edge crosses: each attempt takes `latency` to reach the
/// target and `latency` again (a fresh draw) for its answer to come back,
/// and is lost on the way with probability `loss`: never delivered, so the
/// caller notices only by its timeout.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    pub latency: Option<Dist>,
    pub loss: f64,
}

/// A client-side token bucket (Guava's `RateLimiter`, a client library's
/// throttle): every attempt takes a token; one that finds none waits for
/// the next token if that comes within `max_wait`, and otherwise fails at
/// once as `throttled`, unsent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallRateLimit {
    pub rate_per_s: f64,
    pub burst: u32,
    pub max_wait: SimDuration,
}

impl CallPolicy {
    /// One attempt, no timeout: a plain call.
    pub fn single_attempt() -> CallPolicy {
        CallPolicy {
            timeout_per_attempt: None,
            deadline: None,
            max_attempts: 1,
            retry_on: RetryOn::ALL,
            backoff: Backoff::None,
            jitter: Jitter::None,
            retry_limit: None,
            breaker: None,
            hedging: None,
            rate_limit: None,
            network: None,
        }
    }
}

/// A limit on retries shared by every call on an edge, in the style of the
/// client library that made it known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryLimit {
    /// gRPC retry throttling: tokens start at `max_tokens`; a failed attempt
    /// takes one, a successful one gives back `token_ratio`; retries are
    /// allowed only while more than half the tokens remain.
    Throttle { max_tokens: f64, token_ratio: f64 },
    /// Envoy's retry budget: retries in progress may be at most
    /// `budget_percent` of the calls in progress, or `min_retry_concurrency`,
    /// whichever is more.
    Budget {
        budget_fraction: f64,
        min_retry_concurrency: u32,
    },
    /// The AWS SDK retry quota (standard mode): a retry takes `retry_cost`
    /// (`timeout_retry_cost` after a timeout) from a pool of `capacity`; a
    /// retried call that succeeds gives back what its last retry took, and a
    /// call that succeeds first time adds `no_retry_increment`.
    Quota {
        capacity: u32,
        retry_cost: u32,
        timeout_retry_cost: u32,
        no_retry_increment: u32,
    },
    /// A breaker on retries alone: while at least `failure_rate_threshold`
    /// of the edge's last `sliding_window_size` attempts failed (once it
    /// has seen `minimum_number_of_calls`), retries are refused; first
    /// attempts always go, so it closes by itself when they succeed again.
    Breaker {
        failure_rate_threshold: f64,
        sliding_window_size: u32,
        minimum_number_of_calls: u32,
    },
}

/// A count-based circuit breaker with Resilience4j's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerSpec {
    /// Open when at least this fraction of the window failed.
    pub failure_rate_threshold: f64,
    /// The last this-many attempt outcomes are the window.
    pub sliding_window_size: u32,
    /// No verdict before the window holds this many outcomes.
    pub minimum_number_of_calls: u32,
    pub wait_duration_in_open_state: SimDuration,
    pub permitted_calls_in_half_open_state: u32,
    /// An attempt slower than this counts as slow, whatever its result.
    pub slow_call_duration_threshold: SimDuration,
    /// Open when at least this fraction of the window was slow.
    pub slow_call_rate_threshold: f64,
}

/// gRPC's hedging policy: up to `max_attempts` in all, one more every
/// `hedging_delay` while none has answered; the first success wins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HedgingSpec {
    /// Non-zero, which also lets `Option<HedgingSpec>` take no more room
    /// than the spec itself (see [`EdgeSpec`]).
    pub max_attempts: std::num::NonZeroU32,
    pub hedging_delay: SimDuration,
}

/// Which failures of an attempt are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn {
    pub error: bool,
    pub timeout: bool,
    pub rejected: bool,
    pub throttled: bool,
}

impl RetryOn {
    pub const ALL: RetryOn = RetryOn {
        error: true,
        timeout: true,
        rejected: true,
        throttled: true,
    };
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backoff {
    None,
    Constant {
        delay: SimDuration,
    },
    /// base · multiplier^(retry − 1), capped at max (gRPC's retry policy).
    Exponential {
        base: SimDuration,
        multiplier: f64,
        max: SimDuration,
    },
}

/// Randomisation of the backoff delay, as in the AWS Architecture Blog's
/// "Exponential Backoff and Jitter".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// uniform(0, delay)
    Full,
    /// delay/2 + uniform(0, delay/2)
    Equal,
    /// min(max, uniform(base, 3 · previous delay))
    Decorrelated,
}

impl Scenario {
    /// The disturbance every source is judged against: from the first
    /// surge or fault to the end of the last. A surge on one source is a
    /// disturbance to every other that shares the system with it (its
    /// shoppers may never recover from its analysts' surge), so each source
    /// gets a window, and a verdict, when any source surges or anything
    /// fails; `None` if nothing does. It walks every source: compute it
    /// once, not per source.
    pub fn disturbance_window(&self) -> Option<(SimDuration, SimDuration)> {
        let surges = self.sources.iter().filter_map(|source| match &source.load {
            Load::Open {
                shape: Some(shape), ..
            } => shape.trigger_window(),
            _ => None,
        });
        let faults = self.faults.iter().map(|f| (f.at, f.at + f.duration));
        surges
            .chain(faults)
            .reduce(|(start, end), (from, to)| (start.min(from), end.max(to)))
    }

    pub fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Service(id) => &self.services[id as usize].name,
            Target::Balancer(id) => &self.balancers[id as usize].name,
            Target::Cache(id) => &self.caches[id as usize].name,
            Target::Gate(gate) => self.gates.name(gate),
            Target::Queue(id) => &self.queues[id as usize].name,
            Target::Topic(id) => &self.topics[id as usize].name,
        }
    }
}
