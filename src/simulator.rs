//! The simulator: a scenario (YAML) is loaded and validated by [`scenario`]
//! and run by the discrete-event [`model`] on the [`engine`] kernel.
//!
//! This file is the root of the `stampede-sim` crate (crates/sim), which
//! `stampede` (src/lib.rs) re-exports; the report and the runner, which turn
//! what runs recorded into files and plan the runs, are a crate of their own
//! built beside it. A new top-level module goes here if requests run
//! through it, in src/lib.rs if it only reads their results.

pub mod engine;
pub mod model;
pub mod scenario;
