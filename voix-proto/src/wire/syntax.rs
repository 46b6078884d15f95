//! The small grammar shared by every line, written with nom, and the
//! matching writer.
//!
//! A line is `WORD`, then either `: args` or ` target[ target]: args`. The
//! parsers here work on the part after the command word and borrow from it.

use bytes::{BufMut, BytesMut};
use nom::branch::alt;
use nom::combinator::rest;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::{CommandWord, ParseError, TalkAction};
use crate::{NameError, Nick, RealName, Room, Text, Version};

/// A nom result whose error carries nothing: a line that does not parse is
/// reported as malformed in its command word, so where nom stopped is not
/// needed.
type Res<'a, T> = IResult<&'a str, T, ()>;

/// The line as text, if it is UTF-8.
pub(super) fn utf8(line: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(line).map_err(|_| ParseError::InvalidUtf8)
}

/// Splits a line into its command word and the rest. Inlined into the
/// two `parse_str`s: every line starts here, and the call showed.
#[inline]
pub(super) fn split_command(line: &str) -> Result<(CommandWord, &str), ParseError> {
    match CommandWord::at_start(line.as_bytes()) {
        // The word is ASCII: the split is on a character boundary.
        Some((word, len)) => Ok((word, &line[len..])),
        None => split_long_command(line),
    }
}

/// [`split_command`] for the lines [`CommandWord::at_start`] leaves: long
/// command words, short lines and anything malformed. Kept out of line,
/// so that the common case needs fewer registers.
#[inline(never)]
fn split_long_command(line: &str) -> Result<(CommandWord, &str), ParseError> {
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    let end = header_end(line);
    let (word, rest) = line.split_at(end);
    let word = CommandWord::from_word(word).ok_or(ParseError::UnknownCommand)?;
    Ok((word, rest))
}

/// Where the header token at the start of `s` ends: at the first space or
/// colon, or at the end.
fn header_end(s: &str) -> usize {
    crate::scan::header_end(s.as_bytes())
}

/// Runs `parser` over the whole of `input`, reporting any failure as a
/// syntax error in `word`.
#[inline]
pub(super) fn run<'a, O>(
    word: CommandWord,
    input: &'a str,
    mut parser: impl Parser<&'a str, Output = O, Error = ()>,
) -> Result<O, ParseError> {
    match parser.parse(input) {
        Ok((_, out)) => Ok(out),
        Err(_) => Err(ParseError::Syntax(word)),
    }
}

/// A nom error: the input does not match here.
fn fail<T>(_: &str) -> Res<'_, T> {
    Err(nom::Err::Error(()))
}

// The primitives below look at single ASCII bytes rather than decoding
// characters as nom's `char` and `take_while` do on `&str`: they run several
// times on every line. Splitting a `&str` next to an ASCII byte is always
// on a character boundary.

/// `:` and at most one space: the separator before the arguments.
pub(super) fn colon(i: &str) -> Res<'_, ()> {
    match i.as_bytes() {
        [b':', b' ', ..] => Ok((&i[2..], ())),
        [b':', ..] => Ok((&i[1..], ())),
        _ => fail(i),
    }
}

/// One or more spaces between header tokens.
pub(super) fn spaces(i: &str) -> Res<'_, &str> {
    let n = i.bytes().take_while(|&b| b == b' ').count();
    if n == 0 {
        return fail(i);
    }
    Ok((&i[n..], &i[..n]))
}

/// Optional trailing spaces, then the end of the line.
pub(super) fn end(i: &str) -> Res<'_, ()> {
    if i.bytes().all(|b| b == b' ') { Ok(("", ())) } else { fail(i) }
}

/// A header token: everything up to the next space or colon.
pub(super) fn token(i: &str) -> Res<'_, &str> {
    let end = header_end(i);
    if end == 0 {
        return fail(i);
    }
    // Splitting before an ASCII byte is always on a character boundary.
    Ok((&i[end..], &i[..end]))
}

/// A double-quoted string, without the quotes.
pub(super) fn quoted(i: &str) -> Res<'_, &str> {
    let Some(body) = i.strip_prefix('"') else { return fail(i) };
    match memchr::memchr(b'"', body.as_bytes()) {
        // Both quotes are ASCII: the splits are on character boundaries.
        Some(end) => Ok((&body[end + 1..], &body[..end])),
        None => fail(i),
    }
}

/// What follows `:` and at most one space, if `i` starts with `:`.
#[inline]
fn after_colon(i: &str) -> Option<&str> {
    match i.as_bytes() {
        [b':', b' ', ..] => Some(&i[2..]),
        [b':', ..] => Some(&i[1..]),
        _ => None,
    }
}

/// `: <token>` and the end of the line.
fn colon_token(i: &str) -> Res<'_, &str> {
    delimited(colon, token, end).parse(i)
}

/// ` <token>: <rest of line>`: the shape of `PRIVMSG nick: text` and
/// friends.
pub(super) fn target_text(i: &str) -> Res<'_, (&str, &str)> {
    match one_space_target_text(i) {
        Some(target_and_text) => Ok(("", target_and_text)),
        None => target_text_in_full(i),
    }
}

/// [`target_text`] by the grammar alone.
fn target_text_in_full(i: &str) -> Res<'_, (&str, &str)> {
    (delimited(spaces, token, colon), rest).parse(i)
}

// The fast paths below take apart the arguments of a line as nearly every
// line writes them (one space before a target, `: ` before the rest) and
// hand anything else to the full grammar, which also says what is wrong.
// Wherever a fast path finds something the grammar finds the same (a
// property test checks it): a name can have neither spaces nor colons, so
// a valid one is a whole header token.

/// ` <token>: <rest of line>` with a single space before the token: the
/// fast path of [`target_text`] and [`talk_arguments`].
#[inline]
fn one_space_target_text(i: &str) -> Option<(&str, &str)> {
    let after_space = i.strip_prefix(' ')?;
    let end = header_end(after_space);
    // The token ends before an ASCII byte or at the end: a char boundary.
    let (target, after) = after_space.split_at(end);
    Some((target, after_colon(after)?)).filter(|_| end > 0)
}

/// One or more spaces, then a header token: the token and what follows
/// it.
#[inline]
pub(super) fn spaced_token(i: &str) -> Option<(&str, &str)> {
    let start = i.bytes().take_while(|&b| b == b' ').count();
    let end = start + header_end(&i[start..]);
    // Spaces are ASCII: the splits are on character boundaries.
    (start > 0 && end > start).then(|| (&i[start..end], &i[end..]))
}

/// `: <rest of line>`.
pub(super) fn colon_text(i: &str) -> Res<'_, &str> {
    (colon, rest).map(|(_, t)| t).parse(i)
}

/// Wraps a name check into a parse error for `word`.
pub(super) fn name<'a, T>(
    word: CommandWord,
    s: &'a str,
    check: impl FnOnce(&'a str) -> Result<T, NameError>,
) -> Result<T, ParseError> {
    check(s).map_err(|e| ParseError::BadName(word, e))
}

/// Parses a nickname field.
pub(super) fn nick(word: CommandWord, s: &str) -> Result<Nick<'_>, ParseError> {
    name(word, s, Nick::new)
}

/// Parses a room field.
pub(super) fn room(word: CommandWord, s: &str) -> Result<Room<'_>, ParseError> {
    name(word, s, Room::new)
}

/// Parses a text field.
pub(super) fn text(word: CommandWord, s: &str) -> Result<Text<'_>, ParseError> {
    name(word, s, Text::new)
}

/// `: n`: the number of a `PING` or `PONG`, either way.
#[inline]
pub(super) fn ping_token(word: CommandWord, rest: &str) -> Result<u64, ParseError> {
    match after_colon(rest).map(|digits| number(word, digits)) {
        Some(Ok(token)) => Ok(token),
        _ => ping_token_in_full(word, rest),
    }
}

/// [`ping_token`] by the grammar alone.
fn ping_token_in_full(word: CommandWord, rest: &str) -> Result<u64, ParseError> {
    number(word, run(word, rest, colon_token)?)
}

/// `: #room`: the room of a `JOIN` or `JOINED`.
#[inline]
pub(super) fn room_argument(word: CommandWord, rest: &str) -> Result<Room<'_>, ParseError> {
    match after_colon(rest).map(Room::new) {
        Some(Ok(room)) => Ok(room),
        _ => room_argument_in_full(word, rest),
    }
}

/// [`room_argument`] by the grammar alone.
fn room_argument_in_full(word: CommandWord, rest: &str) -> Result<Room<'_>, ParseError> {
    room(word, run(word, rest, colon_token)?)
}

/// ` nick: action`: the arguments of a `TALK`, either way.
#[inline]
pub(super) fn talk_arguments(rest: &str) -> Result<(Nick<'_>, TalkAction), ParseError> {
    if let Some((peer, action)) = one_space_target_text(rest) {
        if let (Some(action), Ok(peer)) = (TalkAction::from_word(action), Nick::new(peer)) {
            return Ok((peer, action));
        }
    }
    talk_arguments_in_full(rest)
}

/// [`talk_arguments`] by the grammar alone.
fn talk_arguments_in_full(rest: &str) -> Result<(Nick<'_>, TalkAction), ParseError> {
    let word = CommandWord::Talk;
    let (peer, action) =
        run(word, rest, (delimited(spaces, token, colon), nom::sequence::terminated(token, end)))?;
    let action = TalkAction::from_word(action).ok_or(ParseError::BadTalkAction)?;
    Ok((nick(word, peer)?, action))
}

/// `: "nick" "Real Name" version`: the arguments of a `CONNECT`.
#[inline]
pub(super) fn connect_arguments(
    rest: &str,
) -> Result<(Nick<'_>, RealName<'_>, Version<'_>), ParseError> {
    if let Some((nick, real_name, version)) = single_spaced_connect_arguments(rest) {
        if let (Ok(nick), Ok(real_name), Ok(version)) =
            (Nick::new(nick), RealName::new(real_name), Version::new(version))
        {
            return Ok((nick, real_name, version));
        }
    }
    connect_arguments_in_full(rest)
}

/// The fast path of [`connect_arguments`]: a quoted nickname, and single
/// spaces between the arguments.
fn single_spaced_connect_arguments(rest: &str) -> Option<(&str, &str, &str)> {
    let (rest, nick) = quoted(after_colon(rest)?).ok()?;
    let (rest, real_name) = quoted(rest.strip_prefix(' ')?).ok()?;
    Some((nick, real_name, rest.strip_prefix(' ')?))
}

/// [`connect_arguments`] by the grammar alone, in which the nickname may
/// also be sent without quotes (PROTOCOL.md).
fn connect_arguments_in_full(
    rest: &str,
) -> Result<(Nick<'_>, RealName<'_>, Version<'_>), ParseError> {
    let word = CommandWord::Connect;
    let (nick_, real_name, version) = run(
        word,
        rest,
        (
            preceded(colon, alt((quoted, token))),
            preceded(spaces, quoted),
            delimited(spaces, token, end),
        ),
    )?;
    Ok((
        nick(word, nick_)?,
        name(word, real_name, RealName::new)?,
        name(word, version, Version::new)?,
    ))
}

/// Longest decimal a `u64` can need.
const MAX_DIGITS: usize = 20;

/// `u64::MAX` in decimal, [`MAX_DIGITS`] long.
const U64_MAX: &str = "18446744073709551615";

/// Parses an unsigned decimal number without sign or spaces.
pub(super) fn number(word: CommandWord, s: &str) -> Result<u64, ParseError> {
    // Eight digits at a time rather than `str::parse`, which also handles
    // signs this grammar does not have, at several times the cost. Up to
    // 19 digits cannot overflow; 20 fit when they are at most `u64::MAX`,
    // which for numbers of one length is a comparison of their text.
    let bad = Err(ParseError::BadNumber(word));
    if s.is_empty() || s.len() > MAX_DIGITS || (s.len() == MAX_DIGITS && s > U64_MAX) {
        return bad;
    }
    let eights = s.as_bytes().chunks_exact(8);
    let rest = eights.remainder();
    let mut n = 0u64;
    for eight in eights {
        let Some(value) = eight_digits(eight.try_into().expect("eight bytes")) else {
            return bad;
        };
        n = n * 100_000_000 + value;
    }
    for &b in rest {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return bad;
        }
        n = n * 10 + u64::from(digit);
    }
    Ok(n)
}

/// The value of eight ASCII digits, most significant first, if they are
/// all digits: checked and combined in a few operations on one `u64`.
fn eight_digits(digits: [u8; 8]) -> Option<u64> {
    let word = u64::from_le_bytes(digits);
    // A digit is 0x30..=0x39: high nibble 3, and adding 6 does not carry
    // into the high nibble.
    let high = word & 0xf0f0_f0f0_f0f0_f0f0;
    let carried = word.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0;
    if high | (carried >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    // Pairs, then quadruples, then the eight: the first (lowest) byte is
    // the most significant digit.
    let word = word & 0x0f0f_0f0f_0f0f_0f0f;
    let word = (word & 0x00ff_00ff_00ff_00ff) * 10 + ((word >> 8) & 0x00ff_00ff_00ff_00ff);
    let word = (word & 0x0000_ffff_0000_ffff) * 100 + ((word >> 16) & 0x0000_ffff_0000_ffff);
    Some((word & 0xffff_ffff) * 10_000 + (word >> 32))
}

/// Appends one line to an output buffer, piece by piece, ending it with
/// CRLF. Nothing here can fail: the values were validated when they were
/// made.
pub(super) struct LineWriter<'b> {
    out: &'b mut BytesMut,
}

impl<'b> LineWriter<'b> {
    /// Starts a line with its command word.
    pub(super) fn start(out: &'b mut BytesMut, word: CommandWord) -> Self {
        out.put_slice(word.as_str().as_bytes());
        Self { out }
    }

    /// ` piece`.
    pub(super) fn arg(self, piece: &str) -> Self {
        self.out.put_u8(b' ');
        self.out.put_slice(piece.as_bytes());
        self
    }

    /// `: ` then the argument part.
    pub(super) fn colon(self, piece: &str) -> Self {
        self.out.put_slice(b": ");
        self.out.put_slice(piece.as_bytes());
        self
    }

    /// Raw text with no separator.
    pub(super) fn raw(self, piece: &str) -> Self {
        self.out.put_slice(piece.as_bytes());
        self
    }

    /// A decimal number with no separator.
    pub(super) fn number(self, n: u64) -> Self {
        let mut digits = [0u8; MAX_DIGITS];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.put_slice(&digits[at..]);
        self
    }

    /// A voice key as 64 lowercase hex digits.
    pub(super) fn hex(self, key: &crate::voice::VoiceKey) -> Self {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(2 * crate::voice::VoiceKey::LEN);
        write!(hex, "{key:x}").expect("writing to a String cannot fail");
        self.out.put_slice(hex.as_bytes());
        self
    }

    /// Ends the line.
    pub(super) fn finish(self) {
        self.out.put_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// [`split_command`] without its eight-byte shortcut.
    fn split_command_bytewise(line: &str) -> Result<(CommandWord, &str), ParseError> {
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let end = line.find([' ', ':']).unwrap_or(line.len());
        let word = CommandWord::from_word(&line[..end]).ok_or(ParseError::UnknownCommand)?;
        Ok((word, &line[end..]))
    }

    proptest! {
        #[test]
        fn the_shortcut_agrees_with_the_general_split(
            word in prop_oneof![
                proptest::sample::select(vec![
                    "MSG", "PRIVMSG", "PONG", "PING", "JOIN", "JOINED", "TALK", "CONNECT",
                    "ACCEPT", "ERROR", "VOICE", "USERLIST", "DISCONNECT",
                ])
                .prop_map(str::to_owned),
                "[A-Za-z]{0,9}",
            ],
            lower in proptest::collection::vec(any::<bool>(), 10),
            separator in prop_oneof![Just(" "), Just(":"), Just(""), Just("\0"), Just("\x1a"), Just("x")],
            rest in "[ -~]{0,12}",
        ) {
            let word: String = word
                .chars()
                .zip(lower.iter().cycle())
                .map(|(c, &lower)| if lower { c.to_ascii_lowercase() } else { c })
                .collect();
            let line = format!("{word}{separator}{rest}");
            prop_assert_eq!(split_command(&line), split_command_bytewise(&line));
        }
    }

    /// Argument texts near the shapes the fast paths look for: separators,
    /// name and digit characters, a control and a non-ASCII letter.
    fn arguments() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            proptest::sample::select(vec![
                " ",
                ":",
                ": ",
                "#",
                "\"",
                ",",
                "\t",
                "é",
                "John",
                "Lobby",
                "Accept",
                "end",
                "18446744073709551615",
                "99999999999999999999",
                "1.0.0",
                "\"John\" \"John Smith\" 1.0",
            ])
            .prop_map(str::to_owned),
            "[a-z0-9]{1,9}",
        ];
        proptest::collection::vec(piece, 0..7).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn fast_paths_agree_with_the_grammar(rest in arguments()) {
            let w = CommandWord::Ping;
            prop_assert_eq!(ping_token(w, &rest), ping_token_in_full(w, &rest));
            let w = CommandWord::Join;
            prop_assert_eq!(room_argument(w, &rest), room_argument_in_full(w, &rest));
            prop_assert_eq!(talk_arguments(&rest), talk_arguments_in_full(&rest));
            prop_assert_eq!(connect_arguments(&rest), connect_arguments_in_full(&rest));
            prop_assert_eq!(target_text(&rest), target_text_in_full(&rest).map(|(_, found)| ("", found)));
        }

        /// Up to the 20 digits the grammar allows (leading zeros count).
        #[test]
        fn numbers_agree_with_the_standard_parser(digits in "[0-9]{1,20}|[0-9/:a ]{0,20}") {
            prop_assert_eq!(number(CommandWord::Ping, &digits).ok(), digits.parse::<u64>().ok());
        }
    }

    #[test]
    fn numbers_are_plain_decimals_that_fit() {
        let w = CommandWord::Ping;
        assert_eq!(number(w, "14139282"), Ok(14139282));
        assert_eq!(number(w, "0"), Ok(0));
        assert_eq!(number(w, "18446744073709551615"), Ok(u64::MAX));
        for bad in
            ["", "+1", "-1", "1 ", "18446744073709551616", "99999999999999999999", "1e3", "０"]
        {
            assert_eq!(number(w, bad), Err(ParseError::BadNumber(w)), "{bad:?}");
        }
    }

    #[test]
    fn writer_formats_numbers() {
        for n in [0, 7, 10, 14139282, u64::MAX] {
            let mut out = BytesMut::new();
            LineWriter::start(&mut out, CommandWord::Ping).colon("").number(n).finish();
            assert_eq!(out, format!("PING: {n}\r\n").as_bytes());
        }
    }
}
