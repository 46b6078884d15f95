//! What the user types: `/` commands and plain text, parsed once into a
//! [`Command`] whose names are already valid on the wire.

use voix_proto::{NameError, Nick, NickBuf, Room, RoomBuf, Text, TextBuf};

/// Something the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Plain text: say it in the conversation on screen (the room in
    /// headless mode).
    Say(TextBuf),
    /// `/join #room`: move to a room (created if needed).
    Join(RoomBuf),
    /// `/msg nick text`: a private message.
    Msg {
        /// The recipient.
        to: NickBuf,
        /// The message.
        text: TextBuf,
    },
    /// `/call nick`: ask for a one-to-one voice call.
    Call(NickBuf),
    /// `/accept`: take the incoming call.
    Accept,
    /// `/deny`: refuse the incoming call.
    Deny,
    /// `/hangup`: end the call, or withdraw the request.
    HangUp,
    /// `/mute [on|off]`: stop (or resume) sending the microphone.
    Mute(Switch),
    /// `/deafen [on|off]`: stop (or resume) playing what others say; also
    /// mutes, as people expect.
    Deafen(Switch),
    /// `/ptt [on|off]`: push-to-talk mode instead of voice activity.
    PushToTalk(Switch),
    /// `/talk [on|off]`: in push-to-talk mode, press (or release) the talk
    /// key.
    Talk(Switch),
    /// `/stats`: report voice quality and round trip now.
    Stats,
    /// `/help`: list the commands.
    Help,
    /// `/quit`: leave.
    Quit,
}

/// A setting to turn on, off, or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Turn it on.
    On,
    /// Turn it off.
    Off,
    /// Turn it over.
    Toggle,
}

impl Switch {
    /// The new value of a setting that is now `current`.
    pub fn apply(self, current: bool) -> bool {
        match self {
            Self::On => true,
            Self::Off => false,
            Self::Toggle => !current,
        }
    }
}

/// Why a typed line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// `/something` that is not a command.
    #[error("unknown command /{0}; /help lists them")]
    Unknown(String),
    /// A command without its arguments, or with extra ones.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// A name or text that is not valid on the wire.
    #[error("{0}")]
    Invalid(#[from] NameError),
}

/// One entry of the help: the usage and what it does.
#[derive(Debug, Clone, Copy)]
pub struct HelpEntry {
    /// How to type it.
    pub usage: &'static str,
    /// What it does.
    pub summary: &'static str,
}

/// Every command, in the order `/help` lists them.
pub const HELP: &[HelpEntry] = &[
    HelpEntry { usage: "text", summary: "say text in the room (or to the person on screen)" },
    HelpEntry { usage: "/join #room", summary: "move to a room; it is created if needed" },
    HelpEntry { usage: "/msg nick text", summary: "send nick a private message" },
    HelpEntry { usage: "/call nick", summary: "call nick (voice, one to one)" },
    HelpEntry { usage: "/accept", summary: "accept the incoming call" },
    HelpEntry { usage: "/deny", summary: "refuse the incoming call" },
    HelpEntry { usage: "/hangup", summary: "end the call, or stop ringing" },
    HelpEntry { usage: "/mute [on|off]", summary: "stop sending your microphone" },
    HelpEntry { usage: "/deafen [on|off]", summary: "stop hearing others (and mute)" },
    HelpEntry { usage: "/ptt [on|off]", summary: "push-to-talk instead of voice detection" },
    HelpEntry { usage: "/talk [on|off]", summary: "push-to-talk key: press or release" },
    HelpEntry { usage: "/stats", summary: "voice delay, loss and round trip now" },
    HelpEntry { usage: "/help", summary: "this list" },
    HelpEntry { usage: "/quit", summary: "leave" },
    HelpEntry { usage: "//text", summary: "say text that starts with /" },
];

impl Command {
    /// Parses one typed line. `Ok(None)` for a blank line.
    pub fn parse(line: &str) -> Result<Option<Self>, CommandError> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix('/') else {
            return Ok(Some(Self::Say(text(line)?)));
        };
        if rest.starts_with('/') {
            return Ok(Some(Self::Say(text(rest)?)));
        }
        let (word, args) = match rest.split_once(char::is_whitespace) {
            Some((word, args)) => (word, args.trim()),
            None => (rest, ""),
        };
        let command = match word.to_ascii_lowercase().as_str() {
            "join" | "j" => Self::Join(room(one_arg(args, "/join #room")?)?),
            "msg" | "m" | "query" => {
                let (to, message) = args
                    .split_once(char::is_whitespace)
                    .ok_or(CommandError::Usage("/msg nick text"))?;
                Self::Msg { to: nick(to)?, text: text(message.trim_start())? }
            }
            "call" => Self::Call(nick(one_arg(args, "/call nick")?)?),
            "accept" | "answer" => no_args(args, "/accept", Self::Accept)?,
            "deny" | "reject" | "decline" => no_args(args, "/deny", Self::Deny)?,
            "hangup" | "hang" | "end" => no_args(args, "/hangup", Self::HangUp)?,
            "mute" => Self::Mute(switch(args, "/mute [on|off]")?),
            "deafen" | "deaf" => Self::Deafen(switch(args, "/deafen [on|off]")?),
            "ptt" => Self::PushToTalk(switch(args, "/ptt [on|off]")?),
            "talk" => Self::Talk(switch(args, "/talk [on|off]")?),
            "stats" => no_args(args, "/stats", Self::Stats)?,
            "help" | "?" => Self::Help,
            "quit" | "exit" | "q" => Self::Quit,
            _ => return Err(CommandError::Unknown(word.to_owned())),
        };
        Ok(Some(command))
    }
}

fn one_arg<'a>(args: &'a str, usage: &'static str) -> Result<&'a str, CommandError> {
    if args.is_empty() || args.contains(char::is_whitespace) {
        Err(CommandError::Usage(usage))
    } else {
        Ok(args)
    }
}

fn no_args(args: &str, usage: &'static str, command: Command) -> Result<Command, CommandError> {
    if args.is_empty() { Ok(command) } else { Err(CommandError::Usage(usage)) }
}

fn switch(args: &str, usage: &'static str) -> Result<Switch, CommandError> {
    match args.to_ascii_lowercase().as_str() {
        "" => Ok(Switch::Toggle),
        "on" => Ok(Switch::On),
        "off" => Ok(Switch::Off),
        _ => Err(CommandError::Usage(usage)),
    }
}

fn text(s: &str) -> Result<TextBuf, CommandError> {
    Ok(Text::new(s)?.into_owned())
}

fn nick(s: &str) -> Result<NickBuf, CommandError> {
    Ok(Nick::new(s)?.into_owned())
}

/// A room name, with the `#` added if the user left it out.
fn room(s: &str) -> Result<RoomBuf, CommandError> {
    if s.starts_with('#') {
        Ok(Room::new(s)?.into_owned())
    } else {
        Ok(RoomBuf::from_string(format!("#{s}"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Command>, CommandError> {
        Command::parse(line)
    }

    fn n(s: &str) -> NickBuf {
        s.parse().expect("valid nick")
    }

    fn t(s: &str) -> TextBuf {
        s.parse().expect("valid text")
    }

    #[test]
    fn every_command_parses() {
        let cases = [
            ("Hey all!", Command::Say(t("Hey all!"))),
            ("//shrug", Command::Say(t("/shrug"))),
            ("/join #TurboRoom", Command::Join("#TurboRoom".parse().expect("ok"))),
            ("/JOIN turbo", Command::Join("#turbo".parse().expect("ok"))),
            ("/msg John Hey John: hi", Command::Msg { to: n("John"), text: t("Hey John: hi") }),
            ("/call John", Command::Call(n("John"))),
            ("/accept", Command::Accept),
            ("/deny", Command::Deny),
            ("/hangup", Command::HangUp),
            ("/mute", Command::Mute(Switch::Toggle)),
            ("/mute on", Command::Mute(Switch::On)),
            ("/deafen off", Command::Deafen(Switch::Off)),
            ("/ptt", Command::PushToTalk(Switch::Toggle)),
            ("/talk on", Command::Talk(Switch::On)),
            ("/stats", Command::Stats),
            ("/help", Command::Help),
            ("/quit", Command::Quit),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line), Ok(Some(expected)), "{line}");
        }
        assert_eq!(parse("   "), Ok(None));
        assert_eq!(parse(""), Ok(None));
    }

    #[test]
    fn mistakes_say_what_is_expected() {
        assert_eq!(parse("/frobnicate"), Err(CommandError::Unknown("frobnicate".into())));
        assert_eq!(parse("/msg John"), Err(CommandError::Usage("/msg nick text")));
        assert_eq!(parse("/call"), Err(CommandError::Usage("/call nick")));
        assert_eq!(parse("/call a b"), Err(CommandError::Usage("/call nick")));
        assert_eq!(parse("/accept now"), Err(CommandError::Usage("/accept")));
        assert_eq!(parse("/mute maybe"), Err(CommandError::Usage("/mute [on|off]")));
        assert_eq!(parse("/call #x"), Err(CommandError::Invalid(NameError::NickStartsWithHash)));
        assert_eq!(parse("/join #a\"b"), Err(CommandError::Invalid(NameError::RoomChar('"'))));
        assert_eq!(parse("nul\0"), Err(CommandError::Invalid(NameError::TextChar('\0'))));
    }

    #[test]
    fn every_help_entry_parses() {
        for entry in HELP {
            let example =
                entry.usage.replace("[on|off]", "on").replace("#room", "#r").replace("nick", "n");
            assert!(parse(&example).is_ok(), "{}", entry.usage);
        }
    }
}
