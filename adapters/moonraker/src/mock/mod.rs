//! [`MoonrakerMock`]: a server on 127.0.0.1 that answers like Moonraker 0.11 in front of
//! Klipper, over the virtual printer (feature `mock`), REST and websocket on one port.
//!
//! Same paths, status codes, envelopes and quirks as the real server
//! (`shared/specs/moonraker.md`, `tests/fixtures/samples/moonraker/`, and `tests/fidelity.rs`
//! against a real one):
//!
//! * `{"result": …}` for every answer but the upload's 201 (unwrapped); `{"result": "ok"}`
//!   for commands; errors `{"error": {"code", "message", "traceback"}}` with `message` a
//!   reason phrase (`Unknown`, `Bad Request`, `Forbidden`) where the real text holds a
//!   newline, `<` or `>`, the text then only in the traceback's last line;
//! * auth: a trusted client needs no key; `X-Api-Key` with the wrong key is 401 (also from a
//!   trusted client); [`MoonrakerMock::require_api_key`] makes the key mandatory (401
//!   without it, and the websocket's calls `Unauthorized` until `server.connection.identify`
//!   carries it);
//! * Klippy's states from the virtual printer: ready; `shutdown` for a printer in error
//!   (its message plus Klipper's `FIRMWARE_RESTART` advice); `disconnected` for a
//!   disconnected printer (`server/info` `klippy_connected: false`, every `/printer/` route
//!   503 `Klippy Host not connected`, or 404 if Klippy never connected since the mock
//!   started), or `startup` with [`MoonrakerMock::set_offline_as_startup`] (the MCU
//!   unreachable: the objects answer, with only `webhooks` and `print_stats`);
//! * `print_stats.state`: `printing` while the virtual printer prints, pauses, resumes or
//!   cancels (Klipper has no words for the moments between), `paused`, `complete` and
//!   `cancelled` until the next start or `SDCARD_RESET_FILE` (`standby`), and a failed start
//!   resets to `standby` too; `virtual_sdcard` unloads the file on cancel;
//! * the quirks of [`script`]: resume when not paused, pause when paused, cancel without a
//!   job and unknown G-code answer `ok`; pause while idle sets the pause flag; start while
//!   paused abandons the paused job; start while printing is 400 `SD busy`; a missing file
//!   is 400 `Unable to open file`; G-code errors are 400 with Klipper's texts (`Must home
//!   axis first`, `Move out of range`, `Extrude below minimum temp`, `Requested temperature
//!   (…) out of range (…)`, `Error on '…': unable to parse …`);
//! * files: 201 upload (multipart, `root`, `path`), 400 `Bad Request` (`Invalid file path`)
//!   for deleting a missing file, 403 `Forbidden` (`File currently in use`) for the file
//!   being printed, 404 for metadata of a missing file; history, job queue (paused), webcams;
//! * the websocket at `/websocket` (module [`push`]).
//!
//! Differences, on purpose: object queries answer at once (Klipper waits for its 0.25 s
//! tick); the virtual printer is homed from the start (`homed_axes` `xyz`; a restart or an
//! emergency stop unhomes it); its jobs always define three objects (`OBJECT-0` …);
//! progress (and so the `SET_PRINT_STATS_INFO` layers read so far) follows the virtual
//! printer's time-based job rather than the file position; `print_duration` is the
//! time printed for a file with extrusion (else 0); an emergency stop drops the job (Klipper
//! shows it `paused`); `M109`/`M190` do not wait; metadata has estimates for any file that
//! names its generator. The mock has one webcam, and answers its snapshot URL
//! (`/webcam/?action=snapshot`) itself, as the web server in front of a real Moonraker does.
//! Not modelled: the OctoPrint-compatible `/api/` routes, `/server/files/directory`,
//! `/machine/`, `/server/temperature_store`, power devices, announcements.

// Handlers return the answer itself as their error (one per request, never stored).
#![allow(clippy::result_large_err)]

pub mod multipart;
pub mod push;
pub mod render;
pub mod script;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use polyprint::mockserver::MockServer;
use polyprint::sim::{Phase, SimError, SimGuard, SimJob, SimView, VirtualPrinter, EPOCH_BASE};
use polyprint::JobOutcome;
use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use render::{failure, ok, raw, result, Fail};

/// The API key the mock accepts (and, unless [`MoonrakerMock::require_api_key`], does not
/// need).
pub const MOCK_API_KEY: &str = "polyprint-mock-moonraker-key";

/// The mock's webcam's name.
pub const WEBCAM: &str = "polyprint-sim";

/// What the mock keeps beside the virtual printer: Klipper's and Moonraker's own state.
#[derive(Debug)]
pub struct MockState {
    /// The job `SDCARD_RESET_FILE` (or a failed start) cleared: shown as `standby`.
    pub reset_job: Option<u32>,
    /// A `PAUSE` while idle set the pause flag.
    pub idle_paused: bool,
    /// A start while paused left the pause flag set on the new job.
    pub stuck_paused: bool,
    /// Names given to `EXCLUDE_OBJECT` for the current job (upper case, any name).
    pub excluded: Vec<String>,
    excluded_job: Option<u32>,
    /// `toolhead.homed_axes`.
    pub homed: String,
    /// `G91` in effect.
    pub relative: bool,
    /// `M83` in effect.
    pub relative_e: bool,
    /// `SAVE_GCODE_STATE` states.
    pub saved: HashMap<String, (bool, bool)>,
    /// `M117`'s message.
    pub display_message: Option<String>,
    /// Whether Klippy connected since the mock started.
    pub ever_connected: bool,
    /// Shows a disconnected printer as Klippy `startup` instead of `disconnected`.
    pub offline_is_startup: bool,
    /// Whether a key is required.
    pub require_key: bool,
    /// The webcams.
    pub webcams: Vec<Value>,
    /// The G-code store.
    pub store: VecDeque<Value>,
    /// Counts Klippy restarts (the websocket announces each).
    pub generation: u64,
    /// No job or command since (re)start: `idle_timeout` `Idle`.
    pub fresh: bool,
    /// Queue entries removed (by index of the virtual printer's queue).
    pub dequeued: BTreeSet<usize>,
    /// Open websockets.
    pub websockets: usize,
}

impl Default for MockState {
    fn default() -> Self {
        MockState {
            reset_job: None,
            idle_paused: false,
            stuck_paused: false,
            excluded: Vec::new(),
            excluded_job: None,
            homed: "xyz".into(),
            relative: false,
            relative_e: false,
            saved: HashMap::new(),
            display_message: None,
            ever_connected: false,
            offline_is_startup: false,
            require_key: false,
            webcams: vec![default_webcam()],
            store: VecDeque::new(),
            generation: 0,
            fresh: true,
            dequeued: BTreeSet::new(),
            websockets: 0,
        }
    }
}

fn default_webcam() -> Value {
    json!({
        "name": WEBCAM, "enabled": true, "icon": "mdiWebcam", "aspect_ratio": "4:3",
        "target_fps": 15, "target_fps_idle": 5, "location": "printer",
        "service": "mjpegstreamer", "stream_url": "/webcam/?action=stream",
        "snapshot_url": "/webcam/?action=snapshot", "flip_horizontal": false,
        "flip_vertical": false, "rotation": 0, "source": "config", "extra_data": {},
        "uid": "5d2f3c8a-2c4e-4a55-9a31-8d5f3f0c0001"
    })
}

fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl MockState {
    /// Brings the bookkeeping up to date with the virtual printer.
    pub fn observe(&mut self, view: &SimView) {
        if !matches!(view.phase, Phase::Offline) {
            self.ever_connected = true;
        }
        let job = view.job.as_ref().map(|j| j.id);
        if job != self.excluded_job {
            self.excluded.clear();
            self.excluded_job = job;
        }
        if view.job.is_some() {
            self.fresh = false;
        }
    }

    /// After Klippy restarted.
    pub fn after_restart(&mut self) {
        self.homed.clear();
        self.idle_paused = false;
        self.stuck_paused = false;
        self.relative = false;
        self.relative_e = false;
        self.saved.clear();
        self.fresh = true;
        self.generation += 1;
    }

    fn log(&mut self, message: &str, kind: &str) {
        if self.store.len() >= 1000 {
            self.store.pop_front();
        }
        self.store
            .push_back(json!({"message": message, "time": wall_clock(), "type": kind}));
    }

    /// A command into the G-code store.
    pub fn log_command(&mut self, message: &str) {
        self.log(message, "command");
    }

    /// A response into the G-code store.
    pub fn log_response(&mut self, message: &str) {
        self.log(message, "response");
    }
}

/// The mock's state, shared by its HTTP routes and its websockets.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<MockState>>);

impl Shared {
    /// Locks it.
    pub fn lock(&self) -> MutexGuard<'_, MockState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running mock Moonraker. Stops when dropped.
pub struct MoonrakerMock {
    server: MockServer,
    state: Shared,
}

/// The registry's starter ([`crate::DESCRIPTOR`]): one variant.
pub(crate) fn start_for_registry(
    printer: VirtualPrinter,
    options: polyprint::descriptor::MockOptions,
) -> polyprint::descriptor::MockFuture {
    Box::pin(async move {
        Box::new(MoonrakerMock::start_on(printer, options.port).await)
            as Box<dyn polyprint::mockserver::VendorMock>
    })
}

/// Moonraker's 401.
fn unauthorized(detail: &str) -> ResponseTemplate {
    failure(&Fail::Reason(401, "Unauthorized", detail.into()), true)
}

impl MoonrakerMock {
    /// Starts a mock on a free port of 127.0.0.1.
    pub async fn start(printer: VirtualPrinter) -> MoonrakerMock {
        MoonrakerMock::start_on(printer, None).await
    }

    /// Starts a mock on a given port of 127.0.0.1 (`None` for a free one).
    pub async fn start_on(printer: VirtualPrinter, port: Option<u16>) -> MoonrakerMock {
        let state = Shared::default();
        let dialect = Dialect {
            state: state.clone(),
        };
        let socket = push::Socket {
            state: state.clone(),
        };
        let server = MockServer::start_with_socket(
            move |r: &Request, p: &VirtualPrinter| dialect.respond(r, p),
            socket,
            printer,
            || unauthorized("Invalid API Key"),
            port,
        )
        .await;
        MoonrakerMock { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The key the mock accepts ([`MOCK_API_KEY`]).
    pub fn api_key(&self) -> &str {
        MOCK_API_KEY
    }

    /// The server: journal and fault injection.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The virtual printer behind it.
    pub fn printer(&self) -> &VirtualPrinter {
        self.server.printer()
    }

    /// The mock's own state (Klipper's flags, the G-code store, the webcams).
    pub fn state(&self) -> MutexGuard<'_, MockState> {
        self.state.lock()
    }

    /// Makes the API key mandatory (as Moonraker without `trusted_clients`).
    pub fn require_api_key(&self, required: bool) {
        self.state.lock().require_key = required;
    }

    /// Shows a disconnected virtual printer as Klippy in `startup` (Klippy runs but cannot
    /// reach its MCU) rather than Klippy disconnected from Moonraker.
    pub fn set_offline_as_startup(&self, startup: bool) {
        self.state.lock().offline_is_startup = startup;
    }

    /// Sets `toolhead.homed_axes` (`""`: nothing homed).
    pub fn set_homed(&self, axes: &str) {
        self.state.lock().homed = axes.to_ascii_lowercase();
    }

    /// The G-code store's messages, oldest first.
    pub fn gcode_store(&self) -> Vec<String> {
        self.state
            .lock()
            .store
            .iter()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect()
    }
}

impl polyprint::mockserver::VendorMock for MoonrakerMock {
    fn mock_server(&self) -> &MockServer {
        self.server()
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credential(&self) -> String {
        MOCK_API_KEY.to_string()
    }
}

/// The REST dialect.
struct Dialect {
    state: Shared,
}

/// A request's parameter: from the query string, else from a JSON body.
fn param(r: &Request, name: &str) -> Option<String> {
    if let Some((_, v)) = r.url.query_pairs().find(|(k, _)| k == name) {
        return Some(v.into_owned());
    }
    let body: Value = serde_json::from_slice(&r.body).ok()?;
    match body.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// The objects of a query string: `name`, `name=field,field`.
fn query_spec(r: &Request) -> Vec<(String, Option<Vec<String>>)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    r.url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((name, fields)) => (
                decode(name),
                Some(
                    decode(fields)
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect(),
                ),
            ),
            None => (decode(p), None),
        })
        .collect()
}

fn history_status(outcome: Option<JobOutcome>) -> &'static str {
    match outcome {
        Some(JobOutcome::Finished) => "completed",
        Some(JobOutcome::Cancelled) => "cancelled",
        Some(JobOutcome::Failed) => "error",
        Some(JobOutcome::Running) | None => "in_progress",
        Some(_) => "interrupted",
    }
}

/// A file's metadata as Moonraker's parser gives it.
fn metadata(f: &polyprint::sim::SimFile) -> Value {
    let text = String::from_utf8_lossy(&f.content);
    let found = polyprint::gcode::GcodeMeta::parse_text(&text);
    let start = text
        .lines()
        .take_while(|l| l.trim_start().starts_with(';') || l.trim().is_empty())
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .min(f.content.len());
    let mut m = json!({
        "size": f.content.len(),
        "modified": f.uploaded as f64,
        "uuid": format!("00000000-0000-4000-8000-{:012x}", f.content.len()),
        "file_processors": [],
        "slicer": "Unknown",
        "slicer_version": "?",
        "gcode_start_byte": start,
        "gcode_end_byte": f.content.len(),
    });
    let zs: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("G1 ") || l.starts_with("G0 "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|w| w.strip_prefix('Z').and_then(|z| z.parse::<f64>().ok()))
        .filter(|z| z.is_finite() && *z > 0.0)
        .collect();
    if let (Some(min), Some(max)) = (
        zs.iter().copied().reduce(f64::min),
        zs.iter().copied().reduce(f64::max),
    ) {
        m["object_height"] = json!(max);
        m["first_layer_height"] = json!(min);
    }
    // The first temperatures the file sets (M104/M109, M140/M190).
    let first_temp = |codes: [&str; 2]| {
        text.lines().find_map(|l| {
            let mut words = l.split(';').next().unwrap_or_default().split_whitespace();
            let code = words.next()?;
            if !codes.contains(&code) {
                return None;
            }
            words.find_map(|w| w.strip_prefix('S')?.parse::<f64>().ok())
        })
    };
    if let Some(t) = first_temp(["M104", "M109"]) {
        m["first_layer_extr_temp"] = json!(t);
    }
    if let Some(t) = first_temp(["M140", "M190"]) {
        m["first_layer_bed_temp"] = json!(t);
    }
    if let Some(generator) = &found.generator {
        let (name, version) = generator.split_once(' ').unwrap_or((generator, "?"));
        m["slicer"] = json!(name);
        m["slicer_version"] = json!(version);
        if let Some(t) = found.estimated_time {
            m["estimated_time"] = json!(t.as_secs());
        }
        if let Some(f) = found.filament_mm {
            m["filament_total"] = json!(f);
        }
        if let Some(h) = found.layer_height {
            m["layer_height"] = json!(h);
        }
    }
    m
}

fn job_json(j: &SimJob, view: &SimView) -> Value {
    let stored = view.files.iter().find(|f| f.name == j.file.name);
    let mut meta = metadata(&j.file);
    if let Some(o) = meta.as_object_mut() {
        o.remove("print_start_time");
    }
    json!({
        "job_id": format!("{:06X}", j.id),
        "user": "_TRUSTED_USER_",
        "filename": j.file.name,
        "status": history_status(j.outcome),
        "start_time": (EPOCH_BASE as f64) + j.started_at.as_secs_f64(),
        "end_time": j.ended_at.map(|t| EPOCH_BASE as f64 + t.as_secs_f64()),
        "print_duration": if j.file.filament_mm.is_some() { j.printed.as_secs_f64() } else { 0.0 },
        "total_duration": j.printed.as_secs_f64(),
        "filament_used": j.file.filament_mm.map(|f| f * j.progress() / 100.0).unwrap_or(0.0),
        "metadata": meta,
        "auxiliary_data": [],
        "exists": stored.is_some(),
    })
}

/// The history, newest first: ended jobs and the running one.
fn history(view: &SimView) -> Vec<Value> {
    let mut jobs: Vec<&SimJob> = view.history.iter().collect();
    if let Some(j) = view.job.as_ref().filter(|j| j.outcome.is_none()) {
        jobs.push(j);
    }
    jobs.iter().rev().map(|j| job_json(j, view)).collect()
}

fn queue_json(view: &SimView, st: &MockState) -> Value {
    let jobs: Vec<Value> = view
        .queue
        .iter()
        .enumerate()
        .filter(|(i, _)| !st.dequeued.contains(i))
        .map(|(i, f)| {
            json!({"filename": f, "job_id": format!("{:016X}", 0x7F7F_03E9_D810_u64 + i as u64),
                "time_added": EPOCH_BASE as f64 + i as f64, "time_in_queue": 1.0})
        })
        .collect();
    json!({"queued_jobs": jobs, "queue_state": "paused"})
}

fn file_item(f: &polyprint::sim::SimFile) -> Value {
    json!({"path": f.name, "modified": f.uploaded as f64, "size": f.content.len(), "permissions": "rw"})
}

/// A path under a root without `..`, empty or absolute segments.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'))
}

impl Dialect {
    fn respond(&self, r: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
        match self.answer(r, printer) {
            Ok(t) | Err(t) => t,
        }
    }

    fn authorized(&self, r: &Request, st: &MockState, path: &str) -> Result<(), ResponseTemplate> {
        match r.headers.get("x-api-key") {
            Some(k) if k.as_bytes() == MOCK_API_KEY.as_bytes() => Ok(()),
            Some(_) => Err(unauthorized("Invalid API Key")),
            None if st.require_key && path != "/access/info" => Err(unauthorized("Unauthorized")),
            None => Ok(()),
        }
    }

    fn answer(
        &self,
        r: &Request,
        printer: &VirtualPrinter,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        let path = percent_decode_str(r.url.path())
            .decode_utf8_lossy()
            .into_owned();
        let method = r.method.as_str();
        // The web server in front of Moonraker serves the webcam (not Moonraker itself).
        if method == "GET" && (path == "/webcam/" || path == "/webcam") {
            return Ok(if param(r, "action").as_deref() == Some("snapshot") {
                ResponseTemplate::new(200)
                    .set_body_raw(polyprint::sim::WEBCAM_JPEG.to_vec(), "image/jpeg")
            } else {
                ResponseTemplate::new(404).set_body_raw("Not Found", "text/plain")
            });
        }
        let mut g = printer.lock();
        let view = g.view();
        let shared = self.state.clone();
        let mut st = shared.lock();
        st.observe(&view);
        self.authorized(r, &st, &path)?;
        let k = render::klippy(&view, &st);
        let ever = st.ever_connected;
        let fail = |f: Fail| failure(&f, ever);
        // Every `/printer/` route needs Klippy.
        if path.starts_with("/printer/") && !k.connected {
            return Err(fail(Fail::NotConnected));
        }
        let answer = match (method, path.as_str()) {
            ("GET", "/server/info") => result(200, render::server_info(&view, &st, st.websockets)),
            ("GET", "/access/info") => {
                let trusted = !st.require_key;
                result(
                    200,
                    json!({"default_source": "moonraker", "available_sources": ["moonraker"],
                        "login_required": false, "trusted": trusted}),
                )
            }
            ("GET", "/printer/info") => result(200, render::printer_info(&view, &st)),
            ("GET", "/printer/objects/list") => {
                let all = render::objects(&view, &st);
                result(200, json!({ "objects": render::object_list(&all) }))
            }
            ("GET", "/printer/objects/query") => {
                let all = render::objects(&view, &st);
                let status = render::query(&all, &query_spec(r));
                result(
                    200,
                    json!({"eventtime": render::eventtime(&view), "status": status}),
                )
            }
            ("GET", "/printer/gcode/help") => {
                let help: Map<String, Value> = render::GCODE_HELP
                    .iter()
                    .map(|(c, h)| (c.to_string(), json!(h)))
                    .collect();
                result(200, Value::Object(help))
            }
            ("POST", "/printer/print/start") => {
                let file = param(r, "filename").unwrap_or_default();
                script::start(&mut g, &mut st, &k, &file).map_err(fail)?;
                ok()
            }
            ("POST", "/printer/print/pause") => {
                script::pause(&mut g, &mut st, &k).map_err(fail)?;
                ok()
            }
            ("POST", "/printer/print/resume") => {
                script::resume(&mut g, &mut st, &k).map_err(fail)?;
                ok()
            }
            ("POST", "/printer/print/cancel") => {
                script::cancel(&mut g, &mut st, &k).map_err(fail)?;
                ok()
            }
            ("POST", "/printer/gcode/script") => {
                let s = param(r, "script").unwrap_or_default();
                script::run(&s, &mut g, &mut st, &k).map_err(fail)?;
                ok()
            }
            ("POST", "/printer/emergency_stop") => {
                script::emergency_stop(&mut g, &mut st);
                ok()
            }
            ("POST", "/printer/firmware_restart") | ("POST", "/printer/restart") => {
                script::restart(&mut g, &mut st);
                ok()
            }
            ("GET", "/server/gcode_store") => {
                let count = param(r, "count")
                    .and_then(|c| c.parse::<usize>().ok())
                    .unwrap_or(100);
                let skip = st.store.len().saturating_sub(count);
                let entries: Vec<Value> = st.store.iter().skip(skip).cloned().collect();
                result(200, json!({ "gcode_store": entries }))
            }
            _ => return self.server_routes(r, method, &path, &mut g, &mut st, &view),
        };
        Ok(answer)
    }

    /// Moonraker's own routes (files, history, queue, webcams).
    fn server_routes(
        &self,
        r: &Request,
        method: &str,
        path: &str,
        g: &mut SimGuard<'_>,
        st: &mut MockState,
        view: &SimView,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        let ever = st.ever_connected;
        let fail = |f: Fail| failure(&f, ever);
        Ok(match (method, path) {
            ("GET", "/server/files/roots") => result(
                200,
                json!([
                    {"name": "config", "path": format!("{}/config", render::DATA_DIR), "permissions": "rw"},
                    {"name": "logs", "path": format!("{}/logs", render::DATA_DIR), "permissions": "r"},
                    {"name": "gcodes", "path": format!("{}/gcodes", render::DATA_DIR), "permissions": "rw"},
                ]),
            ),
            ("GET", "/server/files/list") => {
                let root = param(r, "root").unwrap_or_else(|| "gcodes".into());
                if root != "gcodes" {
                    result(200, json!([]))
                } else {
                    let mut files: Vec<Value> = view.files.iter().map(file_item).collect();
                    files.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
                    result(200, json!(files))
                }
            }
            ("GET", "/server/files/metadata") => {
                let name = param(r, "filename").unwrap_or_default();
                match view.files.iter().find(|f| f.name == name) {
                    Some(f) => {
                        let mut m = metadata(f);
                        let last = view
                            .history
                            .iter()
                            .chain(view.job.iter())
                            .filter(|j| j.file.name == name)
                            .last();
                        m["print_start_time"] =
                            json!(last.map(|j| EPOCH_BASE as f64 + j.started_at.as_secs_f64()));
                        m["job_id"] = json!(last.map(|j| format!("{:06X}", j.id)));
                        m["filename"] = json!(name);
                        result(200, m)
                    }
                    None => {
                        return Err(fail(Fail::Text(
                            404,
                            format!("Metadata not available for <{name}>"),
                        )))
                    }
                }
            }
            ("POST", "/server/files/upload") => self.upload(r, g, st)?,
            ("DELETE", p) if p.starts_with("/server/files/gcodes/") => {
                let name = &p["/server/files/gcodes/".len()..];
                match g.delete(name) {
                    Ok(()) => result(
                        200,
                        json!({"action": "delete_file", "item": {"modified": 0, "size": 0,
                            "permissions": "", "path": name, "root": "gcodes"}}),
                    ),
                    Err(SimError::FileInUse(_)) => {
                        return Err(fail(Fail::Reason(
                            403,
                            "Forbidden",
                            "File currently in use".into(),
                        )))
                    }
                    Err(_) => {
                        return Err(fail(Fail::Reason(
                            400,
                            "Bad Request",
                            format!("Invalid file path: gcodes/{name}"),
                        )))
                    }
                }
            }
            ("GET", p) if p.starts_with("/server/files/gcodes/") => {
                let name = &p["/server/files/gcodes/".len()..];
                match view.files.iter().find(|f| f.name == name) {
                    Some(f) => ResponseTemplate::new(200)
                        .set_body_raw(f.content.to_vec(), "application/octet-stream"),
                    None => {
                        return Err(fail(Fail::Text(
                            404,
                            format!("File does not exist: {name}"),
                        )))
                    }
                }
            }
            ("GET", "/server/history/list") => {
                let all = history(view);
                let limit = param(r, "limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(50);
                let start = param(r, "start")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut jobs = all.clone();
                if param(r, "order").as_deref() == Some("asc") {
                    jobs.reverse();
                }
                let jobs: Vec<Value> = jobs.into_iter().skip(start).take(limit).collect();
                result(200, json!({"count": all.len(), "jobs": jobs}))
            }
            ("GET", "/server/history/job") => {
                let uid = param(r, "uid").unwrap_or_default();
                match history(view)
                    .into_iter()
                    .find(|j| j["job_id"] == json!(uid))
                {
                    Some(job) => result(200, json!({ "job": job })),
                    None => return Err(fail(Fail::Text(404, format!("Invalid job uid: {uid}")))),
                }
            }
            ("GET", "/server/history/totals") => {
                let all = history(view);
                let sum = |k: &str| all.iter().filter_map(|j| j[k].as_f64()).sum::<f64>();
                let max = |k: &str| all.iter().filter_map(|j| j[k].as_f64()).fold(0.0, f64::max);
                result(
                    200,
                    json!({"job_totals": {"total_jobs": all.len() as f64, "total_time": sum("total_duration"),
                        "total_print_time": sum("print_duration"), "total_filament_used": sum("filament_used"),
                        "longest_job": max("total_duration"), "longest_print": max("print_duration")},
                        "auxiliary_totals": []}),
                )
            }
            ("GET", "/server/job_queue/status") => result(200, queue_json(view, st)),
            ("POST", "/server/job_queue/job") => {
                let files = param(r, "filenames").unwrap_or_default();
                let files: Vec<&str> = files
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .collect();
                if let Some(missing) = files.iter().find(|f| g.file(f).is_none()) {
                    return Err(fail(Fail::Text(
                        400,
                        format!("G-Code File {missing} does not exist"),
                    )));
                }
                for f in files {
                    let _ = g.enqueue(f);
                }
                result(200, queue_json(&g.view(), st))
            }
            ("DELETE", "/server/job_queue/job") => {
                if param(r, "all").as_deref() == Some("true") {
                    st.dequeued.extend(0..view.queue.len());
                } else {
                    let ids = param(r, "job_ids").unwrap_or_default();
                    for id in ids.split(',') {
                        if let Ok(n) = u64::from_str_radix(id.trim(), 16) {
                            if let Some(i) = n.checked_sub(0x7F7F_03E9_D810) {
                                st.dequeued.insert(i as usize);
                            }
                        }
                    }
                }
                result(200, queue_json(view, st))
            }
            ("GET", "/server/webcams/list") => result(200, json!({"webcams": st.webcams})),
            ("POST", "/server/webcams/item") => {
                let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let name = body["name"].as_str().unwrap_or_default().to_string();
                if name.is_empty() {
                    return Err(fail(Fail::Text(400, "No data for argument: name".into())));
                }
                let mut cam = default_webcam();
                if let (Some(c), Some(b)) = (cam.as_object_mut(), body.as_object()) {
                    for (k, v) in b {
                        c.insert(k.clone(), v.clone());
                    }
                    c.insert("source".into(), json!("database"));
                }
                st.webcams.retain(|w| w["name"] != json!(name));
                st.webcams.push(cam.clone());
                result(200, json!({ "webcam": cam }))
            }
            ("DELETE", "/server/webcams/item") => {
                let name = param(r, "name").unwrap_or_default();
                let Some(i) = st.webcams.iter().position(|w| w["name"] == json!(name)) else {
                    return Err(fail(Fail::Text(404, format!("Webcam {name} not found"))));
                };
                let cam = st.webcams.remove(i);
                result(200, json!({ "webcam": cam }))
            }
            _ => return Err(fail(Fail::Text(404, "Not Found".into()))),
        })
    }

    /// `POST /server/files/upload`: multipart `file`, `root`, `path`, `print`.
    fn upload(
        &self,
        r: &Request,
        g: &mut SimGuard<'_>,
        st: &mut MockState,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        let ever = st.ever_connected;
        let bad =
            |detail: &str| failure(&Fail::Reason(400, "Bad Request", detail.to_string()), ever);
        let content_type = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let fields = multipart::boundary(content_type)
            .and_then(|b| multipart::parse(&r.body, &b))
            .ok_or_else(|| bad("No file to upload"))?;
        let text = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name && f.filename.is_none())
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        };
        let file = fields
            .iter()
            .find(|f| f.name == "file" && f.filename.is_some())
            .ok_or_else(|| bad("No file to upload"))?;
        let root = text("root").unwrap_or_else(|| "gcodes".into());
        if root != "gcodes" {
            return Err(bad(&format!("Invalid root request: {root}")));
        }
        let base = file.filename.clone().unwrap_or_default();
        let dir = text("path").unwrap_or_default();
        let dir = dir.trim_matches('/');
        let name = if dir.is_empty() {
            base
        } else {
            format!("{dir}/{base}")
        };
        if !safe_path(&name) {
            return Err(bad(&format!("Cannot write to path: {name}")));
        }
        let stored = match g.store(&name, bytes::Bytes::from(file.data.clone())) {
            Ok(f) => f,
            Err(SimError::FileInUse(_)) => {
                return Err(failure(
                    &Fail::Reason(403, "Forbidden", "File currently in use".into()),
                    ever,
                ))
            }
            Err(e) => return Err(failure(&Fail::Text(500, e.to_string()), ever)),
        };
        let print = text("print").is_some_and(|p| p.eq_ignore_ascii_case("true"));
        let mut started = false;
        if print {
            let view = g.view();
            let k = render::klippy(&view, st);
            started = script::start(g, st, &k, &name).is_ok();
        }
        Ok(raw(
            201,
            json!({"action": "create_file", "item": {"modified": stored.uploaded as f64,
                "size": stored.content.len(), "permissions": "rw", "path": name, "root": "gcodes"},
                "print_started": started, "print_queued": false}),
        ))
    }
}
