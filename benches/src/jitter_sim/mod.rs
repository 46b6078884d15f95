//! The machinery of the `jitter-sim` binary: replay a packet trace through
//! Voix's jitter buffer and through speexdsp's, and measure both alike.

pub mod audio;
pub mod engine;
pub mod metrics;
pub mod report;
pub mod speex;
pub mod standard_traces;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use voix_audio::jitter::{ConfigError, JitterConfig};
use voix_audio::netsim::{Trace, TraceError};

use engine::{Speex, Voix, replay};
use metrics::Figures;
use report::Comparison;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A trace file is malformed.
    #[error("{path}: {source}")]
    Trace {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: TraceError,
    },
    /// Voix's jitter buffer refused its settings.
    #[error("voix jitter buffer: {0}")]
    JitterConfig(#[from] ConfigError),
    /// speexdsp could not allocate a jitter buffer.
    #[error("speexdsp could not create a jitter buffer")]
    Speex,
    /// Encoding, decoding or a WAV file failed in `--audio`.
    #[error("audio: {0}")]
    Audio(String),
}

impl From<io::Error> for SimError {
    fn from(source: io::Error) -> Self {
        Self::Io { path: PathBuf::new(), source }
    }
}

/// Reads a trace file.
pub fn read_trace(path: &Path) -> Result<Trace, SimError> {
    let text = fs::read_to_string(path)
        .map_err(|source| SimError::Io { path: path.to_owned(), source })?;
    Trace::parse(&text).map_err(|source| SimError::Trace { path: path.to_owned(), source })
}

/// Replays `trace` through both buffers, with empty payloads.
pub fn compare(name: &str, trace: &Trace) -> Result<Comparison, SimError> {
    let empty = |_| Bytes::new();
    let config = JitterConfig { frame: trace.frame, ..JitterConfig::default() };
    let mut voix = Voix::new(config)?;
    let voix_ticks = replay(trace, &mut voix, &empty);
    let mut speex = Speex::new(trace.frame.samples() as u32).ok_or(SimError::Speex)?;
    let speex_ticks = replay(trace, &mut speex, &empty);
    Ok(Comparison {
        trace: name.to_owned(),
        network_loss: trace.loss_rate(),
        voix: Figures::measure(trace, &voix_ticks),
        speex: Figures::measure(trace, &speex_ticks),
    })
}

/// Reads and compares the trace at `path`, named after its file.
pub fn compare_file(path: &Path) -> Result<Comparison, SimError> {
    let trace = read_trace(path)?;
    let name = path
        .file_stem()
        .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    compare(&name, &trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voix_config_error_is_reported_as_such() {
        let bad = JitterConfig { quantile: 2.0, ..JitterConfig::default() };
        let error = SimError::from(Voix::new(bad).expect_err("quantile out of range"));
        assert!(matches!(error, SimError::JitterConfig(ConfigError::Quantile(_))), "{error:?}");
        assert_eq!(error.to_string(), "voix jitter buffer: quantile 2 is outside (0.5, 1.0)");
    }
}
