//! Opus for speech: 48 kHz mono, in-band FEC, DTX and loss concealment.
//!
//! [`VoiceEncoder`] turns frames of captured audio into numbered packets;
//! [`VoiceDecoder`] turns the jitter buffer's [`Playout`](crate::jitter::Playout)
//! decisions back into audio.
//!
//! How much FEC the encoder adds follows its expected loss: feed it the
//! loss the far end measures ([`JitterStats::loss_rate`](crate::jitter::JitterStats::loss_rate),
//! carried back by whatever feedback the client has) through
//! [`VoiceEncoder::set_expected_loss`].

mod decoder;
mod encoder;
mod error;

#[cfg(test)]
mod tests;

pub use decoder::{Rendered, VoiceDecoder};
pub use encoder::{EncodedFrame, EncoderConfig, VoiceEncoder};
pub use error::CodecError;

/// Lowest bitrate Opus accepts, in bits per second.
pub const MIN_BITRATE: u32 = 6_000;
/// Highest bitrate Opus accepts for one channel, in bits per second.
pub const MAX_BITRATE: u32 = 510_000;
