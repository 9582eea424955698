//! Bad scenarios: each must be reported at the right line, column and key,
//! with a useful message and, for a misspelling, the right suggestion.

use stampede::scenario::load_str;

const VALID_TAIL: &str = "sources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { workers: 2, service_time: 5ms }\n";

struct Case {
    yaml: &'static str,
    line: u64,
    column: u64,
    path: &'static str,
    message: &'static str,
    help: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 5,
            column: 33,
            path: "queues.orders.visibility_timeout",
            message: "must be more than zero",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 5,
            column: 48,
            path: "queues.orders.when_full",
            message: "`when_full` applies to a queue with a `capacity`",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 5,
            column: 64,
            path: "queues.orders.redrive",
            message: "dead-letter queues form a loop: orders → orders",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 7,
            column: 34,
            path: "consumers.x.wait_time",
            message: "with short polling",
            help: Some("set `empty_receive_delay` (e.g. `1s`), or long-poll with `wait_time: 20s`"),
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 8,
            column: 71,
            path: "consumers.y.schedule.time_of_day",
            message: "is not a time of day",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 9,
            column: 6,
            path: "consumers.z",
            message: "a consumer needs `time_per_message`, `time_per_batch` or both",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: ordrs, rate: 10/s }\nqueues:\n  orders: { visibility_timeout: 0s, when_full: block, redrive: { dead_letter_queue: orders, max_receive_count: 3 } }\nconsumers:\n  x: { queue: orders, wait_time: 0s, time_per_message: 1ms }\n  y: { queue: orders, time_per_message: 1ms, schedule: { time_of_day: \"25:00\" } }\n  z: { queue: p }\nfaults:\n  - { kind: outage, target: x, at: 1s, duration: 1s }\n",
            line: 11,
            column: 29,
            path: "faults[0].target",
            message: "`x` is a consumer",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  p: { target: orders, rate: 10/s }\nqueues:\n  orders: {}\nconsumers:\n  w: { queue: orders, max_mesages: 10 }\n",
            line: 7,
            column: 23,
            path: "consumers.w.max_mesages",
            message: "unknown key `max_mesages`",
            help: Some("did you mean `max_messages`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web:\n    wokers: 2\n    service_time: 5ms\n",
            line: 6,
            column: 5,
            path: "services.web.wokers",
            message: "unknown key `wokers`",
            help: Some("did you mean `workers`?"),
        },
        Case {
            yaml: "duration: 10s\nsource:\n  users: { target: web, rate: 10/s }\n",
            line: 2,
            column: 1,
            path: "source",
            message: "unknown key `source`",
            help: Some("did you mean `sources`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, retry: { max_atempts: 2 } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 46,
            path: "sources.users.retry.max_atempts",
            message: "unknown key `max_atempts`",
            help: Some("did you mean `max_attempts`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: wbe, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 20,
            path: "sources.users.target",
            message: "no service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic is named `wbe`",
            help: Some("did you mean `web`?"),
        },
        Case {
            yaml: "duration: 10\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\n",
            line: 1,
            column: 11,
            path: "duration",
            message: "needs a unit",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: -3/s }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 31,
            path: "sources.users.rate",
            message: "negative",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms, workers: 0 }\n",
            line: 5,
            column: 38,
            path: "services.web.workers",
            message: "out of range",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms, error_rate: 1.2 }\n",
            line: 5,
            column: 41,
            path: "services.web.error_rate",
            message: "not a probability",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: expo(mean=5ms) }\n",
            line: 5,
            column: 24,
            path: "services.web.service_time",
            message: "unknown distribution `expo`",
            help: Some("did you mean `exp`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms, queue: { discipline: lifi } }\n",
            line: 5,
            column: 50,
            path: "services.web.queue.discipline",
            message: "unknown queue discipline `lifi`",
            help: Some("did you mean `lifo`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web:\n    service_time: 5ms\n    calls:\n      - target: db\n        retry: { backoff: exponentail }\n  db: { service_time: 1ms }\n",
            line: 9,
            column: 27,
            path: "services.web.calls[0].retry.backoff",
            message: "unknown backoff `exponentail`",
            help: Some("did you mean `exponential`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms, calls: [ { target: db } ] }\n  db: { service_time: 1ms, calls: [ { target: web } ] }\n",
            line: 5,
            column: 48,
            path: "services.web.calls[0].target",
            message: "calls form a cycle: web → db → web",
            help: Some("remove one of these calls"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms, calls: [ { target: web } ] }\n",
            line: 5,
            column: 48,
            path: "services.web.calls[0].target",
            message: "calls form a cycle: web → web",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 10,
            path: "sources.users",
            message: "needs `rate` (open loop) or `clients` (closed loop)",
            help: Some("rate: 200/s"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s, clients: 4 }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 10,
            path: "sources.users",
            message: "not both",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nwarmup: 20s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms }\n",
            line: 2,
            column: 9,
            path: "warmup",
            message: "leaves nothing to measure",
            help: None,
        },
        Case {
            yaml: "sources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms }\n",
            line: 1,
            column: 1,
            path: "duration",
            message: "`duration` is required",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { workers: 3 }\n",
            line: 5,
            column: 8,
            path: "services.web.service_time",
            message: "`service_time` is required",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s }\nservices:\n  web: { service_time: 5ms }\n  web: { service_time: 6ms }\n",
            line: 6,
            column: 3,
            path: "services.web",
            message: "`web` is defined twice",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: lb, rate: 3/s }\nservices:\n  web: { service_time: 5ms }\nload_balancers:\n  lb: { strategy: leastoutstanding, backends: [web] }\n",
            line: 7,
            column: 19,
            path: "load_balancers.lb.strategy",
            message: "unknown balancing strategy",
            help: Some("did you mean `least_outstanding`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 3/s, retry: { jitter: decorrelated, backoff: constant } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 53,
            path: "sources.users.retry.jitter",
            message: "use it with `backoff: exponential`",
            help: None,
        },
        Case {
            yaml: "duration: [\n",
            line: 1,
            column: 11,
            path: "duration",
            message: "expected a single value",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nservices: [a, b]\n",
            line: 2,
            column: 11,
            path: "services",
            message: "expected a map here",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, retry: { budget: {}, quota: {} } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 65,
            path: "sources.users.retry",
            message: "use one retry limit",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, retry: {}, hedging: { hedging_delay: 5ms } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 57,
            path: "sources.users.hedging",
            message: "either retries or hedges",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, circuit_breaker: { failure_rate_treshold: 50% } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 56,
            path: "sources.users.circuit_breaker.failure_rate_treshold",
            message: "unknown key `failure_rate_treshold`",
            help: Some("did you mean `failure_rate_threshold`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\nfaults:\n  - { kind: outige, target: web, at: 1s, duration: 1s }\n",
            line: 7,
            column: 13,
            path: "faults[0].kind",
            message: "unknown fault kind `outige`",
            help: Some("did you mean `outage`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\nfaults:\n  - { kind: slowdown, target: wbe, at: 1s, duration: 1s, factor: 2 }\n",
            line: 7,
            column: 31,
            path: "faults[0].target",
            message: "no service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic is named `wbe`",
            help: Some("did you mean `web`?"),
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\nfaults:\n  - { kind: crash, target: web, at: 1s, duration: 1s, instance: 3 }\n",
            line: 7,
            column: 65,
            path: "faults[0].instance",
            message: "which has 1 instance",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\nfaults:\n  - { kind: errors, target: web, at: 1s, duration: 1s, factor: 2, error_rate: 5% }\n",
            line: 7,
            column: 64,
            path: "faults[0].factor",
            message: "`factor` does not apply to `kind: errors`",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { service_time: 5ms }\nfaults:\n  - { kind: latency, caller: web, target: web, at: 1s, duration: 1s, latency: 5ms }\n",
            line: 7,
            column: 30,
            path: "faults[0].caller",
            message: "`web` makes no call to `web`",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s }\nservices:\n  web: { instances: 12, service_time: 5ms, autoscaling: { target: 50%, max_instances: 10 } }\n",
            line: 5,
            column: 57,
            path: "services.web.autoscaling",
            message: "starts with 12 instances",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, shape: { kind: sine, period: 10s, amplitude: 50%, multiplier: 2 } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 99,
            path: "sources.users.shape.multiplier",
            message: "`multiplier` does not apply to `kind: sine`",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, shape: { kind: trace, file: no-such-trace.csv } }\nservices:\n  web: { service_time: 5ms }\n",
            line: 3,
            column: 53,
            path: "sources.users.shape.file",
            message: "cannot read `no-such-trace.csv`",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  users: { target: cache, rate: 100/s }\ncaches:\n  cache: { target: db, hit_ratio: 50%, ttl: 10s }\nservices:\n  db: { service_time: 5ms }\nload_balancers:\n  lb: { strategy: round_robin, backends: [db], weights: [2] }\nfaults:\n  - { kind: flush, target: db, at: 10s, duration: 1s }\n",
            line: 5,
            column: 45,
            path: "caches.cache.ttl",
            message: "`ttl` describes real entries",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  users: { target: cache, rate: 100/s }\ncaches:\n  cache: { target: db, hit_ratio: 50%, ttl: 10s }\nservices:\n  db: { service_time: 5ms }\nload_balancers:\n  lb: { strategy: round_robin, backends: [db], weights: [2] }\nfaults:\n  - { kind: flush, target: db, at: 10s, duration: 1s }\n",
            line: 9,
            column: 58,
            path: "load_balancers.lb.weights",
            message: "`weights` apply to `strategy: weighted_round_robin`",
            help: None,
        },
        Case {
            yaml: "duration: 60s\nsources:\n  users: { target: cache, rate: 100/s }\ncaches:\n  cache: { target: db, hit_ratio: 50%, ttl: 10s }\nservices:\n  db: { service_time: 5ms }\nload_balancers:\n  lb: { strategy: round_robin, backends: [db], weights: [2] }\nfaults:\n  - { kind: flush, target: db, at: 10s, duration: 1s }\n",
            line: 11,
            column: 28,
            path: "faults[0].target",
            message: "`db` is not a cache",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  u: { target: c, rate: 10/s }\ncaches:\n  c: { target: s }\nservices:\n  s: { service_time: 1ms }\nfaults:\n  - { kind: latency, target: c, at: 1s, duration: 1s, latency: 5ms }\n",
            line: 9,
            column: 30,
            path: "faults[0].target",
            message: "`c` is a cache",
            help: None,
        },
        Case {
            yaml: "duration: 10s\nsources:\n  users: { target: web, rate: 10/s, shape: { kind: step, at: 5s, multiplier: 2 } }\nservices:\n  web: { service_time: 5ms }\nexpect:\n  - recovery_time(users) < 1s\n",
            line: 7,
            column: 5,
            path: "expect[0]",
            message: "`users` has nothing to recover from: give it a `shape: { kind: spike, … }`, or schedule a fault",
            help: None,
        },
    ]
}

#[test]
fn each_bad_scenario_is_located_and_explained() {
    for (index, case) in cases().iter().enumerate() {
        let error = load_str("bad.yaml", case.yaml)
            .expect_err(&format!("case {index} should be rejected:\n{}", case.yaml));
        let found = error
            .diagnostics
            .iter()
            .find(|d| d.message.contains(case.message));
        let Some(diagnostic) = found else {
            panic!(
                "case {index}: no diagnostic mentions {:?}:\n{error}",
                case.message
            );
        };
        let position = diagnostic.position.map(|p| (p.line, p.column));
        assert_eq!(
            position,
            Some((case.line, case.column)),
            "case {index} position:\n{error}"
        );
        assert_eq!(diagnostic.path, case.path, "case {index} path:\n{error}");
        if let Some(help) = case.help {
            let actual = diagnostic.help.as_deref().unwrap_or("");
            assert!(
                actual.contains(help),
                "case {index}: help {actual:?} lacks {help:?}"
            );
        }
    }
}

#[test]
fn all_errors_are_reported_at_once() {
    let yaml = "duration: 10\nsources:\n  users: { target: wbe, rate: -1/s }\nservices:\n  web: { workers: 0, service_time: 5 }\n";
    let error = load_str("bad.yaml", yaml).unwrap_err();
    let paths: Vec<&str> = error.diagnostics.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "duration",
            "sources.users.target",
            "sources.users.rate",
            "services.web.workers",
            "services.web.service_time"
        ]
    );
}

/// Unknown keys do not hide each other, nor the value errors around them: a
/// misspelt key in a block map, in a flow map and as a list item's only key
/// are all reported with the bad rate and the bad worker count.
#[test]
fn unknown_keys_are_reported_with_every_value_error() {
    let yaml = "duration: 10s\nsources:\n  users:\n    target: api\n    rate: -5/s\n    timout_per_attempt: 1s\nservices:\n  api:\n    wokers: 3\n    service_time: 2ms\n    queue: { capacity: 10, dicipline: fifo }\n    calls:\n      - targett: db\n  db: { workers: x, service_time: 1ms }\n";
    let error = load_str("bad.yaml", yaml).unwrap_err();
    let found: Vec<(u64, u64, &str)> = error
        .diagnostics
        .iter()
        .map(|d| {
            let p = d.position.expect("every diagnostic is located");
            (p.line, p.column, d.path.as_str())
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (5, 11, "sources.users.rate"),
            (6, 5, "sources.users.timout_per_attempt"),
            (9, 5, "services.api.wokers"),
            (11, 28, "services.api.queue.dicipline"),
            (13, 9, "services.api.calls[0].targett"),
            (13, 9, "services.api.calls[0].target"),
            (14, 18, "services.db.workers"),
        ],
        "{error}"
    );
    let helps: Vec<&str> = error
        .diagnostics
        .iter()
        .filter_map(|d| d.help.as_deref())
        .collect();
    for expected in [
        "`timeout_per_attempt`",
        "`workers`",
        "`discipline`",
        "`target`",
    ] {
        assert!(
            helps.iter().any(|h| h.contains(expected)),
            "{expected}: {helps:?}"
        );
    }
}

#[test]
fn rendered_errors_show_file_line_and_caret() {
    let error = load_str(
        "bad.yaml",
        &format!("duration: 10s\nwarmup: forever\n{VALID_TAIL}"),
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("error: bad.yaml:2:9: warmup: `forever` does not start with a number"),
        "{text}"
    );
    assert!(
        text.contains(" 2 | warmup: forever\n   |         ^"),
        "{text}"
    );
    assert!(text.ends_with("1 error in bad.yaml"), "{text}");
}

#[test]
fn empty_and_comment_only_files_are_explained() {
    for text in ["", "   \n", "# just a comment\n---\n"] {
        let error = load_str("empty.yaml", text).unwrap_err();
        assert!(
            error.to_string().contains("the scenario is empty"),
            "{error}"
        );
    }
}

/// A rate trace's errors are reported at the scenario's `file:` key and name
/// the CSV file and line, with the same units and suggestions as the YAML.
#[test]
fn trace_errors_name_the_csv_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "duration: 60s\nsources:\n  users: { target: web, shape: { kind: trace, file: traffic.csv } }\nservices:\n  web: { service_time: 5ms }\n";
    let scenario_file = dir.path().join("shop.yaml").display().to_string();
    let load = |csv: &str| {
        std::fs::write(dir.path().join("traffic.csv"), csv).unwrap();
        load_str(&scenario_file, yaml)
    };
    for csv in [
        "time,rate\n0s,100/s\n30s,400/s\n",
        "0,100\n30,400\n",
        "0s,100\n0.5min,24000/m\n",
    ] {
        let scenario = load(csv).unwrap_or_else(|e| panic!("{csv:?}:\n{e}"));
        let stampede::scenario::spec::Load::Open {
            rate_per_second, ..
        } = scenario.sources[0].load
        else {
            panic!("not an open-loop source");
        };
        assert_eq!(rate_per_second, 400.0, "{csv:?}");
    }
    let error = load("time,rate\n0s,100/s\n30sec,400/s\n").unwrap_err();
    let [diagnostic] = error.diagnostics.as_slice() else {
        panic!("one error expected:\n{error}");
    };
    let position = diagnostic.position.map(|p| (p.line, p.column));
    assert_eq!(position, Some((3, 53)), "{error}");
    assert_eq!(diagnostic.path, "sources.users.shape.file");
    let csv_file = dir.path().join("traffic.csv").display().to_string();
    assert_eq!(
        diagnostic.message,
        format!(
            "{csv_file}:3: time: unknown duration unit `sec`: expected one of ns, us, ms, s, m, h, d"
        )
    );
    assert_eq!(diagnostic.help.as_deref(), Some("did you mean `s`?"));
}

/// The YAML examples in the documentation, checked by the library so they
/// cannot drift from the language (a reader pastes them, and a broken one
/// teaches the wrong thing). A ```yaml block with a top-level `sources:` key
/// is a complete scenario and must validate; any other block is a fragment
/// and must still read into the scenario's types, so an unknown key or a
/// misplaced list is caught there too.
mod documented_examples {
    use stampede::scenario::{load_str, yaml};

    const REFERENCE: &str = include_str!("../../docs/scenario-reference.md");
    const README: &str = include_str!("../../README.md");

    /// Each ```yaml block with the line its first line of YAML is on.
    fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
        let mut blocks = Vec::new();
        let mut open: Option<(usize, String)> = None;
        for (index, line) in markdown.lines().enumerate() {
            let fence = line.trim_start().starts_with("```");
            match (&mut open, fence) {
                (None, true) if line.trim() == "```yaml" => open = Some((index + 2, String::new())),
                (Some(_), true) => blocks.extend(open.take()),
                (Some((_, text)), false) => {
                    text.push_str(line);
                    text.push('\n');
                }
                (None, _) => {}
            }
        }
        blocks
    }

    fn is_complete(block: &str) -> bool {
        block.lines().any(|line| line.starts_with("sources:"))
    }

    /// Validates every complete example in `markdown`, named after the
    /// documentation file's folder so that files an example names (a rate
    /// trace) are found beside the documentation; returns how many there were.
    fn check_complete_examples(document: &str, markdown: &str) -> usize {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(document)
            .with_file_name("");
        let complete: Vec<_> = yaml_blocks(markdown)
            .into_iter()
            .filter(|(_, block)| is_complete(block))
            .collect();
        let failures: Vec<String> = complete
            .iter()
            .filter_map(|(line, block)| {
                let name = folder.join(format!("example-at-line-{line}.yaml"));
                let error = load_str(&name.display().to_string(), block).err()?;
                Some(format!(
                    "{document}: the example starting at line {line} (its line 1 below):\n{error}"
                ))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        complete.len()
    }

    #[test]
    fn every_complete_example_in_the_reference_validates() {
        let count = check_complete_examples("docs/scenario-reference.md", REFERENCE);
        // Thirteen when this was written, one per rate shape among them, so a
        // change that stops the test from finding them cannot pass unnoticed.
        assert!(count >= 13, "only {count} complete examples found");
    }

    #[test]
    fn every_fragment_in_the_reference_reads() {
        for (line, block) in yaml_blocks(REFERENCE) {
            if is_complete(&block) {
                continue;
            }
            if let Err(error) = yaml::parse_scenario(&block) {
                panic!(
                    "docs/scenario-reference.md: the fragment at line {line} does not read: {} at {:?}",
                    error.message, error.position
                );
            }
        }
    }

    #[test]
    fn the_readme_example_validates() {
        assert!(check_complete_examples("README.md", README) >= 1);
    }
}
