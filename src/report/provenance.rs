//! Where a report's numbers come from: the stampede version, the schema, the
//! seed and a hash of the scenario as it was run.
//!
//! The scenario hash is the SHA-256 of a canonical serialization of the
//! resolved document (the file after its variant's and sweep point's
//! overrides): object keys sorted, no whitespace, numbers as serde_json
//! writes them, so the same document gives the same hash on every machine
//! and in every run. The `seed` key is left out of the hash because the seed
//! is recorded beside it: two runs of one scenario with different seeds share
//! a hash and differ only in `seed`, which is how `diff` tells a seed change
//! from a scenario change. Nothing here depends on the clock, the machine or
//! a path.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::scenario::Scenario;

/// The version of the JSON outputs; bump it when any of them changes shape.
pub const SCHEMA_VERSION: u32 = 8;

/// The `provenance` object of every JSON output.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Provenance {
    pub stampede_version: String,
    pub schema_version: u32,
    /// The seed of the run, or the root seed of a compare or sweep (each
    /// replication's seed is derived from it).
    pub seed: u64,
    /// Hex SHA-256 of the resolved scenario without its seed; for a compare
    /// or sweep, of the list of its runs' names and hashes (`runs`).
    pub scenario_sha256: String,
    /// The resolved scenario document, with the seed the run used (a
    /// summary only: a few kilobytes, and what `diff` compares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Value>,
    /// Each scenario of a compare or sweep and its hash; empty for a run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunHash>,
}

/// One scenario of a compare (named by its variant) or a sweep (named
/// `variant param=value`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunHash {
    pub name: String,
    pub scenario_sha256: String,
}

/// The provenance of one run of `scenario`, its resolved document embedded.
pub fn of_run(scenario: &Scenario) -> Provenance {
    Provenance {
        stampede_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: SCHEMA_VERSION,
        seed: scenario.seed,
        scenario_sha256: scenario_sha256(scenario),
        scenario: Some(resolved_document(scenario)),
        runs: Vec::new(),
    }
}

/// The provenance of a batch of runs (a compare, a sweep), hashed together
/// by name (the same runs listed in another order are the same batch);
/// `seed` is the root seed.
pub fn of_batch(seed: u64, runs: Vec<RunHash>) -> Provenance {
    let mut by_name: Vec<&RunHash> = runs.iter().collect();
    by_name.sort_by(|a, b| a.name.cmp(&b.name));
    let listed: Vec<Value> = by_name
        .iter()
        .map(|r| {
            Value::Array(vec![
                r.name.clone().into(),
                r.scenario_sha256.clone().into(),
            ])
        })
        .collect();
    Provenance {
        stampede_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: SCHEMA_VERSION,
        seed,
        scenario_sha256: sha256_hex(&Value::Array(listed)),
        scenario: None,
        runs,
    }
}

/// The document `scenario` was built from, with `seed` set to the seed it
/// runs with (a `--seed` or a replication's), so that it reproduces the run.
pub fn resolved_document(scenario: &Scenario) -> Value {
    let mut document = scenario.document.as_ref().clone();
    if let Value::Object(map) = &mut document {
        map.insert("seed".to_string(), Value::from(scenario.seed));
    }
    document
}

/// Hex SHA-256 of the scenario's document without its `seed`.
pub fn scenario_sha256(scenario: &Scenario) -> String {
    let mut document = scenario.document.as_ref().clone();
    if let Value::Object(map) = &mut document {
        map.shift_remove("seed");
    }
    sha256_hex(&document)
}

/// Hex SHA-256 of the canonical text of `value`.
pub fn sha256_hex(value: &Value) -> String {
    let digest = Sha256::digest(canonical(value).as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compact JSON with every object's keys sorted: the same text for the
/// same document, whatever order its keys were written in.
pub fn canonical(value: &Value) -> String {
    sorted(value).to_string()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted_map: Map<String, Value> = keys
                .into_iter()
                .map(|key| (key.clone(), sorted(&map[key])))
                .collect();
            Value::Object(sorted_map)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        leaf => leaf.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "2s"}});
        let b = json!({"a": {"x": "2s", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical(&a), r#"{"a":{"x":"2s","y":[1,2]},"b":1}"#);
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        assert_ne!(sha256_hex(&a), sha256_hex(&json!({"b": 2})));
        // The hash of the empty document, as any SHA-256 tool gives it for `{}`.
        assert_eq!(
            sha256_hex(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
