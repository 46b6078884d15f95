//! `voice`: calls and rooms whose members all speak, 20 ms packets at 50
//! per second each, through voix-server's relay and, with `--baseline`,
//! through a bare forwarder in the same run.
//!
//! - `groups`: who speaks with whom;
//! - `setup`: credentials from the real server (TALK and JOIN);
//! - `ledger`: send times, and the clear header fields of a packet;
//! - `worker`: the threads that speak and listen;
//! - `forwarder`: the bare forwarder of the baseline.

mod forwarder;
mod groups;
mod ledger;
mod setup;
mod worker;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use tokio::sync::watch;
use voix_proto::voice::{MAX_OPUS_LEN, SessionId, VoiceEndpoint, VoiceKey};

use super::clock::{Clock, nanos};
use super::histogram::Histogram;
use super::progress::Progress;
use super::report::{self, Column, Metric};
use super::{LoadError, Target, VoiceArgs, procfs};
use forwarder::{Forwarder, Routes};
use groups::Groups;
use ledger::SendLedger;
use worker::{Mode, Plan, WorkerResult};

/// Time between the first keepalives and the first voice packet, for the
/// relay to learn every member's address.
const LEARN_TIME: Duration = Duration::from_millis(500);

/// What `voice` found, for the table.
#[derive(Debug)]
pub struct VoiceResults {
    /// The table's title.
    pub title: String,
    /// voix-server, then the bare forwarder if asked for.
    pub columns: Vec<Column>,
    /// The CPU ratio, when both ran.
    pub notes: Vec<String>,
}

/// What one relay did with the load.
#[derive(Debug, Default)]
struct Measurement {
    sent: u64,
    expected: u64,
    received: u64,
    in_window: u64,
    latency: Histogram,
    rejected: u64,
    unmeasured: u64,
    /// The relay's CPU time while the members spoke.
    cpu: Option<Duration>,
    relay_drops: u64,
    tool_drops: u64,
    speaking: Duration,
}

impl Measurement {
    fn cpu_per_packet(&self) -> Option<Duration> {
        let cpu = self.cpu?;
        (self.in_window > 0).then(|| cpu / u32::try_from(self.in_window).unwrap_or(u32::MAX))
    }

    fn metrics(&self) -> Vec<Metric> {
        let lost = self.expected.saturating_sub(self.received);
        let lost_share =
            if self.expected == 0 { 0.0 } else { 100.0 * lost as f64 / self.expected as f64 };
        let mut metrics = vec![
            Metric::new("packets sent per second", report::rate(self.sent, self.speaking)),
            Metric::new("packets relayed per second", report::rate(self.in_window, self.speaking)),
            Metric::new("deliveries expected", report::count(self.expected)),
            Metric::new("deliveries lost", format!("{} ({lost_share:.3} %)", report::count(lost))),
            Metric::new("relay latency p50 (ms)", report::millis(self.latency.quantile(0.50))),
            Metric::new("relay latency p99 (ms)", report::millis(self.latency.quantile(0.99))),
            Metric::new("relay latency max (ms)", report::millis(self.latency.max())),
            Metric::new("dropped by the relay's socket buffer", report::count(self.relay_drops)),
            Metric::new("dropped by the tool's socket buffers", report::count(self.tool_drops)),
            Metric::new("rejected by receivers", report::count(self.rejected)),
        ];
        if self.unmeasured > 0 {
            metrics
                .push(Metric::new("deliveries too late to time", report::count(self.unmeasured)));
        }
        if let Some(cpu) = self.cpu {
            let cores = cpu.as_secs_f64() / self.speaking.as_secs_f64();
            metrics.push(Metric::new("relay CPU (cores)", format!("{cores:.2}")));
        }
        if let Some(per_packet) = self.cpu_per_packet() {
            metrics.push(Metric::new(
                "relay CPU per relayed packet (µs)",
                format!("{:.2}", per_packet.as_secs_f64() * 1e6),
            ));
        }
        metrics
    }
}

/// Runs `voice` against voix-server at `target` (and the baseline).
pub async fn run(target: &Target, args: &VoiceArgs) -> Result<VoiceResults, LoadError> {
    let groups = Groups { calls: args.calls, rooms: args.rooms, room_size: args.room_size };
    if groups.members() < 2
        || args.threads == 0
        || (args.rooms > 0 && args.room_size < 2)
        || args.opus_len > MAX_OPUS_LEN
    {
        return Err(LoadError::Usage(format!(
            "voice needs --calls or --rooms with --room-size of at least 2, a thread, and --opus-len of at most {MAX_OPUS_LEN}"
        )));
    }
    let counters = Arc::new(Counters::default());
    let progress = {
        let (counters, members) = (Arc::clone(&counters), groups.members());
        Progress::start(format!("voice {}", target.label), move || {
            format!(
                "credentials {} / {members}  sent {}  received {}",
                counters.ready.load(Ordering::Relaxed),
                report::count(counters.sent.load(Ordering::Relaxed)),
                report::count(counters.received.load(Ordering::Relaxed)),
            )
        })
    };
    let (stop, stopped) = watch::channel(false);
    let members = setup::members(target, groups, Arc::clone(&counters.ready), stopped).await?;
    let relay = Relay::Server { addr: target.addr, pid: target.pid };
    let voix =
        run_blocking(members.endpoints, groups, args.clone(), relay, Arc::clone(&counters)).await?;
    let _ = stop.send(true);
    let mut connections = members.connections;
    let mut dropped = 0;
    while let Some(refusals) = connections.join_next().await {
        dropped += u64::from(!refusals.map_err(|_| LoadError::Panicked("member task"))?.is_empty());
    }
    let mut voix_metrics = voix.metrics();
    voix_metrics.push(Metric::new("members dropped by the server", dropped));
    let mut columns = vec![Column { server: target.label.clone(), metrics: voix_metrics }];
    let mut notes = Vec::new();

    if args.baseline {
        let endpoints = (1..=groups.members())
            .map(|id| {
                let session = u32::try_from(id)
                    .ok()
                    .and_then(SessionId::new)
                    .ok_or_else(|| LoadError::Usage("too many members".to_owned()))?;
                // Any key will do: the forwarder never opens a packet.
                Ok(VoiceEndpoint::new(session, VoiceKey::from_bytes([0x42; VoiceKey::LEN])))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        let relay = Relay::Bare { family: target.addr };
        let bare =
            run_blocking(endpoints, groups, args.clone(), relay, Arc::clone(&counters)).await?;
        columns.push(Column { server: "bare forwarder".to_owned(), metrics: bare.metrics() });
        if let (Some(voix), Some(bare)) = (voix.cpu_per_packet(), bare.cpu_per_packet()) {
            notes.push(format!(
                "CPU per relayed packet, voix-server / bare forwarder: {:.2} (target: at most 1.5)",
                voix.as_secs_f64() / bare.as_secs_f64()
            ));
        }
    }
    progress.finish();
    let title = format!(
        "voice: {} calls, {} rooms of {}, {} members speaking 50 packets/s ({} bytes of Opus), {} s",
        args.calls,
        args.rooms,
        args.room_size,
        groups.members(),
        args.opus_len,
        args.duration.as_secs_f64()
    );
    Ok(VoiceResults { title, columns, notes })
}

/// Counters for the progress line, across both relays.
#[derive(Debug, Default)]
struct Counters {
    ready: Arc<AtomicU64>,
    sent: AtomicU64,
    received: AtomicU64,
}

/// The relay under test.
#[derive(Debug, Clone, Copy)]
enum Relay {
    /// voix-server at `addr`, process `pid` if known.
    Server { addr: SocketAddr, pid: Option<u32> },
    /// A bare forwarder on the loopback address of `family`'s family.
    Bare { family: SocketAddr },
}

/// [`measure`] on a thread of its own, so that the members' signalling
/// connections keep being served while it runs.
async fn run_blocking(
    endpoints: Vec<VoiceEndpoint>,
    groups: Groups,
    args: VoiceArgs,
    relay: Relay,
    counters: Arc<Counters>,
) -> Result<Measurement, LoadError> {
    tokio::task::spawn_blocking(move || measure(endpoints, groups, &args, relay, &counters))
        .await
        .map_err(|_| LoadError::Panicked("voice run"))?
}

impl Relay {
    /// Where the relay's clients send, or the family of the forwarder's.
    fn addr(self) -> SocketAddr {
        match self {
            Self::Server { addr, .. } => addr,
            Self::Bare { family } => family,
        }
    }
}

/// Speaks through `relay` for the run's duration and measures it.
fn measure(
    endpoints: Vec<VoiceEndpoint>,
    groups: Groups,
    args: &VoiceArgs,
    relay: Relay,
    counters: &Counters,
) -> Result<Measurement, LoadError> {
    let sockets =
        (0..args.threads).map(|_| worker::bind(relay.addr())).collect::<Result<Vec<_>, _>>()?;
    let socket_addrs = sockets
        .iter()
        .map(|s| s.local_addr().map_err(LoadError::io("reading a voice socket's address")))
        .collect::<Result<Vec<_>, _>>()?;
    let worker_of = |member: usize| member % args.threads;
    let forwarder = match relay {
        Relay::Server { .. } => None,
        Relay::Bare { family } => {
            let receiver_addr = |member: usize| socket_addrs[worker_of(member)];
            let routes = routes(&groups, &endpoints, receiver_addr);
            Some(Forwarder::spawn(worker::loopback_like(family), routes)?)
        }
    };
    let (mode, target) = match &forwarder {
        Some(forwarder) => (Mode::Forward, forwarder.addr()),
        None => (Mode::Relay, relay.addr()),
    };
    let cpu = || -> Result<Option<Duration>, LoadError> {
        match (&forwarder, relay) {
            (Some(forwarder), _) => forwarder.cpu().map(Some),
            (None, Relay::Server { pid: Some(pid), .. }) => procfs::process_cpu(pid).map(Some),
            (None, _) => Ok(None),
        }
    };
    let relay_ports = HashSet::from([target.port()]);
    let tool_ports: HashSet<u16> = socket_addrs.iter().map(SocketAddr::port).collect();

    let clock = Clock::start();
    let start_ns = clock.now_ns() + nanos(LEARN_TIME);
    let end_ns = start_ns + nanos(args.duration);
    let plan = Plan {
        clock,
        mode,
        relay: target,
        ledger: SendLedger::new(endpoints.len()),
        speakers: endpoints.iter().enumerate().map(|(m, e)| (e.session().get(), m)).collect(),
        members: endpoints.len(),
        opus_len: args.opus_len,
        start_ns,
        end_ns,
        drain_end_ns: end_ns + nanos(args.drain),
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
    };
    let mut shares: Vec<Vec<(usize, VoiceEndpoint)>> =
        (0..args.threads).map(|_| Vec::new()).collect();
    for (member, endpoint) in endpoints.into_iter().enumerate() {
        shares[worker_of(member)].push((member, endpoint));
    }
    let relay_drops_before = procfs::udp_drops(&relay_ports)?;
    let tool_drops_before = procfs::udp_drops(&tool_ports)?;
    let (results, cpu) = thread::scope(|scope| {
        let plan = &plan;
        let workers: Vec<_> = sockets
            .iter()
            .zip(shares)
            .map(|(socket, share)| scope.spawn(move || worker::run(socket, share, plan)))
            .collect();
        // The relay's CPU over exactly the speaking time, with the
        // progress line kept up to date meanwhile.
        sleep_until(&clock, start_ns, plan, counters);
        let cpu_before = cpu()?;
        sleep_until(&clock, end_ns, plan, counters);
        let cpu_after = cpu()?;
        sleep_until(&clock, plan.drain_end_ns, plan, counters);
        let results = workers
            .into_iter()
            .map(|w| w.join().map_err(|_| LoadError::Panicked("voice worker"))?)
            .collect::<Result<Vec<_>, LoadError>>()?;
        let cpu = cpu_before.zip(cpu_after).map(|(before, after)| after.saturating_sub(before));
        Ok::<_, LoadError>((results, cpu))
    })?;
    // Read before the forwarder's socket closes and leaves the table.
    let relay_drops = procfs::udp_drops(&relay_ports)?.saturating_sub(relay_drops_before);
    let tool_drops = procfs::udp_drops(&tool_ports)?.saturating_sub(tool_drops_before);
    if let Some(forwarder) = forwarder {
        forwarder.stop()?;
    }
    let measurement = Measurement {
        cpu,
        relay_drops,
        tool_drops,
        speaking: Duration::from_nanos(end_ns - start_ns),
        ..Measurement::default()
    };
    Ok(tally(measurement, results, &groups))
}

/// Where the bare forwarder sends each speaker's packets: to the socket
/// of every other member of its group.
fn routes(
    groups: &Groups,
    endpoints: &[VoiceEndpoint],
    receiver_addr: impl Fn(usize) -> SocketAddr,
) -> Routes {
    let mut routes = Routes::new();
    for group in groups.listing() {
        for &speaker in &group {
            let to = group.iter().filter(|&&m| m != speaker).map(|&m| receiver_addr(m)).collect();
            routes.insert(endpoints[speaker].session().get(), to);
        }
    }
    routes
}

/// Adds up what the workers saw; a packet sent in a group of n is
/// expected n - 1 times.
fn tally(mut measurement: Measurement, results: Vec<WorkerResult>, groups: &Groups) -> Measurement {
    for result in results {
        for (member, sent) in result.sent {
            measurement.sent += sent;
            measurement.expected += sent * (groups.size(groups.group(member)) as u64 - 1);
        }
        measurement.received += result.received;
        measurement.in_window += result.in_window;
        measurement.rejected += result.rejected;
        measurement.unmeasured += result.unmeasured;
        measurement.latency.merge(&result.latency);
    }
    measurement
}

/// Sleeps until `ns` on `clock`, copying the workers' counts to the
/// progress counters every so often.
fn sleep_until(clock: &Clock, ns: u64, plan: &Plan, counters: &Counters) {
    let (sent_base, received_base) =
        (counters.sent.load(Ordering::Relaxed), counters.received.load(Ordering::Relaxed));
    loop {
        let now = clock.now_ns();
        counters.sent.store(sent_base + plan.sent.load(Ordering::Relaxed), Ordering::Relaxed);
        counters
            .received
            .store(received_base + plan.received.load(Ordering::Relaxed), Ordering::Relaxed);
        if now >= ns {
            return;
        }
        thread::sleep(Duration::from_nanos(ns - now).min(Duration::from_millis(100)));
    }
}
