//! Why a line could not be parsed.

use super::CommandWord;
use crate::NameError;

/// Why a line was not a valid message. Peer faults only: a caller of this
/// crate cannot cause one by misuse.
///
/// Errors carry no copy of the input, so that parsing never allocates, even
/// when it fails; the caller still has the line if it wants to quote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The line is not valid UTF-8.
    #[error("line is not valid UTF-8")]
    InvalidUtf8,
    /// The line is empty.
    #[error("line is empty")]
    Empty,
    /// The first word is not a command of the protocol.
    #[error("unknown command")]
    UnknownCommand,
    /// The command exists but travels the other way (for example `JOINED`
    /// sent by a client).
    #[error("{0} is not sent in this direction")]
    WrongDirection(CommandWord),
    /// The command's arguments do not have the expected shape.
    #[error("malformed {0}")]
    Syntax(CommandWord),
    /// A number (PING, PONG, VOICE session) is not a decimal that fits.
    #[error("{0}: bad number")]
    BadNumber(CommandWord),
    /// A name or text in the command is invalid.
    #[error("{0}: {1}")]
    BadName(CommandWord, NameError),
    /// A voice key is not 64 hexadecimal digits.
    #[error("{0}: voice key must be 64 hex digits")]
    BadKey(CommandWord),
    /// An `ERROR` line names a code this version does not know. A client
    /// still treats it as an error, as
    /// [`ClientSession`](crate::client::ClientSession) does.
    #[error("ERROR: unknown error code")]
    UnknownErrorCode,
    /// A `TALK` action other than Request, Accept, Deny or End.
    #[error("TALK: action must be Request, Accept, Deny or End")]
    BadTalkAction,
}

impl ParseError {
    /// The command the line named, when it named a known one.
    pub fn command(&self) -> Option<CommandWord> {
        match *self {
            Self::WrongDirection(w)
            | Self::Syntax(w)
            | Self::BadNumber(w)
            | Self::BadName(w, _)
            | Self::BadKey(w) => Some(w),
            Self::UnknownErrorCode => Some(CommandWord::Error),
            Self::BadTalkAction => Some(CommandWord::Talk),
            Self::InvalidUtf8 | Self::Empty | Self::UnknownCommand => None,
        }
    }
}
