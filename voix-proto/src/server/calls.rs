//! One-to-one calls: who called whom, and whether it is ringing or live.

use super::ConnectionId;
use crate::voice::SessionId;

/// The id of a call, unique for the life of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CallId(pub(crate) u64);

/// A call between two users.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) caller: ConnectionId,
    pub(crate) callee: ConnectionId,
    pub(crate) state: CallState,
}

/// Where a call is in its life.
#[derive(Debug)]
pub(crate) enum CallState {
    /// Requested, not yet answered; ends by itself at the ring timeout.
    Ringing,
    /// Accepted: both parties talk with these call sessions.
    Active { sessions: Vec<SessionId> },
}

impl Call {
    /// The other party of the call.
    pub(crate) fn peer_of(&self, who: ConnectionId) -> ConnectionId {
        if who == self.caller { self.callee } else { self.caller }
    }
}
