//! What Klipper does with print control and G-code, over the virtual printer: the mock's
//! `/printer/print/*` routes and `POST /printer/gcode/script`.
//!
//! Quirks kept (each answers `ok`, as Klipper does): resume when not paused, pause when
//! paused, cancel without a job; pause while idle sets the pause flag with `print_stats`
//! still `standby`; start while paused abandons the paused job and starts the new file with
//! the pause flag still set (a later resume is 400 `SD busy`); an unknown command only logs
//! `// Unknown command:"FOO"`; `EXCLUDE_OBJECT` upper-cases names and takes any. A script
//! stops at its first failing line.

use std::collections::HashMap;

use polyprint::sim::{Phase, SimError, SimGuard, SimView, CANCELLING};
use polyprint::Heater;

use super::render::{
    self, object_names, Fail, Klippy, AXIS_MAX, BED_MAX_TEMP, CHAMBER_MAX_TEMP, MAX_EXTRUDE_ONLY,
    MIN_EXTRUDE_TEMP, TOOL_MAX_TEMP,
};
use super::MockState;
use crate::gcode::{command_word, KnownCommands};

/// The reason of an emergency stop requested over the API.
pub const ESTOP_REASON: &str = "Shutdown due to webhooks request";

fn not_ready(k: &Klippy) -> Fail {
    Fail::Klippy(k.message.clone())
}

fn active(view: &SimView) -> bool {
    matches!(
        view.phase,
        Phase::Printing
            | Phase::Pausing(_)
            | Phase::Resuming(_)
            | Phase::Cancelling(_)
            | Phase::Paused
    )
}

/// `SDCARD_PRINT_FILE`: `POST /printer/print/start`.
pub fn start(g: &mut SimGuard<'_>, st: &mut MockState, k: &Klippy, file: &str) -> Result<(), Fail> {
    if !k.ready() {
        return Err(not_ready(k));
    }
    let view = g.view();
    match view.phase {
        Phase::Paused => {
            // Klipper closes the paused job and opens the new file; the pause flag stays.
            let _ = g.cancel();
            g.advance(CANCELLING);
            st.stuck_paused = true;
        }
        ref p if active(&view) && !matches!(p, Phase::Paused) => {
            return Err(Fail::Klippy("SD busy".into()));
        }
        _ => {}
    }
    if g.file(file).is_none() {
        // The attempt resets the last job to standby before it fails.
        st.reset_job = g.view().job.map(|j| j.id);
        return Err(Fail::Klippy("Unable to open file".into()));
    }
    if st.idle_paused {
        st.stuck_paused = true;
        st.idle_paused = false;
    }
    g.start(file).map_err(|e| Fail::Klippy(e.to_string()))?;
    st.reset_job = None;
    st.fresh = false;
    Ok(())
}

/// `PAUSE`: `POST /printer/print/pause`.
pub fn pause(g: &mut SimGuard<'_>, st: &mut MockState, k: &Klippy) -> Result<(), Fail> {
    if !k.ready() {
        return Err(not_ready(k));
    }
    let view = g.view();
    match view.phase {
        Phase::Printing | Phase::Resuming(_) => {
            let _ = g.pause();
        }
        Phase::Pausing(_) | Phase::Paused | Phase::Cancelling(_) => {}
        _ => {
            st.idle_paused = true;
            st.fresh = false;
        }
    }
    Ok(())
}

/// `RESUME`: `POST /printer/print/resume`.
pub fn resume(g: &mut SimGuard<'_>, st: &mut MockState, k: &Klippy) -> Result<(), Fail> {
    if !k.ready() {
        return Err(not_ready(k));
    }
    let view = g.view();
    if st.stuck_paused && active(&view) {
        return Err(Fail::Klippy("SD busy".into()));
    }
    match view.phase {
        Phase::Paused => {
            let _ = g.resume();
        }
        _ => st.idle_paused = false,
    }
    Ok(())
}

/// `CANCEL_PRINT`: `POST /printer/print/cancel`.
pub fn cancel(g: &mut SimGuard<'_>, st: &mut MockState, k: &Klippy) -> Result<(), Fail> {
    if !k.ready() {
        return Err(not_ready(k));
    }
    let view = g.view();
    if active(&view) {
        let _ = g.cancel();
        // The macro turns the heaters off.
        for h in view.heaters {
            let _ = g.set_target(h.heater, 0.0);
        }
    }
    st.idle_paused = false;
    st.stuck_paused = false;
    Ok(())
}

/// `M112` / `POST /printer/emergency_stop`.
pub fn emergency_stop(g: &mut SimGuard<'_>, st: &mut MockState) {
    g.fail(ESTOP_REASON);
    st.homed.clear();
    st.idle_paused = false;
    st.stuck_paused = false;
}

/// `FIRMWARE_RESTART`, `RESTART`: Klippy starts again; the job is gone.
pub fn restart(g: &mut SimGuard<'_>, st: &mut MockState) {
    g.disconnect();
    g.connect();
    st.after_restart();
}

/// One parsed line: the command and its parameters (`X10` → `X`: `10`; `NAME=a` → `NAME`:
/// `a`), and the rest of the line (for `M117`).
struct Line {
    command: String,
    params: HashMap<String, String>,
    rest: String,
}

fn parse(line: &str) -> Option<Line> {
    let command = command_word(line)?;
    let code = line.split(';').next().unwrap_or_default().trim();
    let first = code.split_whitespace().next().unwrap_or_default();
    let rest = code
        .get(first.len()..)
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut params = HashMap::new();
    let traditional = matches!(command.as_bytes().first(), Some(b'G' | b'M' | b'T'))
        && command[1..].bytes().all(|b| b.is_ascii_digit());
    if traditional {
        // `G1X10Y5`: the parameters may follow the command's number without a space.
        let glued: String = first
            .chars()
            .skip(1)
            .skip_while(char::is_ascii_digit)
            .collect();
        let mut words: Vec<String> = Vec::new();
        for c in glued.chars() {
            match words.last_mut() {
                Some(w) if !c.is_ascii_alphabetic() => w.push(c),
                _ => words.push(c.to_string()),
            }
        }
        words.extend(rest.split_whitespace().map(str::to_string));
        for w in words {
            let mut chars = w.chars();
            if let Some(letter) = chars.next() {
                params.insert(
                    letter.to_ascii_uppercase().to_string(),
                    chars.as_str().to_string(),
                );
            }
        }
    } else {
        for w in rest.split_whitespace() {
            if let Some((k, v)) = w.split_once('=') {
                params.insert(k.to_ascii_uppercase(), v.to_string());
            }
        }
    }
    Some(Line {
        command,
        params,
        rest,
    })
}

/// The commands the mock's Klipper knows.
pub fn known() -> KnownCommands {
    KnownCommands::new(
        render::GCODE_HELP.iter().map(|(c, _)| *c),
        [
            "display_status",
            "virtual_sdcard",
            "exclude_object",
            "extruder",
            "heater_bed",
        ],
    )
}

fn number(line: &str, v: &str) -> Result<f64, Fail> {
    v.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| Fail::Klippy(format!("Unable to parse move '{line}'")))
}

fn target(raw: &str, heater: Heater, celsius: &str) -> Result<(Heater, f64), Fail> {
    let t: f64 = celsius
        .parse()
        .map_err(|_| Fail::Klippy(format!("Error on '{raw}': unable to parse {celsius}")))?;
    let max = match heater {
        Heater::Tool(_) => TOOL_MAX_TEMP,
        Heater::Bed => BED_MAX_TEMP,
        Heater::Chamber => CHAMBER_MAX_TEMP,
    };
    if t != 0.0 && !(0.0..=max).contains(&t) {
        return Err(Fail::Klippy(format!(
            "Requested temperature ({t:.1}) out of range (0.0:{max:.1})"
        )));
    }
    Ok((heater, t))
}

/// Runs a script line by line; stops at the first failing line, as Klipper does.
pub fn run(script: &str, g: &mut SimGuard<'_>, st: &mut MockState, k: &Klippy) -> Result<(), Fail> {
    let known = known();
    // Klipper's idle timeout leaves `Idle` with the first command it runs.
    if k.ready() {
        st.fresh = false;
    }
    for raw in script.split('\n') {
        let raw = raw.trim_end_matches('\r');
        let Some(line) = parse(raw) else { continue };
        st.log_command(raw.trim());
        let result = if !k.ready()
            && !matches!(
                line.command.as_str(),
                "M105" | "M115" | "M112" | "STATUS" | "HELP" | "FIRMWARE_RESTART" | "RESTART"
            ) {
            Err(not_ready(k))
        } else {
            let _ = g.gcode(&[raw.trim().to_string()]);
            if known.knows(raw) {
                execute(&line, raw.trim(), g, st, k)
            } else {
                st.log_response(&format!("// Unknown command:\"{}\"", line.command));
                Ok(())
            }
        };
        if let Err(f) = result {
            let text = match &f {
                Fail::Klippy(t) | Fail::Text(_, t) => t.clone(),
                Fail::Reason(_, _, t) => t.clone(),
                Fail::NotConnected => crate::errors::KLIPPY_NOT_CONNECTED.into(),
            };
            st.log_response(&format!("!! {}", text.lines().next().unwrap_or_default()));
            return Err(f);
        }
    }
    Ok(())
}

fn execute(
    line: &Line,
    raw: &str,
    g: &mut SimGuard<'_>,
    st: &mut MockState,
    k: &Klippy,
) -> Result<(), Fail> {
    let p = |name: &str| line.params.get(name).map(String::as_str);
    match line.command.as_str() {
        "G28" => {
            let axes: Vec<char> = ['X', 'Y', 'Z']
                .into_iter()
                .filter(|a| line.params.contains_key(&a.to_string()))
                .collect();
            let axes = if axes.is_empty() {
                vec!['X', 'Y', 'Z']
            } else {
                axes
            };
            g.home(
                axes.contains(&'X'),
                axes.contains(&'Y'),
                axes.contains(&'Z'),
            )
            .map_err(|e| Fail::Klippy(e.to_string()))?;
            for a in axes {
                let a = a.to_ascii_lowercase();
                if !st.homed.contains(a) {
                    st.homed.push(a);
                }
            }
            let mut sorted: Vec<char> = st.homed.chars().collect();
            sorted.sort_unstable();
            st.homed = sorted.into_iter().collect();
            Ok(())
        }
        "G90" => {
            st.relative = false;
            Ok(())
        }
        "G91" => {
            st.relative = true;
            Ok(())
        }
        "M82" => {
            st.relative_e = false;
            Ok(())
        }
        "M83" => {
            st.relative_e = true;
            Ok(())
        }
        "G0" | "G1" => move_head(line, raw, g, st),
        "M104" | "M109" => {
            let tool = p("T").and_then(|t| t.parse::<u8>().ok()).unwrap_or(0);
            let (h, t) = target(raw, Heater::Tool(tool), p("S").unwrap_or("0"))?;
            g.set_target(h, t).map_err(|e| Fail::Klippy(e.to_string()))
        }
        "M140" | "M190" => {
            let (h, t) = target(raw, Heater::Bed, p("S").unwrap_or("0"))?;
            g.set_target(h, t).map_err(|e| Fail::Klippy(e.to_string()))
        }
        "SET_HEATER_TEMPERATURE" => {
            let name = p("HEATER").unwrap_or_default().to_ascii_lowercase();
            let heater = match name.as_str() {
                "extruder" => Heater::Tool(0),
                "heater_bed" => Heater::Bed,
                "chamber" if g.view().heaters.iter().any(|h| h.heater == Heater::Chamber) => {
                    Heater::Chamber
                }
                _ => {
                    return Err(Fail::Klippy(format!(
                        "Error on '{raw}': unknown heater '{name}'"
                    )))
                }
            };
            let (h, t) = target(raw, heater, p("TARGET").unwrap_or("0"))?;
            g.set_target(h, t).map_err(|e| Fail::Klippy(e.to_string()))
        }
        "TURN_OFF_HEATERS" => {
            for h in g.view().heaters {
                let _ = g.set_target(h.heater, 0.0);
            }
            Ok(())
        }
        "SAVE_GCODE_STATE" => {
            let name = p("NAME").unwrap_or("default").to_string();
            st.saved.insert(name, (st.relative, st.relative_e));
            Ok(())
        }
        "RESTORE_GCODE_STATE" => {
            let name = p("NAME").unwrap_or("default");
            let (r, e) = *st
                .saved
                .get(name)
                .ok_or_else(|| Fail::Klippy(format!("Unknown g-code state: {name}")))?;
            st.relative = r;
            st.relative_e = e;
            Ok(())
        }
        "EXCLUDE_OBJECT" => {
            if let Some(name) = p("NAME") {
                let name = name.to_ascii_uppercase();
                let view = g.view();
                if let Some(i) = object_names(&view).iter().position(|n| *n == name) {
                    if let Some(o) = view.objects.get(i) {
                        let _ = g.cancel_object(o.id);
                    }
                }
                if !st.excluded.contains(&name) {
                    st.excluded.push(name);
                    st.excluded.sort();
                }
            }
            Ok(())
        }
        "SDCARD_RESET_FILE" => {
            let view = g.view();
            if active(&view) {
                let _ = g.cancel();
                g.advance(CANCELLING);
            }
            st.reset_job = g.view().job.map(|j| j.id);
            Ok(())
        }
        "SET_GCODE_OFFSET" => match line.params.values().find(|v| v.parse::<f64>().is_err()) {
            Some(v) => Err(Fail::Klippy(format!(
                "Error on '{raw}': unable to parse {v}"
            ))),
            None => Ok(()),
        },
        "M117" => {
            st.display_message = Some(line.rest.clone()).filter(|m| !m.is_empty());
            Ok(())
        }
        "SET_DISPLAY_TEXT" => {
            st.display_message = p("MSG").map(str::to_string);
            Ok(())
        }
        "M105" => {
            let view = g.view();
            let t = |h: Heater| {
                view.heaters
                    .iter()
                    .find(|x| x.heater == h)
                    .map(|x| (x.actual, x.target))
                    .unwrap_or_default()
            };
            let (bed, bt) = t(Heater::Bed);
            let (tool, tt) = t(Heater::Tool(0));
            st.log_response(&format!("ok B:{bed:.1} /{bt:.1} T0:{tool:.1} /{tt:.1}"));
            Ok(())
        }
        "M112" => {
            emergency_stop(g, st);
            Ok(())
        }
        "FIRMWARE_RESTART" | "RESTART" => {
            restart(g, st);
            Ok(())
        }
        "PAUSE" | "BASE_PAUSE" => pause(g, st, k),
        "RESUME" | "BASE_RESUME" => resume(g, st, k),
        "CANCEL_PRINT" | "BASE_CANCEL_PRINT" => cancel(g, st, k),
        _ => Ok(()),
    }
}

/// `G0`/`G1`: homed axes, travel, the extruder's temperature and the extrude-only length
/// checked as Klipper checks them.
fn move_head(line: &Line, raw: &str, g: &mut SimGuard<'_>, st: &mut MockState) -> Result<(), Fail> {
    let view = g.view();
    let at = view.position;
    let mut to = at;
    let mut moved = [false; 3];
    for (i, axis) in ["X", "Y", "Z"].iter().enumerate() {
        if let Some(v) = line.params.get(*axis) {
            let v = number(raw, v)?;
            to[i] = if st.relative { at[i] + v } else { v };
            moved[i] = true;
        }
    }
    let e = match line.params.get("E") {
        Some(v) => Some(number(raw, v)?),
        None => None,
    };
    if let Some(f) = line.params.get("F") {
        number(raw, f)?;
    }
    let e_show = e.unwrap_or(0.0);
    let shown = format!("{:.3} {:.3} {:.3} [{:.3}]", to[0], to[1], to[2], e_show);
    let letters = ['x', 'y', 'z'];
    if (0..3).any(|i| moved[i] && !st.homed.contains(letters[i])) {
        return Err(Fail::Klippy(format!("Must home axis first: {shown}")));
    }
    if (0..3).any(|i| moved[i] && !(0.0..=AXIS_MAX).contains(&to[i])) {
        return Err(Fail::Klippy(format!("Move out of range: {shown}")));
    }
    if let Some(e) = e.filter(|e| *e != 0.0) {
        let nozzle = view
            .heaters
            .iter()
            .find(|h| h.heater == Heater::Tool(0))
            .map(|h| h.actual)
            .unwrap_or(0.0);
        if nozzle < MIN_EXTRUDE_TEMP {
            return Err(Fail::Klippy(
                "Extrude below minimum temp\nSee the 'min_extrude_temp' config option for details"
                    .into(),
            ));
        }
        if !moved.iter().any(|m| *m) && e.abs() > MAX_EXTRUDE_ONLY {
            return Err(Fail::Klippy(format!(
                "Extrude only move too long ({:.3}mm vs {MAX_EXTRUDE_ONLY:.3}mm)\nSee the 'max_extrude_only_distance' config option for details",
                e.abs()
            )));
        }
    }
    if moved.iter().any(|m| *m) {
        g.jog(to[0] - at[0], to[1] - at[1], to[2] - at[2])
            .map_err(|e: SimError| Fail::Klippy(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_like_klipper() {
        let l = parse("G1X10Y-5.5 F3000").unwrap();
        assert_eq!(l.command, "G1");
        assert_eq!(l.params.get("X").map(String::as_str), Some("10"));
        assert_eq!(l.params.get("Y").map(String::as_str), Some("-5.5"));
        assert_eq!(l.params.get("F").map(String::as_str), Some("3000"));
        let l = parse("set_heater_temperature heater=extruder TARGET=200 ; c").unwrap();
        assert_eq!(l.command, "SET_HEATER_TEMPERATURE");
        assert_eq!(l.params.get("HEATER").map(String::as_str), Some("extruder"));
        assert_eq!(l.params.get("TARGET").map(String::as_str), Some("200"));
        let l = parse("G01X1.5").unwrap();
        assert_eq!(
            (l.command.as_str(), l.params.get("X").map(String::as_str)),
            ("G1", Some("1.5"))
        );
        // Nothing a client sends makes the parser panic.
        for odd in [
            "G1Ü5",
            "Gé",
            "M",
            "G1 X",
            "ÄÖÜ=1",
            "G99999999999999999999",
            "\u{202e}G1",
        ] {
            let _ = parse(odd);
        }
        let l = parse("M117 hello world").unwrap();
        assert_eq!(l.rest, "hello world");
        assert!(parse("; only a comment").is_none());
    }
}
