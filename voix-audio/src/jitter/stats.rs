//! Counters and gauges a user interface shows for one incoming stream.

use std::time::Duration;

/// What a [`JitterBuffer`](super::JitterBuffer) has done so far.
///
/// Counters only grow; the two delays are the current values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Delay the buffer currently adds above the fastest packet's transit.
    pub current_delay: Duration,
    /// Delay the buffer is steering towards.
    pub target_delay: Duration,
    /// Packets handed to `push`.
    pub packets_received: u64,
    /// Packets that arrived after their frame was already played out or
    /// concealed (late loss).
    pub packets_late: u64,
    /// Packets received twice.
    pub packets_duplicate: u64,
    /// Packets thrown away: implausible sequence or timestamp, buffer
    /// overflow, or dropped to bring the delay down.
    pub packets_discarded: u64,
    /// Frames played from a packet.
    pub frames_played: u64,
    /// Frames rebuilt from the forward error correction data of the next packet.
    pub frames_recovered: u64,
    /// Ticks filled by concealment during a talk spurt (lost or late frames,
    /// and the ticks the buffer waited to grow its delay). The short
    /// concealment after a spurt's last packet is moved to `ticks_silent`
    /// once the next packet shows the sender had paused.
    pub frames_concealed: u64,
    /// Frames given up for lost (concealed or recovered, never played).
    pub frames_lost: u64,
    /// Ticks with nothing to play: between talk spurts, in DTX gaps, and
    /// after the short concealment tail while nothing has come.
    pub ticks_silent: u64,
}

impl JitterStats {
    /// Share of frame slots whose packet came, but too late: late packets
    /// over slots played or given up.
    pub fn late_loss_rate(&self) -> f64 {
        ratio(self.packets_late, self.frames_played + self.frames_lost)
    }

    /// Share of talk-spurt ticks that the decoder had to conceal.
    pub fn concealment_rate(&self) -> f64 {
        ratio(
            self.frames_concealed,
            self.frames_played + self.frames_recovered + self.frames_concealed,
        )
    }

    /// Share of frame slots lost for any reason (never arrived, or late).
    pub fn loss_rate(&self) -> f64 {
        ratio(self.frames_lost, self.frames_played + self.frames_lost)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_zero_before_anything_played() {
        let stats = JitterStats::default();
        assert_eq!(stats.late_loss_rate(), 0.0);
        assert_eq!(stats.concealment_rate(), 0.0);
        assert_eq!(stats.loss_rate(), 0.0);
    }

    #[test]
    fn rates_divide_by_slots() {
        let stats = JitterStats {
            packets_late: 1,
            frames_played: 90,
            frames_lost: 10,
            frames_recovered: 4,
            frames_concealed: 6,
            ..JitterStats::default()
        };
        assert_eq!(stats.late_loss_rate(), 0.01);
        assert_eq!(stats.loss_rate(), 0.1);
        assert_eq!(stats.concealment_rate(), 0.06);
    }
}
