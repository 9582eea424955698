//! Validating a call edge's policy: timeouts, retries and the client-side
//! defences (retry limits, circuit breaker, hedging, the caller's own rate
//! limit).
//!
//! Defaults are those of the library each block is named after, so a user
//! who copies parameters from gRPC, Envoy, the AWS SDK or Resilience4j gets
//! the behaviour they know.

use crate::engine::SimDuration;
use crate::scenario::raw::{
    RawBreaker, RawCallRateLimit, RawHedging, RawNetwork, RawRetry, RawRetryBreaker, Text,
};
use crate::scenario::spec::{
    Backoff, BreakerSpec, CallPolicy, CallRateLimit, HedgingSpec, Jitter, NetworkSpec, RetryLimit,
    RetryOn,
};
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::{
    Checker, MAX_DURATION, keyword, number_in, positive_duration, positive_number, positive_rate,
    words,
};

/// The policy keys of a source or a call, which share them.
pub(super) struct PolicyKeys<'a> {
    pub timeout: &'a Option<Text>,
    pub deadline: &'a Option<Text>,
    pub retry: &'a Option<Spanned<RawRetry>>,
    pub breaker: &'a Option<Spanned<RawBreaker>>,
    pub hedging: &'a Option<Spanned<RawHedging>>,
    pub rate_limit: &'a Option<Spanned<RawCallRateLimit>>,
    pub network: &'a Option<Spanned<RawNetwork>>,
}

fn count_in(low: u64, high: u64) -> impl Fn(&str) -> Result<u64, String> {
    move |t| units::parse_count(t, low, high)
}

impl Checker {
    pub(super) fn policy(&mut self, keys: PolicyKeys, path: &str) -> CallPolicy {
        let mut policy = CallPolicy::single_attempt();
        policy.timeout_per_attempt = keys.timeout.as_ref().and_then(|t| {
            self.parse(t, &format!("{path}.timeout_per_attempt"), |t| {
                positive_duration(t, MAX_DURATION)
            })
        });
        policy.deadline = keys.deadline.as_ref().and_then(|t| {
            self.parse(t, &format!("{path}.deadline"), |t| {
                positive_duration(t, MAX_DURATION)
            })
        });
        if let Some(retry) = keys.retry {
            self.retry(&retry.value, &format!("{path}.retry"), &mut policy);
            policy.retry_limit = self.retry_limit(&retry.value, &format!("{path}.retry"));
        }
        if let Some(breaker) = keys.breaker {
            policy.breaker = Some(self.breaker(&breaker.value, &format!("{path}.circuit_breaker")));
        }
        if let Some(hedging) = keys.hedging {
            let hedging_path = format!("{path}.hedging");
            if keys.retry.is_some() {
                self.error(
                    Some(position_of(hedging)),
                    &hedging_path,
                    "a call either retries or hedges, not both (as in gRPC): remove `retry` or `hedging`",
                );
            }
            policy.hedging = self.hedging(hedging, &hedging_path);
        }
        if let Some(limit) = keys.rate_limit {
            policy.rate_limit = self.call_rate_limit(limit, &format!("{path}.rate_limit"));
            let wait = policy.rate_limit.map(|l| l.max_wait);
            if let (Some(wait), Some(deadline)) = (wait, policy.deadline)
                && wait >= deadline
            {
                let text = limit.value.max_wait.as_ref();
                self.error(
                    text.map(position_of).or(Some(position_of(limit))),
                    &format!("{path}.rate_limit.max_wait"),
                    format!("a request that waits {wait} for a token is past its deadline ({deadline}) when sent: keep `max_wait` well below the deadline"),
                );
            }
        }
        if let Some(network) = keys.network {
            policy.network = self.network(network, &format!("{path}.network"), &policy);
        }
        policy
    }

    /// An edge's network: a latency distribution and a loss probability,
    /// both optional. Loss needs a timeout or deadline to be noticed.
    fn network(
        &mut self,
        raw: &Spanned<RawNetwork>,
        path: &str,
        policy: &CallPolicy,
    ) -> Option<NetworkSpec> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let latency = raw
            .latency
            .as_ref()
            .and_then(|t| self.parse(t, &format!("{path}.latency"), units::parse_dist));
        let loss = self.or(&raw.loss, &format!("{path}.loss"), 0.0, |t| {
            let loss = units::parse_probability(t)?;
            if loss < 1.0 {
                Ok(loss)
            } else {
                Err(format!(
                    "`{t}` would lose every attempt: expected less than 100%"
                ))
            }
        });
        if loss > 0.0 && policy.timeout_per_attempt.is_none() && policy.deadline.is_none() {
            let position = raw.loss.as_ref().map(position_of).or(at);
            self.error(
                position,
                &format!("{path}.loss"),
                "a lost attempt is noticed only by a timeout: give this call `timeout_per_attempt` or `deadline`",
            );
        }
        if raw.latency.is_none() && raw.loss.is_none() {
            self.error(at, path, "set `latency`, `loss` or both");
            return None;
        }
        Some(NetworkSpec { latency, loss })
    }

    /// A client-side token bucket: `rate` required, `burst` 1 and
    /// `max_wait` 0 (fail at once) by default.
    fn call_rate_limit(
        &mut self,
        raw: &Spanned<RawCallRateLimit>,
        path: &str,
    ) -> Option<CallRateLimit> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let rate_per_s = self.required(&raw.rate, &format!("{path}.rate"), at, positive_rate);
        let burst = self.or(
            &raw.burst,
            &format!("{path}.burst"),
            1,
            count_in(1, 1_000_000_000),
        );
        let max_wait = self.or(
            &raw.max_wait,
            &format!("{path}.max_wait"),
            SimDuration::ZERO,
            |t| match units::parse_duration(t)? {
                d if d > MAX_DURATION => {
                    Err(format!("`{t}` is longer than the limit of {MAX_DURATION}"))
                }
                d => Ok(d),
            },
        );
        Some(CallRateLimit {
            rate_per_s: rate_per_s?,
            burst: burst as u32,
            max_wait,
        })
    }

    /// At most one of `throttle`, `budget`, `quota` and `breaker`.
    fn retry_limit(&mut self, raw: &RawRetry, path: &str) -> Option<RetryLimit> {
        let given = [
            raw.throttle.as_ref().map(position_of),
            raw.budget.as_ref().map(position_of),
            raw.quota.as_ref().map(position_of),
            raw.breaker.as_ref().map(position_of),
        ];
        if let Some(second) = given.iter().flatten().nth(1) {
            self.error(
                Some(*second),
                path,
                "use one retry limit: `throttle` (gRPC), `budget` (Envoy), `quota` (AWS SDK) or `breaker`",
            );
        }
        if let Some(throttle) = &raw.throttle {
            let path = format!("{path}.throttle");
            let raw = &throttle.value;
            let max_tokens = self.or(
                &raw.max_tokens,
                &format!("{path}.max_tokens"),
                10,
                count_in(1, 1000),
            );
            let token_ratio = self.or(&raw.token_ratio, &format!("{path}.token_ratio"), 0.1, |t| {
                positive_number(t, 1000.0)
            });
            return Some(RetryLimit::Throttle {
                max_tokens: max_tokens as f64,
                token_ratio,
            });
        }
        if let Some(budget) = &raw.budget {
            let path = format!("{path}.budget");
            let raw = &budget.value;
            return Some(RetryLimit::Budget {
                budget_fraction: self.or(
                    &raw.budget_percent,
                    &format!("{path}.budget_percent"),
                    0.2,
                    units::parse_probability,
                ),
                min_retry_concurrency: self.or(
                    &raw.min_retry_concurrency,
                    &format!("{path}.min_retry_concurrency"),
                    3,
                    count_in(0, 1_000_000),
                ) as u32,
            });
        }
        if let Some(breaker) = &raw.breaker {
            return Some(self.retry_breaker(&breaker.value, &format!("{path}.breaker")));
        }
        let quota = raw.quota.as_ref()?;
        let path = format!("{path}.quota");
        let raw = &quota.value;
        let mut amount = |text: &Option<Text>, key: &str, default: u64| {
            self.or(
                text,
                &format!("{path}.{key}"),
                default,
                count_in(0, 1_000_000),
            ) as u32
        };
        Some(RetryLimit::Quota {
            capacity: amount(&raw.capacity, "capacity", 500),
            retry_cost: amount(&raw.retry_cost, "retry_cost", 5),
            timeout_retry_cost: amount(&raw.timeout_retry_cost, "timeout_retry_cost", 10),
            no_retry_increment: amount(&raw.no_retry_increment, "no_retry_increment", 1),
        })
    }

    /// Resilience4j's count-based defaults for the window (threshold 50%,
    /// 100 attempts, at least 100 seen); a minimum above the window is the
    /// window.
    fn retry_breaker(&mut self, raw: &RawRetryBreaker, path: &str) -> RetryLimit {
        let failure_rate_threshold = self.or(
            &raw.failure_rate_threshold,
            &format!("{path}.failure_rate_threshold"),
            0.5,
            |t| match units::parse_probability(t)? {
                p if p > 0.0 => Ok(p),
                _ => Err(format!("`{t}` must be more than 0%")),
            },
        );
        let sliding_window_size = self.or(
            &raw.sliding_window_size,
            &format!("{path}.sliding_window_size"),
            100,
            count_in(1, 100_000),
        ) as u32;
        let minimum_number_of_calls = self.or(
            &raw.minimum_number_of_calls,
            &format!("{path}.minimum_number_of_calls"),
            100,
            count_in(1, 100_000),
        ) as u32;
        RetryLimit::Breaker {
            failure_rate_threshold,
            sliding_window_size,
            minimum_number_of_calls: minimum_number_of_calls.min(sliding_window_size),
        }
    }

    /// Resilience4j's defaults; a minimum above the window is the window.
    fn breaker(&mut self, raw: &RawBreaker, path: &str) -> BreakerSpec {
        let mut fraction = |text: &Option<Text>, key: &str, default: f64| {
            self.or(text, &format!("{path}.{key}"), default, |t| {
                units::parse_probability(t).and_then(|p| {
                    if p > 0.0 {
                        Ok(p)
                    } else {
                        Err(format!("`{t}` must be more than zero"))
                    }
                })
            })
        };
        let failure_rate_threshold =
            fraction(&raw.failure_rate_threshold, "failure_rate_threshold", 0.5);
        let slow_call_rate_threshold = fraction(
            &raw.slow_call_rate_threshold,
            "slow_call_rate_threshold",
            1.0,
        );
        let mut count = |text: &Option<Text>, key: &str, default: u64| {
            self.or(
                text,
                &format!("{path}.{key}"),
                default,
                count_in(1, 100_000),
            ) as u32
        };
        let sliding_window_size = count(&raw.sliding_window_size, "sliding_window_size", 100);
        let minimum_number_of_calls =
            count(&raw.minimum_number_of_calls, "minimum_number_of_calls", 100);
        let permitted_calls_in_half_open_state = count(
            &raw.permitted_calls_in_half_open_state,
            "permitted_calls_in_half_open_state",
            10,
        );
        let mut duration = |text: &Option<Text>, key: &str, default: u64| {
            self.or(text, &format!("{path}.{key}"), SimDuration(default), |t| {
                positive_duration(t, MAX_DURATION)
            })
        };
        const MINUTE: u64 = 60_000_000_000;
        BreakerSpec {
            failure_rate_threshold,
            sliding_window_size,
            minimum_number_of_calls: minimum_number_of_calls.min(sliding_window_size),
            wait_duration_in_open_state: duration(
                &raw.wait_duration_in_open_state,
                "wait_duration_in_open_state",
                MINUTE,
            ),
            permitted_calls_in_half_open_state,
            slow_call_duration_threshold: duration(
                &raw.slow_call_duration_threshold,
                "slow_call_duration_threshold",
                MINUTE,
            ),
            slow_call_rate_threshold,
        }
    }

    fn hedging(&mut self, raw: &Spanned<RawHedging>, path: &str) -> Option<HedgingSpec> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let max_attempts = self.or(
            &raw.max_attempts,
            &format!("{path}.max_attempts"),
            2,
            count_in(1, 5),
        );
        let hedging_delay = self.required(
            &raw.hedging_delay,
            &format!("{path}.hedging_delay"),
            at,
            units::parse_duration,
        )?;
        Some(HedgingSpec {
            // At least 1 (`count_in`): anything else was reported above.
            max_attempts: std::num::NonZeroU32::new(max_attempts as u32)?,
            hedging_delay,
        })
    }

    /// Fills the retry part of `policy`. Defaults follow Envoy: exponential
    /// backoff from 25ms, doubling, capped at ten times the base, fully jittered.
    fn retry(&mut self, raw: &RawRetry, path: &str, policy: &mut CallPolicy) {
        policy.max_attempts = self.or(&raw.max_attempts, &format!("{path}.max_attempts"), 3, |t| {
            units::parse_count(t, 1, 100)
        }) as u32;
        if let Some(list) = &raw.retry_on {
            policy.retry_on = self.retry_on(list, &format!("{path}.retry_on"));
        }
        let base = self.or(
            &raw.backoff_base,
            &format!("{path}.backoff_base"),
            SimDuration(25_000_000),
            units::parse_duration,
        );
        let multiplier = self.or(
            &raw.backoff_multiplier,
            &format!("{path}.backoff_multiplier"),
            2.0,
            |t| number_in(t, 1.0, 100.0),
        );
        let max = self.or(
            &raw.backoff_max,
            &format!("{path}.backoff_max"),
            SimDuration(base.0.saturating_mul(10)),
            units::parse_duration,
        );
        let kind = self.or(
            &raw.backoff,
            &format!("{path}.backoff"),
            "exponential",
            |t| keyword(t, "backoff", &words::BACKOFFS),
        );
        policy.backoff = match kind {
            "none" => Backoff::None,
            "constant" => Backoff::Constant { delay: base },
            _ => Backoff::Exponential {
                base,
                multiplier,
                max,
            },
        };
        if let (Backoff::Exponential { .. }, Some(text)) = (policy.backoff, &raw.backoff_max)
            && max < base
        {
            self.error(
                Some(position_of(text)),
                &format!("{path}.backoff_max"),
                format!("backoff_max {max} is less than backoff_base {base}"),
            );
        }
        policy.jitter = self.or(
            &raw.jitter,
            &format!("{path}.jitter"),
            Jitter::Full,
            parse_jitter,
        );
        if let (Jitter::Decorrelated, Backoff::Constant { .. }, Some(text)) =
            (policy.jitter, policy.backoff, &raw.jitter)
        {
            self.error(Some(position_of(text)), &format!("{path}.jitter"), "decorrelated jitter grows the delay from backoff_base to backoff_max: use it with `backoff: exponential`");
        }
    }

    fn retry_on(&mut self, list: &[Text], path: &str) -> RetryOn {
        let mut retry_on = RetryOn {
            error: false,
            timeout: false,
            rejected: false,
            throttled: false,
        };
        for (index, item) in list.iter().enumerate() {
            match self.parse(item, &format!("{path}[{index}]"), |t| {
                keyword(t, "failure kind", &words::RETRY_ON)
            }) {
                Some("error") => retry_on.error = true,
                Some("timeout") => retry_on.timeout = true,
                Some("rejected") => retry_on.rejected = true,
                Some(_) => retry_on.throttled = true,
                None => {}
            }
        }
        retry_on
    }
}

pub(super) fn parse_jitter(text: &str) -> Result<Jitter, String> {
    Ok(match keyword(text, "jitter", &words::JITTERS)? {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        _ => Jitter::Decorrelated,
    })
}
