//! One TCP connection as the signalling task sees it: a reader task that
//! forwards bytes, and a write half that is either idle (held by the
//! signalling task) or lent to a task finishing a write.

use std::io;
use std::mem;
use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use voix_proto::server::ConnectionId;

use super::Input;

/// Most bytes taken from a socket in one read.
const READ_CHUNK: usize = 16 * 1024;

/// The signalling task's handle on one connection. Dropping it ends the
/// connection's tasks and closes the socket.
#[derive(Debug)]
pub(super) struct Connection {
    /// The peer's address, for logs.
    pub(super) peer: SocketAddr,
    /// The connection is ending: once its last output is written, the
    /// write side is shut down.
    pub(super) closing: bool,
    /// The peer finished sending: once the write side is shut down too,
    /// the connection is gone.
    pub(super) read_ended: bool,
    writer: Writer,
    reader: AbortHandle,
}

/// Where the write half of the socket is.
#[derive(Debug)]
enum Writer {
    /// Nothing is being written; the next batch can go out at once.
    Idle(OwnedWriteHalf),
    /// A task is writing the end of a batch the socket did not take at
    /// once; it gives the half back with [`Input::Written`].
    Busy(AbortHandle),
    /// The write side is shut down, or broke.
    Shut,
}

impl Connection {
    /// Starts the reader task of a freshly accepted socket.
    pub(super) fn start(
        id: ConnectionId,
        peer: SocketAddr,
        read: OwnedReadHalf,
        write: OwnedWriteHalf,
        inputs: &mpsc::Sender<Input>,
    ) -> Self {
        let reader = tokio::spawn(read_loop(id, read, inputs.clone())).abort_handle();
        Self { peer, closing: false, read_ended: false, writer: Writer::Idle(write), reader }
    }

    /// If no write is in progress, writes the batch that `take` gives, if
    /// any: as much as the socket takes at once, without waiting, and the
    /// rest in a task that reports back with [`Input::Written`]. `take` is
    /// called only then, so that output the peer is not ready for stays
    /// with the core and counts against its queue limit.
    ///
    /// Once the connection is [`closing`](Self::closing) and its last
    /// output is written, the write side is shut down (the peer reads the
    /// end of the stream), while reading goes on until the peer closes
    /// too, so that unread input does not turn the close into a reset that
    /// could discard the last lines.
    pub(super) fn pump(
        &mut self,
        id: ConnectionId,
        inputs: &mpsc::Sender<Input>,
        take: impl FnOnce() -> Option<Bytes>,
    ) -> io::Result<()> {
        let half = match mem::replace(&mut self.writer, Writer::Shut) {
            Writer::Idle(half) => half,
            busy_or_shut => {
                self.writer = busy_or_shut;
                return Ok(());
            }
        };
        if let Some(batch) = take() {
            let done = write_now(&half, &batch)?;
            if done < batch.len() {
                let rest = batch.slice(done..);
                let task = tokio::spawn(write_rest(id, half, rest, inputs.clone()));
                self.writer = Writer::Busy(task.abort_handle());
                return Ok(());
            }
        }
        if !self.closing {
            self.writer = Writer::Idle(half);
        }
        // Otherwise the half is dropped here, which shuts its direction down.
        Ok(())
    }

    /// Whether the write side is shut down (or broke).
    pub(super) fn is_shut(&self) -> bool {
        matches!(self.writer, Writer::Shut)
    }

    /// Takes back the write half after a background write finished.
    pub(super) fn write_finished(&mut self, half: OwnedWriteHalf) {
        self.writer = Writer::Idle(half);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        if let Writer::Busy(task) = &self.writer {
            task.abort();
        }
    }
}

/// Reads until the end of the stream, forwarding every chunk to the
/// signalling task. Sending waits while the signalling task is behind,
/// which stops reading: input is pushed back to the peer, never piled up.
async fn read_loop(id: ConnectionId, read: OwnedReadHalf, inputs: mpsc::Sender<Input>) {
    let error = loop {
        if let Err(e) = read.readable().await {
            break Some(e);
        }
        match read_now(&read) {
            Ok(Some(bytes)) => {
                if inputs.send(Input::Received { id, bytes }).await.is_err() {
                    // The signalling task is gone: the server is stopping.
                    return;
                }
            }
            Ok(None) => break None,
            Err(e) if is_transient(&e) => {}
            Err(e) => break Some(e),
        }
    };
    // If the signalling task is gone, nobody needs to know.
    let _ = inputs.send(Input::ReadEnded { id, error }).await;
}

/// Reads what the socket has, into a buffer on the stack so that an idle
/// connection holds no read buffer; `None` at the end of the stream.
fn read_now(read: &OwnedReadHalf) -> io::Result<Option<Bytes>> {
    let mut buf = [0; READ_CHUNK];
    match read.try_read(&mut buf)? {
        0 => Ok(None),
        n => Ok(Some(Bytes::copy_from_slice(&buf[..n]))),
    }
}

/// Writes as much of `batch` as the socket takes without waiting.
fn write_now(half: &OwnedWriteHalf, batch: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < batch.len() {
        match half.try_write(&batch[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Writes the rest of a batch, however long the peer takes, and gives the
/// write half back. The signalling task bounds the wait where it matters
/// (closing), and the core bounds what piles up meanwhile.
async fn write_rest(
    id: ConnectionId,
    mut half: OwnedWriteHalf,
    rest: Bytes,
    inputs: mpsc::Sender<Input>,
) {
    let result = half.write_all(&rest).await.map(|()| half);
    // If the signalling task is gone, the half is dropped with the message.
    let _ = inputs.send(Input::Written { id, result }).await;
}

/// Read errors that only mean "try again".
fn is_transient(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}
