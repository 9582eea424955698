//! Rate limiters: a token bucket in front of a service or load balancer, as
//! an API gateway or Envoy's local rate limit applies one.
//!
//! The bucket holds up to `burst` tokens and gains `rate` tokens a second;
//! it starts full. An attempt that finds a whole token takes it and passes
//! on to the target as the same attempt (the caller's timeout still runs);
//! one that finds none is answered at once as `throttled`, the way a 429 is,
//! and the caller's `retry_on` decides whether to try again. Over any
//! interval of length t the bucket lets through at most burst + rate · t.
//!
//! The same bucket serves a caller's own limit on a call (see the calls
//! room, `call.rs`), where an attempt may instead *reserve* the next token
//! and wait for it: the balance then goes below zero, and later attempts
//! queue behind the reservation, as Guava's `RateLimiter` does.

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::{CallRateLimit, Gate, RateLimiterSpec, Scenario};

use super::super::metrics::Failure;
use super::super::sim::{Delivery, Simulation};
use super::super::timeseries::Column;

/// The rate limiters room: one token bucket per limiter.
pub(in crate::model) struct RateLimiters {
    pub buckets: Vec<TokenBucket>,
}

impl RateLimiters {
    pub fn new(scenario: &Scenario) -> RateLimiters {
        RateLimiters {
            buckets: scenario
                .gates
                .rate_limiters
                .iter()
                .map(TokenBucket::new)
                .collect(),
        }
    }
}

/// A token is a billion nano-tokens: a bucket refilled at `rate` tokens a
/// second earns `rate` nano-tokens a nanosecond, an exact integer for any
/// whole rate, so the bucket admits exactly burst + rate · t and rounding
/// never loses a token.
const NANO_TOKENS_PER_TOKEN: i64 = 1_000_000_000;

/// Tokens, refilled lazily: each request first adds what the time since
/// the last one earned.
pub(in crate::model) struct TokenBucket {
    /// Below zero while attempts wait for tokens they reserved.
    nano_tokens: i64,
    refilled_at: SimTime,
    /// Tokens per second, which is nano-tokens per nanosecond.
    rate_per_s: f64,
    capacity: i64,
}

impl TokenBucket {
    fn new(spec: &RateLimiterSpec) -> TokenBucket {
        TokenBucket::full(spec.rate_per_s, spec.burst)
    }

    /// The bucket of a caller's own limit on a call.
    pub fn for_call(limit: &CallRateLimit) -> TokenBucket {
        TokenBucket::full(limit.rate_per_s, limit.burst)
    }

    fn full(rate_per_s: f64, burst: u32) -> TokenBucket {
        let capacity = i64::from(burst) * NANO_TOKENS_PER_TOKEN;
        TokenBucket {
            nano_tokens: capacity,
            refilled_at: SimTime::ZERO,
            rate_per_s,
            capacity,
        }
    }

    /// Adds what the time since the last refill earned, up to the burst.
    fn refill(&mut self, now: SimTime) {
        let room = (self.capacity - self.nano_tokens) as f64;
        let earned = ((now - self.refilled_at).as_nanos() as f64 * self.rate_per_s).min(room);
        self.nano_tokens += earned as i64;
        self.refilled_at = now;
    }

    /// Takes a token now, or reserves the next one if it comes within
    /// `max_wait`: the wait until it is earned, or `None` (nothing taken).
    pub fn reserve(&mut self, now: SimTime, max_wait: SimDuration) -> Option<SimDuration> {
        self.refill(now);
        let missing = NANO_TOKENS_PER_TOKEN - self.nano_tokens;
        let wait = if missing <= 0 {
            SimDuration::ZERO
        } else {
            SimDuration((missing as f64 / self.rate_per_s).ceil() as u64)
        };
        if wait > max_wait {
            return None;
        }
        self.nano_tokens -= NANO_TOKENS_PER_TOKEN;
        Some(wait)
    }

    /// Takes a token if there is a whole one at `now`.
    pub fn take(&mut self, now: SimTime) -> bool {
        self.refill(now);
        let admitted = self.nano_tokens >= NANO_TOKENS_PER_TOKEN;
        if admitted {
            self.nano_tokens -= NANO_TOKENS_PER_TOKEN;
        }
        admitted
    }
}

/// Per interval: the attempts reaching the limiter and those it throttled,
/// per second.
pub(in crate::model) const COLUMNS: [Column; 2] = [
    ("arrivals_per_s", |i, g| i.per_s(|r| &r.gate_arrivals, g)),
    ("throttled_per_s", |i, g| {
        i.per_s(|r| &r.gate_turned_away, g)
    }),
];

impl Simulation<'_> {
    /// An attempt reaches rate limiter `limiter`: it passes on to the
    /// limiter's target, or is turned away now.
    pub(in crate::model) fn rate_limit(&mut self, limiter: u32, delivery: Delivery) {
        let now = self.kernel.now;
        let admitted = self.gates.rate_limiters.buckets[limiter as usize].take(now);
        self.count_gate_arrival(Gate::RateLimiter(limiter));
        if !admitted {
            self.count_turned_away(Gate::RateLimiter(limiter));
        }
        if self.kernel.in_window(now) {
            let metrics = &mut self.recorder.metrics.rate_limiters[limiter as usize];
            metrics.requests += 1;
            metrics.throttled += u64::from(!admitted);
        }
        if admitted {
            let target = self.kernel.scenario.gates.rate_limiters[limiter as usize].target;
            self.deliver(target, delivery);
        } else {
            self.answer_at(now, delivery.attempt, Err(Failure::Throttled));
        }
    }
}
