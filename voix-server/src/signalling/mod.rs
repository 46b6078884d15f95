//! The task that owns the signalling core.
//!
//! Every connection's input reaches this one task through a bounded
//! channel ([`Input`]); it feeds the sans-IO [`Server`] and carries out
//! what the core asks, in the core's order: events first (closing
//! sockets, voice relay changes, logs), then output. Output is written
//! one batch per connection per pass, straight from this task when the
//! socket takes it at once, else by a short-lived task, so that a slow
//! peer never holds this task up. While a connection's write is pending,
//! its new output stays in the core, where it counts against the core's
//! queue limit: a client that stops reading is dropped by the core.

mod accept;
mod connection;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};
use voix_proto::server::{CloseReason, ConnectionId, Server, ServerEvent};
use voix_proto::voice::RelayCommand;

use connection::Connection;

/// How long a connection the server closes may take to receive its last
/// output and close its side, at shutdown as at any other close. After it
/// the socket is closed regardless.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Inputs that may wait for the signalling task. When the queue is full,
/// readers wait, and so stop reading from their sockets.
const INPUT_QUEUE: usize = 1024;

/// Most inputs handled before output is written: output to a connection
/// from all of them goes out in one write.
const INPUT_BATCH: usize = 256;

/// What happened on a connection, for the signalling task.
#[derive(Debug)]
pub(crate) enum Input {
    /// The listener accepted a connection.
    Accepted {
        /// The new socket.
        stream: TcpStream,
        /// The peer's address.
        peer: SocketAddr,
    },
    /// Bytes arrived.
    Received {
        /// From this connection.
        id: ConnectionId,
        /// The bytes, any number of lines or part of one.
        bytes: Bytes,
    },
    /// The peer closed its side, or reading failed.
    ReadEnded {
        /// The connection.
        id: ConnectionId,
        /// Why reading failed, or `None` at the end of the stream.
        error: Option<io::Error>,
    },
    /// A background write finished.
    Written {
        /// The connection.
        id: ConnectionId,
        /// The write half back, or why writing failed.
        result: io::Result<OwnedWriteHalf>,
    },
}

/// The signalling task's state.
#[derive(Debug)]
pub(crate) struct Signalling {
    server: Server,
    conns: HashMap<ConnectionId, Connection>,
    inputs_tx: mpsc::Sender<Input>,
    inputs: mpsc::Receiver<Input>,
    acceptor: JoinHandle<()>,
    relay: std_mpsc::Sender<RelayCommand>,
    /// Whether the relay thread was found gone (reported once).
    relay_lost: bool,
    /// Whether refusals for a full server were reported since it was last
    /// below its limit (so that a burst of them is one warning).
    full_reported: bool,
    /// Connections being closed, with the time they must be gone by, in
    /// order (every deadline is [`CLOSE_TIMEOUT`] after its close).
    closing: VecDeque<(Instant, ConnectionId)>,
    /// Connections to give output to, or to finish closing, that the core
    /// does not list as ready: their writer came back, or they are ending.
    woken: Vec<ConnectionId>,
    shutting_down: bool,
}

impl Signalling {
    /// Starts accepting on `listener`, for `server`, sending voice session
    /// changes to `relay`.
    pub(crate) fn new(
        server: Server,
        listener: TcpListener,
        relay: std_mpsc::Sender<RelayCommand>,
    ) -> Self {
        let (inputs_tx, inputs) = mpsc::channel(INPUT_QUEUE);
        let acceptor = tokio::spawn(accept::accept_loop(listener, inputs_tx.clone()));
        Self {
            server,
            conns: HashMap::new(),
            inputs_tx,
            inputs,
            acceptor,
            relay,
            relay_lost: false,
            full_reported: false,
            closing: VecDeque::new(),
            woken: Vec::new(),
            shutting_down: false,
        }
    }

    /// Runs until `shutdown` completes and every connection is closed
    /// (within [`CLOSE_TIMEOUT`]).
    pub(crate) async fn run(mut self, shutdown: impl Future) {
        tokio::pin!(shutdown);
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        let mut armed = None;
        let mut batch = Vec::with_capacity(INPUT_BATCH);
        loop {
            let deadline = self.next_deadline();
            if deadline != armed {
                if let Some(at) = deadline {
                    timer.as_mut().reset(at.into());
                }
                armed = deadline;
            }
            tokio::select! {
                // Stop accepting, tell everyone, and flush; the loop ends
                // once every connection is closed.
                _ = &mut shutdown, if !self.shutting_down => self.shutdown(),
                // Input from connections, many at a time so that the
                // output they cause goes out in one write per connection.
                received = self.inputs.recv_many(&mut batch, INPUT_BATCH) => {
                    if received == 0 {
                        // Unreachable while `self` holds a sender.
                        break;
                    }
                    let now = Instant::now();
                    for input in batch.drain(..) {
                        self.handle(now, input);
                    }
                }
                // A timer of the core, or a closing connection's deadline.
                () = &mut timer, if armed.is_some() => {
                    // Re-armed next time round, even for the same instant.
                    armed = None;
                    self.handle_timeout(Instant::now());
                }
            }
            self.drain();
            if self.shutting_down && self.conns.is_empty() {
                break;
            }
        }
        info!("signalling stopped");
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        let core = self.server.poll_timeout();
        let close = self.closing.front().map(|(at, _)| *at);
        match (core, close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn shutdown(&mut self) {
        info!(connections = self.conns.len(), "shutting down");
        self.shutting_down = true;
        // Closes the listener: new connections are refused from now on.
        self.acceptor.abort();
        self.server.shutdown(Instant::now());
    }

    fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Accepted { stream, peer } => self.accept(now, stream, peer),
            Input::Received { id, bytes } => self.server.handle_input(now, id, &bytes),
            Input::ReadEnded { id, error: None } => {
                let Some(conn) = self.conns.get_mut(&id) else { return };
                debug!(%id, peer = %conn.peer, "the peer finished sending");
                // Write what is queued for it, then close.
                conn.read_ended = true;
                self.end(now, id);
            }
            Input::ReadEnded { id, error: Some(error) } => {
                debug!(%id, %error, "reading failed");
                self.disconnect(now, id);
            }
            Input::Written { id, result: Ok(half) } => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.write_finished(half);
                    self.woken.push(id);
                }
            }
            Input::Written { id, result: Err(error) } => {
                debug!(%id, %error, "writing failed");
                self.disconnect(now, id);
            }
        }
    }

    fn accept(&mut self, now: Instant, stream: TcpStream, peer: SocketAddr) {
        // Lines are batched here already; Nagle's algorithm would only
        // delay them.
        if let Err(error) = stream.set_nodelay(true) {
            debug!(%peer, %error, "cannot disable Nagle's algorithm");
        }
        let id = self.server.handle_connect(now);
        debug!(%id, %peer, "connected");
        let (read, write) = stream.into_split();
        self.conns.insert(id, Connection::start(id, peer, read, write, &self.inputs_tx));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
        while let Some(&(at, id)) = self.closing.front() {
            if at > now {
                break;
            }
            self.closing.pop_front();
            if let Some(conn) = self.conns.get(&id) {
                debug!(%id, peer = %conn.peer, "did not close in time; closing it now");
                self.disconnect(now, id);
            }
        }
    }

    /// Carries out what the core asks until it asks nothing more: events
    /// first, then output. So a voice session is open in the relay before
    /// the `VOICE` line that lets its client send is written.
    fn drain(&mut self) {
        let mut woken = Vec::new();
        loop {
            let mut idle = true;
            while let Some(event) = self.server.poll_event() {
                idle = false;
                self.handle_event(event);
            }
            let now = Instant::now();
            std::mem::swap(&mut woken, &mut self.woken);
            for id in woken.drain(..) {
                idle = false;
                self.pump(now, id);
            }
            while let Some(id) = self.server.poll_ready() {
                idle = false;
                self.pump(now, id);
            }
            if idle {
                break;
            }
        }
    }

    fn handle_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Close { conn: id, reason } => self.close(id, reason),
            ServerEvent::Relay(command) => {
                if self.relay.send(command).is_err()
                    && !std::mem::replace(&mut self.relay_lost, true)
                {
                    error!("the voice relay has stopped; voice sessions are no longer updated");
                }
            }
            ServerEvent::Registered { conn, nick } => info!(id = %conn, %nick, "registered"),
            ServerEvent::Left { nick, reason } => info!(%nick, ?reason, "left"),
            ServerEvent::CallStarted { caller, callee } => info!(%caller, %callee, "call started"),
            ServerEvent::CallEnded { caller, callee } => info!(%caller, %callee, "call ended"),
            ServerEvent::VoiceIdsExhausted => error!(
                "every voice session id has been handed out: clients get no voice until the \
                 server is restarted"
            ),
        }
    }

    /// The core closed a connection: write what is left, then shut the
    /// socket down, within [`CLOSE_TIMEOUT`].
    fn close(&mut self, id: ConnectionId, reason: CloseReason) {
        let Some(conn) = self.conns.get(&id) else { return };
        debug!(%id, peer = %conn.peer, ?reason, "closing");
        if reason == CloseReason::ServerFull && !std::mem::replace(&mut self.full_reported, true) {
            let max = self.server.config().max_clients;
            warn!("the server is full ({max} connections); refusing new ones");
        }
        self.end(Instant::now(), id);
    }

    /// Starts ending a connection, once: its last output is written and
    /// then its socket shut down, within [`CLOSE_TIMEOUT`].
    fn end(&mut self, now: Instant, id: ConnectionId) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        if !std::mem::replace(&mut conn.closing, true) {
            self.closing.push_back((now + CLOSE_TIMEOUT, id));
        }
        self.woken.push(id);
    }

    /// Gives a connection its next batch of output, if it can take one,
    /// and forgets it once it is closed both ways.
    fn pump(&mut self, now: Instant, id: ConnectionId) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let server = &mut self.server;
        match conn.pump(id, &self.inputs_tx, || server.take_output(id)) {
            Ok(()) if conn.read_ended && conn.is_shut() => self.disconnect(now, id),
            Ok(()) => {}
            Err(error) => {
                debug!(%id, %error, "writing failed");
                self.disconnect(now, id);
            }
        }
    }

    /// Forgets a connection: its tasks end, its socket closes, and the
    /// core is told.
    fn disconnect(&mut self, now: Instant, id: ConnectionId) {
        if self.conns.remove(&id).is_some() {
            self.server.handle_disconnect(now, id);
            if self.server.connection_count() < self.server.config().max_clients {
                self.full_reported = false;
            }
        }
    }
}

impl Drop for Signalling {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}
