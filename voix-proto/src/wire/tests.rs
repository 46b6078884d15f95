//! Tests of the wire format as a whole: the seed's example run verbatim,
//! refusals, and property tests for round trips and framing.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::voice::{SessionId, VoiceKey};
use crate::{
    NameError, Nick, NickBuf, RealName, RealNameBuf, Room, RoomBuf, Text, TextBuf, Version,
    VersionBuf,
};

fn encode_client(cmd: &ClientCommand<'_>) -> String {
    let mut out = BytesMut::new();
    cmd.encode(&mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

fn encode_server(msg: &ServerMessage<'_>) -> String {
    let mut out = BytesMut::new();
    msg.encode(&mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

/// Every client line of the seed's example run, as written there.
const SEED_CLIENT_LINES: &[&str] = &[
    r#"CONNECT: "Nickname" "Real Name" 1.0.0"#,
    "PONG: 14139282",
    "MSG #Lobby: Hey all!",
    "PRIVMSG John: Hey John!",
    "TALK John: Request",
    "PONG: 42231233",
    "JOIN: #TurboRoom",
    "TALK Michael: Deny",
    "TALK Michael: Accept",
    "DISCONNECT",
];

/// Every server line of the seed's example run, as written there.
const SEED_SERVER_LINES: &[&str] = &[
    "ACCEPT: hostname.com",
    "PING: 14139282",
    "JOINED: #Lobby",
    "USERLIST #Lobby: John, Michael, Willy",
    "MSG John #Lobby: Hey Nickname!",
    "PRIVMSG John: Hey there :)",
    "TALK John: Accept",
    "PING: 42231233",
    "JOINED: #TurboRoom",
    "USERLIST #Lobby: Tina, Mike",
    "TALK Michael: Request",
    "TALK Michael: End",
];

/// A parsed line holds only views of the line, so it has nothing to drop:
/// a parse ends without running any drop code. When the names were `Cow`s,
/// dropping a parsed line checked each of them, and that cost 7 to 9 % of a
/// parse; an owned field added to either type would bring it back.
#[test]
fn parsed_lines_have_no_drop_glue() {
    assert!(!std::mem::needs_drop::<ClientCommand<'static>>());
    assert!(!std::mem::needs_drop::<ServerMessage<'static>>());
}

#[test]
fn seed_client_lines_parse_and_encode_verbatim() {
    for line in SEED_CLIENT_LINES {
        let cmd = ClientCommand::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(encode_client(&cmd), format!("{line}\r\n"));
        assert_eq!(cmd.to_string(), *line);
    }
}

#[test]
fn seed_server_lines_parse_and_encode_verbatim() {
    for line in SEED_SERVER_LINES {
        let msg = ServerMessage::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(encode_server(&msg), format!("{line}\r\n"));
    }
}

#[test]
fn seed_lines_mean_what_the_seed_says() {
    assert_eq!(
        ClientCommand::parse(br#"CONNECT: "Nickname" "Real Name" 1.0.0"#),
        Ok(ClientCommand::Connect {
            nick: Nick::new("Nickname").unwrap(),
            real_name: RealName::new("Real Name").unwrap(),
            version: Version::new("1.0.0").unwrap(),
        })
    );
    assert_eq!(
        ServerMessage::parse(b"MSG John #Lobby: Hey Nickname!"),
        Ok(ServerMessage::RoomMessage {
            from: Nick::new("John").unwrap(),
            room: Room::LOBBY,
            text: Text::new("Hey Nickname!").unwrap(),
        })
    );
    let Ok(ServerMessage::UserList { users, .. }) =
        ServerMessage::parse(b"USERLIST #Lobby: John, Michael, Willy")
    else {
        panic!("USERLIST did not parse");
    };
    assert_eq!(
        users.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ["John", "Michael", "Willy"]
    );
}

#[test]
fn words_and_talk_actions_ignore_case() {
    // The seed writes `Talk John: End` once.
    let end = ClientCommand::parse(b"Talk John: End").unwrap();
    assert_eq!(
        end,
        ClientCommand::Talk { peer: Nick::new("John").unwrap(), action: TalkAction::End }
    );
    assert_eq!(encode_client(&end), "TALK John: End\r\n");
    assert_eq!(ClientCommand::parse(b"talk John: ACCEPT").unwrap().word(), CommandWord::Talk);
    assert_eq!(ClientCommand::parse(b"disconnect"), Ok(ClientCommand::Disconnect));
    for (word, action) in [
        ("request", TalkAction::Request),
        ("ACCEPT", TalkAction::Accept),
        ("dEnY", TalkAction::Deny),
        ("End", TalkAction::End),
    ] {
        assert_eq!(TalkAction::from_word(word), Some(action), "{word}");
    }
    // Same lengths, other words; and letters' neighbours that differ from
    // them only in the bit that case flips.
    for near_miss in ["Requesx", "Accepx", "Den", "Ends", "", "En\x04", "@CCEPT"] {
        assert_eq!(TalkAction::from_word(near_miss), None, "{near_miss:?}");
    }
}

#[test]
fn parsing_text_agrees_with_parsing_bytes() {
    for line in SEED_CLIENT_LINES {
        assert_eq!(ClientCommand::parse_str(line), ClientCommand::parse(line.as_bytes()));
    }
    for line in SEED_SERVER_LINES {
        assert_eq!(ServerMessage::parse_str(line), ServerMessage::parse(line.as_bytes()));
    }
    // Only bytes can be malformed UTF-8.
    assert_eq!(ClientCommand::parse(b"MSG #Lobby: \xff"), Err(ParseError::InvalidUtf8));
}

#[test]
fn quoted_nicknames_and_real_names() {
    let cmd = ClientCommand::parse(r#"CONNECT: "Zoë" "Zoë Ærø" 1.0"#.as_bytes()).unwrap();
    let ClientCommand::Connect { nick, real_name, .. } = cmd else { panic!("{cmd:?}") };
    assert_eq!((nick.as_str(), real_name.as_str()), ("Zoë", "Zoë Ærø"));
    for unclosed in [r#"CONNECT: "Zoë "Real" 1.0"#, r#"CONNECT: "Zoë" "Real 1.0"#] {
        let err = ClientCommand::parse(unclosed.as_bytes()).unwrap_err();
        assert_eq!(err.command(), Some(CommandWord::Connect), "{unclosed}");
    }
}

#[test]
fn text_keeps_colons_spaces_and_unicode() {
    for text in ["a: b: c", " leading space", "trailing space ", "smile :) ✓ æøå", "::"] {
        let line = format!("MSG #Lobby: {text}");
        let ClientCommand::RoomMessage { text: parsed, .. } =
            ClientCommand::parse(line.as_bytes()).unwrap()
        else {
            panic!("{line}");
        };
        assert_eq!(parsed.as_str(), text);
        assert_eq!(
            encode_client(&ClientCommand::parse(line.as_bytes()).unwrap()),
            format!("{line}\r\n")
        );
    }
}

#[test]
fn lenient_input_canonical_output() {
    let cases = [
        ("MSG #Lobby:no space", "MSG #Lobby: no space"),
        ("JOIN:#TurboRoom", "JOIN: #TurboRoom"),
        ("JOIN: #TurboRoom  ", "JOIN: #TurboRoom"),
        ("PRIVMSG   John: hi", "PRIVMSG John: hi"),
        ("MSG John: private", "PRIVMSG John: private"),
        (r#"CONNECT: Bare "" 2.0"#, r#"CONNECT: "Bare" "" 2.0"#),
    ];
    for (input, canonical) in cases {
        let cmd = ClientCommand::parse(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(encode_client(&cmd), format!("{canonical}\r\n"), "{input}");
    }
}

#[test]
fn client_refusals_say_what_is_wrong() {
    use CommandWord as W;
    let cases: &[(&[u8], ParseError)] = &[
        (b"", ParseError::Empty),
        (b"\xff\xfe", ParseError::InvalidUtf8),
        (b"HELLO there", ParseError::UnknownCommand),
        (b"JOINED: #Lobby", ParseError::WrongDirection(W::Joined)),
        (b"CONNECT: \"Nick\" 1.0.0", ParseError::Syntax(W::Connect)),
        (
            b"CONNECT: \"Ni ck\" \"R\" 1.0",
            ParseError::BadName(W::Connect, NameError::NickChar(' ')),
        ),
        (
            b"CONNECT: \"#Nick\" \"R\" 1.0",
            ParseError::BadName(W::Connect, NameError::NickStartsWithHash),
        ),
        (b"CONNECT: \"Nick\" \"R\" 1 0", ParseError::Syntax(W::Connect)),
        (b"PONG: abc", ParseError::BadNumber(W::Pong)),
        (b"PONG:", ParseError::Syntax(W::Pong)),
        (b"PONG: 1 2", ParseError::Syntax(W::Pong)),
        (b"JOIN: Lobby", ParseError::BadName(W::Join, NameError::RoomWithoutHash)),
        (b"JOIN: #a b", ParseError::Syntax(W::Join)),
        (b"JOIN", ParseError::Syntax(W::Join)),
        (b"MSG #Lobby", ParseError::Syntax(W::Msg)),
        (b"MSG #Lobby: ", ParseError::BadName(W::Msg, NameError::EmptyText)),
        (b"MSG #Lobby: a\0b", ParseError::BadName(W::Msg, NameError::TextChar('\0'))),
        (b"PRIVMSG: hi", ParseError::Syntax(W::PrivMsg)),
        (b"TALK John: Maybe", ParseError::BadTalkAction),
        (b"TALK John Request", ParseError::Syntax(W::Talk)),
        (b"DISCONNECT now", ParseError::Syntax(W::Disconnect)),
    ];
    for (line, err) in cases {
        assert_eq!(ClientCommand::parse(line), Err(*err), "{:?}", String::from_utf8_lossy(line));
    }
}

#[test]
fn server_refusals() {
    use CommandWord as W;
    assert_eq!(ServerMessage::parse(b"JOIN: #a"), Err(ParseError::WrongDirection(W::Join)));
    assert_eq!(ServerMessage::parse(b"MSG #Lobby: hi"), Err(ParseError::Syntax(W::Msg)));
    assert_eq!(ServerMessage::parse(b"ERROR NOPE: x"), Err(ParseError::UnknownErrorCode));
    assert_eq!(
        ServerMessage::parse(b"USERLIST #Lobby: a,,b"),
        Err(ParseError::BadName(W::UserList, NameError::EmptyNick))
    );
}

#[test]
fn voice_lines() {
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let line = format!("VOICE #Lobby: 7 {key}");
    let msg = ServerMessage::parse(line.as_bytes()).unwrap();
    assert_eq!(encode_server(&msg), format!("{line}\r\n"));
    let ServerMessage::Voice { scope, session, .. } = msg else { panic!("{line}") };
    assert_eq!((scope, session.get()), (VoiceScope::Room(Room::LOBBY), 7));
    let call = format!("VOICE John: 4294967295 {key}");
    assert!(matches!(ServerMessage::parse(call.as_bytes()), Ok(ServerMessage::Voice { .. })));
    use CommandWord::Voice as W;
    let bad: &[(&str, ParseError)] = &[
        ("VOICE #Lobby: 0 00", ParseError::BadNumber(W)),
        ("VOICE #Lobby: 7 00", ParseError::BadKey(W)),
        ("VOICE #Lobby: 7", ParseError::Syntax(W)),
    ];
    for (line, err) in bad {
        assert_eq!(ServerMessage::parse(line.as_bytes()), Err(*err), "{line}");
    }
}

#[test]
fn error_lines_round_trip_for_every_code() {
    for &code in ErrorCode::ALL {
        let msg = ServerMessage::Error { code, reason: Text::new("because: reasons").unwrap() };
        let line = encode_server(&msg);
        assert_eq!(line, format!("ERROR {}: because: reasons\r\n", code.as_str()));
        assert_eq!(ServerMessage::parse(line.trim_end().as_bytes()), Ok(msg));
    }
}

// ---- framing ----

/// Feeds `chunks` through a reader the way a connection does, collecting
/// lines (as strings) and overlong-line reports (as `None`).
fn frame_chunks(max: usize, chunks: &[&[u8]]) -> (Vec<Option<String>>, usize) {
    let mut reader = LineReader::new(max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut peak = 0;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        peak = peak.max(buf.len());
        loop {
            match reader.next(&buf) {
                Framed::Line { line, consumed } => {
                    out.push(Some(String::from_utf8_lossy(line).into_owned()));
                    buf.drain(..consumed);
                }
                Framed::TooLong { consumed } => {
                    out.push(None);
                    buf.drain(..consumed);
                }
                Framed::Incomplete { consumed } => {
                    buf.drain(..consumed);
                    break;
                }
            }
        }
    }
    (out, peak)
}

#[test]
fn framing_accepts_both_line_endings() {
    let (lines, _) = frame_chunks(64, &[b"PONG: 1\r\nPONG: 2\nPONG: 3\r\n"]);
    assert_eq!(lines, [Some("PONG: 1".into()), Some("PONG: 2".into()), Some("PONG: 3".into())]);
}

#[test]
fn overlong_line_is_reported_once_and_not_buffered() {
    let big = vec![b'x'; 1 << 20];
    let mut chunks: Vec<&[u8]> = vec![b"PONG: 1\n"];
    chunks.extend(big.chunks(4096));
    chunks.push(b"\nPONG: 2\n");
    let (lines, peak) = frame_chunks(100, &chunks);
    assert_eq!(lines, [Some("PONG: 1".into()), None, Some("PONG: 2".into())]);
    assert!(peak <= 4096 + 102, "buffered {peak} bytes");
}

#[test]
fn line_at_the_limit_passes_and_one_more_byte_does_not() {
    let ok = format!("{}\r\n", "a".repeat(10));
    let long = format!("{}\r\nb\n", "a".repeat(11));
    assert_eq!(frame_chunks(10, &[ok.as_bytes()]).0, [Some("a".repeat(10))]);
    assert_eq!(frame_chunks(10, &[long.as_bytes()]).0, [None, Some("b".into())]);
}

// ---- property tests ----

fn nick() -> impl Strategy<Value = NickBuf> {
    "[A-Za-z0-9_.\\-\\[\\]|^æøåÆØÅ✓][A-Za-z0-9_.\\-\\[\\]|^#æøå]{0,14}"
        .prop_map(|s| NickBuf::from_string(s).expect("strategy makes valid nicks"))
}

fn room() -> impl Strategy<Value = RoomBuf> {
    "#[A-Za-z0-9_.\\-#æøå]{1,20}".prop_map(|s| RoomBuf::from_string(s).expect("valid room"))
}

fn text() -> impl Strategy<Value = TextBuf> {
    "[^\r\n\u{0}]{1,80}".prop_map(|s| TextBuf::from_string(s).expect("valid text"))
}

fn action() -> impl Strategy<Value = TalkAction> {
    prop_oneof![
        Just(TalkAction::Request),
        Just(TalkAction::Accept),
        Just(TalkAction::Deny),
        Just(TalkAction::End)
    ]
}

fn session() -> impl Strategy<Value = SessionId> {
    (1..=u32::MAX).prop_map(|n| SessionId::new(n).expect("not zero"))
}

fn key() -> impl Strategy<Value = VoiceKey> {
    any::<[u8; 32]>().prop_map(VoiceKey::from_bytes)
}

/// The owned parts of a client line, as the strategy generates them: a
/// [`ClientCommand`] only borrows, so the test borrows one from these.
#[derive(Debug, Clone)]
enum ClientParts {
    Connect(NickBuf, RealNameBuf, VersionBuf),
    Ping(u64),
    Pong(u64),
    Join(RoomBuf),
    RoomMessage(RoomBuf, TextBuf),
    PrivateMessage(NickBuf, TextBuf),
    Talk(NickBuf, TalkAction),
    Disconnect,
}

impl ClientParts {
    fn command(&self) -> ClientCommand<'_> {
        match self {
            Self::Connect(nick, real_name, version) => ClientCommand::Connect {
                nick: nick.borrowed(),
                real_name: real_name.borrowed(),
                version: version.borrowed(),
            },
            Self::Ping(token) => ClientCommand::Ping { token: *token },
            Self::Pong(token) => ClientCommand::Pong { token: *token },
            Self::Join(room) => ClientCommand::Join { room: room.borrowed() },
            Self::RoomMessage(room, text) => {
                ClientCommand::RoomMessage { room: room.borrowed(), text: text.borrowed() }
            }
            Self::PrivateMessage(to, text) => {
                ClientCommand::PrivateMessage { to: to.borrowed(), text: text.borrowed() }
            }
            Self::Talk(peer, action) => {
                ClientCommand::Talk { peer: peer.borrowed(), action: *action }
            }
            Self::Disconnect => ClientCommand::Disconnect,
        }
    }
}

fn client_parts() -> impl Strategy<Value = ClientParts> {
    prop_oneof![
        (nick(), "[^\"\\p{Cc}]{0,16}", "[0-9a-z.+\\-]{1,12}").prop_map(|(nick, real, v)| {
            ClientParts::Connect(
                nick,
                RealNameBuf::from_string(real).unwrap(),
                VersionBuf::from_string(v).unwrap(),
            )
        }),
        any::<u64>().prop_map(ClientParts::Ping),
        any::<u64>().prop_map(ClientParts::Pong),
        room().prop_map(ClientParts::Join),
        (room(), text()).prop_map(|(room, text)| ClientParts::RoomMessage(room, text)),
        (nick(), text()).prop_map(|(to, text)| ClientParts::PrivateMessage(to, text)),
        (nick(), action()).prop_map(|(peer, action)| ClientParts::Talk(peer, action)),
        Just(ClientParts::Disconnect),
    ]
}

/// The owned parts of a server line, as [`ClientParts`] are of a client's.
#[derive(Debug, Clone)]
enum ServerParts {
    Accept(TextBuf),
    NotAccepted(TextBuf),
    NicknameInUse(TextBuf),
    Ping(u64),
    Pong(u64),
    Joined(RoomBuf),
    UserList(RoomBuf, NickListBuf),
    UserJoin(RoomBuf, NickBuf),
    UserLeave(RoomBuf, NickBuf),
    RoomMessage(NickBuf, RoomBuf, TextBuf),
    PrivateMessage(NickBuf, TextBuf),
    Talk(NickBuf, TalkAction),
    Voice(VoiceScopeBuf, SessionId, VoiceKey),
    Error(ErrorCode, TextBuf),
}

impl ServerParts {
    fn message(&self) -> ServerMessage<'_> {
        use ServerMessage as M;
        match self {
            Self::Accept(host) => M::Accept { host: host.borrowed() },
            Self::NotAccepted(reason) => M::NotAccepted { reason: reason.borrowed() },
            Self::NicknameInUse(reason) => M::NicknameInUse { reason: reason.borrowed() },
            Self::Ping(token) => M::Ping { token: *token },
            Self::Pong(token) => M::Pong { token: *token },
            Self::Joined(room) => M::Joined { room: room.borrowed() },
            Self::UserList(room, users) => {
                M::UserList { room: room.borrowed(), users: users.borrowed() }
            }
            Self::UserJoin(room, nick) => {
                M::UserJoin { room: room.borrowed(), nick: nick.borrowed() }
            }
            Self::UserLeave(room, nick) => {
                M::UserLeave { room: room.borrowed(), nick: nick.borrowed() }
            }
            Self::RoomMessage(from, room, text) => M::RoomMessage {
                from: from.borrowed(),
                room: room.borrowed(),
                text: text.borrowed(),
            },
            Self::PrivateMessage(from, text) => {
                M::PrivateMessage { from: from.borrowed(), text: text.borrowed() }
            }
            Self::Talk(peer, action) => M::Talk { peer: peer.borrowed(), action: *action },
            Self::Voice(scope, session, key) => {
                M::Voice { scope: scope.borrowed(), session: *session, key: key.clone() }
            }
            Self::Error(code, reason) => M::Error { code: *code, reason: reason.borrowed() },
        }
    }
}

fn server_parts() -> impl Strategy<Value = ServerParts> {
    prop_oneof![
        text().prop_map(ServerParts::Accept),
        text().prop_map(ServerParts::NotAccepted),
        text().prop_map(ServerParts::NicknameInUse),
        any::<u64>().prop_map(ServerParts::Ping),
        any::<u64>().prop_map(ServerParts::Pong),
        room().prop_map(ServerParts::Joined),
        (room(), prop::collection::vec(nick(), 0..8)).prop_map(|(room, nicks)| {
            ServerParts::UserList(room, NickListBuf::from_nicks(nicks.iter().map(|n| n.borrowed())))
        }),
        (room(), nick()).prop_map(|(room, nick)| ServerParts::UserJoin(room, nick)),
        (room(), nick()).prop_map(|(room, nick)| ServerParts::UserLeave(room, nick)),
        (nick(), room(), text())
            .prop_map(|(from, room, text)| ServerParts::RoomMessage(from, room, text)),
        (nick(), text()).prop_map(|(from, text)| ServerParts::PrivateMessage(from, text)),
        (nick(), action()).prop_map(|(peer, action)| ServerParts::Talk(peer, action)),
        (room(), session(), key()).prop_map(|(room, session, key)| ServerParts::Voice(
            VoiceScopeBuf::Room(room),
            session,
            key
        )),
        (nick(), session(), key()).prop_map(|(nick, session, key)| ServerParts::Voice(
            VoiceScopeBuf::Call(nick),
            session,
            key
        )),
        (prop::sample::select(ErrorCode::ALL), text())
            .prop_map(|(code, reason)| ServerParts::Error(code, reason)),
    ]
}

proptest! {
    #[test]
    fn client_commands_round_trip(parts in client_parts()) {
        let cmd = parts.command();
        let line = encode_client(&cmd);
        prop_assert!(line.ends_with("\r\n"));
        let parsed = ClientCommand::parse(&line.as_bytes()[..line.len() - 2]);
        prop_assert_eq!(parsed, Ok(cmd));
    }

    #[test]
    fn server_messages_round_trip(parts in server_parts()) {
        let msg = parts.message();
        let line = encode_server(&msg);
        let parsed = ServerMessage::parse(&line.as_bytes()[..line.len() - 2]);
        prop_assert_eq!(parsed, Ok(msg));
    }

    #[test]
    fn parsers_never_panic(line in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = ClientCommand::parse(&line);
        let _ = ServerMessage::parse(&line);
    }

    #[test]
    fn any_chunking_gives_the_same_lines(
        cmds in prop::collection::vec(client_parts(), 1..20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let stream: Vec<u8> =
            cmds.iter().flat_map(|c| encode_client(&c.command()).into_bytes()).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.extend([0, stream.len()]);
        cuts.sort_unstable();
        let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
        let (lines, _) = frame_chunks(super::DEFAULT_MAX_LINE_LEN, &chunks);
        let expected: Vec<Option<String>> =
            cmds.iter().map(|c| Some(encode_client(&c.command()).trim_end_matches("\r\n").to_owned())).collect();
        prop_assert_eq!(lines, expected);
    }
}
