//! The call path: attempts, timeouts, deadlines, retries, hedges and the
//! client-side defences that govern them.
//!
//! A call is what the caller's code asked for; an attempt is one try of it at
//! one instance. The caller abandons an attempt at its per-attempt timeout and
//! may retry, with backoff, up to `max_attempts`, for the failure kinds in
//! `retry_on`, if the edge's retry limit allows; or, with hedging, it sends
//! another attempt whenever the hedging delay passes with no answer. A circuit
//! breaker may refuse to send an attempt at all. The call's overall deadline
//! ends everything. Abandoning an attempt does not stop the callee: its job
//! runs on, and its answer, when it comes, finds no one waiting (abandoned
//! work). Rejections are delivered as events rather than synchronously, so
//! starting work never completes work in the same breath: answers only ever
//! travel up the chain.

use smallvec::SmallVec;

use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::Failure;
use slotmap::SlotMap;

use crate::scenario::spec::{CallPolicy, EdgeSpec, Scenario, Target};

use super::backoff::backoff_delay;
use super::event::{AttemptKey, CallKey, PacketKey};
use super::gates::TokenBucket;
use super::resilience::{Breaker, Outcome, RetryLimiter};
use super::sim::{Delivery, Owner, Simulation};
use super::trace::{AttemptEnd, MarkKind, SpanKind, TraceRef};

/// The instance of an attempt answered by a cache, queue or topic, which have none.
pub(super) const NO_INSTANCE: u32 = u32::MAX;

/// The origin of work no source started: a consumer's call, a background refresh.
pub(super) const NO_SOURCE: u32 = u32::MAX;

/// The calls room: every call in progress, its attempts, and each edge's
/// defences (retry limit, breaker) and latency faults.
pub(super) struct Calls {
    pub open: SlotMap<CallKey, Call>,
    pub attempts: SlotMap<AttemptKey, Attempt>,
    pub edges: Vec<EdgeState>,
    /// Attempts on their way across an edge's network, with their target.
    in_network: SlotMap<PacketKey, (Target, Delivery)>,
    /// Whether any edge has a network (answers then check theirs).
    any_network: bool,
}

impl Calls {
    /// The event-queue lanes the calls room uses: two per edge.
    pub fn lanes(scenario: &Scenario) -> usize {
        2 * scenario.edges.len()
    }

    pub fn new(scenario: &Scenario) -> Calls {
        Calls {
            open: SlotMap::with_key(),
            attempts: SlotMap::with_key(),
            edges: scenario
                .edges
                .iter()
                .map(|e| EdgeState::new(scenario.seed, e))
                .collect(),
            in_network: SlotMap::with_key(),
            any_network: scenario.edges.iter().any(|e| e.policy.network.is_some()),
        }
    }
}

pub(super) struct Call {
    pub owner: Owner,
    pub edge: u32,
    /// The source whose request this call serves, or [`NO_SOURCE`], so
    /// amplification can be counted per source.
    pub origin: u32,
    /// The request's key (what a cache looks up, what a hash ring routes by).
    pub key: u64,
    pub started_at: SimTime,
    pub attempts_made: u32,
    /// Attempts sent and not yet answered or abandoned (several when hedging).
    pub outstanding: SmallVec<[AttemptKey; 2]>,
    /// The earlier of the call's own deadline and any inherited one.
    pub deadline_at: SimTime,
    pub last_backoff: SimDuration,
    /// A retry admitted by the edge's retry limit is in progress.
    pub retrying: bool,
    /// What the last retry took from the edge's retry quota.
    pub last_retry_cost: u32,
    /// Attempts held back for a token of the caller's rate limit: they
    /// count as outstanding, so a hedge waiting for its token is not lost.
    pub waiting_for_token: u32,
    /// Its span, if its request is traced.
    pub trace: TraceRef,
}

pub(super) struct Attempt {
    pub call: CallKey,
    /// The instance it was sent to, or [`NO_INSTANCE`] for a target that has none.
    pub instance: u32,
    /// The router that chose `instance` (meaningless without one).
    pub router: u32,
    pub sent_at: SimTime,
    /// Its span, if its request is traced.
    pub trace: TraceRef,
}

/// An edge's two lanes of the event queue: its per-attempt timeouts and
/// its hedging timers, lanes `2·edge` and `2·edge + 1`.
struct Lanes {
    timeouts: u32,
    hedges: u32,
}

impl Lanes {
    fn of_edge(edge: u32) -> Lanes {
        Lanes {
            timeouts: 2 * edge,
            hedges: 2 * edge + 1,
        }
    }
}

/// The running state of one call edge: its defences and what is in progress.
///
/// `repr(C)` and aligned to a line of memory, which holds what every
/// attempt reads or counts: the defences and latency faults an edge may not
/// have (boxed, so that as pointers they fit), the calls in progress and
/// the measured window's attempts. When a thousand edges take turns, an
/// attempt then touches this one line of the edge's state and none of its
/// metrics.
#[repr(C, align(64))]
pub(super) struct EdgeState {
    pub limiter: Option<Box<RetryLimiter>>,
    pub breaker: Option<Box<Breaker>>,
    /// The caller's own rate limit on the edge.
    pub rate_limit: Option<Box<TokenBucket>>,
    /// Latency faults active on this edge, once one has been.
    #[expect(
        clippy::box_collection,
        reason = "a pointer fits in the line every attempt reads; a Vec would not"
    )]
    pub latency_faults: Option<Box<Vec<u32>>>,
    pub active_calls: u32,
    pub active_retries: u32,
    /// The measured window's attempts, and the retries and hedges among
    /// them: they become the edge's metrics when the run ends.
    pub attempts_measured: u64,
    pub retries_measured: u64,
    pub hedges_measured: u64,
    pub jitter_rng: RngStream,
    pub latency_rng: RngStream,
    /// Draws for the edge's network (latency, loss) and for whether a
    /// call with a `probability` is made, when the edge has them.
    pub network_rng: Option<RngStream>,
    pub probability_rng: Option<RngStream>,
}

impl EdgeState {
    pub fn new(seed: u64, spec: &EdgeSpec) -> EdgeState {
        let purpose = format!("jitter:{}", spec.target_name);
        EdgeState {
            jitter_rng: RngStream::derive(seed, &spec.caller, &purpose),
            limiter: spec
                .policy
                .retry_limit
                .map(|l| Box::new(RetryLimiter::new(l))),
            breaker: spec.policy.breaker.map(|b| Box::new(Breaker::new(b))),
            rate_limit: (spec.policy.rate_limit.as_ref())
                .map(|l| Box::new(TokenBucket::for_call(l))),
            network_rng: spec.policy.network.as_ref().map(|_| {
                RngStream::derive(seed, &spec.caller, &format!("network:{}", spec.target_name))
            }),
            probability_rng: (spec.probability < 1.0).then(|| {
                RngStream::derive(
                    seed,
                    &spec.caller,
                    &format!("probability:{}", spec.target_name),
                )
            }),
            active_calls: 0,
            active_retries: 0,
            attempts_measured: 0,
            retries_measured: 0,
            hedges_measured: 0,
            latency_faults: None,
            latency_rng: RngStream::derive(
                seed,
                &spec.caller,
                &format!("latency:{}", spec.target_name),
            ),
        }
    }
}

/// How an attempt stopped being outstanding.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Answered(Result<(), Failure>),
    TimedOut,
    /// The call ended first: its deadline passed, or another hedge won.
    CallEnded {
        failed: bool,
    },
    /// The call was cancelled from above.
    Cancelled,
}

fn is_retryable(policy: &CallPolicy, failure: Failure) -> bool {
    match failure {
        Failure::Error => policy.retry_on.error,
        Failure::Timeout => policy.retry_on.timeout,
        Failure::Rejected => policy.retry_on.rejected,
        Failure::Throttled => policy.retry_on.throttled,
        Failure::DeadlineExceeded | Failure::ShortCircuited => false,
    }
}

/// What happens to a call or one of its attempts.
#[derive(Clone, Copy, Debug)]
pub(super) enum CallEvent {
    /// The target answered an attempt: a cache hit, a queue taking a message, a queue or instance turning it away (`Rejected`), a down instance refusing it (`Error`).
    Answered {
        attempt: AttemptKey,
        result: Result<(), Failure>,
    },
    /// The caller's circuit breaker refused to send the call's next attempt.
    ShortCircuited { call: CallKey },
    /// The hedging delay passed: another attempt may go out.
    HedgeDue { call: CallKey },
    /// The caller stops waiting for this attempt.
    AttemptTimeout { attempt: AttemptKey },
    /// A call's overall deadline has passed.
    CallDeadline { call: CallKey },
    /// A call's backoff is over; it sends its next attempt.
    RetryDue { call: CallKey },
    /// The caller's rate limit refused the call's next attempt.
    Throttled { call: CallKey },
    /// The token an attempt reserved from the caller's rate limit is due:
    /// the attempt goes out now.
    TokenDue { call: CallKey },
    /// An attempt has crossed its edge's network and reaches its target.
    Delivered { packet: PacketKey },
    /// A target's answer has crossed the network back to the caller.
    AnswerArrived {
        attempt: AttemptKey,
        result: Result<(), Failure>,
    },
}

impl Simulation<'_> {
    /// Handles one of this room's events.
    pub(super) fn on_call_event(&mut self, event: CallEvent) {
        match event {
            CallEvent::Answered { attempt, result } => self.answer(attempt, result),
            CallEvent::ShortCircuited { call } => self.on_short_circuited(call),
            CallEvent::HedgeDue { call } => self.on_hedge_due(call),
            CallEvent::AttemptTimeout { attempt } => self.on_attempt_timeout(attempt),
            CallEvent::CallDeadline { call } => self.on_call_deadline(call),
            CallEvent::RetryDue { call } => self.on_retry_due(call),
            CallEvent::Throttled { call } => self.on_throttled_by_caller(call),
            CallEvent::TokenDue { call } => self.on_token_due(call),
            CallEvent::Delivered { packet } => {
                if let Some((target, delivery)) = self.calls.in_network.remove(packet) {
                    self.deliver(target, delivery);
                }
            }
            CallEvent::AnswerArrived { attempt, result } => self.receive_answer(attempt, result),
        }
    }

    /// Starts a call on `edge` and sends its first attempt.
    pub(super) fn start_call(
        &mut self,
        owner: Owner,
        edge: u32,
        lineage: (u64, u32),
        inherited_deadline_at: SimTime,
    ) -> CallKey {
        let untraced = TraceRef::NONE;
        self.start_traced_call(owner, edge, lineage, inherited_deadline_at, untraced)
    }

    /// Starts a call like [`Simulation::start_call`], as a span under
    /// `parent` when its request is traced.
    pub(super) fn start_traced_call(
        &mut self,
        owner: Owner,
        edge: u32,
        (key, origin): (u64, u32),
        inherited_deadline_at: SimTime,
        parent: TraceRef,
    ) -> CallKey {
        let now = self.kernel.now;
        let root = matches!(owner, Owner::Source { .. });
        let trace = match self.recorder.trace_of(parent) {
            Some(log) => log.open(parent, SpanKind::Call { edge, result: None }, now),
            None => TraceRef::NONE,
        };
        let policy = &self.kernel.scenario.edges[edge as usize].policy;
        let own_deadline_at = policy
            .deadline
            .map_or(SimTime::MAX, |d| self.kernel.now + d);
        let deadline_at = own_deadline_at.min(inherited_deadline_at);
        let call = Call {
            owner,
            edge,
            origin,
            key,
            started_at: self.kernel.now,
            attempts_made: 0,
            outstanding: SmallVec::new(),
            deadline_at,
            last_backoff: SimDuration::ZERO,
            retrying: false,
            last_retry_cost: 0,
            waiting_for_token: 0,
            trace,
        };
        let key = self.calls.open.insert(call);
        self.calls.edges[edge as usize].active_calls += 1;
        // A source's own edge counts its source's requests: copied at the
        // end of the run rather than counted twice.
        if self.kernel.in_window(self.kernel.now) && !root {
            self.recorder.metrics.edges[edge as usize].calls += 1;
        }
        if deadline_at != SimTime::MAX {
            // A deadline inherited from a caller may already have passed: the
            // call then fails now, never at an instant behind the clock.
            self.kernel.schedule(
                deadline_at.max(self.kernel.now),
                CallEvent::CallDeadline { call: key },
            );
        }
        self.send_attempt(key);
        key
    }

    /// The source whose request `attempt` serves, if any.
    pub(super) fn origin_of(&self, attempt: AttemptKey) -> u32 {
        self.calls
            .attempts
            .get(attempt)
            .and_then(|a| self.calls.open.get(a.call))
            .map_or(NO_SOURCE, |call| call.origin)
    }

    fn send_attempt(&mut self, call_key: CallKey) {
        let call = &mut self.calls.open[call_key];
        call.attempts_made += 1;
        let (edge, attempts_made) = (call.edge as usize, call.attempts_made);
        let spec = &self.kernel.scenario.edges[edge];
        let hedging = spec.policy.hedging;
        let is_extra = attempts_made > 1;
        self.recorder.running.retries += u64::from(is_extra);
        let measured = self.kernel.in_window(self.kernel.now);
        let state = &mut self.calls.edges[edge];
        state.attempts_measured += u64::from(measured);
        let extra_measured = u64::from(measured && is_extra);
        match hedging {
            Some(_) => state.hedges_measured += extra_measured,
            None => state.retries_measured += extra_measured,
        }
        if let Some(breaker) = &mut self.calls.edges[edge].breaker
            && !breaker.permit(self.kernel.now)
        {
            if measured {
                self.recorder.metrics.edges[edge].short_circuited += 1;
            }
            self.kernel.schedule(
                self.kernel.now,
                CallEvent::ShortCircuited { call: call_key },
            );
            return;
        }
        let deadline_at = self.calls.open[call_key].deadline_at;
        if let Some(bucket) = &mut self.calls.edges[edge].rate_limit {
            let now = self.kernel.now;
            // Never reserve a token the call's deadline would waste.
            let max_wait = spec
                .policy
                .rate_limit
                .map_or(SimDuration::ZERO, |l| l.max_wait)
                .min(deadline_at.max(now) - now);
            match bucket.reserve(now, max_wait) {
                Some(SimDuration::ZERO) => {}
                Some(wait) => {
                    if measured {
                        self.recorder.metrics.edges[edge].delayed_by_rate_limit += 1;
                    }
                    self.calls.open[call_key].waiting_for_token += 1;
                    self.kernel
                        .schedule(now + wait, CallEvent::TokenDue { call: call_key });
                    return;
                }
                None => {
                    if measured {
                        self.recorder.metrics.edges[edge].throttled_by_caller += 1;
                    }
                    self.kernel
                        .schedule(now, CallEvent::Throttled { call: call_key });
                    return;
                }
            }
        }
        self.dispatch_attempt(call_key);
    }

    /// Sends the call's next attempt, counted and admitted by its
    /// defences: starts its timers and hands it to the target.
    fn dispatch_attempt(&mut self, call_key: CallKey) {
        let call = &self.calls.open[call_key];
        let (edge, attempts_made, deadline_at, key, call_trace) = (
            call.edge as usize,
            call.attempts_made,
            call.deadline_at,
            call.key,
            call.trace,
        );
        let trace = match self.recorder.trace_of(call_trace) {
            Some(log) => {
                let kind = SpanKind::Attempt {
                    edge: edge as u32,
                    number: attempts_made,
                    instance: None,
                    end: None,
                };
                log.open(call_trace, kind, self.kernel.now)
            }
            None => TraceRef::NONE,
        };
        let spec = &self.kernel.scenario.edges[edge];
        let hedging = spec.policy.hedging;
        let attempt = self.calls.attempts.insert(Attempt {
            call: call_key,
            instance: NO_INSTANCE,
            router: 0,
            sent_at: self.kernel.now,
            trace,
        });
        self.calls.open[call_key].outstanding.push(attempt);
        let timeout_at = spec
            .policy
            .timeout_per_attempt
            .map_or(SimTime::MAX, |t| self.kernel.now + t);
        // Both timers are now plus the edge's own constant: each edge's
        // come due in the order set, so they wait in lanes, not the heap.
        let lanes = Lanes::of_edge(edge as u32);
        if timeout_at < deadline_at {
            let timeout = CallEvent::AttemptTimeout { attempt };
            self.kernel
                .schedule_in_lane(lanes.timeouts, timeout_at, timeout);
        }
        if let Some(hedging) = hedging
            && attempts_made < hedging.max_attempts.get()
            && self.kernel.now + hedging.hedging_delay < deadline_at
        {
            let hedge_at = self.kernel.now + hedging.hedging_delay;
            let hedge = CallEvent::HedgeDue { call: call_key };
            self.kernel.schedule_in_lane(lanes.hedges, hedge_at, hedge);
        }
        let expires_at = if self.kernel.scenario.deadline_propagation {
            timeout_at.min(deadline_at)
        } else {
            SimTime::MAX
        };
        let delivery = Delivery {
            edge: edge as u32,
            attempt,
            key,
            expires_at,
        };
        self.send_over_network(spec.target, delivery);
    }

    /// Chooses the instance of a service or load balancer that receives
    /// `attempt`, and counts the attempt as outstanding there until it is
    /// answered or abandoned.
    pub(super) fn route_attempt(&mut self, target: Target, attempt: AttemptKey, key: u64) -> u32 {
        if let Target::Balancer(id) = target
            && self.kernel.in_window(self.kernel.now)
        {
            self.recorder.metrics.balancer_attempts[id as usize] += 1;
        }
        let router = self.routing.router_of(target);
        let instance = self.routing.pick(router, key);
        // An attempt whose caller gave up while it crossed the network still
        // arrives and is served (for nobody), but no one counts it outstanding.
        if let Some(routed) = self.calls.attempts.get_mut(attempt) {
            routed.instance = instance;
            routed.router = router as u32;
            self.routing.outstanding[instance as usize] += 1;
        }
        instance
    }

    /// Forgets an attempt (answered or abandoned) and tells the edge's
    /// breaker and throttle how it ended; the callee is not told.
    fn remove_attempt(&mut self, attempt: AttemptKey, ending: Ending) -> Option<Attempt> {
        let removed = self.calls.attempts.remove(attempt)?;
        if removed.instance != NO_INSTANCE {
            self.routing.outstanding[removed.instance as usize] -= 1;
        }
        self.attempt_ended_at_gates(attempt);
        if let Some(log) = self.recorder.trace_of(removed.trace) {
            let SpanKind::Attempt { edge, number, .. } = log.kind_of(removed.trace) else {
                unreachable!("an attempt's span is an attempt");
            };
            let end = match ending {
                Ending::Answered(result) => AttemptEnd::Answered(result),
                Ending::TimedOut => AttemptEnd::TimedOut,
                Ending::CallEnded { .. } | Ending::Cancelled => AttemptEnd::Abandoned,
            };
            let instance = (removed.instance != NO_INSTANCE).then_some(removed.instance);
            let kind = SpanKind::Attempt {
                edge,
                number,
                instance,
                end: Some(end),
            };
            log.close(removed.trace, kind, self.kernel.now);
        }
        let Some(call) = self.calls.open.get_mut(removed.call) else {
            return Some(removed);
        };
        call.outstanding.retain(|a| *a != attempt);
        let edge = &mut self.calls.edges[call.edge as usize];
        let elapsed = self.kernel.now - removed.sent_at;
        let outcome = match ending {
            Ending::Answered(Ok(())) => Outcome::Success { elapsed },
            Ending::Answered(Err(_)) | Ending::TimedOut | Ending::CallEnded { failed: true } => {
                Outcome::Failure { elapsed }
            }
            Ending::CallEnded { failed: false } | Ending::Cancelled => Outcome::Cancelled,
        };
        let mut opened = false;
        if let Some(breaker) = &mut edge.breaker {
            let opened_before = breaker.opened;
            breaker.record(outcome, self.kernel.now);
            opened = breaker.opened > opened_before;
            if opened && self.kernel.measuring {
                self.recorder.metrics.edges[call.edge as usize].breaker_opened += 1;
            }
        }
        if let Some(log) = self.recorder.trace_of(removed.trace) {
            let now = self.kernel.now;
            if matches!(ending, Ending::TimedOut) {
                log.mark(removed.trace, MarkKind::TimedOut, now);
            }
            if opened {
                log.mark(removed.trace, MarkKind::BreakerOpened, now);
            }
        }
        if let (Some(limiter), Outcome::Success { .. } | Outcome::Failure { .. }) =
            (&mut edge.limiter, outcome)
        {
            limiter.on_attempt(matches!(outcome, Outcome::Success { .. }));
        }
        if let (Ending::Answered(_) | Ending::TimedOut, false) =
            (ending, removed.instance == NO_INSTANCE)
        {
            let router = removed.router as usize;
            let failed = !matches!(ending, Ending::Answered(Ok(())));
            self.record_outcome(router, removed.instance, failed);
        }
        Some(removed)
    }

    /// Answers an attempt at `at` (now, or after a cache's latency): the
    /// seam by which targets answer without calling back into the caller
    /// in the middle of their own bookkeeping.
    pub(super) fn answer_at(
        &mut self,
        at: SimTime,
        attempt: AttemptKey,
        result: Result<(), Failure>,
    ) {
        self.kernel
            .schedule(at, CallEvent::Answered { attempt, result });
    }

    /// The seam by which a target answers an attempt: the caller, if still
    /// waiting, takes the result (a failure may lead to a retry or hedge).
    /// A target answers `attempt`: the caller hears it now, or after the
    /// edge's network latency.
    pub(super) fn answer(&mut self, attempt: AttemptKey, result: Result<(), Failure>) {
        if self.calls.any_network
            && let Some(delay) = self.network_latency_of(attempt)
        {
            self.kernel
                .schedule_in(delay, CallEvent::AnswerArrived { attempt, result });
            return;
        }
        self.receive_answer(attempt, result);
    }

    /// A draw of the network latency on `attempt`'s edge, if it has one
    /// and the caller still waits.
    fn network_latency_of(&mut self, attempt: AttemptKey) -> Option<SimDuration> {
        let call = self.calls.attempts.get(attempt)?.call;
        let edge = self.calls.open.get(call)?.edge as usize;
        let network = self.kernel.scenario.edges[edge].policy.network.as_ref()?;
        let rng = self.calls.edges[edge].network_rng.as_mut()?;
        let latency = network.latency.as_ref()?.sample(rng);
        Some(SimDuration::from_nanos_f64(latency))
    }

    /// Sends an attempt across its edge's network (if it has one) to its
    /// target: it may be lost on the way, and arrives after the latency.
    fn send_over_network(&mut self, target: Target, delivery: Delivery) {
        let edge = delivery.edge as usize;
        // The flag first: with no network anywhere, the edge's policy (a
        // line of memory of its own) is not read for every attempt.
        let network = match self.calls.any_network {
            true => self.kernel.scenario.edges[edge].policy.network.as_ref(),
            false => None,
        };
        let Some(network) = network else {
            self.deliver(target, delivery);
            return;
        };
        let rng = self.calls.edges[edge]
            .network_rng
            .as_mut()
            .expect("an edge with a network has its stream");
        if network.loss > 0.0 && rng.chance(network.loss) {
            if self.kernel.in_window(self.kernel.now) {
                self.recorder.metrics.edges[edge].lost_in_network += 1;
            }
            return;
        }
        match &network.latency {
            None => self.deliver(target, delivery),
            Some(latency) => {
                let delay = SimDuration::from_nanos_f64(latency.sample(rng));
                let packet = self.calls.in_network.insert((target, delivery));
                self.kernel
                    .schedule_in(delay, CallEvent::Delivered { packet });
            }
        }
    }

    /// Whether a call on `edge` is made this time (its `probability`).
    pub(super) fn call_is_made(&mut self, edge: u32) -> bool {
        let probability = self.kernel.scenario.edges[edge as usize].probability;
        match &mut self.calls.edges[edge as usize].probability_rng {
            Some(rng) => rng.chance(probability),
            None => true,
        }
    }

    /// The caller hears the answer to `attempt`.
    fn receive_answer(&mut self, attempt: AttemptKey, result: Result<(), Failure>) {
        let Some(removed) = self.remove_attempt(attempt, Ending::Answered(result)) else {
            return;
        };
        match result {
            Ok(()) => self.finish_call(removed.call, Ok(())),
            Err(failure) => self.attempt_failed(removed.call, failure),
        }
    }

    pub(super) fn on_attempt_timeout(&mut self, attempt: AttemptKey) {
        if let Some(removed) = self.remove_attempt(attempt, Ending::TimedOut) {
            self.attempt_failed(removed.call, Failure::Timeout);
        }
    }

    pub(super) fn on_short_circuited(&mut self, call: CallKey) {
        if let Some(open) = self.calls.open.get(call) {
            let traced = open.trace;
            if let Some(log) = self.recorder.trace_of(traced) {
                log.mark(traced, MarkKind::ShortCircuited, self.kernel.now);
            }
            self.attempt_failed(call, Failure::ShortCircuited);
        }
    }

    pub(super) fn on_call_deadline(&mut self, call: CallKey) {
        if let Some(open) = self.calls.open.get(call) {
            let traced = open.trace;
            if let Some(log) = self.recorder.trace_of(traced) {
                log.mark(traced, MarkKind::DeadlinePassed, self.kernel.now);
            }
            self.finish_call(call, Err(Failure::DeadlineExceeded));
        }
    }

    pub(super) fn on_throttled_by_caller(&mut self, call: CallKey) {
        if let Some(open) = self.calls.open.get(call) {
            let traced = open.trace;
            if let Some(log) = self.recorder.trace_of(traced) {
                log.mark(traced, MarkKind::Throttled, self.kernel.now);
            }
            self.attempt_failed(call, Failure::Throttled);
        }
    }

    /// The reserved token is due; a call that has ended since (its
    /// deadline, a cancellation) wasted it, as a real client would.
    pub(super) fn on_token_due(&mut self, call: CallKey) {
        if let Some(open) = self.calls.open.get_mut(call) {
            open.waiting_for_token -= 1;
            self.dispatch_attempt(call);
        }
    }

    pub(super) fn on_retry_due(&mut self, call: CallKey) {
        if self.calls.open.contains_key(call) {
            self.send_attempt(call);
        }
    }

    /// The hedging delay passed: send another attempt if none has answered.
    pub(super) fn on_hedge_due(&mut self, call_key: CallKey) {
        let Some(call) = self.calls.open.get(call_key) else {
            return;
        };
        let policy = &self.kernel.scenario.edges[call.edge as usize].policy;
        let more_allowed = policy
            .hedging
            .is_some_and(|h| call.attempts_made < h.max_attempts.get());
        let in_progress = !call.outstanding.is_empty() || call.waiting_for_token > 0;
        if more_allowed && in_progress {
            self.send_attempt(call_key);
        }
    }

    /// An attempt failed: hedge or retry if the policy and the edge's retry
    /// limit allow, else fail the call.
    fn attempt_failed(&mut self, call_key: CallKey, failure: Failure) {
        let call = &self.calls.open[call_key];
        let edge = call.edge as usize;
        if self.kernel.in_window(call.started_at) {
            self.recorder.metrics.edges[edge]
                .attempt_failures
                .add(failure);
        }
        let policy = &self.kernel.scenario.edges[edge].policy;
        if let Some(hedging) = policy.hedging {
            // Another hedge may still succeed; when none is out, the next goes now.
            let next_allowed = call.attempts_made < hedging.max_attempts.get()
                && failure != Failure::ShortCircuited;
            let idle = call.outstanding.is_empty() && call.waiting_for_token == 0;
            match (idle, next_allowed) {
                (false, _) => {}
                (true, true) => self.send_attempt(call_key),
                (true, false) => self.finish_call(call_key, Err(failure)),
            }
            return;
        }
        if !is_retryable(policy, failure) || call.attempts_made >= policy.max_attempts {
            self.finish_call(call_key, Err(failure));
            return;
        }
        if !self.admit_retry(call_key, failure) {
            self.finish_call(call_key, Err(failure));
            return;
        }
        let call = &self.calls.open[call_key];
        let delay = backoff_delay(
            policy.backoff,
            policy.jitter,
            call.attempts_made,
            call.last_backoff,
            &mut self.calls.edges[edge].jitter_rng,
        );
        self.calls.open[call_key].last_backoff = delay;
        let traced = self.calls.open[call_key].trace;
        if let Some(log) = self.recorder.trace_of(traced) {
            let mark = MarkKind::RetryScheduled {
                delay_ns: delay.as_nanos(),
            };
            log.mark(traced, mark, self.kernel.now);
        }
        self.kernel.schedule(
            self.kernel.now + delay,
            CallEvent::RetryDue { call: call_key },
        );
    }

    /// Asks the edge's retry limit, if any, for a retry; counts a refusal.
    fn admit_retry(&mut self, call_key: CallKey, failure: Failure) -> bool {
        let measured = self.kernel.in_window(self.calls.open[call_key].started_at);
        let call = &mut self.calls.open[call_key];
        let edge = &mut self.calls.edges[call.edge as usize];
        let Some(limiter) = &mut edge.limiter else {
            return true;
        };
        if call.retrying {
            call.retrying = false;
            edge.active_retries -= 1;
        }
        match limiter.admit_retry(failure, edge.active_calls, edge.active_retries) {
            Some(cost) => {
                call.retrying = true;
                call.last_retry_cost = cost;
                edge.active_retries += 1;
                true
            }
            None => {
                if measured {
                    self.recorder.metrics.edges[call.edge as usize].retries_throttled += 1;
                }
                let traced = call.trace;
                if let Some(log) = self.recorder.trace_of(traced) {
                    log.mark(traced, MarkKind::RetryRefused, self.kernel.now);
                }
                false
            }
        }
    }

    /// Takes a call out of the edge's bookkeeping and abandons its attempts.
    // Inlined: returned by value, a call (over a hundred bytes) was copied
    // out and again into each caller.
    #[inline(always)]
    fn close_call(&mut self, call_key: CallKey, ending: Ending) -> Option<Call> {
        let call = self.calls.open.get(call_key)?;
        // Usually none: the answer that ends a call has removed its attempt.
        if !call.outstanding.is_empty() {
            for attempt in call.outstanding.clone() {
                self.remove_attempt(attempt, ending);
            }
        }
        let call = self.calls.open.remove(call_key)?;
        let edge = &mut self.calls.edges[call.edge as usize];
        edge.active_calls -= 1;
        edge.active_retries -= u32::from(call.retrying);
        Some(call)
    }

    /// The call has its result: tell whoever is waiting for it.
    fn finish_call(&mut self, call_key: CallKey, result: Result<(), Failure>) {
        let ending = Ending::CallEnded {
            failed: result.is_err(),
        };
        let Some(call) = self.close_call(call_key, ending) else {
            return;
        };
        self.close_call_span(&call, Some(result));
        if let (Ok(()), Some(limiter)) = (result, &mut self.calls.edges[call.edge as usize].limiter)
        {
            limiter.on_call_succeeded(call.attempts_made > 1, call.last_retry_cost);
        }
        // A source's own edge has exactly its source's outcomes and
        // latencies, which the sources room records; they are copied at the
        // end of the run.
        let root = matches!(call.owner, Owner::Source { .. });
        if self.kernel.in_window(call.started_at) && !root {
            let metrics = &mut self.recorder.metrics.edges[call.edge as usize];
            let latency = self.kernel.now - call.started_at;
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
        }
        self.hand_back(call.owner, call_key, call.started_at, result);
    }

    /// Closes a traced call's span: with its result, or `None` if cancelled.
    fn close_call_span(&mut self, call: &Call, result: Option<Result<(), Failure>>) {
        if let Some(log) = self.recorder.trace_of(call.trace) {
            let kind = SpanKind::Call {
                edge: call.edge,
                result,
            };
            log.close(call.trace, kind, self.kernel.now);
        }
    }

    /// The span of `attempt`, if it is alive and traced: no lookup at all
    /// when tracing is off.
    pub(super) fn trace_of_attempt(&self, attempt: AttemptKey) -> TraceRef {
        if self.recorder.trace.is_none() {
            return TraceRef::NONE;
        }
        self.calls
            .attempts
            .get(attempt)
            .map_or(TraceRef::NONE, |a| a.trace)
    }

    /// Marks `attempt`'s span, if it is traced.
    pub(super) fn mark_attempt(&mut self, attempt: AttemptKey, kind: MarkKind) {
        let traced = self.trace_of_attempt(attempt);
        if let Some(log) = self.recorder.trace_of(traced) {
            log.mark(traced, kind, self.kernel.now);
        }
    }

    /// Abandons a call whose result no longer matters (a parallel sibling failed).
    pub(super) fn cancel_call(&mut self, call_key: CallKey) {
        let Some(call) = self.close_call(call_key, Ending::Cancelled) else {
            return;
        };
        self.close_call_span(&call, None);
        if self.kernel.in_window(call.started_at) {
            self.recorder.metrics.edges[call.edge as usize].cancelled += 1;
        }
    }
}
