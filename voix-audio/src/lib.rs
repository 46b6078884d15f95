//! Voix audio: the Opus codec, an adaptive jitter buffer, a mixer for group
//! voice, audio devices, and a network simulator to test them against.
//!
//! Everything speaks 48 kHz mono 16-bit audio in frames of 10, 20, 40 or
//! 60 ms ([`FrameDuration`]). Nothing here reads a clock, opens a socket or
//! spawns a task, except the devices that play in real time: the caller
//! passes `now` in, from a real clock or a virtual one, so a whole call can
//! run in a test in microseconds.
//!
//! # How the pieces fit
//!
//! ```text
//! send:    AudioSource ─▶ TransmitGate ─▶ VoiceEncoder ─▶ (seq, timestamp, marker, payload) ─▶ network
//! receive: network ─▶ Mixer::push(speaker, VoicePacket, now)
//!          every frame: Mixer::mix(now, &mut frame) ─▶ AudioSink
//! ```
//!
//! Inside the mixer each speaker has a [`VoiceReceiver`](mixer::VoiceReceiver):
//! a [`JitterBuffer`](jitter::JitterBuffer) that decides per tick whether to
//! play a packet, rebuild a lost one from the next packet's FEC, conceal, or
//! stay silent, and a [`VoiceDecoder`](codec::VoiceDecoder) that carries the
//! decision out.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::{Duration, Instant};
//!
//! use bytes::Bytes;
//! use voix_audio::codec::{EncoderConfig, VoiceEncoder};
//! use voix_audio::device::{AudioSink, NullSink, Pacing};
//! use voix_audio::jitter::VoicePacket;
//! use voix_audio::mixer::{Mixer, MixerConfig};
//! use voix_audio::signal::speech_like;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut encoder = VoiceEncoder::new(EncoderConfig::default())?;
//! let mut mixer = Mixer::new(MixerConfig::default())?;
//! let mut speaker = NullSink::new(Pacing::Unpaced);
//! let frame = EncoderConfig::default().frame;
//!
//! // A virtual clock: one tick per 20 ms frame, packets 40 ms in transit.
//! let start = Instant::now();
//! let speech = speech_like(1, 1.0);
//! let mut network = VecDeque::new();
//! let mut out = vec![0i16; frame.samples()];
//! for (tick, captured) in speech.chunks_exact(frame.samples()).enumerate() {
//!     let now = start + frame.duration() * tick as u32;
//!     if let Some(encoded) = encoder.encode(captured)? {
//!         let packet = VoicePacket {
//!             seq: encoded.seq,
//!             timestamp: encoded.timestamp,
//!             marker: encoded.marker,
//!             payload: Bytes::copy_from_slice(encoded.payload),
//!         };
//!         network.push_back((now + Duration::from_millis(40), packet));
//!     }
//!     while network.front().is_some_and(|(arrival, _)| *arrival <= now) {
//!         let (_, packet) = network.pop_front().expect("front exists");
//!         mixer.push(7, packet, now)?;
//!     }
//!     mixer.mix(now, &mut out)?;
//!     speaker.write_frame(&out)?;
//! }
//! let (id, stats) = mixer.speakers().next().expect("speaker 7 is mixed");
//! assert_eq!(id, 7);
//! assert!(stats.frames_played > 40);
//! assert_eq!(stats.packets_late, 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`codec`]: Opus encoder and decoder (FEC, DTX, concealment).
//! - [`jitter`]: the sans-IO adaptive jitter buffer and its statistics.
//! - [`mixer`]: per-speaker receivers mixed into one stream; who is talking.
//! - [`device`]: [`AudioSource`](device::AudioSource) and
//!   [`AudioSink`](device::AudioSink) for cpal, WAV files and null audio.
//! - [`vad`] and [`gate`]: voice activity detection, push-to-talk and mute.
//! - [`netsim`]: a seeded network model and the packet trace format.
//! - [`quality`] and [`signal`]: measures (segmental SNR) and test signals.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codec;
pub mod device;
pub mod format;
pub mod gate;
pub mod jitter;
pub mod mixer;
pub mod netsim;
pub mod quality;
pub mod signal;
pub mod vad;

pub use format::{FrameDuration, MAX_PACKET_SAMPLES, SAMPLE_RATE};

/// The types a client moves into a tokio task or a thread must be `Send`.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<codec::VoiceEncoder>();
    assert_send::<codec::VoiceDecoder>();
    assert_send::<jitter::JitterBuffer>();
    assert_send::<mixer::Mixer>();
    assert_send::<gate::TransmitGate>();
    assert_send::<device::WavSource>();
    assert_send::<device::WavSink>();
    assert_send::<netsim::NetworkSim>();
};
