//! The mock's websocket: `/websocket`, JSON-RPC 2.0, as Moonraker 0.11 serves it (spec §7,
//! samples `ws_subscribe_stream.json` and `run2/ws_session.json`).
//!
//! Calls: `server.connection.identify` (`{"connection_id"}`; a second one is refused, a wrong
//! `api_key` is `Invalid API Key`), `printer.objects.subscribe` (the full values of the
//! objects asked for; it replaces an earlier subscription), `printer.objects.query`,
//! `server.info`; anything else is `-32601 Method not found`, and while the mock requires a
//! key every call before an identify with it is `-32602 Unauthorized`. Every [`TICK`] the
//! subscribed objects are compared with what was last sent and the changed fields go out as
//! `notify_status_update` `[{object: {field: value}}, eventtime]`; once a second
//! `notify_proc_stat_update`. Klippy's events: `notify_klippy_disconnected` when the virtual
//! printer disconnects, the `webhooks` delta then `notify_klippy_shutdown` when it fails,
//! `notify_klippy_ready` when it is back or after a restart (preceded by
//! `notify_klippy_disconnected`); a restart forgets the subscription, as Klippy does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use polyprint::mockserver::{MockSocket, SocketDialect};
use polyprint::sim::VirtualPrinter;
use serde_json::{json, Map, Value};

use super::render::{self, Klippy};
use super::{Shared, MOCK_API_KEY};

/// How often subscribed objects are compared and changes pushed (Klippy's status tick).
pub const TICK: Duration = Duration::from_millis(250);

/// The `/websocket` server.
pub(crate) struct Socket {
    pub(crate) state: Shared,
}

type Spec = Vec<(String, Option<Vec<String>>)>;

/// One connection.
struct Conn {
    id: u64,
    identified: bool,
    authorized: bool,
    subscription: Option<Spec>,
    last: Map<String, Value>,
    /// Klippy's state and restart count last seen.
    klippy: (&'static str, u64),
    ticks: u64,
}

fn notify(method: &str, params: Option<Value>) -> Value {
    match params {
        Some(p) => json!({"jsonrpc": "2.0", "method": method, "params": p}),
        None => json!({"jsonrpc": "2.0", "method": method}),
    }
}

fn answer(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "result": result, "id": id})
}

fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id})
}

fn spec_of(objects: &Value) -> Option<Spec> {
    let map = objects.as_object()?;
    Some(
        map.iter()
            .map(|(name, fields)| {
                let fields = fields.as_array().map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                });
                (name.clone(), fields)
            })
            .collect(),
    )
}

/// The fields of `now` that differ from `before`, by object.
fn delta(before: &Map<String, Value>, now: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, fields) in now {
        let Some(fields) = fields.as_object() else {
            continue;
        };
        let old = before.get(name).and_then(Value::as_object);
        let changed: Map<String, Value> = fields
            .iter()
            .filter(|(k, v)| old.and_then(|o| o.get(*k)) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !changed.is_empty() {
            out.insert(name.clone(), Value::Object(changed));
        }
    }
    out
}

impl Conn {
    fn handle(&mut self, message: Value, printer: &VirtualPrinter, shared: &Shared) -> Vec<Value> {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return vec![error(&id, -32600, "Invalid Request")];
        };
        let params = message.get("params").cloned().unwrap_or(json!({}));
        let g = printer.lock();
        let view = g.view();
        let mut st = shared.lock();
        st.observe(&view);
        if method == "server.connection.identify" {
            if self.identified {
                return vec![error(
                    &id,
                    400,
                    &format!("Connection already identified: {params}"),
                )];
            }
            match params.get("api_key").and_then(Value::as_str) {
                Some(k) if k != MOCK_API_KEY => return vec![error(&id, 401, "Invalid API Key")],
                Some(_) => self.authorized = true,
                None => {}
            }
            self.identified = true;
            return vec![answer(&id, json!({ "connection_id": self.id }))];
        }
        if !self.authorized && st.require_key {
            return vec![error(&id, -32602, "Unauthorized")];
        }
        let k = render::klippy(&view, &st);
        let eventtime = render::eventtime(&view);
        match method {
            "server.info" => vec![answer(&id, render::server_info(&view, &st, st.websockets))],
            "printer.objects.subscribe" | "printer.objects.query" => {
                if !k.connected {
                    return vec![error(&id, 503, crate::errors::KLIPPY_NOT_CONNECTED)];
                }
                let Some(spec) = spec_of(params.get("objects").unwrap_or(&Value::Null)) else {
                    return vec![error(&id, 400, "Invalid argument: objects")];
                };
                let status = render::query(&render::objects(&view, &st), &spec);
                if method == "printer.objects.subscribe" {
                    self.subscription = Some(spec);
                    self.last = status.clone();
                }
                vec![answer(
                    &id,
                    json!({"eventtime": eventtime, "status": status}),
                )]
            }
            _ => vec![error(&id, -32601, "Method not found")],
        }
    }

    fn tick(&mut self, printer: &VirtualPrinter, shared: &Shared) -> Vec<Value> {
        let g = printer.lock();
        let view = g.view();
        let mut st = shared.lock();
        st.observe(&view);
        let k: Klippy = render::klippy(&view, &st);
        let now = (k.state, st.generation);
        let (before, generation) = self.klippy;
        let mut out = Vec::new();
        let restarted =
            now != self.klippy && k.ready() && (before != "ready" || generation != st.generation);
        if k.state == "disconnected" && before != "disconnected" {
            out.push(notify("notify_klippy_disconnected", None));
            self.subscription = None;
        } else if restarted {
            if before != "disconnected" {
                out.push(notify("notify_klippy_disconnected", None));
            }
            out.push(notify("notify_klippy_ready", None));
            self.subscription = None;
        } else if let Some(spec) = &self.subscription {
            let status = render::query(&render::objects(&view, &st), spec);
            let changed = delta(&self.last, &status);
            if !changed.is_empty() {
                out.push(notify(
                    "notify_status_update",
                    Some(json!([changed, render::eventtime(&view)])),
                ));
                self.last = status;
            }
        }
        if k.state == "shutdown" && before != "shutdown" {
            out.push(notify("notify_klippy_shutdown", None));
        }
        self.klippy = now;
        self.ticks += 1;
        if self.ticks.is_multiple_of(4) {
            out.push(notify(
                "notify_proc_stat_update",
                Some(json!([{
                    "moonraker_stats": {"time": view.unix_now, "cpu_usage": 0.5, "memory": 51_000, "mem_units": "kB"},
                    "cpu_temp": null,
                    "network": {"lo": {"rx_bytes": 0, "tx_bytes": 0, "bandwidth": 0.0}},
                    "system_cpu_usage": {"cpu": 1.0},
                    "system_memory": {"total": 24_000_000, "available": 23_000_000, "used": 1_000_000},
                    "websocket_connections": st.websockets,
                }])),
            ));
        }
        out
    }
}

/// Counts an open socket while it lives.
struct Open(Shared);

impl Drop for Open {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.websockets = st.websockets.saturating_sub(1);
    }
}

impl SocketDialect for Socket {
    fn path(&self) -> &str {
        "/websocket"
    }

    fn serve(
        self: Arc<Self>,
        socket: MockSocket,
        printer: VirtualPrinter,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let (connection_id, klippy) = {
                let g = printer.lock();
                let view = g.view();
                let mut st = self.state.lock();
                st.observe(&view);
                st.websockets += 1;
                let k = render::klippy(&view, &st);
                (
                    0x7F00_0000_0000_u64 + st.generation * 1000 + st.websockets as u64,
                    (k.state, st.generation),
                )
            };
            let _open = Open(self.state.clone());
            let mut conn = Conn {
                id: connection_id,
                identified: false,
                authorized: false,
                subscription: None,
                last: Map::new(),
                klippy,
                ticks: 0,
            };
            let (mut tx, mut rx) = socket.split();
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let out = tokio::select! {
                    _ = tick.tick() => conn.tick(&printer, &self.state),
                    message = rx.recv_json() => match message {
                        Some(m) => conn.handle(m, &printer, &self.state),
                        None => return,
                    },
                };
                for m in out {
                    if !tx.send_json(&m).await {
                        return;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_hold_only_changed_fields() {
        let before = json!({"a": {"x": 1, "y": 2}, "b": {"z": 3}});
        let now = json!({"a": {"x": 1, "y": 5}, "b": {"z": 3}, "c": {"w": null}});
        let d = delta(before.as_object().unwrap(), now.as_object().unwrap());
        assert_eq!(Value::Object(d), json!({"a": {"y": 5}, "c": {"w": null}}));
        assert!(spec_of(&json!("bad")).is_none());
        assert_eq!(
            spec_of(&json!({"a": null, "b": ["x"]})).unwrap(),
            vec![
                ("a".to_string(), None),
                ("b".to_string(), Some(vec!["x".to_string()]))
            ]
        );
    }
}
