//! Arbitrary bytes as a voice datagram, into the server relay and into a
//! client's opener: no panic, and nothing unauthenticated is ever sent.
//! The same bytes as an Opus payload must survive seal, relay and open.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use voix_proto::NickBuf;
use voix_proto::voice::{
    GroupId, MAX_OPUS_LEN, Relay, RelayCommand, RelayConfig, SessionId, SessionIds, VoiceEndpoint,
    VoiceKey,
};

fuzz_target!(|data: &[u8]| {
    let mut relay = Relay::new(RelayConfig::default());
    let mut ids = SessionIds::new();
    let mut endpoints: Vec<(VoiceEndpoint, SocketAddr)> = Vec::new();
    for (n, group) in [Some(1), Some(1), None].into_iter().enumerate() {
        let session: SessionId = ids.next().expect("fresh allocator");
        let key = [u8::try_from(n + 1).expect("small"); VoiceKey::LEN];
        let speaker = NickBuf::from_string(format!("user{n}")).expect("valid nick");
        relay
            .apply(RelayCommand::Open {
                session,
                key: VoiceKey::from_bytes(key),
                speaker,
                group: group.map(GroupId),
            })
            .expect("fresh ids below the limit");
        let addr = SocketAddr::from(([10, 0, 0, 1], u16::try_from(5000 + n).expect("small")));
        endpoints.push((VoiceEndpoint::new(session, VoiceKey::from_bytes(key)), addr));
    }

    // Garbage into the relay: refused or not, it must not transmit, since
    // no address is proven yet.
    let _ = relay.handle_datagram(SocketAddr::from(([192, 0, 2, 1], 9)), data);
    assert!(relay.poll_transmit().is_none());

    // Garbage into a client's opener.
    let mut copy = data.to_vec();
    let _ = endpoints[0].0.open(&mut copy);

    // The bytes as Opus: seal, relay, open, and compare.
    let opus = &data[..data.len().min(MAX_OPUS_LEN)];
    let mut datagram = Vec::new();
    let (listener, speaker) = (1, 0);
    endpoints[listener].0.seal_keepalive(&mut datagram).expect("fresh session");
    let from = endpoints[listener].1;
    assert_eq!(relay.handle_datagram(from, &datagram), Ok(0));
    let marker = data.first().is_some_and(|b| b & 1 == 1);
    endpoints[speaker].0.seal_voice(960, marker, opus, &mut datagram).expect("bounded payload");
    let from = endpoints[speaker].1;
    assert_eq!(relay.handle_datagram(from, &datagram), Ok(1));
    let transmit = relay.poll_transmit().expect("one relay queued");
    assert_eq!(transmit.to, endpoints[listener].1);
    let mut received = transmit.payload.to_vec();
    let voice = endpoints[listener].0.open(&mut received).expect("relay output opens");
    assert_eq!((voice.nick.as_str(), voice.opus, voice.marker), ("user0", opus, marker));
});
