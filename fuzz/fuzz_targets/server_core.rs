//! The server core fed arbitrary byte streams from several connections,
//! with time passing and connections dropping: it never panics, and its
//! books balance (every registered nickname belongs to an open connection,
//! output queues stay bounded).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use voix_proto::server::{Server, ServerConfig, ServerEvent};

#[derive(Debug, Arbitrary)]
enum Step {
    Connect,
    Input {
        conn: u8,
        bytes: Vec<u8>,
    },
    /// One of a few well-formed lines, so that fuzzing reaches deep states.
    Line {
        conn: u8,
        line: u8,
        arg: u8,
    },
    Drop {
        conn: u8,
    },
    Wait {
        secs: u8,
    },
    Drain,
}

const LINES: &[&str] = &[
    "CONNECT: \"u{}\" \"User\" 1.0",
    "JOIN: #r{}",
    "MSG #r{}: hello",
    "MSG #Lobby: hi {}",
    "PRIVMSG u{}: psst",
    "TALK u{}: Request",
    "TALK u{}: Accept",
    "TALK u{}: Deny",
    "TALK u{}: End",
    "PONG: {}",
    "DISCONNECT",
];

fuzz_target!(|steps: Vec<Step>| {
    let config = ServerConfig {
        max_clients: 8,
        max_rooms: 4,
        max_output_queue_bytes: 2048,
        max_line_len: 128,
        ..ServerConfig::default()
    };
    let max_queue = config.max_output_queue_bytes;
    let mut server = Server::new(config, [3; 32]);
    let mut now = Instant::now();
    let mut conns = Vec::new();
    for step in steps.into_iter().take(256) {
        match step {
            Step::Connect => conns.push(server.handle_connect(now)),
            Step::Input { conn, bytes } => {
                if let Some(&id) = conns.get(usize::from(conn) % conns.len().max(1)) {
                    server.handle_input(now, id, &bytes);
                }
            }
            Step::Line { conn, line, arg } => {
                if let Some(&id) = conns.get(usize::from(conn) % conns.len().max(1)) {
                    let template = LINES[usize::from(line) % LINES.len()];
                    let line = template.replace("{}", &(arg % 4).to_string()) + "\r\n";
                    server.handle_input(now, id, line.as_bytes());
                }
            }
            Step::Drop { conn } => {
                if !conns.is_empty() {
                    let id = conns.swap_remove(usize::from(conn) % conns.len());
                    server.handle_disconnect(now, id);
                }
            }
            Step::Wait { secs } => {
                now += Duration::from_secs(u64::from(secs));
                server.handle_timeout(now);
            }
            Step::Drain => {
                while let Some(id) = server.poll_ready() {
                    if let Some(out) = server.take_output(id) {
                        // The limit, plus the one farewell line it allows.
                        assert!(out.len() <= max_queue + 512, "queue of {} bytes", out.len());
                        assert!(out.ends_with(b"\r\n"));
                    }
                }
            }
        }
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Close { conn, .. } = event {
                conns.retain(|&c| c != conn);
                server.handle_disconnect(now, conn);
            }
        }
        assert!(server.user_count() <= server.connection_count());
        assert!(server.connection_count() <= conns.len());
        assert!(server.room_count() <= 4 && server.room_count() >= 1);
    }
});
