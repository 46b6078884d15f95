//! Validated names and texts: nicknames, rooms, real names, versions and
//! message text.
//!
//! Every type here checks its contents once, at construction, so that a
//! value that exists is always valid on the wire and encoding never fails.
//!
//! Each comes in two forms, as `str` and `String` do. The view ([`Nick<'a>`],
//! [`Room<'a>`], ...) is a validated `&'a str`: `Copy`, and what parsing a
//! line gives, at no allocation. The owned form ([`NickBuf`], [`RoomBuf`],
//! ...) is what outlives the line: a server's users and rooms, a client's
//! session and events. [`Nick::into_owned`] goes from one to the other,
//! [`NickBuf::borrowed`] back.
//!
//! The views hold nothing to drop, so neither does a parsed line: dropping
//! one is free, where a line of `Cow`s had each checked for an owned
//! string, which cost 7 to 9 % of a parse.

use std::borrow::Cow;
use std::fmt;

/// Longest nickname, in bytes of UTF-8.
pub const MAX_NICK_LEN: usize = 32;
/// Longest room name, in bytes of UTF-8, counting the leading `#`.
pub const MAX_ROOM_LEN: usize = 50;
/// Longest real name, in bytes of UTF-8 (the part between the quotes).
pub const MAX_REAL_NAME_LEN: usize = 64;
/// Longest client version string, in bytes.
pub const MAX_VERSION_LEN: usize = 32;

/// Why a nickname, room, real name, version or text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The nickname is empty.
    #[error("nickname is empty")]
    EmptyNick,
    /// The nickname is longer than [`MAX_NICK_LEN`].
    #[error("nickname is longer than {MAX_NICK_LEN} bytes")]
    NickTooLong,
    /// The nickname starts with `#`, which would make it look like a room.
    #[error("nickname may not start with '#'")]
    NickStartsWithHash,
    /// The nickname contains a character that is not allowed.
    #[error("nickname may not contain {0:?}")]
    NickChar(char),
    /// The room name does not start with `#`.
    #[error("room name must start with '#'")]
    RoomWithoutHash,
    /// The room name is just `#`.
    #[error("room name is empty after '#'")]
    EmptyRoom,
    /// The room name is longer than [`MAX_ROOM_LEN`].
    #[error("room name is longer than {MAX_ROOM_LEN} bytes")]
    RoomTooLong,
    /// The room name contains a character that is not allowed.
    #[error("room name may not contain {0:?}")]
    RoomChar(char),
    /// The real name is longer than [`MAX_REAL_NAME_LEN`].
    #[error("real name is longer than {MAX_REAL_NAME_LEN} bytes")]
    RealNameTooLong,
    /// The real name contains a character that is not allowed.
    #[error("real name may not contain {0:?}")]
    RealNameChar(char),
    /// The version is empty, too long, or has a character other than
    /// ASCII letters, digits, `.`, `-` and `+`.
    #[error("version must be 1 to {MAX_VERSION_LEN} of A-Z a-z 0-9 . - +")]
    BadVersion,
    /// The message text is empty.
    #[error("message text is empty")]
    EmptyText,
    /// The message text contains CR, LF or NUL.
    #[error("message text may not contain {0:?}")]
    TextChar(char),
}

/// Characters no name may contain: whitespace, controls, and the separators
/// of the line format (`"`, `:` and `,`).
fn is_forbidden_in_name(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '"' | ':' | ',')
}

/// For every byte: [`FORBIDDEN`] if it is an ASCII character
/// [`is_forbidden_in_name`] rejects, [`NON_ASCII`] if it is part of a
/// multi-byte character, and [`FORBIDDEN_IN_REAL_NAME`] too if real names
/// may not have it either. Names are checked on every parsed line, so the
/// common case (all ASCII, all allowed) is one table look-up per byte.
static NAME_BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = if b >= 0x80 {
            NON_ASCII
        } else {
            let c = b as u8 as char;
            let forbidden = c.is_ascii_whitespace()
                || c.is_ascii_control()
                || c == '\u{b}'
                || matches!(c, '"' | ':' | ',');
            let in_real_name = c.is_ascii_control() || c == '"';
            (if forbidden { FORBIDDEN } else { 0 })
                | (if in_real_name { FORBIDDEN_IN_REAL_NAME } else { 0 })
        };
        b += 1;
    }
    table
};
const FORBIDDEN: u8 = 1;
const NON_ASCII: u8 = 2;
const FORBIDDEN_IN_REAL_NAME: u8 = 4;

/// Every class bit set by a byte of `s`.
fn byte_classes(s: &str) -> u8 {
    s.bytes().fold(0, |acc, b| acc | NAME_BYTE_CLASS[usize::from(b)])
}

/// Finds the first character of a name that is not allowed.
fn first_forbidden_in_name(s: &str) -> Option<char> {
    if byte_classes(s) == 0 {
        return None;
    }
    s.chars().find(|&c| is_forbidden_in_name(c))
}

/// Finds the first character of `s` that `forbidden` rejects.
fn first_forbidden(s: &str, forbidden: impl Fn(char) -> bool) -> Option<char> {
    s.chars().find(|&c| forbidden(c))
}

/// Lower-cases `s` for case-insensitive comparison, borrowing when it is
/// already lower-case ASCII.
fn fold_case(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| !b.is_ascii_uppercase() && b.is_ascii()) {
        Cow::Borrowed(s)
    } else if s.is_ascii() {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

macro_rules! validated_str {
    (
        $(#[$doc:meta])* $name:ident,
        $(#[$buf_doc:meta])* $buf:ident,
        $check:path
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name<'a>(&'a str);

        $(#[$buf_doc])*
        // A `Box<str>` rather than a `String`: a validated value never
        // grows, so it needs no capacity, and the box is a word smaller in
        // the tables that keep one per user, room or voice session. Most
        // come from `into_owned`, which allocates the exact length;
        // `from_string` may reallocate to drop a string's spare capacity.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $buf(Box<str>);

        impl<'a> $name<'a> {
            /// Validates `s`, borrowing it.
            pub fn new(s: &'a str) -> Result<Self, NameError> {
                $check(s)?;
                Ok(Self(s))
            }

            /// The validated text, borrowed for as long as the input is.
            pub fn as_str(&self) -> &'a str {
                self.0
            }

            /// An owned copy, which outlives the input.
            pub fn into_owned(self) -> $buf {
                $buf(Box::from(self.0))
            }
        }

        impl $buf {
            /// Validates an owned string, keeping it.
            pub fn from_string(s: String) -> Result<Self, NameError> {
                $check(&s)?;
                Ok(Self(s.into_boxed_str()))
            }

            /// A borrowed view of this value.
            pub fn borrowed(&self) -> $name<'_> {
                $name(&self.0)
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }

        impl fmt::Display for $buf {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0, f)
            }
        }

        impl fmt::Debug for $buf {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl AsRef<str> for $name<'_> {
            fn as_ref(&self) -> &str {
                self.0
            }
        }

        impl AsRef<str> for $buf {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'a> TryFrom<&'a str> for $name<'a> {
            type Error = NameError;
            fn try_from(s: &'a str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $buf {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                Self::from_string(s)
            }
        }

        impl std::str::FromStr for $buf {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                $name::new(s).map($name::into_owned)
            }
        }

        impl From<$name<'_>> for $buf {
            fn from(name: $name<'_>) -> Self {
                name.into_owned()
            }
        }

        impl PartialEq<$buf> for $name<'_> {
            fn eq(&self, other: &$buf) -> bool {
                self.0 == &*other.0
            }
        }

        impl PartialEq<$name<'_>> for $buf {
            fn eq(&self, other: &$name<'_>) -> bool {
                &*self.0 == other.0
            }
        }
    };
}

validated_str!(
    /// A nickname: 1 to [`MAX_NICK_LEN`] bytes of UTF-8 with no whitespace,
    /// control characters, `"`, `:` or `,`, not starting with `#`.
    ///
    /// A borrowed view, `Copy`; [`NickBuf`] owns one. Equality is exact;
    /// uniqueness on a server is case-insensitive, through [`Nick::key`].
    Nick,
    /// An owned [`Nick`], for keeping past the line it came in.
    NickBuf,
    check_nick
);

validated_str!(
    /// A room name: `#` followed by 1 to [`MAX_ROOM_LEN`]` - 1` bytes with no
    /// whitespace, control characters, `"`, `:` or `,`.
    ///
    /// A borrowed view, `Copy`; [`RoomBuf`] owns one. Equality is exact;
    /// rooms are the same room when their [`Room::key`]s are equal
    /// (`#lobby` is `#Lobby`).
    Room,
    /// An owned [`Room`], for keeping past the line it came in.
    RoomBuf,
    check_room
);

validated_str!(
    /// A real name, as sent between quotes in `CONNECT`: at most
    /// [`MAX_REAL_NAME_LEN`] bytes with no `"` and no control characters.
    /// It may be empty.
    ///
    /// A borrowed view, `Copy`; [`RealNameBuf`] owns one.
    RealName,
    /// An owned [`RealName`], for keeping past the line it came in.
    RealNameBuf,
    check_real_name
);

validated_str!(
    /// A client version such as `1.0.0`: 1 to [`MAX_VERSION_LEN`] ASCII
    /// letters, digits, `.`, `-` or `+`.
    ///
    /// A borrowed view, `Copy`; [`VersionBuf`] owns one.
    Version,
    /// An owned [`Version`], for keeping past the line it came in.
    VersionBuf,
    check_version
);

validated_str!(
    /// Message text: non-empty UTF-8 without CR, LF or NUL. It may contain
    /// `:`, spaces and anything else, and round-trips byte for byte. Its
    /// length is bounded by the line length limit of the connection.
    ///
    /// A borrowed view, `Copy`; [`TextBuf`] owns one.
    Text,
    /// An owned [`Text`], for keeping past the line it came in.
    TextBuf,
    check_text
);

fn check_nick(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::EmptyNick);
    }
    if s.len() > MAX_NICK_LEN {
        return Err(NameError::NickTooLong);
    }
    if s.starts_with('#') {
        return Err(NameError::NickStartsWithHash);
    }
    match first_forbidden_in_name(s) {
        Some(c) => Err(NameError::NickChar(c)),
        None => Ok(()),
    }
}

fn check_room(s: &str) -> Result<(), NameError> {
    let Some(name) = s.strip_prefix('#') else {
        return Err(NameError::RoomWithoutHash);
    };
    if name.is_empty() {
        return Err(NameError::EmptyRoom);
    }
    if s.len() > MAX_ROOM_LEN {
        return Err(NameError::RoomTooLong);
    }
    match first_forbidden_in_name(name) {
        Some(c) => Err(NameError::RoomChar(c)),
        None => Ok(()),
    }
}

fn check_real_name(s: &str) -> Result<(), NameError> {
    if s.len() > MAX_REAL_NAME_LEN {
        return Err(NameError::RealNameTooLong);
    }
    // ASCII without controls or '"' needs no closer look.
    if byte_classes(s) & (FORBIDDEN_IN_REAL_NAME | NON_ASCII) == 0 {
        return Ok(());
    }
    match first_forbidden(s, |c| c.is_control() || c == '"') {
        Some(c) => Err(NameError::RealNameChar(c)),
        None => Ok(()),
    }
}

fn check_version(s: &str) -> Result<(), NameError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_VERSION_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if ok { Ok(()) } else { Err(NameError::BadVersion) }
}

fn check_text(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::EmptyText);
    }
    // CR, LF and NUL are all below 14, as are only tab and rarer controls:
    // most texts are cleared by their smallest byte, and the culprit is
    // looked for only when there may be one.
    if crate::scan::min_byte(s.as_bytes()) > b'\r' {
        return Ok(());
    }
    match s.bytes().find(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        Some(culprit) => Err(NameError::TextChar(char::from(culprit))),
        None => Ok(()),
    }
}

impl Nick<'_> {
    /// The case-folded form used to decide whether two nicknames are the
    /// same user (`John` and `JOHN` are).
    pub fn key(&self) -> NameKey {
        name_key(self.0)
    }

    /// Whether `self` and `other` are the same user (equal ignoring case),
    /// without allocating when both are ASCII.
    pub fn same_user(&self, other: Nick<'_>) -> bool {
        same_key(self.0, other.0)
    }
}

impl NickBuf {
    /// The case-folded form used to decide whether two nicknames are the
    /// same user: [`Nick::key`].
    pub fn key(&self) -> NameKey {
        self.borrowed().key()
    }

    /// Whether `self` and `other` are the same user: [`Nick::same_user`].
    pub fn same_user(&self, other: Nick<'_>) -> bool {
        self.borrowed().same_user(other)
    }
}

impl Room<'static> {
    /// `#Lobby`, the room every user joins on connecting and returns to.
    pub const LOBBY: Room<'static> = Room("#Lobby");
}

impl Room<'_> {
    /// The case-folded form used to decide whether two room names name the
    /// same room.
    pub fn key(&self) -> NameKey {
        name_key(self.0)
    }

    /// Whether `self` and `other` name the same room (their keys are
    /// equal), without allocating when both are ASCII.
    pub fn same_room(&self, other: Room<'_>) -> bool {
        same_key(self.0, other.0)
    }
}

impl RoomBuf {
    /// The case-folded form used to decide whether two room names name the
    /// same room: [`Room::key`].
    pub fn key(&self) -> NameKey {
        self.borrowed().key()
    }

    /// Whether `self` and `other` name the same room: [`Room::same_room`].
    pub fn same_room(&self, other: Room<'_>) -> bool {
        self.borrowed().same_room(other)
    }
}

/// The case-folded form of a [`Nick`] or [`Room`], for maps and uniqueness.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameKey(Box<str>);

impl NameKey {
    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The [`NameKey`] of a nickname or room name.
fn name_key(name: &str) -> NameKey {
    NameKey(fold_case(name).into_owned().into_boxed_str())
}

/// Whether two names have the same [`NameKey`], without allocating when
/// both are ASCII.
fn same_key(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold_case(a) == fold_case(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nick_accepts_the_seed_names_and_unicode() {
        for n in ["Nickname", "John", "Willy", "Jørgen", "a", "x_y-z.1", &"n".repeat(32)] {
            assert_eq!(Nick::new(n).map(|n| n.to_string()), Ok(n.to_owned()), "{n}");
        }
    }

    #[test]
    fn nick_refusals_say_why() {
        let cases = [
            ("", NameError::EmptyNick),
            (&*"n".repeat(33), NameError::NickTooLong),
            ("#John", NameError::NickStartsWithHash),
            ("Jo hn", NameError::NickChar(' ')),
            ("Jo\"hn", NameError::NickChar('"')),
            ("Jo:hn", NameError::NickChar(':')),
            ("Jo,hn", NameError::NickChar(',')),
            ("Jo\u{7}hn", NameError::NickChar('\u{7}')),
            ("Jo\u{a0}hn", NameError::NickChar('\u{a0}')),
        ];
        for (input, err) in cases {
            assert_eq!(Nick::new(input), Err(err), "{input:?}");
        }
    }

    #[test]
    fn nick_keys_fold_case() {
        let a = Nick::new("John").unwrap();
        let b = Nick::new("jOHN").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.key(), b.key());
        assert_eq!(Nick::new("ÆBLE").unwrap().key(), Nick::new("æble").unwrap().key());
        assert!(a.same_user(b));
        assert!(Nick::new("ÆBLE").unwrap().same_user(Nick::new("æble").unwrap()));
        assert!(!a.same_user(Nick::new("Johnny").unwrap()));
    }

    #[test]
    fn the_byte_table_agrees_with_the_rule() {
        for b in 0u8..128 {
            let c = char::from(b);
            let class = NAME_BYTE_CLASS[usize::from(b)];
            assert_eq!(class & FORBIDDEN != 0, is_forbidden_in_name(c), "{c:?}");
            let in_real_name = c.is_control() || c == '"';
            assert_eq!(class & FORBIDDEN_IN_REAL_NAME != 0, in_real_name, "{c:?}");
            assert_eq!(class & NON_ASCII, 0, "{c:?}");
        }
        assert!((128..=255).all(|b| NAME_BYTE_CLASS[b] == NON_ASCII));
    }

    #[test]
    fn room_rules() {
        assert!(Room::new("#TurboRoom").is_ok());
        assert_eq!(Room::new("Lobby"), Err(NameError::RoomWithoutHash));
        assert_eq!(Room::new("#"), Err(NameError::EmptyRoom));
        assert_eq!(Room::new("#a b"), Err(NameError::RoomChar(' ')));
        assert_eq!(Room::new("#a,b"), Err(NameError::RoomChar(',')));
        assert_eq!(Room::new(&format!("#{}", "r".repeat(49))).map(|r| r.as_str().len()), Ok(50));
        assert_eq!(Room::new(&format!("#{}", "r".repeat(50))), Err(NameError::RoomTooLong));
        assert_eq!(Room::LOBBY.key(), Room::new("#lobby").unwrap().key());
    }

    /// `same_room` and `same_user` agree with their keys, on ASCII and
    /// beyond (where lower-casing a word's final `Σ` gives `ς`, not `σ`).
    #[test]
    fn comparisons_agree_with_keys() {
        let rooms = ["#Lobby", "#lobby", "#LOBBY", "#Lobby2", "#ÆBLE", "#æble", "#ΟΔΟΣ", "#οδοσ"];
        for a in rooms.map(|r| Room::new(r).unwrap()) {
            for b in rooms.map(|r| Room::new(r).unwrap()) {
                assert_eq!(a.same_room(b), a.key() == b.key(), "{a} and {b}");
            }
        }
        let nicks = ["John", "jOHN", "Johnny", "ÆBLE", "æble", "ΟΔΟΣ", "οδοσ"];
        for a in nicks.map(|n| Nick::new(n).unwrap()) {
            for b in nicks.map(|n| Nick::new(n).unwrap()) {
                assert_eq!(a.same_user(b), a.key() == b.key(), "{a} and {b}");
            }
        }
    }

    #[test]
    fn text_keeps_colons_and_spaces_but_not_line_breaks() {
        assert!(Text::new("Hey: you : there  ").is_ok());
        assert_eq!(Text::new(""), Err(NameError::EmptyText));
        assert_eq!(Text::new("a\rb"), Err(NameError::TextChar('\r')));
        assert_eq!(Text::new("a\nb"), Err(NameError::TextChar('\n')));
        assert_eq!(Text::new("a\0b"), Err(NameError::TextChar('\0')));
        // Other controls below CR pass the quick check's suspicion and are
        // kept; a break anywhere in a long text is found.
        assert!(Text::new("col1\tcol2\x0b\x0c").is_ok());
        let long = format!("{}\r{}", "x".repeat(37), "y".repeat(20));
        assert_eq!(Text::new(&long), Err(NameError::TextChar('\r')));
    }

    #[test]
    fn real_name_and_version() {
        assert!(RealName::new("Real Name").is_ok());
        assert!(RealName::new("").is_ok());
        assert_eq!(RealName::new("a\"b"), Err(NameError::RealNameChar('"')));
        // Past the printable-ASCII fast path: controls are refused, other
        // characters kept.
        assert_eq!(RealName::new("a\tb"), Err(NameError::RealNameChar('\t')));
        assert_eq!(RealName::new("a\x7fb"), Err(NameError::RealNameChar('\x7f')));
        assert_eq!(RealName::new("Zoë\u{85}"), Err(NameError::RealNameChar('\u{85}')));
        assert!(RealName::new("Zoë Ærø ~!").is_ok());
        assert!(Version::new("1.0.0").is_ok());
        assert!(Version::new("2.1.0-rc.1+build5").is_ok());
        assert_eq!(Version::new("1 0"), Err(NameError::BadVersion));
        assert_eq!(Version::new(""), Err(NameError::BadVersion));
    }

    #[test]
    fn views_borrow_and_owned_values_outlive_input() {
        let owned: NickBuf = {
            let s = String::from("John");
            Nick::new(&s).unwrap().into_owned()
        };
        assert_eq!(owned.as_str(), "John");
        let input = String::from("John");
        let view = Nick::new(&input).unwrap();
        assert!(std::ptr::eq(view.as_str(), input.as_str()), "a view borrows its input");
        assert_eq!(owned.borrowed(), view);
        assert_eq!(owned, view);
        assert_eq!(view, owned);
        assert_eq!(NickBuf::from(view), owned);
        assert_eq!("John".parse::<NickBuf>(), Ok(owned.clone()));
        assert_eq!(NickBuf::try_from(String::from("#John")), Err(NameError::NickStartsWithHash));
        assert_eq!(format!("{owned} {view} {owned:?} {view:?}"), r#"John John "John" "John""#);
    }

    /// A view is a bare `&str`, so whatever holds only views has nothing
    /// to drop.
    #[test]
    fn views_are_copy_and_need_no_drop() {
        fn copy<T: Copy>() {}
        copy::<Nick<'static>>();
        copy::<Room<'static>>();
        copy::<RealName<'static>>();
        copy::<Version<'static>>();
        copy::<Text<'static>>();
        assert!(!std::mem::needs_drop::<Nick<'static>>());
        assert!(!std::mem::needs_drop::<Text<'static>>());
    }

    #[test]
    fn owned_values_delegate_comparisons() {
        let room = RoomBuf::from_string("#lobby".to_owned()).unwrap();
        assert_eq!(room.key(), Room::LOBBY.key());
        assert!(room.same_room(Room::LOBBY));
        let nick = NickBuf::from_string("JOHN".to_owned()).unwrap();
        assert!(nick.same_user(Nick::new("john").unwrap()));
        assert_eq!(nick.key(), Nick::new("john").unwrap().key());
    }
}
