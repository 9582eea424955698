//! What a run records: counters, latency histograms and time-weighted areas.
//!
//! Everything is streaming. A latency is a sample appended to a bounded list
//! (its first 4,096) or counted in a bucket of a tally that becomes an
//! hdrhistogram when the run settles, a queue length is an area under a
//! step function, so memory
//! depends on the number of components and never on the length of the run. The model
//! writes these; the summary reads them; nothing else does either.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::engine::{SimDuration, SimTime};
use crate::scenario::spec::Scenario;

mod tally;
use tally::Tally;

/// Why a call or an attempt did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The callee answered with an error (its own, or one from below).
    Error,
    /// The caller stopped waiting for an attempt (per-attempt timeout).
    Timeout,
    /// The callee's queue was full.
    Rejected,
    /// The call's overall deadline passed.
    DeadlineExceeded,
    /// The caller's circuit breaker was open: the attempt was never sent.
    ShortCircuited,
    /// A rate limit turned the attempt away (a 429): the target's rate
    /// limiter, or the caller's own limit on the call.
    Throttled,
}

/// Failures counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCounts {
    pub error: u64,
    pub timeout: u64,
    pub rejected: u64,
    pub deadline_exceeded: u64,
    pub short_circuited: u64,
    pub throttled: u64,
}

impl FailureCounts {
    pub fn add(&mut self, failure: Failure) {
        match failure {
            Failure::Error => self.error += 1,
            Failure::Timeout => self.timeout += 1,
            Failure::Rejected => self.rejected += 1,
            Failure::DeadlineExceeded => self.deadline_exceeded += 1,
            Failure::ShortCircuited => self.short_circuited += 1,
            Failure::Throttled => self.throttled += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.error
            + self.timeout
            + self.rejected
            + self.deadline_exceeded
            + self.short_circuited
            + self.throttled
    }
}

/// Lowest and highest trackable latencies: 1µs resolution up to 30 days,
/// three significant digits (an error below 0.1%).
const LOWEST_NANOS: u64 = 1_000;
const HIGHEST_NANOS: u64 = 30 * 24 * 3_600 * 1_000_000_000;

/// A latency distribution with an exact mean and histogram percentiles.
///
/// It starts as a short list of the samples themselves and counts them per
/// bucket (then an hdrhistogram) only once it holds `FEW_SAMPLES`: in a scenario of
/// thousands of components most see few requests, and a list of a few
/// hundred numbers is far smaller than a histogram's buckets. A latency
/// nobody records (the failures of a call that never fails) costs a few
/// bytes. Every statistic is read from a histogram either way (one built on
/// the spot for a short list), so the two forms give identical percentiles.
///
/// Aligned to a line of memory, so that recording a sample touches one line
/// of it, never two, wherever it sits in the metrics that hold it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "StoredLatency", try_from = "StoredLatency")]
#[repr(align(64))]
pub struct Latency {
    samples: Samples,
    digits: u8,
    sum_nanos: u128,
}

#[derive(Clone, Debug)]
enum Samples {
    /// Each sample, clamped to the histogram's range, in no particular
    /// order, in units of the histogram's finest resolution
    /// ([`FINEST_UNIT_SHIFT`]): half the memory of nanoseconds, and every
    /// statistic is read from a bucket that holds the whole unit.
    Few(Vec<u32>),
    /// Samples counted per bucket in `tally` while the run records them,
    /// and recorded into `histogram` (made then) when it settles
    /// ([`Latency::settle`], at the end of a run): counting a sample costs
    /// its bucket's index and an increment, where recording it into an
    /// hdrhistogram costs sixty instructions, and the tally's counts take
    /// half the memory of the histogram's (see [`tally`]). Counts do not
    /// depend on the order they were recorded in, so neither does any
    /// statistic. The histogram is boxed, so a latency is one cache line (a
    /// histogram's header alone is two).
    Many {
        tally: Tally,
        histogram: Option<Box<Histogram<u64>>>,
    },
}

/// How many samples a latency keeps as a list before it counts them in a
/// tally: 16 KiB of samples (32 bits each), an eighth of a three-digit
/// histogram of millisecond latencies.
const FEW_SAMPLES: usize = 4096;

/// A list keeps a sample as `nanos >> FINEST_UNIT_SHIFT`: hdrhistogram's
/// finest resolution is the largest power of two not above the lowest
/// trackable value (2⁹ = 512ns for 1µs), so the nanoseconds dropped never
/// move a sample out of its bucket, at any precision. A sample too long for
/// 32 bits of those units (over 36 minutes) turns the list into a tally.
const FINEST_UNIT_SHIFT: u32 = LOWEST_NANOS.ilog2();

/// The longest list of samples whose quantiles are read by sorting it
/// rather than by selection.
const SORTED_OUTRIGHT: usize = 64;

/// A sample's place in a list: its units of the finest resolution, or
/// `None` if they do not fit.
fn finest_units(nanos: u64) -> Option<u32> {
    u32::try_from(nanos >> FINEST_UNIT_SHIFT).ok()
}

/// The first nanosecond of a unit kept in a list: in the same bucket as
/// the sample it stands for.
fn from_finest_units(units: u32) -> u64 {
    u64::from(units) << FINEST_UNIT_SHIFT
}

/// A histogram of `digits` significant digits, empty, for its bucket
/// arithmetic alone: which values are equivalent depends only on the lowest
/// value and the precision, never on the range or the counts.
fn buckets(digits: u8) -> &'static Histogram<u64> {
    static BUCKETS: [std::sync::OnceLock<Histogram<u64>>; 6] =
        [const { std::sync::OnceLock::new() }; 6];
    BUCKETS[usize::from(digits)].get_or_init(|| Latency::new_histogram(digits))
}

/// The range a histogram covers at first: the smallest hdrhistogram allows.
/// It grows to what is recorded (never past [`HIGHEST_NANOS`]). Bucket
/// boundaries depend only on the lowest value and the precision, so growing
/// never changes a percentile.
const INITIAL_HIGHEST_NANOS: u64 = 2 * LOWEST_NANOS;

impl Default for Latency {
    fn default() -> Self {
        Latency::with_digits(3)
    }
}

impl Latency {
    /// A latency with `digits` significant digits (1 to 5): 3 for a run's
    /// statistics; 2 (1% error, a tenth of the memory) where a histogram is
    /// read and cleared often, as the time series' per-interval percentiles.
    pub fn with_digits(digits: u8) -> Latency {
        Latency {
            samples: Samples::Few(Vec::new()),
            digits,
            sum_nanos: 0,
        }
    }

    fn new_histogram(digits: u8) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(LOWEST_NANOS, INITIAL_HIGHEST_NANOS, digits)
            .expect("constant histogram bounds are valid");
        histogram.auto(true);
        histogram
    }

    /// Adds one clamped sample to a histogram, growing its range if needed.
    fn record_into(histogram: &mut Histogram<u64>, value: u64) {
        Latency::record_n_into(histogram, value, 1);
    }

    /// Adds `count` clamped samples of one value to a histogram, growing
    /// its range if needed.
    fn record_n_into(histogram: &mut Histogram<u64>, value: u64, count: u64) {
        // Within the current range the saturating path is the fast one;
        // beyond it, `record_n` grows the histogram (`saturating_record_n` would not).
        let grown = value > histogram.high() && histogram.record_n(value, count).is_ok();
        if !grown {
            histogram.saturating_record_n(value, count);
        }
    }

    fn histogram_of(units: &[u32], digits: u8) -> Histogram<u64> {
        Latency::histogram_of_nanos(units.iter().map(|&unit| from_finest_units(unit)), digits)
    }

    fn histogram_of_nanos(values: impl IntoIterator<Item = u64>, digits: u8) -> Histogram<u64> {
        let mut histogram = Latency::new_histogram(digits);
        for value in values {
            Latency::record_into(&mut histogram, value.clamp(1, HIGHEST_NANOS));
        }
        histogram
    }

    pub fn record(&mut self, latency: SimDuration) {
        let nanos = latency.as_nanos();
        // Clamped, so the auto-resizing histogram never grows past 30 days.
        let value = nanos.clamp(1, HIGHEST_NANOS);
        self.sum_nanos += u128::from(nanos);
        match &mut self.samples {
            Samples::Many { tally, histogram } => {
                if tally.tallied() == Tally::FULL {
                    Latency::drain(tally, histogram);
                }
                tally.count(value);
            }
            Samples::Few(values) => match finest_units(value) {
                Some(units) if values.len() < FEW_SAMPLES => values.push(units),
                _ => self.become_tally(value),
            },
        }
    }

    /// Turns a full list (or one meeting a sample too long for it) into a
    /// tally, counting `value` too.
    #[cold]
    fn become_tally(&mut self, value: u64) {
        let Samples::Few(values) = &self.samples else {
            unreachable!("only a list becomes a tally")
        };
        let mut tally = Tally::new(self.digits);
        for &units in values {
            tally.count(from_finest_units(units));
        }
        tally.count(value);
        let histogram = None;
        self.samples = Samples::Many { tally, histogram };
    }

    /// Samples kept as `histogram`, with none waiting in a tally.
    fn many(histogram: Histogram<u64>) -> Samples {
        Samples::Many {
            tally: Tally::new(histogram.sigfig()),
            histogram: Some(Box::new(histogram)),
        }
    }

    /// Records the tally's samples into the histogram, made if need be.
    fn drain(tally: &mut Tally, histogram: &mut Option<Box<Histogram<u64>>>) {
        let digits = tally.digits();
        let histogram = histogram.get_or_insert_with(|| Box::new(Latency::new_histogram(digits)));
        tally.drain_into(histogram, Latency::record_n_into);
    }

    /// Records the samples still waiting in the tally and lets go of its
    /// counts, so that reading the histogram needs no copy of it: for the
    /// end of a run, before its statistics are read.
    pub fn settle(&mut self) {
        self.drain_tally();
        if let Samples::Many { tally, .. } = &mut self.samples {
            tally.release();
        }
    }

    /// Records the samples waiting in the tally into the histogram (made
    /// if need be), keeping the tally's memory for the samples to come.
    fn drain_tally(&mut self) {
        if let Samples::Many { tally, histogram } = &mut self.samples
            && (tally.tallied() > 0 || histogram.is_none())
        {
            Latency::drain(tally, histogram);
        }
    }

    /// The samples as a histogram: the one kept (with any samples still
    /// in the tally recorded into a copy), or one built from the list.
    fn histogram(&self) -> std::borrow::Cow<'_, Histogram<u64>> {
        match &self.samples {
            Samples::Many {
                tally,
                histogram: Some(histogram),
            } if tally.tallied() == 0 => std::borrow::Cow::Borrowed(histogram),
            Samples::Many { tally, histogram } => {
                let mut histogram = histogram.as_deref().cloned().map(Box::new);
                Latency::drain(&mut tally.clone(), &mut histogram);
                std::borrow::Cow::Owned(*histogram.expect("a drained tally leaves a histogram"))
            }
            Samples::Few(values) => {
                std::borrow::Cow::Owned(Latency::histogram_of(values, self.digits))
            }
        }
    }

    pub fn count(&self) -> u64 {
        match &self.samples {
            Samples::Few(values) => values.len() as u64,
            Samples::Many { tally, histogram } => {
                histogram.as_ref().map_or(0, |h| h.len()) + u64::from(tally.tallied())
            }
        }
    }

    pub fn mean(&self) -> SimDuration {
        match self.count() {
            0 => SimDuration::ZERO,
            n => SimDuration((self.sum_nanos / u128::from(n)) as u64),
        }
    }

    pub fn sum_nanos(&self) -> u128 {
        self.sum_nanos
    }

    /// The value at `quantile` (0 < quantile ≤ 1), or zero with no samples.
    /// From a list it is what hdrhistogram would answer: the sample of rank
    /// ⌈quantile · count⌉, raised to the top of its bucket.
    pub fn quantile(&self, quantile: f64) -> SimDuration {
        match &self.samples {
            Samples::Many { .. } => match self.histogram() {
                histogram if histogram.is_empty() => SimDuration::ZERO,
                histogram => SimDuration(histogram.value_at_quantile(quantile)),
            },
            Samples::Few(values) => {
                let [value] =
                    Latency::select_quantiles(&mut values.clone(), self.digits, [quantile]);
                value
            }
        }
    }

    /// Several quantiles at once (each 0 < q ≤ 1), each equal to
    /// [`Latency::quantile`]'s answer.
    pub fn quantiles<const N: usize>(&self, quantiles: [f64; N]) -> [SimDuration; N] {
        match &self.samples {
            Samples::Few(values) => {
                Latency::select_quantiles(&mut values.clone(), self.digits, quantiles)
            }
            Samples::Many { .. } => quantiles.map(|q| self.quantile(q)),
        }
    }

    /// Many quantiles (each 0 ≤ q ≤ 1), as for a chart of latency against
    /// percentile: each equal to [`Latency::quantile`]'s answer, but a list
    /// is sorted once rather than searched once per quantile.
    pub fn quantile_curve(&self, quantiles: &[f64]) -> Vec<SimDuration> {
        let Samples::Few(values) = &self.samples else {
            return quantiles.iter().map(|&q| self.quantile(q)).collect();
        };
        if values.is_empty() {
            return vec![SimDuration::ZERO; quantiles.len()];
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let buckets = buckets(self.digits);
        let rank =
            |q: f64| ((q.min(1.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        let value_at = |q: f64| {
            SimDuration(buckets.highest_equivalent(from_finest_units(sorted[rank(q) - 1])))
        };
        quantiles.iter().map(|&q| value_at(q)).collect()
    }

    /// [`Latency::quantiles`] without copying a list: the kept samples may
    /// change order, which no statistic depends on. For a latency read and
    /// then cleared, as each interval of the time series is.
    pub fn quantiles_reordering<const N: usize>(
        &mut self,
        quantiles: [f64; N],
    ) -> [SimDuration; N] {
        // Drained, not released: an interval's latency is read and cleared
        // each interval, and counts into the same buckets in the next.
        self.drain_tally();
        match &mut self.samples {
            Samples::Few(values) => Latency::select_quantiles(values, self.digits, quantiles),
            Samples::Many { .. } => quantiles.map(|q| self.quantile(q)),
        }
    }

    /// The sample of each quantile's rank (⌈q · count⌉), raised to the top
    /// of its bucket: by selection rather than a sort, unless the list is
    /// short.
    fn select_quantiles<const N: usize>(
        values: &mut [u32],
        digits: u8,
        quantiles: [f64; N],
    ) -> [SimDuration; N] {
        if values.is_empty() {
            return [SimDuration::ZERO; N];
        }
        let ranks = quantiles.map(|q| {
            debug_assert!(
                q > 0.0,
                "the bottom of a bucket is not computed from a list"
            );
            ((q.min(1.0) * values.len() as f64).ceil() as usize).clamp(1, values.len())
        });
        let found = match values.len() {
            // A short list (each of a thousand sources' samples in one
            // interval) is cheaper to sort than to select in twice.
            ..=SORTED_OUTRIGHT => {
                values.sort_unstable();
                ranks.map(|rank| values[rank - 1])
            }
            _ => Latency::select_ranks(values, ranks),
        };
        let buckets = buckets(digits);
        found.map(|units| SimDuration(buckets.highest_equivalent(from_finest_units(units))))
    }

    /// The values of each rank (1 to the list's length), highest rank
    /// first, each next one selected among the values left below the last.
    fn select_ranks<const N: usize>(values: &mut [u32], ranks: [usize; N]) -> [u32; N] {
        let mut order: [usize; N] = std::array::from_fn(|i| i);
        order.sort_unstable_by_key(|&i| std::cmp::Reverse(ranks[i]));
        let mut found = [0u32; N];
        let mut below = values.len();
        for i in order {
            let index = ranks[i] - 1;
            if index < below {
                values[..below].select_nth_unstable(index);
                below = index;
            }
            // Equal ranks share the element selected last.
            found[i] = values[index];
        }
        found
    }

    pub fn max(&self) -> SimDuration {
        match &self.samples {
            Samples::Many { .. } => SimDuration(self.histogram().max()),
            Samples::Few(values) => SimDuration(values.iter().max().map_or(0, |&units| {
                buckets(self.digits).highest_equivalent(from_finest_units(units))
            })),
        }
    }

    /// Both distributions together: the latency of every finished request
    /// from those of the successful and the failed ones.
    pub fn merged(&self, other: &Latency) -> Latency {
        let mut all = self.clone();
        all.sum_nanos += other.sum_nanos;
        if let (Samples::Few(ours), Samples::Few(theirs)) = (&mut all.samples, &other.samples)
            && ours.len() + theirs.len() <= FEW_SAMPLES
        {
            ours.extend_from_slice(theirs);
            return all;
        }
        let mut ours = all.histogram().into_owned();
        // Same lowest value and precision on both sides, and ours grows
        // to fit, so adding cannot fail; saturate regardless.
        let _ = ours.add(&*other.histogram());
        all.samples = Latency::many(ours);
        all
    }

    /// Forgets every sample (for per-interval percentiles); an empty one
    /// is left as it is, without touching its buckets.
    pub fn clear(&mut self) {
        if self.count() == 0 {
            return;
        }
        match &mut self.samples {
            Samples::Few(values) => values.clear(),
            Samples::Many { tally, histogram } => {
                tally.clear();
                if let Some(histogram) = histogram {
                    histogram.reset();
                }
            }
        }
        self.sum_nanos = 0;
    }
}

/// A latency as a study's partial result keeps it: the list (nanoseconds,
/// to the finest resolution a list keeps), or
/// the histogram in hdrhistogram's own V2 encoding (hex), so a latency read
/// back answers every statistic exactly as the one written.
#[derive(Serialize, Deserialize)]
struct StoredLatency {
    digits: u8,
    sum_nanos: u128,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    few: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    histogram_v2_hex: Option<String>,
}

impl From<Latency> for StoredLatency {
    fn from(mut latency: Latency) -> StoredLatency {
        latency.settle();
        let (few, histogram_v2_hex) = match latency.samples {
            Samples::Few(units) => (units.into_iter().map(from_finest_units).collect(), None),
            Samples::Many { histogram, .. } => {
                let histogram = histogram.expect("a settled latency has its histogram");
                let mut bytes = Vec::new();
                use hdrhistogram::serialization::Serializer as _;
                hdrhistogram::serialization::V2Serializer::new()
                    .serialize(&histogram, &mut bytes)
                    .expect("a histogram always encodes into memory");
                (Vec::new(), Some(hex_encode(&bytes)))
            }
        };
        StoredLatency {
            digits: latency.digits,
            sum_nanos: latency.sum_nanos,
            few,
            histogram_v2_hex,
        }
    }
}

impl TryFrom<StoredLatency> for Latency {
    type Error = String;

    fn try_from(stored: StoredLatency) -> Result<Latency, String> {
        if !(1..=5).contains(&stored.digits) {
            return Err(format!("a latency of {} significant digits", stored.digits));
        }
        let samples = match stored.histogram_v2_hex {
            None => match stored
                .few
                .iter()
                .map(|&nanos| finest_units(nanos))
                .collect()
            {
                Some(units) => Samples::Few(units),
                // Written before lists were kept in units: a sample too long for one.
                None => Latency::many(Latency::histogram_of_nanos(stored.few, stored.digits)),
            },
            Some(hex) => {
                let bytes = hex_decode(&hex)?;
                let mut histogram: Histogram<u64> =
                    hdrhistogram::serialization::Deserializer::new()
                        .deserialize(&mut bytes.as_slice())
                        .map_err(|e| format!("a latency histogram that does not decode: {e:?}"))?;
                // The flag is not part of the encoding; a histogram recorded into again must grow.
                histogram.auto(true);
                Latency::many(histogram)
            }
        };
        Ok(Latency {
            samples,
            digits: stored.digits,
            sum_nanos: stored.sum_nanos,
        })
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_decode(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return Err("a latency histogram that is not hex".to_string());
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| {
            u8::from_str_radix(&hex[at..at + 2], 16)
                .map_err(|_| "a latency histogram that is not hex".to_string())
        })
        .collect()
}

/// The time integral of a step function, such as a queue length.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Area {
    /// Σ value · nanoseconds.
    integral: u128,
    last_change_at: SimTime,
}

impl Area {
    /// Accounts for `value` having held since the last change, until `now`.
    pub fn advance(&mut self, now: SimTime, value: u64) {
        let held = now.since(self.last_change_at).as_nanos();
        self.integral += u128::from(value) * u128::from(held);
        self.last_change_at = now;
    }

    /// Σ value · nanoseconds so far.
    pub fn integral(&self) -> u128 {
        self.integral
    }

    /// Adds part of another area's integral (an instance's, since warm-up).
    pub fn add(&mut self, integral: u128) {
        self.integral += integral;
    }

    /// The time-average over `span`.
    pub fn mean_over(&self, span: SimDuration) -> f64 {
        if span.as_nanos() == 0 {
            return 0.0;
        }
        self.integral as f64 / span.as_nanos() as f64
    }
}

/// Per source: the requests it generated and how they ended.
///
/// `repr(C)`, with what every request touches first (its counts, whether
/// there are phases), so that it shares a line of memory; `phases` and
/// `job` are boxed for the same reason: most sources have neither.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[repr(C)]
pub struct SourceMetrics {
    pub requests: u64,
    pub succeeded: u64,
    /// Before, during and after the source's disturbance (surge or fault), if it has one.
    pub phases: Option<Box<Phases>>,
    pub failed: FailureCounts,
    /// Requests started in the measured window and still unanswered at the end.
    pub in_flight: u64,
    /// End-to-end latency of successful requests, retries included.
    pub latency: Latency,
    /// Until the caller got its failure (error, timeout, deadline…), retries included.
    pub latency_failed: Latency,
    /// For a job source: the jobs, as the system ran them.
    pub job: Option<Box<JobMetrics>>,
}

/// A job source's jobs submitted in the measured window: how the system
/// ended them, how their clients did, and the polling between the two.
/// The source's own latency is the client's: submit to the poll that saw
/// the end.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct JobMetrics {
    /// Submits the API accepted (the job is on its queue) or failed.
    pub accepted: u64,
    pub submit_failed: u64,
    /// The system's side: processed (the message deleted), or failed.
    pub completed: u64,
    pub dead_lettered: u64,
    pub expired: u64,
    /// Turned away by a full queue, or pushed out of it (`drop_oldest`).
    pub dropped: u64,
    /// Still submitting, queued or in progress at the end.
    pub unfinished_at_end: u64,
    /// Completed after their client had given up: wasted work.
    pub completed_after_given_up: u64,
    /// The client's side: the poll that saw the job completed or failed,
    /// the deadline, or still polling at the end.
    pub seen_completed: u64,
    pub seen_failed: u64,
    pub abandoned: u64,
    pub waiting_at_end: u64,
    pub polls: u64,
    /// Clients of accepted jobs done waiting (they saw the end or gave
    /// up), and the polls those clients made.
    pub clients_done: u64,
    pub polls_by_clients_done: u64,
    /// Polls the status endpoint did not answer (error, timeout, …).
    pub polls_failed: u64,
    /// Submit to completion: the system's view of a job's latency.
    pub latency_system: Latency,
    /// Submit to failure (dead-lettered, expired, dropped).
    pub latency_system_failed: Latency,
    /// From the job's end to the poll that saw it: what polling adds.
    pub polling_delay: Latency,
}

impl SourceMetrics {
    /// Metrics for a source whose disturbance spans `window`, if any.
    pub fn with_window(window: Option<(SimTime, SimTime)>) -> SourceMetrics {
        SourceMetrics {
            phases: window.map(|(start_at, end_at)| {
                Box::new(Phases {
                    start_at,
                    end_at,
                    parts: Default::default(),
                })
            }),
            ..SourceMetrics::default()
        }
    }
}

/// Requests counted by when they finished: before the disturbance started,
/// while it lasted, and after it ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phases {
    pub start_at: SimTime,
    pub end_at: SimTime,
    /// Before, during, after.
    pub parts: [PhaseMetrics; 3],
}

/// What finished within one phase.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhaseMetrics {
    pub succeeded: u64,
    pub failed: u64,
    pub latency: Latency,
    pub latency_failed: Latency,
}

impl Phases {
    /// Records a request that finished at `now` after `latency`.
    pub fn record(&mut self, now: SimTime, latency: SimDuration, succeeded: bool) {
        let index = match now {
            t if t < self.start_at => 0,
            t if t < self.end_at => 1,
            _ => 2,
        };
        let part = &mut self.parts[index];
        if succeeded {
            part.succeeded += 1;
            part.latency.record(latency);
        } else {
            part.failed += 1;
            part.latency_failed.record(latency);
        }
    }
}

/// Counts by source index, in source order. The first two sit inline: a
/// service reached by one or two sources counts an attempt in the line of
/// memory that holds its other counters, with no tree node to chase, and
/// with a thousand services those lines are what a run waits on. Stored
/// as a map from source index to count.
#[derive(Clone, Debug, Default)]
pub struct CountsBySource(smallvec::SmallVec<[(u32, u64); 2]>);

impl CountsBySource {
    pub fn add(&mut self, source: u32) {
        // Most services are reached by one source, or by the last one again.
        if let Some((last, count)) = self.0.last_mut()
            && *last == source
        {
            *count += 1;
            return;
        }
        match self.0.binary_search_by_key(&source, |&(s, _)| s) {
            Ok(index) => self.0[index].1 += 1,
            Err(index) => self.0.insert(index, (source, 1)),
        }
    }

    /// (source index, count), in source order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.0.iter().copied()
    }
}

impl Serialize for CountsBySource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for CountsBySource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<u32, u64>::deserialize(deserializer)?;
        Ok(CountsBySource(map.into_iter().collect()))
    }
}

/// What every attempt reaching a service counts in the measured window, and
/// its successes, apart from the service's [`ServiceMetrics`] in one line of
/// memory: with a thousand services taking turns, counting there took an
/// arrival one or two lines of the metrics and its success another. Moved
/// into the metrics when the run ends ([`ServiceTally::settle`]).
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub struct ServiceTally {
    pub attempts_by_source: CountsBySource,
    pub attempts: u64,
    /// Counted here rather than in the metrics, so that a success finds the
    /// line its arrival read.
    pub succeeded: u64,
}

impl ServiceTally {
    /// Counts an attempt serving a request of `source` (none for work no
    /// source started).
    pub fn add(&mut self, source: Option<u32>) {
        self.attempts += 1;
        if let Some(source) = source {
            self.attempts_by_source.add(source);
        }
    }

    /// Hands the counts to the service's metrics.
    pub fn settle(self, metrics: &mut ServiceMetrics) {
        metrics.attempts = self.attempts;
        metrics.attempts_by_source = self.attempts_by_source;
        metrics.succeeded = self.succeeded;
    }
}

/// Per service, summed over its instances. Outcomes are counted for requests
/// that arrived in the measured window, so they balance against `attempts`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServiceMetrics {
    /// Attempts that reached the service (accepted or rejected).
    pub attempts: u64,
    /// The same, by the source whose request each served (consumers' and
    /// background work are in neither); only sources that reach the service
    /// have an entry, so a thousand services behind a thousand sources do
    /// not hold a million counters.
    pub attempts_by_source: CountsBySource,
    pub rejected: u64,
    pub succeeded: u64,
    pub errors: u64,
    /// Requests dropped unserved because their deadline had passed (deadline propagation).
    pub expired: u64,
    /// Turned away by the concurrency limit.
    pub shed: u64,
    /// Dropped from the queue to make room for a more critical request
    /// (`priority`).
    pub displaced: u64,
    /// Dropped when dequeued because they had waited longer than the queue timeout.
    pub queue_timeouts: u64,
    /// Refused at once by an instance that was down (outage or crash).
    pub refused: u64,
    /// Swallowed by a hanging outage: never answered.
    pub hung: u64,
    /// Queued or in service when their instance crashed.
    pub lost_in_crash: u64,
    /// Σ ready instances · time (instances taking traffic).
    pub ready_instances: Area,
    pub ready_instances_max: u64,
    /// The fewest instances taking traffic at any time, warm-up included,
    /// as the autoscaler set them (`u64::MAX` if it never acted).
    pub ready_instances_min: u64,
    /// Requests finished after their caller had given up: wasted work.
    pub abandoned_work: u64,
    /// Requests queued or in service when the run ended.
    pub in_system_at_end: u64,
    /// Σ busy workers · time.
    pub busy: Area,
    /// The largest one instance's share of `busy`: a hot shard, a slow
    /// instance, an unfair balancer.
    pub busy_busiest_instance: u128,
    /// Σ waiting requests · time.
    pub queue: Area,
    pub queue_max: u64,
    /// Time from arrival to the start of service.
    pub queue_wait: Latency,
    /// Time from arrival to the response, for every answered request.
    pub latency: Latency,
    /// Pauses that began while measuring, over all instances, and their
    /// time up to the end of the run.
    pub pauses: u64,
    pub paused_nanos: u64,
}

/// Per call edge (caller → target): what the caller saw.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EdgeMetrics {
    pub calls: u64,
    /// Tries in all: first attempts, retries and hedges, short-circuited included.
    pub attempts: u64,
    pub retries: u64,
    /// Extra attempts sent by hedging while an earlier one was still out.
    pub hedges: u64,
    /// Retries the policy wanted and the edge's retry limit refused.
    pub retries_throttled: u64,
    /// Attempts the circuit breaker refused to send.
    pub short_circuited: u64,
    /// Attempts the caller's own rate limit refused, and those it held
    /// back until a token was free.
    pub throttled_by_caller: u64,
    pub delayed_by_rate_limit: u64,
    /// Attempts the edge's network lost on their way.
    pub lost_in_network: u64,
    /// Times the circuit breaker opened.
    pub breaker_opened: u64,
    pub succeeded: u64,
    pub failed: FailureCounts,
    /// Calls abandoned because a parallel sibling failed.
    pub cancelled: u64,
    /// Calls started in the measured window and unfinished at the end.
    pub in_flight_at_end: u64,
    /// Attempts that ended by reason (timeouts, rejections, errors).
    pub attempt_failures: FailureCounts,
    /// Latency of successful calls, as the caller saw it.
    pub latency: Latency,
    /// Until the caller saw the call fail, retries included.
    pub latency_failed: Latency,
}

/// Per rate limiter: attempts that reached it, and those it turned away.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RateLimiterMetrics {
    pub requests: u64,
    pub throttled: u64,
}

/// Per bulkhead, over attempts that reached it in the measured window: how
/// many waited for a place, how many it turned away, and the waits.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BulkheadMetrics {
    pub requests: u64,
    /// Attempts that found every place taken and waited in line.
    pub waited: u64,
    /// Turned away at once: every place taken and the line full.
    pub rejected_full: u64,
    /// Turned away after waiting `max_wait` in line.
    pub rejected_waiting: u64,
    /// Attempts whose callers gave up while they waited in line (counted
    /// when the line reaches them, or at the end of the run).
    pub gave_up_waiting: u64,
    /// Attempts that waited and then got a place, and their waits in all.
    pub admitted_after_waiting: u64,
    pub wait_nanos_total: u128,
    pub wait_max: SimDuration,
    /// The most attempts through it at once (measured window).
    pub in_use_max: u64,
}

/// Per shaper, over attempts that reached it in the measured window: how
/// many it held back, turned away, or lost to callers that gave up, and
/// the delays of those it held back and then let through.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ShaperMetrics {
    pub requests: u64,
    pub delayed: u64,
    pub throttled: u64,
    pub gave_up_waiting: u64,
    pub passed_after_delay: u64,
    pub delay_nanos_total: u128,
    pub delay_max: SimDuration,
}

/// Per cache: lookups, how they were answered, and the backend calls made.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CacheMetrics {
    pub requests: u64,
    /// Answered from the cache, stale entries included.
    pub hits: u64,
    /// Hits served from an entry past its TTL, within the stale window.
    pub stale_hits: u64,
    /// Misses that waited for a fetch already in progress (single flight).
    pub coalesced: u64,
    /// Calls the cache made to its backend: fills and refreshes.
    pub backend_calls: u64,
    pub backend_failures: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub entries_at_end: u64,
    pub hit_latency: Latency,
    /// How old the entry served by each hit was: the staleness of the data.
    pub hit_age: Latency,
    /// Arrival at the cache to the answer, for misses whose fetch succeeded.
    pub miss_latency: Latency,
}

/// Per message queue. Outcomes are counted for messages first sent in the
/// measured window, so `sent + dead_letters_in` balances against deleted,
/// expired, dead-lettered, dropped and those still held at the end.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QueueMetrics {
    /// Messages producers offered to the queue (taken, dropped or blocked).
    pub sent: u64,
    /// Messages moved here from a queue whose redrive policy names this one.
    pub dead_letters_in: u64,
    /// Deleted after a successful processing.
    pub deleted: u64,
    /// Deletions in the measured window, whenever the message was sent
    /// (warm-up included): what the consumers processed.
    pub processed: u64,
    /// Every message held when the run ended, warm-up sends included.
    pub held_at_end: u64,
    /// Older than the retention period.
    pub expired: u64,
    /// Moved to the dead-letter queue after too many receives.
    pub dead_lettered: u64,
    /// Refused or thrown away by a full queue, or given up while blocked.
    pub dropped: u64,
    /// Sends that had to wait for room (`when_full: block`).
    pub blocked: u64,
    /// Held when the run ended (visible, delayed or in flight).
    pub in_queue_at_end: u64,
    /// Blocked sends still waiting when the run ended.
    pub blocked_at_end: u64,
    /// Successful processings of a message already processed before (at-least-once).
    pub duplicates: u64,
    /// Deletions of a message sent before one already deleted (in its FIFO group).
    pub out_of_order: u64,
    /// Receive calls, and those that returned nothing (the cost of polling).
    pub receives: u64,
    /// Delete calls: one per batch that deleted anything (a batch delete
    /// counts once, as SQS bills it).
    pub delete_calls: u64,
    pub empty_receives: u64,
    /// Messages returned by receives (deliveries, redeliveries included).
    pub messages_received: u64,
    pub batch_size_max: u64,
    /// Σ and max of the receive count of deleted messages.
    pub receive_count_sum: u64,
    pub receive_count_max: u64,
    /// From the first send to the successful delete.
    pub latency: Latency,
    /// From the first send until a message left unprocessed: dead-lettered,
    /// expired, or thrown out of a full queue by a newer one.
    pub latency_failed: Latency,
    /// Σ visible messages · time, and Σ in-flight messages · time.
    pub depth: Area,
    pub in_flight: Area,
    pub depth_max: u64,
    /// The longest any message stayed in this queue.
    pub age_max: SimDuration,
}

/// Per consumer group: the batches its pollers processed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ConsumerMetrics {
    pub batches: u64,
    pub batches_failed: u64,
    pub messages: u64,
    pub messages_succeeded: u64,
    pub messages_failed: u64,
    /// Messages in batches a crash interrupted (they return after their visibility timeout).
    pub messages_lost_in_crash: u64,
    /// Σ pollers processing · time.
    pub busy: Area,
    /// From receive to the end of processing, per batch.
    pub batch_latency: Latency,
}

/// Everything one run recorded.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub sources: Vec<SourceMetrics>,
    pub services: Vec<ServiceMetrics>,
    /// Attempts routed through each load balancer.
    pub balancer_attempts: Vec<u64>,
    /// Per router (services, then balancers): outlier ejections, and
    /// instances a health check marked unhealthy.
    pub router_ejections: Vec<u64>,
    pub router_unhealthy: Vec<u64>,
    pub edges: Vec<EdgeMetrics>,
    pub caches: Vec<CacheMetrics>,
    pub rate_limiters: Vec<RateLimiterMetrics>,
    #[serde(default)]
    pub bulkheads: Vec<BulkheadMetrics>,
    #[serde(default)]
    pub shapers: Vec<ShaperMetrics>,
    pub queues: Vec<QueueMetrics>,
    pub consumers: Vec<ConsumerMetrics>,
}

impl Metrics {
    /// Records every latency's tallied samples ([`Latency::settle`]): at
    /// the end of a run, so that reading its statistics copies no
    /// histogram. A latency left out here still answers correctly, only
    /// more slowly.
    pub fn settle_latencies(&mut self) {
        for source in &mut self.sources {
            source.latency.settle();
            source.latency_failed.settle();
            for part in source.phases.iter_mut().flat_map(|p| p.parts.iter_mut()) {
                part.latency.settle();
                part.latency_failed.settle();
            }
            if let Some(job) = &mut source.job {
                job.latency_system.settle();
                job.latency_system_failed.settle();
                job.polling_delay.settle();
            }
        }
        for service in &mut self.services {
            service.queue_wait.settle();
            service.latency.settle();
        }
        for edge in &mut self.edges {
            edge.latency.settle();
            edge.latency_failed.settle();
        }
        for cache in &mut self.caches {
            cache.hit_latency.settle();
            cache.hit_age.settle();
            cache.miss_latency.settle();
        }
        for queue in &mut self.queues {
            queue.latency.settle();
            queue.latency_failed.settle();
        }
        for consumer in &mut self.consumers {
            consumer.batch_latency.settle();
        }
    }

    /// Whether nothing is recorded here: the metrics a study drops from
    /// the runs it reads only the summary of.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.services.is_empty() && self.queues.is_empty()
    }

    /// Empty metrics, one entry per component of `scenario`.
    pub fn for_scenario(scenario: &Scenario) -> Metrics {
        let routers = scenario.services.len() + scenario.balancers.len();
        let window = scenario
            .disturbance_window()
            .map(|(start, end)| (SimTime::ZERO + start, SimTime::ZERO + end));
        Metrics {
            sources: scenario
                .sources
                .iter()
                .map(|source| SourceMetrics {
                    job: source.job.as_ref().map(|_| Box::default()),
                    ..SourceMetrics::with_window(window)
                })
                .collect(),
            services: vec![
                ServiceMetrics {
                    ready_instances_min: u64::MAX,
                    ..ServiceMetrics::default()
                };
                scenario.services.len()
            ],
            balancer_attempts: vec![0; scenario.balancers.len()],
            router_ejections: vec![0; routers],
            router_unhealthy: vec![0; routers],
            edges: vec![Default::default(); scenario.edges.len()],
            caches: vec![Default::default(); scenario.caches.len()],
            rate_limiters: vec![Default::default(); scenario.gates.rate_limiters.len()],
            bulkheads: vec![Default::default(); scenario.gates.bulkheads.len()],
            shapers: vec![Default::default(); scenario.gates.shapers.len()],
            queues: vec![Default::default(); scenario.queues.len()],
            consumers: vec![Default::default(); scenario.consumers.len()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request records into several latencies, each in its own
    /// component's metrics: each must stay one cache line.
    #[test]
    fn a_latency_fits_in_one_cache_line() {
        assert!(size_of::<Latency>() <= 64, "{}", size_of::<Latency>());
    }

    #[test]
    fn latency_mean_is_exact_and_quantiles_are_close() {
        let mut latency = Latency::default();
        for millis in 1..=100u64 {
            latency.record(SimDuration(millis * 1_000_000));
        }
        assert_eq!(latency.count(), 100);
        assert_eq!(latency.mean(), SimDuration(50_500_000));
        let p99 = latency.quantile(0.99).as_millis_f64();
        assert!((p99 - 99.0).abs() < 0.1, "p99 {p99}");
        assert_eq!(Latency::default().quantile(0.5), SimDuration::ZERO);
    }

    /// A latency kept as a list answers exactly what the histogram it
    /// becomes would: same percentiles, same maximum, at every precision
    /// and across the whole range a list keeps (1ns to 36 minutes).
    /// A list holding samples shorter than its unit (kept as zero units)
    /// becomes a tally that answers as a histogram of each sample would.
    #[test]
    fn sub_microsecond_samples_survive_the_list_becoming_a_tally() {
        let mut latency = Latency::default();
        let mut reference = Latency::new_histogram(3);
        for i in 0..FEW_SAMPLES as u64 + 100 {
            let nanos = [0, 300, 511, 512, 2_000][(i % 5) as usize];
            latency.record(SimDuration(nanos));
            Latency::record_into(&mut reference, nanos.clamp(1, HIGHEST_NANOS));
        }
        assert!(matches!(latency.samples, Samples::Many { .. }));
        for settled in [false, true] {
            if settled {
                latency.settle();
            }
            for quantile in [0.001, 0.2, 0.5, 0.99, 1.0] {
                let expected = SimDuration(reference.value_at_quantile(quantile));
                assert_eq!(latency.quantile(quantile), expected, "q {quantile}");
            }
            assert_eq!(latency.max(), SimDuration(reference.max()));
            assert_eq!(latency.count(), reference.len());
        }
    }

    #[test]
    fn a_short_list_and_a_histogram_give_the_same_statistics() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..200 {
            let digits = [2, 3][case % 2];
            let count = 1 + (next() % 3000) as usize;
            let mut few = Latency::with_digits(digits);
            let mut many = Latency::with_digits(digits);
            many.samples = Latency::many(Latency::new_histogram(digits));
            for _ in 0..count {
                // Log-uniform from 1ns to about 36 minutes.
                let nanos = 1u64 << (next() % 41);
                let value = SimDuration(nanos + next() % nanos);
                few.record(value);
                many.record(value);
            }
            assert!(matches!(few.samples, Samples::Few(_)));
            for quantile in [0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(
                    few.quantile(quantile),
                    many.quantile(quantile),
                    "case {case} q {quantile}"
                );
            }
            let curve = [0.001, 0.5, 0.999, 1.0];
            assert_eq!(few.quantile_curve(&curve), many.quantile_curve(&curve));
            assert_eq!(few.max(), many.max(), "case {case}");
            assert_eq!(few.mean(), many.mean());
            let merged = few.merged(&few);
            assert_eq!(merged.quantile(0.99), many.merged(&many).quantile(0.99));
        }
    }

    #[test]
    fn quantiles_by_selection_are_the_sorted_lists_ranks() {
        let quantiles = [0.5, 0.99, 0.5, 1.0, 0.001, 0.9];
        for count in [1u64, 2, 3, 7, 64, 65, 100, 801, 4096] {
            let mut latency = Latency::with_digits(2);
            // A scrambled sequence with repeats.
            for i in 0..count {
                latency.record(SimDuration((i * 7919 % 613 + 1) * 1_000));
            }
            let Samples::Few(values) = &latency.samples else {
                panic!("{count} samples are kept as a list")
            };
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let expected = quantiles.map(|q| {
                let rank = ((q * count as f64).ceil() as usize).max(1);
                SimDuration(buckets(2).highest_equivalent(from_finest_units(sorted[rank - 1])))
            });
            assert_eq!(latency.quantiles(quantiles), expected, "{count} samples");
            assert_eq!(latency.quantile(0.99), expected[1], "{count} samples");
            assert_eq!(
                latency.quantile_curve(&quantiles),
                expected,
                "{count} samples"
            );
            assert_eq!(
                latency.quantiles_reordering(quantiles),
                expected,
                "{count} samples"
            );
        }
    }

    /// Dropping the nanoseconds below the finest resolution never moves a
    /// sample to another bucket, at any precision.
    #[test]
    fn a_list_keeps_every_sample_in_its_bucket() {
        for digits in 1..=5 {
            let buckets = Latency::new_histogram(digits);
            for exponent in 0..41 {
                for nanos in [
                    1u64 << exponent,
                    (2u64 << exponent) - 1,
                    (3u64 << exponent) / 2,
                ] {
                    let units = finest_units(nanos).expect("fits a list");
                    assert_eq!(
                        buckets.highest_equivalent(from_finest_units(units)),
                        buckets.highest_equivalent(nanos),
                        "{nanos}ns at {digits} digits"
                    );
                }
            }
        }
    }

    /// A sample longer than a list keeps (36 minutes, up to 30 days) turns
    /// it into a histogram with the same statistics.
    #[test]
    fn a_sample_too_long_for_a_list_makes_it_a_histogram() {
        let mut latency = Latency::default();
        let mut many = Latency {
            samples: Latency::many(Latency::new_histogram(3)),
            ..Latency::default()
        };
        for millis in [5u64, 7, 3_600_000, 40 * 86_400_000] {
            latency.record(SimDuration(millis * 1_000_000));
            many.record(SimDuration(millis * 1_000_000));
        }
        assert!(matches!(latency.samples, Samples::Many { .. }));
        for quantile in [0.25, 0.5, 0.75, 1.0] {
            assert_eq!(latency.quantile(quantile), many.quantile(quantile));
        }
        assert_eq!(latency.max(), many.max());
        assert_eq!(latency.count(), 4);
    }

    #[test]
    fn a_latency_becomes_a_histogram_after_its_few_samples() {
        let mut latency = Latency::default();
        for nanos in 1..=FEW_SAMPLES as u64 + 1 {
            latency.record(SimDuration(nanos * 1_000));
        }
        assert!(matches!(latency.samples, Samples::Many { .. }));
        assert_eq!(latency.count(), FEW_SAMPLES as u64 + 1);
    }

    /// Samples counted in a tally before they go into the histogram answer every
    /// statistic as if recorded one by one, before and after they are
    /// settled, and are stored with the rest.
    #[test]
    fn tallied_samples_count_as_recorded() {
        let mut latency = Latency::default();
        let mut reference = Latency::new_histogram(3);
        let count = 3 * FEW_SAMPLES + 17;
        for i in 0..count as u64 {
            // Spread from 1µs to about 0.1s, in no order.
            let nanos = 1_000 + (i * 7919 % 104_729) * 997;
            latency.record(SimDuration(nanos));
            Latency::record_into(&mut reference, nanos);
        }
        let Samples::Many { tally, .. } = &latency.samples else {
            panic!("{count} samples are kept as a histogram")
        };
        assert!(tally.tallied() > 0);
        let stored = serde_json::to_string(&latency).unwrap();
        for settled in [false, true] {
            if settled {
                latency.settle();
            }
            for quantile in [0.001, 0.25, 0.5, 0.9, 0.99, 1.0] {
                let expected = SimDuration(reference.value_at_quantile(quantile));
                assert_eq!(latency.quantile(quantile), expected, "q {quantile}");
            }
            assert_eq!(latency.max(), SimDuration(reference.max()));
            assert_eq!(latency.count(), count as u64);
            assert_eq!(serde_json::to_string(&latency).unwrap(), stored);
        }
        let Samples::Many { tally, .. } = &latency.samples else {
            unreachable!()
        };
        assert_eq!(tally.tallied(), 0);
    }

    #[test]
    fn area_integrates_a_step_function() {
        let mut area = Area::default();
        area.advance(SimTime(10), 0); // 0 for 10ns
        area.advance(SimTime(20), 3); // 3 for 10ns
        area.advance(SimTime(40), 1); // 1 for 20ns
        assert_eq!(area.mean_over(SimDuration(40)), 50.0 / 40.0);
    }
}
