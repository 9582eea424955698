//! Charts, as SVG and PNG, drawn with plotters from a run's recorded data.
//!
//! The font (DejaVu Sans) is embedded in the binary and registered with
//! plotters' `ab_glyph` backend, so charts render the same on a machine with
//! no fonts installed. Each chart is drawn once, generically over the
//! backend, then rendered to an SVG string and an in-memory PNG, through
//! `bitmap`, which draws text and thick lines where plotters' bitmap
//! backend gets them wrong.

mod axes;
mod bitmap;
mod draw;
mod sweep;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::engine::SimDuration;
use crate::model::RunOutcome;
use crate::scenario::Scenario;
use crate::scenario::spec::Load;

use super::summary::Summary;
use super::timeseries::TimeSeries;
use axes::{AxisSpec, Scale, TimeUnit, time_unit};
use bitmap::BitMap;
use draw::{Band, BarChart, Line, LineChart, draw_bars, draw_lines, tint};

pub use sweep::sweep_charts;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 540);

type Files = Vec<(String, Vec<u8>)>;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; a failure would only drop text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Renders `draw` to `<stem>.svg` and `<stem>.png`.
fn render(
    stem: &str,
    draw: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
    draw_png: impl Fn(&DrawingArea<BitMap, Shift>) -> Result<(), String>,
) -> Result<Files, String> {
    register_font();
    let mut svg = String::new();
    draw(&SVGBackend::with_string(&mut svg, SIZE).into_drawing_area())?;
    let mut pixels = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
    let bitmap = BitMap::new(BitMapBackend::with_buffer(&mut pixels, SIZE), FONT)?;
    draw_png(&bitmap.into_drawing_area())?;
    let png = encode_png(&pixels)?;
    Ok(vec![
        (format!("{stem}.svg"), svg.into_bytes()),
        (format!("{stem}.png"), png),
    ])
}

fn line_files(stem: &str, chart: &LineChart) -> Result<Files, String> {
    render(
        stem,
        |root| draw_lines(root, chart),
        |root| draw_lines(root, chart),
    )
}

fn bar_files(stem: &str, chart: &BarChart) -> Result<Files, String> {
    render(
        stem,
        |root| draw_bars(root, chart),
        |root| draw_bars(root, chart),
    )
}

fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// A time-series column against simulated time in `unit`.
fn series_line(series: &TimeSeries, column: &str, label: String, unit: TimeUnit) -> Option<Line> {
    let values = series.column(column)?;
    let times = series.times().into_iter().map(|t| t / unit.seconds);
    Some(Line {
        label,
        points: times.zip(values).collect(),
    })
}

/// The x axis of simulated time, in the unit the run's length suggests.
fn time_axis(scenario: &Scenario) -> (AxisSpec, TimeUnit) {
    let unit = time_unit(scenario.duration.as_secs_f64());
    let label = format!("simulated time ({})", unit.name);
    (AxisSpec::new(label, Scale::Time), unit)
}

/// A chart of amounts over simulated time, with the disturbances shaded.
fn over_time(scenario: &Scenario, title: &str, y_label: &str, lines: Vec<Line>) -> LineChart {
    let (x, unit) = time_axis(scenario);
    LineChart {
        title: title.to_string(),
        x,
        y: AxisSpec::new(y_label, Scale::Amount),
        lines,
        bands: bands(scenario, unit),
        markers: false,
    }
}

/// The shaded warm-up, each source's surge window and each fault's window.
fn bands(scenario: &Scenario, unit: TimeUnit) -> Vec<Band> {
    let at = |d: SimDuration| d.as_secs_f64() / unit.seconds;
    let mut bands = Vec::new();
    if scenario.warmup > SimDuration::ZERO {
        bands.push(Band {
            from: 0.0,
            to: at(scenario.warmup),
            label: "warm-up",
            color: tint::WARM_UP,
        });
    }
    for source in &scenario.sources {
        if let Load::Open {
            shape: Some(shape), ..
        } = &source.load
            && let Some((from, to)) = shape.disturbance()
        {
            bands.push(Band {
                from: at(from),
                to: at(to.unwrap_or(scenario.duration)),
                label: "surge",
                color: tint::SURGE,
            });
        }
    }
    for fault in &scenario.faults {
        bands.push(Band {
            from: at(fault.at),
            to: at(fault.at + fault.duration),
            label: "fault",
            color: tint::FAULT,
        });
    }
    bands
}

/// Offered load and goodput per source, and retries, over time.
fn load_chart(scenario: &Scenario, series: &TimeSeries) -> LineChart {
    let (_, unit) = time_axis(scenario);
    let column = |column: String, label: String| series_line(series, &column, label, unit);
    let mut lines = Vec::new();
    for source in &scenario.sources {
        let name = &source.name;
        lines.extend(column(
            format!("{name}.offered_per_s"),
            format!("{name} offered"),
        ));
        lines.extend(column(
            format!("{name}.goodput_per_s"),
            format!("{name} goodput"),
        ));
    }
    lines.extend(column("retries_per_s".into(), "retries (all calls)".into()));
    over_time(
        scenario,
        "Offered load, goodput and retries",
        "requests per second",
        lines,
    )
}

/// `NAME.column` over time for each of `names` as `<stem>.svg/png`, titled
/// (title, y label); nothing when there are no names.
fn per_component(
    scenario: &Scenario,
    series: &TimeSeries,
    names: &[&String],
    (column, stem): (&str, &str),
    (title, y_label): (&str, &str),
) -> Result<Files, String> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let (_, unit) = time_axis(scenario);
    let lines = names
        .iter()
        .filter_map(|name| series_line(series, &format!("{name}.{column}"), name.to_string(), unit))
        .collect();
    line_files(stem, &over_time(scenario, title, y_label, lines))
}

/// Every chart of one run: load over time, queues over time, amplification
/// per tier, and the end-to-end latency by percentile.
pub fn run_charts(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
) -> Result<Files, String> {
    let series = &outcome.timeseries;
    let mut files = line_files("load-over-time", &load_chart(scenario, series))?;
    let services: Vec<&String> = scenario.services.iter().map(|s| &s.name).collect();
    files.extend(per_component(
        scenario,
        series,
        &services,
        ("queue_length", "queues-over-time"),
        (
            "Queue length per service",
            "requests waiting (mean over interval)",
        ),
    )?);
    let caches: Vec<&String> = scenario.caches.iter().map(|c| &c.name).collect();
    files.extend(per_component(
        scenario,
        series,
        &caches,
        ("hit_ratio", "hit-ratio-over-time"),
        ("Cache hit ratio", "hits ÷ lookups (per interval)"),
    )?);
    let scaled = scenario.services.iter().filter(|s| s.autoscaling.is_some());
    let scaled: Vec<&String> = scaled.map(|s| &s.name).collect();
    files.extend(per_component(
        scenario,
        series,
        &scaled,
        ("instances", "instances-over-time"),
        (
            "Instances taking traffic",
            "ready instances (mean over interval)",
        ),
    )?);
    if !scenario.queues.is_empty() {
        let (_, unit) = time_axis(scenario);
        files.extend(message_charts(scenario, series, unit)?);
    }
    files.extend(job_charts(scenario, series)?);
    if !scenario.services.is_empty() {
        files.extend(bar_files("amplification", &amplification(summary))?);
    }
    let percentiles = latency_percentiles(scenario, outcome);
    if !percentiles.lines.is_empty() {
        files.extend(line_files("latency-cdf", &percentiles)?);
    }
    if let Some(chart) = latency_over_time(scenario, series) {
        files.extend(line_files("latency-over-time", &chart)?);
    }
    Ok(files)
}

/// p50 and p99 per interval for each source that calls a service, of the
/// successful requests and of all: where the two p99 lines part, failures
/// take longer (or shorter) than what succeeds. Intervals in which nothing
/// finished are gaps, not zeros.
fn latency_over_time(scenario: &Scenario, series: &TimeSeries) -> Option<LineChart> {
    let (_, unit) = time_axis(scenario);
    let mut lines = Vec::new();
    let callers = scenario
        .sources
        .iter()
        .filter(|s| !sends_a_message(scenario, s));
    for source in callers {
        let name = &source.name;
        for (column, label) in [
            ("latency_p50_ms", "p50 ok"),
            ("latency_p99_ms", "p99 ok"),
            ("latency_all_p99_ms", "p99 all"),
        ] {
            let column = format!("{name}.{column}");
            lines.extend(series_line(
                series,
                &column,
                format!("{name} {label}"),
                unit,
            ));
        }
    }
    let has_data = lines
        .iter()
        .any(|l| l.points.iter().any(|p| p.1.is_finite()));
    let mut chart = over_time(
        scenario,
        "Latency per interval (ok: successful requests; all: failures included)",
        "latency (ms)",
        lines,
    );
    chart.y = AxisSpec::new("latency (ms)", Scale::Latency);
    has_data.then_some(chart)
}

/// Each job source's jobs over time, in two charts of one unit each: the
/// jobs in the system (queued and in progress, at each interval's end), and
/// the jobs ending (completed, failed, given up on by their clients) per
/// second.
fn job_charts(scenario: &Scenario, series: &TimeSeries) -> Result<Files, String> {
    let (_, unit) = time_axis(scenario);
    let mut in_system = Vec::new();
    let mut ending = Vec::new();
    for source in scenario.sources.iter().filter(|s| s.job.is_some()) {
        let name = &source.name;
        let line = |column: &str, label: &str| {
            series_line(
                series,
                &format!("{name}.{column}"),
                format!("{name}: {label}"),
                unit,
            )
        };
        in_system.extend(line("jobs_queued", "queued"));
        in_system.extend(line("jobs_in_progress", "in progress"));
        ending.extend(line("jobs_completed_per_s", "completed"));
        ending.extend(line(
            "jobs_failed_per_s",
            "failed (dead-lettered, expired, dropped)",
        ));
        ending.extend(line(
            "jobs_given_up_per_s",
            "abandoned (the client gave up)",
        ));
    }
    if in_system.is_empty() {
        return Ok(Vec::new());
    }
    let states = over_time(
        scenario,
        "Jobs by state: waiting in the queue and in progress",
        "jobs (at the end of each interval)",
        in_system,
    );
    let ends = over_time(scenario, "Jobs ending", "jobs per second", ending);
    let mut files = line_files("jobs-by-state", &states)?;
    files.extend(line_files("jobs-ending", &ends)?);
    Ok(files)
}

fn amplification(summary: &Summary) -> BarChart {
    BarChart {
        title: "Retry amplification per service".into(),
        y_label: "attempts arriving ÷ requests entering",
        bars: summary
            .services
            .iter()
            .map(|s| (s.name.clone(), s.amplification))
            .collect(),
    }
}

/// Points along the percentile axis per line of the latency chart.
const PERCENTILE_POINTS: u32 = 400;

/// The distribution of end-to-end latency as latency against percentile,
/// with the tail stretched (x = log10(1/(1−p))) so p99.9 gets as much room
/// as the median, up to the percentile the sample count can resolve.
fn latency_percentiles(scenario: &Scenario, outcome: &RunOutcome) -> LineChart {
    let sources = scenario.sources.iter().zip(&outcome.metrics.sources);
    // A send straight to a queue or topic is acknowledged at once.
    let answered = sources.filter(|(s, m)| m.latency.count() > 0 && !sends_a_message(scenario, s));
    let lines = answered.map(|(source, metrics)| {
        let count = metrics.latency.count() as f64;
        let resolved = (1.0 - 1.0 / count).clamp(0.9, 0.999_99);
        let end = libm::log10(1.0 / (1.0 - resolved));
        let points = (0..=PERCENTILE_POINTS).map(|i| {
            let p = 1.0 - libm::pow(10.0, -end * f64::from(i) / f64::from(PERCENTILE_POINTS));
            (p, metrics.latency.quantile(p).as_millis_f64())
        });
        Line {
            label: source.name.clone(),
            points: points.collect(),
        }
    });
    LineChart {
        title: "End-to-end latency of successful requests, by percentile".into(),
        x: AxisSpec::new("percentile (log scale of 1 ÷ (1 − p))", Scale::Percentile),
        y: AxisSpec::new("latency (ms)", Scale::Latency),
        lines: lines.collect(),
        bands: Vec::new(),
        markers: false,
    }
}

fn sends_a_message(scenario: &Scenario, source: &crate::scenario::spec::SourceSpec) -> bool {
    matches!(
        scenario.edges[source.edge as usize].target,
        crate::scenario::spec::Target::Queue(_) | crate::scenario::spec::Target::Topic(_)
    )
}

/// Each queue's backlog (visible and in flight) and the age of its oldest
/// message over time.
fn message_charts(
    scenario: &Scenario,
    series: &TimeSeries,
    unit: TimeUnit,
) -> Result<Files, String> {
    let mut depth_lines = Vec::new();
    let mut age_lines = Vec::new();
    for queue in &scenario.queues {
        let name = &queue.name;
        let column = |column: &str, label: String| {
            series_line(series, &format!("{name}.{column}"), label, unit)
        };
        depth_lines.extend(column("depth", format!("{name} visible")));
        depth_lines.extend(column("in_flight", format!("{name} in flight")));
        age_lines.extend(column("oldest_age_s", name.clone()));
    }
    let depth = over_time(
        scenario,
        "Messages in each queue",
        "messages (at the end of each interval)",
        depth_lines,
    );
    let age = over_time(
        scenario,
        "Age of the oldest message in each queue",
        "seconds since it entered the queue",
        age_lines,
    );
    let mut files = line_files("messages-over-time", &depth)?;
    files.extend(line_files("oldest-message-age", &age)?);
    Ok(files)
}

/// Goodput over time, one line per variant, with the surge shaded: the chart
/// that shows which variants recover.
pub fn compare_charts(base: &Scenario, variants: &[(&str, &TimeSeries)]) -> Result<Files, String> {
    let (_, unit) = time_axis(base);
    let mut lines = Vec::new();
    // A send to a queue succeeds whatever becomes of the message: its
    // "goodput" would be the same line for every variant.
    let callers: Vec<_> = base
        .sources
        .iter()
        .filter(|s| !sends_a_message(base, s))
        .collect();
    for (name, series) in variants {
        for source in &callers {
            let label = if callers.len() == 1 {
                name.to_string()
            } else {
                format!("{name} {}", source.name)
            };
            let column = format!("{}.goodput_per_s", source.name);
            lines.extend(series_line(series, &column, label, unit));
        }
    }
    let mut files = Files::new();
    if !lines.is_empty() {
        let chart = over_time(
            base,
            "Goodput over time, per variant",
            "successful requests per second",
            lines,
        );
        files.extend(line_files("goodput-by-variant", &chart)?);
    } else if let Some(consumer) = base.consumers.first() {
        let queue = &base.queues[consumer.queue as usize].name;
        let column = format!("{queue}.deleted_per_s");
        let lines = variants
            .iter()
            .filter_map(|(name, series)| series_line(series, &column, name.to_string(), unit))
            .collect();
        let title = format!("Messages processed from {queue}, per variant");
        let chart = over_time(base, &title, "messages deleted per second", lines);
        files.extend(line_files("processed-by-variant", &chart)?);
    }
    // The backlog of the queue the first consumer reads, per variant.
    if let Some(consumer) = base.consumers.first() {
        let queue = &base.queues[consumer.queue as usize].name;
        let column = format!("{queue}.depth");
        let lines = variants
            .iter()
            .filter_map(|(name, series)| series_line(series, &column, name.to_string(), unit))
            .collect();
        let backlog = over_time(
            base,
            &format!("Messages visible in `{queue}`, per variant"),
            "visible messages",
            lines,
        );
        files.extend(line_files("backlog-by-variant", &backlog)?);
    }
    Ok(files)
}
