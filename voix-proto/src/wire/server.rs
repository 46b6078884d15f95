//! Lines the server sends to a client.

use bytes::BytesMut;
use nom::sequence::{delimited, terminated};

use super::syntax::{self, LineWriter, colon, colon_text, end, spaces, target_text, token};
use super::{CommandWord, ErrorCode, NickList, ParseError, TalkAction};
use crate::voice::{SessionId, VoiceKey};
use crate::{Nick, NickBuf, Room, RoomBuf, Text};

/// What a `VOICE` credential is for: the client's room, or a call.
///
/// Borrowed from the line, as the names in it are; [`VoiceScopeBuf`] owns
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceScope<'a> {
    /// Voice with every other member of this room.
    Room(Room<'a>),
    /// Voice with this call partner only.
    Call(Nick<'a>),
}

impl<'a> VoiceScope<'a> {
    /// The scope as written on the wire: the room or the nickname.
    pub fn as_str(&self) -> &'a str {
        match self {
            Self::Room(room) => room.as_str(),
            Self::Call(nick) => nick.as_str(),
        }
    }

    /// An owned copy, which outlives the input.
    pub fn into_owned(self) -> VoiceScopeBuf {
        match self {
            Self::Room(room) => VoiceScopeBuf::Room(room.into_owned()),
            Self::Call(nick) => VoiceScopeBuf::Call(nick.into_owned()),
        }
    }
}

/// An owned [`VoiceScope`], as a client keeps it with its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceScopeBuf {
    /// Voice with every other member of this room.
    Room(RoomBuf),
    /// Voice with this call partner only.
    Call(NickBuf),
}

impl VoiceScopeBuf {
    /// A borrowed view of this scope.
    pub fn borrowed(&self) -> VoiceScope<'_> {
        match self {
            Self::Room(room) => VoiceScope::Room(room.borrowed()),
            Self::Call(nick) => VoiceScope::Call(nick.borrowed()),
        }
    }

    /// The scope as written on the wire: the room or the nickname.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Room(room) => room.as_str(),
            Self::Call(nick) => nick.as_str(),
        }
    }
}

impl From<VoiceScope<'_>> for VoiceScopeBuf {
    fn from(scope: VoiceScope<'_>) -> Self {
        scope.into_owned()
    }
}

impl PartialEq<VoiceScopeBuf> for VoiceScope<'_> {
    fn eq(&self, other: &VoiceScopeBuf) -> bool {
        *self == other.borrowed()
    }
}

impl PartialEq<VoiceScope<'_>> for VoiceScopeBuf {
    fn eq(&self, other: &VoiceScope<'_>) -> bool {
        self.borrowed() == *other
    }
}

/// A line from the server to a client, borrowing from the input line.
///
/// It holds only views of the line, and nothing to drop (see
/// [`ClientCommand`](super::ClientCommand)). It is not `Copy` only because
/// a [`VoiceKey`] is not: a key is copied when asked to, never implicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// `ACCEPT: host`: registration succeeded.
    Accept {
        /// The server's name for itself.
        host: Text<'a>,
    },
    /// `NOTACCEPTED: reason`: `CONNECT` was malformed or had an invalid
    /// nickname, or a command came before `CONNECT`.
    NotAccepted {
        /// Why, for people.
        reason: Text<'a>,
    },
    /// `NICKNAMEINUSE: reason`: another user has this nickname.
    NicknameInUse {
        /// Why, for people.
        reason: Text<'a>,
    },
    /// `PING: n`: the server checks the connection; answer `PONG: n`.
    Ping {
        /// The number to echo.
        token: u64,
    },
    /// `PONG: n`: the answer to a client's `PING: n`.
    Pong {
        /// The number from the `PING`.
        token: u64,
    },
    /// `JOINED: #room`: you are now in this room.
    Joined {
        /// Your room.
        room: Room<'a>,
    },
    /// `USERLIST #room: a, b, c`: everyone in the room, you included.
    UserList {
        /// The room.
        room: Room<'a>,
        /// Its users.
        users: NickList<'a>,
    },
    /// `USERJOIN #room: nick`: someone joined your room.
    UserJoin {
        /// Your room.
        room: Room<'a>,
        /// Who joined.
        nick: Nick<'a>,
    },
    /// `USERLEAVE #room: nick`: someone left your room.
    UserLeave {
        /// Your room.
        room: Room<'a>,
        /// Who left.
        nick: Nick<'a>,
    },
    /// `MSG sender #room: text`: a message in your room.
    RoomMessage {
        /// Who said it.
        from: Nick<'a>,
        /// The room.
        room: Room<'a>,
        /// What they said.
        text: Text<'a>,
    },
    /// `PRIVMSG sender: text`: a private message to you.
    PrivateMessage {
        /// Who sent it.
        from: Nick<'a>,
        /// What they said.
        text: Text<'a>,
    },
    /// `TALK nick: action`: what the other party did to a call with you.
    Talk {
        /// The other party.
        peer: Nick<'a>,
        /// What they did (or, for End, what the server did on their behalf).
        action: TalkAction,
    },
    /// `VOICE <#room|nick>: <session> <key>`: the credential for sending
    /// and receiving voice over UDP in a room or a call (PROTOCOL.md,
    /// "Voice").
    Voice {
        /// What the session is for.
        scope: VoiceScope<'a>,
        /// The session id that goes in every voice packet.
        session: SessionId,
        /// The session's key.
        key: VoiceKey,
    },
    /// `ERROR CODE: reason`: a command was refused, or the server is about
    /// to close the connection.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        reason: Text<'a>,
    },
}

impl<'a> ServerMessage<'a> {
    /// Parses one line (without its line ending), borrowing from it.
    pub fn parse(line: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_str(syntax::utf8(line)?)
    }

    /// Parses one line already known to be UTF-8, as [`parse`](Self::parse)
    /// does after checking that.
    pub fn parse_str(line: &'a str) -> Result<Self, ParseError> {
        use CommandWord as W;
        // A small dispatch, and each kind of line in a function of its
        // own, as `ClientCommand::parse_str` does and for the same reason.
        let (word, rest) = syntax::split_command(line)?;
        match word {
            W::Msg => Self::room_message(rest),
            W::PrivMsg => Self::private_message(rest),
            W::Ping | W::Pong => Self::ping_pong(word, rest),
            W::Joined => Self::joined(rest),
            W::UserJoin | W::UserLeave => Self::user_join_leave(word, rest),
            W::Talk => Self::talk(rest),
            W::UserList => Self::user_list(rest),
            W::Voice => Self::voice(rest),
            W::Accept | W::NotAccepted | W::NicknameInUse => Self::with_reason(word, rest),
            W::Error => Self::error(rest),
            W::Connect | W::Join | W::Disconnect => Err(ParseError::WrongDirection(word)),
        }
    }

    /// The arguments of `MSG`: ` sender #room: text`.
    #[inline(never)]
    fn room_message(rest: &'a str) -> Result<Self, ParseError> {
        let word = CommandWord::Msg;
        // The sender by hand, the rest as every `target: text` line: a
        // combined parser for the three cost 7 % more.
        let (from, rest) = syntax::spaced_token(rest).ok_or(ParseError::Syntax(word))?;
        let (room, text) = syntax::run(word, rest, target_text)?;
        Ok(Self::RoomMessage {
            from: syntax::nick(word, from)?,
            room: syntax::room(word, room)?,
            text: syntax::text(word, text)?,
        })
    }

    /// The arguments of `PRIVMSG`: ` sender: text`.
    #[inline(never)]
    fn private_message(rest: &'a str) -> Result<Self, ParseError> {
        let word = CommandWord::PrivMsg;
        let (from, text) = syntax::run(word, rest, target_text)?;
        Ok(Self::PrivateMessage {
            from: syntax::nick(word, from)?,
            text: syntax::text(word, text)?,
        })
    }

    /// The arguments of `PING` and `PONG`: `: n`.
    #[inline(never)]
    fn ping_pong(word: CommandWord, rest: &'a str) -> Result<Self, ParseError> {
        let token = syntax::ping_token(word, rest)?;
        Ok(if word == CommandWord::Ping { Self::Ping { token } } else { Self::Pong { token } })
    }

    /// The arguments of `JOINED`: `: #room`.
    #[inline(never)]
    fn joined(rest: &'a str) -> Result<Self, ParseError> {
        Ok(Self::Joined { room: syntax::room_argument(CommandWord::Joined, rest)? })
    }

    /// The arguments of `USERJOIN` and `USERLEAVE`: ` #room: nick`.
    #[inline(never)]
    fn user_join_leave(word: CommandWord, rest: &'a str) -> Result<Self, ParseError> {
        let (room, nick) =
            syntax::run(word, rest, (delimited(spaces, token, colon), terminated(token, end)))?;
        let (room, nick) = (syntax::room(word, room)?, syntax::nick(word, nick)?);
        Ok(if word == CommandWord::UserJoin {
            Self::UserJoin { room, nick }
        } else {
            Self::UserLeave { room, nick }
        })
    }

    /// The arguments of `TALK`: ` nick: action`.
    #[inline(never)]
    fn talk(rest: &'a str) -> Result<Self, ParseError> {
        let (peer, action) = syntax::talk_arguments(rest)?;
        Ok(Self::Talk { peer, action })
    }

    /// The arguments of `USERLIST`: ` #room: nick, nick`.
    #[inline(never)]
    fn user_list(rest: &'a str) -> Result<Self, ParseError> {
        let word = CommandWord::UserList;
        let (room, users) = syntax::run(word, rest, target_text)?;
        Ok(Self::UserList {
            room: syntax::room(word, room)?,
            users: syntax::name(word, users, NickList::parse)?,
        })
    }

    /// The arguments of `VOICE`: ` scope: session key`.
    #[inline(never)]
    fn voice(rest: &'a str) -> Result<Self, ParseError> {
        let word = CommandWord::Voice;
        let (scope, (session, key)) = syntax::run(
            word,
            rest,
            (delimited(spaces, token, colon), (terminated(token, spaces), terminated(token, end))),
        )?;
        let scope = if scope.starts_with('#') {
            VoiceScope::Room(syntax::room(word, scope)?)
        } else {
            VoiceScope::Call(syntax::nick(word, scope)?)
        };
        Ok(Self::Voice {
            scope,
            session: session.parse().map_err(|_| ParseError::BadNumber(word))?,
            key: key.parse().map_err(|_| ParseError::BadKey(word))?,
        })
    }

    /// The arguments of `ACCEPT`, `NOTACCEPTED` and `NICKNAMEINUSE`:
    /// `: text`.
    #[inline(never)]
    fn with_reason(word: CommandWord, rest: &'a str) -> Result<Self, ParseError> {
        let text = syntax::text(word, syntax::run(word, rest, colon_text)?)?;
        Ok(match word {
            CommandWord::Accept => Self::Accept { host: text },
            CommandWord::NotAccepted => Self::NotAccepted { reason: text },
            _ => Self::NicknameInUse { reason: text },
        })
    }

    /// The arguments of `ERROR`: ` CODE: reason`.
    #[inline(never)]
    fn error(rest: &'a str) -> Result<Self, ParseError> {
        let (code, reason) = Self::error_arguments(rest)?;
        let code = ErrorCode::from_word(code).ok_or(ParseError::UnknownErrorCode)?;
        Ok(Self::Error { code, reason })
    }

    /// ` CODE: reason`, the code as a word whether it is known or not.
    fn error_arguments(rest: &'a str) -> Result<(&'a str, Text<'a>), ParseError> {
        let word = CommandWord::Error;
        let (code, reason) = syntax::run(word, rest, target_text)?;
        Ok((code, syntax::text(word, reason)?))
    }

    /// The code word and reason of an `ERROR` line whatever its code, for
    /// a line that [`parse_str`](Self::parse_str) refused with
    /// [`ParseError::UnknownErrorCode`]: a client treats a code it does
    /// not know like any other error (PROTOCOL.md, "Errors"). `None`
    /// unless the line is an `ERROR` line with a well-formed code (ASCII
    /// letters and digits) and reason.
    pub(crate) fn error_parts(line: &'a str) -> Option<(&'a str, Text<'a>)> {
        let (CommandWord::Error, rest) = syntax::split_command(line).ok()? else { return None };
        let (code, reason) = Self::error_arguments(rest).ok()?;
        let well_formed = !code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric());
        well_formed.then_some((code, reason))
    }

    /// The command word of this line.
    pub fn word(&self) -> CommandWord {
        match self {
            Self::Accept { .. } => CommandWord::Accept,
            Self::NotAccepted { .. } => CommandWord::NotAccepted,
            Self::NicknameInUse { .. } => CommandWord::NicknameInUse,
            Self::Ping { .. } => CommandWord::Ping,
            Self::Pong { .. } => CommandWord::Pong,
            Self::Joined { .. } => CommandWord::Joined,
            Self::UserList { .. } => CommandWord::UserList,
            Self::UserJoin { .. } => CommandWord::UserJoin,
            Self::UserLeave { .. } => CommandWord::UserLeave,
            Self::RoomMessage { .. } => CommandWord::Msg,
            Self::PrivateMessage { .. } => CommandWord::PrivMsg,
            Self::Talk { .. } => CommandWord::Talk,
            Self::Voice { .. } => CommandWord::Voice,
            Self::Error { .. } => CommandWord::Error,
        }
    }

    /// Appends this line, ending in CRLF, to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let line = LineWriter::start(out, self.word());
        match self {
            Self::Accept { host: text }
            | Self::NotAccepted { reason: text }
            | Self::NicknameInUse { reason: text } => line.colon(text.as_str()),
            Self::Ping { token } | Self::Pong { token } => line.colon("").number(*token),
            Self::Joined { room } => line.colon(room.as_str()),
            Self::UserList { room, users } => line.arg(room.as_str()).colon(users.as_str()),
            Self::UserJoin { room, nick } | Self::UserLeave { room, nick } => {
                line.arg(room.as_str()).colon(nick.as_str())
            }
            Self::RoomMessage { from, room, text } => {
                line.arg(from.as_str()).arg(room.as_str()).colon(text.as_str())
            }
            Self::PrivateMessage { from, text } => line.arg(from.as_str()).colon(text.as_str()),
            Self::Talk { peer, action } => line.arg(peer.as_str()).colon(action.as_str()),
            Self::Voice { scope, session, key } => line
                .arg(scope.as_str())
                .colon("")
                .number(u64::from(session.get()))
                .raw(" ")
                .hex(key),
            Self::Error { code, reason } => line.arg(code.as_str()).colon(reason.as_str()),
        }
        .finish();
    }
}

impl std::fmt::Display for ServerMessage<'_> {
    /// The line as sent, without its CRLF.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        f.write_str(super::without_crlf(&out))
    }
}
