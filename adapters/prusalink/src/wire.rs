//! PrusaLink's JSON bodies, as the 0.8.1 daemon sends them (`tests/fixtures/samples/`).
//!
//! Every field a printer may leave out is optional (in BUSY at start most `printer` fields
//! are missing; `axis_x`/`axis_y` disappear while printing), and unknown fields are ignored,
//! so a newer server still decodes.

use serde::Deserialize;

/// `GET /api/v1/status`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct StatusResponse {
    /// The printer.
    #[serde(default)]
    pub printer: PrinterWire,
    /// The running or paused job; absent otherwise (also in FINISHED and STOPPED).
    #[serde(default)]
    pub job: Option<StatusJob>,
}

/// `printer` in [`StatusResponse`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PrinterWire {
    /// IDLE, BUSY, READY, PRINTING, PAUSED, FINISHED, STOPPED, ATTENTION, ERROR.
    #[serde(default)]
    pub state: String,
    /// Nozzle temperature.
    pub temp_nozzle: Option<f64>,
    /// Nozzle target.
    pub target_nozzle: Option<f64>,
    /// Bed temperature.
    pub temp_bed: Option<f64>,
    /// Bed target.
    pub target_bed: Option<f64>,
    /// The serial link's health: `{"ok": false, "message": "Serial device does not exist"}`
    /// without a printer.
    pub status_printer: Option<Health>,
}

/// `status_printer` / `status_connect`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Health {
    /// Whether all is well.
    #[serde(default)]
    pub ok: bool,
    /// What is wrong (or "OK").
    #[serde(default)]
    pub message: String,
}

/// `job` in [`StatusResponse`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct StatusJob {
    /// The job id the job control paths take.
    pub id: Option<u64>,
    /// 0–100.
    pub progress: Option<f64>,
    /// Seconds, from the file's `M73 R`.
    pub time_remaining: Option<f64>,
    /// Seconds printed (0 when the printer keeps no SD timer).
    pub time_printing: Option<f64>,
}

/// `GET /api/v1/job` while a job runs or is paused (204 otherwise).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct JobResponse {
    /// Job id.
    pub id: Option<u64>,
    /// PRINTING or PAUSED.
    #[serde(default)]
    pub state: String,
    /// 0–100.
    pub progress: Option<f64>,
    /// Seconds left.
    pub time_remaining: Option<f64>,
    /// Seconds printed.
    pub time_printing: Option<f64>,
    /// The file.
    pub file: Option<FileInfo>,
}

/// A file or folder entry (`/api/v1/files/...`, and `file` of a job).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct FileInfo {
    /// `PRINT_FILE`, `FOLDER`, `FILE`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The stored name (an 8.3 short name on the SD card).
    #[serde(default)]
    pub name: String,
    /// The name for people.
    pub display_name: Option<String>,
    /// For a job's file: `/PrusaLink gcodes/<name>`.
    pub path: Option<String>,
    /// Bytes.
    pub size: Option<u64>,
    /// Unix time of the last change.
    pub m_timestamp: Option<i64>,
    /// What was read from the file (a single file's GET, a job's file).
    pub meta: Option<FileMeta>,
    /// A folder's entries (one level).
    #[serde(default)]
    pub children: Vec<FileInfo>,
}

/// `meta` of a file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct FileMeta {
    /// Seconds, from the slicer's comments.
    pub estimated_print_time: Option<f64>,
}

/// `GET /api/version`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct VersionResponse {
    /// API version (`2.0.0`).
    #[serde(default)]
    pub api: String,
    /// PrusaLink's version (`0.8.1`).
    #[serde(default)]
    pub server: String,
    /// The printer kind (`PrusaLink I3MK3S`).
    #[serde(default)]
    pub original: String,
    /// Firmware version, `null` without a printer.
    pub firmware: Option<String>,
    /// The host's name.
    pub hostname: Option<String>,
}

/// `GET /api/v1/info`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct InfoResponse {
    /// The printer's name as set in PrusaLink.
    pub name: Option<String>,
    /// Where it stands.
    pub location: Option<String>,
    /// Nozzle diameter, mm.
    pub nozzle_diameter: Option<f64>,
    /// The lowest temperature PrusaLink extrudes at.
    pub min_extrusion_temp: Option<f64>,
    /// The printer's serial number.
    pub serial: Option<String>,
}

/// `GET /api/v1/storage`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct StorageResponse {
    /// The storages.
    #[serde(default)]
    pub storage_list: Vec<Storage>,
}

/// One storage.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Storage {
    /// `LOCAL` or `SDCARD`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `/local`, `/sdcard`.
    #[serde(default)]
    pub path: String,
    /// Whether it can be used.
    #[serde(default)]
    pub available: bool,
    /// Bytes free.
    pub free_space: Option<u64>,
    /// Bytes in all.
    pub total_space: Option<u64>,
    /// Read only (the SD card is, through PrusaLink).
    #[serde(default)]
    pub read_only: bool,
}
