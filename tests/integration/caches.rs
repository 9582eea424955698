//! Caches and health-aware balancing: fixed hit ratios, capacity, TTLs,
//! coalescing, Zipf hit ratios across seeds, flushes; weighted round robin,
//! consistent hashing by key, outlier ejection and health checks; and the
//! bundled scenarios' stories.

use crate::common::*;

/// users → cache → db with the cache keys given, 1000 requests/s.
fn cached(cache: &str, keys: &str, extra: &str) -> String {
    format!(
        "duration: 60s\nsources:\n  u: {{ target: c, rate: 1000/s{keys} }}\ncaches:\n  c: {{ target: db, {cache} }}\nservices:\n  db: {{ workers: 50, service_time: exp(mean=5ms) }}\n{extra}"
    )
}

#[test]
fn a_fixed_hit_ratio_is_measured() {
    let (_, summary) = run(&scenario_from(&cached("hit_ratio: 80%", "", "")));
    let cache = &summary.caches[0];
    // 60,000 Bernoulli draws: sd 0.0016.
    assert!((cache.hit_ratio - 0.8).abs() < 0.01, "{}", cache.hit_ratio);
    assert_eq!(cache.backend_calls, cache.misses);
    assert_eq!(summary.services[0].attempts, cache.misses);
}

#[test]
fn an_lru_cache_never_holds_more_than_its_capacity() {
    let text = cached("capacity: 500", ", keys: uniform(count=5000)", "");
    let (_, summary) = run(&scenario_from(&text));
    let cache = &summary.caches[0];
    assert_eq!(cache.entries_at_end, 500);
    assert!(cache.evictions > 10_000);
    // 500 of 5000 equally likely keys: a 10% hit ratio.
    assert!((cache.hit_ratio - 0.1).abs() < 0.01, "{}", cache.hit_ratio);
}

/// No hit is served from an entry older than its TTL, and with a stale
/// window, no older than TTL plus the window.
#[test]
fn an_entry_is_never_served_past_its_ttl() {
    for (extra, limit_ms) in [("", 2_000.0), (", stale_while_revalidate: 1s", 3_000.0)] {
        let text = cached(
            &format!("capacity: 100000, ttl: 2s{extra}"),
            ", keys: \"zipf(count=1000, exponent=1.0)\"",
            "",
        );
        let (_, summary) = run(&scenario_from(&text));
        let cache = &summary.caches[0];
        assert!(cache.expirations > 100, "{extra}");
        // Ages are histogram values: exact to three significant digits.
        assert!(
            cache.hit_age.max_ms.unwrap() <= limit_ms * 1.001,
            "{extra}: {}",
            cache.hit_age.max_ms.unwrap()
        );
    }
}

/// With coalescing, concurrent misses for one key share a single backend
/// call: one key, a 100ms backend, 1000 requests/s, and one call per fill.
#[test]
fn coalescing_sends_one_backend_call_per_key_per_fill() {
    let text = "duration: 10s\nsources:\n  u: { target: c, arrivals: constant, rate: 1000/s, keys: uniform(count=1) }\ncaches:\n  c: { target: db, ttl: 1s, hit_latency: 0, coalescing: COALESCE }\nservices:\n  db: { workers: 1000, service_time: 100ms }\n";
    let (_, with) = run(&scenario_from(&text.replace("COALESCE", "true")));
    let (_, without) = run(&scenario_from(&text.replace("COALESCE", "false")));
    let cache = &with.caches[0];
    // A fill every TTL + fetch time (1.1s): 10 in 10s, each for one key.
    assert!(
        (9..=10).contains(&cache.backend_calls),
        "{}",
        cache.backend_calls
    );
    assert!(cache.coalesced > 500);
    // Without it, each of the ~100 requests during a fetch calls db itself.
    assert!(
        without.caches[0].backend_calls > 50 * cache.backend_calls,
        "{}",
        without.caches[0].backend_calls
    );
}

/// Zipf keys into an LRU cache: the warm hit ratio is a property of the
/// workload, the same across seeds within a narrow band.
#[test]
fn a_zipf_lru_hit_ratio_is_stable_across_seeds() {
    let text = cached(
        "capacity: 2000, start: warm",
        ", keys: \"zipf(count=20000, exponent=1.0)\"",
        "",
    );
    let scenario = scenario_from(&format!("warmup: 10s\n{text}"));
    let ratios = replicate(&scenario, 5, |_, s| s.caches[0].hit_ratio);
    let (mean, se) = mean_and_se(&ratios);
    assert!(se < 0.003, "{ratios:?}");
    // Che's approximation of LRU under independent requests: the
    // characteristic time T solves Σ (1 − e^(−p_i T)) = capacity, and the
    // hit ratio is Σ p_i (1 − e^(−p_i T)).
    let weights: Vec<f64> = (1..=20_000).map(|k| 1.0 / f64::from(k)).collect();
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let filled = |t: f64| p.iter().map(|&pi| 1.0 - libm::exp(-pi * t)).sum::<f64>();
    let (mut low, mut high) = (1.0, 1e9);
    for _ in 0..200 {
        let mid = (low + high) / 2.0;
        if filled(mid) < 2_000.0 {
            low = mid;
        } else {
            high = mid;
        }
    }
    let che: f64 = p.iter().map(|&pi| pi * (1.0 - libm::exp(-pi * low))).sum();
    assert!(
        (mean - che).abs() < 0.01,
        "measured {ratios:?}, Che {che:.4}"
    );
}

#[test]
fn a_flush_empties_the_cache_and_it_refills() {
    let text = cached(
        "capacity: 5000, start: warm",
        ", keys: \"zipf(count=5000, exponent=1.0)\"",
        "faults:\n  - { kind: flush, target: c, at: 20s, duration: 2s }\n",
    );
    let (outcome, summary) = run(&scenario_from(&text));
    let ratio = outcome.timeseries.column("c.hit_ratio").unwrap();
    assert_eq!(ratio[20], 0.0, "nothing found while restarting: {ratio:?}");
    assert!(ratio[10] > 0.99 && ratio[50] > 0.9, "{ratio:?}");
    assert_eq!(summary.faults[0].kind, "flush");
}

/// Weighted round robin sends each backend its share.
#[test]
fn weighted_round_robin_splits_by_weight() {
    let text = "duration: 20s\nsources:\n  u: { target: lb, rate: 1000/s }\nservices:\n  a: { workers: 100, service_time: 1ms }\n  b: { workers: 100, service_time: 1ms }\nload_balancers:\n  lb: { strategy: weighted_round_robin, backends: [a, b], weights: [3, 1] }\n";
    let (_, summary) = run(&scenario_from(text));
    let (a, b) = (summary.services[0].attempts, summary.services[1].attempts);
    assert!((a as f64 / b as f64 - 3.0).abs() < 0.01, "{a} vs {b}");
}

/// Consistent hashing sends every request for a key to one instance: one
/// hot key queues on one single-worker instance (M/D/1 at 50%, mean wait
/// 0.5ms), where a thousand keys spread over four barely queue at all.
#[test]
fn consistent_hashing_pins_a_key_to_an_instance() {
    let text = "duration: 60s\nsources:\n  u: { target: s, rate: 500/s, keys: uniform(count=1) }\nservices:\n  s: { instances: 4, balancer: consistent_hash, workers: 1, service_time: 1ms }\n";
    let (_, hot) = run(&scenario_from(text));
    let (_, spread) = run(&scenario_from(&text.replace("count=1)", "count=1000)")));
    let hot_wait = hot.services[0].queue_wait.mean_ms.unwrap();
    let spread_wait = spread.services[0].queue_wait.mean_ms.unwrap();
    assert!((hot_wait - 0.5).abs() < 0.05, "{hot_wait}");
    assert!(hot_wait > 3.0 * spread_wait, "{hot_wait} vs {spread_wait}");
}

/// An instance that fails every request is ejected, and returns after the
/// ejection time; with max_ejection_percent it is the only one.
#[test]
fn outlier_detection_ejects_a_failing_instance_and_restores_it() {
    let text = "duration: 60s\nsources:\n  u: { target: s, rate: 500/s }\nservices:\n  s: { instances: 5, workers: 50, service_time: 2ms, outlier_detection: { consecutive_5xx: 5, interval: 1s, base_ejection_time: 5s, max_ejection_percent: 20% } }\nfaults:\n  - { kind: errors, target: s, instance: 2, at: 10s, duration: 20s, error_rate: 100% }\n";
    let (outcome, summary) = run(&scenario_from(text));
    let service = &summary.services[0];
    // Ejected at 10s, back after 5s, failing again, ejected for 10s...
    assert!(service.ejections >= 2, "{}", service.ejections);
    // Ejection keeps the errors to a handful per ejection cycle.
    assert!(service.errors < 100, "{} errors", service.errors);
    // After the fault, the instance takes its share again.
    let attempts = outcome.timeseries.column("s.attempts_per_s").unwrap();
    assert!(attempts[55] > 450.0);
}

/// Health checks take a crashed instance out after three failed probes
/// and put it back after two passed ones.
#[test]
fn health_checks_take_a_down_instance_out_and_back() {
    let base = "duration: 60s\nsources:\n  u: { target: s, arrivals: constant, rate: 400/s }\nservices:\n  s: { instances: 4, workers: 50, service_time: 2ms HEALTH }\nfaults:\n  - { kind: crash, target: s, instance: 1, at: 10s, duration: 20s }\n";
    let checked = base.replace(
        " HEALTH",
        ", health_check: { interval: 1s, unhealthy_threshold: 3, healthy_threshold: 2 }",
    );
    let (_, blind) = run(&scenario_from(&base.replace(" HEALTH", "")));
    let (_, summary) = run(&scenario_from(&checked));
    // Blind round robin sends a quarter of 20s of traffic into the crash.
    assert!(
        blind.services[0].refused >= 1_990,
        "{}",
        blind.services[0].refused
    );
    // With checks, only about three seconds' worth before it is taken out.
    let refused = summary.services[0].refused;
    assert!((200..=400).contains(&refused), "{refused}");
    assert_eq!(summary.services[0].marked_unhealthy, 1);
}

#[test]
fn the_cache_and_balancing_scenarios_tell_their_stories() {
    let verdicts = |name: &str| {
        let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
        let study = stampede::scenario::load_study(std::path::Path::new(&path)).unwrap();
        let scenarios: Vec<_> = study
            .variants
            .iter()
            .skip(1)
            .map(|v| v.scenario.clone())
            .collect();
        stampede::runner::run_all(&scenarios)
            .into_iter()
            .map(|run| run.summary)
            .collect::<Vec<_>>()
    };
    let cold = verdicts("cache-cold-start.yaml");
    assert!(
        !cold[0].recovery[0].recovered,
        "without coalescing it stays down"
    );
    assert!(cold[1].recovery[0].recovered, "with coalescing it recovers");
    assert!(cold[1].caches[0].backend_calls < cold[0].caches[0].backend_calls);
    let slow = verdicts("slow-instance.yaml");
    let p99 = |s: &stampede::report::summary::Summary| s.sources[0].latency.p99_ms.unwrap();
    let round_robin = p99(&slow[0]);
    for better in &slow[1..] {
        assert!(
            p99(better) < round_robin / 2.0,
            "{} vs {round_robin}",
            p99(better)
        );
    }
}
