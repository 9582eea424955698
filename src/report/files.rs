//! The files a run writes with `--out DIR`, as (name, contents) pairs.
//!
//! Building them is a pure function of the summary and time series, so the
//! CLI only writes bytes, and tests can compare outputs without a disk.

use super::summary::Summary;
use super::text;
use super::timeseries::TimeSeries;

/// summary.json, timeseries.csv and report.txt for one run.
pub fn run_files(
    summary: &Summary,
    series: &TimeSeries,
    reproduce: &str,
) -> Vec<(String, Vec<u8>)> {
    vec![
        ("summary.json".to_string(), summary.to_json().into_bytes()),
        ("timeseries.csv".to_string(), series.to_csv().into_bytes()),
        (
            "report.txt".to_string(),
            text::render(summary, reproduce).into_bytes(),
        ),
    ]
}
