//! Axes: how a chart's data map onto the plot, where the ticks go and what
//! they say.
//!
//! Every tick is chosen here, not by plotters, so labels carry no spurious
//! decimals (`2,000`, not `2000.0`), logarithmic axes are labelled with the
//! values rather than their logarithms, and a percentile axis can stretch
//! the tail. Data go through `Axis::position` into plot coordinates
//! (`log10(v)` on a log axis, `log10(1/(1−p))` on a percentile axis).

use std::ops::Range;

use crate::report::text::group_digits;

/// A log axis when positive values span more than this ratio (two decades).
const LOG_WHEN_RATIO_EXCEEDS: f64 = 100.0;
/// Ticks at each swept value when there are at most this many of them.
const MAX_VALUE_TICKS: usize = 12;
/// Percentile ticks, labelled as percentages: `99.9`.
const PERCENTILES: [f64; 7] = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999];

/// What an axis shows, which decides its range and ticks.
#[derive(Clone, Debug)]
pub enum Scale {
    /// From zero to a little above the largest value: rates, counts, ratios.
    Amount,
    /// Exactly from zero to the largest value: simulated time.
    Time,
    /// Like `Amount`, but logarithmic when the positive values span more
    /// than two decades: latencies.
    Latency,
    /// The values of a swept parameter, padded on both sides, logarithmic
    /// when they span more than two decades, ticked at the values themselves
    /// when they are few.
    Swept,
    /// Percentiles given as p in [0, 1), placed at log10(1/(1−p)) so the
    /// tail gets as much room as the body.
    Percentile,
    /// Evenly spaced named positions 0, 1, 2, …
    Categories(Vec<String>),
}

/// An axis as a chart declares it: its title (with the unit) and scale.
#[derive(Clone, Debug)]
pub struct AxisSpec {
    pub label: String,
    pub scale: Scale,
}

impl AxisSpec {
    pub fn new(label: impl Into<String>, scale: Scale) -> Self {
        AxisSpec {
            label: label.into(),
            scale,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transform {
    Identity,
    Log10,
    Percentile,
}

/// An axis fitted to its data: the plotted range and the labelled ticks,
/// both in plot coordinates.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub range: Range<f64>,
    pub ticks: Vec<(f64, String)>,
    transform: Transform,
}

impl Axis {
    /// Fits `spec` to `values` (data units; ignored where not finite).
    pub fn fit(spec: &AxisSpec, values: &[f64]) -> Axis {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (range, ticks, transform) = match &spec.scale {
            Scale::Amount => amount(&finite),
            Scale::Time => time(&finite),
            Scale::Latency if spans_decades(&finite) => log_decades(&finite),
            Scale::Latency => amount(&finite),
            Scale::Swept => swept(&finite),
            Scale::Percentile => percentile(&finite),
            Scale::Categories(names) => categories(names),
        };
        Axis {
            label: spec.label.clone(),
            range,
            ticks,
            transform,
        }
    }

    /// Where `value` goes on the plot, or `None` where it cannot be drawn
    /// (zero or less on a log axis).
    pub fn position(&self, value: f64) -> Option<f64> {
        let placed = match self.transform {
            Transform::Identity => value,
            Transform::Log10 if value > 0.0 => libm::log10(value),
            Transform::Log10 => return None,
            Transform::Percentile => libm::log10(1.0 / (1.0 - value.min(0.999_999_9))),
        };
        placed.is_finite().then_some(placed)
    }

    /// The label of the tick at plot coordinate `at`.
    pub fn tick_label(&self, at: f64) -> String {
        let nearest = self.ticks.iter().min_by(|a, b| {
            let (da, db) = ((a.0 - at).abs(), (b.0 - at).abs());
            da.total_cmp(&db)
        });
        nearest.map(|(_, label)| label.clone()).unwrap_or_default()
    }

    pub fn tick_positions(&self) -> Vec<f64> {
        self.ticks.iter().map(|t| t.0).collect()
    }

    #[cfg(test)]
    pub fn is_log(&self) -> bool {
        self.transform == Transform::Log10
    }
}

type Fitted = (Range<f64>, Vec<(f64, String)>, Transform);

fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let low = values.iter().copied().reduce(f64::min)?;
    let high = values.iter().copied().reduce(f64::max)?;
    Some((low, high))
}

/// Whether the positive values span more than two decades.
fn spans_decades(values: &[f64]) -> bool {
    let positive: Vec<f64> = values.iter().copied().filter(|&v| v > 0.0).collect();
    min_max(&positive).is_some_and(|(low, high)| high / low > LOG_WHEN_RATIO_EXCEEDS)
}

fn amount(values: &[f64]) -> Fitted {
    let (low, high) = min_max(values).unwrap_or((0.0, 1.0));
    let top = if high > 0.0 { high * 1.1 } else { 1.0 };
    let bottom = low.min(0.0);
    let range = bottom..top;
    (range.clone(), linear_ticks(&range), Transform::Identity)
}

fn time(values: &[f64]) -> Fitted {
    let (_, high) = min_max(values).unwrap_or((0.0, 1.0));
    let range = 0.0..high.max(1e-9);
    (range.clone(), linear_ticks(&range), Transform::Identity)
}

/// Whole decades around the positive values.
fn log_decades(values: &[f64]) -> Fitted {
    let logs: Vec<f64> = values
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| libm::log10(v))
        .collect();
    let (low, high) = min_max(&logs).unwrap_or((0.0, 1.0));
    let (low, high) = (libm::floor(low), libm::ceil(high));
    let range = low..high.max(low + 1.0);
    (range.clone(), log_ticks(&range), Transform::Log10)
}

fn swept(values: &[f64]) -> Fitted {
    let (low, high) = min_max(values).unwrap_or((0.0, 1.0));
    let log = low > 0.0 && high / low > LOG_WHEN_RATIO_EXCEEDS;
    let (transform, placed): (Transform, Vec<f64>) = match log {
        true => (
            Transform::Log10,
            values.iter().map(|&v| libm::log10(v)).collect(),
        ),
        false => (Transform::Identity, values.to_vec()),
    };
    let (low, high) = min_max(&placed).unwrap_or((0.0, 1.0));
    let pad = match high - low {
        span if span > 0.0 => span * 0.06,
        _ => (high.abs() * 0.1).max(1.0),
    };
    let range = (low - pad)..(high + pad);
    let ticks = value_ticks(&placed, &range, transform).unwrap_or_else(|| match log {
        true => log_ticks(&range),
        false => linear_ticks(&range),
    });
    (range, ticks, transform)
}

/// Ticks at the data themselves, when few and not crowded: a sweep's
/// points then sit on labelled ticks.
fn value_ticks(
    placed: &[f64],
    range: &Range<f64>,
    transform: Transform,
) -> Option<Vec<(f64, String)>> {
    let mut distinct = placed.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let crowded = distinct
        .windows(2)
        .any(|pair| pair[1] - pair[0] < (range.end - range.start) * 0.06);
    if distinct.len() > MAX_VALUE_TICKS || crowded {
        return None;
    }
    let ticks = distinct.iter().map(|&at| {
        let value = match transform {
            Transform::Log10 => libm::pow(10.0, at),
            _ => at,
        };
        (at, format_value(value))
    });
    Some(ticks.collect())
}

fn percentile(values: &[f64]) -> Fitted {
    let most = values.iter().copied().fold(0.9, f64::max).min(0.999_99);
    let end = libm::log10(1.0 / (1.0 - most));
    let ticks = PERCENTILES
        .iter()
        .map(|&p| (libm::log10(1.0 / (1.0 - p)), p))
        .filter(|&(at, _)| at <= end + 1e-9)
        .map(|(at, p)| (at, format_value(p * 100.0)))
        .collect();
    (0.0..end, ticks, Transform::Percentile)
}

fn categories(names: &[String]) -> Fitted {
    let ticks = names
        .iter()
        .enumerate()
        .map(|(index, name)| (index as f64, name.clone()))
        .collect();
    let range = -0.5..(names.len().max(1) as f64 - 0.5);
    (range, ticks, Transform::Identity)
}

/// Round steps of 1, 2 or 5 × 10ⁿ, about six to a range, labelled with
/// the decimals the step needs and no more.
fn linear_ticks(range: &Range<f64>) -> Vec<(f64, String)> {
    let step = nice_step((range.end - range.start) / 6.0);
    let decimals = decimals_of(step);
    let first = libm::ceil(range.start / step - 1e-9) as i64;
    let last = libm::floor(range.end / step + 1e-9) as i64;
    (first..=last)
        .map(|k| {
            let at = k as f64 * step;
            (at, format_fixed(at, decimals))
        })
        .collect()
}

/// 1, 2 or 5 × 10ⁿ, the smallest at least `rough`.
fn nice_step(rough: f64) -> f64 {
    if rough.is_nan() || rough <= 0.0 {
        return 1.0;
    }
    let magnitude = libm::pow(10.0, libm::floor(libm::log10(rough)));
    let nice = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|&n| n * magnitude >= rough * (1.0 - 1e-9))
        .unwrap_or(10.0);
    nice * magnitude
}

/// Decades, with 2 and 5 between them when the range is at most two
/// decades long, over a range of log10 values.
fn log_ticks(range: &Range<f64>) -> Vec<(f64, String)> {
    let steps: &[f64] = match range.end - range.start {
        decades if decades <= 2.0 + 1e-9 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    let first = libm::floor(range.start) as i32;
    let last = libm::ceil(range.end) as i32;
    let mut ticks = Vec::new();
    for decade in first..=last {
        for &step in steps {
            let value = step * libm::pow(10.0, f64::from(decade));
            let at = libm::log10(value);
            if at >= range.start - 1e-9 && at <= range.end + 1e-9 {
                ticks.push((at, format_value(value)));
            }
        }
    }
    ticks
}

/// How many decimals `step` needs to be written exactly (at most six).
fn decimals_of(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * libm::pow(10.0, d as f64);
            (scaled - libm::round(scaled)).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6)
}

fn format_fixed(value: f64, decimals: usize) -> String {
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    if decimals == 0 && value >= 1000.0 {
        group_digits(libm::round(value) as u64)
    } else {
        format!("{value:.decimals$}")
    }
}

/// A value as short as it reads exactly: `600`, `2,000`, `0.5`, `99.99`.
pub fn format_value(value: f64) -> String {
    let decimals = (0..6)
        .find(|&d| {
            let scaled = value * libm::pow(10.0, d as f64);
            (scaled - libm::round(scaled)).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6);
    format_fixed(value, decimals)
}

/// The unit for simulated time on an axis, chosen by the run's length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeUnit {
    pub name: &'static str,
    pub seconds: f64,
}

/// Seconds up to ten minutes, minutes up to three hours, hours beyond.
pub fn time_unit(run_seconds: f64) -> TimeUnit {
    let (name, seconds) = if run_seconds > 3.0 * 3600.0 {
        ("h", 3600.0)
    } else if run_seconds > 600.0 {
        ("min", 60.0)
    } else {
        ("s", 1.0)
    };
    TimeUnit { name, seconds }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.ticks.iter().map(|t| t.1.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_round_without_spurious_decimals() {
        let axis = Axis::fit(&AxisSpec::new("rate", Scale::Amount), &[0.0, 2100.0]);
        assert_eq!(
            labels(&axis),
            ["0", "500", "1,000", "1,500", "2,000"],
            "{axis:?}"
        );
        let axis = Axis::fit(&AxisSpec::new("ratio", Scale::Amount), &[0.0, 0.9]);
        assert_eq!(labels(&axis), ["0.0", "0.2", "0.4", "0.6", "0.8"]);
        let axis = Axis::fit(&AxisSpec::new("time", Scale::Time), &[0.0, 21.0]);
        assert_eq!(labels(&axis), ["0", "5", "10", "15", "20"]);
    }

    #[test]
    fn latency_goes_logarithmic_beyond_two_decades() {
        let narrow = Axis::fit(&AxisSpec::new("ms", Scale::Latency), &[1.0, 90.0]);
        assert!(!narrow.is_log());
        let wide = Axis::fit(&AxisSpec::new("ms", Scale::Latency), &[0.0, 0.4, 950.0]);
        assert!(wide.is_log());
        assert_eq!(wide.range, -1.0..3.0);
        assert_eq!(labels(&wide), ["0.1", "1", "10", "100", "1,000"]);
        assert_eq!(wide.position(0.0), None);
        assert_eq!(wide.position(100.0), Some(2.0));
    }

    #[test]
    fn percentile_axis_stretches_the_tail() {
        let axis = Axis::fit(&AxisSpec::new("p", Scale::Percentile), &[0.0, 0.9999]);
        assert_eq!(labels(&axis), ["0", "50", "90", "99", "99.9", "99.99"]);
        let at = axis.position(0.999).unwrap();
        assert!((at - 3.0).abs() < 1e-9, "{at}");
    }

    #[test]
    fn swept_values_are_ticked_where_they_are() {
        let ttl = Axis::fit(
            &AxisSpec::new("ttl (s)", Scale::Swept),
            &[1.0, 5.0, 30.0, 120.0, 600.0],
        );
        assert!(ttl.is_log());
        assert_eq!(labels(&ttl), ["1", "5", "30", "120", "600"]);
        let rates = Axis::fit(
            &AxisSpec::new("rate (/s)", Scale::Swept),
            &[100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
        );
        assert!(!rates.is_log());
        assert_eq!(labels(&rates), ["100", "200", "300", "400", "500", "600"]);
    }

    #[test]
    fn time_units_follow_the_run_length() {
        assert_eq!(time_unit(300.0).name, "s");
        assert_eq!(time_unit(1260.0).name, "min");
        assert_eq!(time_unit(86_400.0).name, "h");
    }
}
