//! [`run`]: the whole server on bound sockets, until a shutdown future
//! completes.

use std::future::Future;
use std::io;

use rand::TryRng;
use rand::rngs::{SysError, SysRng};
use tokio::net::{TcpListener, UdpSocket};
use tracing::info;
use voix_proto::server::Server;

use crate::config::Config;
use crate::signalling::Signalling;
use crate::voice::{RelayPanicked, VoiceRelay};

/// Why the server could not run, or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The operating system gave no randomness for `PING` tokens and voice
    /// keys.
    #[error("cannot seed the server's random generator from the operating system")]
    Entropy(#[source] SysError),
    /// The voice socket could not be set up, or its thread not started.
    #[error("cannot start the voice relay")]
    Voice(#[source] io::Error),
    /// The voice relay thread panicked.
    #[error(transparent)]
    RelayPanicked(#[from] RelayPanicked),
}

/// Runs the server: signalling on `listener`, voice on `voice` (the same
/// address, by convention: see [`bind`](fn@crate::bind)), until `shutdown`
/// completes. Then every client gets `ERROR SHUTDOWN`, and the function
/// returns once every connection is closed, within
/// [`CLOSE_TIMEOUT`](crate::CLOSE_TIMEOUT), and the voice relay has stopped.
///
/// The cores' random generator is seeded from the operating system.
pub async fn run(
    listener: TcpListener,
    voice: UdpSocket,
    config: Config,
    shutdown: impl Future,
) -> Result<(), RunError> {
    let mut seed = [0; 32];
    SysRng.try_fill_bytes(&mut seed).map_err(RunError::Entropy)?;
    let relay = VoiceRelay::spawn(voice, config.relay()).map_err(RunError::Voice)?;
    let server = Server::new(config.server, seed);
    Signalling::new(server, listener, relay.commands()).run(shutdown).await;
    let stats = relay.stop().await?;
    info!(?stats, "voice relay stopped");
    Ok(())
}
