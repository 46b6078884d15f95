//! The adaptive jitter buffer: packets and `now` in, one playout decision
//! per tick out.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::config::{ConfigError, JitterConfig};
use super::delay::DelayEstimator;
use super::ring::{Ring, Stored};
use super::stats::JitterStats;
use super::unwrap::Unwrapper;
use crate::format::SAMPLE_RATE;

/// A voice packet as it comes off the wire, before any widening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicePacket {
    /// Sequence number, +1 per packet sent, wrapping.
    pub seq: u32,
    /// Capture time of the first sample, on the 48 kHz sample clock, wrapping.
    pub timestamp: u32,
    /// Set on the first packet of a talk spurt.
    pub marker: bool,
    /// The Opus packet.
    pub payload: Bytes,
}

/// A buffered packet handed back for playout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayoutFrame {
    /// Sequence number of the packet, as on the wire.
    pub seq: u32,
    /// Timestamp of the packet, as on the wire.
    pub timestamp: u32,
    /// The Opus packet.
    pub payload: Bytes,
}

/// What to play for one tick.
#[must_use = "each tick's decision must be decoded or played"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Decode this packet.
    Frame(PlayoutFrame),
    /// The frame just before this packet was lost: rebuild it from this
    /// packet's forward error correction data. The packet itself stays in the
    /// buffer and is returned as a [`Playout::Frame`] on the next tick.
    Fec(PlayoutFrame),
    /// A frame of the talk spurt is missing: let the decoder conceal it.
    Conceal,
    /// Nothing is being said: play silence.
    Silence,
}

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Stored until its turn to play.
    Buffered,
    /// Already held or already played.
    Duplicate,
    /// Its frame was already concealed or recovered.
    Late,
    /// Thrown away: its sequence number or timestamp does not fit the
    /// stream (yet; three consistent packets start a new stream).
    Discarded,
}

/// Largest sequence jump accepted from the stream's newest packet.
const SEQ_WINDOW: u64 = 4_096;
/// How far below the lateness floor a packet may claim to be, in µs.
const EARLY_SLACK_US: i64 = 1_000_000;
/// How far above the floor plus the maximum delay a packet may be, in µs.
const LATE_SLACK_US: i64 = 2_000_000;
/// Consistent out-of-stream packets needed to start following a new stream.
const RESYNC_PACKETS: usize = 3;
/// Delay over the target plus one frame (µs) tolerated before a frame that
/// did arrive is dropped to shrink the delay. Dropping costs a packet, so
/// it is kept for large excesses; the usual way down is [`SKIP_MARGIN_US`].
const DROP_MARGIN_US: i64 = 40_000;
/// Delay over the target (µs) above which a lost frame is skipped rather
/// than concealed or recovered: that shrinks the delay by a frame for free.
const SKIP_MARGIN_US: i64 = 10_000;
/// Ticks between two frames dropped to shrink the delay during speech.
const DROP_SPACING_TICKS: u32 = 5;
/// Silence after the last packet (µs, beyond the target) that ends a spurt.
const SPURT_END_US: u64 = 200_000;

/// The next frame to play.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    seq: u64,
    ts: u64,
}

/// An adaptive jitter buffer for one incoming voice stream (sans-IO).
///
/// Call [`push`](Self::push) for each packet as it arrives and
/// [`pop`](Self::pop) once per frame duration; both take the current time,
/// which may come from a real or a virtual clock. The buffer learns how much
/// delay the network's jitter needs (see [`JitterStats::target_delay`]) and
/// steers towards it: it grows by waiting when a packet is late, and
/// shrinks by shortening silences, by skipping a lost frame instead of
/// filling it, and (rarely, as it costs a packet) by dropping one frame.
///
/// Memory is bounded by the window of sequence numbers it holds, whatever
/// the input.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    frame_samples: u64,
    frame_us: u64,
    epoch: Option<Instant>,
    seqs: Unwrapper,
    stamps: Unwrapper,
    /// Highest accepted sequence number, against which new ones are judged.
    newest: Option<u64>,
    ring: Ring,
    cursor: Option<Cursor>,
    /// Lowest held sequence number while no spurt is playing.
    pending: Option<u64>,
    /// Everything below this sequence number was played or given up.
    horizon: Option<u64>,
    /// Bit `i` set: sequence `horizon - 1 - i` was played.
    played_history: u64,
    estimator: DelayEstimator,
    /// Out-of-stream packets that agree with each other.
    resync: Vec<(VoicePacket, Instant)>,
    missing_run: u32,
    /// Frames given up while nothing newer had arrived: the sender may just
    /// have stopped talking, so they are taken back if the spurt ends.
    speculative: u64,
    ticks_since_drop: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer with the given settings.
    pub fn new(config: JitterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let frame_us = config.frame.duration().as_micros() as u64;
        let max_us = config.max_delay.as_micros() as u64;
        // Room for the maximum delay plus a second of burst, in packets.
        let capacity = (max_us + 1_000_000) / frame_us + 1;
        Ok(Self {
            config,
            frame_samples: config.frame.samples() as u64,
            frame_us,
            epoch: None,
            seqs: Unwrapper::default(),
            stamps: Unwrapper::default(),
            newest: None,
            ring: Ring::new(usize::try_from(capacity).unwrap_or(1024)),
            cursor: None,
            pending: None,
            horizon: None,
            played_history: 0,
            estimator: DelayEstimator::new(max_us, config.quantile),
            resync: Vec::with_capacity(RESYNC_PACKETS),
            missing_run: 0,
            speculative: 0,
            ticks_since_drop: 0,
            stats: JitterStats::default(),
        })
    }

    /// The settings this buffer was built with.
    pub fn config(&self) -> &JitterConfig {
        &self.config
    }

    /// Counters and delays so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Whether a talk spurt is being played out.
    pub fn is_playing(&self) -> bool {
        self.cursor.is_some()
    }

    /// Number of packets waiting in the buffer.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.ring.len() == 0
    }

    /// Hands the buffer a packet that arrived at `now`.
    pub fn push(&mut self, packet: VoicePacket, now: Instant) -> Arrival {
        let now_us = self.clock(now);
        self.stats.packets_received += 1;
        let seq = self.seqs.widen(packet.seq);
        let ts = self.stamps.widen(packet.timestamp);
        if !self.fits_stream(seq, ts, now_us) {
            return self.consider_resync(packet, now);
        }
        self.resync.clear();
        self.seqs.accept(seq);
        self.stamps.accept(ts);
        self.newest = Some(self.newest.map_or(seq, |newest| newest.max(seq)));
        self.estimator.observe(now_us, media_us(ts));
        self.store(Stored {
            seq,
            ts,
            raw_seq: packet.seq,
            raw_ts: packet.timestamp,
            payload: packet.payload,
        })
    }

    /// Decides what to play for the tick starting at `now`. Call once per
    /// frame duration.
    pub fn pop(&mut self, now: Instant) -> Playout {
        let now_us = self.clock(now);
        let target = self.target_us();
        self.stats.target_delay = Duration::from_micros(target);
        self.ticks_since_drop = self.ticks_since_drop.saturating_add(1);
        let Some(cursor) = self.cursor.or_else(|| self.start_spurt(now_us, target)) else {
            self.stats.current_delay = Duration::ZERO;
            self.stats.ticks_silent += 1;
            return Playout::Silence;
        };
        let delay = self.delay_us(now_us, cursor.ts);
        self.stats.current_delay = Duration::from_micros(delay.max(0).unsigned_abs());
        let target = i64::try_from(target).unwrap_or(i64::MAX);
        match self.ring.get(cursor.seq).map(|p| p.ts) {
            Some(ts) if ts > cursor.ts + self.frame_samples / 2 => {
                self.tick_in_gap(cursor, ts, delay, target)
            }
            Some(ts) => {
                let frame_us = i64::try_from(self.frame_us).unwrap_or(i64::MAX);
                let next_follows = self
                    .ring
                    .get(cursor.seq + 1)
                    .is_some_and(|next| next.ts == ts + self.frame_samples);
                if delay > target + frame_us + DROP_MARGIN_US
                    && self.ticks_since_drop >= DROP_SPACING_TICKS
                    && next_follows
                {
                    self.ring.take(cursor.seq);
                    self.stats.packets_discarded += 1;
                    self.advance(false);
                    self.ticks_since_drop = 0;
                    return self.play(cursor.seq + 1);
                }
                self.play(cursor.seq)
            }
            None => self.tick_missing(cursor, delay, target),
        }
    }

    /// Microseconds since the first call, saturating for times before it.
    fn clock(&mut self, now: Instant) -> u64 {
        let epoch = *self.epoch.get_or_insert(now);
        u64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(u64::MAX)
    }

    /// The delay to steer towards, in µs.
    fn target_us(&self) -> u64 {
        let min = self.config.min_delay.as_micros() as u64;
        let max = self.config.max_delay.as_micros() as u64;
        self.estimator.target_us().clamp(min, max)
    }

    /// How long after the fastest possible arrival the frame at `ts` plays
    /// if played at `now_us`.
    fn delay_us(&self, now_us: u64, ts: u64) -> i64 {
        let floor = self.estimator.floor().unwrap_or(0);
        signed(now_us).saturating_sub(signed(media_us(ts))).saturating_sub(floor)
    }

    /// Whether a packet belongs to the stream being followed: its sequence
    /// number is near the newest one and its timestamp agrees with its
    /// arrival time.
    fn fits_stream(&self, seq: u64, ts: u64, now_us: u64) -> bool {
        let Some(newest) = self.newest else {
            return true;
        };
        if seq.abs_diff(newest) > SEQ_WINDOW {
            return false;
        }
        let Some(floor) = self.estimator.floor() else {
            return true;
        };
        let lateness = signed(now_us).saturating_sub(signed(media_us(ts)));
        let max = signed(self.config.max_delay.as_micros() as u64);
        lateness >= floor.saturating_sub(EARLY_SLACK_US)
            && lateness <= floor.saturating_add(max).saturating_add(LATE_SLACK_US)
    }

    /// Keeps an out-of-stream packet in case a new stream is starting (a
    /// restarted sender); once enough consistent ones came, follows them.
    fn consider_resync(&mut self, packet: VoicePacket, now: Instant) -> Arrival {
        let consistent = self.resync.last().is_some_and(|(last, _)| {
            let step = packet.seq.wrapping_sub(last.seq);
            let advance = packet.timestamp.wrapping_sub(last.timestamp);
            (1..=RESYNC_PACKETS as u32).contains(&step)
                && u64::from(advance) <= u64::from(step) * u64::from(SAMPLE_RATE)
        });
        if !consistent {
            self.resync.clear();
        }
        self.resync.push((packet, now));
        if self.resync.len() < RESYNC_PACKETS {
            self.stats.packets_discarded += 1;
            return Arrival::Discarded;
        }
        self.restart_stream();
        let packets = std::mem::take(&mut self.resync);
        // The packets now count as received by the new stream.
        self.stats.packets_received -= packets.len() as u64;
        self.stats.packets_discarded -= (packets.len() - 1) as u64;
        let mut last = Arrival::Discarded;
        for (packet, arrived) in packets {
            last = self.push(packet, arrived);
        }
        last
    }

    /// Forgets the stream being followed, discarding what it left.
    fn restart_stream(&mut self) {
        self.stats.packets_discarded += self.ring.clear() as u64;
        self.seqs.reset();
        self.stamps.reset();
        self.newest = None;
        self.cursor = None;
        self.pending = None;
        self.horizon = None;
        self.played_history = 0;
        self.estimator.reset_floor();
        self.missing_run = 0;
        self.speculative = 0;
    }

    /// Files an accepted packet.
    fn store(&mut self, packet: Stored) -> Arrival {
        let seq = packet.seq;
        let past_horizon = self.cursor.map(|c| c.seq).or(self.horizon);
        if let Some(horizon) = past_horizon.filter(|&h| seq < h) {
            if let Some(cursor) = self.cursor.filter(|c| self.is_spurt_restart(c, &packet)) {
                // A new spurt continues the numbering where the sender
                // stopped; the frames given up after it were never sent.
                let rewound = cursor.seq - seq;
                self.stats.frames_lost = self.stats.frames_lost.saturating_sub(rewound);
                self.speculative = 0;
                self.played_history = forget_newest(self.played_history, rewound);
                self.cursor = Some(Cursor { seq, ts: cursor.ts });
                self.horizon = Some(seq);
            } else {
                return self.classify_past(horizon, seq);
            }
        }
        if self.ring.contains(seq) {
            self.stats.packets_duplicate += 1;
            return Arrival::Duplicate;
        }
        let capacity = self.ring.capacity();
        match self.cursor {
            Some(cursor) if seq >= cursor.seq + capacity => {
                // A gap wider than the buffer: start over at this packet.
                self.stats.packets_discarded += self.ring.clear() as u64;
                self.cursor = None;
                self.horizon = Some(seq);
                self.played_history = 0;
                self.pending = Some(seq);
            }
            Some(_) => {}
            None => match self.pending {
                Some(low) if seq >= low + capacity => {
                    self.stats.packets_discarded += self.ring.clear() as u64;
                    self.pending = Some(seq);
                }
                Some(low) if seq < low => {
                    let newest = self.newest.unwrap_or(seq);
                    if newest >= seq + capacity {
                        self.stats.packets_discarded += 1;
                        return Arrival::Discarded;
                    }
                    self.pending = Some(seq);
                }
                Some(_) => {}
                None => self.pending = Some(seq),
            },
        }
        if self.ring.insert(packet).is_some() {
            // Unreachable while held numbers stay within one window; counted
            // rather than lost if that ever breaks.
            self.stats.packets_discarded += 1;
        }
        Arrival::Buffered
    }

    /// Whether `packet`, numbered below the cursor, is in fact the first of
    /// a new spurt after frames were given up speculatively.
    fn is_spurt_restart(&self, cursor: &Cursor, packet: &Stored) -> bool {
        self.speculative > 0
            && packet.seq >= cursor.seq.saturating_sub(self.speculative)
            && packet.ts + self.frame_samples / 2 >= cursor.ts
    }

    /// Counts a packet whose slot has passed as late or duplicate.
    fn classify_past(&mut self, horizon: u64, seq: u64) -> Arrival {
        let age = horizon - seq - 1;
        if age >= u64::BITS.into() {
            self.stats.packets_discarded += 1;
            Arrival::Discarded
        } else if self.played_history & (1 << age) != 0 {
            self.stats.packets_duplicate += 1;
            Arrival::Duplicate
        } else {
            self.stats.packets_late += 1;
            Arrival::Late
        }
    }

    /// Starts playing the first waiting packet once it has waited long
    /// enough for the target delay; returns the cursor of the new spurt.
    fn start_spurt(&mut self, now_us: u64, target: u64) -> Option<Cursor> {
        let floor = self.estimator.floor().unwrap_or(0);
        let now = signed(now_us);
        let half_frame = signed(self.frame_us / 2);
        let first = loop {
            let first = self
                .pending
                .and_then(|seq| self.ring.get(seq))
                .map(|p| Cursor { seq: p.seq, ts: p.ts })?;
            let due =
                signed(media_us(first.ts)).saturating_add(floor).saturating_add(signed(target));
            if now.saturating_add(half_frame) < due {
                return None;
            }
            // Start where the target delay says, not behind it: packets held
            // up by a stall and overdue by more than a frame are skipped.
            let overdue = now > due.saturating_add(signed(self.frame_us));
            match self.next_held_after(first.seq) {
                Some(next) if overdue => {
                    self.ring.take(first.seq);
                    self.stats.packets_late += 1;
                    self.stats.frames_lost += 1;
                    self.pending = Some(next);
                }
                _ => break first,
            }
        };
        if let Some(horizon) = self.horizon {
            let skipped = first.seq.saturating_sub(horizon);
            self.played_history = u32::try_from(skipped)
                .ok()
                .and_then(|bits| self.played_history.checked_shl(bits))
                .unwrap_or(0);
        }
        self.cursor = Some(first);
        self.pending = None;
        self.missing_run = 0;
        self.speculative = 0;
        Some(first)
    }

    /// The lowest held sequence number above `seq`.
    fn next_held_after(&self, seq: u64) -> Option<u64> {
        let newest = self.newest?;
        (seq + 1..=newest).take(self.ring.capacity() as usize).find(|&s| self.ring.contains(s))
    }

    /// A tick in a gap of the timestamps (the sender sent nothing while
    /// silent): play silence, and move towards the target delay for free.
    fn tick_in_gap(&mut self, cursor: Cursor, next_ts: u64, delay: i64, target: i64) -> Playout {
        self.stats.ticks_silent += 1;
        let step = if delay > target + signed(self.frame_us) {
            let excess_frames = (delay - target).unsigned_abs() / self.frame_us;
            excess_frames * self.frame_samples
        } else if delay < target {
            0
        } else {
            self.frame_samples
        };
        let ts = (cursor.ts + step).min(next_ts);
        self.cursor = Some(Cursor { ts, ..cursor });
        Playout::Silence
    }

    /// A tick whose packet is not here.
    fn tick_missing(&mut self, cursor: Cursor, delay: i64, target: i64) -> Playout {
        self.missing_run = self.missing_run.saturating_add(1);
        if delay < target {
            // Below the target delay, a missing packet may still come:
            // wait for it, which grows the delay by one frame.
            self.stats.frames_concealed += 1;
            return Playout::Conceal;
        }
        let newer_arrived = self.newest.is_some_and(|newest| newest > cursor.seq);
        if !newer_arrived {
            let waited = u64::from(self.missing_run) * self.frame_us;
            if waited > delay.unsigned_abs() + SPURT_END_US {
                self.end_spurt(cursor);
                self.stats.ticks_silent += 1;
                return Playout::Silence;
            }
        }
        self.stats.frames_lost += 1;
        if newer_arrived {
            self.speculative = 0;
            if let Some(next) = self
                .ring
                .get(cursor.seq + 1)
                .filter(|next| next.ts == cursor.ts + self.frame_samples)
            {
                if delay > target + SKIP_MARGIN_US {
                    // Above the target: skip the lost frame instead of
                    // filling it, which shrinks the delay at no cost.
                    self.advance(false);
                    return self.play(cursor.seq + 1);
                }
                let frame = playout_frame(next);
                self.stats.frames_recovered += 1;
                self.advance(false);
                return Playout::Fec(frame);
            }
        } else {
            self.speculative += 1;
        }
        self.stats.frames_concealed += 1;
        self.advance(false);
        Playout::Conceal
    }

    /// The sender went quiet: stop playing, and take back the frames given
    /// up since the last packet, which were probably never sent.
    fn end_spurt(&mut self, cursor: Cursor) {
        // The ticks concealed since the last packet were the tail of the
        // spurt fading out, not losses.
        let tail = u64::from(self.missing_run.saturating_sub(1));
        self.stats.frames_concealed = self.stats.frames_concealed.saturating_sub(tail);
        self.stats.ticks_silent += tail;
        let seq = cursor.seq.saturating_sub(self.speculative);
        self.stats.frames_lost = self.stats.frames_lost.saturating_sub(self.speculative);
        self.played_history = forget_newest(self.played_history, self.speculative);
        self.speculative = 0;
        self.horizon = Some(seq);
        self.cursor = None;
        self.missing_run = 0;
    }

    /// Plays the held packet `seq`, which the caller checked is there.
    fn play(&mut self, seq: u64) -> Playout {
        let Some(packet) = self.ring.take(seq) else {
            return Playout::Conceal;
        };
        let frame = playout_frame(&packet);
        self.cursor = Some(Cursor { seq, ts: packet.ts });
        self.advance(true);
        self.missing_run = 0;
        self.speculative = 0;
        self.stats.frames_played += 1;
        Playout::Frame(frame)
    }

    /// Moves the cursor one frame on, remembering whether it was played.
    fn advance(&mut self, played: bool) {
        if let Some(cursor) = &mut self.cursor {
            cursor.seq += 1;
            cursor.ts += self.frame_samples;
            self.horizon = Some(cursor.seq);
        }
        self.played_history = (self.played_history << 1) | u64::from(played);
    }
}

/// `history` with its `count` newest entries removed.
fn forget_newest(history: u64, count: u64) -> u64 {
    u32::try_from(count).ok().and_then(|bits| history.checked_shr(bits)).unwrap_or(0)
}

/// Media time in µs of a widened timestamp.
fn media_us(ts: u64) -> u64 {
    ts.saturating_mul(1_000_000) / u64::from(SAMPLE_RATE)
}

/// `value` as i64, saturating.
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn playout_frame(packet: &Stored) -> PlayoutFrame {
    PlayoutFrame { seq: packet.raw_seq, timestamp: packet.raw_ts, payload: packet.payload.clone() }
}
