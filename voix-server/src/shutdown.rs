//! The signals that stop the server.

use std::future::Future;
use std::io;

use tracing::info;

/// Starts listening for SIGINT and SIGTERM (Ctrl-C elsewhere than Unix)
/// and returns a future that completes when one arrives. Listening starts
/// at once, so that a signal sent right after this call is not missed, and
/// the signal no longer kills the process: it is [`run`](fn@crate::run)'s
/// shutdown, which exits cleanly.
#[cfg(unix)]
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            // Ctrl-C in the server's terminal.
            _ = interrupt.recv() => info!("SIGINT received"),
            // A service manager, or `kill`, asks the server to stop.
            _ = terminate.recv() => info!("SIGTERM received"),
        }
    })
}

/// Starts listening for Ctrl-C and returns a future that completes when it
/// arrives.
#[cfg(not(unix))]
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            info!("Ctrl-C received");
        }
    })
}
