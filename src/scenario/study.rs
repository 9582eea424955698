//! A study: the base scenario, its named variants, and its sweep.
//!
//! Variants and sweep points are the base document with some keys set by path
//! ([`super::overrides`]). Each goes through the raw types and validation
//! again, so a variant is checked exactly like the file, and an error in one
//! is reported at the override that caused it.

use serde_json::Value;

use super::diagnostic::Diagnostic;
use super::expect::{Expectation, Measure, has_surge, parse_expectation};
use super::overrides::{self, Segment};
use super::raw::{RawScenario, RawSweep, Text};
use super::units::split_number;
use super::yaml::{Position, Spanned, position_of};
use super::{Scenario, ScenarioError, syntax_diagnostic, validate};

/// The name of the scenario as written, among variants.
pub const BASE: &str = "base";

const MAX_SWEEP_POINTS: usize = 1_000;

#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub description: String,
    pub scenario: Scenario,
    /// What `stampede check` tests on this variant's results: the top-level
    /// expectations on one variant's own run, with the variant's own lines
    /// replacing those on the same measure.
    pub expectations: Vec<Expectation>,
}

#[derive(Clone, Debug)]
pub struct Sweep {
    pub param: String,
    pub values: Vec<String>,
    /// Variant names to sweep; empty means the base and every variant.
    pub variants: Vec<String>,
}

/// A failed sweep point named by what the user typed (`--param`, `--values`)
/// rather than by the variant machinery that built it.
fn sweep_point_diagnostic(mut d: Diagnostic, variant: &str, path: &str, value: &str) -> Diagnostic {
    let here = format!("variants.{variant}.set.{path}");
    if d.path != here && d.path != format!("variants.{variant}.set") {
        return d;
    }
    let about_the_key = d.message.starts_with("unknown key")
        || d.message.contains("matches nothing")
        || d.message.contains(" has no `")
        || d.message.contains("no keys to set");
    d.path = match about_the_key {
        true => format!("--param {path}"),
        false => format!("--values {value}"),
    };
    if variant != BASE {
        d.message = format!("in variant `{variant}`: {}", d.message);
    }
    d
}

/// One override as written: where, what, and its position for errors.
#[derive(Clone, Debug)]
struct Override {
    path: String,
    pattern: Vec<Segment>,
    value: Value,
    position: Option<Position>,
}

pub struct Study {
    /// The base first, then the variants in file order.
    pub variants: Vec<Variant>,
    pub sweep: Option<Sweep>,
    /// The top-level `expect:` lines as written (each variant's own list is
    /// in [`Variant::expectations`]).
    pub expectations: Vec<Expectation>,
    file: String,
    source_text: String,
    tree: Value,
    overrides: Vec<Vec<Override>>,
}

impl Study {
    pub fn base(&self) -> &Scenario {
        &self.variants[0].scenario
    }

    pub fn variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The document of the variant named `name` as it is run: the file's
    /// tree (without `variants`, `sweep` and `expect`) with the variant's
    /// overrides applied; `None` for an unknown name. Each variant's
    /// scenario carries the same value as [`Scenario::document`].
    pub fn resolved(&self, name: &str) -> Option<Value> {
        self.variant(name)
            .map(|v| v.scenario.document.as_ref().clone())
    }

    pub fn names(&self) -> Vec<&str> {
        self.variants.iter().map(|v| v.name.as_str()).collect()
    }

    /// The top-level expectations that compare variants, checked once per file.
    pub fn variant_comparisons(&self) -> impl Iterator<Item = &Expectation> {
        self.expectations.iter().filter(|e| e.compares_variants())
    }

    /// Whether `check` has anything to test.
    pub fn has_expectations(&self) -> bool {
        !self.expectations.is_empty() || self.variants.iter().any(|v| !v.expectations.is_empty())
    }

    /// `variant` with `path` also set to `value` (a sweep point).
    pub fn with_override(
        &self,
        variant: &str,
        path: &str,
        value: &str,
    ) -> Result<Scenario, ScenarioError> {
        let index = self
            .variants
            .iter()
            .position(|v| v.name == variant)
            .unwrap_or(0);
        let pattern = overrides::parse_path(path)
            .map_err(|e| self.error(vec![Diagnostic::new(None, path, e)]))?;
        let mut list = self.overrides[index].clone();
        list.push(Override {
            path: path.to_string(),
            pattern,
            value: Value::String(value.to_string()),
            position: None,
        });
        build(&self.tree, &list, variant, &super::base_dir_of(&self.file)).map_err(|d| {
            let named = |d: Diagnostic| sweep_point_diagnostic(d, variant, path, value);
            self.error(d.into_iter().map(named).collect())
        })
    }

    fn error(&self, diagnostics: Vec<Diagnostic>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            source_text: self.source_text.clone(),
            diagnostics,
        }
    }
}

/// Builds the study from a parsed and validated base.
pub(super) fn build_study(
    file: &str,
    text: &str,
    raw: &RawScenario,
    base: Scenario,
) -> Result<Study, Vec<Diagnostic>> {
    let mut tree = super::yaml::parse_tree(text).map_err(|e| vec![syntax_diagnostic(text, e)])?;
    if let Some(map) = tree.as_object_mut() {
        map.remove("variants");
        map.remove("sweep");
        map.remove("expect");
    }
    let description = base.description.clone();
    let mut base = base;
    base.document = std::sync::Arc::new(tree.clone());
    let mut variants = vec![Variant {
        name: BASE.to_string(),
        description,
        scenario: base,
        expectations: Vec::new(),
    }];
    let mut all_overrides = vec![Vec::new()];
    let mut errors = Vec::new();
    for (name, body) in raw.variants.iter().flatten() {
        if name == BASE {
            errors.push(Diagnostic::new(
                Some(position_of(body)),
                format!("variants.{name}"),
                "`base` is the scenario as written; give the variant another name",
            ));
            continue;
        }
        let list = parse_overrides(name, body.value.set.iter().flatten(), &mut errors);
        match build(&tree, &list, name, &super::base_dir_of(file)) {
            Ok(scenario) => {
                all_overrides.push(list);
                let description = body
                    .value
                    .description
                    .as_ref()
                    .map_or_else(String::new, |d| d.value.trim().to_string());
                variants.push(Variant {
                    name: name.clone(),
                    description,
                    scenario,
                    expectations: Vec::new(),
                });
            }
            Err(diagnostics) => errors.extend(diagnostics),
        }
    }
    let sweep = raw
        .sweep
        .as_ref()
        .and_then(|sweep| parse_sweep(sweep, &variants, &mut errors));
    if let (Some(sweep), Some(raw_sweep)) = (&sweep, &raw.sweep) {
        let points = SweepPoints {
            tree: &tree,
            overrides: &all_overrides,
            variants: &variants,
            base_dir: &super::base_dir_of(file),
        };
        errors.extend(points.check(sweep, &raw_sweep.value));
    }
    let expectations = attach_expectations(raw, &mut variants, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Study {
        variants,
        sweep,
        expectations,
        file: file.to_string(),
        source_text: text.to_string(),
        tree,
        overrides: all_overrides,
    })
}

/// Parses the top-level `expect:` and each variant's, and gives each
/// variant the list it is checked against; returns the top-level list.
fn attach_expectations(
    raw: &RawScenario,
    variants: &mut [Variant],
    errors: &mut Vec<Diagnostic>,
) -> Vec<Expectation> {
    let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let top = raw.expect.iter().flatten().enumerate();
    let top: Vec<Expectation> = top
        .filter_map(|(index, text)| {
            let path = format!("expect[{index}]");
            parse_one(text, &path, &variants[0].scenario, &names, errors)
        })
        .collect();
    let own_lists = raw.variants.iter().flatten().map(|(name, body)| {
        let texts = body.value.expect.iter().flatten().enumerate();
        (name, texts)
    });
    for (name, texts) in own_lists {
        let Some(variant) = variants.iter_mut().find(|v| &v.name == name) else {
            continue;
        };
        let own: Vec<Expectation> = texts
            .filter_map(|(index, text)| {
                let path = format!("variants.{name}.expect[{index}]");
                let parsed = parse_one(text, &path, &variant.scenario, &names, errors)?;
                if parsed.compares_variants() {
                    let message =
                        "a line that compares variants belongs in the top-level `expect:`";
                    errors.push(Diagnostic::new(Some(parsed.position), path, message));
                    return None;
                }
                Some(parsed)
            })
            .collect();
        variant.expectations = own;
    }
    for variant in variants.iter_mut() {
        let own = std::mem::take(&mut variant.expectations);
        let mut effective: Vec<Expectation> = top
            .iter()
            .filter(|e| !e.compares_variants() && !own.iter().any(|o| o.measure == e.measure))
            .cloned()
            .collect();
        effective.extend(own);
        variant.expectations = effective;
    }
    top
}

/// One expectation, located, or its error recorded.
fn parse_one(
    text: &Text,
    path: &str,
    scenario: &Scenario,
    variants: &[&str],
    errors: &mut Vec<Diagnostic>,
) -> Option<Expectation> {
    let position = position_of(text);
    match parse_expectation(&text.value, scenario, variants) {
        Ok(mut expectation) => {
            if let Measure::RecoveryTime(source) = &expectation.measure
                && !has_surge(scenario, source)
            {
                errors.push(Diagnostic::new(Some(position), path, format!("`{source}` has nothing to recover from: give it a `shape: {{ kind: spike, … }}`, or schedule a fault")));
                return None;
            }
            expectation.position = position;
            Some(expectation)
        }
        Err(message) => {
            errors.push(located(Some(position), path, &message));
            None
        }
    }
}

fn parse_overrides<'a>(
    variant: &str,
    set: impl Iterator<Item = (&'a String, &'a Spanned<Value>)>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Override> {
    let mut list = Vec::new();
    for (path, value) in set {
        let position = Some(position_of(value));
        let section = path.split(['.', '[']).next().unwrap_or_default();
        if matches!(section, "expect" | "variants" | "sweep") {
            let message = match section {
                "expect" => "a variant's thresholds go under its own `expect:`, beside `set:`, not in `set:`".to_string(),
                other => format!("`{other}` is not part of a scenario a variant can change"),
            };
            errors.push(Diagnostic::new(
                position,
                format!("variants.{variant}.set.{path}"),
                message,
            ));
            continue;
        }
        match overrides::parse_path(path) {
            Ok(pattern) => list.push(Override {
                path: path.clone(),
                pattern,
                value: value.value.clone(),
                position,
            }),
            Err(message) => errors.push(Diagnostic::new(
                position,
                format!("variants.{variant}.set"),
                message,
            )),
        }
    }
    list
}

/// The base tree with `list` applied, read and validated like a file. An
/// override that sets an unknown key is reported at its own line and left
/// out, and the rest is read again, so that every mistake of the variant is
/// reported at once.
fn build(
    tree: &Value,
    list: &[Override],
    variant: &str,
    base_dir: &std::path::Path,
) -> Result<Scenario, Vec<Diagnostic>> {
    let mut list = list.to_vec();
    let mut errors = Vec::new();
    loop {
        match build_once(tree, &list, variant, base_dir) {
            Ok(scenario) if errors.is_empty() => return Ok(scenario),
            Ok(_) => return Err(errors),
            Err(BuildError::BadOverride(index, diagnostic)) => {
                errors.push(diagnostic);
                list.remove(index);
            }
            Err(BuildError::Other(mut diagnostics)) => {
                errors.append(&mut diagnostics);
                return Err(errors);
            }
        }
    }
}

enum BuildError {
    /// The override at this index sets a key the scenario has no place
    /// for, or a value of the wrong shape.
    BadOverride(usize, Diagnostic),
    Other(Vec<Diagnostic>),
}

fn build_once(
    tree: &Value,
    list: &[Override],
    variant: &str,
    base_dir: &std::path::Path,
) -> Result<Scenario, BuildError> {
    let mut tree = tree.clone();
    let mut errors = Vec::new();
    for entry in list {
        let where_ = format!("variants.{variant}.set.{}", entry.path);
        match overrides::apply(&mut tree, &entry.pattern, &entry.value) {
            Ok(0) => errors.push(Diagnostic::new(
                entry.position,
                where_,
                format!("`{}` matches nothing in the scenario", entry.path),
            )),
            Ok(_) => {}
            Err(message) => errors.push(located(entry.position, &where_, &message)),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError::Other(errors));
    }
    let document = std::sync::Arc::new(tree.clone());
    overrides::stringify_scalars(&mut tree);
    let raw: RawScenario = super::yaml::scenario_from_tree(tree)
        .map_err(|error| serde_error(&error, list, variant))?;
    let mut scenario = validate::validate(&raw, base_dir).map_err(|diagnostics| {
        BuildError::Other(
            diagnostics
                .into_iter()
                .map(|d| blame(d, list, variant))
                .collect(),
        )
    })?;
    scenario.document = document;
    Ok(scenario)
}

/// A serde error in the overridden tree, at the override that caused it:
/// the one whose last key is the unknown one, or whose value has the wrong
/// shape (a map or list where one value belongs, or the other way round).
fn serde_error(error: &serde_json::Error, list: &[Override], variant: &str) -> BuildError {
    let message = error.to_string();
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(word, _)| word);
    let wants_scalar = message.contains("expected a string");
    let wants_map = message.contains("expected struct") || message.contains("expected a map");
    let culprit = list.iter().position(|o| match unknown {
        Some(word) => o.path.rsplit('.').next() == Some(word),
        None if wants_scalar => o.value.is_object() || o.value.is_array(),
        None if wants_map => !o.value.is_object(),
        None => false,
    });
    let plain = match (unknown, wants_scalar, wants_map) {
        (Some(_), ..) => message,
        (None, true, _) => {
            "expected a single value here (such as `5s`, `fifo` or `0.1`), not a list or a map"
                .to_string()
        }
        (None, _, true) => "expected a map here: `{ key: value }`".to_string(),
        _ => message,
    };
    let at = culprit.unwrap_or(0);
    let syntax = super::yaml::SyntaxError {
        position: list.get(at).and_then(|o| o.position),
        message: plain,
    };
    let mut diagnostic = syntax_diagnostic("", syntax);
    diagnostic.path = match list.get(at) {
        Some(entry) if culprit.is_some() => format!("variants.{variant}.set.{}", entry.path),
        _ => format!("variants.{variant}.set"),
    };
    match culprit {
        Some(index) => BuildError::BadOverride(index, diagnostic),
        None => BuildError::Other(vec![diagnostic]),
    }
}

/// Points a diagnostic about the overridden document at the override behind it.
fn blame(mut diagnostic: Diagnostic, list: &[Override], variant: &str) -> Diagnostic {
    if diagnostic.position.is_some_and(|p| p.line > 0) {
        return diagnostic;
    }
    let covering = list
        .iter()
        .rev()
        .find(|o| overrides::covers(&o.pattern, &diagnostic.path));
    match covering {
        Some(entry) => {
            diagnostic.position = entry.position;
            diagnostic.path = format!("variants.{variant}.set.{}", entry.path);
        }
        None => {
            diagnostic.position = list.last().and_then(|o| o.position);
            diagnostic.message = format!("in variant `{variant}`: {}", diagnostic.message);
        }
    }
    diagnostic
}

fn located(position: Option<Position>, path: &str, message: &str) -> Diagnostic {
    match message.split_once(" (did you mean ") {
        Some((message, tail)) => Diagnostic::new(position, path, message)
            .with_help(format!("did you mean {}", tail.trim_end_matches(')'))),
        None => Diagnostic::new(position, path, message),
    }
}

fn parse_sweep(
    sweep: &Spanned<RawSweep>,
    variants: &[Variant],
    errors: &mut Vec<Diagnostic>,
) -> Option<Sweep> {
    let at = Some(position_of(sweep));
    let raw = &sweep.value;
    let Some(param) = &raw.param else {
        errors.push(Diagnostic::new(
            at,
            "sweep.param",
            "`param` is required: the key path to vary, e.g. `sources.users.rate`",
        ));
        return None;
    };
    let Some(values) = &raw.values else {
        errors.push(Diagnostic::new(
            at,
            "sweep.values",
            "`values` is required: a list, or a range like `100/s..1000/s:100/s`",
        ));
        return None;
    };
    let values = match sweep_values(&values.value) {
        Ok(values) => values,
        Err(message) => {
            errors.push(Diagnostic::new(
                Some(position_of(values)),
                "sweep.values",
                message,
            ));
            return None;
        }
    };
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    let mut chosen = Vec::new();
    for (index, name) in raw.variants.iter().flatten().enumerate() {
        match check_variant_name(name, &names) {
            Ok(()) => chosen.push(name.value.clone()),
            Err(diagnostic) => errors.push(Diagnostic {
                path: format!("sweep.variants[{index}]"),
                ..diagnostic
            }),
        }
    }
    Some(Sweep {
        param: param.value.clone(),
        values,
        variants: chosen,
    })
}

/// What a sweep's points are built from, to check each before any runs.
struct SweepPoints<'a> {
    tree: &'a Value,
    overrides: &'a [Vec<Override>],
    variants: &'a [Variant],
    base_dir: &'a std::path::Path,
}

impl SweepPoints<'_> {
    /// Builds every point of the sweep for every variant it covers, as
    /// `stampede sweep` will, and reports what fails at the sweep's own lines:
    /// a parameter that is not in the scenario once, at `param`; a value the
    /// parameter cannot take, at `values`.
    fn check(&self, sweep: &Sweep, raw: &RawSweep) -> Vec<Diagnostic> {
        let param_at = raw.param.as_ref().map(position_of);
        let values_at = raw.values.as_ref().map(position_of);
        let pattern = match overrides::parse_path(&sweep.param) {
            Ok(pattern) => pattern,
            Err(message) => return vec![located(param_at, "sweep.param", &message)],
        };
        let indices: Vec<usize> = match sweep.variants.is_empty() {
            true => (0..self.variants.len()).collect(),
            false => (0..self.variants.len())
                .filter(|&i| sweep.variants.contains(&self.variants[i].name))
                .collect(),
        };
        let mut errors = Vec::new();
        for value in &sweep.values {
            for &index in &indices {
                let mut list = self.overrides[index].clone();
                list.push(Override {
                    path: sweep.param.clone(),
                    pattern: pattern.clone(),
                    value: Value::String(value.clone()),
                    position: None,
                });
                let name = &self.variants[index].name;
                let Err(diagnostics) = build(self.tree, &list, name, self.base_dir) else {
                    continue;
                };
                let Some(first) = diagnostics.into_iter().next() else {
                    continue;
                };
                if first.message.contains("matches nothing")
                    || first.message.starts_with("unknown key")
                {
                    let message = format!(
                        "`{}` is not a key of the scenario: {}",
                        sweep.param, first.message
                    );
                    return vec![Diagnostic {
                        position: param_at,
                        path: "sweep.param".to_string(),
                        message,
                        help: first.help,
                    }];
                }
                let message = format!(
                    "the point `{}: {value}` is invalid: {}",
                    sweep.param,
                    first
                        .message
                        .trim_start_matches(&format!("in variant `{name}`: "))
                );
                errors.push(Diagnostic {
                    position: values_at,
                    path: "sweep.values".to_string(),
                    message,
                    help: first.help,
                });
                break;
            }
        }
        errors
    }
}

fn check_variant_name(name: &Text, names: &[&str]) -> Result<(), Diagnostic> {
    if names.contains(&name.value.as_str()) {
        return Ok(());
    }
    let message = super::units::unknown_word("variant", &name.value, names);
    Err(located(Some(position_of(name)), "", &message))
}

/// A list of scalars, or the text of a range.
fn sweep_values(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) if items.is_empty() => {
            Err("`values` is empty: give at least one value, e.g. `[100/s, 200/s]`".to_string())
        }
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                Value::Number(number) => Ok(number.to_string()),
                _ => Err("sweep values must be single values like `200/s` or `8`".to_string()),
            })
            .collect(),
        Value::String(range) => expand_range(range),
        _ => Err("`values` must be a list or a range like `100/s..1000/s:100/s`".to_string()),
    }
}

/// `FROM..TO:STEP`, each with the same unit: `100/s..500/s:100/s`, `1..8:1`.
pub fn expand_range(range: &str) -> Result<Vec<String>, String> {
    let bad = || format!("`{range}` is not a range like `100/s..1000/s:100/s` or `1..8:1`");
    let (from, rest) = range.split_once("..").ok_or_else(bad)?;
    let (to, step) = rest.split_once(':').ok_or_else(bad)?;
    let (from, unit) = split_number(from)?;
    let (to, to_unit) = split_number(to)?;
    let (step, step_unit) = split_number(step)?;
    if unit != to_unit || unit != step_unit {
        return Err(format!(
            "`{range}` mixes units: write every part with `{unit}`"
        ));
    }
    if step <= 0.0 || to < from {
        return Err(format!("`{range}` needs FROM ≤ TO and a STEP above zero"));
    }
    // Counted as a float first: a tiny step makes a count no integer holds.
    let count = ((to - from) / step + 1e-9).floor() + 1.0;
    if !count.is_finite() || count > MAX_SWEEP_POINTS as f64 {
        return Err(format!(
            "`{range}` has {} points; at most {MAX_SWEEP_POINTS} are allowed",
            match count {
                c if c < 1e6 => format!("{c:.0}"),
                c if c.is_finite() => format!("about {c:.1e}"),
                _ => "too many".to_string(),
            }
        ));
    }
    let count = count as usize;
    Ok((0..count)
        .map(|i| format!("{}{unit}", trim_number(from + step * i as f64)))
        .collect())
}

/// 200 → "200", 0.25 → "0.25": no float noise in generated values.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub(super) fn study_error(file: &str, text: &str, diagnostics: Vec<Diagnostic>) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        source_text: text.to_string(),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_with_units() {
        assert_eq!(
            expand_range("100/s..300/s:100/s").unwrap(),
            vec!["100/s", "200/s", "300/s"]
        );
        assert_eq!(expand_range("1..4:1").unwrap(), vec!["1", "2", "3", "4"]);
        assert_eq!(
            expand_range("0.1..0.3:0.1").unwrap(),
            vec!["0.1", "0.2", "0.3"]
        );
        assert!(expand_range("1..4").is_err());
        assert!(
            expand_range("1ms..4s:1ms")
                .unwrap_err()
                .contains("mixes units")
        );
        assert!(expand_range("1..100000:1").unwrap_err().contains("at most"));
        // A step so small the count overflows any integer: refused, not wrapped to none.
        assert!(
            expand_range("100/s..200/s:1e-300/s")
                .unwrap_err()
                .contains("about 1.0e302 points; at most 1000")
        );
    }

    #[test]
    fn an_empty_list_of_values_is_refused() {
        let error = sweep_values(&Value::Array(Vec::new())).unwrap_err();
        assert!(error.contains("empty"), "{error}");
    }
}
