//! The regression test of scenario outputs: `reports/` holds the current
//! results of every bundled scenario, and regenerating them with the command
//! users run must reproduce every data file (JSON and CSV) byte for byte.
//! After an intended change of results, regenerate with
//! `cargo run --release -- report scenarios/ --out reports` and review the diff.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common;

/// Every file under `folder`, as paths relative to it, in name order.
fn files_under(folder: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, folder: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut found = Vec::new();
    walk(folder, folder, &mut found);
    found.sort();
    found
}

/// `stampede report scenarios/ --out <an empty folder>`, run once, writes
/// what `reports/` holds: the same files, and the same bytes in every data
/// file. This is also the test that the binary's output is the same from
/// run to run: the committed files came from earlier runs.
#[test]
fn regenerated_data_files_match_the_committed_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = tempfile::tempdir().unwrap();
    common::stampede()
        .args(["report", "scenarios/", "--out"])
        .arg(fresh.path())
        .current_dir(root)
        .assert()
        .success();
    // One folder per bundled scenario on each side, and nothing else (a
    // folder left from a scenario since removed, a journal not cleaned up).
    let entries = |folder: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let bundled = common::bundled_files();
    let stems: Vec<String> = bundled
        .iter()
        .map(|(path, _)| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries(fresh.path()),
        stems,
        "`stampede report scenarios/` wrote other than one folder per scenario"
    );
    assert_eq!(
        entries(&root.join("reports")),
        stems,
        "reports/ should hold one folder per bundled scenario: regenerate the reports into an empty folder"
    );
    let mut checked = 0;
    for name in &stems {
        let written = files_under(&fresh.path().join(name));
        let committed = files_under(&root.join("reports").join(name));
        for file in &written {
            assert!(
                committed.contains(file),
                "reports/{name}/{} is missing: regenerate the reports",
                file.display()
            );
        }
        for file in &committed {
            assert!(
                written.contains(file),
                "reports/{name}/{} is no longer written: delete it (regenerate into an empty folder)",
                file.display()
            );
            let is_data = file.extension().is_some_and(|e| e == "json" || e == "csv");
            if is_data {
                let expected = std::fs::read(root.join("reports").join(name).join(file)).unwrap();
                let got = std::fs::read(fresh.path().join(name).join(file)).unwrap();
                assert!(
                    expected == got,
                    "reports/{name}/{} differs from a fresh run: regenerate with `stampede report scenarios/ --out reports` if the change is intended",
                    file.display()
                );
                checked += 1;
            }
        }
        for kind in ["report.md", "load-over-time.svg", "load-over-time.png"] {
            assert!(written.contains(&PathBuf::from(kind)), "{name}: no {kind}");
        }
        let summary = std::fs::read_to_string(fresh.path().join(name).join("summary.json"));
        let summary: Value = serde_json::from_str(&summary.unwrap()).unwrap();
        assert_eq!(summary["schema_version"], 8, "{name}");
        let requests = summary["totals"]["requests"].as_u64().unwrap();
        assert!(requests > 1000, "{name}: {requests} requests");
    }
    // At least a summary and a time series for each scenario.
    assert!(
        checked >= 2 * stems.len(),
        "only {checked} data files were compared"
    );
}

/// A chart of a scenario with many components draws a line for the busiest
/// only (a legend names about a dozen, and a thousand lines are a smear)
/// and its title says so; a scenario with few draws every one.
#[test]
fn charts_of_many_components_draw_the_busiest_and_say_so() {
    let mut text = String::from("duration: 20s\nsources:\n");
    for i in 0..30 {
        // u29 sends the most, u0 the least.
        let rate = 10 + i;
        text.push_str(&format!("  u{i}: {{ target: s{i}, rate: {rate}/s }}\n"));
    }
    text.push_str("services:\n");
    for i in 0..30 {
        text.push_str(&format!("  s{i}: {{ workers: 1, service_time: 1ms }}\n"));
    }
    let scenario = common::scenario_from(&text);
    let (outcome, summary) = common::run(&scenario);
    let (files, error) = stampede::report::files::run_files(&scenario, &summary, &outcome, "");
    assert_eq!(error, None);
    let text_of = |name: &str| {
        let (_, bytes) = files.iter().find(|(f, _)| f == name).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    for (chart, shown, kind) in [
        ("load-over-time.svg", 4, "sources"),
        ("queues-over-time.svg", 10, "services"),
        ("latency-cdf.svg", 10, "sources"),
        ("latency-over-time.svg", 3, "sources"),
        ("amplification.svg", 16, "services"),
    ] {
        let svg = text_of(chart);
        assert!(
            svg.contains(&format!("{shown} busiest of 30 {kind}")),
            "{chart} does not say it shows only some"
        );
        // The busiest are the last `shown`; the quietest is not drawn.
        let name = if kind == "sources" { "u" } else { "s" };
        let drawn = |n: u32| [" ", "<", "\n"].map(|after| format!("{name}{n}{after}"));
        assert!(
            drawn(29).iter().any(|l| svg.contains(l)),
            "{chart}: no {name}29"
        );
        assert!(
            !drawn(0).iter().any(|l| svg.contains(l)),
            "{chart}: {name}0 drawn"
        );
    }
    // Each service serves one source once per request: 1.00×, not its
    // share of all thirty sources' requests.
    let bars = text_of("amplification.svg");
    assert_eq!(bars.matches("1.00×").count(), 16, "{bars}");
    assert_eq!(bars.matches('×').count(), 16, "{bars}");
    // Thirty textbook queues are tallied in one finding, not thirty.
    let markdown = text_of("report.md");
    assert!(markdown.contains("- 30 services are textbook queues; against theory"));
    assert!(!markdown.contains("is an M/D/1 queue at"), "{markdown}");
    let few = common::bundled("retry-chain.yaml");
    let (outcome, summary) = common::run(&few);
    let (files, _) = stampede::report::files::run_files(&few, &summary, &outcome, "");
    for (name, bytes) in &files {
        assert!(
            !String::from_utf8_lossy(bytes).contains("busiest of"),
            "{name} of three services says it shows only some"
        );
    }
}
