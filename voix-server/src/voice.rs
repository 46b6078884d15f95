//! The voice relay's own thread: UDP datagrams in and out of the sans-IO
//! [`Relay`], with session changes from signalling through a channel.
//!
//! The relay runs on a dedicated thread with a blocking socket, so voice
//! never waits behind signalling work (nor behind the async runtime). A
//! datagram costs one `recv_from`, and what it fans out to a room goes out
//! in one `sendmmsg` on Linux (one `send_to` per receiver elsewhere): in a
//! room of 60 that is 2 system calls instead of 60.
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
use voix_proto::voice::{MAX_DATAGRAM_LEN, Relay, RelayCommand, RelayConfig, RelayStats, Transmit};

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

/// Asks the kernel for [`VOICE_SOCKET_BUFFER`] bytes of buffer on
/// `socket`, each way, as the relay does for its own socket; a tool that
/// measures against the relay gives its sockets the same. Both are asked
/// for even when the first is refused, and the first refusal is returned.
pub fn enlarge_voice_buffers(socket: &UdpSocket) -> io::Result<()> {
    let sock = socket2::SockRef::from(socket);
    let receive = sock.set_recv_buffer_size(VOICE_SOCKET_BUFFER);
    let send = sock.set_send_buffer_size(VOICE_SOCKET_BUFFER);
    receive.and(send)
}

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
        if let Err(error) = enlarge_voice_buffers(&socket) {
            warn!(%error, "could not enlarge the voice socket's buffers");
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
    let mut send_buffers = SendBuffers::default();
    loop {
        let received = socket.recv_from(&mut buf);
        if !apply_commands(&mut relay, commands) {
            break;
        }
        match received {
            Ok((len, from)) => {
                relay_datagram(socket, &mut send_buffers, &mut relay, from, &buf[..len]);
            }
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
fn relay_datagram(
    socket: &UdpSocket,
    send_buffers: &mut SendBuffers,
    relay: &mut Relay,
    from: SocketAddr,
    datagram: &[u8],
) {
    if let Err(error) = relay.handle_datagram(from, datagram) {
        trace!(%from, %error, "voice datagram dropped");
    }
    while relay.queued_transmits().len() > 0 {
        let done = send_batch(socket, send_buffers, relay.queued_transmits().take(SEND_BATCH));
        relay.transmitted(done);
    }
}

/// Most datagrams handed to one `sendmmsg` (the kernel takes at most
/// `UIO_MAXIOV`, 1024).
const SEND_BATCH: usize = 1024;

/// What `sendmmsg` is given, kept by the relay thread from one batch to the
/// next: once they have grown to the largest fan-out, sending one
/// allocates nothing.
///
/// The message headers point into the other vectors, and the payloads are
/// lent by the relay for one batch only, so the vectors of borrowing types
/// are kept empty at `'static` and [`recycle`]d to a batch's lifetime and
/// back.
#[derive(Default)]
struct SendBuffers {
    #[cfg(target_os = "linux")]
    addrs: Vec<rustix::net::SocketAddrAny>,
    #[cfg(target_os = "linux")]
    payloads: Vec<[std::io::IoSlice<'static>; 1]>,
    #[cfg(target_os = "linux")]
    no_control: Vec<rustix::net::SendAncillaryBuffer<'static, 'static, 'static>>,
    #[cfg(target_os = "linux")]
    headers: Vec<rustix::net::MMsgHdr<'static>>,
}

/// Sends datagrams in one system call, and returns how many are done
/// with: those sent, or, when the first cannot be, that one (logged and
/// dropped, as any failed voice send is; the next call goes on after it),
/// or none when a signal interrupted the call.
#[cfg(target_os = "linux")]
fn send_batch<'a>(
    socket: &UdpSocket,
    buffers: &mut SendBuffers,
    transmits: impl Iterator<Item = Transmit<'a>>,
) -> usize {
    use std::io::IoSlice;

    use rustix::net::{MMsgHdr, SendFlags, SocketAddrAny};

    let mut transmits = transmits.peekable();
    let Some(first) = transmits.next() else { return 0 };
    if transmits.peek().is_none() {
        // A call's one datagram: the plain system call, nothing to build.
        if let Err(error) = socket.send_to(first.payload, first.to) {
            debug!(to = %first.to, %error, "voice send failed");
        }
        return 1;
    }
    let SendBuffers { addrs, payloads, no_control, headers } = buffers;
    addrs.clear();
    let mut batch_payloads: Vec<[IoSlice<'a>; 1]> = recycle(std::mem::take(payloads));
    for transmit in std::iter::once(first).chain(transmits) {
        addrs.push(SocketAddrAny::from(transmit.to));
        batch_payloads.push([IoSlice::new(transmit.payload)]);
    }
    if no_control.len() < addrs.len() {
        no_control.resize_with(addrs.len(), Default::default);
    }
    let mut batch_headers: Vec<MMsgHdr<'_>> = recycle(std::mem::take(headers));
    batch_headers.extend(
        addrs
            .iter()
            .zip(&batch_payloads)
            .zip(no_control.iter_mut())
            .map(|((addr, payload), control)| MMsgHdr::new_with_addr(addr, payload, control)),
    );
    let result = rustix::net::sendmmsg(socket, &mut batch_headers, SendFlags::empty());
    *headers = recycle(batch_headers);
    *payloads = recycle(batch_payloads);
    match result {
        Ok(sent) if sent > 0 => sent,
        Ok(_) => {
            debug!(to = %first.to, "voice send sent nothing");
            1
        }
        // A signal came first: nothing was sent, and the batch is tried again.
        Err(rustix::io::Errno::INTR) => 0,
        Err(error) => {
            debug!(to = %first.to, %error, "voice send failed");
            1
        }
    }
}

/// Empties `buffer` and hands its allocation on to a vector of the same
/// type at another lifetime. Collecting a vector's own `into_iter` into
/// elements of the same size and alignment reuses its allocation (std's
/// in-place collection, an optimisation it does not promise; the test
/// `a_batch_reuses_the_buffers_of_the_last` checks that it still happens).
#[cfg(target_os = "linux")]
fn recycle<T, U>(buffer: Vec<T>) -> Vec<U> {
    buffer.into_iter().filter_map(|_| None).collect()
}

/// Sends datagrams one system call each, and returns how many were tried.
#[cfg(not(target_os = "linux"))]
fn send_batch<'a>(
    socket: &UdpSocket,
    _buffers: &mut SendBuffers,
    transmits: impl Iterator<Item = Transmit<'a>>,
) -> usize {
    let mut done = 0;
    for transmit in transmits {
        if let Err(error) = socket.send_to(transmit.payload, transmit.to) {
            debug!(to = %transmit.to, %error, "voice send failed");
        }
        done += 1;
    }
    done
}

/// Receive errors that mean nothing arrived in time.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    /// A loopback socket to send from, and one to receive on, with its
    /// address.
    fn sender_and_receiver() -> (UdpSocket, UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a sending socket");
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("a receiving socket");
        receiver.set_read_timeout(Some(Duration::from_secs(5))).expect("a timeout");
        let to = receiver.local_addr().expect("an address");
        (socket, receiver, to)
    }

    /// A datagram that cannot be sent from an IPv4 socket stops a batch
    /// where it stands: the ones before it are sent, it is dropped, and the
    /// ones after it go in the next call.
    #[test]
    fn a_failed_datagram_is_dropped_and_the_batch_goes_on() {
        let (socket, receiver, to) = sender_and_receiver();
        let unreachable = SocketAddr::from((Ipv6Addr::LOCALHOST, to.port()));
        let transmits = [
            Transmit { to, payload: b"one" },
            Transmit { to: unreachable, payload: b"lost" },
            Transmit { to, payload: b"two" },
            Transmit { to, payload: b"three" },
        ];
        let mut buffers = SendBuffers::default();
        let mut done = 0;
        let mut calls = 0;
        while done < transmits.len() {
            done += send_batch(&socket, &mut buffers, transmits[done..].iter().copied());
            calls += 1;
        }
        assert_eq!(done, transmits.len());
        if cfg!(target_os = "linux") {
            // One call up to the failure, one that drops it, one for the rest.
            assert_eq!(calls, 3);
        }
        let mut buf = [0; 16];
        for expected in [&b"one"[..], b"two", b"three"] {
            let (len, _) = receiver.recv_from(&mut buf).expect("a datagram");
            assert_eq!(&buf[..len], expected);
        }
    }

    /// A batch is sent from the buffers the one before it grew: they are
    /// kept, allocated, between batches that borrow their payloads for
    /// different lifetimes.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_batch_reuses_the_buffers_of_the_last() {
        let (socket, receiver, to) = sender_and_receiver();
        let allocations = |b: &SendBuffers| {
            [
                (b.addrs.as_ptr().cast::<()>(), b.addrs.capacity()),
                (b.payloads.as_ptr().cast(), b.payloads.capacity()),
                (b.no_control.as_ptr().cast(), b.no_control.capacity()),
                (b.headers.as_ptr().cast(), b.headers.capacity()),
            ]
        };
        let mut buffers = SendBuffers::default();
        let mut first_batch = None;
        for batch in 0..3u8 {
            // Payloads that live for this batch only.
            let payloads: Vec<[u8; 2]> = (0..4).map(|i| [batch, i]).collect();
            let transmits = payloads.iter().map(|payload| Transmit { to, payload });
            assert_eq!(send_batch(&socket, &mut buffers, transmits), payloads.len());
            let now = allocations(&buffers);
            assert!(now.iter().all(|&(_, capacity)| capacity >= payloads.len()), "{now:?}");
            assert_eq!(*first_batch.get_or_insert(now), now);
            let mut buf = [0; 16];
            for expected in &payloads {
                let (len, _) = receiver.recv_from(&mut buf).expect("a datagram");
                assert_eq!(&buf[..len], expected);
            }
        }
    }
}
