//! Opus cost per 20 ms frame of speech: encode (VoIP, 24 kb/s, FEC, DTX,
//! complexity 10) and decode, through `voix-audio` and, as the baseline,
//! through the `opus` crate directly with the same settings.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voix_audio::codec::{EncoderConfig, VoiceDecoder, VoiceEncoder};
use voix_audio::signal::speech_like;

fn codec(c: &mut Criterion) {
    let config = EncoderConfig::default();
    let samples = config.frame.samples();
    let speech = speech_like(1, 4.0);
    let frames: Vec<&[i16]> = speech.chunks_exact(samples).collect();
    let mut encoder = VoiceEncoder::new(config).expect("default config is valid");
    let packets: Vec<Vec<u8>> = frames
        .iter()
        .filter_map(|frame| encoder.encode(frame).expect("encodes").map(|f| f.payload.to_vec()))
        .collect();

    let mut group = c.benchmark_group("opus_20ms");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| {
        let mut encoder = VoiceEncoder::new(config).expect("default config is valid");
        let mut next = frames.iter().cycle();
        b.iter(|| {
            let frame = next.next().expect("cycle is endless");
            black_box(encoder.encode(frame).expect("encodes").map(|f| f.payload.len()))
        });
    });
    group.bench_function("decode", |b| {
        let mut decoder = VoiceDecoder::new(config.frame).expect("decoder");
        let mut out = vec![0i16; samples];
        let mut next = packets.iter().cycle();
        b.iter(|| {
            let packet = next.next().expect("cycle is endless");
            decoder.decode(packet, &mut out).expect("decodes");
            black_box(out[0])
        });
    });
    group.bench_function("encode_plain_libopus", |b| {
        let mut encoder = plain_encoder(config);
        let mut packet = vec![0u8; 4_000];
        let mut next = frames.iter().cycle();
        b.iter(|| {
            let frame = next.next().expect("cycle is endless");
            black_box(encoder.encode(frame, &mut packet).expect("encodes"))
        });
    });
    group.bench_function("decode_plain_libopus", |b| {
        let mut decoder = opus::Decoder::new(48_000, opus::Channels::Mono).expect("decoder");
        let mut out = vec![0i16; samples];
        let mut next = packets.iter().cycle();
        b.iter(|| {
            let packet = next.next().expect("cycle is endless");
            black_box(decoder.decode(packet, &mut out, false).expect("decodes"))
        });
    });
    group.finish();
}

/// A bare libopus encoder set up like `VoiceEncoder`.
fn plain_encoder(config: EncoderConfig) -> opus::Encoder {
    let mut encoder =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).expect("encoder");
    encoder.set_bitrate(opus::Bitrate::Bits(config.bitrate as i32)).expect("bitrate");
    encoder.set_complexity(i32::from(config.complexity)).expect("complexity");
    encoder.set_signal(opus::Signal::Voice).expect("signal");
    encoder.set_inband_fec(config.fec).expect("fec");
    encoder.set_dtx(config.dtx).expect("dtx");
    encoder.set_packet_loss_perc(i32::from(config.expected_loss_percent)).expect("loss");
    encoder
}

criterion_group!(benches, codec);
criterion_main!(benches);
