//! `voix-server`: parses the settings, sets up logging, binds, says where
//! it listens, and runs until SIGINT or SIGTERM.

use std::error::Error as _;
use std::ffi::OsString;
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing::warn;
use tracing_subscriber::EnvFilter;
use voix_server::{BindError, ConfigError, RunError, Settings};

/// The Voix server: text chat, rooms and calls over TCP, voice over UDP on
/// the same port. Logs go to stderr; RUST_LOG filters them (default: info).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// TOML file with any of the settings below, keys named as the flags
    /// (`max-clients = 500`, `ping-interval = "60s"`); flags override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(flatten)]
    settings: Settings,
}

/// Why the server did not start, or stopped badly.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen for SIGINT and SIGTERM")]
    Signals(#[source] io::Error),
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Run(#[from] RunError),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|error| {
        if std::env::var_os(EnvFilter::DEFAULT_ENV).is_some() {
            eprintln!("voix-server: ignoring RUST_LOG ({error}); logging at info");
        }
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(colour_logs())
        .init();
    match serve(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            eprintln!("voix-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> Result<(), Error> {
    let settings = match &cli.config {
        Some(path) => cli.settings.or(Settings::from_file(path)?),
        None => cli.settings,
    };
    // Checked before anything is bound, so that a bad setting is all the
    // operator hears about.
    let config = settings.config()?;
    let shutdown = voix_server::shutdown_signal().map_err(Error::Signals)?;
    let (listener, voice) = voix_server::bind(settings.listen()).await?;
    let addr = listener
        .local_addr()
        .map_err(|source| Error::Bind(BindError::Tcp { addr: settings.listen(), source }))?;
    let banner = format!(
        "{}\nconnect a client with: {}\n",
        voix_server::listening_line(addr),
        client_command(reachable(addr), "NAME")
    );
    // A closed stdout must not stop the server (`println!` would panic).
    if let Err(error) = io::stdout().lock().write_all(banner.as_bytes()) {
        warn!(%error, "cannot print the banner");
    }
    voix_server::run(listener, voice, config, shutdown).await?;
    Ok(())
}

/// Whether the logs on stderr may be coloured: only on a terminal, since a
/// file or journald would keep the escape codes as text, and not when
/// NO_COLOR is set (<https://no-color.org>).
fn colour_logs() -> bool {
    wants_colour(io::stderr().is_terminal(), std::env::var_os("NO_COLOR"))
}

/// [`colour_logs`] given whether stderr is a terminal and NO_COLOR's value;
/// an empty NO_COLOR counts as unset, as the convention says.
fn wants_colour(terminal: bool, no_color: Option<OsString>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

/// The command that connects a client named `nick` to `server`: the
/// README's, with `--release`, so that users build one copy of the client,
/// the fast one.
fn client_command(server: impl Display, nick: &str) -> String {
    format!("cargo run --release -p voix-client -- --server {server} --nick {nick}")
}

/// An address a client on this machine can connect to: the loopback
/// address in place of a wildcard.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_command_is_the_readmes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).expect("the workspace README");
        let command = client_command("localhost", "Alice");
        assert!(readme.lines().any(|l| l == command), "README.md shows `{command}`");
    }

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(wants_colour(true, None));
        assert!(wants_colour(true, Some(OsString::new())), "an empty NO_COLOR is unset");
        assert!(!wants_colour(true, Some("1".into())));
        assert!(!wants_colour(false, None), "not into a file or a pipe");
        assert!(!wants_colour(false, Some("1".into())));
    }

    #[test]
    fn wildcards_become_loopback_in_the_client_command() {
        let cases = [
            ("0.0.0.0:9300", "127.0.0.1:9300"),
            ("[::]:9300", "[::1]:9300"),
            ("192.0.2.7:9300", "192.0.2.7:9300"),
        ];
        for (bound, shown) in cases {
            let bound: SocketAddr = bound.parse().expect("an address");
            assert_eq!(reachable(bound).to_string(), shown);
        }
    }
}
