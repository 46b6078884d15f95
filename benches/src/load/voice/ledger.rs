//! When each voice packet was sent, so that a receiver on another thread
//! can measure how long the relay took, from the speaker and sequence
//! number in the packet's clear header (the relay keeps both).
//!
//! Also here: reading those header fields, which the load tool needs
//! without a key (PROTOCOL.md, "Layout").

use std::sync::atomic::{AtomicU64, Ordering};

use voix_proto::voice::{HEADER_LEN, PacketKind};

/// Send times kept per speaker: 256 packets, 5.12 s at 50 per second. A
/// packet later than that is counted but its latency is not measured.
const SLOTS: usize = 256;

/// Send times by (speaker, sequence number).
#[derive(Debug)]
pub struct SendLedger {
    /// `SLOTS` per speaker: sequence `s` of speaker `m` is at
    /// `m * SLOTS + s % SLOTS`.
    times: Vec<AtomicU64>,
    /// The sequence each slot's time belongs to, stored after the time
    /// (release) so that a reader that sees it sees its time.
    sequences: Vec<AtomicU64>,
}

impl SendLedger {
    /// A ledger for `speakers` speakers, numbered from 0.
    pub fn new(speakers: usize) -> Self {
        let slots = speakers * SLOTS;
        Self {
            times: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            sequences: (0..slots).map(|_| AtomicU64::new(u64::MAX)).collect(),
        }
    }

    /// Notes that `speaker` sends `sequence` at `ns`. Called before the
    /// datagram is sent, so a receiver always finds it.
    pub fn record(&self, speaker: usize, sequence: u32, ns: u64) {
        let slot = speaker * SLOTS + sequence as usize % SLOTS;
        if let (Some(time), Some(seq)) = (self.times.get(slot), self.sequences.get(slot)) {
            time.store(ns, Ordering::Relaxed);
            seq.store(u64::from(sequence), Ordering::Release);
        }
    }

    /// When `speaker` sent `sequence`, if it is still in the ledger.
    pub fn sent_at(&self, speaker: usize, sequence: u32) -> Option<u64> {
        let slot = speaker * SLOTS + sequence as usize % SLOTS;
        let seq = self.sequences.get(slot)?.load(Ordering::Acquire);
        let time = self.times.get(slot)?.load(Ordering::Relaxed);
        (seq == u64::from(sequence)).then_some(time)
    }
}

/// The clear fields of a voice packet the tool reads without its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peek {
    /// Its kind.
    pub kind: PacketKind,
    /// The session whose key seals it.
    pub session: u32,
    /// Who spoke: the `speaker` field on RELAY, the session on VOICE.
    pub speaker: u32,
    /// The speaker's sequence number.
    pub sequence: u32,
}

/// The clear fields of `datagram`, if it is long enough and its kind known.
pub fn peek(datagram: &[u8]) -> Option<Peek> {
    let header = datagram.get(..HEADER_LEN)?;
    let word =
        |at: usize| header.get(at..at + 4).and_then(|w| w.try_into().ok()).map(u32::from_be_bytes);
    let kind = PacketKind::from_byte(header[1])?;
    let session = word(4)?;
    let speaker = if kind == PacketKind::Relay { word(8)? } else { session };
    Some(Peek { kind, session, speaker, sequence: word(12)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_recent_send_times_only() {
        let ledger = SendLedger::new(2);
        ledger.record(1, 7, 1_000);
        assert_eq!(ledger.sent_at(1, 7), Some(1_000));
        assert_eq!(ledger.sent_at(0, 7), None);
        ledger.record(1, 7 + SLOTS as u32, 2_000);
        assert_eq!(ledger.sent_at(1, 7), None, "overwritten by a later packet");
    }

    #[test]
    fn peeks_at_the_protocol_test_vector() {
        // PROTOCOL.md: the server relays Tina's first VOICE to Mike.
        let mut relay = vec![1, 2, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0xc0];
        relay.extend([0; 25]);
        let got = peek(&relay).expect("a relay header");
        assert_eq!(got, Peek { kind: PacketKind::Relay, session: 2, speaker: 1, sequence: 0 });
        assert_eq!(peek(&relay[..10]), None);
    }
}
