//! [`Moonraker`]: the client, and its [`Backend`] implementation.
//!
//! Every request goes through [`polyprint::transport::Transport`], with the API key in
//! `X-Api-Key` when one is given (a trusted client sends none). Reads are
//! [`Idempotency::Safe`]; commands, uploads and deletes are [`Idempotency::Command`] and sent
//! once. See the crate docs for the status read, the state checks before commands and the
//! features.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use polyprint::builder::{self, Connection};
use polyprint::transport::{
    encode_path, encode_segment, push_encoded_segment, Auth, Body, CheckedUploadBody, HttpConfig,
    Idempotency, Request, Response, Secret, Transport,
};
use polyprint::validate::Axis;
use polyprint::watch::StatusFeed;
use polyprint::{
    async_trait, Backend, BackendExt, CheckedUpload, Command, Error, Feature, Features, FileEntry,
    Heater, JobRecord, Limits, PrinterInfo, PrinterState, PrinterStatus, QueuedJob, Result,
    Snapshot,
};
use reqwest::header::HeaderName;
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::errors::{self, error_for, server_message, KLIPPY_NOT_CONNECTED};
use crate::gcode::{self, KnownCommands};
use crate::mapping::{
    self, heater_object, heater_of, map_klippy_down, map_status, status_entries, ObjectState,
};
use crate::wire::{
    number, Envelope, FileItem, FileMeta, GcodeStore, GcodeStoreEntry, HistoryList, KlippyInfo,
    ObjectList, QueryResult, QueueStatus, ServerInfo, UploadResult, WebcamList, WebcamWire,
};
use crate::BACKEND;

/// The feed rate of a jog without one, mm/min (Klipper caps Z at its `max_z_velocity`).
pub const DEFAULT_JOG_FEED: f64 = 3000.0;

/// Klipper's default `min_extrude_temp`, used until the printer's own is known.
pub const DEFAULT_MIN_EXTRUDE_TEMP: f64 = 170.0;

/// How many files of a listing get their metadata read (for their estimated time).
pub const MAX_METADATA_LOOKUPS: usize = 100;

/// How many metadata reads a listing runs at once.
const METADATA_CONCURRENCY: usize = 4;

/// How many files' metadata the client keeps.
const METADATA_CACHE: usize = 256;

/// The features Moonraker and Klipper can offer. Until the server confirms them this is what
/// the printer claims; confirming narrows it (see the crate docs).
pub fn declared_features() -> Features {
    klipper_features() | moonraker_features()
}

/// The features that depend on Klippy's printer objects.
fn klipper_features() -> Features {
    Feature::PrintStart
        | Feature::PauseResume
        | Feature::Cancel
        | Feature::ObjectCancel
        | Feature::TemperatureControl
        | Feature::AxisMovement
        | Feature::Homing
        | Feature::Extrusion
        | Feature::GCode
}

/// The features that depend on Moonraker's components.
fn moonraker_features() -> Features {
    Feature::FileList
        | Feature::FileUpload
        | Feature::FileDelete
        | Feature::JobHistory
        | Feature::PrintQueue
        | Feature::WebcamSnapshot
        | Feature::StatusPush
}

/// Each axis's travel (`position_min`, `position_max`): x, y, z; `None` where the config
/// does not say.
pub type AxisTravel = [Option<(f64, f64)>; 3];

/// What the client learnt of the printer's configuration when it confirmed its features
/// (`printer/objects/list`, the `configfile` object's settings, `printer/gcode/help`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrinterConfig {
    /// The heaters the printer has.
    pub heaters: Vec<Heater>,
    /// Targets, jogs and extrusion within the printer's own limits.
    pub limits: Limits,
    /// Each axis's travel (`position_min`, `position_max`), x, y, z; `None` where the
    /// config does not say (a delta printer).
    pub axes: AxisTravel,
    /// The nozzle temperature Klipper needs to extrude (`min_extrude_temp`).
    pub min_extrude_temp: Option<f64>,
    /// The printer objects.
    pub objects: Vec<String>,
    /// The commands Klipper knows.
    pub commands: KnownCommands,
}

#[derive(Default)]
struct Learned {
    /// The Moonraker-side features, once asked.
    moonraker: Option<Features>,
    /// The Klippy-side features and config, once Klippy was ready to be asked.
    klipper: Option<(Features, PrinterConfig)>,
}

struct Inner {
    transport: Transport,
    /// For commands, when [`MoonrakerBuilder::command_timeout`] set a timeout of their own
    /// (boxed: most printers have none, and a fleet keeps one of these per printer).
    commands: Option<Box<Transport>>,
    name: String,
    api_key: Option<Secret>,
    learned: Mutex<Learned>,
    metadata: Mutex<HashMap<Box<str>, Option<Estimates>>>,
}

/// What the metadata cache keeps of a file's [`FileMeta`]: the figures a status and a listing
/// use (a fleet keeps a cache per printer, so not the slicer's strings and the rest).
#[derive(Clone, Copy, Debug)]
struct Estimates {
    estimated_time: Option<f64>,
    filament_total: Option<f64>,
    layer_count: Option<u64>,
}

impl Estimates {
    fn of(meta: &FileMeta) -> Estimates {
        Estimates {
            estimated_time: meta.estimated_time,
            filament_total: meta.filament_total,
            layer_count: meta.layer_count,
        }
    }

    fn meta(self) -> FileMeta {
        FileMeta {
            estimated_time: self.estimated_time,
            filament_total: self.filament_total,
            layer_count: self.layer_count,
            ..FileMeta::default()
        }
    }
}

/// A printer behind Moonraker (Klipper's API server). Built with [`Moonraker::builder`]
/// (or [`Moonraker::new`] for a trusted client); building sends nothing.
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use polyprint::{Printer, PrinterState};
/// use polyprint_moonraker::mock::MoonrakerMock;
/// use polyprint_moonraker::Moonraker;
///
/// // A Moonraker that answers like the real one, over an embedded virtual printer.
/// let server = MoonrakerMock::start(polyprint::sim::VirtualPrinter::default()).await;
///
/// let printer = Moonraker::builder(server.uri()).api_key(server.api_key()).build()?;
/// let status = printer.status().await?;
/// assert_eq!(status.state, PrinterState::Idle);
/// assert_eq!(status.raw_state, "standby");
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct Moonraker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Moonraker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moonraker")
            .field("endpoint", &self.inner.transport.endpoint())
            .field("name", &self.inner.name)
            .field("api_key", &self.inner.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// One read of the printer: the status, and the objects it was mapped from (`None` while
/// Moonraker has no Klippy).
#[derive(Clone, Debug)]
pub struct Reading {
    /// Moonraker's `server/info`.
    pub info: ServerInfo,
    /// The printer objects.
    pub objects: Option<ObjectState>,
    /// The status.
    pub status: PrinterStatus,
}

fn q(s: &str) -> String {
    encode_segment(s)
}

/// The variable [`MoonrakerBuilder::from_env`] reads the server's URL from.
pub const ENV_URL: &str = "MOONRAKER_URL";
/// The variable [`MoonrakerBuilder::from_env`] reads the API key from, when it is set.
pub const ENV_API_KEY: &str = "MOONRAKER_API_KEY";

/// Builds a [`Moonraker`]: from [`Moonraker::builder`] or [`MoonrakerBuilder::from_env`].
///
/// ```
/// use polyprint::Backend;
/// use polyprint_moonraker::Moonraker;
/// use std::time::Duration;
///
/// // A trusted client (Moonraker's `trusted_clients`) needs no key; others send the one
/// // from Moonraker's /access/api_key.
/// let printer = Moonraker::builder("http://127.0.0.1:7125")
///     .api_key("0123456789abcdef")
///     .command_timeout(Duration::from_secs(60))
///     .name("Voron 2.4")
///     .build()?;
/// assert_eq!(printer.describe().name, "Voron 2.4");
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MoonrakerBuilder {
    connection: Connection,
    api_key: Option<Secret>,
    command_timeout: Option<Duration>,
}

impl MoonrakerBuilder {
    /// A builder from [`ENV_URL`] (`MOONRAKER_URL`, required) and [`ENV_API_KEY`]
    /// (`MOONRAKER_API_KEY`, when set).
    pub fn from_env() -> Result<MoonrakerBuilder> {
        let builder = Moonraker::builder(builder::require_env(ENV_URL)?);
        Ok(match builder::env_var(ENV_API_KEY)? {
            Some(key) => builder.api_key(key),
            None => builder,
        })
    }

    /// The API key, sent in `X-Api-Key` (default: none, for a trusted client). An empty key
    /// is no key.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into()).filter(|k| !k.expose().is_empty());
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

    /// Names the printer for people (default: `Moonraker at <host:port>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.connection.set_name(name);
        self
    }

    /// Gives commands (print control, G-code, uploads excepted) a request timeout of their
    /// own: Moonraker answers a cancel or pause only once Klipper has done it, and a cancel
    /// sent while the file waits in `M109`/`M190` only when that wait ends (7.6 s measured;
    /// unbounded with a heater that never settles). The call's deadline grows to match.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = Some(timeout);
        self
    }

    /// The client. [`polyprint::Error::InvalidArgument`] for a URL that is not
    /// `http(s)://host[:port][/path]` or a key a header cannot carry; nothing is sent.
    pub fn build(self) -> Result<Moonraker> {
        let auth = || match &self.api_key {
            Some(k) => Auth::Header(HeaderName::from_static("x-api-key"), k.clone()),
            None => Auth::None,
        };
        let transport = self.connection.transport(auth())?;
        let commands = match self.command_timeout {
            Some(timeout) => {
                let base = transport.config().clone();
                let mut connection = self.connection.clone();
                connection.set_http(HttpConfig {
                    request_timeout: timeout,
                    deadline: base.deadline.max(timeout + Duration::from_secs(5)),
                    ..base
                });
                Some(Box::new(connection.transport(auth())?))
            }
            None => None,
        };
        let name = match self.connection.name() {
            Some(name) => name.to_string(),
            None => format!("Moonraker at {}", transport.host_label()),
        };
        Ok(Moonraker {
            inner: Arc::new(Inner {
                transport,
                commands,
                name,
                api_key: self.api_key,
                learned: Mutex::default(),
                metadata: Mutex::default(),
            }),
        })
    }
}

impl Moonraker {
    /// A builder for the Moonraker at `base_url` (e.g. `http://voron.local:7125`).
    pub fn builder(base_url: impl Into<String>) -> MoonrakerBuilder {
        MoonrakerBuilder {
            connection: Connection::new(base_url),
            api_key: None,
            command_timeout: None,
        }
    }

    /// A trusted client (no API key) of the Moonraker at `base_url`: the short form of
    /// `Moonraker::builder(base_url).build()`.
    pub fn new(base_url: &str) -> Result<Moonraker> {
        Moonraker::builder(base_url).build()
    }

    /// The transport, for Moonraker endpoints this crate does not wrap.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The API key, when one is sent.
    pub(crate) fn api_key(&self) -> Option<&Secret> {
        self.inner.api_key.as_ref()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<T> {
        let r = self.inner.transport.send(Request::get(path)).await?;
        errors::result(r, what)
    }

    /// A `/printer/` read: 503 "Klippy Host not connected" and a 404 (Klippy never
    /// connected since Moonraker started) are InvalidState.
    async fn get_printer<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T> {
        let r = self.inner.transport.send(Request::get(path)).await?;
        if r.status == 404 {
            return Err(Error::state(format!(
                "Klippy has not connected to Moonraker yet ({what}: 404)"
            )));
        }
        errors::result(r, what)
    }

    /// `GET /server/info`: Moonraker's components and Klippy's state (1 ms).
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.get("server/info", "server info").await
    }

    /// `GET /printer/info`: Klippy's host, version and state message.
    pub async fn klippy_info(&self) -> Result<KlippyInfo> {
        self.get_printer("printer/info", "printer info").await
    }

    /// `GET /printer/objects/query` for the given objects (`None`: all fields). Answered on
    /// Klippy's next status tick: 0.25 s.
    pub async fn query_objects(
        &self,
        objects: &[(String, Option<&[&str]>)],
    ) -> Result<ObjectState> {
        let path = query_path(
            objects
                .iter()
                .map(|(name, fields)| (name.as_str(), *fields)),
        );
        let q: QueryResult = self.get_printer(&path, "printer objects").await?;
        ObjectState::from_owned(q.status).ok_or_else(|| {
            Error::protocol("printer/objects/query: `status` is not an object".to_string())
        })
    }

    /// `GET /server/files/metadata`: what Moonraker found in a stored file (slicer,
    /// estimated time, filament, layers). A file without metadata is NotFound.
    pub async fn file_metadata(&self, path: &str) -> Result<FileMeta> {
        let p = format!("server/files/metadata?filename={}", q(path));
        self.get(&p, &format!("metadata of {path}")).await
    }

    /// `GET /server/gcode_store`: the latest G-code commands and Klipper's responses, oldest
    /// first (where an unknown command's `// Unknown command:"FOO"` shows).
    pub async fn gcode_store(&self, count: usize) -> Result<Vec<GcodeStoreEntry>> {
        let s: GcodeStore = self
            .get(
                &format!("server/gcode_store?count={}", count.clamp(1, 1000)),
                "G-code store",
            )
            .await?;
        Ok(s.gcode_store)
    }

    /// `GET /server/webcams/list`: the configured webcams.
    pub async fn webcams(&self) -> Result<Vec<WebcamWire>> {
        let l: WebcamList = self.get("server/webcams/list", "webcams").await?;
        Ok(l.webcams)
    }

    /// What was learnt of the printer's config when its features were confirmed (`None`
    /// until Klippy was ready to be asked).
    pub fn printer_config(&self) -> Option<PrinterConfig> {
        self.learned().klipper.as_ref().map(|(_, c)| c.clone())
    }

    fn learned(&self) -> std::sync::MutexGuard<'_, Learned> {
        self.inner.learned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The heaters a status asks for: those learnt, else the extruder and the bed.
    /// (Only the heaters are copied out: the rest of the config, with its object and command
    /// lists, stays where it is.)
    fn heaters(&self) -> Vec<Heater> {
        self.learned()
            .klipper
            .as_ref()
            .map(|(_, c)| c.heaters.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| vec![Heater::Tool(0), Heater::Bed])
    }

    /// The Klipper objects of the heaters a status asks for.
    pub(crate) fn heater_objects(&self) -> Vec<String> {
        self.heaters().into_iter().map(heater_object).collect()
    }

    /// The metadata of a job's file, from the cache or read once (best effort: a failed
    /// read is not kept).
    pub(crate) async fn metadata_for(&self, file: &str) -> Option<FileMeta> {
        if let Some(m) = self
            .inner
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(file)
        {
            return m.map(Estimates::meta);
        }
        let path = format!("server/files/metadata?filename={}", q(file));
        let r = self.inner.transport.send(Request::get(path)).await.ok()?;
        let meta = match r.status {
            404 => None,
            s if (200..300).contains(&s) => Some(r.json::<Envelope<FileMeta>>().ok()?.result),
            _ => return None,
        };
        let mut cache = self
            .inner
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() >= METADATA_CACHE {
            cache.clear();
        }
        let kept = meta.as_ref().map(Estimates::of);
        cache.insert(file.into(), kept);
        kept.map(Estimates::meta)
    }

    fn forget_metadata(&self, file: &str) {
        self.inner
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(file);
    }

    /// The status from printer objects: [`map_status`] with the job's file metadata.
    pub(crate) async fn status_of(&self, objects: &ObjectState) -> PrinterStatus {
        let meta = match objects.filename() {
            Some(f) if objects.print_state() != "standby" => self.metadata_for(f).await,
            _ => None,
        };
        map_status(objects, meta.as_ref())
    }

    /// Reads the printer: `server/info`, then (with Klippy connected) the printer objects.
    /// With `check`, also the head's position, homed axes and the job's objects.
    pub async fn read(&self, check: bool) -> Result<Reading> {
        let info = self.server_info().await?;
        if !info.klippy_up() {
            return Ok(Reading {
                status: map_klippy_down(&info),
                objects: None,
                info,
            });
        }
        let heaters = self.heater_objects();
        let path = query_path(status_entries(&heaters, check));
        let r = self.inner.transport.send(Request::get(path)).await?;
        let lost = r.status == 404
            || (r.status == 503 && server_message(&r.body).contains(KLIPPY_NOT_CONNECTED));
        if lost {
            // Klippy went away between the two reads.
            let down = ServerInfo {
                klippy_connected: false,
                klippy_state: "disconnected".into(),
                ..info
            };
            return Ok(Reading {
                status: map_klippy_down(&down),
                objects: None,
                info: down,
            });
        }
        let q: QueryResult = errors::result(r, "printer objects")?;
        let objects = ObjectState::from_owned(q.status).ok_or_else(|| {
            Error::protocol("printer/objects/query: `status` is not an object".to_string())
        })?;
        let status = self.status_of(&objects).await;
        Ok(Reading {
            info,
            objects: Some(objects),
            status,
        })
    }

    /// Asks Moonraker and, when ready, Klippy what this printer has (see the crate docs).
    async fn learn(&self) -> Result<()> {
        let info = self.server_info().await?;
        let mut moonraker =
            Feature::FileList | Feature::FileUpload | Feature::FileDelete | Feature::StatusPush;
        if info.has_component("history") {
            moonraker |= Feature::JobHistory;
        }
        if info.has_component("job_queue") {
            moonraker |= Feature::PrintQueue;
        }
        if info.has_component("webcam") {
            match self.webcams().await {
                Ok(cams) if cams.iter().any(|w| w.snapshot().is_some()) => {
                    moonraker |= Feature::WebcamSnapshot;
                }
                Ok(_) => {}
                // The component is listed but its route is not there: no camera to claim.
                Err(e) if e.kind() == polyprint::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let klipper = if info.klippy_up() && info.klippy_state == "ready" {
            Some(self.learn_klipper().await?)
        } else {
            None
        };
        let mut learned = self.learned();
        learned.moonraker = Some(moonraker);
        if klipper.is_some() {
            learned.klipper = klipper;
        }
        Ok(())
    }

    async fn learn_klipper(&self) -> Result<(Features, PrinterConfig)> {
        let list: ObjectList = self
            .get_printer("printer/objects/list", "printer objects list")
            .await?;
        let settings = self
            .query_objects(&[("configfile".to_string(), Some(&["settings"][..]))])
            .await?;
        let help: Map<String, Value> = self
            .get_printer("printer/gcode/help", "G-code help")
            .await?;
        let objects = list.objects;
        let has = |o: &str| objects.iter().any(|x| x == o);
        let mut heaters: Vec<Heater> = objects.iter().filter_map(|o| heater_of(o)).collect();
        heaters.sort();
        heaters.dedup();
        let mut features = klipper_features();
        let mut drop_unless = |f: Feature, present: bool| {
            if !present {
                features.remove(f);
            }
        };
        drop_unless(Feature::PrintStart, has("virtual_sdcard"));
        drop_unless(Feature::PauseResume, has("pause_resume"));
        drop_unless(Feature::Cancel, has("pause_resume"));
        drop_unless(Feature::ObjectCancel, has("exclude_object"));
        drop_unless(Feature::TemperatureControl, !heaters.is_empty());
        drop_unless(Feature::Extrusion, has("extruder"));
        drop_unless(Feature::AxisMovement, has("toolhead"));
        drop_unless(Feature::Homing, has("toolhead"));
        let settings = settings
            .get("configfile", "settings")
            .cloned()
            .unwrap_or(Value::Null);
        let (limits, axes, min_extrude_temp) = limits_of(&settings, &heaters);
        let commands = KnownCommands::new(
            help.keys().map(String::as_str),
            objects.iter().map(String::as_str),
        );
        Ok((
            features,
            PrinterConfig {
                heaters,
                limits,
                axes,
                min_extrude_temp,
                objects,
                commands,
            },
        ))
    }

    /// The transport commands go through, and a note of each on the main transport's count.
    async fn send_command(&self, request: Request) -> Result<Response> {
        match &self.inner.commands {
            Some(t) => {
                self.inner.transport.commands().note();
                t.send(request).await
            }
            None => self.inner.transport.send(request).await,
        }
    }

    /// A POST to a `/printer/` route: `{"result": "ok"}`, or the error.
    async fn printer_post(&self, path: &str, body: Option<Value>, what: &str) -> Result<()> {
        let mut request = Request::new(Method::POST, path, Idempotency::Command);
        if let Some(b) = body {
            request.body = Body::json(&b);
        }
        let r = self.send_command(request).await?;
        if r.status == 404 {
            return Err(Error::state(format!(
                "Klippy has not connected to Moonraker yet ({what}: 404)"
            )));
        }
        errors::ok(r, what)
    }

    /// Runs G-code (`POST /printer/gcode/script` with a JSON body): Moonraker answers when
    /// Klipper has run it. Sent once.
    async fn script(&self, script: &str, what: &str) -> Result<()> {
        self.printer_post(
            "printer/gcode/script",
            Some(json!({ "script": script })),
            what,
        )
        .await
    }

    /// Runs a script that saved the G-code state; when Klipper refused a line of it (and so
    /// skipped the restore at its end), restores the state with one more command.
    async fn script_restoring(&self, script: &str, what: &str) -> Result<()> {
        let r = self.script(script, what).await;
        if let Err(e) = &r {
            let answered = matches!(
                e,
                Error::InvalidArgument { .. } | Error::InvalidState { .. } | Error::NotFound { .. }
            ) || matches!(e, Error::Api { status, .. } if (400..500).contains(status));
            if answered {
                if let Err(again) = self.script(&gcode::restore_line(), "restore").await {
                    tracing::warn!(error = %again, "restoring the G-code state failed");
                }
            }
        }
        r
    }

    /// `POST /printer/emergency_stop`: Klipper shuts down at once (heaters and motors off,
    /// the job lost); [`Moonraker::firmware_restart`] brings it back. Destructive: sent once,
    /// never retried, and not part of the [`Printer`](polyprint::Printer) trait.
    pub async fn emergency_stop(&self) -> Result<()> {
        self.printer_post("printer/emergency_stop", None, "emergency stop")
            .await
            .map_err(|e| e.of_command("emergency_stop"))
    }

    /// `POST /printer/firmware_restart`: restarts the MCU and Klippy (about 2 s through
    /// `shutdown`, `disconnected`, `startup`, `ready`); a running job is lost. Sent once.
    pub async fn firmware_restart(&self) -> Result<()> {
        self.printer_post("printer/firmware_restart", None, "firmware restart")
            .await
            .map_err(|e| e.of_command("firmware_restart"))
    }

    /// `POST /printer/restart`: restarts Klippy on its host, rereading its config (about
    /// 2 s); a running job is lost. Sent once.
    pub async fn restart_host(&self) -> Result<()> {
        self.printer_post("printer/restart", None, "restart")
            .await
            .map_err(|e| e.of_command("restart"))
    }

    /// Clears a finished, cancelled or failed job (`SDCARD_RESET_FILE`): `print_stats` goes
    /// back to `standby` (Klipper keeps showing how the last job ended until then).
    /// Refused while a job runs.
    pub async fn clear_last_job(&self) -> Result<()> {
        let r = self.read(false).await?;
        ready(&r, "clear the last job")?;
        if r.status.state.has_active_job() {
            return Err(Error::state(format!(
                "a job is {}; cancel it instead",
                r.status.raw_state
            )));
        }
        self.script("SDCARD_RESET_FILE", "clear last job")
            .await
            .map_err(|e| e.of_command("clear_last_job"))
    }

    fn heater_name(&self, heater: Heater) -> Result<String> {
        if let Some(config) = self.printer_config() {
            if !config.heaters.contains(&heater) {
                let has: Vec<String> = config.heaters.iter().map(|h| h.to_string()).collect();
                return Err(Error::invalid(
                    format!("{heater} target"),
                    format!(
                        "this printer has no {heater} heater (it has: {})",
                        has.join(", ")
                    ),
                ));
            }
        }
        Ok(match heater {
            Heater::Chamber => "chamber".to_string(),
            h => heater_object(h),
        })
    }

    async fn start(&self, file: &str) -> Result<()> {
        let r = self.read(false).await?;
        let o = ready(&r, "start a print")?;
        if r.status.state.has_active_job() || matches!(r.status.state, PrinterState::WarmingUp) {
            return Err(Error::state(format!(
                "a job is {} ({}); cancel it first (Klipper would {} it)",
                r.status.raw_state,
                o.filename().unwrap_or("?"),
                if r.status.state == PrinterState::Paused {
                    "silently abandon"
                } else {
                    "refuse"
                }
            )));
        }
        if o.is_paused() {
            return Err(Error::state(
                "Klipper's pause flag is set while no job runs (a PAUSE sent while idle): the \
                 new job would start paused; send the G-code RESUME first",
            ));
        }
        let path = format!("printer/print/start?filename={}", q(file));
        self.printer_post(&path, None, &format!("file {file}"))
            .await
    }

    async fn job_action(&self, action: &'static str) -> Result<()> {
        let r = self.read(false).await?;
        let o = ready(&r, action)?;
        let state = r.status.state;
        let allowed = match action {
            "pause" => {
                matches!(state, PrinterState::Printing | PrinterState::WarmingUp) && !o.is_paused()
            }
            "resume" => state == PrinterState::Paused,
            _ => matches!(
                state,
                PrinterState::Printing | PrinterState::WarmingUp | PrinterState::Paused
            ),
        };
        if !allowed {
            return Err(Error::state(format!(
                "nothing to {action}: the printer is {state} ({}); Moonraker would answer ok \
                 and do nothing{}",
                r.status.raw_state,
                if action == "pause" && state.is_ready() {
                    " but set Klipper's pause flag"
                } else {
                    ""
                }
            )));
        }
        self.printer_post(&format!("printer/print/{action}"), None, action)
            .await
    }

    async fn cancel_object(&self, id: u32) -> Result<()> {
        let r = self.read(true).await?;
        let o = ready(&r, "cancel an object")?;
        if !matches!(
            r.status.state,
            PrinterState::Printing | PrinterState::WarmingUp | PrinterState::Paused
        ) {
            return Err(Error::state(format!(
                "no job runs (the printer is {}): no object to cancel",
                r.status.state
            )));
        }
        let (objects, excluded) = o.job_objects();
        let name = objects.get(id as usize).ok_or_else(|| Error::NotFound {
            what: format!(
                "object {id}: the job defines {} object(s) (EXCLUDE_OBJECT_DEFINE), numbered \
                 from 0",
                objects.len()
            ),
        })?;
        if excluded.iter().any(|e| e.eq_ignore_ascii_case(name)) {
            return Err(Error::NotFound {
                what: format!("object {id} ({name}): cancelled already"),
            });
        }
        if !gcode::safe_object_name(name) {
            return Err(Error::protocol(format!(
                "object {id}'s name {:?} cannot be sent in EXCLUDE_OBJECT safely",
                mapping::one_line(name)
            )));
        }
        self.script(&format!("EXCLUDE_OBJECT NAME={name}"), "cancel object")
            .await
    }

    fn not_while_printing(r: &Reading, action: &str) -> Result<()> {
        if matches!(
            r.status.state,
            PrinterState::Printing | PrinterState::WarmingUp
        ) {
            return Err(Error::state(format!(
                "not while a job prints; pause it first to {action}"
            )));
        }
        Ok(())
    }

    async fn jog(&self, jog: polyprint::Jog) -> Result<()> {
        let r = self.read(true).await?;
        let o = ready(&r, "jog")?;
        Self::not_while_printing(&r, "jog")?;
        let moves: Vec<(Axis, f64)> = [(Axis::X, jog.x), (Axis::Y, jog.y), (Axis::Z, jog.z)]
            .into_iter()
            .filter_map(|(a, d)| d.filter(|d| *d != 0.0).map(|d| (a, d)))
            .collect();
        if let Some(homed) = o.homed_axes() {
            if let Some((a, _)) = moves.iter().find(|(a, _)| !homed.contains(a.letter())) {
                return Err(Error::state(format!(
                    "home {} first: Klipper refuses to move an axis it has not homed (homed: {})",
                    a.letter(),
                    if homed.is_empty() {
                        "none"
                    } else {
                        homed.as_str()
                    }
                )));
            }
        }
        if let (Some(at), Some(config)) = (o.position(), self.printer_config()) {
            for (axis, d) in &moves {
                let i = match axis {
                    Axis::X => 0,
                    Axis::Y => 1,
                    Axis::Z => 2,
                };
                if let Some((min, max)) = config.axes[i] {
                    let to = at[i] + d;
                    if to < min - 1e-6 || to > max + 1e-6 {
                        return Err(Error::invalid(
                            format!("{} distance", axis.letter()),
                            format!(
                                "{} would move from {} to {} mm, outside its travel of {} to {} mm",
                                axis.letter(),
                                gcode::mm(at[i]),
                                gcode::mm(to),
                                gcode::mm(min),
                                gcode::mm(max)
                            ),
                        ));
                    }
                }
            }
        }
        let feed = jog.speed.unwrap_or(DEFAULT_JOG_FEED);
        self.script_restoring(&gcode::jog_script(&moves, feed), "jog")
            .await
    }

    async fn home(&self, axes: polyprint::Axes) -> Result<()> {
        let r = self.read(false).await?;
        ready(&r, "home")?;
        Self::not_while_printing(&r, "home")?;
        let list: Vec<Axis> = [Axis::X, Axis::Y, Axis::Z]
            .into_iter()
            .filter(|a| axes.contains(*a))
            .collect();
        self.script(&gcode::home_script(&list), "home").await
    }

    async fn extrude(&self, amount: f64) -> Result<()> {
        let r = self.read(true).await?;
        let o = ready(&r, "extrude")?;
        Self::not_while_printing(&r, "extrude")?;
        let active = o
            .str("toolhead", "extruder")
            .filter(|e| heater_of(e).is_some())
            .unwrap_or("extruder")
            .to_string();
        let min = self
            .printer_config()
            .and_then(|c| c.min_extrude_temp)
            .unwrap_or(DEFAULT_MIN_EXTRUDE_TEMP);
        match o.num(&active, "temperature") {
            Some(t) if t < min => {
                return Err(Error::state(format!(
                    "the nozzle ({active}) is at {t:.1} °C, below the {min:.0} °C Klipper needs \
                     to extrude (min_extrude_temp); heat it first"
                )))
            }
            _ => {}
        }
        self.script_restoring(&gcode::extrude_script(amount), "extrude")
            .await
    }
}

/// The query path for object entries, `printer/objects/query?name[=field,…]&…`, built in one
/// buffer (a status read builds one per call); names and fields are percent-encoded.
pub(crate) fn query_path<'a, 'b>(
    objects: impl IntoIterator<Item = (&'a str, Option<&'b [&'b str]>)>,
) -> String {
    let mut path = String::with_capacity(256);
    path.push_str("printer/objects/query?");
    for (i, (name, fields)) in objects.into_iter().enumerate() {
        if i > 0 {
            path.push('&');
        }
        push_encoded_segment(&mut path, name);
        for (j, field) in fields.into_iter().flatten().enumerate() {
            path.push(if j == 0 { '=' } else { ',' });
            push_encoded_segment(&mut path, field);
        }
    }
    path
}

/// The printer objects of a reading when Klippy is ready, else InvalidState naming its state.
fn ready<'a>(r: &'a Reading, action: &str) -> Result<&'a ObjectState> {
    match &r.objects {
        None => Err(Error::state(format!(
            "cannot {action}: Moonraker is not connected to Klippy ({})",
            r.status.raw_state
        ))),
        Some(o) if o.klippy_state() != "ready" => Err(Error::state(format!(
            "cannot {action}: Klippy is {}{}",
            r.status.raw_state,
            r.status
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ))),
        Some(o) => Ok(o),
    }
}

/// Limits, axis travel and `min_extrude_temp` from the `configfile` object's settings.
fn limits_of(settings: &Value, heaters: &[Heater]) -> (Limits, AxisTravel, Option<f64>) {
    let num = |section: &str, key: &str| settings.get(section)?.get(key).and_then(number);
    let temp = |section: &str| num(section, "max_temp").filter(|t| *t > 0.0 && *t <= 1000.0);
    let mut limits = Limits::default();
    let tools: Vec<f64> = heaters
        .iter()
        .filter(|h| matches!(h, Heater::Tool(_)))
        .filter_map(|h| temp(&heater_object(*h)))
        .collect();
    if let Some(min) = tools.iter().copied().reduce(f64::min) {
        limits.tool_max = min;
    }
    if let Some(t) = temp("heater_bed") {
        limits.bed_max = t;
    }
    if let Some(t) = temp(mapping::CHAMBER_OBJECT) {
        limits.chamber_max = t;
    }
    let axes = ["stepper_x", "stepper_y", "stepper_z"].map(|s| {
        let max = num(s, "position_max")?;
        let min = num(s, "position_min").unwrap_or(0.0);
        (min < max && max - min <= 10_000.0).then_some((min, max))
    });
    if axes.iter().all(Option::is_some) {
        limits.jog_max_mm = axes
            .iter()
            .flatten()
            .map(|(min, max)| max - min)
            .fold(0.0, f64::max);
    }
    if let Some(d) = num("extruder", "max_extrude_only_distance").filter(|d| *d > 0.0) {
        limits.extrude_max_mm = limits.extrude_max_mm.min(d);
    }
    let min_extrude = num("extruder", "min_extrude_temp").filter(|t| (0.0..=1000.0).contains(t));
    (limits, axes, min_extrude)
}

#[async_trait]
impl Backend for Moonraker {
    fn describe(&self) -> PrinterInfo {
        let endpoint = self.inner.transport.endpoint();
        PrinterInfo::new(BACKEND, endpoint, self.inner.name.clone()).with_endpoint(endpoint)
    }

    fn secrets(&self) -> Vec<Secret> {
        self.inner.transport.secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.inner.transport.commands().clone())
    }

    fn capabilities(&self) -> Features {
        let learned = self.learned();
        let moonraker = learned.moonraker.unwrap_or_else(moonraker_features);
        let klipper = learned
            .klipper
            .as_ref()
            .map(|(f, _)| *f)
            .unwrap_or_else(klipper_features);
        moonraker | klipper
    }

    fn capabilities_confirmed(&self) -> bool {
        let learned = self.learned();
        learned.moonraker.is_some() && learned.klipper.is_some()
    }

    async fn refresh_capabilities(&self) -> Result<()> {
        self.learn().await
    }

    fn known_limits(&self) -> Limits {
        self.printer_config().map(|c| c.limits).unwrap_or_default()
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &["gcode", "gco", "g"]
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        Ok(self.read(false).await?.status)
    }

    async fn run(&self, command: Command) -> Result<()> {
        match command {
            Command::StartPrint(f) => self.start(f.as_str()).await,
            Command::Pause => self.job_action("pause").await,
            Command::Resume => self.job_action("resume").await,
            Command::Cancel => self.job_action("cancel").await,
            Command::CancelObject(id) => self.cancel_object(id).await,
            Command::DeleteFile(f) => {
                self.forget_metadata(f.as_str());
                let r = self
                    .send_command(Request::new(
                        Method::DELETE,
                        format!("server/files/gcodes/{}", encode_path(f.as_str())),
                        Idempotency::Command,
                    ))
                    .await?;
                errors::ok(r, &format!("file {f}"))
            }
            Command::SetTarget(t) => {
                let name = self.heater_name(t.heater())?;
                self.script(&gcode::target_script(&name, t.celsius()), "set target")
                    .await
            }
            Command::Jog(j) => self.jog(j.get()).await,
            Command::Home(axes) => self.home(axes).await,
            Command::Extrude(e) => self.extrude(e.mm()).await,
            Command::GCode(batch) => {
                if let Some(config) = self.printer_config() {
                    config.commands.check(batch.lines())?;
                }
                self.script(&batch.lines().join("\n"), "G-code").await
            }
            Command::Enqueue(f) => {
                let mut request =
                    Request::new(Method::POST, "server/job_queue/job", Idempotency::Command);
                request.body = Body::json(&json!({ "filenames": [f.as_str()] }));
                let r = self.send_command(request).await?;
                errors::ok(r, &format!("file {f}"))
            }
            other => Err(self.unsupported(other.feature())),
        }
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        let items: Vec<Value> = self
            .get("server/files/list?root=gcodes", "file list")
            .await?;
        let items: Vec<FileItem> = items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .filter(|i: &FileItem| !i.path.is_empty())
            .collect();
        let printable = |p: &str| {
            let ext = p.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            matches!(ext.as_deref(), Some("gcode" | "gco" | "g"))
        };
        let wanted: Vec<String> = items
            .iter()
            .filter(|i| printable(&i.path))
            .take(MAX_METADATA_LOOKUPS)
            .map(|i| i.path.clone())
            .collect();
        let metas: HashMap<String, FileMeta> = futures_util::stream::iter(wanted)
            .map(|p| async move {
                let m = self.metadata_for(&p).await;
                (p, m)
            })
            .buffer_unordered(METADATA_CONCURRENCY)
            .filter_map(|(p, m)| async move { m.map(|m| (p, m)) })
            .collect()
            .await;
        let mut files: Vec<FileEntry> = items
            .iter()
            .filter_map(|i| mapping::file_entry(i, metas.get(&i.path)))
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let name = upload.name.clone();
        let size = upload.size;
        self.forget_metadata(name.as_str());
        let mut fields = vec![("root", "gcodes".to_string())];
        if let Some((dir, _)) = name.as_str().rsplit_once('/') {
            fields.push(("path", dir.to_string()));
        }
        let mut request = Request::new(Method::POST, "server/files/upload", Idempotency::Command);
        request.body = Body::MultipartFile {
            field: "file",
            fields,
            upload: Box::new(CheckedUploadBody(upload)),
        };
        let r = self.inner.transport.send(request).await?;
        let r = errors::check(r, &format!("upload of {name}"))?;
        let done: UploadResult = r.json()?;
        let item = if done.item.path.is_empty() {
            FileItem {
                path: name.as_str().to_string(),
                size: Some(size),
                ..FileItem::default()
            }
        } else {
            done.item
        };
        mapping::file_entry(&item, None)
            .ok_or_else(|| Error::protocol("the upload's answer names no file".to_string()))
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        let cams = self.webcams().await?;
        let url = cams
            .iter()
            .find_map(|w| w.snapshot())
            .ok_or_else(|| Error::NotFound {
                what: "a webcam with a snapshot URL on this Moonraker".into(),
            })?;
        let base = self.inner.transport.url("")?;
        let full = base
            .join(url)
            .map_err(|e| Error::protocol(format!("the webcam's snapshot URL: {e}")))?;
        if !matches!(full.scheme(), "http" | "https") {
            return Err(Error::protocol(format!(
                "the webcam's snapshot URL is {}, not http(s)",
                full.scheme()
            )));
        }
        let r = self
            .inner
            .transport
            .send(Request::get(full.to_string()))
            .await?;
        if !r.is_success() {
            return Err(error_for(&r, "the webcam's snapshot"));
        }
        let content_type = r
            .content_type()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !content_type.starts_with("image/") || r.body.is_empty() {
            return Err(Error::protocol(format!(
                "the webcam's snapshot is not an image ({content_type:?}, {} bytes)",
                r.body.len()
            )));
        }
        Ok(Snapshot::new(content_type, r.body))
    }

    async fn fetch_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let h: HistoryList = self
            .get(
                &format!("server/history/list?limit={limit}&order=desc"),
                "job history",
            )
            .await?;
        Ok(h.jobs.iter().take(limit).map(mapping::job_record).collect())
    }

    async fn fetch_queue(&self) -> Result<Vec<QueuedJob>> {
        let s: QueueStatus = self.get("server/job_queue/status", "job queue").await?;
        Ok(mapping::queued(&s.queued_jobs))
    }

    async fn open_feed(&self) -> Result<StatusFeed> {
        crate::push::open(self.clone()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_show_and_empty_is_none() {
        let p = Moonraker::builder("http://127.0.0.1:1")
            .api_key("sekrit-key-123")
            .build()
            .unwrap();
        assert!(!format!("{p:?}").contains("sekrit"));
        assert_eq!(p.secrets(), vec![Secret::new("sekrit-key-123")]);
        assert_eq!(p.describe().name, "Moonraker at 127.0.0.1:1");
        let trusted = Moonraker::builder("http://127.0.0.1:1")
            .api_key("")
            .build()
            .unwrap();
        assert!(trusted.secrets().is_empty());
        assert!(!trusted.capabilities_confirmed());
        assert_eq!(trusted.capabilities(), declared_features());
    }

    #[test]
    fn query_paths_encode_names() {
        let p = query_path([
            ("webhooks", None),
            (
                "heater_generic chamber",
                Some(&["temperature", "target"][..]),
            ),
            ("toolhead", Some(&["position", "x&y=1"][..])),
        ]);
        assert_eq!(
            p,
            "printer/objects/query?webhooks&heater_generic%20chamber=temperature,target\
             &toolhead=position,x%26y%3D1"
        );
    }

    #[test]
    fn limits_come_from_the_config() {
        let settings = json!({
            "extruder": {"max_temp": 300.0, "min_extrude_temp": 170.0, "max_extrude_only_distance": 50.0},
            "extruder1": {"max_temp": 280.0},
            "heater_bed": {"max_temp": 130.0},
            "stepper_x": {"position_min": 0.0, "position_max": 220.0},
            "stepper_y": {"position_max": 220.0},
            "stepper_z": {"position_min": -2.0, "position_max": 250.0},
        });
        let (l, axes, min) = limits_of(&settings, &[Heater::Tool(0), Heater::Tool(1), Heater::Bed]);
        assert_eq!(
            (l.tool_max, l.bed_max, l.extrude_max_mm),
            (280.0, 130.0, 50.0)
        );
        assert_eq!(l.jog_max_mm, 252.0);
        assert_eq!(axes[2], Some((-2.0, 250.0)));
        assert_eq!(min, Some(170.0));
        // Nonsense is ignored: defaults stay.
        let (l, axes, _) = limits_of(
            &json!({"heater_bed": {"max_temp": 1e9}, "stepper_x": {"position_max": -5}}),
            &[Heater::Bed],
        );
        assert_eq!(l, Limits::default());
        assert_eq!(axes, [None, None, None]);
    }
}
