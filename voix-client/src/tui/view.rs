//! What the terminal UI remembers: the conversations (the room and each
//! private one), their lines, which is on screen, and the input line.

use voix_proto::{Nick, NickBuf};

use crate::event::Event;

use super::input::LineEditor;

/// Lines kept per conversation; older ones scroll away for good.
const MAX_LINES: usize = 2_000;

/// What kind of line it is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Someone said something.
    Message,
    /// We said something.
    Own,
    /// Something happened (joins, calls, connection).
    Notice,
    /// Something went wrong.
    Error,
}

/// One line of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Its kind.
    pub kind: LineKind,
    /// Who spoke, for messages.
    pub from: Option<String>,
    /// The text.
    pub text: String,
}

/// Where a conversation happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Our room (its name changes as we move).
    Room,
    /// Private messages with this user, under the nickname's spelling
    /// that began the conversation.
    Private(NickBuf),
}

/// A conversation and what is unread in it.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Where.
    pub place: Place,
    /// Its lines, oldest first.
    pub lines: Vec<ChatLine>,
    /// Messages that came while it was not on screen.
    pub unread: usize,
}

impl Conversation {
    fn new(place: Place) -> Self {
        Self { place, lines: Vec::new(), unread: 0 }
    }

    fn push(&mut self, line: ChatLine) {
        if self.lines.len() == MAX_LINES {
            self.lines.remove(0);
        }
        self.lines.push(line);
    }
}

/// The UI's memory. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct View {
    /// The room first, then private conversations in the order they began.
    pub conversations: Vec<Conversation>,
    /// The one on screen.
    pub active: usize,
    /// Lines scrolled up from the bottom.
    pub scroll: usize,
    /// The input line.
    pub input: LineEditor,
}

impl Default for View {
    fn default() -> Self {
        Self {
            conversations: vec![Conversation::new(Place::Room)],
            active: 0,
            scroll: 0,
            input: LineEditor::default(),
        }
    }
}

impl View {
    /// The conversation on screen.
    pub fn current(&self) -> &Conversation {
        &self.conversations[self.active.min(self.conversations.len() - 1)]
    }

    /// Shows the next (or, `back`, previous) conversation.
    pub fn cycle(&mut self, back: bool) {
        let n = self.conversations.len();
        self.active = if back { (self.active + n - 1) % n } else { (self.active + 1) % n };
        self.conversations[self.active].unread = 0;
        self.scroll = 0;
    }

    /// Scrolls by `lines` (positive: back in time).
    pub fn scroll_by(&mut self, lines: isize) {
        let max = self.current().lines.len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(lines).min(max);
    }

    /// The private conversation with `nick` (in any case), begun if needed.
    fn private(&mut self, nick: Nick<'_>) -> usize {
        let found = self
            .conversations
            .iter()
            .position(|c| matches!(&c.place, Place::Private(n) if n.same_user(nick)));
        found.unwrap_or_else(|| {
            let place = Place::Private(nick.into_owned());
            self.conversations.push(Conversation::new(place));
            self.conversations.len() - 1
        })
    }

    /// Opens the private conversation with `nick` on screen.
    pub fn open_private(&mut self, nick: Nick<'_>) {
        self.active = self.private(nick);
        self.conversations[self.active].unread = 0;
        self.scroll = 0;
    }

    /// Adds a line to conversation `index`, counting it unread if it is
    /// not on screen.
    fn add(&mut self, index: usize, line: ChatLine) {
        if index != self.active && matches!(line.kind, LineKind::Message) {
            self.conversations[index].unread += 1;
        }
        if index == self.active && self.scroll > 0 {
            self.scroll += 1;
        }
        self.conversations[index].push(line);
    }

    fn notice(&mut self, text: String) {
        self.add(self.active, ChatLine { kind: LineKind::Notice, from: None, text });
    }

    fn error(&mut self, text: String) {
        self.add(self.active, ChatLine { kind: LineKind::Error, from: None, text });
    }

    /// Shows what we said in the conversation it went to.
    pub fn own(&mut self, to: Option<Nick<'_>>, nick: &str, text: &str) {
        let index = match to {
            Some(peer) => self.private(peer),
            None => 0,
        };
        self.add(
            index,
            ChatLine { kind: LineKind::Own, from: Some(nick.to_owned()), text: text.to_owned() },
        );
    }

    /// Records what `event` says.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Message { from, text, .. } => {
                self.add(
                    0,
                    ChatLine {
                        kind: LineKind::Message,
                        from: Some(from.clone()),
                        text: text.clone(),
                    },
                );
            }
            Event::PrivateMessage { from, text } => {
                // The app makes this event from a validated nickname; a
                // sender that is not one has no conversation of its own,
                // so the line shows on screen rather than vanish.
                let index = Nick::new(from).map_or(self.active, |nick| self.private(nick));
                self.add(
                    index,
                    ChatLine {
                        kind: LineKind::Message,
                        from: Some(from.clone()),
                        text: text.clone(),
                    },
                );
            }
            Event::Joined { room } => {
                self.add(
                    0,
                    ChatLine {
                        kind: LineKind::Notice,
                        from: None,
                        text: format!("you are in {room}"),
                    },
                );
            }
            Event::UserJoined { nick, .. } => {
                self.add(
                    0,
                    ChatLine { kind: LineKind::Notice, from: None, text: format!("{nick} joined") },
                );
            }
            Event::UserLeft { nick, .. } => {
                self.add(
                    0,
                    ChatLine { kind: LineKind::Notice, from: None, text: format!("{nick} left") },
                );
            }
            Event::Connecting { server, attempt } => {
                self.notice(format!("connecting to {server} (attempt {attempt})"));
            }
            Event::Connected { host, nick } => {
                self.notice(format!("connected to {host} as {nick}"))
            }
            Event::Refused { reason, .. } => self.error(format!("refused: {reason}")),
            Event::ConnectionLost { reason } => self.error(format!("connection lost: {reason}")),
            Event::Reconnecting { in_ms, attempt } => {
                self.notice(format!(
                    "reconnecting in {:.1} s (attempt {attempt})",
                    *in_ms as f64 / 1000.0
                ));
            }
            Event::CallRinging { peer } => {
                self.notice(format!("calling {peer}… (/hangup to stop)"))
            }
            Event::IncomingCall { from } => {
                self.notice(format!("{from} is calling you: /accept or /deny"))
            }
            Event::CallStarted { peer } => {
                self.notice(format!("in a call with {peer} (/hangup to end)"))
            }
            Event::CallEnded { peer, reason } => {
                self.notice(format!(
                    "call with {peer} ended: {}",
                    reason.as_str().replace('_', " ")
                ));
            }
            Event::ServerError { code, reason } => self.error(format!("{code}: {reason}")),
            Event::CommandError { message } => self.error(message.clone()),
            Event::AudioError { direction, message } => {
                self.error(format!("audio {direction}: {message}"))
            }
            Event::Help { commands } => {
                self.notice("commands:".to_owned());
                for command in commands {
                    self.notice(format!("  {:<18} {}", command.usage, command.summary));
                }
                self.notice("  keys: Tab switch conversation · PgUp/PgDn scroll · F2 talk (ptt) · F3 mute · F4 deafen · Ctrl-C quit".to_owned());
            }
            Event::Stats(_) => self.notice(event.to_string()),
            Event::VoiceSettings { muted, deafened, mode, .. } => {
                self.notice(format!(
                    "mic {} · sound {} · {mode}",
                    if *muted { "muted" } else { "on" },
                    if *deafened { "off" } else { "on" }
                ));
            }
            Event::Unrecognized { line } => self.notice(format!("(not understood) {line}")),
            Event::Members { .. }
            | Event::VoiceReady { .. }
            | Event::Talking { .. }
            | Event::AudioStarted { .. }
            | Event::InputEnded
            | Event::Disconnected => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nick<'_> {
        Nick::new(s).expect("valid nickname")
    }

    #[test]
    fn messages_go_to_their_conversation_and_count_unread() {
        let mut view = View::default();
        view.apply(&Event::Message {
            room: "#Lobby".into(),
            from: "Bob".into(),
            text: "hi".into(),
        });
        view.apply(&Event::PrivateMessage { from: "Bob".into(), text: "psst".into() });
        view.apply(&Event::PrivateMessage { from: "BOB".into(), text: "again".into() });
        assert_eq!(view.conversations.len(), 2, "one private conversation per nick, any case");
        assert_eq!(view.conversations[1].unread, 2);
        assert_eq!(view.current().lines.len(), 1);
        view.cycle(false);
        assert_eq!(view.current().place, Place::Private(nick("Bob").into_owned()));
        assert_eq!(view.current().unread, 0);
        view.own(Some(nick("BoB")), "Alice", "yes?");
        assert_eq!(view.conversations.len(), 2, "our reply too");
        assert_eq!(view.current().lines.last().map(|l| l.kind), Some(LineKind::Own));
        view.apply(&Event::CommandError { message: "oops".into() });
        assert_eq!(
            view.current().lines.last().map(|l| l.kind),
            Some(LineKind::Error),
            "notices go on screen"
        );
        view.cycle(true);
        assert_eq!(view.active, 0);
    }

    #[test]
    fn private_conversations_fold_case_as_the_protocol_does() {
        let mut view = View::default();
        // Beyond ASCII too: the protocol's folding, not a second one.
        view.apply(&Event::PrivateMessage { from: "Élodie".into(), text: "salut".into() });
        view.open_private(nick("ÉLODIE"));
        assert_eq!(view.conversations.len(), 2);
        assert_eq!(view.current().place, Place::Private(nick("Élodie").into_owned()));
        view.open_private(nick("Elodie"));
        assert_eq!(view.conversations.len(), 3, "É and E are different letters");
    }

    #[test]
    fn scrolling_stays_in_bounds() {
        let mut view = View::default();
        view.scroll_by(5);
        assert_eq!(view.scroll, 0);
        for i in 0..10 {
            view.apply(&Event::Message {
                room: "#r".into(),
                from: "B".into(),
                text: i.to_string(),
            });
        }
        view.scroll_by(100);
        assert_eq!(view.scroll, 9);
        view.scroll_by(-100);
        assert_eq!(view.scroll, 0);
    }
}
