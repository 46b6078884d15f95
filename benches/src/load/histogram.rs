//! A latency histogram with bounded memory and about 3 % resolution.
//!
//! Values (nanoseconds) fall in log-linear buckets: below 32 one bucket per
//! value, then 32 buckets per power of two. A quantile is reported as the
//! upper bound of its bucket, so it never understates a latency.

use std::time::Duration;

/// Buckets per power of two (and the exact range at the bottom).
const SUB_BUCKETS: u64 = 32;
/// `log2(SUB_BUCKETS)`.
const SUB_BITS: u32 = 5;
/// Enough buckets for every `u64`.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB_BUCKETS as usize;

/// Counts of latencies, mergeable across threads.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self { counts: vec![0; BUCKETS], count: 0, max: 0 }
    }

    /// Counts one value of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        if let Some(slot) = self.counts.get_mut(bucket(ns)) {
            *slot += 1;
        }
        self.count += 1;
        self.max = self.max.max(ns);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value, exactly; `None` when empty.
    pub fn max(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_nanos(self.max))
    }

    /// The value below which a fraction `q` (0 to 1) of the values fall;
    /// `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        // The rank of the value asked for, 1-based: at least the first.
        let wanted = (q.clamp(0.0, 1.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                let upper = upper_bound(index).min(self.max);
                return Some(Duration::from_nanos(upper));
            }
        }
        self.max()
    }
}

/// The bucket of `ns`.
fn bucket(ns: u64) -> usize {
    if ns < SUB_BUCKETS {
        return ns as usize;
    }
    let shift = (63 - ns.leading_zeros()) - SUB_BITS;
    let mantissa = (ns >> shift) & (SUB_BUCKETS - 1);
    ((u64::from(shift) + 1) * SUB_BUCKETS + mantissa) as usize
}

/// The largest value that falls in bucket `index`.
fn upper_bound(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return index;
    }
    let shift = index / SUB_BUCKETS - 1;
    let mantissa = index % SUB_BUCKETS;
    // The top bucket's bound is 2^64 - 1: compute wide, then narrow.
    let next = u128::from(SUB_BUCKETS + mantissa + 1) << shift;
    u64::try_from(next - 1).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for ns in (0..100_000).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket(ns);
            assert!(b < BUCKETS, "{ns} falls outside");
            assert!(b >= last, "buckets are monotonic");
            assert!(upper_bound(b) >= ns, "{ns} is within its bucket");
            last = b;
        }
    }

    #[test]
    fn quantiles_are_within_resolution() {
        let mut h = Histogram::new();
        for us in 1..=1000 {
            h.record(us * 1000);
        }
        let p50 = h.quantile(0.5).expect("not empty").as_nanos() as f64;
        let p99 = h.quantile(0.99).expect("not empty").as_nanos() as f64;
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.04, "p50 {p50}");
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.04, "p99 {p99}");
        assert_eq!(h.max(), Some(Duration::from_millis(1)));
        assert_eq!(h.count(), 1000);
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(10);
        b.record(5_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.max(), Some(Duration::from_nanos(5_000)));
        assert_eq!(Histogram::new().quantile(0.5), None);
    }
}
