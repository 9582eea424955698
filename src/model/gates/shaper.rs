//! Shapers: a pacer in front of a service or load balancer, as nginx's
//! `limit_req` with a `burst` and without `nodelay` applies one.
//!
//! Attempts pass at most `rate` a second, evenly spaced: the generic cell
//! rate algorithm keeps the instant the next attempt may pass, which moves
//! on by 1/`rate` with each one let through. An attempt that comes early is
//! held back until its turn and then passes on to the target as the same
//! attempt (the caller's timeout runs all along); one whose turn is more
//! than `max_delay` away is answered at once as `throttled`. Where a rate
//! limiter refuses a burst, a shaper spreads it out: the target sees a
//! steady pace, and the callers pay in waiting.
//!
//! Turns are handed out in order of arrival, so the attempts held back
//! pass in the order they came, each at an event of its own. One whose
//! caller gave up meanwhile is dropped when its turn comes; its turn is
//! spent, as a request nginx delayed spends its slot.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::{Gate, Scenario};

use super::super::metrics::Failure;
use super::super::sim::{Delivery, Simulation};
use super::super::timeseries::Column;
use super::super::trace::MarkKind;

/// The shapers room: each shaper's next turn and the attempts held back.
pub(in crate::model) struct Shapers {
    pub states: Vec<ShaperState>,
}

#[derive(Default)]
pub(in crate::model) struct ShaperState {
    /// The instant, in nanoseconds, from which the next attempt may pass:
    /// the algorithm's "theoretical arrival time".
    next_turn_at_nanos: f64,
    /// Attempts held back for their turns, in the order they pass, with
    /// when each arrived.
    pub held: VecDeque<(Delivery, SimTime)>,
}

#[derive(Clone, Copy, Debug)]
pub(in crate::model) enum ShaperEvent {
    /// The oldest attempt held back has its turn.
    Turn { shaper: u32 },
}

impl Shapers {
    pub fn new(scenario: &Scenario) -> Shapers {
        let count = scenario.gates.shapers.len();
        Shapers {
            states: (0..count).map(|_| ShaperState::default()).collect(),
        }
    }
}

/// Per interval: the attempts reaching the shaper and those it throttled,
/// per second; the attempts it holds back at the interval's end.
pub(in crate::model) const COLUMNS: [Column; 3] = [
    ("arrivals_per_s", |i, g| i.per_s(|r| &r.gate_arrivals, g)),
    ("throttled_per_s", |i, g| {
        i.per_s(|r| &r.gate_turned_away, g)
    }),
    ("held", |i, g| i.now.gate_waiting[g] as f64),
];

impl Simulation<'_> {
    /// An attempt reaches shaper `shaper`: it passes on now, is held back
    /// until its turn, or is turned away now.
    pub(in crate::model) fn enter_shaper(&mut self, shaper: u32, delivery: Delivery) {
        // Its caller gave up while it crossed the network: it goes no further.
        if !self.calls.attempts.contains_key(delivery.attempt) {
            return;
        }
        let now = self.kernel.now;
        let spec = &self.kernel.scenario.gates.shapers[shaper as usize];
        let measured = u64::from(self.kernel.in_window(now));
        self.count_gate_arrival(Gate::Shaper(shaper));
        let metrics = &mut self.recorder.metrics.shapers[shaper as usize];
        metrics.requests += measured;
        let state = &mut self.gates.shapers.states[shaper as usize];
        let now_nanos = now.as_nanos() as f64;
        let turn_at_nanos = state.next_turn_at_nanos.max(now_nanos);
        let wait = SimDuration(libm::ceil(turn_at_nanos - now_nanos) as u64);
        if wait > spec.max_delay {
            self.recorder.metrics.shapers[shaper as usize].throttled += measured;
            self.count_turned_away(Gate::Shaper(shaper));
            self.answer_at(now, delivery.attempt, Err(Failure::Throttled));
            return;
        }
        state.next_turn_at_nanos = turn_at_nanos + 1e9 / spec.rate_per_s;
        if wait == SimDuration::ZERO {
            let target = spec.target;
            self.deliver(target, delivery);
            return;
        }
        state.held.push_back((delivery, now));
        let held = MarkKind::HeldByGate {
            gate: Gate::Shaper(shaper),
            wait_ns: wait.as_nanos(),
        };
        self.mark_attempt(delivery.attempt, held);
        self.recorder.metrics.shapers[shaper as usize].delayed += measured;
        self.kernel
            .schedule(now + wait, ShaperEvent::Turn { shaper });
    }

    pub(in crate::model) fn on_shaper_event(&mut self, event: ShaperEvent) {
        let ShaperEvent::Turn { shaper } = event;
        let Some((delivery, arrived_at)) =
            self.gates.shapers.states[shaper as usize].held.pop_front()
        else {
            unreachable!("a shaper's turn is scheduled for each attempt it holds back");
        };
        let measured = self.kernel.in_window(arrived_at);
        let metrics = &mut self.recorder.metrics.shapers[shaper as usize];
        if !self.calls.attempts.contains_key(delivery.attempt) {
            metrics.gave_up_waiting += u64::from(measured);
            return;
        }
        if measured {
            let delay = self.kernel.now - arrived_at;
            metrics.passed_after_delay += 1;
            metrics.delay_nanos_total += u128::from(delay.as_nanos());
            metrics.delay_max = metrics.delay_max.max(delay);
        }
        let target = self.kernel.scenario.gates.shapers[shaper as usize].target;
        self.deliver(target, delivery);
    }
}
