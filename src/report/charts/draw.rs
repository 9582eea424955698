//! Line and bar charts drawn with plotters, generically over the backend, on
//! axes fitted in `axes`.
//!
//! Lines take colours from a colour-blind-safe palette; shaded bands (the
//! warm-up, surges, faults) have pale tints of their own that no line uses,
//! so a line is never mistaken for a band.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::FONT;
use super::axes::{Axis, AxisSpec, Scale};
use super::bitmap;

/// Ten line colours from colour-blind-safe sets: Okabe and Ito's eight,
/// with their yellow (faint on white) moved last, after Paul Tol's wine and
/// olive from his "muted" set.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(136, 34, 85),   // wine
    RGBColor(153, 153, 51),  // olive
    RGBColor(240, 228, 66),  // yellow
];

fn palette(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The pale fills of shaded bands, none of them a line colour.
pub mod tint {
    use plotters::style::RGBColor;
    pub const WARM_UP: RGBColor = RGBColor(224, 224, 224);
    pub const SURGE: RGBColor = RGBColor(238, 222, 196);
    pub const FAULT: RGBColor = RGBColor(206, 214, 232);
}

/// Text sizes in plotters' units (an em is size ÷ 1.24 pixels).
const LABEL_PX: u32 = 15;
const AXIS_TITLE_PX: u32 = 17;
const TITLE_PX: u32 = 24;
/// Between the picture's edge and the chart.
const MARGIN_PX: u32 = 28;

/// A shaded span of the x axis (data units): the warm-up, a surge.
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: &'static str,
    pub color: RGBColor,
}

/// One line of a line chart, in data units.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

pub struct LineChart {
    pub title: String,
    pub x: AxisSpec,
    pub y: AxisSpec,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    /// Mark each point (sweeps, where points are few and each is a run).
    pub markers: bool,
}

impl LineChart {
    fn axes(&self) -> (Axis, Axis) {
        let points = self.lines.iter().flat_map(|l| l.points.iter());
        let xs: Vec<f64> = points.clone().map(|p| p.0).collect();
        let ys: Vec<f64> = points.map(|p| p.1).collect();
        (Axis::fit(&self.x, &xs), Axis::fit(&self.y, &ys))
    }
}

/// Room for the y tick labels, measured with the embedded font, plus the
/// rotated axis title beside them.
fn y_label_area(axis: &Axis) -> u32 {
    let widest = axis
        .ticks
        .iter()
        .map(|(_, label)| bitmap::text_width(FONT, f64::from(LABEL_PX), label))
        .fold(0.0, f32::max);
    widest.ceil() as u32 + 40
}

/// A plotters coordinate over an axis's range whose only ticks (and mesh
/// lines) are the axis's own; labels come from the axis too.
struct Ticked {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(axis: &Axis) -> Self {
        Ticked {
            linear: axis.range.clone().into(),
            ticks: axis.tick_positions(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight().allow_light_points() {
            true => Vec::new(),
            false => self.ticks.clone(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// The title's size: [`TITLE_PX`], or smaller for a title too long for
/// the chart's width (one naming a component, or only some of many).
fn title_px<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> u32 {
    const SMALLEST_PX: u32 = 12;
    let room = root.dim_in_pixel().0.saturating_sub(2 * MARGIN_PX);
    let width = |px: u32| {
        let style = ("sans-serif", px).into_text_style(root);
        root.estimate_text_size(title, &style)
            .map_or(0, |(width, _)| width)
    };
    let fits = (SMALLEST_PX..=TITLE_PX).rev().find(|&px| width(px) <= room);
    fits.unwrap_or(SMALLEST_PX)
}

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// The caption, the plotting area and its mesh, with ticks where the axes
/// put them; vertical mesh lines only when `x_mesh`.
fn plot_area<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x, y): (&Axis, &Axis),
    x_mesh: bool,
) -> Result<Plot<'a, DB>, String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut plot = ChartBuilder::on(root)
        .caption(title, ("sans-serif", title_px(root, title)))
        .margin(MARGIN_PX)
        .x_label_area_size(48)
        .y_label_area_size(y_label_area(y))
        .build_cartesian_2d(Ticked::new(x), Ticked::new(y))
        .map_err(error)?;
    let mut mesh = plot.configure_mesh();
    if !x_mesh {
        mesh.disable_x_mesh();
    }
    mesh.x_desc(&x.label)
        .y_desc(&y.label)
        .x_label_formatter(&|v| x.tick_label(*v))
        .y_label_formatter(&|v| y.tick_label(*v))
        .label_style(("sans-serif", LABEL_PX))
        .axis_desc_style(("sans-serif", AXIS_TITLE_PX))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(error)?;
    Ok(plot)
}

pub fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &LineChart,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(error)?;
    let (x, y) = chart.axes();
    let mut plot = plot_area(root, &chart.title, (&x, &y), true)?;
    draw_bands(&mut plot, &chart.bands, &x, &y)?;
    // A point that cannot be placed (NaN: nothing finished in that
    // interval) breaks its line, so a gap in the data is a gap in the chart.
    let segments: Vec<Vec<Vec<(f64, f64)>>> = chart
        .lines
        .iter()
        .map(|line| {
            let mut runs = vec![Vec::new()];
            for &(px, py) in &line.points {
                match (x.position(px), y.position(py)) {
                    (Some(at_x), Some(at_y)) => runs.last_mut().unwrap().push((at_x, at_y)),
                    _ if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                    _ => {}
                }
            }
            runs
        })
        .collect();
    for (index, (line, runs)) in chart.lines.iter().zip(&segments).enumerate() {
        let color = palette(index);
        for (part, points) in runs.iter().enumerate() {
            let drawn = plot
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(error)?;
            if part == 0 {
                drawn.label(&line.label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            if chart.markers {
                let dots = points
                    .iter()
                    .map(|&point| Circle::new(point, 4, color.filled()));
                plot.draw_series(dots).map_err(error)?;
            }
        }
    }
    let placed: Vec<Vec<(f64, f64)>> = segments.into_iter().flatten().collect();
    plot.configure_series_labels()
        .position(legend_corner(&placed, &x, &y))
        .label_font(("sans-serif", LABEL_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(error)?;
    root.present().map_err(error)
}

/// The corner whose quarter of the plot the lines cross least (upper right
/// first on a tie), so the legend hides as little data as it can.
fn legend_corner(lines: &[Vec<(f64, f64)>], x: &Axis, y: &Axis) -> SeriesLabelPosition {
    // (right, top) for upper right, upper left, lower right, lower left.
    const CORNERS: [(bool, bool); 4] = [(true, true), (false, true), (true, false), (false, false)];
    let width = x.range.end - x.range.start;
    let height = y.range.end - y.range.start;
    let inside = |(px, py): (f64, f64), (right, top): (bool, bool)| {
        let (fx, fy) = ((px - x.range.start) / width, (py - y.range.start) / height);
        let across = if right { fx > 0.6 } else { fx < 0.4 };
        let up = if top { fy > 0.7 } else { fy < 0.3 };
        across && up
    };
    // Points along each segment, so a line crossing a corner counts.
    let samples: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|points| points.windows(2))
        .flat_map(|pair| {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            (0..8).map(move |i| {
                let t = f64::from(i) / 8.0;
                (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
            })
        })
        .chain(lines.iter().filter_map(|points| points.last().copied()))
        .collect();
    let crossings = |corner| samples.iter().filter(|&&p| inside(p, corner)).count();
    let best = (0..CORNERS.len())
        .min_by_key(|&index| (crossings(CORNERS[index]), index))
        .unwrap_or(0);
    match best {
        0 => SeriesLabelPosition::UpperRight,
        1 => SeriesLabelPosition::UpperLeft,
        2 => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::LowerLeft,
    }
}

/// The shaded spans, behind the lines, with one legend entry per kind.
fn draw_bands<DB: DrawingBackend>(
    plot: &mut Plot<'_, DB>,
    bands: &[Band],
    x: &Axis,
    y: &Axis,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    for (index, band) in bands.iter().enumerate() {
        let (Some(from), Some(to)) = (x.position(band.from), x.position(band.to)) else {
            continue;
        };
        let (from, to) = (from.max(x.range.start), to.min(x.range.end));
        let color = band.color;
        // Translucent, so a fault inside a surge shows as both.
        let rect = Rectangle::new(
            [(from, y.range.start), (to, y.range.end)],
            color.mix(0.75).filled(),
        );
        let drawn = plot.draw_series(std::iter::once(rect)).map_err(error)?;
        if bands[..index].iter().all(|b| b.label != band.label) {
            drawn.label(band.label).legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.filled())
            });
        }
    }
    Ok(())
}

pub struct BarChart {
    pub title: String,
    pub y_label: &'static str,
    pub bars: Vec<(String, f64)>,
}

pub fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(error)?;
    let names: Vec<String> = chart.bars.iter().map(|b| b.0.clone()).collect();
    let x = Axis::fit(&AxisSpec::new("", Scale::Categories(names)), &[]);
    let values: Vec<f64> = chart.bars.iter().map(|b| b.1).collect();
    // Headroom for the value written above each bar.
    let mut y = Axis::fit(&AxisSpec::new(chart.y_label, Scale::Amount), &values);
    y.range.end *= 1.1;
    let mut plot = plot_area(root, &chart.title, (&x, &y), false)?;
    let bars = values.iter().enumerate().map(|(i, &value)| {
        let at = i as f64;
        Rectangle::new([(at - 0.3, 0.0), (at + 0.3, value)], palette(0).filled())
    });
    plot.draw_series(bars).map_err(error)?;
    let labels = values.iter().enumerate().map(|(i, &value)| {
        let style = TextStyle::from(("sans-serif", LABEL_PX).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        Text::new(
            format!("{value:.2}×"),
            (i as f64, value + y.range.end * 0.01),
            style,
        )
    });
    plot.draw_series(labels).map_err(error)?;
    root.present().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_line_colours_and_no_band_in_a_line_colour() {
        let lines: Vec<RGBColor> = (0..PALETTE.len()).map(palette).collect();
        assert!(lines.len() >= 10);
        for (index, color) in lines.iter().enumerate() {
            assert!(!lines[index + 1..].contains(color), "{color:?} twice");
        }
        for band in [tint::WARM_UP, tint::SURGE, tint::FAULT] {
            assert!(!lines.contains(&band), "{band:?} is a line colour");
        }
    }
}
