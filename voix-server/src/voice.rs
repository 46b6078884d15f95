//! The voice relay's own thread: UDP datagrams in and out of the sans-IO
//! [`Relay`], with session changes from signalling through a channel.
//!
//! The relay runs on a dedicated thread with a blocking socket, so voice
//! never waits behind signalling work (nor behind the async runtime), and
//! a datagram costs one `recv_from` plus one `send_to` per receiver.
//!
//! Session changes are applied before each datagram is handled. That is
//! early enough: signalling sends a session's `Open` before it writes the
//! `VOICE` line that lets the client send its first datagram.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tracing::{debug, trace, warn};
use voix_proto::voice::{MAX_DATAGRAM_LEN, Relay, RelayCommand, RelayConfig, RelayStats};

/// How long the relay thread waits for a datagram before it looks for
/// session changes and for the server stopping. It bounds how long the
/// thread takes to stop; session changes need no such bound (see the
/// module documentation).
pub const RELAY_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Kernel buffer the voice socket asks for, each way. The default (about
/// 208 KiB) holds only 2 ms of a 100,000-packets-per-second load, so a
/// relay thread preempted for longer loses packets; the kernel caps the
/// request at `net.core.rmem_max` / `wmem_max`.
pub const VOICE_SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// Room for the largest valid datagram and then some, so that a longer
/// one is seen to be too long instead of cut to a valid length.
const RECEIVE_BUFFER_LEN: usize = MAX_DATAGRAM_LEN + 1;

/// The handle on the relay thread.
#[derive(Debug)]
pub(crate) struct VoiceRelay {
    commands: Sender<RelayCommand>,
    thread: JoinHandle<RelayStats>,
}

impl VoiceRelay {
    /// Starts the relay thread on `socket`.
    pub(crate) fn spawn(socket: tokio::net::UdpSocket, config: RelayConfig) -> io::Result<Self> {
        let socket = socket.into_std()?;
        socket.set_nonblocking(false)?;
        let sock = socket2::SockRef::from(&socket);
        for (what, result) in [
            ("receive", sock.set_recv_buffer_size(VOICE_SOCKET_BUFFER)),
            ("send", sock.set_send_buffer_size(VOICE_SOCKET_BUFFER)),
        ] {
            if let Err(error) = result {
                warn!(%error, "could not enlarge the voice socket's {what} buffer");
            }
        }
        socket.set_read_timeout(Some(RELAY_POLL_INTERVAL))?;
        let (commands, received) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("voix-voice".to_owned())
            .spawn(move || relay_loop(&socket, Relay::new(config), &received))?;
        Ok(Self { commands, thread })
    }

    /// Where signalling sends session changes. The channel is unbounded
    /// but cannot grow far: the core makes a change per command a client
    /// sends, at the rate it allows, and the thread empties it at least
    /// every [`RELAY_POLL_INTERVAL`].
    pub(crate) fn commands(&self) -> Sender<RelayCommand> {
        self.commands.clone()
    }

    /// Stops the thread once every other sender of session changes is
    /// gone, and returns what the relay did.
    pub(crate) async fn stop(self) -> Result<RelayStats, RelayPanicked> {
        drop(self.commands);
        let thread = self.thread;
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(stats)) => Ok(stats),
            _ => Err(RelayPanicked),
        }
    }
}

/// The relay thread panicked: a bug, reported rather than hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the voice relay thread panicked")]
pub struct RelayPanicked;

/// Relays datagrams until signalling hangs up.
fn relay_loop(
    socket: &UdpSocket,
    mut relay: Relay,
    commands: &Receiver<RelayCommand>,
) -> RelayStats {
    let mut buf = vec![0; RECEIVE_BUFFER_LEN];
    loop {
        let received = socket.recv_from(&mut buf);
        if !apply_commands(&mut relay, commands) {
            break;
        }
        match received {
            Ok((len, from)) => relay_datagram(socket, &mut relay, from, &buf[..len]),
            Err(e) if is_timeout(&e) => {}
            // Such as an ICMP error reported for an earlier send.
            Err(error) => debug!(%error, "voice receive failed"),
        }
    }
    relay.stats().clone()
}

/// Applies every pending session change; false once signalling is gone.
fn apply_commands(relay: &mut Relay, commands: &Receiver<RelayCommand>) -> bool {
    loop {
        match commands.try_recv() {
            Ok(command) => {
                if let Err(error) = relay.apply(command) {
                    warn!(%error, "the voice relay refused a session change");
                }
            }
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
}

/// Authenticates one datagram and sends what the relay makes of it.
fn relay_datagram(socket: &UdpSocket, relay: &mut Relay, from: SocketAddr, datagram: &[u8]) {
    if let Err(error) = relay.handle_datagram(from, datagram) {
        trace!(%from, %error, "voice datagram dropped");
    }
    while let Some(transmit) = relay.poll_transmit() {
        if let Err(error) = socket.send_to(transmit.payload, transmit.to) {
            debug!(to = %transmit.to, %error, "voice send failed");
        }
    }
}

/// Receive errors that mean nothing arrived in time.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
