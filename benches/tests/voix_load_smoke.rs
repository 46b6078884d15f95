//! Smoke test of `voix-load`: each Voix scenario at a tiny size against a
//! real `voix-server`, checking that nothing is lost and the numbers are
//! sane. The test starts the server itself (building it first if needed),
//! bounds every process it starts in time, and kills them all.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The longest one scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

/// Starts `voix-server` on a port the OS picks; returns it and its address.
fn start_server() -> (Killed, String) {
    let mut child = Command::new(voix_server())
        .args(["--listen", "127.0.0.1:0", "--command-rate", "100000", "--command-burst", "100000"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("voix-server starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let server = Killed(child);
    let (found, addr) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = voix_server::parse_listening_line(&line) {
                let _ = found.send(addr.to_string());
            }
        }
    });
    let addr =
        addr.recv_timeout(Duration::from_secs(15)).expect("voix-server says where it listens");
    (server, addr)
}

/// Runs `voix-load` with `args` against the server, bounded in time;
/// returns its Markdown table.
fn voix_load(addr: &str, pid: u32, args: &[&str]) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_voix-load"))
        .args(["--voix", addr, "--server-pid", &pid.to_string(), "--format", "markdown"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voix-load starts");
    let pid = child.id();
    let (done, output) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let deadline = Instant::now() + SCENARIO_TIMEOUT;
    let output: Output = match output.recv_timeout(deadline - Instant::now()) {
        Ok(output) => output.expect("voix-load ran"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("voix-load {args:?} took longer than {SCENARIO_TIMEOUT:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "voix-load {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    let (server, addr) = start_server();
    let pid = server.0.id();

    let connect = voix_load(
        &addr,
        pid,
        &["connect", "--clients", "20", "--concurrency", "5", "--settle", "0.2"],
    );
    assert_eq!(cell(&connect, "clients joined"), "20", "{connect}");
    assert_eq!(cell(&connect, "clients failed"), "0", "{connect}");
    assert!(number(cell(&connect, "join latency p99 (ms)")) < 5_000.0, "{connect}");
    assert!(number(cell(&connect, "server RSS with clients (MiB)")) > 0.0, "{connect}");

    let fanout = voix_load(
        &addr,
        pid,
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
        &addr,
        pid,
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
    drop(server);
}
