//! Drives the jitter buffer with arbitrary pushes and pops: it must never
//! panic, never hold more than its window, and never play more packets than
//! it was given. (Playing a sequence number again is allowed: three
//! consistent packets may be a restarted sender reusing numbers.)
#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use voix_audio::jitter::{JitterBuffer, JitterConfig, VoicePacket};

/// Bytes per scripted operation: kind, seq (4), timestamp (4), time step (2).
const OP_BYTES: usize = 11;

fuzz_target!(|data: &[u8]| {
    let Ok(mut buffer) = JitterBuffer::new(JitterConfig::default()) else {
        return;
    };
    let mut now = Instant::now();
    let mut pushed = 0u64;
    for op in data.chunks_exact(OP_BYTES) {
        let seq = u32::from_le_bytes([op[1], op[2], op[3], op[4]]);
        let timestamp = u32::from_le_bytes([op[5], op[6], op[7], op[8]]);
        now += Duration::from_micros(u64::from(u16::from_le_bytes([op[9], op[10]])) * 4);
        if op[0] & 1 == 0 {
            let packet = VoicePacket {
                seq,
                timestamp,
                marker: op[0] & 2 != 0,
                payload: Bytes::copy_from_slice(&op[..1]),
            };
            let _ = buffer.push(packet, now);
            pushed += 1;
        } else {
            let _ = buffer.pop(now);
        }
        assert!(buffer.len() <= 128, "buffer grew past its window");
        let stats = buffer.stats();
        assert_eq!(stats.packets_received, pushed);
        let settled = stats.frames_played
            + stats.packets_late
            + stats.packets_duplicate
            + stats.packets_discarded;
        assert!(settled + buffer.len() as u64 <= pushed, "{stats:?}");
    }
});
