//! stampede: a deterministic simulator of distributed systems.
//!
//! A scenario (YAML) is loaded and validated by [`scenario`], run by the
//! discrete-event [`model`] on the [`engine`] kernel, and summarised by
//! [`report`]. The same scenario and seed always give the same bytes.
//!
//! The first three are the `stampede-sim` crate (src/simulator.rs),
//! re-exported here; [`report`], which turns what runs recorded into files,
//! and [`runner`], which plans studies and assembles their runs, are this
//! crate. No request's code is in it.

pub use stampede_sim::{engine, model, scenario};
pub mod report;
pub mod runner;
