//! The `--server HOST[:PORT]` argument.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// The port Voix servers listen on unless told otherwise (the original's).
pub const DEFAULT_PORT: u16 = 9300;

/// A server to connect to: a host name or address, and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    host: String,
    port: u16,
}

/// Why a `--server` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerAddrError {
    /// Nothing before the port.
    #[error("the host is empty")]
    EmptyHost,
    /// The port is not a number from 1 to 65535.
    #[error("{0:?} is not a port number from 1 to 65535")]
    BadPort(String),
    /// An IPv6 address without its closing `]`.
    #[error("an IPv6 address must be written [addr] or [addr]:port")]
    UnclosedBracket,
}

impl ServerAddr {
    /// The host, as given (IPv6 addresses without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Looks the host up (this may block on DNS).
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        Ok((self.host.as_str(), self.port).to_socket_addrs()?.collect())
    }
}

impl FromStr for ServerAddr {
    type Err = ServerAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or(ServerAddrError::UnclosedBracket)?;
            (host, after.strip_prefix(':'))
        } else if s.matches(':').count() > 1 {
            // A bare IPv6 address: every colon belongs to it.
            (s, None)
        } else {
            match s.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (s, None),
            }
        };
        if host.is_empty() {
            return Err(ServerAddrError::EmptyHost);
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port != 0 => port,
                _ => return Err(ServerAddrError::BadPort(p.to_owned())),
            },
        };
        Ok(Self { host: host.to_owned(), port })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_ipv6() {
        let cases = [
            ("localhost", "localhost", DEFAULT_PORT),
            ("example.org:9400", "example.org", 9400),
            ("127.0.0.1:1", "127.0.0.1", 1),
            ("[::1]:9301", "::1", 9301),
            ("[::1]", "::1", DEFAULT_PORT),
            ("::1", "::1", DEFAULT_PORT),
        ];
        for (input, host, port) in cases {
            let addr: ServerAddr = input.parse().expect(input);
            assert_eq!((addr.host(), addr.port()), (host, port), "{input}");
        }
        assert_eq!("[::1]".parse::<ServerAddr>().map(|a| a.to_string()), Ok("[::1]:9300".into()));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        assert_eq!("".parse::<ServerAddr>(), Err(ServerAddrError::EmptyHost));
        assert_eq!(":9300".parse::<ServerAddr>(), Err(ServerAddrError::EmptyHost));
        assert_eq!("h:0".parse::<ServerAddr>(), Err(ServerAddrError::BadPort("0".into())));
        assert_eq!("h:x".parse::<ServerAddr>(), Err(ServerAddrError::BadPort("x".into())));
        assert_eq!("h:65536".parse::<ServerAddr>(), Err(ServerAddrError::BadPort("65536".into())));
        assert_eq!("[::1".parse::<ServerAddr>(), Err(ServerAddrError::UnclosedBracket));
    }

    #[test]
    fn resolves_loopback() {
        let addr: ServerAddr = "127.0.0.1:9300".parse().expect("valid");
        assert_eq!(
            addr.resolve().expect("no DNS needed"),
            [SocketAddr::from(([127, 0, 0, 1], 9300))]
        );
    }
}
