//! Property tests for messaging: on random queues, topics and consumers,
//! every message ends exactly once, and runs are deterministic.
//!
//! Each generated scenario carries its own seed; proptest prints the whole
//! failing scenario, so every failure can be replayed with `stampede run`.

use crate::common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct QueueParams {
    visibility_ms: u32,
    delay_ms: u32,
    retention_ms: Option<u32>,
    /// (capacity, when_full)
    bound: Option<(u32, &'static str)>,
    fifo: &'static str,
    max_receive_count: Option<u32>,
}

#[derive(Debug, Clone)]
struct ConsumerParams {
    pollers: u32,
    max_messages: u32,
    /// wait_time, or a short poll with a pause; a batch window; a schedule.
    polling: &'static str,
    time_per_batch_ms: u32,
    time_per_message: &'static str,
    failure_rate: f64,
    batch_failure_rate: f64,
    poison_fraction: f64,
    /// A call per message: none, waited for, or fire-and-forget.
    call: &'static str,
}

fn queue_params() -> impl Strategy<Value = QueueParams> {
    (
        prop::sample::select(vec![50u32, 200, 1_000]),
        prop::sample::select(vec![0u32, 0, 100]),
        prop::option::of(prop::sample::select(vec![300u32, 1_500])),
        prop::option::of((
            1u32..200,
            prop::sample::select(vec!["drop_newest", "drop_oldest", "block"]),
        )),
        prop::sample::select(vec!["", "", "fifo: true", "fifo: true, message_group: key"]),
        prop::option::of(1u32..4),
    )
        .prop_map(
            |(visibility_ms, delay_ms, retention_ms, bound, fifo, max_receive_count)| QueueParams {
                visibility_ms,
                delay_ms,
                retention_ms,
                bound,
                fifo,
                max_receive_count,
            },
        )
}

fn consumer_params() -> impl Strategy<Value = ConsumerParams> {
    (
        1u32..6,
        1u32..20,
        prop::sample::select(vec![
            "wait_time: 20s",
            "wait_time: 0s, empty_receive_delay: 50ms",
            "wait_time: 1s, batch_window: 30ms",
            "schedule: { every: 400ms, first_at: 100ms }",
        ]),
        0u32..20,
        prop::sample::select(vec!["2ms", "exp(mean=3ms)", "uniform(min=0ms, max=10ms)"]),
        prop::sample::select(vec![0.0, 0.0, 0.1, 0.5, 1.0]),
        prop::sample::select(vec![0.0, 0.0, 0.2]),
        prop::sample::select(vec![0.0, 0.0, 0.1]),
        prop::sample::select(vec!["", "wait", "fire_and_forget"]),
    )
        .prop_map(
            |(
                pollers,
                max_messages,
                polling,
                time_per_batch_ms,
                time_per_message,
                failure_rate,
                batch_failure_rate,
                poison_fraction,
                call,
            )| ConsumerParams {
                pollers,
                max_messages,
                polling,
                time_per_batch_ms,
                time_per_message,
                failure_rate,
                batch_failure_rate,
                poison_fraction,
                call,
            },
        )
}

fn queue_yaml(name: &str, queue: &QueueParams) -> String {
    let mut keys = vec![
        format!("visibility_timeout: {}ms", queue.visibility_ms),
        format!("delay: {}ms", queue.delay_ms),
    ];
    if let Some(retention) = queue.retention_ms {
        keys.push(format!("retention: {retention}ms"));
    }
    if let Some((capacity, when_full)) = queue.bound {
        keys.push(format!("capacity: {capacity}, when_full: {when_full}"));
    }
    if !queue.fifo.is_empty() {
        keys.push(queue.fifo.to_string());
    }
    if let Some(count) = queue.max_receive_count {
        keys.push(format!(
            "redrive: {{ dead_letter_queue: dlq, max_receive_count: {count} }}"
        ));
    }
    format!("  {name}: {{ {} }}\n", keys.join(", "))
}

fn consumer_yaml(name: &str, queue: &str, consumer: &ConsumerParams) -> String {
    let call = match consumer.call {
        "wait" => {
            ", calls: [{ target: db, timeout_per_attempt: 20ms, retry: { max_attempts: 2 } }]"
        }
        "fire_and_forget" => ", calls: [{ target: db, fire_and_forget: true }]",
        _ => "",
    };
    // Every other consumer with failures hides them for a backoff.
    let redelivery = if consumer.pollers.is_multiple_of(2) && consumer.failure_rate > 0.0 {
        ", redelivery: { backoff_base: 20ms, backoff_max: 200ms, jitter: full }"
    } else {
        ""
    };
    format!(
        "  {name}: {{ queue: {queue}, pollers: {}, max_messages: {}, {}, time_per_batch: {}ms, time_per_message: \"{}\", failure_rate: {}, batch_failure_rate: {}, poison_fraction: {}{call}{redelivery} }}\n",
        consumer.pollers,
        consumer.max_messages,
        consumer.polling,
        consumer.time_per_batch_ms,
        consumer.time_per_message,
        consumer.failure_rate,
        consumer.batch_failure_rate,
        consumer.poison_fraction,
    )
}

/// A producer into `orders` (directly, through a topic, or through a
/// service's fire-and-forget send), its consumers, a dead-letter queue
/// with a consumer of its own, and perhaps a consumer crash.
#[allow(clippy::too_many_arguments)]
fn scenario_yaml(
    seed: u64,
    rate: u32,
    warmup_ms: u32,
    route: &str,
    queue: &QueueParams,
    consumers: &[ConsumerParams],
    crash: bool,
    keys: bool,
) -> String {
    let target = match route {
        "topic" => "events",
        "service" => "api",
        _ => "orders",
    };
    let keys = if keys {
        ", keys: uniform(count=20)"
    } else {
        ""
    };
    let mut text = format!(
        "seed: {seed}\nduration: 3s\nwarmup: {warmup_ms}ms\nsources:\n  src: {{ target: {target}, rate: {rate}/s, timeout_per_attempt: 200ms{keys} }}\nservices:\n  db: {{ workers: 4, service_time: exp(mean=2ms), queue: {{ capacity: 20 }} }}\n  api: {{ workers: 8, service_time: 1ms, calls: [{{ target: orders, fire_and_forget: true }}] }}\ntopics:\n  events: {{ subscribers: [orders, audit] }}\nqueues:\n"
    );
    text.push_str(&queue_yaml("orders", queue));
    text.push_str("  audit: { capacity: 50, when_full: drop_oldest }\n  dlq: {}\nconsumers:\n");
    for (index, consumer) in consumers.iter().enumerate() {
        text.push_str(&consumer_yaml(&format!("c{index}"), "orders", consumer));
    }
    text.push_str("  dlq-reader: { queue: dlq, time_per_message: 1ms }\n");
    if crash {
        text.push_str("faults:\n  - { kind: crash, target: c0, at: 800ms, duration: 700ms }\n  - { kind: slowdown, target: c0, instance: 0, at: 1800ms, duration: 500ms, factor: 4 }\n");
    }
    text
}

fn any_scenario() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        20u32..2_000,
        prop::sample::select(vec![0u32, 0, 500]),
        prop::sample::select(vec!["queue", "topic", "service"]),
        queue_params(),
        prop::collection::vec(consumer_params(), 1..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seed, rate, warmup_ms, route, queue, consumers, crash, keys)| {
                scenario_yaml(
                    seed, rate, warmup_ms, route, &queue, &consumers, crash, keys,
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every message ends exactly once: sent + moved in from redrive =
    /// deleted + expired + dead-lettered + dropped + held at the end (blocked
    /// sends included). Requests and calls still balance, fire-and-forget
    /// calls included, and no batch exceeds its consumer's `max_messages`.
    #[test]
    fn every_message_ends_exactly_once(yaml in any_scenario()) {
        let scenario = scenario_from(&yaml);
        let (_, summary) = run(&scenario);
        prop_assert!(summary.stopped_early.is_none(), "stopped: {:?}", summary.stopped_early);
        for q in &summary.queues {
            let ins = q.sent + q.dead_letters_in;
            let outs = q.deleted + q.expired + q.dead_lettered + q.dropped + q.in_queue_at_end + q.blocked_at_end;
            prop_assert_eq!(ins, outs, "queue {}: {:?}", &q.name, q);
            prop_assert!(q.empty_receives <= q.receives);
        }
        let orders = &summary.queues[0];
        let largest = scenario.consumers.iter().filter(|c| c.queue == 0).map(|c| u64::from(c.max_messages)).max().unwrap();
        prop_assert!(orders.batch_size_max <= largest);
        for consumer in &summary.consumers {
            prop_assert!(consumer.messages_succeeded + consumer.messages_failed <= consumer.messages);
        }
        for source in &summary.sources {
            let ended = source.succeeded + source.failed.total() + source.in_flight_at_end;
            prop_assert_eq!(source.requests, ended, "source {}", &source.name);
        }
        for call in &summary.calls {
            let ended = call.succeeded + call.failed.total() + call.cancelled + call.in_flight_at_end;
            prop_assert_eq!(call.calls, ended, "call {} → {}", &call.caller, &call.target);
        }
    }

    /// The same scenario and seed give the same bytes.
    #[test]
    fn queue_runs_are_deterministic(yaml in any_scenario()) {
        let scenario = scenario_from(&yaml);
        prop_assert_eq!(run(&scenario).1.to_json(), run(&scenario).1.to_json());
    }
}
