//! Parsing a line allocates nothing: a counting global allocator proves it
//! for every kind of line, in both directions, and for the framer; nor
//! does the server core relaying a room message, once warmed up.
//!
//! This file is its own test binary, so the allocator is only this test's.
#![allow(unsafe_code)] // a GlobalAlloc is unsafe to implement

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ops::ControlFlow;
use std::time::Instant;

use bytes::BytesMut;
use voix_proto::server::{ConnectionId, Server, ServerConfig};
use voix_proto::wire::{ClientCommand, Framed, LineReader, ServerMessage};

/// The system allocator, counting allocations.
struct Counting;

thread_local! {
    /// Allocations made by this thread; per thread, so that tests running
    /// in parallel do not count each other's. Const-initialised, so reading
    /// it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator, which
// upholds GlobalAlloc's contract; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's layout is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: ptr came from System with this layout, as the caller promises.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const CLIENT_LINES: &[&str] = &[
    r#"CONNECT: "Nickname" "Real Name" 1.0.0"#,
    "PONG: 14139282",
    "PING: 1",
    "MSG #Lobby: Hey all! æøå: ✓",
    "MSG John: private via MSG",
    "PRIVMSG John: Hey John!",
    "TALK John: Request",
    "Talk John: End",
    "JOIN: #TurboRoom",
    "DISCONNECT",
];

const SERVER_LINES: &[&str] = &[
    "ACCEPT: hostname.com",
    "NOTACCEPTED: send CONNECT first",
    "NICKNAMEINUSE: taken",
    "PING: 14139282",
    "JOINED: #Lobby",
    "USERLIST #Lobby: John, Michael, Willy",
    "USERJOIN #Lobby: Tina",
    "USERLEAVE #Lobby: Tina",
    "MSG John #Lobby: Hey Nickname!",
    "PRIVMSG John: Hey there :)",
    "TALK Michael: Accept",
    "VOICE #Lobby: 7 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    "ERROR BUSY: John is in another call",
];

#[test]
fn parsing_any_line_allocates_nothing() {
    // Warm up anything lazily initialised (none expected, but be fair).
    for line in CLIENT_LINES {
        ClientCommand::parse(line.as_bytes()).expect("valid client line");
    }
    for line in SERVER_LINES {
        ServerMessage::parse(line.as_bytes()).expect("valid server line");
    }
    let n = allocations_during(|| {
        for _ in 0..100 {
            for line in CLIENT_LINES {
                std::hint::black_box(ClientCommand::parse(line.as_bytes()).is_ok());
            }
            for line in SERVER_LINES {
                std::hint::black_box(ServerMessage::parse(line.as_bytes()).is_ok());
            }
            // Errors allocate nothing either.
            std::hint::black_box(ClientCommand::parse(b"JOIN: no-hash").is_err());
            std::hint::black_box(ClientCommand::parse(b"\xff").is_err());
        }
    });
    assert_eq!(n, 0, "parsing allocated {n} times");
}

#[test]
fn framing_allocates_nothing() {
    let stream: Vec<u8> =
        CLIENT_LINES.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
    let mut reader = LineReader::new(4096);
    let n = allocations_during(|| {
        let mut pos = 0;
        let mut lines = 0;
        loop {
            match reader.next(&stream[pos..]) {
                Framed::Line { consumed, .. } => {
                    lines += 1;
                    pos += consumed;
                }
                Framed::TooLong { consumed } => pos += consumed,
                Framed::Incomplete { .. } => break,
            }
        }
        assert_eq!(lines, CLIENT_LINES.len());
    });
    assert_eq!(n, 0);
}

#[test]
fn draining_a_stream_into_parsed_lines_allocates_nothing() {
    // What a server does with every read: frame, check UTF-8, parse. One
    // line is not UTF-8, so the check's error path runs too.
    let mut stream: Vec<u8> =
        CLIENT_LINES.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
    stream.extend_from_slice(b"MSG #Lobby: \xff\r\nPONG: 1\r\n");
    let mut buf = BytesMut::from(&stream[..]);
    let mut reader = LineReader::new(4096);
    let (mut parsed, mut invalid) = (0, 0);
    let n = allocations_during(|| {
        reader.drain(&mut buf, |line| {
            match line {
                Ok(line) => parsed += usize::from(ClientCommand::parse_str(line).is_ok()),
                Err(_) => invalid += 1,
            }
            ControlFlow::Continue(())
        });
    });
    assert_eq!((parsed, invalid), (CLIENT_LINES.len() + 1, 1));
    assert_eq!(n, 0, "draining allocated {n} times");
}

/// A `MSG` to the sender's room, named in another case, goes to every
/// other member without an allocation once the buffers it uses have grown.
#[test]
fn relaying_a_room_message_allocates_nothing() {
    let now = Instant::now();
    let mut server = Server::new(ServerConfig::default(), [7; 32]);
    let register = |server: &mut Server, nick: &str| -> ConnectionId {
        let id = server.handle_connect(now);
        let connect = format!("CONNECT: \"{nick}\" \"{nick}\" 1.0.0\r\n");
        server.handle_input(now, id, connect.as_bytes());
        let output = server.take_output(id).expect("the registration lines");
        let output = String::from_utf8_lossy(&output);
        let ping = output.lines().find_map(|l| l.strip_prefix("PING: ")).expect("a PING");
        server.handle_input(now, id, format!("PONG: {ping}\r\n").as_bytes());
        id
    };
    let members = ["Tina", "Mike", "Anna"].map(|nick| register(&mut server, nick));
    let message = b"MSG #lobby: hello, room\r\n";
    let deliver = |server: &mut Server| {
        while server.poll_event().is_some() {}
        while let Some(id) = server.poll_ready() {
            server.take_output(id);
        }
    };
    for _ in 0..3 {
        server.handle_input(now, members[0], message);
        deliver(&mut server);
    }
    let n = allocations_during(|| server.handle_input(now, members[0], message));
    assert_eq!(n, 0, "relaying allocated {n} times");
    for &member in &members[1..] {
        let output = server.take_output(member).expect("the message");
        assert_eq!(&output[..], b"MSG Tina #Lobby: hello, room\r\n");
    }
    assert_eq!(server.take_output(members[0]), None, "the sender hears nothing back");
}

/// The counter itself works: a test that could not fail would prove
/// nothing.
#[test]
fn the_counter_counts() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
}
