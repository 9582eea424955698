//! `stampede check`'s verdicts in the four forms it prints: text for
//! people, and for pipelines JSON, JUnit XML (one test case per threshold,
//! one suite per scenario and variant) and GitHub workflow commands (an
//! annotation on the line of each failing threshold).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::check::{CheckReport, ScenarioCheck, Threshold, Verdict};
use super::compare::{Unit, format_value};
use super::stats::Estimate;
use crate::scenario::Diagnostic;

/// A value in its threshold's unit, as people read it.
fn format_in(unit: &str, value: f64) -> String {
    match unit {
        "ms" => format_value(Unit::Millis, value),
        "s" => super::text::format_seconds((value * 1e3).round() / 1e3),
        "per_s" => format_value(Unit::PerSecond, value),
        "fraction" => format_value(Unit::Percent, value * 100.0),
        _ => format!("{}", (value * 1e4).round() / 1e4),
    }
}

/// `120ms ± 3ms`, or `nothing measured`.
fn format_estimate(unit: &str, estimate: Option<Estimate>) -> String {
    let Some(estimate) = estimate else {
        return "nothing measured".to_string();
    };
    let mean = format_in(unit, estimate.mean);
    match estimate.ci95 {
        Some(half) => format!("{mean} ± {}", format_in(unit, half).trim_end_matches("/s")),
        None => mean,
    }
}

/// A difference, in the unit of what it compares; two shares differ by
/// percentage points (`3.2 pp`), not by a percentage of either.
fn format_difference(unit: &str, difference: Estimate) -> String {
    let text = format_estimate(unit, Some(difference));
    match unit {
        "fraction" => format!("{} pp", text.replace('%', "")),
        _ => text,
    }
}

/// What was measured against what: the sentence every format shares.
pub fn measured_text(threshold: &Threshold) -> String {
    let unit = threshold.unit;
    let measured = format_estimate(unit, threshold.measured);
    match (&threshold.compared_with, threshold.limit) {
        (Some(other), _) => {
            let difference = match other.difference {
                Some(d) if d.mean >= 0.0 => format!(", difference +{}", format_difference(unit, d)),
                Some(d) => {
                    let magnitude = Estimate { mean: -d.mean, ..d };
                    format!(", difference −{}", format_difference(unit, magnitude))
                }
                None => String::new(),
            };
            format!(
                "measured {measured} in `{}` against {} in `{}`{difference}",
                threshold.variant,
                format_estimate(unit, other.measured),
                other.variant
            )
        }
        (None, Some(limit)) => format!("measured {measured}, limit {}", format_in(unit, limit)),
        (None, None) => format!("measured {measured}"),
    }
}

fn mark(threshold: &Threshold) -> &'static str {
    match threshold.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    }
}

/// The group a threshold is shown in: its variant, or the comparisons.
fn group_of(threshold: &Threshold) -> String {
    match threshold.compared_with {
        Some(_) => "variants compared".to_string(),
        None => format!("variant {}", threshold.variant),
    }
}

/// The thresholds of one scenario in groups, in order of first appearance.
fn groups(check: &ScenarioCheck) -> Vec<(String, Vec<&Threshold>)> {
    let mut groups: Vec<(String, Vec<&Threshold>)> = Vec::new();
    for threshold in &check.thresholds {
        let name = group_of(threshold);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, list)) => list.push(threshold),
            None => groups.push((name, vec![threshold])),
        }
    }
    groups
}

/// For people: one scenario's thresholds by variant, a line each (the
/// closing line is [`totals`]).
pub fn text_of(check: &ScenarioCheck) -> String {
    let mut out = String::new();
    let runs = match check.replications {
        1 => "1 run".to_string(),
        n => format!("{n} runs each"),
    };
    out.push_str(&format!("{} (seed {}, {runs})\n", check.file, check.seed));
    for (group, thresholds) in groups(check) {
        out.push_str(&format!("  {group}\n"));
        let width = thresholds
            .iter()
            .map(|t| t.expression.chars().count())
            .max()
            .unwrap_or(0);
        for threshold in thresholds {
            out.push_str(&format!(
                "    {}  {:<width$}   {}\n",
                mark(threshold),
                threshold.expression,
                measured_text(threshold)
            ));
            if let Some(note) = &threshold.note {
                out.push_str(&format!("          {note}\n"));
            }
        }
    }
    for stopped in &check.stopped {
        out.push_str(&format!(
            "  variant {}\n    STOPPED: {}: its thresholds were not checked\n",
            stopped.variant, stopped.reason
        ));
    }
    for skipped in &check.skipped {
        out.push_str(&format!(
            "  not checked (a variant it names was not run): {}\n",
            skipped.expression
        ));
    }
    out.push_str(&format!("  reproduce: {}\n", check.reproduce));
    out
}

fn plural(count: usize, word: &str) -> String {
    match count {
        1 => format!("1 {word}"),
        _ => format!("{count} {word}s"),
    }
}

/// The closing line: how many passed, failed, and were stopped.
pub fn totals(report: &CheckReport) -> String {
    let mut line = format!(
        "{} passed, {} failed",
        plural(report.passed, "threshold"),
        report.failed
    );
    if report.stopped > 0 {
        let stopped = plural(report.stopped, "variant");
        line.push_str(&format!(
            ", {stopped} stopped by a safety limit (not checked)"
        ));
    }
    line.push('\n');
    line
}

/// JUnit XML: a suite per scenario and variant, a test case per threshold,
/// a failure carrying what was measured and where the threshold is written.
pub fn junit(report: &CheckReport) -> String {
    let mut junit = Report::new("stampede check");
    for check in &report.scenarios {
        for (group, thresholds) in groups(check) {
            let mut suite = TestSuite::new(format!("{} · {group}", check.file));
            for threshold in thresholds {
                suite.add_test_case(test_case(check, threshold));
            }
            junit.add_test_suite(suite);
        }
        if !check.skipped.is_empty() {
            let mut suite = TestSuite::new(format!("{} · variants compared, not run", check.file));
            for skipped in &check.skipped {
                let mut status = TestCaseStatus::skipped();
                status.set_message("a variant it names was not among those run (--variants)");
                let mut case = TestCase::new(skipped.expression.clone(), status);
                case.set_classname(check.file.clone());
                suite.add_test_case(case);
            }
            junit.add_test_suite(suite);
        }
        for stopped in &check.stopped {
            let name = format!("{} · variant {}", check.file, stopped.variant);
            let mut suite = TestSuite::new(name);
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(format!(
                "{}: its thresholds were not checked",
                stopped.reason
            ));
            suite.add_test_case(TestCase::new("run", status));
            junit.add_test_suite(suite);
        }
    }
    junit
        .to_string()
        .expect("a report of plain strings serializes")
}

fn test_case(check: &ScenarioCheck, threshold: &Threshold) -> TestCase {
    let location = format!("{}:{}:{}", check.file, threshold.line, threshold.column);
    let status = match threshold.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(measured_text(threshold));
            let note = threshold.note.as_deref().unwrap_or_default();
            status.set_description(format!("{location}: {}\n{note}", threshold.expression));
            status
        }
    };
    let mut case = TestCase::new(threshold.expression.clone(), status);
    case.set_classname(format!("{} [{}]", check.file, threshold.label()));
    case
}

/// GitHub workflow commands for one scenario: an error on the line of each
/// failing threshold, a warning on each passing one within noise.
pub fn github_of(check: &ScenarioCheck) -> String {
    let mut out = String::new();
    for threshold in &check.thresholds {
        let level = match (threshold.verdict, threshold.within_noise) {
            (Verdict::Fail, _) => "error",
            (Verdict::Pass, true) => "warning",
            (Verdict::Pass, false) => continue,
        };
        let mut message = format!(
            "{} [{}]: {}",
            threshold.expression,
            threshold.label(),
            measured_text(threshold)
        );
        if let Some(note) = &threshold.note {
            message.push_str(&format!(". {note}"));
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},title=stampede check::{}\n",
            escape_property(&check.file),
            threshold.line,
            threshold.column,
            escape_data(&message)
        ));
    }
    for stopped in &check.stopped {
        out.push_str(&format!(
                "::error file={},title=stampede check::variant {}: {}: its thresholds were not checked\n",
                escape_property(&check.file),
                escape_data(&stopped.variant),
                escape_data(&stopped.reason)
            ));
    }
    out
}

/// A scenario `check` could not read, for pipelines: an annotation per
/// mistake at its line, so the pull request shows it where it is.
pub fn github_invalid(file: &str, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let at = d
                .position
                .map(|p| format!(",line={},col={}", p.line, p.column))
                .unwrap_or_default();
            format!(
                "::error file={}{at},title=stampede check::{}\n",
                escape_property(file),
                escape_data(&format!("{}: {}", d.path, d.message))
            )
        })
        .collect()
}

/// The same as JUnit XML: a suite for the file, an error case per mistake,
/// so a report step that always runs finds a report that says why.
pub fn junit_invalid(file: &str, diagnostics: &[Diagnostic]) -> String {
    let mut junit = Report::new("stampede check");
    let mut suite = TestSuite::new(format!("{file} · invalid scenario"));
    for d in diagnostics {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(d.message.clone());
        let line = d.position.map_or(0, |p| p.line);
        let column = d.position.map_or(0, |p| p.column);
        status.set_description(format!("{file}:{line}:{column}: {}", d.path));
        let mut case = TestCase::new(d.path.clone(), status);
        case.set_classname(file.to_string());
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .expect("a report of plain strings serializes")
}

/// A workflow command's message: `%`, CR and LF escaped as GitHub reads them.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_what_github_reads_as_syntax() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a,b:c"), "a%2Cb%3Ac");
    }

    #[test]
    fn shares_differ_in_percentage_points_and_other_units_in_their_own() {
        let cases = [
            ("fraction", 0.032, None, "3.2 pp"),
            ("fraction", 0.032, Some(0.01), "3.2 ± 1.0 pp"),
            ("ms", 12.0, None, "12.0ms"),
        ];
        for (unit, mean, ci95, expected) in cases {
            let estimate = Estimate { mean, ci95 };
            assert_eq!(format_difference(unit, estimate), expected, "{unit}");
        }
    }
}
