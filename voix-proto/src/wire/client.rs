//! Lines a client sends to the server.

use bytes::BytesMut;

use super::syntax::{self, LineWriter, end, target_text};
use super::{CommandWord, ParseError, TalkAction};
use crate::{Nick, RealName, Room, Text, Version};

/// A line from a client to the server, borrowing from the input line.
///
/// It holds only views of the line ([`Nick`], [`Text`], ...), each a bare
/// `&str`, so it is `Copy` and has nothing to drop: a parsed line is
/// dropped for free, which matters on a path that parses every line a
/// server receives. Keep a part past the line with its `into_owned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCommand<'a> {
    /// `CONNECT: "nick" "Real Name" 1.0.0`: register with the server.
    Connect {
        /// The nickname to use; unique on the server, ignoring case.
        nick: Nick<'a>,
        /// The user's real name.
        real_name: RealName<'a>,
        /// The client's version.
        version: Version<'a>,
    },
    /// `PING: n`: ask the server for a `PONG: n` (to measure round trips).
    Ping {
        /// Echoed back unchanged.
        token: u64,
    },
    /// `PONG: n`: answer the server's `PING: n`.
    Pong {
        /// The number from the `PING`.
        token: u64,
    },
    /// `JOIN: #room`: move to a room (it is created if it does not exist).
    Join {
        /// The room to move to.
        room: Room<'a>,
    },
    /// `MSG #room: text`: say something in the room you are in.
    RoomMessage {
        /// The room, which must be the sender's current room.
        room: Room<'a>,
        /// What to say.
        text: Text<'a>,
    },
    /// `PRIVMSG nick: text` (or `MSG nick: text`): a private message.
    PrivateMessage {
        /// Who it is for.
        to: Nick<'a>,
        /// What to say.
        text: Text<'a>,
    },
    /// `TALK nick: action`: request, accept, deny or end a voice call.
    Talk {
        /// The other party of the call.
        peer: Nick<'a>,
        /// What to do.
        action: TalkAction,
    },
    /// `DISCONNECT`: leave the server now.
    Disconnect,
}

impl<'a> ClientCommand<'a> {
    /// Parses one line (without its line ending), borrowing from it.
    ///
    /// Command words and TALK actions are matched ignoring ASCII case.
    pub fn parse(line: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_str(syntax::utf8(line)?)
    }

    /// Parses one line already known to be UTF-8, as [`parse`](Self::parse)
    /// does after checking that.
    pub fn parse_str(line: &'a str) -> Result<Self, ParseError> {
        use CommandWord as W;
        // A small dispatch, and the arguments of each kind of line parsed
        // in a function of its own: inlined into one, they made every line
        // pay to save and restore the registers the largest of them needs
        // (6 % of a parse).
        let (word, rest) = syntax::split_command(line)?;
        match word {
            W::Msg | W::PrivMsg => Self::message(word, rest),
            W::Ping | W::Pong => Self::ping_pong(word, rest),
            W::Join => Self::join(rest),
            W::Talk => Self::talk(rest),
            W::Connect => Self::connect(rest),
            W::Disconnect => syntax::run(word, rest, end).map(|()| Self::Disconnect),
            W::Accept
            | W::NotAccepted
            | W::NicknameInUse
            | W::Joined
            | W::UserList
            | W::UserJoin
            | W::UserLeave
            | W::Voice
            | W::Error => Err(ParseError::WrongDirection(word)),
        }
    }

    /// The arguments of `MSG` and `PRIVMSG`: ` target: text`.
    #[inline(never)]
    fn message(word: CommandWord, rest: &'a str) -> Result<Self, ParseError> {
        let (target, text) = syntax::run(word, rest, target_text)?;
        let text = syntax::text(word, text)?;
        Ok(if word == CommandWord::Msg && target.starts_with('#') {
            Self::RoomMessage { room: syntax::room(word, target)?, text }
        } else {
            Self::PrivateMessage { to: syntax::nick(word, target)?, text }
        })
    }

    /// The arguments of `PING` and `PONG`: `: n`.
    #[inline(never)]
    fn ping_pong(word: CommandWord, rest: &'a str) -> Result<Self, ParseError> {
        let token = syntax::ping_token(word, rest)?;
        Ok(if word == CommandWord::Ping { Self::Ping { token } } else { Self::Pong { token } })
    }

    /// The arguments of `JOIN`: `: #room`.
    #[inline(never)]
    fn join(rest: &'a str) -> Result<Self, ParseError> {
        Ok(Self::Join { room: syntax::room_argument(CommandWord::Join, rest)? })
    }

    /// The arguments of `TALK`: ` nick: action`.
    #[inline(never)]
    fn talk(rest: &'a str) -> Result<Self, ParseError> {
        let (peer, action) = syntax::talk_arguments(rest)?;
        Ok(Self::Talk { peer, action })
    }

    /// The arguments of `CONNECT`: `: "nick" "Real Name" version`.
    #[inline(never)]
    fn connect(rest: &'a str) -> Result<Self, ParseError> {
        let (nick, real_name, version) = syntax::connect_arguments(rest)?;
        Ok(Self::Connect { nick, real_name, version })
    }

    /// The command word of this line.
    pub fn word(&self) -> CommandWord {
        match self {
            Self::Connect { .. } => CommandWord::Connect,
            Self::Ping { .. } => CommandWord::Ping,
            Self::Pong { .. } => CommandWord::Pong,
            Self::Join { .. } => CommandWord::Join,
            Self::RoomMessage { .. } => CommandWord::Msg,
            Self::PrivateMessage { .. } => CommandWord::PrivMsg,
            Self::Talk { .. } => CommandWord::Talk,
            Self::Disconnect => CommandWord::Disconnect,
        }
    }

    /// Appends this line, ending in CRLF, to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let line = LineWriter::start(out, self.word());
        match self {
            Self::Connect { nick, real_name, version } => line
                .colon("\"")
                .raw(nick.as_str())
                .raw("\" \"")
                .raw(real_name.as_str())
                .raw("\" ")
                .raw(version.as_str()),
            Self::Ping { token } | Self::Pong { token } => line.colon("").number(*token),
            Self::Join { room } => line.colon(room.as_str()),
            Self::RoomMessage { room, text } => line.arg(room.as_str()).colon(text.as_str()),
            Self::PrivateMessage { to, text } => line.arg(to.as_str()).colon(text.as_str()),
            Self::Talk { peer, action } => line.arg(peer.as_str()).colon(action.as_str()),
            Self::Disconnect => line,
        }
        .finish();
    }
}

impl std::fmt::Display for ClientCommand<'_> {
    /// The line as sent, without its CRLF.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        f.write_str(super::without_crlf(&out))
    }
}
