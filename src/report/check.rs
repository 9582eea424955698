//! `stampede check`: each expectation against the runs of a scenario's
//! variants, as pure data for the renderers in [`super::check_output`].
//!
//! An expectation is judged on the mean over replications. With two or more,
//! the 95% interval of that mean says whether the verdict could flip on
//! another set of seeds: a gate whose interval straddles its limit is
//! *within noise*, which `--strict` turns into a failure. Variants are
//! compared pair by pair (replication *i* of each runs on the same seed), so
//! the interval of the difference is narrower than either variant's own.

use serde::Serialize;

use crate::scenario::Study;
use crate::scenario::expect::{
    Bound, CostMeasure, Expectation, JobCount, JobLatencyView, Measure, MessageCount, Statistic,
    Unit,
};

use super::provenance::{Provenance, SCHEMA_VERSION};
use super::stats::Estimate;
use super::summary::{LatencySummary, Summary};

/// Pass or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// The other side of a comparison between variants.
#[derive(Clone, Debug, Serialize)]
pub struct ComparedWith {
    pub variant: String,
    pub measured: Option<Estimate>,
    /// This side minus the other, replication by replication.
    pub difference: Option<Estimate>,
}

/// One expectation judged on one variant (or on two, compared).
#[derive(Clone, Debug, Serialize)]
pub struct Threshold {
    /// The variant measured (the left-hand side's, when variants are compared).
    pub variant: String,
    pub expression: String,
    /// Where the expectation is written.
    pub line: u64,
    pub column: u64,
    /// The unit of `measured` and `limit`: `ms`, `s`, `per_s`, `fraction` or `number`.
    pub unit: &'static str,
    /// The mean over replications, with its 95% interval half-width when
    /// there are two or more; absent when a run measured nothing (no
    /// successful request, no recovery).
    pub measured: Option<Estimate>,
    /// The fixed limit, when the right-hand side is one.
    pub limit: Option<f64>,
    /// The other variant, when the right-hand side is its measure.
    pub compared_with: Option<ComparedWith>,
    pub verdict: Verdict,
    /// The 95% interval reaches across the limit: another set of seeds
    /// could give the other verdict.
    pub within_noise: bool,
    /// Why it failed, or why its verdict could flip.
    pub note: Option<String>,
}

/// One scenario file's check.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioCheck {
    /// The stampede version, the seed and each variant's resolved-scenario hash.
    pub provenance: Provenance,
    pub file: String,
    pub scenario: String,
    pub seed: u64,
    /// Runs per variant.
    pub replications: u32,
    pub reproduce: String,
    /// Variants whose runs a safety limit stopped: not checked.
    pub stopped: Vec<StoppedVariant>,
    /// Comparisons between variants not checked because a variant they name was not run.
    pub skipped: Vec<Skipped>,
    pub thresholds: Vec<Threshold>,
}

/// A comparison between variants that was not checked, because a variant
/// it names was not among those run.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub expression: String,
    pub line: u64,
    pub column: u64,
}

/// A variant a safety limit stopped, and why.
#[derive(Clone, Debug, Serialize)]
pub struct StoppedVariant {
    pub variant: String,
    pub reason: String,
}

/// Everything `check` found, as `check --format json` writes it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub kind: &'static str,
    /// The one scenario's provenance, when one was checked (as in every
    /// JSON output, so `diff` can say what changed); otherwise each
    /// scenario has its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    pub schema_version: u32,
    pub stampede_version: &'static str,
    pub strict: bool,
    pub passed: usize,
    pub failed: usize,
    /// Variants stopped by a safety limit, over every scenario.
    pub stopped: usize,
    pub scenarios: Vec<ScenarioCheck>,
}

impl CheckReport {
    pub fn new(scenarios: Vec<ScenarioCheck>, strict: bool) -> CheckReport {
        let all = || scenarios.iter().flat_map(|s| &s.thresholds);
        let failed = all().filter(|t| t.verdict == Verdict::Fail).count();
        CheckReport {
            kind: "check",
            provenance: match scenarios.as_slice() {
                [one] => Some(one.provenance.clone()),
                _ => None,
            },
            schema_version: SCHEMA_VERSION,
            stampede_version: env!("CARGO_PKG_VERSION"),
            strict,
            passed: all().count() - failed,
            failed,
            stopped: scenarios.iter().map(|s| s.stopped.len()).sum(),
            scenarios,
        }
    }
}

/// What a threshold is judged on: each variant's summaries, by name.
pub struct Runs<'a> {
    pub variants: Vec<(&'a str, &'a [Summary])>,
}

impl Threshold {
    /// Who it is about: its variant, or `a vs b` for a comparison.
    pub fn label(&self) -> String {
        match &self.compared_with {
            Some(other) => format!("{} vs {}", self.variant, other.variant),
            None => self.variant.clone(),
        }
    }
}

impl<'a> Runs<'a> {
    fn of(&self, name: &str) -> Option<&'a [Summary]> {
        self.variants
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, runs)| *runs)
    }
}

/// The note on a failure by a small margin on one run, which another seed
/// could turn into a pass. (A pass by a small margin gets none: most are
/// limits the value sits against by design, such as `success_ratio >= 99.9%`
/// at 100%, and a note on each would bury the failures.)
const CLOSE_ON_ONE_RUN: &str =
    "one run, within 5% of the limit: `--replications 10` tells whether this failure is noise";

/// Whether a single run's value is close enough to its limit that another
/// seed could give the other verdict: within 5%, or for a share within half
/// a percentage point (99.6% against 99% is not close; 5% of it would be).
fn close(unit: Unit, measured: f64, limit: f64) -> bool {
    match unit {
        Unit::Fraction => (measured - limit).abs() <= 0.005,
        _ => limit != 0.0 && (measured - limit).abs() <= 0.05 * limit.abs(),
    }
}

fn statistic(latency: &LatencySummary, statistic: Statistic) -> Option<f64> {
    match statistic {
        Statistic::Mean => latency.mean_ms,
        Statistic::P50 => latency.p50_ms,
        Statistic::P90 => latency.p90_ms,
        Statistic::P99 => latency.p99_ms,
        Statistic::P999 => latency.p999_ms,
        Statistic::Max => latency.max_ms,
    }
}

/// The measured value of `measure` in `summary`, in canonical units.
fn measured(measure: &Measure, summary: &Summary) -> Option<f64> {
    let source = |name: &str| summary.sources.iter().find(|s| s.name == name);
    let service = |name: &str| summary.services.iter().find(|s| s.name == name);
    let queue = |name: &str| summary.queues.iter().find(|q| q.name == name);
    match measure {
        Measure::Latency {
            statistic: stat,
            component,
            of_source: true,
            ..
        } => statistic(&source(component)?.latency, *stat),
        Measure::Latency {
            statistic: stat,
            component,
            of_queue: true,
            ..
        } => statistic(&queue(component)?.latency, *stat),
        Measure::Latency {
            statistic: stat,
            component,
            queue_wait,
            ..
        } => {
            let service = service(component)?;
            statistic(
                if *queue_wait {
                    &service.queue_wait
                } else {
                    &service.latency
                },
                *stat,
            )
        }
        Measure::Goodput(None) => Some(summary.totals.goodput_per_s),
        Measure::Goodput(Some(name)) => Some(source(name)?.goodput_per_s),
        Measure::Throughput(None) => Some(summary.sources.iter().map(|s| s.throughput_per_s).sum()),
        Measure::Throughput(Some(name)) => Some(source(name)?.throughput_per_s),
        Measure::SuccessRatio(None) => Some(summary.totals.success_ratio()),
        Measure::SuccessRatio(Some(name)) => Some(source(name)?.success_ratio),
        Measure::WorkPerRequest => Some(summary.totals.work_per_request),
        Measure::Cost(kind) => {
            let cost = summary.cost.as_ref()?;
            match kind {
                CostMeasure::Total => Some(cost.total),
                CostMeasure::PerThousandRequests => cost.per_1000_requests_succeeded,
                CostMeasure::PerThousandMessages => cost.per_1000_messages_processed,
                CostMeasure::PerThousandJobs => cost.per_1000_jobs_completed,
            }
        }
        Measure::Amplification(name) => Some(service(name)?.amplification),
        Measure::Utilisation(name) => Some(service(name)?.utilisation),
        Measure::QueueLength(name) => Some(service(name)?.queue_length_mean),
        Measure::Rejected(name) => Some(service(name)?.rejected as f64),
        Measure::Abandoned(name) => Some(service(name)?.abandoned_work as f64),
        Measure::Messages { queue: name, count } => {
            let q = queue(name)?;
            Some(match count {
                MessageCount::Duplicates => q.duplicates,
                MessageCount::DeadLettered => q.dead_lettered,
                MessageCount::Expired => q.expired,
                MessageCount::Dropped => q.dropped,
                MessageCount::DepthMax => q.depth_max,
            } as f64)
        }
        Measure::DrainTime(name) => queue(name)?.drain.as_ref()?.drain_time_s,
        Measure::JobLatency {
            statistic: stat,
            source: name,
            view,
        } => {
            let job = source(name)?.job.as_ref()?;
            statistic(
                match view {
                    JobLatencyView::System => &job.latency_system,
                    JobLatencyView::PollingDelay => &job.polling_delay,
                },
                *stat,
            )
        }
        Measure::Jobs {
            source: name,
            count,
        } => {
            let job = source(name)?.job.as_ref()?;
            Some(match count {
                JobCount::Completed => job.completed as f64,
                JobCount::Rejected => job.submit_failed as f64,
                JobCount::Failed => job.failed() as f64,
                JobCount::Unfinished => job.unfinished_at_end as f64,
                JobCount::Abandoned => job.abandoned as f64,
                JobCount::PollsPerJob => job.polls_per_job,
            })
        }
        Measure::RecoveryTime(name) => {
            summary
                .recovery
                .iter()
                .find(|r| &r.source == name)?
                .recovery_time_s
        }
    }
}

/// Every threshold of `study` on `runs`: each variant's own list in run
/// order, then the comparisons between variants whose runs are all there.
/// Comparisons naming a variant that was not run are returned by text in
/// the second list.
pub fn evaluate(study: &Study, runs: &Runs, strict: bool) -> (Vec<Threshold>, Vec<Skipped>) {
    let mut thresholds = Vec::new();
    for (name, summaries) in &runs.variants {
        let Some(variant) = study.variant(name) else {
            continue;
        };
        for expectation in &variant.expectations {
            thresholds.push(judge(expectation, name, summaries, runs, strict));
        }
    }
    let mut skipped = Vec::new();
    for expectation in study.variant_comparisons() {
        let left = expectation.variant.as_deref().unwrap_or_default();
        let right = match &expectation.bound {
            Bound::Measure { variant, .. } => Some(variant.as_str()),
            Bound::Limit(_) => None,
        };
        match (runs.of(left), right.is_none_or(|r| runs.of(r).is_some())) {
            (Some(summaries), true) => {
                thresholds.push(judge(expectation, left, summaries, runs, strict))
            }
            _ => skipped.push(Skipped {
                expression: expectation.text.clone(),
                line: expectation.position.line,
                column: expectation.position.column,
            }),
        }
    }
    (thresholds, skipped)
}

/// The measure on each run, or `None` if any run measured nothing.
fn values(measure: &Measure, summaries: &[Summary]) -> Option<Vec<f64>> {
    summaries.iter().map(|s| measured(measure, s)).collect()
}

fn judge(
    expectation: &Expectation,
    variant: &str,
    summaries: &[Summary],
    runs: &Runs,
    strict: bool,
) -> Threshold {
    let left = values(&expectation.measure, summaries);
    let mut threshold = Threshold {
        variant: variant.to_string(),
        expression: expectation.text.clone(),
        line: expectation.position.line,
        column: expectation.position.column,
        unit: unit_name(expectation.measure.unit()),
        measured: left.as_deref().map(Estimate::of),
        limit: expectation.limit(),
        compared_with: None,
        verdict: Verdict::Fail,
        within_noise: false,
        note: None,
    };
    let right = match &expectation.bound {
        Bound::Limit(limit) => left.as_ref().map(|l| vec![*limit; l.len()]),
        Bound::Measure { measure, variant } => {
            let other = runs.of(variant).and_then(|s| values(measure, s));
            threshold.compared_with = Some(ComparedWith {
                variant: variant.clone(),
                measured: other.as_deref().map(Estimate::of),
                difference: None,
            });
            other
        }
    };
    let (Some(left), Some(right)) = (left, right) else {
        threshold.note = Some(nothing_measured(summaries.len()));
        return threshold;
    };
    let difference = Estimate::of(&differences(&left, &right));
    if let Some(compared) = &mut threshold.compared_with {
        compared.difference = Some(difference);
    }
    let mean_left = mean(&left);
    let mean_right = mean(&right);
    let holds = expectation.comparison.holds(mean_left, mean_right);
    threshold.within_noise = difference
        .ci95
        .is_some_and(|half| half > 0.0 && difference.mean.abs() <= half);
    threshold.verdict = match holds && !(strict && threshold.within_noise) {
        true => Verdict::Pass,
        false => Verdict::Fail,
    };
    let failed_close_on_one_run = left.len() == 1
        && threshold.verdict == Verdict::Fail
        && close(expectation.measure.unit(), mean_left, mean_right);
    threshold.note = match (threshold.within_noise, failed_close_on_one_run) {
        (true, _) => Some(within_noise_note(holds, strict)),
        (false, true) => Some(CLOSE_ON_ONE_RUN.to_string()),
        (false, false) => None,
    };
    threshold
}

fn differences(left: &[f64], right: &[f64]) -> Vec<f64> {
    left.iter().zip(right).map(|(l, r)| l - r).collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn nothing_measured(runs: usize) -> String {
    match runs {
        1 => "nothing was measured (no request finished, or nothing to recover from)".to_string(),
        _ => "nothing was measured in at least one of the runs (no request finished, or nothing to recover from)".to_string(),
    }
}

/// Why a verdict another set of seeds could flip is what it is.
fn within_noise_note(holds: bool, strict: bool) -> String {
    let verdict = match (holds, strict) {
        (true, true) => "fails under --strict",
        (true, false) => "passes on the mean",
        (false, _) => "fails on the mean",
    };
    format!(
        "within noise ({verdict}): the 95% interval reaches across the limit; use more replications or a looser limit"
    )
}

/// The unit's name in the JSON output.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Millis => "ms",
        Unit::Seconds => "s",
        Unit::PerSecond => "per_s",
        Unit::Fraction => "fraction",
        Unit::Number => "number",
    }
}
