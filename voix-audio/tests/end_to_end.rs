//! A whole call on a virtual clock: speech is gated, encoded, sent through
//! a simulated Wi-Fi path, buffered, decoded and mixed, as the client will.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use voix_audio::codec::{EncoderConfig, VoiceEncoder};
use voix_audio::device::{AudioSink, AudioSource, Pacing, SourceStatus, WavSink, WavSource};
use voix_audio::gate::{TransmitGate, TransmitMode};
use voix_audio::jitter::VoicePacket;
use voix_audio::mixer::{Mixer, MixerConfig};
use voix_audio::netsim::{NetworkModel, NetworkSim};
use voix_audio::quality::rms_dbfs;
use voix_audio::signal::speech_like;
use voix_audio::vad::VadConfig;

#[test]
fn speech_survives_a_wifi_path() {
    let frame = EncoderConfig::default().frame;
    let samples = frame.samples();
    let speech = speech_like(11, 10.0);
    let mut source = WavSource::from_samples(speech.clone(), Pacing::Unpaced);
    let mut gate = TransmitGate::new(TransmitMode::VoiceActivity, VadConfig::default());
    let mut encoder = VoiceEncoder::new(EncoderConfig::default()).expect("default config");
    let mut network = NetworkSim::new(NetworkModel::WIFI, 5);
    let mut mixer = Mixer::new(MixerConfig::default()).expect("default config");
    let path = std::env::temp_dir().join(format!("voix-audio-e2e-{}.wav", std::process::id()));
    let mut speaker = WavSink::create(&path, Pacing::Unpaced).expect("temp dir is writable");

    let start = Instant::now();
    // Packets in flight, keyed by arrival time (µs) then sequence number.
    let mut in_flight: BTreeMap<(u64, u32), VoicePacket> = BTreeMap::new();
    let mut captured = vec![0i16; samples];
    let mut played = Vec::new();
    let mut heard_talking = false;
    for tick in 0u32..600 {
        let now_us = u64::from(tick) * 20_000;
        let now = start + Duration::from_micros(now_us);
        // Send side: capture, gate, encode, transmit.
        if source.read_frame(&mut captured).expect("memory source") == SourceStatus::Frame {
            if gate.should_send(&captured) {
                if let Some(encoded) = encoder.encode(&captured).expect("one frame") {
                    let packet = VoicePacket {
                        seq: encoded.seq,
                        timestamp: encoded.timestamp,
                        marker: encoded.marker,
                        payload: Bytes::copy_from_slice(encoded.payload),
                    };
                    for transit in network.send(Duration::from_micros(now_us)).arrivals() {
                        let arrival = now_us + transit.as_micros() as u64;
                        in_flight.insert((arrival, packet.seq), packet.clone());
                    }
                }
            } else {
                encoder.skip();
            }
        }
        // Receive side: deliver what has arrived, then play one frame.
        while let Some(entry) = in_flight.first_entry() {
            if entry.key().0 > now_us {
                break;
            }
            let packet = entry.remove();
            mixer.push(1, packet, now).expect("one speaker");
        }
        let mut out = vec![0i16; samples];
        mixer.mix(now, &mut out).expect("one frame");
        heard_talking |= mixer.talking(now).any(|id| id == 1);
        speaker.write_frame(&out).expect("writes");
        played.extend_from_slice(&out);
    }
    speaker.finish().expect("finalizes");
    std::fs::remove_file(&path).expect("cleanup");

    let (_, stats) = mixer.speakers().next().expect("speaker 1 still mixed");
    assert!(heard_talking);
    assert!(stats.frames_played > 300, "{stats:?}");
    assert!(stats.late_loss_rate() < 0.05, "{stats:?}");
    assert!(stats.concealment_rate() < 0.08, "{stats:?}");
    assert!(stats.target_delay < Duration::from_millis(200), "{stats:?}");
    // The far end hears speech at about the level it was spoken.
    let (sent, heard) = (rms_dbfs(&speech), rms_dbfs(&played));
    assert!((sent - heard).abs() < 3.0, "sent at {sent:.1} dBFS, heard at {heard:.1} dBFS");
}
