//! The contract: [`Printer`] for applications, [`Backend`] for adapters.
//!
//! Applications hold `Arc<dyn Printer>`. Adapters implement [`Backend`], and every `Backend` is
//! a `Printer` through one blanket implementation here. That implementation is the single place
//! where capabilities are enforced (an action outside [`Printer::features`] is
//! [`Error::Unsupported`] and sends nothing) and where input is checked (see
//! [`crate::validate`]). An adapter therefore only ever sees a [`Command`] that its printer
//! supports, built from values that passed validation.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::feature::{Feature, Features};
use crate::state::{FileEntry, Heater, JobRecord, PrinterStatus, QueuedJob, Snapshot};
use crate::validate::{
    home_axes, Axes, Extrusion, FileName, GcodeBatch, HeaterTarget, Jog, JogMove, Limits,
};
use crate::watch::{Commands, StatusFeed};

/// Who a printer is, without secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrinterInfo {
    /// The backend kind: `octoprint`, `prusa-connect`, `obico`, `sim`, ...
    pub backend: String,
    /// The backend's id for this printer (a UUID, an id, or the base URL).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The endpoint, without credentials.
    pub endpoint: Option<String>,
}

impl PrinterInfo {
    /// A printer of `backend`, known as `id` there and `name` to people, at no endpoint.
    pub fn new(
        backend: impl Into<String>,
        id: impl Into<String>,
        name: impl Into<String>,
    ) -> PrinterInfo {
        PrinterInfo {
            backend: backend.into(),
            id: id.into(),
            name: name.into(),
            endpoint: None,
        }
    }
    /// The same, reached at `endpoint` (a URL without credentials).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> PrinterInfo {
        self.endpoint = Some(endpoint.into());
        self
    }
}

/// Upload progress, reported as bytes go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadProgress {
    /// Bytes sent so far.
    pub sent: u64,
    /// Bytes in all.
    pub total: u64,
}

/// A callback for [`UploadProgress`].
pub type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// Where an upload's bytes come from.
#[derive(Clone, Debug)]
pub enum UploadSource {
    /// A local file, streamed from disk (never read into memory whole).
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
}

/// A file to upload, as asked for. See [`Printer::upload`].
#[derive(Clone)]
pub struct Upload {
    /// The name to store it under on the printer's host.
    pub name: String,
    /// The bytes.
    pub source: UploadSource,
    /// Called as bytes go out.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Upload {
    /// Uploads a local file under its own file name.
    pub fn from_path(path: impl Into<PathBuf>) -> Upload {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Upload {
            name,
            source: UploadSource::Path(path),
            progress: None,
        }
    }

    /// Uploads bytes under a name.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Upload {
        Upload {
            name: name.into(),
            source: UploadSource::Bytes(bytes.into()),
            progress: None,
        }
    }

    /// Stores the file under another name.
    pub fn named(mut self, name: impl Into<String>) -> Upload {
        self.name = name.into();
        self
    }

    /// Reports progress to `f`.
    pub fn on_progress(mut self, f: impl Fn(UploadProgress) + Send + Sync + 'static) -> Upload {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// An [`Upload`] that passed the checks: a valid name with an extension the backend accepts, a
/// source that exists, and its size.
#[derive(Clone)]
pub struct CheckedUpload {
    /// The checked name.
    pub name: FileName,
    /// The bytes.
    pub source: UploadSource,
    /// The size in bytes.
    pub size: u64,
    /// Called as bytes go out.
    pub progress: Option<ProgressFn>,
}

impl CheckedUpload {
    /// The largest upload accepted: 4 GiB.
    pub const MAX_SIZE: u64 = 4 << 30;

    /// The `what` of the [`Error::InvalidArgument`] for a file type the backend refuses.
    pub const WHAT_FILE_TYPE: &'static str = "file type";

    /// The `what` of the [`Error::InvalidArgument`] for a source that is not a file or too big.
    pub const WHAT_SOURCE: &'static str = "upload";

    /// Whether an error is one of these checks' refusals of the file itself (its type, its
    /// size, a source that is not a file), as opposed to the name or the printer. Tools that
    /// report file problems apart (the CLI's exit code 2) ask this instead of reading `what`.
    pub fn refused_file(error: &Error) -> bool {
        matches!(error, Error::InvalidArgument { what, .. }
            if what == Self::WHAT_FILE_TYPE || what == Self::WHAT_SOURCE)
    }

    /// Checks an upload: name, extension (against `accepted`), and that the source exists.
    pub async fn new(upload: Upload, accepted: &[&str]) -> Result<CheckedUpload> {
        let name = FileName::parse(&upload.name)?;
        let ext = name.extension().unwrap_or_default();
        if !accepted.iter().any(|a| a.eq_ignore_ascii_case(&ext)) {
            return Err(Error::invalid(
                Self::WHAT_FILE_TYPE,
                format!(
                    "{:?} is not accepted here; use one of: {}",
                    name.base_name(),
                    accepted.join(", ")
                ),
            ));
        }
        let size = match &upload.source {
            UploadSource::Bytes(b) => b.len() as u64,
            UploadSource::Path(p) => match tokio::fs::metadata(p).await {
                Ok(m) if m.is_file() => m.len(),
                Ok(_) => {
                    return Err(Error::invalid(
                        Self::WHAT_SOURCE,
                        format!("{} is not a file", p.display()),
                    ))
                }
                Err(e) => {
                    return Err(Error::NotFound {
                        what: format!("local file {}: {e}", p.display()),
                    })
                }
            },
        };
        if size > Self::MAX_SIZE {
            return Err(Error::invalid(
                Self::WHAT_SOURCE,
                format!(
                    "{size} bytes is more than the limit of {} bytes",
                    Self::MAX_SIZE
                ),
            ));
        }
        Ok(CheckedUpload {
            name,
            source: upload.source,
            size,
            progress: upload.progress,
        })
    }
}

/// A command for the printer, built only from checked values. See [`Backend::run`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Start printing a stored file.
    StartPrint(FileName),
    /// Pause the job.
    Pause,
    /// Resume the paused job.
    Resume,
    /// Cancel the job.
    Cancel,
    /// Cancel one object of the job.
    CancelObject(u32),
    /// Delete a stored file.
    DeleteFile(FileName),
    /// Set a heater target.
    SetTarget(HeaterTarget),
    /// Move the head relative to where it is.
    Jog(JogMove),
    /// Home axes (never empty).
    Home(Axes),
    /// Extrude (or retract, when negative).
    Extrude(Extrusion),
    /// Switch the light(s).
    SetLight(bool),
    /// Send G-code.
    GCode(GcodeBatch),
    /// Connect the host to its printer.
    Connect,
    /// Disconnect the host from its printer.
    Disconnect,
    /// Add a stored file to the end of the print queue.
    Enqueue(FileName),
}

impl Command {
    /// The feature this command needs.
    pub fn feature(&self) -> Feature {
        match self {
            Command::StartPrint(_) => Feature::PrintStart,
            Command::Pause | Command::Resume => Feature::PauseResume,
            Command::Cancel => Feature::Cancel,
            Command::CancelObject(_) => Feature::ObjectCancel,
            Command::DeleteFile(_) => Feature::FileDelete,
            Command::SetTarget(_) => Feature::TemperatureControl,
            Command::Jog(_) => Feature::AxisMovement,
            Command::Home(_) => Feature::Homing,
            Command::Extrude(_) => Feature::Extrusion,
            Command::SetLight(_) => Feature::LightControl,
            Command::GCode(_) => Feature::GCode,
            Command::Connect | Command::Disconnect => Feature::ConnectionControl,
            Command::Enqueue(_) => Feature::PrintQueue,
        }
    }

    /// A short name for logs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartPrint(_) => "start_print",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Cancel => "cancel",
            Command::CancelObject(_) => "cancel_object",
            Command::DeleteFile(_) => "delete_file",
            Command::SetTarget(_) => "set_target",
            Command::Jog(_) => "jog",
            Command::Home(_) => "home",
            Command::Extrude(_) => "extrude",
            Command::SetLight(_) => "set_light",
            Command::GCode(_) => "gcode",
            Command::Connect => "connect",
            Command::Disconnect => "disconnect",
            Command::Enqueue(_) => "enqueue",
        }
    }
}

/// What an application uses: one printer, whatever the backend.
///
/// Object safe: keep `Arc<dyn Printer>` in collections of mixed backends. Every action needs
/// one [`Feature`]; an action outside [`features`](Printer::features) returns
/// [`Error::Unsupported`] without sending anything, and bad input returns
/// [`Error::InvalidArgument`] without sending anything.
///
/// A command that reports success was *accepted* by the server; some servers accept commands
/// that then do nothing (OctoPrint's `start` with no file selected). Confirm with
/// [`status`](Printer::status).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> polyprint::Result<()> {
/// use std::sync::Arc;
/// use polyprint::{Printer, PrinterState, sim::VirtualPrinter};
///
/// let printer: Arc<dyn Printer> = Arc::new(VirtualPrinter::new());
/// printer.start_print("demo-cube.gcode").await?;
/// assert_eq!(printer.status().await?.state, PrinterState::Printing);
/// printer.cancel().await?;
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Printer: Send + Sync {
    /// Who this printer is.
    fn info(&self) -> PrinterInfo;
    /// What this printer can do: the backend's features, narrowed to this printer by the
    /// server. Where they depend on the printer (Prusa Connect's supported commands, Obico's
    /// agent kind, the host behind OctoEverywhere), the first call confirms them with one
    /// safe read; later calls answer from what was learnt. Nothing claimed here is then
    /// refused with [`Error::Unsupported`].
    async fn features(&self) -> Result<Features>;
    /// Asks the server again what this printer can do and returns the narrowed
    /// [`features`](Printer::features) (for example after the printer was swapped, or to
    /// detect a webcam on OctoPrint).
    async fn refresh_features(&self) -> Result<Features>;
    /// The printer's limits for heater targets, jogs and extrusion.
    fn limits(&self) -> Limits;
    /// File extensions an upload may have (lower case, without the dot).
    fn file_types(&self) -> Vec<String>;
    /// What the printer is doing.
    async fn status(&self) -> Result<PrinterStatus>;
    /// Starts printing a stored file ([`Feature::PrintStart`]).
    async fn start_print(&self, path: &str) -> Result<()>;
    /// Pauses the job ([`Feature::PauseResume`]).
    async fn pause(&self) -> Result<()>;
    /// Resumes the paused job ([`Feature::PauseResume`]).
    async fn resume(&self) -> Result<()>;
    /// Cancels the job ([`Feature::Cancel`]).
    async fn cancel(&self) -> Result<()>;
    /// Cancels one object of the job ([`Feature::ObjectCancel`]).
    async fn cancel_object(&self, object_id: u32) -> Result<()>;
    /// Lists stored files ([`Feature::FileList`]).
    async fn list_files(&self) -> Result<Vec<FileEntry>>;
    /// Uploads a file, streamed, with progress ([`Feature::FileUpload`]).
    async fn upload(&self, upload: Upload) -> Result<FileEntry>;
    /// Deletes a stored file ([`Feature::FileDelete`]).
    async fn delete_file(&self, path: &str) -> Result<()>;
    /// Sets a heater target in °C; 0 switches it off ([`Feature::TemperatureControl`]).
    async fn set_target(&self, heater: Heater, celsius: f64) -> Result<()>;
    /// Moves the head relative to where it is ([`Feature::AxisMovement`]).
    async fn jog(&self, jog: Jog) -> Result<()>;
    /// Homes axes ([`Feature::Homing`]).
    async fn home(&self, axes: Axes) -> Result<()>;
    /// Extrudes `mm` of filament, or retracts when negative ([`Feature::Extrusion`]).
    async fn extrude(&self, mm: f64) -> Result<()>;
    /// Switches the light(s) ([`Feature::LightControl`]).
    async fn set_light(&self, on: bool) -> Result<()>;
    /// Sends G-code lines ([`Feature::GCode`]).
    async fn send_gcode(&self, lines: &[String]) -> Result<()>;
    /// Takes a webcam snapshot ([`Feature::WebcamSnapshot`]).
    async fn snapshot(&self) -> Result<Snapshot>;
    /// Reads up to `limit` past jobs, newest first ([`Feature::JobHistory`]).
    async fn job_history(&self, limit: usize) -> Result<Vec<JobRecord>>;
    /// Connects the host to its printer ([`Feature::ConnectionControl`]).
    async fn connect(&self) -> Result<()>;
    /// Disconnects the host from its printer ([`Feature::ConnectionControl`]).
    async fn disconnect(&self) -> Result<()>;
    /// The jobs waiting in the print queue, in order ([`Feature::PrintQueue`]).
    async fn print_queue(&self) -> Result<Vec<QueuedJob>>;
    /// Adds a stored file to the end of the print queue ([`Feature::PrintQueue`]).
    async fn enqueue(&self, path: &str) -> Result<()>;
    /// The server's push channel: a full status for every message it pushes, starting with
    /// the current one; it ends or fails when the connection is lost. Needs
    /// [`Feature::StatusPush`]. Most applications want [`watch`](crate::watch::watch), which
    /// uses this where it can and adds change detection and reconnection.
    async fn status_feed(&self) -> Result<StatusFeed>;
    /// The count of commands this client sent, where the backend keeps one.
    fn commands(&self) -> Option<Commands>;
}

/// What an adapter implements. Every `Backend` is a [`Printer`]; the blanket implementation
/// confirms capabilities and checks features and input before calling these methods, so they
/// only see supported commands made of checked values.
///
/// The names differ from [`Printer`]'s because every `Backend` is also a `Printer`: with the
/// same names, each call on an adapter with both traits in scope would be ambiguous.
///
/// With the `mock` feature, `MockBackend` (mockall) stands in for an adapter in an
/// application's unit tests, behind the same guard as every real backend: see
/// [`MockBackend::with_features`].
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Backend: Send + Sync {
    /// Who this printer is.
    fn describe(&self) -> PrinterInfo;
    /// The effective features: declared, narrowed by what the server said. Must be cheap:
    /// cache what the server said.
    fn capabilities(&self) -> Features;
    /// Whether [`capabilities`](Backend::capabilities) are this printer's, confirmed by the
    /// server, rather than only declared. While this is false, the core calls
    /// [`refresh_capabilities`](Backend::refresh_capabilities) once before it answers
    /// [`Printer::features`] or runs an action the declared set allows; until then
    /// `capabilities` must be a superset of what the server can confirm (confirming only
    /// narrows). Adapters whose features never depend on the printer keep the default, true.
    fn capabilities_confirmed(&self) -> bool {
        true
    }
    /// Limits for checks ([`Printer::limits`]); the conservative defaults unless the server
    /// says better.
    fn known_limits(&self) -> Limits {
        Limits::default()
    }
    /// File extensions an upload may have (lower case, no dot).
    fn accepted_extensions(&self) -> &'static [&'static str] {
        &["gcode", "gco", "g"]
    }
    /// Asks the server what this printer can do and updates the cached capabilities.
    /// The default has nothing to ask.
    async fn refresh_capabilities(&self) -> Result<()> {
        Ok(())
    }
    /// Reads the status.
    async fn read_status(&self) -> Result<PrinterStatus>;
    /// Carries out a command. Never retried by the transport.
    async fn run(&self, command: Command) -> Result<()>;
    /// Lists files. Called only when [`Feature::FileList`] is claimed.
    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        Err(self.unsupported(Feature::FileList))
    }
    /// Uploads. Called only when [`Feature::FileUpload`] is claimed.
    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let _ = upload;
        Err(self.unsupported(Feature::FileUpload))
    }
    /// Takes a snapshot. Called only when [`Feature::WebcamSnapshot`] is claimed.
    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        Err(self.unsupported(Feature::WebcamSnapshot))
    }
    /// Reads job history. Called only when [`Feature::JobHistory`] is claimed.
    async fn fetch_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let _ = limit;
        Err(self.unsupported(Feature::JobHistory))
    }
    /// Reads the print queue. Called only when [`Feature::PrintQueue`] is claimed.
    async fn fetch_queue(&self) -> Result<Vec<QueuedJob>> {
        Err(self.unsupported(Feature::PrintQueue))
    }
    /// Opens the server's push channel. Called only when [`Feature::StatusPush`] is claimed.
    /// The feed yields a full status for every message the server pushes (mapped exactly as
    /// [`Backend::read_status`] maps a read, so the two never disagree), starting with the
    /// current one, and ends or fails when the connection is lost.
    async fn open_feed(&self) -> Result<StatusFeed> {
        Err(self.unsupported(Feature::StatusPush))
    }
    /// The count of commands this client sent, where the backend keeps one (its
    /// [`Transport::commands`](crate::transport::Transport::commands)): a
    /// [`watch`](crate::watch::watch) of the printer reads again at once after each.
    fn commands(&self) -> Option<Commands> {
        None
    }
    /// The credentials this backend sends (its key, token, password, and any header value
    /// built from them): the core scrubs them from every error before a caller sees it, so a
    /// server that echoes a request into its error body cannot get them into a message.
    fn secrets(&self) -> Vec<crate::transport::Secret> {
        Vec::new()
    }
}

impl<B: Backend + ?Sized> BackendExt for B {}

/// What every [`Backend`] has without writing it: its [`Error::Unsupported`], and the
/// capability guard the blanket [`Printer`] implementation goes through.
#[async_trait]
pub trait BackendExt: Backend {
    /// The [`Error::Unsupported`] for this backend.
    fn unsupported(&self, feature: Feature) -> Error {
        Error::Unsupported {
            feature,
            backend: self.describe().backend,
        }
    }

    /// The effective features, confirmed by the server first when they were only declared.
    async fn confirmed_capabilities(&self) -> Result<Features> {
        if !self.capabilities_confirmed() {
            self.refresh_capabilities().await?;
        }
        Ok(self.capabilities())
    }

    /// `error` with this backend's [`secrets`](Backend::secrets) scrubbed from its texts.
    fn scrubbed(&self, error: Error) -> Error {
        let secrets = self.secrets();
        if secrets.is_empty() {
            error
        } else {
            error.scrub(&secrets)
        }
    }

    /// `Ok` when `feature` is among the confirmed capabilities, else [`Error::Unsupported`].
    /// A feature outside even the declared set is refused without asking the server
    /// (confirming only narrows).
    async fn require(&self, feature: Feature) -> Result<()> {
        if !self.capabilities().contains(feature) {
            return Err(self.unsupported(feature));
        }
        if self.confirmed_capabilities().await?.contains(feature) {
            Ok(())
        } else {
            Err(self.unsupported(feature))
        }
    }
}

/// Checks the feature first (so an unsupported action says so whatever its input), then the
/// input, then runs.
async fn guarded<B, F>(backend: &B, feature: Feature, build: F) -> Result<()>
where
    B: Backend + ?Sized,
    F: FnOnce(&Limits) -> Result<Command>,
{
    checked_run(backend, feature, build)
        .await
        .map_err(|e| backend.scrubbed(e))
}

async fn checked_run<B, F>(backend: &B, feature: Feature, build: F) -> Result<()>
where
    B: Backend + ?Sized,
    F: FnOnce(&Limits) -> Result<Command>,
{
    backend.require(feature).await?;
    let command = build(&backend.known_limits())?;
    debug_assert_eq!(command.feature(), feature);
    tracing::debug!(command = command.name(), backend = %backend.describe().backend, "command");
    let name = command.name();
    backend.run(command).await.map_err(|e| e.of_command(name))
}

#[async_trait]
impl<B: Backend + ?Sized> Printer for B {
    fn info(&self) -> PrinterInfo {
        self.describe()
    }
    async fn features(&self) -> Result<Features> {
        self.confirmed_capabilities()
            .await
            .map_err(|e| self.scrubbed(e))
    }
    async fn refresh_features(&self) -> Result<Features> {
        self.refresh_capabilities()
            .await
            .map_err(|e| self.scrubbed(e))?;
        Ok(self.capabilities())
    }
    fn limits(&self) -> Limits {
        self.known_limits()
    }
    fn file_types(&self) -> Vec<String> {
        self.accepted_extensions()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }
    async fn status(&self) -> Result<PrinterStatus> {
        self.read_status().await.map_err(|e| self.scrubbed(e))
    }
    async fn start_print(&self, path: &str) -> Result<()> {
        guarded(self, Feature::PrintStart, |_| {
            Ok(Command::StartPrint(FileName::parse(path)?))
        })
        .await
    }
    async fn pause(&self) -> Result<()> {
        guarded(self, Feature::PauseResume, |_| Ok(Command::Pause)).await
    }
    async fn resume(&self) -> Result<()> {
        guarded(self, Feature::PauseResume, |_| Ok(Command::Resume)).await
    }
    async fn cancel(&self) -> Result<()> {
        guarded(self, Feature::Cancel, |_| Ok(Command::Cancel)).await
    }
    async fn cancel_object(&self, object_id: u32) -> Result<()> {
        guarded(self, Feature::ObjectCancel, |_| {
            Ok(Command::CancelObject(object_id))
        })
        .await
    }
    async fn list_files(&self) -> Result<Vec<FileEntry>> {
        async {
            self.require(Feature::FileList).await?;
            self.fetch_files().await
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    async fn upload(&self, upload: Upload) -> Result<FileEntry> {
        async {
            self.require(Feature::FileUpload).await?;
            let checked = CheckedUpload::new(upload, self.accepted_extensions()).await?;
            self.send_file(checked)
                .await
                .map_err(|e| e.of_command("upload"))
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    async fn delete_file(&self, path: &str) -> Result<()> {
        guarded(self, Feature::FileDelete, |_| {
            Ok(Command::DeleteFile(FileName::parse(path)?))
        })
        .await
    }
    async fn set_target(&self, heater: Heater, celsius: f64) -> Result<()> {
        guarded(self, Feature::TemperatureControl, |l| {
            Ok(Command::SetTarget(HeaterTarget::new(heater, celsius, l)?))
        })
        .await
    }
    async fn jog(&self, jog: Jog) -> Result<()> {
        guarded(self, Feature::AxisMovement, |l| {
            Ok(Command::Jog(JogMove::new(jog, l)?))
        })
        .await
    }
    async fn home(&self, axes: Axes) -> Result<()> {
        guarded(self, Feature::Homing, |l| {
            Ok(Command::Home(home_axes(axes, l)?))
        })
        .await
    }
    async fn extrude(&self, mm: f64) -> Result<()> {
        guarded(self, Feature::Extrusion, |l| {
            Ok(Command::Extrude(Extrusion::new(mm, l)?))
        })
        .await
    }
    async fn set_light(&self, on: bool) -> Result<()> {
        guarded(self, Feature::LightControl, |_| Ok(Command::SetLight(on))).await
    }
    async fn send_gcode(&self, lines: &[String]) -> Result<()> {
        guarded(self, Feature::GCode, |_| {
            Ok(Command::GCode(GcodeBatch::new(lines)?))
        })
        .await
    }
    async fn snapshot(&self) -> Result<Snapshot> {
        async {
            self.require(Feature::WebcamSnapshot).await?;
            self.fetch_snapshot().await
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    async fn job_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        async {
            self.require(Feature::JobHistory).await?;
            if limit == 0 || limit > 1000 {
                return Err(Error::invalid("history limit", "must be 1 to 1000"));
            }
            self.fetch_history(limit).await
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    async fn connect(&self) -> Result<()> {
        guarded(self, Feature::ConnectionControl, |_| Ok(Command::Connect)).await
    }
    async fn disconnect(&self) -> Result<()> {
        guarded(self, Feature::ConnectionControl, |_| {
            Ok(Command::Disconnect)
        })
        .await
    }
    async fn print_queue(&self) -> Result<Vec<QueuedJob>> {
        async {
            self.require(Feature::PrintQueue).await?;
            self.fetch_queue().await
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    async fn enqueue(&self, path: &str) -> Result<()> {
        guarded(self, Feature::PrintQueue, |_| {
            Ok(Command::Enqueue(FileName::parse(path)?))
        })
        .await
    }
    async fn status_feed(&self) -> Result<StatusFeed> {
        async {
            self.require(Feature::StatusPush).await?;
            let feed = self.open_feed().await?;
            let secrets = self.secrets();
            Ok(if secrets.is_empty() {
                feed
            } else {
                use futures_util::StreamExt;
                feed.map(move |r| r.map_err(|e| e.scrub(&secrets))).boxed()
            })
        }
        .await
        .map_err(|e| self.scrubbed(e))
    }
    fn commands(&self) -> Option<Commands> {
        Backend::commands(self)
    }
}

#[cfg(feature = "mock")]
impl MockBackend {
    /// A mock whose printer has `features` (confirmed), the default [`Limits`] and file types,
    /// and a [`PrinterInfo`] of backend `mock`: add expectations for the calls the code under
    /// test should make (`expect_read_status`, `expect_run`, ...), wrap it in an `Arc`, and
    /// use it as a [`Printer`]. Unsupported actions and bad input are refused before the mock
    /// sees them, as with a real backend.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::sync::Arc;
    /// use polyprint::{Command, Error, Feature, Heater, MockBackend, Printer};
    ///
    /// let mut mock = MockBackend::with_features(Feature::Cancel | Feature::TemperatureControl);
    /// mock.expect_run().withf(|c| *c == Command::Cancel).times(1).returning(|_| Ok(()));
    /// let printer: Arc<dyn Printer> = Arc::new(mock);
    /// printer.cancel().await.unwrap();
    /// assert!(matches!(printer.pause().await, Err(Error::Unsupported { .. })));
    /// assert!(matches!(
    ///     printer.set_target(Heater::Bed, f64::NAN).await,
    ///     Err(Error::InvalidArgument { .. })
    /// ));
    /// # }
    /// ```
    pub fn with_features(features: Features) -> MockBackend {
        let mut mock = MockBackend::new();
        mock.expect_describe().return_const(PrinterInfo {
            backend: "mock".into(),
            id: "mock".into(),
            name: "Mock printer".into(),
            endpoint: None,
        });
        mock.expect_capabilities().return_const(features);
        mock.expect_capabilities_confirmed().return_const(true);
        mock.expect_secrets().return_const(Vec::new());
        mock.expect_known_limits().return_const(Limits::default());
        mock.expect_accepted_extensions()
            .return_const(&["gcode", "gco", "g"][..]);
        mock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A backend that counts what reaches it.
    struct Counting {
        features: Features,
        runs: AtomicUsize,
    }

    impl Counting {
        fn info() -> PrinterInfo {
            PrinterInfo {
                backend: "counting".into(),
                id: "1".into(),
                name: "c".into(),
                endpoint: None,
            }
        }
    }

    #[async_trait]
    impl Backend for Counting {
        fn describe(&self) -> PrinterInfo {
            Counting::info()
        }
        fn capabilities(&self) -> Features {
            self.features
        }
        async fn read_status(&self) -> Result<PrinterStatus> {
            Err(Error::protocol("unused"))
        }
        async fn run(&self, _command: Command) -> Result<()> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn unsupported_and_invalid_never_reach_the_backend() {
        let b = Counting {
            features: Feature::PauseResume | Feature::TemperatureControl,
            runs: AtomicUsize::new(0),
        };
        let p: &dyn Printer = &b;
        let err = p.cancel().await.unwrap_err();
        assert!(matches!(
            err,
            Error::Unsupported {
                feature: Feature::Cancel,
                ..
            }
        ));
        // Unsupported wins over bad input.
        let err = p.start_print("../x").await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        let err = p.set_target(Heater::Bed, -3.0).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        assert!(matches!(
            p.list_files().await.unwrap_err(),
            Error::Unsupported { .. }
        ));
        assert_eq!(b.runs.load(Ordering::SeqCst), 0);
        p.pause().await.unwrap();
        p.set_target(Heater::Bed, 60.0).await.unwrap();
        assert_eq!(b.runs.load(Ordering::SeqCst), 2);
    }

    /// What an application's own unit test does with the exported mockall mock: the guard
    /// refuses bad input and missing features exactly as with a real printer.
    #[cfg(feature = "mock")]
    #[tokio::test]
    async fn the_mockall_mock_stands_in_for_any_printer() {
        use crate::state::PrinterState;
        let mut mock = MockBackend::with_features(Feature::Cancel | Feature::TemperatureControl);
        mock.expect_read_status()
            .times(1)
            .returning(|| Ok(PrinterStatus::new(PrinterState::Printing, "Printing")));
        mock.expect_run()
            .withf(|c| *c == Command::Cancel)
            .times(1)
            .returning(|_| Ok(()));
        let printer: std::sync::Arc<dyn Printer> = std::sync::Arc::new(mock);
        // Code under test: cancel whatever is printing.
        if printer.status().await.unwrap().state == PrinterState::Printing {
            printer.cancel().await.unwrap();
        }
        // Refused before the mock sees them (an unexpected `run` would panic).
        let err = printer.set_target(Heater::Bed, f64::NAN).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        let err = printer.set_light(true).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unsupported {
                    feature: Feature::LightControl,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            printer.features().await.unwrap(),
            Feature::Cancel | Feature::TemperatureControl
        );
    }

    /// A backend whose features are only declared is asked once, before the first answer.
    #[tokio::test]
    async fn declared_features_are_confirmed_once_before_use() {
        struct Declared {
            confirmed: std::sync::atomic::AtomicBool,
            refreshes: AtomicUsize,
            runs: AtomicUsize,
        }
        #[async_trait]
        impl Backend for Declared {
            fn describe(&self) -> PrinterInfo {
                Counting::info()
            }
            fn capabilities(&self) -> Features {
                if self.capabilities_confirmed() {
                    Feature::Cancel.into()
                } else {
                    Feature::Cancel | Feature::PauseResume
                }
            }
            fn capabilities_confirmed(&self) -> bool {
                self.confirmed.load(Ordering::SeqCst)
            }
            async fn refresh_capabilities(&self) -> Result<()> {
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                self.confirmed.store(true, Ordering::SeqCst);
                Ok(())
            }
            async fn read_status(&self) -> Result<PrinterStatus> {
                Err(Error::protocol("unused"))
            }
            async fn run(&self, _command: Command) -> Result<()> {
                self.runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
        let b = Declared {
            confirmed: false.into(),
            refreshes: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
        };
        let p: &dyn Printer = &b;
        // The declared set claimed pause; the printer's own does not, and says so first.
        let err = p.pause().await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert_eq!(p.features().await.unwrap(), Feature::Cancel);
        p.cancel().await.unwrap();
        assert_eq!(b.refreshes.load(Ordering::SeqCst), 1);
        assert_eq!(b.runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn uploads_are_checked() {
        let exts = ["gcode"];
        let err = CheckedUpload::new(Upload::from_bytes("notes.txt", "x"), &exts)
            .await
            .err()
            .unwrap();
        assert!(CheckedUpload::refused_file(&err), "{err}");
        let err = CheckedUpload::new(Upload::from_bytes("../a.gcode", "x"), &exts)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        assert!(
            !CheckedUpload::refused_file(&err),
            "a bad name is not a refused file"
        );
        let err = CheckedUpload::new(Upload::from_path("/nonexistent/a.gcode"), &exts)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, Error::NotFound { .. }));
        let ok = CheckedUpload::new(Upload::from_bytes("a.GCODE", "G28\n"), &exts)
            .await
            .unwrap();
        assert_eq!(ok.size, 4);
    }
}
