//! One incoming voice: a jitter buffer and a decoder.

use std::time::{Duration, Instant};

use crate::codec::{CodecError, Rendered, VoiceDecoder};
use crate::jitter::{Arrival, ConfigError, JitterBuffer, JitterConfig, JitterStats, VoicePacket};
use crate::quality::rms_dbfs;

/// A frame louder than this (dBFS) counts as someone talking.
pub const TALKING_DBFS: f64 = -45.0;

/// Why a receiver could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReceiverError {
    /// The jitter buffer settings are unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The decoder could not be created.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Everything needed to play one remote speaker: packets in, 48 kHz frames
/// out. Use it directly for a one-to-one call; a [`Mixer`](super::Mixer)
/// keeps one per speaker in a room.
#[derive(Debug)]
pub struct VoiceReceiver {
    buffer: JitterBuffer,
    decoder: VoiceDecoder,
    last_packet: Option<Instant>,
    last_voice: Option<Instant>,
}

impl VoiceReceiver {
    /// A receiver whose buffer follows `config`.
    pub fn new(config: JitterConfig) -> Result<Self, ReceiverError> {
        Ok(Self {
            buffer: JitterBuffer::new(config)?,
            decoder: VoiceDecoder::new(config.frame)?,
            last_packet: None,
            last_voice: None,
        })
    }

    /// Hands over a packet that arrived at `now`.
    pub fn push(&mut self, packet: VoicePacket, now: Instant) -> Arrival {
        self.last_packet = Some(now);
        self.buffer.push(packet, now)
    }

    /// Fills `out` (one frame) with what plays at `now`.
    pub fn pull(&mut self, now: Instant, out: &mut [i16]) -> Result<Rendered, CodecError> {
        let playout = self.buffer.pop(now);
        let rendered = self.decoder.render(&playout, out)?;
        if matches!(rendered, Rendered::Voice | Rendered::Recovered) && rms_dbfs(out) > TALKING_DBFS
        {
            self.last_voice = Some(now);
        }
        Ok(rendered)
    }

    /// The jitter buffer's statistics.
    pub fn stats(&self) -> JitterStats {
        self.buffer.stats()
    }

    /// Whether a loud frame played within `hangover` before `now`.
    pub fn is_talking(&self, now: Instant, hangover: Duration) -> bool {
        self.last_voice.is_some_and(|at| now.saturating_duration_since(at) <= hangover)
    }

    /// Whether no packet came within `timeout` before `now`.
    pub fn is_idle(&self, now: Instant, timeout: Duration) -> bool {
        self.last_packet.is_none_or(|at| now.saturating_duration_since(at) > timeout)
    }
}
