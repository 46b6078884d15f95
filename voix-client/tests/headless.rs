//! The headless front end end to end: piped input, with the real server.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::{Client, Server, TIMEOUT, client_binary};

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
    let deadline = std::time::Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = alice.try_wait().expect("waitable") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
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
        + std::time::Duration::from_secs(5);
    alice.expect_within(limit, |e| e["event"] == "connection_lost");
    drop(stopped);
}
