//! Bulkheads: never more attempts through one at once than its places;
//! without a line, its blocking is Erlang B's (whatever the service time's
//! distribution); a line holds attempts in order and turns them away after
//! `max_wait`; and every attempt that reaches one is accounted for.

use crate::common::{assert_invalid, assert_matches_theory, replicate, run, scenario_from};

/// `users` at `rate` (Poisson) through bulkhead `pool` (`places`, `line`)
/// to `db`, which has `workers` and takes `service_time`.
fn pool(rate: &str, places: u32, line: &str, workers: u32, service_time: &str) -> String {
    format!(
        "name: pool\nseed: 11\nduration: 60s\nwarmup: 5s\n\
         sources:\n  users:\n    target: pool\n    rate: {rate}\n\
         bulkheads:\n  pool:\n    target: db\n    max_concurrent: {places}\n{line}\
         services:\n  db:\n    workers: {workers}\n    service_time: {service_time}\n"
    )
}

/// The Erlang B blocking probability of `servers` with `offered` erlangs.
fn erlang_b(servers: u32, offered: f64) -> f64 {
    (1..=servers).fold(1.0, |blocking, n| {
        offered * blocking / (f64::from(n) + offered * blocking)
    })
}

#[test]
fn without_a_line_a_bulkhead_blocks_as_erlang_b_predicts_for_any_service_time() {
    // Four places in front of a target that never queues: an M/G/4/4 loss
    // system, whose blocking depends on the service time only through its
    // mean (Erlang's insensitivity). 400/s × 10ms = 4 erlangs: 0.31068.
    let cases = ["exp(mean=10ms)", "10ms", "uniform(min=0ms, max=20ms)"];
    let theory = erlang_b(4, 4.0);
    assert!((theory - 0.310680).abs() < 1e-6, "{theory}");
    for service_time in cases {
        let scenario = scenario_from(&pool("400/s", 4, "", 1000, service_time));
        let blocking = replicate(&scenario, 10, |_, summary| {
            summary.gates.bulkheads[0].rejected_ratio
        });
        assert_matches_theory(service_time, &blocking, theory, 0.05);
    }
}

#[test]
fn no_more_attempts_pass_at_once_than_its_places() {
    // db has 50 workers, but the bulkhead lets only 5 attempts through at
    // once: db is never more than a tenth busy, however hard it is pushed.
    let scenario = scenario_from(&pool("2000/s", 5, "", 50, "exp(mean=10ms)"));
    let (_, summary) = run(&scenario);
    let bulkhead = &summary.gates.bulkheads[0];
    assert_eq!(bulkhead.in_use_max, 5);
    assert!(bulkhead.rejected_ratio > 0.5, "{bulkhead:?}");
    let db = &summary.services[0];
    assert!(db.utilisation <= 0.1 + 1e-9, "db {:.4}", db.utilisation);
    assert!(db.utilisation > 0.09, "db {:.4}", db.utilisation);
}

#[test]
fn a_line_holds_attempts_and_turns_them_away_after_max_wait() {
    // Two places at 10ms each serve 200/s; 300/s arrive, so the line stays
    // full and attempts wait, at most 20ms, before they are turned away.
    let line = "    max_waiting: 10\n    max_wait: 20ms\n";
    let scenario = scenario_from(&pool("300/s", 2, line, 100, "10ms"));
    let (_, summary) = run(&scenario);
    let bulkhead = &summary.gates.bulkheads[0];
    assert!(bulkhead.waited > 0, "{bulkhead:?}");
    assert!(bulkhead.rejected_waiting > 0, "{bulkhead:?}");
    let wait_max = bulkhead
        .wait_max_ms
        .expect("some attempts waited and passed");
    assert!(wait_max <= 20.0, "{bulkhead:?}");
    // Every attempt that passed took 10ms at db, after at most 20ms in line.
    let source = &summary.sources[0];
    // (The histogram keeps three significant digits.)
    assert!(source.latency.max_ms.unwrap() <= 30.0 * 1.001, "{source:?}");
}

#[test]
fn every_attempt_passes_waits_or_is_turned_away() {
    // No caller gives up here, so every attempt that reached the bulkhead
    // reached db or was turned away, but for those in line or at db at
    // either edge of the measured window: at most the line and the places.
    let line = "    max_waiting: 50\n";
    let scenario = scenario_from(&pool("250/s", 2, line, 100, "exp(mean=10ms)"));
    let (_, summary) = run(&scenario);
    let bulkhead = &summary.gates.bulkheads[0];
    let db = &summary.services[0];
    let accounted = db.attempts + bulkhead.rejected;
    let unaccounted = accounted.abs_diff(bulkhead.requests);
    assert!(unaccounted <= 50 + 2, "{bulkhead:?} {db:?}");
    assert_eq!(bulkhead.rejected, bulkhead.rejected_full);
}

#[test]
fn a_place_is_held_until_the_caller_stops_waiting() {
    // One place; db takes 100ms but the caller gives up after 10ms: the
    // place is free again then, as a client's semaphore is, so the next
    // attempt, 20ms later, passes too, and db works on five at once that
    // nobody waits for (one place held to the end would allow one).
    let text = pool("50/s", 1, "", 100, "100ms").replace(
        "    rate: 50/s\n",
        "    rate: 50/s\n    arrivals: constant\n    timeout_per_attempt: 10ms\n",
    );
    let (_, summary) = run(&scenario_from(&text));
    let db = &summary.services[0];
    assert_eq!(summary.gates.bulkheads[0].rejected, 0);
    assert!(db.abandoned_work > 0, "{db:?}");
    assert!(db.utilisation > 0.049, "db {:.4}", db.utilisation);
}

#[test]
fn mistakes_in_a_bulkhead_are_named_where_they_are() {
    let base = "duration: 10s\nsources:\n  users:\n    target: gate\n    rate: 10/s\n\
                services:\n  web:\n    workers: 2\n    service_time: 5ms\nqueues:\n  jobs: {}\n";
    let cases = [
        (
            "bulkheads:\n  gate:\n    target: web\n",
            "bulkheads.gate.max_concurrent",
        ),
        (
            "bulkheads:\n  gate:\n    target: web\n    max_concurrent: 0\n",
            "`0` is out of range: expected 1 to 1000000",
        ),
        (
            "bulkheads:\n  gate:\n    target: jobs\n    max_concurrent: 4\n",
            "`jobs` is not a service or load balancer; a bulkhead passes requests on to one of those",
        ),
        (
            "bulkheads:\n  gate:\n    target: web\n    max_concurrent: 4\n    max_wait: 10ms\n",
            "`max_wait` bounds the wait for a place, but `max_waiting` is 0",
        ),
        (
            "bulkheads:\n  gate:\n    target: web\n    max_concurent: 4\n",
            "did you mean `max_concurrent`?",
        ),
    ];
    for (bulkhead, fragment) in cases {
        assert_invalid(&format!("{base}{bulkhead}"), fragment);
    }
}

#[test]
fn an_attempt_whose_caller_gave_up_in_line_never_reaches_the_target() {
    // Impatient callers (10ms) share eight places with patient ones
    // (500ms): some give up in line, and those never reach db. Nothing is
    // turned away, so db's attempts and those given up in line are every
    // attempt, but for those at either edge of the window.
    let text = "name: pool\nseed: 3\nduration: 40s\nwarmup: 5s\n\
        sources:\n  patient: { target: pool, rate: 300/s, timeout_per_attempt: 500ms }\n  \
        impatient: { target: pool, rate: 100/s, timeout_per_attempt: 10ms }\n\
        services:\n  db: { workers: 100, service_time: exp(mean=20ms) }\n\
        bulkheads:\n  pool: { target: db, max_concurrent: 8, max_waiting: 1000 }\n";
    let (_, summary) = run(&scenario_from(text));
    let bulkhead = &summary.gates.bulkheads[0];
    let db = &summary.services[0];
    assert_eq!(bulkhead.rejected, 0);
    assert!(bulkhead.gave_up_waiting > 100, "{bulkhead:?}");
    let accounted = db.attempts + bulkhead.gave_up_waiting;
    assert!(
        accounted.abs_diff(bulkhead.requests) <= 1000 + 8,
        "{bulkhead:?} {db:?}"
    );
    let why = summary.why.join(" ");
    assert!(
        why.contains("Callers gave up on attempts waiting in line at the bulkhead `pool`"),
        "{why}"
    );
}

/// The time series follows every kind of gate: per interval, the attempts
/// reaching it and those it turned away add up to the summary's counts;
/// a bulkhead's places taken and line, and a shaper's attempts held back,
/// stay within their bounds and are seen.
#[test]
fn the_time_series_follows_each_kind_of_gate() {
    let scenario = scenario_from(
        "name: gates\nseed: 5\nduration: 30s\n\
         sources:\n  a:\n    target: limit\n    rate: 300/s\n  \
         b:\n    target: pool\n    rate: 300/s\n  c:\n    target: pace\n    rate: 300/s\n\
         rate_limiters:\n  limit: { target: db, rate: 200/s, burst: 10 }\n\
         bulkheads:\n  pool: { target: db, max_concurrent: 2, max_waiting: 10 }\n\
         shapers:\n  pace: { target: db, rate: 200/s, max_delay: 50ms }\n\
         services:\n  db:\n    workers: 1000\n    service_time: exp(mean=8ms)\n",
    );
    let (outcome, summary) = run(&scenario);
    let series = &outcome.timeseries;
    let column = |name: &str| {
        series
            .column(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    // One-second intervals: each rate is a count.
    let total = |name: &str| column(name).iter().sum::<f64>() as u64;
    let most = |name: &str| column(name).into_iter().fold(0.0, f64::max);
    let gates = &summary.gates;
    let (limit, pool, pace) = (
        &gates.rate_limiters[0],
        &gates.bulkheads[0],
        &gates.shapers[0],
    );
    assert_eq!(total("limit.arrivals_per_s"), limit.requests);
    assert_eq!(total("limit.throttled_per_s"), limit.throttled);
    assert!(limit.throttled > 0, "{limit:?}");
    assert_eq!(total("pool.arrivals_per_s"), pool.requests);
    assert_eq!(total("pool.rejected_per_s"), pool.rejected);
    assert!(pool.rejected > 0, "{pool:?}");
    assert_eq!(most("pool.in_use"), 2.0);
    assert!(most("pool.waiting") > 0.0 && most("pool.waiting") <= 10.0);
    assert_eq!(total("pace.arrivals_per_s"), pace.requests);
    assert_eq!(total("pace.throttled_per_s"), pace.throttled);
    assert!(pace.throttled > 0, "{pace:?}");
    // At most 50ms of turns at 200/s are held back at once.
    assert!(most("pace.held") > 0.0 && most("pace.held") <= 10.0);
}
