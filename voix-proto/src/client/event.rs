//! What a client session tells its user interface.

use super::VoiceCredential;
use crate::wire::{ErrorCode, ParseError};
use crate::{NickBuf, RoomBuf, TextBuf};
use std::time::Duration;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    /// One side hung up, or we withdrew our own request while it rang.
    HungUp,
    /// The call was refused (by the peer, or by the server: busy, unknown).
    Denied,
    /// Our request rang without an answer until the server ended it.
    NoAnswer,
    /// A call that rang here ended before we answered: the caller gave up,
    /// or the server's ring timeout passed.
    Withdrawn,
    /// The connection to the server ended.
    Disconnected,
}

/// Something for the user interface to show, from
/// [`ClientSession::poll_event`](super::ClientSession::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server accepted us.
    Registered {
        /// The server's name for itself.
        host: String,
    },
    /// The server refused our `CONNECT`; retry with
    /// [`ClientSession::retry_with`](super::ClientSession::retry_with).
    Refused {
        /// The nickname is taken (rather than invalid or malformed).
        nickname_in_use: bool,
        /// The server's words.
        reason: String,
    },
    /// We are now in `room`.
    Joined {
        /// Our new room.
        room: RoomBuf,
    },
    /// The full member list of our room.
    Members {
        /// The room.
        room: RoomBuf,
        /// Its members, us included.
        members: Vec<NickBuf>,
    },
    /// Someone joined our room.
    UserJoined {
        /// The room.
        room: RoomBuf,
        /// Who.
        nick: NickBuf,
    },
    /// Someone left our room.
    UserLeft {
        /// The room.
        room: RoomBuf,
        /// Who.
        nick: NickBuf,
    },
    /// A message in our room.
    RoomMessage {
        /// Who said it.
        from: NickBuf,
        /// The room.
        room: RoomBuf,
        /// What.
        text: TextBuf,
    },
    /// A private message to us.
    PrivateMessage {
        /// Who sent it.
        from: NickBuf,
        /// What.
        text: TextBuf,
    },
    /// Someone is calling us.
    IncomingCall {
        /// The caller.
        from: NickBuf,
    },
    /// A call is live.
    CallStarted {
        /// The other party.
        peer: NickBuf,
    },
    /// A call, or a request for one, is over.
    CallEnded {
        /// The other party.
        peer: NickBuf,
        /// How.
        how: CallEnd,
    },
    /// A voice credential for our room or our call.
    Voice(VoiceCredential),
    /// The answer to our `PING` came back after this long.
    RoundTrip(Duration),
    /// The server refused a command or is about to close the connection.
    Error {
        /// What went wrong, for programs; `None` for a code this version
        /// does not know (a newer server's), which is an error all the
        /// same.
        code: Option<ErrorCode>,
        /// The code as a word, to show: the known code's spelling, or the
        /// unknown one as the server wrote it.
        word: String,
        /// The server's words.
        reason: String,
    },
    /// A line this version does not understand, or that does not fit the
    /// session's state. The session carries on.
    Unrecognized {
        /// The line (or a description of it).
        line: String,
        /// Why it did not parse, if it did not.
        error: Option<ParseError>,
    },
    /// The connection to the server ended.
    Disconnected,
    /// Our `PING` went unanswered for the ping timeout: the server is hung
    /// or unreachable. The session has ended; close the connection.
    PingTimeout {
        /// How long since the oldest unanswered `PING`.
        silent_for: Duration,
    },
}
