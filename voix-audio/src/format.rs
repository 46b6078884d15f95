//! The audio format every part of the crate shares: 48 kHz mono, 16-bit.

use std::time::Duration;

/// Sample rate of every signal in Voix, in hertz; also the rate of the
/// 32-bit timestamp clock carried by voice packets.
pub const SAMPLE_RATE: u32 = 48_000;

/// Samples in the longest frame Opus can put in one packet (120 ms).
pub const MAX_PACKET_SAMPLES: usize = 5_760;

/// Duration of one audio frame: the unit that is encoded into one packet and
/// played out per jitter buffer tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FrameDuration {
    /// 10 ms (480 samples).
    Ms10,
    /// 20 ms (960 samples), the default: the usual trade-off for speech.
    #[default]
    Ms20,
    /// 40 ms (1920 samples).
    Ms40,
    /// 60 ms (2880 samples).
    Ms60,
}

impl FrameDuration {
    /// Every supported frame duration, shortest first.
    pub const ALL: [FrameDuration; 4] = [Self::Ms10, Self::Ms20, Self::Ms40, Self::Ms60];

    /// Length of the frame in milliseconds.
    pub const fn millis(self) -> u32 {
        match self {
            Self::Ms10 => 10,
            Self::Ms20 => 20,
            Self::Ms40 => 40,
            Self::Ms60 => 60,
        }
    }

    /// Number of mono samples in one frame at [`SAMPLE_RATE`].
    pub const fn samples(self) -> usize {
        // 48 samples per millisecond; at most 2880, so the cast is lossless.
        (self.millis() * (SAMPLE_RATE / 1000)) as usize
    }

    /// Length of the frame as a [`Duration`].
    pub const fn duration(self) -> Duration {
        Duration::from_millis(self.millis() as u64)
    }

    /// The frame duration lasting `millis` milliseconds, if it is supported.
    pub const fn from_millis(millis: u32) -> Option<Self> {
        match millis {
            10 => Some(Self::Ms10),
            20 => Some(Self::Ms20),
            40 => Some(Self::Ms40),
            60 => Some(Self::Ms60),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_match_duration_at_48_khz() {
        for frame in FrameDuration::ALL {
            let expected = frame.duration().as_micros() * u128::from(SAMPLE_RATE) / 1_000_000;
            assert_eq!(frame.samples() as u128, expected, "{frame:?}");
            assert_eq!(FrameDuration::from_millis(frame.millis()), Some(frame));
        }
        assert_eq!(FrameDuration::from_millis(25), None);
    }
}
