//! `stampede check`: each expectation against a run's summary.

use serde::Serialize;

use crate::scenario::expect::{Expectation, Measure, MessageCount, Statistic};

use super::compare::{Unit, format_value};
use super::summary::{LatencySummary, Summary};

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub expectation: String,
    /// In the expectation's unit; absent when nothing was measured (no
    /// successful request, no recovery).
    pub measured: Option<f64>,
    pub holds: bool,
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
        Measure::RecoveryTime(name) => {
            summary
                .recovery
                .iter()
                .find(|r| &r.source == name)?
                .recovery_time_s
        }
    }
}

pub fn check(expectations: &[Expectation], summary: &Summary) -> Vec<Verdict> {
    expectations
        .iter()
        .map(|expectation| {
            let value = measured(&expectation.measure, summary);
            Verdict {
                expectation: expectation.text.clone(),
                measured: value,
                holds: value.is_some_and(|v| expectation.comparison.holds(v, expectation.limit)),
            }
        })
        .collect()
}

fn unit(measure: &Measure) -> Option<Unit> {
    match measure {
        Measure::Latency { .. } => Some(Unit::Millis),
        Measure::Goodput(_) | Measure::Throughput(_) => Some(Unit::PerSecond),
        Measure::SuccessRatio(_) | Measure::Utilisation(_) => Some(Unit::Percent),
        _ => None,
    }
}

/// One line per expectation: PASS or FAIL, the expectation, what was measured.
pub fn render(expectations: &[Expectation], verdicts: &[Verdict]) -> String {
    let width = verdicts
        .iter()
        .map(|v| v.expectation.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (expectation, verdict) in expectations.iter().zip(verdicts) {
        let mark = if verdict.holds { "PASS" } else { "FAIL" };
        let measured = match (verdict.measured, unit(&expectation.measure)) {
            (None, _) => "nothing measured".to_string(),
            (Some(value), Some(Unit::Percent)) => format_value(Unit::Percent, value * 100.0),
            (Some(value), Some(unit)) => format_value(unit, value),
            (Some(value), None)
                if matches!(
                    expectation.measure,
                    Measure::RecoveryTime(_) | Measure::DrainTime(_)
                ) =>
            {
                super::text::format_seconds(value)
            }
            (Some(value), None) => format!("{}", (value * 1e4).round() / 1e4),
        };
        out.push_str(&format!(
            "  {mark}  {:<width$}   measured {measured}\n",
            verdict.expectation
        ));
    }
    out
}
