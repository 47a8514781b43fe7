//! Every recorded answer of a real Moonraker 0.11 + Klipper (`tests/fixtures/samples/
//! moonraker/`: bodies only; their statuses are in `_calls.tsv` and `run2/_calls.tsv`) goes
//! through the adapter's decoders or its error mapping; the recorded printer objects map to
//! the states of the crate docs' table; the recorded websocket sessions, replayed through the
//! push decoder, give the states the session went through.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::errors::{self, error_for};
use crate::mapping::{file_entry, job_record, map_klippy_down, map_status};
use crate::push::{classify, Message};
use crate::wire::*;
use crate::ObjectState;
use polyprint::transport::Response;
use polyprint::{ErrorKind, JobOutcome, PrinterState};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/moonraker"
    ))
    .to_path_buf()
}

struct Sample {
    name: String,
    status: u16,
    body: Vec<u8>,
}

/// The recorded statuses by sample name.
fn statuses() -> HashMap<String, u16> {
    let mut out = HashMap::new();
    for (file, prefix, status_col, sample_col) in
        [("_calls.tsv", "", 3, 4), ("run2/_calls.tsv", "run2/", 3, 5)]
    {
        let text = std::fs::read_to_string(dir().join(file)).unwrap();
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(status), Some(sample)) = (cols.get(status_col), cols.get(sample_col)) else {
                continue;
            };
            if let Ok(s) = status.parse::<u16>() {
                if !sample.is_empty() && *sample != "None" && *sample != "sample" {
                    out.insert(format!("{prefix}{sample}"), s);
                }
            }
        }
    }
    out
}

fn samples() -> Vec<Sample> {
    let recorded = statuses();
    let mut out = Vec::new();
    for (sub, prefix) in [("", ""), ("run2", "run2/"), ("no-klipper", "no-klipper/")] {
        let mut entries: Vec<_> = std::fs::read_dir(dir().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for p in entries {
            let name = format!("{prefix}{}", p.file_stem().unwrap().to_string_lossy());
            let body = std::fs::read(&p).unwrap();
            let v: Value =
                serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            // No-klipper samples have no calls file: their status is the error's code, or
            // 201 for an upload, else 200.
            let status = recorded.get(&name).copied().unwrap_or_else(|| {
                v["error"]["code"].as_u64().map(|c| c as u16).unwrap_or(
                    if v.get("action").is_some_and(|a| a == "create_file") {
                        201
                    } else {
                        200
                    },
                )
            });
            out.push(Sample { name, status, body });
        }
    }
    out
}

fn response(s: &Sample) -> Response {
    Response {
        status: s.status,
        headers: Default::default(),
        body: bytes::Bytes::from(s.body.clone()),
    }
}

fn json(s: &Sample) -> Value {
    serde_json::from_slice(&s.body).unwrap()
}

fn objects(s: &Sample) -> ObjectState {
    let q: Envelope<QueryResult> = response(s).json().unwrap();
    ObjectState::from_status(&q.result.status).unwrap()
}

/// The state each recorded objects query maps to, with its raw state.
fn expected_state(name: &str) -> Option<(PrinterState, &'static str)> {
    use PrinterState::*;
    Some(match name {
        "objects_query_standby" => (Idle, "standby"),
        "objects_query_heating" => (WarmingUp, "printing"),
        "objects_query_printing" | "objects_query_resumed" => (Printing, "printing"),
        "objects_query_paused" => (Paused, "paused"),
        "objects_query_complete" => (Finished, "complete"),
        "objects_query_cancelled" | "run2/objects_query_cancelled_2" => (Cancelled, "cancelled"),
        "run2/objects_query_after_reset_file" => (Idle, "standby"),
        // A PAUSE while idle: the macro's G-code keeps idle_timeout at Printing for a while.
        "run2/objects_query_after_pause_idle" => (Busy, "standby"),
        "run2/objects_query_error" => (Error, "error"),
        // print_stats reads paused after an emergency stop during a print: shutdown wins.
        "run2/objects_query_shutdown" => (Error, "shutdown"),
        "run2/objects_query_no_mcu" => (Offline, "startup"),
        // Partial queries without `webhooks`: Klippy's state is not known.
        "run2/objects_query_exclude_object_printing"
        | "run2/objects_query_exclude_object_after"
        | "run2/objects_query_exclude_object_complete"
        | "run2/objects_query_misc_idle" => (Unknown, ""),
        _ => return None,
    })
}

/// Error samples and the kind each maps to.
fn expected_error(name: &str) -> Option<ErrorKind> {
    use ErrorKind::*;
    Some(match name {
        "print_start_missing" | "run2/files_delete_missing" | "run2/files_metadata_missing" => {
            NotFound
        }
        "gcode_error" | "run2/gcode_M104_out_of_range" => InvalidArgument,
        "run2/print_start_while_printing"
        | "run2/files_delete_in_use"
        | "run2/gcode_G28_shutdown"
        | "run2/print_start_shutdown"
        | "run2/print_pause_shutdown"
        | "run2/print_cancel_shutdown" => InvalidState,
        "run2/auth_no_key" | "run2/auth_wrong_key" => Auth,
        // Klippy never connected: the printer routes are missing.
        "no-klipper/printer_info" | "no-klipper/printer_objects_query_print_stats_webhooks" => {
            NotFound
        }
        _ => return None,
    })
}

/// Recorded answers of routes the adapter does not use (the OctoPrint-compatible layer, the
/// access and machine routes, totals, the temperature store, directories, roots): valid
/// JSON, checked for their envelope where they have one.
const UNUSED: &[&str] = &[
    "api_job_cancelled",
    "api_job_heating",
    "api_job_printing",
    "api_printer_cancelled",
    "api_printer_complete",
    "api_printer_paused",
    "api_printer_printing",
    "api_printer_standby",
    "temperature_store",
    "run2/access_info",
    "run2/api_job_error",
    "run2/api_printer_error",
    "run2/api_printer_no_mcu",
    "run2/api_printer_shutdown",
    "run2/files_directory",
    "run2/files_roots",
    "run2/history_totals",
    "no-klipper/access_api_key",
    "no-klipper/access_api_key_withkey",
    "no-klipper/access_info",
    "no-klipper/api_job",
    "no-klipper/api_printer",
    "no-klipper/api_version",
    "no-klipper/machine_system_info",
    "no-klipper/server_files_roots",
];

#[test]
fn every_sample_decodes_or_maps_to_its_error() {
    let all = samples();
    assert!(all.len() >= 100, "{} samples", all.len());
    let mut handled = 0;
    for s in &all {
        let name = s.name.as_str();
        let base = name.rsplit('/').next().unwrap_or(name);
        if let Some(kind) = expected_error(name) {
            assert!(s.status >= 400, "{name}: {}", s.status);
            let e = error_for(&response(s), "x");
            assert_eq!(e.kind(), kind, "{name}: {e}");
            let text = e.to_string();
            assert!(
                !text.contains("Traceback") && !text.contains("/opt/venv"),
                "{name}: {text}"
            );
            assert!(text.len() < 400, "{name}: {text}");
        } else if let Some((state, raw)) = expected_state(name) {
            let st = map_status(&objects(s), None);
            assert_eq!((st.state, st.raw_state.as_str()), (state, raw), "{name}");
        } else if base.starts_with("server_info") {
            let info: ServerInfo = errors::result(response(s), "x").unwrap();
            let want = match name {
                "server_info" => "ready",
                "server_info_shutdown" => "shutdown",
                "run2/server_info_no_mcu" => "startup",
                "run2/server_info_config_error" => "error",
                "no-klipper/server_info" => "disconnected",
                other => panic!("unexpected {other}"),
            };
            assert_eq!(info.klippy_state, want, "{name}");
            assert_eq!(info.klippy_up(), want != "disconnected", "{name}");
            assert!(info.has_component("history") && info.has_component("job_queue"));
            if !info.klippy_up() {
                assert_eq!(map_klippy_down(&info).state, PrinterState::Offline);
            }
        } else if base.starts_with("printer_info") {
            let i: KlippyInfo = errors::result(response(s), "x").unwrap();
            assert!(!i.state.is_empty() && !i.state_message.is_empty(), "{name}");
        } else if base == "printer_objects_list" {
            let l: ObjectList = errors::result(response(s), "x").unwrap();
            assert!(
                l.objects.iter().any(|o| o == "exclude_object"),
                "{:?}",
                l.objects
            );
        } else if base.starts_with("history_list") {
            let h: HistoryList = errors::result(response(s), "x").unwrap();
            assert_eq!(h.count, Some(h.jobs.len() as u64), "{name}");
            let outcomes: Vec<JobOutcome> = h.jobs.iter().map(|j| job_record(j).outcome).collect();
            assert!(
                outcomes.contains(&JobOutcome::Finished),
                "{name}: {outcomes:?}"
            );
            assert!(
                outcomes.contains(&JobOutcome::Cancelled),
                "{name}: {outcomes:?}"
            );
            assert!(h.jobs.iter().all(|j| job_record(j).started.is_some()));
        } else if base == "history_job" {
            let j: Value = errors::result(response(s), "x").unwrap();
            let job: HistoryJob = serde_json::from_value(j["job"].clone()).unwrap();
            assert_eq!(job_record(&job).outcome, JobOutcome::Failed);
        } else if base == "files_list" || base == "server_files_list" {
            let items: Vec<FileItem> = errors::result(response(s), "x").unwrap();
            for i in &items {
                let e = file_entry(i, None).unwrap();
                assert!(e.size.is_some() && e.modified.is_some(), "{name}: {e:?}");
            }
        } else if base == "files_metadata" || base == "server_files_metadata" {
            let m: FileMeta = errors::result(response(s), "x").unwrap();
            assert_eq!(m.slicer.as_deref(), Some("Unknown"));
            assert_eq!(
                m.estimated_time, None,
                "hand-written files have no estimate"
            );
        } else if base == "files_upload" {
            assert_eq!(s.status, 201);
            let u: UploadResult = response(s).json().unwrap();
            assert_eq!(u.action, "create_file");
            assert!(!u.item.path.is_empty() && u.item.size.is_some());
        } else if base == "files_delete" {
            let d: Value = errors::result(response(s), "x").unwrap();
            assert_eq!(d["action"], "delete_file");
        } else if base == "gcode_store" {
            let g: GcodeStore = errors::result(response(s), "x").unwrap();
            assert!(g
                .gcode_store
                .iter()
                .any(|e| e.message.contains("Unknown command")));
        } else if base.starts_with("job_queue") {
            let q: QueueStatus = errors::result(response(s), "x").unwrap();
            assert_eq!(q.queue_state, "paused");
            assert_eq!(
                q.queued_jobs.is_empty(),
                base.ends_with("empty") || base.ends_with("all")
            );
        } else if base.starts_with("webcams_list") {
            let w: WebcamList = errors::result(response(s), "x").unwrap();
            assert_eq!(w.webcams.is_empty(), base.ends_with("empty"));
            assert!(w
                .webcams
                .iter()
                .all(|c| c.snapshot() == Some("/webcam/?action=snapshot")));
        } else if base.starts_with("webcams_") {
            let w: Value = errors::result(response(s), "x").unwrap();
            let cam: WebcamWire = serde_json::from_value(w["webcam"].clone()).unwrap();
            assert_eq!(cam.name, "ci-cam");
        } else if json(s).get("result") == Some(&Value::String("ok".into())) {
            // Commands: print control, G-code (unknown ones too), e-stop, restarts.
            assert_eq!(s.status, 200, "{name}");
            errors::ok(response(s), "x").unwrap();
        } else if base.starts_with("ws_") {
            replay(s);
        } else if UNUSED.contains(&name) {
            assert!(s.status < 300, "{name}");
        } else {
            panic!("sample {name} is not classified by this test");
        }
        handled += 1;
    }
    assert_eq!(handled, all.len());
}

/// Replays a websocket recording through the push decoder: the subscription's answer, then
/// the deltas merged onto it; returns the states in order (repeats dropped).
fn replay(s: &Sample) -> Vec<PrinterState> {
    let messages: Vec<Value> = serde_json::from_slice(&s.body).unwrap();
    let mut state: Option<ObjectState> = None;
    let mut seen = Vec::new();
    let push = |st: &ObjectState, seen: &mut Vec<PrinterState>| {
        let s = map_status(st, None).state;
        if seen.last() != Some(&s) {
            seen.push(s);
        }
    };
    for m in &messages {
        match classify(m) {
            Message::Answer { result: Ok(r), .. } if r.get("status").is_some() => {
                let st = ObjectState::from_status(&r["status"]).unwrap();
                push(&st, &mut seen);
                state = Some(st);
            }
            Message::Delta(d) => {
                if let Some(st) = &mut state {
                    st.merge(&d);
                    let snapshot = st.clone();
                    push(&snapshot, &mut seen);
                }
            }
            Message::KlippyDisconnected | Message::KlippyReady => state = None,
            _ => {}
        }
    }
    seen
}

#[test]
fn the_websocket_sessions_replay_as_the_job_went() {
    use PrinterState::*;
    let all = samples();
    let get = |n: &str| all.iter().find(|s| s.name == n).unwrap();
    // Run 1: heat, print, pause, resume, complete, second print cancelled (the session was
    // recorded from the first print's start).
    let run1 = replay(get("ws_subscribe_stream"));
    let order = [Idle, WarmingUp, Printing, Paused, Printing, Finished];
    let mut at = 0;
    for s in &run1 {
        if at < order.len() && *s == order[at] {
            at += 1;
        }
    }
    assert_eq!(at, order.len(), "{run1:?}");
    // Run 2: idle flags, a cancel while heating, reset, prints, an error, an e-stop.
    let run2 = replay(get("run2/ws_session"));
    for want in [Idle, Busy, Printing, Cancelled, Paused, Finished, Error] {
        assert!(run2.contains(&want), "{want} not in {run2:?}");
    }
    // The e-stop during the last print: shutdown wins over print_stats' paused.
    assert_eq!(run2.last(), Some(&Error), "{run2:?}");
}
