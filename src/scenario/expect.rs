//! Expectations: thresholds a scenario's results must meet, in the style of
//! k6 thresholds. `stampede check` runs the scenario and tests each one.
//!
//! ```yaml
//! expect:
//!   - p99(users.latency) < 300ms      # a source's end-to-end latency
//!   - p99(db.latency) < 50ms          # a service's latency per hop
//!   - goodput > 180/s                 # all sources together
//!   - amplification(db) <= 2
//!   - success_ratio(users) >= 99%
//!   - recovery_time(users) < 10s      # after a surge
//!   - p99(orders.latency) < 2s        # a queue's send-to-delete latency
//!   - duplicates(orders) <= 0         # and its message counts
//!   - drain_time(orders) < 1m         # its backlog after a disturbance
//! ```
//!
//! Each line is parsed and its component resolved when the scenario loads, so
//! a typo is a located error with a suggestion, like any other key.
//!
//! A measure may name the variant it is read from, and the right-hand side
//! may be another variant's measure instead of a limit, so that a gate can
//! say one defence must stay better than another:
//!
//! ```yaml
//! expect:
//!   - p99(users.latency)[backoff] < p99(users.latency)[no-backoff]
//! ```
//!
//! A variant may have its own `expect:` beside its `set:`: its lines are
//! added to the top-level ones, and a line on the same measure replaces
//! every top-level line on that measure.

use super::Scenario;
use super::suggest::did_you_mean;
use super::units::{parse_duration, parse_number, parse_rate, unknown_word};
use super::yaml::Position;

/// What is measured, in canonical units: milliseconds for latencies, per
/// second for rates, fractions for ratios, seconds for recovery.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// A latency statistic of a source (end to end) or service (per hop).
    Latency {
        statistic: Statistic,
        component: String,
        of_source: bool,
        /// A message queue's latency from first send to delete.
        of_queue: bool,
        queue_wait: bool,
    },
    /// A message count of a queue.
    Messages {
        queue: String,
        count: MessageCount,
    },
    /// How long a queue's backlog took to drain after a disturbance, in seconds.
    DrainTime(String),
    Goodput(Option<String>),
    Throughput(Option<String>),
    SuccessRatio(Option<String>),
    WorkPerRequest,
    Amplification(String),
    Utilisation(String),
    QueueLength(String),
    Rejected(String),
    Abandoned(String),
    RecoveryTime(String),
    /// The run's cost (the `cost:` block's prices): in all, or per 1,000
    /// requests succeeded, messages processed or jobs completed.
    Cost(CostMeasure),
    /// A job source's jobs: the system's time to finish them, or the
    /// polling delay between their end and the poll that saw it.
    JobLatency {
        statistic: Statistic,
        source: String,
        view: JobLatencyView,
    },
    /// A job source's jobs counted by outcome, or its polls per job.
    Jobs {
        source: String,
        count: JobCount,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobLatencyView {
    System,
    PollingDelay,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobCount {
    Completed,
    Rejected,
    Failed,
    Unfinished,
    Abandoned,
    PollsPerJob,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostMeasure {
    Total,
    PerThousandRequests,
    PerThousandMessages,
    PerThousandJobs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageCount {
    Duplicates,
    DeadLettered,
    Expired,
    Dropped,
    DepthMax,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Mean,
    P50,
    P90,
    P99,
    P999,
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => measured < limit,
            Comparison::LessOrEqual => measured <= limit,
            Comparison::Greater => measured > limit,
            Comparison::GreaterOrEqual => measured >= limit,
        }
    }
}

/// What a measure is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    /// A limit in the measure's canonical unit.
    Limit(f64),
    /// The same kind of measure in another variant's run.
    Measure { measure: Measure, variant: String },
}

/// The canonical unit of a measure, which a comparison's two sides share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Seconds,
    PerSecond,
    Fraction,
    Number,
}

impl Measure {
    pub fn unit(&self) -> Unit {
        match self {
            Measure::Latency { .. } | Measure::JobLatency { .. } => Unit::Millis,
            Measure::RecoveryTime(_) | Measure::DrainTime(_) => Unit::Seconds,
            Measure::Goodput(_) | Measure::Throughput(_) => Unit::PerSecond,
            Measure::SuccessRatio(_) | Measure::Utilisation(_) => Unit::Fraction,
            _ => Unit::Number,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// As written, for reports.
    pub text: String,
    pub measure: Measure,
    /// The variant the measure is read from; `None`: each variant checked.
    pub variant: Option<String>,
    pub comparison: Comparison,
    pub bound: Bound,
    /// Where it is written in the scenario file (line 0 when unknown).
    pub position: Position,
}

impl Expectation {
    /// The fixed limit, if the expectation has one.
    pub fn limit(&self) -> Option<f64> {
        match self.bound {
            Bound::Limit(limit) => Some(limit),
            Bound::Measure { .. } => None,
        }
    }

    /// Whether it compares variants (and is checked once per file, not per variant).
    pub fn compares_variants(&self) -> bool {
        self.variant.is_some()
    }
}

const FUNCTIONS: [&str; 32] = [
    "mean",
    "p50",
    "p90",
    "p99",
    "p999",
    "max",
    "goodput",
    "throughput",
    "success_ratio",
    "work_per_request",
    "amplification",
    "utilisation",
    "queue_length",
    "rejected",
    "abandoned",
    "recovery_time",
    "duplicates",
    "dead_lettered",
    "expired",
    "dropped",
    "depth_max",
    "drain_time",
    "cost",
    "cost_per_1000_requests",
    "cost_per_1000_messages",
    "cost_per_1000_jobs",
    "jobs_completed",
    "jobs_rejected",
    "jobs_failed",
    "jobs_unfinished",
    "jobs_abandoned",
    "polls_per_job",
];

/// Parses one expectation against the components of `scenario`; a
/// `[variant]` after a measure must be one of `variants`.
pub fn parse_expectation(
    text: &str,
    scenario: &Scenario,
    variants: &[&str],
) -> Result<Expectation, String> {
    let (left, comparison, right) = split_comparison(text)?;
    let (left, variant) = split_variant(left, variants)?;
    let measure = parse_measure(left, scenario)?;
    let bound = match split_variant(right, variants)? {
        (right, Some(other)) => {
            let other_measure = parse_measure(right, scenario)?;
            if other_measure.unit() != measure.unit() {
                return Err(format!(
                    "`{left}` and `{right}` are measured in different units: compare like with like"
                ));
            }
            Bound::Measure {
                measure: other_measure,
                variant: other,
            }
        }
        (right, None) if right.contains('(') => {
            return Err(format!(
                "`{right}` needs the variant it is read from, like `{right}[base]`"
            ));
        }
        (right, None) => Bound::Limit(limit(&measure, right)?),
    };
    if variant.is_none() && matches!(bound, Bound::Measure { .. }) {
        return Err(format!(
            "`{left}` needs the variant it is read from, like `{left}[base]`, when it is compared with another variant"
        ));
    }
    Ok(Expectation {
        text: text.trim().to_string(),
        measure,
        variant,
        comparison,
        bound,
        position: Position::default(),
    })
}

/// `p99(users.latency)[backoff]` → the measure and the variant named.
fn split_variant<'a>(
    text: &'a str,
    variants: &[&str],
) -> Result<(&'a str, Option<String>), String> {
    let Some(inner) = text.strip_suffix(']') else {
        return Ok((text, None));
    };
    let (measure, name) = inner
        .rsplit_once('[')
        .ok_or_else(|| format!("`{text}` has a `]` without its `[`"))?;
    let name = name.trim();
    if variants.contains(&name) {
        return Ok((measure.trim(), Some(name.to_string())));
    }
    Err(match did_you_mean(name, variants.iter().copied()) {
        Some(close) => format!("no variant is named `{name}` (did you mean `{close}`?)"),
        None => format!(
            "no variant is named `{name}`; the variants are: {}",
            variants.join(", ")
        ),
    })
}

fn parse_measure(text: &str, scenario: &Scenario) -> Result<Measure, String> {
    let (function, argument) = match text.split_once('(') {
        Some((function, rest)) => {
            let argument = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("`{text}` is missing its closing `)`"))?;
            (function.trim(), Some(argument.trim()))
        }
        None => (text, None),
    };
    measure(function, argument, scenario)
}

fn split_comparison(text: &str) -> Result<(&str, Comparison, &str), String> {
    for (operator, comparison) in [
        ("<=", Comparison::LessOrEqual),
        (">=", Comparison::GreaterOrEqual),
        ("<", Comparison::Less),
        (">", Comparison::Greater),
    ] {
        if let Some((left, right)) = text.split_once(operator) {
            return Ok((left.trim(), comparison, right.trim()));
        }
    }
    Err(format!(
        "`{text}` has no comparison: write it like `p99(users.latency) < 300ms`"
    ))
}

fn statistic(name: &str) -> Option<Statistic> {
    Some(match name {
        "mean" => Statistic::Mean,
        "p50" => Statistic::P50,
        "p90" => Statistic::P90,
        "p99" => Statistic::P99,
        "p999" => Statistic::P999,
        "max" => Statistic::Max,
        _ => return None,
    })
}

fn measure(function: &str, argument: Option<&str>, scenario: &Scenario) -> Result<Measure, String> {
    if let Some(statistic) = statistic(function) {
        let argument = argument.ok_or_else(|| {
            format!("`{function}` needs a component: `{function}(users.latency)`")
        })?;
        return latency(statistic, argument, scenario);
    }
    let source = |name: Option<&str>| name.map(|n| resolve(n, scenario, true)).transpose();
    let service = |name: Option<&str>| {
        let name = name.ok_or_else(|| format!("`{function}` needs a service: `{function}(db)`"))?;
        resolve(name, scenario, false)
    };
    Ok(match function {
        "goodput" => Measure::Goodput(source(argument)?),
        "throughput" => Measure::Throughput(source(argument)?),
        "success_ratio" => Measure::SuccessRatio(source(argument)?),
        "work_per_request" => Measure::WorkPerRequest,
        "amplification" => Measure::Amplification(service(argument)?),
        "utilisation" => Measure::Utilisation(service(argument)?),
        "queue_length" => Measure::QueueLength(service(argument)?),
        "rejected" => Measure::Rejected(service(argument)?),
        "abandoned" => Measure::Abandoned(service(argument)?),
        "recovery_time" => {
            let name = argument.ok_or("`recovery_time` needs a source: `recovery_time(users)`")?;
            Measure::RecoveryTime(resolve(name, scenario, true)?)
        }
        "drain_time" => Measure::DrainTime(queue_named(function, argument, scenario)?),
        "cost" | "cost_per_1000_requests" | "cost_per_1000_messages" | "cost_per_1000_jobs" => {
            if scenario.cost.is_empty() {
                return Err(format!(
                    "`{function}` needs prices: add a `cost:` block to the scenario"
                ));
            }
            if argument.is_some() {
                return Err(format!(
                    "`{function}` takes no component: write `{function} < 0.5`"
                ));
            }
            Measure::Cost(match function {
                "cost" => CostMeasure::Total,
                "cost_per_1000_requests" => CostMeasure::PerThousandRequests,
                "cost_per_1000_jobs" => CostMeasure::PerThousandJobs,
                _ => CostMeasure::PerThousandMessages,
            })
        }
        "duplicates" | "dead_lettered" | "expired" | "dropped" | "depth_max" => {
            let count = match function {
                "duplicates" => MessageCount::Duplicates,
                "dead_lettered" => MessageCount::DeadLettered,
                "expired" => MessageCount::Expired,
                "dropped" => MessageCount::Dropped,
                _ => MessageCount::DepthMax,
            };
            let queue = queue_named(function, argument, scenario)?;
            Measure::Messages { queue, count }
        }
        "jobs_completed" | "jobs_rejected" | "jobs_failed" | "jobs_unfinished"
        | "jobs_abandoned" | "polls_per_job" => {
            let count = match function {
                "jobs_completed" => JobCount::Completed,
                "jobs_rejected" => JobCount::Rejected,
                "jobs_failed" => JobCount::Failed,
                "jobs_unfinished" => JobCount::Unfinished,
                "jobs_abandoned" => JobCount::Abandoned,
                _ => JobCount::PollsPerJob,
            };
            let source = job_source_named(function, argument, scenario)?;
            Measure::Jobs { source, count }
        }
        other => return Err(unknown_word("metric", other, &FUNCTIONS)),
    })
}

/// The job source a job measure names.
fn job_source_named(
    function: &str,
    argument: Option<&str>,
    scenario: &Scenario,
) -> Result<String, String> {
    let name = argument.ok_or_else(|| {
        format!("`{function}` needs a source that submits jobs: `{function}(clients)`")
    })?;
    let name = resolve(name, scenario, true)?;
    let submits_jobs = scenario
        .sources
        .iter()
        .any(|s| s.name == name && s.job.is_some());
    match submits_jobs {
        true => Ok(name),
        false => Err(format!(
            "`{name}` does not submit jobs: `{function}` needs a source with a `job:` block"
        )),
    }
}

/// `users.latency`, `db.latency` or `db.queue_wait`.
fn latency(statistic: Statistic, argument: &str, scenario: &Scenario) -> Result<Measure, String> {
    let (component, field) = argument.rsplit_once('.').ok_or_else(|| {
        format!("`{argument}` should name a latency, like `users.latency` or `db.queue_wait`")
    })?;
    let queue_wait = match field {
        "latency" => false,
        "queue_wait" => true,
        "system_latency" | "polling_delay" => {
            let source = job_source_named(field, Some(component), scenario)?;
            let view = match field {
                "system_latency" => JobLatencyView::System,
                _ => JobLatencyView::PollingDelay,
            };
            return Ok(Measure::JobLatency {
                statistic,
                source,
                view,
            });
        }
        other => {
            let fields = ["latency", "queue_wait", "system_latency", "polling_delay"];
            return Err(unknown_word("latency", other, &fields));
        }
    };
    let of_source = scenario.sources.iter().any(|s| s.name == component);
    if queue_wait && of_source {
        return Err(format!(
            "`{component}` is a source: queue_wait belongs to services"
        ));
    }
    let is_service = scenario.services.iter().any(|s| s.name == component);
    let of_queue = scenario.queues.iter().any(|q| q.name == component);
    if queue_wait && of_queue {
        return Err(format!(
            "`{component}` is a message queue: queue_wait belongs to services"
        ));
    }
    if !of_source && !is_service && !of_queue {
        let names = scenario
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .chain(scenario.services.iter().map(|s| s.name.as_str()))
            .chain(scenario.queues.iter().map(|q| q.name.as_str()));
        let hint = did_you_mean(component, names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "no source, service or queue is named `{component}`{hint}"
        ));
    }
    let component = component.to_string();
    Ok(Measure::Latency {
        statistic,
        component,
        of_source,
        of_queue,
        queue_wait,
    })
}

/// The queue a message measure names.
fn queue_named(
    function: &str,
    argument: Option<&str>,
    scenario: &Scenario,
) -> Result<String, String> {
    let name =
        argument.ok_or_else(|| format!("`{function}` needs a queue: `{function}(orders)`"))?;
    let names = scenario.queues.iter().map(|q| q.name.as_str());
    if names.clone().any(|n| n == name) {
        return Ok(name.to_string());
    }
    let hint = did_you_mean(name, names)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(format!("no queue is named `{name}`{hint}"))
}

fn resolve(name: &str, scenario: &Scenario, source: bool) -> Result<String, String> {
    let names: Vec<&str> = if source {
        scenario.sources.iter().map(|s| s.name.as_str()).collect()
    } else {
        scenario.services.iter().map(|s| s.name.as_str()).collect()
    };
    if names.contains(&name) {
        return Ok(name.to_string());
    }
    let kind = if source { "source" } else { "service" };
    let mut message = format!("no {kind} is named `{name}`");
    match did_you_mean(name, names.iter().copied()) {
        Some(close) => message.push_str(&format!(" (did you mean `{close}`?)")),
        None => message.push_str(&format!(
            "; the {kind}s are: {}",
            super::suggest::listed_names(name, names.iter().copied())
        )),
    }
    Err(message)
}

/// The threshold in the measure's canonical unit.
fn limit(measure: &Measure, text: &str) -> Result<f64, String> {
    match measure {
        Measure::Latency { .. } | Measure::JobLatency { .. } => {
            Ok(parse_duration(text)?.as_millis_f64())
        }
        Measure::RecoveryTime(_) | Measure::DrainTime(_) => Ok(parse_duration(text)?.as_secs_f64()),
        Measure::Goodput(_) | Measure::Throughput(_) => parse_rate(text),
        Measure::SuccessRatio(_) | Measure::Utilisation(_) => share(text),
        _ => parse_number(text.trim_end_matches(['×', 'x'])),
    }
}

/// A share: `99%`, or a fraction from 0 to 1. A bare `99` is refused,
/// as it would be read as 9,900% and make the gate always fail or always pass.
fn share(text: &str) -> Result<f64, String> {
    let explain = || format!("`{text}` should be a percentage or a fraction: `99%` or `0.99`");
    let value = match text.strip_suffix('%') {
        Some(percent) => parse_number(percent.trim()).map_err(|_| explain())? / 100.0,
        None => parse_number(text).map_err(|_| explain())?,
    };
    match (0.0..=1.0).contains(&value) {
        true => Ok(value),
        false => Err(explain()),
    }
}

/// Whether a source has a surge or a fault to recover from (for
/// `recovery_time`): any source's surge, or any fault.
pub fn has_surge(scenario: &Scenario, source: &str) -> bool {
    scenario.sources.iter().any(|s| s.name == source) && scenario.disturbance_window().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        super::super::load_str(
            "t.yaml",
                        "duration: 10s\nsources:\n  users: { target: db, rate: 10/s }\nservices:\n  db: { service_time: 1ms }\nqueues:\n  orders: {}\n",
        )
        .unwrap()
    }

    #[test]
    fn expectations_parse_into_canonical_units() {
        let s = scenario();
        let cases = [
            ("p99(users.latency) < 300ms", 300.0),
            ("mean(db.queue_wait) <= 2ms", 2.0),
            ("goodput > 180/s", 180.0),
            ("success_ratio(users) >= 99%", 0.99),
            ("amplification(db) <= 2", 2.0),
            ("recovery_time(users) < 1m", 60.0),
            ("p99(orders.latency) < 2s", 2_000.0),
            ("duplicates(orders) <= 0", 0.0),
            ("drain_time(orders) < 1m", 60.0),
        ];
        for (text, limit) in cases {
            let expectation =
                parse_expectation(text, &s, &["base"]).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(expectation.limit(), Some(limit), "{text}");
        }
    }

    #[test]
    fn variants_are_compared_like_with_like() {
        let s = scenario();
        let text = "p99(users.latency)[faster] <= p99(users.latency)[base]";
        let expectation = parse_expectation(text, &s, &["base", "faster"]).unwrap();
        assert_eq!(expectation.variant.as_deref(), Some("faster"));
        assert!(expectation.compares_variants());
        match expectation.bound {
            Bound::Measure { variant, measure } => {
                assert_eq!(variant, "base");
                assert_eq!(measure, expectation.measure);
            }
            Bound::Limit(_) => panic!("a variant's measure, not a limit"),
        }
        let one = parse_expectation("goodput[faster] > 5/s", &s, &["base", "faster"]).unwrap();
        assert_eq!(one.limit(), Some(5.0));
    }

    #[test]
    fn mistakes_are_explained() {
        let s = scenario();
        let cases = [
            ("p99(user.latency) < 1s", "did you mean `users`"),
            ("p99(users.latncy) < 1s", "did you mean `latency`"),
            ("amplificaton(db) < 2", "did you mean `amplification`"),
            ("goodput = 3/s", "no comparison"),
            ("p99(users.latency) < 300", "needs a unit"),
            ("amplification(dbb) < 2", "did you mean `db`"),
            ("duplicates(order) < 2", "did you mean `orders`"),
            (
                "p99(orders.queue_wait) < 1s",
                "queue_wait belongs to services",
            ),
            ("p99(users.latency)[fast] < 1s", "did you mean `faster`"),
            (
                "p99(users.latency)[base] < p99(users.latency)",
                "needs the variant",
            ),
            (
                "p99(users.latency) < p99(users.latency)[base]",
                "needs the variant",
            ),
            (
                "p99(users.latency)[base] < goodput[faster]",
                "different units",
            ),
            ("p99(users.latency)base] < 1s", "without its `[`"),
            ("success_ratio(users) >= 99", "`99%` or `0.99`"),
            ("utilisation(db) < 150%", "`99%` or `0.99`"),
            ("success_ratio(users) >= 99ms", "a percentage or a fraction"),
            ("goodput[nope] > 1/s", "the variants are: base, faster"),
        ];
        for (text, fragment) in cases {
            let error = parse_expectation(text, &s, &["base", "faster"]).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }
}
