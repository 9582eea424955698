//! Choosing the instance that receives an attempt.
//!
//! Every target has a router: a service routes over its own instances, a
//! load balancer over the instances of all its backend services. Strategies
//! follow Envoy's: round robin, random, least outstanding requests (as the
//! balancer counts them: sent and not yet answered or abandoned), the power
//! of two random choices, weighted round robin and a consistent-hash ring on
//! the request key. Instances taken out (ejected, unhealthy) are skipped;
//! when all are out, all are used.

use crate::engine::RngStream;
use crate::scenario::spec::{Scenario, Strategy, Target};

use super::autoscale::Slot;
use super::health::RouterHealth;
use super::service::Instance;

/// The routing room: one router per service (ids `0..services`) then per
/// load balancer, each router's outlier ejection and health checks, and the
/// attempts each instance has been sent and not yet answered or abandoned
/// (what least-outstanding balancing reads).
pub(super) struct Routing {
    pub routers: Vec<Router>,
    /// Per router, its instance when it has exactly one (`MANY` when not):
    /// the most common case answered from a dense array, without reading
    /// the router or its list (two lines of memory each, for every
    /// attempt, in a scenario of many small services).
    sole_instance: Vec<u32>,
    pub health: Vec<RouterHealth>,
    /// Whether any router detects outliers: if none does, an answered
    /// attempt does not read its router's health to find that out.
    pub any_outliers: bool,
    pub outstanding: Vec<u32>,
    /// The number of services: balancers' routers come after theirs.
    service_count: usize,
}

impl Routing {
    pub fn new(scenario: &Scenario, instances: &[Instance]) -> Routing {
        let seed = scenario.seed;
        // Each service's instances, and its ready ones, in one pass: a scan
        // of every instance per service would be quadratic in the
        // scenario's size.
        let mut all_of: Vec<Vec<u32>> = vec![Vec::new(); scenario.services.len()];
        let mut ready_of = all_of.clone();
        for (index, instance) in instances.iter().enumerate() {
            all_of[instance.service as usize].push(index as u32);
            if matches!(instance.slot, Slot::Ready) {
                ready_of[instance.service as usize].push(index as u32);
            }
        }
        let mut routers = Vec::new();
        for (spec, ids) in scenario.services.iter().zip(ready_of) {
            routers.push(Router::new(
                ids,
                spec.balancing,
                Vec::new(),
                spec.routing.virtual_nodes,
                RngStream::derive(seed, &spec.name, "routing"),
            ));
        }
        for balancer in &scenario.balancers {
            // Only the weights that are not 1, by instance (the last
            // backend naming an instance wins): a balancer's memory grows
            // with its backends, not with the scenario.
            let mut weights = std::collections::BTreeMap::new();
            for (index, &backend) in balancer.backends.iter().enumerate() {
                let weight = balancer.routing.weights.get(index).copied().unwrap_or(1);
                for &instance in &all_of[backend as usize] {
                    weights.insert(instance, weight);
                }
            }
            let weight_of: Vec<(u32, u32)> = (weights.into_iter())
                .filter(|&(_, weight)| weight != 1)
                .collect();
            let ids = balancer
                .backends
                .iter()
                .flat_map(|&s| routers[s as usize].instances.clone())
                .collect();
            routers.push(Router::new(
                ids,
                balancer.strategy,
                weight_of,
                balancer.routing.virtual_nodes,
                RngStream::derive(seed, &balancer.name, "routing"),
            ));
        }
        let balancer_domains = scenario.balancers.iter().map(|balancer| {
            let mut domain: Vec<u32> = (balancer.backends.iter())
                .flat_map(|&backend| all_of[backend as usize].iter().copied())
                .collect();
            domain.sort_unstable();
            domain.dedup();
            (&balancer.routing, domain)
        });
        let health: Vec<RouterHealth> = (scenario.services.iter().map(|s| &s.routing))
            .zip(all_of.iter().cloned())
            .chain(balancer_domains)
            .map(|(options, domain)| RouterHealth::new(options, domain))
            .collect();
        Routing {
            sole_instance: routers.iter().map(Router::sole_instance).collect(),
            any_outliers: health.iter().any(|h| h.outliers.is_some()),
            routers,
            health,
            outstanding: vec![0; instances.len()],
            service_count: scenario.services.len(),
        }
    }

    /// The instance `router` sends the next attempt to (`key`: the
    /// request's, for consistent hashing).
    pub fn pick(&mut self, router: usize, key: u64) -> u32 {
        match self.sole_instance[router] {
            MANY => self.routers[router].pick(&self.outstanding, key),
            sole => sole,
        }
    }

    /// Replaces the instances `router` chooses among.
    pub fn set_instances(&mut self, router: usize, instances: Vec<u32>) {
        self.routers[router].set_instances(instances);
        self.sole_instance[router] = self.routers[router].sole_instance();
    }

    /// The router of a service or load balancer.
    pub fn router_of(&self, target: Target) -> usize {
        match target {
            Target::Service(id) => id as usize,
            Target::Balancer(id) => self.service_count + id as usize,
            _ => unreachable!("only services and load balancers are routed"),
        }
    }
}

/// In [`Routing::sole_instance`]: a router with no instance or several.
const MANY: u32 = u32::MAX;

pub struct Router {
    /// Global instance indices this router chooses among.
    pub instances: Vec<u32>,
    strategy: Strategy,
    next: usize,
    rng: RngStream,
    /// The weights that are not 1 (weighted round robin), as (global
    /// instance, weight) in instance order, and the running credit of
    /// smooth weighted round robin per position.
    weight_of: Vec<(u32, u32)>,
    credit: Vec<i64>,
    /// The consistent-hash ring: (point, position), sorted by point.
    ring: Vec<(u64, usize)>,
    virtual_nodes: u32,
    /// Whether each position may take traffic (not ejected, not unhealthy).
    available: Vec<bool>,
    unavailable: usize,
}

/// Keys are hashed apart from ring points: a ring point is the hash of
/// (instance << 32 | node), so without this key k would hash to exactly the
/// point of (instance 0, node k), and the most popular keys (0, 1, 2, …)
/// would all land on the first instance.
const KEY_DOMAIN: u64 = 0x6b65_7973_5f72_696e;

/// SplitMix64: a fast, well-mixed 64-bit hash for ring points and keys.
pub fn mix(x: u64) -> u64 {
    finalise(x.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

/// SplitMix64's finaliser alone, for inputs that are already spread out.
pub fn finalise(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Router {
    /// `weight_of`: (global instance, weight) in instance order for the
    /// weights that are not 1 (empty: all 1);
    /// `virtual_nodes` sizes the hash ring.
    pub fn new(
        instances: Vec<u32>,
        strategy: Strategy,
        weight_of: Vec<(u32, u32)>,
        virtual_nodes: u32,
        rng: RngStream,
    ) -> Router {
        let mut router = Router {
            instances: Vec::new(),
            strategy,
            next: 0,
            rng,
            weight_of,
            credit: Vec::new(),
            ring: Vec::new(),
            virtual_nodes,
            available: Vec::new(),
            unavailable: 0,
        };
        router.set_instances(instances);
        router
    }

    /// Routes over `instances` from now on (the ready instances changed).
    /// Weights follow instances by position; the ring is rebuilt from the
    /// instances' own ids, so an instance keeps its points.
    pub fn set_instances(&mut self, instances: Vec<u32>) {
        let count = instances.len();
        self.next %= count.max(1);
        self.credit = vec![0; count];
        self.available = vec![true; count];
        self.unavailable = 0;
        self.ring.clear();
        if self.strategy == Strategy::ConsistentHash {
            for (position, &instance) in instances.iter().enumerate() {
                for node in 0..self.virtual_nodes.max(1) {
                    let point = mix((u64::from(instance) << 32) | u64::from(node));
                    self.ring.push((point, position));
                }
            }
            self.ring.sort_unstable();
        }
        self.instances = instances;
    }

    /// The position of a global instance index, if this router routes to it.
    #[cfg(test)]
    pub fn position_of(&self, instance: u32) -> Option<usize> {
        self.instances.iter().position(|&i| i == instance)
    }

    /// Takes a position out of rotation or puts it back.
    pub fn set_available(&mut self, position: usize, available: bool) {
        if self.available[position] != available {
            self.available[position] = available;
            if available {
                self.unavailable -= 1;
            } else {
                self.unavailable += 1;
            }
        }
    }

    #[cfg(test)]
    pub fn unavailable_count(&self) -> usize {
        self.unavailable
    }

    /// Whether `position` may be chosen. When every instance is out, all are
    /// in again (Envoy's panic threshold): sending somewhere beats sending nowhere.
    fn usable(&self, position: usize) -> bool {
        self.available[position] || self.unavailable == self.instances.len()
    }

    /// Its only instance, or `MANY`.
    fn sole_instance(&self) -> u32 {
        match self.instances.as_slice() {
            [only] => *only,
            _ => MANY,
        }
    }

    /// The instance for the next attempt; `outstanding[i]` is instance i's
    /// load and `key` the request's key (for consistent hashing).
    pub fn pick(&mut self, outstanding: &[u32], key: u64) -> u32 {
        let count = self.instances.len();
        if count == 1 {
            return self.instances[0];
        }
        let index = match self.strategy {
            Strategy::RoundRobin => self.round_robin(),
            Strategy::Random => self.random(),
            Strategy::LeastOutstanding => self.least_outstanding(outstanding),
            Strategy::PowerOfTwoChoices => self.two_choices(outstanding),
            Strategy::WeightedRoundRobin => self.weighted(),
            Strategy::ConsistentHash => self.hashed(key),
        };
        self.instances[index]
    }

    fn round_robin(&mut self) -> usize {
        let count = self.instances.len();
        loop {
            let index = self.next;
            self.next = (self.next + 1) % count;
            if self.usable(index) {
                return index;
            }
        }
    }

    fn random(&mut self) -> usize {
        loop {
            let index = self.rng.below(self.instances.len() as u32) as usize;
            if self.usable(index) {
                return index;
            }
        }
    }

    /// The least loaded instance; the scan starts where round robin stands so
    /// that ties rotate instead of always favouring the first instance.
    fn least_outstanding(&mut self, outstanding: &[u32]) -> usize {
        let start = self.round_robin();
        let count = self.instances.len();
        (0..count)
            .map(|offset| (start + offset) % count)
            .filter(|&index| self.usable(index))
            .min_by_key(|&index| outstanding[self.instances[index] as usize])
            .unwrap_or(start)
    }

    /// Two distinct random instances; the less loaded wins, the first on a tie.
    fn two_choices(&mut self, outstanding: &[u32]) -> usize {
        let count = self.instances.len() as u32;
        let first = self.random() as u32;
        let mut second = (first + 1 + self.rng.below(count - 1)) % count;
        if !self.usable(second as usize) {
            second = first;
        }
        let load = |index: u32| outstanding[self.instances[index as usize] as usize];
        if load(second) < load(first) {
            second as usize
        } else {
            first as usize
        }
    }

    /// Smooth weighted round robin: every usable instance gains its weight,
    /// the richest is chosen and pays the total.
    fn weighted(&mut self) -> usize {
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for index in 0..self.instances.len() {
            if !self.usable(index) {
                continue;
            }
            let instance = self.instances[index];
            let weight = match self.weight_of.binary_search_by_key(&instance, |&(i, _)| i) {
                Ok(at) => i64::from(self.weight_of[at].1),
                Err(_) => 1,
            };
            self.credit[index] += weight;
            total += weight;
            if best.is_none_or(|b| self.credit[index] > self.credit[b]) {
                best = Some(index);
            }
        }
        let chosen = best.unwrap_or(0);
        self.credit[chosen] -= total;
        chosen
    }

    /// The first usable ring point at or after the key's hash.
    fn hashed(&self, key: u64) -> usize {
        let point = mix(key ^ KEY_DOMAIN);
        let start = self.ring.partition_point(|&(p, _)| p < point);
        let count = self.ring.len();
        (0..count)
            .map(|offset| self.ring[(start + offset) % count].1)
            .find(|&position| self.usable(position))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(strategy: Strategy) -> Router {
        Router::new(
            vec![10, 11, 12],
            strategy,
            Vec::new(),
            100,
            RngStream::derive(1, "lb", "routing"),
        )
    }

    /// A router with one instance is answered from the dense array, which
    /// follows the router when autoscaling changes its instances.
    #[test]
    fn a_sole_instance_is_picked_and_follows_its_router() {
        let mut routing = Routing {
            sole_instance: vec![MANY],
            routers: vec![router(Strategy::RoundRobin)],
            health: Vec::new(),
            any_outliers: false,
            outstanding: vec![0; 13],
            service_count: 1,
        };
        let picks: Vec<u32> = (0..3).map(|_| routing.pick(0, 0)).collect();
        assert_eq!(picks, vec![10, 11, 12]);
        routing.set_instances(0, vec![12]);
        assert_eq!(routing.sole_instance, vec![12]);
        assert_eq!(routing.pick(0, 0), 12);
        routing.set_instances(0, vec![10, 11]);
        assert_eq!(routing.sole_instance, vec![MANY]);
        let mut picks: Vec<u32> = (0..2).map(|_| routing.pick(0, 0)).collect();
        picks.sort_unstable();
        assert_eq!(picks, vec![10, 11]);
    }

    #[test]
    fn round_robin_cycles() {
        let mut lb = router(Strategy::RoundRobin);
        let outstanding = vec![0; 13];
        let picks: Vec<u32> = (0..6).map(|_| lb.pick(&outstanding, 0)).collect();
        assert_eq!(picks, vec![10, 11, 12, 10, 11, 12]);
    }

    #[test]
    fn least_outstanding_picks_the_idlest_and_rotates_ties() {
        let mut lb = router(Strategy::LeastOutstanding);
        let mut outstanding = vec![0; 13];
        outstanding[10] = 5;
        outstanding[11] = 1;
        outstanding[12] = 3;
        assert_eq!(lb.pick(&outstanding, 0), 11);
        let ties = vec![0; 13];
        let picks: Vec<u32> = (0..3).map(|_| lb.pick(&ties, 0)).collect();
        assert_eq!(picks, vec![11, 12, 10]);
    }

    #[test]
    fn two_choices_never_picks_the_busiest_of_three() {
        let mut lb = router(Strategy::PowerOfTwoChoices);
        let mut outstanding = vec![0; 13];
        outstanding[10] = 9;
        outstanding[11] = 1;
        outstanding[12] = 2;
        assert!((0..1_000).all(|_| lb.pick(&outstanding, 0) != 10));
    }

    #[test]
    fn random_spreads_evenly() {
        let mut lb = router(Strategy::Random);
        let outstanding = vec![0; 13];
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[(lb.pick(&outstanding, 0) - 10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn weighted_round_robin_follows_the_weights_smoothly() {
        let mut lb = Router::new(
            vec![0, 1],
            Strategy::WeightedRoundRobin,
            vec![(0, 3)],
            1,
            RngStream::derive(1, "lb", "routing"),
        );
        let outstanding = vec![0; 2];
        let picks: Vec<u32> = (0..8).map(|_| lb.pick(&outstanding, 0)).collect();
        assert_eq!(picks, vec![0, 0, 1, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn unavailable_instances_are_skipped_until_all_are_out() {
        let mut lb = router(Strategy::RoundRobin);
        let outstanding = vec![0; 13];
        lb.set_available(1, false);
        let picks: Vec<u32> = (0..4).map(|_| lb.pick(&outstanding, 0)).collect();
        assert_eq!(picks, vec![10, 12, 10, 12]);
        lb.set_available(0, false);
        lb.set_available(2, false);
        assert_eq!(lb.unavailable_count(), 3);
        // Everyone out: everyone in (panic mode).
        let picks: Vec<u32> = (0..3).map(|_| lb.pick(&outstanding, 0)).collect();
        assert_eq!(picks.len(), 3);
    }

    /// The same key always reaches the same instance, and when one of N
    /// leaves, only its keys (about 1/N) move.
    #[test]
    fn consistent_hashing_is_sticky_and_moves_about_one_in_n_keys() {
        let count = 10u32;
        let mut lb = Router::new(
            (0..count).collect(),
            Strategy::ConsistentHash,
            Vec::new(),
            200,
            RngStream::derive(1, "lb", "routing"),
        );
        let outstanding = vec![0; count as usize];
        let keys = 20_000u64;
        let before: Vec<u32> = (0..keys).map(|k| lb.pick(&outstanding, k)).collect();
        let again: Vec<u32> = (0..keys).map(|k| lb.pick(&outstanding, k)).collect();
        assert_eq!(before, again);
        let position = lb.position_of(3).unwrap();
        lb.set_available(position, false);
        let after: Vec<u32> = (0..keys).map(|k| lb.pick(&outstanding, k)).collect();
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(after.iter().all(|&i| i != 3));
        // Exactly the keys that were on instance 3 moved: about 1/10 of them.
        let on_three = before.iter().filter(|&&i| i == 3).count();
        assert_eq!(moved, on_three);
        let share = moved as f64 / keys as f64;
        assert!((0.07..0.13).contains(&share), "{share}");
    }

    /// Small keys (the most popular under Zipf) spread over the ring like
    /// any others: no instance holds more than twice its share of the
    /// first hundred keys, or of the first thousand.
    #[test]
    fn the_most_popular_keys_spread_over_the_ring() {
        let count = 8u32;
        let mut lb = Router::new(
            (0..count).collect(),
            Strategy::ConsistentHash,
            Vec::new(),
            100,
            RngStream::derive(1, "lb", "routing"),
        );
        let outstanding = vec![0; count as usize];
        for keys in [100u64, 1000] {
            let mut per_instance = vec![0u64; count as usize];
            for key in 0..keys {
                per_instance[lb.pick(&outstanding, key) as usize] += 1;
            }
            let fair = keys / u64::from(count);
            assert!(
                per_instance.iter().all(|&n| n <= 2 * fair),
                "{keys} keys: {per_instance:?}"
            );
        }
    }
}
