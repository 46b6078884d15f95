//! Apps against `voix-proto`'s server core, in memory, on a virtual clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use voix_audio::mixer::MixerConfig;
use voix_audio::vad::VadConfig;
use voix_proto::server::{ConnectionId, Server, ServerConfig};
use voix_proto::{Nick, RealName, Version};

use super::*;
use crate::event::CallEndReason;
use crate::voice::VoiceSettings;

fn app(nick: &str, reconnect: bool) -> App {
    let voice = VoiceEngine::new(
        crate::voice::encoder_config(),
        MixerConfig::default(),
        VadConfig::default(),
        VoiceSettings::default(),
    )
    .expect("default settings are valid");
    let config = AppConfig {
        nick: Nick::new(nick).expect("valid").into_owned(),
        real_name: RealName::new("Test").expect("valid").into_owned(),
        server: "test:9300".to_owned(),
        reconnect,
        base_mode: TransmitModeArg::Vad,
    };
    App::new(config, Arc::new(Mutex::new(voice)), 1)
}

/// One app, its connection to the core, and what it did.
struct Peer {
    app: App,
    conn: Option<ConnectionId>,
    events: Vec<Event>,
    actions: Vec<Action>,
}

/// Apps wired to one in-memory server core.
struct Net {
    server: Server,
    now: Instant,
    clients: Vec<Peer>,
}

impl Net {
    fn new() -> Self {
        Self {
            server: Server::new(ServerConfig::default(), [3; 32]),
            now: Instant::now(),
            clients: Vec::new(),
        }
    }

    fn add(&mut self, app: App) -> usize {
        self.clients.push(Peer { app, conn: None, events: Vec::new(), actions: Vec::new() });
        self.settle();
        self.clients.len() - 1
    }

    /// Moves actions and bytes until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            for Peer { app, conn, events, actions } in &mut self.clients {
                while let Some(action) = app.poll_action() {
                    moved = true;
                    match &action {
                        Action::Connect => {
                            *conn = Some(self.server.handle_connect(self.now));
                            app.handle_connected(self.now);
                        }
                        Action::Send(bytes) => {
                            if let Some(id) = *conn {
                                self.server.handle_input(self.now, id, bytes);
                            }
                        }
                        Action::Close => {
                            if let Some(id) = conn.take() {
                                self.server.handle_disconnect(self.now, id);
                            }
                        }
                        Action::Exit(_) => {}
                    }
                    actions.push(action);
                }
                if let Some(id) = *conn
                    && let Some(bytes) = self.server.take_output(id)
                {
                    app.handle_input(self.now, &bytes);
                    moved = true;
                }
                while let Some(event) = app.poll_event() {
                    events.push(event);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn line(&mut self, client: usize, line: &str) {
        let now = self.now;
        self.clients[client].app.handle_line(now, line);
        self.settle();
    }

    fn events(&mut self, client: usize) -> Vec<Event> {
        std::mem::take(&mut self.clients[client].events)
    }

    fn actions(&mut self, client: usize) -> Vec<Action> {
        std::mem::take(&mut self.clients[client].actions)
    }

    /// The server drops the client's connection.
    fn drop_connection(&mut self, client: usize) {
        let now = self.now;
        if let Some(id) = self.clients[client].conn.take() {
            self.server.handle_disconnect(now, id);
        }
        self.clients[client].app.handle_closed(now, "connection reset".into());
        self.settle();
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        let now = self.now;
        for Peer { app, .. } in &mut self.clients {
            app.handle_timeout(now);
        }
        self.settle();
    }
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::name).collect()
}

#[test]
fn the_client_version_is_valid_on_the_wire() {
    assert!(Version::new(CLIENT_VERSION).is_ok());
}

#[test]
fn connects_joins_the_lobby_and_chats() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    let b = net.add(app("Bob", true));
    let events = net.events(a);
    assert_eq!(
        names(&events),
        ["connecting", "connected", "joined", "members", "voice_ready", "user_joined"]
    );
    net.events(b);
    net.line(a, "Hey all!");
    assert_eq!(
        net.events(b),
        [Event::Message { room: "#Lobby".into(), from: "Alice".into(), text: "Hey all!".into() }]
    );
    net.line(b, "/msg Alice psst");
    assert_eq!(net.events(a), [Event::PrivateMessage { from: "Bob".into(), text: "psst".into() }]);
    let status = net.clients[a].app.status(net.now);
    assert_eq!(status.room.as_deref(), Some("#Lobby"));
    assert_eq!(status.members, ["Alice", "Bob"]);
    assert_eq!(status.voice.scope.as_deref(), Some("#Lobby"));
}

#[test]
fn a_call_is_set_up_and_ended_and_voice_follows_it() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    let b = net.add(app("Bob", true));
    net.events(a);
    net.events(b);
    net.line(a, "/call Bob");
    assert_eq!(net.events(a), [Event::CallRinging { peer: "Bob".into() }]);
    assert_eq!(net.events(b), [Event::IncomingCall { from: "Alice".into() }]);
    assert_eq!(net.clients[b].app.status(net.now).call, CallView::Incoming("Alice".into()));
    net.line(b, "/accept");
    assert_eq!(names(&net.events(a)), ["call_started", "voice_ready"]);
    assert_eq!(names(&net.events(b)), ["call_started", "voice_ready"]);
    assert_eq!(net.clients[a].app.status(net.now).voice.scope.as_deref(), Some("Bob"));
    net.line(a, "/hangup");
    assert_eq!(
        net.events(b),
        [Event::CallEnded { peer: "Alice".into(), reason: CallEndReason::HungUp }]
    );
    assert_eq!(net.clients[b].app.status(net.now).voice.scope.as_deref(), Some("#Lobby"));
    // A refused call.
    net.events(a);
    net.line(b, "/call Alice");
    net.line(a, "/deny");
    assert_eq!(
        net.events(b).last(),
        Some(&Event::CallEnded { peer: "Alice".into(), reason: CallEndReason::Denied })
    );
}

#[test]
fn commands_that_cannot_be_carried_out_say_why() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    net.events(a);
    net.line(a, "/accept");
    assert_eq!(net.events(a), [Event::CommandError { message: "nobody is calling".into() }]);
    net.line(a, "/call Alice");
    assert_eq!(net.events(a), [Event::CommandError { message: "that is you".into() }]);
    net.line(a, "/bogus");
    assert_eq!(names(&net.events(a)), ["command_error"]);
    net.line(a, "/call Nobody");
    assert_eq!(
        names(&net.events(a)),
        ["call_ringing", "server_error", "call_ended"],
        "the server refuses and the request ends"
    );
    net.line(a, "/talk");
    assert_eq!(names(&net.events(a)), ["command_error"]);
    net.line(a, "/ptt");
    net.line(a, "/talk");
    net.line(a, "/deafen");
    let events = net.events(a);
    assert_eq!(
        events.last(),
        Some(&Event::VoiceSettings {
            muted: false,
            deafened: true,
            mode: "ptt",
            talk_pressed: true
        })
    );
    net.line(a, "/ptt off");
    assert!(matches!(
        net.events(a).last(),
        Some(Event::VoiceSettings { mode: "vad", talk_pressed: false, .. })
    ));
    net.line(a, "/help");
    assert!(
        matches!(&net.events(a)[..], [Event::Help { commands }] if commands.len() == HELP.len())
    );
    net.line(a, "/stats");
    assert!(matches!(&net.events(a)[..], [Event::Stats(StatsReport { scope: Some(_), .. })]));
}

#[test]
fn a_lost_connection_is_retried_with_back_off_and_the_call_ends() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    let b = net.add(app("Bob", true));
    net.line(a, "/call Bob");
    net.line(b, "/accept");
    net.events(a);
    net.events(b);
    net.drop_connection(a);
    let events = net.events(a);
    assert_eq!(names(&events), ["call_ended", "connection_lost", "reconnecting"]);
    let Event::Reconnecting { in_ms, attempt: 2 } = events[2] else { panic!("{events:?}") };
    assert!((400..=600).contains(&in_ms), "{in_ms}");
    assert_eq!(
        net.events(b).first(),
        Some(&Event::CallEnded { peer: "Alice".into(), reason: CallEndReason::HungUp })
    );
    assert!(matches!(
        net.clients[a].app.status(net.now).connection,
        Connection::Waiting { attempt: 2, .. }
    ));
    net.advance(Duration::from_millis(300));
    assert_eq!(names(&net.events(a)), Vec::<&str>::new(), "not yet");
    net.advance(Duration::from_millis(400));
    assert_eq!(
        names(&net.events(a)),
        ["connecting", "connected", "joined", "members", "voice_ready"]
    );
}

#[test]
fn without_reconnect_a_lost_connection_exits() {
    let mut net = Net::new();
    let a = net.add(app("Alice", false));
    net.actions(a);
    net.drop_connection(a);
    assert_eq!(net.actions(a).last(), Some(&Action::Exit(ExitReason::ConnectionLost)));
    assert!(net.clients[a].app.is_closed());
}

#[test]
fn a_taken_nickname_exits_on_the_first_connection() {
    let mut net = Net::new();
    net.add(app("Alice", true));
    let b = net.add(app("alice", true));
    assert_eq!(names(&net.events(b)), ["connecting", "refused"]);
    assert_eq!(net.actions(b).last(), Some(&Action::Exit(ExitReason::Refused)));
}

#[test]
fn quit_says_goodbye_and_exits() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    let b = net.add(app("Bob", true));
    net.actions(a);
    net.events(b);
    net.line(a, "/quit");
    let actions = net.actions(a);
    assert!(matches!(&actions[0], Action::Send(bytes) if &bytes[..] == b"DISCONNECT\r\n"));
    assert_eq!(actions[1..], [Action::Close, Action::Exit(ExitReason::Quit)]);
    assert_eq!(net.events(b), [Event::UserLeft { room: "#Lobby".into(), nick: "Alice".into() }]);
}

#[test]
fn the_round_trip_is_measured_and_timeouts_are_scheduled() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    let now = net.now;
    assert!(net.clients[a].app.poll_timeout().is_some_and(|at| at <= now + PING_INTERVAL));
    net.advance(Duration::from_millis(1));
    assert!(net.clients[a].app.status(net.now).rtt.is_some());
}

#[test]
fn commands_typed_while_connecting_wait_for_the_server() {
    let mut net = Net::new();
    let b = net.add(app("Bob", true));
    net.events(b);
    let mut alice = app("Alice", true);
    let now = net.now;
    alice.handle_line(now, "early bird");
    alice.handle_line(now, "/join #Nest");
    let a = net.add(alice);
    let events = net.events(a);
    assert_eq!(
        events.iter().filter(|e| matches!(e, Event::CommandError { .. })).count(),
        0,
        "{events:?}"
    );
    assert_eq!(
        net.events(b)[1..],
        [
            Event::Message {
                room: "#Lobby".into(),
                from: "Alice".into(),
                text: "early bird".into()
            },
            Event::UserLeft { room: "#Lobby".into(), nick: "Alice".into() }
        ]
    );
    assert_eq!(net.clients[a].app.status(net.now).room.as_deref(), Some("#Nest"));
}

#[test]
fn after_reconnecting_the_client_returns_to_its_room() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    net.line(a, "/join #Nest");
    assert_eq!(net.clients[a].app.status(net.now).room.as_deref(), Some("#Nest"));
    net.drop_connection(a);
    net.advance(Duration::from_secs(1));
    let events = net.events(a);
    let rooms: Vec<&Event> = events.iter().filter(|e| matches!(e, Event::Joined { .. })).collect();
    assert_eq!(
        rooms,
        [
            &Event::Joined { room: "#Lobby".into() },
            &Event::Joined { room: "#Nest".into() },
            &Event::Joined { room: "#Lobby".into() },
            &Event::Joined { room: "#Nest".into() }
        ],
        "registration puts us in #Lobby; the client goes back to #Nest"
    );
    assert_eq!(net.clients[a].app.status(net.now).room.as_deref(), Some("#Nest"));
}

#[test]
fn quitting_while_connecting_sends_what_was_typed_first() {
    let mut net = Net::new();
    let b = net.add(app("Bob", true));
    net.events(b);
    let mut alice = app("Alice", true);
    let now = net.now;
    alice.handle_line(now, "/msg Bob one");
    alice.handle_line(now, "hello room");
    // The end of input, before the connection is even up.
    alice.quit(now);
    assert_eq!(alice.poll_timeout(), Some(now + QUIT_SEND_TIMEOUT));
    let a = net.add(alice);
    assert!(names(&net.events(a)).ends_with(&["disconnected"]));
    assert_eq!(net.actions(a).last(), Some(&Action::Exit(ExitReason::Quit)));
    let got = net.events(b);
    assert!(got.contains(&Event::PrivateMessage { from: "Alice".into(), text: "one".into() }));
    assert!(got.contains(&Event::Message {
        room: "#Lobby".into(),
        from: "Alice".into(),
        text: "hello room".into()
    }));
}

#[test]
fn commands_that_cannot_be_sent_before_quitting_are_reported() {
    let mut net = Net::new();
    net.add(app("Alice", true));
    let mut taken = app("alice", true);
    let now = net.now;
    taken.handle_line(now, "hello");
    taken.quit(now);
    let b = net.add(taken);
    let events = net.events(b);
    assert!(events.iter().any(|e| matches!(e, Event::CommandError { .. })), "{events:?}");
    assert_eq!(net.actions(b).last(), Some(&Action::Exit(ExitReason::Refused)));

    // A server that never answers: the wait is bounded.
    let mut stuck = app("Carol", true);
    stuck.handle_line(now, "hello");
    stuck.quit(now);
    stuck.handle_timeout(now + QUIT_SEND_TIMEOUT);
    let events: Vec<_> = std::iter::from_fn(|| stuck.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(e, Event::CommandError { .. })), "{events:?}");
    let actions: Vec<_> = std::iter::from_fn(|| stuck.poll_action()).collect();
    assert_eq!(actions.last(), Some(&Action::Exit(ExitReason::ConnectionLost)));
}

#[test]
fn a_server_that_stops_answering_is_given_up_and_retried() {
    let mut net = Net::new();
    let a = net.add(app("Alice", true));
    net.events(a);
    // The server hangs: nothing it would send arrives any more.
    net.clients[a].conn = None;
    let start = net.now;
    while net.now < start + voix_proto::client::DEFAULT_PING_TIMEOUT + PING_INTERVAL {
        net.advance(Duration::from_secs(1));
    }
    let events = names(&net.events(a));
    assert!(events.starts_with(&["connection_lost", "reconnecting"]), "{events:?}");
}
