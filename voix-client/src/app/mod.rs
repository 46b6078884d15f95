//! The client's brain, sans-IO: connection and reconnection, the
//! `voix-proto` session, the user's commands, and the voice engine's
//! sessions and switches. Time is an argument; output is polled.
//!
//! Inputs: [`App::handle_connected`], [`App::handle_connect_failed`],
//! [`App::handle_input`], [`App::handle_closed`], [`App::handle_line`],
//! [`App::handle_command`] and [`App::handle_timeout`]. Outputs, drained
//! after every input: [`App::poll_action`] (what the runtime must do),
//! [`App::poll_event`] (what to show) and [`App::poll_timeout`] (when to
//! call `handle_timeout` next).

mod status;

#[cfg(test)]
mod tests;

pub use status::{CallView, Connection, Status};

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use voix_proto::client::{CallState, ClientEvent, ClientSession};
use voix_proto::{NickBuf, RealNameBuf, RoomBuf, Version};

use crate::backoff::Backoff;
use crate::command::{Command, HELP};
use crate::event::{Event, HelpLine, StatsReport};
use crate::voice::{TransmitModeArg, VoiceEngine, VoiceSettings};

/// The version this client sends in `CONNECT`.
pub const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How often the client measures the round trip with its own `PING`.
pub const PING_INTERVAL: Duration = Duration::from_secs(5);

/// How long quitting (`/quit`, the end of input) waits for the server to
/// accept us, so that commands typed before are sent rather than lost: a
/// connection attempt (`net::CONNECT_TIMEOUT`, 5 s) and as long again for
/// the server's answer to `CONNECT`.
pub const QUIT_SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often who is talking is checked for changes.
pub const TALKING_CHECK: Duration = Duration::from_millis(100);

/// The voice engine, shared by the control loop and the audio threads.
pub type SharedVoice = Arc<Mutex<VoiceEngine>>;

/// Locks the voice engine. Its state stays consistent even if another
/// thread panicked while holding it (every method leaves it whole), so a
/// poisoned lock is simply taken.
pub fn lock(voice: &SharedVoice) -> MutexGuard<'_, VoiceEngine> {
    voice.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Who we are and how we behave.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The nickname to register.
    pub nick: NickBuf,
    /// The real name to register.
    pub real_name: RealNameBuf,
    /// The server, as the user gave it (for messages).
    pub server: String,
    /// Reconnect with back-off when the connection fails or ends.
    pub reconnect: bool,
    /// The transmit mode `/ptt off` returns to.
    pub base_mode: TransmitModeArg,
}

/// Something the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a connection to the server, then call
    /// [`App::handle_connected`] or [`App::handle_connect_failed`].
    Connect,
    /// Write these bytes to the connection.
    Send(Bytes),
    /// Close the connection, after writing what was sent.
    Close,
    /// Stop: the client is done.
    Exit(ExitReason),
}

/// Why the client stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The user quit.
    Quit,
    /// The server refused our nickname on the first connection.
    Refused,
    /// The connection failed or ended, and reconnecting is off.
    ConnectionLost,
}

/// Where the connection is.
#[derive(Debug)]
enum Link {
    /// The runtime is connecting.
    Connecting,
    /// Connected: the session runs (registering, then registered).
    Online(Box<ClientSession>),
    /// Waiting to reconnect.
    Waiting { until: Instant },
    /// Done.
    Closed,
}

/// The client. See the [module documentation](self).
#[derive(Debug)]
pub struct App {
    config: AppConfig,
    link: Link,
    attempt: u32,
    ever_registered: bool,
    backoff: Backoff,
    voice: SharedVoice,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    next_ping: Option<Instant>,
    next_talking_check: Option<Instant>,
    talking: Vec<String>,
    call_since: Option<Instant>,
    /// Commands typed before the server accepted us, carried out then.
    pending: VecDeque<Command>,
    /// The room we were in, to go back to after reconnecting.
    last_room: Option<RoomBuf>,
    /// Registered, and not yet told our first room.
    just_registered: bool,
    /// The user quit while commands were pending: they are sent once the
    /// server accepts us, then we quit; past this deadline they are given up.
    quit_by: Option<Instant>,
}

/// Most commands kept while connecting; more are refused.
const MAX_PENDING: usize = 64;

impl App {
    /// A client that starts by connecting. `seed` drives the reconnection
    /// jitter.
    pub fn new(config: AppConfig, voice: SharedVoice, seed: u64) -> Self {
        let mut app = Self {
            config,
            link: Link::Connecting,
            attempt: 1,
            ever_registered: false,
            backoff: Backoff::new(seed),
            voice,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            next_ping: None,
            next_talking_check: None,
            talking: Vec::new(),
            call_since: None,
            pending: VecDeque::new(),
            last_room: None,
            just_registered: false,
            quit_by: None,
        };
        app.start_connecting();
        app
    }

    fn start_connecting(&mut self) {
        self.link = Link::Connecting;
        self.actions.push_back(Action::Connect);
        self.events.push_back(Event::Connecting {
            server: self.config.server.clone(),
            attempt: self.attempt,
        });
    }

    // ---- getters ----

    /// Whether the client is done.
    pub fn is_closed(&self) -> bool {
        matches!(self.link, Link::Closed)
    }

    /// The session, while connected.
    fn session(&self) -> Option<&ClientSession> {
        match &self.link {
            Link::Online(session) => Some(session),
            _ => None,
        }
    }

    /// What the panels and status bar show at `now`.
    pub fn status(&self, now: Instant) -> Status {
        let session = self.session();
        let connection = match &self.link {
            Link::Connecting => Connection::Connecting { attempt: self.attempt },
            Link::Online(s) if s.is_registered() => {
                Connection::Online { host: s.host().unwrap_or_default().to_owned() }
            }
            Link::Online(_) => Connection::Connecting { attempt: self.attempt },
            Link::Waiting { until } => {
                Connection::Waiting { until: *until, attempt: self.attempt + 1 }
            }
            Link::Closed => Connection::Closed,
        };
        let call = match session.map(ClientSession::call_state) {
            Some(CallState::Outgoing(peer)) => CallView::Ringing(peer.to_string()),
            Some(CallState::Incoming(peer)) => CallView::Incoming(peer.to_string()),
            Some(CallState::Active(peer)) => {
                CallView::Active(peer.to_string(), self.call_since.unwrap_or(now))
            }
            Some(CallState::Idle) | None => CallView::Idle,
        };
        let voice = lock(&self.voice);
        Status {
            server: self.config.server.clone(),
            nick: session.map_or_else(|| self.config.nick.to_string(), |s| s.nick().to_string()),
            connection,
            room: session.and_then(ClientSession::room).map(|room| room.to_string()),
            members: session
                .map(|s| s.members().iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            call,
            voice: voice.status(now),
            settings: voice.settings(),
            rtt: session.and_then(ClientSession::round_trip),
            frame: voice.frame().duration(),
        }
    }

    // ---- inputs ----

    /// The connection the runtime opened after [`Action::Connect`] is up.
    pub fn handle_connected(&mut self, now: Instant) {
        if !matches!(self.link, Link::Connecting) {
            return;
        }
        // Checked by a unit test: the crate's version is a valid one.
        let version =
            Version::new(CLIENT_VERSION).expect("the crate version is a protocol version");
        let session = ClientSession::new(
            self.config.nick.borrowed(),
            self.config.real_name.borrowed(),
            version,
        );
        self.link = Link::Online(Box::new(session));
        self.drain(now);
    }

    /// The connection could not be opened.
    pub fn handle_connect_failed(&mut self, now: Instant, reason: String) {
        if !matches!(self.link, Link::Connecting) {
            return;
        }
        self.events.push_back(Event::ConnectionLost { reason });
        self.retry_later(now);
    }

    /// Bytes read from the server.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if let Link::Online(session) = &mut self.link {
            session.handle_input(now, bytes);
            self.drain(now);
        }
    }

    /// The connection ended (the server closed it, or reading failed).
    pub fn handle_closed(&mut self, now: Instant, reason: String) {
        if let Link::Online(session) = &mut self.link {
            session.handle_disconnect();
            self.drain(now);
            self.lose_connection(now, reason);
        }
    }

    /// A line the user typed.
    pub fn handle_line(&mut self, now: Instant, line: &str) {
        match Command::parse(line) {
            Ok(Some(command)) => self.handle_command(now, command),
            Ok(None) => {}
            Err(error) => self.command_error(error.to_string()),
        }
    }

    /// Time passed: reconnect, measure the round trip, keep voice alive,
    /// and report who talks.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.quit_by.is_some_and(|by| now >= by) {
            return self.give_up_pending(ExitReason::ConnectionLost);
        }
        if let Link::Waiting { until } = self.link
            && now >= until
        {
            self.attempt += 1;
            self.start_connecting();
        }
        if let Link::Online(session) = &mut self.link {
            // A server that stopped answering our PINGs is given up, like
            // one that closed the connection.
            session.handle_timeout(now);
            self.drain(now);
        }
        if self.next_ping.is_some_and(|at| now >= at)
            && let Link::Online(session) = &mut self.link
        {
            let _ = session.ping(now);
            self.next_ping = Some(now + PING_INTERVAL);
            self.drain(now);
        }
        let talking = {
            let mut voice = lock(&self.voice);
            voice.handle_timeout(now);
            voice.status(now).talking
        };
        if talking != self.talking {
            self.talking = talking.clone();
            self.events.push_back(Event::Talking { nicks: talking });
        }
        self.next_talking_check = Some(now + TALKING_CHECK);
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let reconnect = match self.link {
            Link::Waiting { until } => Some(until),
            _ => None,
        };
        let keepalive = lock(&self.voice).poll_timeout();
        let ping_timeout = self.session().and_then(ClientSession::poll_timeout);
        [reconnect, self.next_ping, ping_timeout, keepalive, self.next_talking_check, self.quit_by]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next thing the runtime must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing to show.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- commands ----

    /// Carries out a command.
    pub fn handle_command(&mut self, now: Instant, command: Command) {
        match command {
            Command::Help => {
                let commands =
                    HELP.iter().map(|h| HelpLine { usage: h.usage, summary: h.summary }).collect();
                self.events.push_back(Event::Help { commands });
            }
            Command::Stats => {
                let report = self.stats_report(now);
                self.events.push_back(Event::Stats(report));
            }
            // A second `/quit` (or Ctrl-C) does not wait any longer.
            Command::Quit if self.quit_by.is_some() => self.quit_now(),
            Command::Quit => self.quit(now),
            Command::Mute(switch) => self.change_settings(|s| s.muted = switch.apply(s.muted)),
            Command::Deafen(switch) => {
                self.change_settings(|s| s.deafened = switch.apply(s.deafened))
            }
            Command::PushToTalk(switch) => {
                let base = match self.config.base_mode {
                    TransmitModeArg::Ptt => TransmitModeArg::Vad,
                    mode => mode,
                };
                self.change_settings(|s| {
                    let on = switch.apply(s.mode == TransmitModeArg::Ptt);
                    s.mode = if on { TransmitModeArg::Ptt } else { base };
                    s.talk_pressed = false;
                });
            }
            Command::Talk(switch) => {
                if lock(&self.voice).settings().mode != TransmitModeArg::Ptt {
                    self.command_error("push-to-talk is off; /ptt turns it on".to_owned());
                } else {
                    self.change_settings(|s| s.talk_pressed = switch.apply(s.talk_pressed));
                }
            }
            command => self.session_command(now, command),
        }
    }

    /// The commands that need the server.
    fn session_command(&mut self, now: Instant, command: Command) {
        let ready = self.session().is_some_and(|s| s.is_registered() && s.room().is_some());
        if !ready {
            if matches!(self.link, Link::Closed) {
                return self.command_error("not connected to the server".to_owned());
            }
            if self.quit_by.is_some() {
                return self.command_error("quitting; typed after /quit".to_owned());
            }
            if self.pending.len() >= MAX_PENDING {
                return self.command_error(
                    "not connected yet, and too many commands are waiting".to_owned(),
                );
            }
            self.pending.push_back(command);
            return;
        }
        let Link::Online(session) = &mut self.link else { return };
        let result = match command {
            Command::Say(text) => session.say(text.borrowed()),
            Command::Msg { to, text } => session.private_message(to.borrowed(), text.borrowed()),
            Command::Join(room) => session.join(room.borrowed()),
            Command::Call(peer) => {
                let name = peer.to_string();
                let result = session.call(peer.borrowed());
                if result.is_ok() {
                    self.events.push_back(Event::CallRinging { peer: name });
                }
                result
            }
            Command::Accept => session.accept(),
            Command::Deny => session.deny(),
            Command::HangUp => session.hang_up(),
            Command::Help
            | Command::Stats
            | Command::Quit
            | Command::Mute(_)
            | Command::Deafen(_)
            | Command::PushToTalk(_)
            | Command::Talk(_) => Ok(()),
        };
        if let Err(error) = result {
            self.command_error(error.to_string());
        }
        self.drain(now);
    }

    /// Leaves (`/quit`, the end of input): at once, or, if commands typed
    /// before the server accepted us are waiting, once they are sent (at
    /// most [`QUIT_SEND_TIMEOUT`] from `now`). Calling it again while
    /// waiting changes nothing.
    pub fn quit(&mut self, now: Instant) {
        if self.quit_by.is_some() || self.is_closed() {
            return;
        }
        if self.pending.is_empty() {
            return self.quit_now();
        }
        if matches!(self.link, Link::Waiting { .. }) {
            // The connection already failed: nothing will send them soon.
            return self.give_up_pending(ExitReason::ConnectionLost);
        }
        self.quit_by = Some(now + QUIT_SEND_TIMEOUT);
    }

    /// Leaves now (a signal, a second `/quit`), reporting the commands
    /// that were never sent.
    pub fn quit_now(&mut self) {
        if self.is_closed() {
            return;
        }
        self.report_dropped();
        self.leave(ExitReason::Quit);
    }

    /// Quitting could not send the pending commands: says so and exits
    /// with `reason`, an error.
    fn give_up_pending(&mut self, reason: ExitReason) {
        self.report_dropped();
        self.leave(reason);
    }

    /// Forgets the commands still waiting for the server, with an error
    /// that counts them, so a script learns they were not carried out.
    fn report_dropped(&mut self) {
        let dropped = std::mem::take(&mut self.pending).len();
        if dropped > 0 {
            self.command_error(format!(
                "{dropped} command(s) not sent: the server has not accepted us"
            ));
        }
    }

    /// `DISCONNECT`, close, exit with `reason`.
    fn leave(&mut self, reason: ExitReason) {
        self.quit_by = None;
        if let Link::Online(session) = &mut self.link {
            session.disconnect();
            if let Some(bytes) = session.poll_transmit() {
                self.actions.push_back(Action::Send(bytes));
            }
            self.actions.push_back(Action::Close);
        }
        lock(&self.voice).clear();
        self.link = Link::Closed;
        self.events.push_back(Event::Disconnected);
        self.actions.push_back(Action::Exit(reason));
    }

    fn change_settings(&mut self, change: impl FnOnce(&mut VoiceSettings)) {
        let settings = {
            let mut voice = lock(&self.voice);
            let mut settings = voice.settings();
            change(&mut settings);
            voice.apply_settings(settings);
            settings
        };
        self.events.push_back(Event::VoiceSettings {
            muted: settings.muted,
            deafened: settings.deafened,
            mode: settings.mode.as_str(),
            talk_pressed: settings.talk_pressed,
        });
    }

    fn command_error(&mut self, message: String) {
        self.events.push_back(Event::CommandError { message });
    }

    fn stats_report(&self, now: Instant) -> StatsReport {
        let status = self.status(now);
        StatsReport {
            scope: status.voice.scope.clone(),
            delay_ms: status.voice_delay().map(|d| d.as_millis() as u64),
            loss_percent: (status.voice.loss * 10_000.0).round() / 100.0,
            concealed_frames: status.voice.concealed_frames,
            packets_sent: status.voice.packets_sent,
            packets_received: status.voice.packets_received,
            packets_rejected: status.voice.packets_rejected,
            rtt_ms: status.rtt.map(|d| (d.as_secs_f64() * 1e6).round() / 1000.0),
        }
    }

    // ---- the session's output ----

    /// Moves the session's bytes to actions and its events to ours.
    fn drain(&mut self, now: Instant) {
        loop {
            let Link::Online(session) = &mut self.link else { return };
            if let Some(bytes) = session.poll_transmit() {
                self.actions.push_back(Action::Send(bytes));
            }
            let Some(event) = session.poll_event() else { return };
            self.translate(now, event);
        }
    }

    fn translate(&mut self, now: Instant, event: ClientEvent) {
        let shown = match event {
            ClientEvent::Registered { host } => {
                self.ever_registered = true;
                self.backoff.reset();
                self.next_ping = Some(now);
                self.next_talking_check = Some(now);
                self.attempt = 1;
                self.just_registered = true;
                let nick = self.session().map_or_else(String::new, |s| s.nick().to_string());
                Event::Connected { host, nick }
            }
            ClientEvent::Refused { nickname_in_use, reason } => {
                self.events.push_back(Event::Refused { nickname_in_use, reason: reason.clone() });
                self.actions.push_back(Action::Close);
                if self.ever_registered {
                    // Our old connection may still hold the nickname until
                    // the server notices it is gone: try again later.
                    self.lose_connection(now, format!("refused: {reason}"));
                } else {
                    self.report_dropped();
                    self.quit_by = None;
                    self.link = Link::Closed;
                    self.actions.push_back(Action::Exit(ExitReason::Refused));
                }
                return;
            }
            ClientEvent::Joined { room } => {
                lock(&self.voice).leave_room();
                self.events.push_back(Event::Joined { room: room.to_string() });
                // Back from a lost connection: return to the room we were in.
                let back =
                    self.last_room.replace(room.clone()).filter(|r| !r.same_room(room.borrowed()));
                if let Some(previous) = back.filter(|_| self.just_registered)
                    && let Link::Online(session) = &mut self.link
                {
                    let _ = session.join(previous.borrowed());
                }
                self.just_registered = false;
                // Registration ends in a room: what was typed meanwhile
                // can be carried out now.
                while let Some(command) = self.pending.pop_front() {
                    self.session_command(now, command);
                }
                self.drain(now);
                if self.quit_by.is_some() {
                    // They are sent: the quit that waited for them goes on.
                    self.quit_now();
                }
                return;
            }
            ClientEvent::Members { room, members } => Event::Members {
                room: room.to_string(),
                members: members.iter().map(ToString::to_string).collect(),
            },
            ClientEvent::UserJoined { room, nick } => {
                Event::UserJoined { room: room.to_string(), nick: nick.to_string() }
            }
            ClientEvent::UserLeft { room, nick } => {
                Event::UserLeft { room: room.to_string(), nick: nick.to_string() }
            }
            ClientEvent::RoomMessage { from, room, text } => Event::Message {
                room: room.to_string(),
                from: from.to_string(),
                text: text.to_string(),
            },
            ClientEvent::PrivateMessage { from, text } => {
                Event::PrivateMessage { from: from.to_string(), text: text.to_string() }
            }
            ClientEvent::IncomingCall { from } => Event::IncomingCall { from: from.to_string() },
            ClientEvent::CallStarted { peer } => {
                self.call_since = Some(now);
                Event::CallStarted { peer: peer.to_string() }
            }
            ClientEvent::CallEnded { peer, how } => {
                self.call_since = None;
                lock(&self.voice).end_call();
                Event::CallEnded { peer: peer.to_string(), reason: how.into() }
            }
            ClientEvent::Voice(credential) => {
                lock(&self.voice).add_credential(now, &credential);
                Event::VoiceReady {
                    scope: credential.scope.as_str().to_owned(),
                    session: credential.session.get(),
                }
            }
            ClientEvent::RoundTrip(_) => return,
            ClientEvent::Error { word, reason, .. } => Event::ServerError { code: word, reason },
            ClientEvent::Unrecognized { line, .. } => Event::Unrecognized { line },
            ClientEvent::Disconnected => return,
            ClientEvent::PingTimeout { silent_for } => {
                let reason = format!(
                    "the server has not answered for {} s",
                    silent_for.as_secs_f64().round()
                );
                return self.lose_connection(now, reason);
            }
        };
        self.events.push_back(shown);
    }

    /// The connection is gone: voice stops, and we try again later (or
    /// exit, if reconnecting is off).
    fn lose_connection(&mut self, now: Instant, reason: String) {
        lock(&self.voice).clear();
        self.next_ping = None;
        self.call_since = None;
        self.actions.push_back(Action::Close);
        self.events.push_back(Event::ConnectionLost { reason });
        self.retry_later(now);
    }

    fn retry_later(&mut self, now: Instant) {
        if self.quit_by.is_some() {
            // Quitting: no retry will carry out what is pending in time.
            return self.give_up_pending(ExitReason::ConnectionLost);
        }
        if !self.config.reconnect {
            self.link = Link::Closed;
            self.actions.push_back(Action::Exit(ExitReason::ConnectionLost));
            return;
        }
        let delay = self.backoff.next_delay();
        self.link = Link::Waiting { until: now + delay };
        self.events.push_back(Event::Reconnecting {
            in_ms: delay.as_millis() as u64,
            attempt: self.attempt + 1,
        });
    }
}
