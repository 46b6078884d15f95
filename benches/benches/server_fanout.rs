//! The server core fanning one room message out to 1,000 members: the
//! cost of parsing, routing and queueing, without sockets.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use voix_proto::server::{ConnectionId, Server, ServerConfig};

const MEMBERS: usize = 1_000;

/// A server with `MEMBERS` registered users in `#Lobby`, all output drained.
fn crowded_lobby() -> (Server, Vec<ConnectionId>, Instant) {
    let config = ServerConfig {
        command_rate: u32::MAX,
        command_burst: u32::MAX,
        max_output_queue_bytes: 64 << 20,
        ..ServerConfig::default()
    };
    let mut server = Server::new(config, [9; 32]);
    let now = Instant::now();
    let conns: Vec<_> = (0..MEMBERS)
        .map(|i| {
            let id = server.handle_connect(now);
            server.handle_input(
                now,
                id,
                format!("CONNECT: \"user{i}\" \"User {i}\" 1.0\r\n").as_bytes(),
            );
            id
        })
        .collect();
    drain(&mut server);
    (server, conns, now)
}

fn drain(server: &mut Server) -> usize {
    let mut bytes = 0;
    while let Some(id) = server.poll_ready() {
        bytes += server.take_output(id).map_or(0, |b| b.len());
    }
    while server.poll_event().is_some() {}
    bytes
}

fn fanout(c: &mut Criterion) {
    let (mut server, conns, now) = crowded_lobby();
    let line = b"MSG #Lobby: Hey all! anyone up for a call later?\r\n";
    let mut group = c.benchmark_group("server core");
    group.throughput(Throughput::Elements(MEMBERS as u64 - 1));
    group.bench_function("room message to 1000 members (deliveries)", |b| {
        b.iter(|| {
            server.handle_input(now, conns[0], black_box(line));
            black_box(drain(&mut server));
        })
    });
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
