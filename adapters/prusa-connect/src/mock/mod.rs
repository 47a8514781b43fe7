//! A faithful Prusa Connect mock (feature `mock`): the shared virtual printer served in
//! Prusa Connect's `/app/` dialect on 127.0.0.1, with the core's request journal and fault
//! injection.
//!
//! What it reproduces (see `shared/specs/prusa-connect.md` §7): wrapped lists with `pager`
//! (time-window `from`/`to` on jobs, queue and events; no `total` on events), absent fields
//! omitted rather than null, error bodies `{"message","code"}`, 401 `UNAUTHORIZED` for a
//! missing or wrong bearer token, 404 `NOT_FOUND_ENDPOINT` for unknown routes, 204 for
//! bodiless replies, `commands/sync` answering `{command, event}` with the pre-command state,
//! 409 for a command not executable from the current state, the real supported-commands list
//! (48 entries, `CANCEL_OBJECT` twice), sticky `printer_state` with `connect_state: OFFLINE`,
//! and 304 only for conditional GETs (printer files, snapshots).
//!
//! Inferred where no capture exists: the 409 body code (`CONFLICT`), 404 `NOT_FOUND_FILE` and
//! `NOT_FOUND_JOB`, the planned-job shape, and a token endpoint at `/o/token/` (the real one
//! lives on Prusa Account, not on Connect; hosting it here lets tests exercise refresh).

mod catalog;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use polyprint::mockserver::MockServer;
use polyprint::sim::{Phase, SimError, SimFile, SimView, VirtualPrinter, WEBCAM_JPEG};
use polyprint::{Heater, JobOutcome};
use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

pub use catalog::supported_commands;

use crate::commands::CommandSet;

/// The mock printer's UUID.
pub const PRINTER_UUID: &str = "11111111-2222-3333-4444-555555555555";
/// The mock team's id.
pub const TEAM_ID: u64 = 1;
/// The mock camera's id.
pub const CAMERA_ID: u64 = 414362;
/// The mock camera's token (what the camera itself authenticates with).
pub const CAMERA_TOKEN: &str = "mockcameratoken00001";
/// The preview image every file and job's `preview_url` serves (a small PNG).
pub const PREVIEW_PNG: &[u8] = include_bytes!("../../assets/preview.png");

/// An unsigned JWT whose claims are those Prusa's clients check, valid for a long time.
pub fn make_token(jti: &str, kind: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({
        "jti": jti, "sub": 4242, "exp": 4_102_444_800i64, "sid": "00000000-0000-4000-8000-000000000001",
        "app": "connect", "type": kind, "connect_id": "4242",
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    format!("{header}.{payload}.mock-signature")
}

/// A 28-character file hash in Connect's style (base64url, ending in `.`).
pub fn file_hash(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(20);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u8..3 {
        for b in bytes.iter().chain([round].iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.extend_from_slice(&h.to_be_bytes());
    }
    out.truncate(20);
    format!("{}.", URL_SAFE_NO_PAD.encode(&out))
}

struct Upload {
    name: String,
    path: Option<String>,
}

struct TeamFile {
    hash: String,
    name: String,
    bytes: bytes::Bytes,
    uploaded: i64,
}

struct State {
    tokens: Vec<String>,
    refresh: String,
    next_id: u64,
    uploads: BTreeMap<u64, Upload>,
    ready: bool,
    last_state: &'static str,
    queue: Vec<Value>,
    reasons: BTreeMap<u64, Value>,
    events: Vec<Value>,
    team_files: Vec<TeamFile>,
    invited: Vec<String>,
    camera: bool,
}

/// The Prusa Connect mock server over a virtual printer.
pub struct PrusaConnectMock {
    server: MockServer,
    token: String,
    state: Arc<Mutex<State>>,
}

/// The body of an error: `{"message", "code"}`, in that order, as the captures have it.
pub fn error(status: u16, message: &str, code: &str) -> ResponseTemplate {
    let body = format!(r#"{{"message":{},"code":{}}}"#, json!(message), json!(code));
    ResponseTemplate::new(status).set_body_raw(body, "application/json")
}

fn unauthorized() -> ResponseTemplate {
    error(401, "Missing or invalid security token", "UNAUTHORIZED")
}

fn not_found_endpoint() -> ResponseTemplate {
    error(404, "Endpoint not found", "NOT_FOUND_ENDPOINT")
}

fn bad_request(message: &str, reason: &str) -> ResponseTemplate {
    let body = format!(
        r#"{{"message":{},"code":"BAD_REQUEST","reason":{}}}"#,
        json!(message),
        json!(reason)
    );
    ResponseTemplate::new(400).set_body_raw(body, "application/json")
}

fn conflict(message: &str) -> ResponseTemplate {
    error(409, message, "CONFLICT")
}

/// The registry's starter ([`crate::DESCRIPTOR`]): one variant.
pub(crate) fn start_for_registry(
    printer: VirtualPrinter,
    options: polyprint::descriptor::MockOptions,
) -> polyprint::descriptor::MockFuture {
    Box::pin(async move {
        Box::new(PrusaConnectMock::start_on(printer, options.port).await)
            as Box<dyn polyprint::mockserver::VendorMock>
    })
}

impl PrusaConnectMock {
    /// Starts the mock on a free port of 127.0.0.1.
    pub async fn start(printer: VirtualPrinter) -> PrusaConnectMock {
        PrusaConnectMock::start_on(printer, None).await
    }

    /// Starts the mock on a given port of 127.0.0.1 (`None`: a free one).
    pub async fn start_on(printer: VirtualPrinter, port: Option<u16>) -> PrusaConnectMock {
        let token = make_token("mock-access-1", "access");
        let state = Arc::new(Mutex::new(State {
            tokens: vec![token.clone()],
            refresh: make_token("mock-refresh-1", "refresh"),
            next_id: 1000,
            uploads: BTreeMap::new(),
            ready: false,
            last_state: "IDLE",
            queue: Vec::new(),
            reasons: BTreeMap::new(),
            events: Vec::new(),
            team_files: Vec::new(),
            invited: Vec::new(),
            camera: true,
        }));
        let s = state.clone();
        let server = MockServer::start_on(
            move |req: &Request, p: &VirtualPrinter| respond(&s, req, p),
            printer,
            unauthorized,
            port,
        )
        .await;
        PrusaConnectMock {
            server,
            token,
            state,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The bearer token the mock accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The refresh token the mock's `/o/token/` accepts now (it rotates on each use).
    pub fn refresh_token(&self) -> String {
        self.lock().refresh.clone()
    }

    /// The token endpoint URL for [`crate::Credentials::with_token_url`].
    pub fn token_url(&self) -> String {
        format!("{}/o/token/", self.uri())
    }

    /// Makes every access token issued so far invalid (as if expired).
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// The printer's UUID.
    pub fn printer_uuid(&self) -> &str {
        PRINTER_UUID
    }

    /// The core mock server: journal and fault injection.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The virtual printer.
    pub fn printer(&self) -> &VirtualPrinter {
        self.server.printer()
    }

    /// Removes (or restores) the printer's camera.
    pub fn set_camera(&self, present: bool) {
        self.lock().camera = present;
    }

    /// E-mails invited to the team so far.
    pub fn invited(&self) -> Vec<String> {
        self.lock().invited.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

// ---- rendering ----------------------------------------------------------------------------

/// The Prusa printer state of the virtual printer (`None` when offline).
fn prusa_state(view: &SimView, ready: bool) -> Option<&'static str> {
    Some(match &view.phase {
        Phase::Offline => return None,
        Phase::Error(_) => "ERROR",
        Phase::Paused if view.attention.is_some() => "ATTENTION",
        Phase::Printing if view.attention.is_some() => "ATTENTION",
        // A pause or stop in progress still reports PRINTING until the printer settles.
        Phase::Printing | Phase::Pausing(_) | Phase::Resuming(_) | Phase::Cancelling(_) => {
            "PRINTING"
        }
        Phase::Paused => "PAUSED",
        Phase::Idle if ready => "READY",
        Phase::Idle => match view.job.as_ref().and_then(|j| j.outcome) {
            Some(JobOutcome::Finished) => "FINISHED",
            Some(JobOutcome::Cancelled) => "STOPPED",
            _ => "IDLE",
        },
    })
}

fn sim_name(path: &str) -> Option<&str> {
    path.strip_prefix("/usb/").filter(|n| !n.is_empty())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn job_state(j: &polyprint::sim::SimJob, view: &SimView) -> &'static str {
    match j.outcome {
        Some(JobOutcome::Finished) => "FIN_OK",
        Some(JobOutcome::Cancelled) => "FIN_STOPPED",
        Some(JobOutcome::Failed) => "FIN_ERROR",
        Some(_) => "UNKNOWN",
        None if matches!(view.phase, Phase::Paused) => "PAUSED",
        None => "PRINTING",
    }
}

fn file_json(f: &SimFile, printer: bool) -> Value {
    let hash = file_hash(&f.content);
    let mut meta = json!({ "estimated_print_time": f.duration.as_secs() });
    if let Some(mm) = f.filament_mm {
        meta["filament_used_mm"] = round2(mm).into();
    }
    let mut v = json!({
        "type": "PRINT_FILE",
        "name": f.name.rsplit('/').next().unwrap_or(&f.name),
        "display_name": f.name.rsplit('/').next().unwrap_or(&f.name),
        "size": f.content.len(),
        "hash": hash,
        "team_id": TEAM_ID,
        "meta": meta,
        "preview_url": format!("/app/teams/{TEAM_ID}/files/{hash}/preview"),
        "preview_mimetype": "image/png",
    });
    if printer {
        v["path"] = format!("/usb/{}", f.name).into();
        v["display_path"] = format!("/usb/{}", f.name).into();
        v["m_timestamp"] = f.uploaded.into();
        v["read_only"] = false.into();
    } else {
        v["uploaded"] = f.uploaded.into();
    }
    v
}

fn job_json(
    j: &polyprint::sim::SimJob,
    view: &SimView,
    detail: bool,
    reason: Option<&Value>,
) -> Value {
    let hash = file_hash(&j.file.content);
    let start = polyprint::sim::EPOCH_BASE + j.started_at.as_secs() as i64;
    let mut file = file_json(&j.file, false);
    if let Some(o) = file.as_object_mut() {
        o.remove("uploaded");
    }
    let objects: Vec<Value> = view
        .objects
        .iter()
        .map(|o| json!({ "name": o.name, "polygon": polygon(o.id) }))
        .collect();
    if j.outcome.is_none() || !objects.is_empty() {
        file["meta"]["objects_info"] = json!({ "objects": objects });
    }
    let mut v = json!({
        "id": j.id,
        "lifetime_id": format!("00000000-0000-4000-8000-{:012}", j.id),
        "printer_uuid": PRINTER_UUID,
        "origin_id": j.id,
        "path": format!("/usb/{}", j.file.name),
        "state": job_state(j, view),
        "hash": hash,
        "team_id": TEAM_ID,
        "time_printing": j.printed.as_secs(),
        "start": start,
        // The service's job records say UNKNOWN (captured), whoever started the job.
        "source": "UNKNOWN",
        "file": file,
    });
    if let Some(end) = j.ended_at {
        v["end"] = (polyprint::sim::EPOCH_BASE + end.as_secs() as i64).into();
    } else {
        v["progress"] = round2(j.progress()).into();
        v["time_remaining"] = j.remaining().as_secs().into();
    }
    if detail && j.outcome.is_none() {
        v["cancelable"] = json!({ "objects": view.objects.iter().map(|o| json!({
            "id": o.id, "name": o.name, "polygon": polygon(o.id), "canceled": o.cancelled,
        })).collect::<Vec<_>>() });
    }
    if let Some(r) = reason {
        v["reason"] = r.clone();
    }
    v
}

fn polygon(id: u32) -> Value {
    let x = 20.0 + 40.0 * f64::from(id);
    json!([[x, 20.0], [x + 30.0, 20.0], [x + 30.0, 50.0], [x, 50.0]])
}

fn printer_json(view: &SimView, st: &mut State, detail: bool) -> Value {
    let state = prusa_state(view, st.ready);
    if let Some(s) = state {
        st.last_state = s;
    }
    let word = state.unwrap_or(st.last_state);
    let mut v = json!({
        "printer_model": "COREONE",
        "printer_state": word,
        "connect_state": state.unwrap_or("OFFLINE"),
        "last_online": view.unix_now as f64 + 0.25,
        "uuid": PRINTER_UUID,
        "name": "Virtual CORE One",
        "location": "Loopback",
        "created": polyprint::sim::EPOCH_BASE - 86_400,
        "printer_type": "7.1.0",
        "printer_type_name": "Prusa CORE One",
        "team_id": TEAM_ID,
        "team_name": "Mock Team",
        "firmware": "6.5.7+12836",
        "allowed_functionalities": ["files", "filament", "queue", "bgcode", "dialogs"],
        "rights_r": true, "rights_w": true, "rights_u": true,
    });
    if detail {
        v["state"] = word.into();
        v["printable_extension"] = json!(["bgcode", "bgc", "bg", "gcode", "gco", "g"]);
        v["max_filename"] = 165.into();
        v["sn"] = "SN-MOCK-0001".into();
    }
    if state.is_none() {
        return v; // offline: no telemetry, no job
    }
    if view.readings_ready {
        let get = |h: Heater| view.heaters.iter().find(|x| x.heater == h);
        let mut temp = Map::new();
        if let Some(t) = get(Heater::Tool(0)) {
            temp.insert("temp_nozzle".into(), round2(t.actual).into());
            temp.insert("target_nozzle".into(), t.target.into());
        }
        if let Some(b) = get(Heater::Bed) {
            temp.insert("temp_bed".into(), round2(b.actual).into());
            temp.insert("target_bed".into(), b.target.into());
        }
        v["temp"] = Value::Object(temp);
        v["tools"] = json!({ "1": {
            "temp": get(Heater::Tool(0)).map(|t| round2(t.actual)).unwrap_or_default(),
            "active": true, "nozzle_diameter": 0.4, "material": "PLA", "high_flow": false, "hardened": false,
        }});
        if detail {
            let mut chamber = json!({ "led_intensity": if view.light_on { 100 } else { 0 } });
            if let Some(c) = get(Heater::Chamber) {
                chamber["temp"] = round2(c.actual).into();
                chamber["target_temp"] = c.target.into();
            }
            v["chamber"] = chamber;
        }
    }
    v["axis_z"] = view.position[2].into();
    v["speed"] = 100.into();
    if detail {
        v["axis_x"] = view.position[0].into();
        v["axis_y"] = view.position[1].into();
        v["flow"] = 100.into();
    }
    if let Some(j) = &view.job {
        let mut info = json!({
            "id": j.id,
            "origin_id": j.id,
            "path": format!("/usb/{}", j.file.name),
            "hash": file_hash(&j.file.content),
            "start": polyprint::sim::EPOCH_BASE + j.started_at.as_secs() as i64,
            "progress": round2(j.progress()),
            "state": job_state(j, view),
            "display_name": j.file.name,
            "time_printing": j.printed.as_secs(),
            // 0 until the printer has an estimate, as the real service does.
            "time_remaining": if j.printed.is_zero() { 0 } else { j.remaining().as_secs() },
        });
        info["preview_url"] = format!(
            "/app/teams/{TEAM_ID}/files/{}/preview",
            file_hash(&j.file.content)
        )
        .into();
        v["job_info"] = info;
    }
    if let Some(a) = &view.attention {
        v["dialog_info"] = json!({
            "id": 3_586_002_496u64, "code": "17324", "title": "ATTENTION", "text": a,
            "buttons": ["Ok"], "key": "MOCK_ATTENTION",
        });
    }
    if !st.queue.is_empty() {
        v["job_queue_count"] = st.queue.len().into();
    }
    v
}

// ---- routing ------------------------------------------------------------------------------

fn query(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn q_num(q: &[(String, String)], key: &str, default: u64) -> u64 {
    q.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

fn paged(
    items: Vec<Value>,
    key: &str,
    q: &[(String, String)],
    window: Option<(i64, i64)>,
) -> ResponseTemplate {
    let limit = q_num(q, "limit", 20);
    let offset = q_num(q, "offset", 0);
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let mut pager = json!({ "limit": limit, "offset": offset, "total": total });
    if let Some((from, to)) = window {
        pager["from"] = from.into();
        pager["to"] = to.into();
    }
    if key == "printers" {
        pager["sort_by"] = json!([{ "column": "name", "order": "+", "default": "+" }]);
    }
    ResponseTemplate::new(200).set_body_json(json!({ key: page, "pager": pager }))
}

fn ok(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(v)
}

fn authorized(req: &Request, st: &State) -> bool {
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| st.tokens.iter().any(|x| x == t))
}

fn respond(state: &Mutex<State>, req: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let method = req.method.as_str().to_string();
    let path = req.url.path().to_string();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let q = query(req);
    // Public endpoints.
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["version.json"]) => {
            return ok(
                json!({ "commit": "0mock000", "version": "0mock000", "date": "2026-01-01T00:00:00.000Z" }),
            )
        }
        ("GET", ["app", "config"]) => return ok(app_config()),
        ("GET", ["app", "printer-types"]) => return ok(printer_types()),
        ("POST", ["o", "token", ..]) => return token_endpoint(&mut st, req),
        _ => {}
    }
    if !authorized(req, &st) {
        return unauthorized();
    }
    let mut g = printer.lock();
    let view = g.view();
    let window = (view.unix_now - 30 * 86_400, view.unix_now);
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["app", "printers"]) => {
            let p = printer_json(&view, &mut st, false);
            paged(vec![p], "printers", &q, None)
        }
        ("GET", ["app", "printers", "groups"]) => paged(vec![], "groups", &q, None),
        (_, ["app", "printers", uuid, ..]) if *uuid != PRINTER_UUID => {
            error(404, "Printer not found", "NOT_FOUND_PRINTER")
        }
        ("GET", ["app", "printers", _]) => ok(printer_json(&view, &mut st, true)),
        ("GET", ["app", "printers", _, "supported-commands"]) => ok(supported_commands()),
        ("GET", ["app", "printers", _, "commands"]) => paged(vec![], "commands", &q, None),
        ("POST", ["app", "printers", _, "commands", "sync"]) => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(_) => return bad_request("Invalid JSON", "Request body is not valid JSON"),
            };
            let Some(name) = body
                .get("command")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return bad_request("Invalid request", "Missing field: command");
            };
            let kwargs = match body.get("kwargs") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => return bad_request("Invalid request", "kwargs must be an object"),
            };
            let defs: Vec<crate::wire::CommandDefinition> =
                serde_json::from_value(supported_commands()["commands"].take()).unwrap_or_default();
            let set = CommandSet::new(defs);
            if let Err(e) = set.check(&name, &kwargs) {
                return bad_request("Invalid command", &e.to_string());
            }
            let Some(pre) = prusa_state(&view, st.ready) else {
                return conflict("Printer is offline");
            };
            if set.executable_from(&name, pre) != Some(true) {
                return conflict(&format!(
                    "Command {name} is not executable from state {pre}"
                ));
            }
            if let Err(resp) = apply(&mut g, &mut st, &set, &name, &kwargs, &view) {
                return resp;
            }
            st.next_id += 1;
            let id = st.next_id;
            let after = prusa_state(&g.view(), st.ready).unwrap_or("OFFLINE");
            // Only a command that changed the state leaves a STATE_CHANGED event, with the
            // printer as its source ("UNKNOWN" in the captures, even for a user's command).
            if after != pre {
                st.events.push(json!({
                    "server_time": view.unix_now as f64 + 0.5, "event": "STATE_CHANGED", "source": "UNKNOWN",
                    "command": name, "command_id": id, "state": after, "created": view.unix_now as f64 + 0.4,
                }));
            }
            ok(json!({
                "command": { "id": id, "state": "CREATED", "command": name, "received": view.unix_now,
                             "source": "CONNECT_USER", "kwargs": kwargs },
                "event": { "event": "FINISHED", "command": name, "state": pre, "created": view.unix_now as f64 + 0.41 },
            }))
        }
        ("GET", ["app", "printers", _, "jobs"]) => ok_jobs(&view, &st, &q, window),
        ("GET", ["app", "jobs"]) => ok_jobs(&view, &st, &q, window),
        ("GET", ["app", "printers", _, "jobs", id]) => match find_job(&view, id) {
            Some(j) => ok(job_json(&j, &view, true, st.reasons.get(&u64::from(j.id)))),
            None => error(404, "Job not found", "NOT_FOUND_JOB"),
        },
        ("PATCH", ["app", "printers", _, "jobs", id]) => {
            let Some(j) = find_job(&view, id) else {
                return error(404, "Job not found", "NOT_FOUND_JOB");
            };
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let reason = &body["reason"];
            let tags_ok = reason["tag"].as_array().is_some_and(|tags| {
                !tags.is_empty()
                    && tags
                        .iter()
                        .all(|t| t.as_str().and_then(crate::FailureTag::parse).is_some())
            });
            if !tags_ok {
                return bad_request("Invalid reason", "reason.tag must be a list of known tags");
            }
            st.reasons.insert(u64::from(j.id), reason.clone());
            ResponseTemplate::new(204)
        }
        ("GET", ["app", "printers", _, "queue"]) => {
            let items = st.queue.clone();
            paged_from(items, "planned_jobs", &q, view.unix_now)
        }
        ("GET", ["app", "printers", _, "download-queue"]) => {
            paged_from(vec![], "planned_jobs", &q, view.unix_now)
        }
        ("POST", ["app", "printers", _, "queue"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let Some(path) = body["path"].as_str() else {
                return bad_request("Invalid request", "Missing field: path");
            };
            let Some(file) = sim_name(path).and_then(|n| g.file(n)) else {
                return error(404, "File not found", "NOT_FOUND_FILE");
            };
            st.next_id += 1;
            let pos = (body["position"].as_u64().unwrap_or(st.queue.len() as u64) as usize)
                .min(st.queue.len());
            let item = json!({ "id": st.next_id, "state": "PLANNED", "path": path, "file": file_json(&file, true) });
            st.queue.insert(pos, item);
            for (i, item) in st.queue.iter_mut().enumerate() {
                item["position"] = i.into();
            }
            if body["set_ready"].as_bool() == Some(true) && matches!(view.phase, Phase::Idle) {
                st.ready = true;
            }
            ResponseTemplate::new(201).set_body_json(st.queue[pos].clone())
        }
        ("GET", ["app", "printers", _, "files"]) => {
            // `limit` (100 when not given, as recorded) and `offset` page the list.
            let q = query(req);
            let limit = q_num(&q, "limit", 100);
            let offset = q_num(&q, "offset", 0);
            let total = view.files.len();
            let files: Vec<Value> = view
                .files
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|f| file_json(f, true))
                .collect();
            let etag = format!(
                "\"{}\"",
                file_hash(serde_json::to_string(&files).unwrap_or_default().as_bytes())
            );
            conditional(req, &etag, || {
                ok(
                    json!({ "files": files, "pager": { "limit": limit, "offset": offset, "total": total } }),
                )
            })
        }
        ("GET", ["app", "printers", _, "storages"]) => ok(json!({ "storages": [{
            "mountpoint": "/usb", "name": "usb", "free_space": 16_340_844_544u64, "type": "USB",
            "is_sfn": true, "read_only": false, "file_count": view.files.len(),
        }]})),
        ("GET", ["app", "printers", _, "events"]) => {
            let kind = q.iter().find(|(k, _)| k == "event").map(|(_, v)| v.clone());
            let items: Vec<Value> = st
                .events
                .iter()
                .rev()
                .filter(|e| kind.as_deref().is_none_or(|k| e["event"] == k))
                .cloned()
                .collect();
            let limit = q_num(&q, "limit", 20);
            let offset = q_num(&q, "offset", 0);
            let page: Vec<Value> = items
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect();
            ok(
                json!({ "events": page, "pager": { "limit": limit, "offset": offset, "from": window.0, "to": window.1 } }),
            )
        }
        ("GET", ["app", "printers", _, "cameras"]) => paged(cameras(&st), "cameras", &q, None),
        ("GET", ["app", "cameras"]) => paged(cameras(&st), "cameras", &q, None),
        // Inferred, not captured: the printer SDK's `trigger_snapshot` asks the camera (by its
        // token) for a fresh snapshot. The mock answers 204 and the next `snapshots/last` is
        // that snapshot (the same image: the virtual printer's webcam does not change).
        ("POST", ["app", "cameras", token, "snapshots"]) => {
            if !st.camera || *token != CAMERA_TOKEN {
                return error(404, "Camera not found", "NOT_FOUND_CAMERA");
            }
            ResponseTemplate::new(204)
        }
        ("GET", ["app", "cameras", id, "snapshots", "last"]) => {
            if !st.camera || *id != CAMERA_ID.to_string() || prusa_state(&view, false).is_none() {
                return error(404, "Snapshot not found", "NOT_FOUND_SNAPSHOT");
            }
            let etag = format!("\"{}\"", file_hash(WEBCAM_JPEG));
            conditional(req, &etag, || {
                ResponseTemplate::new(200).set_body_raw(WEBCAM_JPEG, "image/jpeg")
            })
        }
        ("GET", ["app", "users", "teams"]) => paged(vec![team(&st, false)], "teams", &q, None),
        ("GET", ["app", "users", "teams", id]) if *id == TEAM_ID.to_string() => ok(team(&st, true)),
        ("POST", ["app", "teams", id, "add-user"]) if *id == TEAM_ID.to_string() => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            match body["email"].as_str() {
                Some(e) if e.contains('@') => {
                    st.invited.push(e.to_string());
                    ResponseTemplate::new(204)
                }
                _ => bad_request("Invalid request", "Invalid e-mail"),
            }
        }
        ("GET", ["app", "invitations"]) => ok(json!({ "invitations": [], "refused": [] })),
        ("GET", ["app", "teams", id, "files"]) if *id == TEAM_ID.to_string() => {
            let items = st.team_files.iter().map(team_file_json).collect();
            paged(items, "files", &q, None)
        }
        ("GET", ["app", "teams", id, "files", hash]) if *id == TEAM_ID.to_string() => {
            match st.team_files.iter().find(|f| f.hash == *hash) {
                Some(f) => ok(team_file_json(f)),
                None => error(404, "File not found", "NOT_FOUND_FILE"),
            }
        }
        ("GET", ["app", "teams", id, "files", hash, "preview"]) if *id == TEAM_ID.to_string() => {
            let known = st.team_files.iter().any(|f| f.hash == *hash)
                || view
                    .files
                    .iter()
                    .chain(view.job.iter().map(|j| &j.file))
                    .chain(view.history.iter().map(|j| &j.file))
                    .any(|f| file_hash(&f.content) == *hash);
            if known {
                ResponseTemplate::new(200).set_body_raw(PREVIEW_PNG, "image/png")
            } else {
                error(404, "File not found", "NOT_FOUND_FILE")
            }
        }
        ("GET", ["app", "teams", id, "files", hash, "raw"]) if *id == TEAM_ID.to_string() => {
            match st.team_files.iter().find(|f| f.hash == *hash) {
                Some(f) => ResponseTemplate::new(200)
                    .set_body_raw(f.bytes.to_vec(), "application/octet-stream"),
                None => error(404, "File not found", "NOT_FOUND_FILE"),
            }
        }
        ("POST", ["app", "users", "teams", id, "uploads"]) if *id == TEAM_ID.to_string() => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let (Some(name), Some(size)) = (body["filename"].as_str(), body["size"].as_u64())
            else {
                return bad_request("Invalid request", "filename and size are required");
            };
            let printer_path = body["path"].as_str().map(str::to_string);
            if let Some(p) = &printer_path {
                if sim_name(p).is_none() {
                    return bad_request("Invalid request", "Invalid path");
                }
            }
            st.next_id += 1;
            let id = st.next_id;
            st.uploads.insert(
                id,
                Upload {
                    name: name.to_string(),
                    path: printer_path.clone(),
                },
            );
            let mut v = json!({
                "id": id, "team_id": TEAM_ID, "name": name, "size": size,
                "hash": file_hash(name.as_bytes()), "state": "INITIATED", "source": "CONNECT_USER",
            });
            if let Some(p) = printer_path {
                v["path"] = p.into();
            }
            ok(v)
        }
        ("GET", ["app", "users", "teams", id, "uploads"]) if *id == TEAM_ID.to_string() => {
            ok(json!({ "uploads": [] }))
        }
        ("PUT", ["app", "teams", id, "files", "raw"]) if *id == TEAM_ID.to_string() => {
            let upload_id = q_num(&q, "upload_id", 0);
            let Some(up) = st.uploads.remove(&upload_id) else {
                return error(404, "Upload not found", "NOT_FOUND_UPLOAD");
            };
            let bytes = bytes::Bytes::from(req.body.clone());
            if let Some(name) = up.path.as_deref().and_then(sim_name) {
                if let Err(e) = g.store(name, bytes.clone()) {
                    return conflict(&e.to_string());
                }
            }
            let hash = file_hash(&bytes);
            st.team_files.retain(|f| f.hash != hash);
            st.team_files.push(TeamFile {
                hash,
                name: up.name,
                bytes,
                uploaded: view.unix_now,
            });
            ResponseTemplate::new(204)
        }
        ("GET", ["app", "stats", "printers", _, what]) => stats(what, &view, &q),
        ("GET", ["app", "notifications"]) => paged(vec![], "notifications", &q, None),
        ("GET", ["app", "notifications", "unseen"]) => ok(json!({ "unseen": 0 })),
        _ => not_found_endpoint(),
    }
}

fn paged_from(items: Vec<Value>, key: &str, q: &[(String, String)], now: i64) -> ResponseTemplate {
    let limit = q_num(q, "limit", 20);
    let offset = q_num(q, "offset", 0);
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    ok(
        json!({ key: page, "pager": { "limit": limit, "offset": offset, "total": total, "from": now } }),
    )
}

fn conditional(
    req: &Request,
    etag: &str,
    body: impl FnOnce() -> ResponseTemplate,
) -> ResponseTemplate {
    let matches = req
        .headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    if matches {
        ResponseTemplate::new(304).insert_header("etag", etag)
    } else {
        body().insert_header("etag", etag)
    }
}

fn find_job(view: &SimView, id: &str) -> Option<polyprint::sim::SimJob> {
    let id: u32 = id.parse().ok()?;
    view.job
        .iter()
        .chain(view.history.iter().rev())
        .find(|j| j.id == id)
        .cloned()
}

fn ok_jobs(
    view: &SimView,
    st: &State,
    q: &[(String, String)],
    window: (i64, i64),
) -> ResponseTemplate {
    let states: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut jobs: Vec<Value> = Vec::new();
    if let Some(j) = view.job.as_ref().filter(|j| j.outcome.is_none()) {
        jobs.push(job_json(j, view, false, None));
    }
    for j in view.history.iter().rev() {
        jobs.push(job_json(j, view, false, st.reasons.get(&u64::from(j.id))));
    }
    jobs.retain(|j| states.is_empty() || states.iter().any(|s| j["state"] == *s));
    paged(jobs, "jobs", q, Some(window))
}

fn cameras(st: &State) -> Vec<Value> {
    if !st.camera {
        return vec![];
    }
    vec![json!({
        "id": CAMERA_ID, "name": "Buddy3D Camera",
        "config": { "name": "Buddy3D Camera", "path": "private", "model": "Buddy3D",
                    "resolution": { "width": 1920, "height": 1080 }, "trigger_scheme": "THIRTY_SEC" },
        "capabilities": ["trigger_scheme"],
        "features": ["SocketCom", "UploadInterval", "TimelapseEn", "GetSnapshot", "CameraName", "FwUpdate"],
        "token": CAMERA_TOKEN, "registered": true,
    })]
}

fn team(st: &State, detail: bool) -> Value {
    let mut t = json!({ "id": TEAM_ID, "name": "Mock Team", "role": "OWNER", "user_count": 1 });
    if detail {
        t["users"] = json!([{ "id": 4242, "first_name": "Ada", "last_name": "Mock", "public_name": "ada",
                              "rights_ro": true, "rights_use": true, "rights_rw": true }]);
        if !st.invited.is_empty() {
            t["invitees"] = json!(st.invited);
        }
    }
    t
}

fn team_file_json(f: &TeamFile) -> Value {
    json!({
        "type": "PRINT_FILE", "name": f.name, "display_name": f.name, "size": f.bytes.len(),
        "hash": f.hash, "team_id": TEAM_ID, "uploaded": f.uploaded,
        "preview_url": format!("/app/teams/{TEAM_ID}/files/{}/preview", f.hash), "preview_mimetype": "image/png",
    })
}

fn stats(what: &str, view: &SimView, q: &[(String, String)]) -> ResponseTemplate {
    let from = q_num(q, "from", (view.unix_now - 7 * 86_400) as u64) as i64;
    let to = q_num(q, "to", view.unix_now as u64) as i64;
    if from > to {
        return bad_request("Invalid request", "from must not be after to");
    }
    let printed: u64 = view.history.iter().map(|j| j.printed.as_secs()).sum();
    let (name, uuid) = ("Virtual CORE One", PRINTER_UUID);
    match what {
        "printing_not_printing" => ok(
            json!({ "name": name, "uuid": uuid, "from": from, "to": to, "data": [
                { "name": "printing", "value": printed },
                { "name": "not_printing", "value": ((to - from) as u64).saturating_sub(printed) },
            ]}),
        ),
        "material_quantity" => {
            let mm: f64 = view.history.iter().filter_map(|j| j.file.filament_mm).sum();
            ok(
                json!({ "name": name, "uuid": uuid, "from": from, "to": to, "data": [{ "name": "PLA", "value": round2(mm) }] }),
            )
        }
        "planned_tasks" => ok(
            json!({ "from": from, "to": to, "xAxis": (0..24).collect::<Vec<i64>>(),
            "series": { "uuid": uuid, "name": name, "data": [] } }),
        ),
        "jobs_success" => {
            let count =
                |o: JobOutcome| view.history.iter().filter(|j| j.outcome == Some(o)).count();
            ok(
                json!({ "from": from, "to": to, "name": name, "uuid": uuid, "xAxis": ["2026-01-01"],
                "series": [ { "name": "FIN_OK", "data": [count(JobOutcome::Finished)] },
                            { "name": "FIN_STOPPED", "data": [count(JobOutcome::Cancelled)] } ],
                "time_shift": "+00:00" }),
            )
        }
        _ => not_found_endpoint(),
    }
}

fn app_config() -> Value {
    json!({ "auth": {
        "backends": ["PRUSA_AUTH"], "server_url": "https://account.prusa3d.com",
        "client_id": crate::auth::DEFAULT_CLIENT_ID,
        "redirect_url": "https://connect.prusa3d.com/login/auth-callback",
        "avatar_server_url": "https://media.printables.com/media/",
        "max_upload_size": 1_073_741_824u64, "max_snapshot_size": 16_777_216u64,
        "max_preview_size": 2_097_152u64, "afs_enabled": false, "afs_group_id": 0,
    }})
}

fn printer_types() -> Value {
    json!({ "printer_types": [{
        "id": "7.1.0", "type": 7, "version": 1, "subversion": 0, "name": "Prusa CORE One",
        "parameters": { "extrusion": { "max": 100, "min": -10, "default": 10 },
                        "temp_nozzle": { "max": 290, "min": 0 }, "temp_bed": { "max": 150, "min": 0 } },
        "fw_device_type_id": "7.1.0", "support": { "stable": "6.5.7" },
    }]})
}

fn token_endpoint(st: &mut State, req: &Request) -> ResponseTemplate {
    let form: BTreeMap<String, String> = url_form(&req.body);
    let grant_ok = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    if !grant_ok || form.get("refresh_token") != Some(&st.refresh) {
        return ResponseTemplate::new(400).set_body_json(
            json!({ "error": "invalid_grant", "error_description": "Invalid refresh token" }),
        );
    }
    st.next_id += 1;
    let access = make_token(&format!("mock-access-{}", st.next_id), "access");
    st.refresh = make_token(&format!("mock-refresh-{}", st.next_id), "refresh");
    st.tokens.push(access.clone());
    ok(json!({
        "access_token": access, "refresh_token": st.refresh, "id_token": "mock-id-token",
        "expires_in": 7200, "token_type": "Bearer", "scope": "basic_info connect",
        "shared_session_key": "00000000-0000-4000-8000-000000000001",
    }))
}

fn url_form(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[allow(clippy::result_large_err)]
type Reply = Result<(), ResponseTemplate>;

fn sim_err(e: SimError) -> ResponseTemplate {
    match e {
        SimError::FileNotFound(f) => error(404, &format!("File not found: {f}"), "NOT_FOUND_FILE"),
        SimError::NoSuchObject(id) => {
            error(404, &format!("Object {id} not found"), "NOT_FOUND_OBJECT")
        }
        other => conflict(&other.to_string()),
    }
}

#[allow(clippy::result_large_err)]
fn apply(
    g: &mut polyprint::sim::SimGuard<'_>,
    st: &mut State,
    set: &CommandSet,
    name: &str,
    kw: &Map<String, Value>,
    view: &SimView,
) -> Reply {
    let num = |k: &str| kw.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let path = || kw.get("path").and_then(Value::as_str).unwrap_or("");
    let file = |p: &str| {
        sim_name(p)
            .map(str::to_string)
            .ok_or_else(|| error(404, "File not found", "NOT_FOUND_FILE"))
    };
    match name {
        "START_PRINT" => {
            g.start(&file(path())?).map_err(sim_err)?;
            st.ready = false;
        }
        "PAUSE_PRINT" => g.pause().map_err(sim_err)?,
        "RESUME_PRINT" => g.resume().map_err(sim_err)?,
        "STOP_PRINT" => g.cancel().map_err(sim_err)?,
        "CANCEL_OBJECT" => g.cancel_object(num("object_id") as u32).map_err(sim_err)?,
        "DELETE_FILE" => g.delete(&file(path())?).map_err(sim_err)?,
        "SET_NOZZLE_TEMPERATURE" => g
            .set_target(Heater::Tool(0), num("nozzle_temperature"))
            .map_err(sim_err)?,
        "SET_HEATBED_TEMPERATURE" => g
            .set_target(Heater::Bed, num("bed_temperature"))
            .map_err(sim_err)?,
        "MOVE" => g.jog(num("x"), num("y"), 0.0).map_err(sim_err)?,
        "MOVE_Z" => g.jog(0.0, 0.0, num("distance")).map_err(sim_err)?,
        "MOVE_E" => {
            let min = set.min_extrude_temp().unwrap_or(0.0);
            let nozzle = view
                .heaters
                .iter()
                .find(|h| h.heater == Heater::Tool(0))
                .map_or(0.0, |h| h.actual);
            if nozzle < min {
                return Err(conflict(&format!(
                    "Nozzle temperature {nozzle:.1} is below {min}"
                )));
            }
        }
        "HOME" => {
            let axis = kw
                .get("axis")
                .and_then(Value::as_str)
                .unwrap_or("XYZ")
                .to_ascii_uppercase();
            g.home(axis.contains('X'), axis.contains('Y'), axis.contains('Z'))
                .map_err(sim_err)?
        }
        "SET_PRINTER_READY" => st.ready = true,
        "CANCEL_PRINTER_READY" => st.ready = false,
        "SET_CHAMBER_LED_INTENSITY" => g.set_light(num("chamber.led_intensity") > 0.0),
        "DIALOG_ACTION" => g.set_attention(None),
        _ => {}
    }
    Ok(())
}

impl polyprint::mockserver::VendorMock for PrusaConnectMock {
    fn mock_server(&self) -> &MockServer {
        self.server()
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credential(&self) -> String {
        PrusaConnectMock::token(self).to_string()
    }
    fn printer_id(&self) -> Option<String> {
        Some(PrusaConnectMock::printer_uuid(self).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claims of the mock's tokens have the real tokens' types: `connect_id` is a string
    /// (strict clients refuse a number there), `exp` a number.
    #[test]
    fn token_claims_have_the_real_types() {
        let token = make_token("t", "access");
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(claims["connect_id"].is_string(), "{claims}");
        assert!(claims["exp"].is_i64(), "{claims}");
        assert_eq!(claims["type"], "access");
    }
}
