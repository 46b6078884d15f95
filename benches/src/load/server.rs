//! Servers the tool starts itself: `voix-server` with generous limits, and
//! ngircd in the foreground. Each is killed when its handle is dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use voix_server::ListeningError;

use super::LoadError;

/// How long a started server has to start listening.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The limits a load run needs lifted, as `voix-server` flags: room for
/// 10,000 clients and more, no rate limit a load generator would hit, an
/// output queue deep enough for a saturated room, and no keepalive
/// traffic during a run.
const VOIX_LOAD_FLAGS: &[&str] = &[
    "--max-clients",
    "30000",
    "--command-rate",
    "1000000",
    "--command-burst",
    "1000000",
    "--max-output-queue-bytes",
    "67108864",
    "--max-rooms",
    "30000",
    "--max-voice-sessions",
    "200000",
    "--max-voice-queue",
    "65536",
    "--registration-timeout",
    "120s",
    "--ping-interval",
    "600s",
    "--ping-timeout",
    "600s",
];

/// A server process this tool started; killed on drop.
#[derive(Debug)]
pub struct ServerProcess {
    program: String,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `voix-server` at `path` on `listen` (port 0 picks one) with
    /// the limits of a load run, optionally pinned with `taskset` to
    /// `cpus`, and waits until it says where it listens.
    pub fn spawn_voix(
        path: &Path,
        listen: SocketAddr,
        cpus: Option<&str>,
    ) -> Result<Self, LoadError> {
        let mut command = pinned(path, cpus);
        command.arg("--listen").arg(listen.to_string()).args(VOIX_LOAD_FLAGS);
        command.env("RUST_LOG", "warn");
        let (mut child, log) = start(command, "voix-server", Output::Piped)?;
        let program = path.display().to_string();
        let Some(stdout) = child.stdout.take() else {
            return Err(LoadError::Usage("voix-server's stdout was not captured".to_owned()));
        };
        let mut server = Self { program, child, addr: listen, log };
        server.addr = server.await_listening(stdout)?;
        Ok(server)
    }

    /// Starts ngircd in the foreground with the config file `conf`, which
    /// must make it listen on `addr`, and waits until `addr` accepts.
    pub fn spawn_ngircd(
        binary: &Path,
        conf: &Path,
        addr: SocketAddr,
        cpus: Option<&str>,
    ) -> Result<Self, LoadError> {
        let mut command = pinned(binary, cpus);
        command.arg("--nodaemon").arg("--config").arg(conf);
        let (child, log) = start(command, "ngircd", Output::Logged)?;
        let mut server = Self { program: binary.display().to_string(), child, addr, log };
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            server.check_running()?;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            thread::sleep(Duration::from_millis(50));
        }
        Err(server.not_ready())
    }

    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reads `voix-server listening on ADDR (...)` from its stdout, which
    /// is then drained to its end, so that the server never blocks on it.
    fn await_listening(&mut self, stdout: ChildStdout) -> Result<SocketAddr, LoadError> {
        match voix_server::wait_for_listening_line(stdout, READY_TIMEOUT) {
            Ok(listening) => Ok(listening.addr),
            Err(ListeningError::Thread(source)) => Err(LoadError::Io {
                what: "starting a thread to read voix-server's output",
                source,
            }),
            Err(ListeningError::Timeout(_) | ListeningError::Ended) => {
                self.check_running()?;
                Err(self.not_ready())
            }
        }
    }

    fn check_running(&mut self) -> Result<(), LoadError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(LoadError::Exited {
                program: self.program.clone(),
                status: status.to_string(),
                log: self.log.clone(),
            }),
            Err(source) => Err(LoadError::Spawn { program: self.program.clone(), source }),
        }
    }

    fn not_ready(&self) -> LoadError {
        LoadError::NotReady {
            program: self.program.clone(),
            seconds: READY_TIMEOUT.as_secs(),
            log: self.log.clone(),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // It may have exited already; either way, reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program`, run under `taskset -c cpus` when given. `taskset` execs the
/// program, so the child's pid is the server's.
fn pinned(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Where a started server's standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// To a pipe, for the tool to read (and keep draining).
    Piped,
    /// To the log file, with standard error.
    Logged,
}

/// Starts `command` with stderr (and stdout, unless piped) in a log file
/// in the temporary directory, named after `name` and this process.
fn start(mut command: Command, name: &str, output: Output) -> Result<(Child, PathBuf), LoadError> {
    let log = std::env::temp_dir().join(format!("voix-load-{}-{name}.log", std::process::id()));
    let program = format!("{:?}", command.get_program());
    let spawn_error = |source| LoadError::Spawn { program: program.clone(), source };
    let stderr = File::create(&log).map_err(spawn_error)?;
    let stdout = match output {
        Output::Piped => Stdio::piped(),
        Output::Logged => Stdio::from(stderr.try_clone().map_err(spawn_error)?),
    };
    let child =
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr).spawn().map_err(spawn_error)?;
    Ok((child, log))
}
