//! The server's settings: command-line flags and an optional TOML file,
//! merged over the documented defaults of the cores.
//!
//! [`Settings`] is both a set of `clap` flags and the schema of the TOML
//! file, with the same names (`--max-clients` is `max-clients = ...`).
//! Every field is optional, so that a flag given on the command line can be
//! told apart from one left out: [`Settings::or`] lays the flags over the
//! file, and [`Settings::config`] fills the gaps with the defaults.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use voix_proto::TextBuf;
use voix_proto::server::{ServerConfig, ServerConfigError};
use voix_proto::voice::RelayConfig;

/// The default address: every IPv4 interface, on the original's port.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9300));

/// The longest timer accepted: a week. Longer ones are surely a typo, and
/// the bound keeps every deadline far from the end of the clock.
pub const MAX_TIMER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// What [`run`](fn@crate::run) needs besides its sockets: the limits of the
/// signalling core and of the voice relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The signalling core's limits and timers. Its `max_voice_sessions`
    /// is the voice relay's session limit too, so that the core never
    /// hands out a credential the relay would refuse.
    pub server: ServerConfig,
    /// Most RELAY datagrams the voice relay queues for one incoming one
    /// ([`RelayConfig::max_queued`]).
    pub max_voice_queue: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { server: ServerConfig::default(), max_voice_queue: RelayConfig::DEFAULT_MAX_QUEUED }
    }
}

impl Config {
    /// The voice relay's limits, from these settings.
    pub fn relay(&self) -> RelayConfig {
        RelayConfig {
            max_sessions: self.server.max_voice_sessions,
            max_queued: self.max_voice_queue,
        }
    }
}

/// Every setting of the server, as flags and as keys of the TOML file.
/// A setting left out takes its default, shown in brackets.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Address of TCP signalling; UDP voice uses the same address and port
    /// [default: 0.0.0.0:9300]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Name the server gives itself in `ACCEPT: <name>` [default: voix]
    #[arg(long, value_name = "NAME")]
    #[serde(deserialize_with = "from_str")]
    pub host_name: Option<TextBuf>,

    /// Connections held at once, registered or not; one more is refused
    /// with `ERROR SERVERFULL` [default: 10000]
    #[arg(long, value_name = "N")]
    pub max_clients: Option<NonZeroUsize>,

    /// Longest accepted line in bytes, without its line ending
    /// [default: 4096]
    #[arg(long, value_name = "BYTES")]
    pub max_line_len: Option<NonZeroUsize>,

    /// Bytes of output a connection may have waiting; a client that stops
    /// reading is dropped with `ERROR SENDQUEUEFULL` past this. At least
    /// the longest reply to a registration or a JOIN: about 34.5 bytes for
    /// each client that max-clients allows; unset, it grows to that reply
    /// where the default is smaller [default: 524288]
    #[arg(long, value_name = "BYTES")]
    pub max_output_queue_bytes: Option<NonZeroUsize>,

    /// Commands per second a client may send on average [default: 20]
    #[arg(long, value_name = "N")]
    pub command_rate: Option<NonZeroU32>,

    /// Commands a client may send in a burst above the rate [default: 40]
    #[arg(long, value_name = "N")]
    pub command_burst: Option<NonZeroU32>,

    /// Rooms that may exist at once, #Lobby included [default: 1000]
    #[arg(long, value_name = "N")]
    pub max_rooms: Option<NonZeroUsize>,

    /// Time a new connection has to send a valid CONNECT [default: 30s]
    #[arg(long, value_name = "TIME", value_parser = parse_timer)]
    #[serde(deserialize_with = "timer")]
    pub registration_timeout: Option<Duration>,

    /// Time between PINGs to a registered client [default: 60s]
    #[arg(long, value_name = "TIME", value_parser = parse_timer)]
    #[serde(deserialize_with = "timer")]
    pub ping_interval: Option<Duration>,

    /// Time a client has to answer a PING before it is dropped
    /// [default: 150s]
    #[arg(long, value_name = "TIME", value_parser = parse_timer)]
    #[serde(deserialize_with = "timer")]
    pub ping_timeout: Option<Duration>,

    /// Time a call may ring before it ends unanswered [default: 30s]
    #[arg(long, value_name = "TIME", value_parser = parse_timer)]
    #[serde(deserialize_with = "timer")]
    pub ring_timeout: Option<Duration>,

    /// Voice sessions open at once; every client has one for its room and
    /// one per call [default: 65536]
    #[arg(long, value_name = "N")]
    pub max_voice_sessions: Option<NonZeroUsize>,

    /// Relayed voice datagrams queued for sending; beyond it, relayed
    /// packets are dropped [default: 8192]
    #[arg(long, value_name = "N")]
    pub max_voice_queue: Option<NonZeroUsize>,
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read the config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid TOML, or holds an unknown key or an
    /// invalid value.
    #[error("invalid config file {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and what.
        #[source]
        source: toml::de::Error,
    },
    /// The settings contradict one another.
    #[error("inconsistent settings")]
    Inconsistent(#[from] ServerConfigError),
}

impl Settings {
    /// Reads the settings in a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source })
    }

    /// These settings, with the gaps filled from `fallback` (flags
    /// `.or(file)`).
    #[must_use]
    pub fn or(self, fallback: Self) -> Self {
        Self {
            listen: self.listen.or(fallback.listen),
            host_name: self.host_name.or(fallback.host_name),
            max_clients: self.max_clients.or(fallback.max_clients),
            max_line_len: self.max_line_len.or(fallback.max_line_len),
            max_output_queue_bytes: self.max_output_queue_bytes.or(fallback.max_output_queue_bytes),
            command_rate: self.command_rate.or(fallback.command_rate),
            command_burst: self.command_burst.or(fallback.command_burst),
            max_rooms: self.max_rooms.or(fallback.max_rooms),
            registration_timeout: self.registration_timeout.or(fallback.registration_timeout),
            ping_interval: self.ping_interval.or(fallback.ping_interval),
            ping_timeout: self.ping_timeout.or(fallback.ping_timeout),
            ring_timeout: self.ring_timeout.or(fallback.ring_timeout),
            max_voice_sessions: self.max_voice_sessions.or(fallback.max_voice_sessions),
            max_voice_queue: self.max_voice_queue.or(fallback.max_voice_queue),
        }
    }

    /// The address to listen on.
    pub fn listen(&self) -> SocketAddr {
        self.listen.unwrap_or(DEFAULT_LISTEN)
    }

    /// The limits of both cores, defaults filled in, or why they cannot
    /// work together ([`ServerConfig::validate`]).
    pub fn config(&self) -> Result<Config, ConfigError> {
        let d = ServerConfig::default();
        let mut server = ServerConfig {
            host_name: self.host_name.clone().unwrap_or(d.host_name),
            max_clients: self.max_clients.map_or(d.max_clients, NonZeroUsize::get),
            max_line_len: self.max_line_len.map_or(d.max_line_len, NonZeroUsize::get),
            max_output_queue_bytes: d.max_output_queue_bytes,
            command_rate: self.command_rate.map_or(d.command_rate, NonZeroU32::get),
            command_burst: self.command_burst.map_or(d.command_burst, NonZeroU32::get),
            max_rooms: self.max_rooms.map_or(d.max_rooms, NonZeroUsize::get),
            registration_timeout: self.registration_timeout.unwrap_or(d.registration_timeout),
            ping_interval: self.ping_interval.unwrap_or(d.ping_interval),
            ping_timeout: self.ping_timeout.unwrap_or(d.ping_timeout),
            ring_timeout: self.ring_timeout.unwrap_or(d.ring_timeout),
            max_voice_sessions: self
                .max_voice_sessions
                .map_or(d.max_voice_sessions, NonZeroUsize::get),
        };
        // Unset, the output limit grows with max-clients to hold the
        // longest reply; set, it must hold it, or the server refuses to
        // start rather than drop clients who JOIN a full room.
        server.max_output_queue_bytes = match self.max_output_queue_bytes {
            Some(bytes) => bytes.get(),
            None => d.max_output_queue_bytes.max(server.max_reply_bytes()),
        };
        let max_voice_queue =
            self.max_voice_queue.map_or(RelayConfig::DEFAULT_MAX_QUEUED, NonZeroUsize::get);
        server.validate()?;
        Ok(Config { server, max_voice_queue })
    }
}

/// Why a timer setting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum TimerError {
    #[error("expected a whole number and a unit (ms, s, m or h), as in 30s or 500ms")]
    Malformed,
    #[error("must be longer than zero")]
    Zero,
    #[error("must be at most a week (168h)")]
    TooLong,
}

/// Parses a timer setting: a whole number and a unit, `ms`, `s`, `m` or
/// `h` (`500ms`, `30s`, `2m`), more than zero and at most [`MAX_TIMER`].
fn parse_timer(s: &str) -> Result<Duration, TimerError> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(TimerError::Malformed);
    }
    // Digits only, so the one failure is a number too large for u64.
    let n: u64 = digits.parse().map_err(|_| TimerError::TooLong)?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(TimerError::Malformed),
    };
    let millis = n.checked_mul(millis_per_unit).ok_or(TimerError::TooLong)?;
    match Duration::from_millis(millis) {
        Duration::ZERO => Err(TimerError::Zero),
        d if d > MAX_TIMER => Err(TimerError::TooLong),
        d => Ok(d),
    }
}

/// Deserializes a timer written as in [`parse_timer`].
fn timer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    from_str_with(deserializer, parse_timer)
}

/// Deserializes a string through `FromStr`.
fn from_str<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    from_str_with(deserializer, T::from_str)
}

fn from_str_with<'de, D, T, E>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    let s = String::deserialize(deserializer)?;
    parse(&s).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn timers_take_a_unit() {
        let cases = [
            ("500ms", Ok(ms(500))),
            ("30s", Ok(ms(30_000))),
            ("2m", Ok(ms(120_000))),
            ("168h", Ok(MAX_TIMER)),
            ("169h", Err(TimerError::TooLong)),
            ("99999999999999999999s", Err(TimerError::TooLong)),
            ("18446744073709551615h", Err(TimerError::TooLong)),
            ("0s", Err(TimerError::Zero)),
            ("30", Err(TimerError::Malformed)),
            ("s", Err(TimerError::Malformed)),
            ("", Err(TimerError::Malformed)),
            ("1.5s", Err(TimerError::Malformed)),
            ("-1s", Err(TimerError::Malformed)),
            ("30 s", Err(TimerError::Malformed)),
            ("30S", Err(TimerError::Malformed)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timer(text), expected, "{text:?}");
        }
    }

    #[test]
    fn nothing_set_gives_the_defaults_of_the_cores() {
        let settings = Settings::default();
        assert_eq!(settings.listen(), DEFAULT_LISTEN);
        assert_eq!(settings.config().expect("consistent defaults"), Config::default());
    }

    #[test]
    fn the_file_fills_what_flags_leave_out() {
        let file: Settings = toml::from_str(
            r#"
            listen = "127.0.0.1:9400"
            host-name = "voix.example"
            max-clients = 50
            ping-interval = "90s"
            ring-timeout = "10s"
            max-voice-queue = 64
            "#,
        )
        .expect("a valid file");
        let flags = Settings {
            max_clients: NonZeroUsize::new(7),
            ping_interval: Some(ms(500)),
            ..Settings::default()
        };
        let merged = flags.or(file);
        assert_eq!(merged.listen(), "127.0.0.1:9400".parse::<SocketAddr>().expect("an address"));
        let config = merged.config().expect("consistent settings");
        assert_eq!(config.server.host_name.as_str(), "voix.example");
        assert_eq!(config.server.max_clients, 7, "the flag wins");
        assert_eq!(config.server.ping_interval, ms(500), "the flag wins");
        assert_eq!(config.server.ring_timeout, ms(10_000));
        assert_eq!(config.server.ping_timeout, ServerConfig::DEFAULT_PING_TIMEOUT);
        assert_eq!(config.relay().max_queued, 64);
        assert_eq!(config.relay().max_sessions, config.server.max_voice_sessions);
    }

    #[test]
    fn the_file_refuses_what_flags_refuse() {
        let cases = [
            ("max-clinets = 5", "unknown field"),
            ("max-clients = 0", "nonzero"),
            ("max-clients = -1", "invalid value"),
            ("ping-timeout = 30", "invalid type"),
            ("ping-timeout = \"0s\"", "longer than zero"),
            ("host-name = \"\"", "empty"),
            ("host-name = \"a\\nb\"", "'\\n'"),
            ("listen = \"nowhere\"", "invalid socket address"),
        ];
        for (text, message) in cases {
            let error = toml::from_str::<Settings>(text).expect_err(text).to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn an_output_queue_too_small_for_a_full_room_is_refused() {
        let settings = Settings {
            max_clients: NonZeroUsize::new(10_000),
            max_output_queue_bytes: NonZeroUsize::new(262_144),
            ..Settings::default()
        };
        let error = settings.config().expect_err("a full room's USERLIST does not fit");
        let needed = ServerConfig::default().max_reply_bytes();
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("262144") && cause.contains(&needed.to_string()), "{cause}");
        // Fewer clients need less.
        let fewer = Settings { max_clients: NonZeroUsize::new(5_000), ..settings.clone() };
        assert!(fewer.config().is_ok());
        // Unset, the limit grows with max-clients.
        let more = Settings {
            max_clients: NonZeroUsize::new(40_000),
            max_output_queue_bytes: None,
            ..settings
        };
        let config = more.config().expect("the default limit grows to fit");
        assert_eq!(config.server.max_output_queue_bytes, config.server.max_reply_bytes());
        assert!(config.server.max_reply_bytes() > ServerConfig::DEFAULT_MAX_OUTPUT_QUEUE_BYTES);
    }
}
