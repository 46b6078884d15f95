//! What the server core tells the program that runs it.

use super::ConnectionId;
use crate::NickBuf;
use crate::voice::RelayCommand;

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent `DISCONNECT`.
    ClientQuit,
    /// The connection was closed or broke on the client's side.
    PeerClosed,
    /// The server was full when the client connected.
    ServerFull,
    /// The client did not register in time.
    RegistrationTimeout,
    /// The client did not answer `PING` in time.
    PingTimeout,
    /// The client did not read its output fast enough.
    SendQueueFull,
    /// The server is shutting down.
    Shutdown,
}

/// An event from [`Server::poll_event`](super::Server::poll_event).
#[derive(Debug)]
#[must_use]
pub enum ServerEvent {
    /// Write the connection's remaining output ([`take_output`]) and then
    /// close it, and call [`handle_disconnect`] once it is closed.
    ///
    /// [`take_output`]: super::Server::take_output
    /// [`handle_disconnect`]: super::Server::handle_disconnect
    Close {
        /// The connection to close.
        conn: ConnectionId,
        /// Why.
        reason: CloseReason,
    },
    /// Apply this to the voice relay.
    Relay(RelayCommand),
    /// A client registered.
    Registered {
        /// Its connection.
        conn: ConnectionId,
        /// Its nickname.
        nick: NickBuf,
    },
    /// A registered user left.
    Left {
        /// Their nickname.
        nick: NickBuf,
        /// Why.
        reason: CloseReason,
    },
    /// A call was accepted.
    CallStarted {
        /// Who called.
        caller: NickBuf,
        /// Who answered.
        callee: NickBuf,
    },
    /// A call ended, was denied, or rang out.
    CallEnded {
        /// Who called.
        caller: NickBuf,
        /// Who was called.
        callee: NickBuf,
    },
    /// The server has handed out every voice session id (4,294,967,295)
    /// and can open no more voice sessions until it is restarted: ids are
    /// never reused, because relay nonces contain them. From now on every
    /// room or call gets `ERROR NOVOICE` instead of a credential. Sent
    /// once; an operator should restart the server.
    VoiceIdsExhausted,
}
