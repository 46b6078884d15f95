//! The signalling channel of the real binary over real TCP: the seed's
//! example run, refusals, framing, limits, timers and load.

mod support;

use std::collections::HashSet;
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use support::{Client, ServerProcess, TIMEOUT, run_to_exit};
use voix_proto::server::ServerConfig;

#[test]
fn banner_names_the_address_and_the_client_command() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the bound port, not the one asked for");
    assert_eq!(
        server.output.recv_timeout(TIMEOUT).expect("the banner's second line"),
        format!(
            "connect a client with: cargo run --release -p voix-client -- --server {addr} --nick NAME"
        )
    );
}

#[test]
fn help_documents_every_setting_with_its_default() {
    let (status, help, _) = run_to_exit(&["--help"]);
    assert!(status.success());
    // One line per flag: collapse the wrapped help text.
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let d = ServerConfig::default();
    let secs = |t: Duration| format!("{}s", t.as_secs());
    let defaults = [
        ("--listen", "0.0.0.0:9300".to_owned()),
        ("--host-name", d.host_name.to_string()),
        ("--max-clients", d.max_clients.to_string()),
        ("--max-line-len", d.max_line_len.to_string()),
        ("--max-output-queue-bytes", d.max_output_queue_bytes.to_string()),
        ("--command-rate", d.command_rate.to_string()),
        ("--command-burst", d.command_burst.to_string()),
        ("--max-rooms", d.max_rooms.to_string()),
        ("--registration-timeout", secs(d.registration_timeout)),
        ("--ping-interval", secs(d.ping_interval)),
        ("--ping-timeout", secs(d.ping_timeout)),
        ("--ring-timeout", secs(d.ring_timeout)),
        (
            "--max-voice-sessions",
            voix_proto::voice::RelayConfig::default().max_sessions.to_string(),
        ),
        ("--max-voice-queue", voix_proto::voice::RelayConfig::default().max_queued.to_string()),
    ];
    for (flag, default) in defaults {
        let start = help.find(&format!("{flag} <")).unwrap_or_else(|| panic!("{flag} in --help"));
        let entry = &help[start..];
        let end = entry[2..].find(" -").map_or(entry.len(), |i| i + 2);
        assert!(entry[..end].ends_with(&format!("[default: {default}]")), "{}", &entry[..end]);
    }
    assert!(help.contains("--config <FILE>"));
}

#[test]
fn the_seed_example_run_over_tcp() {
    // Short PING interval so that the example's periodic PING comes soon.
    let server = ServerProcess::start(&["--host-name", "hostname.com", "--ping-interval", "2s"]);
    let addr = server.addr();
    let mut john = Client::register(addr, "John");
    let mut michael = Client::register(addr, "Michael");
    let mut willy = Client::register(addr, "Willy");

    // >>> CONNECT: "Nickname" "Real Name" 1.0.0
    let mut me = Client::connect(addr, "Nickname");
    me.auto_pong = false;
    me.send(r#"CONNECT: "Nickname" "Real Name" 1.0.0"#);
    me.expect(&["ACCEPT: hostname.com"]);
    // PING: 14139282   /   >>> PONG: 14139282
    me.expect_ping();
    me.auto_pong = true;
    me.expect(&[
        "JOINED: #Lobby",
        // The original includes the joining user (ORIGIN.md).
        "USERLIST #Lobby: John, Michael, Willy, Nickname",
        "VOICE #Lobby: <session> <key>",
    ]);
    john.wait_for("USERJOIN #Lobby: Nickname");

    // >>> MSG #Lobby: Hey all!
    me.send("MSG #Lobby: Hey all!");
    for other in [&mut john, &mut michael, &mut willy] {
        other.wait_for("MSG Nickname #Lobby: Hey all!");
    }
    // MSG John #Lobby: Hey Nickname!
    john.send("MSG #Lobby: Hey Nickname!");
    me.expect(&["MSG John #Lobby: Hey Nickname!"]);

    // >>> PRIVMSG John: Hey John!   /   PRIVMSG John: Hey there :)
    me.send("PRIVMSG John: Hey John!");
    john.expect(&["PRIVMSG Nickname: Hey John!"]);
    john.send("PRIVMSG Nickname: Hey there :)");
    me.expect(&["PRIVMSG John: Hey there :)"]);

    // >>> TALK John: Request   /   TALK John: Accept   /   >>> Talk John: End
    me.send("TALK John: Request");
    john.expect(&["TALK Nickname: Request"]);
    john.send("TALK Nickname: Accept");
    me.expect(&["TALK John: Accept", "VOICE John: <session> <key>"]);
    john.expect(&["VOICE Nickname: <session> <key>"]);
    me.send("Talk John: End");
    john.expect(&["TALK Nickname: End"]);

    // PING: 42231233   /   >>> PONG: 42231233
    me.auto_pong = false;
    me.expect_ping();
    me.auto_pong = true;

    // >>> JOIN: #TurboRoom, where Tina and Mike are already.
    let mut tina = Client::register(addr, "Tina");
    tina.send("JOIN: #TurboRoom");
    tina.wait_for("VOICE #TurboRoom: <session> <key>");
    let mut mike = Client::register(addr, "Mike");
    mike.send("JOIN: #TurboRoom");
    mike.wait_for("VOICE #TurboRoom: <session> <key>");
    me.wait_for("USERLEAVE #Lobby: Mike");
    me.send("JOIN: #TurboRoom");
    me.expect(&[
        "JOINED: #TurboRoom",
        // The README's "USERLIST #Lobby: Tina, Mike" is a typo (ORIGIN.md).
        "USERLIST #TurboRoom: Tina, Mike, Nickname",
        "VOICE #TurboRoom: <session> <key>",
    ]);
    john.wait_for("USERLEAVE #Lobby: Nickname");
    tina.wait_for("USERJOIN #TurboRoom: Nickname");

    // TALK Michael: Request   /   >>> TALK Michael: Deny
    michael.send("TALK Nickname: Request");
    me.expect(&["TALK Michael: Request"]);
    me.send("TALK Michael: Deny");
    michael.wait_for("TALK Nickname: Deny");

    // TALK Michael: Request   /   >>> TALK Michael: Accept   /   TALK Michael: End
    michael.send("TALK Nickname: Request");
    me.expect(&["TALK Michael: Request"]);
    me.send("TALK Michael: Accept");
    michael.expect(&["TALK Nickname: Accept", "VOICE Nickname: <session> <key>"]);
    me.expect(&["VOICE Michael: <session> <key>"]);
    michael.send("TALK Nickname: End");
    me.expect(&["TALK Michael: End"]);

    // >>> DISCONNECT
    me.send("DISCONNECT");
    me.expect_end();
    tina.expect(&["USERLEAVE #TurboRoom: Nickname"]);
    mike.wait_for("USERLEAVE #TurboRoom: Nickname");
    willy.wait_for("USERLEAVE #Lobby: Nickname");
}

#[test]
fn a_client_that_stops_sending_still_gets_its_replies() {
    let server = ServerProcess::start(&[]);
    let mut john = Client::register(server.addr(), "John");
    let mut script = Client::connect(server.addr(), "Script");
    script.auto_pong = false;
    script.send_connect();
    script.send("MSG #Lobby: hello and goodbye");
    script.finish_sending();
    script.expect(&["ACCEPT: voix"]);
    script.recv_raw();
    script.expect(&[
        "JOINED: #Lobby",
        "USERLIST #Lobby: John, Script",
        "VOICE #Lobby: <session> <key>",
    ]);
    script.expect_end();
    john.expect(&[
        "USERJOIN #Lobby: Script",
        "MSG Script #Lobby: hello and goodbye",
        "USERLEAVE #Lobby: Script",
    ]);
}

#[test]
fn nicknames_must_be_valid_and_unique() {
    let server = ServerProcess::start(&[]);
    let _john = Client::register(server.addr(), "John");
    let mut a = Client::connect(server.addr(), "a");
    let cases = [
        ("CONNECT: \"JOHN\" \"x\" 1.0", "NICKNAMEINUSE: the nickname JOHN is already in use"),
        ("CONNECT: \"Jo hn\" \"x\" 1.0", "NOTACCEPTED: CONNECT: nickname may not contain ' '"),
        ("CONNECT: \"#John\" \"x\" 1.0", "NOTACCEPTED: CONNECT: nickname may not start with '#'"),
        ("CONNECT: John", "NOTACCEPTED: malformed CONNECT"),
    ];
    for (line, reply) in cases {
        a.send(line);
        a.expect(&[reply]);
    }
    // The same connection may then pick a free nickname.
    a.nick = "Johnny".to_owned();
    a.send_connect();
    a.finish_registration();
}

#[test]
fn commands_before_connect_are_not_accepted() {
    let server = ServerProcess::start(&[]);
    let mut a = Client::connect(server.addr(), "a");
    let cases = [
        ("JOIN: #Lobby", "NOTACCEPTED: send CONNECT first"),
        ("MSG #Lobby: hi", "NOTACCEPTED: send CONNECT first"),
        ("PRIVMSG John: hi", "NOTACCEPTED: send CONNECT first"),
        ("TALK John: Request", "NOTACCEPTED: send CONNECT first"),
        ("HELLO", "NOTACCEPTED: unknown command"),
    ];
    for (line, reply) in cases {
        a.send(line);
        a.expect(&[reply]);
    }
    a.send_bytes(b"CONNECT: \"\xff\" \"x\" 1.0\r\n");
    a.expect(&["NOTACCEPTED: line is not valid UTF-8"]);
    a.send("DISCONNECT");
    a.expect_end();
}

#[test]
fn one_command_byte_by_byte_and_many_in_one_write() {
    let server = ServerProcess::start(&[]);
    let mut john = Client::register(server.addr(), "John");
    let mut mary = Client::register(server.addr(), "Mary");
    john.wait_for("USERJOIN #Lobby: Mary");
    for byte in b"MSG #Lobby: one byte at a time\r\n" {
        john.send_bytes(&[*byte]);
        // Let each byte travel on its own.
        thread::sleep(Duration::from_millis(1));
    }
    mary.expect(&["MSG John #Lobby: one byte at a time"]);
    let many: String = (0..30).map(|i| format!("MSG #Lobby: line {i}\r\n")).collect();
    john.send_bytes(many.as_bytes());
    for i in 0..30 {
        mary.expect(&[&format!("MSG John #Lobby: line {i}")]);
    }
}

#[test]
fn a_one_mebibyte_line_is_refused_and_the_stream_recovers() {
    let server = ServerProcess::start(&[]);
    let mut john = Client::register(server.addr(), "John");
    let mut mary = Client::register(server.addr(), "Mary");
    john.wait_for("USERJOIN #Lobby: Mary");
    let mut big = b"MSG #Lobby: ".to_vec();
    big.resize(1 << 20, b'x');
    big.extend_from_slice(b"\r\nMSG #Lobby: after\r\n");
    john.send_bytes(&big);
    let max = ServerConfig::DEFAULT_MAX_LINE_LEN;
    john.expect(&[&format!("ERROR LINETOOLONG: lines are limited to {max} bytes")]);
    mary.expect(&["MSG John #Lobby: after"]);
}

#[test]
fn invalid_utf8_is_refused_and_the_stream_recovers() {
    let server = ServerProcess::start(&[]);
    let mut john = Client::register(server.addr(), "John");
    let mut mary = Client::register(server.addr(), "Mary");
    john.wait_for("USERJOIN #Lobby: Mary");
    john.send_bytes(b"MSG #Lobby: caf\xe9\r\nMSG #Lobby: \xc3\x28\r\nMSG #Lobby: caf\xc3\xa9\r\n");
    john.expect(&[
        "ERROR INVALIDUTF8: line is not valid UTF-8",
        "ERROR INVALIDUTF8: line is not valid UTF-8",
    ]);
    mary.expect(&["MSG John #Lobby: café"]);
}

#[test]
fn floods_are_throttled() {
    let server = ServerProcess::start(&["--command-rate", "1", "--command-burst", "3"]);
    let mut john = Client::register(server.addr(), "John");
    let mut mary = Client::register(server.addr(), "Mary");
    // Registration took one command (CONNECT; PONG is exempt) from John's
    // burst of three; wait for the bucket to be full again.
    thread::sleep(Duration::from_millis(1500));
    let flood: String = (0..10).map(|i| format!("MSG #Lobby: {i}\r\n")).collect();
    john.send_bytes(flood.as_bytes());
    john.wait_for("ERROR FLOOD: more than 1 commands per second; commands are being dropped");
    thread::sleep(Duration::from_secs(1));
    john.send("MSG #Lobby: later");
    mary.expect(&["MSG John #Lobby: 0", "MSG John #Lobby: 1", "MSG John #Lobby: 2"]);
    mary.expect(&["MSG John #Lobby: later"]);
}

#[test]
fn timers_drop_silent_clients() {
    let server = ServerProcess::start(&[
        "--ping-interval",
        "1s",
        "--ping-timeout",
        "1s",
        "--registration-timeout",
        "1s",
    ]);
    let started = Instant::now();
    let mut silent = Client::connect(server.addr(), "silent");
    let mut alive = Client::register(server.addr(), "Alive");
    let mut mute = Client::register(server.addr(), "Mute");
    // `alive` answers its PINGs while it waits.
    alive.wait_for("USERLEAVE #Lobby: Mute");
    let ping = mute.recv_raw();
    assert!(ping.starts_with("PING: "), "{ping}");
    mute.expect(&["ERROR PINGTIMEOUT: no PONG within 1 s"]);
    mute.expect_end();
    silent.expect(&["ERROR REGISTRATIONTIMEOUT: no valid CONNECT within 1 s"]);
    silent.expect_end();
    assert!(started.elapsed() >= Duration::from_secs(2), "a PING interval and a PING timeout");
    // `alive` is still there.
    alive.send("PRIVMSG Alive2: hi");
    alive.expect(&["ERROR NOSUCHNICK: no user named Alive2"]);
}

#[test]
fn a_full_server_refuses_with_a_line() {
    let server = ServerProcess::start(&["--max-clients", "2"]);
    let _a = Client::register(server.addr(), "A");
    let _b = Client::connect(server.addr(), "b");
    let mut c = Client::connect(server.addr(), "c");
    c.expect(&["ERROR SERVERFULL: the server is full (2 clients)"]);
    c.expect_end();
}

#[test]
fn settings_come_from_the_file_and_flags_override_it() {
    let path = std::env::temp_dir().join(format!("voix-server-test-{}.toml", std::process::id()));
    fs::write(&path, "host-name = \"from-the-file\"\nmax-clients = 1\nmax-rooms = 5\n")
        .expect("a temporary file");
    let server = ServerProcess::start(&[
        "--config",
        path.to_str().expect("a UTF-8 path"),
        "--max-rooms",
        "1",
    ]);
    fs::remove_file(&path).expect("the temporary file is removed");
    let mut a = Client::connect(server.addr(), "A");
    a.auto_pong = false;
    a.send_connect();
    a.expect(&["ACCEPT: from-the-file"]);
    a.expect_ping();
    a.wait_for("VOICE #Lobby: <session> <key>");
    a.send("JOIN: #Other");
    a.expect(&["ERROR TOOMANYROOMS: the server has its maximum of 1 rooms"]);
    let mut b = Client::connect(server.addr(), "b");
    b.expect(&["ERROR SERVERFULL: the server is full (1 clients)"]);
}

#[test]
fn a_bad_config_file_is_an_error() {
    let path = std::env::temp_dir().join(format!("voix-server-bad-{}.toml", std::process::id()));
    fs::write(&path, "max-clinets = 1\n").expect("a temporary file");
    let (status, _, stderr) =
        run_to_exit(&["--listen", "127.0.0.1:0", "--config", path.to_str().expect("a UTF-8 path")]);
    fs::remove_file(&path).expect("the temporary file is removed");
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("invalid config file") && stderr.contains("max-clinets"), "{stderr}");
}

#[test]
fn an_output_queue_too_small_for_a_full_room_is_an_error() {
    let (status, _, stderr) =
        run_to_exit(&["--listen", "127.0.0.1:0", "--max-output-queue-bytes", "262144"]);
    assert_eq!(status.code(), Some(1));
    let needed = ServerConfig::default().max_reply_bytes().to_string();
    assert!(stderr.contains("inconsistent settings"), "{stderr}");
    assert!(stderr.contains("262144") && stderr.contains(&needed), "{stderr}");
}

#[test]
fn a_slow_consumer_is_dropped_and_the_others_keep_receiving() {
    const QUEUE: usize = 64 * 1024;
    // Messages the talker may be ahead of the fast clients: well within
    // what the kernel buffers for a client that reads, so that only the
    // client that does not read can fill its queue in the server.
    const WINDOW: usize = 32;
    let server = ServerProcess::start(&[
        "--max-output-queue-bytes",
        &QUEUE.to_string(),
        // Few enough that a full room's USERLIST fits the small queue.
        "--max-clients",
        "100",
        "--command-rate",
        "1000000",
        "--command-burst",
        "1000000",
    ]);
    let addr = server.addr();
    let mut slow = Client::register(addr, "slow");
    let mut talker = Client::register(addr, "talker");
    let fast: Vec<Client> = (0..3).map(|i| Client::register(addr, &format!("fast{i}"))).collect();
    slow.wait_for("USERJOIN #Lobby: fast2");
    // Each fast client reads everything in its own thread, counts the
    // messages, and reports when it sees the slow one leave.
    let (left_tx, left) = mpsc::channel();
    let progress: Vec<_> = fast.iter().map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let readers: Vec<_> = fast
        .into_iter()
        .zip(&progress)
        .map(|(mut client, progress)| {
            let left_tx = left_tx.clone();
            let progress = Arc::clone(progress);
            thread::spawn(move || {
                loop {
                    let line = client.recv();
                    if line.starts_with("USERJOIN ") {
                        continue;
                    } else if line == "USERLEAVE #Lobby: slow" {
                        let _ = left_tx.send(());
                    } else if line == "MSG talker #Lobby: end" {
                        return progress.load(Ordering::SeqCst);
                    } else {
                        let n = line
                            .strip_prefix("MSG talker #Lobby: ")
                            .and_then(|rest| rest.split(' ').next())
                            .and_then(|n| n.parse::<usize>().ok())
                            .unwrap_or_else(|| panic!("{}: unexpected {line}", client.nick));
                        assert_eq!(
                            n,
                            progress.load(Ordering::SeqCst),
                            "{} lost a message",
                            client.nick
                        );
                        progress.store(n + 1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    // The talker sends, never far ahead of the fast clients, until the
    // slow client is dropped; `slow` reads nothing meanwhile.
    let padding = "x".repeat(1000);
    let mut sent = 0;
    let deadline = Instant::now() + TIMEOUT;
    while left.try_recv().is_err() {
        assert!(Instant::now() < deadline, "the slow client was never dropped");
        let slowest = progress.iter().map(|p| p.load(Ordering::SeqCst)).min().unwrap_or(0);
        if sent >= slowest + WINDOW {
            thread::sleep(Duration::from_millis(1));
            continue;
        }
        talker.send(&format!("MSG #Lobby: {sent} {padding}"));
        sent += 1;
    }
    talker.send("MSG #Lobby: end");
    for reader in readers {
        let received = reader.join().expect("a reader thread");
        assert_eq!(received, sent, "every message reached every fast client");
    }
    // The slow client now reads what was queued for it, in the kernel's
    // buffers and then in the core's: a prefix of the messages, then the
    // reason it was dropped, then the end of the stream.
    let mut received = 0;
    loop {
        let line = slow.recv();
        if line.starts_with("ERROR") {
            let reason = format!("more than {QUEUE} bytes of output were waiting");
            assert_eq!(line, format!("ERROR SENDQUEUEFULL: {reason}"));
            break;
        }
        assert!(line.starts_with(&format!("MSG talker #Lobby: {received} ")), "{line}");
        received += 1;
    }
    // Nothing after the reason, `end` included.
    slow.expect_end();
    assert!(received <= sent);
}

#[test]
fn five_hundred_clients_in_the_lobby_receive_one_message() {
    const CLIENTS: usize = 500;
    let server = ServerProcess::start(&[]);
    let addr = server.addr();
    let mut clients: Vec<Client> =
        (0..CLIENTS).map(|i| Client::connect(addr, &format!("user{i}"))).collect();
    // All connected at once: register them all, then read the replies. The
    // server reads the 500 sockets in whatever order they become readable,
    // so the clients join in no particular order: each learns of those
    // before it from its USERLIST and of those after it from USERJOINs.
    for client in &mut clients {
        client.send_connect();
    }
    let mut members: Vec<HashSet<String>> = clients
        .iter_mut()
        .map(|client| client.finish_registration().into_iter().collect())
        .collect();
    // Every client has its ACCEPT, so the server has registered everyone,
    // and the message goes out after every USERJOIN.
    let started = Instant::now();
    clients[0].send("MSG #Lobby: hello, everyone");
    for (client, members) in clients.iter_mut().zip(&mut members).skip(1) {
        for line in client.wait_for("MSG user0 #Lobby: hello, everyone") {
            let joined = line.strip_prefix("USERJOIN #Lobby: ");
            let joined = joined.unwrap_or_else(|| panic!("{}: unexpected {line}", client.nick));
            assert!(members.insert(joined.to_owned()), "{}: {joined} joined twice", client.nick);
        }
        assert_eq!(members.len(), CLIENTS, "{} does not know every member", client.nick);
    }
    let elapsed = started.elapsed();
    assert!(elapsed < TIMEOUT, "{elapsed:?}");
}
