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
    let shard = execution.shard;
    let total = runner::runs_in(plan, shard);
    if let Some(shard) = shard
        && total == 0
    {
        eprintln!(
            "warning: the study has {} runs, so shard {shard} has none: use at most {} shards",
            plan.len(),
            plan.len()
        );
    }
    if let Some(code) = reuse_finished_part(journal, total)? {
        return Ok(Kept::Part(code));
    }
    let mut results = Results::new(plan);
    let file = match open_journal(journal, &mut results)? {
        Ok(file) => file,
        Err(message) => return Ok(Kept::Part(invalid(message))),
    };
    let already = results.count().min(total);
    write::note_journal(&journal.working, already);
    let file = std::sync::Mutex::new(file);
    let bar = progress_bar((total - already) as u64, "runs");
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
            match write::append_line(&mut file, &line) {
                Ok(()) => write::note_kept_run(),
                Err(error) => {
                    failure
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get_or_insert(
                            error.context(format!("cannot write {}", journal.working.display())),
                        );
                }
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
        let ran = execution.max_runs.unwrap_or(0);
        eprintln!(
            "stopped after {ran} run{}, as --max-runs asked: {} of {total} runs are kept in {}; run the same command again to go on",
            if ran == 1 { "" } else { "s" },
            results.count(),
            journal.working.display()
        );
        return Ok(Kept::Part(ExitCode::from(super::EXIT_INVALID)));
    }
    let Some(part) = &journal.part else {
        return Ok(Kept::All(results));
    };
    write::finish_part(
        file,
        &journal.working,
        part,
        &part_text(&journal.header, &results),
    )?;
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

/// A finished part: its header, then its runs in the order of the study,
/// so the same shard gives the same bytes however its runs were timed.
fn part_text(header: &PartHeader, results: &Results) -> Vec<u8> {
    let mut text = parts::header_line(header);
    text.push('\n');
    for &index in &header.runs {
        let run = results
            .get(index)
            .expect("a finished shard holds all its runs");
        text.push_str(&RunRecord::line(index, run));
        text.push('\n');
    }
    text.into_bytes()
}

/// A shard whose part is already there: done if it holds all `total` of
/// its runs; else it goes back to being the journal, to be resumed. A part
/// of another study is never overwritten.
fn reuse_finished_part(journal: &Journal, total: usize) -> Result<Option<ExitCode>> {
    let Some(part) = &journal.part else {
        return Ok(None);
    };
    if !part.exists() {
        return Ok(None);
    }
    if let Ok(read) = read_part(part) {
        if read.header != journal.header {
            return Ok(Some(invalid(format!(
                "{} is shard {} of another study ({}): give another --out, or delete it to run this one",
                part.display(),
                read.header.shard,
                parts::difference(&read.header, &journal.header)
            ))));
        }
        let mut indices: Vec<usize> = read.runs.iter().map(|(index, _)| *index).collect();
        indices.sort_unstable();
        indices.dedup();
        if indices.len() == total {
            eprintln!(
                "shard {} is already done: {} holds its {total} runs (delete it to run the shard again)",
                journal.header.shard,
                part.display()
            );
            return Ok(Some(ExitCode::SUCCESS));
        }
    }
    // Short or damaged: what is whole in it is resumed from.
    if !journal.working.exists() {
        std::fs::rename(part, &journal.working)
            .with_context(|| format!("cannot write {}", journal.working.display()))?;
    }
    eprintln!(
        "{} does not hold every run of shard {}: running the rest",
        part.display(),
        journal.header.shard
    );
    Ok(None)
}

/// Opens the journal for appending, locked against a second process, first
/// reading into `results` the runs a previous attempt of the same study
/// kept. A journal holding runs of another study is not touched: the
/// message says why.
fn open_journal(journal: &Journal, results: &mut Results) -> Result<Result<std::fs::File, String>> {
    let path = &journal.working;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let context = || format!("cannot write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .with_context(context)?;
    if file.try_lock().is_err() {
        return Ok(Err(format!(
            "another stampede is writing {} (is this study or shard running twice?): wait for it to finish",
            path.display()
        )));
    }
    let kept_bytes = match read_journal(&mut file, &journal.header, results)
        .with_context(context)?
    {
        Found::Nothing => 0,
        Found::Resumed { bytes, runs } => {
            if runs > 0 {
                eprintln!(
                    "resuming: {runs} runs already done are read from {}",
                    path.display()
                );
            }
            bytes
        }
        Found::Foreign { header, runs } => {
            return Ok(Err(format!(
                "{} holds {runs} runs of another study ({}): run the command that started it to finish it, or delete the file to start this one",
                path.display(),
                parts::difference(&header, &journal.header)
            )));
        }
    };
    // A line cut short by a kill is dropped.
    file.set_len(kept_bytes).with_context(context)?;
    if kept_bytes == 0 {
        write::append_line(&mut file, &parts::header_line(&journal.header))
            .with_context(context)?;
    }
    Ok(Ok(file))
}

/// What a journal on disk holds.
enum Found {
    /// Nothing usable: empty, or no whole header.
    Nothing,
    /// Runs of this study, put into the results: how many, and the bytes of
    /// the whole, readable lines before anything cut short, damaged or
    /// repeated.
    Resumed { bytes: u64, runs: usize },
    /// Runs of another study.
    Foreign {
        header: Box<PartHeader>,
        runs: usize,
    },
}

fn read_journal(
    file: &mut std::fs::File,
    header: &PartHeader,
    results: &mut Results,
) -> std::io::Result<Found> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))?;
    let mut reader = std::io::BufReader::new(&*file);
    let mut line = String::new();
    let mut bytes = reader.read_line(&mut line)? as u64;
    let found = match parts::parse_header(line.trim_end()) {
        Ok(found) if line.ends_with('\n') => found,
        _ => return Ok(Found::Nothing),
    };
    let ours = found == *header;
    let mut runs = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read == 0 || !line.ends_with('\n') {
            break;
        }
        let Ok(record) = serde_json::from_str::<RunRecord>(line.trim_end()) else {
            break;
        };
        if ours {
            let (index, run) = record.into_run();
            if !header.shard.owns(index) || results.has(index) || !results.insert(index, run) {
                break;
            }
            bytes += read as u64;
        }
        runs += 1;
    }
    Ok(match (ours, runs) {
        (true, _) => Found::Resumed { bytes, runs },
        (false, 0) => Found::Nothing,
        (false, _) => Found::Foreign {
            header: Box::new(found),
            runs,
        },
    })
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
/// files, each once; and the shards left `.incomplete`, named or found.
fn part_files(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut unfinished = Vec::new();
    let mut sort = |path: PathBuf| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".incomplete") {
            unfinished.push(path);
        } else if !found.iter().any(|seen| same_file(seen, &path)) {
            found.push(path);
        }
    };
    for input in inputs {
        if !input.exists() {
            anyhow::bail!("{}: no such file or folder", input.display());
        }
        if !input.is_dir() {
            sort(input.clone());
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
            if name.starts_with("part-")
                && (name.ends_with(".jsonl") || name.ends_with(".jsonl.incomplete"))
            {
                sort(path);
            }
        }
    }
    Ok((found, unfinished))
}

/// Whether two paths name one file (a folder and a file in it both given).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `stampede merge PARTS... --out DIR`: the study the parts are shards of,
/// written as running it on one machine would have.
pub fn merge(inputs: &[PathBuf], out: &Path, format: Format) -> Result<ExitCode> {
    if let Err(message) = check_out(out) {
        return Ok(invalid(message));
    }
    let (files, unfinished) = part_files(inputs)?;
    let unfinished_hint = match unfinished.first() {
        Some(path) => format!(
            " ({} did not finish: run its shard again, it resumes)",
            path.display()
        ),
        None => String::new(),
    };
    if files.is_empty() {
        let named: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        return Ok(invalid(format!(
            "no finished parts (part-I-of-N.jsonl) in {}{unfinished_hint}",
            named.join(", ")
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
        return Ok(invalid(format!("{message}{unfinished_hint}")));
    }
    let first = &headers[0].1;
    let own = env!("CARGO_PKG_VERSION");
    if first.stampede_version != own {
        return Ok(invalid(format!(
            "the parts were written by stampede {}, and this is {own}: merge with the version that ran the shards",
            first.stampede_version
        )));
    }
    let prepared = match prepare(&first.study, true) {
        Ok(prepared) => prepared,
        Err(message) => return Ok(invalid(message)),
    };
    let plan = prepared.plan();
    let planned = |header: &PartHeader| {
        header.study_sha256 == plan.identity() && header.runs_total == plan.len()
    };
    if let Some((name, _)) = headers.iter().find(|(_, header)| !planned(header)) {
        return Ok(invalid(format!(
            "{name} does not match the study this stampede plans from its header: was the part edited?"
        )));
    }
    match gather(read, plan) {
        Ok(results) => finish(prepared, results, format, Some(out)),
        Err(message) => Ok(invalid(message)),
    }
}

/// The runs of every part, each checked to be its shard's, given once, and
/// all there.
fn gather(read: Vec<(String, ReadPart)>, plan: &Plan) -> Result<Results, String> {
    let mut results = Results::new(plan);
    for (name, part) in read {
        let shard = part.header.shard;
        let expected = runner::runs_in(plan, Some(shard));
        let mut held = 0;
        for (index, run) in part.runs {
            if !shard.owns(index) || index >= plan.len() {
                return Err(format!(
                    "{name}: run {index} is not shard {shard}'s: the part is damaged"
                ));
            }
            if results.has(index) {
                return Err(format!(
                    "{name}: run {index} is written twice (was the shard run twice at once?): run the shard again into an empty folder"
                ));
            }
            results.insert(index, run);
            held += 1;
        }
        if held != expected {
            return Err(format!(
                "{name} holds {held} of shard {shard}'s {expected} runs: it was cut short; run the shard again (it resumes)"
            ));
        }
    }
    Ok(results)
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
            say_replications(&plan, &results, &chosen, "variant");
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
            let labels: Vec<String> = sweep
                .labels
                .iter()
                .map(|(value, variant)| format!("{variant}, {}={value}", sweep.param))
                .collect();
            say_replications(&sweep.plan, &results, &labels, "point");
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
fn say_replications(plan: &Plan, results: &Results, labels: &[String], group: &str) {
    let Replications::Auto { precision, max } = plan.replications else {
        return;
    };
    let used = plan.replications_used(results).unwrap_or(0);
    let percent = percent(precision);
    let widest = (0..plan.groups.len()).find_map(|index| {
        let summaries = plan.summaries(results, index);
        let runs: Vec<&_> = summaries.iter().collect();
        runner::imprecise(&runs, precision).map(|(metric, relative)| (index, metric, relative))
    });
    match widest {
        None => eprintln!(
            "replications: {used} per {group} were enough for goodput and each source's p99 latency to be known within ±{percent}% (95% interval)"
        ),
        Some((index, metric, relative)) => {
            let how = match relative.is_finite() {
                true => format!("±{:.1}%", relative * 100.0),
                false => "not known (it has data in one run only)".to_string(),
            };
            eprintln!(
                "warning: replications: the maximum of {max} was reached before every 95% interval was within ±{percent}%: {metric} in `{}` is {how}; the table's intervals say how precise each number is",
                labels.get(index).map_or("?", String::as_str)
            );
        }
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
    let (index, from) = match index.trim() {
        "auto" => index_from_environment(&|name| std::env::var(name).ok())?,
        number => (
            number
                .parse::<u32>()
                .map_err(|_| format!("`{number}` is not a shard number"))?,
            String::new(),
        ),
    };
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|&n| (1..=100_000).contains(&n))
        .ok_or_else(|| format!("`{count}` is not a number of shards (1 to 100000)"))?;
    if index == 0 || index > count {
        return Err(format!(
            "shard {index} of {count}{from}: shards are numbered 1 to {count}"
        ));
    }
    Ok(Shard { index, count })
}

/// The shard number (from 1) a scheduler gives this task, and where it was
/// read, for messages. Slurm is asked first, then Kubernetes, then GNU
/// parallel: GNU parallel inside a Slurm array task still takes the task's
/// shard, so give `--shard {#}/N` there.
pub fn index_from_environment(
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(u32, String), String> {
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
    let shard = |value: i64, from: String| {
        u32::try_from(value)
            .map(|index| (index, format!(" (from {from})")))
            .map_err(|_| format!("shard {value} (from {from}): shards are numbered from 1"))
    };
    // A Slurm array may start anywhere and step (--array=0-14:5): count its tasks from 1.
    if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
        let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let from = format!(
            "SLURM_ARRAY_TASK_ID={task}, SLURM_ARRAY_TASK_MIN={first}, SLURM_ARRAY_TASK_STEP={step}"
        );
        return shard((task - first) / step + 1, from);
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        return shard(
            index + 1,
            format!("JOB_COMPLETION_INDEX={index}, counted from 0"),
        );
    }
    if let Some(sequence) = number("PARALLEL_SEQ")? {
        return shard(sequence, format!("PARALLEL_SEQ={sequence}"));
    }
    Err("--shard auto/N reads the shard from SLURM_ARRAY_TASK_ID (a Slurm job array), JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or PARALLEL_SEQ (GNU parallel), and none is set: give --shard I/N".to_string())
}
