//! `connect`: N clients register and join one room, as many at a time as
//! the concurrency allows; then they stay, reading, while the server's
//! memory is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::chat::{self, Client, JOIN_TIMEOUT};
use super::clock::Clock;
use super::histogram::Histogram;
use super::progress::Progress;
use super::report::{self, Metric};
use super::{ConnectArgs, LoadError, Target};

/// The longest the whole scenario may take beyond its clients' own
/// bounds (the last of them may start late).
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// How one client's join went.
#[derive(Debug)]
enum Joined {
    /// Joined `latency_ns` after it started, at `done_ns` on the run's
    /// clock.
    Ok { latency_ns: u64, done_ns: u64 },
    /// Failed, and why.
    Failed(String),
}

/// One client of the scenario and what it reports to.
#[derive(Debug)]
struct OneClient {
    target: Target,
    nick: String,
    clock: Clock,
    /// Limits how many clients connect at once.
    gate: Arc<Semaphore>,
    /// Clients joined so far, for the progress line.
    joined: Arc<AtomicU64>,
    report: mpsc::UnboundedSender<Joined>,
}

impl OneClient {
    /// Joins when the gate lets it, reports how that went, then stays
    /// connected and reading until `stop`; returns the refusals it saw.
    async fn run(self, stop: watch::Receiver<bool>) -> Vec<String> {
        let Ok(permit) = self.gate.acquire_owned().await else {
            return Vec::new(); // The gate is never closed.
        };
        let (addr, dialect) = (self.target.addr, self.target.dialect);
        let started = self.clock.now_ns();
        let join = Client::join(addr, dialect, self.nick.clone());
        let result = tokio::time::timeout(JOIN_TIMEOUT, join).await;
        let done_ns = self.clock.now_ns();
        drop(permit);
        // The receiver outlives every client task; a failed send only
        // means the run is over.
        let client = match result {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => {
                let _ = self.report.send(Joined::Failed(error.to_string()));
                return Vec::new();
            }
            Err(_) => {
                let reason = format!("{}: no join in {JOIN_TIMEOUT:?}", self.nick);
                let _ = self.report.send(Joined::Failed(reason));
                return Vec::new();
            }
        };
        self.joined.fetch_add(1, Ordering::Relaxed);
        let _ = self.report.send(Joined::Ok { latency_ns: done_ns - started, done_ns });
        client.idle(stop).await
    }
}

/// Runs `connect` against `target`.
pub async fn run(target: &Target, args: &ConnectArgs) -> Result<Vec<Metric>, LoadError> {
    if args.clients == 0 || args.concurrency == 0 {
        return Err(LoadError::Usage(
            "connect needs at least one client and a concurrency of one".to_owned(),
        ));
    }
    let rss_before = target.rss()?;
    let cpu_before = target.cpu()?;
    let clock = Clock::start();
    let joined = Arc::new(AtomicU64::new(0));
    let progress = {
        let (joined, clients) = (Arc::clone(&joined), args.clients);
        Progress::start(format!("connect {}", target.label), move || {
            format!("{} / {clients} joined", joined.load(Ordering::Relaxed))
        })
    };
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let (report_join, mut joins) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let run_tag = chat::run_tag();
    let mut clients = JoinSet::new();
    for index in 0..args.clients {
        let client = OneClient {
            target: target.clone(),
            nick: chat::nick('c', run_tag, index),
            clock,
            gate: Arc::clone(&gate),
            joined: Arc::clone(&joined),
            report: report_join.clone(),
        };
        clients.spawn(client.run(stopped.clone()));
    }
    drop(report_join);

    let mut latency = Histogram::new();
    let mut last_done = 0;
    let mut failures = Vec::new();
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    for _ in 0..args.clients {
        match tokio::time::timeout_at(deadline, joins.recv()).await {
            Ok(Some(Joined::Ok { latency_ns, done_ns })) => {
                latency.record(latency_ns);
                last_done = last_done.max(done_ns);
            }
            Ok(Some(Joined::Failed(reason))) => failures.push(reason),
            Ok(None) => break,
            Err(_) => {
                return Err(LoadError::Timeout {
                    step: "joining clients",
                    seconds: RUN_TIMEOUT.as_secs(),
                });
            }
        }
    }
    let cpu_joining = target.cpu()?;
    // Hold everyone while the server's output settles, then measure it.
    tokio::time::sleep(args.settle).await;
    let rss_after = target.rss()?;
    let _ = stop.send(true);
    let mut dropped = 0;
    while let Some(refusals) = clients.join_next().await {
        let refusals = refusals.map_err(|_| LoadError::Panicked("client task"))?;
        dropped += u64::from(!refusals.is_empty());
    }
    progress.finish();
    if let Some(reason) = failures.first() {
        eprintln!(
            "connect {}: {} clients failed; the first: {reason}",
            target.label,
            failures.len()
        );
    }

    let total = Duration::from_nanos(last_done);
    let mut metrics = vec![
        Metric::new("clients joined", report::count(latency.count())),
        Metric::new("clients failed", failures.len()),
        Metric::new("clients dropped while held", dropped),
        Metric::new("time to join all (ms)", report::millis(Some(total))),
        Metric::new("joins per second", report::rate(latency.count(), total)),
        Metric::new("join latency p50 (ms)", report::millis(latency.quantile(0.50))),
        Metric::new("join latency p99 (ms)", report::millis(latency.quantile(0.99))),
        Metric::new("join latency max (ms)", report::millis(latency.max())),
    ];
    if let (Some(before), Some(after)) = (cpu_before, cpu_joining) {
        let busy = after.saturating_sub(before).as_secs_f64() / total.as_secs_f64().max(1e-9);
        metrics.push(Metric::new("server CPU while joining (cores)", format!("{busy:.2}")));
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        metrics.push(Metric::new("server RSS before (MiB)", report::mib(before)));
        metrics.push(Metric::new("server RSS with clients (MiB)", report::mib(after)));
        let per_client = after.saturating_sub(before) / latency.count().max(1);
        metrics.push(Metric::new(
            "server RSS per client (KiB)",
            format!("{:.1}", per_client as f64 / 1024.0),
        ));
    }
    Ok(metrics)
}
