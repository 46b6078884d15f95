//! Graceful shutdown of the real binary on SIGTERM and SIGINT.

mod support;

use std::io::Read;
use std::time::Duration;

use support::{Client, ServerProcess};
use voix_server::CLOSE_TIMEOUT;

/// Every client is told, every connection is closed, and the process exits
/// with 0, all within the close timeout.
fn shuts_down_on(signal: &str) {
    let mut server = ServerProcess::start(&[]);
    let addr = server.addr();
    let mut a = Client::register(addr, "A");
    let b = Client::register(addr, "B");
    let mut unregistered = Client::connect(addr, "c");
    a.wait_for("USERJOIN #Lobby: B");
    // The server has seen the unregistered client once it answers it.
    unregistered.send("HELLO");
    unregistered.expect(&["NOTACCEPTED: unknown command"]);

    server.signal(signal);
    for mut client in [a, b, unregistered] {
        client.expect(&["ERROR SHUTDOWN: the server is shutting down"]);
        client.expect_end();
        // Closing as a client does at the end of the stream lets the
        // server finish at once, without waiting out the close timeout.
    }
    let status = server.wait(CLOSE_TIMEOUT / 2);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn sigterm_tells_everyone_and_exits_cleanly() {
    shuts_down_on("TERM");
}

#[test]
fn sigint_tells_everyone_and_exits_cleanly() {
    shuts_down_on("INT");
}

#[test]
fn shutdown_does_not_wait_longer_than_the_close_timeout() {
    let mut server = ServerProcess::start(&[]);
    let mut a = Client::register(server.addr(), "A");
    server.signal("TERM");
    a.expect(&["ERROR SHUTDOWN: the server is shutting down"]);
    a.expect_end();
    // `a` stays open; the server closes it when the timeout ends.
    let status = server.wait(CLOSE_TIMEOUT + Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn logs_into_a_pipe_are_not_coloured() {
    let (mut server, mut stderr) = ServerProcess::start_logging_to_pipe(&[]);
    server.signal("TERM");
    let status = server.wait(CLOSE_TIMEOUT / 2);
    assert_eq!(status.code(), Some(0), "{status:?}");
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).expect("the logs are UTF-8");
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(!logs.contains('\x1b'), "no ANSI escape codes in {logs:?}");
}
