//! Voice credentials: session ids and per-session keys, as the signalling
//! line `VOICE <#room|nick>: <session-id> <key-hex>` carries them.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

/// Why a session id or key from a signalling line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The session id is not a canonical decimal number in `1..=u32::MAX`
    /// (digits only, no sign, no leading zero).
    #[error("voice session id must be a decimal number from 1 to 4294967295")]
    InvalidSessionId,
    /// The key is not exactly 64 lowercase hexadecimal digits.
    #[error("voice key must be exactly 64 lowercase hex digits")]
    InvalidKey,
}

/// The id of one voice session: one client in one scope (its room, or a
/// call). It names the key that seals a packet and, on relayed packets, the
/// speaker.
///
/// Ids are never zero, and a server never reuses one while it runs (see
/// [`SessionIds`]), because the relay's nonces include the speaker's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(NonZeroU32);

impl SessionId {
    /// The session with this id, or `None` for zero.
    pub const fn new(id: u32) -> Option<Self> {
        match NonZeroU32::new(id) {
            Some(id) => Some(Self(id)),
            None => None,
        }
    }

    /// The id as it appears on the wire.
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl From<NonZeroU32> for SessionId {
    fn from(id: NonZeroU32) -> Self {
        Self(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for SessionId {
    type Err = CredentialError;

    /// Parses the canonical decimal form that [`Display`](fmt::Display)
    /// writes, so that parsing and formatting round-trip exactly.
    fn from_str(s: &str) -> Result<Self, CredentialError> {
        let canonical =
            !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit());
        if !canonical {
            return Err(CredentialError::InvalidSessionId);
        }
        s.parse::<NonZeroU32>().map(Self).map_err(|_| CredentialError::InvalidSessionId)
    }
}

/// Hands out session ids in increasing order, starting at 1, and never the
/// same one twice; [`Relay`](super::Relay) requires exactly that order.
#[derive(Debug, Clone)]
pub struct SessionIds {
    next: Option<SessionId>,
}

impl SessionIds {
    /// An allocator whose first id is 1.
    pub const fn new() -> Self {
        Self { next: SessionId::new(1) }
    }

    /// An allocator whose next id is `next`, as if every id below it had
    /// been handed out: tests reach the end of the ids without 4 billion
    /// calls.
    #[cfg(test)]
    pub(crate) const fn starting_at(next: SessionId) -> Self {
        Self { next: Some(next) }
    }
}

impl Default for SessionIds {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for SessionIds {
    type Item = SessionId;

    /// The next unused id, or `None` once all `u32::MAX` ids were handed out.
    fn next(&mut self) -> Option<SessionId> {
        let id = self.next?;
        self.next = id.get().checked_add(1).and_then(SessionId::new);
        Some(id)
    }
}

/// A 256-bit ChaCha20-Poly1305 key for one voice session.
///
/// The server makes one from fresh random bytes per client per scope
/// ([`VoiceKey::from_bytes`]) and sends it as 64 lowercase hex digits
/// (`format!("{key:x}")`, parsed back with [`str::parse`]). `Debug` does not
/// show the key, and there is no `Display`, so it cannot leak into a log by
/// accident.
#[derive(Clone)]
pub struct VoiceKey([u8; VoiceKey::LEN]);

impl VoiceKey {
    /// Length of a key in bytes.
    pub const LEN: usize = 32;

    /// The key made of these bytes, which must come from a cryptographically
    /// secure random source.
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes.
    pub(crate) fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Debug for VoiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VoiceKey(..)")
    }
}

impl PartialEq for VoiceKey {
    /// Compares every byte, without an early exit, so that the time taken
    /// says nothing about where two keys differ.
    fn eq(&self, other: &Self) -> bool {
        let diff = self.0.iter().zip(other.0).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0
    }
}

impl Eq for VoiceKey {}

impl fmt::LowerHex for VoiceKey {
    /// Writes the 64 lowercase hex digits of the signalling line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 2 * VoiceKey::LEN];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        let hex = std::str::from_utf8(&hex).map_err(|_| fmt::Error)?;
        f.write_str(hex)
    }
}

impl FromStr for VoiceKey {
    type Err = CredentialError;

    /// Parses exactly 64 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, CredentialError> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        if s.len() != 2 * Self::LEN {
            return Err(CredentialError::InvalidKey);
        }
        let mut key = [0u8; Self::LEN];
        for (byte, pair) in key.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let (Some(hi), Some(lo)) = (nibble(pair[0]), nibble(pair[1])) else {
                return Err(CredentialError::InvalidKey);
            };
            *byte = (hi << 4) | lo;
        }
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn session_id_parse_is_strict_decimal() {
        assert_eq!("1".parse::<SessionId>().map(SessionId::get), Ok(1));
        assert_eq!("4294967295".parse::<SessionId>().map(SessionId::get), Ok(u32::MAX));
        for bad in ["", "0", "01", "+1", "-1", " 1", "1 ", "4294967296", "1a", "١"] {
            assert_eq!(bad.parse::<SessionId>(), Err(CredentialError::InvalidSessionId), "{bad:?}");
        }
    }

    #[test]
    fn session_ids_count_up_and_stop_at_the_end() {
        let mut ids = SessionIds::new();
        assert_eq!(ids.next().map(SessionId::get), Some(1));
        assert_eq!(ids.next().map(SessionId::get), Some(2));
        let mut last = SessionIds { next: SessionId::new(u32::MAX) };
        assert_eq!(last.next().map(SessionId::get), Some(u32::MAX));
        assert_eq!(last.next(), None);
        assert_eq!(last.next(), None);
    }

    #[test]
    fn key_debug_is_redacted() {
        let key = VoiceKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "VoiceKey(..)");
        assert_eq!(format!("{key:x}"), "ab".repeat(32));
    }

    #[test]
    fn key_parse_refuses_everything_but_64_lowercase_hex() {
        let good = "0123456789abcdef".repeat(4);
        assert!(good.parse::<VoiceKey>().is_ok());
        let too_short = &good[..63];
        let too_long = format!("{good}0");
        let upper = good.to_uppercase();
        let non_hex = format!("g{}", &good[1..]);
        let non_ascii = format!("é{}", &good[2..]);
        for bad in [too_short, &too_long, &upper, &non_hex, &non_ascii, ""] {
            assert_eq!(
                bad.parse::<VoiceKey>().map(|_| ()),
                Err(CredentialError::InvalidKey),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn key_hex_round_trips(bytes in any::<[u8; 32]>()) {
            let hex = format!("{:x}", VoiceKey::from_bytes(bytes));
            let parsed: VoiceKey = hex.parse().expect("own output parses");
            prop_assert_eq!(parsed.as_bytes(), &bytes);
            prop_assert_eq!(parsed, VoiceKey::from_bytes(bytes));
        }

        #[test]
        fn keys_differing_in_one_bit_are_unequal(bytes in any::<[u8; 32]>(), bit in 0..256usize) {
            let mut other = bytes;
            other[bit / 8] ^= 1 << (bit % 8);
            prop_assert_ne!(VoiceKey::from_bytes(bytes), VoiceKey::from_bytes(other));
        }

        #[test]
        fn session_id_display_round_trips(id in 1..=u32::MAX) {
            let id = SessionId::new(id).expect("nonzero by construction");
            prop_assert_eq!(id.to_string().parse::<SessionId>(), Ok(id));
        }
    }
}
