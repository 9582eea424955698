//! Simulated time as whole nanoseconds.
//!
//! Floating-point time keys drift and compare differently after arithmetic, so
//! every instant and span in the simulation is an integer count of nanoseconds.
//! `SimTime` is an instant since the start of the run; `SimDuration` is a span.
//! Both format themselves in the largest human unit that keeps them readable.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the run started.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }

    /// The span from `earlier` to `self`, or zero when `earlier` is later:
    /// for callers that compare instants which may come in either order.
    /// `self - earlier` is for spans known to run forwards, and asserts it.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(seconds: u64) -> SimDuration {
        SimDuration(seconds * NANOS_PER_SECOND)
    }

    pub fn from_secs_f64(seconds: f64) -> SimDuration {
        SimDuration::from_nanos_f64(seconds * NANOS_PER_SECOND as f64)
    }

    /// Rounds to the nearest nanosecond, saturating: NaN and negatives become zero.
    pub fn from_nanos_f64(nanos: f64) -> SimDuration {
        if nanos.is_nan() || nanos <= 0.0 {
            SimDuration(0)
        } else if nanos >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration((nanos + 0.5) as u64)
        }
    }

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, span: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(span.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, span: SimDuration) {
        *self = *self + span;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        debug_assert!(self >= earlier, "negative span: {self:?} - {earlier:?}");
        self.since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
}

/// Writes nanoseconds in the largest unit that leaves a whole or short number:
/// `1.5s`, `250ms`, `40us`, `7ns`.
fn write_nanos(f: &mut fmt::Formatter<'_>, nanos: u64) -> fmt::Result {
    const UNITS: [(u64, &str); 6] = [
        (3_600 * NANOS_PER_SECOND, "h"),
        (60 * NANOS_PER_SECOND, "m"),
        (NANOS_PER_SECOND, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    let (size, unit) = UNITS
        .iter()
        .copied()
        .find(|&(size, _)| nanos >= size)
        .unwrap_or((1, "ns"));
    if nanos.is_multiple_of(size) {
        write!(f, "{}{unit}", nanos / size)
    } else {
        let value = nanos as f64 / size as f64;
        write!(f, "{}{unit}", trim_decimals(value))
    }
}

/// Formats with up to three decimals and no trailing zeros.
fn trim_decimals(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_nanos(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_readable_units() {
        let cases = [
            (0, "0ns"),
            (7, "7ns"),
            (40_000, "40us"),
            (250_000_000, "250ms"),
            (1_500_000_000, "1.5s"),
            (60 * NANOS_PER_SECOND, "1m"),
            (90 * NANOS_PER_SECOND, "1.5m"),
            (3_600 * NANOS_PER_SECOND, "1h"),
        ];
        for (nanos, expected) in cases {
            assert_eq!(SimDuration(nanos).to_string(), expected, "{nanos} ns");
        }
    }

    #[test]
    fn float_conversion_rounds_and_saturates() {
        assert_eq!(SimDuration::from_nanos_f64(1.4).0, 1);
        assert_eq!(SimDuration::from_nanos_f64(1.6).0, 2);
        assert_eq!(SimDuration::from_nanos_f64(-3.0).0, 0);
        assert_eq!(SimDuration::from_nanos_f64(f64::NAN).0, 0);
        assert_eq!(SimDuration::from_nanos_f64(1e30).0, u64::MAX);
        assert_eq!(SimDuration::from_secs_f64(0.002).0, 2_000_000);
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(SimTime::MAX + SimDuration(5), SimTime::MAX);
        assert_eq!(SimTime(3).since(SimTime(10)), SimDuration::ZERO);
        assert_eq!(SimTime(10) - SimTime(3), SimDuration(7));
    }
}
