//! Runs many simulations at once, on every core, and assembles studies:
//! variant comparisons, parameter sweeps, and report folders.
//!
//! Each run is independent and seeded, and results come back in the order of
//! the input (rayon's indexed `collect`), so a parallel batch prints exactly
//! what a serial one would. This module decides *what* to run; the report
//! module turns the results into tables, data and charts.

use rayon::prelude::*;

pub mod parts;
mod study;
pub use study::{
    AUTO_BATCH, Group, Keep, Plan, Replications, Results, Shard, execute, imprecise, precise,
    run_study, runs_in,
};

use crate::engine::rng::replication_seed;
use crate::model::{self, RunOutcome};
use crate::report::compare::{self, Comparison, StoppedRun};
use crate::report::files::{self, Files};
use crate::report::markdown;
use crate::report::metrics::Metrics;
use crate::report::summary::{Summary, summarize};
use crate::report::sweep::{self, SweepResult};
use crate::report::timeseries::TimeSeries;
use crate::scenario::{Scenario, ScenarioError, Study, Variant};

/// What one run leaves for the reports.
pub struct Run {
    pub summary: Summary,
    /// The run's recorded data; its metrics are kept only for the runs a
    /// full report is wanted of (they are the large part), otherwise empty.
    pub outcome: RunOutcome,
}

/// Runs each scenario, in parallel, in input order.
pub fn run_all(scenarios: &[Scenario]) -> Vec<Run> {
    run_all_observed(scenarios, &|| {})
}

/// Runs like [`run_all`], calling `finished` after each run (from any
/// thread), for progress bars. Each run keeps its summary and time series;
/// its metrics (the large part) are dropped.
fn run_all_observed(scenarios: &[Scenario], finished: &(dyn Fn() + Sync)) -> Vec<Run> {
    scenarios
        .par_iter()
        .map(|scenario| {
            let mut outcome = model::run(scenario);
            finished();
            let summary = summarize(scenario, &outcome);
            outcome.metrics = Metrics::default();
            Run { summary, outcome }
        })
        .collect()
}

/// `replications` copies of `scenario`, the first with its own seed and the
/// rest with seeds derived from it.
pub fn replicas(scenario: &Scenario, replications: u32) -> Vec<Scenario> {
    (0..replications.max(1))
        .map(|index| {
            let mut copy = scenario.clone();
            copy.seed = replication_seed(scenario.seed, index);
            copy
        })
        .collect()
}

fn with_seed(scenario: &Scenario, seed: Option<u64>) -> Scenario {
    let mut copy = scenario.clone();
    if let Some(seed) = seed {
        copy.seed = seed;
    }
    copy
}

/// Runs `replications` of each variant and groups the runs by variant.
fn run_grouped(
    scenarios: &[Scenario],
    replications: u32,
    finished: &(dyn Fn() + Sync),
) -> Vec<Vec<Run>> {
    let all: Vec<Scenario> = scenarios
        .iter()
        .flat_map(|s| replicas(s, replications))
        .collect();
    let mut runs = run_all_observed(&all, finished).into_iter();
    scenarios
        .iter()
        .map(|_| runs.by_ref().take(replications.max(1) as usize).collect())
        .collect()
}

/// Runs a whole plan on this machine, telling `finished` of each run.
fn run_whole(plan: &Plan, finished: &(dyn Fn() + Sync)) -> Results {
    let mut results = Results::new(plan);
    run_study(plan, None, &mut results, None, &|_, _| finished());
    results
}

/// The plan of a comparison: one group per variant, its first replication
/// kept whole when `full_first` asks for a report of each variant, else its
/// time series (for the comparison's charts).
pub fn compare_plan(
    chosen: &[&Variant],
    replications: Replications,
    seed: Option<u64>,
    full_first: bool,
) -> Plan {
    let keep_first = if full_first { Keep::Full } else { Keep::Series };
    Plan {
        groups: chosen
            .iter()
            .map(|v| Group {
                scenario: with_seed(&v.scenario, seed),
                keep_first,
            })
            .collect(),
        replications,
    }
}

/// The comparison of the variants a plan's `groups` are, from complete
/// results, and the first run of each (taken out of `results`).
pub fn assemble_compare(
    names: &[String],
    groups: std::ops::Range<usize>,
    plan: &Plan,
    results: &mut Results,
) -> (Comparison, Vec<Run>) {
    let summaries: Vec<Vec<Summary>> = groups
        .clone()
        .map(|group| plan.summaries(results, group))
        .collect();
    let firsts = groups
        .map(|group| {
            results
                .take(plan.index(group, 0))
                .expect("a study is assembled from complete results")
        })
        .collect();
    (compare::compare(names, &summaries), firsts)
}

/// The variants side by side, and the first replication of each: its
/// summary and outcome (with full metrics only when `full_first` is set, for
/// a report of each variant; its time series always).
pub fn compare_variants(
    chosen: &[&Variant],
    replications: u32,
    seed: Option<u64>,
    finished: &(dyn Fn() + Sync),
    full_first: bool,
) -> (Comparison, Vec<Run>) {
    let plan = compare_plan(chosen, Replications::Fixed(replications), seed, full_first);
    let mut results = run_whole(&plan, finished);
    let names: Vec<String> = chosen.iter().map(|v| v.name.clone()).collect();
    assemble_compare(&names, 0..chosen.len(), &plan, &mut results)
}

/// Each chosen variant's summaries over `replications` runs, for `check`:
/// replication *i* of every variant runs on the same seed, so differences
/// between variants can be judged pair by pair.
pub fn check_variants(
    chosen: &[&Variant],
    replications: u32,
    seed: Option<u64>,
    finished: &(dyn Fn() + Sync),
) -> Vec<Vec<Summary>> {
    let scenarios: Vec<Scenario> = chosen
        .iter()
        .map(|v| with_seed(&v.scenario, seed))
        .collect();
    run_grouped(&scenarios, replications, finished)
        .into_iter()
        .map(|runs| runs.into_iter().map(|r| r.summary).collect())
        .collect()
}

/// The full report of each variant's first run, in a folder per variant:
/// `<variant>/summary.json`, `<variant>/report.md`, its charts…
/// `reproduce` gives the command that repeats a variant's run with a seed.
pub fn variant_folders(
    chosen: &[&Variant],
    firsts: &[Run],
    reproduce: &dyn Fn(&Variant, u64) -> String,
) -> (Files, Vec<String>) {
    let mut all = Files::new();
    let mut chart_errors = Vec::new();
    for (variant, run) in chosen.iter().zip(firsts) {
        let scenario = &variant.scenario;
        let reproduce = reproduce(variant, run.summary.seed);
        let (files, chart_error) =
            files::run_files(scenario, &run.summary, &run.outcome, &reproduce);
        chart_errors.extend(chart_error.map(|e| format!("{}: {e}", variant.name)));
        all.extend(
            files
                .into_iter()
                .map(|(name, bytes)| (format!("{}/{name}", variant.name), bytes)),
        );
    }
    (all, chart_errors)
}

/// A sweep's plan: one group per (value, variant) point, in that order.
pub struct SweepPlan {
    pub plan: Plan,
    pub param: String,
    /// Each group's (value, variant).
    pub labels: Vec<(String, String)>,
}

/// The plan of a sweep of `param` over `values` for each chosen variant.
pub fn sweep_plan(
    study: &Study,
    param: &str,
    values: &[String],
    chosen: &[&Variant],
    replications: Replications,
    seed: Option<u64>,
) -> Result<SweepPlan, ScenarioError> {
    let mut labels = Vec::new();
    let mut groups = Vec::new();
    for value in values {
        for variant in chosen {
            let scenario = study.with_override(&variant.name, param, value)?;
            labels.push((value.clone(), variant.name.clone()));
            groups.push(Group {
                scenario: with_seed(&scenario, seed),
                keep_first: Keep::Summary,
            });
        }
    }
    Ok(SweepPlan {
        plan: Plan {
            groups,
            replications,
        },
        param: param.to_string(),
        labels,
    })
}

/// The sweep whose points are a plan's groups from `first` on, from
/// complete results.
fn assemble_sweep_at(
    param: &str,
    labels: &[(String, String)],
    first: usize,
    plan: &Plan,
    results: &Results,
) -> SweepResult {
    let summaries: Vec<Vec<Summary>> = (first..first + labels.len())
        .map(|group| plan.summaries(results, group))
        .collect();
    sweep::sweep_result(param, labels, &summaries)
}

/// A sweep's result from complete results.
pub fn assemble_sweep(sweep: &SweepPlan, results: &Results) -> SweepResult {
    assemble_sweep_at(&sweep.param, &sweep.labels, 0, &sweep.plan, results)
}

/// Every (value, variant) point of a sweep of `param`.
pub fn sweep_points(
    study: &Study,
    param: &str,
    values: &[String],
    chosen: &[&Variant],
    replications: u32,
    seed: Option<u64>,
    finished: &(dyn Fn() + Sync),
) -> Result<SweepResult, ScenarioError> {
    let sweep = sweep_plan(
        study,
        param,
        values,
        chosen,
        Replications::Fixed(replications),
        seed,
    )?;
    let results = run_whole(&sweep.plan, finished);
    Ok(assemble_sweep(&sweep, &results))
}

/// The variants a sweep covers by default: the sweep's own list, else every
/// declared variant, else the base.
pub fn default_sweep_variants(study: &Study) -> Vec<&Variant> {
    let named = study
        .sweep
        .as_ref()
        .map(|s| s.variants.clone())
        .unwrap_or_default();
    if !named.is_empty() {
        return named
            .iter()
            .filter_map(|name| study.variant(name))
            .collect();
    }
    match study.variants.len() {
        1 => vec![&study.variants[0]],
        _ => study.variants.iter().skip(1).collect(),
    }
}

/// A scenario's report folder, and what stopped early in it.
pub struct Report {
    pub files: Files,
    /// Why runs were stopped by a safety limit before their end, one line
    /// per run (the base run, a variant's, a sweep point's); empty if none was.
    pub stopped: Vec<String>,
}

/// Where one file's runs sit among a report plan's groups: its base run,
/// its variants but the base (compared when it declares any), and its
/// sweep's points.
pub struct ReportLayout {
    base: usize,
    variants: std::ops::Range<usize>,
    sweep: Option<(SweepPlan, usize)>,
}

/// The plan of the report folders of `studies`, one replication of each
/// run, and where each file's runs sit in it.
pub fn report_plan(studies: &[&Study]) -> Result<(Plan, Vec<ReportLayout>), String> {
    let mut groups = Vec::new();
    let mut layouts = Vec::new();
    for study in studies {
        let base = groups.len();
        groups.push(Group {
            scenario: study.base().clone(),
            keep_first: Keep::Full,
        });
        let compared: Vec<&Variant> = match study.variants.len() {
            0 | 1 => Vec::new(),
            _ => study.variants.iter().skip(1).collect(),
        };
        let first_variant = groups.len();
        let compare = compare_plan(&compared, Replications::Fixed(1), None, false);
        groups.extend(compare.groups);
        let variants = first_variant..groups.len();
        let sweep = match &study.sweep {
            Some(sweep) => {
                let chosen = default_sweep_variants(study);
                let plan = sweep_plan(
                    study,
                    &sweep.param,
                    &sweep.values,
                    &chosen,
                    Replications::Fixed(1),
                    None,
                )
                .map_err(|e| e.to_string())?;
                let first = groups.len();
                let SweepPlan {
                    plan,
                    param,
                    labels,
                } = plan;
                groups.extend(plan.groups);
                let labels_only = SweepPlan {
                    plan: Plan {
                        groups: Vec::new(),
                        replications: Replications::Fixed(1),
                    },
                    param,
                    labels,
                };
                Some((labels_only, first))
            }
            None => None,
        };
        layouts.push(ReportLayout {
            base,
            variants,
            sweep,
        });
    }
    let plan = Plan {
        groups,
        replications: Replications::Fixed(1),
    };
    Ok((plan, layouts))
}

/// One file's report folder from complete results of its report plan.
pub fn assemble_report(
    study: &Study,
    path: &str,
    layout: &ReportLayout,
    plan: &Plan,
    results: &mut Results,
) -> Result<Report, String> {
    let base = study.base();
    let run = results
        .take(plan.index(layout.base, 0))
        .expect("a study is assembled from complete results");
    let summary = run.summary;
    let mut stopped: Vec<String> = summary
        .stopped_early
        .iter()
        .map(|reason| format!("the base run: {reason}"))
        .collect();
    let reproduce = format!("stampede run {path} --seed {}", base.seed);
    let (mut files, mut document, chart_error) =
        files::run_files_and_report(base, &summary, &run.outcome, &reproduce);
    if let Some(error) = chart_error {
        return Err(error);
    }
    if !layout.variants.is_empty() {
        let (section, comparison) =
            comparison_section(study, path, layout.variants.clone(), plan, results)?;
        stopped.extend(comparison.stopped.iter().map(StoppedRun::describe));
        let reproduce = format!("stampede compare {path} --seed {}", comparison.seed);
        let parts = crate::report::compare::parts(&comparison, &reproduce);
        markdown::append_section(
            &mut document,
            "Variants compared",
            parts,
            &chart_names(&section),
        );
        files.extend(section);
    }
    if let Some((sweep, first)) = &layout.sweep {
        let result = assemble_sweep_at(&sweep.param, &sweep.labels, *first, plan, results);
        stopped.extend(result.stopped.iter().map(StoppedRun::describe));
        let reproduce = format!("stampede sweep {path} --seed {}", result.seed);
        let sweep_files = files::sweep_files(base, &result, &reproduce)?;
        let parts = crate::report::sweep::parts(&result, &reproduce);
        let title = format!("Sweep of {}", result.param);
        markdown::append_section(&mut document, &title, parts, &chart_names(&sweep_files));
        files.extend(sweep_files);
    }
    files::add_reports(&mut files, &document);
    Ok(Report { files, stopped })
}

/// The files comparing a study's declared variants (a plan's `groups`), and
/// the comparison.
fn comparison_section(
    study: &Study,
    path: &str,
    groups: std::ops::Range<usize>,
    plan: &Plan,
    results: &mut Results,
) -> Result<(Files, Comparison), String> {
    let chosen: Vec<&Variant> = study.variants.iter().skip(1).collect();
    let names: Vec<String> = chosen.iter().map(|v| v.name.clone()).collect();
    let (comparison, firsts) = assemble_compare(&names, groups, plan, results);
    let reproduce = format!("stampede compare {path} --seed {}", comparison.seed);
    let named: Vec<(&str, &TimeSeries)> = chosen
        .iter()
        .map(|v| v.name.as_str())
        .zip(firsts.iter().map(|r| &r.outcome.timeseries))
        .collect();
    let files = files::compare_files(study.base(), &comparison, &named, &reproduce)?;
    Ok((files, comparison))
}

/// The names of the files among `files`, for the charts a section shows.
fn chart_names(files: &Files) -> Vec<String> {
    files.iter().map(|(name, _)| name.clone()).collect()
}
