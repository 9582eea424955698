//! A fuzz harness for the loader and validator, run as a property test so
//! that it needs nothing beyond the repository and runs in CI for a fixed
//! number of cases (`STAMPEDE_FUZZ_CASES` raises it for a long local run).
//!
//! Each case takes a bundled scenario (every one, variants, sweeps and
//! expectations included) and makes the edits people and tools make by
//! mistake: a value replaced by an extreme one, a key misspelt, a line
//! doubled or dropped, indentation changed, bytes inserted. Whatever comes
//! out must either load or be refused with located diagnostics, never panic;
//! and what loads must run, under a small event limit, without panicking.

use crate::common::run;
use proptest::prelude::*;
use stampede::scenario::load_study_str;

/// Values that break naive parsers and arithmetic.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e308s",
    "1e-300s",
    "18446744073709551616",
    "9007199254740993",
    ".nan",
    ".inf",
    "1ns",
    "0s",
    "100000000",
    "1e9/s",
    "0/s",
    "100%",
    "exp(mean=0s)",
    "lognormal(mu=700, sigma=1)",
    "pareto(scale=1ms, shape=0.01)",
    "\"\"",
    "[]",
    "{}",
    "~",
    "*nothing",
    "&a x",
    "\t",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Replace the value on line `line` with one of [`EXTREMES`].
    Extreme {
        line: usize,
        value: usize,
    },
    /// Drop a character of the key on line `line`.
    Misspell {
        line: usize,
        at: usize,
    },
    Duplicate {
        line: usize,
    },
    Delete {
        line: usize,
    },
    /// Indent line `line` by this many more spaces, or with a tab if 0.
    Indent {
        line: usize,
        by: usize,
    },
    Insert {
        at: usize,
        text: String,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let line = any::<usize>();
    prop_oneof![
        (line, 0..EXTREMES.len()).prop_map(|(line, value)| Edit::Extreme { line, value }),
        (line, any::<usize>()).prop_map(|(line, at)| Edit::Misspell { line, at }),
        line.prop_map(|line| Edit::Duplicate { line }),
        line.prop_map(|line| Edit::Delete { line }),
        (line, 0usize..5).prop_map(|(line, by)| Edit::Indent { line, by }),
        (any::<usize>(), "[a-z0-9:\\-{}\\[\\],.&*!|>'\" \n]{0,8}")
            .prop_map(|(at, text)| Edit::Insert { at, text }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    let count = lines.len();
    match edit {
        Edit::Extreme { line, value } => {
            let line = &mut lines[line % count];
            if let Some(colon) = line.find(": ") {
                line.replace_range(colon + 2.., EXTREMES[*value]);
            }
        }
        Edit::Misspell { line, at } => {
            let line = &mut lines[line % count];
            let key_end = line.find(':').unwrap_or(0);
            let start = line.len() - line.trim_start().len();
            if key_end > start + 1 {
                let index = start + at % (key_end - start);
                if line.is_char_boundary(index) && line.is_char_boundary(index + 1) {
                    line.remove(index);
                }
            }
        }
        Edit::Duplicate { line } => {
            let copy = lines[line % count].clone();
            lines.insert(line % count, copy);
        }
        Edit::Delete { line } => {
            lines.remove(line % count);
        }
        Edit::Indent { line, by } => {
            let prefix = if *by == 0 {
                "\t".to_string()
            } else {
                " ".repeat(*by)
            };
            lines[line % count].insert_str(0, &prefix);
        }
        Edit::Insert { at, text } => {
            let joined = lines.join("\n");
            let mut index = at % (joined.len() + 1);
            while !joined.is_char_boundary(index) {
                index -= 1;
            }
            return format!("{}{text}{}", &joined[..index], &joined[index..]);
        }
    }
    lines.join("\n") + "\n"
}

fn bundled() -> Vec<(String, String)> {
    crate::common::bundled_files()
        .into_iter()
        .map(|(path, text)| (path.display().to_string(), text))
        .collect()
}

fn cases() -> u32 {
    std::env::var("STAMPEDE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn edited_scenarios_load_or_are_refused_with_located_errors(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let scenarios = bundled();
        let (path, original) = &scenarios[which.index(scenarios.len())];
        let text = edits.iter().fold(original.clone(), |text, e| apply(&text, e));
        // Trace files are named relative to the scenario's folder.
        match load_study_str(path, &text) {
            Ok(study) => {
                for variant in &study.variants {
                    let mut scenario = variant.scenario.clone();
                    // Twenty thousand events take a variant through its
                    // start, its first requests and (stopped by the limit)
                    // its summary, where most extreme values break things;
                    // 100,000 made this test three times slower. What breaks
                    // only later in a run (faults, autoscaling) is for
                    // `properties::mutated_scenarios_never_panic`, which
                    // runs mutated scenarios for 200,000 events.
                    scenario.limits.max_events = scenario.limits.max_events.min(20_000);
                    let _ = run(&scenario);
                }
            }
            Err(error) => {
                prop_assert!(!error.diagnostics.is_empty());
                for diagnostic in &error.diagnostics {
                    let located = diagnostic.position.is_some_and(|p| p.line > 0);
                    prop_assert!(located, "not located: {:?}\n{}", diagnostic, text);
                }
                let _ = error.to_string();
            }
        }
    }
}
