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
    pub fn wait(&mut self, samples: usize) {
        if self.pacing == Pacing::Unpaced {
            return;
        }
        let start = *self.start.get_or_insert_with(Instant::now);
        self.samples += samples as u64;
        let due = start + Duration::from_micros(self.samples * 1_000_000 / u64::from(SAMPLE_RATE));
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
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
    fn unpaced_never_sleeps() {
        let mut pacer = Pacer::new(Pacing::Unpaced);
        let start = Instant::now();
        for _ in 0..1_000 {
            pacer.wait(960);
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
