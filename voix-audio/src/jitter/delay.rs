//! Learning the target delay from observed arrival jitter.
//!
//! Every packet gives one sample of its *lateness*: arrival time minus media
//! time (its timestamp on the receiver's clock). Lateness contains the fixed
//! network latency and the clock offset, which the buffer cannot change, and
//! the jitter, which it must absorb. The estimator keeps a floor, the lowest
//! lateness seen, and measures jitter as lateness above that floor.
//!
//! The floor is a *leaky* minimum: it rises slowly (by [`FLOOR_LEAK_PPM`])
//! between low samples, so it follows a receiver clock that runs faster than
//! the sender's; a slower receiver clock simply gives lower samples.
//!
//! Jitter samples go into two histograms with exponential forgetting, as in
//! WebRTC's NetEQ: a recent one (about 20 s) and a long one (about a
//! minute). From each, the target is the delay that best trades late
//! packets against delay: at least the 95th percentile, at most the
//! configured quantile, and in between the delay minimizing the share of
//! late packets plus [`DELAY_COST_PER_MS`] per millisecond. The larger of
//! the two wins, so delay grows as soon as a few percent of recent packets
//! need it and shrinks only as the long memory fades.

/// How fast the floor rises between low samples: 500 µs per second, more
/// than the drift of any sound card clock that still works.
pub(crate) const FLOOR_LEAK_PPM: u64 = 500;

/// Packets the recent histogram remembers (about 20 s of 20 ms frames).
const RECENT_MEMORY: f64 = 1_000.0;

/// Packets the long histogram remembers (about a minute).
const LONG_MEMORY: f64 = 3_000.0;

/// The target always covers at least this share of packets.
const FLOOR_QUANTILE: f64 = 0.95;

/// What one more millisecond of delay is worth, in share of packets saved
/// from being late: 0.024 %, so a further 20 ms frame of delay is taken
/// only if it saves more than about one packet in 200. Chosen on the
/// standard traces of `jitter-sim` (see BENCHMARKS.md).
const DELAY_COST_PER_MS: f64 = 0.000_24;

/// Packets between two refreshes of the target when it need not grow.
const REFRESH_EVERY: u32 = 16;

/// Width of one histogram bin in microseconds.
const BIN_US: u64 = 1_000;

/// Renormalize a histogram once its sample weight passes this value, long
/// before `f64` loses precision.
const RENORMALIZE_AT: f64 = 1e100;

/// A histogram of jitter samples in which old samples fade exponentially.
#[derive(Debug, Clone)]
struct ForgettingHistogram {
    bins: Vec<f64>,
    total: f64,
    /// Weight of the next sample; grows by `growth` per sample, which is the
    /// same as shrinking every earlier sample, without touching every bin.
    weight: f64,
    growth: f64,
    quantile: f64,
}

impl ForgettingHistogram {
    /// A histogram of `bins` bins that remembers about `memory` samples.
    fn new(bins: usize, memory: f64, quantile: f64) -> Self {
        Self {
            bins: vec![0.0; bins],
            total: 0.0,
            weight: 1.0,
            growth: 1.0 / (1.0 - 1.0 / memory.max(2.0)),
            quantile,
        }
    }

    fn add(&mut self, bin: usize) {
        let last = self.bins.len() - 1;
        self.bins[bin.min(last)] += self.weight;
        self.total += self.weight;
        self.weight *= self.growth;
        if self.weight > RENORMALIZE_AT {
            let scale = 1.0 / self.weight;
            self.bins.iter_mut().for_each(|b| *b *= scale);
            self.total *= scale;
            self.weight = 1.0;
        }
    }

    /// The delay (in bins) that best trades late packets against delay:
    /// it covers at least the `floor_quantile` of the weight and at most
    /// the `quantile`, and in between minimizes the share of late packets
    /// plus `cost_per_bin` for every bin of delay. 0 when empty.
    fn target_bin(&self, floor_quantile: f64, cost_per_bin: f64) -> usize {
        if self.total <= 0.0 {
            return 0;
        }
        let mut covered = 0.0;
        let mut best: Option<(f64, usize)> = None;
        for (index, weight) in self.bins.iter().enumerate() {
            covered += weight / self.total;
            if covered < floor_quantile {
                continue;
            }
            let cost = (1.0 - covered) + cost_per_bin * (index + 1) as f64;
            if best.is_none_or(|(lowest, _)| cost < lowest) {
                best = Some((cost, index + 1));
            }
            if covered >= self.quantile {
                break;
            }
        }
        best.map_or(self.bins.len(), |(_, bin)| bin)
    }
}

/// Estimates the jitter a playout delay must cover.
#[derive(Debug, Clone)]
pub(crate) struct DelayEstimator {
    /// Lowest lateness seen, in µs, leaking upwards.
    floor: Option<i64>,
    last_arrival_us: u64,
    recent: ForgettingHistogram,
    long: ForgettingHistogram,
    floor_quantile: f64,
    max_us: u64,
    /// The target as last computed.
    target_us: u64,
    /// Samples observed since.
    stale_samples: u32,
}

impl DelayEstimator {
    /// An estimator for jitter up to `max_us`, with the given target quantile.
    pub(crate) fn new(max_us: u64, quantile: f64) -> Self {
        let bins = usize::try_from(max_us / BIN_US + 1).unwrap_or(usize::MAX);
        Self {
            floor: None,
            last_arrival_us: 0,
            recent: ForgettingHistogram::new(bins, RECENT_MEMORY, quantile),
            long: ForgettingHistogram::new(bins, LONG_MEMORY, quantile),
            floor_quantile: FLOOR_QUANTILE.min(quantile),
            max_us,
            target_us: 0,
            stale_samples: 0,
        }
    }

    /// Records a packet that arrived at `arrival_us` (receiver clock) with
    /// media time `media_us` (its timestamp in µs).
    pub(crate) fn observe(&mut self, arrival_us: u64, media_us: u64) {
        let lateness = saturating_signed(arrival_us) - saturating_signed(media_us);
        let elapsed = arrival_us.saturating_sub(self.last_arrival_us);
        self.last_arrival_us = self.last_arrival_us.max(arrival_us);
        let leak = saturating_signed(elapsed.saturating_mul(FLOOR_LEAK_PPM) / 1_000_000);
        let floor = match self.floor {
            Some(floor) => floor.saturating_add(leak).min(lateness),
            None => lateness,
        };
        self.floor = Some(floor);
        let jitter = lateness.saturating_sub(floor).unsigned_abs().min(self.max_us);
        let bin = usize::try_from(jitter / BIN_US).unwrap_or(usize::MAX);
        self.recent.add(bin);
        self.long.add(bin);
        // Scanning the histograms costs more than the rest of a packet's
        // handling, so the target is refreshed every few packets, and at
        // once when a packet needs more delay than the current target.
        self.stale_samples += 1;
        if jitter > self.target_us || self.stale_samples >= REFRESH_EVERY {
            self.target_us = self.compute_target_us();
            self.stale_samples = 0;
        }
    }

    /// Lowest lateness seen (µs), if any packet was observed.
    pub(crate) fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// Forgets the floor: the next packet starts a new timeline (a new
    /// stream from a restarted sender). The jitter history is kept, since the
    /// network did not change.
    pub(crate) fn reset_floor(&mut self) {
        self.floor = None;
    }

    /// The jitter delay (µs) to aim for: the larger of the two histograms'
    /// best trade-offs between late packets and delay.
    pub(crate) fn target_us(&self) -> u64 {
        self.target_us
    }

    fn compute_target_us(&self) -> u64 {
        let cost = DELAY_COST_PER_MS * BIN_US as f64 / 1_000.0;
        let bin = self
            .recent
            .target_bin(self.floor_quantile, cost)
            .max(self.long.target_bin(self.floor_quantile, cost));
        (bin as u64 * BIN_US).min(self.max_us)
    }
}

/// `value` as i64, saturating at `i64::MAX`.
fn saturating_signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME_US: u64 = 20_000;

    fn feed(estimator: &mut DelayEstimator, packets: u64, start: u64, jitter: impl Fn(u64) -> u64) {
        for i in start..start + packets {
            let media = i * FRAME_US;
            estimator.observe(media + 30_000 + jitter(i), media);
        }
    }

    #[test]
    fn steady_network_needs_no_jitter_delay() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        feed(&mut estimator, 200, 0, |_| 0);
        assert_eq!(estimator.floor(), Some(30_000));
        assert!(estimator.target_us() <= 2 * BIN_US);
    }

    #[test]
    fn target_covers_the_quantile_of_uniform_jitter() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        feed(&mut estimator, 2_000, 0, |i| (i * 7_919 % 100) * 1_000);
        let target = estimator.target_us();
        assert!((90_000..=101_000).contains(&target), "{target}");
    }

    #[test]
    fn grows_within_a_second_and_shrinks_slowly() {
        let mut estimator = DelayEstimator::new(500_000, 0.99);
        feed(&mut estimator, 1_000, 0, |_| 0);
        feed(&mut estimator, 50, 1_000, |i| (i % 2) * 80_000);
        assert!(estimator.target_us() >= 80_000, "slow to grow");
        feed(&mut estimator, 50, 1_050, |_| 0);
        assert!(estimator.target_us() >= 80_000, "forgot too fast");
        feed(&mut estimator, 3_000, 1_100, |_| 0);
        assert!(estimator.target_us() <= 2 * BIN_US, "never shrank");
    }

    #[test]
    fn a_rare_long_tail_is_not_worth_its_delay() {
        // 0.5 % of packets 200 ms late: covering them would cost 200 ms
        // for one packet in 200, more than the delay is worth.
        let mut estimator = DelayEstimator::new(500_000, 0.999);
        feed(&mut estimator, 4_000, 0, |i| if i % 200 == 7 { 200_000 } else { (i % 10) * 1_000 });
        let target = estimator.target_us();
        assert!((9_000..=11_000).contains(&target), "{target}");
    }

    #[test]
    fn floor_follows_a_faster_receiver_clock() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        // The receiver clock runs 200 ppm fast: lateness grows 4 µs/packet.
        for i in 0..3_000u64 {
            let media = i * FRAME_US;
            estimator.observe(media + 30_000 + i * 4, media);
        }
        assert!(estimator.target_us() <= 2 * BIN_US);
    }

    #[test]
    fn extreme_values_saturate() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        estimator.observe(u64::MAX, 0);
        estimator.observe(0, u64::MAX);
        estimator.observe(u64::MAX, u64::MAX);
        assert!(estimator.target_us() <= 500_000);
    }
}
