//! The queue between frames written for playback and the sound card that
//! pulls them, kept short so that what is written is heard soon.
//!
//! The writer waits for room ([`PlaybackQueue::has_room`]) so the queue
//! holds at most the target; if it writes anyway, the oldest samples (those
//! about to play) are dropped rather than letting the queue, and the
//! latency, grow. When the card asks for more than is queued, silence is
//! inserted. Both are counted.

use std::collections::VecDeque;
use std::time::Duration;

use crate::format::SAMPLE_RATE;

/// Audio a [`CpalSink`](super::CpalSink) keeps queued ahead of the sound
/// card by default: two 20 ms frames. Playback latency is this plus the
/// card's own buffer.
pub const DEFAULT_PLAYBACK_TARGET: Duration = Duration::from_millis(40);

/// Shortest target a queue accepts: 10 ms.
const MIN_TARGET: Duration = Duration::from_millis(10);

/// Longest target a queue accepts: half a second.
const MAX_TARGET: Duration = Duration::from_millis(500);

/// Samples waiting to be played, bounded by a target.
#[derive(Debug, Default)]
pub(crate) struct PlaybackQueue {
    samples: VecDeque<i16>,
    target: usize,
    dropped: u64,
    inserted: u64,
}

impl PlaybackQueue {
    /// A queue holding at most `target` of audio (clamped to 10-500 ms).
    pub(crate) fn new(target: Duration) -> Self {
        let target = target.clamp(MIN_TARGET, MAX_TARGET);
        let samples = target.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000;
        // At most 24 000 samples: fits.
        let target = usize::try_from(samples).unwrap_or(usize::MAX);
        Self { samples: VecDeque::with_capacity(target), target, dropped: 0, inserted: 0 }
    }

    /// The most samples the queue holds.
    #[cfg(test)]
    pub(crate) fn target(&self) -> usize {
        self.target
    }

    /// Samples waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether `len` more samples fit within the target (an empty queue
    /// takes any frame, however long).
    pub(crate) fn has_room(&self, len: usize) -> bool {
        self.samples.is_empty() || self.samples.len() + len <= self.target
    }

    /// Queues `frame`; if that goes over the target, drops the oldest
    /// samples, so the newest audio plays without added delay.
    pub(crate) fn push(&mut self, frame: &[i16]) {
        self.samples.extend(frame.iter().copied());
        let excess = self.samples.len().saturating_sub(self.target.max(frame.len()));
        self.samples.drain(..excess);
        self.dropped += excess as u64;
    }

    /// The next sample to play, or silence if nothing is queued.
    pub(crate) fn pop(&mut self) -> i16 {
        self.samples.pop_front().unwrap_or_else(|| {
            self.inserted += 1;
            0
        })
    }

    /// Samples dropped because the writer was ahead.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Samples of silence inserted because the writer was behind.
    pub(crate) fn inserted(&self) -> u64 {
        self.inserted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 960;

    fn frame(value: i16) -> Vec<i16> {
        vec![value; FRAME]
    }

    #[test]
    fn the_default_target_is_two_frames() {
        let queue = PlaybackQueue::new(DEFAULT_PLAYBACK_TARGET);
        assert_eq!(queue.target(), 2 * FRAME);
        assert_eq!(PlaybackQueue::new(Duration::ZERO).target(), 480, "at least 10 ms");
        assert_eq!(PlaybackQueue::new(Duration::from_secs(9)).target(), 24_000, "at most 0.5 s");
    }

    #[test]
    fn a_writer_waiting_for_room_keeps_the_latency_at_the_target() {
        let mut queue = PlaybackQueue::new(Duration::from_millis(60));
        let mut written = 0;
        // The card pulls 5 ms at a time; the writer writes whenever there
        // is room, as `CpalSink::write_frame` does.
        for _ in 0..1_000 {
            while queue.has_room(FRAME) {
                queue.push(&frame(1));
                written += 1;
            }
            assert!(queue.len() <= 3 * FRAME);
            for _ in 0..240 {
                assert_eq!(queue.pop(), 1);
            }
        }
        assert_eq!((queue.dropped(), queue.inserted()), (0, 0));
        assert_eq!(written * FRAME, 1_000 * 240 + queue.len());
    }

    #[test]
    fn a_writer_ahead_loses_the_oldest_audio_not_latency() {
        let mut queue = PlaybackQueue::new(DEFAULT_PLAYBACK_TARGET);
        for value in 1..=5 {
            queue.push(&frame(value));
        }
        assert_eq!(queue.len(), 2 * FRAME);
        assert_eq!(queue.dropped(), 3 * FRAME as u64);
        assert_eq!(queue.pop(), 4, "the newest two frames are kept");
    }

    #[test]
    fn a_writer_behind_gets_silence_inserted() {
        let mut queue = PlaybackQueue::new(DEFAULT_PLAYBACK_TARGET);
        queue.push(&[7; 10]);
        let played: Vec<i16> = (0..15).map(|_| queue.pop()).collect();
        assert_eq!(played[..10], [7; 10]);
        assert_eq!(played[10..], [0; 5]);
        assert_eq!(queue.inserted(), 5);
    }

    #[test]
    fn a_frame_longer_than_the_target_still_plays_whole() {
        let mut queue = PlaybackQueue::new(MIN_TARGET);
        assert!(queue.has_room(FRAME), "an empty queue takes any frame");
        queue.push(&frame(3));
        assert_eq!((queue.len(), queue.dropped()), (FRAME, 0));
        assert!(!queue.has_room(FRAME));
    }
}
