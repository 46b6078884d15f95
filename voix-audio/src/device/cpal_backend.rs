//! Microphones and speakers through cpal.
//!
//! cpal calls back on its own thread; these types bridge that to the
//! frame-at-a-time [`AudioSource`] / [`AudioSink`] calls through a bounded
//! queue and a condition variable. A read waits for audio (never spins)
//! and gives up with [`DeviceError::Stalled`] if none comes; on a machine
//! without a sound card, opening fails at once with
//! [`DeviceError::NoDevice`]. Playback keeps only a short queue (see
//! [`DEFAULT_PLAYBACK_TARGET`]), so what is written is heard soon.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::playback::{DEFAULT_PLAYBACK_TARGET, PlaybackQueue};
use super::{AudioSink, AudioSource, DeviceError, SourceStatus};
use crate::format::SAMPLE_RATE;

/// Captured audio queued between cpal's thread and ours, at most.
const QUEUE_SAMPLES: usize = SAMPLE_RATE as usize / 2;

/// How long a read or write waits for the device before giving up.
const DEVICE_TIMEOUT: Duration = Duration::from_millis(500);

/// How long cpal may take to open a stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(2);

/// Samples shared with cpal's callback thread (a queue of type `Q`), and
/// the last stream error it reported.
#[derive(Debug)]
struct Shared<Q> {
    queue: Mutex<Q>,
    changed: Condvar,
    error: Mutex<Option<DeviceError>>,
}

impl<Q> Shared<Q> {
    fn new(queue: Q) -> Self {
        Self { queue: Mutex::new(queue), changed: Condvar::new(), error: Mutex::new(None) }
    }

    fn lock(&self) -> MutexGuard<'_, Q> {
        // A panic on the other side leaves plain samples behind; keep going.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Called on cpal's thread when the stream reports an error. Glitches
    /// the stream recovers from by itself (an xrun, a reroute, no real-time
    /// priority) are not failures and are let pass.
    fn report(&self, error: &cpal::Error) {
        if matches!(
            error.kind(),
            cpal::ErrorKind::Xrun
                | cpal::ErrorKind::DeviceChanged
                | cpal::ErrorKind::RealtimeDenied
        ) {
            return;
        }
        let mut slot = self.error.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some(device_error(error.clone()));
        self.changed.notify_all();
    }

    /// The error cpal reported since the last call, if any.
    fn take_error(&self) -> Result<(), DeviceError> {
        let mut slot = self.error.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.take().map_or(Ok(()), Err)
    }
}

/// The default microphone, captured at 48 kHz and mixed down to mono.
pub struct CpalSource {
    shared: Arc<Shared<VecDeque<i16>>>,
    _stream: cpal::Stream,
}

impl std::fmt::Debug for CpalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalSource").finish_non_exhaustive()
    }
}

impl CpalSource {
    /// Opens the default input device and starts capturing.
    pub fn open_default() -> Result<Self, DeviceError> {
        let device = cpal::default_host().default_input_device().ok_or(DeviceError::NoDevice)?;
        let supported = device.default_input_config().map_err(device_error)?;
        let channels = usize::from(supported.channels()).max(1);
        let config = cpal::StreamConfig {
            channels: supported.channels(),
            sample_rate: SAMPLE_RATE,
            buffer_size: cpal::BufferSize::Default,
        };
        let shared = Arc::new(Shared::new(VecDeque::new()));
        let sink = Arc::clone(&shared);
        let errors = Arc::clone(&shared);
        let on_error = move |error: cpal::Error| errors.report(&error);
        let push = move |mono: &mut dyn Iterator<Item = i16>| {
            let mut queue = sink.lock();
            queue.extend(mono);
            let excess = queue.len().saturating_sub(QUEUE_SAMPLES);
            queue.drain(..excess);
            sink.changed.notify_all();
        };
        let stream = match supported.sample_format() {
            cpal::SampleFormat::F32 => device.build_input_stream(
                config,
                move |data: &[f32], _: &cpal::InputCallbackInfo| {
                    push(&mut data.chunks(channels).map(|frame| {
                        let mean = frame.iter().sum::<f32>() / frame.len() as f32;
                        (mean * 32_768.0).clamp(-32_768.0, 32_767.0) as i16
                    }))
                },
                on_error,
                Some(OPEN_TIMEOUT),
            ),
            cpal::SampleFormat::I16 => device.build_input_stream(
                config,
                move |data: &[i16], _: &cpal::InputCallbackInfo| {
                    push(&mut data.chunks(channels).map(|frame| {
                        let sum: i32 = frame.iter().map(|&s| i32::from(s)).sum();
                        // The mean of i16 values is an i16.
                        (sum / frame.len() as i32) as i16
                    }))
                },
                on_error,
                Some(OPEN_TIMEOUT),
            ),
            other => return Err(DeviceError::Unsupported(format!("{other:?} capture"))),
        }
        .map_err(device_error)?;
        stream.play().map_err(device_error)?;
        Ok(Self { shared, _stream: stream })
    }
}

impl AudioSource for CpalSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<SourceStatus, DeviceError> {
        self.shared.take_error()?;
        let needed = frame.len().min(QUEUE_SAMPLES);
        let queue = self.shared.lock();
        let (mut queue, timeout) = self
            .shared
            .changed
            .wait_timeout_while(queue, DEVICE_TIMEOUT, |q| q.len() < needed)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if timeout.timed_out() {
            drop(queue);
            self.shared.take_error()?;
            return Err(DeviceError::Stalled(DEVICE_TIMEOUT));
        }
        for (out, sample) in frame.iter_mut().zip(queue.drain(..needed)) {
            *out = sample;
        }
        frame[needed..].fill(0);
        Ok(SourceStatus::Frame)
    }
}

/// The default speaker, fed 48 kHz mono and copied to every channel.
///
/// [`write_frame`](AudioSink::write_frame) waits until the card has played
/// enough for the frame to fit within the target queue (by default
/// [`DEFAULT_PLAYBACK_TARGET`]), which paces the caller to the card's clock
/// and bounds the latency. If the caller falls behind, the card plays
/// silence; if it writes without waiting, the oldest audio is dropped.
pub struct CpalSink {
    shared: Arc<Shared<PlaybackQueue>>,
    _stream: cpal::Stream,
}

impl std::fmt::Debug for CpalSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalSink").finish_non_exhaustive()
    }
}

impl CpalSink {
    /// Opens the default output device and starts playing (silence until
    /// the first frame is written), queueing [`DEFAULT_PLAYBACK_TARGET`].
    pub fn open_default() -> Result<Self, DeviceError> {
        Self::open_default_with_target(DEFAULT_PLAYBACK_TARGET)
    }

    /// Like [`open_default`](Self::open_default), queueing at most `target`
    /// of audio ahead of the card (clamped to 10-500 ms). Shorter is less
    /// latency; longer survives a writer that is late now and then, and a
    /// card that asks for more than the target at once (which would
    /// otherwise hear silence inserted every time; see
    /// [`inserted_samples`](Self::inserted_samples)).
    pub fn open_default_with_target(target: Duration) -> Result<Self, DeviceError> {
        let device = cpal::default_host().default_output_device().ok_or(DeviceError::NoDevice)?;
        let supported = device.default_output_config().map_err(device_error)?;
        let channels = usize::from(supported.channels()).max(1);
        let config = cpal::StreamConfig {
            channels: supported.channels(),
            sample_rate: SAMPLE_RATE,
            buffer_size: cpal::BufferSize::Default,
        };
        let shared = Arc::new(Shared::new(PlaybackQueue::new(target)));
        let source = Arc::clone(&shared);
        let errors = Arc::clone(&shared);
        let on_error = move |error: cpal::Error| errors.report(&error);
        let stream = match supported.sample_format() {
            cpal::SampleFormat::F32 => device.build_output_stream(
                config,
                move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
                    let mut queue = source.lock();
                    for frame in data.chunks_mut(channels) {
                        let sample = f32::from(queue.pop()) / 32_768.0;
                        frame.fill(sample);
                    }
                    source.changed.notify_all();
                },
                on_error,
                Some(OPEN_TIMEOUT),
            ),
            cpal::SampleFormat::I16 => device.build_output_stream(
                config,
                move |data: &mut [i16], _: &cpal::OutputCallbackInfo| {
                    let mut queue = source.lock();
                    for frame in data.chunks_mut(channels) {
                        frame.fill(queue.pop());
                    }
                    source.changed.notify_all();
                },
                on_error,
                Some(OPEN_TIMEOUT),
            ),
            other => return Err(DeviceError::Unsupported(format!("{other:?} playback"))),
        }
        .map_err(device_error)?;
        stream.play().map_err(device_error)?;
        Ok(Self { shared, _stream: stream })
    }

    /// Samples dropped so far because the caller wrote ahead of the card.
    pub fn dropped_samples(&self) -> u64 {
        self.shared.lock().dropped()
    }

    /// Samples of silence the card played so far because the caller was
    /// late (underruns).
    pub fn inserted_samples(&self) -> u64 {
        self.shared.lock().inserted()
    }
}

impl AudioSink for CpalSink {
    fn write_frame(&mut self, frame: &[i16]) -> Result<(), DeviceError> {
        self.shared.take_error()?;
        // Wait (never spin) until the device has played enough to make room.
        let queue = self.shared.lock();
        let (mut queue, timeout) = self
            .shared
            .changed
            .wait_timeout_while(queue, DEVICE_TIMEOUT, |q| !q.has_room(frame.len()))
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if timeout.timed_out() {
            drop(queue);
            self.shared.take_error()?;
            return Err(DeviceError::Stalled(DEVICE_TIMEOUT));
        }
        queue.push(frame);
        Ok(())
    }
}

/// Maps a cpal error to ours, turning every "no such device" into the
/// advice to use a file or null audio.
fn device_error(error: cpal::Error) -> DeviceError {
    match error.kind() {
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
            DeviceError::NoDevice
        }
        cpal::ErrorKind::UnsupportedConfig => DeviceError::Unsupported(error.to_string()),
        _ => DeviceError::Backend(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Without a sound card (as on CI) opening fails quickly with advice;
    /// with one, it opens. Either way it neither hangs nor panics.
    #[test]
    fn opening_the_default_devices_fails_fast_or_works() {
        let start = Instant::now();
        let results = [CpalSource::open_default().map(drop), CpalSink::open_default().map(drop)];
        assert!(start.elapsed() < 2 * OPEN_TIMEOUT + Duration::from_secs(1));
        for result in results {
            if let Err(error) = result {
                let message = error.to_string();
                assert!(
                    message.contains("use a WAV file or null audio")
                        || matches!(error, DeviceError::Backend(_)),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn stream_errors_reach_the_next_call_once() {
        let shared = Shared::new(());
        assert_eq!(shared.take_error(), Ok(()));
        shared.report(&cpal::Error::with_message(cpal::ErrorKind::Xrun, "overrun"));
        assert_eq!(shared.take_error(), Ok(()), "an xrun is a glitch, not a failure");
        shared.report(&cpal::Error::with_message(cpal::ErrorKind::DeviceNotAvailable, "unplugged"));
        assert_eq!(shared.take_error(), Err(DeviceError::NoDevice));
        assert_eq!(shared.take_error(), Ok(()));
    }

    #[test]
    fn a_missing_device_says_what_to_do_instead() {
        let error =
            device_error(cpal::Error::with_message(cpal::ErrorKind::DeviceNotAvailable, "gone"));
        assert_eq!(error, DeviceError::NoDevice);
        assert_eq!(error.to_string(), "no audio device; use a WAV file or null audio");
    }
}
