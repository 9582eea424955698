//! Validating gates, the components in front of a service or load balancer
//! that pass attempts on or turn them away: one module per kind, and what
//! they share (their names' namespace, where they may stand).
//!
//! This is where a new kind of gate is registered on the scenario's side:
//! its module, its section's names, and its specs.

mod bulkhead;
mod rate_limiter;
mod shaper;

use indexmap::IndexMap;

use crate::scenario::raw::{RawScenario, Text};
use crate::scenario::spec::{Gate, GateSpecs, Target};
use crate::scenario::units;
use crate::scenario::yaml::{Position, Spanned, position_of};

use super::Checker;

/// The fastest rate a gate accepts: an attempt (a token, a turn) a nanosecond.
const MAX_RATE_PER_S: f64 = 1e9;

impl Checker {
    /// Gates share the namespace of services, balancers and caches.
    pub(super) fn collect_gate_names(&mut self, raw: &RawScenario) {
        self.collect_section_names(&raw.rate_limiters, "rate_limiters", Gate::RateLimiter);
        self.collect_section_names(&raw.bulkheads, "bulkheads", Gate::Bulkhead);
        self.collect_section_names(&raw.shapers, "shapers", Gate::Shaper);
    }

    pub(super) fn gates(&mut self, raw: &RawScenario) -> GateSpecs {
        GateSpecs {
            rate_limiters: self.section_specs(&raw.rate_limiters, Self::rate_limiter),
            bulkheads: self.section_specs(&raw.bulkheads, Self::bulkhead),
            shapers: self.section_specs(&raw.shapers, Self::shaper),
        }
    }

    /// The names of one kind's section (`key`), each naming its gate.
    fn collect_section_names<V>(
        &mut self,
        section: &Option<IndexMap<String, Spanned<V>>>,
        key: &str,
        gate: fn(u32) -> Gate,
    ) {
        for (index, (name, body)) in section.iter().flatten().enumerate() {
            let target = Target::Gate(gate(index as u32));
            self.add_target_name(name, key, position_of(body), target);
        }
    }

    /// The specs of one kind's section, from the entries that validate.
    fn section_specs<V, S>(
        &mut self,
        section: &Option<IndexMap<String, Spanned<V>>>,
        spec: fn(&mut Self, &str, &Spanned<V>) -> Option<S>,
    ) -> Vec<S> {
        let entries = section.iter().flatten();
        entries
            .filter_map(|(name, body)| spec(self, name, body))
            .collect()
    }

    /// A gate's `rate` (`whose`: "a shaper's"), above 0 and at most one
    /// a nanosecond.
    fn gate_rate(
        &mut self,
        text: &Option<Text>,
        path: &str,
        at: Option<Position>,
        whose: &str,
    ) -> Option<f64> {
        self.required(text, &format!("{path}.rate"), at, |t| {
            let rate = units::parse_rate(t)?;
            match rate > 0.0 && rate <= MAX_RATE_PER_S {
                true => Ok(rate),
                false => Err(format!(
                    "{whose} rate must be above 0 and at most {MAX_RATE_PER_S:e}/s"
                )),
            }
        })
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
