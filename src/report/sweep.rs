//! A parameter sweep: the headline numbers at each value of one parameter,
//! per variant. The classic use is offered load against goodput and latency,
//! which shows the knee where latency explodes and where goodput collapses.

use serde::Serialize;

use super::compare::{StoppedRun, Unit, format_value, stopped_runs, stopped_text};
use super::provenance::{self, Provenance, RunHash};
use super::queues::{ConsumerSummary, QueueSummary};
use super::stats::Estimate;
use super::summary::{SourceSummary, Summary};
use super::text::new_table;

#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub value: String,
    pub variant: String,
    /// Totals over every source.
    pub offered_per_s: Estimate,
    pub goodput_per_s: Estimate,
    pub success_ratio: Estimate,
    pub work_per_request: Estimate,
    /// Per source: its own load, goodput and latency.
    pub sources: Vec<SourcePoint>,
    /// For scenarios with caches, the first cache's hit ratio (%), mean age
    /// of the entries its hits served (ms), and backend calls per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CachePoint>,
    /// For scenarios with consumers, the first consumer's queue and the consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePoint>,
    /// For scenarios whose sources submit jobs, the first job source's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobPoint>,
    /// For priced scenarios: the cost of the measured window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Estimate>,
}

/// A job source at one point: the system's time to complete its jobs, the
/// polling delay that adds to it for the user, and the polls per job. The
/// user's wait is the source's own latency.
#[derive(Clone, Debug, Serialize)]
pub struct JobPoint {
    pub source: String,
    pub system_latency_p50_ms: Option<Estimate>,
    pub system_latency_p99_ms: Option<Estimate>,
    pub polling_delay_mean_ms: Option<Estimate>,
    pub polls_per_job: Estimate,
}

/// One source at one point. Latencies are `None` (null) when no request of
/// that kind finished in any replication.
#[derive(Clone, Debug, Serialize)]
pub struct SourcePoint {
    pub name: String,
    /// "service", "queue", … as in the summary.
    pub target_kind: &'static str,
    pub offered_per_s: Estimate,
    pub goodput_per_s: Estimate,
    pub success_ratio: Estimate,
    /// Successful requests.
    pub latency_p50_ms: Option<Estimate>,
    pub latency_p99_ms: Option<Estimate>,
    pub latency_p999_ms: Option<Estimate>,
    /// Every finished request, failures included.
    pub latency_all_p99_ms: Option<Estimate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueuePoint {
    pub queue: String,
    /// Messages processed (deleted after success) per second.
    pub processed_per_s: Estimate,
    /// Send to delete, processed messages; and every message that left.
    pub message_latency_p50_ms: Option<Estimate>,
    pub message_latency_p99_ms: Option<Estimate>,
    pub message_latency_all_p99_ms: Option<Estimate>,
    pub dead_lettered: Estimate,
    pub expired: Estimate,
    pub dropped: Estimate,
    /// Still queued or in flight at the end.
    pub unfinished_at_end: Estimate,
    /// Replications in which the consumers were falling behind (the backlog
    /// grew through the run and was not drained).
    pub falling_behind_runs: u32,
    pub messages_per_receive: Estimate,
    /// The consumer's utilisation (%) and what one poller could process flat out.
    pub utilisation: Estimate,
    pub capacity_per_poller_per_s: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct CachePoint {
    pub hit_ratio: Estimate,
    pub hit_age_mean_ms: Option<Estimate>,
    pub backend_calls_per_s: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct SweepResult {
    /// What this document is, for `diff`: always `sweep`.
    pub kind: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub param: String,
    pub replications: u32,
    pub points: Vec<SweepPoint>,
    /// The runs a safety limit stopped before their end: their points cover
    /// only part of a run. Left out of the JSON when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<StoppedRun>,
    /// Version, root seed, and each point's scenario hash (`variant param=value`).
    pub provenance: Provenance,
}

/// The estimate over the replications that have a value, if any has.
fn available(values: impl Iterator<Item = Option<f64>>) -> Option<Estimate> {
    let values: Vec<f64> = values.flatten().collect();
    (!values.is_empty()).then(|| Estimate::of(&values))
}

/// The first job source's jobs over the replications of one point.
fn job_point(reps: &[Summary]) -> Option<JobPoint> {
    let index = reps[0].sources.iter().position(|s| s.job.is_some())?;
    let jobs = || reps.iter().filter_map(|s| s.sources[index].job.as_ref());
    Some(JobPoint {
        source: reps[0].sources[index].name.clone(),
        system_latency_p50_ms: available(jobs().map(|j| j.latency_system.p50_ms)),
        system_latency_p99_ms: available(jobs().map(|j| j.latency_system.p99_ms)),
        polling_delay_mean_ms: available(jobs().map(|j| j.polling_delay.mean_ms)),
        polls_per_job: Estimate::of(&jobs().map(|j| j.polls_per_job).collect::<Vec<_>>()),
    })
}

/// `runs[i]` are the replications of point i, described by `labels[i]` = (value, variant).
pub fn sweep_result(
    param: &str,
    labels: &[(String, String)],
    runs: &[Vec<Summary>],
) -> SweepResult {
    let points = labels
        .iter()
        .zip(runs)
        .map(|((value, variant), reps)| {
            let estimate =
                |f: &dyn Fn(&Summary) -> f64| Estimate::of(&reps.iter().map(f).collect::<Vec<_>>());
            SweepPoint {
                value: value.clone(),
                variant: variant.clone(),
                offered_per_s: estimate(&|s| s.totals.offered_per_s),
                goodput_per_s: estimate(&|s| s.totals.goodput_per_s),
                success_ratio: estimate(&|s| s.totals.success_ratio() * 100.0),
                work_per_request: estimate(&|s| s.totals.work_per_request),
                sources: (0..reps[0].sources.len())
                    .map(|index| source_point(reps, index))
                    .collect(),
                cache: reps[0].caches.first().map(|_| CachePoint {
                    hit_ratio: estimate(&|s| s.caches[0].hit_ratio * 100.0),
                    hit_age_mean_ms: available(reps.iter().map(|s| s.caches[0].hit_age.mean_ms)),
                    backend_calls_per_s: estimate(&|s| s.caches[0].backend_calls_per_s),
                }),
                queue: queue_point(&reps[0]).map(|(q, _)| queue_sweep_point(reps, &q.name)),
                job: job_point(reps),
                cost: reps[0]
                    .cost
                    .as_ref()
                    .map(|_| estimate(&|s| s.cost.as_ref().map_or(0.0, |c| c.total))),
            }
        })
        .collect();
    let first = &runs[0][0];
    let stopped_labels: Vec<(Option<String>, String)> = labels
        .iter()
        .map(|(value, variant)| (Some(value.clone()), variant.clone()))
        .collect();
    let hashes = labels
        .iter()
        .zip(runs)
        .map(|((value, variant), reps)| RunHash {
            name: format!("{variant} {param}={value}"),
            scenario_sha256: reps[0].provenance.scenario_sha256.clone(),
        })
        .collect();
    SweepResult {
        kind: "sweep",
        provenance: provenance::of_batch(first.seed, hashes),
        scenario: first.scenario.clone(),
        seed: first.seed,
        param: param.to_string(),
        replications: runs[0].len() as u32,
        points,
        stopped: stopped_runs(&stopped_labels, runs),
    }
}

fn source_point(reps: &[Summary], index: usize) -> SourcePoint {
    let first = &reps[0].sources[index];
    let estimate = |f: &dyn Fn(&SourceSummary) -> f64| {
        Estimate::of(
            &reps
                .iter()
                .map(|s| f(&s.sources[index]))
                .collect::<Vec<_>>(),
        )
    };
    let latency = |f: &dyn Fn(&SourceSummary) -> Option<f64>| {
        available(reps.iter().map(|s| f(&s.sources[index])))
    };
    SourcePoint {
        name: first.name.clone(),
        target_kind: first.target_kind,
        offered_per_s: estimate(&|s| s.offered_per_s),
        goodput_per_s: estimate(&|s| s.goodput_per_s),
        success_ratio: estimate(&|s| s.success_ratio * 100.0),
        latency_p50_ms: latency(&|s| s.latency.p50_ms),
        latency_p99_ms: latency(&|s| s.latency.p99_ms),
        latency_p999_ms: latency(&|s| s.latency.p999_ms),
        latency_all_p99_ms: latency(&|s| s.latency_all.p99_ms),
    }
}

fn queue_sweep_point(reps: &[Summary], queue: &str) -> QueuePoint {
    let pairs: Vec<(&QueueSummary, &ConsumerSummary)> =
        reps.iter().filter_map(|s| queue_point(s)).collect();
    let estimate = |f: &dyn Fn(&QueueSummary, &ConsumerSummary) -> f64| {
        Estimate::of(&pairs.iter().map(|&(q, c)| f(q, c)).collect::<Vec<_>>())
    };
    let latency =
        |f: &dyn Fn(&QueueSummary) -> Option<f64>| available(pairs.iter().map(|&(q, _)| f(q)));
    QueuePoint {
        queue: queue.to_string(),
        processed_per_s: estimate(&|q, _| q.processed_per_s),
        message_latency_p50_ms: latency(&|q| q.latency.p50_ms),
        message_latency_p99_ms: latency(&|q| q.latency.p99_ms),
        message_latency_all_p99_ms: latency(&|q| q.latency_all.p99_ms),
        dead_lettered: estimate(&|q, _| q.dead_lettered as f64),
        expired: estimate(&|q, _| q.expired as f64),
        dropped: estimate(&|q, _| q.dropped as f64),
        unfinished_at_end: estimate(&|q, _| q.unfinished_at_end as f64),
        falling_behind_runs: pairs
            .iter()
            .filter(|(q, _)| q.falling_behind.is_some())
            .count() as u32,
        messages_per_receive: estimate(&|q, _| q.messages_per_receive),
        utilisation: estimate(&|_, c| c.utilisation * 100.0),
        capacity_per_poller_per_s: estimate(&|_, c| c.capacity_per_poller_per_s),
    }
}

/// The first consumer and the queue it reads.
fn queue_point(summary: &Summary) -> Option<(&QueueSummary, &ConsumerSummary)> {
    let consumer = summary.consumers.first()?;
    let queue = summary.queues.iter().find(|q| q.name == consumer.queue)?;
    Some((queue, consumer))
}

fn show_or_dash(unit: Unit, estimate: &Option<Estimate>) -> String {
    estimate
        .as_ref()
        .map_or_else(|| "–".to_string(), |e| show(unit, e))
}

fn show(unit: Unit, estimate: &Estimate) -> String {
    let mut text = format_value(unit, estimate.mean);
    if let Some(half_width) = estimate.ci95 {
        text.push_str(&format!(
            " ±{}",
            format_value(unit, half_width).trim_end_matches("/s")
        ));
    }
    text
}

/// True for a source whose requests are sends to a queue or topic.
fn is_send(source: &SourcePoint) -> bool {
    super::summary::is_send_target(source.target_kind)
}

/// Which column groups a sweep's table has, and in what order.
struct Layout {
    /// Every source sends to a queue: processing leads.
    only_sends: bool,
    queued: bool,
    cached: bool,
    jobs: bool,
    priced: bool,
    /// The sources whose requests wait for an answer, by index.
    requesters: Vec<usize>,
}

impl Layout {
    fn of(first: &SweepPoint) -> Layout {
        Layout {
            only_sends: !first.sources.is_empty() && first.sources.iter().all(is_send),
            queued: first.queue.is_some(),
            cached: first.cache.is_some(),
            jobs: first.job.is_some(),
            priced: first.cost.is_some(),
            requesters: (0..first.sources.len())
                .filter(|&i| !is_send(&first.sources[i]))
                .collect(),
        }
    }

    fn header(&self, result: &SweepResult) -> Vec<String> {
        let queue_columns = QUEUE_COLUMNS.map(String::from);
        let mut header: Vec<String> = vec![result.param.clone(), "variant".into()];
        if self.queued && self.only_sends {
            header.extend(queue_columns.clone());
        }
        header.extend(["offered", "goodput", "success"].map(String::from));
        let many = self.requesters.len() > 1;
        for &index in &self.requesters {
            let name = &result.points[0].sources[index].name;
            let prefix = if many {
                format!("{name} ")
            } else {
                String::new()
            };
            if many {
                header.push(format!("{prefix}offered"));
            }
            for column in ["p50", "p99", "p99.9", "p99 all"] {
                header.push(format!("{prefix}{column}"));
            }
        }
        if !self.requesters.is_empty() {
            header.push("attempts/request".into());
        }
        if self.jobs {
            let columns = ["system p50", "system p99", "polling delay", "polls/job"];
            header.extend(columns.map(String::from));
        }
        if self.cached {
            header.extend(["hit ratio", "age of hits", "backend calls"].map(String::from));
        }
        if self.queued && !self.only_sends {
            header.extend(queue_columns);
        }
        if self.priced {
            header.push("cost".to_string());
        }
        header
    }

    fn row(&self, point: &SweepPoint) -> Vec<String> {
        let mut row = vec![point.value.clone(), point.variant.clone()];
        let queue_cells = point.queue.as_ref().map(queue_cells).unwrap_or_default();
        if self.only_sends {
            row.extend(queue_cells.clone());
        }
        row.push(show(Unit::PerSecond, &point.offered_per_s));
        row.push(show(Unit::PerSecond, &point.goodput_per_s));
        row.push(show(Unit::Percent, &point.success_ratio));
        for &index in &self.requesters {
            let Some(source) = point.sources.get(index) else {
                continue;
            };
            if self.requesters.len() > 1 {
                row.push(show(Unit::PerSecond, &source.offered_per_s));
            }
            row.push(show_or_dash(Unit::Millis, &source.latency_p50_ms));
            row.push(show_or_dash(Unit::Millis, &source.latency_p99_ms));
            row.push(show_or_dash(Unit::Millis, &source.latency_p999_ms));
            row.push(show_or_dash(Unit::Millis, &source.latency_all_p99_ms));
        }
        if !self.requesters.is_empty() {
            row.push(show(Unit::Times, &point.work_per_request));
        }
        if let Some(job) = &point.job {
            row.push(show_or_dash(Unit::Millis, &job.system_latency_p50_ms));
            row.push(show_or_dash(Unit::Millis, &job.system_latency_p99_ms));
            row.push(show_or_dash(Unit::Millis, &job.polling_delay_mean_ms));
            row.push(show(Unit::Number, &job.polls_per_job));
        }
        if let Some(cache) = &point.cache {
            row.push(show(Unit::Percent, &cache.hit_ratio));
            row.push(show_or_dash(Unit::Millis, &cache.hit_age_mean_ms));
            row.push(show(Unit::PerSecond, &cache.backend_calls_per_s));
        }
        if !self.only_sends {
            row.extend(queue_cells);
        }
        if let Some(cost) = &point.cost {
            row.push(show(Unit::Cost, cost));
        }
        row
    }

    /// What the columns measure, under the table.
    fn notes(&self, behind: bool) -> String {
        let mut notes = String::new();
        if !self.requesters.is_empty() {
            notes.push_str("latency: end to end per source, successful requests; p99 all: every finished request, failures included\n");
            notes.push_str("attempts/request: attempts at all services ÷ requests, the work per request (one per service call on a request's path when nothing retries)\n");
        }
        if self.jobs {
            notes.push_str("jobs: a job source's latency is the user's wait (submit → the poll that saw the job done); system: submit → done; polling delay: the job done → the poll that saw it (mean)\n");
        }
        if self.queued {
            notes.push_str("processed: messages deleted after success per second · msg: from send to delete in the first consumer's queue (all: every message that left) · unfinished: still queued or in flight at the end\n");
        }
        if self.only_sends {
            notes.push_str(
                "offered, goodput, success: the producers' sends, accepted by the queue\n",
            );
        }
        if behind {
            notes.push_str("BEHIND: consumers were falling behind at this point (the backlog grew through the run and was not drained)\n");
        }
        notes
    }
}

const QUEUE_COLUMNS: [&str; 9] = [
    "processed",
    "msg p50",
    "msg p99",
    "msg p99 all",
    "dead-lettered",
    "unfinished",
    "msgs/receive",
    "consumer util",
    "capacity/poller",
];

pub fn render(result: &SweepResult, reproduce: &str) -> String {
    let (preamble, table, notes) = parts(result, reproduce);
    format!("{preamble}{table}\n{notes}")
}

/// The sweep as the lines above its table, the table, and the notes under it.
pub fn parts(result: &SweepResult, reproduce: &str) -> (String, comfy_table::Table, String) {
    let layout = Layout::of(&result.points[0]);
    let header = layout.header(result);
    let columns: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = new_table(&columns, 2);
    for point in &result.points {
        table.add_row(layout.row(point));
    }
    let behind = result
        .points
        .iter()
        .any(|p| p.queue.as_ref().is_some_and(|q| q.falling_behind_runs > 0));
    let replications = match result.replications {
        1 => "1 run per point".to_string(),
        n => format!("{n} replications per point, mean ±95% confidence interval"),
    };
    let preamble = format!(
        "stampede sweep · {} · {}\nseed {} · {replications}\nreproduce: {reproduce}\n\n{}",
        result.scenario,
        result.param,
        result.seed,
        stopped_text(&result.stopped),
    );
    (preamble, table, layout.notes(behind))
}

/// The processing columns of a queue at one point; "BEHIND" marks a
/// backlog that kept growing.
fn queue_cells(queue: &QueuePoint) -> Vec<String> {
    let mut processed = show(Unit::PerSecond, &queue.processed_per_s);
    if queue.falling_behind_runs > 0 {
        processed.push_str(" BEHIND");
    }
    vec![
        processed,
        show_or_dash(Unit::Millis, &queue.message_latency_p50_ms),
        show_or_dash(Unit::Millis, &queue.message_latency_p99_ms),
        show_or_dash(Unit::Millis, &queue.message_latency_all_p99_ms),
        show(Unit::Count, &queue.dead_lettered),
        show(Unit::Count, &queue.unfinished_at_end),
        show(Unit::Number, &queue.messages_per_receive),
        show(Unit::Percent, &queue.utilisation),
        show(Unit::PerSecond, &queue.capacity_per_poller_per_s),
    ]
}
