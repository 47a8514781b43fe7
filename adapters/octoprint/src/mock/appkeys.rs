//! The Application Keys plugin's flow (`/plugin/appkeys/*`), as OctoPrint 1.11.8 answers it
//! (measured): `GET probe` 204; `POST request {"app": …}` 201 with `app_token`,
//! `auth_dialog` and a `Location` header (400 "No app name provided" without `app`);
//! `GET request/<token>` 202 `{"message": "Awaiting decision"}` while pending, 404 for a token
//! it does not know. On the real server a person decides in the web UI; the mock decides as
//! [`super::OctoPrintMock::decide_app_keys`] tells it: once approved, the poll answers 200
//! `{"api_key": …}` with the mock's key (OctoPrint's documented answer), once denied 404.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{error, json_body, origin_url, MOCK_API_KEY, NOT_FOUND};

/// The requests made and the decision the mock gives them.
#[derive(Clone, Default)]
pub(crate) struct AppKeys {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    pending: HashSet<String>,
    /// `None`: nobody has decided yet.
    decision: Option<bool>,
}

impl AppKeys {
    /// Decides every request, made and to come.
    pub(crate) fn decide(&self, approve: bool) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .decision = Some(approve);
    }

    /// Answers a `/plugin/appkeys/` path, if it is one.
    pub(crate) fn route(&self, r: &Request, path: &str) -> Option<ResponseTemplate> {
        let rest = path.strip_prefix("/plugin/appkeys/")?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Some(match (r.method.as_str(), rest) {
            ("GET", "probe") => super::no_content(),
            ("POST", "request") => {
                let body = match json_body(r) {
                    Ok(b) => b,
                    Err(answer) => return Some(answer),
                };
                if body
                    .get("app")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Some(error(400, "No app name provided"));
                }
                let token = super::random_token(32);
                state.pending.insert(token.clone());
                let origin = origin_url(r);
                ResponseTemplate::new(201)
                    .insert_header(
                        "location",
                        format!("{origin}/plugin/appkeys/request/{token}").as_str(),
                    )
                    .set_body_json(json!({
                        "app_token": token,
                        "auth_dialog": format!("{origin}/plugin/appkeys/auth/{token}"),
                    }))
            }
            ("GET", poll) if poll.starts_with("request/") => {
                let token = &poll["request/".len()..];
                if !state.pending.contains(token) {
                    return Some(error(404, NOT_FOUND));
                }
                match state.decision {
                    None => ResponseTemplate::new(202)
                        .set_body_json(json!({"message": "Awaiting decision"})),
                    Some(true) => {
                        state.pending.remove(token);
                        ResponseTemplate::new(200).set_body_json(json!({"api_key": MOCK_API_KEY}))
                    }
                    Some(false) => {
                        state.pending.remove(token);
                        error(404, NOT_FOUND)
                    }
                }
            }
            _ => error(404, NOT_FOUND),
        })
    }
}
