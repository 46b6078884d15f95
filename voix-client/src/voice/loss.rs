//! The loss the encoder's forward error correction is sized for: what we
//! heard lost over the last few seconds, refreshed about once a second.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use voix_audio::jitter::JitterStats;
use voix_audio::mixer::SpeakerId;

/// How often the estimate is refreshed.
const UPDATE_INTERVAL: Duration = Duration::from_secs(1);

/// Updates a speaker's loss is measured over: the estimate covers the
/// last five seconds.
const WINDOW_UPDATES: usize = 5;

/// Fewer frame slots than this in a speaker's window are too few to
/// measure a loss rate from (a speaker who just started or stopped).
const MIN_SLOTS: u64 = 25;

/// A speaker's counters at one update.
#[derive(Debug, Clone, Copy)]
struct Counts {
    played: u64,
    lost: u64,
}

/// Measures the loss among the speakers we hear over a sliding window,
/// once per [`UPDATE_INTERVAL`] (sans-IO: the time is an argument).
///
/// Lifetime counters would let a long clean call hide a new burst of
/// loss, and a past burst keep FEC up long after the path recovered.
#[derive(Debug, Default)]
pub(crate) struct RecentLoss {
    /// When the next update is due; `None` before the first.
    next_update: Option<Instant>,
    /// Each speaker's counters at the last updates, oldest first.
    history: BTreeMap<SpeakerId, VecDeque<Counts>>,
}

impl RecentLoss {
    /// Takes the speakers' counters at `now` if an update is due, and
    /// returns the highest share of frames lost among the speakers over
    /// the last [`WINDOW_UPDATES`] updates. `None` if no update is due or
    /// no speaker was heard enough to tell; the previous estimate stands.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        speakers: impl IntoIterator<Item = (SpeakerId, JitterStats)>,
    ) -> Option<f64> {
        if self.next_update.is_some_and(|due| now < due) {
            return None;
        }
        self.next_update = Some(now + UPDATE_INTERVAL);
        // Speakers no longer heard are forgotten.
        let mut previous = std::mem::take(&mut self.history);
        let mut worst: Option<f64> = None;
        for (speaker, stats) in speakers {
            let counts = Counts { played: stats.frames_played, lost: stats.frames_lost };
            let mut past = previous.remove(&speaker).unwrap_or_default();
            if past.back().is_some_and(|last| last.played > counts.played) {
                // Frames played never decrease: a new stream under this id.
                past.clear();
            }
            if let Some(oldest) = past.front() {
                // A pause can take back frames counted as lost, so the
                // lost count may have shrunk.
                let played = counts.played - oldest.played;
                let lost = counts.lost.saturating_sub(oldest.lost);
                if played + lost >= MIN_SLOTS {
                    let rate = lost as f64 / (played + lost) as f64;
                    worst = Some(worst.map_or(rate, |w| w.max(rate)));
                }
            }
            if past.len() == WINDOW_UPDATES {
                past.pop_front();
            }
            past.push_back(counts);
            self.history.insert(speaker, past);
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A speaker's counters: `played` frames played, `lost` given up.
    fn stats(played: u64, lost: u64) -> JitterStats {
        JitterStats { frames_played: played, frames_lost: lost, ..JitterStats::default() }
    }

    #[test]
    fn refreshes_once_a_second_from_the_last_seconds() {
        let start = Instant::now();
        let mut loss = RecentLoss::default();
        let (mut played, mut lost) = (0, 0);
        let mut updates = Vec::new();
        // 20 ms frames: 10 % lost for 20 s, then none for 10 s.
        for frame in 0..1_500u32 {
            if frame < 1_000 && frame % 10 == 0 {
                lost += 1;
            } else {
                played += 1;
            }
            let now = start + Duration::from_millis(20) * frame;
            if let Some(rate) = loss.poll(now, [(7, stats(played, lost))]) {
                updates.push((frame, rate));
            }
        }
        // Once a second, from the second update on (the first has nothing
        // to compare with).
        let frames: Vec<u32> = updates.iter().map(|&(f, _)| f).collect();
        assert_eq!(frames, (1..30).map(|s| s * 50).collect::<Vec<_>>());
        let rate_at = |second: u32| updates[second as usize - 1].1;
        assert!((rate_at(10) - 0.1).abs() < 0.005, "{}", rate_at(10));
        // After the loss stops, the estimate falls over the window and
        // is clean five seconds later, not diluted over the whole call.
        assert!(rate_at(22) > 0.0 && rate_at(22) < 0.1, "{}", rate_at(22));
        assert_eq!(rate_at(25), 0.0);
    }

    #[test]
    fn a_new_burst_after_a_long_clean_call_is_seen_in_full() {
        let start = Instant::now();
        let mut loss = RecentLoss::default();
        let at = |second: u64| start + Duration::from_secs(second);
        // A clean minute, then 20 % loss.
        for second in 0..=60 {
            let _ = loss.poll(at(second), [(1, stats(second * 50, 0))]);
        }
        let _ = loss.poll(at(61), [(1, stats(3_040, 10))]);
        let rate = loss.poll(at(62), [(1, stats(3_080, 20))]).expect("due");
        // 20 lost of the 250 slots since second 57; lifetime counters
        // would say 20 of 3 100, too little to turn FEC up.
        assert_eq!(rate, 20.0 / 250.0);
    }

    #[test]
    fn quiet_restarted_and_departed_speakers_give_no_figure() {
        let start = Instant::now();
        let mut loss = RecentLoss::default();
        let at = |second: u64| start + Duration::from_secs(second);
        assert_eq!(loss.poll(at(0), [(1, stats(0, 0))]), None, "nothing to compare with");
        assert_eq!(loss.poll(at(0) + Duration::from_millis(500), [(1, stats(50, 0))]), None);
        // Ten frames in a second are too few to tell.
        assert_eq!(loss.poll(at(1), [(1, stats(5, 5))]), None);
        // Speaker 1's stream restarted (fewer frames played): no window yet.
        assert_eq!(loss.poll(at(2), [(1, stats(3, 0))]), None);
        assert_eq!(loss.poll(at(3), [(1, stats(53, 0))]), Some(0.0));
        // The worst speaker counts; one who left is forgotten.
        let both = [(1, stats(103, 0)), (2, stats(0, 0))];
        assert_eq!(loss.poll(at(4), both), Some(0.0));
        assert_eq!(loss.poll(at(5), [(1, stats(153, 0)), (2, stats(40, 10))]), Some(0.2));
        assert_eq!(loss.poll(at(6), [(1, stats(203, 0))]), Some(0.0));
        assert!(!loss.history.contains_key(&2));
    }
}
