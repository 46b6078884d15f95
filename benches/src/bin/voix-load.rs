//! `voix-load`: load scenarios against voix-server, side by side with an
//! IRC server (ngircd), on this machine.
//!
//! ```text
//! voix-load --spawn-server target/release/voix-server connect --clients 1000
//! voix-load --spawn-server target/release/voix-server \
//!     --target voix,irc --spawn-ngircd benches/ngircd/ngircd.conf \
//!     --server-cpus 0 fanout --receivers 100 --senders 10
//! voix-load --spawn-server target/release/voix-server voice --calls 1000 --baseline
//! ```
//!
//! A progress line goes to stderr while it runs; the results table to
//! stdout at the end (`--format markdown` for BENCHMARKS.md).
//! SIGINT or SIGTERM stops the run and the servers it started.

use std::error::Error as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};
use voix_benches::load::{self, Cli};

/// How long the runtime may take to wind down after the run (voice
/// threads end on their own schedule; nothing must wait for them).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("voix-load: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            // The run, to its end.
            result = load::run(&cli) => Some(result),
            // Interrupted: dropping the run stops the servers it started.
            () = interrupted() => None,
        }
    });
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    let Some(outcome) = outcome else {
        eprintln!("voix-load: interrupted");
        return ExitCode::FAILURE;
    };
    match outcome {
        Ok(table) => {
            print!("{}", table.render(cli.format));
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            eprintln!("voix-load: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Completes at SIGINT or SIGTERM; never, if neither can be listened for.
async fn interrupted() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
