//! What a run will cost, estimated before it starts.
//!
//! Three numbers, all from the validated scenario alone.
//! `arrivals_at_least` is certain: the requests that open-loop sources with
//! a constant rate will send, each at least one event, so a scenario whose
//! arrivals alone exceed the default `limits.max_events` is refused before it
//! runs instead of running for minutes into the limit. `events_expected`
//! follows the error rates: a call is retried while its target fails, so a
//! dependency that always errors costs every attempt, and one that never does
//! costs one (timeouts, rejections and faults are not foreseen).
//! `events_up_to` is the worst case: every attempt at every hop (Σ rate ×
//! duration × attempts down the chain). `validate` and `run` warn, with the
//! numbers, when the expected work is more than about a minute or the worst
//! case more than ten.

use super::spec::{Load, Scenario, Target};

/// Events per attempt at a service: arrival, start and end of service.
const EVENTS_PER_HOP: f64 = 3.0;

/// Events per message through a queue: send, receive, delete and the polls
/// around them (about six, measured on a long-polling consumer).
const EVENTS_PER_MESSAGE: f64 = 6.0;

/// Events a second a run processes on an ordinary core, for the "about how
/// long" of the warning (runs measure 5 to 20 million; the low end is used).
pub const EVENTS_PER_SECOND: f64 = 5e6;

/// Above this many expected events the warning is given: about a minute.
pub const WARN_EVENTS: f64 = 60.0 * EVENTS_PER_SECOND;

/// The worst case (every attempt made) warns only above ten minutes of work:
/// most runs use a fraction of their retries, and a warning on a scenario
/// that finishes in seconds would teach people to ignore it.
pub const WARN_WORST_CASE_EVENTS: f64 = 10.0 * WARN_EVENTS;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    /// Requests certain to arrive (constant-rate open-loop sources).
    pub arrivals_at_least: f64,
    /// Events when calls are retried as often as their targets' error rates
    /// make them fail.
    pub events_expected: f64,
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
        if self.events_expected >= WARN_EVENTS {
            let worst = match self.events_up_to > self.events_expected * 1.01 {
                true => format!(
                    " ({:.1e} if every attempt of every call is made)",
                    self.events_up_to
                ),
                false => String::new(),
            };
            return Some(format!(
                "this scenario needs about {:.1e} events, up to {:.0} minutes of work{worst}{limit}; {advice}",
                self.events_expected,
                minutes(self.events_expected),
            ));
        }
        if self.events_up_to >= WARN_WORST_CASE_EVENTS {
            return Some(format!(
                "this scenario could need up to {:.1e} events if every attempt of every call is made, up to {:.0} minutes of work{limit}; {advice}",
                self.events_up_to,
                minutes(self.events_up_to)
            ));
        }
        None
    }
}

/// Events and the chance of failing, of one call on an edge.
#[derive(Clone, Copy, Debug, Default)]
struct CallCost {
    events: f64,
    failure: f64,
}

/// The estimate for `scenario`.
pub fn estimate(scenario: &Scenario) -> CostEstimate {
    let seconds = scenario.duration.as_secs_f64();
    let mut worst = Walk::new(scenario, Attempts::Every);
    let mut expected = Walk::new(scenario, Attempts::AsTheyFail);
    let mut arrivals_at_least = 0.0;
    let mut events_expected = 0.0;
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
        events_expected += arrivals_up_to * expected.edge(source.edge).events;
        events_up_to += arrivals_up_to * worst.edge(source.edge).events;
    }
    CostEstimate {
        arrivals_at_least,
        events_expected,
        events_up_to,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempts {
    /// Every attempt a policy allows.
    Every,
    /// Another attempt only while the target fails (by its error rates).
    AsTheyFail,
}

/// A walk down the call graph, memoised per edge. Validation guarantees the
/// calls form no cycle, so the recursion is as deep as the longest chain.
struct Walk<'a> {
    scenario: &'a Scenario,
    attempts: Attempts,
    memo: Vec<Option<CallCost>>,
}

impl<'a> Walk<'a> {
    fn new(scenario: &'a Scenario, attempts: Attempts) -> Self {
        Walk {
            scenario,
            attempts,
            memo: vec![None; scenario.edges.len()],
        }
    }

    /// One call on `edge`: its attempts, each reaching the target and all
    /// it calls. With failure chance p per attempt and m attempts allowed,
    /// the expected attempts are 1 + p + … + p^(m−1); the call fails with p^m.
    fn edge(&mut self, edge: u32) -> CallCost {
        let Some(spec) = self.scenario.edges.get(edge as usize) else {
            return CallCost::default();
        };
        if let Some(known) = self.memo[edge as usize] {
            return known;
        }
        let hedges = spec
            .policy
            .hedging
            .as_ref()
            .map_or(0, |h| h.max_attempts.get());
        let allowed = spec.policy.max_attempts.max(hedges).max(1);
        let target = self.target(spec.target);
        let retried_failure = match spec.policy.retry_on.error {
            true => target.failure,
            false => 0.0,
        };
        let attempts = match self.attempts {
            Attempts::Every => f64::from(allowed),
            Attempts::AsTheyFail => (0..allowed)
                .map(|k| libm::pow(retried_failure, f64::from(k)))
                .sum(),
        };
        let failure = target.failure * libm::pow(retried_failure, f64::from(allowed - 1));
        let cost = CallCost {
            events: attempts * target.events,
            failure,
        };
        self.memo[edge as usize] = Some(cost);
        cost
    }

    /// One attempt at `target`.
    fn target(&mut self, target: Target) -> CallCost {
        match target {
            Target::Service(id) => self.service(id),
            Target::Balancer(id) => {
                let backends = self.scenario.balancers[id as usize].backends.clone();
                let costs: Vec<CallCost> = backends.iter().map(|&s| self.service(s)).collect();
                let count = costs.len().max(1) as f64;
                CallCost {
                    events: costs.iter().map(|c| c.events).sum::<f64>() / count,
                    failure: costs.iter().map(|c| c.failure).sum::<f64>() / count,
                }
            }
            // A gate decides within the attempt's own event, or (a bulkhead's
            // line) with events rare beside its target's.
            Target::Gate(gate) => match self.scenario.gates.behind(gate) {
                Some(behind) => self.target(behind),
                None => unreachable!("a validated scenario's gates all guard something"),
            },
            Target::Cache(id) => {
                let backend = self.edge(self.scenario.caches[id as usize].backend_edge);
                CallCost {
                    events: EVENTS_PER_HOP + backend.events,
                    failure: backend.failure,
                }
            }
            Target::Queue(_) | Target::Topic(_) => CallCost {
                events: EVENTS_PER_MESSAGE,
                failure: 0.0,
            },
        }
    }

    fn service(&mut self, id: u32) -> CallCost {
        let service = &self.scenario.services[id as usize];
        let (error_rate, calls) = (service.error_rate, service.calls.clone());
        let mut cost = CallCost {
            events: EVENTS_PER_HOP,
            failure: error_rate,
        };
        for edge in calls {
            let call = self.edge(edge);
            cost.events += call.events;
            cost.failure = 1.0 - (1.0 - cost.failure) * (1.0 - call.failure);
        }
        cost
    }
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
        // No errors: one attempt each.
        assert_eq!(cost.events_expected, 1000.0 * (3.0 + 3.0));
        // 1000 requests × 2 attempts × (3 + 3 attempts × 3 events)
        assert_eq!(cost.events_up_to, 1000.0 * 2.0 * (3.0 + 3.0 * 3.0));
        assert!(cost.warning(2_000_000_000).is_none());
    }

    /// A target that always fails costs every attempt, down the chain.
    #[test]
    fn a_failing_dependency_costs_every_attempt() {
        let scenario = load_str(
            "x.yaml",
            "duration: 10s\nsources:\n  u: { target: a, rate: 100/s, retry: { max_attempts: 2 } }\nservices:\n  a: { service_time: 1ms, calls: [ { target: b, retry: { max_attempts: 3 } } ] }\n  b: { service_time: 1ms, error_rate: 1.0 }\n",
        )
        .unwrap();
        let cost = estimate(&scenario);
        assert_eq!(cost.events_expected, cost.events_up_to);
    }

    #[test]
    fn long_runs_are_warned_about_with_their_numbers() {
        let yaml = "duration: 2h\nlimits: { max_events: 1e9 }\nsources:\n  u: { target: a, rate: 100000/s }\nservices:\n  a: { service_time: 1us, workers: 4 }\n";
        let cost = estimate(&load_str("x.yaml", yaml).unwrap());
        let warning = cost.warning(1_000_000_000).unwrap();
        assert!(
            warning.contains("about 2.2e9 events, up to 7 minutes of work;"),
            "{warning}"
        );
        assert!(
            warning.contains("limits.max_events stops it after 1000000000"),
            "{warning}"
        );
    }
}
