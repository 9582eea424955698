//! Request traces: the life of a bounded, deterministic sample of requests,
//! as spans (calls, attempts, queue waits, service) and marks (rejections,
//! retries with their backoff, cache hits, message sends).
//!
//! The sample is chosen when a request starts: the first `count` requests
//! after warm-up, every `every`-th of them, so the same scenario and seed
//! trace the same requests. Each traced call, attempt and job carries a
//! [`TraceRef`] (its request and its span); untraced ones carry
//! [`TraceRef::NONE`], and every hook is one comparison when tracing is off.
//! Spans are opened when their work starts and closed when it ends, so a
//! span still open at the end of the run is work in progress. The report
//! turns the log into Chrome trace JSON and text waterfalls.

use crate::engine::SimTime;
use crate::model::metrics::Failure;
use crate::scenario::spec::Gate;

/// Which requests to trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceSelection {
    /// How many requests to trace at most.
    pub count: u32,
    /// Trace every `every`-th request after warm-up (1: each one).
    pub every: u32,
    /// Trace only requests that start at this simulated instant or later.
    pub from: SimTime,
    /// Trace only the request of this number (1 for the first after warm-up).
    pub only: Option<u64>,
}

/// A traced thing's request and span; `NONE` when it is not traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRef {
    pub request: u32,
    pub span: u32,
}

/// No span: the root of a request (its source's call has no parent).
pub const NO_SPAN: u32 = u32::MAX;

impl TraceRef {
    pub const NONE: TraceRef = TraceRef {
        request: u32::MAX,
        span: NO_SPAN,
    };

    pub fn is_traced(self) -> bool {
        self.request != u32::MAX
    }
}

/// How an attempt ended, for its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptEnd {
    Answered(Result<(), Failure>),
    /// Its per-attempt timeout passed first.
    TimedOut,
    /// Its call ended another way (a deadline, a hedge that answered, a
    /// cancelled parent) and stopped waiting for it.
    Abandoned,
}

/// What a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A call on `edge`, across its attempts; `None` while open, or when
    /// cancelled (a parallel sibling failed).
    Call {
        edge: u32,
        result: Option<Result<(), Failure>>,
    },
    /// One try; `instance` is the instance chosen, if the target has them.
    Attempt {
        edge: u32,
        number: u32,
        instance: Option<u32>,
        end: Option<AttemptEnd>,
    },
    /// Waiting in an instance's queue for a worker.
    Queued { instance: u32 },
    /// Served at an instance: its own work and its downstream calls.
    /// `abandoned`: the caller had stopped waiting when it answered.
    Served {
        instance: u32,
        result: Option<Result<(), Failure>>,
        abandoned: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub parent: Option<u32>,
    pub kind: SpanKind,
    pub start: SimTime,
    /// `None`: still open when the run ended.
    pub end: Option<SimTime>,
}

/// Something that happened at an instant, on a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// The instance turned the attempt away: queue full, shed by its
    /// concurrency limit, refused by an outage, dropped after waiting too
    /// long or past its deadline, or lost in a crash.
    Rejected {
        instance: u32,
        why: &'static str,
    },
    /// The call will try again after `delay_ns` of backoff.
    RetryScheduled {
        delay_ns: u64,
    },
    /// The caller's circuit breaker was open: the attempt was never sent.
    ShortCircuited,
    /// The caller's own rate limit refused the attempt.
    Throttled,
    CacheHit {
        cache: u32,
    },
    CacheMiss {
        cache: u32,
    },
    MessageSent {
        queue: u32,
    },
    /// The per-attempt timeout passed: the caller stopped waiting.
    TimedOut,
    /// The call's overall deadline passed: it fails, whatever is left.
    DeadlinePassed,
    /// The edge's retry limit (throttle, budget or quota) refused a retry.
    RetryRefused,
    /// This attempt's failure opened the caller's circuit breaker.
    BreakerOpened,
    /// The message the request sent, received by a consumer (its n-th receive).
    MessageReceived {
        queue: u32,
        receive: u32,
    },
    /// …deleted after processing, or moved to the dead-letter queue.
    MessageDeleted {
        queue: u32,
    },
    MessageDeadLettered {
        queue: u32,
    },
    /// A gate held the attempt back this long before passing it on: a
    /// bulkhead's line, a shaper's wait for the attempt's turn.
    HeldByGate {
        gate: Gate,
        wait_ns: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: SimTime,
    pub span: u32,
    pub kind: MarkKind,
    /// Spans opened before it, which orders it among spans opened at the
    /// same instant.
    pub after_spans: u32,
}

/// One traced request.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedRequest {
    pub source: u32,
    /// Its place among the requests started after warm-up (1 for the first).
    pub number: u64,
    pub started_at: SimTime,
    /// When and how it ended, if it did.
    pub ended: Option<(SimTime, Result<(), Failure>)>,
    /// By id: a span's id is its index.
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
}

/// Every traced request of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceLog {
    pub selection: TraceSelection,
    /// Requests started after warm-up so far.
    pub seen: u64,
    pub requests: Vec<TracedRequest>,
}

impl TraceLog {
    pub fn new(selection: TraceSelection) -> TraceLog {
        TraceLog {
            selection,
            seen: 0,
            requests: Vec::new(),
        }
    }

    /// A request starts: traced if it is one of the sample.
    pub fn admit(&mut self, source: u32, now: SimTime, measured: bool) -> TraceRef {
        if !measured {
            return TraceRef::NONE;
        }
        self.seen += 1;
        let full = self.requests.len() as u32 >= self.selection.count;
        let skipped = !(self.seen - 1).is_multiple_of(u64::from(self.selection.every));
        let other = self.selection.only.is_some_and(|n| n != self.seen);
        if full || skipped || other || now < self.selection.from {
            return TraceRef::NONE;
        }
        self.requests.push(TracedRequest {
            source,
            number: self.seen,
            started_at: now,
            ended: None,
            spans: Vec::new(),
            marks: Vec::new(),
        });
        TraceRef {
            request: self.requests.len() as u32 - 1,
            span: NO_SPAN,
        }
    }

    /// Opens a span under `parent`'s span (none for the root call).
    pub fn open(&mut self, parent: TraceRef, kind: SpanKind, now: SimTime) -> TraceRef {
        let request = &mut self.requests[parent.request as usize];
        request.spans.push(Span {
            parent: (parent.span != NO_SPAN).then_some(parent.span),
            kind,
            start: now,
            end: None,
        });
        TraceRef {
            request: parent.request,
            span: request.spans.len() as u32 - 1,
        }
    }

    /// Closes a span, with what became of it.
    pub fn close(&mut self, span: TraceRef, kind: SpanKind, now: SimTime) {
        let span = &mut self.requests[span.request as usize].spans[span.span as usize];
        debug_assert!(span.end.is_none(), "a span closes once");
        span.kind = kind;
        span.end = Some(now);
    }

    /// The span `span` was opened under (its request's root if none).
    pub fn parent_of(&self, span: TraceRef) -> TraceRef {
        let parent = self.requests[span.request as usize].spans[span.span as usize].parent;
        TraceRef {
            request: span.request,
            span: parent.unwrap_or(NO_SPAN),
        }
    }

    pub fn kind_of(&self, span: TraceRef) -> SpanKind {
        self.requests[span.request as usize].spans[span.span as usize].kind
    }

    pub fn mark(&mut self, span: TraceRef, kind: MarkKind, now: SimTime) {
        let request = &mut self.requests[span.request as usize];
        let after_spans = request.spans.len() as u32;
        request.marks.push(Mark {
            at: now,
            span: span.span,
            kind,
            after_spans,
        });
    }

    /// The request has its result.
    pub fn end(&mut self, request: u32, result: Result<(), Failure>, now: SimTime) {
        self.requests[request as usize].ended = Some((now, result));
    }
}
