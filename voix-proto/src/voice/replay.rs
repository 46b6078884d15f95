//! The anti-replay window: accepts each sequence number at most once, in
//! any order within [`REPLAY_WINDOW_LEN`] of the highest one accepted.

use super::error::VoicePacketError;

/// How many sequence numbers below the highest accepted one may still
/// arrive (late, reordered) and be accepted once.
pub const REPLAY_WINDOW_LEN: u32 = 128;

/// A sliding bitmap over the sequence numbers of one sender.
///
/// Checking and recording are separate steps so that only an authenticated
/// packet moves the window: call [`check`](Self::check) before decrypting
/// and [`record`](Self::record) after the tag verifies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    /// The highest accepted sequence, or `None` before the first.
    top: Option<u32>,
    /// Bit `i` set: sequence `top - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// Whether `sequence` may be accepted: it is newer than anything seen,
    /// or inside the window and not yet seen.
    pub(crate) fn check(&self, sequence: u32) -> Result<(), VoicePacketError> {
        let Some(top) = self.top else { return Ok(()) };
        let Some(age) = top.checked_sub(sequence) else {
            return Ok(());
        };
        if age >= REPLAY_WINDOW_LEN {
            Err(VoicePacketError::TooOld(sequence))
        } else if self.seen >> age & 1 == 1 {
            Err(VoicePacketError::Replayed(sequence))
        } else {
            Ok(())
        }
    }

    /// Records `sequence` as accepted. Call only after [`check`](Self::check)
    /// passed and the packet authenticated.
    pub(crate) fn record(&mut self, sequence: u32) {
        match self.top {
            Some(top) if sequence <= top => {
                let age = top - sequence;
                if age < REPLAY_WINDOW_LEN {
                    self.seen |= 1 << age;
                }
            }
            Some(top) => {
                self.seen = self.seen.checked_shl(sequence - top).unwrap_or(0) | 1;
                self.top = Some(sequence);
            }
            None => {
                self.seen = 1;
                self.top = Some(sequence);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn accept(window: &mut ReplayWindow, sequence: u32) -> Result<(), VoicePacketError> {
        window.check(sequence)?;
        window.record(sequence);
        Ok(())
    }

    #[test]
    fn edges_of_the_window() {
        let mut w = ReplayWindow::default();
        assert_eq!(accept(&mut w, 1000), Ok(()));
        assert_eq!(accept(&mut w, 1000), Err(VoicePacketError::Replayed(1000)));
        assert_eq!(accept(&mut w, 1000 - 127), Ok(()));
        assert_eq!(accept(&mut w, 1000 - 128), Err(VoicePacketError::TooOld(872)));
        assert_eq!(accept(&mut w, u32::MAX), Ok(()));
        assert_eq!(accept(&mut w, 1001), Err(VoicePacketError::TooOld(1001)));
        assert_eq!(accept(&mut w, u32::MAX - 1), Ok(()));
        assert_eq!(accept(&mut w, u32::MAX), Err(VoicePacketError::Replayed(u32::MAX)));
    }

    #[test]
    fn zero_is_an_ordinary_first_sequence() {
        let mut w = ReplayWindow::default();
        assert_eq!(accept(&mut w, 0), Ok(()));
        assert_eq!(accept(&mut w, 0), Err(VoicePacketError::Replayed(0)));
        assert_eq!(accept(&mut w, 1), Ok(()));
    }

    #[test]
    fn check_alone_changes_nothing() {
        let mut w = ReplayWindow::default();
        assert_eq!(accept(&mut w, 5), Ok(()));
        let before = w.clone();
        assert_eq!(w.check(6), Ok(()));
        assert_eq!(w.check(4), Ok(()));
        assert_eq!(w, before);
        assert_eq!(accept(&mut w, 6), Ok(()));
    }

    proptest! {
        /// Against a model that remembers everything: the window accepts a
        /// sequence exactly when it is new and not older than the window.
        #[test]
        fn accepts_each_sequence_at_most_once(
            start in any::<u32>(),
            steps in proptest::collection::vec(-200i64..200, 1..400),
        ) {
            let mut w = ReplayWindow::default();
            let mut accepted = HashSet::new();
            let mut top: Option<u32> = None;
            let mut at = i64::from(start);
            for step in steps {
                at += step;
                let Ok(sequence) = u32::try_from(at) else { continue };
                let fresh = !accepted.contains(&sequence)
                    && top.is_none_or(|t| sequence > t || t - sequence < REPLAY_WINDOW_LEN);
                prop_assert_eq!(accept(&mut w, sequence).is_ok(), fresh, "sequence {}", sequence);
                if fresh {
                    accepted.insert(sequence);
                    top = Some(top.map_or(sequence, |t| t.max(sequence)));
                }
            }
        }

        /// Any order of a block no wider than the window is accepted whole.
        #[test]
        fn accepts_any_reordering_within_the_window(
            base in any::<u32>(),
            order in Just((0..REPLAY_WINDOW_LEN).collect::<Vec<_>>()).prop_shuffle(),
        ) {
            let base = base.min(u32::MAX - REPLAY_WINDOW_LEN);
            let mut w = ReplayWindow::default();
            for &offset in &order {
                prop_assert_eq!(accept(&mut w, base + offset), Ok(()));
            }
            for &offset in &order {
                prop_assert_eq!(
                    accept(&mut w, base + offset),
                    Err(VoicePacketError::Replayed(base + offset))
                );
            }
        }
    }
}
