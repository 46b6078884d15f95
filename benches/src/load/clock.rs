//! One monotonic clock for a whole run, so that a stamp taken by a sender
//! on one thread can be compared with the time a receiver on another
//! thread sees it arrive.

use std::time::{Duration, Instant};

/// Nanoseconds since the start of the run, from one [`Instant`].
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        Self { epoch: Instant::now() }
    }

    /// Nanoseconds since the clock started. A `u64` of nanoseconds lasts
    /// 584 years, so this never saturates in practice.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The instant `ns` nanoseconds after the clock started.
    pub fn instant_at(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }
}

/// Whole nanoseconds of `duration`, saturating.
pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
