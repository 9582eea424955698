//! The command line: parse arguments, call the library, print, exit.
//!
//! Exit codes: 0 when all went well, 1 when a check failed, 2 when the input
//! was invalid (a bad scenario, a missing file) or a run hit a safety limit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use stampede::model;
use stampede::report::summary::summarize;
use stampede::report::text;
use stampede::scenario::{self, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario, ScenarioError};

const EXIT_INVALID: u8 = 2;

#[derive(Parser)]
#[command(
    name = "stampede",
    version,
    about = "A deterministic simulator of distributed systems: what happens when traffic spikes, a dependency fails, or every client retries at once."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and report what happened (the built-in retry chain if none is given).
    Run {
        /// The scenario file (YAML).
        scenario: Option<PathBuf>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Report format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write summary.json and report.txt into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check scenario files without running them.
    Validate {
        /// The scenario files (YAML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            seed,
            format,
            out,
        } => run(scenario.as_deref(), seed, format, out.as_deref()),
        Command::Validate { scenarios } => Ok(validate(&scenarios)),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(EXIT_INVALID)
    })
}

fn load(path: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => scenario::load(path),
        None => scenario::load_str(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO),
    }
}

fn run(
    path: Option<&Path>,
    seed: Option<u64>,
    format: Format,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let mut scenario = match load(path) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let reproduce = reproduce_command(path, scenario.seed);
    let outcome = model::run(&scenario);
    let summary = summarize(&scenario, &outcome);
    let report = text::render(&summary, &reproduce);
    match format {
        Format::Text => print!("{report}"),
        Format::Json => {
            print!("{}", summary.to_json());
            eprintln!("seed {} · reproduce: {reproduce}", scenario.seed);
        }
    }
    if let Some(dir) = out {
        write_outputs(dir, &summary.to_json(), &report)?;
    }
    if let Some(reason) = &outcome.stopped {
        eprintln!("error: {reason}");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_outputs(dir: &Path, json: &str, report: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, contents) in [("summary.json", json), ("report.txt", report)] {
        let path = dir.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("wrote {}/summary.json and report.txt", dir.display());
    Ok(())
}

fn reproduce_command(path: Option<&Path>, seed: u64) -> String {
    match path {
        Some(path) => format!("stampede run {} --seed {seed}", path.display()),
        None => format!("stampede run --seed {seed}"),
    }
}

fn validate(paths: &[PathBuf]) -> ExitCode {
    let mut all_valid = true;
    for path in paths {
        match scenario::load(path) {
            Ok(scenario) => println!("{}: ok ({})", path.display(), scenario.name),
            Err(error) => {
                eprintln!("{error}");
                all_valid = false;
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}
