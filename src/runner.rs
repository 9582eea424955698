//! Runs many simulations at once, on every core.
//!
//! Each run is independent and seeded, and results come back in the order of
//! the input (rayon's indexed `collect`), so a parallel batch prints exactly
//! what a serial one would.

use rayon::prelude::*;

use crate::engine::rng::replication_seed;
use crate::model;
use crate::report::summary::{Summary, summarize};
use crate::scenario::Scenario;

/// Runs each scenario and summarises it, in parallel, in input order.
pub fn run_all(scenarios: &[Scenario]) -> Vec<Summary> {
    scenarios
        .par_iter()
        .map(|scenario| summarize(scenario, &model::run(scenario)))
        .collect()
}

/// `replications` copies of `scenario`, the first with its own seed and the
/// rest with seeds derived from it.
pub fn replicas(scenario: &Scenario, replications: u32) -> Vec<Scenario> {
    (0..replications.max(1))
        .map(|index| {
            let mut copy = scenario.clone();
            copy.seed = replication_seed(scenario.seed, index);
            copy
        })
        .collect()
}
