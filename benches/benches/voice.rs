//! Voice packets: sealing on the client, opening on the client, and the
//! relay's fan-out of one packet to a room of 60 and to a call of 2.
//!
//! Before measuring, it checks with a counting allocator that none of these
//! allocates once warmed up (the relay's buffers are reused), and fails if
//! one does; `cargo bench --bench voice -- --test` runs that check too.

// A global allocator is the one place this crate needs `unsafe`: the
// counting wrapper below only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use voix_proto::NickBuf;
use voix_proto::voice::{
    GroupId, Relay, RelayCommand, RelayConfig, SessionIds, VoiceEndpoint, VoiceKey,
};

/// Counts allocations, to prove the hot paths make none.
struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter has no effect on the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// A typical 20 ms Opus packet at 40 kbit/s.
const OPUS: [u8; 100] = [0x5a; 100];
/// Members of the room in the fan-out bench.
const ROOM: usize = 60;
/// VOICE packets sealed ahead of each timed batch (the relay and the
/// client refuse a sequence number twice, so each needs a fresh one).
const BATCH: usize = 64;

fn addr(n: usize) -> SocketAddr {
    let port = u16::try_from(10_000 + n).expect("few members");
    SocketAddr::from(([10, 0, 0, 1], port))
}

/// A relay with `members` sessions in one group, every address proven, and
/// an endpoint per member.
fn group(members: usize) -> (Relay, Vec<VoiceEndpoint>) {
    let mut relay = Relay::new(RelayConfig::default());
    let mut ids = SessionIds::new();
    let mut endpoints = Vec::new();
    for n in 0..members {
        let session = ids.next().expect("few sessions");
        let key = [u8::try_from(n % 256).expect("below 256"); VoiceKey::LEN];
        let speaker = NickBuf::from_string(format!("member{n}")).expect("valid nick");
        relay
            .apply(RelayCommand::Open {
                session,
                key: VoiceKey::from_bytes(key),
                speaker,
                group: Some(GroupId(1)),
            })
            .expect("fresh ids below the limit");
        let mut endpoint = VoiceEndpoint::new(session, VoiceKey::from_bytes(key));
        let mut keepalive = Vec::new();
        endpoint.seal_keepalive(&mut keepalive).expect("fresh session");
        relay.handle_datagram(addr(n), &keepalive).expect("authentic keepalive");
        endpoints.push(endpoint);
    }
    (relay, endpoints)
}

/// `count` VOICE datagrams from `speaker`, with consecutive sequences.
fn voice_batch(speaker: &mut VoiceEndpoint, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut datagram = Vec::new();
            let timestamp = u32::try_from(i * 960).unwrap_or(0);
            speaker.seal_voice(timestamp, false, &OPUS, &mut datagram).expect("bounded payload");
            datagram
        })
        .collect()
}

/// Relays one datagram and hands every transmit to `black_box`; returns
/// how many went out.
fn relay_one(relay: &mut Relay, datagram: &[u8]) -> usize {
    let queued = relay.handle_datagram(addr(0), datagram).expect("authentic voice");
    while let Some(transmit) = relay.poll_transmit() {
        black_box((transmit.to, transmit.payload));
    }
    queued
}

/// Fails unless sealing, relaying and opening allocate nothing once warm.
fn assert_steady_state_allocates_nothing() {
    let (mut relay, mut endpoints) = group(ROOM);
    let datagrams = voice_batch(&mut endpoints[0], 2 * BATCH);
    let mut relayed = Vec::new();
    for datagram in &datagrams[..BATCH] {
        relay_one(&mut relay, datagram);
    }
    relay.handle_datagram(addr(0), &datagrams[BATCH]).expect("authentic voice");
    while let Some(t) = relay.poll_transmit() {
        relayed.push(t.payload.to_vec());
    }
    let mut out = Vec::with_capacity(2048);
    let listener = &mut endpoints[1];

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for datagram in &datagrams[BATCH + 1..] {
        relay_one(&mut relay, datagram);
    }
    listener.seal_voice(0, false, &OPUS, &mut out).expect("bounded payload");
    listener.open(&mut relayed[0]).expect("relay output opens");
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocations, 0, "seal, relay fan-out and open must not allocate in steady state");
}

fn seal(c: &mut Criterion) {
    let (_, mut endpoints) = group(1);
    let mut out = Vec::with_capacity(2048);
    let mut g = c.benchmark_group("voice");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal_100B", |b| {
        b.iter(|| {
            endpoints[0]
                .seal_voice(0, false, black_box(&OPUS), &mut out)
                .expect("bounded payload, sequences to spare");
            black_box(&out);
        });
    });
    g.finish();
}

fn open(c: &mut Criterion) {
    let (mut relay, mut endpoints) = group(2);
    let mut speaker = endpoints.remove(0);
    let listener = endpoints.remove(0);
    let mut g = c.benchmark_group("voice");
    g.throughput(Throughput::Elements(u64::try_from(BATCH).expect("small")));
    g.bench_function("open_100B", |b| {
        b.iter_batched_ref(
            || {
                // A fresh listener per batch, so that its replay window
                // accepts the batch; sealing and relaying are not timed.
                let mut packets = Vec::with_capacity(BATCH);
                for datagram in voice_batch(&mut speaker, BATCH) {
                    relay.handle_datagram(addr(0), &datagram).expect("authentic voice");
                    let t = relay.poll_transmit().expect("one listener");
                    packets.push(t.payload.to_vec());
                }
                (listener.clone(), packets)
            },
            |(listener, packets)| {
                for packet in packets.iter_mut() {
                    black_box(listener.open(packet).expect("authentic relay"));
                }
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn fan_out(c: &mut Criterion, name: &str, members: usize) {
    let (mut relay, mut endpoints) = group(members);
    let receivers = members - 1;
    let mut g = c.benchmark_group("voice");
    // One element is one RELAY datagram sealed and queued.
    let elements = BATCH * receivers;
    g.throughput(Throughput::Elements(u64::try_from(elements).expect("small")));
    g.bench_function(name, |b| {
        b.iter_batched(
            || voice_batch(&mut endpoints[0], BATCH),
            |datagrams| {
                for datagram in &datagrams {
                    assert_eq!(relay_one(&mut relay, datagram), receivers);
                }
                datagrams
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn relay_room(c: &mut Criterion) {
    fan_out(c, "relay_room_of_60", ROOM);
}

fn relay_call(c: &mut Criterion) {
    fan_out(c, "relay_call_of_2", 2);
}

criterion_group!(benches, seal, open, relay_room, relay_call);

fn main() {
    assert_steady_state_allocates_nothing();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
