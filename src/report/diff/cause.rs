//! Where a difference between two reports comes from, read from their
//! `provenance`: the scenario (and which of its keys), the seed, or the
//! stampede version; and the whole `diff` of two documents as text.
//!
//! A pure function of the two documents: the CLI reads the files and
//! prints what this returns.

use serde_json::Value;

use super::{Difference, Options, Verdict, diff, kind_of, scenario_changes};

/// A document and what to call it in messages (its file).
#[derive(Clone, Copy)]
pub struct Labeled<'a> {
    pub label: &'a str,
    pub document: &'a Value,
}

/// When `diff` exits 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// A metric got worse beyond its tolerance (the default).
    Worse,
    /// Anything differs beyond tolerance, or a scenario is on one side only.
    Any,
    /// Never: report only.
    Never,
}

/// Two documents compared: the header lines, then the metrics.
#[derive(Clone, Debug)]
pub struct Report {
    /// The `--metric` globs that matched nothing in either document.
    pub unmatched_metrics: Vec<String>,
    pub kind: String,
    pub header: Vec<String>,
    pub differences: Vec<Difference>,
    pub tolerance: String,
}

impl Report {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.differences
            .iter()
            .filter(|d| d.verdict == verdict)
            .count()
    }

    /// Whether this comparison should make `diff` exit 1.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Worse => self.count(Verdict::Worse) > 0,
            FailOn::Any => !self.differences.is_empty(),
            FailOn::Never => false,
        }
    }
}

/// Compares two documents of the same kind; refuses documents of different
/// kinds, or that are not stampede reports, with a message.
pub fn compare(left: Labeled, right: Labeled, options: &Options) -> Result<Report, String> {
    let kind = |side: Labeled| {
        kind_of(side.document).ok_or_else(|| {
            format!(
                "{} is not a stampede report (a summary.json, compare.json or sweep.json)",
                side.label
            )
        })
    };
    let (left_kind, right_kind) = (kind(left)?, kind(right)?);
    if left_kind != right_kind {
        return Err(format!(
            "{} is a {left_kind} and {} is a {right_kind}: diff compares two documents of the same kind",
            left.label, right.label
        ));
    }
    if left_kind == "check" {
        return Err(format!(
            "{} and {} are check results: verdicts, not measurements. Diff the summaries the runs wrote (`stampede run … --format json`, or `report` folders), or run `stampede check` on the new version",
            left.label, right.label
        ));
    }
    let unmatched_metrics = options.unmatched_metrics(&[left.document, right.document]);
    if options.every_metric_glob_must_match && !unmatched_metrics.is_empty() {
        return Err(unmatched_message(&unmatched_metrics));
    }
    let differences = diff(left.document, right.document, options);
    let header = header(left, right, !differences.is_empty());
    Ok(Report {
        unmatched_metrics,
        kind: left_kind,
        header,
        differences,
        tolerance: options.tolerances.describe(),
    })
}

/// Why `--metric` globs that match nothing are an error: a typo would
/// otherwise turn a gate green for good.
pub fn unmatched_message(globs: &[String]) -> String {
    format!(
        "--metric {} matches no metric of these reports (metric names look like `sources.users.latency.p99_ms`)",
        globs.join(", --metric ")
    )
}

/// The `provenance` fields both sides share, with fallbacks for files
/// written before provenance existed (schema 6 and older).
struct Recorded<'a> {
    version: Option<&'a str>,
    seed: Option<u64>,
    hash: Option<&'a str>,
    scenario: Option<&'a Value>,
    runs: Vec<(&'a str, &'a str)>,
}

fn recorded(document: &Value) -> Recorded<'_> {
    let provenance = document.get("provenance");
    let field = |key: &str| provenance.and_then(|p| p.get(key));
    let runs = field("runs")
        .and_then(Value::as_array)
        .map(|runs| {
            runs.iter()
                .filter_map(|r| {
                    Some((
                        r.get("name")?.as_str()?,
                        r.get("scenario_sha256")?.as_str()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Recorded {
        version: field("stampede_version").and_then(Value::as_str),
        seed: field("seed")
            .or_else(|| document.get("seed"))
            .and_then(Value::as_u64),
        hash: field("scenario_sha256").and_then(Value::as_str),
        scenario: field("scenario"),
        runs,
    }
}

/// The lines before the metric table: scenario, seed, version, and the
/// cause of the differences when the provenance tells it.
fn header(left: Labeled, right: Labeled, differs: bool) -> Vec<String> {
    let (a, b) = (recorded(left.document), recorded(right.document));
    let mut lines = vec![
        format!("left:  {}", left.label),
        format!("right: {}", right.label),
    ];
    let (Some(hash_a), Some(hash_b)) = (a.hash, b.hash) else {
        let missing = if a.hash.is_none() {
            left.label
        } else {
            right.label
        };
        lines.push(format!("scenario: {missing} records no provenance (written before schema 7): where a difference comes from cannot be told"));
        lines.push(seed_line(&a, &b));
        return lines;
    };
    let same_scenario = hash_a == hash_b;
    if same_scenario {
        lines.push(format!("scenario: the same (sha256 {})", short(hash_a)));
    } else {
        lines.push(format!(
            "scenario: different (sha256 {} → {})",
            short(hash_a),
            short(hash_b)
        ));
        lines.extend(changed_keys(&a, &b));
    }
    lines.push(seed_line(&a, &b));
    lines.push(match (a.version, b.version) {
        (Some(x), Some(y)) if x == y => format!("stampede: {x} on both sides"),
        (x, y) => format!("stampede: {} → {}", x.unwrap_or("?"), y.unwrap_or("?")),
    });
    if differs && same_scenario {
        lines.push(same_scenario_cause(&a, &b));
    }
    lines
}

fn seed_line(a: &Recorded, b: &Recorded) -> String {
    let show = |seed: Option<u64>| seed.map_or_else(|| "?".to_string(), |s| s.to_string());
    match (a.seed, b.seed) {
        (Some(x), Some(y)) if x == y => format!("seed: {x} on both sides"),
        (x, y) => format!("seed: {} → {}", show(x), show(y)),
    }
}

/// Why two runs of the same scenario differ.
fn same_scenario_cause(a: &Recorded, b: &Recorded) -> String {
    if a.seed != b.seed {
        return "same scenario, different seed: the difference is the runs' randomness (`stampede compare … --replications 10` tells an effect from chance)".to_string();
    }
    match (a.version, b.version) {
        (Some(x), Some(y)) if x != y => format!(
            "same scenario and seed: the difference comes from the stampede version ({x} → {y})"
        ),
        _ => "same scenario, seed and stampede version: the difference comes from a different build of stampede or an edited file, not from the scenario".to_string(),
    }
}

/// The scenario keys that changed (a summary), or the runs whose
/// scenario changed (a compare or sweep).
fn changed_keys(a: &Recorded, b: &Recorded) -> Vec<String> {
    if let (Some(x), Some(y)) = (a.scenario, b.scenario) {
        let changes = scenario_changes(x, y);
        let mut lines = vec![format!(
            "  {} key{} changed:",
            changes.len(),
            plural(changes.len())
        )];
        lines.extend(
            changes
                .into_iter()
                .map(|(path, from, to)| format!("    {path}: {from} → {to}")),
        );
        return lines;
    }
    let hash_in = |runs: &[(&str, &str)], name: &str| {
        runs.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| h.to_string())
    };
    let mut names: Vec<&str> = a.runs.iter().map(|(n, _)| *n).collect();
    let right_only: Vec<&str> = b
        .runs
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !names.contains(n))
        .collect();
    names.extend(right_only);
    names
        .into_iter()
        .filter_map(
            |name| match (hash_in(&a.runs, name), hash_in(&b.runs, name)) {
                (Some(x), Some(y)) if x == y => None,
                (Some(_), Some(_)) => Some(format!("  {name}: its scenario changed")),
                (Some(_), None) => Some(format!("  {name}: only on the left")),
                _ => Some(format!("  {name}: only on the right")),
            },
        )
        .collect()
}

/// The first 12 hex digits of a hash: enough to tell two apart by eye.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The report as text: header, one line per changed metric, and a summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for line in &report.header {
        out.push_str(line);
        out.push('\n');
    }
    if report.differences.is_empty() {
        out.push_str(&format!(
            "no metric differs beyond the tolerance ({})\n",
            report.tolerance
        ));
        return out;
    }
    // A long value (the `why` sentences) would widen every row of the
    // table past the screen: it is shown in full under the table instead.
    let long = |d: &Difference| d.left.chars().count().max(d.right.chars().count()) > WIDEST_CELL;
    let shown = |d: &Difference, value: &str| match long(d) {
        true => BELOW.to_string(),
        false => value.to_string(),
    };
    let column = |text: &dyn Fn(&Difference) -> String, title: &str| {
        let widest = report.differences.iter().map(|d| text(d).chars().count());
        widest.max().unwrap_or(0).max(title.chars().count())
    };
    let path_width = column(&|d| d.path.clone(), "metric");
    let left_width = column(&|d| shown(d, &d.left), "left");
    let right_width = column(&|d| shown(d, &d.right), "right");
    out.push_str(&format!(
        "{:<path_width$}  verdict  {:>left_width$}    {:>right_width$}  change\n",
        "metric", "left", "right"
    ));
    for d in &report.differences {
        let line = format!(
            "{:<path_width$}  {:<7}  {:>left_width$} →  {:>right_width$}  {}",
            d.path,
            d.verdict.word(),
            shown(d, &d.left),
            shown(d, &d.right),
            change_text(d.change)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let mut any_long = false;
    for d in report.differences.iter().filter(|d| long(d)) {
        out.push_str(&format!(
            "\n{}:\n  left:  {}\n  right: {}\n",
            d.path, d.left, d.right
        ));
        any_long = true;
    }
    if any_long {
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out
}

/// The widest value shown in the table; longer ones go under it.
const WIDEST_CELL: usize = 40;

/// What the table shows for a value written under it.
const BELOW: &str = "(below)";

fn change_text(change: Option<f64>) -> String {
    match change {
        Some(c) if c.is_finite() => format!("{:+.1}%", c * 100.0),
        Some(_) => "from 0".to_string(),
        None => String::new(),
    }
}

/// `3 metrics differ beyond the tolerance (0%): 1 worse, 1 better, 1 changed (neutral)`.
fn summary_line(report: &Report) -> String {
    let total = report.differences.len();
    format!(
        "{total} metric{} differ{} beyond the tolerance ({}): {} worse, {} better, {} changed (neutral)\n",
        plural(total),
        if total == 1 { "s" } else { "" },
        report.tolerance,
        report.count(Verdict::Worse),
        report.count(Verdict::Better),
        report.count(Verdict::Changed),
    )
}
