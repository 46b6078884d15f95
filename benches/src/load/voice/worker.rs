//! A voice worker thread: speaks for its share of the members, one 20 ms
//! packet per member every 20 ms, and receives what the relay sends them,
//! on one UDP socket.
//!
//! Members share their worker's socket: the relay tells receivers apart
//! by the session in each packet, not by address, so this costs the
//! server exactly what one socket per member would, and the tool far
//! fewer sockets and system calls.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use voix_proto::voice::{MAX_DATAGRAM_LEN, PacketKind, VoiceEndpoint};

use super::super::LoadError;
use super::super::clock::Clock;
use super::super::histogram::Histogram;
use super::ledger::{SendLedger, peek};

/// Time between two packets of one speaker.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);

/// 48 kHz samples in [`PACKET_INTERVAL`]: the step of the voice timestamp.
const SAMPLES_PER_PACKET: u32 = 960;

/// The longest a worker waits for a datagram before it looks at its
/// schedule again: how late a packet may be sent.
const RECEIVE_WAIT: Duration = Duration::from_micros(250);

/// A receiver opens one RELAY in this many (authenticating it and
/// checking its nickname prefix) and reads only the clear header of the
/// others, so that the tool's own CPU, which shares the machine with the
/// relay under test, stays close to what it is in the baseline, where
/// nothing is opened.
const VERIFY_EVERY: u64 = 8;

/// Socket buffers asked for (the kernel caps them at `rmem_max` and
/// `wmem_max`), so that the tool does not drop what the relay sends.
const SOCKET_BUFFER: usize = 8 << 20;

/// What the relay does to a packet, and so what a receiver gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// voix-server: a RELAY re-sealed for the receiver, opened with its
    /// endpoint.
    Relay,
    /// The bare forwarder: the speaker's VOICE, unchanged.
    Forward,
}

/// What every worker of a run shares, read-only but for the counters.
#[derive(Debug)]
pub struct Plan {
    /// The run's clock.
    pub clock: Clock,
    /// What the receivers get.
    pub mode: Mode,
    /// Where packets go.
    pub relay: SocketAddr,
    /// When each packet was sent.
    pub ledger: SendLedger,
    /// The member of each session id.
    pub speakers: HashMap<u32, usize>,
    /// Members in all, to spread their packets over the interval.
    pub members: usize,
    /// Opus bytes per packet.
    pub opus_len: usize,
    /// Speaking starts, on the run's clock.
    pub start_ns: u64,
    /// Speaking ends.
    pub end_ns: u64,
    /// Receiving ends.
    pub drain_end_ns: u64,
    /// Packets sent so far, all workers (for the progress line).
    pub sent: AtomicU64,
    /// Packets received so far, all workers.
    pub received: AtomicU64,
}

/// What one worker did.
#[derive(Debug, Default)]
pub struct WorkerResult {
    /// Packets each of its members sent, by member.
    pub sent: Vec<(usize, u64)>,
    /// Packets received and accepted.
    pub received: u64,
    /// Of those, received before speaking ended.
    pub in_window: u64,
    /// Send-to-receive times.
    pub latency: Histogram,
    /// Datagrams that did not open or were not addressed to a member.
    pub rejected: u64,
    /// Packets received too late for their send time to be known.
    pub unmeasured: u64,
}

/// A UDP socket on the loopback address of `relay`'s family, with large
/// buffers.
pub fn bind(relay: SocketAddr) -> Result<UdpSocket, LoadError> {
    let local = loopback_like(relay);
    let socket = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))
        .map_err(LoadError::io("creating a voice socket"))?;
    socket.set_recv_buffer_size(SOCKET_BUFFER).map_err(LoadError::io("sizing a voice socket"))?;
    socket.set_send_buffer_size(SOCKET_BUFFER).map_err(LoadError::io("sizing a voice socket"))?;
    socket.bind(&local.into()).map_err(LoadError::io("binding a voice socket"))?;
    let socket = UdpSocket::from(socket);
    socket
        .set_read_timeout(Some(RECEIVE_WAIT))
        .map_err(LoadError::io("setting a voice socket's timeout"))?;
    Ok(socket)
}

/// Port 0 of the loopback address of `addr`'s family.
pub fn loopback_like(addr: SocketAddr) -> SocketAddr {
    let ip: IpAddr =
        if addr.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() };
    SocketAddr::new(ip, 0)
}

/// Runs one worker for `members` (global index and endpoint, in index
/// order) until the plan's drain ends.
pub fn run(
    socket: &UdpSocket,
    mut members: Vec<(usize, VoiceEndpoint)>,
    plan: &Plan,
) -> Result<WorkerResult, LoadError> {
    let clock = plan.clock;
    let mut result = WorkerResult {
        sent: members.iter().map(|(m, _)| (*m, 0)).collect(),
        ..WorkerResult::default()
    };
    let local: HashMap<u32, usize> =
        members.iter().enumerate().map(|(i, (_, e))| (e.session().get(), i)).collect();
    let mut out = Vec::with_capacity(MAX_DATAGRAM_LEN);
    let mut buf = vec![0; MAX_DATAGRAM_LEN + 1];
    let opus = vec![0x5a; plan.opus_len];

    // The relay learns each member's address from a KEEPALIVE, before
    // anyone speaks, as a client does when it gets its credential.
    if plan.mode == Mode::Relay {
        for (_, endpoint) in &mut members {
            endpoint.seal_keepalive(&mut out).map_err(|e| LoadError::Usage(e.to_string()))?;
            socket.send_to(&out, plan.relay).map_err(LoadError::io("sending a keepalive"))?;
        }
    }

    // Member m speaks at start + m * interval / members + k * interval:
    // the load is spread evenly, as real speakers' would be.
    let interval = super::super::clock::nanos(PACKET_INTERVAL);
    let offset = |member: usize| interval * member as u64 / plan.members.max(1) as u64;
    let (mut next, mut round) = (0usize, 0u64);
    loop {
        let now = clock.now_ns();
        if now >= plan.drain_end_ns {
            break;
        }
        while let Some((member, endpoint)) = members.get_mut(next) {
            let due = plan.start_ns + offset(*member) + round * interval;
            if due > now || due >= plan.end_ns {
                break;
            }
            let Some(sequence) = endpoint.next_sequence() else {
                return Err(LoadError::Usage(
                    "a voice session ran out of sequence numbers".to_owned(),
                ));
            };
            // The 48 kHz clock wraps, as PROTOCOL.md's timestamp does.
            let timestamp = (round as u32).wrapping_mul(SAMPLES_PER_PACKET);
            endpoint
                .seal_voice(timestamp, round == 0, &opus, &mut out)
                .map_err(|e| LoadError::Usage(e.to_string()))?;
            plan.ledger.record(*member, sequence, clock.now_ns());
            socket.send_to(&out, plan.relay).map_err(LoadError::io("sending a voice packet"))?;
            result.sent[next].1 += 1;
            plan.sent.fetch_add(1, Ordering::Relaxed);
            next += 1;
            if next == members.len() {
                (next, round) = (0, round + 1);
            }
        }
        let len = match socket.recv_from(&mut buf) {
            Ok((len, _)) => len,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => continue, // An ICMP error for an earlier send.
        };
        let received_ns = clock.now_ns();
        let Some(packet) = peek(&buf[..len]) else {
            result.rejected += 1;
            continue;
        };
        let accepted = match plan.mode {
            Mode::Relay => {
                let verify = (result.received + result.rejected) % VERIFY_EVERY == 0;
                packet.kind == PacketKind::Relay
                    && local.get(&packet.session).and_then(|&i| members.get_mut(i)).is_some_and(
                        |(_, endpoint)| !verify || endpoint.open(&mut buf[..len]).is_ok(),
                    )
            }
            Mode::Forward => packet.kind == PacketKind::Voice,
        };
        if !accepted {
            result.rejected += 1;
            continue;
        }
        result.received += 1;
        result.in_window += u64::from(received_ns < plan.end_ns);
        plan.received.fetch_add(1, Ordering::Relaxed);
        match plan
            .speakers
            .get(&packet.speaker)
            .and_then(|&m| plan.ledger.sent_at(m, packet.sequence))
        {
            Some(sent_ns) => result.latency.record(received_ns.saturating_sub(sent_ns)),
            None => result.unmeasured += 1,
        }
    }
    Ok(result)
}
