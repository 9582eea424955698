//! Validating rate shapes, including reading a rate trace from CSV.
//!
//! Each kind of shape uses some of the shape keys; a key that does not apply
//! to the kind is an error rather than silently ignored. Points (written in
//! the file or replayed from a trace) give absolute rates, so the source's
//! `rate` comes from them: the peak, with every point a fraction of it.

use std::io::{BufRead, Read};
use std::path::Path;

use crate::engine::SimDuration;
use crate::scenario::raw::{RawShape, RawSource, Text};
use crate::scenario::spec::Shape;
use crate::scenario::units;
use crate::scenario::yaml::{Position, Spanned, position_of};

use super::{
    Checker, MAX_DURATION, keyword, located, number_in, positive_duration, positive_rate, words,
};

use words::SHAPE_KINDS as KINDS;

/// The keys each kind uses, besides `kind`.
pub fn keys_of(kind: &str) -> &'static [&'static str] {
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
            _ => self.trace(raw, path, at),
        }
    }

    /// A CSV trace, read relative to the scenario file. Its errors are
    /// reported at the `file` key, and name the CSV's own file and line.
    fn trace(
        &mut self,
        raw: &RawShape,
        path: &str,
        at: Option<Position>,
    ) -> Option<(Shape, Option<f64>)> {
        let file_path = format!("{path}.file");
        let file = self.required(&raw.file, &file_path, at, |t| Ok(t.trim().to_string()))?;
        let linear = self.interpolation(raw, path);
        match read_trace(&self.base_dir.join(&file)) {
            Ok(points) => normalized(points, linear),
            Err(message) => {
                let position = raw.file.as_ref().map(position_of);
                self.errors.push(located(position, &file_path, &message));
                None
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
            |t| keyword(t, "interpolation", &words::INTERPOLATIONS).map(|k| k == "linear"),
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

/// Reads a rate trace from the CSV file at `path`, streaming, so that a huge
/// file is refused at its row limit rather than read whole into memory.
fn read_trace(path: &Path) -> Result<RatePoints, String> {
    let shown = path.display().to_string();
    crate::scenario::check_regular_file(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    trace_points(std::io::BufReader::new(file), &shown)
}

/// Parses `time,rate` rows such as `30s,400/s`, with units as in the
/// scenario. A first row with no number in it is a header (`time,rate`);
/// blank lines and lines starting with `#` are skipped. Errors name `shown`
/// and the line, counted in the file as an editor counts them.
fn trace_points(mut input: impl BufRead, shown: &str) -> Result<RatePoints, String> {
    let mut points: RatePoints = Vec::new();
    let mut text = String::new();
    let mut rows = 0;
    for line in 1.. {
        let at_line = |message: String| format!("{shown}:{line}: {message}");
        if !next_line(&mut input, &mut text).map_err(at_line)? {
            break;
        }
        let row = text.trim().trim_start_matches('\u{feff}');
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = row.split(',').map(unquoted).collect();
        rows += 1;
        if rows == 1 && is_header(&cells) {
            continue;
        }
        let point = trace_row(&cells).map_err(at_line)?;
        if let Some(&(previous, _)) = points.last()
            && point.0 <= previous
        {
            let message = format!("times must increase: {} comes after {previous}", point.0);
            return Err(at_line(message));
        }
        points.push(point);
        if points.len() > MAX_TRACE_POINTS {
            return Err(at_line(format!("more than {MAX_TRACE_POINTS} rows")));
        }
    }
    if points.is_empty() {
        return Err(format!(
            "`{shown}` has no rows: expected `time,rate` lines such as `30s,400/s`"
        ));
    }
    check_points(&points).map_err(|e| format!("`{shown}`: {e}"))?;
    Ok(points)
}

/// Longest line a trace may have; no honest row comes near it.
const MAX_LINE_BYTES: u64 = 1000;

/// Reads the next line into `text`; false at the end of the input. A line
/// is read at most `MAX_LINE_BYTES` at a time, so one without an end (a
/// binary file, say) cannot fill memory.
fn next_line(input: &mut impl BufRead, text: &mut String) -> Result<bool, String> {
    text.clear();
    let read = input.by_ref().take(MAX_LINE_BYTES + 1).read_line(text);
    match read {
        Ok(0) => Ok(false),
        Ok(_) if text.len() as u64 > MAX_LINE_BYTES && !text.ends_with('\n') => Err(format!(
            "the line is longer than {MAX_LINE_BYTES} bytes: is this a CSV file?"
        )),
        Ok(_) => Ok(true),
        Err(error) => Err(format!("cannot read the line: {error}")),
    }
}

/// A cell without the spaces and double quotes exports put around it.
fn unquoted(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .map_or(cell, str::trim)
}

/// Column names rather than values: no cell starts with a number.
fn is_header(cells: &[&str]) -> bool {
    cells.iter().all(|cell| units::split_number(cell).is_err())
}

fn trace_row(cells: &[&str]) -> Result<(SimDuration, f64), String> {
    let [time, rate] = cells else {
        return Err(format!(
            "expected two columns, a time and a rate such as `30s,400/s`, found {}",
            cells.len()
        ));
    };
    if time.is_empty() || rate.is_empty() {
        return Err("an empty cell: expected a time and a rate such as `30s,400/s`".to_string());
    }
    let time = trace_time(time).map_err(|e| format!("time: {e}"))?;
    let rate = trace_rate(rate).map_err(|e| format!("rate: {e}"))?;
    Ok((time, rate))
}

// Bare numbers are still read, as seconds and requests per second, although
// the scenario itself insists on units: they were the only form traces took
// before units were allowed, so existing files must keep their meaning, and
// they are what monitoring exports write (whose headers say `_s`, `per_s`).
// A number with a unit is read exactly as the scenario would read it.

/// A time since the start of the run: `0s`, `1.5min`, `500ms`, or seconds.
fn trace_time(cell: &str) -> Result<SimDuration, String> {
    let time = match units::parse_number(cell) {
        Ok(seconds) if seconds < 0.0 => {
            return Err(format!("`{cell}` is negative; times are zero or more"));
        }
        Ok(seconds) => SimDuration::from_secs_f64(seconds),
        Err(_) => units::parse_duration(cell)?,
    };
    if time > MAX_DURATION {
        return Err(format!(
            "`{cell}` is later than the limit of {MAX_DURATION}"
        ));
    }
    Ok(time)
}

/// A rate: `400/s`, `2/ms`, `12000/m`, or requests per second.
fn trace_rate(cell: &str) -> Result<f64, String> {
    let rate = match units::parse_number(cell) {
        Ok(per_second) => per_second,
        Err(_) => units::parse_rate(cell)?,
    };
    if !(0.0..=1e9).contains(&rate) {
        return Err(format!(
            "`{cell}` is out of range: expected 0/s to 1000000000/s"
        ));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(csv: &str) -> Result<RatePoints, String> {
        trace_points(csv.as_bytes(), "t.csv")
    }

    fn secs(seconds: f64) -> SimDuration {
        SimDuration::from_secs_f64(seconds)
    }

    #[test]
    fn times_and_rates_take_the_scenario_units() {
        let points = read("time,rate\n0s,400/s\n500ms,2/ms\n1.5min,12000/m\n1h,3600/h\n").unwrap();
        let expected = [
            (secs(0.0), 400.0),
            (secs(0.5), 2000.0),
            (secs(90.0), 200.0),
            (secs(3600.0), 1.0),
        ];
        assert_eq!(points, expected);
    }

    #[test]
    fn a_first_row_at_0s_is_data_not_a_header() {
        assert_eq!(
            read("0s,100/s\n10s,200/s\n").unwrap()[0],
            (secs(0.0), 100.0)
        );
    }

    #[test]
    fn bare_numbers_are_seconds_and_per_second() {
        let points = read("time_s,rate_per_s\n0,500\n20,2000\n1.5,1e3\n");
        assert_eq!(
            points.unwrap_err(),
            "t.csv:4: times must increase: 1.5s comes after 20s"
        );
        let points = read("0,500\n20,2000\n90,1e3\n30m,7/s\n").unwrap();
        let expected = [
            (secs(0.0), 500.0),
            (secs(20.0), 2000.0),
            (secs(90.0), 1000.0),
            (secs(1800.0), 7.0),
        ];
        assert_eq!(points, expected);
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_cell() {
        let cases = [
            (
                "0s,1/s\n5sex,1/s\n",
                "t.csv:2: time: unknown duration unit `sex`",
            ),
            (
                "0s,1/s\n5s,1/sex\n",
                "t.csv:2: rate: unknown rate unit `sex`",
            ),
            (
                "0s,1/s\n5s,400rps\n",
                "t.csv:2: rate: `400rps` is not a rate: write it per unit of time, for example `400/s`",
            ),
            ("0s,1/s\n-5s,1/s\n", "t.csv:2: time: `-5s` is negative"),
            ("0s,1/s\n-5,1/s\n", "t.csv:2: time: `-5` is negative"),
            (
                "0s,1/s\n31d,1/s\n",
                "t.csv:2: time: `31d` is later than the limit",
            ),
            (
                "0s,1/s\n5s,2e9/s\n",
                "t.csv:2: rate: `2e9/s` is out of range",
            ),
            ("0s,1/s\n5s\n", "t.csv:2: expected two columns"),
            ("0s,1/s\n5s,\n", "t.csv:2: an empty cell"),
            ("0s,0/s\n5s,0\n", "every rate is zero"),
            ("time,rate\n", "has no rows"),
        ];
        for (csv, expected) in cases {
            let error = read(csv).unwrap_err();
            assert!(error.contains(expected), "{csv:?}: {error}");
        }
    }

    #[test]
    fn exports_with_quotes_crlf_and_a_byte_order_mark_read() {
        let points = read("\u{feff}\"time\",\"rate\"\r\n\"0s\", \"5/s\"\r\n\"60s\",\"10/s\"\r\n");
        assert_eq!(points.unwrap(), [(secs(0.0), 5.0), (secs(60.0), 10.0)]);
    }

    #[test]
    fn a_line_without_end_is_refused_not_read_whole() {
        let error = read(&format!("0s,1/s\n{}", "9".repeat(5000))).unwrap_err();
        assert!(
            error.starts_with("t.csv:2: the line is longer than"),
            "{error}"
        );
    }

    #[test]
    fn comments_and_blank_lines_keep_line_numbers_true() {
        let error =
            read("# exported from monitoring\ntime,rate\n\n0s,1/s\n# noon\n5s,x/s\n").unwrap_err();
        assert!(error.starts_with("t.csv:6: rate:"), "{error}");
    }
}
