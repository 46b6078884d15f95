//! The Opus encoder, set up for speech, and the packet counters it keeps.

use super::{CodecError, MAX_BITRATE, MIN_BITRATE};
use crate::format::{FrameDuration, SAMPLE_RATE};

/// Largest packet the encoder produces, in bytes (RFC 6716 recommends
/// 4000 as a safe upper bound).
const MAX_PACKET_BYTES: usize = 4_000;

/// Packets this size or smaller are what Opus emits during DTX silence;
/// they need not be sent.
const DTX_PACKET_BYTES: usize = 2;

/// Settings of a [`VoiceEncoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Duration of each frame (and so of each packet).
    pub frame: FrameDuration,
    /// Target bitrate in bits per second.
    pub bitrate: u32,
    /// Add in-band forward error correction, so a receiver can rebuild a
    /// lost frame from the next packet.
    pub fec: bool,
    /// Discontinuous transmission: send (almost) nothing during silence.
    pub dtx: bool,
    /// Encoder complexity, 0 (fastest) to 10 (best).
    pub complexity: u8,
    /// Initial expected packet loss in percent; tune it at run time with
    /// [`VoiceEncoder::set_expected_loss`].
    pub expected_loss_percent: u8,
}

impl Default for EncoderConfig {
    /// 20 ms frames at 24 kb/s with FEC and DTX: wideband speech that
    /// survives loss, at a rate any link carries.
    fn default() -> Self {
        Self {
            frame: FrameDuration::Ms20,
            bitrate: 24_000,
            fec: true,
            dtx: true,
            complexity: 10,
            expected_loss_percent: 5,
        }
    }
}

/// One encoded frame, ready to be put in a voice packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedFrame<'a> {
    /// Sequence number of the packet: +1 per packet sent.
    pub seq: u32,
    /// Timestamp of the frame's first sample on the 48 kHz clock.
    pub timestamp: u32,
    /// Whether this is the first packet of a talk spurt.
    pub marker: bool,
    /// The Opus packet.
    pub payload: &'a [u8],
}

/// An Opus encoder for 48 kHz mono speech, which also numbers the packets.
///
/// Call [`encode`](Self::encode) once per frame of captured audio, and
/// [`skip`](Self::skip) for frames not sent at all (muted, or no voice
/// detected), so timestamps keep following the sample clock.
///
/// # Numbering
///
/// The rule the [`JitterBuffer`](crate::jitter::JitterBuffer) relies on
/// to tell a pause from a loss:
///
/// - the sequence number goes up by one per packet *sent*, never for a
///   frame that is not sent (skipped, or left out by DTX);
/// - the timestamp goes up by one frame per frame of *captured audio*,
///   sent or not;
/// - the first packet after any frame not sent carries the marker.
///
/// So after a pause the next packet continues the numbering, with its
/// timestamp (and the marker) showing the pause: the receiver plays the
/// pause as silence, not as lost frames. A transport that numbers its own
/// packets must keep the same rule (numbers for voice packets only).
pub struct VoiceEncoder {
    opus: opus::Encoder,
    config: EncoderConfig,
    seq: u32,
    timestamp: u32,
    /// The next packet sent starts a talk spurt.
    spurt_start: bool,
    /// Expected loss in percent, as last set.
    expected_loss: u8,
    packet: Vec<u8>,
}

impl std::fmt::Debug for VoiceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceEncoder")
            .field("config", &self.config)
            .field("seq", &self.seq)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl VoiceEncoder {
    /// An encoder with `config`, numbering packets from 0.
    pub fn new(config: EncoderConfig) -> Result<Self, CodecError> {
        if !(MIN_BITRATE..=MAX_BITRATE).contains(&config.bitrate) {
            return Err(CodecError::Bitrate(config.bitrate));
        }
        if config.complexity > 10 {
            return Err(CodecError::Complexity(config.complexity));
        }
        let mut opus =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
        // Both fit in i32: checked above.
        opus.set_bitrate(opus::Bitrate::Bits(config.bitrate as i32))?;
        opus.set_complexity(i32::from(config.complexity))?;
        opus.set_signal(opus::Signal::Voice)?;
        opus.set_inband_fec(config.fec)?;
        opus.set_dtx(config.dtx)?;
        opus.set_packet_loss_perc(i32::from(config.expected_loss_percent.min(100)))?;
        Ok(Self {
            opus,
            config,
            seq: 0,
            timestamp: 0,
            spurt_start: true,
            expected_loss: config.expected_loss_percent.min(100),
            packet: vec![0; MAX_PACKET_BYTES],
        })
    }

    /// The settings this encoder was built with.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Tells the encoder how much loss to protect against with FEC, in
    /// percent (capped at 100). The more loss, the more of each packet
    /// carries a coarse copy of the frame before it.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        let percent = percent.min(100);
        self.opus.set_packet_loss_perc(i32::from(percent))?;
        self.expected_loss = percent;
        Ok(())
    }

    /// Tells the encoder how much loss to protect against from a measured
    /// share of lost packets in `[0, 1]`, such as the far end's
    /// [`JitterStats::loss_rate`](crate::jitter::JitterStats::loss_rate).
    /// It is rounded up to a whole percent, so any measured loss turns
    /// some protection on; a share that is not a number counts as none.
    pub fn set_expected_loss_rate(&mut self, rate: f64) -> Result<(), CodecError> {
        self.set_expected_loss(loss_percent(rate))
    }

    /// The expected loss in percent the encoder protects against.
    pub fn expected_loss(&self) -> u8 {
        self.expected_loss
    }

    /// Encodes one frame of 48 kHz mono samples.
    ///
    /// Returns `None` when the frame need not be sent: the encoder is in
    /// DTX silence. The timestamp advances either way; the next packet
    /// sent after a gap carries the marker.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Option<EncodedFrame<'_>>, CodecError> {
        let expected = self.config.frame.samples();
        if pcm.len() != expected {
            return Err(CodecError::FrameLength { expected, got: pcm.len() });
        }
        let len = self.opus.encode(pcm, &mut self.packet)?;
        let timestamp = self.timestamp;
        self.advance_clock();
        if len <= DTX_PACKET_BYTES {
            self.spurt_start = true;
            return Ok(None);
        }
        let frame = EncodedFrame {
            seq: self.seq,
            timestamp,
            marker: std::mem::take(&mut self.spurt_start),
            payload: &self.packet[..len],
        };
        self.seq = self.seq.wrapping_add(1);
        Ok(Some(frame))
    }

    /// Accounts for a frame that is not encoded at all (mute, push-to-talk
    /// released, no voice): the timestamp advances and the next packet
    /// starts a new talk spurt.
    pub fn skip(&mut self) {
        self.advance_clock();
        self.spurt_start = true;
    }

    fn advance_clock(&mut self) {
        // A frame is at most 2880 samples.
        self.timestamp = self.timestamp.wrapping_add(self.config.frame.samples() as u32);
    }
}

/// A share of lost packets as a whole percent, rounded up, in `0..=100`.
fn loss_percent(rate: f64) -> u8 {
    if rate.is_nan() || rate <= 0.0 {
        0
    } else if rate >= 1.0 {
        100
    } else {
        // In (0, 100] after the checks above.
        (rate * 100.0).ceil() as u8
    }
}
