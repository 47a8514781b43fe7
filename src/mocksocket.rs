//! Push sockets for mock servers: a front door on the mock's port that hands a WebSocket
//! upgrade for the dialect's socket path to a [`SocketDialect`] and passes every other
//! connection, byte for byte, to the `wiremock` server behind it (which cannot upgrade).
//!
//! The upgrade request is journaled like any request and takes the next queued read fault:
//! a status fault answers the handshake with that status, a hang holds it, any other fault
//! closes the connection. [`Fault::SocketsDown`]
//! closes every open socket at once (no close frame: a lost connection) and closes new ones
//! until the faults are cleared.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::mockserver::{Fault, Recorded, Shared};
use crate::sim::VirtualPrinter;

/// A WebSocket a mock's dialect serves beside its HTTP routes (OctoPrint's
/// `/sockjs/websocket`).
pub trait SocketDialect: Send + Sync + 'static {
    /// The path it answers, e.g. `/sockjs/websocket`.
    fn path(&self) -> &str;
    /// Serves one accepted socket until the client leaves (the server may also abort it).
    fn serve(
        self: Arc<Self>,
        socket: MockSocket,
        printer: VirtualPrinter,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The longest request head the front door reads before deciding where it goes.
const MAX_HEAD: usize = 64 * 1024;

type Ws = WebSocketStream<Prefixed>;

/// One accepted socket of a mock: JSON text messages both ways.
pub struct MockSocket {
    ws: Ws,
}

/// The sending half of a [`MockSocket`].
pub struct MockSocketTx(SplitSink<Ws, Message>);

/// The receiving half of a [`MockSocket`].
pub struct MockSocketRx(SplitStream<Ws>);

impl MockSocket {
    /// The two halves, to send and receive at once.
    pub fn split(self) -> (MockSocketTx, MockSocketRx) {
        let (tx, rx) = self.ws.split();
        (MockSocketTx(tx), MockSocketRx(rx))
    }
}

impl MockSocketTx {
    /// Sends a JSON text message; `false` once the client is gone.
    pub async fn send_json(&mut self, value: &Value) -> bool {
        self.0.send(Message::text(value.to_string())).await.is_ok()
    }
}

impl MockSocketRx {
    /// The next text message as JSON (text that is not JSON is a JSON string); `None` once
    /// the client is gone.
    pub async fn recv_json(&mut self) -> Option<Value> {
        loop {
            match self.0.next().await? {
                Ok(Message::Text(t)) => {
                    let text = t.as_str();
                    return Some(
                        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
                    );
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

/// The open sockets of one mock server, to close them on a fault.
#[derive(Clone, Default)]
pub(crate) struct OpenSockets(Arc<Mutex<Vec<AbortHandle>>>);

impl OpenSockets {
    fn add(&self, handle: AbortHandle) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|h| !h.is_finished());
        list.push(handle);
    }

    /// Closes every open socket (the connections drop without a close frame).
    pub(crate) fn close_all(&self) {
        for h in self.0.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            h.abort();
        }
    }
}

/// What the front door needs to serve one mock.
pub(crate) struct FrontDoor {
    pub(crate) upstream: SocketAddr,
    pub(crate) dialect: Arc<dyn SocketDialect>,
    pub(crate) printer: VirtualPrinter,
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) sockets: OpenSockets,
}

impl FrontDoor {
    /// Accepts connections until aborted; aborting it ends every connection it accepted.
    pub(crate) async fn run(self: Arc<Self>, listener: TcpListener) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            while connections.try_join_next().is_some() {}
            connections.spawn(self.clone().connection(stream));
        }
    }

    async fn connection(self: Arc<Self>, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let Some(head) = read_head(&mut stream).await else {
            return;
        };
        let request = parse_head(&head);
        let upgrade = request.as_ref().is_some_and(|r| {
            r.path == self.dialect.path()
                && r.headers
                    .iter()
                    .any(|(k, v)| k == "upgrade" && v.eq_ignore_ascii_case("websocket"))
        });
        if !upgrade {
            self.pass_on(stream, head).await;
            return;
        }
        let Some(request) = request else { return };
        match self.admit(request) {
            Admission::Open => {}
            Admission::Status(status) => {
                let answer = format!(
                    "HTTP/1.1 {status} Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                return;
            }
            Admission::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Admission::Close => return,
        }
        let prefixed = Prefixed {
            head,
            read: 0,
            inner: stream,
        };
        let Ok(ws) = tokio_tungstenite::accept_async(prefixed).await else {
            return;
        };
        let serving = tokio::spawn(
            self.dialect
                .clone()
                .serve(MockSocket { ws }, self.printer.clone()),
        );
        self.sockets.add(serving.abort_handle());
        let _ = serving.await;
    }

    /// Journals an upgrade request and decides what the faults make of it.
    fn admit(&self, request: Recorded) -> Admission {
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        let faults = &mut shared.faults;
        let admission = if faults.sockets_down {
            Admission::Close
        } else {
            match faults.take(true) {
                None => Admission::Open,
                Some(Fault::Status { status, .. }) => Admission::Status(status),
                Some(Fault::Hang) => Admission::Hang,
                Some(_) => Admission::Close,
            }
        };
        let faulted = !matches!(admission, Admission::Open);
        shared.journal.push(Recorded { faulted, ..request });
        admission
    }

    /// Hands a plain HTTP connection to the wiremock server behind the door.
    async fn pass_on(&self, mut stream: TcpStream, head: Vec<u8>) {
        let Ok(mut upstream) = TcpStream::connect(self.upstream).await else {
            return;
        };
        let _ = upstream.set_nodelay(true);
        if upstream.write_all(&head).await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
    }
}

enum Admission {
    Open,
    Status(u16),
    Hang,
    Close,
}

/// Reads until the end of the request head (or the connection's end, or [`MAX_HEAD`]).
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return (!head.is_empty()).then_some(head);
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() >= MAX_HEAD {
            return Some(head);
        }
    }
}

/// The request line and headers of a head, as the journal records them.
fn parse_head(head: &[u8]) -> Option<Recorded> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Recorded {
        method,
        path,
        query,
        headers,
        body: Vec::new(),
        faulted: false,
    })
}

/// A connection whose first bytes were already read: they are read again first.
pub(crate) struct Prefixed {
    head: Vec<u8>,
    read: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.read < self.head.len() {
            let n = buf.remaining().min(self.head.len() - self.read);
            let start = self.read;
            buf.put_slice(&self.head[start..start + n]);
            self.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_parsed_for_the_journal() {
        let head = b"GET /sockjs/websocket?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
        let r = parse_head(head).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/sockjs/websocket")
        );
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(r.header("upgrade"), Some("websocket"));
        assert!(parse_head(b"").is_none());
    }
}
