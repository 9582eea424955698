//! Validating how traffic is spread: request keys, balancing weights, the
//! hash ring, and the health of instances (outlier ejection, health checks).
//!
//! Outlier detection follows Envoy's names and defaults; health checks use
//! the thresholds every load balancer has.

use crate::engine::SimDuration;
use crate::engine::keys::KeyModel;
use crate::scenario::raw::{RawHealthCheck, RawOutlier, Text};
use crate::scenario::spec::{HealthCheckSpec, OutlierSpec, RoutingOptions, Strategy};
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::{Checker, MAX_DURATION, positive_duration, timer_period};

/// The routing keys a service or a load balancer may carry.
pub(super) struct RoutingKeys<'a> {
    pub strategy: Strategy,
    pub weights: Option<&'a Vec<Text>>,
    pub backends: usize,
    pub virtual_nodes: &'a Option<Text>,
    pub outlier_detection: &'a Option<Spanned<RawOutlier>>,
    pub health_check: &'a Option<Spanned<RawHealthCheck>>,
}

const SECOND: u64 = 1_000_000_000;

impl Checker {
    pub(super) fn keys(&mut self, text: &Option<Text>, path: &str) -> Option<KeyModel> {
        let text = text.as_ref()?;
        self.parse(text, &format!("{path}.keys"), units::parse_keys)
    }

    pub(super) fn routing(&mut self, keys: RoutingKeys, path: &str) -> RoutingOptions {
        let virtual_nodes = self.or(
            keys.virtual_nodes,
            &format!("{path}.virtual_nodes"),
            100,
            |t| units::parse_count(t, 1, 10_000),
        ) as u32;
        if let (Some(text), false) = (
            keys.virtual_nodes,
            keys.strategy == Strategy::ConsistentHash,
        ) {
            self.error(
                Some(position_of(text)),
                &format!("{path}.virtual_nodes"),
                "`virtual_nodes` applies to the `consistent_hash` strategy",
            );
        }
        RoutingOptions {
            weights: self.weights(&keys, path),
            virtual_nodes,
            outlier_detection: keys
                .outlier_detection
                .as_ref()
                .map(|o| self.outlier(&o.value, &format!("{path}.outlier_detection"))),
            health_check: keys
                .health_check
                .as_ref()
                .map(|h| self.health_check(&h.value, &format!("{path}.health_check"))),
        }
    }

    /// One weight per backend, only with weighted round robin.
    fn weights(&mut self, keys: &RoutingKeys, path: &str) -> Vec<u32> {
        let Some(list) = keys.weights else {
            return Vec::new();
        };
        let weights_path = format!("{path}.weights");
        let position = list.first().map(position_of);
        if keys.strategy != Strategy::WeightedRoundRobin {
            self.error(
                position,
                &weights_path,
                "`weights` apply to `strategy: weighted_round_robin`",
            );
        }
        if list.len() != keys.backends {
            self.error(
                position,
                &weights_path,
                format!(
                    "{} weights for {} backends: give one per backend, in the same order",
                    list.len(),
                    keys.backends
                ),
            );
        }
        list.iter()
            .enumerate()
            .map(|(index, text)| {
                self.parse(text, &format!("{weights_path}[{index}]"), |t| {
                    units::parse_count(t, 1, 1_000_000)
                })
                .unwrap_or(1) as u32
            })
            .collect()
    }

    /// Envoy's defaults: 5 in a row, a 10s interval, 30s base ejection, 10%.
    fn outlier(&mut self, raw: &RawOutlier, path: &str) -> OutlierSpec {
        let interval = self.or(
            &raw.interval,
            &format!("{path}.interval"),
            SimDuration(10 * SECOND),
            timer_period,
        );
        let mut duration = |text: &Option<Text>, key: &str, default: u64| {
            self.or(text, &format!("{path}.{key}"), SimDuration(default), |t| {
                positive_duration(t, MAX_DURATION)
            })
        };
        let base_ejection_time =
            duration(&raw.base_ejection_time, "base_ejection_time", 30 * SECOND);
        OutlierSpec {
            consecutive_5xx: self.or(
                &raw.consecutive_5xx,
                &format!("{path}.consecutive_5xx"),
                5,
                |t| units::parse_count(t, 1, 1_000_000),
            ) as u32,
            interval,
            base_ejection_time,
            max_ejection_fraction: self.or(
                &raw.max_ejection_percent,
                &format!("{path}.max_ejection_percent"),
                0.1,
                units::parse_probability,
            ),
        }
    }

    fn health_check(&mut self, raw: &RawHealthCheck, path: &str) -> HealthCheckSpec {
        let mut count = |text: &Option<Text>, key: &str, default: u64| {
            self.or(text, &format!("{path}.{key}"), default, |t| {
                units::parse_count(t, 1, 1_000)
            }) as u32
        };
        let unhealthy_threshold = count(&raw.unhealthy_threshold, "unhealthy_threshold", 3);
        let healthy_threshold = count(&raw.healthy_threshold, "healthy_threshold", 2);
        HealthCheckSpec {
            interval: self.or(
                &raw.interval,
                &format!("{path}.interval"),
                SimDuration(5 * SECOND),
                timer_period,
            ),
            unhealthy_threshold,
            healthy_threshold,
        }
    }
}
