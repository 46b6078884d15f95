//! The terminal UI: a [`Frontend`] that draws the conversations, members
//! and status with ratatui and turns keys into commands.
//!
//! Plain text goes to the conversation on screen: the room, or the person
//! of a private conversation. Keys: Enter sends, Up/Down recall history,
//! Tab/Shift-Tab switch conversation, PgUp/PgDn scroll, F1 help, F2 the
//! push-to-talk key (in `/ptt` mode; terminals report no key releases, so
//! it latches: press to talk, press again to stop), F3 mute, F4 deafen,
//! `y`/`n` on an empty line answer an incoming call, Ctrl-C quits.

mod input;
mod render;
mod view;

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, Event as TerminalEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};

use crate::app::{CallView, ExitReason, Status};
use crate::command::{Command, Switch};
use crate::event::Event;
use crate::runtime::{self, Frontend, Input, Options, RunError, Waker};
use view::{Place, View};

/// How often the screen is redrawn when nothing happens (the call clock,
/// who is talking).
const REDRAW_INTERVAL: Duration = Duration::from_millis(200);

/// Lines PgUp and PgDn scroll.
const PAGE: isize = 10;

/// Runs the client with the terminal UI until the user quits.
pub fn run(options: Options) -> Result<ExitReason, RunError> {
    runtime::run(options, Tui::default(), spawn_terminal_reader)
}

/// Reads keys and resizes in their own thread.
fn spawn_terminal_reader(waker: Waker) -> io::Result<()> {
    thread::Builder::new().name("voix-keys".into()).spawn(move || {
        while let Ok(event) = event::read() {
            waker.send(Input::Terminal(event));
        }
    })?;
    Ok(())
}

/// The terminal UI. The terminal is taken over by
/// [`Frontend::start`] and given back when this is dropped, or when the
/// program panics.
#[derive(Debug, Default)]
pub struct Tui {
    terminal: Option<DefaultTerminal>,
    view: View,
}

impl Drop for Tui {
    fn drop(&mut self) {
        if self.terminal.take().is_some() {
            let _ = ratatui::try_restore();
        }
    }
}

impl Frontend for Tui {
    fn start(&mut self) -> io::Result<()> {
        self.terminal = Some(ratatui::try_init()?);
        Ok(())
    }

    fn show(&mut self, event: &Event) -> io::Result<()> {
        self.view.apply(event);
        Ok(())
    }

    fn terminal(&mut self, event: TerminalEvent, status: &Status) -> Vec<Input> {
        match event {
            TerminalEvent::Key(key) if key.kind != KeyEventKind::Release => self.key(key, status),
            TerminalEvent::Paste(text) => {
                text.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .for_each(|c| self.view.input.insert(c));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn draw(&mut self, status: &Status) -> io::Result<()> {
        let view = &self.view;
        if let Some(terminal) = &mut self.terminal {
            terminal.draw(|frame| render::draw(frame, view, status, Instant::now()))?;
        }
        Ok(())
    }

    fn redraw_interval(&self) -> Option<Duration> {
        Some(REDRAW_INTERVAL)
    }
}

impl Tui {
    fn key(&mut self, key: KeyEvent, status: &Status) -> Vec<Input> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let input = &mut self.view.input;
        let command = |c| vec![Input::Command(c)];
        match key.code {
            KeyCode::Char('c') if ctrl => return command(Command::Quit),
            KeyCode::Char('d') if ctrl && input.is_empty() => return command(Command::Quit),
            KeyCode::Char('a') if ctrl => input.home(),
            KeyCode::Char('e') if ctrl => input.end(),
            KeyCode::Char('u') if ctrl => input.delete_to_start(),
            KeyCode::Char('k') if ctrl => input.delete_to_end(),
            KeyCode::Char('w') if ctrl => input.delete_word(),
            KeyCode::Char('y' | 'n')
                if input.is_empty() && matches!(status.call, CallView::Incoming(_)) =>
            {
                let answer =
                    if key.code == KeyCode::Char('y') { Command::Accept } else { Command::Deny };
                return command(answer);
            }
            KeyCode::Char(c) if !ctrl => input.insert(c),
            KeyCode::Enter => return self.submit(status),
            KeyCode::Backspace => input.backspace(),
            KeyCode::Delete => input.delete(),
            KeyCode::Left => input.left(),
            KeyCode::Right => input.right(),
            KeyCode::Home => input.home(),
            KeyCode::End => input.end(),
            KeyCode::Up => input.up(),
            KeyCode::Down => input.down(),
            KeyCode::Esc => input.clear(),
            KeyCode::Tab => self.view.cycle(false),
            KeyCode::BackTab => self.view.cycle(true),
            KeyCode::PageUp => self.view.scroll_by(PAGE),
            KeyCode::PageDown => self.view.scroll_by(-PAGE),
            KeyCode::F(1) => return command(Command::Help),
            KeyCode::F(2) => return command(Command::Talk(Switch::Toggle)),
            KeyCode::F(3) => return command(Command::Mute(Switch::Toggle)),
            KeyCode::F(4) => return command(Command::Deafen(Switch::Toggle)),
            _ => {}
        }
        Vec::new()
    }

    /// Enter: commands go to the app as typed; plain text goes to the
    /// conversation on screen, and is shown there at once.
    fn submit(&mut self, status: &Status) -> Vec<Input> {
        let Some(line) = self.view.input.submit() else { return Vec::new() };
        match (Command::parse(&line), &self.view.current().place) {
            (Ok(Some(Command::Say(text))), Place::Private(peer)) => {
                let to = peer.clone();
                self.view.own(Some(to.borrowed()), &status.nick, text.as_str());
                vec![Input::Command(Command::Msg { to, text })]
            }
            (Ok(Some(Command::Say(text))), Place::Room) => {
                self.view.own(None, &status.nick, text.as_str());
                vec![Input::Command(Command::Say(text))]
            }
            (Ok(Some(Command::Msg { to, text })), _) => {
                self.view.own(Some(to.borrowed()), &status.nick, text.as_str());
                self.view.open_private(to.borrowed());
                vec![Input::Command(Command::Msg { to, text })]
            }
            // Other commands, and mistakes the app explains.
            _ => vec![Input::Line(line)],
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::Connection;
    use crate::voice::{VoiceSettings, VoiceStatus};

    fn status(call: CallView) -> Status {
        Status {
            server: "h:1".into(),
            nick: "Alice".into(),
            connection: Connection::Online { host: "voix".into() },
            room: Some("#Lobby".into()),
            members: vec!["Alice".into(), "Bob".into()],
            call,
            voice: VoiceStatus::default(),
            settings: VoiceSettings::default(),
            rtt: None,
            frame: Duration::from_millis(20),
        }
    }

    fn press(tui: &mut Tui, code: KeyCode, status: &Status) -> Vec<Input> {
        tui.key(KeyEvent::new(code, KeyModifiers::NONE), status)
    }

    fn type_line(tui: &mut Tui, line: &str, status: &Status) -> Vec<Input> {
        for c in line.chars() {
            assert!(press(tui, KeyCode::Char(c), status).is_empty());
        }
        press(tui, KeyCode::Enter, status)
    }

    fn commands(inputs: Vec<Input>) -> Vec<String> {
        inputs
            .into_iter()
            .map(|i| match i {
                Input::Command(c) => format!("{c:?}"),
                Input::Line(l) => format!("line {l}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn plain_text_goes_to_the_conversation_on_screen() {
        let mut tui = Tui::default();
        let idle = status(CallView::Idle);
        assert_eq!(commands(type_line(&mut tui, "hi all", &idle)), [r#"Say("hi all")"#]);
        assert_eq!(tui.view.current().lines.last().map(|l| l.text.as_str()), Some("hi all"));
        tui.view.apply(&Event::PrivateMessage { from: "Bob".into(), text: "psst".into() });
        press(&mut tui, KeyCode::Tab, &idle);
        assert_eq!(
            commands(type_line(&mut tui, "yes?", &idle)),
            [r#"Msg { to: "Bob", text: "yes?" }"#]
        );
        assert_eq!(commands(type_line(&mut tui, "/call Bob", &idle)), ["line /call Bob"]);
        press(&mut tui, KeyCode::Up, &idle);
        assert_eq!(tui.view.input.text(), "/call Bob", "history");
    }

    #[test]
    fn an_incoming_call_is_answered_with_y_or_n_on_an_empty_line() {
        let mut tui = Tui::default();
        let ringing = status(CallView::Incoming("Bob".into()));
        assert_eq!(commands(press(&mut tui, KeyCode::Char('y'), &ringing)), ["Accept"]);
        assert_eq!(commands(press(&mut tui, KeyCode::Char('n'), &ringing)), ["Deny"]);
        press(&mut tui, KeyCode::Char('o'), &ringing);
        assert!(press(&mut tui, KeyCode::Char('n'), &ringing).is_empty(), "typing, not answering");
        assert_eq!(tui.view.input.text(), "on");
        let idle = status(CallView::Idle);
        assert!(press(&mut tui, KeyCode::Char('y'), &idle).is_empty());
    }

    #[test]
    fn function_keys_and_ctrl_c_are_commands() {
        let mut tui = Tui::default();
        let idle = status(CallView::Idle);
        assert_eq!(commands(press(&mut tui, KeyCode::F(2), &idle)), ["Talk(Toggle)"]);
        assert_eq!(commands(press(&mut tui, KeyCode::F(3), &idle)), ["Mute(Toggle)"]);
        assert_eq!(commands(press(&mut tui, KeyCode::F(4), &idle)), ["Deafen(Toggle)"]);
        let quit = tui.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), &idle);
        assert_eq!(commands(quit), ["Quit"]);
    }
}
