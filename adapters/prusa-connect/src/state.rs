//! From Prusa Connect's printer states to polyprint's [`PrinterState`], and from a printer
//! detail to a [`PrinterStatus`].

use std::time::Duration;

use polyprint::{Heater, HeaterReading, JobOutcome, JobProgress, PrinterState, PrinterStatus};

use crate::wire;

/// Maps Prusa Connect's states to the common [`PrinterState`]. One pure function; the vendor's
/// word is always kept in [`PrinterStatus::raw_state`].
///
/// `connect_state` is the truth about reachability: `OFFLINE` wins over a sticky
/// `printer_state` (a printer keeps showing its last state, e.g. `ATTENTION`, after it went
/// away). A dialog waiting on a reachable printer's screen (`dialog_info`) means it waits for a
/// person, whatever state it reports.
///
/// | `connect_state` | `printer_state` | dialog | common state |
/// |---|---|---|---|
/// | `OFFLINE` | anything | anything | `Offline` |
/// | other | `IDLE` | no | `Idle` |
/// | other | `READY` (set ready for the next job) | no | `Idle` |
/// | other | `BUSY` | no | `Busy` |
/// | other | `MANIPULATING` (moving, homing, loading) | no | `Busy` |
/// | other | `PRINTING` | no | `Printing` |
/// | other | `PAUSED` | no | `Paused` |
/// | other | `FINISHED` | no | `Finished` |
/// | other | `STOPPED` (job stopped by a user) | no | `Cancelled` |
/// | other | `ATTENTION` | either | `Attention` |
/// | other | `ERROR` | either | `Error` |
/// | other | `UNKNOWN` | no | `Unknown` |
/// | other | anything else or missing | no | `Unknown` |
/// | other | any but `ERROR` | yes | `Attention` |
///
/// When `printer_state` is missing, `connect_state` stands in for it.
pub fn map_state(
    connect_state: Option<&str>,
    printer_state: Option<&str>,
    has_dialog: bool,
) -> PrinterState {
    if connect_state.is_some_and(|c| c.eq_ignore_ascii_case("OFFLINE")) {
        return PrinterState::Offline;
    }
    let word = printer_state.or(connect_state).unwrap_or("UNKNOWN");
    let state = match word.to_ascii_uppercase().as_str() {
        "IDLE" | "READY" => PrinterState::Idle,
        "BUSY" | "MANIPULATING" => PrinterState::Busy,
        "PRINTING" => PrinterState::Printing,
        "PAUSED" => PrinterState::Paused,
        "FINISHED" => PrinterState::Finished,
        "STOPPED" => PrinterState::Cancelled,
        "ATTENTION" => PrinterState::Attention,
        "ERROR" => PrinterState::Error,
        _ => PrinterState::Unknown,
    };
    if has_dialog && state != PrinterState::Error {
        PrinterState::Attention
    } else {
        state
    }
}

/// The printer's own state word: `printer_state`, else the detail's `state`, else
/// `connect_state`, else `UNKNOWN`.
pub fn printer_word(p: &wire::Printer) -> &str {
    p.printer_state
        .as_deref()
        .or(p.state.as_deref())
        .or(p.connect_state.as_deref())
        .unwrap_or("UNKNOWN")
}

/// Whether Connect says the printer is offline.
pub fn is_offline(p: &wire::Printer) -> bool {
    p.connect_state
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("OFFLINE"))
}

/// A job's outcome from its Connect job state.
pub fn job_outcome(state: &str) -> JobOutcome {
    match state {
        "PRINTING" | "PAUSED" => JobOutcome::Running,
        "FIN_OK" | "FIN_HARVESTED" | "FINISHED" => JobOutcome::Finished,
        "FIN_STOPPED" => JobOutcome::Cancelled,
        "FIN_ERROR" => JobOutcome::Failed,
        _ => JobOutcome::Unknown,
    }
}

/// A seconds count that Connect uses 0 or a negative number for when it does not know.
fn known_secs(v: Option<i64>) -> Option<Duration> {
    v.filter(|s| *s > 0).map(|s| Duration::from_secs(s as u64))
}

/// The job progress of `job_info`: `progress` is a percentage; `time_remaining` 0 or -1 is
/// unknown.
pub fn job_progress(j: &wire::JobInfo) -> JobProgress {
    let mut v = JobProgress::new(j.display_name.clone().or_else(|| j.path.clone()));
    v.progress = j
        .progress
        .filter(|p| p.is_finite())
        .map(|p| p.clamp(0.0, 100.0));
    v.elapsed = j
        .time_printing
        .filter(|s| *s >= 0)
        .map(|s| Duration::from_secs(s as u64));
    v.remaining = known_secs(j.time_remaining);
    v
}

/// The dialog text for people: `TITLE: text`.
pub fn dialog_message(d: &wire::DialogInfo) -> Option<String> {
    match (d.title.as_deref(), d.text.as_deref()) {
        (Some(t), Some(x)) => Some(format!("{t}: {x}")),
        (Some(t), None) => Some(t.to_string()),
        (None, Some(x)) => Some(x.to_string()),
        (None, None) => d.key.clone(),
    }
}

/// The common status of a printer detail (or list item).
pub fn status_of(p: &wire::Printer) -> PrinterStatus {
    let offline = is_offline(p);
    let dialog = if offline {
        None
    } else {
        p.dialog_info.as_ref()
    };
    let word = printer_word(p);
    let state = map_state(p.connect_state.as_deref(), Some(word), dialog.is_some());
    let raw = if offline { "OFFLINE" } else { word };
    let mut s = PrinterStatus::new(state, raw);
    s.message = dialog.and_then(dialog_message);
    if offline {
        return s;
    }
    if let Some(t) = &p.temp {
        if let Some(actual) = t.temp_nozzle {
            s.heaters
                .push(HeaterReading::new(Heater::Tool(0), actual, t.target_nozzle));
        }
        if let Some(actual) = t.temp_bed {
            s.heaters
                .push(HeaterReading::new(Heater::Bed, actual, t.target_bed));
        }
    }
    // Further tools (XL): tools "2", "3", ... become Tool(1), Tool(2), ...
    for (key, tool) in &p.tools {
        let Some(n) = key.parse::<u8>().ok().filter(|n| *n >= 2) else {
            continue;
        };
        if let Some(actual) = tool.temp {
            s.heaters
                .push(HeaterReading::new(Heater::Tool(n - 1), actual, None));
        }
    }
    if let Some(c) = &p.chamber {
        if let Some(actual) = c.temp {
            s.heaters
                .push(HeaterReading::new(Heater::Chamber, actual, c.target_temp));
        }
    }
    if let Some(c) = &p.chamber {
        if let Some(i) = c.led_intensity {
            s.lights.push(polyprint::Light::new("chamber", i > 0.0));
        }
    }
    s.job = p.job_info.as_ref().map(job_progress);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrinterState as S;

    #[test]
    fn mapping_table() {
        let rows: &[(Option<&str>, Option<&str>, bool, PrinterState)] = &[
            (Some("OFFLINE"), Some("ATTENTION"), true, S::Offline),
            (Some("OFFLINE"), Some("PRINTING"), false, S::Offline),
            (Some("OFFLINE"), None, false, S::Offline),
            (Some("IDLE"), Some("IDLE"), false, S::Idle),
            (Some("READY"), Some("READY"), false, S::Idle),
            (Some("BUSY"), Some("BUSY"), false, S::Busy),
            (Some("MANIPULATING"), Some("MANIPULATING"), false, S::Busy),
            (Some("PRINTING"), Some("PRINTING"), false, S::Printing),
            (Some("PAUSED"), Some("PAUSED"), false, S::Paused),
            (Some("FINISHED"), Some("FINISHED"), false, S::Finished),
            (Some("STOPPED"), Some("STOPPED"), false, S::Cancelled),
            (Some("ATTENTION"), Some("ATTENTION"), false, S::Attention),
            (Some("ATTENTION"), Some("ATTENTION"), true, S::Attention),
            (Some("ERROR"), Some("ERROR"), false, S::Error),
            (Some("ERROR"), Some("ERROR"), true, S::Error),
            (Some("UNKNOWN"), Some("UNKNOWN"), false, S::Unknown),
            (Some("IDLE"), Some("SOMETHING_NEW"), false, S::Unknown),
            (None, None, false, S::Unknown),
            (Some("PRINTING"), None, false, S::Printing),
            (Some("FINISHED"), Some("FINISHED"), true, S::Attention),
            (Some("IDLE"), Some("IDLE"), true, S::Attention),
        ];
        for (connect, printer, dialog, want) in rows {
            assert_eq!(
                map_state(*connect, *printer, *dialog),
                *want,
                "{connect:?} {printer:?} dialog={dialog}"
            );
        }
    }

    #[test]
    fn job_progress_unknowns() {
        for (remaining, want) in [
            (Some(0), None),
            (Some(-1), None),
            (None, None),
            (Some(60), Some(60)),
        ] {
            let j = wire::JobInfo {
                time_remaining: remaining,
                progress: Some(1.0),
                ..Default::default()
            };
            let p = job_progress(&j);
            assert_eq!(p.remaining, want.map(Duration::from_secs), "{remaining:?}");
            assert_eq!(p.progress, Some(1.0), "a percentage, not a fraction");
        }
    }

    #[test]
    fn job_outcomes() {
        assert_eq!(job_outcome("FIN_OK"), JobOutcome::Finished);
        assert_eq!(job_outcome("FIN_STOPPED"), JobOutcome::Cancelled);
        assert_eq!(job_outcome("FIN_ERROR"), JobOutcome::Failed);
        assert_eq!(job_outcome("PRINTING"), JobOutcome::Running);
        assert_eq!(job_outcome("???"), JobOutcome::Unknown);
    }
}
