//! Voice credentials from a real `voix-server`: members register, callers
//! ring their partners (who accept), room members join their rooms, and
//! each waits for the `VOICE` line of its call or room. Afterwards every
//! member stays connected, reading, until the scenario is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use voix_proto::voice::VoiceEndpoint;
use voix_proto::wire::{ClientCommand, ServerMessage, TalkAction, VoiceScope};
use voix_proto::{Nick, Room};

use super::super::chat::{self, Client};
use super::super::{Dialect, LoadError, Target};
use super::groups::{Groups, Role};

/// Members registering at once.
const JOIN_CONCURRENCY: usize = 100;

/// The longest setting up every call and room may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Members connected to the server, each holding its credential.
#[derive(Debug)]
pub struct Members {
    /// Member `i`'s endpoint for its call or room.
    pub endpoints: Vec<VoiceEndpoint>,
    /// The members' connections, reading until the scenario ends; each
    /// returns the refusals it saw.
    pub connections: JoinSet<Vec<String>>,
}

/// Registers every member of `groups` on `target`, sets up their calls and
/// rooms, and returns their credentials. `ready` counts members with one.
pub async fn members(
    target: &Target,
    groups: Groups,
    ready: Arc<AtomicU64>,
    stop: watch::Receiver<bool>,
) -> Result<Members, LoadError> {
    let count = groups.members();
    let run_tag = chat::run_tag();
    let nick = move |member: usize| chat::nick('v', run_tag, member);
    let deadline = tokio::time::Instant::now() + SETUP_TIMEOUT;
    let timeout = || LoadError::Timeout {
        step: "setting up calls and rooms",
        seconds: SETUP_TIMEOUT.as_secs(),
    };

    // Everyone registers before anyone rings, so that no call finds its
    // partner missing.
    let joined = chat::join_many(target.addr, Dialect::Voix, count, JOIN_CONCURRENCY, nick);
    let clients = tokio::time::timeout_at(deadline, joined).await.map_err(|_| timeout())??;

    let (credential, mut credentials) = mpsc::unbounded_channel();
    let mut connections = JoinSet::new();
    for (member, client) in clients.into_iter().enumerate() {
        let role = groups.role(member);
        let peer = match role {
            Role::Caller { peer } | Role::Callee { peer } => Some(nick(peer)),
            Role::Room { .. } => None,
        };
        let (credential, stop, ready) = (credential.clone(), stop.clone(), Arc::clone(&ready));
        connections.spawn(async move {
            let mut client = client;
            let result = obtain(&mut client, role, peer.as_deref()).await;
            let failed = result.is_err();
            ready.fetch_add(u64::from(!failed), Ordering::Relaxed);
            // The receiver waits for every member; a failed send means
            // the run already failed.
            let _ = credential.send((member, result));
            if failed { Vec::new() } else { client.idle(stop).await }
        });
    }
    drop(credential);
    let mut endpoints: Vec<Option<VoiceEndpoint>> = (0..count).map(|_| None).collect();
    for _ in 0..count {
        let (member, endpoint) = tokio::time::timeout_at(deadline, credentials.recv())
            .await
            .map_err(|_| timeout())?
            .ok_or_else(timeout)?;
        endpoints[member] = Some(endpoint?);
    }
    let endpoints = endpoints.into_iter().collect::<Option<Vec<_>>>().ok_or_else(timeout)?;
    Ok(Members { endpoints, connections })
}

/// Carries out `role` and waits for its `VOICE` credential.
async fn obtain(
    client: &mut Client,
    role: Role,
    peer: Option<&str>,
) -> Result<VoiceEndpoint, LoadError> {
    let invalid = |e: voix_proto::NameError| LoadError::Usage(e.to_string());
    let mut out = BytesMut::new();
    let room_name = match role {
        Role::Room { room } => Some(format!("#v{room}")),
        Role::Caller { .. } | Role::Callee { .. } => None,
    };
    match (role, peer, &room_name) {
        (Role::Caller { .. }, Some(peer), _) => {
            ClientCommand::Talk {
                peer: Nick::new(peer).map_err(invalid)?,
                action: TalkAction::Request,
            }
            .encode(&mut out);
        }
        (Role::Room { .. }, _, Some(room)) => {
            ClientCommand::Join { room: Room::new(room).map_err(invalid)? }.encode(&mut out);
        }
        _ => {}
    }
    client.send(&out).await?;
    loop {
        out.clear();
        let mut found = None;
        while let Some(line) = client.lines.next_line() {
            let Ok(message) = ServerMessage::parse(line) else {
                continue; // Lines this tool need not understand.
            };
            match message {
                ServerMessage::Ping { token } => ClientCommand::Pong { token }.encode(&mut out),
                ServerMessage::Talk { peer: from, action: TalkAction::Request }
                    if matches!(role, Role::Callee { .. }) && Some(from.as_str()) == peer =>
                {
                    ClientCommand::Talk { peer: from, action: TalkAction::Accept }.encode(&mut out);
                }
                ServerMessage::Talk { action: TalkAction::Deny | TalkAction::End, .. } => {
                    return Err(chat::refusal(&client.nick, line));
                }
                ServerMessage::Voice { scope, session, key } => {
                    let wanted = match &scope {
                        VoiceScope::Call(nick) => Some(nick.as_str()) == peer,
                        VoiceScope::Room(room) => Some(room.as_str()) == room_name.as_deref(),
                    };
                    if wanted {
                        found = Some(VoiceEndpoint::new(session, key));
                    }
                }
                ServerMessage::Error { .. } => return Err(chat::refusal(&client.nick, line)),
                _ => {}
            }
        }
        client.send(&out).await?;
        if let Some(endpoint) = found {
            return Ok(endpoint);
        }
        if !client.lines.fill().await.map_err(|e| client.failed(&e))? {
            return Err(client.failed(&"the server closed the connection"));
        }
    }
}
