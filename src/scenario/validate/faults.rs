//! Validating the `faults:` schedule.
//!
//! A fault names its kind, its target (a service, one of its instances, or
//! for added latency the calls into a target), when it starts and how long it
//! lasts, plus the one or two keys its kind uses. Keys that do not apply to
//! the kind are errors, as everywhere else.

use crate::scenario::raw::{RawFault, RawScenario, Text};
use crate::scenario::spec::{
    ConsumerSpec, Discipline, FaultKind, FaultSpec, FaultTarget, ServiceSpec, Target,
};
use crate::scenario::units;
use crate::scenario::yaml::{Position, Spanned, position_of};

use super::{Checker, MAX_DURATION, keyword, positive_duration, positive_number, words};

use words::FAULT_KINDS as KINDS;

/// The kind-specific key each kind uses (`None`: only the common keys).
pub fn own_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "outage" => &["mode", "instance"],
        "slowdown" => &["factor", "instance"],
        "errors" => &["error_rate", "instance"],
        "crash" => &["instance"],
        "latency" => &["latency", "caller"],
        "flush" => &[],
        "pause" => &["instance"],
        _ => &["fraction", "instance"],
    }
}

impl Checker {
    pub(super) fn faults(
        &mut self,
        raw: &RawScenario,
        services: &[ServiceSpec],
        consumers: &[ConsumerSpec],
    ) -> Vec<FaultSpec> {
        let faults = raw.faults.iter().flatten().enumerate();
        faults
            .filter_map(|(index, fault)| {
                self.fault(fault, &format!("faults[{index}]"), services, consumers)
            })
            .collect()
    }

    fn fault(
        &mut self,
        fault: &Spanned<RawFault>,
        path: &str,
        services: &[ServiceSpec],
        consumers: &[ConsumerSpec],
    ) -> Option<FaultSpec> {
        let at = Some(position_of(fault));
        let raw = &fault.value;
        let kind = self.required(&raw.kind, &format!("{path}.kind"), at, |t| {
            keyword(t, "fault kind", &KINDS)
        });
        let start = self.required(&raw.at, &format!("{path}.at"), at, units::parse_duration);
        let duration = self.required(&raw.duration, &format!("{path}.duration"), at, |t| {
            positive_duration(t, MAX_DURATION)
        });
        let kind = kind?;
        self.check_fault_keys(raw, kind, path);
        let fault_kind = self.fault_kind(raw, kind, path, at);
        let consumer = raw
            .target
            .as_ref()
            .and_then(|text| self.consumer_target(text, &raw.instance, path, consumers));
        let target = match (kind, consumer) {
            ("crash" | "slowdown" | "errors", Some(consumer)) => consumer,
            (_, Some(_)) => {
                let text = raw.target.as_ref()?;
                self.wrong_target(
                    text,
                    path,
                    "is a consumer; consumers take faults of kind `crash`, `slowdown` and `errors`",
                )
            }
            ("latency", None) => self.latency_target(raw, path, at),
            ("flush", None) => self.cache_target(raw, path, at),
            (_, None) => self.service_target(raw, path, at, services),
        };
        if let ("pause", Some(FaultTarget::Service(s) | FaultTarget::Instance { service: s, .. })) =
            (kind, &target)
            && services[*s as usize].discipline == Discipline::ProcessorSharing
        {
            let text = raw.target.as_ref()?;
            return self
                .wrong_target(text, path, "serves by processor sharing, where pauses are not modelled: use `fifo` (with many workers, it behaves alike)")
                .and(None);
        }
        Some(FaultSpec {
            kind: fault_kind?,
            target: target?,
            at: start?,
            duration: duration?,
        })
    }

    fn check_fault_keys(&mut self, raw: &RawFault, kind: &str, path: &str) {
        let optional: [(&str, &Option<Text>); 6] = [
            ("mode", &raw.mode),
            ("factor", &raw.factor),
            ("error_rate", &raw.error_rate),
            ("latency", &raw.latency),
            ("fraction", &raw.fraction),
            ("instance", &raw.instance),
        ];
        let caller = [("caller", &raw.caller)];
        let allowed = own_keys(kind);
        for (key, text) in optional.into_iter().chain(caller) {
            if let Some(text) = text
                && !allowed.contains(&key)
            {
                let uses = match allowed {
                    [] => "nothing else".to_string(),
                    _ => format!("`{}`", allowed.join("`, `")),
                };
                self.error(
                    Some(position_of(text)),
                    &format!("{path}.{key}"),
                    format!("`{key}` does not apply to `kind: {kind}` (besides target, at and duration it uses {uses})"),
                );
            }
        }
    }

    fn fault_kind(
        &mut self,
        raw: &RawFault,
        kind: &str,
        path: &str,
        at: Option<Position>,
    ) -> Option<FaultKind> {
        let key = |name: &str| format!("{path}.{name}");
        Some(match kind {
            "outage" => {
                let mode = self.or(&raw.mode, &key("mode"), "fail_fast", |t| {
                    keyword(t, "outage mode", &words::OUTAGE_MODES)
                });
                FaultKind::Outage {
                    hang: mode == "hang",
                }
            }
            "slowdown" => FaultKind::Slowdown {
                factor: self.required(&raw.factor, &key("factor"), at, |t| {
                    positive_number(t, 10_000.0)
                })?,
            },
            "errors" => FaultKind::Errors {
                error_rate: self.required(
                    &raw.error_rate,
                    &key("error_rate"),
                    at,
                    units::parse_probability,
                )?,
            },
            "crash" => FaultKind::Crash,
            "flush" => FaultKind::Flush,
            "pause" => FaultKind::Pause,
            "latency" => FaultKind::Latency {
                added: self.required(&raw.latency, &key("latency"), at, units::parse_dist)?,
            },
            _ => FaultKind::CapacityLoss {
                fraction: self.required(
                    &raw.fraction,
                    &key("fraction"),
                    at,
                    units::parse_probability,
                )?,
            },
        })
    }

    /// The fault's `target`, required and resolved to a component.
    fn resolve_target<'r>(
        &mut self,
        raw: &'r RawFault,
        path: &str,
        at: Option<Position>,
    ) -> Option<(&'r Text, Target)> {
        let target_path = format!("{path}.target");
        self.required(&raw.target, &target_path, at, |t| Ok(t.to_string()))?;
        let text = raw.target.as_ref()?;
        let target = self.resolve(text, &target_path)?;
        Some((text, target))
    }

    /// Reports a target of the wrong kind of component for this fault.
    fn wrong_target(&mut self, text: &Text, path: &str, why: &str) -> Option<FaultTarget> {
        let message = format!("`{}` {why}", text.value);
        self.error(Some(position_of(text)), &format!("{path}.target"), message);
        None
    }

    /// A service, or one of its instances.
    fn service_target(
        &mut self,
        raw: &RawFault,
        path: &str,
        at: Option<Position>,
        services: &[ServiceSpec],
    ) -> Option<FaultTarget> {
        let (target_text, target) = self.resolve_target(raw, path, at)?;
        let text = target_text.value.trim();
        let Target::Service(service) = target else {
            return self.wrong_target(target_text, path, "is not a service; this kind of fault strikes services (a cache can be flushed with `kind: flush`)");
        };
        let Some(index_text) = &raw.instance else {
            return Some(FaultTarget::Service(service));
        };
        let slots = services.get(service as usize)?.instance_slots();
        let index = self.parse(index_text, &format!("{path}.instance"), |t| {
            units::parse_count(t, 0, u64::from(slots) - 1).map_err(|_| {
                                                let plural = if slots == 1 { "" } else { "s" };
                format!("`{t}` is not an instance of `{text}`, which has {slots} instance{plural}, numbered from 0")
            })
        })?;
        Some(FaultTarget::Instance {
            service,
            index: index as u32,
        })
    }

    /// A cache, for a flush.
    fn cache_target(
        &mut self,
        raw: &RawFault,
        path: &str,
        at: Option<Position>,
    ) -> Option<FaultTarget> {
        match self.resolve_target(raw, path, at)? {
            (_, Target::Cache(id)) => Some(FaultTarget::Cache(id)),
            (text, _) => self.wrong_target(text, path, "is not a cache; only caches are flushed"),
        }
    }

    /// Every call edge into the target, or only those from `caller`.
    fn latency_target(
        &mut self,
        raw: &RawFault,
        path: &str,
        at: Option<Position>,
    ) -> Option<FaultTarget> {
        let (target_text, target) = self.resolve_target(raw, path, at)?;
        match target {
            Target::Cache(_) => return self.wrong_target(target_text, path, "is a cache; added latency applies to calls into services and load balancers (slow the cache's hits with `hit_latency`)"),
            Target::Queue(_) | Target::Topic(_) => return self.wrong_target(target_text, path, "is a queue or topic; added latency applies to calls into services and load balancers (delay messages with the queue's `delay`)"),
            Target::Service(_) | Target::Balancer(_) | Target::Gate(_) => {}
        }
        let caller = raw.caller.as_ref().map(|c| c.value.trim().to_string());
        let edges: Vec<u32> = (0..self.edges.len() as u32)
            .filter(|&e| {
                let edge = &self.edges[e as usize];
                edge.target == target && caller.as_ref().is_none_or(|c| *c == edge.caller)
            })
            .collect();
        if edges.is_empty() {
            let (position, key, message) = match (&raw.caller, caller) {
                (Some(text), Some(caller)) => (
                    position_of(text),
                    "caller",
                    format!("`{caller}` makes no call to `{}`", target_text.value),
                ),
                _ => (
                    position_of(target_text),
                    "target",
                    format!("nothing calls `{}`", target_text.value),
                ),
            };
            self.error(Some(position), &format!("{path}.{key}"), message);
            return None;
        }
        Some(FaultTarget::Edges(edges))
    }
}
