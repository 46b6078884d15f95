//! The baseline of `voice --baseline`: a bare one-thread UDP forwarder.
//! It receives a datagram (`recv_from`), looks up where the speaking
//! session's group is, and sends the same bytes to each (`send_to`). No
//! authentication, no re-sealing, no address learning: the least any
//! relay must do, measured on the same machine in the same run.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use voix_proto::voice::{MAX_DATAGRAM_LEN, PacketKind};

use super::super::{LoadError, procfs};
use super::ledger::peek;

/// How long the forwarder waits for a datagram before it checks whether
/// it should stop.
const POLL: Duration = Duration::from_millis(100);

/// Where each speaking session's packets go.
pub type Routes = HashMap<u32, Vec<SocketAddr>>;

/// A running forwarder thread.
#[derive(Debug)]
pub struct Forwarder {
    addr: SocketAddr,
    task: PathBuf,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl Forwarder {
    /// Starts a forwarder on `bind` (a loopback address, port 0).
    pub fn spawn(bind: SocketAddr, routes: Routes) -> Result<Self, LoadError> {
        let socket = bind_socket(bind)?;
        let addr = socket.local_addr().map_err(LoadError::io("reading the forwarder's address"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let (tell_task, task) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("bare-forwarder".to_owned())
            .spawn(move || {
                // Without its task the CPU time is unknown; the receiver
                // reports that.
                let _ = tell_task.send(procfs::current_task());
                forward(&socket, &routes, &stopped)
            })
            .map_err(LoadError::io("starting the forwarder thread"))?;
        let task = task.recv().map_err(|_| LoadError::Panicked("forwarder thread"))??;
        Ok(Self { addr, task, stop, thread })
    }

    /// Where clients send.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The forwarder thread's CPU time so far.
    pub fn cpu(&self) -> Result<Duration, LoadError> {
        procfs::thread_cpu(&self.task)
    }

    /// Stops the thread; returns how many datagrams it sent.
    pub fn stop(self) -> Result<u64, LoadError> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| LoadError::Panicked("forwarder thread"))
    }
}

/// The forwarder's socket, with the socket buffers voix-server gives its
/// relay's, so that what each loses compares like for like.
fn bind_socket(bind: SocketAddr) -> Result<UdpSocket, LoadError> {
    let socket = UdpSocket::bind(bind).map_err(LoadError::io("binding the forwarder"))?;
    voix_server::enlarge_voice_buffers(&socket)
        .map_err(LoadError::io("sizing the forwarder's buffers"))?;
    socket
        .set_read_timeout(Some(POLL))
        .map_err(LoadError::io("setting the forwarder's timeout"))?;
    Ok(socket)
}

/// The loop: one `recv_from`, then one `send_to` per member to reach.
fn forward(socket: &UdpSocket, routes: &Routes, stop: &AtomicBool) -> u64 {
    let mut buf = vec![0; MAX_DATAGRAM_LEN + 1];
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        let len = match socket.recv_from(&mut buf) {
            Ok((len, _from)) => len,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => continue, // An ICMP error for an earlier send.
        };
        let Some(packet) = peek(&buf[..len]).filter(|p| p.kind == PacketKind::Voice) else {
            continue; // Keepalives and strays.
        };
        for to in routes.get(&packet.session).into_iter().flatten() {
            if socket.send_to(&buf[..len], to).is_ok() {
                sent += 1;
            }
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use socket2::SockRef;

    use super::*;

    /// The forwarder's socket buffers are the relay's, whatever the kernel
    /// makes of the request (it caps it at `rmem_max` and `wmem_max`).
    #[test]
    fn the_forwarder_has_the_socket_buffers_of_the_relay() {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let forwarder = bind_socket(loopback).expect("the forwarder's socket");
        let relay = UdpSocket::bind(loopback).expect("a socket like the relay's");
        voix_server::enlarge_voice_buffers(&relay).expect("the relay's buffers");
        let sizes = |socket: &UdpSocket| {
            let socket = SockRef::from(socket);
            (socket.recv_buffer_size().expect("a size"), socket.send_buffer_size().expect("a size"))
        };
        assert_eq!(sizes(&forwarder), sizes(&relay));
    }
}
