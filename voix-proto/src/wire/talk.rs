//! The actions of a `TALK` line.

/// What a `TALK <nick>: <action>` line does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TalkAction {
    /// Ask for a call (client), or an incoming call (server).
    Request,
    /// Accept a requested call.
    Accept,
    /// Refuse a requested call.
    Deny,
    /// End a call, or withdraw a request that was not answered.
    End,
}

impl TalkAction {
    /// The action as the seed spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Request => "Request",
            Self::Accept => "Accept",
            Self::Deny => "Deny",
            Self::End => "End",
        }
    }

    /// Recognises an action, ignoring ASCII case.
    pub fn from_word(word: &str) -> Option<Self> {
        // The length picks the one candidate.
        let candidate = match word.len() {
            7 => Self::Request,
            6 => Self::Accept,
            4 => Self::Deny,
            3 => Self::End,
            _ => return None,
        };
        super::word::matches_ignoring_case(word.as_bytes(), candidate.as_str().as_bytes())
            .then_some(candidate)
    }
}

impl std::fmt::Display for TalkAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
