//! A byte stream cut into arbitrary chunks: the framer yields the same
//! lines whatever the cuts, never returns a line over the limit, and never
//! holds more than the limit of unread bytes; `drain`, which checks UTF-8
//! for many lines at once, hands over the same lines, each valid or not
//! exactly as if checked on its own.
#![no_main]

use std::ops::ControlFlow;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use voix_proto::wire::{BadLine, Framed, LineReader};

const MAX: usize = 64;

/// `stream` cut into the chunks that end at `cuts` (sorted), and the rest.
fn chunks<'a>(stream: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> {
    let mut start = 0;
    cuts.iter().copied().chain(std::iter::once(stream.len())).map(move |end| {
        let end = end.clamp(start, stream.len());
        let chunk = &stream[start..end];
        start = end;
        chunk
    })
}

/// Frames `stream` fed in chunks that end at `cuts`; returns the lines
/// (None for an overlong one).
fn frame(stream: &[u8], cuts: &[usize]) -> Vec<Option<Vec<u8>>> {
    let mut reader = LineReader::new(MAX);
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    for chunk in chunks(stream, cuts) {
        buf.extend_from_slice(chunk);
        loop {
            match reader.next(&buf) {
                Framed::Line { line, consumed } => {
                    assert!(line.len() <= MAX);
                    lines.push(Some(line.to_vec()));
                    buf.drain(..consumed);
                }
                Framed::TooLong { consumed } => {
                    lines.push(None);
                    buf.drain(..consumed);
                }
                Framed::Incomplete { consumed } => {
                    buf.drain(..consumed);
                    break;
                }
            }
        }
        assert!(buf.len() <= MAX + 2, "holding {} unread bytes", buf.len());
    }
    lines
}

/// What `drain` hands over for `stream` fed in chunks that end at `cuts`:
/// lines as `Ok` when UTF-8, `Err` with their bytes when not, and `None`
/// for an overlong one.
fn drain(stream: &[u8], cuts: &[usize]) -> Vec<Option<Result<String, Vec<u8>>>> {
    let mut reader = LineReader::new(MAX);
    let mut buf = BytesMut::new();
    let mut lines = Vec::new();
    for chunk in chunks(stream, cuts) {
        buf.extend_from_slice(chunk);
        reader.drain(&mut buf, |line| {
            lines.push(match line {
                Ok(text) => Some(Ok(text.to_owned())),
                Err(BadLine::InvalidUtf8(bytes)) => Some(Err(bytes.to_vec())),
                Err(BadLine::TooLong) => None,
            });
            ControlFlow::Continue(())
        });
        assert!(buf.len() <= MAX + 2, "drain holds {} unread bytes", buf.len());
    }
    lines
}

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (stream, cuts) = input;
    let mut cuts: Vec<usize> = cuts.into_iter().map(usize::from).collect();
    cuts.sort_unstable();
    let lines = frame(&stream, &[]);
    assert_eq!(frame(&stream, &cuts), lines);
    let checked: Vec<_> = lines
        .into_iter()
        .map(|line| line.map(|bytes| String::from_utf8(bytes).map_err(|e| e.into_bytes())))
        .collect();
    assert_eq!(drain(&stream, &cuts), checked);
});
