//! The Voix client: a terminal UI for people, a headless mode for bots and
//! tests, and the voice that both carry.
//!
//! # Map
//!
//! - [`app`]: the sans-IO brain: connection and reconnection, the
//!   `voix-proto` session, commands, and what the voice engine should do.
//! - [`voice`]: the sans-IO voice engine: capture → gate → Opus → sealed
//!   datagrams, and datagrams → jitter buffers → mix.
//! - [`command`] and [`event`]: what the user types and what the client
//!   reports (the headless mode's JSON lines).
//! - [`runtime`]: the threads and sockets that drive the two sans-IO parts
//!   in real time: one control loop fed by one channel, an audio capture
//!   thread, a playback thread and a UDP receiver.
//! - [`audio`]: opening the audio source and sink (cpal, WAV, null).
//! - [`headless`] and [`tui`]: the two front ends.
//! - [`cli`], [`server_addr`] and [`backoff`]: the command line and the
//!   reconnection delays.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod audio;
pub mod backoff;
pub mod cli;
pub mod command;
pub mod event;
pub mod headless;
pub mod net;
pub mod runtime;
pub mod server_addr;
pub mod tui;
pub mod voice;
