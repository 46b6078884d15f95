//! Summing several voices into one 16-bit stream without clipping.

/// Level (fraction of full scale) above which the limiter starts to bend
/// the signal; below it the mix passes unchanged.
const KNEE: f32 = 0.75;

/// Level (fraction of full scale) the limited signal approaches but never
/// exceeds: about −0.2 dBFS.
const CEILING: f32 = 0.98;

/// Maps a sum of samples (which may exceed the 16-bit range) into 16 bits.
///
/// Below the knee the sum is kept as is; above it, a tanh curve bends it
/// smoothly towards full scale, which it never reaches, so loud moments
/// of several talkers are compressed rather than clipped.
pub(crate) fn soft_limit(sum: i32) -> i16 {
    let x = sum as f32 / 32_768.0;
    let magnitude = x.abs();
    let y = if magnitude <= KNEE {
        magnitude
    } else {
        KNEE + (CEILING - KNEE) * ((magnitude - KNEE) / (CEILING - KNEE)).tanh()
    };
    // |y| <= CEILING < 1, so the product is within the i16 range.
    (y.copysign(x) * 32_767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quiet_signals_pass_unchanged() {
        for s in [-20_000, -1, 0, 1, 12_345, 24_000] {
            assert!((i32::from(soft_limit(s)) - s).abs() <= 1, "{s}");
        }
    }

    #[test]
    fn loud_sums_stay_in_range() {
        let ceiling = (CEILING * 32_767.0) as i16;
        for sum in [40_000, 200_000, i32::MAX, -40_000, -200_000, i32::MIN] {
            assert!(soft_limit(sum).abs() <= ceiling, "{sum}");
        }
        assert!(soft_limit(40_000) > soft_limit(32_000));
    }

    proptest! {
        #[test]
        fn limiting_is_monotonic_and_odd(a in -400_000i32..400_000, b in -400_000i32..400_000) {
            let (low, high) = (a.min(b), a.max(b));
            prop_assert!(soft_limit(low) <= soft_limit(high));
            prop_assert_eq!(soft_limit(-a), -soft_limit(a));
        }
    }
}
