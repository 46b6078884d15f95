//! Every limit and timer of the server core, with documented defaults.

use std::time::Duration;

use crate::wire::DEFAULT_MAX_LINE_LEN;
use crate::{Text, TextBuf};

/// The server core's limits and timers. [`ServerConfig::default`] gives the
/// documented defaults (PROTOCOL.md, "Limits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The name the server gives in `ACCEPT: <host>`.
    pub host_name: TextBuf,
    /// Connections (registered or not) held at once; one more is refused
    /// with `ERROR SERVERFULL`.
    pub max_clients: usize,
    /// Longest accepted line, not counting its line ending.
    pub max_line_len: usize,
    /// Bytes of output a connection may have waiting; a client that stops
    /// reading is disconnected with `ERROR SENDQUEUEFULL` past this. At
    /// least [`ServerConfig::max_reply_bytes`] (see
    /// [`ServerConfig::validate`]).
    pub max_output_queue_bytes: usize,
    /// Commands per second a client may send on average.
    pub command_rate: u32,
    /// Commands a client may send in a burst above the rate.
    pub command_burst: u32,
    /// Rooms that may exist at once, `#Lobby` included.
    pub max_rooms: usize,
    /// Time a new connection has to send a valid `CONNECT`.
    pub registration_timeout: Duration,
    /// Time between the server's `PING`s to a registered client.
    pub ping_interval: Duration,
    /// Time a client has to answer a `PING` before it is dropped.
    pub ping_timeout: Duration,
    /// Time a call may ring before it ends unanswered.
    pub ring_timeout: Duration,
    /// Voice sessions open at once (each user has one for their room and
    /// one for a call). Give the voice relay the same limit. A user who
    /// would pass it gets `ERROR NOVOICE` instead of a credential.
    pub max_voice_sessions: usize,
}

/// Why [`ServerConfig::validate`] refused a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerConfigError {
    /// The output limit is below the server's own longest reply, so a
    /// client registering or joining a full room would be dropped with
    /// `ERROR SENDQUEUEFULL` for what the server itself sent it.
    #[error(
        "max_output_queue_bytes is {queue}, below the {needed} bytes that the server's reply to \
         a registration or a JOIN can take with max_clients at {max_clients} (a full room's \
         USERLIST): raise max_output_queue_bytes to at least {needed}, or lower max_clients"
    )]
    OutputQueueTooSmall {
        /// [`ServerConfig::max_output_queue_bytes`].
        queue: usize,
        /// [`ServerConfig::max_reply_bytes`], the least it may be.
        needed: usize,
        /// [`ServerConfig::max_clients`], which `needed` grows with.
        max_clients: usize,
    },
}

impl ServerConfig {
    /// Default for [`ServerConfig::max_clients`].
    pub const DEFAULT_MAX_CLIENTS: usize = 10_000;
    /// Default for [`ServerConfig::max_line_len`].
    pub const DEFAULT_MAX_LINE_LEN: usize = DEFAULT_MAX_LINE_LEN;
    /// Default for [`ServerConfig::max_output_queue_bytes`]: above the
    /// [`ServerConfig::max_reply_bytes`] of the other defaults (about
    /// 337 KiB, most of it a full room's `USERLIST`).
    pub const DEFAULT_MAX_OUTPUT_QUEUE_BYTES: usize = 512 * 1024;
    /// Default for [`ServerConfig::command_rate`].
    pub const DEFAULT_COMMAND_RATE: u32 = 20;
    /// Default for [`ServerConfig::command_burst`].
    pub const DEFAULT_COMMAND_BURST: u32 = 40;
    /// Default for [`ServerConfig::max_rooms`].
    pub const DEFAULT_MAX_ROOMS: usize = 1_000;
    /// Default for [`ServerConfig::registration_timeout`].
    pub const DEFAULT_REGISTRATION_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`ServerConfig::ping_interval`].
    pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(60);
    /// Default for [`ServerConfig::ping_timeout`]: the original's 150 s.
    pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(150);
    /// Default for [`ServerConfig::ring_timeout`].
    pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`ServerConfig::max_voice_sessions`]: above two per
    /// client at the default client limit, and the relay's default.
    pub const DEFAULT_MAX_VOICE_SESSIONS: usize = crate::voice::RelayConfig::DEFAULT_MAX_SESSIONS;

    /// The most bytes the server queues for a client at once of its own
    /// accord: its reply to a registration (`ACCEPT`, `PING`, `JOINED`,
    /// `USERLIST`, `VOICE`) or to a `JOIN` (`JOINED`, `USERLIST`, `VOICE`),
    /// in the worst case: a room holding [`ServerConfig::max_clients`]
    /// users with nicknames of the longest length, and the longest room
    /// name. [`ServerConfig::max_output_queue_bytes`] must be at least
    /// this, so that these replies fit the queue by construction.
    ///
    /// It grows by about 34.5 bytes per client: 345,398 bytes for the
    /// default 10,000.
    pub fn max_reply_bytes(&self) -> usize {
        super::sizes::max_reply_bytes(self)
    }

    /// Checks that the limits agree with one another: the output limit
    /// holds the server's longest reply ([`ServerConfig::max_reply_bytes`]).
    pub fn validate(&self) -> Result<(), ServerConfigError> {
        let needed = self.max_reply_bytes();
        if self.max_output_queue_bytes < needed {
            return Err(ServerConfigError::OutputQueueTooSmall {
                queue: self.max_output_queue_bytes,
                needed,
                max_clients: self.max_clients,
            });
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host_name: Text::new("voix").expect("a valid host name").into_owned(),
            max_clients: Self::DEFAULT_MAX_CLIENTS,
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            max_output_queue_bytes: Self::DEFAULT_MAX_OUTPUT_QUEUE_BYTES,
            command_rate: Self::DEFAULT_COMMAND_RATE,
            command_burst: Self::DEFAULT_COMMAND_BURST,
            max_rooms: Self::DEFAULT_MAX_ROOMS,
            registration_timeout: Self::DEFAULT_REGISTRATION_TIMEOUT,
            ping_interval: Self::DEFAULT_PING_INTERVAL,
            ping_timeout: Self::DEFAULT_PING_TIMEOUT,
            ring_timeout: Self::DEFAULT_RING_TIMEOUT,
            max_voice_sessions: Self::DEFAULT_MAX_VOICE_SESSIONS,
        }
    }
}
