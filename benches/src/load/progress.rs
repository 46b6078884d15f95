//! The progress line: a thread that prints a scenario's status to stderr
//! every [`INTERVAL`] until it is stopped. On a terminal the line is
//! rewritten in place; in a log each status is its own line.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often the status is printed.
pub const INTERVAL: Duration = Duration::from_millis(500);

/// A running progress line; stops when finished or dropped.
#[derive(Debug)]
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Prints `label` and what `status` says, every [`INTERVAL`].
    pub fn start(label: String, status: impl Fn() -> String + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let started = Instant::now();
            let terminal = std::io::stderr().is_terminal();
            while !stopped.load(Ordering::Relaxed) {
                thread::sleep(INTERVAL);
                let line =
                    format!("{label} {:>6.1} s  {}", started.elapsed().as_secs_f64(), status());
                let mut err = std::io::stderr().lock();
                // A progress line that cannot be printed is no reason to
                // stop a run.
                let _ =
                    if terminal { write!(err, "\r{line:<100}") } else { writeln!(err, "{line}") };
                let _ = err.flush();
            }
            if terminal {
                eprintln!();
            }
        });
        Self { stop, thread: Some(thread) }
    }

    /// Stops the line.
    pub fn finish(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // The thread only prints; if it panicked there is nothing to
            // recover.
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.halt();
    }
}
