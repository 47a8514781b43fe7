//! Every recorded answer of a real OctoPrint 1.11.8 (`tests/fixtures/samples/octoprint/`) goes
//! through the adapter's decoders or its error mapping, and the state table is checked against
//! the recorded pairs of `/api/printer` and `/api/job`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::errors::error_for;
use crate::mapping::map_status;
use crate::mapping::{file_entries, heaters};
use crate::wire::*;
use polyprint::transport::Response;
use polyprint::{ErrorKind, Heater, PrinterState};

fn dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/octoprint"
    ))
    .to_path_buf()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn decode<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_slice(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Row {
    method: String,
    path: String,
    status: u16,
    content_type: String,
    file: String,
}

fn index() -> Vec<Row> {
    let text = String::from_utf8(read("_index.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                method: c[1].to_string(),
                path: c[2].split('?').next().unwrap().to_string(),
                status: c[3].parse().unwrap_or(0),
                content_type: c[4].to_string(),
                file: c.get(6).copied().unwrap_or("").to_string(),
            }
        })
        .collect()
}

fn response(status: u16, body: Vec<u8>) -> Response {
    Response {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: body.into(),
    }
}

/// What each 2xx JSON answer decodes into; `false` for answers the adapter does not read.
fn decode_success(row: &Row) -> bool {
    let f = row.file.as_str();
    match (row.method.as_str(), row.path.as_str()) {
        ("GET", "/api/version") => {
            let v: VersionResponse = decode(f);
            assert_eq!(v.server, "1.11.8");
        }
        ("GET", "/api/server") => {
            let v: ServerResponse = decode(f);
            assert_eq!(v.safemode, None);
        }
        ("GET", "/api/connection") => {
            let c: ConnectionResponse = decode(f);
            assert!(c.options.ports.contains(&"VIRTUAL".to_string()), "{f}");
            assert!(
                ["Closed", "Operational", "Printing"].contains(&c.current.state.as_str()),
                "{f}"
            );
        }
        ("GET", "/api/printer") => {
            let p: PrinterResponse = decode(f);
            let text = p.state.as_ref().unwrap().text.clone();
            let s = map_status(Some(p), JobResponse::default());
            assert_ne!(s.state, PrinterState::Unknown, "{f}");
            assert_eq!(s.raw_state, text);
        }
        ("GET", "/api/printer/tool" | "/api/printer/bed") => {
            let t: Temperatures = decode(f);
            assert_eq!(heaters(&t).len(), 1, "{f}");
        }
        ("GET", "/api/printer/sd") => assert!(decode::<SdState>(f).ready),
        ("GET", "/api/job") => {
            let j: JobResponse = decode(f);
            assert!(!j.state.is_empty());
        }
        ("GET", "/api/files" | "/api/files/local") => {
            let l: FilesResponse = decode(f);
            assert_eq!(file_entries(&l.files).len(), 2, "{f}");
        }
        ("GET", p) if p.starts_with("/api/files/local/") => {
            let i: FileInfo = decode(f);
            assert_eq!(i.path.as_deref(), Some("test.gcode"));
        }
        ("POST", "/api/files/local") => {
            let u: UploadResponse = decode(f);
            assert!(u.done);
            assert!(u.files.local.name.ends_with(".gcode"));
        }
        ("GET", "/api/settings") => {
            let s: SettingsResponse = decode(f);
            let w = s.webcam.unwrap();
            assert!(w.webcam_enabled, "enabled although there is no camera");
            assert!(w.webcams.iter().all(|c| !c.can_snapshot));
        }
        // Not read by the adapter: user info, the login session and the push channel.
        ("GET", "/api/currentuser") | ("POST", "/api/login") | ("WS", _) => {
            let v: serde_json::Value = decode(f);
            assert!(v.is_object(), "{f}");
            return false;
        }
        other => panic!("{f}: no decoder for {other:?}"),
    }
    true
}

/// The documented error for a non-2xx answer.
fn expected_error(row: &Row, body: &[u8]) -> ErrorKind {
    let text = String::from_utf8_lossy(body);
    match row.status {
        400 if text.contains("CSRF validation failed") => ErrorKind::Auth,
        400 => ErrorKind::InvalidArgument,
        403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::InvalidState,
        415 => ErrorKind::InvalidArgument,
        500 => ErrorKind::Api,
        s => panic!("{}: unexpected status {s}", row.file),
    }
}

#[test]
fn every_sample_decodes_or_maps_to_its_documented_error() {
    let rows = index();
    let mut covered = BTreeSet::new();
    let (mut typed, mut errors, mut empty) = (0, 0, 0);
    for row in rows.iter().filter(|r| !r.file.is_empty()) {
        covered.insert(row.file.clone());
        let body = read(&row.file);
        if (200..300).contains(&row.status) || row.status == 0 {
            if row.file.ends_with(".txt") {
                assert_eq!(row.status, 204, "{}", row.file);
                assert!(body.is_empty(), "{}: a 204 body is empty", row.file);
                assert_eq!(row.content_type, "text/plain", "{}", row.file);
                empty += 1;
            } else if decode_success(row) {
                typed += 1;
            }
            continue;
        }
        let err = error_for(&response(row.status, body.clone()), "test.gcode");
        assert_eq!(
            err.kind(),
            expected_error(row, &body),
            "{}: {err}",
            row.file
        );
        let message = err.to_string();
        assert!(!message.contains('<'), "{}: no HTML in {message}", row.file);
        assert!(message.len() < 300, "{}: short: {message}", row.file);
        if row.content_type.starts_with("application/json") {
            let e: ErrorBody = decode(&row.file);
            assert!(!e.error.is_empty());
            if row.status == 409 {
                assert!(message.contains(&e.error), "{message}");
            }
        }
        errors += 1;
    }
    // Every file in the directory is in the index, except the test print itself.
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "_index.tsv" || name == "test-print.gcode" {
            continue;
        }
        assert!(covered.contains(&name), "{name} is not in _index.tsv");
    }
    assert!(typed >= 25, "{typed}");
    assert!(errors >= 30, "{errors}");
    assert!(empty >= 29, "{empty}");
}

fn status_of(printer: Option<&str>, job: &str) -> polyprint::PrinterStatus {
    map_status(printer.map(decode::<PrinterResponse>), decode(job))
}

#[test]
fn recorded_pairs_follow_the_state_table() {
    use PrinterState as S;
    let rows = [
        (None, "job_disconnected.json", S::Offline, "Offline"),
        (None, "job_after_disconnect.json", S::Offline, "Offline"),
        (
            Some("printer_operational.json"),
            "job_operational_idle.json",
            S::Idle,
            "Operational",
        ),
        (
            Some("printer_printing.json"),
            "job_printing.json",
            S::Printing,
            "Printing",
        ),
        (
            Some("printer_right_after_pause.json"),
            "job_printing.json",
            S::Pausing,
            "Pausing",
        ),
        (
            Some("printer_paused.json"),
            "job_paused.json",
            S::Paused,
            "Paused",
        ),
        (
            Some("printer_right_after_resume.json"),
            "job_printing.json",
            S::Printing,
            "Printing",
        ),
        (
            Some("printer_right_after_cancel.json"),
            "job_printing.json",
            S::Cancelling,
            "Cancelling",
        ),
        (
            Some("printer_after_completed.json"),
            "job_after_completed.json",
            S::Finished,
            "Operational",
        ),
        (
            Some("printer_after_cancel.json"),
            "job_after_cancel.json",
            S::Cancelled,
            "Operational",
        ),
        (None, "job_error.json", S::Error, "Offline after error"),
    ];
    for (printer, job, state, raw) in rows {
        let s = status_of(printer, job);
        assert_eq!(s.state, state, "{printer:?} + {job}");
        assert_eq!(s.raw_state, raw, "{printer:?} + {job}");
    }
}

#[test]
fn recorded_details() {
    // Right after connecting: no heaters at all.
    let s = status_of(
        Some("printer_operational.json"),
        "job_operational_idle.json",
    );
    assert!(s.heaters.is_empty());
    assert!(s.job.is_none());
    assert!(s.message.is_none());

    let s = status_of(Some("printer_printing.json"), "job_printing.json");
    let tool = s.heater(Heater::Tool(0)).unwrap();
    assert_eq!((tool.actual, tool.target), (28.81, Some(200.0)));
    assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(60.0));
    let job = s.job.unwrap();
    assert_eq!(job.file.as_deref(), Some("test.gcode"));
    assert!((job.progress.unwrap() - 62.509279881217516).abs() < 1e-9);
    assert_eq!(job.elapsed, Some(Duration::from_secs(2)));
    assert_eq!(job.remaining, Some(Duration::from_secs(1)));
    assert_eq!(job.filament_mm, Some(60.0));

    let s = status_of(Some("printer_after_cancel.json"), "job_after_cancel.json");
    let job = s.job.unwrap();
    assert_eq!(job.file.as_deref(), Some("slow.gcode"));
    assert_eq!(
        (job.progress, job.elapsed, job.remaining),
        (None, None, None)
    );

    let s = status_of(
        Some("printer_after_completed.json"),
        "job_after_completed.json",
    );
    assert_eq!(s.job.unwrap().remaining, Some(Duration::ZERO));

    let s = status_of(None, "job_error.json");
    assert_eq!(
        s.message.as_deref(),
        Some("Thermal Runaway, system stopped! Heater_ID: bed - Printer halted. kill() called!")
    );

    // `filament: {"length": null, "volume": null}` when nothing is selected: no filament.
    let j: JobResponse = decode("job_disconnected.json");
    assert_eq!(j.job.unwrap().filament_length(), None);

    let l: FilesResponse = decode("files_list_recursive.json");
    let entries = file_entries(&l.files);
    assert_eq!(entries[1].path, "my test (1).gcode");
    assert_eq!(entries[0].size, Some(1347));
    assert_eq!(entries[0].modified, Some(1795271572));
    assert_eq!(
        entries[0].estimated_time,
        Some(Duration::from_secs_f64(71.31370849898477))
    );
}

/// Answers recorded from a real OctoPrint 1.11.8 by the mock-fidelity test's runs, where the
/// real server surprised the mock: a file without extrusion is analysed as `_empty` with no
/// estimate, its job then has `filament: null` and `estimatedPrintTime: null`, and a printed
/// file carries `prints` and `statistics`.
#[test]
fn fixtures_recorded_from_the_fidelity_runs() {
    let fixture = |name: &str| -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let info: FileInfo = serde_json::from_slice(&fixture("file_info_no_extrusion.json")).unwrap();
    assert_eq!(info.path.as_deref(), Some("fast-test.gcode"));
    let raw: serde_json::Value =
        serde_json::from_slice(&fixture("file_info_no_extrusion.json")).unwrap();
    assert_eq!(raw["gcodeAnalysis"]["_empty"], true);

    let job: JobResponse =
        serde_json::from_slice(&fixture("job_after_completed_no_extrusion.json")).unwrap();
    let s = map_status(None, job);
    assert_eq!(s.state, PrinterState::Finished);
    let j = s.job.unwrap();
    assert_eq!(j.progress, Some(100.0));
    assert_eq!(j.filament_mm, None, "filament null stays unknown");

    let files: FilesResponse = serde_json::from_slice(&fixture("files_after_print.json")).unwrap();
    let entries = file_entries(&files.files);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].estimated_time, None,
        "an _empty analysis has no estimate"
    );
    let raw: serde_json::Value =
        serde_json::from_slice(&fixture("files_after_print.json")).unwrap();
    assert_eq!(raw["files"][0]["prints"]["success"], 1);
}

/// The recorded push messages decode and map: `history` and `current` of an idle, connected
/// printer, with the temperatures of `history` carried into a `current` that has none.
#[test]
fn recorded_push_messages_map_like_the_state_table() {
    use crate::push::{status_of, PushState};
    let message = |name: &str, key: &str| -> PushState {
        let v: serde_json::Value = decode(name);
        serde_json::from_value(v[key].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let mut temps = None;
    let history = status_of(&message("sockjs_history.json", "history"), &mut temps);
    assert_eq!(history.state, PrinterState::Idle);
    assert_eq!(history.raw_state, "Operational");
    assert!(history.heaters.iter().any(|h| h.heater == Heater::Bed));
    let current_push = message("sockjs_current.json", "current");
    assert!(
        current_push.temps.is_empty(),
        "the recorded current has no temps"
    );
    let current = status_of(&current_push, &mut temps);
    assert_eq!(current.state, PrinterState::Idle);
    assert_eq!(current.heaters, history.heaters);
    let connected: serde_json::Value = decode("sockjs_connected.json");
    assert_eq!(connected["connected"]["version"], "1.11.8");
}
