//! Metrics over time, sampled at a fixed interval of simulated time, and the
//! recovery verdict read from them.
//!
//! The model keeps running totals that ignore warm-up ([`Running`]); every
//! interval it records one row of rates and averages ([`TimeSeries`]). The
//! number of rows is bounded by validation (duration ÷ interval), so a time
//! series is the one output whose size follows the run length, and by design.

use serde::{Deserialize, Serialize};

use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::Latency;
use crate::scenario::Scenario;
use crate::scenario::spec::{Gate, Target};

use super::gates::gate_columns;

/// A source's counters since the start of the run, side by side: every
/// request moves three of them, and with many sources one cache line per
/// source is cheaper than one per counter.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceCounts {
    pub arrivals: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Requests started and not yet finished, now.
    pub in_flight: u64,
    /// Arrivals before the measured window: the source's measured
    /// requests are the rest, so a request does not also touch the
    /// source's metrics to count itself.
    pub arrivals_before_window: u64,
}

/// A service's counters of attempts since the start of the run, side by
/// side (see [`SourceCounts`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceCounts {
    pub attempts: u64,
    pub rejected: u64,
    /// Answers that were errors (its own, or from below).
    pub errors: u64,
}

/// Counters since the start of the run, warm-up included.
#[derive(Clone, Debug, Default)]
pub struct Running {
    pub sources: Vec<SourceCounts>,
    pub services: Vec<ServiceCounts>,
    /// Σ busy workers · ns and Σ waiting requests · ns, per service.
    pub busy_integral: Vec<u128>,
    pub queue_integral: Vec<u128>,
    /// Σ ready instances · ns, per service.
    pub ready_integral: Vec<u128>,
    /// Per cache: lookups, hits and backend calls.
    pub cache_requests: Vec<u64>,
    pub cache_hits: Vec<u64>,
    pub cache_fills: Vec<u64>,
    /// Per queue: messages offered and deleted so far.
    pub queue_sent: Vec<u64>,
    pub queue_deleted: Vec<u64>,
    /// Per queue, now: visible and in-flight messages, and the oldest's age.
    pub queue_depth: Vec<u64>,
    pub queue_in_flight: Vec<u64>,
    pub queue_oldest_age_s: Vec<f64>,
    pub retries: u64,
    /// Per source (zero unless it submits jobs): jobs queued and in
    /// progress now, and completed and failed so far.
    pub jobs_queued: Vec<u64>,
    pub jobs_in_progress: Vec<u64>,
    pub jobs_completed: Vec<u64>,
    pub jobs_failed: Vec<u64>,
    /// Per source: jobs whose clients gave up at their deadline so far.
    pub jobs_given_up: Vec<u64>,
    /// Per gate of any kind (`GateSpecs::index`): attempts that reached
    /// it and that it turned away so far; places taken and attempts held
    /// waiting now.
    pub gate_arrivals: Vec<u64>,
    pub gate_turned_away: Vec<u64>,
    pub gate_in_use: Vec<u64>,
    pub gate_waiting: Vec<u64>,
}

impl Running {
    pub fn for_scenario(scenario: &Scenario) -> Running {
        let caches = scenario.caches.len();
        let queues = scenario.queues.len();
        let gates = scenario.gates.len();
        Running {
            gate_arrivals: vec![0; gates],
            gate_turned_away: vec![0; gates],
            gate_in_use: vec![0; gates],
            gate_waiting: vec![0; gates],
            cache_requests: vec![0; caches],
            cache_hits: vec![0; caches],
            cache_fills: vec![0; caches],
            queue_sent: vec![0; queues],
            queue_deleted: vec![0; queues],
            queue_depth: vec![0; queues],
            queue_in_flight: vec![0; queues],
            queue_oldest_age_s: vec![0.0; queues],
            ..Running::new(scenario.sources.len(), scenario.services.len())
        }
    }

    pub fn new(sources: usize, services: usize) -> Running {
        Running {
            sources: vec![SourceCounts::default(); sources],
            services: vec![ServiceCounts::default(); services],
            busy_integral: vec![0; services],
            queue_integral: vec![0; services],
            ready_integral: vec![0; services],
            cache_requests: Vec::new(),
            cache_hits: Vec::new(),
            cache_fills: Vec::new(),
            queue_sent: Vec::new(),
            queue_deleted: Vec::new(),
            queue_depth: Vec::new(),
            queue_in_flight: Vec::new(),
            queue_oldest_age_s: Vec::new(),
            retries: 0,
            jobs_queued: vec![0; sources],
            jobs_in_progress: vec![0; sources],
            jobs_completed: vec![0; sources],
            jobs_failed: vec![0; sources],
            jobs_given_up: vec![0; sources],
            gate_arrivals: Vec::new(),
            gate_turned_away: Vec::new(),
            gate_in_use: Vec::new(),
            gate_waiting: Vec::new(),
        }
    }

    /// Makes this a copy of `other`, in the memory it already has: the
    /// time series keeps the totals at the last interval's end, and with
    /// a thousand components a fresh copy each interval (allocated, filled
    /// and freed) was a run's largest share of writes to memory. Every
    /// field is named, so a field added to `Running` must be copied here.
    fn copy_from(&mut self, other: &Running) {
        let Running {
            sources,
            services,
            busy_integral,
            queue_integral,
            ready_integral,
            cache_requests,
            cache_hits,
            cache_fills,
            queue_sent,
            queue_deleted,
            queue_depth,
            queue_in_flight,
            queue_oldest_age_s,
            retries,
            jobs_queued,
            jobs_in_progress,
            jobs_completed,
            jobs_failed,
            jobs_given_up,
            gate_arrivals,
            gate_turned_away,
            gate_in_use,
            gate_waiting,
        } = self;
        sources.clone_from(&other.sources);
        services.clone_from(&other.services);
        busy_integral.clone_from(&other.busy_integral);
        queue_integral.clone_from(&other.queue_integral);
        ready_integral.clone_from(&other.ready_integral);
        cache_requests.clone_from(&other.cache_requests);
        cache_hits.clone_from(&other.cache_hits);
        cache_fills.clone_from(&other.cache_fills);
        queue_sent.clone_from(&other.queue_sent);
        queue_deleted.clone_from(&other.queue_deleted);
        queue_depth.clone_from(&other.queue_depth);
        queue_in_flight.clone_from(&other.queue_in_flight);
        queue_oldest_age_s.clone_from(&other.queue_oldest_age_s);
        *retries = other.retries;
        jobs_queued.clone_from(&other.jobs_queued);
        jobs_in_progress.clone_from(&other.jobs_in_progress);
        jobs_completed.clone_from(&other.jobs_completed);
        jobs_failed.clone_from(&other.jobs_failed);
        jobs_given_up.clone_from(&other.jobs_given_up);
        gate_arrivals.clone_from(&other.gate_arrivals);
        gate_turned_away.clone_from(&other.gate_turned_away);
        gate_in_use.clone_from(&other.gate_in_use);
        gate_waiting.clone_from(&other.gate_waiting);
    }
}

/// One row per interval: `time_s` (the interval's end), then per source
/// offered, goodput, failed (per second) and in flight (at the end), per
/// service attempts, rejected and errors (per second), mean queue length,
/// utilisation and mean ready instances, the columns of caches, queues and
/// gates, then retries per second over all calls.
///
/// Per source it also gives the p50 and p99 latency of the requests that
/// finished in the interval: of the successful ones (`latency_p50_ms`) and of
/// all (`latency_all_p50_ms`). An interval in which none finished has no
/// latency: the cell is NaN here and empty in the CSV, never 0.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(into = "StoredSeries", from = "StoredSeries")]
pub struct TimeSeries {
    pub interval: SimDuration,
    columns: Vec<String>,
    /// The columns' indices in name order, for finding one by name in
    /// log time: a report reads a few columns of each of ten thousand
    /// components.
    by_name: Vec<u32>,
    pub rows: Vec<Vec<f64>>,
    last: Option<(SimTime, Running)>,
    /// Per source: does it submit jobs (and so have job columns)?
    job_sources: Vec<bool>,
    /// Every gate, in `GateSpecs::index` order, for its kind's columns.
    gates: Vec<Gate>,
    /// Per source, this interval's latencies: (successful, failed), each
    /// request recorded once; "all" is their merge at the interval's end,
    /// cheap at two significant digits.
    interval_latency: Vec<(Latency, Latency)>,
}

/// A finished time series as a study's partial result keeps it: the rows,
/// each cell as its bits (a cell with no data is NaN, which JSON has no
/// number for), and not the state that only sampling needs.
#[derive(Serialize, Deserialize)]
struct StoredSeries {
    interval: SimDuration,
    columns: Vec<String>,
    rows_f64_bits: Vec<Vec<u64>>,
}

impl From<TimeSeries> for StoredSeries {
    fn from(series: TimeSeries) -> StoredSeries {
        StoredSeries {
            interval: series.interval,
            columns: series.columns,
            rows_f64_bits: series
                .rows
                .iter()
                .map(|row| row.iter().map(|cell| cell.to_bits()).collect())
                .collect(),
        }
    }
}

impl From<StoredSeries> for TimeSeries {
    fn from(stored: StoredSeries) -> TimeSeries {
        TimeSeries {
            interval: stored.interval,
            by_name: by_name(&stored.columns),
            columns: stored.columns,
            rows: stored
                .rows_f64_bits
                .iter()
                .map(|row| row.iter().map(|&bits| f64::from_bits(bits)).collect())
                .collect(),
            ..TimeSeries::default()
        }
    }
}

/// One interval's view of the running totals: now, at the interval's start,
/// the span between, and each service's workers per instance.
pub(super) struct Interval<'a> {
    pub now: &'a Running,
    last: &'a Running,
    span_ns: f64,
    workers: &'a [u64],
}

impl Interval<'_> {
    /// The change of a counter over the interval, per second.
    pub fn per_s(&self, counter: fn(&Running) -> &Vec<u64>, index: usize) -> f64 {
        let then = counter(self.last).get(index).copied().unwrap_or(0);
        self.rate(counter(self.now)[index] - then)
    }

    /// The change of one of a source's counters, per second.
    fn source_per_s(&self, counter: fn(&SourceCounts) -> u64, source: usize) -> f64 {
        let then = self.last.sources.get(source).map_or(0, counter);
        self.rate(counter(&self.now.sources[source]) - then)
    }

    /// The change of one of a service's counters, per second.
    fn service_per_s(&self, counter: fn(&ServiceCounts) -> u64, service: usize) -> f64 {
        let then = self.last.services.get(service).map_or(0, counter);
        self.rate(counter(&self.now.services[service]) - then)
    }

    /// A change over the interval, per second.
    fn rate(&self, change: u64) -> f64 {
        round4(change as f64 * 1e9 / self.span_ns)
    }

    /// The change of a counter over the interval.
    fn change(&self, counter: fn(&Running) -> &Vec<u64>, index: usize) -> u64 {
        counter(self.now)[index] - counter(self.last).get(index).copied().unwrap_or(0)
    }

    /// The cells of one component, column by column.
    fn cells<'t>(&'t self, table: &'t [Column], index: usize) -> impl Iterator<Item = f64> + 't {
        table.iter().map(move |(_, cell)| cell(self, index))
    }

    /// The change of a time integral over the interval.
    fn integral(&self, integral: fn(&Running) -> &Vec<u128>, index: usize) -> f64 {
        (integral(self.now)[index] - integral(self.last)[index]) as f64
    }
}

/// A column of the time series: its name after the component's, and how
/// its cell is worked out. Each column is declared here once, so names and
/// values cannot fall out of step.
pub(super) type Column = (&'static str, fn(&Interval, usize) -> f64);

const SOURCE_COLUMNS: [Column; 4] = [
    ("offered_per_s", |i, s| i.source_per_s(|c| c.arrivals, s)),
    ("goodput_per_s", |i, s| i.source_per_s(|c| c.succeeded, s)),
    ("failed_per_s", |i, s| i.source_per_s(|c| c.failed, s)),
    ("in_flight", |i, s| i.now.sources[s].in_flight as f64),
];

/// After a source's [`SOURCE_COLUMNS`]: the interval's percentiles, worked
/// out together from its histograms (see `take_interval_latency`).
const SOURCE_LATENCY_COLUMNS: [&str; 4] = [
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_all_p50_ms",
    "latency_all_p99_ms",
];

const SERVICE_COLUMNS: [Column; 6] = [
    ("attempts_per_s", |i, s| i.service_per_s(|c| c.attempts, s)),
    ("rejected_per_s", |i, s| i.service_per_s(|c| c.rejected, s)),
    ("errors_per_s", |i, s| i.service_per_s(|c| c.errors, s)),
    ("queue_length", |i, s| {
        round4(i.integral(|r| &r.queue_integral, s) / i.span_ns)
    }),
    ("utilisation", |i, s| {
        let busy = i.integral(|r| &r.busy_integral, s);
        let ready = i.integral(|r| &r.ready_integral, s);
        round4(busy / (ready * i.workers[s] as f64).max(1.0))
    }),
    ("instances", |i, s| {
        round4(i.integral(|r| &r.ready_integral, s) / i.span_ns)
    }),
];

const CACHE_COLUMNS: [Column; 2] = [
    ("hit_ratio", |i, c| {
        let requests = i.change(|r| &r.cache_requests, c);
        round4(i.change(|r| &r.cache_hits, c) as f64 / requests.max(1) as f64)
    }),
    ("backend_calls_per_s", |i, c| i.per_s(|r| &r.cache_fills, c)),
];

const QUEUE_COLUMNS: [Column; 5] = [
    ("sent_per_s", |i, q| i.per_s(|r| &r.queue_sent, q)),
    ("deleted_per_s", |i, q| i.per_s(|r| &r.queue_deleted, q)),
    ("depth", |i, q| i.now.queue_depth[q] as f64),
    ("in_flight", |i, q| i.now.queue_in_flight[q] as f64),
    ("oldest_age_s", |i, q| round4(i.now.queue_oldest_age_s[q])),
];

/// Per job source: jobs queued and in progress at the interval's end;
/// completed, failed, and given up on by their clients during it, per second.
const JOB_COLUMNS: [Column; 5] = [
    ("jobs_queued", |i, s| i.now.jobs_queued[s] as f64),
    ("jobs_in_progress", |i, s| i.now.jobs_in_progress[s] as f64),
    ("jobs_completed_per_s", |i, s| {
        i.per_s(|r| &r.jobs_completed, s)
    }),
    ("jobs_failed_per_s", |i, s| i.per_s(|r| &r.jobs_failed, s)),
    ("jobs_given_up_per_s", |i, s| {
        i.per_s(|r| &r.jobs_given_up, s)
    }),
];

fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

/// The indices of `columns` in name order (names are unique: component
/// names are).
fn by_name(columns: &[String]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..columns.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| columns[a as usize].cmp(&columns[b as usize]));
    order
}

impl TimeSeries {
    pub fn new(scenario: &Scenario) -> TimeSeries {
        let mut columns = vec!["time_s".to_string()];
        let mut named = |component: &str, metrics: &[&str]| {
            columns.extend(metrics.iter().map(|metric| format!("{component}.{metric}")));
        };
        let names = |table: &[Column]| table.iter().map(|&(name, _)| name).collect::<Vec<_>>();
        for source in &scenario.sources {
            named(&source.name, &names(&SOURCE_COLUMNS));
            named(&source.name, &SOURCE_LATENCY_COLUMNS);
            if source.job.is_some() {
                named(&source.name, &names(&JOB_COLUMNS));
            }
        }
        for service in &scenario.services {
            named(&service.name, &names(&SERVICE_COLUMNS));
        }
        for cache in &scenario.caches {
            named(&cache.name, &names(&CACHE_COLUMNS));
        }
        for queue in &scenario.queues {
            named(&queue.name, &names(&QUEUE_COLUMNS));
        }
        for gate in scenario.gates.all() {
            named(scenario.gates.name(gate), &names(gate_columns(gate)));
        }
        columns.push("retries_per_s".to_string());
        TimeSeries {
            interval: scenario.sample_interval,
            by_name: by_name(&columns),
            columns,
            rows: Vec::new(),
            last: None,
            job_sources: scenario.sources.iter().map(|s| s.job.is_some()).collect(),
            gates: scenario.gates.all().collect(),
            interval_latency: vec![
                (Latency::with_digits(2), Latency::with_digits(2));
                scenario.sources.len()
            ],
        }
    }

    /// A request of `source` finished now, after `latency`.
    pub fn record_latency(&mut self, source: usize, latency: SimDuration, succeeded: bool) {
        let (ok, failed) = &mut self.interval_latency[source];
        match succeeded {
            true => ok.record(latency),
            false => failed.record(latency),
        }
    }

    /// p50 and p99 of the interval's successful requests, then of all, in
    /// ms; NaN where none finished. Starts the next interval afresh.
    fn take_interval_latency(&mut self, source: usize) -> [f64; 4] {
        let (ok, failed) = &mut self.interval_latency[source];
        let ms = |latency: &mut Latency| match latency.count() {
            0 => [f64::NAN; 2],
            _ => latency
                .quantiles_reordering([0.5, 0.99])
                .map(|value| round4(value.as_millis_f64())),
        };
        let [ok_p50, ok_p99] = ms(ok);
        let [all_p50, all_p99] = match failed.count() {
            0 => [ok_p50, ok_p99],
            _ => ms(&mut ok.merged(failed)),
        };
        let cells = [ok_p50, ok_p99, all_p50, all_p99];
        ok.clear();
        failed.clear();
        cells
    }

    /// Records the interval ending `now`, given the running totals and each
    /// service's workers per instance.
    pub fn sample(&mut self, now: SimTime, running: &Running, workers: &[u64]) {
        let (since, mut last) = match self.last.take() {
            Some((at, last)) => (at, last),
            None => (
                SimTime::ZERO,
                Running::new(running.sources.len(), running.services.len()),
            ),
        };
        let span_ns = now.since(since).as_nanos().max(1) as f64;
        let interval = Interval {
            now: running,
            last: &last,
            span_ns,
            workers,
        };
        let mut row = vec![round4(now.as_secs_f64())];
        for s in 0..running.sources.len() {
            row.extend(interval.cells(&SOURCE_COLUMNS, s));
            row.extend(self.take_interval_latency(s));
            if self.job_sources[s] {
                row.extend(interval.cells(&JOB_COLUMNS, s));
            }
        }
        for s in 0..workers.len() {
            row.extend(interval.cells(&SERVICE_COLUMNS, s));
        }
        for cache in 0..running.cache_requests.len() {
            row.extend(interval.cells(&CACHE_COLUMNS, cache));
        }
        for queue in 0..running.queue_sent.len() {
            row.extend(interval.cells(&QUEUE_COLUMNS, queue));
        }
        for (index, &gate) in self.gates.iter().enumerate() {
            row.extend(interval.cells(gate_columns(gate), index));
        }
        let per_s = |now: u64, then: u64| round4((now - then) as f64 * 1e9 / span_ns);
        row.push(per_s(running.retries, last.retries));
        self.rows.push(row);
        last.copy_from(running);
        self.last = Some((now, last));
    }

    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let found = self
            .by_name
            .binary_search_by(|&i| self.columns[i as usize].as_str().cmp(name));
        let index = self.by_name[found.ok()?] as usize;
        Some(self.rows.iter().map(|row| row[index]).collect())
    }

    pub fn times(&self) -> Vec<f64> {
        self.rows.iter().map(|row| row[0]).collect()
    }

    /// The series as CSV: a header row, then one line per interval.
    pub fn to_csv(&self) -> String {
        let mut out = self.columns.join(",");
        out.push('\n');
        for row in &self.rows {
            // An interval without data has an empty cell, not a number.
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v.is_nan() {
                    true => String::new(),
                    false => v.to_string(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// Did goodput come back after a surge?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    pub source: String,
    pub trigger_start_s: f64,
    pub trigger_end_s: f64,
    /// Mean goodput between warm-up and the trigger.
    pub baseline_goodput_per_s: f64,
    pub recovered: bool,
    /// From the end of the trigger until goodput (5-interval rolling mean)
    /// stayed at or above the recovered threshold for the rest of the run:
    /// 90% of baseline, or lower by the baseline's noise (see
    /// `recovered_threshold`).
    pub recovery_time_s: Option<f64>,
    /// Goodput over the last 5 intervals, as a fraction of baseline.
    pub final_goodput_ratio: f64,
}

/// Intervals in the rolling mean, and the fraction of baseline that counts
/// as recovered when goodput is steady.
const SMOOTHING: usize = 5;
const RECOVERED_FRACTION: f64 = 0.9;
/// Standard deviations of a rolling mean below the baseline that noise alone
/// almost never reaches (a one-sided 4σ event: about 3 in 100,000 windows).
const NOISE_SIGMAS: f64 = 4.0;

/// The rolling-mean goodput that counts as recovered: 90% of the baseline,
/// or lower when the baseline's own interval-to-interval variability is
/// large (a low rate, a short interval), so that noise cannot read as "not
/// recovered". The spread is the baseline's sample standard deviation, but
/// at least Poisson's √(rate × interval) ÷ interval, since a handful of
/// baseline intervals can understate it.
fn recovered_threshold(before: &[f64], interval_s: f64) -> f64 {
    let n = before.len() as f64;
    let mean = before.iter().sum::<f64>() / n;
    let variance = match before.len() {
        0 | 1 => 0.0,
        _ => before.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / (n - 1.0),
    };
    let poisson_sd = libm::sqrt(mean.max(0.0) * interval_s) / interval_s;
    let sd = libm::sqrt(variance).max(poisson_sd);
    let noise = NOISE_SIGMAS * sd / libm::sqrt(SMOOTHING as f64);
    (mean - noise).min(RECOVERED_FRACTION * mean).max(0.0)
}

/// A verdict for every source with a trigger that ends: a surge or a fault.
pub fn recoveries(scenario: &Scenario, series: &TimeSeries) -> Vec<Recovery> {
    let Some(window) = scenario.disturbance_window() else {
        return Vec::new();
    };
    scenario
        .sources
        .iter()
        // A send to a queue or topic succeeds whatever happens downstream:
        // whether the work came back is the queue's drain verdict.
        .filter(|source| {
            !matches!(
                scenario.edges[source.edge as usize].target,
                Target::Queue(_) | Target::Topic(_)
            )
        })
        .filter_map(|source| recovery_of(&source.name, window, scenario.warmup, series))
        .collect()
}

fn recovery_of(
    name: &str,
    (start, end): (SimDuration, SimDuration),
    warmup: SimDuration,
    series: &TimeSeries,
) -> Option<Recovery> {
    let (start_s, end_s) = (start.as_secs_f64(), end.as_secs_f64());
    let times = series.times();
    let goodput = series.column(&format!("{name}.goodput_per_s"))?;
    let interval_s = series.interval.as_secs_f64();
    let before: Vec<f64> = times
        .iter()
        .zip(&goodput)
        .filter(|&(&t, _)| t - interval_s >= warmup.as_secs_f64() && t <= start_s)
        .map(|(_, &g)| g)
        .collect();
    let after: Vec<(f64, f64)> = times
        .iter()
        .zip(&goodput)
        .filter(|&(&t, _)| t - interval_s >= end_s)
        .map(|(&t, &g)| (t, g))
        .collect();
    if before.is_empty() || after.len() < SMOOTHING {
        return None;
    }
    let baseline = before.iter().sum::<f64>() / before.len() as f64;
    let threshold = recovered_threshold(&before, interval_s);
    // (start of the window's first interval, rolling mean)
    let rolling: Vec<(f64, f64)> = after
        .windows(SMOOTHING)
        .map(|w| {
            (
                w[0].0 - interval_s,
                w.iter().map(|&(_, g)| g).sum::<f64>() / SMOOTHING as f64,
            )
        })
        .collect();
    let first_good_for_good = match rolling.iter().rposition(|&(_, mean)| mean < threshold) {
        None => Some(0),
        Some(last_bad) => (last_bad + 1 < rolling.len()).then_some(last_bad + 1),
    };
    let final_ratio = rolling
        .last()
        .map_or(0.0, |&(_, mean)| mean / baseline.max(f64::MIN_POSITIVE));
    let recovery_time_s =
        first_good_for_good.map(|index| round4((rolling[index].0 - end_s).max(0.0)));
    let recovered = recovery_time_s.is_some();
    Some(Recovery {
        source: name.to_string(),
        trigger_start_s: start_s,
        trigger_end_s: end_s,
        baseline_goodput_per_s: round4(baseline),
        recovered,
        recovery_time_s,
        final_goodput_ratio: round4(final_ratio),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(goodput: &[f64]) -> TimeSeries {
        TimeSeries {
            interval: SimDuration(1_000_000_000),
            columns: vec!["time_s".into(), "u.goodput_per_s".into()],
            by_name: vec![0, 1],
            rows: goodput
                .iter()
                .enumerate()
                .map(|(i, &g)| vec![(i + 1) as f64, g])
                .collect(),
            last: None,
            job_sources: Vec::new(),
            gates: Vec::new(),
            interval_latency: Vec::new(),
        }
    }

    fn spike() -> (SimDuration, SimDuration) {
        (SimDuration(5_000_000_000), SimDuration(7_000_000_000))
    }

    #[test]
    fn recovery_time_is_measured_from_the_end_of_the_trigger() {
        // Baseline 100/s, surge at 5–7s, goodput back at 100 from t = 10s.
        let goodput = [
            100.0, 100.0, 100.0, 100.0, 100.0, 20.0, 20.0, 10.0, 10.0, 100.0, 100.0, 100.0, 100.0,
            100.0, 100.0, 100.0, 100.0, 100.0,
        ];
        let verdict = recovery_of("u", spike(), SimDuration::ZERO, &series(&goodput)).unwrap();
        assert!(verdict.recovered);
        assert_eq!(verdict.baseline_goodput_per_s, 100.0);
        // Goodput is back in the interval (9s, 10s]: 2s after the surge ended.
        assert_eq!(verdict.recovery_time_s, Some(2.0));
    }

    #[test]
    fn a_collapse_that_lasts_is_not_a_recovery() {
        let goodput = [
            100.0, 100.0, 100.0, 100.0, 100.0, 20.0, 20.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
            10.0, 10.0,
        ];
        let verdict = recovery_of("u", spike(), SimDuration::ZERO, &series(&goodput)).unwrap();
        assert!(!verdict.recovered);
        assert_eq!(verdict.recovery_time_s, None);
        assert_eq!(verdict.final_goodput_ratio, 0.1);
    }
}
