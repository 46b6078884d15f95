//! Any bytes as one line, in both directions: parsing never panics, and
//! whatever parses encodes to a line that parses to the same value.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use voix_proto::wire::{ClientCommand, ServerMessage};

fuzz_target!(|line: &[u8]| {
    if let Ok(cmd) = ClientCommand::parse(line) {
        let mut out = BytesMut::new();
        cmd.encode(&mut out);
        assert!(out.ends_with(b"\r\n"));
        assert_eq!(ClientCommand::parse(&out[..out.len() - 2]), Ok(cmd));
    }
    if let Ok(msg) = ServerMessage::parse(line) {
        let mut out = BytesMut::new();
        msg.encode(&mut out);
        assert_eq!(ServerMessage::parse(&out[..out.len() - 2]), Ok(msg));
    }
});
