//! Jitter buffer cost per packet: one push and one pop, on a clean stream
//! and on the lossy, reordering `congested` network model.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voix_audio::FrameDuration;
use voix_audio::jitter::{JitterBuffer, JitterConfig, VoicePacket};
use voix_audio::netsim::{GilbertElliott, NetworkModel, Trace};

/// One packet's arrival: `(arrival µs, seq)`, in arrival order.
fn arrivals(model: NetworkModel, packets: u32) -> Vec<(u64, u32)> {
    let trace = Trace::generate(model, 1, packets, FrameDuration::Ms20);
    let mut arrivals: Vec<(u64, u32)> =
        trace.records.iter().filter_map(|r| r.arrival_us.map(|at| (at, r.seq))).collect();
    arrivals.sort_unstable();
    arrivals
}

fn push_pop(c: &mut Criterion) {
    let payload = Bytes::from_static(&[0x5a; 60]);
    let mut group = c.benchmark_group("jitter_buffer");
    group.throughput(Throughput::Elements(1));
    let clean = NetworkModel { loss: GilbertElliott::NONE, ..NetworkModel::WIRED };
    for (name, model) in [("clean", clean), ("congested", NetworkModel::CONGESTED)] {
        let script = arrivals(model, 50_000);
        group.bench_function(format!("push_pop/{name}"), |b| {
            let origin = Instant::now();
            let mut buffer = JitterBuffer::new(JitterConfig::default()).expect("default is valid");
            let mut step = 0usize;
            // Each iteration: the next packet arrives, then a tick plays a
            // frame; the script repeats, shifted in time, as a restarted
            // sender would.
            b.iter(|| {
                let (at, seq) = script[step % script.len()];
                let lap = (step / script.len()) as u64;
                let now = origin + Duration::from_micros(at + lap * 1_100_000_000);
                let packet = VoicePacket {
                    seq,
                    timestamp: seq.wrapping_mul(960),
                    marker: false,
                    payload: payload.clone(),
                };
                black_box(buffer.push(packet, now));
                step += 1;
                buffer.pop(now)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, push_pop);
criterion_main!(benches);
