//! Choosing the instance that receives an attempt.
//!
//! Every target has a router: a service routes over its own instances, a
//! load balancer over the instances of all its backend services. Strategies
//! follow Envoy's: round robin, random, least outstanding requests (as the
//! balancer counts them: sent and not yet answered or abandoned), and the
//! power of two random choices.

use crate::engine::RngStream;
use crate::scenario::spec::Strategy;

pub struct Router {
    /// Global instance indices this router chooses among.
    pub instances: Vec<u32>,
    strategy: Strategy,
    next: usize,
    rng: RngStream,
}

impl Router {
    pub fn new(instances: Vec<u32>, strategy: Strategy, rng: RngStream) -> Router {
        Router {
            instances,
            strategy,
            next: 0,
            rng,
        }
    }

    /// Routes over `instances` from now on (the ready instances changed).
    pub fn set_instances(&mut self, instances: Vec<u32>) {
        self.next %= instances.len().max(1);
        self.instances = instances;
    }

    /// The instance for the next attempt; `outstanding[i]` is instance i's load.
    pub fn pick(&mut self, outstanding: &[u32]) -> u32 {
        let count = self.instances.len();
        if count == 1 {
            return self.instances[0];
        }
        let index = match self.strategy {
            Strategy::RoundRobin => self.round_robin(),
            Strategy::Random => self.rng.below(count as u32) as usize,
            Strategy::LeastOutstanding => self.least_outstanding(outstanding),
            Strategy::PowerOfTwoChoices => self.two_choices(outstanding),
        };
        self.instances[index]
    }

    fn round_robin(&mut self) -> usize {
        let index = self.next;
        self.next = (self.next + 1) % self.instances.len();
        index
    }

    /// The least loaded instance; the scan starts where round robin stands so
    /// that ties rotate instead of always favouring the first instance.
    fn least_outstanding(&mut self, outstanding: &[u32]) -> usize {
        let start = self.round_robin();
        let count = self.instances.len();
        (0..count)
            .map(|offset| (start + offset) % count)
            .min_by_key(|&index| outstanding[self.instances[index] as usize])
            .unwrap_or(start)
    }

    /// Two distinct random instances; the less loaded wins, the first on a tie.
    fn two_choices(&mut self, outstanding: &[u32]) -> usize {
        let count = self.instances.len() as u32;
        let first = self.rng.below(count);
        let second = (first + 1 + self.rng.below(count - 1)) % count;
        let load = |index: u32| outstanding[self.instances[index as usize] as usize];
        if load(second) < load(first) {
            second as usize
        } else {
            first as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(strategy: Strategy) -> Router {
        Router::new(
            vec![10, 11, 12],
            strategy,
            RngStream::derive(1, "lb", "routing"),
        )
    }

    #[test]
    fn round_robin_cycles() {
        let mut lb = router(Strategy::RoundRobin);
        let outstanding = vec![0; 13];
        let picks: Vec<u32> = (0..6).map(|_| lb.pick(&outstanding)).collect();
        assert_eq!(picks, vec![10, 11, 12, 10, 11, 12]);
    }

    #[test]
    fn least_outstanding_picks_the_idlest_and_rotates_ties() {
        let mut lb = router(Strategy::LeastOutstanding);
        let mut outstanding = vec![0; 13];
        outstanding[10] = 5;
        outstanding[11] = 1;
        outstanding[12] = 3;
        assert_eq!(lb.pick(&outstanding), 11);
        let ties = vec![0; 13];
        let picks: Vec<u32> = (0..3).map(|_| lb.pick(&ties)).collect();
        assert_eq!(picks, vec![11, 12, 10]);
    }

    #[test]
    fn two_choices_never_picks_the_busiest_of_three() {
        let mut lb = router(Strategy::PowerOfTwoChoices);
        let mut outstanding = vec![0; 13];
        outstanding[10] = 9;
        outstanding[11] = 1;
        outstanding[12] = 2;
        assert!((0..1_000).all(|_| lb.pick(&outstanding) != 10));
    }

    #[test]
    fn random_spreads_evenly() {
        let mut lb = router(Strategy::Random);
        let outstanding = vec![0; 13];
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[(lb.pick(&outstanding) - 10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
