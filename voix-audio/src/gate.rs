//! Deciding which captured frames are sent: voice activity, push-to-talk
//! and mute.

use crate::vad::{EnergyVad, VadConfig};

/// When the microphone is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransmitMode {
    /// Whenever voice is detected.
    #[default]
    VoiceActivity,
    /// While the push-to-talk key is held.
    PushToTalk,
    /// Always.
    Continuous,
}

/// The client's hooks on the send path: a mode, a mute switch and a
/// push-to-talk key, in front of a voice activity detector.
///
/// Call [`should_send`](Self::should_send) for every captured frame; when
/// it says no, call [`VoiceEncoder::skip`](crate::codec::VoiceEncoder::skip)
/// instead of encoding.
#[derive(Debug, Clone)]
pub struct TransmitGate {
    mode: TransmitMode,
    muted: bool,
    push_to_talk_held: bool,
    vad: EnergyVad,
    voice: bool,
}

impl TransmitGate {
    /// A gate in `mode`, unmuted, with a voice detector set up by `vad`.
    pub fn new(mode: TransmitMode, vad: VadConfig) -> Self {
        Self {
            mode,
            muted: false,
            push_to_talk_held: false,
            vad: EnergyVad::new(vad),
            voice: false,
        }
    }

    /// Switches the mode.
    pub fn set_mode(&mut self, mode: TransmitMode) {
        self.mode = mode;
    }

    /// Mutes or unmutes; muted, nothing is sent in any mode.
    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// Reports the push-to-talk key pressed or released.
    pub fn set_push_to_talk(&mut self, held: bool) {
        self.push_to_talk_held = held;
    }

    /// Whether voice was detected in the last frame (for a "mic active"
    /// indicator; it is tracked in every mode, even muted).
    pub fn voice_detected(&self) -> bool {
        self.voice
    }

    /// Whether `frame` should be encoded and sent.
    pub fn should_send(&mut self, frame: &[i16]) -> bool {
        self.voice = self.vad.is_voice(frame);
        if self.muted {
            return false;
        }
        match self.mode {
            TransmitMode::VoiceActivity => self.voice,
            TransmitMode::PushToTalk => self.push_to_talk_held,
            TransmitMode::Continuous => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::tone;

    #[test]
    fn each_mode_and_mute_decide_as_documented() {
        let loud = tone(300.0, 8_000, 960);
        let silent = vec![0i16; 960];
        let mut gate = TransmitGate::new(TransmitMode::VoiceActivity, VadConfig::default());
        assert!(gate.should_send(&loud));
        assert!(gate.voice_detected());
        gate.set_mode(TransmitMode::PushToTalk);
        assert!(!gate.should_send(&loud));
        gate.set_push_to_talk(true);
        assert!(gate.should_send(&silent));
        gate.set_mode(TransmitMode::Continuous);
        assert!(gate.should_send(&silent));
        gate.set_muted(true);
        assert!(!gate.should_send(&loud));
        assert!(gate.voice_detected(), "detection goes on while muted");
        gate.set_muted(false);
        assert!(gate.should_send(&loud));
    }
}
