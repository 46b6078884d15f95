//! The client side of one voice session: seals VOICE and KEEPALIVE packets
//! and opens the RELAY packets the server addresses to the session.

use super::aead::PacketCipher;
use super::error::VoicePacketError;
use super::key::{SessionId, VoiceKey};
use super::packet::{self, Header, Kind, MAX_OPUS_LEN};
use super::speakers::SpeakerWindows;
use crate::Nick;

/// A misuse of [`VoiceEndpoint`] by its caller (as opposed to a fault in a
/// received packet, which is a [`VoicePacketError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The Opus payload is longer than [`MAX_OPUS_LEN`].
    #[error("opus payload of {len} bytes exceeds the {MAX_OPUS_LEN}-byte maximum")]
    PayloadTooLong {
        /// The payload's length.
        len: usize,
    },
    /// Every sequence number of the session was used; sealing more would
    /// reuse a nonce. Ask the server for a new session (rejoin).
    #[error("voice session has used all its sequence numbers; rejoin for a new one")]
    SequenceExhausted,
}

/// A voice packet from another member, opened by
/// [`VoiceEndpoint::open`]. It borrows the datagram it was decrypted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedVoice<'a> {
    /// The speaking session, as the server authenticated it.
    pub speaker: SessionId,
    /// The speaker's nickname, as the server knows it.
    pub nick: Nick<'a>,
    /// The speaker's sequence number: +1 per packet it sent, so a gap means
    /// loss (or a KEEPALIVE, which shares the counter).
    pub sequence: u32,
    /// The speaker's 48 kHz sample clock.
    pub timestamp: u32,
    /// First packet of a talk spurt.
    pub marker: bool,
    /// The Opus packet.
    pub opus: &'a [u8],
}

/// One voice session on the client: the credential from the server's
/// `VOICE` line, the next sequence number, and the replay windows of the
/// speakers it hears. Sans-IO: it turns payloads into datagrams and back.
///
/// A client seals one KEEPALIVE as soon as it has the credential, so that
/// the server learns its address and can send to it before it speaks, and
/// another after [`KEEPALIVE_INTERVAL`](super::KEEPALIVE_INTERVAL) without
/// sending anything.
#[derive(Debug, Clone)]
pub struct VoiceEndpoint {
    session: SessionId,
    cipher: PacketCipher,
    /// `None` once `u32::MAX` was used.
    next_sequence: Option<u32>,
    speakers: SpeakerWindows,
}

impl VoiceEndpoint {
    /// The endpoint of `session`, whose packets are sealed with `key`.
    pub fn new(session: SessionId, key: VoiceKey) -> Self {
        Self {
            session,
            cipher: PacketCipher::new(&key),
            next_sequence: Some(0),
            speakers: SpeakerWindows::new(),
        }
    }

    /// The session this endpoint speaks for.
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The sequence number the next sealed packet will carry, or `None`
    /// when they are exhausted.
    pub fn next_sequence(&self) -> Option<u32> {
        self.next_sequence
    }

    /// Continues the session's counter at `sequence` (tests only: starting
    /// anywhere but 0 on a real session risks nothing, but nothing needs it).
    #[cfg(test)]
    pub(crate) fn set_next_sequence(&mut self, sequence: Option<u32>) {
        self.next_sequence = sequence;
    }

    /// Replaces the contents of `out` with a VOICE packet carrying `opus`.
    ///
    /// `timestamp` is the sender's 48 kHz sample clock at the first sample
    /// of the packet; `marker` flags the first packet of a talk spurt.
    pub fn seal_voice(
        &mut self,
        timestamp: u32,
        marker: bool,
        opus: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        if opus.len() > MAX_OPUS_LEN {
            return Err(SealError::PayloadTooLong { len: opus.len() });
        }
        self.seal(Kind::Voice, timestamp, marker, opus, out)
    }

    /// Replaces the contents of `out` with a KEEPALIVE packet.
    pub fn seal_keepalive(&mut self, out: &mut Vec<u8>) -> Result<(), SealError> {
        self.seal(Kind::Keepalive, 0, false, &[], out)
    }

    fn seal(
        &mut self,
        kind: Kind,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let sequence = self.next_sequence.ok_or(SealError::SequenceExhausted)?;
        self.next_sequence = sequence.checked_add(1);
        let header = Header { kind, marker, session: self.session.get(), sequence, timestamp };
        out.clear();
        self.cipher.seal_append(header, payload, out);
        Ok(())
    }

    /// Authenticates and decrypts a RELAY packet addressed to this session,
    /// in place in `datagram`, and returns what it carries.
    ///
    /// A refused datagram changes no state, except that an authentic one
    /// whose body is malformed ([`VoicePacketError::BadRelayBody`]) still
    /// uses up its sequence number. The contents of `datagram` are
    /// unspecified afterwards either way.
    pub fn open<'a>(
        &mut self,
        datagram: &'a mut [u8],
    ) -> Result<ReceivedVoice<'a>, VoicePacketError> {
        let packet::Packet { header, head, body, tag } = packet::parse_mut(datagram)?;
        let Kind::Relay { speaker } = header.kind else {
            return Err(VoicePacketError::UnexpectedKind(header.kind.packet_kind()));
        };
        if header.session != self.session.get() {
            return Err(VoicePacketError::UnknownSession(header.session));
        }
        self.speakers.check(speaker, header.sequence)?;
        self.cipher.open(head, body, tag)?;
        self.speakers.record(speaker, header.sequence);
        let body: &'a [u8] = body;
        let (nick, opus) = packet::split_relay_body(body)?;
        Ok(ReceivedVoice {
            speaker,
            nick,
            sequence: header.sequence,
            timestamp: header.timestamp,
            marker: header.marker,
            opus,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::packet::{HEADER_LEN, MIN_DATAGRAM_LEN, PacketKind};

    fn endpoint(session: u32, key: u8) -> VoiceEndpoint {
        VoiceEndpoint::new(
            SessionId::new(session).expect("nonzero"),
            VoiceKey::from_bytes([key; 32]),
        )
    }

    /// A RELAY to `to` as the server would seal it.
    fn relay(to: &VoiceEndpoint, speaker: u32, sequence: u32, body: &[u8]) -> Vec<u8> {
        let speaker = SessionId::new(speaker).expect("a nonzero speaker");
        let header = Header {
            kind: Kind::Relay { speaker },
            marker: false,
            session: to.session.get(),
            sequence,
            timestamp: 960,
        };
        let mut out = Vec::new();
        to.cipher.seal_append(header, body, &mut out);
        out
    }

    #[test]
    fn voice_packet_layout() {
        let mut e = endpoint(7, 1);
        let mut out = vec![0xaa; 3];
        e.seal_voice(0x0102_0304, true, b"opus", &mut out).expect("small payload");
        assert_eq!(out.len(), MIN_DATAGRAM_LEN + 4);
        assert_eq!(out[..HEADER_LEN], [1, 1, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert_ne!(&out[HEADER_LEN..HEADER_LEN + 4], b"opus", "encrypted");
        e.seal_keepalive(&mut out).expect("fresh session");
        assert_eq!(out.len(), MIN_DATAGRAM_LEN);
        assert_eq!(out[..4], [1, 3, 0, 0]);
        assert_eq!(out[12..16], [0, 0, 0, 1], "voice and keepalive share the counter");
    }

    #[test]
    fn refuses_oversized_payloads_without_using_a_sequence() {
        let mut e = endpoint(7, 1);
        let mut out = Vec::new();
        assert_eq!(
            e.seal_voice(0, false, &[0; MAX_OPUS_LEN + 1], &mut out),
            Err(SealError::PayloadTooLong { len: MAX_OPUS_LEN + 1 })
        );
        assert_eq!(e.next_sequence(), Some(0));
        assert_eq!(e.seal_voice(0, false, &[0; MAX_OPUS_LEN], &mut out), Ok(()));
    }

    #[test]
    fn refuses_to_wrap_the_sequence() {
        let mut e = endpoint(7, 1);
        e.set_next_sequence(Some(u32::MAX));
        let mut out = Vec::new();
        assert_eq!(e.seal_keepalive(&mut out), Ok(()));
        assert_eq!(out[12..16], [0xff; 4]);
        assert_eq!(e.seal_keepalive(&mut out), Err(SealError::SequenceExhausted));
        assert_eq!(e.seal_voice(0, false, b"x", &mut out), Err(SealError::SequenceExhausted));
    }

    #[test]
    fn opens_a_relay_once() {
        let mut e = endpoint(7, 1);
        let mut datagram = relay(&e, 9, 5, b"\x04Tina\x01\x02");
        let mut copy = datagram.clone();
        let got = e.open(&mut datagram).expect("authentic");
        assert_eq!(got.speaker.get(), 9);
        assert_eq!(got.nick.as_str(), "Tina");
        assert_eq!((got.sequence, got.timestamp, got.marker), (5, 960, false));
        assert_eq!(got.opus, [1, 2]);
        assert_eq!(e.open(&mut copy), Err(VoicePacketError::Replayed(5)));
    }

    #[test]
    fn refusals_say_why() {
        let mut e = endpoint(7, 1);
        let other = endpoint(8, 1);
        let wrong_key = endpoint(7, 2);
        let mut voice = Vec::new();
        endpoint(7, 1).seal_voice(0, false, b"x", &mut voice).expect("fresh session");
        let cases = [
            (voice, VoicePacketError::UnexpectedKind(PacketKind::Voice)),
            (relay(&other, 9, 0, b"\x01a"), VoicePacketError::UnknownSession(8)),
            (relay(&wrong_key, 9, 0, b"\x01a"), VoicePacketError::AuthenticationFailed),
            (relay(&e, 9, 1, b"\x05a"), VoicePacketError::BadRelayBody),
        ];
        for (mut datagram, err) in cases {
            assert_eq!(e.open(&mut datagram), Err(err));
        }
    }

    #[test]
    fn a_failed_authentication_does_not_burn_the_sequence() {
        let mut e = endpoint(7, 1);
        let mut forged = relay(&endpoint(7, 2), 9, 3, b"\x01a");
        assert_eq!(e.open(&mut forged), Err(VoicePacketError::AuthenticationFailed));
        let mut genuine = relay(&e, 9, 3, b"\x01a");
        assert!(e.open(&mut genuine).is_ok());
    }
}
