//! The client for one OctoEverywhere App Connection: constructors, credentials, and every
//! plugin API call this backend makes, including what the common trait does not carry (smart
//! pause options, named lights, per-webcam snapshots with their transform, the raw status
//! document with the material system).
//!
//! Paths are relative to `https://<id>.octoeverywhere.com/octoeverywhere-command-api/`. Reads
//! (`status`, `files/list`, `webcam/list`, `webcam/snapshot`, `ping`) are safe GETs; commands are
//! POSTs with a JSON body (the plugin reads control arguments only from a body), sent once.

use std::sync::{Mutex, MutexGuard};

use polyprint::builder::Connection;
use polyprint::transport::{
    parse_base_url, Auth, Body, HttpConfig, Request, Response, Secret, Transport,
};
use polyprint::validate::{FileName, HeaterTarget};
use polyprint::{Error, Feature, Features, FileEntry, Heater, PrinterStatus, Result, Snapshot};
use serde::Serialize;
use serde_json::{json, Value};

use crate::errors::{decode, plugin_error, read_envelope, Call};
use crate::mapping::{
    features_before_status, features_from, file_entry, limits, names_file, offline_status,
    status_from, GCODE_ROOT,
};
use crate::wire::{FileTree, OeStatus, Pong, StartResult, WebcamList};

/// The path every plugin API call lives under.
pub const COMMAND_API: &str = "octoeverywhere-command-api/";

/// An App Connection's credentials, from the App Connection Portal. `Debug` never shows the
/// secret.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `Authorization: Basic`.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <authBearerToken>`.
    Bearer(Secret),
}

impl Credential {
    /// A credential as one string: `user:password` is Basic auth, anything else a bearer
    /// token (what the registry's endpoint and the CLI's `--key` carry).
    pub fn parse(key: &str) -> Credential {
        match key.split_once(':') {
            Some((user, password)) if !user.is_empty() => Credential::Basic {
                user: user.to_string(),
                password: password.to_string().into(),
            },
            _ => Credential::Bearer(key.to_string().into()),
        }
    }

    fn auth(self) -> Auth {
        match self {
            Credential::Basic { user, password } => Auth::Basic { user, password },
            Credential::Bearer(token) => Auth::Bearer(token),
        }
    }
}

/// The `pause` command's options (the plugin's defaults when a body is sent). Smart pause lifts
/// the head, retracts and switches heaters off so the print can wait longer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PauseOptions {
    /// Use smart pause (default false).
    pub smart_pause: bool,
    /// Smart pause: switch the hot end off (default true).
    pub disable_hotend: bool,
    /// Smart pause: switch the bed off (default false).
    pub disable_bed: bool,
    /// Smart pause: lift Z by this many mm (default 0).
    pub z_lift_mm: u32,
    /// Smart pause: retract this many mm of filament (default 0).
    pub retract_filament_mm: u32,
    /// Do not send OctoEverywhere's pause notification (default false).
    pub suppress_notification: bool,
    /// Show the smart pause popup in the printer's UI (default true).
    pub show_smart_pause_popup: bool,
}

impl Default for PauseOptions {
    fn default() -> Self {
        PauseOptions {
            smart_pause: false,
            disable_hotend: true,
            disable_bed: false,
            z_lift_mm: 0,
            retract_filament_mm: 0,
            suppress_notification: false,
            show_smart_pause_popup: true,
        }
    }
}

/// A webcam snapshot with OctoEverywhere's transform header.
#[derive(Clone, Debug, PartialEq)]
pub struct WebcamSnapshot {
    /// The image.
    pub snapshot: Snapshot,
    /// `x-oe-webcam-transform`: `none`, or a space-separated mix of `fliph`, `flipv`,
    /// `rotate=<deg>`, for the caller to apply.
    pub transform: Option<String>,
}

/// The `set-temp` arguments: at least one of bed, chamber, tool.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Temperatures {
    /// Bed target, °C (0–75, 0 is off).
    pub bed: Option<f64>,
    /// Chamber target, °C (0–75, 0 is off).
    pub chamber: Option<f64>,
    /// Tool target, °C (0–260, 0 is off).
    pub tool: Option<f64>,
    /// Which tool (zero-based).
    pub tool_number: u8,
}

#[derive(Debug)]
struct Cache {
    features: Features,
    /// Whether `features` came from a status (else they are the declared set).
    known: bool,
    lights: Vec<String>,
    platform_version: Option<String>,
}

/// One printer behind an OctoEverywhere App Connection. A [`polyprint::Printer`] through the
/// core's blanket implementation.
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use polyprint::sim::{VirtualPrinter, DEMO_FILE};
/// use polyprint::Printer;
/// use polyprint_octoeverywhere::mock::{OctoEverywhereMock, Platform};
/// use polyprint_octoeverywhere::{OctoEverywhere, PauseOptions};
///
/// // An App Connection (`mock` feature) to an OctoPrint that is printing.
/// let server = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
/// server.printer().start_print(DEMO_FILE).await?;
///
/// // With the service: OctoEverywhere::bearer("https://abc123.octoeverywhere.com", token).
/// let printer = OctoEverywhere::bearer(&server.uri(), server.credential())?;
/// printer.refresh().await?; // the host's features
/// assert!(printer.status().await?.state.has_active_job());
/// let smart = PauseOptions { smart_pause: true, z_lift_mm: 10, ..PauseOptions::default() };
/// printer.pause_with(smart).await?;
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
pub struct OctoEverywhere {
    transport: Transport,
    app_id: Option<String>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for OctoEverywhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OctoEverywhere")
            .field("endpoint", &self.transport.endpoint())
            .field("features", &self.cache().features)
            .finish()
    }
}

/// The command API's base URL for a connection URL: `https://<id>.octoeverywhere.com` and the
/// full `.../octoeverywhere-command-api/` both give the latter.
pub fn command_api_url(base_url: &str) -> Result<String> {
    let url = parse_base_url(base_url)?;
    let s = url.as_str();
    if s.ends_with(&format!("/{COMMAND_API}")) {
        Ok(s.to_string())
    } else {
        Ok(format!("{s}{COMMAND_API}"))
    }
}

/// The statuses a safe read is retried on: HTTP's transient ones and the service's temporary
/// 601 (plugin not connected), 602 (plugin timed out) and 609 (webcam view limit).
pub const SERVICE_RETRY_STATUSES: &[u16] = &[429, 502, 503, 504, 601, 602, 609];

fn with_service_retries(mut config: HttpConfig) -> HttpConfig {
    config.retry.retry_statuses = SERVICE_RETRY_STATUSES;
    config
}

/// Builds an [`OctoEverywhere`]: from [`OctoEverywhere::builder`].
///
/// ```
/// use polyprint_octoeverywhere::OctoEverywhere;
///
/// let printer = OctoEverywhere::builder("https://abc123.octoeverywhere.com")
///     .basic("user", "password")
///     .app_id("my-app")
///     .build()?;
/// assert_eq!(printer.connection_id(), "abc123");
///
/// // A credential is required; nothing is sent without one.
/// let err = OctoEverywhere::builder("https://abc123.octoeverywhere.com").build().unwrap_err();
/// assert_eq!(err.kind(), polyprint::ErrorKind::InvalidArgument);
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct OctoEverywhereBuilder {
    connection: Connection,
    credential: Option<Credential>,
    app_id: Option<String>,
}

impl OctoEverywhereBuilder {
    /// Signs in with the App Connection's Basic credentials.
    pub fn basic(self, user: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.credential(Credential::Basic {
            user: user.into(),
            password: password.into(),
        })
    }

    /// Signs in with a Bearer token.
    pub fn bearer(self, token: impl Into<Secret>) -> Self {
        self.credential(Credential::Bearer(token.into()))
    }

    /// Signs in with `credential`.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Names the app id, so a 605 (no Supporter Perks) error carries the portal link for it.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Transport settings (default: [`HttpConfig::default`], whose values are tabled there);
    /// their retry statuses become [`SERVICE_RETRY_STATUSES`].
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.connection.set_http(with_service_retries(config));
        self
    }

    /// A shared `reqwest::Client`, so a fleet of printers shares one connection pool.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.connection.set_client(client);
        self
    }

    /// The client. [`polyprint::Error::InvalidArgument`] without a credential, for a URL that
    /// is not `http(s)://host[:port][/path]` or a credential a header cannot carry; nothing is
    /// sent.
    pub fn build(mut self) -> Result<OctoEverywhere> {
        let credential = self.credential.ok_or_else(|| {
            Error::invalid(
                "credential",
                "OctoEverywhere needs Basic credentials or a token",
            )
        })?;
        let url = command_api_url(self.connection.base_url())?;
        self.connection.set_base_url(url);
        let mut printer =
            OctoEverywhere::with_transport(self.connection.transport(credential.auth())?);
        printer.app_id = self.app_id;
        Ok(printer)
    }
}

impl OctoEverywhere {
    /// A builder for the App Connection at `base_url` (`https://<id>.octoeverywhere.com`, with
    /// or without `/octoeverywhere-command-api/`).
    pub fn builder(base_url: impl Into<String>) -> OctoEverywhereBuilder {
        let mut connection = Connection::new(base_url);
        connection.set_http(with_service_retries(HttpConfig::default()));
        OctoEverywhereBuilder {
            connection,
            credential: None,
            app_id: None,
        }
    }

    /// A client for the App Connection at `base_url` with `credential`: the short form of
    /// `OctoEverywhere::builder(base_url).credential(credential).build()`. Sends nothing.
    pub fn new(base_url: &str, credential: Credential) -> Result<OctoEverywhere> {
        OctoEverywhere::builder(base_url)
            .credential(credential)
            .build()
    }

    /// With Basic credentials: `OctoEverywhere::builder(base_url).basic(user, password).build()`.
    pub fn basic(
        base_url: &str,
        user: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<OctoEverywhere> {
        OctoEverywhere::builder(base_url)
            .basic(user, password)
            .build()
    }

    /// With a Bearer token: `OctoEverywhere::builder(base_url).bearer(token).build()`.
    pub fn bearer(base_url: &str, token: impl Into<Secret>) -> Result<OctoEverywhere> {
        OctoEverywhere::builder(base_url).bearer(token).build()
    }

    /// Over a transport whose base URL is the command API's.
    pub fn with_transport(transport: Transport) -> OctoEverywhere {
        OctoEverywhere {
            transport,
            app_id: None,
            cache: Mutex::new(Cache {
                features: features_before_status(),
                known: false,
                lights: Vec::new(),
                platform_version: None,
            }),
        }
    }

    /// The transport (endpoint and settings).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The connection's id: the first label of its host (`<id>.octoeverywhere.com`).
    pub fn connection_id(&self) -> String {
        self.transport
            .url("")
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.split('.').next().unwrap_or(h).to_string())
            })
            .unwrap_or_default()
    }

    /// The effective features as last seen (before the first status: every feature the
    /// plugin API has).
    pub fn cached_features(&self) -> Features {
        self.cache().features
    }

    /// The host platform's version, from the last status.
    pub fn platform_version(&self) -> Option<String> {
        self.cache().platform_version.clone()
    }

    /// Whether the features are this printer's (read from a status) rather than the declared
    /// set every host might have.
    pub fn features_known(&self) -> bool {
        self.cache().known
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, status: &OeStatus) {
        let mut c = self.cache();
        c.features = features_from(status);
        c.known = true;
        c.lights = status
            .job_status
            .as_ref()
            .and_then(|j| j.lights.as_ref())
            .map(|l| l.iter().map(|l| l.name.clone()).collect())
            .unwrap_or_default();
        c.platform_version = status.platform_version.clone();
    }

    fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// A safe GET: the transport retries it on network failures and on the statuses of
    /// [`SERVICE_RETRY_STATUSES`] (HTTP's and the service's temporary 601, 602, 609).
    async fn get(&self, path: &str) -> Result<Response> {
        self.transport.send(Request::get(path)).await
    }

    async fn read<T: serde::de::DeserializeOwned>(&self, path: &str, call: Call) -> Result<T> {
        let response = self.get(path).await?;
        let result = read_envelope(&response, call, self.endpoint(), self.app_id.as_deref())?;
        from_result(&result, call.command)
    }

    /// Sends one command (a POST with a JSON body, never retried) and returns its `Result`.
    /// A 788 or 754 also drops the command's feature from the cached features.
    async fn command(&self, call: Call, body: Value) -> Result<Box<serde_json::value::RawValue>> {
        let request = Request::command(call.command, Body::json(&body));
        let response = self.transport.send(request).await?;
        let result = read_envelope(&response, call, self.endpoint(), self.app_id.as_deref());
        if let Err(Error::Unsupported { feature, .. }) = &result {
            self.cache().features.remove(*feature);
        }
        result
    }

    /// `GET status`: the whole status document, and the cached features updated. A printer
    /// host the plugin cannot reach (785) is an [`Error::InvalidState`] here; see
    /// [`OctoEverywhere::status_now`] for the Offline status.
    pub async fn status_document(&self, include_material_system: bool) -> Result<OeStatus> {
        match self.status_answer(include_material_system).await? {
            Ok(status) => Ok(status),
            Err((status, message)) => Err(plugin_error(
                status,
                message.as_deref(),
                Call::read("status"),
            )),
        }
    }

    async fn status_answer(
        &self,
        include_material_system: bool,
    ) -> Result<Result<OeStatus, (i64, Option<String>)>> {
        let path = if include_material_system {
            "status?IncludeMaterialSystem=true"
        } else {
            "status"
        };
        let response = self.get(path).await?;
        match decode(&response, self.endpoint(), self.app_id.as_deref())? {
            Ok(result) => {
                let status: OeStatus = from_result(&result, "status")?;
                self.remember(&status);
                Ok(Ok(status))
            }
            Err(failure) => Ok(Err(failure)),
        }
    }

    /// The common status. The plugin answering 785 (its printer host is not connected) is an
    /// Offline status, not an error: the service answered, its printer did not.
    pub async fn status_now(&self) -> Result<PrinterStatus> {
        match self.status_answer(false).await? {
            Ok(status) => Ok(status_from(&status)),
            Err((785, message)) => Ok(offline_status(message.as_deref())),
            Err((status, message)) => Err(plugin_error(
                status,
                message.as_deref(),
                Call::read("status"),
            )),
        }
    }

    /// Reads the status and returns the narrowed features.
    pub async fn refresh(&self) -> Result<Features> {
        self.status_now().await?;
        Ok(self.cached_features())
    }

    /// `GET ping`: `Pong` when the plugin answers.
    pub async fn ping(&self) -> Result<String> {
        Ok(self.read::<Pong>("ping", Call::read("ping")).await?.message)
    }

    /// `POST pause` with options (smart pause, notification).
    pub async fn pause_with(&self, options: PauseOptions) -> Result<()> {
        self.command(
            Call::action("pause", Feature::PauseResume),
            serde_json::to_value(options).unwrap_or_default(),
        )
        .await
        .map(drop)
    }

    /// `POST resume`.
    pub async fn resume_job(&self) -> Result<()> {
        self.command(Call::action("resume", Feature::PauseResume), json!({}))
            .await
            .map(drop)
    }

    /// `POST cancel`.
    pub async fn cancel_job(&self) -> Result<()> {
        self.command(Call::action("cancel", Feature::Cancel), json!({}))
            .await
            .map(drop)
    }

    /// `GET files/list`: the virtual file tree.
    pub async fn file_tree(&self) -> Result<FileTree> {
        self.read("files/list", Call::read("files/list")).await
    }

    /// The printable files (under the `gcode` root), paths relative to it.
    pub async fn files(&self) -> Result<Vec<FileEntry>> {
        let tree = self.file_tree().await?;
        Ok(tree
            .files()
            .into_iter()
            .filter(|n| n.virtual_path.starts_with(&format!("{GCODE_ROOT}/")))
            .map(file_entry)
            .collect())
    }

    /// The virtual path `start` needs for a file, looked up in `files/list`: a file not listed
    /// is [`Error::NotFound`] and nothing is sent. When the listing itself fails for a
    /// transient reason (after the read's retries), the path is used under `gcode/` as given and
    /// the plugin's own check decides: a start the plugin could carry out does not fail because
    /// a read did.
    async fn virtual_path(&self, file: &FileName) -> Result<String> {
        let path = file.as_str();
        match self.file_tree().await {
            Ok(tree) => tree
                .files()
                .into_iter()
                .find(|n| names_file(n, path))
                .map(|n| n.virtual_path.clone())
                .ok_or_else(|| Error::NotFound {
                    what: format!("file {path:?} in the printer's file list"),
                }),
            Err(e) if e.is_retryable() => {
                tracing::debug!(error = %e, "files/list failed; starting by path");
                Ok(if path.starts_with(&format!("{GCODE_ROOT}/")) {
                    path.to_string()
                } else {
                    format!("{GCODE_ROOT}/{path}")
                })
            }
            Err(e) => Err(e),
        }
    }

    /// `POST start` of a stored file (a path from [`OctoEverywhere::files`], or a virtual path
    /// `gcode/...`).
    pub async fn start_file(&self, file: &FileName) -> Result<StartResult> {
        let virtual_path = self.virtual_path(file).await?;
        let result = self
            .command(
                Call::action("start", Feature::PrintStart),
                json!({ "Path": virtual_path }),
            )
            .await?;
        from_result(&result, "start")
    }

    /// `POST set-light` for one light, by its name in the status.
    pub async fn set_light_named(&self, name: &str, on: bool) -> Result<()> {
        self.command(
            Call::action("set-light", Feature::LightControl),
            json!({ "Name": name, "On": on }),
        )
        .await
        .map(drop)
    }

    /// Switches every light the last status listed (reading the status first if none is
    /// known). A printer with no lights: [`Error::Unsupported`], nothing sent.
    pub async fn set_lights(&self, on: bool) -> Result<()> {
        let mut names = self.cache().lights.clone();
        if names.is_empty() {
            self.status_now().await?;
            names = self.cache().lights.clone();
        }
        if names.is_empty() {
            self.cache().features.remove(Feature::LightControl);
            return Err(Error::Unsupported {
                feature: Feature::LightControl,
                backend: crate::BACKEND.to_string(),
            });
        }
        for name in names {
            self.set_light_named(&name, on).await?;
        }
        Ok(())
    }

    /// `POST move-axis`: a relative move of one axis (`X`, `Y` or `Z`), at the platform's own
    /// feed rate. `mm` must be finite and non-zero.
    pub async fn move_axis(&self, axis: polyprint::Axis, mm: f64) -> Result<()> {
        if !mm.is_finite() || mm == 0.0 {
            return Err(Error::invalid("distance", "must be a finite, non-zero mm"));
        }
        self.command(
            Call::action("move-axis", Feature::AxisMovement),
            json!({ "Axis": axis.letter().to_ascii_uppercase(), "DistanceMm": mm }),
        )
        .await
        .map(drop)
    }

    /// `POST home`: homes all axes (the plugin has no per-axis option).
    pub async fn home_all(&self) -> Result<()> {
        self.command(Call::action("home", Feature::Homing), json!({}))
            .await
            .map(drop)
    }

    /// `POST extrude`: `mm` of filament on extruder `extruder` (negative retracts).
    pub async fn extrude_on(&self, extruder: u8, mm: f64) -> Result<()> {
        if !mm.is_finite() || mm == 0.0 {
            return Err(Error::invalid("extrusion", "must be a finite, non-zero mm"));
        }
        self.command(
            Call::action("extrude", Feature::Extrusion),
            json!({ "Extruder": extruder, "DistanceMm": mm }),
        )
        .await
        .map(drop)
    }

    /// `POST set-temp`, checked against the documented ranges first (bed and chamber 0–75 °C,
    /// tool 0–260 °C; at least one heater).
    pub async fn set_temperatures(&self, t: Temperatures) -> Result<()> {
        let l = limits();
        let mut body = serde_json::Map::new();
        if let Some(c) = t.bed {
            body.insert(
                "BedC".into(),
                json!(HeaterTarget::new(Heater::Bed, c, &l)?.celsius()),
            );
        }
        if let Some(c) = t.chamber {
            let c = HeaterTarget::new(Heater::Chamber, c, &l)?.celsius();
            body.insert("ChamberC".into(), json!(c));
        }
        if let Some(c) = t.tool {
            let c = HeaterTarget::new(Heater::Tool(t.tool_number), c, &l)?.celsius();
            body.insert("ToolC".into(), json!(c));
            body.insert("ToolNumber".into(), json!(t.tool_number));
        }
        if body.is_empty() {
            return Err(Error::invalid(
                "temperatures",
                "give at least one of bed, chamber, tool",
            ));
        }
        self.command(
            Call::action("set-temp", Feature::TemperatureControl),
            Value::Object(body),
        )
        .await
        .map(drop)
    }

    /// `GET webcam/list`: the webcams, with their (printer-local) URLs.
    pub async fn webcams(&self) -> Result<WebcamList> {
        self.read("webcam/list", Call::read("webcam/list")).await
    }

    /// `GET webcam/snapshot[?index=n]`: the image and its transform. The plugin answers a failed
    /// snapshot with a JSON envelope on HTTP 200 (754: [`Error::NotFound`]); the body is only
    /// taken as an image when its `Content-Type` says so.
    pub async fn webcam_snapshot(&self, index: Option<u32>) -> Result<WebcamSnapshot> {
        let path = match index {
            Some(i) => format!("webcam/snapshot?index={i}"),
            None => "webcam/snapshot".to_string(),
        };
        let response = self.get(&path).await?;
        let content_type = response
            .content_type()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if response.is_success() && content_type.starts_with("image/") && !response.body.is_empty()
        {
            let transform = response
                .headers
                .get("x-oe-webcam-transform")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(WebcamSnapshot {
                snapshot: Snapshot::new(content_type, response.body),
                transform,
            });
        }
        match decode(&response, self.endpoint(), self.app_id.as_deref())? {
            Err((754, message)) => Err(Error::NotFound {
                what: format!(
                    "a webcam snapshot (the plugin could not get one: {})",
                    message.unwrap_or_default()
                ),
            }),
            Err((status, message)) => Err(plugin_error(
                status,
                message.as_deref(),
                Call::action("webcam/snapshot", Feature::WebcamSnapshot),
            )),
            Ok(_) => Err(Error::protocol(format!(
                "webcam snapshot came back as {content_type:?}, not an image: {}",
                response.snippet()
            ))),
        }
    }
}

fn from_result<T: serde::de::DeserializeOwned>(
    result: &serde_json::value::RawValue,
    command: &str,
) -> Result<T> {
    serde_json::from_str(result.get()).map_err(|e| {
        Error::protocol(format!(
            "the {command} result is not what the plugin API documents: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_the_command_api_path() {
        for (given, want) in [
            (
                "https://abc.octoeverywhere.com",
                "https://abc.octoeverywhere.com/octoeverywhere-command-api/",
            ),
            (
                "https://abc.octoeverywhere.com/octoeverywhere-command-api/",
                "https://abc.octoeverywhere.com/octoeverywhere-command-api/",
            ),
            (
                "https://abc.octoeverywhere.com/octoeverywhere-command-api",
                "https://abc.octoeverywhere.com/octoeverywhere-command-api/",
            ),
        ] {
            assert_eq!(command_api_url(given).unwrap(), want);
        }
        assert!(command_api_url("https://user:pw@abc.octoeverywhere.com").is_err());
        let p = OctoEverywhere::bearer("https://abc123.octoeverywhere.com", "s3cret").unwrap();
        assert_eq!(p.connection_id(), "abc123");
        assert!(!format!("{p:?}").contains("s3cret"));
        let c = Credential::Basic {
            user: "u".into(),
            password: Secret::new("pw-secret"),
        };
        assert!(!format!("{c:?}").contains("pw-secret"));
    }

    #[test]
    fn pause_options_serialise_as_the_plugin_reads_them() {
        let v = serde_json::to_value(PauseOptions::default()).unwrap();
        assert_eq!(
            v,
            json!({"SmartPause": false, "DisableHotend": true, "DisableBed": false, "ZLiftMm": 0,
                   "RetractFilamentMm": 0, "SuppressNotification": false, "ShowSmartPausePopup": true})
        );
    }
}
