//! The scenario file exactly as written: serde types, nothing resolved.
//!
//! Every leaf is kept as located text ([`Text`]) and parsed during validation,
//! so that a bad duration, a negative rate and a dangling name are reported
//! together, each with its line and column, instead of serde stopping at the
//! first. Every struct denies unknown keys, so a typo is never silently
//! ignored. Component maps keep the order of the file, which is the order of
//! the report.

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::Spanned;

/// A scalar as written, with its position.
pub type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Text>,
    pub description: Option<Text>,
    pub seed: Option<Text>,
    pub duration: Option<Text>,
    pub warmup: Option<Text>,
    pub deadline_propagation: Option<Text>,
    pub sample_interval: Option<Text>,
    pub limits: Option<RawLimits>,
    /// A place for YAML anchors (`&name`) that other keys merge with `<<: *name`.
    pub templates: Option<IgnoredAny>,
    pub sources: Option<Spanned<IndexMap<String, Spanned<RawSource>>>>,
    pub services: Option<Spanned<IndexMap<String, Spanned<RawService>>>>,
    pub load_balancers: Option<IndexMap<String, Spanned<RawLoadBalancer>>>,
    /// Caches in front of services or balancers.
    pub caches: Option<IndexMap<String, Spanned<RawCache>>>,
    /// Token-bucket rate limiters in front of services or balancers.
    pub rate_limiters: Option<IndexMap<String, Spanned<RawRateLimiter>>>,
    /// Concurrency limits in front of services or balancers.
    pub bulkheads: Option<IndexMap<String, Spanned<RawBulkhead>>>,
    /// Rate shapers in front of services or balancers.
    pub shapers: Option<IndexMap<String, Spanned<RawShaper>>>,
    /// Message queues (SQS semantics).
    pub queues: Option<IndexMap<String, Spanned<RawMessageQueue>>>,
    /// Topics that copy each message to their subscribed queues.
    pub topics: Option<IndexMap<String, Spanned<RawTopic>>>,
    /// Consumer groups polling queues.
    pub consumers: Option<IndexMap<String, Spanned<RawConsumer>>>,
    /// Scheduled failures.
    pub faults: Option<Vec<Spanned<RawFault>>>,
    /// Prices of what the scenario uses, by component name.
    pub cost: Option<IndexMap<String, Spanned<RawPrice>>>,
    /// Named sets of overrides, compared side by side by `stampede compare`.
    pub variants: Option<IndexMap<String, Spanned<RawVariant>>>,
    /// The default parameter sweep of `stampede sweep`.
    pub sweep: Option<Spanned<RawSweep>>,
    /// Thresholds `stampede check` tests, like `p99(users.latency) < 300ms`.
    pub expect: Option<Vec<Text>>,
}

/// A variant: the base scenario with some keys set to other values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub description: Option<Text>,
    /// Key path (wildcards allowed) → new value.
    pub set: Option<IndexMap<String, Spanned<serde_json::Value>>>,
    /// Thresholds of this variant: added to the top-level ones, replacing
    /// those on the same measure.
    pub expect: Option<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub param: Option<Text>,
    /// A list of values, or a range `FROM..TO:STEP` such as `100/s..1000/s:100/s`.
    pub values: Option<Spanned<serde_json::Value>>,
    /// Variants to sweep (all of them, with the base, if absent).
    pub variants: Option<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_events: Option<Text>,
    pub max_in_flight: Option<Text>,
    pub max_messages: Option<Text>,
    pub max_events_at_one_instant: Option<Text>,
}

/// A traffic source and the policy of the call it makes into the system.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub target: Option<Text>,
    /// How critical its requests are: `critical`, `default` or `sheddable`.
    pub class: Option<Text>,
    pub arrivals: Option<Text>,
    pub rate: Option<Text>,
    pub shape: Option<Spanned<RawShape>>,
    /// The key-popularity model: `zipf(count=100000, exponent=1.1)`.
    pub keys: Option<Text>,
    pub clients: Option<Text>,
    pub think_time: Option<Text>,
    pub timeout_per_attempt: Option<Text>,
    pub deadline: Option<Text>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub hedging: Option<Spanned<RawHedging>>,
    pub rate_limit: Option<Spanned<RawCallRateLimit>>,
    pub network: Option<Spanned<RawNetwork>>,
    /// Each request submits an asynchronous job, which the client then polls for.
    pub job: Option<Spanned<RawJob>>,
}

/// An asynchronous job API as its client sees it: the source's `target`
/// accepts the job and answers with an id, the job waits in `queue` for a
/// consumer, and the client polls `status` until the job has finished,
/// failed, or the client's `deadline` has passed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub queue: Option<Text>,
    pub status: Option<Text>,
    pub poll: Option<Spanned<RawPoll>>,
    pub deadline: Option<Text>,
}

/// How a client waits between polls: `{ interval: 1s }`, backing off with
/// `backoff_multiplier` and `backoff_max`, or as the status service's
/// `Retry-After` says.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    pub interval: Option<Text>,
    pub backoff_multiplier: Option<Text>,
    pub backoff_max: Option<Text>,
    pub jitter: Option<Text>,
    pub retry_after: Option<Text>,
    pub timeout: Option<Text>,
}

/// A time-varying rate: `{ kind: spike, at: 20s, duration: 10s, multiplier: 3 }`,
/// a ramp, a sine, a list of points, or a CSV trace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShape {
    pub kind: Option<Text>,
    pub at: Option<Text>,
    pub duration: Option<Text>,
    pub multiplier: Option<Text>,
    pub period: Option<Text>,
    pub amplitude: Option<Text>,
    /// `[[0s, 100/s], [30s, 400/s], ...]` for `kind: piecewise`.
    pub points: Option<Vec<Spanned<Vec<Text>>>>,
    /// A CSV file of `time,rate` rows (`30s,400/s`) for `kind: trace`.
    pub file: Option<Text>,
    /// `step` (hold each value) or `linear` between points.
    pub interpolate: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub instances: Option<Text>,
    pub balancer: Option<Text>,
    pub virtual_nodes: Option<Text>,
    pub outlier_detection: Option<Spanned<RawOutlier>>,
    pub health_check: Option<Spanned<RawHealthCheck>>,
    pub workers: Option<Text>,
    pub queue: Option<RawQueue>,
    pub concurrency_limit: Option<Spanned<RawConcurrencyLimit>>,
    pub autoscaling: Option<Spanned<RawAutoscaling>>,
    pub service_time: Option<Text>,
    pub slowdown_with_load: Option<Spanned<RawLoadSlowdown>>,
    pub pauses: Option<Spanned<RawPauses>>,
    pub error_rate: Option<Text>,
    pub call_mode: Option<Text>,
    pub calls: Option<Vec<Spanned<RawCall>>>,
}

/// The price of one component: `{ per_instance_hour: 0.0416 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub per_instance_hour: Option<Text>,
    pub per_million_requests: Option<Text>,
}

/// Stop-the-world pauses of each instance at random (garbage collection).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPauses {
    pub every: Option<Text>,
    pub duration: Option<Text>,
}

/// Service time that grows with the requests in service at an instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadSlowdown {
    pub contention: Option<Text>,
    pub coherency: Option<Text>,
    pub per_request: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    pub capacity: Option<Text>,
    pub discipline: Option<Text>,
    /// Shed requests that waited longer than this.
    pub timeout: Option<Text>,
    /// With `discipline: adaptive_lifo`: serve newest first above this length.
    pub lifo_threshold: Option<Text>,
}

/// An admission limit on requests in progress at each instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConcurrencyLimit {
    /// `fixed` or `aimd`.
    pub kind: Option<Text>,
    pub limit: Option<Text>,
    pub initial_limit: Option<Text>,
    pub min_limit: Option<Text>,
    pub max_limit: Option<Text>,
    pub backoff_ratio: Option<Text>,
    pub latency_threshold: Option<Text>,
}

/// One downstream call made while serving a request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    pub target: Option<Text>,
    /// Do not wait for the answer (an asynchronous send).
    pub fire_and_forget: Option<Text>,
    /// Make the call only this share of the time.
    pub probability: Option<Text>,
    pub timeout_per_attempt: Option<Text>,
    pub deadline: Option<Text>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub hedging: Option<Spanned<RawHedging>>,
    pub rate_limit: Option<Spanned<RawCallRateLimit>>,
    pub network: Option<Spanned<RawNetwork>>,
}

/// Resilience4j's circuit breaker parameters (count-based window).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failure_rate_threshold: Option<Text>,
    pub sliding_window_size: Option<Text>,
    pub minimum_number_of_calls: Option<Text>,
    pub wait_duration_in_open_state: Option<Text>,
    pub permitted_calls_in_half_open_state: Option<Text>,
    pub slow_call_duration_threshold: Option<Text>,
    pub slow_call_rate_threshold: Option<Text>,
}

/// A caller's own rate limit on a call: `{ rate: 100/s, burst: 10, max_wait: 50ms }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCallRateLimit {
    pub rate: Option<Text>,
    pub burst: Option<Text>,
    pub max_wait: Option<Text>,
}

/// The network an edge crosses: `{ latency: exp(mean=1ms), loss: 0.1% }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub latency: Option<Text>,
    pub loss: Option<Text>,
}

/// gRPC's hedging policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHedging {
    pub max_attempts: Option<Text>,
    pub hedging_delay: Option<Text>,
}

/// gRPC retry throttling.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThrottle {
    pub max_tokens: Option<Text>,
    pub token_ratio: Option<Text>,
}

/// Envoy's retry budget.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub budget_percent: Option<Text>,
    pub min_retry_concurrency: Option<Text>,
}

/// The AWS SDK retry quota.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    pub capacity: Option<Text>,
    pub retry_cost: Option<Text>,
    pub timeout_retry_cost: Option<Text>,
    pub no_retry_increment: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_attempts: Option<Text>,
    pub retry_on: Option<Vec<Text>>,
    pub backoff: Option<Text>,
    pub backoff_base: Option<Text>,
    pub backoff_multiplier: Option<Text>,
    pub backoff_max: Option<Text>,
    pub jitter: Option<Text>,
    pub throttle: Option<Spanned<RawThrottle>>,
    pub budget: Option<Spanned<RawBudget>>,
    pub quota: Option<Spanned<RawQuota>>,
    pub breaker: Option<Spanned<RawRetryBreaker>>,
}

/// A breaker on retries alone: `{ failure_rate_threshold: 20% }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetryBreaker {
    pub failure_rate_threshold: Option<Text>,
    pub sliding_window_size: Option<Text>,
    pub minimum_number_of_calls: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadBalancer {
    pub strategy: Option<Text>,
    pub backends: Option<Vec<Text>>,
    /// One per backend, for `weighted_round_robin`.
    pub weights: Option<Vec<Text>>,
    pub virtual_nodes: Option<Text>,
    pub outlier_detection: Option<Spanned<RawOutlier>>,
    pub health_check: Option<Spanned<RawHealthCheck>>,
}

/// Envoy's outlier detection.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutlier {
    pub consecutive_5xx: Option<Text>,
    pub interval: Option<Text>,
    pub base_ejection_time: Option<Text>,
    pub max_ejection_percent: Option<Text>,
}

/// Active health checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: Option<Text>,
    pub unhealthy_threshold: Option<Text>,
    pub healthy_threshold: Option<Text>,
}

/// A fault: `{ kind: outage, target: db, at: 30s, duration: 10s }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: Option<Text>,
    /// The service (or, for latency, the callee).
    pub target: Option<Text>,
    /// One instance of the target, 0-based; all of them if absent.
    pub instance: Option<Text>,
    /// For latency: only calls from this caller.
    pub caller: Option<Text>,
    pub at: Option<Text>,
    pub duration: Option<Text>,
    /// For an outage: `fail_fast` or `hang`.
    pub mode: Option<Text>,
    pub factor: Option<Text>,
    pub error_rate: Option<Text>,
    pub latency: Option<Text>,
    pub fraction: Option<Text>,
}

/// Kubernetes HPA-style autoscaling.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscaling {
    pub metric: Option<Text>,
    pub target: Option<Text>,
    pub evaluation_period: Option<Text>,
    pub tolerance: Option<Text>,
    pub scale_up_stabilization: Option<Text>,
    pub scale_down_stabilization: Option<Text>,
    pub min_instances: Option<Text>,
    pub max_instances: Option<Text>,
    pub cold_start: Option<Text>,
}

/// A cache in front of a target, and the policy of its calls on a miss.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    pub target: Option<Text>,
    pub capacity: Option<Text>,
    pub eviction: Option<Text>,
    pub ttl: Option<Text>,
    pub refresh_on_hit: Option<Text>,
    pub hit_latency: Option<Text>,
    /// A fixed chance of a hit, instead of real entries.
    pub hit_ratio: Option<Text>,
    /// `cold` (empty) or `warm` (filled with the most popular keys).
    pub start: Option<Text>,
    pub coalescing: Option<Text>,
    pub stale_while_revalidate: Option<Text>,
    pub timeout_per_attempt: Option<Text>,
    pub deadline: Option<Text>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub hedging: Option<Spanned<RawHedging>>,
    pub rate_limit: Option<Spanned<RawCallRateLimit>>,
    pub network: Option<Spanned<RawNetwork>>,
}

/// A token bucket in front of a target: an API gateway's throttling.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimiter {
    pub target: Option<Text>,
    /// Tokens added per second, like `100/s`.
    pub rate: Option<Text>,
    /// The bucket's size: how many requests may pass at once after a quiet spell.
    pub burst: Option<Text>,
}

/// A cap on the attempts in progress through it, in front of a target:
/// Envoy's `max_requests` and `max_pending_requests`, resilience4j's
/// `Bulkhead`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBulkhead {
    pub target: Option<Text>,
    /// Attempts let through at once.
    pub max_concurrent: Option<Text>,
    /// Attempts that may wait for a place; more are rejected at once.
    pub max_waiting: Option<Text>,
    /// How long an attempt may wait for a place before it is rejected.
    pub max_wait: Option<Text>,
}

/// A pacer in front of a target: nginx's `limit_req` with a `burst` and
/// without `nodelay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShaper {
    pub target: Option<Text>,
    /// Attempts let through per second, evenly spaced, like `100/s`.
    pub rate: Option<Text>,
    /// How long an attempt may be held back before it is turned away.
    pub max_delay: Option<Text>,
}

/// A message queue, with SQS's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMessageQueue {
    pub visibility_timeout: Option<Text>,
    pub delay: Option<Text>,
    pub retention: Option<Text>,
    pub capacity: Option<Text>,
    /// `drop_newest`, `drop_oldest` or `block`.
    pub when_full: Option<Text>,
    pub fifo: Option<Text>,
    /// For a FIFO queue: `single` or `key`.
    pub message_group: Option<Text>,
    pub redrive: Option<Spanned<RawRedrive>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedrive {
    pub dead_letter_queue: Option<Text>,
    pub max_receive_count: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub subscribers: Option<Vec<Text>>,
}

/// A consumer group: pollers receiving from a queue and processing batches.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsumer {
    pub queue: Option<Text>,
    pub pollers: Option<Text>,
    pub max_messages: Option<Text>,
    pub wait_time: Option<Text>,
    pub batch_window: Option<Text>,
    pub empty_receive_delay: Option<Text>,
    pub time_per_batch: Option<Text>,
    pub time_per_message: Option<Text>,
    pub failure_rate: Option<Text>,
    pub batch_failure_rate: Option<Text>,
    pub poison_fraction: Option<Text>,
    pub calls: Option<Vec<Spanned<RawCall>>>,
    pub schedule: Option<Spanned<RawSchedule>>,
    pub redelivery: Option<Spanned<RawRedelivery>>,
}

/// How long a failed message stays hidden before its next delivery:
/// `{ backoff_base: 1s, backoff_multiplier: 2, backoff_max: 5m, jitter: full }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedelivery {
    pub backoff_base: Option<Text>,
    pub backoff_multiplier: Option<Text>,
    pub backoff_max: Option<Text>,
    pub jitter: Option<Text>,
}

/// A scheduled batch job: `{ every: 1h }`, `{ every: 10m, first_at: 5m }` or `{ time_of_day: "17:30" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub every: Option<Text>,
    pub first_at: Option<Text>,
    pub time_of_day: Option<Text>,
}
