//! The sans-IO server core: registration, rooms, messages, calls, voice
//! session set-up, keepalive and limits, for any number of connections.
//!
//! The core never touches a socket or a clock. The program that runs it
//! feeds it what happened ([`Server::handle_connect`],
//! [`Server::handle_input`], [`Server::handle_disconnect`],
//! [`Server::handle_timeout`]) and then drains what to do, in this order:
//! [`Server::poll_event`] (close a connection, update the voice relay, log),
//! [`Server::poll_ready`] with [`Server::take_output`] (bytes to write, one
//! batch per connection), and [`Server::poll_timeout`] (when to call
//! `handle_timeout` next).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voix_proto::server::{Server, ServerConfig};
//!
//! let mut server = Server::new(ServerConfig::default(), [7; 32]);
//! let now = Instant::now();
//! let conn = server.handle_connect(now);
//! server.handle_input(now, conn, b"CONNECT: \"John\" \"John Doe\" 1.0.0\r\n");
//! let ready = server.poll_ready();
//! assert_eq!(ready, Some(conn));
//! let output = server.take_output(conn).unwrap();
//! assert!(output.starts_with(b"ACCEPT: voix\r\nPING: "));
//! ```

mod calls;
mod config;
mod event;
mod rate;
mod rooms;
mod sizes;
mod timers;

#[cfg(test)]
mod tests;

pub use config::{ServerConfig, ServerConfigError};
pub use event::{CloseReason, ServerEvent};

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::voice::{GroupId, RelayCommand, SessionId, SessionIds, VoiceKey};
use crate::wire::{
    BadLine, ClientCommand, ErrorCode, LineReader, NickListBuf, ParseError, ServerMessage,
    TalkAction, VoiceScope,
};
use crate::{NameKey, Nick, NickBuf, Room, Text, TextBuf};
use calls::{Call, CallId, CallState};
use rate::TokenBucket;
use rooms::Rooms;
use timers::Timers;

/// One TCP connection, for the life of the server (ids are never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// The id as a number, for logs.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum TimerKey {
    /// The connection must have sent `CONNECT` by now.
    Registration(ConnectionId),
    /// Send the next `PING`, or, with one outstanding, drop the client.
    Keepalive(ConnectionId),
    /// The call has rung long enough.
    Ring(CallId),
}

/// Why a user gets no voice session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoVoice {
    /// [`ServerConfig::max_voice_sessions`] are open; one may close.
    Limit,
    /// Every session id was handed out. Ids are never reused (relay nonces
    /// contain them), so no voice session can open until a restart.
    IdsExhausted,
}

/// A registered user.
#[derive(Debug)]
struct User {
    nick: NickBuf,
    key: NameKey,
    /// The user's room, by key.
    room: NameKey,
    /// The user's voice session in that room.
    room_voice: Option<SessionId>,
    /// The call the user is in or ringing in.
    call: Option<CallId>,
}

/// One connection's state.
#[derive(Debug)]
struct Connection {
    reader: LineReader,
    /// Bytes received but not yet a whole line.
    input: BytesMut,
    /// Bytes to send that the program has not taken yet.
    output: BytesMut,
    /// Whether the id is in the ready queue.
    ready_queued: bool,
    /// Whether the output passed the limit (the close is pending).
    overflowed: bool,
    /// Closed as far as the protocol is concerned; only output remains.
    closing: bool,
    bucket: TokenBucket,
    /// Whether the current flood was already reported.
    flooding: bool,
    /// The token of the `PING` awaiting its `PONG`.
    ping: Option<u64>,
    user: Option<User>,
}

/// The server core. See the [module documentation](self).
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    rng: ChaCha20Rng,
    next_conn: u64,
    next_group: u64,
    next_call: u64,
    /// Connections that are not closing.
    open: usize,
    /// After [`Server::shutdown`]: no more output but what is queued.
    shutting_down: bool,
    conns: HashMap<ConnectionId, Connection>,
    nicks: HashMap<NameKey, ConnectionId>,
    rooms: Rooms,
    calls: HashMap<CallId, Call>,
    sessions: SessionIds,
    /// Voice sessions open in the relay.
    voice_sessions: usize,
    /// Whether [`ServerEvent::VoiceIdsExhausted`] was sent (it is sent once).
    voice_ids_exhausted: bool,
    timers: Timers<TimerKey>,
    ready: VecDeque<ConnectionId>,
    events: VecDeque<ServerEvent>,
    overflowed: Vec<ConnectionId>,
    /// Scratch space for a line sent to many connections.
    line: BytesMut,
}

/// A duration as people read it in a reply: `150 s`, `1.5 s`, `500 ms`.
struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        match (ms % 1000, ms) {
            (0, _) => write!(f, "{} s", ms / 1000),
            (_, ..1000) => write!(f, "{ms} ms"),
            _ => write!(f, "{} s", self.0.as_secs_f64()),
        }
    }
}

/// Buffer capacity an idle connection may keep: a burst of output (a big
/// room's `USERLIST`, a flood of joins) or input must not stay allocated
/// for the life of every connection that saw one.
const IDLE_BUFFER_CAPACITY: usize = 4 * 1024;

/// Longest line the server sends: the protocol's line limit, which every
/// client accepts.
const MAX_OUTPUT_LINE_LEN: usize = crate::wire::DEFAULT_MAX_LINE_LEN;

/// A room's members as one or more `USERLIST` lists, each short enough for
/// a line of at most [`MAX_OUTPUT_LINE_LEN`] bytes (a big room needs several).
fn user_list_lines<'n>(room: Room<'_>, nicks: impl Iterator<Item = Nick<'n>>) -> Vec<NickListBuf> {
    // "USERLIST " + room + ": " + list
    let budget = MAX_OUTPUT_LINE_LEN - "USERLIST : ".len() - room.as_str().len();
    let mut lists = Vec::new();
    let mut chunk: Vec<Nick<'_>> = Vec::new();
    let mut len = 0;
    for nick in nicks {
        let added = nick.as_str().len() + if chunk.is_empty() { 0 } else { 2 };
        if len + added > budget {
            lists.push(NickListBuf::from_nicks(chunk.drain(..)));
            len = 0;
        }
        len += nick.as_str().len() + if chunk.is_empty() { 0 } else { 2 };
        chunk.push(nick);
    }
    lists.push(NickListBuf::from_nicks(chunk));
    lists
}

/// The reason of an `ERROR NOVOICE` (here, so that the server's longest
/// reply can be measured with it: see [`ServerConfig::max_reply_bytes`]).
fn no_voice_reason(config: &ServerConfig, why: NoVoice) -> TextBuf {
    match why {
        NoVoice::Limit => {
            let max = config.max_voice_sessions;
            reason(format_args!(
                "no voice here: the server has its maximum of {max} voice sessions"
            ))
        }
        NoVoice::IdsExhausted => reason(format_args!(
            "no voice here: the server has handed out every voice session id it may ({}) and \
             must be restarted before it can give voice again",
            u32::MAX
        )),
    }
}

/// Builds the human-readable part of a reply. Every piece comes from
/// validated values, so the text has no line breaks and is not empty.
fn reason(args: fmt::Arguments<'_>) -> TextBuf {
    TextBuf::from_string(args.to_string())
        .expect("reasons are non-empty and built from valid parts")
}

impl Server {
    /// A server with these limits. `seed` seeds the generator of `PING`
    /// tokens and voice keys: pass 32 bytes from the operating system's
    /// secure random source (tests pass a constant).
    ///
    /// Check the limits with [`ServerConfig::validate`] first: the server
    /// runs with any, but with an output limit below
    /// [`ServerConfig::max_reply_bytes`] its own replies to registrations
    /// and `JOIN`s can drop clients with `ERROR SENDQUEUEFULL`.
    pub fn new(config: ServerConfig, seed: [u8; 32]) -> Self {
        Self {
            config,
            rng: ChaCha20Rng::from_seed(seed),
            next_conn: 0,
            next_group: 1,
            next_call: 0,
            open: 0,
            shutting_down: false,
            conns: HashMap::new(),
            nicks: HashMap::new(),
            rooms: Rooms::new(GroupId(0)),
            calls: HashMap::new(),
            sessions: SessionIds::new(),
            voice_sessions: 0,
            voice_ids_exhausted: false,
            timers: Timers::new(),
            ready: VecDeque::new(),
            events: VecDeque::new(),
            overflowed: Vec::new(),
            line: BytesMut::new(),
        }
    }

    // ---- getters ----

    /// The limits this server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Connections that are open (registered or not, not closing).
    pub fn connection_count(&self) -> usize {
        self.open
    }

    /// Registered users.
    pub fn user_count(&self) -> usize {
        self.nicks.len()
    }

    /// How many rooms exist, `#Lobby` included.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    // ---- input ----

    /// A new connection was accepted. At the client limit it is refused:
    /// its output holds `ERROR SERVERFULL` and a [`ServerEvent::Close`]
    /// follows.
    pub fn handle_connect(&mut self, now: Instant) -> ConnectionId {
        let id = ConnectionId(self.next_conn);
        self.next_conn += 1;
        let conn = Connection {
            reader: LineReader::new(self.config.max_line_len),
            input: BytesMut::new(),
            output: BytesMut::new(),
            ready_queued: false,
            overflowed: false,
            closing: false,
            bucket: TokenBucket::new(self.config.command_rate, self.config.command_burst, now),
            flooding: false,
            ping: None,
            user: None,
        };
        self.conns.insert(id, conn);
        self.open += 1;
        if self.shutting_down {
            let reason = reason(format_args!("the server is shutting down"));
            let reason = reason.borrowed();
            self.send_final(id, &ServerMessage::Error { code: ErrorCode::Shutdown, reason });
            self.close(id, CloseReason::Shutdown);
        } else if self.open > self.config.max_clients {
            let max = self.config.max_clients;
            self.error(
                id,
                ErrorCode::ServerFull,
                format_args!("the server is full ({max} clients)"),
            );
            self.close(id, CloseReason::ServerFull);
        } else {
            self.set_timer(TimerKey::Registration(id), now, self.config.registration_timeout);
        }
        id
    }

    /// Bytes arrived on a connection. They may hold any number of lines,
    /// or part of one.
    pub fn handle_input(&mut self, now: Instant, id: ConnectionId, bytes: &[u8]) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.closing {
            return;
        }
        let mut input = std::mem::take(&mut conn.input);
        let mut reader = conn.reader.clone();
        input.extend_from_slice(bytes);
        let large = input.capacity() > IDLE_BUFFER_CAPACITY;
        reader.drain(&mut input, |line| {
            match line {
                Ok(line) => self.handle_line(now, id, ClientCommand::parse_str(line)),
                Err(BadLine::InvalidUtf8(_)) => {
                    self.handle_line(now, id, Err(ParseError::InvalidUtf8))
                }
                Err(BadLine::TooLong) => self.refuse_long_line(now, id),
            }
            // Nothing more is read from a connection that closed.
            if self.is_open(id) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        });
        if let Some(conn) = self.conns.get_mut(&id).filter(|c| !c.closing) {
            if large && input.is_empty() {
                // Keep no share of a burst's allocation while idle.
                input = BytesMut::new();
            }
            conn.input = input;
            conn.reader = reader;
        }
        self.close_overflowed();
    }

    /// The connection was closed (by the peer, or by the program after a
    /// [`ServerEvent::Close`]). The server forgets it.
    pub fn handle_disconnect(&mut self, _now: Instant, id: ConnectionId) {
        self.leave(id, CloseReason::PeerClosed, false);
        self.conns.remove(&id);
        self.close_overflowed();
    }

    /// Time passed: fire every deadline at or before `now`. Calling it
    /// early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(key) = self.timers.pop_expired(now) {
            match key {
                TimerKey::Registration(id) => {
                    let limit = Seconds(self.config.registration_timeout);
                    self.error(
                        id,
                        ErrorCode::RegistrationTimeout,
                        format_args!("no valid CONNECT within {limit}"),
                    );
                    self.close(id, CloseReason::RegistrationTimeout);
                }
                TimerKey::Keepalive(id) => {
                    let awaiting = self.conns.get(&id).is_some_and(|c| c.ping.is_some());
                    if awaiting {
                        let limit = Seconds(self.config.ping_timeout);
                        self.error(
                            id,
                            ErrorCode::PingTimeout,
                            format_args!("no PONG within {limit}"),
                        );
                        self.close(id, CloseReason::PingTimeout);
                    } else {
                        self.send_ping(now, id);
                    }
                }
                TimerKey::Ring(call_id) => {
                    if let Some(call) = self.finish_call(call_id) {
                        self.send_talk(call.caller, call.callee, TalkAction::End);
                        self.send_talk(call.callee, call.caller, TalkAction::End);
                    }
                }
            }
        }
        self.close_overflowed();
    }

    // ---- commands ----

    /// Shuts the server down: every client is told with `ERROR SHUTDOWN`
    /// and every connection gets a [`ServerEvent::Close`].
    pub fn shutdown(&mut self, _now: Instant) {
        let mut ids: Vec<_> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for &id in &ids {
            self.error(id, ErrorCode::Shutdown, format_args!("the server is shutting down"));
        }
        // Nobody needs to hear about the others leaving.
        self.shutting_down = true;
        for id in ids {
            self.close(id, CloseReason::Shutdown);
        }
    }

    // ---- output ----

    /// The next thing for the program to do, other than writing output.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The next connection that has output waiting, in the order they
    /// became ready. Take its output with [`Server::take_output`] when its
    /// socket can be written.
    pub fn poll_ready(&mut self) -> Option<ConnectionId> {
        let id = self.ready.pop_front()?;
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.ready_queued = false;
        }
        Some(id)
    }

    /// Everything waiting to be written to `id`, as one batch, or `None`.
    /// Output not taken counts against the connection's queue limit, so
    /// take it only when the socket can accept it.
    pub fn take_output(&mut self, id: ConnectionId) -> Option<Bytes> {
        let conn = self.conns.get_mut(&id)?;
        if conn.output.is_empty() {
            return None;
        }
        let large = conn.output.capacity() > IDLE_BUFFER_CAPACITY;
        let batch = conn.output.split().freeze();
        if large {
            // Keep no share of a burst's allocation past this batch.
            conn.output = BytesMut::new();
        }
        Some(batch)
    }

    /// When [`Server::handle_timeout`] should next be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    // ---- lines ----

    /// Arms a timer `after` from `now`; a deadline too far to represent
    /// never fires.
    fn set_timer(&mut self, key: TimerKey, now: Instant, after: Duration) {
        match now.checked_add(after) {
            Some(at) => self.timers.set(key, at),
            None => self.timers.cancel(key),
        }
    }

    fn is_open(&self, id: ConnectionId) -> bool {
        self.conns.get(&id).is_some_and(|c| !c.closing)
    }

    fn is_registered(&self, id: ConnectionId) -> bool {
        self.user(id).is_some()
    }

    fn user(&self, id: ConnectionId) -> Option<&User> {
        self.conns.get(&id)?.user.as_ref()
    }

    fn user_mut(&mut self, id: ConnectionId) -> Option<&mut User> {
        self.conns.get_mut(&id)?.user.as_mut()
    }

    /// Whether `id` is in an accepted call (not one that only rings).
    fn in_live_call(&self, id: ConnectionId) -> bool {
        let call = self.user(id).and_then(|u| u.call).and_then(|c| self.calls.get(&c));
        call.is_some_and(|call| matches!(call.state, CallState::Active { .. }))
    }

    fn nick_of(&self, id: ConnectionId) -> Option<NickBuf> {
        self.user(id).map(|u| u.nick.clone())
    }

    fn handle_line(
        &mut self,
        now: Instant,
        id: ConnectionId,
        parsed: Result<ClientCommand<'_>, ParseError>,
    ) {
        // An empty line is ignored (PROTOCOL.md, "Lines"). Ignoring it costs
        // the server nothing, so it takes no token either: blank lines, which
        // some clients and telnet users send, never make a flood.
        if matches!(parsed, Err(ParseError::Empty)) {
            return;
        }
        // Leaving, and answering the server's own PING, must work however
        // fast a client sends; any other PONG is answered with an error,
        // so it is rate-limited like any command.
        let exempt = match parsed {
            Ok(ClientCommand::Disconnect) => true,
            Ok(ClientCommand::Pong { token }) => self.answers_ping(id, token),
            _ => false,
        };
        if !exempt && !self.take_token(now, id) {
            return;
        }
        match (parsed, self.is_registered(id)) {
            (Ok(ClientCommand::Connect { nick, .. }), false) => self.register(now, id, nick),
            // DISCONNECT is honoured before registering too.
            (Ok(cmd @ ClientCommand::Disconnect), false) | (Ok(cmd), true) => {
                self.handle_command(now, id, cmd)
            }
            (Ok(_), false) => self.not_accepted(id, format_args!("send CONNECT first")),
            (Err(e), false) => self.not_accepted(id, format_args!("{e}")),
            (Err(e), true) => self.refuse_parse_error(id, e),
        }
    }

    /// Whether `token` answers the `PING` that `id` has outstanding.
    fn answers_ping(&self, id: ConnectionId, token: u64) -> bool {
        self.conns.get(&id).is_some_and(|c| c.ping == Some(token))
    }

    fn take_token(&mut self, now: Instant, id: ConnectionId) -> bool {
        let Some(conn) = self.conns.get_mut(&id) else { return false };
        if conn.bucket.try_take(now) {
            conn.flooding = false;
            return true;
        }
        if !std::mem::replace(&mut conn.flooding, true) {
            let rate = self.config.command_rate;
            self.error(
                id,
                ErrorCode::Flood,
                format_args!("more than {rate} commands per second; commands are being dropped"),
            );
        }
        false
    }

    fn refuse_long_line(&mut self, now: Instant, id: ConnectionId) {
        if self.take_token(now, id) {
            let max = self.config.max_line_len;
            self.error(
                id,
                ErrorCode::LineTooLong,
                format_args!("lines are limited to {max} bytes"),
            );
        }
    }

    fn refuse_parse_error(&mut self, id: ConnectionId, e: ParseError) {
        let usage = e.command().and_then(|w| w.client_usage());
        match (e, usage) {
            (ParseError::InvalidUtf8, _) => {
                self.error(id, ErrorCode::InvalidUtf8, format_args!("line is not valid UTF-8"))
            }
            (ParseError::UnknownCommand, _) => self.error(
                id,
                ErrorCode::UnknownCommand,
                format_args!("known commands: JOIN, MSG, PRIVMSG, TALK, PING, PONG, DISCONNECT"),
            ),
            (ParseError::WrongDirection(w), _) => self.error(
                id,
                ErrorCode::UnknownCommand,
                format_args!("{w} is sent by the server, not by clients"),
            ),
            (ParseError::Syntax(_), Some(usage)) => {
                self.error(id, ErrorCode::Syntax, format_args!("{e}; expected {usage}"))
            }
            _ => self.error(id, ErrorCode::Syntax, format_args!("{e}")),
        }
    }

    fn handle_command(&mut self, now: Instant, id: ConnectionId, cmd: ClientCommand<'_>) {
        match cmd {
            ClientCommand::Connect { .. } => self.error(
                id,
                ErrorCode::AlreadyRegistered,
                format_args!("you are already connected"),
            ),
            ClientCommand::Ping { token } => self.send(id, &ServerMessage::Pong { token }),
            ClientCommand::Pong { token } => self.handle_pong(now, id, token),
            ClientCommand::Join { room } => self.join(id, room),
            ClientCommand::RoomMessage { room, text } => self.room_message(id, room, text),
            ClientCommand::PrivateMessage { to, text } => self.private_message(id, to, text),
            ClientCommand::Talk { peer, action } => self.talk(now, id, peer, action),
            ClientCommand::Disconnect => self.close(id, CloseReason::ClientQuit),
        }
    }

    // ---- registration and keepalive ----

    fn register(&mut self, now: Instant, id: ConnectionId, nick: Nick<'_>) {
        let key = nick.key();
        if self.nicks.contains_key(&key) {
            let reason = reason(format_args!("the nickname {nick} is already in use"));
            self.send(id, &ServerMessage::NicknameInUse { reason: reason.borrowed() });
            return;
        }
        let nick = nick.into_owned();
        self.nicks.insert(key.clone(), id);
        let lobby = self.rooms.lobby().clone();
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.user =
                Some(User { nick: nick.clone(), key, room: lobby, room_voice: None, call: None });
        }
        self.timers.cancel(TimerKey::Registration(id));
        let host = self.config.host_name.clone();
        self.send(id, &ServerMessage::Accept { host: host.borrowed() });
        self.send_ping(now, id);
        self.events.push_back(ServerEvent::Registered { conn: id, nick });
        self.enter_room(id, Room::LOBBY);
    }

    fn send_ping(&mut self, now: Instant, id: ConnectionId) {
        let token = u64::from(self.rng.next_u32());
        let Some(conn) = self.conns.get_mut(&id).filter(|c| !c.closing) else { return };
        conn.ping = Some(token);
        self.send(id, &ServerMessage::Ping { token });
        self.set_timer(TimerKey::Keepalive(id), now, self.config.ping_timeout);
    }

    fn handle_pong(&mut self, now: Instant, id: ConnectionId, token: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if conn.ping == Some(token) {
            conn.ping = None;
            self.set_timer(TimerKey::Keepalive(id), now, self.config.ping_interval);
        } else {
            self.error(
                id,
                ErrorCode::Syntax,
                format_args!("PONG {token} does not answer the last PING"),
            );
        }
    }

    // ---- rooms and messages ----

    fn join(&mut self, id: ConnectionId, room: Room<'_>) {
        let Some(user) = self.user(id) else { return };
        let key = room.key();
        if key == user.room {
            let name =
                self.rooms.get(&key).map_or_else(|| room.to_string(), |r| r.name.to_string());
            self.error(id, ErrorCode::AlreadyInRoom, format_args!("you are already in {name}"));
            return;
        }
        if self.rooms.get(&key).is_none() && self.rooms.len() >= self.config.max_rooms {
            let max = self.config.max_rooms;
            self.error(
                id,
                ErrorCode::TooManyRooms,
                format_args!("the server has its maximum of {max} rooms"),
            );
            return;
        }
        self.leave_room(id);
        self.enter_room(id, room);
    }

    /// Puts a registered user who is in no room into `room`.
    fn enter_room(&mut self, id: ConnectionId, room: Room<'_>) {
        let Some(nick) = self.nick_of(id) else { return };
        let key = room.key();
        let fresh_group = GroupId(self.next_group);
        let mut created = false;
        let state = self.rooms.join(key.clone(), room, id, || {
            created = true;
            fresh_group
        });
        let (name, group) = (state.name.clone(), state.group);
        let user_lists = user_list_lines(
            name.borrowed(),
            state
                .members
                .iter()
                .filter_map(|m| self.conns.get(m)?.user.as_ref())
                .map(|u| u.nick.borrowed()),
        );
        if created {
            self.next_group += 1;
        }
        // Only a live call's voice replaces the room's: a ringing call has
        // none, and `finish_call` resumes room voice only for live calls.
        let in_call = self.in_live_call(id);
        let voice = self.open_voice(nick.clone(), (!in_call).then_some(group));
        if let Some(user) = self.user_mut(id) {
            user.room = key.clone();
            user.room_voice = voice.as_ref().ok().map(|(s, _)| *s);
        }
        let room = name.borrowed();
        self.broadcast(id, &ServerMessage::UserJoin { room, nick: nick.borrowed() });
        self.send(id, &ServerMessage::Joined { room });
        for users in &user_lists {
            self.send(id, &ServerMessage::UserList { room, users: users.borrowed() });
        }
        match voice {
            Ok((session, key)) => {
                self.send(id, &ServerMessage::Voice { scope: VoiceScope::Room(room), session, key })
            }
            Err(why) => self.no_voice(id, why),
        }
    }

    /// Takes a registered user out of their room, telling the others.
    fn leave_room(&mut self, id: ConnectionId) {
        let Some(user) = self.user_mut(id) else { return };
        let (key, nick) = (user.room.clone(), user.nick.clone());
        let session = user.room_voice.take();
        if let Some(session) = session {
            self.close_voice(session);
        }
        self.rooms.leave(&key, id);
        if let Some(name) = self.rooms.get(&key).map(|r| r.name.clone()) {
            let (room, nick) = (name.borrowed(), nick.borrowed());
            self.broadcast(id, &ServerMessage::UserLeave { room, nick });
        }
    }

    fn room_message(&mut self, id: ConnectionId, room: Room<'_>, text: Text<'_>) {
        let user = self.conns.get(&id).and_then(|c| c.user.as_ref());
        let Some((user, state)) = user
            .and_then(|u| Some((u, self.rooms.get(&u.room)?)))
            .filter(|(_, state)| state.name.same_room(room))
        else {
            self.error(
                id,
                ErrorCode::NotInRoom,
                format_args!("you are not in {room}; JOIN it first"),
            );
            return;
        };
        let msg = ServerMessage::RoomMessage {
            from: user.nick.borrowed(),
            room: state.name.borrowed(),
            text,
        };
        self.line.clear();
        msg.encode(&mut self.line);
        // Without its CRLF.
        if self.fits_output(id, self.line.len() - 2) {
            self.broadcast_line(id);
        }
    }

    /// Whether a line of `len` bytes that passes on what `id` sent is
    /// short enough for every client to read; if not, `id` is told.
    /// Passing a message on adds the sender's name, so a line the server
    /// accepted can come out longer than the limit.
    fn fits_output(&mut self, id: ConnectionId, len: usize) -> bool {
        if len <= MAX_OUTPUT_LINE_LEN {
            return true;
        }
        self.error(
            id,
            ErrorCode::LineTooLong,
            format_args!(
                "the message is too long to pass on: {len} bytes with your name, \
                 at most {MAX_OUTPUT_LINE_LEN}"
            ),
        );
        false
    }

    fn private_message(&mut self, id: ConnectionId, to: Nick<'_>, text: Text<'_>) {
        let Some(from) = self.nick_of(id) else { return };
        match self.nicks.get(&to.key()).copied() {
            None => self.error(id, ErrorCode::NoSuchNick, format_args!("no user named {to}")),
            Some(peer) if peer == id => {
                self.error(id, ErrorCode::SelfTarget, format_args!("you cannot message yourself"))
            }
            Some(peer) => {
                let len = "PRIVMSG : ".len() + from.as_str().len() + text.as_str().len();
                if self.fits_output(id, len) {
                    self.send(peer, &ServerMessage::PrivateMessage { from: from.borrowed(), text });
                }
            }
        }
    }

    // ---- calls ----

    fn talk(&mut self, now: Instant, id: ConnectionId, peer: Nick<'_>, action: TalkAction) {
        let refuse = |server: &mut Self, code, args: fmt::Arguments<'_>| {
            server.error(id, code, args);
            if action == TalkAction::Request {
                // Every request resolves in a TALK line, so that a client's
                // call state never waits for an answer that cannot come.
                server.send(id, &ServerMessage::Talk { peer, action: TalkAction::Deny });
            }
        };
        let Some(peer_id) = self.nicks.get(&peer.key()).copied() else {
            refuse(self, ErrorCode::NoSuchNick, format_args!("no user named {peer}"));
            return;
        };
        if peer_id == id {
            refuse(self, ErrorCode::SelfTarget, format_args!("you cannot call yourself"));
            return;
        }
        let Some(peer_nick) = self.nick_of(peer_id) else { return };
        let current =
            self.user(id).and_then(|u| u.call).and_then(|c| Some((c, self.calls.get(&c)?)));
        let with_peer = current.filter(|(_, call)| call.peer_of(id) == peer_id);
        let ringing = with_peer.filter(|(_, call)| matches!(call.state, CallState::Ringing));
        let incoming = ringing.filter(|(_, call)| call.callee == id).map(|(c, _)| c);
        let outgoing = ringing.is_some_and(|(_, call)| call.caller == id);
        match action {
            TalkAction::Request => {
                if let Some(call) = incoming {
                    // Both asked at once: the second request answers the
                    // first, and is answered too.
                    self.accept(call, true);
                } else if outgoing {
                    // Asked again while it rings: the pending request will
                    // resolve both, and a reply now would be a second
                    // resolution of one request.
                } else if let Some((_, call)) = current {
                    let other = self.nick_of(call.peer_of(id));
                    let other = other.as_ref().map_or("someone", |n| n.as_str()).to_owned();
                    refuse(
                        self,
                        ErrorCode::Busy,
                        format_args!("you are already in a call with {other}"),
                    );
                } else if self.user(peer_id).is_some_and(|u| u.call.is_some()) {
                    refuse(self, ErrorCode::Busy, format_args!("{peer_nick} is in another call"));
                } else {
                    self.request(now, id, peer_id);
                }
            }
            TalkAction::Accept | TalkAction::Deny => match incoming {
                None => self.error(
                    id,
                    ErrorCode::NoCall,
                    format_args!("{peer_nick} is not calling you"),
                ),
                Some(call) if action == TalkAction::Accept => self.accept(call, false),
                Some(call) => {
                    self.finish_call(call);
                    self.send_talk(peer_id, id, TalkAction::Deny);
                }
            },
            TalkAction::End => match with_peer {
                None => self.error(
                    id,
                    ErrorCode::NoCall,
                    format_args!("you are not in a call with {peer_nick}"),
                ),
                Some((call, _)) => {
                    self.finish_call(call);
                    // End is for calls withdrawn, ended or rung out; the
                    // callee's End on a ringing call is a refusal.
                    let told = if incoming.is_some() { TalkAction::Deny } else { TalkAction::End };
                    self.send_talk(peer_id, id, told);
                }
            },
        }
    }

    fn request(&mut self, now: Instant, caller: ConnectionId, callee: ConnectionId) {
        let call_id = CallId(self.next_call);
        self.next_call += 1;
        self.calls.insert(call_id, Call { caller, callee, state: CallState::Ringing });
        for party in [caller, callee] {
            if let Some(user) = self.user_mut(party) {
                user.call = Some(call_id);
            }
        }
        self.set_timer(TimerKey::Ring(call_id), now, self.config.ring_timeout);
        self.send_talk(callee, caller, TalkAction::Request);
    }

    /// Connects a ringing call. The caller is told its request was
    /// accepted; so is the callee when it had asked for the call too.
    fn accept(&mut self, call_id: CallId, callee_asked_too: bool) {
        let Some(call) = self.calls.get(&call_id) else { return };
        let (caller, callee) = (call.caller, call.callee);
        let (Some(caller_nick), Some(callee_nick)) = (self.nick_of(caller), self.nick_of(callee))
        else {
            return;
        };
        self.timers.cancel(TimerKey::Ring(call_id));
        let group = GroupId(self.next_group);
        self.next_group += 1;
        self.send_talk(caller, callee, TalkAction::Accept);
        if callee_asked_too {
            self.send_talk(callee, caller, TalkAction::Accept);
        }
        let mut sessions = Vec::with_capacity(2);
        for (party, nick, peer_nick) in
            [(caller, &caller_nick, &callee_nick), (callee, &callee_nick, &caller_nick)]
        {
            if let Some(session) = self.user(party).and_then(|u| u.room_voice) {
                self.events
                    .push_back(ServerEvent::Relay(RelayCommand::Move { session, group: None }));
            }
            match self.open_voice(nick.clone(), Some(group)) {
                Ok((session, key)) => {
                    sessions.push(session);
                    let scope = VoiceScope::Call(peer_nick.borrowed());
                    self.send(party, &ServerMessage::Voice { scope, session, key });
                }
                Err(why) => self.no_voice(party, why),
            }
        }
        if let Some(call) = self.calls.get_mut(&call_id) {
            call.state = CallState::Active { sessions };
        }
        self.events
            .push_back(ServerEvent::CallStarted { caller: caller_nick, callee: callee_nick });
    }

    /// Ends a call in whatever state: its parties are free again, call
    /// voice is closed and room voice resumes. Sends no lines.
    fn finish_call(&mut self, call_id: CallId) -> Option<Call> {
        let call = self.calls.remove(&call_id)?;
        self.timers.cancel(TimerKey::Ring(call_id));
        if let CallState::Active { sessions, .. } = &call.state {
            for &session in sessions {
                self.close_voice(session);
            }
        }
        for party in [call.caller, call.callee] {
            let Some(user) = self.conns.get_mut(&party).and_then(|c| c.user.as_mut()) else {
                continue;
            };
            user.call = None;
            let resume = matches!(call.state, CallState::Active { .. });
            if let (true, Some(session)) = (resume, user.room_voice) {
                let group = self.rooms.get(&user.room).map(|r| r.group);
                self.events.push_back(ServerEvent::Relay(RelayCommand::Move { session, group }));
            }
        }
        if let (Some(caller), Some(callee)) = (self.nick_of(call.caller), self.nick_of(call.callee))
        {
            self.events.push_back(ServerEvent::CallEnded { caller, callee });
        }
        Some(call)
    }

    /// Sends `to` the line `TALK <about's nick>: <action>`.
    fn send_talk(&mut self, to: ConnectionId, about: ConnectionId, action: TalkAction) {
        if let Some(peer) = self.nick_of(about) {
            self.send(to, &ServerMessage::Talk { peer: peer.borrowed(), action });
        }
    }

    /// Opens a voice session for a user speaking as `nick` in `group`
    /// (`None`: paused), returning the credential to send them, or why
    /// there is none.
    fn open_voice(
        &mut self,
        nick: NickBuf,
        group: Option<GroupId>,
    ) -> Result<(SessionId, VoiceKey), NoVoice> {
        if self.voice_sessions >= self.config.max_voice_sessions {
            return Err(NoVoice::Limit);
        }
        let Some(session) = self.sessions.next() else {
            if !std::mem::replace(&mut self.voice_ids_exhausted, true) {
                self.events.push_back(ServerEvent::VoiceIdsExhausted);
            }
            return Err(NoVoice::IdsExhausted);
        };
        self.voice_sessions += 1;
        let mut bytes = [0u8; VoiceKey::LEN];
        self.rng.fill_bytes(&mut bytes);
        let key = VoiceKey::from_bytes(bytes);
        self.events.push_back(ServerEvent::Relay(RelayCommand::Open {
            session,
            key: key.clone(),
            speaker: nick,
            group,
        }));
        Ok((session, key))
    }

    /// Closes a voice session in the relay.
    fn close_voice(&mut self, session: SessionId) {
        self.voice_sessions -= 1;
        self.events.push_back(ServerEvent::Relay(RelayCommand::Close { session }));
    }

    /// Tells a user that a room or call has no voice for them, and why.
    fn no_voice(&mut self, id: ConnectionId, why: NoVoice) {
        let reason = no_voice_reason(&self.config, why);
        self.send(
            id,
            &ServerMessage::Error { code: ErrorCode::NoVoice, reason: reason.borrowed() },
        );
    }

    // ---- leaving ----

    /// Closes a connection as far as the protocol goes and asks the
    /// program to close the socket.
    fn close(&mut self, id: ConnectionId, reason: CloseReason) {
        if self.leave(id, reason, true) {
            self.events.push_back(ServerEvent::Close { conn: id, reason });
        }
    }

    /// Forgets a connection's user: their call ends, their room is told,
    /// their nickname is free. Returns whether the connection was open.
    fn leave(&mut self, id: ConnectionId, reason: CloseReason, keep_output: bool) -> bool {
        let Some(conn) = self.conns.get_mut(&id).filter(|c| !c.closing) else { return false };
        conn.closing = true;
        if !keep_output {
            conn.output.clear();
        }
        self.open -= 1;
        self.timers.cancel(TimerKey::Registration(id));
        self.timers.cancel(TimerKey::Keepalive(id));
        let call = self.user(id).and_then(|u| u.call);
        if let Some(call) = call.and_then(|call| self.finish_call(call)) {
            self.send_talk(call.peer_of(id), id, TalkAction::End);
        }
        self.forget_user(id, reason);
        true
    }

    /// Takes the connection's user, if it has one, out of their room and
    /// frees their nickname.
    fn forget_user(&mut self, id: ConnectionId, reason: CloseReason) {
        self.leave_room(id);
        if let Some(user) = self.conns.get_mut(&id).and_then(|c| c.user.take()) {
            self.nicks.remove(&user.key);
            self.events.push_back(ServerEvent::Left { nick: user.nick, reason });
        }
    }

    // ---- output ----

    fn error(&mut self, id: ConnectionId, code: ErrorCode, args: fmt::Arguments<'_>) {
        self.send(id, &ServerMessage::Error { code, reason: reason(args).borrowed() });
    }

    fn not_accepted(&mut self, id: ConnectionId, args: fmt::Arguments<'_>) {
        self.send(id, &ServerMessage::NotAccepted { reason: reason(args).borrowed() });
    }

    /// Queues one line for one connection.
    fn send(&mut self, id: ConnectionId, msg: &ServerMessage<'_>) {
        if self.shutting_down {
            return;
        }
        let Some(conn) = self.conns.get_mut(&id).filter(|c| !c.closing) else { return };
        msg.encode(&mut conn.output);
        Self::queued(id, conn, &self.config, &mut self.ready, &mut self.overflowed);
    }

    /// Queues the last line a connection gets, past the output limit and
    /// during shutdown.
    fn send_final(&mut self, id: ConnectionId, msg: &ServerMessage<'_>) {
        let Some(conn) = self.conns.get_mut(&id).filter(|c| !c.closing) else { return };
        msg.encode(&mut conn.output);
        if !std::mem::replace(&mut conn.ready_queued, true) {
            self.ready.push_back(id);
        }
    }

    /// Queues one line for every other member of `from`'s room.
    fn broadcast(&mut self, from: ConnectionId, msg: &ServerMessage<'_>) {
        self.line.clear();
        msg.encode(&mut self.line);
        self.broadcast_line(from);
    }

    /// Queues the line in `self.line`, encoded once, for every other member
    /// of the room `from` is in (or has just left).
    fn broadcast_line(&mut self, from: ConnectionId) {
        // The room is found through `from`, not given by key, so that no key
        // is cloned: the state borrows only `self.rooms`.
        let room = self.conns.get(&from).and_then(|c| c.user.as_ref()).map(|u| &u.room);
        let Some(state) =
            room.and_then(|room| self.rooms.get(room)).filter(|_| !self.shutting_down)
        else {
            return;
        };
        for &member in &state.members {
            if member == from {
                continue;
            }
            let Some(conn) = self.conns.get_mut(&member).filter(|c| !c.closing) else { continue };
            conn.output.extend_from_slice(&self.line);
            Self::queued(member, conn, &self.config, &mut self.ready, &mut self.overflowed);
        }
    }

    /// Bookkeeping after output was added to `conn`.
    fn queued(
        id: ConnectionId,
        conn: &mut Connection,
        config: &ServerConfig,
        ready: &mut VecDeque<ConnectionId>,
        overflowed: &mut Vec<ConnectionId>,
    ) {
        if !std::mem::replace(&mut conn.ready_queued, true) {
            ready.push_back(id);
        }
        if conn.output.len() > config.max_output_queue_bytes && !conn.overflowed {
            conn.overflowed = true;
            overflowed.push(id);
        }
    }

    /// Disconnects every client whose output passed the limit. Done after
    /// each input, not during it, so that a fan-out is never interrupted
    /// by the departures it causes.
    fn close_overflowed(&mut self) {
        while let Some(id) = self.overflowed.pop() {
            let max = self.config.max_output_queue_bytes;
            let reason = reason(format_args!("more than {max} bytes of output were waiting"));
            let msg =
                ServerMessage::Error { code: ErrorCode::SendQueueFull, reason: reason.borrowed() };
            // The limit has room for this one line more.
            self.send_final(id, &msg);
            self.close(id, CloseReason::SendQueueFull);
        }
    }
}
