//! The regression test of scenario outputs: `reports/` holds the current
//! results of every bundled scenario, and regenerating them must reproduce
//! every data file (JSON and CSV) byte for byte. After an intended change of
//! results, regenerate with `cargo run --release -- report scenarios/ --out reports`
//! and review the diff.

use std::path::Path;

use stampede::runner;
use stampede::scenario;

use crate::common;

#[test]
fn regenerated_data_files_match_the_committed_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scenarios: Vec<_> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scenarios.sort();
    let mut checked = 0;
    for path in scenarios
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let study = scenario::load_study(path).unwrap_or_else(|e| panic!("{e}"));
        let files = runner::report_folder(&study, &format!("scenarios/{name}.yaml")).unwrap();
        let folder = root.join("reports").join(&name);
        for (file, contents) in &files {
            let committed = folder.join(file);
            assert!(
                committed.exists(),
                "reports/{name}/{file} is missing: regenerate the reports"
            );
            if file.ends_with(".json") || file.ends_with(".csv") {
                let expected = std::fs::read(&committed).unwrap();
                assert!(
                    &expected == contents,
                    "reports/{name}/{file} differs from a fresh run: regenerate with `stampede report scenarios/ --out reports` if the change is intended"
                );
                checked += 1;
            }
        }
        // A file a report no longer draws must not linger in the folder.
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let written = entry.file_name().to_string_lossy().into_owned();
            let prefix = format!("{written}/");
            assert!(
                files
                    .iter()
                    .any(|(f, _)| *f == written || f.starts_with(&prefix)),
                "reports/{name}/{written} is no longer written: delete it (regenerate into an empty folder)"
            );
        }
        for kind in ["report.md", "load-over-time.svg", "load-over-time.png"] {
            assert!(files.iter().any(|(f, _)| f == kind), "{name}: no {kind}");
        }
    }
    assert!(checked >= 12, "only {checked} data files were compared");
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
