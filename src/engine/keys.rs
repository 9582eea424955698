//! Which key a request asks for: uniform or Zipf popularity over N keys.
//!
//! Caches hit or miss by key, and consistent hashing routes by it, so the
//! popularity model decides hit ratios and hot spots. Zipf is sampled by
//! rejection-inversion (Hörmann and Derflinger, 1996), which needs no table,
//! so a hundred million keys cost nothing; every step uses `libm` so a seed
//! gives the same keys everywhere.

use super::rng::RngStream;

/// How often each of `count` keys is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyModel {
    /// Every key equally likely.
    Uniform { count: u64 },
    /// Key k (1-based rank) with probability ∝ 1 / k^exponent.
    Zipf { count: u64, exponent: f64 },
}

impl KeyModel {
    pub fn count(&self) -> u64 {
        match *self {
            KeyModel::Uniform { count } | KeyModel::Zipf { count, .. } => count,
        }
    }

    /// A sampler for this model (Zipf precomputes three constants).
    pub fn sampler(&self) -> KeySampler {
        KeySampler::new(*self)
    }
}

/// Draws keys, 0-based: key 0 is the most popular under Zipf.
#[derive(Clone, Debug)]
pub struct KeySampler {
    model: KeyModel,
    h_integral_x1: f64,
    h_integral_n: f64,
    s_cut: f64,
}

impl KeySampler {
    fn new(model: KeyModel) -> KeySampler {
        let mut sampler = KeySampler {
            model,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            s_cut: 0.0,
        };
        if let KeyModel::Zipf { count, exponent } = model {
            sampler.h_integral_x1 = h_integral(1.5, exponent) - 1.0;
            sampler.h_integral_n = h_integral(count as f64 + 0.5, exponent);
            sampler.s_cut =
                2.0 - h_integral_inverse(h_integral(2.5, exponent) - h(2.0, exponent), exponent);
        }
        sampler
    }

    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        match self.model {
            KeyModel::Uniform { count } => (rng.uniform() * count as f64) as u64 % count,
            KeyModel::Zipf { count, exponent } => self.zipf(rng, count, exponent) - 1,
        }
    }

    /// A rank in 1..=count.
    fn zipf(&self, rng: &mut RngStream, count: u64, exponent: f64) -> u64 {
        loop {
            let u = self.h_integral_n + rng.uniform() * (self.h_integral_x1 - self.h_integral_n);
            let x = h_integral_inverse(u, exponent);
            let k = ((x + 0.5) as u64).clamp(1, count);
            let kf = k as f64;
            if kf - x <= self.s_cut || u >= h_integral(kf + 0.5, exponent) - h(kf, exponent) {
                return k;
            }
        }
    }
}

/// x^−s.
fn h(x: f64, s: f64) -> f64 {
    libm::exp(-s * libm::log(x))
}

/// ∫₁ˣ t^−s dt, stable as s → 1.
fn h_integral(x: f64, s: f64) -> f64 {
    let log_x = libm::log(x);
    helper2((1.0 - s) * log_x) * log_x
}

fn h_integral_inverse(x: f64, s: f64) -> f64 {
    let t = (x * (1.0 - s)).max(-1.0);
    libm::exp(helper1(t) * x)
}

/// ln(1 + x) / x, → 1 as x → 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// (eˣ − 1) / x, → 1 as x → 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sampled frequencies of the top ranks match 1/k^s normalised.
    #[test]
    fn zipf_frequencies_match_the_law() {
        for exponent in [0.8, 1.0, 1.3] {
            let count = 1_000u64;
            let sampler = KeyModel::Zipf { count, exponent }.sampler();
            let mut rng = RngStream::derive(5, "keys", "zipf");
            let draws = 400_000;
            let mut hits = [0u64; 4];
            for _ in 0..draws {
                let key = sampler.sample(&mut rng);
                assert!(key < count);
                if key < 4 {
                    hits[key as usize] += 1;
                }
            }
            let norm: f64 = (1..=count)
                .map(|k| 1.0 / libm::pow(k as f64, exponent))
                .sum();
            for (rank, &n) in hits.iter().enumerate() {
                let p = 1.0 / libm::pow(rank as f64 + 1.0, exponent) / norm;
                let expected = p * draws as f64;
                let sd = (expected * (1.0 - p)).sqrt();
                assert!(
                    (n as f64 - expected).abs() < 5.0 * sd,
                    "s={exponent} rank {rank}: {n} vs {expected:.0}"
                );
            }
        }
    }

    #[test]
    fn uniform_keys_cover_the_range() {
        let sampler = KeyModel::Uniform { count: 10 }.sampler();
        let mut rng = RngStream::derive(5, "keys", "uniform");
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[sampler.sample(&mut rng) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (850..1150).contains(&n)), "{seen:?}");
    }
}
