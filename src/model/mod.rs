//! The components of a simulated system and how they behave: traffic sources,
//! services with workers and queues, load balancers, caches, message queues
//! and their consumers, and the call path with its timeouts, retries and backoff.
//!
//! The model drives the [`crate::engine`] kernel and records into
//! [`metrics`] and [`timeseries`]; it does no I/O and reads no clock.

mod async_job;
mod autoscale;
mod backoff;
mod cache;
mod cache_store;
mod call;
mod consumer;
mod event;
mod faults;
mod gates;
mod health;
mod kernel;
pub mod metrics;
mod pause;
mod queue;
mod recorder;
mod resilience;
mod routing;
mod sampling;
mod service;
mod sharing;
mod sim;
mod source;
pub mod timeseries;
pub mod trace;

pub use backoff::backoff_delay;
pub use sim::{RunOutcome, Simulation, StopReason};

use crate::scenario::Scenario;

/// Runs `scenario` with its own seed.
pub fn run(scenario: &Scenario) -> RunOutcome {
    Simulation::new(scenario).run()
}
