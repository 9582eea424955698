//! `stampede diff A B`: two reports of the same kind, metric by metric, and
//! why they differ.
//!
//! Both documents are flattened to `path → value`, where array items are
//! named by their `name` (or `caller->target` for calls, `variant@value`
//! for sweep points), so reordering components is not a difference. Before
//! the metrics, the provenance says where a difference comes from: the
//! scenario (with the keys that changed), the seed, or the stampede version.
//! Each metric knows which way is better from its path
//! ([`direction_of`]), so a change is reported as worse, better or changed
//! (neutral); a number changes when its relative change exceeds the
//! tolerance its glob gives it ([`Tolerances`]). Text and missing keys
//! always differ, and count as neutral changes.

pub mod cause;

use globset::{Glob, GlobMatcher};
use serde_json::Value;

/// The keys that describe a document rather than measure a run: the
/// header speaks of them once, the metric table never.
/// (`variants` lists a compare's variants: their values are named by them.)
const NOT_METRICS: [&str; 6] = [
    "kind",
    "schema_version",
    "seed",
    "scenario",
    "provenance",
    "variants",
];

/// What a JSON document is: `summary`, `compare`, `sweep`, `check`…
///
/// Its `kind` field, or for files written before there was one, its shape.
pub fn kind_of(document: &Value) -> Option<String> {
    if let Some(kind) = document.get("kind").and_then(Value::as_str) {
        return Some(kind.to_string());
    }
    let has = |key: &str| document.get(key).is_some();
    let kind = if has("totals") && has("services") {
        "summary"
    } else if has("metrics") && has("variants") {
        "compare"
    } else if has("points") && has("param") {
        "sweep"
    } else if has("verdicts") || has("expectations") {
        "check"
    } else {
        return None;
    };
    Some(kind.to_string())
}

/// Which way a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    Neutral,
}

/// Words in a path segment that make a metric worse as it grows: latency,
/// failures of every kind, wasted work. Checked before the other lists, so
/// `stale_hits`, `throttled_ratio` and `work_per_request` are read here.
const LOWER_IS_BETTER: [&str; 33] = [
    "latency",
    "p50",
    "p90",
    "p99",
    "max_ms",
    "mean_ms",
    "recovery_time",
    "error",
    "fail",
    "reject",
    "refused",
    "timeout",
    "deadline_exceeded",
    "dropped",
    "shed",
    "throttled",
    "dead_letter",
    "expired",
    "miss",
    "retries",
    "amplification",
    "work_per_request",
    "backlog",
    "abandon",
    "lost",
    "hung",
    "cancelled",
    "short_circuited",
    "breaker_opened",
    "ejections",
    "unhealthy",
    "queue_length",
    "stale",
];

/// Words of metrics that are better higher: work that succeeded.
const HIGHER_IS_BETTER: [&str; 6] = [
    "goodput",
    "success",
    "succeeded",
    "hit_ratio",
    "hits",
    "recovered",
];

/// Words of metrics with no better direction: load, sizes, utilisation.
const NEUTRAL: [&str; 16] = [
    "utilisation",
    "utilization",
    "requests",
    "attempts",
    "offered",
    "throughput",
    "processed",
    "events",
    "instances",
    "workers",
    "count",
    "duration",
    "measured",
    "warmup",
    "hedges",
    "calls",
];

/// Segments that say which statistic of a metric a value is, not what
/// it measures: the metric's name is the segment before them.
const STATISTICS: [&str; 3] = ["mean", "ci95", "values"];

/// The better direction of the metric at `path`, from the last segment
/// that names a measure (`services.api.latency.p99_ms` → its `p99_ms`;
/// `points.base@100.goodput_per_s.mean` → `goodput_per_s`). Unknown
/// metrics are neutral. Component names are never read: the search stops
/// at the first segment that is neither a known word nor a statistic.
pub fn direction_of(path: &str) -> Direction {
    for segment in path.rsplit('.') {
        let segment = segment.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| segment.contains(w));
        if has(&LOWER_IS_BETTER) {
            return Direction::LowerIsBetter;
        }
        if has(&HIGHER_IS_BETTER) {
            return Direction::HigherIsBetter;
        }
        if has(&NEUTRAL) {
            return Direction::Neutral;
        }
        let statistic =
            STATISTICS.contains(&segment.as_str()) || segment.chars().all(|c| c.is_ascii_digit());
        if !statistic {
            return Direction::Neutral;
        }
    }
    Direction::Neutral
}

/// A glob over metric paths. It matches a path when it matches the whole
/// path or any tail of it that starts after a dot (`p99*` matches
/// `services.api.latency.p99_ms`); `*` also crosses dots.
#[derive(Clone, Debug)]
pub struct MetricGlob {
    pattern: String,
    matcher: GlobMatcher,
}

impl MetricGlob {
    pub fn new(pattern: &str) -> Result<MetricGlob, String> {
        let glob = Glob::new(pattern).map_err(|e| format!("`{pattern}` is not a glob: {e}"))?;
        Ok(MetricGlob {
            pattern: pattern.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        let tails = path.match_indices('.').map(|(at, _)| &path[at + 1..]);
        std::iter::once(path)
            .chain(tails)
            .any(|tail| self.matcher.is_match(tail))
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// Relative changes that still count as equal, per metric glob.
///
/// `GLOB=VALUE` gives the metrics a glob matches their tolerance; a bare
/// `VALUE` is the default (the last one given; 0 without any). The first
/// glob, in the order given, that matches a metric decides its tolerance.
#[derive(Clone, Debug, Default)]
pub struct Tolerances {
    rules: Vec<(MetricGlob, f64)>,
    default: f64,
}

impl Tolerances {
    /// Reads `--tolerance` values: `5%`, `5` (percent), `0.05` (a fraction),
    /// `p99*=10%`.
    pub fn parse(texts: &[String]) -> Result<Tolerances, String> {
        let mut tolerances = Tolerances::default();
        for text in texts {
            match text.rsplit_once('=') {
                Some((glob, value)) => tolerances
                    .rules
                    .push((MetricGlob::new(glob.trim())?, parse_tolerance(value)?)),
                None => tolerances.default = parse_tolerance(text)?,
            }
        }
        Ok(tolerances)
    }

    /// The tolerance of the metric at `path`, as a fraction.
    pub fn of(&self, path: &str) -> f64 {
        self.rules
            .iter()
            .find(|(glob, _)| glob.matches(path))
            .map_or(self.default, |(_, tolerance)| *tolerance)
    }

    pub fn default_fraction(&self) -> f64 {
        self.default
    }

    /// `5%`, or `5% (p99*: 10%)` when globs are given.
    pub fn describe(&self) -> String {
        let mut text = super::text::percent_trimmed(self.default);
        if !self.rules.is_empty() {
            let rules: Vec<String> = self
                .rules
                .iter()
                .map(|(glob, t)| {
                    format!("{}: {}", glob.pattern(), super::text::percent_trimmed(*t))
                })
                .collect();
            text.push_str(&format!(" ({})", rules.join(", ")));
        }
        text
    }
}

/// `5%` → 0.05; `5` → 0.05 (a bare number of 1 or more is percent);
/// `0.05` → 0.05 (below 1, a fraction).
pub fn parse_tolerance(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, is_percent) = match text.strip_suffix('%') {
        Some(number) => (number.trim(), true),
        None => (text, false),
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a tolerance: write a percentage such as `5%` (or `5`), a fraction such as `0.05`, or `GLOB=5%`")
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "`{text}` is not a tolerance: it must be a percentage of zero or more"
        ));
    }
    Ok(if is_percent || value >= 1.0 {
        value / 100.0
    } else {
        value
    })
}

/// What a metric's change means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Worse,
    Better,
    /// A neutral metric, text, or a key on one side only.
    Changed,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Worse => "worse",
            Verdict::Better => "better",
            Verdict::Changed => "changed",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub path: String,
    pub left: String,
    pub right: String,
    /// Relative change (right − left) / |left|, for numbers.
    pub change: Option<f64>,
    pub verdict: Verdict,
}

fn item_name(item: &Value, index: usize) -> String {
    let text = |key: &str| item.get(key).and_then(Value::as_str);
    if let Some(name) = ["name", "metric", "queue", "source"]
        .into_iter()
        .find_map(text)
    {
        return name.to_string();
    }
    match (
        text("caller"),
        text("target"),
        text("variant"),
        text("value"),
    ) {
        (Some(caller), Some(target), ..) => format!("{caller}->{target}"),
        (_, _, Some(variant), Some(value)) => format!("{variant}@{value}"),
        _ => index.to_string(),
    }
}

/// Every leaf of `value` as (dotted path, value). In a compare, each
/// metric's `values` (one per variant, in the document's variant order) are
/// named by their variant, so the same variants listed in another order are
/// paired by name, not by position.
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(&by_variant(value), String::new(), &mut out);
    out
}

/// A compare document with every `values` list turned into an object keyed
/// by variant name; any other document unchanged.
fn by_variant(document: &Value) -> Value {
    let Some(names) = document.get("variants").and_then(Value::as_array) else {
        return document.clone();
    };
    let names: Vec<String> = names
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    let mut relabeled = document.clone();
    if let Some(rows) = relabeled.get_mut("metrics").and_then(Value::as_array_mut) {
        for row in rows {
            let Some(values) = row.get_mut("values") else {
                continue;
            };
            if let Value::Array(items) = values
                && items.len() == names.len()
            {
                let named = names.iter().cloned().zip(items.drain(..)).collect();
                *values = Value::Object(named);
            }
        }
    }
    relabeled
}

fn walk(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(key, child)| walk(child, join(key), out)),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            items
                .iter()
                .enumerate()
                .for_each(|(index, item)| walk(item, join(&item_name(item, index)), out));
        }
        leaf => out.push((path, leaf.clone())),
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Which metrics to compare and how closely.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub tolerances: Tolerances,
    /// Only the metrics one of these matches; all when empty.
    pub metrics: Vec<MetricGlob>,
    /// Refuse a `--metric` glob that matches nothing in the two documents
    /// (two files; for folders, what matters is that it matches somewhere).
    pub every_metric_glob_must_match: bool,
}

impl Options {
    /// The `--metric` globs that match no metric of `documents`: a typo
    /// would otherwise turn a gate green for good.
    pub fn unmatched_metrics(&self, documents: &[&Value]) -> Vec<String> {
        let paths: Vec<String> = documents
            .iter()
            .flat_map(|d| flatten(d))
            .map(|(path, _)| path)
            .collect();
        self.metrics
            .iter()
            .filter(|glob| !paths.iter().any(|p| glob.matches(p)))
            .map(|glob| glob.pattern().to_string())
            .collect()
    }

    fn compares(&self, path: &str) -> bool {
        let first = path.split('.').next().unwrap_or(path);
        !NOT_METRICS.contains(&first)
            && (self.metrics.is_empty() || self.metrics.iter().any(|g| g.matches(path)))
    }
}

/// The metrics that differ beyond their tolerance, in `left`'s order then
/// those only in `right`; the header's keys (seed, provenance…) left out.
pub fn diff(left: &Value, right: &Value, options: &Options) -> Vec<Difference> {
    let keep = |(path, _): &(String, Value)| options.compares(path);
    let left: Vec<(String, Value)> = flatten(left).into_iter().filter(keep).collect();
    let right: Vec<(String, Value)> = flatten(right).into_iter().filter(keep).collect();
    let right_index: std::collections::BTreeMap<&str, &Value> =
        right.iter().map(|(p, v)| (p.as_str(), v)).collect();
    let left_index: std::collections::BTreeMap<&str, &Value> =
        left.iter().map(|(p, v)| (p.as_str(), v)).collect();
    let pairs = left
        .iter()
        .map(|(path, a)| (path, Some(a), right_index.get(path.as_str()).copied()))
        .chain(
            right
                .iter()
                .filter(|(path, _)| !left_index.contains_key(path.as_str()))
                .map(|(path, b)| (path, None, Some(b))),
        );
    pairs
        .filter_map(|(path, a, b)| difference(path, a, b, options.tolerances.of(path)))
        .collect()
}

/// The difference at one path, if it is one beyond `tolerance`.
fn difference(
    path: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    tolerance: f64,
) -> Option<Difference> {
    let numbers = (a.and_then(Value::as_f64), b.and_then(Value::as_f64));
    let (change, verdict) = match numbers {
        (Some(x), Some(y)) if x == y => return None,
        (Some(x), Some(y)) => {
            let change = if x == 0.0 {
                f64::INFINITY
            } else {
                (y - x) / x.abs()
            };
            if change.abs() <= tolerance {
                return None;
            }
            (Some(change), verdict_of(direction_of(path), y > x))
        }
        _ if a == b => return None,
        _ => (None, Verdict::Changed),
    };
    Some(Difference {
        path: path.to_string(),
        left: show(a),
        right: show(b),
        change,
        verdict,
    })
}

fn verdict_of(direction: Direction, increased: bool) -> Verdict {
    match (direction, increased) {
        (Direction::Neutral, _) => Verdict::Changed,
        (Direction::HigherIsBetter, true) | (Direction::LowerIsBetter, false) => Verdict::Better,
        _ => Verdict::Worse,
    }
}

/// The keys of two scenario documents that differ, as
/// (`services.api.calls[0].timeout_per_attempt`, left, right), in the
/// left document's order; `seed` is left out (the header says it).
pub fn scenario_changes(left: &Value, right: &Value) -> Vec<(String, String, String)> {
    let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
    scenario_leaves(left, String::new(), &mut left_keys);
    scenario_leaves(right, String::new(), &mut right_keys);
    let index = |list: &[(String, Value)]| -> std::collections::BTreeMap<String, Value> {
        list.iter().cloned().collect()
    };
    let (left_index, right_index) = (index(&left_keys), index(&right_keys));
    let right_only = right_keys
        .iter()
        .filter(|(path, _)| !left_index.contains_key(path));
    left_keys
        .iter()
        .chain(right_only)
        .map(|(path, _)| path)
        .filter(|path| *path != "seed")
        .filter_map(|path| {
            let (a, b) = (left_index.get(path), right_index.get(path));
            (a != b).then(|| (path.clone(), show(a), show(b)))
        })
        .collect()
}

/// Leaves of a scenario document, named as overrides name them
/// (`a.b[0].c`), so a changed key can be pasted into a variant's `set:`.
fn scenario_leaves(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let joined = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                scenario_leaves(child, joined, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                scenario_leaves(item, format!("{path}[{index}]"), out);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(tolerances: &[&str]) -> Options {
        let texts: Vec<String> = tolerances.iter().map(|t| t.to_string()).collect();
        Options {
            tolerances: Tolerances::parse(&texts).unwrap(),
            metrics: Vec::new(),
            every_metric_glob_must_match: true,
        }
    }

    #[test]
    fn a_compare_pairs_its_values_by_variant_name_not_position() {
        let a = json!({"kind": "compare", "variants": ["x", "y"], "metrics": [
            {"metric": "latency p99", "values": [{"mean": 1.0}, {"mean": 9.0}]}]});
        let b = json!({"kind": "compare", "variants": ["y", "x"], "metrics": [
            {"metric": "latency p99", "values": [{"mean": 9.0}, {"mean": 1.0}]}]});
        assert!(diff(&a, &b, &options(&[])).is_empty());
        let paths: Vec<String> = flatten(&a).into_iter().map(|(p, _)| p).collect();
        assert!(paths.contains(&"metrics.latency p99.values.y.mean".to_string()));
    }

    #[test]
    fn components_are_matched_by_name_and_small_changes_tolerated() {
        let a = json!({"seed": 1, "services": [{"name": "api", "p99_ms": 100.0}, {"name": "db", "p99_ms": 50.0}]});
        let b = json!({"seed": 2, "services": [{"name": "db", "p99_ms": 50.5}, {"name": "api", "p99_ms": 130.0}]});
        let differences = diff(&a, &b, &options(&["2%"]));
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].path, "services.api.p99_ms");
        assert_eq!(differences[0].verdict, Verdict::Worse);
        assert!((differences[0].change.unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(diff(&a, &b, &options(&["50%"])), vec![]);
        assert_eq!(diff(&a, &b, &options(&["p99*=50%", "1%"])), vec![]);
    }

    #[test]
    fn missing_keys_and_text_always_differ_but_the_header_keys_never() {
        let a =
            json!({"scenario": "x", "stopped_early": "a", "events": 3, "provenance": {"seed": 1}});
        let b = json!({"scenario": "y", "stopped_early": "b", "provenance": {"seed": 2}});
        let paths: Vec<String> = diff(&a, &b, &options(&["100%"]))
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, vec!["stopped_early", "events"]);
    }

    #[test]
    fn directions_come_from_the_metric_name() {
        use Direction::*;
        let cases = [
            ("totals.goodput_per_s", HigherIsBetter),
            ("sources.users.latency.p99_ms", LowerIsBetter),
            ("services.api.utilisation", Neutral),
            ("totals.requests", Neutral),
            ("calls.frontend->api.timeouts", LowerIsBetter),
            ("caches.c.stale_hits", LowerIsBetter),
            ("caches.c.hit_ratio", HigherIsBetter),
            ("points.base@100/s.goodput_per_s.mean", HigherIsBetter),
            ("metrics.p99 latency (users).values", LowerIsBetter),
            // A component's name is not read as a metric.
            ("services.errors-api.widgets", Neutral),
            ("totals.success_ratio", HigherIsBetter),
            ("rate_limiters.rl.throttled_ratio", LowerIsBetter),
            ("bulkheads.pool.rejected_ratio", LowerIsBetter),
            ("bulkheads.pool.wait_mean_ms", LowerIsBetter),
            ("bulkheads.pool.in_use_max", Neutral),
        ];
        for (path, expected) in cases {
            assert_eq!(direction_of(path), expected, "{path}");
        }
    }

    #[test]
    fn tolerances_read_percent_fractions_and_globs() {
        let cases = [
            ("5%", 0.05),
            ("5", 0.05),
            ("0.05", 0.05),
            ("1", 0.01),
            ("0", 0.0),
        ];
        for (text, expected) in cases {
            let parsed = parse_tolerance(text).unwrap();
            assert!((parsed - expected).abs() < 1e-12, "{text}: {parsed}");
        }
        assert!(parse_tolerance("-1%").is_err());
        assert!(parse_tolerance("lots").unwrap_err().contains("5%"));
        let texts = ["p99*=10%", "services.*=1%", "3%"].map(String::from);
        let tolerances = Tolerances::parse(&texts).unwrap();
        assert_eq!(tolerances.of("services.api.latency.p99_ms"), 0.1);
        assert_eq!(tolerances.of("services.api.utilisation"), 0.01);
        assert_eq!(tolerances.of("totals.goodput_per_s"), 0.03);
    }

    #[test]
    fn scenario_changes_name_keys_as_overrides_do() {
        let a = json!({"seed": 1, "services": {"api": {"calls": [{"target": "db", "timeout_per_attempt": "250ms"}]}}});
        let b = json!({"seed": 2, "services": {"api": {"calls": [{"target": "db", "timeout_per_attempt": "2s"}]}}});
        assert_eq!(
            scenario_changes(&a, &b),
            vec![(
                "services.api.calls[0].timeout_per_attempt".to_string(),
                "250ms".to_string(),
                "2s".to_string()
            )]
        );
    }

    #[test]
    fn kinds_come_from_the_field_or_the_shape() {
        assert_eq!(kind_of(&json!({"kind": "sweep"})).as_deref(), Some("sweep"));
        let old_summary = json!({"totals": {}, "services": []});
        assert_eq!(kind_of(&old_summary).as_deref(), Some("summary"));
        let old_compare = json!({"variants": [], "metrics": []});
        assert_eq!(kind_of(&old_compare).as_deref(), Some("compare"));
        assert_eq!(kind_of(&json!({"a": 1})), None);
    }
}
