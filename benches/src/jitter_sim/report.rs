//! The side-by-side table `jitter-sim` prints (Markdown, so it can be
//! pasted into BENCHMARKS.md as is).

use std::fmt::Write;

use super::metrics::Figures;

/// One trace's row pair: Voix and speexdsp.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Name of the trace.
    pub trace: String,
    /// Share of packets the network lost.
    pub network_loss: f64,
    /// Voix's figures.
    pub voix: Figures,
    /// speexdsp's figures.
    pub speex: Figures,
}

/// The Markdown table of `rows`.
pub fn table(rows: &[Comparison]) -> String {
    let mut out = String::new();
    out.push_str("| trace | net loss | buffer | late loss | mean delay | p95 delay | concealed | FEC | target met |\n");
    out.push_str("|---|---:|---|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        for (name, figures) in [("voix", &row.voix), ("speexdsp", &row.speex)] {
            let met = match name {
                "voix" if row.voix.beats(&row.speex) => "yes",
                "voix"
                    if row.voix.late_loss == row.speex.late_loss
                        && row.voix.mean_delay_ms == row.speex.mean_delay_ms =>
                {
                    "tie"
                }
                "voix" => "**no**",
                _ => "",
            };
            let _ = writeln!(
                out,
                "| {} | {:.1}% | {name} | {:.2}% | {:.1} ms | {:.1} ms | {:.2}% | {:.2}% | {met} |",
                row.trace,
                row.network_loss * 100.0,
                figures.late_loss * 100.0,
                figures.mean_delay_ms,
                figures.p95_delay_ms,
                figures.concealment * 100.0,
                figures.fec * 100.0,
            );
        }
    }
    out
}

/// How the comparisons in `rows` came out, as one line: how often Voix
/// meets the target, how often speexdsp would by the same rule, and how
/// many are ties or trade-offs.
pub fn summary(rows: &[Comparison]) -> String {
    let voix = rows.iter().filter(|r| r.voix.beats(&r.speex)).count();
    let speex = rows.iter().filter(|r| r.speex.beats(&r.voix)).count();
    format!(
        "voix better: {voix}, speexdsp better: {speex}, tie or trade-off: {} (of {})\n",
        rows.len() - voix - speex,
        rows.len()
    )
}
