//! The mechanisms that make failures stick, each pinned where its outcome
//! is exact: service time that grows with load (the Universal Scalability
//! Law's contention and a fixed cost per request in service), and the
//! distributions that shape service times (mixtures, Erlang, gamma).

use crate::common::*;

/// Requests every 1ms into a 10ms service with plenty of workers. A job that
/// starts with n in service takes 10ms × (1 + σ(n − 1)) + β(n − 1); with
/// σ = 5% (or β = 0.5ms) the only steady state is n = 19 in service, each
/// taking 19ms: n = 1ms⁻¹ × S(n) solves 10(1 + 0.05(n − 1)) = n. Counting
/// the starting job in n (σ·n) would give 20ms instead.
#[test]
fn slowdown_with_load_settles_where_concurrency_and_service_time_agree() {
    for slowdown in ["{ contention: 0.05 }", "{ per_request: 0.5ms }"] {
        let scenario = scenario_from(&format!(
            "duration: 20s\nwarmup: 5s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 1000/s }}\nservices:\n  s: {{ workers: 1000, service_time: 10ms, slowdown_with_load: {slowdown} }}\n"
        ));
        let (_, summary) = run(&scenario);
        let latency = &summary.services[0].latency;
        let mean = latency.mean_ms.expect("requests were served");
        assert!((mean - 19.0).abs() < 1e-6, "{slowdown}: mean {mean}ms");
        assert_eq!(
            latency.max_ms, latency.p50_ms,
            "{slowdown}: every job alike"
        );
    }
}

/// One request at a time is never slowed: n = 1 adds nothing.
#[test]
fn slowdown_with_load_leaves_a_lone_request_alone() {
    let scenario = scenario_from(
        "duration: 10s\nsources:\n  u: { target: s, arrivals: constant, rate: 10/s }\nservices:\n  s: { workers: 8, service_time: 10ms, slowdown_with_load: { contention: 0.5, coherency: 0.1, per_request: 1ms } }\n",
    );
    let (_, summary) = run(&scenario);
    assert_eq!(summary.services[0].latency.mean_ms, Some(10.0));
}

/// Past the USL's peak (√((1 − σ)/κ) ≈ 22 in service here), more
/// concurrency means less throughput: X(22) ≈ 940/s, X(400) ≈ 120/s. At
/// 400/s both servers keep up with ~4 in service; a 5-second spike to
/// 1,200/s only queues work at a server capped near the peak (22 workers),
/// which drains it and recovers, but pushes one with 400 workers past the
/// peak, where it stays after the spike: a lasting collapse with no
/// retries at all.
#[test]
fn past_the_peak_a_spike_leaves_a_lasting_collapse() {
    let text = |workers: u32| {
        format!(
            "duration: 60s\nwarmup: 10s\nsources:\n  u: {{ target: s, rate: 400/s, shape: {{ kind: spike, at: 20s, duration: 5s, multiplier: 3 }} }}\nservices:\n  s: {{ workers: {workers}, queue: {{ capacity: 100000 }}, service_time: exp(mean=10ms), slowdown_with_load: {{ contention: 0.02, coherency: 0.002 }} }}\n"
        )
    };
    let (_, near_peak) = run(&scenario_from(&text(22)));
    let (_, too_many) = run(&scenario_from(&text(400)));
    let served =
        |summary: &stampede::report::summary::Summary| summary.services[0].throughput_per_s;
    assert!(
        served(&near_peak) > 450.0,
        "near the peak drains the spike: {}",
        served(&near_peak)
    );
    assert!(
        served(&too_many) < 250.0,
        "past the peak stays collapsed: {}",
        served(&too_many)
    );
}

/// Located, did-you-mean errors for the new keys and distributions.
#[test]
fn bad_mechanism_values_are_located() {
    let cases = [
        (
            "slowdown_with_load: { contention: -1 }",
            "services.s.slowdown_with_load.contention",
        ),
        (
            "slowdown_with_load: { coherence: 0.1 }",
            "did you mean `coherency`",
        ),
        ("slowdown_with_load: {}", "set at least one of"),
        (
            "pauses: { every: 1ms, duration: 1s }",
            "at least 10ms apart",
        ),
        ("pauses: { every: 30s }", "services.s.pauses.duration"),
        (
            "calls: [ { target: s2, network: { loss: 1% } } ]",
            "noticed only by a timeout",
        ),
        (
            "calls: [ { target: s2, network: { loss: 100%, latency: 1ms }, timeout_per_attempt: 1s } ]",
            "less than 100%",
        ),
        (
            "calls: [ { target: s2, probability: 130% } ]",
            "not a probability",
        ),
        (
            "calls: [ { target: s2, network: { latncy: 1ms } } ]",
            "did you mean `latency`",
        ),
        (
            "pauses: { every: 30s, duration: 1s, mean: 2s }",
            "unknown key `mean`",
        ),
        ("slowdown_with_load: { per_request: 5 }", "needs a unit"),
        ("service_time: 'mixture(0.5: 1ms, 0.4: 2ms)'", "sum to 0.9"),
        (
            "service_time: mixture(0.5: 1ms, 0.5: 2ms)",
            "put the whole value in quotes",
        ),
        ("service_time: erlang(k=0, mean=1ms)", "out of range"),
        (
            "service_time: 'mixture(0.5: 1ms, 0.5: pareto(scale=1ms, shape=0.9))'",
            "infinite mean",
        ),
    ];
    for (line, fragment) in cases {
        let mut text = format!(
            "duration: 10s\nsources:\n  u: {{ target: s, rate: 10/s }}\nservices:\n  s2: {{ service_time: 1ms }}\n  s:\n    workers: 2\n    {line}\n"
        );
        if !line.starts_with("service_time") {
            text.push_str("    service_time: 1ms\n");
        }
        assert_invalid(&text, fragment);
    }
}

/// A service whose times are a mixture: 99.9% at 100µs, 0.1% exponential
/// with mean 10ms. The service's mean latency at low load is the mixture's
/// mean, 0.1099ms, within the sampling error of 200,000 requests.
#[test]
fn a_mixture_service_time_has_the_mixture_mean() {
    let scenario = scenario_from(
        "duration: 200s\nsources:\n  u: { target: s, arrivals: constant, rate: 1000/s }\nservices:\n  s: { workers: 64, service_time: 'mixture(99.9%: 100us, 0.1%: exp(mean=10ms))' }\n",
    );
    let (_, summary) = run(&scenario);
    let mean = summary.services[0].latency.mean_ms.unwrap();
    // sd of one draw ≈ √(0.001 × 2 × 10²) ms ≈ 0.447ms; over 2×10⁵ draws ±0.001ms.
    assert!((mean - 0.1099).abs() < 0.005, "mean {mean}ms");
}

/// Requests every 100ms, 50ms of work each, one worker. A 1s pause from
/// 1.02s freezes the request that started at 1.00s 20ms into its work: it
/// finishes at 2.05s (latency exactly 1.05s), and the ten that arrived
/// meanwhile queue behind it and are all served afterwards.
#[test]
fn a_pause_freezes_work_in_service_and_queues_arrivals() {
    let scenario = scenario_from(
        "duration: 5s\nsources:\n  u: { target: s, arrivals: constant, rate: 10/s }\nservices:\n  s: { workers: 1, service_time: 50ms }\nfaults:\n  - { kind: pause, target: s, at: 1020ms, duration: 1s }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    assert_near(service.latency.max_ms, 1050.0);
    assert_eq!(service.rejected, 0);
    assert_eq!((service.pauses, service.paused_s), (1, 1.0));
    // 1.1s … 2.0s waited; the last of them starts after the backlog of ten.
    assert_eq!(
        summary.sources[0].succeeded + summary.sources[0].in_flight_at_end,
        50
    );
}

/// Overlapping pauses extend each other; the frozen job is late by the
/// union of the two, not their sum.
#[test]
fn overlapping_pauses_extend_each_other() {
    let scenario = scenario_from(
        "duration: 5s\nsources:\n  u: { target: s, arrivals: constant, rate: 10/s }\nservices:\n  s: { workers: 1, service_time: 50ms }\nfaults:\n  - { kind: pause, target: s, at: 1020ms, duration: 1s }\n  - { kind: pause, target: s, at: 1520ms, duration: 1s }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    // Paused 1.02s–2.52s: the job of 1.00s finishes at 2.55s.
    assert_near(service.latency.max_ms, 1550.0);
    assert_eq!((service.pauses, service.paused_s), (1, 1.5));
}

/// Random pauses: each instance is paused for mean duration ÷ (mean gap +
/// mean duration) of the time, 0.5 / 10.5 here, within sampling error
/// (about 760 pauses over four instances).
#[test]
fn random_pauses_take_their_share_of_time() {
    let scenario = scenario_from(
        "duration: 2000s\nsources:\n  u: { target: s, rate: 10/s }\nservices:\n  s: { instances: 4, workers: 4, service_time: 1ms, pauses: { every: exp(mean=10s), duration: 500ms } }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    let share = service.paused_s / (4.0 * 2000.0);
    assert!(
        (share - 0.5 / 10.5).abs() < 0.006,
        "paused {share} of the time"
    );
    assert!(
        (650..870).contains(&service.pauses),
        "{} pauses",
        service.pauses
    );
    // A request that meets a pause waits for its end: the tail shows it.
    assert!(service.latency.max_ms.unwrap() > 400.0);
}

/// A paused service's downstream answers wait for the pause to end: the
/// front's request that is waiting on the back end when the front pauses
/// is answered only after the pause.
#[test]
fn answers_from_downstream_wait_for_the_pause_to_end() {
    let scenario = scenario_from(
        "duration: 3s\nsources:\n  u: { target: front, arrivals: constant, rate: 1/s }\nservices:\n  front: { workers: 1, service_time: 0, calls: [ { target: back } ] }\n  back: { workers: 1, service_time: 100ms }\nfaults:\n  - { kind: pause, target: front, at: 1050ms, duration: 500ms }\n",
    );
    let (_, summary) = run(&scenario);
    // Requests at 0s, 1s, 2s; the one at 1s gets back's answer at 1.1s but
    // front is paused until 1.55s.
    assert_near(summary.services[0].latency.max_ms, 550.0);
    assert_near(summary.services[1].latency.max_ms, 100.0);
}

/// A maximum as the report gives it: a histogram bucket, within 0.1%.
fn assert_near(measured_ms: Option<f64>, expected_ms: f64) {
    let measured = measured_ms.expect("something was measured");
    assert!(
        (measured - expected_ms).abs() <= expected_ms * 1e-3,
        "{measured}ms, expected {expected_ms}ms"
    );
}

/// The caller's own token bucket admits exactly burst + rate · t when
/// attempts come faster than the rate: 200/s for 10s against 50/s with a
/// burst of 10 sends 10 + 500 (the 510th token is earned at exactly 10s,
/// as the run ends); the rest fail at once as throttled, unsent.
#[test]
fn a_callers_rate_limit_admits_burst_plus_rate_times_t() {
    let scenario = scenario_from(
        "duration: 10s\nsources:\n  u: { target: s, arrivals: constant, rate: 200/s, rate_limit: { rate: 50/s, burst: 10 } }\nservices:\n  s: { workers: 4, service_time: 1ms }\n",
    );
    let (_, summary) = run(&scenario);
    let call = &summary.calls[0];
    let sent = summary.services[0].attempts;
    assert!((509..=510).contains(&sent), "{sent} sent");
    assert_eq!(call.throttled_by_caller + sent, call.attempts);
    assert_eq!(
        summary.sources[0].failed.throttled,
        call.throttled_by_caller
    );
    assert_eq!(call.delayed_by_rate_limit, 0);
}

/// With `max_wait`, attempts beyond the rate wait their turn instead:
/// 100/s against 50/s sends one every 20ms, and the queue of waiting
/// attempts grows by 50 a second, so nothing is throttled and the last
/// request that finished waited 4,990ms (it came at 4.99s, its token at 9.98s).
#[test]
fn a_callers_rate_limit_with_max_wait_paces_instead_of_failing() {
    let scenario = scenario_from(
        "duration: 10s\nsources:\n  u: { target: s, arrivals: constant, rate: 100/s, rate_limit: { rate: 50/s, max_wait: 1h } }\nservices:\n  s: { workers: 4, service_time: 1ms }\n",
    );
    let (_, summary) = run(&scenario);
    let source = &summary.sources[0];
    assert_eq!(source.failed.throttled, 0);
    assert!((500..=501).contains(&summary.services[0].attempts));
    assert_eq!(source.succeeded + source.in_flight_at_end, source.requests);
    let slowest = source.latency.max_ms.unwrap();
    assert!((slowest - 4991.0).abs() < 5.0, "slowest {slowest}ms");
}

/// A constant 1ms each way on a call into a 5ms service: every request
/// takes exactly 7ms at the caller, and the callee still sees 5ms.
#[test]
fn network_latency_is_paid_each_way() {
    let scenario = scenario_from(
        "duration: 10s\nsources:\n  u: { target: front, arrivals: constant, rate: 10/s }\nservices:\n  front: { workers: 4, service_time: 0, calls: [ { target: back, network: { latency: 1ms } } ] }\n  back: { workers: 4, service_time: 5ms }\n",
    );
    let (_, summary) = run(&scenario);
    assert_near(summary.sources[0].latency.max_ms, 7.0);
    assert_near(summary.sources[0].latency.p50_ms, 7.0);
    assert_near(summary.services[1].latency.max_ms, 5.0);
}

/// 10% loss: about a tenth of first attempts never arrive and time out;
/// with one retry, about 1% of requests fail (binomial error: ±0.3% and
/// ±0.1% at 20,000 requests; the bounds are 4.5 standard errors wide).
#[test]
fn network_loss_is_seen_as_timeouts() {
    let text = |attempts: u32| {
        format!(
            "duration: 100s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 200/s, timeout_per_attempt: 50ms, retry: {{ max_attempts: {attempts}, backoff: none }}, network: {{ loss: 10% }} }}\nservices:\n  s: {{ workers: 4, service_time: 1ms }}\n"
        )
    };
    let (_, once) = run(&scenario_from(&text(1)));
    let (_, twice) = run(&scenario_from(&text(2)));
    let failed = |s: &stampede::report::summary::Summary| {
        s.sources[0].failed.timeout as f64 / s.sources[0].requests as f64
    };
    assert!((failed(&once) - 0.10).abs() < 0.01, "{}", failed(&once));
    assert!((failed(&twice) - 0.01).abs() < 0.0035, "{}", failed(&twice));
    // Attempts lost in the last 50ms had not timed out when the run ended.
    let source = &once.sources[0];
    let lost = once.calls[0].lost_in_network;
    assert!(lost.abs_diff(source.failed.timeout) <= 20, "{lost} lost");
    let accounted = source.failed.timeout + once.services[0].attempts + source.in_flight_at_end;
    assert!(
        accounted.abs_diff(source.requests) <= 2,
        "{accounted} of {}",
        source.requests
    );
}

/// `probability: 30%` makes the call on about 30% of requests.
#[test]
fn a_call_with_a_probability_is_made_that_share_of_the_time() {
    let scenario = scenario_from(
        "duration: 100s\nsources:\n  u: { target: front, rate: 200/s }\nservices:\n  front: { workers: 8, service_time: 1ms, calls: [ { target: db, probability: 30% }, { target: log } ] }\n  db: { workers: 8, service_time: 1ms }\n  log: { workers: 8, service_time: 1ms }\n",
    );
    let (_, summary) = run(&scenario);
    let share = summary.services[1].attempts as f64 / summary.services[0].attempts as f64;
    // Binomial over ~20,000 requests: sd 0.0032.
    assert!((share - 0.3).abs() < 0.015, "{share}");
    // Every request calls log, but for those still at front as the run ends.
    let (front, log) = (summary.services[0].attempts, summary.services[2].attempts);
    assert!(front.abs_diff(log) <= 8, "{front} at front, {log} at log");
}

/// The retry breaker refuses retries while the recent failure rate is at
/// or above its threshold, and never first attempts: with half the
/// requests failing and a 40% threshold, retries stop (but for the window's
/// first fill); with an 80% threshold, every failed first attempt is
/// retried.
#[test]
fn a_retry_breaker_stops_retries_but_not_first_attempts() {
    let text = |threshold: &str| {
        format!(
            "duration: 20s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 100/s, retry: {{ max_attempts: 2, backoff: none, breaker: {{ failure_rate_threshold: {threshold}, sliding_window_size: 50, minimum_number_of_calls: 20 }} }} }}\nservices:\n  s: {{ workers: 4, service_time: 1ms, error_rate: 50% }}\n"
        )
    };
    let (_, open) = run(&scenario_from(&text("40%")));
    let (_, closed) = run(&scenario_from(&text("80%")));
    let calls = |s: &stampede::report::summary::Summary| s.calls[0].clone();
    // Every request gets its first attempt either way.
    assert_eq!(calls(&open).calls, 2000);
    assert!(calls(&open).retries < 150, "{}", calls(&open).retries);
    assert!(
        calls(&open).retries_throttled > 900,
        "{}",
        calls(&open).retries_throttled
    );
    assert_eq!(calls(&closed).retries_throttled, 0);
    assert!(calls(&closed).retries > 900);
}

/// Two 10ms requests that arrive together at a processor-sharing server
/// share it: with one worker both finish at 20ms, with two at 10ms; with
/// contention 0.5 (each progresses 1/1.5 as fast while both are in
/// service) one worker finishes both at 30ms.
#[test]
fn processor_sharing_splits_the_workers_between_the_jobs_in_service() {
    let text = |workers: u32, slowdown: &str| {
        format!(
            "duration: 10s\nsources:\n  a: {{ target: s, arrivals: constant, rate: 1/s }}\n  b: {{ target: s, arrivals: constant, rate: 1/s }}\nservices:\n  s: {{ workers: {workers}, queue: {{ discipline: processor_sharing }}, service_time: 10ms{slowdown} }}\n"
        )
    };
    for (workers, slowdown, expected_ms) in [
        (1, "", 20.0),
        (2, "", 10.0),
        (1, ", slowdown_with_load: { contention: 0.5 }", 30.0),
    ] {
        let (_, summary) = run(&scenario_from(&text(workers, slowdown)));
        let service = &summary.services[0];
        assert_near(service.latency.max_ms, expected_ms);
        assert_near(service.latency.p50_ms, expected_ms);
        assert_eq!(service.queue_length_max, 0, "no one waits in line");
    }
}

/// Three classes at 120% of api's capacity. With `priority`, critical and
/// default requests are served first and all succeed quickly; sheddable
/// ones take what is left, and queued sheddable requests make room for
/// more critical arrivals when the queue is full. With fifo every class
/// suffers alike.
#[test]
fn priority_serves_the_most_critical_first_and_sheds_the_least() {
    let text = |discipline: &str| {
        format!(
            "duration: 60s\nwarmup: 5s\nsources:\n  checkout: {{ target: api, rate: 300/s, class: critical, timeout_per_attempt: 1s }}\n  browse: {{ target: api, rate: 500/s, timeout_per_attempt: 1s }}\n  prefetch: {{ target: api, rate: 400/s, class: sheddable, timeout_per_attempt: 1s }}\nservices:\n  api: {{ workers: 10, queue: {{ capacity: 200, discipline: {discipline} }}, service_time: exp(mean=10ms) }}\n"
        )
    };
    let (_, priority) = run(&scenario_from(&text("priority")));
    let (_, fifo) = run(&scenario_from(&text("fifo")));
    let class = |s: &stampede::report::summary::Summary, name: &str| {
        s.classes
            .iter()
            .find(|c| c.class == name)
            .cloned()
            .expect("the class is reported")
    };
    assert!(class(&priority, "critical").success_ratio > 0.999);
    assert!(class(&priority, "default").success_ratio > 0.999);
    assert!(class(&priority, "sheddable").success_ratio < 0.5);
    assert!(class(&priority, "critical").latency.p99_ms.unwrap() < 100.0);
    assert!(
        priority.services[0].displaced > 1000,
        "{}",
        priority.services[0].displaced
    );
    let ratios: Vec<f64> = ["critical", "default", "sheddable"]
        .iter()
        .map(|name| class(&fifo, name).success_ratio)
        .collect();
    assert!(
        ratios.iter().all(|r| (r - ratios[0]).abs() < 0.02),
        "{ratios:?}"
    );
    assert_eq!(fifo.services[0].displaced, 0);
    // Every source's requests are in exactly one class.
    let by_class: u64 = priority.classes.iter().map(|c| c.requests).sum();
    let by_source: u64 = priority.sources.iter().map(|s| s.requests).sum();
    assert_eq!(by_class, by_source);
}

/// A request's class travels with its calls: the backend serving a
/// critical request's call ranks it as critical. One worker busy for 30ms
/// at db; a sheddable request's call reaches it first, then a critical
/// one's: the critical one is served next.
#[test]
fn a_class_travels_down_the_call_chain() {
    let scenario = scenario_from(
        "duration: 1500ms\nsources:\n  first: { target: lane, arrivals: constant, rate: 1/s }\n  low: { target: front, arrivals: constant, rate: 1/s, class: sheddable }\n  high: { target: front, arrivals: constant, rate: 1/s, class: critical }\nservices:\n  lane: { workers: 1, service_time: 0, calls: [ { target: db } ] }\n  front: { workers: 4, service_time: 1ms, calls: [ { target: db } ] }\n  db: { workers: 1, queue: { discipline: priority }, service_time: 30ms }\n",
    );
    let (_, summary) = run(&scenario);
    let source = |name: &str| {
        summary
            .sources
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .clone()
    };
    // At 1s db takes `first` (to 1.030s); `low` then `high` reach it at
    // 1.001s, after 1ms at front; it serves `high` (to 1.060s) before `low`
    // (to 1.090s).
    assert_near(source("high").latency.max_ms, 60.0);
    assert_near(source("low").latency.max_ms, 90.0);
}

/// A capacity-loss fault changes a sharing processor's speed from the
/// instant it starts: two 10ms jobs on two workers run at full speed for
/// 5ms, then share one worker: 5ms of work each at half speed, done at
/// 15ms.
#[test]
fn processor_sharing_follows_a_change_of_capacity_at_once() {
    let scenario = scenario_from(
        "duration: 1500ms\nsources:\n  a: { target: s, arrivals: constant, rate: 1/s }\n  b: { target: s, arrivals: constant, rate: 1/s }\nservices:\n  s: { workers: 2, queue: { discipline: processor_sharing }, service_time: 10ms }\nfaults:\n  - { kind: capacity_loss, target: s, at: 1005ms, duration: 1s, fraction: 50% }\n",
    );
    let (_, summary) = run(&scenario);
    assert_near(summary.services[0].latency.max_ms, 15.0);
    assert_near(summary.services[0].latency.p50_ms, 15.0);
}

/// Two pauses back to back (1s each, the second starting the instant the
/// first ends) freeze a 5s job for 2s in all, like one pause of 2s: its
/// latency is 7s either way, and the report counts one 2s pause.
#[test]
fn back_to_back_pauses_freeze_work_for_both() {
    let text = |faults: &str| {
        format!(
            "duration: 20s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 0.1/s }}\nservices:\n  s: {{ workers: 1, service_time: 5s }}\nfaults:\n{faults}"
        )
    };
    let one = text("  - { kind: pause, target: s, at: 11s, duration: 2s }\n");
    let two = text(
        "  - { kind: pause, target: s, at: 12s, duration: 1s }\n  - { kind: pause, target: s, at: 11s, duration: 1s }\n",
    );
    for yaml in [one, two] {
        let (_, summary) = run(&scenario_from(&yaml));
        let service = &summary.services[0];
        assert_near(service.latency.max_ms, 7000.0);
        assert_eq!((service.pauses, service.paused_s), (1, 2.0));
    }
}

/// A caller's rate limit waits only while a request can still make its
/// deadline: with a 500ms deadline and up to 100ms of waiting, the caller
/// sends at the limit's rate and nothing misses its deadline; a `max_wait`
/// as long as the deadline is refused.
#[test]
fn a_rate_limit_wait_stays_within_the_deadline() {
    let text = |max_wait: &str| {
        format!(
            "duration: 20s\nwarmup: 5s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 200/s, deadline: 500ms, rate_limit: {{ rate: 100/s, max_wait: {max_wait} }} }}\nservices:\n  s: {{ workers: 4, service_time: 1ms }}\n"
        )
    };
    let (_, summary) = run(&scenario_from(&text("100ms")));
    let goodput = summary.sources[0].goodput_per_s;
    assert!((goodput - 100.0).abs() < 2.0, "goodput {goodput}/s");
    assert_eq!(summary.sources[0].failed.deadline_exceeded, 0);
    assert_invalid(&text("10s"), "past its deadline");
}

/// A hedge held back for a token still counts as in progress: when the
/// first attempt fails, the call waits for the hedge instead of failing.
#[test]
fn a_hedge_waiting_for_a_token_is_not_lost() {
    let text = |limit: &str| {
        format!(
            "duration: 30s\nsources:\n  u: {{ target: s, arrivals: constant, rate: 20/s, hedging: {{ max_attempts: 2, hedging_delay: 5ms }}{limit} }}\nservices:\n  s: {{ workers: 4, service_time: 10ms, error_rate: 50% }}\n"
        )
    };
    let (_, free) = run(&scenario_from(&text("")));
    let (_, limited) = run(&scenario_from(&text(
        ", rate_limit: { rate: 40/s, burst: 1, max_wait: 50ms }",
    )));
    let per_request = |s: &stampede::report::summary::Summary| {
        s.calls[0].attempts as f64 / s.calls[0].calls as f64
    };
    assert!(per_request(&free) > 1.9);
    assert!(per_request(&limited) > 1.9, "{}", per_request(&limited));
}

/// Autoscaling slots that are switched off do not pause, and are not
/// counted: one instance of twenty slots pauses about every 1.1s.
#[test]
fn switched_off_slots_do_not_pause() {
    let scenario = scenario_from(
        "duration: 60s\nsources:\n  u: { target: s, rate: 10/s }\nservices:\n  s:\n    workers: 4\n    service_time: 1ms\n    pauses: { every: 1s, duration: 100ms }\n    autoscaling: { target: 90%, min_instances: 1, max_instances: 20 }\n",
    );
    let (_, summary) = run(&scenario);
    let service = &summary.services[0];
    assert!(
        (50..=56).contains(&service.pauses),
        "{} pauses",
        service.pauses
    );
}
