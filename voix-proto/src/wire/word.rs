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
    #[inline]
    pub fn from_word(word: &str) -> Option<Self> {
        // The length picks the candidates; each is compared once, over a
        // length known at compile time, so the comparison is unrolled.
        let w = word.as_bytes();
        let is = |expected: Self| matches_ignoring_case(w, expected.as_str().as_bytes());
        match w.len() {
            3 => [Self::Msg].into_iter().find(|&c| is(c)),
            4 => [Self::Pong, Self::Join, Self::Ping, Self::Talk].into_iter().find(|&c| is(c)),
            5 => [Self::Error, Self::Voice].into_iter().find(|&c| is(c)),
            6 => [Self::Accept, Self::Joined].into_iter().find(|&c| is(c)),
            7 => [Self::PrivMsg, Self::Connect].into_iter().find(|&c| is(c)),
            8 => [Self::UserList, Self::UserJoin].into_iter().find(|&c| is(c)),
            9 => [Self::UserLeave].into_iter().find(|&c| is(c)),
            10 => [Self::Disconnect].into_iter().find(|&c| is(c)),
            11 => [Self::NotAccepted].into_iter().find(|&c| is(c)),
            13 => [Self::NicknameInUse].into_iter().find(|&c| is(c)),
            _ => None,
        }
    }
}

impl CommandWord {
    /// The words of at most seven letters, most frequent first, with their
    /// lower-case letters as a little-endian word: with the separator
    /// after them, they fit in a line's first eight bytes.
    const SHORT: [(Self, u64); 11] = [
        (Self::Msg, fold_key(b"MSG")),
        (Self::PrivMsg, fold_key(b"PRIVMSG")),
        (Self::Pong, fold_key(b"PONG")),
        (Self::Ping, fold_key(b"PING")),
        (Self::Join, fold_key(b"JOIN")),
        (Self::Talk, fold_key(b"TALK")),
        (Self::Connect, fold_key(b"CONNECT")),
        (Self::Joined, fold_key(b"JOINED")),
        (Self::Accept, fold_key(b"ACCEPT")),
        (Self::Error, fold_key(b"ERROR")),
        (Self::Voice, fold_key(b"VOICE")),
    ];

    /// The command word at the start of `line` and its length, when the
    /// line has eight bytes or more and starts with one of the words of
    /// at most seven letters followed by a space or colon: those words
    /// are compared with the line's first eight bytes at once, in any
    /// case. Anything else is left to [`CommandWord::from_word`].
    #[inline]
    pub(super) fn at_start(line: &[u8]) -> Option<(Self, usize)> {
        let first: [u8; 8] = *line.first_chunk()?;
        // Setting bit 5 lower-cases a letter and keeps every other byte a
        // non-letter, so the letters compare exactly; the separator is
        // checked on the byte itself.
        let folded = u64::from_le_bytes(first) | u64::from_le_bytes([0x20; 8]);
        Self::SHORT.into_iter().find_map(|(word, key)| {
            let len = word.as_str().len();
            let letters = folded & ((1 << (8 * len)) - 1);
            (letters == key && matches!(first[len], b' ' | b':')).then_some((word, len))
        })
    }
}

/// `word`'s letters in lower case, as a little-endian word.
const fn fold_key(word: &[u8]) -> u64 {
    let mut key = 0;
    let mut i = word.len();
    while i > 0 {
        i -= 1;
        key = (key << 8) | (word[i] | 0x20) as u64;
    }
    key
}

/// Whether `word` is `expected` (ASCII letters) in any case.
///
/// For a letter L the only bytes b with `b | 0x20 == L | 0x20` are L and
/// its lower case, so one OR per byte compares without case and without
/// branches.
pub(super) fn matches_ignoring_case(word: &[u8], expected: &[u8]) -> bool {
    word.len() == expected.len()
        && word.iter().zip(expected).fold(0, |diff, (a, b)| diff | ((a | 0x20) ^ (b | 0x20))) == 0
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
    fn short_words_are_found_at_the_start_of_a_line() {
        for (word, _) in CommandWord::SHORT {
            for spelled in [word.as_str().to_owned(), word.as_str().to_lowercase()] {
                for sep in [" ", ":"] {
                    let line = format!("{spelled}{sep}abcdefgh");
                    let found = CommandWord::at_start(line.as_bytes());
                    assert_eq!(found, Some((word, spelled.len())), "{line}");
                }
            }
        }
        // Longer words, look-alikes and short lines are left to the
        // general path; so is a NUL or SUB where the separator should be,
        // which setting bit 5 would turn into a space or colon.
        for line in [
            "USERLIST #a: b",
            "MSGX #a: hello",
            "JOIN\0#Lobby: x",
            "JOIN\x1a#Lobby: x",
            "PONG: 1",
            "M\x13G #a: hello",
            "M\x0dG #a: hello",
        ] {
            assert_eq!(CommandWord::at_start(line.as_bytes()), None, "{line:?}");
        }
        // JOIN is a prefix of JOINED: the separator tells them apart.
        assert_eq!(CommandWord::at_start(b"JOINED: #Lobby"), Some((CommandWord::Joined, 6)));
        assert_eq!(CommandWord::at_start(b"join: #Lobby"), Some((CommandWord::Join, 4)));
    }

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
