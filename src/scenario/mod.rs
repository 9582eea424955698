//! Scenario files: the YAML schema, loading, and validation.
//!
//! Loading has two stages. [`raw`] reads the file into serde types that deny
//! unknown keys; [`validate`] turns those into the [`spec::Scenario`] the
//! engine trusts, reporting every problem at once. Bad input never panics: it
//! becomes a [`ScenarioError`] whose diagnostics name the file, line, column,
//! key path and, where possible, what was meant.

pub mod cost;
pub mod diagnostic;
pub mod expect;
pub mod messaging;
pub mod overrides;
pub mod schema;
pub mod shape;
pub mod spec;
pub mod study;
pub mod suggest;
pub mod units;
pub mod unknown_keys;
pub mod validate;

use std::path::Path;

pub use stampede_yaml as yaml;
pub use stampede_yaml::raw;

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

/// Beyond this many, diagnostics are counted but not printed: the first ones
/// show what is wrong, and a file of thousands of errors stays readable.
pub const MAX_RENDERED_DIAGNOSTICS: usize = 100;

/// Every diagnostic (up to [`MAX_RENDERED_DIAGNOSTICS`]) with its source
/// line, then a count.
fn render_all(diagnostics: &[Diagnostic], file: &str, source_text: &str) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_RENDERED_DIAGNOSTICS) {
        out.push_str(&diagnostic.render(file, source_text));
        out.push_str("\n\n");
    }
    let count = diagnostics.len();
    if count > MAX_RENDERED_DIAGNOSTICS {
        let more = count - MAX_RENDERED_DIAGNOSTICS;
        out.push_str(&format!("… and {more} more errors not shown\n"));
    }
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

/// The largest scenario or trace file read: far beyond any hand-written
/// scenario, small enough that a wrong path (a disk image, `/dev/zero`) is
/// refused at once instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the scenario at `path` with its variants and sweep.
pub fn load_study(path: &Path) -> Result<Study, ScenarioError> {
    let file = path.display().to_string();
    let bytes = match read_regular_file(path) {
        Ok(bytes) => bytes,
        Err(message) => {
            return Err(study::study_error(
                &file,
                "",
                vec![file_diagnostic(message)],
            ));
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_study_str(&file, &text),
        Err(error) => {
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let diagnostic = utf8_diagnostic(error.as_bytes(), error.utf8_error().valid_up_to());
            Err(study::study_error(&file, &text, vec![diagnostic]))
        }
    }
}

fn file_diagnostic(message: String) -> Diagnostic {
    Diagnostic::new(None, "", message)
}

/// The bytes of `path`, which must be a regular file of at most
/// [`MAX_FILE_BYTES`]: a named pipe would block for ever and a device would
/// never end, so neither is opened.
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>, String> {
    check_regular_file(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::new();
    use std::io::Read as _;
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("cannot read the file: {}", too_big()));
    }
    Ok(bytes)
}

/// Refuses anything but a regular file no larger than [`MAX_FILE_BYTES`].
pub fn check_regular_file(path: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if metadata.is_dir() {
        return Err("this is a directory, not a file".to_string());
    }
    if !metadata.is_file() {
        return Err(
            "not a regular file (a named pipe, socket or device): give the path of a file"
                .to_string(),
        );
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(())
}

fn too_big() -> String {
    format!(
        "the file is larger than {} MiB: not a scenario",
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// Where the first byte that is not UTF-8 sits, as a located diagnostic.
fn utf8_diagnostic(bytes: &[u8], valid_up_to: usize) -> Diagnostic {
    let valid = String::from_utf8_lossy(&bytes[..valid_up_to]);
    let line = valid.matches('\n').count() as u64 + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    let position = yaml::Position { line, column };
    Diagnostic::new(
        Some(position),
        key_path_at(&valid, position),
        format!(
            "byte 0x{:02x} is not UTF-8 text: scenarios are UTF-8 YAML",
            bytes[valid_up_to]
        ),
    )
    .with_help("save the file as UTF-8 (most editors offer it under \"encoding\")")
}

/// Validates scenario `text` with its variants and sweep.
pub fn load_study_str(file: &str, text: &str) -> Result<Study, ScenarioError> {
    let fail = |diagnostics| study::study_error(file, text, diagnostics);
    if is_blank(text) {
        let start = yaml::Position { line: 1, column: 1 };
        let diagnostic = Diagnostic::new(Some(start), "", "the scenario is empty")
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
        for diagnostic in &mut all {
            locate_empty_section(text, diagnostic);
        }
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

/// A required section written with nothing under it (`services:`) reads as
/// absent, so validation points at the file's start: point at its key instead.
fn locate_empty_section(text: &str, diagnostic: &mut Diagnostic) {
    let at_start = Some(yaml::Position { line: 1, column: 1 });
    if diagnostic.position != at_start || diagnostic.path.contains('.') {
        return;
    }
    let key = format!("{}:", diagnostic.path);
    let line = text.lines().position(|line| line.trim_end() == key);
    if let Some(index) = line {
        diagnostic.position = Some(yaml::Position {
            line: index as u64 + 1,
            column: 1,
        });
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
    let mut reparsed_bytes = 0;
    loop {
        let error = match yaml::parse_scenario(&current) {
            Ok(raw) => return (Some((raw, current)), diagnostics),
            Err(error) => error,
        };
        let is_unknown_key = error.message.starts_with("unknown field");
        let position = error.position;
        diagnostics.push(syntax_diagnostic(text, error));
        if !is_unknown_key {
            return (None, diagnostics);
        }
        // The first parse is free, and one more always allowed: a large
        // file with one typo still has its value errors found.
        let reparsed_after = reparsed_bytes + current.len();
        if diagnostics.len() >= unknown_keys::MAX_UNKNOWN_KEYS
            || (reparsed_bytes > 0 && reparsed_after > unknown_keys::MAX_REPARSED_BYTES)
        {
            let count = diagnostics.len();
            if let Some(last) = diagnostics.last_mut() {
                let stopped = format!(
                    "stopped looking for unknown keys after these {count} (each one means reading the file again): fix them and run again to see any others"
                );
                last.help = Some(match last.help.take() {
                    Some(help) => format!("{help}\n  {stopped}"),
                    None => stopped,
                });
            }
            return (None, diagnostics);
        }
        reparsed_bytes = reparsed_after;
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
fn syntax_diagnostic(text: &str, mut error: yaml::SyntaxError) -> Diagnostic {
    if error.message.contains("a tab in the indentation")
        && let Some(position) = error.position.as_mut()
    {
        let line = text.lines().nth(position.line.saturating_sub(1) as usize);
        let tab = line.and_then(|l| l.chars().position(|c| c == '\t'));
        position.column = tab.map_or(position.column, |t| t as u64 + 1);
    }
    let path = match error.position {
        Some(p) if error.message.contains("a tab in the indentation") => {
            diagnostic::key_path_at_tab_line(text, p)
        }
        Some(p) => key_path_at(text, p),
        None => String::new(),
    };
    let mut diagnostic = Diagnostic::new(error.position, path, unknown_key_message(&error.message));
    if let Some((word, expected)) = parse_unknown(&error.message) {
        let expected_refs: Vec<&str> = expected.iter().map(String::as_str).collect();
        diagnostic = match did_you_mean(&word, expected_refs.iter().copied()) {
            Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
            None if expected.is_empty() => diagnostic,
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
    // serde writes "`a`", "`a` or `b`", or "one of `a`, `b`, `c`".
    let names = expected
        .split(',')
        .flat_map(|part| part.split(" or "))
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
        let (_, expected) = parse_unknown(
            "unknown field `ratio`, expected `budget_percent` or `min_retry_concurrency`",
        )
        .unwrap();
        assert_eq!(expected, vec!["budget_percent", "min_retry_concurrency"]);
        assert!(parse_unknown("invalid type").is_none());
    }

    #[test]
    fn the_default_scenario_is_valid() {
        let scenario = load_str(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO).unwrap();
        assert_eq!(scenario.services.len(), 3);
    }
}
