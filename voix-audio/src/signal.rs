//! Deterministic test signals: speech-like audio synthesized from a seed,
//! for tests, benches and demos on machines without a microphone.

use std::f64::consts::TAU;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::format::SAMPLE_RATE;

/// Highest harmonic frequency synthesized, in Hz.
const MAX_HARMONIC_HZ: f64 = 4_000.0;

/// One syllable (or pause) of the synthetic voice.
#[derive(Debug, Clone, Copy)]
struct Syllable {
    seconds: f64,
    voiced: bool,
    pitch_hz: f64,
    formants_hz: [f64; 2],
}

/// Synthesizes `seconds` of a speech-like signal at 48 kHz: voiced
/// syllables (a harmonic source with a gliding pitch between 90 and 220 Hz,
/// shaped by two moving formants, under a syllable envelope) separated by
/// short pauses. The same seed always gives the same samples.
///
/// Peak level is about −6 dBFS.
pub fn speech_like(seed: u64, seconds: f64) -> Vec<i16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let total = (seconds.max(0.0) * f64::from(SAMPLE_RATE)) as usize;
    let rate = f64::from(SAMPLE_RATE);
    let mut out = Vec::with_capacity(total);
    let mut phase = 0.0f64;
    while out.len() < total {
        let syllable = Syllable {
            seconds: rng.random_range(0.12..0.35),
            voiced: rng.random_bool(0.8),
            pitch_hz: rng.random_range(90.0..220.0),
            formants_hz: [rng.random_range(300.0..900.0), rng.random_range(900.0..2_500.0)],
        };
        let length = (syllable.seconds * rate) as usize;
        for i in 0..length.min(total - out.len()) {
            let t = i as f64 / rate;
            let envelope = (std::f64::consts::PI * t / syllable.seconds).sin().powi(2);
            if !syllable.voiced {
                out.push(0);
                continue;
            }
            // The pitch glides down by a fifth over the syllable.
            let pitch = syllable.pitch_hz * (1.0 - 0.3 * t / syllable.seconds);
            phase = (phase + TAU * pitch / rate) % TAU;
            let mut sample = 0.0;
            let harmonics = (MAX_HARMONIC_HZ / pitch) as usize;
            for k in 1..=harmonics {
                let frequency = k as f64 * pitch;
                let gain: f64 = syllable
                    .formants_hz
                    .iter()
                    .map(|f| (-((frequency - f) / 150.0).powi(2)).exp())
                    .sum::<f64>()
                    + 0.05 / k as f64;
                sample += gain * (k as f64 * phase).sin();
            }
            out.push((sample * envelope * 6_000.0).clamp(-32_768.0, 32_767.0) as i16);
        }
    }
    out
}

/// A sine tone at `hz` with peak `amplitude`, `samples` long.
pub fn tone(hz: f64, amplitude: i16, samples: usize) -> Vec<i16> {
    let rate = f64::from(SAMPLE_RATE);
    (0..samples)
        .map(|i| (f64::from(amplitude) * (TAU * hz * i as f64 / rate).sin()) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::rms_dbfs;

    #[test]
    fn same_seed_same_speech() {
        assert_eq!(speech_like(5, 0.5), speech_like(5, 0.5));
        assert_ne!(speech_like(5, 0.5), speech_like(6, 0.5));
        assert_eq!(speech_like(5, 0.5).len(), 24_000);
    }

    #[test]
    fn speech_has_talk_and_pauses_at_a_sane_level() {
        let speech = speech_like(1, 3.0);
        let frames: Vec<f64> = speech.chunks(960).map(rms_dbfs).collect();
        let loud = frames.iter().filter(|&&db| db > -35.0).count();
        let quiet = frames.iter().filter(|&&db| db < -60.0).count();
        assert!(loud > frames.len() / 3, "{loud} of {}", frames.len());
        assert!(quiet > 0, "no pauses");
        assert!(speech.iter().all(|s| s.unsigned_abs() < 32_000));
    }
}
