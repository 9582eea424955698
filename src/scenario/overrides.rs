//! Overrides: setting keys of a scenario by path, for variants and sweeps.
//!
//! A path names keys the way the validator's messages do:
//! `services.api.calls[0].retry.backoff`. `*` matches every key of a map and
//! `[*]` every item of a list, so `services.*.calls[*].retry.backoff` reaches
//! every call's backoff. Overrides are applied to a plain value tree of the
//! document, which then goes through the same raw types and validation as the
//! file itself, so an overridden scenario is checked exactly like the base.

use serde_json::{Map, Value};

use super::suggest::did_you_mean;

/// The sections whose keys are component names rather than schema keys
/// (and the gates' sections, [`super::spec::GATE_SECTIONS`]).
const COMPONENT_SECTIONS: [&str; 7] = [
    "sources",
    "services",
    "load_balancers",
    "caches",
    "queues",
    "topics",
    "consumers",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
}

/// Parses `a.b[0].c`, `a.*.b[*]`.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(open) => (&part[..open], &part[open..]),
            None => (part, ""),
        };
        match name {
            "" if segments.is_empty() || rest.is_empty() => {
                return Err(format!("`{path}` has an empty key"));
            }
            "" => {}
            "*" => segments.push(Segment::AnyKey),
            key => segments.push(Segment::Key(key.to_string())),
        }
        while let Some(after) = rest.strip_prefix('[') {
            let Some((index, tail)) = after.split_once(']') else {
                return Err(format!("`{path}` has an unclosed `[`"));
            };
            segments.push(match index {
                "*" => Segment::AnyIndex,
                number => Segment::Index(
                    number
                        .parse()
                        .map_err(|_| format!("`[{number}]` in `{path}` is not a list index"))?,
                ),
            });
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(format!("`{path}` has text after `]`"));
        }
    }
    Ok(segments)
}

/// Sets every place `path` matches in `tree` to `value`; returns how many.
pub fn apply(tree: &mut Value, path: &[Segment], value: &Value) -> Result<usize, String> {
    set_at(tree, path, value, &mut Vec::new(), false)
}

/// `under_wildcard`: a branch a wildcard reached, where a missing list is a
/// branch that does not match rather than an error.
fn set_at(
    node: &mut Value,
    path: &[Segment],
    value: &Value,
    walked: &mut Vec<String>,
    under_wildcard: bool,
) -> Result<usize, String> {
    let Some((segment, rest)) = path.split_first() else {
        *node = value.clone();
        return Ok(1);
    };
    let here = walked.join(".");
    match segment {
        Segment::Key(key) => {
            let is_section = |name: &str| {
                COMPONENT_SECTIONS.contains(&name) || super::spec::GATE_SECTIONS.contains(&name)
            };
            let component_level = walked.len() == 1 && is_section(&walked[0]);
            // A wildcard branch without the list the path goes on to index
            // (a service with no `calls`) simply does not match.
            let indexes_next = matches!(rest.first(), Some(Segment::Index(_) | Segment::AnyIndex));
            if under_wildcard && indexes_next && node.get(key).is_none_or(Value::is_null) {
                return Ok(0);
            }
            let map = as_map(node, &here)?;
            if !map.contains_key(key) {
                if component_level || walked.is_empty() && is_section(key) {
                    return Err(no_such(key, &here, map));
                }
                map.insert(key.clone(), Value::Object(Map::new()));
            }
            walked.push(key.clone());
            let child = map.get_mut(key).expect("inserted above");
            let count = set_at(child, rest, value, walked, under_wildcard);
            walked.pop();
            count
        }
        Segment::AnyKey => {
            let map = as_map(node, &here)?;
            let mut total = 0;
            for (key, child) in map.iter_mut() {
                walked.push(key.clone());
                total += set_at(child, rest, value, walked, true)?;
                walked.pop();
            }
            Ok(total)
        }
        Segment::Index(index) => {
            let list = as_list(node, &here)?;
            let length = list.len();
            let child = list
                .get_mut(*index)
                .ok_or_else(|| format!("`{here}` has {length} items, so there is no [{index}]"))?;
            set_at(child, rest, value, walked, under_wildcard)
        }
        Segment::AnyIndex => {
            let list = as_list(node, &here)?;
            let mut total = 0;
            for child in list.iter_mut() {
                total += set_at(child, rest, value, walked, true)?;
            }
            Ok(total)
        }
    }
}

fn as_map<'a>(node: &'a mut Value, here: &str) -> Result<&'a mut Map<String, Value>, String> {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    node.as_object_mut()
        .ok_or_else(|| format!("`{here}` is not a map, so it has no keys to set"))
}

fn as_list<'a>(node: &'a mut Value, here: &str) -> Result<&'a mut Vec<Value>, String> {
    node.as_array_mut()
        .ok_or_else(|| format!("`{here}` is not a list"))
}

fn no_such(key: &str, here: &str, map: &Map<String, Value>) -> String {
    let names: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut message = if here.is_empty() {
        format!("the scenario has no `{key}`")
    } else {
        format!("`{here}` has no `{key}`")
    };
    match did_you_mean(key, names.iter().copied()) {
        Some(name) => message.push_str(&format!(" (did you mean `{name}`?)")),
        None if !names.is_empty() => message.push_str(&format!(
            "; it has: {}",
            super::suggest::listed_names(key, names.iter().copied())
        )),
        None => {}
    }
    message
}

/// Scalars become strings, as the raw scenario types read every leaf as text.
pub fn stringify_scalars(value: &mut Value) {
    match value {
        Value::Number(number) => *value = Value::String(number.to_string()),
        Value::Bool(flag) => *value = Value::String(flag.to_string()),
        Value::Array(items) => items.iter_mut().for_each(stringify_scalars),
        Value::Object(map) => map.values_mut().for_each(stringify_scalars),
        Value::Null | Value::String(_) => {}
    }
}

/// Whether a concrete key path (as in a diagnostic) falls under `pattern`.
pub fn covers(pattern: &[Segment], concrete: &str) -> bool {
    let Ok(concrete) = parse_path(concrete) else {
        return false;
    };
    pattern.iter().zip(&concrete).all(|(p, c)| match (p, c) {
        (Segment::AnyKey, Segment::Key(_)) | (Segment::AnyIndex, Segment::Index(_)) => true,
        (p, c) => p == c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> Value {
        json!({
            "sources": { "users": { "target": "web", "rate": "10/s" } },
            "services": {
                "web": { "calls": [ { "target": "db" }, { "target": "cache", "retry": { "backoff": "none" } } ] },
                "db": { "service_time": "1ms" }
            },
            "shapers": { "pace": { "target": "db", "rate": "10/s" } }
        })
    }

    fn set(tree: &mut Value, path: &str, value: Value) -> Result<usize, String> {
        apply(tree, &parse_path(path).unwrap(), &value)
    }

    #[test]
    fn paths_parse_with_indices_and_wildcards() {
        use Segment::*;
        assert_eq!(
            parse_path("services.*.calls[*].retry").unwrap(),
            vec![
                Key("services".into()),
                AnyKey,
                Key("calls".into()),
                AnyIndex,
                Key("retry".into())
            ]
        );
        assert_eq!(
            parse_path("a[2][3]").unwrap(),
            vec![Key("a".into()), Index(2), Index(3)]
        );
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("a[1").is_err());
    }

    #[test]
    fn setting_creates_schema_keys_and_replaces_values() {
        let mut t = tree();
        assert_eq!(
            set(&mut t, "services.web.calls[0].retry.backoff", json!("none")),
            Ok(1)
        );
        assert_eq!(t["services"]["web"]["calls"][0]["retry"]["backoff"], "none");
        assert_eq!(
            set(&mut t, "services.*.calls[*].retry.max_attempts", json!(2)),
            Ok(2)
        );
        assert_eq!(set(&mut t, "services.*.workers", json!(8)), Ok(2));
        // db has no calls: the wildcard skips it instead of creating them.
        assert_eq!(
            set(
                &mut t,
                "services.*.calls[*].timeout_per_attempt",
                json!("1s")
            ),
            Ok(2)
        );
        assert!(t["services"]["db"].get("calls").is_none());
    }

    #[test]
    fn wrong_paths_are_explained() {
        let mut t = tree();
        let error = set(&mut t, "services.wbe.workers", json!(1)).unwrap_err();
        assert!(error.contains("did you mean `web`"), "{error}");
        let error = set(&mut t, "services.web.calls[5].target", json!("x")).unwrap_err();
        assert!(error.contains("has 2 items"), "{error}");
        // A gate's name is a component's name too: no misspelt one is created.
        let error = set(&mut t, "shapers.pcae.max_delay", json!("1s")).unwrap_err();
        assert!(error.contains("did you mean `pace`"), "{error}");
        let error = set(&mut t, "sources.users.rate.per", json!("x")).unwrap_err();
        assert!(error.contains("is not a map"), "{error}");
        let error = set(&mut t, "servces.web.workers", json!(1));
        assert!(
            error.is_ok(),
            "unknown top-level keys are created, then rejected by validation"
        );
    }

    #[test]
    fn covers_matches_concrete_paths_under_a_pattern() {
        let pattern = parse_path("services.*.calls[*].retry").unwrap();
        assert!(covers(&pattern, "services.web.calls[1].retry.backoff"));
        assert!(!covers(&pattern, "services.web.workers"));
    }
}
