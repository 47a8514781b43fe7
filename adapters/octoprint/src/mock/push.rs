//! The mock's push channel: `/sockjs/websocket` as OctoPrint 1.11.8 serves it (spec §6,
//! samples `sockjs_*.json`), and the passive login that gives its session.
//!
//! On connect the socket sends `connected`; after `{"auth": "<user>:<session>"}` with a
//! session from `POST /api/login {"passive": true}`, it sends `history`, then `timelapse`,
//! then `current` every [`PUSH_EVERY`], each filled from the virtual printer like
//! `/api/printer` and `/api/job`. A new temperature entry comes about every two seconds, as
//! the real server's do, or at once when a reading changed (the virtual printer's readings
//! are exact, so REST and push agree within a push period); otherwise `temps` is `[]`. An unknown session is
//! ignored (the socket stays silent), as the real server ignores it. Not modelled: `event`,
//! `plugin` and `slicingProgress` messages, `throttle`, and the 33 permission records of
//! `connected` (one is sent).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use polyprint::mockserver::{MockSocket, SocketDialect};
use polyprint::sim::{SimView, VirtualPrinter};
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{error, json_body, render, Selection, MOCK_API_KEY};

/// How often `current` is pushed (the real server's cadence).
pub const PUSH_EVERY: Duration = Duration::from_millis(500);

/// Every how many messages a new temperature entry comes (2 s at [`PUSH_EVERY`]).
const TEMPS_EVERY: u64 = 4;

/// The sessions passive logins handed out.
#[derive(Clone, Default)]
pub(crate) struct Sessions(Arc<Mutex<HashSet<String>>>);

impl Sessions {
    fn issue(&self) -> String {
        let session = super::random_token(64);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.clone());
        session
    }

    fn knows(&self, session: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(session)
    }
}

/// `POST /api/login`: a passive login (by API key) answers the user with a new session. A
/// login by user and password fails: the mock's admin has no password (like the spec's
/// setup, where only the key works).
pub(crate) fn login(r: &Request, sessions: &Sessions) -> ResponseTemplate {
    let body = match json_body(r) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    if body.get("passive").and_then(Value::as_bool) != Some(true) {
        return ResponseTemplate::new(403).set_body_raw(Vec::new(), "text/html; charset=utf-8");
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "_credentials_seen": credentials_seen(),
        "_is_external_client": false,
        "_login_mechanism": "apikey",
        "active": true,
        "admin": true,
        "apikey": MOCK_API_KEY,
        "groups": ["admins"],
        "name": render::USER,
        "needs": {"group": ["admins"], "role": ["admin", "status", "control", "connection"]},
        "permissions": [],
        "roles": ["user", "admin"],
        "session": sessions.issue(),
        "settings": {},
        "user": true,
    }))
}

/// Now as OctoPrint writes `_credentials_seen`: `2026-11-21T14:34:15+00:00`.
fn credentials_seen() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// The `/sockjs/websocket` server.
pub(crate) struct Socket {
    pub(crate) sessions: Sessions,
    pub(crate) selection: Selection,
    pub(crate) link: super::Link,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn connected() -> Value {
    json!({"connected": {
        "branch": "HEAD",
        "config_hash": "a51496a0c52643b69bacd96f146d0691",
        "debug": false,
        "display_version": render::VERSION,
        "online": true,
        "permissions": [{
            "dangerous": false,
            "default_groups": ["users", "readonly"],
            "description": "Allows to gather basic status information, e.g. job progress, printer state, temperatures, ... Mandatory for the default UI to work",
            "key": "STATUS",
            "name": "Status",
            "needs": {"role": ["status"]}
        }],
        "plugin_hash": "aa67548d46365da234eac6ce74804354",
        "python_version": "3.11.7",
        "safe_mode": null,
        "version": render::VERSION,
    }})
}

/// One temperature entry without its time: `{tool0: {actual, target}, bed: ..., chamber: ...}`;
/// the real server lists the chamber (all `null`) even when its profile has none.
fn readings(view: &SimView) -> Value {
    let mut entry = json!({ "chamber": {"actual": null, "target": null} });
    if let Value::Object(map) = render::temperatures(view, None) {
        for (heater, reading) in map {
            entry[heater] = json!({"actual": reading["actual"], "target": reading["target"]});
        }
    }
    entry
}

/// `temps` with one entry: `readings` stamped with the time.
fn temps_of(readings: &Value) -> Value {
    let mut entry = readings.clone();
    entry["time"] = json!(now() as u64);
    json!([entry])
}

/// The body of `current` and `history`, from the same renderings as the REST answers, with
/// `temps` as given. Only `current` has `busyFiles`.
fn state_message(
    view: &SimView,
    selection: &Selection,
    link: &super::Link,
    temps: Value,
    current: bool,
) -> Value {
    let mut job = render::job_or_selected(view, selection.file(view).as_ref());
    let detecting = link.detecting();
    if detecting {
        job = super::detecting_job(job);
    }
    let mut message = json!({
        "currentZ": null,
        "job": job["job"],
        "logs": [],
        "markings": [],
        "messages": [],
        "offsets": {},
        "progress": job["progress"],
        "resends": {"count": 0, "ratio": 0, "transmitted": 0},
        "serverTime": now(),
        "state": {
            "error": job.get("error").cloned().unwrap_or(json!("")),
            // While autodetecting no flag is set (closedOrError and operational false).
            "flags": if detecting { render::no_flags() } else { render::flags(&view.phase) },
            "text": job["state"],
        },
        "temps": temps,
    });
    if current {
        message["busyFiles"] = json!([]);
    }
    message
}

impl Socket {
    /// The printer as the server shows it now (an autodetection that is due settled first).
    fn view_of(&self, printer: &VirtualPrinter) -> SimView {
        let mut g = printer.lock();
        self.link.settle(&mut g);
        self.link.view(&g)
    }
}

impl SocketDialect for Socket {
    fn path(&self) -> &str {
        "/sockjs/websocket"
    }

    fn serve(
        self: Arc<Self>,
        socket: MockSocket,
        printer: VirtualPrinter,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let (mut tx, mut rx) = socket.split();
            if !tx.send_json(&connected()).await {
                return;
            }
            // Nothing more until a known session authenticates.
            loop {
                let Some(message) = rx.recv_json().await else {
                    return;
                };
                let session = message
                    .get("auth")
                    .and_then(Value::as_str)
                    .and_then(|a| a.split_once(':'))
                    .map(|(_, s)| s.to_string());
                if session.is_some_and(|s| self.sessions.knows(&s)) {
                    break;
                }
            }
            let view = self.view_of(&printer);
            let mut last = readings(&view);
            let history = state_message(&view, &self.selection, &self.link, temps_of(&last), false);
            if !tx.send_json(&json!({ "history": history })).await
                || !tx.send_json(&json!({"timelapse": null})).await
            {
                return;
            }
            let mut tick = tokio::time::interval(PUSH_EVERY);
            tick.tick().await;
            let mut sent: u64 = 0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        sent += 1;
                        let view = self.view_of(&printer);
                        let now = readings(&view);
                        let temps = if sent.is_multiple_of(TEMPS_EVERY) || now != last {
                            last = now;
                            temps_of(&last)
                        } else {
                            json!([])
                        };
                        let current =
                            state_message(&view, &self.selection, &self.link, temps, true);
                        if !tx.send_json(&json!({ "current": current })).await {
                            return;
                        }
                    }
                    message = rx.recv_json() => {
                        if message.is_none() {
                            return;
                        }
                    }
                }
            }
        })
    }
}

/// Answers `POST /api/login` (the dialect routes it here).
pub(crate) fn route(r: &Request, sessions: &Sessions) -> ResponseTemplate {
    match r.method.as_str() {
        "POST" => login(r, sessions),
        _ => error(405, "Method Not Allowed"),
    }
}
