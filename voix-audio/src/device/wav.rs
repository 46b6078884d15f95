//! WAV files as audio devices (through `hound`).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{AudioSink, AudioSource, DeviceError, Pacer, Pacing, SourceStatus};
use crate::format::SAMPLE_RATE;

/// Longest WAV file a [`WavSource`] reads, in seconds (it is read whole).
pub const MAX_WAV_SECONDS: u32 = 600;

/// Most samples a [`WavSink`] records: a WAV header counts the file's bytes
/// in 32 bits, which at 48 kHz 16-bit is about 12 h 25 min.
pub const MAX_WAV_SINK_SAMPLES: u64 = (u32::MAX as u64 - WAV_HEADER_MARGIN) / 2;

/// Bytes kept free below 4 GiB for the header (hound's is at most 68).
const WAV_HEADER_MARGIN: u64 = 256;

/// Plays a WAV file as if it were a microphone.
///
/// Any sample rate, channel count and sample format `hound` reads is
/// accepted: channels are averaged to mono and the rate converted to 48 kHz
/// by linear interpolation. The file is read whole when opened.
///
/// By default it ends with the file; [`with_looping`](Self::with_looping)
/// makes it start over without a gap, sample after sample, for ever.
#[derive(Debug, Clone)]
pub struct WavSource {
    samples: Vec<i16>,
    position: usize,
    looping: bool,
    pacer: Pacer,
}

impl WavSource {
    /// Opens and reads `path`.
    pub fn open(path: impl AsRef<Path>, pacing: Pacing) -> Result<Self, DeviceError> {
        let path = path.as_ref();
        let fail = |message: String| DeviceError::Wav { path: path.to_owned(), message };
        let reader = hound::WavReader::open(path).map_err(|e| fail(e.to_string()))?;
        let spec = reader.spec();
        if spec.channels == 0 || spec.sample_rate == 0 {
            return Err(fail("no channels or zero sample rate".into()));
        }
        if reader.duration() / spec.sample_rate > MAX_WAV_SECONDS {
            return Err(fail(format!("longer than {MAX_WAV_SECONDS} s")));
        }
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| fail(e.to_string()))?,
            hound::SampleFormat::Int => {
                let scale =
                    1.0 / (1u64 << spec.bits_per_sample.clamp(1, 32).saturating_sub(1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|s| s as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(|e| fail(e.to_string()))?
            }
        };
        let mono: Vec<f32> = interleaved
            .chunks_exact(usize::from(spec.channels))
            .map(|frame| frame.iter().sum::<f32>() / f32::from(spec.channels))
            .collect();
        Ok(Self::from_samples(resample(&mono, spec.sample_rate), pacing))
    }

    /// A source playing `samples` (48 kHz mono), as if read from a file.
    pub fn from_samples(samples: Vec<i16>, pacing: Pacing) -> Self {
        Self { samples, position: 0, looping: false, pacer: Pacer::new(pacing) }
    }

    /// The same source, playing the file over and over if `looping`: the
    /// first sample follows the last within a frame, and the source never
    /// ends (unless the file is empty).
    #[must_use]
    pub fn with_looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    /// Whether the source starts over at the end of the file.
    pub fn is_looping(&self) -> bool {
        self.looping
    }

    /// Samples not yet read in the current pass through the file.
    pub fn remaining(&self) -> usize {
        self.samples.len() - self.position
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<SourceStatus, DeviceError> {
        self.pacer.wait(frame.len());
        let mut filled = 0;
        loop {
            let available = self.remaining().min(frame.len() - filled);
            frame[filled..filled + available]
                .copy_from_slice(&self.samples[self.position..self.position + available]);
            filled += available;
            self.position += available;
            if filled == frame.len() {
                return Ok(SourceStatus::Frame);
            }
            if !self.looping || self.samples.is_empty() {
                frame[filled..].fill(0);
                return Ok(SourceStatus::Ended);
            }
            self.position = 0;
        }
    }
}

/// Converts mono samples in `[-1, 1]` at `rate` Hz to 48 kHz 16-bit by
/// linear interpolation.
fn resample(mono: &[f32], rate: u32) -> Vec<i16> {
    let to_i16 = |s: f32| (s * 32_768.0).clamp(-32_768.0, 32_767.0) as i16;
    if rate == SAMPLE_RATE {
        return mono.iter().map(|&s| to_i16(s)).collect();
    }
    let Some(&last) = mono.last() else {
        return Vec::new();
    };
    let out_len = (mono.len() as u64 * u64::from(SAMPLE_RATE) / u64::from(rate)) as usize;
    let step = f64::from(rate) / f64::from(SAMPLE_RATE);
    (0..out_len)
        .map(|i| {
            let position = i as f64 * step;
            let index = position as usize;
            let fraction = (position - index as f64) as f32;
            let a = mono.get(index).copied().unwrap_or(last);
            let b = mono.get(index + 1).copied().unwrap_or(last);
            to_i16(a + (b - a) * fraction)
        })
        .collect()
}

/// Records audio into a 48 kHz mono 16-bit WAV file.
///
/// A WAV file holds at most [`MAX_WAV_SINK_SAMPLES`]; a frame that would
/// go beyond is refused with an error, and what was recorded before stays
/// a valid file once [`finish`](AudioSink::finish)ed.
pub struct WavSink {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    /// Samples written so far: hound's own 32-bit byte count would
    /// overflow (a panic, or a corrupt header) past 4 GiB.
    written: u64,
    pacer: Pacer,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("path", &self.path)
            .field("finished", &self.writer.is_none())
            .finish_non_exhaustive()
    }
}

impl WavSink {
    /// Creates (or truncates) `path`.
    pub fn create(path: impl AsRef<Path>, pacing: Pacing) -> Result<Self, DeviceError> {
        let path = path.as_ref().to_owned();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&path, spec)
            .map_err(|e| DeviceError::Wav { path: path.clone(), message: e.to_string() })?;
        Ok(Self { path, writer: Some(writer), written: 0, pacer: Pacer::new(pacing) })
    }

    fn fail(&self, error: &hound::Error) -> DeviceError {
        DeviceError::Wav { path: self.path.clone(), message: error.to_string() }
    }
}

impl AudioSink for WavSink {
    fn write_frame(&mut self, frame: &[i16]) -> Result<(), DeviceError> {
        self.pacer.wait(frame.len());
        let Some(writer) = self.writer.as_mut() else {
            return Err(DeviceError::Wav {
                path: self.path.clone(),
                message: "already finished".into(),
            });
        };
        let len = u64::try_from(frame.len()).unwrap_or(u64::MAX);
        if self.written.saturating_add(len) > MAX_WAV_SINK_SAMPLES {
            return Err(DeviceError::Wav {
                path: self.path.clone(),
                message: format!("full: a WAV file holds at most {MAX_WAV_SINK_SAMPLES} samples"),
            });
        }
        self.written += len;
        // Below the limit, so the length fits in u32.
        let mut samples = writer.get_i16_writer(frame.len() as u32);
        for &sample in frame {
            samples.write_sample(sample);
        }
        samples.flush().map_err(|e| self.fail(&e))
    }

    fn finish(&mut self) -> Result<(), DeviceError> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|e| self.fail(&e)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::speech_like;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("voix-audio-{}-{name}.wav", std::process::id()))
    }

    #[test]
    fn a_recorded_file_plays_back_identically() {
        let path = temp_path("round-trip");
        let speech = speech_like(4, 0.5);
        let mut sink = WavSink::create(&path, Pacing::Unpaced).expect("temp dir is writable");
        for frame in speech.chunks(960) {
            sink.write_frame(frame).expect("writes");
        }
        sink.finish().expect("finalizes");
        assert!(sink.write_frame(&speech[..960]).is_err(), "writing after finish");
        let mut source = WavSource::open(&path, Pacing::Unpaced).expect("reads back");
        assert_eq!(source.remaining(), speech.len());
        let mut played = Vec::new();
        let mut frame = vec![0; 960];
        while source.read_frame(&mut frame).expect("reads") == SourceStatus::Frame {
            played.extend_from_slice(&frame);
        }
        assert_eq!(played, speech);
        assert_eq!(source.read_frame(&mut frame), Ok(SourceStatus::Ended));
        assert!(frame.iter().all(|&s| s == 0));
        std::fs::remove_file(path).expect("cleanup");
    }

    #[test]
    fn a_looping_source_starts_over_without_a_gap() {
        // 2.5 frames of a ramp: every frame after the first crosses or
        // touches the end of the file.
        let ramp: Vec<i16> = (0..2_400).map(|i| i16::try_from(i).expect("small")).collect();
        let mut source = WavSource::from_samples(ramp.clone(), Pacing::Unpaced).with_looping(true);
        assert!(source.is_looping());
        let mut played = Vec::new();
        let mut frame = vec![0; 960];
        for _ in 0..10 {
            assert_eq!(source.read_frame(&mut frame), Ok(SourceStatus::Frame));
            played.extend_from_slice(&frame);
        }
        let expected: Vec<i16> = ramp.iter().copied().cycle().take(9_600).collect();
        assert_eq!(played, expected);
    }

    #[test]
    fn an_empty_looping_source_ends() {
        let mut source = WavSource::from_samples(Vec::new(), Pacing::Unpaced).with_looping(true);
        let mut frame = vec![1; 960];
        assert_eq!(source.read_frame(&mut frame), Ok(SourceStatus::Ended));
        assert!(frame.iter().all(|&s| s == 0));
    }

    #[test]
    fn other_rates_and_channels_become_48_khz_mono() {
        let path = temp_path("stereo-16k");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).expect("temp dir is writable");
        for i in 0..16_000 {
            // Left a ramp, right its negative plus 1000: the mean is 500.
            let left = (i % 1_000) as i16;
            writer.write_sample(left).expect("writes");
            writer.write_sample(1_000 - left).expect("writes");
        }
        writer.finalize().expect("finalizes");
        let source = WavSource::open(&path, Pacing::Unpaced).expect("reads");
        assert_eq!(source.remaining(), 48_000);
        assert!(source.samples.iter().all(|&s| (499..=501).contains(&s)));
        std::fs::remove_file(path).expect("cleanup");
    }

    #[test]
    fn reads_the_speech_fixture_at_48_khz() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/speech-16k.wav");
        let source = WavSource::open(&path, Pacing::Unpaced).expect("fixture is checked in");
        // 61 686 samples at 16 kHz are 185 058 at 48 kHz.
        assert_eq!(source.remaining(), 185_058);
        let level = crate::quality::rms_dbfs(&source.samples);
        assert!((-40.0..-6.0).contains(&level), "{level} dBFS");
    }

    #[test]
    fn a_full_sink_refuses_frames_and_keeps_a_valid_file() {
        let path = temp_path("full");
        let mut sink = WavSink::create(&path, Pacing::Unpaced).expect("temp dir is writable");
        sink.write_frame(&[5; 960]).expect("writes");
        // As if twelve hours had been recorded already.
        sink.written = MAX_WAV_SINK_SAMPLES - 960;
        sink.write_frame(&[6; 960]).expect("the last frame that fits");
        assert!(matches!(sink.write_frame(&[7; 960]), Err(DeviceError::Wav { .. })));
        sink.finish().expect("finalizes");
        let source = WavSource::open(&path, Pacing::Unpaced).expect("reads back");
        assert_eq!(source.samples.len(), 1_920);
        assert_eq!(source.samples[1_919], 6);
        std::fs::remove_file(path).expect("cleanup");
    }

    #[test]
    fn missing_and_malformed_files_are_errors() {
        assert!(matches!(
            WavSource::open("/nonexistent/voix.wav", Pacing::Unpaced),
            Err(DeviceError::Wav { .. })
        ));
        let path = temp_path("garbage");
        std::fs::write(&path, b"RIFF....WAVEnot really").expect("temp dir is writable");
        assert!(matches!(WavSource::open(&path, Pacing::Unpaced), Err(DeviceError::Wav { .. })));
        std::fs::remove_file(path).expect("cleanup");
    }
}
