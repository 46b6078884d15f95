//! Errors of the codec.

/// Why encoding or decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The PCM buffer does not hold exactly one frame.
    #[error("buffer holds {got} samples, one frame is {expected}")]
    FrameLength {
        /// Samples in one frame.
        expected: usize,
        /// Samples in the buffer given.
        got: usize,
    },
    /// The bitrate is outside what Opus supports.
    #[error("bitrate {0} b/s is outside {min}..={max}", min = super::MIN_BITRATE, max = super::MAX_BITRATE)]
    Bitrate(u32),
    /// The complexity is above 10.
    #[error("complexity {0} is above 10")]
    Complexity(u8),
    /// libopus reported an error.
    #[error("opus {function}: {}", code.description())]
    Opus {
        /// The libopus function that failed.
        function: &'static str,
        /// Its error code.
        code: opus::ErrorCode,
    },
}

impl From<opus::Error> for CodecError {
    fn from(error: opus::Error) -> Self {
        Self::Opus { function: error.function(), code: error.code() }
    }
}
