//! The simulation: state, the event loop, and traffic sources.
//!
//! One [`Simulation`] owns everything in flight (calls, attempts, jobs in
//! generational slot maps), every component's runtime state, and the metrics.
//! [`Simulation::run`] pops events in (time, sequence) order and dispatches
//! each with one exhaustive `match`. Service behaviour lives in
//! [`super::service`], the call path (attempts, timeouts, retries) in
//! [`super::call`]; both are `impl Simulation` blocks over this state.

use std::collections::VecDeque;
use std::ops::Range;

use slotmap::SlotMap;

use crate::engine::keys::KeySampler;
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::{Area, Failure, Metrics, ServiceMetrics, SourceMetrics};
use crate::model::timeseries::{Running, TimeSeries};
use crate::scenario::spec::{Load, Scenario, SourceSpec, Target};

use super::autoscale::{Scaler, Slot};
use super::cache::{CacheState, Fill};
use super::call::{Attempt, Call, EdgeState, Owner};
use super::consumer::{Batch, ConsumerState, Poller, PollerState};
use super::event::{AttemptKey, BatchKey, CallKey, Event, FillKey, JobKey, MessageKey, TransitKey};
use super::faults::Transit;
use super::health::RouterHealth;
use super::kernel::Kernel;
use super::queue::{Message, QueueState};
use super::resilience::Admission;
use super::routing::Router;
use super::service::Job;

/// How often a run reports its progress.
const PROGRESS_EVERY_EVENTS: u64 = 1 << 20;

/// Why a run ended before its scheduled duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    #[error(
        "stopped at {at} of simulated time after {limit} events (limits.max_events); \
         shorten the duration or raise the limit"
    )]
    EventLimit { limit: u64, at: SimTime },
    #[error(
        "stopped at {at} of simulated time with {limit} messages in queues (limits.max_messages): \
         consumers are not keeping up and the backlog would grow without bound; \
         add pollers, shorten processing, bound the queue with a capacity, or raise the limit"
    )]
    MessageLimit { limit: u64, at: SimTime },
    #[error(
        "stopped at {at} of simulated time with {limit} requests in flight (limits.max_in_flight): \
         the system is not keeping up and the backlog would grow without bound; \
         lower the load, add capacity or timeouts, or raise the limit"
    )]
    InFlightLimit { limit: u64, at: SimTime },
    #[error(
        "stopped at {at} of simulated time: {limit} events in a row happened at that one instant \
         (limits.max_events_at_one_instant), so simulated time was not advancing; \
         something loops without taking time: give a closed loop a `think_time`, \
         or services a `service_time` above zero"
    )]
    NoProgress { limit: u64, at: SimTime },
}

/// What a finished run hands to the report.
pub struct RunOutcome {
    pub metrics: Metrics,
    /// Metrics over time, warm-up included.
    pub timeseries: TimeSeries,
    pub events: u64,
    /// The simulated instant the run ended (the duration, unless stopped early).
    pub ended_at: SimTime,
    pub stopped: Option<StopReason>,
}

pub(super) struct SourceState {
    pub interarrival_rng: RngStream,
    pub think_rng: RngStream,
    /// Accepts or rejects candidate arrivals of a shaped (time-varying) rate.
    pub thinning_rng: RngStream,
    pub keys: Option<KeySampler>,
    pub key_rng: RngStream,
    /// Requests started, the key of a request when there is no key model.
    pub started: u64,
}

/// One instance of a service: its workers and its queue.
pub(super) struct Instance {
    pub service: u32,
    pub busy: u32,
    pub queue: VecDeque<JobKey>,
    /// Whether it takes traffic (autoscaled instances come and go).
    pub slot: Slot,
    /// Faults aimed at this instance alone that are active now.
    pub active_faults: Vec<u32>,
    /// Attempts a hanging outage accepted and will never answer; a crash
    /// resets their connections, the end of the hang forgets them.
    pub parked: Vec<AttemptKey>,
    pub admission: Option<Admission>,
    /// Cumulative since the start; the integrals at the end of warm-up are
    /// kept so that the windowed statistics can subtract them.
    pub busy_area: Area,
    pub queue_area: Area,
    pub busy_at_warmup: u128,
    pub queue_at_warmup: u128,
}

pub(super) struct ServiceState {
    pub service_time_rng: RngStream,
    pub error_rng: RngStream,
    /// Draws for error-rate faults, apart from the service's own errors.
    pub fault_error_rng: RngStream,
    /// The global indices of its instance slots.
    pub instances: Range<u32>,
    /// Service-wide faults active now.
    pub active_faults: Vec<u32>,
    /// Instances taking traffic, and its time integral since the start.
    pub ready: u32,
    pub ready_area: Area,
    pub ready_at_warmup: u128,
    pub scaler: Option<Scaler>,
}

pub struct Simulation<'a> {
    pub(super) kernel: Kernel<'a>,
    pub(super) calls: SlotMap<CallKey, Call>,
    pub(super) attempts: SlotMap<super::event::AttemptKey, Attempt>,
    pub(super) jobs: SlotMap<JobKey, Job>,
    pub(super) transits: SlotMap<TransitKey, Transit>,
    pub(super) fills: SlotMap<FillKey, Fill>,
    pub(super) caches: Vec<CacheState>,
    pub(super) messages: SlotMap<MessageKey, Message>,
    /// Messages taken into queues so far: each message's id.
    pub(super) messages_sent: u64,
    /// Sends waiting for room in full queues, which count against `limits.max_messages`.
    pub(super) blocked_sends: u64,
    pub(super) queues: Vec<QueueState>,
    pub(super) consumers: Vec<ConsumerState>,
    pub(super) pollers: Vec<Poller>,
    pub(super) batches: SlotMap<BatchKey, Batch>,
    pub(super) sources: Vec<SourceState>,
    pub(super) services: Vec<ServiceState>,
    pub(super) instances: Vec<Instance>,
    /// Attempts each instance has been sent and not yet answered or abandoned.
    pub(super) outstanding: Vec<u32>,
    /// Routers for services (ids 0..services) then balancers.
    pub(super) routers: Vec<Router>,
    /// Outlier ejection and health checks, per router.
    pub(super) router_health: Vec<RouterHealth>,
    pub(super) edges: Vec<EdgeState>,
    pub(super) metrics: Metrics,
    pub(super) requests_in_flight: u64,
    /// Totals for the time series, warm-up included.
    pub(super) running: Running,
    pub(super) timeseries: TimeSeries,
}

impl<'a> Simulation<'a> {
    pub fn new(scenario: &'a Scenario) -> Simulation<'a> {
        let seed = scenario.seed;
        let mut instances = Vec::new();
        let mut routers = Vec::new();
        for (id, service) in scenario.services.iter().enumerate() {
            let first = instances.len() as u32;
            instances.extend((0..service.instance_slots()).map(|slot| Instance {
                service: id as u32,
                busy: 0,
                queue: VecDeque::new(),
                slot: if slot < service.instances {
                    Slot::Ready
                } else {
                    Slot::Off
                },
                active_faults: Vec::new(),
                parked: Vec::new(),
                admission: service.concurrency_limit.map(Admission::new),
                busy_area: Area::default(),
                queue_area: Area::default(),
                busy_at_warmup: 0,
                queue_at_warmup: 0,
            }));
            let ids = (first..first + service.instances).collect();
            routers.push(Router::new(
                ids,
                service.balancing,
                Vec::new(),
                service.routing.virtual_nodes,
                RngStream::derive(seed, &service.name, "routing"),
            ));
        }
        for balancer in &scenario.balancers {
            let mut weight_of = vec![1; instances.len()];
            for (index, &backend) in balancer.backends.iter().enumerate() {
                let weight = balancer.routing.weights.get(index).copied().unwrap_or(1);
                for (instance, state) in instances.iter().enumerate() {
                    if state.service == backend {
                        weight_of[instance] = weight;
                    }
                }
            }
            let ids = balancer
                .backends
                .iter()
                .flat_map(|&s| routers[s as usize].instances.clone())
                .collect();
            routers.push(Router::new(
                ids,
                balancer.strategy,
                weight_of,
                balancer.routing.virtual_nodes,
                RngStream::derive(seed, &balancer.name, "routing"),
            ));
        }
        let metrics = Metrics {
            sources: scenario
                .sources
                .iter()
                .map(|source| {
                    let window = scenario
                        .trigger_window(source)
                        .map(|(start, end)| (SimTime::ZERO + start, SimTime::ZERO + end));
                    SourceMetrics::with_window(window)
                })
                .collect(),
            services: vec![
                ServiceMetrics {
                    attempts_by_source: vec![0; scenario.sources.len()],
                    ready_instances_min: u64::MAX,
                    ..ServiceMetrics::default()
                };
                scenario.services.len()
            ],
            balancer_attempts: vec![0; scenario.balancers.len()],
            router_ejections: vec![0; scenario.services.len() + scenario.balancers.len()],
            router_unhealthy: vec![0; scenario.services.len() + scenario.balancers.len()],
            edges: vec![Default::default(); scenario.edges.len()],
            caches: vec![Default::default(); scenario.caches.len()],
            queues: vec![Default::default(); scenario.queues.len()],
            consumers: vec![Default::default(); scenario.consumers.len()],
        };
        let (consumers, pollers) = consumer_states(scenario);
        Simulation {
            kernel: Kernel::new(scenario),
            calls: SlotMap::with_key(),
            attempts: SlotMap::with_key(),
            jobs: SlotMap::with_key(),
            transits: SlotMap::with_key(),
            fills: SlotMap::with_key(),
            caches: scenario
                .caches
                .iter()
                .map(|c| CacheState::new(seed, c))
                .collect(),
            messages: SlotMap::with_key(),
            messages_sent: 0,
            blocked_sends: 0,
            queues: scenario.queues.iter().map(|_| QueueState::new()).collect(),
            consumers,
            pollers,
            batches: SlotMap::with_key(),
            sources: scenario
                .sources
                .iter()
                .map(|s| source_state(seed, s))
                .collect(),
            services: service_states(scenario),
            outstanding: vec![0; instances.len()],
            router_health: scenario
                .services
                .iter()
                .map(|s| &s.routing)
                .chain(scenario.balancers.iter().map(|b| &b.routing))
                .map(|options| RouterHealth::new(options, instances.len()))
                .collect(),
            instances,
            routers,
            edges: scenario
                .edges
                .iter()
                .map(|e| EdgeState::new(seed, e))
                .collect(),
            metrics,
            requests_in_flight: 0,
            running: Running::for_scenario(scenario),
            timeseries: TimeSeries::new(scenario),
        }
    }

    /// Runs to the end of the scenario's duration, or until a limit stops it.
    pub fn run(self) -> RunOutcome {
        self.run_observed(&mut |_| {})
    }

    /// Runs like [`Simulation::run`], telling `observer` the simulated time
    /// every million events, for progress bars (the engine itself does no I/O).
    pub fn run_observed(mut self, observer: &mut dyn FnMut(SimTime)) -> RunOutcome {
        self.start_sources();
        self.schedule_faults();
        self.start_autoscalers();
        self.start_health_checks();
        self.start_consumers();
        self.kernel.schedule(
            SimTime::ZERO + self.kernel.scenario.sample_interval,
            Event::Sample,
        );
        if !self.kernel.measuring {
            self.kernel.schedule(
                SimTime::ZERO + self.kernel.scenario.warmup,
                Event::MeasurementStart,
            );
        }
        let end_at = self.kernel.end_at();
        let limits = self.kernel.scenario.limits;
        let mut processed: u64 = 0;
        let mut stopped = None;
        let mut at_this_instant: u64 = 0;
        while let Some(at) = self.kernel.events.peek_time() {
            if at > end_at {
                break;
            }
            at_this_instant = if at == self.kernel.now {
                at_this_instant + 1
            } else {
                0
            };
            if at_this_instant >= limits.max_events_at_one_instant {
                stopped = Some(StopReason::NoProgress {
                    limit: limits.max_events_at_one_instant,
                    at,
                });
                break;
            }
            if processed >= limits.max_events {
                stopped = Some(StopReason::EventLimit {
                    limit: limits.max_events,
                    at,
                });
                break;
            }
            if self.messages.len() as u64 + self.blocked_sends > limits.max_messages {
                stopped = Some(StopReason::MessageLimit {
                    limit: limits.max_messages,
                    at,
                });
                break;
            }
            if self.requests_in_flight > limits.max_in_flight {
                stopped = Some(StopReason::InFlightLimit {
                    limit: limits.max_in_flight,
                    at,
                });
                break;
            }
            let Some((at, event)) = self.kernel.events.pop() else {
                break;
            };
            self.kernel.now = at;
            processed += 1;
            self.dispatch(event);
            if processed.is_multiple_of(PROGRESS_EVERY_EVENTS) {
                observer(self.kernel.now);
            }
        }
        let ended_at = if stopped.is_some() {
            self.kernel.now
        } else {
            end_at
        };
        self.finish(ended_at);
        RunOutcome {
            metrics: self.metrics,
            timeseries: self.timeseries,
            events: processed,
            ended_at,
            stopped,
        }
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Arrival { source } => self.on_arrival(source),
            Event::ClientWake { source, client } => self.start_request(source, Some(client)),
            Event::LocalWorkDone { job } => self.on_local_work_done(job),
            Event::AttemptRejected { attempt } => self.on_attempt_rejected(attempt),
            Event::AttemptRefused { attempt } => self.on_attempt_refused(attempt),
            Event::ShortCircuited { call } => self.on_short_circuited(call),
            Event::HedgeDue { call } => self.on_hedge_due(call),
            Event::AttemptTimeout { attempt } => self.on_attempt_timeout(attempt),
            Event::CallDeadline { call } => self.on_call_deadline(call),
            Event::RetryDue { call } => self.on_retry_due(call),
            Event::Delivered { transit } => self.on_delivered(transit),
            Event::Answered { attempt } => self.on_answered(attempt),
            Event::MessageDue { message, receipt } => self.on_message_due(message, receipt),
            Event::MessageExpired { message, queue } => self.on_message_expired(message, queue),
            Event::QueueNotify { queue } => self.on_queue_notify(queue),
            Event::PollerTimer { poller, generation } => self.on_poller_timer(poller, generation),
            Event::BatchDone { batch } => self.on_batch_done(batch),
            Event::ScheduledRun { consumer } => self.on_scheduled_run(consumer),
            Event::FaultStart { fault } => self.on_fault_start(fault),
            Event::FaultEnd { fault } => self.on_fault_end(fault),
            Event::ScaleEvaluation { service } => self.on_scale_evaluation(service),
            Event::InstanceReady { instance } => self.on_instance_ready(instance),
            Event::OutlierSweep { router } => self.on_outlier_sweep(router),
            Event::HealthCheck { router } => self.on_health_check(router),
            Event::MeasurementStart => self.on_measurement_start(),
            Event::Sample => self.on_sample(),
        }
    }

    fn start_sources(&mut self) {
        for (id, source) in self.kernel.scenario.sources.iter().enumerate() {
            let id = id as u32;
            match &source.load {
                Load::Open { .. } => self.schedule_arrival(id),
                Load::Closed {
                    clients,
                    think_time,
                } => {
                    // Each client thinks first, so the population does not start in lockstep.
                    for client in 0..*clients {
                        let think = think_time.sample(&mut self.sources[id as usize].think_rng);
                        self.kernel.schedule(
                            SimTime::ZERO + SimDuration::from_nanos_f64(think),
                            Event::ClientWake { source: id, client },
                        );
                    }
                }
            }
        }
    }

    fn on_arrival(&mut self, source: u32) {
        self.schedule_arrival(source);
        self.start_request(source, None);
    }

    /// Schedules an open-loop source's next arrival. A shaped rate is an exact
    /// non-homogeneous Poisson process by thinning: candidates come at the
    /// peak rate, and each is kept with probability rate(t) / peak rate.
    fn schedule_arrival(&mut self, source: u32) {
        let Load::Open {
            interarrival,
            shape,
            ..
        } = &self.kernel.scenario.sources[source as usize].load
        else {
            return;
        };
        let state = &mut self.sources[source as usize];
        let Some(shape) = shape else {
            let gap = interarrival.sample(&mut state.interarrival_rng);
            self.kernel
                .schedule_in(SimDuration::from_nanos_f64(gap), Event::Arrival { source });
            return;
        };
        let end_at = self.kernel.end_at();
        let peak = shape.peak();
        let mut at = self.kernel.now;
        while at <= end_at {
            let gap = interarrival.sample(&mut state.interarrival_rng) / peak;
            at += SimDuration::from_nanos_f64(gap);
            let keep = shape.multiplier_at(at - SimTime::ZERO) / peak;
            if state.thinning_rng.uniform() < keep {
                self.kernel.schedule(at, Event::Arrival { source });
                return;
            }
        }
    }

    /// A new request from `source` (from `client`, for a closed loop) enters the system.
    fn start_request(&mut self, source: u32, client: Option<u32>) {
        let measured = self.kernel.in_window(self.kernel.now);
        if measured {
            self.metrics.sources[source as usize].requests += 1;
        }
        self.requests_in_flight += 1;
        self.running.arrivals[source as usize] += 1;
        self.running.in_flight[source as usize] += 1;
        let edge = self.kernel.scenario.sources[source as usize].edge;
        let owner = Owner::Source {
            source,
            client,
            measured,
        };
        let state = &mut self.sources[source as usize];
        state.started += 1;
        let key = match &state.keys {
            Some(sampler) => sampler.sample(&mut state.key_rng),
            None => state.started,
        };
        self.start_call(owner, edge, (key, source), SimTime::MAX);
    }

    /// A root call has ended: record the request and, for a closed-loop
    /// client, schedule its next request after a think time.
    pub(super) fn finish_request(
        &mut self,
        owner_source: u32,
        client: Option<u32>,
        measured: bool,
        started_at: SimTime,
        result: Result<(), Failure>,
    ) {
        self.requests_in_flight -= 1;
        self.running.in_flight[owner_source as usize] -= 1;
        match result {
            Ok(()) => self.running.succeeded[owner_source as usize] += 1,
            Err(_) => self.running.failed[owner_source as usize] += 1,
        }
        let latency = self.kernel.now - started_at;
        self.timeseries
            .record_latency(owner_source as usize, latency, result.is_ok());
        if measured {
            let metrics = &mut self.metrics.sources[owner_source as usize];
            match result {
                Ok(()) => {
                    metrics.succeeded += 1;
                    metrics.latency.record(latency);
                }
                Err(failure) => {
                    metrics.failed.add(failure);
                    metrics.latency_failed.record(latency);
                }
            }
            if let Some(phases) = &mut metrics.phases {
                phases.record(self.kernel.now, latency, result.is_ok());
            }
        }
        if let (Some(client), Load::Closed { think_time, .. }) = (
            client,
            &self.kernel.scenario.sources[owner_source as usize].load,
        ) {
            let think = think_time.sample(&mut self.sources[owner_source as usize].think_rng);
            let wake_at = self.kernel.now + SimDuration::from_nanos_f64(think);
            self.kernel.schedule(
                wake_at,
                Event::ClientWake {
                    source: owner_source,
                    client,
                },
            );
        }
    }

    fn on_measurement_start(&mut self) {
        self.kernel.measuring = true;
        self.cache_counters_at_warmup();
        self.queues_at_warmup();
        self.consumers_at_warmup();
        for (service, state) in self.services.iter_mut().enumerate() {
            state
                .ready_area
                .advance(self.kernel.now, u64::from(state.ready));
            state.ready_at_warmup = state.ready_area.integral();
            self.metrics.services[service].ready_instances_max = u64::from(state.ready);
        }
        for instance in &mut self.instances {
            let service = &mut self.metrics.services[instance.service as usize];
            service.queue_max = service.queue_max.max(instance.queue.len() as u64);
            instance
                .busy_area
                .advance(self.kernel.now, u64::from(instance.busy));
            instance
                .queue_area
                .advance(self.kernel.now, instance.queue.len() as u64);
            instance.busy_at_warmup = instance.busy_area.integral();
            instance.queue_at_warmup = instance.queue_area.integral();
        }
    }

    /// Closes the time integrals and counts requests still in flight.
    fn finish(&mut self, ended_at: SimTime) {
        self.kernel.now = ended_at;
        self.finish_caches();
        self.finish_queues();
        self.finish_consumers();
        for (service, state) in self.services.iter_mut().enumerate() {
            state
                .ready_area
                .advance(self.kernel.now, u64::from(state.ready));
            let metrics = &mut self.metrics.services[service];
            metrics
                .ready_instances
                .add(state.ready_area.integral() - state.ready_at_warmup);
            if self.kernel.scenario.warmup == SimDuration::ZERO {
                metrics.ready_instances_max = metrics
                    .ready_instances_max
                    .max(u64::from(self.kernel.scenario.services[service].instances));
            }
        }
        for index in 0..self.instances.len() {
            self.advance_areas(index as u32);
            let instance = &self.instances[index];
            let service = &mut self.metrics.services[instance.service as usize];
            service
                .busy
                .add(instance.busy_area.integral() - instance.busy_at_warmup);
            service
                .queue
                .add(instance.queue_area.integral() - instance.queue_at_warmup);
        }
        for job in self
            .jobs
            .values()
            .filter(|job| job.arrived_at >= SimTime::ZERO + self.kernel.scenario.warmup)
        {
            let service = self.instances[job.instance as usize].service;
            self.metrics.services[service as usize].in_system_at_end += 1;
        }
        for call in self
            .calls
            .values()
            .filter(|call| call.started_at >= SimTime::ZERO + self.kernel.scenario.warmup)
        {
            self.metrics.edges[call.edge as usize].in_flight_at_end += 1;
        }
        for call in self.calls.values() {
            if let Owner::Source {
                source,
                measured: true,
                ..
            } = call.owner
            {
                self.metrics.sources[source as usize].in_flight += 1;
            }
        }
        self.debug_check_every_request_ends_once();
    }

    /// Every request ends exactly once: at the end of a run, each source's
    /// arrivals are its successes, failures and requests still in flight,
    /// and the requests in flight are the root calls still open. A request
    /// finished twice, or never, breaks one of the two. Debug builds only:
    /// it walks every open call.
    fn debug_check_every_request_ends_once(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let running = &self.running;
        for source in 0..self.kernel.scenario.sources.len() {
            let ended = running.succeeded[source] + running.failed[source];
            assert_eq!(
                running.arrivals[source],
                ended + running.in_flight[source],
                "source {source}: arrivals ≠ succeeded + failed + in flight"
            );
        }
        let open_roots = self
            .calls
            .values()
            .filter(|call| matches!(call.owner, Owner::Source { .. }))
            .count() as u64;
        assert_eq!(
            open_roots, self.requests_in_flight,
            "open root calls ≠ requests in flight"
        );
    }

    /// Brings an instance's busy and queue integrals up to now.
    pub(super) fn advance_areas(&mut self, instance: u32) {
        let state = &mut self.instances[instance as usize];
        state
            .busy_area
            .advance(self.kernel.now, u64::from(state.busy));
        state
            .queue_area
            .advance(self.kernel.now, state.queue.len() as u64);
    }

    pub(super) fn router_index(&self, target: Target) -> usize {
        match target {
            Target::Service(id) => id as usize,
            Target::Balancer(id) => self.kernel.scenario.services.len() + id as usize,
            Target::Cache(_) | Target::Queue(_) | Target::Topic(_) => {
                unreachable!("caches, queues and topics are not routed")
            }
        }
    }
}

fn source_state(seed: u64, spec: &SourceSpec) -> SourceState {
    let name = &spec.name;
    SourceState {
        interarrival_rng: RngStream::derive(seed, name, "arrivals"),
        think_rng: RngStream::derive(seed, name, "think_time"),
        thinning_rng: RngStream::derive(seed, name, "thinning"),
        keys: spec.keys.map(|model| model.sampler()),
        key_rng: RngStream::derive(seed, name, "keys"),
        started: 0,
    }
}

/// Each consumer group's state, and its pollers, numbered across groups.
fn consumer_states(scenario: &Scenario) -> (Vec<ConsumerState>, Vec<Poller>) {
    let mut consumers = Vec::new();
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
        consumers.push(ConsumerState::new(scenario.seed, spec, range));
    }
    (consumers, pollers)
}

fn service_states(scenario: &Scenario) -> Vec<ServiceState> {
    let seed = scenario.seed;
    let mut first = 0;
    let mut states = Vec::new();
    for spec in &scenario.services {
        let slots = spec.instance_slots();
        let name = &spec.name;
        states.push(ServiceState {
            service_time_rng: RngStream::derive(seed, name, "service_time"),
            error_rng: RngStream::derive(seed, name, "errors"),
            fault_error_rng: RngStream::derive(seed, name, "fault_errors"),
            instances: first..first + slots,
            active_faults: Vec::new(),
            ready: spec.instances,
            ready_area: Area::default(),
            ready_at_warmup: 0,
            scaler: spec.autoscaling.map(|_| Scaler::default()),
        });
        first += slots;
    }
    states
}
