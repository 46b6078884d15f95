//! The Opus decoder, with concealment and FEC recovery of lost frames.

use super::CodecError;
use crate::format::{FrameDuration, MAX_PACKET_SAMPLES, SAMPLE_RATE};
use crate::jitter::Playout;

/// How a frame handed out by [`VoiceDecoder::render`] was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendered {
    /// Decoded from its own packet.
    Voice,
    /// Rebuilt from the next packet's forward error correction data.
    Recovered,
    /// Made up by the decoder's loss concealment (also used for a packet
    /// that could not be decoded).
    Concealed,
    /// Silence: nobody is talking.
    Silence,
}

/// An Opus decoder for 48 kHz mono speech, one frame at a time.
pub struct VoiceDecoder {
    opus: opus::Decoder,
    frame: FrameDuration,
    scratch: Vec<i16>,
}

impl std::fmt::Debug for VoiceDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceDecoder").field("frame", &self.frame).finish_non_exhaustive()
    }
}

impl VoiceDecoder {
    /// A decoder producing frames of `frame` duration.
    pub fn new(frame: FrameDuration) -> Result<Self, CodecError> {
        Ok(Self {
            opus: opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)?,
            frame,
            scratch: vec![0; MAX_PACKET_SAMPLES],
        })
    }

    /// Duration of the frames this decoder produces.
    pub fn frame(&self) -> FrameDuration {
        self.frame
    }

    /// Decodes `payload` into `out` (one frame). A packet shorter than the
    /// frame is padded with silence, a longer one cut.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<(), CodecError> {
        self.check(out)?;
        if payload.is_empty() {
            return self.conceal(out);
        }
        let decoded = self.opus.decode(payload, &mut self.scratch, false)?;
        copy_frame(&self.scratch[..decoded.min(self.scratch.len())], out);
        Ok(())
    }

    /// Fills `out` with the decoder's concealment of a lost frame.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<(), CodecError> {
        self.check(out)?;
        self.opus.decode(&[], out, false)?;
        Ok(())
    }

    /// Rebuilds the lost frame before `next_payload` from that packet's FEC
    /// data into `out`; without FEC data, libopus conceals instead.
    pub fn recover(&mut self, next_payload: &[u8], out: &mut [i16]) -> Result<(), CodecError> {
        self.check(out)?;
        self.opus.decode(next_payload, out, true)?;
        Ok(())
    }

    /// Carries out a jitter buffer decision into `out`. A packet that
    /// fails to decode is concealed instead, so the only error is an `out`
    /// of the wrong length.
    pub fn render(&mut self, playout: &Playout, out: &mut [i16]) -> Result<Rendered, CodecError> {
        self.check(out)?;
        let attempt = match playout {
            Playout::Frame(frame) => self.decode(&frame.payload, out).map(|()| Rendered::Voice),
            Playout::Fec(next) => self.recover(&next.payload, out).map(|()| Rendered::Recovered),
            Playout::Conceal => self.conceal(out).map(|()| Rendered::Concealed),
            Playout::Silence => {
                out.fill(0);
                return Ok(Rendered::Silence);
            }
        };
        match attempt {
            Ok(rendered) => Ok(rendered),
            Err(_) => match self.conceal(out) {
                Ok(()) => Ok(Rendered::Concealed),
                Err(_) => {
                    out.fill(0);
                    Ok(Rendered::Concealed)
                }
            },
        }
    }

    fn check(&self, out: &[i16]) -> Result<(), CodecError> {
        let expected = self.frame.samples();
        if out.len() == expected {
            Ok(())
        } else {
            Err(CodecError::FrameLength { expected, got: out.len() })
        }
    }
}

/// Copies `decoded` into `out`, cutting or padding with silence.
fn copy_frame(decoded: &[i16], out: &mut [i16]) {
    let n = decoded.len().min(out.len());
    out[..n].copy_from_slice(&decoded[..n]);
    out[n..].fill(0);
}
