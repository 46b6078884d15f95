//! The rooms of a server: who is in which, in join order.

use std::collections::HashMap;

use super::ConnectionId;
use crate::voice::GroupId;
use crate::{NameKey, Room, RoomBuf};

/// One room: its name as first spelled, its members in join order, and the
/// voice group its members talk in.
#[derive(Debug)]
pub(crate) struct RoomState {
    pub(crate) name: RoomBuf,
    pub(crate) members: Vec<ConnectionId>,
    pub(crate) group: GroupId,
}

/// Every room, by case-folded name. `#Lobby` always exists; other rooms
/// exist while they have members.
#[derive(Debug)]
pub(crate) struct Rooms {
    by_key: HashMap<NameKey, RoomState>,
    lobby: NameKey,
}

impl Rooms {
    pub(crate) fn new(lobby_group: GroupId) -> Self {
        let lobby = Room::LOBBY.key();
        let mut by_key = HashMap::new();
        by_key.insert(
            lobby.clone(),
            RoomState { name: Room::LOBBY.into_owned(), members: Vec::new(), group: lobby_group },
        );
        Self { by_key, lobby }
    }

    /// The key of `#Lobby`.
    pub(crate) fn lobby(&self) -> &NameKey {
        &self.lobby
    }

    /// How many rooms exist.
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    pub(crate) fn get(&self, key: &NameKey) -> Option<&RoomState> {
        self.by_key.get(key)
    }

    /// Adds `member` to the room, creating it (named `name`, talking in
    /// `new_group`) if it does not exist.
    pub(crate) fn join(
        &mut self,
        key: NameKey,
        name: Room<'_>,
        member: ConnectionId,
        new_group: impl FnOnce() -> GroupId,
    ) -> &RoomState {
        let room = self.by_key.entry(key).or_insert_with(|| RoomState {
            name: name.into_owned(),
            members: Vec::new(),
            group: new_group(),
        });
        room.members.push(member);
        room
    }

    /// Removes `member`; a room other than `#Lobby` that becomes empty is
    /// removed too.
    pub(crate) fn leave(&mut self, key: &NameKey, member: ConnectionId) {
        let Some(room) = self.by_key.get_mut(key) else { return };
        room.members.retain(|&m| m != member);
        if room.members.is_empty() && *key != self.lobby {
            self.by_key.remove(key);
        }
    }
}
