//! The simulation: state, the event loop, and traffic sources.
//!
//! One [`Simulation`] owns everything in flight (calls, attempts, jobs in
//! generational slot maps), every component's runtime state, and the metrics.
//! [`Simulation::run`] pops events in (time, sequence) order and dispatches
//! each with one exhaustive `match`. Service behaviour lives in
//! [`super::service`], the call path (attempts, timeouts, retries) in
//! [`super::call`]; both are `impl Simulation` blocks over this state.

use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::{Failure, Metrics};
use crate::model::timeseries::TimeSeries;
use crate::scenario::spec::{Scenario, Target};

use super::async_job::{AsyncJobEvent, AsyncJobs};
use super::autoscale::ScalingEvent;
use super::cache::Caches;
use super::call::{CallEvent, Calls};
use super::consumer::{ConsumerEvent, Consumers};
use super::event::{AsyncJobKey, AttemptKey, BatchKey, CallKey, FillKey, JobKey};
use super::faults::{FaultEvent, Faults};
use super::gates::{GateEvent, Gates};
use super::health::HealthEvent;
use super::kernel::Kernel;
use super::pause::{PauseEvent, Pauses};
use super::queue::{QueueEvent, Queues};
use super::recorder::Recorder;
use super::routing::Routing;
use super::service::{ServiceEvent, Services};
use super::source::{SourceEvent, Sources};
use super::trace::MarkKind;

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
         or services a `service_time` above zero; or a closed loop's requests fail at \
         once (a rate limit, an open circuit breaker, a refusing outage) and are sent \
         again at once"
    )]
    NoProgress { limit: u64, at: SimTime },
}

/// What a finished run hands to the report.
#[derive(Default)]
pub struct RunOutcome {
    pub metrics: Metrics,
    /// Metrics over time, warm-up included.
    pub timeseries: TimeSeries,
    pub events: u64,
    /// The simulated instant the run ended (the duration, unless stopped early).
    pub ended_at: SimTime,
    pub stopped: Option<StopReason>,
    /// The traced requests, when the run was asked to trace.
    pub trace: Option<super::trace::TraceLog>,
}

// Declares `Event` with one variant per room and a `From` for each room's
// own event type, from one list.
macro_rules! events_by_room {
    ($($room:ident($event:ty),)* ; $($(#[doc = $doc:literal])* $tick:ident,)*) => {
        /// The closed set of things that can happen in a simulation: one
        /// variant per room, each carrying that room's own events, and the
        /// kernel's ticks. Events are plain data, dispatched by one
        /// exhaustive `match` ([`Simulation::dispatch`]) to the room that
        /// owns them: no boxed closures, nothing to allocate per event, and
        /// the compiler checks that every kind is handled.
        #[derive(Clone, Copy, Debug)]
        pub(super) enum Event {
            $($room($event),)*
            $($(#[doc = $doc])* $tick,)*
        }

        // Lets a room schedule its own events without naming the whole enum.
        $(impl From<$event> for Event {
            fn from(event: $event) -> Event {
                Event::$room(event)
            }
        })*
    };
}

events_by_room!(
    Source(SourceEvent),
    Call(CallEvent),
    Service(ServiceEvent),
    Fault(FaultEvent),
    Queue(QueueEvent),
    Consumer(ConsumerEvent),
    Scaling(ScalingEvent),
    Health(HealthEvent),
    Pause(PauseEvent),
    AsyncJob(AsyncJobEvent),
    Gate(GateEvent),
    ;
    /// Warm-up is over: statistics start here.
    MeasurementStart,
    /// The end of a time-series interval.
    Sample,
);

/// An attempt on its way to a target, as the calls room hands it over.
#[derive(Clone, Copy, Debug)]
pub(super) struct Delivery {
    pub edge: u32,
    pub attempt: AttemptKey,
    /// The request's key (what a cache looks up, what a hash ring routes by).
    pub key: u64,
    /// When the caller stops waiting (with deadline propagation), else `SimTime::MAX`.
    pub expires_at: SimTime,
}

/// Who is waiting for a call.
#[derive(Clone, Copy, Debug)]
pub(super) enum Owner {
    /// A request entering the system from a source.
    Source {
        source: u32,
        client: Option<u32>,
        measured: bool,
        /// The request's index in the trace, or `u32::MAX` if untraced.
        trace: u32,
    },
    /// A job making one of its downstream calls.
    Job(JobKey),
    /// A cache fetching a key from its backend.
    Fill(FillKey),
    /// A consumer's call for one message of a batch.
    Message { batch: BatchKey, item: u32 },
    /// A client submitting its asynchronous job.
    Submit(AsyncJobKey),
    /// A client polling for its job's status.
    Poll(AsyncJobKey),
    /// Nobody: a fire-and-forget call.
    Detached,
}

/// The seam between rooms: where an attempt goes, and to whom a call's
/// result goes back. Work travels down only through [`Simulation::deliver`];
/// answers travel up only through [`Simulation::answer`] (an attempt's) and
/// [`Simulation::hand_back`] (a call's). A new kind of target adds one arm
/// to `deliver`; a new kind of caller adds one [`Owner`] and one arm to
/// `hand_back`.
impl Simulation<'_> {
    /// Hands an attempt to the room of its target.
    pub(super) fn deliver(&mut self, target: Target, delivery: Delivery) {
        let Delivery {
            edge,
            attempt,
            key,
            expires_at,
        } = delivery;
        match target {
            Target::Cache(cache) => self.cache_request(cache, attempt, key),
            Target::Gate(gate) => self.enter_gate(gate, delivery),
            Target::Queue(queue) => {
                self.mark_attempt(attempt, MarkKind::MessageSent { queue });
                self.offer(queue, key, Some(attempt), None)
            }
            Target::Topic(topic) => self.publish(topic, key, attempt),
            Target::Service(_) | Target::Balancer(_) => {
                let instance = self.route_attempt(target, attempt, key);
                self.transmit(edge, instance, attempt, key, expires_at)
            }
        }
    }

    /// A call has its result: hand it to whoever is waiting for it.
    pub(super) fn hand_back(
        &mut self,
        owner: Owner,
        call: CallKey,
        started_at: SimTime,
        result: Result<(), Failure>,
    ) {
        match owner {
            Owner::Source {
                source,
                client,
                measured,
                trace,
            } => {
                if let Some(log) = self.recorder.trace.as_mut().filter(|_| trace != u32::MAX) {
                    log.end(trace, result, self.kernel.now);
                }
                self.finish_request(source, client, measured, started_at, result)
            }
            Owner::Job(job) => self.on_child_finished(job, call, result),
            Owner::Fill(fill) => self.on_fill_finished(fill, result),
            Owner::Message { batch, item } => {
                self.on_message_call_finished(batch, item, call, result)
            }
            Owner::Submit(job) => self.on_job_submitted(job, result),
            Owner::Poll(job) => self.on_job_polled(job, result),
            Owner::Detached => {}
        }
    }
}

/// The house: the kernel, what the run records, and one room per kind of
/// component. Each room owns its kind's state; the `impl Simulation` blocks
/// in the rooms' files are where one kind hands work to another.
pub struct Simulation<'a> {
    pub(super) kernel: Kernel<'a>,
    pub(super) recorder: Recorder,
    pub(super) sources: Sources,
    pub(super) calls: Calls,
    pub(super) services: Services,
    pub(super) routing: Routing,
    pub(super) caches: Caches,
    pub(super) gates: Gates,
    pub(super) pauses: Pauses,
    pub(super) queues: Queues,
    pub(super) consumers: Consumers,
    pub(super) faults: Faults,
    pub(super) async_jobs: AsyncJobs,
}

impl<'a> Simulation<'a> {
    pub fn new(scenario: &'a Scenario) -> Simulation<'a> {
        let services = Services::new(scenario);
        let routing = Routing::new(scenario, &services.instances);
        Simulation {
            kernel: Kernel::new(scenario),
            recorder: Recorder::new(scenario),
            sources: Sources::new(scenario),
            calls: Calls::new(scenario),
            services,
            routing,
            caches: Caches::new(scenario),
            gates: Gates::new(scenario),
            pauses: Pauses::new(scenario),
            queues: Queues::new(scenario),
            consumers: Consumers::new(scenario),
            faults: Faults::default(),
            async_jobs: AsyncJobs::new(scenario),
        }
    }

    /// Traces the requests `selection` picks (see [`super::trace`]).
    pub fn with_trace(mut self, selection: super::trace::TraceSelection) -> Simulation<'a> {
        self.recorder.trace = Some(super::trace::TraceLog::new(selection));
        self
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
        self.start_pauses();
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
        // An event is taken before the checks: one that is not handled
        // because the run stops is dropped with the rest of the queue.
        while let Some((at, event)) = self.kernel.events.pop() {
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
            if self.queues.messages.len() as u64 + self.queues.blocked_sends > limits.max_messages {
                stopped = Some(StopReason::MessageLimit {
                    limit: limits.max_messages,
                    at,
                });
                break;
            }
            if self.sources.requests_in_flight > limits.max_in_flight {
                stopped = Some(StopReason::InFlightLimit {
                    limit: limits.max_in_flight,
                    at,
                });
                break;
            }
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
            metrics: self.recorder.metrics,
            timeseries: self.recorder.timeseries,
            events: processed,
            ended_at,
            stopped,
            trace: self.recorder.trace,
        }
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Source(event) => self.on_source_event(event),
            Event::Call(event) => self.on_call_event(event),
            Event::Service(event) => self.on_service_event(event),
            Event::Fault(event) => self.on_fault_event(event),
            Event::Queue(event) => self.on_queue_event(event),
            Event::Consumer(event) => self.on_consumer_event(event),
            Event::Scaling(event) => self.on_scaling_event(event),
            Event::Health(event) => self.on_health_event(event),
            Event::Pause(event) => self.on_pause_event(event),
            Event::AsyncJob(event) => self.on_async_job_event(event),
            Event::Gate(event) => self.on_gate_event(event),
            Event::MeasurementStart => self.on_measurement_start(),
            Event::Sample => self.on_sample(),
        }
    }

    fn on_measurement_start(&mut self) {
        self.kernel.measuring = true;
        self.cache_counters_at_warmup();
        self.queues_at_warmup();
        self.consumers_at_warmup();
        for (service, state) in self.services.states.iter_mut().enumerate() {
            state
                .ready_area
                .advance(self.kernel.now, u64::from(state.ready));
            state.ready_at_warmup = state.ready_area.integral();
            self.recorder.metrics.services[service].ready_instances_max = u64::from(state.ready);
        }
        for instance in &mut self.services.instances {
            let service = &mut self.recorder.metrics.services[instance.service as usize];
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
        self.finish_async_jobs();
        self.finish_gates();
        for (service, state) in self.services.states.iter_mut().enumerate() {
            state
                .ready_area
                .advance(self.kernel.now, u64::from(state.ready));
            let metrics = &mut self.recorder.metrics.services[service];
            metrics
                .ready_instances
                .add(state.ready_area.integral() - state.ready_at_warmup);
            if self.kernel.scenario.warmup == SimDuration::ZERO {
                metrics.ready_instances_max = metrics
                    .ready_instances_max
                    .max(u64::from(self.kernel.scenario.services[service].instances));
            }
        }
        for index in 0..self.services.instances.len() {
            self.services.advance_areas(index as u32, self.kernel.now);
            let instance = &self.services.instances[index];
            let service = &mut self.recorder.metrics.services[instance.service as usize];
            let busy = instance.busy_area.integral() - instance.busy_at_warmup;
            service.busy.add(busy);
            service.busy_busiest_instance = service.busy_busiest_instance.max(busy);
            service
                .queue
                .add(instance.queue_area.integral() - instance.queue_at_warmup);
        }
        for job in self
            .services
            .jobs
            .values()
            .filter(|job| job.arrived_at >= SimTime::ZERO + self.kernel.scenario.warmup)
        {
            let service = self.services.instances[job.instance as usize].service;
            self.recorder.metrics.services[service as usize].in_system_at_end += 1;
        }
        for call in self
            .calls
            .open
            .values()
            .filter(|call| call.started_at >= SimTime::ZERO + self.kernel.scenario.warmup)
        {
            self.recorder.metrics.edges[call.edge as usize].in_flight_at_end += 1;
        }
        for call in self.calls.open.values() {
            if let Owner::Source {
                source,
                measured: true,
                ..
            } = call.owner
            {
                self.recorder.metrics.sources[source as usize].in_flight += 1;
            }
        }
        let tallies = std::mem::take(&mut self.recorder.service_tallies);
        for (tally, metrics) in tallies.into_iter().zip(&mut self.recorder.metrics.services) {
            tally.settle(metrics);
        }
        // Each edge counted its measured attempts where every attempt reads
        // its defences.
        for (edge, state) in self.calls.edges.iter().enumerate() {
            let metrics = &mut self.recorder.metrics.edges[edge];
            metrics.attempts = state.attempts_measured;
            metrics.retries = state.retries_measured;
            metrics.hedges = state.hedges_measured;
        }
        // A source's measured requests are its arrivals in the window,
        // counted once, with its running counts.
        let metrics = &mut self.recorder.metrics;
        for (source, counts) in self.recorder.running.sources.iter().enumerate() {
            metrics.sources[source].requests = counts.arrivals - counts.arrivals_before_window;
        }
        metrics.settle_latencies();
        // Each source's edge carries the source's own requests: the same
        // counts, outcomes and latencies, recorded once by the sources room
        // (a request touches one line of memory fewer for each).
        let own_edges = self.kernel.scenario.sources.iter().enumerate();
        // A job source's edge is the submit: its requests are the jobs.
        for (source, spec) in own_edges.filter(|(_, spec)| spec.job.is_none()) {
            let edge = &mut metrics.edges[spec.edge as usize];
            let requests = &metrics.sources[source];
            edge.calls = requests.requests;
            edge.succeeded = requests.succeeded;
            edge.failed = requests.failed;
            edge.latency = requests.latency.clone();
            edge.latency_failed = requests.latency_failed.clone();
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
        let running = &self.recorder.running;
        for source in 0..self.kernel.scenario.sources.len() {
            let counts = running.sources[source];
            assert_eq!(
                counts.arrivals,
                counts.succeeded + counts.failed + counts.in_flight,
                "source {source}: arrivals ≠ succeeded + failed + in flight"
            );
        }
        let open_roots = self
            .calls
            .open
            .values()
            .filter(|call| matches!(call.owner, Owner::Source { .. }))
            .count() as u64;
        assert_eq!(
            open_roots + self.async_jobs.clients_waiting(),
            self.sources.requests_in_flight,
            "open root calls and jobs waited for ≠ requests in flight"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    /// Events are copied in and out of the heap millions of times a second;
    /// nesting them by room must not make them bigger than the flat enum was.
    #[test]
    fn an_event_fits_in_sixteen_bytes() {
        assert!(
            std::mem::size_of::<Event>() <= 16,
            "{}",
            std::mem::size_of::<Event>()
        );
    }

    /// What every attempt reads or counts of its edge's state (defences,
    /// latency faults, calls in progress, measured attempts) is one line of
    /// memory: with many edges, each further line is a cache miss.
    #[test]
    fn what_an_attempt_touches_of_its_edge_is_one_line() {
        use super::super::call::EdgeState;
        use std::mem::{align_of, offset_of};
        assert_eq!(align_of::<EdgeState>(), 64);
        assert!(offset_of!(EdgeState, hedges_measured) + 8 <= 64);
        assert!(offset_of!(EdgeState, latency_faults) < 64);
    }

    /// What every attempt reads of its edge's specification (its target,
    /// timeout, deadline and hedging) is its first line of memory.
    #[test]
    fn what_an_attempt_reads_of_its_edge_spec_is_one_line() {
        use crate::scenario::spec::{CallPolicy, EdgeSpec, HedgingSpec};
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(align_of::<EdgeSpec>(), 64);
        let hedging_at = offset_of!(EdgeSpec, policy) + offset_of!(CallPolicy, hedging);
        assert!(hedging_at + size_of::<Option<HedgingSpec>>() <= 64);
        assert!(offset_of!(EdgeSpec, policy) + offset_of!(CallPolicy, deadline) < hedging_at);
    }

    /// A source's request count and key model, and what a draw of its
    /// arrivals reads, share its first line; so does what a draw of a
    /// service's service times reads.
    #[test]
    fn what_a_draw_reads_of_its_source_or_service_is_one_line() {
        use super::super::service::ServiceState;
        use super::super::source::SourceState;
        use crate::engine::RngStream;
        use std::mem::{align_of, offset_of};
        assert_eq!(align_of::<SourceState>(), 64);
        assert!(offset_of!(SourceState, keys) < 64 && offset_of!(SourceState, started) < 64);
        assert!(offset_of!(SourceState, interarrival_rng) + RngStream::DRAW_BYTES <= 64);
        assert_eq!(align_of::<ServiceState>(), 64);
        assert!(offset_of!(ServiceState, service_time_rng) + RngStream::DRAW_BYTES <= 64);
    }

    /// Likewise what every arrival and success counts of its service.
    #[test]
    fn what_an_arrival_counts_of_its_service_is_one_line() {
        use super::super::metrics::ServiceTally;
        assert_eq!(std::mem::align_of::<ServiceTally>(), 64);
        assert_eq!(std::mem::size_of::<ServiceTally>(), 64);
    }
}
