//! The command line.

use std::path::PathBuf;

use clap::Parser;
use voix_proto::{NickBuf, RealNameBuf};

use crate::audio::{SinkChoice, SourceChoice};
use crate::server_addr::ServerAddr;
use crate::voice::TransmitModeArg;

/// The Voix client: chat in rooms, private messages, voice calls and group
/// voice. Opens a full-screen terminal UI; `--headless` reads the same
/// `/` commands from standard input and prints events on standard output.
///
/// Exit status: 0 after /quit, the end of standard input in headless mode,
/// SIGINT or SIGTERM; 1 on an unexpected error, or a signal that could not
/// quit cleanly within 6 s (standard output not read); 2 for a bad command
/// line; 3 when the server refuses the nickname; 4 when audio cannot start;
/// 5 when the connection fails or ends with --no-reconnect (also when
/// commands typed before registration could not be sent).
#[derive(Debug, Parser)]
#[command(version, max_term_width = 100)]
pub struct Args {
    /// The server: HOST or HOST:PORT (default port 9300)
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: ServerAddr,

    /// Your nickname: up to 32 bytes, no spaces, `"`, `:` or `,`, not
    /// starting with `#`
    #[arg(long, value_parser = parse_nick)]
    pub nick: NickBuf,

    /// Your real name, shown to the server
    #[arg(long, value_name = "REAL NAME", default_value = "", hide_default_value = true, value_parser = parse_real_name)]
    pub name: RealNameBuf,

    /// No terminal UI: commands on stdin, events on stdout
    #[arg(long)]
    pub headless: bool,

    /// With --headless: print events as JSON, one object per line
    #[arg(long, requires = "headless")]
    pub json: bool,

    /// With --headless: keep running at the end of standard input (stop
    /// with SIGINT or SIGTERM)
    #[arg(long, requires = "headless")]
    pub stay: bool,

    /// Play this WAV file as the microphone (then silence, or --loop)
    #[arg(long, value_name = "FILE")]
    pub input_wav: Option<PathBuf>,

    /// Play --input-wav over and over
    #[arg(long = "loop", requires = "input_wav")]
    pub looping: bool,

    /// Record everything heard, mixed, into this WAV file (48 kHz mono)
    #[arg(long, value_name = "FILE")]
    pub output_wav: Option<PathBuf>,

    /// No sound card: silence in, nothing out (for whichever of input and
    /// output has no WAV file)
    #[arg(long)]
    pub null_audio: bool,

    /// When your microphone is sent: on voice, while the push-to-talk key
    /// is pressed, or always
    #[arg(long, value_enum, default_value_t = TransmitModeArg::Vad)]
    pub transmit: TransmitModeArg,

    /// Exit (status 5) instead of reconnecting when the connection fails
    /// or ends
    #[arg(long)]
    pub no_reconnect: bool,
}

impl Args {
    /// Where the microphone's audio comes from.
    pub fn source(&self) -> SourceChoice {
        match (&self.input_wav, self.null_audio) {
            (Some(path), _) => SourceChoice::Wav { path: path.clone(), looping: self.looping },
            (None, true) => SourceChoice::Null,
            (None, false) => SourceChoice::Device,
        }
    }

    /// Where what we hear goes.
    pub fn sink(&self) -> SinkChoice {
        match (&self.output_wav, self.null_audio) {
            (Some(path), _) => SinkChoice::Wav(path.clone()),
            (None, true) => SinkChoice::Null,
            (None, false) => SinkChoice::Device,
        }
    }
}

fn parse_nick(s: &str) -> Result<NickBuf, String> {
    s.parse().map_err(|e: voix_proto::NameError| e.to_string())
}

fn parse_real_name(s: &str) -> Result<RealNameBuf, String> {
    s.parse().map_err(|e: voix_proto::NameError| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("voix-client").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn audio_comes_from_files_null_or_devices() {
        let args = parse(&[
            "--server",
            "h",
            "--nick",
            "A",
            "--headless",
            "--input-wav",
            "in.wav",
            "--null-audio",
        ])
        .expect("valid");
        assert_eq!(args.source(), SourceChoice::Wav { path: "in.wav".into(), looping: false });
        assert_eq!(args.sink(), SinkChoice::Null);
        let args = parse(&["--server", "h:1", "--nick", "A"]).expect("valid");
        assert_eq!((args.source(), args.sink()), (SourceChoice::Device, SinkChoice::Device));
        assert_eq!(args.server.port(), 1);
    }

    #[test]
    fn invalid_names_and_lonely_flags_are_refused() {
        assert!(parse(&["--server", "h", "--nick", "has space"]).is_err());
        assert!(parse(&["--server", "h", "--nick", "A", "--name", "a\"b"]).is_err());
        assert!(
            parse(&["--server", "h", "--nick", "A", "--json"]).is_err(),
            "--json needs --headless"
        );
        assert!(parse(&["--server", "h", "--nick", "A", "--loop"]).is_err(), "--loop needs a file");
        assert!(parse(&["--server", "h:0", "--nick", "A"]).is_err());
    }
}
