//! The first line `voix-server` prints: where it listens. Tests, the load
//! tool and operators' scripts read the address from it, so the line is a
//! contract, written and read only here.

use std::net::SocketAddr;

/// What the line starts with.
const PREFIX: &str = "voix-server listening on ";

/// The line saying that the server listens on `addr`, without a line end.
pub fn listening_line(addr: SocketAddr) -> String {
    format!("{PREFIX}{addr} (TCP signalling and UDP voice)")
}

/// The address in a line written by [`listening_line`], or `None` for any
/// other line.
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.strip_prefix(PREFIX)?.split(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_round_trips() {
        for addr in ["127.0.0.1:9300", "[::1]:40000", "0.0.0.0:1"] {
            let addr: SocketAddr = addr.parse().expect("an address");
            assert_eq!(parse_listening_line(&listening_line(addr)), Some(addr));
        }
        assert_eq!(parse_listening_line("connect a client with: ..."), None);
        assert_eq!(parse_listening_line("voix-server listening on nowhere"), None);
    }
}
