//! The figures `jitter-sim` compares: late loss, added delay, concealment.

use std::collections::HashMap;

use voix_audio::netsim::Trace;

use super::engine::{Tick, TickRecord};

/// How well one buffer played one trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Packets that arrived but were never played, over packets sent.
    pub late_loss: f64,
    /// Mean delay the buffer added: play time − send time − the trace's
    /// lowest transit time, over played packets, in ms.
    pub mean_delay_ms: f64,
    /// 95th percentile of the same, in ms.
    pub p95_delay_ms: f64,
    /// Ticks concealed (not played from their own packet, FEC aside), over
    /// ticks in talk (played, recovered or concealed) up to the last play.
    pub concealment: f64,
    /// Ticks rebuilt from FEC, over ticks in talk.
    pub fec: f64,
}

impl Figures {
    /// Measures a replay of `trace`.
    pub fn measure(trace: &Trace, ticks: &[TickRecord]) -> Self {
        let mut sent_us = HashMap::new();
        let mut arrived = HashMap::new();
        let mut min_transit = u64::MAX;
        for record in &trace.records {
            sent_us.insert(record.seq, record.sent_us);
            if let Some(at) = record.arrival_us {
                arrived.insert(record.seq, ());
                min_transit = min_transit.min(at.saturating_sub(record.sent_us));
            }
        }
        let mut delays = Vec::new();
        let mut played = HashMap::new();
        let (mut concealed, mut recovered) = (0u64, 0u64);
        // After the last packet played, the stream is over: what a buffer
        // does then is no concealment.
        let last_play =
            ticks.iter().rposition(|r| matches!(r.tick, Tick::Played { .. })).map_or(0, |i| i + 1);
        for record in &ticks[..last_play] {
            match &record.tick {
                Tick::Played { seq, .. } => {
                    if played.insert(*seq, ()).is_none() {
                        let sent = sent_us.get(seq).copied().unwrap_or(record.at_us);
                        let delay = record.at_us.saturating_sub(sent).saturating_sub(min_transit);
                        delays.push(delay as f64 / 1_000.0);
                    }
                }
                Tick::Recovered { .. } => recovered += 1,
                Tick::Concealed => concealed += 1,
                Tick::Silent => {}
            }
        }
        let late = arrived.keys().filter(|seq| !played.contains_key(seq)).count();
        let talk = (delays.len() as u64 + concealed + recovered).max(1) as f64;
        delays.sort_by(f64::total_cmp);
        let mean = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
        let p95 = delays
            .get((delays.len() as f64 * 0.95) as usize)
            .or(delays.last())
            .copied()
            .unwrap_or(0.0);
        Self {
            late_loss: late as f64 / sent_us.len().max(1) as f64,
            mean_delay_ms: mean,
            p95_delay_ms: p95,
            concealment: concealed as f64 / talk,
            fec: recovered as f64 / talk,
        }
    }

    /// Whether these figures meet the target against `reference`: lower
    /// late loss at equal or lower mean delay, or lower mean delay at equal
    /// or lower late loss.
    pub fn beats(&self, reference: &Figures) -> bool {
        (self.late_loss < reference.late_loss && self.mean_delay_ms <= reference.mean_delay_ms)
            || (self.mean_delay_ms < reference.mean_delay_ms
                && self.late_loss <= reference.late_loss)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use voix_audio::FrameDuration;
    use voix_audio::netsim::TraceRecord;

    use super::*;

    fn played(at_us: u64, seq: u32) -> TickRecord {
        TickRecord { at_us, tick: Tick::Played { seq, payload: Bytes::new() } }
    }

    #[test]
    fn measures_a_hand_made_replay() {
        // Four packets sent 20 ms apart with 10 ms transit (15 ms for #1,
        // which also comes too late to play); #3 is lost.
        let record = |seq: u32, transit: Option<u64>| TraceRecord {
            seq,
            sent_us: u64::from(seq) * 20_000,
            arrival_us: transit.map(|t| u64::from(seq) * 20_000 + t),
        };
        let trace = Trace {
            frame: FrameDuration::Ms20,
            records: vec![
                record(0, Some(10_000)),
                record(1, Some(15_000)),
                record(2, Some(10_000)),
                record(3, None),
            ],
        };
        let ticks = [
            TickRecord { at_us: 0, tick: Tick::Silent },
            played(20_000, 0),
            TickRecord { at_us: 40_000, tick: Tick::Concealed },
            played(60_000, 2),
            TickRecord { at_us: 80_000, tick: Tick::Recovered { seq: 3, next: Bytes::new() } },
            TickRecord { at_us: 100_000, tick: Tick::Concealed },
        ];
        let figures = Figures::measure(&trace, &ticks);
        assert_eq!(figures.late_loss, 0.25, "packet 1 arrived but never played");
        // Each played packet waited 20 ms after sending, 10 ms above the floor.
        assert_eq!((figures.mean_delay_ms, figures.p95_delay_ms), (10.0, 10.0));
        // Talk ticks up to the last play: two plays and one concealment.
        assert!((figures.concealment - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(figures.fec, 0.0);
    }

    #[test]
    fn beating_needs_one_better_figure_and_no_worse_one() {
        let base = Figures {
            late_loss: 0.02,
            mean_delay_ms: 60.0,
            p95_delay_ms: 80.0,
            concealment: 0.03,
            fec: 0.0,
        };
        let lower_loss = Figures { late_loss: 0.01, ..base };
        let lower_delay = Figures { mean_delay_ms: 50.0, ..base };
        let trade_off = Figures { late_loss: 0.01, mean_delay_ms: 70.0, ..base };
        assert!(lower_loss.beats(&base) && lower_delay.beats(&base));
        assert!(!base.beats(&base), "a tie is not a win");
        assert!(!trade_off.beats(&base) && !base.beats(&trade_off));
    }
}
