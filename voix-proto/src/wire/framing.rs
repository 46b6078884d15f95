//! Turning a TCP byte stream into lines, with a bounded line length.

use std::ops::ControlFlow;

use bytes::{Buf, BytesMut};

/// The default longest line, in bytes, not counting the line ending.
pub const DEFAULT_MAX_LINE_LEN: usize = 4096;

/// What [`LineReader::next`] found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the caller must drop `consumed` bytes from its buffer"]
pub enum Framed<'a> {
    /// A whole line, without its `\n` or `\r\n`. Drop `consumed` bytes
    /// from the buffer once the line has been handled.
    Line {
        /// The line's bytes.
        line: &'a [u8],
        /// Bytes to drop, line ending included.
        consumed: usize,
    },
    /// A line longer than the limit. Its bytes so far are to be dropped;
    /// the reader discards the rest of it up to the next `\n` and then
    /// reads lines normally again. Reported once per overlong line.
    TooLong {
        /// Bytes to drop.
        consumed: usize,
    },
    /// No whole line yet: read more. While discarding an overlong line,
    /// `consumed` is what can be dropped already (so the excess is never
    /// buffered); otherwise it is 0.
    Incomplete {
        /// Bytes to drop.
        consumed: usize,
    },
}

/// A line longer than the [`LineReader`]'s limit was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line longer than the limit")]
pub struct LineTooLong;

/// Finds lines in a byte stream: a sans-IO framer over the caller's
/// buffer.
///
/// The reader never copies: it returns lines borrowed from the buffer and
/// says how many bytes to drop, so a line is consumed only after the caller
/// has handled it. An incomplete line is "need more", not an error. A line
/// longer than the limit is reported once and skipped up to its `\n`
/// without being buffered.
///
/// ```
/// use voix_proto::wire::{Framed, LineReader};
///
/// let mut reader = LineReader::new(64);
/// let mut buf = b"PONG: 1\r\nJOIN: #Tu".to_vec();
/// let Framed::Line { line, consumed } = reader.next(&buf) else { panic!() };
/// assert_eq!(line, b"PONG: 1");
/// buf.drain(..consumed);
/// assert_eq!(reader.next(&buf), Framed::Incomplete { consumed: 0 });
/// ```
#[derive(Debug, Clone)]
pub struct LineReader {
    max_line_len: usize,
    /// Inside an overlong line: drop everything up to the next `\n`.
    discarding: bool,
    /// Bytes at the start of the buffer already known to hold no `\n`, so
    /// a line arriving a byte at a time is scanned once, not once per byte.
    scanned: usize,
}

impl LineReader {
    /// A reader that accepts lines of at most `max_line_len` bytes, not
    /// counting the line ending.
    pub fn new(max_line_len: usize) -> Self {
        Self { max_line_len, discarding: false, scanned: 0 }
    }

    /// The longest line this reader accepts.
    pub fn max_line_len(&self) -> usize {
        self.max_line_len
    }

    /// Looks for the next line at the start of `buf`, the caller's unread
    /// bytes. Call again, with the consumed bytes dropped, until it returns
    /// [`Framed::Incomplete`].
    pub fn next<'a>(&mut self, buf: &'a [u8]) -> Framed<'a> {
        // A line may be max_line_len bytes plus "\r\n": look no further,
        // unless the bytes are being discarded anyway.
        let window = if self.discarding {
            buf.len()
        } else {
            buf.len().min(self.max_line_len.saturating_add(2))
        };
        let from = self.scanned.min(window);
        let newline = memchr::memchr(b'\n', &buf[from..window]).map(|i| from + i);
        match (newline, self.discarding) {
            (Some(nl), true) => {
                // The overlong line ends here; whatever follows is read as
                // usual, and its bytes to drop include the skipped ones.
                self.discarding = false;
                self.scanned = 0;
                let skipped = nl + 1;
                match self.next(&buf[skipped..]) {
                    Framed::Line { line, consumed } => {
                        Framed::Line { line, consumed: skipped + consumed }
                    }
                    Framed::TooLong { consumed } => {
                        Framed::TooLong { consumed: skipped + consumed }
                    }
                    Framed::Incomplete { consumed } => {
                        Framed::Incomplete { consumed: skipped + consumed }
                    }
                }
            }
            (None, true) => {
                self.scanned = 0;
                Framed::Incomplete { consumed: window }
            }
            (Some(nl), false) => {
                self.scanned = 0;
                let line = &buf[..nl];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > self.max_line_len {
                    return Framed::TooLong { consumed: nl + 1 };
                }
                Framed::Line { line, consumed: nl + 1 }
            }
            (None, false) if window > self.max_line_len + 1 => {
                // Longer than any line can be, and no newline in sight.
                self.discarding = true;
                self.scanned = 0;
                Framed::TooLong { consumed: window }
            }
            (None, false) => {
                self.scanned = window;
                Framed::Incomplete { consumed: 0 }
            }
        }
    }

    /// Hands every whole line at the start of `buf` to `on_line` (an
    /// overlong one as [`LineTooLong`]), then drops what was handled from
    /// `buf`, keeping an incomplete line for later. Stops early, leaving the
    /// rest in `buf`, when `on_line` breaks.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use bytes::BytesMut;
    /// use voix_proto::wire::LineReader;
    ///
    /// let mut reader = LineReader::new(64);
    /// let mut buf = BytesMut::from(&b"PONG: 1\r\nJOIN: #Tu"[..]);
    /// let mut lines = Vec::new();
    /// reader.drain(&mut buf, |line| {
    ///     lines.push(line.map(<[u8]>::to_vec));
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!(lines, [Ok(b"PONG: 1".to_vec())]);
    /// assert_eq!(&buf[..], b"JOIN: #Tu");
    /// ```
    pub fn drain(
        &mut self,
        buf: &mut BytesMut,
        mut on_line: impl FnMut(Result<&[u8], LineTooLong>) -> ControlFlow<()>,
    ) {
        let mut pos = 0;
        loop {
            let (line, consumed) = match self.next(&buf[pos..]) {
                Framed::Line { line, consumed } => (Ok(line), consumed),
                Framed::TooLong { consumed } => (Err(LineTooLong), consumed),
                Framed::Incomplete { consumed } => {
                    pos += consumed;
                    break;
                }
            };
            let flow = on_line(line);
            pos += consumed;
            if flow.is_break() {
                break;
            }
        }
        buf.advance(pos);
    }
}
