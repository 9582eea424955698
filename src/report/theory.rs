//! Theory beside measurement: where a service is a textbook queue, its
//! closed-form mean wait, utilisation and blocking next to what the run
//! measured, with a confidence interval, and whether the two agree.
//!
//! A service is a textbook queue when one open source sends it Poisson
//! arrivals directly (no shape, one attempt, no timeout, deadline, hedging,
//! rate limit or network), it has one instance, fifo order, no downstream
//! calls, autoscaling, concurrency limit, queue timeout, pauses, slowdown
//! with load or faults, and no other caller. Exponential service times give
//! M/M/c/K (c workers, K = c + queue capacity: M/M/c when a full queue is
//! vanishingly rare, Erlang B with no queue); other service times with one
//! worker give M/D/1 or M/G/1 (Pollaczek–Khinchine), when a full queue is
//! vanishingly rare. Only stable queues (ρ < 1) are compared, but for
//! Erlang B, which has no queue to grow.
//!
//! The measurement is by batch means over the time series: the measured
//! intervals in 20 batches, each giving a mean wait by Little's law (mean
//! queue length ÷ admitted rate), a utilisation and a blocking share; the
//! 99% Student-t interval of the batch means is the run's confidence
//! interval. They agree when theory lies within it.

use serde::{Deserialize, Serialize};

use crate::engine::Dist;
use crate::model::RunOutcome;
use crate::scenario::Scenario;
use crate::scenario::spec::{Discipline, FaultTarget, Load, ServiceSpec, Target};

use super::summary::round;

/// Batches of the measured intervals.
const BATCHES: usize = 20;
/// Student's t, 99.5% quantile, 19 degrees of freedom.
const T_995_19: f64 = 2.861;
/// The fewest arrivals per batch that may wait for the wait's batch means
/// to be judged. A batch of a lightly loaded queue holds a handful of waits
/// among many zeros, and the mean of so skewed a batch is far from normal:
/// at ρ = 0.01 with about one wait per batch, 99% Student-t intervals missed
/// the true mean wait for 66 of 1,000 queues, not the 10 they promise.
const MIN_WAITS_PER_BATCH: f64 = 30.0;
/// A full queue rarer than this (by the M/M/1/K measure) is treated as never.
const NEGLIGIBLE_BLOCKING: f64 = 1e-9;

/// One textbook queue: the model, theory, measurement and verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TheorySummary {
    pub service: String,
    /// Kendall's notation, e.g. `M/M/1`, `M/M/4/14`, `M/D/1`.
    pub model: String,
    pub arrival_rate_per_s: f64,
    /// λ / (c μ).
    pub offered_load: f64,
    pub wait_mean_ms: Comparison,
    pub utilisation: Comparison,
    pub blocking: Comparison,
    /// `agree`, `disagree`, `too short to judge` (fewer than 20 measured
    /// intervals) or `too few waits to judge` (fewer than 30 arrivals per
    /// batch can have waited).
    #[serde(deserialize_with = "crate::report::interned")]
    pub verdict: crate::report::Word,
}

/// A closed-form value and the measured mean with its 99% half-width.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub theory: f64,
    pub measured: Option<f64>,
    pub ci99: Option<f64>,
}

impl Comparison {
    fn agrees(&self) -> bool {
        match (self.measured, self.ci99) {
            (Some(measured), Some(half)) => (measured - self.theory).abs() <= half + 1e-9,
            _ => false,
        }
    }
}

/// What the closed forms need.
struct Textbook {
    lambda: f64,
    /// Mean service time, seconds.
    mean_s: f64,
    workers: u32,
    queue_capacity: u32,
    service_time: Dist,
}

/// The textbook queues of a run, theory beside measurement.
pub fn theory_summaries(scenario: &Scenario, outcome: &RunOutcome) -> Vec<TheorySummary> {
    let wiring = Wiring::of(scenario);
    (0..scenario.services.len())
        .filter_map(|id| {
            let textbook = textbook(scenario, &wiring, id)?;
            let (model, theory) = predict(&textbook)?;
            let spec = &scenario.services[id];
            let measured = measure(scenario, outcome, &spec.name);
            Some(compare(spec, &textbook, model, theory, measured))
        })
        .collect()
}

/// Who calls each service, which source owns each edge, and which services
/// a fault touches: looked up once, not walked per service (quadratic
/// among thousands of services).
struct Wiring {
    callers: Vec<Vec<usize>>,
    source_of_edge: Vec<Option<usize>>,
    faulted: Vec<bool>,
}

impl Wiring {
    fn of(scenario: &Scenario) -> Wiring {
        let mut callers = vec![Vec::new(); scenario.services.len()];
        for (e, edge) in scenario.edges.iter().enumerate() {
            if let Target::Service(id) = edge.target {
                callers[id as usize].push(e);
            }
        }
        let mut source_of_edge = vec![None; scenario.edges.len()];
        for (s, source) in scenario.sources.iter().enumerate().rev() {
            source_of_edge[source.edge as usize] = Some(s);
        }
        let mut faulted = vec![false; scenario.services.len()];
        for fault in &scenario.faults {
            if let FaultTarget::Service(s) | FaultTarget::Instance { service: s, .. } =
                &fault.target
            {
                faulted[*s as usize] = true;
            }
        }
        Wiring {
            callers,
            source_of_edge,
            faulted,
        }
    }
}

/// The service as a textbook queue, if it is one.
fn textbook(scenario: &Scenario, wiring: &Wiring, id: usize) -> Option<Textbook> {
    let spec = &scenario.services[id];
    let plain = spec.instances == 1
        && spec.autoscaling.is_none()
        && spec.calls.is_empty()
        && spec.discipline == Discipline::Fifo
        && spec.concurrency_limit.is_none()
        && spec.queue_timeout.is_none()
        && spec.slowdown_with_load.is_none()
        && spec.pauses.is_none();
    let faulted = wiring.faulted[id];
    let [edge] = wiring.callers[id].as_slice() else {
        return None;
    };
    let source = &scenario.sources[wiring.source_of_edge[*edge]?];
    let edge = &scenario.edges[*edge];
    let policy = &edge.policy;
    let direct = policy.timeout_per_attempt.is_none()
        && policy.deadline.is_none()
        && policy.max_attempts == 1
        && policy.hedging.is_none()
        && policy.rate_limit.is_none()
        && policy.network.is_none()
        && edge.probability == 1.0
        && source.job.is_none();
    let Load::Open {
        interarrival: Dist::Exponential { .. },
        rate_per_second,
        shape: None,
    } = source.load
    else {
        return None;
    };
    (plain && !faulted && direct).then(|| Textbook {
        lambda: rate_per_second,
        mean_s: spec.service_time.mean() / 1e9,
        workers: spec.workers,
        queue_capacity: spec.queue_capacity,
        service_time: spec.service_time.clone(),
    })
}

/// Closed-form mean wait (s), utilisation and blocking.
struct Prediction {
    wait_s: f64,
    utilisation: f64,
    blocking: f64,
}

fn predict(t: &Textbook) -> Option<(String, Prediction)> {
    let mu = 1.0 / t.mean_s;
    let c = t.workers;
    let rho = t.lambda / (f64::from(c) * mu);
    let k = u64::from(c) + u64::from(t.queue_capacity);
    if let Dist::Exponential { .. } = t.service_time {
        if rho >= 1.0 && t.queue_capacity > 0 {
            return None;
        }
        let prediction = mmck(t.lambda, mu, c, k);
        let model = match (prediction.blocking < NEGLIGIBLE_BLOCKING, t.queue_capacity) {
            (true, _) => format!("M/M/{c}"),
            (false, 0) => format!("M/M/{c}/{c}"),
            (false, _) => format!("M/M/{c}/{k}"),
        };
        return Some((model, prediction));
    }
    // One worker, a queue that (by the M/M/1/K measure) never fills.
    let full = libm::pow(rho, k as f64);
    if c != 1 || rho >= 1.0 || full >= NEGLIGIBLE_BLOCKING {
        return None;
    }
    let (model, wait_s) = match t.service_time {
        Dist::Constant { .. } => ("M/D/1", rho / (2.0 * mu * (1.0 - rho))),
        ref other => {
            let second_moment = other.second_moment() / 1e18;
            ("M/G/1", t.lambda * second_moment / (2.0 * (1.0 - rho)))
        }
    };
    if !wait_s.is_finite() {
        return None;
    }
    let prediction = Prediction {
        wait_s,
        utilisation: rho,
        blocking: 0.0,
    };
    Some((model.to_string(), prediction))
}

/// M/M/c/K: c servers, K in the system at most, by its birth-death
/// probabilities, in logarithms (a^n / n! overflows for large c) with the
/// geometric tail above c summed in closed form (ρ < 1, or no tail).
fn mmck(lambda: f64, mu: f64, c: u32, k: u64) -> Prediction {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    let log_term = |n: u32| f64::from(n) * libm::log(a) - libm::lgamma(f64::from(n) + 1.0);
    let log_c = log_term(c);
    let tail = k - u64::from(c);
    let tail_len = tail as f64;
    let (tail_sum, lq_sum) = if tail == 0 {
        (1.0, 0.0)
    } else {
        let rho_tail = libm::pow(rho, tail_len);
        let sum = (1.0 - rho_tail * rho) / (1.0 - rho);
        let lq = rho * (1.0 - (tail_len + 1.0) * rho_tail + tail_len * rho_tail * rho)
            / ((1.0 - rho) * (1.0 - rho));
        (sum, lq)
    };
    let top = (0..c).map(log_term).fold(log_c, f64::max);
    let below: f64 = (0..c).map(|n| libm::exp(log_term(n) - top)).sum();
    let at_c = libm::exp(log_c - top);
    let norm = below + at_c * tail_sum;
    let blocking = at_c * libm::pow(rho, tail_len) / norm;
    let queue_length = at_c * lq_sum / norm;
    let admitted = lambda * (1.0 - blocking);
    Prediction {
        wait_s: if admitted > 0.0 {
            queue_length / admitted
        } else {
            0.0
        },
        utilisation: admitted / (f64::from(c) * mu),
        blocking,
    }
}

/// Batch means of the service's wait, utilisation and blocking.
struct Measured {
    wait_s: (f64, f64),
    utilisation: (f64, f64),
    blocking: (f64, f64),
    /// Whether each batch holds enough arrivals that waited (at most its
    /// admitted arrivals × utilisation: an arrival waits only when every
    /// worker is busy, which by Markov's inequality is no likelier than
    /// the utilisation) for the wait to be judged.
    enough_waits: bool,
}

fn measure(scenario: &Scenario, outcome: &RunOutcome, service: &str) -> Option<Measured> {
    let series = &outcome.timeseries;
    let column = |name: &str| series.column(&format!("{service}.{name}"));
    let (lengths, attempts) = (column("queue_length")?, column("attempts_per_s")?);
    let (rejected, utilisation) = (column("rejected_per_s")?, column("utilisation")?);
    let interval_s = series.interval.as_secs_f64();
    let warmup_s = scenario.warmup.as_secs_f64();
    let times = series.times();
    let measured: Vec<usize> = (0..times.len())
        .filter(|&i| times[i] - interval_s >= warmup_s - 1e-9)
        .collect();
    if measured.len() < BATCHES {
        return None;
    }
    let per_batch = measured.len() / BATCHES;
    let skip = measured.len() - per_batch * BATCHES;
    let batches: Vec<&[usize]> = measured[skip..].chunks(per_batch).collect();
    let mean = |values: &[f64], rows: &[usize]| {
        rows.iter().map(|&i| values[i]).sum::<f64>() / rows.len() as f64
    };
    let mut waits = Vec::new();
    let mut busy = Vec::new();
    let mut blocked = Vec::new();
    let mut admitted_per_batch = 0.0;
    for rows in batches {
        let admitted = rows.iter().map(|&i| attempts[i] - rejected[i]).sum::<f64>();
        admitted_per_batch += admitted * interval_s / BATCHES as f64;
        let (offered, refused) = (mean(&attempts, rows), mean(&rejected, rows));
        waits.push(mean(&lengths, rows) / (offered - refused).max(1e-12));
        busy.push(mean(&utilisation, rows));
        blocked.push(refused / offered.max(1e-12));
    }
    let utilisation = mean_and_half_width(&busy);
    Some(Measured {
        wait_s: mean_and_half_width(&waits),
        enough_waits: admitted_per_batch * utilisation.0 >= MIN_WAITS_PER_BATCH,
        utilisation,
        blocking: mean_and_half_width(&blocked),
    })
}

fn mean_and_half_width(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, T_995_19 * libm::sqrt(variance / n))
}

fn compare(
    spec: &ServiceSpec,
    t: &Textbook,
    model: String,
    theory: Prediction,
    measured: Option<Measured>,
) -> TheorySummary {
    let pair = |theory: f64, measured: Option<(f64, f64)>, scale: f64, digits: i32| Comparison {
        theory: round(theory * scale, digits),
        measured: measured.map(|(m, _)| round(m * scale, digits)),
        ci99: measured.map(|(_, h)| round(h * scale, digits)),
    };
    let mut wait = pair(theory.wait_s, measured.as_ref().map(|m| m.wait_s), 1e3, 4);
    let enough_waits = measured.as_ref().is_some_and(|m| m.enough_waits);
    if !enough_waits {
        // A mean without an interval: too few waits for one to be honest.
        wait.ci99 = None;
    }
    let utilisation = pair(
        theory.utilisation,
        measured.as_ref().map(|m| m.utilisation),
        1.0,
        4,
    );
    let blocking = pair(
        theory.blocking,
        measured.as_ref().map(|m| m.blocking),
        1.0,
        6,
    );
    let verdict = match (
        &measured,
        [wait, utilisation, blocking].iter().all(Comparison::agrees),
    ) {
        (None, _) => "too short to judge",
        (Some(_), _) if !enough_waits => "too few waits to judge",
        (Some(_), true) => "agree",
        (Some(_), false) => "disagree",
    };
    TheorySummary {
        service: spec.name.clone(),
        model,
        arrival_rate_per_s: round(t.lambda, 3),
        offered_load: round(t.lambda * t.mean_s / f64::from(t.workers), 4),
        wait_mean_ms: wait,
        utilisation,
        blocking,
        verdict,
    }
}
