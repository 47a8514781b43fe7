//! OctoEverywhere's status to the common model, in pure functions.
//!
//! ## State table
//!
//! | `JobStatus.State` (or answer)        | [`PrinterState`] | notes |
//! |--------------------------------------|------------------|-------|
//! | `idle`                               | Idle       | |
//! | `warmingup`                          | WarmingUp  | |
//! | `printing`                           | Printing   | also while a pause or cancel is being carried out |
//! | `paused`                             | Paused     | also when the printer waits for a person |
//! | `resuming`                           | Resuming   | |
//! | `complete`                           | Finished   | |
//! | `cancelled`                          | Cancelled  | |
//! | `error`                              | Error      | `JobStatus.Error` is the message |
//! | any other word                       | Unknown    | the word is kept in `raw_state` |
//! | `{"Status": 785, "Error": "Host not connected"}` | Offline | the plugin answers, its printer host does not |
//!
//! Words are read with [`PrinterState::from_octoeverywhere_word`] (case-insensitively).
//! `raw_state` is the word, followed by `/SubState` when the plugin gives one.
//!
//! ## Everything else
//!
//! * Job: from `CurrentPrint` when it names a file. Progress, `DurationSec` (elapsed),
//!   `TimeLeftSec` (remaining), layers and `EstTotalFilUsedMm`; zero filament and null values
//!   are `None`.
//! * Heaters: `CurrentPrint.Temps`, hot end as `tool0`, bed, chamber; each only when its
//!   actual value is given.
//! * Lights and webcams: `JobStatus.Lights`, `ListWebcams.Webcams`.
//! * Failure detection: Gadget's `LastScore` (0–100) divided by 100, while a job is active;
//!   verdict below 0.33 Ok, below 0.66 Warning, else Failing.
//! * Features: see `features_from`.

use polyprint::state::wire_seconds;
use polyprint::{
    FailureDetection, FailureVerdict, Feature, Features, FileEntry, HeaterReading, JobProgress,
    Light, Limits, PrinterState, PrinterStatus, Webcam,
};

use crate::wire::{FileNode, OeStatus};

/// The raw state of a printer whose host the plugin cannot reach (plugin status 785).
pub(crate) const HOST_NOT_CONNECTED: &str = "Host not connected";

/// The features every OctoEverywhere host has, whatever its `Features` bits: pause and resume,
/// cancel (no bit: the plugin implements them on every platform), the file list, webcam
/// snapshots and Gadget's failure detection (OctoEverywhere's own services).
pub(crate) fn universal_features() -> Features {
    Feature::PauseResume
        | Feature::Cancel
        | Feature::FileList
        | Feature::WebcamSnapshot
        | Feature::FailureDetection
}

/// The bits of OctoEverywhere's `Features` this library reads (the first six, the same values
/// as [`Feature`]'s).
pub(crate) const OE_FEATURE_MASK: u32 = 0b11_1111;

/// The effective features for a status: the host's six `Features` bits, plus
/// [`universal_features`]; then narrowed to what this printer has: no lights listed drops
/// [`Feature::LightControl`] (the plugin would answer 788), no webcam listed drops
/// [`Feature::WebcamSnapshot`].
pub(crate) fn features_from(status: &OeStatus) -> Features {
    let bits = status.features.unwrap_or(0) & OE_FEATURE_MASK;
    let mut features = Features::from_bits_truncate(bits) | universal_features();
    let lights = status
        .job_status
        .as_ref()
        .and_then(|j| j.lights.as_ref())
        .map_or(0, Vec::len);
    if lights == 0 {
        features.remove(Feature::LightControl);
    }
    if status
        .list_webcams
        .as_ref()
        .is_some_and(|w| w.webcams.is_empty())
    {
        features.remove(Feature::WebcamSnapshot);
    }
    features
}

/// The features claimed before the first status: every bit the plugin API has, plus
/// [`universal_features`]. The first status or [`refresh`](crate::OctoEverywhere::refresh)
/// narrows them to the printer's.
pub(crate) fn features_before_status() -> Features {
    Features::from_bits_truncate(OE_FEATURE_MASK) | universal_features()
}

/// The plugin's documented `set-temp` ranges (B5), with the core's defaults for jogs and
/// extrusion: tool 0–260 °C, bed 0–75 °C, chamber 0–75 °C.
pub(crate) fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.tool_max = 260.0;
    limits.bed_max = 75.0;
    limits.chamber_max = 75.0;
    // The plugin's `home` homes every axis at once.
    limits.home_all_axes_only = true;
    limits
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite() && *v > 0.0)
}

/// The common status of the plugin's status `Result` (see the module table).
pub(crate) fn status_from(status: &OeStatus) -> PrinterStatus {
    let job_status = status.job_status.clone().unwrap_or_default();
    let word = job_status.state.trim().to_ascii_lowercase();
    let state = PrinterState::from_octoeverywhere_word(&word);
    let raw = match job_status
        .sub_state
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(sub) => format!("{}/{sub}", job_status.state),
        None if job_status.state.is_empty() => "(no state)".to_string(),
        None => job_status.state.clone(),
    };
    let mut s = PrinterStatus::new(state, raw);
    s.message = job_status.error.clone().filter(|e| !e.trim().is_empty());
    if let Some(print) = &job_status.current_print {
        if let Some(t) = &print.temps {
            let mut push = |heater, actual: Option<f64>, target: Option<f64>| {
                if let Some(actual) = actual {
                    s.heaters.push(HeaterReading::new(heater, actual, target));
                }
            };
            push(polyprint::Heater::Tool(0), t.hotend_actual, t.hotend_target);
            push(polyprint::Heater::Bed, t.bed_actual, t.bed_target);
            push(
                polyprint::Heater::Chamber,
                t.chamber_actual,
                t.chamber_target,
            );
        }
        let file = print.file_name.clone().filter(|f| !f.trim().is_empty());
        if file.is_some() {
            s.job = Some({
                let mut v = JobProgress::new(file);
                v.progress = print
                    .progress
                    .filter(|p| p.is_finite())
                    .map(|p| p.clamp(0.0, 100.0));
                v.elapsed = print.duration_sec.and_then(wire_seconds);
                v.remaining = print.time_left_sec.and_then(wire_seconds);
                v.layer = print.current_layer.filter(|l| *l > 0);
                v.layer_count = print.total_layers.filter(|l| *l > 0);
                v.filament_mm = positive(print.est_total_fil_used_mm);
                v
            });
        }
    }
    s.lights = job_status
        .lights
        .iter()
        .flatten()
        .map(|l| Light::new(l.name.clone(), l.on))
        .collect();
    s.webcams = status
        .list_webcams
        .iter()
        .flat_map(|w| &w.webcams)
        .map(|w| Webcam::new(w.name.clone(), w.enabled.unwrap_or(true)))
        .collect();
    if state.has_active_job() {
        let score = status
            .octo_everywhere_status
            .as_ref()
            .and_then(|o| o.gadget.as_ref())
            .and_then(|g| g.last_score)
            .filter(|v| v.is_finite());
        if let Some(score) = score {
            let score = (score / 100.0).clamp(0.0, 1.0);
            s.failure = Some(FailureDetection::new(
                score,
                FailureVerdict::from_score(score),
            ));
        }
    }
    s
}

/// The status of a printer whose host the plugin cannot reach (plugin status 785).
pub(crate) fn offline_status(error: Option<&str>) -> PrinterStatus {
    PrinterStatus::new(
        PrinterState::Offline,
        error
            .filter(|e| !e.trim().is_empty())
            .unwrap_or(HOST_NOT_CONNECTED),
    )
}

/// The virtual root of printable files.
pub(crate) const GCODE_ROOT: &str = "gcode";

/// A file of `files/list` as a [`FileEntry`]; its path is relative to the `gcode` root (what
/// [`Printer::start_print`](polyprint::Printer::start_print) takes).
pub(crate) fn file_entry(node: &FileNode) -> FileEntry {
    let path = relative_path(&node.virtual_path).to_string();
    {
        let mut v = FileEntry::new(
            path.clone(),
            if node.name.is_empty() {
                path.rsplit('/').next().unwrap_or(&path).to_string()
            } else {
                node.name.clone()
            },
        );
        v.size = node.size_bytes;
        v.modified = node.modified_time_sec;
        v
    }
}

/// A virtual path without its `gcode/` root.
pub(crate) fn relative_path(virtual_path: &str) -> &str {
    virtual_path
        .strip_prefix(GCODE_ROOT)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(virtual_path)
}

/// Whether the file `node` is the one `path` names: its virtual path (`gcode/a.gcode`), its
/// path under `gcode/` (`a.gcode`), or its platform path.
pub(crate) fn names_file(node: &FileNode, path: &str) -> bool {
    node.virtual_path == path
        || relative_path(&node.virtual_path) == path
        || node.platform_path.as_deref() == Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CurrentPrint, Gadget, JobStatus, OeLight, ServiceStatus, Temps, WebcamList};
    use std::time::Duration;

    fn with_state(word: &str) -> OeStatus {
        OeStatus {
            job_status: Some(JobStatus {
                state: word.into(),
                current_print: Some(CurrentPrint {
                    progress: Some(40.0),
                    duration_sec: Some(30.0),
                    time_left_sec: None,
                    file_name: Some("a.gcode".into()),
                    est_total_fil_used_mm: Some(0.0),
                    temps: Some(Temps {
                        hotend_actual: Some(200.0),
                        hotend_target: Some(205.0),
                        bed_actual: Some(60.0),
                        bed_target: None,
                        ..Temps::default()
                    }),
                    ..CurrentPrint::default()
                }),
                ..JobStatus::default()
            }),
            octo_everywhere_status: Some(ServiceStatus {
                gadget: Some(Gadget {
                    last_score: Some(70.0),
                    ..Gadget::default()
                }),
                ..ServiceStatus::default()
            }),
            ..OeStatus::default()
        }
    }

    #[test]
    fn state_table() {
        use PrinterState::*;
        let rows = [
            ("idle", Idle, false),
            ("warmingup", WarmingUp, true),
            ("printing", Printing, true),
            ("Printing", Printing, true),
            ("paused", Paused, true),
            ("resuming", Resuming, true),
            ("complete", Finished, false),
            ("cancelled", Cancelled, false),
            ("error", Error, false),
            ("calibrating", Unknown, false),
            ("", Unknown, false),
        ];
        for (word, state, failure) in rows {
            let s = status_from(&with_state(word));
            assert_eq!(s.state, state, "{word:?}");
            assert!(!s.raw_state.is_empty(), "{word:?}");
            if !word.is_empty() {
                assert_eq!(s.raw_state, word);
            }
            // Failure detection only while a job is active.
            assert_eq!(s.failure.is_some(), failure, "{word:?}");
        }
        let offline = offline_status(Some("Host not connected"));
        assert_eq!(offline.state, Offline);
        assert_eq!(offline.raw_state, "Host not connected");
    }

    #[test]
    fn job_heaters_and_failure() {
        let s = status_from(&with_state("printing"));
        let job = s.job.clone().unwrap();
        assert_eq!(job.progress, Some(40.0));
        assert_eq!(job.elapsed, Some(Duration::from_secs(30)));
        assert_eq!(job.remaining, None, "null stays None");
        assert_eq!(job.filament_mm, None, "0 is unknown, not 0 mm");
        let tool = s.heater(polyprint::Heater::Tool(0)).unwrap();
        assert_eq!((tool.actual, tool.target), (200.0, Some(205.0)));
        assert_eq!(s.heater(polyprint::Heater::Bed).unwrap().target, None);
        assert!(s.heater(polyprint::Heater::Chamber).is_none());
        let f = s.failure.unwrap();
        assert!((f.score - 0.7).abs() < 1e-9);
        assert_eq!(f.verdict, FailureVerdict::Failing);
        let mut sub = with_state("printing");
        sub.job_status.as_mut().unwrap().sub_state = Some("Auto bed leveling".into());
        assert_eq!(status_from(&sub).raw_state, "printing/Auto bed leveling");
    }

    #[test]
    fn features_table() {
        let f = |bits: u32, lights: usize, webcams: Option<usize>| {
            let mut s = OeStatus {
                features: Some(bits),
                ..OeStatus::default()
            };
            s.job_status = Some(JobStatus {
                lights: Some(vec![OeLight::default(); lights]),
                ..JobStatus::default()
            });
            s.list_webcams = webcams.map(|n| WebcamList {
                default_index: Some(0),
                webcams: vec![Default::default(); n],
            });
            features_from(&s)
        };
        let universal = universal_features();
        // OctoPrint host: print start only.
        assert_eq!(f(32, 0, Some(1)), universal | Feature::PrintStart);
        // Moonraker: all six, with a light.
        let all = f(63, 1, Some(1));
        assert_eq!(all.bits() & OE_FEATURE_MASK, 63);
        // Moonraker with no lights configured: no light control.
        assert!(!f(63, 0, Some(1)).contains(Feature::LightControl));
        // Bambu: light and print start.
        assert_eq!(
            f(33, 1, Some(1)),
            universal | Feature::LightControl | Feature::PrintStart
        );
        // No webcam listed: no snapshot; not listed at all: kept.
        assert!(!f(32, 0, Some(0)).contains(Feature::WebcamSnapshot));
        assert!(f(32, 0, None).contains(Feature::WebcamSnapshot));
        // Bits beyond the six are ignored.
        assert_eq!(f(32 | 1024, 0, None), universal | Feature::PrintStart);
        assert_eq!(limits().bed_max, 75.0);
        assert_eq!(limits().tool_max, 260.0);
    }

    #[test]
    fn file_paths() {
        let node = FileNode {
            kind: "file".into(),
            name: "benchy.gcode".into(),
            virtual_path: "gcode/models/benchy.gcode".into(),
            platform_path: Some("models/benchy.gcode".into()),
            ..FileNode::default()
        };
        let e = file_entry(&node);
        assert_eq!(e.path, "models/benchy.gcode");
        assert_eq!(e.name, "benchy.gcode");
        assert!(names_file(&node, "models/benchy.gcode"));
        assert!(names_file(&node, "gcode/models/benchy.gcode"));
        assert!(!names_file(&node, "benchy.gcode"));
    }
}
