//! Who speaks with whom: members `0..2K` form K calls (pairs), the rest
//! form rooms of M members each.

/// The calls and rooms of a voice run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Groups {
    /// One-to-one calls.
    pub calls: usize,
    /// Rooms.
    pub rooms: usize,
    /// Members per room.
    pub room_size: usize,
}

/// What one member does to get its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Rings member `peer`.
    Caller {
        /// The partner.
        peer: usize,
    },
    /// Accepts the call of member `peer`.
    Callee {
        /// The partner.
        peer: usize,
    },
    /// Joins room `room`.
    Room {
        /// Which room.
        room: usize,
    },
}

impl Groups {
    /// Members in all.
    pub fn members(&self) -> usize {
        2 * self.calls + self.rooms * self.room_size
    }

    /// Groups in all (calls and rooms).
    pub fn count(&self) -> usize {
        self.calls + self.rooms
    }

    /// The role of `member`.
    pub fn role(&self, member: usize) -> Role {
        if member < 2 * self.calls {
            let peer = member ^ 1;
            if member % 2 == 0 { Role::Caller { peer } } else { Role::Callee { peer } }
        } else {
            Role::Room { room: (member - 2 * self.calls) / self.room_size.max(1) }
        }
    }

    /// The group of `member`, numbered calls first, then rooms.
    pub fn group(&self, member: usize) -> usize {
        match self.role(member) {
            Role::Caller { .. } | Role::Callee { .. } => member / 2,
            Role::Room { room } => self.calls + room,
        }
    }

    /// Members of group `group`.
    pub fn size(&self, group: usize) -> usize {
        if group < self.calls { 2 } else { self.room_size }
    }

    /// The members of each group.
    pub fn listing(&self) -> Vec<Vec<usize>> {
        let mut listing = vec![Vec::new(); self.count()];
        for member in 0..self.members() {
            listing[self.group(member)].push(member);
        }
        listing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_calls_then_fills_rooms() {
        let groups = Groups { calls: 2, rooms: 2, room_size: 3 };
        assert_eq!(groups.members(), 10);
        assert_eq!(groups.role(0), Role::Caller { peer: 1 });
        assert_eq!(groups.role(3), Role::Callee { peer: 2 });
        assert_eq!(groups.role(4), Role::Room { room: 0 });
        assert_eq!(groups.role(9), Role::Room { room: 1 });
        assert_eq!(groups.listing(), vec![vec![0, 1], vec![2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        assert_eq!((groups.size(1), groups.size(2)), (2, 3));
    }
}
