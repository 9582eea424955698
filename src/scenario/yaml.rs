//! The one module that knows which YAML library reads scenarios.
//!
//! serde-saphyr is the maintained, panic-free successor of serde_yaml. It
//! reports located errors and supports merge keys together with
//! `deny_unknown_fields`. Everything else in the crate sees only [`Spanned`],
//! [`Position`] and [`parse`], so the library can be swapped here alone.

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

/// Parses YAML text into `T`. The library's default options already cap the
/// parse budget (so a hostile file cannot exhaust memory), reject duplicate
/// keys, and expand merge keys.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, SyntaxError> {
    serde_saphyr::from_str(text).map_err(|error| {
        let position = error.location().map(|location| Position {
            line: location.line(),
            column: location.column(),
        });
        let message = error.without_snippet().to_string();
        SyntaxError {
            position,
            message: strip_location_suffix(&message),
        }
    })
}

/// The document as a plain value tree (merge keys expanded), for overrides.
pub fn parse_tree(text: &str) -> Result<serde_json::Value, SyntaxError> {
    parse(text)
}

/// serde-saphyr appends " at line L, column C"; we print positions our own way.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}
