//! Calls that end (denied, hung up, partner gone) and voice that follows a
//! `JOIN`, end to end with the real server and headless clients.

mod support;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use serde_json::Value;
use support::audio::{Recording, tone_level_db, tone_peak_db, write_wav};
use support::{Client, Scratch, Server, unix_us};
use voix_audio::signal::tone;

/// The tone the speaker plays, and its peak amplitude (−16.3 dB).
const HZ: f64 = 440.0;
const AMPLITUDE: i16 = 5_000;

/// A tone this loud (dB, median of 100 ms blocks) is heard; one whose
/// loudest block is this quiet is not there.
const HEARD_DB: f64 = -25.0;
const ABSENT_DB: f64 = -60.0;

fn call_ended<'a>(peer: &'a str, reason: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |e| e["event"] == "call_ended" && e["peer"] == peer && e["reason"] == reason
}

/// Checks that `heard` holds the tone from `start` until `cut` and none of
/// it from shortly after `cut` until `end` (all µs since the Unix epoch),
/// leaving 300 ms for audio to start and to drain.
fn assert_heard_until(heard: &Recording, start: u64, cut: u64, end: u64, what: &str) {
    let during = tone_level_db(heard.between(start + 300_000, cut), HZ);
    let after = tone_peak_db(heard.between(cut + 300_000, end), HZ);
    eprintln!("{what}: during {during:.1} dB, after {after:.1} dB");
    assert!(during > HEARD_DB, "before {what}: {during:.1} dB");
    assert!(after < ABSENT_DB, "after {what}: {after:.1} dB");
}

/// A speaker playing the tone continuously.
fn speaker(server: &Server, scratch: &Scratch, nick: &str) -> Client {
    let input = scratch.path(&format!("{nick}-in.wav"));
    write_wav(&input, &tone(HZ, AMPLITUDE, 48_000));
    let input = input.to_str().expect("utf-8").to_owned();
    Client::start(
        server.addr(),
        nick,
        &["--input-wav", &input, "--loop", "--transmit", "always", "--null-audio"],
    )
}

/// A listener recording what it hears.
fn listener(server: &Server, scratch: &Scratch, nick: &str) -> (Client, PathBuf) {
    let output = scratch.path(&format!("{nick}-out.wav"));
    let client = Client::start(
        server.addr(),
        nick,
        &["--null-audio", "--output-wav", output.to_str().expect("utf-8")],
    );
    (client, output)
}

/// Quits `client` and returns its recording.
fn recording(mut client: Client, path: &Path) -> Recording {
    let start = client.audio_start("output");
    assert!(client.quit().success());
    Recording::read(path, start)
}

/// A denied call ends on both sides; an accepted one carries voice until
/// it is hung up, then both are back on their room's voice.
#[test]
fn deny_then_accept_then_hang_up() {
    let scratch = Scratch::new("hangup");
    let server = Server::start();
    let mut alice = speaker(&server, &scratch, "Alice");
    let (mut bob, bob_wav) = listener(&server, &scratch, "Bob");
    // Alice moves away, so that after the call Bob cannot hear her.
    alice.send("/join #Away");
    alice.expect(|e| e["event"] == "voice_ready" && e["scope"] == "#Away");
    alice.send("/call Bob");
    bob.expect(|e| e["event"] == "incoming_call" && e["from"] == "Alice");
    bob.send("/deny");
    bob.expect(call_ended("Alice", "denied"));
    alice.expect(call_ended("Bob", "denied"));
    alice.send("/call Bob");
    bob.expect_event("incoming_call");
    bob.send("/accept");
    let call_start =
        bob.expect_seen(|e| e["event"] == "voice_ready" && e["scope"] == "Alice").at_unix_us;
    bob.expect(|e| e["event"] == "talking" && e["nicks"] == serde_json::json!(["Alice"]));
    thread::sleep(Duration::from_millis(1_000));
    alice.send("/hangup");
    let hang_up = alice.expect_seen(call_ended("Bob", "hung_up")).at_unix_us;
    bob.expect(call_ended("Alice", "hung_up"));
    bob.expect(|e| e["event"] == "talking" && e["nicks"] == serde_json::json!([]));
    assert_eq!(alice.stats()["scope"], "#Away");
    assert_eq!(bob.stats()["scope"], "#Lobby");
    thread::sleep(Duration::from_millis(800));
    let end = unix_us();
    assert!(alice.quit().success());
    let heard = recording(bob, &bob_wav);
    assert_heard_until(&heard, call_start, hang_up, end, "hanging up");
}

/// A partner that crashes mid-call: the other side's call ends and its
/// audio stops.
#[test]
fn partner_disconnect_mid_call_ends_the_call() {
    let scratch = Scratch::new("crash");
    let server = Server::start();
    let mut alice = speaker(&server, &scratch, "Alice");
    alice.send("/join #Away");
    alice.expect(|e| e["event"] == "voice_ready" && e["scope"] == "#Away");
    let (mut bob, bob_wav) = listener(&server, &scratch, "Bob");
    alice.send("/call Bob");
    bob.expect_event("incoming_call");
    bob.send("/accept");
    let call_start =
        bob.expect_seen(|e| e["event"] == "voice_ready" && e["scope"] == "Alice").at_unix_us;
    bob.expect(|e| e["event"] == "talking" && e["nicks"] == serde_json::json!(["Alice"]));
    thread::sleep(Duration::from_millis(800));
    let crash = unix_us();
    alice.kill();
    bob.expect(call_ended("Alice", "hung_up"));
    bob.expect(|e| e["event"] == "talking" && e["nicks"] == serde_json::json!([]));
    assert_eq!(bob.stats()["scope"], "#Lobby");
    thread::sleep(Duration::from_millis(600));
    let end = unix_us();
    let heard = recording(bob, &bob_wav);
    assert_heard_until(&heard, call_start, crash, end, "the crash");
}

/// Alice talks in `#Lobby` (where Bob is), then joins `#Side` (where Cid
/// is) while talking: Bob hears her before and not after, Cid after and
/// not before.
#[test]
fn voice_follows_a_join_mid_speech() {
    let scratch = Scratch::new("join");
    let server = Server::start();
    let (mut cid, cid_wav) = listener(&server, &scratch, "Cid");
    cid.send("/join #Side");
    cid.expect(|e| e["event"] == "voice_ready" && e["scope"] == "#Side");
    let (bob, bob_wav) = listener(&server, &scratch, "Bob");
    let mut alice = speaker(&server, &scratch, "Alice");
    let talking = unix_us();
    thread::sleep(Duration::from_millis(1_200));
    alice.send("/join #Side");
    let moved =
        alice.expect_seen(|e| e["event"] == "voice_ready" && e["scope"] == "#Side").at_unix_us;
    cid.expect(|e| e["event"] == "talking" && e["nicks"] == serde_json::json!(["Alice"]));
    thread::sleep(Duration::from_millis(1_200));
    let end = unix_us();
    assert!(alice.quit().success());
    let (bob, cid) = (recording(bob, &bob_wav), recording(cid, &cid_wav));
    let levels = [
        tone_level_db(bob.between(talking + 300_000, moved - 100_000), HZ),
        tone_peak_db(bob.between(moved + 300_000, end), HZ),
        tone_peak_db(cid.between(talking + 300_000, moved - 100_000), HZ),
        tone_level_db(cid.between(moved + 300_000, end), HZ),
    ];
    eprintln!(
        "join: Bob before/after {:.1}/{:.1} dB, Cid before/after {:.1}/{:.1} dB",
        levels[0], levels[1], levels[2], levels[3]
    );
    assert!(levels[0] > HEARD_DB && levels[1] < ABSENT_DB, "Bob: {levels:?}");
    assert!(levels[2] < ABSENT_DB && levels[3] > HEARD_DB, "Cid: {levels:?}");
}
