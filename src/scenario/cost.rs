//! What a run will cost, estimated before it starts.
//!
//! Two numbers, both from the validated scenario alone. `arrivals_at_least`
//! is certain: the requests that open-loop sources with a constant rate will
//! send, each at least one event, so a scenario whose arrivals alone exceed
//! `limits.max_events` is refused before it runs instead of running for
//! minutes into the limit. `events_up_to` is the worst case: every request
//! uses every attempt at every hop (Σ rate × duration × attempts down the
//! chain), which `validate` and `run` turn into a warning with its number
//! when the run could take more than about a minute.

use super::spec::{Load, Scenario, Target};

/// Events per request at a hop: arrival, start and end of service.
const EVENTS_PER_HOP: f64 = 3.0;

/// Events a second a run processes on an ordinary core, for the "about how
/// long" of the warning (README's benchmark measures 5 to 10 million).
pub const EVENTS_PER_SECOND: f64 = 5e6;

/// Above this many events without retries the warning is given: about a
/// minute of work.
pub const WARN_EVENTS: f64 = 60.0 * EVENTS_PER_SECOND;

/// The worst case (every attempt made) warns only above ten minutes of work:
/// most runs use a fraction of their retries, and a warning on a scenario
/// that finishes in seconds would teach people to ignore it.
pub const WARN_WORST_CASE_EVENTS: f64 = 10.0 * WARN_EVENTS;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    /// Requests certain to arrive (constant-rate open-loop sources).
    pub arrivals_at_least: f64,
    /// Events if no call is retried or hedged.
    pub events_without_retries: f64,
    /// Events if every attempt of every call is made.
    pub events_up_to: f64,
}

impl CostEstimate {
    /// A warning for `validate` and `run`, when the run will take more than
    /// about a minute, or could take more than ten if every retry is made.
    pub fn warning(&self, max_events: u64) -> Option<String> {
        let minutes = |events: f64| events / EVENTS_PER_SECOND / 60.0;
        let limit = if self.events_up_to > max_events as f64 {
            format!("; limits.max_events stops it after {max_events} events")
        } else {
            String::new()
        };
        let advice = "shorten the duration or lower the rates for a quick look";
        if self.events_without_retries >= WARN_EVENTS {
            return Some(format!(
                "this scenario needs about {:.1e} events even with no retries, about {:.0} minutes of work (up to {:.1e} if every attempt is made){limit}; {advice}",
                self.events_without_retries,
                minutes(self.events_without_retries),
                self.events_up_to
            ));
        }
        if self.events_up_to >= WARN_WORST_CASE_EVENTS {
            return Some(format!(
                "this scenario could need up to {:.1e} events if every attempt of every call is made, about {:.0} minutes of work{limit}; {advice}",
                self.events_up_to,
                minutes(self.events_up_to)
            ));
        }
        None
    }
}

/// The estimate for `scenario`.
pub fn estimate(scenario: &Scenario) -> CostEstimate {
    let seconds = scenario.duration.as_secs_f64();
    let mut worst = vec![None; scenario.edges.len()];
    let mut single = vec![None; scenario.edges.len()];
    let mut arrivals_at_least = 0.0;
    let mut events_without_retries = 0.0;
    let mut events_up_to = 0.0;
    for source in &scenario.sources {
        let arrivals_up_to = match &source.load {
            Load::Open {
                rate_per_second,
                shape,
                ..
            } => {
                let peak = shape.as_ref().map_or(1.0, |s| s.peak());
                if shape.is_none() {
                    arrivals_at_least += rate_per_second * seconds;
                }
                rate_per_second * peak * seconds
            }
            // A client sends again at once at worst: a thousand a second each.
            Load::Closed { clients, .. } => f64::from(*clients) * seconds * 1e3,
        };
        let once = edge_events(scenario, source.edge, &mut single, false);
        events_without_retries += arrivals_up_to * once;
        events_up_to += arrivals_up_to * edge_events(scenario, source.edge, &mut worst, true);
    }
    CostEstimate {
        arrivals_at_least,
        events_without_retries,
        events_up_to,
    }
}

/// Events of one call on `edge`: one attempt, or with `every_attempt` all of
/// them, each reaching the target and everything the target calls.
/// Validation guarantees the calls form no cycle; the memo keeps a wide
/// graph linear.
fn edge_events(
    scenario: &Scenario,
    edge: u32,
    memo: &mut [Option<f64>],
    every_attempt: bool,
) -> f64 {
    let Some(spec) = scenario.edges.get(edge as usize) else {
        return 0.0;
    };
    if let Some(known) = memo[edge as usize] {
        return known;
    }
    let hedges = spec.policy.hedging.as_ref().map_or(0, |h| h.max_attempts);
    let attempts = match every_attempt {
        true => f64::from(spec.policy.max_attempts.max(hedges).max(1)),
        false => 1.0,
    };
    let at_target = match spec.target {
        Target::Service(id) => service_events(scenario, id, memo, every_attempt),
        Target::Balancer(id) => {
            let backends = &scenario.balancers[id as usize].backends;
            let total: f64 = backends
                .iter()
                .map(|&s| service_events(scenario, s, memo, every_attempt))
                .sum();
            total / backends.len().max(1) as f64
        }
        Target::Cache(id) => {
            let backend = scenario.caches[id as usize].backend_edge;
            EVENTS_PER_HOP + edge_events(scenario, backend, memo, every_attempt)
        }
        Target::Queue(_) | Target::Topic(_) => EVENTS_PER_HOP,
    };
    let events = attempts * at_target;
    memo[edge as usize] = Some(events);
    events
}

fn service_events(
    scenario: &Scenario,
    id: u32,
    memo: &mut [Option<f64>],
    every_attempt: bool,
) -> f64 {
    let calls = &scenario.services[id as usize].calls;
    EVENTS_PER_HOP
        + calls
            .iter()
            .map(|&edge| edge_events(scenario, edge, memo, every_attempt))
            .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn retries_multiply_down_the_chain() {
        let scenario = load_str(
            "x.yaml",
            "duration: 10s\nsources:\n  u: { target: a, rate: 100/s, retry: { max_attempts: 2 } }\nservices:\n  a: { service_time: 1ms, calls: [ { target: b, retry: { max_attempts: 3 } } ] }\n  b: { service_time: 1ms }\n",
        )
        .unwrap();
        let cost = estimate(&scenario);
        assert_eq!(cost.arrivals_at_least, 1000.0);
        assert_eq!(cost.events_without_retries, 1000.0 * (3.0 + 3.0));
        // 1000 requests × 2 attempts × (3 + 3 attempts × 3 events)
        assert_eq!(cost.events_up_to, 1000.0 * 2.0 * (3.0 + 3.0 * 3.0));
        assert!(cost.warning(2_000_000_000).is_none());
    }

    #[test]
    fn long_runs_are_warned_about_with_their_numbers() {
        let yaml = "duration: 2h\nlimits: { max_events: 1e9 }\nsources:\n  u: { target: a, rate: 100000/s }\nservices:\n  a: { service_time: 1us, workers: 4 }\n";
        let cost = estimate(&load_str("x.yaml", yaml).unwrap());
        let warning = cost.warning(1_000_000_000).unwrap();
        assert!(
            warning.contains("about 2.2e9 events even with no retries"),
            "{warning}"
        );
        assert!(
            warning.contains("limits.max_events stops it after 1000000000"),
            "{warning}"
        );
    }
}
