//! A parameter sweep: the headline numbers at each value of one parameter,
//! per variant. The classic use is offered load against goodput and latency,
//! which shows the knee where latency explodes and where goodput collapses.

use serde::Serialize;

use super::compare::{Unit, format_value};
use super::queues::{ConsumerSummary, QueueSummary};
use super::stats::Estimate;
use super::summary::Summary;
use super::text::new_table;

#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub value: String,
    pub variant: String,
    pub offered_per_s: Estimate,
    pub goodput_per_s: Estimate,
    pub success_ratio: Estimate,
    pub latency_p50_ms: Estimate,
    pub latency_p99_ms: Estimate,
    pub latency_p999_ms: Estimate,
    pub work_per_request: Estimate,
    /// For scenarios with caches, the first cache's hit ratio (%), mean age
    /// of the entries its hits served (ms), and backend calls per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CachePoint>,
    /// For scenarios with consumers, the first consumer's queue and the consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePoint>,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueuePoint {
    pub message_latency_p50_ms: Estimate,
    pub message_latency_p99_ms: Estimate,
    pub deleted_per_s: Estimate,
    pub messages_per_receive: Estimate,
    /// The consumer's utilisation (%) and what one poller could process flat out.
    pub utilisation: Estimate,
    pub capacity_per_poller_per_s: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct CachePoint {
    pub hit_ratio: Estimate,
    pub hit_age_mean_ms: Estimate,
    pub backend_calls_per_s: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct SweepResult {
    pub scenario: String,
    pub seed: u64,
    pub param: String,
    pub replications: u32,
    pub points: Vec<SweepPoint>,
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
            let first_source_latency =
                |s: &Summary| s.sources.first().map(|src| src.latency.clone());
            let queued = |f: &dyn Fn(&QueueSummary, &ConsumerSummary) -> f64| {
                estimate(&|s| queue_point(s).map_or(0.0, |(q, c)| f(q, c)))
            };
            SweepPoint {
                value: value.clone(),
                variant: variant.clone(),
                offered_per_s: estimate(&|s| s.totals.offered_per_s),
                goodput_per_s: estimate(&|s| s.totals.goodput_per_s),
                success_ratio: estimate(&|s| s.totals.success_ratio() * 100.0),
                latency_p50_ms: estimate(&|s| first_source_latency(s).map_or(0.0, |l| l.p50_ms)),
                latency_p99_ms: estimate(&|s| first_source_latency(s).map_or(0.0, |l| l.p99_ms)),
                latency_p999_ms: estimate(&|s| first_source_latency(s).map_or(0.0, |l| l.p999_ms)),
                work_per_request: estimate(&|s| s.totals.work_per_request),
                cache: reps[0].caches.first().map(|_| CachePoint {
                    hit_ratio: estimate(&|s| s.caches[0].hit_ratio * 100.0),
                    hit_age_mean_ms: estimate(&|s| s.caches[0].hit_age.mean_ms),
                    backend_calls_per_s: estimate(&|s| s.caches[0].backend_calls_per_s),
                }),
                queue: queue_point(&reps[0]).map(|_| QueuePoint {
                    message_latency_p50_ms: queued(&|q, _| q.latency.p50_ms),
                    message_latency_p99_ms: queued(&|q, _| q.latency.p99_ms),
                    deleted_per_s: queued(&|q, _| q.deleted_per_s),
                    messages_per_receive: queued(&|q, _| q.messages_per_receive),
                    utilisation: queued(&|_, c| c.utilisation * 100.0),
                    capacity_per_poller_per_s: queued(&|_, c| c.capacity_per_poller_per_s),
                }),
            }
        })
        .collect();
    let first = &runs[0][0];
    SweepResult {
        scenario: first.scenario.clone(),
        seed: first.seed,
        param: param.to_string(),
        replications: runs[0].len() as u32,
        points,
    }
}

/// The first consumer and the queue it reads.
fn queue_point(summary: &Summary) -> Option<(&QueueSummary, &ConsumerSummary)> {
    let consumer = summary.consumers.first()?;
    let queue = summary.queues.iter().find(|q| q.name == consumer.queue)?;
    Some((queue, consumer))
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

pub fn render(result: &SweepResult, reproduce: &str) -> String {
    let mut header = vec![
        result.param.as_str(),
        "variant",
        "offered",
        "goodput",
        "success",
        "p50",
        "p99",
        "p99.9",
        "attempts/request",
    ];
    let cached = result.points.iter().any(|p| p.cache.is_some());
    if cached {
        header.extend(["hit ratio", "age of hits", "backend calls"]);
    }
    let queued = result.points.iter().any(|p| p.queue.is_some());
    if queued {
        header.extend([
            "msg p50",
            "msg p99",
            "deleted",
            "msgs/receive",
            "consumer util",
            "capacity/poller",
        ]);
    }
    let mut table = new_table(&header, 2);
    for point in &result.points {
        let mut row = vec![
            point.value.clone(),
            point.variant.clone(),
            show(Unit::PerSecond, &point.offered_per_s),
            show(Unit::PerSecond, &point.goodput_per_s),
            show(Unit::Percent, &point.success_ratio),
            show(Unit::Millis, &point.latency_p50_ms),
            show(Unit::Millis, &point.latency_p99_ms),
            show(Unit::Millis, &point.latency_p999_ms),
            show(Unit::Times, &point.work_per_request),
        ];
        if let Some(cache) = &point.cache {
            row.push(show(Unit::Percent, &cache.hit_ratio));
            row.push(show(Unit::Millis, &cache.hit_age_mean_ms));
            row.push(show(Unit::PerSecond, &cache.backend_calls_per_s));
        }
        if let Some(queue) = &point.queue {
            row.push(show(Unit::Millis, &queue.message_latency_p50_ms));
            row.push(show(Unit::Millis, &queue.message_latency_p99_ms));
            row.push(show(Unit::PerSecond, &queue.deleted_per_s));
            row.push(show(Unit::Number, &queue.messages_per_receive));
            row.push(show(Unit::Percent, &queue.utilisation));
            row.push(show(Unit::PerSecond, &queue.capacity_per_poller_per_s));
        }
        table.add_row(row);
    }
    let replications = match result.replications {
        1 => "1 run per point".to_string(),
        n => format!("{n} replications per point, mean ±95% confidence interval"),
    };
    format!(
        "stampede sweep · {} · {}\nseed {} · {replications}\nreproduce: {reproduce}\n\n{table}\nlatency: end to end, successful requests of the first source{}\n",
        result.scenario,
        result.param,
        result.seed,
        if queued {
            "; msg: from send to delete, in the first consumer's queue"
        } else {
            ""
        }
    )
}
