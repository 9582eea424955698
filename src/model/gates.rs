//! Gates: the rooms of the components that stand in front of a service or
//! load balancer and decide, attempt by attempt, to pass it on as the same
//! attempt or to turn it away: token-bucket rate limiters, bulkheads and
//! shapers.
//!
//! This is where a new kind of gate is registered in the model: its room
//! in [`Gates`], its events in [`GateEvent`], and one arm in each of the
//! four hooks below, the whole of what the house asks of a gate: an
//! attempt arrives, an event of its own falls due, an attempt that passed
//! ends for its caller, the run ends.

mod bulkhead;
mod rate_limiter;
mod shaper;

use std::collections::VecDeque;

use crate::engine::SimTime;
use crate::scenario::spec::{Gate, Scenario};

use self::bulkhead::{BulkheadEvent, Bulkheads};
use self::rate_limiter::RateLimiters;
use self::shaper::{ShaperEvent, Shapers};
use super::event::AttemptKey;
use super::sim::{Delivery, Event, Simulation};
use super::timeseries::Column;

pub(super) use self::rate_limiter::TokenBucket;

/// A gate's columns in the time series, by its kind: each kind declares
/// its own beside its room. A gate's counters are kept per gate of any
/// kind (`Running::gate_*`, by `GateSpecs::index`).
pub(super) fn gate_columns(gate: Gate) -> &'static [Column] {
    match gate {
        Gate::RateLimiter(_) => &rate_limiter::COLUMNS,
        Gate::Bulkhead(_) => &bulkhead::COLUMNS,
        Gate::Shaper(_) => &shaper::COLUMNS,
    }
}

/// Every gate's state, by kind.
pub(super) struct Gates {
    rate_limiters: RateLimiters,
    bulkheads: Bulkheads,
    shapers: Shapers,
}

impl Gates {
    pub fn new(scenario: &Scenario) -> Gates {
        Gates {
            rate_limiters: RateLimiters::new(scenario),
            bulkheads: Bulkheads::new(scenario),
            shapers: Shapers::new(scenario),
        }
    }
}

/// The events of gates, by kind.
#[derive(Clone, Copy, Debug)]
pub(super) enum GateEvent {
    Bulkhead(BulkheadEvent),
    Shaper(ShaperEvent),
}

impl From<BulkheadEvent> for Event {
    fn from(event: BulkheadEvent) -> Event {
        Event::Gate(GateEvent::Bulkhead(event))
    }
}

impl From<ShaperEvent> for Event {
    fn from(event: ShaperEvent) -> Event {
        Event::Gate(GateEvent::Shaper(event))
    }
}

impl Simulation<'_> {
    /// An attempt reaches `gate`: it passes on, waits, or is turned away.
    pub(super) fn enter_gate(&mut self, gate: Gate, delivery: Delivery) {
        match gate {
            Gate::RateLimiter(limiter) => self.rate_limit(limiter, delivery),
            Gate::Bulkhead(bulkhead) => self.enter_bulkhead(bulkhead, delivery),
            Gate::Shaper(shaper) => self.enter_shaper(shaper, delivery),
        }
    }

    pub(super) fn on_gate_event(&mut self, event: GateEvent) {
        match event {
            GateEvent::Bulkhead(event) => self.on_bulkhead_event(event),
            GateEvent::Shaper(event) => self.on_shaper_event(event),
        }
    }

    /// `attempt` ended for its caller (answered, timed out or abandoned):
    /// a gate that holds something for it lets go. Rate limiters and
    /// shapers hold nothing once it has passed; with no bulkheads this is
    /// one test.
    pub(super) fn attempt_ended_at_gates(&mut self, attempt: AttemptKey) {
        if self.gates.bulkheads.any {
            self.leave_bulkhead(attempt);
        }
    }

    /// Counts, for the time series, an attempt reaching `gate` (warm-up
    /// included, as every running total).
    fn count_gate_arrival(&mut self, gate: Gate) {
        let index = self.kernel.scenario.gates.index(gate);
        self.recorder.running.gate_arrivals[index] += 1;
    }

    /// Counts, for the time series, an attempt `gate` turned away.
    fn count_turned_away(&mut self, gate: Gate) {
        let index = self.kernel.scenario.gates.index(gate);
        self.recorder.running.gate_turned_away[index] += 1;
    }

    /// What each gate holds now, for the time series' row: a bulkhead's
    /// places taken and line, a shaper's attempts held back (of callers
    /// still waiting, in both).
    pub(super) fn gates_at_sample(&mut self) {
        let gates = &self.kernel.scenario.gates;
        let running = &mut self.recorder.running;
        for (id, state) in self.gates.bulkheads.states.iter().enumerate() {
            let index = gates.index(Gate::Bulkhead(id as u32));
            running.gate_in_use[index] = u64::from(state.in_use());
            running.gate_waiting[index] = u64::from(state.waiting());
        }
        for (id, state) in self.gates.shapers.states.iter().enumerate() {
            let index = gates.index(Gate::Shaper(id as u32));
            let held = state.held.iter();
            let waited_for =
                held.filter(|(held, _)| self.calls.attempts.contains_key(held.attempt));
            running.gate_waiting[index] = waited_for.count() as u64;
        }
    }

    /// Of the attempts a gate holds in `line`, with when each arrived:
    /// those that arrived in the measured window and whose callers have
    /// given up since.
    fn given_up_in(&self, line: &VecDeque<(Delivery, SimTime)>) -> u64 {
        let given_up = line.iter().filter(|(held, arrived_at)| {
            self.kernel.in_window(*arrived_at) && !self.calls.attempts.contains_key(held.attempt)
        });
        given_up.count() as u64
    }

    /// The run has ended: gates count what they still hold, and debug
    /// builds check their books.
    pub(super) fn finish_gates(&mut self) {
        for (index, state) in self.gates.bulkheads.states.iter().enumerate() {
            let given_up = self.given_up_in(&state.line);
            self.recorder.metrics.bulkheads[index].gave_up_waiting += given_up;
        }
        for (index, state) in self.gates.shapers.states.iter().enumerate() {
            let given_up = self.given_up_in(&state.held);
            self.recorder.metrics.shapers[index].gave_up_waiting += given_up;
        }
        self.debug_check_bulkhead_places();
    }
}
