//! Where audio comes from and goes to: microphones and speakers (cpal), WAV
//! files, and null devices, all behind two small traits.
//!
//! Every device speaks 48 kHz mono 16-bit, one frame per call. Sources and
//! sinks that are *paced* block until the frame is due in real time (a
//! sound card does so by nature); unpaced ones never block, which is what
//! tests on a virtual clock want.

mod cpal_backend;
mod null;
mod pacing;
mod playback;
mod wav;

use std::path::PathBuf;
use std::time::Duration;

pub use cpal_backend::{CpalSink, CpalSource};
pub use null::{NullSink, NullSource};
pub use pacing::{Pacer, Pacing};
pub use playback::DEFAULT_PLAYBACK_TARGET;
pub use wav::{MAX_WAV_SECONDS, MAX_WAV_SINK_SAMPLES, WavSink, WavSource};

/// Whether a source had audio to give.
#[must_use = "a source that has ended should stop being read"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// The frame was filled with audio.
    Frame,
    /// The source has no more audio (end of file); the frame was filled
    /// with whatever was left, then silence.
    Ended,
}

/// A source of 48 kHz mono audio: a microphone, a file, silence.
pub trait AudioSource {
    /// Fills `frame` with the next `frame.len()` samples.
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<SourceStatus, DeviceError>;
}

/// A destination for 48 kHz mono audio: a speaker, a file, nowhere.
pub trait AudioSink {
    /// Plays or stores `frame`.
    fn write_frame(&mut self, frame: &[i16]) -> Result<(), DeviceError>;

    /// Flushes what is buffered (a file's header, a device's queue).
    fn finish(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// Why a device failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// There is no sound card (or no default one).
    #[error("no audio device; use a WAV file or null audio")]
    NoDevice,
    /// The device exists but cannot do 48 kHz in a sample format we handle.
    #[error("audio device cannot do 48 kHz {0}; use a WAV file or null audio")]
    Unsupported(String),
    /// The audio back end reported an error.
    #[error("audio device: {0}")]
    Backend(String),
    /// A capture device delivered no audio for this long.
    #[error("audio device delivered nothing for {0:?}")]
    Stalled(Duration),
    /// A WAV file could not be read or written.
    #[error("{path}: {message}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
