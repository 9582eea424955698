//! A study's partial result: what a shard (or an interrupted study) keeps
//! of its runs, and the checks that the parts given to `merge` make up one
//! whole study.
//!
//! A part is JSON Lines: a [`PartHeader`] that describes itself (stampede's
//! version, the study's fingerprint and how to rebuild it, which shard),
//! then one [`RunRecord`] per finished run: in the order runs finished
//! while a journal is being written, in the study's order in a finished
//! part, so a shard's part is the same bytes every time. A run read back
//! is exactly the run written: summaries, metrics and time series
//! round-trip bit for bit, so a merged study is the study one machine would
//! have produced. This module only turns values into
//! lines and back; reading and writing files is the CLI's.

use serde::{Deserialize, Serialize};

use crate::model::RunOutcome;
use crate::report::metrics::Metrics;
use crate::report::summary::Summary;
use crate::report::timeseries::TimeSeries;

use super::{Run, Shard};

/// The version of the part format; a part of another version is refused.
pub const PART_FORMAT: u32 = 1;

/// A scenario file as the study read it: its name in commands and its text,
/// so a merge rebuilds the study without the file (a trace file it names is
/// still read from beside `path`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFile {
    pub path: String,
    pub text: String,
}

/// The command a study came from, with what decides its runs and its
/// outputs: enough to rebuild the plan and assemble the result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum StudySpec {
    Compare {
        scenario: ScenarioFile,
        variants: Vec<String>,
        replications: super::Replications,
        seed: Option<u64>,
    },
    Sweep {
        scenario: ScenarioFile,
        param: Option<String>,
        values: Option<String>,
        variants: Vec<String>,
        replications: super::Replications,
        seed: Option<u64>,
    },
    Report {
        /// Each file and the folder its report goes in.
        files: Vec<(ScenarioFile, String)>,
    },
}

impl StudySpec {
    /// `compare`, `sweep` or `report`.
    pub fn command(&self) -> &'static str {
        match self {
            StudySpec::Compare { .. } => "compare",
            StudySpec::Sweep { .. } => "sweep",
            StudySpec::Report { .. } => "report",
        }
    }
}

/// The first line of a part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartHeader {
    pub stampede_part: u32,
    pub stampede_version: String,
    /// The plan's fingerprint ([`super::Plan::identity`]).
    pub study_sha256: String,
    pub runs_total: usize,
    pub shard: Shard,
    /// Which of the study's runs this part holds when whole: every
    /// `count`-th from run `index − 1`, spelled out for readers.
    pub runs: Vec<usize>,
    pub study: StudySpec,
}

impl PartHeader {
    pub fn new(study: StudySpec, identity: String, runs_total: usize, shard: Shard) -> PartHeader {
        PartHeader {
            stampede_part: PART_FORMAT,
            stampede_version: env!("CARGO_PKG_VERSION").to_string(),
            study_sha256: identity,
            runs_total,
            shard,
            runs: (0..runs_total).filter(|&run| shard.owns(run)).collect(),
            study,
        }
    }
}

/// One finished run: its index in the study, its summary, and what the
/// study reads of its outcome (only for the runs it reports in full).
#[derive(Serialize, Deserialize)]
pub struct RunRecord {
    pub run: usize,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeseries: Option<TimeSeries>,
}

impl RunRecord {
    /// The line of run `index`, without its newline.
    pub fn line(index: usize, run: &Run) -> String {
        let outcome = &run.outcome;
        let record = RunRecordRef {
            run: index,
            summary: &run.summary,
            metrics: (!outcome.metrics.is_empty()).then_some(&outcome.metrics),
            timeseries: (!outcome.timeseries.rows.is_empty()).then_some(&outcome.timeseries),
        };
        serde_json::to_string(&record).expect("a run always serializes")
    }

    /// The run back, as the study reads it.
    pub fn into_run(self) -> (usize, Run) {
        let outcome = RunOutcome {
            metrics: self.metrics.unwrap_or_default(),
            timeseries: self.timeseries.unwrap_or_default(),
            events: self.summary.events,
            ..RunOutcome::default()
        };
        (
            self.run,
            Run {
                summary: self.summary,
                outcome,
            },
        )
    }
}

/// [`RunRecord`] by reference, for writing without a copy.
#[derive(Serialize)]
struct RunRecordRef<'a> {
    run: usize,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Metrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeseries: Option<&'a TimeSeries>,
}

/// The header line of a part, without its newline.
pub fn header_line(header: &PartHeader) -> String {
    serde_json::to_string(header).expect("a header always serializes")
}

/// Reads a header line; the error says what the line is not.
pub fn parse_header(line: &str) -> Result<PartHeader, String> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|_| "not a stampede part (its first line is not JSON)")?;
    match value
        .get("stampede_part")
        .and_then(serde_json::Value::as_u64)
    {
        None => return Err("not a stampede part (no `stampede_part` header)".to_string()),
        Some(format) if format != u64::from(PART_FORMAT) => {
            return Err(format!(
                "a part in format {format}; this stampede reads format {PART_FORMAT}"
            ));
        }
        Some(_) => {}
    }
    let header: PartHeader =
        serde_json::from_value(value).map_err(|e| format!("a damaged part header: {e}"))?;
    let Shard { index, count } = header.shard;
    if index == 0 || index > count {
        return Err(format!("a damaged part header: shard {index} of {count}"));
    }
    Ok(header)
}

/// Checks that `parts` (each named for messages) are all the shards of one
/// study, each once, by one version of stampede; the error names what is
/// wrong and which files.
pub fn check_complete(parts: &[(String, PartHeader)]) -> Result<(), String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("no parts were given".to_string());
    };
    for (name, header) in parts {
        if header.stampede_version != first.stampede_version {
            return Err(format!(
                "{name} was written by stampede {} but {first_name} by {}: run every shard with one version",
                header.stampede_version, first.stampede_version
            ));
        }
        if header.study_sha256 != first.study_sha256 || header.study != first.study {
            return Err(format!(
                "{name} and {first_name} are parts of different studies: {}",
                difference(header, first)
            ));
        }
        if header.shard.count != first.shard.count {
            return Err(format!(
                "{name} is shard {} but {first_name} is shard {}: the study was split two ways",
                header.shard, first.shard
            ));
        }
    }
    let count = first.shard.count;
    let mut seen: Vec<Option<&str>> = vec![None; count as usize];
    for (name, header) in parts {
        let slot = &mut seen[(header.shard.index - 1) as usize];
        if let Some(other) = slot {
            return Err(format!(
                "shard {} is given twice: {other} and {name}",
                header.shard
            ));
        }
        *slot = Some(name);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, name)| name.is_none())
        .map(|(index, _)| format!("{}/{count}", index + 1))
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        return Err(format!(
            "shard{plural} {} of the study {} missing",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" }
        ));
    }
    Ok(())
}

/// What sets the study of part `a` apart from that of part `b`, in words:
/// the version, the command, the scenario (its name or its text), or an
/// option and its two values.
pub fn difference(a: &PartHeader, b: &PartHeader) -> String {
    if a.stampede_version != b.stampede_version {
        return format!(
            "stampede {} against {}",
            a.stampede_version, b.stampede_version
        );
    }
    if a.shard.count != b.shard.count {
        return format!("split {} ways against {}", a.shard.count, b.shard.count);
    }
    let (left, right) = (
        serde_json::to_value(&a.study).unwrap_or_default(),
        serde_json::to_value(&b.study).unwrap_or_default(),
    );
    let fields = |value: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        value
            .as_object()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let right_fields = fields(&right);
    for (key, value) in fields(&left) {
        let other = right_fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if value == other {
            continue;
        }
        return match key.as_str() {
            "scenario" if value["path"] != other["path"] => format!(
                "the scenario is named {} against {}",
                value["path"], other["path"]
            ),
            "scenario" => "the scenario file's text differs".to_string(),
            "files" => "the scenario files differ".to_string(),
            _ => format!("{key} {value} against {other}"),
        };
    }
    "the study differs".to_string()
}
