//! Human units in scenario values: `250ms`, `200/s`, `1_000`, `exp(mean=2ms)`.
//!
//! People write scenarios by hand, so values carry their units and the parser
//! insists on them: a bare `250` could be seconds or milliseconds, and that
//! ambiguity is exactly the kind of mistake a what-if analysis cannot afford.
//! Each parser returns a message that names what was expected; the validator
//! adds the file position and the key path.

use crate::engine::Dist;
use crate::engine::keys::KeyModel;
use crate::engine::time::{NANOS_PER_SECOND, SimDuration};

use super::suggest::did_you_mean;

const DURATION_UNITS: [(&str, f64); 9] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("min", 60e9),
    ("h", 3600e9),
    ("d", 86400e9),
];

/// Splits "12.5ms" into (12.5, "ms").
pub fn split_number(text: &str) -> Result<(f64, &str), String> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '+' | 'e' | 'E')))
        .map_or(text.len(), |(index, _)| index);
    // An exponent marker needs digits after it, otherwise the `e` starts a unit.
    let (mut number, mut unit) = text.split_at(end);
    if number.ends_with(['e', 'E']) {
        number = &text[..end - 1];
        unit = &text[end - 1..];
    }
    let cleaned = number.replace('_', "");
    let value: f64 = cleaned
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    if !value.is_finite() {
        return Err(format!("`{text}` is not a finite number"));
    }
    Ok((value, unit.trim()))
}

/// A duration such as `250ms`, `1.5s`, `2m`, `1h`, `4d`. `0` needs no unit.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let (value, unit) = split_number(text)?;
    if value < 0.0 {
        return Err(format!("`{text}` is negative; durations are zero or more"));
    }
    if unit.is_empty() {
        if value == 0.0 {
            return Ok(SimDuration::ZERO);
        }
        return Err(format!(
            "`{text}` needs a unit, for example `{text}ms` or `{text}s`"
        ));
    }
    let scale = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, scale)| scale)
        .ok_or_else(|| {
            unknown_word(
                "duration unit",
                unit,
                &["ns", "us", "ms", "s", "m", "h", "d"],
            )
        })?;
    Ok(SimDuration::from_nanos_f64(value * scale))
}

/// A rate such as `200/s`, `12000/m`, `5/ms`; returns events per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let Some((number, unit)) = text.split_once('/') else {
        // Suggest the number alone, so `400rps` is answered with `400/s`.
        let (number, unit) = split_number(text).unwrap_or((200.0, ""));
        return Err(match unit {
            "" => format!("`{text}` needs a unit, for example `{number}/s`"),
            _ => format!(
                "`{text}` is not a rate: write it per unit of time, for example `{number}/s`"
            ),
        });
    };
    let (value, rest) = split_number(number)?;
    if !rest.is_empty() {
        return Err(format!("`{text}` is not a rate like `200/s`"));
    }
    if value < 0.0 {
        return Err(format!("`{text}` is negative; rates are zero or more"));
    }
    let per = match unit.trim() {
        "ms" => 1e-3,
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => {
            return Err(unknown_word("rate unit", other, &["ms", "s", "m", "h"]));
        }
    };
    Ok(value / per)
}

/// A plain number such as `0.25`, `-3`, `1e6`.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let (value, unit) = split_number(text)?;
    if unit.is_empty() {
        Ok(value)
    } else {
        Err(format!(
            "`{text}` should be a plain number, without `{unit}`"
        ))
    }
}

/// 2⁵³: above it, not every whole number has a float.
const MAX_EXACT_FLOAT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A whole number in `min..=max`; underscores are allowed: `1_000_000`.
/// Plain digits are read as an integer, exactly (a seed such as
/// 9007199254740993 must not pass through a float); other forms (`1e6`) only
/// where a float holds them exactly.
pub fn parse_count(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let out_of_range = || format!("`{text}` is out of range: expected {min} to {max}");
    let cleaned = text.trim().replace('_', "");
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match digits.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            _ => Err(out_of_range()),
        };
    }
    let value = parse_number(text)?;
    if value.abs() > MAX_EXACT_FLOAT_INTEGER {
        return Err(format!(
            "`{text}` is too large to be exact in this form: write out its digits"
        ));
    }
    if value.fract() != 0.0 {
        return Err(format!("`{text}` should be a whole number"));
    }
    if value < min as f64 || value > max as f64 {
        return Err(out_of_range());
    }
    Ok(value as u64)
}

/// A probability in [0, 1], as `0.01` or `1%`.
pub fn parse_probability(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => parse_number(percent)? / 100.0,
        None => parse_number(trimmed)?,
    };
    if !(0.0..=1.0).contains(&value) {
        return Err(format!(
            "`{text}` is not a probability: expected 0 to 1 (or 0% to 100%)"
        ));
    }
    Ok(value)
}

pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "yes" | "on" => Ok(true),
        "false" | "no" | "off" => Ok(false),
        other => Err(format!("`{other}` should be true or false")),
    }
}

/// "unknown X `w`: expected one of …", with a did-you-mean when one is close.
pub fn unknown_word(what: &str, word: &str, expected: &[&str]) -> String {
    let mut message = format!(
        "unknown {what} `{word}`: expected one of {}",
        expected.join(", ")
    );
    if let Some(suggestion) = did_you_mean(word, expected.iter().copied()) {
        message.push_str(&format!(" (did you mean `{suggestion}`?)"));
    }
    message
}

pub const DIST_FAMILIES: [&str; 12] = [
    "constant",
    "uniform",
    "exp",
    "normal",
    "lognormal",
    "pareto",
    "weibull",
    "empirical",
    "erlang",
    "gamma",
    "hyperexp",
    "mixture",
];

/// How deeply distributions may nest inside mixtures: enough for any model,
/// and a bound on the parser's recursion whatever the input.
const MAX_DIST_NESTING: usize = 4;

/// Splits at the commas outside any parentheses, so that a mixture's
/// components may be distributions with arguments of their own.
fn split_top_level(inside: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, byte) in inside.bytes().enumerate() {
        match byte {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                parts.push(inside[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(inside[start..].trim());
    parts.retain(|part| !part.is_empty());
    parts
}

/// The deepest nesting of parentheses in `text`.
fn nesting_depth(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for byte in text.bytes() {
        match byte {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Arguments of a distribution expression: positional values and `key=value`.
struct Args<'a> {
    family: &'a str,
    positional: Vec<&'a str>,
    named: Vec<(&'a str, &'a str)>,
}

impl<'a> Args<'a> {
    fn parse(family: &'a str, inside: &'a str) -> Args<'a> {
        let mut args = Args {
            family,
            positional: Vec::new(),
            named: Vec::new(),
        };
        for part in split_top_level(inside) {
            match part.split_once('=') {
                Some((key, value)) => args.named.push((key.trim(), value.trim())),
                None => args.positional.push(part),
            }
        }
        args
    }

    /// Fails on any named argument not in `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        for (key, _) in &self.named {
            if !allowed.contains(key) {
                let what = format!("parameter of {}()", self.family);
                return Err(unknown_word(&what, key, allowed));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.named.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }

    fn duration(&self, key: &str) -> Result<f64, String> {
        let text = self.required(key)?;
        bounded_duration(text).map_err(|e| format!("{}(): `{key}`: {e}", self.family))
    }

    fn positive_duration(&self, key: &str) -> Result<f64, String> {
        let value = self.duration(key)?;
        if value <= 0.0 {
            return Err(format!("{}(): `{key}` must be more than zero", self.family));
        }
        Ok(value)
    }

    fn positive_number(&self, key: &str) -> Result<f64, String> {
        let value = parse_number(self.required(key)?)?;
        if value <= 0.0 {
            return Err(format!("{}(): `{key}` must be more than zero", self.family));
        }
        Ok(value)
    }

    fn required(&self, key: &str) -> Result<&'a str, String> {
        self.get(key)
            .ok_or_else(|| format!("{}() needs `{key}=…`", self.family))
    }
}

/// A key-popularity model: `zipf(count=100000, exponent=1.1)` or
/// `uniform(count=1000)`.
pub fn parse_keys(text: &str) -> Result<KeyModel, String> {
    let text = text.trim();
    let shapes = ["zipf(count=…, exponent=…)", "uniform(count=…)"];
    let Some((family, inside)) = text.strip_suffix(')').and_then(|t| t.split_once('(')) else {
        return Err(format!(
            "`{text}` is not a key model: expected {}",
            shapes.join(" or ")
        ));
    };
    let args = Args::parse(family.trim(), inside);
    let count = parse_count(args.required("count")?, 1, 1_000_000_000_000)?;
    match family.trim() {
        "uniform" => {
            args.only(&["count"])?;
            Ok(KeyModel::Uniform { count })
        }
        "zipf" => {
            args.only(&["count", "exponent"])?;
            let exponent = args.positive_number("exponent")?;
            if exponent > 10.0 {
                return Err(format!(
                    "zipf(): `exponent` {exponent} is out of range: expected more than 0, at most 10"
                ));
            }
            Ok(KeyModel::Zipf { count, exponent })
        }
        other => Err(unknown_word("key model", other, &["zipf", "uniform"])),
    }
}

/// The longest duration a scenario may name anywhere, inside distributions
/// too: 30 days. Longer ones are typos (`1e308s`) and would overflow the clock.
pub const MAX_DURATION: SimDuration = SimDuration(30 * 24 * 3_600 * 1_000_000_000);

/// A duration in nanoseconds, within [`MAX_DURATION`].
fn bounded_duration(text: &str) -> Result<f64, String> {
    let duration = parse_duration(text)?;
    if duration > MAX_DURATION {
        return Err(format!(
            "`{}` is longer than the limit of {MAX_DURATION}",
            text.trim()
        ));
    }
    Ok(duration.as_nanos() as f64)
}

/// A distribution of durations: `exp(mean=2ms)`, `lognormal(median=5ms,
/// p99=40ms)`, or a bare duration such as `5ms` for a constant.
pub fn parse_dist(text: &str) -> Result<Dist, String> {
    if nesting_depth(text) > MAX_DIST_NESTING {
        return Err(format!(
            "distributions nest at most {MAX_DIST_NESTING} deep: `{}`",
            text.trim()
        ));
    }
    parse_dist_within(text)
}

fn parse_dist_within(text: &str) -> Result<Dist, String> {
    let text = text.trim();
    let Some(open) = text.find('(') else {
        return bounded_duration(text)
            .map(|value| Dist::Constant { value })
            .map_err(|e| format!("{e}; a distribution is a duration like `5ms` or an expression like `exp(mean=5ms)`"));
    };
    let Some(inside) = text[open + 1..].strip_suffix(')') else {
        return Err(format!("`{text}` is missing its closing `)`"));
    };
    let family = text[..open].trim();
    let args = Args::parse(family, inside);
    match family {
        "constant" | "const" => constant(&args),
        "uniform" => uniform(&args),
        "exp" | "exponential" => {
            args.only(&["mean"])?;
            Ok(Dist::Exponential {
                mean: args.positive_duration("mean")?,
            })
        }
        "normal" => normal(&args),
        "lognormal" => lognormal(&args),
        "pareto" | "weibull" => scale_shape(&args),
        "empirical" => empirical(&args),
        "erlang" => erlang(&args),
        "gamma" => gamma(&args),
        "hyperexp" | "hyperexponential" if !inside.contains(':') => hyperexp(&args),
        "mixture" | "hyperexp" | "hyperexponential" => mixture(family, inside),
        other => Err(unknown_word("distribution", other, &DIST_FAMILIES)),
    }
}

fn constant(args: &Args) -> Result<Dist, String> {
    args.only(&["value"])?;
    let text = match (args.positional.as_slice(), args.get("value")) {
        ([one], None) => *one,
        ([], Some(value)) => value,
        _ => return Err("constant() takes one duration: `constant(5ms)`".to_string()),
    };
    Ok(Dist::Constant {
        value: bounded_duration(text)?,
    })
}

fn uniform(args: &Args) -> Result<Dist, String> {
    args.only(&["min", "max"])?;
    let (min, max) = (args.duration("min")?, args.duration("max")?);
    if max < min {
        return Err("uniform(): `max` is less than `min`".to_string());
    }
    Ok(Dist::Uniform { min, max })
}

fn normal(args: &Args) -> Result<Dist, String> {
    args.only(&["mean", "sd"])?;
    let mean = args.positive_duration("mean")?;
    let sd = args.duration("sd")?;
    Ok(Dist::Normal { mean, sd })
}

fn lognormal(args: &Args) -> Result<Dist, String> {
    args.only(&["median", "p99", "mu", "sigma"])?;
    if args.get("median").is_some() {
        let median = args.positive_duration("median")?;
        let p99 = args.positive_duration("p99")?;
        if p99 < median {
            return Err("lognormal(): `p99` is less than `median`".to_string());
        }
        return Ok(Dist::lognormal_from_median_p99(median, p99));
    }
    // mu is the mean of ln(X) with X in seconds, the usual textbook convention.
    let mu_seconds = parse_number(args.required("mu").map_err(|_| {
        "lognormal() needs either `median=…, p99=…` or `mu=…, sigma=…`".to_string()
    })?)?;
    let sigma = parse_number(args.required("sigma")?)?;
    if sigma < 0.0 {
        return Err("lognormal(): `sigma` must be zero or more".to_string());
    }
    let mu = mu_seconds + libm::log(NANOS_PER_SECOND as f64);
    let dist = Dist::LogNormal { mu, sigma };
    let mean = dist.mean();
    if !mean.is_finite() || mean > MAX_DURATION.as_nanos() as f64 {
        return Err(format!(
            "lognormal(mu={mu_seconds}, sigma={sigma}) has a mean beyond the limit of {MAX_DURATION}: `mu` is ln of seconds, so `mu=0` is a median of 1s"
        ));
    }
    Ok(dist)
}

fn scale_shape(args: &Args) -> Result<Dist, String> {
    args.only(&["scale", "shape"])?;
    let scale = args.positive_duration("scale")?;
    let shape = args.positive_number("shape")?;
    Ok(match args.family {
        "pareto" => Dist::Pareto { scale, shape },
        _ => Dist::Weibull { scale, shape },
    })
}

/// `erlang(k=3, mean=6ms)`: k exponential phases in a row, each k times
/// shorter than the mean; less variable than one exponential (cv = 1/√k).
fn erlang(args: &Args) -> Result<Dist, String> {
    args.only(&["k", "mean"])?;
    let k = parse_count(args.required("k")?, 1, 10_000)
        .map_err(|e| format!("erlang(): `k`: {e}"))? as f64;
    let mean = args.positive_duration("mean")?;
    Ok(Dist::Gamma {
        shape: k,
        scale: mean / k,
    })
}

/// `gamma(shape=0.5, mean=2ms)` or `gamma(shape=2, scale=1ms)`.
fn gamma(args: &Args) -> Result<Dist, String> {
    args.only(&["shape", "mean", "scale"])?;
    let shape = args.positive_number("shape")?;
    if !(0.01..=10_000.0).contains(&shape) {
        return Err(format!(
            "gamma(): `shape` {shape} is out of range: expected 0.01 to 10000"
        ));
    }
    let scale = match (args.get("mean"), args.get("scale")) {
        (Some(_), None) => args.positive_duration("mean")? / shape,
        (None, Some(_)) => args.positive_duration("scale")?,
        (Some(_), Some(_)) => {
            return Err("gamma() takes `mean=…` or `scale=…`, not both".to_string());
        }
        _ => return Err("gamma() needs `shape=…` and one of `mean=…` or `scale=…`".to_string()),
    };
    if shape * scale > MAX_DURATION.as_nanos() as f64 {
        return Err(format!(
            "gamma(): the mean is beyond the limit of {MAX_DURATION}"
        ));
    }
    Ok(Dist::Gamma { shape, scale })
}

/// `hyperexp(mean=10ms, cv=3)`: two exponential phases with balanced means,
/// fitted to a mean and a coefficient of variation of at least 1.
fn hyperexp(args: &Args) -> Result<Dist, String> {
    args.only(&["mean", "cv"])?;
    let mean = args.positive_duration("mean")?;
    let cv = args.positive_number("cv")?;
    if !(1.0..=100.0).contains(&cv) {
        return Err(format!(
            "hyperexp(): `cv` {cv} is out of range: expected 1 to 100 (below 1, try `erlang` or `gamma`)"
        ));
    }
    Ok(Dist::hyperexponential_from_mean_cv(mean, cv))
}

/// `mixture(99.9%: 100us, 0.1%: 10ms)`: each component (any distribution)
/// with its probability; the probabilities sum to 1. `hyperexp(0.9: 1ms,
/// 0.1: 10ms)` is the mixture of exponentials with those means.
fn mixture(family: &str, inside: &str) -> Result<Dist, String> {
    let exponential_phases = family != "mixture";
    let shape = if exponential_phases {
        "`hyperexp(0.9: 1ms, 0.1: 10ms)` (probability: mean of each phase)"
    } else {
        "`mixture(99.9%: 100us, 0.1%: exp(mean=10ms))` (probability: distribution)"
    };
    let parts = split_top_level(inside);
    if parts.len() < 2 || parts.len() > 100 {
        return Err(format!("{family}() takes 2 to 100 components: {shape}"));
    }
    let mut components = Vec::with_capacity(parts.len());
    for part in parts {
        let Some((probability, component)) = part.split_once(':') else {
            return Err(format!("{family}(): `{part}` has no probability: {shape}"));
        };
        let probability = parse_probability(probability).map_err(|e| format!("{family}(): {e}"))?;
        if probability == 0.0 {
            return Err(format!("{family}(): `{part}` has probability zero"));
        }
        let component = if exponential_phases {
            Dist::Exponential {
                mean: bounded_duration(component).map_err(|e| {
                    format!("{family}(): {e}; each phase is the mean of an exponential (for other distributions, use mixture())")
                })?,
            }
        } else {
            parse_dist_within(component)?
        };
        components.push((probability, component));
    }
    let total: f64 = components.iter().map(|(p, _)| p).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(format!(
            "{family}(): the probabilities sum to {total}, not 1 (100%)"
        ));
    }
    Ok(Dist::mixture(components))
}

fn empirical(args: &Args) -> Result<Dist, String> {
    if !args.named.is_empty() || args.positional.is_empty() {
        return Err(
            "empirical() takes a list of durations: `empirical(1ms, 2ms, 8ms)`".to_string(),
        );
    }
    if args.positional.len() > 100_000 {
        return Err("empirical() takes at most 100000 values".to_string());
    }
    let values = args
        .positional
        .iter()
        .map(|text| bounded_duration(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Dist::Empirical { values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        let cases = [
            ("250ms", 250_000_000),
            ("1.5s", 1_500_000_000),
            ("2m", 120_000_000_000),
            ("1h", 3_600_000_000_000),
            ("40us", 40_000),
            ("7ns", 7),
            ("0", 0),
            (" 3 s ", 3_000_000_000),
            ("1_000ms", 1_000_000_000),
            ("1e3ms", 1_000_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(nanos)), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        let cases = [
            ("250", "needs a unit"),
            ("-5ms", "negative"),
            ("5 secs", "did you mean `s`"),
            ("fast", "does not start with a number"),
            ("5msec", "unknown duration unit"),
        ];
        for (text, fragment) in cases {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("200/s"), Ok(200.0));
        assert_eq!(parse_rate("120/m"), Ok(2.0));
        assert_eq!(parse_rate("3600/h"), Ok(1.0));
        assert_eq!(parse_rate("2/ms"), Ok(2000.0));
        assert!(parse_rate("200").unwrap_err().contains("200/s"));
        assert!(parse_rate("400rps").unwrap_err().contains("`400/s`"));
        assert!(parse_rate("-1/s").unwrap_err().contains("negative"));
        assert!(
            parse_rate("5/sex")
                .unwrap_err()
                .contains("did you mean `s`")
        );
    }

    #[test]
    fn counts_and_probabilities() {
        assert_eq!(parse_count("1_000", 1, 10_000), Ok(1000));
        assert!(
            parse_count("0", 1, 10)
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_count("2.5", 1, 10)
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(parse_probability("0.25"), Ok(0.25));
        assert_eq!(parse_probability("5%"), Ok(0.05));
        assert!(
            parse_probability("1.5")
                .unwrap_err()
                .contains("not a probability")
        );
    }

    #[test]
    fn distributions_parse_to_nanoseconds() {
        let cases = [
            ("5ms", Dist::Constant { value: 5e6 }),
            ("constant(2s)", Dist::Constant { value: 2e9 }),
            ("exp(mean=2ms)", Dist::Exponential { mean: 2e6 }),
            (
                "uniform(min=1ms, max=3ms)",
                Dist::Uniform { min: 1e6, max: 3e6 },
            ),
            (
                "normal(mean=10ms, sd=2ms)",
                Dist::Normal { mean: 1e7, sd: 2e6 },
            ),
            (
                "pareto(scale=1ms, shape=2.5)",
                Dist::Pareto {
                    scale: 1e6,
                    shape: 2.5,
                },
            ),
            (
                "weibull(scale=1ms, shape=1.5)",
                Dist::Weibull {
                    scale: 1e6,
                    shape: 1.5,
                },
            ),
            (
                "empirical(1ms, 2ms)",
                Dist::Empirical {
                    values: vec![1e6, 2e6],
                },
            ),
            (
                "erlang(k=4, mean=8ms)",
                Dist::Gamma {
                    shape: 4.0,
                    scale: 2e6,
                },
            ),
            (
                "gamma(shape=0.5, mean=2ms)",
                Dist::Gamma {
                    shape: 0.5,
                    scale: 4e6,
                },
            ),
            (
                "gamma(shape=2, scale=1ms)",
                Dist::Gamma {
                    shape: 2.0,
                    scale: 1e6,
                },
            ),
            (
                "mixture(0.999: 100us, 0.001: exp(mean=10ms))",
                Dist::Mixture {
                    cumulative: vec![0.999, 1.0],
                    components: vec![
                        Dist::Constant { value: 1e5 },
                        Dist::Exponential { mean: 1e7 },
                    ],
                },
            ),
            (
                "hyperexp(0.9: 1ms, 0.1: 10ms)",
                Dist::Mixture {
                    cumulative: vec![0.9, 1.0],
                    components: vec![
                        Dist::Exponential { mean: 1e6 },
                        Dist::Exponential { mean: 1e7 },
                    ],
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_dist(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn lognormal_forms_agree_on_the_median() {
        let Ok(Dist::LogNormal { mu, .. }) = parse_dist("lognormal(median=5ms, p99=40ms)") else {
            panic!("lognormal did not parse");
        };
        assert!((libm::exp(mu) - 5e6).abs() < 1.0);
        let Ok(Dist::LogNormal { mu, sigma }) = parse_dist("lognormal(mu=0, sigma=0.5)") else {
            panic!("lognormal did not parse");
        };
        assert!((libm::exp(mu) - 1e9).abs() < 1e-3);
        assert_eq!(sigma, 0.5);
    }

    #[test]
    fn bad_distributions_say_what_is_wrong() {
        let cases = [
            ("expo(mean=2ms)", "did you mean `exp`"),
            ("exp(maen=2ms)", "did you mean `mean`"),
            ("exp(mean=2ms", "closing"),
            ("exp()", "needs `mean=…`"),
            ("uniform(min=3ms, max=1ms)", "less than"),
            ("lognormal(median=5ms)", "needs `p99=…`"),
            ("pareto(scale=1ms, shape=0)", "more than zero"),
            ("empirical()", "list of durations"),
            ("2", "needs a unit"),
            ("mixture(0.5: 1ms, 0.4: 2ms)", "sum to 0.9"),
            ("mixture(1ms, 2ms)", "has no probability"),
            ("mixture(1: 1ms)", "2 to 100 components"),
            (
                "mixture(0.5: 1ms, 0.5: expo(mean=1ms))",
                "did you mean `exp`",
            ),
            ("mixture(1.5: 1ms, -0.5: 2ms)", "not a probability"),
            (
                "mixture(0.5: 1ms, 0.5: mixture(0.5: 1ms, 0.5: mixture(0.5: 1ms, 0.5: mixture(0.5: 1ms, 0.5: exp(mean=1ms)))))",
                "nest at most",
            ),
            ("erlang(k=2.5, mean=1ms)", "whole number"),
            ("erlang(mean=1ms)", "needs `k=…`"),
            ("gamma(shape=2)", "one of `mean=…` or `scale=…`"),
            ("gamma(shape=0.001, mean=1ms)", "out of range"),
            ("hyperexp(mean=1ms, cv=0.5)", "try `erlang`"),
            ("hyperexp(0.9: 1ms, 0.1: exp)", "hyperexp()"),
            ("hyperexp(0.5: exp(mean=1ms), 0.5: 2ms)", "use mixture()"),
            ("gamma(shape=2, mean=1ms, scale=1ms)", "not both"),
        ];
        for (text, fragment) in cases {
            let error = parse_dist(text).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }
}
