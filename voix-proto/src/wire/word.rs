//! The command words of the line protocol.

/// Every command word of the line protocol, in both directions.
///
/// Words are matched case-insensitively on input (the seed writes both
/// `TALK` and `Talk`) and written in upper case on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandWord {
    /// `CONNECT: "nick" "Real Name" version` (client).
    Connect,
    /// `ACCEPT: host` (server).
    Accept,
    /// `NOTACCEPTED: reason` (server).
    NotAccepted,
    /// `NICKNAMEINUSE: reason` (server).
    NicknameInUse,
    /// `PING: n` (both).
    Ping,
    /// `PONG: n` (both).
    Pong,
    /// `JOIN: #room` (client).
    Join,
    /// `JOINED: #room` (server).
    Joined,
    /// `USERLIST #room: a, b` (server).
    UserList,
    /// `USERJOIN #room: nick` (server).
    UserJoin,
    /// `USERLEAVE #room: nick` (server).
    UserLeave,
    /// `MSG #room: text` (client) or `MSG sender #room: text` (server).
    Msg,
    /// `PRIVMSG nick: text` (both).
    PrivMsg,
    /// `TALK nick: Request|Accept|Deny|End` (both).
    Talk,
    /// `VOICE #room|nick: session key` (server).
    Voice,
    /// `ERROR CODE: reason` (server).
    Error,
    /// `DISCONNECT` (client).
    Disconnect,
}

impl CommandWord {
    #[cfg(test)]
    const ALL: [CommandWord; 17] = [
        Self::Connect,
        Self::Accept,
        Self::NotAccepted,
        Self::NicknameInUse,
        Self::Ping,
        Self::Pong,
        Self::Join,
        Self::Joined,
        Self::UserList,
        Self::UserJoin,
        Self::UserLeave,
        Self::Msg,
        Self::PrivMsg,
        Self::Talk,
        Self::Voice,
        Self::Error,
        Self::Disconnect,
    ];

    /// The word as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Accept => "ACCEPT",
            Self::NotAccepted => "NOTACCEPTED",
            Self::NicknameInUse => "NICKNAMEINUSE",
            Self::Ping => "PING",
            Self::Pong => "PONG",
            Self::Join => "JOIN",
            Self::Joined => "JOINED",
            Self::UserList => "USERLIST",
            Self::UserJoin => "USERJOIN",
            Self::UserLeave => "USERLEAVE",
            Self::Msg => "MSG",
            Self::PrivMsg => "PRIVMSG",
            Self::Talk => "TALK",
            Self::Voice => "VOICE",
            Self::Error => "ERROR",
            Self::Disconnect => "DISCONNECT",
        }
    }

    /// The word's form as a client sends it, for error replies.
    pub const fn client_usage(self) -> Option<&'static str> {
        Some(match self {
            Self::Connect => "CONNECT: \"nick\" \"Real Name\" 1.0.0",
            Self::Ping => "PING: <number>",
            Self::Pong => "PONG: <number>",
            Self::Join => "JOIN: #room",
            Self::Msg => "MSG #room: text",
            Self::PrivMsg => "PRIVMSG nick: text",
            Self::Talk => "TALK nick: Request|Accept|Deny|End",
            Self::Disconnect => "DISCONNECT",
            _ => return None,
        })
    }

    /// Recognises a command word, ignoring ASCII case.
    pub fn from_word(word: &str) -> Option<Self> {
        // Dispatch on the length and first letter, then compare once: a
        // typical line costs one comparison.
        let w = word.as_bytes();
        let candidate = match (w.len(), w.first()?.to_ascii_uppercase()) {
            (3, b'M') => Self::Msg,
            (4, b'J') => Self::Join,
            (4, b'P') => match w[1].to_ascii_uppercase() {
                b'I' => Self::Ping,
                _ => Self::Pong,
            },
            (4, b'T') => Self::Talk,
            (5, b'E') => Self::Error,
            (5, b'V') => Self::Voice,
            (6, b'A') => Self::Accept,
            (6, b'J') => Self::Joined,
            (7, b'C') => Self::Connect,
            (7, b'P') => Self::PrivMsg,
            (8, b'U') => match w[4].to_ascii_uppercase() {
                b'L' => Self::UserList,
                _ => Self::UserJoin,
            },
            (9, b'U') => Self::UserLeave,
            (10, b'D') => Self::Disconnect,
            (11, b'N') => Self::NotAccepted,
            (13, b'N') => Self::NicknameInUse,
            _ => return None,
        };
        // Every command word is upper-case letters, and for a letter L the
        // only bytes b with `b | 0x20 == L | 0x20` are L and its lower case:
        // so this compares ignoring case, without branches.
        let expected = candidate.as_str().as_bytes();
        if expected.len() != w.len() {
            return None;
        }
        let mut diff = 0;
        for (a, b) in w.iter().zip(expected) {
            diff |= (a | 0x20) ^ (b | 0x20);
        }
        (diff == 0).then_some(candidate)
    }
}

impl std::fmt::Display for CommandWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_in_any_case() {
        for w in CommandWord::ALL {
            assert_eq!(CommandWord::from_word(w.as_str()), Some(w));
            assert_eq!(CommandWord::from_word(&w.as_str().to_lowercase()), Some(w));
        }
        assert_eq!(CommandWord::from_word("Talk"), Some(CommandWord::Talk));
        assert_eq!(CommandWord::from_word("TALKS"), None);
        assert_eq!(CommandWord::from_word(""), None);
        for near_miss in ["MSH", "PANG", "USERJOIX", "USERLEAVX", "DISCONNECX", "NOTACCEPTEX"] {
            assert_eq!(CommandWord::from_word(near_miss), None, "{near_miss}");
        }
    }
}
