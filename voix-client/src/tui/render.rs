//! Drawing the screen from the [`View`] and the app's [`Status`]:
//!
//! ```text
//! ┌ Conversations ─┐┌ #Lobby ─────────────────────────┐┌ #Lobby · 3 ─────┐
//! │▸ #Lobby        ││ → Bob joined                     ││  Alice (you)    │
//! │  Bob (2)       ││ <Bob> hey all                    ││ ♪ Bob           │
//! │                ││ <Alice> hi!                      ││  Cid            │
//! └────────────────┘└──────────────────────────────────┘└─────────────────┘
//! ┌ message #Lobby ───────────────────────────────────────────────────────┐
//! │ /call Bob                                                              │
//! └────────────────────────────────────────────────────────────────────────┘
//!  ● voix  Alice  #Lobby  ☎ Bob 00:42  mic vad ●  ♪ Bob  34 ms · 0.0 % loss
//! ```

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::view::{ChatLine, LineKind, Place, View};
use crate::app::{CallView, Connection, Status};
use crate::voice::TransmitModeArg;

/// Narrower than this, the side panels are hidden.
const SIDE_PANELS_MIN_WIDTH: u16 = 72;

/// Draws everything.
pub fn draw(frame: &mut Frame<'_>, view: &View, status: &Status, now: Instant) {
    let [main, input, bar] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(3), Constraint::Length(1)])
            .areas(frame.area());
    if main.width >= SIDE_PANELS_MIN_WIDTH {
        let [list, chat, members] = Layout::horizontal([
            Constraint::Length(20),
            Constraint::Min(20),
            Constraint::Length(22),
        ])
        .areas(main);
        draw_conversations(frame, list, view, status);
        draw_chat(frame, chat, view, status);
        draw_members(frame, members, status);
    } else {
        draw_chat(frame, main, view, status);
    }
    draw_input(frame, input, view, status);
    frame.render_widget(Paragraph::new(status_line(status, now)), bar);
    if let CallView::Incoming(from) = &status.call {
        draw_call_prompt(frame, from);
    }
}

fn place_name(place: &Place, status: &Status) -> String {
    match place {
        Place::Room => status.room.clone().unwrap_or_else(|| "(no room)".to_owned()),
        Place::Private(nick) => nick.to_string(),
    }
}

fn draw_conversations(frame: &mut Frame<'_>, area: Rect, view: &View, status: &Status) {
    let lines: Vec<Line<'_>> = view
        .conversations
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = place_name(&c.place, status);
            let marker = if i == view.active { "▸ " } else { "  " };
            let mut spans = vec![Span::raw(marker), Span::raw(name)];
            if c.unread > 0 {
                spans.push(Span::styled(
                    format!(" ({})", c.unread),
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            let style = if i == view.active {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            Line::from(spans).style(style)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Conversations ")),
        area,
    );
}

fn draw_chat(frame: &mut Frame<'_>, area: Rect, view: &View, status: &Status) {
    let conversation = view.current();
    let title = match &conversation.place {
        Place::Room => format!(" {} ", place_name(&conversation.place, status)),
        Place::Private(nick) => format!(" private · {nick} "),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    let width = usize::from(inner.width.max(1));
    let rows: Vec<Line<'_>> =
        conversation.lines.iter().flat_map(|line| wrap(line, width)).collect();
    let height = usize::from(inner.height);
    let end = rows.len().saturating_sub(view.scroll.min(rows.len()));
    let start = end.saturating_sub(height);
    let visible: Vec<Line<'_>> = rows[start..end].to_vec();
    frame.render_widget(Paragraph::new(visible).block(block), area);
}

/// A chat line as screen rows of at most `width` characters.
fn wrap(line: &ChatLine, width: usize) -> Vec<Line<'static>> {
    let (prefix, prefix_style, text_style) = match line.kind {
        LineKind::Message => (
            format!("<{}> ", line.from.as_deref().unwrap_or("?")),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new(),
        ),
        LineKind::Own => (
            format!("<{}> ", line.from.as_deref().unwrap_or("?")),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            Style::new(),
        ),
        LineKind::Notice => {
            ("· ".to_owned(), Style::new().fg(Color::DarkGray), Style::new().fg(Color::DarkGray))
        }
        LineKind::Error => (
            "! ".to_owned(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().fg(Color::Red),
        ),
    };
    let chars: Vec<char> = prefix.chars().chain(line.text.chars()).collect();
    let prefix_len = prefix.chars().count();
    chars
        .chunks(width)
        .enumerate()
        .map(|(row, chunk)| {
            let offset = row * width;
            let split = prefix_len.saturating_sub(offset).min(chunk.len());
            let head: String = chunk[..split].iter().collect();
            let tail: String = chunk[split..].iter().collect();
            Line::from(vec![Span::styled(head, prefix_style), Span::styled(tail, text_style)])
        })
        .collect()
}

fn draw_members(frame: &mut Frame<'_>, area: Rect, status: &Status) {
    let title = match &status.room {
        Some(room) => format!(" {room} · {} ", status.members.len()),
        None => " members ".to_owned(),
    };
    let lines: Vec<Line<'_>> = status
        .members
        .iter()
        .map(|nick| {
            let talking = status.voice.talking.iter().any(|t| t == nick)
                || (nick == &status.nick && status.voice.transmitting);
            let (marker, style) = if talking {
                ("♪ ", Style::new().fg(Color::Green).add_modifier(Modifier::BOLD))
            } else {
                ("  ", Style::new())
            };
            let you = if nick == &status.nick { " (you)" } else { "" };
            Line::from(vec![
                Span::styled(marker, style),
                Span::styled(format!("{nick}{you}"), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
}

fn draw_input(frame: &mut Frame<'_>, area: Rect, view: &View, status: &Status) {
    let to = place_name(&view.current().place, status);
    let block = Block::bordered().title(format!(" message {to} "));
    let inner = block.inner(area);
    let width = usize::from(inner.width.max(1));
    let text: Vec<char> = view.input.text().chars().collect();
    let cursor = view.input.cursor();
    let start = (cursor + 1).saturating_sub(width);
    let shown: String = text.iter().skip(start).take(width).collect();
    let line = if text.is_empty() {
        Line::styled("type a message, or /help", Style::new().fg(Color::DarkGray))
    } else {
        Line::raw(shown)
    };
    frame.render_widget(Paragraph::new(line).block(block), area);
    let x = inner.x.saturating_add(u16::try_from(cursor - start).unwrap_or(u16::MAX));
    frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
}

/// The status bar: connection, who we are, room, call, microphone, who
/// talks, and voice quality.
fn status_line(status: &Status, now: Instant) -> Line<'static> {
    let sep = || Span::styled("  ", Style::new());
    let mut spans = Vec::new();
    let (text, color) = match &status.connection {
        Connection::Online { host } => (format!("● {host}"), Color::Green),
        Connection::Connecting { attempt } => {
            (format!("◌ connecting to {} (try {attempt})", status.server), Color::Yellow)
        }
        Connection::Waiting { until, attempt } => (
            format!(
                "◌ reconnecting in {} s (try {attempt})",
                until.saturating_duration_since(now).as_secs() + 1
            ),
            Color::Red,
        ),
        Connection::Closed => ("✕ offline".to_owned(), Color::Red),
    };
    spans.push(Span::styled(text, Style::new().fg(color).add_modifier(Modifier::BOLD)));
    spans.push(sep());
    spans.push(Span::raw(status.nick.clone()));
    if let Some(room) = &status.room {
        spans.push(sep());
        spans.push(Span::raw(room.clone()));
    }
    let call = match &status.call {
        CallView::Idle => None,
        CallView::Ringing(peer) => Some((format!("☎ calling {peer}…"), Color::Yellow)),
        CallView::Incoming(peer) => Some((format!("☎ {peer} is calling"), Color::Magenta)),
        CallView::Active(peer, since) => Some((
            format!("☎ {peer} {}", clock(now.saturating_duration_since(*since))),
            Color::Green,
        )),
    };
    if let Some((text, color)) = call {
        spans.push(sep());
        spans.push(Span::styled(text, Style::new().fg(color).add_modifier(Modifier::BOLD)));
    }
    spans.push(sep());
    let settings = status.settings;
    let mic = if settings.deafened {
        Span::styled("deafened", Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
    } else if settings.muted {
        Span::styled("muted", Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
    } else {
        let mode = match settings.mode {
            TransmitModeArg::Vad => "mic vad",
            TransmitModeArg::Ptt if settings.talk_pressed => "mic ptt TALKING",
            TransmitModeArg::Ptt => "mic ptt (F2)",
            TransmitModeArg::Always => "mic open",
        };
        let dot = if status.voice.transmitting { " ●" } else { "" };
        Span::styled(
            format!("{mode}{dot}"),
            Style::new().fg(if status.voice.transmitting { Color::Green } else { Color::Reset }),
        )
    };
    spans.push(mic);
    if !status.voice.talking.is_empty() {
        spans.push(sep());
        spans.push(Span::styled(
            format!("♪ {}", status.voice.talking.join(", ")),
            Style::new().fg(Color::Green),
        ));
    }
    if let Some(delay) = status.voice_delay() {
        spans.push(sep());
        spans.push(Span::styled(
            format!("{} ms · {:.1} % loss", delay.as_millis(), status.voice.loss * 100.0),
            Style::new().fg(Color::DarkGray),
        ));
    }
    if let Some(rtt) = status.rtt {
        spans.push(sep());
        spans.push(Span::styled(
            format!("rtt {:.0} ms", rtt.as_secs_f64() * 1000.0),
            Style::new().fg(Color::DarkGray),
        ));
    }
    Line::from(spans)
}

/// `mm:ss`, or `h:mm:ss` past an hour.
fn clock(elapsed: Duration) -> String {
    let s = elapsed.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn draw_call_prompt(frame: &mut Frame<'_>, from: &str) {
    let area = frame.area();
    let width = 46.min(area.width);
    let height = 5.min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let lines = vec![
        Line::styled(format!("{from} is calling you"), Style::new().add_modifier(Modifier::BOLD)),
        Line::from(vec![
            Span::styled("y", Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)),
            Span::raw(" accept    "),
            Span::styled("n", Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)),
            Span::raw(" deny    (or /accept, /deny)"),
        ]),
    ];
    frame.render_widget(Clear, popup);
    let block =
        Block::bordered().title(" ☎ incoming call ").border_style(Style::new().fg(Color::Magenta));
    frame.render_widget(Paragraph::new(lines).block(block).centered(), popup);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_with_the_prefix_styled_once() {
        let line = ChatLine {
            kind: LineKind::Message,
            from: Some("Bob".into()),
            text: "abcdefghij".into(),
        };
        let rows = wrap(&line, 6);
        let text: Vec<String> =
            rows.iter().map(|r| r.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(text, ["<Bob> ", "abcdef", "ghij"]);
        assert_eq!(rows[0].spans[0].content, "<Bob> ");
        assert_eq!(rows[1].spans[0].content, "", "no prefix on continuation rows");
    }

    #[test]
    fn clocks_read_naturally() {
        assert_eq!(clock(Duration::from_secs(42)), "00:42");
        assert_eq!(clock(Duration::from_secs(3_725)), "1:02:05");
    }
}
