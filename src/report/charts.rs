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
/// The most lines a chart draws: one per colour of the palette, so no two
/// share one; its legend names this many beside the shaded windows, and
/// more lines would hide each other.
const LINES_PER_CHART: usize = draw::PALETTE.len();
/// The most bars a bar chart draws before their names overlap.
const BARS_PER_CHART: usize = 16;
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

/// Of `weights` (one per component, in scenario order), the indices of the
/// `max` largest, in scenario order (ties go to the earlier). A chart draws
/// a line per component only up to the number its legend can name and its
/// lines stay apart: a thousand lines are one colored smear, and cost
/// seconds to draw.
fn busiest(weights: &[u64], max: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    if order.len() > max {
        order.sort_by_key(|&i| std::cmp::Reverse(weights[i]));
        order.truncate(max);
        order.sort_unstable();
    }
    order
}

/// `title`, saying when only the busiest `shown` of `total` `kind` are
/// drawn and where the rest are.
fn title_of_some(title: &str, shown: usize, total: usize, kind: &str, rest_in: &str) -> String {
    if shown == total {
        return title.to_string();
    }
    let total = super::text::group_digits(total as u64);
    format!("{title} ({shown} busiest of {total} {kind}; all in {rest_in})")
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

/// The requests each source sent in the measured window.
fn source_weights(outcome: &RunOutcome) -> Vec<u64> {
    let sources = outcome.metrics.sources.iter();
    sources.map(|source| source.requests).collect()
}

/// Offered load and goodput per source (the busiest), and retries, over time.
fn load_chart(scenario: &Scenario, outcome: &RunOutcome) -> LineChart {
    let (series, (_, unit)) = (&outcome.timeseries, time_axis(scenario));
    let column = |column: String, label: String| series_line(series, &column, label, unit);
    let mut lines = Vec::new();
    // Two lines per source, and one for retries.
    let shown = busiest(&source_weights(outcome), (LINES_PER_CHART - 1) / 2);
    for source in shown.iter().map(|&i| &scenario.sources[i]) {
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
    let title = "Offered load, goodput and retries";
    let total = scenario.sources.len();
    let title = title_of_some(title, shown.len(), total, "sources", "timeseries.csv");
    over_time(scenario, &title, "requests per second", lines)
}

/// `NAME.column` over time for each of `named` (name, weight) as
/// `<stem>.svg/png`, titled (title, y label), the busiest `kind` only when
/// they are many; nothing when there are none.
fn per_component(
    scenario: &Scenario,
    series: &TimeSeries,
    (named, kind): (&[(&String, u64)], &str),
    (column, stem): (&str, &str),
    (title, y_label): (&str, &str),
) -> Result<Files, String> {
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let (_, unit) = time_axis(scenario);
    let weights: Vec<u64> = named.iter().map(|(_, weight)| *weight).collect();
    let shown = busiest(&weights, LINES_PER_CHART);
    let lines = shown
        .iter()
        .map(|&i| named[i].0)
        .filter_map(|name| series_line(series, &format!("{name}.{column}"), name.to_string(), unit))
        .collect();
    let title = title_of_some(title, shown.len(), named.len(), kind, "timeseries.csv");
    line_files(stem, &over_time(scenario, &title, y_label, lines))
}

/// Every chart of one run: load over time, queues over time, amplification
/// per tier, and the end-to-end latency by percentile.
pub fn run_charts(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
) -> Result<Files, String> {
    let series = &outcome.timeseries;
    let mut files = line_files("load-over-time", &load_chart(scenario, outcome))?;
    let metrics = &outcome.metrics;
    let services = scenario.services.iter().zip(&metrics.services);
    let services: Vec<(&String, u64)> = services.map(|(s, m)| (&s.name, m.attempts)).collect();
    files.extend(per_component(
        scenario,
        series,
        (&services, "services"),
        ("queue_length", "queues-over-time"),
        (
            "Queue length per service",
            "requests waiting (mean over interval)",
        ),
    )?);
    let caches = scenario.caches.iter().zip(&metrics.caches);
    let caches: Vec<(&String, u64)> = caches.map(|(c, m)| (&c.name, m.requests)).collect();
    files.extend(per_component(
        scenario,
        series,
        (&caches, "caches"),
        ("hit_ratio", "hit-ratio-over-time"),
        ("Cache hit ratio", "hits ÷ lookups (per interval)"),
    )?);
    let scaled = services.iter().zip(&scenario.services);
    let scaled = scaled.filter(|(_, spec)| spec.autoscaling.is_some());
    let scaled: Vec<(&String, u64)> = scaled.map(|(named, _)| *named).collect();
    files.extend(per_component(
        scenario,
        series,
        (&scaled, "autoscaled services"),
        ("instances", "instances-over-time"),
        (
            "Instances taking traffic",
            "ready instances (mean over interval)",
        ),
    )?);
    if !scenario.queues.is_empty() {
        let (_, unit) = time_axis(scenario);
        files.extend(message_charts(scenario, outcome, unit)?);
    }
    files.extend(job_charts(scenario, outcome)?);
    if !scenario.services.is_empty() {
        files.extend(bar_files("amplification", &amplification(summary))?);
    }
    let percentiles = latency_percentiles(scenario, outcome);
    if !percentiles.lines.is_empty() {
        files.extend(line_files("latency-cdf", &percentiles)?);
    }
    if let Some(chart) = latency_over_time(scenario, outcome) {
        files.extend(line_files("latency-over-time", &chart)?);
    }
    Ok(files)
}

/// p50 and p99 per interval for each source that calls a service, of the
/// successful requests and of all: where the two p99 lines part, failures
/// take longer (or shorter) than what succeeds. Intervals in which nothing
/// finished are gaps, not zeros.
fn latency_over_time(scenario: &Scenario, outcome: &RunOutcome) -> Option<LineChart> {
    let (series, (_, unit)) = (&outcome.timeseries, time_axis(scenario));
    let mut lines = Vec::new();
    let callers: Vec<usize> = (0..scenario.sources.len())
        .filter(|&i| !sends_a_message(scenario, &scenario.sources[i]))
        .collect();
    let weights = source_weights(outcome);
    let weights: Vec<u64> = callers.iter().map(|&i| weights[i]).collect();
    let shown = busiest(&weights, LINES_PER_CHART / 3);
    for source in shown.iter().map(|&i| &scenario.sources[callers[i]]) {
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
    let title = "Latency per interval (ok: successful requests; all: failures included)";
    let total = callers.len();
    let title = title_of_some(title, shown.len(), total, "sources", "timeseries.csv");
    let mut chart = over_time(scenario, &title, "latency (ms)", lines);
    chart.y = AxisSpec::new("latency (ms)", Scale::Latency);
    has_data.then_some(chart)
}

/// Each job source's jobs over time, in two charts of one unit each: the
/// jobs in the system (queued and in progress, at each interval's end), and
/// the jobs ending (completed, failed, given up on by their clients) per
/// second.
fn job_charts(scenario: &Scenario, outcome: &RunOutcome) -> Result<Files, String> {
    let (series, (_, unit)) = (&outcome.timeseries, time_axis(scenario));
    let mut in_system = Vec::new();
    let mut ending = Vec::new();
    let job_sources: Vec<usize> = (0..scenario.sources.len())
        .filter(|&i| scenario.sources[i].job.is_some())
        .collect();
    let weights = source_weights(outcome);
    let weights: Vec<u64> = job_sources.iter().map(|&i| weights[i]).collect();
    let shown = busiest(&weights, LINES_PER_CHART / 3);
    for source in shown.iter().map(|&i| &scenario.sources[job_sources[i]]) {
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
    let of_some = |title: &str| {
        let total = job_sources.len();
        title_of_some(title, shown.len(), total, "job sources", "timeseries.csv")
    };
    let states = over_time(
        scenario,
        &of_some("Jobs by state: waiting in the queue and in progress"),
        "jobs (at the end of each interval)",
        in_system,
    );
    let ends = over_time(scenario, &of_some("Jobs ending"), "jobs per second", ending);
    let mut files = line_files("jobs-by-state", &states)?;
    files.extend(line_files("jobs-ending", &ends)?);
    Ok(files)
}

/// Per service, its attempts per request of the source whose requests it
/// multiplies most: with several sources, attempts over every source's
/// requests would read as each service's share of the traffic (a
/// thousand services behind a thousand sources at 0.001× each).
fn amplification(summary: &Summary) -> BarChart {
    let services = &summary.services;
    let weights: Vec<u64> = services.iter().map(|s| s.attempts).collect();
    let shown = busiest(&weights, BARS_PER_CHART);
    let title = match summary.sources.len() {
        1 => "Retry amplification per service",
        _ => "Retry amplification per service, for the source it multiplies most",
    };
    let title = title_of_some(
        title,
        shown.len(),
        services.len(),
        "services",
        "summary.json",
    );
    let most = |service: &super::summary::ServiceSummary| {
        let by_source = service.amplification_by_source.iter();
        let most = by_source.map(|a| a.amplification).reduce(f64::max);
        most.unwrap_or(service.amplification)
    };
    BarChart {
        title,
        y_label: "attempts arriving ÷ requests entering",
        bars: shown
            .iter()
            .map(|&i| (services[i].name.clone(), most(&services[i])))
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
    let answered: Vec<_> = sources
        .filter(|(s, m)| m.latency.count() > 0 && !sends_a_message(scenario, s))
        .collect();
    let weights: Vec<u64> = answered.iter().map(|(_, m)| m.latency.count()).collect();
    let shown = busiest(&weights, LINES_PER_CHART);
    let lines = shown.iter().map(|&i| answered[i]).map(|(source, metrics)| {
        let count = metrics.latency.count() as f64;
        let resolved = (1.0 - 1.0 / count).clamp(0.9, 0.999_99);
        let end = libm::log10(1.0 / (1.0 - resolved));
        let percentiles: Vec<f64> = (0..=PERCENTILE_POINTS)
            .map(|i| 1.0 - libm::pow(10.0, -end * f64::from(i) / f64::from(PERCENTILE_POINTS)))
            .collect();
        let latencies = metrics.latency.quantile_curve(&percentiles);
        let latencies = latencies.iter().map(|latency| latency.as_millis_f64());
        Line {
            label: source.name.clone(),
            points: percentiles.iter().copied().zip(latencies).collect(),
        }
    });
    let title = "End-to-end latency of successful requests, by percentile";
    let total = answered.len();
    LineChart {
        title: title_of_some(title, shown.len(), total, "sources", "summary.json"),
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
    outcome: &RunOutcome,
    unit: TimeUnit,
) -> Result<Files, String> {
    let series = &outcome.timeseries;
    let mut depth_lines = Vec::new();
    let mut age_lines = Vec::new();
    let weights: Vec<u64> = outcome.metrics.queues.iter().map(|q| q.sent).collect();
    let shown = busiest(&weights, LINES_PER_CHART / 2);
    for queue in shown.iter().map(|&i| &scenario.queues[i]) {
        let name = &queue.name;
        let column = |column: &str, label: String| {
            series_line(series, &format!("{name}.{column}"), label, unit)
        };
        depth_lines.extend(column("depth", format!("{name} visible")));
        depth_lines.extend(column("in_flight", format!("{name} in flight")));
        age_lines.extend(column("oldest_age_s", name.clone()));
    }
    let of_some = |title: &str| {
        let total = scenario.queues.len();
        title_of_some(title, shown.len(), total, "queues", "timeseries.csv")
    };
    let depth = over_time(
        scenario,
        &of_some("Messages in each queue"),
        "messages (at the end of each interval)",
        depth_lines,
    );
    let age = over_time(
        scenario,
        &of_some("Age of the oldest message in each queue"),
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
