//! The common state model: what a printer is doing, in layers that keep the vendor's words.
//!
//! * [`PrinterState`] is the common state, with one mapping to OctoEverywhere's status words.
//! * [`PrinterStatus::raw_state`] always carries the vendor's own text.
//! * Reachability is not a state: a service that does not answer is an
//!   [`Error::Unreachable`](crate::Error::Unreachable); a service that answers that its printer is
//!   disconnected reports [`PrinterState::Offline`].
//! * Values a backend does not know are `None`, never 0.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the printer is doing, in common words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrinterState {
    /// The service answers, but its printer is disconnected or switched off.
    Offline,
    /// Connected and ready for a job.
    Idle,
    /// Doing something that is not a print job (homing, calibrating, loading filament).
    Busy,
    /// A job is starting: heating up or preparing.
    WarmingUp,
    /// A job is running.
    Printing,
    /// A pause was asked for and is being carried out.
    Pausing,
    /// The job is paused.
    Paused,
    /// The job is resuming.
    Resuming,
    /// A cancel was asked for and is being carried out.
    Cancelling,
    /// The last job ran to its end; the printer is ready again.
    Finished,
    /// The last job was cancelled; the printer is ready again.
    Cancelled,
    /// The printer or its host reports an error.
    Error,
    /// The printer waits for a person (a dialog on its screen, a filament runout).
    Attention,
    /// The backend reports a state we cannot place.
    Unknown,
}

impl PrinterState {
    /// The word OctoEverywhere uses for this state, for interoperability: one of `idle`,
    /// `warmingup`, `printing`, `paused`, `resuming`, `complete`, `cancelled`, `error`.
    /// States it has no word for map to the nearest: Busy to `idle`, Pausing and Cancelling to
    /// `printing`, Attention to `paused`, Offline and Unknown to `error`.
    pub fn octoeverywhere_word(self) -> &'static str {
        match self {
            PrinterState::Idle | PrinterState::Busy => "idle",
            PrinterState::WarmingUp => "warmingup",
            PrinterState::Printing | PrinterState::Pausing | PrinterState::Cancelling => "printing",
            PrinterState::Paused | PrinterState::Attention => "paused",
            PrinterState::Resuming => "resuming",
            PrinterState::Finished => "complete",
            PrinterState::Cancelled => "cancelled",
            PrinterState::Offline | PrinterState::Error | PrinterState::Unknown => "error",
        }
    }

    /// Reads an OctoEverywhere status word. Unknown words give [`PrinterState::Unknown`].
    pub fn from_octoeverywhere_word(word: &str) -> PrinterState {
        match word {
            "idle" => PrinterState::Idle,
            "warmingup" => PrinterState::WarmingUp,
            "printing" => PrinterState::Printing,
            "paused" => PrinterState::Paused,
            "resuming" => PrinterState::Resuming,
            "complete" => PrinterState::Finished,
            "cancelled" => PrinterState::Cancelled,
            "error" => PrinterState::Error,
            _ => PrinterState::Unknown,
        }
    }

    /// A job is running or being wound up: Printing, WarmingUp, Pausing, Paused, Resuming,
    /// Cancelling, Attention.
    ///
    /// ```
    /// use polyprint::PrinterState;
    ///
    /// assert!(PrinterState::Paused.has_active_job());
    /// assert!(!PrinterState::Finished.has_active_job());
    /// ```
    pub fn has_active_job(self) -> bool {
        matches!(
            self,
            PrinterState::WarmingUp
                | PrinterState::Printing
                | PrinterState::Pausing
                | PrinterState::Paused
                | PrinterState::Resuming
                | PrinterState::Cancelling
                | PrinterState::Attention
        )
    }

    /// The printer can take a new job: Idle, Finished or Cancelled.
    pub fn is_ready(self) -> bool {
        matches!(
            self,
            PrinterState::Idle | PrinterState::Finished | PrinterState::Cancelled
        )
    }

    /// The stable snake_case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            PrinterState::Offline => "offline",
            PrinterState::Idle => "idle",
            PrinterState::Busy => "busy",
            PrinterState::WarmingUp => "warming_up",
            PrinterState::Printing => "printing",
            PrinterState::Pausing => "pausing",
            PrinterState::Paused => "paused",
            PrinterState::Resuming => "resuming",
            PrinterState::Cancelling => "cancelling",
            PrinterState::Finished => "finished",
            PrinterState::Cancelled => "cancelled",
            PrinterState::Error => "error",
            PrinterState::Attention => "attention",
            PrinterState::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for PrinterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A heater, as the common model names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Heater {
    /// Tool (nozzle) n, counted from 0.
    Tool(u8),
    /// The heated bed.
    Bed,
    /// The heated chamber.
    Chamber,
}

impl std::fmt::Display for Heater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Heater::Tool(n) => write!(f, "tool{n}"),
            Heater::Bed => f.write_str("bed"),
            Heater::Chamber => f.write_str("chamber"),
        }
    }
}

impl std::str::FromStr for Heater {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bed" => Ok(Heater::Bed),
            "chamber" => Ok(Heater::Chamber),
            "tool" | "nozzle" => Ok(Heater::Tool(0)),
            _ => s
                .strip_prefix("tool")
                .and_then(|n| n.parse::<u8>().ok())
                .map(Heater::Tool)
                .ok_or_else(|| {
                    crate::Error::invalid("heater", format!("{s:?} is not bed, chamber or toolN"))
                }),
        }
    }
}

/// One heater's reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HeaterReading {
    /// Which heater.
    pub heater: Heater,
    /// The measured temperature, °C.
    pub actual: f64,
    /// The target, °C, when the backend reports one (0 means off).
    pub target: Option<f64>,
}

impl HeaterReading {
    /// A reading of `heater`: `actual` °C, aiming at `target` (`None` when unknown).
    pub fn new(heater: Heater, actual: f64, target: Option<f64>) -> HeaterReading {
        HeaterReading {
            heater,
            actual,
            target,
        }
    }
}

/// What is known of the current or last job. Unknown values are `None`, never 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobProgress {
    /// The file being printed, as the backend names it.
    pub file: Option<String>,
    /// Completion, 0–100.
    pub progress: Option<f64>,
    /// Time printed so far.
    #[serde(with = "opt_secs")]
    pub elapsed: Option<Duration>,
    /// The backend's estimate of the time left.
    #[serde(with = "opt_secs")]
    pub remaining: Option<Duration>,
    /// The layer being printed, counted from 1.
    pub layer: Option<u32>,
    /// How many layers the job has.
    pub layer_count: Option<u32>,
    /// Estimated filament use, mm.
    pub filament_mm: Option<f64>,
}

impl JobProgress {
    /// A job printing `file` (if known), every figure unknown until set.
    pub fn new(file: Option<String>) -> JobProgress {
        JobProgress {
            file,
            ..JobProgress::default()
        }
    }
}

/// A light the backend can report or switch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Light {
    /// The light's name.
    pub name: String,
    /// Whether it is on.
    pub on: bool,
}

impl Light {
    /// A light called `name`, on or off.
    pub fn new(name: impl Into<String>, on: bool) -> Light {
        Light {
            name: name.into(),
            on,
        }
    }
}

/// A webcam the backend knows of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Webcam {
    /// The webcam's name.
    pub name: String,
    /// Whether a snapshot can be taken.
    pub can_snapshot: bool,
}

impl Webcam {
    /// A webcam called `name`, which can take snapshots or not.
    pub fn new(name: impl Into<String>, can_snapshot: bool) -> Webcam {
        Webcam {
            name: name.into(),
            can_snapshot,
        }
    }
}

/// The backend's judgement of whether the print is failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureVerdict {
    /// Nothing wrong seen.
    Ok,
    /// Something may be going wrong.
    Warning,
    /// The print is very likely failing.
    Failing,
}

impl FailureVerdict {
    /// The verdict for a failure score normalised to 0–1: below 0.33 Ok, below 0.66 Warning,
    /// else Failing. No backend documents verdict thresholds; these split the scale in thirds,
    /// the same for every backend.
    pub fn from_score(score: f64) -> FailureVerdict {
        if score < 0.33 {
            FailureVerdict::Ok
        } else if score < 0.66 {
            FailureVerdict::Warning
        } else {
            FailureVerdict::Failing
        }
    }
}

/// Failure detection, where the backend has it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailureDetection {
    /// The backend's score, normalised to 0–1 (higher is worse).
    pub score: f64,
    /// The verdict from that score.
    pub verdict: FailureVerdict,
}

impl FailureDetection {
    /// A detection with its own verdict.
    pub fn new(score: f64, verdict: FailureVerdict) -> FailureDetection {
        FailureDetection { score, verdict }
    }
}

/// A snapshot of everything the backend says about its printer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrinterStatus {
    /// The common state.
    pub state: PrinterState,
    /// The vendor's own words for the state, always carried.
    pub raw_state: String,
    /// The error or attention message, when the backend gives one.
    pub message: Option<String>,
    /// The current or last job, when there is one.
    pub job: Option<JobProgress>,
    /// Heater readings. Empty when the backend has none yet.
    pub heaters: Vec<HeaterReading>,
    /// Lights.
    pub lights: Vec<Light>,
    /// Webcams.
    pub webcams: Vec<Webcam>,
    /// Failure detection.
    pub failure: Option<FailureDetection>,
}

impl PrinterStatus {
    /// A status with the given state and raw text and nothing else.
    pub fn new(state: PrinterState, raw_state: impl Into<String>) -> Self {
        PrinterStatus {
            state,
            raw_state: raw_state.into(),
            message: None,
            job: None,
            heaters: Vec::new(),
            lights: Vec::new(),
            webcams: Vec::new(),
            failure: None,
        }
    }

    /// The reading for one heater, if reported.
    pub fn heater(&self, heater: Heater) -> Option<&HeaterReading> {
        self.heaters.iter().find(|h| h.heater == heater)
    }
}

/// A stored file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileEntry {
    /// The path to pass to [`Printer::start_print`](crate::Printer::start_print).
    pub path: String,
    /// The file's display name.
    pub name: String,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Modification or upload time, seconds since the Unix epoch, when known.
    pub modified: Option<i64>,
    /// The slicer's or server's estimate of the print time.
    #[serde(with = "opt_secs")]
    pub estimated_time: Option<Duration>,
}

impl FileEntry {
    /// A file at `path` called `name`; size, time and estimate unknown until set.
    pub fn new(path: impl Into<String>, name: impl Into<String>) -> FileEntry {
        FileEntry {
            path: path.into(),
            name: name.into(),
            size: None,
            modified: None,
            estimated_time: None,
        }
    }
}

/// How a past job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobOutcome {
    /// Still running.
    Running,
    /// Ran to its end.
    Finished,
    /// Cancelled.
    Cancelled,
    /// Failed.
    Failed,
    /// Not known.
    Unknown,
}

/// A job from the backend's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobRecord {
    /// The backend's id for the job.
    pub id: String,
    /// The file printed.
    pub file: Option<String>,
    /// How it ended.
    pub outcome: JobOutcome,
    /// Start time, seconds since the Unix epoch.
    pub started: Option<i64>,
    /// End time, seconds since the Unix epoch.
    pub ended: Option<i64>,
}

impl JobRecord {
    /// A job `id` that ended (or not) with `outcome`; file and times unknown until set.
    pub fn new(id: impl Into<String>, outcome: JobOutcome) -> JobRecord {
        JobRecord {
            id: id.into(),
            file: None,
            outcome,
            started: None,
            ended: None,
        }
    }
}

/// A job waiting in the backend's print queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedJob {
    /// The backend's id for the queued job.
    pub id: String,
    /// The file it will print.
    pub file: String,
    /// Its place in the queue, from 0, when the backend says.
    pub position: Option<u32>,
}

impl QueuedJob {
    /// Job `id` waiting to print `file`, at no known position.
    pub fn new(id: impl Into<String>, file: impl Into<String>) -> QueuedJob {
        QueuedJob {
            id: id.into(),
            file: file.into(),
            position: None,
        }
    }
}

/// A webcam image.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The MIME type, e.g. `image/jpeg`.
    pub content_type: String,
    /// The image bytes.
    pub bytes: bytes::Bytes,
}

impl Snapshot {
    /// An image of `content_type` (e.g. `image/jpeg`).
    pub fn new(content_type: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Snapshot {
        Snapshot {
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }
}

/// The longest duration taken from a server or a file: ten years. Nothing a printer does lasts
/// longer; a bigger number is not a measurement.
pub const MAX_WIRE_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Seconds as a server or a file gives them (elapsed, remaining, estimated), as a duration:
/// `None` unless the number is finite, not negative and at most [`MAX_WIRE_DURATION`]. A
/// value no one measured is absent, never a panic (`Duration::from_secs_f64` panics on
/// `1e300`). Every adapter decodes durations through this.
///
/// ```
/// use std::time::Duration;
/// use polyprint::state::wire_seconds;
///
/// assert_eq!(wire_seconds(71.5), Some(Duration::from_secs_f64(71.5)));
/// assert_eq!(wire_seconds(1e300), None);
/// assert_eq!(wire_seconds(-1.0), None);
/// assert_eq!(wire_seconds(f64::NAN), None);
/// ```
pub fn wire_seconds(secs: f64) -> Option<Duration> {
    if secs.is_finite() && secs >= 0.0 && secs <= MAX_WIRE_DURATION.as_secs_f64() {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// Serialises `Option<Duration>` as whole seconds (float), for JSON readers.
mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let secs = Option::<f64>::deserialize(d)?;
        Ok(secs.and_then(super::wire_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octoeverywhere_words() {
        let table = [
            (PrinterState::Idle, "idle"),
            (PrinterState::WarmingUp, "warmingup"),
            (PrinterState::Printing, "printing"),
            (PrinterState::Paused, "paused"),
            (PrinterState::Resuming, "resuming"),
            (PrinterState::Finished, "complete"),
            (PrinterState::Cancelled, "cancelled"),
            (PrinterState::Error, "error"),
        ];
        for (state, word) in table {
            assert_eq!(state.octoeverywhere_word(), word);
            assert_eq!(PrinterState::from_octoeverywhere_word(word), state);
        }
        assert_eq!(
            PrinterState::from_octoeverywhere_word("???"),
            PrinterState::Unknown
        );
        assert_eq!(PrinterState::Pausing.octoeverywhere_word(), "printing");
    }

    #[test]
    fn verdict_thresholds() {
        for (score, verdict) in [
            (0.0, FailureVerdict::Ok),
            (0.329, FailureVerdict::Ok),
            (0.33, FailureVerdict::Warning),
            (0.659, FailureVerdict::Warning),
            (0.66, FailureVerdict::Failing),
            (1.0, FailureVerdict::Failing),
        ] {
            assert_eq!(FailureVerdict::from_score(score), verdict, "{score}");
        }
    }

    #[test]
    fn heater_names_parse() {
        assert_eq!("tool1".parse::<Heater>().unwrap(), Heater::Tool(1));
        assert_eq!("bed".parse::<Heater>().unwrap(), Heater::Bed);
        assert_eq!("chamber".parse::<Heater>().unwrap(), Heater::Chamber);
        assert!("toolx".parse::<Heater>().is_err());
        assert_eq!(Heater::Tool(2).to_string(), "tool2");
    }

    #[test]
    fn status_json_uses_seconds_and_nulls() {
        let mut s = PrinterStatus::new(PrinterState::Printing, "Printing");
        s.job = Some(JobProgress {
            file: Some("a.gcode".into()),
            progress: Some(12.5),
            elapsed: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "printing");
        assert_eq!(v["job"]["elapsed"], 30.0);
        assert!(v["job"]["remaining"].is_null());
        let back: PrinterStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
