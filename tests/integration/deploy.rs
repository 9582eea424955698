//! The scale-out recipes in `deploy/` hold together: the shell scripts
//! parse, and the Kubernetes Indexed Job runs as many shards as its
//! `--shard auto/N` says, writing where the merge Job reads. (The GNU
//! parallel recipe runs for real in `.ci/check-parallel`, and the Slurm one
//! in `deploy/slurm-local-test.sh`.)

use serde_json::Value;
use stampede::scenario::yaml;

fn deploy(path: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The documents of a multi-document YAML file.
fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|doc| yaml::parse_tree(doc).unwrap_or_else(|e| panic!("{e:?}")))
        .collect()
}

fn job<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == "Job" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Job {name}"))
}

fn command(job: &Value) -> Vec<String> {
    job["spec"]["template"]["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|word| word.as_str().unwrap().to_string())
        .collect()
}

fn after<'a>(words: &'a [String], flag: &str) -> &'a str {
    let at = words
        .iter()
        .position(|w| w == flag)
        .unwrap_or_else(|| panic!("no {flag}"));
    &words[at + 1]
}

#[test]
fn the_indexed_job_runs_one_pod_per_shard_and_the_merge_reads_their_parts() {
    let study = documents(&deploy("kubernetes/study.yaml"));
    let shards = job(&study, "stampede-shards");
    assert_eq!(shards["spec"]["completionMode"], "Indexed");
    let words = command(shards);
    let count: u64 = after(&words, "--shard")
        .strip_prefix("auto/")
        .expect("each pod reads its index: --shard auto/N")
        .parse()
        .unwrap();
    assert_eq!(
        shards["spec"]["completions"], count,
        "completions is the shard count"
    );
    let parts = after(&words, "--out").to_string();
    let merge = documents(&deploy("kubernetes/merge.yaml"));
    let merge_words = command(job(&merge, "stampede-merge"));
    assert_eq!(merge_words[..2], ["stampede", "merge"]);
    assert_eq!(
        merge_words[2], parts,
        "the merge reads where the shards write"
    );
    // Both mount the same claim at the same place.
    let claim = |job: &Value| {
        job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].clone()
    };
    assert_eq!(claim(shards), claim(job(&merge, "stampede-merge")));
    let pvc = study
        .iter()
        .find(|d| d["kind"] == "PersistentVolumeClaim")
        .unwrap();
    assert_eq!(pvc["metadata"]["name"], claim(shards));
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
}

#[test]
fn the_deploy_scripts_parse() {
    let root = format!("{}/deploy", env!("CARGO_MANIFEST_DIR"));
    for script in [
        "parallel.sh",
        "slurm/study.sbatch",
        "slurm/merge.sbatch",
        "slurm/submit.sh",
        "slurm-local-test.sh",
        "kubernetes/run.sh",
    ] {
        let status = std::process::Command::new("bash")
            .args(["-n", &format!("{root}/{script}")])
            .status()
            .unwrap();
        assert!(status.success(), "deploy/{script} does not parse");
    }
}

#[test]
fn the_slurm_array_task_takes_its_shard_from_the_array() {
    let study = deploy("slurm/study.sbatch");
    assert!(study.contains("--shard \"auto/$SLURM_ARRAY_TASK_COUNT\""));
    let submit = deploy("slurm/submit.sh");
    assert!(submit.contains("--array=1-\"$shards\""));
    assert!(submit.contains("--dependency=afterok:\"$array\""));
}
