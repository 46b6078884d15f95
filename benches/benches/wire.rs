//! Parse and encode throughput of the line protocol over a realistic mix
//! of lines ([`voix_benches::corpus`]), and the `irc-proto` crate parsing
//! the same lines in IRC form, for comparison (the target is 10 times its
//! throughput; `cargo run --release -p voix-benches --example parse-ratio`
//! measures the ratio with the two interleaved).

use std::hint::black_box;
use std::ops::ControlFlow;

use bytes::BytesMut;
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};
use voix_benches::corpus;
use voix_proto::wire::{ClientCommand, DEFAULT_MAX_LINE_LEN, LineReader, ServerMessage};

/// The corpus of [`corpus::client_lines`], as bytes.
fn client_corpus() -> Vec<Vec<u8>> {
    corpus::client_lines().into_iter().map(String::into_bytes).collect()
}

/// The corpus of [`corpus::server_lines`], as bytes.
fn server_corpus() -> Vec<Vec<u8>> {
    corpus::server_lines().into_iter().map(String::into_bytes).collect()
}

/// The corpus as text.
fn as_text(corpus: &[Vec<u8>]) -> Vec<&str> {
    corpus.iter().map(|line| std::str::from_utf8(line).expect("corpus is UTF-8")).collect()
}

/// Benchmarks `parse` over every line of `lines` as one iteration.
fn bench_lines<L>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    throughput: Throughput,
    lines: &[L],
    parse: impl Fn(&L) -> bool,
) {
    group.throughput(throughput);
    group.bench_function(name, |b| {
        b.iter(|| {
            for line in lines {
                black_box(parse(black_box(line)));
            }
        })
    });
}

/// Benchmarks draining `lines`, sent as one stream, through a
/// [`LineReader`] and parsing every line with `parse`, as one iteration.
fn bench_stream(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    lines: &[Vec<u8>],
    parse: impl Fn(&str) -> bool,
) {
    let stream: BytesMut =
        lines.iter().flat_map(|l| [&l[..], b"\r\n"]).flatten().copied().collect();
    let mut reader = LineReader::new(DEFAULT_MAX_LINE_LEN);
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || stream.clone(),
            |buf| {
                let mut parsed = 0;
                reader.drain(buf, |line| {
                    parsed += usize::from(line.is_ok_and(&parse));
                    ControlFlow::Continue(())
                });
                assert_eq!(parsed, lines.len(), "every line of the corpus parses");
            },
            BatchSize::LargeInput,
        )
    });
}

fn parse(c: &mut Criterion) {
    let client = client_corpus();
    let server = server_corpus();
    let client_lines = Throughput::Elements(client.len() as u64);
    let server_lines = Throughput::Elements(server.len() as u64);
    let client_bytes = Throughput::Bytes(client.iter().map(Vec::len).sum::<usize>() as u64);
    let mut group = c.benchmark_group("parse");
    bench_lines(&mut group, "client lines", client_lines.clone(), &client, |line| {
        ClientCommand::parse(line).is_ok()
    });
    bench_lines(&mut group, "server lines", server_lines.clone(), &server, |line| {
        ServerMessage::parse(line).is_ok()
    });
    // From text already known to be UTF-8, as `irc-proto` parses (its
    // `Message` is parsed from a `&str`): the like-for-like comparison.
    bench_lines(
        &mut group,
        "client lines from text",
        client_lines.clone(),
        &as_text(&client),
        |line| ClientCommand::parse_str(line).is_ok(),
    );
    bench_lines(
        &mut group,
        "server lines from text",
        server_lines.clone(),
        &as_text(&server),
        |line| ServerMessage::parse_str(line).is_ok(),
    );
    bench_lines(&mut group, "client bytes", client_bytes, &client, |line| {
        ClientCommand::parse(line).is_ok()
    });
    // What a server does with what it reads: the lines as one byte stream
    // (CRLF after each), framed, checked for UTF-8 in one pass, parsed.
    bench_stream(&mut group, "client stream", &client, |l| ClientCommand::parse_str(l).is_ok());
    bench_stream(&mut group, "server stream", &server, |l| ServerMessage::parse_str(l).is_ok());
    let irc_client = corpus::irc_client_lines();
    let irc_server = corpus::irc_server_lines();
    // A comparison with lines it refuses would flatter neither side.
    for line in irc_client.iter().chain(&irc_server) {
        assert!(line.parse::<irc_proto::Message>().is_ok(), "irc-proto refuses {line:?}");
    }
    bench_lines(&mut group, "irc-proto, client lines", client_lines, &irc_client, |line| {
        line.parse::<irc_proto::Message>().is_ok()
    });
    bench_lines(&mut group, "irc-proto, server lines", server_lines, &irc_server, |line| {
        line.parse::<irc_proto::Message>().is_ok()
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
