//! `stampede diff A.json B.json`: two summaries, metric by metric.
//!
//! Both files are flattened to `path → value`, where array items are named by
//! their `name` (or `caller->target` for calls), so reordering components is
//! not a difference. Numbers differ when their relative change exceeds the
//! tolerance; text and missing keys always differ.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub path: String,
    pub left: String,
    pub right: String,
    /// Relative change (right − left) / |left|, for numbers.
    pub change: Option<f64>,
}

fn item_name(item: &Value, index: usize) -> String {
    if let Some(name) = item.get("name").and_then(Value::as_str) {
        return name.to_string();
    }
    match (
        item.get("caller").and_then(Value::as_str),
        item.get("target").and_then(Value::as_str),
    ) {
        (Some(caller), Some(target)) => format!("{caller}->{target}"),
        _ => index.to_string(),
    }
}

/// Every leaf of `value` as (dotted path, value).
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

fn walk(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(key, child)| walk(child, join(key), out)),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            items
                .iter()
                .enumerate()
                .for_each(|(index, item)| walk(item, join(&item_name(item, index)), out));
        }
        leaf => out.push((path, leaf.clone())),
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The differences beyond `tolerance` (a fraction: 0.02 = 2%), in `left`'s order.
pub fn diff(left: &Value, right: &Value, tolerance: f64) -> Vec<Difference> {
    let (left, right) = (flatten(left), flatten(right));
    let find = |list: &[(String, Value)], path: &str| {
        list.iter().find(|(p, _)| p == path).map(|(_, v)| v.clone())
    };
    let mut paths: Vec<String> = left.iter().map(|(p, _)| p.clone()).collect();
    paths.extend(
        right
            .iter()
            .map(|(p, _)| p.clone())
            .filter(|p| !left.iter().any(|(q, _)| q == p)),
    );
    paths
        .into_iter()
        .filter_map(|path| {
            let (a, b) = (find(&left, &path), find(&right, &path));
            let change = match (
                a.as_ref().and_then(Value::as_f64),
                b.as_ref().and_then(Value::as_f64),
            ) {
                (Some(x), Some(y)) if x == y => return None,
                (Some(x), Some(y)) => {
                    let change = if x == 0.0 {
                        f64::INFINITY
                    } else {
                        (y - x) / x.abs()
                    };
                    if change.abs() <= tolerance {
                        return None;
                    }
                    Some(change)
                }
                _ if a == b => return None,
                _ => None,
            };
            Some(Difference {
                path,
                left: show(a.as_ref()),
                right: show(b.as_ref()),
                change,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn components_are_matched_by_name_and_small_changes_tolerated() {
        let a = json!({"seed": 1, "services": [{"name": "api", "p99": 100.0}, {"name": "db", "p99": 50.0}]});
        let b = json!({"seed": 1, "services": [{"name": "db", "p99": 50.5}, {"name": "api", "p99": 130.0}]});
        let differences = diff(&a, &b, 0.02);
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].path, "services.api.p99");
        assert!((differences[0].change.unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(diff(&a, &b, 0.5), vec![]);
    }

    #[test]
    fn missing_keys_and_text_always_differ() {
        let a = json!({"scenario": "x", "events": 3});
        let b = json!({"scenario": "y"});
        let paths: Vec<String> = diff(&a, &b, 1.0).into_iter().map(|d| d.path).collect();
        assert_eq!(paths, vec!["scenario", "events"]);
    }
}
