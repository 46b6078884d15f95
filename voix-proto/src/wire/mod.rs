//! The line protocol on the TCP signalling channel: messages, their parsing
//! and encoding, and framing a byte stream into lines.

mod client;
mod code;
mod error;
mod framing;
mod nick_list;
mod server;
mod syntax;
mod talk;
mod word;

pub use client::ClientCommand;
pub use code::ErrorCode;
pub use error::ParseError;
pub use framing::{BadLine, DEFAULT_MAX_LINE_LEN, Framed, LineReader};
pub use nick_list::{NickList, NickListBuf};
pub use server::{ServerMessage, VoiceScope, VoiceScopeBuf};
pub use talk::TalkAction;
pub use word::CommandWord;

/// The text of an encoded line without its CRLF.
fn without_crlf(line: &[u8]) -> &str {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    std::str::from_utf8(line).expect("encoded lines are built from validated UTF-8")
}

#[cfg(test)]
mod tests;
