//! A seeded model of a network path: latency, jitter, loss, reordering,
//! duplication.

use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::loss::{GilbertElliott, LossChannel, chance};

/// Longest delay the model ever gives one packet.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// Longest heavy-tail delay of one packet.
const MAX_TAIL: Duration = Duration::from_millis(400);

/// Delay spikes: every so often the path stalls (a Wi-Fi retry storm, a
/// handover), and packets queue behind the stall and then arrive together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spikes {
    /// Chance per packet that a stall starts.
    pub probability: f64,
    /// Shortest stall.
    pub min: Duration,
    /// Longest stall.
    pub max: Duration,
}

impl Spikes {
    /// No stalls.
    pub const NONE: Self = Self { probability: 0.0, min: Duration::ZERO, max: Duration::ZERO };
}

/// The parameters of a simulated network path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkModel {
    /// Fixed one-way latency.
    pub latency: Duration,
    /// Mean of the exponentially distributed jitter added to every packet.
    pub jitter: Duration,
    /// Chance per packet of an extra heavy-tailed delay (Pareto, shape 1.5,
    /// scale twice `jitter`, at most 400 ms) that holds back that packet
    /// alone, like a link-layer retransmission.
    pub tail_probability: f64,
    /// Delay spikes.
    pub spikes: Spikes,
    /// Packet loss.
    pub loss: GilbertElliott,
    /// Chance per packet of leaving the queue out of order; otherwise the
    /// path is first-in, first-out and a delayed packet holds back the rest.
    pub reorder_probability: f64,
    /// Chance per packet of arriving twice.
    pub duplicate_probability: f64,
    /// How much faster (positive) the receiver's clock runs than the
    /// sender's, in parts per million.
    pub clock_drift_ppm: f64,
}

impl NetworkModel {
    /// A wired LAN or good broadband line: little jitter, rare loss.
    pub const WIRED: Self = Self {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(2),
        tail_probability: 0.0,
        spikes: Spikes::NONE,
        loss: GilbertElliott::random(0.002),
        reorder_probability: 0.0,
        duplicate_probability: 0.0,
        clock_drift_ppm: 20.0,
    };

    /// Busy home Wi-Fi: moderate jitter, occasional stalls, bursty loss.
    pub const WIFI: Self = Self {
        latency: Duration::from_millis(15),
        jitter: Duration::from_millis(8),
        tail_probability: 0.02,
        spikes: Spikes {
            probability: 0.004,
            min: Duration::from_millis(80),
            max: Duration::from_millis(250),
        },
        loss: GilbertElliott {
            good_to_bad: 0.004,
            bad_to_good: 0.3,
            loss_in_good: 0.003,
            loss_in_bad: 0.6,
        },
        reorder_probability: 0.01,
        duplicate_probability: 0.005,
        clock_drift_ppm: 60.0,
    };

    /// A mobile (LTE) link on the move: high latency and jitter, long
    /// stalls at handovers, bursty loss, a slow receiver clock.
    pub const MOBILE: Self = Self {
        latency: Duration::from_millis(60),
        jitter: Duration::from_millis(12),
        tail_probability: 0.02,
        spikes: Spikes {
            probability: 0.001,
            min: Duration::from_millis(150),
            max: Duration::from_millis(400),
        },
        loss: GilbertElliott {
            good_to_bad: 0.006,
            bad_to_good: 0.2,
            loss_in_good: 0.005,
            loss_in_bad: 0.5,
        },
        reorder_probability: 0.02,
        duplicate_probability: 0.002,
        clock_drift_ppm: -120.0,
    };

    /// A congested path: heavy jitter, much reordering, heavy bursty loss.
    pub const CONGESTED: Self = Self {
        latency: Duration::from_millis(40),
        jitter: Duration::from_millis(20),
        tail_probability: 0.03,
        spikes: Spikes {
            probability: 0.001,
            min: Duration::from_millis(100),
            max: Duration::from_millis(250),
        },
        loss: GilbertElliott {
            good_to_bad: 0.02,
            bad_to_good: 0.25,
            loss_in_good: 0.01,
            loss_in_bad: 0.4,
        },
        reorder_probability: 0.05,
        duplicate_probability: 0.01,
        clock_drift_ppm: 250.0,
    };

    /// The standard models, with the names of their checked-in traces.
    pub const STANDARD: [(&'static str, Self); 4] = [
        ("wired", Self::WIRED),
        ("wifi", Self::WIFI),
        ("mobile", Self::MOBILE),
        ("congested", Self::CONGESTED),
    ];

    /// The standard model called `name`.
    pub fn standard(name: &str) -> Option<Self> {
        Self::STANDARD.iter().find(|(n, _)| *n == name).map(|(_, model)| *model)
    }
}

/// What the network did with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The packet never arrives.
    Lost,
    /// The packet arrives after this transit time.
    Delivered(Duration),
    /// The packet arrives twice, after each of these transit times.
    Duplicated(Duration, Duration),
}

impl Fate {
    /// The transit times of the copies that arrive (none, one or two).
    pub fn arrivals(self) -> impl Iterator<Item = Duration> {
        let (first, second) = match self {
            Self::Lost => (None, None),
            Self::Delivered(d) => (Some(d), None),
            Self::Duplicated(a, b) => (Some(a), Some(b)),
        };
        first.into_iter().chain(second)
    }
}

/// A network path driven by a seeded random generator: the same model,
/// seed and send times always give the same fates.
///
/// Clock drift is not applied here, since transit times are measured on
/// one clock; [`Trace::generate`](super::Trace::generate) applies it.
#[derive(Debug, Clone)]
pub struct NetworkSim {
    model: NetworkModel,
    rng: ChaCha8Rng,
    loss: LossChannel,
    /// A stall in progress: when it began and how long it holds packets.
    stall: Option<(Duration, Duration)>,
    /// Arrival time (since the first send) of the last in-order packet.
    last_in_order: Duration,
}

impl NetworkSim {
    /// A path following `model`, seeded with `seed`.
    pub fn new(model: NetworkModel, seed: u64) -> Self {
        Self {
            model,
            rng: ChaCha8Rng::seed_from_u64(seed),
            loss: LossChannel::default(),
            stall: None,
            last_in_order: Duration::ZERO,
        }
    }

    /// The model this path follows.
    pub fn model(&self) -> &NetworkModel {
        &self.model
    }

    /// Decides the fate of a packet sent at `sent` (time since any fixed
    /// origin; calls must come in order of sending).
    pub fn send(&mut self, sent: Duration) -> Fate {
        let model = self.model;
        let lost = self.loss.next_lost(&model.loss, &mut self.rng);
        let mut transit = model.latency + self.exponential(model.jitter) + self.stall_delay(sent);
        let reorder = chance(&mut self.rng, model.reorder_probability);
        if !reorder {
            // First in, first out: wait behind the previous packet.
            let arrival = (sent + transit).max(self.last_in_order);
            self.last_in_order = arrival;
            transit = arrival - sent;
        }
        if chance(&mut self.rng, model.tail_probability) {
            transit += self.pareto(model.jitter * 2).min(MAX_TAIL);
        }
        transit = transit.min(MAX_DELAY);
        let duplicate = chance(&mut self.rng, model.duplicate_probability);
        if lost {
            return Fate::Lost;
        }
        if duplicate {
            let again =
                transit + Duration::from_micros(500) + self.exponential(Duration::from_millis(5));
            Fate::Duplicated(transit, again.min(MAX_DELAY))
        } else {
            Fate::Delivered(transit)
        }
    }

    /// Extra delay from a stall: one starts at random, and holds each packet
    /// until it ends.
    fn stall_delay(&mut self, sent: Duration) -> Duration {
        let spikes = self.model.spikes;
        if self.stall.is_none_or(|(start, length)| sent >= start + length)
            && chance(&mut self.rng, spikes.probability)
        {
            let span = spikes.max.saturating_sub(spikes.min);
            let length = spikes.min + span.mul_f64(self.rng.random::<f64>());
            self.stall = Some((sent, length));
        }
        match self.stall {
            Some((start, length)) if sent < start + length => start + length - sent,
            _ => Duration::ZERO,
        }
    }

    fn exponential(&mut self, mean: Duration) -> Duration {
        let u: f64 = self.rng.random();
        mean.mul_f64(-(1.0 - u).ln()).min(MAX_DELAY)
    }

    fn pareto(&mut self, scale: Duration) -> Duration {
        let u: f64 = self.rng.random();
        scale.mul_f64((1.0 - u).powf(-1.0 / 1.5) - 1.0).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(model: NetworkModel, seed: u64, packets: u32) -> Vec<Fate> {
        let mut sim = NetworkSim::new(model, seed);
        (0..packets).map(|i| sim.send(Duration::from_millis(20) * i)).collect()
    }

    #[test]
    fn same_seed_same_fates_other_seed_other_fates() {
        let model = NetworkModel::WIFI;
        assert_eq!(fates(model, 1, 500), fates(model, 1, 500));
        assert_ne!(fates(model, 1, 500), fates(model, 2, 500));
    }

    #[test]
    fn wired_path_is_fast_and_in_order() {
        let mut sim = NetworkSim::new(NetworkModel::WIRED, 9);
        let mut last = Duration::ZERO;
        for i in 0..2_000u32 {
            let sent = Duration::from_millis(20) * i;
            for transit in sim.send(sent).arrivals() {
                assert!(transit >= NetworkModel::WIRED.latency);
                assert!(transit < Duration::from_millis(60), "{transit:?}");
                assert!(sent + transit >= last, "reordered on a FIFO path");
                last = sent + transit;
            }
        }
    }

    #[test]
    fn stalls_hold_packets_back_together() {
        let model = NetworkModel {
            spikes: Spikes {
                probability: 0.01,
                min: Duration::from_millis(300),
                max: Duration::from_millis(300),
            },
            ..NetworkModel::WIRED
        };
        let transits: Vec<Duration> =
            fates(model, 4, 3_000).into_iter().flat_map(Fate::arrivals).collect();
        let stalled = transits.iter().filter(|t| **t > Duration::from_millis(200)).count();
        assert!(stalled > 50, "{stalled}");
        assert!(transits.iter().all(|t| *t <= MAX_DELAY));
    }

    #[test]
    fn reordering_and_duplication_happen_at_their_rates() {
        let model = NetworkModel {
            reorder_probability: 0.2,
            duplicate_probability: 0.1,
            jitter: Duration::from_millis(30),
            ..NetworkModel::WIRED
        };
        let all = fates(model, 5, 5_000);
        let duplicated = all.iter().filter(|f| matches!(f, Fate::Duplicated(..))).count();
        assert!((400..600).contains(&duplicated), "{duplicated}");
        let arrivals: Vec<Duration> = all
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.arrivals().next().map(|t| Duration::from_millis(20) * i as u32 + t)
            })
            .collect();
        let inversions = arrivals.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(inversions > 100, "{inversions}");
    }

    #[test]
    fn nan_probabilities_count_as_never() {
        let nan = NetworkModel {
            tail_probability: f64::NAN,
            spikes: Spikes { probability: f64::NAN, ..NetworkModel::WIFI.spikes },
            loss: GilbertElliott {
                good_to_bad: f64::NAN,
                bad_to_good: f64::NAN,
                loss_in_good: f64::NAN,
                loss_in_bad: f64::NAN,
            },
            reorder_probability: f64::NAN,
            duplicate_probability: f64::NAN,
            ..NetworkModel::WIFI
        };
        let all = fates(nan, 6, 1_000);
        assert!(all.iter().all(|f| matches!(f, Fate::Delivered(_))), "{all:?}");
    }

    #[test]
    fn standard_models_are_found_by_name() {
        for (name, model) in NetworkModel::STANDARD {
            assert_eq!(NetworkModel::standard(name), Some(model));
        }
        assert_eq!(NetworkModel::standard("carrier pigeon"), None);
    }
}
