//! A safe wrapper over the speexdsp jitter buffer (`speex/speex_jitter.h`),
//! the reference our buffer is measured against.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};
use std::ptr::NonNull;

/// `JitterBufferPacket` from `speex_jitter.h`.
#[repr(C)]
struct RawPacket {
    data: *mut c_char,
    len: u32,
    timestamp: u32,
    span: u32,
    sequence: u16,
    user_data: u32,
}

/// The opaque `JitterBuffer` from `speex_jitter.h`.
#[repr(C)]
struct RawJitterBuffer {
    _private: [u8; 0],
}

const JITTER_BUFFER_OK: c_int = 0;
const JITTER_BUFFER_INSERTION: c_int = 2;

#[link(name = "speexdsp")]
unsafe extern "C" {
    fn jitter_buffer_init(step_size: c_int) -> *mut RawJitterBuffer;
    fn jitter_buffer_destroy(jitter: *mut RawJitterBuffer);
    fn jitter_buffer_put(jitter: *mut RawJitterBuffer, packet: *const RawPacket);
    fn jitter_buffer_get(
        jitter: *mut RawJitterBuffer,
        packet: *mut RawPacket,
        desired_span: i32,
        start_offset: *mut i32,
    ) -> c_int;
    fn jitter_buffer_tick(jitter: *mut RawJitterBuffer);
}

/// Size of the payload each packet carries: its tag.
const PAYLOAD_LEN: usize = 4;

/// What speexdsp hands out for one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeexPlayout {
    /// The packet put with this tag.
    Packet(u32),
    /// Nothing to play: conceal.
    Missing,
    /// speexdsp inserts a frame to grow its delay: conceal.
    Insertion,
}

/// A speexdsp jitter buffer with its default settings, for packets that
/// carry only a `u32` tag.
#[derive(Debug)]
pub struct SpeexJitterBuffer {
    raw: NonNull<RawJitterBuffer>,
    step: u32,
}

impl SpeexJitterBuffer {
    /// A buffer whose timestamps advance by `step` per frame.
    ///
    /// Returns `None` if speexdsp cannot allocate one.
    pub fn new(step: u32) -> Option<Self> {
        let step_size = c_int::try_from(step).ok()?;
        // SAFETY: `jitter_buffer_init` takes any step size and returns a
        // fresh buffer or null; null is turned into `None`.
        let raw = NonNull::new(unsafe { jitter_buffer_init(step_size) })?;
        Some(Self { raw, step })
    }

    /// Hands over a packet with `timestamp` (one frame long), tagged `tag`.
    pub fn put(&mut self, timestamp: u32, tag: u32) {
        let mut payload = tag.to_le_bytes();
        let packet = RawPacket {
            data: payload.as_mut_ptr().cast::<c_char>(),
            len: PAYLOAD_LEN as u32,
            timestamp,
            span: self.step,
            sequence: 0,
            user_data: tag,
        };
        // SAFETY: `self.raw` is a live buffer owned by `self`; `packet` and
        // the `PAYLOAD_LEN` bytes it points to outlive the call, and without
        // a destroy callback speexdsp copies the data before returning.
        unsafe { jitter_buffer_put(self.raw.as_ptr(), &packet) };
    }

    /// Asks for one frame and advances the buffer's clock by one tick, as
    /// speex's own decoder wrapper (`speex_jitter_get`) does: `get`, then
    /// `tick`, whatever `get` returned.
    pub fn tick(&mut self) -> SpeexPlayout {
        let mut payload = [0u8; PAYLOAD_LEN];
        let mut packet = RawPacket {
            data: payload.as_mut_ptr().cast::<c_char>(),
            len: PAYLOAD_LEN as u32,
            timestamp: 0,
            span: 0,
            sequence: 0,
            user_data: 0,
        };
        let mut offset = 0i32;
        let span = i32::try_from(self.step).unwrap_or(i32::MAX);
        // SAFETY: `self.raw` is live; `packet.data` points to `packet.len`
        // writable bytes, which is all speexdsp copies into; `offset` is a
        // valid out-parameter.
        let status =
            unsafe { jitter_buffer_get(self.raw.as_ptr(), &mut packet, span, &mut offset) };
        let playout = match status {
            JITTER_BUFFER_OK => SpeexPlayout::Packet(packet.user_data),
            JITTER_BUFFER_INSERTION => SpeexPlayout::Insertion,
            _ => SpeexPlayout::Missing,
        };
        // SAFETY: `self.raw` is live.
        unsafe { jitter_buffer_tick(self.raw.as_ptr()) };
        playout
    }
}

impl Drop for SpeexJitterBuffer {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from `jitter_buffer_init` and is destroyed
        // exactly once, here.
        unsafe { jitter_buffer_destroy(self.raw.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_packets_put_in_order() {
        let mut buffer = SpeexJitterBuffer::new(960).expect("speexdsp allocates");
        let mut played = Vec::new();
        for tag in 0..50u32 {
            buffer.put(tag * 960, tag);
            if let SpeexPlayout::Packet(tag) = buffer.tick() {
                played.push(tag);
            }
        }
        assert!(played.len() >= 45, "{played:?}");
        assert!(played.windows(2).all(|w| w[0] < w[1]));
    }
}
