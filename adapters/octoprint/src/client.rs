//! [`OctoPrint`]: the client, and its [`Backend`] implementation.
//!
//! Every request goes through [`polyprint::transport::Transport`] with the key in the
//! `X-Api-Key` header (never `?apikey=`, which OctoPrint writes to its access log). Reads are
//! [`Idempotency::Safe`] and retried on transient failures; commands, uploads and deletes are
//! [`Idempotency::Command`] and sent once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use polyprint::builder::{self, Connection};
use polyprint::transport::{
    encode_path, Auth, Body, CheckedUploadBody, HttpConfig, Idempotency, Request, Response, Secret,
    Transport,
};
use polyprint::validate::FileName;
use polyprint::{
    async_trait, Axis, Backend, BackendExt, CheckedUpload, Command, Error, Feature, Features,
    FileEntry, Heater, PrinterInfo, PrinterStatus, Result, Snapshot, Webcam,
};
use reqwest::header::HeaderName;
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::errors::{check, error_for};
use crate::mapping::{file_entries, map_status};
use crate::wire::{
    ConnectionResponse, FilesResponse, JobResponse, PrinterResponse, ServerResponse,
    SettingsResponse, UploadResponse, VersionResponse,
};
use crate::BACKEND;

/// A JSON number: an integer when the value is whole (OctoPrint's own UI sends `210`, not
/// `210.0`), else a float.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// The features every OctoPrint server offers through its REST API. See the crate docs for
/// what is left out and why.
pub fn base_features() -> Features {
    Feature::PrintStart
        | Feature::PauseResume
        | Feature::Cancel
        | Feature::FileList
        | Feature::FileUpload
        | Feature::FileDelete
        | Feature::TemperatureControl
        | Feature::AxisMovement
        | Feature::Homing
        | Feature::Extrusion
        | Feature::GCode
        | Feature::ConnectionControl
        | Feature::StatusPush
}

/// A printer behind an OctoPrint server.
///
/// Built with [`OctoPrint::builder`] (or [`OctoPrint::new`] for a URL and a key); building
/// sends nothing.
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use polyprint::{Printer, PrinterState};
/// use polyprint_octoprint::mock::OctoPrintMock;
/// use polyprint_octoprint::OctoPrint;
///
/// // An OctoPrint that answers like the real one, over an embedded virtual printer.
/// let server = OctoPrintMock::start(polyprint::sim::VirtualPrinter::default()).await;
///
/// let printer = OctoPrint::new(&server.uri(), server.api_key())?;
/// let status = printer.status().await?;
/// assert_eq!(status.state, PrinterState::Idle);
/// assert_eq!(status.raw_state, "Operational");
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug)]
pub struct OctoPrint {
    transport: Transport,
    name: String,
    port: Option<String>,
    baudrate: Option<u32>,
    webcam: Arc<AtomicBool>,
}

/// Builds an [`OctoPrint`]: from [`OctoPrint::builder`] or [`OctoPrintBuilder::from_env`].
///
/// ```
/// use polyprint::transport::HttpConfig;
/// use polyprint::Backend;
/// use polyprint_octoprint::OctoPrint;
/// use std::time::Duration;
///
/// let printer = OctoPrint::builder("http://127.0.0.1:5000")
///     .api_key("my-api-key")
///     .http(HttpConfig { request_timeout: Duration::from_secs(5), ..HttpConfig::default() })
///     .port("VIRTUAL")
///     .name("Workshop MK3")
///     .build()?;
/// assert_eq!(printer.describe().name, "Workshop MK3");
///
/// // Nothing is sent until asked; a missing key is refused at once.
/// let err = OctoPrint::builder("http://127.0.0.1:5000").build().unwrap_err();
/// assert_eq!(err.kind(), polyprint::ErrorKind::InvalidArgument);
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct OctoPrintBuilder {
    connection: Connection,
    api_key: Option<Secret>,
    port: Option<String>,
    baudrate: Option<u32>,
    webcam: Option<bool>,
}

/// The variable [`OctoPrintBuilder::from_env`] reads the server's URL from.
pub const ENV_URL: &str = "OCTOPRINT_URL";
/// The variable [`OctoPrintBuilder::from_env`] reads the API key from.
pub const ENV_API_KEY: &str = "OCTOPRINT_API_KEY";

impl OctoPrintBuilder {
    /// A builder from [`ENV_URL`] (`OCTOPRINT_URL`) and [`ENV_API_KEY`] (`OCTOPRINT_API_KEY`),
    /// both required; the rest can still be set on it.
    pub fn from_env() -> Result<OctoPrintBuilder> {
        let url = builder::require_env(ENV_URL)?;
        Ok(OctoPrint::builder(url).api_key(builder::require_env(ENV_API_KEY)?))
    }

    /// The API key (an application key or a user's key). Required.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Transport settings (default: [`HttpConfig::default`], whose values are tabled there).
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.connection.set_http(config);
        self
    }

    /// A shared `reqwest::Client`, so a fleet of printers shares one connection pool.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.connection.set_client(client);
        self
    }

    /// Names the printer for people (default: `OctoPrint at <host:port>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.connection.set_name(name);
        self
    }

    /// The serial port [`connect`](polyprint::Printer::connect) asks for, e.g. `VIRTUAL` or
    /// `/dev/ttyACM0`. Without one, the connect command names no port and OctoPrint uses its
    /// configured preference or autodetects; it is never forced to `VIRTUAL`.
    pub fn port(mut self, port: impl Into<String>) -> Self {
        self.port = Some(port.into());
        self
    }

    /// The baud rate [`connect`](polyprint::Printer::connect) asks for (default: OctoPrint's
    /// preference or autodetection).
    pub fn baudrate(mut self, baudrate: u32) -> Self {
        self.baudrate = Some(baudrate);
        self
    }

    /// Claims [`Feature::WebcamSnapshot`] (or not) without asking the server. See
    /// [`OctoPrint::detect_webcam`] to ask it.
    pub fn webcam(mut self, snapshot: bool) -> Self {
        self.webcam = Some(snapshot);
        self
    }

    /// The client. [`polyprint::Error::InvalidArgument`] for a missing key, a URL that is not
    /// `http(s)://host[:port][/path]` or a key a header cannot carry; nothing is sent.
    pub fn build(self) -> Result<OctoPrint> {
        let key = self
            .api_key
            .ok_or_else(|| Error::invalid("API key", "is required for OctoPrint"))?;
        let mut printer = OctoPrint::from_transport(self.connection.transport(auth(key))?);
        if let Some(name) = self.connection.name() {
            printer.name = name.to_string();
        }
        printer.port = self.port;
        printer.baudrate = self.baudrate;
        printer.webcam = Arc::new(AtomicBool::new(self.webcam.unwrap_or(false)));
        Ok(printer)
    }
}

impl OctoPrint {
    /// A builder for the server at `base_url` (e.g. `http://octopi.local`).
    pub fn builder(base_url: impl Into<String>) -> OctoPrintBuilder {
        OctoPrintBuilder {
            connection: Connection::new(base_url),
            api_key: None,
            port: None,
            baudrate: None,
            webcam: None,
        }
    }

    /// A client for the server at `base_url` with its own connection pool: the short form of
    /// `OctoPrint::builder(base_url).api_key(api_key).build()`.
    pub fn new(base_url: &str, api_key: impl Into<Secret>) -> Result<OctoPrint> {
        OctoPrint::builder(base_url).api_key(api_key).build()
    }

    fn from_transport(transport: Transport) -> OctoPrint {
        let name = format!("OctoPrint at {}", transport.host_label());
        OctoPrint {
            transport,
            name,
            port: None,
            baudrate: None,
            webcam: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Asks `/api/settings` whether a webcam can take snapshots, and claims
    /// [`Feature::WebcamSnapshot`] from then on if so. OctoPrint reports `webcamEnabled: true`
    /// even with no camera, so only a webcam with `canSnapshot: true` counts. The answer is
    /// cached; `/api/settings` is slow (about 60 ms), so it is not read on every status.
    pub async fn detect_webcam(&self) -> Result<bool> {
        let settings: SettingsResponse = self.get_json("api/settings", "settings").await?;
        let can = settings
            .webcam
            .is_some_and(|w| w.webcams.iter().any(|c| c.can_snapshot));
        self.webcam.store(can, Ordering::Relaxed);
        Ok(can)
    }

    /// The transport, for OctoPrint endpoints this crate does not wrap.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `GET /api/version`: the server's and the API's versions.
    pub async fn version(&self) -> Result<VersionResponse> {
        self.get_json("api/version", "version").await
    }

    /// `GET /api/server`: the server version and safe mode.
    pub async fn server(&self) -> Result<ServerResponse> {
        self.get_json("api/server", "server").await
    }

    /// `GET /api/connection`: the serial connection (`current.state` is `Closed` when
    /// disconnected) and the ports, baud rates and profiles to choose from.
    pub async fn connection(&self) -> Result<ConnectionResponse> {
        self.get_json("api/connection", "connection").await
    }

    /// `GET /api/printer` as OctoPrint sends it; `None` when the printer is not operational
    /// (OctoPrint's 409, which is a state, not an error).
    pub async fn printer_state(&self) -> Result<Option<PrinterResponse>> {
        let r = self.transport.send(Request::get("api/printer")).await?;
        if r.status == 409 {
            return Ok(None);
        }
        check(r, "printer")?.json().map(Some)
    }

    /// `GET /api/job` as OctoPrint sends it (200 even when disconnected).
    pub async fn job(&self) -> Result<JobResponse> {
        self.get_json("api/job", "job").await
    }

    /// `GET /api/files?recursive=true` as OctoPrint sends it.
    pub async fn files(&self) -> Result<FilesResponse> {
        self.get_json("api/files?recursive=true", "file list").await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<T> {
        let r = self.transport.send(Request::get(path)).await?;
        check(r, what)?.json()
    }

    /// Sends one command (never retried); a 2xx answer (OctoPrint's empty 204) is success.
    async fn command(&self, path: &str, body: Value, what: &str) -> Result<()> {
        let r = self
            .transport
            .send(Request::command(path, Body::json(&body)))
            .await?;
        check(r, what).map(|_| ())
    }

    fn webcam_claimed(&self) -> bool {
        self.webcam.load(Ordering::Relaxed)
    }

    fn file_path(file: &FileName) -> String {
        format!("api/files/local/{}", encode_path(file.as_str()))
    }

    fn target_request(heater: Heater, celsius: f64) -> (&'static str, Value) {
        match heater {
            Heater::Tool(n) => {
                let mut targets = Map::new();
                targets.insert(format!("tool{n}"), number(celsius));
                (
                    "api/printer/tool",
                    json!({"command": "target", "targets": targets}),
                )
            }
            Heater::Bed => (
                "api/printer/bed",
                json!({"command": "target", "target": number(celsius)}),
            ),
            Heater::Chamber => (
                "api/printer/chamber",
                json!({"command": "target", "target": number(celsius)}),
            ),
        }
    }
}

fn auth(key: Secret) -> Auth {
    Auth::Header(HeaderName::from_static("x-api-key"), key)
}

/// The JSON body and path of a command, as OctoPrint expects it. `None` for commands
/// OctoPrint has no endpoint for.
fn command_request(op: &OctoPrint, command: &Command) -> Option<(String, Value, String)> {
    let job = |body: Value| Some(("api/job".to_string(), body, "job".to_string()));
    match command {
        Command::StartPrint(f) => Some((
            OctoPrint::file_path(f),
            json!({"command": "select", "print": true}),
            format!("file {f}"),
        )),
        Command::Pause => job(json!({"command": "pause", "action": "pause"})),
        Command::Resume => job(json!({"command": "pause", "action": "resume"})),
        Command::Cancel => job(json!({"command": "cancel"})),
        Command::SetTarget(t) => {
            let (path, body) = OctoPrint::target_request(t.heater(), t.celsius());
            Some((path.to_string(), body, t.heater().to_string()))
        }
        Command::Jog(j) => {
            let j = j.get();
            let mut body = Map::new();
            body.insert("command".into(), json!("jog"));
            for (axis, v) in [("x", j.x), ("y", j.y), ("z", j.z), ("speed", j.speed)] {
                if let Some(v) = v {
                    body.insert(axis.into(), number(v));
                }
            }
            Some((
                "api/printer/printhead".into(),
                Value::Object(body),
                "print head".into(),
            ))
        }
        Command::Home(axes) => {
            let axes: Vec<&str> = [Axis::X, Axis::Y, Axis::Z]
                .into_iter()
                .filter(|a| axes.contains(*a))
                .map(Axis::letter)
                .collect();
            Some((
                "api/printer/printhead".into(),
                json!({"command": "home", "axes": axes}),
                "print head".into(),
            ))
        }
        Command::Extrude(e) => Some((
            "api/printer/tool".into(),
            json!({"command": "extrude", "amount": number(e.mm())}),
            "tool".into(),
        )),
        Command::GCode(lines) => Some((
            "api/printer/command".into(),
            json!({"commands": lines.lines()}),
            "printer".into(),
        )),
        Command::Connect => {
            let mut body = Map::new();
            body.insert("command".into(), json!("connect"));
            if let Some(port) = &op.port {
                body.insert("port".into(), json!(port));
            }
            if let Some(b) = op.baudrate {
                body.insert("baudrate".into(), json!(b));
            }
            Some((
                "api/connection".into(),
                Value::Object(body),
                "connection".into(),
            ))
        }
        Command::Disconnect => Some((
            "api/connection".into(),
            json!({"command": "disconnect"}),
            "connection".into(),
        )),
        _ => None,
    }
}

impl OctoPrint {
    /// What a status has beyond OctoPrint's bodies (read or pushed alike): the webcam.
    pub(crate) fn finish(&self, mut status: PrinterStatus) -> PrinterStatus {
        if self.webcam_claimed() {
            status.webcams.push(Webcam::new("classic", true));
        }
        status
    }
}

#[async_trait]
impl Backend for OctoPrint {
    /// Detects whether a webcam can take snapshots ([`OctoPrint::detect_webcam`]).
    async fn refresh_capabilities(&self) -> Result<()> {
        self.detect_webcam().await.map(drop)
    }

    fn describe(&self) -> PrinterInfo {
        PrinterInfo::new(BACKEND, self.transport.endpoint(), self.name.clone())
            .with_endpoint(self.transport.endpoint())
    }

    fn secrets(&self) -> Vec<polyprint::transport::Secret> {
        self.transport().secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.transport().commands().clone())
    }

    fn capabilities(&self) -> Features {
        let mut f = base_features();
        if self.webcam_claimed() {
            f |= Feature::WebcamSnapshot;
        }
        f
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &["gcode", "gco", "g"]
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        let (printer, job) = tokio::join!(self.printer_state(), self.job());
        Ok(self.finish(map_status(printer?, job?)))
    }

    async fn open_feed(&self) -> Result<polyprint::watch::StatusFeed> {
        self.push_feed().await
    }

    async fn run(&self, command: Command) -> Result<()> {
        match &command {
            Command::DeleteFile(f) => {
                let r = self
                    .transport
                    .send(Request::new(
                        Method::DELETE,
                        OctoPrint::file_path(f),
                        Idempotency::Command,
                    ))
                    .await?;
                check(r, &format!("file {f}")).map(|_| ())
            }
            other => match command_request(self, other) {
                Some((path, body, what)) => self.command(&path, body, &what).await,
                None => Err(self.unsupported(other.feature())),
            },
        }
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        Ok(file_entries(&self.files().await?.files))
    }

    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let size = upload.size;
        let name = upload.name.clone();
        let mut fields = Vec::new();
        if let Some((folder, _)) = name.as_str().rsplit_once('/') {
            fields.push(("path", folder.to_string()));
        }
        let mut request = Request::new(Method::POST, "api/files/local", Idempotency::Command);
        request.body = Body::MultipartFile {
            field: "file",
            fields,
            upload: Box::new(CheckedUploadBody(upload)),
        };
        let r: Response = check(
            self.transport.send(request).await?,
            &format!("upload of {name}"),
        )?;
        let answer: UploadResponse = r.json()?;
        let local = answer.files.local;
        Ok({
            let mut v =
                FileEntry::new(local.path.unwrap_or_else(|| local.name.clone()), local.name);
            v.size = Some(size);
            v
        })
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        let r = self
            .transport
            .send(Request::get("downloads/camera/current"))
            .await?;
        let r = check(r, "webcam snapshot")?;
        let content_type = r.content_type().unwrap_or("image/jpeg").to_string();
        if !content_type.starts_with("image/") {
            return Err(Error::protocol(format!(
                "the snapshot is {content_type}, not an image: {}",
                r.snippet()
            )));
        }
        Ok(Snapshot::new(content_type, r.body))
    }
}

impl OctoPrint {
    /// Maps a non-2xx answer the way this adapter does (exposed for tests and tools).
    pub fn error_for(response: &Response, what: &str) -> Error {
        error_for(response, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::validate::{Axes, Extrusion, GcodeBatch, HeaterTarget, Jog, JogMove, Limits};

    fn body(command: Command) -> (String, Value) {
        let op = OctoPrint::new("http://127.0.0.1:1", "k").unwrap();
        let (p, b, _) = command_request(&op, &command).unwrap();
        (p, b)
    }

    #[test]
    fn bodies_match_the_recorded_requests() {
        let l = Limits::default();
        let f = FileName::parse("my test (1).gcode").unwrap();
        assert_eq!(
            body(Command::StartPrint(f)),
            (
                "api/files/local/my%20test%20%281%29.gcode".into(),
                json!({"command":"select","print":true})
            )
        );
        assert_eq!(
            body(Command::Pause).1.to_string(),
            r#"{"action":"pause","command":"pause"}"#
        );
        assert_eq!(
            body(Command::Resume).1,
            json!({"command":"pause","action":"resume"})
        );
        assert_eq!(body(Command::Cancel).1, json!({"command":"cancel"}));
        let t = HeaterTarget::new(Heater::Tool(0), 210.0, &l).unwrap();
        assert_eq!(
            body(Command::SetTarget(t)).1.to_string(),
            r#"{"command":"target","targets":{"tool0":210}}"#
        );
        let t = HeaterTarget::new(Heater::Bed, 65.0, &l).unwrap();
        assert_eq!(
            body(Command::SetTarget(t)),
            (
                "api/printer/bed".into(),
                json!({"command":"target","target":65})
            )
        );
        let t = HeaterTarget::new(Heater::Chamber, 40.5, &l).unwrap();
        assert_eq!(body(Command::SetTarget(t)).0, "api/printer/chamber");
        let jog = JogMove::new(
            Jog {
                x: Some(10.0),
                y: Some(-5.0),
                z: Some(1.0),
                speed: Some(3000.0),
            },
            &l,
        )
        .unwrap();
        assert_eq!(
            body(Command::Jog(jog)).1,
            json!({"command":"jog","x":10,"y":-5,"z":1,"speed":3000})
        );
        let jog = JogMove::new(Jog::along(Axis::Z, 0.5), &l).unwrap();
        assert_eq!(body(Command::Jog(jog)).1, json!({"command":"jog","z":0.5}));
        assert_eq!(
            body(Command::Home(Axes::all())).1,
            json!({"command":"home","axes":["x","y","z"]})
        );
        assert_eq!(
            body(Command::Extrude(Extrusion::new(5.0, &l).unwrap())).1,
            json!({"command":"extrude","amount":5})
        );
        assert_eq!(
            body(Command::GCode(GcodeBatch::new(&["M105", "G91"]).unwrap())).1,
            json!({"commands":["M105","G91"]})
        );
        assert_eq!(body(Command::Connect).1, json!({"command":"connect"}));
        assert_eq!(body(Command::Disconnect).1, json!({"command":"disconnect"}));
        let op = OctoPrint::builder("http://127.0.0.1:1")
            .api_key("k")
            .port("VIRTUAL")
            .baudrate(115200)
            .build()
            .unwrap();
        let (_, b, _) = command_request(&op, &Command::Connect).unwrap();
        assert_eq!(
            b,
            json!({"command":"connect","port":"VIRTUAL","baudrate":115200})
        );
    }

    #[test]
    fn file_paths_are_encoded_per_segment() {
        let path = |p: &str| OctoPrint::file_path(&FileName::parse(p).unwrap());
        assert_eq!(
            path("dir/my test (1).gcode"),
            "api/files/local/dir/my%20test%20%281%29.gcode"
        );
        assert_eq!(path("ü?#.gcode"), "api/files/local/%C3%BC%3F%23.gcode");
    }

    #[test]
    fn no_secret_in_debug() {
        let op = OctoPrint::new("http://127.0.0.1:1", "hunter2-key").unwrap();
        assert!(!format!("{op:?}").contains("hunter2"));
        assert_eq!(
            op.describe().endpoint.as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert!(!op.capabilities().contains(Feature::WebcamSnapshot));
        let forced = OctoPrint::builder("http://127.0.0.1:1")
            .api_key("k")
            .webcam(true)
            .build()
            .unwrap();
        assert!(forced.capabilities().contains(Feature::WebcamSnapshot));
    }
}
