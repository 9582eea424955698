//! What a run says about its message queues and consumer groups: the
//! summaries, the backlog-drain verdict after a fault or surge, and the
//! terminal tables.
//!
//! Like the rest of the report, everything here is a function of the
//! recorded metrics and the time series.

use comfy_table::Table;
use serde::{Deserialize, Serialize};

use crate::engine::SimDuration;
use crate::report::metrics::{ConsumerMetrics, QueueMetrics};
use crate::report::timeseries::TimeSeries;
use crate::scenario::Scenario;
use crate::scenario::spec::{ConsumerSpec, QueueSpec};

use super::summary::{LatencySummary, Summary, per_second, ratio, round};
use super::text::{
    format_rate, format_seconds, format_window, group_digits, ms_or_dash, new_table,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueSummary {
    pub name: String,
    /// `standard` or `fifo`.
    #[serde(deserialize_with = "crate::report::interned")]
    pub kind: crate::report::Word,
    pub sent: u64,
    pub sent_per_s: f64,
    pub dead_letters_in: u64,
    pub deleted: u64,
    pub deleted_per_s: f64,
    pub expired: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub blocked: u64,
    pub in_queue_at_end: u64,
    pub blocked_at_end: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub receives: u64,
    pub empty_receives: u64,
    pub messages_received: u64,
    /// Messages returned ÷ receives, empty ones included.
    pub messages_per_receive: f64,
    pub batch_size_max: u64,
    /// Mean and max receive count of deleted messages.
    pub receives_per_message: f64,
    pub receive_count_max: u64,
    pub depth_mean: f64,
    pub depth_max: u64,
    pub in_flight_mean: f64,
    /// The longest any message stayed in this queue, in seconds.
    pub age_max_s: f64,
    /// Messages processed (deleted after success) in the measured window,
    /// whenever they were sent.
    pub processed: u64,
    /// The same per second: the consumers' work. (`deleted` counts only
    /// messages first sent in the window, so that it balances.)
    pub processed_per_s: f64,
    /// Held when the run ended, whenever sent: still queued, delayed or in
    /// flight, plus sends blocked at a full queue.
    pub unfinished_at_end: u64,
    /// From the first send to the successful delete.
    pub latency: LatencySummary,
    /// From the first send until a message left unprocessed (dead-lettered,
    /// expired, or pushed out of a full queue).
    pub latency_failed: LatencySummary,
    /// Every message that left the queue, processed or not.
    pub latency_all: LatencySummary,
    /// After a fault or surge: did the backlog drain?
    pub drain: Option<Drain>,
    /// Set when the backlog grew through the measured run and was not
    /// drained at the end: the consumers cannot keep up.
    pub falling_behind: Option<Backlog>,
}

/// A backlog (queued and in-flight messages) that grew through the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backlog {
    /// At the start of the measured window and at the end.
    pub from: f64,
    pub to: f64,
    /// Least-squares growth over the measured window, messages per second.
    pub growth_per_s: f64,
    /// How busy the queue's consumers were (0–1): busy consumers cannot
    /// keep up; idle ones mean messages fail and come back instead.
    pub consumer_utilisation: f64,
}

/// Decides whether a queue's backlog kept growing: the means of the
/// measured window's thirds rise one after the other, the last third is
/// clearly above the first (by 10 messages and a quarter), and the backlog
/// ends higher than it started. A backlog that rises and falls (a scheduled
/// job) or wobbles around a level does not qualify.
pub(super) fn falling_behind(
    scenario: &Scenario,
    series: &TimeSeries,
    queue: &str,
) -> Option<Backlog> {
    // A queue nobody consumes (a dead-letter queue) fills by design.
    let id = scenario.queues.iter().position(|q| q.name == queue)? as u32;
    scenario.consumers.iter().find(|c| c.queue == id)?;
    let depth = series.column(&format!("{queue}.depth"))?;
    let in_flight = series.column(&format!("{queue}.in_flight"))?;
    let warmup_s = scenario.warmup.as_secs_f64();
    let interval_s = series.interval.as_secs_f64();
    let points: Vec<(f64, f64)> = series
        .times()
        .into_iter()
        .zip(depth.iter().zip(&in_flight).map(|(d, f)| d + f))
        .filter(|&(t, _)| t - interval_s >= warmup_s)
        .collect();
    if points.len() < 6 {
        return None;
    }
    let third = points.len() / 3;
    let mean = |part: &[(f64, f64)]| part.iter().map(|p| p.1).sum::<f64>() / part.len() as f64;
    let (first, middle, last) = (
        mean(&points[..third]),
        mean(&points[third..points.len() - third]),
        mean(&points[points.len() - third..]),
    );
    let (from, to) = (points[0].1, points[points.len() - 1].1);
    let grew = first < middle && middle < last && last - first >= 10.0_f64.max(first / 4.0);
    (grew && to > from).then(|| Backlog {
        from,
        to,
        growth_per_s: round(slope(&points), 3),
        consumer_utilisation: 0.0,
    })
}

/// The least-squares slope of y over x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.0 - mean_x)).sum();
    covariance / variance.max(f64::MIN_POSITIVE)
}

/// Consumers at least this busy are the bottleneck of a growing backlog.
const BUSY: f64 = 0.8;

/// "consumers are falling behind: backlog grew from A to B at R/s", or,
/// when the consumers had time to spare, that messages keep coming back.
pub fn falling_behind_text(backlog: &Backlog) -> String {
    let growth = format!(
        "backlog grew from {} to {} at {}",
        group_digits(backlog.from.round() as u64),
        group_digits(backlog.to.round() as u64),
        format_rate(backlog.growth_per_s)
    );
    match backlog.consumer_utilisation >= BUSY {
        true => format!("consumers are falling behind: {growth}"),
        false => format!(
            "messages are not leaving: {growth} while the consumers were only {:.0}% busy (messages that fail come back; a dead-letter queue sets them aside)",
            backlog.consumer_utilisation * 100.0
        ),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsumerSummary {
    pub name: String,
    pub queue: String,
    pub pollers: u32,
    pub max_messages: u32,
    pub batches: u64,
    pub batches_failed: u64,
    pub messages: u64,
    pub messages_succeeded: u64,
    pub messages_failed: u64,
    pub messages_lost_in_crash: u64,
    pub messages_per_batch: f64,
    /// Messages processed successfully per second, in all and per poller.
    pub throughput_per_s: f64,
    pub throughput_per_poller_per_s: f64,
    /// Time pollers spent processing ÷ pollers × measured time.
    pub utilisation: f64,
    /// Messages processed successfully per second a poller spent processing:
    /// what one poller could do flat out, at this batch size.
    pub capacity_per_poller_per_s: f64,
    /// From receive to the end of processing, per batch.
    pub batch_latency: LatencySummary,
}

/// How a queue's backlog came back after a fault or surge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drain {
    pub trigger_start_s: f64,
    pub trigger_end_s: f64,
    /// The deepest the queue was between warm-up and the trigger.
    pub depth_before_max: f64,
    /// The deepest it was from the trigger on.
    pub backlog_peak: f64,
    pub drained: bool,
    /// From the end of the trigger until the depth was back to its level before.
    pub drain_time_s: Option<f64>,
}

pub(super) fn queue_summary(
    spec: &QueueSpec,
    m: &QueueMetrics,
    measured: SimDuration,
    (drain, falling_behind): (Option<Drain>, Option<Backlog>),
) -> QueueSummary {
    let span = measured.as_nanos().max(1) as f64;
    QueueSummary {
        name: spec.name.clone(),
        kind: if spec.fifo.is_some() {
            "fifo"
        } else {
            "standard"
        },
        sent: m.sent,
        sent_per_s: per_second(m.sent, measured),
        dead_letters_in: m.dead_letters_in,
        deleted: m.deleted,
        deleted_per_s: per_second(m.deleted, measured),
        expired: m.expired,
        dead_lettered: m.dead_lettered,
        dropped: m.dropped,
        blocked: m.blocked,
        in_queue_at_end: m.in_queue_at_end,
        blocked_at_end: m.blocked_at_end,
        duplicates: m.duplicates,
        out_of_order: m.out_of_order,
        receives: m.receives,
        empty_receives: m.empty_receives,
        messages_received: m.messages_received,
        messages_per_receive: ratio(m.messages_received, m.receives),
        batch_size_max: m.batch_size_max,
        receives_per_message: ratio(m.receive_count_sum, m.deleted),
        receive_count_max: m.receive_count_max,
        depth_mean: round(m.depth.integral() as f64 / span, 4),
        depth_max: m.depth_max,
        in_flight_mean: round(m.in_flight.integral() as f64 / span, 4),
        age_max_s: round(m.age_max.as_secs_f64(), 3),
        processed: m.processed,
        processed_per_s: per_second(m.processed, measured),
        unfinished_at_end: m.held_at_end + m.blocked_at_end,
        latency: LatencySummary::of(&m.latency),
        latency_failed: LatencySummary::of(&m.latency_failed),
        latency_all: LatencySummary::of(&m.latency.merged(&m.latency_failed)),
        drain,
        falling_behind,
    }
}

pub(super) fn consumer_summary(
    scenario: &Scenario,
    spec: &ConsumerSpec,
    m: &ConsumerMetrics,
    measured: SimDuration,
) -> ConsumerSummary {
    let capacity = measured.as_nanos() as f64 * f64::from(spec.pollers);
    let throughput = per_second(m.messages_succeeded, measured);
    ConsumerSummary {
        name: spec.name.clone(),
        queue: scenario.queues[spec.queue as usize].name.clone(),
        pollers: spec.pollers,
        max_messages: spec.max_messages,
        batches: m.batches,
        batches_failed: m.batches_failed,
        messages: m.messages,
        messages_succeeded: m.messages_succeeded,
        messages_failed: m.messages_failed,
        messages_lost_in_crash: m.messages_lost_in_crash,
        messages_per_batch: ratio(m.messages, m.batches),
        throughput_per_s: throughput,
        throughput_per_poller_per_s: round(throughput / f64::from(spec.pollers), 3),
        utilisation: round(m.busy.integral() as f64 / capacity.max(1.0), 4),
        capacity_per_poller_per_s: round(
            m.messages_succeeded as f64 * 1e9 / (m.busy.integral() as f64).max(1.0),
            3,
        ),
        batch_latency: LatencySummary::of(&m.batch_latency),
    }
}

/// The drain verdict for `queue`, if the scenario has a fault or surge that
/// ends and a consumer polls the queue continuously (a scheduled job's
/// backlog rises and falls by design).
pub(super) fn drain_of(scenario: &Scenario, series: &TimeSeries, queue: &str) -> Option<Drain> {
    let id = scenario.queues.iter().position(|q| q.name == queue)? as u32;
    scenario
        .consumers
        .iter()
        .find(|c| c.queue == id && c.schedule.is_none())?;
    let (start, end) = scenario.disturbance_window()?;
    let (start_s, end_s) = (start.as_secs_f64(), end.as_secs_f64());
    let warmup_s = scenario.warmup.as_secs_f64();
    let interval_s = series.interval.as_secs_f64();
    let depth = series.column(&format!("{queue}.depth"))?;
    let samples: Vec<(f64, f64)> = series.times().into_iter().zip(depth).collect();
    let before = samples
        .iter()
        .filter(|&&(t, _)| t - interval_s >= warmup_s && t <= start_s)
        .map(|&(_, d)| d)
        .reduce(f64::max)?;
    let backlog_peak = samples
        .iter()
        .filter(|&&(t, _)| t >= start_s)
        .map(|&(_, d)| d)
        .fold(0.0, f64::max);
    let back = samples
        .iter()
        .find(|&&(t, d)| t >= end_s && d <= before)
        .map(|&(t, _)| round(t - end_s, 4));
    Some(Drain {
        trigger_start_s: start_s,
        trigger_end_s: end_s,
        depth_before_max: before,
        backlog_peak,
        drained: back.is_some(),
        drain_time_s: back,
    })
}

/// For each queue a consumer reads, when producers send to queues or topics:
/// what was processed, lost and left over, and the latency from send to
/// delete. These lead the report, since processing is the work.
pub fn processing_lines(summary: &Summary) -> String {
    let sends = summary.sources.iter().any(|s| s.sends_messages());
    if !sends {
        return String::new();
    }
    let consumed = summary
        .queues
        .iter()
        .filter(|q| summary.consumers.iter().any(|c| c.queue == q.name));
    let mut out = String::new();
    for q in consumed {
        let duplicates = match q.duplicates {
            0 => String::new(),
            n => format!(", {} processed again (duplicates)", group_digits(n)),
        };
        // The counts are of the messages sent in the measured window, so
        // they add up to what was sent; the rate is the consumers' work in
        // the window, whenever its messages were sent.
        out.push_str(&format!(
            "queue {}: {} messages sent: {} processed{duplicates}, {} dead-lettered, {} expired, {} dropped, {} unfinished at the end (queued or in flight) · consumers processed {} · send to delete p50 {}, p99 {}; every message that left p99 {}\n",
            q.name,
            group_digits(q.sent + q.dead_letters_in),
            group_digits(q.deleted),
            group_digits(q.dead_lettered),
            group_digits(q.expired),
            group_digits(q.dropped),
            group_digits(q.unfinished_at_end),
            format_rate(q.processed_per_s),
            ms_or_dash(q.latency.p50_ms),
            ms_or_dash(q.latency.p99_ms),
            ms_or_dash(q.latency_all.p99_ms),
        ));
    }
    out
}

/// One line per queue with a drain verdict or falling behind, for the
/// report's header.
pub fn drain_lines(summary: &Summary) -> String {
    let mut out = String::new();
    for queue in &summary.queues {
        if let Some(backlog) = &queue.falling_behind {
            out.push_str(&format!(
                "WARNING: queue {}: {}\n",
                queue.name,
                falling_behind_text(backlog)
            ));
        }
    }
    // Only backlogs that clearly grew: a queue the disturbance did not touch says nothing.
    let grew = |d: &&Drain| d.backlog_peak >= 2.0 * d.depth_before_max + 10.0;
    for queue in &summary.queues {
        let Some(drain) = queue.drain.as_ref().filter(grew) else {
            continue;
        };
        let mut verdict = match drain.drain_time_s {
            Some(seconds) => format!("drained {} after it ended", format_seconds(seconds)),
            None => "had not drained by the end of the run".to_string(),
        };
        let lost = queue.expired + queue.dropped + queue.dead_lettered;
        if lost > 0 {
            verdict.push_str(&format!(
                ", {} messages expired, were dropped or dead-lettered instead of processed",
                group_digits(lost)
            ));
        }
        out.push_str(&format!(
            "queue {}: depth peaked at {} messages in the time series (one sample per interval) after the disturbance at {} (at most {} before) and {verdict}\n",
            queue.name,
            group_digits(drain.backlog_peak as u64),
            format_window(drain.trigger_start_s, drain.trigger_end_s, "–"),
            group_digits(drain.depth_before_max as u64),
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

pub(super) fn queues_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "queue",
            "sent",
            "deleted",
            "expired",
            "to DLQ",
            "dropped",
            "left",
            "dupl.",
            "receives",
            "empty",
            "msgs/recv",
            "depth mean",
            "depth max",
            "age max",
            "p50",
            "p99",
        ],
        1,
    );
    for q in &summary.queues {
        let name = match (q.kind, q.dead_letters_in) {
            ("fifo", _) => format!("{} (fifo)", q.name),
            (_, 0) => q.name.clone(),
            _ => format!(
                "{} (+{} dead letters)",
                q.name,
                group_digits(q.dead_letters_in)
            ),
        };
        table.add_row(vec![
            name,
            format!("{} ({})", group_digits(q.sent), format_rate(q.sent_per_s)),
            format!(
                "{} ({})",
                group_digits(q.deleted),
                format_rate(q.deleted_per_s)
            ),
            group_digits(q.expired),
            group_digits(q.dead_lettered),
            group_digits(q.dropped),
            group_digits(q.in_queue_at_end + q.blocked_at_end),
            group_digits(q.duplicates),
            group_digits(q.receives),
            group_digits(q.empty_receives),
            format!("{:.2}", q.messages_per_receive),
            format!("{:.1}", q.depth_mean),
            group_digits(q.depth_max),
            format_seconds(q.age_max_s),
            ms_or_dash(q.latency.p50_ms),
            ms_or_dash(q.latency.p99_ms),
        ]);
    }
    table
}

pub(super) fn consumers_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "consumer",
            "pollers",
            "batches",
            "msgs/batch",
            "ok",
            "failed",
            "lost in crash",
            "util",
            "ok/s",
            "capacity/poller",
            "batch p50",
            "batch p99",
        ],
        1,
    );
    for c in &summary.consumers {
        table.add_row(vec![
            format!("{} ← {}", c.name, c.queue),
            format!("{} × ≤{}", c.pollers, c.max_messages),
            group_digits(c.batches),
            format!("{:.2}", c.messages_per_batch),
            group_digits(c.messages_succeeded),
            group_digits(c.messages_failed),
            group_digits(c.messages_lost_in_crash),
            format!("{:.1}%", c.utilisation * 100.0),
            format_rate(c.throughput_per_s),
            format_rate(c.capacity_per_poller_per_s),
            ms_or_dash(c.batch_latency.p50_ms),
            ms_or_dash(c.batch_latency.p99_ms),
        ]);
    }
    table
}

/// Findings about messaging for the Markdown report.
pub(super) fn findings(summary: &Summary) -> Vec<String> {
    let mut points = Vec::new();
    for q in summary.queues.iter().filter(|q| q.latency.count > 0) {
        points.push(format!(
            "Queue `{}`: {} messages deleted, send to delete p50 {} and p99 {}, {:.2} receives per message.",
            q.name,
            group_digits(q.deleted),
            super::text::ms_or_dash(q.latency.p50_ms),
            super::text::ms_or_dash(q.latency.p99_ms),
            q.receives_per_message
        ));
    }
    for q in &summary.queues {
        let losses = [
            (q.duplicates, "processed again (duplicates)"),
            (q.dead_lettered, "moved to the dead-letter queue"),
            (q.expired, "expired"),
            (q.dropped, "dropped by a full queue"),
        ];
        for (count, what) in losses.into_iter().filter(|&(count, _)| count > 0) {
            points.push(format!(
                "Queue `{}`: {} messages {what}.",
                q.name,
                group_digits(count)
            ));
        }
    }
    points
}
