//! [`LoadError`]: why a load run could not be carried out.
//!
//! Faults of the server under test that the scenarios measure (a lost
//! message, a refused client) are results, not errors; these are the
//! faults that stop a run.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a load run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A server could not be started.
    #[error("cannot start {program}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A started server did not become ready in time.
    #[error("{program} did not start listening within {seconds} s (its log: {log})")]
    NotReady {
        /// The program.
        program: String,
        /// How long the tool waited.
        seconds: u64,
        /// Where its output went.
        log: PathBuf,
    },
    /// A started server exited early.
    #[error("{program} exited early ({status}; its log: {log})")]
    Exited {
        /// The program.
        program: String,
        /// How it exited.
        status: String,
        /// Where its output went.
        log: PathBuf,
    },
    /// The tool could not connect to the server.
    #[error("cannot connect to {addr}")]
    Connect {
        /// The server's address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A client could not register or join its room.
    #[error("client {nick}: {reason}")]
    Client {
        /// The client's nickname.
        nick: String,
        /// What went wrong.
        reason: String,
    },
    /// A step took longer than its bound.
    #[error("timed out after {seconds} s while {step}")]
    Timeout {
        /// What the tool was doing.
        step: &'static str,
        /// The bound.
        seconds: u64,
    },
    /// A socket failed outside of a connection's normal life.
    #[error("{what}")]
    Io {
        /// What the tool was doing.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// A file under `/proc` was missing or not in the expected form.
    #[error("cannot read {path}: {reason}")]
    Proc {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The options make no sense together.
    #[error("{0}")]
    Usage(String),
    /// A worker thread or task panicked: a bug in the tool.
    #[error("a {0} of the load tool panicked")]
    Panicked(&'static str),
}

impl LoadError {
    /// An [`LoadError::Io`] for `what`.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { what, source }
    }
}
