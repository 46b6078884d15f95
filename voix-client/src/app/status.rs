//! A snapshot of everything the terminal UI's panels and status bar show.

use std::time::{Duration, Instant};

use crate::voice::{VoiceSettings, VoiceStatus};

/// Where the connection to the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Trying to connect (or registering).
    Connecting {
        /// The try's number, from 1.
        attempt: u32,
    },
    /// Registered with the server.
    Online {
        /// The server's name for itself.
        host: String,
    },
    /// Waiting to try again.
    Waiting {
        /// When the next try starts.
        until: Instant,
        /// That try's number.
        attempt: u32,
    },
    /// Left, or given up.
    Closed,
}

/// Where the user's one-to-one call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallView {
    /// No call.
    Idle,
    /// We are calling `peer`.
    Ringing(String),
    /// `peer` is calling us.
    Incoming(String),
    /// In a call with `peer` since the instant given.
    Active(String, Instant),
}

/// Everything the status bar and side panels show.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The server as the user gave it.
    pub server: String,
    /// Our nickname.
    pub nick: String,
    /// The connection.
    pub connection: Connection,
    /// Our room.
    pub room: Option<String>,
    /// Its members, us included.
    pub members: Vec<String>,
    /// The call.
    pub call: CallView,
    /// Voice: who talks, quality, what we send.
    pub voice: VoiceStatus,
    /// Mute, deafen, push-to-talk.
    pub settings: VoiceSettings,
    /// Round trip to the server.
    pub rtt: Option<Duration>,
    /// The duration of one voice frame.
    pub frame: Duration,
}

impl Status {
    /// Estimated mouth-to-ear delay of what we hear: one frame of capture,
    /// the way from the speaker to the server and on to us (taken to be
    /// our round trip to the server), the jitter buffer, and on average
    /// half a frame until the next frame is played.
    pub fn voice_delay(&self) -> Option<Duration> {
        let buffer = self.voice.buffer_delay?;
        Some(self.frame + self.frame / 2 + self.rtt.unwrap_or_default() + buffer)
    }
}
