//! The validated scenario: what the engine trusts.
//!
//! Every name is resolved to an index, every value is in range and in engine
//! units (nanoseconds, events per second), and every call edge is explicit.
//! Nothing here can be wrong in a way the simulation would have to check.

use crate::engine::{Dist, SimDuration};

pub use super::shape::Shape;

pub type SourceId = u32;
pub type ServiceId = u32;
pub type BalancerId = u32;
pub type EdgeId = u32;

/// Where a call goes: straight to a service (balanced over its instances) or
/// through a named load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Service(ServiceId),
    Balancer(BalancerId),
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Total simulated time, warm-up included.
    pub duration: SimDuration,
    /// Statistics ignore everything before this instant.
    pub warmup: SimDuration,
    /// Callees drop work whose caller's deadline has passed when it is dequeued.
    pub deadline_propagation: bool,
    /// The time series records one row per this much simulated time.
    pub sample_interval: SimDuration,
    pub limits: Limits,
    pub sources: Vec<SourceSpec>,
    pub services: Vec<ServiceSpec>,
    pub balancers: Vec<BalancerSpec>,
    pub edges: Vec<EdgeSpec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The run stops, with a message, after this many events.
    pub max_events: u64,
    /// The run stops, with a message, when this many requests are in flight.
    pub max_in_flight: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_in_flight: 1_000_000,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub name: String,
    pub load: Load,
    /// The edge from this source into the system, with its call policy.
    pub edge: EdgeId,
}

#[derive(Clone, Debug)]
pub enum Load {
    /// Requests arrive regardless of how the system copes (open loop); with a
    /// shape, the rate varies in time (Poisson arrivals only).
    Open {
        interarrival: Dist,
        rate_per_second: f64,
        shape: Option<Shape>,
    },
    /// A fixed population of clients, each waiting for its response and then
    /// thinking before it sends the next request (closed loop).
    Closed { clients: u32, think_time: Dist },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    Fifo,
    Lifo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallMode {
    /// Downstream calls one after another; the first failure fails the request.
    Sequential,
    /// All downstream calls at once; the request succeeds when all do.
    Parallel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RoundRobin,
    Random,
    LeastOutstanding,
    PowerOfTwoChoices,
}

impl Strategy {
    pub const NAMES: [&'static str; 4] = [
        "round_robin",
        "random",
        "least_outstanding",
        "power_of_two_choices",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::RoundRobin => Self::NAMES[0],
            Strategy::Random => Self::NAMES[1],
            Strategy::LeastOutstanding => Self::NAMES[2],
            Strategy::PowerOfTwoChoices => Self::NAMES[3],
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub instances: u32,
    /// How calls addressed to the service are spread over its instances.
    pub balancing: Strategy,
    /// Workers per instance.
    pub workers: u32,
    /// Queue capacity per instance (requests waiting, not those in service).
    pub queue_capacity: u32,
    pub discipline: Discipline,
    pub service_time: Dist,
    pub error_rate: f64,
    pub call_mode: CallMode,
    pub calls: Vec<EdgeId>,
}

#[derive(Clone, Debug)]
pub struct BalancerSpec {
    pub name: String,
    pub strategy: Strategy,
    pub backends: Vec<ServiceId>,
}

/// A caller → target edge and the policy every call on it follows.
#[derive(Clone, Debug)]
pub struct EdgeSpec {
    pub caller: String,
    pub target: Target,
    pub target_name: String,
    pub policy: CallPolicy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallPolicy {
    /// The caller abandons an attempt after this long (Envoy's per_try_timeout).
    pub timeout_per_attempt: Option<SimDuration>,
    /// The whole call, retries included, fails after this long (a gRPC deadline).
    pub deadline: Option<SimDuration>,
    /// Attempts in all, the first included (gRPC and AWS SDK `max_attempts`).
    pub max_attempts: u32,
    pub retry_on: RetryOn,
    pub backoff: Backoff,
    pub jitter: Jitter,
}

impl CallPolicy {
    /// One attempt, no timeout: a plain call.
    pub fn single_attempt() -> CallPolicy {
        CallPolicy {
            timeout_per_attempt: None,
            deadline: None,
            max_attempts: 1,
            retry_on: RetryOn::ALL,
            backoff: Backoff::None,
            jitter: Jitter::None,
        }
    }
}

/// Which failures of an attempt are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn {
    pub error: bool,
    pub timeout: bool,
    pub rejected: bool,
}

impl RetryOn {
    pub const ALL: RetryOn = RetryOn {
        error: true,
        timeout: true,
        rejected: true,
    };
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backoff {
    None,
    Constant {
        delay: SimDuration,
    },
    /// base · multiplier^(retry − 1), capped at max (gRPC's retry policy).
    Exponential {
        base: SimDuration,
        multiplier: f64,
        max: SimDuration,
    },
}

/// Randomisation of the backoff delay, as in the AWS Architecture Blog's
/// "Exponential Backoff and Jitter".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// uniform(0, delay)
    Full,
    /// delay/2 + uniform(0, delay/2)
    Equal,
    /// min(max, uniform(base, 3 · previous delay))
    Decorrelated,
}

impl Scenario {
    pub fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Service(id) => &self.services[id as usize].name,
            Target::Balancer(id) => &self.balancers[id as usize].name,
        }
    }
}
