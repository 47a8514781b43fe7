//! The virtual printer in Klipper's and Moonraker's words: printer objects, `server/info`,
//! `printer/info`, and Moonraker's answers and error bodies.

use polyprint::sim::{Phase, SimFile, SimView};
use polyprint::{Heater, JobOutcome};
use serde_json::{json, Map, Value};
use wiremock::ResponseTemplate;

use super::MockState;

/// Moonraker's data directory, as paths in its answers show it.
pub const DATA_DIR: &str = "/home/pi/printer_data";

/// The travel of each axis, mm (the virtual printer's head stays within 0–250).
pub const AXIS_MAX: f64 = 250.0;

/// The nozzle's and the bed's `max_temp`.
pub const TOOL_MAX_TEMP: f64 = 300.0;
/// The bed's `max_temp`.
pub const BED_MAX_TEMP: f64 = 120.0;
/// The chamber's `max_temp`.
pub const CHAMBER_MAX_TEMP: f64 = 80.0;
/// `min_extrude_temp`.
pub const MIN_EXTRUDE_TEMP: f64 = 170.0;
/// `max_extrude_only_distance`.
pub const MAX_EXTRUDE_ONLY: f64 = 50.0;

/// Klippy's state message while starting without its MCU.
pub const STARTUP_MESSAGE: &str = "\nPrinter is not ready\nThe klippy host software is attempting to connect.  Please\nretry in a few moments.\n";

/// What Klipper adds after the reason of a shutdown.
const SHUTDOWN_TAIL: &str = "\nOnce the underlying issue is corrected, use the\n\"FIRMWARE_RESTART\" command to reset the firmware, reload the\nconfig, and restart the host software.\nPrinter is shutdown\n";

/// The Moonraker components the mock has (as the test stack's `server/info` lists them).
pub const COMPONENTS: &[&str] = &[
    "secrets",
    "template",
    "klippy_connection",
    "jsonrpc",
    "internal_transport",
    "application",
    "websockets",
    "database",
    "dbus_manager",
    "file_manager",
    "authorization",
    "klippy_apis",
    "shell_command",
    "machine",
    "data_store",
    "proc_stats",
    "job_state",
    "job_queue",
    "history",
    "http_client",
    "announcements",
    "webcam",
    "extensions",
    "octoprint_compat",
];

/// The extended commands `printer/gcode/help` lists (the test stack's config).
pub const GCODE_HELP: &[(&str, &str)] = &[
    ("RESTART", "Reload config file and restart host software"),
    (
        "FIRMWARE_RESTART",
        "Restart firmware, host, and reload config",
    ),
    ("STATUS", "Report the printer status"),
    (
        "HELP",
        "Report the list of available extended G-Code commands",
    ),
    ("SAVE_CONFIG", "Overwrite config file and restart"),
    ("TURN_OFF_HEATERS", "Turn off all heaters"),
    ("TEMPERATURE_WAIT", "Wait for a temperature on a sensor"),
    ("QUERY_ADC", "Report the last value of an analog pin"),
    ("PID_CALIBRATE", "Run PID calibration test"),
    ("SET_HEATER_TEMPERATURE", "Sets a heater temperature"),
    ("STEPPER_BUZZ", "Oscillate a given stepper to help id it"),
    (
        "FORCE_MOVE",
        "Manually move a stepper; invalidates kinematics",
    ),
    (
        "SET_KINEMATIC_POSITION",
        "Force a low-level kinematic position",
    ),
    (
        "SET_GCODE_OFFSET",
        "Set a virtual offset to g-code positions",
    ),
    ("SAVE_GCODE_STATE", "Save G-Code coordinate state"),
    (
        "RESTORE_GCODE_STATE",
        "Restore a previously saved G-Code state",
    ),
    (
        "GET_POSITION",
        "Return information on the current location of the toolhead",
    ),
    (
        "SET_PRINT_STATS_INFO",
        "Pass slicer info like layer act and total to klipper",
    ),
    (
        "SDCARD_RESET_FILE",
        "Clears a loaded SD File. Stops the print if necessary",
    ),
    (
        "SDCARD_PRINT_FILE",
        "Loads a SD file and starts the print.  May include files in subdirectories.",
    ),
    ("PAUSE", "G-Code macro"),
    ("RESUME", "G-Code macro"),
    (
        "CLEAR_PAUSE",
        "Clears the current paused state without resuming the print",
    ),
    ("CANCEL_PRINT", "G-Code macro"),
    ("SET_DISPLAY_TEXT", "Set or clear the display message"),
    (
        "EXCLUDE_OBJECT_START",
        "Marks the beginning the current object as labeled",
    ),
    ("EXCLUDE_OBJECT_END", "Marks the end the current object"),
    ("EXCLUDE_OBJECT", "Cancel moves inside a specified objects"),
    ("EXCLUDE_OBJECT_DEFINE", "Provides a summary of an object"),
    (
        "SET_GCODE_VARIABLE",
        "Set the value of a G-Code macro variable",
    ),
    (
        "SET_STEPPER_ENABLE",
        "Enable/disable individual stepper by name",
    ),
    ("QUERY_ENDSTOPS", "Report on the status of each endstop"),
    ("SET_VELOCITY_LIMIT", "Set printer velocity limits"),
    ("SET_IDLE_TIMEOUT", "Set the idle timeout in seconds"),
    ("MANUAL_PROBE", "Start manual probe helper script"),
    ("Z_ENDSTOP_CALIBRATE", "Calibrate a Z endstop"),
    ("Z_OFFSET_APPLY_ENDSTOP", "Adjust the z endstop_position"),
    (
        "TUNING_TOWER",
        "Tool to adjust a parameter at each Z height",
    ),
    ("SET_PRESSURE_ADVANCE", "Set pressure advance parameters"),
    (
        "SET_EXTRUDER_ROTATION_DISTANCE",
        "Set extruder rotation distance",
    ),
    ("SYNC_EXTRUDER_MOTION", "Set extruder stepper motion queue"),
    ("SET_EXTRUDER_STEP_DISTANCE", "Set extruder step distance"),
    ("SYNC_STEPPER_TO_EXTRUDER", "Set extruder stepper"),
    ("ACTIVATE_EXTRUDER", "Change the active extruder"),
    ("BASE_PAUSE", "Renamed builtin of 'PAUSE'"),
    ("BASE_RESUME", "Renamed builtin of 'RESUME'"),
    ("BASE_CANCEL_PRINT", "Renamed builtin of 'CANCEL_PRINT'"),
];

/// Klippy as Moonraker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Klippy {
    /// `klippy_connected`.
    pub connected: bool,
    /// `klippy_state`.
    pub state: &'static str,
    /// `state_message`.
    pub message: String,
}

impl Klippy {
    /// Whether Klippy takes commands.
    pub fn ready(&self) -> bool {
        self.state == "ready"
    }
}

/// Klippy's state for the virtual printer's phase.
pub fn klippy(view: &SimView, st: &MockState) -> Klippy {
    match &view.phase {
        Phase::Offline if st.offline_is_startup => Klippy {
            connected: true,
            state: "startup",
            message: STARTUP_MESSAGE.into(),
        },
        Phase::Offline => Klippy {
            connected: false,
            state: "disconnected",
            message: String::new(),
        },
        Phase::Error(reason) => Klippy {
            connected: true,
            state: "shutdown",
            message: format!("{reason}{SHUTDOWN_TAIL}"),
        },
        _ => Klippy {
            connected: true,
            state: "ready",
            message: "Printer is ready".into(),
        },
    }
}

/// Klippy's monotonic clock for the view.
pub fn eventtime(view: &SimView) -> f64 {
    1000.0 + (view.now.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The file's absolute path as Klipper shows it.
pub fn gcode_path(name: &str) -> String {
    format!("{DATA_DIR}/gcodes/{name}")
}

/// `print_stats.state` for the view.
pub fn print_state(view: &SimView, st: &MockState) -> &'static str {
    match &view.phase {
        Phase::Printing | Phase::Pausing(_) | Phase::Resuming(_) | Phase::Cancelling(_) => {
            "printing"
        }
        Phase::Paused => "paused",
        Phase::Idle => match view.job.as_ref() {
            Some(j) if st.reset_job == Some(j.id) => "standby",
            Some(j) => match j.outcome {
                Some(JobOutcome::Finished) => "complete",
                Some(JobOutcome::Cancelled) => "cancelled",
                Some(JobOutcome::Failed) => "error",
                _ => "standby",
            },
            None => "standby",
        },
        Phase::Offline | Phase::Error(_) => "standby",
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn heater_json(view: &SimView, heater: Heater) -> Option<Value> {
    let h = view.heaters.iter().find(|h| h.heater == heater)?;
    let power = if h.target > h.actual + 0.5 { 1.0 } else { 0.0 };
    Some(json!({
        "temperature": round2(h.actual),
        "target": h.target,
        "power": power,
    }))
}

/// The layers the file tells Klipper (`SET_PRINT_STATS_INFO TOTAL_LAYER=`, `CURRENT_LAYER=`)
/// up to byte `position`: (total, current), each `null` until set. Klipper reads ahead of the
/// moves it makes: everything before the file's first move is read at once.
fn layers_at(file: &SimFile, position: usize) -> Value {
    let text = String::from_utf8_lossy(&file.content);
    let first_move = text
        .split_inclusive('\n')
        .scan(0usize, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .find(|(_, l)| {
            let l = l.trim_start().to_ascii_uppercase();
            l.starts_with("G1 ") || l.starts_with("G0 ")
        })
        .map_or(text.len(), |(start, _)| start);
    let position = position.max(first_move);
    let (mut total, mut current) = (Value::Null, Value::Null);
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at >= position {
            break;
        }
        at += line.len();
        let line = line.trim();
        if !line
            .to_ascii_uppercase()
            .starts_with("SET_PRINT_STATS_INFO")
        {
            continue;
        }
        for word in line.split_whitespace().skip(1) {
            let Some((k, v)) = word.split_once('=') else {
                continue;
            };
            let Ok(n) = v.parse::<u64>() else { continue };
            match k.to_ascii_uppercase().as_str() {
                "TOTAL_LAYER" => total = json!(n),
                "CURRENT_LAYER" => current = json!(n),
                _ => {}
            }
        }
    }
    json!({"total_layer": total, "current_layer": current})
}

/// The names of the job's objects, as Klipper keeps them (upper case).
pub fn object_names(view: &SimView) -> Vec<String> {
    view.objects
        .iter()
        .map(|o| o.name.to_ascii_uppercase())
        .collect()
}

/// Every printer object of the virtual printer, with every field.
pub fn objects(view: &SimView, st: &MockState) -> Map<String, Value> {
    let k = klippy(view, st);
    let state = print_state(view, st);
    let job = view.job.as_ref().filter(|j| st.reset_job != Some(j.id));
    let active = matches!(
        view.phase,
        Phase::Printing
            | Phase::Pausing(_)
            | Phase::Resuming(_)
            | Phase::Cancelling(_)
            | Phase::Paused
    );
    let mut o = Map::new();
    o.insert(
        "webhooks".into(),
        json!({"state": k.state, "state_message": k.message}),
    );
    let (printed, filament) = match job {
        Some(j) => (
            j.printed.as_secs_f64(),
            j.file.filament_mm.map(|f| f * j.progress() / 100.0),
        ),
        None => (0.0, None),
    };
    let print_duration = match job {
        Some(j) if j.file.filament_mm.is_some() => printed,
        _ => 0.0,
    };
    let info = match job {
        Some(j) => {
            let fraction = if state == "complete" {
                1.0
            } else {
                j.progress() / 100.0
            };
            layers_at(
                &j.file,
                (fraction * j.file.content.len() as f64).ceil() as usize,
            )
        }
        None => json!({"total_layer": null, "current_layer": null}),
    };
    o.insert(
        "print_stats".into(),
        json!({
            "filename": job.map(|j| j.file.name.clone()).unwrap_or_default(),
            "total_duration": printed,
            "print_duration": print_duration,
            "filament_used": (filament.unwrap_or(0.0) * 1000.0).round() / 1000.0,
            "state": state,
            "message": "",
            "info": info,
        }),
    );
    let sdcard = match job {
        Some(j) if state != "cancelled" => {
            let progress = if state == "complete" {
                1.0
            } else {
                j.progress() / 100.0
            };
            let size = j.file.content.len() as f64;
            // Klipper closes a finished file (`file_path` null) but keeps its size.
            let path = (state != "complete").then(|| gcode_path(&j.file.name));
            json!({
                "file_path": path,
                "progress": progress,
                "is_active": matches!(view.phase, Phase::Printing | Phase::Resuming(_) | Phase::Pausing(_) | Phase::Cancelling(_)),
                "file_position": (progress * size).round() as u64,
                "file_size": j.file.content.len(),
            })
        }
        _ => {
            json!({"file_path": null, "progress": 0.0, "is_active": false, "file_position": 0, "file_size": 0})
        }
    };
    let progress = sdcard["progress"].clone();
    o.insert("virtual_sdcard".into(), sdcard);
    o.insert(
        "pause_resume".into(),
        json!({"is_paused": matches!(view.phase, Phase::Paused) || st.idle_paused || (st.stuck_paused && active)}),
    );
    let idle = if active {
        "Printing"
    } else if st.fresh {
        "Idle"
    } else {
        "Ready"
    };
    o.insert(
        "idle_timeout".into(),
        json!({"state": idle, "printing_time": if active { printed } else { 0.0 }}),
    );
    o.insert(
        "display_status".into(),
        json!({"progress": progress, "message": st.display_message}),
    );
    for heater in [Heater::Tool(0), Heater::Bed, Heater::Chamber] {
        if let Some(mut h) = heater_json(view, heater) {
            let name = crate::mapping::heater_object(heater);
            if heater == Heater::Tool(0) {
                h["can_extrude"] =
                    json!(h["temperature"].as_f64().unwrap_or(0.0) >= MIN_EXTRUDE_TEMP);
                h["pressure_advance"] = json!(0.0);
                h["smooth_time"] = json!(0.04);
                h["motion_queue"] = Value::Null;
            }
            o.insert(name, h);
        }
    }
    let p = view.position;
    o.insert(
        "toolhead".into(),
        json!({
            "homed_axes": st.homed,
            "axis_minimum": [0.0, 0.0, 0.0, 0.0],
            "axis_maximum": [AXIS_MAX, AXIS_MAX, AXIS_MAX, 0.0],
            "print_time": 0.001 + view.now.as_secs_f64(),
            "stalls": 0,
            "estimated_print_time": view.now.as_secs_f64(),
            "extruder": "extruder",
            "position": [p[0], p[1], p[2], 0.0],
            "max_velocity": 300.0,
            "max_accel": 3000.0,
            "minimum_cruise_ratio": 0.5,
            "square_corner_velocity": 5.0,
        }),
    );
    let names = object_names(view);
    let mut excluded: Vec<String> = st.excluded.clone();
    for o in view.objects.iter().filter(|o| o.cancelled) {
        let n = o.name.to_ascii_uppercase();
        if !excluded.contains(&n) {
            excluded.push(n);
        }
    }
    let current = match view.phase {
        Phase::Printing => view
            .objects
            .iter()
            .find(|o| !o.cancelled)
            .map(|o| json!(o.name.to_ascii_uppercase())),
        _ => None,
    };
    let defined: Vec<Value> = if view.job.is_some() {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let cx = 50.0 + 40.0 * i as f64;
                json!({"name": n, "center": [cx, 50.0],
                    "polygon": [[cx - 10.0, 40.0], [cx + 10.0, 40.0], [cx + 10.0, 60.0], [cx - 10.0, 60.0]]})
            })
            .collect()
    } else {
        Vec::new()
    };
    o.insert(
        "exclude_object".into(),
        json!({"objects": defined, "excluded_objects": excluded, "current_object": current.unwrap_or(Value::Null)}),
    );
    o.insert(
        "gcode_move".into(),
        json!({
            "speed_factor": 1.0, "speed": 1500.0, "extrude_factor": 1.0,
            "absolute_coordinates": !st.relative, "absolute_extrude": !st.relative_e,
            "homing_origin": [0.0, 0.0, 0.0, 0.0],
            "position": [p[0], p[1], p[2], 0.0],
            "gcode_position": [p[0], p[1], p[2], 0.0],
        }),
    );
    o.insert("configfile".into(), configfile(view));
    o.insert(
        "heaters".into(),
        json!({"available_heaters": heater_names(view), "available_sensors": heater_names(view), "available_monitors": []}),
    );
    o.insert(
        "system_stats".into(),
        json!({"sysload": 0.1, "cputime": view.now.as_secs_f64() / 100.0, "memavail": 23_911_936}),
    );
    for empty in [
        "mcu",
        "stepper_enable",
        "motion_report",
        "query_endstops",
        "manual_probe",
    ] {
        o.insert(empty.into(), json!({}));
    }
    for m in ["PAUSE", "RESUME", "CANCEL_PRINT"] {
        o.insert(format!("gcode_macro {m}"), json!({}));
    }
    if !k.ready() {
        // Until Klippy is ready only its webhooks and print_stats are loaded.
        o.retain(|name, _| name == "webhooks" || name == "print_stats");
    }
    o
}

fn heater_names(view: &SimView) -> Vec<String> {
    view.heaters
        .iter()
        .map(|h| match h.heater {
            Heater::Chamber => "heater_generic chamber".to_string(),
            other => crate::mapping::heater_object(other),
        })
        .collect()
}

/// The `configfile` object: the settings the adapter reads.
fn configfile(view: &SimView) -> Value {
    let stepper =
        |max: f64| json!({"position_min": 0.0, "position_max": max, "position_endstop": 0.0});
    let mut settings = json!({
        "printer": {"kinematics": "cartesian", "max_velocity": 300.0, "max_accel": 3000.0,
            "max_z_velocity": 5.0, "max_z_accel": 100.0},
        "stepper_x": stepper(AXIS_MAX),
        "stepper_y": stepper(AXIS_MAX),
        "stepper_z": stepper(AXIS_MAX),
        "extruder": {"min_temp": 0.0, "max_temp": TOOL_MAX_TEMP, "min_extrude_temp": MIN_EXTRUDE_TEMP,
            "max_extrude_only_distance": MAX_EXTRUDE_ONLY, "nozzle_diameter": 0.4,
            "filament_diameter": 1.75, "control": "watermark"},
        "heater_bed": {"min_temp": 0.0, "max_temp": BED_MAX_TEMP, "control": "watermark"},
        "virtual_sdcard": {"path": format!("{DATA_DIR}/gcodes")},
        "pause_resume": {},
        "display_status": {},
        "exclude_object": {},
    });
    if view.heaters.iter().any(|h| h.heater == Heater::Chamber) {
        settings["heater_generic chamber"] =
            json!({"min_temp": 0.0, "max_temp": CHAMBER_MAX_TEMP, "control": "watermark"});
    }
    json!({"settings": settings, "config": {}, "warnings": [], "save_config_pending": false, "save_config_pending_items": {}})
}

/// The objects a query names (`name` or `name=field,field`), each with its fields; an
/// object Klipper does not have is `{}`, or its fields `null`.
pub fn query(
    all: &Map<String, Value>,
    spec: &[(String, Option<Vec<String>>)],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, fields) in spec {
        let value = match (all.get(name), fields) {
            (Some(v), None) => v.clone(),
            (Some(v), Some(fields)) => Value::Object(
                fields
                    .iter()
                    .filter_map(|f| v.get(f).map(|x| (f.clone(), x.clone())))
                    .collect(),
            ),
            (None, None) => json!({}),
            (None, Some(fields)) => {
                Value::Object(fields.iter().map(|f| (f.clone(), Value::Null)).collect())
            }
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The objects `printer/objects/list` names.
pub fn object_list(all: &Map<String, Value>) -> Vec<String> {
    all.keys().cloned().collect()
}

/// `server/info`.
pub fn server_info(view: &SimView, st: &MockState, websockets: usize) -> Value {
    let k = klippy(view, st);
    json!({
        "klippy_connected": k.connected,
        "klippy_state": k.state,
        "components": COMPONENTS,
        "failed_components": [],
        "registered_directories": ["config", "logs", "gcodes"],
        "warnings": [],
        "websocket_count": websockets,
        "moonraker_version": "0.11.0",
        "missing_klippy_requirements": [],
        "api_version": [1, 5, 0],
        "api_version_string": "1.5.0",
    })
}

/// `printer/info`.
pub fn printer_info(view: &SimView, st: &MockState) -> Value {
    let k = klippy(view, st);
    json!({
        "state": k.state,
        "state_message": k.message,
        "hostname": "polyprint-mock",
        "klipper_path": "/opt/klippy-venv/lib/python3.11/site-packages",
        "python_path": "/opt/klippy-venv/bin/python3",
        "process_id": 4242,
        "user_id": 1000,
        "group_id": 1000,
        "log_file": format!("{DATA_DIR}/logs/klippy.log"),
        "config_file": format!("{DATA_DIR}/config/printer.cfg"),
        "software_version": "?",
        "cpu_info": "virtual printer",
    })
}

/// The content type of Moonraker's JSON answers.
pub const JSON: &str = "application/json; charset=UTF-8";

/// `{"result": value}` with `status`.
pub fn result(status: u16, value: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        serde_json::to_vec(&json!({ "result": value })).unwrap_or_default(),
        JSON,
    )
}

/// A raw JSON answer (the upload's 201).
pub fn raw(status: u16, value: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(serde_json::to_vec(&value).unwrap_or_default(), JSON)
}

/// `{"result": "ok"}`.
pub fn ok() -> ResponseTemplate {
    result(200, json!("ok"))
}

/// Why the mock refuses a request, in Moonraker's kinds of error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fail {
    /// A Klippy error, 400: `message` is the text, or `Unknown` when the text has a newline,
    /// `<` or `>`; the traceback's last line has the text.
    Klippy(String),
    /// An error whose `message` is a reason phrase, the text only in the traceback
    /// (`HTTP 400: Bad Request (Invalid file path: …)`).
    Reason(u16, &'static str, String),
    /// An error with its text in `message` (`Unknown` where the text cannot be a reason
    /// phrase) and the traceback.
    Text(u16, String),
    /// A `/printer/` route while Klippy is not connected: 503 `Klippy Host not connected`
    /// (404 `Not Found` before Klippy first connected).
    NotConnected,
}

/// A synthetic traceback ending in Tornado's `HTTPError` line, as Moonraker's errors have.
fn traceback(status: u16, last: &str) -> String {
    format!(
        "Traceback (most recent call last):\n\n  File \"/opt/venv/lib/python3.11/site-packages/tornado/web.py\", line 1886, in _execute\n    result = await result\n             ^^^^^^^^^^^^\n\ntornado.web.HTTPError: HTTP {status}: {last}\n"
    )
}

/// Moonraker's error body.
pub fn error_body(status: u16, message: &str, last: &str) -> Value {
    json!({"error": {"code": status, "message": message, "traceback": traceback(status, last)}})
}

/// `message` for a text: the text, or `Unknown` where it holds what a reason phrase cannot
/// (a newline, `<`, `>`).
fn phrase(text: &str) -> String {
    if text.contains(['\n', '<', '>']) {
        "Unknown".into()
    } else {
        text.to_string()
    }
}

/// The answer for a refusal. `ever_connected`: whether Klippy connected since the mock
/// started (before, `/printer/` routes are 404).
pub fn failure(fail: &Fail, ever_connected: bool) -> ResponseTemplate {
    let (status, message, last) = match fail {
        Fail::Klippy(text) => (400, phrase(text), text.clone()),
        Fail::Text(status, text) => (*status, phrase(text), text.clone()),
        Fail::Reason(status, reason, detail) => {
            (*status, reason.to_string(), format!("{reason} ({detail})"))
        }
        Fail::NotConnected if !ever_connected => (404, "Not Found".into(), "Not Found".into()),
        Fail::NotConnected => (
            503,
            crate::errors::KLIPPY_NOT_CONNECTED.into(),
            crate::errors::KLIPPY_NOT_CONNECTED.into(),
        ),
    };
    raw(status, error_body(status, &message, &last))
}
