//! Energy-based voice activity detection.
//!
//! The detector keeps time by the samples it is given (at
//! [`SAMPLE_RATE`]), so it works alike with frames of any duration and
//! cannot disagree with the capture about how long a frame lasts.

use std::time::Duration;

use crate::format::SAMPLE_RATE;
use crate::quality::rms_dbfs;

/// Settings of an [`EnergyVad`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// How far above the noise floor (dB) a frame must be to be voice.
    pub above_noise_db: f64,
    /// Frames quieter than this (dBFS) are never voice.
    pub min_level_dbfs: f64,
    /// Voice is reported for this long (rounded up to whole frames) after
    /// the last loud frame, so word endings and short pauses are not cut.
    pub hangover: Duration,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self { above_noise_db: 12.0, min_level_dbfs: -50.0, hangover: Duration::from_millis(300) }
    }
}

/// How fast the noise floor estimate rises while the level stays above
/// it, in dB per second, so speech does not drag it up but a noisier room
/// eventually does.
const FLOOR_RISE_DB_PER_S: f64 = 2.5;

/// Decides frame by frame whether someone is speaking, from the frame's
/// level against an adaptive estimate of the background noise.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    config: VadConfig,
    noise_floor_dbfs: f64,
    /// The hangover, in samples.
    hangover_samples: u64,
    /// Samples of hangover left since the last loud frame.
    hangover_left: u64,
}

impl EnergyVad {
    /// A detector with `config`, assuming a quiet room to start.
    pub fn new(config: VadConfig) -> Self {
        let samples = config.hangover.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000;
        Self {
            config,
            noise_floor_dbfs: config.min_level_dbfs - config.above_noise_db,
            hangover_samples: u64::try_from(samples).unwrap_or(u64::MAX),
            hangover_left: 0,
        }
    }

    /// Whether `frame` (48 kHz mono, of any length) is, or closely follows,
    /// speech.
    pub fn is_voice(&mut self, frame: &[i16]) -> bool {
        let samples = u64::try_from(frame.len()).unwrap_or(u64::MAX);
        let level = rms_dbfs(frame);
        let rise = FLOOR_RISE_DB_PER_S * samples as f64 / f64::from(SAMPLE_RATE);
        self.noise_floor_dbfs = if level < self.noise_floor_dbfs {
            level
        } else {
            (self.noise_floor_dbfs + rise).min(level)
        };
        let threshold =
            (self.noise_floor_dbfs + self.config.above_noise_db).max(self.config.min_level_dbfs);
        if level > threshold {
            self.hangover_left = self.hangover_samples;
            true
        } else if self.hangover_left > 0 {
            self.hangover_left = self.hangover_left.saturating_sub(samples);
            true
        } else {
            false
        }
    }

    /// The current estimate of the background noise level, in dBFS.
    pub fn noise_floor_dbfs(&self) -> f64 {
        self.noise_floor_dbfs
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::format::FrameDuration;
    use crate::signal::{speech_like, tone};

    fn noise(level: i16, samples: usize, seed: u64) -> Vec<i16> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..samples).map(|_| rng.random_range(-level..=level)).collect()
    }

    #[test]
    fn speech_is_voice_and_silence_is_not() {
        let mut vad = EnergyVad::new(VadConfig::default());
        let quiet = noise(30, 48_000, 1);
        assert!(quiet.chunks(960).all(|f| !vad.is_voice(f)));
        let speech = speech_like(9, 3.0);
        let voiced = speech.chunks(960).filter(|f| vad.is_voice(f)).count();
        let loud = speech.chunks(960).filter(|f| rms_dbfs(f) > -35.0).count();
        assert!(voiced >= loud, "{voiced} voice frames, {loud} loud ones");
        // After the hangover, silence again.
        assert!(quiet.chunks(960).map(|f| vad.is_voice(f)).skip(15).all(|voice| !voice));
    }

    #[test]
    fn hangover_and_floor_keep_time_at_every_frame_size() {
        for frame in FrameDuration::ALL {
            let samples = frame.samples();
            let mut vad = EnergyVad::new(VadConfig::default());
            let loud = tone(300.0, 8_000, samples * 10);
            assert!(loud.chunks(samples).all(|f| vad.is_voice(f)), "{frame:?}");
            let silence = vec![0i16; 48_000];
            let held = silence.chunks(samples).take_while(|f| vad.is_voice(f)).count();
            // 300 ms, rounded up to whole frames.
            let held_ms = held as u32 * frame.millis();
            assert!((300..300 + frame.millis()).contains(&held_ms), "{frame:?}: {held} frames");
            // Four seconds of a steady hum (-44 dBFS) lift the floor from
            // -62 dBFS by 2.5 dB a second, whatever the frame size.
            let mut vad = EnergyVad::new(VadConfig::default());
            let hum = tone(100.0, 300, 4 * 48_000);
            for chunk in hum.chunks(samples) {
                let _ = vad.is_voice(chunk);
            }
            let floor = vad.noise_floor_dbfs();
            assert!((floor - -52.0).abs() < 0.01, "{frame:?}: floor {floor:.2} dBFS");
        }
    }

    #[test]
    fn a_steady_noisy_room_is_learned_as_noise() {
        let mut vad = EnergyVad::new(VadConfig::default());
        let hum = noise(2_000, 48_000 * 20, 2);
        let voiced_at_end =
            hum.chunks(960).map(|f| vad.is_voice(f)).skip(900).filter(|&v| v).count();
        assert_eq!(voiced_at_end, 0);
        assert!(vad.noise_floor_dbfs() > -40.0, "{}", vad.noise_floor_dbfs());
    }
}
