//! Memory is O(in-flight), never O(run length), and grows with what each
//! component uses.
//!
//! The same M/M/1 system is run for 10^5 and for 10^7 requests in child
//! processes, and their peak resident memory (from `wait4`, per child) must
//! be the same within a small allowance for allocator noise. (README quotes
//! 10^6 against 10^8 from `/usr/bin/time -v`; a hundredfold is what matters
//! here, and the shorter pair keeps the suite fast.)

use std::process::Command;

/// Peak resident set of a finished child, in KiB.
// The child is reaped by wait4 below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_and_measure_peak_kib(scenario: &std::path::Path) -> i64 {
    let child = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("run")
        .arg(scenario)
        .args(["--format", "json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the run failed"
    );
    usage.ru_maxrss
}

fn mm1_for(requests: u64, dir: &std::path::Path) -> std::path::PathBuf {
    // 800 requests per simulated second.
    let seconds = requests / 800;
    let path = dir.join(format!("mm1-{requests}.yaml"));
    let text = format!(
        "duration: {seconds}s\nsources:\n  arrivals: {{ target: server, rate: 800/s }}\nservices:\n  server: {{ workers: 1, queue: {{ capacity: 100_000 }}, service_time: exp(mean=1ms) }}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn peak_memory_is_flat_in_run_length() {
    let dir = tempfile::tempdir().unwrap();
    let small = run_and_measure_peak_kib(&mm1_for(100_000, dir.path()));
    let large = run_and_measure_peak_kib(&mm1_for(10_000_000, dir.path()));
    eprintln!("peak RSS: 10^5 requests {small} KiB, 10^7 requests {large} KiB");
    assert!(
        large <= small + small / 10 + 1024,
        "10^7 requests used {large} KiB, 10^5 used {small} KiB"
    );
}

/// A thousand trivial services, each with its own source, 10^6 requests in
/// all: memory follows what each component uses, so the whole run fits in
/// 100 MB (a latency histogram per component would take over 250 MB).
#[test]
fn a_thousand_services_fit_in_100_mb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thousand.yaml");
    let mut text = String::from("duration: 100s\nsources:\n");
    for i in 0..1000 {
        text.push_str(&format!("  u{i}: {{ target: s{i}, rate: 10/s }}\n"));
    }
    text.push_str("services:\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  s{i}: {{ workers: 1, service_time: exp(mean=1ms) }}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let peak = run_and_measure_peak_kib(&path);
    eprintln!("peak RSS, 1,000 services: {peak} KiB");
    assert!(peak < 100 * 1024, "1,000 services used {peak} KiB");
}
