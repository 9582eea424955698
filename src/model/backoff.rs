//! How long a caller waits before its next attempt.
//!
//! Exponential backoff follows gRPC's retry policy (base · multiplier^(n−1),
//! capped at max); the jitter variants follow the AWS Architecture Blog's
//! "Exponential Backoff and Jitter": full, equal and decorrelated.

use crate::engine::{RngStream, SimDuration};
use crate::scenario::spec::{Backoff, Jitter};

/// The delay before retry number `retry` (1 for the first retry).
/// `previous` is the last delay used, which decorrelated jitter grows from.
pub fn backoff_delay(
    backoff: Backoff,
    jitter: Jitter,
    retry: u32,
    previous: SimDuration,
    rng: &mut RngStream,
) -> SimDuration {
    let nominal = match backoff {
        Backoff::None => return SimDuration::ZERO,
        Backoff::Constant { delay } => delay.as_nanos() as f64,
        Backoff::Exponential {
            base,
            multiplier,
            max,
        } => {
            if jitter == Jitter::Decorrelated {
                return decorrelated(base, max, previous, rng);
            }
            let grown =
                base.as_nanos() as f64 * libm::pow(multiplier, f64::from(retry.saturating_sub(1)));
            grown.min(max.as_nanos() as f64)
        }
    };
    let jittered = match jitter {
        Jitter::None | Jitter::Decorrelated => nominal,
        Jitter::Full => nominal * rng.uniform(),
        Jitter::Equal => nominal / 2.0 + nominal / 2.0 * rng.uniform(),
    };
    SimDuration::from_nanos_f64(jittered)
}

/// min(max, uniform(base, 3 · previous)), starting from previous = base.
fn decorrelated(
    base: SimDuration,
    max: SimDuration,
    previous: SimDuration,
    rng: &mut RngStream,
) -> SimDuration {
    let low = base.as_nanos() as f64;
    let previous = previous.max(base).as_nanos() as f64;
    let high = (3.0 * previous).max(low);
    let delay = low + (high - low) * rng.uniform();
    SimDuration::from_nanos_f64(delay.min(max.as_nanos() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn exponential() -> Backoff {
        Backoff::Exponential {
            base: SimDuration(25 * MS),
            multiplier: 2.0,
            max: SimDuration(150 * MS),
        }
    }

    #[test]
    fn exponential_without_jitter_doubles_up_to_the_cap() {
        let mut rng = RngStream::derive(1, "t", "backoff");
        let delays: Vec<u64> = (1..=5)
            .map(|n| {
                backoff_delay(exponential(), Jitter::None, n, SimDuration::ZERO, &mut rng)
                    .as_nanos()
                    / MS
            })
            .collect();
        assert_eq!(delays, vec![25, 50, 100, 150, 150]);
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let mut rng = RngStream::derive(1, "t", "jitter");
        for _ in 0..10_000 {
            let full = backoff_delay(exponential(), Jitter::Full, 3, SimDuration::ZERO, &mut rng);
            assert!(full <= SimDuration(100 * MS));
            let equal = backoff_delay(exponential(), Jitter::Equal, 3, SimDuration::ZERO, &mut rng);
            assert!(equal >= SimDuration(50 * MS) && equal <= SimDuration(100 * MS));
            let previous = SimDuration(40 * MS);
            let decorrelated =
                backoff_delay(exponential(), Jitter::Decorrelated, 3, previous, &mut rng);
            assert!(decorrelated >= SimDuration(25 * MS) && decorrelated <= SimDuration(120 * MS));
        }
    }

    #[test]
    fn no_backoff_is_immediate_and_constant_is_constant() {
        let mut rng = RngStream::derive(1, "t", "none");
        assert_eq!(
            backoff_delay(Backoff::None, Jitter::Full, 4, SimDuration::ZERO, &mut rng),
            SimDuration::ZERO
        );
        let constant = Backoff::Constant {
            delay: SimDuration(10 * MS),
        };
        assert_eq!(
            backoff_delay(constant, Jitter::None, 4, SimDuration::ZERO, &mut rng),
            SimDuration(10 * MS)
        );
    }
}
