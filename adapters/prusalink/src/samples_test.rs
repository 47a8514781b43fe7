//! Every recorded answer of a real PrusaLink 0.8.1 (`tests/fixtures/samples/prusalink/`, line 1
//! `{"status":…, "headers":{…}}`, the body from line 2) goes through the adapter's decoders or
//! its error mapping; the recorded statuses map to the states of the crate docs' table.

use std::path::{Path, PathBuf};

use crate::errors::error_for;
use crate::mapping::map_status;
use crate::wire::*;
use polyprint::transport::Response;
use polyprint::{ErrorKind, PrinterState};

pub struct Sample {
    pub name: String,
    pub status: u16,
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub body: Vec<u8>,
}

fn dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/prusalink"
    ))
    .to_path_buf()
}

fn load(path: &Path, name: String) -> Sample {
    let text = std::fs::read(path).unwrap();
    let split = text.iter().position(|b| *b == b'\n').unwrap_or(text.len());
    let head: serde_json::Value = serde_json::from_slice(&text[..split]).unwrap();
    Sample {
        name,
        status: head["status"].as_u64().unwrap() as u16,
        headers: head["headers"].as_object().cloned().unwrap_or_default(),
        body: text.get(split + 1..).unwrap_or_default().to_vec(),
    }
}

fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    for (sub, prefix) in [("", ""), ("run2", "run2/")] {
        let mut entries: Vec<_> = std::fs::read_dir(dir().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for p in entries {
            let name = format!("{prefix}{}", p.file_stem().unwrap().to_string_lossy());
            out.push(load(&p, name));
        }
    }
    out
}

fn response(s: &Sample) -> Response {
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &s.headers {
        if let (Ok(k), Some(Ok(v))) = (
            reqwest::header::HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(reqwest::header::HeaderValue::from_str),
        ) {
            headers.insert(k, v);
        }
    }
    Response {
        status: s.status,
        headers,
        body: bytes::Bytes::from(s.body.clone()),
    }
}

/// The recorded statuses, each with the state the crate docs' table gives it.
const STATES: &[(&str, PrinterState)] = &[
    ("status_idle", PrinterState::Idle),
    ("status_api_key", PrinterState::Idle),
    ("status_printing", PrinterState::Printing),
    ("status_printing_heating", PrinterState::Printing),
    ("status_paused", PrinterState::Paused),
    ("status_finished", PrinterState::Finished),
    ("status_stopped", PrinterState::Cancelled),
    ("status_after_stop_12s", PrinterState::Idle),
    ("run2/status_attention", PrinterState::Attention),
    ("run2/status_error", PrinterState::Error),
    ("run2/status_no_printer", PrinterState::Offline),
    ("run2/status_busy_starting", PrinterState::Busy),
];

#[test]
fn every_recorded_answer_decodes_or_maps_to_its_error() {
    let (mut decoded, mut errors, mut states) = (0, 0, 0);
    for s in samples() {
        let base = s.name.rsplit('/').next().unwrap().to_string();
        if base.starts_with("legacy_") {
            continue; // the OctoPrint-style API, which the adapter does not use
        }
        if (200..300).contains(&s.status) {
            let json = s
                .headers
                .get("Content-Type")
                .and_then(|v| v.as_str())
                .is_some_and(|c| c.starts_with("application/json"));
            if !json {
                continue; // 201, 204 and HEAD (empty), a raw download
            }
            let ok = |r: Result<(), serde_json::Error>| {
                r.unwrap_or_else(|e| panic!("{}: {e}", s.name));
            };
            if base.starts_with("status_") {
                let st: StatusResponse = serde_json::from_slice(&s.body).unwrap();
                let mapped = map_status(&st, None);
                if let Some((_, want)) = STATES.iter().find(|(n, _)| *n == s.name) {
                    assert_eq!(mapped.state, *want, "{}", s.name);
                    states += 1;
                }
                assert_ne!(mapped.state, PrinterState::Unknown, "{}", s.name);
                assert_eq!(mapped.job.is_some(), st.job.is_some(), "{}", s.name);
            } else if base.starts_with("job_") {
                let j: JobResponse = serde_json::from_slice(&s.body).unwrap();
                assert!(j.id.is_some() && j.file.is_some(), "{}", s.name);
            } else if base.starts_with("file") {
                ok(serde_json::from_slice::<FileInfo>(&s.body).map(drop));
            } else if base.starts_with("storage") {
                let st: StorageResponse = serde_json::from_slice(&s.body).unwrap();
                assert_eq!(st.storage_list.len(), 2, "{}", s.name);
            } else if base.starts_with("info") {
                ok(serde_json::from_slice::<InfoResponse>(&s.body).map(drop));
            } else if base.starts_with("version") {
                ok(serde_json::from_slice::<VersionResponse>(&s.body).map(drop));
            } else {
                continue;
            }
            decoded += 1;
        } else {
            let e = error_for(&response(&s), "file");
            let want = match s.status {
                401 | 403 => ErrorKind::Auth,
                404 if s.body.starts_with(b"Not Current Job") => ErrorKind::InvalidState,
                404 => ErrorKind::NotFound,
                409 => ErrorKind::InvalidState,
                415 => ErrorKind::InvalidArgument,
                _ => ErrorKind::Api,
            };
            assert_eq!(e.kind(), want, "{} ({}): {e}", s.name, s.status);
            assert!(!e.to_string().contains("See: "), "{}: {e}", s.name);
            errors += 1;
        }
    }
    assert_eq!(
        states,
        STATES.len(),
        "every row of the table has its sample"
    );
    assert!(decoded >= 20, "only {decoded} bodies decoded");
    assert!(errors >= 20, "only {errors} error answers mapped");
}

#[test]
fn job_body_names_the_file_and_progress() {
    let s = load(&dir().join("job_printing.json"), "job_printing".into());
    let job: JobResponse = serde_json::from_slice(&s.body).unwrap();
    let st = load(&dir().join("status_paused.json"), "status_paused".into());
    let status: StatusResponse = serde_json::from_slice(&st.body).unwrap();
    let mapped = map_status(&status, Some(&job));
    let j = mapped.job.unwrap();
    assert_eq!(j.file.as_deref(), Some("ci-test.gcode"));
    assert_eq!(j.progress, Some(25.0));
    assert_eq!(j.remaining, Some(std::time::Duration::from_secs(60)));
    assert_eq!(j.elapsed, None, "time_printing 0 is unknown");
}
