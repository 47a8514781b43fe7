//! Moonraker's push channel: JSON-RPC 2.0 over the websocket at `/websocket`.
//!
//! The feed sends `server.connection.identify` (with the API key when there is one: a
//! websocket's calls need it when Moonraker does not trust the client), then
//! `printer.objects.subscribe` for the same objects a REST status reads. The subscription's
//! answer is the first status; each `notify_status_update` (`[{object: {changed fields}},
//! eventtime]`, at most one per Klippy tick of 0.25 s) is merged onto the last full state
//! ([`ObjectState::merge`]) and mapped by the same [`map_status`](crate::map_status) as a
//! REST read, so a pushed status and a read one cannot disagree.
//!
//! Klippy's own events: `notify_klippy_disconnected` yields the Offline status of a Moonraker
//! without Klippy and forgets the state; `notify_klippy_shutdown` marks `webhooks.state`
//! `shutdown` (when the deltas have not already); `notify_klippy_ready` subscribes again,
//! since a restarted Klippy has forgotten every subscription, and its answer is the next
//! status. A subscription refused while Klippy is not connected yields the status a REST
//! read gives then and waits for `notify_klippy_ready`. Other notifications (process stats,
//! G-code responses, history, files) are skipped. The feed ends with its error when the
//! socket is lost; [`polyprint::watch`] reconnects.

use futures_util::StreamExt;
use polyprint::socket::{Socket, SocketConfig};
use polyprint::watch::StatusFeed;
use polyprint::{Error, PrinterStatus, Result};
use serde_json::{json, Map, Value};

use crate::errors::KLIPPY_NOT_CONNECTED;
use crate::mapping::{map_klippy_down, one_line, status_entries, ObjectState};
use crate::wire::{QueryResult, ServerInfo};
use crate::Moonraker;

/// The path of the socket.
pub const SOCKET_PATH: &str = "websocket";

/// The id of the identify call.
const IDENTIFY_ID: u64 = 1;

/// The `params` of `server.connection.identify`.
pub fn identify_params(api_key: Option<&str>) -> Value {
    let mut p = json!({
        "client_name": "polyprint",
        "version": env!("CARGO_PKG_VERSION"),
        "type": "other",
        "url": "https://example.invalid/polyprint",
    });
    if let Some(k) = api_key {
        p["api_key"] = json!(k);
    }
    p
}

/// The `params` of `printer.objects.subscribe` for object entries.
pub fn subscribe_params<'a, 'b>(
    objects: impl IntoIterator<Item = (&'a str, Option<&'b [&'b str]>)>,
) -> Value {
    let objects: Map<String, Value> = objects
        .into_iter()
        .map(|(name, fields)| (name.to_string(), fields.map_or(Value::Null, |f| json!(f))))
        .collect();
    json!({ "objects": objects })
}

/// A JSON-RPC request.
fn request(method: &str, params: Value, id: u64) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id})
}

/// What one message means for the feed.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// The answer to the call `id`: its `result`, or its error's message.
    Answer {
        /// The call's id (a number; other ids are not ours).
        id: u64,
        /// The result or the error's message.
        result: std::result::Result<Value, String>,
    },
    /// `notify_status_update`: the changed fields.
    Delta(Value),
    /// `notify_klippy_ready`.
    KlippyReady,
    /// `notify_klippy_shutdown`.
    KlippyShutdown,
    /// `notify_klippy_disconnected`.
    KlippyDisconnected,
    /// Anything else.
    Other,
}

/// Classifies a message of the socket.
pub fn classify(message: &Value) -> Message {
    if let Some(id) = message.get("id").and_then(Value::as_u64) {
        if let Some(result) = message.get("result") {
            return Message::Answer {
                id,
                result: Ok(result.clone()),
            };
        }
        if let Some(e) = message.get("error") {
            let text = e
                .get("message")
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_else(|| one_line(&e.to_string()));
            return Message::Answer {
                id,
                result: Err(text),
            };
        }
    }
    match message.get("method").and_then(Value::as_str) {
        Some("notify_status_update") => message
            .get("params")
            .and_then(|p| p.get(0))
            .filter(|d| d.is_object())
            .map(|d| Message::Delta(d.clone()))
            .unwrap_or(Message::Other),
        Some("notify_klippy_ready") => Message::KlippyReady,
        Some("notify_klippy_shutdown") => Message::KlippyShutdown,
        Some("notify_klippy_disconnected") => Message::KlippyDisconnected,
        _ => Message::Other,
    }
}

/// The feed's state between items.
struct Feed {
    client: Moonraker,
    socket: Socket,
    /// The merged objects while subscribed.
    state: Option<ObjectState>,
    /// The id of the subscription call awaiting its answer.
    pending: Option<u64>,
    next_id: u64,
}

impl Feed {
    async fn subscribe(&mut self) -> Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let heaters = self.client.heater_objects();
        let params = subscribe_params(status_entries(&heaters, false));
        self.socket
            .send_json(&request("printer.objects.subscribe", params, id))
            .await?;
        self.pending = Some(id);
        Ok(())
    }

    /// The status while Klippy is not connected, as a REST read gives it.
    fn disconnected() -> PrinterStatus {
        map_klippy_down(&ServerInfo {
            klippy_connected: false,
            klippy_state: "disconnected".into(),
            ..ServerInfo::default()
        })
    }

    /// The next status.
    async fn next(&mut self) -> Result<PrinterStatus> {
        loop {
            let message: Value = self.socket.next_json().await?;
            match classify(&message) {
                Message::Answer { id, result } if Some(id) == self.pending => {
                    self.pending = None;
                    match result {
                        Ok(value) => {
                            let q: QueryResult = serde_json::from_value(value).map_err(|e| {
                                Error::protocol(format!("the subscription's answer: {e}"))
                            })?;
                            let state = ObjectState::from_owned(q.status).ok_or_else(|| {
                                Error::protocol("the subscription's status is not an object")
                            })?;
                            let status = self.client.status_of(&state).await;
                            self.state = Some(state);
                            return Ok(status);
                        }
                        Err(text) => {
                            // Klippy not connected (or going away): show what a read shows
                            // now and wait for `notify_klippy_ready`.
                            let reading = self.client.read(false).await?;
                            let up = reading.objects.is_some();
                            if up && !text.contains(KLIPPY_NOT_CONNECTED) {
                                return Err(Error::protocol(format!(
                                    "Moonraker refused the subscription: {text}"
                                )));
                            }
                            self.state = None;
                            if up {
                                // Klippy came back in between: its `notify_klippy_ready` may
                                // have gone by already. Subscribe again, a tick later.
                                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                                self.subscribe().await?;
                            }
                            return Ok(reading.status);
                        }
                    }
                }
                Message::Answer {
                    id: IDENTIFY_ID,
                    result: Err(text),
                } => {
                    return Err(
                        if text.contains("Unauthorized") || text.contains("API Key") {
                            Error::Auth {
                                message: format!("Moonraker's websocket: {text}"),
                            }
                        } else {
                            Error::protocol(format!("Moonraker refused to identify us: {text}"))
                        },
                    );
                }
                Message::Delta(delta) => {
                    if let Some(state) = &mut self.state {
                        state.merge(&delta);
                        let state = state.clone();
                        return Ok(self.client.status_of(&state).await);
                    }
                }
                Message::KlippyShutdown => {
                    if let Some(state) = &mut self.state {
                        if state.klippy_state() != "shutdown" {
                            state.set("webhooks", "state", json!("shutdown"));
                            let state = state.clone();
                            return Ok(self.client.status_of(&state).await);
                        }
                    }
                }
                Message::KlippyDisconnected => {
                    let was_known = self.state.take().is_some() || self.pending.is_some();
                    self.pending = None;
                    if was_known {
                        return Ok(Feed::disconnected());
                    }
                }
                Message::KlippyReady => {
                    self.state = None;
                    self.subscribe().await?;
                }
                Message::Answer { .. } | Message::Other => {}
            }
        }
    }
}

/// Opens the push channel; see the module docs.
pub(crate) async fn open(client: Moonraker) -> Result<StatusFeed> {
    let mut socket = client
        .transport()
        .websocket(SOCKET_PATH, SocketConfig::default())
        .await?;
    let key = client.api_key().map(|k| k.expose().to_string());
    socket
        .send_json(&request(
            "server.connection.identify",
            identify_params(key.as_deref()),
            IDENTIFY_ID,
        ))
        .await?;
    let mut feed = Feed {
        client,
        socket,
        state: None,
        pending: None,
        next_id: IDENTIFY_ID + 1,
    };
    feed.subscribe().await?;
    let stream = futures_util::stream::unfold(Some(feed), |feed| async move {
        let mut feed = feed?;
        match feed.next().await {
            Ok(status) => Some((Ok(status), Some(feed))),
            // The feed ends after its error (the watcher reconnects).
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(stream.boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified() {
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "result": {"connection_id": 5}, "id": 1})),
            Message::Answer {
                id: 1,
                result: Ok(json!({"connection_id": 5}))
            }
        );
        assert_eq!(
            classify(
                &json!({"jsonrpc": "2.0", "error": {"code": -32602, "message": "Unauthorized"}, "id": 3})
            ),
            Message::Answer {
                id: 3,
                result: Err("Unauthorized".into())
            }
        );
        assert_eq!(
            classify(&json!({"method": "notify_status_update", "params": [{"a": {"b": 1}}, 12.5]})),
            Message::Delta(json!({"a": {"b": 1}}))
        );
        assert_eq!(
            classify(&json!({"method": "notify_status_update", "params": "x"})),
            Message::Other
        );
        assert_eq!(
            classify(&json!({"method": "notify_klippy_ready"})),
            Message::KlippyReady
        );
        assert_eq!(
            classify(&json!({"method": "notify_klippy_shutdown"})),
            Message::KlippyShutdown
        );
        assert_eq!(
            classify(&json!({"method": "notify_klippy_disconnected"})),
            Message::KlippyDisconnected
        );
        assert_eq!(
            classify(&json!({"method": "notify_proc_stat_update"})),
            Message::Other
        );
        assert_eq!(classify(&json!([1, 2])), Message::Other);
        assert_eq!(classify(&json!({"id": "x", "result": 1})), Message::Other);
    }

    #[test]
    fn requests_carry_the_key_only_when_given() {
        assert!(identify_params(None).get("api_key").is_none());
        assert_eq!(identify_params(Some("k"))["api_key"], "k");
        let p = subscribe_params([
            ("webhooks", None),
            ("extruder", Some(&["temperature", "target"][..])),
        ]);
        assert_eq!(
            p,
            json!({"objects": {"webhooks": null, "extruder": ["temperature", "target"]}})
        );
    }
}
