//! Latency samples counted in hdrhistogram's own buckets, densely, until
//! they go into the histogram in one pass.
//!
//! Recording a value into an hdrhistogram costs about sixty instructions
//! (range checks, growth, the minimum and maximum, the total); a request on
//! a single queue records three, and that was a tenth of the run. Counting a
//! sample here costs its bucket's index and an increment. Every statistic of
//! the histogram depends only on its count per bucket (even its minimum and
//! maximum are read to the resolution of a bucket), so recording each
//! bucket's count at once, at the bucket's lowest value, leaves the
//! histogram exactly as recording each sample would: the tests below check
//! the layout against hdrhistogram's own and the histograms against each
//! other.

use hdrhistogram::Histogram;

use super::LOWEST_NANOS;

/// hdrhistogram's bucket arithmetic for a lowest trackable value and a
/// precision, from its constructor: `2 · 10^digits` values at unit
/// resolution, in a power-of-two count of sub-buckets, each bucket twice
/// the range of the one before.
#[derive(Clone, Copy, Debug)]
struct Layout {
    unit_magnitude: u32,
    half_count_magnitude: u32,
    leading_zero_count_base: u32,
    sub_bucket_mask: u64,
}

/// The layout of a latency's histogram at each precision (1 to 5 digits).
static LAYOUTS: [Layout; 6] = [
    Layout::new(LOWEST_NANOS, 0),
    Layout::new(LOWEST_NANOS, 1),
    Layout::new(LOWEST_NANOS, 2),
    Layout::new(LOWEST_NANOS, 3),
    Layout::new(LOWEST_NANOS, 4),
    Layout::new(LOWEST_NANOS, 5),
];

impl Layout {
    const fn new(lowest: u64, digits: u8) -> Layout {
        let largest_at_unit_resolution = 2 * 10_u32.pow(digits as u32);
        let count_magnitude = u32::BITS - (largest_at_unit_resolution - 1).leading_zeros();
        let unit_magnitude = lowest.ilog2();
        Layout {
            unit_magnitude,
            half_count_magnitude: count_magnitude - 1,
            leading_zero_count_base: u64::BITS - unit_magnitude - count_magnitude,
            sub_bucket_mask: ((1_u64 << count_magnitude) - 1) << unit_magnitude,
        }
    }

    /// The position of `value`'s bucket among the histogram's counts.
    #[inline]
    fn index_of(self, value: u64) -> usize {
        let bucket = self.leading_zero_count_base - (value | self.sub_bucket_mask).leading_zeros();
        let sub_bucket = value >> (bucket + self.unit_magnitude);
        // Bucket 0 uses its lower half too, so its offset may be negative
        // before the base is added: add first.
        (((u64::from(bucket) + 1) << self.half_count_magnitude) + sub_bucket
            - (1 << self.half_count_magnitude)) as usize
    }

    /// The lowest value in the bucket at `index`.
    fn lowest_value_at(self, index: usize) -> u64 {
        let half_count = 1_u64 << self.half_count_magnitude;
        let bucket = (index >> self.half_count_magnitude) as u32;
        let offset = index as u64 & (half_count - 1);
        match bucket {
            // The lower half of the first bucket.
            0 => offset << self.unit_magnitude,
            _ => (offset + half_count) << (bucket - 1 + self.unit_magnitude),
        }
    }

    /// How many counts cover every bucket up to `index`'s, to the end of
    /// its half of sub-buckets: growth a half-bucket at a time.
    fn counts_covering(self, index: usize) -> usize {
        ((index >> self.half_count_magnitude) + 1) << self.half_count_magnitude
    }
}

/// Samples counted per bucket of a latency's histogram, not yet recorded
/// into it. Small (32 bytes), so that a latency stays one line of memory:
/// the layout is looked up by precision, not kept.
#[derive(Clone, Debug)]
pub(super) struct Tally {
    counts: Vec<u32>,
    /// The samples counted since the last drain; no count can exceed it,
    /// so none overflows while it stays below [`Tally::FULL`].
    tallied: u32,
    digits: u8,
}

impl Tally {
    /// A tally this full must be drained before it counts another sample.
    pub const FULL: u32 = u32::MAX;

    /// An empty tally for a histogram of `digits` significant digits
    /// (1 to 5) from the latencies' lowest value.
    pub fn new(digits: u8) -> Tally {
        Tally {
            counts: Vec::new(),
            tallied: 0,
            digits,
        }
    }

    fn layout(&self) -> Layout {
        LAYOUTS[usize::from(self.digits)]
    }

    pub fn tallied(&self) -> u32 {
        self.tallied
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// Counts one sample within the histogram's range. A zero counts in
    /// the first bucket, as the samples of 1 to 511ns there do (a list
    /// keeps those as zero units), and is recorded as one of them.
    #[inline]
    pub fn count(&mut self, value: u64) {
        debug_assert!(self.tallied < Tally::FULL, "a full tally counted a sample");
        let index = self.layout().index_of(value);
        if index >= self.counts.len() {
            self.grow_to(index);
        }
        self.counts[index] += 1;
        self.tallied += 1;
    }

    #[cold]
    fn grow_to(&mut self, index: usize) {
        self.counts.resize(self.layout().counts_covering(index), 0);
    }

    /// Records every counted sample into `histogram` (of the same lowest
    /// value and precision), through `record(histogram, value, count)`,
    /// and forgets them.
    pub fn drain_into(
        &mut self,
        histogram: &mut Histogram<u64>,
        record: impl Fn(&mut Histogram<u64>, u64, u64),
    ) {
        if self.tallied == 0 {
            return;
        }
        let layout = self.layout();
        for (index, count) in self.counts.iter_mut().enumerate() {
            if *count > 0 {
                // Never zero, which the histogram's maximum ignores: every
                // latency is clamped to at least 1, which it does not.
                let value = layout.lowest_value_at(index).max(1);
                record(histogram, value, u64::from(*count));
                *count = 0;
            }
        }
        self.tallied = 0;
    }

    /// Lets go of the counts' memory, once drained: they grow again if
    /// counting resumes.
    pub fn release(&mut self) {
        debug_assert_eq!(self.tallied, 0, "a tally released with samples in it");
        self.counts = Vec::new();
    }

    /// Forgets every counted sample.
    pub fn clear(&mut self) {
        if self.tallied > 0 {
            self.counts.fill(0);
            self.tallied = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values at and around every bucket boundary up to `highest`, and a
    /// spread of others between.
    fn probes(highest: u64) -> Vec<u64> {
        let mut values = Vec::new();
        for shift in 0..u64::BITS {
            let edge = 1_u64 << shift;
            if edge > highest {
                break;
            }
            for value in [edge - 1, edge, edge + 1, edge + edge / 3] {
                values.push(value.clamp(1, highest));
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push(1 + (state >> (state % 50)) % highest);
        }
        values
    }

    #[test]
    fn a_bucket_is_the_histograms_bucket() {
        for digits in 1..=5 {
            for lowest in [1, 1_000, 1 << 10] {
                let histogram = Histogram::<u64>::new_with_bounds(lowest, 1 << 50, digits).unwrap();
                let layout = Layout::new(lowest, digits);
                for value in probes(1 << 50) {
                    let index = layout.index_of(value);
                    let lowest_value = layout.lowest_value_at(index);
                    assert_eq!(
                        lowest_value,
                        histogram.lowest_equivalent(value),
                        "{value} at {digits} digits from {lowest}"
                    );
                    assert_eq!(layout.index_of(lowest_value), index);
                }
            }
        }
    }

    #[test]
    fn a_drained_tally_leaves_the_histogram_as_recording_each_sample_would() {
        let record = |histogram: &mut Histogram<u64>, value, count| {
            histogram.record_n(value, count).unwrap();
        };
        let tiny = vec![1, 7, 511, 1, 3];
        let cases = [(2, probes(1 << 40)), (3, probes(1 << 40)), (3, tiny)];
        for (digits, values) in cases {
            let new = || {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(LOWEST_NANOS, 2 * LOWEST_NANOS, digits)
                        .unwrap();
                histogram.auto(true);
                histogram
            };
            let (mut each, mut tallied) = (new(), new());
            let mut tally = Tally::new(digits);
            for (i, value) in values.into_iter().enumerate() {
                each.record(value).unwrap();
                tally.count(value);
                if i % 7_000 == 0 {
                    tally.drain_into(&mut tallied, record);
                }
            }
            tally.drain_into(&mut tallied, record);
            assert_eq!(tally.tallied(), 0);
            assert_eq!(each, tallied, "equal counts, total and range");
            assert_eq!((each.min(), each.max()), (tallied.min(), tallied.max()));
            assert_eq!(each.high(), tallied.high());
            for quantile in [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(
                    each.value_at_quantile(quantile),
                    tallied.value_at_quantile(quantile)
                );
            }
        }
    }
}
