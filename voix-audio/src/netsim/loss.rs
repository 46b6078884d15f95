//! Bursty packet loss: the two-state Gilbert-Elliott model.

use rand::RngExt;

/// A two-state Markov model of loss: a *good* state with rare losses and a
/// *bad* state (a fade, a congested queue) with frequent ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Chance per packet of moving from good to bad.
    pub good_to_bad: f64,
    /// Chance per packet of moving from bad back to good; its inverse is
    /// the mean length of a bad period in packets.
    pub bad_to_good: f64,
    /// Chance of losing a packet in the good state.
    pub loss_in_good: f64,
    /// Chance of losing a packet in the bad state.
    pub loss_in_bad: f64,
}

impl GilbertElliott {
    /// No loss at all.
    pub const NONE: Self = Self::random(0.0);

    /// Independent loss with probability `rate` per packet.
    pub const fn random(rate: f64) -> Self {
        Self { good_to_bad: 0.0, bad_to_good: 1.0, loss_in_good: rate, loss_in_bad: rate }
    }

    /// Long-run share of packets lost.
    pub fn mean_loss(&self) -> f64 {
        let leaving = self.good_to_bad + self.bad_to_good;
        if leaving <= 0.0 {
            return self.loss_in_good;
        }
        let bad_share = self.good_to_bad / leaving;
        (1.0 - bad_share) * self.loss_in_good + bad_share * self.loss_in_bad
    }
}

/// The state of a [`GilbertElliott`] channel.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LossChannel {
    bad: bool,
}

impl LossChannel {
    /// Moves to the next packet's state and says whether that packet is lost.
    pub(crate) fn next_lost(&mut self, model: &GilbertElliott, rng: &mut impl RngExt) -> bool {
        let switch = if self.bad { model.bad_to_good } else { model.good_to_bad };
        if chance(rng, switch) {
            self.bad = !self.bad;
        }
        let loss = if self.bad { model.loss_in_bad } else { model.loss_in_good };
        chance(rng, loss)
    }
}

/// Draws `true` with probability `p`, taken as 0 below 0 (and if NaN) and
/// as 1 above 1. A model's probabilities are plain public fields, and
/// `random_bool` panics outside `[0, 1]`, and `clamp` lets NaN through.
pub(crate) fn chance(rng: &mut impl RngExt, p: f64) -> bool {
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    rng.random_bool(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn run(model: &GilbertElliott, packets: usize) -> Vec<bool> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut channel = LossChannel::default();
        (0..packets).map(|_| channel.next_lost(model, &mut rng)).collect()
    }

    #[test]
    fn measured_loss_matches_the_model() {
        let model = GilbertElliott {
            good_to_bad: 0.01,
            bad_to_good: 0.25,
            loss_in_good: 0.005,
            loss_in_bad: 0.5,
        };
        let lost = run(&model, 200_000);
        let rate = lost.iter().filter(|&&l| l).count() as f64 / lost.len() as f64;
        assert!((rate - model.mean_loss()).abs() < 0.004, "{rate} vs {}", model.mean_loss());
    }

    #[test]
    fn bursty_loss_clusters_and_random_loss_does_not() {
        let bursty = GilbertElliott {
            good_to_bad: 0.01,
            bad_to_good: 0.2,
            loss_in_good: 0.0,
            loss_in_bad: 0.8,
        };
        let random = GilbertElliott::random(bursty.mean_loss());
        let after_loss = |lost: &[bool]| {
            let pairs = lost.windows(2).filter(|w| w[0]).count() as f64;
            lost.windows(2).filter(|w| w[0] && w[1]).count() as f64 / pairs
        };
        assert!(after_loss(&run(&bursty, 100_000)) > 0.5);
        assert!(after_loss(&run(&random, 100_000)) < 0.1);
        assert!(run(&GilbertElliott::NONE, 1_000).iter().all(|&l| !l));
    }
}
