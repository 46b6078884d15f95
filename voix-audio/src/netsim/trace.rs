//! Packet traces: what happened to each packet of a stream, as text.
//!
//! ```text
//! # voix-netsim trace v1
//! # frame_ms 20
//! # seq send_us arrival_us|lost
//! 0 0 23514
//! 1 20000 lost
//! 2 40000 61022
//! 2 40000 66310
//! ```
//!
//! The first line names the format; `# frame_ms N` gives the packet
//! duration; other `#` lines are comments. Each record line holds a
//! sequence number, the send time on the sender's clock and the arrival
//! time on the receiver's clock (both in µs), or `lost`. A packet that
//! arrived twice has two lines.

use std::fmt;
use std::time::Duration;

use super::model::{NetworkModel, NetworkSim};
use crate::format::FrameDuration;

/// First line of every trace.
pub const TRACE_MAGIC: &str = "# voix-netsim trace v1";

/// One packet's fate in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord {
    /// Sequence number (+1 per packet sent).
    pub seq: u32,
    /// Send time on the sender's clock, µs.
    pub sent_us: u64,
    /// Arrival time on the receiver's clock, µs; `None` if lost.
    pub arrival_us: Option<u64>,
}

/// The packets of one stream and what happened to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Duration of each packet; packet `seq` carries timestamp
    /// `seq * frame.samples()`.
    pub frame: FrameDuration,
    /// One record per packet sent, plus one per duplicate, in sending order.
    pub records: Vec<TraceRecord>,
}

/// A trace that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The first line is not [`TRACE_MAGIC`].
    #[error("not a voix-netsim trace: the first line must be {TRACE_MAGIC:?}")]
    NotATrace,
    /// The `# frame_ms` line is missing or names an unsupported duration.
    #[error("missing or unsupported `# frame_ms` line (10, 20, 40 or 60)")]
    FrameDuration,
    /// A record line is malformed.
    #[error("line {line}: {reason}")]
    Record {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Trace {
    /// Sends `packets` packets of `frame` duration through a path following
    /// `model` seeded with `seed`, applying the model's clock drift to
    /// arrival times.
    pub fn generate(model: NetworkModel, seed: u64, packets: u32, frame: FrameDuration) -> Self {
        let mut sim = NetworkSim::new(model, seed);
        let drift = 1.0 + model.clock_drift_ppm / 1e6;
        let mut records = Vec::with_capacity(packets as usize);
        for seq in 0..packets {
            let sent = frame.duration() * seq;
            let sent_us = sent.as_micros() as u64;
            let fate = sim.send(sent);
            let mut arrivals = fate.arrivals().peekable();
            if arrivals.peek().is_none() {
                records.push(TraceRecord { seq, sent_us, arrival_us: None });
            }
            for transit in arrivals {
                let arrival = (sent + transit).as_secs_f64() * drift;
                // A drift far off (or not finite) saturates rather than panics.
                let arrival =
                    Duration::try_from_secs_f64(arrival.max(0.0)).unwrap_or(Duration::MAX);
                let arrival_us = u64::try_from(arrival.as_micros()).unwrap_or(u64::MAX);
                records.push(TraceRecord { seq, sent_us, arrival_us: Some(arrival_us) });
            }
        }
        Self { frame, records }
    }

    /// Reads a trace from its text form.
    pub fn parse(text: &str) -> Result<Self, TraceError> {
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l.trim_end()) != Some(TRACE_MAGIC) {
            return Err(TraceError::NotATrace);
        }
        let mut frame = None;
        let mut records = Vec::new();
        for (index, line) in lines {
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(value) = comment.trim().strip_prefix("frame_ms ") {
                    let millis = value.trim().parse().map_err(|_| TraceError::FrameDuration)?;
                    frame =
                        Some(FrameDuration::from_millis(millis).ok_or(TraceError::FrameDuration)?);
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            records.push(
                parse_record(line)
                    .map_err(|reason| TraceError::Record { line: index + 1, reason })?,
            );
        }
        let frame = frame.ok_or(TraceError::FrameDuration)?;
        Ok(Self { frame, records })
    }

    /// Number of distinct packets sent.
    pub fn packets_sent(&self) -> usize {
        let mut seqs: Vec<u32> = self.records.iter().map(|r| r.seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        seqs.len()
    }

    /// Share of packets sent that never arrived.
    pub fn loss_rate(&self) -> f64 {
        let sent = self.packets_sent();
        let mut arrived: Vec<u32> =
            self.records.iter().filter(|r| r.arrival_us.is_some()).map(|r| r.seq).collect();
        arrived.sort_unstable();
        arrived.dedup();
        if sent == 0 { 0.0 } else { 1.0 - arrived.len() as f64 / sent as f64 }
    }
}

fn parse_record(line: &str) -> Result<TraceRecord, &'static str> {
    let mut fields = line.split_ascii_whitespace();
    let seq = fields.next().and_then(|f| f.parse().ok()).ok_or("sequence number is not a u32")?;
    let sent_us = fields.next().and_then(|f| f.parse().ok()).ok_or("send time is not a u64")?;
    let arrival_us = match fields.next() {
        Some("lost") => None,
        Some(field) => Some(field.parse().map_err(|_| "arrival time is neither a u64 nor `lost`")?),
        None => return Err("arrival time is missing"),
    };
    if fields.next().is_some() {
        return Err("more than three fields");
    }
    Ok(TraceRecord { seq, sent_us, arrival_us })
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{TRACE_MAGIC}")?;
        writeln!(f, "# frame_ms {}", self.frame.millis())?;
        writeln!(f, "# seq send_us arrival_us|lost")?;
        for record in &self.records {
            match record.arrival_us {
                Some(arrival) => writeln!(f, "{} {} {arrival}", record.seq, record.sent_us)?,
                None => writeln!(f, "{} {} lost", record.seq, record.sent_us)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let trace = Trace::generate(NetworkModel::MOBILE, 11, 500, FrameDuration::Ms20);
        assert_eq!(Trace::parse(&trace.to_string()), Ok(trace));
    }

    #[test]
    fn reads_the_documented_example() {
        let text = "# voix-netsim trace v1\n# frame_ms 20\n# a comment\n0 0 23514\n1 20000 lost\n\n2 40000 61022\n2 40000 66310\n";
        let trace = Trace::parse(text).expect("valid trace");
        assert_eq!(trace.frame, FrameDuration::Ms20);
        assert_eq!(trace.records.len(), 4);
        assert_eq!(trace.records[1].arrival_us, None);
        assert_eq!(trace.packets_sent(), 3);
        assert!((trace.loss_rate() - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn rejects_malformed_input_with_its_line() {
        let cases = [
            ("0 0 1\n", TraceError::NotATrace),
            ("# voix-netsim trace v1\n0 0 1\n", TraceError::FrameDuration),
            ("# voix-netsim trace v1\n# frame_ms 25\n", TraceError::FrameDuration),
            (
                "# voix-netsim trace v1\n# frame_ms 20\n0 0\n",
                TraceError::Record { line: 3, reason: "arrival time is missing" },
            ),
            (
                "# voix-netsim trace v1\n# frame_ms 20\n-1 0 5\n",
                TraceError::Record { line: 3, reason: "sequence number is not a u32" },
            ),
            (
                "# voix-netsim trace v1\n# frame_ms 20\n1 0 5 6\n",
                TraceError::Record { line: 3, reason: "more than three fields" },
            ),
            (
                "# voix-netsim trace v1\n# frame_ms 20\n1 0 soon\n",
                TraceError::Record { line: 3, reason: "arrival time is neither a u64 nor `lost`" },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Trace::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn any_drift_generates_a_trace() {
        for clock_drift_ppm in [f64::INFINITY, f64::NAN, 1e30, -1e30] {
            let model = NetworkModel { clock_drift_ppm, ..NetworkModel::WIRED };
            let trace = Trace::generate(model, 1, 10, FrameDuration::Ms20);
            assert_eq!(trace.packets_sent(), 10);
        }
    }

    #[test]
    fn drift_stretches_arrival_times() {
        let fast = NetworkModel { clock_drift_ppm: 1_000.0, ..NetworkModel::WIRED };
        let trace = Trace::generate(fast, 1, 3_000, FrameDuration::Ms20);
        let last = trace.records.iter().rev().find_map(|r| r.arrival_us.map(|a| (a, r.sent_us)));
        let (arrival, sent) = last.expect("some packet arrived");
        // 60 s at +1000 ppm gains 60 ms on top of the ~20 ms path.
        assert!(arrival - sent > 75_000, "{}", arrival - sent);
    }
}
