//! The headless front end end to end: piped input, with the real server.

mod support;

use std::io::{ErrorKind, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::{Client, Server, TIMEOUT, client_binary};
use voix_client::runtime::SIGNAL_GRACE;

/// Commands piped in before the server has accepted the client are sent
/// before the end of input quits it.
#[test]
fn piped_commands_are_sent_before_the_end_of_input_quits() {
    let server = Server::start();
    let mut bob = Client::start(server.addr(), "Bob", &["--null-audio"]);
    let mut alice = Command::new(client_binary())
        .args(["--server", &server.addr().to_string(), "--nick", "A1", "--headless"])
        .args(["--null-audio", "--no-reconnect"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("voix-client starts");
    let mut stdin = alice.stdin.take().expect("piped");
    stdin.write_all(b"/msg Bob one\nhello room\n").expect("the client reads its input");
    drop(stdin);
    let private = bob.expect(|e| e["event"] == "private_message");
    assert_eq!((private["from"].as_str(), private["text"].as_str()), (Some("A1"), Some("one")));
    let said = bob.expect(|e| e["event"] == "message");
    assert_eq!((said["from"].as_str(), said["text"].as_str()), (Some("A1"), Some("hello room")));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = alice.try_wait().expect("waitable") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let _ = alice.kill();
    let _ = alice.wait();
    assert!(status.is_some_and(|s| s.success()), "A1 ended with {status:?}");
}

/// Stops a process (SIGSTOP) until dropped, then lets it go on (SIGCONT),
/// so that its own guard can kill it even after a failed assertion.
struct Stopped(u32);

impl Stopped {
    fn signal(pid: u32, signal: &str) -> bool {
        Command::new("kill").args([signal, &pid.to_string()]).status().is_ok_and(|s| s.success())
    }

    fn new(pid: u32) -> Self {
        assert!(Self::signal(pid, "-STOP"), "cannot stop {pid}");
        Self(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        Self::signal(self.0, "-CONT");
    }
}

/// A server that hangs (SIGSTOP: no FIN, no answers) is noticed by its
/// unanswered PINGs within the ping timeout and one ping interval.
#[test]
fn a_hung_server_is_noticed() {
    let server = Server::start();
    let mut alice = Client::start(server.addr(), "Alice", &["--null-audio"]);
    let stopped = Stopped::new(server.pid());
    let limit = voix_proto::client::DEFAULT_PING_TIMEOUT
        + voix_client::app::PING_INTERVAL
        + Duration::from_secs(5);
    alice.expect_within(limit, |e| e["event"] == "connection_lost");
    drop(stopped);
}

/// Kills the process when dropped, even after a failed assertion.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fake server that accepts one client and then sends it room messages
/// as fast as it takes them, for `window`, at most `limit` bytes; how many
/// it could write.
fn flood_one_client(listener: std::net::TcpListener, window: Duration, limit: usize) -> usize {
    let (mut stream, _) = listener.accept().expect("the client connects");
    stream.set_write_timeout(Some(Duration::from_millis(100))).expect("settable");
    stream.write_all(b"ACCEPT: fake\r\nJOINED: #Lobby\r\n").expect("writable");
    let line = format!("MSG Bob #Lobby: {}\r\n", "x".repeat(400));
    let chunk = line.repeat(64 * 1024 / line.len());
    let (deadline, mut written) = (Instant::now() + window, 0);
    while Instant::now() < deadline && written < limit {
        match stream.write(chunk.as_bytes()) {
            Ok(n) => written += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    written
}

/// A client whose standard output nobody reads stops reading the server
/// (so the server's send limit applies), and SIGTERM still ends it.
#[test]
fn an_unread_output_holds_the_server_back_and_sigterm_still_quits() {
    const LIMIT: usize = 64 << 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bindable");
    let addr = listener.local_addr().expect("bound");
    let flood = thread::spawn(move || flood_one_client(listener, Duration::from_secs(3), LIMIT));
    let client = Command::new(client_binary())
        .args(["--server", &addr.to_string(), "--nick", "A1", "--headless", "--stay"])
        .args(["--null-audio", "--no-reconnect"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("voix-client starts");
    let mut client = Killed(client);
    let written = flood.join().expect("the fake server runs");
    // Socket buffers, the input queue and the pipe hold a few MiB; an
    // unbounded client takes everything.
    assert!(written < 32 << 20, "the server could write {written} bytes");

    assert!(Stopped::signal(client.0.id(), "-TERM"), "cannot signal the client");
    let deadline = Instant::now() + SIGNAL_GRACE + Duration::from_secs(4);
    while client.0.try_wait().expect("waitable").is_none() {
        assert!(Instant::now() < deadline, "SIGTERM did not end the client");
        thread::sleep(Duration::from_millis(20));
    }
}
