//! [`PrusaConnect`]: one printer (by UUID) of a Prusa Connect account, as a polyprint
//! [`Backend`] (and so a [`polyprint::Printer`]).
//!
//! * Status comes from `GET /app/printers/{uuid}` (see [`crate::state::map_state`]).
//! * Features and limits are narrowed per printer from its supported-commands list, cached
//!   with a TTL that really expires ([`PrusaConnect::refresh_capabilities`]).
//! * Before a command is sent, the printer's current state is read and checked against the
//!   command's `executable_from_state`: a command the printer cannot run now is
//!   [`Error::InvalidState`] with nothing sent. Arguments are checked against the definition.
//! * Stored files are addressed as `storage/name` (e.g. `usb/cube.gcode`); a bare name means
//!   the USB storage.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use polyprint::builder::{self, Connection};
use polyprint::transport::{Auth, HttpConfig, Secret};
use polyprint::validate::FileName;
use polyprint::{
    async_trait, Axis, Backend, BackendExt, CheckedUpload, Command, Error, Feature, Features,
    FileEntry, Heater, JobRecord, Limits, PrinterInfo, PrinterStatus, QueuedJob, Result, Snapshot,
};
use serde_json::{json, Map, Value};

use crate::auth::Credentials;
use crate::client::{enc, JobQuery, PrusaConnectClient};
use crate::commands::CommandSet;
use crate::state;
use crate::wire;
use crate::BACKEND;

/// How long a printer's supported-commands list is trusted before it is fetched again.
pub const DEFAULT_CAPABILITIES_TTL: Duration = Duration::from_secs(300);

/// The storage a bare file name refers to.
pub const DEFAULT_STORAGE: &str = "usb";

/// Extensions Prusa printers print (binary and plain G-code).
const EXTENSIONS: &[&str] = &["bgcode", "bgc", "bg", "gcode", "gco", "g"];

/// What a Prusa Connect printer may do, before its supported commands narrow it.
pub fn declared_features() -> Features {
    Feature::PrintStart
        | Feature::PauseResume
        | Feature::Cancel
        | Feature::ObjectCancel
        | Feature::FileList
        | Feature::FileUpload
        | Feature::FileDelete
        | Feature::WebcamSnapshot
        | Feature::TemperatureControl
        | Feature::AxisMovement
        | Feature::Homing
        | Feature::Extrusion
        | Feature::LightControl
        | Feature::GCode
        | Feature::JobHistory
        | Feature::PrintQueue
}

#[derive(Default)]
struct Cache {
    commands: Option<(CommandSet, Instant)>,
    camera: Option<Option<u64>>,
    name: Option<String>,
    team_id: Option<u64>,
    /// Of the printer's `allowed_functionalities`, what narrows the features: whether
    /// `files` and `queue` are there (two flags, not the list: a fleet keeps one per printer).
    functionalities: Option<Functionalities>,
}

#[derive(Clone, Copy, Debug)]
struct Functionalities {
    files: bool,
    queue: bool,
}

/// One printer of a Prusa Connect account.
pub struct PrusaConnect {
    client: PrusaConnectClient,
    uuid: String,
    ttl: Duration,
    cache: RwLock<Cache>,
}

impl std::fmt::Debug for PrusaConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrusaConnect")
            .field("endpoint", &self.client.endpoint())
            .field("uuid", &self.uuid)
            .finish()
    }
}

/// Maps a checked file name to a path on the printer: `usb/a.gcode` → `/usb/a.gcode`,
/// `a.gcode` → `/usb/a.gcode`.
pub fn printer_path(name: &FileName) -> String {
    if name.as_str().contains('/') {
        format!("/{}", name.as_str())
    } else {
        format!("/{DEFAULT_STORAGE}/{}", name.as_str())
    }
}

fn check_uuid(uuid: &str) -> Result<()> {
    if uuid.is_empty()
        || uuid.len() > 64
        || !uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::invalid(
            "printer UUID",
            format!("{uuid:?} is not a UUID"),
        ));
    }
    Ok(())
}

fn kw(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The variable [`PrusaConnectBuilder::from_env`] reads the printer's UUID from.
pub const ENV_PRINTER: &str = "PRUSA_CONNECT_PRINTER";
/// The variable [`PrusaConnectBuilder::from_env`] reads another address than
/// [`crate::DEFAULT_BASE_URL`] from, when it is set.
pub const ENV_URL: &str = "PRUSA_CONNECT_URL";

/// Builds a [`PrusaConnect`] printer: from [`PrusaConnect::builder`] or
/// [`PrusaConnectBuilder::from_env`].
///
/// ```
/// use polyprint_prusa_connect::{Credentials, PrusaConnect, DEFAULT_BASE_URL};
///
/// let printer = PrusaConnect::builder(DEFAULT_BASE_URL)
///     .credentials(Credentials::token("access-token").with_refresh_token("refresh-token"))
///     .printer("11111111-2222-3333-4444-555555555555")
///     .build()?;
///
/// // The token and a well-formed printer UUID are required; nothing is sent without them.
/// let err = PrusaConnect::builder(DEFAULT_BASE_URL)
///     .token("access-token")
///     .printer("not a uuid")
///     .build()
///     .unwrap_err();
/// assert_eq!(err.kind(), polyprint::ErrorKind::InvalidArgument);
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PrusaConnectBuilder {
    connection: Connection,
    credentials: Option<Credentials>,
    printer: Option<String>,
    ttl: Duration,
}

impl PrusaConnectBuilder {
    /// A builder from [`ENV_URL`] (`PRUSA_CONNECT_URL`, else [`crate::DEFAULT_BASE_URL`]),
    /// [`Credentials::from_env`] (`PRUSA_CONNECT_TOKEN`, `PRUSA_CONNECT_REFRESH_TOKEN`) and
    /// [`ENV_PRINTER`] (`PRUSA_CONNECT_PRINTER`, required).
    pub fn from_env() -> Result<PrusaConnectBuilder> {
        let url = builder::env_var(ENV_URL)?.unwrap_or_else(|| crate::DEFAULT_BASE_URL.into());
        Ok(PrusaConnect::builder(url)
            .credentials(Credentials::from_env()?)
            .printer(builder::require_env(ENV_PRINTER)?))
    }

    /// A bearer access token (no refresh). See [`PrusaConnectBuilder::credentials`].
    pub fn token(self, token: impl Into<Secret>) -> Self {
        self.credentials(Credentials::token(token))
    }

    /// Full [`Credentials`] (refresh token, token file, token endpoint). Required, or
    /// [`PrusaConnectBuilder::token`].
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The printer's UUID. Required.
    pub fn printer(mut self, uuid: impl Into<String>) -> Self {
        self.printer = Some(uuid.into());
        self
    }

    /// How long the supported-commands list is cached (default:
    /// [`DEFAULT_CAPABILITIES_TTL`]).
    pub fn capabilities_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
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

    /// The printer. [`polyprint::Error::InvalidArgument`] without credentials, without a
    /// printer or with one that is not a UUID, or for a URL that is not
    /// `http(s)://host[:port][/path]`; nothing is sent.
    pub fn build(self) -> Result<PrusaConnect> {
        let credentials = self
            .credentials
            .ok_or_else(|| Error::invalid("token", "is required for Prusa Connect"))?;
        let uuid = self
            .printer
            .ok_or_else(|| Error::invalid("printer UUID", "is required for Prusa Connect"))?;
        check_uuid(&uuid)?;
        let transport = self.connection.transport(Auth::None)?;
        let account = PrusaConnectClient::over(transport, credentials);
        Ok(PrusaConnect::with_account(account, &uuid)?.with_capabilities_ttl(self.ttl))
    }
}

impl PrusaConnect {
    /// A builder for the Prusa Connect at `base_url` ([`crate::DEFAULT_BASE_URL`] for Prusa's
    /// own service).
    pub fn builder(base_url: impl Into<String>) -> PrusaConnectBuilder {
        PrusaConnectBuilder {
            connection: Connection::new(base_url),
            credentials: None,
            printer: None,
            ttl: DEFAULT_CAPABILITIES_TTL,
        }
    }

    /// A printer by UUID, with a bearer access token: the short form of
    /// `PrusaConnect::builder(base_url).token(token).printer(printer_uuid).build()`.
    pub fn new(
        base_url: &str,
        token: impl Into<Secret>,
        printer_uuid: &str,
    ) -> Result<PrusaConnect> {
        PrusaConnect::builder(base_url)
            .token(token)
            .printer(printer_uuid)
            .build()
    }

    /// One printer of an account's client (several printers may share one client).
    pub fn with_account(client: PrusaConnectClient, printer_uuid: &str) -> Result<PrusaConnect> {
        check_uuid(printer_uuid)?;
        Ok(PrusaConnect {
            client,
            uuid: printer_uuid.to_string(),
            ttl: DEFAULT_CAPABILITIES_TTL,
            cache: RwLock::new(Cache::default()),
        })
    }

    /// Sets how long the supported-commands list is cached.
    pub fn with_capabilities_ttl(mut self, ttl: Duration) -> PrusaConnect {
        self.ttl = ttl;
        self
    }

    /// The Prusa-specific client (teams, stats, failure reasons, ...).
    pub fn client(&self) -> &PrusaConnectClient {
        &self.client
    }

    /// The printer's UUID.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The cached supported commands, if fetched and not expired.
    pub fn supported_commands(&self) -> Option<CommandSet> {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        c.commands
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(s, _)| s.clone())
    }

    /// Whether the cached list is missing or older than the TTL (checked in place: the list
    /// is large, and this runs on every status).
    fn expired(&self) -> bool {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        c.commands
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() >= self.ttl)
    }

    /// Fetches the printer's supported commands (and its cameras) and narrows the features.
    pub async fn refresh_capabilities(&self) -> Result<()> {
        let set = self.client.supported_commands(&self.uuid).await?;
        let camera = self
            .client
            .printer_cameras(&self.uuid)
            .await
            .map(|cams| cams.first().map(|c| c.id));
        let mut c = self.cache.write().unwrap_or_else(|p| p.into_inner());
        c.commands = Some((set, Instant::now()));
        if let Ok(cam) = camera {
            c.camera = Some(cam);
        }
        Ok(())
    }

    async fn commands(&self) -> Result<CommandSet> {
        if let Some(s) = self.supported_commands() {
            return Ok(s);
        }
        self.refresh_capabilities().await?;
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .commands
            .as_ref()
            .map(|(s, _)| s.clone())
            .ok_or_else(|| Error::protocol("supported commands missing"))
    }

    async fn detail(&self) -> Result<wire::Printer> {
        let p = self.client.printer(&self.uuid).await?;
        let mut c = self.cache.write().unwrap_or_else(|p| p.into_inner());
        c.name = p.name.clone();
        c.team_id = p.team_id.or(c.team_id);
        if !p.allowed_functionalities.is_empty() {
            let has = |name: &str| p.allowed_functionalities.iter().any(|x| x == name);
            c.functionalities = Some(Functionalities {
                files: has("files"),
                queue: has("queue"),
            });
        }
        Ok(p)
    }

    async fn send(&self, set: &CommandSet, name: &str, kwargs: Map<String, Value>) -> Result<()> {
        self.client
            .execute_checked(set, &self.uuid, name, kwargs)
            .await
            .map(drop)
    }

    /// Checks that `name` can run from the printer's state now.
    fn executable(set: &CommandSet, name: &str, p: &wire::Printer) -> Result<()> {
        if state::is_offline(p) {
            return Err(Error::state("the printer is offline"));
        }
        let word = state::printer_word(p);
        match set.executable_from(name, word) {
            Some(true) => Ok(()),
            Some(false) => Err(Error::state(format!(
                "{name} cannot run while the printer is {word}"
            ))),
            // Unknown commands were refused earlier, as unsupported.
            None => Ok(()),
        }
    }

    fn default_of(set: &CommandSet, command: &str, arg: &str, fallback: i64) -> Value {
        set.get(command)
            .and_then(|d| d.args.iter().find(|a| a.name == arg))
            .and_then(|a| a.default.clone())
            .unwrap_or_else(|| fallback.into())
    }

    /// Builds the Prusa command(s) for a polyprint command.
    fn translate(
        &self,
        set: &CommandSet,
        command: &Command,
    ) -> Result<Vec<(&'static str, Map<String, Value>)>> {
        let one = |name: &'static str, v: Value| Ok(vec![(name, kw(v))]);
        match command {
            Command::StartPrint(f) => one("START_PRINT", json!({ "path": printer_path(f) })),
            Command::Pause => one("PAUSE_PRINT", json!({})),
            Command::Resume => one("RESUME_PRINT", json!({})),
            Command::Cancel => one("STOP_PRINT", json!({})),
            Command::CancelObject(id) => one("CANCEL_OBJECT", json!({ "object_id": id })),
            Command::DeleteFile(f) => one("DELETE_FILE", json!({ "path": printer_path(f) })),
            Command::SetTarget(t) => {
                let c = t.celsius().round() as i64;
                match t.heater() {
                    Heater::Tool(0) => {
                        one("SET_NOZZLE_TEMPERATURE", json!({ "nozzle_temperature": c }))
                    }
                    Heater::Bed => one("SET_HEATBED_TEMPERATURE", json!({ "bed_temperature": c })),
                    h => Err(Error::invalid(
                        format!("{h} target"),
                        "Prusa Connect sets only the nozzle (tool0) and bed targets",
                    )),
                }
            }
            Command::Jog(j) => {
                let j = j.get();
                let mut out = Vec::new();
                let (x, y) = (j.x.unwrap_or(0.0), j.y.unwrap_or(0.0));
                if x != 0.0 || y != 0.0 {
                    let feed = j
                        .speed
                        .map(|s| Value::from(s.round() as i64))
                        .unwrap_or_else(|| Self::default_of(set, "MOVE", "feedrate", 3000));
                    out.push(("MOVE", kw(json!({ "feedrate": feed, "x": x, "y": y }))));
                }
                if let Some(z) = j.z.filter(|z| *z != 0.0) {
                    let feed = j
                        .speed
                        .map(|s| Value::from(s.round() as i64))
                        .unwrap_or_else(|| Self::default_of(set, "MOVE_Z", "feedrate", 720));
                    out.push(("MOVE_Z", kw(json!({ "feedrate": feed, "distance": z }))));
                }
                Ok(out)
            }
            Command::Home(axes) => {
                let axis: String = [Axis::X, Axis::Y, Axis::Z]
                    .into_iter()
                    .filter(|a| axes.contains(*a))
                    .map(|a| a.letter().to_ascii_uppercase())
                    .collect();
                one("HOME", json!({ "axis": axis }))
            }
            Command::Extrude(e) => {
                let feed = Self::default_of(set, "MOVE_E", "feedrate", 240);
                one("MOVE_E", json!({ "feedrate": feed, "length": e.mm() }))
            }
            Command::SetLight(on) => one(
                "SET_CHAMBER_LED_INTENSITY",
                json!({ "chamber.led_intensity": if *on { 100 } else { 0 } }),
            ),
            Command::GCode(lines) => {
                one("SEND_GCODE", json!({ "gcode": lines.lines().join("\n") }))
            }
            other => Err(self.unsupported(other.feature())),
        }
    }
}

fn file_entry(f: &wire::File) -> Option<FileEntry> {
    if f.kind.as_deref() == Some("FOLDER") {
        return None;
    }
    let path = f
        .path
        .clone()
        .or_else(|| f.display_path.clone())
        .unwrap_or_else(|| format!("/{DEFAULT_STORAGE}/{}", f.name));
    Some({
        let mut v = FileEntry::new(
            path.trim_start_matches('/').to_string(),
            f.display_name.clone().unwrap_or_else(|| f.name.clone()),
        );
        v.size = f.size;
        v.modified = f.m_timestamp.or(f.uploaded).map(|t| t as i64);
        v.estimated_time = f
            .meta
            .as_ref()
            .and_then(|m| m.estimated_print_time)
            .filter(|s| *s > 0.0)
            .and_then(polyprint::state::wire_seconds);
        v
    })
}

#[async_trait]
impl Backend for PrusaConnect {
    async fn refresh_capabilities(&self) -> Result<()> {
        PrusaConnect::refresh_capabilities(self).await
    }

    fn describe(&self) -> PrinterInfo {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let name = c.name.clone().unwrap_or_else(|| self.uuid.clone());
        PrinterInfo::new(BACKEND, self.uuid.clone(), name).with_endpoint(self.client.endpoint())
    }

    /// Confirmed once the printer's supported commands were fetched.
    fn capabilities_confirmed(&self) -> bool {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        c.commands.is_some()
    }

    fn secrets(&self) -> Vec<Secret> {
        self.client.secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.client.commands().clone())
    }

    fn capabilities(&self) -> Features {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let mut f = declared_features();
        if let Some((set, _)) = &c.commands {
            f = set.narrow(f);
        }
        if let Some(funcs) = &c.functionalities {
            if !funcs.files {
                f.remove(Feature::FileList | Feature::FileUpload);
            }
            if !funcs.queue {
                f.remove(Feature::PrintQueue);
            }
        }
        if c.camera == Some(None) {
            f.remove(Feature::WebcamSnapshot);
        }
        f
    }

    fn known_limits(&self) -> Limits {
        let c = self.cache.read().unwrap_or_else(|p| p.into_inner());
        c.commands
            .as_ref()
            .map(|(s, _)| s.limits())
            .unwrap_or_default()
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        EXTENSIONS
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        let p = self.detail().await?;
        if self.expired() {
            if let Err(e) = self.refresh_capabilities().await {
                tracing::warn!(error = %e, "could not refresh supported commands");
            }
        }
        Ok(state::status_of(&p))
    }

    async fn run(&self, command: Command) -> Result<()> {
        if let Command::Enqueue(f) = &command {
            // A queue entry is Connect's, not a printer command: POST .../queue at the end
            // (its length read first; reads are safe to repeat, the POST is sent once).
            let end = self.fetch_queue().await?.len() as u32;
            return self
                .client
                .add_to_queue(&self.uuid, &printer_path(f), end, false)
                .await;
        }
        let set = self.commands().await?;
        let steps = self.translate(&set, &command)?;
        for (name, _) in &steps {
            if !set.supports(name) {
                return Err(self.unsupported(command.feature()));
            }
        }
        // Arguments first (no request needed), then the state, read fresh.
        for (name, kwargs) in &steps {
            set.check(name, kwargs)?;
        }
        // The state, read fresh, lets us refuse early with a clear message. The server refuses
        // too (409), so a transient failure to read it does not hold the command back; object
        // cancel needs the job id from it, though.
        let p = match self.detail().await {
            Ok(p) => Some(p),
            Err(e) if e.is_retryable() && !matches!(command, Command::CancelObject(_)) => {
                tracing::debug!(error = %e, "state pre-check skipped");
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = &p {
            for (name, _) in &steps {
                Self::executable(&set, name, p)?;
            }
            if let Command::Extrude(_) = command {
                if let (Some(min), Some(t)) = (
                    set.min_extrude_temp(),
                    p.temp.as_ref().and_then(|t| t.temp_nozzle),
                ) {
                    if t < min {
                        return Err(Error::state(format!(
                            "the nozzle is at {t} °C, below the {min} °C this printer needs to extrude"
                        )));
                    }
                }
            }
        }
        if let (Command::CancelObject(id), Some(p)) = (&command, &p) {
            let id = *id;
            let job_id = p
                .job_info
                .as_ref()
                .and_then(|j| j.id)
                .ok_or_else(|| Error::state("no job is running"))?;
            let job = self.client.job(&self.uuid, job_id).await?;
            let objects = job.cancelable.map(|c| c.objects).unwrap_or_default();
            match objects.iter().find(|o| o.id == id) {
                None => {
                    return Err(Error::NotFound {
                        what: format!("object {id} in job {job_id}"),
                    })
                }
                Some(o) if o.canceled => {
                    return Err(Error::NotFound {
                        what: format!("object {id} in job {job_id} (already cancelled)"),
                    })
                }
                Some(_) => {}
            }
        }
        for (name, kwargs) in steps {
            self.send(&set, name, kwargs).await?;
        }
        Ok(())
    }

    async fn fetch_queue(&self) -> Result<Vec<QueuedJob>> {
        let page = self.client.queue(&self.uuid, 100, 0).await?;
        Ok(page
            .items
            .iter()
            .map(|j| {
                let mut v = QueuedJob::new(
                    j.id.to_string(),
                    j.path
                        .as_deref()
                        .map(|p| p.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                );
                v.position = j.position.map(|p| p as u32);
                v
            })
            .collect())
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        Ok(self
            .client
            .printer_files(&self.uuid)
            .await?
            .iter()
            .filter_map(file_entry)
            .collect())
    }

    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let team = self.cache.read().unwrap_or_else(|p| p.into_inner()).team_id;
        let team = match team {
            Some(t) => t,
            None => self
                .detail()
                .await?
                .team_id
                .ok_or_else(|| Error::protocol("printer detail without team_id"))?,
        };
        let path = printer_path(&upload.name);
        let name = upload.name.base_name().to_string();
        let size = upload.size;
        let status = self
            .client
            .initiate_upload(team, &name, size, Some((&self.uuid, &path)))
            .await?;
        self.client.upload_data(team, status.id, upload).await?;
        let path = status.path.unwrap_or(path);
        Ok({
            let mut v = FileEntry::new(path.trim_start_matches('/').to_string(), name);
            v.size = Some(size);
            v
        })
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        let cached = self.cache.read().unwrap_or_else(|p| p.into_inner()).camera;
        let camera = match cached {
            Some(c) => c,
            None => {
                let cams = self.client.printer_cameras(&self.uuid).await?;
                let id = cams.first().map(|c| c.id);
                self.cache.write().unwrap_or_else(|p| p.into_inner()).camera = Some(id);
                id
            }
        };
        let id = camera.ok_or_else(|| Error::NotFound {
            what: format!("a camera for printer {}", enc(&self.uuid)),
        })?;
        let image = self
            .client
            .snapshot(id, None)
            .await?
            .ok_or_else(|| Error::protocol("304 to an unconditional snapshot request"))?;
        Ok(Snapshot::new(image.content_type, image.bytes))
    }

    async fn fetch_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let q = JobQuery {
            states: ["FIN_OK", "FIN_STOPPED", "FIN_ERROR", "FIN_HARVESTED"]
                .map(String::from)
                .to_vec(),
            limit: Some(limit as u32),
            offset: None,
        };
        let page = self.client.printer_jobs(&self.uuid, &q).await?;
        Ok(page.items.iter().take(limit).map(record_of).collect())
    }
}

/// A finished job as the common model has it.
fn record_of(j: &wire::Job) -> JobRecord {
    let mut v = JobRecord::new(j.id.to_string(), state::job_outcome(&j.state));
    v.file = j
        .file
        .as_ref()
        .map(|f| f.display_name.clone().unwrap_or_else(|| f.name.clone()))
        .or(j.path.clone());
    v.started = j.start.map(|t| t as i64);
    v.ended = j.end.map(|t| t as i64);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_uuids() {
        assert_eq!(
            printer_path(&FileName::parse("a.gcode").unwrap()),
            "/usb/a.gcode"
        );
        assert_eq!(
            printer_path(&FileName::parse("usb/d/a.bgcode").unwrap()),
            "/usb/d/a.bgcode"
        );
        assert!(check_uuid("11111111-2222-3333-4444-555555555555").is_ok());
        for bad in ["", "../x", "a/b", "a b", "a?b"] {
            assert!(check_uuid(bad).is_err(), "{bad}");
        }
        let p = PrusaConnect::new("http://127.0.0.1:1", "tok-secret", "u-1").unwrap();
        assert!(!format!("{p:?}").contains("tok-secret"));
        assert_eq!(p.capabilities(), declared_features());
    }

    fn sample(rel: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/samples/prusa-connect/{rel}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// Every leaf of the printer, job and file samples replaced by hostile values (`1e300` in
    /// `estimated_print_time` used to panic): decoded or refused, mapped without a panic, and
    /// durations absent rather than absurd.
    #[test]
    fn hostile_values_never_panic() {
        use polyprint_conformance::hostile::mutations;
        let mut mapped = 0;
        for m in mutations(&sample("ha-prusa-connect/printer_detail.json")) {
            if let Ok(p) = serde_json::from_value::<wire::Printer>(m) {
                let s = state::status_of(&p);
                let job = s.job.unwrap_or_default();
                assert!(job
                    .elapsed
                    .is_none_or(|d| d <= polyprint::state::MAX_WIRE_DURATION));
                assert!(job
                    .remaining
                    .is_none_or(|d| d <= polyprint::state::MAX_WIRE_DURATION));
                mapped += 1;
            }
        }
        let job = sample("ha-prusa-connect/jobs.json")["jobs"][0].clone();
        for m in mutations(&job["file"]) {
            if let Ok(f) = serde_json::from_value::<wire::File>(m) {
                let e = file_entry(&f);
                let t = e.and_then(|e| e.estimated_time);
                assert!(t.is_none_or(|d| d <= polyprint::state::MAX_WIRE_DURATION));
                mapped += 1;
            }
        }
        for m in mutations(&job) {
            if let Ok(j) = serde_json::from_value::<wire::Job>(m) {
                record_of(&j);
                mapped += 1;
            }
        }
        assert!(mapped > 1000, "only {mapped} mutations decoded");
        let mut huge = job["file"].clone();
        huge["meta"]["estimated_print_time"] = serde_json::json!(1e300);
        let f: wire::File = serde_json::from_value(huge).unwrap();
        assert_eq!(file_entry(&f).unwrap().estimated_time, None);
    }
}
