//! What a run records as it goes: the measured-window metrics the report
//! reads, and the running totals sampled into the time series.
//!
//! Rooms write here and nowhere else; a finished run hands both to the
//! report as plain data ([`super::RunOutcome`]).

use crate::scenario::spec::Scenario;

use super::metrics::{Metrics, ServiceTally};
use super::timeseries::{Running, TimeSeries};
use super::trace::{TraceLog, TraceRef};

pub(super) struct Recorder {
    pub metrics: Metrics,
    /// Per service, the measured attempts and successes, counted apart
    /// from `metrics` until the run ends.
    pub service_tallies: Vec<ServiceTally>,
    /// Totals for the time series, warm-up included.
    pub running: Running,
    pub timeseries: TimeSeries,
    /// The sampled requests' lives, when tracing is on.
    pub trace: Option<TraceLog>,
}

impl Recorder {
    pub fn new(scenario: &Scenario) -> Recorder {
        Recorder {
            metrics: Metrics::for_scenario(scenario),
            service_tallies: vec![ServiceTally::default(); scenario.services.len()],
            running: Running::for_scenario(scenario),
            timeseries: TimeSeries::new(scenario),
            trace: None,
        }
    }

    /// The trace log, if `traced` belongs to a traced request.
    pub fn trace_of(&mut self, traced: TraceRef) -> Option<&mut TraceLog> {
        match traced.is_traced() {
            true => self.trace.as_mut(),
            false => None,
        }
    }
}
