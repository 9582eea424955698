//! Asynchronous jobs: exact timelines with constant times, the polling
//! delay against theory, deadlines, conservation and determinism on random
//! job scenarios, and located errors for bad `job:` blocks.

use crate::common::*;
use proptest::prelude::*;
use stampede::report::jobs::JobSummary;
use stampede::report::summary::Summary;

fn job_of(summary: &Summary) -> &JobSummary {
    summary.sources[0].job.as_ref().expect("a job source")
}

/// A job source at `rate`, an API and status service, a queue and its
/// workers; `poll` and `work` set the polling and each job's processing.
fn job_scenario(seed: u64, rate: &str, poll: &str, work: &str, extra: &str) -> String {
    format!(
        "seed: {seed}
duration: 5m
warmup: 30s
sources:
  clients:
    target: api
    rate: {rate}
    job: {{ queue: jobs, status: status, poll: {poll}{extra} }}
services:
  api: {{ workers: 64, service_time: 10ms }}
  status: {{ workers: 64, service_time: 1ms }}
queues:
  jobs: {{ visibility_timeout: 1m }}
consumers:
  workers: {{ queue: jobs, pollers: 64, max_messages: 1, time_per_message: {work} }}
"
    )
}

/// Constant times give an exact timeline: submitted at t, accepted at
/// t + 10ms, done at t + 2.51s (processed in 2.5s). Each wait starts when
/// the last answer came: polls answer at t + 1.011s, 2.012s (not yet) and
/// 3.013s (done). Three polls per job, the user waits 3.013s, the system
/// 2.51s, and polling adds 503ms.
#[test]
fn constant_times_give_the_exact_timeline() {
    let yaml = job_scenario(3, "1/s", "{ interval: 1s }", "2500ms", "")
        .replace("rate: 1/s", "rate: 1/s\n    arrivals: constant");
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    let source = &summary.sources[0];
    assert_eq!(job.polls_per_job, 3.0, "{job:?}");
    assert_eq!(source.latency.mean_ms, Some(3013.0));
    assert_eq!(job.latency_system.mean_ms, Some(2510.0));
    assert_eq!(job.polling_delay.mean_ms, Some(503.0));
    assert_eq!(job.failed(), 0);
    assert_eq!(source.succeeded, job.seen_completed);
}

/// Backoff doubles the waits: polls answer at 1.011s, 3.012s and 7.013s
/// after submit (waits of 1s, 2s, 4s), so a job done at 4.51s is seen at
/// 7.013s, after three polls.
#[test]
fn polling_backs_off_exactly() {
    let yaml = job_scenario(
        3,
        "1/s",
        "{ interval: 1s, backoff_multiplier: 2, backoff_max: 1m }",
        "4500ms",
        "",
    )
    .replace("rate: 1/s", "rate: 1/s\n    arrivals: constant");
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    assert_eq!(job.polls_per_job, 3.0, "{job:?}");
    assert_eq!(summary.sources[0].latency.mean_ms, Some(7013.0));
    assert_eq!(job.polling_delay.mean_ms, Some(2503.0));
}

/// A job that ends at a uniformly random point of its client's polling
/// cycle is seen on average half a cycle later: T/2. Polls answer every
/// T' = 2.001s (a 2s wait, then a 1ms poll); jobs take uniform(0, 5T'),
/// so their ends fall uniformly within a cycle. Theory: 1000.5ms.
#[test]
fn a_job_polled_every_t_is_seen_t_over_2_after_it_ends() {
    let work = "\"uniform(min=0s, max=10.005s)\"";
    let yaml = job_scenario(1, "5/s", "{ interval: 2s }", work, "");
    let delays = replicate(&scenario_from(&yaml), 10, |_, summary| {
        job_of(summary).polling_delay.mean_ms.unwrap()
    });
    assert_matches_theory("mean polling delay (ms)", &delays, 1000.5, 0.05);
}

/// When job times are exponential (mean μ), their ends are not uniform
/// within the polling cycle T': E[delay] = T' / (1 − e^(−T'/μ)) − μ, which
/// tends to T'/2 as μ grows. T' = 2.001s, μ = 3s: 1110.9ms, not 1000.
#[test]
fn exponential_job_times_are_seen_later_than_half_a_cycle() {
    let yaml = job_scenario(1, "5/s", "{ interval: 2s }", "exp(mean=3s)", "");
    let delays = replicate(&scenario_from(&yaml), 10, |_, summary| {
        job_of(summary).polling_delay.mean_ms.unwrap()
    });
    let (cycle, mean) = (2001.0, 3000.0);
    let theory = cycle / (1.0 - libm::exp(-cycle / mean)) - mean;
    assert_matches_theory("mean polling delay (ms)", &delays, theory, 0.05);
}

/// A client whose deadline passes first gives up at exactly its
/// deadline: a failure (`deadline_exceeded`) the user waited 2s for, while
/// the system still completes the job.
#[test]
fn a_client_gives_up_at_its_deadline_and_the_job_still_completes() {
    let yaml = job_scenario(2, "2/s", "{ interval: 500ms }", "5s", ", deadline: 2s");
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    let source = &summary.sources[0];
    assert_eq!(source.succeeded, 0);
    assert_eq!(job.abandoned, source.failed.deadline_exceeded);
    assert!(job.abandoned > 400, "{job:?}");
    assert_eq!(source.latency_failed.mean_ms, Some(2000.0));
    assert!(job.completed + 20 >= job.accepted, "{job:?}");
    // Work nobody waited for: every job completed after its client left.
    assert_eq!(job.completed_after_given_up, job.completed);
}

/// Poison jobs are dead-lettered and their clients see them fail: a
/// failure (`error`) after the poll that saw it.
#[test]
fn a_dead_lettered_job_is_seen_failed() {
    let yaml = job_scenario(4, "5/s", "{ interval: 1s }", "100ms", "")
        .replace(
            "jobs: { visibility_timeout: 1m }",
            "jobs: { visibility_timeout: 1s, redrive: { dead_letter_queue: dlq, max_receive_count: 2 } }\n  dlq: {}",
        )
        .replace("time_per_message: 100ms", "time_per_message: 100ms, poison_fraction: 10%");
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    let source = &summary.sources[0];
    assert!(job.dead_lettered > 50, "{job:?}");
    assert_eq!(summary.queues[0].dead_lettered, job.dead_lettered);
    assert!(job.seen_failed + 5 >= job.dead_lettered, "{job:?}");
    assert_eq!(source.failed.error, job.seen_failed);
    assert!(job.latency_system_failed.p50_ms.unwrap() >= 1000.0);
}

/// Workers too slow to finish anything in the run: every accepted job is
/// left unfinished and its client still polls at the end.
#[test]
fn jobs_nobody_finishes_are_unfinished_not_lost() {
    let yaml = job_scenario(5, "2/s", "{ interval: 1s }", "2h", "");
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    assert_eq!(job.completed, 0);
    assert_eq!(job.unfinished_at_end, summary.sources[0].requests);
    assert_eq!(job.waiting_at_end, summary.sources[0].in_flight_at_end);
}

/// A submit the API fails is a rejected job: the request fails as the
/// call did, the job never enters the queue, and it counts in neither the
/// system's failures nor the polls per job.
#[test]
fn rejected_submits_are_counted_apart() {
    let yaml = job_scenario(6, "5/s", "{ interval: 1s }", "500ms", "").replace(
        "api: { workers: 64, service_time: 10ms }",
        "api: { workers: 64, service_time: 10ms, error_rate: 30% }",
    );
    let (_, summary) = run(&scenario_from(&yaml));
    let job = job_of(&summary);
    let source = &summary.sources[0];
    assert!(job.submit_failed > 300, "{job:?}");
    assert_eq!(source.failed.error, job.submit_failed + job.seen_failed);
    assert_eq!(summary.queues[0].sent, job.accepted);
    assert_eq!(job.failed(), 0);
    // Every accepted job is done at 0.51s, seen at the first poll.
    assert_eq!(job.polls_per_job, 1.0);
}

#[test]
fn bad_job_blocks_are_located_errors() {
    let base = job_scenario(1, "1/s", "{ interval: 1s }", "1s", "");
    for (change, fragment) in [
        (
            ("queue: jobs, status", "queue: api, status"),
            "`api` is a service; a job waits in a queue",
        ),
        (
            ("status: status", "status: jobs"),
            "`jobs` is a queue: clients poll a status endpoint",
        ),
        (
            ("target: api", "target: jobs"),
            "a job source submits through an API",
        ),
        (
            (
                "interval: 1s }",
                "interval: 1s, retry_after: true, backoff_multiplier: 2 }",
            ),
            "`retry_after` and `backoff_multiplier` conflict",
        ),
        (
            ("interval: 1s }", "interval: 10s, backoff_max: 1s }"),
            "`backoff_max` 1s is shorter than `interval` 10s",
        ),
        (
            ("interval: 1s }", "interval: 0s }"),
            "must be more than zero",
        ),
        (("poll: {", "pol: {"), "did you mean `poll`"),
        (
            ("queue: jobs, status", "queue: jbos, status"),
            "no queue is named `jbos` (did you mean `jobs`?)",
        ),
        (
            ("workers: { queue: jobs,", "workers: { queue: other,"),
            "no consumer group reads `jobs`",
        ),
        (
            (
                "interval: 1s }",
                "interval: 1s, retry_after: true, jitter: full }",
            ),
            "leave out `jitter`",
        ),
        (
            ("interval: 1s }", "interval: 1s, jitter: decorrelated }"),
            "needs `backoff_multiplier` above 1",
        ),
    ] {
        assert_invalid(&base.replace(change.0, change.1), fragment);
    }
    let missing = base.replace("queue: jobs, ", "");
    let message = assert_invalid(&missing, "`queue` is required");
    assert!(message.contains("sources.clients.job.queue"), "{message}");
}

#[test]
fn job_measures_need_a_job_source() {
    let base = job_scenario(1, "1/s", "{ interval: 1s }", "1s", "");
    let yaml = base.replace(
        "services:",
        "  other: { target: api, rate: 1/s }\nservices:",
    );
    for (expect, fragment) in [
        ("jobs_completed(other) > 1", "`other` does not submit jobs"),
        (
            "p99(other.system_latency) < 1s",
            "`other` does not submit jobs",
        ),
        ("polls_per_job(clinets) < 3", "did you mean `clients`"),
    ] {
        assert_invalid(&format!("{yaml}expect:\n  - {expect}\n"), fragment);
    }
}

fn any_job_scenario() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        1u32..40,
        prop::sample::select(vec![
            "{ interval: 100ms }",
            "{ interval: 50ms, backoff_multiplier: 2, backoff_max: 1s, jitter: full }",
            "{ retry_after: true, interval: 50ms, backoff_max: 2s }",
            "{ interval: 200ms, timeout: 5ms }",
        ]),
        prop::sample::select(vec!["", ", deadline: 300ms", ", deadline: 3s"]),
        prop::sample::select(vec![
            "",
            "capacity: 5, when_full: drop_newest",
            "capacity: 5, when_full: drop_oldest",
            "capacity: 5, when_full: block",
            "retention: 400ms",
        ]),
        prop::sample::select(vec![0.0, 0.2]),
        prop::sample::select(vec![0.0, 0.05]),
        1u32..4,
    )
        .prop_map(
            |(seed, rate, poll, deadline, bound, failure_rate, api_errors, pollers)| {
                format!(
                    "seed: {seed}
duration: 4s
warmup: 500ms
sources:
  clients:
    target: api
    rate: {rate}/s
    timeout_per_attempt: 50ms
    job: {{ queue: jobs, status: status, poll: {poll}{deadline} }}
services:
  api: {{ workers: 2, service_time: exp(mean=5ms), error_rate: {api_errors} }}
  status: {{ workers: 1, service_time: exp(mean=4ms), queue: {{ capacity: 2 }} }}
queues:
  jobs: {{ visibility_timeout: 150ms, redrive: {{ dead_letter_queue: dlq, max_receive_count: 2 }}, {bound} }}
  dlq: {{}}
consumers:
  workers: {{ queue: jobs, pollers: {pollers}, max_messages: 2, time_per_message: exp(mean=60ms), failure_rate: {failure_rate}, redelivery: {{ backoff_base: 20ms }} }}
"
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every job ends once on each side. The system's: each submit failed,
    /// or the job completed, failed (dead-lettered, expired, dropped) or is
    /// unfinished. The client's: each request succeeded (it saw the job
    /// completed), failed, or is still waiting. Runs are deterministic.
    #[test]
    fn every_job_ends_once_on_each_side(yaml in any_job_scenario()) {
        let scenario = scenario_from(&yaml);
        let (_, summary) = run(&scenario);
        prop_assert!(summary.stopped_early.is_none());
        let source = &summary.sources[0];
        let job = job_of(&summary);
        let system = job.submit_failed + job.completed + job.failed() + job.unfinished_at_end;
        prop_assert_eq!(source.requests, system, "{:?}", job);
        let client = source.succeeded + source.failed.total() + source.in_flight_at_end;
        prop_assert_eq!(source.requests, client);
        prop_assert_eq!(source.succeeded, job.seen_completed);
        prop_assert_eq!(job.waiting_at_end, source.in_flight_at_end);
        prop_assert!(job.seen_completed <= job.completed);
        prop_assert!(job.seen_failed <= job.failed());
        prop_assert_eq!(job.abandoned, source.failed.deadline_exceeded);
        prop_assert!(job.completed_after_given_up <= job.abandoned.min(job.completed));
        prop_assert_eq!(summary.to_json(), run(&scenario).1.to_json());
    }
}
