//! Encrypted UDP voice packets, replay protection and the sans-IO relay.
//!
//! Signalling gives each client, per scope (its room, or a call), a
//! [`SessionId`] and a fresh [`VoiceKey`]. The client's [`VoiceEndpoint`]
//! seals VOICE and KEEPALIVE datagrams under that key; the server's
//! [`Relay`] authenticates them, learns the client's address, and re-seals
//! each VOICE as a RELAY for every other member of the sender's group,
//! under each receiver's own key, naming the speaker. No member can speak
//! as another, and nothing unauthenticated is ever sent anywhere.
//!
//! The layout:
//! - `key`: session ids and keys, as signalling carries them;
//! - `packet`: the header on the wire and the checks that need no key;
//! - `aead`: ChaCha20-Poly1305 over a packet, and the nonce;
//! - `replay`: the anti-replay window;
//! - `speakers`: a client's replay windows, one per recent speaker;
//! - `endpoint`: the client side ([`VoiceEndpoint`]);
//! - `table`, `queue`, `relay`: the server side ([`Relay`]).
//!
//! `PROTOCOL.md` is the normative description of the format.

use std::time::Duration;

mod aead;
mod endpoint;
mod error;
mod key;
mod packet;
mod queue;
mod relay;
mod replay;
mod speakers;
mod table;

#[cfg(test)]
mod tests;

pub use endpoint::{ReceivedVoice, SealError, VoiceEndpoint};
pub use error::VoicePacketError;
pub use key::{CredentialError, SessionId, SessionIds, VoiceKey};
pub use packet::{
    HEADER_LEN, MAX_DATAGRAM_LEN, MAX_OPUS_LEN, MIN_DATAGRAM_LEN, PacketKind, TAG_LEN, VERSION,
};
pub use queue::Transmit;
pub use relay::{GroupId, Relay, RelayCommand, RelayCommandError, RelayConfig, RelayStats};
pub use replay::REPLAY_WINDOW_LEN;
pub use speakers::MAX_TRACKED_SPEAKERS;

/// How long a client may send nothing before it sends a KEEPALIVE, so that
/// its NAT binding (commonly 30 s or more for UDP) stays open.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
