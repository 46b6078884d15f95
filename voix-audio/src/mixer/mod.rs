//! Group voice: one receiver per speaker, mixed into one stream.

mod limiter;
mod receiver;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::{Duration, Instant};

pub use receiver::{ReceiverError, TALKING_DBFS, VoiceReceiver};

use crate::codec::CodecError;
use crate::jitter::{Arrival, JitterConfig, JitterStats, VoicePacket};

/// Identifies a speaker in a room (assigned by the server).
pub type SpeakerId = u32;

/// Settings of a [`Mixer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixerConfig {
    /// Settings of each speaker's jitter buffer; its frame is the mix's.
    pub jitter: JitterConfig,
    /// A speaker that sent nothing for this long is dropped.
    pub idle_timeout: Duration,
    /// A speaker counts as talking until this long after its last loud frame.
    pub talking_hangover: Duration,
    /// Most speakers mixed at once; packets from more are refused.
    pub max_speakers: usize,
}

impl Default for MixerConfig {
    fn default() -> Self {
        Self {
            jitter: JitterConfig::default(),
            idle_timeout: Duration::from_secs(5),
            talking_hangover: Duration::from_millis(300),
            max_speakers: 32,
        }
    }
}

/// Why the mixer refused something.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MixerError {
    /// A new speaker's receiver could not be made.
    #[error(transparent)]
    Receiver(#[from] ReceiverError),
    /// Already mixing the maximum number of speakers.
    #[error("already mixing {limit} speakers")]
    TooManySpeakers {
        /// The configured maximum.
        limit: usize,
    },
    /// The output buffer is not one frame long.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Mixes the voices of a room: feed it every speaker's packets, and pull
/// one mixed 48 kHz mono frame per tick.
#[derive(Debug)]
pub struct Mixer {
    config: MixerConfig,
    speakers: BTreeMap<SpeakerId, VoiceReceiver>,
    voice: Vec<i16>,
    sum: Vec<i32>,
}

impl Mixer {
    /// A mixer with `config`; fails if its jitter settings are unusable.
    pub fn new(config: MixerConfig) -> Result<Self, MixerError> {
        config.jitter.validate().map_err(ReceiverError::from)?;
        let samples = config.jitter.frame.samples();
        Ok(Self {
            config,
            speakers: BTreeMap::new(),
            voice: vec![0; samples],
            sum: vec![0; samples],
        })
    }

    /// Hands over a packet from `speaker` that arrived at `now`; a new
    /// speaker gets a receiver of its own.
    pub fn push(
        &mut self,
        speaker: SpeakerId,
        packet: VoicePacket,
        now: Instant,
    ) -> Result<Arrival, MixerError> {
        let full = self.speakers.len() >= self.config.max_speakers;
        let receiver = match self.speakers.entry(speaker) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(_) if full => {
                return Err(MixerError::TooManySpeakers { limit: self.config.max_speakers });
            }
            Entry::Vacant(entry) => entry.insert(VoiceReceiver::new(self.config.jitter)?),
        };
        Ok(receiver.push(packet, now))
    }

    /// Fills `out` (one frame) with every speaker's voice at `now`, and
    /// drops speakers idle for longer than the timeout.
    pub fn mix(&mut self, now: Instant, out: &mut [i16]) -> Result<(), MixerError> {
        if out.len() != self.sum.len() {
            return Err(CodecError::FrameLength { expected: self.sum.len(), got: out.len() }.into());
        }
        let timeout = self.config.idle_timeout;
        self.speakers.retain(|_, receiver| !receiver.is_idle(now, timeout));
        self.sum.fill(0);
        for receiver in self.speakers.values_mut() {
            receiver.pull(now, &mut self.voice)?;
            add_voice(&mut self.sum, &self.voice);
        }
        for (out, &sum) in out.iter_mut().zip(&self.sum) {
            *out = limiter::soft_limit(sum);
        }
        Ok(())
    }

    /// The speakers talking at `now` (a loud frame within the hangover),
    /// in ascending order.
    pub fn talking(&self, now: Instant) -> impl Iterator<Item = SpeakerId> + '_ {
        let hangover = self.config.talking_hangover;
        self.speakers.iter().filter(move |(_, r)| r.is_talking(now, hangover)).map(|(id, _)| *id)
    }

    /// Every speaker being mixed, with its buffer's statistics.
    pub fn speakers(&self) -> impl Iterator<Item = (SpeakerId, JitterStats)> + '_ {
        self.speakers.iter().map(|(id, r)| (*id, r.stats()))
    }

    /// Stops mixing `speaker` (who left the room).
    pub fn remove(&mut self, speaker: SpeakerId) {
        self.speakers.remove(&speaker);
    }
}

/// Adds `voice` into `sum`, saturating: `max_speakers` is the caller's
/// choice, and from 65 537 full-scale voices on an i32 sum would overflow;
/// the limiter bends a saturated sum to its ceiling all the same.
fn add_voice(sum: &mut [i32], voice: &[i16]) {
    for (sum, &sample) in sum.iter_mut().zip(voice) {
        *sum = sum.saturating_add(i32::from(sample));
    }
}

#[cfg(test)]
mod tests;
