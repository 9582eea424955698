//! Processor sharing: every request admitted at an instance is in service
//! at once, and they share the workers' capacity equally, as threads share
//! the cores of a CPU. With n in service and c workers each progresses at
//! min(1, c / n) of full speed (divided by the load slowdown's factor for
//! n, when the service has one).
//!
//! Because every job progresses at the same speed, one number describes
//! them all: the *virtual time*, the work each job in service has received
//! since the instance started. A job whose work is w, admitted at virtual
//! time v, is done when the virtual time reaches v + w; jobs wait in a heap
//! by that instant. Only the earliest has an event, recomputed (with a new
//! generation, so the stale one is ignored) whenever n changes: an
//! admission or a departure costs O(log n), not a pass over every job.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::LoadSlowdown;

use super::event::JobKey;

/// One instance's shared processor.
pub(super) struct SharedProcessor {
    /// Work (nanoseconds at full speed) each job in service has received.
    virtual_now: f64,
    updated_at: SimTime,
    /// Each job's speed since `updated_at` (set when the next completion
    /// was last scheduled), so a change of capacity is accounted exactly.
    speed: f64,
    /// Jobs in service by the virtual time their work is done (as the bits
    /// of a non-negative f64, which order as the numbers do).
    finishing: BinaryHeap<Reverse<(u64, JobKey)>>,
    pub in_service: u32,
    /// The instance's usable workers (after any capacity loss): its
    /// capacity, in jobs at full speed.
    pub workers: u32,
    /// Bumped whenever the next completion moves; events carry it. 32 bits
    /// keep an event within 16 bytes; it would take 2³² reschedules at one
    /// instance while one stale event waits for a repeat to be mistaken.
    pub generation: u32,
}

impl SharedProcessor {
    pub fn new(workers: u32) -> SharedProcessor {
        SharedProcessor {
            virtual_now: 0.0,
            updated_at: SimTime::ZERO,
            speed: 1.0,
            finishing: BinaryHeap::new(),
            in_service: 0,
            workers,
            generation: 0,
        }
    }

    /// Workers' worth of capacity in use: for utilisation.
    pub fn busy_workers(&self) -> u32 {
        self.in_service.min(self.workers)
    }

    /// Each job's speed with the jobs now in service and `workers` usable.
    pub fn speed(&self, workers: u32, load: Option<&LoadSlowdown>) -> f64 {
        let n = self.in_service.max(1);
        let share = (f64::from(workers) / f64::from(n)).min(1.0);
        share / load.map_or(1.0, |l| l.factor(n))
    }

    /// Brings the virtual time up to `now` at the speed in effect since
    /// the last update.
    pub fn advance(&mut self, now: SimTime) {
        if self.in_service > 0 {
            self.virtual_now += (now - self.updated_at).as_nanos() as f64 * self.speed;
        }
        self.updated_at = now;
    }

    /// Admits a job with `work` nanoseconds of work (after `advance`).
    pub fn admit(&mut self, job: JobKey, work: f64) {
        let done_at = self.virtual_now + work.max(0.0);
        self.finishing.push(Reverse((done_at.to_bits(), job)));
        self.in_service += 1;
    }

    /// Sets the speed from now on (after `advance`) and returns the delay
    /// until the earliest job is done, if any is in service; the
    /// generation moves on, so earlier events are stale.
    pub fn next_done_in(&mut self, speed: f64) -> Option<SimDuration> {
        self.speed = speed;
        self.generation = self.generation.wrapping_add(1);
        let Reverse((done_at, _)) = self.finishing.peek()?;
        let left = (f64::from_bits(*done_at) - self.virtual_now).max(0.0);
        Some(SimDuration((left / speed).ceil() as u64))
    }

    /// Takes out every job whose work is done (after `advance`).
    pub fn take_done(&mut self) -> Vec<JobKey> {
        // Rounding the delay up to whole nanoseconds leaves the virtual time
        // at or just past the earliest instant; the slack absorbs the
        // floating-point error of the division.
        let reached = self.virtual_now * (1.0 + 1e-12) + 1e-6;
        let mut done = Vec::new();
        while let Some(Reverse((done_at, job))) = self.finishing.peek().copied() {
            if f64::from_bits(done_at) > reached {
                break;
            }
            self.finishing.pop();
            self.in_service -= 1;
            done.push(job);
        }
        done
    }

    /// A crash: every job in service is gone.
    pub fn clear(&mut self) {
        self.finishing.clear();
        self.in_service = 0;
        self.generation = self.generation.wrapping_add(1);
    }
}
