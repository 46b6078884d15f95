//! Engines talking through `voix-proto`'s relay on a virtual clock.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use voix_audio::mixer::MixerConfig;
use voix_audio::quality::rms_dbfs;
use voix_audio::signal::{speech_like, tone};
use voix_audio::vad::VadConfig;
use voix_proto::NickBuf;
use voix_proto::Room;
use voix_proto::client::VoiceCredential;
use voix_proto::voice::{
    GroupId, KEEPALIVE_INTERVAL, Relay, RelayCommand, RelayConfig, SessionId, VoiceKey,
};
use voix_proto::wire::VoiceScopeBuf;

use super::{TransmitModeArg, VoiceEngine, VoiceSettings};

const FRAME: Duration = Duration::from_millis(20);

/// A client in the test: its engine, address and credentials.
struct Peer {
    engine: VoiceEngine,
    addr: SocketAddr,
    heard: Vec<i16>,
}

struct World {
    relay: Relay,
    peers: Vec<Peer>,
    next_session: u32,
    start: Instant,
}

impl World {
    fn new(count: usize, mode: TransmitModeArg) -> Self {
        let settings = VoiceSettings { mode, ..VoiceSettings::default() };
        let peers = (0..count)
            .map(|i| Peer {
                engine: VoiceEngine::new(
                    super::encoder_config(),
                    MixerConfig::default(),
                    VadConfig::default(),
                    settings,
                )
                .expect("default settings are valid"),
                addr: SocketAddr::from(([127, 0, 0, 1], 40_000 + i as u16)),
                heard: Vec::new(),
            })
            .collect();
        Self {
            relay: Relay::new(RelayConfig::default()),
            peers,
            next_session: 1,
            start: Instant::now(),
        }
    }

    /// Opens a session for `peer` in `group` (None: paused) and hands the
    /// engine its credential.
    fn open(
        &mut self,
        peer: usize,
        scope: VoiceScopeBuf,
        group: Option<u64>,
        now: Instant,
    ) -> SessionId {
        let session = SessionId::new(self.next_session).expect("nonzero");
        self.next_session += 1;
        let key = VoiceKey::from_bytes([self.next_session as u8; 32]);
        let speaker = NickBuf::from_string(format!("peer{peer}")).expect("valid");
        self.relay
            .apply(RelayCommand::Open {
                session,
                key: key.clone(),
                speaker,
                group: group.map(GroupId),
            })
            .expect("ids increase");
        self.peers[peer].engine.add_credential(now, &VoiceCredential { scope, session, key });
        session
    }

    fn pause(&mut self, session: SessionId) {
        self.relay.apply(RelayCommand::Move { session, group: None }).expect("known");
    }

    /// Moves every datagram: engines → relay → engines.
    fn deliver(&mut self, now: Instant) -> usize {
        let mut delivered = 0;
        for i in 0..self.peers.len() {
            while let Some(datagram) = self.peers[i].engine.poll_transmit() {
                let _ = self.relay.handle_datagram(self.peers[i].addr, &datagram);
            }
        }
        while let Some(transmit) = self.relay.poll_transmit() {
            let mut datagram = transmit.payload.to_vec();
            let to = transmit.to;
            if let Some(peer) = self.peers.iter_mut().find(|p| p.addr == to) {
                peer.engine.handle_datagram(now, &mut datagram).expect("authentic relay");
                delivered += 1;
            }
        }
        delivered
    }

    /// Runs `frames` ticks: each peer captures its next frame of `inputs`,
    /// datagrams move, and each peer plays a frame.
    fn run(&mut self, tick: &mut u32, frames: usize, inputs: &[Vec<i16>]) {
        for _ in 0..frames {
            let now = self.start + FRAME * *tick;
            for (i, input) in inputs.iter().enumerate() {
                let at = *tick as usize * 960;
                let frame = input.get(at..at + 960).map_or_else(|| vec![0; 960], <[i16]>::to_vec);
                self.peers[i].engine.handle_capture(now, &frame);
            }
            self.deliver(now);
            for peer in &mut self.peers {
                let mut out = vec![0; 960];
                peer.engine.render(now, &mut out).expect("one frame");
                peer.heard.extend_from_slice(&out);
            }
            *tick += 1;
        }
    }
}

fn lobby() -> VoiceScopeBuf {
    VoiceScopeBuf::Room(Room::LOBBY.into_owned())
}

fn call_with(peer: usize) -> VoiceScopeBuf {
    VoiceScopeBuf::Call(NickBuf::from_string(format!("peer{peer}")).expect("valid"))
}

fn level(samples: &[i16]) -> f64 {
    rms_dbfs(samples)
}

#[test]
fn a_credential_sends_a_keepalive_at_once_and_every_interval_when_silent() {
    let mut world = World::new(1, TransmitModeArg::Vad);
    let start = world.start;
    world.open(0, lobby(), Some(1), start);
    let engine = &mut world.peers[0].engine;
    let keepalive = engine.poll_transmit().expect("a keepalive at once");
    assert_eq!(keepalive.len(), 36);
    assert_eq!(keepalive[1], 3, "kind KEEPALIVE");
    assert_eq!(engine.poll_transmit(), None);
    assert_eq!(engine.poll_timeout(), Some(start + KEEPALIVE_INTERVAL));
    engine.handle_timeout(start + KEEPALIVE_INTERVAL - Duration::from_millis(1));
    assert_eq!(engine.poll_transmit(), None, "an early timeout is harmless");
    engine.handle_timeout(start + KEEPALIVE_INTERVAL);
    assert_eq!(engine.poll_transmit().map(|d| d[1]), Some(3));
    assert_eq!(engine.poll_timeout(), Some(start + KEEPALIVE_INTERVAL * 2));
}

#[test]
fn speech_in_a_room_is_heard_by_the_others_and_not_by_the_speaker() {
    let mut world = World::new(3, TransmitModeArg::Vad);
    let start = world.start;
    for peer in 0..3 {
        world.open(peer, lobby(), Some(1), start);
    }
    let speech = speech_like(3, 2.0);
    let mut tick = 0;
    world.run(&mut tick, 120, &[speech]);
    assert!(level(&world.peers[1].heard) > -40.0, "{}", level(&world.peers[1].heard));
    assert!(level(&world.peers[2].heard) > -40.0);
    assert_eq!(level(&world.peers[0].heard), -120.0, "nobody else spoke");
    let status = world.peers[0].engine.status(start + FRAME * tick);
    assert!(status.packets_sent > 50, "{status:?}");
    // Who talks is known by name while they talk.
    let mut tick = 0;
    let mut world = World::new(2, TransmitModeArg::Always);
    world.open(0, lobby(), Some(1), start);
    world.open(1, lobby(), Some(1), start);
    world.run(&mut tick, 20, &[tone(440.0, 8_000, 48_000)]);
    assert_eq!(world.peers[1].engine.status(start + FRAME * tick).talking, ["peer0"]);
}

#[test]
fn a_clean_minute_of_call_plays_without_concealment() {
    let mut world = World::new(2, TransmitModeArg::Always);
    let start = world.start;
    world.open(0, call_with(1), Some(7), start);
    world.open(1, call_with(0), Some(7), start);
    let speech = speech_like(11, 60.0);
    let mut tick = 0;
    world.run(&mut tick, 3_000, &[speech]);
    let status = world.peers[1].engine.status(start + FRAME * tick);
    assert_eq!(status.concealed_frames, 0, "{status:?}");
    assert_eq!(status.loss, 0.0);
    // DTX leaves out some of the quiet frames of speech; the rest arrive.
    assert!(status.packets_received > 2_500, "{status:?}");
}

#[test]
fn during_a_call_only_the_partner_is_heard_and_the_room_resumes_after() {
    let mut world = World::new(3, TransmitModeArg::Always);
    let start = world.start;
    let rooms: Vec<SessionId> = (0..3).map(|p| world.open(p, lobby(), Some(1), start)).collect();
    // 0 and 1 go into a call: their room sessions pause.
    world.pause(rooms[0]);
    world.pause(rooms[1]);
    world.open(0, call_with(1), Some(9), start);
    world.open(1, call_with(0), Some(9), start);
    let mut tick = 0;
    let inputs = [vec![0; 48_000], tone(300.0, 8_000, 48_000 * 4), tone(700.0, 8_000, 48_000 * 4)];
    world.run(&mut tick, 50, &inputs);
    let now = start + FRAME * tick;
    assert_eq!(world.peers[0].engine.status(now).talking, ["peer1"], "the partner, not peer2");
    assert_eq!(world.peers[2].engine.status(now).talking, Vec::<String>::new(), "paused in a call");
    // Hang up: 0 hears the room (peer2) again, with its room session.
    world.peers[0].engine.end_call();
    world.peers[1].engine.end_call();
    world
        .relay
        .apply(RelayCommand::Move { session: rooms[0], group: Some(GroupId(1)) })
        .expect("known");
    world
        .relay
        .apply(RelayCommand::Move { session: rooms[1], group: Some(GroupId(1)) })
        .expect("known");
    world.run(&mut tick, 50, &inputs);
    let now = start + FRAME * tick;
    assert_eq!(world.peers[0].engine.status(now).talking, ["peer1", "peer2"]);
    assert_eq!(world.peers[0].engine.active_session(), Some(rooms[0]));
}

#[test]
fn mute_sends_nothing_and_deafen_plays_nothing() {
    let mut world = World::new(2, TransmitModeArg::Always);
    let start = world.start;
    world.open(0, lobby(), Some(1), start);
    world.open(1, lobby(), Some(1), start);
    let muted = VoiceSettings { muted: true, ..world.peers[0].engine.settings() };
    world.peers[0].engine.apply_settings(muted);
    let mut tick = 0;
    let loud = tone(440.0, 8_000, 48_000 * 4);
    world.run(&mut tick, 40, &[loud.clone(), loud.clone()]);
    assert_eq!(world.peers[0].engine.status(start).packets_sent, 0);
    assert_eq!(level(&world.peers[1].heard), -120.0);
    assert!(level(&world.peers[0].heard) > -30.0, "peer1 is heard");
    let deaf = VoiceSettings { muted: false, deafened: true, ..world.peers[0].engine.settings() };
    world.peers[0].engine.apply_settings(deaf);
    world.peers[0].heard.clear();
    world.run(&mut tick, 40, &[loud.clone(), loud]);
    assert_eq!(level(&world.peers[0].heard), -120.0, "deafened hears nothing");
    assert_eq!(world.peers[0].engine.status(start).packets_sent, 0, "deafened does not send");
    assert!(
        !world.peers[0].engine.status(start + FRAME * tick).talking.is_empty(),
        "but sees who talks"
    );
}

#[test]
fn push_to_talk_sends_only_while_pressed() {
    let mut world = World::new(2, TransmitModeArg::Ptt);
    let start = world.start;
    world.open(0, lobby(), Some(1), start);
    world.open(1, lobby(), Some(1), start);
    let loud = tone(440.0, 8_000, 48_000 * 4);
    let mut tick = 0;
    world.run(&mut tick, 20, std::slice::from_ref(&loud));
    assert_eq!(world.peers[0].engine.status(start).packets_sent, 0);
    let pressed = VoiceSettings { talk_pressed: true, ..world.peers[0].engine.settings() };
    world.peers[0].engine.apply_settings(pressed);
    world.run(&mut tick, 20, &[loud]);
    assert_eq!(world.peers[0].engine.status(start).packets_sent, 20);
}

#[test]
fn garbage_and_replays_are_refused_without_harm() {
    let mut world = World::new(1, TransmitModeArg::Vad);
    let start = world.start;
    let engine = &mut world.peers[0].engine;
    assert!(engine.handle_datagram(start, &mut [0u8; 40]).is_err(), "no session yet");
    world.open(0, lobby(), Some(1), start);
    let engine = &mut world.peers[0].engine;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..2_000 {
        let len = rng.random_range(0..1_600);
        let mut datagram: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if len > 2 && rng.random_bool(0.5) {
            datagram[0] = 1;
            datagram[1] = 2;
        }
        assert!(engine.handle_datagram(start, &mut datagram).is_err());
    }
    let status = engine.status(start);
    assert_eq!((status.packets_received, status.packets_rejected), (0, 2_001));
    let mut out = vec![0; 960];
    engine.render(start, &mut out).expect("one frame");
    assert!(
        engine.render(start, &mut [0; 10]).is_err(),
        "a wrong frame length is an error, not a panic"
    );

    // A genuine RELAY datagram is taken once; the same datagram again is
    // a replay, refused.
    let mut world = World::new(2, TransmitModeArg::Always);
    world.open(0, lobby(), Some(1), start);
    world.open(1, lobby(), Some(1), start);
    // The keepalives tell the relay where both are.
    world.deliver(start);
    world.peers[0].engine.handle_capture(start, &tone(440.0, 8_000, 960));
    let sent = world.peers[0].engine.poll_transmit().expect("a voice packet");
    let _ = world.relay.handle_datagram(world.peers[0].addr, &sent);
    let relayed = world.relay.poll_transmit().expect("relayed to peer 1").payload.to_vec();
    let listener = &mut world.peers[1].engine;
    listener.handle_datagram(start, &mut relayed.clone()).expect("authentic and new");
    assert!(listener.handle_datagram(start, &mut relayed.clone()).is_err(), "a replay");
    let status = listener.status(start);
    assert_eq!((status.packets_received, status.packets_rejected), (1, 1));
}

/// A microphone that stalls for half a second: the speaker's media clock
/// keeps time with the wall clock, so the listener's delay stays small
/// once speech resumes (it used to grow by the length of the stall).
#[test]
fn a_stalled_microphone_adds_no_delay_at_the_listener() {
    let mut world = World::new(2, TransmitModeArg::Always);
    let start = world.start;
    world.open(0, call_with(1), Some(7), start);
    world.open(1, call_with(0), Some(7), start);
    let speech = tone(440.0, 8_000, 48_000 * 12);
    let mut tick = 0;
    world.run(&mut tick, 100, std::slice::from_ref(&speech));
    // 500 ms in which the speaker's device gives nothing, as the capture
    // thread reports it; the listener keeps playing.
    world.peers[0].engine.handle_capture_gap(Duration::from_millis(500));
    for _ in 0..25 {
        let now = start + FRAME * tick;
        world.deliver(now);
        let mut out = vec![0; 960];
        world.peers[1].engine.render(now, &mut out).expect("one frame");
        tick += 1;
    }
    world.run(&mut tick, 200, &[speech]);
    let status = world.peers[1].engine.status(start + FRAME * tick);
    let delay = status.buffer_delay.expect("a speaker is heard");
    assert!(delay < Duration::from_millis(100), "{status:?}");
}
