//! A printer's supported commands: checking a command and its arguments against the
//! definitions before anything is sent, and deriving features and limits from them.
//!
//! The list is per printer and per firmware and may name a command twice (`CANCEL_OBJECT`,
//! with and without a G-code template); the first definition is used.

use std::sync::{Arc, Mutex, Weak};

use polyprint::{Error, Feature, Features, Limits, Result};
use serde_json::{Map, Value};

use crate::wire::CommandDefinition;

/// The commands one printer supports, as its supported-commands list says.
///
/// Printers of one model and firmware have the same list (48 definitions, about 49 KiB
/// decoded), so identical lists are shared: a fleet of a thousand printers holds one copy per
/// distinct list, not one per printer. Cloning is a reference count.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandSet {
    defs: Arc<[CommandDefinition]>,
}

impl Default for CommandSet {
    fn default() -> Self {
        CommandSet::new(Vec::new())
    }
}

/// Every distinct definition list alive in this process.
static INTERNED: Mutex<Vec<Weak<[CommandDefinition]>>> = Mutex::new(Vec::new());

impl CommandSet {
    /// Wraps the definitions, sharing them with any printer that has the same list.
    pub fn new(defs: Vec<CommandDefinition>) -> CommandSet {
        let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        interned.retain(|w| w.strong_count() > 0);
        if let Some(shared) = interned
            .iter()
            .filter_map(Weak::upgrade)
            .find(|d| **d == *defs)
        {
            return CommandSet { defs: shared };
        }
        let defs: Arc<[CommandDefinition]> = defs.into();
        interned.push(Arc::downgrade(&defs));
        CommandSet { defs }
    }

    /// Every definition, duplicates included, in the server's order.
    pub fn definitions(&self) -> &[CommandDefinition] {
        &self.defs
    }

    /// The (first) definition of a command.
    pub fn get(&self, name: &str) -> Option<&CommandDefinition> {
        self.defs.iter().find(|d| d.command == name)
    }

    /// Whether the printer supports a command.
    pub fn supports(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Checks a command and its arguments: the command exists, every required argument is
    /// given, no unknown argument is given, each has its declared type, and numbers lie within
    /// `min_limit..=max_limit`. Everything is [`Error::InvalidArgument`].
    pub fn check(&self, name: &str, kwargs: &Map<String, Value>) -> Result<&CommandDefinition> {
        let def = self.get(name).ok_or_else(|| {
            Error::invalid(
                "command",
                format!("{name:?} is not supported by this printer"),
            )
        })?;
        for arg in &def.args {
            if arg.required && arg.input && !kwargs.contains_key(&arg.name) {
                return Err(Error::invalid(
                    format!("{name} argument"),
                    format!("{:?} is required", arg.name),
                ));
            }
        }
        for (key, value) in kwargs {
            let Some(arg) = def.args.iter().find(|a| &a.name == key) else {
                return Err(Error::invalid(
                    format!("{name} argument"),
                    format!("{key:?} is not an argument of {name}"),
                ));
            };
            let what = format!("{name} argument {key:?}");
            let type_ok = match arg.kind.as_str() {
                "string" => value.is_string(),
                // An integral float (`60.0`, as Python clients send it) is an integer; a
                // fractional one is not.
                "integer" => {
                    value.is_i64()
                        || value.is_u64()
                        || value
                            .as_f64()
                            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
                }
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                _ => true,
            };
            if !type_ok {
                return Err(Error::invalid(
                    what,
                    format!("must be of type {}, got {value}", arg.kind),
                ));
            }
            if let Some(v) = value.as_f64() {
                if arg.min_limit.is_some_and(|min| v < min)
                    || arg.max_limit.is_some_and(|max| v > max)
                {
                    return Err(Error::invalid(
                        what,
                        format!(
                            "{v} is outside {}..={}{}",
                            arg.min_limit.map_or("".into(), |m| m.to_string()),
                            arg.max_limit.map_or("".into(), |m| m.to_string()),
                            arg.unit
                                .as_deref()
                                .map(|u| format!(" {u}"))
                                .unwrap_or_default()
                        ),
                    ));
                }
            }
        }
        Ok(def)
    }

    /// Whether a command can run from a printer state, per its `executable_from_state`
    /// (`None` when the command is unknown).
    pub fn executable_from(&self, name: &str, printer_state: &str) -> Option<bool> {
        self.get(name)
            .map(|d| d.executable_from_state.iter().any(|s| s == printer_state))
    }

    /// Narrows declared features to what this printer supports.
    pub fn narrow(&self, declared: Features) -> Features {
        let mut f = declared;
        let mut need = |feature: Feature, ok: bool| {
            if !ok {
                f.remove(feature);
            }
        };
        need(Feature::PrintStart, self.supports("START_PRINT"));
        need(
            Feature::PauseResume,
            self.supports("PAUSE_PRINT") && self.supports("RESUME_PRINT"),
        );
        need(Feature::Cancel, self.supports("STOP_PRINT"));
        need(Feature::ObjectCancel, self.supports("CANCEL_OBJECT"));
        need(Feature::FileDelete, self.supports("DELETE_FILE"));
        need(
            Feature::TemperatureControl,
            self.supports("SET_NOZZLE_TEMPERATURE") || self.supports("SET_HEATBED_TEMPERATURE"),
        );
        need(
            Feature::AxisMovement,
            self.supports("MOVE") && self.supports("MOVE_Z"),
        );
        need(Feature::Homing, self.supports("HOME"));
        need(Feature::Extrusion, self.supports("MOVE_E"));
        need(
            Feature::LightControl,
            self.supports("SET_CHAMBER_LED_INTENSITY"),
        );
        need(Feature::GCode, self.supports("SEND_GCODE"));
        f
    }

    fn max_of(&self, command: &str, arg: &str) -> Option<f64> {
        self.get(command)?
            .args
            .iter()
            .find(|a| a.name == arg)?
            .max_limit
    }

    /// The printer's limits: nozzle and bed maxima from `SET_NOZZLE_TEMPERATURE` and
    /// `SET_HEATBED_TEMPERATURE`, extrusion from `MOVE_E`; defaults elsewhere.
    pub fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(m) = self.max_of("SET_NOZZLE_TEMPERATURE", "nozzle_temperature") {
            l.tool_max = m;
        }
        if let Some(m) = self.max_of("SET_HEATBED_TEMPERATURE", "bed_temperature") {
            l.bed_max = m;
        }
        if let Some(m) = self.max_of("MOVE_E", "length") {
            l.extrude_max_mm = m;
        }
        l
    }

    /// The lowest nozzle temperature `MOVE_E` accepts, if the printer says.
    pub fn min_extrude_temp(&self) -> Option<f64> {
        self.get("MOVE_E")?.min_temp_nozzle_e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> CommandSet {
        let defs: Vec<CommandDefinition> = serde_json::from_value(json!([
            {"command": "MOVE_E", "args": [
                {"name": "feedrate", "type": "integer", "required": true, "input": true, "output": true,
                 "description": "", "max_limit": 240, "min_limit": 0, "default": 240},
                {"name": "length", "type": "number", "required": true, "input": true, "output": true,
                 "description": "", "max_limit": 100, "min_limit": -10, "default": 10}],
             "description": "Extrude", "duplicates_allowed": true,
             "executable_from_state": ["IDLE"], "min_temp_nozzle_e": 170},
            {"command": "PAUSE_PRINT", "args": [], "description": "", "duplicates_allowed": false,
             "executable_from_state": ["PRINTING"]}
        ]))
        .unwrap();
        CommandSet::new(defs)
    }

    fn kw(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn identical_lists_are_one_copy_and_a_dropped_one_is_forgotten() {
        let (a, b) = (set(), set());
        assert!(Arc::ptr_eq(&a.defs, &b.defs), "the same list is shared");
        let mut other = a.definitions().to_vec();
        other.pop();
        let c = CommandSet::new(other);
        assert!(!Arc::ptr_eq(&a.defs, &c.defs), "another list is its own");
        assert_eq!(c.definitions().len(), 1);
        let weak = Arc::downgrade(&c.defs);
        drop(c);
        assert!(weak.upgrade().is_none(), "no printer holds it: freed");
    }

    #[test]
    fn checks_names_required_types_and_ranges() {
        let s = set();
        assert!(s
            .check("MOVE_E", &kw(json!({"feedrate": 240, "length": 5.5})))
            .is_ok());
        // An integral float is an integer (Python clients send `240.0`).
        assert!(s
            .check("MOVE_E", &kw(json!({"feedrate": 240.0, "length": 5.5})))
            .is_ok());
        let bad = [
            ("NOPE", json!({})),
            ("MOVE_E", json!({"feedrate": 240})),
            ("MOVE_E", json!({"feedrate": "fast", "length": 1})),
            ("MOVE_E", json!({"feedrate": 1.5, "length": 1})),
            ("MOVE_E", json!({"feedrate": 240, "length": -11})),
            ("MOVE_E", json!({"feedrate": 241, "length": 1})),
            ("MOVE_E", json!({"feedrate": 240, "length": 1, "extra": 1})),
        ];
        for (name, args) in bad {
            let err = s.check(name, &kw(args.clone())).unwrap_err();
            assert!(
                matches!(err, Error::InvalidArgument { .. }),
                "{name} {args}: {err}"
            );
        }
        assert_eq!(s.executable_from("PAUSE_PRINT", "PRINTING"), Some(true));
        assert_eq!(s.executable_from("PAUSE_PRINT", "IDLE"), Some(false));
        assert_eq!(s.executable_from("NOPE", "IDLE"), None);
        assert_eq!(s.min_extrude_temp(), Some(170.0));
        assert_eq!(s.limits().extrude_max_mm, 100.0);
    }

    #[test]
    fn narrows_features() {
        let f = set().narrow(Features::all());
        assert!(f.contains(Feature::Extrusion));
        assert!(!f.contains(Feature::PauseResume), "no RESUME_PRINT");
        assert!(!f.contains(Feature::PrintStart));
        assert!(f.contains(Feature::FileList), "not a command: left alone");
    }
}
