//! What a run records as it goes: the measured-window metrics the report
//! reads, and the running totals sampled into the time series.
//!
//! Rooms write here and nowhere else; a finished run hands both to the
//! report as plain data ([`super::RunOutcome`]).

use crate::scenario::spec::Scenario;

use super::metrics::Metrics;
use super::timeseries::{Running, TimeSeries};

pub(super) struct Recorder {
    pub metrics: Metrics,
    /// Totals for the time series, warm-up included.
    pub running: Running,
    pub timeseries: TimeSeries,
}

impl Recorder {
    pub fn new(scenario: &Scenario) -> Recorder {
        Recorder {
            metrics: Metrics::for_scenario(scenario),
            running: Running::for_scenario(scenario),
            timeseries: TimeSeries::new(scenario),
        }
    }
}
