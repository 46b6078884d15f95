//! `fanout`: R receivers and S senders in one room. Senders stamp each
//! message with the time it was sent; receivers measure how long it took
//! and count what arrived.
//!
//! A sender sends at a fixed rate, or, with no rate, as fast as the
//! server delivers: it keeps at most a window of messages in flight (sent
//! but not yet counted by every receiver), so the server's queues stay
//! short and what is measured is its delivery rate, not how deep its
//! buffers are.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::chat::{self, Client};
use super::clock::{Clock, nanos};
use super::dialect::Incoming;
use super::histogram::Histogram;
use super::progress::Progress;
use super::report::{self, Metric};
use super::{FanoutArgs, LoadError, Target};

/// Clients joining at once while the room fills.
const JOIN_CONCURRENCY: usize = 50;

/// Quiet time after the room is full, for its join notices to drain.
const SETTLE: Duration = Duration::from_millis(500);

/// Most messages a sender writes at once.
const MAX_BATCH: u64 = 256;

/// The shortest text that holds a stamp: sender index, nanoseconds and
/// separators with room to spare.
const MIN_TEXT_LEN: usize = 24;

/// Tick of a fixed-rate sender.
const RATE_TICK: Duration = Duration::from_millis(1);

/// What senders and receivers share.
#[derive(Debug)]
struct Shared {
    clock: Clock,
    receivers: u64,
    /// Deliveries of each sender's messages, all receivers together.
    delivered: Vec<AtomicU64>,
    /// Wakes a sender waiting for room in its window.
    room: Vec<Notify>,
    /// Messages sent, all senders together (for the progress line).
    sent: AtomicU64,
    /// Deliveries counted in the rate fall in `[measure_from, measure_to)`
    /// on the run's clock (set when sending starts).
    measure_from: AtomicU64,
    measure_to: AtomicU64,
}

impl Shared {
    fn delivered(&self) -> u64 {
        self.delivered.iter().map(|d| d.load(Ordering::Relaxed)).sum()
    }
}

/// What one receiver saw.
#[derive(Debug, Default)]
struct Received {
    latency: Histogram,
    delivered: u64,
    in_window: u64,
    malformed: u64,
    refusals: Vec<String>,
}

impl Received {
    /// Adds what another receiver saw.
    fn absorb(&mut self, other: Self) {
        self.latency.merge(&other.latency);
        self.delivered += other.delivered;
        self.in_window += other.in_window;
        self.malformed += other.malformed;
        self.refusals.extend(other.refusals);
    }
}

/// Runs `fanout` against `target`.
pub async fn run(target: &Target, args: &FanoutArgs) -> Result<Vec<Metric>, LoadError> {
    if args.receivers == 0
        || args.senders == 0
        || args.text_len < MIN_TEXT_LEN
        || args.warmup >= args.duration
    {
        return Err(LoadError::Usage(format!(
            "fanout needs receivers and senders, --text-len of at least {MIN_TEXT_LEN}, and --warmup shorter than --duration"
        )));
    }
    let shared = Arc::new(Shared {
        clock: Clock::start(),
        receivers: args.receivers as u64,
        delivered: (0..args.senders).map(|_| AtomicU64::new(0)).collect(),
        room: (0..args.senders).map(|_| Notify::new()).collect(),
        sent: AtomicU64::new(0),
        measure_from: AtomicU64::new(u64::MAX),
        measure_to: AtomicU64::new(u64::MAX),
    });
    let progress = {
        let shared = Arc::clone(&shared);
        Progress::start(format!("fanout {}", target.label), move || {
            format!(
                "sent {}  delivered {}",
                report::count(shared.sent.load(Ordering::Relaxed)),
                report::count(shared.delivered())
            )
        })
    };
    let run_tag = chat::run_tag();
    let (addr, dialect) = (target.addr, target.dialect);
    let receivers = chat::join_many(addr, dialect, args.receivers, JOIN_CONCURRENCY, |i| {
        chat::nick('r', run_tag, i)
    })
    .await?;
    let senders = chat::join_many(addr, dialect, args.senders, JOIN_CONCURRENCY, |i| {
        chat::nick('s', run_tag, i)
    })
    .await?;
    tokio::time::sleep(SETTLE).await;

    let (stop, stopped) = watch::channel(false);
    let mut receiving = JoinSet::new();
    for client in receivers {
        receiving.spawn(receive(client, Arc::clone(&shared), args.senders, stopped.clone()));
    }
    let clock = shared.clock;
    let start_ns = clock.now_ns() + nanos(Duration::from_millis(100));
    let end_ns = start_ns + nanos(args.duration);
    let measure_from = start_ns + nanos(args.warmup);
    shared.measure_from.store(measure_from, Ordering::Relaxed);
    shared.measure_to.store(end_ns, Ordering::Relaxed);
    let mut sending = JoinSet::new();
    for (index, client) in senders.into_iter().enumerate() {
        let pace = Pace {
            rate: args.rate,
            window: args.window,
            text_len: args.text_len,
            start_ns,
            end_ns,
        };
        sending.spawn(send(client, index, Arc::clone(&shared), pace));
    }

    tokio::time::sleep_until(clock.instant_at(measure_from).into()).await;
    let cpu_before = target.cpu()?;
    tokio::time::sleep_until(clock.instant_at(end_ns).into()).await;
    let cpu_after = target.cpu()?;
    let mut sent = 0;
    let mut sender_failures = Vec::new();
    while let Some(result) = sending.join_next().await {
        match result.map_err(|_| LoadError::Panicked("sender task"))? {
            Ok(n) => sent += n,
            Err(error) => sender_failures.push(error.to_string()),
        }
    }
    let expected = sent * shared.receivers;
    let drain_until = Instant::now() + args.drain;
    while shared.delivered() < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    let mut received = Received::default();
    while let Some(result) = receiving.join_next().await {
        received.absorb(result.map_err(|_| LoadError::Panicked("receiver task"))?);
    }
    progress.finish();
    for failure in sender_failures.iter().chain(&received.refusals).take(3) {
        eprintln!("fanout {}: {failure}", target.label);
    }
    let outcome = Outcome {
        sent,
        expected,
        received,
        sender_failures: sender_failures.len(),
        sending: Duration::from_nanos(end_ns - start_ns),
        measured: Duration::from_nanos(end_ns - measure_from),
        cpu: cpu_before.zip(cpu_after).map(|(before, after)| after.saturating_sub(before)),
    };
    Ok(outcome.metrics())
}

/// Everything a fan-out run counted.
#[derive(Debug)]
struct Outcome {
    sent: u64,
    expected: u64,
    received: Received,
    sender_failures: usize,
    /// From the first send to the last.
    sending: Duration,
    /// The part of `sending` the delivery rate and CPU are measured over.
    measured: Duration,
    /// The server's CPU time over `measured`, when its pid is known.
    cpu: Option<Duration>,
}

impl Outcome {
    fn metrics(&self) -> Vec<Metric> {
        let received = &self.received;
        let lost = self.expected.saturating_sub(received.delivered);
        let mut metrics = vec![
            Metric::new("messages sent", report::count(self.sent)),
            Metric::new("sent per second", report::rate(self.sent, self.sending)),
            Metric::new("delivered per second", report::rate(received.in_window, self.measured)),
            Metric::new("deliveries expected", report::count(self.expected)),
            Metric::new("deliveries lost", report::count(lost)),
            Metric::new("latency p50 (ms)", report::millis(received.latency.quantile(0.50))),
            Metric::new("latency p99 (ms)", report::millis(received.latency.quantile(0.99))),
            Metric::new("latency max (ms)", report::millis(received.latency.max())),
            Metric::new("errors and disconnects", self.sender_failures + received.refusals.len()),
        ];
        if received.malformed > 0 {
            metrics.push(Metric::new("malformed messages", received.malformed));
        }
        if let Some(cpu) = self.cpu {
            let cores = cpu.as_secs_f64() / self.measured.as_secs_f64();
            metrics.push(Metric::new("server CPU (cores)", format!("{cores:.2}")));
        }
        metrics
    }
}

/// Reads room messages until `stop`, measuring each one's latency.
async fn receive(
    mut client: Client,
    shared: Arc<Shared>,
    senders: usize,
    mut stop: watch::Receiver<bool>,
) -> Received {
    let mut received = Received::default();
    let mut counts = vec![0u64; senders];
    let mut out = BytesMut::new();
    let dialect = client.dialect;
    loop {
        // Every line of one read arrived together: one clock reading.
        let now = shared.clock.now_ns();
        let in_window = (shared.measure_from.load(Ordering::Relaxed)
            ..shared.measure_to.load(Ordering::Relaxed))
            .contains(&now);
        while let Some(line) = client.lines.next_line() {
            match dialect.classify(line) {
                Incoming::Chat(text) => match parse_stamp(text) {
                    Some((sender, stamp)) if sender < senders => {
                        received.latency.record(now.saturating_sub(stamp));
                        counts[sender] += 1;
                        received.in_window += u64::from(in_window);
                    }
                    _ => received.malformed += 1,
                },
                Incoming::Ping(token) => dialect.pong(token, &mut out),
                Incoming::Refused(line) => {
                    received.refusals.push(String::from_utf8_lossy(line).into_owned())
                }
                Incoming::Joined | Incoming::Other => {}
            }
        }
        for (sender, count) in counts.iter_mut().enumerate().filter(|(_, n)| **n > 0) {
            shared.delivered[sender].fetch_add(*count, Ordering::Relaxed);
            shared.room[sender].notify_one();
            received.delivered += *count;
            *count = 0;
        }
        if !out.is_empty() {
            if let Err(error) = client.send(&out).await {
                received.refusals.push(error.to_string());
                return received;
            }
            out.clear();
        }
        tokio::select! {
            // The run is over.
            _ = stop.wait_for(|stop| *stop) => return received,
            // More lines, or the end of the connection.
            read = client.lines.fill() => if !matches!(read, Ok(true)) {
                received.refusals.push(format!("{}: connection closed by the server", client.nick));
                return received;
            },
        }
    }
}

/// How a sender paces itself.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Messages per second; 0 for as fast as the window allows.
    rate: u64,
    window: u64,
    text_len: usize,
    start_ns: u64,
    end_ns: u64,
}

/// Sends stamped messages from `start_ns` to `end_ns`; returns how many.
async fn send(
    client: Client,
    index: usize,
    shared: Arc<Shared>,
    pace: Pace,
) -> Result<u64, LoadError> {
    let Client { nick, mut lines, mut writer, dialect } = client;
    let clock = shared.clock;
    let end = Instant::from_std(clock.instant_at(pace.end_ns));
    let window = pace.window.max(1) * shared.receivers;
    let mut ticker =
        tokio::time::interval_at(Instant::from_std(clock.instant_at(pace.start_ns)), RATE_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::time::sleep_until(Instant::from_std(clock.instant_at(pace.start_ns))).await;
    let closed = || LoadError::Client {
        nick: nick.clone(),
        reason: "connection closed by the server".to_owned(),
    };
    let mut sent = 0u64;
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut text = String::with_capacity(pace.text_len);
    loop {
        // Wait until something may be sent, answering keepalives meanwhile.
        let batch = if pace.rate == 0 {
            let in_flight = (sent * shared.receivers)
                .saturating_sub(shared.delivered[index].load(Ordering::Relaxed));
            let room = window.saturating_sub(in_flight) / shared.receivers;
            if room == 0 {
                tokio::select! {
                    biased;
                    // Time is up.
                    _ = tokio::time::sleep_until(end) => break,
                    // Keepalives and room notices to read.
                    read = lines.fill() => if !matches!(read, Ok(true)) { return Err(closed()) },
                    // A receiver counted some of this sender's messages.
                    _ = shared.room[index].notified() => {}
                }
                None
            } else {
                Some(room.min(MAX_BATCH))
            }
        } else {
            tokio::select! {
                biased;
                // Time is up.
                _ = tokio::time::sleep_until(end) => break,
                // Keepalives and room notices to read.
                read = lines.fill() => if !matches!(read, Ok(true)) { return Err(closed()) },
                // The next tick of the rate.
                _ = ticker.tick() => {}
            }
            let due = u128::from(pace.rate)
                * u128::from(clock.now_ns().saturating_sub(pace.start_ns))
                / 1_000_000_000;
            let due = u64::try_from(due).unwrap_or(u64::MAX).saturating_sub(sent);
            (due > 0).then(|| due.min(MAX_BATCH * 4))
        };
        while let Some(line) = lines.next_line() {
            if let Incoming::Ping(token) = dialect.classify(line) {
                dialect.pong(token, &mut out);
            }
        }
        let now = clock.now_ns();
        if now >= pace.end_ns {
            break;
        }
        for _ in 0..batch.unwrap_or(0) {
            text.clear();
            // Writing to a String cannot fail.
            let _ = write!(text, "{index} {now} ");
            while text.len() < pace.text_len {
                text.push('x');
            }
            dialect.say(&text, &mut out)?;
            sent += 1;
        }
        shared.sent.fetch_add(batch.unwrap_or(0), Ordering::Relaxed);
        if !out.is_empty() {
            writer
                .write_all(&out)
                .await
                .map_err(|e| LoadError::Client { nick: nick.clone(), reason: e.to_string() })?;
            out.clear();
        }
    }
    Ok(sent)
}

/// The sender index and stamp at the start of a message's text.
fn parse_stamp(text: &[u8]) -> Option<(usize, u64)> {
    let mut fields = text.split(|&b| b == b' ');
    let sender = parse_u64(fields.next()?)?;
    let stamp = parse_u64(fields.next()?)?;
    Some((usize::try_from(sender).ok()?, stamp))
}

/// A decimal number of ASCII digits.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stamps() {
        assert_eq!(parse_stamp(b"3 123456 xxxx"), Some((3, 123_456)));
        assert_eq!(parse_stamp(b"3 12a xxxx"), None);
        assert_eq!(parse_stamp(b"3"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
    }
}
