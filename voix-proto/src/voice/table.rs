//! The relay's sessions: a slab of session state, an index from wire id to
//! slot, and for each group the slots of its members, so that fanning a
//! packet out is a walk over one dense list.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;

use super::aead::PacketCipher;
use super::key::SessionId;
use super::relay::GroupId;
use super::replay::ReplayWindow;
use crate::NickBuf;

/// What the relay knows about one session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) cipher: PacketCipher,
    pub(crate) nick: NickBuf,
    /// `None`: paused, neither sends nor receives.
    pub(crate) group: Option<GroupId>,
    /// The address proven by the last authenticated datagram.
    pub(crate) addr: Option<SocketAddr>,
    /// The uplink window (VOICE and KEEPALIVE share the sequence).
    pub(crate) window: ReplayWindow,
}

/// A slot index into the slab.
pub(crate) type Slot = usize;

/// Sessions by slot, by id, and by group.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionTable {
    slots: Vec<Option<Session>>,
    free: Vec<Slot>,
    by_id: HashMap<SessionId, Slot>,
    groups: HashMap<GroupId, Vec<Slot>>,
}

impl SessionTable {
    /// How many sessions are open.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// The slot of the session with wire id `id`.
    pub(crate) fn slot(&self, id: u32) -> Option<Slot> {
        self.by_id.get(&SessionId::new(id)?).copied()
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<&Session> {
        self.slots.get(slot)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, slot: Slot) -> Option<&mut Session> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// The slots of the members of `group`.
    pub(crate) fn members(&self, group: GroupId) -> &[Slot] {
        self.groups.get(&group).map_or(&[], Vec::as_slice)
    }

    /// Adds `session`, whose id must not be in the table.
    pub(crate) fn insert(&mut self, session: Session) {
        let (id, group) = (session.id, session.group);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(session);
                slot
            }
            None => {
                self.slots.push(Some(session));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, slot);
        self.join(slot, group);
    }

    /// Removes the session `id`, if present.
    pub(crate) fn remove(&mut self, id: SessionId) {
        let Some(slot) = self.by_id.remove(&id) else { return };
        let group = self.slots[slot].take().and_then(|s| s.group);
        self.leave(slot, group);
        self.free.push(slot);
    }

    /// Moves the session `id`, if present, to `group`.
    pub(crate) fn set_group(&mut self, id: SessionId, group: Option<GroupId>) {
        let Some(&slot) = self.by_id.get(&id) else { return };
        let Some(session) = self.slots[slot].as_mut() else { return };
        let old = std::mem::replace(&mut session.group, group);
        if old != group {
            self.leave(slot, old);
            self.join(slot, group);
        }
    }

    fn join(&mut self, slot: Slot, group: Option<GroupId>) {
        if let Some(group) = group {
            self.groups.entry(group).or_default().push(slot);
        }
    }

    fn leave(&mut self, slot: Slot, group: Option<GroupId>) {
        let Some(group) = group else { return };
        if let Entry::Occupied(mut members) = self.groups.entry(group) {
            members.get_mut().retain(|&s| s != slot);
            if members.get().is_empty() {
                members.remove();
            }
        }
    }

    /// Checks the table's internal consistency (for tests).
    #[cfg(test)]
    pub(crate) fn assert_consistent(&self) {
        for (&id, &slot) in &self.by_id {
            let session = self.get(slot).expect("indexed slot is occupied");
            assert_eq!(session.id, id);
            if let Some(group) = session.group {
                assert_eq!(self.members(group).iter().filter(|&&s| s == slot).count(), 1);
            }
        }
        let listed: usize = self.groups.values().map(Vec::len).sum();
        let grouped =
            self.by_id.values().filter(|&&s| self.get(s).is_some_and(|s| s.group.is_some()));
        assert_eq!(listed, grouped.count());
        assert!(self.groups.values().all(|m| !m.is_empty()));
        assert_eq!(self.slots.iter().filter(|s| s.is_none()).count(), self.free.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::VoiceKey;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(Option<u64>),
        Remove(u32),
        SetGroup(u32, Option<u64>),
    }

    fn op() -> impl Strategy<Value = Op> {
        let group = prop::option::of(0..4u64);
        let id = 1..24u32;
        prop_oneof![
            group.clone().prop_map(Op::Insert),
            id.clone().prop_map(Op::Remove),
            (id, group).prop_map(|(id, g)| Op::SetGroup(id, g)),
        ]
    }

    proptest! {
        /// After any sequence of changes the table agrees with a plain map
        /// of id to group, and its indexes agree with each other.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec(op(), 0..80)) {
            let mut table = SessionTable::default();
            let mut model: BTreeMap<u32, Option<u64>> = BTreeMap::new();
            let mut next_id = 1u32;
            for op in ops {
                match op {
                    Op::Insert(group) => {
                        let id = SessionId::new(next_id).expect("nonzero");
                        next_id += 1;
                        table.insert(Session {
                            id,
                            cipher: PacketCipher::new(&VoiceKey::from_bytes([0; 32])),
                            nick: crate::Nick::new("n").expect("valid").into_owned(),
                            group: group.map(GroupId),
                            addr: None,
                            window: ReplayWindow::default(),
                        });
                        model.insert(id.get(), group);
                    }
                    Op::Remove(id) => {
                        table.remove(SessionId::new(id).expect("nonzero"));
                        model.remove(&id);
                    }
                    Op::SetGroup(id, group) => {
                        table.set_group(SessionId::new(id).expect("nonzero"), group.map(GroupId));
                        if let Some(g) = model.get_mut(&id) {
                            *g = group;
                        }
                    }
                }
                table.assert_consistent();
                prop_assert_eq!(table.len(), model.len());
                for g in 0..4 {
                    let mut members: Vec<u32> = table
                        .members(GroupId(g))
                        .iter()
                        .filter_map(|&slot| table.get(slot).map(|s| s.id.get()))
                        .collect();
                    members.sort_unstable();
                    let expected: Vec<u32> = model
                        .iter()
                        .filter(|&(_, &group)| group == Some(g))
                        .map(|(&id, _)| id)
                        .collect();
                    prop_assert_eq!(members, expected);
                }
            }
        }
    }
}
