//! Tidy checks that keep ARCHITECTURE.md's rules true: only the scenario
//! loader and the command line touch files or print; the engine, the model,
//! the report, the runner and the YAML reader (`crates/yaml`) are pure
//! functions of their inputs.

use std::path::{Path, PathBuf};

/// Words that mean I/O: files, printing, the environment and processes.
const IO_WORDS: &[&str] = &[
    "std::fs",
    "fs::",
    "File::",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "std::io::stdout",
    "std::io::stderr",
    "std::env",
    "std::process",
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_the_loader_and_the_command_line_do_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    for pure in ["engine", "model", "report", "runner"] {
        rust_files(&src.join(pure), &mut files);
    }
    rust_files(&root.join("crates/yaml/src"), &mut files);
    files.extend(["runner.rs", "lib.rs", "simulator.rs"].map(|f| src.join(f)));
    files.sort();
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests at the end of a file may read and write what they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (index, line) in code.lines().enumerate() {
            let line_code = line.split("//").next().unwrap_or("");
            for word in IO_WORDS.iter().filter(|w| line_code.contains(*w)) {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                offences.push(format!("{shown}:{}: `{word}`", index + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O outside src/scenario and src/cli:\n{}",
        offences.join("\n")
    );
}

/// The layers, lowest first. A layer may use those before it, never those
/// after: engine ← scenario ← model ← report ← runner ← cli.
const LAYERS: &[&str] = &["engine", "scenario", "model", "report", "runner", "cli"];

#[test]
fn imports_point_one_way_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offences = Vec::new();
    for (index, layer) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        let dir = src.join(layer);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = src.join(format!("{layer}.rs"));
        if file.is_file() {
            files.push(file);
        }
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for higher in &LAYERS[index + 1..] {
                    if code.contains(&format!("crate::{higher}")) {
                        let shown = file.strip_prefix(&src).unwrap_or(file).display();
                        offences.push(format!("src/{shown}:{}: {layer} uses {higher}", number + 1));
                    }
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
