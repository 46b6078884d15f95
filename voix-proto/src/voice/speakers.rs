//! The replay windows a client keeps for the speakers it hears: one per
//! speaker, for at most [`MAX_TRACKED_SPEAKERS`] speakers, forgetting the
//! one heard least recently when a new one arrives.

use super::error::VoicePacketError;
use super::key::SessionId;
use super::replay::ReplayWindow;

/// How many speakers a [`VoiceEndpoint`](super::VoiceEndpoint) keeps a
/// replay window for. A speaker that was forgotten (more than this many
/// others spoke since) starts over with an empty window.
pub const MAX_TRACKED_SPEAKERS: usize = 128;

/// Bounded, least-recently-heard replacement table of replay windows.
#[derive(Debug, Clone)]
pub(crate) struct SpeakerWindows {
    /// Kept apart from `entries` so that the lookup scans a dense array.
    ids: Vec<SessionId>,
    entries: Vec<Entry>,
    /// Counts recorded packets; an entry's `heard` is the count at its last.
    clock: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    window: ReplayWindow,
    heard: u64,
}

impl SpeakerWindows {
    pub(crate) fn new() -> Self {
        Self {
            ids: Vec::with_capacity(MAX_TRACKED_SPEAKERS),
            entries: Vec::with_capacity(MAX_TRACKED_SPEAKERS),
            clock: 0,
        }
    }

    fn position(&self, speaker: SessionId) -> Option<usize> {
        self.ids.iter().position(|&id| id == speaker)
    }

    /// Whether `sequence` from `speaker` may be accepted.
    pub(crate) fn check(&self, speaker: SessionId, sequence: u32) -> Result<(), VoicePacketError> {
        match self.position(speaker) {
            Some(i) => self.entries[i].window.check(sequence),
            None => Ok(()),
        }
    }

    /// Records an authenticated `sequence` from `speaker`, making room for a
    /// new speaker by forgetting the one heard least recently.
    pub(crate) fn record(&mut self, speaker: SessionId, sequence: u32) {
        self.clock += 1;
        let i = match self.position(speaker) {
            Some(i) => i,
            None if self.ids.len() < MAX_TRACKED_SPEAKERS => {
                self.ids.push(speaker);
                self.entries.push(Entry { window: ReplayWindow::default(), heard: 0 });
                self.ids.len() - 1
            }
            None => {
                let oldest = self
                    .entries
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| e.heard)
                    .map_or(0, |(i, _)| i);
                self.ids[oldest] = speaker;
                self.entries[oldest].window = ReplayWindow::default();
                oldest
            }
        };
        let entry = &mut self.entries[i];
        entry.window.record(sequence);
        entry.heard = self.clock;
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> SessionId {
        SessionId::new(n).expect("nonzero")
    }

    #[test]
    fn windows_are_per_speaker() {
        let mut s = SpeakerWindows::new();
        s.record(id(1), 10);
        assert_eq!(s.check(id(1), 10), Err(VoicePacketError::Replayed(10)));
        assert_eq!(s.check(id(2), 10), Ok(()));
    }

    #[test]
    fn forgets_the_least_recently_heard_speaker() {
        let mut s = SpeakerWindows::new();
        for n in 1..=u32::try_from(MAX_TRACKED_SPEAKERS).expect("small") {
            s.record(id(n), 0);
        }
        s.record(id(1), 1); // speaker 1 is now the most recent; 2 the oldest
        s.record(id(1000), 0);
        assert_eq!(s.tracked(), MAX_TRACKED_SPEAKERS);
        assert_eq!(s.check(id(1), 1), Err(VoicePacketError::Replayed(1)));
        assert_eq!(s.check(id(2), 0), Ok(()), "speaker 2 was forgotten");
        assert_eq!(s.check(id(3), 0), Err(VoicePacketError::Replayed(0)));
        assert_eq!(s.check(id(1000), 0), Err(VoicePacketError::Replayed(0)));
    }
}
