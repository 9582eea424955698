//! `report.md` and `report.html`: a run written up for people who will not
//! run it.
//!
//! The same numbers as the terminal report, as real tables, with the
//! headline findings first and the charts embedded, so a folder of results
//! can be read on any Markdown viewer (a repository page, an editor) or in
//! a browser. Both come from one [`Document`].

use comfy_table::Table;

use super::document::{Block, Document};

use crate::scenario::Scenario;

use super::summary::Summary;
use super::text::{self, format_ms, format_rate, format_seconds, group_digits, ms_or_dash};
use super::theory::TheorySummary;

/// The findings a reader should see first, as bullet points.
fn findings(summary: &Summary) -> Vec<String> {
    let t = &summary.totals;
    let success = t.success_ratio() * 100.0;
    let work = match summary.services.is_empty() {
        true => String::new(),
        false => format!(", {:.2} service attempts per request", t.work_per_request),
    };
    // Jobs lead where sources submit them; where producers send to queues,
    // what the consumers did.
    let leading = super::jobs::job_lines(summary) + &super::queues::processing_lines(summary);
    let mut points: Vec<String> = leading
        .lines()
        .map(|line| format!("{}.", line.trim()))
        .collect();
    let (what, ok) = match text::is_only_sends(summary) {
        true => ("sends by producers", "accepted by the queue"),
        false => ("requests", "succeeded"),
    };
    points.push(format!(
        "{} {what} offered at {}: {} {}, {success:.1}% {ok}{work}.",
        group_digits(t.requests),
        format_rate(t.offered_per_s),
        if text::is_only_sends(summary) {
            "accepted"
        } else {
            "goodput"
        },
        format_rate(t.goodput_per_s),
    ));
    let verdicts = text::recovery_lines(summary) + &super::queues::drain_lines(summary);
    for line in verdicts.lines().filter(|l| !l.is_empty()) {
        points.push(format!("{line}."));
    }
    points.extend(super::queues::findings(summary));
    // A job's polls are not retries: its status endpoint is left out.
    let polling = super::jobs::Polling::of(summary);
    let polled = |service: &str, source: &str| polling.polled_by(service, source);
    let per_source = summary.services.iter().flat_map(|s| {
        s.amplification_by_source
            .iter()
            .map(move |a| (s.name.as_str(), a))
    });
    let per_source = per_source.filter(|(service, a)| !polled(service, &a.source));
    if let Some((service, worst)) =
        per_source.max_by(|a, b| a.1.amplification.total_cmp(&b.1.amplification))
        && worst.amplification > 1.05
    {
        points.push(format!(
            "Retries multiply: `{service}` receives {:.2} attempts per request of `{}`.",
            worst.amplification, worst.source
        ));
    }
    // Services and consumer groups both do the work: the busiest of either.
    let services = summary
        .services
        .iter()
        .map(|s| ("service", s.name.as_str(), s.utilisation));
    let consumers = summary
        .consumers
        .iter()
        .map(|c| ("consumer group", c.name.as_str(), c.utilisation));
    let busiest = services.chain(consumers).max_by(|a, b| a.2.total_cmp(&b.2));
    if let Some((kind, name, utilisation)) = busiest {
        points.push(format!(
            "The busiest {kind} is `{name}` at {:.1}% utilisation.",
            utilisation * 100.0
        ));
    }
    points.extend(theory_points(summary));
    let abandoned: u64 = summary.services.iter().map(|s| s.abandoned_work).sum();
    if abandoned > 0 {
        points.push(format!(
            "{} requests were served for callers that had already given up (abandoned work).",
            group_digits(abandoned)
        ));
    }
    // A send straight to a queue is acknowledged at once: its latency says nothing.
    let finished = summary.sources.iter().filter(|s| s.latency_all.count > 0);
    for source in finished.filter(|s| !s.sends_messages()) {
        let failures = match source.latency_failed.count {
            0 => String::new(),
            _ => format!(
                "; over every finished request, failures included, p50 {} and p99 {}",
                ms_or_dash(source.latency_all.p50_ms),
                ms_or_dash(source.latency_all.p99_ms)
            ),
        };
        points.push(format!(
            "`{}` end-to-end latency of successful requests: p50 {}, p99 {}, p99.9 {}{failures}.",
            source.name,
            ms_or_dash(source.latency.p50_ms),
            ms_or_dash(source.latency.p99_ms),
            ms_or_dash(source.latency.p999_ms)
        ));
    }
    points
}

/// What the textbook queues say against theory: a point per queue reads
/// well for a few; for many, their tally.
fn theory_points(summary: &Summary) -> Vec<String> {
    const QUEUES_NAMED: usize = 3;
    if summary.theory.len() > QUEUES_NAMED {
        let count = |verdict: &str| {
            summary
                .theory
                .iter()
                .filter(|t| t.verdict == verdict)
                .count()
        };
        let tally: Vec<String> = [
            "agree",
            "disagree",
            "too few waits to judge",
            "too short to judge",
        ]
        .into_iter()
        .map(|verdict| (verdict, count(verdict)))
        .filter(|&(_, n)| n > 0)
        .map(|(verdict, n)| format!("{} {verdict}", group_digits(n as u64)))
        .collect();
        return vec![format!(
            "{} services are textbook queues; against theory (99% intervals): {} (the Theory table has each).",
            group_digits(summary.theory.len() as u64),
            tally.join(", ")
        )];
    }
    summary.theory.iter().map(theory_point).collect()
}

/// One textbook queue's mean wait, in theory and measured.
fn theory_point(t: &TheorySummary) -> String {
    let measured = match (t.wait_mean_ms.measured, t.wait_mean_ms.ci99) {
        (Some(m), Some(h)) => format!(
            "measured {} ± {} (99% interval)",
            format_ms(m),
            format_ms(h)
        ),
        (Some(m), None) => format!("measured {}", format_ms(m)),
        _ => "the run too short to measure".to_string(),
    };
    format!(
        "`{}` is an {} queue at ρ = {:.2}: mean wait {} in theory, {measured}: they {}.",
        t.service,
        t.model,
        t.offered_load,
        format_ms(t.wait_mean_ms.theory),
        match t.verdict {
            "agree" => "agree",
            "disagree" => "disagree",
            "too few waits to judge" => "cannot be compared (too few requests waited)",
            _ => "cannot be compared yet",
        }
    )
}

/// The report of one run, as blocks for `report.md` and `report.html`;
/// `charts` are the chart files beside it.
pub fn run_document(
    scenario: &Scenario,
    summary: &Summary,
    reproduce: &str,
    charts: &[String],
) -> Document {
    let mut blocks = vec![Block::Heading(1, summary.scenario.clone())];
    if !scenario.description.is_empty() {
        blocks.push(Block::Paragraph(scenario.description.clone()));
    }
    blocks.push(Block::Paragraph(format!(
        "Seed {} · {} simulated, of which the first {} are warm-up (excluded) · {} events.",
        summary.seed,
        format_seconds(summary.duration_s),
        format_seconds(summary.warmup_s),
        group_digits(summary.events)
    )));
    blocks.push(Block::Paragraph(format!("Reproduce with `{reproduce}`.")));
    if let Some(reason) = &summary.stopped_early {
        blocks.push(Block::Note(format!("**Stopped early:** {reason}")));
    }
    blocks.push(Block::Heading(2, "Findings".into()));
    blocks.push(Block::Bullets(findings(summary)));
    if !summary.why.is_empty() {
        blocks.push(Block::Heading(
            2,
            "Why (read from the recorded data)".into(),
        ));
        blocks.push(Block::Bullets(summary.why.clone()));
    }
    blocks.push(Block::Heading(2, "Charts".into()));
    for chart in charts.iter().filter(|c| c.ends_with(".svg")) {
        blocks.push(chart_block(chart));
    }
    blocks.push(Block::Heading(
        2,
        "Sources (end to end; latency of successful requests, `all`: every finished request)"
            .into(),
    ));
    blocks.push(Block::Table(text::sources_table(summary)));
    for (title, table) in text::component_tables(summary) {
        blocks.push(Block::Heading(2, title.to_string()));
        blocks.push(Block::Table(table));
    }
    // What the tables' short column names mean, as the terminal report says.
    for note in text::footnotes(summary).lines().filter(|l| !l.is_empty()) {
        blocks.push(Block::Paragraph(note.to_string()));
    }
    blocks.push(Block::Paragraph("Data: `summary.json` (schema in docs/json-schema.md) and `timeseries.csv`, one row per sample interval.".into()));
    Document {
        title: summary.scenario.clone(),
        blocks,
    }
}

fn chart_block(file: &str) -> Block {
    Block::Chart {
        file: file.to_string(),
        caption: file.trim_end_matches(".svg").replace('-', " "),
    }
}

/// Appends a section to a report: its title, the lines above its table,
/// the table, the notes under it, and its charts.
pub fn append_section(
    document: &mut Document,
    title: &str,
    (preamble, table, notes): (String, Table, String),
    charts: &[String],
) {
    document.blocks.push(Block::Heading(2, title.to_string()));
    if !preamble.trim().is_empty() {
        document.blocks.push(Block::Preformatted(preamble));
    }
    document.blocks.push(Block::Table(table));
    for line in notes.lines().filter(|l| !l.trim().is_empty()) {
        document.blocks.push(Block::Paragraph(line.to_string()));
    }
    for chart in charts.iter().filter(|c| c.ends_with(".svg")) {
        document.blocks.push(chart_block(chart));
    }
}
