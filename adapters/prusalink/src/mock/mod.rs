//! [`PrusaLinkMock`]: a server on 127.0.0.1 that answers like the PrusaLink 0.8.1 daemon over
//! the virtual printer (feature `mock`).
//!
//! Same paths, status codes, bodies and quirks as the real server (`shared/specs/prusalink.md`
//! and `tests/fixtures/samples/prusalink/`):
//!
//! * auth on every path: `X-Api-Key`, or HTTP Digest for user `maker` with `MD5-sess` only
//!   (a plain-MD5 answer gets 401); a wrong key is 403 `Bad X-Api-Key.`, none or a bad digest
//!   401 with the challenge and an HTML page;
//! * `text/plain` error bodies (title, text, `See:` line), 204 with an empty `text/html` body
//!   for commands and for `/api/v1/job` without a running or paused job, 201 for an upload;
//! * FINISHED and STOPPED for 11 s (virtual time) after a job ends, then IDLE, with a start
//!   refused meanwhile; pause, resume and cancel read PRINTING until the virtual printer
//!   settles; `axis_x`/`axis_y` absent while printing; job ids by number, 404 "Not Current
//!   Job" for another one, 204 for an unknown job command;
//! * an uploaded file invisible for [`UPLOAD_LAG`] (real time) and a deleted one still listed
//!   as long, 409 for an existing name without `Overwrite: ?1`, 415 for a file that is not
//!   G-code.
//!
//! Differences, on purpose: a name with a `..` segment is refused with 400 (the real 0.8.1
//! writes it outside its storage); overwriting the file being printed answers 201 as the
//! real server does but leaves the virtual printer's file unchanged; the printer without a
//! connection is PrusaLink without a printer (200 ERROR "Serial device does not exist"), and
//! a printer error shows as the firmware's "Firmware detected a hardware issue". Not
//! modelled: the startup 503, BUSY, the SD card's files, the OctoPrint-style legacy API
//! (`/api/printer`, `/api/job`, `/api/files`), cameras (the list is empty and a snapshot 404,
//! as without a camera).

// Handlers return the answer itself as their error (one per request, never stored).
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use percent_encoding::percent_decode_str;
use polyprint::digest::Challenge;
use polyprint::mockserver::MockServer;
use polyprint::sim::{Phase, SimError, SimFile, SimGuard, SimView, VirtualPrinter};
use polyprint::{Backend, Heater, JobOutcome};
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

/// The API key the mock accepts.
pub const MOCK_API_KEY: &str = "polyprint-mock-prusalink-key";
/// The Digest user.
pub const MOCK_USER: &str = "maker";
/// The Digest password.
pub const MOCK_PASSWORD: &str = "polyprint-mock-pass";
/// PrusaLink's Digest realm.
pub const REALM: &str = "Administrator";
/// How long FINISHED and STOPPED last before IDLE (PrusaLink's `PRINT_END_TIMEOUT`).
pub const END_STATE_FOR: Duration = Duration::from_secs(11);
/// How long an uploaded file stays invisible, and a deleted one listed (real time;
/// PrusaLink: 0.07–0.24 s and 0.12 s).
pub const UPLOAD_LAG: Duration = Duration::from_millis(150);
/// The storage folder's name.
pub const STORAGE: &str = "PrusaLink gcodes";
/// The body of the 403 for a wrong key.
pub const BAD_API_KEY: &str = "Bad X-Api-Key.";
const EXTENSIONS: [&str; 3] = ["gcode", "gco", "g"];

/// A running mock PrusaLink. Stops when dropped.
pub struct PrusaLinkMock {
    server: MockServer,
}

/// The registry's starter ([`crate::DESCRIPTOR`]): one variant.
pub(crate) fn start_for_registry(
    printer: VirtualPrinter,
    options: polyprint::descriptor::MockOptions,
) -> polyprint::descriptor::MockFuture {
    Box::pin(async move {
        Box::new(PrusaLinkMock::start_on(printer, options.port).await)
            as Box<dyn polyprint::mockserver::VendorMock>
    })
}

fn random_hex64() -> String {
    (0..4)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

impl PrusaLinkMock {
    /// Starts a mock on a free port of 127.0.0.1.
    pub async fn start(printer: VirtualPrinter) -> PrusaLinkMock {
        PrusaLinkMock::start_on(printer, None).await
    }

    /// Starts a mock on a given port of 127.0.0.1 (`None` for a free one).
    pub async fn start_on(printer: VirtualPrinter, port: Option<u16>) -> PrusaLinkMock {
        let dialect = Dialect {
            challenge: Challenge {
                realm: REALM.into(),
                nonce: random_hex64(),
                opaque: Some(random_hex64()),
                algorithm: polyprint::digest::Algorithm::Md5Sess,
                qop_auth: true,
                stale: false,
            },
            uploaded: Arc::default(),
            deleted: Arc::default(),
        };
        let server = MockServer::start_on(
            move |r: &Request, p: &VirtualPrinter| dialect.respond(r, p),
            printer,
            bad_api_key,
            port,
        )
        .await;
        PrusaLinkMock { server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The key the mock accepts ([`MOCK_API_KEY`]).
    pub fn api_key(&self) -> &str {
        MOCK_API_KEY
    }

    /// The Digest credential the mock accepts, as `user:password`.
    pub fn digest_credential(&self) -> String {
        format!("{MOCK_USER}:{MOCK_PASSWORD}")
    }

    /// The server: journal and fault injection.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The virtual printer behind it.
    pub fn printer(&self) -> &VirtualPrinter {
        self.server.printer()
    }
}

impl polyprint::mockserver::VendorMock for PrusaLinkMock {
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

/// PrusaLink's 403 for a wrong key.
fn bad_api_key() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_raw(BAD_API_KEY, "text/html; charset=utf-8")
}

/// A success without a body (201, 204): `text/html`, `Content-Length: 0`.
fn empty(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(Vec::new(), "text/html; charset=utf-8")
}

fn ok(value: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        serde_json::to_vec(&value).expect("a JSON value serialises"),
        "application/json; charset=utf-8",
    )
}

/// How a PrusaLink text error ends (each as recorded).
#[derive(Clone, Copy)]
enum Tail<'a> {
    /// A `See:` line on the request's own origin, naming an error page.
    See(&'a str),
    /// Nothing after the text's line.
    Bare,
}

/// PrusaLink's text error: title, text, and its tail.
fn text_error(
    r: &Request,
    status: u16,
    title: &str,
    text: &str,
    tail: Tail<'_>,
) -> ResponseTemplate {
    let mut body = format!("{title}\n{text}\n");
    if let Tail::See(id) = tail {
        body.push_str("\n\n");
        let host = r
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
            })
            .unwrap_or("127.0.0.1");
        body.push_str(&format!("See: http://{host}/error/{id}"));
    }
    ResponseTemplate::new(status).set_body_raw(body, "text/plain; charset=utf-8")
}

fn not_found(r: &Request) -> ResponseTemplate {
    text_error(
        r,
        404,
        "File Not Found",
        "File you want was not found.",
        Tail::See("not-found"),
    )
}

fn not_printing(r: &Request) -> ResponseTemplate {
    text_error(
        r,
        409,
        "Printer Is Not Printing",
        "Operation you want can only be done when printer is printing.",
        Tail::Bare,
    )
}

struct Dialect {
    challenge: Challenge,
    /// Files uploaded lately, by path, with when: invisible until [`UPLOAD_LAG`] has passed.
    uploaded: Arc<Mutex<HashMap<String, Instant>>>,
    /// Files deleted lately, with when: still listed until [`UPLOAD_LAG`] has passed.
    deleted: Arc<Mutex<HashMap<String, (Instant, SimFile)>>>,
}

/// PrusaLink's state words for the virtual printer, and whether a job shows.
fn state_word(view: &SimView) -> (&'static str, bool) {
    let ended_lately = |outcome| {
        view.job.as_ref().is_some_and(|j| {
            j.outcome == Some(outcome)
                && j.ended_at
                    .is_some_and(|t| view.now.saturating_sub(t) < END_STATE_FOR)
        })
    };
    match &view.phase {
        Phase::Offline | Phase::Error(_) => ("ERROR", false),
        Phase::Printing | Phase::Paused if view.attention.is_some() => ("ATTENTION", true),
        Phase::Printing | Phase::Pausing(_) | Phase::Resuming(_) | Phase::Cancelling(_) => {
            ("PRINTING", true)
        }
        Phase::Paused => ("PAUSED", true),
        Phase::Idle if ended_lately(JobOutcome::Finished) => ("FINISHED", false),
        Phase::Idle if ended_lately(JobOutcome::Cancelled) => ("STOPPED", false),
        Phase::Idle => ("IDLE", false),
    }
}

fn heater(view: &SimView, which: Heater) -> Option<(f64, f64)> {
    view.heaters
        .iter()
        .find(|h| h.heater == which)
        .map(|h| ((h.actual * 10.0).round() / 10.0, h.target))
}

/// `/api/v1/status`.
fn status_body(view: &SimView) -> Value {
    let (state, with_job) = state_word(view);
    let storage = json!([
        {"path": "/local", "read_only": false, "free_space": 75_122_610_176_u64, "name": STORAGE},
        {"path": "/sdcard", "read_only": true, "name": "SD Card"}
    ]);
    let mut printer = serde_json::Map::new();
    printer.insert("state".into(), json!(state));
    let status_connect = json!({"ok": true, "message": "Connect isn't configured"});
    match &view.phase {
        Phase::Offline => {
            printer.insert("status_connect".into(), status_connect);
            printer.insert(
                "status_printer".into(),
                json!({"ok": false, "message": crate::mapping::NO_PRINTER}),
            );
            return json!({"storage": storage, "printer": printer});
        }
        _ => {
            if view.readings_ready {
                if let Some((actual, _)) = heater(view, Heater::Tool(0)) {
                    printer.insert("temp_nozzle".into(), json!(actual));
                }
                if let Some((actual, _)) = heater(view, Heater::Bed) {
                    printer.insert("temp_bed".into(), json!(actual));
                }
            }
            printer.insert("axis_z".into(), json!(view.position[2]));
            printer.insert("flow".into(), json!(100));
            printer.insert("speed".into(), json!(100));
            printer.insert("fan_hotend".into(), json!(0));
            printer.insert("fan_print".into(), json!(0));
            printer.insert("status_connect".into(), status_connect);
            let health = match &view.phase {
                Phase::Error(_) => {
                    json!({"ok": false, "message": "Firmware detected a hardware issue"})
                }
                _ => json!({"ok": true, "message": "OK"}),
            };
            printer.insert("status_printer".into(), health);
            if view.readings_ready {
                if let Some((_, target)) = heater(view, Heater::Tool(0)) {
                    printer.insert("target_nozzle".into(), json!(target));
                }
                if let Some((_, target)) = heater(view, Heater::Bed) {
                    printer.insert("target_bed".into(), json!(target));
                }
            }
            // The X and Y axes are not reported while printing.
            if state != "PRINTING" {
                printer.insert("axis_x".into(), json!(view.position[0]));
                printer.insert("axis_y".into(), json!(view.position[1]));
            }
        }
    }
    let mut body = json!({"storage": storage, "printer": printer});
    if let (true, Some(job)) = (with_job, &view.job) {
        body["job"] = json!({
            "id": job.id,
            "progress": (job.progress() * 10.0).floor() / 10.0,
            "time_remaining": job.remaining().as_secs(),
        });
    }
    body
}

/// A file's entry as `/api/v1/files` lists it.
fn file_entry(f: &SimFile, with_meta: bool) -> Value {
    let base = f.name.rsplit('/').next().unwrap_or(&f.name);
    let mut v = json!({
        "type": "PRINT_FILE",
        "name": base,
        "read_only": false,
        "m_timestamp": f.uploaded,
        "size": f.content.len(),
        "display_name": base,
        "refs": {
            "download": format!("/api/files/local/{STORAGE}/{}/raw", f.name),
            "icon": null,
            "thumbnail": null,
        },
    });
    if with_meta {
        v["meta"] = json!({
            "normal_percent_present": false,
            "normal_left_present": false,
            "estimated_print_time": null,
        });
    }
    v
}

/// `/api/v1/job` for a running or paused job.
fn job_body(view: &SimView, state: &str) -> Option<Value> {
    let job = view.job.as_ref()?;
    let mut file = file_entry(&job.file, true);
    file["path"] = json!(format!("/{STORAGE}/{}", job.file.name));
    file["display_path"] = file["path"].clone();
    if let Some(o) = file.as_object_mut() {
        o.remove("type");
        o.remove("read_only");
    }
    Some(json!({
        "file": file,
        "id": job.id,
        "state": state,
        "progress": (job.progress() * 10.0).floor() / 10.0,
        "time_remaining": job.remaining().as_secs(),
        "time_printing": 0,
        "inaccurate_estimates": true,
    }))
}

impl Dialect {
    fn authorized(&self, r: &Request) -> Result<(), ResponseTemplate> {
        if let Some(key) = r.headers.get("x-api-key") {
            return if key.as_bytes() == MOCK_API_KEY.as_bytes() {
                Ok(())
            } else {
                Err(bad_api_key())
            };
        }
        let answered = r
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|h| {
                polyprint::digest::verify(
                    h,
                    r.method.as_str(),
                    MOCK_USER,
                    MOCK_PASSWORD,
                    REALM,
                    &self.challenge.nonce,
                    &["MD5-sess"],
                )
            });
        if answered {
            return Ok(());
        }
        let page = format!(
            "<!DOCTYPE html>\n<html>\n <head>\n  <title>401 - Unauthorized</title>\n  <meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"/>\n </head>\n <body>\n  <h1>401 - Unauthorized</h1>\n  <p>Method {} for {} uri.</p>\n  <hr>\n  <small><i>webmaster: webmaster@127.0.0.1 </i></small>\n </body>\n</html>",
            r.method,
            r.url.path()
        );
        Err(ResponseTemplate::new(401)
            .insert_header("WWW-Authenticate", self.challenge.header().as_str())
            .set_body_raw(page, "text/html; charset=utf-8"))
    }

    fn visible(&self, name: &str) -> bool {
        let mut uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
        uploaded.retain(|_, at| at.elapsed() < UPLOAD_LAG);
        !uploaded.contains_key(name)
    }

    /// The stored files as PrusaLink lists them: without the ones uploaded within
    /// [`UPLOAD_LAG`], with the ones deleted within it.
    fn listed(&self, view: &SimView) -> Vec<SimFile> {
        let mut deleted = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        deleted.retain(|_, (at, _)| at.elapsed() < UPLOAD_LAG);
        let mut files: Vec<SimFile> = view
            .files
            .iter()
            .filter(|f| self.visible(&f.name))
            .cloned()
            .collect();
        for (_, f) in deleted.values() {
            if !files.iter().any(|g| g.name == f.name) {
                files.push(f.clone());
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        files
    }

    fn respond(&self, r: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
        match self.answer(r, printer) {
            Ok(t) | Err(t) => t,
        }
    }

    fn answer(
        &self,
        r: &Request,
        printer: &VirtualPrinter,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        self.authorized(r)?;
        let path = percent_decode_str(r.url.path())
            .decode_utf8_lossy()
            .into_owned();
        let method = r.method.as_str();
        let mut g = printer.lock();
        if let Some(file) = path.strip_prefix("/api/v1/files/local") {
            return self.files(r, method, file.trim_start_matches('/'), &mut g);
        }
        if let Some(rest) = path.strip_prefix("/api/v1/job/") {
            return job_command(r, method, rest, &mut g);
        }
        let view = g.view();
        Ok(match (method, path.as_str()) {
            ("GET", "/api/version") => ok(json!({
                "api": "2.0.0",
                "server": "0.8.1",
                "original": "PrusaLink I3MK3S",
                "text": "PrusaLink 0.8.1",
                "firmware": if matches!(view.phase, Phase::Offline) { Value::Null } else { json!("3.14.1-8237") },
                "sdk": "0.8.1",
                "capabilities": {"upload-by-put": true},
                "hostname": "polyprint-mock",
            })),
            ("GET", "/api/v1/info") => ok(json!({
                "name": printer.describe().name,
                "location": "loopback",
                "farm_mode": false,
                "network_error_chime": false,
                "nozzle_diameter": 0.4,
                "min_extrusion_temp": 170,
                "serial": "CZPX1234X004XK12345",
                "hostname": "127.0.0.1",
                "port": 9,
            })),
            ("GET", "/api/v1/status") => ok(status_body(&view)),
            ("GET", "/api/v1/job") => {
                let (state, with_job) = state_word(&view);
                match with_job.then(|| job_body(&view, state)).flatten() {
                    Some(body) => ok(body),
                    None => empty(204),
                }
            }
            ("GET", "/api/v1/storage") => ok(json!({"storage_list": [
                {"type": "LOCAL", "path": "/local", "available": true,
                 "free_space": 75_147_735_040_u64, "total_space": 270_553_174_016_u64,
                 "read_only": false, "name": STORAGE,
                 "print_files": view.files.len(), "system_files": 0},
                {"type": "SDCARD", "path": "/sdcard", "available": true, "read_only": true,
                 "name": "SD Card", "print_files": 0, "system_files": 0}
            ]})),
            ("GET", "/api/v1/cameras") => ok(json!({"camera_list": []})),
            ("GET", "/api/v1/cameras/snap") => ResponseTemplate::new(404).set_body_raw(
                serde_json::to_vec(&json!({"message": "Camera is not available"}))
                    .unwrap_or_default(),
                "application/json; charset=utf-8",
            ),
            _ => text_error(
                r,
                404,
                "Not Found",
                "Resource you want was not found.",
                Tail::See("not-found"),
            ),
        })
    }

    /// `/api/v1/files/local/<path>`: list, read, upload, print, delete.
    fn files(
        &self,
        r: &Request,
        method: &str,
        path: &str,
        g: &mut SimGuard<'_>,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        let view = g.view();
        let listed = self.listed(&view);
        let stored = |p: &str| listed.iter().find(|f| f.name == p);
        match method {
            "GET" | "HEAD"
                if path.is_empty()
                    || listed
                        .iter()
                        .any(|f| f.name.starts_with(&format!("{path}/"))) =>
            {
                Ok(ok(folder(&view, &listed, path)).insert_header("ETag", "W/\"5bf97992c5\""))
            }
            "GET" | "HEAD" => {
                let f = stored(path).ok_or_else(|| not_found(r))?;
                let body = file_entry(f, true);
                Ok(if method == "HEAD" {
                    empty(200)
                } else {
                    ok(body)
                })
            }
            "PUT" => self.upload(r, path, g),
            "POST" => {
                stored(path)
                    .filter(|f| view.files.iter().any(|g| g.name == f.name))
                    .ok_or_else(|| not_found(r))?;
                let (state, _) = state_word(&view);
                if state != "IDLE" {
                    return Err(text_error(
                        r,
                        409,
                        "Not in state to print",
                        "Printer is not in state to print.",
                        Tail::See("not-state-to-print"),
                    ));
                }
                g.start(path).map_err(|_| not_found(r))?;
                Ok(empty(204))
            }
            "DELETE" => {
                let file = stored(path).ok_or_else(|| not_found(r))?.clone();
                match g.delete(path) {
                    Ok(()) => {
                        self.deleted
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(path.to_string(), (Instant::now(), file));
                        Ok(empty(204))
                    }
                    Err(SimError::FileInUse(_)) => Err(text_error(
                        r,
                        409,
                        "File is currently printed",
                        "You try to do an operation with the file, which is currently printed.",
                        Tail::See("file-currently-printed"),
                    )),
                    Err(_) => Err(not_found(r)),
                }
            }
            _ => Err(text_error(
                r,
                405,
                "Method Not Allowed",
                "Method not allowed.",
                Tail::Bare,
            )),
        }
    }

    fn upload(
        &self,
        r: &Request,
        path: &str,
        g: &mut SimGuard<'_>,
    ) -> Result<ResponseTemplate, ResponseTemplate> {
        // PrusaLink 0.8.1 writes `..` names outside its storage; the mock refuses them.
        if path.is_empty()
            || path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(text_error(
                r,
                400,
                "Bad Request",
                "Invalid file name.",
                Tail::Bare,
            ));
        }
        let ext = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !EXTENSIONS.contains(&ext.as_str()) {
            return Err(text_error(
                r,
                415,
                "Unsupported Media Type",
                "Only G-Code for FDM printer can be uploaded.",
                Tail::See("unsupported-media-type"),
            ));
        }
        let flag = |name: &str| r.headers.get(name).is_some_and(|v| v.as_bytes() == b"?1");
        if g.file(path).is_some() && !flag("overwrite") {
            return Err(text_error(
                r,
                409,
                "File Already Exists",
                "File already exists.",
                Tail::See("file-already-exists"),
            ));
        }
        match g.store(path, bytes::Bytes::from(r.body.clone())) {
            // The real server takes a new copy of the file being printed (201); the virtual
            // printer keeps printing the old one.
            Ok(_) | Err(SimError::FileInUse(_)) => {}
            Err(_) => {
                return Err(text_error(
                    r,
                    500,
                    "Internal Server Error",
                    "Storing failed.",
                    Tail::Bare,
                ))
            }
        }
        if flag("print-after-upload") {
            let _ = g.start(path);
        } else {
            self.uploaded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.to_string(), Instant::now());
        }
        Ok(empty(201))
    }
}

/// A folder's listing (one level: its files and subfolders) of the `listed` files.
fn folder(view: &SimView, listed: &[SimFile], path: &str) -> Value {
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut children = Vec::new();
    // Subfolders in order of appearance, with the bytes under each.
    let mut folders: Vec<(String, usize)> = Vec::new();
    let mut size = 0;
    for f in listed.iter().filter(|f| f.name.starts_with(&prefix)) {
        size += f.content.len();
        let rest = &f.name[prefix.len()..];
        match rest.split_once('/') {
            None => children.push(file_entry(f, false)),
            Some((dir, _)) => match folders.iter_mut().find(|(d, _)| d == dir) {
                Some((_, bytes)) => *bytes += f.content.len(),
                None => folders.push((dir.to_string(), f.content.len())),
            },
        }
    }
    for (dir, bytes) in folders {
        children.push(json!({"type": "FOLDER", "name": dir, "size": bytes, "display_name": dir}));
    }
    let name = if path.is_empty() {
        STORAGE
    } else {
        path.rsplit('/').next().unwrap_or(path)
    };
    json!({
        "type": "FOLDER",
        "name": name,
        "read_only": false,
        "m_timestamp": view.unix_now,
        "size": size,
        "children": children,
        "display_name": name,
    })
}

/// `PUT /api/v1/job/<id>/<command>` and `DELETE /api/v1/job/<id>`.
fn job_command(
    r: &Request,
    method: &str,
    rest: &str,
    g: &mut SimGuard<'_>,
) -> Result<ResponseTemplate, ResponseTemplate> {
    let (id, command) = match rest.split_once('/') {
        Some((id, c)) => (id, Some(c)),
        None => (rest, None),
    };
    let view = g.view();
    let current = view.job.as_ref().map(|j| j.id.to_string());
    if current.as_deref() != Some(id) {
        return Err(text_error(
            r,
            404,
            "Not Current Job",
            "Given job id does not belong to current job",
            Tail::See("not-found"),
        ));
    }
    let (state, _) = state_word(&view);
    match (method, command) {
        ("DELETE", None) => {
            if !matches!(state, "PRINTING" | "PAUSED" | "ATTENTION") {
                return Err(not_printing(r));
            }
            g.cancel().map_err(|_| not_printing(r))?;
            Ok(empty(204))
        }
        ("PUT", Some("pause")) => {
            if !matches!(view.phase, Phase::Printing | Phase::Resuming(_)) {
                return Err(not_printing(r));
            }
            g.pause().map_err(|_| not_printing(r))?;
            Ok(empty(204))
        }
        ("PUT", Some("resume")) => {
            if !matches!(view.phase, Phase::Paused) {
                return Err(text_error(
                    r,
                    409,
                    "Printer Is Not Paused",
                    "Operation you want can only be done when printer is paused.",
                    Tail::Bare,
                ));
            }
            g.resume().map_err(|_| not_printing(r))?;
            Ok(empty(204))
        }
        // Any other job command is accepted and does nothing.
        ("PUT", Some(_)) => Ok(empty(204)),
        _ => Err(text_error(
            r,
            405,
            "Method Not Allowed",
            "Method not allowed.",
            Tail::Bare,
        )),
    }
}
