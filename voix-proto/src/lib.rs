//! The Voix protocol: the reference implementation of `PROTOCOL.md`.
//!
//! Voix is a voice-and-chat system: a TCP connection carries a line-based
//! signalling protocol (`CONNECT`, `JOIN`, `MSG`, `PRIVMSG`, `TALK`, ...)
//! and UDP carries encrypted Opus voice. This crate is **sans-IO**: it never
//! touches a socket, a thread or a clock. Time comes in as an argument, and
//! output goes out through `poll_*` methods, so servers, clients, bots and
//! tests drive it however they like, deterministically.
//!
//! # Map
//!
//! - [`wire`]: the lines. [`wire::ClientCommand`] and
//!   [`wire::ServerMessage`] parse without allocating (they borrow from the
//!   line, and have nothing to drop) and encode without failing;
//!   [`wire::LineReader`] frames a byte stream into lines with a bounded
//!   length.
//! - [`Nick`], [`Room`], [`Text`], ...: validated names, so that a value
//!   that exists is valid on the wire. Each is a borrowed, `Copy` view, as
//!   `&str` is, with an owned counterpart ([`NickBuf`], [`RoomBuf`],
//!   [`TextBuf`], ...), as `String` is.
//! - [`server`]: the server core: registration, rooms, messages, calls,
//!   voice set-up, keepalive and every limit, for any number of
//!   connections.
//! - [`client`]: a client's session: the handshake, automatic `PONG`, and
//!   the user's view of their room and call, as events.
//! - [`voice`]: the encrypted UDP voice packets, the client's
//!   [`voice::VoiceEndpoint`] and the server's [`voice::Relay`].
//!
//! # Example: a client and a server core talking, no sockets
//!
//! ```
//! use std::time::Instant;
//! use voix_proto::client::{ClientEvent, ClientSession};
//! use voix_proto::server::{Server, ServerConfig};
//! use voix_proto::{Nick, RealName, Version};
//!
//! let now = Instant::now();
//! let mut server = Server::new(ServerConfig::default(), [0; 32]);
//! let conn = server.handle_connect(now);
//! let mut alice = ClientSession::new(
//!     Nick::new("Alice")?,
//!     RealName::new("Alice Liddell")?,
//!     Version::new("1.0.0")?,
//! );
//!
//! // Move bytes both ways until neither side has anything to say.
//! loop {
//!     let mut moved = false;
//!     if let Some(bytes) = alice.poll_transmit() {
//!         server.handle_input(now, conn, &bytes);
//!         moved = true;
//!     }
//!     if let Some(bytes) = server.take_output(conn) {
//!         alice.handle_input(now, &bytes);
//!         moved = true;
//!     }
//!     if !moved {
//!         break;
//!     }
//! }
//!
//! assert!(alice.is_registered());
//! assert_eq!(alice.room().map(|r| r.as_str()), Some("#Lobby"));
//! assert!(matches!(alice.poll_event(), Some(ClientEvent::Registered { .. })));
//! # Ok::<(), voix_proto::NameError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
mod name;
mod scan;
pub mod server;
pub mod voice;
pub mod wire;

pub use name::{
    MAX_NICK_LEN, MAX_REAL_NAME_LEN, MAX_ROOM_LEN, MAX_VERSION_LEN, NameError, NameKey, Nick,
    NickBuf, RealName, RealNameBuf, Room, RoomBuf, Text, TextBuf, Version, VersionBuf,
};
