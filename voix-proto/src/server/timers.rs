//! Deadlines of the server core: a min-heap with lazy cancellation.
//!
//! Each timer is keyed by what it is for; re-arming a key replaces its
//! deadline. Entries in the heap whose deadline no longer matches the
//! table are stale and skipped, so cancelling and re-arming are O(log n)
//! and `next` is O(1) amortised, even with 10,000 connections.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// A set of named deadlines.
#[derive(Debug)]
pub(crate) struct Timers<K> {
    armed: HashMap<K, Instant>,
    heap: BinaryHeap<Reverse<(Instant, K)>>,
}

impl<K: Copy + Eq + Hash + Ord> Timers<K> {
    pub(crate) fn new() -> Self {
        Self { armed: HashMap::new(), heap: BinaryHeap::new() }
    }

    /// Sets (or moves) the deadline of `key`.
    pub(crate) fn set(&mut self, key: K, at: Instant) {
        self.armed.insert(key, at);
        self.heap.push(Reverse((at, key)));
        self.compact_if_stale();
    }

    /// Cancels `key`.
    pub(crate) fn cancel(&mut self, key: K) {
        self.armed.remove(&key);
    }

    /// The earliest live deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns a key whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<K> {
        self.drop_stale_top();
        let Reverse((at, key)) = *self.heap.peek()?;
        if at > now {
            return None;
        }
        self.heap.pop();
        self.armed.remove(&key);
        Some(key)
    }

    fn is_live(&self, at: Instant, key: &K) -> bool {
        self.armed.get(key) == Some(&at)
    }

    fn drop_stale_top(&mut self) {
        while let Some(Reverse((at, key))) = self.heap.peek() {
            if self.is_live(*at, key) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Keeps the heap within a constant factor of the live timers, so a
    /// client that re-arms a timer forever cannot grow it.
    fn compact_if_stale(&mut self) {
        if self.heap.len() > 64 && self.heap.len() > 4 * self.armed.len() {
            let armed = &self.armed;
            self.heap.retain(|Reverse((at, key))| armed.get(key) == Some(at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_first_and_rearm_replaces() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Timers::new();
        t.set(1u32, t0 + s(5));
        t.set(2, t0 + s(3));
        t.set(1, t0 + s(1));
        assert_eq!(t.next_deadline(), Some(t0 + s(1)));
        assert_eq!(t.pop_expired(t0), None);
        assert_eq!(t.pop_expired(t0 + s(10)), Some(1));
        assert_eq!(t.pop_expired(t0 + s(10)), Some(2));
        assert_eq!(t.pop_expired(t0 + s(10)), None);
        t.set(3, t0);
        t.cancel(3);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn rearming_forever_stays_bounded() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        for i in 0..10_000u64 {
            t.set(7u32, t0 + Duration::from_millis(i));
        }
        assert!(t.heap.len() <= 64 * 4 + 1);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(9_999)));
    }
}
