//! The scenario file as written: the YAML reader and the serde types it fills.
//!
//! This is the one place that knows which YAML library reads scenarios.
//! serde-saphyr is the maintained, panic-free successor of serde_yaml. It
//! reports located errors and supports merge keys together with
//! `deny_unknown_fields`. Everything else sees only [`Spanned`],
//! [`Position`], the [`raw`] types and the parse functions below, so the
//! library can be swapped here alone.
//!
//! It is a crate of its own, under stampede's `scenario` layer, because the
//! code serde generates for each raw type and each of the reader's
//! access paths is more than half of what the compiler would otherwise
//! optimise in the simulator (stampede-sim). The parse functions are
//! deliberately not generic: that code is generated here, once, and the
//! simulator and its unit tests link to it instead of building it again.

pub mod raw;

use serde::de::DeserializeOwned;

pub use serde_saphyr::Spanned;

/// A 1-based line and column in the scenario file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// Where a spanned value was written (where it was used, for an alias).
/// Values built from a tree rather than read from the file have no position:
/// line 0.
pub fn position_of<T>(spanned: &Spanned<T>) -> Position {
    Position {
        line: spanned.referenced.line(),
        column: spanned.referenced.column(),
    }
}

/// A YAML error before any validation: malformed text, an unknown key, or a
/// value of the wrong shape. Serde stops at the first such error.
#[derive(Debug)]
pub struct SyntaxError {
    pub position: Option<Position>,
    pub message: String,
}

/// A scenario file as written. Stops at the first syntax error, unknown key
/// or value of the wrong shape; validation finds the rest.
pub fn parse_scenario(text: &str) -> Result<raw::RawScenario, SyntaxError> {
    parse(text)
}

/// Parses YAML text into `T`. The library's default options already cap the
/// parse budget (so a hostile file cannot exhaust memory), reject duplicate
/// keys, and expand merge keys. Private, so every instance is built here.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, SyntaxError> {
    serde_saphyr::from_str(text).map_err(|error| {
        let position = error.location().map(|location| Position {
            line: location.line(),
            column: location.column(),
        });
        let message = error.without_snippet().to_string();
        SyntaxError {
            position,
            message: plain_message(&strip_location_suffix(&message)),
        }
    })
}

/// A scenario from a value tree (a document with a variant's or a sweep
/// point's overrides applied, every scalar a string), through the same raw
/// types as [`parse_scenario`]. Here, not generic at the caller, for the
/// same reason: serde's code for the raw types is built in this crate.
pub fn scenario_from_tree(tree: serde_json::Value) -> Result<raw::RawScenario, serde_json::Error> {
    serde_json::from_value(tree)
}

/// The document as a plain value tree (merge keys expanded), for overrides.
pub fn parse_tree(text: &str) -> Result<serde_json::Value, SyntaxError> {
    parse(text)
}

/// A value tree as YAML text (keys in the tree's order), for the resolved
/// scenario a report writes beside its summary.
pub fn to_text(tree: &serde_json::Value) -> Result<String, String> {
    serde_saphyr::to_string(tree).map_err(|e| e.to_string())
}

/// The library's words for limits and structure, in the user's terms: its
/// messages name its own types and functions (`Nodes { nodes: 250001 }`,
/// `use from_str_multiple`), which mean nothing to someone writing a scenario.
fn plain_message(message: &str) -> String {
    if message.starts_with("multiple YAML documents") {
        return "a second YAML document starts here (`---`): a scenario is one document; put variants under `variants:`".to_string();
    }
    if message.contains("tabs disallowed") {
        return "a tab in the indentation: YAML indents with spaces only".to_string();
    }
    if let Some(breach) = message.strip_prefix("budget breached: ") {
        let what = match breach.split_whitespace().next().unwrap_or("") {
            "Depth" => "nested more than 64 levels deep",
            "Aliases" | "Anchors" => "has too many anchors or aliases (`&name`, `*name`)",
            "Documents" => "holds too many YAML documents",
            _ => "has too many YAML values",
        };
        return format!("the file {what} to be a scenario; the reader stopped here");
    }
    if message.starts_with("alias replay") || message.starts_with("alias expansion") {
        return "aliases (`*name`) expand to too much text: the reader stopped here".to_string();
    }
    if message.starts_with("mapping values are not allowed") {
        return format!(
            "{message}: a value with `: ` inside (such as `mixture(99%: 1ms, 1%: 10ms)`) reads as a new key; put the whole value in quotes"
        );
    }
    message.to_string()
}

/// serde-saphyr appends " at line L, column C"; we print positions our own way.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}
