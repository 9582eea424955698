//! The terminal report: a header, then one table each for sources, services,
//! load balancers and calls, with units on every number.
//!
//! Tables are laid out by comfy-table; this module only chooses columns and
//! formats values. It reads nothing but a [`Summary`].

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::metrics::FailureCounts;
use super::summary::{LatencySummary, Summary};

/// The whole text report. `reproduce` is the command line that reruns it.
pub fn render(summary: &Summary, reproduce: &str) -> String {
    let mut out = header(summary, reproduce);
    out.push_str(&recovery_lines(summary));
    out.push_str(&super::queues::drain_lines(summary));
    out.push_str(&super::why::why_lines(summary));
    out.push_str(&section(
        "Sources (end-to-end latency of successful requests; `all`: every finished request, failures included)",
        sources_table(summary),
    ));
    for (title, table) in component_tables(summary) {
        out.push_str(&section(title, table));
    }
    out.push_str(&footnotes(summary));
    out
}

/// The tables after the sources', with their titles, in report order: one
/// per kind of component the scenario has, then faults and defences. The
/// text and Markdown reports both lay out this one list.
pub(super) fn component_tables(summary: &Summary) -> Vec<(&'static str, Table)> {
    let mut tables = Vec::new();
    if super::jobs::job_sources(summary).next().is_some() {
        let title = "Jobs (user: submit → the poll that saw it done; system: submit → done)";
        tables.push((title, super::jobs::jobs_table(summary)));
    }
    if !summary.classes.is_empty() {
        let title = "Classes (the requests of every source of a class together)";
        tables.push((title, classes_table(summary)));
    }
    if !summary.services.is_empty() {
        tables.push(("Services (per hop)", services_table(summary)));
    }
    if !summary.load_balancers.is_empty() {
        tables.push(("Load balancers", balancers_table(summary)));
    }
    tables.push(("Calls (as each caller saw them)", calls_table(summary)));
    if !summary.caches.is_empty() {
        tables.push(("Caches", caches_table(summary)));
    }
    tables.extend(super::gates::tables(&summary.gates));
    if !summary.queues.is_empty() {
        let title = "Queues (messages; latency from send to delete)";
        tables.push((title, super::queues::queues_table(summary)));
    }
    if !summary.consumers.is_empty() {
        tables.push(("Consumers", super::queues::consumers_table(summary)));
    }
    if let Some(table) = defences_table(summary) {
        tables.push(("Faults, defences and scaling", table));
    }
    if let Some(cost) = &summary.cost {
        tables.push((
            "Cost (the measured window, at the scenario's prices)",
            cost_table(cost),
        ));
    }
    if !summary.theory.is_empty() {
        let title = "Theory beside measurement (textbook queues; measured: mean ± 99% interval of 20 batch means)";
        tables.push((title, theory_table(summary)));
    }
    tables
}

fn cost_table(cost: &super::summary::CostSummary) -> Table {
    let mut table = new_table(&["component", "instance-hours", "requests", "cost"], 1);
    for item in &cost.items {
        table.add_row(vec![
            format!("{} ({})", item.component, item.kind),
            format!("{:.3}", item.instance_hours),
            group_digits(item.requests),
            format_cost(item.cost),
        ]);
    }
    table.add_row(vec![
        "total".to_string(),
        String::new(),
        String::new(),
        format_cost(cost.total),
    ]);
    for (what, value) in [
        (
            "per 1,000 requests succeeded",
            cost.per_1000_requests_succeeded,
        ),
        (
            "per 1,000 messages processed",
            cost.per_1000_messages_processed,
        ),
        ("per 1,000 jobs completed", cost.per_1000_jobs_completed),
    ] {
        if let Some(value) = value {
            table.add_row(vec![
                what.to_string(),
                String::new(),
                String::new(),
                format_cost(value),
            ]);
        }
    }
    table
}

fn theory_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "service",
            "model",
            "ρ",
            "wait mean: theory",
            "measured",
            "util: theory",
            "measured",
            "blocking: theory",
            "measured",
            "verdict",
        ],
        2,
    );
    let measured =
        |c: &super::theory::Comparison, show: &dyn Fn(f64) -> String| match (c.measured, c.ci99) {
            (Some(m), Some(h)) => format!("{} ± {}", show(m), show(h)),
            (Some(m), None) => show(m),
            _ => "–".to_string(),
        };
    let ms = |v: f64| match v {
        0.0 => "0ms".to_string(),
        _ => format_ms(v),
    };
    let percent = |v: f64| format!("{:.2}%", v * 100.0);
    for t in &summary.theory {
        table.add_row(vec![
            t.service.clone(),
            t.model.clone(),
            format!("{:.3}", t.offered_load),
            ms(t.wait_mean_ms.theory),
            measured(&t.wait_mean_ms, &ms),
            percent(t.utilisation.theory),
            measured(&t.utilisation, &percent),
            percent(t.blocking.theory),
            measured(&t.blocking, &percent),
            t.verdict.to_string(),
        ]);
    }
    table
}

/// An amount of money, in the scenario's currency: four significant digits,
/// so a fraction of a cent never reads as 0.
pub fn format_cost(amount: f64) -> String {
    if amount == 0.0 {
        return "0".to_string();
    }
    let digits = (3 - libm::floor(libm::log10(amount.abs())) as i32).clamp(0, 12) as usize;
    format!("{amount:.digits$}")
}

fn header(summary: &Summary, reproduce: &str) -> String {
    let mut out = format!("stampede · {}\n", summary.scenario);
    out.push_str(&format!(
        "seed {} · {} simulated, first {} warm-up · {} events\n",
        summary.seed,
        format_seconds(summary.duration_s),
        format_seconds(summary.warmup_s),
        group_digits(summary.events)
    ));
    out.push_str(&format!("reproduce: {reproduce}\n"));
    if let Some(reason) = &summary.stopped_early {
        out.push_str(&format!("\nWARNING: {reason}\n"));
    }
    out.push('\n');
    out.push_str(&super::jobs::job_lines(summary));
    out.push_str(&super::queues::processing_lines(summary));
    let t = &summary.totals;
    let work = match summary.services.is_empty() {
        true => String::new(),
        false => format!(" · {:.2} service attempts per request", t.work_per_request),
    };
    let only_sends = is_only_sends(summary);
    let (what, ok, goodput) = match only_sends {
        true => ("sends by producers", "accepted by the queue", "accepted"),
        false => ("requests", "succeeded", "goodput"),
    };
    out.push_str(&format!(
        "{} {what}: {} {ok}, {} failed, {} in flight at the end · offered {}, {goodput} {}{work}\n",
        group_digits(t.requests),
        group_digits(t.succeeded),
        group_digits(t.failed),
        group_digits(t.in_flight_at_end),
        format_rate(t.offered_per_s),
        format_rate(t.goodput_per_s),
    ));
    out.push_str(&scaling_notes(summary));
    out
}

/// True when every source sends to a queue or topic: the work the user
/// cares about is the consumers' processing, not the send.
pub(super) fn is_only_sends(summary: &Summary) -> bool {
    !summary.sources.is_empty() && summary.sources.iter().all(|s| s.sends_messages())
}

/// A note for each service an autoscaler took below its starting count or
/// up to its maximum: both are easy to miss in a mean.
fn scaling_notes(summary: &Summary) -> String {
    let mut out = String::new();
    for s in &summary.services {
        if let Some(max) = s.autoscaling_max_instances
            && s.instances_max >= u64::from(max)
            && max > s.instances
        {
            out.push_str(&format!(
                "note: the autoscaler took {} to its maximum of {max} instances (it starts with {}); {:.2} on average while measured\n",
                s.name, s.instances, s.instances_mean
            ));
        }
    }
    for s in summary
        .services
        .iter()
        .filter(|s| s.instances_min < u64::from(s.instances))
    {
        out.push_str(&format!(
            "note: the autoscaler scaled {} down to {} instance{} (it starts with {}); {:.2} on average while measured\n",
            s.name,
            s.instances_min,
            if s.instances_min == 1 { "" } else { "s" },
            s.instances,
            s.instances_mean
        ));
    }
    out
}

/// One sentence per surge or fault: recovered, how fast, or not at all.
pub fn recovery_lines(summary: &Summary) -> String {
    let mut out = String::new();
    let trigger = if summary.faults.is_empty() {
        "surge"
    } else {
        "disturbance (surge or fault)"
    };
    for r in &summary.recovery {
        let window = format_window(r.trigger_start_s, r.trigger_end_s, "–");
        let verdict = match r.recovery_time_s {
            Some(seconds) => format!(
                "recovered {} after the {trigger} at {window} ended",
                format_seconds(seconds)
            ),
            None => format!(
                "did NOT recover from the {trigger} at {window} within the run: goodput is {:.0}% of before (a metastable failure)",
                r.final_goodput_ratio * 100.0
            ),
        };
        // Every source is judged against the whole disturbance, whichever
        // source surged: the one that suffers may not be the one that surged.
        out.push_str(&format!(
            "{} (goodput before {}): {verdict}\n",
            r.source,
            format_rate(r.baseline_goodput_per_s)
        ));
    }
    out
}

fn section(title: &str, table: Table) -> String {
    format!("\n{title}\n{table}\n")
}

/// A terminal table laid out the same whatever the terminal, with columns from
/// `right_aligned_from` on aligned right (numbers).
pub(super) fn new_table(columns: &[&str], right_aligned_from: usize) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.to_vec());
    for index in right_aligned_from..columns.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn classes_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "class", "sources", "requests", "ok", "goodput", "success", "p50", "p99", "p99 all",
        ],
        2,
    );
    for c in &summary.classes {
        table.add_row(vec![
            c.class.to_string(),
            c.sources.join(", "),
            group_digits(c.requests),
            group_digits(c.succeeded),
            format_rate(c.goodput_per_s),
            format!("{:.1}%", c.success_ratio * 100.0),
            ms_or_dash(c.latency.p50_ms),
            ms_or_dash(c.latency.p99_ms),
            ms_or_dash(c.latency_all.p99_ms),
        ]);
    }
    table
}

pub(super) fn sources_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "source",
            "requests",
            "ok",
            "failed",
            "in flight",
            "attempts",
            "offered",
            "goodput",
            "mean",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "p50 all",
            "p99 all",
        ],
        1,
    );
    for s in &summary.sources {
        let mut row = vec![
            format!("{} ({}) → {}", s.name, s.kind, s.target),
            group_digits(s.requests),
            group_digits(s.succeeded),
            failures(&s.failed),
            group_digits(s.in_flight_at_end),
            group_digits(s.attempts),
            format_rate(s.offered_per_s),
            format_rate(s.goodput_per_s),
        ];
        row.extend(latency_cells(&s.latency));
        row.push(ms_or_dash(s.latency_all.p50_ms));
        row.push(ms_or_dash(s.latency_all.p99_ms));
        table.add_row(row);
    }
    table
}

pub(super) fn services_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "service",
            "attempts",
            "amplif.",
            "ok",
            "errors",
            "rejected",
            "expired",
            "abandoned",
            "util",
            "queue mean",
            "queue max (1 inst.)",
            "wait mean",
            "p50",
            "p99",
            "p99.9",
        ],
        1,
    );
    for s in &summary.services {
        let scaled = s.instances_mean != f64::from(s.instances);
        let name = match s.instances {
            _ if scaled => format!(
                "{} ({}w; {}→{:.2} inst.)",
                s.name, s.workers_per_instance, s.instances, s.instances_mean
            ),
            1 => format!("{} ({}w)", s.name, s.workers_per_instance),
            n => format!("{} ({n}×{}w)", s.name, s.workers_per_instance),
        };
        table.add_row(vec![
            name,
            group_digits(s.attempts),
            amplification_cell(s),
            group_digits(s.succeeded),
            group_digits(s.errors),
            group_digits(s.rejected),
            group_digits(s.expired),
            group_digits(s.abandoned_work),
            match s.utilisation_busiest_instance {
                Some(busiest) => format!(
                    "{:.1}% (busiest {:.1}%)",
                    s.utilisation * 100.0,
                    busiest * 100.0
                ),
                None => format!("{:.1}%", s.utilisation * 100.0),
            },
            format!("{:.2}", s.queue_length_mean),
            group_digits(s.queue_length_max),
            ms_or_dash(s.queue_wait.mean_ms),
            ms_or_dash(s.latency.p50_ms),
            ms_or_dash(s.latency.p99_ms),
            ms_or_dash(s.latency.p999_ms),
        ]);
    }
    table
}

pub(super) fn balancers_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "load balancer",
            "strategy",
            "attempts",
            "amplif.",
            "backends",
        ],
        1,
    );
    for b in &summary.load_balancers {
        table.add_row(vec![
            b.name.clone(),
            b.strategy.to_string(),
            group_digits(b.attempts),
            format!("{:.2}×", b.amplification),
            b.backends.join(", "),
        ]);
    }
    table
}

pub(super) fn calls_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "call",
            "calls",
            "attempts",
            "retries",
            "ok",
            "failed",
            "attempt failures",
            "p50",
            "p99",
            "p99 all",
        ],
        1,
    );
    for c in &summary.calls {
        table.add_row(vec![
            format!("{} → {}", c.caller, c.target),
            group_digits(c.calls),
            group_digits(c.attempts),
            group_digits(c.retries),
            group_digits(c.succeeded),
            failures(&c.failed),
            failures(&c.attempt_failures),
            ms_or_dash(c.latency.p50_ms),
            ms_or_dash(c.latency.p99_ms),
            ms_or_dash(c.latency_all.p99_ms),
        ]);
    }
    table
}

pub(super) fn caches_table(summary: &Summary) -> Table {
    let mut table = new_table(
        &[
            "cache",
            "requests",
            "hit ratio",
            "stale hits",
            "coalesced",
            "backend calls",
            "evictions",
            "expirations",
            "hit p50",
            "miss p50",
            "miss p99",
        ],
        1,
    );
    for c in &summary.caches {
        table.add_row(vec![
            format!("{} → {}", c.name, c.target),
            group_digits(c.requests),
            format!("{:.1}%", c.hit_ratio * 100.0),
            group_digits(c.stale_hits),
            group_digits(c.coalesced),
            format!(
                "{} ({})",
                group_digits(c.backend_calls),
                format_rate(c.backend_calls_per_s)
            ),
            group_digits(c.evictions),
            group_digits(c.expirations),
            ms_or_dash(c.hit_latency.p50_ms),
            ms_or_dash(c.miss_latency.p50_ms),
            ms_or_dash(c.miss_latency.p99_ms),
        ]);
    }
    table
}

/// Every fault window and every non-zero defence counter, one per row; `None`
/// when the scenario uses none of them.
pub(super) fn defences_table(summary: &Summary) -> Option<Table> {
    let mut rows: Vec<[String; 3]> = summary
        .faults
        .iter()
        .map(|f| {
            [
                f.target.clone(),
                format!("fault: {}", f.kind),
                format_window(f.start_s, f.end_s, " to "),
            ]
        })
        .collect();
    rows.extend(summary.services.iter().filter(|s| s.pauses > 0).map(|s| {
        [
            s.name.clone(),
            "stop-the-world pauses (all instances)".to_string(),
            format!(
                "{}, {} in all",
                group_digits(s.pauses),
                format_ms(s.paused_s * 1000.0)
            ),
        ]
    }));
    let mut count = |place: &str, what: &str, n: u64| {
        if n > 0 {
            rows.push([place.to_string(), what.to_string(), group_digits(n)]);
        }
    };
    for s in &summary.services {
        count(&s.name, "shed by the concurrency limit", s.shed);
        count(&s.name, "displaced by more critical requests", s.displaced);
        count(&s.name, "dropped after the queue timeout", s.queue_timeouts);
        count(&s.name, "refused while down", s.refused);
        count(&s.name, "swallowed by a hanging outage", s.hung);
        count(&s.name, "lost in a crash", s.lost_in_crash);
        count(&s.name, "instances ejected (outliers)", s.ejections);
        count(&s.name, "instances marked unhealthy", s.marked_unhealthy);
    }
    for b in &summary.load_balancers {
        count(&b.name, "instances ejected (outliers)", b.ejections);
        count(&b.name, "instances marked unhealthy", b.marked_unhealthy);
    }
    for c in &summary.calls {
        let place = format!("{} → {}", c.caller, c.target);
        count(&place, "retries throttled", c.retries_throttled);
        count(&place, "short-circuited", c.short_circuited);
        count(
            &place,
            "throttled by the caller's rate limit",
            c.throttled_by_caller,
        );
        count(
            &place,
            "held back by the caller's rate limit",
            c.delayed_by_rate_limit,
        );
        count(&place, "lost in the network", c.lost_in_network);
        count(&place, "circuit breaker opened", c.breaker_opened);
        count(&place, "hedges sent", c.hedges);
    }
    for s in &summary.services {
        if s.instances_max != u64::from(s.instances) || s.instances_mean != f64::from(s.instances) {
            rows.push([
                s.name.clone(),
                "instances taking traffic".to_string(),
                format!("mean {:.2}, max {}", s.instances_mean, s.instances_max),
            ]);
        }
    }
    if rows.is_empty() {
        return None;
    }
    let mut table = new_table(&["where", "what", "how many / when"], 2);
    for row in rows {
        table.add_row(row.to_vec());
    }
    Some(table)
}

pub(super) fn footnotes(summary: &Summary) -> String {
    // Queue-only scenarios have no Services table to explain.
    if summary.services.is_empty() {
        return String::new();
    }
    let mut notes = String::from(
        "\namplif. = attempts arriving ÷ requests of the sources whose requests reach the service (per source when several) · util = busy worker time ÷ capacity (busiest: its busiest instance's)\n\
         abandoned = requests a service finished after its caller had given up (wasted work)\n",
    );
    if summary.services.iter().any(|s| s.expired > 0) {
        notes.push_str("expired = requests dropped unserved because their deadline had passed\n");
    }
    notes
}

fn latency_cells(latency: &LatencySummary) -> Vec<String> {
    let values = [
        latency.mean_ms,
        latency.p50_ms,
        latency.p90_ms,
        latency.p99_ms,
        latency.p999_ms,
        latency.max_ms,
    ];
    values.into_iter().map(ms_or_dash).collect()
}

/// The amplification, and per source when several sources reach the service.
fn amplification_cell(s: &super::summary::ServiceSummary) -> String {
    match s.amplification_by_source.as_slice() {
        // One source reaches it: its own ratio, named when other sources exist.
        [only] if only.amplification != s.amplification => {
            format!("{:.2}×\n({})", only.amplification, only.source)
        }
        [_] | [] => format!("{:.2}×", s.amplification),
        several => {
            let mut cell = format!("{:.2}× all", s.amplification);
            for a in several {
                cell.push_str(&format!("\n{:.2}× {}", a.amplification, a.source));
            }
            cell
        }
    }
}

/// A dash where there were no samples, so "no data" never reads as "zero".
pub fn ms_or_dash(ms: Option<f64>) -> String {
    ms.map_or_else(|| "–".to_string(), format_ms)
}

/// "0", or the non-zero kinds: "80 error, 12 timeout".
fn failures(counts: &FailureCounts) -> String {
    let kinds = [
        (counts.error, "error"),
        (counts.timeout, "timeout"),
        (counts.rejected, "rejected"),
        (counts.deadline_exceeded, "deadline"),
        (counts.short_circuited, "short-circuited"),
        (counts.throttled, "throttled"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{} {kind}", group_digits(*n)))
        .collect();
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join(", ")
    }
}

/// A rate with one decimal: `1796.0/s`.
pub fn format_rate(per_second: f64) -> String {
    // A slow rate keeps its digits: 0.025/s, not 0.0/s.
    if per_second > 0.0 && per_second < 0.1 {
        return format!("{per_second:.3}/s");
    }
    format!("{per_second:.1}/s")
}

/// A latency in the unit that reads best: `850us`, `12.3ms`, `1.25s`,
/// `2.6min`, `1.4h`.
/// A fraction as a percentage with no needless decimals (at most three):
/// `100%`, `2.5%`, `0.125%`.
pub fn percent_trimmed(fraction: f64) -> String {
    let text = format!("{:.3}", fraction * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

pub fn format_ms(ms: f64) -> String {
    if ms == 0.0 {
        "0".to_string()
    // The unit is chosen after rounding: 999.7ms reads 1.00s, not 1000ms.
    } else if ms < 0.9995 {
        format!("{:.0}us", ms * 1000.0)
    } else if ms < 999.5 {
        format!("{}ms", three_significant(ms))
    } else if let Some(long) = long_duration(ms / 1000.0) {
        long
    } else {
        format!("{}s", three_significant(ms / 1000.0))
    }
}

/// Seconds as the tables write them: `{seconds}s` under a minute, so short
/// runs read as before, and `12min` or `1.4h` beyond, where `86399.395s`
/// would make the reader do the division.
pub fn format_seconds(seconds: f64) -> String {
    long_duration(seconds).unwrap_or_else(|| format!("{seconds}s"))
}

/// A window of simulated time, both ends in the largest unit that writes
/// them exactly: `5min–7min`, `60s–150s`, `1h to 2h`.
pub fn format_window(start_s: f64, end_s: f64, separator: &str) -> String {
    let whole = |seconds: f64, unit: f64| (seconds / unit).fract() == 0.0;
    let unit = [(3600.0, "h"), (60.0, "min")]
        .into_iter()
        .find(|&(unit, _)| end_s >= unit && whole(start_s, unit) && whole(end_s, unit));
    match unit {
        Some((unit, name)) => format!("{}{name}{separator}{}{name}", start_s / unit, end_s / unit),
        None => format!("{start_s}s{separator}{end_s}s"),
    }
}

/// A duration of a minute or more in min or h with three significant
/// digits and no trailing zeros (`2.1min`, `12min`, `1.4h`); `None` under a
/// minute, where each table keeps its own precision.
pub fn long_duration(seconds: f64) -> Option<String> {
    let (value, unit) = if seconds >= 3600.0 {
        (seconds / 3600.0, "h")
    } else if seconds >= 60.0 {
        (seconds / 60.0, "min")
    } else {
        return None;
    };
    let digits = three_significant(value);
    let trimmed = match digits.contains('.') {
        true => digits.trim_end_matches('0').trim_end_matches('.'),
        false => &digits,
    };
    Some(format!("{trimmed}{unit}"))
}

/// A plain number for an axis: 0.05, 12.5, 300, 10,000.
pub fn format_number(value: f64) -> String {
    if value >= 1_000.0 {
        group_digits(value.round() as u64)
    } else {
        three_significant(value)
    }
}

fn three_significant(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// 1234567 → "1,234,567".
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(12), "12");
        assert_eq!(format_ms(0.25), "250us");
        assert_eq!(format_ms(4.0), "4.00ms");
        assert_eq!(format_ms(12.34), "12.3ms");
        assert_eq!(format_ms(1250.0), "1.25s");
        // The unit follows the rounded value.
        assert_eq!(format_ms(999.7), "1.00s");
        assert_eq!(format_ms(0.9997), "1.00ms");
    }

    #[test]
    fn long_durations_read_in_minutes_and_hours() {
        assert_eq!(format_seconds(0.117), "0.117s");
        assert_eq!(format_seconds(30.0), "30s");
        assert_eq!(format_seconds(59.5), "59.5s");
        assert_eq!(format_seconds(120.052), "2min");
        assert_eq!(format_seconds(126.0), "2.1min");
        assert_eq!(format_seconds(720.0), "12min");
        assert_eq!(format_seconds(3143.673), "52.4min");
        assert_eq!(format_seconds(5040.0), "1.4h");
        assert_eq!(format_seconds(86399.395), "24h");
        assert_eq!(format_ms(59_900.0), "59.9s");
        assert_eq!(format_ms(158_000.0), "2.63min");
        assert_eq!(format_ms(2_652_000.0), "44.2min");
        assert_eq!(format_ms(86_399_395.0), "24h");
        assert_eq!(long_duration(59.99), None);
        assert_eq!(format_window(300.0, 420.0, "–"), "5min–7min");
        assert_eq!(format_window(60.0, 62.0, "–"), "60s–62s");
        assert_eq!(format_window(60.0, 150.0, " to "), "60s to 150s");
        assert_eq!(format_window(3600.0, 7200.0, " to "), "1h to 2h");
        assert_eq!(format_window(0.0, 30.0, "–"), "0s–30s");
    }
}
