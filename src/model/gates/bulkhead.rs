//! Bulkheads: a cap on the attempts in progress through a point in front of
//! a service or load balancer, as Envoy's `max_requests` with
//! `max_pending_requests`, or resilience4j's `Bulkhead` with its
//! `maxWaitDuration`, applies one.
//!
//! An attempt that finds a free place takes it and passes on to the target
//! as the same attempt (the caller's timeout still runs). It holds the
//! place until it ends for its caller: answered, timed out, or abandoned,
//! as a connection pool's connection is held until the response or the
//! reset. With every place taken it waits in line, oldest first, if the
//! line has room; otherwise, or after `max_wait` in line, it is answered
//! at once as `rejected` (Envoy's overflow 503), and the caller's
//! `retry_on` decides whether to try again. A waiting attempt whose caller
//! gives up leaves the line without ever reaching the target.
//!
//! The room keeps which attempt holds a place where, beside the attempts
//! rather than in them, so that attempts stay as small as they were for
//! scenarios without bulkheads: ending one costs a single test then.
//!
//! A place freed while attempts wait is handed on through an event at the
//! same instant, never inside the bookkeeping of the attempt that freed it,
//! and stays taken meanwhile, so a newcomer at that instant cannot jump
//! the line.

use std::collections::VecDeque;

use slotmap::SecondaryMap;

use crate::engine::SimTime;
use crate::scenario::spec::Gate;

use super::super::event::AttemptKey;
use super::super::metrics::Failure;
use super::super::sim::{Delivery, Simulation};
use super::super::timeseries::Column;
use super::super::trace::MarkKind;

/// The bulkheads room: the places taken and the line of each.
pub(in crate::model) struct Bulkheads {
    pub states: Vec<BulkheadState>,
    /// The bulkhead whose place each attempt holds, for those that hold one.
    holders: SecondaryMap<AttemptKey, u32>,
    /// The bulkhead in whose line each attempt waits, for those waiting
    /// whose callers still wait too.
    waiting: SecondaryMap<AttemptKey, u32>,
    /// Whether the scenario has bulkheads at all.
    pub any: bool,
}

#[derive(Default)]
pub(in crate::model) struct BulkheadState {
    /// Places taken: held by attempts, or being handed on.
    in_use: u32,
    /// Places freed while attempts waited, whose handing on is scheduled.
    handing_on: u32,
    /// Attempts waiting for a place, oldest first, with when each began
    /// to wait. Some may belong to callers that gave up since: they are
    /// skipped when reached.
    pub line: VecDeque<(Delivery, SimTime)>,
    /// How many of those in `line` their callers gave up on, so that a
    /// full line is swept for them only when there are some.
    given_up_in_line: u32,
}

impl BulkheadState {
    /// Places taken, those being handed on included.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Attempts in line whose callers still wait.
    pub fn waiting(&self) -> u32 {
        self.line.len() as u32 - self.given_up_in_line
    }
}

/// Per interval: the attempts reaching the bulkhead and those it turned
/// away, per second; its places taken and its line at the interval's end.
pub(in crate::model) const COLUMNS: [Column; 4] = [
    ("arrivals_per_s", |i, g| i.per_s(|r| &r.gate_arrivals, g)),
    ("rejected_per_s", |i, g| i.per_s(|r| &r.gate_turned_away, g)),
    ("in_use", |i, g| i.now.gate_in_use[g] as f64),
    ("waiting", |i, g| i.now.gate_waiting[g] as f64),
];

#[derive(Clone, Copy, Debug)]
pub(in crate::model) enum BulkheadEvent {
    /// A place came free while attempts waited: hand it to the first whose
    /// caller still waits, or free it.
    PlaceFreed { bulkhead: u32 },
    /// The attempts that began to wait `max_wait` ago are turned away.
    WaitEnded { bulkhead: u32 },
}

impl Bulkheads {
    pub fn new(scenario: &crate::scenario::spec::Scenario) -> Bulkheads {
        Bulkheads {
            states: scenario
                .gates
                .bulkheads
                .iter()
                .map(|_| BulkheadState::default())
                .collect(),
            holders: SecondaryMap::new(),
            waiting: SecondaryMap::new(),
            any: !scenario.gates.bulkheads.is_empty(),
        }
    }
}

impl Simulation<'_> {
    /// An attempt reaches bulkhead `bulkhead`: it passes on to the target,
    /// waits in line for a place, or is turned away now.
    pub(in crate::model) fn enter_bulkhead(&mut self, bulkhead: u32, delivery: Delivery) {
        // Its caller gave up while it crossed the network: the bulkhead
        // sees the reset and the attempt goes no further.
        if !self.calls.attempts.contains_key(delivery.attempt) {
            return;
        }
        let now = self.kernel.now;
        let scenario = self.kernel.scenario;
        let spec = &scenario.gates.bulkheads[bulkhead as usize];
        let measured = u64::from(self.kernel.in_window(now));
        self.count_gate_arrival(Gate::Bulkhead(bulkhead));
        let metrics = &mut self.recorder.metrics.bulkheads[bulkhead as usize];
        metrics.requests += measured;
        let state = &mut self.gates.bulkheads.states[bulkhead as usize];
        if state.in_use < spec.max_concurrent {
            debug_assert!(state.line.is_empty(), "a place is free while attempts wait");
            state.in_use += 1;
            self.pass_through(bulkhead, delivery);
            return;
        }
        if state.line.len() as u32 >= spec.max_waiting && state.given_up_in_line > 0 {
            let attempts = &self.calls.attempts;
            let before = state.line.len();
            state.given_up_in_line = 0;
            state
                .line
                .retain(|(waiting, _)| attempts.contains_key(waiting.attempt));
            // Counted as they leave the line, though by when the newcomer
            // came: the window's edge aside, the same count.
            metrics.gave_up_waiting += measured * (before - state.line.len()) as u64;
        }
        if state.line.len() as u32 >= spec.max_waiting {
            metrics.rejected_full += measured;
            self.count_turned_away(Gate::Bulkhead(bulkhead));
            self.answer_at(now, delivery.attempt, Err(Failure::Rejected));
            return;
        }
        state.line.push_back((delivery, now));
        self.gates
            .bulkheads
            .waiting
            .insert(delivery.attempt, bulkhead);
        metrics.waited += measured;
        if let Some(max_wait) = spec.max_wait {
            self.kernel
                .schedule(now + max_wait, BulkheadEvent::WaitEnded { bulkhead });
        }
    }

    /// Sends an attempt that holds a place on to the bulkhead's target.
    fn pass_through(&mut self, bulkhead: u32, delivery: Delivery) {
        let in_use = u64::from(self.gates.bulkheads.states[bulkhead as usize].in_use);
        if self.kernel.measuring {
            let metrics = &mut self.recorder.metrics.bulkheads[bulkhead as usize];
            metrics.in_use_max = metrics.in_use_max.max(in_use);
        }
        if self.calls.attempts.contains_key(delivery.attempt) {
            self.gates
                .bulkheads
                .holders
                .insert(delivery.attempt, bulkhead);
        }
        let target = self.kernel.scenario.gates.bulkheads[bulkhead as usize].target;
        self.deliver(target, delivery);
    }

    /// `attempt` ended for its caller: the place it held, if any, is free.
    pub(in crate::model) fn leave_bulkhead(&mut self, attempt: AttemptKey) {
        let room = &mut self.gates.bulkheads;
        let Some(bulkhead) = room.holders.remove(attempt) else {
            if let Some(bulkhead) = room.waiting.remove(attempt) {
                room.states[bulkhead as usize].given_up_in_line += 1;
            }
            return;
        };
        let state = &mut self.gates.bulkheads.states[bulkhead as usize];
        debug_assert!(state.in_use > 0, "a bulkhead's place freed twice");
        if state.line.is_empty() {
            state.in_use -= 1;
        } else {
            state.handing_on += 1;
            let now = self.kernel.now;
            self.kernel
                .schedule(now, BulkheadEvent::PlaceFreed { bulkhead });
        }
    }

    pub(in crate::model) fn on_bulkhead_event(&mut self, event: BulkheadEvent) {
        match event {
            BulkheadEvent::PlaceFreed { bulkhead } => self.hand_on_place(bulkhead),
            BulkheadEvent::WaitEnded { bulkhead } => self.end_waits(bulkhead),
        }
    }

    /// Gives a freed place to the oldest attempt whose caller still waits,
    /// or frees it when there is none.
    fn hand_on_place(&mut self, bulkhead: u32) {
        let now = self.kernel.now;
        let index = bulkhead as usize;
        self.gates.bulkheads.states[index].handing_on -= 1;
        while let Some((delivery, waited_from)) =
            self.gates.bulkheads.states[index].line.pop_front()
        {
            if !self.left_line(bulkhead, delivery, waited_from) {
                continue;
            }
            let wait = now - waited_from;
            let held = MarkKind::HeldByGate {
                gate: Gate::Bulkhead(bulkhead),
                wait_ns: wait.as_nanos(),
            };
            self.mark_attempt(delivery.attempt, held);
            if self.kernel.in_window(waited_from) {
                let metrics = &mut self.recorder.metrics.bulkheads[bulkhead as usize];
                metrics.admitted_after_waiting += 1;
                metrics.wait_nanos_total += u128::from(wait.as_nanos());
                metrics.wait_max = metrics.wait_max.max(wait);
            }
            self.pass_through(bulkhead, delivery);
            return;
        }
        self.gates.bulkheads.states[index].in_use -= 1;
    }

    /// An attempt that waited since `waited_from` has left the line of
    /// `bulkhead`: whether its caller still waits for it. One given up on
    /// is counted.
    fn left_line(&mut self, bulkhead: u32, delivery: Delivery, waited_from: SimTime) -> bool {
        let room = &mut self.gates.bulkheads;
        if room.waiting.remove(delivery.attempt).is_some() {
            return true;
        }
        room.states[bulkhead as usize].given_up_in_line -= 1;
        let gave_up = u64::from(self.kernel.in_window(waited_from));
        self.recorder.metrics.bulkheads[bulkhead as usize].gave_up_waiting += gave_up;
        false
    }

    /// Turns away the attempts that have waited `max_wait`: the oldest in
    /// line, since every one waits at most as long.
    fn end_waits(&mut self, bulkhead: u32) {
        let now = self.kernel.now;
        let Some(max_wait) = self.kernel.scenario.gates.bulkheads[bulkhead as usize].max_wait
        else {
            unreachable!("only a bulkhead with max_wait ends waits");
        };
        let index = bulkhead as usize;
        while let Some(&(delivery, waited_from)) = self.gates.bulkheads.states[index].line.front() {
            if waited_from + max_wait > now {
                break;
            }
            self.gates.bulkheads.states[index].line.pop_front();
            if !self.left_line(bulkhead, delivery, waited_from) {
                continue;
            }
            if self.kernel.in_window(waited_from) {
                self.recorder.metrics.bulkheads[bulkhead as usize].rejected_waiting += 1;
            }
            self.count_turned_away(Gate::Bulkhead(bulkhead));
            self.answer_at(now, delivery.attempt, Err(Failure::Rejected));
        }
    }

    /// Every place taken is held by an attempt still in progress or is
    /// being handed on, so none leaks and none is freed twice: checked at
    /// the end of every run, in debug builds (it walks every attempt).
    pub(in crate::model) fn debug_check_bulkhead_places(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let room = &self.gates.bulkheads;
        assert!(
            room.waiting
                .keys()
                .all(|attempt| self.calls.attempts.contains_key(attempt)),
            "an attempt that ended is still counted as waiting in a bulkhead's line"
        );
        for (index, state) in room.states.iter().enumerate() {
            let given_up = state.line.iter();
            let given_up = given_up.filter(|(w, _)| !self.calls.attempts.contains_key(w.attempt));
            assert_eq!(
                given_up.count() as u32,
                state.given_up_in_line,
                "bulkhead {index}: attempts given up on in line ≠ its count of them"
            );
        }
        let holders = &self.gates.bulkheads.holders;
        assert!(
            holders
                .keys()
                .all(|attempt| self.calls.attempts.contains_key(attempt)),
            "an attempt that ended still holds a bulkhead's place"
        );
        for (index, state) in self.gates.bulkheads.states.iter().enumerate() {
            let holding = holders.values().filter(|&&b| b == index as u32).count() as u32;
            assert_eq!(
                state.in_use,
                holding + state.handing_on,
                "bulkhead {index}: places taken ≠ attempts holding one + places being handed on"
            );
        }
    }
}
