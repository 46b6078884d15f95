//! The headless front end: commands from standard input, events on
//! standard output, as JSON lines or readable lines.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::thread;

use bytes::BytesMut;
use voix_proto::wire::{BadLine, LineReader};

use crate::event::{Event, escape_controls};
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
            // JSON escapes control characters itself; a readable line
            // could carry a remote user's terminal escapes.
            Format::Text => writeln!(self.out, "{}", escape_controls(&event.to_string()))?,
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
/// [`MAX_INPUT_LINE`] bytes without buffering them. A last line without a
/// newline still counts; one that is not UTF-8 is passed on with its bad
/// bytes replaced, for the command parser to judge.
fn read_lines(mut input: impl Read, waker: &Waker) {
    let mut reader = LineReader::new(MAX_INPUT_LINE);
    let mut buf = BytesMut::new();
    let mut chunk = [0; 8 * 1024];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        buf.extend_from_slice(&chunk[..n]);
        reader.drain(&mut buf, |line| {
            waker.send(match line {
                Ok(line) => Input::Line(line.to_owned()),
                Err(BadLine::InvalidUtf8(line)) => {
                    Input::Line(String::from_utf8_lossy(line).into_owned())
                }
                Err(BadLine::TooLong) => Input::Rejected(format!(
                    "a line longer than {MAX_INPUT_LINE} bytes was skipped"
                )),
            });
            ControlFlow::Continue(())
        });
    }
    // The reader keeps only an incomplete line that may still fit, and
    // drops the rest of one that does not as it arrives.
    if !buf.is_empty() {
        let line = buf.strip_suffix(b"\r").unwrap_or(&buf);
        waker.send(Input::Line(String::from_utf8_lossy(line).into_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Waker;

    /// Input that arrives at most seven bytes a read, so that lines and
    /// characters are split between reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(input: &[u8]) -> Vec<String> {
        let (waker, inputs) = Waker::channel();
        read_lines(Trickle(input), &waker);
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
            lines(b"/join #a\r\nhello there\n/quit\r"),
            ["/join #a", "hello there", "/quit"]
        );
        assert_eq!(lines(b"a\n\nb\n"), ["a", "", "b"]);
        assert_eq!(lines(b"caf\xc3\xa9 \xff\n"), ["café \u{fffd}"]);
    }

    #[test]
    fn skips_an_overlong_last_line_without_newline() {
        let got = lines(&vec![b'x'; MAX_INPUT_LINE + 10]);
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("rejected: "), "{}", got[0]);
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
    fn readable_lines_show_escape_sequences_harmlessly() {
        let mut out = Vec::new();
        let mut text = Headless::new(&mut out, Format::Text);
        let event = Event::Message {
            room: "#Lobby".into(),
            from: "Eve".into(),
            text: "hi\x1b[2J\x1b]0;owned\x07".into(),
        };
        text.show(&event).expect("in memory");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "message #Lobby <Eve> hi^[[2J^[]0;owned^G\n"
        );
        let mut out = Vec::new();
        Headless::new(&mut out, Format::Json).show(&event).expect("in memory");
        assert!(String::from_utf8(out).expect("utf-8").contains(r"hi\u001b[2J"));
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
