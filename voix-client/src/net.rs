//! Sockets: the TCP signalling connection and the UDP voice socket, with
//! the threads that read them.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use voix_proto::voice::MAX_DATAGRAM_LEN;

use crate::app::{SharedVoice, lock};
use crate::server_addr::ServerAddr;

/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a write to the server may block before the connection is
/// considered dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the UDP reader checks whether it should stop.
const UDP_POLL: Duration = Duration::from_millis(200);

/// Why the server could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The host name could not be looked up.
    #[error("cannot resolve {server}: {source}")]
    Resolve {
        /// The server.
        server: String,
        /// The lookup's error.
        source: io::Error,
    },
    /// The name resolved to no address.
    #[error("{0} has no address")]
    NoAddress(String),
    /// Every address refused or timed out; this is the last one's error.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// Why it failed.
        source: io::Error,
    },
    /// The voice socket could not be set up.
    #[error("cannot open the voice socket: {0}")]
    Voice(io::Error),
}

/// One connection to the server: signalling over TCP and voice over UDP to
/// the same address.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    voice: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
}

impl Connection {
    /// Connects to `server`, trying each of its addresses.
    pub fn open(server: &ServerAddr) -> Result<Self, ConnectError> {
        let addrs = server
            .resolve()
            .map_err(|source| ConnectError::Resolve { server: server.to_string(), source })?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => return Self::with_stream(stream, addr),
                Err(source) => last = Some(ConnectError::Connect { addr, source }),
            }
        }
        Err(last.unwrap_or_else(|| ConnectError::NoAddress(server.to_string())))
    }

    fn with_stream(stream: TcpStream, peer: SocketAddr) -> Result<Self, ConnectError> {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let local: SocketAddr = match peer {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let voice = UdpSocket::bind(local).map_err(ConnectError::Voice)?;
        voice.connect(peer).map_err(ConnectError::Voice)?;
        voice.set_read_timeout(Some(UDP_POLL)).map_err(ConnectError::Voice)?;
        Ok(Self { stream, voice: Arc::new(voice), stop: Arc::new(AtomicBool::new(false)) })
    }

    /// The voice socket, connected to the server.
    pub fn voice(&self) -> Arc<UdpSocket> {
        Arc::clone(&self.voice)
    }

    /// Starts the thread that reads the signalling connection: each chunk
    /// goes to `on_bytes`, and the end (with why) to `on_close`.
    pub fn spawn_reader(
        &self,
        on_bytes: impl Fn(Vec<u8>) + Send + 'static,
        on_close: impl FnOnce(String) + Send + 'static,
    ) -> io::Result<()> {
        let mut stream = self.stream.try_clone()?;
        thread::Builder::new().name("voix-tcp".into()).spawn(move || {
            let mut buf = vec![0; 16 * 1024];
            let reason = loop {
                match stream.read(&mut buf) {
                    Ok(0) => break "the server closed the connection".to_owned(),
                    Ok(n) => on_bytes(buf[..n].to_vec()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break e.to_string(),
                }
            };
            on_close(reason);
        })?;
        Ok(())
    }

    /// Starts the thread that hands every datagram from the server to the
    /// voice engine, as it arrives.
    pub fn spawn_voice_reader(&self, voice: SharedVoice) -> io::Result<()> {
        let socket = Arc::clone(&self.voice);
        let stop = Arc::clone(&self.stop);
        thread::Builder::new().name("voix-udp".into()).spawn(move || {
            // One byte more than the largest datagram, so an oversized one
            // is seen whole and refused.
            let mut buf = [0u8; MAX_DATAGRAM_LEN + 1];
            while !stop.load(Ordering::Relaxed) {
                match socket.recv(&mut buf) {
                    Ok(n) => {
                        let _ = lock(&voice).handle_datagram(Instant::now(), &mut buf[..n]);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                        ) => {}
                    // The server's port is unreachable (ICMP) for now;
                    // signalling notices a server that is really gone.
                    Err(_) => thread::sleep(UDP_POLL),
                }
            }
        })?;
        Ok(())
    }

    /// Says we are done sending; the server closes its side when it has
    /// read everything.
    pub fn finish_sending(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Writes `bytes` to the server.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }
}

impl Drop for Connection {
    /// Closes both sockets; the reader threads see the end and stop.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Where the voice engine's datagrams go: the current connection's UDP
/// socket, shared by the control loop and the capture thread.
#[derive(Debug, Clone, Default)]
pub struct VoiceOut {
    socket: Arc<Mutex<Option<Arc<UdpSocket>>>>,
}

impl VoiceOut {
    /// Sends to `socket` from now on (`None`: drop datagrams).
    pub fn set(&self, socket: Option<Arc<UdpSocket>>) {
        *self.socket.lock().unwrap_or_else(PoisonError::into_inner) = socket;
    }

    /// Sends every datagram the engine has waiting.
    pub fn flush(&self, voice: &SharedVoice) {
        let datagrams: Vec<Vec<u8>> = {
            let mut voice = lock(voice);
            std::iter::from_fn(|| voice.poll_transmit()).collect()
        };
        if datagrams.is_empty() {
            return;
        }
        let socket = self.socket.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(socket) = socket {
            for datagram in datagrams {
                // UDP: a datagram that cannot be sent is lost, like on the
                // network.
                let _ = socket.send(&datagram);
            }
        }
    }
}
