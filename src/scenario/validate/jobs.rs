//! Validating a source's `job:` block: the asynchronous job API its
//! requests submit to, and how its clients poll for the outcome.
//!
//! The submit goes to the source's own `target` (an API, never the queue
//! itself: the job enters `job.queue` when the API has accepted it); the
//! status endpoint is any target a call can reach except a queue or topic.
//! Polls are calls of their own, on an edge from the source to the status
//! endpoint, one attempt each: the next poll is the retry.

use crate::engine::SimDuration;
use crate::scenario::raw::{RawJob, RawPoll, Text};
use crate::scenario::spec::{Backoff, CallPolicy, Jitter, JobSpec, PollPolicy, Target};
use crate::scenario::suggest::{did_you_mean, listed_names};
use crate::scenario::yaml::{Position, Spanned, position_of};

use super::{Checker, MAX_DURATION, number_in, positive_duration};

fn is_message_target(target: Target) -> bool {
    matches!(target, Target::Queue(_) | Target::Topic(_))
}

impl Checker {
    /// The job flow of source `source`, whose requests go to `submit_to`.
    pub(super) fn job(
        &mut self,
        source: &str,
        body: &Spanned<RawJob>,
        submit_to: Option<(Target, &Text)>,
    ) -> Option<JobSpec> {
        let path = format!("sources.{source}.job");
        let raw = &body.value;
        let at = Some(position_of(body));
        if let Some((target, text)) = submit_to.filter(|(t, _)| is_message_target(*t)) {
            self.error(
                Some(position_of(text)),
                &format!("sources.{source}.target"),
                format!(
                    "a job source submits through an API (a service, load balancer, cache or rate limiter), not {} `{}`: put the queue under `job.queue`",
                    target.kind_in_words(),
                    text.value
                ),
            );
        }
        let queue = self.job_queue(&raw.queue, &path, at);
        let status = self.status_endpoint(&raw.status, &path, at);
        let poll = self.poll(raw.poll.as_ref(), &path);
        let deadline = raw.deadline.as_ref().and_then(|text| {
            self.parse(text, &format!("{path}.deadline"), |t| {
                positive_duration(t, MAX_DURATION)
            })
        });
        let (status, status_name) = status?;
        let (policy, poll) = poll?;
        let poll_edge = self.add_edge(source, status, status_name, policy);
        Some(JobSpec {
            queue: queue?,
            poll_edge,
            poll,
            deadline,
        })
    }

    fn job_queue(&mut self, text: &Option<Text>, path: &str, at: Option<Position>) -> Option<u32> {
        let path = format!("{path}.queue");
        let Some(text) = text else {
            self.error(
                at,
                &path,
                "`queue` is required: where the API puts each job",
            );
            return None;
        };
        let name = text.value.trim();
        let queues = self
            .targets
            .iter()
            .filter(|(_, t)| matches!(t, Target::Queue(_)));
        let queue_names: Vec<String> = queues.map(|(n, _)| n.clone()).collect();
        let Some(&target) = self.targets.get(name) else {
            let mut message = format!("no queue is named `{name}`");
            match did_you_mean(name, queue_names.iter().map(String::as_str)) {
                Some(close) => message.push_str(&format!(" (did you mean `{close}`?)")),
                None if queue_names.is_empty() => {
                    message.push_str(": add the job queue under `queues:`")
                }
                None => {
                    let listed = listed_names(name, queue_names.iter().map(String::as_str));
                    message.push_str(&format!("; the queues are: {listed}"))
                }
            }
            self.error(Some(position_of(text)), &path, message);
            return None;
        };
        match target {
            Target::Queue(queue) if !self.consumed_queues.iter().any(|q| q == name) => {
                let message = format!(
                    "no consumer group reads `{name}`: its jobs would never be processed; add one under `consumers:` with `queue: {name}`"
                );
                self.error(Some(position_of(text)), &path, message);
                Some(queue)
            }
            Target::Queue(queue) => Some(queue),
            other => {
                let message = format!(
                    "`{}` is {}; a job waits in a queue (`queues:`) for its consumers",
                    text.value,
                    other.kind_in_words()
                );
                self.error(Some(position_of(text)), &path, message);
                None
            }
        }
    }

    fn status_endpoint(
        &mut self,
        text: &Option<Text>,
        path: &str,
        at: Option<Position>,
    ) -> Option<(Target, String)> {
        let path = format!("{path}.status");
        let Some(text) = text else {
            self.error(
                at,
                &path,
                "`status` is required: the service clients poll for their job",
            );
            return None;
        };
        let target = self.resolve(text, &path)?;
        if is_message_target(target) {
            let message = format!(
                "`{}` is {}: clients poll a status endpoint (a service, load balancer, cache or rate limiter)",
                text.value,
                target.kind_in_words()
            );
            self.error(Some(position_of(text)), &path, message);
            return None;
        }
        Some((target, text.value.clone()))
    }

    /// The poll call's policy (one attempt, the poll's timeout) and the
    /// waits between polls.
    fn poll(
        &mut self,
        body: Option<&Spanned<RawPoll>>,
        path: &str,
    ) -> Option<(CallPolicy, PollPolicy)> {
        let path = format!("{path}.poll");
        let default = RawPoll {
            interval: None,
            backoff_multiplier: None,
            backoff_max: None,
            jitter: None,
            retry_after: None,
            timeout: None,
        };
        let raw = body.map_or(&default, |b| &b.value);
        let key = |k: &str| format!("{path}.{k}");
        let positive = |t: &str| positive_duration(t, MAX_DURATION);
        let interval = self.or(
            &raw.interval,
            &key("interval"),
            SimDuration::from_secs(1),
            positive,
        );
        let multiplier = self.or(
            &raw.backoff_multiplier,
            &key("backoff_multiplier"),
            1.0,
            |t| number_in(t, 1.0, 100.0),
        );
        let retry_after = self.or(
            &raw.retry_after,
            &key("retry_after"),
            false,
            crate::scenario::units::parse_bool,
        );
        let default_max = match multiplier > 1.0 || retry_after {
            true => interval.max(SimDuration::from_secs(60)),
            false => interval,
        };
        let max_interval = self.or(&raw.backoff_max, &key("backoff_max"), default_max, positive);
        let jitter = self.or(
            &raw.jitter,
            &key("jitter"),
            Jitter::None,
            super::resilience::parse_jitter,
        );
        let timeout = raw
            .timeout
            .as_ref()
            .and_then(|t| self.parse(t, &key("timeout"), positive));
        if let Some(text) = &raw.backoff_max
            && max_interval < interval
        {
            let message =
                format!("`backoff_max` {max_interval} is shorter than `interval` {interval}");
            self.error(Some(position_of(text)), &key("backoff_max"), message);
        }
        if let (true, Some(text)) = (retry_after, &raw.backoff_multiplier) {
            let message = "`retry_after` and `backoff_multiplier` conflict: with `retry_after` the status service says how long each wait is, between `interval` and `backoff_max`";
            self.error(Some(position_of(text)), &key("backoff_multiplier"), message);
        }
        let jitter_conflict = match (retry_after, jitter, multiplier > 1.0) {
            (true, Jitter::None, _) => None,
            (true, _, _) => {
                Some("`retry_after` waits as long as the status service says: leave out `jitter`")
            }
            (false, Jitter::Decorrelated, false) => Some(
                "decorrelated jitter grows the waits from the last one: it needs `backoff_multiplier` above 1",
            ),
            _ => None,
        };
        if let (Some(message), Some(text)) = (jitter_conflict, &raw.jitter) {
            self.error(Some(position_of(text)), &key("jitter"), message);
        }
        let backoff = match multiplier > 1.0 {
            true => Backoff::Exponential {
                base: interval,
                multiplier,
                max: max_interval.max(interval),
            },
            false => Backoff::Constant { delay: interval },
        };
        let policy = CallPolicy {
            timeout_per_attempt: timeout,
            ..CallPolicy::single_attempt()
        };
        let poll = PollPolicy {
            backoff,
            jitter,
            retry_after,
            interval,
            max_interval: max_interval.max(interval),
        };
        Some((policy, poll))
    }
}
