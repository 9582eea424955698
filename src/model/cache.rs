//! Caches in front of a target: hits, misses, fills, request coalescing and
//! stale-while-revalidate.
//!
//! An attempt addressed to a cache never reaches an instance. A fresh entry
//! (or a fixed-ratio hit) answers after the hit latency. A miss calls the
//! backend over the cache's own edge, with that edge's policy, and the
//! answer fills the entry; with coalescing, misses for a key already being
//! fetched wait for that one call (single flight). A stale entry within the
//! stale window is served at once while one background call refreshes it.
//! A flush fault empties the cache and keeps it from storing for a while.

use std::collections::BTreeMap;

use crate::engine::{RngStream, SimDuration, SimTime};
use crate::model::metrics::Failure;
use slotmap::SlotMap;

use crate::scenario::spec::{CacheLookup, CacheSpec, Scenario};

use super::cache_store::{CacheStore, Lookup};
use super::call::NO_SOURCE;
use super::event::{AttemptKey, FillKey};
use super::sim::Owner;
use super::sim::Simulation;
use super::trace::{MarkKind, TraceRef};

/// One cache's running state.
/// The caches room: each cache's store and the backend fills in progress.
pub(super) struct Caches {
    pub states: Vec<CacheState>,
    pub fills: SlotMap<FillKey, Fill>,
}

impl Caches {
    pub fn new(scenario: &Scenario) -> Caches {
        Caches {
            states: scenario
                .caches
                .iter()
                .map(|c| CacheState::new(scenario.seed, c))
                .collect(),
            fills: SlotMap::with_key(),
        }
    }
}

pub(super) struct CacheState {
    pub store: Option<CacheStore>,
    pub hit_rng: RngStream,
    pub latency_rng: RngStream,
    /// The fill in progress for each key being fetched.
    pub in_flight: BTreeMap<u64, FillKey>,
    /// Flush faults active now: nothing is stored or found meanwhile.
    pub flushing: u32,
    /// Store counters at the end of warm-up, for windowed statistics.
    pub evictions_at_warmup: u64,
    pub expirations_at_warmup: u64,
}

/// A backend call filling one key, and the requests waiting for it.
pub(super) struct Fill {
    pub cache: u32,
    pub key: u64,
    /// Waiting attempts and when each arrived at the cache.
    pub waiters: Vec<(AttemptKey, SimTime)>,
}

impl CacheState {
    pub fn new(seed: u64, spec: &CacheSpec) -> CacheState {
        let mut state = CacheState {
            store: match spec.lookup {
                CacheLookup::Entries {
                    capacity, eviction, ..
                } => Some(CacheStore::new(capacity, eviction)),
                CacheLookup::HitRatio(_) => None,
            },
            hit_rng: RngStream::derive(seed, &spec.name, "hits"),
            latency_rng: RngStream::derive(seed, &spec.name, "hit_latency"),
            in_flight: BTreeMap::new(),
            flushing: 0,
            evictions_at_warmup: 0,
            expirations_at_warmup: 0,
        };
        if spec.warm {
            state.warm_up(seed, spec);
        }
        state
    }

    /// Fills the most popular keys (0, 1, … under Zipf), with expiries spread
    /// over one TTL, as a cache that has been running for a while would be.
    fn warm_up(&mut self, seed: u64, spec: &CacheSpec) {
        let (Some(store), CacheLookup::Entries { capacity, ttl, .. }) =
            (&mut self.store, spec.lookup)
        else {
            return;
        };
        let mut rng = RngStream::derive(seed, &spec.name, "warm_start");
        for key in 0..u64::from(capacity) {
            let expires_at = ttl.map_or(SimTime::MAX, |ttl| {
                SimTime::ZERO + SimDuration::from_nanos_f64(ttl.as_nanos() as f64 * rng.uniform())
            });
            store.insert(key, SimTime::ZERO, expires_at);
        }
    }
}

impl Simulation<'_> {
    /// An attempt reaches a cache.
    pub(super) fn cache_request(&mut self, cache: u32, attempt: AttemptKey, key: u64) {
        let scenario = self.kernel.scenario;
        let spec = &scenario.caches[cache as usize];
        let state = &mut self.caches.states[cache as usize];
        let (found, filled_at) = match (state.flushing > 0, spec.lookup) {
            (true, _) => (Lookup::Missing, self.kernel.now),
            (false, CacheLookup::HitRatio(ratio)) if state.hit_rng.chance(ratio) => {
                (Lookup::Fresh, self.kernel.now)
            }
            (false, CacheLookup::HitRatio(_)) => (Lookup::Missing, self.kernel.now),
            (
                false,
                CacheLookup::Entries {
                    ttl,
                    refresh_on_hit,
                    ..
                },
            ) => {
                let refresh = ttl.filter(|_| refresh_on_hit);
                let store = state.store.as_mut().expect("entry caches have a store");
                store.lookup_aged(key, self.kernel.now, spec.stale_while_revalidate, refresh)
            }
        };
        let hit = found != Lookup::Missing;
        let mark = match hit {
            true => MarkKind::CacheHit { cache },
            false => MarkKind::CacheMiss { cache },
        };
        self.mark_attempt(attempt, mark);
        let state = &mut self.caches.states[cache as usize];
        self.recorder.running.cache_requests[cache as usize] += 1;
        self.recorder.running.cache_hits[cache as usize] += u64::from(hit);
        let latency = hit
            .then(|| SimDuration::from_nanos_f64(spec.hit_latency.sample(&mut state.latency_rng)));
        if self.kernel.in_window(self.kernel.now) {
            let metrics = &mut self.recorder.metrics.caches[cache as usize];
            metrics.requests += 1;
            metrics.hits += u64::from(hit);
            metrics.stale_hits += u64::from(found == Lookup::Stale);
            if let Some(latency) = latency {
                metrics.hit_latency.record(latency);
                metrics.hit_age.record(self.kernel.now - filled_at);
            }
        }
        match (found, latency) {
            (Lookup::Missing, _) | (_, None) => {
                self.fetch(cache, key, Some((attempt, self.kernel.now)))
            }
            (Lookup::Fresh, Some(latency)) => {
                self.answer_at(self.kernel.now + latency, attempt, Ok(()));
            }
            (Lookup::Stale, Some(latency)) => {
                self.answer_at(self.kernel.now + latency, attempt, Ok(()));
                self.fetch(cache, key, None);
            }
        }
    }

    /// Fetches `key` from the backend for `waiter`, or in the background
    /// when `waiter` is `None`. Background refreshes are always single-flight;
    /// misses are when the cache coalesces.
    fn fetch(&mut self, cache: u32, key: u64, waiter: Option<(AttemptKey, SimTime)>) {
        let scenario = self.kernel.scenario;
        let spec = &scenario.caches[cache as usize];
        let single_flight = spec.coalescing || waiter.is_none();
        let measured = self.kernel.in_window(self.kernel.now);
        let state = &mut self.caches.states[cache as usize];
        if single_flight && let Some(&fill) = state.in_flight.get(&key) {
            if let (Some(waiter), Some(fill)) = (waiter, self.caches.fills.get_mut(fill)) {
                fill.waiters.push(waiter);
                if measured {
                    self.recorder.metrics.caches[cache as usize].coalesced += 1;
                }
            }
            return;
        }
        let fill = self.caches.fills.insert(Fill {
            cache,
            key,
            waiters: waiter.into_iter().collect(),
        });
        if single_flight {
            self.caches.states[cache as usize]
                .in_flight
                .insert(key, fill);
        }
        self.recorder.running.cache_fills[cache as usize] += 1;
        if measured {
            self.recorder.metrics.caches[cache as usize].backend_calls += 1;
        }
        let origin = waiter.map_or(NO_SOURCE, |(attempt, _)| self.origin_of(attempt));
        // The fill a traced miss starts is part of its request's life.
        let parent = waiter.map_or(TraceRef::NONE, |(attempt, _)| {
            self.trace_of_attempt(attempt)
        });
        self.start_traced_call(
            Owner::Fill(fill),
            spec.backend_edge,
            (key, origin),
            SimTime::MAX,
            parent,
        );
    }

    /// The backend answered a fill: store the entry, answer the waiters.
    pub(super) fn on_fill_finished(&mut self, fill_key: FillKey, result: Result<(), Failure>) {
        let Some(fill) = self.caches.fills.remove(fill_key) else {
            return;
        };
        let cache = fill.cache as usize;
        let scenario = self.kernel.scenario;
        let spec = &scenario.caches[cache];
        let state = &mut self.caches.states[cache];
        if state.in_flight.get(&fill.key) == Some(&fill_key) {
            state.in_flight.remove(&fill.key);
        }
        if let (Ok(()), 0, Some(store), CacheLookup::Entries { ttl, .. }) =
            (result, state.flushing, &mut state.store, spec.lookup)
        {
            let expires_at = ttl.map_or(SimTime::MAX, |ttl| self.kernel.now + ttl);
            store.insert(fill.key, self.kernel.now, expires_at);
        }
        let answer = result.map_err(|_| Failure::Error);
        if result.is_err() && self.kernel.measuring {
            self.recorder.metrics.caches[cache].backend_failures += 1;
        }
        for (attempt, arrived_at) in fill.waiters {
            // Miss latency is that of misses answered with the data.
            if result.is_ok()
                && self.kernel.in_window(arrived_at)
                && self.calls.attempts.contains_key(attempt)
            {
                self.recorder.metrics.caches[cache]
                    .miss_latency
                    .record(self.kernel.now - arrived_at);
            }
            self.answer(attempt, answer);
        }
    }

    /// A flush fault starts: the cache is emptied and stores nothing until it ends.
    pub(super) fn flush_cache(&mut self, cache: u32, starting: bool) {
        let state = &mut self.caches.states[cache as usize];
        if starting {
            state.flushing += 1;
            if let Some(store) = &mut state.store {
                store.clear();
            }
        } else {
            state.flushing -= 1;
        }
    }

    /// Store counters at the end of warm-up, so the statistics can subtract them.
    pub(super) fn cache_counters_at_warmup(&mut self) {
        for state in &mut self.caches.states {
            if let Some(store) = &state.store {
                state.evictions_at_warmup = store.evictions;
                state.expirations_at_warmup = store.expirations;
            }
        }
    }

    /// Closes the windowed store counters at the end of the run.
    pub(super) fn finish_caches(&mut self) {
        for (state, metrics) in self
            .caches
            .states
            .iter()
            .zip(&mut self.recorder.metrics.caches)
        {
            if let Some(store) = &state.store {
                metrics.evictions = store.evictions - state.evictions_at_warmup;
                metrics.expirations = store.expirations - state.expirations_at_warmup;
                metrics.entries_at_end = store.len() as u64;
            }
        }
    }
}
