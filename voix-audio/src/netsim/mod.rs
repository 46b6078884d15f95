//! A seeded network simulator and a text format for packet traces.
//!
//! [`NetworkSim`] decides, packet by packet, what a [`NetworkModel`] path
//! does (loss, transit time, duplication); the same seed always gives the
//! same result, so it can drive deterministic tests, including a lossy proxy
//! in other crates' end-to-end tests. [`Trace`] records a whole stream's
//! fates for replay and is what `jitter-sim` reads.

mod loss;
mod model;
mod trace;

pub use loss::GilbertElliott;
pub use model::{Fate, NetworkModel, NetworkSim, Spikes};
pub use trace::{TRACE_MAGIC, Trace, TraceError, TraceRecord};
