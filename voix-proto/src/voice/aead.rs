//! Sealing and opening a packet body with ChaCha20-Poly1305: the key is the
//! session's, the associated data is the cleartext header, and the nonce is
//! built from header fields that never repeat under one key.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};

use super::error::VoicePacketError;
use super::key::VoiceKey;
use super::packet::{HEADER_LEN, Header, TAG_LEN};

/// The AEAD state of one session key.
#[derive(Clone)]
pub(crate) struct PacketCipher(ChaCha20Poly1305);

impl std::fmt::Debug for PacketCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PacketCipher(..)")
    }
}

impl PacketCipher {
    pub(crate) fn new(key: &VoiceKey) -> Self {
        Self(ChaCha20Poly1305::new(&Key::from(*key.as_bytes())))
    }

    /// Appends the packet `header`, `plaintext` sealed, and the tag to `out`.
    pub(crate) fn seal_append(&self, header: Header, plaintext: &[u8], out: &mut Vec<u8>) {
        let header = header.to_bytes();
        out.extend_from_slice(&header);
        let body_start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self.seal(&header, &mut out[body_start..]);
        out.extend_from_slice(&tag);
    }

    /// Encrypts `body` in place and returns the tag that authenticates it
    /// together with `header`.
    pub(crate) fn seal(&self, header: &[u8; HEADER_LEN], body: &mut [u8]) -> [u8; TAG_LEN] {
        let tag = self
            .0
            .encrypt_inout_detached(&nonce(header), header, body.into())
            .expect("a body of at most MAX_DATAGRAM_LEN bytes is far below the AEAD limit");
        tag.into()
    }

    /// Checks `tag` against `header` and the ciphertext `body`, then
    /// decrypts `body` in place. On failure `body` is unspecified.
    pub(crate) fn open(
        &self,
        header: &[u8; HEADER_LEN],
        body: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), VoicePacketError> {
        self.0
            .decrypt_inout_detached(&nonce(header), header, body.into(), &Tag::from(*tag))
            .map_err(|_| VoicePacketError::AuthenticationFailed)
    }
}

/// The 96-bit nonce `[kind, 0, 0, 0, speaker (4, BE), sequence (4, BE)]`,
/// read straight from the header bytes.
fn nonce(header: &[u8; HEADER_LEN]) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[0] = header[1];
    nonce[4..12].copy_from_slice(&header[8..16]);
    Nonce::from(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_kind_then_speaker_then_sequence() {
        let header: [u8; HEADER_LEN] = std::array::from_fn(|i| u8::try_from(i + 1).unwrap_or(0));
        assert_eq!(nonce(&header).as_slice(), [2, 0, 0, 0, 9, 10, 11, 12, 13, 14, 15, 16]);
    }

    #[test]
    fn matches_the_rfc_8439_construction() {
        // An independent check of the nonce wiring against the RFC 8439
        // §2.8.2 test vector (its AAD differs from ours, so its tag does
        // not apply; the keystream does).
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + u8::try_from(i).unwrap_or(0));
        let cipher = PacketCipher::new(&VoiceKey::from_bytes(key));
        // Our nonce takes byte 0 from header[1] and bytes 4..12 from
        // header[8..16]; RFC nonce 07000000 4041424344454647 fits that.
        let mut header = [0u8; HEADER_LEN];
        header[1] = 0x07;
        header[8..16].copy_from_slice(&[0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]);
        let mut body = *b"Ladies and Gentlemen";
        let tag = cipher.seal(&header, &mut body);
        // The RFC's first ciphertext bytes for this key and nonce: the
        // nonce bytes landed where the RFC has them.
        assert_eq!(body[..8], [0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb]);
        assert_eq!(cipher.open(&header, &mut body, &tag), Ok(()));
        assert_eq!(&body, b"Ladies and Gentlemen");
    }

    #[test]
    fn open_refuses_another_header() {
        let cipher = PacketCipher::new(&VoiceKey::from_bytes([1; 32]));
        let header = [3u8; HEADER_LEN];
        let mut body = *b"opus";
        let tag = cipher.seal(&header, &mut body);
        let mut other = header;
        other[19] ^= 1;
        assert_eq!(
            cipher.open(&other, &mut body, &tag),
            Err(VoicePacketError::AuthenticationFailed)
        );
    }
}
