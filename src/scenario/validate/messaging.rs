//! Validating queues, topics and consumer groups.
//!
//! Queues and topics share the namespace of call targets, so a source or a
//! service sends to them with an ordinary `target:`. Consumers are not
//! targets: nothing calls them, they poll. Their names are kept apart for
//! faults (a consumer can crash) and must still be unique. Defaults follow
//! SQS where SQS has one (a 30s visibility timeout, 4 days of retention, one
//! message per receive), except that receives long-poll for 20s by default,
//! as SQS recommends, so that idle pollers do not spin.

use crate::engine::{Dist, SimDuration};
use crate::scenario::raw::{
    RawConsumer, RawMessageQueue, RawRedelivery, RawScenario, RawSchedule, Text,
};
use crate::scenario::spec::*;
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::{Checker, MAX_DURATION, keyword, positive_duration, timer_period, words};

const SQS_RETENTION: SimDuration = SimDuration(4 * 24 * 3_600 * 1_000_000_000);
const DAY: SimDuration = SimDuration(24 * 3_600 * 1_000_000_000);

impl Checker {
    /// Registers queue and topic names as targets, and consumer names apart.
    pub(super) fn collect_messaging_names(&mut self, raw: &RawScenario) {
        let queues = raw.queues.iter().flat_map(|q| q.iter());
        for (index, (name, body)) in queues.enumerate() {
            self.add_target_name(
                name,
                "queues",
                position_of(body),
                Target::Queue(index as u32),
            );
        }
        let topics = raw.topics.iter().flat_map(|t| t.iter());
        for (index, (name, body)) in topics.enumerate() {
            self.add_target_name(
                name,
                "topics",
                position_of(body),
                Target::Topic(index as u32),
            );
        }
        let consumers = raw.consumers.iter().flat_map(|c| c.iter());
        for (index, (name, body)) in consumers.enumerate() {
            self.check_name(name, "consumers", position_of(body));
            if self.targets.contains_key(name) {
                self.duplicate_name(name, "consumers", position_of(body));
            }
            self.consumer_names.insert(name.clone(), index as u32);
        }
    }

    pub(super) fn queues(&mut self, raw: &RawScenario) -> Vec<QueueSpec> {
        let queues = raw.queues.iter().flat_map(|q| q.iter());
        let specs: Vec<QueueSpec> = queues.map(|(name, body)| self.queue(name, body)).collect();
        self.check_redrive_chains(&specs, raw);
        specs
    }

    fn queue(&mut self, name: &str, body: &Spanned<RawMessageQueue>) -> QueueSpec {
        let path = format!("queues.{name}");
        let raw = &body.value;
        let key = |k: &str| format!("{path}.{k}");
        let capacity = raw.capacity.as_ref().and_then(|t| {
            self.parse(t, &key("capacity"), |t| {
                units::parse_count(t, 1, 100_000_000)
            })
        });
        if let (None, Some(text)) = (&raw.capacity, &raw.when_full) {
            self.error(Some(position_of(text)), &key("when_full"), "`when_full` applies to a queue with a `capacity`; without one the queue is unbounded, like SQS");
        }
        let fifo = self.or(&raw.fifo, &key("fifo"), false, units::parse_bool);
        let groups = self.or(
            &raw.message_group,
            &key("message_group"),
            MessageGroups::Single,
            |t| {
                Ok(match keyword(t, "message group", &words::MESSAGE_GROUPS)? {
                    "key" => MessageGroups::ByKey,
                    _ => MessageGroups::Single,
                })
            },
        );
        if let (false, Some(text)) = (fifo, &raw.message_group) {
            self.error(
                Some(position_of(text)),
                &key("message_group"),
                "message groups order a FIFO queue: set `fifo: true` too",
            );
        }
        QueueSpec {
            name: name.to_string(),
            visibility_timeout: self.or(
                &raw.visibility_timeout,
                &key("visibility_timeout"),
                SimDuration::from_secs(30),
                |t| positive_duration(t, MAX_DURATION),
            ),
            delay: self.or(
                &raw.delay,
                &key("delay"),
                SimDuration::ZERO,
                units::parse_duration,
            ),
            retention: self.or(&raw.retention, &key("retention"), SQS_RETENTION, |t| {
                positive_duration(t, MAX_DURATION)
            }),
            capacity: capacity.map(|c| c as u32),
            when_full: self.or(
                &raw.when_full,
                &key("when_full"),
                WhenFull::DropNewest,
                |t| {
                    let word = keyword(t, "full-queue policy", &WhenFull::NAMES)?;
                    let index = WhenFull::NAMES.iter().position(|&n| n == word).unwrap_or(0);
                    Ok([WhenFull::DropNewest, WhenFull::DropOldest, WhenFull::Block][index])
                },
            ),
            fifo: fifo.then_some(groups),
            redrive: raw
                .redrive
                .as_ref()
                .and_then(|r| self.redrive(r, &key("redrive"))),
        }
    }

    fn redrive(
        &mut self,
        body: &Spanned<crate::scenario::raw::RawRedrive>,
        path: &str,
    ) -> Option<Redrive> {
        let at = Some(position_of(body));
        let raw = &body.value;
        let queue_path = format!("{path}.dead_letter_queue");
        let count = self.required(
            &raw.max_receive_count,
            &format!("{path}.max_receive_count"),
            at,
            |t| units::parse_count(t, 1, 1_000),
        );
        self.required(&raw.dead_letter_queue, &queue_path, at, |t| {
            Ok(t.to_string())
        })?;
        let text = raw.dead_letter_queue.as_ref()?;
        let queue = self.queue_named(text, &queue_path)?;
        Some(Redrive {
            dead_letter_queue: queue,
            max_receive_count: count? as u32,
        })
    }

    /// Resolves a name that must be a queue.
    fn queue_named(&mut self, text: &Text, path: &str) -> Option<QueueId> {
        match self.resolve(text, path)? {
            Target::Queue(id) => Some(id),
            _ => {
                self.error(
                    Some(position_of(text)),
                    path,
                    format!("`{}` is not a queue", text.value),
                );
                None
            }
        }
    }

    /// A message must not be able to go round dead-letter queues for ever.
    fn check_redrive_chains(&mut self, queues: &[QueueSpec], raw: &RawScenario) {
        for (start, spec) in queues.iter().enumerate() {
            let mut seen = vec![start];
            let mut next = spec.redrive.map(|r| r.dead_letter_queue as usize);
            while let Some(queue) = next {
                if seen.contains(&queue) {
                    let names: Vec<&str> = seen
                        .iter()
                        .chain([&queue])
                        .map(|&q| queues[q].name.as_str())
                        .collect();
                    let position = raw
                        .queues
                        .as_ref()
                        .and_then(|q| q.get(&spec.name))
                        .and_then(|q| q.value.redrive.as_ref())
                        .map(position_of);
                    self.error(
                        position,
                        &format!("queues.{}.redrive", spec.name),
                        format!("dead-letter queues form a loop: {}", names.join(" → ")),
                    );
                    return;
                }
                seen.push(queue);
                next = queues
                    .get(queue)
                    .and_then(|q| q.redrive)
                    .map(|r| r.dead_letter_queue as usize);
            }
        }
    }

    pub(super) fn topics(&mut self, raw: &RawScenario) -> Vec<TopicSpec> {
        let topics = raw.topics.iter().flat_map(|t| t.iter());
        let mut specs = Vec::new();
        for (name, body) in topics {
            let path = format!("topics.{name}.subscribers");
            let subscribers = body.value.subscribers.iter().flatten().enumerate();
            let subscribers: Vec<QueueId> = subscribers
                .filter_map(|(index, text)| self.queue_named(text, &format!("{path}[{index}]")))
                .collect();
            if body.value.subscribers.as_ref().is_none_or(Vec::is_empty) {
                self.error(
                    Some(position_of(body)),
                    &path,
                    "a topic needs at least one subscribed queue",
                );
            }
            specs.push(TopicSpec {
                name: name.clone(),
                subscribers,
            });
        }
        specs
    }

    pub(super) fn consumers(&mut self, raw: &RawScenario) -> Vec<ConsumerSpec> {
        let consumers = raw.consumers.iter().flat_map(|c| c.iter());
        consumers
            .filter_map(|(name, body)| self.consumer(name, body))
            .collect()
    }

    /// Exponential redelivery backoff with the defaults of a `retry:`
    /// block (1s base here, doubling, capped at 10 × base, full jitter); the
    /// cap is at most SQS's 12 hours of visibility.
    fn redelivery(&mut self, raw: &Spanned<RawRedelivery>, path: &str) -> Redelivery {
        let raw = &raw.value;
        let twelve_hours = SimDuration::from_secs(12 * 3600);
        let within = |t: &str| match units::parse_duration(t)? {
            d if d == SimDuration::ZERO => Err(format!("`{t}` must be more than zero")),
            d if d > twelve_hours => Err(format!(
                "`{t}` is longer than SQS's longest visibility timeout, 12h"
            )),
            d => Ok(d),
        };
        let base = self.or(
            &raw.backoff_base,
            &format!("{path}.backoff_base"),
            SimDuration::from_secs(1),
            within,
        );
        let multiplier = self.or(
            &raw.backoff_multiplier,
            &format!("{path}.backoff_multiplier"),
            2.0,
            |t| super::number_in(t, 1.0, 100.0),
        );
        let max = self.or(
            &raw.backoff_max,
            &format!("{path}.backoff_max"),
            SimDuration(base.as_nanos().saturating_mul(10)).min(twelve_hours),
            within,
        );
        let jitter = self.or(
            &raw.jitter,
            &format!("{path}.jitter"),
            Jitter::Full,
            super::resilience::parse_jitter,
        );
        Redelivery {
            backoff: Backoff::Exponential {
                base,
                multiplier,
                max: max.max(base),
            },
            jitter,
        }
    }

    fn consumer(&mut self, name: &str, body: &Spanned<RawConsumer>) -> Option<ConsumerSpec> {
        let path = format!("consumers.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let key = |k: &str| format!("{path}.{k}");
        let calls = raw.calls.iter().flatten().enumerate();
        let calls: Vec<u32> = calls
            .filter_map(|(index, call)| self.call(name, &format!("{path}.calls[{index}]"), call))
            .collect();
        if raw.time_per_batch.is_none() && raw.time_per_message.is_none() {
            self.errors.push(
                crate::scenario::Diagnostic::new(
                    at,
                    &path,
                    "a consumer needs `time_per_message`, `time_per_batch` or both",
                )
                .with_help("e.g. `time_per_batch: 20ms` and `time_per_message: exp(mean=5ms)`"),
            );
        }
        let zero = Dist::Constant { value: 0.0 };
        let schedule = raw
            .schedule
            .as_ref()
            .and_then(|s| self.schedule(s, &key("schedule")));
        let wait_time = self.or(
            &raw.wait_time,
            &key("wait_time"),
            SimDuration::from_secs(20),
            units::parse_duration,
        );
        let empty_receive_delay = self.or(
            &raw.empty_receive_delay,
            &key("empty_receive_delay"),
            SimDuration::ZERO,
            units::parse_duration,
        );
        self.check_polling(
            raw,
            &path,
            schedule.is_some(),
            wait_time,
            empty_receive_delay,
        );
        let queue_path = key("queue");
        self.required(&raw.queue, &queue_path, at, |t| Ok(t.to_string()));
        let queue = raw
            .queue
            .as_ref()
            .and_then(|t| self.queue_named(t, &queue_path));
        let spec = ConsumerSpec {
            name: name.to_string(),
            queue: queue?,
            pollers: self.or(&raw.pollers, &key("pollers"), 1, |t| {
                units::parse_count(t, 1, 100_000)
            }) as u32,
            max_messages: self.or(&raw.max_messages, &key("max_messages"), 1, |t| {
                units::parse_count(t, 1, 10_000)
            }) as u32,
            wait_time,
            batch_window: self.or(
                &raw.batch_window,
                &key("batch_window"),
                SimDuration::ZERO,
                units::parse_duration,
            ),
            empty_receive_delay,
            time_per_batch: self.or(
                &raw.time_per_batch,
                &key("time_per_batch"),
                zero.clone(),
                units::parse_dist,
            ),
            time_per_message: self.or(
                &raw.time_per_message,
                &key("time_per_message"),
                zero,
                units::parse_dist,
            ),
            failure_rate: self.or(
                &raw.failure_rate,
                &key("failure_rate"),
                0.0,
                units::parse_probability,
            ),
            batch_failure_rate: self.or(
                &raw.batch_failure_rate,
                &key("batch_failure_rate"),
                0.0,
                units::parse_probability,
            ),
            poison_fraction: self.or(
                &raw.poison_fraction,
                &key("poison_fraction"),
                0.0,
                units::parse_probability,
            ),
            calls,
            schedule,
            redelivery: raw
                .redelivery
                .as_ref()
                .map(|r| self.redelivery(r, &key("redelivery"))),
        };
        Some(spec)
    }

    /// A scheduled job drains with short polls; a continuous consumer must
    /// not spin on an empty queue.
    fn check_polling(
        &mut self,
        raw: &RawConsumer,
        path: &str,
        scheduled: bool,
        wait_time: SimDuration,
        empty_receive_delay: SimDuration,
    ) {
        if scheduled {
            let keys = [
                ("wait_time", &raw.wait_time),
                ("batch_window", &raw.batch_window),
                ("empty_receive_delay", &raw.empty_receive_delay),
            ];
            for (key, text) in keys {
                if let Some(text) = text {
                    self.error(Some(position_of(text)), &format!("{path}.{key}"), format!("`{key}` does not apply to a scheduled job, which receives until the queue is empty and then stops until its next run"));
                }
            }
            return;
        }
        if wait_time == SimDuration::ZERO && empty_receive_delay == SimDuration::ZERO {
            let position = raw.wait_time.as_ref().map(position_of);
            self.errors.push(
                crate::scenario::Diagnostic::new(position, format!("{path}.wait_time"), "with short polling (`wait_time: 0`) an idle poller would receive again at once, for ever")
                    .with_help("set `empty_receive_delay` (e.g. `1s`), or long-poll with `wait_time: 20s`"),
            );
        }
    }

    fn schedule(&mut self, body: &Spanned<RawSchedule>, path: &str) -> Option<Schedule> {
        let raw = &body.value;
        let at = Some(position_of(body));
        if let Some(text) = &raw.time_of_day {
            for (key, other) in [("every", &raw.every), ("first_at", &raw.first_at)] {
                if let Some(other) = other {
                    self.error(Some(position_of(other)), &format!("{path}.{key}"), format!("`{key}` conflicts with `time_of_day`, which runs the job once a day (the run starts at 00:00)"));
                }
            }
            let first_at = self.parse(text, &format!("{path}.time_of_day"), parse_time_of_day)?;
            return Some(Schedule {
                first_at,
                every: DAY,
            });
        }
        let every = self.required(&raw.every, &format!("{path}.every"), at, timer_period)?;
        let first_at = self.or(
            &raw.first_at,
            &format!("{path}.first_at"),
            every,
            units::parse_duration,
        );
        Some(Schedule { first_at, every })
    }

    /// A consumer named as a fault's target, if it is one.
    pub(super) fn consumer_target(
        &mut self,
        text: &Text,
        instance: &Option<Text>,
        path: &str,
        consumers: &[ConsumerSpec],
    ) -> Option<Option<FaultTarget>> {
        let &consumer = self.consumer_names.get(text.value.trim())?;
        let pollers = consumers.get(consumer as usize).map_or(1, |c| c.pollers);
        let Some(index_text) = instance else {
            return Some(Some(FaultTarget::Consumer {
                consumer,
                poller: None,
            }));
        };
        let poller = self.parse(index_text, &format!("{path}.instance"), |t| {
            units::parse_count(t, 0, u64::from(pollers) - 1).map_err(|_| {
                format!(
                    "`{t}` is not a poller of `{}`, which has {pollers}, numbered from 0",
                    text.value
                )
            })
        });
        Some(poller.map(|p| FaultTarget::Consumer {
            consumer,
            poller: Some(p as u32),
        }))
    }
}

/// `17:30` or `17:30:15`, as an offset from the start of the run (00:00).
fn parse_time_of_day(text: &str) -> Result<SimDuration, String> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let numbers: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
    match numbers.as_deref() {
        Some([h, m]) if *h < 24 && *m < 60 => Ok(SimDuration::from_secs(h * 3600 + m * 60)),
        Some([h, m, s]) if *h < 24 && *m < 60 && *s < 60 => {
            Ok(SimDuration::from_secs(h * 3600 + m * 60 + s))
        }
        _ => Err(format!(
            "`{text}` is not a time of day: write `HH:MM` or `HH:MM:SS`, e.g. `\"17:30\"`"
        )),
    }
}
