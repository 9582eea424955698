//! Helpers shared by the integration tests: load a scenario from text or a
//! bundled file, run it through the public API, and summarise it.
#![allow(dead_code)]

use stampede::engine::rng::replication_seed;
use stampede::model::{self, RunOutcome};
use stampede::report::summary::{Summary, summarize};
use stampede::scenario::{self, Scenario};

pub fn scenario_from(text: &str) -> Scenario {
    scenario::load_str("test.yaml", text).unwrap_or_else(|error| panic!("{error}"))
}

pub fn bundled(name: &str) -> Scenario {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    scenario::load(std::path::Path::new(&path)).unwrap_or_else(|error| panic!("{error}"))
}

pub fn run(scenario: &Scenario) -> (RunOutcome, Summary) {
    let outcome = model::run(scenario);
    let summary = summarize(scenario, &outcome);
    (outcome, summary)
}

/// Runs `replications` independent copies (seeds derived from the scenario's)
/// and returns `measure` of each.
pub fn replicate(
    scenario: &Scenario,
    replications: u32,
    measure: impl Fn(&RunOutcome, &Summary) -> f64,
) -> Vec<f64> {
    (0..replications)
        .map(|index| {
            let mut copy = scenario.clone();
            copy.seed = replication_seed(scenario.seed, index);
            let (outcome, summary) = run(&copy);
            measure(&outcome, &summary)
        })
        .collect()
}

/// Mean and standard error of the mean.
pub fn mean_and_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

/// Student t quantile for a two-sided 99.9% interval with `df` degrees of
/// freedom (df 9 and 19 are what the tests use).
pub fn t_999(df: usize) -> f64 {
    match df {
        9 => 4.781,
        19 => 3.883,
        _ => panic!("add the t quantile for df = {df}"),
    }
}

/// Asserts that `theory` lies inside the 99.9% confidence interval of the
/// replication means, and that the interval is narrow enough (`max_relative_half_width`)
/// for the check to mean something.
pub fn assert_matches_theory(
    what: &str,
    values: &[f64],
    theory: f64,
    max_relative_half_width: f64,
) {
    let (mean, se) = mean_and_se(values);
    let half_width = t_999(values.len() - 1) * se;
    assert!(
        half_width / theory < max_relative_half_width,
        "{what}: the interval ±{half_width:.5} is too wide to test against {theory:.5}; run longer"
    );
    assert!(
        (mean - theory).abs() <= half_width,
        "{what}: measured {mean:.5} ± {half_width:.5} (99.9% CI), theory {theory:.5}; replications {values:?}"
    );
}

/// The real `stampede` binary.
pub fn stampede() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("stampede").expect("the binary builds")
}

/// Every bundled scenario file with its text, in name order.
pub fn bundled_files() -> Vec<(std::path::PathBuf, String)> {
    let folder = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// The absolute path of a bundled scenario.
pub fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A temporary `.yaml` file holding `text`, removed when dropped.
pub fn write_temp(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

/// Asserts that `stampede validate` refuses `text` (exit 2) with a message
/// containing `fragment`, and returns what it printed.
pub fn assert_invalid(text: &str, fragment: &str) -> String {
    let file = write_temp(text);
    let output = stampede()
        .arg("validate")
        .arg(file.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{fragment}: {stderr}");
    assert!(
        stderr.contains(fragment),
        "expected `{fragment}` in: {stderr}"
    );
    stderr
}
