//! Statistics, summaries and their presentation.
//!
//! [`metrics`] is what a run records; [`summary`] turns metrics into the
//! numbers people read (a pure function of the metrics), and the formatters
//! print those as terminal tables or JSON. Only this module knows about
//! output formats.

pub mod charts;
pub mod check;
pub mod check_output;
pub mod compare;
pub mod diff;
pub mod document;
pub mod files;
pub mod gates;
pub mod jobs;
pub mod markdown;
pub mod provenance;
pub mod queues;
pub mod shell;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod text;
pub mod theory;
pub mod trace;
pub mod why;

// What a run recorded is the model's (it owns what it measures); the report
// reads it under the names it always had.
pub use crate::model::{metrics, timeseries};

/// A word from a closed set (a kind, a class, a verdict) in a summary. An
/// alias, so serde reads it with [`interned`] instead of borrowing it from
/// the input, which a `&'static str` field would ask for.
pub type Word = &'static str;

/// Reads a word a summary names from a closed set (a kind, a class, a
/// verdict) back as the `&'static str` the summary holds. Each distinct word
/// is kept once for the life of the process, so memory is bounded by the
/// vocabulary, never by how many summaries are read (a merge reads
/// thousands).
pub fn interned<'de, D>(deserializer: D) -> Result<&'static str, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize as _;
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static WORDS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let word = String::deserialize(deserializer)?;
    let mut words = WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = words.get(word.as_str()) {
        return Ok(known);
    }
    let kept: &'static str = Box::leak(word.into_boxed_str());
    words.insert(kept);
    Ok(kept)
}
