//! Energy-based voice activity detection.

use std::time::Duration;

use crate::quality::rms_dbfs;

/// Settings of an [`EnergyVad`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// How far above the noise floor (dB) a frame must be to be voice.
    pub above_noise_db: f64,
    /// Frames quieter than this (dBFS) are never voice.
    pub min_level_dbfs: f64,
    /// Voice is reported for this long after the last loud frame, so word
    /// endings and short pauses are not cut.
    pub hangover: Duration,
    /// Duration of the frames given to [`EnergyVad::is_voice`].
    pub frame: Duration,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            above_noise_db: 12.0,
            min_level_dbfs: -50.0,
            hangover: Duration::from_millis(300),
            frame: Duration::from_millis(20),
        }
    }
}

/// How fast the noise floor estimate rises while the level stays above
/// it, in dB per frame (about 2.5 dB/s at 20 ms frames), so speech does not
/// drag it up but a noisier room eventually does.
const FLOOR_RISE_DB: f64 = 0.05;

/// Decides frame by frame whether someone is speaking, from the frame's
/// level against an adaptive estimate of the background noise.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    config: VadConfig,
    noise_floor_dbfs: f64,
    hangover_frames: u32,
    hangover_left: u32,
}

impl EnergyVad {
    /// A detector with `config`, assuming a quiet room to start.
    pub fn new(config: VadConfig) -> Self {
        let frame = config.frame.as_secs_f64().max(1e-3);
        Self {
            config,
            noise_floor_dbfs: config.min_level_dbfs - config.above_noise_db,
            hangover_frames: (config.hangover.as_secs_f64() / frame).round() as u32,
            hangover_left: 0,
        }
    }

    /// Whether `frame` is (or closely follows) speech.
    pub fn is_voice(&mut self, frame: &[i16]) -> bool {
        let level = rms_dbfs(frame);
        self.noise_floor_dbfs = if level < self.noise_floor_dbfs {
            level
        } else {
            (self.noise_floor_dbfs + FLOOR_RISE_DB).min(level)
        };
        let threshold =
            (self.noise_floor_dbfs + self.config.above_noise_db).max(self.config.min_level_dbfs);
        if level > threshold {
            self.hangover_left = self.hangover_frames;
            true
        } else if self.hangover_left > 0 {
            self.hangover_left -= 1;
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
    use crate::signal::speech_like;

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
    fn a_steady_noisy_room_is_learned_as_noise() {
        let mut vad = EnergyVad::new(VadConfig::default());
        let hum = noise(2_000, 48_000 * 20, 2);
        let voiced_at_end =
            hum.chunks(960).map(|f| vad.is_voice(f)).skip(900).filter(|&v| v).count();
        assert_eq!(voiced_at_end, 0);
        assert!(vad.noise_floor_dbfs() > -40.0, "{}", vad.noise_floor_dbfs());
    }
}
