//! The charts of a sweep: each measure against the swept parameter, in the
//! unit its values were written in (`30s`, `400/s`, `20%`, `10`).
//!
//! The values are the strings the user wrote, so they are read back with
//! the scenario's own unit parsers; values that are not all numbers of one
//! kind are placed evenly and labelled as written.

use crate::scenario::Scenario;
use crate::scenario::units;

use super::super::sweep::{QueuePoint, SweepPoint, SweepResult};
use super::axes::{AxisSpec, Scale};
use super::draw::{Line, LineChart};
use super::{Files, line_files, sends_a_message};

/// The x axis for `values` (distinct, in sweep order) and each one's position.
fn swept_axis(param: &str, values: &[&str]) -> (AxisSpec, Vec<f64>) {
    let all = |parse: &dyn Fn(&str) -> Option<f64>| -> Option<Vec<f64>> {
        values.iter().map(|v| parse(v)).collect()
    };
    let axis = |unit: &str, scale: Scale| match unit {
        "" => AxisSpec::new(param, scale),
        unit => AxisSpec::new(format!("{param} ({unit})"), scale),
    };
    if let Some(numbers) = all(&|v| units::parse_number(v).ok()) {
        return (axis("", Scale::Swept), numbers);
    }
    let percent = |v: &str| units::parse_number(v.trim().strip_suffix('%')?).ok();
    if let Some(numbers) = all(&percent) {
        return (axis("%", Scale::Swept), numbers);
    }
    if let Some(rates) = all(&|v| units::parse_rate(v).ok()) {
        return (axis("/s", Scale::Swept), rates);
    }
    let seconds = |v: &str| Some(units::parse_duration(v).ok()?.as_secs_f64());
    if let Some(seconds) = all(&seconds) {
        if seconds.iter().all(|&s| s < 1.0) {
            let millis = seconds.iter().map(|s| s * 1000.0).collect();
            return (axis("ms", Scale::Swept), millis);
        }
        return (axis("s", Scale::Swept), seconds);
    }
    let names = values.iter().map(|v| v.to_string()).collect();
    let positions = (0..values.len()).map(|i| i as f64).collect();
    (axis("", Scale::Categories(names)), positions)
}

/// The distinct items of `items`, in order of first appearance.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The points of a sweep placed on its x axis.
struct Placed<'a> {
    result: &'a SweepResult,
    variants: Vec<&'a str>,
    x: AxisSpec,
    values: Vec<&'a str>,
    positions: Vec<f64>,
}

impl<'a> Placed<'a> {
    fn new(result: &'a SweepResult) -> Self {
        let values = distinct(result.points.iter().map(|p| p.value.as_str()));
        let (x, positions) = swept_axis(&result.param, &values);
        Placed {
            result,
            variants: distinct(result.points.iter().map(|p| p.variant.as_str())),
            x,
            values,
            positions,
        }
    }

    /// One variant's line of `y` against the swept value.
    fn line(&self, variant: &str, label: String, y: &dyn Fn(&SweepPoint) -> Option<f64>) -> Line {
        let points = self.result.points.iter().filter(|p| p.variant == variant);
        let placed = points.filter_map(|p| {
            let index = self.values.iter().position(|v| *v == p.value)?;
            Some((self.positions[index], y(p)?))
        });
        Line {
            label,
            points: placed.collect(),
        }
    }

    fn chart(&self, title: &str, y: AxisSpec, lines: Vec<Line>) -> LineChart {
        LineChart {
            title: format!("{title} against {}", self.result.param),
            x: self.x.clone(),
            y,
            lines,
            bands: Vec::new(),
            markers: true,
        }
    }
}

/// The trade-off curves of a sweep, one line per variant: p99 latency and
/// goodput against the swept value, and for a scenario with consumers, the
/// batch trade-off. `base` is the study's base scenario.
pub fn sweep_charts(base: &Scenario, result: &SweepResult) -> Result<Files, String> {
    let placed = Placed::new(result);
    let mut files = Vec::new();
    // A send to a queue is acknowledged at once: its latency says nothing.
    let answered: Vec<(usize, &str)> = base
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| !sends_a_message(base, s))
        .map(|(index, s)| (index, s.name.as_str()))
        .collect();
    if !answered.is_empty() {
        // One line per variant, and per source when several send requests.
        let label = |variant: &str, source: &str| match answered.len() {
            1 => variant.to_string(),
            _ => format!("{variant} {source}"),
        };
        // Successful requests beside every finished one, so a variant
        // that fails fast does not look fast.
        let latency_lines = placed.variants.iter().flat_map(|v| {
            answered.iter().flat_map(|&(index, source)| {
                [
                    placed.line(v, format!("{} ok", label(v, source)), &|p| {
                        Some(p.sources.get(index)?.latency_p99_ms?.mean)
                    }),
                    placed.line(v, format!("{} all", label(v, source)), &|p| {
                        Some(p.sources.get(index)?.latency_all_p99_ms?.mean)
                    }),
                ]
            })
        });
        let latency = placed.chart(
            "p99 latency",
            AxisSpec::new("p99 latency (ms), ok or all requests", Scale::Latency),
            latency_lines.collect(),
        );
        let goodput_lines = placed.variants.iter().flat_map(|v| {
            answered.iter().map(|&(index, source)| {
                placed.line(v, label(v, source), &|p| {
                    Some(p.sources.get(index)?.goodput_per_s.mean)
                })
            })
        });
        let goodput = placed.chart(
            "Goodput",
            AxisSpec::new("goodput (successful requests per second)", Scale::Amount),
            goodput_lines.collect(),
        );
        files.extend(line_files("latency-vs-param", &latency)?);
        files.extend(line_files("goodput-vs-param", &goodput)?);
    }
    if result.points.iter().any(|p| p.queue.is_some()) {
        files.extend(queue_sweep_charts(&placed)?);
    }
    Ok(files)
}

/// The batch trade-off of a sweep over a consumer setting: message latency
/// and what a poller can process, against the swept value.
fn queue_sweep_charts(placed: &Placed) -> Result<Files, String> {
    let line = |variant: &str, label: &str, y: &dyn Fn(&QueuePoint) -> Option<f64>| {
        placed.line(variant, format!("{variant} {label}"), &|p| {
            p.queue.as_ref().and_then(y)
        })
    };
    let latency_lines = placed.variants.iter().flat_map(|v| {
        [
            line(v, "p50", &|q| Some(q.message_latency_p50_ms?.mean)),
            line(v, "p99", &|q| Some(q.message_latency_p99_ms?.mean)),
        ]
    });
    let latency = placed.chart(
        "Message latency",
        AxisSpec::new("send to delete (ms)", Scale::Latency),
        latency_lines.collect(),
    );
    let capacity_lines = placed.variants.iter().map(|v| {
        line(v, "capacity per poller", &|q| {
            Some(q.capacity_per_poller_per_s.mean)
        })
    });
    let capacity = placed.chart(
        "What one poller can process",
        AxisSpec::new("messages per second of processing", Scale::Amount),
        capacity_lines.collect(),
    );
    let mut files = line_files("message-latency-vs-param", &latency)?;
    files.extend(line_files("consumer-capacity-vs-param", &capacity)?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(values: &[&str]) -> (String, Vec<f64>) {
        let (spec, positions) = swept_axis("p", values);
        (spec.label, positions)
    }

    #[test]
    fn swept_values_are_read_with_their_units() {
        assert_eq!(
            axis(&["1s", "30s", "2m", "10m"]),
            ("p (s)".to_string(), vec![1.0, 30.0, 120.0, 600.0])
        );
        assert_eq!(
            axis(&["0", "250ms", "500ms"]),
            ("p (ms)".to_string(), vec![0.0, 250.0, 500.0])
        );
        assert_eq!(
            axis(&["100/s", "12000/m"]),
            ("p (/s)".to_string(), vec![100.0, 200.0])
        );
        assert_eq!(axis(&["1", "10", "200"]).0, "p");
        assert_eq!(axis(&["5%", "20%"]), ("p (%)".to_string(), vec![5.0, 20.0]));
    }

    #[test]
    fn values_that_are_not_numbers_of_one_kind_are_categories() {
        let (spec, positions) = swept_axis("p", &["lru", "lfu", "fifo"]);
        assert!(matches!(spec.scale, Scale::Categories(ref names) if names[1] == "lfu"));
        assert_eq!(positions, [0.0, 1.0, 2.0]);
        let (spec, _) = swept_axis("p", &["10", "30s"]);
        assert!(matches!(spec.scale, Scale::Categories(_)));
    }
}
