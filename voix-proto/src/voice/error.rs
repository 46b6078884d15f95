//! Why a received voice datagram was refused.

use super::packet::MIN_DATAGRAM_LEN;
use super::packet::PacketKind;

/// A fault in a datagram received from the network. Every refused datagram
/// is dropped whole: nothing in it is used and it changes no state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoicePacketError {
    /// Shorter than a header and a tag.
    #[error("datagram of {len} bytes is shorter than the {MIN_DATAGRAM_LEN}-byte minimum")]
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// Longer than its kind allows.
    #[error("datagram of {len} bytes exceeds the {max}-byte maximum")]
    TooLong {
        /// The datagram's length.
        len: usize,
        /// The longest datagram of its kind.
        max: usize,
    },
    /// A version other than [`VERSION`](super::VERSION).
    #[error("unsupported voice packet version {0}")]
    BadVersion(u8),
    /// A kind byte that names no [`PacketKind`].
    #[error("unknown voice packet kind {0}")]
    UnknownKind(u8),
    /// A kind that does not travel in this direction (a RELAY sent to the
    /// server, a VOICE sent to a client).
    #[error("{0} packet is not accepted in this direction")]
    UnexpectedKind(PacketKind),
    /// Flag bits set that the kind does not allow.
    #[error("invalid flags {0:#06x}")]
    BadFlags(u16),
    /// A speaker id on VOICE or KEEPALIVE, or none on RELAY.
    #[error("invalid speaker field on a {0} packet")]
    BadSpeaker(PacketKind),
    /// A KEEPALIVE with a payload.
    #[error("keepalive packet carries a payload")]
    KeepalivePayload,
    /// The session field names no session known here.
    #[error("unknown voice session {0}")]
    UnknownSession(u32),
    /// The tag does not match: wrong key, or a modified packet.
    #[error("voice packet failed authentication")]
    AuthenticationFailed,
    /// This sequence number was already accepted.
    #[error("sequence {0} was already received")]
    Replayed(u32),
    /// This sequence number is older than the replay window.
    #[error("sequence {0} is older than the replay window")]
    TooOld(u32),
    /// An authenticated RELAY whose plaintext does not start with a valid
    /// nick prefix.
    #[error("relay packet has a malformed speaker nick")]
    BadRelayBody,
}
