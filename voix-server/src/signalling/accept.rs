//! The task that accepts TCP connections and hands them to the signalling
//! task, so that a failing `accept` can back off without stalling anyone.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::warn;

use super::Input;

/// The first pause after a failed `accept`; it doubles on each failure in a
/// row, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause after failed `accept`s, as when the process is out of
/// file descriptors.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections until the signalling task is gone (or aborts this
/// task, which closes the listener).
pub(super) async fn accept_loop(listener: TcpListener, inputs: mpsc::Sender<Input>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = MIN_BACKOFF;
                if inputs.send(Input::Accepted { stream, peer }).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                warn!(%error, "accepting a connection failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
