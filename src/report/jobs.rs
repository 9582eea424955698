//! What a run says about asynchronous jobs: per job source, how the system
//! ended its jobs, what their clients saw, and what polling cost between
//! the two. These lead the report of a job scenario: the job is the work.
//!
//! The user's view (submit → the poll that saw the end) is the source's own
//! latency; this summary adds the system's view (submit → completion or
//! failure), the polling delay between them, and the polls made.

use comfy_table::Table;
use serde::{Deserialize, Serialize};

use crate::engine::SimDuration;
use crate::model::metrics::JobMetrics;
use crate::scenario::Scenario;
use crate::scenario::spec::SourceSpec;

use super::summary::{LatencySummary, SourceSummary, Summary, per_second, ratio, round};
use super::text::{format_cost, format_rate, group_digits, ms_or_dash, new_table};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobSummary {
    /// The queue jobs wait in, and the status endpoint clients poll.
    pub queue: String,
    pub status: String,
    /// Submits answered: accepted (the job is queued) or failed.
    pub accepted: u64,
    pub submit_failed: u64,
    /// How the system ended the accepted jobs.
    pub completed: u64,
    pub completed_per_s: f64,
    pub dead_lettered: u64,
    pub expired: u64,
    pub dropped: u64,
    /// Still submitting, queued or in progress at the end.
    pub unfinished_at_end: u64,
    /// Completed after their client had given up: work nobody waited for.
    pub completed_after_given_up: u64,
    /// What their clients saw: the end (completed or failed), their
    /// deadline first (abandoned), or nothing yet.
    pub seen_completed: u64,
    pub seen_failed: u64,
    pub abandoned: u64,
    pub waiting_at_end: u64,
    pub polls: u64,
    pub polls_failed: u64,
    pub polls_per_s: f64,
    /// Polls per accepted job, over the jobs whose clients are done waiting.
    pub polls_per_job: f64,
    /// Submit to completion: the system's view.
    pub latency_system: LatencySummary,
    /// Submit to failure: dead-lettered, expired or dropped.
    pub latency_system_failed: LatencySummary,
    /// From a job's end to the poll that saw it.
    pub polling_delay: LatencySummary,
}

impl JobSummary {
    pub fn failed(&self) -> u64 {
        self.dead_lettered + self.expired + self.dropped
    }
}

pub(super) fn job_summary(
    scenario: &Scenario,
    spec: &SourceSpec,
    m: &JobMetrics,
    measured: SimDuration,
) -> Option<JobSummary> {
    let job = spec.job.as_ref()?;
    Some(JobSummary {
        queue: scenario.queues[job.queue as usize].name.clone(),
        status: scenario.edges[job.poll_edge as usize].target_name.clone(),
        accepted: m.accepted,
        submit_failed: m.submit_failed,
        completed: m.completed,
        completed_per_s: per_second(m.completed, measured),
        dead_lettered: m.dead_lettered,
        expired: m.expired,
        dropped: m.dropped,
        unfinished_at_end: m.unfinished_at_end,
        completed_after_given_up: m.completed_after_given_up,
        seen_completed: m.seen_completed,
        seen_failed: m.seen_failed,
        abandoned: m.abandoned,
        waiting_at_end: m.waiting_at_end,
        polls: m.polls,
        polls_failed: m.polls_failed,
        polls_per_s: per_second(m.polls, measured),
        polls_per_job: round(ratio(m.polls_by_clients_done, m.clients_done), 3),
        latency_system: LatencySummary::of(&m.latency_system),
        latency_system_failed: LatencySummary::of(&m.latency_system_failed),
        polling_delay: LatencySummary::of(&m.polling_delay),
    })
}

/// The job sources of a run, with their job summaries.
pub fn job_sources(summary: &Summary) -> impl Iterator<Item = (&SourceSummary, &JobSummary)> {
    summary
        .sources
        .iter()
        .filter_map(|s| s.job.as_ref().map(|job| (s, job)))
}

/// Which services answer which job sources' polls: each job source's
/// status endpoint, or the backends behind it when it is a load balancer.
/// Their attempts per request are polls, not retries. Worked out once per
/// summary: asking per (service, source) pair by walking every source
/// would take quadratic time among thousands of them.
pub struct Polling<'a> {
    /// (service, source) pairs.
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Polling<'a> {
    pub fn of(summary: &'a Summary) -> Polling<'a> {
        let mut pairs = Vec::new();
        for (source, job) in job_sources(summary) {
            let source = source.name.as_str();
            pairs.push((job.status.as_str(), source));
            let balancers = summary.load_balancers.iter();
            for balancer in balancers.filter(|b| b.name == job.status) {
                pairs.extend(balancer.backends.iter().map(|b| (b.as_str(), source)));
            }
        }
        Polling { pairs }
    }

    /// Whether `service` answers `source`'s polls.
    pub fn polled_by(&self, service: &str, source: &str) -> bool {
        self.pairs
            .iter()
            .any(|&(s, from)| s == service && from == source)
    }
}

/// Two lines per job source, leading the report: how the system ended
/// its jobs, and what their users waited; then, when the scenario is
/// priced, the cost per 1,000 jobs (of the whole scenario, once).
pub fn job_lines(summary: &Summary) -> String {
    let mut out = String::new();
    for (source, job) in job_sources(summary) {
        out.push_str(&outcome_line(source, job));
        out.push_str(&wait_line(source, job));
    }
    let per_1000 = summary
        .cost
        .as_ref()
        .and_then(|c| c.per_1000_jobs_completed);
    if let Some(per_1000) = per_1000 {
        out.push_str(&format!(
            "  cost per 1,000 jobs completed (the whole scenario): {}\n",
            format_cost(per_1000)
        ));
    }
    out
}

fn outcome_line(source: &SourceSummary, job: &JobSummary) -> String {
    let rejected = match job.submit_failed {
        0 => String::new(),
        n => format!(", {} rejected at submit", group_digits(n)),
    };
    let wasted = match job.completed_after_given_up {
        0 => String::new(),
        n => format!(
            " ({} of them completed later: work nobody waited for)",
            group_digits(n)
        ),
    };
    format!(
        "jobs from {}: {} submitted{rejected}, {} completed ({}), {} failed ({} dead-lettered, {} expired, {} dropped), {} unfinished at the end; {} given up on by their clients at their deadline{wasted}\n",
        source.name,
        group_digits(source.requests),
        group_digits(job.completed),
        format_rate(job.completed_per_s),
        group_digits(job.failed()),
        group_digits(job.dead_lettered),
        group_digits(job.expired),
        group_digits(job.dropped),
        group_digits(job.unfinished_at_end),
        group_digits(job.abandoned),
    )
}

/// Both views of a completed job's latency, and the polling between them.
/// The user's wait covers the jobs their clients saw completed; the
/// system's, every job completed, given up on or not.
fn wait_line(source: &SourceSummary, job: &JobSummary) -> String {
    let caveat = match job.abandoned {
        0 => String::new(),
        n => format!(
            " · the user's wait is of the jobs their clients saw completed: {} given up on are not in it",
            group_digits(n)
        ),
    };
    format!(
        "  jobs from {}, completed: the user's wait (submit → the poll that saw it done) p50 {}, p99 {}; the system's (submit → done) p50 {}, p99 {}; polling adds {} on average, {:.1} polls per job ({} at `{}`){caveat}\n",
        source.name,
        ms_or_dash(source.latency.p50_ms),
        ms_or_dash(source.latency.p99_ms),
        ms_or_dash(job.latency_system.p50_ms),
        ms_or_dash(job.latency_system.p99_ms),
        ms_or_dash(job.polling_delay.mean_ms),
        job.polls_per_job,
        format_rate(job.polls_per_s),
        job.status,
    )
}

/// Per job source: outcomes on both sides, and both views of latency.
pub(super) fn jobs_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "jobs",
            "submitted",
            "completed",
            "rejected",
            "failed",
            "unfinished",
            "seen ended",
            "given up",
            "user p50",
            "user p99",
            "system p50",
            "system p99",
            "polling delay",
            "polls/job",
        ],
        1,
    );
    for (source, job) in job_sources(summary) {
        table.add_row(vec![
            format!("{} → {} → {}", source.name, source.target, job.queue),
            group_digits(source.requests),
            group_digits(job.completed),
            group_digits(job.submit_failed),
            group_digits(job.failed()),
            group_digits(job.unfinished_at_end),
            group_digits(job.seen_completed + job.seen_failed),
            group_digits(job.abandoned),
            ms_or_dash(source.latency.p50_ms),
            ms_or_dash(source.latency.p99_ms),
            ms_or_dash(job.latency_system.p50_ms),
            ms_or_dash(job.latency_system.p99_ms),
            ms_or_dash(job.polling_delay.mean_ms),
            format!("{:.1}", job.polls_per_job),
        ]);
    }
    table
}
