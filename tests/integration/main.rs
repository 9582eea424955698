//! The integration tests, as one crate: one build and one link for all of
//! them, instead of a fat-LTO link per file. Each module is a theme; `common`
//! holds what they share (loading, running and the binary).

mod bad_inputs;
mod bulkheads;
mod caches;
mod check_gate;
mod cli;
mod common;
mod defences;
mod deploy;
mod determinism;
mod diff;
mod errors;
mod faults;
mod fuzz;
mod jobs;
mod lab;
mod mechanisms;
mod memory;
mod properties;
mod queue_properties;
mod queues;
mod rate_limiters;
mod reports;
mod safety_cli;
mod scale_out;
mod schema;
mod semantics;
mod shapers;
mod study_cli;
mod theory;
mod tidy;
mod traces;
mod trust;
