//! The OctoEverywhere plugin API's JSON, as serde types.
//!
//! Every plugin answer is an envelope: `{"Status": 200, "Result": {...}}` on success, or
//! `{"Status": <code>, "Error": "<text>"}` on failure, sent with HTTP 200 and
//! `Content-Type: text/json` (spec B2). Field names are PascalCase. Every field the spec marks
//! optional or nullable is an `Option` (or a defaulted list), so an older plugin's answer still
//! decodes.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// The plugin's envelope around every answer.
///
/// The `Result` is kept as its JSON text and decoded once into the type the call expects
/// (not into a [`Value`] tree first and then converted).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    /// 200 on success; otherwise a plugin code (400, 500, 750–754, 785–789).
    pub status: i64,
    /// The result, on success (`{}` for a bare success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Box<RawValue>>,
    /// The error text, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET .../status`: `Result`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OeStatus {
    /// The printer's job and state.
    pub job_status: Option<JobStatus>,
    /// OctoEverywhere's own view: the print id and Gadget, its failure detection.
    pub octo_everywhere_status: Option<ServiceStatus>,
    /// The host platform's version.
    pub platform_version: Option<String>,
    /// The feature bitmask (1 light, 2 axis movement, 4 homing, 8 extrusion,
    /// 16 temperature, 32 print start).
    pub features: Option<u32>,
    /// The webcams (no URLs in this copy).
    pub list_webcams: Option<WebcamList>,
}

/// `Result.JobStatus`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct JobStatus {
    /// `idle`, `warmingup`, `printing`, `paused`, `resuming`, `complete`, `cancelled`,
    /// `error`, or a word a newer plugin added.
    pub state: String,
    /// A finer state some platforms give (free text), or null.
    pub sub_state: Option<String>,
    /// The error text, or null.
    pub error: Option<String>,
    /// The printer's lights (null or empty when it has none).
    pub lights: Option<Vec<OeLight>>,
    /// The current (or last) print.
    pub current_print: Option<CurrentPrint>,
    /// The material system (only with `IncludeMaterialSystem=true`), kept as JSON.
    pub material_system: Option<Value>,
}

/// One light in `JobStatus.Lights`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OeLight {
    /// The name to pass to `set-light`.
    pub name: String,
    /// Whether it is on.
    pub on: bool,
}

/// `JobStatus.CurrentPrint`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CurrentPrint {
    /// 0–100.
    pub progress: Option<f64>,
    /// Seconds printed.
    pub duration_sec: Option<f64>,
    /// Seconds left, or null.
    pub time_left_sec: Option<f64>,
    /// The file printed.
    pub file_name: Option<String>,
    /// Estimated filament, mm.
    pub est_total_fil_used_mm: Option<f64>,
    /// Estimated filament, mg.
    pub est_total_fil_weight_mg: Option<f64>,
    /// The current layer, or null.
    pub current_layer: Option<u32>,
    /// Layers in all, or null.
    pub total_layers: Option<u32>,
    /// Temperatures.
    pub temps: Option<Temps>,
}

/// `CurrentPrint.Temps`, °C.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Temps {
    /// Bed, measured.
    pub bed_actual: Option<f64>,
    /// Bed, target.
    pub bed_target: Option<f64>,
    /// Hot end, measured.
    pub hotend_actual: Option<f64>,
    /// Hot end, target.
    pub hotend_target: Option<f64>,
    /// Chamber, measured.
    pub chamber_actual: Option<f64>,
    /// Chamber, target.
    pub chamber_target: Option<f64>,
}

/// `Result.OctoEverywhereStatus`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceStatus {
    /// OctoEverywhere's id of the most recent print.
    pub most_recent_print_id_str: Option<String>,
    /// When that print started, Unix seconds.
    pub print_start_time_sec: Option<i64>,
    /// Gadget, the AI failure detection.
    pub gadget: Option<Gadget>,
}

/// `OctoEverywhereStatus.Gadget`: the failure-detection scores (0–100, higher is worse).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Gadget {
    /// The latest score, or null before the first.
    pub last_score: Option<f64>,
    /// Recent scores, oldest first.
    pub score_history: Vec<f64>,
    /// Seconds since the latest score.
    pub time_since_last_score_sec: Option<f64>,
    /// Seconds between scores.
    pub interval_sec: Option<f64>,
    /// Whether notifications are suppressed for this print.
    pub is_suppressed: Option<bool>,
    /// Seconds since Gadget last warned, or null.
    pub time_since_last_warn_sec: Option<f64>,
    /// Seconds since Gadget last paused the print, or null.
    pub time_since_last_pause_sec: Option<f64>,
}

/// `webcam/list` and `Result.ListWebcams`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WebcamList {
    /// The webcam used when no index is given.
    pub default_index: Option<u32>,
    /// The webcams.
    pub webcams: Vec<OeWebcam>,
}

/// One webcam.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OeWebcam {
    /// Its name.
    pub name: String,
    /// Mirrored horizontally.
    pub flip_h: Option<bool>,
    /// Mirrored vertically.
    pub flip_v: Option<bool>,
    /// 0, 90, 180 or 270.
    pub rotation: Option<u16>,
    /// Whether it is enabled.
    pub enabled: Option<bool>,
    /// A printer-local path (not usable remotely), or null.
    pub snapshot_url: Option<String>,
    /// A printer-local path (not usable remotely), or null.
    pub stream_url: Option<String>,
}

/// `start`: `Result`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StartResult {
    /// The virtual path started (`gcode/...`).
    pub virtual_path: Option<String>,
    /// The platform's own path.
    pub platform_path: Option<String>,
    /// What the printer's host answered, when it did.
    pub printer_response: Option<Value>,
}

/// `files/list`: `Result`, a virtual tree whose roots (`gcode`, ...) are folders.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FileTree {
    /// The root folders.
    pub root: Vec<FileNode>,
}

/// A folder or file of [`FileTree`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FileNode {
    /// `folder` or `file`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The last path segment.
    pub name: String,
    /// The path to pass to `start` (`gcode/models/benchy.gcode`).
    pub virtual_path: String,
    /// The platform's own path (files only).
    pub platform_path: Option<String>,
    /// Size in bytes (files only).
    pub size_bytes: Option<u64>,
    /// Modification time, Unix seconds (files only).
    pub modified_time_sec: Option<i64>,
    /// Folders' contents.
    pub children: Vec<FileNode>,
}

impl FileTree {
    /// Every file in the tree, depth first.
    pub fn files(&self) -> Vec<&FileNode> {
        fn walk<'a>(nodes: &'a [FileNode], out: &mut Vec<&'a FileNode>) {
            for n in nodes {
                if n.kind.eq_ignore_ascii_case("file") {
                    out.push(n);
                }
                walk(&n.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

/// `ping`: `Result`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Pong {
    /// `Pong`.
    pub message: String,
}
