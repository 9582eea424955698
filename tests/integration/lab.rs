//! Every command of the lab (`docs/lab.md`) runs and succeeds, so the
//! handout never asks students for a command that fails.

use crate::common::*;

const LAB: &str = include_str!("../../docs/lab.md");

/// The `stampede …` lines of the lab's shell blocks.
fn lab_commands() -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_shell = false;
    for line in LAB.lines() {
        let line = line.trim();
        match line {
            "```sh" => in_shell = true,
            "```" => in_shell = false,
            _ if in_shell && line.starts_with("stampede") => commands.push(line.to_string()),
            _ => {}
        }
    }
    commands
}

#[test]
fn every_lab_command_runs() {
    let commands = lab_commands();
    assert!(
        commands.len() >= 8,
        "only {} commands found",
        commands.len()
    );
    let dir = tempfile::tempdir().unwrap();
    for command in commands {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = stampede()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(words.iter().map(|w| match *w {
                // Files the lab writes go to a scratch folder.
                "chain.json" | "storm" => dir.path().join(w).display().to_string(),
                other => other.to_string(),
            }))
            .output()
            .unwrap();
        assert!(output.status.success(), "`{command}` failed: {output:?}");
    }
}
