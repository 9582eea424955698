//! The JSON Schema of scenarios (`stampede schema`), the shell completions
//! and the man page: the schema is valid draft-07, accepts every bundled
//! scenario (each variant and each swept value applied too), rejects the
//! mistakes an editor should underline, and the committed copy is current.

use serde_json::{Value, json};

use stampede::scenario::schema::{scenario_schema, scenario_schema_text};
use stampede::scenario::study::expand_range;
use stampede::scenario::yaml;
use stampede::scenario::{self, overrides};

use crate::common::stampede;

const REFRESH: &str = "cargo run -- schema > docs/stampede.schema.json";

/// Where the schema is registered with the validator: any absolute URL will
/// do, as nothing is fetched.
const SCHEMA_URL: &str = "https://stampede.invalid/stampede.schema.json";

/// The scenario schema compiled by a draft-07 validator. Compiling checks it
/// against the draft's own metaschema.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

fn compile(schema: Value) -> Result<Validator, String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V7);
    compiler
        .add_resource(SCHEMA_URL, schema)
        .map_err(|e| format!("{e:#}"))?;
    let index = compiler
        .compile(SCHEMA_URL, &mut schemas)
        .map_err(|e| format!("{e:#}"))?;
    Ok(Validator { schemas, index })
}

fn validator() -> Validator {
    compile(scenario_schema()).unwrap_or_else(|e| panic!("the schema compiles: {e}"))
}

/// The schema's complaints about `tree`, one line each, with their paths:
/// each error and, below it, the causes that name the key or value at fault.
fn errors(validator: &Validator, tree: &Value) -> Vec<String> {
    fn walk(error: &boon::ValidationError, found: &mut Vec<String>) {
        found.push(format!("{}: {}", error.instance_location, error.kind));
        for cause in &error.causes {
            walk(cause, found);
        }
    }
    let mut found = Vec::new();
    if let Err(error) = validator.schemas.validate(tree, validator.index) {
        walk(&error, &mut found);
    }
    found
}

fn bundled() -> Vec<(String, Value)> {
    crate::common::bundled_files()
        .into_iter()
        .map(|(path, text)| {
            let tree =
                yaml::parse_tree(&text).unwrap_or_else(|e| panic!("{path:?}: {}", e.message));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                tree,
            )
        })
        .collect()
}

/// The scenario with one key path set, as a variant or a sweep point sets it.
fn with(tree: &Value, path: &str, value: &Value) -> Value {
    let mut copy = tree.clone();
    let segments = overrides::parse_path(path).unwrap();
    overrides::apply(&mut copy, &segments, value).unwrap();
    copy
}

/// Every variant's and every swept value's version of a scenario.
fn derived(tree: &Value) -> Vec<(String, Value)> {
    let mut versions = Vec::new();
    for (name, variant) in tree["variants"].as_object().into_iter().flatten() {
        let mut copy = tree.clone();
        for (path, value) in variant["set"].as_object().into_iter().flatten() {
            copy = with(&copy, path, value);
        }
        versions.push((format!("variant {name}"), copy));
    }
    if let Some(param) = tree["sweep"]["param"].as_str() {
        let values = match &tree["sweep"]["values"] {
            Value::String(range) => expand_range(range)
                .unwrap()
                .into_iter()
                .map(Value::from)
                .collect(),
            Value::Array(list) => list.clone(),
            other => panic!("sweep values {other}"),
        };
        for value in values {
            versions.push((format!("sweep {param}={value}"), with(tree, param, &value)));
        }
    }
    versions
}

#[test]
fn the_schema_is_valid_draft_07() {
    let schema = scenario_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    if let Err(error) = compile(schema) {
        panic!("{error}");
    }
    // The metaschema check can fail: a keyword of the wrong type is refused.
    let broken = json!({ "$schema": "http://json-schema.org/draft-07/schema#", "type": 7 });
    assert!(compile(broken).is_err(), "a broken schema compiled");
}

#[test]
fn every_bundled_scenario_its_variants_and_sweep_points_pass() {
    let validator = validator();
    let mut checked = 0;
    for (file, tree) in bundled() {
        let versions =
            std::iter::once(("as written".to_string(), tree.clone())).chain(derived(&tree));
        for (version, tree) in versions {
            let problems = errors(&validator, &tree);
            assert!(
                problems.is_empty(),
                "{file} ({version}):\n{}",
                problems.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} versions checked");
}

#[test]
fn every_bundled_scenario_names_the_committed_schema() {
    for (file, _) in bundled() {
        let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let first = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        assert_eq!(
            first, "# yaml-language-server: $schema=../docs/stampede.schema.json",
            "{file}"
        );
    }
}

fn minimal() -> Value {
    json!({
        "duration": "60s",
        "sources": { "users": { "target": "web", "rate": "200/s" } },
        "services": { "web": { "workers": 8, "service_time": "exp(mean=20ms)" } },
    })
}

/// Whether stampede itself accepts `tree` (JSON is YAML), so that the cases
/// below test the schema against the validator, not against a belief.
fn stampede_accepts(tree: &Value) -> bool {
    scenario::load_str("case.yaml", &tree.to_string()).is_ok()
}

#[test]
fn values_written_the_ways_the_parser_accepts_pass() {
    let validator = validator();
    let cases = [
        ("warmup", json!(0)),
        ("duration", json!("1_000ms")),
        ("duration", json!("1.5 min")),
        ("duration", json!("40µs")),
        ("seed", json!("18446744073709551615")),
        ("seed", json!(1e6)),
        ("sources.users.rate", json!("12000/minute")),
        (
            "sources.users",
            json!({ "target": "web", "arrivals": "lognormal(median=4ms, p99=40ms)", "rate": null }),
        ),
        (
            "services.web.queue",
            json!({ "capacity": null, "timeout": "1s" }),
        ),
        ("services.web.service_time", json!("5ms")),
        ("services.web.service_time", json!("empirical(1ms, 2ms)")),
        ("services.web.service_time", json!("exponential(mean=2ms)")),
        ("services.web.error_rate", json!("1%")),
        ("services.web.error_rate", json!(0.25)),
        ("services.web.workers", json!("1_000")),
        ("deadline_propagation", json!("yes")),
        ("deadline_propagation", json!(true)),
        ("name", json!(2024)),
    ];
    for (path, value) in cases {
        let tree = with(&minimal(), path, &value);
        assert!(stampede_accepts(&tree), "{path}: {value} is not valid");
        let problems = errors(&validator, &tree);
        assert!(problems.is_empty(), "{path}: {value}: {problems:?}");
    }
}

#[test]
fn unknown_keys_wrong_types_and_bad_keywords_fail() {
    let validator = validator();
    let cases = [
        ("services.web.wokers", json!(8), "wokers"),
        (
            "sources.users.retry",
            json!({ "max_attempt": 3 }),
            "max_attempt",
        ),
        ("duration", json!(250), "/duration"),
        ("duration", json!("250 seconds"), "/duration"),
        ("sources.users.rate", json!("200"), "/sources/users/rate"),
        ("services.web.workers", json!([8]), "/services/web/workers"),
        (
            "services.web.balancer",
            json!("round_robbin"),
            "/services/web/balancer",
        ),
        (
            "services.web.queue",
            json!({ "discipline": "lilo" }),
            "/services/web/queue/discipline",
        ),
        (
            "services.web.service_time",
            json!("expo(mean=2ms)"),
            "/services/web/service_time",
        ),
        (
            "services.web.error_rate",
            json!(1.5),
            "/services/web/error_rate",
        ),
        (
            "faults",
            json!([{ "kind": "explode", "target": "web" }]),
            "/faults/0/kind",
        ),
        (
            "services.web.calls",
            json!([{ "target": "db", "retry": { "jitter": "some" } }]),
            "jitter",
        ),
    ];
    let shape = json!({ "target": "web", "rate": "200/s", "shape": { "kind": "spike", "at": "1s", "duration": "1s", "multiplier": 2, "period": "1s" } });
    let extra = [
        ("sources.users", shape, "period"),
        (
            "faults",
            json!([{ "kind": "slowdown", "target": "web", "at": "1s", "duration": "1s", "factor": 2, "mode": "hang" }]),
            "mode",
        ),
    ];
    for (path, value, blamed) in cases.into_iter().chain(extra) {
        let tree = with(&minimal(), path, &value);
        assert!(!stampede_accepts(&tree), "{path}: {value} is valid");
        let problems = errors(&validator, &tree);
        assert!(
            problems.iter().any(|p| p.contains(blamed)),
            "{path}: {value} should fail at {blamed}: {problems:?}"
        );
    }
}

#[test]
fn the_committed_schema_is_what_stampede_schema_prints() {
    let printed = stampede().arg("schema").output().unwrap();
    assert!(printed.status.success());
    assert_eq!(
        String::from_utf8(printed.stdout).unwrap(),
        scenario_schema_text()
    );
    let path = format!("{}/docs/stampede.schema.json", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == scenario_schema_text(),
        "docs/stampede.schema.json is stale: refresh it with `{REFRESH}` and commit it"
    );
}

#[test]
fn bash_completions_name_every_command() {
    let output = stampede().args(["completions", "bash"]).output().unwrap();
    assert!(output.status.success());
    let script = String::from_utf8(output.stdout).unwrap();
    for command in [
        "run",
        "compare",
        "sweep",
        "report",
        "check",
        "diff",
        "validate",
        "schema",
        "completions",
        "man",
    ] {
        assert!(script.contains(command), "`{command}` is not completed");
    }
    let unknown = stampede().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_and_lists_the_commands() {
    let output = stampede().arg("man").output().unwrap();
    assert!(output.status.success());
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains("\n.TH stampede 1"), "{page}");
    for command in [
        "run", "compare", "sweep", "report", "check", "validate", "schema",
    ] {
        assert!(
            page.contains(command),
            "`{command}` is missing from the man page"
        );
    }
}

#[test]
fn man_out_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let status = stampede()
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    for page in ["stampede.1", "stampede-run.1", "stampede-schema.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
}
