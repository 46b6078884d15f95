//! Widening of 32-bit wire counters (sequence numbers, timestamps) to u64.

/// Offset of the first widened value, so that packets reordered before the
/// first one ever seen still widen to a value above zero.
const ORIGIN: u64 = 1 << 32;

/// Widens a wrapping `u32` counter into a `u64` that never wraps, by picking
/// the 64-bit value nearest to the last accepted one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Unwrapper {
    reference: Option<u64>,
}

impl Unwrapper {
    /// The widened value of `raw`: the one within ±2³¹ of the reference.
    /// Before any value was accepted, `raw` itself is taken as the reference.
    pub(crate) fn widen(&self, raw: u32) -> u64 {
        match self.reference {
            None => ORIGIN + u64::from(raw),
            Some(reference) => {
                // Reinterpreting the wrapped difference as signed is the point.
                #[allow(clippy::cast_possible_wrap)]
                let delta = i64::from(raw.wrapping_sub(reference as u32) as i32);
                reference.saturating_add_signed(delta)
            }
        }
    }

    /// Makes `widened` the reference if it is ahead of the current one.
    pub(crate) fn accept(&mut self, widened: u64) {
        self.reference = Some(self.reference.map_or(widened, |r| r.max(widened)));
    }

    /// Forgets the reference, so the next value starts a new range.
    pub(crate) fn reset(&mut self) {
        self.reference = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_value_is_its_own_reference() {
        let unwrapper = Unwrapper::default();
        assert_eq!(unwrapper.widen(7), ORIGIN + 7);
    }

    #[test]
    fn crosses_the_wrap_forwards_and_backwards() {
        let mut unwrapper = Unwrapper::default();
        let near_end = unwrapper.widen(u32::MAX - 1);
        unwrapper.accept(near_end);
        assert_eq!(unwrapper.widen(1), near_end + 3);
        unwrapper.accept(near_end + 3);
        assert_eq!(unwrapper.widen(u32::MAX), near_end + 1);
    }

    proptest! {
        #[test]
        fn steps_within_half_the_range_round_trip(start: u32, steps in prop::collection::vec(-1000i64..100_000, 1..50)) {
            let mut unwrapper = Unwrapper::default();
            let mut widened = unwrapper.widen(start);
            unwrapper.accept(widened);
            for step in steps {
                let next = widened.saturating_add_signed(step);
                prop_assert_eq!(unwrapper.widen(next as u32), next);
                unwrapper.accept(next);
                widened = widened.max(next);
            }
        }
    }
}
