//! The Voix protocol.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
mod name;
pub mod server;
pub mod voice;
pub mod wire;

pub use name::{
    MAX_NICK_LEN, MAX_REAL_NAME_LEN, MAX_ROOM_LEN, MAX_VERSION_LEN, NameError, NameKey, Nick,
    RealName, Room, Text, Version,
};
