//! Obico's wire format: the JSON documents the server sends, as serde types.
//!
//! Field names follow the server's serializers (`PrinterSerializer`, `BasePrintSerializer`,
//! `PrintSerializer`) and the agents' status dictionaries. Every field the server may leave out
//! or send as `null` is optional, and unknown fields are ignored, so a newer server or agent does
//! not break decoding. The same types serialise back to the same shape, which the mock uses.

use serde::{Deserialize, Serialize};

/// One printer as `GET /api/v1/printers/{id}/` returns it (`PrinterSerializer`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObicoPrinter {
    /// The printer id.
    pub id: u64,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Creation time, ISO-8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// `PAUSE` or `NONE`.
    #[serde(default)]
    pub action_on_failure: Option<String>,
    /// Whether AI failure detection watches this printer.
    #[serde(default)]
    pub watching_enabled: Option<bool>,
    /// Why it is not watching, when it is not.
    #[serde(default)]
    pub not_watching_reason: Option<String>,
    /// `octoprint_obico`, `moonraker_obico`, or `None` when no agent ever connected.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// The agent's version.
    #[serde(default)]
    pub agent_version: Option<String>,
    /// The latest webcam picture, when the agent uploaded one recently.
    #[serde(default)]
    pub pic: Option<Pic>,
    /// The agent's last status; `None` means the agent is offline (or there is none).
    #[serde(default)]
    pub status: Option<AgentStatus>,
    /// Settings (webcams and agent metadata).
    #[serde(default)]
    pub settings: Option<Settings>,
    /// The print Obico considers current.
    #[serde(default)]
    pub current_print: Option<ObicoPrint>,
    /// Obico's normalised failure score, 0–1 (0 when there is no prediction).
    #[serde(default)]
    pub normalized_p: Option<f64>,
}

/// `pic`: the latest snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pic {
    /// An absolute URL of the latest JPEG.
    #[serde(default)]
    pub img_url: Option<String>,
}

/// `settings`: the parts a client uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The agent's webcams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webcams: Vec<WebcamSetting>,
    /// Whether the primary webcam is flipped vertically.
    #[serde(default, rename = "webcam_flipV")]
    pub webcam_flip_v: bool,
    /// Whether the primary webcam is flipped horizontally.
    #[serde(default, rename = "webcam_flipH")]
    pub webcam_flip_h: bool,
    /// Whether it is rotated by 90°.
    #[serde(default)]
    pub webcam_rotate90: bool,
    /// Rotation in degrees.
    #[serde(default)]
    pub webcam_rotation: i64,
    /// `16:9` or `4:3`.
    #[serde(default, rename = "webcam_streamRatio")]
    pub webcam_stream_ratio: Option<String>,
    /// Whether the ratio is 16:9.
    #[serde(default)]
    pub ratio169: bool,
}

/// One webcam of `settings.webcams`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebcamSetting {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Whether it is the primary camera (the one `pic` shows).
    #[serde(default)]
    pub is_primary_camera: bool,
    /// How it streams.
    #[serde(default)]
    pub stream_mode: Option<String>,
}

/// The agent's status dictionary, passed through by the server. Both agents (OctoPrint-Obico and
/// moonraker-obico) use OctoPrint's shape; they differ in which flags they send and in the
/// temperature keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// When the agent collected it, epoch seconds (an integer from OctoPrint, a float from Klipper).
    #[serde(default, rename = "_ts")]
    pub ts: Option<f64>,
    /// The state text and flags.
    #[serde(default)]
    pub state: Option<AgentState>,
    /// The current file.
    #[serde(default)]
    pub job: Option<AgentJob>,
    /// Progress of the current job.
    #[serde(default)]
    pub progress: Option<AgentProgress>,
    /// Heaters and sensors by the agent's own names.
    #[serde(default)]
    pub temperatures: std::collections::BTreeMap<String, AgentTemperature>,
    /// Z height.
    #[serde(default, rename = "currentZ")]
    pub current_z: Option<f64>,
    /// Despite its name, the current layer *number*.
    #[serde(default, rename = "currentLayerHeight")]
    pub current_layer_height: Option<f64>,
    /// Metadata of the file being printed.
    #[serde(default)]
    pub file_metadata: Option<FileMetadata>,
    /// Whether the printer waits for a person (optional; the Obico UI reads it).
    #[serde(default)]
    pub user_interaction_required: Option<bool>,
}

/// `status.state`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// The state text (`Operational`, `Printing`, `Paused`, `Offline after error`, ...).
    #[serde(default)]
    pub text: String,
    /// The flags.
    #[serde(default)]
    pub flags: AgentFlags,
    /// The error message (null or empty when there is none).
    #[serde(default)]
    pub error: Option<String>,
}

/// `status.state.flags`. Every flag is optional: the Klipper agent sends fewer than OctoPrint's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AgentFlags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operational: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelling: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pausing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resuming: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finishing: Option<bool>,
    #[serde(
        default,
        rename = "closedOrError",
        skip_serializing_if = "Option::is_none"
    )]
    pub closed_or_error: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, rename = "sdReady", skip_serializing_if = "Option::is_none")]
    pub sd_ready: Option<bool>,
}

/// `status.job`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentJob {
    /// The file.
    #[serde(default)]
    pub file: Option<AgentFile>,
    /// The slicer's estimate, seconds (null from Klipper).
    #[serde(default, rename = "estimatedPrintTime")]
    pub estimated_print_time: Option<f64>,
    /// Filament estimates per tool (OctoPrint only).
    #[serde(default)]
    pub filament: Option<std::collections::BTreeMap<String, Option<AgentFilament>>>,
}

/// `status.job.file`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentFile {
    /// The name Obico uses as the print's file name.
    #[serde(default)]
    pub name: Option<String>,
    /// The path on the host.
    #[serde(default)]
    pub path: Option<String>,
    /// The display name.
    #[serde(default)]
    pub display: Option<String>,
    /// `local` or `sdcard` (OctoPrint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Size in bytes (OctoPrint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Upload time, epoch seconds (OctoPrint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
}

/// `status.job.filament.toolN`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentFilament {
    /// mm.
    #[serde(default)]
    pub length: Option<f64>,
    /// cm³.
    #[serde(default)]
    pub volume: Option<f64>,
}

/// `status.progress`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentProgress {
    /// Percent, 0–100.
    #[serde(default)]
    pub completion: Option<f64>,
    /// Bytes read.
    #[serde(default)]
    pub filepos: Option<f64>,
    /// Seconds printed.
    #[serde(default, rename = "printTime")]
    pub print_time: Option<f64>,
    /// Seconds left.
    #[serde(default, rename = "printTimeLeft")]
    pub print_time_left: Option<f64>,
    /// Filament used, mm (Klipper only).
    #[serde(
        default,
        rename = "filamentUsed",
        skip_serializing_if = "Option::is_none"
    )]
    pub filament_used: Option<f64>,
}

/// One entry of `status.temperatures`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentTemperature {
    /// °C; null when the sensor has no reading.
    #[serde(default)]
    pub actual: Option<f64>,
    /// °C; null for a sensor that cannot be set.
    #[serde(default)]
    pub target: Option<f64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<f64>,
}

/// `status.file_metadata`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileMetadata {
    /// Obico's own analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obico: Option<ObicoFileMetadata>,
}

/// `status.file_metadata.obico`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObicoFileMetadata {
    /// Layers in the file.
    #[serde(default, rename = "totalLayerCount")]
    pub total_layer_count: Option<u32>,
}

/// One print (`BasePrintSerializer`, plus `PrintSerializer`'s extras in `/prints/`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObicoPrint {
    /// The print id.
    pub id: u64,
    /// The file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// Start, ISO-8601.
    #[serde(default)]
    pub started_at: Option<String>,
    /// End (cancelled or finished), ISO-8601.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// Set only when it ran to its end.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Set only when it was cancelled.
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// When Obico alerted about a possible failure.
    #[serde(default)]
    pub alerted_at: Option<String>,
    /// When a person acknowledged the alert.
    #[serde(default)]
    pub alert_acknowledged_at: Option<String>,
    /// When alerts were muted for this print.
    #[serde(default)]
    pub alert_muted_at: Option<String>,
    /// When it was paused.
    #[serde(default)]
    pub paused_at: Option<String>,
    /// A person's verdict on the alert: `FAILED` or `NOT_FAILED`.
    #[serde(default)]
    pub alert_overwrite: Option<String>,
    /// Filament used, mm.
    #[serde(default)]
    pub filament_used: Option<f64>,
    /// Print time, seconds.
    #[serde(default)]
    pub print_time: Option<f64>,
}

/// The command envelope of pause, resume, cancel, start_print, finish_print and PATCH.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Whether there was a current print and the command was published (never "executed").
    pub succeeded: bool,
    /// The printer after the action.
    pub printer: ObicoPrinter,
}

/// `POST .../predict/` answers `{"result": Prediction}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictResponse {
    /// The result.
    pub result: Prediction,
}

/// The outcome of one prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The sum of the detections' confidences (it can exceed 1).
    pub p: f64,
    /// Smoothed statistics after this frame.
    pub temporal_stats: TemporalStats,
    /// What the model saw.
    pub detections: Vec<Detection>,
}

/// `temporal_stats` of a prediction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemporalStats {
    /// Exponentially weighted mean of `p` (α = 2/13).
    pub ewm_mean: f64,
    /// Rolling mean over the print's last 310 frames.
    pub rolling_mean_short: f64,
    /// Rolling mean over the printer's last 7200 frames.
    pub rolling_mean_long: f64,
    /// Frames scored in this print.
    pub prediction_num: u64,
    /// Frames scored for this printer ever.
    pub prediction_num_lifetime: u64,
}

/// One detection: `[label, confidence, [xc, yc, w, h]]` on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "(String, f64, [f64; 4])", into = "(String, f64, [f64; 4])")]
pub struct Detection {
    /// The class (`failure`).
    pub label: String,
    /// Confidence.
    pub confidence: f64,
    /// Box centre x, centre y, width, height, in pixels.
    pub bbox: [f64; 4],
}

impl From<(String, f64, [f64; 4])> for Detection {
    fn from((label, confidence, bbox): (String, f64, [f64; 4])) -> Self {
        Detection {
            label,
            confidence,
            bbox,
        }
    }
}

impl From<Detection> for (String, f64, [f64; 4]) {
    fn from(d: Detection) -> Self {
        (d.label, d.confidence, d.bbox)
    }
}

/// `GET /api/v1/version/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// The API version, e.g. `1.0.0`.
    pub version: String,
}
