//! Faults on a schedule: outages, slowdowns, error windows, crashes, added
//! network latency and capacity loss.
//!
//! Each fault becomes two events, its start and its end. While active, a
//! fault sits in the list of the service, instance or edge it targets; the
//! service code asks [`Simulation::effects`] what the active faults add up
//! to at an instance, which is a quick "nothing" when no fault is active.
//! Faults overlap freely: slowdowns multiply, error rates combine as
//! independent chances, capacity losses add up (to at most everything).

use slotmap::SlotMap;

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::{FaultKind, FaultTarget};

use super::event::{AttemptKey, TransitKey};
use super::sim::Simulation;

/// What the active faults do to an instance right now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Effects {
    /// Arrivals are refused at once (an outage or a crashed instance).
    pub refuse: bool,
    /// Arrivals are swallowed and never answered.
    pub hang: bool,
    /// Service times are multiplied by this.
    pub slowdown: f64,
    /// Extra probability that a request fails.
    pub error_rate: f64,
    /// Fraction of workers unavailable.
    pub capacity_loss: f64,
}

impl Effects {
    pub const NONE: Effects = Effects {
        refuse: false,
        hang: false,
        slowdown: 1.0,
        error_rate: 0.0,
        capacity_loss: 0.0,
    };

    pub(super) fn add(&mut self, kind: &FaultKind) {
        match kind {
            FaultKind::Outage { hang: false } | FaultKind::Crash => self.refuse = true,
            FaultKind::Outage { hang: true } => self.hang = true,
            FaultKind::Slowdown { factor } => self.slowdown *= factor,
            FaultKind::Errors { error_rate } => {
                self.error_rate = 1.0 - (1.0 - self.error_rate) * (1.0 - error_rate);
            }
            FaultKind::CapacityLoss { fraction } => {
                self.capacity_loss = (self.capacity_loss + fraction).min(1.0);
            }
            FaultKind::Latency { .. } | FaultKind::Flush | FaultKind::Pause => {}
        }
    }
}

/// An attempt on its way to an instance through an edge with added latency.
/// The faults room: attempts a latency fault is holding on their way.
/// (Which faults are active is kept where each one acts: on the service,
/// instance, edge or poller it affects.)
#[derive(Default)]
pub(super) struct Faults {
    pub transits: SlotMap<TransitKey, Transit>,
    /// How many faults are active on services and instances: while none
    /// is, [`Simulation::effects`] answers without reading the instance's
    /// and service's lists (two cache misses per request among thousands
    /// of services).
    pub active_on_services: u32,
}

pub(super) struct Transit {
    pub attempt: AttemptKey,
    pub instance: u32,
    pub key: u64,
    pub expires_at: SimTime,
}

/// What happens to a fault, or to an attempt a fault delays.
#[derive(Clone, Copy, Debug)]
pub(super) enum FaultEvent {
    /// A delayed attempt reaches its instance.
    Delivered { transit: TransitKey },
    /// A scheduled fault begins.
    FaultStart { fault: u32 },
    /// A scheduled fault ends (a crashed instance restarts).
    FaultEnd { fault: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_fault_event(&mut self, event: FaultEvent) {
        match event {
            FaultEvent::Delivered { transit } => self.on_delivered(transit),
            FaultEvent::FaultStart { fault } => self.on_fault_start(fault),
            FaultEvent::FaultEnd { fault } => self.on_fault_end(fault),
        }
    }

    pub(super) fn schedule_faults(&mut self) {
        for (id, fault) in self.kernel.scenario.faults.iter().enumerate() {
            let fault_id = id as u32;
            let start_at = SimTime::ZERO + fault.at;
            self.kernel
                .schedule(start_at, FaultEvent::FaultStart { fault: fault_id });
            self.kernel.schedule(
                start_at + fault.duration,
                FaultEvent::FaultEnd { fault: fault_id },
            );
        }
    }

    pub(super) fn on_fault_start(&mut self, fault: u32) {
        let spec = &self.kernel.scenario.faults[fault as usize];
        match &spec.target {
            FaultTarget::Service(service) => {
                self.faults.active_on_services += 1;
                self.services.states[*service as usize]
                    .active_faults
                    .push(fault);
            }
            FaultTarget::Instance { .. } => {
                self.faults.active_on_services += 1;
                let instance = self.fault_instance(&spec.target);
                self.services.instances[instance as usize]
                    .active_faults
                    .push(fault);
            }
            FaultTarget::Edges(edges) => {
                for &edge in edges {
                    let state = &mut self.calls.edges[edge as usize];
                    state.latency_faults.get_or_insert_default().push(fault);
                }
            }
            FaultTarget::Cache(cache) => self.flush_cache(*cache, true),
            FaultTarget::Consumer { consumer, poller } => {
                match poller {
                    Some(p) => {
                        let index = self.consumers.groups[*consumer as usize].pollers.start + p;
                        self.consumers.pollers[index as usize]
                            .active_faults
                            .push(fault);
                    }
                    None => self.consumers.groups[*consumer as usize]
                        .active_faults
                        .push(fault),
                }
                if spec.kind == FaultKind::Crash {
                    self.crash_pollers(self.fault_pollers(&spec.target), true);
                }
                return;
            }
        }
        if spec.kind == FaultKind::Crash {
            for instance in self.fault_instances(&spec.target) {
                self.lose_jobs(instance);
            }
        }
        if matches!(spec.kind, FaultKind::CapacityLoss { .. }) {
            for instance in self.fault_instances(&spec.target) {
                self.resync_shared(instance);
            }
        }
        if spec.kind == FaultKind::Pause {
            let until = self.kernel.now + spec.duration;
            for instance in self.fault_instances(&spec.target) {
                self.begin_pause(instance, until);
            }
        }
    }

    pub(super) fn on_fault_end(&mut self, fault: u32) {
        let spec = &self.kernel.scenario.faults[fault as usize];
        let forget = |list: &mut Vec<u32>| list.retain(|&f| f != fault);
        match &spec.target {
            FaultTarget::Service(service) => {
                self.faults.active_on_services -= 1;
                forget(&mut self.services.states[*service as usize].active_faults)
            }
            FaultTarget::Instance { .. } => {
                self.faults.active_on_services -= 1;
                let instance = self.fault_instance(&spec.target);
                forget(&mut self.services.instances[instance as usize].active_faults);
            }
            FaultTarget::Edges(edges) => {
                for &edge in edges {
                    if let Some(faults) = &mut self.calls.edges[edge as usize].latency_faults {
                        forget(faults);
                    }
                }
            }
            FaultTarget::Cache(cache) => self.flush_cache(*cache, false),
            FaultTarget::Consumer { consumer, poller } => {
                match poller {
                    Some(p) => {
                        let index = self.consumers.groups[*consumer as usize].pollers.start + p;
                        forget(&mut self.consumers.pollers[index as usize].active_faults);
                    }
                    None => forget(&mut self.consumers.groups[*consumer as usize].active_faults),
                }
                if spec.kind == FaultKind::Crash {
                    self.crash_pollers(self.fault_pollers(&spec.target), false);
                }
                return;
            }
        }
        // Workers lost to the fault are back: they take waiting work. Requests
        // a hang swallowed stay unanswered; their callers wait for timeouts.
        if matches!(spec.kind, FaultKind::CapacityLoss { .. }) {
            for instance in self.fault_instances(&spec.target) {
                self.resync_shared(instance);
            }
        }
        let hang_ended = spec.kind == (FaultKind::Outage { hang: true });
        for instance in self.fault_instances(&spec.target) {
            if hang_ended && !self.effects(instance).hang {
                self.services.instances[instance as usize].parked.clear();
            }
            self.services.advance_areas(instance, self.kernel.now);
            self.start_waiting(instance);
        }
    }

    /// The global index of an instance-targeted fault's instance.
    fn fault_instance(&self, target: &FaultTarget) -> u32 {
        match *target {
            FaultTarget::Instance { service, index } => {
                self.services.states[service as usize].instances.start + index
            }
            _ => unreachable!("only instance faults name an instance"),
        }
    }

    /// Every instance a fault touches (none for an edge fault).
    fn fault_instances(&self, target: &FaultTarget) -> Vec<u32> {
        match target {
            FaultTarget::Service(service) => self.services.states[*service as usize]
                .instances
                .clone()
                .collect(),
            FaultTarget::Instance { .. } => vec![self.fault_instance(target)],
            FaultTarget::Edges(_) | FaultTarget::Cache(_) | FaultTarget::Consumer { .. } => {
                Vec::new()
            }
        }
    }

    /// The pollers a consumer fault strikes.
    fn fault_pollers(&self, target: &FaultTarget) -> Vec<u32> {
        match *target {
            FaultTarget::Consumer { consumer, poller } => {
                let range = self.consumers.groups[consumer as usize].pollers.clone();
                match poller {
                    Some(p) => vec![range.start + p],
                    None => range.collect(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// What the active faults do to `instance` now. Inlined, since every
    /// request asks up to three times and there is usually no fault.
    #[inline(always)]
    pub(super) fn effects(&self, instance: u32) -> Effects {
        if self.faults.active_on_services == 0 {
            return Effects::NONE;
        }
        self.effects_of_active_faults(instance)
    }

    fn effects_of_active_faults(&self, instance: u32) -> Effects {
        let state = &self.services.instances[instance as usize];
        let service = &self.services.states[state.service as usize];
        if state.active_faults.is_empty() && service.active_faults.is_empty() {
            return Effects::NONE;
        }
        let mut effects = Effects::NONE;
        for &fault in service.active_faults.iter().chain(&state.active_faults) {
            effects.add(&self.kernel.scenario.faults[fault as usize].kind);
        }
        effects
    }

    /// Sends an attempt to its instance, late if a latency fault is active on the edge.
    pub(super) fn transmit(
        &mut self,
        edge: u32,
        instance: u32,
        attempt: AttemptKey,
        key: u64,
        expires_at: SimTime,
    ) {
        let state = &mut self.calls.edges[edge as usize];
        let Some(faults) = state.latency_faults.as_deref().filter(|f| !f.is_empty()) else {
            self.arrive(instance, attempt, key, expires_at);
            return;
        };
        let mut added_nanos = 0.0;
        for &fault in faults {
            if let FaultKind::Latency { added } = &self.kernel.scenario.faults[fault as usize].kind
            {
                added_nanos += added.sample(&mut state.latency_rng);
            }
        }
        let transit = self.faults.transits.insert(Transit {
            attempt,
            instance,
            key,
            expires_at,
        });
        self.kernel.schedule_in(
            SimDuration::from_nanos_f64(added_nanos),
            FaultEvent::Delivered { transit },
        );
    }

    /// A delayed attempt arrives (whether or not its caller still waits:
    /// the callee cannot know).
    pub(super) fn on_delivered(&mut self, transit: TransitKey) {
        if let Some(transit) = self.faults.transits.remove(transit) {
            self.arrive(
                transit.instance,
                transit.attempt,
                transit.key,
                transit.expires_at,
            );
        }
    }
}
