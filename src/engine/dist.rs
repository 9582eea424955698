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
    /// Gamma with this shape and scale (mean shape · scale); an Erlang-k is
    /// the gamma of whole shape k: the sum of k exponential phases.
    Gamma {
        shape: f64,
        scale: f64,
    },
    /// One of the components, chosen with its probability. `cumulative`
    /// holds the running sums of the probabilities, the last exactly 1.
    Mixture {
        cumulative: Vec<f64>,
        components: Vec<Dist>,
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
            Dist::Gamma { shape, scale } => scale * sample_standard_gamma(*shape, rng),
            Dist::Mixture {
                cumulative,
                components,
            } => {
                let pick = rng.uniform();
                let index = cumulative.partition_point(|&upto| upto <= pick);
                components[index.min(components.len() - 1)].sample(rng)
            }
        }
    }

    /// A mixture from (probability, component) pairs whose probabilities
    /// sum to 1 (the last running sum is set to exactly 1, so rounding never
    /// leaves a gap above it).
    pub fn mixture(parts: Vec<(f64, Dist)>) -> Dist {
        let mut running = 0.0;
        let mut cumulative = Vec::with_capacity(parts.len());
        let mut components = Vec::with_capacity(parts.len());
        for (probability, component) in parts {
            running += probability;
            cumulative.push(running);
            components.push(component);
        }
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Dist::Mixture {
            cumulative,
            components,
        }
    }

    /// The two-phase hyperexponential with this mean and coefficient of
    /// variation (≥ 1) and balanced means (each phase carries half the
    /// mean), the usual fit to a measured mean and variance.
    pub fn hyperexponential_from_mean_cv(mean: f64, cv: f64) -> Dist {
        let scv = cv * cv;
        let first = 0.5 * (1.0 + libm::sqrt((scv - 1.0) / (scv + 1.0)));
        let second = 1.0 - first;
        let phase = |probability: f64| Dist::Exponential {
            mean: mean / (2.0 * probability),
        };
        Dist::mixture(vec![(first, phase(first)), (second, phase(second))])
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
            Dist::Gamma { shape, scale } => shape * scale,
            Dist::Mixture { .. } => self.weighted(Dist::mean),
        }
    }

    /// E\[X²\] in nanoseconds squared; infinite for a Pareto with shape ≤ 2.
    /// With the mean it gives the variance, which queueing formulas need
    /// (Pollaczek–Khinchine) and the moment tests check.
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Constant { value } => value * value,
            Dist::Uniform { min, max } => (min * min + min * max + max * max) / 3.0,
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Normal { mean, sd } => truncated_normal_second_moment(*mean, *sd),
            Dist::LogNormal { mu, sigma } => libm::exp(2.0 * mu + 2.0 * sigma * sigma),
            Dist::Pareto { scale, shape } if *shape > 2.0 => shape * scale * scale / (shape - 2.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Weibull { scale, shape } => scale * scale * libm::tgamma(1.0 + 2.0 / shape),
            Dist::Empirical { values } => {
                values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64
            }
            Dist::Gamma { shape, scale } => shape * (shape + 1.0) * scale * scale,
            Dist::Mixture { .. } => self.weighted(Dist::second_moment),
        }
    }

    /// Σ pᵢ · moment(componentᵢ) over a mixture's components.
    fn weighted(&self, moment: fn(&Dist) -> f64) -> f64 {
        let Dist::Mixture {
            cumulative,
            components,
        } = self
        else {
            return moment(self);
        };
        let mut previous = 0.0;
        let mut total = 0.0;
        for (upto, component) in cumulative.iter().zip(components) {
            total += (upto - previous) * moment(component);
            previous = *upto;
        }
        total
    }
}

/// A gamma draw of scale 1 by Marsaglia and Tsang's method (2000), which
/// accepts more than 95% of proposals for any shape ≥ 1; a shape below 1
/// draws shape + 1 and multiplies by U^(1/shape). The cap only bounds the
/// loop: it is never reached in practice.
fn sample_standard_gamma(shape: f64, rng: &mut RngStream) -> f64 {
    if shape < 1.0 {
        let boost = libm::pow(rng.uniform_open_low(), 1.0 / shape);
        return sample_standard_gamma(shape + 1.0, rng) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    for _ in 0..64 {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.uniform_open_low();
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
    shape
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

/// E[X²] of the normal truncated to [0, ∞): the variance
/// sd²·(1 + αλ − λ²), λ = φ(α)/(1 − Φ(α)), plus the squared mean.
fn truncated_normal_second_moment(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        let mean = mean.max(0.0);
        return mean * mean;
    }
    let alpha = -mean / sd;
    let density = libm::exp(-alpha * alpha / 2.0) / libm::sqrt(2.0 * std::f64::consts::PI);
    let lambda = density / (0.5 * libm::erfc(alpha / std::f64::consts::SQRT_2));
    let truncated_mean = mean + sd * lambda;
    sd * sd * (1.0 + alpha * lambda - lambda * lambda) + truncated_mean * truncated_mean
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

    /// Sample mean and sample second moment of `n` draws, with the standard
    /// error of each (estimated from the sample's own second and fourth
    /// moments).
    fn sample_moments(dist: &Dist, n: usize, seed: u64) -> [(f64, f64); 2] {
        let mut rng = RngStream::derive(seed, "dist-test", "moments");
        let mut sums = [0.0f64; 4];
        for _ in 0..n {
            let x = dist.sample(&mut rng);
            let x2 = x * x;
            sums[0] += x;
            sums[1] += x2;
            sums[2] += x2 * x;
            sums[3] += x2 * x2;
        }
        let [m1, m2, _, m4] = sums.map(|sum| sum / n as f64);
        let n = n as f64;
        [
            (m1, libm::sqrt((m2 - m1 * m1) / n)),
            (m2, libm::sqrt((m4 - m2 * m2) / n)),
        ]
    }

    /// The new families' mean and second moment land within 4.5 standard
    /// errors of the closed forms (for a mixture: Σ pᵢ E[Xᵢ] and Σ pᵢ E[Xᵢ²];
    /// Erlang-k of mean m: m and m²(1 + 1/k); gamma: kθ and k(k+1)θ²;
    /// the balanced hyperexponential: m and m²(1 + cv²)).
    #[test]
    fn new_families_match_their_first_two_moments() {
        let erlang = Dist::Gamma {
            shape: 3.0,
            scale: 2.0,
        };
        let cases = [
            (erlang.clone(), 6.0, 36.0 * (1.0 + 1.0 / 3.0)),
            (
                Dist::Gamma {
                    shape: 0.4,
                    scale: 5.0,
                },
                2.0,
                0.4 * 1.4 * 25.0,
            ),
            (
                Dist::Gamma {
                    shape: 40.5,
                    scale: 0.1,
                },
                4.05,
                40.5 * 41.5 * 0.01,
            ),
            (
                Dist::hyperexponential_from_mean_cv(10.0, 3.0),
                10.0,
                100.0 * (1.0 + 9.0),
            ),
            (
                Dist::mixture(vec![
                    (0.999, Dist::Constant { value: 100.0 }),
                    (0.001, Dist::Exponential { mean: 10_000.0 }),
                ]),
                0.999 * 100.0 + 0.001 * 10_000.0,
                0.999 * 10_000.0 + 0.001 * 2.0e8,
            ),
            (
                Dist::mixture(vec![
                    (0.5, erlang),
                    (0.5, Dist::Uniform { min: 1.0, max: 3.0 }),
                ]),
                0.5 * 6.0 + 0.5 * 2.0,
                0.5 * 48.0 + 0.5 * 13.0 / 3.0,
            ),
        ];
        for (index, (dist, mean, second)) in cases.into_iter().enumerate() {
            assert!((dist.mean() - mean).abs() < 1e-9 * mean, "{dist:?}");
            assert!(
                (dist.second_moment() - second).abs() < 1e-9 * second,
                "{dist:?}"
            );
            let [(m1, se1), (m2, se2)] = sample_moments(&dist, 400_000, index as u64);
            assert!(
                (m1 - mean).abs() < 4.5 * se1,
                "{dist:?}: mean {m1} ± {se1}, expected {mean}"
            );
            assert!(
                (m2 - second).abs() < 4.5 * se2,
                "{dist:?}: E[X²] {m2} ± {se2}, expected {second}"
            );
        }
    }

    /// The closed-form second moments of the older families agree with
    /// their samples too (the truncated normal's is the least obvious).
    #[test]
    fn second_moments_of_the_older_families() {
        let cases = [
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::Exponential { mean: 2.0 },
            Dist::Normal { mean: 1.0, sd: 2.0 },
            Dist::LogNormal {
                mu: 0.0,
                sigma: 0.5,
            },
            Dist::Weibull {
                scale: 2.0,
                shape: 1.5,
            },
            Dist::Empirical {
                values: vec![1.0, 2.0, 6.0],
            },
        ];
        for (index, dist) in cases.into_iter().enumerate() {
            let second = dist.second_moment();
            let [_, (m2, se2)] = sample_moments(&dist, 400_000, 100 + index as u64);
            assert!(
                (m2 - second).abs() < 4.5 * se2,
                "{dist:?}: E[X²] {m2} ± {se2}, expected {second}"
            );
        }
    }

    #[test]
    fn a_mixture_picks_each_component_with_its_probability() {
        let dist = Dist::mixture(vec![
            (0.25, Dist::Constant { value: 1.0 }),
            (0.75, Dist::Constant { value: 2.0 }),
        ]);
        let mut rng = RngStream::derive(5, "dist-test", "mixture");
        let ones = (0..100_000)
            .filter(|_| dist.sample(&mut rng) == 1.0)
            .count();
        // Binomial(100000, 0.25): sd 137.
        assert!((ones as f64 - 25_000.0).abs() < 600.0, "{ones}");
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
