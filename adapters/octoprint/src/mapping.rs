//! From OctoPrint's words to the common model: one pure function per answer.
//!
//! `map_status` turns `/api/printer` (absent when OctoPrint answered 409 "Printer is not
//! operational") and `/api/job` into a [`PrinterStatus`]. The table it follows is in the crate
//! docs. `file_entries` flattens a file listing.

use polyprint::state::wire_seconds;
use polyprint::{FileEntry, Heater, HeaterReading, JobProgress, PrinterState, PrinterStatus};

use crate::wire::{FileInfo, JobResponse, PrinterResponse, StateFlags, TempReading, Temperatures};

/// The common state for one of OctoPrint's state texts, when the text alone decides it.
/// `Operational` is decided by the job (Idle, Finished or Cancelled), so it is not here.
pub(crate) fn state_for_text(text: &str) -> Option<PrinterState> {
    let state = match text {
        "Offline" | "Closed" => PrinterState::Offline,
        "Opening serial connection"
        | "Detecting serial connection"
        | "Detecting baudrate"
        | "Connecting"
        | "Transferring file to SD" => PrinterState::Busy,
        "Starting" | "Starting print from SD" | "Starting to send file to SD" => {
            PrinterState::WarmingUp
        }
        "Printing" | "Printing from SD" | "Sending file to SD" | "Finishing" => {
            PrinterState::Printing
        }
        "Pausing" => PrinterState::Pausing,
        "Paused" => PrinterState::Paused,
        "Resuming" => PrinterState::Resuming,
        "Cancelling" => PrinterState::Cancelling,
        "Error" | "Offline after error" => PrinterState::Error,
        t if t.starts_with("Error") => PrinterState::Error,
        _ => return None,
    };
    Some(state)
}

/// The common state from the flags, for a text this adapter does not know.
fn state_for_flags(f: &StateFlags) -> PrinterState {
    if f.error || (f.closed_or_error && !f.operational) {
        PrinterState::Error
    } else if f.cancelling {
        PrinterState::Cancelling
    } else if f.pausing {
        PrinterState::Pausing
    } else if f.resuming {
        PrinterState::Resuming
    } else if f.paused {
        PrinterState::Paused
    } else if f.printing || f.finishing {
        PrinterState::Printing
    } else if f.ready {
        PrinterState::Idle
    } else if f.operational {
        PrinterState::Busy
    } else {
        PrinterState::Unknown
    }
}

/// Maps `/api/printer` (`None` when it answered 409) and `/api/job` to a [`PrinterStatus`].
///
/// * The state text comes from `printer.state.text`, or from the job's `state` when the
///   printer is not operational; it is kept as `raw_state`.
/// * `Operational` becomes Finished when a file is selected and its completion is 100,
///   Cancelled when a file is selected and every progress field is `null` (OctoPrint's picture
///   after a cancel), Idle otherwise.
/// * The message is `state.error` when not empty, else the job's top-level `error`.
/// * Heaters are `tool0..N`, `bed` and `chamber` readings with an `actual` value.
/// * The job is there when a file is selected or a completion is known; unknown values are
///   `None`, never 0.
pub(crate) fn map_status(printer: Option<PrinterResponse>, job: JobResponse) -> PrinterStatus {
    let printer_state = printer.as_ref().and_then(|p| p.state.clone());
    let raw = match &printer_state {
        Some(s) => s.text.clone(),
        None => job.state.clone(),
    };
    let file_selected = job
        .job
        .as_ref()
        .and_then(|j| j.file.as_ref())
        .is_some_and(|f| f.name.is_some() || f.path.is_some());
    let progress = job.progress.clone().unwrap_or_default();

    let state = match state_for_text(&raw) {
        Some(s) => s,
        None if raw == "Operational" => {
            if file_selected && progress.completion.is_some_and(|c| c >= 100.0) {
                PrinterState::Finished
            } else if file_selected && progress.is_empty() {
                PrinterState::Cancelled
            } else {
                PrinterState::Idle
            }
        }
        None => match &printer_state {
            Some(s) => state_for_flags(&s.flags),
            None => PrinterState::Unknown,
        },
    };

    let mut status = PrinterStatus::new(state, raw);
    status.message = printer_state
        .as_ref()
        .and_then(|s| s.error.clone())
        .filter(|e| !e.trim().is_empty())
        .or_else(|| job.error.clone().filter(|e| !e.trim().is_empty()));
    status.heaters = printer
        .as_ref()
        .and_then(|p| p.temperature.as_ref())
        .map(heaters)
        .unwrap_or_default();

    if file_selected || progress.completion.is_some() {
        let info = job.job.clone().unwrap_or_default();
        let file = info.file.clone().unwrap_or_default();
        status.job = Some({
            let mut v = JobProgress::new(file.path.or(file.name).or(file.display));
            v.progress = progress
                .completion
                .filter(|c| c.is_finite())
                .map(|c| c.clamp(0.0, 100.0));
            v.elapsed = progress.print_time.and_then(wire_seconds);
            v.remaining = progress.print_time_left.and_then(wire_seconds);
            v.filament_mm = info.filament_length();
            v
        });
    }
    status
}

/// Heater readings from a `temperature` map: `toolN`, `bed`, `chamber`, in that order.
pub(crate) fn heaters(temps: &Temperatures) -> Vec<HeaterReading> {
    let mut out: Vec<HeaterReading> = temps
        .iter()
        .filter_map(|(name, value)| {
            let heater = match name.as_str() {
                "bed" => Heater::Bed,
                "chamber" => Heater::Chamber,
                n => Heater::Tool(n.strip_prefix("tool")?.parse().ok()?),
            };
            let reading: TempReading = serde_json::from_value(value.clone()).ok()?;
            Some(HeaterReading::new(
                heater,
                reading.actual.filter(|a| a.is_finite())?,
                reading.target.filter(|t| t.is_finite()),
            ))
        })
        .collect();
    out.sort_by_key(|h| h.heater);
    out
}

/// Flattens a listing (folders' `children` included) into the stored files of origin
/// `local`: only those can be printed through `/api/files/local/<path>`.
pub(crate) fn file_entries(files: &[FileInfo]) -> Vec<FileEntry> {
    let mut out = Vec::new();
    flatten(files, &mut out);
    out
}

fn flatten(files: &[FileInfo], out: &mut Vec<FileEntry>) {
    for f in files {
        if f.kind.as_deref() == Some("folder") {
            if let Some(children) = &f.children {
                flatten(children, out);
            }
            continue;
        }
        if f.origin.as_deref().is_some_and(|o| o != "local") {
            continue;
        }
        out.push(file_entry(f));
    }
}

/// One file of a listing.
pub(crate) fn file_entry(f: &FileInfo) -> FileEntry {
    let mut v = FileEntry::new(
        f.path.clone().unwrap_or_else(|| f.name.clone()),
        f.display.clone().unwrap_or_else(|| f.name.clone()),
    );
    v.size = f.size;
    v.modified = f.date;
    v.estimated_time = f
        .gcode_analysis
        .as_ref()
        .and_then(|a| a.estimated_print_time)
        .and_then(wire_seconds);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{JobFile, JobInfo, PrinterState as WireState, Progress};
    use serde_json::json;
    use std::time::Duration;

    fn flags(names: &[&str]) -> StateFlags {
        let mut v = serde_json::Map::new();
        for n in names {
            v.insert((*n).to_string(), json!(true));
        }
        serde_json::from_value(serde_json::Value::Object(v)).unwrap()
    }

    fn printer(text: &str, names: &[&str]) -> PrinterResponse {
        PrinterResponse {
            state: Some(WireState {
                text: text.into(),
                flags: flags(names),
                error: Some(String::new()),
            }),
            temperature: Some(Temperatures::new()),
            sd: None,
        }
    }

    fn job(state: &str, file: Option<&str>, progress: Progress) -> JobResponse {
        JobResponse {
            state: state.into(),
            job: Some(JobInfo {
                file: Some(JobFile {
                    name: file.map(str::to_string),
                    path: file.map(str::to_string),
                    ..JobFile::default()
                }),
                ..JobInfo::default()
            }),
            progress: Some(progress),
            error: None,
        }
    }

    fn running(c: f64) -> Progress {
        Progress {
            completion: Some(c),
            filepos: Some(10),
            print_time: Some(2.0),
            print_time_left: Some(1.0),
            print_time_left_origin: Some("linear".into()),
        }
    }

    /// One row per line of the spec's state table (shared/specs/octoprint.md §4).
    #[test]
    fn state_table() {
        use PrinterState as S;
        const OP: &str = "operational";
        let p = Some;
        let rows: Vec<(Option<PrinterResponse>, JobResponse, S)> = vec![
            // Offline: /api/printer 409, /api/job "Offline".
            (None, job("Offline", None, Progress::default()), S::Offline),
            (None, job("Closed", None, Progress::default()), S::Offline),
            // Connecting: 409 too.
            (
                None,
                job("Opening serial connection", None, Progress::default()),
                S::Busy,
            ),
            (
                None,
                job("Detecting serial connection", None, Progress::default()),
                S::Busy,
            ),
            (None, job("Connecting", None, Progress::default()), S::Busy),
            // Operational, nothing selected.
            (
                p(printer("Operational", &[OP, "ready", "sdReady"])),
                job("Operational", None, Progress::default()),
                S::Idle,
            ),
            (
                p(printer("Starting", &[OP, "printing", "sdReady"])),
                job("Starting", Some("a.gcode"), running(0.0)),
                S::WarmingUp,
            ),
            (
                p(printer("Printing", &[OP, "printing", "sdReady"])),
                job("Printing", Some("a.gcode"), running(50.0)),
                S::Printing,
            ),
            (
                p(printer("Pausing", &[OP, "pausing", "printing", "sdReady"])),
                job("Pausing", Some("a.gcode"), running(50.0)),
                S::Pausing,
            ),
            (
                p(printer("Paused", &[OP, "paused", "sdReady"])),
                job("Paused", Some("a.gcode"), running(50.0)),
                S::Paused,
            ),
            (
                p(printer(
                    "Resuming",
                    &[OP, "resuming", "printing", "sdReady"],
                )),
                job("Resuming", Some("a.gcode"), running(50.0)),
                S::Resuming,
            ),
            (
                p(printer(
                    "Finishing",
                    &["finishing", OP, "printing", "sdReady"],
                )),
                job("Finishing", Some("a.gcode"), running(99.9)),
                S::Printing,
            ),
            (
                p(printer(
                    "Cancelling",
                    &["cancelling", OP, "printing", "sdReady"],
                )),
                job("Cancelling", Some("a.gcode"), running(50.0)),
                S::Cancelling,
            ),
            (
                p(printer("Error", &["error", "closedOrError"])),
                job("Error", None, Progress::default()),
                S::Error,
            ),
            (
                None,
                job("Offline after error", None, Progress::default()),
                S::Error,
            ),
            // After a job.
            (
                p(printer("Operational", &[OP, "ready", "sdReady"])),
                job("Operational", Some("a.gcode"), running(100.0)),
                S::Finished,
            ),
            (
                p(printer("Operational", &[OP, "ready", "sdReady"])),
                job("Operational", Some("a.gcode"), Progress::default()),
                S::Cancelled,
            ),
            // Texts we do not know fall back to the flags.
            (
                p(printer("Something new", &[OP, "paused"])),
                job("Something new", None, Progress::default()),
                S::Paused,
            ),
            (
                p(printer("Something new", &[OP, "cancelling", "printing"])),
                job("Something new", None, Progress::default()),
                S::Cancelling,
            ),
            (
                p(printer("Something new", &[OP, "ready"])),
                job("Something new", None, Progress::default()),
                S::Idle,
            ),
            (
                None,
                job("Something new", None, Progress::default()),
                S::Unknown,
            ),
        ];
        for (printer, job, want) in rows {
            let text = job.state.clone();
            let got = map_status(printer, job);
            assert_eq!(got.state, want, "row {text:?}");
            assert_eq!(got.raw_state, text, "raw_state of {text:?}");
        }
    }

    #[test]
    fn offline_after_error_carries_the_message() {
        let mut j = job("Offline after error", None, Progress::default());
        j.error = Some("Thermal Runaway".into());
        let s = map_status(None, j);
        assert_eq!(s.state, PrinterState::Error);
        assert_eq!(s.message.as_deref(), Some("Thermal Runaway"));
        assert!(s.heaters.is_empty());
        assert!(s.job.is_none());
    }

    #[test]
    fn heaters_and_job_values() {
        let mut p = printer("Printing", &["operational", "printing"]);
        p.temperature = Some(
            serde_json::from_value(json!({
                "tool1": {"actual": 200.5, "target": 210.0, "offset": 0},
                "bed": {"actual": 60.0, "target": 60.0, "offset": 0},
                "tool0": {"actual": 199.0, "target": null, "offset": 0},
                "chamber": {"actual": 30.0, "target": 0.0, "offset": 0},
                "history": [],
                "toolx": {"actual": 1.0},
                "tool2": {"actual": null, "target": 0.0},
            }))
            .unwrap(),
        );
        let mut j = job("Printing", Some("dir/a.gcode"), running(42.0));
        j.job.as_mut().unwrap().filament = Some(
            serde_json::from_value(json!({
                "tool0": {"length": 60.0, "volume": 0.0},
                "tool1": {"length": 2.5, "volume": 0.0},
            }))
            .unwrap(),
        );
        let s = map_status(Some(p), j);
        let names: Vec<Heater> = s.heaters.iter().map(|h| h.heater).collect();
        assert_eq!(
            names,
            [
                Heater::Tool(0),
                Heater::Tool(1),
                Heater::Bed,
                Heater::Chamber
            ]
        );
        assert_eq!(s.heaters[0].target, None);
        assert_eq!(s.heaters[1].target, Some(210.0));
        let job = s.job.unwrap();
        assert_eq!(job.file.as_deref(), Some("dir/a.gcode"));
        assert_eq!(job.progress, Some(42.0));
        assert_eq!(job.elapsed, Some(Duration::from_secs(2)));
        assert_eq!(job.remaining, Some(Duration::from_secs(1)));
        assert_eq!(job.filament_mm, Some(62.5));
        assert_eq!(job.layer, None);
    }

    #[test]
    fn unknown_is_none_not_zero() {
        let mut j = job("Printing", Some("a.gcode"), Progress::default());
        j.progress.as_mut().unwrap().completion = Some(3.0);
        let s = map_status(Some(printer("Printing", &["operational", "printing"])), j);
        let job = s.job.unwrap();
        assert_eq!(job.remaining, None);
        assert_eq!(job.elapsed, None);
        assert_eq!(job.filament_mm, None);
    }

    #[test]
    fn folders_are_flattened_and_sd_files_left_out() {
        let files: Vec<FileInfo> = serde_json::from_value(json!([
            {"name": "a.gcode", "path": "a.gcode", "type": "machinecode", "origin": "local",
             "size": 10, "date": 5, "gcodeAnalysis": {"estimatedPrintTime": 71.5}},
            {"name": "sub", "path": "sub", "type": "folder", "origin": "local", "children": [
                {"name": "b.gcode", "display": "B.gcode", "path": "sub/b.gcode",
                 "type": "machinecode", "origin": "local"}
            ]},
            {"name": "c.gco", "path": "c.gco", "type": "machinecode", "origin": "sdcard"}
        ]))
        .unwrap();
        let entries = file_entries(&files);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].estimated_time,
            Some(Duration::from_secs_f64(71.5))
        );
        assert_eq!(entries[0].modified, Some(5));
        assert_eq!(entries[1].path, "sub/b.gcode");
        assert_eq!(entries[1].name, "B.gcode");
        assert_eq!(entries[1].size, None);
    }
}
