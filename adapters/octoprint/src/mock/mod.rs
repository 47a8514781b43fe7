//! [`OctoPrintMock`]: a server on 127.0.0.1 that answers like OctoPrint 1.11.8 over the
//! virtual printer (feature `mock`).
//!
//! Same paths, status codes, bodies and quirks as the real server (see
//! `shared/specs/octoprint.md` and `tests/fixtures/samples/octoprint/`): 204 with an empty
//! `text/plain` body for every successful command, 409 `"Printer is not operational"` from
//! `/api/printer` while offline, 403 for a bad key on a GET but 400 `"CSRF validation failed"`
//! on a POST or DELETE, Flask's generic 404 text, a 500 HTML page for a snapshot without a
//! camera. The journal and fault injection come from [`polyprint::mockserver::MockServer`].
//!
//! Timings as the real server's (measured, and checked by the fidelity test): a connect
//! without a port autodetects ("Detecting serial connection", [`AUTODETECT`]) before it is
//! Operational; temperatures come [`TEMPS_AFTER_CONNECT`] after a connect.
//!
//! What the mock does not model: the short `Starting`, `Finishing`, `Connecting` states (the
//! virtual printer has no such phases), `restart`, SD cards, slicing, folders' creation, and
//! changing settings (`/api/settings` answers the recorded shape of a real server). File
//! hashes are stable but not SHA-1. The push channel, `/sockjs/websocket`, is in [`push`].

// Handlers return the answer itself as their error (one per request, never stored).
#![allow(clippy::result_large_err)]

mod appkeys;
mod multipart;
pub mod push;
pub mod render;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use polyprint::mockserver::MockServer;
use polyprint::sim::{Phase, SimError, SimGuard, VirtualPrinter, WEBCAM_JPEG};
use polyprint::validate::FileName;
use polyprint::Heater;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

/// The API key the mock accepts.
pub const MOCK_API_KEY: &str = "polyprint-mock-octoprint-key";

/// The message of OctoPrint's 403.
pub const FORBIDDEN: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";
/// Flask's generic 404 text, which OctoPrint sends for a missing file too.
pub const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
/// The 500 text, e.g. for a negative temperature.
pub const INTERNAL: &str = "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.";
/// `/downloads/camera/current` without a camera.
pub const SNAPSHOT_500_HTML: &str =
    "<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>";
/// The G-code that makes OctoPrint's virtual printer fail.
pub const DEBUG_FATAL: &str = "!!DEBUG:trigger_fatal_error_marlin";
/// The error that follows [`DEBUG_FATAL`].
pub const THERMAL_RUNAWAY: &str =
    "Thermal Runaway, system stopped! Heater_ID: bed - Printer halted. kill() called!";
const NOT_OPERATIONAL: &str = "Printer is not operational";
/// A command without one of its required parameters.
const MANDATORY_MISSING: &str = "Mandatory parameters missing";
const NOT_OPERATIONAL_OR_PRINTING: &str = "Printer is not operational or currently printing";
const NO_JSON: &str = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.";
const BAD_COMMAND: &str = "command is invalid";
const EXTENSIONS: [&str; 3] = ["gcode", "gco", "g"];

/// A running mock OctoPrint. Stops when dropped.
pub struct OctoPrintMock {
    server: MockServer,
    webcam: Arc<AtomicBool>,
    app_keys: appkeys::AppKeys,
}

/// The registry's starter ([`crate::DESCRIPTOR`]): one variant.
pub(crate) fn start_for_registry(
    printer: VirtualPrinter,
    options: polyprint::descriptor::MockOptions,
) -> polyprint::descriptor::MockFuture {
    Box::pin(async move {
        Box::new(OctoPrintMock::start_on(printer, options.port).await)
            as Box<dyn polyprint::mockserver::VendorMock>
    })
}

impl OctoPrintMock {
    /// Starts a mock on a free port of 127.0.0.1.
    pub async fn start(printer: VirtualPrinter) -> OctoPrintMock {
        OctoPrintMock::start_on(printer, None).await
    }

    /// Starts a mock on a given port of 127.0.0.1 (`None` for a free one).
    pub async fn start_on(printer: VirtualPrinter, port: Option<u16>) -> OctoPrintMock {
        let webcam = Arc::new(AtomicBool::new(false));
        let sessions = push::Sessions::default();
        let selection = Selection::default();
        let app_keys = appkeys::AppKeys::default();
        let link = Link::default();
        let dialect = Dialect {
            webcam: webcam.clone(),
            sessions: sessions.clone(),
            selection: selection.clone(),
            app_keys: app_keys.clone(),
            link: link.clone(),
        };
        let server = MockServer::start_with_socket(
            move |r: &Request, p: &VirtualPrinter| dialect.respond(r, p),
            push::Socket {
                sessions,
                selection,
                link,
            },
            printer,
            || error(403, FORBIDDEN),
            port,
        )
        .await;
        OctoPrintMock {
            server,
            webcam,
            app_keys,
        }
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

    /// With `true`, a webcam can take snapshots: `/api/settings` says `canSnapshot: true` and
    /// `/downloads/camera/current` serves the virtual printer's JPEG. Default `false`, like a
    /// fresh OctoPrint (500 HTML).
    pub fn set_webcam(&self, on: bool) {
        self.webcam.store(on, Ordering::Relaxed);
    }

    /// Decides the Application Keys requests (`/plugin/appkeys/request`), made and to come,
    /// as the person at the web UI would: approved, the poll answers the mock's key; denied,
    /// 404. Until this is called they wait (202).
    pub fn decide_app_keys(&self, approve: bool) {
        self.app_keys.decide(approve);
    }
}

/// A JSON error `{"error": message}`.
pub fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": message }))
}

/// OctoPrint's success for a command: 204, empty body, `text/plain`.
pub fn no_content() -> ResponseTemplate {
    ResponseTemplate::new(204).set_body_raw(Vec::new(), "text/plain")
}

fn ok(value: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(value)
}

struct Dialect {
    webcam: Arc<AtomicBool>,
    sessions: push::Sessions,
    selection: Selection,
    app_keys: appkeys::AppKeys,
    link: Link,
}

/// How long the real server takes to report temperatures after a connect: its first
/// temperature autoreport came about 2 s after `connect` (measured on OctoPrint 1.11.8).
pub const TEMPS_AFTER_CONNECT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a `connect` without a port autodetects before it settles on the virtual port. It
/// depends on the host's serial ports (`/dev/ttyS*`, each probed in turn): 7 s when issue 13
/// measured it, 12 s under load on the CI machine (the fidelity test prints it); with a port
/// the connection is up at once. The fidelity test checks the states and the temperatures'
/// delay, not this host-bound duration.
pub const AUTODETECT: std::time::Duration = std::time::Duration::from_secs(7);

/// OctoPrint's state text while it autodetects.
pub const DETECTING: &str = "Detecting serial connection";

/// The serial link as the mock's connect commands made it, in virtual time: an
/// autodetection under way, and when the last connect took effect (temperatures follow
/// [`TEMPS_AFTER_CONNECT`] later). A printer connected from the start has its readings.
#[derive(Clone, Default)]
pub(crate) struct Link(Arc<std::sync::Mutex<LinkState>>);

#[derive(Default)]
struct LinkState {
    detecting_until: Option<std::time::Duration>,
    connected_at: Option<std::time::Duration>,
}

impl Link {
    fn state(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends an autodetection whose time has come: the printer connects then.
    pub(crate) fn settle(&self, g: &mut SimGuard<'_>) {
        let now = g.view().now;
        let mut s = self.state();
        if let Some(until) = s.detecting_until {
            if now >= until {
                s.detecting_until = None;
                s.connected_at = Some(until);
                g.connect();
            }
        }
    }

    /// Whether an autodetection is under way.
    pub(crate) fn detecting(&self) -> bool {
        self.state().detecting_until.is_some()
    }

    /// The printer as the server shows it: no readings until [`TEMPS_AFTER_CONNECT`] after a
    /// connect.
    pub(crate) fn view(&self, g: &SimGuard<'_>) -> polyprint::sim::SimView {
        let mut view = g.view();
        if let Some(at) = self.state().connected_at {
            if view.now.saturating_sub(at) < TEMPS_AFTER_CONNECT {
                view.readings_ready = false;
            }
        }
        view
    }

    fn connect(&self, g: &mut SimGuard<'_>, autodetect: bool) {
        let view = g.view();
        if render::operational(&view.phase) {
            return; // connecting while connected does nothing
        }
        let mut s = self.state();
        if autodetect {
            s.detecting_until.get_or_insert(view.now + AUTODETECT);
        } else {
            s.detecting_until = None;
            s.connected_at = Some(view.now);
            g.connect();
        }
    }

    fn disconnect(&self, g: &mut SimGuard<'_>) {
        self.state().detecting_until = None;
        g.disconnect();
    }
}

/// Shows an autodetection in a rendered `/api/job` (or push state) body.
pub(crate) fn detecting_job(mut job: Value) -> Value {
    job["state"] = json!(DETECTING);
    job
}

/// A file selected without printing it, and how many jobs had ended then: a job that ends
/// after it (or a deleted file) makes the selection stale.
#[derive(Clone, Default)]
pub(crate) struct Selection(Arc<std::sync::Mutex<Option<(String, usize)>>>);

impl Selection {
    fn set(&self, name: &str, g: &SimGuard<'_>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((name.to_string(), g.view().history.len()));
    }

    /// The selected file, while the selection holds.
    pub(crate) fn file(&self, view: &polyprint::sim::SimView) -> Option<polyprint::sim::SimFile> {
        let selected = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (name, ended) = selected?;
        if ended != view.history.len() {
            return None;
        }
        view.files.iter().find(|f| f.name == name).cloned()
    }
}

/// A fresh random token of `hex` hex digits (a multiple of 16), for sessions and app tokens.
fn random_token(hex: usize) -> String {
    (0..hex / 16)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

/// A path with every run of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn authorized(r: &Request) -> bool {
    let by_header = header(r, "x-api-key") == Some(MOCK_API_KEY);
    let by_bearer = header(r, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| k == MOCK_API_KEY);
    let by_query = r
        .url
        .query_pairs()
        .any(|(k, v)| k == "apikey" && v == MOCK_API_KEY);
    by_header || by_bearer || by_query
}

/// The `http://host:port` the client used, from the Host header (as OctoPrint builds refs).
fn origin_url(r: &Request) -> String {
    match header(r, "host") {
        Some(h) => format!("http://{h}"),
        None => format!(
            "http://{}:{}",
            r.url.host_str().unwrap_or("127.0.0.1"),
            r.url.port().unwrap_or(80)
        ),
    }
}

/// The JSON body of a command, or OctoPrint's 415/400.
fn json_body(r: &Request) -> Result<Value, ResponseTemplate> {
    let ct = header(r, "content-type").unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(error(415, NO_JSON));
    }
    serde_json::from_slice::<Value>(&r.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| error(400, "Malformed JSON body in request"))
}

fn command_of(body: &Value) -> &str {
    body.get("command").and_then(Value::as_str).unwrap_or("")
}

/// A temperature value as OctoPrint checks it: a number (else 400), not negative (else its
/// server-side ValueError, a 500).
fn temperature(v: Option<&Value>, invalid: &str) -> Result<f64, ResponseTemplate> {
    match v.and_then(Value::as_f64) {
        Some(t) if t < 0.0 => Err(error(500, INTERNAL)),
        Some(t) => Ok(t),
        None => Err(error(400, invalid)),
    }
}

fn sim_error(e: SimError, command: &str) -> ResponseTemplate {
    match e {
        SimError::NotOperational => error(409, NOT_OPERATIONAL),
        SimError::AlreadyPrinting => error(
            409,
            "Printer already has an active print job, did you mean 'restart'?",
        ),
        SimError::FileNotFound(_) | SimError::NoSuchObject(_) => error(404, NOT_FOUND),
        SimError::FileInUse(_) => error(409, "Trying to delete a file that is currently in use"),
        SimError::NoJob | SimError::NotPaused | SimError::NotPrinting => error(
            409,
            &format!(
                "Printer is neither printing nor paused, '{command}' command cannot be performed"
            ),
        ),
    }
}

fn done(result: Result<(), SimError>, command: &str) -> ResponseTemplate {
    match result {
        Ok(()) => no_content(),
        Err(e) => sim_error(e, command),
    }
}

impl Dialect {
    fn respond(&self, r: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
        // Tornado answers `//api/printer/bed` like `/api/printer/bed`.
        let path = collapse_slashes(r.url.path());
        let method = r.method.as_str().to_string();
        let guarded = path.starts_with("/api/") || path.starts_with("/downloads/");
        if guarded && !authorized(r) {
            return match method.as_str() {
                "GET" | "HEAD" | "OPTIONS" => error(403, FORBIDDEN),
                _ => error(400, "CSRF validation failed"),
            };
        }
        if let Some(answer) = self.app_keys.route(r, &path) {
            return answer;
        }
        if path == "/api/login" {
            return push::route(r, &self.sessions);
        }
        let mut g = printer.lock();
        self.link.settle(&mut g);
        match (method.as_str(), path.as_str()) {
            ("GET", "/api/version") => ok(json!({
                "api": "0.1",
                "server": render::VERSION,
                "text": format!("OctoPrint {}", render::VERSION),
            })),
            ("GET", "/api/server") => ok(json!({"safemode": null, "version": render::VERSION})),
            ("GET", "/api/settings") => ok(render::settings(self.webcam.load(Ordering::Relaxed))),
            ("GET", "/api/connection") => {
                let mut body = render::connection(&g.view());
                if self.link.detecting() {
                    body["current"]["state"] = json!(DETECTING);
                }
                ok(body)
            }
            ("POST", "/api/connection") => connection_command(r, &mut g, &self.link),
            ("GET", "/api/printer") => {
                let view = self.link.view(&g);
                if !render::operational(&view.phase) {
                    return error(409, NOT_OPERATIONAL);
                }
                let exclude: Vec<String> = r
                    .url
                    .query_pairs()
                    .filter(|(k, _)| k == "exclude")
                    .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
                    .collect();
                let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
                ok(render::printer(&view, &exclude))
            }
            ("GET", "/api/printer/tool" | "/api/printer/bed" | "/api/printer/chamber") => {
                let view = self.link.view(&g);
                if !render::operational(&view.phase) {
                    return error(409, NOT_OPERATIONAL);
                }
                let which = path.rsplit('/').next().unwrap_or_default().to_string();
                if which == "chamber" && !has_chamber(&g) {
                    return error(409, "Printer does not have a heated chamber");
                }
                let only = move |h: Heater| match h {
                    Heater::Tool(_) => which == "tool",
                    Heater::Bed => which == "bed",
                    Heater::Chamber => which == "chamber",
                };
                ok(render::temperatures(&view, Some(&only)))
            }
            ("GET", "/api/printer/sd") => {
                if !render::operational(&g.view().phase) {
                    return error(409, NOT_OPERATIONAL);
                }
                ok(json!({"ready": true}))
            }
            ("POST", "/api/printer/tool") => tool_command(r, &mut g),
            ("POST", "/api/printer/bed") => bed_command(r, &mut g, Heater::Bed),
            ("POST", "/api/printer/chamber") => bed_command(r, &mut g, Heater::Chamber),
            ("POST", "/api/printer/printhead") => printhead_command(r, &mut g),
            ("POST", "/api/printer/command") => gcode_command(r, &mut g),
            ("GET", "/api/job") => {
                let view = g.view();
                let job = render::job_or_selected(&view, self.selection.file(&view).as_ref());
                ok(if self.link.detecting() {
                    detecting_job(job)
                } else {
                    job
                })
            }
            ("POST", "/api/job") => job_command(r, &mut g, &self.selection),
            ("GET", "/api/files" | "/api/files/local") => {
                let recursive = r
                    .url
                    .query_pairs()
                    .any(|(k, v)| k == "recursive" && v == "true");
                ok(render::files(&origin_url(r), &g.view(), recursive))
            }
            ("POST", "/api/files/local") => upload(r, &mut g, &self.selection),
            (m, p) if p.starts_with("/api/files/local/") => {
                let name = percent_decode_str(&p["/api/files/local/".len()..])
                    .decode_utf8_lossy()
                    .into_owned();
                file_command(r, m, &name, &mut g, &self.selection)
            }
            ("GET", "/downloads/camera/current") => {
                if self.webcam.load(Ordering::Relaxed) {
                    ResponseTemplate::new(200).set_body_raw(WEBCAM_JPEG.to_vec(), "image/jpeg")
                } else {
                    ResponseTemplate::new(500)
                        .set_body_raw(SNAPSHOT_500_HTML, "text/html; charset=UTF-8")
                }
            }
            (_, p) if p.starts_with("/api/") => error(404, NOT_FOUND),
            _ => ResponseTemplate::new(404).set_body_raw(
                format!("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>{NOT_FOUND}</p>\n"),
                "text/html; charset=utf-8",
            ),
        }
    }
}

fn has_chamber(g: &SimGuard<'_>) -> bool {
    g.view().heaters.iter().any(|h| h.heater == Heater::Chamber)
}

fn operational_or_409(g: &SimGuard<'_>) -> Result<(), ResponseTemplate> {
    if render::operational(&g.view().phase) {
        Ok(())
    } else {
        Err(error(409, NOT_OPERATIONAL))
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response,
        }
    };
}

fn connection_command(r: &Request, g: &mut SimGuard<'_>, link: &Link) -> ResponseTemplate {
    let body = tri!(json_body(r));
    match command_of(&body) {
        // Without a port OctoPrint autodetects (AUTODETECT); with the virtual one it is up
        // at once.
        "connect" => match body.get("port") {
            None | Some(Value::Null) => {
                link.connect(g, true);
                no_content()
            }
            Some(p) if p.as_str() == Some(render::PORT) => {
                link.connect(g, false);
                no_content()
            }
            Some(_) => error(400, "port is invalid"),
        },
        "disconnect" => {
            link.disconnect(g);
            no_content()
        }
        _ => error(400, BAD_COMMAND),
    }
}

fn tool_command(r: &Request, g: &mut SimGuard<'_>) -> ResponseTemplate {
    let body = tri!(json_body(r));
    tri!(operational_or_409(g));
    match command_of(&body) {
        "target" => {
            // Absent: the command's mandatory parameter; present but not an object: the real
            // server fails inside (500).
            let targets = match body.get("targets") {
                None => return error(400, MANDATORY_MISSING),
                Some(t) => match t.as_object() {
                    Some(t) => t,
                    None => return error(500, INTERNAL),
                },
            };
            let mut checked = Vec::new();
            for (tool, value) in targets {
                let Some(n) = tool.strip_prefix("tool").and_then(|n| n.parse::<u8>().ok()) else {
                    return error(400, "targets contains invalid tool");
                };
                checked.push((
                    n,
                    tri!(temperature(Some(value), "targets contains invalid value")),
                ));
            }
            for (n, t) in checked {
                tri!(g
                    .set_target(Heater::Tool(n), t)
                    .map_err(|e| sim_error(e, "target")));
            }
            no_content()
        }
        "offset" | "select" | "flowrate" => no_content(),
        "extrude" if body.get("amount").is_none() => error(400, MANDATORY_MISSING),
        "extrude" => match body.get("amount").and_then(Value::as_f64) {
            Some(_)
                if g.view().state.has_active_job() && !matches!(g.view().phase, Phase::Paused) =>
            {
                error(409, "Printer is currently printing")
            }
            Some(_) => no_content(),
            None => error(400, "amount must be a valid number"),
        },
        _ => error(400, BAD_COMMAND),
    }
}

fn bed_command(r: &Request, g: &mut SimGuard<'_>, heater: Heater) -> ResponseTemplate {
    let body = tri!(json_body(r));
    tri!(operational_or_409(g));
    if heater == Heater::Chamber && !has_chamber(g) {
        return error(409, "Printer does not have a heated chamber");
    }
    match command_of(&body) {
        "target" => {
            let t = tri!(temperature(body.get("target"), "target is invalid"));
            done(g.set_target(heater, t), "target")
        }
        "offset" => no_content(),
        _ => error(400, BAD_COMMAND),
    }
}

fn printhead_command(r: &Request, g: &mut SimGuard<'_>) -> ResponseTemplate {
    let body = tri!(json_body(r));
    // OctoPrint refuses to move the head of a printer that is offline or printing (pausing,
    // resuming and cancelling included: its `printing` flag), with one text for both.
    let phase = g.view().phase;
    let printing = matches!(
        phase,
        Phase::Printing | Phase::Pausing(_) | Phase::Resuming(_) | Phase::Cancelling(_)
    );
    if !render::operational(&phase) || printing {
        return error(409, NOT_OPERATIONAL_OR_PRINTING);
    }
    match command_of(&body) {
        "jog" => {
            let mut d = [0.0; 3];
            for (i, axis) in ["x", "y", "z"].into_iter().enumerate() {
                match body.get(axis) {
                    None => {}
                    Some(v) => match v.as_f64() {
                        Some(mm) => d[i] = mm,
                        None => return error(400, "axis value is invalid"),
                    },
                }
            }
            if body.get("absolute").and_then(Value::as_bool) == Some(true) {
                let pos = g.view().position;
                for (i, axis) in ["x", "y", "z"].into_iter().enumerate() {
                    d[i] = if body.get(axis).is_some() {
                        d[i] - pos[i]
                    } else {
                        0.0
                    };
                }
            }
            done(g.jog(d[0], d[1], d[2]), "jog")
        }
        "home" => {
            let Some(axes) = body.get("axes") else {
                return error(400, MANDATORY_MISSING);
            };
            let Some(axes) = axes.as_array() else {
                return error(400, "axes is invalid");
            };
            let mut h = [false; 3];
            for a in axes {
                match a.as_str() {
                    Some("x") => h[0] = true,
                    Some("y") => h[1] = true,
                    Some("z") => h[2] = true,
                    _ => return error(400, "axis is invalid"),
                }
            }
            done(g.home(h[0], h[1], h[2]), "home")
        }
        "feedrate" => no_content(),
        _ => error(400, BAD_COMMAND),
    }
}

fn gcode_command(r: &Request, g: &mut SimGuard<'_>) -> ResponseTemplate {
    let body = tri!(json_body(r));
    tri!(operational_or_409(g));
    let lines: Vec<String> = if let Some(c) = body.get("command").and_then(Value::as_str) {
        vec![c.to_string()]
    } else if let Some(cs) = body.get("commands").and_then(Value::as_array) {
        cs.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    } else if body.get("script").is_some() {
        Vec::new()
    } else {
        return error(400, "Need one of 'command', 'commands' or 'script'");
    };
    if lines.iter().any(|l| l.trim() == DEBUG_FATAL) {
        g.fail(THERMAL_RUNAWAY);
        return no_content();
    }
    done(g.gcode(&lines), "command")
}

fn job_command(r: &Request, g: &mut SimGuard<'_>, selection: &Selection) -> ResponseTemplate {
    let body = tri!(json_body(r));
    let command = command_of(&body).to_string();
    if !matches!(command.as_str(), "start" | "restart" | "pause" | "cancel") {
        return error(400, BAD_COMMAND);
    }
    tri!(operational_or_409(g));
    let view = g.view();
    let printing = matches!(
        view.phase,
        Phase::Printing | Phase::Pausing(_) | Phase::Resuming(_) | Phase::Cancelling(_)
    );
    let paused = matches!(view.phase, Phase::Paused);
    match command.as_str() {
        "start" => {
            if printing || paused {
                return sim_error(SimError::AlreadyPrinting, "start");
            }
            // The selected file: one selected without printing, else the last job's (printed
            // again); with none, 204 and nothing.
            match (selection.file(&view), view.job) {
                (Some(file), _) => done(g.start(&file.name), "start"),
                (None, Some(job)) => done(g.start(&job.file.name), "start"),
                (None, None) => no_content(),
            }
        }
        "restart" => error(
            409,
            "Printer does not have an active print job or is not paused",
        ),
        "pause" => {
            if !printing && !paused {
                return sim_error(SimError::NoJob, "pause");
            }
            let action = body
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("toggle");
            let result = match action {
                "pause" => g.pause(),
                "resume" => g.resume(),
                "toggle" if paused => g.resume(),
                "toggle" => g.pause(),
                _ => return error(400, &format!("Unknown action '{action}'")),
            };
            // OctoPrint ignores a pause or resume that does not fit the state.
            match result {
                Err(SimError::NotOperational) => error(409, NOT_OPERATIONAL),
                _ => no_content(),
            }
        }
        _ => {
            if !printing && !paused {
                return sim_error(SimError::NoJob, "cancel");
            }
            done(g.cancel(), "cancel")
        }
    }
}

fn upload(r: &Request, g: &mut SimGuard<'_>, selection: &Selection) -> ResponseTemplate {
    const NO_FILE: &str = "No file to upload and no folder to create";
    let parts = header(r, "content-type")
        .and_then(multipart::boundary)
        .and_then(|b| multipart::parse(&r.body, &b))
        .unwrap_or_default();
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    };
    let Some(file) = parts
        .iter()
        .find(|p| p.name == "file" && p.filename.is_some())
    else {
        return error(400, NO_FILE);
    };
    // OctoPrint keeps the base name and drops dots around it (`a/../b.gcode` is stored as
    // `b.gcode`, `.hidden.gcode` as `hidden.gcode`; measured on 1.11.8).
    let given = file.filename.clone().unwrap_or_default();
    let base = given
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim_matches('.')
        .to_string();
    let folder = field("path").unwrap_or_default();
    let folder = folder.trim_matches('/');
    let path = if folder.is_empty() {
        base.clone()
    } else {
        format!("{folder}/{base}")
    };
    // What is left without a G-code extension (`..`, ` .gcode`) is refused as a type.
    let ext_ok = base.rsplit_once('.').is_some_and(|(stem, e)| {
        !stem.trim().is_empty() && EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
    });
    if !ext_ok {
        return error(415, "Could not upload file, invalid type");
    }
    let Ok(name) = FileName::parse(&path) else {
        return error(400, "Can not upload file, invalid name");
    };
    let truthy = |v: Option<String>| v.is_some_and(|v| matches!(v.as_str(), "true" | "yes" | "1"));
    let select = truthy(field("select"));
    let print = truthy(field("print"));
    if let Err(e) = g.store(name.as_str(), Bytes::from(file.data.clone())) {
        return match e {
            SimError::FileInUse(_) => error(
                409,
                "Trying to overwrite file that is currently being printed",
            ),
            other => sim_error(other, "upload"),
        };
    }
    let printing = print && g.start(name.as_str()).is_ok();
    if select && !print {
        selection.set(name.as_str(), g);
    }
    let origin = origin_url(r);
    let body = render::upload(&origin, name.as_str(), select || print, printing);
    let location = body["files"]["local"]["refs"]["resource"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ResponseTemplate::new(201)
        .set_body_json(body)
        .insert_header("location", location.as_str())
}

fn file_command(
    r: &Request,
    method: &str,
    name: &str,
    g: &mut SimGuard<'_>,
    selection: &Selection,
) -> ResponseTemplate {
    let file = g.file(name);
    match method {
        "GET" => match file {
            Some(f) => ok(render::file(&origin_url(r), &f, &g.view().history)),
            None => error(404, NOT_FOUND),
        },
        "DELETE" => {
            if file.is_none() {
                return error(404, NOT_FOUND);
            }
            done(g.delete(name), "delete")
        }
        "POST" => {
            let body = tri!(json_body(r));
            if file.is_none() {
                return error(404, NOT_FOUND);
            }
            match command_of(&body) {
                "select" => {
                    let print = body.get("print").and_then(Value::as_bool) == Some(true);
                    if g.view().state.has_active_job() {
                        return error(409, "Printer is already printing, cannot select a new file");
                    }
                    if !print {
                        selection.set(name, g);
                        return no_content();
                    }
                    if !render::operational(&g.view().phase) {
                        return error(
                            409,
                            "Printer is not operational, cannot directly start printing",
                        );
                    }
                    done(g.start(name), "select")
                }
                _ => error(400, BAD_COMMAND),
            }
        }
        _ => error(405, "The method is not allowed for the requested URL."),
    }
}

impl polyprint::mockserver::VendorMock for OctoPrintMock {
    fn mock_server(&self) -> &MockServer {
        self.server()
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credential(&self) -> String {
        OctoPrintMock::api_key(self).to_string()
    }
}
