//! The binary under stress: Ctrl-C, failed writes, awkward paths, standard
//! input, closed pipes and runs stopped by a safety limit. Each output file
//! is whole or absent, and no command passes on a run cut short.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{scenario_path, stampede, write_temp};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_stampede");

/// A small scenario whose every run a safety limit stops within 1,000
/// events, with a variant, a sweep and an expectation, so every command
/// meets a stopped run.
const STOPPING: &str = "name: stops early\nduration: 60s\nlimits: { max_events: 1000 }\nsources:\n  u: { target: web, rate: 100/s }\nservices:\n  web: { workers: 2, service_time: 1ms }\nvariants:\n  more:\n    set:\n      services.web.workers: 4\nsweep:\n  param: sources.u.rate\n  values: [50/s, 100/s]\nexpect:\n  - goodput > 10/s\n";

/// A scenario that runs for a long time: about a minute of work.
const LONG: &str = "duration: 1h\nsources:\n  u: { target: web, rate: 20000/s }\nservices:\n  web: { workers: 40, service_time: exp(mean=1ms) }\n";

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Asserts that every file under `dir` is whole (parses as what its
/// extension says) and that no temporary file is left; returns how many
/// files there are.
fn assert_whole_files(dir: &Path) -> usize {
    let files = files_under(dir);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == ".stampede-study.jsonl" {
            // The runs an interrupted study kept, to resume from: whole
            // lines. Empty when Ctrl-C came between its creation and its
            // first line, which a resume reads as nothing kept.
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{} ends mid-line",
                path.display()
            );
            for line in text.lines() {
                assert!(
                    serde_json::from_str::<Value>(line).is_ok(),
                    "{} holds half a run",
                    path.display()
                );
            }
            continue;
        }
        assert!(
            !name.starts_with('.') && !name.ends_with(".tmp"),
            "a temporary file is left: {}",
            path.display()
        );
        let bytes = std::fs::read(path).unwrap();
        let whole = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::from_slice::<Value>(&bytes).is_ok(),
            Some("csv") => is_whole_csv(&bytes),
            Some("svg") => String::from_utf8_lossy(&bytes)
                .trim_end()
                .ends_with("</svg>"),
            Some("png") => is_whole_png(&bytes),
            Some("txt" | "md" | "yaml") => !bytes.is_empty() && std::str::from_utf8(&bytes).is_ok(),
            Some("html") => String::from_utf8_lossy(&bytes)
                .trim_end()
                .ends_with("</html>"),
            other => panic!("unexpected file {} ({other:?})", path.display()),
        };
        assert!(whole, "{} is not whole", path.display());
    }
    files.len()
}

/// A header and at least one row, every line with the header's columns.
fn is_whole_csv(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let columns: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
    text.ends_with('\n') && columns.len() >= 2 && columns.iter().all(|&c| c == columns[0])
}

/// The PNG signature first and the IEND chunk last.
fn is_whole_png(bytes: &[u8]) -> bool {
    const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.ends_with(&IEND)
}

#[cfg(unix)]
fn interrupt(child: &std::process::Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill only sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

/// Waits for `child` for about `seconds` (counted in polls, as tests keep
/// off the wall clock), killing it if it takes longer.
#[cfg(unix)]
fn wait_at_most(child: &mut std::process::Child, seconds: u32) -> std::process::ExitStatus {
    for _ in 0..seconds * 50 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    panic!("still running {seconds}s after Ctrl-C");
}

/// Ctrl-C while `report` writes its folders: exit 130, and what is on disk
/// is whole files only. The signal goes as soon as the first file appears,
/// while the rest of that folder is being written.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_report_exits_130_and_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let mut child = Command::new(BINARY)
        .args([
            "report",
            &format!("{}/scenarios", env!("CARGO_MANIFEST_DIR")),
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut polls = 0;
    while files_under(&out).is_empty() && child.try_wait().unwrap().is_none() {
        polls += 1;
        assert!(polls < 60_000, "nothing written in 5 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(&child);
    let status = wait_at_most(&mut child, 30);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // 0 only if every scenario was reported before the signal arrived.
    assert!(
        matches!(status.code(), Some(130 | 0)),
        "{status:?}: {stderr}"
    );
    if status.code() == Some(130) {
        assert!(stderr.contains("interrupted"), "{stderr}");
    }
    assert!(assert_whole_files(&out) >= 1);
}

/// Ctrl-C in the middle of a long simulation ends it at once, not when the
/// simulated hour is over, and writes nothing.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_long_simulation_at_once() {
    let scenario = write_temp(LONG);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(BINARY)
        .arg("run")
        .arg(scenario.path())
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The handler is set before the scenario is even read.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run was too short");
    interrupt(&child);
    // The simulated hour takes half a minute or more: 5 seconds is "at once".
    let status = wait_at_most(&mut child, 5);
    assert_eq!(status.code(), Some(130));
    assert!(!out.exists());
}

/// A write that fails (here: a file size limit, as a full disk would) names
/// the file and the reason, exits 2, and leaves no temporary or partial file.
#[cfg(unix)]
#[test]
fn a_failed_write_is_named_exits_2_and_leaves_no_partial_file() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut command = Command::new(BINARY);
    command
        .args(["run", &scenario_path("mm1.yaml"), "--out"])
        .arg(&out);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // Past the limit a write fails with EFBIG instead of raising SIGXFSZ.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 8192,
                rlim_max: 8192,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("error: cannot write {}/", out.display()))
            && stderr.contains("too large"),
        "{stderr}"
    );
    assert_whole_files(&out);
}

/// Files replaced through a temporary file get the permissions a plain write
/// gives (not the temporary file's private 0600), and replace older files.
#[cfg(unix)]
#[test]
fn written_files_replace_old_ones_with_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("summary.json"), "stale, half-written").unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    stampede()
        .args(["run", &scenario_path("mm1.yaml"), "--out"])
        .arg(dir.path())
        .assert()
        .success();
    std::fs::remove_file(&plain).unwrap();
    std::fs::write(&plain, "x").unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("summary.json")), mode(&plain));
    std::fs::remove_file(&plain).unwrap();
    assert!(assert_whole_files(dir.path()) > 5);
}

/// `--out` naming a file is refused by every command before anything runs.
#[test]
fn out_naming_a_file_is_refused_before_anything_runs() {
    let file = write_temp("not a folder");
    let long = write_temp(LONG);
    let long = long.path().to_str().unwrap();
    let inside = file.path().join("sub");
    let cases: [(Vec<&str>, &Path); 5] = [
        (vec!["run", long, "--out"], file.path()),
        (
            vec!["compare", long, "--variants", "base", "--out"],
            file.path(),
        ),
        (
            vec![
                "sweep",
                long,
                "--param",
                "sources.u.rate",
                "--values",
                "1/s",
                "--out",
            ],
            file.path(),
        ),
        (vec!["report", long, "--out"], file.path()),
        (vec!["run", long, "--out"], &inside),
    ];
    for (args, out) in cases {
        let output = stampede().args(&args).arg(out).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!("{} is a file, not a directory", file.path().display());
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        // A run would have printed its report.
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(
        std::fs::read_to_string(file.path()).unwrap(),
        "not a folder"
    );
}

/// A small scenario in `dir/folder/name`.
fn scenario_in(dir: &Path, folder: &str, name: &str, text: &str) -> PathBuf {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SMALL: &str = "duration: 5s\nsources:\n  u: { target: web, rate: 50/s }\nservices:\n  web: { service_time: 1ms }\n";

/// `report d1/x.yaml d2/x.yaml` writes `d1-x/` and `d2-x/`, not one over
/// the other; a file named twice is reported once; two files that no folder
/// name tells apart are refused before anything runs.
#[test]
fn report_folders_of_files_with_the_same_name_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let first = scenario_in(dir.path(), "d1", "x.yaml", SMALL);
    let second = scenario_in(dir.path(), "d2", "x.yaml", &SMALL.replace("50/s", "80/s"));
    let out = dir.path().join("out");
    stampede()
        .arg("report")
        .args([&first, &second])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rate = |folder: &str| {
        let text = std::fs::read_to_string(out.join(folder).join("summary.json")).unwrap();
        let summary: Value = serde_json::from_str(&text).unwrap();
        summary["sources"][0]["offered_per_s"].as_f64().unwrap()
    };
    assert!(rate("d1-x") < 60.0 && rate("d2-x") > 70.0);
    assert!(!out.join("x").exists());

    let twice = dir.path().join("twice");
    let output = stampede()
        .arg("report")
        .args([&first, &first])
        .arg(dir.path().join("d1"))
        .arg("--out")
        .arg(&twice)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is named more than once"));
    let folders: Vec<_> = std::fs::read_dir(&twice).unwrap().collect();
    assert_eq!(folders.len(), 1);
    assert!(twice.join("x").is_dir());

    let yml = scenario_in(dir.path(), "d1", "x.yml", SMALL);
    let output = stampede()
        .arg("report")
        .args([&first, &yml])
        .arg("--out")
        .arg(dir.path().join("clash"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("would both be reported in the folder"),
        "{stderr}"
    );
    assert!(!dir.path().join("clash").exists());
}

/// A variant's name is a folder under `compare --out`: one that would leave
/// the output folder is refused before anything runs, and nothing is written.
#[test]
fn a_variant_whose_name_leaves_the_output_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        format!("{SMALL}variants:\n  \"../escaped\":\n    set:\n      services.web.workers: 2\n");
    let scenario = scenario_in(dir.path(), "s", "x.yaml", &text);
    let out = dir.path().join("out");
    let output = stampede()
        .arg("compare")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot name a folder under --out"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(!out.exists() && !dir.path().join("escaped").exists());
}

/// A run stopped by a safety limit is no pass: every command marks it and
/// exits 2.
#[test]
fn a_run_stopped_by_a_safety_limit_is_never_a_pass() {
    let file = write_temp(STOPPING);
    let path = file.path().to_str().unwrap();
    let check = stampede().args(["check", path]).output().unwrap();
    assert_eq!(check.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("STOPPED: stopped at") && stdout.contains("limits.max_events"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("PASS") && !stdout.contains("FAIL"),
        "{stdout}"
    );

    for args in [vec!["compare", path], vec!["sweep", path]] {
        let output = stampede().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("STOPPED:") && stdout.contains("variant `more`"),
            "{stdout}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("limits.max_events"), "{stderr}");
        let json = stampede()
            .args(&args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(json.status.code(), Some(2));
        let result: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(result["stopped"][0]["variant"], "more", "{args:?}");
    }
    let sweep = stampede().args(["sweep", path]).output().unwrap();
    assert!(String::from_utf8_lossy(&sweep.stdout).contains("value 50/s, variant `more`"));

    let dir = tempfile::tempdir().unwrap();
    let report = stampede()
        .args(["report", path, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(stderr.contains("the base run: stopped at"), "{stderr}");
    let folder = files_under(dir.path());
    let compare_txt = folder.iter().find(|p| p.ends_with("compare.txt")).unwrap();
    assert!(
        std::fs::read_to_string(compare_txt)
            .unwrap()
            .contains("STOPPED:")
    );
}

/// Only a variant trips the limit: the comparison still exits 2 and names it.
#[test]
fn one_stopped_variant_fails_the_comparison() {
    let file = write_temp(
        "duration: 20s\nsources:\n  u: { target: web, rate: 100/s }\nservices:\n  web: { service_time: 1ms }\nvariants:\n  tight:\n    set:\n      limits.max_events: 1000\n",
    );
    let output = stampede()
        .arg("compare")
        .arg(file.path())
        .args(["--variants", "base,tight"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("STOPPED: 1 run") && stdout.contains("variant `tight`, seed"),
        "{stdout}"
    );
    assert!(!stdout.contains("variant `base`"), "{stdout}");
}

/// The `reproduce:` line of each command, from text output.
fn reproduce_line(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("reproduce: "))
        .unwrap_or_else(|| panic!("no reproduce line in {text}"))
        .to_string()
}

/// Runs `command` (starting with `stampede`) in a POSIX shell.
#[cfg(unix)]
fn through_the_shell(command: &str) -> std::process::Output {
    let folder = Path::new(BINARY).parent().unwrap();
    let path = format!("{}:{}", folder.display(), std::env::var("PATH").unwrap());
    Command::new("sh")
        .args(["-c", command])
        .env("PATH", path)
        .output()
        .unwrap()
}

/// A path with a space and a quote, and values with shell metacharacters,
/// are quoted in the reproduce lines; pasted into a shell, each line runs
/// the same command again.
#[cfg(unix)]
#[test]
fn reproduce_lines_are_quoted_for_the_shell_and_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario_path("backoff-vs-no-backoff.yaml")).unwrap();
    let path = scenario_in(dir.path(), "my runs", "it's $HOME.yaml", &text);
    let shown = path.display().to_string();
    let quoted = format!("'{}'", shown.replace('\'', r"'\''"));
    let cases: [Vec<&str>; 3] = [
        vec!["run", &shown, "--variant", "backoff", "--seed", "7"],
        vec!["compare", &shown, "--variants", "backoff,base"],
        vec![
            "sweep",
            &shown,
            "--param",
            "services.db.service_time",
            "--values",
            "exp(mean=2ms),exp(mean=3ms)",
            "--variants",
            "backoff",
        ],
    ];
    for args in cases {
        let first = stampede().args(&args).output().unwrap();
        assert!(first.status.success(), "{args:?}");
        let line = reproduce_line(&first.stdout);
        assert!(line.contains(&quoted), "{line}");
        let again = through_the_shell(&line);
        assert!(
            again.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(first.stdout, again.stdout, "{line}");
    }
    let output = stampede()
        .args(["sweep", &shown, "--param", "services.db.service_time"])
        .args(["--values", "exp(mean=2ms)"])
        .output()
        .unwrap();
    assert!(reproduce_line(&output.stdout).contains("--values 'exp(mean=2ms)'"));
    // Plain paths stay bare.
    let plain = stampede()
        .args(["run", &scenario_path("mm1.yaml")])
        .output()
        .unwrap();
    assert!(reproduce_line(&plain.stdout).starts_with(&format!(
        "stampede run {} --seed",
        scenario_path("mm1.yaml")
    )));
}

/// Runs the binary with `input` on standard input, in `dir`.
fn with_stdin(args: &[&str], input: &[u8], dir: &Path) -> std::process::Output {
    let mut child = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A command that stops reading early closes the pipe: not a test failure.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// `-` reads the scenario from standard input, for every command that takes
/// one; it is `<stdin>` in messages and `-` in reproduce lines.
#[test]
fn a_dash_reads_the_scenario_from_standard_input() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mm1 = std::fs::read(scenario_path("mm1.yaml")).unwrap();
    let from_file = stampede()
        .args(["run", &scenario_path("mm1.yaml"), "--format", "json"])
        .output()
        .unwrap();
    let from_stdin = with_stdin(&["run", "-", "--format", "json"], &mm1, here);
    assert!(from_stdin.status.success());
    assert_eq!(from_file.stdout, from_stdin.stdout);
    let text = with_stdin(&["run", "-", "--seed", "5"], &mm1, here);
    assert_eq!(reproduce_line(&text.stdout), "stampede run - --seed 5");

    let validate = with_stdin(&["validate", "-"], &mm1, here);
    assert!(String::from_utf8_lossy(&validate.stdout).starts_with("<stdin>: ok (M/M/1"));
    let check = with_stdin(&["check", "-"], &mm1, here);
    assert_eq!(check.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("reproduce: stampede check - --seed 1")
    );
    let backoff = std::fs::read(scenario_path("backoff-vs-no-backoff.yaml")).unwrap();
    let compare = with_stdin(&["compare", "-"], &backoff, here);
    assert!(reproduce_line(&compare.stdout).starts_with("stampede compare - --seed"));
    let sweep = with_stdin(&["sweep", "-"], &backoff, here);
    assert!(reproduce_line(&sweep.stdout).starts_with("stampede sweep - --param"));

    let typo = b"duration: 10s\nsources:\n  u: { target: web, rate: 1/s }\nservices:\n  web:\n    wokers: 4\n";
    let error = with_stdin(&["validate", "-"], typo, here);
    assert_eq!(error.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&error.stderr).contains("<stdin>:6:5: services.web.wokers"));

    let twice = with_stdin(&["validate", "-", "-"], &mm1, here);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("more than once"));
    let report = with_stdin(&["report", "-"], &mm1, here);
    assert_eq!(report.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&report.stderr).contains("not standard input"));
}

/// A trace file named by a scenario on standard input is found relative to
/// the current directory.
#[test]
fn a_trace_named_on_standard_input_is_relative_to_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("load.csv"),
        "time,rate\n0s,100/s\n5s,200/s\n",
    )
    .unwrap();
    let scenario = b"duration: 10s\nsources:\n  u:\n    target: web\n    shape: { kind: trace, file: load.csv }\nservices:\n  web: { service_time: 1ms }\n";
    let output = with_stdin(&["run", "-", "--format", "json"], scenario, dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let elsewhere = with_stdin(
        &["run", "-"],
        scenario,
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("load.csv"));
}

/// More than 64 MiB on standard input is refused with a clear message,
/// without reading it all.
#[test]
fn more_than_64_mib_on_standard_input_is_refused() {
    let mut huge = b"# padding\n".repeat(7 * 1024 * 1024);
    huge.extend_from_slice(b"duration: 1s\n");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = with_stdin(&["run", "-"], &huge, here);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("<stdin>: more than 64 MiB"), "{stderr}");
}

/// `stampede … | head -1`: the reader goes after one line. The command
/// ends quietly with 0 (or by SIGPIPE), never with a panic's 101.
#[test]
fn a_reader_that_leaves_after_one_line_is_no_crash() {
    let mm1 = scenario_path("mm1.yaml");
    let backoff = scenario_path("backoff-vs-no-backoff.yaml");
    // More lines than a pipe holds, so the writer meets the closed pipe.
    let many: Vec<String> = std::iter::repeat_n(mm1.clone(), 2000).collect();
    let mut cases: Vec<Vec<String>> = vec![
        vec!["run".into()],
        vec!["compare".into(), backoff.clone()],
        vec!["sweep".into(), backoff],
        vec!["check".into(), mm1.clone(), mm1],
    ];
    cases.push([vec!["validate".to_string()], many].concat());
    for args in cases {
        let mut child = Command::new(BINARY)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?}");
        drop(reader);
        let output = child.wait_with_output().unwrap();
        assert_ne!(output.status.code(), Some(101), "{args:?}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            let by_sigpipe = output.status.signal() == Some(libc::SIGPIPE);
            assert!(output.status.code() == Some(0) || by_sigpipe, "{args:?}");
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
