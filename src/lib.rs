//! stampede: a deterministic simulator of distributed systems.
//!
//! A scenario (YAML) is loaded and validated by [`scenario`], run by the
//! discrete-event [`model`] on the [`engine`] kernel, and summarised by
//! [`report`]. The same scenario and seed always give the same bytes.

pub mod engine;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
