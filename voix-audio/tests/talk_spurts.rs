//! Talk spurts on a perfect network, as the client sends them: pauses are
//! silence, not loss, whether the sender stops sending (voice activity
//! gate, `skip()`) or lets Opus DTX thin its packets out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use voix_audio::codec::{EncoderConfig, Rendered, VoiceEncoder};
use voix_audio::jitter::{JitterConfig, JitterStats, VoicePacket};
use voix_audio::mixer::VoiceReceiver;
use voix_audio::signal::tone;

const FRAME: usize = 960;
/// Talk spurts of one second of tone.
const ON_FRAMES: usize = 50;
const CYCLES: usize = 7;

/// How the sender treats the pauses.
#[derive(Clone, Copy, Debug)]
enum Pauses {
    /// Not encoded at all: `skip()` instead.
    Gated,
    /// Encoded as digital silence with DTX on.
    Dtx,
}

/// What the receiver made of the call.
#[derive(Debug)]
struct Heard {
    stats: JitterStats,
    /// Ticks the decoder concealed, per pause.
    concealed_per_pause: Vec<usize>,
    /// The buffer's delay in the middle of each talk spurt.
    delay_per_spurt: Vec<Duration>,
}

/// Sends the tone, with pauses of `off_frames`, over a network with a
/// fixed transit and no loss.
fn call(pauses: Pauses, off_frames: usize, transit: Duration) -> Heard {
    let config = EncoderConfig { dtx: matches!(pauses, Pauses::Dtx), ..EncoderConfig::default() };
    let mut encoder = VoiceEncoder::new(config).expect("default settings");
    let mut receiver = VoiceReceiver::new(JitterConfig::default()).expect("default settings");
    let voice = tone(220.0, 8_000, ON_FRAMES * FRAME);
    let silence = vec![0i16; FRAME];
    let start = Instant::now();
    let mut network: VecDeque<(Duration, VoicePacket)> = VecDeque::new();
    let mut out = vec![0i16; FRAME];
    let mut heard = Heard {
        stats: JitterStats::default(),
        concealed_per_pause: vec![0; CYCLES],
        delay_per_spurt: Vec::new(),
    };
    let cycle = ON_FRAMES + off_frames;
    // Then the sender hangs up, and the receiver plays half a second more.
    for tick in 0..CYCLES * cycle + 25 {
        let now = Duration::from_millis(20) * u32::try_from(tick).expect("short call");
        let in_cycle = tick % cycle;
        let encoded = if tick >= CYCLES * cycle {
            None
        } else if in_cycle < ON_FRAMES {
            encoder.encode(&voice[in_cycle * FRAME..][..FRAME]).expect("one frame")
        } else {
            match pauses {
                Pauses::Gated => {
                    encoder.skip();
                    None
                }
                Pauses::Dtx => encoder.encode(&silence).expect("one frame"),
            }
        };
        if let Some(encoded) = encoded {
            let packet = VoicePacket {
                seq: encoded.seq,
                timestamp: encoded.timestamp,
                marker: encoded.marker,
                payload: Bytes::copy_from_slice(encoded.payload),
            };
            network.push_back((now + transit, packet));
        }
        while network.front().is_some_and(|(arrival, _)| *arrival <= now) {
            let (_, packet) = network.pop_front().expect("front exists");
            let _ = receiver.push(packet, start + now);
        }
        let rendered = receiver.pull(start + now, &mut out).expect("one frame");
        // The pause is heard from the end of the spurt, one transit later.
        let heard_pause = (in_cycle + cycle - ON_FRAMES) % cycle < off_frames;
        if rendered == Rendered::Concealed && heard_pause {
            heard.concealed_per_pause[(tick / cycle).min(CYCLES - 1)] += 1;
        }
        if in_cycle == ON_FRAMES / 2 && tick < CYCLES * cycle {
            heard.delay_per_spurt.push(receiver.stats().current_delay);
        }
    }
    heard.stats = receiver.stats();
    heard
}

fn assert_pauses_are_silence(pauses: Pauses) {
    // Half a second, and 160 ms: shorter than it takes to decide that a
    // spurt has ended.
    for (off_frames, transit_ms) in [(25, 0), (25, 5), (25, 30), (25, 55), (8, 0), (8, 15), (8, 30)]
    {
        let heard = call(pauses, off_frames, Duration::from_millis(transit_ms));
        let context =
            format!("{pauses:?} pauses of {off_frames} frames, {transit_ms} ms transit: {heard:?}");
        let stats = heard.stats;
        assert_eq!((stats.frames_lost, stats.frames_concealed), (0, 0), "{context}");
        assert!(heard.concealed_per_pause.iter().all(|&c| c <= 3), "{context}");
        let first = heard.delay_per_spurt[0];
        assert!(heard.delay_per_spurt.iter().all(|&d| d <= first), "delay grew: {context}");
    }
}

#[test]
fn gated_pauses_are_silence_not_loss() {
    assert_pauses_are_silence(Pauses::Gated);
}

#[test]
fn dtx_pauses_are_silence_not_loss() {
    assert_pauses_are_silence(Pauses::Dtx);
}
