//! The simulator: a scenario (YAML) is loaded and validated by [`scenario`]
//! and run by the discrete-event [`model`] on the [`engine`] kernel.
//!
//! This file is the root of the `stampede-sim` crate (crates/sim), which
//! `stampede` (src/lib.rs) re-exports; the report and the runner, which only
//! read what a run recorded, are built beside it as a crate of their own.

pub mod engine;
pub mod model;
pub mod scenario;
