//! `jitter-sim`: replays packet traces through Voix's jitter buffer and the
//! speexdsp one, and prints their late loss, added delay and concealment
//! side by side.
//!
//! ```text
//! cargo run --release -p voix-benches --bin jitter-sim                 # standard traces
//! cargo run --release -p voix-benches --bin jitter-sim -- my.trace     # other traces
//! cargo run --release -p voix-benches --bin jitter-sim -- --generate   # rewrite the standard traces
//! cargo run --release -p voix-benches --bin jitter-sim -- --audio      # also decode speech
//! cargo run --release -p voix-benches --bin jitter-sim -- --held-out 6 # and 6 more seeds per model
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use voix_benches::jitter_sim::{self, audio, standard_traces};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Compare Voix's jitter buffer with speexdsp's on packet traces")]
struct Args {
    /// Trace files to replay (default: the standard traces).
    traces: Vec<PathBuf>,
    /// Regenerate the standard traces from their seeded models first.
    #[arg(long)]
    generate: bool,
    /// Also send speech through encode, trace, buffer and decode, write
    /// WAV files and report their segmental SNR against the clean decode.
    #[arg(long)]
    audio: bool,
    /// Speech to use with --audio (default: the checked-in fixture).
    #[arg(long)]
    speech: Option<PathBuf>,
    /// Also replay the standard models with this many other seeds and
    /// summarize (a check that the tuning is not specific to the
    /// standard traces).
    #[arg(long, value_name = "COUNT")]
    held_out: Option<u64>,
    /// Directory for the WAV files of --audio.
    #[arg(long, default_value = "target/jitter-sim")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("jitter-sim: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), jitter_sim::SimError> {
    let traces_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    if args.generate {
        for path in standard_traces::write_all(&traces_dir)? {
            println!("wrote {}", path.display());
        }
    }
    let paths = if args.traces.is_empty() {
        standard_traces::paths(&traces_dir)
    } else {
        args.traces.clone()
    };
    let rows =
        paths.iter().map(|path| jitter_sim::compare_file(path)).collect::<Result<Vec<_>, _>>()?;
    print!("{}", jitter_sim::report::table(&rows));
    print!("{}", jitter_sim::report::summary(&rows));
    if let Some(count) = args.held_out {
        let held_out = standard_traces::held_out(count)
            .iter()
            .map(|(name, trace)| jitter_sim::compare(name, trace))
            .collect::<Result<Vec<_>, _>>()?;
        println!();
        print!("{}", jitter_sim::report::table(&held_out));
        print!("{}", jitter_sim::report::summary(&held_out));
    }
    if args.audio {
        let speech = args
            .speech
            .clone()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(audio::FIXTURE));
        let results = paths
            .iter()
            .map(|path| audio::run_file(path, &speech, &args.out))
            .collect::<Result<Vec<_>, _>>()?;
        println!();
        print!("{}", audio::table(&results));
    }
    Ok(())
}
