//! Voice, sans-IO: the microphone's frames become sealed VOICE datagrams,
//! received RELAY datagrams become the mixed sound of everyone talking.
//!
//! [`VoiceEngine`] never reads a clock or touches a socket: the audio
//! threads hand it captured frames and ask it for frames to play, the
//! network thread hands it datagrams, and everybody drains
//! [`VoiceEngine::poll_transmit`] into the UDP socket. Tests drive two
//! engines through `voix-proto`'s relay on a virtual clock.
//!
//! ```
//! use std::time::Instant;
//! use voix_audio::mixer::MixerConfig;
//! use voix_audio::vad::VadConfig;
//! use voix_client::voice::{TransmitModeArg, VoiceEngine, VoiceSettings, encoder_config};
//! use voix_proto::client::VoiceCredential;
//! use voix_proto::voice::{SessionId, VoiceKey};
//! use voix_proto::wire::VoiceScope;
//! use voix_proto::Room;
//!
//! let settings = VoiceSettings { mode: TransmitModeArg::Always, ..VoiceSettings::default() };
//! let mut engine =
//!     VoiceEngine::new(encoder_config(), MixerConfig::default(), VadConfig::default(), settings)?;
//! let now = Instant::now();
//! // The server's `VOICE #Lobby: 1 <key>` line, as the session hands it over.
//! let credential = VoiceCredential {
//!     scope: VoiceScope::Room(Room::new("#Lobby")?).into_owned(),
//!     session: SessionId::new(1).expect("nonzero"),
//!     key: VoiceKey::from_bytes([7; 32]),
//! };
//! engine.add_credential(now, &credential);
//! let keepalive = engine.poll_transmit().expect("sent at once");
//! assert_eq!(keepalive.len(), 36);
//!
//! // One captured 20 ms frame becomes one sealed VOICE datagram.
//! let frame: Vec<i16> = (0..960).map(|i| ((i % 48) as i16 - 24) * 400).collect();
//! engine.handle_capture(now, &frame);
//! let voice = engine.poll_transmit().expect("a voice packet");
//! assert_eq!(voice[1], 1, "kind VOICE");
//!
//! // Playback asks for one mixed frame per tick; nobody talks yet.
//! let mut out = vec![0; engine.frame_samples()];
//! engine.render(now, &mut out)?;
//! assert!(out.iter().all(|&s| s == 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod engine;
mod loss;
mod settings;

#[cfg(test)]
mod tests;

pub use engine::{ReceiveError, VoiceEngine, VoiceError, VoiceStatus};
pub use settings::{TransmitModeArg, VoiceSettings};

use voix_audio::codec::EncoderConfig;

/// The client's encoder: `voix-audio`'s defaults (20 ms frames, 24 kb/s,
/// in-band FEC, DTX). DTX saves packets in the quiet moments the gate lets
/// through; receivers play those gaps as silence, not as loss.
pub fn encoder_config() -> EncoderConfig {
    EncoderConfig::default()
}
