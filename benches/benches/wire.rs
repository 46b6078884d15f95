//! Parse and encode throughput of the line protocol over a realistic mix
//! of lines, for comparison with the `irc-proto` crate (about 205 ns per
//! line on the 2-core reference machine; the target is 10 times faster).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voix_proto::wire::{ClientCommand, ServerMessage};

/// Lines in the proportions of a busy chat: mostly room messages, some
/// private messages, keepalive, joins and calls. Deterministic.
fn client_corpus() -> Vec<Vec<u8>> {
    let texts = [
        "Hey all!",
        "anyone up for a call later?",
        "lol :) that was great",
        "ok",
        "I'll be back in 10 minutes, grabbing coffee: black, no sugar",
        "æøå — Unicode works too ✓",
    ];
    let nicks = ["John", "Michael", "Willy", "Tina", "Mike", "Nickname"];
    let rooms = ["#Lobby", "#TurboRoom", "#rust", "#voice-devs"];
    (0..1_000)
        .map(|i| {
            let (t, n, r) =
                (texts[i % texts.len()], nicks[i % nicks.len()], rooms[i % rooms.len()]);
            match i % 20 {
                0..=11 => format!("MSG {r}: {t}"),
                12..=14 => format!("PRIVMSG {n}: {t}"),
                15 | 16 => format!("PONG: {}", 10_000_000 + i * 7919),
                17 => format!("JOIN: {r}"),
                18 => format!("TALK {n}: Request"),
                _ => format!("CONNECT: \"{n}{i}\" \"{n} Example\" 1.0.0"),
            }
            .into_bytes()
        })
        .collect()
}

fn server_corpus() -> Vec<Vec<u8>> {
    client_corpus()
        .iter()
        .filter_map(|line| {
            let line = std::str::from_utf8(line).expect("corpus is UTF-8");
            Some(match line.split_once(' ')? {
                ("MSG", rest) => format!("MSG John {rest}"),
                ("PONG:", rest) => format!("PING: {rest}"),
                ("JOIN:", rest) => format!("JOINED: {rest}"),
                (_, _) => line.to_owned(),
            })
        })
        .filter(|l| ServerMessage::parse(l.as_bytes()).is_ok())
        .map(String::into_bytes)
        .collect()
}

/// The corpus as text.
fn as_text(corpus: &[Vec<u8>]) -> Vec<&str> {
    corpus.iter().map(|line| std::str::from_utf8(line).expect("corpus is UTF-8")).collect()
}

fn parse(c: &mut Criterion) {
    let corpus = client_corpus();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.bench_function("client lines", |b| {
        b.iter(|| {
            for line in &corpus {
                black_box(ClientCommand::parse(black_box(line)).is_ok());
            }
        })
    });
    let server = server_corpus();
    group.throughput(Throughput::Elements(server.len() as u64));
    group.bench_function("server lines", |b| {
        b.iter(|| {
            for line in &server {
                black_box(ServerMessage::parse(black_box(line)).is_ok());
            }
        })
    });
    // From text already known to be UTF-8, as `irc-proto` parses (its
    // `Message` is parsed from a `&str`): the like-for-like comparison.
    let client_text = as_text(&corpus);
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.bench_function("client lines from text", |b| {
        b.iter(|| {
            for line in &client_text {
                black_box(ClientCommand::parse_str(black_box(line)).is_ok());
            }
        })
    });
    let server_text = as_text(&server);
    group.throughput(Throughput::Elements(server.len() as u64));
    group.bench_function("server lines from text", |b| {
        b.iter(|| {
            for line in &server_text {
                black_box(ServerMessage::parse_str(black_box(line)).is_ok());
            }
        })
    });
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("client bytes", |b| {
        b.iter(|| {
            for line in &corpus {
                black_box(ClientCommand::parse(black_box(line)).is_ok());
            }
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let corpus = client_corpus();
    let commands: Vec<ClientCommand<'_>> =
        corpus.iter().map(|l| ClientCommand::parse(l).expect("corpus parses")).collect();
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(commands.len() as u64));
    group.bench_function("client lines", |b| {
        b.iter(|| {
            out.clear();
            for cmd in &commands {
                cmd.encode(&mut out);
            }
            black_box(out.len());
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
