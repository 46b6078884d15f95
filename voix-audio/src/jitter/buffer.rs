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
/// How long (µs) the delay must stay a frame or more above the target in
/// continuous speech before one quiet frame is dropped to bring it down.
const SHRINK_AFTER_US: u64 = 2_000_000;
/// Silence after the last packet (µs, beyond the target) that ends a spurt.
const SPURT_END_US: u64 = 200_000;
/// Longest concealment (µs) after the last packet while nothing newer has
/// arrived. Beyond it the sender has most likely paused (voice activity
/// gate, DTX), so the buffer plays silence while it waits to find out.
const CONCEAL_TAIL_US: u64 = 60_000;

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
    /// Ticks concealed since the last packet while nothing newer had
    /// arrived: counted as silence instead if the sender had paused.
    tail_concealed: u64,
    ticks_since_drop: u32,
    /// A packet came after its frame was given up, and no frame has played
    /// since: the delay is too short by a little (a receiver clock faster
    /// than the sender's shows just so), so the next missing frame is
    /// waited for rather than given up too.
    came_late: bool,
    /// How long the delay has been above the target during speech, in µs.
    excess_us: u64,
    /// The usual payload size, to tell quiet frames from loud ones.
    payload_mean: PayloadMean,
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
            tail_concealed: 0,
            ticks_since_drop: 0,
            came_late: false,
            excess_us: 0,
            payload_mean: PayloadMean::default(),
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
        let marker = packet.marker;
        let stored = Stored {
            seq,
            ts,
            raw_seq: packet.seq,
            raw_ts: packet.timestamp,
            payload: packet.payload,
        };
        self.store(stored, marker)
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
            Some(ts) => self.tick_with_packet(cursor, ts, delay, target),
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
        self.tail_concealed = 0;
    }

    /// Files an accepted packet.
    fn store(&mut self, packet: Stored, marker: bool) -> Arrival {
        let seq = packet.seq;
        if let Some(cursor) = self.cursor.filter(|c| self.is_spurt_restart(c, &packet, marker)) {
            self.restart_spurt(cursor, seq, marker);
        }
        let past_horizon = self.cursor.map(|c| c.seq).or(self.horizon);
        if let Some(horizon) = past_horizon.filter(|&h| seq < h) {
            return self.classify_past(horizon, seq);
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

    /// Whether `packet` starts a new talk spurt while the buffer, having
    /// heard nothing since the last packet, is filling the pause: it
    /// continues the numbering at or after the first frame given up (those
    /// frames were never sent), or it skips ahead with the marker set; and
    /// its timestamp is not behind the cursor.
    fn is_spurt_restart(&self, cursor: &Cursor, packet: &Stored, marker: bool) -> bool {
        let resumed = cursor.seq.saturating_sub(self.speculative);
        let continues = if packet.seq < cursor.seq {
            packet.seq >= resumed
        } else {
            marker && packet.seq > cursor.seq
        };
        self.missing_run > 0
            && self.ring.len() == 0
            && continues
            && packet.ts + self.frame_samples / 2 >= cursor.ts
    }

    /// Moves the cursor back (or on) to `seq`, the first packet of a new
    /// spurt: the frames given up since the last packet were a pause, not
    /// loss (all of them if the packet is marked; otherwise those from
    /// `seq` on). The cursor keeps its timestamp; the next tick sees the
    /// gap up to the new packet and steers the delay in it.
    fn restart_spurt(&mut self, cursor: Cursor, seq: u64, marker: bool) {
        let forgiven =
            if marker || seq >= cursor.seq { self.speculative } else { cursor.seq - seq };
        self.stats.frames_lost = self.stats.frames_lost.saturating_sub(forgiven);
        let history = forget_newest(self.played_history, forgiven);
        self.played_history =
            push_unplayed(history, seq.saturating_sub(cursor.seq.saturating_sub(forgiven)));
        self.forgive_tail();
        self.speculative = 0;
        self.cursor = Some(Cursor { seq, ts: cursor.ts });
        self.horizon = Some(seq);
    }

    /// The sender had paused: the ticks concealed since its last packet
    /// were the fade-out of its talk spurt, not loss.
    fn forgive_tail(&mut self) {
        let tail = std::mem::take(&mut self.tail_concealed);
        self.stats.frames_concealed = self.stats.frames_concealed.saturating_sub(tail);
        self.stats.ticks_silent += tail;
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
            self.came_late = true;
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
            self.played_history = push_unplayed(self.played_history, skipped);
        }
        self.cursor = Some(first);
        self.excess_us = 0;
        self.pending = None;
        self.missing_run = 0;
        self.speculative = 0;
        self.tail_concealed = 0;
        Some(first)
    }

    /// The lowest held sequence number above `seq`.
    fn next_held_after(&self, seq: u64) -> Option<u64> {
        let newest = self.newest?;
        (seq + 1..=newest).take(self.ring.capacity() as usize).find(|&s| self.ring.contains(s))
    }

    /// A tick whose packet is here: play it, or drop it to shrink the delay.
    ///
    /// Dropping costs a packet, so it needs either a large excess (more than
    /// [`DROP_MARGIN_US`] over the target and a frame; then every
    /// [`DROP_SPACING_TICKS`]) or a small one that lasted
    /// [`SHRINK_AFTER_US`] (then one quiet frame, one no larger than the
    /// stream's usual packet, at most once per that time). Either way the
    /// next frame must have arrived and follow on, so the decoder goes
    /// straight on from one real frame to the next.
    fn tick_with_packet(&mut self, cursor: Cursor, ts: u64, delay: i64, target: i64) -> Playout {
        let frame_us = signed(self.frame_us);
        if delay > target + frame_us / 2 {
            self.excess_us = self.excess_us.saturating_add(self.frame_us);
        } else {
            self.excess_us = 0;
        }
        let next_follows =
            self.ring.get(cursor.seq + 1).is_some_and(|next| next.ts == ts + self.frame_samples);
        let quiet =
            self.ring.get(cursor.seq).is_some_and(|p| self.payload_mean.is_quiet(p.payload.len()));
        let far_above = delay > target + frame_us + DROP_MARGIN_US
            && self.ticks_since_drop >= DROP_SPACING_TICKS;
        let long_above = self.excess_us >= SHRINK_AFTER_US && quiet;
        if next_follows && (far_above || long_above) {
            self.ring.take(cursor.seq);
            self.stats.packets_discarded += 1;
            self.advance(false);
            self.ticks_since_drop = 0;
            self.excess_us = 0;
            return self.play(cursor.seq + 1);
        }
        self.play(cursor.seq)
    }

    /// A tick in a gap of the timestamps (the sender sent nothing while
    /// silent): play silence, and move towards the target delay for free.
    ///
    /// The delay is brought to within half a frame of the target, as a
    /// spurt starting from silence would be: below it, the media clock
    /// holds for a tick; above it, the silence in excess is skipped, and
    /// if that reaches the next packet, the packet plays at once.
    fn tick_in_gap(&mut self, cursor: Cursor, next_ts: u64, delay: i64, target: i64) -> Playout {
        self.forgive_tail();
        self.missing_run = 0;
        self.excess_us = 0;
        let half_frame = signed(self.frame_us / 2);
        let excess_frames = if delay > target + half_frame {
            (delay - target + half_frame).unsigned_abs() / self.frame_us
        } else {
            0
        };
        let ts = cursor.ts + excess_frames * self.frame_samples;
        if ts + self.frame_samples / 2 >= next_ts {
            return self.play(cursor.seq);
        }
        self.stats.ticks_silent += 1;
        let next = if delay + half_frame < target { ts } else { ts + self.frame_samples };
        self.cursor = Some(Cursor { ts: next, ..cursor });
        Playout::Silence
    }

    /// A tick whose packet is not here.
    fn tick_missing(&mut self, cursor: Cursor, delay: i64, target: i64) -> Playout {
        self.missing_run = self.missing_run.saturating_add(1);
        // The network is not calm: no time to shrink the delay.
        self.excess_us = 0;
        let newer_arrived = self.newest.is_some_and(|newest| newest > cursor.seq);
        if newer_arrived {
            // The stream went on: what was concealed was loss after all.
            self.tail_concealed = 0;
        }
        // Right after a packet came too late, the one missing now is most
        // likely late by as little: giving it up would not grow the delay,
        // and every following packet would miss its tick in turn.
        let late_tail = !newer_arrived && std::mem::take(&mut self.came_late);
        if delay < target || late_tail {
            // Below the target delay, a missing packet may still come:
            // wait for it, which grows the delay by one frame.
            return self.fill_missing(newer_arrived);
        }
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
        let fill = self.fill_missing(newer_arrived);
        self.advance(false);
        fill
    }

    /// Fills a tick whose packet is missing: with concealment, or, once
    /// nothing has come for longer than [`CONCEAL_TAIL_US`], with silence
    /// (the sender has most likely paused; if not, the loss is counted all
    /// the same).
    fn fill_missing(&mut self, newer_arrived: bool) -> Playout {
        if !newer_arrived {
            if u64::from(self.missing_run) * self.frame_us > CONCEAL_TAIL_US {
                self.stats.ticks_silent += 1;
                return Playout::Silence;
            }
            self.tail_concealed += 1;
        }
        self.stats.frames_concealed += 1;
        Playout::Conceal
    }

    /// The sender went quiet: stop playing, and take back the frames given
    /// up since the last packet, which were probably never sent.
    fn end_spurt(&mut self, cursor: Cursor) {
        self.forgive_tail();
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
        self.payload_mean.observe(packet.payload.len());
        self.cursor = Some(Cursor { seq, ts: packet.ts });
        self.advance(true);
        self.came_late = false;
        self.missing_run = 0;
        self.speculative = 0;
        self.tail_concealed = 0;
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

/// A running mean of payload sizes. Opus spends fewer bytes on quiet,
/// simple frames, so a packet no larger than the mean is a quiet one,
/// whose loss is least heard.
#[derive(Debug, Clone, Copy, Default)]
struct PayloadMean {
    /// The mean in sixteenths of a byte; 0 before the first packet.
    sixteenths: u64,
}

impl PayloadMean {
    /// Weight of each new packet: 1/16, a memory of about 16 frames.
    const SHIFT: u32 = 4;

    fn observe(&mut self, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX).saturating_mul(16);
        if self.sixteenths == 0 {
            self.sixteenths = len;
        } else {
            self.sixteenths =
                self.sixteenths - (self.sixteenths >> Self::SHIFT) + (len >> Self::SHIFT);
        }
    }

    fn is_quiet(&self, len: usize) -> bool {
        u64::try_from(len).unwrap_or(u64::MAX).saturating_mul(16) <= self.sixteenths
    }
}

/// `history` after `count` more numbers, none of them played.
fn push_unplayed(history: u64, count: u64) -> u64 {
    u32::try_from(count).ok().and_then(|bits| history.checked_shl(bits)).unwrap_or(0)
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
