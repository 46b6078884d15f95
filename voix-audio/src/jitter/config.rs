//! Configuration of the jitter buffer, validated at construction.

use std::time::Duration;

use crate::format::FrameDuration;

/// Longest `max_delay` a buffer accepts.
pub const MAX_DELAY_LIMIT: Duration = Duration::from_secs(5);

/// Settings of a [`JitterBuffer`](super::JitterBuffer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterConfig {
    /// Duration of one packet, and the interval at which `pop` is called.
    pub frame: FrameDuration,
    /// The delay never goes below this, even on a perfect network.
    pub min_delay: Duration,
    /// The delay never goes above this; jitter beyond it becomes late loss.
    pub max_delay: Duration,
    /// Largest share of packets the target delay tries to cover, in
    /// `(0.5, 1.0)`. The target covers at least 95 % (or this share, if
    /// lower) and goes up to this share only while each further frame of
    /// delay saves enough packets from being late.
    pub quantile: f64,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame: FrameDuration::Ms20,
            min_delay: Duration::ZERO,
            max_delay: Duration::from_millis(500),
            quantile: 0.992,
        }
    }
}

/// A [`JitterConfig`] that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `min_delay` is above `max_delay`.
    #[error("minimum delay {min:?} is above maximum delay {max:?}")]
    DelayRange {
        /// The configured minimum.
        min: Duration,
        /// The configured maximum.
        max: Duration,
    },
    /// `max_delay` is above [`MAX_DELAY_LIMIT`].
    #[error("maximum delay {0:?} is above the limit of {MAX_DELAY_LIMIT:?}")]
    MaxDelayTooLong(Duration),
    /// `quantile` is outside `(0.5, 1.0)`.
    #[error("quantile {0} is outside (0.5, 1.0)")]
    Quantile(f64),
}

impl JitterConfig {
    /// Checks that the settings are usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_delay > self.max_delay {
            return Err(ConfigError::DelayRange { min: self.min_delay, max: self.max_delay });
        }
        if self.max_delay > MAX_DELAY_LIMIT {
            return Err(ConfigError::MaxDelayTooLong(self.max_delay));
        }
        if !(self.quantile > 0.5 && self.quantile < 1.0) {
            return Err(ConfigError::Quantile(self.quantile));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(JitterConfig::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_unusable_settings() {
        let base = JitterConfig::default();
        let inverted = JitterConfig {
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_millis(100),
            ..base
        };
        assert!(matches!(inverted.validate(), Err(ConfigError::DelayRange { .. })));
        let long = JitterConfig { max_delay: Duration::from_secs(6), ..base };
        assert_eq!(long.validate(), Err(ConfigError::MaxDelayTooLong(Duration::from_secs(6))));
        for quantile in [0.5, 1.0, f64::NAN] {
            let config = JitterConfig { quantile, ..base };
            assert!(matches!(config.validate(), Err(ConfigError::Quantile(_))));
        }
    }
}
