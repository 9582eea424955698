//! The kernel every room shares: the scenario, the clock, the event queue
//! and whether statistics are being kept yet.
//!
//! Rooms (sources, calls, services, routing, caches, queues, consumers,
//! faults, autoscaling) own their component state; the kernel owns only
//! what every one of them needs to act: the present instant, a way to
//! schedule what happens next, and the measured window. It is small on
//! purpose, so that handing it to a room says nothing more than "you may
//! read the clock and schedule events".

use crate::engine::{EventQueue, SimDuration, SimTime};
use crate::scenario::spec::Scenario;

use super::call::Calls;
use super::sim::Event;

pub(super) struct Kernel<'a> {
    pub scenario: &'a Scenario,
    /// The instant of the event being handled.
    pub now: SimTime,
    pub events: EventQueue<Event>,
    /// Whether the time integrals are being accumulated (warm-up is over).
    pub measuring: bool,
}

impl<'a> Kernel<'a> {
    pub fn new(scenario: &'a Scenario) -> Kernel<'a> {
        Kernel {
            scenario,
            now: SimTime::ZERO,
            events: EventQueue::with_lanes(Calls::lanes(scenario)),
            measuring: scenario.warmup == SimDuration::ZERO,
        }
    }

    /// Whether something that began at `began_at` (a job's arrival, a call's
    /// start) belongs to the measured window. Outcomes are counted by when
    /// their subject began, so every count balances even across warm-up.
    pub fn in_window(&self, began_at: SimTime) -> bool {
        began_at >= SimTime::ZERO + self.scenario.warmup
    }

    /// Schedules `event` at `at`, which is never before now.
    pub fn schedule(&mut self, at: SimTime, event: impl Into<Event>) {
        self.events.schedule(at, event.into());
    }

    /// Schedules `event` at `at` on `lane`, whose events are scheduled in
    /// time order (an edge's timers of one kind: now plus a constant).
    pub fn schedule_in_lane(&mut self, lane: u32, at: SimTime, event: impl Into<Event>) {
        self.events.schedule_in_lane(lane, at, event.into());
    }

    /// Schedules `event` `delay` from now.
    pub fn schedule_in(&mut self, delay: SimDuration, event: impl Into<Event>) {
        self.events.schedule(self.now + delay, event.into());
    }

    /// The end of the scenario's duration.
    pub fn end_at(&self) -> SimTime {
        SimTime::ZERO + self.scenario.duration
    }
}
