//! Scans on every parsed line: the end of a header token, eight bytes at a
//! time, and the smallest byte of a text, in vector-sized blocks.
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

/// The smallest byte of `bytes`, or `u8::MAX` if there is none.
///
/// Taken over fixed-size blocks, which the compiler turns into a handful
/// of vector instructions each (a load and a few `pminub`): over 32 bytes,
/// whole blocks of 16 from the start and a last one that ends at the end,
/// overlapping the one before; from 4 to 32 bytes, just a first and a last
/// block of 16, 8 or 4, with no loop. A loop over the bytes is vectorised
/// too, but its scalar tail costs more than the vector part on texts of a
/// few dozen bytes.
#[inline]
pub(crate) fn min_byte(bytes: &[u8]) -> u8 {
    fn block<const N: usize>(block: &[u8; N]) -> u8 {
        block.iter().fold(u8::MAX, |min, &b| min.min(b))
    }
    if bytes.len() > 32 {
        let last = bytes.last_chunk::<16>().expect("more than 16 bytes");
        let whole = bytes.chunks_exact(16).map(|b| block::<16>(b.try_into().expect("16 bytes")));
        whole.fold(block(last), u8::min)
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<16>(), bytes.last_chunk::<16>())
    {
        block(first).min(block(last))
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        block(first).min(block(last))
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        block(first).min(block(last))
    } else {
        bytes.iter().fold(u8::MAX, |min, &b| min.min(b))
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

    proptest! {
        #[test]
        fn the_smallest_byte_is_found_at_any_length(
            bytes in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::char::range('!', '~').prop_map(|c| c as u8),
                    1 => prop::sample::select(vec![b' ', b'"', b':', b',', 0x7f, 0x80, 0xff, b'\r', b'\n', 0, 0x1f]),
                    1 => any::<u8>(),
                ],
                0..70,
            )
        ) {
            prop_assert_eq!(min_byte(&bytes), bytes.iter().copied().min().unwrap_or(u8::MAX));
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
