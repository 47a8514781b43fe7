//! Moonraker's JSON bodies, decoded leniently.
//!
//! Every successful answer but the upload's is `{"result": …}` ([`Envelope`]). The decoders
//! here never fail on a field of the wrong type or out of range: such a field is absent
//! (`None`, empty), as if the server had not sent it. Only a body that is not JSON, or whose
//! envelope is missing, is a [`polyprint::Error::Protocol`].

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Lenient field decoders: a value of the wrong type, or a number out of range, is `None`.
///
/// The scalar and string-list decoders read the value in place (no [`Value`] tree is built
/// for a field): a scalar is kept, anything else is skipped. [`lenient::list`] goes through a
/// `Value` per entry, so that an entry that is not a `T` can be dropped on its own.
pub mod lenient {
    use super::*;

    /// A finite number.
    pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Loose::deserialize(d)?.number())
    }

    /// A whole number from 0 to 2^53.
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match Loose::deserialize(d)? {
            Loose::Unsigned(n) => (n <= MAX_WHOLE).then_some(n),
            other => other.number().and_then(whole_f64),
        })
    }

    /// A string.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Loose::deserialize(d)? {
            Loose::Text(s) => Some(s),
            _ => None,
        })
    }

    /// A string, or `""`.
    pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(string(d)?.unwrap_or_default())
    }

    /// A boolean, or `false`.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(matches!(Loose::deserialize(d)?, Loose::Flag(true)))
    }

    /// A list of strings (other entries dropped), or empty.
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Loose::deserialize(d)? {
            Loose::Texts(items) => items,
            _ => Vec::new(),
        })
    }

    /// A list of `T` (entries that are not a `T` dropped), or empty.
    pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: serde::de::DeserializeOwned,
    {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            _ => Vec::new(),
        })
    }

    /// One JSON value as the scalar decoders see it.
    enum Loose {
        Flag(bool),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Text(String),
        /// A list, keeping only its strings.
        Texts(Vec<String>),
        /// `null`, an object, or a list's entry that is not a string.
        Other,
    }

    impl Loose {
        fn number(&self) -> Option<f64> {
            match *self {
                Loose::Unsigned(n) => Some(n as f64),
                Loose::Signed(n) => Some(n as f64),
                Loose::Float(f) => Some(f).filter(|f| f.is_finite()),
                _ => None,
            }
        }
    }

    impl<'de> Deserialize<'de> for Loose {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(LooseVisitor)
        }
    }

    struct LooseVisitor;

    impl<'de> serde::de::Visitor<'de> for LooseVisitor {
        type Value = Loose;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
            Ok(Loose::Flag(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
            Ok(Loose::Unsigned(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
            Ok(Loose::Signed(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Loose, E> {
            Ok(Loose::Float(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
            Ok(Loose::Text(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Loose, E> {
            Ok(Loose::Text(v))
        }
        fn visit_unit<E>(self) -> Result<Loose, E> {
            Ok(Loose::Other)
        }
        fn visit_none<E>(self) -> Result<Loose, E> {
            Ok(Loose::Other)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
            Loose::deserialize(d)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
            let mut texts = Vec::new();
            while let Some(item) = seq.next_element::<Loose>()? {
                if let Loose::Text(s) = item {
                    texts.push(s);
                }
            }
            Ok(Loose::Texts(texts))
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(Loose::Other)
        }
    }
}

/// A finite `f64` as a whole number from 0 to [`MAX_WHOLE`].
fn whole_f64(f: f64) -> Option<u64> {
    (f >= 0.0 && f <= MAX_WHOLE as f64 && f.fract() == 0.0).then_some(f as u64)
}

/// A JSON value as a finite number.
pub fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|n| n.is_finite())
}

/// The largest whole number taken from the wire (2^53: exact in an `f64`).
pub const MAX_WHOLE: u64 = 1 << 53;

/// A JSON value as a whole number from 0 to [`MAX_WHOLE`].
pub fn whole(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return (n <= MAX_WHOLE).then_some(n);
    }
    number(v).and_then(whole_f64)
}

/// Seconds since the epoch as Moonraker sends them (a float), as whole seconds: `None` unless
/// finite and within year 0 … 9999.
pub fn epoch_seconds(secs: Option<f64>) -> Option<i64> {
    let s = secs?;
    (s.is_finite() && (-62_135_596_800.0..=253_402_300_799.0).contains(&s)).then_some(s as i64)
}

/// `{"result": T}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope<T> {
    /// The answer.
    pub result: T,
}

/// `GET /server/info`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ServerInfo {
    /// Whether Moonraker is connected to Klippy.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub klippy_connected: bool,
    /// `disconnected`, `startup`, `ready`, `error` or `shutdown`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub klippy_state: String,
    /// Moonraker's loaded components (`history`, `job_queue`, `webcam`, ...).
    #[serde(default, deserialize_with = "lenient::strings")]
    pub components: Vec<String>,
    /// Components that failed to load.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub failed_components: Vec<String>,
    /// `0.11.0`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub moonraker_version: Option<String>,
    /// `1.5.0`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub api_version_string: Option<String>,
    /// Klipper sections Moonraker needs and the config lacks.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub missing_klippy_requirements: Vec<String>,
}

impl ServerInfo {
    /// Whether Klippy is connected (a state other than `disconnected`).
    pub fn klippy_up(&self) -> bool {
        self.klippy_connected && self.klippy_state != "disconnected"
    }

    /// Whether a component is loaded.
    pub fn has_component(&self, name: &str) -> bool {
        self.components.iter().any(|c| c == name)
    }
}

/// `GET /printer/info`: Klippy's host.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct KlippyInfo {
    /// Klippy's state (as `klippy_state`).
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub state: String,
    /// Why it is in that state.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub state_message: String,
    /// The host's name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub hostname: Option<String>,
    /// Klipper's version (`?` for the PyPI package).
    #[serde(default, deserialize_with = "lenient::string")]
    pub software_version: Option<String>,
    /// The printer.cfg in use.
    #[serde(default, deserialize_with = "lenient::string")]
    pub config_file: Option<String>,
}

/// `GET /printer/objects/query` and `printer.objects.subscribe`: `{eventtime, status}`.
#[derive(Clone, Debug, Deserialize)]
pub struct QueryResult {
    /// Klippy's clock when the values were taken.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub eventtime: Option<f64>,
    /// `{object: {field: value}}`.
    #[serde(default)]
    pub status: Value,
}

/// `GET /printer/objects/list`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ObjectList {
    /// The printer objects Klippy has (`extruder`, `heater_bed`, `gcode_macro PAUSE`, ...).
    #[serde(default, deserialize_with = "lenient::strings")]
    pub objects: Vec<String>,
}

/// One entry of `GET /server/files/list` (also an upload's and a delete's `item`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct FileItem {
    /// The path under the root.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub path: String,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub modified: Option<f64>,
    /// Bytes.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub size: Option<u64>,
    /// `rw`, `r`, ...
    #[serde(default, deserialize_with = "lenient::string")]
    pub permissions: Option<String>,
}

/// The 201 of `POST /server/files/upload` (not wrapped in `result`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct UploadResult {
    /// `create_file`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub action: String,
    /// The stored file.
    #[serde(default)]
    pub item: FileItem,
    /// Whether the upload started a print (`print=true`).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub print_started: bool,
}

/// `GET /server/files/metadata`: what Moonraker's parser found in a file. Slicer-made files
/// have estimates; hand-written ones (slicer `Unknown`) do not.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct FileMeta {
    /// The file, as asked for.
    #[serde(default, deserialize_with = "lenient::string")]
    pub filename: Option<String>,
    /// Bytes.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub size: Option<u64>,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub modified: Option<f64>,
    /// `PrusaSlicer`, `Cura`, ... or `Unknown`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub slicer: Option<String>,
    /// The slicer's estimate of the print time, seconds.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub estimated_time: Option<f64>,
    /// Filament for the whole print, mm.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub filament_total: Option<f64>,
    /// Layers, where the slicer says.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub layer_count: Option<u64>,
    /// Layer height, mm.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub layer_height: Option<f64>,
    /// First layer height, mm.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub first_layer_height: Option<f64>,
    /// The object's height, mm.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub object_height: Option<f64>,
}

/// `GET /server/history/list`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HistoryList {
    /// Jobs in the history (all, not only those listed).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub count: Option<u64>,
    /// The jobs asked for, newest first with `order=desc`.
    #[serde(default, deserialize_with = "lenient::list")]
    pub jobs: Vec<HistoryJob>,
}

/// One job of the history.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct HistoryJob {
    /// `000005`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub job_id: String,
    /// The file printed.
    #[serde(default, deserialize_with = "lenient::string")]
    pub filename: Option<String>,
    /// `completed`, `cancelled`, `error`, `klippy_shutdown`, `in_progress`, ...
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub status: String,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub start_time: Option<f64>,
    /// Seconds since the epoch; `null` while running.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub end_time: Option<f64>,
    /// Seconds printed.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub print_duration: Option<f64>,
    /// Seconds from start to end.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub total_duration: Option<f64>,
    /// mm.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub filament_used: Option<f64>,
}

/// `GET /server/job_queue/status` (and the answers of adding and removing jobs).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueueStatus {
    /// The jobs, in order.
    #[serde(default, deserialize_with = "lenient::list")]
    pub queued_jobs: Vec<QueuedWire>,
    /// `ready`, `paused`, `loading`, `starting`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub queue_state: String,
}

/// One queued job.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct QueuedWire {
    /// The file.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub filename: String,
    /// `00007F7F03E9D810`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub job_id: String,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub time_added: Option<f64>,
}

/// `GET /server/webcams/list`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WebcamList {
    /// The configured webcams.
    #[serde(default, deserialize_with = "lenient::list")]
    pub webcams: Vec<WebcamWire>,
}

fn yes() -> bool {
    true
}

/// One webcam: Moonraker stores only its URLs; another service serves the images.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct WebcamWire {
    /// Its name.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// Whether it is enabled (absent: yes).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `mjpegstreamer`, `webrtc-camerastreamer`, ...
    #[serde(default, deserialize_with = "lenient::string")]
    pub service: Option<String>,
    /// Where its stream is.
    #[serde(default, deserialize_with = "lenient::string")]
    pub stream_url: Option<String>,
    /// Where a snapshot is: relative to the Moonraker host (`/webcam/?action=snapshot`) or
    /// absolute.
    #[serde(default, deserialize_with = "lenient::string")]
    pub snapshot_url: Option<String>,
}

impl WebcamWire {
    /// The snapshot URL when the webcam is enabled and has one.
    pub fn snapshot(&self) -> Option<&str> {
        self.snapshot_url
            .as_deref()
            .map(str::trim)
            .filter(|u| self.enabled && !u.is_empty())
    }
}

/// `GET /server/gcode_store`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GcodeStore {
    /// The latest commands and responses, oldest first.
    #[serde(default, deserialize_with = "lenient::list")]
    pub gcode_store: Vec<GcodeStoreEntry>,
}

/// One command or response of the G-code store.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct GcodeStoreEntry {
    /// The text.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub message: String,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient::f64")]
    pub time: Option<f64>,
    /// `command` or `response`.
    #[serde(
        default,
        deserialize_with = "lenient::string_or_empty",
        rename = "type"
    )]
    pub kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_and_huge_numbers_are_absent() {
        let f: FileItem = serde_json::from_value(json!({
            "path": 7, "modified": "yesterday", "size": 1e300, "permissions": null
        }))
        .unwrap();
        assert_eq!(f, FileItem::default());
        let f: FileItem =
            serde_json::from_value(json!({"path": "a.gcode", "size": -1, "modified": 5.5}))
                .unwrap();
        assert_eq!(
            (f.path.as_str(), f.size, f.modified),
            ("a.gcode", None, Some(5.5))
        );
        let h: HistoryList =
            serde_json::from_value(json!({"count": "x", "jobs": [1, {"job_id": "01"}, "x"]}))
                .unwrap();
        assert_eq!(h.jobs.len(), 1);
        assert_eq!(whole(&json!(u64::MAX)), None);
        assert_eq!(whole(&json!(3.0)), Some(3));
        assert_eq!(whole(&json!(3.5)), None);
        assert_eq!(epoch_seconds(Some(1e300)), None);
        assert_eq!(epoch_seconds(Some(1_796_160_630.9)), Some(1_796_160_630));
        // The same fields read straight from text (no Value in between): lists keep their
        // strings only, and nested or odd values are skipped without failing the body.
        let i: ServerInfo = serde_json::from_str(
            r#"{"klippy_connected": "true", "klippy_state": {"a": [1, {"b": null}]},
                "components": ["history", 1, null, ["webcam"], {"x": "y"}, "job_queue"],
                "failed_components": {"k": "v"}, "moonraker_version": ["0.9"],
                "api_version_string": "1.5.0", "missing_klippy_requirements": null}"#,
        )
        .unwrap();
        assert_eq!(
            i,
            ServerInfo {
                components: vec!["history".into(), "job_queue".into()],
                api_version_string: Some("1.5.0".into()),
                ..ServerInfo::default()
            }
        );
        let m: FileMeta = serde_json::from_str(
            r#"{"size": 9007199254740992, "layer_count": 9007199254740993, "modified": -2,
                "estimated_time": "soon", "filament_total": 12, "first_layer_height": true,
                "object_height": -0.5, "layer_height": 2.0}"#,
        )
        .unwrap();
        assert_eq!(
            (m.size, m.layer_count, m.modified, m.filament_total),
            (Some(MAX_WHOLE), None, Some(-2.0), Some(12.0))
        );
        assert_eq!(
            (m.first_layer_height, m.object_height, m.estimated_time),
            (None, Some(-0.5), None)
        );
        let w: WebcamWire =
            serde_json::from_value(json!({"name": "c", "snapshot_url": "  "})).unwrap();
        assert!(w.enabled && w.snapshot().is_none());
    }
}
