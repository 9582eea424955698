//! Asynchronous jobs, as the system runs them and as their clients see them.
//!
//! A job source's request is a job: the client submits it to the API (a
//! call on the source's edge), the job enters its queue when the client
//! hears it was accepted, and the client polls the status endpoint (a call
//! per poll, on the job's poll edge) until a poll's answer shows the job
//! completed or failed, or the client's deadline passes. The system's side
//! follows the job's message: queued while it waits or is visible again,
//! in progress while a consumer holds it, then completed (deleted) or
//! failed (dead-lettered, expired, or dropped by a full queue). The two
//! sides end independently: a record lives until both have, so that a job
//! its client gave up on still counts when the system finishes it.
//!
//! The source's request ends when the client's side does, so the sources
//! table gives the user's view (submit → the poll that saw the end); this
//! room records the system's view and the polling between them.

use slotmap::SlotMap;

use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::{Failure, JobMetrics};
use crate::scenario::spec::Scenario;

use super::backoff::backoff_delay;
use super::event::AsyncJobKey;
use super::sim::{Owner, Simulation};

/// Weight of each completed job in the running mean time to finish that
/// `retry_after` hints from: about the last twenty jobs.
const RETRY_AFTER_SMOOTHING: f64 = 0.05;

/// Where a job is, as the system sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JobState {
    /// The client's submit has not been answered yet.
    Submitting,
    /// In the queue: waiting, delayed, visible again after a failure, or
    /// waiting for room in a full queue.
    Queued,
    /// Received by a consumer and not yet deleted or visible again.
    InProgress,
    Completed,
    Failed,
}

impl JobState {
    fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed)
    }
}

/// How a job's message left the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JobEnd {
    Completed,
    DeadLettered,
    Expired,
    Dropped,
}

pub(super) struct AsyncJob {
    source: u32,
    client: Option<u32>,
    /// Submitted in the measured window: its outcomes are counted.
    measured: bool,
    key: u64,
    submitted_at: SimTime,
    state: JobState,
    /// When the system's side ended.
    ended_at: SimTime,
    /// The client still polls (or waits for its submit's answer).
    client_waiting: bool,
    /// The API accepted it (its polls count towards polls per job).
    accepted: bool,
    /// Its client gave up at its deadline.
    given_up: bool,
    /// Polls made so far; the number of the next wait.
    polls: u32,
    last_wait: SimDuration,
}

/// Per job source: the poll-jitter stream, and the mean time to finish
/// the status service hints from. (How many jobs are in each state is a
/// running total of the recorder's, for the time series.)
pub(super) struct JobSourceState {
    poll_rng: RngStream,
    mean_time_to_finish_ns: Option<f64>,
}

/// The jobs room: every job open on either side, and each source's state.
pub(super) struct AsyncJobs {
    pub jobs: SlotMap<AsyncJobKey, AsyncJob>,
    states: Vec<JobSourceState>,
}

impl AsyncJobs {
    pub fn new(scenario: &Scenario) -> AsyncJobs {
        let states = scenario.sources.iter().map(|source| JobSourceState {
            poll_rng: RngStream::derive(scenario.seed, &source.name, "poll"),
            mean_time_to_finish_ns: None,
        });
        AsyncJobs {
            jobs: SlotMap::with_key(),
            states: states.collect(),
        }
    }

    /// Jobs whose clients are still waiting: requests in flight.
    pub fn clients_waiting(&self) -> u64 {
        self.jobs.values().filter(|job| job.client_waiting).count() as u64
    }
}

/// What happens to a job's client.
#[derive(Clone, Copy, Debug)]
pub(super) enum AsyncJobEvent {
    /// The client's wait is over: it polls the status endpoint.
    PollDue { job: AsyncJobKey },
    /// The client's deadline: it stops waiting if it has not seen the end.
    GiveUp { job: AsyncJobKey },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_async_job_event(&mut self, event: AsyncJobEvent) {
        match event {
            AsyncJobEvent::PollDue { job } => self.poll_job(job),
            AsyncJobEvent::GiveUp { job } => self.give_up_on_job(job),
        }
    }

    /// A job source's request: the client submits its job to the API.
    pub(super) fn submit_job(
        &mut self,
        source: u32,
        client: Option<u32>,
        measured: bool,
        key: u64,
    ) {
        let spec = &self.kernel.scenario.sources[source as usize];
        let Some(job_spec) = &spec.job else {
            return;
        };
        let job = self.async_jobs.jobs.insert(AsyncJob {
            source,
            client,
            measured,
            key,
            submitted_at: self.kernel.now,
            state: JobState::Submitting,
            ended_at: SimTime::MAX,
            client_waiting: true,
            accepted: false,
            given_up: false,
            polls: 0,
            last_wait: SimDuration::ZERO,
        });
        if let Some(deadline) = job_spec.deadline {
            self.kernel
                .schedule_in(deadline, AsyncJobEvent::GiveUp { job });
        }
        self.start_call(Owner::Submit(job), spec.edge, (key, source), SimTime::MAX);
    }

    /// The API answered the submit: accepted jobs go on the queue.
    pub(super) fn on_job_submitted(&mut self, job: AsyncJobKey, result: Result<(), Failure>) {
        let state = &self.async_jobs.jobs[job];
        let source = state.source as usize;
        if let Some(metrics) = self.job_metrics_of(job) {
            match result {
                Ok(()) => metrics.accepted += 1,
                Err(_) => metrics.submit_failed += 1,
            }
        }
        let Err(failure) = result else {
            self.async_jobs.jobs[job].accepted = true;
            // Only a job source's requests are jobs: it has a job spec.
            let queue = self.kernel.scenario.sources[source]
                .job
                .as_ref()
                .map_or(0, |j| j.queue);
            debug_assert!(self.kernel.scenario.sources[source].job.is_some());
            let key = self.async_jobs.jobs[job].key;
            self.set_job_state(job, JobState::Queued);
            self.offer(queue, key, None, Some(job));
            if self
                .async_jobs
                .jobs
                .get(job)
                .is_some_and(|j| j.client_waiting)
            {
                self.schedule_poll(job);
            }
            return;
        };
        // Never accepted: the system has nothing to do for it.
        self.async_jobs.jobs[job].state = JobState::Failed;
        self.async_jobs.jobs[job].ended_at = self.kernel.now;
        if self.async_jobs.jobs[job].client_waiting {
            self.end_client_wait(job, Err(failure));
        }
        self.forget_job_if_done(job);
    }

    /// The wait before the client's next poll, and the poll's event.
    fn schedule_poll(&mut self, job: AsyncJobKey) {
        let state = &mut self.async_jobs.jobs[job];
        let source = state.source as usize;
        let Some(spec) = &self.kernel.scenario.sources[source].job else {
            return;
        };
        let policy = spec.poll;
        let age = self.kernel.now.since(state.submitted_at);
        let source_state = &mut self.async_jobs.states[source];
        let wait = match (policy.retry_after, source_state.mean_time_to_finish_ns) {
            (true, Some(mean)) => {
                let left = SimDuration::from_nanos_f64((mean - age.as_nanos() as f64).max(0.0));
                left.clamp(policy.interval, policy.max_interval)
            }
            (true, None) => policy.interval,
            (false, _) => backoff_delay(
                policy.backoff,
                policy.jitter,
                state.polls + 1,
                state.last_wait,
                &mut source_state.poll_rng,
            ),
        };
        state.last_wait = wait;
        self.kernel
            .schedule_in(wait, AsyncJobEvent::PollDue { job });
    }

    fn poll_job(&mut self, job: AsyncJobKey) {
        let Some(state) = self.async_jobs.jobs.get_mut(job) else {
            return;
        };
        if !state.client_waiting {
            return;
        }
        state.polls += 1;
        let (source, key) = (state.source, state.key);
        if let Some(metrics) = self.job_metrics_of(job) {
            metrics.polls += 1;
        }
        let Some(spec) = &self.kernel.scenario.sources[source as usize].job else {
            return;
        };
        self.start_call(
            Owner::Poll(job),
            spec.poll_edge,
            (key, source),
            SimTime::MAX,
        );
    }

    /// A poll's answer: the client sees the job's state as it is now.
    pub(super) fn on_job_polled(&mut self, job: AsyncJobKey, result: Result<(), Failure>) {
        let Some(state) = self.async_jobs.jobs.get(job) else {
            return;
        };
        if !state.client_waiting {
            return;
        }
        let (system_state, ended_at) = (state.state, state.ended_at);
        let seen = match (result, system_state) {
            (Err(_), _) => {
                if let Some(metrics) = self.job_metrics_of(job) {
                    metrics.polls_failed += 1;
                }
                None
            }
            (Ok(()), JobState::Completed) => Some(Ok(())),
            (Ok(()), JobState::Failed) => Some(Err(Failure::Error)),
            (Ok(()), _) => None,
        };
        let Some(outcome) = seen else {
            self.schedule_poll(job);
            return;
        };
        let polling_delay = self.kernel.now.since(ended_at);
        if let Some(metrics) = self.job_metrics_of(job) {
            metrics.polling_delay.record(polling_delay);
            match outcome {
                Ok(()) => metrics.seen_completed += 1,
                Err(_) => metrics.seen_failed += 1,
            }
        }
        self.end_client_wait(job, outcome);
        self.forget_job_if_done(job);
    }

    fn give_up_on_job(&mut self, job: AsyncJobKey) {
        if !self
            .async_jobs
            .jobs
            .get(job)
            .is_some_and(|j| j.client_waiting)
        {
            return;
        }
        self.async_jobs.jobs[job].given_up = true;
        self.recorder.running.jobs_given_up[self.async_jobs.jobs[job].source as usize] += 1;
        if let Some(metrics) = self.job_metrics_of(job) {
            metrics.abandoned += 1;
        }
        self.end_client_wait(job, Err(Failure::DeadlineExceeded));
        self.forget_job_if_done(job);
    }

    /// The client's side ends: its request finishes with `result`.
    fn end_client_wait(&mut self, job: AsyncJobKey, result: Result<(), Failure>) {
        let state = &mut self.async_jobs.jobs[job];
        debug_assert!(state.client_waiting, "a job's client stops waiting once");
        state.client_waiting = false;
        let (source, client, measured, submitted_at) = (
            state.source,
            state.client,
            state.measured,
            state.submitted_at,
        );
        let (polls, accepted) = (u64::from(state.polls), state.accepted);
        if let (Some(metrics), true) = (self.job_metrics_of(job), accepted) {
            metrics.clients_done += 1;
            metrics.polls_by_clients_done += polls;
        }
        self.finish_request(source, client, measured, submitted_at, result);
    }

    fn forget_job_if_done(&mut self, job: AsyncJobKey) {
        let state = &self.async_jobs.jobs[job];
        if !state.client_waiting && state.state.is_final() {
            self.async_jobs.jobs.remove(job);
        }
    }

    /// The job's metrics, if it is counted.
    fn job_metrics_of(&mut self, job: AsyncJobKey) -> Option<&mut JobMetrics> {
        let state = self.async_jobs.jobs.get(job)?;
        let metrics = &mut self.recorder.metrics.sources[state.source as usize];
        state.measured.then_some(())?;
        metrics.job.as_deref_mut()
    }

    /// Moves a job to `next`, keeping the per-state counts of the time series.
    fn set_job_state(&mut self, job: AsyncJobKey, next: JobState) {
        let state = &mut self.async_jobs.jobs[job];
        let running = &mut self.recorder.running;
        let source = state.source as usize;
        match state.state {
            JobState::Queued => running.jobs_queued[source] -= 1,
            JobState::InProgress => running.jobs_in_progress[source] -= 1,
            JobState::Submitting | JobState::Completed | JobState::Failed => {}
        }
        match next {
            JobState::Queued => running.jobs_queued[source] += 1,
            JobState::InProgress => running.jobs_in_progress[source] += 1,
            JobState::Completed => running.jobs_completed[source] += 1,
            JobState::Failed => running.jobs_failed[source] += 1,
            JobState::Submitting => {}
        }
        state.state = next;
    }

    /// A consumer received the job's message.
    pub(super) fn on_job_received(&mut self, job: AsyncJobKey) {
        self.set_job_state(job, JobState::InProgress);
    }

    /// The job's message is visible again (its processing failed or took
    /// longer than its visibility timeout).
    pub(super) fn on_job_returned(&mut self, job: AsyncJobKey) {
        self.set_job_state(job, JobState::Queued);
    }

    /// The job's message left the system: processed, or given up on.
    pub(super) fn on_job_ended(&mut self, job: AsyncJobKey, end: JobEnd) {
        let state = &self.async_jobs.jobs[job];
        debug_assert!(!state.state.is_final(), "a job ends once");
        let took = self.kernel.now.since(state.submitted_at);
        let (source, given_up) = (state.source as usize, state.given_up);
        let next = match end {
            JobEnd::Completed => JobState::Completed,
            _ => JobState::Failed,
        };
        self.set_job_state(job, next);
        self.async_jobs.jobs[job].ended_at = self.kernel.now;
        if end == JobEnd::Completed {
            let mean = &mut self.async_jobs.states[source].mean_time_to_finish_ns;
            let took_ns = took.as_nanos() as f64;
            *mean = Some(mean.map_or(took_ns, |m| m + (took_ns - m) * RETRY_AFTER_SMOOTHING));
        }
        if let Some(metrics) = self.job_metrics_of(job) {
            metrics.completed_after_given_up += u64::from(given_up && end == JobEnd::Completed);
            match end {
                JobEnd::Completed => metrics.completed += 1,
                JobEnd::DeadLettered => metrics.dead_lettered += 1,
                JobEnd::Expired => metrics.expired += 1,
                JobEnd::Dropped => metrics.dropped += 1,
            }
            match end {
                JobEnd::Completed => metrics.latency_system.record(took),
                _ => metrics.latency_system_failed.record(took),
            }
        }
        self.forget_job_if_done(job);
    }

    /// Counts the jobs still open on either side when the run ends.
    pub(super) fn finish_async_jobs(&mut self) {
        for job in self.async_jobs.jobs.values().filter(|job| job.measured) {
            let metrics = &mut self.recorder.metrics.sources[job.source as usize];
            metrics.in_flight += u64::from(job.client_waiting);
            let Some(job_metrics) = metrics.job.as_mut() else {
                continue;
            };
            job_metrics.waiting_at_end += u64::from(job.client_waiting);
            job_metrics.unfinished_at_end += u64::from(!job.state.is_final());
        }
    }
}
