//! Studies split across processes: shards merged, interrupted studies
//! resumed, and replications chosen by precision, each compared byte for
//! byte with the same study run in one go.

use std::path::{Path, PathBuf};

use crate::common::{stampede, write_temp};

/// A small study: a queue and a database behind it, with variants and a
/// sweep, quick enough to run a dozen times.
const STUDY: &str = "
name: scale-out study
seed: 5
duration: 20s
warmup: 2s
sources:
  users: { target: api, arrivals: poisson, rate: 300/s, timeout_per_attempt: 1s }
services:
  api:
    workers: 4
    queue: { capacity: 200 }
    service_time: exp(mean=2ms)
    calls:
      - target: db
        timeout_per_attempt: 200ms
        retry: { max_attempts: 3 }
  db:
    workers: 2
    queue: { capacity: 100 }
    service_time: exp(mean=4ms)
variants:
  slow-db:
    set: { services.db.service_time: exp(mean=6ms) }
  more-db-workers:
    set: { services.db.workers: 3, services.db.service_time: exp(mean=6ms) }
sweep:
  param: sources.users.rate
  values: [150/s, 300/s, 450/s]
";

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

/// Runs stampede in `dir`, asserting the exit code; returns stdout.
fn run_in(dir: &Path, args: &[&str], code: i32) -> Vec<u8> {
    let output = stampede().current_dir(dir).args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stampede {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs stampede in `dir`, expecting it to refuse (exit code 2); its stderr.
fn refused_in(dir: &Path, args: &[&str]) -> String {
    let output = stampede().current_dir(dir).args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "stampede {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A working folder holding the study as `study.yaml`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study.yaml"), STUDY).unwrap();
    dir
}

/// Runs `command` (its arguments before `--out`) in one go and as 1, 3 and
/// 7 shards merged; every output file and the printed report must be the
/// same bytes.
fn assert_merge_equals_serial(dir: &Path, command: &[&str]) {
    let mut serial_args = command.to_vec();
    serial_args.extend(["--out", "serial"]);
    let serial_stdout = run_in(dir, &serial_args, 0);
    let serial = tree(&dir.join("serial"));
    assert!(
        serial.len() >= 3,
        "{serial_args:?} wrote {} files",
        serial.len()
    );
    for count in [1, 3, 7] {
        let parts = format!("parts-{count}");
        for index in 1..=count {
            let shard = format!("{index}/{count}");
            let mut args = command.to_vec();
            args.extend(["--shard", &shard, "--out", &parts]);
            let stdout = run_in(dir, &args, 0);
            assert!(stdout.is_empty(), "a shard prints no report");
        }
        let merged_dir = format!("merged-{count}");
        let merged_stdout = run_in(dir, &["merge", &parts, "--out", &merged_dir], 0);
        assert_eq!(
            String::from_utf8_lossy(&merged_stdout),
            String::from_utf8_lossy(&serial_stdout),
            "{command:?} in {count} shards prints another report"
        );
        let merged = tree(&dir.join(&merged_dir));
        let names = |files: &[(String, Vec<u8>)]| -> Vec<String> {
            files.iter().map(|(name, _)| name.clone()).collect()
        };
        assert_eq!(
            names(&merged),
            names(&serial),
            "{command:?} in {count} shards"
        );
        for ((name, merged), (_, serial)) in merged.iter().zip(&serial) {
            assert!(
                merged == serial,
                "{command:?} in {count} shards: {name} differs"
            );
        }
    }
}

#[test]
fn a_sweep_merged_from_shards_is_the_sweep_run_in_one_go() {
    let dir = workspace();
    assert_merge_equals_serial(dir.path(), &["sweep", "study.yaml", "--replications", "2"]);
}

#[test]
fn a_comparison_merged_from_shards_is_the_comparison_run_in_one_go() {
    let dir = workspace();
    assert_merge_equals_serial(
        dir.path(),
        &["compare", "study.yaml", "--replications", "3"],
    );
}

#[test]
fn report_folders_merged_from_shards_are_the_folders_run_in_one_go() {
    let dir = workspace();
    std::fs::copy(
        crate::common::scenario_path("mm1.yaml"),
        dir.path().join("mm1.yaml"),
    )
    .unwrap();
    assert_merge_equals_serial(dir.path(), &["report", "study.yaml", "mm1.yaml"]);
}

/// Writes the shards `indices` of `count` of a two-replication sweep into `parts`.
fn shards(dir: &Path, count: u32, indices: &[u32], parts: &str) {
    for index in indices {
        let shard = format!("{index}/{count}");
        run_in(
            dir,
            &["sweep", "study.yaml", "--shard", &shard, "--out", parts],
            0,
        );
    }
}

fn merge_error(dir: &Path, parts: &[&str]) -> String {
    let mut args = vec!["merge"];
    args.extend(parts);
    args.extend(["--out", "merged"]);
    let output = stampede().current_dir(dir).args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !dir.join("merged").exists(),
        "a refused merge writes nothing"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn merge_names_the_missing_the_duplicated_and_the_foreign_part() {
    let dir = workspace();
    let path = dir.path();
    shards(path, 3, &[1, 3], "parts");
    let missing = merge_error(path, &["parts"]);
    assert!(
        missing.contains("shard 2/3 of the study is missing"),
        "{missing}"
    );

    std::fs::create_dir(path.join("again")).unwrap();
    std::fs::copy(
        path.join("parts/part-1-of-3.jsonl"),
        path.join("again/part-1-of-3.jsonl"),
    )
    .unwrap();
    shards(path, 3, &[2], "parts");
    let twice = merge_error(path, &["parts", "again/part-1-of-3.jsonl"]);
    assert!(twice.contains("shard 1/3 is given twice"), "{twice}");
    assert!(twice.contains("again/part-1-of-3.jsonl"), "{twice}");

    let other = path.join("other.yaml");
    std::fs::write(&other, STUDY.replace("seed: 5", "seed: 6")).unwrap();
    run_in(
        path,
        &["sweep", "other.yaml", "--shard", "2/3", "--out", "foreign"],
        0,
    );
    let foreign = merge_error(
        path,
        &[
            "parts/part-1-of-3.jsonl",
            "parts/part-3-of-3.jsonl",
            "foreign",
        ],
    );
    assert!(foreign.contains("parts of different studies"), "{foreign}");

    let damaged = path.join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for index in 1..=3 {
        let name = format!("part-{index}-of-3.jsonl");
        let text = std::fs::read_to_string(path.join("parts").join(&name)).unwrap();
        let text = if index == 2 {
            text.replacen("\"run\":", "\"rum\":", 1)
        } else {
            text
        };
        std::fs::write(damaged.join(&name), text).unwrap();
    }
    let broken = merge_error(path, &["damaged"]);
    assert!(
        broken.contains("part-2-of-3.jsonl:2: a damaged run"),
        "{broken}"
    );
}

#[test]
fn an_interrupted_study_resumes_from_the_runs_it_kept() {
    let dir = workspace();
    let path = dir.path();
    let whole = run_in(
        path,
        &[
            "compare",
            "study.yaml",
            "--replications",
            "3",
            "--out",
            "whole",
        ],
        0,
    );
    // Stopped twice, after 2 and 3 more runs, then finished: the same study.
    let args = [
        "compare",
        "study.yaml",
        "--replications",
        "3",
        "--out",
        "steps",
    ];
    for budget in ["2", "3"] {
        let mut stopped = args.to_vec();
        stopped.extend(["--max-runs", budget]);
        let output = stampede()
            .current_dir(path)
            .args(&stopped)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("run the same command again to go on"),
            "{stderr}"
        );
    }
    let journal = path.join("steps/.stampede-study.jsonl");
    let kept = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert_eq!(kept, 1 + 5, "a header and the five runs done");
    // A run cut short by a kill leaves half a line; it is dropped, not trusted.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"run\": 7, \"summ");
    std::fs::write(&journal, text).unwrap();
    let output = stampede().current_dir(path).args(args).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("resuming: 5 runs already done"), "{stderr}");
    assert_eq!(output.stdout, whole);
    assert!(
        !journal.exists(),
        "the journal goes once the outputs are written"
    );
    assert_eq!(tree(&path.join("steps")), tree(&path.join("whole")));
}

#[test]
fn kept_runs_of_another_study_are_never_overwritten() {
    let dir = workspace();
    let path = dir.path();
    run_in(
        path,
        &["sweep", "study.yaml", "--out", "out", "--max-runs", "2"],
        2,
    );
    std::fs::write(path.join("study.yaml"), STUDY.replace("seed: 5", "seed: 9")).unwrap();
    let journal = path.join("out/.stampede-study.jsonl");
    let before = std::fs::read(&journal).unwrap();
    let stderr = refused_in(path, &["sweep", "study.yaml", "--out", "out"]);
    assert!(stderr.contains("holds 2 runs of another study"), "{stderr}");
    assert!(
        stderr.contains("the scenario file's text differs"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the kept runs are untouched"
    );
}

#[test]
fn a_study_running_twice_at_once_is_refused() {
    let dir = workspace();
    let path = dir.path();
    run_in(
        path,
        &["sweep", "study.yaml", "--out", "out", "--max-runs", "1"],
        2,
    );
    // This test holds the journal's lock, as a first process would.
    let held = std::fs::File::open(path.join("out/.stampede-study.jsonl")).unwrap();
    held.try_lock().unwrap();
    let stderr = refused_in(path, &["sweep", "study.yaml", "--out", "out"]);
    assert!(stderr.contains("another stampede is writing"), "{stderr}");
    drop(held);
    run_in(path, &["sweep", "study.yaml", "--out", "out"], 0);
}

#[test]
fn a_short_part_is_named_by_merge_and_finished_by_its_shard() {
    let dir = workspace();
    let path = dir.path();
    run_in(path, &["sweep", "study.yaml", "--out", "serial"], 0);
    shards(path, 2, &[1, 2], "parts");
    let part = path.join("parts/part-2-of-2.jsonl");
    let whole = std::fs::read_to_string(&part).unwrap();
    let short: String = whole.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&part, &short).unwrap();
    let message = merge_error(path, &["parts"]);
    assert!(
        message.contains("part-2-of-2.jsonl holds 1 of shard 2/2's 3 runs: it was cut short"),
        "{message}"
    );
    // A run given twice is refused too, not silently picked.
    let run = whole.lines().nth(1).unwrap();
    std::fs::write(&part, format!("{whole}{run}\n")).unwrap();
    let twice = merge_error(path, &["parts"]);
    assert!(twice.contains("is written twice"), "{twice}");
    std::fs::write(&part, &short).unwrap();
    let output = stampede()
        .current_dir(path)
        .args(["sweep", "study.yaml", "--shard", "2/2", "--out", "parts"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not hold every run of shard 2/2: running the rest"),
        "{stderr}"
    );
    assert!(stderr.contains("resuming: 1 runs already done"), "{stderr}");
    run_in(path, &["merge", "parts", "--out", "merged"], 0);
    assert_eq!(tree(&path.join("merged")), tree(&path.join("serial")));
    let again = stampede()
        .current_dir(path)
        .args(["sweep", "study.yaml", "--shard", "2/2", "--out", "parts"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("is already done"));
}

#[test]
fn merge_refuses_parts_of_another_version() {
    let dir = workspace();
    let path = dir.path();
    shards(path, 1, &[1], "parts");
    let part = path.join("parts/part-1-of-1.jsonl");
    let text = std::fs::read_to_string(&part).unwrap();
    let version = format!("\"stampede_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    std::fs::write(
        &part,
        text.replacen(&version, "\"stampede_version\":\"0.0.9\"", 1),
    )
    .unwrap();
    let message = merge_error(path, &["parts"]);
    assert!(message.contains("written by stampede 0.0.9"), "{message}");
}

#[test]
fn shard_auto_reads_the_index_from_slurm_kubernetes_or_gnu_parallel() {
    let dir = workspace();
    let path = dir.path();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "3")],
            "part-2-of-3.jsonl",
        ),
        (&[("SLURM_ARRAY_TASK_ID", "0")], "part-1-of-3.jsonl"),
        (&[("JOB_COMPLETION_INDEX", "2")], "part-3-of-3.jsonl"),
        (&[("PARALLEL_SEQ", "2")], "part-2-of-3.jsonl"),
    ];
    for (number, (vars, part)) in cases.iter().enumerate() {
        let out = format!("auto-{number}");
        let mut command = stampede();
        command
            .current_dir(path)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("SLURM_ARRAY_TASK_MIN")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("PARALLEL_SEQ");
        for (name, value) in *vars {
            command.env(name, value);
        }
        let output = command
            .args(["sweep", "study.yaml", "--shard", "auto/3", "--out", &out])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            path.join(&out).join(part).exists(),
            "{vars:?} should write {part}"
        );
    }
    let output = stampede()
        .current_dir(path)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("PARALLEL_SEQ")
        .args(["sweep", "study.yaml", "--shard", "auto/3", "--out", "none"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("none is set: give --shard I/N"), "{stderr}");
}

#[test]
fn shard_flags_are_checked_before_anything_runs() {
    let file = write_temp(STUDY);
    let path = file.path().to_str().unwrap();
    for (args, message) in [
        (
            vec!["sweep", path, "--shard", "0/3", "--out", "x"],
            "shards are numbered 1 to 3",
        ),
        (
            vec!["sweep", path, "--shard", "4/3", "--out", "x"],
            "shards are numbered 1 to 3",
        ),
        (
            vec!["sweep", path, "--shard", "two", "--out", "x"],
            "is not I/N",
        ),
        (vec!["sweep", path, "--shard", "1/3"], "--out"),
        (
            vec!["compare", path, "--precision", "5%"],
            "--replications auto",
        ),
        (
            vec![
                "compare",
                path,
                "--replications",
                "auto",
                "--precision",
                "150%",
            ],
            "below 100%",
        ),
    ] {
        let output = stampede().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// The number `auto` chose, from its stderr line.
fn replications_chosen(stderr: &str) -> u32 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("replications: "))
        .unwrap_or_else(|| panic!("no replications line in {stderr}"));
    line["replications: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn auto_replications_stop_when_precise_and_shards_agree() {
    let dir = workspace();
    let path = dir.path();
    let args = [
        "compare",
        "study.yaml",
        "--replications",
        "auto",
        "--precision",
        "10%",
        "--max-replications",
        "60",
    ];
    let mut serial = args.to_vec();
    serial.extend(["--format", "json", "--out", "serial"]);
    let output = stampede().current_dir(path).args(&serial).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let chosen = replications_chosen(&String::from_utf8_lossy(&output.stderr));
    assert!(
        chosen.is_multiple_of(5) && (10..60).contains(&chosen),
        "auto chose {chosen}"
    );
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(comparison["replications"], chosen);
    // The intervals auto waits on are within the precision asked.
    for metric in ["goodput", "latency p99"] {
        let row = comparison["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["metric"] == metric)
            .unwrap();
        for value in row["values"].as_array().unwrap() {
            let (mean, half) = (
                value["mean"].as_f64().unwrap(),
                value["ci95"].as_f64().unwrap(),
            );
            assert!(half <= 0.1 * mean, "{metric} {mean} ± {half}");
        }
    }
    for index in 1..=2 {
        let shard = format!("{index}/2");
        let mut sharded = args.to_vec();
        sharded.extend(["--shard", &shard, "--out", "parts"]);
        run_in(path, &sharded, 0);
    }
    let merged = run_in(
        path,
        &["merge", "parts", "--format", "json", "--out", "merged"],
        0,
    );
    assert_eq!(
        merged, output.stdout,
        "the merge stops where one machine did"
    );
    assert_eq!(tree(&path.join("merged")), tree(&path.join("serial")));
}

#[test]
fn auto_says_which_interval_is_still_wide_at_the_maximum() {
    let file = write_temp(STUDY);
    let output = stampede()
        .args(["compare", file.path().to_str().unwrap()])
        .args([
            "--replications",
            "auto",
            "--precision",
            "0.1%",
            "--max-replications",
            "5",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the maximum of 5 was reached before every 95% interval was within ±0.1%"),
        "{stderr}"
    );
    assert!(
        stderr.contains("in `slow-db` is ±") || stderr.contains("in `more-db-workers` is ±"),
        "{stderr}"
    );
}

#[test]
fn the_part_says_what_it_is() {
    let dir = workspace();
    shards(dir.path(), 2, &[2], "parts");
    let part: PathBuf = dir.path().join("parts/part-2-of-2.jsonl");
    let text = std::fs::read_to_string(part).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["stampede_part"], 1);
    assert_eq!(header["stampede_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["shard"], serde_json::json!({"index": 2, "count": 2}));
    assert_eq!(header["study"]["command"], "sweep");
    assert_eq!(header["study_sha256"].as_str().unwrap().len(), 64);
    // A sweep of 3 values × 2 variants, one replication: runs 1, 3 and 5.
    assert_eq!(header["runs_total"], 6);
    assert_eq!(header["runs"], serde_json::json!([1, 3, 5]));
    let runs: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["run"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(runs, [1, 3, 5], "runs in the order of the study");
    // The same shard on one thread or two: the same bytes.
    let again = stampede()
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .args(["sweep", "study.yaml", "--shard", "2/2", "--out", "again"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let other = std::fs::read_to_string(dir.path().join("again/part-2-of-2.jsonl")).unwrap();
    assert!(other == text, "a shard's part is the same bytes every time");
}
