//! The comma-separated nickname list of a `USERLIST` line.

use std::borrow::Cow;

use crate::{NameError, Nick};

/// The users of a room as a `USERLIST` line carries them: `a, b, c`.
///
/// Kept as the validated text, so parsing borrows and does not allocate;
/// [`NickList::iter`] yields the nicknames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NickList<'a>(Cow<'a, str>);

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
        Ok(Self(Cow::Borrowed(s)))
    }

    /// Builds the list from nicknames, in the given order.
    pub fn from_nicks<'n>(nicks: impl IntoIterator<Item = &'n Nick<'n>>) -> NickList<'static> {
        let mut s = String::new();
        for nick in nicks {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(nick.as_str());
        }
        NickList(Cow::Owned(s))
    }

    /// The list as written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nicknames, in order.
    pub fn iter(&self) -> impl Iterator<Item = Nick<'_>> {
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

    /// A copy that owns its text.
    pub fn into_owned(self) -> NickList<'static> {
        NickList(Cow::Owned(self.0.into_owned()))
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
        assert_eq!(NickList::from_nicks([&a, &b]).as_str(), "Tina, Mike");
    }
}
