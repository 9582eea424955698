//! `compare`, `sweep` and `report` as studies, and `merge`.
//!
//! Each command builds its study's plan from a [`StudySpec`] (the scenario
//! text and the options that decide the runs), gets the runs, and assembles
//! and writes the result. The runs come from one of three places: this
//! machine, this machine as one shard of many (`--shard I/N`: it writes a
//! part and stops), or the parts of every shard (`merge`). With `--out`,
//! every finished run is also appended to a journal in the output folder,
//! so a study that is interrupted (Ctrl-C, a cluster's time limit,
//! `--max-runs`) picks up where it stopped when run again. A run read back
//! is bit for bit the run that was written, so a resumed or merged study is
//! byte for byte the study run in one go.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use stampede::report::timeseries::TimeSeries;
use stampede::report::{compare, files, sweep};
use stampede::runner::parts::{self, PartHeader, RunRecord, ScenarioFile, StudySpec};
use stampede::runner::{self, Plan, Replications, ReportLayout, Results, Shard, SweepPlan};
use stampede::scenario::{self, Study, Variant};

use super::write::{self, write_files};
use super::{
    Format, check_out, command_word, invalid, is_stdin, label, pick_variants, progress_bar,
    read_stdin, stopped_exit, sweep_axis,
};
use stampede::report::shell::quote;

/// How the runs of a study are done: where its output goes, which shard
/// this process is, and how many runs it may do before stopping.
pub struct Execution {
    pub out: Option<PathBuf>,
    pub format: Format,
    pub shard: Option<Shard>,
    pub max_runs: Option<usize>,
}

/// A study ready to run and to assemble.
enum Prepared {
    Compare {
        study: Study,
        path: PathBuf,
        asked: Vec<String>,
        chosen: Vec<String>,
        replications: Replications,
        plan: Plan,
    },
    Sweep {
        study: Study,
        path: PathBuf,
        asked: Vec<String>,
        values: Vec<String>,
        replications: Replications,
        sweep: SweepPlan,
    },
    Report {
        files: Vec<(PathBuf, String, Study)>,
        plan: Plan,
        layouts: Vec<ReportLayout>,
    },
}

impl Prepared {
    fn plan(&self) -> &Plan {
        match self {
            Prepared::Compare { plan, .. } | Prepared::Report { plan, .. } => plan,
            Prepared::Sweep { sweep, .. } => &sweep.plan,
        }
    }
}

/// The scenario at `path` (or standard input) as text, for a study's spec.
pub fn scenario_file(path: &Path) -> Result<ScenarioFile, String> {
    let text = if is_stdin(path) {
        read_stdin()?
    } else {
        let bytes =
            scenario::read_regular_file(path).map_err(|e| format!("{}: {e}", label(path)))?;
        String::from_utf8(bytes).map_err(|_| {
            // The loader locates the bad byte; let it say so.
            scenario::load_study(path).err().map_or_else(
                || format!("{}: not UTF-8 text", label(path)),
                |e| e.to_string(),
            )
        })?
    };
    Ok(ScenarioFile {
        path: path.to_string_lossy().into_owned(),
        text,
    })
}

/// The study a scenario file holds, read from its text.
fn study_of(file: &ScenarioFile) -> Result<Study, String> {
    let path = PathBuf::from(&file.path);
    scenario::load_study_str(&label(&path), &file.text).map_err(|e| e.to_string())
}

/// Builds the plan `spec` describes; `full_first` keeps each compared
/// variant's first run whole, for its report folder under `--out`.
fn prepare(spec: &StudySpec, full_first: bool) -> Result<Prepared, String> {
    match spec {
        StudySpec::Compare {
            scenario,
            variants,
            replications,
            seed,
        } => {
            let study = study_of(scenario)?;
            let chosen = pick_variants(&study, variants)?;
            let plan = runner::compare_plan(&chosen, *replications, *seed, full_first);
            let chosen = chosen.iter().map(|v| v.name.clone()).collect();
            Ok(Prepared::Compare {
                path: PathBuf::from(&scenario.path),
                asked: variants.clone(),
                chosen,
                replications: *replications,
                plan,
                study,
            })
        }
        StudySpec::Sweep {
            scenario,
            param,
            values,
            variants,
            replications,
            seed,
        } => {
            let study = study_of(scenario)?;
            let (param, values) = sweep_axis(&study, param.clone().zip(values.clone()))?;
            let chosen = if variants.is_empty() {
                runner::default_sweep_variants(&study)
            } else {
                pick_variants(&study, variants)?
            };
            let sweep = runner::sweep_plan(&study, &param, &values, &chosen, *replications, *seed)
                .map_err(|e| e.to_string())?;
            Ok(Prepared::Sweep {
                path: PathBuf::from(&scenario.path),
                asked: variants.clone(),
                values,
                replications: *replications,
                sweep,
                study,
            })
        }
        StudySpec::Report { files } => {
            let mut loaded = Vec::new();
            for (file, folder) in files {
                let path = PathBuf::from(&file.path);
                let study = study_of(file)?;
                // Planned alone first, so an error names its file.
                runner::report_plan(&[&study]).map_err(|e| format!("{}: {e}", label(&path)))?;
                loaded.push((path, folder.clone(), study));
            }
            let studies: Vec<&Study> = loaded.iter().map(|(_, _, study)| study).collect();
            let (plan, layouts) = runner::report_plan(&studies)?;
            Ok(Prepared::Report {
                files: loaded,
                plan,
                layouts,
            })
        }
    }
}

/// Runs the study `spec` describes as `execution` asks, then prints and
/// writes its result (unless this is one shard of many).
pub fn run_spec(spec: StudySpec, execution: Execution) -> Result<ExitCode> {
    if let Some(message) = flags_problem(&spec, &execution) {
        return Ok(invalid(message));
    }
    let prepared = match prepare(&spec, execution.out.is_some()) {
        Ok(prepared) => prepared,
        Err(message) => return Ok(invalid(message)),
    };
    if let Some(message) = folders_problem(&prepared, execution.out.as_deref()) {
        return Ok(invalid(message));
    }
    let Some(out) = execution.out.clone() else {
        let plan = prepared.plan();
        let bar = progress_bar(runner::runs_in(plan, None) as u64, "runs");
        let mut results = Results::new(plan);
        runner::run_study(plan, None, &mut results, None, &|_, _| bar.inc(1));
        bar.finish_and_clear();
        return finish(prepared, results, execution.format, None);
    };
    let journal = Journal::new(&out, execution.shard, &spec, prepared.plan());
    match keep_runs(&journal, prepared.plan(), &execution)? {
        Kept::All(results) => {
            let code = finish(prepared, results, execution.format, Some(&out))?;
            journal.remove();
            Ok(code)
        }
        Kept::Part(code) => Ok(code),
    }
}

/// What the flags cannot mean together, said before anything runs.
fn flags_problem(spec: &StudySpec, execution: &Execution) -> Option<String> {
    let command = spec.command();
    if execution.out.is_none() {
        if let Some(shard) = execution.shard {
            return Some(format!(
                "--shard {shard} needs --out DIR: a shard writes its part of the study there, for `stampede merge`"
            ));
        }
        if execution.max_runs.is_some() {
            return Some(format!(
                "--max-runs needs --out DIR: the runs done are kept there, and `stampede {command}` run again continues from them"
            ));
        }
    }
    if let Some(dir) = &execution.out
        && let Err(message) = check_out(dir)
    {
        return Some(message);
    }
    None
}

/// A compared variant's folder under `--out` must stay inside it.
fn folders_problem(prepared: &Prepared, out: Option<&Path>) -> Option<String> {
    let Prepared::Compare { chosen, .. } = prepared else {
        return None;
    };
    let escaping = chosen.iter().find(|name| !write::stays_inside(name));
    match (out, escaping) {
        (Some(_), Some(name)) => Some(format!(
            "the variant `{name}` cannot name a folder under --out: rename it"
        )),
        _ => None,
    }
}

/// The file a study keeps its finished runs in under `--out`: a shard's
/// part (`part-I-of-N.jsonl`, with `.incomplete` added until it is whole),
/// or for a study run in one go a hidden journal, removed once the outputs
/// are written.
struct Journal {
    /// Where the runs are appended while the study runs.
    working: PathBuf,
    /// A shard's finished part, renamed from `working`.
    part: Option<PathBuf>,
    header: PartHeader,
}

impl Journal {
    fn new(out: &Path, shard: Option<Shard>, spec: &StudySpec, plan: &Plan) -> Journal {
        let header = PartHeader::new(
            spec.clone(),
            plan.identity(),
            plan.len(),
            shard.unwrap_or(Shard { index: 1, count: 1 }),
        );
        match shard {
            Some(shard) => {
                let part = out.join(part_name(shard));
                Journal {
                    working: incomplete(&part),
                    part: Some(part),
                    header,
                }
            }
            None => Journal {
                working: out.join(".stampede-study.jsonl"),
                part: None,
                header,
            },
        }
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.working);
    }
}

/// `part-3-of-7.jsonl`.
pub fn part_name(shard: Shard) -> String {
    format!("part-{}-of-{}.jsonl", shard.index, shard.count)
}

fn incomplete(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".incomplete");
    PathBuf::from(name)
}

/// What [`keep_runs`] ends with: every run of the study, or (a shard, or a
/// study stopped by `--max-runs`) the exit code to end with.
enum Kept {
    All(Results),
    Part(ExitCode),
}

/// Gets the study's runs, appending each to the journal and starting from
/// those a previous attempt kept there.
fn keep_runs(journal: &Journal, plan: &Plan, execution: &Execution) -> Result<Kept> {
    let mut results = Results::new(plan);
    if let Some(part) = &journal.part
        && part.exists()
    {
        let read = read_part(part)?;
        if read.header == journal.header {
            eprintln!(
                "shard {} is already done: {} (delete it to run the shard again)",
                journal.header.shard,
                part.display()
            );
            return Ok(Kept::Part(ExitCode::SUCCESS));
        }
    }
    let file = open_journal(journal, &mut results)?;
    let file = std::sync::Mutex::new(file);
    let shard = execution.shard;
    let total = runner::runs_in(plan, shard);
    let bar = progress_bar(total as u64, "runs");
    bar.set_position(results.count().min(total) as u64);
    let failure: std::sync::Mutex<Option<anyhow::Error>> = std::sync::Mutex::new(None);
    let complete = runner::run_study(
        plan,
        shard,
        &mut results,
        execution.max_runs,
        &|index, run| {
            let line = RunRecord::line(index, run);
            let mut file = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Err(error) = write::append_line(&mut file, &line) {
                failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert(
                        error.context(format!("cannot write {}", journal.working.display())),
                    );
            }
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    if let Some(error) = failure
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(error);
    }
    let file = file
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !complete {
        eprintln!(
            "stopped after {} runs, as --max-runs asked: {} of {total} runs are kept in {}; run the same command again to go on",
            execution.max_runs.unwrap_or(0),
            results.count(),
            journal.working.display()
        );
        return Ok(Kept::Part(ExitCode::from(super::EXIT_INVALID)));
    }
    let Some(part) = &journal.part else {
        return Ok(Kept::All(results));
    };
    write::finish_file(file, &journal.working, part)?;
    let out = part.parent().unwrap_or(Path::new("."));
    eprintln!(
        "shard {}: {total} of {} runs · wrote {}\nwhen every shard is done: stampede merge {} --out DIR",
        journal.header.shard,
        plan.len(),
        part.display(),
        quote(&out.to_string_lossy())
    );
    Ok(Kept::Part(ExitCode::SUCCESS))
}

/// Opens the journal for appending, first reading into `results` the runs a
/// previous attempt of the same study kept; one of another study is
/// started over.
fn open_journal(journal: &Journal, results: &mut Results) -> Result<std::fs::File> {
    let path = &journal.working;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut kept_bytes = 0;
    if path.exists() {
        match read_journal(path, &journal.header, results) {
            Ok((bytes, runs)) if runs > 0 => {
                eprintln!(
                    "resuming: {runs} runs already done are read from {}",
                    path.display()
                );
                kept_bytes = bytes;
            }
            Ok((bytes, _)) => kept_bytes = bytes,
            Err(reason) => eprintln!(
                "warning: starting the study over: {} {reason}",
                path.display()
            ),
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // A line cut short by a kill is dropped, and another study's runs with it.
    file.set_len(kept_bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if kept_bytes == 0 {
        write::append_line(&mut file, &parts::header_line(&journal.header))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(file)
}

/// Reads a journal of the study `header` describes into `results`: the
/// bytes that hold whole, readable lines, and how many runs they gave.
fn read_journal(
    path: &Path,
    header: &PartHeader,
    results: &mut Results,
) -> Result<(u64, usize), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    let mut bytes = reader
        .read_line(&mut line)
        .map_err(|e| format!("cannot be read: {e}"))? as u64;
    if !line.ends_with('\n') {
        return Ok((0, 0));
    }
    let found = parts::parse_header(line.trim_end()).map_err(|e| format!("is {e}"))?;
    if found != *header {
        return Err(
            "holds runs of another study (the scenario, the options or stampede changed)"
                .to_string(),
        );
    }
    let mut runs = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).unwrap_or(0);
        if read == 0 || !line.ends_with('\n') {
            break;
        }
        let Ok(record) = serde_json::from_str::<RunRecord>(line.trim_end()) else {
            break;
        };
        let (index, run) = record.into_run();
        if !header.shard.owns(index) || !results.insert(index, run) {
            break;
        }
        bytes += read as u64;
        runs += 1;
    }
    Ok((bytes, runs))
}

/// A whole part: its header and its runs.
struct ReadPart {
    header: PartHeader,
    runs: Vec<(usize, stampede::runner::Run)>,
}

/// Reads the part at `path`, refusing a damaged one.
fn read_part(path: &Path) -> Result<ReadPart> {
    let name = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines
        .next()
        .transpose()
        .with_context(|| format!("cannot read {name}"))?
        .unwrap_or_default();
    let header = parts::parse_header(&first).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut runs = Vec::new();
    for (number, line) in lines.enumerate() {
        let line = line.with_context(|| format!("cannot read {name}"))?;
        let record: RunRecord = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{name}:{}: a damaged run: {e}", number + 2))?;
        runs.push(record.into_run());
    }
    Ok(ReadPart { header, runs })
}

/// The parts `inputs` name: files, and in each folder its `part-*.jsonl`
/// files; with any shard left `.incomplete` in those folders.
fn part_files(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut found = Vec::new();
    let mut unfinished = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            found.push(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input)
            .with_context(|| format!("cannot read the folder {}", input.display()))?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        names.sort();
        for path in names {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if !name.starts_with("part-") {
                continue;
            }
            if name.ends_with(".jsonl") {
                found.push(path);
            } else if name.ends_with(".jsonl.incomplete") {
                unfinished.push(path);
            }
        }
    }
    Ok((found, unfinished))
}

/// `stampede merge PARTS... --out DIR`: the study the parts are shards of,
/// written as running it on one machine would have.
pub fn merge(inputs: &[PathBuf], out: &Path, format: Format) -> Result<ExitCode> {
    if let Err(message) = check_out(out) {
        return Ok(invalid(message));
    }
    let (files, unfinished) = part_files(inputs)?;
    if files.is_empty() {
        return Ok(invalid(format!(
            "no parts (part-I-of-N.jsonl) found in {}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut read = Vec::new();
    for file in &files {
        match read_part(file) {
            Ok(part) => read.push((file.display().to_string(), part)),
            Err(error) => return Ok(invalid(format!("{error:#}"))),
        }
    }
    let headers: Vec<(String, PartHeader)> = read
        .iter()
        .map(|(name, part)| (name.clone(), part.header.clone()))
        .collect();
    if let Err(message) = parts::check_complete(&headers) {
        let hint = match unfinished.first() {
            Some(path) => format!(
                " ({} did not finish: run its shard again, it resumes)",
                path.display()
            ),
            None => String::new(),
        };
        return Ok(invalid(format!("{message}{hint}")));
    }
    let first = &headers[0].1;
    let prepared = match prepare(&first.study, true) {
        Ok(prepared) => prepared,
        Err(message) => return Ok(invalid(message)),
    };
    let plan = prepared.plan();
    if plan.identity() != first.study_sha256 || plan.len() != first.runs_total {
        return Ok(invalid(
            "the parts do not match the study this stampede plans from them: merge with the version that ran the shards",
        ));
    }
    let mut results = Results::new(plan);
    for (name, part) in read {
        let shard = part.header.shard;
        for (index, run) in part.runs {
            if !shard.owns(index) || !results.insert(index, run) {
                return Ok(invalid(format!(
                    "{name}: run {index} does not belong to shard {shard}: the part is damaged"
                )));
            }
        }
    }
    if results.count() != plan.len() {
        return Ok(invalid(format!(
            "the parts hold {} of the study's {} runs: one was cut short (run its shard again)",
            results.count(),
            plan.len()
        )));
    }
    finish(prepared, results, format, Some(out))
}

/// Assembles the study from complete results, prints it and writes it
/// under `out`.
fn finish(
    prepared: Prepared,
    mut results: Results,
    format: Format,
    out: Option<&Path>,
) -> Result<ExitCode> {
    match prepared {
        Prepared::Compare {
            study,
            path,
            asked,
            chosen,
            replications,
            plan,
        } => {
            say_replications(&plan, &results);
            let (comparison, firsts) =
                runner::assemble_compare(&chosen, 0..chosen.len(), &plan, &mut results);
            let mut reproduce = format!(
                "stampede compare {} --seed {}",
                command_word(&path),
                comparison.seed
            );
            reproduce.push_str(&super::batch_flags(&asked, replications));
            match format {
                Format::Text => out!("{}", compare::render(&comparison, &reproduce)),
                Format::Json => {
                    outln!("{}", serde_json::to_string_pretty(&comparison)?);
                    eprintln!("seed {} · reproduce: {reproduce}", comparison.seed);
                }
            }
            if let Some(dir) = out {
                let variants: Vec<&Variant> = chosen
                    .iter()
                    .filter_map(|name| study.variant(name))
                    .collect();
                write_compare(
                    dir,
                    &study,
                    &path,
                    &comparison,
                    &variants,
                    &firsts,
                    &reproduce,
                )?;
            }
            let stopped: Vec<String> = comparison.stopped.iter().map(|s| s.describe()).collect();
            Ok(stopped_exit(&stopped).unwrap_or(ExitCode::SUCCESS))
        }
        Prepared::Sweep {
            study,
            path,
            asked,
            values,
            replications,
            sweep,
        } => {
            say_replications(&sweep.plan, &results);
            let result = runner::assemble_sweep(&sweep, &results);
            let reproduce = format!(
                "stampede sweep {} --param {} --values {} --seed {}{}",
                command_word(&path),
                quote(&sweep.param),
                quote(&values.join(",")),
                result.seed,
                super::batch_flags(&asked, replications)
            );
            match format {
                Format::Text => out!("{}", sweep::render(&result, &reproduce)),
                Format::Json => {
                    outln!("{}", serde_json::to_string_pretty(&result)?);
                    eprintln!("seed {} · reproduce: {reproduce}", result.seed);
                }
            }
            if let Some(dir) = out {
                match files::sweep_files(study.base(), &result, &reproduce) {
                    Ok(files) => write_files(dir, &files)?,
                    Err(error) => eprintln!("warning: charts were not drawn: {error}"),
                }
            }
            let stopped: Vec<String> = result.stopped.iter().map(|s| s.describe()).collect();
            Ok(stopped_exit(&stopped).unwrap_or(ExitCode::SUCCESS))
        }
        Prepared::Report {
            files,
            plan,
            layouts,
        } => {
            let out = out.expect("a report is always written");
            let mut stopped = Vec::new();
            for ((path, folder, study), layout) in files.iter().zip(&layouts) {
                let label = label(path);
                match runner::assemble_report(
                    study,
                    &command_word(path),
                    layout,
                    &plan,
                    &mut results,
                ) {
                    Ok(report) => {
                        write_files(&out.join(folder), &report.files)?;
                        stopped.extend(report.stopped.iter().map(|s| format!("{label}: {s}")));
                    }
                    Err(error) => return Ok(invalid(format!("{label}: {error}"))),
                }
            }
            Ok(stopped_exit(&stopped).unwrap_or(ExitCode::SUCCESS))
        }
    }
}

/// With `--replications auto`, says on stderr how many replications were
/// needed, or that the maximum was reached first.
fn say_replications(plan: &Plan, results: &Results) {
    let Replications::Auto { precision, max } = plan.replications else {
        return;
    };
    let used = plan.replications_used(results).unwrap_or(0);
    let percent = percent(precision);
    let precise = (0..plan.groups.len()).all(|group| {
        let summaries = plan.summaries(results, group);
        let runs: Vec<&_> = summaries.iter().collect();
        runner::precise(&runs, precision)
    });
    if precise {
        eprintln!(
            "replications: {used} per run were enough for goodput and each source's p99 latency to be known within ±{percent}% (95% interval)"
        );
    } else {
        eprintln!(
            "warning: replications: the maximum of {max} was reached before every 95% interval was within ±{percent}%: the intervals in the table say how precise each number is"
        );
    }
}

/// A fraction as a percentage without float noise: 0.07 is `7`, not `7.000000000000001`.
pub fn percent(fraction: f64) -> f64 {
    (fraction * 1e8).round() / 1e6
}

/// compare.json, compare.txt and the charts under `dir`, and a report
/// folder per variant.
fn write_compare(
    dir: &Path,
    study: &Study,
    path: &Path,
    comparison: &compare::Comparison,
    variants: &[&Variant],
    firsts: &[stampede::runner::Run],
    reproduce: &str,
) -> Result<()> {
    let named: Vec<(&str, &TimeSeries)> = variants
        .iter()
        .map(|v| v.name.as_str())
        .zip(firsts.iter().map(|r| &r.outcome.timeseries))
        .collect();
    match files::compare_files(study.base(), comparison, &named, reproduce) {
        Ok(files) => write_files(dir, &files)?,
        Err(error) => eprintln!("warning: charts were not drawn: {error}"),
    }
    let word = command_word(path);
    let variant_command = |variant: &Variant, seed: u64| {
        format!(
            "stampede run {word} --variant {} --seed {seed}",
            quote(&variant.name)
        )
    };
    let (folders, chart_errors) = runner::variant_folders(variants, firsts, &variant_command);
    for error in chart_errors {
        eprintln!("warning: {error}");
    }
    write_files(dir, &folders)
}

/// Reads `--shard I/N` or `--shard auto/N`, the index then from the
/// scheduler's environment: a Slurm array task, a Kubernetes Indexed Job's
/// completion index, or GNU parallel's job sequence number.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not I/N (shard I of N, e.g. 3/8) or auto/N"))?;
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|&n| (1..=100_000).contains(&n))
        .ok_or_else(|| format!("`{count}` is not a number of shards (1 to 100000)"))?;
    let index = match index.trim() {
        "auto" => index_from_environment(&|name| std::env::var(name).ok())?,
        number => number
            .parse::<u32>()
            .map_err(|_| format!("`{number}` is not a shard number"))?,
    };
    if index == 0 || index > count {
        return Err(format!(
            "shard {index} of {count}: shards are numbered 1 to {count}"
        ));
    }
    Ok(Shard { index, count })
}

/// The shard number (from 1) a scheduler gives this task.
pub fn index_from_environment(var: &dyn Fn(&str) -> Option<String>) -> Result<u32, String> {
    let number = |name: &str| -> Result<Option<i64>, String> {
        match var(name) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}={text} is not a number")),
        }
    };
    // A Slurm array may start anywhere (--array=0-7 or 1-8): count from its first task.
    if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
        let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        return u32::try_from(task - first + 1)
            .map_err(|_| "SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN".to_string());
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        return u32::try_from(index + 1)
            .map_err(|_| "JOB_COMPLETION_INDEX is negative".to_string());
    }
    if let Some(sequence) = number("PARALLEL_SEQ")? {
        return u32::try_from(sequence).map_err(|_| "PARALLEL_SEQ is negative".to_string());
    }
    Err("--shard auto/N reads the shard from SLURM_ARRAY_TASK_ID (a Slurm job array), JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or PARALLEL_SEQ (GNU parallel), and none is set: give --shard I/N".to_string())
}
