//! Overload defences as small state machines: retry limits (gRPC
//! throttling, Envoy budgets, the AWS retry quota), a count-based circuit
//! breaker in the style of Resilience4j, and a server's AIMD concurrency
//! limit in the style of Netflix's concurrency-limits.
//!
//! They know nothing of events or calls: the call path asks them whether a
//! retry or an attempt may go ahead and tells them how attempts ended. That
//! keeps each rule in one place, testable on its own.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::Failure;
use crate::scenario::spec::{BreakerSpec, ConcurrencyLimit, RetryLimit};

/// The running state of an edge's retry limit.
#[derive(Clone, Debug)]
pub struct RetryLimiter {
    limit: RetryLimit,
    /// Throttle tokens or quota capacity left.
    tokens: f64,
    /// The retry breaker's window: whether each recent attempt failed,
    /// and how many of them did.
    recent: VecDeque<bool>,
    recent_failures: u32,
}

impl RetryLimiter {
    pub fn new(limit: RetryLimit) -> RetryLimiter {
        let tokens = match limit {
            RetryLimit::Throttle { max_tokens, .. } => max_tokens,
            RetryLimit::Quota { capacity, .. } => f64::from(capacity),
            RetryLimit::Budget { .. } | RetryLimit::Breaker { .. } => 0.0,
        };
        RetryLimiter {
            limit,
            tokens,
            recent: VecDeque::new(),
            recent_failures: 0,
        }
    }

    /// Whether a retry after `failure` may go ahead, given the calls and
    /// retries in progress on the edge. Returns what the retry took from the
    /// quota (to give back if the call then succeeds), or `None` if refused.
    pub fn admit_retry(
        &mut self,
        failure: Failure,
        active_calls: u32,
        active_retries: u32,
    ) -> Option<u32> {
        match self.limit {
            RetryLimit::Throttle { max_tokens, .. } => {
                (self.tokens > max_tokens / 2.0).then_some(0)
            }
            RetryLimit::Budget {
                budget_fraction,
                min_retry_concurrency,
            } => {
                let budget = (budget_fraction * f64::from(active_calls)) as u32;
                (active_retries < budget.max(min_retry_concurrency)).then_some(0)
            }
            RetryLimit::Quota {
                retry_cost,
                timeout_retry_cost,
                ..
            } => {
                let cost = match failure {
                    Failure::Timeout => timeout_retry_cost,
                    _ => retry_cost,
                };
                let enough = self.tokens >= f64::from(cost);
                if enough {
                    self.tokens -= f64::from(cost);
                }
                enough.then_some(cost)
            }
            RetryLimit::Breaker {
                failure_rate_threshold,
                minimum_number_of_calls,
                ..
            } => {
                let seen = self.recent.len() as u32;
                let rate = f64::from(self.recent_failures) / f64::from(seen.max(1));
                let open = seen >= minimum_number_of_calls && rate >= failure_rate_threshold;
                (!open).then_some(0)
            }
        }
    }

    /// An attempt ended: throttling tokens and the retry breaker's window
    /// follow every attempt.
    pub fn on_attempt(&mut self, succeeded: bool) {
        if let RetryLimit::Breaker {
            sliding_window_size,
            ..
        } = self.limit
        {
            self.recent.push_back(!succeeded);
            self.recent_failures += u32::from(!succeeded);
            if self.recent.len() > sliding_window_size as usize
                && self.recent.pop_front() == Some(true)
            {
                self.recent_failures -= 1;
            }
            return;
        }
        if let RetryLimit::Throttle {
            max_tokens,
            token_ratio,
        } = self.limit
        {
            self.tokens = if succeeded {
                (self.tokens + token_ratio).min(max_tokens)
            } else {
                (self.tokens - 1.0).max(0.0)
            };
        }
    }

    /// A call succeeded; `last_retry_cost` is what its last retry took (0 if none).
    pub fn on_call_succeeded(&mut self, retried: bool, last_retry_cost: u32) {
        if let RetryLimit::Quota {
            capacity,
            no_retry_increment,
            ..
        } = self.limit
        {
            let refund = if retried {
                last_retry_cost
            } else {
                no_retry_increment
            };
            self.tokens = (self.tokens + f64::from(refund)).min(f64::from(capacity));
        }
    }
}

/// How an attempt ended, as a breaker sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success {
        elapsed: SimDuration,
    },
    Failure {
        elapsed: SimDuration,
    },
    /// Abandoned for a reason that says nothing about the target (a sibling
    /// call failed, another hedge won): not counted, its permit is returned.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
enum State {
    Closed,
    Open {
        until: SimTime,
    },
    HalfOpen {
        /// Permits not yet handed out.
        permits_left: u32,
        /// Outcomes of the permitted attempts: (failed, slow).
        results: Vec<(bool, bool)>,
    },
}

/// A count-based circuit breaker on one edge.
#[derive(Clone, Debug)]
pub struct Breaker {
    spec: BreakerSpec,
    state: State,
    /// The last outcomes while closed: (failed, slow).
    window: VecDeque<(bool, bool)>,
    /// How many times the breaker has opened.
    pub opened: u64,
}

impl Breaker {
    pub fn new(spec: BreakerSpec) -> Breaker {
        Breaker {
            spec,
            state: State::Closed,
            window: VecDeque::new(),
            opened: 0,
        }
    }

    /// Whether an attempt may go out now. After the open wait, the breaker
    /// turns half-open and hands out its permitted calls, then refuses.
    pub fn permit(&mut self, now: SimTime) -> bool {
        if let State::Open { until } = self.state
            && now >= until
        {
            self.state = State::HalfOpen {
                permits_left: self.spec.permitted_calls_in_half_open_state,
                results: Vec::new(),
            };
        }
        match &mut self.state {
            State::Closed => true,
            State::Open { .. } => false,
            State::HalfOpen { permits_left, .. } if *permits_left > 0 => {
                *permits_left -= 1;
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }

    /// An attempt that was permitted has ended.
    pub fn record(&mut self, outcome: Outcome, now: SimTime) {
        let (failed, elapsed) = match outcome {
            Outcome::Success { elapsed } => (false, elapsed),
            Outcome::Failure { elapsed } => (true, elapsed),
            Outcome::Cancelled => {
                if let State::HalfOpen { permits_left, .. } = &mut self.state {
                    *permits_left += 1;
                }
                return;
            }
        };
        let slow = elapsed >= self.spec.slow_call_duration_threshold;
        match &mut self.state {
            State::Closed => {
                self.window.push_back((failed, slow));
                if self.window.len() > self.spec.sliding_window_size as usize {
                    self.window.pop_front();
                }
                if self.window.len() >= self.spec.minimum_number_of_calls as usize
                    && self.over_threshold(self.window.iter().copied())
                {
                    self.open(now);
                }
            }
            State::HalfOpen { results, .. } => {
                results.push((failed, slow));
                if results.len() >= self.spec.permitted_calls_in_half_open_state as usize {
                    let results = std::mem::take(results);
                    if self.over_threshold(results.into_iter()) {
                        self.open(now);
                    } else {
                        self.state = State::Closed;
                        self.window.clear();
                    }
                }
            }
            // Answers to attempts sent before the breaker opened change nothing.
            State::Open { .. } => {}
        }
    }

    fn over_threshold(&self, outcomes: impl Iterator<Item = (bool, bool)>) -> bool {
        let (mut count, mut failed, mut slow) = (0u32, 0u32, 0u32);
        for (is_failed, is_slow) in outcomes {
            count += 1;
            failed += u32::from(is_failed);
            slow += u32::from(is_slow);
        }
        let count = f64::from(count.max(1));
        f64::from(failed) / count >= self.spec.failure_rate_threshold
            || f64::from(slow) / count >= self.spec.slow_call_rate_threshold
    }

    fn open(&mut self, now: SimTime) {
        self.opened += 1;
        self.state = State::Open {
            until: now + self.spec.wait_duration_in_open_state,
        };
    }
}

/// The admission limit of one instance.
#[derive(Clone, Debug)]
pub struct Admission {
    spec: ConcurrencyLimit,
    limit: f64,
}

impl Admission {
    pub fn new(spec: ConcurrencyLimit) -> Admission {
        let limit = match spec {
            ConcurrencyLimit::Fixed { limit } => limit,
            ConcurrencyLimit::Aimd { initial_limit, .. } => initial_limit,
        };
        Admission {
            spec,
            limit: f64::from(limit),
        }
    }

    /// Whether a request may be admitted with `in_progress` already admitted.
    pub fn admits(&self, in_progress: u32) -> bool {
        f64::from(in_progress) < self.limit.floor()
    }

    /// A request finished after `latency` with `in_progress` still admitted.
    pub fn on_finished(&mut self, latency: SimDuration, in_progress: u32) {
        if let ConcurrencyLimit::Aimd {
            max_limit,
            latency_threshold,
            ..
        } = self.spec
        {
            if latency > latency_threshold {
                self.on_dropped();
            } else if f64::from(in_progress) * 2.0 >= self.limit {
                self.limit = (self.limit + 1.0).min(f64::from(max_limit));
            }
        }
    }

    /// A request was shed or dropped: back off.
    pub fn on_dropped(&mut self) {
        if let ConcurrencyLimit::Aimd {
            min_limit,
            backoff_ratio,
            ..
        } = self.spec
        {
            self.limit = (self.limit * backoff_ratio)
                .floor()
                .max(f64::from(min_limit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_grows_under_use_and_backs_off_on_drops() {
        let mut admission = Admission::new(ConcurrencyLimit::Aimd {
            initial_limit: 10,
            min_limit: 5,
            max_limit: 12,
            backoff_ratio: 0.5,
            latency_threshold: SimDuration(MS),
        });
        assert!(admission.admits(9) && !admission.admits(10));
        admission.on_finished(SimDuration(10), 2);
        assert!(!admission.admits(10), "a lightly used limit does not grow");
        for _ in 0..5 {
            admission.on_finished(SimDuration(10), 9);
        }
        assert!(
            admission.admits(11) && !admission.admits(12),
            "capped at max"
        );
        admission.on_finished(SimDuration(2 * MS), 9);
        assert!(admission.admits(5) && !admission.admits(6), "halved");
        admission.on_dropped();
        assert!(
            admission.admits(4) && !admission.admits(5),
            "floored at min"
        );
    }

    const MS: u64 = 1_000_000;

    fn spec() -> BreakerSpec {
        BreakerSpec {
            failure_rate_threshold: 0.5,
            sliding_window_size: 10,
            minimum_number_of_calls: 4,
            wait_duration_in_open_state: SimDuration(1_000 * MS),
            permitted_calls_in_half_open_state: 3,
            slow_call_duration_threshold: SimDuration(u64::MAX),
            slow_call_rate_threshold: 1.0,
        }
    }

    const FAIL: Outcome = Outcome::Failure {
        elapsed: SimDuration(MS),
    };
    const OK: Outcome = Outcome::Success {
        elapsed: SimDuration(MS),
    };

    #[test]
    fn breaker_opens_at_the_threshold_once_the_minimum_is_reached() {
        let mut breaker = Breaker::new(spec());
        let now = SimTime(0);
        for _ in 0..3 {
            assert!(breaker.permit(now));
            breaker.record(FAIL, now);
        }
        // Three failures out of three: below the minimum of four, still closed.
        assert!(!breaker.is_open());
        breaker.record(OK, now);
        // Three of four failed (75% ≥ 50%): open.
        assert!(breaker.is_open());
        assert!(!breaker.permit(SimTime(999 * MS)));
    }

    #[test]
    fn half_open_lets_exactly_the_permitted_calls_through() {
        let mut breaker = Breaker::new(spec());
        for _ in 0..4 {
            breaker.record(FAIL, SimTime(0));
        }
        let later = SimTime(1_000 * MS);
        let permits: Vec<bool> = (0..5).map(|_| breaker.permit(later)).collect();
        assert_eq!(permits, vec![true, true, true, false, false]);
        // A cancelled permitted attempt returns its permit.
        breaker.record(Outcome::Cancelled, later);
        assert!(breaker.permit(later));
        breaker.record(OK, later);
        breaker.record(OK, later);
        assert!(breaker.is_open(), "still half-open: two of three outcomes");
        breaker.record(FAIL, later);
        // One failure in three (33%) is below 50%: closed again.
        assert!(!breaker.is_open());
        assert!(breaker.permit(later));
    }

    #[test]
    fn half_open_failures_reopen() {
        let mut breaker = Breaker::new(spec());
        for _ in 0..4 {
            breaker.record(FAIL, SimTime(0));
        }
        let later = SimTime(1_000 * MS);
        for _ in 0..3 {
            assert!(breaker.permit(later));
            breaker.record(FAIL, later);
        }
        assert_eq!(breaker.opened, 2);
        assert!(!breaker.permit(SimTime(1_999 * MS)));
        assert!(breaker.permit(SimTime(2_000 * MS)));
    }

    #[test]
    fn throttling_allows_retries_while_more_than_half_the_tokens_remain() {
        let mut limiter = RetryLimiter::new(RetryLimit::Throttle {
            max_tokens: 10.0,
            token_ratio: 0.1,
        });
        let mut admitted = 0;
        for _ in 0..20 {
            limiter.on_attempt(false);
            admitted += u32::from(limiter.admit_retry(Failure::Error, 1, 0).is_some());
        }
        // Tokens 9, 8, 7, 6 allow a retry; at 5 (half) and below they do not.
        assert_eq!(admitted, 4);
        // Twenty failures left no tokens: fifty successes give back 5.0, not
        // more than half; the fifty-first does.
        for _ in 0..50 {
            limiter.on_attempt(true);
        }
        assert!(limiter.admit_retry(Failure::Error, 1, 0).is_none());
        limiter.on_attempt(true);
        assert!(limiter.admit_retry(Failure::Error, 1, 0).is_some());
    }

    #[test]
    fn quota_charges_timeouts_more_and_refunds_on_success() {
        let mut limiter = RetryLimiter::new(RetryLimit::Quota {
            capacity: 20,
            retry_cost: 5,
            timeout_retry_cost: 10,
            no_retry_increment: 1,
        });
        assert_eq!(limiter.admit_retry(Failure::Timeout, 1, 0), Some(10));
        assert_eq!(limiter.admit_retry(Failure::Error, 1, 0), Some(5));
        assert_eq!(limiter.admit_retry(Failure::Error, 1, 0), Some(5));
        assert_eq!(limiter.admit_retry(Failure::Error, 1, 0), None);
        limiter.on_call_succeeded(true, 5);
        assert_eq!(limiter.admit_retry(Failure::Error, 1, 0), Some(5));
    }

    #[test]
    fn budget_scales_with_calls_in_progress() {
        let mut limiter = RetryLimiter::new(RetryLimit::Budget {
            budget_fraction: 0.2,
            min_retry_concurrency: 3,
        });
        assert!(limiter.admit_retry(Failure::Error, 5, 2).is_some());
        assert!(limiter.admit_retry(Failure::Error, 5, 3).is_none());
        assert!(limiter.admit_retry(Failure::Error, 100, 19).is_some());
        assert!(limiter.admit_retry(Failure::Error, 100, 20).is_none());
    }
}
