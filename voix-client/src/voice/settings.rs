//! What the user controls about their voice: mute, deafen, push-to-talk.

use voix_audio::gate::TransmitMode;

/// How the microphone decides to send, as chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TransmitModeArg {
    /// Send while voice is detected.
    #[default]
    Vad,
    /// Send while the push-to-talk key is pressed (`/talk`).
    Ptt,
    /// Always send.
    Always,
}

impl TransmitModeArg {
    /// The name scripts see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vad => "vad",
            Self::Ptt => "ptt",
            Self::Always => "always",
        }
    }
}

impl From<TransmitModeArg> for TransmitMode {
    fn from(mode: TransmitModeArg) -> Self {
        match mode {
            TransmitModeArg::Vad => Self::VoiceActivity,
            TransmitModeArg::Ptt => Self::PushToTalk,
            TransmitModeArg::Always => Self::Continuous,
        }
    }
}

/// The user's voice switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VoiceSettings {
    /// Not sending the microphone.
    pub muted: bool,
    /// Not playing what others say (and not sending either).
    pub deafened: bool,
    /// How the microphone decides to send.
    pub mode: TransmitModeArg,
    /// The push-to-talk key is pressed.
    pub talk_pressed: bool,
}

impl VoiceSettings {
    /// Whether the microphone is closed, whatever the mode says.
    pub fn silenced(&self) -> bool {
        self.muted || self.deafened
    }
}
