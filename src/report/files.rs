//! The files a run writes with `--out DIR`, as (name, contents) pairs.
//!
//! Building them is a pure function of the run's recorded data, so the CLI
//! only writes bytes, and tests can compare outputs without a disk.

use crate::model::RunOutcome;
use crate::scenario::Scenario;

use super::provenance;
use super::summary::Summary;

/// Output files as (name, contents).
pub type Files = Vec<(String, Vec<u8>)>;
use super::compare::{self, Comparison};
use super::document::Document;
use super::sweep::{self, SweepResult};
use super::timeseries::TimeSeries;
use super::{charts, markdown, text};

/// summary.json, scenario.resolved.yaml, timeseries.csv, report.txt,
/// report.md and the charts (SVG and PNG) of one run. A chart that fails to draw is left out, with its
/// error returned beside the files.
pub fn run_files(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
    reproduce: &str,
) -> (Vec<(String, Vec<u8>)>, Option<String>) {
    let (mut files, document, chart_error) =
        run_files_and_report(scenario, summary, outcome, reproduce);
    add_reports(&mut files, &document);
    (files, chart_error)
}

/// The files of [`run_files`] but the reports, and the report as a
/// document, for a caller that adds sections to it.
pub fn run_files_and_report(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
    reproduce: &str,
) -> (Files, Document, Option<String>) {
    let mut files = vec![
        ("summary.json".to_string(), summary.to_json().into_bytes()),
        (
            "scenario.resolved.yaml".to_string(),
            resolved_yaml(scenario).into_bytes(),
        ),
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
    let document = markdown::run_document(scenario, summary, reproduce, &names);
    files.extend(chart_files);
    (files, document, chart_error)
}

/// Writes `document` out as `report.md` and `report.html`, its charts taken
/// from `files`; a report already among them is replaced.
pub fn add_reports(files: &mut Files, document: &Document) {
    files.retain(|(name, _)| name != "report.md" && name != "report.html");
    let html = document.to_html(files);
    files.push(("report.md".to_string(), document.to_markdown().into_bytes()));
    files.push(("report.html".to_string(), html.into_bytes()));
}

/// The scenario as run (overrides applied, the run's seed), as YAML: what a
/// difference between two reports can be traced back to.
fn resolved_yaml(scenario: &Scenario) -> String {
    let document = provenance::resolved_document(scenario);
    let header =
        "# The scenario as run: the file after its variant's overrides, with the run's seed.\n";
    match crate::scenario::yaml::to_text(&document) {
        Ok(text) => format!("{header}{text}"),
        // A tree read from YAML always writes back; JSON keeps it if not.
        Err(_) => format!("{header}{}\n", provenance::canonical(&document)),
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).expect("reports always serialize");
    text.push('\n');
    text.into_bytes()
}

/// compare.json, compare.txt, and goodput over time per variant (SVG and PNG).
pub fn compare_files(
    base: &Scenario,
    comparison: &Comparison,
    series: &[(&str, &TimeSeries)],
    reproduce: &str,
) -> Result<Files, String> {
    let mut files = vec![
        ("compare.json".to_string(), to_json(comparison)),
        (
            "compare.txt".to_string(),
            compare::render(comparison, reproduce).into_bytes(),
        ),
    ];
    files.extend(charts::compare_charts(base, series)?);
    Ok(files)
}

/// sweep.json, sweep.txt, and the trade-off curves (SVG and PNG); `base` is
/// the study's base scenario.
pub fn sweep_files(
    base: &Scenario,
    result: &SweepResult,
    reproduce: &str,
) -> Result<Files, String> {
    let mut files = vec![
        ("sweep.json".to_string(), to_json(result)),
        (
            "sweep.txt".to_string(),
            sweep::render(result, reproduce).into_bytes(),
        ),
    ];
    files.extend(charts::sweep_charts(base, result)?);
    Ok(files)
}
