//! Charts, as SVG and PNG, drawn with plotters from a run's recorded data.
//!
//! The font (DejaVu Sans) is embedded in the binary and registered with
//! plotters' `ab_glyph` backend, so charts render the same on a machine with
//! no fonts installed. Each chart is drawn once, generically over the
//! backend, then rendered to an SVG string and an in-memory PNG, through
//! `bitmap`, which draws text and thick lines where plotters' bitmap
//! backend gets them wrong.

mod bitmap;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::engine::SimDuration;
use crate::model::RunOutcome;
use crate::scenario::Scenario;
use crate::scenario::spec::Load;

use super::summary::Summary;
use super::sweep::SweepResult;
use super::timeseries::TimeSeries;
use bitmap::BitMap;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 540);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

type Files = Vec<(String, Vec<u8>)>;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; a failure would only drop text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A shaded span of the x axis: the warm-up, a surge.
struct Band {
    from: f64,
    to: f64,
    label: &'static str,
    color: RGBColor,
}

/// One line of a line chart.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
}

struct LineChart {
    title: String,
    x_label: &'static str,
    y_label: &'static str,
    lines: Vec<Line>,
    bands: Vec<Band>,
    /// Mark each point (sweeps, where points are few and each is a run).
    markers: bool,
    /// A logarithmic y axis, for values that span orders of magnitude.
    log_y: bool,
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &LineChart,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(error)?;
    // On a log axis, points are drawn at log10(y) and labelled with y.
    let to_axis = |y: f64| {
        if chart.log_y {
            libm::log10(y.max(1e-3))
        } else {
            y
        }
    };
    let all = chart.lines.iter().flat_map(|l| l.points.iter());
    let x_max = all.clone().map(|p| p.0).fold(0.0, f64::max).max(1e-9);
    let ys = all.map(|p| to_axis(p.1));
    let (y_min, y_max) = if chart.log_y {
        let low = ys.clone().fold(f64::INFINITY, f64::min).floor();
        let high = ys.fold(f64::NEG_INFINITY, f64::max).ceil();
        (low.min(high - 1.0), high)
    } else {
        (0.0, ys.fold(0.0, f64::max).max(1e-9) * 1.1)
    };
    let mut plot = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(28)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..x_max, y_min..y_max)
        .map_err(error)?;
    let label = |v: &f64| match chart.log_y {
        true => super::text::format_number(libm::pow(10.0, *v)),
        false => format!("{v:.1}"),
    };
    plot.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .y_label_formatter(&label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(error)?;
    for (index, band) in chart.bands.iter().enumerate() {
        let color = band.color;
        let rect = Rectangle::new(
            [(band.from, y_min), (band.to.min(x_max), y_max)],
            color.mix(0.25).filled(),
        );
        let drawn = plot.draw_series(std::iter::once(rect)).map_err(error)?;
        // One legend entry per kind of band, however many there are.
        if chart.bands[..index].iter().all(|b| b.label != band.label) {
            drawn.label(band.label).legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.mix(0.4).filled())
            });
        }
    }
    for (index, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        let points: Vec<(f64, f64)> = line.points.iter().map(|&(x, y)| (x, to_axis(y))).collect();
        plot.draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(error)?
        .label(&line.label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        if chart.markers {
            let dots = points
                .iter()
                .map(|&point| Circle::new(point, 4, color.filled()));
            plot.draw_series(dots).map_err(error)?;
        }
    }
    let corner = if chart.markers {
        SeriesLabelPosition::UpperLeft
    } else {
        SeriesLabelPosition::UpperRight
    };
    plot.configure_series_labels()
        .position(corner)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(error)?;
    root.present().map_err(error)
}

struct BarChart {
    title: String,
    y_label: &'static str,
    bars: Vec<(String, f64)>,
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(error)?;
    let count = chart.bars.len().max(1);
    let y_max = chart.bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9) * 1.2;
    let names: Vec<String> = chart.bars.iter().map(|b| b.0.clone()).collect();
    let mut plot = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(28)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5f64..(count as f64 - 0.5), 0f64..y_max)
        .map_err(error)?;
    plot.configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|x| {
            names
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        })
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(error)?;
    let bars = chart.bars.iter().enumerate().map(|(i, (_, value))| {
        let x = i as f64;
        Rectangle::new([(x - 0.3, 0.0), (x + 0.3, *value)], PALETTE[0].filled())
    });
    plot.draw_series(bars).map_err(error)?;
    let labels = chart.bars.iter().enumerate().map(|(i, (_, value))| {
        Text::new(
            format!("{value:.2}×"),
            (i as f64 - 0.12, value + y_max * 0.02),
            ("sans-serif", 15),
        )
    });
    plot.draw_series(labels).map_err(error)?;
    root.present().map_err(error)
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

fn series_line(series: &TimeSeries, column: &str, label: String) -> Option<Line> {
    let values = series.column(column)?;
    Some(Line {
        label,
        points: series.times().into_iter().zip(values).collect(),
    })
}

/// The shaded warm-up, each source's surge window and each fault's window.
fn bands(scenario: &Scenario) -> Vec<Band> {
    let mut bands = Vec::new();
    if scenario.warmup > SimDuration::ZERO {
        bands.push(Band {
            from: 0.0,
            to: scenario.warmup.as_secs_f64(),
            label: "warm-up",
            color: RGBColor(150, 150, 150),
        });
    }
    for source in &scenario.sources {
        if let Load::Open {
            shape: Some(shape), ..
        } = &source.load
            && let Some((from, to)) = shape.disturbance()
        {
            let to = to.unwrap_or(scenario.duration);
            bands.push(Band {
                from: from.as_secs_f64(),
                to: to.as_secs_f64(),
                label: "surge",
                color: RGBColor(214, 39, 40),
            });
        }
    }
    for fault in &scenario.faults {
        bands.push(Band {
            from: fault.at.as_secs_f64(),
            to: (fault.at + fault.duration).as_secs_f64(),
            label: "fault",
            color: RGBColor(255, 127, 14),
        });
    }
    bands
}

/// Every chart of one run: load over time, queues over time, amplification
/// per tier, and the end-to-end latency distribution.
pub fn run_charts(
    scenario: &Scenario,
    summary: &Summary,
    outcome: &RunOutcome,
) -> Result<Files, String> {
    let series = &outcome.timeseries;
    let mut lines = Vec::new();
    for source in &scenario.sources {
        let name = &source.name;
        lines.extend(series_line(
            series,
            &format!("{name}.offered_per_s"),
            format!("{name} offered"),
        ));
        lines.extend(series_line(
            series,
            &format!("{name}.goodput_per_s"),
            format!("{name} goodput"),
        ));
    }
    lines.extend(series_line(
        series,
        "retries_per_s",
        "retries (all calls)".to_string(),
    ));
    let load = LineChart {
        title: "Offered load, goodput and retries".into(),
        x_label: "simulated time (s)",
        y_label: "requests per second",
        lines,
        bands: bands(scenario),
        markers: false,
        log_y: false,
    };
    let queues = LineChart {
        title: "Queue length per service".into(),
        x_label: "simulated time (s)",
        y_label: "requests waiting (mean over interval)",
        lines: scenario
            .services
            .iter()
            .filter_map(|s| {
                series_line(series, &format!("{}.queue_length", s.name), s.name.clone())
            })
            .collect(),
        bands: bands(scenario),
        markers: false,
        log_y: false,
    };
    let amplification = BarChart {
        title: "Retry amplification per service".into(),
        y_label: "attempts arriving ÷ requests entering",
        bars: summary
            .services
            .iter()
            .map(|s| (s.name.clone(), s.amplification))
            .collect(),
    };
    let cdf = LineChart {
        title: "End-to-end latency of successful requests".into(),
        x_label: "latency (ms)",
        y_label: "fraction of requests at or below",
        lines: scenario
            .sources
            .iter()
            .zip(&outcome.metrics.sources)
            // A send straight to a queue or topic is acknowledged at once.
            .filter(|(s, m)| m.latency.count() > 0 && !sends_a_message(scenario, s))
            .map(|(s, m)| {
                let points = (0..=1000).map(|i| {
                    let q = f64::from(i) / 1000.0 * 0.999;
                    (m.latency.quantile(q).as_millis_f64(), q)
                });
                Line {
                    label: s.name.clone(),
                    points: points.collect(),
                }
            })
            .collect(),
        bands: Vec::new(),
        markers: false,
        log_y: false,
    };
    let mut files = line_files("load-over-time", &load)?;
    if !scenario.services.is_empty() {
        files.extend(line_files("queues-over-time", &queues)?);
    }
    let scaled: Vec<_> = scenario
        .services
        .iter()
        .filter(|s| s.autoscaling.is_some())
        .collect();
    if !scenario.caches.is_empty() {
        let hits = LineChart {
            title: "Cache hit ratio".into(),
            x_label: "simulated time (s)",
            y_label: "hits ÷ lookups (per interval)",
            lines: scenario
                .caches
                .iter()
                .filter_map(|c| {
                    series_line(series, &format!("{}.hit_ratio", c.name), c.name.clone())
                })
                .collect(),
            bands: bands(scenario),
            markers: false,
            log_y: false,
        };
        files.extend(line_files("hit-ratio-over-time", &hits)?);
    }
    if !scaled.is_empty() {
        let instances = LineChart {
            title: "Instances taking traffic".into(),
            x_label: "simulated time (s)",
            y_label: "ready instances (mean over interval)",
            lines: scaled
                .iter()
                .filter_map(|s| {
                    series_line(series, &format!("{}.instances", s.name), s.name.clone())
                })
                .collect(),
            bands: bands(scenario),
            markers: false,
            log_y: false,
        };
        files.extend(line_files("instances-over-time", &instances)?);
    }
    if !scenario.queues.is_empty() {
        files.extend(message_charts(scenario, series)?);
    }
    if !scenario.services.is_empty() {
        files.extend(bar_files("amplification", &amplification)?);
    }
    if !cdf.lines.is_empty() {
        files.extend(line_files("latency-cdf", &cdf)?);
    }
    Ok(files)
}

fn sends_a_message(scenario: &Scenario, source: &crate::scenario::spec::SourceSpec) -> bool {
    matches!(
        scenario.edges[source.edge as usize].target,
        crate::scenario::spec::Target::Queue(_) | crate::scenario::spec::Target::Topic(_)
    )
}

/// Each queue's backlog (visible and in flight) and the age of its oldest
/// message over time.
fn message_charts(scenario: &Scenario, series: &TimeSeries) -> Result<Files, String> {
    let mut depth_lines = Vec::new();
    let mut age_lines = Vec::new();
    for queue in &scenario.queues {
        let name = &queue.name;
        depth_lines.extend(series_line(
            series,
            &format!("{name}.depth"),
            format!("{name} visible"),
        ));
        depth_lines.extend(series_line(
            series,
            &format!("{name}.in_flight"),
            format!("{name} in flight"),
        ));
        age_lines.extend(series_line(
            series,
            &format!("{name}.oldest_age_s"),
            name.clone(),
        ));
    }
    let depth = LineChart {
        title: "Messages in each queue".into(),
        x_label: "simulated time (s)",
        y_label: "messages (at the end of each interval)",
        lines: depth_lines,
        bands: bands(scenario),
        markers: false,
        log_y: false,
    };
    let age = LineChart {
        title: "Age of the oldest message in each queue".into(),
        x_label: "simulated time (s)",
        y_label: "seconds since it entered the queue",
        lines: age_lines,
        bands: bands(scenario),
        markers: false,
        log_y: false,
    };
    let mut files = line_files("messages-over-time", &depth)?;
    files.extend(line_files("oldest-message-age", &age)?);
    Ok(files)
}

/// The batch trade-off of a sweep over a consumer setting: message latency
/// and what a poller can process, against the swept value (or its position,
/// when values are not numbers).
fn queue_sweep_charts(result: &SweepResult, variants: &[&str]) -> Result<Files, String> {
    let x_of = |index: usize, value: &str| {
        super::super::scenario::units::split_number(value)
            .map_or(index as f64, |(number, _)| number)
    };
    let line = |variant: &str, label: &str, y: &dyn Fn(&super::sweep::QueuePoint) -> f64| Line {
        label: format!("{variant} {label}"),
        points: result
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.variant == variant)
            .filter_map(|(i, p)| p.queue.as_ref().map(|q| (x_of(i, &p.value), y(q))))
            .collect(),
    };
    let latency = LineChart {
        title: format!("Message latency against {}", result.param),
        x_label: "swept value",
        y_label: "send to delete (ms)",
        lines: variants
            .iter()
            .flat_map(|v| {
                [
                    line(v, "p50", &|q| q.message_latency_p50_ms.mean),
                    line(v, "p99", &|q| q.message_latency_p99_ms.mean),
                ]
            })
            .collect(),
        bands: Vec::new(),
        markers: true,
        log_y: true,
    };
    let capacity = LineChart {
        title: format!("What one poller can process, against {}", result.param),
        x_label: "swept value",
        y_label: "messages per second of processing",
        lines: variants
            .iter()
            .map(|v| {
                line(v, "capacity per poller", &|q| {
                    q.capacity_per_poller_per_s.mean
                })
            })
            .collect(),
        bands: Vec::new(),
        markers: true,
        log_y: false,
    };
    let mut files = line_files("message-latency-vs-param", &latency)?;
    files.extend(line_files("consumer-capacity-vs-param", &capacity)?);
    Ok(files)
}

/// The trade-off curves of a sweep: p99 latency against offered load, and goodput
/// against offered load, one line per variant.
pub fn sweep_charts(result: &SweepResult) -> Result<Files, String> {
    let mut variants: Vec<&str> = Vec::new();
    for point in &result.points {
        if !variants.contains(&point.variant.as_str()) {
            variants.push(&point.variant);
        }
    }
    let line = |variant: &str,
                x: &dyn Fn(&super::sweep::SweepPoint) -> f64,
                y: &dyn Fn(&super::sweep::SweepPoint) -> f64| Line {
        label: variant.to_string(),
        points: result
            .points
            .iter()
            .filter(|p| p.variant == variant)
            .map(|p| (x(p), y(p)))
            .collect(),
    };
    let latency = LineChart {
        title: format!(
            "p99 latency against offered load, sweeping {}",
            result.param
        ),
        x_label: "offered load (requests per second)",
        y_label: "p99 latency of successful requests (ms)",
        lines: variants
            .iter()
            .map(|v| line(v, &|p| p.offered_per_s.mean, &|p| p.latency_p99_ms.mean))
            .collect(),
        bands: Vec::new(),
        markers: true,
        log_y: false,
    };
    let goodput = LineChart {
        title: format!("Goodput against offered load, sweeping {}", result.param),
        x_label: "offered load (requests per second)",
        y_label: "goodput (successful requests per second)",
        lines: variants
            .iter()
            .map(|v| line(v, &|p| p.offered_per_s.mean, &|p| p.goodput_per_s.mean))
            .collect(),
        bands: Vec::new(),
        markers: true,
        log_y: false,
    };
    // Against offered load only when the sweep changes the offered load.
    let offered = result.points.iter().map(|p| p.offered_per_s.mean);
    let (low, high) = (
        offered.clone().fold(f64::INFINITY, f64::min),
        offered.fold(0.0, f64::max),
    );
    let mut files = Vec::new();
    if high > low * 1.02 {
        files.extend(line_files("latency-vs-throughput", &latency)?);
        files.extend(line_files("goodput-vs-offered", &goodput)?);
    }
    if result.points.iter().any(|p| p.queue.is_some()) {
        files.extend(queue_sweep_charts(result, &variants)?);
    }
    Ok(files)
}

/// Goodput over time, one line per variant, with the surge shaded: the chart
/// that shows which variants recover.
pub fn compare_charts(base: &Scenario, variants: &[(&str, &TimeSeries)]) -> Result<Files, String> {
    let mut lines = Vec::new();
    for (name, series) in variants {
        for source in &base.sources {
            let label = if base.sources.len() == 1 {
                name.to_string()
            } else {
                format!("{name} {}", source.name)
            };
            lines.extend(series_line(
                series,
                &format!("{}.goodput_per_s", source.name),
                label,
            ));
        }
    }
    let chart = LineChart {
        title: "Goodput over time, per variant".into(),
        x_label: "simulated time (s)",
        y_label: "successful requests per second",
        lines,
        bands: bands(base),
        markers: false,
        log_y: false,
    };
    let mut files = line_files("goodput-by-variant", &chart)?;
    // The backlog of the queue the first consumer reads, per variant.
    if let Some(consumer) = base.consumers.first() {
        let queue = &base.queues[consumer.queue as usize].name;
        let backlog = LineChart {
            title: format!("Messages visible in `{queue}`, per variant"),
            x_label: "simulated time (s)",
            y_label: "visible messages",
            lines: variants
                .iter()
                .filter_map(|(name, series)| {
                    series_line(series, &format!("{queue}.depth"), name.to_string())
                })
                .collect(),
            bands: bands(base),
            markers: false,
            log_y: false,
        };
        files.extend(line_files("backlog-by-variant", &backlog)?);
    }
    Ok(files)
}
