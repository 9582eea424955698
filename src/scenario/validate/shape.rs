//! Validating rate shapes, including reading a rate trace from CSV.
//!
//! Each kind of shape uses some of the shape keys; a key that does not apply
//! to the kind is an error rather than silently ignored. Points (written in
//! the file or replayed from a trace) give absolute rates, so the source's
//! `rate` comes from them: the peak, with every point a fraction of it.

use std::path::Path;

use crate::engine::SimDuration;
use crate::scenario::raw::{RawShape, RawSource, Text};
use crate::scenario::spec::Shape;
use crate::scenario::units;
use crate::scenario::yaml::{Position, Spanned, position_of};

use super::{Checker, MAX_DURATION, keyword, number_in, positive_duration, positive_rate};

const KINDS: [&str; 6] = ["spike", "step", "ramp", "sine", "piecewise", "trace"];

/// The keys each kind uses, besides `kind`.
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "spike" | "ramp" => &["at", "duration", "multiplier"],
        "step" => &["at", "multiplier"],
        "sine" => &["at", "period", "amplitude"],
        "piecewise" => &["points", "interpolate"],
        _ => &["file", "interpolate"],
    }
}

/// Rows a trace may have, so a huge file is refused instead of exhausting memory.
const MAX_TRACE_POINTS: usize = 1_000_000;

/// Rate points: (instant, requests per second).
type RatePoints = Vec<(SimDuration, f64)>;

impl Checker {
    /// A source's base rate: its `rate`, or the peak of its shape's points.
    pub(super) fn rate_of(
        &mut self,
        raw: &RawSource,
        shape: Option<&(Shape, Option<f64>)>,
        path: &str,
        at: Option<Position>,
    ) -> Option<f64> {
        let gives_rate = raw.shape.as_ref().is_some_and(|s| {
            s.value
                .kind
                .as_ref()
                .is_some_and(|k| matches!(k.value.trim(), "piecewise" | "trace"))
        });
        if !gives_rate {
            return self.required(&raw.rate, &format!("{path}.rate"), at, positive_rate);
        }
        if let Some(rate) = &raw.rate {
            self.error(
                Some(position_of(rate)),
                &format!("{path}.rate"),
                "the shape's points give the rate: leave out `rate`",
            );
        }
        shape.and_then(|(_, rate)| *rate)
    }

    /// The shape, and the base rate it implies (for points and traces).
    pub(super) fn shape(
        &mut self,
        shape: &Spanned<RawShape>,
        arrivals: &str,
        path: &str,
    ) -> Option<(Shape, Option<f64>)> {
        let at = Some(position_of(shape));
        let raw = &shape.value;
        if arrivals != "poisson" {
            self.error(at, path, "a rate shape needs `arrivals: poisson` (arrivals are thinned from a Poisson stream)");
        }
        let kind = self.required(&raw.kind, &format!("{path}.kind"), at, |t| {
            keyword(t, "shape", &KINDS)
        })?;
        self.check_unused_keys(raw, kind, path);
        match kind {
            "spike" | "ramp" | "step" => self.disturbance(raw, kind, path, at),
            "sine" => self.sine(raw, path, at),
            "piecewise" => {
                let points = self.written_points(raw, path, at)?;
                let linear = self.interpolation(raw, path);
                normalized(points, linear)
            }
            _ => {
                let file = self.required(&raw.file, &format!("{path}.file"), at, |t| {
                    Ok(t.trim().to_string())
                })?;
                let position = raw.file.as_ref().map(position_of);
                let linear = self.interpolation(raw, path);
                let read = read_trace(&self.base_dir.join(&file));
                match read {
                    Ok(points) => normalized(points, linear),
                    Err(message) => {
                        self.error(position, &format!("{path}.file"), message);
                        None
                    }
                }
            }
        }
    }

    fn check_unused_keys(&mut self, raw: &RawShape, kind: &str, path: &str) {
        let present: [(&str, Option<Position>); 8] = [
            ("at", raw.at.as_ref().map(position_of)),
            ("duration", raw.duration.as_ref().map(position_of)),
            ("multiplier", raw.multiplier.as_ref().map(position_of)),
            ("period", raw.period.as_ref().map(position_of)),
            ("amplitude", raw.amplitude.as_ref().map(position_of)),
            ("points", None),
            ("file", raw.file.as_ref().map(position_of)),
            ("interpolate", raw.interpolate.as_ref().map(position_of)),
        ];
        let allowed = keys_of(kind);
        for (key, position) in present {
            if let Some(position) = position
                && !allowed.contains(&key)
            {
                let uses = allowed.join("`, `");
                self.error(
                    Some(position),
                    &format!("{path}.{key}"),
                    format!("`{key}` does not apply to `kind: {kind}`, which uses `{uses}`"),
                );
            }
        }
        if let (Some(points), false) = (&raw.points, allowed.contains(&"points"))
            && let Some(first) = points.first()
        {
            self.error(
                Some(position_of(first)),
                &format!("{path}.points"),
                format!("`points` apply to `kind: piecewise`, not `kind: {kind}`"),
            );
        }
    }

    /// A spike, step or ramp: a change at `at` by `multiplier`.
    fn disturbance(
        &mut self,
        raw: &RawShape,
        kind: &str,
        path: &str,
        at: Option<Position>,
    ) -> Option<(Shape, Option<f64>)> {
        let start = self.required(&raw.at, &format!("{path}.at"), at, units::parse_duration);
        let multiplier = self.required(&raw.multiplier, &format!("{path}.multiplier"), at, |t| {
            number_in(t, 0.0, 1000.0)
        });
        let duration = match kind {
            "step" => None,
            _ => Some(
                self.required(&raw.duration, &format!("{path}.duration"), at, |t| {
                    positive_duration(t, MAX_DURATION)
                })?,
            ),
        };
        let (at, multiplier) = (start?, multiplier?);
        let shape = match (kind, duration) {
            ("spike", Some(duration)) => Shape::Spike {
                at,
                duration,
                multiplier,
            },
            ("ramp", Some(duration)) => Shape::Ramp {
                at,
                duration,
                multiplier,
            },
            _ => Shape::Step { at, multiplier },
        };
        Some((shape, None))
    }

    fn sine(
        &mut self,
        raw: &RawShape,
        path: &str,
        at: Option<Position>,
    ) -> Option<(Shape, Option<f64>)> {
        let start = self.or(
            &raw.at,
            &format!("{path}.at"),
            SimDuration::ZERO,
            units::parse_duration,
        );
        let period = self.required(&raw.period, &format!("{path}.period"), at, |t| {
            positive_duration(t, MAX_DURATION)
        });
        let amplitude = self.required(&raw.amplitude, &format!("{path}.amplitude"), at, |t| {
            units::parse_probability(t).map_err(|_| {
                format!("`{t}` is out of range: the amplitude is a fraction of the rate, 0 to 1 (or 0% to 100%)")
            })
        });
        let shape = Shape::Sine {
            at: start,
            period: period?,
            amplitude: amplitude?,
        };
        Some((shape, None))
    }

    fn interpolation(&mut self, raw: &RawShape, path: &str) -> bool {
        self.or(
            &raw.interpolate,
            &format!("{path}.interpolate"),
            false,
            |t| keyword(t, "interpolation", &["step", "linear"]).map(|k| k == "linear"),
        )
    }

    /// `points: [[0s, 100/s], [30s, 400/s]]`, times strictly increasing.
    fn written_points(
        &mut self,
        raw: &RawShape,
        path: &str,
        at: Option<Position>,
    ) -> Option<RatePoints> {
        let Some(list) = raw.points.as_ref().filter(|p| !p.is_empty()) else {
            self.error(
                at,
                &format!("{path}.points"),
                "`points` is required: a list of [time, rate] pairs such as `[[0s, 100/s], [30s, 400/s]]`",
            );
            return None;
        };
        let mut points = Vec::new();
        let mut valid = true;
        for (index, item) in list.iter().enumerate() {
            let item_path = format!("{path}.points[{index}]");
            match self.point(item, &item_path) {
                Some(point) => points.push(point),
                None => valid = false,
            }
        }
        if !valid {
            return None;
        }
        match check_points(&points) {
            Ok(()) => Some(points),
            Err(message) => {
                self.error(
                    Some(position_of(&list[0])),
                    &format!("{path}.points"),
                    message,
                );
                None
            }
        }
    }

    fn point(&mut self, item: &Spanned<Vec<Text>>, path: &str) -> Option<(SimDuration, f64)> {
        let [time, rate] = item.value.as_slice() else {
            self.error(
                Some(position_of(item)),
                path,
                "a point is a pair [time, rate], such as `[30s, 400/s]`",
            );
            return None;
        };
        let time = self.parse(time, path, units::parse_duration);
        let rate = self.parse(rate, path, |t| {
            let rate = units::parse_rate(t)?;
            if (0.0..=1e9).contains(&rate) {
                Ok(rate)
            } else {
                Err(format!(
                    "`{t}` is out of range: expected 0/s to 1000000000/s"
                ))
            }
        });
        Some((time?, rate?))
    }
}

/// Times strictly increasing, and some rate above zero.
fn check_points(points: &[(SimDuration, f64)]) -> Result<(), String> {
    if let Some(pair) = points.windows(2).find(|pair| pair[1].0 <= pair[0].0) {
        return Err(format!(
            "times must increase: {} comes after {}",
            pair[1].0, pair[0].0
        ));
    }
    if points.iter().all(|&(_, rate)| rate <= 0.0) {
        return Err("every rate is zero: the source would send nothing".to_string());
    }
    Ok(())
}

/// Points as multipliers of their peak, which becomes the base rate.
fn normalized(points: RatePoints, linear: bool) -> Option<(Shape, Option<f64>)> {
    let peak = points.iter().map(|&(_, rate)| rate).fold(0.0, f64::max);
    let multipliers = points.iter().map(|&(at, rate)| (at, rate / peak)).collect();
    let shape = Shape::Points {
        points: multipliers,
        linear,
    };
    Some((shape, Some(peak)))
}

/// Reads `time_s,rate_per_s` rows (a header row is allowed, `#` starts a
/// comment), in seconds and requests per second as monitoring exports them.
fn read_trace(path: &Path) -> Result<RatePoints, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut points = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("`{shown}`: {e}"))?;
        let line = record.position().map_or(index as u64 + 1, |p| p.line());
        let cells: Vec<&str> = record.iter().collect();
        let is_header = index == 0 && cells.first().is_some_and(|c| c.parse::<f64>().is_err());
        if is_header {
            continue;
        }
        points.push(trace_row(&cells).map_err(|e| format!("`{shown}` line {line}: {e}"))?);
        if points.len() > MAX_TRACE_POINTS {
            return Err(format!("`{shown}` has more than {MAX_TRACE_POINTS} rows"));
        }
    }
    if points.is_empty() {
        return Err(format!(
            "`{shown}` has no rows: expected `time_s,rate_per_s` lines such as `30,400`"
        ));
    }
    check_points(&points).map_err(|e| format!("`{shown}`: {e}"))?;
    Ok(points)
}

fn trace_row(cells: &[&str]) -> Result<(SimDuration, f64), String> {
    let [time, rate] = cells else {
        return Err(format!(
            "expected two columns, time_s and rate_per_s, found {}",
            cells.len()
        ));
    };
    let seconds: f64 = time
        .parse()
        .map_err(|_| format!("`{time}` is not a number of seconds"))?;
    let rate: f64 = rate
        .parse()
        .map_err(|_| format!("`{rate}` is not a rate per second"))?;
    if !(0.0..=MAX_DURATION.as_secs_f64()).contains(&seconds) {
        return Err(format!("time `{time}` is out of range"));
    }
    if !(0.0..=1e9).contains(&rate) {
        return Err(format!(
            "rate `{rate}` is out of range: expected 0 to 1e9 per second"
        ));
    }
    Ok((SimDuration::from_nanos_f64(seconds * 1e9), rate))
}
