//! The mixer on a virtual clock, with real Opus packets.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::codec::{EncoderConfig, VoiceEncoder};
use crate::quality::rms_dbfs;
use crate::signal::tone;

const FRAME_US: u64 = 20_000;

/// Opus packets of a steady tone, one per 20 ms frame.
fn talk(hz: f64, amplitude: i16, frames: usize) -> Vec<VoicePacket> {
    let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
    let mut encoder = VoiceEncoder::new(config).expect("encoder");
    tone(hz, amplitude, frames * 960)
        .chunks_exact(960)
        .filter_map(|frame| {
            encoder.encode(frame).expect("encodes").map(|f| VoicePacket {
                seq: f.seq,
                timestamp: f.timestamp,
                marker: f.marker,
                payload: Bytes::copy_from_slice(f.payload),
            })
        })
        .collect()
}

/// Ticks the mixer every frame; `speakers[i]` sends packet `k` at frame
/// `k`, arriving 30 ms later. Returns the mixed output.
fn run(
    mixer: &mut Mixer,
    start: Instant,
    speakers: &[(SpeakerId, Vec<VoicePacket>)],
    ticks: u64,
) -> Vec<i16> {
    let mut out = Vec::new();
    let mut frame = vec![0; 960];
    for tick in 0..ticks {
        let now = start + Duration::from_micros(tick * FRAME_US);
        for (id, packets) in speakers {
            // Packet k arrives at k * 20 ms + 30 ms: it is pushed on the tick
            // after it arrived.
            let k = usize::try_from(tick).expect("small").checked_sub(2);
            if let Some(packet) = k.and_then(|k| packets.get(k)) {
                mixer.push(*id, packet.clone(), now).expect("room for the speaker");
            }
        }
        mixer.mix(now, &mut frame).expect("one frame");
        out.extend_from_slice(&frame);
    }
    out
}

/// Energy of `pcm` at `hz` (magnitude of one DFT bin).
fn energy_at(pcm: &[i16], hz: f64) -> f64 {
    let (re, im) = pcm.iter().enumerate().fold((0.0, 0.0), |(re, im), (i, &s)| {
        let phase = std::f64::consts::TAU * hz * i as f64 / 48_000.0;
        (re + f64::from(s) * phase.cos(), im + f64::from(s) * phase.sin())
    });
    (re * re + im * im).sqrt() / pcm.len() as f64
}

#[test]
fn two_speakers_are_both_heard() {
    let mut mixer = Mixer::new(MixerConfig::default()).expect("valid");
    let start = Instant::now();
    let speakers = [(1, talk(440.0, 8_000, 50)), (2, talk(700.0, 8_000, 50))];
    let out = run(&mut mixer, start, &speakers, 50);
    let middle = &out[20 * 960..40 * 960];
    assert!(energy_at(middle, 440.0) > 1_000.0, "{}", energy_at(middle, 440.0));
    assert!(energy_at(middle, 700.0) > 1_000.0, "{}", energy_at(middle, 700.0));
    assert!(energy_at(middle, 1_234.0) < 200.0);
    let now = start + Duration::from_micros(49 * FRAME_US);
    assert_eq!(mixer.talking(now).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(mixer.speakers().count(), 2);
}

#[test]
fn loud_speakers_together_do_not_clip() {
    let mut mixer = Mixer::new(MixerConfig::default()).expect("valid");
    let speakers: Vec<_> = (0..4).map(|id| (id, talk(300.0, 30_000, 30))).collect();
    let out = run(&mut mixer, Instant::now(), &speakers, 30);
    assert!(out.iter().all(|&s| s > i16::MIN && s < i16::MAX));
    assert!(rms_dbfs(&out[10 * 960..]) > -6.0, "the mix is loud, not muted");
}

#[test]
fn idle_speakers_are_dropped_and_stop_talking() {
    let config = MixerConfig { idle_timeout: Duration::from_millis(500), ..MixerConfig::default() };
    let mut mixer = Mixer::new(config).expect("valid");
    let start = Instant::now();
    let out = run(&mut mixer, start, &[(7, talk(440.0, 8_000, 10))], 60);
    let after = start + Duration::from_micros(59 * FRAME_US);
    assert_eq!(mixer.talking(after).count(), 0);
    assert_eq!(mixer.speakers().count(), 0, "speaker 7 timed out");
    assert!(rms_dbfs(&out[40 * 960..]) < -80.0, "silence after the speaker left");
}

#[test]
fn refuses_speakers_beyond_the_limit_and_wrong_buffers() {
    let config = MixerConfig { max_speakers: 2, ..MixerConfig::default() };
    let mut mixer = Mixer::new(config).expect("valid");
    let now = Instant::now();
    let packet = talk(440.0, 1_000, 1).remove(0);
    for id in [1, 2, 1] {
        assert!(mixer.push(id, packet.clone(), now).is_ok());
    }
    assert_eq!(mixer.push(3, packet, now), Err(MixerError::TooManySpeakers { limit: 2 }));
    mixer.remove(1);
    assert!(matches!(mixer.mix(now, &mut [0; 10]), Err(MixerError::Codec(_))));
}

#[test]
fn sums_of_very_many_voices_saturate() {
    let mut sum = vec![i32::MAX - 10, i32::MIN + 10, 5];
    super::add_voice(&mut sum, &[i16::MAX, i16::MIN, -7]);
    assert_eq!(sum, [i32::MAX, i32::MIN, -2]);
}
