//! Consumer groups: pollers that receive batches from a queue, process them,
//! call services for each message, and delete what succeeded.
//!
//! A poller is idle (a scheduled job between runs), waiting in a long poll,
//! sleeping after an empty short poll, processing a batch, or down (crashed).
//! Every change of state bumps its generation, and a timer carries the
//! generation and instant it was set for, so a stale timer does nothing.
//! Processing takes the batch overhead plus a time per message; then each
//! message fails with the failure rate (the whole batch with the batch
//! failure rate, poison messages always), and each message that did not
//! fail makes the consumer's calls one after another. When every message is
//! done, the successes are deleted and the poller receives again at once.
//! A failed message is simply not deleted: it returns when its visibility
//! timeout ends, as with SQS, or, with `redelivery`, after a backoff that
//! grows with its receives (the worker's `ChangeMessageVisibility`). A crash
//! abandons the batch the same way, to the full visibility timeout.

use std::ops::Range;

use crate::engine::rng::unit_interval;
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::{Area, Failure};
use slotmap::SlotMap;

use crate::scenario::spec::{ConsumerSpec, Scenario};

use super::backoff::backoff_delay;
use super::call::NO_SOURCE;
use super::event::{BatchKey, CallKey, MessageKey};
use super::faults::Effects;
use super::queue::group_of;
use super::routing::finalise;
use super::sim::Owner;
use super::sim::Simulation;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PollerState {
    /// A scheduled job's poller between runs.
    Idle,
    /// In a long poll; `window`: a message came and it waits for a fuller batch.
    Waiting {
        window: bool,
    },
    /// Pausing after an empty receive.
    Sleeping,
    Processing,
    Down,
}

pub(super) struct Poller {
    pub consumer: u32,
    pub state: PollerState,
    pub generation: u32,
    pub timer_at: SimTime,
    pub batch: Option<BatchKey>,
    /// A scheduled job's poller is in a run (until its first empty receive).
    pub in_run: bool,
    /// Faults aimed at this poller alone.
    pub active_faults: Vec<u32>,
}

/// The consumers room: each consumer group, its pollers (numbered across
/// groups) and the batches they are processing.
pub(super) struct Consumers {
    pub groups: Vec<ConsumerState>,
    pub pollers: Vec<Poller>,
    pub batches: SlotMap<BatchKey, Batch>,
}

impl Consumers {
    pub fn new(scenario: &Scenario) -> Consumers {
        let mut groups = Vec::new();
        let mut pollers = Vec::new();
        for (id, spec) in scenario.consumers.iter().enumerate() {
            let first = pollers.len() as u32;
            pollers.extend((0..spec.pollers).map(|_| Poller {
                consumer: id as u32,
                state: PollerState::Idle,
                generation: 0,
                timer_at: SimTime::ZERO,
                batch: None,
                in_run: false,
                active_faults: Vec::new(),
            }));
            let range = first..first + spec.pollers;
            groups.push(ConsumerState::new(scenario.seed, spec, range));
        }
        Consumers {
            groups,
            pollers,
            batches: SlotMap::with_key(),
        }
    }
}

pub(super) struct ConsumerState {
    pub processing_rng: RngStream,
    pub failure_rng: RngStream,
    pub fault_error_rng: RngStream,
    /// Jitter of the redelivery backoff.
    pub redelivery_rng: RngStream,
    /// Mixed with a message's id to decide, once and for all, if it is poison.
    pub poison_salt: u64,
    pub pollers: Range<u32>,
    pub active_faults: Vec<u32>,
    /// Messages a scheduled job's current run may still receive: what was
    /// visible when it started (the backlog it is there to process).
    pub run_budget: u64,
    pub busy: u64,
    pub busy_area: Area,
    pub busy_at_warmup: u128,
}

impl ConsumerState {
    pub fn new(seed: u64, spec: &ConsumerSpec, pollers: Range<u32>) -> ConsumerState {
        let name = &spec.name;
        ConsumerState {
            processing_rng: RngStream::derive(seed, name, "processing_time"),
            failure_rng: RngStream::derive(seed, name, "failures"),
            fault_error_rng: RngStream::derive(seed, name, "fault_errors"),
            redelivery_rng: RngStream::derive(seed, name, "redelivery"),
            poison_salt: RngStream::derive(seed, name, "poison").next_u64(),
            pollers,
            active_faults: Vec::new(),
            run_budget: if spec.schedule.is_some() { 0 } else { u64::MAX },
            busy: 0,
            busy_area: Area::default(),
            busy_at_warmup: 0,
        }
    }
}

/// One received message in a batch.
pub(super) struct Item {
    pub message: MessageKey,
    pub receipt: u32,
    pub ok: bool,
    pub next_call: usize,
}

pub(super) struct Batch {
    pub poller: u32,
    pub items: Vec<Item>,
    /// Messages still making calls.
    pub pending: u32,
    pub children: Vec<CallKey>,
    pub received_at: SimTime,
}

/// What happens to a consumer group or one of its pollers.
#[derive(Clone, Copy, Debug)]
pub(super) enum ConsumerEvent {
    /// A poller's long poll, batch window or pause ends (if still `generation`).
    PollerTimer { poller: u32, generation: u32 },
    /// A consumer has processed a batch.
    BatchDone { batch: BatchKey },
    /// A scheduled consumer's next run starts.
    ScheduledRun { consumer: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_consumer_event(&mut self, event: ConsumerEvent) {
        match event {
            ConsumerEvent::PollerTimer { poller, generation } => {
                self.on_poller_timer(poller, generation)
            }
            ConsumerEvent::BatchDone { batch } => self.on_batch_done(batch),
            ConsumerEvent::ScheduledRun { consumer } => self.on_scheduled_run(consumer),
        }
    }

    pub(super) fn start_consumers(&mut self) {
        for (id, spec) in self.kernel.scenario.consumers.iter().enumerate() {
            match spec.schedule {
                Some(schedule) => self.kernel.schedule(
                    SimTime::ZERO + schedule.first_at,
                    ConsumerEvent::ScheduledRun {
                        consumer: id as u32,
                    },
                ),
                None => {
                    for poller in self.consumers.groups[id].pollers.clone() {
                        self.poll(poller);
                    }
                }
            }
        }
    }

    /// A scheduled job's run starts: its idle pollers process the messages
    /// visible now (those arriving meanwhile wait for the next run).
    pub(super) fn on_scheduled_run(&mut self, consumer: u32) {
        let spec = &self.kernel.scenario.consumers[consumer as usize];
        if let Some(schedule) = spec.schedule {
            self.kernel
                .schedule_in(schedule.every, ConsumerEvent::ScheduledRun { consumer });
        }
        self.consumers.groups[consumer as usize].run_budget =
            self.queues.states[spec.queue as usize].depth();
        for poller in self.consumers.groups[consumer as usize].pollers.clone() {
            let state = &mut self.consumers.pollers[poller as usize];
            state.in_run = true;
            if state.state == PollerState::Idle {
                self.poll(poller);
            }
        }
    }

    /// What the active faults do to a poller now.
    fn poller_effects(&self, poller: u32) -> Effects {
        let state = &self.consumers.pollers[poller as usize];
        let consumer = &self.consumers.groups[state.consumer as usize];
        let mut effects = Effects::NONE;
        for &fault in consumer.active_faults.iter().chain(&state.active_faults) {
            effects.add(&self.kernel.scenario.faults[fault as usize].kind);
        }
        effects
    }

    fn set_state(&mut self, poller: u32, state: PollerState) {
        let poller = &mut self.consumers.pollers[poller as usize];
        poller.state = state;
        poller.generation = poller.generation.wrapping_add(1);
    }

    fn set_timer(&mut self, poller: u32, at: SimTime) {
        let state = &mut self.consumers.pollers[poller as usize];
        state.timer_at = at;
        let generation = state.generation;
        self.kernel
            .schedule(at, ConsumerEvent::PollerTimer { poller, generation });
    }

    /// The poller receives: a batch if there is one, else it waits, sleeps or stops.
    pub(super) fn poll(&mut self, poller: u32) {
        if self.poller_effects(poller).refuse {
            self.set_state(poller, PollerState::Down);
            return;
        }
        let consumer = self.consumers.pollers[poller as usize].consumer;
        let spec = &self.kernel.scenario.consumers[consumer as usize];
        let scheduled = spec.schedule.is_some();
        let budget = self.consumers.groups[consumer as usize].run_budget;
        if scheduled && (!self.consumers.pollers[poller as usize].in_run || budget == 0) {
            self.consumers.pollers[poller as usize].in_run = false;
            self.set_state(poller, PollerState::Idle);
            return;
        }
        let depth = self.queues.states[spec.queue as usize].depth();
        let wants_more =
            spec.batch_window > SimDuration::ZERO && depth < u64::from(spec.max_messages);
        if depth > 0 && !wants_more && self.receive_batch(poller) {
            return;
        }
        match (scheduled, spec.wait_time > SimDuration::ZERO) {
            (true, _) => {
                self.count_receive(consumer, 0);
                self.consumers.pollers[poller as usize].in_run = false;
                self.set_state(poller, PollerState::Idle);
            }
            (false, true) => {
                let window = depth > 0 && wants_more;
                self.set_state(poller, PollerState::Waiting { window });
                let wait = if window {
                    spec.batch_window
                } else {
                    spec.wait_time
                };
                self.set_timer(poller, self.kernel.now + wait);
                self.queues.states[spec.queue as usize]
                    .waiting
                    .push_back(poller);
            }
            (false, false) => {
                self.count_receive(consumer, 0);
                self.set_state(poller, PollerState::Sleeping);
                self.set_timer(poller, self.kernel.now + spec.empty_receive_delay);
            }
        }
    }

    /// Receives now; starts a batch and returns true if any message came.
    fn receive_batch(&mut self, poller: u32) -> bool {
        let consumer = self.consumers.pollers[poller as usize].consumer;
        let spec = &self.kernel.scenario.consumers[consumer as usize];
        let state = &mut self.consumers.groups[consumer as usize];
        let max = u64::from(spec.max_messages).min(state.run_budget) as u32;
        let taken = self.receive(spec.queue, max);
        if taken.is_empty() {
            return false;
        }
        let state = &mut self.consumers.groups[consumer as usize];
        state.run_budget = state.run_budget.saturating_sub(taken.len() as u64);
        self.count_receive(consumer, taken.len() as u64);
        self.start_batch(poller, taken);
        true
    }

    fn count_receive(&mut self, consumer: u32, messages: u64) {
        if !self.kernel.in_window(self.kernel.now) {
            return;
        }
        let queue = self.kernel.scenario.consumers[consumer as usize].queue;
        let metrics = &mut self.recorder.metrics.queues[queue as usize];
        metrics.receives += 1;
        metrics.empty_receives += u64::from(messages == 0);
        metrics.messages_received += messages;
        metrics.batch_size_max = metrics.batch_size_max.max(messages);
    }

    /// Long-polling pollers of `queue`, first come first served, take the
    /// visible messages; with a batch window, the first waits for a full batch.
    pub(super) fn serve_waiting(&mut self, queue: u32) {
        while let Some(&poller) = self.queues.states[queue as usize].waiting.front() {
            let consumer = self.consumers.pollers[poller as usize].consumer;
            let spec = &self.kernel.scenario.consumers[consumer as usize];
            let depth = self.queues.states[queue as usize].depth();
            if depth == 0 {
                return;
            }
            let wants_more =
                spec.batch_window > SimDuration::ZERO && depth < u64::from(spec.max_messages);
            if wants_more {
                if self.consumers.pollers[poller as usize].state
                    == (PollerState::Waiting { window: false })
                {
                    self.consumers.pollers[poller as usize].state =
                        PollerState::Waiting { window: true };
                    self.set_timer(poller, self.kernel.now + spec.batch_window);
                }
                return;
            }
            self.queues.states[queue as usize].waiting.pop_front();
            if !self.receive_batch(poller) {
                // Every visible message is in a locked FIFO group.
                self.queues.states[queue as usize]
                    .waiting
                    .push_front(poller);
                return;
            }
        }
    }

    pub(super) fn on_poller_timer(&mut self, poller: u32, generation: u32) {
        let state = &self.consumers.pollers[poller as usize];
        if state.generation != generation || state.timer_at != self.kernel.now {
            return;
        }
        let consumer = state.consumer;
        let queue = self.kernel.scenario.consumers[consumer as usize].queue;
        match state.state {
            PollerState::Waiting { window } => {
                self.queues.states[queue as usize]
                    .waiting
                    .retain(|&p| p != poller);
                if !(window && self.receive_batch(poller)) {
                    if !window {
                        self.count_receive(consumer, 0);
                    }
                    self.poll(poller);
                }
            }
            PollerState::Sleeping => self.poll(poller),
            PollerState::Idle | PollerState::Processing | PollerState::Down => {}
        }
    }

    fn start_batch(&mut self, poller: u32, taken: Vec<(MessageKey, u32)>) {
        let consumer = self.consumers.pollers[poller as usize].consumer as usize;
        let spec = &self.kernel.scenario.consumers[consumer];
        let slowdown = self.poller_effects(poller).slowdown;
        let rng = &mut self.consumers.groups[consumer].processing_rng;
        let mut work = spec.time_per_batch.sample(rng);
        for _ in &taken {
            work += spec.time_per_message.sample(rng);
        }
        let items = taken
            .into_iter()
            .map(|(message, receipt)| Item {
                message,
                receipt,
                ok: true,
                next_call: 0,
            })
            .collect::<Vec<_>>();
        if self.kernel.in_window(self.kernel.now) {
            let metrics = &mut self.recorder.metrics.consumers[consumer];
            metrics.batches += 1;
            metrics.messages += items.len() as u64;
        }
        let batch = self.consumers.batches.insert(Batch {
            poller,
            items,
            pending: 0,
            children: Vec::new(),
            received_at: self.kernel.now,
        });
        self.set_state(poller, PollerState::Processing);
        self.consumers.pollers[poller as usize].batch = Some(batch);
        self.change_busy(consumer, true);
        let done_at = self.kernel.now + SimDuration::from_nanos_f64(work * slowdown);
        self.kernel
            .schedule(done_at, ConsumerEvent::BatchDone { batch });
    }

    fn change_busy(&mut self, consumer: usize, more: bool) {
        let state = &mut self.consumers.groups[consumer];
        state.busy_area.advance(self.kernel.now, state.busy);
        if more {
            state.busy += 1;
        } else {
            state.busy -= 1;
        }
    }

    /// Processing is done: decide which messages failed, then make the calls
    /// of those that did not.
    pub(super) fn on_batch_done(&mut self, batch_key: BatchKey) {
        let Some(batch) = self.consumers.batches.get(batch_key) else {
            return;
        };
        let poller = batch.poller;
        let consumer = self.consumers.pollers[poller as usize].consumer as usize;
        let scenario = self.kernel.scenario;
        let spec = &scenario.consumers[consumer];
        let fault_error_rate = self.poller_effects(poller).error_rate;
        let state = &mut self.consumers.groups[consumer];
        let batch_failed = state.failure_rng.chance(spec.batch_failure_rate);
        let batch = &mut self.consumers.batches[batch_key];
        for item in &mut batch.items {
            let id = self.queues.messages[item.message].id;
            let poison = unit_interval(finalise(id ^ state.poison_salt)) < spec.poison_fraction;
            let failed = state.failure_rng.chance(spec.failure_rate)
                | (fault_error_rate > 0.0 && state.fault_error_rng.chance(fault_error_rate));
            item.ok = !(batch_failed || poison || failed);
        }
        let measured = batch.received_at >= SimTime::ZERO + scenario.warmup;
        if batch_failed && measured {
            self.recorder.metrics.consumers[consumer].batches_failed += 1;
        }
        let ready: Vec<usize> = (0..batch.items.len())
            .filter(|&i| batch.items[i].ok)
            .collect();
        for item in ready {
            let started = self.next_message_call(batch_key, item);
            self.consumers.batches[batch_key].pending += u32::from(started);
        }
        if self.consumers.batches[batch_key].pending == 0 {
            self.complete_batch(batch_key);
        }
    }

    /// Starts a message's next call, after any fire-and-forget ones; false
    /// when no call is left (the message is done).
    fn next_message_call(&mut self, batch_key: BatchKey, item: usize) -> bool {
        let consumer =
            self.consumers.pollers[self.consumers.batches[batch_key].poller as usize].consumer;
        let scenario = self.kernel.scenario;
        let calls = &scenario.consumers[consumer as usize].calls;
        loop {
            let batch = &mut self.consumers.batches[batch_key];
            let Some(&edge) = calls.get(batch.items[item].next_call) else {
                return false;
            };
            batch.items[item].next_call += 1;
            let key = self.queues.messages[batch.items[item].message].key;
            if !self.call_is_made(edge) {
                continue;
            }
            if scenario.edges[edge as usize].fire_and_forget {
                self.start_call(Owner::Detached, edge, (key, NO_SOURCE), SimTime::MAX);
                continue;
            }
            let owner = Owner::Message {
                batch: batch_key,
                item: item as u32,
            };
            let call = self.start_call(owner, edge, (key, NO_SOURCE), SimTime::MAX);
            self.consumers.batches[batch_key].children.push(call);
            return true;
        }
    }

    /// A message's call has ended.
    pub(super) fn on_message_call_finished(
        &mut self,
        batch_key: BatchKey,
        item: u32,
        call: CallKey,
        result: Result<(), Failure>,
    ) {
        let Some(batch) = self.consumers.batches.get_mut(batch_key) else {
            return;
        };
        batch.children.retain(|&c| c != call);
        let item = item as usize;
        let still_calling = match result {
            Ok(()) => self.next_message_call(batch_key, item),
            Err(_) => {
                batch.items[item].ok = false;
                false
            }
        };
        self.consumers.batches[batch_key].pending -= u32::from(!still_calling);
        if self.consumers.batches[batch_key].pending == 0 {
            self.complete_batch(batch_key);
        }
    }

    /// Deletes the messages that succeeded and receives again.
    fn complete_batch(&mut self, batch_key: BatchKey) {
        let mut batch = self
            .consumers
            .batches
            .remove(batch_key)
            .expect("a completing batch exists");
        self.hold_back_after_failures(&mut batch);
        let poller = batch.poller;
        let consumer = self.consumers.pollers[poller as usize].consumer as usize;
        let measured = self.kernel.in_window(batch.received_at);
        let redelivery = self.kernel.scenario.consumers[consumer].redelivery;
        for item in &batch.items {
            if let (Some(redelivery), false) = (redelivery, item.ok) {
                let receives = self.queues.messages[item.message].receive_count;
                let rng = &mut self.consumers.groups[consumer].redelivery_rng;
                let hidden_for = backoff_delay(
                    redelivery.backoff,
                    redelivery.jitter,
                    receives,
                    SimDuration::ZERO,
                    rng,
                );
                self.change_visibility(item.message, item.receipt, hidden_for);
            }
            let message = &mut self.queues.messages[item.message];
            let queue = message.queue as usize;
            if item.ok {
                if message.processed > 0 && measured {
                    self.recorder.metrics.queues[queue].duplicates += 1;
                }
                message.processed += 1;
                self.delete(item.message, item.receipt);
            }
            self.release(item.message);
        }
        if measured {
            let succeeded = batch.items.iter().filter(|i| i.ok).count() as u64;
            let queue = self.kernel.scenario.consumers[consumer].queue as usize;
            self.recorder.metrics.queues[queue].delete_calls += u64::from(succeeded > 0);
            let metrics = &mut self.recorder.metrics.consumers[consumer];
            metrics.messages_succeeded += succeeded;
            metrics.messages_failed += batch.items.len() as u64 - succeeded;
            metrics
                .batch_latency
                .record(self.kernel.now - batch.received_at);
        }
        self.change_busy(consumer, false);
        self.consumers.pollers[poller as usize].batch = None;
        self.poll(poller);
    }

    /// In a FIFO queue, a message after a failed one of its group is not
    /// deleted either (as Lambda stops a FIFO batch at its first failure),
    /// so that the group's order survives the redelivery.
    fn hold_back_after_failures(&self, batch: &mut Batch) {
        let consumer = self.consumers.pollers[batch.poller as usize].consumer;
        let scenario = self.kernel.scenario;
        let queue = &scenario.queues[scenario.consumers[consumer as usize].queue as usize];
        if queue.fifo.is_none() {
            return;
        }
        let mut failed_groups = Vec::new();
        for item in &mut batch.items {
            let group = group_of(queue, self.queues.messages[item.message].key);
            if !item.ok {
                failed_groups.push(group);
            } else if failed_groups.contains(&group) {
                item.ok = false;
            }
        }
    }

    /// A crash fault starts or ends on some of a consumer's pollers.
    pub(super) fn crash_pollers(&mut self, pollers: Vec<u32>, starting: bool) {
        for poller in pollers {
            match (starting, self.consumers.pollers[poller as usize].state) {
                (true, PollerState::Down) | (false, PollerState::Processing) => {}
                (true, _) => self.take_down(poller),
                (false, _) => {
                    if !self.poller_effects(poller).refuse {
                        self.poll(poller);
                    }
                }
            }
        }
    }

    /// A poller dies: its batch is abandoned (its messages come back after
    /// their visibility timeout) and it stops polling.
    fn take_down(&mut self, poller: u32) {
        let consumer = self.consumers.pollers[poller as usize].consumer as usize;
        let queue = self.kernel.scenario.consumers[consumer].queue;
        self.queues.states[queue as usize]
            .waiting
            .retain(|&p| p != poller);
        if let Some(batch) = self.consumers.pollers[poller as usize].batch.take()
            && let Some(batch) = self.consumers.batches.remove(batch)
        {
            for call in batch.children {
                self.cancel_call(call);
            }
            if self.kernel.in_window(batch.received_at) {
                self.recorder.metrics.consumers[consumer].messages_lost_in_crash +=
                    batch.items.len() as u64;
            }
            for item in &batch.items {
                self.release(item.message);
            }
            self.change_busy(consumer, false);
        }
        self.set_state(poller, PollerState::Down);
    }

    pub(super) fn consumers_at_warmup(&mut self) {
        for state in &mut self.consumers.groups {
            state.busy_area.advance(self.kernel.now, state.busy);
            state.busy_at_warmup = state.busy_area.integral();
        }
    }

    pub(super) fn finish_consumers(&mut self) {
        for (consumer, state) in self.consumers.groups.iter_mut().enumerate() {
            state.busy_area.advance(self.kernel.now, state.busy);
            self.recorder.metrics.consumers[consumer]
                .busy
                .add(state.busy_area.integral() - state.busy_at_warmup);
        }
    }
}
