//! The relay's outgoing datagrams: one byte arena and a list of
//! (address, range) entries, drained in order and reused once empty, so
//! that steady-state relaying allocates nothing.

use std::net::SocketAddr;
use std::ops::Range;

/// A datagram for the I/O layer to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Where to send it.
    pub to: SocketAddr,
    /// The datagram.
    pub payload: &'a [u8],
}

/// Queued datagrams, bounded in count.
#[derive(Debug, Clone)]
pub(crate) struct TransmitQueue {
    bytes: Vec<u8>,
    entries: Vec<(SocketAddr, Range<usize>)>,
    /// Index of the next entry to hand out.
    next: usize,
    limit: usize,
}

impl TransmitQueue {
    /// An empty queue that holds at most `limit` datagrams not yet polled.
    pub(crate) fn new(limit: usize) -> Self {
        Self { bytes: Vec::new(), entries: Vec::new(), next: 0, limit }
    }

    /// Whether another datagram would exceed the limit.
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() - self.next >= self.limit
    }

    /// Queues the datagram that `write` appends to the arena. The caller
    /// checks [`is_full`](Self::is_full) first.
    pub(crate) fn push(&mut self, to: SocketAddr, write: impl FnOnce(&mut Vec<u8>)) {
        if self.next == self.entries.len() {
            self.clear();
        } else if self.next >= self.entries.len() / 2 {
            // A caller that never sends everything would otherwise keep
            // every datagram it ever sent. Moving the rest down costs no
            // more than what was handed out since the last time.
            self.drop_handed_out();
        }
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.entries.push((to, start..self.bytes.len()));
    }

    /// The oldest datagram not yet handed out.
    pub(crate) fn pop(&mut self) -> Option<Transmit<'_>> {
        let Some((to, range)) = self.entries.get(self.next) else {
            self.clear();
            return None;
        };
        self.next += 1;
        let payload = self.bytes.get(range.clone()).unwrap_or_default();
        Some(Transmit { to: *to, payload })
    }

    /// Every datagram not yet handed out, oldest first, without handing
    /// them out: [`advance`](Self::advance) does, once they are sent.
    pub(crate) fn queued(&self) -> impl ExactSizeIterator<Item = Transmit<'_>> + '_ {
        self.entries[self.next..].iter().map(|(to, range)| Transmit {
            to: *to,
            payload: self.bytes.get(range.clone()).unwrap_or_default(),
        })
    }

    /// Hands out the `n` oldest datagrams (all of them, if fewer are
    /// queued).
    pub(crate) fn advance(&mut self, n: usize) {
        self.next = self.next.saturating_add(n).min(self.entries.len());
        if self.next == self.entries.len() {
            self.clear();
        }
    }

    /// Forgets the entries already handed out, keeping the others in order.
    fn drop_handed_out(&mut self) {
        let Some((_, first)) = self.entries.get(self.next) else { return self.clear() };
        let base = first.start;
        self.bytes.drain(..base);
        self.entries.drain(..self.next);
        for (_, range) in &mut self.entries {
            *range = range.start - base..range.end - base;
        }
        self.next = 0;
    }

    /// Forgets every entry, keeping the allocations.
    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn drains_in_order_and_reuses_its_buffers() {
        let mut q = TransmitQueue::new(2);
        q.push(addr(1), |b| b.extend_from_slice(b"one"));
        q.push(addr(2), |b| b.extend_from_slice(b"two"));
        assert!(q.is_full());
        assert_eq!(q.pop(), Some(Transmit { to: addr(1), payload: b"one" }));
        assert!(!q.is_full());
        q.push(addr(3), |b| b.extend_from_slice(b"three"));
        assert_eq!(q.pop().map(|t| t.payload), Some(&b"two"[..]));
        assert_eq!(q.pop().map(|t| (t.to, t.payload)), Some((addr(3), &b"three"[..])));
        let capacity = q.bytes.capacity();
        assert_eq!(q.pop(), None);
        assert!(q.bytes.is_empty() && q.entries.is_empty());
        q.push(addr(4), |b| b.extend_from_slice(b"four"));
        assert_eq!(q.bytes.capacity(), capacity);
        assert_eq!(q.pop().map(|t| t.payload), Some(&b"four"[..]));
    }

    #[test]
    fn a_queue_never_drained_to_the_end_stays_small() {
        let mut q = TransmitQueue::new(4);
        q.push(addr(1), |b| b.extend_from_slice(b"first"));
        for i in 0..1_000u16 {
            q.push(addr(i), |b| b.extend_from_slice(&i.to_be_bytes()));
            // One out, one always left behind.
            let sent = q.queued().next().map(|t| t.payload.to_vec());
            q.advance(1);
            assert!(sent.is_some());
            assert!(q.bytes.len() <= 16 && q.entries.len() <= 4, "{} bytes", q.bytes.len());
        }
        assert_eq!(
            q.queued().map(|t| t.payload.to_vec()).collect::<Vec<_>>(),
            [999u16.to_be_bytes()]
        );
    }

    #[test]
    fn batches_are_handed_out_as_far_as_they_were_sent() {
        let mut q = TransmitQueue::new(3);
        for (port, payload) in [(1, &b"one"[..]), (2, b"two"), (3, b"three")] {
            q.push(addr(port), |b| b.extend_from_slice(payload));
        }
        let payloads =
            |q: &TransmitQueue| q.queued().map(|t| t.payload.to_vec()).collect::<Vec<_>>();
        assert_eq!(payloads(&q), [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
        // A partial send: the rest stays, in order, and poll agrees.
        q.advance(1);
        assert_eq!(q.queued().len(), 2);
        assert_eq!(q.pop().map(|t| (t.to, t.payload)), Some((addr(2), &b"two"[..])));
        assert_eq!(payloads(&q), [b"three".to_vec()]);
        // Past the end is the end; the buffers are then reused.
        q.advance(5);
        assert_eq!(q.queued().len(), 0);
        assert!(q.bytes.is_empty() && q.entries.is_empty());
        assert_eq!(q.pop(), None);
    }
}
