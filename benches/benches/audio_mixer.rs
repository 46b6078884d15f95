//! Mixer cost per 20 ms output frame with N speakers talking at once:
//! N packets pushed, N frames decoded, summed and limited.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voix_audio::codec::{EncoderConfig, VoiceEncoder};
use voix_audio::jitter::VoicePacket;
use voix_audio::mixer::{Mixer, MixerConfig};
use voix_audio::signal::speech_like;

fn mixing(c: &mut Criterion) {
    let config = EncoderConfig { dtx: false, ..EncoderConfig::default() };
    let speech = speech_like(2, 4.0);
    let mut encoder = VoiceEncoder::new(config).expect("default config is valid");
    let payloads: Vec<Bytes> = speech
        .chunks_exact(config.frame.samples())
        .filter_map(|frame| {
            encoder.encode(frame).expect("encodes").map(|f| Bytes::copy_from_slice(f.payload))
        })
        .collect();

    let mut group = c.benchmark_group("mixer_20ms");
    for speakers in [1u32, 4, 16] {
        group.throughput(Throughput::Elements(u64::from(speakers)));
        group.bench_function(format!("{speakers}_speakers"), |b| {
            let mut mixer = Mixer::new(MixerConfig::default()).expect("default is valid");
            let mut out = vec![0i16; config.frame.samples()];
            let origin = Instant::now();
            let mut tick = 0u32;
            b.iter(|| {
                let now = origin + Duration::from_millis(20) * tick;
                let payload = &payloads[tick as usize % payloads.len()];
                for speaker in 0..speakers {
                    let packet = VoicePacket {
                        seq: tick,
                        timestamp: tick.wrapping_mul(960),
                        marker: tick == 0,
                        payload: payload.clone(),
                    };
                    mixer.push(speaker, packet, now).expect("room for every speaker");
                }
                mixer.mix(now, &mut out).expect("one frame");
                tick += 1;
                black_box(out[0])
            });
        });
    }
    group.finish();
}

criterion_group!(benches, mixing);
criterion_main!(benches);
