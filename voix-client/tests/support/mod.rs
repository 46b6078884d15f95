//! What the end-to-end tests share: the real `voix-server` and
//! `voix-client` binaries in guards that kill them, WAV files, and the
//! signal measures the tests assert on.
//!
//! Every wait is bounded; every process a test starts is killed when its
//! guard drops, even when the test fails.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

pub mod audio;
pub mod proxy;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The longest any single expected thing may take to happen.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `voix-client` binary under test.
pub fn client_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_voix-client"))
}

/// The `voix-server` binary of the same build, next to the client's;
/// built once per test run (`cargo build -p voix-server` in the same
/// target directory and profile), since Cargo builds only this package's
/// binaries for its tests.
pub fn server_binary() -> &'static Path {
    static SERVER: OnceLock<PathBuf> = OnceLock::new();
    SERVER.get_or_init(|| {
        let client = client_binary();
        let dir = client.parent().expect("the binary is in a directory");
        let server = dir.join(format!("voix-server{}", std::env::consts::EXE_SUFFIX));
        let profile_dir = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug").to_owned();
        let target_dir = dir.parent().expect("the profile is in the target directory");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "-p", "voix-server", "--target-dir"]).arg(target_dir);
        if profile_dir == "release" {
            build.arg("--release");
        }
        let built = build.status().map(|s| s.success()).unwrap_or(false);
        assert!(
            built || server.exists(),
            "cannot build voix-server; run `cargo build -p voix-server`"
        );
        server
    })
}

/// Microseconds since the Unix epoch.
pub fn unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as u64
}

/// A scratch directory for one test, removed when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory named after the test.
    pub fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("voix-client-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        Self(dir)
    }

    /// A path inside it.
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `voix-server`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts a server on 127.0.0.1, on a port the OS picks.
    pub fn start() -> Self {
        let mut child = Command::new(server_binary())
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("voix-server starts");
        let stdout = child.stdout.take().expect("piped");
        let listening =
            voix_server::wait_for_listening_line(stdout, TIMEOUT).unwrap_or_else(|error| {
                let _ = child.kill();
                let _ = child.wait();
                panic!("voix-server did not start: {error}");
            });
        Self { child, addr: listening.addr }
    }

    /// Where it listens (TCP and UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id, to send it signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One event a client printed, and when the test read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The JSON object.
    pub event: Value,
    /// When the test read it, µs since the Unix epoch.
    pub at_unix_us: u64,
}

/// A running headless `voix-client --json`, killed when dropped.
#[derive(Debug)]
pub struct Client {
    /// Its nickname.
    pub nick: String,
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Seen>,
    /// Every event read so far.
    pub seen: Vec<Seen>,
}

impl Client {
    /// Starts `voix-client --headless --json` as `nick` with `args` added,
    /// and waits until it has voice in `#Lobby`.
    pub fn start(server: SocketAddr, nick: &str, args: &[&str]) -> Self {
        let mut client = Self::spawn(server, nick, args);
        client.expect(|e| e["event"] == "voice_ready" && e["scope"] == "#Lobby");
        client
    }

    /// Starts the client without waiting for anything.
    pub fn spawn(server: SocketAddr, nick: &str, args: &[&str]) -> Self {
        let mut child = Command::new(client_binary())
            .args([
                "--server",
                &server.to_string(),
                "--nick",
                nick,
                "--headless",
                "--json",
                "--no-reconnect",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("voix-client starts");
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let (tx, events) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
                if tx.send(Seen { event, at_unix_us: unix_us() }).is_err() {
                    break;
                }
            }
        });
        Self { nick: nick.to_owned(), child, stdin, events, seen: Vec::new() }
    }

    /// Types a command.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("the client reads its input");
        stdin.flush().expect("the client reads its input");
    }

    /// Waits for the first event (not yet matched) that `matches`; its
    /// JSON. Panics after [`TIMEOUT`].
    pub fn expect(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        self.expect_seen(matches).event
    }

    /// Like [`expect`](Self::expect), with when the event was read.
    pub fn expect_seen(&mut self, matches: impl Fn(&Value) -> bool) -> Seen {
        self.expect_within(TIMEOUT, matches)
    }

    /// Like [`expect_seen`](Self::expect_seen), waiting at most `timeout`.
    pub fn expect_within(&mut self, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Seen {
        let deadline = Instant::now() + timeout;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(seen) => {
                    self.seen.push(seen.clone());
                    if matches(&seen.event) {
                        return seen;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: nothing matched in {timeout:?}; saw {:#?}", self.nick, self.names())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{}: exited; saw {:#?}", self.nick, self.names())
                }
            }
        }
    }

    /// Waits for an event named `name`.
    pub fn expect_event(&mut self, name: &str) -> Value {
        self.expect(|e| e["event"] == name)
    }

    /// Reads what arrived in `window` without waiting for anything.
    pub fn drain_for(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        while let Ok(seen) =
            self.events.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(seen);
        }
    }

    /// The names of the events read so far.
    pub fn names(&self) -> Vec<String> {
        self.seen.iter().map(|s| s.event["event"].as_str().unwrap_or("?").to_owned()).collect()
    }

    /// When the first sample of the device `direction` was (µs since the
    /// epoch), from its `audio_started` event.
    pub fn audio_start(&mut self, direction: &str) -> u64 {
        let found = self
            .seen
            .iter()
            .find(|s| s.event["event"] == "audio_started" && s.event["direction"] == direction);
        let event = match found {
            Some(seen) => seen.event.clone(),
            None => self.expect(|e| e["event"] == "audio_started" && e["direction"] == direction),
        };
        event["unix_us"].as_u64().expect("a number")
    }

    /// `/stats`, answered.
    pub fn stats(&mut self) -> Value {
        self.send("/stats");
        self.expect_event("stats")
    }

    /// `/quit`, and waits for a clean exit.
    pub fn quit(mut self) -> ExitStatus {
        self.send("/quit");
        self.wait()
    }

    /// Waits for the process to end, at most [`TIMEOUT`].
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not exit", self.nick);
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
