//! The files a run writes with `--out DIR`, as (name, contents) pairs.
//!
//! Building them is a pure function of the run's recorded data, so the CLI
//! only writes bytes, and tests can compare outputs without a disk.

use crate::model::RunOutcome;
use crate::scenario::Scenario;

use super::summary::Summary;

/// Output files as (name, contents).
pub type Files = Vec<(String, Vec<u8>)>;
use super::{charts, markdown, text};

/// summary.json, timeseries.csv, report.txt, report.md and the charts (SVG
/// and PNG) of one run. A chart that fails to draw is left out, with its
/// error returned beside the files.
pub fn run_files(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
    reproduce: &str,
) -> (Vec<(String, Vec<u8>)>, Option<String>) {
    let mut files = vec![
        ("summary.json".to_string(), summary.to_json().into_bytes()),
        (
            "timeseries.csv".to_string(),
            outcome.timeseries.to_csv().into_bytes(),
        ),
        (
            "report.txt".to_string(),
            text::render(summary, reproduce).into_bytes(),
        ),
    ];
    let (chart_files, chart_error) = match charts::run_charts(scenario, summary, outcome) {
        Ok(files) => (files, None),
        Err(error) => (Vec::new(), Some(format!("charts were not drawn: {error}"))),
    };
    let names: Vec<String> = chart_files.iter().map(|(name, _)| name.clone()).collect();
    files.push((
        "report.md".to_string(),
        markdown::render(scenario, summary, reproduce, &names).into_bytes(),
    ));
    files.extend(chart_files);
    (files, chart_error)
}
