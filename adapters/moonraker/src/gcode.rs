//! The G-code this adapter sends through `POST /printer/gcode/script`, and the check that
//! refuses a command Klipper does not know (Klipper answers `ok` to an unknown command and
//! only logs `// Unknown command:"FOO"`).

use std::collections::BTreeSet;

use polyprint::validate::Axis;
use polyprint::Error;

/// The standard G-codes every Klipper has (Klipper's `G-Codes.md`, "standard G-Code
/// commands"), apart from those a config section adds ([`SECTION_GCODES`]).
pub const STANDARD_GCODES: &[&str] = &[
    "G0", "G1", "G4", "G28", "G90", "G91", "G92", "M18", "M82", "M83", "M84", "M104", "M105",
    "M109", "M112", "M114", "M115", "M140", "M190", "M204", "M220", "M221", "M400",
];

/// G-codes a config section adds, with the printer object that section creates. Klipper
/// registers them without a help text, so `printer/gcode/help` does not list them.
pub const SECTION_GCODES: &[(&str, &[&str])] = &[
    ("fan", &["M106", "M107"]),
    ("display_status", &["M73", "M117"]),
    (
        "virtual_sdcard",
        &["M20", "M21", "M23", "M24", "M25", "M26", "M27"],
    ),
    ("firmware_retraction", &["G10", "G11"]),
];

/// G-codes an extended command's presence brings along (`[respond]` has `RESPOND` and
/// `M118`).
const COMPANION_GCODES: &[(&str, &str)] = &[("RESPOND", "M118")];

/// The command word of a G-code line as Klipper reads it, upper case: `G1` of `g1 x10` and of
/// `G1X10`, `G1` of `G01`, `SET_HEATER_TEMPERATURE` of `set_heater_temperature heater=…`.
/// `None` for a comment line.
pub fn command_word(line: &str) -> Option<String> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with(';') {
        return None;
    }
    let word: String = line
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut chars = word.chars();
    let first = chars.next()?;
    if matches!(first, 'G' | 'M' | 'T') {
        let digits: String = chars.take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            let n = digits.trim_start_matches('0');
            return Some(format!("{first}{}", if n.is_empty() { "0" } else { n }));
        }
    }
    Some(word)
}

/// The commands a printer knows: its `printer/gcode/help` (extended commands and macros),
/// the standard G-codes, and those of its config sections (from `printer/objects/list`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownCommands(BTreeSet<String>);

impl KnownCommands {
    /// Built from the help's command names and the printer's objects.
    pub fn new<'a>(
        help: impl IntoIterator<Item = &'a str>,
        objects: impl IntoIterator<Item = &'a str> + Clone,
    ) -> KnownCommands {
        let mut known: BTreeSet<String> = help
            .into_iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .collect();
        for (extended, gcode) in COMPANION_GCODES {
            if known.contains(*extended) {
                known.insert(gcode.to_string());
            }
        }
        known.extend(STANDARD_GCODES.iter().map(|c| c.to_string()));
        for (object, codes) in SECTION_GCODES {
            if objects.clone().into_iter().any(|o| o == *object) {
                known.extend(codes.iter().map(|c| c.to_string()));
            }
        }
        KnownCommands(known)
    }

    /// Whether the printer knows the command of `line` (a comment line is fine).
    pub fn knows(&self, line: &str) -> bool {
        command_word(line).is_none_or(|w| self.0.contains(&w))
    }

    /// `InvalidArgument` naming the first line whose command the printer does not know.
    pub fn check(&self, lines: &[String]) -> polyprint::Result<()> {
        for (i, line) in lines.iter().enumerate() {
            if !self.knows(line) {
                let word = command_word(line).unwrap_or_default();
                return Err(Error::invalid(
                    format!("G-code line {}", i + 1),
                    format!(
                        "this Klipper has no command {word:?} (it would answer ok and do \
                         nothing); see its printer/gcode/help"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A length in mm as G-code takes it: at most three decimals, no exponent.
pub fn mm(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The name of the G-code state polyprint saves around its own relative moves.
pub const SAVED_STATE: &str = "POLYPRINT_STATE";

/// The script of a relative move: the G-code state is saved, the move made in relative mode
/// and the state restored, so the printer's own mode (absolute, relative) is left as it was.
pub fn jog_script(moves: &[(Axis, f64)], feed_mm_min: f64) -> String {
    let mut g1 = String::from("G1");
    for (axis, d) in moves {
        g1.push(' ');
        g1.push_str(&axis.letter().to_ascii_uppercase());
        g1.push_str(&mm(*d));
    }
    g1.push_str(&format!(" F{}", mm(feed_mm_min)));
    format!(
        "SAVE_GCODE_STATE NAME={SAVED_STATE}\nG91\n{g1}\nRESTORE_GCODE_STATE NAME={SAVED_STATE}"
    )
}

/// The feed rate of an extrusion, mm/min (5 mm/s: well within Klipper's default
/// `max_extrude_only_velocity`).
pub const EXTRUDE_FEED: f64 = 300.0;

/// The script of an extrusion (negative: a retraction), in relative extrusion mode, the
/// G-code state saved and restored around it.
pub fn extrude_script(mm_of_filament: f64) -> String {
    format!(
        "SAVE_GCODE_STATE NAME={SAVED_STATE}\nM83\nG1 E{} F{}\nRESTORE_GCODE_STATE NAME={SAVED_STATE}",
        mm(mm_of_filament),
        mm(EXTRUDE_FEED)
    )
}

/// The line that restores the saved state after a script failed half-way (Klipper stops a
/// script at its first error, so the restore at its end did not run).
pub fn restore_line() -> String {
    format!("RESTORE_GCODE_STATE NAME={SAVED_STATE}")
}

/// `G28` with the given axes (all three: every axis).
pub fn home_script(axes: &[Axis]) -> String {
    let mut s = String::from("G28");
    for a in axes {
        s.push(' ');
        s.push_str(&a.letter().to_ascii_uppercase());
    }
    s
}

/// `SET_HEATER_TEMPERATURE HEATER=<name> TARGET=<°C>`: Klipper's own command, for any heater.
pub fn target_script(heater_name: &str, celsius: f64) -> String {
    let t = format!("{celsius:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("SET_HEATER_TEMPERATURE HEATER={heater_name} TARGET={t}")
}

/// Whether an object name of `exclude_object` can go into `EXCLUDE_OBJECT NAME=…` as it is:
/// printable ASCII with no space, quote, `;`, `#`, `*` or `=` (which would end, comment or
/// split the parameter). Klipper's own names (upper-cased, from the file's
/// `EXCLUDE_OBJECT_DEFINE`) are; a name that is not is never sent.
pub fn safe_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | ';' | '#' | '*' | '='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words() {
        for (line, word) in [
            ("G1 X10", Some("G1")),
            ("g1x10 y5", Some("G1")),
            ("G01 X1", Some("G1")),
            ("M104 S200", Some("M104")),
            (
                "  set_heater_temperature heater=extruder",
                Some("SET_HEATER_TEMPERATURE"),
            ),
            ("T0", Some("T0")),
            ("G0", Some("G0")),
            ("; a comment", None),
            ("M117;note", Some("M117")),
            ("FOO_BAR", Some("FOO_BAR")),
        ] {
            assert_eq!(command_word(line).as_deref(), word, "{line}");
        }
    }

    #[test]
    fn unknown_commands_are_refused() {
        let known = KnownCommands::new(
            ["SET_HEATER_TEMPERATURE", "pause", "RESPOND"],
            ["display_status", "extruder"],
        );
        for ok in [
            "G28",
            "M117 hi",
            "PAUSE",
            "set_heater_temperature heater=x",
            "M118 x",
            "; c",
        ] {
            assert!(known.knows(ok), "{ok}");
        }
        for bad in ["FOO_BAR", "M106 S100", "M600", "G29", "T1"] {
            assert!(!known.knows(bad), "{bad}");
        }
        let err = known
            .check(&["G28".into(), "FOO_BAR X=1".into()])
            .unwrap_err();
        assert!(
            err.to_string().contains("line 2") && err.to_string().contains("FOO_BAR"),
            "{err}"
        );
    }

    #[test]
    fn scripts() {
        assert_eq!(
            jog_script(&[(Axis::X, 10.0), (Axis::Y, -0.25)], 3000.0),
            "SAVE_GCODE_STATE NAME=POLYPRINT_STATE\nG91\nG1 X10 Y-0.25 F3000\nRESTORE_GCODE_STATE NAME=POLYPRINT_STATE"
        );
        assert_eq!(
            extrude_script(-2.0),
            "SAVE_GCODE_STATE NAME=POLYPRINT_STATE\nM83\nG1 E-2 F300\nRESTORE_GCODE_STATE NAME=POLYPRINT_STATE"
        );
        assert_eq!(home_script(&[Axis::X, Axis::Z]), "G28 X Z");
        assert_eq!(
            target_script("heater_bed", 60.0),
            "SET_HEATER_TEMPERATURE HEATER=heater_bed TARGET=60"
        );
        assert_eq!(
            target_script("extruder", 212.55),
            "SET_HEATER_TEMPERATURE HEATER=extruder TARGET=212.55"
        );
        assert_eq!(mm(1e-9), "0");
        assert_eq!(mm(250.0), "250");
        assert!(safe_object_name("PART_B"));
        for bad in ["", "A B", "A\nM112", "A;B", "A\"", "Ü", "A=B"] {
            assert!(!safe_object_name(bad), "{bad:?}");
        }
    }
}
