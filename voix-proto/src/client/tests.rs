//! Client sessions driven against the real server core on virtual time:
//! a whole conversation is a deterministic script with no sockets.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::server::{ConnectionId, Server, ServerConfig, ServerEvent};

/// A server core and several client sessions joined by in-memory pipes.
struct Net {
    server: Server,
    now: Instant,
    clients: Vec<(ConnectionId, ClientSession)>,
}

impl Net {
    fn new(config: ServerConfig) -> Self {
        Self { server: Server::new(config, [1; 32]), now: Instant::now(), clients: Vec::new() }
    }

    fn connect(&mut self, nick: &str) -> usize {
        let conn = self.server.handle_connect(self.now);
        let session = ClientSession::new(
            Nick::new(nick).unwrap(),
            RealName::new("Test User").unwrap(),
            Version::new("1.0.0").unwrap(),
        );
        self.clients.push((conn, session));
        self.drive();
        self.clients.len() - 1
    }

    fn client(&mut self, i: usize) -> &mut ClientSession {
        &mut self.clients[i].1
    }

    /// Moves bytes until nothing moves; bounded so a livelock fails the test.
    fn drive(&mut self) {
        for _ in 0..1_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the conversation did not settle");
    }

    fn step(&mut self) -> bool {
        let mut moved = false;
        for (conn, session) in &mut self.clients {
            if let Some(bytes) = session.poll_transmit() {
                self.server.handle_input(self.now, *conn, &bytes);
                moved = true;
            }
        }
        while let Some(event) = self.server.poll_event() {
            if let ServerEvent::Close { conn, .. } = event {
                if let Some((_, session)) = self.clients.iter_mut().find(|(c, _)| *c == conn) {
                    if let Some(bytes) = self.server.take_output(conn) {
                        session.handle_input(self.now, &bytes);
                    }
                    session.handle_disconnect();
                }
                self.server.handle_disconnect(self.now, conn);
            }
        }
        while let Some(conn) = self.server.poll_ready() {
            let Some(bytes) = self.server.take_output(conn) else { continue };
            if let Some((_, session)) = self.clients.iter_mut().find(|(c, _)| *c == conn) {
                session.handle_input(self.now, &bytes);
                moved = true;
            }
        }
        moved
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.server.handle_timeout(self.now);
        self.drive();
    }

    fn events(&mut self, i: usize) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.client(i).poll_event()).collect()
    }
}

fn nick(s: &str) -> Nick<'_> {
    Nick::new(s).unwrap()
}

fn nick_buf(s: &str) -> NickBuf {
    nick(s).into_owned()
}

#[test]
fn registration_answers_pings_and_tracks_the_room() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    assert!(net.client(a).is_registered());
    assert_eq!(net.client(a).room().map(|r| r.as_str()), Some("#Lobby"));
    assert_eq!(net.client(a).members(), [nick("Alice"), nick("Bob")]);
    assert_eq!(net.client(b).members(), [nick("Alice"), nick("Bob")]);
    assert!(net.client(a).active_voice().is_some());
    // Both answered the registration PING, so the keepalive carries on.
    net.advance(ServerConfig::DEFAULT_PING_INTERVAL);
    net.advance(ServerConfig::DEFAULT_PING_TIMEOUT);
    assert!(!net.client(a).is_closed());
}

#[test]
fn nickname_in_use_can_be_retried() {
    let mut net = Net::new(ServerConfig::default());
    net.connect("Alice");
    let b = net.connect("alice");
    let events = net.events(b);
    assert!(events.iter().any(|e| matches!(e, ClientEvent::Refused { nickname_in_use: true, .. })));
    net.client(b).retry_with(nick("Alice2")).unwrap();
    net.drive();
    assert!(net.client(b).is_registered());
    assert_eq!(net.client(b).nick().as_str(), "Alice2");
}

#[test]
fn chat_in_rooms_and_private() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    net.events(a);
    net.events(b);
    net.client(a).say(Text::new("hello: all").unwrap()).unwrap();
    net.client(a).private_message(nick("bob"), Text::new("psst").unwrap()).unwrap();
    net.drive();
    assert_eq!(
        net.events(b),
        [
            ClientEvent::RoomMessage {
                from: nick_buf("Alice"),
                room: Room::LOBBY.into_owned(),
                text: Text::new("hello: all").unwrap().into_owned()
            },
            ClientEvent::PrivateMessage {
                from: nick_buf("Alice"),
                text: Text::new("psst").unwrap().into_owned()
            },
        ]
    );
    net.client(b).join(Room::new("#Turbo").unwrap()).unwrap();
    net.drive();
    assert_eq!(net.client(b).members(), [nick("Bob")]);
    assert_eq!(net.client(a).members(), [nick("Alice")]);
    assert!(net.events(a).contains(&ClientEvent::UserLeft {
        room: Room::LOBBY.into_owned(),
        nick: nick_buf("Bob")
    }));
    assert_eq!(
        net.client(a).private_message(nick("ALICE"), Text::new("me").unwrap()),
        Err(ClientError::SelfTarget)
    );
}

#[test]
fn a_call_from_request_to_hang_up() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    let lobby_voice = net.client(a).active_voice().cloned().unwrap();
    net.client(a).call(nick("Bob")).unwrap();
    assert_eq!(net.client(a).call(nick("Bob")), Err(ClientError::AlreadyInCall));
    net.drive();
    assert_eq!(net.client(b).call_state(), &CallState::Incoming(nick_buf("Alice")));
    net.client(b).accept().unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Active(nick_buf("Bob")));
    assert_eq!(net.client(b).call_state(), &CallState::Active(nick_buf("Alice")));
    let call_voice = net.client(a).active_voice().cloned().unwrap();
    assert_eq!(call_voice.scope, VoiceScopeBuf::Call(nick_buf("Bob")));
    assert_ne!(call_voice.session, lobby_voice.session);
    net.events(a);
    net.client(b).hang_up().unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Idle);
    assert!(
        net.events(a)
            .contains(&ClientEvent::CallEnded { peer: nick_buf("Bob"), how: CallEnd::HungUp })
    );
    assert_eq!(net.client(a).active_voice(), Some(&lobby_voice), "room voice resumes");
}

#[test]
fn crossing_calls_connect_both_sides() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    net.client(a).call(nick("Bob")).unwrap();
    net.client(b).call(nick("Alice")).unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Active(nick_buf("Bob")));
    assert_eq!(net.client(b).call_state(), &CallState::Active(nick_buf("Alice")));
    for (i, peer) in [(a, "Bob"), (b, "Alice")] {
        let voice = net.client(i).active_voice().cloned().unwrap();
        assert_eq!(
            voice.scope,
            VoiceScopeBuf::Call(nick_buf(peer)),
            "{peer}'s partner talks to {peer}"
        );
    }
}

#[test]
fn refused_and_unanswered_calls_resolve() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    net.client(a).call(nick("Nobody")).unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Idle, "unknown nick resolves as denied");
    net.client(a).call(nick("Bob")).unwrap();
    net.drive();
    net.client(b).deny().unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Idle);
    assert!(
        net.events(a)
            .contains(&ClientEvent::CallEnded { peer: nick_buf("Bob"), how: CallEnd::Denied })
    );
    net.client(a).call(nick("Bob")).unwrap();
    net.drive();
    net.advance(ServerConfig::DEFAULT_RING_TIMEOUT);
    assert!(
        net.events(a)
            .contains(&ClientEvent::CallEnded { peer: nick_buf("Bob"), how: CallEnd::NoAnswer })
    );
    assert!(
        net.events(b)
            .contains(&ClientEvent::CallEnded { peer: nick_buf("Alice"), how: CallEnd::Withdrawn })
    );
}

/// A session registered as `me` and in `#Lobby`, with its output and
/// events drained: for scripts of exact server lines.
fn registered(me: &str) -> ClientSession {
    let mut session =
        ClientSession::new(nick(me), RealName::new("").unwrap(), Version::new("1").unwrap());
    feed(&mut session, "ACCEPT: x\r\nJOINED: #Lobby\r\n");
    session.poll_transmit();
    session
}

/// Feeds `lines` to `session` and returns the events they caused.
fn feed(session: &mut ClientSession, lines: &str) -> Vec<ClientEvent> {
    session.handle_input(Instant::now(), lines.as_bytes());
    std::iter::from_fn(|| session.poll_event()).collect()
}

#[test]
fn a_request_while_ours_is_pending_rings_and_ours_ends_once() {
    let mut b = registered("B");
    b.call(nick("C")).unwrap();
    // A's request reached the server before ours, so the server refuses
    // ours because we are ringing.
    let events = feed(
        &mut b,
        "TALK A: Request\r\nERROR BUSY: you are already in a call with A\r\nTALK C: Deny\r\n",
    );
    assert_eq!(
        events[..2],
        [
            ClientEvent::CallEnded { peer: nick_buf("C"), how: CallEnd::Denied },
            ClientEvent::IncomingCall { from: nick_buf("A") },
        ]
    );
    assert!(matches!(events[2], ClientEvent::Error { .. }));
    assert_eq!(events.len(), 3, "the Deny of our request is not reported again: {events:?}");
    assert_eq!(b.call_state(), &CallState::Incoming(nick_buf("A")));
    b.poll_transmit();
    b.accept().unwrap();
    assert_eq!(&b.poll_transmit().unwrap()[..], b"TALK A: Accept\r\n");
    assert_eq!(b.call_state(), &CallState::Active(nick_buf("A")));
}

#[test]
fn the_late_deny_of_a_superseded_request_leaves_the_new_call_alone() {
    let mut b = registered("B");
    b.call(nick("C")).unwrap();
    feed(&mut b, "TALK A: Request\r\n");
    b.accept().unwrap();
    assert_eq!(b.poll_event(), Some(ClientEvent::CallStarted { peer: nick_buf("A") }));
    let events = feed(&mut b, "ERROR BUSY: you are already in a call with A\r\ntalk c: DENY\r\n");
    assert!(matches!(events[..], [ClientEvent::Error { .. }]), "{events:?}");
    assert_eq!(b.call_state(), &CallState::Active(nick_buf("A")));
    // The Deny was that of the old request: a second one is out of place.
    let events = feed(&mut b, "TALK C: Deny\r\n");
    assert!(matches!(events[..], [ClientEvent::Unrecognized { .. }]), "{events:?}");
}

#[test]
fn a_request_that_overtakes_ours_at_the_server_rings() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    net.connect("Carol");
    net.events(b);
    // Alice's request is read first, so Bob rings before his own request
    // to Carol is read.
    net.client(a).call(nick("Bob")).unwrap();
    net.client(b).call(nick("Carol")).unwrap();
    net.drive();
    assert_eq!(net.client(b).call_state(), &CallState::Incoming(nick_buf("Alice")));
    let ended = ClientEvent::CallEnded { peer: nick_buf("Carol"), how: CallEnd::Denied };
    assert_eq!(net.events(b).iter().filter(|e| **e == ended).count(), 1);
    net.client(b).accept().unwrap();
    net.drive();
    assert_eq!(net.client(a).call_state(), &CallState::Active(nick_buf("Bob")));
    assert_eq!(net.client(b).call_state(), &CallState::Active(nick_buf("Alice")));
}

#[test]
fn an_overtaken_request_that_rings_after_all_is_ended() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let b = net.connect("Bob");
    let c = net.connect("Carol");
    net.events(b);
    // Alice calls and gives up before the server reads Bob's request to
    // Carol, so that request rings although Bob was told it was denied.
    net.client(a).call(nick("Bob")).unwrap();
    net.client(a).hang_up().unwrap();
    net.client(b).call(nick("Carol")).unwrap();
    net.drive();
    assert_eq!(net.client(b).call_state(), &CallState::Idle);
    assert_eq!(net.client(c).call_state(), &CallState::Incoming(nick_buf("Bob")));
    net.client(c).accept().unwrap();
    net.drive();
    assert_eq!(net.client(b).call_state(), &CallState::Idle);
    assert_eq!(net.client(c).call_state(), &CallState::Idle, "Bob ended what he was told ended");
    let events = net.events(b);
    let carol = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::CallEnded { peer, .. } if *peer == nick("Carol")));
    assert_eq!(carol.count(), 1, "{events:?}");
}

#[test]
fn round_trip_is_measured_on_virtual_time() {
    let mut net = Net::new(ServerConfig::default());
    let a = net.connect("Alice");
    let now = net.now;
    net.client(a).ping(now - Duration::from_millis(30)).unwrap();
    net.drive();
    assert_eq!(net.client(a).round_trip(), Some(Duration::from_millis(30)));
}

#[test]
fn commands_before_registration_are_refused_locally() {
    let mut session =
        ClientSession::new(nick("A"), RealName::new("").unwrap(), Version::new("1").unwrap());
    assert_eq!(session.say(Text::new("x").unwrap()), Err(ClientError::NotRegistered));
    assert_eq!(session.accept(), Err(ClientError::NotRegistered));
    session.disconnect();
    assert_eq!(session.call(nick("B")), Err(ClientError::Closed));
}

#[test]
fn unknown_server_lines_are_reported_not_fatal() {
    let mut session =
        ClientSession::new(nick("A"), RealName::new("").unwrap(), Version::new("1").unwrap());
    let now = Instant::now();
    session.handle_input(now, b"ACCEPT: x\r\nFROBNICATE: 1\r\nJOINED: #Lobby\r\n");
    let events: Vec<_> = std::iter::from_fn(|| session.poll_event()).collect();
    assert!(matches!(events[1], ClientEvent::Unrecognized { .. }));
    assert_eq!(session.room().map(|r| r.as_str()), Some("#Lobby"));
}

#[test]
fn an_error_with_a_code_this_version_does_not_know_is_an_error() {
    let mut session = registered("A");
    let events = feed(&mut session, "ERROR FROBNICATED: try again later\r\n");
    assert!(
        matches!(&events[..], [ClientEvent::Error { reason, .. }] if reason == "try again later"),
        "{events:?}"
    );
    assert_eq!(
        events[0],
        ClientEvent::Error {
            code: None,
            word: "FROBNICATED".to_owned(),
            reason: "try again later".to_owned()
        }
    );
    // Known codes keep their code, in their usual spelling.
    let events = feed(&mut session, "error busy: C is in another call\r\n");
    assert_eq!(
        events,
        [ClientEvent::Error {
            code: Some(ErrorCode::Busy),
            word: "BUSY".to_owned(),
            reason: "C is in another call".to_owned()
        }]
    );
    // Neither the code nor the line may be malformed.
    for line in ["ERROR FROB\u{e9}: x", "ERROR FROB:", "ERROR: x"] {
        let events = feed(&mut session, &format!("{line}\r\n"));
        assert!(matches!(events[..], [ClientEvent::Unrecognized { .. }]), "{line}: {events:?}");
    }
}

/// A `VOICE` line handing out session `session` for `scope`.
fn voice_line(scope: &str, session: u32) -> String {
    format!("VOICE {scope}: {session} {}\r\n", "ab".repeat(32))
}

#[test]
fn a_call_credential_is_kept_only_for_the_current_call() {
    let mut a = registered("A");
    feed(&mut a, &voice_line("#Lobby", 1));
    let lobby = a.active_voice().cloned().unwrap();
    a.call(nick("B")).unwrap();
    // We hang up while B's Accept, and so our credential, is on its way.
    a.hang_up().unwrap();
    let events = feed(&mut a, &format!("TALK B: Accept\r\n{}", voice_line("B", 5)));
    assert!(!events.iter().any(|e| matches!(e, ClientEvent::Voice(_))), "{events:?}");
    assert!(
        matches!(&events[..], [.., ClientEvent::Unrecognized { line, .. }]
        if line.starts_with("VOICE B: 5") && !line.contains("abab")),
        "{events:?}"
    );
    // The next call gets no voice: it must not use B's.
    a.call(nick("C")).unwrap();
    feed(&mut a, "TALK C: Accept\r\nERROR NOVOICE: no voice for this call\r\n");
    assert_eq!(a.call_state(), &CallState::Active(nick_buf("C")));
    assert_eq!(a.active_voice(), None, "the call with C has no voice");
    feed(&mut a, "TALK C: End\r\n");
    // The peer's nickname is matched ignoring case, and the credential
    // goes with the call.
    a.call(nick("D")).unwrap();
    feed(&mut a, &format!("TALK D: Accept\r\n{}", voice_line("d", 7)));
    assert_eq!(a.active_voice().map(|v| v.session.get()), Some(7));
    feed(&mut a, "TALK D: End\r\n");
    assert_eq!(a.active_voice(), Some(&lobby));
}

#[test]
fn a_big_rooms_split_member_list_is_merged() {
    let mut net = Net::new(ServerConfig::default());
    for i in 0..200 {
        net.connect(&format!("member-with-a-long-nickname-{i:03}"));
    }
    let last = net.connect("Last");
    let members = net.client(last).members();
    assert_eq!(members.len(), 201, "the USERLIST lines add up");
    assert_eq!(members[0].as_str(), "member-with-a-long-nickname-000");
    assert_eq!(members[200].as_str(), "Last");
    let first = 0;
    assert_eq!(net.client(first).members().len(), 201);
}

// ---- the state machines under random scripts ----

#[derive(Debug, Clone)]
enum Action {
    Join(usize, u8),
    Say(usize),
    Msg(usize, usize),
    Call(usize, usize),
    /// Both call each other before either hears of the other.
    CallBoth(usize, usize),
    /// The first calls the second, whose own request to the third is on
    /// its way.
    CallCrossing(usize, usize, usize),
    Accept(usize),
    Deny(usize),
    HangUp(usize),
    Quit(usize),
    Wait(u64),
}

fn action(users: usize) -> impl Strategy<Value = Action> {
    let u = 0..users;
    prop_oneof![
        (u.clone(), 0..3u8).prop_map(|(i, r)| Action::Join(i, r)),
        u.clone().prop_map(Action::Say),
        (u.clone(), u.clone()).prop_map(|(i, j)| Action::Msg(i, j)),
        (u.clone(), u.clone()).prop_map(|(i, j)| Action::Call(i, j)),
        (u.clone(), u.clone()).prop_map(|(i, j)| Action::CallBoth(i, j)),
        (u.clone(), u.clone(), u.clone()).prop_map(|(i, j, k)| Action::CallCrossing(i, j, k)),
        u.clone().prop_map(Action::Accept),
        u.clone().prop_map(Action::Deny),
        u.clone().prop_map(Action::HangUp),
        u.prop_map(Action::Quit),
        (0..40u64).prop_map(Action::Wait),
    ]
}

const NAMES: [&str; 4] = ["Ann", "Ben", "Cat", "Dan"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Whatever users do, in any order, every session's view agrees with
    /// every other's and with the server's: same members per room, calls
    /// symmetric, nobody in two calls.
    #[test]
    fn views_stay_consistent(script in prop::collection::vec(action(NAMES.len()), 1..60)) {
        let mut net = Net::new(ServerConfig { command_rate: 1_000, command_burst: 1_000, ..ServerConfig::default() });
        for name in NAMES {
            net.connect(name);
        }
        for act in script {
            // Commands the session refuses locally are simply not sent.
            let _ = match act {
                Action::Join(i, r) => net.client(i).join(Room::new(&format!("#R{r}")).unwrap()),
                Action::Say(i) => net.client(i).say(Text::new("hi").unwrap()),
                Action::Msg(i, j) => net.client(i).private_message(nick(NAMES[j]), Text::new("yo").unwrap()),
                Action::Call(i, j) => net.client(i).call(nick(NAMES[j])),
                Action::CallBoth(i, j) => {
                    let _ = net.client(i).call(nick(NAMES[j]));
                    net.client(j).call(nick(NAMES[i]))
                }
                Action::CallCrossing(i, j, k) => {
                    let _ = net.client(i).call(nick(NAMES[j]));
                    net.client(j).call(nick(NAMES[k]))
                }
                Action::Accept(i) => net.client(i).accept(),
                Action::Deny(i) => net.client(i).deny(),
                Action::HangUp(i) => net.client(i).hang_up(),
                Action::Quit(i) => { net.client(i).disconnect(); Ok(()) }
                Action::Wait(secs) => { net.advance(Duration::from_secs(secs)); Ok(()) }
            };
            net.drive();
        }
        let live: Vec<usize> = (0..NAMES.len()).filter(|&i| net.clients[i].1.is_registered()).collect();
        prop_assert_eq!(net.server.user_count(), live.len());
        for &i in &live {
            let me = &net.clients[i].1;
            let room = me.room().expect("a registered user is in a room").key();
            prop_assert!(me.members().iter().any(|m| m.key() == me.nick().key()), "I am in my own member list");
            for &j in &live {
                let other = &net.clients[j].1;
                let same_room = other.room().map(|r| r.key()) == Some(room.clone());
                let listed = me.members().iter().any(|m| m.key() == other.nick().key());
                prop_assert_eq!(same_room, listed, "{} sees {} correctly", me.nick(), other.nick());
            }
            // Every call, ringing or live, is seen the same way from both ends.
            let (peer, theirs) = match me.call_state() {
                CallState::Active(peer) => (peer, CallState::Active(me.nick().into_owned())),
                CallState::Outgoing(peer) => (peer, CallState::Incoming(me.nick().into_owned())),
                CallState::Incoming(peer) => (peer, CallState::Outgoing(me.nick().into_owned())),
                CallState::Idle => continue,
            };
            let j = live.iter().copied().find(|&j| net.clients[j].1.nick() == *peer);
            let j = j.expect("a call's peer is still here");
            prop_assert_eq!(net.clients[j].1.call_state(), &theirs, "{}'s call", me.nick());
        }
    }
}

#[test]
fn unanswered_pings_time_out_on_virtual_time() {
    let mut session = registered("A");
    let t0 = Instant::now();
    assert_eq!(session.poll_timeout(), None, "nothing to wait for before a PING");
    session.ping(t0).unwrap();
    session.ping(t0 + Duration::from_secs(5)).unwrap();
    assert_eq!(session.poll_timeout(), Some(t0 + DEFAULT_PING_TIMEOUT));

    // The first is answered: the wait counts from the second.
    session.handle_input(t0 + Duration::from_secs(6), b"PONG: 1\r\n");
    assert_eq!(session.poll_timeout(), Some(t0 + Duration::from_secs(5) + DEFAULT_PING_TIMEOUT));
    session.handle_timeout(t0 + DEFAULT_PING_TIMEOUT);
    assert!(!session.is_closed(), "not yet");

    // Then the server goes silent.
    let late = t0 + Duration::from_secs(5) + DEFAULT_PING_TIMEOUT;
    session.handle_timeout(late);
    assert!(session.is_closed());
    let events: Vec<_> = std::iter::from_fn(|| session.poll_event()).collect();
    assert!(
        events.contains(&ClientEvent::PingTimeout { silent_for: DEFAULT_PING_TIMEOUT }),
        "{events:?}"
    );
    assert_eq!(session.poll_timeout(), None);
}

#[test]
fn the_ping_timeout_can_be_changed_and_answers_reset_it() {
    let mut session = registered("A");
    session.set_ping_timeout(Duration::from_secs(2));
    let t0 = Instant::now();
    session.ping(t0).unwrap();
    session.handle_input(t0 + Duration::from_secs(1), b"PONG: 1\r\n");
    assert_eq!(session.poll_timeout(), None);
    session.ping(t0 + Duration::from_secs(3)).unwrap();
    session.handle_timeout(t0 + Duration::from_secs(5));
    assert!(session.is_closed());
}

/// A PING forgotten for its round trip (too many were outstanding) still
/// counts as answered for the timeout when its PONG comes.
#[test]
fn an_answer_to_a_forgotten_ping_resets_the_timeout() {
    let mut session = registered("A");
    session.set_ping_timeout(Duration::from_secs(60));
    let t0 = Instant::now();
    for second in 0..9 {
        session.ping(t0 + Duration::from_secs(second)).unwrap();
    }
    // Pings 1 to 8 were forgotten when the ninth was sent; 8 is answered.
    session.handle_input(t0 + Duration::from_secs(9), b"PONG: 8\r\n");
    let ninth = t0 + Duration::from_secs(8);
    assert_eq!(session.poll_timeout(), Some(ninth + Duration::from_secs(60)));
    session.handle_timeout(t0 + Duration::from_secs(61));
    assert!(!session.is_closed(), "the server answered at 9 s");
}
