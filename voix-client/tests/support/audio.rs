//! WAV files and the measures the tests assert on: tone levels, and the
//! alignment of a recording against what was played into the call.

use std::path::Path;

/// Samples per second of every file here.
pub const RATE: u32 = 48_000;

/// Samples per microsecond, as a ratio.
const SAMPLES_PER_US: f64 = RATE as f64 / 1e6;

/// Writes 48 kHz mono 16-bit `samples` to `path`.
pub fn write_wav(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("temp dir is writable");
    for &s in samples {
        writer.write_sample(s).expect("writes");
    }
    writer.finalize().expect("finalizes");
}

/// Reads a 48 kHz mono 16-bit WAV file.
pub fn read_wav(path: &Path) -> Vec<i16> {
    let reader = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(reader.spec().sample_rate, RATE);
    assert_eq!(reader.spec().channels, 1);
    reader.into_samples::<i16>().map(|s| s.expect("a sample")).collect()
}

/// A recording and the wall-clock time of its first sample.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The samples.
    pub samples: Vec<i16>,
    /// µs since the Unix epoch of sample 0.
    pub start_unix_us: u64,
}

impl Recording {
    /// Reads `path`, whose first sample played at `start_unix_us`.
    pub fn read(path: &Path, start_unix_us: u64) -> Self {
        Self { samples: read_wav(path), start_unix_us }
    }

    /// The index of the sample playing at `unix_us` (clamped to the
    /// recording).
    pub fn index_at(&self, unix_us: u64) -> usize {
        let offset = unix_us.saturating_sub(self.start_unix_us) as f64 * SAMPLES_PER_US;
        (offset as usize).min(self.samples.len())
    }

    /// The samples played between two wall-clock times.
    pub fn between(&self, from_unix_us: u64, to_unix_us: u64) -> &[i16] {
        let (a, b) = (self.index_at(from_unix_us), self.index_at(to_unix_us));
        &self.samples[a..b.max(a)]
    }
}

/// The RMS level of `samples` in dB against full scale.
pub fn level_db(samples: &[i16]) -> f64 {
    voix_audio::quality::rms_dbfs(samples)
}

/// The level of the `hz` component of `samples` in dB relative to a
/// full-scale sine (Goertzel), so a tone of peak amplitude `a` reads about
/// `20 log10(a / 32768)`.
pub fn tone_db(samples: &[i16], hz: f64) -> f64 {
    if samples.is_empty() {
        return -200.0;
    }
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) / 32_768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let amplitude = 2.0 * power.max(0.0).sqrt() / samples.len() as f64;
    20.0 * amplitude.max(1e-10).log10()
}

/// Samples per block in [`tone_blocks_db`]: 100 ms.
const TONE_BLOCK: usize = 4_800;

/// [`tone_db`] of each 100 ms block of `samples`, so that a jump in the
/// playout delay (which shifts the tone's phase) weakens one block instead
/// of the whole measure.
pub fn tone_blocks_db(samples: &[i16], hz: f64) -> Vec<f64> {
    samples.chunks_exact(TONE_BLOCK).map(|block| tone_db(block, hz)).collect()
}

/// The median of [`tone_blocks_db`]: how loud the tone mostly is.
pub fn tone_level_db(samples: &[i16], hz: f64) -> f64 {
    let mut blocks = tone_blocks_db(samples, hz);
    if blocks.is_empty() { -200.0 } else { median(&mut blocks) }
}

/// The loudest of [`tone_blocks_db`]: whether the tone is there at all.
pub fn tone_peak_db(samples: &[i16], hz: f64) -> f64 {
    tone_blocks_db(samples, hz).into_iter().fold(-200.0, f64::max)
}

/// The share of `values` at or above `threshold`.
pub fn share_at_least(values: &[f64], threshold: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().filter(|&&v| v >= threshold).count() as f64 / values.len() as f64
}

/// Where a window of a recording best matches the looped reference that
/// was captured from `reference_start_unix_us` on.
#[derive(Debug, Clone, Copy)]
pub struct Alignment {
    /// Capture-to-playback delay, in µs.
    pub delay_us: f64,
    /// Normalized cross-correlation at that delay, -1 to 1.
    pub correlation: f64,
}

/// Finds the delay (0 to `max_delay_us`) at which `recording[from..from+len]`
/// best matches `reference` (played in a loop, its sample 0 captured at
/// `reference_start_unix_us`): first on a 12 kHz version of both, then
/// to the sample around the best coarse match.
pub fn align(
    reference: &[i16],
    reference_start_unix_us: u64,
    recording: &Recording,
    from: usize,
    len: usize,
    max_delay_us: u64,
) -> Alignment {
    assert!(
        !reference.is_empty() && reference.len() % 4 == 0,
        "reference length must be a multiple of 4"
    );
    let window = &recording.samples[from..(from + len).min(recording.samples.len())];
    // The reference sample captured when recording[from] played, at zero
    // delay.
    let offset_us = recording.start_unix_us as f64 - reference_start_unix_us as f64;
    let zero_delay = offset_us * SAMPLES_PER_US + from as f64;
    let max_delay = (max_delay_us as f64 * SAMPLES_PER_US) as i64;
    let at = |delay: i64| -> i64 { zero_delay.round() as i64 - delay };
    // Coarse: every 4th lag on 4-sample means.
    let reference_coarse = decimate(reference);
    let window_coarse = decimate(window);
    let mut best = (0i64, f64::NEG_INFINITY);
    for coarse_delay in 0..=max_delay / 4 {
        let start = at(coarse_delay * 4).div_euclid(4);
        let c = correlation(&window_coarse, &reference_coarse, start);
        if c > best.1 {
            best = (coarse_delay * 4, c);
        }
    }
    // Fine: every lag near the coarse best.
    let mut fine = (best.0, f64::NEG_INFINITY);
    for delay in (best.0 - 8).max(0)..=(best.0 + 8).min(max_delay) {
        let c = correlation(window, reference, at(delay));
        if c > fine.1 {
            fine = (delay, c);
        }
    }
    Alignment { delay_us: fine.0 as f64 / SAMPLES_PER_US, correlation: fine.1 }
}

/// Means of 4 samples.
fn decimate(samples: &[i16]) -> Vec<f32> {
    samples.chunks_exact(4).map(|c| c.iter().map(|&s| f32::from(s)).sum::<f32>() / 4.0).collect()
}

/// Normalized correlation of `window` with `reference` (looped) read from
/// index `start` on.
fn correlation<T: Copy + Into<f64>>(window: &[T], reference: &[T], start: i64) -> f64 {
    let n = reference.len() as i64;
    let (mut xy, mut xx, mut yy) = (0.0f64, 0.0f64, 0.0f64);
    for (k, &x) in window.iter().enumerate() {
        let y: f64 = reference[(start + k as i64).rem_euclid(n) as usize].into();
        let x: f64 = x.into();
        xy += x * y;
        xx += x * x;
        yy += y * y;
    }
    if xx == 0.0 || yy == 0.0 { 0.0 } else { xy / (xx * yy).sqrt() }
}

/// The median of `values` (which must not be empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
