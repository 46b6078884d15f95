//! Devices that produce silence and swallow everything.

use super::{AudioSink, AudioSource, DeviceError, Pacer, Pacing, SourceStatus};

/// A source of endless silence.
#[derive(Debug, Clone)]
pub struct NullSource {
    pacer: Pacer,
}

impl NullSource {
    /// Silence, paced as asked.
    pub fn new(pacing: Pacing) -> Self {
        Self { pacer: Pacer::new(pacing) }
    }
}

impl AudioSource for NullSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<SourceStatus, DeviceError> {
        self.pacer.wait(frame.len());
        frame.fill(0);
        Ok(SourceStatus::Frame)
    }
}

/// A sink that discards audio, counting the samples.
#[derive(Debug, Clone)]
pub struct NullSink {
    pacer: Pacer,
    samples: u64,
}

impl NullSink {
    /// A sink paced as asked.
    pub fn new(pacing: Pacing) -> Self {
        Self { pacer: Pacer::new(pacing), samples: 0 }
    }

    /// Samples written so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

impl AudioSink for NullSink {
    fn write_frame(&mut self, frame: &[i16]) -> Result<(), DeviceError> {
        self.pacer.wait(frame.len());
        self.samples += frame.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_devices_give_silence_and_count() {
        let mut source = NullSource::new(Pacing::Unpaced);
        let mut frame = [7i16; 960];
        assert_eq!(source.read_frame(&mut frame), Ok(SourceStatus::Frame));
        assert!(frame.iter().all(|&s| s == 0));
        let mut sink = NullSink::new(Pacing::Unpaced);
        sink.write_frame(&frame).expect("null never fails");
        sink.write_frame(&frame[..480]).expect("null never fails");
        assert_eq!(sink.samples(), 1_440);
    }
}
