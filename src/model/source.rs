//! Traffic sources: open-loop arrivals (Poisson, shaped by thinning) and
//! closed-loop clients that think between requests.
//!
//! A source starts each request as a root call on its edge; when that call
//! ends, the call room hands the result back here ([`Simulation::finish_request`]),
//! where the request is recorded and a closed-loop client starts thinking.

use crate::engine::keys::KeySampler;
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::Failure;
use crate::scenario::spec::{Load, Scenario, SourceSpec};

use super::sim::Owner;
use super::sim::Simulation;
use super::trace::TraceRef;

/// The sources room: each source's random streams and key model, and the
/// requests in flight across all of them (checked against `limits.max_in_flight`).
pub(super) struct Sources {
    pub states: Vec<SourceState>,
    pub requests_in_flight: u64,
}

/// `repr(C)` and aligned to a line of memory, so that what every request
/// reads of it (whether it has a key model, its count) shares a line with
/// the arrival stream's numbers drawn ahead: an arrival draws its successor
/// and starts a request in one event.
#[repr(C, align(64))]
pub(super) struct SourceState {
    /// Boxed: most sources have none, and inline it would take `started`,
    /// read with it by every request, into another line of memory.
    pub keys: Option<Box<KeySampler>>,
    /// Requests started, the key of a request when there is no key model.
    pub started: u64,
    pub interarrival_rng: RngStream,
    pub think_rng: RngStream,
    /// Accepts or rejects candidate arrivals of a shaped (time-varying) rate.
    pub thinning_rng: RngStream,
    pub key_rng: RngStream,
}

impl Sources {
    pub fn new(scenario: &Scenario) -> Sources {
        Sources {
            states: scenario
                .sources
                .iter()
                .map(|s| SourceState::new(scenario.seed, s))
                .collect(),
            requests_in_flight: 0,
        }
    }
}

impl SourceState {
    fn new(seed: u64, spec: &SourceSpec) -> SourceState {
        let name = &spec.name;
        SourceState {
            interarrival_rng: RngStream::derive(seed, name, "arrivals"),
            think_rng: RngStream::derive(seed, name, "think_time"),
            thinning_rng: RngStream::derive(seed, name, "thinning"),
            keys: spec.keys.map(|model| Box::new(model.sampler())),
            key_rng: RngStream::derive(seed, name, "keys"),
            started: 0,
        }
    }
}

/// What happens to a traffic source.
#[derive(Clone, Copy, Debug)]
pub(super) enum SourceEvent {
    /// The next open-loop request of a source is due.
    Arrival { source: u32 },
    /// A closed-loop client has finished thinking and sends its next request.
    ClientWake { source: u32, client: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_source_event(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Arrival { source } => self.on_arrival(source),
            SourceEvent::ClientWake { source, client } => self.start_request(source, Some(client)),
        }
    }

    pub(super) fn start_sources(&mut self) {
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
                        let think =
                            think_time.sample(&mut self.sources.states[id as usize].think_rng);
                        self.kernel.schedule(
                            SimTime::ZERO + SimDuration::from_nanos_f64(think),
                            SourceEvent::ClientWake { source: id, client },
                        );
                    }
                }
            }
        }
    }

    pub(super) fn on_arrival(&mut self, source: u32) {
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
        let state = &mut self.sources.states[source as usize];
        let Some(shape) = shape else {
            let gap = interarrival.sample(&mut state.interarrival_rng);
            self.kernel.schedule_in(
                SimDuration::from_nanos_f64(gap),
                SourceEvent::Arrival { source },
            );
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
                self.kernel.schedule(at, SourceEvent::Arrival { source });
                return;
            }
        }
    }

    /// A new request from `source` (from `client`, for a closed loop) enters the system.
    pub(super) fn start_request(&mut self, source: u32, client: Option<u32>) {
        let measured = self.kernel.in_window(self.kernel.now);
        self.sources.requests_in_flight += 1;
        // The measured requests are counted at the end of the run, from these.
        let counts = &mut self.recorder.running.sources[source as usize];
        counts.arrivals += 1;
        counts.arrivals_before_window += u64::from(!measured);
        counts.in_flight += 1;
        let edge = self.kernel.scenario.sources[source as usize].edge;
        let traced = match &mut self.recorder.trace {
            Some(log) if self.kernel.scenario.sources[source as usize].job.is_none() => {
                log.admit(source, self.kernel.now, measured)
            }
            _ => TraceRef::NONE,
        };
        let owner = Owner::Source {
            source,
            client,
            measured,
            trace: traced.request,
        };
        let state = &mut self.sources.states[source as usize];
        state.started += 1;
        let key = match &state.keys {
            Some(sampler) => sampler.sample(&mut state.key_rng),
            None => state.started,
        };
        match &self.kernel.scenario.sources[source as usize].job {
            Some(_) => self.submit_job(source, client, measured, key),
            None => {
                self.start_traced_call(owner, edge, (key, source), SimTime::MAX, traced);
            }
        }
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
        self.sources.requests_in_flight -= 1;
        let counts = &mut self.recorder.running.sources[owner_source as usize];
        counts.in_flight -= 1;
        match result {
            Ok(()) => counts.succeeded += 1,
            Err(_) => counts.failed += 1,
        }
        let latency = self.kernel.now - started_at;
        self.recorder
            .timeseries
            .record_latency(owner_source as usize, latency, result.is_ok());
        if measured {
            let metrics = &mut self.recorder.metrics.sources[owner_source as usize];
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
            let think =
                think_time.sample(&mut self.sources.states[owner_source as usize].think_rng);
            let wake_at = self.kernel.now + SimDuration::from_nanos_f64(think);
            self.kernel.schedule(
                wake_at,
                SourceEvent::ClientWake {
                    source: owner_source,
                    client,
                },
            );
        }
    }
}
