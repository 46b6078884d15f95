//! The comma-separated nickname list of a `USERLIST` line.

use crate::{NameError, Nick};

/// The users of a room as a `USERLIST` line carries them: `a, b, c`.
///
/// A borrowed view of the validated text, `Copy`, so parsing neither
/// allocates nor leaves anything to drop; [`NickList::iter`] yields the
/// nicknames. [`NickListBuf`] owns one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NickList<'a>(&'a str);

impl<'a> NickList<'a> {
    /// Validates a list as it appears on the wire. Entries are separated by
    /// commas; spaces around them are ignored. An empty string is an empty
    /// list.
    pub fn parse(s: &'a str) -> Result<Self, NameError> {
        if !s.trim_matches(' ').is_empty() {
            for entry in s.split(',') {
                Nick::new(entry.trim_matches(' '))?;
            }
        }
        Ok(Self(s))
    }

    /// The list as written on the wire.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The nicknames, in order, borrowed from the list's text.
    pub fn iter(&self) -> impl Iterator<Item = Nick<'a>> + use<'a> {
        let s = self.0.trim_matches(' ');
        s.split(',').filter(move |_| !s.is_empty()).map(|entry| {
            Nick::new(entry.trim_matches(' ')).expect("validated when the list was made")
        })
    }

    /// How many nicknames the list has.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.trim_matches(' ').is_empty()
    }

    /// An owned copy, which outlives the input.
    pub fn into_owned(self) -> NickListBuf {
        NickListBuf(self.0.to_owned())
    }
}

/// An owned [`NickList`], as the server builds one to send.
// A `String` rather than a `Box<str>`: the list is built by appending and
// sent straight away, so shrinking it to fit would cost a reallocation for
// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NickListBuf(String);

impl NickListBuf {
    /// Builds the list from nicknames, in the given order.
    pub fn from_nicks<'n>(nicks: impl IntoIterator<Item = Nick<'n>>) -> Self {
        let mut s = String::new();
        for nick in nicks {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(nick.as_str());
        }
        Self(s)
    }

    /// A borrowed view of the list.
    pub fn borrowed(&self) -> NickList<'_> {
        NickList(&self.0)
    }

    /// The list as written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<NickList<'_>> for NickListBuf {
    fn from(list: NickList<'_>) -> Self {
        list.into_owned()
    }
}

impl PartialEq<NickListBuf> for NickList<'_> {
    fn eq(&self, other: &NickListBuf) -> bool {
        self.0 == other.0
    }
}

impl PartialEq<NickList<'_>> for NickListBuf {
    fn eq(&self, other: &NickList<'_>) -> bool {
        self.0 == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_list() {
        let list = NickList::parse("John, Michael, Willy").unwrap();
        let nicks: Vec<_> = list.iter().map(|n| n.to_string()).collect();
        assert_eq!(nicks, ["John", "Michael", "Willy"]);
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn empty_and_tight_lists() {
        assert!(NickList::parse("").unwrap().is_empty());
        assert_eq!(NickList::parse("").unwrap().iter().count(), 0);
        assert_eq!(NickList::parse("a,b").unwrap().len(), 2);
        assert_eq!(NickList::parse("a,,b"), Err(NameError::EmptyNick));
        assert_eq!(NickList::parse("a, #b"), Err(NameError::NickStartsWithHash));
    }

    #[test]
    fn from_nicks_uses_the_seed_separator() {
        let a = Nick::new("Tina").unwrap();
        let b = Nick::new("Mike").unwrap();
        let list = NickListBuf::from_nicks([a, b]);
        assert_eq!(list.as_str(), "Tina, Mike");
        assert_eq!(list.borrowed().len(), 2);
        assert_eq!(list, NickList::parse("Tina, Mike").unwrap());
    }
}
