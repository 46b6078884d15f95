//! A WAV file as a microphone: played once then silence, or looped.

use std::path::Path;

use voix_audio::device::{AudioSource, DeviceError, Pacer, Pacing, SourceStatus, WavSource};

/// A recording played in real time, as if someone spoke it into a
/// microphone. Sample `n` is captured `n / 48000` seconds after the first
/// read began; a looped clip goes on seamlessly.
#[derive(Debug, Clone)]
pub struct ClipSource {
    samples: Vec<i16>,
    position: usize,
    looping: bool,
    ended: bool,
    pacer: Pacer,
}

impl ClipSource {
    /// Reads `path` whole (any rate and channel count; see
    /// [`WavSource::open`]).
    pub fn open(path: &Path, looping: bool, pacing: Pacing) -> Result<Self, DeviceError> {
        let mut file = WavSource::open(path, Pacing::Unpaced)?;
        let mut samples = vec![0; file.remaining()];
        // One read of exactly what remains fills the buffer.
        let _ = file.read_frame(&mut samples)?;
        Ok(Self::from_samples(samples, looping, pacing))
    }

    /// A clip of `samples` (48 kHz mono).
    pub fn from_samples(samples: Vec<i16>, looping: bool, pacing: Pacing) -> Self {
        Self { samples, position: 0, looping, ended: false, pacer: Pacer::new(pacing) }
    }
}

impl AudioSource for ClipSource {
    /// Fills `frame` with the next samples; after the end, silence and
    /// [`SourceStatus::Ended`] (never, when looping a non-empty clip).
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<SourceStatus, DeviceError> {
        self.pacer.wait(frame.len());
        let mut filled = 0;
        while filled < frame.len() {
            if self.position == self.samples.len() {
                if self.looping && !self.samples.is_empty() {
                    self.position = 0;
                } else {
                    self.ended = true;
                    break;
                }
            }
            let n = (frame.len() - filled).min(self.samples.len() - self.position);
            frame[filled..filled + n]
                .copy_from_slice(&self.samples[self.position..self.position + n]);
            filled += n;
            self.position += n;
        }
        frame[filled..].fill(0);
        if self.ended { Ok(SourceStatus::Ended) } else { Ok(SourceStatus::Frame) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(
        source: &mut ClipSource,
        frames: usize,
        len: usize,
    ) -> (Vec<i16>, Vec<SourceStatus>) {
        let mut out = Vec::new();
        let mut statuses = Vec::new();
        let mut frame = vec![0; len];
        for _ in 0..frames {
            statuses.push(source.read_frame(&mut frame).expect("in memory"));
            out.extend_from_slice(&frame);
        }
        (out, statuses)
    }

    #[test]
    fn plays_once_then_silence() {
        let mut clip = ClipSource::from_samples(vec![1, 2, 3, 4, 5], false, Pacing::Unpaced);
        let (out, statuses) = read_all(&mut clip, 3, 2);
        assert_eq!(out, [1, 2, 3, 4, 5, 0]);
        assert_eq!(statuses, [SourceStatus::Frame, SourceStatus::Frame, SourceStatus::Ended]);
        let (out, statuses) = read_all(&mut clip, 1, 2);
        assert_eq!((out, statuses), (vec![0, 0], vec![SourceStatus::Ended]));
    }

    #[test]
    fn loops_without_a_gap() {
        let mut clip = ClipSource::from_samples(vec![1, 2, 3], true, Pacing::Unpaced);
        let (out, statuses) = read_all(&mut clip, 4, 2);
        assert_eq!(out, [1, 2, 3, 1, 2, 3, 1, 2]);
        assert!(statuses.iter().all(|s| *s == SourceStatus::Frame));
        let mut empty = ClipSource::from_samples(Vec::new(), true, Pacing::Unpaced);
        assert_eq!(read_all(&mut empty, 1, 2).1, [SourceStatus::Ended], "an empty loop ends");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(ClipSource::open(Path::new("/nonexistent.wav"), false, Pacing::Unpaced).is_err());
    }
}
