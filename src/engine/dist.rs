//! Probability distributions of durations, sampled bit-for-bit identically on
//! every platform.
//!
//! The samplers are written here, by inverse transform or Box–Muller, with
//! explicit `libm` calls instead of `f64::ln`/`exp`/`powf`, whose results may
//! differ in the last bit between platforms and so break "same seed, same
//! bytes". Every parameter and every sample is in nanoseconds.

use super::rng::RngStream;

/// z such that P(Z < z) = 0.99 for a standard normal Z.
pub const Z_99: f64 = 2.326_347_874_040_841;

/// A distribution of non-negative durations, in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Normal, truncated at zero by rejection.
    Normal {
        mean: f64,
        sd: f64,
    },
    /// ln(X) is normal with mean `mu` and deviation `sigma` (X in nanoseconds).
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// P(X > x) = (scale / x)^shape for x ≥ scale.
    Pareto {
        scale: f64,
        shape: f64,
    },
    Weibull {
        scale: f64,
        shape: f64,
    },
    /// Each listed value with equal probability.
    Empirical {
        values: Vec<f64>,
    },
}

impl Dist {
    /// The lognormal whose median and 99th percentile are as given.
    pub fn lognormal_from_median_p99(median: f64, p99: f64) -> Dist {
        let mu = libm::log(median);
        let sigma = (libm::log(p99) - mu) / Z_99;
        Dist::LogNormal { mu, sigma }
    }

    /// Draws one duration, in nanoseconds (never negative).
    pub fn sample(&self, rng: &mut RngStream) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Uniform { min, max } => min + (max - min) * rng.uniform(),
            Dist::Exponential { mean } => -mean * libm::log(rng.uniform_open_low()),
            Dist::Normal { mean, sd } => sample_truncated_normal(*mean, *sd, rng),
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * standard_normal(rng)),
            Dist::Pareto { scale, shape } => {
                scale * libm::pow(rng.uniform_open_low(), -1.0 / shape)
            }
            Dist::Weibull { scale, shape } => {
                scale * libm::pow(-libm::log(rng.uniform_open_low()), 1.0 / shape)
            }
            Dist::Empirical { values } => {
                let index = rng.below(values.len() as u32) as usize;
                values[index]
            }
        }
    }

    /// The mean in nanoseconds; infinite for a Pareto with shape ≤ 1.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Exponential { mean } => *mean,
            Dist::Normal { mean, sd } => truncated_normal_mean(*mean, *sd),
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Pareto { scale, shape } if *shape > 1.0 => shape * scale / (shape - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Weibull { scale, shape } => scale * libm::tgamma(1.0 + 1.0 / shape),
            Dist::Empirical { values } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// One standard normal draw by Box–Muller (the cosine half).
fn standard_normal(rng: &mut RngStream) -> f64 {
    let radius = libm::sqrt(-2.0 * libm::log(rng.uniform_open_low()));
    let angle = 2.0 * std::f64::consts::PI * rng.uniform();
    radius * libm::cos(angle)
}

/// Rejection sampling of the normal restricted to [0, ∞). Validation keeps the
/// mean positive, so acceptance is above one half and the cap is never reached
/// in practice; it only bounds the loop.
fn sample_truncated_normal(mean: f64, sd: f64, rng: &mut RngStream) -> f64 {
    for _ in 0..64 {
        let x = mean + sd * standard_normal(rng);
        if x >= 0.0 {
            return x;
        }
    }
    0.0
}

/// Mean of the normal truncated to [0, ∞): mean + sd·φ(α)/(1 − Φ(α)), α = −mean/sd.
fn truncated_normal_mean(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return mean.max(0.0);
    }
    let alpha = -mean / sd;
    let density = libm::exp(-alpha * alpha / 2.0) / libm::sqrt(2.0 * std::f64::consts::PI);
    let upper_tail = 0.5 * libm::erfc(alpha / std::f64::consts::SQRT_2);
    mean + sd * density / upper_tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_mean(dist: &Dist, n: usize) -> f64 {
        let mut rng = RngStream::derive(1, "dist-test", "mean");
        (0..n).map(|_| dist.sample(&mut rng)).sum::<f64>() / n as f64
    }

    /// Each distribution's sample mean is within 2% of its analytic mean.
    #[test]
    fn sample_means_match_analytic_means() {
        let cases = [
            Dist::Constant { value: 5.0 },
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::Exponential { mean: 2.0 },
            Dist::Normal {
                mean: 10.0,
                sd: 2.0,
            },
            Dist::Normal { mean: 1.0, sd: 2.0 },
            Dist::LogNormal {
                mu: 0.0,
                sigma: 0.5,
            },
            Dist::Pareto {
                scale: 1.0,
                shape: 3.5,
            },
            Dist::Weibull {
                scale: 2.0,
                shape: 1.5,
            },
            Dist::Empirical {
                values: vec![1.0, 2.0, 6.0],
            },
        ];
        for dist in cases {
            let expected = dist.mean();
            let measured = sample_mean(&dist, 400_000);
            let relative = (measured - expected).abs() / expected;
            assert!(
                relative < 0.02,
                "{dist:?}: mean {measured}, expected {expected}"
            );
        }
    }

    #[test]
    fn lognormal_by_median_and_p99_hits_both_quantiles() {
        let dist = Dist::lognormal_from_median_p99(5.0, 40.0);
        let mut rng = RngStream::derive(3, "dist-test", "lognormal");
        let mut draws: Vec<f64> = (0..200_000).map(|_| dist.sample(&mut rng)).collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[draws.len() / 2];
        let p99 = draws[draws.len() * 99 / 100];
        assert!((median - 5.0).abs() < 0.1, "median {median}");
        assert!((p99 - 40.0).abs() < 1.5, "p99 {p99}");
    }

    #[test]
    fn samples_are_never_negative() {
        let dist = Dist::Normal { mean: 0.5, sd: 3.0 };
        let mut rng = RngStream::derive(9, "dist-test", "truncation");
        assert!((0..100_000).all(|_| dist.sample(&mut rng) >= 0.0));
    }

    #[test]
    fn exponential_draws_are_pinned_bit_for_bit() {
        // The same stream gives the same bits on every platform: libm, not std.
        let dist = Dist::Exponential { mean: 1e6 };
        let mut rng = RngStream::derive(42, "golden", "exp");
        let draws: Vec<u64> = (0..3).map(|_| dist.sample(&mut rng).to_bits()).collect();
        assert_eq!(draws, GOLDEN_EXP_BITS);
    }

    const GOLDEN_EXP_BITS: [u64; 3] = [
        4698377397593989911,
        4675229180121417193,
        4686819331160068658,
    ];
}
