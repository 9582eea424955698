//! Why, in sentences: causes read off the recorded data, each citing the
//! numbers that support it, and none without them.
//!
//! Six patterns: where attempts failed at services (errors of their own,
//! outages and crashes first, then full queues, shedding and queue
//! timeouts), a timeout shorter than the callee's queue wait (the work
//! it serves is abandoned), attempts multiplying down the call graph
//! against the retry policies that allow it, the bottleneck and where the
//! queue builds, a disturbance the system did not recover from while
//! retries kept the load up, and a defence (breaker, retry limit, shedding,
//! rate limit) that acted in a run that recovered. Consumers falling behind
//! have their own verdict in the queue lines.

use crate::scenario::Scenario;
use crate::scenario::spec::{EdgeSpec, Target};

use super::gates::BulkheadSummary;
use super::summary::Summary;
use super::text::{format_ms, group_digits, percent_trimmed};

/// Utilisation from which the busiest service is called the bottleneck.
const BOTTLENECK_UTILISATION: f64 = 0.7;

/// The sentences, most telling first.
pub fn why(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    let mut sentences = Vec::new();
    sentences.extend(failures_at_services(scenario, summary));
    if summary.totals.failed > 0 {
        sentences.extend(super::gates::where_attempts_failed(&summary.gates));
    }
    sentences.extend(timeouts_shorter_than_waits(scenario, summary));
    sentences.extend(retries_multiply(scenario, summary));
    sentences.extend(bottleneck(scenario, summary));
    sentences.extend(storm_outlives_trigger(summary));
    sentences.extend(defences_that_acted(summary));
    sentences
}

/// Where attempts failed at services, when requests failed: what a
/// service did to its own attempts by itself, injected causes first (its
/// errors when it calls nobody, an outage, a crash), then capacity (a full
/// queue, shedding, a queue timeout), each kind from 1% of the service's
/// attempts up, at most two. Errors passed up from below are not counted
/// against a caller, and no claim is made about which caused the other.
fn failures_at_services(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    if summary.totals.failed == 0 {
        return Vec::new();
    }
    // (injected, count, service, the clause's share).
    let mut found: Vec<(bool, u64, &super::summary::ServiceSummary, String)> = Vec::new();
    let specs: std::collections::BTreeMap<&str, _> = scenario
        .services
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    for service in &summary.services {
        let Some(&spec) = specs.get(service.name.as_str()) else {
            continue;
        };
        let kinds = failure_kinds(spec, service);
        let attempts = service.attempts.max(1);
        for (injected, count, how) in kinds {
            // A trickle says little about where the failures are.
            if count * 100 >= attempts {
                let share = format!(
                    "{} ({:.1}%) were {how}",
                    group_digits(count),
                    count as f64 * 100.0 / attempts as f64
                );
                found.push((injected, count, service, share));
            }
        }
    }
    // Stable: equal ranks keep the services' order.
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut clauses: Vec<String> = Vec::new();
    let mut last: Option<&str> = None;
    for (_, _, service, share) in found.into_iter().take(2) {
        clauses.push(match last == Some(service.name.as_str()) {
            true => format!("and {share}"),
            false => format!(
                "at `{}`, of its {} attempts, {share}",
                service.name,
                group_digits(service.attempts)
            ),
        });
        last = Some(service.name.as_str());
    }
    match clauses.is_empty() {
        true => Vec::new(),
        false => vec![format!("Where attempts failed: {}.", clauses.join("; "))],
    }
}

/// What a service did to its own attempts by itself, each with its count:
/// injected causes (`true`) and capacity (`false`).
fn failure_kinds(
    spec: &crate::scenario::spec::ServiceSpec,
    service: &super::summary::ServiceSummary,
) -> [(bool, u64, String); 6] {
    let own_errors = match spec.calls.is_empty() {
        true => service.errors,
        false => 0,
    };
    let errors_why = match spec.error_rate {
        rate if rate > 0.0 => format!("its error_rate is {}", percent_trimmed(rate)),
        _ => "an error fault".to_string(),
    };
    [
        (
            true,
            own_errors,
            format!("answered with errors of its own ({errors_why})"),
        ),
        (
            true,
            service.refused + service.hung,
            "refused or left unanswered by an outage".to_string(),
        ),
        (
            true,
            service.lost_in_crash,
            "lost when an instance crashed".to_string(),
        ),
        (
            false,
            service.rejected,
            format!(
                "turned away because its queue was full (capacity {} per instance)",
                group_digits(u64::from(spec.queue_capacity))
            ),
        ),
        (
            false,
            service.shed,
            "shed by its concurrency limit".to_string(),
        ),
        (
            false,
            service.queue_timeouts,
            "dropped after waiting longer than its queue timeout".to_string(),
        ),
    ]
}

/// A caller that gives up before the callee's queue lets its request
/// through: the callee serves it for nobody.
fn timeouts_shorter_than_waits(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    // Each service's shortest timeout per attempt among its callers (the
    // first edge of equal ones), in one pass over the edges: a scan of
    // every edge per service would be quadratic in the scenario's size.
    let mut shortest: Vec<Option<(f64, &EdgeSpec)>> = vec![None; summary.services.len()];
    for edge in &scenario.edges {
        let (Target::Service(id), Some(timeout)) = (edge.target, edge.policy.timeout_per_attempt)
        else {
            continue;
        };
        let timeout_ms = timeout.as_millis_f64();
        if let Some(slot) = shortest.get_mut(id as usize)
            && slot.is_none_or(|(best, _)| timeout_ms < best)
        {
            *slot = Some((timeout_ms, edge));
        }
    }
    let mut sentences = Vec::new();
    for (service, shortest) in summary.services.iter().zip(shortest) {
        let Some(wait_ms) = service.queue_wait.mean_ms else {
            continue;
        };
        let Some((timeout_ms, edge)) = shortest else {
            continue;
        };
        if wait_ms <= timeout_ms || service.abandoned_work == 0 {
            continue;
        }
        let served = (service.succeeded + service.errors).max(1);
        sentences.push(format!(
            "Requests waited {} on average in `{}`'s queue, longer than the {} timeout per attempt of its caller `{}`: {} answers ({:.0}% of what it served) went to callers that had already given up.",
            format_ms(wait_ms),
            service.name,
            format_ms(timeout_ms),
            edge.caller,
            group_digits(service.abandoned_work),
            service.abandoned_work as f64 * 100.0 / served as f64,
        ));
    }
    sentences
}

/// The most attempts each service can receive per request, by the product
/// of `max_attempts` along the worst path from a source, with that path.
/// Paths share their beginnings: each is its last step, and each step
/// knows the one before, so a chain of services keeps one step per
/// service, not a path per service.
struct AttemptBounds {
    /// (edge, the step before it or [`NO_STEP`]).
    steps: Vec<(usize, usize)>,
    /// Per service: its bound and the last step of its path.
    best: Vec<Option<(f64, usize)>>,
}

/// No step: what comes before the first step of a path.
const NO_STEP: usize = usize::MAX;

impl AttemptBounds {
    fn bound(&self, service: usize) -> Option<f64> {
        self.best[service].map(|(bound, _)| bound)
    }

    /// The edges from a source to `service` along its worst path.
    fn path(&self, service: usize) -> Vec<usize> {
        let mut path = Vec::new();
        let mut at = self.best[service].map_or(NO_STEP, |(_, last)| last);
        while at != NO_STEP {
            path.push(self.steps[at].0);
            at = self.steps[at].1;
        }
        path.reverse();
        path
    }

    /// The edge `edge` taken after step `before`, with the bound `above`
    /// so far: the service it reaches, its bound and the new step.
    fn step(
        &mut self,
        scenario: &Scenario,
        edge: usize,
        above: f64,
        before: usize,
    ) -> Option<(usize, f64, usize)> {
        let spec = &scenario.edges[edge];
        let Target::Service(target) = spec.target else {
            return None;
        };
        self.steps.push((edge, before));
        let bound = above * f64::from(spec.policy.max_attempts);
        Some((target as usize, bound, self.steps.len() - 1))
    }
}

/// Paths are walked in waves from the sources, one call deeper each time.
/// Of the paths a wave brings to one service, only the one with the
/// largest product goes on (the first of equal ones): any path through
/// the others would be beaten by the same path through it. So the cost
/// grows with the services and calls, not with the number of paths,
/// which doubles with every layer of a diamond-shaped call graph. The
/// bound kept for a service is the first largest met, wave by wave: the
/// shortest such path, then the first in source and call order. (Products
/// are exact below 2^53 attempts; beyond, rounding could pick another of
/// nearly equal paths.)
fn attempt_bounds(scenario: &Scenario) -> AttemptBounds {
    let services = scenario.services.len();
    let mut bounds = AttemptBounds {
        steps: Vec::new(),
        best: vec![None; services],
    };
    let mut frontier: Vec<(usize, f64, usize)> = Vec::new();
    for source in &scenario.sources {
        frontier.extend(bounds.step(scenario, source.edge as usize, 1.0, NO_STEP));
    }
    // Where each service's best entry of the wave being built sits.
    let mut best_in_wave: Vec<Option<usize>> = vec![None; services];
    // The call graph is acyclic: no path is longer than the services.
    for _ in 0..=services {
        if frontier.is_empty() {
            break;
        }
        // A path beaten later in the wave leaves a hole, so the ones that
        // go on keep their order.
        let mut next: Vec<Option<(usize, f64, usize)>> = Vec::new();
        for (target, bound, at) in frontier {
            let slot = &mut bounds.best[target];
            if slot.is_none_or(|(b, _)| bound > b) {
                *slot = Some((bound, at));
            }
            for &call in &scenario.services[target].calls {
                let Some(entry) = bounds.step(scenario, call as usize, bound, at) else {
                    continue;
                };
                let kept = best_in_wave[entry.0];
                if let Some(at) = kept
                    && next[at].is_some_and(|kept| kept.1 >= entry.1)
                {
                    continue;
                }
                if let Some(at) = kept {
                    next[at] = None;
                }
                best_in_wave[entry.0] = Some(next.len());
                next.push(Some(entry));
            }
        }
        frontier = next.into_iter().flatten().collect();
        for (target, _, _) in &frontier {
            best_in_wave[*target] = None;
        }
    }
    bounds
}

/// At most this many services are named where retries multiply, those
/// with the most attempts per request: each sentence spells out a path,
/// and a long chain of services would otherwise spell out every prefix.
const MAX_RETRY_SENTENCES: usize = 8;

fn retries_multiply(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    let bounds = attempt_bounds(scenario);
    let mut multiplied: Vec<(usize, f64)> = (summary.services.iter().enumerate())
        .filter_map(|(id, service)| Some((id, service.amplification, bounds.bound(id)?)))
        .filter(|&(_, amplification, bound)| amplification >= 1.5 && bound >= 1.5)
        .map(|(id, _, bound)| (id, bound))
        .collect();
    let more = multiplied.len().saturating_sub(MAX_RETRY_SENTENCES);
    if more > 0 {
        let amplification = |id: usize| summary.services[id].amplification;
        // Stable: of equal amplifications, the first services stay.
        multiplied.sort_by(|a, b| amplification(b.0).total_cmp(&amplification(a.0)));
        multiplied.truncate(MAX_RETRY_SENTENCES);
        multiplied.sort_by_key(|&(id, _)| id);
    }
    let mut sentences: Vec<String> = (multiplied.into_iter())
        .map(|(id, bound)| retry_sentence(scenario, summary, id, bound, &bounds.path(id)))
        .collect();
    if more > 0 {
        let services = if more == 1 { "service" } else { "services" };
        sentences.push(format!(
            "Retries multiply at {more} more {services} too, none with more attempts per request than these (see each service's amplification)."
        ));
    }
    sentences
}

fn retry_sentence(
    scenario: &Scenario,
    summary: &Summary,
    id: usize,
    bound: f64,
    path: &[usize],
) -> String {
    let service = &summary.services[id];
    let factors: Vec<String> = path
        .iter()
        .map(|&e| scenario.edges[e].policy.max_attempts.to_string())
        .collect();
    let mut hops: Vec<&str> = vec![&scenario.edges[path[0]].caller];
    hops.extend(path.iter().map(|&e| scenario.edges[e].target_name.as_str()));
    format!(
        "Retries multiply: `{}` receives {:.2} attempts per request, and the retry policies along {} allow up to {}.",
        service.name,
        service.amplification,
        hops.join(" → "),
        match factors.len() {
            1 => format!("{bound:.0}"),
            _ => format!("{} = {bound:.0}", factors.join(" × ")),
        },
    )
}

/// The busiest service, and the one where requests wait most if another.
fn bottleneck(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    // A service is as busy as its busiest instance: a hot shard saturates
    // while the average looks idle.
    let busy = |s: &super::summary::ServiceSummary| {
        s.utilisation_busiest_instance
            .unwrap_or(s.utilisation)
            .max(s.utilisation)
    };
    let busiest = summary
        .services
        .iter()
        .max_by(|a, b| busy(a).total_cmp(&busy(b)));
    let Some(busiest) = busiest.filter(|s| busy(s) >= BOTTLENECK_UTILISATION) else {
        return Vec::new();
    };
    let how_busy = match busiest.utilisation_busiest_instance {
        Some(top) if top > busiest.utilisation + 0.1 => format!(
            "its busiest instance {:.1}% busy (all instances {:.1}% on average)",
            top * 100.0,
            busiest.utilisation * 100.0
        ),
        _ => format!("{:.1}% busy", busiest.utilisation * 100.0),
    };
    let mut sentence = format!(
        "`{}` is the bottleneck: {how_busy}, with {:.1} requests waiting on average",
        busiest.name, busiest.queue_length_mean
    );
    let longest = summary
        .services
        .iter()
        .max_by(|a, b| a.queue_length_mean.total_cmp(&b.queue_length_mean));
    if let Some(queue) = longest
        .filter(|q| q.name != busiest.name && q.queue_length_mean > busiest.queue_length_mean)
    {
        sentence.push_str(&format!(
            "; the longest queue is at `{}` ({:.1} waiting, {:.1}% busy)",
            queue.name,
            queue.queue_length_mean,
            queue.utilisation * 100.0
        ));
        let calls = scenario
            .services
            .iter()
            .any(|s| s.name == queue.name && !s.calls.is_empty());
        if calls {
            sentence.push_str(", whose workers are held by the calls they make");
        }
    }
    sentence.push('.');
    vec![sentence]
}

/// A disturbance over, goodput still down, and retries still multiplying.
fn storm_outlives_trigger(summary: &Summary) -> Vec<String> {
    let mut sentences = Vec::new();
    let sources: std::collections::BTreeMap<&str, _> = summary
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    for recovery in summary.recovery.iter().filter(|r| !r.recovered) {
        let Some(&source) = sources.get(recovery.source.as_str()) else {
            continue;
        };
        let per_request = summary.totals.work_per_request;
        // Retries must be a large share of the load to be its cause.
        let retry_share = source.retries as f64 / source.requests.max(1) as f64;
        if retry_share < 0.5 {
            continue;
        }
        sentences.push(format!(
            "A failure that outlived its cause: the disturbance ended at {}s, but the goodput of `{}` stayed at {:.0}% of before, with {per_request:.2} service attempts per request over the run (`{}` made {} retries, {:.1} per request): retries of timed-out work kept the system overloaded.",
            recovery.trigger_end_s,
            source.name,
            recovery.final_goodput_ratio * 100.0,
            source.name,
            group_digits(source.retries),
            retry_share,
        ));
    }
    sentences
}

/// Defences that acted in a run whose disturbance was recovered from.
fn defences_that_acted(summary: &Summary) -> Vec<String> {
    let recovered: Vec<String> = summary
        .recovery
        .iter()
        .filter(|r| r.recovered)
        .map(|r| {
            let after = r.recovery_time_s.unwrap_or(0.0);
            format!(
                "`{}` recovered {after:.1}s after the disturbance ended",
                r.source
            )
        })
        .collect();
    if recovered.is_empty() {
        return Vec::new();
    }
    let outcome = recovered.join(", ");
    let mut sentences = Vec::new();
    for call in &summary.calls {
        let what = match (
            call.breaker_opened,
            call.retries_throttled,
            call.throttled_by_caller,
        ) {
            (opened, _, _) if opened > 0 => format!(
                "the circuit breaker on {} → {} opened {} times and failed {} attempts fast",
                call.caller,
                call.target,
                group_digits(opened),
                group_digits(call.short_circuited)
            ),
            (_, refused, _) if refused > 0 => format!(
                "the retry limit on {} → {} refused {} retries",
                call.caller,
                call.target,
                group_digits(refused)
            ),
            (_, _, limited) if limited > 0 => format!(
                "the caller's rate limit on {} → {} refused {} attempts",
                call.caller,
                call.target,
                group_digits(limited)
            ),
            _ => continue,
        };
        sentences.push(format!("A defence acted: {what}, and {outcome}."));
    }
    for service in summary
        .services
        .iter()
        .filter(|s| s.shed + s.queue_timeouts > 0)
    {
        sentences.push(format!(
            "A defence acted: `{}` shed {} so that what it served was still wanted, and {outcome}.",
            service.name,
            match (service.shed, service.queue_timeouts) {
                (0, waited) => format!("{} requests that waited longer than its queue timeout", group_digits(waited)),
                (shed, 0) => format!("{} requests over its concurrency limit", group_digits(shed)),
                (shed, waited) => format!(
                    "{} requests over its concurrency limit and {} that waited longer than its queue timeout",
                    group_digits(shed),
                    group_digits(waited)
                ),
            }
        ));
    }
    // A bulkhead that failed requests is already named where they failed.
    let named =
        |b: &&BulkheadSummary| summary.totals.failed > 0 && b.rejected * 100 >= b.requests.max(1);
    for bulkhead in summary
        .gates
        .bulkheads
        .iter()
        .filter(|b| b.rejected > 0 && !named(b))
    {
        sentences.push(format!(
            "A defence acted: the bulkhead `{}` turned away {} attempts as rejected ({}), and {outcome}.",
            bulkhead.name,
            group_digits(bulkhead.rejected),
            super::gates::bulkhead_rejections(bulkhead)
        ));
    }
    for limiter in summary
        .gates
        .rate_limiters
        .iter()
        .filter(|l| l.throttled > 0)
    {
        sentences.push(format!(
            "A defence acted: the rate limiter `{}` answered {} attempts at once as throttled, and {outcome}.",
            limiter.name,
            group_digits(limiter.throttled)
        ));
    }
    sentences
}

/// The sentences as lines under a heading, for the terminal report.
pub fn why_lines(summary: &Summary) -> String {
    if summary.why.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nWhy (read from the recorded data):\n");
    for sentence in &summary.why {
        out.push_str(&format!("  - {}\n", sentence.replace('`', "")));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every path from every source, wave by wave: the definition
    /// [`attempt_bounds`] must agree with, at a cost that doubles with
    /// every layer of a diamond.
    fn attempt_bounds_by_every_path(scenario: &Scenario) -> Vec<Option<(f64, Vec<usize>)>> {
        let mut bounds: Vec<Option<(f64, Vec<usize>)>> = vec![None; scenario.services.len()];
        let mut frontier: Vec<(usize, f64, Vec<usize>)> = scenario
            .sources
            .iter()
            .map(|s| (s.edge as usize, 1.0, Vec::new()))
            .collect();
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for (edge, above, mut path) in frontier {
                let spec = &scenario.edges[edge];
                let Target::Service(target) = spec.target else {
                    continue;
                };
                let bound = above * f64::from(spec.policy.max_attempts);
                path.push(edge);
                let slot = &mut bounds[target as usize];
                if slot.as_ref().is_none_or(|(b, _)| bound > *b) {
                    *slot = Some((bound, path.clone()));
                }
                for &call in &scenario.services[target as usize].calls {
                    next.push((call as usize, bound, path.clone()));
                }
            }
            frontier = next;
        }
        bounds
    }

    fn call(target: usize, attempts: u32) -> String {
        format!(
            "{{ target: s{target}, timeout_per_attempt: 1s, retry: {{ max_attempts: {attempts}, backoff: none }} }}"
        )
    }

    /// Services `s0`, `s1`, … calling only later ones (so the graph is
    /// acyclic), and sources each sending to one service.
    fn scenario_of(sources: &[(usize, u32)], calls: &[Vec<(usize, u32)>]) -> Scenario {
        let mut text = String::from("duration: 1s\nsources:\n");
        for (i, &(target, attempts)) in sources.iter().enumerate() {
            let retry = format!("retry: {{ max_attempts: {attempts}, backoff: none }}");
            text.push_str(&format!(
                "  u{i}: {{ target: s{target}, rate: 1/s, timeout_per_attempt: 1s, {retry} }}\n"
            ));
        }
        text.push_str("services:\n");
        for (i, calls) in calls.iter().enumerate() {
            let calls: Vec<String> = calls.iter().map(|&(t, a)| call(t, a)).collect();
            text.push_str(&format!(
                "  s{i}: {{ workers: 1, service_time: 1ms, calls: [{}] }}\n",
                calls.join(", ")
            ));
        }
        crate::scenario::load_str("generated.yaml", &text).expect("the generated scenario is valid")
    }

    /// A diamond of `layers` layers: `a{i}` and `b{i}` both call `a{i+1}`
    /// and `b{i+1}` with two attempts each, so `2^(layers-1)` paths reach
    /// each service of the last layer, all allowing `2^layers` attempts.
    #[test]
    fn a_diamond_of_sixty_layers_is_bounded_along_its_first_path() {
        let layers = 60;
        let calls: Vec<Vec<(usize, u32)>> = (0..2 * layers)
            .map(|s| match s / 2 + 1 < layers {
                true => vec![(2 * (s / 2 + 1), 2), (2 * (s / 2 + 1) + 1, 2)],
                false => Vec::new(),
            })
            .collect();
        let scenario = scenario_of(&[(0, 2)], &calls);
        let bounds = attempt_bounds(&scenario);
        let bound = bounds
            .bound(2 * layers - 1)
            .expect("the last layer is reached");
        let path = bounds.path(2 * layers - 1);
        assert_eq!(bound, (1u64 << layers) as f64);
        // The first path in call order: through every `a`, then to `b`.
        let targets: Vec<&str> = path
            .iter()
            .map(|&e| scenario.edges[e].target_name.as_str())
            .collect();
        let mut expected: Vec<String> = (0..layers - 1).map(|i| format!("s{}", 2 * i)).collect();
        expected.push(format!("s{}", 2 * layers - 1));
        assert_eq!(targets, expected);
    }

    /// Sources as (target, attempts), and each service's calls likewise.
    type Graph = (Vec<(usize, u32)>, Vec<Vec<(usize, u32)>>);

    fn graph() -> impl Strategy<Value = Graph> {
        (2usize..8).prop_flat_map(|services| {
            let sources = prop::collection::vec((0..services, 1u32..4), 1..4);
            let calls: Vec<_> = (0..services)
                .map(|from| {
                    let later =
                        (from + 1..services.max(from + 2)).prop_map(move |t| t.min(services - 1));
                    prop::collection::vec((later, 1u32..4), 0..3).prop_map(move |calls| {
                        calls
                            .into_iter()
                            .filter(|&(t, _)| t > from)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            (sources, calls)
        })
    }

    proptest! {
        /// Pruning to the best path per service and wave changes no bound
        /// and no path, ties included.
        #[test]
        fn pruned_bounds_are_the_bounds_over_every_path((sources, calls) in graph()) {
            let scenario = scenario_of(&sources, &calls);
            let bounds = attempt_bounds(&scenario);
            let pruned: Vec<Option<(f64, Vec<usize>)>> = (0..scenario.services.len())
                .map(|id| Some((bounds.bound(id)?, bounds.path(id))))
                .collect();
            prop_assert_eq!(pruned, attempt_bounds_by_every_path(&scenario));
        }
    }
}
