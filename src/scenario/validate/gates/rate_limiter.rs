//! Validating rate limiters: where they sit and how fast their bucket fills.

use crate::scenario::raw::RawRateLimiter;
use crate::scenario::spec::RateLimiterSpec;
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::super::Checker;

impl Checker {
    pub(super) fn rate_limiter(
        &mut self,
        name: &str,
        body: &Spanned<RawRateLimiter>,
    ) -> Option<RateLimiterSpec> {
        let path = format!("rate_limiters.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let rate_per_s = self.gate_rate(&raw.rate, &path, at, "a rate limiter's");
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
