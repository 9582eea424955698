//! What stampede gives the user's other tools: a JSON Schema of the scenario
//! language for editors, completion scripts for shells, and man pages.
//!
//! Each is generated from the same definitions the program runs on (the
//! schema tables, the clap command), so none can fall out of date with the
//! binary that prints it.

use std::path::Path;

use anyhow::{Context, Result};
use clap_complete::Shell;

/// The JSON Schema of scenario files, for `# yaml-language-server: $schema=…`.
pub fn schema() -> String {
    stampede::scenario::schema::scenario_schema_text()
}

/// The completion script of `shell` for `command`.
pub fn completions(shell: Shell, mut command: clap::Command) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "stampede", &mut script);
    script
}

/// The man page of `command` alone (its subcommands listed by name), in roff.
pub fn man_page(command: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .context("cannot render the man page")?;
    Ok(page)
}

/// Writes `stampede.1` and one `stampede-COMMAND.1` per subcommand into `dir`.
pub fn write_man_pages(command: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
}
