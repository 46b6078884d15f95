//! The line corpora of the parse benchmarks: the lines of a busy chat in
//! Voix form, and the same lines in IRC form for `irc-proto`, the
//! comparison the parse target is set against (10 times its throughput).
//!
//! Deterministic: the same 1,000 client lines (and the server lines made
//! from them) every time.

use voix_proto::wire::ServerMessage;

/// Lines a client sends, in the proportions of a busy chat: mostly room
/// messages, some private messages, keepalive, joins, calls and
/// registrations.
pub fn client_lines() -> Vec<String> {
    let texts = [
        "Hey all!",
        "anyone up for a call later?",
        "lol :) that was great",
        "ok",
        "I'll be back in 10 minutes, grabbing coffee: black, no sugar",
        "æøå — Unicode works too ✓",
    ];
    let nicks = ["John", "Michael", "Willy", "Tina", "Mike", "Nickname"];
    let rooms = ["#Lobby", "#TurboRoom", "#rust", "#voice-devs"];
    (0..1_000)
        .map(|i| {
            let (t, n, r) =
                (texts[i % texts.len()], nicks[i % nicks.len()], rooms[i % rooms.len()]);
            match i % 20 {
                0..=11 => format!("MSG {r}: {t}"),
                12..=14 => format!("PRIVMSG {n}: {t}"),
                15 | 16 => format!("PONG: {}", 10_000_000 + i * 7919),
                17 => format!("JOIN: {r}"),
                18 => format!("TALK {n}: Request"),
                _ => format!("CONNECT: \"{n}{i}\" \"{n} Example\" 1.0.0"),
            }
        })
        .collect()
}

/// What a server sends for the same traffic: the room messages with their
/// sender, `PING` for `PONG`, `JOINED` for `JOIN`; a server sends no
/// `CONNECT`, so those lines are left out (950 lines).
pub fn server_lines() -> Vec<String> {
    client_lines()
        .iter()
        .filter_map(|line| {
            Some(match line.split_once(' ')? {
                ("MSG", rest) => format!("MSG John {rest}"),
                ("PONG:", rest) => format!("PING: {rest}"),
                ("JOIN:", rest) => format!("JOINED: {rest}"),
                (_, _) => line.to_owned(),
            })
        })
        .filter(|line| ServerMessage::parse_str(line).is_ok())
        .collect()
}

/// [`client_lines`] as an IRC client would send them: `PRIVMSG` for room
/// and private messages, a CTCP request for a call, `USER` to register.
pub fn irc_client_lines() -> Vec<String> {
    client_lines().iter().map(|line| irc_client_line(line)).collect()
}

fn irc_client_line(line: &str) -> String {
    let (head, args) = line.split_once(": ").unwrap_or((line, ""));
    match head.split_once(' ') {
        Some(("MSG" | "PRIVMSG", target)) => format!("PRIVMSG {target} :{args}"),
        Some(("TALK", nick)) => format!("PRIVMSG {nick} :\u{1}TALK {args}\u{1}"),
        _ => match head {
            "PONG" => format!("PONG :{args}"),
            "JOIN" => format!("JOIN {args}"),
            _ => {
                // CONNECT: "nick" "Real Name" 1.0.0
                let mut quoted = args.split('"').skip(1).step_by(2);
                let (nick, name) = (quoted.next().unwrap_or(""), quoted.next().unwrap_or(""));
                format!("USER {nick} 0 * :{name}")
            }
        },
    }
}

/// [`server_lines`] as an IRC server would send them: with the sender's
/// prefix where Voix names the sender.
pub fn irc_server_lines() -> Vec<String> {
    server_lines()
        .iter()
        .map(|line| match line.split_once(' ') {
            Some(("MSG", rest)) => {
                let (from, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                let (room, text) = rest.split_once(": ").unwrap_or((rest, ""));
                format!(":{from}!{from}@voix.example PRIVMSG {room} :{text}")
            }
            Some(("PING:", token)) => format!("PING :{token}"),
            Some(("JOINED:", room)) => format!(":John!John@voix.example JOIN {room}"),
            Some(("PRIVMSG", rest)) => {
                let (from, text) = rest.split_once(": ").unwrap_or((rest, ""));
                format!(":{from}!{from}@voix.example PRIVMSG Tina :{text}")
            }
            Some(("TALK", rest)) => {
                let (from, action) = rest.split_once(": ").unwrap_or((rest, ""));
                format!(":{from}!{from}@voix.example PRIVMSG Tina :\u{1}TALK {action}\u{1}")
            }
            _ => format!(":voix.example NOTICE John :{line}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use voix_proto::wire::ClientCommand;

    use super::*;

    #[test]
    fn every_line_parses_and_the_forms_line_up() {
        let (client, server) = (client_lines(), server_lines());
        assert_eq!((client.len(), server.len()), (1_000, 950));
        assert!(client.iter().all(|line| ClientCommand::parse_str(line).is_ok()));
        assert_eq!(irc_client_lines().len(), client.len());
        assert_eq!(irc_server_lines().len(), server.len());
        assert_eq!(irc_client_lines()[0], "PRIVMSG #Lobby :Hey all!");
        assert_eq!(irc_server_lines()[0], ":John!John@voix.example PRIVMSG #Lobby :Hey all!");
    }
}
