//! Validating caches: where they sit, how they decide hits, and the policy
//! of the calls they make on a miss.
//!
//! A cache either keeps real entries (capacity, eviction, time to live) or,
//! for a quick sketch, hits with a fixed probability; keys that belong to
//! the other mode are errors.

use crate::engine::{Dist, SimDuration};
use crate::scenario::raw::{RawCache, RawScenario, Text};
use crate::scenario::spec::{CacheLookup, CacheSpec, Eviction, Target};
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::{Checker, MAX_DURATION, keyword, positive_duration, words};

impl Checker {
    /// Caches share the namespace of services and load balancers.
    pub(super) fn collect_cache_names(&mut self, raw: &RawScenario) {
        let caches = raw.caches.iter().flat_map(|c| c.iter());
        for (index, (name, body)) in caches.enumerate() {
            self.check_name(name, "caches", position_of(body));
            if self.targets.contains_key(name) {
                self.error(
                    Some(position_of(body)),
                    &format!("caches.{name}"),
                    format!("`{name}` is already the name of a service or load balancer; names must be unique"),
                );
            }
            self.targets
                .entry(name.clone())
                .or_insert(Target::Cache(index as u32));
        }
    }

    pub(super) fn caches(&mut self, raw: &RawScenario) -> Vec<CacheSpec> {
        let caches = raw.caches.iter().flat_map(|c| c.iter());
        caches
            .filter_map(|(name, body)| self.cache(name, body))
            .collect()
    }

    fn cache(&mut self, name: &str, body: &Spanned<RawCache>) -> Option<CacheSpec> {
        let path = format!("caches.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let target_path = format!("{path}.target");
        let target_name = self.required(&raw.target, &target_path, at, |t| Ok(t.to_string()));
        let target = raw
            .target
            .as_ref()
            .and_then(|t| self.resolve(t, &target_path));
        let policy = self.policy(policy_keys!(raw), &path);
        let lookup = self.lookup(raw, &path);
        let flag = |checker: &mut Checker, text: &Option<Text>, key: &str| {
            checker.or(text, &format!("{path}.{key}"), false, units::parse_bool)
        };
        let coalescing = flag(self, &raw.coalescing, "coalescing");
        let warm = self.or(&raw.start, &format!("{path}.start"), false, |t| {
            keyword(t, "cache start", &words::CACHE_STARTS).map(|s| s == "warm")
        });
        let stale_while_revalidate = self.or(
            &raw.stale_while_revalidate,
            &format!("{path}.stale_while_revalidate"),
            SimDuration::ZERO,
            units::parse_duration,
        );
        let hit_latency = self.or(
            &raw.hit_latency,
            &format!("{path}.hit_latency"),
            Dist::Constant { value: 500_000.0 },
            units::parse_dist,
        );
        if let (Some(Target::Queue(_) | Target::Topic(_)), Some(text)) = (target, &raw.target) {
            self.error(
                Some(position_of(text)),
                &target_path,
                format!(
                    "`{}` is a queue or topic; a cache sits in front of a service or load balancer",
                    text.value
                ),
            );
            return None;
        }
        let backend_edge = self.add_edge(name, target?, target_name?, policy);
        Some(CacheSpec {
            name: name.to_string(),
            backend_edge,
            lookup,
            hit_latency,
            warm,
            coalescing,
            stale_while_revalidate,
        })
    }

    /// Real entries, or a fixed hit ratio; never a mixture of their keys.
    fn lookup(&mut self, raw: &RawCache, path: &str) -> CacheLookup {
        if let Some(text) = &raw.hit_ratio {
            let entry_keys = [
                ("capacity", &raw.capacity),
                ("eviction", &raw.eviction),
                ("ttl", &raw.ttl),
                ("refresh_on_hit", &raw.refresh_on_hit),
                ("start", &raw.start),
                ("stale_while_revalidate", &raw.stale_while_revalidate),
            ];
            for (key, value) in entry_keys {
                if let Some(value) = value {
                    self.error(Some(position_of(value)), &format!("{path}.{key}"), format!("`{key}` describes real entries; with `hit_ratio` the cache only draws hits at random: use one or the other"));
                }
            }
            let ratio = self
                .parse(text, &format!("{path}.hit_ratio"), units::parse_probability)
                .unwrap_or(0.0);
            return CacheLookup::HitRatio(ratio);
        }
        let capacity = self.or(&raw.capacity, &format!("{path}.capacity"), 10_000, |t| {
            units::parse_count(t, 1, 100_000_000)
        }) as u32;
        let eviction = self.or(
            &raw.eviction,
            &format!("{path}.eviction"),
            Eviction::Lru,
            |t| {
                Ok(match keyword(t, "eviction policy", &words::EVICTIONS)? {
                    "lfu" => Eviction::Lfu,
                    "fifo" => Eviction::Fifo,
                    _ => Eviction::Lru,
                })
            },
        );
        let ttl = raw.ttl.as_ref().and_then(|t| {
            self.parse(t, &format!("{path}.ttl"), |t| {
                positive_duration(t, MAX_DURATION)
            })
        });
        let refresh_on_hit = self.or(
            &raw.refresh_on_hit,
            &format!("{path}.refresh_on_hit"),
            false,
            units::parse_bool,
        );
        if let (None, Some(text)) = (ttl, &raw.stale_while_revalidate) {
            self.error(
                Some(position_of(text)),
                &format!("{path}.stale_while_revalidate"),
                "entries without a `ttl` never go stale: set `ttl` too",
            );
        }
        CacheLookup::Entries {
            capacity,
            eviction,
            ttl,
            refresh_on_hit,
        }
    }
}
