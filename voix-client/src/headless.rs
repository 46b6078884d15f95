//! The headless front end: commands from standard input, events on
//! standard output, as JSON lines or readable lines.

use std::io::{self, BufRead, Write};
use std::thread;

use crate::event::Event;
use crate::runtime::{Frontend, Input, Waker};

/// The longest command line read from standard input; the rest of a
/// longer line is skipped and the line refused.
pub const MAX_INPUT_LINE: usize = 16 * 1024;

/// How events are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// One readable line per event, starting with the event's name.
    Text,
}

/// Prints every event on one line of `out`, flushed at once so that a
/// script reading the pipe sees it immediately.
#[derive(Debug)]
pub struct Headless<W> {
    out: W,
    format: Format,
}

impl<W: Write> Headless<W> {
    /// A printer writing to `out`.
    pub fn new(out: W, format: Format) -> Self {
        Self { out, format }
    }
}

impl<W: Write> Frontend for Headless<W> {
    fn show(&mut self, event: &Event) -> io::Result<()> {
        match self.format {
            Format::Json => writeln!(self.out, "{}", event.to_json())?,
            Format::Text => writeln!(self.out, "{event}")?,
        }
        self.out.flush()
    }
}

/// Reads standard input line by line in its own thread.
pub fn spawn_stdin_reader(waker: Waker) -> io::Result<()> {
    thread::Builder::new().name("voix-stdin".into()).spawn(move || {
        read_lines(io::stdin().lock(), &waker);
        waker.send(Input::EndOfInput);
    })?;
    Ok(())
}

/// Sends each line of `input` to the control loop, refusing lines over
/// [`MAX_INPUT_LINE`] bytes without buffering them.
fn read_lines(mut input: impl BufRead, waker: &Waker) {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let (done, used) = match input.fill_buf() {
            Ok([]) => {
                if !line.is_empty() && !too_long {
                    waker.send(Input::Line(String::from_utf8_lossy(&line).into_owned()));
                }
                return;
            }
            Ok(buf) => match memchr_newline(buf) {
                Some(i) => {
                    if !too_long {
                        line.extend_from_slice(&buf[..i]);
                    }
                    (true, i + 1)
                }
                None => {
                    if !too_long {
                        line.extend_from_slice(buf);
                    }
                    (false, buf.len())
                }
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        input.consume(used);
        if line.len() > MAX_INPUT_LINE {
            too_long = true;
            line.clear();
        }
        if done {
            waker.send(if too_long {
                Input::Rejected(format!("a line longer than {MAX_INPUT_LINE} bytes was skipped"))
            } else {
                Input::Line(String::from_utf8_lossy(&line).into_owned())
            });
            line.clear();
            too_long = false;
        }
    }
}

fn memchr_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Waker;

    fn lines(input: &[u8]) -> Vec<String> {
        let (waker, inputs) = Waker::channel();
        read_lines(io::BufReader::with_capacity(7, input), &waker);
        drop(waker);
        inputs
            .iter()
            .map(|input| match input {
                Input::Line(line) => line,
                Input::Rejected(why) => format!("rejected: {why}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn splits_lines_across_reads_and_keeps_a_last_line_without_newline() {
        assert_eq!(
            lines(b"/join #a\r\nhello there\n/quit"),
            ["/join #a\r", "hello there", "/quit"]
        );
        assert_eq!(lines(b"a\n\nb\n"), ["a", "", "b"]);
    }

    #[test]
    fn skips_overlong_lines_whole() {
        let mut input = vec![b'x'; MAX_INPUT_LINE + 10];
        input.extend_from_slice(b"\nnext\n");
        let got = lines(&input);
        assert_eq!(got.len(), 2);
        assert!(got[0].starts_with("rejected: "), "{}", got[0]);
        assert_eq!(got[1], "next");
    }

    #[test]
    fn prints_one_line_per_event() {
        let mut out = Vec::new();
        let mut json = Headless::new(&mut out, Format::Json);
        json.show(&Event::InputEnded).expect("in memory");
        json.show(&Event::Joined { room: "#Lobby".into() }).expect("in memory");
        let mut text = Headless::new(&mut out, Format::Text);
        text.show(&Event::Joined { room: "#Lobby".into() }).expect("in memory");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"event\":\"input_ended\"}\n{\"event\":\"joined\",\"room\":\"#Lobby\"}\njoined #Lobby\n"
        );
    }
}
