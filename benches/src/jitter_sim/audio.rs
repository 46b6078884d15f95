//! `jitter-sim --audio`: real speech through encode, the trace, each
//! jitter buffer and decode, written as WAV and scored.
//!
//! The score is **segmental SNR** against the clean decode (every packet
//! decoded in order): each output frame is compared with the clean frame
//! of the packet it stands for (the packet played or recovered, or for a
//! concealed frame the one after the last played), per-frame SNR clamped
//! to [−10, 35] dB, averaged over frames whose clean version is not silent.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use voix_audio::codec::{EncoderConfig, VoiceDecoder, VoiceEncoder};
use voix_audio::device::{AudioSink, AudioSource, Pacing, SourceStatus, WavSink, WavSource};
use voix_audio::quality::{SEGMENT_SNR_RANGE, SILENCE_DBFS, rms_dbfs, snr_db};

use super::engine::{Contender, Speex, Tick, TickRecord, Voix, replay};
use super::{SimError, read_trace};

/// The speech fixture, relative to the `benches` crate.
pub const FIXTURE: &str = "../voix-audio/fixtures/speech-16k.wav";

/// Scores of one trace.
#[derive(Debug, Clone)]
pub struct AudioResult {
    /// Name of the trace.
    pub trace: String,
    /// Voix's segmental SNR (dB).
    pub voix_snr: f64,
    /// speexdsp's segmental SNR (dB).
    pub speex_snr: f64,
    /// Where Voix's output was written.
    pub voix_wav: PathBuf,
    /// Where speexdsp's output was written.
    pub speex_wav: PathBuf,
}

/// Sends `speech` (repeated to the trace's length) through the trace at
/// `trace_path` and both buffers, writing WAVs into `out_dir`.
pub fn run_file(trace_path: &Path, speech: &Path, out_dir: &Path) -> Result<AudioResult, SimError> {
    let trace = read_trace(trace_path)?;
    let name = trace_path
        .file_stem()
        .map_or_else(|| "trace".to_owned(), |s| s.to_string_lossy().into_owned());
    let samples = trace.frame.samples();
    let packets = trace.records.iter().map(|r| r.seq).max().map_or(0, |m| m as usize + 1);
    let pcm = load_looped(speech, packets * samples)?;

    let config = EncoderConfig {
        frame: trace.frame,
        dtx: false,
        expected_loss_percent: 10,
        ..EncoderConfig::default()
    };
    let mut encoder = VoiceEncoder::new(config).map_err(codec)?;
    let mut payloads = Vec::with_capacity(packets);
    for frame in pcm.chunks_exact(samples) {
        let encoded = encoder.encode(frame).map_err(codec)?;
        payloads.push(encoded.map_or_else(Bytes::new, |f| Bytes::copy_from_slice(f.payload)));
    }
    let clean = decode_clean(&payloads, config)?;
    let payload = |seq: u32| payloads.get(seq as usize).cloned().unwrap_or_default();

    std::fs::create_dir_all(out_dir)?;
    let mut voix =
        Voix::new(voix_audio::jitter::JitterConfig { frame: trace.frame, ..Default::default() })?;
    let mut speex = Speex::new(samples as u32).ok_or(SimError::Speex)?;
    let score = |contender: &mut dyn Contender| -> Result<(f64, PathBuf), SimError> {
        let ticks = replay(&trace, contender, &payload);
        let path = out_dir.join(format!("{name}-{}.wav", contender.name()));
        let snr = render_and_score(&ticks, &clean, config, &path)?;
        Ok((snr, path))
    };
    let (voix_snr, voix_wav) = score(&mut voix)?;
    let (speex_snr, speex_wav) = score(&mut speex)?;
    Ok(AudioResult { trace: name, voix_snr, speex_snr, voix_wav, speex_wav })
}

/// The Markdown table of `results`.
pub fn table(results: &[AudioResult]) -> String {
    let mut out = String::from(
        "| trace | voix segSNR | speexdsp segSNR | voix WAV | speexdsp WAV |\n|---|---:|---:|---|---|\n",
    );
    for r in results {
        let _ = writeln!(
            out,
            "| {} | {:.1} dB | {:.1} dB | {} | {} |",
            r.trace,
            r.voix_snr,
            r.speex_snr,
            r.voix_wav.display(),
            r.speex_wav.display()
        );
    }
    out
}

fn codec(error: voix_audio::codec::CodecError) -> SimError {
    SimError::Audio(error.to_string())
}

fn device(error: voix_audio::device::DeviceError) -> SimError {
    SimError::Audio(error.to_string())
}

/// Reads `path` and repeats it until `length` samples.
fn load_looped(path: &Path, length: usize) -> Result<Vec<i16>, SimError> {
    let mut source = WavSource::open(path, Pacing::Unpaced).map_err(device)?;
    let mut speech = vec![0; source.remaining()];
    if speech.is_empty() {
        return Err(SimError::Audio(format!("{}: no samples", path.display())));
    }
    let _: SourceStatus = source.read_frame(&mut speech).map_err(device)?;
    Ok(speech.iter().copied().cycle().take(length).collect())
}

/// Every packet decoded in order: the reference.
fn decode_clean(payloads: &[Bytes], config: EncoderConfig) -> Result<Vec<Vec<i16>>, SimError> {
    let mut decoder = VoiceDecoder::new(config.frame).map_err(codec)?;
    payloads
        .iter()
        .map(|payload| {
            let mut frame = vec![0; config.frame.samples()];
            decoder.decode(payload, &mut frame).map_err(codec)?;
            Ok(frame)
        })
        .collect()
}

/// Decodes what a buffer played, writes it to `path`, and scores it.
fn render_and_score(
    ticks: &[TickRecord],
    clean: &[Vec<i16>],
    config: EncoderConfig,
    path: &Path,
) -> Result<f64, SimError> {
    let mut decoder = VoiceDecoder::new(config.frame).map_err(codec)?;
    let mut sink = WavSink::create(path, Pacing::Unpaced).map_err(device)?;
    let mut frame = vec![0; config.frame.samples()];
    let (low, high) = SEGMENT_SNR_RANGE;
    let mut scores = Vec::new();
    let mut next_seq: Option<usize> = None;
    for record in ticks {
        let stands_for = match &record.tick {
            Tick::Played { seq, payload } => {
                decoder
                    .decode(payload, &mut frame)
                    .or_else(|_| decoder.conceal(&mut frame))
                    .map_err(codec)?;
                Some(*seq as usize)
            }
            Tick::Recovered { seq, next } => {
                decoder.recover(next, &mut frame).map_err(codec)?;
                Some(*seq as usize)
            }
            Tick::Concealed => {
                decoder.conceal(&mut frame).map_err(codec)?;
                next_seq
            }
            Tick::Silent => {
                frame.fill(0);
                None
            }
        };
        sink.write_frame(&frame).map_err(device)?;
        if let Some(seq) = stands_for {
            next_seq = Some(seq + 1);
            if let Some(reference) = clean.get(seq).filter(|r| rms_dbfs(r) > SILENCE_DBFS) {
                scores.push(snr_db(reference, &frame).clamp(low, high));
            }
        }
    }
    sink.finish().map_err(device)?;
    Ok(scores.iter().sum::<f64>() / scores.len().max(1) as f64)
}
