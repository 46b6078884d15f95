//! Objective measures of audio quality and level.

/// Frames whose reference level is below this (dBFS) are left out of the
/// segmental SNR: they are silence, where any error is inaudible.
pub const SILENCE_DBFS: f64 = -50.0;

/// Per-frame SNR is clamped to this range (dB), as is usual for segmental
/// SNR, so a single silent or perfect frame cannot dominate the mean.
pub const SEGMENT_SNR_RANGE: (f64, f64) = (-10.0, 35.0);

/// RMS level of `samples` in dB relative to full scale; −120 for silence.
pub fn rms_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return -120.0;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    let rms = (energy / samples.len() as f64).sqrt() / 32_768.0;
    (20.0 * rms.log10()).max(-120.0)
}

/// Signal-to-noise ratio (dB) of `degraded` against `reference`, over
/// their common length.
pub fn snr_db(reference: &[i16], degraded: &[i16]) -> f64 {
    let (signal, noise) =
        reference.iter().zip(degraded).fold((0.0, 0.0), |(signal, noise), (&r, &d)| {
            let r = f64::from(r);
            (signal + r * r, noise + (r - f64::from(d)).powi(2))
        });
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal.max(f64::MIN_POSITIVE) / noise).log10()
}

/// Segmental SNR (dB): the mean over frames of `frame` samples of each
/// frame's SNR, clamped to [`SEGMENT_SNR_RANGE`], skipping frames whose
/// reference is silent (below [`SILENCE_DBFS`]). `None` if no frame counts.
pub fn segmental_snr_db(reference: &[i16], degraded: &[i16], frame: usize) -> Option<f64> {
    let frame = frame.max(1);
    let (low, high) = SEGMENT_SNR_RANGE;
    let scores: Vec<f64> = reference
        .chunks(frame)
        .zip(degraded.chunks(frame))
        .filter(|(r, _)| rms_dbfs(r) > SILENCE_DBFS)
        .map(|(r, d)| snr_db(r, d).clamp(low, high))
        .collect();
    if scores.is_empty() { None } else { Some(scores.iter().sum::<f64>() / scores.len() as f64) }
}

/// The lag (in samples, within `±max_lag`) at which `degraded` best
/// matches `reference` by cross-correlation: `degraded[i + lag]` lines up
/// with `reference[i]`.
pub fn best_lag(reference: &[i16], degraded: &[i16], max_lag: usize) -> isize {
    let max_lag = isize::try_from(max_lag).unwrap_or(isize::MAX);
    let mut best = (0isize, f64::NEG_INFINITY);
    for lag in -max_lag..=max_lag {
        let correlation: f64 = reference
            .iter()
            .enumerate()
            .filter_map(|(i, &r)| {
                let j = isize::try_from(i).ok()?.checked_add(lag)?;
                let d = *degraded.get(usize::try_from(j).ok()?)?;
                Some(f64::from(r) * f64::from(d))
            })
            .sum();
        if correlation > best.1 {
            best = (lag, correlation);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::tone;

    #[test]
    fn levels_of_known_signals() {
        assert_eq!(rms_dbfs(&[]), -120.0);
        assert_eq!(rms_dbfs(&[0; 100]), -120.0);
        let full = tone(1_000.0, i16::MAX, 48_000);
        assert!((rms_dbfs(&full) + 3.01).abs() < 0.05, "{}", rms_dbfs(&full));
    }

    #[test]
    fn snr_of_a_known_error() {
        let reference = tone(440.0, 10_000, 4_800);
        assert_eq!(snr_db(&reference, &reference), f64::INFINITY);
        let half: Vec<i16> = reference.iter().map(|s| s / 2).collect();
        assert!((snr_db(&reference, &half) - 6.02).abs() < 0.1);
        let segmental = segmental_snr_db(&reference, &half, 960).expect("speech frames");
        assert!((segmental - 6.02).abs() < 0.1);
        assert_eq!(segmental_snr_db(&[0; 960], &[5; 960], 960), None);
    }

    #[test]
    fn finds_the_delay_of_a_copy() {
        let reference = crate::signal::speech_like(2, 0.2);
        let mut delayed = vec![0i16; 37];
        delayed.extend_from_slice(&reference);
        assert_eq!(best_lag(&reference[..4_800], &delayed, 100), 37);
    }
}
