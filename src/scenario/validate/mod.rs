//! From the scenario as written to the scenario the engine trusts.
//!
//! Validation walks the whole raw scenario and keeps going after an error, so
//! one run shows every problem at once, each with its position, key path and,
//! where a name or keyword is close to a known one, a suggestion. Names are
//! resolved to ids here, the call graph is checked for cycles here, and
//! defaults are filled in here: the engine never sees an unchecked value.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

/// The policy keys of a raw source or call.
macro_rules! policy_keys {
    ($raw:expr) => {
        crate::scenario::validate::resilience::PolicyKeys {
            timeout: &$raw.timeout_per_attempt,
            deadline: &$raw.deadline,
            retry: &$raw.retry,
            breaker: &$raw.circuit_breaker,
            hedging: &$raw.hedging,
            rate_limit: &$raw.rate_limit,
            network: &$raw.network,
        }
    };
}

mod cache;
mod capacity;
mod faults;
mod gates;
mod jobs;
mod messaging;
mod prices;
mod resilience;
mod routing;
mod shape;

pub use faults::own_keys as fault_kind_keys;
pub use shape::keys_of as shape_kind_keys;

/// The words each keyword-valued key accepts, in one place so that the JSON
/// Schema (`stampede schema`) offers exactly what validation takes.
pub mod words {
    pub const ARRIVALS: [&str; 2] = ["poisson", "constant"];
    pub const SHAPE_KINDS: [&str; 6] = ["spike", "step", "ramp", "sine", "piecewise", "trace"];
    pub const INTERPOLATIONS: [&str; 2] = ["step", "linear"];
    pub const DISCIPLINES: [&str; 5] = [
        "fifo",
        "lifo",
        "adaptive_lifo",
        "processor_sharing",
        "priority",
    ];
    pub const CONCURRENCY_LIMITS: [&str; 2] = ["fixed", "aimd"];
    pub const CALL_MODES: [&str; 2] = ["sequential", "parallel"];
    pub const BACKOFFS: [&str; 3] = ["none", "constant", "exponential"];
    pub const RETRY_ON: [&str; 4] = ["error", "timeout", "rejected", "throttled"];
    pub const JITTERS: [&str; 4] = ["none", "full", "equal", "decorrelated"];
    pub const EVICTIONS: [&str; 3] = ["lru", "lfu", "fifo"];
    pub const CACHE_STARTS: [&str; 2] = ["cold", "warm"];
    pub const MESSAGE_GROUPS: [&str; 2] = ["single", "key"];
    pub const OUTAGE_MODES: [&str; 2] = ["fail_fast", "hang"];
    pub const FAULT_KINDS: [&str; 8] = [
        "outage",
        "slowdown",
        "errors",
        "crash",
        "latency",
        "capacity_loss",
        "flush",
        "pause",
    ];
}

use crate::engine::{Dist, SimDuration};

use super::diagnostic::Diagnostic;
use super::raw::{RawCall, RawLoadBalancer, RawScenario, RawService, RawSource, Text};
use super::spec::*;
use super::suggest::{self, did_you_mean};
use super::units::{self, unknown_word};
use super::yaml::{Position, Spanned, position_of};

pub(super) const MAX_DURATION: SimDuration = units::MAX_DURATION;

/// Checks `raw` and builds the validated scenario, or returns every problem.
/// Files the scenario names (rate traces) are read relative to `base_dir`.
pub fn validate(raw: &RawScenario, base_dir: &Path) -> Result<Scenario, Vec<Diagnostic>> {
    let mut checker = Checker {
        base_dir: base_dir.to_path_buf(),
        ..Checker::default()
    };
    let scenario = checker.scenario(raw);
    match (scenario, checker.errors.is_empty()) {
        (Some(scenario), true) => match too_costly(raw, &scenario) {
            Some(diagnostic) => Err(vec![diagnostic]),
            None => Ok(scenario),
        },
        _ => {
            checker.errors.sort_by_key(|d| d.position);
            Err(checker.errors)
        }
    }
}

/// A run whose certain arrivals alone exceed the default `limits.max_events`
/// would run for minutes and then stop at the limit: refuse it at once
/// instead. A limit written in the file is the user's choice (a quick look at
/// the first events of a long run), so it is left to stop the run.
fn too_costly(raw: &RawScenario, scenario: &Scenario) -> Option<Diagnostic> {
    if raw.limits.as_ref().is_some_and(|l| l.max_events.is_some()) {
        return None;
    }
    let cost = super::cost::estimate(scenario);
    let limit = scenario.limits.max_events;
    if cost.arrivals_at_least <= limit as f64 {
        return None;
    }
    let position = raw.duration.as_ref().map(position_of);
    let message = format!(
        "the sources send {:.2e} requests over {}, more than limits.max_events ({limit}) events: the run would stop at the limit",
        cost.arrivals_at_least, scenario.duration
    );
    let help = "shorten the duration or lower the rates; raise limits.max_events if the run is meant to be this long";
    Some(Diagnostic::new(position, "duration", message).with_help(help))
}

#[derive(Default)]
struct Checker {
    errors: Vec<Diagnostic>,
    /// Every service and balancer name, in file order, for resolving targets.
    targets: IndexMap<String, Target>,
    edges: Vec<EdgeSpec>,
    /// Consumer groups are not call targets; faults may still name them.
    consumer_names: IndexMap<String, u32>,
    /// The queues some consumer group reads, as written.
    consumed_queues: Vec<String>,
    base_dir: PathBuf,
    /// Unknown names whose suggestions were worked out; each compares the
    /// name with every known one, so a file of thousands of dangling names
    /// gets suggestions for the first few only.
    names_suggested: usize,
}

/// How many unknown names get a "did you mean" or a list of known names.
const MAX_NAMES_SUGGESTED: usize = 20;

impl Checker {
    fn error(&mut self, position: Option<Position>, path: &str, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(position, path, message));
    }

    /// Parses `text` with `parser`, recording a located error on failure.
    fn parse<T>(
        &mut self,
        text: &Text,
        path: &str,
        parser: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parser(&text.value) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors
                    .push(located(Some(position_of(text)), path, &message));
                None
            }
        }
    }

    /// An optional key: its parsed value, or `default` when absent or invalid.
    fn or<T>(
        &mut self,
        text: &Option<Text>,
        path: &str,
        default: T,
        parser: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        match text {
            Some(text) => self.parse(text, path, parser).unwrap_or(default),
            None => default,
        }
    }

    /// A required key: an error pointing at `owner` when it is missing.
    fn required<T>(
        &mut self,
        text: &Option<Text>,
        path: &str,
        owner: Option<Position>,
        parser: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match text {
            Some(text) => self.parse(text, path, parser),
            None => {
                let key = path.rsplit('.').next().unwrap_or(path);
                self.error(owner, path, format!("`{key}` is required"));
                None
            }
        }
    }

    fn scenario(&mut self, raw: &RawScenario) -> Option<Scenario> {
        let top = Some(Position { line: 1, column: 1 });
        let duration = self.required(&raw.duration, "duration", top, |t| {
            positive_duration(t, MAX_DURATION)
        });
        let warmup = self.or(
            &raw.warmup,
            "warmup",
            SimDuration::ZERO,
            units::parse_duration,
        );
        if let (Some(duration), Some(text)) = (duration, &raw.warmup)
            && warmup >= duration
        {
            self.error(
                Some(position_of(text)),
                "warmup",
                format!("warm-up {warmup} leaves nothing to measure in a run of {duration}"),
            );
        }
        self.collect_target_names(raw);
        let consumers = raw.consumers.iter().flat_map(|c| c.values());
        self.consumed_queues = consumers
            .filter_map(|c| c.value.queue.as_ref().map(|q| q.value.trim().to_string()))
            .collect();
        // Sources first, so that their edges lead the list of calls.
        let sources = self.sources(raw);
        let services = self.services(raw);
        let balancers = self.balancers(raw);
        let caches = self.caches(raw);
        let queues = self.queues(raw);
        let topics = self.topics(raw);
        let consumers = self.consumers(raw);
        // After every call edge exists, so that a gate may check its callers.
        let gates = self.gates(raw);
        self.check_acyclic(&services, &balancers, &caches, &gates, raw);
        let faults = self.faults(raw, &services, &consumers);
        let cost = self.prices(raw, &consumers);
        if let Some(duration) = duration {
            self.check_faults_start_in_time(raw, duration);
        }
        Some(Scenario {
            name: raw
                .name
                .as_ref()
                .map_or_else(|| "unnamed scenario".to_string(), |n| n.value.clone()),
            description: raw
                .description
                .as_ref()
                .map_or_else(String::new, |d| d.value.trim().to_string()),
            seed: self.or(&raw.seed, "seed", 1, |t| units::parse_count(t, 0, u64::MAX)),
            duration: duration?,
            warmup,
            deadline_propagation: self.or(
                &raw.deadline_propagation,
                "deadline_propagation",
                false,
                units::parse_bool,
            ),
            limits: self.limits(raw),
            sample_interval: self.sample_interval(raw, duration),
            sources,
            services,
            balancers,
            caches,
            gates,
            queues,
            topics,
            consumers,
            edges: std::mem::take(&mut self.edges),
            faults,
            cost,
            // The study sets it: only it holds the document as written.
            document: Default::default(),
        })
    }

    /// By default 1s, or duration ÷ 2000 for long runs, so the time series
    /// stays small whatever the run length; at most 100,000 samples if set.
    fn sample_interval(&mut self, raw: &RawScenario, duration: Option<SimDuration>) -> SimDuration {
        let default_nanos = duration
            .map_or(0, |d| d.as_nanos().div_ceil(2_000))
            .max(1_000_000_000);
        let interval = self.or(
            &raw.sample_interval,
            "sample_interval",
            SimDuration(default_nanos),
            |t| positive_duration(t, MAX_DURATION),
        );
        if let (Some(duration), Some(text)) = (duration, &raw.sample_interval) {
            let samples = duration.as_nanos() / interval.as_nanos().max(1);
            if samples > 100_000 {
                self.error(Some(position_of(text)), "sample_interval", format!("{samples} samples over {duration} is more than 100000: use a longer interval"));
            }
        }
        interval
    }

    fn limits(&mut self, raw: &RawScenario) -> Limits {
        let defaults = Limits::default();
        let Some(limits) = &raw.limits else {
            return defaults;
        };
        Limits {
            max_events: self.or(
                &limits.max_events,
                "limits.max_events",
                defaults.max_events,
                |t| units::parse_count(t, 1, u64::MAX),
            ),
            max_in_flight: self.or(
                &limits.max_in_flight,
                "limits.max_in_flight",
                defaults.max_in_flight,
                |t| units::parse_count(t, 1, 100_000_000),
            ),
            max_messages: self.or(
                &limits.max_messages,
                "limits.max_messages",
                defaults.max_messages,
                |t| units::parse_count(t, 1, 1_000_000_000),
            ),
            max_events_at_one_instant: self.or(
                &limits.max_events_at_one_instant,
                "limits.max_events_at_one_instant",
                defaults.max_events_at_one_instant,
                |t| units::parse_count(t, 1, u64::MAX),
            ),
        }
    }

    /// Registers every service and balancer name first, so that calls may
    /// name components defined further down the file.
    fn collect_target_names(&mut self, raw: &RawScenario) {
        let services = raw.services.iter().flat_map(|s| s.value.iter());
        for (index, (name, body)) in services.enumerate() {
            self.check_name(name, "services", position_of(body));
            self.targets
                .insert(name.clone(), Target::Service(index as u32));
        }
        let balancers = raw.load_balancers.iter().flat_map(|b| b.iter());
        for (index, (name, body)) in balancers.enumerate() {
            self.check_name(name, "load_balancers", position_of(body));
            if self.targets.contains_key(name) {
                self.error(
                    Some(position_of(body)),
                    &format!("load_balancers.{name}"),
                    format!("`{name}` is already the name of a service; names must be unique"),
                );
            }
            self.targets
                .entry(name.clone())
                .or_insert(Target::Balancer(index as u32));
        }
        self.collect_cache_names(raw);
        self.collect_gate_names(raw);
        self.collect_messaging_names(raw);
    }

    /// A fault that starts after the run ends would never happen: most
    /// likely a typo in `at` or `duration`.
    fn check_faults_start_in_time(&mut self, raw: &RawScenario, duration: SimDuration) {
        for (index, fault) in raw.faults.iter().flatten().enumerate() {
            let Some(text) = &fault.value.at else {
                continue;
            };
            if let Ok(start) = units::parse_duration(&text.value)
                && start >= duration
            {
                let message = format!(
                    "the fault starts at {start}, after the run ends ({duration}): it would never happen"
                );
                self.error(
                    Some(position_of(text)),
                    &format!("faults[{index}].at"),
                    message,
                );
            }
        }
    }

    /// A required section that is absent or empty; points at the file's start when absent.
    fn missing_section(
        &mut self,
        position: Option<Position>,
        path: &str,
        message: &str,
        help: &str,
    ) {
        let position = position.or(Some(Position { line: 1, column: 1 }));
        self.errors
            .push(Diagnostic::new(position, path, message).with_help(help));
    }

    /// Registers a name that calls can address, refusing a duplicate.
    pub(super) fn add_target_name(
        &mut self,
        name: &str,
        section: &str,
        at: Position,
        target: Target,
    ) {
        self.check_name(name, section, at);
        if self.targets.contains_key(name) {
            self.duplicate_name(name, section, at);
        }
        self.targets.entry(name.to_string()).or_insert(target);
    }

    pub(super) fn duplicate_name(&mut self, name: &str, section: &str, at: Position) {
        self.error(
            Some(at),
            &format!("{section}.{name}"),
            format!("`{name}` is already the name of another component; names must be unique"),
        );
    }

    fn check_name(&mut self, name: &str, section: &str, position: Position) {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            self.error(Some(position), &format!("{section}.{name}"), format!("`{name}` is not a usable name: use letters, digits, `_`, `-` and `.`, starting with a letter or digit"));
        }
    }

    fn resolve(&mut self, text: &Text, path: &str) -> Option<Target> {
        if let Some(&target) = self.targets.get(&text.value) {
            return Some(target);
        }
        self.names_suggested += 1;
        let names: Vec<&str> = match self.names_suggested <= MAX_NAMES_SUGGESTED {
            true => self.targets.keys().map(String::as_str).collect(),
            false => Vec::new(),
        };
        let mut diagnostic = Diagnostic::new(
            Some(position_of(text)),
            path,
            format!("no {TARGET_KINDS_IN_WORDS} is named `{}`", text.value),
        );
        match did_you_mean(&text.value, names.iter().copied()) {
            Some(name) => diagnostic = diagnostic.with_help(format!("did you mean `{name}`?")),
            None if !names.is_empty() => {
                diagnostic = diagnostic.with_help(format!(
                    "known targets: {}",
                    suggest::listed_names(&text.value, names.iter().copied())
                ))
            }
            None => {}
        }
        self.errors.push(diagnostic);
        None
    }

    fn sources(&mut self, raw: &RawScenario) -> Vec<SourceSpec> {
        let Some(sources) = raw.sources.as_ref().filter(|s| !s.value.is_empty()) else {
            let position = raw.sources.as_ref().map(position_of);
            self.missing_section(
                position,
                "sources",
                "the scenario has no traffic sources",
                "add one, e.g. `sources: { users: { target: frontend, rate: 100/s } }`",
            );
            return Vec::new();
        };
        sources
            .value
            .iter()
            .filter_map(|(name, body)| {
                self.check_name(name, "sources", position_of(body));
                self.source(name, body)
            })
            .collect()
    }

    fn source(&mut self, name: &str, body: &Spanned<RawSource>) -> Option<SourceSpec> {
        let path = format!("sources.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let load = self.load(raw, &path, at);
        let target = self.required(&raw.target, &format!("{path}.target"), at, |t| {
            Ok(t.to_string())
        });
        let target_text = raw.target.as_ref();
        let resolved = target_text.and_then(|t| self.resolve(t, &format!("{path}.target")));
        let policy = self.policy(policy_keys!(raw), &path);
        // The submit edge before the poll edge, so calls list in that order.
        let edge = resolved
            .zip(target)
            .map(|(resolved, target)| self.add_edge(name, resolved, target, policy));
        let job = raw.job.as_ref().map(|job| {
            let submit_to = resolved.zip(target_text);
            self.job(name, job, submit_to)
        });
        let edge = edge?;
        let keys = self.keys(&raw.keys, &path);
        let class = self.or(&raw.class, &format!("{path}.class"), Class::Default, |t| {
            let word = keyword(t, "class", &Class::NAMES)?;
            Ok(match word {
                "critical" => Class::Critical,
                "sheddable" => Class::Sheddable,
                _ => Class::Default,
            })
        });
        Some(SourceSpec {
            name: name.to_string(),
            load: load?,
            keys,
            edge,
            class,
            job: match job {
                Some(job) => Some(Box::new(job?)),
                None => None,
            },
        })
    }

    fn load(&mut self, raw: &RawSource, path: &str, at: Option<Position>) -> Option<Load> {
        let open = raw.rate.is_some() || raw.arrivals.is_some() || raw.shape.is_some();
        let closed = raw.clients.is_some() || raw.think_time.is_some();
        match (open, closed) {
            (true, true) => {
                self.error(at, path, "a source is either open-loop (`rate`, `arrivals`) or closed-loop (`clients`, `think_time`), not both");
                None
            }
            (false, false) => {
                self.errors.push(
                    Diagnostic::new(
                        at,
                        path,
                        "a source needs `rate` (open loop) or `clients` (closed loop)",
                    )
                    .with_help(
                        "e.g. `rate: 200/s`, or `clients: 50` with `think_time: exp(mean=100ms)`",
                    ),
                );
                None
            }
            (true, false) => self.open_load(raw, path, at),
            (false, true) => {
                let clients = self.required(&raw.clients, &format!("{path}.clients"), at, |t| {
                    units::parse_count(t, 1, 10_000_000)
                });
                let think_time = self.or(
                    &raw.think_time,
                    &format!("{path}.think_time"),
                    Dist::Constant { value: 0.0 },
                    units::parse_dist,
                );
                Some(Load::Closed {
                    clients: clients? as u32,
                    think_time,
                })
            }
        }
    }

    fn open_load(&mut self, raw: &RawSource, path: &str, at: Option<Position>) -> Option<Load> {
        let arrivals_path = format!("{path}.arrivals");
        let kind = raw.arrivals.as_ref().map_or("poisson", |a| a.value.trim());
        if words::ARRIVALS.contains(&kind) {
            let shape = raw
                .shape
                .as_ref()
                .and_then(|shape| self.shape(shape, kind, &format!("{path}.shape")));
            let rate = self.rate_of(raw, shape.as_ref(), path, at)?;
            let mean = 1e9 / rate;
            let interarrival = match kind {
                "poisson" => Dist::Exponential { mean },
                _ => Dist::Constant { value: mean },
            };
            return Some(Load::Open {
                interarrival,
                rate_per_second: rate,
                shape: shape.map(|(shape, _)| Box::new(shape)),
            });
        }
        let arrivals = raw.arrivals.as_ref()?;
        if !kind.contains('(') {
            let message = unknown_word(
                "arrival process",
                kind,
                &[
                    "poisson",
                    "constant",
                    "<distribution of inter-arrival times>",
                ],
            );
            self.error(Some(position_of(arrivals)), &arrivals_path, message);
            return None;
        }
        if let Some(rate) = &raw.rate {
            self.error(Some(position_of(rate)), &format!("{path}.rate"), "`rate` conflicts with `arrivals` given as a distribution: the distribution's mean sets the rate");
        }
        let interarrival = self.parse(arrivals, &arrivals_path, units::parse_dist)?;
        let mean = interarrival.mean();
        if !(mean > 0.0 && mean.is_finite()) {
            self.error(
                Some(position_of(arrivals)),
                &arrivals_path,
                "inter-arrival times need a finite mean above zero",
            );
            return None;
        }
        if let Some(shape) = &raw.shape {
            self.error(
                Some(position_of(shape)),
                &format!("{path}.shape"),
                "a rate shape needs `arrivals: poisson`",
            );
        }
        Some(Load::Open {
            interarrival,
            rate_per_second: 1e9 / mean,
            shape: None,
        })
    }

    fn services(&mut self, raw: &RawScenario) -> Vec<ServiceSpec> {
        let Some(services) = raw.services.as_ref().filter(|s| !s.value.is_empty()) else {
            // Producers and consumers around a queue need no service.
            if raw.queues.as_ref().is_some_and(|q| !q.is_empty()) {
                return Vec::new();
            }
            let position = raw.services.as_ref().map(position_of);
            self.missing_section(position, "services", "the scenario has no services", "add one, e.g. `services: { frontend: { workers: 8, service_time: exp(mean=5ms) } }`");
            return Vec::new();
        };
        services
            .value
            .iter()
            .map(|(name, body)| self.service(name, body))
            .collect()
    }

    /// Always returns a spec, even an invalid one (its errors are recorded), so
    /// that the call graph stays whole for the cycle check.
    fn service(&mut self, name: &str, body: &Spanned<RawService>) -> ServiceSpec {
        let path = format!("services.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let queue = raw.queue.as_ref();
        let service_time = self.required(
            &raw.service_time,
            &format!("{path}.service_time"),
            at,
            units::parse_dist,
        );
        if let Some(dist) = &service_time
            && !dist.mean().is_finite()
        {
            let position = raw.service_time.as_ref().map(position_of);
            self.error(position, &format!("{path}.service_time"), "the service time has an infinite mean (a pareto with shape ≤ 1, alone or in a mixture): the service could never keep up");
        }
        let calls = raw.calls.iter().flatten().enumerate();
        let calls: Vec<EdgeId> = calls
            .filter_map(|(index, call)| self.call(name, &format!("{path}.calls[{index}]"), call))
            .collect();
        let capacity = queue.and_then(|q| q.capacity.clone());
        let instances = self.or(&raw.instances, &format!("{path}.instances"), 1, |t| {
            units::parse_count(t, 1, 10_000)
        }) as u32;
        let autoscaling = raw
            .autoscaling
            .as_ref()
            .and_then(|a| self.autoscaling(a, &format!("{path}.autoscaling"), instances));
        let balancing = self.or(
            &raw.balancer,
            &format!("{path}.balancer"),
            Strategy::RoundRobin,
            parse_strategy,
        );
        let routing_keys = routing::RoutingKeys {
            strategy: balancing,
            weights: None,
            backends: 1,
            virtual_nodes: &raw.virtual_nodes,
            outlier_detection: &raw.outlier_detection,
            health_check: &raw.health_check,
        };
        let routing = self.routing(routing_keys, &path);
        let spec = ServiceSpec {
            name: name.to_string(),
            instances,
            autoscaling,
            balancing,
            routing,
            workers: self.or(&raw.workers, &format!("{path}.workers"), 1, |t| {
                units::parse_count(t, 1, 1_000_000)
            }) as u32,
            queue_capacity: self.or(&capacity, &format!("{path}.queue.capacity"), 1000, |t| {
                units::parse_count(t, 0, 10_000_000)
            }) as u32,
            discipline: self.discipline(queue, &path),
            queue_timeout: queue.and_then(|q| q.timeout.as_ref()).and_then(|t| {
                self.parse(t, &format!("{path}.queue.timeout"), |t| {
                    positive_duration(t, MAX_DURATION)
                })
            }),
            concurrency_limit: raw.concurrency_limit.as_ref().and_then(|limit| {
                self.concurrency_limit(limit, &format!("{path}.concurrency_limit"))
            }),
            service_time: service_time.unwrap_or(Dist::Constant { value: 0.0 }),
            slowdown_with_load: raw.slowdown_with_load.as_ref().and_then(|slowdown| {
                self.load_slowdown(slowdown, &format!("{path}.slowdown_with_load"))
            }),
            pauses: raw
                .pauses
                .as_ref()
                .and_then(|pauses| self.pauses(pauses, &format!("{path}.pauses"))),
            error_rate: self.or(
                &raw.error_rate,
                &format!("{path}.error_rate"),
                0.0,
                units::parse_probability,
            ),
            call_mode: self.or(
                &raw.call_mode,
                &format!("{path}.call_mode"),
                CallMode::Sequential,
                parse_call_mode,
            ),
            calls,
        };
        self.check_sharing(&spec, raw, &path);
        spec
    }

    fn call(&mut self, caller: &str, path: &str, call: &Spanned<RawCall>) -> Option<EdgeId> {
        let raw = &call.value;
        let target_path = format!("{path}.target");
        let target = self.required(&raw.target, &target_path, Some(position_of(call)), |t| {
            Ok(t.to_string())
        });
        let resolved = raw
            .target
            .as_ref()
            .and_then(|t| self.resolve(t, &target_path));
        let policy = self.policy(policy_keys!(raw), path);
        let fire_and_forget = self.or(
            &raw.fire_and_forget,
            &format!("{path}.fire_and_forget"),
            false,
            units::parse_bool,
        );
        let probability = self.or(
            &raw.probability,
            &format!("{path}.probability"),
            1.0,
            units::parse_probability,
        );
        let edge = self.add_edge(caller, resolved?, target?, policy);
        self.edges[edge as usize].fire_and_forget = fire_and_forget;
        self.edges[edge as usize].probability = probability;
        Some(edge)
    }

    fn add_edge(
        &mut self,
        caller: &str,
        target: Target,
        target_name: String,
        policy: CallPolicy,
    ) -> EdgeId {
        self.edges.push(EdgeSpec {
            caller: caller.to_string(),
            target,
            target_name,
            policy,
            fire_and_forget: false,
            probability: 1.0,
        });
        (self.edges.len() - 1) as EdgeId
    }

    fn balancers(&mut self, raw: &RawScenario) -> Vec<BalancerSpec> {
        let balancers = raw.load_balancers.iter().flat_map(|b| b.iter());
        balancers
            .map(|(name, body)| {
                self.balancer(name, body).unwrap_or_else(|| BalancerSpec {
                    name: name.clone(),
                    strategy: Strategy::RoundRobin,
                    routing: RoutingOptions::default(),
                    backends: Vec::new(),
                })
            })
            .collect()
    }

    fn balancer(&mut self, name: &str, body: &Spanned<RawLoadBalancer>) -> Option<BalancerSpec> {
        let path = format!("load_balancers.{name}");
        let raw = &body.value;
        let strategy = self.or(
            &raw.strategy,
            &format!("{path}.strategy"),
            Strategy::RoundRobin,
            parse_strategy,
        );
        let Some(backends) = raw.backends.as_ref().filter(|b| !b.is_empty()) else {
            self.error(
                Some(position_of(body)),
                &format!("{path}.backends"),
                "a load balancer needs at least one backend service",
            );
            return None;
        };
        let mut ids = Vec::new();
        for (index, backend) in backends.iter().enumerate() {
            let backend_path = format!("{path}.backends[{index}]");
            match self.resolve(backend, &backend_path) {
                Some(Target::Service(id)) => ids.push(id),
                Some(_) => self.error(
                    Some(position_of(backend)),
                    &backend_path,
                    format!(
                        "`{}` is not a service; backends must be services",
                        backend.value
                    ),
                ),
                None => {}
            }
        }
        let routing_keys = routing::RoutingKeys {
            strategy,
            weights: raw.weights.as_ref(),
            backends: backends.len(),
            virtual_nodes: &raw.virtual_nodes,
            outlier_detection: &raw.outlier_detection,
            health_check: &raw.health_check,
        };
        let routing = self.routing(routing_keys, &path);
        Some(BalancerSpec {
            name: name.to_string(),
            strategy,
            routing,
            backends: ids,
        })
    }

    /// Calls must form a DAG: a cycle would recurse forever.
    fn check_acyclic(
        &mut self,
        services: &[ServiceSpec],
        balancers: &[BalancerSpec],
        caches: &[CacheSpec],
        gates: &GateSpecs,
        raw: &RawScenario,
    ) {
        let graph = CallGraph {
            services,
            balancers,
            caches,
            gates,
            edges: &self.edges,
        };
        if let Some(cycle) = graph.find_cycle() {
            let names: Vec<&str> = cycle.iter().map(|&node| graph.name(node)).collect();
            let (position, path) = cycle_edge(raw, names[0], names[1]);
            self.errors.push(
                Diagnostic::new(
                    position,
                    path,
                    format!("calls form a cycle: {}", names.join(" → ")),
                )
                .with_help("a request would call itself forever; remove one of these calls"),
            );
        }
    }
}

/// Where the scenario makes `from` call `to`: a service's call, a balancer's
/// backend or a cache's target, so that a cycle points at a line to change.
fn cycle_edge(raw: &RawScenario, from: &str, to: &str) -> (Option<Position>, String) {
    let is_to = |text: &Text| text.value == to;
    if let Some(service) = raw.services.as_ref().and_then(|s| s.value.get(from)) {
        let calls = service.value.calls.iter().flatten();
        for (index, call) in calls.enumerate() {
            if let Some(target) = call.value.target.as_ref().filter(|t| is_to(t)) {
                let path = format!("services.{from}.calls[{index}].target");
                return (Some(position_of(target)), path);
            }
        }
        return (Some(position_of(service)), format!("services.{from}.calls"));
    }
    if let Some(balancer) = raw.load_balancers.as_ref().and_then(|b| b.get(from)) {
        let backends = balancer.value.backends.iter().flatten();
        if let Some((index, backend)) = backends.enumerate().find(|(_, b)| is_to(b)) {
            let path = format!("load_balancers.{from}.backends[{index}]");
            return (Some(position_of(backend)), path);
        }
        return (
            Some(position_of(balancer)),
            format!("load_balancers.{from}"),
        );
    }
    let cache = raw.caches.as_ref().and_then(|c| c.get(from));
    match cache.and_then(|c| c.value.target.as_ref()) {
        Some(target) => (Some(position_of(target)), format!("caches.{from}.target")),
        None => (cache.map(position_of), format!("caches.{from}")),
    }
}

/// Services, balancers and caches as one graph: services first, then
/// balancers, then caches.
struct CallGraph<'a> {
    services: &'a [ServiceSpec],
    balancers: &'a [BalancerSpec],
    caches: &'a [CacheSpec],
    /// Not nodes of their own: a call through a gate is a call to what it guards.
    gates: &'a GateSpecs,
    edges: &'a [EdgeSpec],
}

impl CallGraph<'_> {
    /// The node a call goes to; `None` for a queue or topic, where the
    /// call ends (consumers work apart from the caller's request).
    /// Also `None` for a component that failed validation and is not in the
    /// graph: its own error is already reported.
    fn node(&self, target: Target) -> Option<usize> {
        let node = match target {
            Target::Service(id) => id as usize,
            Target::Balancer(id) => self.services.len() + id as usize,
            Target::Cache(id) => self.services.len() + self.balancers.len() + id as usize,
            Target::Gate(gate) => return self.node(self.gates.behind(gate)?),
            Target::Queue(_) | Target::Topic(_) => return None,
        };
        (node < self.count()).then_some(node)
    }

    fn count(&self) -> usize {
        self.services.len() + self.balancers.len() + self.caches.len()
    }

    fn targets<'e>(&self, edges: impl Iterator<Item = &'e EdgeId>) -> Vec<usize> {
        edges
            .filter_map(|&e| self.node(self.edges[e as usize].target))
            .collect()
    }

    fn name(&self, node: usize) -> &str {
        let balancer = node.wrapping_sub(self.services.len());
        let cache = balancer.wrapping_sub(self.balancers.len());
        match (self.services.get(node), self.balancers.get(balancer)) {
            (Some(service), _) => &service.name,
            (None, Some(balancer)) => &balancer.name,
            (None, None) => &self.caches[cache].name,
        }
    }

    fn next(&self, node: usize) -> Vec<usize> {
        let balancer = node.wrapping_sub(self.services.len());
        let cache = balancer.wrapping_sub(self.balancers.len());
        match (self.services.get(node), self.balancers.get(balancer)) {
            (Some(service), _) => self.targets(service.calls.iter()),
            (None, Some(balancer)) => balancer.backends.iter().map(|&s| s as usize).collect(),
            (None, None) => {
                let edge = self.caches[cache].backend_edge;
                self.targets([edge].iter())
            }
        }
    }

    /// The first cycle found by depth-first search, as a closed path of
    /// nodes. The search keeps its own stack: a chain of many thousands of
    /// services must not overflow the thread's.
    fn find_cycle(&self) -> Option<Vec<usize>> {
        let mut state = vec![Visit::Unseen; self.count()];
        for start in 0..self.count() {
            if state[start] == Visit::Unseen
                && let Some(cycle) = self.cycle_from(start, &mut state)
            {
                return Some(cycle);
            }
        }
        None
    }

    fn cycle_from(&self, start: usize, state: &mut [Visit]) -> Option<Vec<usize>> {
        // (node, its successors, how many of them were followed)
        let mut stack: Vec<(usize, Vec<usize>, usize)> = vec![(start, self.next(start), 0)];
        state[start] = Visit::OnStack;
        while let Some((node, next, followed)) = stack.last_mut() {
            let Some(&child) = next.get(*followed) else {
                state[*node] = Visit::Done;
                stack.pop();
                continue;
            };
            *followed += 1;
            match state.get(child).copied() {
                Some(Visit::Unseen) => {
                    state[child] = Visit::OnStack;
                    stack.push((child, self.next(child), 0));
                }
                Some(Visit::OnStack) => {
                    let from = stack.iter().position(|(n, ..)| *n == child).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[from..].iter().map(|(n, ..)| *n).collect();
                    cycle.push(child);
                    return Some(cycle);
                }
                Some(Visit::Done) | None => {}
            }
        }
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    Unseen,
    OnStack,
    Done,
}

/// A diagnostic whose " (did you mean `x`?)" tail, if any, becomes its help line.
fn located(position: Option<Position>, path: &str, message: &str) -> Diagnostic {
    match message.split_once(" (did you mean ") {
        Some((message, tail)) => {
            let help = format!("did you mean {}", tail.trim_end_matches(')'));
            Diagnostic::new(position, path, message).with_help(help)
        }
        None => Diagnostic::new(position, path, message),
    }
}

/// The shortest period of a repeating timer (health checks, outlier sweeps,
/// autoscaler evaluations, scheduled jobs). Real ones run every few seconds;
/// a period of nanoseconds would spend the whole run on the timer.
pub(super) const MIN_TIMER_PERIOD: SimDuration = SimDuration(10_000_000);

/// A repeating timer's period: at least [`MIN_TIMER_PERIOD`], at most [`MAX_DURATION`].
pub(super) fn timer_period(text: &str) -> Result<SimDuration, String> {
    let period = positive_duration(text, MAX_DURATION)?;
    if period < MIN_TIMER_PERIOD {
        return Err(format!(
            "`{}` is shorter than the shortest period, {MIN_TIMER_PERIOD}: a timer this fast would spend the run on itself",
            text.trim()
        ));
    }
    Ok(period)
}

fn positive_duration(text: &str, max: SimDuration) -> Result<SimDuration, String> {
    let duration = units::parse_duration(text)?;
    if duration == SimDuration::ZERO {
        return Err(format!("`{text}` must be more than zero"));
    }
    if duration > max {
        return Err(format!("`{text}` is longer than the limit of {max}"));
    }
    Ok(duration)
}

/// A number from `low` to `high`, both included.
pub(super) fn number_in(text: &str, low: f64, high: f64) -> Result<f64, String> {
    let value = units::parse_number(text)?;
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "`{text}` is out of range: expected {low} to {high}"
        ))
    }
}

/// A number above zero and at most `max`: factors, ratios and targets.
fn positive_number(text: &str, max: f64) -> Result<f64, String> {
    let value = units::parse_number(text)?;
    if value > 0.0 && value <= max {
        Ok(value)
    } else {
        Err(format!(
            "`{text}` is out of range: expected more than 0 and at most {max}"
        ))
    }
}

pub(super) fn positive_rate(text: &str) -> Result<f64, String> {
    let rate = units::parse_rate(text)?;
    if rate <= 0.0 || rate > 1e9 {
        return Err(format!(
            "`{text}` is out of range: expected more than 0/s and at most 1000000000/s"
        ));
    }
    Ok(rate)
}

/// One of `options`, returned as the static spelling.
fn keyword(text: &str, what: &str, options: &[&'static str]) -> Result<&'static str, String> {
    let word = text.trim();
    options
        .iter()
        .find(|&&o| o == word)
        .copied()
        .ok_or_else(|| unknown_word(what, word, options))
}

fn parse_strategy(text: &str) -> Result<Strategy, String> {
    let name = keyword(text, "balancing strategy", &Strategy::NAMES)?;
    Ok(Strategy::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or(Strategy::RoundRobin))
}

fn parse_call_mode(text: &str) -> Result<CallMode, String> {
    match keyword(text, "call mode", &words::CALL_MODES)? {
        "sequential" => Ok(CallMode::Sequential),
        _ => Ok(CallMode::Parallel),
    }
}
