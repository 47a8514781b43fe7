//! OctoPrint's JSON, as it comes over the wire (OctoPrint 1.11).
//!
//! These types decode the server's answers and nothing more: every field the adapter does not
//! need is left out, every field OctoPrint may send as `null` or omit is an `Option` or has a
//! default, so a server that adds fields or leaves some out still decodes. Shapes were taken
//! from the recorded answers in `tests/fixtures/samples/octoprint/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{"error": "..."}`, the shape of every JSON error OctoPrint sends.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ErrorBody {
    /// The server's message.
    pub error: String,
}

/// `GET /api/version`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct VersionResponse {
    /// API version, e.g. `0.1`.
    pub api: String,
    /// Server version, e.g. `1.11.8`.
    pub server: String,
    /// `OctoPrint 1.11.8`.
    #[serde(default)]
    pub text: Option<String>,
}

/// `GET /api/server`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ServerResponse {
    /// Server version.
    pub version: String,
    /// The safe-mode reason, `null` when not in safe mode.
    #[serde(default)]
    pub safemode: Option<String>,
}

/// `GET /api/printer` when the printer is operational (otherwise OctoPrint answers 409).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PrinterResponse {
    /// The printer's state (absent with `?exclude=state`).
    #[serde(default)]
    pub state: Option<PrinterState>,
    /// Temperatures: `tool0..N`, `bed`, `chamber`, optionally `history`. Can be `{}` right
    /// after connecting.
    #[serde(default)]
    pub temperature: Option<Temperatures>,
    /// The SD card's state.
    #[serde(default)]
    pub sd: Option<SdState>,
}

/// `state` of `/api/printer`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PrinterState {
    /// OctoPrint's words: `Operational`, `Printing`, `Pausing`, ...
    pub text: String,
    /// The flags.
    #[serde(default)]
    pub flags: StateFlags,
    /// An error text, `""` when there is none.
    #[serde(default)]
    pub error: Option<String>,
}

/// `state.flags` of `/api/printer`. Flags OctoPrint leaves out read as false.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct StateFlags {
    pub operational: bool,
    pub printing: bool,
    pub cancelling: bool,
    pub pausing: bool,
    pub resuming: bool,
    pub finishing: bool,
    pub closed_or_error: bool,
    pub error: bool,
    pub paused: bool,
    pub ready: bool,
    pub sd_ready: bool,
}

/// `GET /api/printer/sd`, and `sd` of `/api/printer`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct SdState {
    /// Whether an SD card is ready.
    #[serde(default)]
    pub ready: bool,
}

/// A map of heater name (`tool0`, `bed`, `chamber`) to reading. Other keys (`history`) are
/// kept as raw JSON so they do not break decoding.
pub type Temperatures = BTreeMap<String, serde_json::Value>;

/// One heater's reading in `temperature`, `/api/printer/tool` or `/api/printer/bed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct TempReading {
    /// Measured, °C.
    #[serde(default)]
    pub actual: Option<f64>,
    /// Target, °C.
    #[serde(default)]
    pub target: Option<f64>,
    /// Offset, °C (an int on the wire).
    #[serde(default)]
    pub offset: Option<f64>,
}

/// `GET /api/job`: always 200, even when disconnected.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct JobResponse {
    /// `Offline`, `Operational`, `Printing`, `Offline after error`, ...
    pub state: String,
    /// The job.
    #[serde(default)]
    pub job: Option<JobInfo>,
    /// The progress.
    #[serde(default)]
    pub progress: Option<Progress>,
    /// Present after an error: what went wrong.
    #[serde(default)]
    pub error: Option<String>,
}

/// `job` of `/api/job`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// The selected file (every field `null` when none is).
    #[serde(default)]
    pub file: Option<JobFile>,
    /// The analysis' estimate, seconds.
    #[serde(default)]
    pub estimated_print_time: Option<f64>,
    /// The last print's duration, seconds.
    #[serde(default)]
    pub last_print_time: Option<f64>,
    /// The average print time, seconds (only once a file is selected).
    #[serde(default)]
    pub average_print_time: Option<f64>,
    /// Filament per tool (`{"tool0": {"length", "volume"}}`), `null`, or
    /// `{"length": null, "volume": null}` when nothing is selected.
    #[serde(default)]
    pub filament: Option<BTreeMap<String, serde_json::Value>>,
    /// Who started it.
    #[serde(default)]
    pub user: Option<String>,
}

impl JobInfo {
    /// The filament length summed over tools, mm; `None` when no tool reports one.
    pub fn filament_length(&self) -> Option<f64> {
        let lengths: Vec<f64> = self
            .filament
            .iter()
            .flatten()
            .filter_map(|(_, v)| v.get("length").and_then(serde_json::Value::as_f64))
            .collect();
        (!lengths.is_empty()).then(|| lengths.iter().sum())
    }
}

/// `job.file` of `/api/job`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct JobFile {
    /// File name.
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display: Option<String>,
    /// Path within its origin.
    #[serde(default)]
    pub path: Option<String>,
    /// `local` or `sdcard`.
    #[serde(default)]
    pub origin: Option<String>,
    /// Size, bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Upload time, Unix seconds.
    #[serde(default)]
    pub date: Option<i64>,
}

/// `progress` of `/api/job`. After a cancel every field is `null`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// 0–100.
    #[serde(default)]
    pub completion: Option<f64>,
    /// Bytes read of the file.
    #[serde(default)]
    pub filepos: Option<u64>,
    /// Seconds printed (an int).
    #[serde(default)]
    pub print_time: Option<f64>,
    /// Seconds left, estimated.
    #[serde(default)]
    pub print_time_left: Option<f64>,
    /// `linear`, `analysis`, `estimate`, ... or `null`.
    #[serde(default)]
    pub print_time_left_origin: Option<String>,
}

impl Progress {
    /// Every field is `null` (OctoPrint's picture of a cancelled job).
    pub fn is_empty(&self) -> bool {
        self.completion.is_none()
            && self.filepos.is_none()
            && self.print_time.is_none()
            && self.print_time_left.is_none()
    }
}

/// `GET /api/connection`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ConnectionResponse {
    /// The current connection.
    pub current: ConnectionCurrent,
    /// What could be chosen.
    #[serde(default)]
    pub options: ConnectionOptions,
}

/// `current` of `/api/connection`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCurrent {
    /// `Closed` when disconnected, else the printer's state text.
    pub state: String,
    /// Serial port, `null` when disconnected.
    #[serde(default)]
    pub port: Option<String>,
    /// Baud rate, `null` when disconnected.
    #[serde(default)]
    pub baudrate: Option<u32>,
    /// Printer profile id.
    #[serde(default)]
    pub printer_profile: Option<String>,
}

/// `options` of `/api/connection`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConnectionOptions {
    /// Serial ports, including the host's real ones (`/dev/ttyS0`) and `VIRTUAL`.
    pub ports: Vec<String>,
    /// Baud rates.
    pub baudrates: Vec<u32>,
    /// Printer profiles.
    pub printer_profiles: Vec<PrinterProfileRef>,
    /// The preferred port, if configured.
    pub port_preference: Option<String>,
    /// The preferred baud rate, if configured.
    pub baudrate_preference: Option<u32>,
    /// The preferred profile.
    pub printer_profile_preference: Option<String>,
}

/// A printer profile in `options.printerProfiles`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PrinterProfileRef {
    /// Id, e.g. `_default`.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /api/files` and `GET /api/files/local`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct FilesResponse {
    /// Files and folders (folders carry `children` when listed recursively).
    #[serde(default)]
    pub files: Vec<FileInfo>,
    /// Free bytes.
    #[serde(default)]
    pub free: Option<u64>,
    /// Total bytes.
    #[serde(default)]
    pub total: Option<u64>,
}

/// One entry of `/api/files`, or `GET /api/files/local/<path>`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// File name.
    pub name: String,
    /// Path within its origin.
    #[serde(default)]
    pub path: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display: Option<String>,
    /// `machinecode`, `model` or `folder`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `local` or `sdcard`.
    #[serde(default)]
    pub origin: Option<String>,
    /// Size, bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Upload time, Unix seconds.
    #[serde(default)]
    pub date: Option<i64>,
    /// The analysis, once done.
    #[serde(default)]
    pub gcode_analysis: Option<GcodeAnalysis>,
    /// A folder's entries (recursive listings only).
    #[serde(default)]
    pub children: Option<Vec<FileInfo>>,
}

/// `gcodeAnalysis` of a file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcodeAnalysis {
    /// Estimated print time, seconds.
    #[serde(default)]
    pub estimated_print_time: Option<f64>,
}

/// `POST /api/files/local` (201).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// Whether the upload is processed.
    #[serde(default)]
    pub done: bool,
    /// Whether it was selected.
    #[serde(default)]
    pub effective_select: Option<bool>,
    /// Whether printing started.
    #[serde(default)]
    pub effective_print: Option<bool>,
    /// The stored file, by origin.
    pub files: UploadedFiles,
}

/// `files` of an upload answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct UploadedFiles {
    /// The file stored on the host.
    pub local: UploadedFile,
}

/// `files.local` of an upload answer.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct UploadedFile {
    /// File name.
    pub name: String,
    /// Path.
    #[serde(default)]
    pub path: Option<String>,
    /// `local`.
    #[serde(default)]
    pub origin: Option<String>,
}

/// The part of `GET /api/settings` the adapter reads: the webcams.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct SettingsResponse {
    /// The webcam settings.
    #[serde(default)]
    pub webcam: Option<WebcamSettings>,
}

/// `webcam` of `/api/settings`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebcamSettings {
    /// Says `true` even when no camera is configured: do not trust it alone.
    pub webcam_enabled: bool,
    /// The configured webcams.
    pub webcams: Vec<WebcamInfo>,
}

/// One webcam of `webcam.webcams`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebcamInfo {
    /// Name, e.g. `classic`.
    pub name: String,
    /// Whether a snapshot can be taken.
    pub can_snapshot: bool,
    /// Name for people.
    pub display_name: Option<String>,
}
