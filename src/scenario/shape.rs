//! How an open-loop source's rate varies over time.
//!
//! A [`Shape`] is a rate multiplier as a function of simulated time: a spike,
//! a step, a ramp, a sine wave (a diurnal cycle), or a list of points (written
//! in the scenario, or replayed from a CSV trace). The source draws candidate
//! arrivals at the peak rate and keeps each with probability rate(t) ÷ peak
//! (thinning), which is an exact non-homogeneous Poisson process whatever the
//! shape. This module is pure arithmetic; `sin` comes from `libm`.

use crate::engine::SimDuration;

/// A rate multiplier over time, relative to the source's `rate`.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// × multiplier from `at` for `duration`, then back to normal.
    Spike {
        at: SimDuration,
        duration: SimDuration,
        multiplier: f64,
    },
    /// × multiplier from `at` to the end of the run.
    Step { at: SimDuration, multiplier: f64 },
    /// From × 1 at `at`, linearly to × multiplier at `at + duration`, then held.
    Ramp {
        at: SimDuration,
        duration: SimDuration,
        multiplier: f64,
    },
    /// × (1 + amplitude · sin(2π · (t − at) / period)): a daily cycle, say.
    Sine {
        at: SimDuration,
        period: SimDuration,
        amplitude: f64,
    },
    /// Multipliers at instants (sorted, first at or after zero), held before the
    /// first and after the last; between points either held (`linear: false`)
    /// or interpolated.
    Points {
        points: Vec<(SimDuration, f64)>,
        linear: bool,
    },
}

impl Shape {
    /// The rate multiplier at `t` (time since the start).
    pub fn multiplier_at(&self, t: SimDuration) -> f64 {
        match self {
            Shape::Spike {
                at,
                duration,
                multiplier,
            } if t >= *at && t < *at + *duration => *multiplier,
            Shape::Step { at, multiplier } if t >= *at => *multiplier,
            Shape::Ramp {
                at,
                duration,
                multiplier,
            } if t >= *at => {
                let progress =
                    ((t.as_nanos() - at.as_nanos()) as f64 / duration.as_nanos() as f64).min(1.0);
                1.0 + (multiplier - 1.0) * progress
            }
            Shape::Sine {
                at,
                period,
                amplitude,
            } => {
                let phase = (t.as_nanos() as f64 - at.as_nanos() as f64) / period.as_nanos() as f64;
                1.0 + amplitude * libm::sin(2.0 * core::f64::consts::PI * phase)
            }
            Shape::Points { points, linear } => points_at(points, *linear, t),
            _ => 1.0,
        }
    }

    /// The largest multiplier, the rate candidates are drawn at.
    pub fn peak(&self) -> f64 {
        match self {
            Shape::Spike { multiplier, .. }
            | Shape::Step { multiplier, .. }
            | Shape::Ramp { multiplier, .. } => multiplier.max(1.0),
            Shape::Sine { amplitude, .. } => 1.0 + amplitude,
            Shape::Points { points, .. } => points.iter().map(|&(_, m)| m).fold(0.0, f64::max),
        }
    }

    /// The disturbance the report shades and measures recovery from, if the
    /// shape has one: [start, end), where `end` is `None` when it lasts to the
    /// end of the run. Cycles and traces have no single disturbance.
    pub fn disturbance(&self) -> Option<(SimDuration, Option<SimDuration>)> {
        match *self {
            Shape::Spike { at, duration, .. } => Some((at, Some(at + duration))),
            Shape::Step { at, .. } | Shape::Ramp { at, .. } => Some((at, None)),
            Shape::Sine { .. } | Shape::Points { .. } => None,
        }
    }

    /// The window the shape disturbs, if it ends: [start, end).
    pub fn trigger_window(&self) -> Option<(SimDuration, SimDuration)> {
        match self.disturbance()? {
            (start, Some(end)) => Some((start, end)),
            (_, None) => None,
        }
    }
}

/// The multiplier of a point list at `t`.
fn points_at(points: &[(SimDuration, f64)], linear: bool, t: SimDuration) -> f64 {
    // Index of the first point after t.
    let next = points.partition_point(|&(at, _)| at <= t);
    match (next, points.get(next)) {
        (0, _) => points.first().map_or(1.0, |&(_, m)| m),
        (_, None) => points[next - 1].1,
        (_, Some(&(to_at, to))) => {
            let (from_at, from) = points[next - 1];
            if !linear {
                return from;
            }
            let span = (to_at.as_nanos() - from_at.as_nanos()) as f64;
            from + (to - from) * ((t.as_nanos() - from_at.as_nanos()) as f64 / span)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(seconds: u64) -> SimDuration {
        SimDuration(seconds * 1_000_000_000)
    }

    #[test]
    fn multipliers_follow_each_shape() {
        let ramp = Shape::Ramp {
            at: s(10),
            duration: s(10),
            multiplier: 3.0,
        };
        let sine = Shape::Sine {
            at: s(0),
            period: s(40),
            amplitude: 0.5,
        };
        let steps = Shape::Points {
            points: vec![(s(0), 1.0), (s(10), 2.0), (s(20), 0.5)],
            linear: false,
        };
        let lines = Shape::Points {
            points: vec![(s(10), 1.0), (s(20), 2.0)],
            linear: true,
        };
        let cases: [(&Shape, u64, f64); 12] = [
            (&ramp, 5, 1.0),
            (&ramp, 15, 2.0),
            (&ramp, 25, 3.0),
            (&sine, 0, 1.0),
            (&sine, 10, 1.5),
            (&sine, 30, 0.5),
            (&steps, 5, 1.0),
            (&steps, 10, 2.0),
            (&steps, 99, 0.5),
            (&lines, 0, 1.0),
            (&lines, 15, 1.5),
            (&lines, 30, 2.0),
        ];
        for (shape, at, expected) in cases {
            let got = shape.multiplier_at(s(at));
            assert!((got - expected).abs() < 1e-9, "{shape:?} at {at}s: {got}");
        }
        assert_eq!(ramp.peak(), 3.0);
        assert_eq!(sine.peak(), 1.5);
        assert_eq!(steps.peak(), 2.0);
    }

    #[test]
    fn only_spikes_have_a_trigger_that_ends() {
        let spike = Shape::Spike {
            at: s(5),
            duration: s(2),
            multiplier: 3.0,
        };
        assert_eq!(spike.trigger_window(), Some((s(5), s(7))));
        let step = Shape::Step {
            at: s(5),
            multiplier: 2.0,
        };
        assert_eq!(step.trigger_window(), None);
        assert_eq!(step.disturbance(), Some((s(5), None)));
    }
}
