//! Prusa Connect's wire format: the JSON shapes of the `/app/` API, as typed Rust.
//!
//! Facts come from real captures (see `shared/specs/prusa-connect.md`). Rules that shape these
//! types:
//! * absent means omitted, never `null`: every field the server may leave out is an `Option`
//!   (or defaults to empty), and serialising skips `None`;
//! * timestamps are unix seconds, sometimes integers and sometimes floats: they are `f64`;
//! * ids are integers, dialog ids may exceed 2^31: they are `u64`;
//! * lists come wrapped, `{"<plural>": [...], "pager": {...}}`: see [`Page`].
//!
//! Unknown fields are ignored, so newer servers still decode.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The paging information of a wrapped list. Offset lists carry `limit`, `offset`, `total`
/// (and for printers `sort_by`); time-window lists (jobs, queue, events) add `from` and `to`
/// as unix timestamps, and the events pager has no `total`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pager {
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Offset of the first item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Items in all (absent on events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Start of the time window, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    /// End of the time window, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    /// The sort order (printers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<Vec<SortBy>>,
}

/// One sort column of a [`Pager`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortBy {
    /// Column name.
    pub column: String,
    /// `+` or `-`.
    pub order: String,
    /// The default order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A page of a wrapped list: the items under their plural key, and the pager when sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The pager (the server may leave it out).
    pub pager: Option<Pager>,
}

impl<T: serde::de::DeserializeOwned> Page<T> {
    /// Decodes `{"<key>": [...], "pager": {...}}`. A missing key is a protocol error.
    pub fn from_value(mut value: Value, key: &str) -> polyprint::Result<Page<T>> {
        let items = value
            .get_mut(key)
            .map(Value::take)
            .ok_or_else(|| polyprint::Error::protocol(format!("list without {key:?}")))?;
        let items: Vec<T> = serde_json::from_value(items)
            .map_err(|e| polyprint::Error::protocol(format!("{key}: {e}")))?;
        let pager = match value.get_mut("pager").map(Value::take) {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                serde_json::from_value(p)
                    .map_err(|e| polyprint::Error::protocol(format!("pager: {e}")))?,
            ),
        };
        Ok(Page { items, pager })
    }
}

/// The error body of every failed request: `{"message", "code"}`, plus `reason` on 400.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Human text.
    pub message: String,
    /// Machine code, e.g. `UNAUTHORIZED`, `NOT_FOUND_ENDPOINT`, `NOT_FOUND_SNAPSHOT`.
    pub code: String,
    /// Detail of a validation error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Temperatures of a printer (`temp`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Temps {
    /// Nozzle, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_nozzle: Option<f64>,
    /// Bed, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_bed: Option<f64>,
    /// Nozzle target, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_nozzle: Option<f64>,
    /// Bed target, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_bed: Option<f64>,
}

/// One tool of a printer (`tools["1"]`). Booleans here are real booleans.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp: Option<f64>,
    /// Whether it is the active tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Nozzle diameter, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nozzle_diameter: Option<f64>,
    /// Loaded material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// High-flow nozzle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_flow: Option<bool>,
    /// Hardened nozzle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardened: Option<bool>,
    /// Hotend fan (unit unconfirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_hotend: Option<f64>,
    /// Print fan (unit unconfirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_print: Option<f64>,
}

/// The chamber of a printer that has one (CORE One).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chamber {
    /// Temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp: Option<f64>,
    /// Target, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_temp: Option<f64>,
    /// Fan 1, RPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_1_rpm: Option<f64>,
    /// Fan 2, RPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_2_rpm: Option<f64>,
    /// LED intensity, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub led_intensity: Option<f64>,
}

/// The job a printer is running or last ran (`job_info`). May be partial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// Connect's job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The printer's own job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<u64>,
    /// Path on the printer, e.g. `/usb/SHAPE-~1.BGC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// File hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Start, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Progress in percent, 0–100 (1.0 means 1 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// Site-relative preview URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
    /// Job state (`PRINTING`, `PAUSED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Model weight, g.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_weight: Option<f64>,
    /// Weight left, g.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_remaining: Option<f64>,
    /// Print height (the real capture looks swapped with `total_height`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print_height: Option<f64>,
    /// Total height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_height: Option<f64>,
    /// File name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifetime id (UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_id: Option<String>,
    /// Seconds left; 0 or -1 mean "not known yet".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_remaining: Option<i64>,
    /// Seconds printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_printing: Option<i64>,
}

/// A dialog waiting on the printer's screen (`dialog_info`); answer with `DIALOG_ACTION`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogInfo {
    /// Dialog id (may exceed 2^31).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Code, a digit string such as `"17324"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Buttons.
    #[serde(default)]
    pub buttons: Vec<String>,
    /// Stable key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A printer, as listed (`GET /app/printers`) or in detail (`GET /app/printers/{uuid}`).
/// Telemetry (`temp`, `axis_*`, `speed`, `job_info`) is absent while the printer is offline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Printer {
    /// UUID.
    pub uuid: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Printer state (sticky while offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_state: Option<String>,
    /// Detail only: the same as `printer_state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Connection state: a printer state, or `OFFLINE`. The truth about reachability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_state: Option<String>,
    /// Last seen, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_online: Option<f64>,
    /// Model code, e.g. `COREONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_model: Option<String>,
    /// Dotted type id, e.g. `7.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_type: Option<String>,
    /// Type name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_type_name: Option<String>,
    /// Firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// Team id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    /// Team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    /// Temperatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp: Option<Temps>,
    /// X position, mm (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_x: Option<f64>,
    /// Y position, mm (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_y: Option<f64>,
    /// Z position, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_z: Option<f64>,
    /// Speed, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Flow, % (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<f64>,
    /// Nozzle diameter, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nozzle_diameter: Option<f64>,
    /// Tools by number, `"1"`, `"2"`, ...
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, Tool>,
    /// Chamber (detail, CORE One).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chamber: Option<Chamber>,
    /// Current or last job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_info: Option<JobInfo>,
    /// Dialog on the printer's screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog_info: Option<DialogInfo>,
    /// Functionalities the printer allows (`files`, `queue`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_functionalities: Vec<String>,
    /// File extensions it prints (detail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub printable_extension: Vec<String>,
    /// Longest file name (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_filename: Option<u64>,
    /// Serial number (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sn: Option<String>,
    /// Created, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<f64>,
    /// Jobs waiting in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_queue_count: Option<u64>,
    /// Read right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_r: Option<bool>,
    /// Write right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_w: Option<bool>,
    /// Use right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_u: Option<bool>,
}

/// One argument of a [`CommandDefinition`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandArg {
    /// Name (may contain a dot, e.g. `chamber.led_intensity`).
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `object`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it must be given.
    #[serde(default)]
    pub required: bool,
    /// Whether a user gives it (false: Connect fills it in).
    #[serde(default = "yes")]
    pub input: bool,
    /// Whether it is echoed back.
    #[serde(default)]
    pub output: bool,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Unit, e.g. `mm/min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_limit: Option<f64>,
    /// Largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<f64>,
    /// Where the value comes from, e.g. `dialog_info.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn yes() -> bool {
    true
}

/// A command a printer supports (`GET /app/printers/{uuid}/supported-commands`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandDefinition {
    /// Name, e.g. `START_PRINT`.
    pub command: String,
    /// Arguments.
    #[serde(default)]
    pub args: Vec<CommandArg>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Whether it may be queued twice.
    #[serde(default)]
    pub duplicates_allowed: bool,
    /// Printer states it can run from.
    #[serde(default)]
    pub executable_from_state: Vec<String>,
    /// G-code template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Lowest nozzle temperature for extrusion (`MOVE_E`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_temp_nozzle_e: Option<f64>,
}

/// The command part of a `/commands/sync` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// Command id.
    pub id: u64,
    /// `CREATED`.
    pub state: String,
    /// Name.
    pub command: String,
    /// Received, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<f64>,
    /// `CONNECT_USER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Arguments.
    #[serde(default)]
    pub kwargs: serde_json::Map<String, Value>,
}

/// The event part of a `/commands/sync` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandEvent {
    /// `ACCEPTED`, `REJECTED`, `FAILED` or `FINISHED`.
    pub event: String,
    /// The command's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The printer's state when the event was produced (before the command took effect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Created, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<f64>,
}

/// The answer of `POST /app/printers/{uuid}/commands/sync`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandResponse {
    /// The command as created.
    pub command: CommandRecord,
    /// The printer's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<CommandEvent>,
}

/// One object of a job, from `file.meta.objects_info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Name.
    pub name: String,
    /// Outline, `[[x, y], ...]`.
    #[serde(default)]
    pub polygon: Vec<[f64; 2]>,
}

/// `file.meta.objects_info`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectsInfo {
    /// Objects.
    #[serde(default)]
    pub objects: Vec<ObjectInfo>,
}

/// Metadata of a print file (`file.meta`). Booleans here are 0/1 integers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    /// Estimated print time, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_print_time: Option<f64>,
    /// Filament, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filament_used_mm: Option<f64>,
    /// Filament, g.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filament_used_g: Option<f64>,
    /// Filament type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filament_type: Option<String>,
    /// Layer height, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_height: Option<f64>,
    /// Printer model sliced for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_model: Option<String>,
    /// Nozzle temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Bed temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed_temperature: Option<f64>,
    /// High-flow nozzle, 0/1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nozzle_high_flow: Option<u8>,
    /// Support material, 0/1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_material: Option<u8>,
    /// Objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects_info: Option<ObjectsInfo>,
    /// Everything else.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A file: on a printer's storage or in team storage. `type` is the discriminator
/// (`PRINT_FILE`, `FIRMWARE`, `FILE`, `FOLDER`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// Kind.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Path (printer files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Path for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_path: Option<String>,
    /// Size, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hash (28-char base64url ending in `.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Team id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    /// Uploaded, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded: Option<f64>,
    /// Modified, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_timestamp: Option<f64>,
    /// Read only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Metadata (print files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<FileMeta>,
    /// Site-relative preview URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
    /// Preview MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_mimetype: Option<String>,
}

/// One cancellable object of a running job (job detail `cancelable.objects`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelableObject {
    /// The `object_id` for `CANCEL_OBJECT`.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Outline.
    #[serde(default)]
    pub polygon: Vec<[f64; 2]>,
    /// Whether it was cancelled.
    #[serde(default)]
    pub canceled: bool,
}

/// Job detail `cancelable`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cancelable {
    /// Objects.
    #[serde(default)]
    pub objects: Vec<CancelableObject>,
}

/// Why a job failed, as a user tagged it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReason {
    /// Tags, see [`crate::client::FailureTag`].
    #[serde(default)]
    pub tag: Vec<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// A job (history, team jobs, detail).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Connect's id.
    pub id: u64,
    /// State: `PRINTING`, `PAUSED`, `FIN_OK`, `FIN_STOPPED`, `FIN_ERROR`, `FIN_HARVESTED`, ...
    pub state: String,
    /// Lifetime id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_id: Option<String>,
    /// Printer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_uuid: Option<String>,
    /// The printer's job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<u64>,
    /// Path on the printer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// File hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    /// Seconds printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_printing: Option<i64>,
    /// Seconds left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_remaining: Option<i64>,
    /// Progress, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// Print height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print_height: Option<f64>,
    /// Start, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// End, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Source (`UNKNOWN`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
    /// Detail only: objects that can be cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelable: Option<Cancelable>,
    /// The failure reason, once tagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
}

/// A job waiting in a printer's queue (the shape was never captured; this is what clients
/// need: an id, a state and the path).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannedJob {
    /// Id.
    pub id: u64,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Path on the printer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Position in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// The file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
}

/// A storage of a printer. It has `mountpoint` and no `path`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    /// Mount point, e.g. `/usb`.
    pub mountpoint: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Free bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_space: Option<u64>,
    /// `LOCAL`, `SDCARD` or `USB`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Short (8.3) file names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_sfn: Option<bool>,
    /// Read only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_count: Option<u64>,
}

/// The answer to an upload initiation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadStatus {
    /// Upload id, for the raw PUT.
    pub id: u64,
    /// Team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    /// File name.
    #[serde(default)]
    pub name: String,
    /// Size, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// `INITIATED`, `UPLOADING`, ...
    #[serde(default)]
    pub state: String,
    /// `CONNECT_USER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Destination path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Resolution of a camera.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
}

/// A camera's configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CameraConfig {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// Trigger scheme, e.g. `THIRTY_SEC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_scheme: Option<String>,
}

/// A camera. The numeric `id` reads snapshots; the `token` belongs to the camera itself and is
/// never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<CameraConfig>,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Features.
    #[serde(default)]
    pub features: Vec<String>,
    /// The camera's token (a credential of the camera).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<bool>,
    /// Printer it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer_uuid: Option<String>,
    /// Team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camera")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("config", &self.config)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("registered", &self.registered)
            .finish()
    }
}

/// A member of a team.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamUser {
    /// Id.
    pub id: u64,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Public name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name: Option<String>,
    /// Avatar path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Read-only right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_ro: Option<bool>,
    /// Use right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_use: Option<bool>,
    /// Read-write right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_rw: Option<bool>,
}

/// A team.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Role of the current user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members (detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    /// Members (detail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<TeamUser>,
}

/// An invitation to a team (`POST /app/teams/{id}/add-user`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// E-mail of the person.
    pub email: String,
    /// Read-only right.
    pub rights_ro: bool,
    /// Use right.
    pub rights_use: bool,
    /// Read-write right.
    pub rights_rw: bool,
}

/// One named value of a stats series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: f64,
}

/// `printing_not_printing` and `material_quantity` stats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedStats {
    /// Window start, unix seconds.
    pub from: i64,
    /// Window end, unix seconds.
    pub to: i64,
    /// Printer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Printer UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Values.
    #[serde(default)]
    pub data: Vec<NamedValue>,
}

/// A named series of numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Name.
    pub name: String,
    /// Values.
    #[serde(default)]
    pub data: Vec<f64>,
}

/// `jobs_success` stats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobsSuccess {
    /// Window start.
    pub from: i64,
    /// Window end.
    pub to: i64,
    /// Day labels.
    #[serde(rename = "xAxis", default)]
    pub x_axis: Vec<String>,
    /// One series per job state.
    #[serde(default)]
    pub series: Vec<Series>,
    /// Time zone shift, e.g. `+00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_shift: Option<String>,
}

/// `planned_tasks` series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedSeries {
    /// Printer UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Printer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `[hour, count]` pairs.
    #[serde(default)]
    pub data: Vec<[f64; 2]>,
}

/// `planned_tasks` stats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedTasks {
    /// Window start.
    pub from: i64,
    /// Window end.
    pub to: i64,
    /// Hours.
    #[serde(rename = "xAxis", default)]
    pub x_axis: Vec<i64>,
    /// The series.
    pub series: PlannedSeries,
}

/// The `auth` block of the public app config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthConfig {
    /// Auth backends (`PRUSA_AUTH`).
    #[serde(default)]
    pub backends: Vec<String>,
    /// Account server URL.
    #[serde(default)]
    pub server_url: String,
    /// OAuth client id.
    #[serde(default)]
    pub client_id: String,
    /// OAuth redirect URL.
    #[serde(default)]
    pub redirect_url: String,
    /// Avatar server.
    #[serde(default)]
    pub avatar_server_url: String,
    /// Largest upload, bytes.
    #[serde(default)]
    pub max_upload_size: u64,
    /// Largest snapshot, bytes.
    #[serde(default)]
    pub max_snapshot_size: u64,
    /// Largest preview, bytes.
    #[serde(default)]
    pub max_preview_size: u64,
    /// AFS enabled.
    #[serde(default)]
    pub afs_enabled: bool,
    /// AFS group.
    #[serde(default)]
    pub afs_group_id: i64,
}

/// The public app config (`GET /app/config`, no auth).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppConfig {
    /// Auth settings.
    pub auth: AuthConfig,
}

/// A printer type (`GET /app/printer-types`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrinterType {
    /// Dotted id, e.g. `1.4.0`.
    pub id: String,
    /// Type number.
    #[serde(rename = "type")]
    pub kind: u32,
    /// Version.
    pub version: u32,
    /// Subversion.
    pub subversion: u32,
    /// Name.
    pub name: String,
    /// Parameters (limits), as sent.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Firmware device type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fw_device_type_id: Option<String>,
    /// Support (`stable`, `unsupported`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<BTreeMap<String, String>>,
}

/// A printer event (`GET /app/printers/{uuid}/events`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Name, e.g. `STATE_CHANGED`.
    pub event: String,
    /// Source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Server time, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<f64>,
    /// Created, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<f64>,
    /// Transfer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<u64>,
    /// The command that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Command id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<u64>,
    /// Printer state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A notification (`GET /app/notifications`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Id.
    pub id: u64,
    /// Category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Created, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<f64>,
    /// 0 = unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<i64>,
    /// Data (job, printer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// `GET /version.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Commit.
    pub commit: String,
    /// Version.
    pub version: String,
    /// Build date, ISO-8601.
    pub date: String,
}
