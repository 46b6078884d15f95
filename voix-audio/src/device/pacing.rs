//! Keeping a file or null device to the pace of real time.

use std::thread;
use std::time::{Duration, Instant};

use crate::format::SAMPLE_RATE;

/// How a file or null device keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// Each call blocks until its frame is due, like a sound card.
    RealTime,
    /// Calls return at once: as fast as possible, for tests and batch work.
    #[default]
    Unpaced,
}

/// How far behind real time a paced device may fall before it gives the
/// backlog up, as a sound card's capture queue does (the cpal source keeps
/// half a second). Otherwise, after a stall (a suspended machine, a slow
/// disk), it would hand out every frame it owes at once: a paced WAV
/// microphone would send seconds of voice in one burst.
const MAX_BEHIND: Duration = Duration::from_millis(500);

/// Sleeps so that samples pass at 48 kHz of wall-clock time, measured
/// from the first call (not from the last one, so errors do not add up).
#[derive(Debug, Clone)]
pub struct Pacer {
    pacing: Pacing,
    start: Option<Instant>,
    samples: u64,
}

impl Pacer {
    /// A pacer that sleeps only if `pacing` is [`Pacing::RealTime`].
    pub fn new(pacing: Pacing) -> Self {
        Self { pacing, start: None, samples: 0 }
    }

    /// Accounts for `samples` more samples, sleeping until they are due.
    /// Fallen more than [`MAX_BEHIND`] behind (a stall), it gives the
    /// backlog up and goes on from now.
    pub fn wait(&mut self, samples: usize) {
        if self.pacing == Pacing::Unpaced {
            return;
        }
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        self.samples += samples as u64;
        let due = start + Duration::from_micros(self.samples * 1_000_000 / u64::from(SAMPLE_RATE));
        if due > now {
            thread::sleep(due - now);
        } else if now - due > MAX_BEHIND {
            // This frame is due now, the next one a frame later.
            self.start = Some(now);
            self.samples = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_pacing_takes_real_time() {
        let mut pacer = Pacer::new(Pacing::RealTime);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait(480);
        }
        // The first 10 ms start the clock; four more are waited for.
        assert!(start.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn a_pacer_far_behind_gives_the_backlog_up() {
        let mut pacer = Pacer::new(Pacing::RealTime);
        pacer.wait(480);
        // As if the machine had been suspended for ten seconds.
        pacer.start = pacer
            .start
            .map(|s| s.checked_sub(Duration::from_secs(10)).expect("up for more than ten seconds"));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait(480);
        }
        // The first frame is due at once, the next four 10 ms apart.
        assert!(start.elapsed() >= Duration::from_millis(35), "{:?}", start.elapsed());
    }

    #[test]
    fn unpaced_never_sleeps() {
        let mut pacer = Pacer::new(Pacing::Unpaced);
        let start = Instant::now();
        for _ in 0..1_000 {
            pacer.wait(960);
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
