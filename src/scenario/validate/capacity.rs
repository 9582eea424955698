//! Validating a service's server-side defences and capacity: queue
//! discipline, queue timeout, concurrency limits, autoscaling and the
//! slowdown that load itself causes.
//!
//! Like the client-side defences, each follows the system that made it
//! known (Facebook's adaptive LIFO, Netflix's concurrency-limits, the
//! Kubernetes Horizontal Pod Autoscaler), with its
//! defaults, so parameters carry over.

use crate::engine::SimDuration;
use crate::scenario::raw::{
    RawAutoscaling, RawConcurrencyLimit, RawLoadSlowdown, RawPauses, RawQueue, RawService,
};
use crate::scenario::spec::{
    AutoscalingSpec, ConcurrencyLimit, Discipline, LoadSlowdown, PauseSpec, ScalingMetric,
    ServiceSpec,
};
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::{
    Checker, MAX_DURATION, keyword, number_in, positive_duration, positive_number, timer_period,
    words,
};

impl Checker {
    pub(super) fn discipline(&mut self, queue: Option<&RawQueue>, path: &str) -> Discipline {
        let Some(queue) = queue else {
            return Discipline::Fifo;
        };
        let kind = self.or(
            &queue.discipline,
            &format!("{path}.queue.discipline"),
            "fifo",
            |t| keyword(t, "queue discipline", &words::DISCIPLINES),
        );
        let threshold = self.or(
            &queue.lifo_threshold,
            &format!("{path}.queue.lifo_threshold"),
            10,
            |t| units::parse_count(t, 0, 10_000_000),
        ) as u32;
        if let (Some(text), false) = (&queue.lifo_threshold, kind == "adaptive_lifo") {
            self.error(
                Some(position_of(text)),
                &format!("{path}.queue.lifo_threshold"),
                "`lifo_threshold` applies to `discipline: adaptive_lifo`",
            );
        }
        match kind {
            "lifo" => Discipline::Lifo,
            "adaptive_lifo" => Discipline::AdaptiveLifo { threshold },
            "processor_sharing" => Discipline::ProcessorSharing,
            "priority" => Discipline::Priority,
            _ => Discipline::Fifo,
        }
    }

    /// Processor sharing freezes nothing and times nothing per job, so it
    /// takes neither pauses nor a fixed cost per request in service.
    pub(super) fn check_sharing(&mut self, spec: &ServiceSpec, raw: &RawService, path: &str) {
        if spec.discipline != Discipline::ProcessorSharing {
            return;
        }
        if let Some(pauses) = &raw.pauses {
            self.error(
                Some(position_of(pauses)),
                &format!("{path}.pauses"),
                "pauses are not modelled with `discipline: processor_sharing`: use `fifo` (with many workers, it behaves alike)",
            );
        }
        let per_request = raw
            .slowdown_with_load
            .as_ref()
            .and_then(|s| s.value.per_request.as_ref());
        if let Some(text) = per_request {
            self.error(
                Some(position_of(text)),
                &format!("{path}.slowdown_with_load.per_request"),
                "`per_request` adds a fixed time to each job, which processor sharing has no place for: use `contention` and `coherency`",
            );
        }
    }

    /// Random pauses: both distributions required; the gap between pauses
    /// must have a mean of at least the shortest timer period, so pauses
    /// cannot flood the run with events.
    pub(super) fn pauses(&mut self, raw: &Spanned<RawPauses>, path: &str) -> Option<PauseSpec> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let every = self.required(&raw.every, &format!("{path}.every"), at, units::parse_dist);
        let duration = self.required(
            &raw.duration,
            &format!("{path}.duration"),
            at,
            units::parse_dist,
        );
        let (every, duration) = (every?, duration?);
        let shortest = super::MIN_TIMER_PERIOD.as_nanos() as f64;
        if every.mean() < shortest {
            let position = raw.every.as_ref().map(position_of);
            self.error(
                position,
                &format!("{path}.every"),
                format!("pauses must be at least {} apart on average: more often, the run would spend itself on them", super::MIN_TIMER_PERIOD),
            );
            return None;
        }
        Some(PauseSpec { every, duration })
    }

    /// The Universal Scalability Law's σ and κ and a fixed cost per other
    /// request; all default to 0 and at least one must be set.
    pub(super) fn load_slowdown(
        &mut self,
        raw: &Spanned<RawLoadSlowdown>,
        path: &str,
    ) -> Option<LoadSlowdown> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let mut coefficient = |text, key: &str| {
            self.or(text, &format!("{path}.{key}"), 0.0, |t| {
                number_in(t, 0.0, 100.0)
            })
        };
        let contention = coefficient(&raw.contention, "contention");
        let coherency = coefficient(&raw.coherency, "coherency");
        let per_request = self.or(
            &raw.per_request,
            &format!("{path}.per_request"),
            SimDuration::ZERO,
            |t| match units::parse_duration(t)? {
                d if d > MAX_DURATION => {
                    Err(format!("`{t}` is longer than the limit of {MAX_DURATION}"))
                }
                d => Ok(d),
            },
        );
        if raw.contention.is_none() && raw.coherency.is_none() && raw.per_request.is_none() {
            self.error(
                at,
                path,
                "set at least one of `contention`, `coherency` and `per_request`",
            );
            return None;
        }
        Some(LoadSlowdown {
            contention,
            coherency,
            per_request: per_request.as_nanos() as f64,
        })
    }

    /// A fixed limit, or AIMD with the defaults of Netflix's `AIMDLimit`.
    pub(super) fn concurrency_limit(
        &mut self,
        raw: &Spanned<RawConcurrencyLimit>,
        path: &str,
    ) -> Option<ConcurrencyLimit> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let kind = self.or(&raw.kind, &format!("{path}.kind"), "fixed", |t| {
            keyword(t, "concurrency limit", &words::CONCURRENCY_LIMITS)
        });
        let mut count = |text, key: &str, default| {
            self.or(text, &format!("{path}.{key}"), default, |t| {
                units::parse_count(t, 1, 10_000_000)
            }) as u32
        };
        if kind == "fixed" {
            let limit = count(&raw.limit, "limit", 0);
            if raw.limit.is_none() {
                self.error(
                    at,
                    &format!("{path}.limit"),
                    "`limit` is required for `kind: fixed`",
                );
                return None;
            }
            return Some(ConcurrencyLimit::Fixed { limit });
        }
        let initial_limit = count(&raw.initial_limit, "initial_limit", 20);
        let min_limit = count(&raw.min_limit, "min_limit", 20);
        let max_limit = count(&raw.max_limit, "max_limit", 200);
        if min_limit > max_limit || !(min_limit..=max_limit).contains(&initial_limit) {
            self.error(at, path, format!("the limits must satisfy min_limit ≤ initial_limit ≤ max_limit (here {min_limit}, {initial_limit}, {max_limit})"));
        }
        let backoff_ratio = self.or(
            &raw.backoff_ratio,
            &format!("{path}.backoff_ratio"),
            0.9,
            |t| {
                units::parse_number(t).and_then(|r| {
                    if r > 0.0 && r < 1.0 {
                        Ok(r)
                    } else {
                        Err(format!("`{t}` is out of range: expected between 0 and 1"))
                    }
                })
            },
        );
        let latency_threshold = self.or(
            &raw.latency_threshold,
            &format!("{path}.latency_threshold"),
            SimDuration(5_000_000_000),
            |t| positive_duration(t, MAX_DURATION),
        );
        Some(ConcurrencyLimit::Aimd {
            initial_limit,
            min_limit,
            max_limit,
            backoff_ratio,
            latency_threshold,
        })
    }

    /// The HPA's defaults: 15s period, 10% tolerance, no scale-up
    /// stabilisation, five minutes of scale-down stabilisation.
    pub(super) fn autoscaling(
        &mut self,
        raw: &Spanned<RawAutoscaling>,
        path: &str,
        instances: u32,
    ) -> Option<AutoscalingSpec> {
        let at = Some(position_of(raw));
        let raw = &raw.value;
        let key = |name: &str| format!("{path}.{name}");
        let metric = self.or(
            &raw.metric,
            &key("metric"),
            ScalingMetric::Utilisation,
            |t| {
                let name = keyword(t, "scaling metric", &ScalingMetric::NAMES)?;
                Ok(match name {
                    "utilisation" => ScalingMetric::Utilisation,
                    "queue_length" => ScalingMetric::QueueLength,
                    _ => ScalingMetric::Concurrency,
                })
            },
        );
        let target = self.required(&raw.target, &key("target"), at, |t| match metric {
            ScalingMetric::Utilisation => units::parse_probability(t).and_then(|p| {
                if p > 0.0 {
                    Ok(p)
                } else {
                    Err(format!("`{t}` must be more than zero"))
                }
            }),
            _ => positive_number(t, 1e6),
        });
        const SECOND: u64 = 1_000_000_000;
        let evaluation_period = self.or(
            &raw.evaluation_period,
            &key("evaluation_period"),
            SimDuration(15 * SECOND),
            timer_period,
        );
        let mut duration = |text: &Option<_>, name: &str, default: u64| {
            self.or(
                text,
                &key(name),
                SimDuration(default),
                units::parse_duration,
            )
        };
        let scale_up_stabilization =
            duration(&raw.scale_up_stabilization, "scale_up_stabilization", 0);
        let scale_down_stabilization = duration(
            &raw.scale_down_stabilization,
            "scale_down_stabilization",
            300 * SECOND,
        );
        let cold_start = duration(&raw.cold_start, "cold_start", 0);
        let tolerance = self.or(
            &raw.tolerance,
            &key("tolerance"),
            0.1,
            units::parse_probability,
        );
        let min_instances = self.or(&raw.min_instances, &key("min_instances"), 1, |t| {
            units::parse_count(t, 1, 10_000)
        }) as u32;
        let max_instances = self.required(&raw.max_instances, &key("max_instances"), at, |t| {
            units::parse_count(t, 1, 10_000)
        })? as u32;
        if !(min_instances..=max_instances).contains(&instances) {
            self.error(at, path, format!("the service starts with {instances} instances, outside min_instances {min_instances} to max_instances {max_instances}"));
        }
        Some(AutoscalingSpec {
            metric,
            target: target?,
            evaluation_period,
            tolerance,
            scale_up_stabilization,
            scale_down_stabilization,
            min_instances,
            max_instances,
            cold_start,
        })
    }
}
