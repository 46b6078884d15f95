//! Finding the end of a header token eight bytes at a time.
//!
//! Every parsed line is scanned for the end of its command word and of the
//! nickname or room after it. These tokens are a few bytes long: too short
//! for `memchr`'s vector set-up to pay off, and long enough for a loop with
//! a branch per byte, whose exit is mispredicted as often as token lengths
//! vary, to show in the parse. So the scan loads eight bytes as one `u64`
//! and tests them together with the classic bit trick (SIMD within a
//! register), in safe code: most tokens take one word and no loop.
//!
//! Input of a word or more is covered by whole words from the start and a
//! last word that ends at its end, overlapping the one before it: bytes
//! tested twice were clear, so they cannot move the first match. Shorter
//! input is tested a byte at a time.

/// `byte` in every byte of a word.
const fn splat(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The high bit of every byte of `word` equal to `byte`, exact up to the
/// first such byte: the borrow of the subtraction may mark bytes after it
/// too, so only the lowest mark is to be trusted, and it always is.
const fn equal(word: u64, byte: u8) -> u64 {
    let x = word ^ splat(byte);
    x.wrapping_sub(splat(0x01)) & !x & splat(0x80)
}

/// Where a header token at the start of `bytes` ends: at the first space
/// or colon, or at the end.
pub(crate) fn header_end(bytes: &[u8]) -> usize {
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(|&b| b == b' ' || b == b':').unwrap_or(len);
    }
    let mut at = 0;
    loop {
        let start = at.min(len - 8);
        let chunk: [u8; 8] = bytes[start..start + 8].try_into().expect("a slice of eight bytes");
        // Little-endian: the first byte is the lowest, and so is its mark.
        let word = u64::from_le_bytes(chunk);
        let found = equal(word, b' ') | equal(word, b':');
        if found != 0 {
            return start + (found.trailing_zeros() / 8) as usize;
        }
        if start == len - 8 {
            return len;
        }
        at += 8;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn agrees_with_a_byte_at_a_time(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b':'), Just(b'!'), Just(b';'), any::<u8>()],
                0..40,
            )
        ) {
            let expected = bytes.iter().position(|&b| b == b' ' || b == b':');
            prop_assert_eq!(header_end(&bytes), expected.unwrap_or(bytes.len()));
        }
    }

    #[test]
    fn the_last_word_overlaps_and_the_first_match_wins() {
        assert_eq!(header_end(b""), 0);
        assert_eq!(header_end(b"John"), 4);
        assert_eq!(header_end(b"#Lobby: hi"), 6);
        assert_eq!(header_end(b"abcdefgh"), 8);
        // Nine bytes: words at 0 and 1; only the second sees the colon,
        // and a space at 3 must win over it.
        assert_eq!(header_end(b"abcdefgh:"), 8);
        assert_eq!(header_end(b"abc defgh:"), 3);
        // A byte just past a match borrows; the match still wins.
        assert_eq!(header_end(b"ab: \x00\x00\x00\x00\x00"), 2);
    }
}
