//! The server's voice relay, sans-IO: datagrams in through
//! [`Relay::handle_datagram`], datagrams out through
//! [`Relay::poll_transmit`], session changes through [`Relay::apply`]. It
//! owns no socket and reads no clock.

use std::net::SocketAddr;

use super::aead::PacketCipher;
use super::error::VoicePacketError;
use super::key::{SessionId, VoiceKey};
use super::packet::{self, Header, Kind, PacketKind};
use super::queue::{Transmit, TransmitQueue};
use super::replay::ReplayWindow;
use super::table::{Session, SessionTable, Slot};
use crate::NickBuf;

/// A set of sessions that hear each other: a room, or a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u64);

/// A change to the relay's sessions, decided by the signalling server.
#[derive(Debug, Clone)]
pub enum RelayCommand {
    /// Starts a session. Its address is unknown until a datagram sealed
    /// with `key` arrives.
    Open {
        /// The new session; higher than every session opened before.
        session: SessionId,
        /// The session's key, also sent to its client.
        key: VoiceKey,
        /// The nick that receivers see on this session's voice.
        speaker: NickBuf,
        /// The group it speaks and listens in, or `None` for paused.
        group: Option<GroupId>,
    },
    /// Moves a session to another group, or pauses it (`None`: it still
    /// authenticates datagrams and learns its address, but nothing is
    /// forwarded to or from it). Ignored for an unknown session.
    Move {
        /// The session to move.
        session: SessionId,
        /// Its new group.
        group: Option<GroupId>,
    },
    /// Forgets a session, its key and its address. Ignored for an unknown
    /// session.
    Close {
        /// The session to forget.
        session: SessionId,
    },
}

/// A [`RelayCommand`] the relay refused: a mistake of the signalling
/// server, never of a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayCommandError {
    /// The session id is not higher than every id opened before. Reusing
    /// an id would reuse nonces under the receivers' keys; allocate ids
    /// with [`SessionIds`](super::SessionIds).
    #[error("voice session {0} is not above every session opened before")]
    SessionReused(SessionId),
    /// The relay already holds [`RelayConfig::max_sessions`] sessions.
    #[error("the relay already holds its maximum of {0} voice sessions")]
    TooManySessions(usize),
}

/// The relay's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// Most sessions open at once. Default 65,536: every client of a large
    /// server with a room session and a call session.
    pub max_sessions: usize,
    /// Most datagrams queued and not yet taken by
    /// [`Relay::poll_transmit`]; beyond it, relayed packets are dropped and
    /// counted in [`RelayStats::queue_full`]. Default 8,192: one batch of 64
    /// received datagrams fanned out to rooms of 128.
    pub max_queued: usize,
}

impl RelayConfig {
    /// Default for [`RelayConfig::max_sessions`].
    pub const DEFAULT_MAX_SESSIONS: usize = 65_536;
    /// Default for [`RelayConfig::max_queued`].
    pub const DEFAULT_MAX_QUEUED: usize = 8_192;
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self { max_sessions: Self::DEFAULT_MAX_SESSIONS, max_queued: Self::DEFAULT_MAX_QUEUED }
    }
}

/// What the relay has done since it was made. Every datagram given to
/// [`Relay::handle_datagram`] is counted in `datagrams` and, if it was
/// refused, in exactly one of the `refused_*` counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Datagrams received.
    pub datagrams: u64,
    /// Authenticated VOICE packets.
    pub voice: u64,
    /// Authenticated KEEPALIVE packets.
    pub keepalives: u64,
    /// RELAY packets queued for sending.
    pub forwarded: u64,
    /// Times a session's address was learned or changed.
    pub address_changes: u64,
    /// Authenticated VOICE packets not forwarded because the sender is paused.
    pub paused: u64,
    /// Receivers skipped because their address is not yet proven.
    pub unaddressed: u64,
    /// RELAY packets dropped because the transmit queue was full.
    pub queue_full: u64,
    /// Refused: malformed (length, version, kind, flags, speaker field).
    pub refused_malformed: u64,
    /// Refused: no open session has the packet's session id.
    pub refused_unknown_session: u64,
    /// Refused: the tag did not verify.
    pub refused_unauthenticated: u64,
    /// Refused: a replayed or too old sequence number.
    pub refused_replayed: u64,
}

impl RelayStats {
    fn count_refusal(&mut self, error: VoicePacketError) {
        use VoicePacketError as E;
        let counter = match error {
            E::UnknownSession(_) => &mut self.refused_unknown_session,
            E::AuthenticationFailed => &mut self.refused_unauthenticated,
            E::Replayed(_) | E::TooOld(_) => &mut self.refused_replayed,
            E::TooShort { .. }
            | E::TooLong { .. }
            | E::BadVersion(_)
            | E::UnknownKind(_)
            | E::UnexpectedKind(_)
            | E::BadFlags(_)
            | E::BadSpeaker(_)
            | E::KeepalivePayload
            | E::BadRelayBody => &mut self.refused_malformed,
        };
        *counter += 1;
    }
}

/// The sans-IO voice relay of the server.
///
/// A VOICE packet from a session in a group is re-sealed as a RELAY packet
/// for every other session of the group whose address is proven, under
/// that receiver's key, naming the speaker. Addresses are learned only
/// from datagrams that authenticate and pass the replay window, so a
/// forged or replayed datagram never causes a transmit.
///
/// ```
/// # use std::net::SocketAddr;
/// # use voix_proto::Nick;
/// # use voix_proto::voice::*;
/// let mut relay = Relay::new(RelayConfig::default());
/// let mut ids = SessionIds::new();
/// let (a, b) = (ids.next().unwrap(), ids.next().unwrap());
/// for (session, key, nick) in [(a, [1; 32], "Tina"), (b, [2; 32], "Mike")] {
///     let speaker = Nick::new(nick).unwrap().into_owned();
///     let key = VoiceKey::from_bytes(key);
///     relay.apply(RelayCommand::Open { session, key, speaker, group: Some(GroupId(1)) }).unwrap();
/// }
/// let mut tina = VoiceEndpoint::new(a, VoiceKey::from_bytes([1; 32]));
/// let mut mike = VoiceEndpoint::new(b, VoiceKey::from_bytes([2; 32]));
/// let (tina_addr, mike_addr): (SocketAddr, SocketAddr) =
///     ("127.0.0.1:5000".parse().unwrap(), "127.0.0.1:6000".parse().unwrap());
///
/// // Mike proves his address; Tina speaks.
/// let mut datagram = Vec::new();
/// mike.seal_keepalive(&mut datagram).unwrap();
/// assert_eq!(relay.handle_datagram(mike_addr, &datagram), Ok(0));
/// tina.seal_voice(0, true, b"opus", &mut datagram).unwrap();
/// assert_eq!(relay.handle_datagram(tina_addr, &datagram), Ok(1));
///
/// // The I/O layer sends what the relay queued; Mike opens it.
/// let transmit = relay.poll_transmit().unwrap();
/// assert_eq!(transmit.to, mike_addr);
/// let mut received = transmit.payload.to_vec();
/// let voice = mike.open(&mut received).unwrap();
/// assert_eq!((voice.nick.as_str(), voice.opus), ("Tina", &b"opus"[..]));
/// assert!(relay.poll_transmit().is_none());
/// ```
#[derive(Clone)]
pub struct Relay {
    config: RelayConfig,
    sessions: SessionTable,
    /// Highest id ever opened; ids must increase.
    highest_opened: Option<SessionId>,
    /// A RELAY plaintext being built: the speaker's nick prefix, then the
    /// VOICE ciphertext decrypted in place.
    plaintext: Vec<u8>,
    queue: TransmitQueue,
    stats: RelayStats,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.config)
            .field("sessions", &self.sessions.len())
            .field("highest_opened", &self.highest_opened)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// An empty relay with these limits.
    pub fn new(config: RelayConfig) -> Self {
        Self {
            config,
            sessions: SessionTable::default(),
            highest_opened: None,
            plaintext: Vec::new(),
            queue: TransmitQueue::new(config.max_queued),
            stats: RelayStats::default(),
        }
    }

    /// Counters of what the relay has done.
    pub fn stats(&self) -> &RelayStats {
        &self.stats
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The address proven for `session`, if it is open and has sent an
    /// authenticated datagram.
    pub fn session_addr(&self, session: SessionId) -> Option<SocketAddr> {
        let slot = self.sessions.slot(session.get())?;
        self.sessions.get(slot)?.addr
    }

    /// Applies a session change from the signalling server.
    pub fn apply(&mut self, command: RelayCommand) -> Result<(), RelayCommandError> {
        match command {
            RelayCommand::Open { session, key, speaker, group } => {
                if self.highest_opened.is_some_and(|h| session <= h) {
                    return Err(RelayCommandError::SessionReused(session));
                }
                if self.sessions.len() >= self.config.max_sessions {
                    return Err(RelayCommandError::TooManySessions(self.config.max_sessions));
                }
                self.highest_opened = Some(session);
                self.sessions.insert(Session {
                    id: session,
                    cipher: PacketCipher::new(&key),
                    nick: speaker,
                    group,
                    addr: None,
                    window: ReplayWindow::default(),
                });
            }
            RelayCommand::Move { session, group } => self.sessions.set_group(session, group),
            RelayCommand::Close { session } => self.sessions.remove(session),
        }
        Ok(())
    }

    /// Handles one datagram received from `from`, and returns how many
    /// RELAY datagrams it queued for [`poll_transmit`](Self::poll_transmit).
    ///
    /// A refused datagram changes nothing but [`stats`](Self::stats); the
    /// error says why, for logging at a low level.
    pub fn handle_datagram(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<usize, VoicePacketError> {
        self.stats.datagrams += 1;
        let result = self.relay(from, datagram);
        if let Err(error) = result {
            self.stats.count_refusal(error);
        }
        result
    }

    /// The next datagram to send, oldest first. Its payload stays valid
    /// until the next call on the relay.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        self.queue.pop()
    }

    /// Every datagram waiting to be sent, oldest first, for a program that
    /// sends many in one system call (`sendmmsg`). They stay queued until
    /// [`transmitted`](Self::transmitted) says how many went out.
    pub fn queued_transmits(&self) -> impl ExactSizeIterator<Item = Transmit<'_>> + '_ {
        self.queue.queued()
    }

    /// The `n` oldest queued datagrams were sent (or given up on): they
    /// leave the queue.
    pub fn transmitted(&mut self, n: usize) {
        self.queue.advance(n);
    }

    fn relay(&mut self, from: SocketAddr, datagram: &[u8]) -> Result<usize, VoicePacketError> {
        let packet::Packet { header, head, body: ciphertext, tag } = packet::parse(datagram)?;
        if let Kind::Relay { .. } = header.kind {
            return Err(VoicePacketError::UnexpectedKind(PacketKind::Relay));
        }
        let slot = self
            .sessions
            .slot(header.session)
            .ok_or(VoicePacketError::UnknownSession(header.session))?;
        let sender =
            self.sessions.get_mut(slot).ok_or(VoicePacketError::UnknownSession(header.session))?;
        sender.window.check(header.sequence)?;
        self.plaintext.clear();
        packet::write_nick_prefix(sender.nick.borrowed(), &mut self.plaintext);
        let prefix = self.plaintext.len();
        self.plaintext.extend_from_slice(ciphertext);
        sender.cipher.open(head, &mut self.plaintext[prefix..], tag)?;
        sender.window.record(header.sequence);
        if sender.addr != Some(from) {
            sender.addr = Some(from);
            self.stats.address_changes += 1;
        }
        if header.kind == Kind::Keepalive {
            self.stats.keepalives += 1;
            return Ok(0);
        }
        self.stats.voice += 1;
        let Some(group) = sender.group else {
            self.stats.paused += 1;
            return Ok(0);
        };
        let speaker = sender.id;
        Ok(self.fan_out(slot, speaker, group, header))
    }

    /// Seals the RELAY plaintext in `self.plaintext` for every member of
    /// `group` but the speaker's slot `from`, and returns how many
    /// datagrams were queued.
    fn fan_out(&mut self, from: Slot, speaker: SessionId, group: GroupId, voice: Header) -> usize {
        let mut queued = 0;
        for &slot in self.sessions.members(group) {
            if slot == from {
                continue;
            }
            let Some(receiver) = self.sessions.get(slot) else {
                continue;
            };
            let Some(to) = receiver.addr else {
                self.stats.unaddressed += 1;
                continue;
            };
            if self.queue.is_full() {
                self.stats.queue_full += 1;
                continue;
            }
            let header =
                Header { kind: Kind::Relay { speaker }, session: receiver.id.get(), ..voice };
            let plaintext = &self.plaintext;
            self.queue.push(to, |out| receiver.cipher.seal_append(header, plaintext, out));
            queued += 1;
            self.stats.forwarded += 1;
        }
        queued
    }
}
