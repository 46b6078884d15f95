//! The two line protocols the chat scenarios speak: Voix's (encoded with
//! `voix_proto::wire`) and IRC's (RFC 2812, as ngircd speaks it), reduced
//! to what a load client needs: register and join one room, say something
//! there, answer keepalives, and find room messages among the lines it
//! receives.
//!
//! The receive side is the tool's hot path (millions of lines a second),
//! so it classifies lines by their first bytes and borrows, allocating
//! nothing.

use bytes::BytesMut;
use voix_proto::wire::ClientCommand;
use voix_proto::{Nick, RealName, Room, Text, Version};

use super::LoadError;

/// The version a Voix load client registers with.
const VOIX_VERSION: &str = "1.0.0";

/// Which protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// `voix-server`: Voix lines (PROTOCOL.md).
    Voix,
    /// An IRC server such as ngircd.
    Irc,
}

/// What a received line means to a load client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// The client is registered and in the room, with the whole member
    /// list: Voix's room `VOICE` credential (the line after `JOINED` and
    /// the `USERLIST` lines), IRC's end of `NAMES` (366).
    Joined,
    /// A keepalive to answer; the argument as received.
    Ping(&'a [u8]),
    /// A message in the room; its text.
    Chat(&'a [u8]),
    /// A refusal or a closing notice; the whole line.
    Refused(&'a [u8]),
    /// Anything else (user lists, joins and leaves, greetings).
    Other,
}

impl Dialect {
    /// The protocol's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Voix => "voix",
            Self::Irc => "irc",
        }
    }

    /// The one room every client of a scenario joins. Voix puts every
    /// client in `#Lobby` when it registers; IRC clients join `#lobby`.
    pub fn room(self) -> &'static str {
        match self {
            Self::Voix => "#Lobby",
            Self::Irc => "#lobby",
        }
    }

    /// Appends the lines that register `nick` and put it in
    /// [`Dialect::room`], all at once (one round trip in both protocols).
    pub fn register(self, nick: &str, out: &mut BytesMut) -> Result<(), LoadError> {
        match self {
            Self::Voix => {
                let invalid = |e: voix_proto::NameError| LoadError::Client {
                    nick: nick.to_owned(),
                    reason: e.to_string(),
                };
                ClientCommand::Connect {
                    nick: Nick::new(nick).map_err(invalid)?,
                    real_name: RealName::new(nick).map_err(invalid)?,
                    version: Version::new(VOIX_VERSION).map_err(invalid)?,
                }
                .encode(out);
            }
            Self::Irc => {
                let room = self.room();
                out.extend_from_slice(
                    format!("NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nJOIN {room}\r\n").as_bytes(),
                );
            }
        }
        Ok(())
    }

    /// Appends a message saying `text` in [`Dialect::room`]. `text` must be
    /// non-empty printable ASCII.
    pub fn say(self, text: &str, out: &mut BytesMut) -> Result<(), LoadError> {
        match self {
            Self::Voix => {
                let invalid = |e: voix_proto::NameError| LoadError::Usage(e.to_string());
                ClientCommand::RoomMessage {
                    room: Room::new(self.room()).map_err(invalid)?,
                    text: Text::new(text).map_err(invalid)?,
                }
                .encode(out);
            }
            Self::Irc => {
                out.extend_from_slice(b"PRIVMSG ");
                out.extend_from_slice(self.room().as_bytes());
                out.extend_from_slice(b" :");
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        Ok(())
    }

    /// Appends the answer to a keepalive whose argument was `token`.
    /// A Voix token that is not a number is left unanswered (the server
    /// never sends one).
    pub fn pong(self, token: &[u8], out: &mut BytesMut) {
        match self {
            Self::Voix => {
                let token = std::str::from_utf8(token).ok().and_then(|t| t.parse::<u64>().ok());
                if let Some(token) = token {
                    ClientCommand::Pong { token }.encode(out);
                }
            }
            Self::Irc => {
                out.extend_from_slice(b"PONG ");
                out.extend_from_slice(token);
                out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// What `line` (without its line ending) means.
    pub fn classify(self, line: &[u8]) -> Incoming<'_> {
        match self {
            Self::Voix => classify_voix(line),
            Self::Irc => classify_irc(line),
        }
    }
}

fn classify_voix(line: &[u8]) -> Incoming<'_> {
    if line.starts_with(b"MSG ") {
        // "MSG <sender> #<room>: <text>": the text follows the first ": ".
        return match memchr::memmem::find(line, b": ") {
            Some(at) => Incoming::Chat(&line[at + 2..]),
            None => Incoming::Other,
        };
    }
    if let Some(token) = line.strip_prefix(b"PING: ") {
        return Incoming::Ping(token);
    }
    if line.starts_with(b"VOICE #") {
        return Incoming::Joined;
    }
    if line.starts_with(b"ERROR ")
        || line.starts_with(b"NOTACCEPTED")
        || line.starts_with(b"NICKNAMEINUSE")
    {
        return Incoming::Refused(line);
    }
    Incoming::Other
}

fn classify_irc(line: &[u8]) -> Incoming<'_> {
    if let Some(token) = line.strip_prefix(b"PING ") {
        return Incoming::Ping(token);
    }
    if line.starts_with(b"ERROR ") {
        return Incoming::Refused(line);
    }
    // ":<prefix> <command> <params>"
    let Some(rest) = line.strip_prefix(b":") else {
        return Incoming::Other;
    };
    let mut words = rest.splitn(3, |&b| b == b' ');
    let (_prefix, command, params) = (words.next(), words.next(), words.next());
    match command {
        Some(b"PRIVMSG") => {
            match params.and_then(|p| memchr::memmem::find(p, b" :").map(|at| &p[at + 2..])) {
                Some(text) => Incoming::Chat(text),
                None => Incoming::Other,
            }
        }
        Some(b"366") => Incoming::Joined,
        // Error numerics are 400 to 599.
        Some([b'4' | b'5', b'0'..=b'9', b'0'..=b'9']) => Incoming::Refused(line),
        _ => Incoming::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_voix_lines() {
        let d = Dialect::Voix;
        assert_eq!(d.classify(b"MSG u1 #Lobby: 3 123 x"), Incoming::Chat(b"3 123 x"));
        assert_eq!(d.classify(b"PING: 42"), Incoming::Ping(b"42"));
        assert_eq!(d.classify(b"USERLIST #Lobby: a, b"), Incoming::Other);
        assert_eq!(d.classify(b"VOICE #Lobby: 4 00ff"), Incoming::Joined);
        assert_eq!(d.classify(b"ERROR FLOOD: slow"), Incoming::Refused(b"ERROR FLOOD: slow"));
        assert_eq!(d.classify(b"USERJOIN #Lobby: c"), Incoming::Other);
    }

    #[test]
    fn classifies_irc_lines() {
        let d = Dialect::Irc;
        assert_eq!(
            d.classify(b":u1!~u1@localhost PRIVMSG #lobby :3 123 x"),
            Incoming::Chat(b"3 123 x")
        );
        assert_eq!(d.classify(b"PING :irc.local"), Incoming::Ping(b":irc.local"));
        assert_eq!(d.classify(b":irc.local 366 u1 #lobby :End of NAMES list"), Incoming::Joined);
        assert!(matches!(d.classify(b":irc.local 433 * u1 :in use"), Incoming::Refused(_)));
        assert_eq!(d.classify(b":irc.local 001 u1 :Welcome"), Incoming::Other);
    }

    #[test]
    fn encodes_both_dialects() {
        let mut out = BytesMut::new();
        Dialect::Voix.register("u1", &mut out).expect("valid nick");
        Dialect::Voix.say("1 2 x", &mut out).expect("valid text");
        Dialect::Voix.pong(b"7", &mut out);
        assert_eq!(&out[..], b"CONNECT: \"u1\" \"u1\" 1.0.0\r\nMSG #Lobby: 1 2 x\r\nPONG: 7\r\n");
        out.clear();
        Dialect::Irc.register("u1", &mut out).expect("valid nick");
        Dialect::Irc.say("1 2 x", &mut out).expect("valid text");
        Dialect::Irc.pong(b":s", &mut out);
        assert_eq!(
            &out[..],
            b"NICK u1\r\nUSER u1 0 * :u1\r\nJOIN #lobby\r\nPRIVMSG #lobby :1 2 x\r\nPONG :s\r\n"
        );
    }
}
