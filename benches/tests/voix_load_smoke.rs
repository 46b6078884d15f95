//! Smoke test of `voix-load`: each Voix scenario at a tiny size, each run
//! starting its own `voix-server` with `--spawn-server` on a loopback
//! port, checking that nothing is lost and the numbers are sane.
//!
//! Each run is bounded in time and has a process group of its own, which
//! the tool's server joins: a run that overstays is killed with all it
//! started, and a run that ends must leave no process behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The longest one scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// `voix-server` in the target directory this test was built in, built
/// with the same profile if it is not there yet.
fn voix_server() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/voix-server
    let profile_dir =
        exe.parent().and_then(Path::parent).expect("the test runs from target/<profile>/deps");
    let server = profile_dir.join("voix-server");
    let release = profile_dir.file_name().is_some_and(|name| name == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "voix-server"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building voix-server failed");
    assert!(server.exists(), "voix-server is not at {}", server.display());
    server
}

/// Sends `signal` (`0` only checks) to every process of `group`; whether
/// any was there.
fn signal_group(group: u32, signal: &str) -> bool {
    Command::new("kill")
        .args(["-s", signal, "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status()
        .expect("kill runs")
        .success()
}

/// Runs `voix-load --spawn-server` with `args`, bounded in time; returns
/// its Markdown table.
fn voix_load(server: &Path, args: &[&str]) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_voix-load"))
        .arg("--spawn-server")
        .arg(server)
        .args(["--format", "markdown"])
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voix-load starts");
    // Its own group, led by it: the group's id is its pid.
    let group = child.id();
    let (done, output) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output: Output = match output.recv_timeout(SCENARIO_TIMEOUT) {
        Ok(output) => output.expect("voix-load ran"),
        Err(_) => {
            signal_group(group, "KILL");
            panic!("voix-load {args:?} took longer than {SCENARIO_TIMEOUT:?}");
        }
    };
    let left_behind = signal_group(group, "0");
    if left_behind {
        signal_group(group, "KILL");
    }
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "voix-load {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!left_behind, "voix-load {args:?} left its server running");
    stdout
}

/// The first cell of the row named `metric` in a Markdown table.
fn cell<'a>(table: &'a str, metric: &str) -> &'a str {
    table
        .lines()
        .find_map(|line| line.strip_prefix(&format!("| {metric} | ")))
        .and_then(|rest| rest.split(" |").next())
        .unwrap_or_else(|| panic!("no row {metric:?} in\n{table}"))
}

/// A number from a cell, separators and units dropped.
fn number(cell: &str) -> f64 {
    let digits: String =
        cell.split_whitespace().next().unwrap_or("").chars().filter(|c| *c != ',').collect();
    digits.parse().unwrap_or_else(|_| panic!("{cell:?} is not a number"))
}

#[test]
fn every_voix_scenario_runs_without_loss() {
    let server = voix_server();

    let connect = voix_load(
        &server,
        &["connect", "--clients", "20", "--concurrency", "5", "--settle", "0.2"],
    );
    assert_eq!(cell(&connect, "clients joined"), "20", "{connect}");
    assert_eq!(cell(&connect, "clients failed"), "0", "{connect}");
    assert!(number(cell(&connect, "join latency p99 (ms)")) < 5_000.0, "{connect}");
    assert!(number(cell(&connect, "server RSS with clients (MiB)")) > 0.0, "{connect}");

    let fanout = voix_load(
        &server,
        &[
            "fanout",
            "--receivers",
            "4",
            "--senders",
            "2",
            "--rate",
            "200",
            "--duration",
            "1.5",
            "--warmup",
            "0.5",
            "--drain",
            "3",
        ],
    );
    assert_eq!(cell(&fanout, "deliveries lost"), "0", "{fanout}");
    assert_eq!(cell(&fanout, "errors and disconnects"), "0", "{fanout}");
    // 2 senders at 200/s to 4 receivers: about 1,600 deliveries a second.
    let delivered = number(cell(&fanout, "delivered per second"));
    assert!((1_000.0..=2_200.0).contains(&delivered), "{fanout}");
    assert!(number(cell(&fanout, "latency p99 (ms)")) < 1_000.0, "{fanout}");

    let voice = voix_load(
        &server,
        &[
            "voice",
            "--calls",
            "2",
            "--rooms",
            "1",
            "--room-size",
            "3",
            "--duration",
            "1",
            "--baseline",
        ],
    );
    assert!(voice.contains("| deliveries lost | 0 (0.000 %) | 0 (0.000 %) |"), "{voice}");
    assert!(voice.contains("| rejected by receivers | 0 | 0 |"), "{voice}");
    // 7 members at 50 packets/s; each call partner hears 1, each room
    // member 2: 10 deliveries per 20 ms, 500 a second.
    let relayed = number(cell(&voice, "packets relayed per second"));
    assert!((350.0..=550.0).contains(&relayed), "{voice}");
    assert!(number(cell(&voice, "relay latency p99 (ms)")) < 1_000.0, "{voice}");
}
