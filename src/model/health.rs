//! Taking failing instances out of rotation: Envoy-style outlier ejection
//! (passive, from the answers a router sees) and active health checks
//! (probes on a schedule).
//!
//! State is kept for every instance slot the router may ever route to
//! (its domain), so it survives the router's instance list changing under
//! autoscaling, and costs nothing for the rest of the scenario. A router
//! skips an instance that is ejected or unhealthy; when every instance is
//! out, it uses them all.

use crate::engine::SimTime;
use crate::scenario::spec::{HealthCheckSpec, OutlierSpec, RoutingOptions};

use super::sim::Simulation;

/// Outlier-detection state, per instance of the router's domain.
pub(super) struct Outliers {
    spec: OutlierSpec,
    consecutive_failures: Vec<u32>,
    ejected_until: Vec<Option<SimTime>>,
    times_ejected: Vec<u32>,
}

/// Health-check state, per instance of the router's domain.
pub(super) struct Health {
    spec: HealthCheckSpec,
    healthy: Vec<bool>,
    /// Probes in a row that disagreed with the current state.
    streak: Vec<u32>,
}

/// A router's health machinery (either part may be off).
#[derive(Default)]
pub(super) struct RouterHealth {
    /// Every instance the router may ever route to (all of its services'
    /// instance slots, ready or not), in ascending order: the state is
    /// kept for these alone, so a router costs memory and time in
    /// proportion to its own instances, not to the scenario's.
    domain: Vec<u32>,
    pub outliers: Option<Outliers>,
    pub health: Option<Health>,
}

impl RouterHealth {
    /// `domain`: the instances the router may route to, in ascending order.
    pub fn new(options: &RoutingOptions, domain: Vec<u32>) -> RouterHealth {
        debug_assert!(
            domain.is_sorted(),
            "a router's domain is in ascending order"
        );
        if options.outlier_detection.is_none() && options.health_check.is_none() {
            return RouterHealth::default();
        }
        let size = domain.len();
        RouterHealth {
            domain,
            outliers: options.outlier_detection.map(|spec| Outliers {
                spec,
                consecutive_failures: vec![0; size],
                ejected_until: vec![None; size],
                times_ejected: vec![0; size],
            }),
            health: options.health_check.map(|spec| Health {
                spec,
                healthy: vec![true; size],
                streak: vec![0; size],
            }),
        }
    }

    /// Where `instance`'s state is kept.
    fn index_of(&self, instance: u32) -> usize {
        self.domain
            .binary_search(&instance)
            .expect("a router routes only to instances of its domain")
    }

    /// Whether `instance` may take traffic through this router.
    fn in_rotation(&self, instance: u32) -> bool {
        if self.outliers.is_none() && self.health.is_none() {
            return true;
        }
        let index = self.index_of(instance);
        let ejected = self
            .outliers
            .as_ref()
            .is_some_and(|o| o.ejected_until[index].is_some());
        let unhealthy = self.health.as_ref().is_some_and(|h| !h.healthy[index]);
        !ejected && !unhealthy
    }
}

/// What happens to a router's view of its instances' health.
#[derive(Clone, Copy, Debug)]
pub(super) enum HealthEvent {
    /// A router with outlier detection returns instances whose ejection ended.
    OutlierSweep { router: u32 },
    /// A router with health checks probes its instances.
    HealthCheck { router: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_health_event(&mut self, event: HealthEvent) {
        match event {
            HealthEvent::OutlierSweep { router } => self.on_outlier_sweep(router),
            HealthEvent::HealthCheck { router } => self.on_health_check(router),
        }
    }

    pub(super) fn start_health_checks(&mut self) {
        for router in 0..self.routing.health.len() {
            let health = &self.routing.health[router];
            let router = router as u32;
            if let Some(outliers) = &health.outliers {
                let at = SimTime::ZERO + outliers.spec.interval;
                self.kernel
                    .schedule(at, HealthEvent::OutlierSweep { router });
            }
            if let Some(checks) = &health.health {
                let at = SimTime::ZERO + checks.spec.interval;
                self.kernel
                    .schedule(at, HealthEvent::HealthCheck { router });
            }
        }
    }

    /// An attempt routed by `router` to `instance` ended: count failures in a
    /// row, and eject the instance when they reach the threshold.
    pub(super) fn record_outcome(&mut self, router: usize, instance: u32, failed: bool) {
        if !self.routing.any_outliers {
            return;
        }
        let router_health = &mut self.routing.health[router];
        let index = match router_health.outliers {
            Some(_) => router_health.index_of(instance),
            None => return,
        };
        let Some(outliers) = &mut router_health.outliers else {
            return;
        };
        if !failed {
            outliers.consecutive_failures[index] = 0;
            return;
        }
        outliers.consecutive_failures[index] += 1;
        let due = outliers.consecutive_failures[index] >= outliers.spec.consecutive_5xx;
        if !due || outliers.ejected_until[index].is_some() {
            return;
        }
        let members = &self.routing.routers[router].instances;
        let domain = &router_health.domain;
        let ejected = members
            .iter()
            .filter(|&&i| {
                let at = domain.binary_search(&i).expect("a member is in the domain");
                outliers.ejected_until[at].is_some()
            })
            .count();
        let allowed = ejected == 0
            || (ejected + 1) as f64 / members.len() as f64 <= outliers.spec.max_ejection_fraction;
        if !allowed {
            return;
        }
        outliers.times_ejected[index] += 1;
        let ejection =
            outliers.spec.base_ejection_time.as_nanos() * u64::from(outliers.times_ejected[index]);
        outliers.ejected_until[index] =
            Some(self.kernel.now + crate::engine::SimDuration(ejection));
        if self.kernel.measuring {
            self.recorder.metrics.router_ejections[router] += 1;
        }
        self.apply_rotation(router);
    }

    /// Every interval: instances whose ejection has run out come back.
    pub(super) fn on_outlier_sweep(&mut self, router: u32) {
        let index = router as usize;
        let Some(outliers) = &mut self.routing.health[index].outliers else {
            return;
        };
        let now = self.kernel.now;
        for (until, failures) in outliers
            .ejected_until
            .iter_mut()
            .zip(&mut outliers.consecutive_failures)
        {
            if until.is_some_and(|at| at <= now) {
                *until = None;
                *failures = 0;
            }
        }
        let next_at = self.kernel.now + outliers.spec.interval;
        self.kernel
            .schedule(next_at, HealthEvent::OutlierSweep { router });
        self.apply_rotation(index);
    }

    /// Every interval: probe each instance. A probe fails when the instance
    /// is down (refusing or hanging); probes cost the instance nothing.
    pub(super) fn on_health_check(&mut self, router: u32) {
        let index = router as usize;
        let members = self.routing.routers[index].instances.clone();
        let down: Vec<bool> = members
            .iter()
            .map(|&i| {
                let effects = self.effects(i);
                effects.refuse || effects.hang
            })
            .collect();
        let router_health = &mut self.routing.health[index];
        let domain = &router_health.domain;
        let Some(health) = &mut router_health.health else {
            return;
        };
        let mut newly_unhealthy = 0;
        for (&instance, &is_down) in members.iter().zip(&down) {
            let i = domain
                .binary_search(&instance)
                .expect("a member is in the domain");
            // A probe that agrees with the current state breaks any streak.
            let agrees = is_down != health.healthy[i];
            if agrees {
                health.streak[i] = 0;
                continue;
            }
            health.streak[i] += 1;
            let threshold = if is_down {
                health.spec.unhealthy_threshold
            } else {
                health.spec.healthy_threshold
            };
            if health.streak[i] >= threshold {
                health.healthy[i] = !is_down;
                health.streak[i] = 0;
                newly_unhealthy += u64::from(is_down);
            }
        }
        let next_at = self.kernel.now + health.spec.interval;
        self.kernel
            .schedule(next_at, HealthEvent::HealthCheck { router });
        if self.kernel.measuring {
            self.recorder.metrics.router_unhealthy[index] += newly_unhealthy;
        }
        self.apply_rotation(index);
    }

    /// Marks each of the router's instances in or out of rotation.
    pub(super) fn apply_rotation(&mut self, router: usize) {
        let health = &self.routing.health[router];
        if health.outliers.is_none() && health.health.is_none() {
            return;
        }
        let members = self.routing.routers[router].instances.clone();
        for (position, instance) in members.into_iter().enumerate() {
            let in_rotation = self.routing.health[router].in_rotation(instance);
            self.routing.routers[router].set_available(position, in_rotation);
        }
    }
}
