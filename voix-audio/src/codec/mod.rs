//! Opus for speech: 48 kHz mono, in-band FEC, DTX and loss concealment.
//!
//! [`VoiceEncoder`] turns frames of captured audio into numbered packets;
//! [`VoiceDecoder`] turns the jitter buffer's [`Playout`](crate::jitter::Playout)
//! decisions back into audio.
//!
//! How much FEC the encoder adds follows its expected loss: feed it the
//! loss the far end measures ([`JitterStats::loss_rate`](crate::jitter::JitterStats::loss_rate),
//! carried back by whatever feedback the client has) through
//! [`VoiceEncoder::set_expected_loss_rate`] (or a whole percent through
//! [`VoiceEncoder::set_expected_loss`]), say once a second:
//!
//! ```
//! use voix_audio::codec::{EncoderConfig, VoiceEncoder};
//! use voix_audio::jitter::JitterStats;
//!
//! let mut encoder = VoiceEncoder::new(EncoderConfig::default())?;
//! // What the far end's receiver reported: 3 frames lost of 200.
//! let far_end = JitterStats { frames_played: 197, frames_lost: 3, ..JitterStats::default() };
//! encoder.set_expected_loss_rate(far_end.loss_rate())?;
//! assert_eq!(encoder.expected_loss(), 2, "1.5 % rounds up");
//! # Ok::<(), voix_audio::codec::CodecError>(())
//! ```
//!
//! Packet numbering across pauses follows one rule on both sides; see
//! "Numbering" under [`VoiceEncoder`].

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
