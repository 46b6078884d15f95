//! What the integration tests share: the real `voix-server` binary in a
//! guard that kills it, and line and voice clients whose every read is
//! bounded in time.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use voix_proto::voice::{MAX_DATAGRAM_LEN, SessionId, VoiceEndpoint, VoiceKey};
use voix_proto::wire::ServerMessage;

/// The longest any single expected thing may take to happen.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long to listen for something that must not arrive, once an
/// ordering argument has already shown it was not sent before a later
/// thing that did arrive.
pub const QUIET: Duration = Duration::from_millis(200);

/// A running `voix-server`, killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    /// The lines it prints on stdout after saying where it listens.
    pub output: Receiver<String>,
}

impl ServerProcess {
    /// Starts the server on `127.0.0.1`, on a port the OS picks, with
    /// `args` added, and waits until it says where it listens.
    pub fn start(args: &[&str]) -> Self {
        let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned());
        let mut command = Self::command(args);
        command.env("RUST_LOG", log);
        Self::spawn(command)
    }

    /// [`ServerProcess::start`] with its logs, at info, going into a pipe
    /// (as into a file or journald), returned to be read. NO_COLOR is unset,
    /// so that only the pipe decides whether the logs are coloured.
    pub fn start_logging_to_pipe(args: &[&str]) -> (Self, ChildStderr) {
        let mut command = Self::command(args);
        command.env("RUST_LOG", "info").env_remove("NO_COLOR").stderr(Stdio::piped());
        let mut server = Self::spawn(command);
        let stderr = server.child.stderr.take().expect("stderr is piped");
        (server, stderr)
    }

    /// The command that runs the server on `127.0.0.1`, on a port the OS
    /// picks, with `args` added.
    fn command(args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_voix-server"));
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        command
    }

    /// Runs `command` and waits until the server says where it listens.
    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("the voix-server binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let listening =
            voix_server::wait_for_listening_line(stdout, TIMEOUT).unwrap_or_else(|error| {
                let _ = child.kill();
                let _ = child.wait();
                panic!("voix-server did not start: {error}");
            });
        Self { child, addr: listening.addr, output: listening.rest }
    }

    /// The TCP and UDP address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends it a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits for it to exit, at most `within`.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {within:?}");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs the binary with `args` to its exit, which must come within
/// [`TIMEOUT`], and returns its status, stdout and stderr.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voix-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the voix-server binary starts");
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("the child can be waited for").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("voix-server {args:?} did not exit within {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the output of an exited child");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (output.status, text(output.stdout), text(output.stderr))
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // It may have exited already; then both fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A voice credential from a `VOICE` line.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The session id.
    pub session: SessionId,
    /// The session key.
    pub key: VoiceKey,
}

/// A signalling client on a blocking socket.
#[derive(Debug)]
pub struct Client {
    pub nick: String,
    stream: TcpStream,
    buf: Vec<u8>,
    /// Answer `PING`s and hide them from [`Client::recv`].
    pub auto_pong: bool,
    /// The latest credential per scope (`#room` or nick), from `VOICE` lines.
    voice: HashMap<String, Credential>,
}

impl Client {
    /// Connects without registering.
    pub fn connect(addr: SocketAddr, nick: &str) -> Self {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("the server accepts");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            nick: nick.to_owned(),
            stream,
            buf: Vec::new(),
            auto_pong: true,
            voice: HashMap::new(),
        }
    }

    /// Connects and registers as `nick`, answering the first `PING`, and
    /// checks the registration lines up to the room's `VOICE` line.
    pub fn register(addr: SocketAddr, nick: &str) -> Self {
        let mut client = Self::connect(addr, nick);
        client.send_connect();
        client.finish_registration();
        client
    }

    /// Sends `CONNECT` for this client's nick.
    pub fn send_connect(&mut self) {
        let nick = self.nick.clone();
        self.send(&format!("CONNECT: \"{nick}\" \"{nick} Example\" 1.0.0"));
    }

    /// Reads the lines that follow a successful `CONNECT`, and returns the
    /// members of `#Lobby` its `USERLIST` lines named.
    pub fn finish_registration(&mut self) -> Vec<String> {
        let accept = self.recv_raw();
        assert!(accept.starts_with("ACCEPT: "), "{}: {accept}", self.nick);
        let ping = self.recv_raw();
        let token = ping.strip_prefix("PING: ").unwrap_or_else(|| panic!("a PING: {ping}"));
        self.send(&format!("PONG: {token}"));
        assert_eq!(self.recv(), "JOINED: #Lobby");
        // A big room's members come in several USERLIST lines.
        let mut members = Vec::new();
        let mut line = self.recv();
        assert!(line.starts_with("USERLIST #Lobby: "), "{line}");
        while let Some(list) = line.strip_prefix("USERLIST #Lobby: ") {
            members.extend(list.split(", ").map(str::to_owned));
            line = self.recv();
        }
        assert_eq!(line, "VOICE #Lobby: <session> <key>");
        members
    }

    /// Sends one line, adding CRLF.
    pub fn send(&mut self, line: &str) {
        self.send_bytes(format!("{line}\r\n").as_bytes());
    }

    /// Sends raw bytes in one write.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("the server reads");
    }

    /// Closes the sending direction, as `nc` does at the end of its input.
    pub fn finish_sending(&mut self) {
        self.stream.shutdown(Shutdown::Write).expect("a shutdown");
    }

    /// The next line, with `PING`s answered and skipped if
    /// [`auto_pong`](Self::auto_pong), and the random parts of `VOICE`
    /// lines masked (the credential is kept).
    pub fn recv(&mut self) -> String {
        loop {
            let line = self.recv_raw();
            if let Some(token) = line.strip_prefix("PING: ").filter(|_| self.auto_pong) {
                self.send(&format!("PONG: {token}"));
                continue;
            }
            return self.mask_voice(line);
        }
    }

    /// Checks that the next lines are exactly these.
    pub fn expect(&mut self, lines: &[&str]) {
        for expected in lines {
            let line = self.recv();
            assert_eq!(line, *expected, "{} got an unexpected line", self.nick);
        }
    }

    /// Reads until this line, and returns the lines before it.
    pub fn wait_for(&mut self, wanted: &str) -> Vec<String> {
        let mut skipped = Vec::new();
        loop {
            let line = self.recv();
            if line == wanted {
                return skipped;
            }
            skipped.push(line);
        }
    }

    /// Waits for the next `PING`, answers it and returns its token; any
    /// other line is a failure.
    pub fn expect_ping(&mut self) -> u64 {
        let line = self.recv_raw();
        let token = line.strip_prefix("PING: ").unwrap_or_else(|| panic!("a PING: {line}"));
        self.send(&format!("PONG: {token}"));
        token.parse().expect("a numeric PING token")
    }

    /// Checks that the server closed the connection with nothing more to
    /// read (but `PING`s, with [`auto_pong`](Self::auto_pong)).
    pub fn expect_end(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(line) = self.take_line() {
                let ping = line.starts_with("PING: ") && self.auto_pong;
                assert!(ping, "{}: a line after the expected end: {line}", self.nick);
            }
            if self.fill(deadline) == 0 {
                assert!(self.buf.is_empty(), "{}: a partial line at the end", self.nick);
                return;
            }
        }
    }

    /// The latest voice credential for `scope` (`#room` or a nick).
    pub fn credential(&self, scope: &str) -> Credential {
        self.voice
            .get(scope)
            .cloned()
            .unwrap_or_else(|| panic!("{} has no VOICE {scope}", self.nick))
    }

    /// The next line exactly as sent, without its CRLF.
    pub fn recv_raw(&mut self) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(line) = self.take_line() {
                return line;
            }
            if self.fill(deadline) == 0 {
                panic!(
                    "{}: connection closed; unread {:?}",
                    self.nick,
                    String::from_utf8_lossy(&self.buf)
                );
            }
        }
    }

    /// The first whole line in the buffer, without its CRLF.
    fn take_line(&mut self) -> Option<String> {
        let end = self.buf.windows(2).position(|w| w == b"\r\n")?;
        let line: Vec<u8> = self.buf.drain(..end + 2).take(end).collect();
        Some(String::from_utf8(line).expect("server lines are UTF-8"))
    }

    /// Reads once, before `deadline`; returns the bytes read (0: closed).
    fn fill(&mut self, deadline: Instant) -> usize {
        let mut chunk = [0; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{}: nothing from the server within {TIMEOUT:?}", self.nick);
            self.stream.set_read_timeout(Some(left)).expect("a read timeout");
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return n;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => panic!("{}: read failed: {e}", self.nick),
            }
        }
    }

    fn mask_voice(&mut self, line: String) -> String {
        let Ok(ServerMessage::Voice { scope, session, key }) =
            ServerMessage::parse(line.as_bytes())
        else {
            return line;
        };
        let scope = scope.as_str().to_owned();
        let masked = format!("VOICE {scope}: <session> <key>");
        self.voice.insert(scope, Credential { session, key });
        masked
    }
}

/// A voice client: one session's endpoint on its own UDP socket.
#[derive(Debug)]
pub struct Voice {
    socket: UdpSocket,
    endpoint: VoiceEndpoint,
    server: SocketAddr,
    timestamp: u32,
}

/// A voice packet as a client heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// Who spoke, as the server says.
    pub nick: String,
    /// What they said.
    pub opus: Vec<u8>,
}

impl Voice {
    /// A fresh socket for this credential.
    pub fn new(server: SocketAddr, credential: &Credential) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
        let endpoint = VoiceEndpoint::new(credential.session, credential.key.clone());
        Self { socket, endpoint, server, timestamp: 0 }
    }

    /// Sends a KEEPALIVE, so that the server learns this address.
    pub fn keepalive(&mut self) -> Vec<u8> {
        let mut datagram = Vec::new();
        self.endpoint.seal_keepalive(&mut datagram).expect("a fresh session");
        self.send_raw(&datagram);
        datagram
    }

    /// Sends a VOICE packet and returns the datagram sent.
    pub fn speak(&mut self, opus: &[u8]) -> Vec<u8> {
        let datagram = self.seal(opus);
        self.send_raw(&datagram);
        datagram
    }

    /// The next VOICE packet, sealed but not sent.
    pub fn seal(&mut self, opus: &[u8]) -> Vec<u8> {
        let mut datagram = Vec::new();
        self.endpoint
            .seal_voice(self.timestamp, false, opus, &mut datagram)
            .expect("a short payload");
        self.timestamp = self.timestamp.wrapping_add(960);
        datagram
    }

    /// Moves this endpoint to a fresh socket, as a NAT might, and returns
    /// the old socket, to check with [`hear_nothing`](Self::hear_nothing)
    /// that nothing is sent there any more (it has no key to open anything).
    pub fn rebind(&mut self) -> Voice {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
        let old = std::mem::replace(&mut self.socket, socket);
        let endpoint = VoiceEndpoint::new(self.endpoint.session(), VoiceKey::from_bytes([0; 32]));
        Voice { socket: old, endpoint, server: self.server, timestamp: 0 }
    }

    /// Sends any bytes to the server from this socket.
    pub fn send_raw(&self, datagram: &[u8]) {
        self.socket.send_to(datagram, self.server).expect("a UDP send");
    }

    /// The next datagram, opened; fails unless it arrives in time.
    pub fn hear(&mut self) -> Heard {
        let mut datagram = self.recv_within(TIMEOUT).expect("a voice datagram in time");
        let voice = self.endpoint.open(&mut datagram).expect("an authentic RELAY");
        Heard { nick: voice.nick.as_str().to_owned(), opus: voice.opus.to_vec() }
    }

    /// Fails if any datagram arrives within [`QUIET`].
    pub fn hear_nothing(&self) {
        if let Some(datagram) = self.recv_within(QUIET) {
            panic!("an unexpected datagram of {} bytes", datagram.len());
        }
    }

    fn recv_within(&self, within: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + within;
        let mut buf = vec![0; MAX_DATAGRAM_LEN + 1];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).expect("a read timeout");
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    assert_eq!(from, self.server, "only the server sends voice");
                    buf.truncate(n);
                    return Some(buf);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => panic!("voice receive failed: {e}"),
            }
        }
    }
}

/// A voice client for a client's credential in `scope`, with a KEEPALIVE
/// sent so that it can be reached.
pub fn voice(server: &ServerProcess, client: &Client, scope: &str) -> Voice {
    let mut voice = Voice::new(server.addr(), &client.credential(scope));
    voice.keepalive();
    voice
}
