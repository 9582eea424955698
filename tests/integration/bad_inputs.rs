//! Bad input, through the binary: every mistake is refused with exit code
//! 2 and a located message (line, column, key path), never a panic, and no
//! input hangs. One table of bad scenarios covers every section of the
//! language and every kind of mistake; named tests cover the files that are
//! not scenarios at all (pipes, devices, huge files, other encodings).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::stampede;

/// One bad scenario: its name, text, and the diagnostic it must produce.
struct Bad {
    name: &'static str,
    yaml: &'static str,
    at: (u64, u64),
    path: &'static str,
    message: &'static str,
}

fn bad(
    name: &'static str,
    yaml: &'static str,
    at: (u64, u64),
    path: &'static str,
    message: &'static str,
) -> Bad {
    Bad {
        name,
        yaml,
        at,
        path,
        message,
    }
}

fn table() -> Vec<Bad> {
    vec![
        bad(
            "top_unknown_key",
            "duraton: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 1),
            "duraton",
            "unknown key `duraton`",
        ),
        bad(
            "duration_no_unit",
            "duration: 10\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 11),
            "duration",
            "`10` needs a unit, for example `10ms` or `10s`",
        ),
        bad(
            "duration_negative",
            "duration: -10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 11),
            "duration",
            "`-10s` is negative; durations are zero or more",
        ),
        bad(
            "duration_too_long",
            "duration: 31d\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 11),
            "duration",
            "`31d` is longer than the limit of 720h",
        ),
        bad(
            "warmup_past_duration",
            "duration: 10s\nwarmup: 20s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (2, 9),
            "warmup",
            "warm-up 20s leaves nothing to measure in a run",
        ),
        bad(
            "seed_not_a_number",
            "seed: abc\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 7),
            "seed",
            "`abc` does not start with a number",
        ),
        bad(
            "seed_beyond_u64",
            "seed: 18446744073709551616\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 7),
            "seed",
            "`18446744073709551616` is out of range:",
        ),
        bad(
            "seed_negative",
            "seed: -1\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 7),
            "seed",
            "`-1` is out of range: expected 0 to",
        ),
        bad(
            "deadline_propagation_not_bool",
            "deadline_propagation: maybe\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 23),
            "deadline_propagation",
            "`maybe` should be true or false",
        ),
        bad(
            "sample_interval_too_fine",
            "sample_interval: 1us\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 18),
            "sample_interval",
            "10000000 samples over 10s is more than 100000:",
        ),
        bad(
            "limits_unknown_key",
            "limits:\n  max_event: 5\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (2, 3),
            "limits.max_event",
            "unknown key `max_event`",
        ),
        bad(
            "limits_zero",
            "limits:\n  max_in_flight: 0\nduration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (2, 18),
            "limits.max_in_flight",
            "`0` is out of range: expected 1 to 100000000",
        ),
        bad(
            "sources_missing",
            "duration: 10s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 1),
            "sources",
            "the scenario has no traffic sources",
        ),
        bad(
            "source_target_dangling",
            "duration: 10s\nsources:\n  users:\n    target: wbe\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (4, 13),
            "sources.users.target",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "source_rate_negative",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: -10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (5, 11),
            "sources.users.rate",
            "`-10/s` is negative; rates are zero or more",
        ),
        bad(
            "source_rate_no_unit",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (5, 11),
            "sources.users.rate",
            "`10` needs a unit, for example `10/s`",
        ),
        bad(
            "source_rate_wrong_unit",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10ms\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (5, 11),
            "sources.users.rate",
            "`10ms` is not a rate: write it per unit of time, for example `10/s`",
        ),
        bad(
            "source_arrivals_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    arrivals: poison\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (6, 15),
            "sources.users.arrivals",
            "unknown arrival process `poison`: expected one",
        ),
        bad(
            "source_open_and_closed",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    clients: 5\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (4, 5),
            "sources.users",
            "a source is either open-loop (`rate`,",
        ),
        bad(
            "source_timeout_zero",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    timeout_per_attempt: 0s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (6, 26),
            "sources.users.timeout_per_attempt",
            "`0s` must be more than zero",
        ),
        bad(
            "source_deadline_huge",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    deadline: 1e308s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (6, 15),
            "sources.users.deadline",
            "`1e308s` is longer than the limit of 720h",
        ),
        bad(
            "source_keys_bad",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    keys: zipf(count=0, exponent=1)\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (6, 11),
            "sources.users.keys",
            "`0` is out of range: expected 1 to 1000000000000",
        ),
        bad(
            "shape_unknown_kind",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    shape:\n      kind: spik\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 13),
            "sources.users.shape.kind",
            "unknown shape `spik`: expected one of spike,",
        ),
        bad(
            "shape_spike_missing_at",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    shape:\n      kind: spike\n      duration: 1s\n      multiplier: 3\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 7),
            "sources.users.shape.at",
            "`at` is required",
        ),
        bad(
            "shape_trace_missing_file",
            "duration: 10s\nsources:\n  users:\n    target: web\n    shape:\n      kind: trace\n      file: nowhere.csv\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 13),
            "sources.users.shape.file",
            "cannot read `nowhere.csv`: No such file or",
        ),
        bad(
            "shape_points_not_increasing",
            "duration: 10s\nsources:\n  users:\n    target: web\n    shape:\n      kind: piecewise\n      points: [[2s, 10/s], [1s, 20/s]]\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 16),
            "sources.users.shape.points",
            "times must increase: 1s comes after 2s",
        ),
        bad(
            "retry_unknown_key",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      max_atempts: 3\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 7),
            "sources.users.retry.max_atempts",
            "unknown key `max_atempts`",
        ),
        bad(
            "retry_attempts_zero",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      max_attempts: 0\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 21),
            "sources.users.retry.max_attempts",
            "`0` is out of range: expected 1 to 100",
        ),
        bad(
            "retry_backoff_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      backoff: exponentail\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 16),
            "sources.users.retry.backoff",
            "unknown backoff `exponentail`: expected one of",
        ),
        bad(
            "retry_on_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      retry_on: [timeouts]\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 18),
            "sources.users.retry.retry_on[0]",
            "unknown failure kind `timeouts`: expected one",
        ),
        bad(
            "retry_jitter_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      jitter: half\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 15),
            "sources.users.retry.jitter",
            "unknown jitter `half`: expected one of none,",
        ),
        bad(
            "retry_budget_percent",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      budget:\n        budget_percent: 150%\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (8, 25),
            "sources.users.retry.budget.budget_percent",
            "`150%` is not a probability: expected 0 to 1",
        ),
        bad(
            "retry_throttle_ratio",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    retry:\n      throttle:\n        max_tokens: 10\n        token_ratio: -1\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (9, 22),
            "sources.users.retry.throttle.token_ratio",
            "`-1` is out of range: expected more than 0 and",
        ),
        bad(
            "breaker_threshold",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    circuit_breaker:\n      failure_rate_threshold: 2\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 31),
            "sources.users.circuit_breaker.failure_rate_threshold",
            "`2` is not a probability: expected 0 to 1 (or",
        ),
        bad(
            "hedging_attempts",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n    hedging:\n      max_attempts: 0\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (7, 21),
            "sources.users.hedging.max_attempts",
            "`0` is out of range: expected 1 to 5",
        ),
        bad(
            "services_missing",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\n",
            (1, 1),
            "services",
            "the scenario has no services",
        ),
        bad(
            "service_workers_zero",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 0\n    service_time: 5ms\n",
            (8, 14),
            "services.web.workers",
            "`0` is out of range: expected 1 to 1000000",
        ),
        bad(
            "service_workers_fraction",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2.5\n    service_time: 5ms\n",
            (8, 14),
            "services.web.workers",
            "`2.5` should be a whole number",
        ),
        bad(
            "service_time_unknown_family",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: expo(mean=5ms)\n",
            (9, 19),
            "services.web.service_time",
            "unknown distribution `expo`: expected one of",
        ),
        bad(
            "service_time_infinite_mean",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: pareto(scale=1ms, shape=0.5)\n",
            (9, 19),
            "services.web.service_time",
            "the service time has an infinite mean (a pareto",
        ),
        bad(
            "service_time_lognormal_mu_huge",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: lognormal(mu=700, sigma=1)\n",
            (9, 19),
            "services.web.service_time",
            "lognormal(mu=700, sigma=1) has a mean beyond",
        ),
        bad(
            "service_time_exp_mean_huge",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: exp(mean=1e308s)\n",
            (9, 19),
            "services.web.service_time",
            "exp(): `mean`: `1e308s` is longer than the",
        ),
        bad(
            "service_time_missing_paren",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: exp(mean=5ms\n",
            (9, 19),
            "services.web.service_time",
            "`exp(mean=5ms` is missing its closing `)`",
        ),
        bad(
            "service_error_rate",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    error_rate: 1.5\n",
            (10, 17),
            "services.web.error_rate",
            "`1.5` is not a probability: expected 0 to 1 (or",
        ),
        bad(
            "service_queue_discipline",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    queue:\n      discipline: lifo2\n",
            (11, 19),
            "services.web.queue.discipline",
            "unknown queue discipline `lifo2`: expected one",
        ),
        bad(
            "service_queue_capacity",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    queue:\n      capacity: -1\n",
            (11, 17),
            "services.web.queue.capacity",
            "`-1` is out of range: expected 0 to 10000000",
        ),
        bad(
            "service_instances_too_many",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    instances: 20000\n",
            (10, 16),
            "services.web.instances",
            "`20000` is out of range: expected 1 to 10000",
        ),
        bad(
            "service_name_invalid",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 1\n    service_time: 1ms\n  'bad name':\n    workers: 1\n    service_time: 1ms\n",
            (11, 5),
            "services.bad name",
            "`bad name` is not a usable name: use letters,",
        ),
        bad(
            "service_call_dangling",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    calls:\n      - target: db\n",
            (11, 17),
            "services.web.calls[0].target",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "service_call_cycle",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    calls:\n      - target: web\n",
            (11, 17),
            "services.web.calls[0].target",
            "calls form a cycle: web → web",
        ),
        bad(
            "service_call_mode",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    call_mode: sideways\n",
            (10, 16),
            "services.web.call_mode",
            "unknown call mode `sideways`: expected one of",
        ),
        bad(
            "service_concurrency_kind",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    concurrency_limit:\n      kind: magic\n",
            (11, 13),
            "services.web.concurrency_limit.kind",
            "unknown concurrency limit `magic`: expected one",
        ),
        bad(
            "service_tab_indent",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n\tworkers: 2\n",
            (8, 1),
            "services.web.workers",
            "a tab in the indentation: YAML indents with",
        ),
        bad(
            "autoscaling_period_too_short",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    autoscaling:\n      target: 50%\n      max_instances: 4\n      evaluation_period: 1ns\n",
            (13, 26),
            "services.web.autoscaling.evaluation_period",
            "`1ns` is shorter than the shortest period,",
        ),
        bad(
            "autoscaling_missing_max",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    autoscaling:\n      target: 50%\n",
            (11, 7),
            "services.web.autoscaling.max_instances",
            "`max_instances` is required",
        ),
        bad(
            "health_check_interval_1ns",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    instances: 2\n    health_check:\n      interval: 1ns\n",
            (12, 17),
            "services.web.health_check.interval",
            "`1ns` is shorter than the shortest period,",
        ),
        bad(
            "outlier_interval_1ns",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    instances: 2\n    outlier_detection:\n      interval: 1ns\n",
            (12, 17),
            "services.web.outlier_detection.interval",
            "`1ns` is shorter than the shortest period,",
        ),
        bad(
            "outlier_percent",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    instances: 2\n    outlier_detection:\n      max_ejection_percent: 200%\n",
            (12, 29),
            "services.web.outlier_detection.max_ejection_percent",
            "`200%` is not a probability: expected 0 to 1",
        ),
        bad(
            "balancer_unknown_strategy",
            "duration: 10s\nsources:\n  users:\n    target: lb\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nload_balancers:\n  lb:\n    strategy: fastest\n    backends: [web]\n",
            (12, 15),
            "load_balancers.lb.strategy",
            "unknown balancing strategy `fastest`: expected",
        ),
        bad(
            "balancer_backend_dangling",
            "duration: 10s\nsources:\n  users:\n    target: lb\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nload_balancers:\n  lb:\n    backends: [wbe]\n",
            (12, 16),
            "load_balancers.lb.backends[0]",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "balancer_weights_count",
            "duration: 10s\nsources:\n  users:\n    target: lb\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nload_balancers:\n  lb:\n    strategy: weighted_round_robin\n    backends: [web]\n    weights: [1, 2]\n",
            (14, 15),
            "load_balancers.lb.weights",
            "2 weights for 1 backends: give one per backend,",
        ),
        bad(
            "cache_unknown_key",
            "duration: 10s\nsources:\n  users:\n    target: c\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\ncaches:\n  c:\n    target: web\n    hit_ratio: 0.5\n    tll: 5s\n",
            (14, 5),
            "caches.c.tll",
            "unknown key `tll`",
        ),
        bad(
            "cache_hit_ratio",
            "duration: 10s\nsources:\n  users:\n    target: c\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\ncaches:\n  c:\n    target: web\n    hit_ratio: 2\n",
            (13, 16),
            "caches.c.hit_ratio",
            "`2` is not a probability: expected 0 to 1 (or",
        ),
        bad(
            "cache_eviction",
            "duration: 10s\nsources:\n  users:\n    target: c\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\ncaches:\n  c:\n    target: web\n    capacity: 10\n    eviction: lfu2\n",
            (14, 15),
            "caches.c.eviction",
            "unknown eviction policy `lfu2`: expected one of",
        ),
        bad(
            "cache_cycle",
            "duration: 10s\nsources:\n  users:\n    target: c\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    calls:\n      - target: c\ncaches:\n  c:\n    target: web\n    hit_ratio: 0.5\n",
            (11, 17),
            "services.web.calls[0].target",
            "calls form a cycle: web → c → web",
        ),
        bad(
            "queue_visibility_zero",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q:\n    visibility_timeout: 0s\n",
            (8, 25),
            "queues.q.visibility_timeout",
            "`0s` must be more than zero",
        ),
        bad(
            "queue_when_full",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q:\n    capacity: 10\n    when_full: explode\n",
            (9, 16),
            "queues.q.when_full",
            "unknown full-queue policy `explode`: expected",
        ),
        bad(
            "queue_dlq_dangling",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q:\n    redrive:\n      dead_letter_queue: dlq\n      max_receive_count: 3\n",
            (9, 26),
            "queues.q.redrive.dead_letter_queue",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "topic_subscriber_dangling",
            "duration: 10s\nsources:\n  users:\n    target: t\n    rate: 10/s\nqueues:\n  q: {}\ntopics:\n  t:\n    subscribers: [q, r]\n",
            (10, 22),
            "topics.t.subscribers[1]",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "consumer_queue_dangling",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q: {}\nconsumers:\n  w:\n    queue: qq\n    time_per_message: 1ms\n",
            (10, 12),
            "consumers.w.queue",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "consumer_pollers_zero",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q: {}\nconsumers:\n  w:\n    queue: q\n    pollers: 0\n    time_per_message: 1ms\n",
            (11, 14),
            "consumers.w.pollers",
            "`0` is out of range: expected 1 to 100000",
        ),
        bad(
            "consumer_schedule_every_1ns",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q: {}\nconsumers:\n  w:\n    queue: q\n    time_per_message: 1ms\n    schedule:\n      every: 1ns\n",
            (13, 14),
            "consumers.w.schedule.every",
            "`1ns` is shorter than the shortest period,",
        ),
        bad(
            "consumer_max_messages",
            "duration: 10s\nsources:\n  users:\n    target: q\n    rate: 10/s\nqueues:\n  q: {}\nconsumers:\n  w:\n    queue: q\n    max_messages: 0\n    time_per_message: 1ms\n",
            (11, 19),
            "consumers.w.max_messages",
            "`0` is out of range: expected 1 to 10000",
        ),
        bad(
            "fault_unknown_kind",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nfaults:\n  - kind: meltdown\n    target: web\n    at: 1s\n",
            (11, 11),
            "faults[0].kind",
            "unknown fault kind `meltdown`: expected one of",
        ),
        bad(
            "fault_target_dangling",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nfaults:\n  - kind: outage\n    target: wbe\n    at: 1s\n    duration: 1s\n",
            (12, 13),
            "faults[0].target",
            "no service, load balancer, cache, rate limiter, bulkhead,",
        ),
        bad(
            "fault_after_end",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nfaults:\n  - kind: outage\n    target: web\n    at: 20s\n    duration: 1s\n",
            (13, 9),
            "faults[0].at",
            "the fault starts at 20s, after the run ends",
        ),
        bad(
            "variant_unknown_key",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nvariants:\n  more:\n    set:\n      services.web.wokers: 4\n",
            (13, 28),
            "variants.more.set.services.web.wokers",
            "unknown key `wokers`",
        ),
        bad(
            "variant_bad_value",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nvariants:\n  more:\n    set:\n      services.web.workers: -4\n",
            (13, 29),
            "variants.more.set.services.web.workers",
            "`-4` is out of range: expected 1 to 1000000",
        ),
        bad(
            "variant_named_base",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nvariants:\n  base:\n    set:\n      services.web.workers: 4\n",
            (12, 5),
            "variants.base",
            "`base` is the scenario as written; give the",
        ),
        bad(
            "variant_path_matches_nothing",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nvariants:\n  more:\n    set:\n      services.api.workers: 4\n",
            (13, 29),
            "variants.more.set.services.api.workers",
            "`services` has no `api`; it has: web",
        ),
        bad(
            "sweep_param_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nsweep:\n  param: sources.users.rat\n  values: [10/s, 20/s]\n",
            (11, 10),
            "sweep.param",
            "`sources.users.rat` is not a key of the",
        ),
        bad(
            "sweep_value_wrong_unit",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nsweep:\n  param: sources.users.rate\n  values: [10/s, 20ms]\n",
            (12, 11),
            "sweep.values",
            "the point `sources.users.rate: 20ms` is",
        ),
        bad(
            "sweep_values_empty",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nsweep:\n  param: sources.users.rate\n  values: []\n",
            (12, 11),
            "sweep.values",
            "`values` is empty: give at least one value,",
        ),
        bad(
            "sweep_range_overflow",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nsweep:\n  param: sources.users.rate\n  values: 100/s..200/s:1e-300/s\n",
            (12, 11),
            "sweep.values",
            "`100/s..200/s:1e-300/s` has about 1.0e302",
        ),
        bad(
            "sweep_variant_unknown",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nsweep:\n  param: sources.users.rate\n  values: [10/s]\n  variants: [fast]\n",
            (13, 14),
            "sweep.variants[0]",
            "unknown variant `fast`: expected one of base",
        ),
        bad(
            "expect_unknown_source",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nexpect:\n  - p99(user.latency) < 300ms\n",
            (11, 5),
            "expect[0]",
            "no source, service or queue is named `user`",
        ),
        bad(
            "expect_no_comparison",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nexpect:\n  - p99(users.latency)\n",
            (11, 5),
            "expect[0]",
            "`p99(users.latency)` has no comparison: write",
        ),
        bad(
            "expect_unknown_measure",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\nexpect:\n  - p98(users.latency) < 300ms\n",
            (11, 5),
            "expect[0]",
            "unknown metric `p98`: expected one of mean,",
        ),
        bad(
            "yaml_unclosed_flow",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web: { workers: 2, service_time: 5ms\n",
            (7, 8),
            "services.web",
            "unclosed bracket '{'",
        ),
        bad(
            "yaml_duplicate_key",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    workers: 3\n",
            (10, 5),
            "services.web.workers",
            "`workers` is defined twice in the same map",
        ),
        bad(
            "yaml_second_document",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n---\nduration: 5s\n",
            (11, 1),
            "duration",
            "a second YAML document starts here (`---`): a",
        ),
        bad(
            "yaml_list_where_map",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  - web\n",
            (7, 3),
            "services[0]",
            "expected a map here: `key: value` lines, or `{",
        ),
        bad(
            "yaml_map_where_scalar",
            "duration: 10s\nsources:\n  users:\n    target: web\n    rate: 10/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n    error_rate: {a: 1}\n",
            (10, 17),
            "services.web.error_rate",
            "expected a single value here (such as `5s`,",
        ),
        bad(
            "too_costly",
            "duration: 30d\nsources:\n  users:\n    target: web\n    rate: 1000000/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (1, 11),
            "duration",
            "the sources send 2.59e12 requests over 720h,",
        ),
        bad(
            "rate_limiter_before_a_queue",
            "duration: 10s\nsources:\n  users:\n    target: gw\n    rate: 10/s\nrate_limiters:\n  gw:\n    target: jobs\n    rate: 5/s\nqueues:\n  jobs: {}\n",
            (8, 13),
            "rate_limiters.gw.target",
            "`jobs` is not a service or load balancer; a rate limiter passes requests on to one of those",
        ),
        bad(
            "rate_limiter_without_rate",
            "duration: 10s\nsources:\n  users:\n    target: gw\n    rate: 10/s\nrate_limiters:\n  gw:\n    target: web\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (8, 5),
            "rate_limiters.gw.rate",
            "`rate` is required",
        ),
        bad(
            "rate_limiter_rate_zero",
            "duration: 10s\nsources:\n  users:\n    target: gw\n    rate: 10/s\nrate_limiters:\n  gw:\n    target: web\n    rate: 0/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (9, 11),
            "rate_limiters.gw.rate",
            "a rate limiter's rate must be above 0 and at most 1e9/s",
        ),
        bad(
            "rate_limiter_burst_zero",
            "duration: 10s\nsources:\n  users:\n    target: gw\n    rate: 10/s\nrate_limiters:\n  gw:\n    target: web\n    rate: 5/s\n    burst: 0\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (10, 12),
            "rate_limiters.gw.burst",
            "`0` is out of range: expected 1 to 1000000000",
        ),
        bad(
            "rate_limiter_target_misspelt",
            "duration: 10s\nsources:\n  users:\n    target: gw\n    rate: 10/s\nrate_limiters:\n  gw:\n    target: wbe\n    rate: 5/s\nservices:\n  web:\n    workers: 2\n    service_time: 5ms\n",
            (8, 13),
            "rate_limiters.gw.target",
            "no service, load balancer, cache, rate limiter, bulkhead, shaper, queue or topic is named `wbe`",
        ),
    ]
}

/// `stampede ARGS` in a fresh folder holding the file `name` with `contents`.
fn stampede_beside(name: &str, contents: impl AsRef<[u8]>, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), contents).unwrap();
    stampede()
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap()
}

/// `stampede validate bad.yaml` in a fresh folder holding `yaml`.
fn validate(yaml: impl AsRef<[u8]>) -> Output {
    stampede_beside("bad.yaml", yaml, &["validate", "bad.yaml"])
}

/// A folder with nothing in it, inside `dir`.
fn empty_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("empty");
    std::fs::create_dir(&folder).unwrap();
    folder
}

fn assert_refused(output: &Output, context: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "{context}: panicked:\n{stderr}"
    );
    assert_eq!(output.status.code(), Some(2), "{context}:\n{stderr}");
    stderr
}

#[test]
fn every_bad_scenario_is_refused_with_its_line_column_and_key_path() {
    let table = table();
    assert!(table.len() >= 60, "the table has {} cases", table.len());
    for case in &table {
        let stderr = assert_refused(&validate(case.yaml), case.name);
        let (line, column) = case.at;
        let expected = format!("error: bad.yaml:{line}:{column}: {}: ", case.path);
        let found = stderr
            .lines()
            .any(|l| l.starts_with(&expected) && l.contains(case.message));
        assert!(
            found,
            "{}: no line starts with {expected:?} and says {:?}:\n{stderr}",
            case.name, case.message
        );
    }
}

#[test]
fn files_that_are_not_scenarios_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut paths = vec![
        ("/dev/zero".into(), "not a regular file"),
        (empty_folder(dir.path()), "a folder with no scenario files"),
        (dir.path().join("missing.yaml"), "cannot read the file"),
    ];
    if made.is_ok_and(|status| status.success()) {
        paths.push((fifo, "not a regular file"));
    }
    let huge = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(65 * 1024 * 1024).unwrap();
    paths.push((huge, "larger than 64 MiB"));
    for (path, message) in paths {
        let output = stampede().arg("validate").arg(&path).output().unwrap();
        let stderr = assert_refused(&output, &path.display().to_string());
        assert!(stderr.contains(message), "{}: {stderr}", path.display());
    }
}

#[test]
fn text_that_is_not_utf8_or_is_empty_is_located() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"name: x\ndescription: caf\xe9\n",
            "bad.yaml:2:17: description: byte 0xe9 is not UTF-8",
        ),
        (b"", "bad.yaml:1:1: the scenario is empty"),
        (b"# only a comment\n", "bad.yaml:1:1: the scenario is empty"),
    ];
    for (bytes, expected) in cases {
        let stderr = assert_refused(&validate(bytes), expected);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// Ten thousand dangling names: each error is reported, the first hundred
/// printed, and suggestions are limited, so the output grows linearly.
#[test]
fn thousands_of_errors_are_counted_not_all_printed() {
    let mut yaml =
        String::from("duration: 10s\nsources:\n  u: {target: s0, rate: 1/s}\nservices:\n");
    for i in 0..10_000 {
        yaml.push_str(&format!(
            "  s{i}: {{workers: 1, service_time: 1ms, calls: [{{target: missing{i}}}]}}\n"
        ));
    }
    let stderr = assert_refused(&validate(&yaml), "dangling");
    assert!(
        stderr.contains("… and 9900 more errors not shown"),
        "{}",
        &stderr[stderr.len() - 300..]
    );
    assert!(
        stderr.ends_with("10000 errors in bad.yaml\n"),
        "{}",
        &stderr[stderr.len() - 300..]
    );
    assert!(stderr.len() < 100_000, "{} bytes of errors", stderr.len());
}

/// Each unknown key costs a parse of the whole file: a small file reports
/// up to 32 of them, half a megabyte (10,000 small services) 8, and the
/// rest once those are fixed.
#[test]
fn unknown_keys_are_collected_within_a_budget_of_parsing() {
    let scenario = |services: usize| {
        let mut yaml =
            String::from("duration: 1s\nsources:\n  u: {target: s0, rate: 1/s}\nservices:\n");
        for i in 0..services {
            let typo = if i % (services / 40) == 0 {
                "wokers"
            } else {
                "workers"
            };
            yaml.push_str(&format!(
                "  s{i}: {{ {typo}: 1, service_time: exp(mean=1ms) }}\n"
            ));
        }
        yaml
    };
    for (services, reported) in [(100, 32), (10_000, 8)] {
        let yaml = scenario(services);
        let stderr = assert_refused(&validate(&yaml), "typos");
        let typos = stderr.matches("unknown key `wokers`").count();
        assert_eq!(typos, reported, "{services} services, {} bytes", yaml.len());
        let stopped = format!("stopped looking for unknown keys after these {reported} (each");
        assert!(stderr.contains(&stopped), "{stderr}");
    }
}

/// A seed above 2^53 is kept exactly, in the run and in its reproduce line.
#[test]
fn seeds_are_read_as_integers() {
    let yaml = "seed: 9007199254740993\nduration: 1s\nsources:\n  u: {target: a, rate: 1/s}\nservices:\n  a: {workers: 1, service_time: 1ms}\n";
    let output = stampede_beside("s.yaml", yaml, &["run", "s.yaml", "--format", "json"]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--seed 9007199254740993"), "{stderr}");
}

/// Work that takes no simulated time stops at the one-instant limit, quickly,
/// with exit 2 and a message that says what to change.
#[test]
fn a_loop_that_takes_no_time_stops_with_a_message() {
    let yaml = "duration: 60s\nsources:\n  users: {target: a, clients: 10, think_time: 0s}\nservices:\n  a: {workers: 10, service_time: 0s}\nlimits: {max_events_at_one_instant: 100000}\n";
    let output = stampede_beside("z.yaml", yaml, &["run", "z.yaml"]);
    let stderr = assert_refused(&output, "zero-time loop");
    assert!(
        stderr.contains("simulated time was not advancing"),
        "{stderr}"
    );
    assert!(stderr.contains("think_time"), "{stderr}");
}

/// A sweep given on the command line is blamed on the flag that is wrong.
#[test]
fn a_bad_sweep_on_the_command_line_names_its_flag() {
    let yaml = "duration: 2s\nsources:\n  users: {target: web, rate: 10/s}\nservices:\n  web: {workers: 2, service_time: 5ms}\n";
    let cases = [
        (
            "sources.users.rat",
            "10/s,20/s",
            "--param sources.users.rat: unknown key `rat`",
        ),
        (
            "services.api.workers",
            "1,2",
            "--param services.api.workers: `services` has no `api`",
        ),
        (
            "sources.users.rate",
            "10/s,20ms",
            "--values 20ms: `20ms` is not a rate",
        ),
    ];
    for (param, values, expected) in cases {
        let output = stampede_beside(
            "s.yaml",
            yaml,
            &["sweep", "s.yaml", "--param", param, "--values", values],
        );
        let stderr = assert_refused(&output, param);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
