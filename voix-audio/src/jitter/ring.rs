//! Fixed-size storage of buffered packets, indexed by widened sequence number.

use bytes::Bytes;

/// A packet waiting in the buffer, with its counters widened.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) seq: u64,
    pub(crate) ts: u64,
    pub(crate) raw_seq: u32,
    pub(crate) raw_ts: u32,
    pub(crate) payload: Bytes,
}

/// Slots for packets whose sequence numbers lie within one window of
/// `capacity` consecutive values; the slot of `seq` is `seq % capacity`.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    slots: Vec<Option<Stored>>,
    len: usize,
}

impl Ring {
    /// A ring of at least `capacity` slots (rounded up to a power of two).
    pub(crate) fn new(capacity: usize) -> Self {
        Self { slots: vec![None; capacity.max(2).next_power_of_two()], len: 0 }
    }

    /// Number of slots: the width of the window of sequence numbers held.
    pub(crate) fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }

    /// Number of packets held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn index(&self, seq: u64) -> usize {
        // The mask is below the slot count, so the cast cannot truncate.
        (seq & (self.capacity() - 1)) as usize
    }

    /// The packet with sequence number `seq`, if held.
    pub(crate) fn get(&self, seq: u64) -> Option<&Stored> {
        self.slots[self.index(seq)].as_ref().filter(|p| p.seq == seq)
    }

    /// Whether a packet with sequence number `seq` is held.
    pub(crate) fn contains(&self, seq: u64) -> bool {
        self.get(seq).is_some()
    }

    /// Removes and returns the packet with sequence number `seq`.
    pub(crate) fn take(&mut self, seq: u64) -> Option<Stored> {
        let index = self.index(seq);
        if self.slots[index].as_ref().is_some_and(|p| p.seq == seq) {
            self.len -= 1;
            self.slots[index].take()
        } else {
            None
        }
    }

    /// Stores `packet`, returning the packet it evicted from its slot (one a
    /// whole window older or newer), if any. The caller keeps every held
    /// sequence number within one window, so eviction means a bug upstream
    /// or a deliberate overwrite.
    pub(crate) fn insert(&mut self, packet: Stored) -> Option<Stored> {
        let index = self.index(packet.seq);
        let evicted = self.slots[index].replace(packet);
        if evicted.is_none() {
            self.len += 1;
        }
        evicted
    }

    /// Removes every packet, returning how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let held = self.len;
        if held > 0 {
            self.slots.iter_mut().for_each(|slot| *slot = None);
        }
        self.len = 0;
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seq: u64) -> Stored {
        Stored {
            seq,
            ts: seq * 960,
            raw_seq: seq as u32,
            raw_ts: (seq * 960) as u32,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn holds_a_window_of_sequence_numbers() {
        let mut ring = Ring::new(5);
        assert_eq!(ring.capacity(), 8);
        for seq in 10..18 {
            assert!(ring.insert(stored(seq)).is_none());
        }
        assert_eq!(ring.len(), 8);
        assert!(ring.contains(17) && !ring.contains(18) && !ring.contains(2));
        assert_eq!(ring.take(12).map(|p| p.seq), Some(12));
        assert!(ring.take(12).is_none());
        assert_eq!(ring.insert(stored(25)).map(|p| p.seq), Some(17));
        assert_eq!(ring.len(), 7);
        assert_eq!(ring.clear(), 7);
        assert_eq!(ring.len(), 0);
    }
}
