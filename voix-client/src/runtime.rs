//! The real-time driver: one control loop, fed by one channel, that moves
//! bytes between the sockets and the [`App`], performs its actions, and
//! shows its events through a [`Frontend`].
//!
//! Threads, each with one job:
//! - the control loop (this module): the only owner of the [`App`] and of
//!   the TCP connection's writing half;
//! - a connector per connection attempt, so that a slow server never
//!   freezes the screen;
//! - a TCP reader and a UDP reader per connection ([`crate::net`]); the
//!   UDP reader feeds the voice engine directly, for the least delay;
//! - the audio capture and playback threads ([`crate::audio`]);
//! - the front end's input reader (standard input or the terminal) and a
//!   signal watcher.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::Event as TerminalEvent;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use voix_audio::mixer::MixerConfig;
use voix_audio::vad::VadConfig;

use crate::app::{Action, App, AppConfig, ExitReason, SharedVoice, Status};
use crate::audio::{AudioError, AudioNotice, AudioThreads, SinkChoice, SourceChoice};
use crate::command::Command;
use crate::event::Event;
use crate::net::{Connection, VoiceOut};
use crate::server_addr::ServerAddr;
use crate::voice::{VoiceEngine, VoiceError, VoiceSettings, encoder_config};

/// How long quitting waits for the server to close the connection after
/// `DISCONNECT`, so that the goodbye is not cut off.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// How many inputs may wait for the control loop. When it falls behind
/// (standard output is not read), the threads that feed it block: the TCP
/// reader stops reading, the server's send queue fills up and its limit
/// applies, rather than the client's memory growing without end. 64 TCP
/// chunks of 16 KiB are at most 1 MiB.
pub const INPUT_QUEUE_LEN: usize = 64;

/// How long a signal leaves the control loop to quit cleanly. A loop stuck
/// writing to a standard output nobody reads never gets there, so the
/// process then exits anyway (status 1, the output failed), as it does at
/// once on a second signal. Longer than a goodbye can take (the TCP write
/// timeout).
pub const SIGNAL_GRACE: Duration = Duration::from_secs(6);

/// Everything that wakes the control loop.
#[derive(Debug)]
pub enum Input {
    /// A connection attempt finished.
    Connected {
        /// The attempt's number; stale attempts are ignored.
        generation: u64,
        /// The connection, or why there is none.
        result: Result<Connection, String>,
    },
    /// Bytes from the server.
    Received {
        /// The connection they came on.
        generation: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The connection ended.
    Closed {
        /// The connection.
        generation: u64,
        /// Why.
        reason: String,
    },
    /// A line the user typed.
    Line(String),
    /// Input refused before it became a line (too long), with why.
    Rejected(String),
    /// A command from the front end.
    Command(Command),
    /// Standard input ended.
    EndOfInput,
    /// A key, a resize, ... in the terminal UI.
    Terminal(TerminalEvent),
    /// Something the audio threads report.
    Audio(AudioNotice),
    /// SIGINT, SIGTERM or SIGHUP.
    Signal,
}

/// A way of showing the client to someone: the terminal UI or the
/// headless printer.
pub trait Frontend {
    /// Takes over the screen, if there is one; called once audio works.
    fn start(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Shows one event.
    fn show(&mut self, event: &Event) -> io::Result<()>;

    /// Handles a terminal event; returns what the user asked for.
    fn terminal(&mut self, _event: TerminalEvent, _status: &Status) -> Vec<Input> {
        Vec::new()
    }

    /// Redraws the screen, if there is one.
    fn draw(&mut self, _status: &Status) -> io::Result<()> {
        Ok(())
    }

    /// How often to redraw when nothing happens, if there is a screen.
    fn redraw_interval(&self) -> Option<Duration> {
        None
    }
}

/// Why the client stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The voice engine could not be built.
    #[error(transparent)]
    Voice(#[from] VoiceError),
    /// Audio could not start.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The front end could not write (standard output closed, terminal
    /// gone).
    #[error("cannot write to the terminal or standard output: {0}")]
    Output(#[source] io::Error),
    /// A thread could not be started, or signals not watched.
    #[error("cannot start: {0}")]
    Setup(#[source] io::Error),
}

/// What the client needs to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Who we are.
    pub app: AppConfig,
    /// The server.
    pub server: ServerAddr,
    /// The microphone.
    pub source: SourceChoice,
    /// The speaker.
    pub sink: SinkChoice,
    /// End of standard input quits.
    pub quit_at_end_of_input: bool,
}

/// A handle that threads use to wake the control loop.
#[derive(Debug, Clone)]
pub struct Waker {
    sender: SyncSender<Input>,
    /// A signal came; set even when the queue is full.
    signalled: Arc<AtomicBool>,
}

impl Waker {
    /// A waker and the receiving end of its channel, which holds at most
    /// [`INPUT_QUEUE_LEN`] inputs.
    pub fn channel() -> (Self, Receiver<Input>) {
        let (sender, receiver) = mpsc::sync_channel(INPUT_QUEUE_LEN);
        (Self { sender, signalled: Arc::new(AtomicBool::new(false)) }, receiver)
    }

    /// Hands `input` to the control loop, waiting while its queue is full
    /// (dropped if it has stopped). Never call it from the control loop.
    pub fn send(&self, input: Input) {
        let _ = self.sender.send(input);
    }

    /// Tells the control loop a signal came, without ever waiting: if the
    /// queue is full, the loop sees the flag when it next looks.
    pub fn signal(&self) {
        self.signalled.store(true, Ordering::SeqCst);
        let _ = self.sender.try_send(Input::Signal);
    }

    /// Whether a signal came since the last call.
    fn take_signal(&self) -> bool {
        self.signalled.swap(false, Ordering::SeqCst)
    }
}

/// Runs the client until it quits. `start_input` starts the front end's
/// input reader with a [`Waker`].
pub fn run<F: Frontend>(
    options: Options,
    mut frontend: F,
    start_input: impl FnOnce(Waker) -> io::Result<()>,
) -> Result<ExitReason, RunError> {
    let settings = VoiceSettings { mode: options.app.base_mode, ..VoiceSettings::default() };
    let engine =
        VoiceEngine::new(encoder_config(), MixerConfig::default(), VadConfig::default(), settings)?;
    let voice: SharedVoice = Arc::new(Mutex::new(engine));
    let out = VoiceOut::default();
    let (waker, inputs) = Waker::channel();
    let notices = waker.clone();
    let audio = AudioThreads::start(
        options.source.clone(),
        options.sink.clone(),
        Arc::clone(&voice),
        out.clone(),
        move |notice| notices.send(Input::Audio(notice)),
    )?;
    frontend.start().map_err(RunError::Output)?;
    watch_signals(waker.clone()).map_err(RunError::Setup)?;
    start_input(waker.clone()).map_err(RunError::Setup)?;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let app = App::new(options.app.clone(), Arc::clone(&voice), seed);
    let mut driver = Driver {
        app,
        voice,
        out,
        server: options.server,
        quit_at_end_of_input: options.quit_at_end_of_input,
        frontend,
        waker,
        inputs,
        generation: 0,
        connection: None,
    };
    let result = driver.run();
    // Closes the queue first, so that no audio thread waits on a full one
    // while being joined.
    drop(driver);
    // Stops and joins the audio threads, which finishes a WAV recording.
    drop(audio);
    result
}

/// Forwards SIGINT, SIGTERM and SIGHUP to the control loop, which quits
/// cleanly (a WAV recording is finished, the server told goodbye). If it
/// has not within [`SIGNAL_GRACE`], or on a second signal, the process
/// exits anyway: the loop may be stuck writing to a full standard output.
fn watch_signals(waker: Waker) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    thread::Builder::new().name("voix-signals".into()).spawn(move || {
        let mut first = true;
        for _ in signals.forever() {
            waker.signal();
            if !std::mem::replace(&mut first, false) {
                force_exit();
            }
            let _ = thread::Builder::new().name("voix-signal-grace".into()).spawn(|| {
                thread::sleep(SIGNAL_GRACE);
                force_exit();
            });
        }
    })?;
    Ok(())
}

/// Ends the process without the control loop, which did not quit in time.
fn force_exit() -> ! {
    eprintln!("voix-client: quitting without a clean goodbye (standard output blocked?)");
    std::process::exit(1);
}

/// The control loop's state.
struct Driver<F> {
    app: App,
    voice: SharedVoice,
    out: VoiceOut,
    server: ServerAddr,
    quit_at_end_of_input: bool,
    frontend: F,
    waker: Waker,
    inputs: Receiver<Input>,
    generation: u64,
    connection: Option<Connection>,
}

impl<F: Frontend> Driver<F> {
    fn run(&mut self) -> Result<ExitReason, RunError> {
        let mut last_draw = None::<Instant>;
        // Something happened since the last draw.
        let mut dirty = true;
        loop {
            if self.waker.take_signal() {
                // A signal quits at once: whoever sent it wants the client gone.
                self.app.quit_now();
            }
            if let Some(reason) = self.perform()? {
                return Ok(reason);
            }
            let now = Instant::now();
            let redraw =
                self.frontend.redraw_interval().map(|every| last_draw.map_or(now, |at| at + every));
            if redraw.is_some_and(|at| dirty || at <= now) {
                self.frontend.draw(&self.app.status(now)).map_err(RunError::Output)?;
                last_draw = Some(now);
                dirty = false;
            }
            let next_redraw = redraw.map(|at| at.max(now + Duration::from_millis(1)));
            let deadline = [self.app.poll_timeout(), next_redraw].into_iter().flatten().min();
            let input = match deadline {
                Some(at) => match self.inputs.recv_timeout(at.saturating_duration_since(now)) {
                    Ok(input) => Some(input),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(ExitReason::Quit),
                },
                None => self.inputs.recv().ok(),
            };
            let now = Instant::now();
            if let Some(input) = input {
                self.handle(now, input)?;
                dirty = true;
            }
            if self.app.poll_timeout().is_some_and(|at| at <= now) {
                self.app.handle_timeout(now);
                dirty = true;
            }
        }
    }

    fn handle(&mut self, now: Instant, input: Input) -> Result<(), RunError> {
        match input {
            Input::Connected { generation, result } if generation == self.generation => {
                match result {
                    Ok(connection) => self.attach(now, connection),
                    Err(reason) => self.app.handle_connect_failed(now, reason),
                }
            }
            Input::Received { generation, bytes } if generation == self.generation => {
                self.app.handle_input(now, &bytes);
            }
            Input::Closed { generation, reason } if generation == self.generation => {
                self.detach();
                self.app.handle_closed(now, reason);
            }
            // From a connection already given up.
            Input::Connected { .. } | Input::Received { .. } | Input::Closed { .. } => {}
            Input::Line(line) => self.app.handle_line(now, &line),
            Input::Rejected(message) => {
                self.frontend.show(&Event::CommandError { message }).map_err(RunError::Output)?;
            }
            Input::Command(command) => self.app.handle_command(now, command),
            Input::EndOfInput => {
                if self.quit_at_end_of_input {
                    self.app.quit(now);
                }
            }
            Input::Terminal(event) => {
                let status = self.app.status(now);
                for input in self.frontend.terminal(event, &status) {
                    self.handle(now, input)?;
                }
            }
            Input::Audio(notice) => {
                let event = match notice {
                    AudioNotice::Started { direction, unix_us } => {
                        Event::AudioStarted { direction: direction.as_str(), unix_us }
                    }
                    AudioNotice::InputEnded => Event::InputEnded,
                    AudioNotice::Failed { direction, message } => {
                        Event::AudioError { direction: direction.as_str(), message }
                    }
                };
                self.frontend.show(&event).map_err(RunError::Output)?;
            }
            // Only a wake-up: the loop acts on the signal flag.
            Input::Signal => {}
        }
        self.out.flush(&self.voice);
        Ok(())
    }

    /// Performs the app's actions and shows its events; `Some` when the
    /// client is done.
    fn perform(&mut self) -> Result<Option<ExitReason>, RunError> {
        let mut exit = None;
        while let Some(action) = self.app.poll_action() {
            match action {
                Action::Connect => self.connect(),
                Action::Send(bytes) => {
                    let failed = match &mut self.connection {
                        Some(connection) => connection.send(&bytes).err(),
                        None => None,
                    };
                    if let Some(error) = failed {
                        self.detach();
                        self.app.handle_closed(Instant::now(), error.to_string());
                    }
                }
                Action::Close => self.close(),
                Action::Exit(reason) => exit = Some(reason),
            }
        }
        while let Some(event) = self.app.poll_event() {
            self.frontend.show(&event).map_err(RunError::Output)?;
        }
        self.out.flush(&self.voice);
        if exit.is_some() {
            self.wait_for_goodbye();
        }
        Ok(exit)
    }

    /// Starts a connection attempt in its own thread.
    fn connect(&mut self) {
        self.detach();
        self.generation += 1;
        let generation = self.generation;
        let server = self.server.clone();
        let waker = self.waker.clone();
        let spawned = thread::Builder::new().name("voix-connect".into()).spawn(move || {
            let result = Connection::open(&server).map_err(|e| e.to_string());
            waker.send(Input::Connected { generation, result });
        });
        // Handled here, not queued: the loop must never wait on its own
        // queue.
        if let Err(error) = spawned {
            self.app.handle_connect_failed(Instant::now(), error.to_string());
        }
    }

    /// Takes a fresh connection: its readers start, and voice goes to it.
    fn attach(&mut self, now: Instant, connection: Connection) {
        let generation = self.generation;
        let (bytes, closed) = (self.waker.clone(), self.waker.clone());
        let started = connection
            .spawn_reader(
                move |data| bytes.send(Input::Received { generation, bytes: data }),
                move |reason| closed.send(Input::Closed { generation, reason }),
            )
            .and_then(|()| connection.spawn_voice_reader(Arc::clone(&self.voice)));
        match started {
            Ok(()) => {
                self.out.set(Some(connection.voice()));
                self.connection = Some(connection);
                self.app.handle_connected(now);
            }
            Err(error) => self.app.handle_connect_failed(now, error.to_string()),
        }
    }

    /// Half-closes the connection: our side is done; the server's close
    /// ends the reader.
    fn close(&mut self) {
        self.out.set(None);
        if let Some(connection) = &self.connection {
            connection.finish_sending();
        }
    }

    /// Drops the connection and its sockets.
    fn detach(&mut self) {
        self.out.set(None);
        self.connection = None;
    }

    /// Waits (briefly) for the server to close a connection we said
    /// goodbye on, so that the goodbye arrives whole.
    fn wait_for_goodbye(&mut self) {
        if self.connection.is_none() {
            return;
        }
        let deadline = Instant::now() + GOODBYE_TIMEOUT;
        while let Ok(input) =
            self.inputs.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if matches!(input, Input::Closed { generation, .. } if generation == self.generation) {
                break;
            }
        }
        self.detach();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A control loop that falls behind holds back the threads that feed
    /// it, rather than queueing without end; a signal still gets through.
    #[test]
    fn a_full_queue_holds_the_senders_back_but_not_a_signal() {
        let (waker, inputs) = Waker::channel();
        let sent = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (waker, sent) = (waker.clone(), Arc::clone(&sent));
            thread::spawn(move || {
                for _ in 0..INPUT_QUEUE_LEN + 2 {
                    waker.send(Input::Received { generation: 1, bytes: vec![0; 16] });
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while sent.load(Ordering::SeqCst) < INPUT_QUEUE_LEN && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(100));
        assert_eq!(sent.load(Ordering::SeqCst), INPUT_QUEUE_LEN, "the sender must wait");

        // Does not wait, and is seen.
        waker.signal();
        assert!(waker.take_signal());
        assert!(!waker.take_signal());

        // Reading makes room again.
        assert!(inputs.recv().is_ok());
        assert!(inputs.recv().is_ok());
        reader.join().expect("the sender finishes once there is room");
        assert_eq!(sent.load(Ordering::SeqCst), INPUT_QUEUE_LEN + 2);
    }
}
