//! One signalling connection of a load client: connect, register and join
//! the room, then read lines as fast as they come.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use voix_proto::wire::{Framed, LineReader};

use super::LoadError;
use super::dialect::{Dialect, Incoming};

/// The longest one client may take to connect, register and join.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Free space kept in a read buffer: one read takes up to this much.
const READ_CHUNK: usize = 64 * 1024;

/// The longest line a client accepts: far above what either server sends
/// (Voix lines are at most 4096 bytes, IRC's 512), so that a longer one
/// is skipped rather than buffered without bound.
const MAX_LINE_LEN: usize = 64 * 1024;

/// The read half of a connection, framed into lines.
#[derive(Debug)]
pub struct LineStream {
    half: OwnedReadHalf,
    buf: Vec<u8>,
    /// Bytes of `buf` before this were consumed.
    start: usize,
    framer: LineReader,
}

impl LineStream {
    fn new(half: OwnedReadHalf) -> Self {
        Self {
            half,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            framer: LineReader::new(MAX_LINE_LEN),
        }
    }

    /// Reads what the socket has; `false` at the end of the stream.
    pub async fn fill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK);
        Ok(self.half.read_buf(&mut self.buf).await? > 0)
    }

    /// The next whole line read, without its line ending; `None` when
    /// more must be read. Overlong lines are skipped.
    pub fn next_line(&mut self) -> Option<&[u8]> {
        loop {
            match self.framer.next(&self.buf[self.start..]) {
                Framed::Line { line, consumed } => {
                    let (from, len) = (self.start, line.len());
                    self.start += consumed;
                    return Some(&self.buf[from..from + len]);
                }
                Framed::TooLong { consumed } => self.start += consumed,
                Framed::Incomplete { consumed } => {
                    self.start += consumed;
                    return None;
                }
            }
        }
    }
}

/// A registered client in the scenario's room.
#[derive(Debug)]
pub struct Client {
    /// Its nickname.
    pub nick: String,
    /// What it receives.
    pub lines: LineStream,
    /// Where it sends.
    pub writer: OwnedWriteHalf,
    /// The protocol it speaks.
    pub dialect: Dialect,
}

impl Client {
    /// Connects to `addr`, registers `nick` and joins the room, answering
    /// keepalives on the way; returns once the join is complete.
    pub async fn join(addr: SocketAddr, dialect: Dialect, nick: String) -> Result<Self, LoadError> {
        let stream =
            TcpStream::connect(addr).await.map_err(|source| LoadError::Connect { addr, source })?;
        stream.set_nodelay(true).map_err(LoadError::io("setting TCP_NODELAY"))?;
        let (read, writer) = stream.into_split();
        let mut client = Self { nick, lines: LineStream::new(read), writer, dialect };
        let mut out = BytesMut::new();
        dialect.register(&client.nick, &mut out)?;
        client.send(&out).await?;
        loop {
            out.clear();
            let mut joined = false;
            while let Some(line) = client.lines.next_line() {
                match dialect.classify(line) {
                    Incoming::Joined => joined = true,
                    Incoming::Ping(token) => dialect.pong(token, &mut out),
                    Incoming::Refused(line) => return Err(refusal(&client.nick, line)),
                    Incoming::Chat(_) | Incoming::Other => {}
                }
            }
            client.send(&out).await?;
            if joined {
                return Ok(client);
            }
            if !client.lines.fill().await.map_err(|e| client.failed(&e))? {
                return Err(client.failed(&"the server closed the connection"));
            }
        }
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let result = self.writer.write_all(bytes).await;
        result.map_err(|e| self.failed(&e))
    }

    /// Reads and discards what arrives, answering keepalives, until `stop`
    /// turns true or the server closes the connection. Returns the lines
    /// that were refusals or closing notices.
    pub async fn idle(mut self, mut stop: watch::Receiver<bool>) -> Vec<String> {
        let mut refusals = Vec::new();
        let mut out = BytesMut::new();
        loop {
            out.clear();
            while let Some(line) = self.lines.next_line() {
                match self.dialect.classify(line) {
                    Incoming::Ping(token) => self.dialect.pong(token, &mut out),
                    Incoming::Refused(line) => {
                        refusals.push(String::from_utf8_lossy(line).into_owned());
                    }
                    Incoming::Joined | Incoming::Chat(_) | Incoming::Other => {}
                }
            }
            if self.send(&out).await.is_err() {
                return refusals;
            }
            tokio::select! {
                // The scenario is over.
                _ = stop.wait_for(|stop| *stop) => return refusals,
                // More lines, or the end of the connection.
                read = self.lines.fill() => if !matches!(read, Ok(true)) {
                    refusals.push(format!("{}: connection closed by the server", self.nick));
                    return refusals;
                },
            }
        }
    }

    /// The error for this client failing for `reason`.
    pub fn failed(&self, reason: &dyn std::fmt::Display) -> LoadError {
        LoadError::Client { nick: self.nick.clone(), reason: reason.to_string() }
    }
}

/// Joins `count` clients named `nick(index)` to the room at `addr`,
/// `concurrency` at a time, each within [`JOIN_TIMEOUT`]; returns them in
/// index order, or the first failure.
pub async fn join_many(
    addr: SocketAddr,
    dialect: Dialect,
    count: usize,
    concurrency: usize,
    nick: impl Fn(usize) -> String,
) -> Result<Vec<Client>, LoadError> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut joins = JoinSet::new();
    for index in 0..count {
        let (gate, nick) = (Arc::clone(&gate), nick(index));
        joins.spawn(async move {
            let _permit = gate.acquire_owned().await;
            match tokio::time::timeout(JOIN_TIMEOUT, Client::join(addr, dialect, nick)).await {
                Ok(joined) => joined.map(|client| (index, client)),
                Err(_) => Err(LoadError::Timeout {
                    step: "joining the room",
                    seconds: JOIN_TIMEOUT.as_secs(),
                }),
            }
        });
    }
    let mut clients = Vec::with_capacity(count);
    while let Some(result) = joins.join_next().await {
        clients.push(result.map_err(|_| LoadError::Panicked("join task"))??);
    }
    clients.sort_by_key(|(index, _)| *index);
    Ok(clients.into_iter().map(|(_, client)| client).collect())
}

/// The error for client `nick` receiving the refusal `line`.
pub fn refusal(nick: &str, line: &[u8]) -> LoadError {
    LoadError::Client { nick: nick.to_owned(), reason: String::from_utf8_lossy(line).into_owned() }
}

/// The nickname of client `index` of a run, unique on a server shared
/// by several runs, and at most 9 bytes (IRC's default limit) for up to
/// a million clients: a letter for the scenario, a 2-character run tag,
/// and the index.
pub fn nick(scenario: char, run: u32, index: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let tag = [DIGITS[(run % 36) as usize], DIGITS[(run / 36 % 36) as usize]];
    let tag = std::str::from_utf8(&tag).unwrap_or("00");
    format!("{scenario}{tag}{index}")
}

/// A tag for this run's nicknames, from the clock: the milliseconds
/// since the epoch, of which [`nick`] uses the last two base-36 digits.
pub fn run_tag() -> u32 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.ok().and_then(|d| u32::try_from(d.as_millis() % (36 * 36)).ok()).unwrap_or(0)
}
