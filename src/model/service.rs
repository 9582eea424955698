//! Services: instances with a pool of workers and a bounded queue.
//!
//! An attempt that reaches an instance becomes a job, unless a fault refuses
//! or swallows it, or the instance's concurrency limit sheds it. It starts at
//! once if a worker is free, waits in the queue if there is room, and is
//! rejected otherwise; a job that waited longer than the queue timeout is
//! shed when a worker takes it. A worker serves the job for its service time, may fail it with
//! the service's error probability, then makes the service's downstream calls
//! while still holding the worker (a thread-per-request server), and finally
//! answers. The answer reaches the caller only if the caller is still waiting;
//! otherwise it is counted as abandoned work. With deadline propagation, a job
//! whose deadline has passed by the time a worker takes it is dropped unserved.

use std::collections::VecDeque;
use std::ops::Range;

use slotmap::SlotMap;

use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::{Area, Failure};
use crate::scenario::spec::{CallMode, Class, Discipline, Scenario, ServiceSpec};

use super::autoscale::{Scaler, Slot};
use super::resilience::Admission;

use super::call::NO_SOURCE;
use super::event::{AttemptKey, CallKey, JobKey};
use super::faults::Effects;
use super::sharing::SharedProcessor;
use super::sim::{Owner, Simulation};
use super::trace::{MarkKind, SpanKind, TraceRef};

/// The services room: every service's state, its instances (numbered across
/// services, autoscaling slots included) and the jobs at them.
pub(super) struct Services {
    pub states: Vec<ServiceState>,
    pub instances: Vec<Instance>,
    pub jobs: SlotMap<JobKey, Job>,
}

/// One instance of a service: its workers and its queue.
///
/// `repr(C)` and aligned to a line of memory, so that what every arrival
/// and departure touches takes two lines: the time integrals it advances,
/// then its service, workers, queue and the checks for processor sharing
/// and an admission limit (both boxed: most instances have neither).
#[repr(C, align(64))]
pub(super) struct Instance {
    /// Cumulative since the start; the integrals at the end of warm-up are
    /// kept so that the windowed statistics can subtract them.
    pub busy_area: Area,
    pub queue_area: Area,
    pub service: u32,
    pub busy: u32,
    /// With `processor_sharing`: the jobs sharing the workers.
    pub shared: Option<Box<SharedProcessor>>,
    pub admission: Option<Box<Admission>>,
    pub queue: VecDeque<JobKey>,
    /// Whether it takes traffic (autoscaled instances come and go).
    pub slot: Slot,
    /// Faults aimed at this instance alone that are active now.
    pub active_faults: Vec<u32>,
    /// Attempts a hanging outage accepted and will never answer; a crash
    /// resets their connections, the end of the hang forgets them.
    pub parked: Vec<AttemptKey>,
    pub busy_at_warmup: u128,
    pub queue_at_warmup: u128,
}

/// `repr(C)` and aligned to a line of memory, so that the service-time
/// stream's numbers drawn ahead, read by every job, sit in one line.
#[repr(C, align(64))]
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

impl Services {
    pub fn new(scenario: &Scenario) -> Services {
        let seed = scenario.seed;
        let mut states = Vec::new();
        let mut instances = Vec::new();
        for (id, spec) in scenario.services.iter().enumerate() {
            let first = instances.len() as u32;
            let slots = spec.instance_slots();
            instances.extend((0..slots).map(|slot| {
                Instance {
                    service: id as u32,
                    busy: 0,
                    queue: VecDeque::new(),
                    slot: if slot < spec.instances {
                        Slot::Ready
                    } else {
                        Slot::Off
                    },
                    active_faults: Vec::new(),
                    parked: Vec::new(),
                    admission: spec
                        .concurrency_limit
                        .map(|limit| Box::new(Admission::new(limit))),
                    shared: (spec.discipline == Discipline::ProcessorSharing)
                        .then(|| Box::new(SharedProcessor::new(spec.workers))),
                    busy_area: Area::default(),
                    queue_area: Area::default(),
                    busy_at_warmup: 0,
                    queue_at_warmup: 0,
                }
            }));
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
        }
        Services {
            states,
            instances,
            jobs: SlotMap::with_key(),
        }
    }

    /// Brings an instance's busy and queue integrals up to `now`.
    pub fn advance_areas(&mut self, instance: u32, now: SimTime) {
        let state = &mut self.instances[instance as usize];
        let busy = state
            .shared
            .as_ref()
            .map_or(state.busy, |s| s.busy_workers());
        state.busy_area.advance(now, u64::from(busy));
        state.queue_area.advance(now, state.queue.len() as u64);
    }
}

pub(super) struct Job {
    /// The attempt this job answers; gone if the caller gave up.
    pub attempt: AttemptKey,
    pub instance: u32,
    /// The request's key, passed on to downstream calls.
    pub key: u64,
    /// The source whose request this serves (`NO_SOURCE` if none).
    pub origin: u32,
    pub arrived_at: SimTime,
    /// When the caller stops waiting (only tracked with deadline propagation).
    pub expires_at: SimTime,
    /// The instance's work clock (real time minus paused time) at which
    /// this job's local work is done; see [`super::pause`].
    pub work_until: u64,
    /// Sequential mode: the index of the next downstream call.
    pub next_call: usize,
    /// Downstream calls in progress.
    pub children: Vec<CallKey>,
    /// Its span (queued, then served), if its request is traced.
    pub trace: TraceRef,
}

/// Workers an instance can use now, after any capacity loss.
fn usable_workers(spec: &ServiceSpec, effects: &Effects) -> u32 {
    // Most of the time no fault takes capacity: no floating point then.
    if effects.capacity_loss == 0.0 {
        return spec.workers;
    }
    let lost = (f64::from(spec.workers) * effects.capacity_loss).floor() as u32;
    spec.workers - lost.min(spec.workers)
}

/// What happens at a service instance.
#[derive(Clone, Copy, Debug)]
pub(super) enum ServiceEvent {
    /// A job's own processing (its service time) is done.
    LocalWorkDone { job: JobKey },
    /// The earliest job sharing an instance's processor may be done
    /// (unless the generation has moved on since).
    SharedWorkDone { instance: u32, generation: u32 },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_service_event(&mut self, event: ServiceEvent) {
        match event {
            ServiceEvent::LocalWorkDone { job } => self.on_local_work_done(job),
            ServiceEvent::SharedWorkDone {
                instance,
                generation,
            } => self.on_shared_work_done(instance, generation),
        }
    }

    /// An attempt reaches `instance`.
    pub(super) fn arrive(
        &mut self,
        instance: u32,
        attempt: AttemptKey,
        key: u64,
        expires_at: SimTime,
    ) {
        let effects = self.effects(instance);
        let state = &self.services.instances[instance as usize];
        let service_id = state.service as usize;
        let spec = &self.kernel.scenario.services[service_id];
        let measured = self.kernel.in_window(self.kernel.now);
        let origin = self.origin_of(attempt);
        let traced = self.trace_of_attempt(attempt);
        if measured {
            let source = (origin != NO_SOURCE).then_some(origin);
            self.recorder.service_tallies[service_id].add(source);
        }
        self.recorder.running.services[service_id].attempts += 1;
        if effects.refuse || effects.hang {
            if measured {
                let metrics = &mut self.recorder.metrics.services[service_id];
                metrics.refused += u64::from(effects.refuse);
                metrics.hung += u64::from(!effects.refuse);
            }
            let why = match effects.refuse {
                true => "refused: an outage",
                false => "hung: an outage",
            };
            self.mark_attempt(attempt, MarkKind::Rejected { instance, why });
            if effects.refuse {
                self.answer_at(self.kernel.now, attempt, Err(Failure::Error));
            } else {
                self.park(instance, attempt);
            }
            return;
        }
        let in_progress = state.busy + state.queue.len() as u32;
        let over_limit = state
            .admission
            .as_ref()
            .is_some_and(|admission| !admission.admits(in_progress));
        let class = self.class_of(origin);
        if over_limit && !self.displace_for(instance, class) {
            let why = "shed by its concurrency limit";
            self.mark_attempt(attempt, MarkKind::Rejected { instance, why });
            self.shed(instance, attempt, measured);
            return;
        }
        let state = &self.services.instances[instance as usize];
        // Processor sharing admits up to workers + queue capacity into
        // service at once; no one waits in line.
        let (has_worker, has_room) = match &state.shared {
            Some(_) => (state.busy < spec.workers + spec.queue_capacity, false),
            None => (
                state.busy < usable_workers(spec, &effects)
                    && !self.pauses.is_paused(instance, self.kernel.now),
                state.queue.len() < spec.queue_capacity as usize,
            ),
        };
        if !has_worker && !has_room && !self.displace_for(instance, class) {
            self.recorder.running.services[service_id].rejected += 1;
            if measured {
                self.recorder.metrics.services[service_id].rejected += 1;
            }
            let why = "its queue was full";
            self.mark_attempt(attempt, MarkKind::Rejected { instance, why });
            self.answer_at(self.kernel.now, attempt, Err(Failure::Rejected));
            return;
        }
        let now = self.kernel.now;
        let trace = match self.recorder.trace_of(traced) {
            Some(log) => log.open(traced, SpanKind::Queued { instance }, now),
            None => TraceRef::NONE,
        };
        let job = Job {
            attempt,
            instance,
            key,
            origin,
            arrived_at: self.kernel.now,
            expires_at,
            work_until: 0,
            next_call: 0,
            children: Vec::new(),
            trace,
        };
        let job = self.services.jobs.insert(job);
        self.services.advance_areas(instance, self.kernel.now);
        if has_worker {
            self.begin_service(job, effects.slowdown);
        } else {
            self.enqueue(instance, job);
        }
    }

    /// A hang swallows an attempt. Attempts whose callers have since given
    /// up are forgotten whenever the list doubles, so it stays in proportion
    /// to the callers still waiting, however long the hang.
    fn park(&mut self, instance: u32, attempt: AttemptKey) {
        let parked = &mut self.services.instances[instance as usize].parked;
        parked.push(attempt);
        if parked.len() >= 1024 && parked.len().is_power_of_two() {
            let attempts = &self.calls.attempts;
            parked.retain(|&a| attempts.contains_key(a));
        }
    }

    /// The class of the requests a source sends (the default for work no
    /// source started).
    pub(super) fn class_of(&self, origin: u32) -> Class {
        self.kernel
            .scenario
            .sources
            .get(origin as usize)
            .map_or(Class::Default, |source| source.class)
    }

    /// With `priority`: makes room for an arrival of `class` by dropping the
    /// newest waiting request of a less critical class, whose caller hears
    /// a rejection. False (nothing dropped) if there is none.
    fn displace_for(&mut self, instance: u32, class: Class) -> bool {
        let state = &self.services.instances[instance as usize];
        let service_id = state.service as usize;
        if self.kernel.scenario.services[service_id].discipline != Discipline::Priority {
            return false;
        }
        let Some(&newest) = state.queue.back() else {
            return false;
        };
        if self.class_of(self.services.jobs[newest].origin) <= class {
            return false;
        }
        let now = self.kernel.now;
        self.services.advance_areas(instance, now);
        let state = &mut self.services.instances[instance as usize];
        // One out for one in: the concurrency limit is not exceeded, so
        // AIMD is not told of a drop.
        state.queue.pop_back();
        self.end_job_span(newest, "displaced by a more critical request");
        let job = self
            .services
            .jobs
            .remove(newest)
            .expect("a queued job exists");
        self.recorder.running.services[service_id].rejected += 1;
        if self.kernel.in_window(job.arrived_at) {
            self.recorder.metrics.services[service_id].displaced += 1;
        }
        self.answer_at(now, job.attempt, Err(Failure::Rejected));
        true
    }

    /// The concurrency limit turns an attempt away: the caller hears a rejection.
    fn shed(&mut self, instance: u32, attempt: AttemptKey, measured: bool) {
        let state = &mut self.services.instances[instance as usize];
        if let Some(admission) = &mut state.admission {
            admission.on_dropped();
        }
        let service_id = state.service as usize;
        self.recorder.running.services[service_id].rejected += 1;
        if measured {
            self.recorder.metrics.services[service_id].shed += 1;
        }
        self.answer_at(self.kernel.now, attempt, Err(Failure::Rejected));
    }

    fn enqueue(&mut self, instance: u32, job: JobKey) {
        let service = self.services.instances[instance as usize].service as usize;
        if self.kernel.scenario.services[service].discipline == Discipline::Priority {
            // The queue stays sorted by class, oldest first within each.
            let class = self.class_of(self.services.jobs[job].origin);
            let jobs = &self.services.jobs;
            let sources = &self.kernel.scenario.sources;
            let class_of = |j: &JobKey| {
                let origin = jobs[*j].origin;
                sources
                    .get(origin as usize)
                    .map_or(Class::Default, |s| s.class)
            };
            let queue = &mut self.services.instances[instance as usize].queue;
            let at = queue.partition_point(|j| class_of(j) <= class);
            queue.insert(at, job);
        } else {
            self.services.instances[instance as usize]
                .queue
                .push_back(job);
        }
        let state = &self.services.instances[instance as usize];
        // The maximum belongs with the time integrals, which start at MeasurementStart.
        if self.kernel.measuring {
            let metrics = &mut self.recorder.metrics.services[state.service as usize];
            metrics.queue_max = metrics.queue_max.max(state.queue.len() as u64);
        }
    }

    /// A worker takes `job` (its areas are already up to date), unless the
    /// job's caller has given up (deadline propagation) or it waited longer
    /// than the queue timeout: then it is dropped unserved.
    fn begin_service(&mut self, job_key: JobKey, slowdown: f64) {
        let job = &self.services.jobs[job_key];
        let instance = job.instance;
        let service_id = self.services.instances[instance as usize].service as usize;
        let spec = &self.kernel.scenario.services[service_id];
        let waited = self.kernel.now - job.arrived_at;
        let measured = self.kernel.in_window(job.arrived_at);
        if self.kernel.now >= job.expires_at {
            if measured {
                self.recorder.metrics.services[service_id].expired += 1;
            }
            self.end_job_span(job_key, "dropped: its caller's deadline had passed");
            self.services.jobs.remove(job_key);
            return;
        }
        if spec.queue_timeout.is_some_and(|limit| waited > limit) {
            self.end_job_span(job_key, "dropped: it waited longer than the queue timeout");
            let job = self.services.jobs.remove(job_key).expect("the job exists");
            if let Some(admission) = &mut self.services.instances[instance as usize].admission {
                admission.on_dropped();
            }
            if measured {
                self.recorder.metrics.services[service_id].queue_timeouts += 1;
            }
            self.answer_at(self.kernel.now, job.attempt, Err(Failure::Rejected));
            return;
        }
        let queued = job.trace;
        if let Some(log) = self.recorder.trace_of(queued) {
            let now = self.kernel.now;
            log.close(queued, SpanKind::Queued { instance }, now);
            let served = SpanKind::Served {
                instance,
                result: None,
                abandoned: false,
            };
            let served = log.open(log.parent_of(queued), served, now);
            self.services.jobs[job_key].trace = served;
        }
        let in_service = {
            let state = &mut self.services.instances[instance as usize];
            state.busy += 1;
            state.busy
        };
        if measured {
            self.recorder.metrics.services[service_id]
                .queue_wait
                .record(waited);
        }
        let mut work = spec
            .service_time
            .sample(&mut self.services.states[service_id].service_time_rng);
        if self.services.instances[instance as usize].shared.is_some() {
            self.share(instance, job_key, work * slowdown);
            return;
        }
        if let Some(load) = &spec.slowdown_with_load {
            work = load.stretch(work, in_service);
        }
        let service_time = SimDuration::from_nanos_f64(work * slowdown);
        let work_clock = self.pauses.work_clock(instance, self.kernel.now);
        self.services.jobs[job_key].work_until = work_clock.saturating_add(service_time.as_nanos());
        let done_at = self.kernel.now + service_time;
        self.kernel
            .schedule(done_at, ServiceEvent::LocalWorkDone { job: job_key });
    }

    /// Free workers take waiting jobs: oldest first (fifo), newest first
    /// (lifo), or newest first only while the queue is long (adaptive lifo).
    pub(super) fn start_waiting(&mut self, instance: u32) {
        let effects = self.effects(instance);
        let service_id = self.services.instances[instance as usize].service as usize;
        let spec = &self.kernel.scenario.services[service_id];
        let workers = usable_workers(spec, &effects);
        let state = &self.services.instances[instance as usize];
        if state.shared.is_some() || self.pauses.is_paused(instance, self.kernel.now) {
            return;
        }
        while self.services.instances[instance as usize].busy < workers {
            let queue = &mut self.services.instances[instance as usize].queue;
            let newest_first = match spec.discipline {
                Discipline::Fifo => false,
                Discipline::Lifo => true,
                Discipline::AdaptiveLifo { threshold } => queue.len() > threshold as usize,
                Discipline::ProcessorSharing | Discipline::Priority => false,
            };
            let next = if newest_first {
                queue.pop_back()
            } else {
                queue.pop_front()
            };
            let Some(job) = next else { break };
            self.begin_service(job, effects.slowdown);
        }
    }

    pub(super) fn on_local_work_done(&mut self, job_key: JobKey) {
        // A crash may have taken the job.
        let Some(job) = self.services.jobs.get(job_key) else {
            return;
        };
        let instance = job.instance;
        // A pause froze the work: it ends later by the pause time it overlapped.
        if let Some(later) = self
            .pauses
            .work_done_at(instance, job.work_until, self.kernel.now)
        {
            self.kernel
                .schedule(later, ServiceEvent::LocalWorkDone { job: job_key });
            return;
        }
        let service_id = self.services.instances[instance as usize].service as usize;
        // The scenario outlives the simulation, so its call list can be walked
        // while the simulation changes, without copying it.
        let scenario = self.kernel.scenario;
        let spec = &scenario.services[service_id];
        let fault_error_rate = self.effects(instance).error_rate;
        let state = &mut self.services.states[service_id];
        let failed = state.error_rng.chance(spec.error_rate)
            | (fault_error_rate > 0.0 && state.fault_error_rng.chance(fault_error_rate));
        if failed {
            self.finish_job(job_key, Err(Failure::Error));
            return;
        }
        match (spec.calls.is_empty(), spec.call_mode) {
            (true, _) => self.finish_job(job_key, Ok(())),
            (false, CallMode::Sequential) => self.start_next_call(job_key),
            (false, CallMode::Parallel) => {
                for &edge in &spec.calls {
                    self.start_child_call(job_key, edge);
                }
                if self.services.jobs[job_key].children.is_empty() {
                    self.finish_job(job_key, Ok(()));
                }
            }
        }
    }

    /// Starts the next call, after any fire-and-forget ones; answers when none is left.
    fn start_next_call(&mut self, job_key: JobKey) {
        let scenario = self.kernel.scenario;
        loop {
            let job = &mut self.services.jobs[job_key];
            let service_id = self.services.instances[job.instance as usize].service as usize;
            let Some(&edge) = scenario.services[service_id].calls.get(job.next_call) else {
                self.finish_job(job_key, Ok(()));
                return;
            };
            job.next_call += 1;
            if !self.start_child_call(job_key, edge) {
                return;
            }
        }
    }

    /// Starts a call for `job_key`; true if it is fire-and-forget (or not
    /// made this time, by its `probability`), so the job goes on without
    /// waiting.
    fn start_child_call(&mut self, job_key: JobKey, edge: u32) -> bool {
        if !self.call_is_made(edge) {
            return true;
        }
        let job = &self.services.jobs[job_key];
        let parent = job.trace;
        if self.kernel.scenario.edges[edge as usize].fire_and_forget {
            let key = (job.key, job.origin);
            self.start_traced_call(Owner::Detached, edge, key, SimTime::MAX, parent);
            return true;
        }
        let inherited = if self.kernel.scenario.deadline_propagation {
            job.expires_at
        } else {
            SimTime::MAX
        };
        let owner = Owner::Job(job_key);
        let lineage = (job.key, job.origin);
        let call = self.start_traced_call(owner, edge, lineage, inherited, parent);
        self.services.jobs[job_key].children.push(call);
        false
    }

    /// A downstream call of `job_key` has ended.
    pub(super) fn on_child_finished(
        &mut self,
        job_key: JobKey,
        call: CallKey,
        result: Result<(), Failure>,
    ) {
        let instance = self.services.jobs[job_key].instance;
        if self.defer_if_paused(instance, job_key, call, result) {
            return;
        }
        let job = &mut self.services.jobs[job_key];
        job.children.retain(|&child| child != call);
        let service_id = self.services.instances[job.instance as usize].service as usize;
        let spec = &self.kernel.scenario.services[service_id];
        match (result, spec.call_mode) {
            // A failure below is an error here, whatever its kind (a 5xx upstream).
            (Err(_), _) => self.finish_job(job_key, Err(Failure::Error)),
            (Ok(()), CallMode::Sequential) if job.next_call < spec.calls.len() => {
                self.start_next_call(job_key)
            }
            (Ok(()), CallMode::Parallel) if !job.children.is_empty() => {}
            (Ok(()), _) => self.finish_job(job_key, Ok(())),
        }
    }

    /// The job answers: its worker is freed, then the caller hears the result.
    fn finish_job(&mut self, job_key: JobKey, result: Result<(), Failure>) {
        let job = self
            .services
            .jobs
            .remove(job_key)
            .expect("a finishing job exists");
        for child in job.children {
            self.cancel_call(child);
        }
        let instance = job.instance;
        let state = &mut self.services.instances[instance as usize];
        let service_id = state.service as usize;
        self.services.advance_areas(instance, self.kernel.now);
        let state = &mut self.services.instances[instance as usize];
        state.busy -= 1;
        let in_progress = state.busy + state.queue.len() as u32;
        if let Some(admission) = &mut state.admission {
            admission.on_finished(self.kernel.now - job.arrived_at, in_progress);
        }
        if result.is_err() {
            self.recorder.running.services[service_id].errors += 1;
        }
        let caller_waiting = self.calls.attempts.contains_key(job.attempt);
        if let Some(log) = self.recorder.trace_of(job.trace) {
            let served = SpanKind::Served {
                instance,
                result: Some(result),
                abandoned: !caller_waiting,
            };
            log.close(job.trace, served, self.kernel.now);
        }
        if self.kernel.in_window(job.arrived_at) {
            let metrics = &mut self.recorder.metrics.services[service_id];
            metrics.latency.record(self.kernel.now - job.arrived_at);
            match result {
                Ok(()) => self.recorder.service_tallies[service_id].succeeded += 1,
                Err(_) => metrics.errors += 1,
            }
            if !caller_waiting {
                metrics.abandoned_work += 1;
            }
        }
        // Waiting jobs take the freed worker before anything the answer triggers
        // can arrive, so a retry never jumps the queue.
        self.start_waiting(instance);
        if caller_waiting {
            self.answer(job.attempt, result);
        }
    }

    /// A crash: every job at `instance` is lost. Workers are freed, calls the
    /// jobs were making are abandoned, and callers still waiting hear an
    /// error (their connection was reset), those of hung requests included.
    pub(super) fn lose_jobs(&mut self, instance: u32) {
        self.services.advance_areas(instance, self.kernel.now);
        let lost: Vec<JobKey> = self
            .services
            .jobs
            .iter()
            .filter(|(_, job)| job.instance == instance)
            .map(|(key, _)| key)
            .collect();
        let state = &mut self.services.instances[instance as usize];
        state.queue.clear();
        state.busy = 0;
        if let Some(shared) = &mut state.shared {
            shared.clear();
        }
        let service_id = state.service as usize;
        for attempt in std::mem::take(&mut state.parked) {
            self.answer_at(self.kernel.now, attempt, Err(Failure::Error));
        }
        for key in lost {
            self.end_job_span(key, "lost: its instance crashed");
            let job = self.services.jobs.remove(key).expect("a listed job exists");
            for child in job.children {
                self.cancel_call(child);
            }
            if self.kernel.in_window(job.arrived_at) {
                self.recorder.metrics.services[service_id].lost_in_crash += 1;
            }
            self.answer_at(self.kernel.now, job.attempt, Err(Failure::Error));
        }
    }
}

impl Simulation<'_> {
    /// A traced job ends without an answer of its own: its span (queued or
    /// served) closes where it is, marked with `why`.
    fn end_job_span(&mut self, job_key: JobKey, why: &'static str) {
        let job = &self.services.jobs[job_key];
        let (traced, instance) = (job.trace, job.instance);
        let Some(log) = self.recorder.trace_of(traced) else {
            return;
        };
        let kind = match log.kind_of(traced) {
            SpanKind::Served { .. } => SpanKind::Served {
                instance,
                result: Some(Err(Failure::Error)),
                abandoned: false,
            },
            other => other,
        };
        log.mark(
            traced,
            MarkKind::Rejected { instance, why },
            self.kernel.now,
        );
        log.close(traced, kind, self.kernel.now);
    }

    /// A job joins the jobs sharing `instance`'s workers with `work`
    /// nanoseconds of work at full speed.
    fn share(&mut self, instance: u32, job: JobKey, work: f64) {
        self.sharing_processor(instance).admit(job, work);
        self.reshare(instance);
    }

    /// The capacity of a sharing instance changed (a capacity-loss fault
    /// began or ended): account for the work done at the old speed, go on
    /// at the new one.
    pub(super) fn resync_shared(&mut self, instance: u32) {
        if self.services.instances[instance as usize].shared.is_some() {
            self.services.advance_areas(instance, self.kernel.now);
            self.sharing_processor(instance);
            self.reshare(instance);
        }
    }

    /// `instance`'s shared processor, its virtual time brought up to now.
    fn sharing_processor(&mut self, instance: u32) -> &mut SharedProcessor {
        let now = self.kernel.now;
        let shared = self.services.instances[instance as usize]
            .shared
            .as_mut()
            .expect("a sharing instance");
        shared.advance(now);
        shared
    }

    /// The jobs in service or the capacity changed: set the speed for the
    /// usable workers and schedule the earliest completion at it.
    fn reshare(&mut self, instance: u32) {
        let state = &self.services.instances[instance as usize];
        let spec = &self.kernel.scenario.services[state.service as usize];
        let usable = usable_workers(spec, &self.effects(instance));
        let shared = self.services.instances[instance as usize]
            .shared
            .as_mut()
            .expect("a sharing instance");
        shared.workers = usable;
        let speed = shared.speed(usable, spec.slowdown_with_load.as_ref());
        if let Some(delay) = shared.next_done_in(speed) {
            let generation = shared.generation;
            self.kernel.schedule_in(
                delay,
                ServiceEvent::SharedWorkDone {
                    instance,
                    generation,
                },
            );
        }
    }

    fn on_shared_work_done(&mut self, instance: u32, generation: u32) {
        let current = self.services.instances[instance as usize]
            .shared
            .as_ref()
            .is_some_and(|shared| shared.generation == generation);
        if !current {
            return;
        }
        self.services.advance_areas(instance, self.kernel.now);
        let done = self.sharing_processor(instance).take_done();
        self.reshare(instance);
        for job in done {
            if self.services.jobs.contains_key(job) {
                self.on_local_work_done(job);
            }
        }
    }
}
