//! Memory is O(in-flight), never O(run length), and grows with what each
//! component uses.
//!
//! The same M/M/1 system is run for 10^5 and for 10^7 requests in child
//! processes, and their peak resident memory must be the same within a
//! small allowance for allocator noise. (README quotes 10^6 against 10^8
//! from `/usr/bin/time -v`; a hundredfold is what matters here, and the
//! shorter pair keeps the suite fast.)
//!
//! The peak is the child's own `VmHWM` from `/proc`, read while it runs.
//! `wait4`'s `ru_maxrss` would be simpler but is wrong here: Linux carries
//! the high-water mark of the address space a process had before `exec`
//! into it, and a child forked from this test binary starts with the test
//! binary's memory, which other tests running alongside make large.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The peak resident set of a running process, in KiB, while it exists.
fn high_water_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set of `stampede run SCENARIO`, in KiB, sampled every
/// millisecond until it exits; its output is read meanwhile, so a long
/// report never blocks it.
fn run_and_measure_peak_kib(scenario: &std::path::Path) -> i64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("run")
        .arg(scenario)
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut output = Vec::new();
        stdout.read_to_end(&mut output).map(|_| output.len())
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = high_water_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(status.success(), "the run failed");
    assert!(
        reader.join().unwrap().unwrap() > 0,
        "the run printed nothing"
    );
    peak
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

/// A scenario of `header` then, for each section, its key and one line per
/// component `0..count`.
fn many_components(
    header: &str,
    sections: &[(&str, &dyn Fn(usize) -> String)],
    count: usize,
) -> String {
    let mut text = String::from(header);
    for (key, line) in sections {
        text.push_str(&format!("{key}:\n"));
        for i in 0..count {
            text.push_str(&format!("  {}\n", line(i)));
        }
    }
    text
}

/// The peak memory of running `text`, written to a file first.
fn peak_kib_of(text: &str) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.yaml");
    std::fs::write(&path, text).unwrap();
    run_and_measure_peak_kib(&path)
}

/// A thousand trivial services, each with its own source, 10^6 requests in
/// all: memory follows what each component uses, so the whole run fits in
/// 100 MB (a latency histogram per component would take over 250 MB).
#[test]
fn a_thousand_services_fit_in_100_mb() {
    let source = |i| format!("u{i}: {{ target: s{i}, rate: 10/s }}");
    let service = |i| format!("s{i}: {{ workers: 1, service_time: exp(mean=1ms) }}");
    let text = many_components(
        "duration: 100s\n",
        &[("sources", &source), ("services", &service)],
        1000,
    );
    let peak = peak_kib_of(&text);
    eprintln!("peak RSS, 1,000 services: {peak} KiB");
    assert!(peak < 100 * 1024, "1,000 services used {peak} KiB");
}

/// Routers that watch their instances' health (outlier detection, health
/// checks) and weighted balancers keep state for their own instances
/// alone: 1,500 of each, two instances apiece, fit in 100 MB (state for
/// every instance of the scenario in every router took 300 MB).
#[test]
fn routers_keep_health_for_their_own_instances_alone() {
    let checks = "outlier_detection: { consecutive_5xx: 5, interval: 1s, base_ejection_time: 10s }, health_check: { interval: 1s }";
    let source = |i| format!("u{i}: {{ target: lb{i}, rate: 10/s }}");
    let balancer = |i| {
        format!(
            "lb{i}: {{ strategy: weighted_round_robin, backends: [s{i}], weights: [2], {checks} }}"
        )
    };
    let service =
        |i| format!("s{i}: {{ instances: 2, workers: 1, service_time: exp(mean=1ms), {checks} }}");
    let sections: [(&str, &dyn Fn(usize) -> String); 3] = [
        ("sources", &source),
        ("load_balancers", &balancer),
        ("services", &service),
    ];
    let peak = peak_kib_of(&many_components("duration: 1s\n", &sections, 1500));
    eprintln!("peak RSS, 1,500 balancers and services with health: {peak} KiB");
    assert!(
        peak < 100 * 1024,
        "1,500 balancers and services used {peak} KiB"
    );
}
