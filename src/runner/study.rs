//! A study as a list of runs in a fixed order, so that any part of it can
//! run anywhere and the results still add up to the same study.
//!
//! A study (a comparison, a sweep, the report of a set of files) is a list
//! of *groups*, each a scenario (a variant, a sweep point, a base run), run
//! some number of replications. Run *i* is replication `i / groups` of group
//! `i % groups` (replication-major, so the first replications of every
//! group come first), and its seed follows from its replication alone. What
//! a run yields therefore depends on its index and nothing else: not on the
//! machine, the thread, the shard or the order in which runs finish. A
//! [`Shard`] picks every N-th run; [`Results`] collects runs from anywhere;
//! the study's tables are assembled only from a complete set.
//!
//! `--replications auto` adds replications in batches of [`AUTO_BATCH`]
//! until the 95% intervals of the key metrics are within the asked
//! precision: the number it stops at is a function of the runs alone
//! ([`Plan::replications_used`]), so a merge of shards that ran up to the
//! maximum stops where one machine would have.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::rng::replication_seed;
use crate::model;
use crate::report::metrics::Metrics;
use crate::report::provenance;
use crate::report::stats::Estimate;
use crate::report::summary::{Summary, summarize};
use crate::report::timeseries::TimeSeries;
use crate::scenario::Scenario;

use super::Run;

/// What a study reads of a group's first replication beyond its summary:
/// nothing, its time series (a comparison's charts), or everything (a full
/// run report). Every other run keeps its summary alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    Summary,
    Series,
    Full,
}

/// One scenario of a study, run once per replication.
pub struct Group {
    pub scenario: Scenario,
    pub keep_first: Keep,
}

/// How many replications each group runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replications {
    Fixed(u32),
    /// Batches of [`AUTO_BATCH`] until every key metric's 95% interval is
    /// within `precision` (a fraction of its mean), at most `max`.
    Auto {
        precision: f64,
        max: u32,
    },
}

/// The replications `auto` adds at a time: the first batch is the fewest
/// that give a usable interval, and each later batch keeps the count a
/// multiple of it, so the answer never depends on timing.
pub const AUTO_BATCH: u32 = 5;

impl Replications {
    /// The most runs of one group the study may need.
    pub fn most(self) -> u32 {
        match self {
            Replications::Fixed(count) => count.max(1),
            Replications::Auto { max, .. } => max.max(AUTO_BATCH),
        }
    }
}

/// A study's runs: its groups and how many replications of each.
pub struct Plan {
    pub groups: Vec<Group>,
    pub replications: Replications,
}

/// Which runs of a study one process does: shard `index` of `count`
/// (counted from 1) takes every `count`-th run, starting at run
/// `index − 1`, so each shard gets a share of every group (a sweep's heavy
/// points are spread, not handed to one shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn owns(self, run: usize) -> bool {
        run % self.count as usize == (self.index - 1) as usize
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Plan {
    /// How many runs the study holds at most.
    pub fn len(&self) -> usize {
        self.groups.len() * self.replications.most() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of replication `replication` of group `group`.
    pub fn index(&self, group: usize, replication: u32) -> usize {
        replication as usize * self.groups.len() + group
    }

    /// The group and replication of run `index`.
    pub fn key(&self, index: usize) -> (usize, u32) {
        let groups = self.groups.len();
        (index % groups, (index / groups) as u32)
    }

    /// What run `index` keeps beyond its summary.
    fn keep(&self, index: usize) -> Keep {
        match self.key(index) {
            (group, 0) => self.groups[group].keep_first,
            _ => Keep::Summary,
        }
    }

    /// The scenario of run `index`: its group's, with the replication's seed.
    pub fn scenario(&self, index: usize) -> Scenario {
        let (group, replication) = self.key(index);
        let mut scenario = self.groups[group].scenario.clone();
        scenario.seed = replication_seed(scenario.seed, replication);
        scenario
    }

    /// A fingerprint of everything that decides the runs and what is kept
    /// of them: each group's resolved scenario and seed, and the
    /// replications. Two processes agree on it only if their runs are
    /// interchangeable.
    pub fn identity(&self) -> String {
        let mut lines: Vec<serde_json::Value> = self
            .groups
            .iter()
            .map(|group| {
                let line = format!(
                    "{} {} {:?}",
                    provenance::scenario_sha256(&group.scenario),
                    group.scenario.seed,
                    group.keep_first
                );
                line.into()
            })
            .collect();
        lines.push(format!("{:?}", self.replications).into());
        provenance::sha256_hex(&serde_json::Value::Array(lines))
    }

    /// The replications the study's tables use: all of a fixed count; for
    /// `auto`, the first multiple of [`AUTO_BATCH`] at which every group's
    /// key metrics are precise enough, else the maximum. `None` while the
    /// runs to decide it are missing.
    pub fn replications_used(&self, results: &Results) -> Option<u32> {
        let (precision, max) = match self.replications {
            Replications::Fixed(count) => return Some(count.max(1)),
            Replications::Auto { precision, max } => (precision, self.replications.most().max(max)),
        };
        let mut count = AUTO_BATCH;
        loop {
            let groups: Option<Vec<Vec<&Summary>>> = (0..self.groups.len())
                .map(|group| {
                    (0..count)
                        .map(|rep| results.get(self.index(group, rep)).map(|r| &r.summary))
                        .collect()
                })
                .collect();
            let groups = groups?;
            if count >= max || groups.iter().all(|runs| precise(runs, precision)) {
                return Some(count);
            }
            count = (count + AUTO_BATCH).min(max);
        }
    }

    /// The summaries of group `group` over the replications used.
    pub fn summaries(&self, results: &Results, group: usize) -> Vec<Summary> {
        let used = self.replications_used(results).unwrap_or(0);
        (0..used)
            .filter_map(|rep| results.get(self.index(group, rep)))
            .map(|run| run.summary.clone())
            .collect()
    }
}

/// The key metrics `auto` waits on, per run, with their names: goodput,
/// and each source's p99 latency of successful requests (when it has any).
fn key_metrics(summary: &Summary) -> Vec<(String, Option<f64>)> {
    let mut metrics = vec![("goodput".to_string(), Some(summary.totals.goodput_per_s))];
    metrics.extend(
        summary
            .sources
            .iter()
            .map(|s| (format!("the p99 latency of `{}`", s.name), s.latency.p99_ms)),
    );
    metrics
}

/// Whether each key metric's 95% half-width is within `precision` of its
/// mean over `runs`. A metric that some run lacks is judged on the runs
/// that have it; one that is the same in every run is precise.
pub fn precise(runs: &[&Summary], precision: f64) -> bool {
    imprecise(runs, precision).is_none()
}

/// The first key metric whose 95% half-width over `runs` is wider than
/// `precision` of its mean, and that half-width relative to the mean
/// (infinite when it cannot be told from fewer than two runs).
pub fn imprecise(runs: &[&Summary], precision: f64) -> Option<(String, f64)> {
    let per_run: Vec<Vec<(String, Option<f64>)>> = runs.iter().map(|s| key_metrics(s)).collect();
    let first = per_run.first()?;
    first.iter().enumerate().find_map(|(metric, (name, _))| {
        let values: Vec<f64> = per_run.iter().filter_map(|m| m[metric].1).collect();
        let relative = match Estimate::of(&values) {
            _ if values.is_empty() => 0.0,
            Estimate {
                mean,
                ci95: Some(half),
            } if half <= precision * mean.abs() => 0.0,
            Estimate {
                mean,
                ci95: Some(half),
            } => half / mean.abs(),
            Estimate { ci95: None, .. } => f64::INFINITY,
        };
        (relative > 0.0).then(|| (name.clone(), relative))
    })
}

/// The runs of a study done so far, by index.
pub struct Results {
    runs: Vec<Option<Run>>,
}

impl Results {
    pub fn new(plan: &Plan) -> Results {
        Results {
            runs: (0..plan.len()).map(|_| None).collect(),
        }
    }

    pub fn get(&self, index: usize) -> Option<&Run> {
        self.runs.get(index).and_then(Option::as_ref)
    }

    pub fn has(&self, index: usize) -> bool {
        self.get(index).is_some()
    }

    /// Puts run `index` in; false if the study has no such run.
    pub fn insert(&mut self, index: usize, run: Run) -> bool {
        match self.runs.get_mut(index) {
            Some(slot) => {
                *slot = Some(run);
                true
            }
            None => false,
        }
    }

    /// Takes run `index` out, for a study that hands it on whole.
    pub fn take(&mut self, index: usize) -> Option<Run> {
        self.runs.get_mut(index).and_then(Option::take)
    }

    /// How many runs are in.
    pub fn count(&self) -> usize {
        self.runs.iter().flatten().count()
    }
}

/// Runs `wanted` (indices of `plan`) that `results` lacks, in parallel, at
/// most `budget` of them (the first ones), and puts each in; `finished`
/// hears of each run as it ends (from any thread), for progress and for
/// keeping it on disk. Returns how many ran.
pub fn execute(
    plan: &Plan,
    wanted: &[usize],
    results: &mut Results,
    budget: Option<usize>,
    finished: &(dyn Fn(usize, &Run) + Sync),
) -> usize {
    let todo: Vec<usize> = wanted
        .iter()
        .copied()
        .filter(|&index| !results.has(index))
        .take(budget.unwrap_or(usize::MAX))
        .collect();
    let runs: Vec<(usize, Run)> = todo
        .par_iter()
        .map(|&index| {
            let run = run_one(plan, index);
            finished(index, &run);
            (index, run)
        })
        .collect();
    for (index, run) in runs {
        results.insert(index, run);
    }
    todo.len()
}

/// Run `index`, keeping what the study reads of it.
fn run_one(plan: &Plan, index: usize) -> Run {
    let scenario = plan.scenario(index);
    let mut outcome = model::run(&scenario);
    let summary = summarize(&scenario, &outcome);
    match plan.keep(index) {
        Keep::Full => {}
        Keep::Series => outcome.metrics = Metrics::default(),
        Keep::Summary => {
            outcome.metrics = Metrics::default();
            outcome.timeseries = TimeSeries::default();
        }
    }
    Run { summary, outcome }
}

/// Runs what the study needs that `results` lacks, at most `budget` runs:
/// every run (of `shard`, when given) for a fixed count; for `auto` on one
/// machine, batch after batch until precise; for `auto` in a shard, the
/// shard's share of the maximum, since a shard cannot see the others' runs
/// to stop early. Returns whether everything needed is in.
pub fn run_study(
    plan: &Plan,
    shard: Option<Shard>,
    results: &mut Results,
    budget: Option<usize>,
    finished: &(dyn Fn(usize, &Run) + Sync),
) -> bool {
    let mut left = budget;
    let in_shard = |index: &usize| shard.is_none_or(|s| s.owns(*index));
    if shard.is_some() || matches!(plan.replications, Replications::Fixed(_)) {
        let wanted: Vec<usize> = (0..plan.len()).filter(in_shard).collect();
        execute(plan, &wanted, results, left, finished);
        return wanted.iter().all(|&index| results.has(index));
    }
    let mut count = 0;
    while plan.replications_used(results).is_none() {
        count = (count + AUTO_BATCH).min(plan.replications.most());
        let wanted: Vec<usize> = (0..plan.groups.len() * count as usize).collect();
        let ran = execute(plan, &wanted, results, left, finished);
        left = left.map(|budget| budget - ran);
        if left == Some(0) && plan.replications_used(results).is_none() {
            return false;
        }
    }
    true
}

/// How many runs `run_study` may do for `shard`: the share of the whole
/// plan, or for `auto` on one machine, the most it could need.
pub fn runs_in(plan: &Plan, shard: Option<Shard>) -> usize {
    (0..plan.len())
        .filter(|&index| shard.is_none_or(|s| s.owns(index)))
        .count()
}
