//! Pauses: stop-the-world stalls of a service instance (garbage collection,
//! compaction, a hypervisor stealing the machine).
//!
//! A pause comes from the service's own `pauses` (each instance
//! independently: a gap drawn from `every`, a length from `duration`) or
//! from a `pause` fault. While an instance is paused nothing there makes
//! progress: no job starts, jobs in service are frozen, answers from
//! downstream calls wait, and arrivals queue (or are rejected when the
//! queue is full). Clients keep their own clocks, so their timeouts run.
//!
//! Frozen work is kept exact with a *work clock* per instance: real time
//! minus the time spent paused. A job's local work ends when the work clock
//! reaches the value it was given when the job started; its completion
//! event, scheduled on real time, checks the work clock and moves itself
//! later by exactly the pause time it overlapped. An instance that never
//! pauses has a work clock equal to real time and pays one comparison.

use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::Failure;
use crate::scenario::spec::Scenario;

use super::autoscale::Slot;
use super::event::{CallKey, JobKey};
use super::sim::Simulation;

/// The pauses room: a clock per instance slot, a random stream per service
/// that pauses on its own. Empty when nothing in the scenario pauses.
pub(super) struct Pauses {
    pub clocks: Vec<PauseClock>,
    /// Per service: its stream for gaps and lengths, if it has `pauses`.
    rngs: Vec<Option<RngStream>>,
}

/// One instance's pause state.
#[derive(Default)]
pub(super) struct PauseClock {
    /// The current pause lasts until here (not paused at or after it).
    paused_until: SimTime,
    started_at: SimTime,
    /// A pause has begun and not yet been folded into `paused_before`
    /// (its end event may still be due at this very instant).
    open: bool,
    /// Nanoseconds spent in pauses that have ended.
    paused_before: u64,
    /// Downstream answers that arrived during the pause, handled at its end.
    deferred: Vec<(JobKey, CallKey, Result<(), Failure>)>,
}

impl Pauses {
    pub fn new(scenario: &Scenario) -> Pauses {
        let any_fault = scenario
            .faults
            .iter()
            .any(|f| f.kind == crate::scenario::spec::FaultKind::Pause);
        let any_service = scenario.services.iter().any(|s| s.pauses.is_some());
        if !any_fault && !any_service {
            return Pauses {
                clocks: Vec::new(),
                rngs: Vec::new(),
            };
        }
        let slots: u32 = scenario.services.iter().map(|s| s.instance_slots()).sum();
        Pauses {
            clocks: (0..slots).map(|_| PauseClock::default()).collect(),
            rngs: scenario
                .services
                .iter()
                .map(|s| {
                    s.pauses
                        .as_ref()
                        .map(|_| RngStream::derive(scenario.seed, &s.name, "pauses"))
                })
                .collect(),
        }
    }

    /// Whether `instance` is paused at `now`.
    pub fn is_paused(&self, instance: u32, now: SimTime) -> bool {
        self.clocks
            .get(instance as usize)
            .is_some_and(|clock| now < clock.paused_until)
    }

    /// Real time since the start minus time spent paused, in nanoseconds.
    pub fn work_clock(&self, instance: u32, now: SimTime) -> u64 {
        let Some(clock) = self.clocks.get(instance as usize) else {
            return now.as_nanos();
        };
        let mut paused = clock.paused_before;
        if clock.open {
            paused += (now.min(clock.paused_until) - clock.started_at).as_nanos();
        }
        now.as_nanos() - paused
    }

    /// When a job whose work ends at work-clock `work_until` is really done,
    /// if not at `now`: after the current pause plus the work left, or
    /// later by the pause time it overlapped.
    pub fn work_done_at(&self, instance: u32, work_until: u64, now: SimTime) -> Option<SimTime> {
        let clock = self.clocks.get(instance as usize)?;
        let left = SimDuration(work_until.saturating_sub(self.work_clock(instance, now)));
        if now < clock.paused_until {
            Some(clock.paused_until + left)
        } else {
            (left > SimDuration::ZERO).then(|| now + left)
        }
    }
}

/// What happens to an instance's pauses.
#[derive(Clone, Copy, Debug)]
pub(super) enum PauseEvent {
    /// The instance's own next random pause begins.
    Begin { instance: u32 },
    /// A pause ends, unless a later one has since extended it.
    End { instance: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_pause_event(&mut self, event: PauseEvent) {
        match event {
            PauseEvent::Begin { instance } => self.on_random_pause(instance),
            PauseEvent::End { instance } => self.on_pause_end(instance),
        }
    }

    /// Schedules every instance's first random pause.
    pub(super) fn start_pauses(&mut self) {
        for (service, spec) in self.kernel.scenario.services.iter().enumerate() {
            let Some(pauses) = &spec.pauses else { continue };
            for instance in self.services.states[service].instances.clone() {
                let rng = self.pauses.rngs[service]
                    .as_mut()
                    .expect("a service with pauses has a stream");
                let gap = SimDuration::from_nanos_f64(pauses.every.sample(rng));
                self.kernel.schedule_in(gap, PauseEvent::Begin { instance });
            }
        }
    }

    fn on_random_pause(&mut self, instance: u32) {
        let service = self.services.instances[instance as usize].service as usize;
        let pauses = self.kernel.scenario.services[service]
            .pauses
            .as_ref()
            .expect("only a service with pauses schedules them");
        let rng = self.pauses.rngs[service]
            .as_mut()
            .expect("a service with pauses has a stream");
        let length = SimDuration::from_nanos_f64(pauses.duration.sample(rng));
        let gap = SimDuration::from_nanos_f64(pauses.every.sample(rng));
        self.kernel
            .schedule_in(length + gap, PauseEvent::Begin { instance });
        if length > SimDuration::ZERO {
            self.begin_pause(instance, self.kernel.now + length);
        }
    }

    /// Pauses `instance` until `until` (or extends the current pause).
    pub(super) fn begin_pause(&mut self, instance: u32, until: SimTime) {
        // A slot the autoscaler has switched off has nothing to pause.
        if self.services.instances[instance as usize].slot == Slot::Off {
            return;
        }
        let now = self.kernel.now;
        let clock = &mut self.pauses.clocks[instance as usize];
        // Open even at the instant it ends: a pause that begins then
        // continues it (its end has not been folded in yet).
        let extends = clock.open;
        if extends && until <= clock.paused_until {
            return;
        }
        let added = if extends {
            until - clock.paused_until
        } else {
            clock.started_at = now;
            clock.open = true;
            until - now
        };
        clock.paused_until = until;
        self.kernel.schedule(until, PauseEvent::End { instance });
        let service = self.services.instances[instance as usize].service as usize;
        if self.kernel.measuring {
            let metrics = &mut self.recorder.metrics.services[service];
            metrics.pauses += u64::from(!extends);
            let counted_until = until.min(self.kernel.end_at());
            metrics.paused_nanos += counted_until
                .as_nanos()
                .saturating_sub(until.as_nanos() - added.as_nanos());
        }
    }

    fn on_pause_end(&mut self, instance: u32) {
        let now = self.kernel.now;
        let clock = &mut self.pauses.clocks[instance as usize];
        if now < clock.paused_until || !clock.open {
            return;
        }
        clock.paused_before += (clock.paused_until - clock.started_at).as_nanos();
        clock.open = false;
        let deferred = std::mem::take(&mut clock.deferred);
        for (job, call, result) in deferred {
            if self.services.jobs.contains_key(job) {
                self.on_child_finished(job, call, result);
            }
        }
        self.services.advance_areas(instance, now);
        self.start_waiting(instance);
    }

    /// Holds a downstream answer for a paused instance's job until the
    /// pause ends; false if the instance is not paused.
    pub(super) fn defer_if_paused(
        &mut self,
        instance: u32,
        job: JobKey,
        call: CallKey,
        result: Result<(), Failure>,
    ) -> bool {
        if !self.pauses.is_paused(instance, self.kernel.now) {
            return false;
        }
        self.pauses.clocks[instance as usize]
            .deferred
            .push((job, call, result));
        true
    }
}
