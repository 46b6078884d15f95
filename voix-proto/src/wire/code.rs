//! The codes of `ERROR` lines.

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $word:literal,)*) => {
        /// The machine-readable part of an `ERROR <CODE>: <reason>` line.
        ///
        /// The reason after the colon is for people; programs match on the
        /// code. PROTOCOL.md lists when each is sent.
        ///
        /// Servers may grow new codes, so this is `non_exhaustive`: a code
        /// can be added without breaking a match on it. A client treats a
        /// code it does not know like any other error.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order PROTOCOL.md lists them.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The code as written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }

            /// Recognises a code, ignoring ASCII case.
            pub fn from_word(word: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(word))
            }
        }
    };
}

error_codes! {
    /// The command word is not part of the protocol.
    UnknownCommand => "UNKNOWNCOMMAND",
    /// The command's arguments are malformed.
    Syntax => "SYNTAX",
    /// The line is longer than the connection's line length limit.
    LineTooLong => "LINETOOLONG",
    /// The line is not valid UTF-8.
    InvalidUtf8 => "INVALIDUTF8",
    /// `CONNECT` was sent on a connection that is already registered.
    AlreadyRegistered => "ALREADYREGISTERED",
    /// The named user is not connected.
    NoSuchNick => "NOSUCHNICK",
    /// The command names a room the user is not in.
    NotInRoom => "NOTINROOM",
    /// `JOIN` names the room the user is already in.
    AlreadyInRoom => "ALREADYINROOM",
    /// The server has as many rooms as it allows.
    TooManyRooms => "TOOMANYROOMS",
    /// The user names themself where another user is needed.
    SelfTarget => "SELFTARGET",
    /// A call cannot start: one side is already in a call or ringing.
    Busy => "BUSY",
    /// A `TALK` Accept, Deny or End that matches no call.
    NoCall => "NOCALL",
    /// Commands arrive faster than the rate limit allows; this one was
    /// dropped.
    Flood => "FLOOD",
    /// The server has as many clients as it allows.
    ServerFull => "SERVERFULL",
    /// The server has as many voice sessions as it allows; this room or
    /// call has chat but no voice for the user.
    NoVoice => "NOVOICE",
    /// The client did not send `CONNECT` in time.
    RegistrationTimeout => "REGISTRATIONTIMEOUT",
    /// The client did not answer `PING` in time.
    PingTimeout => "PINGTIMEOUT",
    /// The client did not read its output fast enough.
    SendQueueFull => "SENDQUEUEFULL",
    /// The server is shutting down.
    Shutdown => "SHUTDOWN",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(ErrorCode::from_word(c.as_str()), Some(*c));
            assert!(c.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            assert!(ErrorCode::ALL[..i].iter().all(|o| o.as_str() != c.as_str()));
        }
        assert_eq!(ErrorCode::from_word("busy"), Some(ErrorCode::Busy));
        assert_eq!(ErrorCode::from_word("NOPE"), None);
    }
}
