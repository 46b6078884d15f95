//! Binding the server's one address for both TCP signalling and UDP voice.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, UdpSocket};

/// Connections the kernel may hold for the server before it accepts them
/// (capped by the system's `somaxconn`). The usual 128 overflows when
/// hundreds of clients connect at once, and the kernel then drops their
/// handshakes, to be retried only a second later.
pub const LISTEN_BACKLOG: u32 = 4096;

/// How many ports the operating system may pick, when asked for port 0,
/// before [`bind`] gives up finding one free for both TCP and UDP.
pub const BIND_ATTEMPTS: usize = 16;

/// Why the server's sockets could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The TCP listener could not be bound.
    #[error("cannot listen on TCP {addr}")]
    Tcp {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The UDP socket could not be bound at the listener's address.
    #[error("cannot bind UDP {addr}")]
    Udp {
        /// The address, with the listener's port.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// Binds a TCP listener and a UDP socket on the same address and port.
///
/// With port 0 the operating system picks a TCP port, and the UDP socket
/// takes the same one; if that port is taken for UDP, another is tried, up
/// to [`BIND_ATTEMPTS`] times. [`TcpListener::local_addr`] then gives the
/// port actually bound.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, UdpSocket), BindError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let listener = listen(addr).map_err(|source| BindError::Tcp { addr, source })?;
        let bound = listener.local_addr().map_err(|source| BindError::Tcp { addr, source })?;
        match UdpSocket::bind(bound).await {
            Ok(voice) => return Ok((listener, voice)),
            Err(e)
                if addr.port() == 0
                    && e.kind() == io::ErrorKind::AddrInUse
                    && attempts < BIND_ATTEMPTS => {}
            Err(source) => return Err(BindError::Udp { addr: bound, source }),
        }
    }
}

/// A TCP listener on `addr` with a backlog of [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // As std's listener does: a restarted server can bind at once, while
    // connections of the last run linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn port_zero_gives_one_port_for_both() {
        let (listener, voice) =
            bind("127.0.0.1:0".parse().expect("an address")).await.expect("bound");
        let tcp = listener.local_addr().expect("bound");
        assert_ne!(tcp.port(), 0);
        assert_eq!(voice.local_addr().expect("bound"), tcp);
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error() {
        let (listener, _voice) =
            bind("127.0.0.1:0".parse().expect("an address")).await.expect("bound");
        let taken = listener.local_addr().expect("bound");
        assert!(matches!(bind(taken).await, Err(BindError::Tcp { addr, .. }) if addr == taken));
    }
}
