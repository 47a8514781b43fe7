//! Klipper's printer objects mapped to the common model: one pure function, `map_status`,
//! over one merged object state ([`ObjectState`]), whether the state came from
//! `GET /printer/objects/query` or from the websocket's subscription and its deltas; and
//! `map_klippy_down` for a Moonraker that has no Klippy (`GET /server/info`). The crate
//! docs have the table; the tests below have a row each.

use std::collections::BTreeMap;

use polyprint::state::wire_seconds;
use polyprint::{
    FileEntry, Heater, HeaterReading, JobOutcome, JobProgress, JobRecord, PrinterState,
    PrinterStatus, QueuedJob,
};
use serde_json::{Map, Value};

use crate::wire::{
    epoch_seconds, number, whole, FileItem, FileMeta, HistoryJob, QueuedWire, ServerInfo,
};

/// The printer objects a status needs, with the fields asked for (`None`: all of them). The
/// REST read and the websocket subscription ask for exactly these (plus one entry per heater,
/// [`heater_objects`]).
pub(crate) const STATUS_OBJECTS: &[(&str, Option<&[&str]>)] = &[
    ("webhooks", None),
    ("print_stats", None),
    ("virtual_sdcard", None),
    ("pause_resume", None),
    ("idle_timeout", None),
    ("display_status", None),
];

/// What a command's state check reads besides [`STATUS_OBJECTS`]: where the head is, which
/// axes are homed and which extruder is active, and the job's objects.
pub(crate) const CHECK_OBJECTS: &[(&str, Option<&[&str]>)] = &[
    ("toolhead", Some(&["position", "homed_axes", "extruder"])),
    ("exclude_object", None),
];

/// The fields read of each heater.
pub(crate) const HEATER_FIELDS: &[&str] = &["temperature", "target"];

/// The object of the heated chamber (Klipper has no chamber heater of its own; this is the
/// `[heater_generic chamber]` section Mainsail and Fluidd show as the chamber).
pub(crate) const CHAMBER_OBJECT: &str = "heater_generic chamber";

/// The Klipper object of a heater: `extruder`, `extruder1` … `extruder15`, `heater_bed`,
/// [`CHAMBER_OBJECT`].
pub(crate) fn heater_object(heater: Heater) -> String {
    match heater {
        Heater::Tool(0) => "extruder".into(),
        Heater::Tool(n) => format!("extruder{n}"),
        Heater::Bed => "heater_bed".into(),
        Heater::Chamber => CHAMBER_OBJECT.into(),
    }
}

/// The heater of a Klipper object, if it is one.
pub(crate) fn heater_of(object: &str) -> Option<Heater> {
    match object {
        "extruder" => Some(Heater::Tool(0)),
        "heater_bed" => Some(Heater::Bed),
        CHAMBER_OBJECT => Some(Heater::Chamber),
        _ => {
            let n = object.strip_prefix("extruder")?;
            if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n.parse::<u8>()
                .ok()
                .filter(|n| (1..=15).contains(n))
                .map(Heater::Tool)
        }
    }
}

/// The objects a status reads (and the websocket subscribes to): [`STATUS_OBJECTS`], the
/// given heater objects with [`HEATER_FIELDS`], and with `check` [`CHECK_OBJECTS`], which a
/// command's state check needs too.
pub(crate) fn status_entries(
    heater_objects: &[String],
    check: bool,
) -> impl Iterator<Item = (&str, Option<&'static [&'static str]>)> {
    let check = if check { CHECK_OBJECTS } else { &[] };
    STATUS_OBJECTS
        .iter()
        .copied()
        .chain(
            heater_objects
                .iter()
                .map(|name| (name.as_str(), Some(HEATER_FIELDS))),
        )
        .chain(check.iter().copied())
}

/// Klipper's printer objects as last seen: `{object: {field: value}}`. A REST read fills it
/// at once; a subscription fills it with its first answer and then merges each
/// `notify_status_update` delta (only changed fields are sent; a field's value is always
/// whole).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectState {
    objects: BTreeMap<String, Map<String, Value>>,
}

impl ObjectState {
    /// The state from a query's or subscription's `status`. Objects that are not JSON
    /// objects are left out; a `status` that is not an object is `None`.
    pub fn from_status(status: &Value) -> Option<ObjectState> {
        ObjectState::from_owned(status.clone())
    }

    /// Like [`ObjectState::from_status`], taking the decoded `status` by value: its objects
    /// are moved in, not copied (what a status read does with each answer).
    pub fn from_owned(status: Value) -> Option<ObjectState> {
        let Value::Object(objects) = status else {
            return None;
        };
        let objects = objects
            .into_iter()
            .filter_map(|(name, fields)| match fields {
                Value::Object(fields) => Some((name, fields)),
                _ => None,
            })
            .collect();
        Some(ObjectState { objects })
    }

    /// Merges a delta (`{object: {changed fields}}`) onto the state.
    pub fn merge(&mut self, delta: &Value) {
        let Some(delta) = delta.as_object() else {
            return;
        };
        for (name, fields) in delta {
            let Some(fields) = fields.as_object() else {
                continue;
            };
            let object = self.objects.entry(name.clone()).or_default();
            for (k, v) in fields {
                object.insert(k.clone(), v.clone());
            }
        }
    }

    /// Sets one field.
    pub fn set(&mut self, object: &str, field: &str, value: Value) {
        self.objects
            .entry(object.to_string())
            .or_default()
            .insert(field.to_string(), value);
    }

    /// A field's value.
    pub fn get(&self, object: &str, field: &str) -> Option<&Value> {
        self.objects.get(object)?.get(field)
    }

    /// A string field.
    pub fn str(&self, object: &str, field: &str) -> Option<&str> {
        self.get(object, field)?.as_str()
    }

    /// A finite number field.
    pub fn num(&self, object: &str, field: &str) -> Option<f64> {
        number(self.get(object, field)?)
    }

    /// A boolean field.
    pub fn flag(&self, object: &str, field: &str) -> Option<bool> {
        self.get(object, field)?.as_bool()
    }

    /// The objects present.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().map(String::as_str)
    }

    /// Klippy's state (`webhooks.state`).
    pub fn klippy_state(&self) -> &str {
        self.str("webhooks", "state").unwrap_or_default()
    }

    /// `print_stats.state`.
    pub fn print_state(&self) -> &str {
        self.str("print_stats", "state").unwrap_or_default()
    }

    /// `print_stats.filename`, when a file is loaded.
    pub fn filename(&self) -> Option<&str> {
        self.str("print_stats", "filename")
            .filter(|f| !f.is_empty())
    }

    /// `pause_resume.is_paused`.
    pub fn is_paused(&self) -> bool {
        self.flag("pause_resume", "is_paused").unwrap_or(false)
    }

    /// The homed axes (`toolhead.homed_axes`, lower case), when read.
    pub fn homed_axes(&self) -> Option<String> {
        self.str("toolhead", "homed_axes")
            .map(|s| s.to_ascii_lowercase())
    }

    /// The head's position (x, y, z), when read.
    pub fn position(&self) -> Option<[f64; 3]> {
        let p = self.get("toolhead", "position")?.as_array()?;
        let at = |i: usize| p.get(i).and_then(number);
        Some([at(0)?, at(1)?, at(2)?])
    }

    /// The job's objects (`exclude_object.objects[].name`), in the order the file defines
    /// them, and the names excluded so far (`excluded_objects`, which may hold names that
    /// are no object: Klipper accepts any).
    pub fn job_objects(&self) -> (Vec<String>, Vec<String>) {
        let names = |field: &str, key: Option<&str>| -> Vec<String> {
            self.get("exclude_object", field)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| match key {
                            Some(k) => v.get(k)?.as_str(),
                            None => v.as_str(),
                        })
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        (
            names("objects", Some("name")),
            names("excluded_objects", None),
        )
    }

    /// Heater readings, in the common model's order.
    pub fn heaters(&self) -> Vec<HeaterReading> {
        let mut out: Vec<HeaterReading> = self
            .objects
            .iter()
            .filter_map(|(name, fields)| {
                let heater = heater_of(name)?;
                let actual = fields.get("temperature").and_then(number).filter(celsius)?;
                let target = fields.get("target").and_then(number).filter(celsius);
                Some(HeaterReading::new(heater, actual, target))
            })
            .collect();
        out.sort_by_key(|h| h.heater);
        out
    }
}

fn celsius(t: &f64) -> bool {
    (-300.0..=2000.0).contains(t)
}

/// A heater counts as still heating when it is more than this below its target (Klipper's
/// `TEMPERATURE_WAIT` and `M109` tolerance for a watermark heater, `max_delta`'s default).
pub(crate) const WARMING_MARGIN: f64 = 2.0;

/// A server-supplied text, on one line, without control characters, at most 300 characters.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
    if out.chars().count() > 300 {
        out = out.chars().take(299).collect();
        out.push('…');
    }
    out
}

/// The common state of Klippy's and the job's states (the table in the crate docs, in its
/// order). `warming` says whether a heater is still heating with nothing printed yet.
pub(crate) fn state_of(
    klippy: &str,
    print: &str,
    idle_timeout: &str,
    warming: bool,
) -> PrinterState {
    match klippy {
        "disconnected" | "startup" => return PrinterState::Offline,
        "shutdown" | "error" => return PrinterState::Error,
        "ready" => {}
        _ => return PrinterState::Unknown,
    }
    match print {
        "printing" if warming => PrinterState::WarmingUp,
        "printing" => PrinterState::Printing,
        "paused" => PrinterState::Paused,
        "complete" => PrinterState::Finished,
        "cancelled" => PrinterState::Cancelled,
        "error" => PrinterState::Error,
        "standby" if idle_timeout == "Printing" => PrinterState::Busy,
        "standby" => PrinterState::Idle,
        _ => PrinterState::Unknown,
    }
}

/// The status of the printer objects (see the crate docs' table). `meta` is the metadata of
/// the job's file, when known: it gives the time left (its estimate times the part not yet
/// printed), the filament and the layer count.
pub(crate) fn map_status(objects: &ObjectState, meta: Option<&FileMeta>) -> PrinterStatus {
    let klippy = objects.klippy_state();
    let print = objects.print_state();
    let heaters = objects.heaters();
    let nothing_printed = objects
        .num("print_stats", "print_duration")
        .is_none_or(|d| d <= 0.0);
    let warming = nothing_printed
        && heaters.iter().any(|h| {
            h.target
                .is_some_and(|t| t > 0.0 && h.actual < t - WARMING_MARGIN)
        });
    let idle = objects.str("idle_timeout", "state").unwrap_or_default();
    let state = state_of(klippy, print, idle, warming);
    let raw = if klippy == "ready" { print } else { klippy };
    let mut s = PrinterStatus::new(state, one_line(raw));
    s.message = match (state, klippy) {
        (PrinterState::Error | PrinterState::Offline, k) if k != "ready" => {
            objects.str("webhooks", "state_message").map(one_line)
        }
        (PrinterState::Error, _) => objects.str("print_stats", "message").map(one_line),
        _ => None,
    }
    .filter(|m| !m.is_empty());
    s.heaters = heaters;
    if klippy == "ready" && print != "standby" {
        s.job = objects.filename().map(|file| job(objects, file, meta));
    }
    s
}

fn job(objects: &ObjectState, file: &str, meta: Option<&FileMeta>) -> JobProgress {
    // A cancel unloads the file (`file_path` null, `file_size` 0, progress 0): its progress
    // is not known any more. A finished job keeps its size and progress 1.0 (its
    // `file_path` is null too).
    let loaded = objects
        .get("virtual_sdcard", "file_path")
        .is_some_and(Value::is_string)
        || objects
            .num("virtual_sdcard", "file_size")
            .is_some_and(|s| s > 0.0);
    let progress = objects
        .num("virtual_sdcard", "progress")
        .filter(|p| loaded && (0.0..=1.0).contains(p))
        .map(|p| p * 100.0);
    let info = |field: &str| {
        objects
            .get("print_stats", "info")
            .and_then(|i| i.get(field))
            .and_then(whole)
            .filter(|n| *n <= 1_000_000)
            .map(|n| n as u32)
    };
    let meta = meta.filter(|m| m.filename.as_deref().is_none_or(|f| f == file));
    let remaining = match (
        meta.and_then(|m| m.estimated_time).and_then(wire_seconds),
        progress,
    ) {
        (Some(estimate), Some(p)) => Some(estimate.mul_f64(1.0 - p / 100.0)),
        _ => None,
    };
    {
        let mut v = JobProgress::new(Some(file.to_string()));
        v.progress = progress;
        v.elapsed = objects
            .num("print_stats", "total_duration")
            .and_then(wire_seconds);
        v.remaining = remaining;
        v.layer = info("current_layer");
        v.layer_count = info("total_layer").or_else(|| {
            meta.and_then(|m| m.layer_count)
                .filter(|n| *n <= 1_000_000)
                .map(|n| n as u32)
        });
        v.filament_mm = meta
            .and_then(|m| m.filament_total)
            .filter(|f| (0.0..1e9).contains(f));
        v
    }
}

/// The status while Moonraker has no Klippy (`klippy_connected: false` or `klippy_state`
/// `disconnected` in `GET /server/info`): Offline, `raw_state` `disconnected`. Other Klippy
/// states never come here: the printer objects answer then, and [`map_status`] reads
/// `webhooks.state`.
pub(crate) fn map_klippy_down(info: &ServerInfo) -> PrinterStatus {
    let raw = if info.klippy_state.is_empty() || info.klippy_connected {
        "disconnected".to_string()
    } else {
        one_line(&info.klippy_state)
    };
    let state = match raw.as_str() {
        "shutdown" | "error" => PrinterState::Error,
        "ready" => PrinterState::Unknown,
        _ => PrinterState::Offline,
    };
    let mut s = PrinterStatus::new(state, raw);
    s.message = Some("Moonraker is not connected to Klippy".into());
    s
}

/// A file of `GET /server/files/list`, with its metadata's estimate when known.
pub(crate) fn file_entry(item: &FileItem, meta: Option<&FileMeta>) -> Option<FileEntry> {
    if item.path.is_empty() {
        return None;
    }
    Some({
        let mut v = FileEntry::new(
            item.path.clone(),
            item.path
                .rsplit('/')
                .next()
                .unwrap_or(&item.path)
                .to_string(),
        );
        v.size = item.size;
        v.modified = epoch_seconds(item.modified);
        v.estimated_time = meta.and_then(|m| m.estimated_time).and_then(wire_seconds);
        v
    })
}

/// How a history job ended.
pub(crate) fn outcome_of(status: &str) -> JobOutcome {
    match status {
        "in_progress" => JobOutcome::Running,
        "completed" => JobOutcome::Finished,
        "cancelled" => JobOutcome::Cancelled,
        "error" | "klippy_shutdown" | "klippy_disconnect" | "server_exit" | "interrupted" => {
            JobOutcome::Failed
        }
        _ => JobOutcome::Unknown,
    }
}

/// A job of the history.
pub(crate) fn job_record(job: &HistoryJob) -> JobRecord {
    let mut v = JobRecord::new(job.job_id.clone(), outcome_of(&job.status));
    v.file = job.filename.clone().filter(|f| !f.is_empty());
    v.started = epoch_seconds(job.start_time);
    v.ended = epoch_seconds(job.end_time);
    v
}

/// The queue's jobs, in order.
pub(crate) fn queued(jobs: &[QueuedWire]) -> Vec<QueuedJob> {
    jobs.iter()
        .enumerate()
        .map(|(i, j)| {
            let mut v = QueuedJob::new(j.job_id.clone(), j.filename.clone());
            v.position = u32::try_from(i).ok();
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn objects(webhooks: &str, print: &str, idle: &str, extra: Value) -> ObjectState {
        let mut s = ObjectState::from_status(&json!({
            "webhooks": {"state": webhooks, "state_message": format!("Printer is {webhooks}\nline two")},
            "print_stats": {"filename": if print == "standby" { "" } else { "cube.gcode" },
                "state": print, "print_duration": 12.0, "total_duration": 20.0,
                "message": if print == "error" { "Error on 'G1 X': unable to parse" } else { "" },
                "info": {"total_layer": 10, "current_layer": 3}},
            "virtual_sdcard": {"file_path": "/d/gcodes/cube.gcode", "progress": 0.25, "is_active": true},
            "pause_resume": {"is_paused": print == "paused"},
            "idle_timeout": {"state": idle},
            "extruder": {"temperature": 200.1, "target": 200.0},
            "heater_bed": {"temperature": 60.0, "target": 60.0},
        }))
        .unwrap();
        s.merge(&extra);
        s
    }

    /// The crate docs' table, a row each.
    #[test]
    fn every_state_maps_as_documented() {
        use PrinterState::*;
        let cold = json!({"print_stats": {"print_duration": 0.0},
            "extruder": {"temperature": 60.0, "target": 200.0}});
        // Klippy's state, print_stats.state, idle_timeout.state, more fields, then what is
        // expected: state, raw state, message.
        type Row<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Value,
            PrinterState,
            &'a str,
            Option<&'a str>,
        );
        let rows: Vec<Row> = vec![
            (
                "startup",
                "standby",
                "Idle",
                json!({}),
                Offline,
                "startup",
                Some("Printer is startup line two"),
            ),
            (
                "disconnected",
                "standby",
                "Idle",
                json!({}),
                Offline,
                "disconnected",
                Some("Printer is disconnected line two"),
            ),
            (
                "shutdown",
                "printing",
                "Printing",
                json!({}),
                Error,
                "shutdown",
                Some("Printer is shutdown line two"),
            ),
            (
                "error",
                "standby",
                "Idle",
                json!({}),
                Error,
                "error",
                Some("Printer is error line two"),
            ),
            (
                "ready",
                "printing",
                "Printing",
                cold.clone(),
                WarmingUp,
                "printing",
                None,
            ),
            (
                "ready",
                "printing",
                "Printing",
                json!({}),
                Printing,
                "printing",
                None,
            ),
            (
                "ready",
                "paused",
                "Printing",
                json!({}),
                Paused,
                "paused",
                None,
            ),
            (
                "ready",
                "complete",
                "Ready",
                json!({}),
                Finished,
                "complete",
                None,
            ),
            (
                "ready",
                "cancelled",
                "Ready",
                json!({}),
                Cancelled,
                "cancelled",
                None,
            ),
            (
                "ready",
                "error",
                "Ready",
                json!({}),
                Error,
                "error",
                Some("Error on 'G1 X': unable to parse"),
            ),
            (
                "ready",
                "standby",
                "Printing",
                json!({}),
                Busy,
                "standby",
                None,
            ),
            (
                "ready",
                "standby",
                "Ready",
                json!({}),
                Idle,
                "standby",
                None,
            ),
            ("ready", "standby", "Idle", json!({}), Idle, "standby", None),
            (
                "ready",
                "exploded",
                "Ready",
                json!({}),
                Unknown,
                "exploded",
                None,
            ),
            (
                "rebooting",
                "standby",
                "Ready",
                json!({}),
                Unknown,
                "rebooting",
                None,
            ),
        ];
        for (klippy, print, idle, extra, want, raw, message) in rows {
            let s = map_status(&objects(klippy, print, idle, extra), None);
            assert_eq!(s.state, want, "{klippy}/{print}/{idle}");
            assert_eq!(s.raw_state, raw, "{klippy}/{print}");
            assert_eq!(s.message.as_deref(), message, "{klippy}/{print}");
            assert_eq!(s.heaters.len(), 2);
        }
        // Klippy not connected at all: server/info.
        let info = ServerInfo {
            klippy_connected: false,
            klippy_state: "disconnected".into(),
            ..ServerInfo::default()
        };
        let s = map_klippy_down(&info);
        assert_eq!((s.state, s.raw_state.as_str()), (Offline, "disconnected"));
    }

    #[test]
    fn warming_needs_nothing_printed_and_a_cold_heater() {
        // Printed already: a heater below target is a temperature change, not a warm-up.
        let s = map_status(
            &objects(
                "ready",
                "printing",
                "Printing",
                json!({"extruder": {"temperature": 150.0, "target": 200.0}}),
            ),
            None,
        );
        assert_eq!(s.state, PrinterState::Printing);
        // Within the margin: printing.
        let s = map_status(
            &objects(
                "ready",
                "printing",
                "Printing",
                json!({"print_stats": {"print_duration": 0.0},
                    "extruder": {"temperature": 198.5, "target": 200.0}}),
            ),
            None,
        );
        assert_eq!(s.state, PrinterState::Printing);
    }

    #[test]
    fn job_fields() {
        let meta = FileMeta {
            filename: Some("cube.gcode".into()),
            estimated_time: Some(400.0),
            filament_total: Some(1234.5),
            layer_count: Some(50),
            ..FileMeta::default()
        };
        let s = map_status(
            &objects("ready", "printing", "Printing", json!({})),
            Some(&meta),
        );
        let j = s.job.unwrap();
        assert_eq!(j.file.as_deref(), Some("cube.gcode"));
        assert_eq!(j.progress, Some(25.0));
        assert_eq!(j.elapsed, Some(Duration::from_secs(20)));
        assert_eq!(j.remaining, Some(Duration::from_secs(300)));
        assert_eq!((j.layer, j.layer_count), (Some(3), Some(10)));
        assert_eq!(j.filament_mm, Some(1234.5));
        // Another file's metadata is not used.
        let other = FileMeta {
            filename: Some("other.gcode".into()),
            ..meta.clone()
        };
        let j = map_status(
            &objects("ready", "printing", "Printing", json!({})),
            Some(&other),
        )
        .job
        .unwrap();
        assert_eq!((j.remaining, j.filament_mm), (None, None));
        // After a cancel the file is unloaded: progress unknown, not 0.
        let s = map_status(
            &objects(
                "ready",
                "cancelled",
                "Ready",
                json!({"virtual_sdcard": {"file_path": null, "progress": 0.0, "file_size": 0}}),
            ),
            None,
        );
        assert_eq!(s.job.unwrap().progress, None);
        // A finished job: no file_path either, but its size and progress stay.
        let s = map_status(
            &objects(
                "ready",
                "complete",
                "Ready",
                json!({"virtual_sdcard": {"file_path": null, "progress": 1.0, "file_size": 1600}}),
            ),
            None,
        );
        assert_eq!(s.job.unwrap().progress, Some(100.0));
        // Standby has no job.
        assert!(
            map_status(&objects("ready", "standby", "Ready", json!({})), None)
                .job
                .is_none()
        );
    }

    #[test]
    fn hostile_values_are_left_out() {
        let s = ObjectState::from_status(&json!({
            "webhooks": {"state": "ready"},
            "print_stats": {"state": "printing", "filename": "x.gcode", "total_duration": 1e300,
                "print_duration": "soon", "info": {"current_layer": -1, "total_layer": 1e12}},
            "virtual_sdcard": {"file_path": "/x", "progress": 7.5},
            "extruder": {"temperature": 1e9, "target": 200.0},
            "extruder99": {"temperature": 20.0},
            "extruder07": {"temperature": 20.0},
            "heater_bed": {"temperature": 20.0, "target": -1e12},
            "pause_resume": "nope",
        }))
        .unwrap();
        let st = map_status(&s, None);
        let j = st.job.unwrap();
        assert_eq!(
            (j.progress, j.elapsed, j.layer, j.layer_count),
            (None, None, None, None)
        );
        assert_eq!(st.heaters.len(), 1, "{:?}", st.heaters);
        assert_eq!(st.heaters[0].target, None);
        assert!(ObjectState::from_status(&json!([1, 2])).is_none());
        assert_eq!(
            one_line(&format!("a\n\tb\u{7}{}", "x".repeat(400)))
                .chars()
                .count(),
            300
        );
    }

    #[test]
    fn deltas_merge_field_by_field() {
        let mut s = objects("ready", "printing", "Printing", json!({}));
        s.merge(&json!({"print_stats": {"state": "paused"}, "pause_resume": {"is_paused": true}}));
        assert_eq!(s.print_state(), "paused");
        assert_eq!(s.filename(), Some("cube.gcode"), "untouched fields stay");
        assert!(s.is_paused());
        s.merge(&json!({"print_stats": 5, "new_object": {"a": 1}}));
        assert_eq!(s.print_state(), "paused");
        assert_eq!(s.get("new_object", "a"), Some(&json!(1)));
    }

    #[test]
    fn heater_names() {
        for (name, heater) in [
            ("extruder", Some(Heater::Tool(0))),
            ("extruder1", Some(Heater::Tool(1))),
            ("extruder15", Some(Heater::Tool(15))),
            ("extruder16", None),
            ("extruder0", None),
            ("extruder_stepper x", None),
            ("heater_bed", Some(Heater::Bed)),
            (CHAMBER_OBJECT, Some(Heater::Chamber)),
        ] {
            assert_eq!(heater_of(name), heater, "{name}");
            if let Some(h) = heater {
                assert_eq!(heater_object(h), name);
            }
        }
    }

    #[test]
    fn history_outcomes() {
        for (status, outcome) in [
            ("completed", JobOutcome::Finished),
            ("cancelled", JobOutcome::Cancelled),
            ("error", JobOutcome::Failed),
            ("klippy_shutdown", JobOutcome::Failed),
            ("in_progress", JobOutcome::Running),
            ("?", JobOutcome::Unknown),
        ] {
            assert_eq!(outcome_of(status), outcome);
        }
    }
}
