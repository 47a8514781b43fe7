//! OctoPrint's push channel: the plain WebSocket at `/sockjs/websocket`.
//!
//! A passive login (`POST /api/login {"passive": true}` with the API key) gives a session;
//! `{"auth": "<user>:<session>"}` on the socket starts the messages: `history` at once, then
//! `current` about every 0.5 s (OctoPrint 1.11.8, measured). Both carry `state`, `job`,
//! `progress` and new `temps` entries; [`status_of`] turns them into the same
//! `/api/printer` and `/api/job` bodies a REST read decodes and maps them with the one
//! [`map_status`], so a pushed status and a read one cannot disagree. Other messages
//! (`connected`, `timelapse`, `event`, `plugin`, ...) are skipped; `reauthRequired` ends the
//! feed with [`Error::Auth`] (the watcher logs in again).

use futures_util::StreamExt;
use polyprint::socket::{Socket, SocketConfig};
use polyprint::transport::{Body, Idempotency, Request};
use polyprint::watch::StatusFeed;
use polyprint::{Error, PrinterStatus, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::errors::check;
use crate::mapping::map_status;
use crate::wire::{JobInfo, JobResponse, PrinterResponse, PrinterState, Progress, Temperatures};
use crate::OctoPrint;

/// The path of the socket.
pub const SOCKET_PATH: &str = "sockjs/websocket";

/// The part of `POST /api/login` the channel needs.
#[derive(Deserialize)]
struct Login {
    name: String,
    session: String,
}

/// `current` and `history`: what a status needs of them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PushState {
    /// The state, with its flags (sent while offline too).
    pub state: PrinterState,
    /// The job, as in `/api/job`.
    #[serde(default)]
    pub job: Option<JobInfo>,
    /// The progress, as in `/api/job`.
    #[serde(default)]
    pub progress: Option<Progress>,
    /// Temperature entries since the last message (`history`: the recent ones; `current`:
    /// often none), each `{time, tool0: {actual, target}, bed: ...}`.
    #[serde(default)]
    pub temps: Vec<Temperatures>,
}

/// A pushed state as a status, mapped exactly as a REST read of the same moment: the state
/// becomes `/api/printer` when the printer is operational (OctoPrint answers that read 409
/// otherwise) with the latest temperatures (`temps` kept from earlier messages when this one
/// has none), and `/api/job` with the state text, job, progress and error.
pub fn status_of(push: &PushState, temps: &mut Option<Temperatures>) -> PrinterStatus {
    if let Some(latest) = push.temps.last() {
        *temps = Some(latest.clone());
    }
    let printer = push.state.flags.operational.then(|| PrinterResponse {
        state: Some(push.state.clone()),
        temperature: temps.clone(),
        sd: None,
    });
    let job = JobResponse {
        state: push.state.text.clone(),
        job: push.job.clone(),
        progress: push.progress.clone(),
        error: push.state.error.clone(),
    };
    map_status(printer, job)
}

/// What one message means for the feed.
enum Message {
    State(Box<PushState>),
    Reauth,
    Other,
}

fn classify(message: Map<String, Value>) -> Result<Message> {
    let body = message.get("current").or_else(|| message.get("history"));
    if let Some(body) = body {
        let state = serde_json::from_value(body.clone()).map_err(|e| {
            Error::protocol_from(format!("undecodable OctoPrint push state: {e}"), e)
        })?;
        return Ok(Message::State(Box::new(state)));
    }
    if message.contains_key("reauthRequired") {
        return Ok(Message::Reauth);
    }
    Ok(Message::Other)
}

impl OctoPrint {
    /// Opens the push channel: passive login, socket, auth; see the module docs.
    pub(crate) async fn push_feed(&self) -> Result<StatusFeed> {
        let mut login = Request::new(Method::POST, "api/login", Idempotency::Safe);
        login.body = Body::json(&json!({ "passive": true }));
        let r = self.transport().send(login).await?;
        let login: Login = check(r, "login")?.json()?;
        let mut socket = self
            .transport()
            .websocket(SOCKET_PATH, SocketConfig::default())
            .await?;
        let auth = format!("{}:{}", login.name, login.session);
        socket.send_json(&json!({ "auth": auth })).await?;
        let this = self.clone();
        let feed =
            futures_util::stream::unfold(Some((socket, None::<Temperatures>)), move |state| {
                let this = this.clone();
                async move {
                    let (mut socket, mut temps) = state?;
                    match next_state(&mut socket).await {
                        Ok(push) => {
                            let status = this.finish(status_of(&push, &mut temps));
                            Some((Ok(status), Some((socket, temps))))
                        }
                        // The feed ends after its error (the watcher reconnects).
                        Err(e) => Some((Err(e), None)),
                    }
                }
            });
        Ok(feed.boxed())
    }
}

/// The next `current` or `history` on the socket.
async fn next_state(socket: &mut Socket) -> Result<PushState> {
    loop {
        let message: Map<String, Value> = socket.next_json().await?;
        match classify(message)? {
            Message::State(state) => return Ok(*state),
            Message::Reauth => {
                return Err(Error::Auth {
                    message: "OctoPrint asked the push channel to log in again".into(),
                })
            }
            Message::Other => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::{Heater, PrinterState as State};

    fn push(value: Value) -> PushState {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn messages_are_classified() {
        let m = |v: Value| classify(v.as_object().unwrap().clone()).unwrap();
        assert!(matches!(m(json!({"connected": {}})), Message::Other));
        assert!(matches!(m(json!({"timelapse": null})), Message::Other));
        assert!(matches!(
            m(json!({"reauthRequired": {"reason": "stale"}})),
            Message::Reauth
        ));
        let state = json!({"state": {"text": "Operational", "flags": {"operational": true}}});
        assert!(matches!(m(json!({ "current": state })), Message::State(_)));
        assert!(matches!(m(json!({ "history": state })), Message::State(_)));
        let bad = json!({"current": {"state": 7}});
        assert!(classify(bad.as_object().unwrap().clone()).is_err());
    }

    #[test]
    fn temperatures_carry_over_messages_without_them() {
        let mut temps = None;
        let first = push(json!({
            "state": {"text": "Operational", "flags": {"operational": true}},
            "temps": [
                {"time": 1, "tool0": {"actual": 20.0, "target": 0.0}},
                {"time": 2, "tool0": {"actual": 21.5, "target": 200.0},
                 "bed": {"actual": 22.0, "target": 60.0},
                 "chamber": {"actual": null, "target": null}}
            ]
        }));
        let s = status_of(&first, &mut temps);
        let tool = s
            .heaters
            .iter()
            .find(|h| h.heater == Heater::Tool(0))
            .unwrap();
        assert_eq!((tool.actual, tool.target), (21.5, Some(200.0)));
        assert_eq!(s.heaters.len(), 2, "{:?}", s.heaters);
        let later = push(json!({
            "state": {"text": "Operational", "flags": {"operational": true}},
            "temps": []
        }));
        assert_eq!(status_of(&later, &mut temps).heaters, s.heaters);
    }

    /// A pushed state maps as REST bodies of the same moment do (the one mapping function),
    /// row by row: state text and flags, job and progress, error while offline.
    #[test]
    fn a_push_maps_like_the_rest_read_of_the_same_moment() {
        let file = json!({"name": "cube.gcode", "path": "cube.gcode", "display": "cube.gcode"});
        let null_progress = json!({"completion": null, "printTime": null, "printTimeLeft": null});
        let rows = [
            (
                json!({"text": "Operational", "flags": {"operational": true, "ready": true}}),
                json!({"file": {"name": null}}),
                null_progress.clone(),
                State::Idle,
            ),
            (
                json!({"text": "Printing", "flags": {"operational": true, "printing": true}}),
                json!({ "file": file }),
                json!({"completion": 12.5, "printTime": 30, "printTimeLeft": 200}),
                State::Printing,
            ),
            (
                json!({"text": "Paused", "flags": {"operational": true, "paused": true}}),
                json!({ "file": file }),
                json!({"completion": 40.0, "printTime": 90, "printTimeLeft": 100}),
                State::Paused,
            ),
            (
                json!({"text": "Operational", "flags": {"operational": true, "ready": true}}),
                json!({ "file": file }),
                json!({"completion": 100.0, "printTime": 300, "printTimeLeft": 0}),
                State::Finished,
            ),
            (
                json!({"text": "Operational", "flags": {"operational": true, "ready": true}}),
                json!({ "file": file }),
                null_progress.clone(),
                State::Cancelled,
            ),
            (
                json!({"text": "Offline", "flags": {"closedOrError": true}}),
                json!({"file": {"name": null}}),
                null_progress.clone(),
                State::Offline,
            ),
            (
                json!({"text": "Offline after error", "flags": {"closedOrError": true, "error": true},
                    "error": "Thermal Runaway"}),
                json!({"file": {"name": null}}),
                null_progress.clone(),
                State::Error,
            ),
        ];
        for (state, job, progress, expected) in rows {
            let pushed = push(json!({"state": state, "job": job, "progress": progress}));
            let from_push = status_of(&pushed, &mut None);
            // The same moment as REST bodies: /api/printer only while operational.
            let printer: Option<PrinterResponse> = state["flags"]["operational"]
                .as_bool()
                .unwrap_or(false)
                .then(|| serde_json::from_value(json!({ "state": state })).unwrap());
            let rest_job: JobResponse = serde_json::from_value(json!({
                "state": state["text"], "job": job, "progress": progress,
                "error": state.get("error").cloned().unwrap_or(json!(""))
            }))
            .unwrap();
            let from_rest = map_status(printer, rest_job);
            assert_eq!(from_push, from_rest, "{state}");
            assert_eq!(from_push.state, expected, "{state}");
        }
    }
}
