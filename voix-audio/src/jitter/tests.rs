//! Scenario and property tests of the jitter buffer on a virtual clock.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

const FRAME: u32 = 960;
const FRAME_MS: u64 = 20;

/// A packet whose payload is its sequence number, so plays can be checked.
fn packet(seq: u32, timestamp: u32) -> VoicePacket {
    VoicePacket {
        seq,
        timestamp,
        marker: false,
        payload: Bytes::copy_from_slice(&seq.to_be_bytes()),
    }
}

/// A buffer driven on a virtual clock, one tick per frame.
struct Harness {
    buffer: JitterBuffer,
    start: Instant,
}

impl Harness {
    fn new() -> Self {
        Self::with(JitterConfig::default())
    }

    fn with(config: JitterConfig) -> Self {
        Self {
            buffer: JitterBuffer::new(config).expect("test configs are valid"),
            start: Instant::now(),
        }
    }

    fn at(&self, micros: u64) -> Instant {
        self.start + Duration::from_micros(micros)
    }

    /// Runs until half a second after `end_us`, long enough for the last
    /// spurt to end: arrivals `(time_us, packet)` in time order, ticks every
    /// frame from 0. Returns the decision of every tick.
    fn run(&mut self, mut arrivals: Vec<(u64, VoicePacket)>, end_us: u64) -> Vec<Playout> {
        arrivals.sort_by_key(|(t, _)| *t);
        let mut arrivals = arrivals.into_iter().peekable();
        let mut out = Vec::new();
        let mut tick = 0;
        while tick <= end_us + 500_000 {
            while let Some((_, p)) = arrivals.next_if(|(t, _)| *t <= tick) {
                let _ = self.buffer.push(p, self.at(tick));
            }
            out.push(self.buffer.pop(self.at(tick)));
            tick += FRAME_MS * 1000;
        }
        out
    }
}

/// Sequence numbers of the frames played, in order.
fn played(decisions: &[Playout]) -> Vec<u32> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Playout::Frame(f) => {
                let seq = u32::from_be_bytes(f.payload[..4].try_into().expect("4-byte payload"));
                assert_eq!(seq, f.seq, "payload belongs to another packet");
                Some(f.seq)
            }
            _ => None,
        })
        .collect()
}

/// A steady stream: packet `i` sent at `i` frames and arriving `delay_us`
/// later (plus `jitter(i)`).
fn stream(
    first_seq: u32,
    first_ts: u32,
    count: u32,
    jitter: impl Fn(u32) -> u64,
) -> Vec<(u64, VoicePacket)> {
    (0..count)
        .map(|i| {
            let sent = u64::from(i) * FRAME_MS * 1000;
            let p = packet(first_seq.wrapping_add(i), first_ts.wrapping_add(i.wrapping_mul(FRAME)));
            (sent + 30_000 + jitter(i), p)
        })
        .collect()
}

#[test]
fn perfect_network_plays_everything_in_order_with_little_delay() {
    let mut h = Harness::new();
    let out = h.run(stream(100, 5_000, 200, |_| 0), 4_200_000);
    assert_eq!(played(&out), (100..300).collect::<Vec<_>>());
    let stats = h.buffer.stats();
    assert_eq!(stats.frames_played, 200);
    assert_eq!(stats.frames_concealed, 0);
    assert!(stats.target_delay <= Duration::from_millis(2), "{stats:?}");
}

#[test]
fn reordered_packets_play_in_order() {
    let mut h = Harness::new();
    // Every 10th packet is 30 ms late, behind the next one.
    let out = h.run(stream(0, 0, 300, |i| if i % 10 == 5 { 30_000 } else { 0 }), 6_400_000);
    let seqs = played(&out);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order");
    let stats = h.buffer.stats();
    assert!(stats.packets_late <= 3, "late after adapting: {stats:?}");
    assert_eq!(stats.frames_played + stats.packets_late, 300);
}

#[test]
fn duplicates_are_played_once() {
    let mut h = Harness::new();
    let mut arrivals = stream(0, 0, 100, |_| 0);
    let copies: Vec<_> = arrivals.iter().map(|(t, p)| (t + 5_000, p.clone())).collect();
    arrivals.extend(copies);
    let out = h.run(arrivals, 2_200_000);
    let seqs = played(&out);
    assert_eq!(seqs, (0..100).collect::<Vec<_>>());
    assert_eq!(h.buffer.stats().packets_duplicate, 100);
}

#[test]
fn a_single_loss_at_the_target_delay_is_recovered_from_fec() {
    // A 20 ms minimum delay puts the buffer exactly at its target.
    let mut h = Harness::with(JitterConfig {
        min_delay: Duration::from_millis(20),
        ..JitterConfig::default()
    });
    let arrivals = stream(0, 0, 50, |_| 0).into_iter().filter(|(_, p)| p.seq != 20).collect();
    let out = h.run(arrivals, 1_200_000);
    let fec: Vec<_> = out
        .iter()
        .filter_map(|d| match d {
            Playout::Fec(f) => Some(f.seq),
            _ => None,
        })
        .collect();
    assert_eq!(fec, [21], "FEC must come from the packet after the loss");
    assert_eq!(played(&out), (0..20).chain(21..50).collect::<Vec<_>>());
    let stats = h.buffer.stats();
    assert_eq!((stats.frames_recovered, stats.frames_lost, stats.frames_concealed), (1, 1, 0));
}

#[test]
fn losses_above_the_target_delay_are_skipped_to_catch_up() {
    // The first ten packets come 60 ms late, then the path speeds up,
    // leaving the buffer 40 ms above its target (capped at 20 ms): the next
    // two lost frames are skipped (not filled), each shedding a frame of
    // delay for free; back at the target, the third loss is filled.
    let mut h = Harness::with(JitterConfig {
        max_delay: Duration::from_millis(20),
        ..JitterConfig::default()
    });
    let lost = [13, 15, 17];
    let arrivals = stream(0, 0, 50, |i| if i < 10 { 60_000 } else { 0 })
        .into_iter()
        .filter(|(_, p)| !lost.contains(&p.seq))
        .collect();
    let out = h.run(arrivals, 1_200_000);
    let last_frame =
        out.iter().rposition(|d| matches!(d, Playout::Frame(_))).expect("frames played");
    let filled = out[..last_frame]
        .iter()
        .filter(|d| matches!(d, Playout::Fec(_) | Playout::Conceal))
        .count();
    let codes: Vec<String> = out[..last_frame]
        .iter()
        .map(|d| match d {
            Playout::Frame(f) => f.seq.to_string(),
            Playout::Fec(_) => "fec".into(),
            Playout::Conceal => "conceal".into(),
            Playout::Silence => "-".into(),
        })
        .collect();
    let twelve = codes.iter().position(|c| c == "12").expect("12 played");
    assert_eq!(codes[twelve..twelve + 3], ["12", "14", "16"], "{codes:?}");
    assert_eq!(filled, 1, "{codes:?}");
    assert_eq!(h.buffer.stats().frames_lost, 3);
    assert_eq!(played(&out).len(), 47);
}

#[test]
fn the_delay_comes_back_during_continuous_speech() {
    let mut h = Harness::new();
    // Twelve seconds of speech without a pause; packet 300 is 30 ms late,
    // so the buffer waits a frame for it (one late packet in 300 is too
    // few to raise the target). Every fifth packet is small (a quiet
    // frame); the others are loud.
    let arrivals = stream(0, 0, 600, |i| if i == 300 { 30_000 } else { 0 })
        .into_iter()
        .map(|(t, mut p)| {
            if p.seq % 5 != 3 {
                let mut loud = p.payload.to_vec();
                loud.resize(80, 0xaa);
                p.payload = Bytes::from(loud);
            }
            (t, p)
        })
        .collect();
    let out = h.run(arrivals, 12_200_000);
    let seqs = played(&out);
    let dropped: Vec<u32> = (0..600).filter(|s| !seqs.contains(s)).collect();
    assert_eq!(dropped.len(), 1, "one frame dropped: {dropped:?}");
    assert_eq!(dropped[0] % 5, 3, "a quiet one: {dropped:?}");
    // Two seconds after the late packet (the excess must last), not at once.
    assert!((395..=410).contains(&dropped[0]), "{dropped:?}");
    let stats = h.buffer.stats();
    assert_eq!((stats.packets_discarded, stats.packets_late), (1, 0), "{stats:?}");
    // The wait and the drop cancel out: the last packet plays as if
    // nothing had happened.
    let first = out.iter().position(|d| matches!(d, Playout::Frame(f) if f.seq == 0));
    let last = out.iter().position(|d| matches!(d, Playout::Frame(f) if f.seq == 599));
    assert_eq!(last.zip(first).map(|(l, f)| l - f), Some(599), "{stats:?}");
}

#[test]
fn a_burst_loss_is_concealed_for_a_short_tail_then_silent() {
    let mut h = Harness::new();
    let arrivals =
        stream(0, 0, 50, |_| 0).into_iter().filter(|(_, p)| !(20..25).contains(&p.seq)).collect();
    let out = h.run(arrivals, 1_200_000);
    // While nothing newer has come, a loss looks like a pause: concealed
    // for 60 ms, then silent; it still counts as lost.
    let after_19 = out.iter().position(|d| matches!(d, Playout::Frame(f) if f.seq == 19));
    let burst = &out[after_19.expect("19 played") + 1..][..5];
    let conceal = Playout::Conceal;
    assert_eq!(
        burst,
        [conceal.clone(), conceal.clone(), conceal, Playout::Silence, Playout::Silence]
    );
    let stats = h.buffer.stats();
    assert_eq!((stats.frames_lost, stats.frames_concealed), (5, 3), "{stats:?}");
    assert_eq!(played(&out), (0..20).chain(25..50).collect::<Vec<_>>());
}

#[test]
fn sequence_and_timestamp_wrap_around() {
    let mut h = Harness::new();
    let out = h.run(stream(u32::MAX - 20, u32::MAX - 10 * FRAME, 60, |_| 0), 1_400_000);
    let expected: Vec<u32> = (0..60).map(|i| (u32::MAX - 20).wrapping_add(i)).collect();
    assert_eq!(played(&out), expected);
    assert_eq!(h.buffer.stats().packets_discarded, 0);
}

#[test]
fn dtx_gaps_play_silence_not_concealment() {
    let mut h = Harness::new();
    // 20 packets of speech, then the sender sends one packet per 400 ms
    // (Opus DTX) for two seconds, then speech again; numbering is
    // contiguous, timestamps jump.
    let mut arrivals = Vec::new();
    let mut seq = 0;
    let mut push = |frame_index: u64, seq: &mut u32| {
        let ts = u32::try_from(frame_index).expect("small") * FRAME;
        arrivals.push((frame_index * FRAME_MS * 1000 + 30_000, packet(*seq, ts)));
        *seq += 1;
    };
    (0..20).for_each(|f| push(f, &mut seq));
    (1..=5).for_each(|k| push(20 + 20 * k, &mut seq));
    (121..141).for_each(|f| push(f, &mut seq));
    let out = h.run(arrivals, 3_200_000);
    assert_eq!(played(&out), (0..seq).collect::<Vec<_>>());
    let stats = h.buffer.stats();
    assert_eq!(stats.frames_concealed, 0, "{stats:?}");
    assert_eq!(stats.frames_lost, 0);
}

#[test]
fn a_new_spurt_after_silence_keeps_its_numbering() {
    let mut h = Harness::new();
    // Speech, then nothing at all for a second (no DTX), then speech that
    // continues the sequence numbers, with the marker set.
    let mut arrivals = stream(0, 0, 20, |_| 0);
    let mut second = stream(20, 70 * FRAME, 20, |_| 0);
    for (t, p) in &mut second {
        *t += 50 * FRAME_MS * 1000;
        p.marker = p.seq == 20;
    }
    arrivals.extend(second);
    let out = h.run(arrivals, 2_000_000);
    assert_eq!(played(&out), (0..40).collect::<Vec<_>>());
    let stats = h.buffer.stats();
    assert_eq!((stats.packets_late, stats.frames_lost), (0, 0), "{stats:?}");
}

#[test]
fn a_short_pause_is_silence_and_keeps_the_delay() {
    let mut h = Harness::new();
    // 160 ms of pause, shorter than it takes to end a spurt: the next
    // packet continues the numbering with its timestamp 8 frames on. A
    // second pause ends with a marked packet that skips two numbers.
    let mut arrivals = stream(0, 0, 20, |_| 0);
    for (first_seq, first_frame, count) in [(20, 28, 20), (42, 56, 20)] {
        let mut spurt = stream(first_seq, first_frame * FRAME, count, |_| 0);
        for (t, p) in &mut spurt {
            *t += u64::from(first_frame) * FRAME_MS * 1000;
            p.marker = p.seq == first_seq;
        }
        arrivals.extend(spurt);
    }
    let out = h.run(arrivals, 1_700_000);
    assert_eq!(played(&out), (0..40).chain(42..62).collect::<Vec<_>>());
    let conceal_runs: Vec<usize> = out
        .split(|d| !matches!(d, Playout::Conceal))
        .map(<[Playout]>::len)
        .filter(|&n| n > 0)
        .collect();
    // 60 ms of concealment after each spurt (the last one too), then silence.
    assert_eq!(conceal_runs, [3, 3, 3], "{out:?}");
    let stats = h.buffer.stats();
    assert_eq!((stats.frames_lost, stats.frames_concealed), (0, 0), "{stats:?}");
    // Each spurt plays its first packet as soon as it arrives, as the first did.
    let first_plays: Vec<usize> = [0u32, 20, 42]
        .iter()
        .map(|&seq| {
            out.iter()
                .position(|d| matches!(d, Playout::Frame(f) if f.seq == seq))
                .expect("first packet of each spurt played")
        })
        .collect();
    assert_eq!(first_plays[1] - first_plays[0], 28, "{out:?}");
    assert_eq!(first_plays[2] - first_plays[0], 56, "{out:?}");
}

#[test]
fn a_restarted_sender_is_followed_after_three_packets() {
    let mut h = Harness::new();
    let mut arrivals = stream(5_000, 1_000_000, 50, |_| 0);
    // The sender restarts at sequence 0 and timestamp 0 one second later.
    let mut restarted = stream(0, 0, 50, |_| 0);
    for (t, _) in &mut restarted {
        *t += 1_000_000;
    }
    arrivals.extend(restarted);
    let out = h.run(arrivals, 2_400_000);
    let seqs = played(&out);
    assert_eq!(&seqs[..50], &(5_000..5_050).collect::<Vec<_>>()[..]);
    // The new stream starts at the target delay; what the three packets
    // needed to prove it real and is already overdue is skipped.
    let first = seqs[50];
    assert!(first <= 2, "{seqs:?}");
    assert_eq!(&seqs[50..], &(first..50).collect::<Vec<_>>()[..]);
}

#[test]
fn garbage_timestamps_are_discarded_without_disturbing_playout() {
    let mut h = Harness::new();
    let mut arrivals = stream(0, 0, 200, |_| 0);
    for (_, p) in arrivals.iter_mut().filter(|(_, p)| p.seq % 37 == 10) {
        p.timestamp = p.timestamp.wrapping_add(0x4000_0000);
    }
    let out = h.run(arrivals, 4_200_000);
    let garbled = (0..200).filter(|s| s % 37 == 10).count() as u64;
    let stats = h.buffer.stats();
    assert_eq!(stats.packets_discarded, garbled);
    assert_eq!(played(&out).len() as u64, 200 - garbled);
    assert_eq!(stats.frames_lost, garbled);
    assert!(played(&out).windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn clock_drift_keeps_the_delay_bounded() {
    for ppm in [-1_000i64, 1_000] {
        let mut h = Harness::new();
        // 3000 packets (one minute); the sender's clock is off by `ppm`.
        let arrivals = (0..3_000u32)
            .map(|i| {
                let nominal = i64::from(i) * 20_000;
                let sent = nominal + nominal * ppm / 1_000_000;
                (sent.unsigned_abs() + 30_000, packet(i, i * FRAME))
            })
            .collect();
        let out = h.run(arrivals, 61_000_000);
        let stats = h.buffer.stats();
        assert!(played(&out).len() >= 2_900, "{ppm} ppm: {stats:?}");
        assert!(stats.current_delay <= Duration::from_millis(60), "{ppm} ppm: {stats:?}");
        assert!(stats.frames_concealed <= 100, "{ppm} ppm: {stats:?}");
    }
}

/// A sender clock 1000 ppm slow: the receiver's ticks gain a frame every
/// 20 s, so every 20 s one packet comes a few µs after its tick. That costs
/// at most that frame; the next one is waited for, not given up too (which
/// used to lose the following packets one after another, each arriving
/// just too late, for a run of 5 to 9 frames).
#[test]
fn a_slow_sender_clock_costs_one_frame_per_slip_not_a_run() {
    let mut h = Harness::new();
    let arrival_us = |i: u32| u64::from(i) * 20_020 + 30_000;
    let mut next = 0u32;
    let mut out = Vec::new();
    for tick in 0..3_000u64 {
        let now_us = tick * FRAME_MS * 1000;
        // Pushed at their own arrival times, between ticks, as a socket would.
        while next < 2_900 && arrival_us(next) <= now_us {
            let _ = h.buffer.push(packet(next, next * FRAME), h.at(arrival_us(next)));
            next += 1;
        }
        out.push(h.buffer.pop(h.at(now_us)));
    }
    let stats = h.buffer.stats();
    // 58 ms gained over the minute: two or three slips.
    assert!(stats.frames_lost <= 4, "{stats:?}");
    assert!(stats.packets_late <= 4, "{stats:?}");
    let seqs = played(&out);
    assert!(seqs.windows(2).all(|w| w[1] - w[0] <= 2), "a run of frames was lost");
}

#[test]
fn a_lasting_rise_in_delay_is_followed_within_seconds() {
    let mut h = Harness::new();
    // 30 ms of transit and up to 10 ms of jitter; 20 s in, the path
    // becomes 100 ms slower for good. 3 % of packets are lost throughout,
    // and below its target the buffer waits for a missing packet, growing
    // the delay: a target measured against a stale floor lets it creep up.
    const STEP_AT: u32 = 1_000;
    const STEP_US: u64 = 100_000;
    let floor_transit = |seq: u32| 30_000 + if seq >= STEP_AT { STEP_US } else { 0 };
    let lost = |seq: u32| seq.wrapping_mul(2_654_435_761) % 100 < 3;
    let arrivals = stream(0, 0, 6_000, |i| {
        u64::from(i.wrapping_mul(7_919) % 11) * 1_000 + floor_transit(i) - 30_000
    })
    .into_iter()
    .filter(|(_, p)| !lost(p.seq))
    .collect();
    let out = h.run(arrivals, 120_000_000);
    // From ten seconds after the rise, every frame plays within a frame
    // of the path's new floor plus its jitter.
    let settled = STEP_AT + 500;
    let mut worst_us = 0;
    for (tick, decision) in out.iter().enumerate() {
        if let Playout::Frame(f) = decision
            && f.seq >= settled
        {
            let played = tick as u64 * FRAME_MS * 1000;
            let sent = u64::from(f.seq) * FRAME_MS * 1000;
            worst_us = worst_us.max(played - sent - floor_transit(f.seq));
        }
    }
    let stats = h.buffer.stats();
    assert!(worst_us <= 30_000, "{worst_us} µs above the floor: {stats:?}");
    // The buffer sees the rise as latency, not as jitter to cover.
    assert!(stats.target_delay <= Duration::from_millis(20), "{stats:?}");
}

#[test]
fn delay_grows_when_jitter_rises() {
    let mut h = Harness::new();
    // Calm for 4 s, then every other packet 60 ms late.
    let jitter = |i: u32| if i >= 200 && i % 2 == 1 { 60_000 } else { 0 };
    let out = h.run(stream(0, 0, 400, jitter), 8_400_000);
    let stats = h.buffer.stats();
    assert!(stats.target_delay >= Duration::from_millis(60), "{stats:?}");
    assert!(stats.packets_late <= 10, "adapted too slowly: {stats:?}");
    assert!(played(&out).windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn min_delay_is_respected() {
    let mut h = Harness::with(JitterConfig {
        min_delay: Duration::from_millis(80),
        ..JitterConfig::default()
    });
    let out = h.run(stream(0, 0, 100, |_| 0), 2_400_000);
    // The first packet, handed over at the 40 ms tick, waits for the
    // minimum delay: it plays at the 120 ms tick.
    let first = out.iter().position(|d| matches!(d, Playout::Frame(_)));
    assert_eq!(first, Some(6), "{out:?}");
    assert_eq!(played(&out), (0..100).collect::<Vec<_>>());
    assert_eq!(h.buffer.stats().target_delay, Duration::from_millis(80));
}

/// One step of an arbitrary script.
#[derive(Debug, Clone)]
enum Op {
    Push { seq: u32, timestamp: u32, marker: bool, advance_us: u32 },
    Pop { advance_us: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<bool>(), 0u32..100_000).prop_map(
            |(seq, timestamp, marker, advance_us)| Op::Push { seq, timestamp, marker, advance_us }
        ),
        // Packets of one stream, in any order and with gaps, so that
        // scripts also play frames rather than discard everything.
        (0u32..300, any::<bool>(), 0u32..30_000).prop_map(|(seq, marker, advance_us)| {
            Op::Push { seq, timestamp: seq * FRAME, marker, advance_us }
        }),
        (0u32..30_000).prop_map(|advance_us| Op::Pop { advance_us }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the input, every tick and every packet is accounted for
    /// exactly once: each tick's decision is counted under its kind, and
    /// each packet pushed is still held, or was played, late, a duplicate
    /// or discarded. No packet is played twice.
    #[test]
    fn arbitrary_scripts_account_for_every_tick_and_packet(
        ops in prop::collection::vec(op(), 0..400),
    ) {
        let mut h = Harness::new();
        let mut now = h.start;
        let mut pushes = 0u32;
        let (mut frames, mut fec, mut filled) = (0u64, 0u64, 0u64);
        let mut played = HashSet::new();
        for op in ops {
            match op {
                Op::Push { seq, timestamp, marker, advance_us } => {
                    now += Duration::from_micros(advance_us.into());
                    // The payload names the push, to tell copies apart.
                    let payload = Bytes::copy_from_slice(&pushes.to_be_bytes());
                    pushes += 1;
                    let _ = h.buffer.push(VoicePacket { seq, timestamp, marker, payload }, now);
                }
                Op::Pop { advance_us } => {
                    now += Duration::from_micros(advance_us.into());
                    match h.buffer.pop(now) {
                        Playout::Frame(f) => {
                            frames += 1;
                            prop_assert!(played.insert(f.payload), "played twice");
                        }
                        Playout::Fec(_) => fec += 1,
                        Playout::Conceal | Playout::Silence => filled += 1,
                    }
                }
            }
            let s = h.buffer.stats();
            prop_assert_eq!((s.frames_played, s.frames_recovered), (frames, fec), "{:?}", s);
            prop_assert_eq!(s.frames_concealed + s.ticks_silent, filled, "{:?}", s);
            prop_assert_eq!(s.packets_received, u64::from(pushes), "{:?}", s);
            prop_assert_eq!(
                h.buffer.len() as u64
                    + s.frames_played
                    + s.packets_late
                    + s.packets_duplicate
                    + s.packets_discarded,
                u64::from(pushes),
                "unaccounted packets: {:?}", s
            );
        }
    }

    /// On a network that loses, delays, reorders and duplicates packets of
    /// one stream, every frame plays at most once, in order, with its own
    /// payload, and every packet is accounted for.
    #[test]
    fn lossy_networks_never_replay_or_reorder(
        start_seq: u32,
        start_ts: u32,
        fate in prop::collection::vec((0u8..100, 0u64..150_000, any::<bool>()), 50..300),
    ) {
        let mut h = Harness::new();
        let mut arrivals = Vec::new();
        for (i, &(loss, jitter, duplicate)) in fate.iter().enumerate() {
            let i = u32::try_from(i).expect("short script");
            if loss < 10 {
                continue;
            }
            let sent = u64::from(i) * 20_000;
            let p = packet(start_seq.wrapping_add(i), start_ts.wrapping_add(i.wrapping_mul(FRAME)));
            if duplicate {
                arrivals.push((sent + 30_000 + jitter / 2, p.clone()));
            }
            arrivals.push((sent + 30_000 + jitter, p));
        }
        let sent = arrivals.len() as u64;
        let end = fate.len() as u64 * 20_000 + 2_000_000;
        let out = h.run(arrivals, end);
        let seqs = played(&out);
        let offsets: Vec<u32> = seqs.iter().map(|s| s.wrapping_sub(start_seq)).collect();
        prop_assert!(offsets.windows(2).all(|w| w[0] < w[1]), "replayed or reordered: {:?}", offsets);
        let unique: HashSet<_> = seqs.iter().collect();
        prop_assert_eq!(unique.len(), seqs.len());
        let s = h.buffer.stats();
        prop_assert_eq!(s.packets_received, sent);
        prop_assert_eq!(
            s.frames_played + s.packets_late + s.packets_duplicate + s.packets_discarded,
            sent,
            "unaccounted packets: {:?}", s
        );
    }
}
