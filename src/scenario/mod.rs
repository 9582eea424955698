//! Scenario files: the YAML schema, loading, and validation.
//!
//! Loading has two stages. [`raw`] reads the file into serde types that deny
//! unknown keys; [`validate`] turns those into the [`spec::Scenario`] the
//! engine trusts, reporting every problem at once. Bad input never panics: it
//! becomes a [`ScenarioError`] whose diagnostics name the file, line, column,
//! key path and, where possible, what was meant.

pub mod diagnostic;
pub mod expect;
pub mod messaging;
pub mod overrides;
pub mod raw;
pub mod shape;
pub mod spec;
pub mod study;
pub mod suggest;
pub mod units;
pub mod unknown_keys;
pub mod validate;
pub mod yaml;

use std::path::Path;

pub use diagnostic::Diagnostic;
pub use spec::Scenario;
pub use study::{BASE, Study, Sweep, Variant};

use diagnostic::key_path_at;
use suggest::did_you_mean;

/// The scenario `stampede run` uses when given none: the three-tier retry chain.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/retry-chain.yaml");
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/retry-chain.yaml (built in)";

/// Everything wrong with one scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_all(&self.diagnostics, &self.file, &self.source_text))]
pub struct ScenarioError {
    pub file: String,
    pub source_text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Every diagnostic with its source line, then a count.
fn render_all(diagnostics: &[Diagnostic], file: &str, source_text: &str) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&diagnostic.render(file, source_text));
        out.push_str("\n\n");
    }
    let count = diagnostics.len();
    let plural = if count == 1 { "" } else { "s" };
    out.push_str(&format!("{count} error{plural} in {file}"));
    out
}

/// Reads and validates the scenario file at `path` (variants included).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_study(path).map(|mut study| study.variants.swap_remove(0).scenario)
}

/// Validates scenario `text`; `file` names it in messages.
pub fn load_str(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    load_study_str(file, text).map(|mut study| study.variants.swap_remove(0).scenario)
}

/// Reads the scenario at `path` with its variants and sweep.
pub fn load_study(path: &Path) -> Result<Study, ScenarioError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_study_str(&file, &text),
        Err(error) => Err(ScenarioError {
            file,
            source_text: String::new(),
            diagnostics: vec![Diagnostic::new(
                None,
                "",
                format!("cannot read the file: {error}"),
            )],
        }),
    }
}

/// Validates scenario `text` with its variants and sweep.
pub fn load_study_str(file: &str, text: &str) -> Result<Study, ScenarioError> {
    let fail = |diagnostics| study::study_error(file, text, diagnostics);
    if is_blank(text) {
        let diagnostic = Diagnostic::new(None, "", "the scenario is empty")
            .with_help("a scenario needs at least `duration`, `sources` and `services`; see docs/scenario-reference.md");
        return Err(fail(vec![diagnostic]));
    }
    let (parsed, unknown) = parse_collecting_unknown_keys(text);
    let Some((raw, known_text)) = parsed else {
        return Err(fail(unknown));
    };
    let with_unknown = |mut diagnostics: Vec<Diagnostic>| {
        let mut all = unknown.clone();
        all.append(&mut diagnostics);
        all.sort_by_key(|d| d.position.map_or((u64::MAX, 0), |p| (p.line, p.column)));
        fail(all)
    };
    let base = validate::validate(&raw, &base_dir_of(file)).map_err(with_unknown)?;
    let study = study::build_study(file, &known_text, &raw, base).map_err(with_unknown)?;
    if unknown.is_empty() {
        Ok(study)
    } else {
        Err(with_unknown(Vec::new()))
    }
}

/// Parses `text`, collecting every unknown key on the way: each one found is
/// blanked and the text parsed again. Gives the raw scenario and the text
/// without its unknown keys, or `None` when another syntax error stopped it,
/// and the diagnostics (unknown keys, then that error).
fn parse_collecting_unknown_keys(
    text: &str,
) -> (Option<(raw::RawScenario, String)>, Vec<Diagnostic>) {
    let mut current = text.to_string();
    let mut diagnostics = Vec::new();
    loop {
        let error = match yaml::parse::<raw::RawScenario>(&current) {
            Ok(raw) => return (Some((raw, current)), diagnostics),
            Err(error) => error,
        };
        let is_unknown_key = error.message.starts_with("unknown field");
        let position = error.position;
        diagnostics.push(syntax_diagnostic(text, error));
        if !is_unknown_key || diagnostics.len() >= unknown_keys::MAX_UNKNOWN_KEYS {
            return (None, diagnostics);
        }
        match position.and_then(|p| unknown_keys::blank_key(&current, p)) {
            Some(blanked) => current = blanked,
            None => return (None, diagnostics),
        }
    }
}

/// The folder files named in a scenario (rate traces) are relative to.
fn base_dir_of(file: &str) -> std::path::PathBuf {
    Path::new(file)
        .parent()
        .map_or_else(std::path::PathBuf::new, Path::to_path_buf)
}

fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with('#') || line == "---")
}

/// A serde error made readable: key path, and a did-you-mean for unknown keys.
fn syntax_diagnostic(text: &str, error: yaml::SyntaxError) -> Diagnostic {
    let path = error
        .position
        .map(|p| key_path_at(text, p))
        .unwrap_or_default();
    let mut diagnostic = Diagnostic::new(error.position, path, unknown_key_message(&error.message));
    if let Some((word, expected)) = parse_unknown(&error.message) {
        let expected_refs: Vec<&str> = expected.iter().map(String::as_str).collect();
        diagnostic = match did_you_mean(&word, expected_refs.iter().copied()) {
            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
            None => diagnostic.with_help(format!("expected one of: {}", expected.join(", "))),
        };
    }
    diagnostic
}

/// Serde's words made plain: "unknown field `x`, expected one of …" reads
/// better as "unknown key `x`", and a shape mismatch says what was expected.
fn unknown_key_message(message: &str) -> String {
    if message.starts_with("expected string scalar") {
        return "expected a single value here (such as `5s`, `fifo` or `0.1`), not a list or a map"
            .to_string();
    }
    if message.starts_with("expected mapping start") {
        return "expected a map here: `key: value` lines, or `{ key: value }`".to_string();
    }
    if message.starts_with("expected sequence start") {
        return "expected a list here: `- item` lines, or `[a, b]`".to_string();
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("`{key}` is defined twice in the same map");
    }
    match parse_unknown(message) {
        Some((word, _)) if message.starts_with("unknown field") => format!("unknown key `{word}`"),
        Some((word, _)) => format!("unknown value `{word}`"),
        None => message.to_string(),
    }
}

/// The unknown word and the expected alternatives from a serde message such as
/// "unknown field `wokers`, expected one of workers, queue" (or "expected `x`").
fn parse_unknown(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (word, rest) = rest.split_once('`')?;
    let expected = rest
        .split_once("expected")
        .map(|(_, list)| list)
        .unwrap_or("");
    let expected = expected.trim().strip_prefix("one of").unwrap_or(expected);
    let names = expected
        .split(',')
        .map(|name| name.trim().trim_matches('`').to_string())
        .filter(|name| !name.is_empty() && !name.contains(' '))
        .collect();
    Some((word.to_string(), names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_unknown_field_messages_are_understood() {
        let (word, expected) =
            parse_unknown("unknown field `wokers`, expected one of workers, queue").unwrap();
        assert_eq!(word, "wokers");
        assert_eq!(expected, vec!["workers", "queue"]);
        let (_, expected) = parse_unknown("unknown field `x`, expected `max_attempts`").unwrap();
        assert_eq!(expected, vec!["max_attempts"]);
        assert!(parse_unknown("invalid type").is_none());
    }

    #[test]
    fn the_default_scenario_is_valid() {
        let scenario = load_str(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO).unwrap();
        assert_eq!(scenario.services.len(), 3);
    }
}
