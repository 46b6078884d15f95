//! Learning the target delay from observed arrival jitter.
//!
//! Every packet gives one sample of its *lateness*: arrival time minus media
//! time (its timestamp on the receiver's clock). Lateness contains the fixed
//! network latency and the clock offset, which the buffer cannot change, and
//! the jitter, which it must absorb. The estimator keeps a floor, the lowest
//! lateness of the last few seconds of packets ([`FloorWindow`]), and
//! measures jitter as lateness above that floor.
//!
//! The floor follows the path both ways. A lower sample lowers it at once
//! (a faster path, or a receiver clock slower than the sender's), and the
//! jitter history is then read against the lower floor, so the target
//! shrinks with it. When the window's minimum rises (a lasting rise in
//! network delay, or a faster receiver clock), the floor rises with it in
//! whole histogram bins and moves the jitter history down by as much, so
//! the samples taken while the window still held the old minimum are not
//! counted as jitter on top of the new floor.
//!
//! Jitter samples go into two histograms with exponential forgetting, as in
//! WebRTC's NetEQ: a recent one (about 20 s) and a long one (about a
//! minute). From each, the target is the delay that best trades late
//! packets against delay: at least the 95th percentile, at most the
//! configured quantile, and in between the delay minimizing the share of
//! late packets plus [`DELAY_COST_PER_MS`] per millisecond. The larger of
//! the two wins, so delay grows as soon as a few percent of recent packets
//! need it and shrinks only as the long memory fades.

/// Arrival time covered by one bucket of the floor's window, in µs.
const FLOOR_BUCKET_US: u64 = 500_000;

/// Buckets in the floor's window: with [`FLOOR_BUCKET_US`], the floor is
/// the lowest lateness of the last 3.5 to 4 s in which packets arrived.
/// Chosen on the traces of `jitter-sim`: a shorter window follows a rise
/// in delay sooner, but lifts the floor in the gaps between a jittery
/// path's fastest packets, trading late packets for delay (see
/// BENCHMARKS.md).
const FLOOR_BUCKETS: usize = 8;

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

    /// Moves every sample `count` bins down; those that would fall below
    /// the first bin join it.
    fn shift_down(&mut self, count: usize) {
        let count = count.min(self.bins.len() - 1);
        let merged: f64 = self.bins[..=count].iter().sum();
        self.bins.copy_within(count.., 0);
        let len = self.bins.len();
        self.bins[len - count..].fill(0.0);
        self.bins[0] = merged;
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

/// The lowest lateness of the packets that arrived in the last few
/// seconds: the minima of the last [`FLOOR_BUCKETS`] intervals of
/// [`FLOOR_BUCKET_US`] in which packets arrived.
///
/// Its size is fixed, whatever the packet rate. An interval in which no
/// packet arrived takes no bucket, so a pause between talk spurts keeps the
/// minimum the packets before it showed, and the next spurt starts from it.
#[derive(Debug, Clone, Default)]
struct FloorWindow {
    /// Lowest lateness (µs) of each bucket; `None` for one not used yet.
    minima: [Option<i64>; FLOOR_BUCKETS],
    /// The bucket packets arrive in now.
    current: usize,
    /// The arrival interval (arrival time / [`FLOOR_BUCKET_US`]) of the
    /// current bucket; `None` before the first packet.
    interval: Option<u64>,
}

impl FloorWindow {
    /// Records a packet that arrived at `arrival_us` with `lateness`, and
    /// returns the lowest lateness in the window.
    fn observe(&mut self, arrival_us: u64, lateness: i64) -> i64 {
        let interval = arrival_us / FLOOR_BUCKET_US;
        match self.interval {
            // An arrival before the current interval (the caller's clock
            // stepped back) counts in the current bucket.
            Some(current) if interval <= current => {}
            Some(_) => {
                self.current = (self.current + 1) % FLOOR_BUCKETS;
                self.minima[self.current] = None;
                self.interval = Some(interval);
            }
            None => self.interval = Some(interval),
        }
        let slot = &mut self.minima[self.current];
        *slot = Some(slot.map_or(lateness, |low| low.min(lateness)));
        self.minima.iter().flatten().fold(lateness, |low, &m| low.min(m))
    }
}

/// Estimates the jitter a playout delay must cover.
#[derive(Debug, Clone)]
pub(crate) struct DelayEstimator {
    /// The lowest lateness of the last few seconds of packets.
    window: FloorWindow,
    /// The lateness (µs) the histograms' first bin stands for: the window's
    /// minimum, or up to one bin below it while it rises.
    floor: Option<i64>,
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
            window: FloorWindow::default(),
            floor: None,
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
        let lowest = self.window.observe(arrival_us, lateness);
        let floor = self.follow(lowest);
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

    /// Moves the floor to `lowest`, the window's minimum: down at once, up
    /// in whole bins, moving the jitter history down with it. Returns the
    /// new floor, which is at most `lowest`.
    fn follow(&mut self, lowest: i64) -> i64 {
        let floor = match self.floor {
            Some(floor) if lowest > floor => {
                let bins = lowest.abs_diff(floor) / BIN_US;
                if bins > 0 {
                    let count = usize::try_from(bins).unwrap_or(usize::MAX);
                    self.recent.shift_down(count);
                    self.long.shift_down(count);
                    // The target no longer matches the histograms.
                    self.stale_samples = REFRESH_EVERY;
                }
                floor.saturating_add(saturating_signed(bins * BIN_US))
            }
            _ => lowest,
        };
        self.floor = Some(floor);
        floor
    }

    /// The floor (µs): the lowest lateness of the last few seconds of
    /// packets, if any packet was observed.
    pub(crate) fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// Forgets the floor: the next packet starts a new timeline (a new
    /// stream from a restarted sender). The jitter history is kept, since the
    /// network did not change.
    pub(crate) fn reset_floor(&mut self) {
        self.window = FloorWindow::default();
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
    fn floor_follows_a_lasting_rise_within_the_window() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        feed(&mut estimator, 500, 0, |i| i % 3 * 1_000);
        assert_eq!(estimator.floor(), Some(30_000));
        // The path becomes 100 ms slower for good: within the window (4 s,
        // 200 packets), the floor has risen with it...
        feed(&mut estimator, 200, 500, |i| 100_000 + i % 3 * 1_000);
        assert_eq!(estimator.floor(), Some(130_000));
        // ...and the samples taken on the way count from the new floor,
        // not as 100 ms of jitter.
        assert!(estimator.target_us() <= 3 * BIN_US, "{}", estimator.target_us());
    }

    #[test]
    fn floor_outlasts_a_pause() {
        let mut estimator = DelayEstimator::new(500_000, 0.95);
        feed(&mut estimator, 100, 0, |_| 0);
        // Ten seconds without packets, then a spurt whose first packets
        // are 10 ms late: the floor is still the one learned before.
        feed(&mut estimator, 10, 600, |_| 10_000);
        assert_eq!(estimator.floor(), Some(30_000));
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
