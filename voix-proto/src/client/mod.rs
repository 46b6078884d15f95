//! The sans-IO client session: the `CONNECT` handshake, automatic `PONG`,
//! the user's view of their room, its members and their call, and events
//! for a user interface.
//!
//! Feed it the bytes read from the server ([`ClientSession::handle_input`]),
//! call its commands ([`ClientSession::join`], [`ClientSession::say`],
//! [`ClientSession::call`], ...), and drain [`ClientSession::poll_transmit`]
//! (bytes to write) and [`ClientSession::poll_event`] (what to show).
//!
//! ```
//! use std::time::Instant;
//! use voix_proto::client::{ClientEvent, ClientSession};
//! use voix_proto::{Nick, RealName, Version};
//!
//! let mut client = ClientSession::new(
//!     Nick::new("Nickname").unwrap(),
//!     RealName::new("Real Name").unwrap(),
//!     Version::new("1.0.0").unwrap(),
//! );
//! let hello = client.poll_transmit().unwrap();
//! assert_eq!(&hello[..], b"CONNECT: \"Nickname\" \"Real Name\" 1.0.0\r\n");
//!
//! let now = Instant::now();
//! client.handle_input(now, b"ACCEPT: hostname.com\r\nPING: 14139282\r\nJOINED: #Lobby\r\n");
//! assert_eq!(&client.poll_transmit().unwrap()[..], b"PONG: 14139282\r\n");
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Registered { .. })));
//! assert_eq!(client.room().map(|r| r.as_str()), Some("#Lobby"));
//! ```

mod event;

#[cfg(test)]
mod tests;

pub use event::{CallEnd, ClientEvent};

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::voice::{SessionId, VoiceKey};
use crate::wire::{
    BadLine, ClientCommand, DEFAULT_MAX_LINE_LEN, ErrorCode, LineReader, ParseError, ServerMessage,
    TalkAction, VoiceScope, VoiceScopeBuf,
};
use crate::{
    NameKey, Nick, NickBuf, RealName, RealNameBuf, Room, RoomBuf, Text, Version, VersionBuf,
};

/// A command the session cannot carry out in its current state: a fault of
/// the caller, never of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server has not accepted the connection yet.
    #[error("not connected to a server yet")]
    NotRegistered,
    /// The server has accepted the connection already.
    #[error("already connected")]
    AlreadyRegistered,
    /// The session has ended.
    #[error("the session has ended")]
    Closed,
    /// Not in any room yet.
    #[error("not in a room yet")]
    NoRoom,
    /// A call is already ringing or in progress.
    #[error("already in a call")]
    AlreadyInCall,
    /// There is no incoming call to accept or deny.
    #[error("nobody is calling")]
    NoIncomingCall,
    /// There is no call to hang up.
    #[error("not in a call")]
    NotInCall,
    /// The target of a call or message is the user themself.
    #[error("that is you")]
    SelfTarget,
}

/// Where the user's one-to-one call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// No call.
    Idle,
    /// We asked `peer` for a call; it is ringing.
    Outgoing(NickBuf),
    /// `peer` is calling us.
    Incoming(NickBuf),
    /// In a call with `peer`.
    Active(NickBuf),
}

impl CallState {
    /// The other party, if there is a call.
    pub fn peer(&self) -> Option<Nick<'_>> {
        match self {
            Self::Idle => None,
            Self::Outgoing(p) | Self::Incoming(p) | Self::Active(p) => Some(p.borrowed()),
        }
    }

    /// The other party, if there is a call, owned.
    fn into_peer(self) -> Option<NickBuf> {
        match self {
            Self::Idle => None,
            Self::Outgoing(p) | Self::Incoming(p) | Self::Active(p) => Some(p),
        }
    }
}

/// A voice session as `VOICE` lines hand them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceCredential {
    /// The room or the call it is for.
    pub scope: VoiceScopeBuf,
    /// The session id of the packets.
    pub session: SessionId,
    /// The session's key.
    pub key: VoiceKey,
}

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `CONNECT` sent; waiting for `ACCEPT`.
    Connecting,
    /// Registered.
    Registered,
    /// Refused, disconnected or closed.
    Closed,
}

/// The client side of one connection to a server. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct ClientSession {
    nick: NickBuf,
    real_name: RealNameBuf,
    version: VersionBuf,
    phase: Phase,
    reader: LineReader,
    input: BytesMut,
    output: BytesMut,
    events: VecDeque<ClientEvent>,
    host: Option<String>,
    room: Option<RoomBuf>,
    members: Vec<NickBuf>,
    /// The members' keys, so that a big room's lists are merged in linear
    /// time.
    member_keys: HashSet<NameKey>,
    call: CallState,
    /// The callee of our request that a request to us overtook at the
    /// server (see `request_overtook_ours`): reported as denied, but not
    /// answered by the server yet.
    overtaken: Option<NickBuf>,
    room_voice: Option<VoiceCredential>,
    call_voice: Option<VoiceCredential>,
    /// Our PINGs awaiting PONG: token → when sent.
    pings: HashMap<u64, Instant>,
    next_ping: u64,
    last_rtt: Option<Duration>,
    /// When the oldest of our `PING`s that no `PONG` has followed yet was
    /// sent: the server has been silent to them since.
    unanswered_since: Option<Instant>,
    /// How long a `PING` may go unanswered before the server is taken for
    /// gone.
    ping_timeout: Duration,
}

/// How long one of our `PING`s may go unanswered before the session gives
/// the server up ([`ClientEvent::PingTimeout`]): three of the client's
/// 5 s round-trip pings. A server that is stopped or cut off sends no
/// FIN, so without this the connection would look alive forever.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(15);

/// How many of our own `PING`s may await an answer; older ones are
/// forgotten.
const MAX_OUTSTANDING_PINGS: usize = 8;

impl ClientSession {
    /// A session that registers as `nick`; its first output is the
    /// `CONNECT` line.
    pub fn new(nick: Nick<'_>, real_name: RealName<'_>, version: Version<'_>) -> Self {
        let mut session = Self {
            nick: nick.into_owned(),
            real_name: real_name.into_owned(),
            version: version.into_owned(),
            phase: Phase::Connecting,
            reader: LineReader::new(DEFAULT_MAX_LINE_LEN),
            input: BytesMut::new(),
            output: BytesMut::new(),
            events: VecDeque::new(),
            host: None,
            room: None,
            members: Vec::new(),
            member_keys: HashSet::new(),
            call: CallState::Idle,
            overtaken: None,
            room_voice: None,
            call_voice: None,
            pings: HashMap::new(),
            next_ping: 1,
            last_rtt: None,
            unanswered_since: None,
            ping_timeout: DEFAULT_PING_TIMEOUT,
        };
        session.send_connect();
        session
    }

    /// Changes how long a `PING` may go unanswered (default
    /// [`DEFAULT_PING_TIMEOUT`]).
    pub fn set_ping_timeout(&mut self, timeout: Duration) {
        self.ping_timeout = timeout;
    }

    // ---- getters ----

    /// Our nickname.
    pub fn nick(&self) -> Nick<'_> {
        self.nick.borrowed()
    }

    /// Whether the server accepted us.
    pub fn is_registered(&self) -> bool {
        self.phase == Phase::Registered
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The server's name for itself, from `ACCEPT`.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// Our room.
    pub fn room(&self) -> Option<Room<'_>> {
        self.room.as_ref().map(RoomBuf::borrowed)
    }

    /// The members of our room, us included, in join order.
    pub fn members(&self) -> &[NickBuf] {
        &self.members
    }

    /// Our call.
    pub fn call_state(&self) -> &CallState {
        &self.call
    }

    /// The voice session to use now: the call's during a call, else the
    /// room's.
    pub fn active_voice(&self) -> Option<&VoiceCredential> {
        match self.call {
            CallState::Active(_) => self.call_voice.as_ref(),
            _ => self.room_voice.as_ref(),
        }
    }

    /// The round-trip time measured by the last answered [`ClientSession::ping`].
    pub fn round_trip(&self) -> Option<Duration> {
        self.last_rtt
    }

    // ---- input ----

    /// Bytes read from the server.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.phase == Phase::Closed {
            return;
        }
        let mut input = std::mem::take(&mut self.input);
        input.extend_from_slice(bytes);
        let mut reader = self.reader.clone();
        reader.drain(&mut input, |line| {
            match line {
                Ok(line) => self.handle_line(now, line),
                Err(BadLine::InvalidUtf8(line)) => self.unrecognized(
                    String::from_utf8_lossy(line).into_owned(),
                    Some(ParseError::InvalidUtf8),
                ),
                Err(BadLine::TooLong) => {
                    self.unrecognized("(a line longer than the limit)".to_owned(), None)
                }
            }
            ControlFlow::Continue(())
        });
        self.reader = reader;
        self.input = input;
    }

    /// Time passed: a `PING` unanswered for the ping timeout ends the
    /// session with [`ClientEvent::PingTimeout`]; close the connection.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Closed || self.poll_timeout().is_none_or(|at| now < at) {
            return;
        }
        let silent_for = self.unanswered_since.map_or(Duration::ZERO, |at| now - at);
        self.end_call(CallEnd::Disconnected);
        self.phase = Phase::Closed;
        self.pings.clear();
        self.unanswered_since = None;
        self.events.push_back(ClientEvent::PingTimeout { silent_for });
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called:
    /// the ping timeout of the oldest unanswered `PING`, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.unanswered_since.map(|at| at + self.ping_timeout)
    }

    /// The connection to the server closed.
    pub fn handle_disconnect(&mut self) {
        if self.phase != Phase::Closed {
            self.end_call(CallEnd::Disconnected);
            self.phase = Phase::Closed;
            self.events.push_back(ClientEvent::Disconnected);
        }
    }

    /// Reports a line this session could not make sense of. A newer
    /// server may send lines this version does not know: the session
    /// reports them and carries on.
    fn unrecognized(&mut self, line: String, error: Option<ParseError>) {
        self.events.push_back(ClientEvent::Unrecognized { line, error });
    }

    fn handle_line(&mut self, now: Instant, line: &str) {
        let msg = match ServerMessage::parse_str(line) {
            Ok(msg) => msg,
            Err(ParseError::UnknownErrorCode) => return self.unknown_error(line),
            Err(error) => return self.unrecognized(line.to_owned(), Some(error)),
        };
        match msg {
            ServerMessage::Accept { host } => {
                self.phase = Phase::Registered;
                self.host = Some(host.to_string());
                self.events.push_back(ClientEvent::Registered { host: host.to_string() });
            }
            ServerMessage::NotAccepted { reason } => self.refused(false, reason),
            ServerMessage::NicknameInUse { reason } => self.refused(true, reason),
            ServerMessage::Ping { token } => self.queue(&ClientCommand::Pong { token }),
            ServerMessage::Pong { token } => {
                if let Some(sent) = self.pings.remove(&token) {
                    let rtt = now.saturating_duration_since(sent);
                    self.last_rtt = Some(rtt);
                    self.events.push_back(ClientEvent::RoundTrip(rtt));
                }
                // Even a PING forgotten for its round trip shows the server
                // is there, and the wait starts over.
                if token < self.next_ping {
                    self.answered_up_to(token);
                }
            }
            ServerMessage::Joined { room } => {
                let room = room.into_owned();
                self.room = Some(room.clone());
                self.members.clear();
                self.member_keys.clear();
                self.room_voice = None;
                self.events.push_back(ClientEvent::Joined { room });
            }
            ServerMessage::UserList { room, users } => {
                if self.is_our_room(room) {
                    // A big room's list comes in several lines after JOINED.
                    for nick in users.iter() {
                        if self.member_keys.insert(nick.key()) {
                            self.members.push(nick.into_owned());
                        }
                    }
                    self.events.push_back(ClientEvent::Members {
                        room: room.into_owned(),
                        members: self.members.clone(),
                    });
                }
            }
            ServerMessage::UserJoin { room, nick } => {
                if self.is_our_room(room) {
                    let nick = nick.into_owned();
                    if self.member_keys.insert(nick.key()) {
                        self.members.push(nick.clone());
                    }
                    self.events
                        .push_back(ClientEvent::UserJoined { room: room.into_owned(), nick });
                }
            }
            ServerMessage::UserLeave { room, nick } => {
                if self.is_our_room(room) {
                    self.member_keys.remove(&nick.key());
                    self.members.retain(|m| !m.same_user(nick));
                    let nick = nick.into_owned();
                    self.events.push_back(ClientEvent::UserLeft { room: room.into_owned(), nick });
                }
            }
            ServerMessage::RoomMessage { from, room, text } => {
                self.events.push_back(ClientEvent::RoomMessage {
                    from: from.into_owned(),
                    room: room.into_owned(),
                    text: text.into_owned(),
                });
            }
            ServerMessage::PrivateMessage { from, text } => {
                self.events.push_back(ClientEvent::PrivateMessage {
                    from: from.into_owned(),
                    text: text.into_owned(),
                });
            }
            ServerMessage::Talk { peer, action } => self.handle_talk(peer.into_owned(), action),
            ServerMessage::Voice { scope, session, key } => self.voice(scope, session, key),
            ServerMessage::Error { code, reason } => {
                self.error(Some(code), code.as_str().to_owned(), reason)
            }
        }
    }

    /// A voice credential: for our room, or for our live call. One for a
    /// call with anyone else is stale (that call ended while it was on
    /// its way) and is reported, not kept: a later call that gets no
    /// voice (`ERROR NOVOICE`) must not use it.
    fn voice(&mut self, scope: VoiceScope<'_>, session: SessionId, key: VoiceKey) {
        let credential = VoiceCredential { scope: scope.into_owned(), session, key };
        match scope {
            VoiceScope::Room(_) => self.room_voice = Some(credential.clone()),
            VoiceScope::Call(peer) if self.is_in_call_with(peer) => {
                self.call_voice = Some(credential.clone());
            }
            VoiceScope::Call(peer) => {
                // Without the key: reports are shown and logged.
                return self.unrecognized(format!("VOICE {peer}: {session} (key left out)"), None);
            }
        }
        self.events.push_back(ClientEvent::Voice(credential));
    }

    /// Whether our call with `peer` is live. The server sends a call's
    /// credential only then, after the Accept that makes it live here.
    fn is_in_call_with(&self, peer: Nick<'_>) -> bool {
        matches!(&self.call, CallState::Active(p) if p.same_user(peer))
    }

    /// An `ERROR` line whose code this version does not know: an error
    /// like any other (PROTOCOL.md, "Errors"), so that servers can grow.
    fn unknown_error(&mut self, line: &str) {
        match ServerMessage::error_parts(line) {
            Some((word, reason)) => self.error(None, word.to_owned(), reason),
            None => self.unrecognized(line.to_owned(), Some(ParseError::UnknownErrorCode)),
        }
    }

    /// Reports an `ERROR` line, known code or not.
    fn error(&mut self, code: Option<ErrorCode>, word: String, reason: Text<'_>) {
        // The server closes every connection after SHUTDOWN: the call is
        // over even if the close is slow to show.
        if code == Some(ErrorCode::Shutdown) {
            self.end_call(CallEnd::Disconnected);
        }
        self.events.push_back(ClientEvent::Error { code, word, reason: reason.to_string() });
    }

    fn refused(&mut self, nickname_in_use: bool, reason: Text<'_>) {
        let reason = reason.to_string();
        if self.phase == Phase::Connecting {
            self.events.push_back(ClientEvent::Refused { nickname_in_use, reason });
        } else {
            // Registered clients are not refused; a server that does so is
            // reporting something the session has no state for.
            self.unrecognized(reason, None);
        }
    }

    fn is_our_room(&self, room: Room<'_>) -> bool {
        self.room.as_ref().is_some_and(|r| r.same_room(room))
    }

    fn handle_talk(&mut self, peer: NickBuf, action: TalkAction) {
        if action != TalkAction::Request && self.is_overtaken(peer.borrowed()) {
            return self.overtaken_answered(peer, action);
        }
        let is_peer = self.call.peer().is_some_and(|p| p.same_user(peer.borrowed()));
        match (action, &self.call) {
            (TalkAction::Request, CallState::Idle) => self.ring(peer),
            (TalkAction::Request, CallState::Outgoing(_)) if is_peer => {
                // We both asked: the server connects the call.
            }
            (TalkAction::Request, CallState::Outgoing(_)) => self.request_overtook_ours(peer),
            (TalkAction::Accept, CallState::Outgoing(_)) if is_peer => {
                self.call = CallState::Active(peer.clone());
                self.events.push_back(ClientEvent::CallStarted { peer });
            }
            (TalkAction::Deny, CallState::Outgoing(_)) if is_peer => {
                self.end_call(CallEnd::Denied);
            }
            (TalkAction::End, _) if is_peer => {
                let how = match self.call {
                    CallState::Outgoing(_) => CallEnd::NoAnswer,
                    CallState::Incoming(_) => CallEnd::Withdrawn,
                    _ => CallEnd::HungUp,
                };
                self.end_call(how);
            }
            _ => self.unrecognized(format!("TALK {peer}: {action}"), None),
        }
    }

    /// `caller` is calling us.
    fn ring(&mut self, caller: NickBuf) {
        self.call = CallState::Incoming(caller.clone());
        self.events.push_back(ClientEvent::IncomingCall { from: caller });
    }

    /// `caller`'s request came while ours to someone else was pending.
    /// The server sends a request only to a user who is in no call, so it
    /// read `caller`'s before ours, and will refuse ours because we are
    /// ringing (`ERROR BUSY`, then `TALK <callee>: Deny`), unless the
    /// caller gives up before it reads ours. The new call rings here.
    fn request_overtook_ours(&mut self, caller: NickBuf) {
        // Ours is reported as denied now rather than when its Deny
        // arrives: the user may accept the new call in between, and an
        // interface that tears down its call (voice included) on
        // `CallEnded` would then tear down the new one.
        self.overtaken = self.call.peer().map(Nick::into_owned);
        self.end_call(CallEnd::Denied);
        self.ring(caller);
    }

    /// Whether `peer` is the callee of our overtaken request.
    fn is_overtaken(&self, peer: Nick<'_>) -> bool {
        self.overtaken.as_ref().is_some_and(|o| o.same_user(peer))
    }

    /// The server's answer to our overtaken request, which was reported
    /// when it was overtaken. The server answers lines in order, so this
    /// comes before any answer to a later request to the same user.
    fn overtaken_answered(&mut self, callee: NickBuf, action: TalkAction) {
        self.overtaken = None;
        if action == TalkAction::Accept {
            // The caller gave up before the server read our request, so
            // it rang after all, and the callee took it. The user was told
            // that it was denied: end it, as the server's view would
            // otherwise hold a call that ours does not.
            self.queue(&ClientCommand::Talk { peer: callee.borrowed(), action: TalkAction::End });
        }
        // A Deny (the usual answer: we were ringing) or an End (it rang
        // out) ends it as reported.
    }

    /// Leaves whatever call there is, reporting how it ended. Every way
    /// out of a call comes here, so the call's credential goes with it.
    fn end_call(&mut self, how: CallEnd) {
        let call = std::mem::replace(&mut self.call, CallState::Idle);
        self.call_voice = None;
        if let Some(peer) = call.into_peer() {
            self.events.push_back(ClientEvent::CallEnded { peer, how });
        }
    }

    // ---- commands ----

    /// Moves to `room` (created if it does not exist). The room changes
    /// when the server answers `JOINED`.
    pub fn join(&mut self, room: Room<'_>) -> Result<(), ClientError> {
        self.check_registered()?;
        self.queue(&ClientCommand::Join { room });
        Ok(())
    }

    /// Says `text` in our room.
    pub fn say(&mut self, text: Text<'_>) -> Result<(), ClientError> {
        self.check_registered()?;
        let room = self.room.as_ref().ok_or(ClientError::NoRoom)?.borrowed();
        // Encoded here rather than through `queue`: the line borrows the
        // room from `self`.
        ClientCommand::RoomMessage { room, text }.encode(&mut self.output);
        Ok(())
    }

    /// Sends `text` to `to` privately.
    pub fn private_message(&mut self, to: Nick<'_>, text: Text<'_>) -> Result<(), ClientError> {
        self.check_registered()?;
        if to.same_user(self.nick()) {
            return Err(ClientError::SelfTarget);
        }
        self.queue(&ClientCommand::PrivateMessage { to, text });
        Ok(())
    }

    /// Asks `peer` for a call.
    pub fn call(&mut self, peer: Nick<'_>) -> Result<(), ClientError> {
        self.check_registered()?;
        if peer.same_user(self.nick()) {
            return Err(ClientError::SelfTarget);
        }
        if self.call != CallState::Idle {
            return Err(ClientError::AlreadyInCall);
        }
        self.call = CallState::Outgoing(peer.into_owned());
        self.queue(&ClientCommand::Talk { peer, action: TalkAction::Request });
        Ok(())
    }

    /// Accepts the incoming call.
    pub fn accept(&mut self) -> Result<(), ClientError> {
        self.check_registered()?;
        let CallState::Incoming(peer) = self.call.clone() else {
            return Err(ClientError::NoIncomingCall);
        };
        self.queue(&ClientCommand::Talk { peer: peer.borrowed(), action: TalkAction::Accept });
        self.call = CallState::Active(peer.clone());
        self.events.push_back(ClientEvent::CallStarted { peer });
        Ok(())
    }

    /// Refuses the incoming call.
    pub fn deny(&mut self) -> Result<(), ClientError> {
        self.check_registered()?;
        let CallState::Incoming(peer) = self.call.clone() else {
            return Err(ClientError::NoIncomingCall);
        };
        self.queue(&ClientCommand::Talk { peer: peer.borrowed(), action: TalkAction::Deny });
        self.end_call(CallEnd::Denied);
        Ok(())
    }

    /// Ends the call, or withdraws our request.
    pub fn hang_up(&mut self) -> Result<(), ClientError> {
        self.check_registered()?;
        let peer = self.call.peer().ok_or(ClientError::NotInCall)?;
        // Encoded here rather than through `queue`: the line borrows the
        // peer from `self`.
        ClientCommand::Talk { peer, action: TalkAction::End }.encode(&mut self.output);
        self.end_call(CallEnd::HungUp);
        Ok(())
    }

    /// Sends a `PING` to measure the round trip; the answer comes as
    /// [`ClientEvent::RoundTrip`]. Unanswered for the ping timeout, it
    /// ends the session (see [`handle_timeout`](Self::handle_timeout)).
    pub fn ping(&mut self, now: Instant) -> Result<(), ClientError> {
        self.check_registered()?;
        if self.pings.len() >= MAX_OUTSTANDING_PINGS {
            // Forgotten for the round trip only: `unanswered_since` still
            // counts from the oldest.
            self.pings.clear();
        }
        let token = self.next_ping;
        self.next_ping += 1;
        self.pings.insert(token, now);
        self.unanswered_since.get_or_insert(now);
        self.queue(&ClientCommand::Ping { token });
        Ok(())
    }

    /// The server answered our `PING` `token`: it also read every earlier
    /// one (TCP keeps order), so those are forgotten, and the wait starts
    /// over from the oldest later one.
    fn answered_up_to(&mut self, token: u64) {
        self.pings.retain(|&t, _| t > token);
        self.unanswered_since = self.pings.values().min().copied();
    }

    /// Says goodbye: queues `DISCONNECT`; close the socket once it is
    /// written.
    pub fn disconnect(&mut self) {
        if self.phase != Phase::Closed {
            self.queue(&ClientCommand::Disconnect);
            self.end_call(CallEnd::Disconnected);
            self.phase = Phase::Closed;
        }
    }

    /// Tries another nickname after [`ClientEvent::Refused`].
    pub fn retry_with(&mut self, nick: Nick<'_>) -> Result<(), ClientError> {
        match self.phase {
            Phase::Connecting => {
                self.nick = nick.into_owned();
                self.send_connect();
                Ok(())
            }
            Phase::Registered => Err(ClientError::AlreadyRegistered),
            Phase::Closed => Err(ClientError::Closed),
        }
    }

    fn send_connect(&mut self) {
        let connect = ClientCommand::Connect {
            nick: self.nick.borrowed(),
            real_name: self.real_name.borrowed(),
            version: self.version.borrowed(),
        };
        connect.encode(&mut self.output);
    }

    fn check_registered(&self) -> Result<(), ClientError> {
        match self.phase {
            Phase::Registered => Ok(()),
            Phase::Connecting => Err(ClientError::NotRegistered),
            Phase::Closed => Err(ClientError::Closed),
        }
    }

    fn queue(&mut self, cmd: &ClientCommand<'_>) {
        cmd.encode(&mut self.output);
    }

    // ---- output ----

    /// Bytes to write to the server, all that is waiting, or `None`.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.output.is_empty()).then(|| self.output.split().freeze())
    }

    /// The next thing to show the user.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}
