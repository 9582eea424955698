//! Variants side by side: every headline metric per variant, with its
//! confidence interval over replications and its difference and ratio
//! against the first variant.
//!
//! Variants of one scenario share their random streams (common random
//! numbers), so the differences come from the policies, not from luck.

use serde::Serialize;

use super::stats::Estimate;
use super::summary::Summary;
use super::text::{format_ms, group_digits, long_duration, new_table};

/// How a metric is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    PerSecond,
    Millis,
    Times,
    Percent,
    Count,
    /// A plain quantity with two decimals, such as a mean instance count.
    Number,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub unit: Unit,
    /// One estimate per variant, in the order of `Comparison::variants`.
    pub values: Vec<Estimate>,
}

/// Per variant and surged source: how many runs recovered, and how fast.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveryRow {
    pub variant: String,
    pub source: String,
    pub runs: u32,
    pub recovered_runs: u32,
    /// Over the runs that recovered.
    pub recovery_time_s: Option<Estimate>,
    /// Goodput at the end of the run as a fraction of before the surge.
    pub final_goodput_ratio: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub scenario: String,
    pub seed: u64,
    pub replications: u32,
    pub variants: Vec<String>,
    pub metrics: Vec<MetricRow>,
    pub recovery: Vec<RecoveryRow>,
    /// Per variant and queue: how its backlog drained after the disturbance.
    pub drains: Vec<DrainRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DrainRow {
    pub variant: String,
    pub queue: String,
    pub runs: u32,
    pub drained_runs: u32,
    /// Over the runs that drained.
    pub drain_time_s: Option<Estimate>,
    pub backlog_peak: Estimate,
}

fn drain_rows(variants: &[String], runs: &[Vec<Summary>]) -> Vec<DrainRow> {
    let mut rows = Vec::new();
    for (variant, reps) in variants.iter().zip(runs) {
        for (index, queue) in reps[0].queues.iter().enumerate() {
            let drains: Vec<_> = reps
                .iter()
                .filter_map(|s| s.queues.get(index)?.drain.as_ref())
                .filter(|d| d.backlog_peak > d.depth_before_max)
                .collect();
            if drains.is_empty() {
                continue;
            }
            let times: Vec<f64> = drains.iter().filter_map(|d| d.drain_time_s).collect();
            let peaks: Vec<f64> = drains.iter().map(|d| d.backlog_peak).collect();
            rows.push(DrainRow {
                variant: variant.clone(),
                queue: queue.name.clone(),
                runs: drains.len() as u32,
                drained_runs: times.len() as u32,
                drain_time_s: (!times.is_empty()).then(|| Estimate::of(&times)),
                backlog_peak: Estimate::of(&peaks),
            });
        }
    }
    rows
}

fn recovery_rows(variants: &[String], runs: &[Vec<Summary>]) -> Vec<RecoveryRow> {
    let mut rows = Vec::new();
    for (variant, reps) in variants.iter().zip(runs) {
        for (index, first) in reps[0].recovery.iter().enumerate() {
            let verdicts: Vec<_> = reps.iter().filter_map(|s| s.recovery.get(index)).collect();
            let times: Vec<f64> = verdicts.iter().filter_map(|r| r.recovery_time_s).collect();
            let ratios: Vec<f64> = verdicts.iter().map(|r| r.final_goodput_ratio).collect();
            rows.push(RecoveryRow {
                variant: variant.clone(),
                source: first.source.clone(),
                runs: verdicts.len() as u32,
                recovered_runs: times.len() as u32,
                recovery_time_s: (!times.is_empty()).then(|| Estimate::of(&times)),
                final_goodput_ratio: Estimate::of(&ratios),
            });
        }
    }
    rows
}

/// The headline metrics of one run, in a fixed order.
pub fn headline_metrics(summary: &Summary) -> Vec<(String, Unit, f64)> {
    let totals = &summary.totals;
    let success = totals.success_ratio() * 100.0;
    let throughput: f64 = summary.sources.iter().map(|s| s.throughput_per_s).sum();
    let abandoned: u64 = summary.services.iter().map(|s| s.abandoned_work).sum();
    let mut metrics = vec![
        ("goodput".to_string(), Unit::PerSecond, totals.goodput_per_s),
        ("throughput".to_string(), Unit::PerSecond, throughput),
        ("success ratio".to_string(), Unit::Percent, success),
    ];
    let many_sources = summary.sources.len() > 1;
    for source in &summary.sources {
        let prefix = if many_sources {
            format!("{} ", source.name)
        } else {
            String::new()
        };
        metrics.push((
            format!("{prefix}latency p50"),
            Unit::Millis,
            source.latency.p50_ms,
        ));
        metrics.push((
            format!("{prefix}latency p99"),
            Unit::Millis,
            source.latency.p99_ms,
        ));
        metrics.push((
            format!("{prefix}latency p99.9"),
            Unit::Millis,
            source.latency.p999_ms,
        ));
    }
    let attempts: u64 = summary.services.iter().map(|s| s.attempts).sum();
    metrics.push((
        "total service attempts".to_string(),
        Unit::Count,
        attempts as f64,
    ));
    metrics.push((
        "service attempts per request".to_string(),
        Unit::Times,
        totals.work_per_request,
    ));
    for service in &summary.services {
        metrics.push((
            format!("{} amplification", service.name),
            Unit::Times,
            service.amplification,
        ));
    }
    metrics.push(("abandoned work".to_string(), Unit::Count, abandoned as f64));
    let calls = &summary.calls;
    let services = &summary.services;
    let ejections: u64 = services
        .iter()
        .map(|s| s.ejections)
        .chain(summary.load_balancers.iter().map(|b| b.ejections))
        .sum();
    let defences: [(&str, u64); 5] = [
        ("instances ejected", ejections),
        (
            "retries throttled",
            calls.iter().map(|c| c.retries_throttled).sum(),
        ),
        (
            "short-circuited",
            calls.iter().map(|c| c.short_circuited).sum(),
        ),
        (
            "shed by servers",
            services.iter().map(|s| s.shed + s.queue_timeouts).sum(),
        ),
        (
            "lost to faults",
            services
                .iter()
                .map(|s| s.refused + s.hung + s.lost_in_crash)
                .sum(),
        ),
    ];
    for (name, count) in defences {
        metrics.push((name.to_string(), Unit::Count, count as f64));
    }
    for cache in &summary.caches {
        metrics.push((
            format!("{} hit ratio", cache.name),
            Unit::Percent,
            cache.hit_ratio * 100.0,
        ));
        metrics.push((
            format!("{} backend calls", cache.name),
            Unit::PerSecond,
            cache.backend_calls_per_s,
        ));
    }
    queue_metrics(summary, &mut metrics);
    let instances: f64 = services.iter().map(|s| s.instances_mean).sum();
    metrics.push((INSTANCES.to_string(), Unit::Number, instances));
    metrics
}

/// Per queue with a consumer: message latency, throughput, backlog and
/// the ways messages go astray; per consumer: its utilisation.
fn queue_metrics(summary: &Summary, metrics: &mut Vec<(String, Unit, f64)>) {
    let consumed = summary
        .queues
        .iter()
        .filter(|q| summary.consumers.iter().any(|c| c.queue == q.name));
    for q in consumed {
        let name = &q.name;
        let rows = [
            ("message latency p50", Unit::Millis, q.latency.p50_ms),
            ("message latency p99", Unit::Millis, q.latency.p99_ms),
            ("deleted", Unit::PerSecond, q.deleted_per_s),
            ("depth max", Unit::Count, q.depth_max as f64),
            ("receives per message", Unit::Number, q.receives_per_message),
            ("empty receives", Unit::Count, q.empty_receives as f64),
            ("duplicates", Unit::Count, q.duplicates as f64),
            ("dead-lettered", Unit::Count, q.dead_lettered as f64),
            ("expired", Unit::Count, q.expired as f64),
            ("dropped", Unit::Count, q.dropped as f64),
            ("left in queue", Unit::Count, q.in_queue_at_end as f64),
        ];
        for (metric, unit, value) in rows {
            metrics.push((format!("{name} {metric}"), unit, value));
        }
    }
    for c in &summary.consumers {
        let utilisation = c.utilisation * 100.0;
        metrics.push((
            format!("{} utilisation", c.name),
            Unit::Percent,
            utilisation,
        ));
    }
}

/// The capacity paid for: kept only when variants differ in it.
const INSTANCES: &str = "instances (time-average, all services)";

/// Rows left out of a comparison when they are zero in every run: defences
/// and faults the scenario does not use.
const OMITTED_WHEN_ZERO: [&str; 5] = [
    "instances ejected",
    "retries throttled",
    "short-circuited",
    "shed by servers",
    "lost to faults",
];

/// Per-queue rows left out in the same way.
const OMITTED_SUFFIXES: [&str; 6] = [
    " duplicates",
    " dead-lettered",
    " expired",
    " dropped",
    " left in queue",
    " empty receives",
];

/// Builds the comparison from `runs[v][r]`: variant v, replication r.
pub fn compare(variants: &[String], runs: &[Vec<Summary>]) -> Comparison {
    let first = &runs[0][0];
    let per_run: Vec<Vec<Vec<(String, Unit, f64)>>> = runs
        .iter()
        .map(|reps| reps.iter().map(headline_metrics).collect())
        .collect();
    let metrics = headline_metrics(first)
        .into_iter()
        .enumerate()
        .map(|(index, (metric, unit, _))| MetricRow {
            metric,
            unit,
            values: per_run
                .iter()
                .map(|reps| Estimate::of(&reps.iter().map(|m| m[index].2).collect::<Vec<_>>()))
                .collect(),
        })
        .filter(|row: &MetricRow| {
            let values = per_run
                .iter()
                .flatten()
                .flat_map(|m| m.iter().filter(|(name, _, _)| *name == row.metric))
                .map(|&(_, _, value)| value);
            match row.metric.as_str() {
                name if OMITTED_WHEN_ZERO.contains(&name)
                    || OMITTED_SUFFIXES.iter().any(|s| name.ends_with(s)) =>
                {
                    values.clone().any(|v| v != 0.0)
                }
                INSTANCES => values.clone().any(|v| v != row.values[0].mean),
                _ => true,
            }
        })
        .collect();
    Comparison {
        scenario: first.scenario.clone(),
        seed: first.seed,
        replications: runs[0].len() as u32,
        variants: variants.to_vec(),
        metrics,
        recovery: recovery_rows(variants, runs),
        drains: drain_rows(variants, runs),
    }
}

pub fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::PerSecond => format!("{value:.1}/s"),
        Unit::Millis => format_ms(value),
        Unit::Times => format!("{value:.2}×"),
        Unit::Number => format!("{value:.2}"),
        Unit::Percent => format!("{value:.1}%"),
        Unit::Count => group_digits(value.round().max(0.0) as u64),
    }
}

fn cell(unit: Unit, estimate: Estimate, baseline: Option<Estimate>) -> String {
    let mut text = format_value(unit, estimate.mean);
    if let Some(half_width) = estimate.ci95 {
        text.push_str(&format!(
            " ±{}",
            format_value(unit, half_width).trim_end_matches("/s")
        ));
    }
    if let Some(base) = baseline {
        let delta = estimate.mean - base.mean;
        let sign = if delta >= 0.0 { "+" } else { "−" };
        let magnitude = format_value(unit, delta.abs());
        let ratio = if base.mean == 0.0 {
            "–".to_string()
        } else {
            format!("×{:.2}", estimate.mean / base.mean)
        };
        text.push_str(&format!("\n{sign}{magnitude}, {ratio}"));
    }
    text
}

/// The side-by-side table, with each variant's difference and ratio against
/// the first.
pub fn render(comparison: &Comparison, reproduce: &str) -> String {
    let mut header = vec!["metric"];
    header.extend(comparison.variants.iter().map(String::as_str));
    let mut table = new_table(&header, 1);
    for row in &comparison.metrics {
        let mut cells = vec![row.metric.clone()];
        for (index, estimate) in row.values.iter().enumerate() {
            let baseline = (index > 0).then_some(row.values[0]);
            cells.push(cell(row.unit, *estimate, baseline));
        }
        table.add_row(cells);
    }
    let replications = match comparison.replications {
        1 => "1 run per variant".to_string(),
        n => format!("{n} replications per variant, mean ±95% confidence interval"),
    };
    format!(
        "stampede compare · {}\nseed {} · {replications} · common random numbers\nreproduce: {reproduce}\n\n{}{table}\nunder each value: difference and ratio against `{}`\n",
        comparison.scenario,
        comparison.seed,
        recovery_text(&comparison.recovery) + &drain_text(&comparison.drains),
        comparison.variants[0]
    )
}

/// Seconds to a tenth (`80.1s`) under a minute, in min or h beyond.
fn tenths(seconds: f64) -> String {
    long_duration(seconds).unwrap_or_else(|| format!("{seconds:.1}s"))
}

/// "two-pollers orders: backlog of 24,000 drained 80.1s after it ended", one per line.
fn drain_text(rows: &[DrainRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("Queue backlogs after the disturbance:\n");
    let width = rows.iter().map(|r| r.variant.len()).max().unwrap_or(0);
    for row in rows {
        let peak = group_digits(row.backlog_peak.mean.round() as u64);
        let how = match (&row.drain_time_s, row.runs) {
            (Some(time), 1) => format!("drained {} after it ended", tenths(time.mean)),
            (Some(time), runs) => format!(
                "drained in {} of {runs} runs, after {}{}",
                row.drained_runs,
                tenths(time.mean),
                time.ci95
                    .map(|h| format!(" ±{}", tenths(h)))
                    .unwrap_or_default()
            ),
            (None, _) => "had NOT drained by the end of the run".to_string(),
        };
        out.push_str(&format!(
            "  {:<width$} {}: peaked at {peak} messages, {how}\n",
            row.variant, row.queue
        ));
    }
    out.push('\n');
    out
}

/// "backoff: users recovered 2.0s after the surge" and the like, one per line.
fn recovery_text(rows: &[RecoveryRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("After the disturbance (surge or fault):\n");
    let width = rows.iter().map(|r| r.variant.len()).max().unwrap_or(0);
    for row in rows {
        let how = match (&row.recovery_time_s, row.runs) {
            (Some(time), 1) => format!("recovered {} after it ended", tenths(time.mean)),
            (Some(time), runs) => format!(
                "recovered in {} of {runs} runs, after {}{}",
                row.recovered_runs,
                tenths(time.mean),
                time.ci95
                    .map(|h| format!(" ±{}", tenths(h)))
                    .unwrap_or_default()
            ),
            (None, _) => format!(
                "did NOT recover (goodput at the end {:.0}% of before: metastable)",
                row.final_goodput_ratio.mean * 100.0
            ),
        };
        out.push_str(&format!(
            "  {:<width$} {}: {how}\n",
            row.variant, row.source
        ));
    }
    out.push('\n');
    out
}
