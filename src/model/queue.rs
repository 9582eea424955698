//! Message queues with the semantics of Amazon SQS: sends, delivery delay,
//! receives that hide a message for its visibility timeout, deletes,
//! retention, redrive to a dead-letter queue, FIFO groups, and what a
//! bounded queue does when it is full.
//!
//! A message lives in one slot from its send to its end. It is delayed,
//! visible, in flight (received and not yet deleted) or gone. Every receive
//! hands out a new receipt; only the latest receipt deletes, and a
//! visibility timer carrying an older receipt does nothing, which is how
//! timers are cancelled. A gone message keeps its slot while a batch still
//! holds it, so that a late success can be recognised as a duplicate.
//! Visible messages are kept in send order, so receives are oldest first and
//! a FIFO queue is a matter of skipping groups that have a message in flight.
//! Waking long-polling consumers is deferred to an event, so that a send
//! never runs a consumer in the middle of queue bookkeeping.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::{Area, Failure};
use slotmap::SlotMap;

use crate::scenario::spec::{MessageGroups, QueueSpec, Scenario, WhenFull};

use super::async_job::JobEnd;
use super::event::{AsyncJobKey, AttemptKey, MessageKey};
use super::sim::Simulation;
use super::trace::{MarkKind, TraceRef};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    Delayed,
    Visible,
    InFlight,
    Gone,
}

pub(super) struct Message {
    pub queue: u32,
    /// Order of entry into its queue.
    pub seq: u64,
    /// The request's key (the FIFO group, when grouped by key).
    pub key: u64,
    /// A number of its own, so that poison draws follow the message.
    pub id: u64,
    pub sent_at: SimTime,
    pub enqueued_at: SimTime,
    pub measured: bool,
    pub receive_count: u32,
    pub receipt: u32,
    pub place: Place,
    /// Batches holding it now.
    pub holders: u32,
    /// Successful processings so far.
    pub processed: u32,
    /// The asynchronous job it carries, until the job's end.
    pub job: Option<AsyncJobKey>,
    /// The span of the traced send that brought it, if any.
    pub trace: TraceRef,
}

/// A send waiting for room in a full queue (`when_full: block`).
pub(super) struct Blocked {
    /// The producer's attempt; `None` for a topic's delivery, which never gives up.
    pub attempt: Option<AttemptKey>,
    pub key: u64,
    pub sent_at: SimTime,
    pub measured: bool,
    pub job: Option<AsyncJobKey>,
}

/// Order and locking within one FIFO group (the whole queue for a standard one).
#[derive(Default)]
struct Group {
    present: u32,
    in_flight: u32,
    last_deleted_seq: Option<u64>,
    /// FIFO queues only: the group's visible messages by entry order.
    visible: BTreeMap<u64, MessageKey>,
}

impl Group {
    /// The entry order of its oldest visible message if a receive may take
    /// it now (nothing of the group is in flight).
    fn ready_at(&self) -> Option<u64> {
        match self.in_flight {
            0 => self.visible.first_key_value().map(|(&seq, _)| seq),
            _ => None,
        }
    }
}

/// The queues room: each queue's state and every message held in any of them.
pub(super) struct Queues {
    pub states: Vec<QueueState>,
    pub messages: SlotMap<MessageKey, Message>,
    /// Messages taken into queues so far: each message's id.
    pub messages_sent: u64,
    /// Sends waiting for room in full queues, which count against `limits.max_messages`.
    pub blocked_sends: u64,
}

impl Queues {
    pub fn new(scenario: &Scenario) -> Queues {
        Queues {
            states: scenario
                .queues
                .iter()
                .map(|spec| QueueState::new(spec.fifo.is_some()))
                .collect(),
            messages: SlotMap::with_key(),
            messages_sent: 0,
            blocked_sends: 0,
        }
    }
}

pub(super) struct QueueState {
    /// Visible messages by entry order.
    visible: BTreeMap<u64, MessageKey>,
    /// Every message held, by entry order, with when it entered.
    present: BTreeMap<u64, SimTime>,
    pub in_flight: u64,
    next_seq: u64,
    groups: BTreeMap<u64, Group>,
    /// FIFO queues keep two indexes so that a receive never walks past the
    /// messages of locked groups (a backlog behind a poison message would
    /// make every receive as slow as the backlog is long): the groups a
    /// receive may take from, by their oldest visible message, and the
    /// visible messages already received `max_receive_count` times, which
    /// the next receive to reach them moves to the dead-letter queue.
    fifo: bool,
    ready: BTreeSet<(u64, u64)>,
    due_for_redrive: BTreeMap<u64, MessageKey>,
    pub blocked: VecDeque<Blocked>,
    /// Long-polling pollers, first come first served.
    pub waiting: VecDeque<u32>,
    notify_pending: bool,
    pub depth_area: Area,
    pub in_flight_area: Area,
    pub depth_at_warmup: u128,
    pub in_flight_at_warmup: u128,
}

impl QueueState {
    pub fn new(fifo: bool) -> QueueState {
        QueueState {
            visible: BTreeMap::new(),
            present: BTreeMap::new(),
            in_flight: 0,
            next_seq: 0,
            groups: BTreeMap::new(),
            fifo,
            ready: BTreeSet::new(),
            due_for_redrive: BTreeMap::new(),
            blocked: VecDeque::new(),
            waiting: VecDeque::new(),
            notify_pending: false,
            depth_area: Area::default(),
            in_flight_area: Area::default(),
            depth_at_warmup: 0,
            in_flight_at_warmup: 0,
        }
    }

    pub fn depth(&self) -> u64 {
        self.visible.len() as u64
    }

    /// Changes a group, keeping the FIFO index of groups ready to receive from.
    fn update_group(&mut self, group: u64, change: impl FnOnce(&mut Group)) {
        let Some(state) = self.groups.get_mut(&group) else {
            return;
        };
        let before = state.ready_at();
        change(state);
        let after = state.ready_at();
        if self.fifo && before != after {
            if let Some(seq) = before {
                self.ready.remove(&(seq, group));
            }
            if let Some(seq) = after {
                self.ready.insert((seq, group));
            }
        }
    }

    /// A message becomes visible.
    fn show(&mut self, seq: u64, message: MessageKey, group: u64, due_for_redrive: bool) {
        self.visible.insert(seq, message);
        if self.fifo {
            if due_for_redrive {
                self.due_for_redrive.insert(seq, message);
            }
            self.update_group(group, |g| {
                g.visible.insert(seq, message);
            });
        }
    }

    /// A visible message is received or leaves the queue.
    fn hide(&mut self, seq: u64, group: u64) {
        self.visible.remove(&seq);
        if self.fifo {
            self.due_for_redrive.remove(&seq);
            self.update_group(group, |g| {
                g.visible.remove(&seq);
            });
        }
    }

    /// The next visible message from entry `cursor` on that a FIFO receive
    /// acts on: one in a group with nothing in flight or in a group this
    /// receive has taken from, or one due for the dead-letter queue. The
    /// same message a walk over every visible message would reach next.
    fn next_for_fifo_receive(
        &self,
        cursor: u64,
        taken_groups: &[u64],
    ) -> Option<(u64, MessageKey)> {
        let first_from = |messages: &BTreeMap<u64, MessageKey>| {
            messages
                .range(cursor..)
                .next()
                .map(|(&seq, &message)| (seq, message))
        };
        // Every ready group's messages lie ahead of the cursor: one behind
        // it would have been taken, locking its group, as the walk passed.
        let ready = self.ready.first().map(|&(seq, group)| {
            debug_assert!(seq >= cursor, "a ready group was walked past");
            (seq, self.groups[&group].visible[&seq])
        });
        let taken = taken_groups
            .iter()
            .filter_map(|group| first_from(&self.groups.get(group)?.visible));
        ready
            .into_iter()
            .chain(taken)
            .chain(first_from(&self.due_for_redrive))
            .min_by_key(|&(seq, _)| seq)
    }

    pub fn held(&self) -> u64 {
        self.present.len() as u64
    }

    /// How long the message that entered first has been here.
    pub fn oldest_age(&self, now: SimTime) -> SimDuration {
        self.present
            .first_key_value()
            .map_or(SimDuration::ZERO, |(_, &at)| now.since(at))
    }
}

pub(super) fn group_of(spec: &QueueSpec, key: u64) -> u64 {
    match spec.fifo {
        Some(MessageGroups::ByKey) => key,
        _ => 0,
    }
}

/// What happens to a message queue or a message in it.
#[derive(Clone, Copy, Debug)]
pub(super) enum QueueEvent {
    /// A message's delivery delay or visibility timeout (of this receipt) ends.
    MessageDue { message: MessageKey, receipt: u32 },
    /// A message in `queue` reaches the end of its retention period.
    MessageExpired { message: MessageKey, queue: u32 },
    /// Messages became visible in a queue with long-polling pollers waiting.
    QueueNotify { queue: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_queue_event(&mut self, event: QueueEvent) {
        match event {
            QueueEvent::MessageDue { message, receipt } => self.on_message_due(message, receipt),
            QueueEvent::MessageExpired { message, queue } => {
                self.on_message_expired(message, queue)
            }
            QueueEvent::QueueNotify { queue } => self.on_queue_notify(queue),
        }
    }

    /// A producer's send reaches `queue`: it is taken, dropped or blocked.
    /// `attempt` is answered unless the send blocks; `job` is the
    /// asynchronous job the message carries, if any.
    pub(super) fn offer(
        &mut self,
        queue: u32,
        key: u64,
        attempt: Option<AttemptKey>,
        job: Option<AsyncJobKey>,
    ) {
        let spec = &self.kernel.scenario.queues[queue as usize];
        let measured = self.kernel.in_window(self.kernel.now);
        self.recorder.running.queue_sent[queue as usize] += 1;
        if measured {
            self.recorder.metrics.queues[queue as usize].sent += 1;
        }
        let full = spec
            .capacity
            .is_some_and(|c| self.queues.states[queue as usize].held() >= u64::from(c));
        let make_room = full && spec.when_full == WhenFull::DropOldest && self.drop_oldest(queue);
        match (full && !make_room, spec.when_full) {
            (false, _) => {
                let trace = attempt.map_or(TraceRef::NONE, |a| self.trace_of_attempt(a));
                let message = self.admit(queue, key, self.kernel.now, measured, 0);
                self.queues.messages[message].job = job;
                self.queues.messages[message].trace = trace;
                if let Some(attempt) = attempt {
                    self.answer_at(self.kernel.now, attempt, Ok(()));
                }
            }
            (true, WhenFull::Block) => {
                if measured {
                    self.recorder.metrics.queues[queue as usize].blocked += 1;
                }
                let blocked = Blocked {
                    attempt,
                    key,
                    sent_at: self.kernel.now,
                    measured,
                    job,
                };
                self.queues.states[queue as usize]
                    .blocked
                    .push_back(blocked);
                self.queues.blocked_sends += 1;
                self.forget_abandoned_blocked(queue);
            }
            (true, _) => {
                if measured {
                    self.recorder.metrics.queues[queue as usize].dropped += 1;
                }
                if let Some(attempt) = attempt {
                    self.answer_at(self.kernel.now, attempt, Err(Failure::Rejected));
                }
                if let Some(job) = job {
                    self.on_job_ended(job, JobEnd::Dropped);
                }
            }
        }
    }

    /// A topic takes a message and copies it to each subscribed queue; the
    /// producer hears back at once, whatever each subscriber does with it.
    pub(super) fn publish(&mut self, topic: u32, key: u64, attempt: AttemptKey) {
        let scenario = self.kernel.scenario;
        for &queue in &scenario.topics[topic as usize].subscribers {
            self.offer(queue, key, None, None);
        }
        self.answer_at(self.kernel.now, attempt, Ok(()));
    }

    /// Throws the oldest visible message away; false if none is visible.
    fn drop_oldest(&mut self, queue: u32) -> bool {
        let Some((_, &message)) = self.queues.states[queue as usize].visible.first_key_value()
        else {
            return false;
        };
        let state = &self.queues.messages[message];
        if state.measured {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.dropped += 1;
            metrics
                .latency_failed
                .record(self.kernel.now - state.sent_at);
        }
        self.end_job_of(message, JobEnd::Dropped);
        self.remove_message(message);
        true
    }

    /// Marks the traced send that brought `message`, if any.
    fn mark_message(&mut self, message: MessageKey, kind: MarkKind) {
        let traced = self.queues.messages[message].trace;
        if let Some(log) = self.recorder.trace_of(traced) {
            log.mark(traced, kind, self.kernel.now);
        }
    }

    /// The job `message` carries, if any, ends with it (once: the message
    /// lets go of it).
    fn end_job_of(&mut self, message: MessageKey, end: JobEnd) {
        if let Some(job) = self.queues.messages[message].job.take() {
            self.on_job_ended(job, end);
        }
    }

    /// Producers blocked on a full queue who have since given up are
    /// forgotten whenever the list doubles, so it stays in proportion to
    /// those still waiting.
    fn forget_abandoned_blocked(&mut self, queue: u32) {
        let blocked = &self.queues.states[queue as usize].blocked;
        if blocked.len() < 1024 || !blocked.len().is_power_of_two() {
            return;
        }
        let attempts = &self.calls.attempts;
        let metrics = &mut self.recorder.metrics.queues[queue as usize];
        let blocked = &mut self.queues.states[queue as usize].blocked;
        let before = blocked.len();
        blocked.retain(|b| {
            let alive = b.attempt.is_none_or(|a| attempts.contains_key(a));
            metrics.dropped += u64::from(!alive && b.measured);
            alive
        });
        self.queues.blocked_sends -= (before - blocked.len()) as u64;
    }

    /// Takes a message into `queue` (a send, or a move from another queue's redrive).
    fn admit(
        &mut self,
        queue: u32,
        key: u64,
        sent_at: SimTime,
        measured: bool,
        processed: u32,
    ) -> MessageKey {
        let spec = &self.kernel.scenario.queues[queue as usize];
        let state = &mut self.queues.states[queue as usize];
        let seq = state.next_seq;
        state.next_seq += 1;
        state.present.insert(seq, self.kernel.now);
        state.groups.entry(group_of(spec, key)).or_default().present += 1;
        self.queues.messages_sent += 1;
        let message = self.queues.messages.insert(Message {
            queue,
            seq,
            key,
            id: self.queues.messages_sent,
            sent_at,
            enqueued_at: self.kernel.now,
            measured,
            receive_count: 0,
            receipt: 0,
            place: Place::Delayed,
            holders: 0,
            processed,
            job: None,
            trace: TraceRef::NONE,
        });
        let expires_at = sent_at + spec.retention;
        if expires_at <= self.kernel.end_at() {
            self.kernel.schedule(
                expires_at.max(self.kernel.now),
                QueueEvent::MessageExpired { message, queue },
            );
        }
        if spec.delay > SimDuration::ZERO {
            self.kernel.schedule_in(
                spec.delay,
                QueueEvent::MessageDue {
                    message,
                    receipt: 0,
                },
            );
        } else {
            self.make_visible(message);
        }
        message
    }

    fn make_visible(&mut self, message: MessageKey) {
        let state = &self.queues.messages[message];
        let (queue, seq) = (state.queue, state.seq);
        let spec = &self.kernel.scenario.queues[queue as usize];
        let group = group_of(spec, state.key);
        let due_for_redrive = spec
            .redrive
            .is_some_and(|r| state.receive_count >= r.max_receive_count);
        self.advance_queue_areas(queue);
        self.queues.messages[message].place = Place::Visible;
        let state = &mut self.queues.states[queue as usize];
        state.show(seq, message, group, due_for_redrive);
        if self.kernel.measuring {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.depth_max = metrics.depth_max.max(state.visible.len() as u64);
        }
        self.notify_waiting(queue);
    }

    /// Tells long-polling pollers, if any, that there may be messages for them.
    fn notify_waiting(&mut self, queue: u32) {
        let state = &mut self.queues.states[queue as usize];
        if !state.waiting.is_empty() && !state.notify_pending {
            state.notify_pending = true;
            self.kernel
                .schedule(self.kernel.now, QueueEvent::QueueNotify { queue });
        }
    }

    /// A delay or a visibility timeout ended: the message is visible again
    /// unless it was deleted, or received again, meanwhile.
    pub(super) fn on_message_due(&mut self, message: MessageKey, receipt: u32) {
        let Some(state) = self.queues.messages.get(message) else {
            return;
        };
        if state.receipt != receipt {
            return;
        }
        match state.place {
            Place::Delayed => self.make_visible(message),
            Place::InFlight => {
                self.leave_flight(message);
                self.make_visible(message);
                if let Some(job) = self.queues.messages[message].job {
                    self.on_job_returned(job);
                }
            }
            Place::Visible | Place::Gone => {}
        }
    }

    pub(super) fn on_message_expired(&mut self, message: MessageKey, queue: u32) {
        let Some(state) = self.queues.messages.get(message) else {
            return;
        };
        if state.queue != queue || state.place == Place::Gone {
            return;
        }
        if state.measured {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.expired += 1;
            metrics
                .latency_failed
                .record(self.kernel.now - state.sent_at);
        }
        self.end_job_of(message, JobEnd::Expired);
        self.remove_message(message);
    }

    /// Takes an in-flight message out of flight (it is deleted, expires or is visible again).
    fn leave_flight(&mut self, message: MessageKey) {
        let state = &self.queues.messages[message];
        let queue = state.queue;
        let group = group_of(&self.kernel.scenario.queues[queue as usize], state.key);
        self.advance_queue_areas(queue);
        let queue_state = &mut self.queues.states[queue as usize];
        queue_state.in_flight -= 1;
        queue_state.update_group(group, |g| g.in_flight -= 1);
        // A FIFO group that was locked may now deliver its visible messages.
        if self.kernel.scenario.queues[queue as usize].fifo.is_some() {
            self.notify_waiting(queue);
        }
    }

    /// The message leaves its queue for good; the room it leaves may let a
    /// blocked producer in.
    fn remove_message(&mut self, message: MessageKey) {
        let state = &self.queues.messages[message];
        let (queue, seq, place, key) = (state.queue, state.seq, state.place, state.key);
        let age = self.kernel.now.since(state.enqueued_at);
        if state.measured {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.age_max = metrics.age_max.max(age);
        }
        match place {
            Place::InFlight => self.leave_flight(message),
            Place::Visible => {
                self.advance_queue_areas(queue);
                let group = group_of(&self.kernel.scenario.queues[queue as usize], key);
                self.queues.states[queue as usize].hide(seq, group);
            }
            Place::Delayed | Place::Gone => {}
        }
        let spec = &self.kernel.scenario.queues[queue as usize];
        let queue_state = &mut self.queues.states[queue as usize];
        queue_state.present.remove(&seq);
        let group = group_of(spec, key);
        if let Some(state) = queue_state.groups.get_mut(&group) {
            state.present -= 1;
            if state.present == 0 && group != 0 {
                queue_state.groups.remove(&group);
            }
        }
        let state = &mut self.queues.messages[message];
        state.place = Place::Gone;
        if state.holders == 0 {
            self.queues.messages.remove(message);
        }
        self.unblock(queue);
    }

    /// Lets blocked producers in while there is room.
    fn unblock(&mut self, queue: u32) {
        let spec = &self.kernel.scenario.queues[queue as usize];
        let Some(capacity) = spec.capacity else {
            return;
        };
        while self.queues.states[queue as usize].held() < u64::from(capacity) {
            let Some(blocked) = self.queues.states[queue as usize].blocked.pop_front() else {
                return;
            };
            self.queues.blocked_sends -= 1;
            let gave_up = blocked
                .attempt
                .is_some_and(|a| !self.calls.attempts.contains_key(a));
            if gave_up {
                if blocked.measured {
                    self.recorder.metrics.queues[queue as usize].dropped += 1;
                }
                continue;
            }
            let trace = blocked
                .attempt
                .map_or(TraceRef::NONE, |a| self.trace_of_attempt(a));
            let message = self.admit(queue, blocked.key, blocked.sent_at, blocked.measured, 0);
            self.queues.messages[message].job = blocked.job;
            self.queues.messages[message].trace = trace;
            if let Some(attempt) = blocked.attempt {
                self.answer_at(self.kernel.now, attempt, Ok(()));
            }
        }
    }

    /// A receive of up to `max` messages: oldest visible first, skipping FIFO
    /// groups with a message in flight, and moving messages that have been
    /// received too often to the dead-letter queue instead of returning them.
    pub(super) fn receive(&mut self, queue: u32, max: u32) -> Vec<(MessageKey, u32)> {
        let spec = &self.kernel.scenario.queues[queue as usize];
        let mut taken = Vec::new();
        let mut taken_groups: Vec<u64> = Vec::new();
        let mut cursor = 0;
        while taken.len() < max as usize {
            let state = &self.queues.states[queue as usize];
            let next = match spec.fifo {
                Some(_) => state.next_for_fifo_receive(cursor, &taken_groups),
                None => state.visible.range(cursor..).next().map(|(&s, &m)| (s, m)),
            };
            let Some((seq, message)) = next else {
                break;
            };
            cursor = seq + 1;
            let state = &self.queues.messages[message];
            if let Some(redrive) = spec.redrive
                && state.receive_count >= redrive.max_receive_count
            {
                self.dead_letter(message, redrive.dead_letter_queue);
                continue;
            }
            let group = group_of(spec, state.key);
            if spec.fifo.is_some() && !taken_groups.contains(&group) {
                let locked = self.queues.states[queue as usize]
                    .groups
                    .get(&group)
                    .is_some_and(|g| g.in_flight > 0);
                if locked {
                    continue;
                }
                taken_groups.push(group);
            }
            taken.push((message, self.take(message, group)));
        }
        taken
    }

    /// One message goes in flight for its visibility timeout.
    fn take(&mut self, message: MessageKey, group: u64) -> u32 {
        let state = &self.queues.messages[message];
        let (queue, seq) = (state.queue, state.seq);
        self.advance_queue_areas(queue);
        let visibility = self.kernel.scenario.queues[queue as usize].visibility_timeout;
        let queue_state = &mut self.queues.states[queue as usize];
        queue_state.hide(seq, group);
        queue_state.in_flight += 1;
        queue_state.update_group(group, |g| g.in_flight += 1);
        let state = &mut self.queues.messages[message];
        state.place = Place::InFlight;
        state.receive_count += 1;
        state.receipt += 1;
        state.holders += 1;
        let (receipt, job) = (state.receipt, state.job);
        let (traced, receive) = (state.trace, state.receive_count);
        if let Some(log) = self.recorder.trace_of(traced) {
            let mark = MarkKind::MessageReceived { queue, receive };
            log.mark(traced, mark, self.kernel.now);
        }
        self.kernel
            .schedule_in(visibility, QueueEvent::MessageDue { message, receipt });
        if let Some(job) = job {
            self.on_job_received(job);
        }
        receipt
    }

    /// A consumer that failed a message changes its visibility (SQS
    /// `ChangeMessageVisibility`): it returns `hidden_for` from now instead
    /// of at the end of its visibility timeout. The receipt moves on, so
    /// the timer of the old visibility does nothing; a receipt that is no
    /// longer the message's latest changes nothing.
    pub(super) fn change_visibility(
        &mut self,
        message: MessageKey,
        receipt: u32,
        hidden_for: SimDuration,
    ) {
        let state = &mut self.queues.messages[message];
        if state.place != Place::InFlight || state.receipt != receipt {
            return;
        }
        state.receipt += 1;
        let receipt = state.receipt;
        self.kernel
            .schedule_in(hidden_for, QueueEvent::MessageDue { message, receipt });
    }

    /// Moves a message to `dead_letter_queue`, keeping its first send time
    /// (retention counts from it, as in SQS).
    fn dead_letter(&mut self, message: MessageKey, dead_letter_queue: u32) {
        let state = &self.queues.messages[message];
        let (queue, key, sent_at, measured, processed) = (
            state.queue,
            state.key,
            state.sent_at,
            state.measured,
            state.processed,
        );
        if measured {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.dead_lettered += 1;
            metrics.latency_failed.record(self.kernel.now - sent_at);
            self.recorder.metrics.queues[dead_letter_queue as usize].dead_letters_in += 1;
        }
        self.end_job_of(message, JobEnd::DeadLettered);
        self.mark_message(message, MarkKind::MessageDeadLettered { queue });
        self.remove_message(message);
        let spec = &self.kernel.scenario.queues[dead_letter_queue as usize];
        let full = spec
            .capacity
            .is_some_and(|c| self.queues.states[dead_letter_queue as usize].held() >= u64::from(c));
        if full && !(spec.when_full == WhenFull::DropOldest && self.drop_oldest(dead_letter_queue))
        {
            if measured {
                self.recorder.metrics.queues[dead_letter_queue as usize].dropped += 1;
            }
            return;
        }
        self.admit(dead_letter_queue, key, sent_at, measured, processed);
    }

    /// Deletes a processed message if `receipt` is still its latest, and
    /// records its end-to-end latency.
    pub(super) fn delete(&mut self, message: MessageKey, receipt: u32) {
        let state = &self.queues.messages[message];
        if state.place == Place::Gone || state.receipt != receipt {
            return;
        }
        let queue = state.queue;
        let spec = &self.kernel.scenario.queues[queue as usize];
        let group = group_of(spec, state.key);
        let seq = state.seq;
        let last = self.queues.states[queue as usize]
            .groups
            .get_mut(&group)
            .map(|g| {
                g.last_deleted_seq
                    .replace(seq.max(g.last_deleted_seq.unwrap_or(0)))
            });
        if state.measured {
            let metrics = &mut self.recorder.metrics.queues[queue as usize];
            metrics.deleted += 1;
            metrics.out_of_order += u64::from(last.flatten().is_some_and(|l| l > seq));
            metrics.latency.record(self.kernel.now - state.sent_at);
            metrics.receive_count_sum += u64::from(state.receive_count);
            metrics.receive_count_max = metrics
                .receive_count_max
                .max(u64::from(state.receive_count));
        }
        if self.kernel.measuring {
            // Whenever the message was sent: the work the consumers did.
            self.recorder.metrics.queues[queue as usize].processed += 1;
        }
        self.recorder.running.queue_deleted[queue as usize] += 1;
        self.end_job_of(message, JobEnd::Completed);
        self.mark_message(message, MarkKind::MessageDeleted { queue });
        self.remove_message(message);
    }

    /// A batch lets go of a message; a gone message's slot is freed with its last holder.
    pub(super) fn release(&mut self, message: MessageKey) {
        let state = &mut self.queues.messages[message];
        state.holders -= 1;
        if state.holders == 0 && state.place == Place::Gone {
            self.queues.messages.remove(message);
        }
    }

    /// Brings a queue's depth and in-flight integrals up to now.
    pub(super) fn advance_queue_areas(&mut self, queue: u32) {
        let state = &mut self.queues.states[queue as usize];
        state
            .depth_area
            .advance(self.kernel.now, state.visible.len() as u64);
        state
            .in_flight_area
            .advance(self.kernel.now, state.in_flight);
    }

    /// Wakes long-polling pollers now that messages are visible.
    pub(super) fn on_queue_notify(&mut self, queue: u32) {
        self.queues.states[queue as usize].notify_pending = false;
        self.serve_waiting(queue);
    }

    /// Counts what is still held, and blocked, when the run ends.
    pub(super) fn finish_queues(&mut self) {
        for queue in 0..self.queues.states.len() {
            self.advance_queue_areas(queue as u32);
            let state = &self.queues.states[queue];
            let metrics = &mut self.recorder.metrics.queues[queue];
            // A run stopped during warm-up measured no time.
            if self.kernel.measuring {
                metrics
                    .depth
                    .add(state.depth_area.integral() - state.depth_at_warmup);
                metrics
                    .in_flight
                    .add(state.in_flight_area.integral() - state.in_flight_at_warmup);
            }
            for blocked in state.blocked.iter().filter(|b| b.measured) {
                let gave_up = blocked
                    .attempt
                    .is_some_and(|a| !self.calls.attempts.contains_key(a));
                metrics.dropped += u64::from(gave_up);
                metrics.blocked_at_end += u64::from(!gave_up);
            }
        }
        for message in self.queues.messages.values() {
            if message.place != Place::Gone {
                self.recorder.metrics.queues[message.queue as usize].held_at_end += 1;
            }
            if message.place != Place::Gone && message.measured {
                let metrics = &mut self.recorder.metrics.queues[message.queue as usize];
                metrics.in_queue_at_end += 1;
                metrics.age_max = metrics
                    .age_max
                    .max(self.kernel.now.since(message.enqueued_at));
            }
        }
    }

    pub(super) fn queues_at_warmup(&mut self) {
        for queue in 0..self.queues.states.len() {
            self.advance_queue_areas(queue as u32);
            let state = &mut self.queues.states[queue];
            state.depth_at_warmup = state.depth_area.integral();
            state.in_flight_at_warmup = state.in_flight_area.integral();
            self.recorder.metrics.queues[queue].depth_max = state.depth();
        }
    }
}
