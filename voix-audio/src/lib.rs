//! Voix audio: Opus codec, jitter buffer, mixer and audio devices.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
