//! The audio devices and the two real-time threads that drive the voice
//! engine with them: capture (source → engine → UDP) and playback
//! (engine → sink).
//!
//! Each thread opens its own device (cpal streams may not move between
//! threads) and reports whether that worked before [`AudioThreads::start`]
//! returns, so a missing sound card is a clear error at start-up rather
//! than silence.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use voix_audio::device::{
    AudioSink, AudioSource, CpalSink, CpalSource, DeviceError, NullSink, NullSource, Pacing,
    SourceStatus, WavSink, WavSource,
};

use crate::app::{SharedVoice, lock};
use crate::net::VoiceOut;

/// Where the microphone's audio comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceChoice {
    /// A WAV file, played once then silence, or looped.
    Wav {
        /// The file.
        path: PathBuf,
        /// Start again at the end.
        looping: bool,
    },
    /// Silence.
    Null,
    /// The default capture device.
    Device,
}

/// Where what we hear goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkChoice {
    /// A WAV file (48 kHz mono 16-bit), written as it plays.
    Wav(PathBuf),
    /// Nowhere.
    Null,
    /// The default playback device.
    Device,
}

/// Which way audio flows through a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Capture.
    Input,
    /// Playback.
    Output,
}

impl Direction {
    /// `input` or `output`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Output => "output",
        }
    }
}

/// What the audio threads report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioNotice {
    /// The device's first sample is at `unix_us`.
    Started {
        /// Which device.
        direction: Direction,
        /// Microseconds since the Unix epoch.
        unix_us: u64,
    },
    /// The input file ended; silence follows.
    InputEnded,
    /// The device failed and its thread stopped.
    Failed {
        /// Which device.
        direction: Direction,
        /// What went wrong.
        message: String,
    },
}

/// Why audio could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// No sound card.
    #[error("no audio device; use --input-wav/--output-wav or --null-audio")]
    NoDevice,
    /// A device or file could not be opened.
    #[error("cannot open the audio {}: {error}", direction.as_str())]
    Open {
        /// Which one.
        direction: Direction,
        /// Why.
        error: DeviceError,
    },
    /// The audio thread could not be started.
    #[error("cannot start the audio thread: {0}")]
    Thread(String),
}

impl AudioError {
    fn open(direction: Direction, error: DeviceError) -> Self {
        match error {
            DeviceError::NoDevice => Self::NoDevice,
            error => Self::Open { direction, error },
        }
    }
}

/// The capture and playback threads, stopped and joined on drop (which
/// also finishes a WAV recording).
#[derive(Debug)]
pub struct AudioThreads {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl AudioThreads {
    /// Opens both devices, each in its own thread, and starts them.
    pub fn start(
        source: SourceChoice,
        sink: SinkChoice,
        voice: SharedVoice,
        out: VoiceOut,
        notify: impl Fn(AudioNotice) + Send + Clone + 'static,
    ) -> Result<Self, AudioError> {
        let mut threads = Self { stop: Arc::new(AtomicBool::new(false)), handles: Vec::new() };
        let stop = Arc::clone(&threads.stop);
        let (v, n) = (Arc::clone(&voice), notify.clone());
        threads.spawn(
            "voix-capture",
            Direction::Input,
            move || open_source(&source),
            move |source| capture(source, &v, &out, &stop, &n),
        )?;
        let stop = Arc::clone(&threads.stop);
        threads.spawn(
            "voix-playback",
            Direction::Output,
            move || open_sink(&sink),
            move |sink| playback(sink, &voice, &stop, &notify),
        )?;
        Ok(threads)
    }

    /// Starts a thread that opens a device with `open`, reports the result,
    /// then runs `body` on it.
    fn spawn<D: 'static>(
        &mut self,
        name: &str,
        direction: Direction,
        open: impl FnOnce() -> Result<D, DeviceError> + Send + 'static,
        body: impl FnOnce(D) + Send + 'static,
    ) -> Result<(), AudioError> {
        let (opened_tx, opened) = mpsc::sync_channel(1);
        let handle = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || match open() {
                Ok(device) => {
                    let _ = opened_tx.send(Ok(()));
                    body(device);
                }
                Err(error) => {
                    let _ = opened_tx.send(Err(error));
                }
            })
            .map_err(|e| AudioError::Thread(e.to_string()))?;
        self.handles.push(handle);
        match opened.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(AudioError::open(direction, error)),
            Err(_) => Err(AudioError::Thread(format!("{name} stopped while opening its device"))),
        }
    }
}

impl Drop for AudioThreads {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

fn open_source(choice: &SourceChoice) -> Result<Box<dyn AudioSource>, DeviceError> {
    Ok(match choice {
        SourceChoice::Wav { path, looping } => {
            Box::new(WavSource::open(path, Pacing::RealTime)?.with_looping(*looping))
        }
        SourceChoice::Null => Box::new(NullSource::new(Pacing::RealTime)),
        SourceChoice::Device => Box::new(CpalSource::open_default()?),
    })
}

fn open_sink(choice: &SinkChoice) -> Result<Box<dyn AudioSink>, DeviceError> {
    Ok(match choice {
        SinkChoice::Wav(path) => Box::new(WavSink::create(path, Pacing::RealTime)?),
        SinkChoice::Null => Box::new(NullSink::new(Pacing::RealTime)),
        SinkChoice::Device => Box::new(CpalSink::open_default()?),
    })
}

/// Microseconds since the Unix epoch, now.
fn unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// The capture loop: one frame per 20 ms from the (paced) source into the
/// engine, and the datagrams it makes onto the network at once.
fn capture(
    mut source: Box<dyn AudioSource>,
    voice: &SharedVoice,
    out: &VoiceOut,
    stop: &AtomicBool,
    notify: &impl Fn(AudioNotice),
) {
    let mut frame = vec![0; lock(voice).frame_samples()];
    let mut ended = false;
    notify(AudioNotice::Started { direction: Direction::Input, unix_us: unix_us() });
    while !stop.load(Ordering::Relaxed) {
        match source.read_frame(&mut frame) {
            Ok(SourceStatus::Frame) => {}
            Ok(SourceStatus::Ended) => {
                if !std::mem::replace(&mut ended, true) {
                    notify(AudioNotice::InputEnded);
                }
            }
            Err(DeviceError::Stalled(waited)) => {
                lock(voice).handle_capture_gap(waited);
                continue;
            }
            Err(error) => {
                notify(AudioNotice::Failed {
                    direction: Direction::Input,
                    message: error.to_string(),
                });
                return;
            }
        }
        lock(voice).handle_capture(Instant::now(), &frame);
        out.flush(voice);
    }
}

/// The playback loop: one mixed frame per 20 ms from the engine into the
/// (paced) sink. The frame rendered at `t` plays from `t`.
fn playback(
    mut sink: Box<dyn AudioSink>,
    voice: &SharedVoice,
    stop: &AtomicBool,
    notify: &impl Fn(AudioNotice),
) {
    let mut frame = vec![0; lock(voice).frame_samples()];
    notify(AudioNotice::Started { direction: Direction::Output, unix_us: unix_us() });
    while !stop.load(Ordering::Relaxed) {
        if lock(voice).render(Instant::now(), &mut frame).is_err() {
            frame.fill(0);
        }
        if let Err(error) = sink.write_frame(&frame) {
            if matches!(error, DeviceError::Stalled(_)) {
                continue;
            }
            notify(AudioNotice::Failed {
                direction: Direction::Output,
                message: error.to_string(),
            });
            break;
        }
    }
    if let Err(error) = sink.finish() {
        notify(AudioNotice::Failed { direction: Direction::Output, message: error.to_string() });
    }
}
