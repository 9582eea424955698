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

use super::yaml::Spanned;

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
}

/// A traffic source and the policy of the call it makes into the system.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub target: Option<Text>,
    pub arrivals: Option<Text>,
    pub rate: Option<Text>,
    pub shape: Option<Spanned<RawShape>>,
    pub clients: Option<Text>,
    pub think_time: Option<Text>,
    pub timeout_per_attempt: Option<Text>,
    pub deadline: Option<Text>,
    pub retry: Option<Spanned<RawRetry>>,
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
    /// A CSV file of `time_s,rate_per_s` rows for `kind: trace`.
    pub file: Option<Text>,
    /// `step` (hold each value) or `linear` between points.
    pub interpolate: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub instances: Option<Text>,
    pub balancer: Option<Text>,
    pub workers: Option<Text>,
    pub queue: Option<RawQueue>,
    pub service_time: Option<Text>,
    pub error_rate: Option<Text>,
    pub call_mode: Option<Text>,
    pub calls: Option<Vec<Spanned<RawCall>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    pub capacity: Option<Text>,
    pub discipline: Option<Text>,
}

/// One downstream call made while serving a request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    pub target: Option<Text>,
    pub timeout_per_attempt: Option<Text>,
    pub deadline: Option<Text>,
    pub retry: Option<Spanned<RawRetry>>,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadBalancer {
    pub strategy: Option<Text>,
    pub backends: Option<Vec<Text>>,
}
