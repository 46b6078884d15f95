//! How many times faster Voix parses its lines than `irc-proto` parses the
//! same lines in IRC form: the parse target of issue 2 is 10 times.
//!
//! Both parsers run over the corpora of the parse bench
//! ([`voix_benches::corpus`]) in short batches, taking turns, and each
//! keeps its fastest batch. Taking turns exposes both to the same changes
//! in clock speed and load, and the fastest batch is the one least
//! disturbed, so the ratio holds steady where separate runs of a
//! benchmark drift apart by a quarter on a shared machine.
//!
//! ```text
//! cargo run --release -p voix-benches --example parse-ratio [-- ROUNDS]
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use voix_benches::corpus;
use voix_proto::wire::{ClientCommand, ServerMessage};

/// Default number of rounds; each round times one batch of every parser.
const ROUNDS: u32 = 400;

/// Times each corpus is parsed in one batch.
const PASSES: u32 = 10;

/// Parses every line of `lines` [`PASSES`] times; how long that took.
fn batch(lines: &[String], parse: impl Fn(&str) -> bool) -> Duration {
    let start = Instant::now();
    let mut parsed = 0;
    for _ in 0..PASSES {
        for line in lines {
            parsed += usize::from(black_box(parse(black_box(line))));
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(parsed, lines.len() * PASSES as usize, "every line parses");
    elapsed
}

/// Nanoseconds a line in a batch of `lines` that took `batch`.
fn ns_per_line(batch: Duration, lines: &[String]) -> f64 {
    batch.as_secs_f64() * 1e9 / f64::from(PASSES) / lines.len() as f64
}

fn main() {
    let rounds = match std::env::args().nth(1).map(|arg| arg.parse::<u32>()) {
        None => ROUNDS,
        Some(Ok(rounds)) if rounds > 0 => rounds,
        Some(_) => {
            eprintln!("usage: parse-ratio [ROUNDS]  (a positive number; default {ROUNDS})");
            std::process::exit(2);
        }
    };
    let (client_lines, server_lines) = (corpus::client_lines(), corpus::server_lines());
    let (irc_client_lines, irc_server_lines) =
        (corpus::irc_client_lines(), corpus::irc_server_lines());
    // The fastest batch of each: Voix and irc-proto on client lines, then
    // on server lines. Each parser is its own closure, called directly.
    let mut fastest = [Duration::MAX; 4];
    for _ in 0..rounds {
        let batches = [
            batch(&client_lines, |line| ClientCommand::parse_str(line).is_ok()),
            batch(&irc_client_lines, |line| line.parse::<irc_proto::Message>().is_ok()),
            batch(&server_lines, |line| ServerMessage::parse_str(line).is_ok()),
            batch(&irc_server_lines, |line| line.parse::<irc_proto::Message>().is_ok()),
        ];
        for (fastest, batch) in fastest.iter_mut().zip(batches) {
            *fastest = (*fastest).min(batch);
        }
    }
    let [voix_client, irc_client, voix_server, irc_server] = [
        ns_per_line(fastest[0], &client_lines),
        ns_per_line(fastest[1], &irc_client_lines),
        ns_per_line(fastest[2], &server_lines),
        ns_per_line(fastest[3], &irc_server_lines),
    ];
    // Both corpora together: the mean time of a line over all the lines.
    let mixed = |a: f64, b: f64| {
        let (na, nb) = (client_lines.len() as f64, server_lines.len() as f64);
        (a * na + b * nb) / (na + nb)
    };
    let rows = [
        ("client lines", voix_client, irc_client),
        ("server lines", voix_server, irc_server),
        ("both together", mixed(voix_client, voix_server), mixed(irc_client, irc_server)),
    ];
    println!("fastest of {rounds} interleaved batches, from text (&str)");
    println!("{:<14} {:>22} {:>24} {:>7}", "", "Voix", "irc-proto", "ratio");
    for (name, voix, irc) in rows {
        println!(
            "{name:<14} {voix:>6.2} ns {:>6.1} M/s   {irc:>7.2} ns {:>6.2} M/s   {:>5.2}x",
            1e3 / voix,
            1e3 / irc,
            irc / voix,
        );
    }
}
