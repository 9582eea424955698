//! Validating rate limiters: where they sit and how fast their bucket fills.

use crate::scenario::raw::{RawRateLimiter, RawScenario};
use crate::scenario::spec::{Gate, RateLimiterSpec, Target};
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::super::Checker;

/// The fastest refill accepted: a token per nanosecond.
const MAX_RATE_PER_S: f64 = 1e9;

impl Checker {
    /// Rate limiters share the namespace of services, balancers and caches.
    pub(in crate::scenario::validate) fn collect_rate_limiter_names(&mut self, raw: &RawScenario) {
        let limiters = raw.rate_limiters.iter().flat_map(|l| l.iter());
        for (index, (name, body)) in limiters.enumerate() {
            let target = Target::Gate(Gate::RateLimiter(index as u32));
            self.add_target_name(name, "rate_limiters", position_of(body), target);
        }
    }

    pub(in crate::scenario::validate) fn rate_limiters(
        &mut self,
        raw: &RawScenario,
    ) -> Vec<RateLimiterSpec> {
        let limiters = raw.rate_limiters.iter().flat_map(|l| l.iter());
        limiters
            .filter_map(|(name, body)| self.rate_limiter(name, body))
            .collect()
    }

    fn rate_limiter(
        &mut self,
        name: &str,
        body: &Spanned<RawRateLimiter>,
    ) -> Option<RateLimiterSpec> {
        let path = format!("rate_limiters.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let rate_per_s = self.required(&raw.rate, &format!("{path}.rate"), at, |t| {
            let rate = units::parse_rate(t)?;
            match rate > 0.0 && rate <= MAX_RATE_PER_S {
                true => Ok(rate),
                false => Err(format!(
                    "a rate limiter's rate must be above 0 and at most {MAX_RATE_PER_S:e}/s"
                )),
            }
        });
        let burst = self.or(&raw.burst, &format!("{path}.burst"), 1, |t| {
            units::parse_count(t, 1, 1_000_000_000)
        }) as u32;
        let target = self.gate_target(raw.target.as_ref(), &path, at, "a rate limiter")?;
        Some(RateLimiterSpec {
            name: name.to_string(),
            target,
            rate_per_s: rate_per_s?,
            burst,
        })
    }
}
