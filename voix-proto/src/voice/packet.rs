//! The wire layout of a voice packet: a 20-byte header in the clear, the
//! ciphertext, and a 16-byte tag. This module reads and writes the header
//! and checks everything that can be checked without a key.

use std::fmt;

use super::error::VoicePacketError;
use super::key::SessionId;
use crate::{MAX_NICK_LEN, Nick};

/// The only packet format version this crate speaks.
pub const VERSION: u8 = 1;
/// Length of the cleartext header, which is also the AEAD associated data.
pub const HEADER_LEN: usize = 20;
/// Length of the Poly1305 tag at the end of every packet.
pub const TAG_LEN: usize = 16;
/// Shortest valid packet: a header and a tag around an empty ciphertext.
pub const MIN_DATAGRAM_LEN: usize = HEADER_LEN + TAG_LEN;
/// Longest datagram either side accepts or sends.
pub const MAX_DATAGRAM_LEN: usize = 1500;
/// Longest Opus payload of a VOICE packet: small enough that the RELAY
/// packet made from it (which adds the speaker's nick) still fits in
/// [`MAX_DATAGRAM_LEN`].
pub const MAX_OPUS_LEN: usize = MAX_DATAGRAM_LEN - MIN_DATAGRAM_LEN - 1 - MAX_NICK_LEN;
/// Longest VOICE datagram.
pub(crate) const MAX_VOICE_DATAGRAM_LEN: usize = MIN_DATAGRAM_LEN + MAX_OPUS_LEN;
/// Flag bit 0: the first packet of a talk spurt.
const FLAG_MARKER: u16 = 1;

/// What a packet carries and which way it travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Client to server: Opus from the session's owner.
    Voice,
    /// Server to client: Opus from another session, with the speaker's nick.
    Relay,
    /// Client to server, empty: proves the client's address and keeps NAT
    /// bindings open.
    Keepalive,
}

impl PacketKind {
    /// The kind's byte on the wire.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Voice => 1,
            Self::Relay => 2,
            Self::Keepalive => 3,
        }
    }

    /// The kind with this wire byte, if any.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Voice),
            2 => Some(Self::Relay),
            3 => Some(Self::Keepalive),
            _ => None,
        }
    }
}

impl fmt::Display for PacketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Voice => "voice",
            Self::Relay => "relay",
            Self::Keepalive => "keepalive",
        })
    }
}

/// What a header says a packet is, with the field only a RELAY has: no
/// header can be a RELAY without a speaker, nor name one on another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Client to server: Opus from the session's owner.
    Voice,
    /// Server to client: Opus from `speaker`.
    Relay {
        /// The session that spoke.
        speaker: SessionId,
    },
    /// Client to server, empty.
    Keepalive,
}

impl Kind {
    /// The kind without its speaker, as on the wire and in errors.
    pub(crate) fn packet_kind(self) -> PacketKind {
        match self {
            Self::Voice => PacketKind::Voice,
            Self::Relay { .. } => PacketKind::Relay,
            Self::Keepalive => PacketKind::Keepalive,
        }
    }
}

/// A packet header whose fields are consistent with its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: Kind,
    /// First packet of a talk spurt; never set on KEEPALIVE.
    pub(crate) marker: bool,
    /// The session whose key seals the packet, as on the wire (may be 0,
    /// which no session has).
    pub(crate) session: u32,
    pub(crate) sequence: u32,
    pub(crate) timestamp: u32,
}

impl Header {
    /// Reads the header bytes of a datagram of `len` bytes, at least
    /// [`MIN_DATAGRAM_LEN`] and at most [`MAX_DATAGRAM_LEN`], and checks
    /// every other rule that needs no key: version, kind, flags, the
    /// speaker field, the kind's length limit, and that a KEEPALIVE is
    /// empty.
    fn decode(header: &[u8; HEADER_LEN], len: usize) -> Result<Self, VoicePacketError> {
        if header[0] != VERSION {
            return Err(VoicePacketError::BadVersion(header[0]));
        }
        let kind =
            PacketKind::from_byte(header[1]).ok_or(VoicePacketError::UnknownKind(header[1]))?;
        let flags = u16::from_be_bytes([header[2], header[3]]);
        let allowed = match kind {
            PacketKind::Voice | PacketKind::Relay => FLAG_MARKER,
            PacketKind::Keepalive => 0,
        };
        if flags & !allowed != 0 {
            return Err(VoicePacketError::BadFlags(flags));
        }
        let word = |at: usize| {
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let kind = match (kind, SessionId::new(word(8))) {
            (PacketKind::Voice, None) => Kind::Voice,
            (PacketKind::Relay, Some(speaker)) => Kind::Relay { speaker },
            (PacketKind::Keepalive, None) => Kind::Keepalive,
            (kind, _) => return Err(VoicePacketError::BadSpeaker(kind)),
        };
        match kind {
            Kind::Voice if len > MAX_VOICE_DATAGRAM_LEN => {
                return Err(VoicePacketError::TooLong { len, max: MAX_VOICE_DATAGRAM_LEN });
            }
            Kind::Keepalive if len != MIN_DATAGRAM_LEN => {
                return Err(VoicePacketError::KeepalivePayload);
            }
            _ => {}
        }
        Ok(Self {
            kind,
            marker: flags & FLAG_MARKER != 0,
            session: word(4),
            sequence: word(12),
            timestamp: word(16),
        })
    }

    /// The header's wire bytes.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let speaker = match self.kind {
            Kind::Relay { speaker } => speaker.get(),
            Kind::Voice | Kind::Keepalive => 0,
        };
        let mut out = [0u8; HEADER_LEN];
        out[0] = VERSION;
        out[1] = self.kind.packet_kind().to_byte();
        out[2..4].copy_from_slice(&u16::from(self.marker).to_be_bytes());
        out[4..8].copy_from_slice(&self.session.to_be_bytes());
        out[8..12].copy_from_slice(&speaker.to_be_bytes());
        out[12..16].copy_from_slice(&self.sequence.to_be_bytes());
        out[16..20].copy_from_slice(&self.timestamp.to_be_bytes());
        out
    }
}

/// A datagram that [`parse`] or [`parse_mut`] accepted: its header, read
/// and checked, and its three parts.
#[derive(Debug)]
pub(crate) struct Packet<'a, Body> {
    pub(crate) header: Header,
    /// The header's bytes: the AEAD's associated data.
    pub(crate) head: &'a [u8; HEADER_LEN],
    /// The ciphertext.
    pub(crate) body: Body,
    pub(crate) tag: &'a [u8; TAG_LEN],
}

/// Splits `datagram` into header, ciphertext and tag, and checks every
/// rule that needs no key (see [`Header::decode`]).
pub(crate) fn parse(datagram: &[u8]) -> Result<Packet<'_, &[u8]>, VoicePacketError> {
    let len = no_longer_than_any(datagram)?;
    let too_short = VoicePacketError::TooShort { len };
    let (head, rest) = datagram.split_first_chunk().ok_or(too_short)?;
    let (body, tag) = rest.split_last_chunk().ok_or(too_short)?;
    Ok(Packet { header: Header::decode(head, len)?, head, body, tag })
}

/// [`parse`] for a datagram the caller will decrypt in place.
pub(crate) fn parse_mut(datagram: &mut [u8]) -> Result<Packet<'_, &mut [u8]>, VoicePacketError> {
    let len = no_longer_than_any(datagram)?;
    let too_short = VoicePacketError::TooShort { len };
    let (head, rest) = datagram.split_first_chunk_mut().ok_or(too_short)?;
    let (body, tag) = rest.split_last_chunk_mut().ok_or(too_short)?;
    let (head, tag) = (&*head, &*tag);
    Ok(Packet { header: Header::decode(head, len)?, head, body, tag })
}

/// The datagram's length, unless it is longer than any packet may be.
fn no_longer_than_any(datagram: &[u8]) -> Result<usize, VoicePacketError> {
    match datagram.len() {
        len if len > MAX_DATAGRAM_LEN => {
            Err(VoicePacketError::TooLong { len, max: MAX_DATAGRAM_LEN })
        }
        len => Ok(len),
    }
}

/// Appends the start of a RELAY plaintext, `[nick_len u8][nick]`, to `out`.
pub(crate) fn write_nick_prefix(nick: Nick<'_>, out: &mut Vec<u8>) {
    let nick = nick.as_str().as_bytes();
    let len = u8::try_from(nick.len()).expect("a Nick is at most MAX_NICK_LEN (32) bytes");
    out.push(len);
    out.extend_from_slice(nick);
}

/// Splits a RELAY plaintext into the speaker's nick and the Opus payload.
pub(crate) fn split_relay_body(body: &[u8]) -> Result<(Nick<'_>, &[u8]), VoicePacketError> {
    let (&len, rest) = body.split_first().ok_or(VoicePacketError::BadRelayBody)?;
    let (nick, opus) =
        rest.split_at_checked(usize::from(len)).ok_or(VoicePacketError::BadRelayBody)?;
    let nick = std::str::from_utf8(nick).map_err(|_| VoicePacketError::BadRelayBody)?;
    let nick = Nick::new(nick).map_err(|_| VoicePacketError::BadRelayBody)?;
    Ok((nick, opus))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice_header() -> Header {
        Header {
            kind: Kind::Voice,
            marker: true,
            session: 7,
            sequence: 0x0102_0304,
            timestamp: 0x0506_0708,
        }
    }

    fn relay_header(speaker: u32) -> Header {
        let speaker = SessionId::new(speaker).expect("a nonzero speaker");
        Header { kind: Kind::Relay { speaker }, ..voice_header() }
    }

    fn parse_header(datagram: &[u8]) -> Result<Header, VoicePacketError> {
        parse(datagram).map(|packet| packet.header)
    }

    fn datagram(header: Header, body_len: usize) -> Vec<u8> {
        let mut d = header.to_bytes().to_vec();
        d.resize(HEADER_LEN + body_len + TAG_LEN, 0xee);
        d
    }

    #[test]
    fn header_layout_is_big_endian_as_documented() {
        let bytes = voice_header().to_bytes();
        assert_eq!(bytes, [1, 1, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn parse_reads_what_to_bytes_wrote() {
        for header in [voice_header(), relay_header(9)] {
            assert_eq!(parse_header(&datagram(header, 5)), Ok(header));
        }
        let keepalive = Header { kind: Kind::Keepalive, marker: false, ..voice_header() };
        assert_eq!(parse_header(&datagram(keepalive, 0)), Ok(keepalive));
    }

    #[test]
    fn parse_splits_header_ciphertext_and_tag() {
        let mut bytes = datagram(voice_header(), 3);
        bytes[HEADER_LEN..HEADER_LEN + 3].copy_from_slice(b"abc");
        let packet = parse(&bytes).expect("a valid datagram");
        assert_eq!(packet.head, &voice_header().to_bytes());
        assert_eq!((packet.body, packet.tag), (&b"abc"[..], &[0xee; TAG_LEN]));
        let packet = parse_mut(&mut bytes).expect("a valid datagram");
        assert_eq!((packet.header, &*packet.body), (voice_header(), &b"abc"[..]));
    }

    #[test]
    fn parse_refusals_say_why() {
        let voice = || datagram(voice_header(), 3);
        let with = |at: usize, byte: u8| {
            let mut d = voice();
            d[at] = byte;
            d
        };
        let keepalive = Header { kind: Kind::Keepalive, marker: false, ..voice_header() };
        let cases: Vec<(Vec<u8>, VoicePacketError)> = vec![
            (vec![], VoicePacketError::TooShort { len: 0 }),
            (vec![1; 19], VoicePacketError::TooShort { len: 19 }),
            (voice()[..35].to_vec(), VoicePacketError::TooShort { len: 35 }),
            (
                vec![1; MAX_DATAGRAM_LEN + 1],
                VoicePacketError::TooLong { len: MAX_DATAGRAM_LEN + 1, max: MAX_DATAGRAM_LEN },
            ),
            (
                datagram(voice_header(), MAX_OPUS_LEN + 1),
                VoicePacketError::TooLong {
                    len: MAX_VOICE_DATAGRAM_LEN + 1,
                    max: MAX_VOICE_DATAGRAM_LEN,
                },
            ),
            (with(0, 2), VoicePacketError::BadVersion(2)),
            (with(1, 0), VoicePacketError::UnknownKind(0)),
            (with(1, 4), VoicePacketError::UnknownKind(4)),
            (with(3, 3), VoicePacketError::BadFlags(3)),
            (with(2, 0x80), VoicePacketError::BadFlags(0x8001)),
            (with(11, 1), VoicePacketError::BadSpeaker(PacketKind::Voice)),
            (with(1, 2), VoicePacketError::BadSpeaker(PacketKind::Relay)),
            (datagram(Header { marker: true, ..keepalive }, 0), VoicePacketError::BadFlags(1)),
            (datagram(keepalive, 1), VoicePacketError::KeepalivePayload),
        ];
        for (mut input, err) in cases {
            assert_eq!(parse_header(&input), Err(err), "{input:?}");
            assert_eq!(parse_mut(&mut input).map(|p| p.header), Err(err), "{input:?}");
        }
    }

    #[test]
    fn relay_body_round_trips_and_refuses_bad_nicks() {
        let mut body = Vec::new();
        write_nick_prefix(Nick::new("Jørgen").expect("valid nick"), &mut body);
        body.extend_from_slice(b"opus");
        assert_eq!(body[0], 7);
        let (nick, opus) = split_relay_body(&body).expect("own output parses");
        assert_eq!((nick.as_str(), opus), ("Jørgen", &b"opus"[..]));

        let bad: [&[u8]; 6] =
            [b"", b"\x00opus", b"\x05abc", b"\x02\xff\xfe", b"\x04#abc", b"\x03a b"];
        for body in bad {
            assert_eq!(
                split_relay_body(body).map(|_| ()),
                Err(VoicePacketError::BadRelayBody),
                "{body:?}"
            );
        }
    }

    #[test]
    fn largest_voice_packet_relays_within_the_datagram_limit() {
        let relay_len = MIN_DATAGRAM_LEN + 1 + MAX_NICK_LEN + MAX_OPUS_LEN;
        assert_eq!(relay_len, MAX_DATAGRAM_LEN);
        assert!(parse(&datagram(relay_header(1), relay_len - MIN_DATAGRAM_LEN)).is_ok());
        assert!(parse(&datagram(voice_header(), MAX_OPUS_LEN)).is_ok());
    }
}
