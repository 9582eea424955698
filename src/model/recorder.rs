//! What a run records as it goes: the measured-window metrics the report
//! reads, and the running totals sampled into the time series.
//!
//! Rooms write here and nowhere else; a finished run hands both to the
//! report as plain data ([`super::RunOutcome`]).

use crate::engine::SimTime;
use crate::scenario::spec::Scenario;

use super::metrics::{Metrics, ServiceMetrics, SourceMetrics};
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
            metrics: metrics_for(scenario),
            running: Running::for_scenario(scenario),
            timeseries: TimeSeries::new(scenario),
        }
    }
}

/// Empty metrics, one entry per component of `scenario`.
fn metrics_for(scenario: &Scenario) -> Metrics {
    let routers = scenario.services.len() + scenario.balancers.len();
    Metrics {
        sources: scenario
            .sources
            .iter()
            .map(|source| {
                let window = scenario
                    .trigger_window(source)
                    .map(|(start, end)| (SimTime::ZERO + start, SimTime::ZERO + end));
                SourceMetrics::with_window(window)
            })
            .collect(),
        services: vec![
            ServiceMetrics {
                attempts_by_source: vec![0; scenario.sources.len()],
                ready_instances_min: u64::MAX,
                ..ServiceMetrics::default()
            };
            scenario.services.len()
        ],
        balancer_attempts: vec![0; scenario.balancers.len()],
        router_ejections: vec![0; routers],
        router_unhealthy: vec![0; routers],
        edges: vec![Default::default(); scenario.edges.len()],
        caches: vec![Default::default(); scenario.caches.len()],
        queues: vec![Default::default(); scenario.queues.len()],
        consumers: vec![Default::default(); scenario.consumers.len()],
    }
}
