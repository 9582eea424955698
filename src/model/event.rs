//! The closed set of things that can happen in a simulation.
//!
//! Events are plain data, dispatched by one exhaustive `match` in
//! [`super::sim`]: no boxed closures, nothing to allocate per event, and the
//! compiler checks that every kind is handled. Events that refer to a call,
//! an attempt or a job carry a generational key: when that entity is gone
//! (answered, abandoned, cancelled) the key no longer resolves and the event
//! is a no-op, which is how timers are cancelled.

use slotmap::new_key_type;

new_key_type! {
    /// A logical call from a caller to a target, across all its attempts.
    pub struct CallKey;
    /// One try of a call, sent to one instance.
    pub struct AttemptKey;
        /// One request being queued or served at an instance.
    pub struct JobKey;
        /// An attempt delayed on its way by a latency fault.
    pub struct TransitKey;
    /// A cache's backend call filling one key.
    pub struct FillKey;
    /// A message in a queue.
    pub struct MessageKey;
    /// Messages a consumer's poller received together.
    pub struct BatchKey;
}

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next open-loop request of a source is due.
    Arrival { source: u32 },
    /// A closed-loop client has finished thinking and sends its next request.
    ClientWake { source: u32, client: u32 },
    /// A job's own processing (its service time) is done.
    LocalWorkDone { job: JobKey },
    /// An attempt was turned away because the instance's queue was full.
    AttemptRejected { attempt: AttemptKey },
    /// The instance refused the attempt at once (it is down): an error.
    AttemptRefused { attempt: AttemptKey },
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
    /// The target answered an attempt successfully without a job: a cache
    /// hit, or a queue taking a message.
    Answered { attempt: AttemptKey },
    /// A delayed attempt reaches its instance.
    Delivered { transit: TransitKey },
    /// A message's delivery delay or visibility timeout (of this receipt) ends.
    MessageDue { message: MessageKey, receipt: u32 },
    /// A message in `queue` reaches the end of its retention period.
    MessageExpired { message: MessageKey, queue: u32 },
    /// Messages became visible in a queue with long-polling pollers waiting.
    QueueNotify { queue: u32 },
    /// A poller's long poll, batch window or pause ends (if still `generation`).
    PollerTimer { poller: u32, generation: u32 },
    /// A consumer has processed a batch.
    BatchDone { batch: BatchKey },
    /// A scheduled consumer's next run starts.
    ScheduledRun { consumer: u32 },
    /// A scheduled fault begins.
    FaultStart { fault: u32 },
    /// A scheduled fault ends (a crashed instance restarts).
    FaultEnd { fault: u32 },
    /// An autoscaled service's controller looks at its metric.
    ScaleEvaluation { service: u32 },
    /// An instance added by the autoscaler has started and takes traffic.
    InstanceReady { instance: u32 },
    /// A router with outlier detection returns instances whose ejection ended.
    OutlierSweep { router: u32 },
    /// A router with health checks probes its instances.
    HealthCheck { router: u32 },
    /// Warm-up is over: statistics start here.
    MeasurementStart,
    /// The end of a time-series interval.
    Sample,
}
