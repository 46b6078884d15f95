//! The command line of `voix-load`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::dialect::Dialect;
use super::report::Format;

/// Load scenarios for a Voix server, measured side by side with an IRC
/// server (ngircd) on the same machine. Every scenario targets loopback
/// addresses only, and every run is bounded in clients and time.
#[derive(Debug, clap::Parser)]
#[command(name = "voix-load", version)]
pub struct Cli {
    /// The servers to measure.
    #[command(flatten)]
    pub servers: ServerArgs,

    /// How to print the results table.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// What to measure.
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// Where the servers are, or how to start them.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Servers to measure in turn, side by side (connect and fanout; voice
    /// always measures voix)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "voix")]
    pub target: Vec<Dialect>,

    /// Address of a running voix-server (TCP and UDP)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9300")]
    pub voix: SocketAddr,

    /// Start voix-server from this binary on 127.0.0.1 (port chosen by the
    /// OS) with limits lifted for load; it is stopped at the end
    #[arg(long, value_name = "PATH")]
    pub spawn_server: Option<PathBuf>,

    /// Process id of the running voix-server at --voix, to report its
    /// memory and CPU time
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,

    /// Address of the IRC server
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6667")]
    pub irc: SocketAddr,

    /// Start ngircd in the foreground with this config file, which must
    /// listen on --irc (see benches/ngircd/ngircd.conf)
    #[arg(long, value_name = "CONF")]
    pub spawn_ngircd: Option<PathBuf>,

    /// The ngircd binary for --spawn-ngircd
    #[arg(long, value_name = "PATH", default_value = "/usr/sbin/ngircd")]
    pub ngircd_binary: PathBuf,

    /// Process id of the running IRC server at --irc
    #[arg(long, value_name = "PID")]
    pub irc_pid: Option<u32>,

    /// Pin the servers this tool starts to these CPUs (`taskset -c LIST`)
    #[arg(long, value_name = "LIST")]
    pub server_cpus: Option<String>,
}

/// The scenarios.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Scenario {
    /// Register N clients and join them to one room: time, rate, join
    /// latency, server memory
    Connect(ConnectArgs),
    /// R receivers and S senders in one room: delivered messages per
    /// second, sender-to-receiver latency, loss
    Fanout(FanoutArgs),
    /// Calls and rooms sending 20 ms voice packets at 50 per second each:
    /// relayed packets per second, relay latency, loss, server CPU per
    /// packet (voix only)
    Voice(VoiceArgs),
}

/// Options of `connect`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Clients to register and join
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub clients: usize,

    /// Clients connecting at once (the rest wait for a slot)
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub concurrency: usize,

    /// Seconds to hold the clients after the last join, reading what the
    /// server sends, before its memory is measured
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    pub settle: Duration,
}

/// Options of `fanout`.
#[derive(Debug, Clone, clap::Args)]
pub struct FanoutArgs {
    /// Receivers in the room
    #[arg(long, value_name = "R", default_value_t = 100)]
    pub receivers: usize,

    /// Senders in the room
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub senders: usize,

    /// Messages per second per sender; 0 sends as fast as the server
    /// delivers (each sender keeps at most --window messages in flight)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rate: u64,

    /// Messages a sender may have sent and not yet delivered to every
    /// receiver, when --rate is 0
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub window: u64,

    /// Seconds of sending
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
    pub duration: Duration,

    /// Seconds at the start of sending left out of the delivery rate
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    pub warmup: Duration,

    /// Bytes of text per message (at least 24, for the stamp)
    #[arg(long, value_name = "BYTES", default_value_t = 32)]
    pub text_len: usize,

    /// Seconds to wait after sending for the last deliveries
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
    pub drain: Duration,
}

/// Options of `voice`.
#[derive(Debug, Clone, clap::Args)]
pub struct VoiceArgs {
    /// One-to-one calls, both sides speaking
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub calls: usize,

    /// Rooms whose members all speak
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rooms: usize,

    /// Members per room
    #[arg(long, value_name = "M", default_value_t = 60)]
    pub room_size: usize,

    /// Seconds of speaking
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub duration: Duration,

    /// Opus bytes per 20 ms packet (about 120 at 48 kbit/s)
    #[arg(long, value_name = "BYTES", default_value_t = 120)]
    pub opus_len: usize,

    /// Threads sending and receiving voice in the tool
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub threads: usize,

    /// Also run the same load through a bare one-thread UDP forwarder
    /// (recv_from and send_to, no crypto) and compare CPU per packet
    #[arg(long)]
    pub baseline: bool,

    /// Seconds to wait after speaking for the last packets
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    pub drain: Duration,
}

/// Parses a number of seconds, fractions allowed.
fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is not a duration"))
}
