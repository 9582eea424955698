//! The report's section on gates (rate limiters, bulkheads, shapers): each
//! kind's summary in `summary.json`, built from its metrics, and its table
//! in the text and Markdown reports.
//!
//! A new kind of gate adds its summary, its list in [`GateSummaries`] and
//! its table here; `summary.json` places the lists where `rate_limiters`
//! always stood, and the text report after the caches.

use comfy_table::Table;
use serde::{Deserialize, Serialize};

use crate::engine::SimDuration;
use crate::report::metrics::Metrics;
use crate::scenario::Scenario;

use super::compare::Unit;
use super::summary::{ratio, round};
use super::text::{format_ms, format_rate, group_digits, ms_or_dash, new_table};

/// Each kind of gate's summaries; a kind the scenario has none of is left
/// out of the JSON.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GateSummaries {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limiters: Vec<RateLimiterSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bulkheads: Vec<BulkheadSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapers: Vec<ShaperSummary>,
}

pub(super) fn summarize(scenario: &Scenario, metrics: &Metrics) -> GateSummaries {
    GateSummaries {
        rate_limiters: scenario
            .gates
            .rate_limiters
            .iter()
            .zip(&metrics.rate_limiters)
            .map(|(spec, m)| RateLimiterSummary {
                name: spec.name.clone(),
                target: scenario.target_name(spec.target).to_string(),
                rate_per_s: spec.rate_per_s,
                burst: u64::from(spec.burst),
                requests: m.requests,
                throttled: m.throttled,
                throttled_ratio: ratio(m.throttled, m.requests),
            })
            .collect(),
        bulkheads: bulkhead_summaries(scenario, metrics),
        shapers: shaper_summaries(scenario, metrics),
    }
}

/// Where attempts failed at gates, for Why when requests failed: those a
/// gate turned away, and those whose callers gave up while it held them,
/// each from 1% of its attempts up.
pub(super) fn where_attempts_failed(gates: &GateSummaries) -> Vec<String> {
    let mut sentences = Vec::new();
    for b in &gates.bulkheads {
        let attempts = b.requests.max(1);
        if b.rejected * 100 >= attempts {
            sentences.push(format!(
                "Where attempts failed: at the bulkhead `{}` in front of `{}`, of its {} attempts, {} ({:.1}%) were turned away as rejected ({}).",
                b.name,
                b.target,
                group_digits(b.requests),
                group_digits(b.rejected),
                b.rejected_ratio * 100.0,
                bulkhead_rejections(b)
            ));
        }
        if b.gave_up_waiting * 100 >= attempts {
            let served_after = match b.wait_mean_ms {
                Some(ms) => format!(
                    "; those that got a place waited {} on average",
                    format_ms(ms)
                ),
                None => String::new(),
            };
            sentences.push(format!(
                "Callers gave up on attempts waiting in line at the bulkhead `{}`: {} of its {} attempts ({:.1}%) never reached `{}`, their callers' timeouts ran out first{served_after}.",
                b.name,
                group_digits(b.gave_up_waiting),
                group_digits(b.requests),
                b.gave_up_waiting as f64 * 100.0 / attempts as f64,
                b.target
            ));
        }
    }
    sentences.extend(gates.shapers.iter().flat_map(shaper_failures));
    sentences
}

/// Where attempts failed at a shaper: turned away, or given up on while
/// held back, each from 1% of its attempts up, the larger first.
fn shaper_failures(s: &ShaperSummary) -> Vec<String> {
    let attempts = s.requests.max(1);
    let share = |count: u64| count as f64 * 100.0 / attempts as f64;
    let why_throttled = match s.max_delay_ms {
        0.0 => "it came before its turn and its max_delay is 0".to_string(),
        ms => format!(
            "their turn was more than its max_delay of {} away",
            format_ms(ms)
        ),
    };
    let throttled = format!(
        "Where attempts failed: at the shaper `{}` in front of `{}` ({}), of its {} attempts, {} ({:.1}%) were turned away as throttled: {why_throttled}.",
        s.name,
        s.target,
        format_rate(s.rate_per_s),
        group_digits(s.requests),
        group_digits(s.throttled),
        share(s.throttled),
    );
    let gave_up = format!(
        "Callers gave up on attempts the shaper `{}` held back: {} of its {} attempts ({:.1}%) never reached `{}`, their callers' time ran out before their turn.",
        s.name,
        group_digits(s.gave_up_waiting),
        group_digits(s.requests),
        share(s.gave_up_waiting),
        s.target
    );
    let mut found = vec![(s.throttled, throttled), (s.gave_up_waiting, gave_up)];
    found.retain(|(count, _)| count * 100 >= attempts);
    // Stable: a tie keeps the throttled first.
    found.sort_by_key(|(count, _)| std::cmp::Reverse(*count));
    found.into_iter().map(|(_, sentence)| sentence).collect()
}

/// Why a bulkhead turned attempts away: a full line, a wait too long, or both.
pub(super) fn bulkhead_rejections(b: &BulkheadSummary) -> String {
    let full = format!(
        "{} with all {} places taken and {}",
        group_digits(b.rejected_full),
        b.max_concurrent,
        match b.max_waiting {
            0 => "no line".to_string(),
            n => format!("its line of {n} full"),
        }
    );
    let waited = match b.max_wait_ms {
        Some(ms) => format!(
            "{} after waiting its max_wait of {}",
            group_digits(b.rejected_waiting),
            format_ms(ms)
        ),
        None => String::new(),
    };
    match (b.rejected_full, b.rejected_waiting) {
        (_, 0) => full,
        (0, _) => waited,
        _ => format!("{full}, {waited}"),
    }
}

/// The rows `stampede compare` adds per gate: the share of attempts each
/// turned away.
pub(super) fn comparison_rows(gates: &GateSummaries) -> Vec<(String, Unit, Option<f64>)> {
    let limiters = gates.rate_limiters.iter();
    let limiters = limiters.map(|l| (format!("{} throttled", l.name), l.throttled_ratio));
    let bulkheads = gates.bulkheads.iter();
    let bulkheads = bulkheads.map(|b| (format!("{} rejected", b.name), b.rejected_ratio));
    let shapers = gates.shapers.iter();
    let shapers = shapers.map(|s| (format!("{} throttled", s.name), s.throttled_ratio));
    let rows = limiters.chain(bulkheads).chain(shapers);
    rows.map(|(name, share)| (name, Unit::Percent, Some(share * 100.0)))
        .collect()
}

/// The tables of the kinds the scenario has, with their titles.
pub(super) fn tables(gates: &GateSummaries) -> Vec<(&'static str, Table)> {
    let mut tables = Vec::new();
    if !gates.rate_limiters.is_empty() {
        tables.push(("Rate limiters", rate_limiters_table(gates)));
    }
    if !gates.bulkheads.is_empty() {
        let title =
            "Bulkheads (attempts, retries included; waits of those that waited and got a place)";
        tables.push((title, bulkheads_table(gates)));
    }
    if !gates.shapers.is_empty() {
        let title =
            "Shapers (attempts, retries included; delays of those held back and then let through)";
        tables.push((title, shapers_table(gates)));
    }
    tables
}

/// A rate limiter: what reached it and what it turned away (answered as
/// `rejected`), over attempts that reached it in the measured window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RateLimiterSummary {
    pub name: String,
    pub target: String,
    pub rate_per_s: f64,
    pub burst: u64,
    pub requests: u64,
    pub throttled: u64,
    /// Throttled ÷ requests.
    pub throttled_ratio: f64,
}

/// A bulkhead: how full it ran, who waited, and whom it turned away (as
/// `rejected`), over attempts that reached it in the measured window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BulkheadSummary {
    pub name: String,
    pub target: String,
    pub max_concurrent: u64,
    pub max_waiting: u64,
    /// `None` when attempts wait as long as their callers do.
    pub max_wait_ms: Option<f64>,
    pub requests: u64,
    /// Attempts that found every place taken and waited in line.
    pub waited: u64,
    /// Attempts whose callers gave up while they waited in line: they
    /// never reached the target.
    pub gave_up_waiting: u64,
    /// Turned away: every place taken and the line full, or after `max_wait`.
    pub rejected: u64,
    pub rejected_full: u64,
    pub rejected_waiting: u64,
    /// Rejected ÷ requests.
    pub rejected_ratio: f64,
    /// The mean and longest wait of attempts that waited and then got a
    /// place; `None` when none did.
    pub wait_mean_ms: Option<f64>,
    pub wait_max_ms: Option<f64>,
    /// The most attempts through it at once.
    pub in_use_max: u64,
}

fn bulkhead_summaries(scenario: &Scenario, metrics: &Metrics) -> Vec<BulkheadSummary> {
    let to_ms = |d: SimDuration| round(d.as_nanos() as f64 / 1e6, 3);
    let bulkheads = scenario.gates.bulkheads.iter().zip(&metrics.bulkheads);
    bulkheads
        .map(|(spec, m)| {
            let admitted = m.admitted_after_waiting;
            let rejected = m.rejected_full + m.rejected_waiting;
            let wait_mean = (admitted > 0).then(|| m.wait_nanos_total as f64 / admitted as f64);
            BulkheadSummary {
                name: spec.name.clone(),
                target: scenario.target_name(spec.target).to_string(),
                max_concurrent: u64::from(spec.max_concurrent),
                max_waiting: u64::from(spec.max_waiting),
                max_wait_ms: spec.max_wait.map(to_ms),
                requests: m.requests,
                waited: m.waited,
                gave_up_waiting: m.gave_up_waiting,
                rejected,
                rejected_full: m.rejected_full,
                rejected_waiting: m.rejected_waiting,
                rejected_ratio: ratio(rejected, m.requests),
                wait_mean_ms: wait_mean.map(|nanos| round(nanos / 1e6, 3)),
                wait_max_ms: (admitted > 0).then(|| to_ms(m.wait_max)),
                in_use_max: m.in_use_max,
            }
        })
        .collect()
}

fn rate_limiters_table(gates: &GateSummaries) -> Table {
    let mut table = new_table(
        &["rate limiter", "rate", "burst", "requests", "throttled"],
        1,
    );
    for l in &gates.rate_limiters {
        table.add_row(vec![
            format!("{} → {}", l.name, l.target),
            format_rate(l.rate_per_s),
            group_digits(l.burst),
            group_digits(l.requests),
            format!(
                "{} ({:.1}%)",
                group_digits(l.throttled),
                l.throttled_ratio * 100.0
            ),
        ]);
    }
    table
}

fn bulkheads_table(gates: &GateSummaries) -> Table {
    let header = [
        "bulkhead",
        "places",
        "in use max",
        "attempts",
        "waited",
        "gave up in line",
        "wait mean",
        "wait max",
        "rejected",
    ];
    let mut table = new_table(&header, 1);
    for b in &gates.bulkheads {
        let line = match (b.max_waiting, b.max_wait_ms) {
            (0, _) => format!("{}, no line", b.max_concurrent),
            (waiting, None) => format!("{}, line {waiting}", b.max_concurrent),
            (waiting, Some(ms)) => format!(
                "{}, line {waiting}, wait ≤ {}",
                b.max_concurrent,
                format_ms(ms)
            ),
        };
        table.add_row(vec![
            format!("{} → {}", b.name, b.target),
            line,
            group_digits(b.in_use_max),
            group_digits(b.requests),
            group_digits(b.waited),
            group_digits(b.gave_up_waiting),
            ms_or_dash(b.wait_mean_ms),
            ms_or_dash(b.wait_max_ms),
            format!(
                "{} ({:.1}%)",
                group_digits(b.rejected),
                b.rejected_ratio * 100.0
            ),
        ]);
    }
    table
}

/// A shaper: how much it held back, for how long, and whom it turned away
/// (as `throttled`), over attempts that reached it in the measured window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShaperSummary {
    pub name: String,
    pub target: String,
    pub rate_per_s: f64,
    pub max_delay_ms: f64,
    /// Attempts, retries included.
    pub requests: u64,
    /// Held back for their turn.
    pub delayed: u64,
    /// Turned away: their turn was more than `max_delay` away.
    pub throttled: u64,
    /// Throttled ÷ requests.
    pub throttled_ratio: f64,
    /// Held back, and their callers gave up before their turn.
    pub gave_up_waiting: u64,
    /// The mean and longest delay of attempts held back and then let
    /// through; `None` when none was.
    pub delay_mean_ms: Option<f64>,
    pub delay_max_ms: Option<f64>,
}

fn shaper_summaries(scenario: &Scenario, metrics: &Metrics) -> Vec<ShaperSummary> {
    let to_ms = |d: SimDuration| round(d.as_nanos() as f64 / 1e6, 3);
    let shapers = scenario.gates.shapers.iter().zip(&metrics.shapers);
    shapers
        .map(|(spec, m)| {
            let passed = m.passed_after_delay;
            let delay_mean = (passed > 0).then(|| m.delay_nanos_total as f64 / passed as f64);
            ShaperSummary {
                name: spec.name.clone(),
                target: scenario.target_name(spec.target).to_string(),
                rate_per_s: spec.rate_per_s,
                max_delay_ms: to_ms(spec.max_delay),
                requests: m.requests,
                delayed: m.delayed,
                throttled: m.throttled,
                throttled_ratio: ratio(m.throttled, m.requests),
                gave_up_waiting: m.gave_up_waiting,
                delay_mean_ms: delay_mean.map(|nanos| round(nanos / 1e6, 3)),
                delay_max_ms: (passed > 0).then(|| to_ms(m.delay_max)),
            }
        })
        .collect()
}

fn shapers_table(gates: &GateSummaries) -> Table {
    let header = [
        "shaper",
        "pace",
        "attempts",
        "delayed",
        "gave up waiting",
        "delay mean",
        "delay max",
        "throttled",
    ];
    let mut table = new_table(&header, 1);
    for s in &gates.shapers {
        table.add_row(vec![
            format!("{} → {}", s.name, s.target),
            format!(
                "{}, delay ≤ {}",
                format_rate(s.rate_per_s),
                format_ms(s.max_delay_ms)
            ),
            group_digits(s.requests),
            group_digits(s.delayed),
            group_digits(s.gave_up_waiting),
            ms_or_dash(s.delay_mean_ms),
            ms_or_dash(s.delay_max_ms),
            format!(
                "{} ({:.1}%)",
                group_digits(s.throttled),
                s.throttled_ratio * 100.0
            ),
        ]);
    }
    table
}
