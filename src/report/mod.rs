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
pub mod jobs;
pub mod markdown;
pub mod provenance;
pub mod queues;
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
