//! The entries of one cache: bounded capacity, LRU, LFU or FIFO eviction, and
//! a time to live per entry.
//!
//! Entries live in an ordered map and the eviction order in an ordered set of
//! (priority, tiebreak, key), so every operation is O(log n) and the victim
//! is always the same for the same history: no hash-map order anywhere.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::SimTime;
use crate::scenario::spec::Eviction;

#[derive(Clone, Copy, Debug)]
struct Entry {
    filled_at: SimTime,
    expires_at: SimTime,
    /// Its place in the eviction order.
    rank: (u64, u64),
}

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Fresh,
    /// Past its TTL by no more than the stale window: servable while refreshed.
    Stale,
    Missing,
}

pub struct CacheStore {
    capacity: usize,
    eviction: Eviction,
    entries: BTreeMap<u64, Entry>,
    order: BTreeSet<(u64, u64, u64)>,
    /// A counter that orders uses and insertions.
    clock: u64,
    frequency: BTreeMap<u64, u64>,
    pub evictions: u64,
    pub expirations: u64,
}

impl CacheStore {
    pub fn new(capacity: u32, eviction: Eviction) -> CacheStore {
        CacheStore {
            capacity: capacity as usize,
            eviction,
            entries: BTreeMap::new(),
            order: BTreeSet::new(),
            clock: 0,
            frequency: BTreeMap::new(),
            evictions: 0,
            expirations: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Looks `key` up at `now`; a hit counts as a use for LRU and LFU, and
    /// with `refresh_ttl` starts the entry's time to live again. An entry
    /// past its stale window is removed (an expiration).
    #[cfg(test)]
    pub fn lookup(
        &mut self,
        key: u64,
        now: SimTime,
        stale_window: crate::engine::SimDuration,
        refresh_ttl: Option<crate::engine::SimDuration>,
    ) -> Lookup {
        self.lookup_aged(key, now, stale_window, refresh_ttl).0
    }

    /// Like [`CacheStore::lookup`], with when the entry found was filled.
    pub fn lookup_aged(
        &mut self,
        key: u64,
        now: SimTime,
        stale_window: crate::engine::SimDuration,
        refresh_ttl: Option<crate::engine::SimDuration>,
    ) -> (Lookup, SimTime) {
        let Some(entry) = self.entries.get(&key).copied() else {
            return (Lookup::Missing, now);
        };
        if now >= entry.expires_at + stale_window {
            self.remove(key);
            self.expirations += 1;
            return (Lookup::Missing, now);
        }
        let fresh = now < entry.expires_at;
        self.touch(key, entry);
        if let (true, Some(ttl)) = (fresh, refresh_ttl)
            && let Some(entry) = self.entries.get_mut(&key)
        {
            entry.expires_at = now + ttl;
        }
        let found = if fresh { Lookup::Fresh } else { Lookup::Stale };
        (found, entry.filled_at)
    }

    /// Stores `key`, filled at `filled_at`, until `expires_at`, evicting by
    /// policy if full.
    pub fn insert(&mut self, key: u64, filled_at: SimTime, expires_at: SimTime) {
        if self.capacity == 0 {
            return;
        }
        if let Some(entry) = self.entries.get(&key).copied() {
            self.order.remove(&(entry.rank.0, entry.rank.1, key));
            self.entries.remove(&key);
        } else if self.entries.len() >= self.capacity
            && let Some(&(_, _, victim)) = self.order.first()
        {
            self.remove(victim);
            self.evictions += 1;
        }
        self.clock += 1;
        let rank = match self.eviction {
            Eviction::Lfu => (self.bump_frequency(key), self.clock),
            _ => (self.clock, 0),
        };
        self.order.insert((rank.0, rank.1, key));
        self.entries.insert(
            key,
            Entry {
                filled_at,
                expires_at,
                rank,
            },
        );
    }

    /// Empties the cache (a flush or a restart).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.frequency.clear();
    }

    fn touch(&mut self, key: u64, entry: Entry) {
        let rank = match self.eviction {
            Eviction::Fifo => return,
            Eviction::Lru => {
                self.clock += 1;
                (self.clock, 0)
            }
            Eviction::Lfu => {
                self.clock += 1;
                (self.bump_frequency(key), self.clock)
            }
        };
        self.order.remove(&(entry.rank.0, entry.rank.1, key));
        self.order.insert((rank.0, rank.1, key));
        if let Some(stored) = self.entries.get_mut(&key) {
            stored.rank = rank;
        }
    }

    fn bump_frequency(&mut self, key: u64) -> u64 {
        let count = self.frequency.entry(key).or_insert(0);
        *count += 1;
        *count
    }

    fn remove(&mut self, key: u64) {
        if let Some(entry) = self.entries.remove(&key) {
            self.order.remove(&(entry.rank.0, entry.rank.1, key));
            self.frequency.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    const NEVER: SimTime = SimTime::MAX;
    const NO_STALE: SimDuration = SimDuration::ZERO;

    fn fill(store: &mut CacheStore, keys: &[u64]) {
        for &key in keys {
            store.insert(key, SimTime(0), NEVER);
        }
    }

    #[test]
    fn each_policy_evicts_its_own_victim() {
        let now = SimTime(0);
        // Insert 1, 2, 3; use 1 twice and 3 once; insert 4 into a full cache of 3.
        let cases = [(Eviction::Lru, 2), (Eviction::Fifo, 1), (Eviction::Lfu, 2)];
        for (eviction, victim) in cases {
            let mut store = CacheStore::new(3, eviction);
            fill(&mut store, &[1, 2, 3]);
            store.lookup(1, now, NO_STALE, None);
            store.lookup(1, now, NO_STALE, None);
            store.lookup(3, now, NO_STALE, None);
            store.insert(4, SimTime(0), NEVER);
            assert_eq!(store.len(), 3);
            assert_eq!(
                store.lookup(victim, now, NO_STALE, None),
                Lookup::Missing,
                "{eviction:?}"
            );
            assert_eq!(store.evictions, 1);
        }
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let mut store = CacheStore::new(50, Eviction::Lru);
        for key in 0..10_000u64 {
            store.insert(key % 977, SimTime(0), NEVER);
            assert!(store.len() <= 50);
        }
    }

    #[test]
    fn entries_expire_then_serve_stale_within_the_window() {
        let mut store = CacheStore::new(10, Eviction::Lru);
        store.insert(7, SimTime(0), SimTime(100));
        let window = SimDuration(50);
        assert_eq!(store.lookup(7, SimTime(99), window, None), Lookup::Fresh);
        assert_eq!(store.lookup(7, SimTime(100), window, None), Lookup::Stale);
        assert_eq!(store.lookup(7, SimTime(150), window, None), Lookup::Missing);
        assert_eq!(store.expirations, 1);
        store.insert(8, SimTime(0), SimTime(100));
        assert_eq!(
            store.lookup(8, SimTime(100), NO_STALE, None),
            Lookup::Missing
        );
    }

    #[test]
    fn a_hit_can_refresh_the_ttl() {
        let mut store = CacheStore::new(10, Eviction::Lru);
        let ttl = SimDuration(100);
        store.insert(1, SimTime(0), SimTime(100));
        assert_eq!(
            store.lookup(1, SimTime(90), NO_STALE, Some(ttl)),
            Lookup::Fresh
        );
        assert_eq!(store.lookup(1, SimTime(180), NO_STALE, None), Lookup::Fresh);
    }
}
