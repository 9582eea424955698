//! The regression test of scenario outputs: `reports/` holds the current
//! results of every bundled scenario, and regenerating them must reproduce
//! every data file (JSON and CSV) byte for byte. After an intended change of
//! results, regenerate with `cargo run --release -- report scenarios/ --out reports`
//! and review the diff.

use std::path::Path;

use stampede::runner;
use stampede::scenario;

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
