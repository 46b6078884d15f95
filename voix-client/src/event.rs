//! What the client reports: one [`Event`] per thing that happened, shown by
//! the terminal UI and printed by the headless mode, as JSON (one object
//! per line, the variant's name in `"event"`) or as a readable line whose
//! first word is that same name.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use voix_proto::client::CallEnd;

/// Something that happened, for the user or a script.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Trying to reach the server.
    Connecting {
        /// The server, as given.
        server: String,
        /// 1 for the first try, then counting up until connected.
        attempt: u32,
    },
    /// The server accepted us.
    Connected {
        /// The server's name for itself.
        host: String,
        /// Our nickname.
        nick: String,
    },
    /// The server refused our nickname.
    Refused {
        /// The nickname is taken (rather than invalid).
        nickname_in_use: bool,
        /// The server's words.
        reason: String,
    },
    /// The connection failed or ended.
    ConnectionLost {
        /// Why, in words.
        reason: String,
    },
    /// The next try to connect is in `in_ms` milliseconds.
    Reconnecting {
        /// Milliseconds until the next try.
        in_ms: u64,
        /// The number of that try.
        attempt: u32,
    },
    /// We are now in `room`.
    Joined {
        /// The room.
        room: String,
    },
    /// Everyone in our room, us included, in join order. A big room's
    /// list comes in several lines: each event has everyone so far.
    Members {
        /// The room.
        room: String,
        /// Their nicknames.
        members: Vec<String>,
    },
    /// Someone joined our room.
    UserJoined {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Someone left our room.
    UserLeft {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// A message in our room.
    Message {
        /// The room.
        room: String,
        /// Who said it.
        from: String,
        /// What.
        text: String,
    },
    /// A private message to us.
    PrivateMessage {
        /// Who sent it.
        from: String,
        /// What.
        text: String,
    },
    /// Our call request is ringing at `peer`.
    CallRinging {
        /// Whom we call.
        peer: String,
    },
    /// `from` is calling us: `/accept` or `/deny`.
    IncomingCall {
        /// The caller.
        from: String,
    },
    /// A call is live.
    CallStarted {
        /// The other party.
        peer: String,
    },
    /// A call, or a request for one, is over.
    CallEnded {
        /// The other party.
        peer: String,
        /// How: `hung_up`, `denied`, `no_answer`, `withdrawn` or
        /// `disconnected`.
        reason: CallEndReason,
    },
    /// Voice is set up for a room or a call; audio now goes there.
    VoiceReady {
        /// `#room`, or the nickname of the call's partner.
        scope: String,
        /// The voice session id.
        session: u32,
    },
    /// Who is heard talking changed.
    Talking {
        /// Their nicknames, sorted.
        nicks: Vec<String>,
    },
    /// Mute, deafen or push-to-talk changed.
    VoiceSettings {
        /// Not sending the microphone.
        muted: bool,
        /// Not playing what others say.
        deafened: bool,
        /// `vad` (voice activity), `ptt` (push-to-talk) or `always`.
        mode: &'static str,
        /// The push-to-talk key is pressed.
        talk_pressed: bool,
    },
    /// Voice quality and round trip, on `/stats`.
    Stats(StatsReport),
    /// An audio device started; its first sample is at `unix_us` (µs since
    /// the Unix epoch) and the rest follow at 48 kHz.
    AudioStarted {
        /// `input` (capture) or `output` (playback).
        direction: &'static str,
        /// Wall-clock time of the first sample.
        unix_us: u64,
    },
    /// The input WAV file has been played to its end; silence follows.
    InputEnded,
    /// An audio device failed; that direction stays silent.
    AudioError {
        /// `input` or `output`.
        direction: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The server refused a command (or is closing the connection).
    ServerError {
        /// The code, as on the wire (`NOSUCHNICK`, `BUSY`, ...).
        code: String,
        /// The server's words.
        reason: String,
    },
    /// A typed line could not be carried out.
    CommandError {
        /// Why.
        message: String,
    },
    /// The list of commands, on `/help`.
    Help {
        /// One entry per command: `usage` and `summary`.
        commands: Vec<HelpLine>,
    },
    /// A line from the server this version does not understand.
    Unrecognized {
        /// The line.
        line: String,
    },
    /// We left the server; the client exits.
    Disconnected,
}

/// How a call ended, as scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEndReason {
    /// One side hung up.
    HungUp,
    /// The call was refused.
    Denied,
    /// Our request was not answered, or we withdrew it.
    NoAnswer,
    /// The caller gave up before we answered.
    Withdrawn,
    /// The connection to the server ended.
    Disconnected,
}

impl From<CallEnd> for CallEndReason {
    fn from(how: CallEnd) -> Self {
        match how {
            CallEnd::HungUp => Self::HungUp,
            CallEnd::Denied => Self::Denied,
            CallEnd::NoAnswer => Self::NoAnswer,
            CallEnd::Withdrawn => Self::Withdrawn,
            CallEnd::Disconnected => Self::Disconnected,
        }
    }
}

impl CallEndReason {
    /// The name scripts see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HungUp => "hung_up",
            Self::Denied => "denied",
            Self::NoAnswer => "no_answer",
            Self::Withdrawn => "withdrawn",
            Self::Disconnected => "disconnected",
        }
    }
}

/// One command in [`Event::Help`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelpLine {
    /// How to type it.
    pub usage: &'static str,
    /// What it does.
    pub summary: &'static str,
}

/// Voice quality now, as [`Event::Stats`] reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsReport {
    /// The voice session in use: `#room`, a nickname, or none.
    pub scope: Option<String>,
    /// Estimated mouth-to-ear delay of what we hear, in ms: a frame and a
    /// half, the round trip to the server, and the jitter buffer's delay.
    pub delay_ms: Option<u64>,
    /// Share of the voice frames heard that were lost, in percent.
    pub loss_percent: f64,
    /// Frames filled in by concealment while someone talked.
    pub concealed_frames: u64,
    /// Voice packets sent.
    pub packets_sent: u64,
    /// Voice packets received and accepted.
    pub packets_received: u64,
    /// Datagrams refused (not authentic, replayed, malformed).
    pub packets_rejected: u64,
    /// Round trip to the server, in ms, from our last `PING`.
    pub rtt_ms: Option<f64>,
}

impl Event {
    /// The event's name: `"event"` in JSON, the first word of a readable
    /// line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Connecting { .. } => "connecting",
            Self::Connected { .. } => "connected",
            Self::Refused { .. } => "refused",
            Self::ConnectionLost { .. } => "connection_lost",
            Self::Reconnecting { .. } => "reconnecting",
            Self::Joined { .. } => "joined",
            Self::Members { .. } => "members",
            Self::UserJoined { .. } => "user_joined",
            Self::UserLeft { .. } => "user_left",
            Self::Message { .. } => "message",
            Self::PrivateMessage { .. } => "private_message",
            Self::CallRinging { .. } => "call_ringing",
            Self::IncomingCall { .. } => "incoming_call",
            Self::CallStarted { .. } => "call_started",
            Self::CallEnded { .. } => "call_ended",
            Self::VoiceReady { .. } => "voice_ready",
            Self::Talking { .. } => "talking",
            Self::VoiceSettings { .. } => "voice_settings",
            Self::Stats(_) => "stats",
            Self::AudioStarted { .. } => "audio_started",
            Self::InputEnded => "input_ended",
            Self::AudioError { .. } => "audio_error",
            Self::ServerError { .. } => "server_error",
            Self::CommandError { .. } => "command_error",
            Self::Help { .. } => "help",
            Self::Unrecognized { .. } => "unrecognized",
            Self::Disconnected => "disconnected",
        }
    }

    /// The event as one line of JSON.
    pub fn to_json(&self) -> String {
        // Every field is a string, a number, a bool or a list of them, so
        // encoding cannot fail; the fallback is still one valid line.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"event":"command_error","message":"an event could not be encoded"}"#.to_owned()
        })
    }
}

/// `line` with its control characters made visible, for a terminal: a
/// remote user's text must not move the cursor, clear the screen or retitle
/// the window. C0 characters (but tab) and DEL become caret notation (`^[`
/// for ESC, `^?` for DEL), C1 characters `\u{9b}` and the like.
pub fn escape_controls(line: &str) -> Cow<'_, str> {
    let is_control = |c: char| c.is_control() && c != '\t';
    if !line.contains(is_control) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '\t' => out.push(c),
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(c as u8 + b'@'));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The readable line: the event's name, then its fields in words. Text
/// from the server is as it came: pass it through [`escape_controls`]
/// before it reaches a terminal.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        match self {
            Self::Connecting { server, attempt } => write!(f, " {server} (attempt {attempt})"),
            Self::Connected { host, nick } => write!(f, " to {host} as {nick}"),
            Self::Refused { nickname_in_use, reason } => {
                let what = if *nickname_in_use { "nickname in use" } else { "not accepted" };
                write!(f, " {what}: {reason}")
            }
            Self::ConnectionLost { reason } => write!(f, " {reason}"),
            Self::Reconnecting { in_ms, attempt } => {
                write!(f, " in {:.1} s (attempt {attempt})", *in_ms as f64 / 1000.0)
            }
            Self::Joined { room } => write!(f, " {room}"),
            Self::Members { room, members } => write!(f, " {room}: {}", members.join(", ")),
            Self::UserJoined { room, nick } | Self::UserLeft { room, nick } => {
                write!(f, " {room} {nick}")
            }
            Self::Message { room, from, text } => write!(f, " {room} <{from}> {text}"),
            Self::PrivateMessage { from, text } => write!(f, " <{from}> {text}"),
            Self::CallRinging { peer } | Self::CallStarted { peer } => write!(f, " {peer}"),
            Self::IncomingCall { from } => write!(f, " {from} (/accept or /deny)"),
            Self::CallEnded { peer, reason } => write!(f, " {peer} {}", reason.as_str()),
            Self::VoiceReady { scope, session } => write!(f, " {scope} session {session}"),
            Self::Talking { nicks } => write!(f, " {}", nicks.join(", ")),
            Self::VoiceSettings { muted, deafened, mode, talk_pressed } => write!(
                f,
                " muted={muted} deafened={deafened} mode={mode} talk_pressed={talk_pressed}"
            ),
            Self::Stats(s) => {
                let ms = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
                let rtt = s.rtt_ms.map_or("-".to_owned(), |v| format!("{v:.1}"));
                write!(
                    f,
                    " scope={} delay_ms={} loss_percent={:.1} concealed_frames={} sent={} received={} rejected={} rtt_ms={rtt}",
                    s.scope.as_deref().unwrap_or("-"),
                    ms(s.delay_ms),
                    s.loss_percent,
                    s.concealed_frames,
                    s.packets_sent,
                    s.packets_received,
                    s.packets_rejected,
                )
            }
            Self::AudioStarted { direction, unix_us } => write!(f, " {direction} {unix_us}"),
            Self::InputEnded | Self::Disconnected => Ok(()),
            Self::AudioError { direction, message } => write!(f, " {direction}: {message}"),
            Self::ServerError { code, reason } => write!(f, " {code}: {reason}"),
            Self::CommandError { message } => write!(f, " {message}"),
            Self::Help { commands } => {
                let list: Vec<&str> = commands.iter().map(|c| c.usage).collect();
                write!(f, " {}", list.join(" | "))
            }
            Self::Unrecognized { line } => write!(f, " {line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        assert!(matches!(escape_controls("plain\ttext é"), Cow::Borrowed("plain\ttext é")));
        assert_eq!(escape_controls("hi\x1b[2J\x1b]0;owned\x07"), "hi^[[2J^[]0;owned^G");
        assert_eq!(escape_controls("a\0b\rc\nd\x7fe"), "a^@b^Mc^Jd^?e");
        assert_eq!(escape_controls("csi\u{9b}2J \u{85}"), "csi\\u{9b}2J \\u{85}");
    }

    #[test]
    fn json_names_the_event_and_its_fields() {
        let event = Event::Message {
            room: "#Lobby".into(),
            from: "John".into(),
            text: "Hey \"all\"".into(),
        };
        assert_eq!(
            event.to_json(),
            r##"{"event":"message","room":"#Lobby","from":"John","text":"Hey \"all\""}"##
        );
        assert_eq!(Event::InputEnded.to_json(), r#"{"event":"input_ended"}"#);
        let ended = Event::CallEnded { peer: "Bob".into(), reason: CallEnd::Denied.into() };
        assert_eq!(ended.to_json(), r#"{"event":"call_ended","peer":"Bob","reason":"denied"}"#);
        let stats = Event::Stats(StatsReport { delay_ms: Some(41), ..StatsReport::default() });
        assert!(stats.to_json().starts_with(r#"{"event":"stats","scope":null,"delay_ms":41,"#));
    }

    #[test]
    fn the_json_name_and_the_readable_first_word_agree() {
        let events = [
            Event::Connecting { server: "h:1".into(), attempt: 1 },
            Event::Reconnecting { in_ms: 1500, attempt: 2 },
            Event::Talking { nicks: vec!["A".into(), "B".into()] },
            Event::Stats(StatsReport::default()),
            Event::Disconnected,
            Event::Help { commands: vec![HelpLine { usage: "/quit", summary: "leave" }] },
        ];
        for event in events {
            let json: serde_json::Value =
                serde_json::from_str(&event.to_json()).expect("valid JSON");
            assert_eq!(json["event"], event.name());
            assert_eq!(event.to_string().split(' ').next(), Some(event.name()));
        }
        assert_eq!(
            Event::Reconnecting { in_ms: 1500, attempt: 2 }.to_string(),
            "reconnecting in 1.5 s (attempt 2)"
        );
    }
}
