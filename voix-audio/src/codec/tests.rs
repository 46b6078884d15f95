//! Round trips through libopus.

use bytes::Bytes;

use super::*;
use crate::format::FrameDuration;
use crate::jitter::{Playout, PlayoutFrame};
use crate::quality::{best_lag, rms_dbfs, segmental_snr_db};
use crate::signal::speech_like;

/// Encodes `pcm` frame by frame; `None` for frames DTX left out.
fn encode_all(config: EncoderConfig, pcm: &[i16]) -> Vec<Option<Vec<u8>>> {
    let mut encoder = VoiceEncoder::new(config).expect("valid config");
    pcm.chunks_exact(config.frame.samples())
        .map(|frame| encoder.encode(frame).expect("encodes").map(|f| f.payload.to_vec()))
        .collect()
}

/// Decodes every packet, concealing missing ones.
fn decode_all(frame: FrameDuration, packets: &[Option<Vec<u8>>]) -> Vec<i16> {
    let mut decoder = VoiceDecoder::new(frame).expect("decoder");
    let mut out = vec![0; frame.samples() * packets.len()];
    for (packet, chunk) in packets.iter().zip(out.chunks_exact_mut(frame.samples())) {
        match packet {
            Some(payload) => decoder.decode(payload, chunk).expect("decodes"),
            None => decoder.conceal(chunk).expect("conceals"),
        }
    }
    out
}

/// The period (samples) with the strongest autocorrelation between 2.5 ms
/// (400 Hz) and 16 ms (62 Hz).
fn dominant_period(pcm: &[i16]) -> usize {
    (120..768)
        .max_by_key(|&lag| {
            pcm.iter().zip(&pcm[lag..]).map(|(&a, &b)| i64::from(a) * i64::from(b)).sum::<i64>()
        })
        .expect("non-empty range")
}

#[test]
fn round_trip_keeps_energy_and_pitch() {
    // A steady voiced sound: 150 Hz with harmonics, one second.
    let pcm: Vec<i16> = (0..48_000)
        .map(|i| {
            let t = f64::from(i) / 48_000.0;
            let s: f64 = (1..=12)
                .map(|k| (std::f64::consts::TAU * 150.0 * f64::from(k) * t).sin() / f64::from(k))
                .sum();
            (s * 6_000.0) as i16
        })
        .collect();
    let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
    let decoded = decode_all(config.frame, &encode_all(config, &pcm));
    // Skip the first 100 ms, where the codec settles.
    let (original, decoded) = (&pcm[4_800..], &decoded[4_800..]);
    assert!((rms_dbfs(original) - rms_dbfs(decoded)).abs() < 1.5);
    assert_eq!(dominant_period(original), 320);
    assert!(dominant_period(decoded).abs_diff(320) <= 3, "{}", dominant_period(decoded));
}

#[test]
fn every_frame_duration_round_trips_speech() {
    let speech = speech_like(7, 1.0);
    for frame in FrameDuration::ALL {
        let config = EncoderConfig { frame, dtx: false, ..EncoderConfig::default() };
        let decoded = decode_all(frame, &encode_all(config, &speech));
        let lag = best_lag(&speech[9_600..19_200], &decoded[9_600..], 400);
        let aligned = &decoded[usize::try_from(9_600 + lag).expect("positive lag")..];
        let snr = segmental_snr_db(&speech[9_600..], aligned, 960).expect("speech");
        assert!(snr > 5.0, "{frame:?}: {snr:.1} dB");
    }
}

#[test]
fn fec_recovers_a_lost_frame_better_than_concealment() {
    let speech = speech_like(3, 2.0);
    let config =
        EncoderConfig { dtx: false, expected_loss_percent: 20, ..EncoderConfig::default() };
    let packets = encode_all(config, &speech);
    let clean = decode_all(config.frame, &packets);
    let samples = config.frame.samples();
    let lost = |i: usize| i % 5 == 2;
    let mut concealed = VoiceDecoder::new(config.frame).expect("decoder");
    let mut recovered = VoiceDecoder::new(config.frame).expect("decoder");
    let mut with_plc = vec![0; clean.len()];
    let mut with_fec = vec![0; clean.len()];
    for (i, packet) in packets.iter().enumerate() {
        let packet = packet.as_deref().expect("no DTX");
        let range = i * samples..(i + 1) * samples;
        if lost(i) {
            concealed.conceal(&mut with_plc[range.clone()]).expect("conceals");
            let next = packets[i + 1].as_deref().expect("no DTX");
            recovered.recover(next, &mut with_fec[range]).expect("recovers");
        } else {
            concealed.decode(packet, &mut with_plc[range.clone()]).expect("decodes");
            recovered.decode(packet, &mut with_fec[range]).expect("decodes");
        }
    }
    let plc = segmental_snr_db(&clean, &with_plc, samples).expect("speech");
    let fec = segmental_snr_db(&clean, &with_fec, samples).expect("speech");
    assert!(fec > plc + 3.0, "FEC {fec:.1} dB vs concealment {plc:.1} dB");
}

#[test]
fn dtx_sends_nothing_in_silence_and_marks_the_next_spurt() {
    let mut encoder = VoiceEncoder::new(EncoderConfig::default()).expect("encoder");
    let speech = speech_like(1, 0.2);
    let silence = vec![0i16; 960];
    let first = encoder.encode(&speech[..960]).expect("encodes").map(|f| (f.seq, f.marker));
    assert_eq!(first, Some((0, true)));
    // Opus enters DTX after about 200 ms of silence, then sends one
    // comfort-noise update every 400 ms.
    let sent: Vec<bool> =
        (0..100).map(|_| encoder.encode(&silence).expect("encodes").is_some()).collect();
    let late_updates = sent[50..].iter().filter(|&&s| s).count();
    assert!(late_updates <= 4, "{late_updates} packets in the second second of silence");
    let resumed = encoder.encode(&speech[960..1_920]).expect("encodes").expect("speech is sent");
    assert!(resumed.marker);
    assert_eq!(resumed.timestamp, 101 * 960);
    let sent_in_silence = sent.iter().filter(|&&s| s).count() as u32;
    assert_eq!(resumed.seq, 1 + sent_in_silence);
}

#[test]
fn measured_loss_sets_the_fec_protection() {
    let mut encoder = VoiceEncoder::new(EncoderConfig::default()).expect("encoder");
    assert_eq!(encoder.expected_loss(), 5, "from the config");
    for (rate, percent) in
        [(0.0, 0), (0.001, 1), (0.034, 4), (0.2, 20), (1.5, 100), (-0.1, 0), (f64::NAN, 0)]
    {
        encoder.set_expected_loss_rate(rate).expect("in range");
        assert_eq!(encoder.expected_loss(), percent, "{rate}");
    }
    // More expected loss, more FEC data in the same packets.
    let speech = speech_like(4, 1.0);
    let bytes = |rate: f64| {
        let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
        let mut encoder = VoiceEncoder::new(config).expect("encoder");
        encoder.set_expected_loss_rate(rate).expect("in range");
        speech
            .chunks_exact(960)
            .map(|frame| encoder.encode(frame).expect("encodes").map_or(0, |f| f.payload.len()))
            .sum::<usize>()
    };
    let (clean, lossy) = (bytes(0.0), bytes(0.2));
    assert!(lossy > clean + clean / 10, "{lossy} bytes at 20 % loss, {clean} at none");
}

#[test]
fn skipped_frames_advance_the_clock_and_start_a_spurt() {
    let mut encoder = VoiceEncoder::new(EncoderConfig::default()).expect("encoder");
    let speech = speech_like(1, 0.1);
    let _ = encoder.encode(&speech[..960]).expect("encodes");
    encoder.skip();
    encoder.skip();
    let next = encoder.encode(&speech[960..1_920]).expect("encodes").expect("sent");
    assert_eq!((next.seq, next.timestamp, next.marker), (1, 3 * 960, true));
}

#[test]
fn wrong_sizes_and_settings_are_errors() {
    let mut encoder = VoiceEncoder::new(EncoderConfig::default()).expect("encoder");
    assert_eq!(encoder.encode(&[0; 100]), Err(CodecError::FrameLength { expected: 960, got: 100 }));
    let mut decoder = VoiceDecoder::new(FrameDuration::Ms20).expect("decoder");
    assert!(matches!(decoder.conceal(&mut [0; 10]), Err(CodecError::FrameLength { .. })));
    let bad_rate = EncoderConfig { bitrate: 1_000, ..EncoderConfig::default() };
    assert_eq!(VoiceEncoder::new(bad_rate).err(), Some(CodecError::Bitrate(1_000)));
    let bad_complexity = EncoderConfig { complexity: 11, ..EncoderConfig::default() };
    assert_eq!(VoiceEncoder::new(bad_complexity).err(), Some(CodecError::Complexity(11)));
}

#[test]
fn garbage_packets_are_concealed_exactly_as_a_loss_would_be() {
    // libopus refuses each of these: a 63-frame packet, twice over (TOC
    // codes 3), and a single frame longer than 1275 bytes.
    let garbage = [&[0xffu8; 3][..], &[0x03, 0xff, 0xff, 0xff], &[0u8; 1_500]];
    let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
    let packets = encode_all(config, &speech_like(5, 0.4));
    let frame = |payload: &[u8]| PlayoutFrame {
        seq: 0,
        timestamp: 0,
        payload: Bytes::copy_from_slice(payload),
    };
    // Speech, each garbage packet (as a frame, then as the FEC of a lost
    // one), speech again; and the same with plain losses instead.
    let mut with_garbage = Vec::new();
    let mut with_losses = Vec::new();
    let valid = |range: std::ops::Range<usize>| {
        packets[range].iter().map(|p| Playout::Frame(frame(p.as_deref().expect("no DTX"))))
    };
    for (playouts, losses) in [(&mut with_garbage, false), (&mut with_losses, true)] {
        playouts.extend(valid(0..8));
        for payload in garbage {
            let bad = frame(payload);
            if losses {
                playouts.extend([Playout::Conceal, Playout::Conceal]);
            } else {
                playouts.extend([Playout::Frame(bad.clone()), Playout::Fec(bad)]);
            }
        }
        playouts.extend(valid(8..20));
        playouts.push(Playout::Silence);
    }
    let render = |playouts: &[Playout]| {
        let mut decoder = VoiceDecoder::new(config.frame).expect("decoder");
        let mut pcm = vec![0; playouts.len() * config.frame.samples()];
        let kinds: Vec<Rendered> = playouts
            .iter()
            .zip(pcm.chunks_exact_mut(config.frame.samples()))
            .map(|(playout, out)| decoder.render(playout, out).expect("right length"))
            .collect();
        (kinds, pcm)
    };
    let (garbage_kinds, garbage_pcm) = render(&with_garbage);
    let (loss_kinds, loss_pcm) = render(&with_losses);
    let expected: Vec<Rendered> = [Rendered::Voice; 8]
        .into_iter()
        .chain([Rendered::Concealed; 6])
        .chain([Rendered::Voice; 12])
        .chain([Rendered::Silence])
        .collect();
    assert_eq!(garbage_kinds, expected);
    assert_eq!(loss_kinds, expected);
    // Sample for sample what concealing plain losses gives: the garbage
    // left the decoder as it was, and the speech after it decodes exactly.
    assert!(garbage_pcm == loss_pcm, "garbage changed the decoder's output");
    let concealed = &garbage_pcm[8 * 960..14 * 960];
    assert!(concealed.iter().any(|&s| s != 0), "concealment, not silence");
    assert!(garbage_pcm[garbage_pcm.len() - 960..].iter().all(|&s| s == 0), "silence is silent");
}

#[test]
fn real_speech_keeps_its_energy_and_pitch() {
    use crate::device::{AudioSource, Pacing, WavSource};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/speech-16k.wav");
    let mut source = WavSource::open(&path, Pacing::Unpaced).expect("fixture is checked in");
    let mut speech = vec![0; source.remaining() / 960 * 960];
    let _ = source.read_frame(&mut speech).expect("reads");
    let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
    let decoded = decode_all(config.frame, &encode_all(config, &speech));
    let lag = best_lag(&speech[24_000..33_600], &decoded, 600);
    let decoded = &decoded[usize::try_from(lag).expect("the codec delays, never advances")..];
    let n = decoded.len().min(speech.len());
    assert!((rms_dbfs(&speech[..n]) - rms_dbfs(&decoded[..n])).abs() < 1.0);
    // The pitch of the loudest 100 ms, where the voice is steadiest.
    let loudest = (0..n / 4_800 - 1)
        .max_by(|&a, &b| {
            rms_dbfs(&speech[a * 4_800..][..4_800])
                .total_cmp(&rms_dbfs(&speech[b * 4_800..][..4_800]))
        })
        .expect("several windows");
    let window = loudest * 4_800..(loudest + 1) * 4_800;
    let (original, coded) =
        (dominant_period(&speech[window.clone()]), dominant_period(&decoded[window]));
    assert!(original.abs_diff(coded) * 20 <= original, "period {original} became {coded}");
}
