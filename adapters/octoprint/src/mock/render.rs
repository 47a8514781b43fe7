//! The virtual printer in OctoPrint's JSON: the shapes of the recorded answers in
//! `tests/fixtures/samples/octoprint/`, filled from a [`SimView`].

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use polyprint::sim::{Phase, SimFile, SimHeater, SimJob, SimView, EPOCH_BASE};
use polyprint::{Heater, JobOutcome};
use serde_json::{json, Map, Value};

/// The version the mock claims to be.
pub const VERSION: &str = "1.11.8";
/// The user every file and job belongs to.
pub const USER: &str = "admin";
/// The only serial port the mock offers.
pub const PORT: &str = "VIRTUAL";
/// The baud rate reported while connected.
pub const BAUDRATE: u32 = 115_200;

/// OctoPrint's state text for a phase, as `/api/printer` and `/api/job` say it.
pub fn state_text(phase: &Phase) -> &'static str {
    match phase {
        Phase::Offline => "Offline",
        Phase::Error(_) => "Offline after error",
        Phase::Idle => "Operational",
        Phase::Printing => "Printing",
        Phase::Pausing(_) => "Pausing",
        Phase::Paused => "Paused",
        Phase::Resuming(_) => "Resuming",
        Phase::Cancelling(_) => "Cancelling",
    }
}

/// Whether OctoPrint would call the printer operational (else `/api/printer` is 409).
pub fn operational(phase: &Phase) -> bool {
    !matches!(phase, Phase::Offline | Phase::Error(_))
}

/// `state.flags` with none set, as while OctoPrint opens or autodetects a connection.
pub fn no_flags() -> Value {
    flags_set(&[])
}

/// `state.flags`, exactly as in the spec's state table.
pub fn flags(phase: &Phase) -> Value {
    let set: &[&str] = match phase {
        Phase::Offline => &["closedOrError"],
        Phase::Error(_) => &["closedOrError", "error"],
        Phase::Idle => &["operational", "ready", "sdReady"],
        Phase::Printing => &["operational", "printing", "sdReady"],
        Phase::Pausing(_) => &["operational", "pausing", "printing", "sdReady"],
        Phase::Paused => &["operational", "paused", "sdReady"],
        Phase::Resuming(_) => &["operational", "resuming", "printing", "sdReady"],
        Phase::Cancelling(_) => &["cancelling", "operational", "printing", "sdReady"],
    };
    flags_set(set)
}

fn flags_set(set: &[&str]) -> Value {
    let all = [
        "cancelling",
        "closedOrError",
        "error",
        "finishing",
        "operational",
        "paused",
        "pausing",
        "printing",
        "ready",
        "resuming",
        "sdReady",
    ];
    Value::Object(
        all.iter()
            .map(|f| ((*f).to_string(), json!(set.contains(f))))
            .collect(),
    )
}

fn heater_key(h: Heater) -> String {
    h.to_string()
}

fn reading(h: &SimHeater) -> Value {
    json!({
        "actual": (h.actual * 100.0).round() / 100.0,
        "offset": 0,
        "target": h.target,
    })
}

/// `temperature`: `{}` until the first readings after a connect are in.
pub fn temperatures(view: &SimView, only: Option<&dyn Fn(Heater) -> bool>) -> Value {
    let mut map = Map::new();
    if view.readings_ready {
        for h in &view.heaters {
            if only.is_none_or(|f| f(h.heater)) {
                map.insert(heater_key(h.heater), reading(h));
            }
        }
    }
    Value::Object(map)
}

/// `GET /api/printer` (the caller answers 409 when not operational), honouring
/// `?exclude=temperature,sd,state`.
pub fn printer(view: &SimView, exclude: &[&str]) -> Value {
    let mut map = Map::new();
    if !exclude.contains(&"sd") {
        map.insert("sd".into(), json!({"ready": true}));
    }
    if !exclude.contains(&"state") {
        map.insert(
            "state".into(),
            json!({"error": "", "flags": flags(&view.phase), "text": state_text(&view.phase)}),
        );
    }
    if !exclude.contains(&"temperature") {
        map.insert("temperature".into(), temperatures(view, None));
    }
    Value::Object(map)
}

/// `GET /api/connection`.
pub fn connection(view: &SimView) -> Value {
    let connected = operational(&view.phase);
    let state = if connected {
        state_text(&view.phase)
    } else {
        "Closed"
    };
    json!({
        "current": {
            "baudrate": connected.then_some(BAUDRATE),
            "port": connected.then_some(PORT),
            "printerProfile": "_default",
            "state": state,
        },
        "options": {
            "baudratePreference": null,
            "baudrates": [250000, 230400, 115200, 57600, 38400, 19200, 9600],
            "portPreference": null,
            "ports": [PORT],
            "printerProfilePreference": "_default",
            "printerProfiles": [{"id": "_default", "name": "Default"}],
        },
    })
}

fn null_progress() -> Value {
    json!({
        "completion": null,
        "filepos": null,
        "printTime": null,
        "printTimeLeft": null,
        "printTimeLeftOrigin": null,
    })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn filament(file: &SimFile) -> Value {
    match file.filament_mm {
        Some(mm) => json!({"tool0": {"length": mm, "volume": 0.0}}),
        None => json!({}),
    }
}

fn job_with_file(job: &SimJob, finished: bool) -> Value {
    job_info(&job.file, finished.then_some(job.printed.as_secs_f64()))
}

/// `job` for a file, with the last print time where there is one.
fn job_info(f: &SimFile, last: Option<f64>) -> Value {
    json!({
        "averagePrintTime": last,
        // A file whose analysis found no extrusion has no estimate and no filament.
        "estimatedPrintTime": f.filament_mm.map(|_| f.duration.as_secs_f64()),
        "filament": f.filament_mm.map(|_| filament(f)),
        "file": {
            "date": f.uploaded,
            "display": base_name(&f.name),
            "name": base_name(&f.name),
            "origin": "local",
            "path": f.name,
            "size": f.content.len(),
        },
        "lastPrintTime": last,
        "user": USER,
    })
}

/// `GET /api/job` with `selected` chosen by a `select` without printing: while no job runs,
/// the selected file with every progress field `null` (as the real server shows it);
/// otherwise [`job`].
pub fn job_or_selected(view: &SimView, selected: Option<&SimFile>) -> Value {
    match selected {
        Some(f) if !view.state.has_active_job() => json!({
            "job": job_info(f, None),
            "progress": null_progress(),
            "state": state_text(&view.phase),
        }),
        _ => job(view),
    }
}

/// `GET /api/job`: the shapes of `job_disconnected`, `job_operational_idle`, `job_printing`,
/// `job_paused`, `job_after_completed`, `job_after_cancel`, `job_after_disconnect` and
/// `job_error`.
pub fn job(view: &SimView) -> Value {
    let text = state_text(&view.phase);
    let mut doc = match &view.job {
        None if matches!(view.phase, Phase::Error(_)) || !view.history.is_empty() => json!({
            // After a job or an error, OctoPrint's "nothing selected" has this shape.
            "job": {
                "averagePrintTime": null,
                "estimatedPrintTime": null,
                "filament": null,
                "file": {"date": null, "display": null, "name": null, "origin": null,
                         "path": null, "size": null},
                "lastPrintTime": null,
                "user": null,
            },
            "progress": null_progress(),
            "state": text,
        }),
        None => json!({
            // A server that never had a file selected.
            "job": {
                "estimatedPrintTime": null,
                "filament": {"length": null, "volume": null},
                "file": {"date": null, "name": null, "origin": null, "path": null, "size": null},
                "lastPrintTime": null,
                "user": null,
            },
            "progress": null_progress(),
            "state": text,
        }),
        Some(j) => {
            let progress = match j.outcome {
                Some(JobOutcome::Cancelled) => null_progress(),
                Some(JobOutcome::Finished) => json!({
                    "completion": 100.0,
                    "filepos": j.file.content.len(),
                    "printTime": j.printed.as_secs(),
                    "printTimeLeft": 0,
                    "printTimeLeftOrigin": null,
                }),
                _ => {
                    let origin = if matches!(view.phase, Phase::Paused) {
                        "analysis"
                    } else {
                        "linear"
                    };
                    json!({
                        "completion": j.progress(),
                        "filepos": (j.file.content.len() as f64 * j.progress() / 100.0) as u64,
                        "printTime": j.printed.as_secs(),
                        "printTimeLeft": j.remaining().as_secs_f64().round() as u64,
                        "printTimeLeftOrigin": origin,
                    })
                }
            };
            json!({
                "job": job_with_file(j, j.outcome == Some(JobOutcome::Finished)),
                "progress": progress,
                "state": text,
            })
        }
    };
    if let Phase::Error(message) = &view.phase {
        doc["error"] = json!(message);
    }
    doc
}

/// Characters escaped in the `download` ref (all but unreserved).
const DOWNLOAD: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');
/// The `resource` ref keeps parentheses, as OctoPrint's does.
const RESOURCE: &AsciiSet = &DOWNLOAD.remove(b'(').remove(b')');

/// `refs` of a file, absolute URLs built from the request's Host, as OctoPrint builds them.
pub fn refs(origin_url: &str, path: &str) -> Value {
    json!({
        "download": format!("{origin_url}/downloads/files/local/{}", utf8_percent_encode(path, DOWNLOAD)),
        "resource": format!("{origin_url}/api/files/local/{}", utf8_percent_encode(path, RESOURCE)),
    })
}

/// A 40-hex-digit content hash (FNV-1a based: stable, but not OctoPrint's SHA-1).
pub fn hash(content: &[u8]) -> String {
    let mut out = String::new();
    for seed in [
        0xcbf2_9ce4_8422_2325u64,
        0x100_0000_01b3,
        0x9e37_79b9_7f4a_7c15,
    ] {
        let mut h = seed;
        for b in content {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

/// The extent of the moves in a file: (min, max) for x, y, z.
fn extent(file: &SimFile) -> [(f64, f64); 3] {
    let mut ext = [(f64::INFINITY, f64::NEG_INFINITY); 3];
    for line in String::from_utf8_lossy(&file.content).lines() {
        let code = line.split(';').next().unwrap_or("").trim();
        if !(code.starts_with("G0 ") || code.starts_with("G1 ")) {
            continue;
        }
        for word in code.split_whitespace() {
            let i = match word.chars().next() {
                Some('X') => 0,
                Some('Y') => 1,
                Some('Z') => 2,
                _ => continue,
            };
            if let Ok(v) = word[1..].parse::<f64>() {
                ext[i] = (ext[i].0.min(v), ext[i].1.max(v));
            }
        }
    }
    ext.map(|(lo, hi)| {
        if lo.is_finite() {
            (lo.min(0.0), hi)
        } else {
            (0.0, 0.0)
        }
    })
}

fn area(e: &[(f64, f64); 3]) -> Value {
    json!({"maxX": e[0].1, "maxY": e[1].1, "maxZ": e[2].1,
           "minX": e[0].0, "minY": e[1].0, "minZ": e[2].0})
}

fn dims(e: &[(f64, f64); 3]) -> Value {
    json!({"depth": e[1].1 - e[1].0, "height": e[2].1 - e[2].0, "width": e[0].1 - e[0].0})
}

/// What OctoPrint records of a file's prints, once it has been printed: `prints` (counts and
/// the last print; `printTime` only for a success) and `statistics` (per printer profile,
/// successful prints only). `None` for a file never printed (the keys are then absent).
fn print_records(f: &SimFile, history: &[SimJob]) -> Option<(Value, Value)> {
    let jobs: Vec<&SimJob> = history.iter().filter(|j| j.file.name == f.name).collect();
    let last = jobs.last()?;
    let ok = |j: &SimJob| j.outcome == Some(JobOutcome::Finished);
    let successes: Vec<f64> = jobs
        .iter()
        .filter(|j| ok(j))
        .map(|j| j.printed.as_secs_f64())
        .collect();
    let when = |j: &SimJob| EPOCH_BASE as f64 + j.ended_at.unwrap_or(j.started_at).as_secs_f64();
    let mut last_json = json!({"date": when(last), "success": ok(last)});
    if ok(last) {
        last_json["printTime"] = json!(last.printed.as_secs_f64());
    }
    let prints = json!({
        "failure": jobs.len() - successes.len(),
        "last": last_json,
        "success": successes.len(),
    });
    let statistics = match successes.last() {
        Some(latest) => json!({
            "averagePrintTime": {"_default": successes.iter().sum::<f64>() / successes.len() as f64},
            "lastPrintTime": {"_default": latest},
        }),
        None => json!({"averagePrintTime": {}, "lastPrintTime": {}}),
    };
    Some((prints, statistics))
}

/// One file, as in `/api/files` and `GET /api/files/local/<path>`.
pub fn file(origin_url: &str, f: &SimFile, history: &[SimJob]) -> Value {
    let mut v = file_entry(origin_url, f);
    if let Some((prints, statistics)) = print_records(f, history) {
        v["prints"] = prints;
        v["statistics"] = statistics;
    }
    v
}

fn file_entry(origin_url: &str, f: &SimFile) -> Value {
    let e = extent(f);
    // OctoPrint's analysis of a file without extrusion is marked `_empty`, all zeros, with no
    // estimate (measured on 1.11.8).
    let analysis = if f.filament_mm.is_none() {
        let zero = [(0.0, 0.0); 3];
        json!({
            "_empty": true,
            "dimensions": dims(&zero),
            "filament": {},
            "printingArea": area(&zero),
            "travelArea": area(&zero),
            "travelDimensions": dims(&zero),
        })
    } else {
        json!({
            "dimensions": dims(&e),
            "estimatedPrintTime": f.duration.as_secs_f64(),
            "filament": filament(f),
            "printingArea": area(&e),
            "travelArea": area(&e),
            "travelDimensions": dims(&e),
        })
    };
    json!({
        "date": f.uploaded,
        "display": base_name(&f.name),
        "gcodeAnalysis": analysis,
        "hash": hash(&f.content),
        "name": base_name(&f.name),
        "origin": "local",
        "path": f.name,
        "refs": refs(origin_url, &f.name),
        "size": f.content.len(),
        "type": "machinecode",
        "typePath": ["machinecode", "gcode"],
        "user": USER,
    })
}

/// `GET /api/files` (and `/api/files/local`): files at the top, folders with `children` when
/// `recursive`, plus `free` and `total`.
pub fn files(origin_url: &str, view: &SimView, recursive: bool) -> Value {
    fn level(
        origin_url: &str,
        files: &[&SimFile],
        history: &[SimJob],
        prefix: &str,
        recursive: bool,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut folders: Vec<String> = Vec::new();
        for f in files {
            let rest = &f.name[prefix.len()..];
            match rest.split_once('/') {
                None => out.push(file(origin_url, f, history)),
                Some((dir, _)) if !folders.iter().any(|d| d == dir) => {
                    folders.push(dir.to_string())
                }
                Some(_) => {}
            }
        }
        for dir in folders {
            let path = format!("{prefix}{dir}");
            let inner: Vec<&SimFile> = files
                .iter()
                .copied()
                .filter(|f| f.name.starts_with(&format!("{path}/")))
                .collect();
            let size: usize = inner.iter().map(|f| f.content.len()).sum();
            let mut entry = json!({
                "date": inner.iter().map(|f| f.uploaded).max(),
                "display": dir,
                "name": dir,
                "origin": "local",
                "path": path,
                "refs": {"resource": format!("{origin_url}/api/files/local/{}",
                                             utf8_percent_encode(&path, RESOURCE))},
                "size": size,
                "type": "folder",
                "typePath": ["folder"],
            });
            if recursive {
                entry["children"] = json!(level(
                    origin_url,
                    &inner,
                    history,
                    &format!("{path}/"),
                    true
                ));
            }
            out.push(entry);
        }
        out
    }
    let all: Vec<&SimFile> = view.files.iter().collect();
    json!({
        "files": level(origin_url, &all, &view.history, "", recursive),
        "free": 83_810_787_328u64,
        "total": 270_553_174_016u64,
    })
}

/// The 201 answer to an upload.
pub fn upload(origin_url: &str, path: &str, selected: bool, printing: bool) -> Value {
    json!({
        "done": true,
        "effectivePrint": printing,
        "effectiveSelect": selected,
        "files": {
            "local": {
                "name": base_name(path),
                "origin": "local",
                "path": path,
                "refs": refs(origin_url, path),
            }
        }
    })
}

/// `GET /api/settings` as the real OctoPrint 1.11.8 answers it with the spec's configuration
/// (recorded into `settings.json`; its key and folder paths replaced), with the mock's key in
/// `api.key` and the webcam able to take snapshots or not.
pub fn settings(webcam: bool) -> Value {
    let mut doc: Value =
        serde_json::from_str(include_str!("settings.json")).expect("the recorded settings parse");
    doc["api"]["key"] = json!(super::MOCK_API_KEY);
    let snapshot = if webcam {
        "http://127.0.0.1/webcam/?action=snapshot"
    } else {
        ""
    };
    doc["webcam"]["snapshotUrl"] = json!(snapshot);
    if let Some(first) = doc["webcam"]["webcams"].get_mut(0) {
        first["canSnapshot"] = json!(webcam);
        first["compat"]["snapshot"] = json!(snapshot);
    }
    doc
}
