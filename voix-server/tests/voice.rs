//! UDP voice through the real binary: calls, rooms, and packets that must
//! be dropped.
//!
//! Datagrams that must not arrive are checked by order, not by waiting:
//! the test sends everything from one thread over loopback, and the relay
//! handles datagrams in the order they arrive, so when a receiver's next
//! datagram is one sent after the ones in question, those were not
//! forwarded to it.

mod support;

use support::{Client, Heard, ServerProcess, Voice, voice};
use voix_proto::voice::{SessionId, VoiceEndpoint, VoiceKey};

fn heard(nick: &str, opus: &[u8]) -> Heard {
    Heard { nick: nick.to_owned(), opus: opus.to_vec() }
}

/// `a` calls `b`, who accepts; both read their call credentials.
fn call(a: &mut Client, b: &mut Client) {
    let (a_nick, b_nick) = (a.nick.clone(), b.nick.clone());
    a.send(&format!("TALK {b_nick}: Request"));
    b.wait_for(&format!("TALK {a_nick}: Request"));
    b.send(&format!("TALK {a_nick}: Accept"));
    a.wait_for(&format!("TALK {b_nick}: Accept"));
    a.expect(&[&format!("VOICE {b_nick}: <session> <key>")]);
    b.expect(&[&format!("VOICE {a_nick}: <session> <key>")]);
}

#[test]
fn call_voice_reaches_only_the_partner() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    let mut a = Client::register(addr, "A");
    let mut b = Client::register(addr, "B");
    let c = Client::register(addr, "C");
    let d = Client::register(addr, "D");
    // Everyone's room voice is reachable, A's and B's too (paused during
    // the call).
    let mut a_room = voice(&server, &a, "#Lobby");
    let mut b_room = voice(&server, &b, "#Lobby");
    let mut c_room = voice(&server, &c, "#Lobby");
    let mut d_room = voice(&server, &d, "#Lobby");
    call(&mut a, &mut b);
    let mut a_call = voice(&server, &a, "B");
    let mut b_call = voice(&server, &b, "A");

    a_call.speak(b"from A");
    assert_eq!(b_call.hear(), heard("A", b"from A"));
    b_call.speak(b"from B");
    assert_eq!(a_call.hear(), heard("B", b"from B"));

    // The room goes on without the callers, and heard none of the call.
    d_room.speak(b"lobby");
    assert_eq!(c_room.hear(), heard("D", b"lobby"));
    c_room.speak(b"lobby too");
    assert_eq!(d_room.hear(), heard("C", b"lobby too"));
    // The callers' room sessions are paused: they send and hear nothing.
    a_room.speak(b"paused");
    d_room.speak(b"still lobby");
    assert_eq!(c_room.hear(), heard("D", b"still lobby"));
    a_room.hear_nothing();
    b_room.hear_nothing();

    // After the call, the callers are back in the room.
    a.send("TALK B: End");
    b.wait_for("TALK A: End");
    d_room.speak(b"welcome back");
    for listener in [&mut a_room, &mut b_room, &mut c_room] {
        assert_eq!(listener.hear(), heard("D", b"welcome back"));
    }
    // The call's sessions are closed.
    a_call.speak(b"call over");
    b_room.speak(b"room again");
    assert_eq!(a_room.hear(), heard("B", b"room again"));
    b_call.hear_nothing();
}

#[test]
fn room_voice_reaches_every_other_member_and_no_one_else() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    let clients: Vec<Client> =
        ["A", "B", "C", "D", "E"].iter().map(|nick| Client::register(addr, nick)).collect();
    let [a, b, mut c, mut d, mut e] = <[Client; 5]>::try_from(clients).expect("five clients");
    for side in [&mut d, &mut e] {
        side.send("JOIN: #Side");
        side.wait_for("VOICE #Side: <session> <key>");
    }
    let mut a_voice = voice(&server, &a, "#Lobby");
    let mut b_voice = voice(&server, &b, "#Lobby");
    let mut c_voice = voice(&server, &c, "#Lobby");
    let mut d_voice = voice(&server, &d, "#Side");
    let mut e_voice = voice(&server, &e, "#Side");

    a_voice.speak(b"lobby from A");
    assert_eq!(b_voice.hear(), heard("A", b"lobby from A"));
    assert_eq!(c_voice.hear(), heard("A", b"lobby from A"));
    // Not to the speaker, not to the other room.
    e_voice.speak(b"side from E");
    assert_eq!(d_voice.hear(), heard("E", b"side from E"));
    d_voice.speak(b"side from D");
    assert_eq!(e_voice.hear(), heard("D", b"side from D"));
    b_voice.speak(b"lobby from B");
    assert_eq!(a_voice.hear(), heard("B", b"lobby from B"));
    assert_eq!(c_voice.hear(), heard("B", b"lobby from B"));

    // A room move brings a new session in the new room; the old one is
    // closed.
    c.send("JOIN: #Side");
    c.wait_for("VOICE #Side: <session> <key>");
    let mut c_side = voice(&server, &c, "#Side");
    d_voice.speak(b"hello C");
    assert_eq!(c_side.hear(), heard("D", b"hello C"));
    assert_eq!(e_voice.hear(), heard("D", b"hello C"));
    c_voice.speak(b"old session");
    a_voice.speak(b"lobby of two");
    assert_eq!(b_voice.hear(), heard("A", b"lobby of two"));
    c_voice.hear_nothing();
}

#[test]
fn forged_and_replayed_packets_reach_no_one() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    let a = Client::register(addr, "A");
    let b = Client::register(addr, "B");
    let mut a_voice = voice(&server, &a, "#Lobby");
    let mut b_voice = voice(&server, &b, "#Lobby");
    let a_credential = a.credential("#Lobby");
    let b_credential = b.credential("#Lobby");

    let genuine = a_voice.speak(b"genuine");
    assert_eq!(b_voice.hear(), heard("A", b"genuine"));

    // The attacker knows the session ids (they are small numbers) and has
    // seen A's datagrams, but not the keys. Every forgery carries a
    // sequence number the relay has not seen, so that it is the
    // authentication that refuses it, not the replay window.
    let attacker = Voice::new(addr, &a_credential);
    let fresh = a_voice.seal(b"fresh");
    let mut tampered = fresh.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let mut header_tampered = fresh.clone();
    header_tampered[16] ^= 1;
    for datagram in [&tampered[..], &header_tampered, &fresh[..fresh.len() - 1]] {
        attacker.send_raw(datagram);
    }
    let wrong_key = VoiceKey::from_bytes([7; 32]);
    let mut forged = Vec::new();
    for session in [a_credential.session, b_credential.session] {
        let mut endpoint = VoiceEndpoint::new(session, wrong_key.clone());
        // Past the sequence numbers the real endpoints have used.
        for _ in 0..10 {
            endpoint.seal_keepalive(&mut forged).expect("a fresh session");
        }
        endpoint.seal_voice(0, false, b"forged", &mut forged).expect("a short payload");
        attacker.send_raw(&forged);
        endpoint.seal_keepalive(&mut forged).expect("a fresh session");
        attacker.send_raw(&forged);
    }
    let unknown = SessionId::new(a_credential.session.get() + 1000).expect("nonzero");
    VoiceEndpoint::new(unknown, wrong_key)
        .seal_voice(0, false, b"nobody", &mut forged)
        .expect("a short payload");
    attacker.send_raw(&forged);
    for datagram in [&[][..], &[0; 10], &[1; 2000]] {
        attacker.send_raw(datagram);
    }
    // The forgeries of `fresh` did not use up its sequence number: sent by
    // A, it is heard. Sent again, by the attacker or by A, it is a replay,
    // as is the first packet.
    a_voice.send_raw(&fresh);
    assert_eq!(b_voice.hear(), heard("A", b"fresh"));
    attacker.send_raw(&fresh);
    attacker.send_raw(&genuine);
    a_voice.send_raw(&genuine);

    // None of it reached B: the next thing B hears is A's next packet.
    a_voice.speak(b"after the attack");
    assert_eq!(b_voice.hear(), heard("A", b"after the attack"));
    // A's address did not move to the attacker, nor B's: B's voice still
    // reaches A, and the attacker hears nothing.
    b_voice.speak(b"to A");
    assert_eq!(a_voice.hear(), heard("B", b"to A"));
    attacker.hear_nothing();
}

#[test]
fn voice_follows_a_client_to_a_new_address_once_it_authenticates() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    let a = Client::register(addr, "A");
    let b = Client::register(addr, "B");
    let mut a_voice = voice(&server, &a, "#Lobby");
    let mut b_voice = voice(&server, &b, "#Lobby");
    b_voice.speak(b"before");
    assert_eq!(a_voice.hear(), heard("B", b"before"));
    // A's NAT gives it a new port: its next packet comes from there.
    let old = a_voice.rebind();
    a_voice.speak(b"from the new port");
    assert_eq!(b_voice.hear(), heard("A", b"from the new port"));
    b_voice.speak(b"after");
    assert_eq!(a_voice.hear(), heard("B", b"after"));
    old.hear_nothing();
}
