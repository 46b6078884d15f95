//! The adaptive jitter buffer.
//!
//! Sans-IO: [`JitterBuffer::push`] takes a [`VoicePacket`] and the time it
//! arrived; [`JitterBuffer::pop`] is called once per frame and returns a
//! [`Playout`] decision. Nothing here reads a clock, sleeps or spawns.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use bytes::Bytes;
//! use voix_audio::jitter::{JitterBuffer, JitterConfig, Playout, VoicePacket};
//!
//! let config = JitterConfig { min_delay: Duration::from_millis(20), ..JitterConfig::default() };
//! let mut buffer = JitterBuffer::new(config)?;
//! let start = Instant::now();
//! let packet = |seq: u32| VoicePacket {
//!     seq,
//!     timestamp: seq * 960,
//!     marker: seq == 0,
//!     payload: Bytes::from_static(b"opus"),
//! };
//! // One tick per 20 ms frame; packet k arrives at tick k + 2; packet 1 is lost.
//! let mut decisions = Vec::new();
//! for tick in 0..6u32 {
//!     let now = start + Duration::from_millis(20) * tick;
//!     if tick >= 2 && tick != 3 {
//!         let _ = buffer.push(packet(tick - 2), now);
//!     }
//!     decisions.push(buffer.pop(now));
//! }
//! assert!(matches!(decisions[2], Playout::Silence), "waiting for the 20 ms minimum delay");
//! assert!(matches!(&decisions[3], Playout::Frame(f) if f.seq == 0));
//! assert!(matches!(&decisions[4], Playout::Fec(f) if f.seq == 2), "1 is rebuilt from 2");
//! assert!(matches!(&decisions[5], Playout::Frame(f) if f.seq == 2));
//! # Ok::<(), voix_audio::jitter::ConfigError>(())
//! ```
//!
//! # How it decides
//!
//! - Sequence numbers and timestamps are widened to `u64` against the
//!   newest accepted packet, so wrap-around is invisible. A packet whose
//!   number is far from the stream's, or whose timestamp disagrees with its
//!   arrival time by seconds, is discarded; three such packets that agree
//!   with each other are taken to be a restarted sender and followed.
//! - Each packet's *lateness* (arrival minus timestamp) feeds the delay
//!   estimator: jitter is lateness above the lowest of the last few
//!   seconds (so a lasting rise in network delay is latency, not jitter,
//!   within seconds), and the target
//!   delay is the best trade-off between late packets and delay over a
//!   forgetting histogram (see the constants in `delay.rs`).
//! - Per tick: the packet due is played. If it is missing and the buffer
//!   is below its target, or nothing newer came and the packet before
//!   came too late, it waits (concealing, which grows the delay by a
//!   frame). Otherwise the frame is given up: rebuilt from the next
//!   packet's FEC if that is here, skipped outright if the buffer is well
//!   above its target (shedding a frame of delay), or concealed.
//! - Pauses follow the numbering rule of
//!   [`VoiceEncoder`](crate::codec::VoiceEncoder) (sequence +1 per packet
//!   sent, timestamp +1 frame per frame captured, marker after a pause).
//!   While nothing newer than the last packet has come, a missing frame
//!   may be a pause or a loss: it is concealed for at most 60 ms, then
//!   played as silence. A packet that then continues the numbering with
//!   its timestamp further on (or carries the marker) shows it was a
//!   pause: the frames given up are not counted as lost nor the tail as
//!   concealed, and the rest of the pause is silence, the place to
//!   shorten or lengthen the delay freely (so a DTX gap or a voice
//!   activity pause never grows it). Long silence ends the talk spurt; the
//!   next packet starts a new one at the target delay.
//! - In continuous speech, a delay far above the target sheds one frame
//!   that did arrive at most every five ticks; a delay a frame or more
//!   above the target for two seconds sheds one quiet frame (a packet no
//!   larger than usual), and again two seconds later if still above.

mod buffer;
mod config;
mod delay;
mod ring;
mod stats;
mod unwrap;

#[cfg(test)]
mod tests;

pub use buffer::{Arrival, JitterBuffer, Playout, PlayoutFrame, VoicePacket};
pub use config::{ConfigError, JitterConfig, MAX_DELAY_LIMIT};
pub use stats::JitterStats;
