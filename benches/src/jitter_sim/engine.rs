//! Replaying a trace through a playout buffer on a virtual clock.

use std::time::{Duration, Instant};

use bytes::Bytes;
use voix_audio::jitter::{JitterBuffer, JitterConfig, Playout, VoicePacket};
use voix_audio::netsim::Trace;

use super::speex::{SpeexJitterBuffer, SpeexPlayout};

/// What a buffer did in one tick, in terms of the trace's packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    /// Played packet `seq`.
    Played {
        /// Sequence number of the packet.
        seq: u32,
        /// Its payload.
        payload: Bytes,
    },
    /// Rebuilt lost frame `seq` from the FEC data in `next`, the next packet.
    Recovered {
        /// Sequence number of the lost frame.
        seq: u32,
        /// Payload of the packet after it.
        next: Bytes,
    },
    /// Concealed a missing frame.
    Concealed,
    /// Played silence (no talk spurt).
    Silent,
}

/// A jitter buffer under test.
pub trait Contender {
    /// Short name for tables.
    fn name(&self) -> &'static str;
    /// A packet arrives at `at_us` on the receiver's clock.
    fn arrive(&mut self, packet: VoicePacket, at_us: u64);
    /// The tick at `at_us`: what to play.
    fn tick(&mut self, at_us: u64) -> Tick;
}

/// Voix's [`JitterBuffer`] on a virtual clock.
#[derive(Debug)]
pub struct Voix {
    buffer: JitterBuffer,
    origin: Instant,
}

impl Voix {
    /// A buffer with `config`.
    pub fn new(config: JitterConfig) -> Result<Self, voix_audio::jitter::ConfigError> {
        Ok(Self { buffer: JitterBuffer::new(config)?, origin: Instant::now() })
    }

    /// The buffer, for its statistics.
    pub fn buffer(&self) -> &JitterBuffer {
        &self.buffer
    }
}

impl Contender for Voix {
    fn name(&self) -> &'static str {
        "voix"
    }

    fn arrive(&mut self, packet: VoicePacket, at_us: u64) {
        let _ = self.buffer.push(packet, self.origin + Duration::from_micros(at_us));
    }

    fn tick(&mut self, at_us: u64) -> Tick {
        match self.buffer.pop(self.origin + Duration::from_micros(at_us)) {
            Playout::Frame(frame) => Tick::Played { seq: frame.seq, payload: frame.payload },
            Playout::Fec(next) => {
                Tick::Recovered { seq: next.seq.wrapping_sub(1), next: next.payload }
            }
            Playout::Conceal => Tick::Concealed,
            Playout::Silence => Tick::Silent,
        }
    }
}

/// The speexdsp jitter buffer with default settings. Payloads stay on
/// this side of the FFI, looked up by the packet's tag.
#[derive(Debug)]
pub struct Speex {
    buffer: SpeexJitterBuffer,
    payloads: Vec<Option<Bytes>>,
    started: bool,
}

impl Speex {
    /// A buffer for packets `step` samples long.
    pub fn new(step: u32) -> Option<Self> {
        Some(Self { buffer: SpeexJitterBuffer::new(step)?, payloads: Vec::new(), started: false })
    }
}

impl Contender for Speex {
    fn name(&self) -> &'static str {
        "speexdsp"
    }

    fn arrive(&mut self, packet: VoicePacket, _at_us: u64) {
        let index = packet.seq as usize;
        if self.payloads.len() <= index {
            self.payloads.resize(index + 1, None);
        }
        self.payloads[index] = Some(packet.payload);
        self.buffer.put(packet.timestamp, packet.seq);
        self.started = true;
    }

    fn tick(&mut self, _at_us: u64) -> Tick {
        if !self.started {
            return Tick::Silent;
        }
        match self.buffer.tick() {
            SpeexPlayout::Packet(seq) => Tick::Played {
                seq,
                payload: self.payloads.get(seq as usize).cloned().flatten().unwrap_or_default(),
            },
            SpeexPlayout::Missing | SpeexPlayout::Insertion => Tick::Concealed,
        }
    }
}

/// One tick of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickRecord {
    /// When the tick happened, µs on the receiver's clock.
    pub at_us: u64,
    /// What was played.
    pub tick: Tick,
}

/// Replays `trace` through `contender`: each packet arrives at its trace
/// time (with timestamp `seq * frame samples` and the payload
/// `payload(seq)`), and a tick happens every frame from time 0 until a
/// second after the last arrival. Arrivals at a tick's time come first.
pub fn replay(
    trace: &Trace,
    contender: &mut dyn Contender,
    payload: &dyn Fn(u32) -> Bytes,
) -> Vec<TickRecord> {
    let mut arrivals: Vec<(u64, u32)> =
        trace.records.iter().filter_map(|r| r.arrival_us.map(|at| (at, r.seq))).collect();
    arrivals.sort_unstable();
    let frame_us = trace.frame.duration().as_micros() as u64;
    let samples = trace.frame.samples() as u32;
    let end = arrivals.last().map_or(0, |(at, _)| *at) + 1_000_000;
    let mut arrivals = arrivals.into_iter().peekable();
    let mut ticks = Vec::new();
    let mut at_us = 0;
    while at_us <= end {
        while let Some((arrived, seq)) = arrivals.next_if(|(at, _)| *at <= at_us) {
            let packet = VoicePacket {
                seq,
                timestamp: seq.wrapping_mul(samples),
                marker: seq == 0,
                payload: payload(seq),
            };
            contender.arrive(packet, arrived);
        }
        ticks.push(TickRecord { at_us, tick: contender.tick(at_us) });
        at_us += frame_us;
    }
    ticks
}
