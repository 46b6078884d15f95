//! End-to-end tests: client endpoints talking through the relay, with no
//! sockets, as a deterministic script.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;
use crate::{Nick, NickBuf};

/// One client: its endpoint and the address its datagrams come from.
struct Member {
    endpoint: VoiceEndpoint,
    addr: SocketAddr,
    nick: String,
}

/// A relay and the clients around it.
struct Net {
    relay: Relay,
    ids: SessionIds,
    members: Vec<Member>,
}

fn key(n: usize) -> VoiceKey {
    VoiceKey::from_bytes(std::array::from_fn(|j| {
        u8::try_from((n * 131 + j * 7 + 1) % 256).expect("below 256")
    }))
}

fn addr(n: usize) -> SocketAddr {
    let port = u16::try_from(10_000 + n).expect("few members");
    SocketAddr::from(([10, 0, 0, 1], port))
}

impl Net {
    fn new() -> Self {
        Self::with_config(RelayConfig::default())
    }

    fn with_config(config: RelayConfig) -> Self {
        Self { relay: Relay::new(config), ids: SessionIds::new(), members: Vec::new() }
    }

    /// Opens a session for a new member in `group`; returns its index.
    fn join(&mut self, group: Option<u64>) -> usize {
        let n = self.members.len();
        let session = self.ids.next().expect("few sessions");
        let nick = format!("user{n}");
        let speaker = NickBuf::from_string(nick.clone()).expect("valid nick");
        self.relay
            .apply(RelayCommand::Open { session, key: key(n), speaker, group: group.map(GroupId) })
            .expect("fresh id below the limit");
        self.members.push(Member {
            endpoint: VoiceEndpoint::new(session, key(n)),
            addr: addr(n),
            nick,
        });
        n
    }

    fn session(&self, member: usize) -> SessionId {
        self.members[member].endpoint.session()
    }

    fn keepalive(&mut self, member: usize) -> Result<usize, VoicePacketError> {
        let mut datagram = Vec::new();
        let m = &mut self.members[member];
        m.endpoint.seal_keepalive(&mut datagram).expect("fresh session");
        self.relay.handle_datagram(m.addr, &datagram)
    }

    /// Seals a VOICE packet from `member`, without sending it.
    fn seal(&mut self, member: usize, opus: &[u8]) -> Vec<u8> {
        let mut datagram = Vec::new();
        self.members[member]
            .endpoint
            .seal_voice(48_000, false, opus, &mut datagram)
            .expect("small payload, fresh session");
        datagram
    }

    fn speak(&mut self, member: usize, opus: &[u8]) -> Result<usize, VoicePacketError> {
        let datagram = self.seal(member, opus);
        let from = self.members[member].addr;
        self.relay.handle_datagram(from, &datagram)
    }

    /// Everything the relay queued, in order.
    fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(t) = self.relay.poll_transmit() {
            out.push((t.to, t.payload.to_vec()));
        }
        out
    }

    /// Delivers each queued datagram to the member at its address and
    /// returns (receiver, speaker's nick, opus) per datagram.
    fn deliver(&mut self) -> Vec<(usize, String, Vec<u8>)> {
        let mut heard = Vec::new();
        for (to, mut datagram) in self.drain() {
            let receiver =
                self.members.iter().position(|m| m.addr == to).expect("sent only to members");
            let voice =
                self.members[receiver].endpoint.open(&mut datagram).expect("relay output opens");
            heard.push((receiver, voice.nick.to_string(), voice.opus.to_vec()));
        }
        heard
    }
}

#[test]
fn room_voice_reaches_every_other_addressed_member() {
    let mut net = Net::new();
    let [a, b, c, silent] = [(); 4].map(|()| net.join(Some(1)));
    let elsewhere = net.join(Some(2));
    for m in [a, b, c, elsewhere] {
        assert_eq!(net.keepalive(m), Ok(0));
    }
    assert_eq!(net.speak(a, b"hello"), Ok(2));
    let heard = net.deliver();
    let expected = [b, c].map(|r| (r, "user0".to_owned(), b"hello".to_vec()));
    assert_eq!(heard, expected);
    let stats = net.relay.stats();
    assert_eq!((stats.forwarded, stats.unaddressed, stats.voice), (2, 1, 1));
    assert!(net.relay.session_addr(net.session(silent)).is_none());
}

#[test]
fn forged_replayed_and_garbage_datagrams_cause_no_transmit() {
    let mut net = Net::new();
    let [a, b] = [(); 2].map(|()| net.join(Some(1)));
    assert_eq!(net.keepalive(b), Ok(0));
    let genuine = net.seal(a, b"voice");
    let attacker = addr(99);

    // Right session, wrong key: refused, and the address is not learned.
    let mut forger = VoiceEndpoint::new(net.session(a), key(77));
    let mut forged = Vec::new();
    forger.seal_voice(0, false, b"evil", &mut forged).expect("fresh session");
    assert_eq!(
        net.relay.handle_datagram(attacker, &forged),
        Err(VoicePacketError::AuthenticationFailed)
    );
    assert_eq!(net.relay.session_addr(net.session(a)), None);

    // The genuine packet still goes through, once.
    assert_eq!(net.relay.handle_datagram(addr(a), &genuine), Ok(1));
    assert_eq!(net.drain().len(), 1);
    // A replay from the attacker's address neither relays nor moves a's
    // address.
    assert_eq!(net.relay.handle_datagram(attacker, &genuine), Err(VoicePacketError::Replayed(0)));
    assert_eq!(net.relay.session_addr(net.session(a)), Some(addr(a)));

    let mut no_session = [0u8; MIN_DATAGRAM_LEN];
    no_session[..2].copy_from_slice(&[VERSION, 1]);
    for garbage in [&b""[..], b"\x01", &no_session, &[0xff; 1500], &[0; 1501]] {
        assert!(net.relay.handle_datagram(attacker, garbage).is_err());
    }
    assert!(net.drain().is_empty());
    let s = net.relay.stats();
    assert_eq!(s.datagrams, 9);
    assert_eq!(
        (
            s.refused_unauthenticated,
            s.refused_replayed,
            s.refused_malformed,
            s.refused_unknown_session
        ),
        (1, 1, 4, 1),
        "each refusal counted once, by reason"
    );
}

#[test]
fn a_relay_packet_sent_to_the_server_is_refused() {
    let mut net = Net::new();
    let [a, b] = [(); 2].map(|()| net.join(Some(1)));
    assert_eq!(net.keepalive(b), Ok(0));
    assert_eq!(net.speak(a, b"x"), Ok(1));
    let (_, relayed) = net.drain().remove(0);
    assert_eq!(
        net.relay.handle_datagram(addr(b), &relayed),
        Err(VoicePacketError::UnexpectedKind(PacketKind::Relay))
    );
}

#[test]
fn an_authenticated_datagram_from_a_new_address_moves_the_session() {
    let mut net = Net::new();
    let [a, b] = [(); 2].map(|()| net.join(Some(1)));
    assert_eq!(net.keepalive(b), Ok(0));
    net.members[b].addr = addr(50);
    assert_eq!(net.keepalive(b), Ok(0));
    assert_eq!(net.relay.session_addr(net.session(b)), Some(addr(50)));
    assert_eq!(net.relay.stats().address_changes, 2);
    assert_eq!(net.speak(a, b"x"), Ok(1));
    assert_eq!(net.drain()[0].0, addr(50));
}

#[test]
fn paused_sessions_neither_send_nor_receive_but_learn_their_address() {
    let mut net = Net::new();
    let [a, b] = [(); 2].map(|()| net.join(Some(1)));
    let paused = net.join(None);
    for m in [a, b, paused] {
        assert_eq!(net.keepalive(m), Ok(0));
    }
    assert!(net.relay.session_addr(net.session(paused)).is_some());
    assert_eq!(net.speak(paused, b"x"), Ok(0));
    assert_eq!(net.relay.stats().paused, 1);

    let session = net.session(b);
    net.relay.apply(RelayCommand::Move { session, group: None }).expect("move never fails");
    assert_eq!(net.speak(a, b"x"), Ok(0));
    net.relay
        .apply(RelayCommand::Move { session, group: Some(GroupId(1)) })
        .expect("move never fails");
    assert_eq!(net.speak(a, b"x"), Ok(1));
    assert_eq!(net.deliver()[0].0, b);
}

#[test]
fn moving_changes_who_hears_whom() {
    let mut net = Net::new();
    let [a, b, c] = [(); 3].map(|()| net.join(Some(1)));
    for m in [a, b, c] {
        assert_eq!(net.keepalive(m), Ok(0));
    }
    let session = net.session(c);
    net.relay
        .apply(RelayCommand::Move { session, group: Some(GroupId(2)) })
        .expect("move never fails");
    assert_eq!(net.speak(a, b"x"), Ok(1));
    assert_eq!(net.speak(c, b"x"), Ok(0));
    let session = net.session(a);
    net.relay
        .apply(RelayCommand::Move { session, group: Some(GroupId(2)) })
        .expect("move never fails");
    assert_eq!(net.speak(c, b"x"), Ok(1));
    let heard: Vec<usize> = net.deliver().into_iter().map(|(r, ..)| r).collect();
    assert_eq!(heard, [b, a]);
}

#[test]
fn close_forgets_the_session_and_its_address() {
    let mut net = Net::new();
    let [a, b] = [(); 2].map(|()| net.join(Some(1)));
    for m in [a, b] {
        assert_eq!(net.keepalive(m), Ok(0));
    }
    let session = net.session(b);
    net.relay.apply(RelayCommand::Close { session }).expect("close never fails");
    assert_eq!(net.relay.session_addr(session), None);
    assert_eq!(net.speak(a, b"x"), Ok(0));
    assert_eq!(net.speak(b, b"x"), Err(VoicePacketError::UnknownSession(session.get())));
    assert_eq!(net.relay.session_count(), 1);
}

#[test]
fn commands_on_unknown_sessions_are_harmless() {
    let mut net = Net::new();
    let a = net.join(Some(1));
    let unknown = SessionId::new(4000).expect("nonzero");
    for command in [
        RelayCommand::Move { session: unknown, group: Some(GroupId(1)) },
        RelayCommand::Close { session: unknown },
    ] {
        assert_eq!(net.relay.apply(command), Ok(()));
    }
    assert_eq!(net.relay.session_count(), 1);
    assert_eq!(net.keepalive(a), Ok(0));
}

#[test]
fn open_refuses_reused_ids_and_too_many_sessions() {
    let mut net = Net::with_config(RelayConfig { max_sessions: 2, ..RelayConfig::default() });
    let a = net.join(Some(1));
    let open = |session: SessionId| RelayCommand::Open {
        session,
        key: key(0),
        speaker: Nick::new("x").expect("valid").into_owned(),
        group: None,
    };
    let session = net.session(a);
    assert_eq!(net.relay.apply(open(session)), Err(RelayCommandError::SessionReused(session)));
    net.relay.apply(RelayCommand::Close { session }).expect("close never fails");
    assert_eq!(
        net.relay.apply(open(session)),
        Err(RelayCommandError::SessionReused(session)),
        "a closed id stays used"
    );
    let next = |n: u32| SessionId::new(n).expect("nonzero");
    assert_eq!(net.relay.apply(open(next(5))), Ok(()));
    assert_eq!(net.relay.apply(open(next(6))), Ok(()));
    assert_eq!(net.relay.apply(open(next(7))), Err(RelayCommandError::TooManySessions(2)));
}

#[test]
fn a_full_queue_drops_and_counts() {
    let mut net = Net::with_config(RelayConfig { max_queued: 3, ..RelayConfig::default() });
    let members: Vec<usize> = (0..5).map(|_| net.join(Some(1))).collect();
    for &m in &members {
        assert_eq!(net.keepalive(m), Ok(0));
    }
    assert_eq!(net.speak(members[0], b"x"), Ok(3));
    assert_eq!(net.relay.stats().queue_full, 1);
    assert_eq!(net.drain().len(), 3);
    assert_eq!(net.speak(members[0], b"x"), Ok(3));
}

proptest! {
    /// Whatever is spoken arrives intact: speaker, nick, sequence,
    /// timestamp, marker and Opus bytes.
    #[test]
    fn seal_relay_open_round_trips(
        opus in proptest::collection::vec(any::<u8>(), 0..=MAX_OPUS_LEN),
        sequence in any::<u32>(),
        timestamp in any::<u32>(),
        marker in any::<bool>(),
    ) {
        let mut net = Net::new();
        let [a, b] = [(); 2].map(|()| net.join(Some(7)));
        prop_assert_eq!(net.keepalive(b), Ok(0));
        net.members[a].endpoint.set_next_sequence(Some(sequence));
        let mut datagram = Vec::new();
        net.members[a]
            .endpoint
            .seal_voice(timestamp, marker, &opus, &mut datagram)
            .expect("payload within the limit");
        prop_assert!(datagram.len() <= MAX_DATAGRAM_LEN);
        prop_assert_eq!(net.relay.handle_datagram(addr(a), &datagram), Ok(1));
        let mut sent = net.drain();
        prop_assert_eq!(sent.len(), 1);
        let (to, relayed) = &mut sent[0];
        prop_assert_eq!(*to, addr(b));
        prop_assert!(relayed.len() <= MAX_DATAGRAM_LEN);
        let speaker = net.session(a);
        let voice = net.members[b].endpoint.open(relayed).expect("authentic");
        prop_assert_eq!(voice.speaker, speaker);
        prop_assert_eq!(voice.nick.as_str(), "user0");
        prop_assert_eq!(voice.sequence, sequence);
        prop_assert_eq!(voice.timestamp, timestamp);
        prop_assert_eq!(voice.marker, marker);
        prop_assert_eq!(voice.opus, &opus[..]);
    }

    /// Changing any one byte of a VOICE packet makes the relay refuse it
    /// and send nothing; changing any one byte of a RELAY packet makes the
    /// client refuse it.
    #[test]
    fn any_byte_change_is_refused(
        opus in proptest::collection::vec(any::<u8>(), 0..64),
        at in any::<prop::sample::Index>(),
        mask in 1..=u8::MAX,
    ) {
        let mut net = Net::new();
        let [a, b] = [(); 2].map(|()| net.join(Some(1)));
        let other = net.join(Some(1));
        for m in [a, b, other] {
            prop_assert_eq!(net.keepalive(m), Ok(0));
        }
        let mut voice = net.seal(a, &opus);
        let i = at.index(voice.len());
        voice[i] ^= mask;
        prop_assert!(net.relay.handle_datagram(addr(a), &voice).is_err());
        prop_assert!(net.drain().is_empty());

        prop_assert_eq!(net.speak(a, &opus), Ok(2));
        let (to, mut relayed) = net.drain().remove(0);
        prop_assert_eq!(to, addr(b));
        let i = at.index(relayed.len());
        relayed[i] ^= mask;
        prop_assert!(net.members[b].endpoint.open(&mut relayed).is_err());
    }

    /// In any arrangement of groups, pauses and proven addresses, a packet
    /// reaches exactly the other members of the speaker's group that have a
    /// proven address, once each, and a replay of it reaches no one.
    #[test]
    fn fan_out_reaches_exactly_the_addressed_group(
        layout in proptest::collection::vec((prop::option::of(0..3u64), any::<bool>()), 1..12),
        speaker in any::<prop::sample::Index>(),
    ) {
        let mut net = Net::new();
        for &(group, _) in &layout {
            net.join(group);
        }
        for (m, &(_, proven)) in layout.iter().enumerate() {
            if proven {
                prop_assert_eq!(net.keepalive(m), Ok(0));
            }
        }
        let s = speaker.index(layout.len());
        let expected: BTreeSet<usize> = match layout[s].0 {
            None => BTreeSet::new(),
            Some(g) => (0..layout.len())
                .filter(|&m| m != s && layout[m] == (Some(g), true))
                .collect(),
        };
        let datagram = net.seal(s, b"opus");
        prop_assert_eq!(net.relay.handle_datagram(addr(s), &datagram), Ok(expected.len()));
        let heard = net.deliver();
        let receivers: BTreeSet<usize> = heard.iter().map(|(r, ..)| *r).collect();
        prop_assert_eq!(receivers.len(), heard.len(), "one packet per receiver");
        prop_assert_eq!(&receivers, &expected);
        let nick = &net.members[s].nick;
        prop_assert!(heard.iter().all(|(_, n, opus)| n == nick && opus == b"opus"));

        let sequence = u32::from(layout[s].1);
        prop_assert_eq!(
            net.relay.handle_datagram(addr(s), &datagram),
            Err(VoicePacketError::Replayed(sequence))
        );
        prop_assert!(net.drain().is_empty());
    }

    /// Arbitrary bytes never make the relay send anything.
    #[test]
    fn garbage_never_transmits(
        datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..20),
    ) {
        let mut net = Net::new();
        let [a, b] = [(); 2].map(|()| net.join(Some(1)));
        prop_assert_eq!(net.keepalive(a), Ok(0));
        prop_assert_eq!(net.keepalive(b), Ok(0));
        for mut datagram in datagrams {
            // Aim some of them at real sessions so they reach the tag check.
            if datagram.len() >= MIN_DATAGRAM_LEN && datagram[0] % 2 == 0 {
                datagram[..8].copy_from_slice(&[1, 1, 0, 0, 0, 0, 0, 1]);
                datagram[8..12].fill(0);
            }
            prop_assert!(net.relay.handle_datagram(addr(99), &datagram).is_err());
        }
        prop_assert!(net.drain().is_empty());
        prop_assert_eq!(net.relay.session_addr(net.session(a)), Some(addr(a)));
    }
}

/// The test vectors of PROTOCOL.md, which an independent implementation
/// (Python `cryptography`, i.e. OpenSSL) produced from the document's
/// description alone. If this fails, the format changed.
#[test]
fn protocol_test_vectors() {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let key = |first: u8| {
        VoiceKey::from_bytes(std::array::from_fn(|i| first + u8::try_from(i).unwrap_or(0)))
    };
    let session = |n: u32| SessionId::new(n).expect("nonzero");

    let mut tina = VoiceEndpoint::new(session(1), key(0x00));
    let mut voice = Vec::new();
    tina.seal_voice(960, true, b"Voix", &mut voice).expect("small payload");
    assert_eq!(
        hex(&voice),
        "01010001000000010000000000000000000003c0\
         c2501296\
         473b460aa15e60a97db0ac867c4bcfd0"
    );

    let mut relay = Relay::new(RelayConfig::default());
    for (n, first, nick) in [(1, 0x00, "Tina"), (2, 0x20, "Mike")] {
        relay
            .apply(RelayCommand::Open {
                session: session(n),
                key: key(first),
                speaker: Nick::new(nick).expect("valid").into_owned(),
                group: Some(GroupId(1)),
            })
            .expect("fresh ids");
    }
    let mut mike = VoiceEndpoint::new(session(2), key(0x20));
    let mut keepalive = Vec::new();
    mike.seal_keepalive(&mut keepalive).expect("fresh session");
    assert_eq!(
        hex(&keepalive),
        "0103000000000002000000000000000000000000\
         a9b0655049f3976fc272fcb0fe0c0fec"
    );
    assert_eq!(relay.handle_datagram(addr(2), &keepalive), Ok(0));
    assert_eq!(relay.handle_datagram(addr(1), &voice), Ok(1));
    let mut relayed = relay.poll_transmit().expect("one").payload.to_vec();
    assert_eq!(
        hex(&relayed),
        "01020001000000020000000100000000000003c0\
         0c900013a091f3a062\
         80530d78256cf4f33fadefac1e470c32"
    );
    let got = mike.open(&mut relayed).expect("authentic");
    assert_eq!((got.nick.as_str(), got.opus), ("Tina", &b"Voix"[..]));
}
