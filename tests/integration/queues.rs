//! Message queues, topics and consumers: conservation of messages, redrive
//! after exactly `max_receive_count` receives, duplicates from a short
//! visibility timeout, retention, FIFO order, batch sizes, long polling,
//! backpressure, crashes, fan-out, scheduled jobs, queueing theory and
//! determinism.

use crate::common::*;
use stampede::report::queues::QueueSummary;
use stampede::report::summary::Summary;

/// A producer at `rate` into `orders`, with the queue and consumer keys given.
fn queued(rate: &str, queue: &str, consumer: &str) -> String {
    format!(
        "duration: 60s\nsources:\n  producer: {{ target: orders, rate: {rate} }}\nservices:\n  db: {{ workers: 20, service_time: exp(mean=5ms) }}\nqueues:\n  orders: {{ {queue} }}\n  dlq: {{}}\nconsumers:\n  worker: {{ queue: orders, {consumer} }}\n"
    )
}

fn queue<'a>(summary: &'a Summary, name: &str) -> &'a QueueSummary {
    summary.queues.iter().find(|q| q.name == name).unwrap()
}

/// sent + moved in = deleted + expired + dead-lettered + dropped + held at the end.
fn assert_conserved(summary: &Summary, case: &str) {
    for q in &summary.queues {
        let ins = q.sent + q.dead_letters_in;
        let outs = q.deleted
            + q.expired
            + q.dead_lettered
            + q.dropped
            + q.in_queue_at_end
            + q.blocked_at_end;
        assert_eq!(
            ins, outs,
            "{case}: queue {} does not balance: {q:?}",
            q.name
        );
    }
}

#[test]
fn every_message_ends_exactly_once() {
    let redrive =
        "redrive: { dead_letter_queue: dlq, max_receive_count: 2 }, visibility_timeout: 2s";
    let cases = [
        ("plain", "", "pollers: 2, time_per_message: 5ms"),
        (
            "failures and redrive",
            redrive,
            "pollers: 4, max_messages: 10, time_per_batch: 10ms, time_per_message: 2ms, failure_rate: 0.2, batch_failure_rate: 0.05",
        ),
        (
            "fifo",
            "fifo: true, visibility_timeout: 1s",
            "pollers: 4, max_messages: 5, time_per_message: 1ms, failure_rate: 0.1",
        ),
        (
            "drop newest",
            "capacity: 50, when_full: drop_newest",
            "time_per_message: 20ms",
        ),
        (
            "drop oldest",
            "capacity: 50, when_full: drop_oldest",
            "time_per_message: 20ms",
        ),
        (
            "block",
            "capacity: 50, when_full: block",
            "time_per_message: 20ms",
        ),
        ("retention", "retention: 3s", "time_per_message: 20ms"),
        ("delay", "delay: 2s", "pollers: 2, time_per_message: 5ms"),
        (
            "short poll",
            "",
            "wait_time: 0s, empty_receive_delay: 200ms, time_per_message: 5ms",
        ),
        (
            "batch window",
            "",
            "max_messages: 10, batch_window: 100ms, time_per_batch: 20ms",
        ),
        (
            "calls",
            redrive,
            "pollers: 3, time_per_message: 1ms, calls: [{ target: db, timeout_per_attempt: 8ms }]",
        ),
    ];
    for (case, queue_keys, consumer_keys) in cases {
        let text = queued("100/s", queue_keys, consumer_keys);
        let (_, summary) = run(&scenario_from(&format!("{text}warmup: 5s\n")));
        assert!(queue(&summary, "orders").sent > 4_000, "{case}");
        assert_conserved(&summary, case);
    }
}

/// Ten messages a second for ten seconds, then none, into a queue whose
/// consumer fails everything.
fn always_failing(max_receive_count: u32) -> Summary {
    let text = format!(
        "duration: 60s\nsources:\n  producer:\n    target: orders\n    shape: {{ kind: piecewise, interpolate: step, points: [[0s, 10/s], [10s, 0/s]] }}\nqueues:\n  orders: {{ visibility_timeout: 1s, redrive: {{ dead_letter_queue: dlq, max_receive_count: {max_receive_count} }} }}\n  dlq: {{}}\nconsumers:\n  worker: {{ queue: orders, pollers: 3, max_messages: 10, time_per_message: 10ms, failure_rate: 1 }}\n"
    );
    run(&scenario_from(&text)).1
}

#[test]
fn a_message_that_always_fails_reaches_the_dead_letter_queue_after_exactly_max_receive_count_receives()
 {
    for max_receive_count in [1, 3, 5] {
        let summary = always_failing(max_receive_count);
        let orders = queue(&summary, "orders");
        let dlq = queue(&summary, "dlq");
        assert!(orders.sent > 50);
        assert_eq!(orders.dead_lettered, orders.sent);
        assert_eq!(orders.deleted, 0);
        assert_eq!(
            orders.messages_received,
            u64::from(max_receive_count) * orders.sent,
            "max_receive_count {max_receive_count}"
        );
        assert_eq!(dlq.dead_letters_in, orders.sent);
        assert_eq!(dlq.in_queue_at_end, orders.sent);
    }
}

#[test]
fn poison_messages_fail_every_time_and_the_rest_get_through() {
    let text = queued(
        "100/s",
        "visibility_timeout: 1s, redrive: { dead_letter_queue: dlq, max_receive_count: 3 }",
        "pollers: 2, max_messages: 10, time_per_message: 1ms, poison_fraction: 0.05",
    );
    let (_, summary) = run(&scenario_from(&text));
    let orders = queue(&summary, "orders");
    let poisoned = orders.dead_lettered as f64 / orders.sent as f64;
    // 6,000 messages, 5% poison: sd 0.0028; those sent in the last 3s are not yet moved.
    assert!((poisoned - 0.05).abs() < 0.012, "{poisoned}");
    assert_eq!(orders.duplicates, 0);
    assert!(
        orders.receives_per_message <= 1.0001,
        "{}",
        orders.receives_per_message
    );
}

#[test]
fn processing_slower_than_the_visibility_timeout_causes_duplicates() {
    let run_with = |visibility_timeout: &str| {
        let text = queued(
            "2/s",
            &format!("visibility_timeout: {visibility_timeout}"),
            "pollers: 8, time_per_message: 3s",
        );
        run(&scenario_from(&text)).1
    };
    let short = run_with("2s");
    let orders = queue(&short, "orders");
    assert!(orders.duplicates > 50, "{orders:?}");
    assert!(orders.receives_per_message > 1.5);
    let long = run_with("10s");
    let orders = queue(&long, "orders");
    assert_eq!(orders.duplicates, 0);
    assert_eq!(orders.receives_per_message, 1.0);
}

#[test]
fn messages_older_than_the_retention_period_expire() {
    // No consumer keeps up: 100/s arrive, one poller takes 100ms each.
    let text = queued("100/s", "retention: 10s", "time_per_message: 100ms");
    let (_, summary) = run(&scenario_from(&text));
    let orders = queue(&summary, "orders");
    assert!(orders.expired > 4_000, "{orders:?}");
    assert!(orders.age_max_s <= 10.0, "{}", orders.age_max_s);
    // What is left was sent in the last 10s.
    assert!(orders.in_queue_at_end < 1_200, "{}", orders.in_queue_at_end);
    assert!(orders.latency.max_ms.unwrap() <= 10_000.0);
}

#[test]
fn a_fifo_queue_keeps_order_where_a_standard_one_does_not() {
    // A failed message locks its FIFO group until its visibility timeout ends.
    let consumer =
        "pollers: 4, max_messages: 5, time_per_message: exp(mean=2ms), failure_rate: 0.05";
    let cases = [
        ("visibility_timeout: 100ms", true),
        ("visibility_timeout: 100ms, fifo: true", false),
    ];
    for (keys, reorders) in cases {
        let (_, summary) = run(&scenario_from(&queued("200/s", keys, consumer)));
        let orders = queue(&summary, "orders");
        assert!(orders.deleted > 5_000, "{keys}: {orders:?}");
        assert_eq!(orders.out_of_order > 0, reorders, "{keys}: {orders:?}");
    }
    // Grouped by key, order holds within each of ten groups, and groups
    // are processed in parallel.
    let text = queued(
        "200/s",
        "visibility_timeout: 100ms, fifo: true, message_group: key",
        consumer,
    )
    .replace("rate: 200/s", "rate: 200/s, keys: uniform(count=10)");
    let (_, summary) = run(&scenario_from(&text));
    let orders = queue(&summary, "orders");
    assert_eq!(orders.out_of_order, 0);
    assert!(orders.deleted > 5_000);
}

#[test]
fn batches_never_exceed_max_messages_and_fill_up_under_a_backlog() {
    for max in [1, 4, 10, 50] {
        let consumer =
            format!("pollers: 2, max_messages: {max}, time_per_batch: 50ms, time_per_message: 1ms");
        let (_, summary) = run(&scenario_from(&queued("2000/s", "", &consumer)));
        let orders = queue(&summary, "orders");
        assert_eq!(orders.batch_size_max, max, "max_messages {max}");
    }
}

#[test]
fn a_long_poll_returns_as_soon_as_a_message_arrives() {
    // One message a second; processing takes 10ms.
    let long = queued("1/s", "", "wait_time: 20s, time_per_message: 10ms");
    let (_, summary) = run(&scenario_from(&long));
    let orders = queue(&summary, "orders");
    assert!(
        orders.latency.max_ms.unwrap() < 10.1,
        "{:?}",
        orders.latency
    );
    // A long poll ends empty only after waiting: at most one per 20s here.
    assert!(orders.empty_receives <= 3, "{}", orders.empty_receives);
    // A short poll every second finds the message 0.5s late on average.
    let short = queued(
        "1/s",
        "",
        "wait_time: 0s, empty_receive_delay: 1s, time_per_message: 10ms",
    );
    let (_, summary) = run(&scenario_from(&short));
    let orders = queue(&summary, "orders");
    assert!(
        (orders.latency.mean_ms.unwrap() - 510.0).abs() < 120.0,
        "{:?}",
        orders.latency
    );
    assert!(orders.empty_receives > 20);
}

#[test]
fn a_full_queue_drops_the_newest_the_oldest_or_blocks_the_producer() {
    let consumer = "time_per_message: 20ms";
    let run_with = |policy: &str| {
        let text = queued(
            "100/s",
            &format!("capacity: 20, when_full: {policy}"),
            consumer,
        )
        .replace(
            "target: orders,",
            "target: orders, timeout_per_attempt: 1s,",
        );
        run(&scenario_from(&text)).1
    };
    let newest = run_with("drop_newest");
    let q = queue(&newest, "orders");
    assert!(q.dropped > 2_000, "{q:?}");
    // The producer hears each drop as a rejection.
    assert_eq!(newest.sources[0].failed.rejected, q.dropped);
    let oldest = run_with("drop_oldest");
    let q = queue(&oldest, "orders");
    assert!(q.dropped > 2_000);
    assert_eq!(oldest.sources[0].failed.total(), 0);
    let block = run_with("block");
    let q = queue(&block, "orders");
    assert!(q.blocked > 2_000, "{q:?}");
    // Blocked producers give up at their 1s timeout, and each such send is dropped.
    assert!(block.sources[0].failed.timeout > 1_000);
    assert_eq!(block.sources[0].failed.timeout, q.dropped);
    assert_eq!(block.sources[0].failed.rejected, 0);
}

#[test]
fn a_crashed_consumer_loses_its_batches_and_the_messages_come_back() {
    let text = format!(
        "{}faults:\n  - {{ kind: crash, target: worker, at: 20s, duration: 10s }}\n",
        queued(
            "50/s",
            "visibility_timeout: 5s",
            "pollers: 2, max_messages: 10, time_per_batch: 100ms"
        )
    );
    let (_, summary) = run(&scenario_from(&text));
    let orders = queue(&summary, "orders");
    let worker = &summary.consumers[0];
    assert!(worker.messages_lost_in_crash > 0);
    // Nothing was deleted twice and everything sent before the last second got through.
    assert_eq!(orders.duplicates, 0);
    assert!(orders.sent - orders.deleted < 100, "{orders:?}");
    // The backlog of the 10s outage drained afterwards.
    let drain = orders.drain.as_ref().unwrap();
    assert!(drain.backlog_peak >= 400.0, "{drain:?}");
    assert!(drain.drained, "{drain:?}");
}

#[test]
fn a_topic_copies_every_message_to_each_subscriber() {
    let text = "duration: 30s\nsources:\n  producer: { target: events, rate: 100/s }\ntopics:\n  events: { subscribers: [billing, audit] }\nqueues:\n  billing: {}\n  audit: { capacity: 10, when_full: drop_newest }\nconsumers:\n  billing-worker: { queue: billing, time_per_message: 1ms }\n  audit-worker: { queue: audit, time_per_message: 30ms }\n";
    let (_, summary) = run(&scenario_from(text));
    let (billing, audit) = (queue(&summary, "billing"), queue(&summary, "audit"));
    assert_eq!(billing.sent, summary.sources[0].succeeded);
    assert_eq!(audit.sent, billing.sent);
    // The slow subscriber drops; the other is untouched by it.
    assert!(audit.dropped > 500);
    assert_eq!(billing.dropped, 0);
    assert_eq!(summary.sources[0].failed.total(), 0);
}

#[test]
fn a_scheduled_job_processes_everything_accumulated_at_each_run() {
    let text = queued(
        "100/s",
        "",
        "pollers: 2, max_messages: 10, time_per_message: 1ms, schedule: { every: 10s }",
    )
    .replace("duration: 60s", "duration: 105s");
    let (_, summary) = run(&scenario_from(&text));
    let orders = queue(&summary, "orders");
    // A message waits for the next run: 5s on average, plus a part of the
    // half-second drain.
    assert!(
        (orders.latency.mean_ms.unwrap() - 5_250.0).abs() < 400.0,
        "{:?}",
        orders.latency
    );
    assert!(orders.depth_max >= 900, "{}", orders.depth_max);
    // Each run takes what was visible when it started, and stops there.
    assert_eq!(orders.empty_receives, 0);
    assert!(orders.messages_per_receive > 9.0);
}

/// One poller taking one message at a time with exponential processing is
/// an M/M/1 queue: the mean time from send to delete is 1 / (μ − λ).
#[test]
fn one_poller_is_an_mm1_queue() {
    let text = queued("100/s", "", "time_per_message: exp(mean=8ms)")
        .replace("duration: 60s", "duration: 300s\nwarmup: 10s");
    let scenario = scenario_from(&text);
    let latencies = replicate(&scenario, 10, |_, summary| {
        queue(summary, "orders").latency.mean_ms.unwrap()
    });
    assert_matches_theory(
        "M/M/1 sojourn via a queue",
        &latencies,
        1_000.0 / (125.0 - 100.0),
        0.15,
    );
}

#[test]
fn a_queue_run_is_deterministic() {
    let text = format!(
        "{}faults:\n  - {{ kind: crash, target: worker, instance: 1, at: 20s, duration: 5s }}\n",
        queued(
            "300/s",
            "visibility_timeout: 1s, capacity: 500, when_full: drop_oldest, redrive: { dead_letter_queue: dlq, max_receive_count: 3 }",
            "pollers: 4, max_messages: 10, batch_window: 20ms, time_per_batch: 10ms, time_per_message: exp(mean=3ms), failure_rate: 0.1, calls: [{ target: db, timeout_per_attempt: 10ms, retry: { max_attempts: 2 } }]",
        )
    );
    let scenario = scenario_from(&text);
    let first = serde_json::to_string(&run(&scenario).1).unwrap();
    let second = serde_json::to_string(&run(&scenario).1).unwrap();
    assert_eq!(first, second);
}

/// `stampede check` holds a queue to its thresholds: here, a visibility
/// timeout shorter than processing fails `duplicates(orders) <= 0`.
#[test]
fn check_fails_a_queue_that_duplicates_work() {
    let text = format!(
        "{}expect:\n  - duplicates(orders) <= 0\n  - p99(orders.latency) < 1m\n",
        queued(
            "2/s",
            "visibility_timeout: 2s",
            "pollers: 8, time_per_message: 3s"
        )
    );
    let file = write_temp(&text);
    let output = stampede()
        .args(["check", file.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  duplicates(orders) <= 0"), "{stdout}");
    assert!(
        stdout.contains("PASS  p99(orders.latency) < 1m"),
        "{stdout}"
    );
}

/// Messages held and sends blocked on a full queue both count against
/// `limits.max_messages`: a topic feeding a blocking queue whose consumer
/// cannot keep up stops with a message instead of growing without bound.
#[test]
fn a_backlog_that_never_drains_stops_at_the_message_limit() {
    let text = "duration: 600s\nlimits: { max_messages: 5000 }\nsources:\n  p: { target: t, rate: 100/s }\ntopics:\n  t: { subscribers: [q] }\nqueues:\n  q: { capacity: 100, when_full: block }\nconsumers:\n  c: { queue: q, time_per_message: 1s }\n";
    let (outcome, summary) = run(&scenario_from(text));
    let reason = summary.stopped_early.unwrap();
    assert!(reason.contains("limits.max_messages"), "{reason}");
    // About 99 sends a second are left waiting: the limit is reached near 50s.
    let stopped_s = outcome.ended_at.as_secs_f64();
    assert!((40.0..60.0).contains(&stopped_s), "{stopped_s}");
}

/// Poison messages with exponential redelivery backoff and no jitter: each
/// is hidden 1s, 2s, 4s after its first three receives, so its fourth
/// receive comes 7s after its first and the next receive, 8s later, moves it
/// to the dead-letter queue 15s after the first. Messages arrive at 1s, 2s,
/// …; by 19.5s the first four are dead-lettered. With the default 30s
/// visibility timeout, none is.
#[test]
fn redelivery_backoff_hides_failed_messages_for_growing_times() {
    let text = |redelivery: &str| {
        format!(
            "duration: 19500ms\nsources:\n  jobs: {{ target: work, arrivals: constant, rate: 1/s }}\nqueues:\n  work: {{ redrive: {{ dead_letter_queue: dead, max_receive_count: 4 }} }}\n  dead: {{}}\nconsumers:\n  workers: {{ queue: work, pollers: 20, time_per_message: 0, poison_fraction: 100%{redelivery} }}\n"
        )
    };
    let (_, backoff) = run(&scenario_from(&text(
        ", redelivery: { backoff_base: 1s, backoff_multiplier: 2, jitter: none }",
    )));
    let (_, plain) = run(&scenario_from(&text("")));
    let work = |s: &stampede::report::summary::Summary| {
        s.queues.iter().find(|q| q.name == "work").unwrap().clone()
    };
    assert_eq!(work(&backoff).dead_lettered, 4);
    assert_eq!(work(&plain).dead_lettered, 0);
}

/// Bad redelivery values are located and explained.
#[test]
fn bad_redelivery_values_are_located() {
    let cases = [
        ("{ backoff_base: 0s }", "must be more than zero"),
        ("{ backoff_max: 13h }", "12h"),
        ("{ backoff_multiplier: 0.5 }", "out of range"),
        ("{ jitter: ful }", "did you mean `full`"),
        ("{ base: 1s }", "unknown key `base`"),
    ];
    for (redelivery, fragment) in cases {
        let text = format!(
            "duration: 10s\nsources:\n  jobs: {{ target: work, rate: 1/s }}\nqueues:\n  work: {{}}\nconsumers:\n  workers: {{ queue: work, time_per_message: 1ms, redelivery: {redelivery} }}\n"
        );
        let stderr = assert_invalid(&text, fragment);
        assert!(stderr.contains("consumers.workers.redelivery"), "{stderr}");
    }
}

/// Cost on a deterministic scenario equals the hand-computed sums: two api
/// instances for an hour at 0.05 plus 36,000 requests at 0.20 per million
/// (0.1072), three pollers for an hour at 0.02 (0.06), and the queue's API
/// calls at 0.40 per million.
#[test]
fn cost_is_price_times_use() {
    let scenario = scenario_from(
        "duration: 3600s\nsources:\n  users: { target: api, arrivals: constant, rate: 10/s }\n  events: { target: orders, arrivals: constant, rate: 5/s }\nservices:\n  api: { instances: 2, workers: 4, service_time: 1ms }\nqueues:\n  orders: {}\nconsumers:\n  workers: { queue: orders, pollers: 3, max_messages: 10, time_per_message: 1ms }\ncost:\n  api: { per_instance_hour: 0.05, per_million_requests: 0.20 }\n  workers: { per_instance_hour: 0.02 }\n  orders: { per_million_requests: 0.40 }\n",
    );
    let (_, summary) = run(&scenario);
    let cost = summary.cost.expect("the scenario is priced");
    let item = |name: &str| {
        cost.items
            .iter()
            .find(|i| i.component == name)
            .unwrap()
            .clone()
    };
    assert_eq!(item("api").requests, 36_000);
    assert_eq!(item("api").instance_hours, 2.0);
    assert!((item("api").cost - 0.1072).abs() < 1e-9);
    assert!((item("workers").cost - 0.06).abs() < 1e-9);
    let queue = item("orders");
    let sends = summary.queues[0].sent;
    // A send, a receive and a delete per message, give or take the last.
    assert!(
        queue.requests.abs_diff(3 * sends) <= 3,
        "{} calls for {sends} sends",
        queue.requests
    );
    assert!((queue.cost - queue.requests as f64 * 0.4e-6).abs() < 1e-9);
    let sum: f64 = cost.items.iter().map(|i| i.cost).sum();
    assert!((cost.total - sum).abs() < 1e-9);
    let succeeded: u64 = summary.sources.iter().map(|s| s.succeeded).sum();
    let per_1000 = cost.per_1000_requests_succeeded.unwrap();
    assert!((per_1000 - cost.total / succeeded as f64 * 1000.0).abs() < 1e-6);
}

/// Prices name a service, consumer group or queue, with the prices its
/// kind can have.
#[test]
fn bad_prices_are_located() {
    let cases = [
        ("apii: { per_instance_hour: 1 }", "did you mean `api`"),
        (
            "orders: { per_instance_hour: 1 }",
            "priced per million requests",
        ),
        ("workers: { per_million_requests: 1 }", "per poller-hour"),
        ("api: { per_instance_hour: -1 }", "out of range"),
        ("api: { per_hour: 1 }", "unknown key `per_hour`"),
    ];
    for (price, fragment) in cases {
        let text = format!(
            "duration: 10s\nsources:\n  u: {{ target: api, rate: 1/s }}\nservices:\n  api: {{ service_time: 1ms }}\nqueues:\n  orders: {{}}\nconsumers:\n  workers: {{ queue: orders, time_per_message: 1ms }}\ncost:\n  {price}\n"
        );
        assert_invalid(&text, fragment);
    }
}

/// `expect:` can gate cost; on a scenario that prices nothing it is an
/// error, located at the threshold.
#[test]
fn cost_thresholds_need_prices_and_gate_the_cost() {
    let priced = write_temp(
        "duration: 100s\nsources:\n  u: { target: api, arrivals: constant, rate: 10/s }\nservices:\n  api: { service_time: 1ms }\ncost:\n  api: { per_instance_hour: 36 }\nexpect:\n  - cost < 1.01\n  - cost > 0.99\n  - cost_per_1000_requests < 1.02\n",
    );
    let output = stampede().arg("check").arg(priced.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_invalid(
        "duration: 100s\nsources:\n  u: { target: api, rate: 10/s }\nservices:\n  api: { service_time: 1ms }\nexpect:\n  - cost < 1\n",
        "needs prices: add a `cost:` block",
    );
}
