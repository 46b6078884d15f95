//! `voix-client`: parses the command line, picks the front end, runs, and
//! turns the outcome into an exit status (see `--help`).

use std::io;
use std::process::ExitCode;

use clap::Parser;
use voix_client::app::{AppConfig, ExitReason};
use voix_client::cli::Args;
use voix_client::headless::{self, Format, Headless};
use voix_client::runtime::{self, Options, RunError};
use voix_client::tui;

/// Exit status when the server refuses the nickname.
const EXIT_REFUSED: u8 = 3;
/// Exit status when audio cannot start.
const EXIT_AUDIO: u8 = 4;
/// Exit status when the connection is lost and reconnecting is off.
const EXIT_CONNECTION_LOST: u8 = 5;

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        app: AppConfig {
            nick: args.nick.clone(),
            real_name: args.name.clone(),
            server: args.server.to_string(),
            reconnect: !args.no_reconnect,
            base_mode: args.transmit,
        },
        server: args.server.clone(),
        source: args.source(),
        sink: args.sink(),
        quit_at_end_of_input: args.headless && !args.stay,
    };
    let result = if args.headless {
        let format = if args.json { Format::Json } else { Format::Text };
        runtime::run(options, Headless::new(io::stdout(), format), headless::spawn_stdin_reader)
    } else {
        tui::run(options)
    };
    match result {
        Ok(ExitReason::Quit) => ExitCode::SUCCESS,
        Ok(ExitReason::Refused) => {
            eprintln!(
                "voix-client: the server refused the nickname {}; choose another with --nick",
                args.nick
            );
            ExitCode::from(EXIT_REFUSED)
        }
        Ok(ExitReason::ConnectionLost) => {
            eprintln!("voix-client: the connection to {} is lost", args.server);
            ExitCode::from(EXIT_CONNECTION_LOST)
        }
        Err(error) => {
            eprintln!("voix-client: {error}");
            match error {
                RunError::Audio(_) => ExitCode::from(EXIT_AUDIO),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
