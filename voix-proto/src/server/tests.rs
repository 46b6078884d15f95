//! Scenario tests of the server core on virtual time: the seed's example
//! run line for line, every refusal, keepalive, calls and room moves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::*;

/// Several clients against one server core, on a virtual clock.
struct Harness {
    server: Server,
    now: Instant,
    conns: HashMap<&'static str, ConnectionId>,
    closed: Vec<(ConnectionId, CloseReason)>,
    relay: Vec<RelayCommand>,
    events: Vec<ServerEvent>,
}

impl Harness {
    fn new() -> Self {
        Self::with(ServerConfig {
            host_name: Text::new("hostname.com").unwrap().into_owned(),
            ..ServerConfig::default()
        })
    }

    fn with(config: ServerConfig) -> Self {
        Self {
            server: Server::new(config, [42; 32]),
            now: Instant::now(),
            conns: HashMap::new(),
            closed: Vec::new(),
            relay: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Opens a connection named `who` without registering it.
    fn open(&mut self, who: &'static str) -> ConnectionId {
        let id = self.server.handle_connect(self.now);
        self.conns.insert(who, id);
        self.drain_events();
        id
    }

    /// Opens a connection and registers `who` as the nickname, answering
    /// the first PING, and discards the registration output.
    fn join(&mut self, who: &'static str) -> ConnectionId {
        let id = self.open(who);
        self.send(who, &format!("CONNECT: \"{who}\" \"{who} Example\" 1.0.0"));
        let lines = self.recv(who);
        let ping = lines.iter().find_map(|l| l.strip_prefix("PING: ")).expect("a PING");
        self.send(who, &format!("PONG: {ping}"));
        self.recv_all();
        id
    }

    fn send(&mut self, who: &str, line: &str) {
        self.send_bytes(who, format!("{line}\r\n").as_bytes());
    }

    fn send_bytes(&mut self, who: &str, bytes: &[u8]) {
        self.server.handle_input(self.now, self.conns[who], bytes);
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.server.poll_event() {
            match event {
                ServerEvent::Close { conn, reason } => self.closed.push((conn, reason)),
                ServerEvent::Relay(cmd) => self.relay.push(cmd),
                other => self.events.push(other),
            }
        }
    }

    /// Everything the server has queued for `who`, as lines.
    fn recv(&mut self, who: &str) -> Vec<String> {
        let Some(out) = self.server.take_output(self.conns[who]) else { return Vec::new() };
        let text = String::from_utf8(out.to_vec()).expect("server output is UTF-8");
        assert!(text.ends_with("\r\n"), "output ends in CRLF: {text:?}");
        text.split_terminator("\r\n").map(str::to_owned).collect()
    }

    /// The lines for `who`, with the random parts of VOICE lines masked.
    fn recv_masked(&mut self, who: &str) -> Vec<String> {
        self.recv(who).into_iter().map(|l| mask_voice(&l)).collect()
    }

    fn recv_all(&mut self) {
        let ids: Vec<_> = self.conns.values().copied().collect();
        for id in ids {
            let _ = self.server.take_output(id);
        }
        while self.server.poll_ready().is_some() {}
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.server.handle_timeout(self.now);
        self.drain_events();
    }

    /// The group a voice session is in, as the relay would have it after
    /// every command so far: `None` if it is paused or not open.
    fn relay_group(&self, session: SessionId) -> Option<GroupId> {
        let mut group = None;
        for cmd in &self.relay {
            match *cmd {
                RelayCommand::Open { session: s, group: g, .. }
                | RelayCommand::Move { session: s, group: g }
                    if s == session =>
                {
                    group = g
                }
                RelayCommand::Close { session: s } if s == session => group = None,
                _ => {}
            }
        }
        group
    }

    fn was_closed(&self, who: &str) -> Option<CloseReason> {
        let id = self.conns[who];
        self.closed.iter().find(|(c, _)| *c == id).map(|(_, r)| *r)
    }
}

fn mask_voice(line: &str) -> String {
    match line.strip_prefix("VOICE ") {
        Some(rest) => {
            let scope = rest.split(':').next().unwrap_or_default();
            let creds = rest[scope.len() + 1..].trim();
            let (session, key) = creds.split_once(' ').expect("VOICE has a session and a key");
            assert!(session.parse::<u32>().is_ok_and(|s| s > 0), "{line}");
            assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
            format!("VOICE {scope}: <session> <key>")
        }
        None => line.to_owned(),
    }
}

/// The session of the `VOICE <scope>:` line among `lines`.
fn voice_session(lines: &[String], scope: &str) -> SessionId {
    let creds = lines
        .iter()
        .find_map(|l| l.strip_prefix(&format!("VOICE {scope}: ")))
        .unwrap_or_else(|| panic!("a VOICE {scope} line in {lines:?}"));
    let id = creds.split(' ').next().and_then(|n| n.parse().ok()).and_then(SessionId::new);
    id.expect("a session id")
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn the_seed_example_run_line_for_line() {
    let mut h = Harness::new();
    for other in ["John", "Michael", "Willy"] {
        h.join(other);
    }

    // >>> CONNECT: "Nickname" "Real Name" 1.0.0
    h.open("Nickname");
    h.send("Nickname", r#"CONNECT: "Nickname" "Real Name" 1.0.0"#);
    let lines = h.recv_masked("Nickname");
    assert_eq!(lines[0], "ACCEPT: hostname.com");
    let token = lines[1].strip_prefix("PING: ").expect("PING after ACCEPT");
    assert!(token.parse::<u64>().is_ok());
    assert_eq!(
        lines[2..],
        [
            "JOINED: #Lobby",
            // The original includes the joining user (ORIGIN.md).
            "USERLIST #Lobby: John, Michael, Willy, Nickname",
            "VOICE #Lobby: <session> <key>",
        ]
    );
    assert_eq!(h.recv("John"), ["USERJOIN #Lobby: Nickname"]);
    h.send("Nickname", &format!("PONG: {token}"));
    assert!(h.recv("Nickname").is_empty());
    h.recv_all();

    // >>> MSG #Lobby: Hey all!
    h.send("Nickname", "MSG #Lobby: Hey all!");
    for other in ["John", "Michael", "Willy"] {
        assert_eq!(h.recv(other), ["MSG Nickname #Lobby: Hey all!"]);
    }
    assert!(h.recv("Nickname").is_empty(), "no echo to the sender");

    // MSG John #Lobby: Hey Nickname!
    h.send("John", "MSG #Lobby: Hey Nickname!");
    assert_eq!(h.recv("Nickname"), ["MSG John #Lobby: Hey Nickname!"]);
    h.recv_all();

    // >>> PRIVMSG John: Hey John!   /   PRIVMSG John: Hey there :)
    h.send("Nickname", "PRIVMSG John: Hey John!");
    assert_eq!(h.recv("John"), ["PRIVMSG Nickname: Hey John!"]);
    assert!(h.recv("Michael").is_empty());
    h.send("John", "PRIVMSG Nickname: Hey there :)");
    assert_eq!(h.recv("Nickname"), ["PRIVMSG John: Hey there :)"]);

    // >>> TALK John: Request   /   TALK John: Accept   /   >>> Talk John: End
    h.send("Nickname", "TALK John: Request");
    assert_eq!(h.recv("John"), ["TALK Nickname: Request"]);
    h.send("John", "TALK Nickname: Accept");
    assert_eq!(h.recv_masked("Nickname"), ["TALK John: Accept", "VOICE John: <session> <key>"]);
    assert_eq!(h.recv_masked("John"), ["VOICE Nickname: <session> <key>"]);
    h.send("Nickname", "Talk John: End");
    assert_eq!(h.recv("John"), ["TALK Nickname: End"]);
    assert!(h.recv("Nickname").is_empty());

    // PING: 42231233   /   >>> PONG: 42231233
    h.advance(ServerConfig::DEFAULT_PING_INTERVAL);
    let ping = h.recv("Nickname");
    let token = ping[0].strip_prefix("PING: ").expect("a periodic PING");
    h.send("Nickname", &format!("PONG: {token}"));
    h.recv_all();

    // >>> JOIN: #TurboRoom (Tina and Mike are there already)
    for other in ["Tina", "Mike"] {
        h.join(other);
        h.send(other, "JOIN: #TurboRoom");
    }
    h.recv_all();
    h.send("Nickname", "JOIN: #TurboRoom");
    assert_eq!(
        h.recv_masked("Nickname"),
        [
            "JOINED: #TurboRoom",
            "USERLIST #TurboRoom: Tina, Mike, Nickname",
            "VOICE #TurboRoom: <session> <key>",
        ]
    );
    assert_eq!(h.recv("John"), ["USERLEAVE #Lobby: Nickname"]);
    assert_eq!(h.recv("Tina"), ["USERJOIN #TurboRoom: Nickname"]);
    h.recv_all();

    // TALK Michael: Request   /   >>> TALK Michael: Deny
    h.send("Michael", "TALK Nickname: Request");
    assert_eq!(h.recv("Nickname"), ["TALK Michael: Request"]);
    h.send("Nickname", "TALK Michael: Deny");
    assert_eq!(h.recv("Michael"), ["TALK Nickname: Deny"]);

    // TALK Michael: Request   /   >>> TALK Michael: Accept   /   TALK Michael: End
    h.send("Michael", "TALK Nickname: Request");
    assert_eq!(h.recv("Nickname"), ["TALK Michael: Request"]);
    h.send("Nickname", "TALK Michael: Accept");
    assert_eq!(
        h.recv_masked("Michael"),
        ["TALK Nickname: Accept", "VOICE Nickname: <session> <key>"]
    );
    assert_eq!(h.recv_masked("Nickname"), ["VOICE Michael: <session> <key>"]);
    h.send("Michael", "TALK Nickname: End");
    assert_eq!(h.recv("Nickname"), ["TALK Michael: End"]);

    // >>> DISCONNECT
    h.send("Nickname", "DISCONNECT");
    assert_eq!(h.was_closed("Nickname"), Some(CloseReason::ClientQuit));
    assert_eq!(h.recv("Tina"), ["USERLEAVE #TurboRoom: Nickname"]);
    assert_eq!(h.server.user_count(), 5);
}

#[test]
fn registration_refusals() {
    let mut h = Harness::new();
    h.join("John");
    h.open("a");
    h.send("a", "JOIN: #Lobby");
    assert_eq!(h.recv("a"), ["NOTACCEPTED: send CONNECT first"]);
    h.send("a", "CONNECT: \"Jo hn\" \"x\" 1.0");
    assert_eq!(h.recv("a"), ["NOTACCEPTED: CONNECT: nickname may not contain ' '"]);
    h.send("a", "CONNECT: \"#John\" \"x\" 1.0");
    assert_eq!(h.recv("a"), ["NOTACCEPTED: CONNECT: nickname may not start with '#'"]);
    h.send("a", "CONNECT: John");
    assert_eq!(h.recv("a"), ["NOTACCEPTED: malformed CONNECT"]);
    h.send("a", "HELLO");
    assert_eq!(h.recv("a"), ["NOTACCEPTED: unknown command"]);
    h.send("a", "CONNECT: \"JOHN\" \"x\" 1.0");
    assert_eq!(h.recv("a"), ["NICKNAMEINUSE: the nickname JOHN is already in use"]);
    // The same connection may try again.
    h.send("a", "CONNECT: \"Johnny\" \"x\" 1.0");
    assert_eq!(h.recv("a")[0], "ACCEPT: hostname.com");
    h.send("a", "CONNECT: \"Other\" \"x\" 1.0");
    assert_eq!(h.recv("a"), ["ERROR ALREADYREGISTERED: you are already connected"]);
}

#[test]
fn disconnect_is_honoured_before_registering() {
    let mut h = Harness::new();
    h.open("a");
    h.send("a", "DISCONNECT");
    assert_eq!(h.recv("a"), Vec::<String>::new());
    assert_eq!(h.was_closed("a"), Some(CloseReason::ClientQuit));
}

#[test]
fn command_refusals() {
    let mut h = Harness::new();
    h.join("John");
    h.join("Mary");
    let cases = [
        (
            "HELLO",
            "ERROR UNKNOWNCOMMAND: known commands: JOIN, MSG, PRIVMSG, TALK, PING, PONG, DISCONNECT",
        ),
        ("JOINED: #Lobby", "ERROR UNKNOWNCOMMAND: JOINED is sent by the server, not by clients"),
        ("JOIN #Lobby", "ERROR SYNTAX: malformed JOIN; expected JOIN: #room"),
        ("JOIN: Lobby", "ERROR SYNTAX: JOIN: room name must start with '#'"),
        ("JOIN: #lobby", "ERROR ALREADYINROOM: you are already in #Lobby"),
        ("MSG #Other: hi", "ERROR NOTINROOM: you are not in #Other; JOIN it first"),
        ("MSG #Lobby: ", "ERROR SYNTAX: MSG: message text is empty"),
        ("PRIVMSG Nobody: hi", "ERROR NOSUCHNICK: no user named Nobody"),
        ("PRIVMSG john: hi", "ERROR SELFTARGET: you cannot message yourself"),
        ("TALK Mary: Accept", "ERROR NOCALL: Mary is not calling you"),
        ("TALK Mary: Deny", "ERROR NOCALL: Mary is not calling you"),
        ("TALK Mary: End", "ERROR NOCALL: you are not in a call with Mary"),
        ("TALK Mary: Later", "ERROR SYNTAX: TALK: action must be Request, Accept, Deny or End"),
        ("PONG: 1", "ERROR SYNTAX: PONG 1 does not answer the last PING"),
        ("PING: 77", "PONG: 77"),
    ];
    for (line, reply) in cases {
        h.send("John", line);
        assert_eq!(h.recv("John"), [reply], "{line}");
    }
    // A refused call request also resolves as a denial.
    let refused_requests = [
        ("TALK Nobody: Request", "ERROR NOSUCHNICK: no user named Nobody", "TALK Nobody: Deny"),
        ("TALK john: Request", "ERROR SELFTARGET: you cannot call yourself", "TALK john: Deny"),
    ];
    for (line, error, deny) in refused_requests {
        h.send("John", line);
        assert_eq!(h.recv("John"), [error, deny], "{line}");
    }
    h.send_bytes("John", b"MSG #Lobby: \xff\r\n");
    assert_eq!(h.recv("John"), ["ERROR INVALIDUTF8: line is not valid UTF-8"]);
    h.send("John", "");
    assert!(h.recv("John").is_empty(), "empty lines are ignored");
    assert!(h.recv("Mary").is_empty(), "nobody else heard any of it");
}

#[test]
fn private_messages_ignore_case_of_the_nick() {
    let mut h = Harness::new();
    h.join("John");
    h.join("Mary");
    h.send("John", "PRIVMSG mARY: hi: there");
    assert_eq!(h.recv("Mary"), ["PRIVMSG John: hi: there"]);
}

#[test]
fn one_command_byte_by_byte_and_many_in_one_write() {
    let mut h = Harness::new();
    h.join("John");
    h.join("Mary");
    for b in b"MSG #Lobby: one byte at a time\r\n" {
        h.send_bytes("John", &[*b]);
    }
    assert_eq!(h.recv("Mary"), ["MSG John #Lobby: one byte at a time"]);
    h.send_bytes("John", b"MSG #Lobby: a\r\nMSG #Lobby: b\nMSG #Lobby: c\r\n");
    assert_eq!(h.recv("Mary"), ["MSG John #Lobby: a", "MSG John #Lobby: b", "MSG John #Lobby: c"]);
}

#[test]
fn overlong_line_is_refused_and_the_stream_recovers() {
    let mut h = Harness::with(ServerConfig { max_line_len: 100, ..ServerConfig::default() });
    h.join("John");
    h.join("Mary");
    let mut big = b"MSG #Lobby: ".to_vec();
    big.resize(1 << 20, b'x');
    for chunk in big.chunks(65536) {
        h.send_bytes("John", chunk);
    }
    h.send_bytes("John", b"\r\nMSG #Lobby: after\r\n");
    assert_eq!(h.recv("John"), ["ERROR LINETOOLONG: lines are limited to 100 bytes"]);
    assert_eq!(h.recv("Mary"), ["MSG John #Lobby: after"]);
}

#[test]
fn rooms_are_created_on_join_and_removed_when_empty() {
    let mut h = Harness::new();
    h.join("John");
    h.join("Mary");
    h.send("John", "JOIN: #Turbo");
    assert_eq!(h.server.room_count(), 2);
    h.recv_all();
    h.send("Mary", "JOIN: #turbo");
    assert_eq!(h.recv("Mary")[..2], ["JOINED: #Turbo", "USERLIST #Turbo: John, Mary"]);
    assert_eq!(h.recv("John"), ["USERJOIN #Turbo: Mary"]);
    h.send("Mary", "MSG #TURBO: same room");
    assert_eq!(h.recv("John"), ["MSG Mary #Turbo: same room"]);
    h.send("John", "JOIN: #Lobby");
    h.send("Mary", "JOIN: #Lobby");
    assert_eq!(h.server.room_count(), 1, "#Turbo is gone, #Lobby stays");
    h.send("John", "JOIN: #Lobby2");
    h.send("John", "JOIN: #Lobby");
    h.send("Mary", "DISCONNECT");
    h.send("John", "DISCONNECT");
    assert_eq!(h.server.room_count(), 1);
}

#[test]
fn room_limit() {
    let mut h = Harness::with(ServerConfig { max_rooms: 2, ..ServerConfig::default() });
    h.join("John");
    h.join("Mary");
    h.send("John", "JOIN: #A");
    h.recv_all();
    h.send("Mary", "JOIN: #B");
    assert_eq!(h.recv("Mary"), ["ERROR TOOMANYROOMS: the server has its maximum of 2 rooms"]);
    h.send("Mary", "JOIN: #a");
    assert_eq!(h.recv_masked("Mary")[0], "JOINED: #A");
}

#[test]
fn ping_timeout_drops_the_client_and_tells_the_room() {
    let mut h = Harness::new();
    h.join("John");
    h.join("Mary");
    h.advance(ServerConfig::DEFAULT_PING_INTERVAL);
    let john = h.recv("John");
    assert!(john[0].starts_with("PING: "));
    let mary = h.recv("Mary");
    h.send("Mary", &mary[0].replace("PING", "PONG"));
    h.advance(ServerConfig::DEFAULT_PING_TIMEOUT - s(1));
    assert_eq!(h.was_closed("John"), None);
    h.advance(s(1));
    assert_eq!(h.was_closed("John"), Some(CloseReason::PingTimeout));
    assert_eq!(h.recv("John"), ["ERROR PINGTIMEOUT: no PONG within 150 s"]);
    assert!(h.recv("Mary").contains(&"USERLEAVE #Lobby: John".to_owned()));
    assert_eq!(h.was_closed("Mary"), None);
}

#[test]
fn registration_timeout() {
    let mut h = Harness::new();
    h.open("idle");
    h.advance(ServerConfig::DEFAULT_REGISTRATION_TIMEOUT);
    assert_eq!(h.was_closed("idle"), Some(CloseReason::RegistrationTimeout));
    assert_eq!(h.recv("idle"), ["ERROR REGISTRATIONTIMEOUT: no valid CONNECT within 30 s"]);
    assert_eq!(h.server.connection_count(), 0);
}

#[test]
fn server_full() {
    let mut h = Harness::with(ServerConfig { max_clients: 2, ..ServerConfig::default() });
    h.join("a");
    h.open("b");
    h.open("c");
    assert_eq!(h.was_closed("c"), Some(CloseReason::ServerFull));
    assert_eq!(h.recv("c"), ["ERROR SERVERFULL: the server is full (2 clients)"]);
    h.server.handle_disconnect(h.now, h.conns["c"]);
    h.server.handle_disconnect(h.now, h.conns["b"]);
    h.open("d");
    assert_eq!(h.was_closed("d"), None, "a freed place is usable");
}

#[test]
fn flood_is_reported_once_and_commands_dropped() {
    let config = ServerConfig { command_rate: 1, command_burst: 3, ..ServerConfig::default() };
    let mut h = Harness::with(config);
    h.join("John");
    h.join("Mary");
    h.advance(s(10));
    h.recv_all();
    let flood: String = (0..10).map(|i| format!("MSG #Lobby: {i}\r\n")).collect();
    h.send_bytes("John", flood.as_bytes());
    assert_eq!(h.recv("Mary"), ["MSG John #Lobby: 0", "MSG John #Lobby: 1", "MSG John #Lobby: 2"]);
    assert_eq!(
        h.recv("John"),
        ["ERROR FLOOD: more than 1 commands per second; commands are being dropped"]
    );
    h.advance(s(1));
    h.send("John", "MSG #Lobby: later");
    assert_eq!(h.recv("Mary"), ["MSG John #Lobby: later"]);
}

#[test]
fn empty_lines_are_ignored_and_never_make_a_flood() {
    let mut h = Harness::new();
    h.join("John");
    h.open("anon");
    // Far more than the burst of 40, with either line ending.
    let blank = "\r\n\n".repeat(100);
    h.send_bytes("John", format!("{blank}PING: 1\r\n").as_bytes());
    assert_eq!(h.recv("John"), ["PONG: 1"], "no reply to the blank lines, and no FLOOD");
    h.send_bytes("anon", format!("{blank}CONNECT: \"anon\" \"\" 1.0\r\n").as_bytes());
    assert_eq!(h.recv("anon")[0], "ACCEPT: hostname.com", "nor before registration");
}

#[test]
fn slow_consumer_is_dropped_without_hurting_others() {
    let config = ServerConfig {
        max_output_queue_bytes: 4096,
        command_rate: 10_000,
        command_burst: 10_000,
        ..ServerConfig::default()
    };
    let mut h = Harness::with(config);
    h.join("slow");
    h.join("fast");
    h.join("talker");
    let mut fast = Vec::new();
    for i in 0..200 {
        h.send("talker", &format!("MSG #Lobby: message number {i}"));
        // `fast` reads everything; `slow` never does.
        fast.extend(h.recv("fast"));
    }
    assert_eq!(h.was_closed("slow"), Some(CloseReason::SendQueueFull));
    assert_eq!(fast.iter().filter(|l| l.starts_with("MSG talker")).count(), 200);
    assert!(fast.contains(&"USERLEAVE #Lobby: slow".to_owned()));
    let slow = h.recv("slow");
    assert_eq!(
        slow.last().unwrap(),
        "ERROR SENDQUEUEFULL: more than 4096 bytes of output were waiting"
    );
    let total: usize = slow.iter().map(|l| l.len() + 2).sum();
    assert!(total < 4096 + 200, "the queue stayed bounded ({total} bytes)");
    assert_eq!(h.was_closed("fast"), None);
}

#[test]
fn calls_ring_out() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.recv_all();
    h.advance(ServerConfig::DEFAULT_RING_TIMEOUT);
    assert_eq!(h.recv("A"), ["TALK B: End"]);
    assert_eq!(h.recv("B"), ["TALK A: End"]);
    h.send("B", "TALK A: Accept");
    assert_eq!(h.recv("B"), ["ERROR NOCALL: A is not calling you"]);
}

#[test]
fn caller_can_withdraw_a_request() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("A", "TALK B: End");
    assert_eq!(h.recv("B"), ["TALK A: Request", "TALK A: End"]);
    h.advance(ServerConfig::DEFAULT_RING_TIMEOUT);
    assert!(h.recv("A").is_empty(), "a withdrawn call does not ring out later");
}

#[test]
fn busy_when_either_side_is_in_a_call() {
    let mut h = Harness::new();
    for who in ["A", "B", "C"] {
        h.join(who);
    }
    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Accept");
    h.recv_all();
    h.send("C", "TALK A: Request");
    assert_eq!(h.recv("C"), ["ERROR BUSY: A is in another call", "TALK A: Deny"]);
    h.send("A", "TALK C: Request");
    assert_eq!(h.recv("A"), ["ERROR BUSY: you are already in a call with B", "TALK C: Deny"]);
    assert!(h.recv("B").is_empty());
}

#[test]
fn crossing_requests_connect_the_call() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Request");
    assert_eq!(h.recv_masked("A"), ["TALK B: Accept", "VOICE B: <session> <key>"]);
    // B asked too, and its request is answered as well.
    assert_eq!(
        h.recv_masked("B"),
        ["TALK A: Request", "TALK A: Accept", "VOICE A: <session> <key>"]
    );
}

#[test]
fn a_partner_who_disconnects_ends_the_call() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Accept");
    h.recv_all();
    h.server.handle_disconnect(h.now, h.conns["B"]);
    h.drain_events();
    assert_eq!(h.recv("A"), ["TALK B: End", "USERLEAVE #Lobby: B"]);
    // A is free again.
    h.join("C");
    h.send("C", "TALK A: Request");
    assert_eq!(h.recv("A"), ["TALK C: Request"]);
}

#[test]
fn voice_sessions_follow_rooms_and_calls() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    let open_groups = |relay: &[RelayCommand]| -> Vec<(SessionId, Option<GroupId>)> {
        relay
            .iter()
            .filter_map(|c| match c {
                RelayCommand::Open { session, group, .. } => Some((*session, *group)),
                _ => None,
            })
            .collect()
    };
    let opened = open_groups(&h.relay);
    assert_eq!(opened.len(), 2);
    assert_eq!(opened[0].1, opened[1].1, "both in the #Lobby group");
    let (a_room, b_room) = (opened[0].0, opened[1].0);
    h.relay.clear();

    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Accept");
    let moves: Vec<_> = h.relay.iter().filter(|c| matches!(c, RelayCommand::Move { .. })).collect();
    assert_eq!(moves.len(), 2, "both room sessions pause: {moves:?}");
    let calls = open_groups(&h.relay);
    assert_eq!(calls.len(), 2);
    assert!(calls[0].1.is_some() && calls[0].1 == calls[1].1, "a group of their own");
    assert_ne!(calls[0].1, opened[0].1);
    h.relay.clear();

    h.send("A", "TALK B: End");
    let closed: Vec<_> = h
        .relay
        .iter()
        .filter_map(|c| match c {
            RelayCommand::Close { session } => Some(*session),
            _ => None,
        })
        .collect();
    assert_eq!(closed, [calls[0].0, calls[1].0]);
    let resumed: Vec<_> = h
        .relay
        .iter()
        .filter_map(|c| match c {
            RelayCommand::Move { session, group } => Some((*session, *group)),
            _ => None,
        })
        .collect();
    assert_eq!(resumed, [(a_room, opened[0].1), (b_room, opened[0].1)]);
    h.relay.clear();

    h.send("A", "JOIN: #Other");
    assert!(matches!(h.relay[0], RelayCommand::Close { session } if session == a_room));
    assert!(
        matches!(&h.relay[1], RelayCommand::Open { group: Some(g), .. } if Some(*g) != opened[0].1)
    );
}

#[test]
fn shutdown_tells_everyone() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.open("c");
    h.server.shutdown(h.now);
    h.drain_events();
    for who in ["A", "B", "c"] {
        assert_eq!(h.recv(who), ["ERROR SHUTDOWN: the server is shutting down"], "{who}");
        assert_eq!(h.was_closed(who), Some(CloseReason::Shutdown));
    }
    assert_eq!(h.server.connection_count(), 0);
    h.open("late");
    assert_eq!(h.recv("late"), ["ERROR SHUTDOWN: the server is shutting down"]);
    assert_eq!(h.was_closed("late"), Some(CloseReason::Shutdown));
}

#[test]
fn events_for_the_log() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Accept");
    h.send("A", "DISCONNECT");
    let names: Vec<String> = h
        .events
        .iter()
        .map(|e| match e {
            ServerEvent::Registered { nick, .. } => format!("registered {nick}"),
            ServerEvent::Left { nick, reason } => format!("left {nick} {reason:?}"),
            ServerEvent::CallStarted { caller, callee } => format!("call {caller}->{callee}"),
            ServerEvent::CallEnded { caller, callee } => format!("end {caller}->{callee}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        ["registered A", "registered B", "call A->B", "end A->B", "left A ClientQuit"]
    );
}

#[test]
fn a_big_rooms_user_list_is_split_into_lines_every_client_accepts() {
    let mut h = Harness::new();
    let names: Vec<&'static str> =
        (0..300).map(|i| &*format!("member-with-a-long-nickname-{i:03}").leak()).collect();
    for name in &names {
        h.join(name);
    }
    h.open("late");
    h.send("late", "CONNECT: \"late\" \"x\" 1.0");
    let lines = h.recv("late");
    let lists: Vec<&String> = lines.iter().filter(|l| l.starts_with("USERLIST")).collect();
    assert!(lists.len() > 1, "{} members fit one line?", names.len());
    assert!(lines.iter().all(|l| l.len() <= crate::wire::DEFAULT_MAX_LINE_LEN));
    let listed: Vec<&str> =
        lists.iter().flat_map(|l| l.split_once(": ").unwrap().1.split(", ")).collect();
    assert_eq!(listed.len(), names.len() + 1);
    assert_eq!(listed[..names.len()], names[..]);
    assert_eq!(listed.last(), Some(&"late"));
}

#[test]
fn voice_session_limit_gives_a_clear_error() {
    let mut h = Harness::with(ServerConfig { max_voice_sessions: 2, ..ServerConfig::default() });
    h.join("A");
    h.join("B");
    h.open("C");
    h.send("C", "CONNECT: \"C\" \"x\" 1.0");
    let lines = h.recv("C");
    assert_eq!(
        lines.last().unwrap(),
        "ERROR NOVOICE: no voice here: the server has its maximum of 2 voice sessions"
    );
    assert!(!lines.iter().any(|l| l.starts_with("VOICE")));
    // A leaves: a place is free again.
    h.send("A", "DISCONNECT");
    h.send("C", "JOIN: #Other");
    assert!(h.recv("C").iter().any(|l| l.starts_with("VOICE #Other: ")));
}

#[test]
fn timers_beyond_any_instant_never_fire_and_short_ones_read_well() {
    let config = ServerConfig {
        ping_interval: Duration::MAX,
        ping_timeout: Duration::from_millis(500),
        registration_timeout: Duration::MAX,
        ring_timeout: Duration::MAX,
        ..ServerConfig::default()
    };
    let mut h = Harness::with(config);
    h.open("idle");
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.advance(s(365 * 24 * 3600));
    assert_eq!(h.was_closed("idle"), None);
    assert_eq!(h.was_closed("A"), None);
    assert_eq!(h.recv("B"), ["TALK A: Request"], "still ringing");

    let mut h = Harness::with(ServerConfig {
        ping_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    });
    h.open("x");
    h.send("x", "CONNECT: \"x\" \"x\" 1.0");
    h.recv_all();
    h.advance(Duration::from_millis(500));
    assert_eq!(h.recv("x"), ["ERROR PINGTIMEOUT: no PONG within 500 ms"]);
}

#[test]
fn durations_in_replies() {
    for (d, text) in [
        (Duration::from_secs(150), "150 s"),
        (Duration::from_millis(500), "500 ms"),
        (Duration::from_millis(1500), "1.5 s"),
    ] {
        assert_eq!(Seconds(d).to_string(), text);
    }
}

#[test]
fn idle_connections_give_back_burst_memory() {
    let config =
        ServerConfig { command_rate: 1_000, command_burst: 1_000, ..ServerConfig::default() };
    let mut h = Harness::with(config);
    h.join("idle");
    h.join("chatty");
    // A burst for `idle` that it takes in one go, then nothing.
    let text = "x".repeat(100);
    for _ in 0..100 {
        h.send("chatty", &format!("PRIVMSG idle: {text}"));
    }
    assert_eq!(h.recv("idle").len(), 100);
    // What is left of the buffer is what the connection keeps while idle;
    // a tail of the burst's allocation would keep all of it alive.
    let conn = &h.server.conns[&h.conns["idle"]];
    assert!(conn.output.capacity() <= IDLE_BUFFER_CAPACITY, "keeps {}", conn.output.capacity());
}

#[test]
fn messages_too_long_to_pass_on_are_refused() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.recv_all();
    // "MSG A #Lobby: " is 14 bytes: text of 4082 makes exactly 4096.
    let fits = "x".repeat(4_082);
    h.send("A", &format!("MSG #Lobby: {fits}"));
    assert_eq!(h.recv("B"), [format!("MSG A #Lobby: {fits}")]);
    let over = "x".repeat(4_083);
    h.send("A", &format!("MSG #Lobby: {over}"));
    assert_eq!(
        h.recv("A"),
        ["ERROR LINETOOLONG: the message is too long to pass on: 4097 bytes with your name, \
          at most 4096"]
    );
    assert!(h.recv("B").is_empty());
    // "PRIVMSG Caroline: " (18 bytes) is longer than "PRIVMSG B: " (11).
    h.join("Caroline");
    h.recv_all();
    let over = "x".repeat(4_080);
    h.send("Caroline", &format!("PRIVMSG B: {over}"));
    assert_eq!(
        h.recv("Caroline"),
        ["ERROR LINETOOLONG: the message is too long to pass on: 4098 bytes with your name, \
          at most 4096"]
    );
    assert!(h.recv("B").is_empty());
    let fits = "x".repeat(4_078);
    h.send("Caroline", &format!("PRIVMSG B: {fits}"));
    assert_eq!(h.recv("B"), [format!("PRIVMSG Caroline: {fits}")]);
}

#[test]
fn a_room_joined_while_a_call_rings_has_live_voice_whatever_the_ring_becomes() {
    // Denied by the callee, withdrawn by the caller, or rung out: none of
    // them was accepted, so none may leave the caller's room voice paused.
    type Ending = (&'static str, fn(&mut Harness));
    let endings: [Ending; 3] = [
        ("deny", |h| h.send("B", "TALK A: Deny")),
        ("withdrawal", |h| h.send("A", "TALK B: End")),
        ("ring timeout", |h| h.advance(ServerConfig::DEFAULT_RING_TIMEOUT)),
    ];
    for (ending, end) in endings {
        let mut h = Harness::new();
        for who in ["A", "B", "C"] {
            h.join(who);
        }
        h.send("C", "JOIN: #Other");
        let c_session = voice_session(&h.recv("C"), "#Other");
        let room = h.relay_group(c_session);
        assert!(room.is_some());
        h.send("A", "TALK B: Request");
        h.recv_all();
        h.send("A", "JOIN: #Other");
        let session = voice_session(&h.recv("A"), "#Other");
        end(&mut h);
        assert_eq!(h.relay_group(session), room, "{ending}: A talks in #Other");
        assert!(h.server.user(h.conns["A"]).is_some_and(|u| u.call.is_none()), "{ending}: over");
    }
}

#[test]
fn a_room_joined_during_a_live_call_is_paused_until_the_call_ends() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("B", "TALK A: Accept");
    h.recv_all();
    h.send("A", "JOIN: #Other");
    let session = voice_session(&h.recv("A"), "#Other");
    assert_eq!(h.relay_group(session), None, "the call has A's voice");
    h.send("B", "TALK A: End");
    assert!(h.relay_group(session).is_some(), "room voice resumes after the call");
}

#[test]
fn a_repeated_request_while_ringing_is_ignored() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.send("A", "TALK b: Request");
    // The pending request will resolve it: an answer now (a Deny) would be
    // followed by the first request's own, and a request resolves once.
    assert!(h.recv("A").is_empty(), "no answer to the repeat");
    assert_eq!(h.recv("B"), ["TALK A: Request"], "B is asked once");
    h.send("B", "TALK A: Accept");
    assert_eq!(h.recv_masked("A"), ["TALK B: Accept", "VOICE B: <session> <key>"]);
}

#[test]
fn the_callee_ending_a_ringing_call_denies_it() {
    let mut h = Harness::new();
    h.join("A");
    h.join("B");
    h.send("A", "TALK B: Request");
    h.recv_all();
    h.send("B", "TALK A: End");
    // End is for calls withdrawn, ended or rung out; a callee who will not
    // answer refuses the call.
    assert_eq!(h.recv("A"), ["TALK B: Deny"]);
    assert!(h.recv("B").is_empty());
    h.advance(ServerConfig::DEFAULT_RING_TIMEOUT);
    assert!(h.recv("A").is_empty(), "the call is over and does not ring out");
    h.send("B", "TALK A: Request");
    assert_eq!(h.recv("A"), ["TALK B: Request"], "both are free again");
}

#[test]
fn pongs_that_answer_no_ping_count_as_commands() {
    let config = ServerConfig { command_rate: 1, command_burst: 3, ..ServerConfig::default() };
    let mut h = Harness::with(config);
    h.join("John");
    h.open("anon");
    h.advance(s(10));
    h.recv_all();
    let flood = "PONG: 1\r\n".repeat(1_000);
    for who in ["John", "anon"] {
        h.send_bytes(who, flood.as_bytes());
        let replies = h.recv(who);
        // The burst's worth of refusals, and the flood reported once.
        assert_eq!(replies.len(), 4, "{who}: {replies:?}");
        assert!(replies[3].starts_with("ERROR FLOOD: "), "{who}: {replies:?}");
        assert_eq!(h.was_closed(who), None);
    }
}

#[test]
fn the_pong_that_answers_the_ping_is_honoured_during_a_flood() {
    let config = ServerConfig { command_rate: 1, command_burst: 3, ..ServerConfig::default() };
    let mut h = Harness::with(config);
    h.join("John");
    h.advance(ServerConfig::DEFAULT_PING_INTERVAL);
    let ping = h.recv("John");
    let token = ping[0].strip_prefix("PING: ").expect("a periodic PING").to_owned();
    let bad = "PONG: 1\r\n".repeat(500);
    h.send_bytes("John", format!("{bad}PONG: {token}\r\n{bad}").as_bytes());
    assert!(h.recv("John").len() <= 4, "the bad ones were dropped");
    h.advance(ServerConfig::DEFAULT_PING_TIMEOUT);
    assert_eq!(h.was_closed("John"), None, "the PING was answered");
    assert!(h.recv("John")[0].starts_with("PING: "), "and the next one comes");
}

#[test]
fn running_out_of_voice_session_ids_is_reported_as_such() {
    let mut h = Harness::new();
    h.server.sessions = SessionIds::starting_at(SessionId::new(u32::MAX).unwrap());
    h.open("A");
    h.send("A", "CONNECT: \"A\" \"x\" 1.0");
    let lines = h.recv("A");
    assert!(lines.iter().any(|l| l.starts_with("VOICE #Lobby: 4294967295 ")), "the last id");
    h.open("B");
    h.send("B", "CONNECT: \"B\" \"x\" 1.0");
    let novoice = "ERROR NOVOICE: no voice here: the server has handed out every voice session \
                   id it may (4294967295) and must be restarted before it can give voice again";
    assert_eq!(h.recv("B").last().unwrap(), novoice);
    // Not a passing shortage: a session closing frees no id.
    h.send("A", "DISCONNECT");
    h.send("B", "JOIN: #Other");
    assert_eq!(h.recv("B").last().unwrap(), novoice);
    let told = h.events.iter().filter(|e| matches!(e, ServerEvent::VoiceIdsExhausted)).count();
    assert_eq!(told, 1, "the operator is told, once");
}

#[test]
fn an_output_limit_below_the_longest_reply_is_refused() {
    assert_eq!(ServerConfig::default().validate(), Ok(()), "the defaults agree");
    // As PROTOCOL.md ("Limits") says.
    assert_eq!(ServerConfig::default().max_reply_bytes(), 345_398);
    let config = ServerConfig {
        max_clients: 10_000,
        max_output_queue_bytes: 256 * 1024,
        ..ServerConfig::default()
    };
    let needed = config.max_reply_bytes();
    let error = config.validate().expect_err("a full room's USERLIST does not fit");
    assert_eq!(
        error,
        ServerConfigError::OutputQueueTooSmall { queue: 262_144, needed, max_clients: 10_000 }
    );
    let message = error.to_string();
    assert!(message.contains("262144") && message.contains(&needed.to_string()), "{message}");
    let at_minimum = ServerConfig { max_output_queue_bytes: needed, ..config.clone() };
    assert_eq!(at_minimum.validate(), Ok(()));
    let below = ServerConfig { max_output_queue_bytes: needed - 1, ..config };
    assert!(below.validate().is_err());
}

#[test]
fn every_client_registers_and_joins_with_the_output_limit_at_its_minimum() {
    const CLIENTS: usize = 1_500;
    let config = ServerConfig {
        max_clients: CLIENTS,
        command_rate: 1_000,
        command_burst: 1_000,
        ..ServerConfig::default()
    };
    let limit = config.max_reply_bytes();
    let config = ServerConfig { max_output_queue_bytes: limit, ..config };
    let mut h = Harness::with(config);
    let nicks: Vec<&'static str> = (0..CLIENTS).map(|i| &*format!("{i:0>32}").leak()).collect();
    assert!(nicks.iter().all(|n| n.len() == crate::MAX_NICK_LEN));
    let room = "#".to_owned() + &"r".repeat(crate::MAX_ROOM_LEN - 1);
    // Each new client's reply waits unread in full. The others read the
    // USERJOIN (or USERLEAVE) it causes before the next one comes: queued
    // unread, those would make them slow consumers, rightly dropped.
    let commands: [fn(&str, &str) -> String; 2] =
        [|nick, _| format!("CONNECT: \"{nick}\" \"x\" 1.0"), |_, room| format!("JOIN: {room}")];
    for command in commands {
        for (i, &nick) in nicks.iter().enumerate() {
            if !h.conns.contains_key(nick) {
                h.open(nick);
            }
            h.send(nick, &command(nick, &room));
            assert_eq!(h.was_closed(nick), None, "client {i}");
            let reply = h.recv(nick);
            assert!(reply.iter().map(|l| l.len() + 2).sum::<usize>() <= limit);
            assert!(reply.last().is_some_and(|l| l.starts_with("VOICE #")), "{reply:?}");
            let listed: usize = reply
                .iter()
                .filter_map(|l| l.strip_prefix("USERLIST "))
                .map(|l| l.split(", ").count())
                .sum();
            assert_eq!(listed, i + 1, "client {i} sees everyone");
            while let Some(id) = h.server.poll_ready() {
                let _ = h.server.take_output(id);
            }
        }
    }
    assert_eq!(h.server.user_count(), CLIENTS);
}
