//! Traced requests, as a Chrome trace (Trace Event Format JSON, which
//! ui.perfetto.dev and `chrome://tracing` open) and as a text waterfall.
//!
//! Both read a run's [`TraceLog`]. In the Chrome trace every service
//! instance is a process and every traced request a thread in it, so one
//! request's slices at one instance nest properly: the caller's call and
//! attempts, the callee's queue wait and service, and the calls that
//! service makes. Flow arrows join each attempt to the queue wait or
//! service it caused; instants mark rejections, retries and their backoff,
//! cache hits and misses and message sends. Times are microseconds of
//! simulated time. A span still open when the run ended is drawn to the
//! end and marked `unfinished`.

use serde_json::{Value, json};

use crate::engine::SimTime;
use crate::model::metrics::Failure;
use crate::model::trace::{AttemptEnd, MarkKind, Span, SpanKind, TraceLog, TracedRequest};
use crate::scenario::Scenario;
use crate::scenario::spec::Gate;

use super::text::format_ms;

/// Each instance's name, `service[i]`, by its index across all services.
fn instance_names(scenario: &Scenario) -> Vec<String> {
    scenario
        .services
        .iter()
        .flat_map(|s| (0..s.instance_slots()).map(move |i| format!("{}[{i}]", s.name)))
        .collect()
}

fn failure_name(failure: Failure) -> &'static str {
    match failure {
        Failure::Error => "error",
        Failure::Timeout => "timeout",
        Failure::Rejected => "rejected",
        Failure::DeadlineExceeded => "deadline exceeded",
        Failure::ShortCircuited => "short-circuited",
        Failure::Throttled => "throttled",
    }
}

fn result_text(result: Result<(), Failure>) -> String {
    match result {
        Ok(()) => "ok".to_string(),
        Err(failure) => format!("failed ({})", failure_name(failure)),
    }
}

/// Where a span is drawn: a source's track, or an instance's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Track {
    Source,
    Instance(u32),
}

fn track_of(request: &TracedRequest, span: u32) -> Track {
    let span_ref = &request.spans[span as usize];
    match span_ref.kind {
        SpanKind::Queued { instance } | SpanKind::Served { instance, .. } => {
            Track::Instance(instance)
        }
        SpanKind::Call { .. } | SpanKind::Attempt { .. } => match span_ref.parent {
            None => Track::Source,
            Some(parent) => track_of(request, parent),
        },
    }
}

/// The attempt whose work a span is part of at its instance (its lane),
/// or none on the source's track. One request's retries may wait at the
/// same instance at once, so each attempt's work there gets a thread of
/// its own, where its slices nest.
fn lane_of(request: &TracedRequest, span: u32) -> Option<u32> {
    let span_ref = &request.spans[span as usize];
    match (span_ref.kind, span_ref.parent) {
        (SpanKind::Queued { .. } | SpanKind::Served { .. }, parent) => parent,
        (_, None) => None,
        // A cache's fill may outlive the attempt whose miss started it.
        (SpanKind::Call { .. }, Some(parent))
            if matches!(
                request.spans[parent as usize].kind,
                SpanKind::Attempt { instance: None, .. }
            ) =>
        {
            Some(span)
        }
        (_, Some(parent)) => lane_of(request, parent),
    }
}

/// The thread of request `index` in `lane`.
fn thread_id(index: u64, lane: Option<u32>) -> u64 {
    (index + 1) * 1_000_000 + lane.map_or(0, |l| u64::from(l) + 1)
}

/// What a span is called, in the trace and the waterfall.
struct Names<'a> {
    scenario: &'a Scenario,
    instances: Vec<String>,
}

impl Names<'_> {
    fn edge(&self, edge: u32) -> (&str, &str) {
        let spec = &self.scenario.edges[edge as usize];
        (&spec.caller, &spec.target_name)
    }

    fn instance(&self, instance: u32) -> &str {
        self.instances
            .get(instance as usize)
            .map_or("?", String::as_str)
    }

    fn span(&self, span: &Span) -> String {
        match span.kind {
            SpanKind::Call { edge, .. } => {
                let (caller, target) = self.edge(edge);
                format!("{caller} → {target}")
            }
            SpanKind::Attempt {
                edge,
                number,
                instance,
                ..
            } => {
                let (_, target) = self.edge(edge);
                match instance {
                    Some(i) => format!("attempt {number} → {}", self.instance(i)),
                    None => format!("attempt {number} → {target}"),
                }
            }
            SpanKind::Queued { instance } => format!("queued at {}", self.instance(instance)),
            SpanKind::Served { instance, .. } => format!("served at {}", self.instance(instance)),
        }
    }

    /// How the span ended, in words.
    fn outcome(&self, span: &Span) -> String {
        if span.end.is_none() {
            return "unfinished at the end of the run".to_string();
        }
        match span.kind {
            SpanKind::Call { result: None, .. } => "cancelled (a parallel call failed)".into(),
            SpanKind::Call {
                result: Some(result),
                ..
            } => result_text(result),
            SpanKind::Attempt { end, .. } => match end {
                Some(AttemptEnd::Answered(result)) => result_text(result),
                Some(AttemptEnd::TimedOut) => "timed out".into(),
                Some(AttemptEnd::Abandoned) | None => "abandoned by its call".into(),
            },
            SpanKind::Queued { .. } => String::new(),
            SpanKind::Served {
                result, abandoned, ..
            } => {
                let mut text = result.map_or(String::new(), result_text);
                if abandoned {
                    text.push_str(", after its caller had given up (abandoned work)");
                }
                text
            }
        }
    }

    fn mark(&self, kind: MarkKind) -> String {
        match kind {
            MarkKind::Rejected { instance, why } => format!("{}: {why}", self.instance(instance)),
            MarkKind::RetryScheduled { delay_ns: 0 } => "retry at once (no backoff)".into(),
            MarkKind::RetryScheduled { delay_ns } => {
                format!(
                    "retry after {} of backoff",
                    format_ms(delay_ns as f64 / 1e6)
                )
            }
            MarkKind::ShortCircuited => "short-circuited: the circuit breaker is open".into(),
            MarkKind::TimedOut => "timeout: the caller stops waiting".into(),
            MarkKind::DeadlinePassed => "deadline: the call gives up".into(),
            MarkKind::RetryRefused => {
                "retry refused by the retry limit (throttle, budget or quota)".into()
            }
            MarkKind::BreakerOpened => "the circuit breaker opens".into(),
            MarkKind::MessageReceived { queue, receive } => format!(
                "message received from {} (receive {receive})",
                self.scenario.queues[queue as usize].name
            ),
            MarkKind::MessageDeleted { queue } => format!(
                "message processed and deleted from {}",
                self.scenario.queues[queue as usize].name
            ),
            MarkKind::MessageDeadLettered { queue } => format!(
                "message moved from {} to its dead-letter queue",
                self.scenario.queues[queue as usize].name
            ),
            MarkKind::Throttled => "throttled by the caller's own rate limit".into(),
            MarkKind::CacheHit { cache } => {
                format!("{} hit", self.scenario.caches[cache as usize].name)
            }
            MarkKind::CacheMiss { cache } => {
                format!("{} miss", self.scenario.caches[cache as usize].name)
            }
            MarkKind::MessageSent { queue } => {
                format!(
                    "message sent to {}",
                    self.scenario.queues[queue as usize].name
                )
            }
            MarkKind::HeldByGate { gate, wait_ns } => {
                let wait = format_ms(wait_ns as f64 / 1e6);
                let name = self.scenario.gates.name(gate);
                match gate {
                    Gate::Bulkhead(_) => format!("got a place at {name} after {wait} in line"),
                    Gate::Shaper(_) => format!("held back {wait} by {name} until its turn"),
                    Gate::RateLimiter(_) => format!("held back {wait} by {name}"),
                }
            }
        }
    }
}

/// A span's length: `0ms` rather than a bare 0.
fn span_ms(ms: f64) -> String {
    match ms {
        0.0 => "0ms".to_string(),
        _ => format_ms(ms),
    }
}

fn micros(at: SimTime) -> f64 {
    (at.as_nanos() as f64 / 1e3 * 1e3).round() / 1e3
}

/// The Chrome trace being built: metadata naming processes (sources, each
/// instance) and threads (each traced request), then the events, each with
/// the key that sorts it into its track's time order.
struct ChromeTrace<'a> {
    names: Names<'a>,
    ended_at: SimTime,
    meta: Vec<Value>,
    /// Tracks already named: (pid, tid), with tid 0 for the process.
    named: std::collections::BTreeSet<(u64, u64)>,
    events: Vec<((u64, u64), f64, f64, Value)>,
    flows: u64,
}

fn pid(track: Track) -> u64 {
    match track {
        Track::Source => 0,
        Track::Instance(i) => u64::from(i) + 1,
    }
}

impl ChromeTrace<'_> {
    /// Names a track the first time something is drawn on it.
    fn name_track(&mut self, track: Track, tid: u64, thread: &str) {
        let pid = pid(track);
        if self.named.insert((pid, 0)) {
            let process = match track {
                Track::Source => "sources",
                Track::Instance(i) => self.names.instance(i),
            };
            self.meta.push(json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": process}}));
        }
        if self.named.insert((pid, tid)) {
            self.meta.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": thread}}));
        }
    }

    fn request(&mut self, request: &TracedRequest, index: u64) {
        let source = &self.names.scenario.sources[request.source as usize].name;
        let names: Vec<String> = request.spans.iter().map(|s| self.names.span(s)).collect();
        let thread_name = |lane: Option<u32>| match lane {
            None => format!("request {} of {source}", request.number),
            Some(attempt) => format!("request {} · {}", request.number, names[attempt as usize]),
        };
        for (id, span) in request.spans.iter().enumerate() {
            let (track, lane) = (track_of(request, id as u32), lane_of(request, id as u32));
            let tid = thread_id(index, lane);
            let name = thread_name(lane);
            self.name_track(track, tid, &name);
            // A wait of no time says nothing.
            let empty_wait =
                matches!(span.kind, SpanKind::Queued { .. }) && span.end == Some(span.start);
            if !empty_wait {
                self.slice(span, track, tid);
            }
            if let Some(parent) = first_at_callee(request, id) {
                let from = track_of(request, parent);
                let from_tid = thread_id(index, lane_of(request, parent));
                self.flow(
                    (from, from_tid, micros(request.spans[parent as usize].start)),
                    (track, tid, micros(span.start)),
                );
            }
        }
        for mark in &request.marks {
            let track = track_of(request, mark.span);
            let tid = thread_id(index, lane_of(request, mark.span));
            let at = micros(mark.at);
            let event = json!({"ph": "i", "s": "t", "name": self.names.mark(mark.kind), "cat": "mark", "ts": at, "pid": pid(track), "tid": tid});
            self.events.push(((pid(track), tid), at, 0.0, event));
        }
    }

    fn slice(&mut self, span: &Span, track: Track, tid: u64) {
        let start = micros(span.start);
        let end = micros(span.end.unwrap_or(self.ended_at).max(span.start));
        let mut args = json!({"outcome": self.names.outcome(span)});
        if span.end.is_none() {
            args["unfinished"] = json!(true);
        }
        let event = json!({"ph": "X", "name": self.names.span(span), "cat": category(span), "ts": start, "dur": round3(end - start), "pid": pid(track), "tid": tid, "args": args});
        // Enclosing slices before those they hold: longest first at a tie.
        self.events
            .push(((pid(track), tid), start, -(end - start), event));
    }

    /// An arrow from an attempt to the first thing it caused at the callee.
    fn flow(
        &mut self,
        (from, from_tid, from_at): (Track, u64, f64),
        (to, to_tid, to_at): (Track, u64, f64),
    ) {
        self.flows += 1;
        let id = self.flows;
        let start = json!({"ph": "s", "name": "attempt", "cat": "flow", "id": id, "ts": from_at, "pid": pid(from), "tid": from_tid});
        let end = json!({"ph": "f", "bp": "e", "name": "attempt", "cat": "flow", "id": id, "ts": to_at, "pid": pid(to), "tid": to_tid});
        self.events
            .push(((pid(from), from_tid), from_at, 0.0, start));
        self.events.push(((pid(to), to_tid), to_at, 0.0, end));
    }
}

/// For a queue wait or service span that is the first its attempt caused,
/// the attempt's span id.
fn first_at_callee(request: &TracedRequest, id: usize) -> Option<u32> {
    let span = &request.spans[id];
    let parent = span.parent?;
    let at_callee = |s: &Span| matches!(s.kind, SpanKind::Queued { .. } | SpanKind::Served { .. });
    let earlier = request.spans[..id]
        .iter()
        .any(|s| s.parent == Some(parent) && at_callee(s));
    (at_callee(span) && !earlier).then_some(parent)
}

/// The traced requests of a run as Chrome Trace Event Format JSON.
pub fn chrome_trace(scenario: &Scenario, log: &TraceLog, ended_at: SimTime) -> String {
    let mut trace = ChromeTrace {
        names: Names {
            scenario,
            instances: instance_names(scenario),
        },
        ended_at,
        meta: Vec::new(),
        named: Default::default(),
        events: Vec::new(),
        flows: 0,
    };
    for (index, request) in log.requests.iter().enumerate() {
        trace.request(request, index as u64);
    }
    // Per track in time order.
    trace.events.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
    });
    let events = trace
        .meta
        .into_iter()
        .chain(trace.events.into_iter().map(|e| e.3));
    let document = json!({
        "traceEvents": events.collect::<Vec<Value>>(),
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "traced_requests": log.requests.len(),
            "note": "times are microseconds of simulated time",
        },
    });
    let mut text = serde_json::to_string_pretty(&document).expect("a trace serialises");
    text.push('\n');
    text
}

fn round3(value: f64) -> f64 {
    (value * 1e3).round() / 1e3
}

fn category(span: &Span) -> &'static str {
    match span.kind {
        SpanKind::Call { .. } => "call",
        SpanKind::Attempt { .. } => "attempt",
        SpanKind::Queued { .. } => "queue",
        SpanKind::Served { .. } => "service",
    }
}

/// Which traced request to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The n-th request after warm-up (1 for the first).
    Number(u64),
    Slowest,
    FirstFailed,
    /// The first request traced (the first from a given time on).
    First,
}

/// The index of the traced request `pick` names, if any.
pub fn pick_request(log: &TraceLog, pick: Pick) -> Option<usize> {
    let took = |r: &TracedRequest| r.ended.map(|(at, _)| at.since(r.started_at));
    match pick {
        Pick::Number(n) => log.requests.iter().position(|r| r.number == n),
        Pick::Slowest => (0..log.requests.len())
            .filter(|&i| took(&log.requests[i]).is_some())
            .max_by_key(|&i| (took(&log.requests[i]), std::cmp::Reverse(i))),
        Pick::FirstFailed => log
            .requests
            .iter()
            .position(|r| matches!(r.ended, Some((_, Err(_))))),
        Pick::First => (!log.requests.is_empty()).then_some(0),
    }
}

/// One request's life as indented text: every call, attempt, queue wait,
/// service and mark, with its time from the request's start.
pub fn waterfall(scenario: &Scenario, log: &TraceLog, index: usize) -> String {
    let names = Names {
        scenario,
        instances: instance_names(scenario),
    };
    let request = &log.requests[index];
    let source = &scenario.sources[request.source as usize].name;
    let outcome = match request.ended {
        Some((at, result)) => format!(
            "{} after {}",
            result_text(result),
            span_ms(at.since(request.started_at).as_millis_f64())
        ),
        None => "still in flight at the end of the run".to_string(),
    };
    let mut out = format!(
        "request {} of `{source}` after warm-up, started at {}: {outcome}\n",
        request.number,
        format_ms(request.started_at.as_nanos() as f64 / 1e6)
    );
    let lines = WaterfallLines {
        names: &names,
        request,
    };
    let roots: Vec<u32> = (0..request.spans.len() as u32)
        .filter(|&s| request.spans[s as usize].parent.is_none())
        .collect();
    for root in roots {
        lines.write(root, 1, &mut out);
    }
    out
}

struct WaterfallLines<'a> {
    names: &'a Names<'a>,
    request: &'a TracedRequest,
}

impl WaterfallLines<'_> {
    fn offset(&self, at: SimTime) -> String {
        let ms = at.since(self.request.started_at).as_millis_f64();
        let text = match ms {
            0.0 => "+0ms".to_string(),
            _ => format!("+{}", format_ms(ms)),
        };
        format!("{text:>9}")
    }

    /// The span, then its marks and children in time order.
    fn write(&self, span: u32, depth: usize, out: &mut String) {
        let s = &self.request.spans[span as usize];
        let indent = "  ".repeat(depth);
        let lasted = s
            .end
            .map(|end| format!(" for {}", span_ms(end.since(s.start).as_millis_f64())))
            .unwrap_or_default();
        let outcome = self.names.outcome(s);
        let outcome = match outcome.is_empty() {
            true => String::new(),
            false => format!(": {outcome}"),
        };
        // A queue wait of no time says nothing.
        let empty_wait = matches!(s.kind, SpanKind::Queued { .. }) && s.end == Some(s.start);
        if !empty_wait {
            out.push_str(&format!(
                "{} {indent}{}{lasted}{outcome}\n",
                self.offset(s.start),
                self.names.span(s)
            ));
        }
        // In time order, and at one instant in the order they happened: a
        // mark after the spans opened before it, before those opened after.
        let mut items: Vec<(SimTime, u64, u32)> = Vec::new();
        for (index, mark) in self.request.marks.iter().enumerate() {
            if mark.span == span {
                items.push((mark.at, 2 * u64::from(mark.after_spans), index as u32));
            }
        }
        for (child, c) in self.request.spans.iter().enumerate() {
            if c.parent == Some(span) {
                items.push((c.start, 2 * child as u64 + 1, child as u32));
            }
        }
        items.sort();
        for (at, order, index) in items {
            match order % 2 {
                0 => {
                    let mark = self.request.marks[index as usize];
                    out.push_str(&format!(
                        "{} {indent}  · {}\n",
                        self.offset(at),
                        self.names.mark(mark.kind)
                    ));
                }
                _ => self.write(index, depth + 1, out),
            }
        }
    }
}
