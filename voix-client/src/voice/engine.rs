//! The voice engine: one encoder and gate on the way out, one mixer on the
//! way in, and the voice sessions (room and call) between them.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use voix_audio::FrameDuration;
use voix_audio::codec::{CodecError, EncoderConfig, VoiceEncoder};
use voix_audio::gate::TransmitGate;
use voix_audio::jitter::VoicePacket;
use voix_audio::mixer::{Mixer, MixerConfig, MixerError, SpeakerId};
use voix_audio::vad::VadConfig;
use voix_proto::client::VoiceCredential;
use voix_proto::voice::{
    KEEPALIVE_INTERVAL, MAX_DATAGRAM_LEN, SessionId, VoiceEndpoint, VoicePacketError,
};
use voix_proto::wire::VoiceScopeBuf;

use super::loss::RecentLoss;
use super::settings::VoiceSettings;

/// Why the engine could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VoiceError {
    /// The Opus encoder refused its settings.
    #[error("voice encoder: {0}")]
    Codec(#[from] CodecError),
    /// The mixer refused its settings.
    #[error("voice mixer: {0}")]
    Mixer(#[from] MixerError),
}

/// Why a received datagram was dropped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReceiveError {
    /// No voice session is active, so nothing is expected.
    #[error("no voice session")]
    NoSession,
    /// The datagram is not an authentic RELAY for the active session.
    #[error(transparent)]
    Packet(#[from] VoicePacketError),
    /// The mixer refused the packet (too many speakers).
    #[error(transparent)]
    Mixer(#[from] MixerError),
}

/// What the user interface shows about voice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceStatus {
    /// The scope of the active session: `#room` or the call partner.
    pub scope: Option<String>,
    /// The nicknames heard talking, sorted.
    pub talking: Vec<String>,
    /// Whether the last captured frame was sent.
    pub transmitting: bool,
    /// The largest jitter buffer delay among the speakers heard.
    pub buffer_delay: Option<Duration>,
    /// Share of frames lost among those heard, 0 to 1.
    pub loss: f64,
    /// Frames concealed while someone talked.
    pub concealed_frames: u64,
    /// Voice packets sent.
    pub packets_sent: u64,
    /// Voice packets accepted.
    pub packets_received: u64,
    /// Datagrams refused.
    pub packets_rejected: u64,
}

/// One voice session: its credential's endpoint and when it last sent.
#[derive(Debug)]
struct Session {
    scope: String,
    endpoint: VoiceEndpoint,
    last_sent: Instant,
}

/// Voice for one client, sans-IO. See the [module documentation](super).
#[derive(Debug)]
pub struct VoiceEngine {
    frame: FrameDuration,
    encoder: VoiceEncoder,
    gate: TransmitGate,
    mixer: Mixer,
    settings: VoiceSettings,
    room: Option<Session>,
    call: Option<Session>,
    /// The nickname of each speaker the mixer knows.
    nicks: BTreeMap<SpeakerId, String>,
    transmit: VecDeque<Vec<u8>>,
    transmitting: bool,
    /// The loss heard lately, which sizes the encoder's FEC.
    recent_loss: RecentLoss,
    packets_sent: u64,
    packets_received: u64,
    packets_rejected: u64,
}

/// Datagrams waiting to be sent, at most; older ones are dropped first
/// (a stalled socket must not grow memory, and old voice is useless).
const MAX_QUEUED: usize = 64;

impl VoiceEngine {
    /// An engine encoding with `encoder`, mixing with `mixer`, detecting
    /// voice with `vad`, and starting with `settings`.
    pub fn new(
        encoder: EncoderConfig,
        mixer: MixerConfig,
        vad: VadConfig,
        settings: VoiceSettings,
    ) -> Result<Self, VoiceError> {
        let mut engine = Self {
            frame: encoder.frame,
            encoder: VoiceEncoder::new(encoder)?,
            gate: TransmitGate::new(settings.mode.into(), vad),
            mixer: Mixer::new(MixerConfig {
                jitter: voix_audio::jitter::JitterConfig { frame: encoder.frame, ..mixer.jitter },
                ..mixer
            })?,
            settings,
            room: None,
            call: None,
            nicks: BTreeMap::new(),
            transmit: VecDeque::new(),
            transmitting: false,
            recent_loss: RecentLoss::default(),
            packets_sent: 0,
            packets_received: 0,
            packets_rejected: 0,
        };
        engine.apply_settings(settings);
        Ok(engine)
    }

    /// Samples in one frame, captured or played.
    pub fn frame_samples(&self) -> usize {
        self.frame.samples()
    }

    /// The duration of one frame.
    pub fn frame(&self) -> FrameDuration {
        self.frame
    }

    /// The user's switches.
    pub fn settings(&self) -> VoiceSettings {
        self.settings
    }

    /// Changes the user's switches.
    pub fn apply_settings(&mut self, settings: VoiceSettings) {
        self.settings = settings;
        self.gate.set_mode(settings.mode.into());
        self.gate.set_muted(settings.silenced());
        self.gate.set_push_to_talk(settings.talk_pressed);
    }

    /// The active session's id: the call's during a call, else the room's.
    pub fn active_session(&self) -> Option<SessionId> {
        self.active().map(|s| s.endpoint.session())
    }

    fn active(&self) -> Option<&Session> {
        self.call.as_ref().or(self.room.as_ref())
    }

    // ---- sessions ----

    /// Takes a credential from a `VOICE` line: its session replaces the
    /// room's or the call's, and a KEEPALIVE goes out at once so that the
    /// server learns where to send.
    pub fn add_credential(&mut self, now: Instant, credential: &VoiceCredential) {
        let before = self.active_session();
        let slot = match credential.scope {
            VoiceScopeBuf::Room(_) => &mut self.room,
            VoiceScopeBuf::Call(_) => &mut self.call,
        };
        if slot.as_ref().is_some_and(|s| s.endpoint.session() == credential.session) {
            return;
        }
        let mut session = Session {
            scope: credential.scope.as_str().to_owned(),
            endpoint: VoiceEndpoint::new(credential.session, credential.key.clone()),
            last_sent: now,
        };
        let mut datagram = Vec::with_capacity(MAX_DATAGRAM_LEN);
        if session.endpoint.seal_keepalive(&mut datagram).is_ok() {
            Self::queue(&mut self.transmit, datagram);
        }
        *slot = Some(session);
        self.after_switch(before);
    }

    /// The call ended: voice returns to the room.
    pub fn end_call(&mut self) {
        let before = self.active_session();
        self.call = None;
        self.after_switch(before);
    }

    /// We left the room (a `JOINED` for another is coming with its own
    /// credential).
    pub fn leave_room(&mut self) {
        let before = self.active_session();
        self.room = None;
        self.after_switch(before);
    }

    /// The connection ended: every session is gone.
    pub fn clear(&mut self) {
        let before = self.active_session();
        self.room = None;
        self.call = None;
        self.transmit.clear();
        self.after_switch(before);
    }

    /// Forgets the speakers of the old session when the active one changed.
    fn after_switch(&mut self, before: Option<SessionId>) {
        if self.active_session() != before {
            for speaker in std::mem::take(&mut self.nicks).into_keys() {
                self.mixer.remove(speaker);
            }
            self.transmitting = false;
        }
    }

    // ---- audio in, datagrams out ----

    /// The microphone gave nothing for `gap` (a stalled device). The
    /// frames it should have given are accounted as not sent, so the media
    /// clock keeps time with the wall clock: otherwise every later packet
    /// would look `gap` late to the listeners, whose jitter buffers would
    /// add that much delay and shed it only slowly.
    pub fn handle_capture_gap(&mut self, gap: Duration) {
        let frames = gap.as_micros() / self.frame().duration().as_micros().max(1);
        for _ in 0..frames {
            self.encoder.skip();
        }
        self.transmitting = false;
    }

    /// One captured frame: the gate decides whether it is sent; if so it
    /// is encoded and sealed for the active session.
    pub fn handle_capture(&mut self, now: Instant, frame: &[i16]) {
        let send = self.gate.should_send(frame);
        // FEC is sized for the loss we hear lately: the way back from the
        // relay is the best estimate we have of the way there. Until
        // someone has been heard, the configured figure stands.
        if let Some(rate) = self.recent_loss.poll(now, self.mixer.speakers()) {
            // A percentage in 0..=100 is always accepted; were it refused,
            // the previous setting would simply stay.
            let _ = self.encoder.set_expected_loss_rate(rate);
        }
        let session = match (&mut self.call, &mut self.room) {
            (Some(session), _) | (None, Some(session)) => session,
            (None, None) => {
                self.encoder.skip();
                self.transmitting = false;
                return;
            }
        };
        if !send {
            self.encoder.skip();
            self.transmitting = false;
            return;
        }
        self.transmitting = true;
        let Ok(Some(encoded)) = self.encoder.encode(frame) else {
            // Silence that DTX need not send, or a frame of the wrong
            // length (which the audio threads never produce).
            return;
        };
        let mut datagram = Vec::with_capacity(MAX_DATAGRAM_LEN);
        match session.endpoint.seal_voice(
            encoded.timestamp,
            encoded.marker,
            encoded.payload,
            &mut datagram,
        ) {
            Ok(()) => {
                session.last_sent = now;
                self.packets_sent += 1;
                Self::queue(&mut self.transmit, datagram);
            }
            Err(_) => {
                // A payload over the limit (impossible at speech bitrates)
                // or a session that used all its sequence numbers: this
                // frame is not sent.
            }
        }
    }

    /// Sends a KEEPALIVE in each session that has sent nothing for
    /// [`KEEPALIVE_INTERVAL`].
    pub fn handle_timeout(&mut self, now: Instant) {
        for session in [&mut self.room, &mut self.call].into_iter().flatten() {
            if now.saturating_duration_since(session.last_sent) >= KEEPALIVE_INTERVAL {
                let mut datagram = Vec::with_capacity(MAX_DATAGRAM_LEN);
                if session.endpoint.seal_keepalive(&mut datagram).is_ok() {
                    Self::queue(&mut self.transmit, datagram);
                }
                session.last_sent = now;
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [&self.room, &self.call]
            .into_iter()
            .flatten()
            .map(|s| s.last_sent + KEEPALIVE_INTERVAL)
            .min()
    }

    /// The next datagram to send to the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn queue(queue: &mut VecDeque<Vec<u8>>, datagram: Vec<u8>) {
        if queue.len() >= MAX_QUEUED {
            queue.pop_front();
        }
        queue.push_back(datagram);
    }

    // ---- datagrams in, audio out ----

    /// A datagram from the server that arrived at `now`: if it is an
    /// authentic RELAY for the active session, its voice goes to the mixer.
    /// The datagram's bytes are decrypted in place.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        datagram: &mut [u8],
    ) -> Result<(), ReceiveError> {
        let result = self.receive(now, datagram);
        match result {
            Ok(()) => self.packets_received += 1,
            Err(_) => self.packets_rejected += 1,
        }
        result
    }

    fn receive(&mut self, now: Instant, datagram: &mut [u8]) -> Result<(), ReceiveError> {
        let session = match (&mut self.call, &mut self.room) {
            (Some(session), _) | (None, Some(session)) => session,
            (None, None) => return Err(ReceiveError::NoSession),
        };
        let voice = session.endpoint.open(datagram)?;
        let speaker = voice.speaker.get();
        let packet = VoicePacket {
            seq: voice.sequence,
            timestamp: voice.timestamp,
            marker: voice.marker,
            payload: Bytes::copy_from_slice(voice.opus),
        };
        let nick = voice.nick.as_str().to_owned();
        self.mixer.push(speaker, packet, now)?;
        self.nicks.insert(speaker, nick);
        Ok(())
    }

    /// Fills `out` (one frame) with what plays at `now`: everyone heard,
    /// mixed, or silence when deafened.
    pub fn render(&mut self, now: Instant, out: &mut [i16]) -> Result<(), MixerError> {
        self.mixer.mix(now, out)?;
        // The mixer drops speakers that fell silent; forget their nicks.
        if self.nicks.len() > self.mixer.speakers().count() {
            let live: Vec<SpeakerId> = self.mixer.speakers().map(|(id, _)| id).collect();
            self.nicks.retain(|id, _| live.contains(id));
        }
        if self.settings.deafened {
            out.fill(0);
        }
        Ok(())
    }

    // ---- what to show ----

    /// Who is talking, the quality of what we hear, and what we send.
    pub fn status(&self, now: Instant) -> VoiceStatus {
        let mut talking: Vec<String> =
            self.mixer.talking(now).filter_map(|id| self.nicks.get(&id).cloned()).collect();
        talking.sort();
        talking.dedup();
        let (mut played, mut lost, mut concealed, mut delay) = (0u64, 0u64, 0u64, None::<Duration>);
        for (_, stats) in self.mixer.speakers() {
            played += stats.frames_played;
            lost += stats.frames_lost;
            concealed += stats.frames_concealed;
            delay = Some(delay.map_or(stats.current_delay, |d| d.max(stats.current_delay)));
        }
        VoiceStatus {
            scope: self.active().map(|s| s.scope.clone()),
            talking,
            transmitting: self.transmitting,
            buffer_delay: delay,
            loss: if played + lost == 0 { 0.0 } else { lost as f64 / (played + lost) as f64 },
            concealed_frames: concealed,
            packets_sent: self.packets_sent,
            packets_received: self.packets_received,
            packets_rejected: self.packets_rejected,
        }
    }
}
