//! Shapers: attempts pass at most `rate` a second, evenly spaced; one
//! that comes early is held back (a single server with a constant service
//! time of 1/`rate`, so its delays are M/D/1's waits under Poisson
//! arrivals) and one whose turn is more than `max_delay` away is throttled.

use crate::common::{assert_invalid, assert_matches_theory, replicate, run, scenario_from};

/// `users` at `arrivals` through shaper `pace` (`rate`, `max_delay`) to a
/// `db` that never queues, for `duration`.
fn paced(arrivals: &str, rate: &str, max_delay: &str, duration: &str) -> String {
    format!(
        "name: paced\nseed: 7\nduration: {duration}\n\
         sources:\n  users:\n    target: pace\n    {arrivals}\n\
         shapers:\n  pace:\n    target: db\n    rate: {rate}\n    max_delay: {max_delay}\n\
         services:\n  db:\n    workers: 1000\n    service_time: 1ms\n"
    )
}

#[test]
fn without_delay_a_shaper_passes_exactly_one_attempt_per_turn() {
    // (arrivals, pace): constant arrivals faster than the pace; with no
    // delay allowed only those that come on their turn pass, one per
    // 1/rate over 10s.
    let cases = [
        ("arrivals: constant\n    rate: 1000/s", "100/s", 1000),
        ("arrivals: constant\n    rate: 400/s", "200/s", 2000),
        ("arrivals: constant\n    rate: 50/s", "5/s", 50),
    ];
    for (arrivals, rate, expected) in cases {
        let scenario = scenario_from(&paced(arrivals, rate, "0s", "10s"));
        let (_, summary) = run(&scenario);
        let shaper = &summary.gates.shapers[0];
        let passed = shaper.requests - shaper.throttled;
        assert!(passed.abs_diff(expected) <= 1, "{rate}: {shaper:?}");
        assert_eq!(shaper.delayed, 0, "{shaper:?}");
        assert_eq!(summary.services[0].attempts, passed);
    }
}

#[test]
fn a_burst_is_spread_out_at_the_pace_rather_than_refused() {
    // 200/s for 10s into a pace of 100/s with room to wait: nothing is
    // throttled, db sees 100/s, and the last attempts wait about 10s.
    let arrivals = "arrivals: constant\n    rate: 200/s";
    let scenario = scenario_from(&paced(arrivals, "100/s", "30s", "10s"));
    let (_, summary) = run(&scenario);
    let shaper = &summary.gates.shapers[0];
    assert_eq!(shaper.throttled, 0, "{shaper:?}");
    let db = &summary.services[0];
    assert!(db.attempts.abs_diff(1000) <= 1, "{db:?}");
    let longest = shaper.delay_max_ms.expect("attempts were held back");
    assert!((longest - 5000.0).abs() < 20.0, "{shaper:?}");
}

#[test]
fn under_poisson_arrivals_its_delays_are_m_d_1_waits() {
    // λ = 80/s against a pace of 100/s: a single server with a constant
    // service time of 10ms, ρ = 0.8, Wq = ρ / (2μ(1 − ρ)) = 20ms.
    let scenario = scenario_from(&paced("rate: 80/s", "100/s", "1h", "200s"));
    let waits = replicate(&scenario, 10, |_, summary| {
        let shaper = &summary.gates.shapers[0];
        let delayed_share = shaper.delayed as f64 / shaper.requests as f64;
        delayed_share * shaper.delay_mean_ms.unwrap_or(0.0)
    });
    assert_matches_theory("M/D/1 wait (ms)", &waits, 20.0, 0.1);
}

#[test]
fn an_attempt_whose_caller_gives_up_while_held_back_never_reaches_the_target() {
    // Nearly the pace arrives, and db fails half the attempts. An attempt
    // held back a while, failed, and retried at once may have less of its
    // caller's 250ms deadline left than the wait for its next turn: its
    // caller gives up while it is held back, and it never reaches db.
    let arrivals = "rate: 95/s\n    timeout_per_attempt: 200ms\n    \
                    deadline: 250ms\n    retry: { max_attempts: 3, backoff: none }";
    let text = paced(arrivals, "100/s", "190ms", "60s").replace(
        "    service_time: 1ms\n",
        "    service_time: 1ms\n    error_rate: 50%\n",
    );
    let (_, summary) = run(&scenario_from(&text));
    let shaper = &summary.gates.shapers[0];
    assert!(shaper.gave_up_waiting > 100, "{shaper:?}");
    let passed = shaper.requests - shaper.throttled - shaper.gave_up_waiting;
    let db = &summary.services[0];
    assert!(db.attempts.abs_diff(passed) <= 20, "{shaper:?} {db:?}");
}

#[test]
fn a_max_delay_as_long_as_the_callers_wait_is_refused() {
    // Held back as long as its caller waits, an attempt is given up on
    // before its turn and the turn is spent on nobody: db would starve.
    let arrivals = "rate: 200/s\n    timeout_per_attempt: 100ms";
    let text = paced(arrivals, "100/s", "100ms", "10s");
    assert_invalid(
        &text,
        "a max_delay of 100ms is not shorter than the 100ms that `users` waits for its calls to `pace`",
    );
}

#[test]
fn mistakes_in_a_shaper_are_named_where_they_are() {
    let base = "duration: 10s\nsources:\n  users:\n    target: pace\n    rate: 10/s\n\
                services:\n  web:\n    workers: 2\n    service_time: 5ms\nqueues:\n  jobs: {}\n";
    let cases = [
        ("shapers:\n  pace:\n    target: web\n", "shapers.pace.rate"),
        (
            "shapers:\n  pace:\n    target: web\n    rate: 0/s\n",
            "a shaper's rate must be above 0",
        ),
        (
            "shapers:\n  pace:\n    target: jobs\n    rate: 5/s\n",
            "`jobs` is not a service or load balancer; a shaper passes requests on to one of those",
        ),
        (
            "shapers:\n  pace:\n    target: web\n    rate: 5/s\n    max_dealy: 1s\n",
            "did you mean `max_delay`?",
        ),
    ];
    for (shaper, fragment) in cases {
        assert_invalid(&format!("{base}{shaper}"), fragment);
    }
}
