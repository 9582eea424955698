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
use crate::scenario::spec::Target;

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
    let mut sentences = Vec::new();
    for (id, service) in summary.services.iter().enumerate() {
        let Some(wait_ms) = service.queue_wait.mean_ms else {
            continue;
        };
        let shortest = scenario
            .edges
            .iter()
            .filter(|e| e.target == Target::Service(id as u32))
            .filter_map(|e| e.policy.timeout_per_attempt.map(|t| (t.as_millis_f64(), e)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
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
fn attempt_bounds(scenario: &Scenario) -> Vec<Option<(f64, Vec<usize>)>> {
    let mut bounds: Vec<Option<(f64, Vec<usize>)>> = vec![None; scenario.services.len()];
    // Edges from sources, then from each service reached, in waves: the
    // call graph is acyclic, so a service's bound settles within as many
    // waves as there are services.
    let mut frontier: Vec<(usize, f64, Vec<usize>)> = scenario
        .sources
        .iter()
        .map(|s| (s.edge as usize, 1.0, Vec::new()))
        .collect();
    for _ in 0..=scenario.services.len() {
        let mut next = Vec::new();
        for (edge, above, path) in frontier {
            let spec = &scenario.edges[edge];
            let Target::Service(target) = spec.target else {
                continue;
            };
            let bound = above * f64::from(spec.policy.max_attempts);
            let mut path = path;
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

fn retries_multiply(scenario: &Scenario, summary: &Summary) -> Vec<String> {
    let bounds = attempt_bounds(scenario);
    let mut sentences = Vec::new();
    for (service, bound) in summary.services.iter().zip(bounds) {
        let Some((bound, path)) = bound else {
            continue;
        };
        if service.amplification < 1.5 || bound < 1.5 {
            continue;
        }
        let factors: Vec<String> = path
            .iter()
            .map(|&e| scenario.edges[e].policy.max_attempts.to_string())
            .collect();
        let mut hops: Vec<&str> = vec![&scenario.edges[path[0]].caller];
        hops.extend(path.iter().map(|&e| scenario.edges[e].target_name.as_str()));
        sentences.push(format!(
            "Retries multiply: `{}` receives {:.2} attempts per request, and the retry policies along {} allow up to {}.",
            service.name,
            service.amplification,
            hops.join(" → "),
            match factors.len() {
                1 => format!("{bound:.0}"),
                _ => format!("{} = {bound:.0}", factors.join(" × ")),
            },
        ));
    }
    sentences
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
