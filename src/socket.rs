//! Push channels: a WebSocket to the same origin as a [`Transport`], for backends whose
//! server pushes status (OctoPrint's `/sockjs/websocket`, Moonraker's `/websocket`).
//!
//! The socket is opened with the transport's base URL (`http` becomes `ws`, `https` becomes
//! `wss`) and its credential header, so it never goes anywhere a request would not. It is
//! bounded like the transport: the handshake within the connect and request timeouts, a
//! message at most [`MAX_MESSAGE_BYTES`], and a connection that says nothing (not even a
//! pong to our pings) for [`SocketConfig::silence`] counts as lost. No redirect is followed.
//! Every failure maps to the [`Error`] kinds of the transport.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};
use crate::transport::{snippet, Transport};

/// The largest message a push channel accepts (OctoPrint's `history` with its log lines is
/// about 45 KB).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// Timing of a push channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketConfig {
    /// How often to ping the server while it is quiet (default 10 s).
    pub ping_every: Duration,
    /// How long the server may say nothing at all before the connection counts as lost
    /// (default 30 s).
    pub silence: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            ping_every: Duration::from_secs(10),
            silence: Duration::from_secs(30),
        }
    }
}

/// An open push channel; see the module docs. Closed when dropped.
pub struct Socket {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    endpoint: String,
    config: SocketConfig,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Transport {
    /// Opens a WebSocket at `path` of this transport's origin, sending its credential header
    /// with the handshake. A handshake answered 401 or 403 is [`Error::Auth`], a redirect
    /// [`Error::Redirected`] (not followed), another status [`Error::Api`].
    pub async fn websocket(&self, path: &str, config: SocketConfig) -> Result<Socket> {
        let mut url = self.url(path)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|_| Error::invalid("URL", "cannot be turned into a WebSocket URL"))?;
        let endpoint = crate::transport::shown_url(&url);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::invalid("URL", e.to_string()))?;
        if let Some((name, value)) = self.auth_header() {
            request.headers_mut().insert(name, value);
        }
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let bound = self.config().connect_timeout + self.config().request_timeout;
        let connecting =
            tokio_tungstenite::connect_async_with_config(request, Some(ws_config), true);
        let (inner, _) = match tokio::time::timeout(bound, connecting).await {
            Err(_) => {
                return Err(Error::Timeout {
                    endpoint,
                    after: bound,
                })
            }
            Ok(Err(e)) => return Err(handshake_error(e, &endpoint)),
            Ok(Ok(pair)) => pair,
        };
        Ok(Socket {
            inner,
            endpoint,
            config,
        })
    }
}

fn handshake_error(e: tungstenite::Error, endpoint: &str) -> Error {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().map(snippet).unwrap_or_default();
            match status {
                401 | 403 => Error::Auth {
                    message: format!("the push channel answered {status}: {body}"),
                },
                301..=308 => Error::Redirected {
                    endpoint: endpoint.to_string(),
                    status,
                    location: response
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .map(crate::transport::redacted_url_text)
                        .unwrap_or_default(),
                },
                _ => Error::Api {
                    status,
                    message: format!("the push channel is not available: {body}"),
                },
            }
        }
        tungstenite::Error::Io(io) => Error::Unreachable {
            endpoint: endpoint.to_string(),
            message: io.to_string(),
            cause: Some(crate::error::Cause::new(io)),
        },
        other => stream_error(other, endpoint),
    }
}

fn stream_error(e: tungstenite::Error, endpoint: &str) -> Error {
    match e {
        tungstenite::Error::Io(io) => Error::Unreachable {
            endpoint: endpoint.to_string(),
            message: format!("the push channel broke: {io}"),
            cause: Some(crate::error::Cause::new(io)),
        },
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => closed(endpoint),
        tungstenite::Error::Capacity(c) => {
            Error::protocol(format!("the push channel sent too much: {c}"))
        }
        other => Error::protocol(format!("the push channel: {other}")),
    }
}

fn closed(endpoint: &str) -> Error {
    Error::unreachable(endpoint, "the push channel was closed")
}

impl Socket {
    /// Sends a JSON message as text.
    pub async fn send_json(&mut self, value: &serde_json::Value) -> Result<()> {
        let text =
            serde_json::to_string(value).map_err(|e| Error::invalid("message", e.to_string()))?;
        self.inner
            .send(Message::text(text))
            .await
            .map_err(|e| stream_error(e, &self.endpoint))
    }

    /// The next text or binary message, decoded as `T`. Answers pings, pings a quiet server
    /// every [`SocketConfig::ping_every`], and fails when nothing arrives for
    /// [`SocketConfig::silence`]. A closed channel is [`Error::Unreachable`]; a message that
    /// is not `T` is [`Error::Protocol`] (the channel stays usable).
    pub async fn next_json<T: DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.next_message().await?;
        crate::transport::json_from_bytes(&bytes).map_err(|e| {
            Error::protocol_from(
                format!("undecodable push message ({e}): {}", snippet(&bytes)),
                e,
            )
        })
    }

    async fn next_message(&mut self) -> Result<bytes::Bytes> {
        let mut heard = tokio::time::Instant::now();
        let mut pinged = false;
        loop {
            let give_up = heard + self.config.silence;
            let wake = if pinged {
                give_up
            } else {
                (heard + self.config.ping_every).min(give_up)
            };
            match tokio::time::timeout_at(wake, self.inner.next()).await {
                Ok(next) => match self.take(next)? {
                    Some(bytes) => return Ok(bytes),
                    None => {
                        heard = tokio::time::Instant::now();
                        pinged = false;
                    }
                },
                Err(_) if tokio::time::Instant::now() >= give_up => {
                    return Err(Error::Timeout {
                        endpoint: self.endpoint.clone(),
                        after: self.config.silence,
                    })
                }
                Err(_) => {
                    self.inner
                        .send(Message::Ping(bytes::Bytes::new()))
                        .await
                        .map_err(|e| stream_error(e, &self.endpoint))?;
                    pinged = true;
                }
            }
        }
    }

    /// A data message's bytes, `None` for a control frame, or the error that ends the channel.
    fn take(
        &mut self,
        next: Option<std::result::Result<Message, tungstenite::Error>>,
    ) -> Result<Option<bytes::Bytes>> {
        match next {
            None => Err(closed(&self.endpoint)),
            Some(Err(e)) => Err(stream_error(e, &self.endpoint)),
            Some(Ok(Message::Text(t))) => Ok(Some(bytes::Bytes::from(t))),
            Some(Ok(Message::Binary(b))) => Ok(Some(b)),
            Some(Ok(Message::Close(_))) => Err(closed(&self.endpoint)),
            // tungstenite answers pings itself; pongs and raw frames only show life.
            Some(Ok(_)) => Ok(None),
        }
    }
}
