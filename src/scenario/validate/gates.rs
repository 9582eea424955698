//! Validating gates, the components in front of a service or load balancer
//! that pass attempts on or turn them away: one module per kind, and what
//! they share (their names' namespace, where they may stand).
//!
//! This is where a new kind of gate is registered on the scenario's side:
//! its module, its section's names, and its specs.

mod bulkhead;
mod rate_limiter;
mod shaper;

use crate::scenario::raw::{RawScenario, Text};
use crate::scenario::spec::{GateSpecs, Target};
use crate::scenario::yaml::{Position, position_of};

use super::Checker;

impl Checker {
    /// Gates share the namespace of services, balancers and caches.
    pub(super) fn collect_gate_names(&mut self, raw: &RawScenario) {
        self.collect_rate_limiter_names(raw);
        self.collect_bulkhead_names(raw);
        self.collect_shaper_names(raw);
    }

    pub(super) fn gates(&mut self, raw: &RawScenario) -> GateSpecs {
        GateSpecs {
            rate_limiters: self.rate_limiters(raw),
            bulkheads: self.bulkheads(raw),
            shapers: self.shapers(raw),
        }
    }

    /// The target of a gate (`kind`, at `path`): a service or load
    /// balancer, to which it passes attempts on.
    fn gate_target(
        &mut self,
        text: Option<&Text>,
        path: &str,
        at: Option<Position>,
        kind: &str,
    ) -> Option<Target> {
        let target_path = format!("{path}.target");
        let Some(text) = text else {
            self.required(&None, &target_path, at, |t| Ok(t.to_string()));
            return None;
        };
        let target = self.resolve(text, &target_path)?;
        if !matches!(target, Target::Service(_) | Target::Balancer(_)) {
            self.error(
                Some(position_of(text)),
                &target_path,
                format!(
                    "`{}` is not a service or load balancer; {kind} passes requests on to one of those",
                    text.value
                ),
            );
            return None;
        }
        Some(target)
    }
}
