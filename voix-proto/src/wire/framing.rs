//! Turning a TCP byte stream into lines, with a bounded line length.

use std::ops::{ControlFlow, Range};

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

/// A line [`LineReader::drain`] could not hand over as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadLine<'a> {
    /// A line longer than the reader's limit was skipped.
    #[error("line longer than the limit")]
    TooLong,
    /// The line is not valid UTF-8; its bytes, without the line ending.
    #[error("line is not valid UTF-8")]
    InvalidUtf8(&'a [u8]),
}

/// What [`LineReader::found`] makes of the start of a buffer, as positions
/// in it.
enum Found {
    /// A whole line at `buf[..end]`, then its line ending.
    Line { end: usize, consumed: usize },
    /// See [`Framed::TooLong`].
    TooLong { consumed: usize },
    /// See [`Framed::Incomplete`].
    Incomplete { consumed: usize },
    /// The rest of an overlong line, up to and with its `\n`, to drop
    /// before reading on.
    Skipped { consumed: usize },
}

/// A stretch of a buffer known to be UTF-8: the whole lines that
/// [`LineReader::drain`] checked in one pass.
///
/// Checking every whole line of a read at once costs under a nanosecond a
/// line (simdutf8 checks 32 or 64 bytes at a time); checking line by line
/// costs 8 to 11 ns a line, too short for vectors to pay off.
#[derive(Default)]
struct CheckedText<'a> {
    /// Where `text` starts in the buffer.
    start: usize,
    /// The bytes from `start` that are UTF-8.
    text: &'a str,
    /// Where the first byte that is not starts, if the pass found one.
    invalid_at: Option<usize>,
}

impl<'a> CheckedText<'a> {
    /// Checks `buf` from `start` to its last `\n` (the whole lines there).
    fn check(buf: &'a [u8], start: usize) -> Self {
        let lines = &buf[start..];
        let lines = match memchr::memrchr(b'\n', lines) {
            Some(last) => &lines[..=last],
            None => lines,
        };
        // The check stops at the first error, so after an invalid line the
        // next check starts past it: every byte is checked once.
        match simdutf8::compat::from_utf8(lines) {
            Ok(text) => Self { start, text, invalid_at: None },
            Err(e) => {
                // The bytes before the error are UTF-8, so this never
                // falls back to the empty text.
                let valid = &lines[..e.valid_up_to()];
                let text = simdutf8::compat::from_utf8(valid).unwrap_or_default();
                Self { start, text, invalid_at: Some(start + valid.len()) }
            }
        }
    }

    /// The line at `buf[start..end]` as text, if this stretch covers it.
    #[inline]
    fn line(&self, start: usize, end: usize) -> Option<&'a str> {
        self.text.get(start.checked_sub(self.start)?..end.checked_sub(self.start)?)
    }

    /// Whether the first invalid byte the pass found is in `start..end`.
    /// An invalid sequence that starts in a line makes the line invalid
    /// on its own: what completes it would have to cross the `\n`.
    #[inline]
    fn invalidates(&self, start: usize, end: usize) -> bool {
        self.invalid_at.is_some_and(|at| (start..end).contains(&at))
    }
}

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
        let mut skipped = 0;
        loop {
            let rest = &buf[skipped..];
            let search = self.search_range(rest.len());
            let newline = memchr::memchr(b'\n', &rest[search.clone()]).map(|i| search.start + i);
            match self.found(rest, newline) {
                Found::Line { end, consumed } => {
                    return Framed::Line { line: &rest[..end], consumed: skipped + consumed };
                }
                Found::TooLong { consumed } => {
                    return Framed::TooLong { consumed: skipped + consumed };
                }
                Found::Incomplete { consumed } => {
                    return Framed::Incomplete { consumed: skipped + consumed };
                }
                Found::Skipped { consumed } => skipped += consumed,
            }
        }
    }

    /// Where in a buffer of `len` unread bytes the next `\n` is to be
    /// looked for: past the bytes already scanned, and no further than the
    /// longest line plus `\r\n`, unless the bytes are being discarded
    /// anyway.
    #[inline]
    fn search_range(&self, len: usize) -> Range<usize> {
        let window =
            if self.discarding { len } else { len.min(self.max_line_len.saturating_add(2)) };
        self.scanned.min(window)..window
    }

    /// What the start of `buf` holds, given `newline`: where the first `\n`
    /// in [`search_range`](Self::search_range) is, if there is one.
    #[inline]
    fn found(&mut self, buf: &[u8], newline: Option<usize>) -> Found {
        let window = self.search_range(buf.len()).end;
        match (newline, self.discarding) {
            (Some(nl), true) => {
                // The overlong line ends here; read on as usual after it.
                self.discarding = false;
                self.scanned = 0;
                Found::Skipped { consumed: nl + 1 }
            }
            (None, true) => {
                self.scanned = 0;
                Found::Incomplete { consumed: window }
            }
            (Some(nl), false) => {
                self.scanned = 0;
                let end = if nl > 0 && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
                if end > self.max_line_len {
                    return Found::TooLong { consumed: nl + 1 };
                }
                Found::Line { end, consumed: nl + 1 }
            }
            (None, false) if window > self.max_line_len + 1 => {
                // Longer than any line can be, and no newline in sight.
                self.discarding = true;
                self.scanned = 0;
                Found::TooLong { consumed: window }
            }
            (None, false) => {
                self.scanned = window;
                Found::Incomplete { consumed: 0 }
            }
        }
    }

    /// Hands every whole line at the start of `buf` to `on_line` as text
    /// (an overlong line as [`BadLine::TooLong`], one that is not UTF-8 as
    /// [`BadLine::InvalidUtf8`]), then drops what was handled from `buf`,
    /// keeping an incomplete line for later. Stops early, leaving the rest
    /// in `buf`, when `on_line` breaks.
    ///
    /// The whole lines in `buf` are checked for UTF-8 in one pass, which is
    /// many times faster than checking them one by one; after an invalid
    /// line the check resumes at the next, so every byte is checked once.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use bytes::BytesMut;
    /// use voix_proto::wire::{BadLine, LineReader};
    ///
    /// let mut reader = LineReader::new(64);
    /// let mut buf = BytesMut::from(&b"PONG: 1\r\nMSG #a: \xff\nJOIN: #Tu"[..]);
    /// let mut lines = Vec::new();
    /// reader.drain(&mut buf, |line| {
    ///     lines.push(line.map(str::to_owned).map_err(|e| e.to_string()));
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!(lines, [Ok("PONG: 1".to_owned()), Err("line is not valid UTF-8".to_owned())]);
    /// assert_eq!(&buf[..], b"JOIN: #Tu");
    /// ```
    pub fn drain(
        &mut self,
        buf: &mut BytesMut,
        mut on_line: impl FnMut(Result<&str, BadLine<'_>>) -> ControlFlow<()>,
    ) {
        let mut pos = 0;
        let mut checked = CheckedText::default();
        // Every `\n` of the buffer, in order, past the bytes an earlier call
        // scanned.
        let scanned = self.search_range(buf.len()).start;
        let mut newlines =
            memchr::memchr_iter(b'\n', &buf[scanned..]).map(|i| scanned + i).peekable();
        loop {
            let search = self.search_range(buf.len() - pos);
            while newlines.next_if(|&nl| nl < pos + search.start).is_some() {}
            let newline = newlines.peek().copied().filter(|&nl| nl < pos + search.end);
            let (line, consumed) = match self.found(&buf[pos..], newline.map(|nl| nl - pos)) {
                Found::Line { end, consumed } => {
                    let (start, end) = (pos, pos + end);
                    let line = match checked.line(start, end) {
                        Some(text) => Ok(text),
                        None if checked.invalidates(start, end) => {
                            Err(BadLine::InvalidUtf8(&buf[start..end]))
                        }
                        None => {
                            checked = CheckedText::check(buf, start);
                            checked.line(start, end).ok_or(BadLine::InvalidUtf8(&buf[start..end]))
                        }
                    };
                    (line, consumed)
                }
                Found::TooLong { consumed } => (Err(BadLine::TooLong), consumed),
                Found::Skipped { consumed } => {
                    pos += consumed;
                    continue;
                }
                Found::Incomplete { consumed } => {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What [`LineReader::drain`] handed over, owned.
    #[derive(Debug, PartialEq)]
    enum Out {
        Text(String),
        Invalid(Vec<u8>),
        TooLong,
    }

    impl From<Result<&str, BadLine<'_>>> for Out {
        fn from(line: Result<&str, BadLine<'_>>) -> Self {
            match line {
                Ok(text) => Self::Text(text.to_owned()),
                Err(BadLine::InvalidUtf8(bytes)) => Self::Invalid(bytes.to_vec()),
                Err(BadLine::TooLong) => Self::TooLong,
            }
        }
    }

    /// Feeds `chunks` to `drain` one at a time, as a connection reads them.
    fn drain_chunks(max: usize, chunks: &[&[u8]]) -> Vec<Out> {
        let mut reader = LineReader::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            reader.drain(&mut buf, |line| {
                out.push(Out::from(line));
                ControlFlow::Continue(())
            });
        }
        out
    }

    /// The lines `next` finds in the whole stream, each checked on its own.
    fn expected(max: usize, mut stream: &[u8]) -> Vec<Out> {
        let mut reader = LineReader::new(max);
        let mut out = Vec::new();
        loop {
            let consumed = match reader.next(stream) {
                Framed::Line { line, consumed } => {
                    out.push(match std::str::from_utf8(line) {
                        Ok(text) => Out::Text(text.to_owned()),
                        Err(_) => Out::Invalid(line.to_vec()),
                    });
                    consumed
                }
                Framed::TooLong { consumed } => {
                    out.push(Out::TooLong);
                    consumed
                }
                Framed::Incomplete { .. } => return out,
            };
            stream = &stream[consumed..];
        }
    }

    /// Pieces of lines: ASCII, characters of two to four bytes, and bytes
    /// that are not UTF-8 on their own (a stray continuation byte, a lead
    /// byte without its continuation, a byte never used in UTF-8).
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[ -~]{1,6}".prop_map(String::into_bytes),
            2 => prop::sample::select(vec!["é", "✓", "🎉", "\r"]).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec![vec![0x80], vec![0xC3], vec![0xF0, 0x9F], vec![0xFF]]),
        ]
    }

    proptest! {
        #[test]
        fn drain_hands_over_each_line_checked_as_if_on_its_own(
            lines in prop::collection::vec(
                (prop::collection::vec(piece(), 0..8), any::<bool>()),
                1..20,
            ),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let mut stream = Vec::new();
            for (pieces, crlf) in &lines {
                stream.extend(pieces.iter().flatten());
                stream.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            cuts.extend([0, stream.len()]);
            cuts.sort_unstable();
            let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
            let max = 24;
            prop_assert_eq!(drain_chunks(max, &chunks), expected(max, &stream));
        }
    }

    #[test]
    fn an_invalid_line_spoils_neither_its_neighbours_nor_a_split_character() {
        // The check of the first read stops inside the second line; the
        // third line is checked from its own start. The last line's "é"
        // arrives split between two reads.
        let out = drain_chunks(
            64,
            &[b"MSG #a: caf\xc3\xa9\nMSG #a: \xc3(\nPONG: 1\nMSG #a: \xc3", b"\xa9\n"],
        );
        assert_eq!(
            out,
            [
                Out::Text("MSG #a: café".into()),
                Out::Invalid(b"MSG #a: \xc3(".to_vec()),
                Out::Text("PONG: 1".into()),
                Out::Text("MSG #a: é".into()),
            ]
        );
    }

    #[test]
    fn every_invalid_line_is_reported_and_every_valid_one_kept() {
        // Many invalid lines in one read: each is reported on its own, and
        // the valid lines between them all come through.
        let stream: Vec<u8> = (0..1000)
            .flat_map(|i| if i % 2 == 0 { &b"\xff\n"[..] } else { &b"ok\n"[..] })
            .copied()
            .collect();
        let out = drain_chunks(64, &[&stream]);
        assert_eq!(out.len(), 1000);
        for (i, line) in out.iter().enumerate() {
            let want = if i % 2 == 0 { Out::Invalid(vec![0xff]) } else { Out::Text("ok".into()) };
            assert_eq!(*line, want, "line {i}");
        }
    }
}
