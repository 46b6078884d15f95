//! Shared helpers for the Voix benchmarks and measurement tools.
//!
//! The criterion benches live in `benches/benches/`; the operator tools
//! (`jitter-sim`, `voix-load`) live in `benches/src/bin/`; `parse-ratio`
//! (`benches/examples/`) compares parse speed with `irc-proto` on the
//! [`corpus`] of the parse bench.
//!
//! Unsafe code is denied everywhere but in the speexdsp FFI of
//! [`jitter_sim::speex`], which allows it for its own extern calls.
#![deny(unsafe_code)]

pub mod corpus;
pub mod jitter_sim;
pub mod load;
