//! The command line: parse arguments, call the library, print, exit.
//!
//! Exit codes: 0 when all went well, 1 when a check failed, 2 when the input
//! was invalid (a bad scenario, a missing file), a file could not be written,
//! or a run hit a safety limit, 130 when Ctrl-C stopped it. A scenario given
//! as `-` is read from standard input.

mod tools;
mod write;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::io::IsTerminal;

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use stampede::engine::SimTime;
use stampede::model::Simulation;
use stampede::model::trace::TraceSelection;
use stampede::report::diff::cause::{FailOn, Labeled, Report};
use stampede::report::summary::summarize;
use stampede::report::text;
use stampede::report::trace::Pick;
use stampede::report::{check, check_output, diff, files, provenance};
use stampede::runner;
use stampede::scenario::{self, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use stampede::scenario::{Study, Variant, suggest};

use stampede::report::shell::quote;
use stampede::runner::parts::{ScenarioFile, StudySpec};
use stampede::runner::{Replications, Shard};
use write::write_files;

const EXIT_FAILED: u8 = 1;
const EXIT_INVALID: u8 = 2;

/// How standard input is named in messages when a scenario is given as `-`.
const STDIN_LABEL: &str = "<stdin>";

/// The most of standard input read as one scenario: far above any real
/// scenario, and a bound on the memory a runaway pipe can take.
const STDIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Set when standard output failed for a reason other than a closed pipe
/// (a full disk): the command goes on, then exits 2.
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes to standard output. A reader that went away (`stampede … | head
/// -1`) is not an error: the rest of the output is dropped quietly and the
/// command still finishes its work (files under `--out`). Any other write
/// failure is reported once and makes the exit code 2.
pub(crate) fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let result = std::io::stdout().lock().write_fmt(args);
    if let Err(error) = result
        && error.kind() != std::io::ErrorKind::BrokenPipe
        && !STDOUT_FAILED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        eprintln!("error: cannot write to standard output: {error}");
    }
}

macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

// After the macros, which it prints with.
mod study;

#[derive(Parser)]
#[command(
    name = "stampede",
    version,
    about = "A deterministic simulator of distributed systems: what happens when traffic spikes, a dependency fails, or every client retries at once.",
    long_about = "A deterministic simulator of distributed systems: what happens when traffic spikes, a dependency fails, or every client retries at once.\n\nWith no command, stampede runs the built-in scenario (a three-tier retry chain), as `stampede run` does.",
    // Our own `help` subcommand, so that `stampede help --help` works too.
    disable_help_subcommand = true
)]
struct Cli {
    /// With no command: run the built-in scenario, as `stampede run` does.
    #[command(subcommand)]
    command: Option<Command>,
}

/// `run --trace`: which requests to trace, and where to write them.
#[derive(Args)]
struct TraceArgs {
    /// Write the lives of a sample of requests to this file as a Chrome trace (Trace Event Format JSON: open it in ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// How many requests to trace: the first N after warm-up (1 to 10,000).
    #[arg(long, default_value_t = 100, requires = "trace", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    trace_requests: u32,
    /// Trace every K-th request after warm-up instead of each one.
    #[arg(long, default_value_t = 1, requires = "trace", value_parser = clap::value_parser!(u32).range(1..))]
    trace_every: u32,
    /// Trace only requests that start at this simulated time or later, e.g. `30s`.
    #[arg(long, requires = "trace", value_parser = parse_instant)]
    trace_from: Option<SimTime>,
    /// Write only the traced requests that failed.
    #[arg(long, requires = "trace")]
    trace_failed: bool,
}

/// A simulated instant written as a duration from the start, like `30s`.
fn parse_instant(text: &str) -> Result<SimTime, String> {
    scenario::units::parse_duration(text).map(|d| SimTime::ZERO + d)
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and report what happened (the built-in retry chain if none is given).
    Run {
        /// The scenario file (YAML); `-` reads it from standard input.
        scenario: Option<PathBuf>,
        /// Run this variant of the scenario (from its `variants:` section) instead of the base.
        #[arg(long)]
        variant: Option<String>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Report format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write the full report into this directory: summary.json, timeseries.csv, report.txt, report.md and the charts (SVG and PNG).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        trace: TraceArgs,
    },
    /// Print one request's life as a waterfall: every call, attempt, queue wait, service, retry and answer, with its time.
    Trace {
        /// The scenario file (YAML); `-` reads it from standard input; the built-in scenario if none is given.
        scenario: Option<PathBuf>,
        /// Trace this variant of the scenario instead of the base.
        #[arg(long)]
        variant: Option<String>,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// The n-th request after warm-up (1 for the first; the default).
        #[arg(long, group = "which", conflicts_with = "from", value_parser = clap::value_parser!(u64).range(1..))]
        request: Option<u64>,
        /// The slowest to finish of the first `--among` requests after warm-up.
        #[arg(long, group = "which")]
        slowest: bool,
        /// The first to fail of the first `--among` requests after warm-up.
        #[arg(long, group = "which")]
        first_failed: bool,
        /// How many requests after warm-up `--slowest` and `--first-failed` look at.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        among: u32,
        /// Look only at requests that start at this simulated time or later, e.g. `30s`.
        #[arg(long, value_parser = parse_instant)]
        from: Option<SimTime>,
    },
    /// Run a scenario's variants on the same random numbers and compare them side by side.
    Compare {
        /// The scenario file (YAML), with a `variants:` section; `-` reads it from standard input.
        scenario: PathBuf,
        /// Variants to compare, in this order (`base` is the scenario as written); default: every declared variant.
        #[arg(long, value_delimiter = ',')]
        variants: Vec<String>,
        #[command(flatten)]
        batch: BatchArgs,
    },
    /// Run a scenario across the values of one parameter (offered load, workers, timeout…), per variant.
    Sweep {
        /// The scenario file (YAML); its `sweep:` section is used unless --param is given. `-` reads it from standard input.
        scenario: PathBuf,
        /// The key path to vary, e.g. `sources.users.rate`.
        #[arg(long, requires = "values")]
        param: Option<String>,
        /// A comma-separated list, or a range FROM..TO:STEP such as `100/s..1000/s:100/s`.
        #[arg(long)]
        values: Option<String>,
        /// Variants to sweep; default: the sweep section's, else every declared variant, else the base.
        #[arg(long, value_delimiter = ',')]
        variants: Vec<String>,
        #[command(flatten)]
        batch: BatchArgs,
    },
    /// Write a report folder (Markdown, charts, JSON, CSV) for each scenario: OUT/<name>/ (files of the same name in different folders: OUT/<folder>-<name>/).
    Report {
        /// Scenario files, or directories of them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where the folders go.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        #[command(flatten)]
        spread: SpreadArgs,
    },
    /// Put together the parts that `compare`, `sweep` or `report` wrote with `--shard I/N` into the study's outputs, byte for byte those of running it on one machine: `stampede merge parts --out results`. Exit 2, writing nothing, when a shard is missing, given twice, cut short or of another study.
    Merge {
        /// The parts (part-I-of-N.jsonl), or folders holding them.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Where the study's outputs go (for a report, its folders).
        #[arg(long)]
        out: PathBuf,
        /// Format of the comparison or sweep printed on standard output.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run scenarios and test their `expect:` thresholds, every variant: exit 0 if all hold, 1 if one fails, 2 on invalid input or a stopped run.
    #[command(after_long_help = CHECK_HELP)]
    Check {
        /// Scenario files (YAML) with `expect:` thresholds, or directories of them; `-` reads one from standard input.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Variants to check (`base` is the scenario as written); default: the base and every variant.
        #[arg(long, value_delimiter = ',')]
        variants: Vec<String>,
        /// Runs per variant, each on its own seed; each threshold is judged on the mean, with its 95% interval.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        replications: u32,
        /// Also fail a threshold whose 95% interval reaches across its limit (needs --replications 2 or more).
        #[arg(long)]
        strict: bool,
        /// How to print the verdicts: text, json, junit (JUnit XML) or github (workflow annotations).
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Also write the verdicts as JUnit XML to this file (whole, or not at all).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Skip files without thresholds instead of failing on them.
        #[arg(long)]
        allow_empty: bool,
        /// Replace each scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Compare two reports of the same kind (summary.json, compare.json, sweep.json) or two folders of them, metric by metric: exit 1 if a metric got worse beyond tolerance.
    Diff {
        /// The baseline: a JSON report, or a folder of reports (as `report --out` writes).
        left: PathBuf,
        /// What to compare with it: a JSON report of the same kind, or a folder.
        right: PathBuf,
        /// Relative change that still counts as equal: `5%`, `5` (a bare number of 1 or more is percent), `0.05` (below 1, a fraction), or `GLOB=5%` for the metrics a glob matches. Repeatable: the first matching glob wins; the last bare value is the default (0%).
        #[arg(long)]
        tolerance: Vec<String>,
        /// Compare only the metrics this glob matches (`p99*`, `services.api.*`); repeatable.
        #[arg(long)]
        metric: Vec<String>,
        /// When to exit 1: a metric got worse beyond tolerance, anything differs, or never.
        #[arg(long, value_enum, default_value_t = FailOnArg::Worse)]
        fail_on: FailOnArg,
    },
    /// Check scenario files without running them.
    Validate {
        /// The scenario files (YAML), or directories of them; `-` reads one from standard input.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Print the JSON Schema of scenario files, for editors: `stampede schema > stampede.schema.json`.
    Schema,
    /// Print a shell completion script: `stampede completions bash > ~/.local/share/bash-completion/completions/stampede`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output, or with --out write one page per command.
    Man {
        /// Write stampede.1 and stampede-COMMAND.1 for each command into this directory instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the help of stampede or of one of its commands.
    Help {
        /// The command to explain, e.g. `run`; none for the overview.
        command: Option<String>,
    },
}

/// What `compare` and `sweep` share: how many runs, which seed, which format, where to write.
#[derive(Args, Clone)]
struct BatchArgs {
    /// Independent replications of each run (seeds derived from the root seed), 1 to 1000; or `auto`: batches of 5 until the 95% intervals of goodput and each source's p99 latency are within --precision.
    #[arg(long, default_value = "1", value_parser = parse_replications)]
    replications: ReplicationsArg,
    /// With --replications auto: the half-width of each 95% interval, relative to its mean (`5%` or `0.05`; default 5%).
    #[arg(long)]
    precision: Option<String>,
    /// With --replications auto: the most replications of each run, 5 to 1000 (default 100).
    #[arg(long, value_parser = parse_max_replications)]
    max_replications: Option<u32>,
    /// Replace the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write into this directory: the JSON, the table and the charts (SVG and PNG); `compare` adds a full run report per variant in DIR/<variant>/. Finished runs are kept there until the end, so an interrupted study resumes.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only shard I of N of the study's runs (every N-th) and write them as DIR/part-I-of-N.jsonl for `stampede merge`; `auto/N` reads I from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or PARALLEL_SEQ.
    #[arg(long, value_parser = study::parse_shard, requires = "out")]
    shard: Option<Shard>,
    /// Do at most this many runs now, keep them under --out, and stop (exit 2); the same command run again goes on.
    #[arg(long, requires = "out", value_parser = parse_max_runs)]
    max_runs: Option<u64>,
}

/// `--shard` and `--max-runs` of `report`.
#[derive(Args, Clone)]
struct SpreadArgs {
    /// Run only shard I of N of the reports' runs and write them as OUT/part-I-of-N.jsonl for `stampede merge`; `auto/N` reads I from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or PARALLEL_SEQ.
    #[arg(long, value_parser = study::parse_shard)]
    shard: Option<Shard>,
    /// Do at most this many runs now, keep them under --out, and stop (exit 2); the same command run again goes on.
    #[arg(long, value_parser = parse_max_runs)]
    max_runs: Option<u64>,
}

/// `--replications`: a count, or `auto`.
#[derive(Clone, Copy)]
enum ReplicationsArg {
    Fixed(u32),
    Auto,
}

fn parse_max_runs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => Err(format!("`{text}` is not a number of runs (1 or more)")),
    }
}

fn parse_max_replications(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(count) if (5..=1000).contains(&count) => Ok(count),
        _ => Err(format!(
            "`{text}` is not a number of replications from 5 to 1000"
        )),
    }
}

fn parse_replications(text: &str) -> Result<ReplicationsArg, String> {
    if text.trim() == "auto" {
        return Ok(ReplicationsArg::Auto);
    }
    match text.trim().parse::<u32>() {
        Ok(count) if (1..=1000).contains(&count) => Ok(ReplicationsArg::Fixed(count)),
        _ => Err(format!("`{text}` is not a count of 1 to 1000, or `auto`")),
    }
}

/// The most replications `auto` runs unless told otherwise.
const DEFAULT_MAX_REPLICATIONS: u32 = 100;

/// `auto` aims at ±5% unless told otherwise.
const DEFAULT_PRECISION: f64 = 0.05;

impl BatchArgs {
    /// The replications the flags ask for, checked together.
    fn replications(&self) -> Result<Replications, String> {
        let auto = matches!(self.replications, ReplicationsArg::Auto);
        if !auto && (self.precision.is_some() || self.max_replications.is_some()) {
            return Err(
                "--precision and --max-replications go with --replications auto".to_string(),
            );
        }
        match self.replications {
            ReplicationsArg::Fixed(count) => Ok(Replications::Fixed(count)),
            ReplicationsArg::Auto => {
                let precision = match &self.precision {
                    None => DEFAULT_PRECISION,
                    Some(text) => parse_precision(text)?,
                };
                let max = self.max_replications.unwrap_or(DEFAULT_MAX_REPLICATIONS);
                Ok(Replications::Auto { precision, max })
            }
        }
    }
}

/// `5%` or `0.05`: a relative half-width above 0 and below 100%.
fn parse_precision(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    };
    match value {
        Ok(fraction) if fraction > 0.0 && fraction < 1.0 => Ok(fraction),
        _ => Err(format!(
            "--precision {text}: give a relative half-width such as 5% (or 0.05), above 0 and below 100%"
        )),
    }
}

/// `diff --fail-on`.
#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Worse,
    Any,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// What `help check` says after the options: the thresholds themselves.
const CHECK_HELP: &str = "\
Thresholds, in a scenario's `expect:` list (or a variant's own, beside `set:`):
  p99(users.latency) < 300ms        mean p50 p90 p99 p999 max of SOURCE.latency,
                                    SERVICE.latency, SERVICE.queue_wait, QUEUE.latency
  goodput > 180/s                   goodput, throughput (all sources, or goodput(users))
  success_ratio(users) >= 99%       success_ratio, utilisation(SERVICE): 99% or 0.99
  amplification(db) <= 2            also queue_length rejected abandoned (per service)
  recovery_time(users) < 10s        after a spike or fault; drain_time(QUEUE) < 1m
  dropped(orders) <= 0              duplicates dead_lettered expired dropped depth_max
  p99(users.latency)[backoff] < p99(users.latency)[no-backoff]
                                    between variants (top-level `expect:` only)
A variant's own line replaces the top-level lines on the same measure.
The full reference: docs/scenario-reference.md#expectations-and-stampede-check;
CI recipes and choosing --replications: docs/ci.md.";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
    Junit,
    Github,
}

/// The most worker threads `RAYON_NUM_THREADS` may ask for: more only
/// exhausts the operating system's threads (rayon panics when it cannot
/// spawn them), and runs are no faster past the number of cores.
const MAX_THREADS: usize = 256;

/// Caps `RAYON_NUM_THREADS` at [`MAX_THREADS`], with a warning.
fn limit_threads() {
    let asked = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(asked) = asked.filter(|&n| n > MAX_THREADS) {
        eprintln!(
            "warning: RAYON_NUM_THREADS={asked} is more than {MAX_THREADS}: using {MAX_THREADS} threads"
        );
        // Only fails if a pool already exists, and none does yet.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(MAX_THREADS)
            .build_global();
    }
}

pub fn main() -> ExitCode {
    write::stop_on_interrupt();
    let cli = Cli::parse();
    limit_threads();
    let command = cli.command.unwrap_or(Command::Run {
        scenario: None,
        variant: None,
        seed: None,
        format: Format::Text,
        out: None,
        trace: TraceArgs {
            trace: None,
            trace_requests: 100,
            trace_every: 1,
            trace_from: None,
            trace_failed: false,
        },
    });
    let result = match command {
        Command::Run {
            scenario,
            variant,
            seed,
            format,
            out,
            trace,
        } => run(
            scenario.as_deref(),
            variant.as_deref(),
            seed,
            format,
            (out.as_deref(), &trace),
        ),
        Command::Trace {
            scenario,
            variant,
            seed,
            request,
            slowest,
            first_failed,
            among,
            from,
        } => {
            let pick = match (slowest, first_failed, from) {
                (true, _, _) => Pick::Slowest,
                (_, true, _) => Pick::FirstFailed,
                (_, _, Some(_)) if request.is_none() => Pick::First,
                _ => Pick::Number(request.unwrap_or(1)),
            };
            let from = from.unwrap_or(SimTime::ZERO);
            trace_one(
                scenario.as_deref(),
                variant.as_deref(),
                seed,
                pick,
                (among, from),
            )
        }
        Command::Compare {
            scenario,
            variants,
            batch,
        } => batch_study(&scenario, batch, |scenario, replications, seed| {
            StudySpec::Compare {
                scenario,
                variants,
                replications,
                seed,
            }
        }),
        Command::Sweep {
            scenario,
            param,
            values,
            variants,
            batch,
        } => batch_study(&scenario, batch, |scenario, replications, seed| {
            StudySpec::Sweep {
                scenario,
                param,
                values,
                variants,
                replications,
                seed,
            }
        }),
        Command::Report {
            inputs,
            out,
            spread,
        } => report(&inputs, &out, spread),
        Command::Merge { parts, out, format } => study::merge(&parts, &out, format),
        Command::Check {
            scenarios,
            variants,
            replications,
            strict,
            format,
            junit,
            allow_empty,
            seed,
        } => {
            let options = CheckOptions {
                variants,
                replications,
                strict,
                allow_empty,
                seed,
            };
            check(&scenarios, &options, format, junit.as_deref())
        }
        Command::Diff {
            left,
            right,
            tolerance,
            metric,
            fail_on,
        } => diff(&left, &right, &tolerance, &metric, fail_on),
        Command::Validate { scenarios } => Ok(validate(&scenarios)),
        Command::Schema => {
            out!("{}", tools::schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            out!(
                "{}",
                String::from_utf8_lossy(&tools::completions(shell, Cli::command()))
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out } => man(out.as_deref()),
        Command::Help { command } => Ok(help(command.as_deref())),
    };
    let code = result.unwrap_or_else(|error| {
        if error.is::<write::Interrupted>() {
            eprintln!("interrupted{}", write::resume_note());
            return ExitCode::from(write::EXIT_INTERRUPTED);
        }
        eprintln!("error: {error:#}");
        ExitCode::from(EXIT_INVALID)
    });
    if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        return ExitCode::from(EXIT_INVALID);
    }
    code
}

/// `stampede man [--out DIR]`: the page on standard output, or every page into DIR.
fn man(out: Option<&Path>) -> Result<ExitCode> {
    match out {
        Some(dir) => tools::write_man_pages(Cli::command(), dir)?,
        None => out!(
            "{}",
            String::from_utf8_lossy(&tools::man_page(Cli::command())?)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `stampede help [COMMAND]`: the overview, or one command's help.
fn help(command: Option<&str>) -> ExitCode {
    let mut cli = Cli::command();
    // Building fills in each subcommand's usage line ("stampede run …").
    cli.build();
    let printed = match command {
        None => cli.print_long_help(),
        Some(name) => match cli.find_subcommand_mut(name) {
            Some(sub) => sub.print_long_help(),
            None => {
                let known: Vec<String> = Cli::command()
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                let hint = suggest::did_you_mean(name, known.iter().map(String::as_str))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return invalid(format!(
                    "no command is named `{name}`{hint}; the commands are: {}",
                    known.join(", ")
                ));
            }
        },
    };
    match printed {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(EXIT_INVALID)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Whether `path` stands for standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A scenario's name in messages: its path, or `<stdin>`.
fn label(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_LABEL.to_string()
    } else {
        path.display().to_string()
    }
}

/// A scenario's path as one word of a shell command (`-` for standard input).
fn command_word(path: &Path) -> String {
    quote(&path.to_string_lossy()).into_owned()
}

/// Reads the study at `path`, or from standard input when `path` is `-`.
fn load_study(path: &Path) -> Result<Study, String> {
    if !is_stdin(path) {
        return scenario::load_study(path).map_err(|e| e.to_string());
    }
    let text = read_stdin()?;
    // Trace files named in it are then relative to the current directory.
    scenario::load_study_str(STDIN_LABEL, &text).map_err(|e| e.to_string())
}

/// All of standard input as text, refusing more than [`STDIN_LIMIT`].
fn read_stdin() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(STDIN_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{STDIN_LABEL}: cannot read standard input: {e}"))?;
    if bytes.len() as u64 > STDIN_LIMIT {
        return Err(format!(
            "{STDIN_LABEL}: more than {} MiB on standard input: a scenario is never that large (a trace belongs in a file the scenario names)",
            STDIN_LIMIT / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("{STDIN_LABEL}: not UTF-8 text: {e}"))
}

/// Standard input can be read only once: `-` may be named once at most.
fn stdin_at_most_once(paths: &[PathBuf]) -> Result<(), String> {
    match paths.iter().filter(|p| is_stdin(p)).count() {
        0 | 1 => Ok(()),
        _ => Err("`-` (standard input) is named more than once; it can be read only once".into()),
    }
}

/// `--out DIR` must be a folder or not exist yet. Said before anything
/// runs, not after a long simulation.
fn check_out(dir: &Path) -> Result<(), String> {
    let existing = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find_map(|a| Some((a, std::fs::metadata(a).ok()?)));
    match existing {
        Some((found, meta)) if !meta.is_dir() => Err(if found == dir {
            format!("--out {} is a file, not a directory", dir.display())
        } else {
            format!(
                "--out {}: {} is a file, not a directory",
                dir.display(),
                found.display()
            )
        }),
        _ => Ok(()),
    }
}

/// The exit code of a command some of whose runs a safety limit stopped:
/// their numbers cover only part of the run, so the result is no pass.
fn stopped_exit(lines: &[String]) -> Option<ExitCode> {
    if lines.is_empty() {
        return None;
    }
    for line in lines {
        eprintln!("error: {line}");
    }
    Some(ExitCode::from(EXIT_INVALID))
}

/// The scenario to run: the built-in one, a file's base, or one of its variants.
fn load(path: Option<&Path>, variant: Option<&str>) -> Result<Scenario, String> {
    load_with_others(path, variant).map(|(scenario, _)| scenario)
}

/// [`load`], and when it is the base, the names of the file's variants
/// left unrun, so the report can say that the file holds more than it ran.
fn load_with_others(
    path: Option<&Path>,
    variant: Option<&str>,
) -> Result<(Scenario, Vec<String>), String> {
    let study = match path {
        Some(path) => load_study(path)?,
        None => scenario::load_study_str(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO)
            .map_err(|e| e.to_string())?,
    };
    let Some(name) = variant else {
        let others = study.variants[1..].iter().map(|v| v.name.clone()).collect();
        return Ok((study.base().clone(), others));
    };
    let chosen = pick_variants(&study, &[name.to_string()])?;
    Ok((chosen[0].scenario.clone(), Vec::new()))
}

fn run(
    path: Option<&Path>,
    variant: Option<&str>,
    seed: Option<u64>,
    format: Format,
    (out, trace): (Option<&Path>, &TraceArgs),
) -> Result<ExitCode> {
    if let Some(Err(message)) = out.map(check_out) {
        return Ok(invalid(message));
    }
    if let Some(Err(message)) = trace.trace.as_deref().map(check_trace_file) {
        return Ok(invalid(message));
    }
    let (mut scenario, unrun_variants) = match load_with_others(path, variant) {
        Ok(loaded) => loaded,
        Err(error) => return Ok(invalid(error)),
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let reproduce = reproduce_command(path, variant, scenario.seed);
    warn_if_costly(
        &path.map_or_else(|| DEFAULT_SCENARIO_NAME.to_string(), label),
        &scenario,
    );
    let bar = progress_bar(
        scenario.duration.as_nanos() / 1_000_000_000,
        "simulated seconds",
    );
    let mut simulation = Simulation::new(&scenario);
    if trace.trace.is_some() {
        simulation = simulation.with_trace(TraceSelection {
            count: trace.trace_requests,
            every: trace.trace_every,
            from: trace.trace_from.unwrap_or(SimTime::ZERO),
            only: None,
        });
    }
    let outcome =
        simulation.run_observed(&mut |now| bar.set_position(now.as_nanos() / 1_000_000_000));
    bar.finish_and_clear();
    let summary = summarize(&scenario, &outcome);
    let report = text::render(&summary, &reproduce);
    if let (Some(file), Some(mut log)) = (&trace.trace, outcome.trace.clone()) {
        if trace.trace_failed {
            log.requests
                .retain(|r| matches!(r.ended, Some((_, Err(_)))));
        }
        let log = &log;
        let json = stampede::report::trace::chrome_trace(&scenario, log, outcome.ended_at);
        eprintln!(
            "{} requests traced: open {} in ui.perfetto.dev or chrome://tracing",
            log.requests.len(),
            file.display()
        );
        write::write_file(file, json.as_bytes())?;
    }
    match format {
        Format::Text => {
            out!("{report}");
            if !unrun_variants.is_empty() {
                let file = path.map_or_else(|| "FILE".to_string(), command_word);
                outln!(
                    "\nThis is the base scenario. The file also declares the variants {}: `stampede compare {file}` runs them side by side on the same random numbers, `--variant NAME` runs one.",
                    unrun_variants.join(", ")
                );
            }
        }
        Format::Json => {
            out!("{}", summary.to_json());
            eprintln!("seed {} · reproduce: {reproduce}", scenario.seed);
        }
    }
    if let Some(dir) = out {
        let (files, chart_error) = files::run_files(&scenario, &summary, &outcome, &reproduce);
        if let Some(error) = chart_error {
            eprintln!("warning: {error}");
        }
        write_files(dir, &files)?;
    }
    if let Some(reason) = &outcome.stopped {
        eprintln!("error: {reason}");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

/// A trace file must be a file in a folder that exists, never a folder.
fn check_trace_file(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "--trace {}: is a folder; give a file name",
            path.display()
        ));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if !parent.is_dir() => Err(format!(
            "--trace {}: the folder {} does not exist",
            path.display(),
            parent.display()
        )),
        _ => Ok(()),
    }
}

/// `stampede trace`: runs the scenario tracing the requests `pick` needs,
/// and prints the one it names as a waterfall.
fn trace_one(
    path: Option<&Path>,
    variant: Option<&str>,
    seed: Option<u64>,
    pick: Pick,
    (among, from): (u32, SimTime),
) -> Result<ExitCode> {
    let mut scenario = match load(path, variant) {
        Ok(scenario) => scenario,
        Err(error) => return Ok(invalid(error)),
    };
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    if scenario.sources.iter().all(|s| s.job.is_some()) {
        return Ok(invalid(
            "the sources of this scenario submit asynchronous jobs, which `stampede trace` does not follow: trace a scenario whose sources wait for their answers",
        ));
    }
    let (count, only) = match pick {
        Pick::Number(n) => (1, Some(n)),
        Pick::First => (1, None),
        Pick::Slowest | Pick::FirstFailed => (among, None),
    };
    let selection = TraceSelection {
        count,
        every: 1,
        from,
        only,
    };
    let outcome = Simulation::new(&scenario).with_trace(selection).run();
    let log = outcome.trace.as_ref().expect("the run was traced");
    let Some(index) = stampede::report::trace::pick_request(log, pick) else {
        let what = match pick {
            Pick::Number(n) => format!(
                "request {n} after warm-up was not traced: the run has fewer, or it started before --from"
            ),
            Pick::Slowest => format!("none of the first {count} requests looked at finished"),
            Pick::First => "no request started after --from".to_string(),
            Pick::FirstFailed => format!(
                "none of the first {count} requests looked at failed; look further with --among, or later with --from"
            ),
        };
        return Ok(invalid(what));
    };
    out!(
        "{}",
        stampede::report::trace::waterfall(&scenario, log, index)
    );
    // The pick is among the requests traced, not the whole run: say so,
    // or the slowest of 1,000 reads as the run's slowest.
    let looked_at = log.requests.len();
    match pick {
        Pick::Slowest => outln!(
            "the slowest to finish of the first {looked_at} requests after warm-up (look at more with --among)"
        ),
        Pick::FirstFailed => {
            outln!("the first to fail of the first {looked_at} requests after warm-up")
        }
        Pick::Number(_) | Pick::First => {}
    }
    let mut reproduce = reproduce_command(path, variant, scenario.seed).replacen(
        "stampede run",
        "stampede trace",
        1,
    );
    reproduce.push_str(&format!(" --request {}", log.requests[index].number));
    outln!("reproduce: {reproduce}");
    if let Some(reason) = &outcome.stopped {
        eprintln!("error: {reason}");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

/// The study of a `compare` or `sweep`, after the checks that need no
/// simulation; the error is the exit code to return.
/// `compare` and `sweep`: the study their flags describe, run as they ask.
fn batch_study(
    path: &Path,
    batch: BatchArgs,
    spec: impl FnOnce(ScenarioFile, Replications, Option<u64>) -> StudySpec,
) -> Result<ExitCode> {
    let replications = match batch.replications() {
        Ok(replications) => replications,
        Err(message) => return Ok(invalid(message)),
    };
    if let Some(Err(message)) = batch.out.as_deref().map(check_out) {
        return Ok(invalid(message));
    }
    let file = match study::scenario_file(path) {
        Ok(file) => file,
        Err(message) => return Ok(invalid(message)),
    };
    let execution = study::Execution {
        out: batch.out,
        format: batch.format,
        shard: batch.shard,
        max_runs: batch.max_runs.map(|n| n as usize),
    };
    study::run_spec(spec(file, replications, batch.seed), execution)
}

/// ` --variants a,b --replications N`, each only when given, for a reproduce line.
fn batch_flags(names: &[String], replications: Replications) -> String {
    let mut flags = String::new();
    if !names.is_empty() {
        flags.push_str(&format!(" --variants {}", quote(&names.join(","))));
    }
    match replications {
        Replications::Fixed(count) if count > 1 => {
            flags.push_str(&format!(" --replications {count}"))
        }
        Replications::Fixed(_) => {}
        Replications::Auto { precision, max } => {
            flags.push_str(&format!(
                " --replications auto --precision {}%",
                study::percent(precision)
            ));
            if max != DEFAULT_MAX_REPLICATIONS {
                flags.push_str(&format!(" --max-replications {max}"));
            }
        }
    }
    flags
}

/// The parameter and values to sweep: given, or the scenario's `sweep:`.
fn sweep_axis(
    study: &Study,
    given: Option<(String, String)>,
) -> Result<(String, Vec<String>), String> {
    match (given, &study.sweep) {
        (Some((param, values)), _) => parse_values(&values)
            .map(|values| (param, values))
            .map_err(|message| format!("--values: {message}")),
        (None, Some(sweep)) => Ok((sweep.param.clone(), sweep.values.clone())),
        (None, None) => {
            Err("the scenario has no `sweep:` section: give --param and --values".to_string())
        }
    }
}

/// How `check` runs: which variants, how many runs of each, how strictly.
struct CheckOptions {
    variants: Vec<String>,
    replications: u32,
    strict: bool,
    allow_empty: bool,
    seed: Option<u64>,
}

fn check(
    inputs: &[PathBuf],
    options: &CheckOptions,
    format: CheckFormat,
    junit: Option<&Path>,
) -> Result<ExitCode> {
    if let Err(message) = stdin_at_most_once(inputs) {
        return Ok(invalid(message));
    }
    if options.strict && options.replications < 2 {
        return Ok(invalid(
            "--strict judges each threshold's 95% interval, which takes --replications 2 or more (10 is a good start)",
        ));
    }
    if let Some(file) = junit.filter(|f| f.is_dir()) {
        return Ok(invalid(format!(
            "--junit {} is a folder: give the name of the file to write",
            file.display()
        )));
    }
    let mut studies = Vec::new();
    for path in scenario_inputs(inputs)? {
        let study = match load_study_located(&path) {
            Ok(study) => study,
            Err((error, diagnostics)) => {
                invalid_for_pipelines(&label(&path), &diagnostics, format, junit)?;
                return Ok(invalid(error));
            }
        };
        if !study.has_expectations() {
            if options.allow_empty {
                eprintln!("note: {}: no `expect:` thresholds, skipped", label(&path));
                continue;
            }
            return Ok(invalid(format!(
                "{}: no `expect:` thresholds, so there is nothing to check: add some (see `stampede help check`), or pass --allow-empty to skip such files",
                label(&path)
            )));
        }
        if let Err(message) = chosen_variants(&study, &options.variants) {
            return Ok(invalid(format!("{}: {message}", label(&path))));
        }
        studies.push((path, study));
    }
    let mut checks = Vec::new();
    for (path, study) in &studies {
        let checked = check_one(path, study, options);
        // Text and annotations as each scenario is done: a long check is
        // never minutes of silence in a CI log.
        match format {
            CheckFormat::Text => out!("{}", check_output::text_of(&checked)),
            CheckFormat::Github => out!("{}", check_output::github_of(&checked)),
            CheckFormat::Json | CheckFormat::Junit => {}
        }
        checks.push(checked);
    }
    let report = check::CheckReport::new(checks, options.strict);
    match format {
        CheckFormat::Text | CheckFormat::Github => out!("{}", check_output::totals(&report)),
        CheckFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        CheckFormat::Junit => out!("{}", check_output::junit(&report)),
    }
    if let Some(file) = junit {
        write::write_file(file, check_output::junit(&report).as_bytes())?;
    }
    // A run cut short outranks a failed threshold: the check itself did not happen.
    Ok(match (report.stopped, report.failed) {
        (0, 0) => ExitCode::SUCCESS,
        (0, _) => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::from(EXIT_INVALID),
    })
}

/// Reads a study as [`load_study`] does, keeping each mistake's position
/// for the formats pipelines read.
fn load_study_located(path: &Path) -> Result<Study, (String, Vec<scenario::Diagnostic>)> {
    let loaded = match is_stdin(path) {
        false => scenario::load_study(path),
        true => {
            let text = read_stdin().map_err(|e| (e, Vec::new()))?;
            scenario::load_study_str(STDIN_LABEL, &text)
        }
    };
    loaded.map_err(|e| (e.to_string(), e.diagnostics))
}

/// A scenario `check` cannot read still reaches a pipeline: annotations on
/// its lines, and the JUnit report a later step publishes.
fn invalid_for_pipelines(
    file: &str,
    diagnostics: &[scenario::Diagnostic],
    format: CheckFormat,
    junit: Option<&Path>,
) -> Result<()> {
    match format {
        CheckFormat::Github => out!("{}", check_output::github_invalid(file, diagnostics)),
        CheckFormat::Junit => out!("{}", check_output::junit_invalid(file, diagnostics)),
        CheckFormat::Text | CheckFormat::Json => {}
    }
    if let Some(path) = junit {
        let xml = check_output::junit_invalid(file, diagnostics);
        write::write_file(path, xml.as_bytes())?;
    }
    Ok(())
}

/// The variants `check` runs: those asked for, else the base and every variant.
fn chosen_variants<'a>(study: &'a Study, asked: &[String]) -> Result<Vec<&'a Variant>, String> {
    let mut unique: Vec<String> = Vec::new();
    for name in asked {
        if !unique.contains(name) {
            unique.push(name.clone());
        }
    }
    match unique.is_empty() {
        true => Ok(study.variants.iter().collect()),
        false => pick_variants(study, &unique),
    }
}

/// Runs a scenario's chosen variants and judges every threshold.
fn check_one(path: &Path, study: &Study, options: &CheckOptions) -> check::ScenarioCheck {
    let chosen = chosen_variants(study, &options.variants).unwrap_or_default();
    let seed = options.seed.unwrap_or(study.base().seed);
    let runs = chosen.len() as u64 * u64::from(options.replications);
    let bar = progress_bar(runs, "runs");
    let summaries =
        runner::check_variants(&chosen, options.replications, Some(seed), &|| bar.inc(1));
    bar.finish_and_clear();
    let mut stopped = Vec::new();
    let mut judged = Vec::new();
    for (variant, runs) in chosen.iter().zip(&summaries) {
        match runs.iter().find_map(|s| s.stopped_early.as_ref()) {
            Some(reason) => stopped.push(check::StoppedVariant {
                variant: variant.name.clone(),
                reason: reason.clone(),
            }),
            None => judged.push((variant.name.as_str(), runs.as_slice())),
        }
    }
    let runs = check::Runs { variants: judged };
    let (thresholds, skipped) = check::evaluate(study, &runs, options.strict);
    let hashes = chosen.iter().map(|v| provenance::RunHash {
        name: v.name.clone(),
        scenario_sha256: provenance::scenario_sha256(&v.scenario),
    });
    check::ScenarioCheck {
        provenance: provenance::of_batch(seed, hashes.collect()),
        file: label(path),
        scenario: study.base().name.clone(),
        seed,
        replications: options.replications,
        reproduce: check_reproduce(path, options, seed),
        stopped,
        skipped,
        thresholds,
    }
}

/// The command that repeats one scenario's check.
fn check_reproduce(path: &Path, options: &CheckOptions, seed: u64) -> String {
    let mut command = format!("stampede check {} --seed {seed}", command_word(path));
    if !options.variants.is_empty() {
        command.push_str(&format!(
            " --variants {}",
            quote(&options.variants.join(","))
        ));
    }
    if options.replications > 1 {
        command.push_str(&format!(" --replications {}", options.replications));
    }
    if options.strict {
        command.push_str(" --strict");
    }
    command
}

fn diff(
    left: &Path,
    right: &Path,
    tolerances: &[String],
    metrics: &[String],
    fail_on: FailOnArg,
) -> Result<ExitCode> {
    let mut options = match diff_options(tolerances, metrics) {
        Ok(options) => options,
        Err(message) => return Ok(invalid(message)),
    };
    options.every_metric_glob_must_match = !left.is_dir();
    let fail_on = match fail_on {
        FailOnArg::Worse => FailOn::Worse,
        FailOnArg::Any => FailOn::Any,
        FailOnArg::Never => FailOn::Never,
    };
    let outcome = match (left.is_dir(), right.is_dir()) {
        (false, false) => diff_files(left, right, &options).map(|r| r.fails(fail_on)),
        (true, true) => diff_folders(left, right, &options, fail_on),
        _ => Err(format!(
            "{} and {} must both be files or both be folders",
            left.display(),
            right.display()
        )),
    };
    Ok(match outcome {
        Ok(true) => ExitCode::from(EXIT_FAILED),
        Ok(false) => ExitCode::SUCCESS,
        Err(message) => invalid(message),
    })
}

/// `--tolerance` and `--metric`, read.
fn diff_options(tolerances: &[String], metrics: &[String]) -> Result<diff::Options, String> {
    let tolerances =
        diff::Tolerances::parse(tolerances).map_err(|message| format!("--tolerance: {message}"))?;
    let metrics = metrics
        .iter()
        .map(|glob| diff::MetricGlob::new(glob).map_err(|message| format!("--metric: {message}")))
        .collect::<Result<_, _>>()?;
    Ok(diff::Options {
        tolerances,
        metrics,
        every_metric_glob_must_match: true,
    })
}

/// Two JSON reports compared and printed.
fn diff_files(left: &Path, right: &Path, options: &diff::Options) -> Result<Report, String> {
    let read = |path: &Path| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a JSON report: {e}", path.display()))
    };
    let (a, b) = (read(left)?, read(right)?);
    let (left_label, right_label) = (left.display().to_string(), right.display().to_string());
    let report = diff::cause::compare(
        Labeled {
            label: &left_label,
            document: &a,
        },
        Labeled {
            label: &right_label,
            document: &b,
        },
        options,
    )?;
    out!("{}", diff::cause::render(&report));
    Ok(report)
}

/// Two folders of reports, each JSON report paired with the one at the
/// same path under the other folder (`retry-chain/summary.json`); the
/// reports on one side only are named. Whether one comparison fails.
fn diff_folders(
    left: &Path,
    right: &Path,
    options: &diff::Options,
    fail_on: FailOn,
) -> Result<bool, String> {
    let (a, b) = (json_reports(left)?, json_reports(right)?);
    let mut failed = false;
    let mut compared = 0;
    let mut unmatched: Option<Vec<String>> = None;
    for (name, left_path) in &a {
        let Some(right_path) = b.get(name) else {
            continue;
        };
        outln!("== {name} ==");
        let report = diff_files(left_path, right_path, options)?;
        failed |= report.fails(fail_on);
        let here = report.unmatched_metrics;
        unmatched = Some(match unmatched {
            None => here,
            Some(before) => before.into_iter().filter(|g| here.contains(g)).collect(),
        });
        compared += 1;
        outln!("");
    }
    let only = |side: &std::collections::BTreeMap<String, PathBuf>,
                other: &std::collections::BTreeMap<String, PathBuf>| {
        side.keys()
            .filter(|name| !other.contains_key(*name))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (only_left, only_right) = (only(&a, &b), only(&b, &a));
    for (folder, names) in [(left, &only_left), (right, &only_right)] {
        for name in names {
            outln!("only in {}: {name}", folder.display());
        }
    }
    outln!(
        "{compared} report{} compared, {} on one side only",
        if compared == 1 { "" } else { "s" },
        only_left.len() + only_right.len()
    );
    if let Some(globs) = unmatched.filter(|g| !g.is_empty()) {
        return Err(diff::cause::unmatched_message(&globs));
    }
    let one_sided = !only_left.is_empty() || !only_right.is_empty();
    Ok(failed || (one_sided && fail_on == FailOn::Any))
}

/// The JSON reports under `folder`, by their path inside it (`/`-separated).
fn json_reports(folder: &Path) -> Result<std::collections::BTreeMap<String, PathBuf>, String> {
    let mut found = std::collections::BTreeMap::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for path in entries.filter_map(|entry| entry.ok().map(|e| e.path())) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let inside = path.strip_prefix(folder).unwrap_or(&path);
                let name: Vec<String> = inside
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.insert(name.join("/"), path);
            }
        }
    }
    Ok(found)
}

/// One report folder per scenario: `OUT/<file stem>/`, or
/// `OUT/<folder>-<file stem>/` for files of the same name in different
/// folders. Every scenario is read, and every folder name settled, before
/// anything runs.
fn report(inputs: &[PathBuf], out: &Path, spread: SpreadArgs) -> Result<ExitCode> {
    if inputs.iter().any(|p| is_stdin(p)) {
        return Ok(invalid(
            "`report` reads scenario files, not standard input (`-`): a report folder is named after its file",
        ));
    }
    if let Err(message) = check_out(out) {
        return Ok(invalid(message));
    }
    let paths = scenario_inputs(inputs)?;
    let folders = match folder_names(&paths) {
        Ok(folders) => folders,
        Err(message) => return Ok(invalid(message)),
    };
    let mut files = Vec::new();
    for (path, folder) in paths.iter().zip(&folders) {
        if let Err(message) = check_out(&out.join(folder)) {
            return Ok(invalid(message));
        }
        // Each file is validated before anything runs.
        if let Err(error) = scenario::load_study(path) {
            return Ok(invalid(error));
        }
        match study::scenario_file(path) {
            Ok(file) => files.push((file, folder.clone())),
            Err(message) => return Ok(invalid(message)),
        }
    }
    let execution = study::Execution {
        out: Some(out.to_path_buf()),
        format: Format::Text,
        shard: spread.shard,
        max_runs: spread.max_runs.map(|n| n as usize),
    };
    study::run_spec(StudySpec::Report { files }, execution)
}

/// The scenario files named, a directory standing for its `.yaml` and
/// `.yml` files; a file named twice (by itself and through its directory,
/// say) is reported once.
fn scenario_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            if found.is_empty() {
                anyhow::bail!(
                    "{}: a folder with no scenario files (`.yaml` or `.yml`) in it",
                    input.display()
                );
            }
            paths.extend(found);
        } else {
            paths.push(input.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut noted = std::collections::BTreeSet::new();
    let mut unique = Vec::new();
    for path in paths {
        let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(identity.clone()) {
            unique.push(path);
        } else if noted.insert(identity) {
            // Once per file, however often it is named: a long list of
            // notes could fill a pipe nobody reads until the output ends.
            eprintln!(
                "note: {} is named more than once; it is read once",
                path.display()
            );
        }
    }
    Ok(unique)
}

/// Each scenario's folder under OUT: its file stem, with as many of its
/// parent folders' names in front (`d1-x`, `d2-x`) as it takes to tell
/// apart files of the same name, so none overwrites another.
fn folder_names(paths: &[PathBuf]) -> Result<Vec<String>, String> {
    let full: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut depth = vec![0; paths.len()];
    loop {
        let names: Vec<String> = full
            .iter()
            .zip(&depth)
            .map(|(path, &depth)| folder_name(path, depth))
            .collect();
        let clashing: Vec<usize> = (0..names.len())
            .filter(|&i| names.iter().filter(|n| **n == names[i]).count() > 1)
            .collect();
        let Some(&first) = clashing.first() else {
            return Ok(names);
        };
        let mut lengthened = false;
        for &i in &clashing {
            if depth[i] < parent_names(&full[i]).len() {
                depth[i] += 1;
                lengthened = true;
            }
        }
        if !lengthened {
            let other = clashing.iter().find(|&&i| names[i] == names[first]);
            let other = paths[*other.unwrap_or(&first)].display();
            return Err(format!(
                "{} and {other} would both be reported in the folder `{}`: rename one, or report them with different --out",
                paths[first].display(),
                names[first]
            ));
        }
    }
}

/// The file stem of `path`, after the names of its last `depth` parent folders.
fn folder_name(path: &Path, depth: usize) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    let parents = parent_names(path);
    let mut words: Vec<String> = parents[parents.len() - depth..].to_vec();
    words.push(stem);
    words.join("-")
}

/// The names of the folders `path` is in, outermost first.
fn parent_names(path: &Path) -> Vec<String> {
    path.parent()
        .map(|parent| {
            parent
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A progress bar on stderr when it is a terminal; hidden otherwise, so
/// pipes, files and CI logs get nothing.
fn progress_bar(length: u64, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    let template =
        format!("{{bar:40}} {{pos}}/{{len}} {unit} · {{elapsed}} elapsed, ~{{eta}} left");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// "a,b,c" or "FROM..TO:STEP".
fn parse_values(text: &str) -> Result<Vec<String>, String> {
    if text.contains("..") {
        return scenario::study::expand_range(text);
    }
    let values: Vec<String> = text
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        Err("no values given".to_string())
    } else {
        Ok(values)
    }
}

/// Prints an invalid-input message and gives exit code 2.
fn invalid(message: impl std::fmt::Display) -> ExitCode {
    let text = message.to_string();
    if text.starts_with("error:") {
        eprintln!("{text}")
    } else {
        eprintln!("error: {text}")
    }
    ExitCode::from(EXIT_INVALID)
}

/// The named variants in the order given, or all of them (base first).
fn pick_variants<'a>(study: &'a Study, names: &[String]) -> Result<Vec<&'a Variant>, String> {
    if names.is_empty() {
        if study.variants.len() == 1 {
            return Err(
                "the scenario declares no `variants:`; add some, or name them with --variants"
                    .to_string(),
            );
        }
        // The declared variants; `base` only when asked for by name.
        return Ok(study.variants.iter().skip(1).collect());
    }
    names
        .iter()
        .map(|name| {
            study.variant(name).ok_or_else(|| {
                let known = study.names();
                let hint = suggest::did_you_mean(name, known.iter().copied())
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                format!(
                    "no variant is named `{name}`{hint}; the scenario has: {}",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// The command that repeats a run, each word quoted for the shell.
fn reproduce_command(path: Option<&Path>, variant: Option<&str>, seed: u64) -> String {
    let mut command = "stampede run".to_string();
    if let Some(path) = path {
        command.push_str(&format!(" {}", command_word(path)));
    }
    if let Some(variant) = variant {
        command.push_str(&format!(" --variant {}", quote(variant)));
    }
    command.push_str(&format!(" --seed {seed}"));
    command
}

/// Says on stderr, before anything runs, when a scenario's worst case is
/// more than about a minute of work, with the estimate behind it.
fn warn_if_costly(name: &str, scenario: &Scenario) {
    let cost = scenario::cost::estimate(scenario);
    if let Some(warning) = cost.warning(scenario.limits.max_events) {
        eprintln!("warning: {name}: {warning}");
    }
}

fn validate(inputs: &[PathBuf]) -> ExitCode {
    if let Err(message) = stdin_at_most_once(inputs) {
        return invalid(message);
    }
    let paths = match scenario_inputs(inputs) {
        Ok(paths) => paths,
        Err(error) => return invalid(error),
    };
    let mut all_valid = true;
    for path in &paths {
        match load_study(path) {
            Ok(study) => {
                outln!("{}: ok ({})", label(path), study.base().name);
                warn_if_costly(&label(path), study.base());
            }
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
