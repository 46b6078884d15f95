//! Group voice in `#Lobby`, end to end: three headless clients, each
//! playing its own tone and recording what it hears.

mod support;

use std::thread;
use std::time::Duration;

use support::audio::{Recording, tone_level_db, tone_peak_db, write_wav};
use support::{Client, Scratch, Server, unix_us};
use voix_audio::signal::tone;

/// Tones whose sums, differences and doubles are far from each other, so
/// that mixing cannot fake one.
const TONES: [(&str, f64); 3] = [("Ann", 440.0), ("Ben", 620.0), ("Cid", 1_010.0)];

/// Peak amplitude of each tone: −16.3 dB against full scale.
const AMPLITUDE: i16 = 5_000;

/// Each recording holds the other two tones within 6 dB of their level as
/// sent (−16.3 dB; the median over 100 ms blocks, so that a jump in the
/// playout delay does not count), and its own, even in its loudest block,
/// at least 30 dB below the quieter of them.
#[test]
fn everyone_in_the_lobby_hears_everyone_else_and_not_themself() {
    let scratch = Scratch::new("lobby");
    let server = Server::start();
    let mut clients: Vec<(Client, Recording, f64)> = Vec::new();
    let mut paths = Vec::new();
    for (nick, hz) in TONES {
        let input = scratch.path(&format!("{nick}-in.wav"));
        let output = scratch.path(&format!("{nick}-out.wav"));
        write_wav(&input, &tone(hz, AMPLITUDE, 48_000));
        let client = Client::start(
            server.addr(),
            nick,
            &[
                "--input-wav",
                input.to_str().expect("utf-8"),
                "--loop",
                "--transmit",
                "always",
                "--output-wav",
                output.to_str().expect("utf-8"),
            ],
        );
        paths.push(output);
        clients.push((client, Recording { samples: Vec::new(), start_unix_us: 0 }, hz));
    }
    let all_in = unix_us();
    thread::sleep(Duration::from_secs(3));
    let end = unix_us();
    let mut recordings = Vec::new();
    for ((mut client, _, hz), path) in clients.into_iter().zip(&paths) {
        let start = client.audio_start("output");
        assert!(client.quit().success());
        recordings.push((Recording::read(path, start), hz));
    }
    for (i, (recording, own)) in recordings.iter().enumerate() {
        let heard = recording.between(all_in + 1_000_000, end);
        assert!(heard.len() > 48_000, "{} recorded {} samples", TONES[i].0, heard.len());
        let own_db = tone_peak_db(heard, *own);
        let others: Vec<f64> = TONES
            .iter()
            .filter(|(_, hz)| hz != own)
            .map(|(_, hz)| tone_level_db(heard, *hz))
            .collect();
        eprintln!("{}: own {own_db:.1} dB, others {others:.1?} dB", TONES[i].0);
        for level in &others {
            assert!(
                (-22.3..=-10.3).contains(level),
                "{}: another tone at {level:.1} dB",
                TONES[i].0
            );
        }
        let quieter = others.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(own_db < quieter - 30.0, "{}: own tone at {own_db:.1} dB", TONES[i].0);
    }
}
