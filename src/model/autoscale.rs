//! Autoscaling in the style of the Kubernetes Horizontal Pod Autoscaler.
//!
//! An autoscaled service has instance slots up to its maximum; each slot is
//! off, starting (cold start), ready (taking traffic) or draining (finishing
//! its work, taking none). Every evaluation period the controller averages
//! its metric over ready instances, recommends ceil(current × metric ÷
//! target) unless within the tolerance, stabilises the recommendation over
//! the scale-up and scale-down windows (lowest of the one, highest of the
//! other) and clamps it to [min, max]. New instances take traffic only after
//! their cold start; removed ones stop taking traffic at once and drain.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::{AutoscalingSpec, ScalingMetric};

use super::sim::Simulation;

/// The life of an instance slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Off,
    Starting { ready_at: SimTime },
    Ready,
    Draining,
}

/// The controller's memory: recent recommendations and the integrals at the
/// last evaluation. The recommendations are kept as two monotonic queues, so
/// each evaluation costs O(1) amortised however many evaluations fit in a
/// stabilisation window: `lowest` holds the candidates for the lowest
/// recommendation of the scale-up window (counts increasing from the front),
/// `highest` those for the highest of the scale-down window (decreasing).
#[derive(Clone, Debug, Default)]
pub(super) struct Scaler {
    lowest: VecDeque<(SimTime, u32)>,
    highest: VecDeque<(SimTime, u32)>,
    busy_then: u128,
    queue_then: u128,
}

/// The HPA's replica count: ceil(current × ratio) outside the tolerance band.
pub fn recommend(spec: &AutoscalingSpec, current: u32, metric: f64) -> u32 {
    let ratio = metric / spec.target;
    let desired = if (ratio - 1.0).abs() <= spec.tolerance {
        current
    } else {
        (f64::from(current) * ratio).ceil() as u32
    };
    desired.clamp(spec.min_instances, spec.max_instances)
}

impl Scaler {
    /// Records `desired` and returns the stabilised count for `current`:
    /// never below the lowest recommendation of the scale-up window, never
    /// above the highest of the scale-down window.
    fn stabilise(
        &mut self,
        spec: &AutoscalingSpec,
        now: SimTime,
        current: u32,
        desired: u32,
    ) -> u32 {
        let up = window_extreme(
            &mut self.lowest,
            spec.scale_up_stabilization,
            now,
            desired,
            |kept, new| kept >= new,
        );
        let down = window_extreme(
            &mut self.highest,
            spec.scale_down_stabilization,
            now,
            desired,
            |kept, new| kept <= new,
        );
        current.max(up).min(down)
    }
}

/// Pushes `desired` into a monotonic queue, drops what left the `window`,
/// and returns the queue's extreme (its front). A kept entry that
/// `dominated(kept, desired)` can never be the extreme again: the newer one
/// is at least as extreme and stays in the window longer.
fn window_extreme(
    queue: &mut VecDeque<(SimTime, u32)>,
    window: SimDuration,
    now: SimTime,
    desired: u32,
    dominated: impl Fn(u32, u32) -> bool,
) -> u32 {
    while queue
        .back()
        .is_some_and(|&(_, kept)| dominated(kept, desired))
    {
        queue.pop_back();
    }
    queue.push_back((now, desired));
    while queue.front().is_some_and(|&(at, _)| now.since(at) > window) {
        queue.pop_front();
    }
    queue.front().map_or(desired, |&(_, count)| count)
}

/// What happens to an autoscaled service.
#[derive(Clone, Copy, Debug)]
pub(super) enum ScalingEvent {
    /// An autoscaled service's controller looks at its metric.
    ScaleEvaluation { service: u32 },
    /// An instance added by the autoscaler has started and takes traffic.
    InstanceReady { instance: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_scaling_event(&mut self, event: ScalingEvent) {
        match event {
            ScalingEvent::ScaleEvaluation { service } => self.on_scale_evaluation(service),
            ScalingEvent::InstanceReady { instance } => self.on_instance_ready(instance),
        }
    }

    pub(super) fn start_autoscalers(&mut self) {
        for (id, service) in self.kernel.scenario.services.iter().enumerate() {
            if let Some(spec) = service.autoscaling {
                self.kernel.schedule(
                    SimTime::ZERO + spec.evaluation_period,
                    ScalingEvent::ScaleEvaluation { service: id as u32 },
                );
            }
        }
    }

    pub(super) fn on_scale_evaluation(&mut self, service: u32) {
        let spec = self.kernel.scenario.services[service as usize]
            .autoscaling
            .expect("only autoscaled services are evaluated");
        self.kernel.schedule_in(
            spec.evaluation_period,
            ScalingEvent::ScaleEvaluation { service },
        );
        let metric = self.scaling_metric(service, &spec);
        let slots = self.services.states[service as usize].instances.clone();
        let current = slots
            .filter(|&i| {
                matches!(
                    self.services.instances[i as usize].slot,
                    Slot::Ready | Slot::Starting { .. }
                )
            })
            .count() as u32;
        let desired = recommend(&spec, current, metric);
        let scaler = self.services.states[service as usize]
            .scaler
            .as_mut()
            .expect("autoscaled services have a scaler");
        let target = scaler.stabilise(&spec, self.kernel.now, current, desired);
        if target > current {
            self.scale_up(service, target - current, spec.cold_start);
        } else if target < current {
            self.scale_down(service, current - target);
        }
    }

    /// The metric averaged over the last period and the ready instances.
    fn scaling_metric(&mut self, service: u32, spec: &AutoscalingSpec) -> f64 {
        let slots = self.services.states[service as usize].instances.clone();
        let (mut busy, mut queue) = (0u128, 0u128);
        for instance in slots {
            self.services.advance_areas(instance, self.kernel.now);
            let state = &self.services.instances[instance as usize];
            busy += state.busy_area.integral();
            queue += state.queue_area.integral();
        }
        let state = &mut self.services.states[service as usize];
        let scaler = state.scaler.as_mut().expect("autoscaled");
        let busy_delta = (busy - scaler.busy_then) as f64;
        let queue_delta = (queue - scaler.queue_then) as f64;
        (scaler.busy_then, scaler.queue_then) = (busy, queue);
        let ready = f64::from(state.ready.max(1));
        let span = spec.evaluation_period.as_nanos() as f64;
        let workers = f64::from(self.kernel.scenario.services[service as usize].workers);
        match spec.metric {
            ScalingMetric::Utilisation => busy_delta / span / (ready * workers),
            ScalingMetric::QueueLength => queue_delta / span / ready,
            ScalingMetric::Concurrency => (busy_delta + queue_delta) / span / ready,
        }
    }

    /// Starts `count` instances in the lowest free slots.
    fn scale_up(&mut self, service: u32, count: u32, cold_start: SimDuration) {
        let ready_at = self.kernel.now + cold_start;
        let free: Vec<u32> = self.services.states[service as usize]
            .instances
            .clone()
            .filter(|&i| {
                matches!(
                    self.services.instances[i as usize].slot,
                    Slot::Off | Slot::Draining
                )
            })
            .take(count as usize)
            .collect();
        for instance in free {
            self.services.instances[instance as usize].slot = Slot::Starting { ready_at };
            self.kernel
                .schedule(ready_at, ScalingEvent::InstanceReady { instance });
        }
    }

    /// Removes `count` instances: those still starting first, then the
    /// highest ready ones, which drain.
    fn scale_down(&mut self, service: u32, count: u32) {
        let slots = self.services.states[service as usize].instances.clone();
        let starting = slots.clone().rev().filter(|&i| {
            matches!(
                self.services.instances[i as usize].slot,
                Slot::Starting { .. }
            )
        });
        let ready = slots
            .rev()
            .filter(|&i| self.services.instances[i as usize].slot == Slot::Ready);
        let chosen: Vec<u32> = starting.chain(ready).take(count as usize).collect();
        let mut removed_ready = false;
        for instance in chosen {
            let slot = &mut self.services.instances[instance as usize].slot;
            removed_ready |= *slot == Slot::Ready;
            *slot = match slot {
                Slot::Ready => Slot::Draining,
                _ => Slot::Off,
            };
        }
        if removed_ready {
            self.refresh_ready(service);
        }
    }

    pub(super) fn on_instance_ready(&mut self, instance: u32) {
        let state = &mut self.services.instances[instance as usize];
        if let Slot::Starting { ready_at } = state.slot
            && ready_at <= self.kernel.now
        {
            state.slot = Slot::Ready;
            let service = state.service;
            self.refresh_ready(service);
        }
    }

    /// Points the routers at the service's ready instances and updates the
    /// ready-instance count and its time integral.
    fn refresh_ready(&mut self, service: u32) {
        let ready: Vec<u32> = self.services.states[service as usize]
            .instances
            .clone()
            .filter(|&i| self.services.instances[i as usize].slot == Slot::Ready)
            .collect();
        let state = &mut self.services.states[service as usize];
        state
            .ready_area
            .advance(self.kernel.now, u64::from(state.ready));
        state.ready = ready.len() as u32;
        // Warm-up included: scaling below the start is a surprise either way.
        let fewest = &mut self.recorder.metrics.services[service as usize].ready_instances_min;
        *fewest = (*fewest).min(ready.len() as u64);
        if self.kernel.measuring {
            let metrics = &mut self.recorder.metrics.services[service as usize];
            metrics.ready_instances_max = metrics.ready_instances_max.max(ready.len() as u64);
        }
        self.routing.set_instances(service as usize, ready);
        self.apply_rotation(service as usize);
        let balancers = self.kernel.scenario.balancers.iter().enumerate();
        for (index, balancer) in balancers.filter(|(_, b)| b.backends.contains(&service)) {
            let instances = balancer
                .backends
                .iter()
                .flat_map(|&s| self.routing.routers[s as usize].instances.clone())
                .collect();
            let router = self.kernel.scenario.services.len() + index;
            self.routing.set_instances(router, instances);
            self.apply_rotation(router);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AutoscalingSpec {
        AutoscalingSpec {
            metric: ScalingMetric::Utilisation,
            target: 0.5,
            evaluation_period: SimDuration(15_000_000_000),
            tolerance: 0.1,
            scale_up_stabilization: SimDuration::ZERO,
            scale_down_stabilization: SimDuration(300_000_000_000),
            min_instances: 2,
            max_instances: 10,
            cold_start: SimDuration::ZERO,
        }
    }

    #[test]
    fn recommendations_follow_the_hpa_formula() {
        let spec = spec();
        assert_eq!(recommend(&spec, 4, 0.52), 4, "within tolerance");
        assert_eq!(recommend(&spec, 4, 0.9), 8);
        assert_eq!(recommend(&spec, 4, 1.0), 8);
        assert_eq!(recommend(&spec, 8, 1.0), 10, "capped at max");
        assert_eq!(recommend(&spec, 4, 0.1), 2, "floored at min");
    }

    /// The monotonic queues give what a scan of every recommendation in the
    /// windows gives, on a long irregular sequence.
    #[test]
    fn stabilisation_equals_a_scan_of_the_windows() {
        let mut spec = spec();
        spec.scale_up_stabilization = SimDuration(45_000_000_000);
        spec.scale_down_stabilization = SimDuration(120_000_000_000);
        let mut scaler = Scaler::default();
        let mut history: Vec<(SimTime, u32)> = Vec::new();
        let mut state: u64 = 7;
        for step in 0..2_000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let desired = 1 + (state >> 59) as u32;
            let current = 1 + ((state >> 40) % 16) as u32;
            let now = SimTime(step * 15_000_000_000);
            history.push((now, desired));
            let within = |window: SimDuration| {
                history
                    .iter()
                    .filter(move |&&(at, _)| now.since(at) <= window)
                    .map(|&(_, count)| count)
            };
            let up = within(spec.scale_up_stabilization).min().unwrap();
            let down = within(spec.scale_down_stabilization).max().unwrap();
            let expected = current.max(up).min(down);
            assert_eq!(
                scaler.stabilise(&spec, now, current, desired),
                expected,
                "step {step}"
            );
        }
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let spec = spec();
        let mut scaler = Scaler::default();
        let s = |seconds: u64| SimTime(seconds * 1_000_000_000);
        assert_eq!(scaler.stabilise(&spec, s(0), 4, 8), 8);
        // Load fell: the recommendation is 2, but 8 is still in the window.
        assert_eq!(scaler.stabilise(&spec, s(15), 8, 2), 8);
        assert_eq!(scaler.stabilise(&spec, s(299), 8, 2), 8);
        assert_eq!(scaler.stabilise(&spec, s(301), 8, 2), 2);
    }
}
