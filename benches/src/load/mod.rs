//! The machinery of the `voix-load` binary: load scenarios against a chat
//! server on this machine, measured side by side with an IRC server.
//!
//! # Map
//! - `cli`: the command line ([`Cli`]);
//! - `error`: [`LoadError`];
//! - `server`: servers the tool starts (voix-server, ngircd);
//! - `procfs`: what `/proc` says about them (memory, CPU, UDP drops);
//! - `dialect`: the Voix and IRC lines the chat scenarios speak;
//! - `chat`: one signalling connection, framed into lines;
//! - `clock`, `histogram`: stamps and latency distributions;
//! - `progress`, `report`: the progress line and the results table;
//! - `connect`, `fanout`, `voice`: the scenarios.
//!
//! Every address the tool connects or sends to must be a loopback
//! address, and every scenario is bounded in clients and in time.

mod chat;
mod cli;
mod clock;
mod connect;
mod dialect;
mod error;
mod fanout;
mod histogram;
mod procfs;
mod progress;
mod report;
mod server;
mod voice;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

pub use cli::{Cli, ConnectArgs, FanoutArgs, Scenario, ServerArgs, VoiceArgs};
pub use dialect::Dialect;
pub use error::LoadError;
pub use histogram::Histogram;
pub use report::{Column, Format, Metric, Table};

use server::ServerProcess;

/// A server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// What it speaks.
    pub dialect: Dialect,
    /// Where it listens (TCP, and UDP for voice).
    pub addr: SocketAddr,
    /// Its process, when known, for memory and CPU figures.
    pub pid: Option<u32>,
    /// Its name in the table.
    pub label: String,
}

impl Target {
    /// Its resident memory in bytes, when its pid is known.
    pub fn rss(&self) -> Result<Option<u64>, LoadError> {
        self.pid.map(procfs::rss_bytes).transpose()
    }

    /// Its CPU time so far, when its pid is known.
    pub fn cpu(&self) -> Result<Option<Duration>, LoadError> {
        self.pid.map(procfs::process_cpu).transpose()
    }
}

/// Runs the scenario of `cli` against each of its targets in turn, each
/// server started (when the tool starts it) just for its own turn, and
/// returns the results side by side.
pub async fn run(cli: &Cli) -> Result<Table, LoadError> {
    let load_before = procfs::load_average()?;
    let mut columns = Vec::new();
    let mut notes = Vec::new();
    let title = match &cli.scenario {
        Scenario::Connect(args) => {
            for &dialect in &cli.servers.target {
                let (target, _server) = start(&cli.servers, dialect)?;
                let metrics = connect::run(&target, args).await?;
                columns.push(Column { server: target.label, metrics });
            }
            format!(
                "connect: {} clients join one room, {} at a time",
                args.clients, args.concurrency
            )
        }
        Scenario::Fanout(args) => {
            for &dialect in &cli.servers.target {
                let (target, _server) = start(&cli.servers, dialect)?;
                let metrics = fanout::run(&target, args).await?;
                columns.push(Column { server: target.label, metrics });
            }
            let pace = match args.rate {
                0 => format!("as fast as delivered (window {})", args.window),
                rate => format!("{rate} msgs/s each"),
            };
            format!(
                "fanout: {} receivers, {} senders, {pace}, {} s",
                args.receivers,
                args.senders,
                args.duration.as_secs_f64()
            )
        }
        Scenario::Voice(args) => {
            let (target, _server) = start(&cli.servers, Dialect::Voix)?;
            let results = voice::run(&target, args).await?;
            columns = results.columns;
            notes = results.notes;
            results.title
        }
    };
    let load_after = procfs::load_average()?;
    notes.push(format!(
        "machine: {} CPUs; 1-minute load average {load_before} before, {load_after} after{}",
        procfs::cpus(),
        cli.servers
            .server_cpus
            .as_ref()
            .map_or(String::new(), |c| format!("; servers pinned to CPU {c}")),
    ));
    Ok(Table { title, columns, notes })
}

/// The server of `dialect`: started by the tool when asked, else the
/// running one named on the command line.
fn start(
    servers: &ServerArgs,
    dialect: Dialect,
) -> Result<(Target, Option<ServerProcess>), LoadError> {
    let cpus = servers.server_cpus.as_deref();
    let (target, process) = match dialect {
        Dialect::Voix => match &servers.spawn_server {
            Some(path) => {
                let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                let process = ServerProcess::spawn_voix(path, listen, cpus)?;
                let target = Target {
                    dialect,
                    addr: process.addr(),
                    pid: Some(process.pid()),
                    label: "voix-server".to_owned(),
                };
                (target, Some(process))
            }
            None => {
                let target = Target {
                    dialect,
                    addr: servers.voix,
                    pid: servers.server_pid,
                    label: "voix-server".to_owned(),
                };
                (target, None)
            }
        },
        Dialect::Irc => match &servers.spawn_ngircd {
            Some(conf) => {
                require_loopback(servers.irc)?;
                let process =
                    ServerProcess::spawn_ngircd(&servers.ngircd_binary, conf, servers.irc, cpus)?;
                let target = Target {
                    dialect,
                    addr: servers.irc,
                    pid: Some(process.pid()),
                    label: "ngircd".to_owned(),
                };
                (target, Some(process))
            }
            None => {
                let target = Target {
                    dialect,
                    addr: servers.irc,
                    pid: servers.irc_pid,
                    label: "irc".to_owned(),
                };
                (target, None)
            }
        },
    };
    require_loopback(target.addr)?;
    Ok((target, process))
}

/// Load goes to this machine only.
fn require_loopback(addr: SocketAddr) -> Result<(), LoadError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(LoadError::Usage(format!(
            "{addr} is not a loopback address; voix-load only loads servers on this machine"
        )))
    }
}
