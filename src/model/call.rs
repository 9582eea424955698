//! The call path: attempts, timeouts, deadlines, retries and backoff.
//!
//! A call is what the caller's code asked for; an attempt is one try of it at
//! one instance. The caller abandons an attempt at its per-attempt timeout and
//! may retry, with backoff, up to `max_attempts`, for the failure kinds in
//! `retry_on`. The call's overall deadline ends everything. Abandoning an
//! attempt does not stop the callee: its job runs on, and its answer, when it
//! comes, finds no one waiting (abandoned work). Rejections are delivered as
//! events rather than synchronously, so starting work never completes work in
//! the same breath: answers only ever travel up the chain.

use crate::engine::{SimDuration, SimTime};
use crate::report::metrics::Failure;
use crate::scenario::spec::{CallPolicy, Target};

use super::backoff::backoff_delay;
use super::event::{AttemptKey, CallKey, Event, JobKey};
use super::sim::Simulation;

/// Who is waiting for a call.
#[derive(Clone, Copy, Debug)]
pub(super) enum Owner {
    /// A request entering the system from a source.
    Source {
        source: u32,
        client: Option<u32>,
        measured: bool,
    },
    /// A job making one of its downstream calls.
    Job(JobKey),
}

pub(super) struct Call {
    pub owner: Owner,
    pub edge: u32,
    pub started_at: SimTime,
    pub attempts_made: u32,
    pub outstanding: Option<AttemptKey>,
    /// The earlier of the call's own deadline and any inherited one.
    pub deadline_at: SimTime,
    pub last_backoff: SimDuration,
}

pub(super) struct Attempt {
    pub call: CallKey,
    pub instance: u32,
}

fn is_retryable(policy: &CallPolicy, failure: Failure) -> bool {
    match failure {
        Failure::Error => policy.retry_on.error,
        Failure::Timeout => policy.retry_on.timeout,
        Failure::Rejected => policy.retry_on.rejected,
        Failure::DeadlineExceeded => false,
    }
}

impl Simulation<'_> {
    /// Starts a call on `edge` and sends its first attempt.
    pub(super) fn start_call(
        &mut self,
        owner: Owner,
        edge: u32,
        inherited_deadline_at: SimTime,
    ) -> CallKey {
        let policy = &self.scenario.edges[edge as usize].policy;
        let own_deadline_at = policy.deadline.map_or(SimTime::MAX, |d| self.now + d);
        let deadline_at = own_deadline_at.min(inherited_deadline_at);
        let call = Call {
            owner,
            edge,
            started_at: self.now,
            attempts_made: 0,
            outstanding: None,
            deadline_at,
            last_backoff: SimDuration::ZERO,
        };
        let key = self.calls.insert(call);
        if self.in_window(self.now) {
            self.metrics.edges[edge as usize].calls += 1;
        }
        if deadline_at != SimTime::MAX {
            self.events
                .schedule(deadline_at, Event::CallDeadline { call: key });
        }
        self.send_attempt(key);
        key
    }

    fn send_attempt(&mut self, call_key: CallKey) {
        let call = &mut self.calls[call_key];
        call.attempts_made += 1;
        let (edge, is_retry, deadline_at) =
            (call.edge as usize, call.attempts_made > 1, call.deadline_at);
        let spec = &self.scenario.edges[edge];
        let instance = self.route(spec.target);
        let attempt = self.attempts.insert(Attempt {
            call: call_key,
            instance,
        });
        self.calls[call_key].outstanding = Some(attempt);
        self.running.retries += u64::from(is_retry);
        self.outstanding[instance as usize] += 1;
        if self.in_window(self.now) {
            let metrics = &mut self.metrics.edges[edge];
            metrics.attempts += 1;
            metrics.retries += u64::from(is_retry);
        }
        let timeout_at = spec
            .policy
            .timeout_per_attempt
            .map_or(SimTime::MAX, |t| self.now + t);
        if timeout_at < deadline_at {
            self.events
                .schedule(timeout_at, Event::AttemptTimeout { attempt });
        }
        let expires_at = if self.scenario.deadline_propagation {
            timeout_at.min(deadline_at)
        } else {
            SimTime::MAX
        };
        self.arrive(instance, attempt, expires_at);
    }

    fn route(&mut self, target: Target) -> u32 {
        if let Target::Balancer(id) = target
            && self.in_window(self.now)
        {
            self.metrics.balancer_attempts[id as usize] += 1;
        }
        let index = self.router_index(target);
        self.routers[index].pick(&self.outstanding)
    }

    /// Forgets an attempt (answered or abandoned); the callee is not told.
    fn remove_attempt(&mut self, attempt: AttemptKey) -> Option<Attempt> {
        let removed = self.attempts.remove(attempt)?;
        self.outstanding[removed.instance as usize] -= 1;
        if let Some(call) = self.calls.get_mut(removed.call) {
            call.outstanding = None;
        }
        Some(removed)
    }

    /// The callee answered an attempt whose caller was still waiting.
    pub(super) fn on_attempt_answered(&mut self, attempt: AttemptKey, result: Result<(), Failure>) {
        let Some(removed) = self.remove_attempt(attempt) else {
            return;
        };
        match result {
            Ok(()) => self.finish_call(removed.call, Ok(())),
            Err(failure) => self.attempt_failed(removed.call, failure),
        }
    }

    pub(super) fn on_attempt_rejected(&mut self, attempt: AttemptKey) {
        self.on_attempt_answered(attempt, Err(Failure::Rejected));
    }

    pub(super) fn on_attempt_timeout(&mut self, attempt: AttemptKey) {
        if let Some(removed) = self.remove_attempt(attempt) {
            self.attempt_failed(removed.call, Failure::Timeout);
        }
    }

    pub(super) fn on_call_deadline(&mut self, call: CallKey) {
        if self.calls.contains_key(call) {
            self.finish_call(call, Err(Failure::DeadlineExceeded));
        }
    }

    pub(super) fn on_retry_due(&mut self, call: CallKey) {
        if self.calls.contains_key(call) {
            self.send_attempt(call);
        }
    }

    /// An attempt failed: retry after a backoff if the policy allows, else fail the call.
    fn attempt_failed(&mut self, call_key: CallKey, failure: Failure) {
        let call = &self.calls[call_key];
        let edge = call.edge as usize;
        if self.in_window(call.started_at) {
            self.metrics.edges[edge].attempt_failures.add(failure);
        }
        let policy = &self.scenario.edges[edge].policy;
        if !is_retryable(policy, failure) || call.attempts_made >= policy.max_attempts {
            self.finish_call(call_key, Err(failure));
            return;
        }
        let rng = &mut self.jitter_rngs[edge];
        let delay = backoff_delay(
            policy.backoff,
            policy.jitter,
            call.attempts_made,
            call.last_backoff,
            rng,
        );
        self.calls[call_key].last_backoff = delay;
        self.events
            .schedule(self.now + delay, Event::RetryDue { call: call_key });
    }

    /// The call has its result: tell whoever is waiting for it.
    fn finish_call(&mut self, call_key: CallKey, result: Result<(), Failure>) {
        let Some(call) = self.calls.remove(call_key) else {
            return;
        };
        if let Some(attempt) = call.outstanding {
            self.remove_attempt(attempt);
        }
        if self.in_window(call.started_at) {
            let metrics = &mut self.metrics.edges[call.edge as usize];
            match result {
                Ok(()) => {
                    metrics.succeeded += 1;
                    metrics.latency.record(self.now - call.started_at);
                }
                Err(failure) => metrics.failed.add(failure),
            }
        }
        match call.owner {
            Owner::Source {
                source,
                client,
                measured,
            } => self.finish_request(source, client, measured, call.started_at, result),
            Owner::Job(job) => self.on_child_finished(job, call_key, result),
        }
    }

    /// Abandons a call whose result no longer matters (a parallel sibling failed).
    pub(super) fn cancel_call(&mut self, call_key: CallKey) {
        let Some(call) = self.calls.remove(call_key) else {
            return;
        };
        if let Some(attempt) = call.outstanding {
            self.remove_attempt(attempt);
        }
        if self.in_window(call.started_at) {
            self.metrics.edges[call.edge as usize].cancelled += 1;
        }
    }
}
