//! Shared helpers for the Voix benchmarks and measurement tools.
//!
//! The criterion benches live in `benches/benches/`; the operator tools
//! (`jitter-sim`, `voix-load`) live in `benches/src/bin/`.
#![forbid(unsafe_code)]
