//! How long to wait before reconnecting: exponential, capped, with jitter
//! so that the clients of a restarted server do not all return at once.

use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The wait before the second try.
pub const FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// Each wait is the nominal one times a factor from `1 - JITTER` to
/// `1 + JITTER`.
const JITTER: f64 = 0.2;

/// Reconnection delays: 0.5 s, 1 s, 2 s, ... up to 30 s, each ±20 %.
#[derive(Debug, Clone)]
pub struct Backoff {
    failures: u32,
    rng: ChaCha8Rng,
}

impl Backoff {
    /// A back-off whose jitter comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { failures: 0, rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// Tries that failed since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts a failed try and returns how long to wait before the next.
    pub fn next_delay(&mut self) -> Duration {
        let doublings = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let nominal = FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY);
        nominal.mul_f64(self.rng.random_range(1.0 - JITTER..=1.0 + JITTER))
    }

    /// The connection worked: start again from the shortest wait.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_within_the_jitter() {
        let mut backoff = Backoff::new(7);
        let mut nominal = FIRST_DELAY;
        for _ in 0..12 {
            let delay = backoff.next_delay();
            assert!(delay >= nominal.mul_f64(0.8) && delay <= nominal.mul_f64(1.2), "{delay:?}");
            nominal = (nominal * 2).min(MAX_DELAY);
        }
        assert_eq!(backoff.failures(), 12);
        for _ in 0..100 {
            assert!(backoff.next_delay() <= MAX_DELAY.mul_f64(1.2));
        }
    }

    #[test]
    fn reset_starts_over_and_seeds_differ() {
        let mut a = Backoff::new(1);
        let mut b = Backoff::new(2);
        let first = a.next_delay();
        assert_ne!(first, b.next_delay());
        a.next_delay();
        a.reset();
        assert!(a.next_delay() < FIRST_DELAY.mul_f64(1.21));
    }
}
