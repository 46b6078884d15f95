//! The longest replies the server gives of its own accord, so that the
//! output limit can be checked against them before the server runs.

use bytes::BytesMut;

use super::{MAX_OUTPUT_LINE_LEN, NoVoice, ServerConfig, no_voice_reason};
use crate::voice::{SessionId, VoiceKey};
use crate::wire::{ErrorCode, ServerMessage, VoiceScope};
use crate::{MAX_NICK_LEN, MAX_ROOM_LEN, Room};

/// `USERLIST <room>: <list>\r\n` without the room and the list.
const USER_LIST_OVERHEAD: usize = "USERLIST : \r\n".len();

/// The longest reply to a registration or a `JOIN`, in bytes: see
/// [`ServerConfig::max_reply_bytes`].
pub(super) fn max_reply_bytes(config: &ServerConfig) -> usize {
    let host = config.host_name.borrowed();
    let registration = line_len(&ServerMessage::Accept { host })
        .saturating_add(line_len(&ServerMessage::Ping { token: u64::MAX }))
        .saturating_add(room_reply_bytes(config, Room::LOBBY));
    let longest = "#".to_owned() + &"x".repeat(MAX_ROOM_LEN - 1);
    let longest = Room::new(&longest).expect("a room name of the longest length");
    let join = room_reply_bytes(config, longest);
    registration.max(join)
}

/// The most bytes of `JOINED`, `USERLIST` and `VOICE` (or `ERROR NOVOICE`)
/// lines a client gets on entering `room` when it is as full as the
/// server allows.
fn room_reply_bytes(config: &ServerConfig, room: Room<'_>) -> usize {
    let user_lists = max_user_list_bytes(room.as_str().len(), config.max_clients);
    line_len(&ServerMessage::Joined { room })
        .saturating_add(user_lists)
        .saturating_add(room_voice_line_len(config, room))
}

/// The longest line that gives, or refuses, voice in `room`.
fn room_voice_line_len(config: &ServerConfig, room: Room<'_>) -> usize {
    let session = SessionId::new(u32::MAX).expect("not zero");
    let key = VoiceKey::from_bytes([0; VoiceKey::LEN]);
    let credential =
        line_len(&ServerMessage::Voice { scope: VoiceScope::Room(room), session, key });
    let refusals = [NoVoice::Limit, NoVoice::IdsExhausted].map(|why| {
        let reason = no_voice_reason(config, why);
        line_len(&ServerMessage::Error { code: ErrorCode::NoVoice, reason: reason.borrowed() })
    });
    refusals.into_iter().fold(credential, usize::max)
}

/// The most bytes the `USERLIST` lines of a room named in `room_len`
/// bytes with `members` members take, as `user_list_lines` splits them.
///
/// Nicknames of [`MAX_NICK_LEN`] bytes are the worst case: shorter ones
/// take fewer bytes, and need no more lines, since any line that holds
/// `per_line` of the longest holds `per_line` shorter ones.
pub(super) fn max_user_list_bytes(room_len: usize, members: usize) -> usize {
    // A list of n nicknames is n nicknames and n - 1 ", ".
    let budget = MAX_OUTPUT_LINE_LEN - (USER_LIST_OVERHEAD - 2) - room_len;
    let per_line = (budget + 2) / (MAX_NICK_LEN + 2);
    // An empty room still gets one (empty) line.
    let lines = members.div_ceil(per_line).max(1);
    let separators = members.saturating_sub(lines).saturating_mul(2);
    lines
        .saturating_mul(USER_LIST_OVERHEAD + room_len)
        .saturating_add(members.saturating_mul(MAX_NICK_LEN))
        .saturating_add(separators)
}

/// The encoded length of one line, line ending included.
fn line_len(msg: &ServerMessage<'_>) -> usize {
    let mut line = BytesMut::new();
    msg.encode(&mut line);
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Nick;
    use crate::server::user_list_lines;

    /// The bytes of the `USERLIST` lines that the server sends for `room`
    /// with these members.
    fn user_list_bytes(room: Room<'_>, nicks: &[Nick<'_>]) -> usize {
        user_list_lines(room, nicks.iter().copied())
            .iter()
            .map(|users| line_len(&ServerMessage::UserList { room, users: users.borrowed() }))
            .sum()
    }

    #[test]
    fn the_user_list_bound_is_what_the_server_sends_for_the_longest_nicknames() {
        let longest = "x".repeat(MAX_NICK_LEN);
        let longest = Nick::new(&longest).unwrap();
        let room_50 = "#".to_owned() + &"r".repeat(MAX_ROOM_LEN - 1);
        for room in [Room::LOBBY, Room::new("#a").unwrap(), Room::new(&room_50).unwrap()] {
            for members in [1, 2, 3, 117, 118, 119, 120, 121, 236, 237, 240, 241, 1_000] {
                let nicks = vec![longest; members];
                assert_eq!(
                    max_user_list_bytes(room.as_str().len(), members),
                    user_list_bytes(room, &nicks),
                    "{room} with {members}"
                );
            }
        }
    }

    #[test]
    fn shorter_nicknames_stay_within_the_bound() {
        let names: Vec<String> = (0..1_000).map(|i| "y".repeat(1 + i * 7 % MAX_NICK_LEN)).collect();
        let nicks: Vec<Nick<'_>> = names.iter().map(|n| Nick::new(n).unwrap()).collect();
        for members in [1, 50, 500, 1_000] {
            let sent = user_list_bytes(Room::LOBBY, &nicks[..members]);
            assert!(sent <= max_user_list_bytes(Room::LOBBY.as_str().len(), members));
        }
    }

    #[test]
    fn huge_limits_saturate_instead_of_overflowing() {
        let config = ServerConfig { max_clients: usize::MAX, ..ServerConfig::default() };
        assert_eq!(config.max_reply_bytes(), usize::MAX);
    }
}
