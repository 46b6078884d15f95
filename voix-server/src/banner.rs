//! The first line `voix-server` prints: where it listens. Tests, the load
//! tool and operators' scripts read the address from it, so the line is a
//! contract, written and read only here, and waited for on a server's
//! output by [`wait_for_listening_line`].

use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

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

/// A server's standard output once it has said where it listens.
#[derive(Debug)]
pub struct Listening {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The lines it prints after the listening line, as they come.
    pub rest: Receiver<String>,
}

/// Why a server's listening line was not read.
#[derive(Debug, thiserror::Error)]
pub enum ListeningError {
    /// No listening line came in time.
    #[error("the server did not say where it listens within {0:?}")]
    Timeout(Duration),
    /// The output ended first: the server exited, or closed its stdout.
    #[error("the server's output ended before it said where it listens")]
    Ended,
    /// No thread could be started to read the output.
    #[error("cannot start a thread to read the server's output")]
    Thread(#[source] io::Error),
}

/// Reads `output`, a server's standard output, until the line written by
/// [`listening_line`], waiting at most `timeout`, and returns the address
/// with the lines that follow. Lines before it are skipped.
///
/// A thread reads the output to its end, so that the server never blocks
/// on a full pipe, whether or not [`Listening::rest`] is still received.
pub fn wait_for_listening_line(
    output: impl Read + Send + 'static,
    timeout: Duration,
) -> Result<Listening, ListeningError> {
    let deadline = Instant::now() + timeout;
    let (line_tx, lines) = mpsc::channel();
    thread::Builder::new()
        .name("voix-server-stdout".to_owned())
        .spawn(move || {
            for line in BufReader::new(output).split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line);
                // Whoever waited may be gone; the output is drained all the same.
                let _ = line_tx.send(line.trim_end_matches('\r').to_owned());
            }
        })
        .map_err(ListeningError::Thread)?;
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(addr) = parse_listening_line(&line) {
                    return Ok(Listening { addr, rest: lines });
                }
            }
            Err(RecvTimeoutError::Timeout) => return Err(ListeningError::Timeout(timeout)),
            Err(RecvTimeoutError::Disconnected) => return Err(ListeningError::Ended),
        }
    }
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

    #[test]
    fn the_address_comes_with_the_lines_after_it() {
        let addr: SocketAddr = "127.0.0.1:9300".parse().expect("an address");
        let output = format!("a warning\r\n{}\nconnect with this\n", listening_line(addr));
        let listening = wait_for_listening_line(io::Cursor::new(output), Duration::from_secs(10))
            .expect("the listening line");
        assert_eq!(listening.addr, addr);
        assert_eq!(listening.rest.iter().collect::<Vec<_>>(), ["connect with this"]);
    }

    #[test]
    fn output_without_the_line_is_an_error() {
        let ended =
            wait_for_listening_line(io::Cursor::new("a warning\n"), Duration::from_secs(10));
        assert!(matches!(ended, Err(ListeningError::Ended)), "{ended:?}");
        let (_silence, silent) = mpsc::channel();
        let waited = wait_for_listening_line(Silent(silent), Duration::from_millis(50));
        assert!(matches!(waited, Err(ListeningError::Timeout(_))), "{waited:?}");
    }

    /// Output that says nothing until its sender is dropped, and then ends.
    struct Silent(Receiver<()>);

    impl Read for Silent {
        fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
            let _ = self.0.recv();
            Ok(0)
        }
    }
}
