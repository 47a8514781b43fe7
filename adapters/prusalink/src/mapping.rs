//! PrusaLink's answers mapped to the common model, in one pure function (`map_status`) with
//! the table of the crate docs, and the file tree flattened (`file_entries`).

use polyprint::state::wire_seconds;
use polyprint::{FileEntry, Heater, HeaterReading, JobProgress, PrinterState, PrinterStatus};

use crate::wire::{FileInfo, JobResponse, StatusResponse};

/// `status_printer.message` when PrusaLink runs without a printer on its serial port.
pub(crate) const NO_PRINTER: &str = "Serial device does not exist";

/// The raw state reported for PrusaLink's 503 "Printer Unavailable" (the daemon starting, or
/// its printer not connected yet).
pub(crate) const UNAVAILABLE: &str = "UNAVAILABLE";

/// The status while PrusaLink answers 503 "Printer Unavailable": Offline.
pub(crate) fn unavailable(message: &str) -> PrinterStatus {
    let mut s = PrinterStatus::new(PrinterState::Offline, UNAVAILABLE);
    s.message = Some(message.to_string()).filter(|m| !m.is_empty());
    s
}

/// The common state of PrusaLink's `printer.state` (see the crate docs' table).
pub(crate) fn state_of(raw: &str, printer_message: Option<&str>) -> PrinterState {
    match raw {
        "IDLE" | "READY" => PrinterState::Idle,
        "BUSY" => PrinterState::Busy,
        "PRINTING" => PrinterState::Printing,
        "PAUSED" => PrinterState::Paused,
        "FINISHED" => PrinterState::Finished,
        "STOPPED" => PrinterState::Cancelled,
        "ATTENTION" => PrinterState::Attention,
        "ERROR" if printer_message == Some(NO_PRINTER) => PrinterState::Offline,
        "ERROR" => PrinterState::Error,
        _ => PrinterState::Unknown,
    }
}

fn percent(p: Option<f64>) -> Option<f64> {
    p.filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
}

fn celsius(t: Option<f64>) -> Option<f64> {
    t.filter(|t| t.is_finite() && (-300.0..=2000.0).contains(t))
}

/// Maps `/api/v1/status` and, while a job runs, `/api/v1/job` (its file name) to a status.
///
/// The job's progress and times come from the status's `job` (the fresher of the two reads),
/// falling back to `/api/v1/job`'s; `time_printing` 0 is unknown (PrusaLink reports 0 when
/// the printer keeps no SD timer), and a `job` from `/api/v1/job` without one in the status
/// (a job that ended between the two reads) is left out.
pub(crate) fn map_status(status: &StatusResponse, job: Option<&JobResponse>) -> PrinterStatus {
    let p = &status.printer;
    let message = p.status_printer.as_ref().map(|h| h.message.as_str());
    let state = state_of(&p.state, message);
    let mut s = PrinterStatus::new(state, p.state.clone());
    s.message = match state {
        PrinterState::Error | PrinterState::Offline | PrinterState::Attention => p
            .status_printer
            .as_ref()
            .filter(|h| !h.ok && !h.message.is_empty())
            .map(|h| h.message.clone()),
        _ => None,
    };
    for (heater, actual, target) in [
        (Heater::Tool(0), p.temp_nozzle, p.target_nozzle),
        (Heater::Bed, p.temp_bed, p.target_bed),
    ] {
        if let Some(actual) = celsius(actual) {
            s.heaters
                .push(HeaterReading::new(heater, actual, celsius(target)));
        }
    }
    if let Some(j) = &status.job {
        let file = job.and_then(|r| r.file.as_ref()).map(|f| {
            f.display_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| f.name.clone())
        });
        let elapsed = [j.time_printing, job.and_then(|r| r.time_printing)]
            .into_iter()
            .flatten()
            .find(|t| *t > 0.0)
            .and_then(wire_seconds);
        s.job = Some({
            let mut v = JobProgress::new(file);
            v.progress = percent(j.progress.or(job.and_then(|r| r.progress)));
            v.elapsed = elapsed;
            v.remaining = j
                .time_remaining
                .or(job.and_then(|r| r.time_remaining))
                .and_then(wire_seconds);
            v
        });
    }
    s
}

/// The print files of a folder listing, under `prefix` (the folder's own path, `""` for the
/// root). Folders' entries come from their own listings, read by the client.
pub(crate) fn file_entries(prefix: &str, folder: &FileInfo) -> Vec<FileEntry> {
    folder
        .children
        .iter()
        .filter(|c| c.kind != "FOLDER" && !c.name.is_empty())
        .map(|c| entry(prefix, c))
        .collect()
}

/// One file's entry, under `prefix`.
pub(crate) fn entry(prefix: &str, f: &FileInfo) -> FileEntry {
    let path = if prefix.is_empty() {
        f.name.clone()
    } else {
        format!("{prefix}/{}", f.name)
    };
    {
        let mut v = FileEntry::new(
            path,
            f.display_name.clone().unwrap_or_else(|| f.name.clone()),
        );
        v.size = f.size;
        v.modified = f.m_timestamp;
        v.estimated_time = f
            .meta
            .as_ref()
            .and_then(|m| m.estimated_print_time)
            .and_then(wire_seconds);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Health, PrinterWire, StatusJob};
    use std::time::Duration;

    fn status(state: &str, printer_ok: bool, message: &str, job: bool) -> StatusResponse {
        StatusResponse {
            printer: PrinterWire {
                state: state.into(),
                temp_nozzle: Some(214.9),
                target_nozzle: Some(215.0),
                temp_bed: Some(60.1),
                target_bed: Some(60.0),
                status_printer: Some(Health {
                    ok: printer_ok,
                    message: message.into(),
                }),
            },
            job: job.then_some(StatusJob {
                id: Some(3),
                progress: Some(25.0),
                time_remaining: Some(60.0),
                time_printing: Some(0.0),
            }),
        }
    }

    /// The crate docs' table, a row each.
    #[test]
    fn every_state_maps_as_documented() {
        use PrinterState::*;
        let rows = [
            ("IDLE", true, "OK", false, Idle, None),
            ("READY", true, "OK", false, Idle, None),
            ("BUSY", true, "OK", false, Busy, None),
            ("PRINTING", true, "OK", true, Printing, None),
            ("PAUSED", true, "OK", true, Paused, None),
            ("FINISHED", true, "OK", false, Finished, None),
            ("STOPPED", true, "OK", false, Cancelled, None),
            ("ATTENTION", true, "OK", false, Attention, None),
            (
                "ERROR",
                false,
                "Firmware detected a hardware issue",
                false,
                Error,
                Some("Firmware detected a hardware issue"),
            ),
            ("ERROR", false, NO_PRINTER, false, Offline, Some(NO_PRINTER)),
            ("SOMETHING_NEW", true, "OK", false, Unknown, None),
        ];
        for (raw, ok, message, job, want, want_message) in rows {
            let s = map_status(&status(raw, ok, message, job), None);
            assert_eq!(s.state, want, "{raw}");
            assert_eq!(s.raw_state, raw);
            assert_eq!(s.message.as_deref(), want_message, "{raw}");
            assert_eq!(s.job.is_some(), job, "{raw}");
        }
        let s = unavailable("Printer Unavailable.");
        assert_eq!((s.state, s.raw_state.as_str()), (Offline, UNAVAILABLE));
    }

    #[test]
    fn job_fields_come_from_status_and_job() {
        let job = JobResponse {
            id: Some(3),
            state: "PRINTING".into(),
            progress: Some(20.0),
            time_remaining: None,
            time_printing: Some(42.0),
            file: Some(FileInfo {
                name: "CI-TES~1.GCO".into(),
                display_name: Some("ci test.gcode".into()),
                ..FileInfo::default()
            }),
        };
        let s = map_status(&status("PRINTING", true, "OK", true), Some(&job));
        let j = s.job.clone().unwrap();
        assert_eq!(j.file.as_deref(), Some("ci test.gcode"));
        assert_eq!(j.progress, Some(25.0), "the status's progress wins");
        assert_eq!(j.remaining, Some(Duration::from_secs(60)));
        // The status's 0 means no timer: the job's 42 s fills in.
        assert_eq!(j.elapsed, Some(Duration::from_secs(42)));
        assert_eq!(s.heaters.len(), 2);
        assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(60.0));
        // A job whose values are nonsense keeps only what makes sense.
        let mut bad = status("PRINTING", true, "OK", true);
        bad.job = Some(StatusJob {
            id: Some(1),
            progress: Some(1e300),
            time_remaining: Some(-5.0),
            time_printing: Some(f64::MAX),
        });
        bad.printer.temp_nozzle = Some(-1e9);
        let s = map_status(&bad, None);
        let j = s.job.unwrap();
        assert_eq!((j.progress, j.remaining, j.elapsed), (None, None, None));
        assert_eq!(
            s.heaters.len(),
            1,
            "the nonsense nozzle reading is left out"
        );
    }

    #[test]
    fn paths_and_entries() {
        let folder = FileInfo {
            kind: "FOLDER".into(),
            children: vec![
                FileInfo {
                    kind: "PRINT_FILE".into(),
                    name: "a.gcode".into(),
                    size: Some(10),
                    m_timestamp: Some(5),
                    ..FileInfo::default()
                },
                FileInfo {
                    kind: "FOLDER".into(),
                    name: "sub".into(),
                    ..FileInfo::default()
                },
            ],
            ..FileInfo::default()
        };
        let e = file_entries("dir", &folder);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].path.as_str(), e[0].name.as_str(), e[0].size),
            ("dir/a.gcode", "a.gcode", Some(10))
        );
    }
}
