//! Independent random streams derived from one root seed.
//!
//! Every component and purpose (a source's arrivals, a service's service
//! times, an edge's jitter, a balancer's choices) draws from its own ChaCha8
//! stream. The stream is keyed by the root seed and selected by a stable hash
//! of (component name, purpose), so adding a component or changing a retry
//! policy leaves every other stream's numbers exactly as they were: two
//! variants of a scenario see the same arrivals and service times (common
//! random numbers).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// How many numbers a stream draws ahead: few enough that they, their
/// count and a source's request counter share one line of memory.
const AHEAD: usize = 5;

/// One deterministic random stream.
///
/// It hands out the generator's numbers in the generator's order, drawn
/// five at a time (`AHEAD`) into its first bytes. The generator keeps its
/// position in the first line of its 256-byte buffer and the numbers in
/// all four, so a draw from it reads two lines; with a thousand services
/// each stream is cold by the time it is drawn from again, and a draw from
/// the numbers drawn ahead reads one line when its owner keeps them in one
/// (the generator's lines are read once per five draws). `repr(C)`, so an
/// owner that puts a stream early in a line-aligned struct knows where
/// those bytes are ([`RngStream::DRAW_BYTES`]).
#[derive(Clone, Debug)]
#[repr(C)]
pub struct RngStream {
    ahead: [u64; AHEAD],
    /// How many of `ahead` have been handed out.
    used: u8,
    rng: ChaCha8Rng,
}

impl RngStream {
    /// How many of its first bytes a draw reads, between refills: the
    /// numbers drawn ahead and their count. An owner that wants a draw to
    /// read one line of memory puts these in the line it reads anyway.
    pub const DRAW_BYTES: usize = std::mem::offset_of!(RngStream, used) + 1;

    /// The stream for `purpose` of `component` under `root_seed`.
    pub fn derive(root_seed: u64, component: &str, purpose: &str) -> RngStream {
        let mut rng = ChaCha8Rng::seed_from_u64(root_seed);
        rng.set_stream(stream_id(component, purpose));
        RngStream {
            ahead: [0; AHEAD],
            used: AHEAD as u8,
            rng,
        }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if usize::from(self.used) == AHEAD {
            self.draw_ahead();
        }
        let next = self.ahead[usize::from(self.used)];
        self.used += 1;
        next
    }

    #[cold]
    fn draw_ahead(&mut self) {
        for slot in &mut self.ahead {
            *slot = self.rng.next_u64();
        }
        self.used = 0;
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        unit_interval(self.next_u64())
    }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    pub fn uniform_open_low(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// A uniform index below `n` (n > 0), by Lemire's multiply-shift.
    ///
    /// The bias for the n we use (instance counts) is below 2^-40.
    pub fn below(&mut self, n: u32) -> u32 {
        ((self.next_u64() >> 32).wrapping_mul(u64::from(n)) >> 32) as u32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (p >= 1.0 || self.uniform() < p)
    }
}

/// The top 53 bits of `bits` as a number in [0, 1): how random (or hashed)
/// bits become a probability.
pub fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// FNV-1a over "component\0purpose": stable across Rust versions and
/// platforms, unlike `std`'s hashers, which promise neither.
fn stream_id(component: &str, purpose: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let bytes = component.bytes().chain([0]).chain(purpose.bytes());
    bytes.fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The root seed of replication `index` of a run seeded with `root_seed`.
pub fn replication_seed(root_seed: u64, index: u32) -> u64 {
    if index == 0 {
        return root_seed;
    }
    RngStream::derive(root_seed, "replication", &index.to_string()).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drawing ahead changes where numbers wait, never which come out:
    /// the stream is the generator's, number for number, across refills.
    #[test]
    fn numbers_drawn_ahead_are_the_generators_own_in_order() {
        let mut stream = RngStream::derive(42, "db", "service_time");
        let mut generator = ChaCha8Rng::seed_from_u64(42);
        generator.set_stream(stream_id("db", "service_time"));
        for _ in 0..10 * AHEAD + 3 {
            assert_eq!(stream.next_u64(), generator.next_u64());
        }
    }

    #[test]
    fn same_key_same_numbers() {
        let mut a = RngStream::derive(42, "db", "service_time");
        let mut b = RngStream::derive(42, "db", "service_time");
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ_by_seed_component_and_purpose() {
        let first =
            |seed, component, purpose| RngStream::derive(seed, component, purpose).next_u64();
        let base = first(42, "db", "service_time");
        assert_ne!(base, first(43, "db", "service_time"));
        assert_ne!(base, first(42, "api", "service_time"));
        assert_ne!(base, first(42, "db", "errors"));
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(first(42, "ab", "c"), first(42, "a", "bc"));
    }

    #[test]
    fn golden_values_pin_the_stream_derivation() {
        // If these change, every published result changes with them.
        assert_eq!(stream_id("db", "service_time"), GOLDEN_STREAM_ID);
        assert_eq!(
            RngStream::derive(42, "db", "service_time").next_u64(),
            GOLDEN_FIRST_DRAW
        );
    }

    const GOLDEN_STREAM_ID: u64 = 1635941479411957396;
    const GOLDEN_FIRST_DRAW: u64 = 9063475265963364127;

    #[test]
    fn uniform_stays_in_range_and_has_the_right_mean() {
        let mut rng = RngStream::derive(7, "test", "uniform");
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        let mean = sum / n as f64;
        // Standard error of the mean of U(0,1) is sqrt(1/12/n) ≈ 0.0009.
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
    }

    #[test]
    fn below_covers_every_index_evenly() {
        let mut rng = RngStream::derive(7, "test", "below");
        let mut counts = [0u32; 5];
        for _ in 0..50_000 {
            counts[rng.below(5) as usize] += 1;
        }
        for count in counts {
            assert!((9_500..10_500).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn replication_zero_is_the_root_seed() {
        assert_eq!(replication_seed(42, 0), 42);
        assert_ne!(replication_seed(42, 1), replication_seed(42, 2));
    }
}
