//! The scenario language as a JSON Schema (draft-07), for editors.
//!
//! `stampede schema` prints it; an editor with a YAML language server reads
//! it from a `# yaml-language-server: $schema=…` line and offers completion,
//! hover text and squiggles as the file is typed. The schema is written here
//! as one declarative table per raw type, with the defaults and meanings of
//! `docs/scenario-reference.md`, rather than derived from [`super::raw`]:
//! every raw leaf is located text, so the types there say nothing about
//! units or keywords. A test compares the tables with the keys serde accepts,
//! and the keyword lists come from the validators, so neither can drift.
//!
//! Values are typed loosely enough that every scenario the validator accepts
//! passes (a duration is a string with a unit, or the number 0), and tightly
//! enough to catch what an editor should: an unknown key, a missing unit, a
//! misspelt keyword.

use serde_json::{Map, Value, json};

use super::messaging::WhenFull;
use super::spec::{Class, ScalingMetric, Strategy};
use super::units::DIST_FAMILIES;
use super::validate::{fault_kind_keys, shape_kind_keys, words};

/// A decimal number as the unit parsers read it: digits with `_`, a point,
/// an exponent. Deliberately lenient; the validator has the last word.
const NUMBER: &str = r"[+-]?[0-9._]*[0-9][0-9._]*([eE][+-]?[0-9]+)?";
const DURATION_UNITS: &str = "(ns|us|µs|ms|s|m|min|h|d)";
const RATE_UNITS: &str = "(ms|s|sec|second|m|min|minute|h|hour)";

/// One key of a map in the scenario file.
struct Key {
    name: &'static str,
    schema: Value,
    description: &'static str,
    default: Option<Value>,
    required: bool,
}

fn key(name: &'static str, schema: Value, description: &'static str) -> Key {
    Key {
        name,
        schema,
        description,
        default: None,
        required: false,
    }
}

impl Key {
    fn default(mut self, value: impl Into<Value>) -> Key {
        self.default = Some(value.into());
        self
    }

    /// A key validation always asks for, whatever the other keys say.
    fn required(mut self) -> Key {
        self.required = true;
        self
    }

    /// The value's schema with the key's description and default. An
    /// optional key also takes `null` (`ttl:` with nothing after it), which
    /// the parser reads as the key left out: a variant resets a key so.
    fn into_schema(self) -> Value {
        let mut schema = if self.required {
            self.schema
        } else {
            nullable(self.schema)
        };
        if let Value::Object(fields) = &mut schema
            && !self.description.is_empty()
        {
            fields.insert("description".into(), self.description.into());
        }
        if let (Value::Object(fields), Some(default)) = (&mut schema, self.default) {
            fields.insert("default".into(), default);
        }
        schema
    }
}

/// `schema` or `null`. Maps and lists say so in their `type`, rather than in
/// an `anyOf` around them, so that a validator blames the key inside them
/// that is wrong, not the whole map; definitions (`$ref`) take `null`
/// themselves.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut fields) = schema else {
        return schema;
    };
    if let Some(Value::Array(choices)) = fields.get_mut("anyOf") {
        choices.push(json!({ "type": "null" }));
        return Value::Object(fields);
    }
    if fields.contains_key("$ref") {
        return Value::Object(fields);
    }
    match fields.get("type").and_then(Value::as_str) {
        Some(kind @ ("object" | "array")) => {
            fields.insert("type".into(), json!([kind, "null"]));
            Value::Object(fields)
        }
        _ => json!({ "anyOf": [Value::Object(fields), { "type": "null" }] }),
    }
}

/// A closed map: these keys and no others, as the raw types deny unknown ones.
fn object(description: &str, keys: Vec<Key>) -> Value {
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let properties: Map<String, Value> = keys
        .into_iter()
        .map(|key| (key.name.to_string(), key.into_schema()))
        .collect();
    let mut schema = json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// Each `kind` admits only its own keys besides `common`, as the
/// validator insists (a `period` on a spike is a mistake, not ignored).
fn keys_by_kind(
    mut schema: Value,
    kinds: &[&str],
    common: &[&str],
    own: fn(&str) -> &'static [&'static str],
) -> Value {
    let rules: Vec<Value> = kinds
        .iter()
        .map(|kind| {
            let allowed: Vec<&str> = common.iter().chain(own(kind)).copied().collect();
            json!({
                "if": { "properties": { "kind": { "const": kind } }, "required": ["kind"] },
                "then": { "propertyNames": { "enum": allowed } },
            })
        })
        .collect();
    schema["allOf"] = Value::Array(rules);
    schema
}

fn reference(definition: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{definition}") })
}

/// A map from component names (chosen by the user) to one kind of component.
fn named(definition: &str) -> Value {
    json!({ "type": "object", "additionalProperties": reference(definition) })
}

fn list_of(item: Value) -> Value {
    json!({ "type": "array", "items": item })
}

fn keyword(words: &[&str]) -> Value {
    json!({ "type": "string", "enum": words })
}

fn duration() -> Value {
    json!({
        "anyOf": [
            { "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*{DURATION_UNITS}?\s*$") },
            { "const": 0 },
        ],
    })
}

fn rate() -> Value {
    json!({ "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*/\s*{RATE_UNITS}\s*$") })
}

/// A distribution expression's string form: a bare duration or `family(…)`.
fn distribution_pattern() -> String {
    let families = DIST_FAMILIES
        .iter()
        .chain(&["const", "exponential", "hyperexponential"])
        .copied()
        .collect::<Vec<_>>()
        .join("|");
    format!(r"^\s*({NUMBER}\s*{DURATION_UNITS}?|({families})\s*\(.*\))\s*$")
}

fn distribution() -> Value {
    json!({
        "anyOf": [
            { "type": "string", "pattern": distribution_pattern() },
            { "const": 0 },
        ],
    })
}

fn probability() -> Value {
    json!({
        "anyOf": [
            { "type": "number", "minimum": 0, "maximum": 1 },
            { "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*%?\s*$") },
        ],
    })
}

/// A plain number or a percentage (an autoscaling target).
fn number_or_percent() -> Value {
    json!({
        "anyOf": [
            { "type": "number" },
            { "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*%?\s*$") },
        ],
    })
}

fn count() -> Value {
    json!({
        "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*$") },
        ],
    })
}

fn number() -> Value {
    json!({
        "anyOf": [
            { "type": "number" },
            { "type": "string", "pattern": format!(r"^\s*{NUMBER}\s*$") },
        ],
    })
}

fn boolean() -> Value {
    json!({
        "anyOf": [
            { "type": "boolean" },
            { "type": "string", "enum": ["true", "false", "yes", "no", "on", "off"] },
        ],
    })
}

/// The name of another component. Names may be all digits, which YAML reads
/// as a number.
fn name() -> Value {
    json!({ "type": ["string", "number"] })
}

/// Free text: YAML may read a title such as `2024` as a number.
fn text() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

/// The JSON Schema of a scenario file.
pub fn scenario_schema() -> Value {
    let definitions: Map<String, Value> = definitions()
        .into_iter()
        .map(|(name, schema)| (name.to_string(), nullable(schema)))
        .collect();
    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        "http://json-schema.org/draft-07/schema#".into(),
    );
    schema.insert("title".into(), "stampede scenario".into());
    if let Value::Object(top_level) = top_level() {
        schema.extend(top_level);
    }
    schema.insert("definitions".into(), Value::Object(definitions));
    Value::Object(schema)
}

/// [`scenario_schema`] as `stampede schema` prints it and
/// `docs/stampede.schema.json` holds it: indented, with a final newline.
pub fn scenario_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Every named definition: each is one raw type of [`super::raw`].
fn definitions() -> Vec<(&'static str, Value)> {
    vec![
        ("limits", limits()),
        ("source", source()),
        ("job", job()),
        ("poll", poll()),
        ("shape", shape()),
        ("service", service()),
        ("queue", service_queue()),
        ("concurrency_limit", concurrency_limit()),
        ("slowdown_with_load", slowdown_with_load()),
        ("pauses", pauses()),
        ("autoscaling", autoscaling()),
        ("call", call()),
        ("retry", retry()),
        ("throttle", throttle()),
        ("budget", budget()),
        ("quota", quota()),
        ("retry_breaker", retry_breaker()),
        ("circuit_breaker", circuit_breaker()),
        ("hedging", hedging()),
        ("call_rate_limit", call_rate_limit()),
        ("network", network()),
        ("load_balancer", load_balancer()),
        ("outlier_detection", outlier_detection()),
        ("health_check", health_check()),
        ("cache", cache()),
        ("rate_limiter", rate_limiter()),
        ("bulkhead", bulkhead()),
        ("shaper", shaper()),
        ("message_queue", message_queue()),
        ("redrive", redrive()),
        ("topic", topic()),
        ("consumer", consumer()),
        ("redelivery", redelivery()),
        ("price", price()),
        ("schedule", schedule()),
        ("fault", fault()),
        ("variant", variant()),
        ("sweep", sweep()),
    ]
}

fn top_level() -> Value {
    object(
        "A stampede scenario: a system of sources, services and queues, run by `stampede run`. See docs/scenario-reference.md.",
        vec![
            key("name", text(), "Title of the reports.").default("unnamed scenario"),
            key("description", text(), "Free text."),
            key("seed", count(), "Root seed, a whole number from 0 to 18446744073709551615; every component and purpose draws from its own stream derived from it. `stampede run --seed N` overrides it.").default(1),
            key("duration", duration(), "Required: total simulated time, warm-up included (at most 720h), e.g. `60s`.").required(),
            key("warmup", duration(), "Statistics ignore everything before this instant.").default(0),
            key("deadline_propagation", boolean(), "Each request carries the instant its caller stops waiting; services drop requests whose deadline has passed and calls inherit it.").default(false),
            key("sample_interval", duration(), "One time-series row per interval (default 1s, or duration ÷ 2000 if longer); at most 100,000 rows."),
            key("limits", reference("limits"), ""),
            key("templates", json!({}), "A place for YAML anchors (`base: &base {workers: 4}`), merged elsewhere with `<<: *base`; ignored otherwise."),
            key("sources", named("source"), "Required: where requests come from, by name (at least one).").required(),
            key("services", named("service"), "Who serves requests, by name (required unless the scenario has queues)."),
            key("load_balancers", named("load_balancer"), "Load balancers spreading calls over the instances of their backends, by name."),
            key("caches", named("cache"), "Caches in front of services or load balancers, by name."),
            key("rate_limiters", named("rate_limiter"), "Token-bucket rate limiters in front of services or load balancers, by name."),
            key("bulkheads", named("bulkhead"), "Caps on the attempts in progress through a point in front of a service or load balancer (Envoy `max_requests`, resilience4j `Bulkhead`), by name."),
            key("shapers", named("shaper"), "Pacers in front of services or load balancers that space attempts evenly at a rate, holding back a burst rather than refusing it (nginx `limit_req` with `burst`, without `nodelay`), by name."),
            key("queues", named("message_queue"), "Message queues (SQS semantics), by name."),
            key("topics", named("topic"), "Topics that copy each message to their subscribed queues, by name."),
            key("consumers", named("consumer"), "Consumer groups polling queues, by name."),
            key("faults", list_of(reference("fault")), "Scheduled failures: outages, slowdowns, errors, crashes, latency, capacity loss, cache flushes, pauses."),
            key("cost", named("price"), "Prices of what the run uses, by service, consumer group or queue name, in any currency: the report gives the cost of the measured window."),
            key("variants", named("variant"), "Named sets of overrides, compared side by side by `stampede compare`."),
            key("sweep", reference("sweep"), ""),
            key("expect", list_of(json!({ "type": "string" })), "Thresholds `stampede check` tests on every variant, e.g. `p99(users.latency) < 300ms`, `goodput > 180/s`; `p99(users.latency)[a] < p99(users.latency)[b]` compares two variants."),
        ],
    )
}

fn limits() -> Value {
    object(
        "Safety limits: the run stops with a message (and exit code 2) when one is reached.",
        vec![
            key("max_events", count(), "The run stops after this many events.").default(2_000_000_000u64),
            key("max_in_flight", count(), "The run stops when more requests than this are in flight (an unbounded backlog); at most 100,000,000.").default(1_000_000),
            key("max_messages", count(), "The run stops when queues hold more messages than this; at most 1,000,000,000.").default(10_000_000),
            key("max_events_at_one_instant", count(), "The run stops after this many events in a row at one simulated instant (a loop that takes no simulated time).").default(10_000_000),
        ],
    )
}

/// The call policy keys shared by sources, calls and caches.
fn policy_keys() -> Vec<Key> {
    vec![
        key(
            "timeout_per_attempt",
            duration(),
            "The caller abandons an attempt after this long, and may retry (Envoy `per_try_timeout`). None by default.",
        ),
        key(
            "deadline",
            duration(),
            "The whole call, retries and backoff included, fails after this long (gRPC deadline). None by default.",
        ),
        key("retry", reference("retry"), ""),
        key("circuit_breaker", reference("circuit_breaker"), ""),
        key("hedging", reference("hedging"), ""),
        key("rate_limit", reference("call_rate_limit"), ""),
        key("network", reference("network"), ""),
    ]
}

fn source() -> Value {
    let mut keys = vec![
        key("target", name(), "Required: the service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic that receives the requests.").required(),
        key("class", keyword(&Class::NAMES), "How critical its requests are (Google SRE criticality), downstream calls included: `critical`, `default` or `sheddable`. Services with `queue.discipline: priority` serve the most critical first and drop the least critical first."),
        key("arrivals", json!({ "anyOf": [keyword(&words::ARRIVALS), { "type": "string", "pattern": distribution_pattern() }] }), "Open loop: `poisson` (exponential gaps), `constant` (evenly spaced), or a distribution of the gaps such as `lognormal(median=4ms, p99=40ms)` (then leave out `rate`).").default("poisson"),
        key("rate", rate(), "Open loop: mean arrival rate, e.g. `200/s`; required for `poisson` and `constant` unless a `piecewise` or `trace` shape gives it."),
        key("shape", reference("shape"), ""),
        key("keys", json!({ "type": "string", "pattern": r"^\s*(zipf|uniform)\s*\(.*\)\s*$" }), "Which key each request asks for: `zipf(count=100000, exponent=1.1)` or `uniform(count=1000)`. By default every request has its own key."),
        key("clients", count(), "Closed loop: the number of clients (1 to 10,000,000), each waiting for its answer before the next request."),
        key("think_time", distribution(), "Closed loop: distribution of the pause between an answer and the next request.").default(0),
    ];
    keys.extend(policy_keys());
    keys.push(key("job", reference("job"), ""));
    object(
        "A traffic source: open loop (`rate`) or closed loop (`clients`), and the policy of its call.",
        keys,
    )
}

fn job() -> Value {
    object(
        "Each request submits an asynchronous job: `target` (an API) accepts it and answers with an id, the job waits in `queue` for a consumer, and the client polls `status` until it sees the job finished or failed, or its `deadline` passes. The source's latency is then the user's wait for the job.",
        vec![
            key("queue", name(), "Required: the queue the API puts each job on, once it has accepted it.").required(),
            key("status", name(), "Required: the status endpoint clients poll (a service, load balancer, cache or rate limiter).").required(),
            key("poll", reference("poll"), ""),
            key("deadline", duration(), "The client stops waiting for its job this long after submitting it (a failure: `deadline_exceeded`). By default it waits until the job ends."),
        ],
    )
}

fn poll() -> Value {
    object(
        "How long a client waits before each poll: every `interval`, growing by `backoff_multiplier` up to `backoff_max`, or as the status service's `Retry-After` says.",
        vec![
            key("interval", duration(), "The first wait, and every wait when constant; with `retry_after`, the shortest.").default("1s"),
            key("backoff_multiplier", number(), "Each wait this many times the last (1 to 100); 1 polls at a constant interval.").default(1),
            key("backoff_max", duration(), "The longest wait (default `interval`, or 1 minute when waits grow or follow `retry_after`)."),
            key("jitter", keyword(&words::JITTERS), "`none`, `full`, `equal` or `decorrelated`, as for retries.").default("none"),
            key("retry_after", boolean(), "The status service answers with `Retry-After`: the time it expects the job to take, from the recent jobs' mean time to finish, less the job's age; the client waits that long, between `interval` and `backoff_max`.").default(false),
            key("timeout", duration(), "A poll the status service has not answered within this long fails; the client polls again after its next wait. By default a poll waits for its answer."),
        ],
    )
}

fn shape() -> Value {
    let schema = object(
        "A rate that varies in time (open loop with `arrivals: poisson`). A key that does not belong to the shape's `kind` is an error.",
        vec![
            key("kind", keyword(&words::SHAPE_KINDS), "Required: `spike` (at, duration, multiplier), `step` (at, multiplier), `ramp` (at, duration, multiplier), `sine` (at, period, amplitude), `piecewise` (points, interpolate) or `trace` (file, interpolate).").required(),
            key("at", duration(), "When the shape starts, from the start of the run (required; 0 for sine)."),
            key("duration", duration(), "How long a spike lasts, or a ramp climbs."),
            key("multiplier", number(), "The rate is multiplied by this (0 to 1000)."),
            key("period", duration(), "Sine: the period of the wave."),
            key("amplitude", probability(), "Sine: rate × (1 + amplitude × sin(…)), 0 to 1 or 0% to 100%."),
            key("points", list_of(json!({ "type": "array", "items": [duration(), rate()], "minItems": 2, "maxItems": 2 })), "Piecewise: `[time, rate]` pairs, times strictly increasing, e.g. `[[0s, 100/s], [30s, 400/s]]`."),
            key("file", json!({ "type": "string" }), "Trace: a CSV file of `time,rate` rows, relative to the scenario file's folder."),
            key("interpolate", keyword(&words::INTERPOLATIONS), "`step` holds each rate until the next point; `linear` draws straight lines between points.").default("step"),
        ],
    );
    keys_by_kind(schema, &words::SHAPE_KINDS, &["kind"], shape_kind_keys)
}

fn balancing_keys() -> Vec<Key> {
    vec![
        key(
            "virtual_nodes",
            count(),
            "With `consistent_hash`: points per instance on the hash ring.",
        )
        .default(100),
        key("outlier_detection", reference("outlier_detection"), ""),
        key("health_check", reference("health_check"), ""),
    ]
}

fn service() -> Value {
    let mut keys = vec![
        key(
            "instances",
            count(),
            "Identical copies, each with its own workers and queue.",
        )
        .default(1),
        key(
            "balancer",
            keyword(&Strategy::NAMES),
            "How calls to the service are spread over its instances.",
        )
        .default("round_robin"),
    ];
    keys.extend(balancing_keys());
    keys.extend([
        key("workers", count(), "Requests one instance serves at once.").default(1),
        key("queue", reference("queue"), ""),
        key("concurrency_limit", reference("concurrency_limit"), ""),
        key("autoscaling", reference("autoscaling"), ""),
        key("service_time", distribution(), "Required: distribution of the local work per request, e.g. `exp(mean=5ms)`.").required(),
        key("slowdown_with_load", reference("slowdown_with_load"), ""),
        key("pauses", reference("pauses"), ""),
        key("error_rate", probability(), "Probability that a request fails when its local work is done.").default(0),
        key("call_mode", keyword(&words::CALL_MODES), "`sequential`: calls one after another, the first failure fails the request; `parallel`: all at once.").default("sequential"),
        key("calls", list_of(reference("call")), "Downstream calls made while serving each request."),
    ]);
    object(
        "A service: instances of workers with a queue, serving requests.",
        keys,
    )
}

fn service_queue() -> Value {
    object(
        "The waiting room of each instance.",
        vec![
            key("capacity", count(), "Requests that may wait per instance; when full, arrivals are rejected. 0 means no waiting room.").default(1000),
            key("discipline", keyword(&words::DISCIPLINES), "`fifo` serves the oldest first, `lifo` the newest, `adaptive_lifo` the newest once more than `lifo_threshold` wait, `processor_sharing` serves everyone at once at a shared speed, `priority` the most critical class first.").default("fifo"),
            key("timeout", duration(), "A request that waited longer than this is dropped unserved (its caller sees a rejection). None by default."),
            key("lifo_threshold", count(), "With `adaptive_lifo`: the queue length above which the newest is served first.").default(10),
        ],
    )
}

fn concurrency_limit() -> Value {
    object(
        "An admission limit on the requests an instance holds at once; arrivals beyond it are shed.",
        vec![
            key(
                "kind",
                keyword(&words::CONCURRENCY_LIMITS),
                "`fixed` or `aimd` (Netflix concurrency-limits).",
            )
            .default("fixed"),
            key("limit", count(), "The limit (required for `fixed`)."),
            key("initial_limit", count(), "`aimd`: the starting limit.").default(20),
            key("min_limit", count(), "`aimd`: the lowest limit.").default(20),
            key("max_limit", count(), "`aimd`: the highest limit.").default(200),
            key(
                "backoff_ratio",
                number(),
                "`aimd`: the limit is multiplied by this when a request is slow, shed or dropped.",
            )
            .default(0.9),
            key(
                "latency_threshold",
                duration(),
                "`aimd`: requests slower than this shrink the limit.",
            )
            .default("5s"),
        ],
    )
}

fn pauses() -> Value {
    object(
        "Stop-the-world pauses of each instance at random (garbage collection, compaction): nothing is served while paused, work in service is frozen, arrivals queue.",
        vec![
            key("every", distribution(), "Required: the time from the end of one pause to the start of the next, e.g. `exp(mean=30s)`.").required(),
            key("duration", distribution(), "Required: the length of each pause, e.g. `500ms` or `lognormal(median=200ms, p99=2s)`.").required(),
        ],
    )
}

fn slowdown_with_load() -> Value {
    object(
        "Service time that grows with the requests in service at the instance (the Universal Scalability Law): a job started with n in service takes its drawn time × (1 + contention·(n−1) + coherency·n(n−1)) + per_request·(n−1).",
        vec![
            key("contention", number(), "σ: the share of a service time each other request in service adds (serialisation: locks, a shared core).").default(0),
            key("coherency", number(), "κ: the share each pair of requests adds (crosstalk: cache invalidation, coordination); above 0, throughput falls past √((1−σ)/κ) in service.").default(0),
            key("per_request", duration(), "β: a fixed time added per other request in service (context switches).").default("0"),
        ],
    )
}

fn autoscaling() -> Value {
    object(
        "Kubernetes HPA-style autoscaling of the service's instances.",
        vec![
            key("metric", keyword(&ScalingMetric::NAMES), "`utilisation` (busy workers ÷ workers), `queue_length` (waiting per instance) or `concurrency` (waiting or in service, per instance).").default("utilisation"),
            key("target", number_or_percent(), "Required: the metric's target, a percentage for utilisation, a count for the others.").required(),
            key("evaluation_period", duration(), "How often the controller evaluates (at least 10ms).").default("15s"),
            key("tolerance", probability(), "No change while metric ÷ target is within 1 ± tolerance.").default("10%"),
            key("scale_up_stabilization", duration(), "A scale-up uses the lowest recommendation of this window.").default("0s"),
            key("scale_down_stabilization", duration(), "A scale-down uses the highest recommendation of this window.").default("300s"),
            key("min_instances", count(), "The fewest instances.").default(1),
            key("max_instances", count(), "Required: the most instances.").required(),
            key("cold_start", duration(), "Time from being added to taking traffic.").default("0s"),
        ],
    )
}

fn call() -> Value {
    let mut keys = vec![
        key(
            "target",
            name(),
            "Required: the service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic called.",
        )
        .required(),
        key(
            "fire_and_forget",
            boolean(),
            "Start the call and go on without waiting for its answer (an asynchronous send).",
        )
        .default(false),
        key(
            "probability",
            probability(),
            "Make the call only this share of the time (`30%`): a cache miss, a feature flag, a branch.",
        )
        .default(1),
    ];
    keys.extend(policy_keys());
    object("A downstream call and its policy.", keys)
}

fn retry() -> Value {
    object(
        "Retries of a call (defaults are Envoy's: exponential backoff from 25ms, capped at 250ms, fully jittered). Use at most one of throttle, budget and quota.",
        vec![
            key("max_attempts", count(), "Attempts in all, the first included (1 to 100).").default(3),
            key("retry_on", list_of(keyword(&words::RETRY_ON)), "Which failures are retried: `error`, `timeout`, `rejected` (a full queue or a concurrency limit), `throttled` (a rate limit, a 429).").default(json!(words::RETRY_ON)),
            key("backoff", keyword(&words::BACKOFFS), "`none` (retry at once), `constant` (`backoff_base` each time) or `exponential`.").default("exponential"),
            key("backoff_base", duration(), "The first retry's delay.").default("25ms"),
            key("backoff_multiplier", number(), "Exponential growth per retry.").default(2),
            key("backoff_max", duration(), "Cap on the delay (default 10 × backoff_base)."),
            key("jitter", keyword(&words::JITTERS), "`none`; `full`: uniform(0, delay); `equal`: delay/2 + uniform(0, delay/2); `decorrelated` (exponential backoff only).").default("full"),
            key("throttle", reference("throttle"), ""),
            key("budget", reference("budget"), ""),
            key("quota", reference("quota"), ""),
            key("breaker", reference("retry_breaker"), ""),
        ],
    )
}

fn retry_breaker() -> Value {
    object(
        "A breaker on retries alone: while the edge's recent attempts fail at or above the threshold, retries are refused; first attempts always go.",
        vec![
            key(
                "failure_rate_threshold",
                probability(),
                "Refuse retries while at least this share of the window failed.",
            )
            .default("50%"),
            key(
                "sliding_window_size",
                count(),
                "The last this-many attempts are the window.",
            )
            .default(100),
            key(
                "minimum_number_of_calls",
                count(),
                "Attempts seen before the breaker may refuse.",
            )
            .default(100),
        ],
    )
}

fn throttle() -> Value {
    object(
        "gRPC retry throttling: a token bucket shared by the edge; retries only while more than half the tokens remain.",
        vec![
            key(
                "max_tokens",
                number(),
                "The bucket's size; every failed attempt takes a token.",
            )
            .default(10),
            key(
                "token_ratio",
                number(),
                "Tokens a successful attempt gives back.",
            )
            .default(0.1),
        ],
    )
}

fn budget() -> Value {
    object(
        "Envoy's retry budget: retries in progress limited to a share of the calls in progress.",
        vec![
            key(
                "budget_percent",
                probability(),
                "Retries in progress may be at most this share of the calls in progress…",
            )
            .default("20%"),
            key(
                "min_retry_concurrency",
                count(),
                "…or this many, whichever is more.",
            )
            .default(3),
        ],
    )
}

fn quota() -> Value {
    object(
        "The AWS SDK standard retry quota: a pool each retry draws from.",
        vec![
            key("capacity", count(), "The pool's size.").default(500),
            key(
                "retry_cost",
                count(),
                "What a retry after an error or rejection takes.",
            )
            .default(5),
            key(
                "timeout_retry_cost",
                count(),
                "What a retry after a timeout takes.",
            )
            .default(10),
            key(
                "no_retry_increment",
                count(),
                "What a call that succeeds first time adds.",
            )
            .default(1),
        ],
    )
}

fn circuit_breaker() -> Value {
    object(
        "A Resilience4j-style count-based circuit breaker: while open, attempts fail at once as short-circuited.",
        vec![
            key(
                "failure_rate_threshold",
                probability(),
                "Opens when the failure share of the window reaches this.",
            )
            .default("50%"),
            key("sliding_window_size", count(), "Attempts in the window.").default(100),
            key(
                "minimum_number_of_calls",
                count(),
                "Attempts the window needs before the breaker may open (at most the window size).",
            )
            .default(100),
            key(
                "wait_duration_in_open_state",
                duration(),
                "How long it stays open before letting probes through.",
            )
            .default("60s"),
            key(
                "permitted_calls_in_half_open_state",
                count(),
                "Attempts let through while half-open.",
            )
            .default(10),
            key(
                "slow_call_duration_threshold",
                duration(),
                "An attempt at least this long is slow.",
            )
            .default("60s"),
            key(
                "slow_call_rate_threshold",
                probability(),
                "Opens when the slow share of the window reaches this.",
            )
            .default("100%"),
        ],
    )
}

fn network() -> Value {
    object(
        "The network the call crosses: each attempt takes `latency` to arrive and a fresh draw of it for the answer to return, and is lost on the way with probability `loss` (the caller notices by its timeout).",
        vec![
            key("latency", distribution(), "One-way latency, e.g. `exp(mean=1ms)` or `500us`.").default("0"),
            key("loss", probability(), "The probability an attempt is lost on its way (below 100%); needs `timeout_per_attempt` or `deadline`.").default(0),
        ],
    )
}

fn price() -> Value {
    object(
        "What one component costs: a service per instance-hour and per million requests, a consumer group per poller-hour, a queue per million API requests (sends, receive calls, delete calls).",
        vec![
            key("per_instance_hour", number(), "Per hour of each running instance (a service's instances taking traffic, a consumer group's pollers).").default(0),
            key("per_million_requests", number(), "Per million requests: attempts reaching a service, or a queue's API calls (a batch counts once).").default(0),
        ],
    )
}

fn redelivery() -> Value {
    object(
        "How long a failed message stays hidden before its next delivery (a worker's SQS ChangeMessageVisibility): after its n-th receive, backoff_base × backoff_multiplier^(n−1), capped at backoff_max, jittered.",
        vec![
            key(
                "backoff_base",
                duration(),
                "The hiding after the first failed receive.",
            )
            .default("1s"),
            key(
                "backoff_multiplier",
                number(),
                "Growth per receive (1 to 100).",
            )
            .default(2),
            key(
                "backoff_max",
                duration(),
                "The cap, at most 12h (default 10 × backoff_base).",
            ),
            key(
                "jitter",
                keyword(&words::JITTERS),
                "`none`, `full`, `equal` or `decorrelated`, as for retries.",
            )
            .default("full"),
        ],
    )
}

fn call_rate_limit() -> Value {
    object(
        "The caller's own token bucket on the call (Guava `RateLimiter`): every attempt takes a token; one that finds none waits for the next if it comes within `max_wait`, else fails at once as `throttled`.",
        vec![
            key(
                "rate",
                rate(),
                "Required: tokens earned per second, e.g. `100/s`.",
            )
            .required(),
            key(
                "burst",
                count(),
                "Tokens the bucket holds (it starts full).",
            )
            .default(1),
            key(
                "max_wait",
                duration(),
                "The longest an attempt waits for a token; `0` fails at once.",
            )
            .default("0"),
        ],
    )
}

fn hedging() -> Value {
    object(
        "gRPC's hedging policy: another attempt every `hedging_delay` while none has answered. A call either retries or hedges.",
        vec![
            key("max_attempts", count(), "Attempts in all (at most 5).").default(2),
            key(
                "hedging_delay",
                duration(),
                "Required: the delay between hedged attempts.",
            )
            .required(),
        ],
    )
}

fn load_balancer() -> Value {
    let mut keys = vec![
        key(
            "strategy",
            keyword(&Strategy::NAMES),
            "How each call picks an instance among all the backends' instances.",
        )
        .default("round_robin"),
        key(
            "backends",
            list_of(name()),
            "Required: the services behind it.",
        )
        .required(),
        key(
            "weights",
            list_of(number()),
            "With `weighted_round_robin`: one weight per backend, in the order of `backends` (all 1 by default).",
        ),
    ];
    keys.extend(balancing_keys());
    object(
        "A load balancer spreading calls over the instances of its backends.",
        keys,
    )
}

fn outlier_detection() -> Value {
    object(
        "Envoy's outlier detection: eject instances that fail in a row.",
        vec![
            key(
                "consecutive_5xx",
                count(),
                "Failures in a row that eject an instance.",
            )
            .default(5),
            key(
                "interval",
                duration(),
                "How often ejections are reviewed (at least 10ms).",
            )
            .default("10s"),
            key(
                "base_ejection_time",
                duration(),
                "An ejection lasts this × the number of times the instance has been ejected.",
            )
            .default("30s"),
            key(
                "max_ejection_percent",
                probability(),
                "At most this share of instances ejected at once (one can always be).",
            )
            .default("10%"),
        ],
    )
}

fn health_check() -> Value {
    object(
        "Active health checking: probes take instances that are down out of rotation.",
        vec![
            key(
                "interval",
                duration(),
                "A probe per instance this often (at least 10ms).",
            )
            .default("5s"),
            key(
                "unhealthy_threshold",
                count(),
                "Failed probes in a row that take the instance out.",
            )
            .default(3),
            key(
                "healthy_threshold",
                count(),
                "Passed probes in a row that put it back.",
            )
            .default(2),
        ],
    )
}

fn cache() -> Value {
    let mut keys = vec![
        key("target", name(), "Required: the service or load balancer the cache fetches from on a miss.").required(),
        key("capacity", count(), "Entries held; when full, one is evicted for each new one.").default(10_000),
        key("eviction", keyword(&words::EVICTIONS), "`lru` (least recently used), `lfu` (least frequently used) or `fifo` (oldest insertion).").default("lru"),
        key("ttl", duration(), "An entry is found only until this long after it was filled (by default entries never expire)."),
        key("refresh_on_hit", boolean(), "A hit starts the entry's TTL again.").default(false),
        key("hit_latency", distribution(), "Distribution of the time a hit takes.").default("500us"),
        key("hit_ratio", probability(), "A quick sketch instead of real entries: each lookup hits with this probability."),
        key("start", keyword(&words::CACHE_STARTS), "`cold`: empty; `warm`: filled with the `capacity` most popular keys.").default("cold"),
        key("coalescing", boolean(), "Misses for a key already being fetched wait for that fetch (single flight).").default(false),
        key("stale_while_revalidate", duration(), "An entry up to this long past its TTL is served at once while one background call refreshes it.").default(0),
    ];
    keys.extend(policy_keys());
    object(
        "A cache in front of a target, and the policy of its calls on a miss.",
        keys,
    )
}

fn rate_limiter() -> Value {
    object(
        "A token bucket in front of a service or load balancer; an attempt that finds no token is rejected at once (a 429).",
        vec![
            key(
                "target",
                name(),
                "Required: the service or load balancer behind the limiter.",
            )
            .required(),
            key(
                "rate",
                rate(),
                "Required: tokens added per second, e.g. `200/s`.",
            )
            .required(),
            key(
                "burst",
                count(),
                "The bucket's size: how many attempts may pass at once after a quiet spell.",
            )
            .default(1),
        ],
    )
}

fn bulkhead() -> Value {
    object(
        "A cap on the attempts in progress through it, in front of a service or load balancer. An attempt holds its place until its caller has the answer or stops waiting; with every place taken it waits in line, or is rejected at once (Envoy's overflow 503).",
        vec![
            key(
                "target",
                name(),
                "Required: the service or load balancer behind the bulkhead.",
            )
            .required(),
            key(
                "max_concurrent",
                count(),
                "Required: attempts let through at once (Envoy `max_requests`, resilience4j `maxConcurrentCalls`).",
            )
            .required(),
            key(
                "max_waiting",
                count(),
                "Attempts that may wait in line for a place (Envoy `max_pending_requests`); more are rejected at once.",
            )
            .default(0),
            key(
                "max_wait",
                duration(),
                "How long an attempt may wait in line before it is rejected (resilience4j `maxWaitDuration`); without it, as long as its caller waits. Needs `max_waiting` above 0.",
            ),
        ],
    )
}

fn shaper() -> Value {
    object(
        "A pacer in front of a service or load balancer: attempts pass at most `rate` a second, evenly spaced; one that comes early is held back until its turn, and one whose turn is more than `max_delay` away is turned away at once as throttled.",
        vec![
            key(
                "target",
                name(),
                "Required: the service or load balancer behind the shaper.",
            )
            .required(),
            key(
                "rate",
                rate(),
                "Required: attempts let through per second, evenly spaced, e.g. `100/s`.",
            )
            .required(),
            key(
                "max_delay",
                duration(),
                "How long an attempt may be held back for its turn; one whose turn is further away is throttled (nginx's `burst` is `max_delay` × `rate`).",
            )
            .default("0"),
        ],
    )
}

fn message_queue() -> Value {
    object(
        "A message queue with Amazon SQS's semantics and key names.",
        vec![
            key("visibility_timeout", duration(), "How long a received message stays hidden.").default("30s"),
            key("delay", duration(), "Delivery delay of every message.").default(0),
            key("retention", duration(), "Messages this long after their first send expire (at most 30 days).").default("4d"),
            key("capacity", count(), "Messages held at most (unbounded by default)."),
            key("when_full", keyword(&WhenFull::NAMES), "With `capacity`: `drop_newest` refuses the new message, `drop_oldest` throws the oldest visible one away, `block` makes the producer wait for room.").default("drop_newest"),
            key("fifo", boolean(), "FIFO ordering within message groups.").default(false),
            key("message_group", keyword(&words::MESSAGE_GROUPS), "With `fifo`: `single` (one group) or `key` (the request key).").default("single"),
            key("redrive", reference("redrive"), ""),
        ],
    )
}

fn redrive() -> Value {
    object(
        "Move a message received too often to a dead-letter queue.",
        vec![
            key(
                "dead_letter_queue",
                name(),
                "Required: another queue; chains are allowed, loops are not.",
            )
            .required(),
            key(
                "max_receive_count",
                count(),
                "Required: receives before a message moves to the dead-letter queue (1 to 1000).",
            )
            .required(),
        ],
    )
}

fn topic() -> Value {
    object(
        "A topic that copies every message sent to it to each subscribed queue.",
        vec![key(
            "subscribers",
            list_of(name()),
            "The queues that receive a copy of every message.",
        )],
    )
}

fn consumer() -> Value {
    object(
        "A consumer group: pollers receiving batches from a queue and processing them.",
        vec![
            key("queue", name(), "Required: the queue it receives from.").required(),
            key(
                "pollers",
                count(),
                "Concurrent pollers, each processing one batch at a time.",
            )
            .default(1),
            key(
                "max_messages",
                count(),
                "Messages per receive: the batch size (up to 10,000).",
            )
            .default(1),
            key("wait_time", duration(), "Long-poll wait.").default("20s"),
            key(
                "batch_window",
                duration(),
                "Once a message is visible, wait up to this long for a full batch.",
            )
            .default(0),
            key(
                "empty_receive_delay",
                duration(),
                "Pause after an empty receive; required above zero with `wait_time: 0`.",
            )
            .default(0),
            key(
                "time_per_batch",
                distribution(),
                "Processing time paid once per batch.",
            )
            .default(0),
            key(
                "time_per_message",
                distribution(),
                "Processing time per message (at least one of the two is required).",
            )
            .default(0),
            key(
                "failure_rate",
                probability(),
                "Each message fails with this probability.",
            )
            .default(0),
            key(
                "batch_failure_rate",
                probability(),
                "The whole batch fails with this probability.",
            )
            .default(0),
            key(
                "poison_fraction",
                probability(),
                "This fraction of messages fails at every receive.",
            )
            .default(0),
            key(
                "calls",
                list_of(reference("call")),
                "Calls made for each message after its processing; a failed call fails the message.",
            ),
            key("schedule", reference("schedule"), ""),
            key("redelivery", reference("redelivery"), ""),
        ],
    )
}

fn schedule() -> Value {
    object(
        "Run as a scheduled batch job instead of polling continuously.",
        vec![
            key("every", duration(), "Run this often (at least 10ms)."),
            key(
                "first_at",
                duration(),
                "The first run (defaults to `every`).",
            ),
            key(
                "time_of_day",
                json!({ "type": "string", "pattern": r"^\s*[0-9]+:[0-9]+(:[0-9]+)?\s*$" }),
                "Daily at this time, `HH:MM` or `HH:MM:SS` (quote it: `\"17:30\"`); the run starts at 00:00.",
            ),
        ],
    )
}

fn fault() -> Value {
    let schema = object(
        "A fault: `{ kind: outage, target: db, at: 30s, duration: 10s }`.",
        vec![
            key("kind", keyword(&words::FAULT_KINDS), "Required: what goes wrong.").required(),
            key("target", name(), "Required: a service or consumer group (for `latency` the callee, for `flush` a cache).").required(),
            key("instance", count(), "One instance (or poller) of the target, 0-based; all of them if absent."),
            key("caller", name(), "For `latency`: only calls from this caller."),
            key("at", duration(), "Required: when the fault starts.").required(),
            key("duration", duration(), "Required: how long it lasts.").required(),
            key("mode", keyword(&words::OUTAGE_MODES), "For `outage`: `fail_fast` refuses arrivals, `hang` never answers them.").default("fail_fast"),
            key("factor", number(), "For `slowdown` (required): service times are multiplied by this."),
            key("error_rate", probability(), "For `errors` (required): the extra probability of failure."),
            key("latency", distribution(), "For `latency` (required): the extra delay of every affected attempt."),
            key("fraction", probability(), "For `capacity_loss` (required): the share of workers unavailable."),
        ],
    );
    let common = ["kind", "target", "at", "duration"];
    keys_by_kind(schema, &words::FAULT_KINDS, &common, fault_kind_keys)
}

fn variant() -> Value {
    object(
        "A variant: the scenario as written with some keys set to other values.",
        vec![
            key("description", text(), "Free text."),
            key(
                "set",
                json!({ "type": "object", "additionalProperties": true }),
                "Key path (`services.api.workers`; `*` and `[*]` match every key and item) → new value.",
            ),
            key(
                "expect",
                list_of(json!({ "type": "string" })),
                "This variant's thresholds for `stampede check`: added to the top-level ones; a line on the same measure replaces those.",
            ),
        ],
    )
}

fn sweep() -> Value {
    let scalar = json!({ "type": ["string", "number", "boolean"] });
    object(
        "The default parameter sweep of `stampede sweep`.",
        vec![
            key(
                "param",
                json!({ "type": "string" }),
                "The key path to vary, e.g. `sources.users.rate`.",
            ),
            key(
                "values",
                json!({ "anyOf": [{ "type": "string" }, list_of(scalar)] }),
                "A list of values, or a range `FROM..TO:STEP` such as `100/s..1000/s:100/s`.",
            ),
            key(
                "variants",
                list_of(json!({ "type": "string" })),
                "Variants to sweep (`base` is the scenario as written); all of them if absent.",
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use serde::de::{self, Deserialize, Deserializer, Visitor};

    use super::*;
    use crate::scenario::raw::*;

    /// A deserializer that only listens: serde's derive names a struct's keys
    /// when it asks for a struct, and the probe keeps them and gives up.
    struct FieldProbe<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for FieldProbe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only structs are probed"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probed"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    fn keys_of<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
        let mut fields: &'static [&'static str] = &[];
        let _ = T::deserialize(FieldProbe(&mut fields));
        fields.to_vec()
    }

    fn keys_in(schema: &Value) -> Vec<&str> {
        schema["properties"]
            .as_object()
            .expect("an object has properties")
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// Each definition beside the raw type it describes.
    fn raw_keys() -> Vec<(&'static str, Vec<&'static str>)> {
        vec![
            ("limits", keys_of::<RawLimits>()),
            ("source", keys_of::<RawSource>()),
            ("job", keys_of::<RawJob>()),
            ("poll", keys_of::<RawPoll>()),
            ("shape", keys_of::<RawShape>()),
            ("service", keys_of::<RawService>()),
            ("queue", keys_of::<RawQueue>()),
            ("concurrency_limit", keys_of::<RawConcurrencyLimit>()),
            ("slowdown_with_load", keys_of::<RawLoadSlowdown>()),
            ("pauses", keys_of::<RawPauses>()),
            ("autoscaling", keys_of::<RawAutoscaling>()),
            ("call", keys_of::<RawCall>()),
            ("retry", keys_of::<RawRetry>()),
            ("throttle", keys_of::<RawThrottle>()),
            ("budget", keys_of::<RawBudget>()),
            ("quota", keys_of::<RawQuota>()),
            ("retry_breaker", keys_of::<RawRetryBreaker>()),
            ("circuit_breaker", keys_of::<RawBreaker>()),
            ("hedging", keys_of::<RawHedging>()),
            ("call_rate_limit", keys_of::<RawCallRateLimit>()),
            ("network", keys_of::<RawNetwork>()),
            ("load_balancer", keys_of::<RawLoadBalancer>()),
            ("outlier_detection", keys_of::<RawOutlier>()),
            ("health_check", keys_of::<RawHealthCheck>()),
            ("cache", keys_of::<RawCache>()),
            ("rate_limiter", keys_of::<RawRateLimiter>()),
            ("bulkhead", keys_of::<RawBulkhead>()),
            ("shaper", keys_of::<RawShaper>()),
            ("message_queue", keys_of::<RawMessageQueue>()),
            ("redrive", keys_of::<RawRedrive>()),
            ("topic", keys_of::<RawTopic>()),
            ("consumer", keys_of::<RawConsumer>()),
            ("redelivery", keys_of::<RawRedelivery>()),
            ("price", keys_of::<RawPrice>()),
            ("schedule", keys_of::<RawSchedule>()),
            ("fault", keys_of::<RawFault>()),
            ("variant", keys_of::<RawVariant>()),
            ("sweep", keys_of::<RawSweep>()),
        ]
    }

    #[test]
    fn every_key_the_parser_accepts_is_in_the_schema_and_no_other() {
        let schema = scenario_schema();
        assert_eq!(keys_in(&schema), keys_of::<RawScenario>(), "top level");
        let definitions = schema["definitions"].as_object().unwrap();
        let described: Vec<&str> = raw_keys().iter().map(|(name, _)| *name).collect();
        let defined: Vec<&str> = definitions.keys().map(String::as_str).collect();
        assert_eq!(defined, described, "one definition per raw type");
        for (name, raw) in raw_keys() {
            assert_eq!(keys_in(&definitions[name]), raw, "definitions.{name}");
        }
    }

    #[test]
    fn every_reference_names_a_definition() {
        fn walk(value: &Value, definitions: &Map<String, Value>) {
            match value {
                Value::Object(fields) => {
                    if let Some(Value::String(target)) = fields.get("$ref") {
                        let name = target.trim_start_matches("#/definitions/");
                        assert!(definitions.contains_key(name), "dangling {target}");
                    }
                    fields.values().for_each(|v| walk(v, definitions));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, definitions)),
                _ => {}
            }
        }
        let schema = scenario_schema();
        walk(&schema, schema["definitions"].as_object().unwrap());
    }

    #[test]
    fn every_key_has_a_description() {
        let schema = scenario_schema();
        let objects =
            std::iter::once(&schema).chain(schema["definitions"].as_object().unwrap().values());
        for object in objects {
            for (name, key) in object["properties"].as_object().unwrap() {
                let described = key.get("description").is_some_and(|d| d != "");
                assert!(
                    described || key.get("$ref").is_some(),
                    "`{name}` has no description"
                );
            }
        }
    }
}
