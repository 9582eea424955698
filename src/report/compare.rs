//! Variants side by side: every headline metric per variant, with its
//! confidence interval over replications and its difference and ratio
//! against the first variant.
//!
//! Variants of one scenario share their random streams (common random
//! numbers), so the differences come from the policies, not from luck.

use comfy_table::Table;
use serde::Serialize;

use super::provenance::{self, Provenance, RunHash};
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
    /// An amount of money in the scenario's currency (four significant digits).
    Cost,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub unit: Unit,
    /// One estimate per variant, in the order of `Comparison::variants`;
    /// `None` (null) where the variant has no data for it.
    pub values: Vec<Option<Estimate>>,
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
    /// What this document is, for `diff`: always `compare`.
    pub kind: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub replications: u32,
    pub variants: Vec<String>,
    /// Sentences a reader must not miss (a lower latency bought with failures).
    pub findings: Vec<String>,
    pub metrics: Vec<MetricRow>,
    pub recovery: Vec<RecoveryRow>,
    /// Per variant and queue: how its backlog drained after the disturbance.
    pub drains: Vec<DrainRow>,
    /// The runs a safety limit (`limits:`) stopped before their end: their
    /// numbers cover only part of the run. Left out of the JSON when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<StoppedRun>,
    /// Version, root seed, and each variant's scenario hash.
    pub provenance: Provenance,
}

/// A run that a safety limit stopped before the end of its duration.
#[derive(Clone, Debug, Serialize)]
pub struct StoppedRun {
    /// The swept value, in a sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub variant: String,
    pub seed: u64,
    pub reason: String,
}

impl StoppedRun {
    /// "variant `x`, seed 3: stopped at …", after "value 100/s, " in a sweep.
    pub fn describe(&self) -> String {
        let value = self
            .value
            .as_ref()
            .map(|v| format!("value {v}, "))
            .unwrap_or_default();
        format!(
            "{value}variant `{}`, seed {}: {}",
            self.variant, self.seed, self.reason
        )
    }
}

/// The runs in `runs[i]` that a limit stopped, `labels[i]` being (swept
/// value, variant) of each group.
pub fn stopped_runs(labels: &[(Option<String>, String)], runs: &[Vec<Summary>]) -> Vec<StoppedRun> {
    let mut stopped = Vec::new();
    for ((value, variant), reps) in labels.iter().zip(runs) {
        for summary in reps {
            if let Some(reason) = &summary.stopped_early {
                stopped.push(StoppedRun {
                    value: value.clone(),
                    variant: variant.clone(),
                    seed: summary.seed,
                    reason: reason.clone(),
                });
            }
        }
    }
    stopped
}

/// The warning over a table with stopped runs in it, one line per run;
/// empty when none stopped.
pub fn stopped_text(stopped: &[StoppedRun]) -> String {
    if stopped.is_empty() {
        return String::new();
    }
    let mut out = match stopped.len() {
        1 => "STOPPED: 1 run was stopped by a safety limit before its end; its numbers cover only part of the run:\n".to_string(),
        n => format!("STOPPED: {n} runs were stopped by a safety limit before their end; their numbers cover only part of each run:\n"),
    };
    for run in stopped {
        out.push_str(&format!("  - {}\n", run.describe()));
    }
    out.push('\n');
    out
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
    /// Messages that left unprocessed (expired, dropped, dead-lettered):
    /// a backlog can "drain" by losing its messages.
    pub lost: Estimate,
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
            let lost: Vec<f64> = reps
                .iter()
                .filter_map(|s| s.queues.get(index))
                .map(|q| (q.expired + q.dropped + q.dead_lettered) as f64)
                .collect();
            rows.push(DrainRow {
                variant: variant.clone(),
                queue: queue.name.clone(),
                runs: drains.len() as u32,
                drained_runs: times.len() as u32,
                drain_time_s: (!times.is_empty()).then(|| Estimate::of(&times)),
                backlog_peak: Estimate::of(&peaks),
                lost: Estimate::of(&lost),
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

/// One headline row of one run: name, unit, value (`None`: no data).
pub type Headline = (String, Unit, Option<f64>);

/// The headline metrics of one run, in a fixed order. When the work flows
/// through queues, processing leads.
pub fn headline_metrics(summary: &Summary) -> Vec<Headline> {
    let mut metrics: Vec<Headline> = job_metrics(summary);
    let processing = queue_metrics(summary);
    let only_sends = super::text::is_only_sends(summary);
    if only_sends {
        metrics.extend(processing.iter().cloned());
    }
    metrics.extend(request_metrics(summary, only_sends));
    // A job source's latencies are its jobs' user wait, already above.
    let callers = summary.sources.iter().filter(|s| s.job.is_none());
    for source in callers.filter(|s| !s.sends_messages()) {
        metrics.extend(source_latency_metrics(summary, source));
    }
    for class in &summary.classes {
        let name = class.class;
        metrics.push((
            format!("{name} goodput"),
            Unit::PerSecond,
            Some(class.goodput_per_s),
        ));
        metrics.push((
            format!("{name} success ratio"),
            Unit::Percent,
            Some(class.success_ratio * 100.0),
        ));
        metrics.push((
            format!("{name} latency_all p99"),
            Unit::Millis,
            class.latency_all.p99_ms,
        ));
    }
    if let Some(cost) = &summary.cost {
        metrics.push(("cost".to_string(), Unit::Cost, Some(cost.total)));
        let per_1000 = [
            ("requests succeeded", cost.per_1000_requests_succeeded),
            ("messages processed", cost.per_1000_messages_processed),
            ("jobs completed", cost.per_1000_jobs_completed),
        ];
        for (what, value) in per_1000 {
            if value.is_some() {
                metrics.push((format!("cost per 1,000 {what}"), Unit::Cost, value));
            }
        }
    }
    metrics.extend(work_metrics(summary));
    for cache in &summary.caches {
        metrics.push((
            format!("{} hit ratio", cache.name),
            Unit::Percent,
            Some(cache.hit_ratio * 100.0),
        ));
        metrics.push((
            format!("{} backend calls", cache.name),
            Unit::PerSecond,
            Some(cache.backend_calls_per_s),
        ));
    }
    metrics.extend(super::gates::comparison_rows(&summary.gates));
    if !only_sends {
        metrics.extend(processing);
    }
    for c in &summary.consumers {
        let utilisation = c.utilisation * 100.0;
        metrics.push((
            format!("{} utilisation", c.name),
            Unit::Percent,
            Some(utilisation),
        ));
    }
    let instances: f64 = summary.services.iter().map(|s| s.instances_mean).sum();
    metrics.push((INSTANCES.to_string(), Unit::Number, Some(instances)));
    metrics
}

/// Per job source, leading a comparison: jobs completed, the user's wait
/// and the system's time, the polling between, and the jobs lost.
fn job_metrics(summary: &Summary) -> Vec<Headline> {
    let job_sources: Vec<_> = super::jobs::job_sources(summary).collect();
    let mut rows: Vec<Headline> = Vec::new();
    for &(source, job) in &job_sources {
        let prefix = match job_sources.len() > 1 {
            true => format!("{} ", source.name),
            false => String::new(),
        };
        let count = |n: u64| Some(n as f64);
        let job_rows = [
            (
                "jobs completed/s",
                Unit::PerSecond,
                Some(job.completed_per_s),
            ),
            ("job user wait p50", Unit::Millis, source.latency.p50_ms),
            ("job user wait p99", Unit::Millis, source.latency.p99_ms),
            (
                "job user wait_all p99",
                Unit::Millis,
                source.latency_all.p99_ms,
            ),
            (
                "job system time p50",
                Unit::Millis,
                job.latency_system.p50_ms,
            ),
            (
                "job system time p99",
                Unit::Millis,
                job.latency_system.p99_ms,
            ),
            (
                "job polling delay mean",
                Unit::Millis,
                job.polling_delay.mean_ms,
            ),
            ("polls per job", Unit::Number, Some(job.polls_per_job)),
            (
                "jobs rejected at submit",
                Unit::Count,
                count(job.submit_failed),
            ),
            ("jobs failed", Unit::Count, count(job.failed())),
            (
                "jobs unfinished at the end",
                Unit::Count,
                count(job.unfinished_at_end),
            ),
            (
                "jobs given up on by their clients",
                Unit::Count,
                count(job.abandoned),
            ),
            (
                "jobs completed after their client gave up",
                Unit::Count,
                count(job.completed_after_given_up),
            ),
        ];
        for (metric, unit, value) in job_rows {
            rows.push((format!("{prefix}{metric}"), unit, value));
        }
    }
    rows
}

fn request_metrics(summary: &Summary, only_sends: bool) -> Vec<Headline> {
    let totals = &summary.totals;
    let throughput: f64 = summary.sources.iter().map(|s| s.throughput_per_s).sum();
    let (goodput, success) = match only_sends {
        true => ("sends accepted", "sends accepted ratio"),
        false => ("goodput", "success ratio"),
    };
    let mut rows = vec![
        (
            goodput.to_string(),
            Unit::PerSecond,
            Some(totals.goodput_per_s),
        ),
        ("throughput".to_string(), Unit::PerSecond, Some(throughput)),
        (
            success.to_string(),
            Unit::Percent,
            Some(totals.success_ratio() * 100.0),
        ),
    ];
    if only_sends {
        rows.remove(1);
    }
    rows
}

/// Per source: latency of successful requests and of all, and, around a
/// disturbance, goodput and p99 before, during and after it.
fn source_latency_metrics(
    summary: &Summary,
    source: &super::summary::SourceSummary,
) -> Vec<Headline> {
    let prefix = match summary.sources.len() > 1 {
        true => format!("{} ", source.name),
        false => String::new(),
    };
    let (ok, all) = (&source.latency, &source.latency_all);
    let mut rows = vec![
        (format!("{prefix}latency p50"), Unit::Millis, ok.p50_ms),
        (format!("{prefix}latency p99"), Unit::Millis, ok.p99_ms),
        (format!("{prefix}latency p99.9"), Unit::Millis, ok.p999_ms),
        (format!("{prefix}latency_all p50"), Unit::Millis, all.p50_ms),
        (format!("{prefix}latency_all p99"), Unit::Millis, all.p99_ms),
    ];
    for phase in source.phases.iter().flatten() {
        let name = phase.phase;
        rows.push((
            format!("{prefix}goodput {name}"),
            Unit::PerSecond,
            phase.goodput_per_s,
        ));
        rows.push((
            format!("{prefix}latency_all p99 {name}"),
            Unit::Millis,
            phase.latency_all_p99_ms,
        ));
    }
    rows
}

/// Work done per request, amplification, wasted work and defences.
fn work_metrics(summary: &Summary) -> Vec<Headline> {
    let services = &summary.services;
    let calls = &summary.calls;
    let attempts: u64 = services.iter().map(|s| s.attempts).sum();
    let mut rows: Vec<Headline> = Vec::new();
    if !services.is_empty() {
        rows.push((
            "total service attempts".to_string(),
            Unit::Count,
            Some(attempts as f64),
        ));
        rows.push((
            "service attempts per request".to_string(),
            Unit::Times,
            Some(summary.totals.work_per_request),
        ));
    }
    let polling = super::jobs::Polling::of(summary);
    for service in services {
        // A status endpoint's attempts per job are polls, not retries.
        let what = |source: &str| match polling.polled_by(&service.name, source) {
            true => "polls per request",
            false => "amplification",
        };
        match service.amplification_by_source.as_slice() {
            [] => {}
            [only] => rows.push((
                format!("{} {}", service.name, what(&only.source)),
                Unit::Times,
                Some(only.amplification),
            )),
            several => {
                for a in several {
                    rows.push((
                        format!("{} {} from {}", service.name, what(&a.source), a.source),
                        Unit::Times,
                        Some(a.amplification),
                    ));
                }
            }
        }
    }
    let abandoned: u64 = services.iter().map(|s| s.abandoned_work).sum();
    if !services.is_empty() {
        rows.push((
            "abandoned work".to_string(),
            Unit::Count,
            Some(abandoned as f64),
        ));
    }
    let ejections: u64 = services
        .iter()
        .map(|s| s.ejections)
        .chain(summary.load_balancers.iter().map(|b| b.ejections))
        .sum();
    // As callers saw them: by a rate limiter in front of a target, or by
    // the caller's own limit on the call.
    let throttled: u64 = calls.iter().map(|c| c.attempt_failures.throttled).sum();
    let defences: [(&str, u64); 6] = [
        ("instances ejected", ejections),
        (
            "retries throttled",
            calls.iter().map(|c| c.retries_throttled).sum(),
        ),
        (
            "short-circuited",
            calls.iter().map(|c| c.short_circuited).sum(),
        ),
        ("attempts throttled", throttled),
        (
            "shed by servers",
            services
                .iter()
                .map(|s| s.shed + s.displaced + s.queue_timeouts)
                .sum(),
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
        rows.push((name.to_string(), Unit::Count, Some(count as f64)));
    }
    rows
}

/// Per queue with a consumer: what was processed, how long it took from
/// send to delete, and the ways messages go astray or are left over.
fn queue_metrics(summary: &Summary) -> Vec<Headline> {
    let consumed = summary
        .queues
        .iter()
        .filter(|q| summary.consumers.iter().any(|c| c.queue == q.name));
    let mut metrics = Vec::new();
    for q in consumed {
        let name = &q.name;
        let rows = [
            ("processed", Unit::PerSecond, Some(q.processed_per_s)),
            ("message latency p50", Unit::Millis, q.latency.p50_ms),
            ("message latency p99", Unit::Millis, q.latency.p99_ms),
            (
                "message latency_all p99",
                Unit::Millis,
                q.latency_all.p99_ms,
            ),
            ("dead-lettered", Unit::Count, Some(q.dead_lettered as f64)),
            ("expired", Unit::Count, Some(q.expired as f64)),
            ("dropped", Unit::Count, Some(q.dropped as f64)),
            (
                "unfinished at the end",
                Unit::Count,
                Some(q.unfinished_at_end as f64),
            ),
            ("depth max", Unit::Count, Some(q.depth_max as f64)),
            (
                "receives per message",
                Unit::Number,
                Some(q.receives_per_message),
            ),
            ("empty receives", Unit::Count, Some(q.empty_receives as f64)),
            ("duplicates", Unit::Count, Some(q.duplicates as f64)),
        ];
        for (metric, unit, value) in rows {
            metrics.push((format!("{name} {metric}"), unit, value));
        }
    }
    metrics
}

/// The capacity paid for: kept only when variants differ in it.
const INSTANCES: &str = "instances (time-average, all services)";

/// Rows left out of a comparison when they are zero in every run: defences
/// and faults the scenario does not use.
const OMITTED_WHEN_ZERO: [&str; 6] = [
    "instances ejected",
    "retries throttled",
    "short-circuited",
    "attempts throttled",
    "shed by servers",
    "lost to faults",
];

/// Per-queue rows left out in the same way.
const OMITTED_SUFFIXES: [&str; 9] = [
    "jobs rejected at submit",
    "jobs given up on by their clients",
    "jobs completed after their client gave up",
    " duplicates",
    " dead-lettered",
    " expired",
    " dropped",
    " unfinished at the end",
    " empty receives",
];

/// Builds the comparison from `runs[v][r]`: variant v, replication r. Rows
/// are matched by name, in the order they first appear, so a row one
/// variant lacks (a source that never reaches a service) reads "–" there.
pub fn compare(variants: &[String], runs: &[Vec<Summary>]) -> Comparison {
    let first = &runs[0][0];
    let labels: Vec<(Option<String>, String)> =
        variants.iter().map(|v| (None, v.clone())).collect();
    let per_run: Vec<Vec<Vec<Headline>>> = runs
        .iter()
        .map(|reps| reps.iter().map(headline_metrics).collect())
        .collect();
    let mut names: Vec<(String, Unit)> = Vec::new();
    for (name, unit, _) in per_run.iter().flatten().flatten() {
        if !names.iter().any(|(n, _)| n == name) {
            names.push((name.clone(), *unit));
        }
    }
    let value_of =
        |run: &[Headline], name: &str| run.iter().find(|(n, _, _)| n == name).and_then(|row| row.2);
    let metrics = names
        .into_iter()
        .map(|(metric, unit)| MetricRow {
            values: per_run
                .iter()
                .map(|reps| {
                    let values: Vec<f64> = reps
                        .iter()
                        .filter_map(|run| value_of(run, &metric))
                        .collect();
                    (!values.is_empty()).then(|| Estimate::of(&values))
                })
                .collect(),
            metric,
            unit,
        })
        .filter(keep_row)
        .collect();
    let hashes = variants
        .iter()
        .zip(runs)
        .map(|(name, reps)| RunHash {
            name: name.clone(),
            scenario_sha256: reps[0].provenance.scenario_sha256.clone(),
        })
        .collect();
    Comparison {
        kind: "compare",
        provenance: provenance::of_batch(first.seed, hashes),
        scenario: first.scenario.clone(),
        seed: first.seed,
        replications: runs[0].len() as u32,
        variants: variants.to_vec(),
        findings: findings(variants, runs),
        metrics,
        recovery: recovery_rows(variants, runs),
        drains: drain_rows(variants, runs),
        stopped: stopped_runs(&labels, runs),
    }
}

/// Defence, fault and loss rows only when some run has them; the instance
/// count only when variants differ in it.
fn keep_row(row: &MetricRow) -> bool {
    let means = || row.values.iter().flatten().map(|e| e.mean);
    let name = row.metric.as_str();
    if OMITTED_WHEN_ZERO.contains(&name) || OMITTED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return means().any(|v| v != 0.0);
    }
    if name == INSTANCES {
        let first = row.values[0].map(|e| e.mean);
        return row.values.iter().any(|v| v.map(|e| e.mean) != first);
    }
    true
}

/// Sentences for what the table could hide: a variant whose successful
/// requests (or processed messages) look faster while more of its work
/// fails. Each variant is set against the one that fails least, and only
/// when it fails more by over a point, so noise does not make a finding.
fn findings(variants: &[String], runs: &[Vec<Summary>]) -> Vec<String> {
    let mut out = Vec::new();
    let first = &runs[0][0];
    for (index, source) in first.sources.iter().enumerate() {
        if source.sends_messages() {
            continue;
        }
        let view = |s: &Summary| {
            let source = s.sources.get(index)?;
            let finished = source.succeeded + source.failed.total();
            Some(Outcome {
                p99: source.latency.p99_ms,
                p99_all: source.latency_all.p99_ms,
                // From the counts, unrounded, so it reads as the table's success ratio.
                success: (finished > 0).then(|| source.succeeded as f64 / finished as f64),
            })
        };
        out.extend(faster_but_failing(
            variants,
            runs,
            &view,
            &Subject::Requests(&source.name),
        ));
    }
    for (index, queue) in first.queues.iter().enumerate() {
        let view = |s: &Summary| {
            let q = s.queues.get(index)?;
            // Of the messages that arrived in the window, the share processed:
            // one that never leaves (poison without a DLQ) counts against it.
            let arrived = q.sent + q.dead_letters_in;
            Some(Outcome {
                p99: q.latency.p99_ms,
                p99_all: q.latency_all.p99_ms,
                success: (arrived > 0).then(|| q.deleted as f64 / arrived as f64),
            })
        };
        out.extend(faster_but_failing(
            variants,
            runs,
            &view,
            &Subject::Messages(&queue.name),
        ));
    }
    out
}

/// What one run says about a source's requests or a queue's messages.
struct Outcome {
    p99: Option<f64>,
    p99_all: Option<f64>,
    success: Option<f64>,
}

enum Subject<'a> {
    Requests(&'a str),
    Messages(&'a str),
}

/// One sentence naming the variants whose p99 beats the most successful
/// variant's only because they fail more, with the p99 over everything.
fn faster_but_failing(
    variants: &[String],
    runs: &[Vec<Summary>],
    view: &dyn Fn(&Summary) -> Option<Outcome>,
    subject: &Subject,
) -> Option<String> {
    let mean = |reps: &[Summary], f: &dyn Fn(&Outcome) -> Option<f64>| {
        let values: Vec<f64> = reps.iter().filter_map(|s| f(&view(s)?)).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let stats: Vec<Option<(f64, f64, Option<f64>)>> = runs
        .iter()
        .map(|reps| {
            Some((
                mean(reps, &|o| o.p99)?,
                mean(reps, &|o| o.success)?,
                mean(reps, &|o| o.p99_all),
            ))
        })
        .collect();
    let best = (0..runs.len())
        .filter_map(|v| Some((v, stats[v]?)))
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))?;
    let all = |p99: Option<f64>| p99.map_or("–".to_string(), format_ms);
    let (what, done, counted) = match subject {
        Subject::Requests(name) => (
            format!("`{name}` requests"),
            "succeeded",
            "the requests that succeeded",
        ),
        Subject::Messages(name) => (
            format!("messages of `{name}`"),
            "processed",
            "the messages processed",
        ),
    };
    let cases: Vec<String> = (0..runs.len())
        .filter(|&v| v != best.0)
        .filter_map(|v| Some((v, stats[v]?)))
        .filter(|&(_, (p99, success, _))| p99 < best.1.0 && success < best.1.1 - 0.01)
        .map(|(v, (p99, success, p99_all))| {
            format!(
                "`{}` p99 {} but {:.1}% {done} (over every one, p99 {})",
                variants[v],
                format_ms(p99),
                success * 100.0,
                all(p99_all),
            )
        })
        .collect();
    if cases.is_empty() {
        return None;
    }
    Some(format!(
        "A lower p99 for {what} that comes with more failures, against `{}` (p99 {}, {:.1}% {done}; over every one, p99 {}): {}. The p99 counts only {counted}: read it with the p99 over every one and the share {done}.",
        variants[best.0],
        format_ms(best.1.0),
        best.1.1 * 100.0,
        all(best.1.2),
        cases.join("; "),
    ))
}

pub fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::PerSecond => super::text::format_rate(value),
        Unit::Millis => format_ms(value),
        Unit::Times => format!("{value:.2}×"),
        Unit::Number => format!("{value:.2}"),
        Unit::Percent => format!("{value:.1}%"),
        Unit::Count => group_digits(value.round().max(0.0) as u64),
        Unit::Cost => super::text::format_cost(value),
    }
}

fn cell(unit: Unit, estimate: Option<Estimate>, baseline: Option<Estimate>) -> String {
    let Some(estimate) = estimate else {
        return "–".to_string();
    };
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
        // A difference of percentages is in percentage points: "+42.0%"
        // beside a ratio would read as a relative change.
        let magnitude = match unit {
            Unit::Percent => format!("{:.1} pp", delta.abs()),
            _ => format_value(unit, delta.abs()),
        };
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
    let (preamble, table, notes) = parts(comparison, reproduce);
    format!("{preamble}{table}\n{notes}")
}

/// The comparison as the lines above its table, the table, and the notes
/// under it.
pub fn parts(comparison: &Comparison, reproduce: &str) -> (String, Table, String) {
    let mut header = vec!["metric"];
    header.extend(comparison.variants.iter().map(String::as_str));
    let mut table = new_table(&header, 1);
    for row in &comparison.metrics {
        let mut cells = vec![row.metric.clone()];
        for (index, estimate) in row.values.iter().enumerate() {
            let baseline = row.values[0].filter(|_| index > 0);
            cells.push(cell(row.unit, *estimate, baseline));
        }
        table.add_row(cells);
    }
    let replications = match comparison.replications {
        1 => "1 run per variant".to_string(),
        n => format!("{n} replications per variant, mean ±95% confidence interval"),
    };
    let preamble = format!(
        "stampede compare · {}\nseed {} · {replications} · common random numbers\nreproduce: {reproduce}\n\n{}",
        comparison.scenario,
        comparison.seed,
        stopped_text(&comparison.stopped)
            + &recovery_text(&comparison.recovery)
            + &drain_text(&comparison.drains)
            + &findings_text(&comparison.findings),
    );
    let notes = format!(
        "under each value: difference and ratio against `{}`\n{LEGEND}",
        comparison.variants[0]
    );
    (preamble, table, notes)
}

/// What the latency rows cover, printed under every comparison.
const LEGEND: &str = "latency: successful requests only · latency_all: every finished request, failures included · before/during/after: requests by when they finished, around the disturbance · –: no data\n";

fn findings_text(findings: &[String]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = String::from("Read with care:\n");
    for finding in findings {
        out.push_str(&format!("  - {finding}\n"));
    }
    out.push('\n');
    out
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
        let lost = match row.lost.mean.round() as u64 {
            0 => String::new(),
            n => format!(
                " ({} messages expired, were dropped or dead-lettered instead of processed)",
                group_digits(n)
            ),
        };
        out.push_str(&format!(
            "  {:<width$} {}: peaked at {peak} messages, {how}{lost}\n",
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
