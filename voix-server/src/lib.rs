//! The Voix server: TCP signalling and UDP voice relay on tokio.
//!
//! This crate only moves bytes. The protocol lives in the sans-IO cores of
//! `voix-proto`: [`voix_proto::server::Server`] for signalling and
//! [`voix_proto::voice::Relay`] for voice; this crate feeds them what the
//! sockets and the clock say and carries out what they ask.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use voix_server::{Config, bind, run, shutdown_signal};
//!
//! let shutdown = shutdown_signal()?;
//! let (listener, voice) = bind("127.0.0.1:0".parse()?).await?;
//! println!("listening on {}", listener.local_addr()?);
//! run(listener, voice, Config::default(), shutdown).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - `config`: the settings, as flags and as a TOML file ([`Settings`],
//!   [`Config`]);
//! - `banner`: the line saying where the server listens
//!   ([`listening_line`], [`parse_listening_line`]), and waiting for it
//!   on a started server's output ([`wait_for_listening_line`]);
//! - `bind`: one address for TCP and UDP ([`bind()`]);
//! - `run`: the server on bound sockets until a shutdown future ([`run()`]);
//! - `signalling`: the task that owns the signalling core, with
//!   `accept` (the listener's task) and `connection` (one socket's reader
//!   and writer);
//! - `voice`: the relay's own thread, and its socket buffers
//!   ([`enlarge_voice_buffers`]);
//! - `shutdown`: SIGINT and SIGTERM ([`shutdown_signal`]).
//!
//! # Tasks
//! One task owns the signalling core; an accept task and a reader task per
//! connection send it what happens through one bounded channel. It writes
//! output one batch per connection, straight to the socket when it takes
//! it, else through a short-lived task, so that a slow client never holds
//! anyone up: its output waits in the core, which drops it past its queue
//! limit. The voice relay runs on its own thread, fed session changes by
//! the signalling task.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod banner;
mod bind;
mod config;
mod run;
mod shutdown;
mod signalling;
mod voice;

pub use banner::{
    Listening, ListeningError, listening_line, parse_listening_line, wait_for_listening_line,
};
pub use bind::{BIND_ATTEMPTS, BindError, LISTEN_BACKLOG, bind};
pub use config::{Config, ConfigError, DEFAULT_LISTEN, MAX_TIMER, Settings};
pub use run::{RunError, run};
pub use shutdown::shutdown_signal;
pub use signalling::CLOSE_TIMEOUT;
pub use voice::{RELAY_POLL_INTERVAL, RelayPanicked, VOICE_SOCKET_BUFFER, enlarge_voice_buffers};
