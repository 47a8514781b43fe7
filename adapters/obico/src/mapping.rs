//! From Obico's printer document to the common [`PrinterStatus`], in one pure function,
//! `status_from`, plus the small pure helpers it uses (state, heaters, failure verdict) and the
//! mapping of a print to a [`JobRecord`].
//!
//! ## State table
//!
//! Flags decide, the text is kept as `raw_state` (and only breaks ties the flags cannot, such
//! as the Klipper agent's transient texts, which come with no flag of their own):
//!
//! | Obico `status`                                                | common state |
//! |---------------------------------------------------------------|--------------|
//! | `null` (agent offline, or an agentless printer)               | Offline      |
//! | `flags.error`, or the text contains `error`                   | Error        |
//! | `user_interaction_required: true` while paused or printing    | Attention    |
//! | `flags.cancelling` or text `Cancelling`                       | Cancelling   |
//! | `flags.pausing` or text `Pausing`                             | Pausing      |
//! | `flags.resuming` or text `Resuming`                           | Resuming     |
//! | `flags.paused`                                                | Paused       |
//! | text `Starting`, `Starting print from SD`                     | WarmingUp    |
//! | `flags.printing` or `flags.finishing`                         | Printing     |
//! | text `G-Code Downloading`, `Downloading G-Code`, `Sending file to SD`, `Transferring file to SD` | Busy |
//! | `flags.closedOrError` (when absent: not `operational`)        | Offline      |
//! | `flags.operational`                                           | Idle         |
//! | anything else                                                 | Unknown      |
//!
//! Obico does not say whether the last job finished or was cancelled (both agents report
//! `Operational`), so this backend never reports Finished or Cancelled; the history does.
//!
//! ## Heaters
//!
//! OctoPrint agent: `tool0`..`toolN`, `bed`, `chamber`. Klipper agent: `extruder`,
//! `extruderN`, `heater_bed`, and the first key containing `chamber` (a `heater_generic` or a
//! sensor; a sensor has `target: null`). Other sensors are skipped, as are null readings.
//!
//! ## Failure detection
//!
//! Only while Obico has a current print: the score is `normalized_p` (0–1). A person's verdict
//! on an alert wins (`alert_overwrite` `FAILED` → Failing, `NOT_FAILED` → Ok), then an alert
//! not yet acknowledged (`alerted_at`) → Failing, else the core's
//! [`FailureVerdict::from_score`] on the score.

use polyprint::state::wire_seconds;
use polyprint::{
    FailureDetection, FailureVerdict, Heater, HeaterReading, JobOutcome, JobProgress, JobRecord,
    PrinterState, PrinterStatus, Webcam,
};

use crate::time::parse_iso8601;
use crate::wire::{AgentStatus, ObicoPrint, ObicoPrinter, Prediction};

/// The common status of an Obico printer document.
pub(crate) fn status_from(printer: &ObicoPrinter) -> PrinterStatus {
    let agent = printer.status.as_ref();
    let (state, raw) = state_of(agent);
    let mut s = PrinterStatus::new(state, raw);
    if let Some(st) = agent.and_then(|a| a.state.as_ref()) {
        s.message = st.error.clone().filter(|e| !e.trim().is_empty());
    }
    if let Some(a) = agent {
        s.heaters = heaters_of(a);
    }
    s.job = job_of(agent, printer.current_print.as_ref());
    s.webcams = webcams_of(printer);
    s.failure = failure_of(printer);
    s
}

/// The common state and the raw text of an agent status (`None` is Offline).
pub(crate) fn state_of(status: Option<&AgentStatus>) -> (PrinterState, String) {
    let Some(status) = status else {
        return (PrinterState::Offline, "Offline".to_string());
    };
    let Some(st) = status.state.as_ref() else {
        return (PrinterState::Unknown, String::new());
    };
    let f = &st.flags;
    let on = |b: Option<bool>| b == Some(true);
    let text = st.text.as_str();
    let lower = text.to_ascii_lowercase();
    let state = if on(f.error) || lower.contains("error") {
        PrinterState::Error
    } else if status.user_interaction_required == Some(true) && (on(f.paused) || on(f.printing)) {
        PrinterState::Attention
    } else if on(f.cancelling) || text == "Cancelling" {
        PrinterState::Cancelling
    } else if on(f.pausing) || text == "Pausing" {
        PrinterState::Pausing
    } else if on(f.resuming) || text == "Resuming" {
        PrinterState::Resuming
    } else if on(f.paused) {
        PrinterState::Paused
    } else if matches!(text, "Starting" | "Starting print from SD") {
        PrinterState::WarmingUp
    } else if on(f.printing) || on(f.finishing) {
        PrinterState::Printing
    } else if matches!(
        text,
        "G-Code Downloading"
            | "Downloading G-Code"
            | "Sending file to SD"
            | "Transferring file to SD"
    ) {
        PrinterState::Busy
    } else if f.closed_or_error.unwrap_or(!on(f.operational)) {
        PrinterState::Offline
    } else if on(f.operational) {
        PrinterState::Idle
    } else {
        PrinterState::Unknown
    };
    (state, text.to_string())
}

/// The common name of an agent's temperature key, if it is a heater we model.
pub(crate) fn heater_of(key: &str) -> Option<Heater> {
    match key {
        "bed" | "heater_bed" => Some(Heater::Bed),
        "extruder" => Some(Heater::Tool(0)),
        k if k.contains("chamber") => Some(Heater::Chamber),
        k => k
            .strip_prefix("tool")
            .or_else(|| k.strip_prefix("extruder"))
            .and_then(|n| n.parse::<u8>().ok())
            .map(Heater::Tool),
    }
}

fn heaters_of(status: &AgentStatus) -> Vec<HeaterReading> {
    let mut out: Vec<HeaterReading> = Vec::new();
    for (key, t) in &status.temperatures {
        let (Some(heater), Some(actual)) = (heater_of(key), t.actual) else {
            continue;
        };
        if !actual.is_finite() || out.iter().any(|h| h.heater == heater) {
            continue;
        }
        out.push(HeaterReading::new(
            heater,
            actual,
            t.target.filter(|t| t.is_finite()),
        ));
    }
    out.sort_by_key(|h| h.heater);
    out
}

fn job_of(agent: Option<&AgentStatus>, current: Option<&ObicoPrint>) -> Option<JobProgress> {
    let file = agent
        .and_then(|a| a.job.as_ref())
        .and_then(|j| j.file.as_ref())
        .and_then(|f| f.name.clone().or_else(|| f.display.clone()))
        .filter(|n| !n.is_empty())
        .or_else(|| current.and_then(|p| p.filename.clone()));
    let progress = agent.and_then(|a| a.progress.as_ref());
    let job = {
        let mut v = JobProgress::new(file);
        v.progress = progress
            .and_then(|p| p.completion)
            .filter(|c| c.is_finite())
            .map(|c| c.clamp(0.0, 100.0));
        v.elapsed = progress.and_then(|p| p.print_time).and_then(wire_seconds);
        v.remaining = progress
            .and_then(|p| p.print_time_left)
            .and_then(wire_seconds);
        v.layer = agent
            .and_then(|a| a.current_layer_height)
            .filter(|l| l.is_finite() && *l >= 1.0)
            .map(|l| l as u32);
        v.layer_count = agent
            .and_then(|a| a.file_metadata.as_ref())
            .and_then(|m| m.obico.as_ref())
            .and_then(|o| o.total_layer_count)
            .filter(|n| *n > 0);
        v.filament_mm = agent
            .and_then(|a| a.job.as_ref())
            .and_then(|j| j.filament.as_ref())
            .and_then(|f| f.get("tool0").cloned().flatten())
            .and_then(|t| t.length)
            .filter(|l| l.is_finite() && *l > 0.0);
        v
    };
    if job.file.is_none() && job.progress.is_none() {
        return None;
    }
    Some(job)
}

fn webcams_of(printer: &ObicoPrinter) -> Vec<Webcam> {
    let has_pic = printer
        .pic
        .as_ref()
        .and_then(|p| p.img_url.as_deref())
        .is_some_and(|u| !u.is_empty());
    let listed = printer
        .settings
        .as_ref()
        .map(|s| s.webcams.as_slice())
        .unwrap_or_default();
    if listed.is_empty() {
        return if has_pic {
            vec![Webcam::new("snapshot", true)]
        } else {
            Vec::new()
        };
    }
    let primary = listed.iter().position(|w| w.is_primary_camera).unwrap_or(0);
    listed
        .iter()
        .enumerate()
        .map(|(i, w)| Webcam::new(w.name.clone(), has_pic && i == primary))
        .collect()
}

/// Failure detection for a printer: only while Obico has a current print. See the module docs.
pub(crate) fn failure_of(printer: &ObicoPrinter) -> Option<FailureDetection> {
    let print = printer.current_print.as_ref()?;
    let score = printer
        .normalized_p
        .filter(|p| p.is_finite())
        .unwrap_or(0.0)
        .clamp(0.0, 1.0);
    let verdict = match print.alert_overwrite.as_deref() {
        Some("FAILED") => FailureVerdict::Failing,
        Some("NOT_FAILED") => FailureVerdict::Ok,
        _ if print.alerted_at.is_some() && print.alert_acknowledged_at.is_none() => {
            FailureVerdict::Failing
        }
        _ => FailureVerdict::from_score(score),
    };
    Some(FailureDetection::new(score, verdict))
}

/// The verdict of one agentless prediction: the core's thresholds on `p`, capped at 1 (it is a
/// sum of confidences and can exceed 1).
pub(crate) fn prediction_verdict(prediction: &Prediction) -> FailureDetection {
    let score = if prediction.p.is_finite() {
        prediction.p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    FailureDetection::new(score, FailureVerdict::from_score(score))
}

impl Prediction {
    /// The score and verdict of this prediction; see `prediction_verdict`.
    pub fn verdict(&self) -> FailureDetection {
        prediction_verdict(self)
    }
}

/// A print as a common [`JobRecord`].
pub(crate) fn record_of(print: &ObicoPrint) -> JobRecord {
    let outcome = if print.cancelled_at.is_some() {
        JobOutcome::Cancelled
    } else if print.finished_at.is_some() {
        JobOutcome::Finished
    } else if print.ended_at.is_some() {
        JobOutcome::Unknown
    } else {
        JobOutcome::Running
    };
    {
        let mut v = JobRecord::new(print.id.to_string(), outcome);
        v.file = print.filename.clone();
        v.started = print.started_at.as_deref().and_then(parse_iso8601);
        v.ended = print
            .ended_at
            .as_deref()
            .or(print.cancelled_at.as_deref())
            .or(print.finished_at.as_deref())
            .and_then(parse_iso8601);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AgentFlags, AgentState};
    use std::time::Duration;

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn printer(name: &str) -> ObicoPrinter {
        serde_json::from_str(&sample(name)).unwrap()
    }

    fn envelope_printer(name: &str) -> ObicoPrinter {
        serde_json::from_str::<crate::wire::Envelope>(&sample(name))
            .unwrap()
            .printer
    }

    /// One row per sample: state, raw text, file, progress, heaters, failure.
    #[test]
    fn samples_map_to_the_common_status() {
        struct Row {
            printer: ObicoPrinter,
            state: PrinterState,
            raw: &'static str,
            file: Option<&'static str>,
            progress: Option<f64>,
            heaters: &'static [(Heater, f64, Option<f64>)],
            failure: Option<(f64, FailureVerdict)>,
            webcams: usize,
        }
        let ws: serde_json::Value = serde_json::from_str(&sample(
            "obico-docs/obico_agent_ws_status_printing_example.strict.json",
        ))
        .unwrap();
        let ws_printer = ObicoPrinter {
            id: 1,
            status: Some(serde_json::from_value(ws["status"].clone()).unwrap()),
            ..Default::default()
        };
        let rows = [
            Row {
                printer: printer("obico/printer_oauth_idle.json"),
                state: PrinterState::Offline,
                raw: "Offline",
                file: None,
                progress: None,
                heaters: &[],
                failure: None,
                webcams: 0,
            },
            Row {
                printer: printer("obico/printer_moonraker_printing.json"),
                state: PrinterState::Printing,
                raw: "Printing",
                file: Some("benchy.gcode"),
                progress: Some(42.1),
                heaters: &[
                    (Heater::Tool(0), 215.02, Some(215.0)),
                    (Heater::Bed, 60.0, Some(60.0)),
                    (Heater::Chamber, 31.4, None),
                ],
                failure: Some((0.12, FailureVerdict::Ok)),
                webcams: 1,
            },
            Row {
                printer: printer("obico/printer_octoprint_paused.json"),
                state: PrinterState::Paused,
                raw: "Paused",
                file: Some("cube.gcode"),
                progress: Some(61.2),
                heaters: &[
                    (Heater::Tool(0), 170.1, Some(0.0)),
                    (Heater::Bed, 58.9, Some(60.0)),
                ],
                failure: Some((0.0, FailureVerdict::Ok)),
                webcams: 1,
            },
            Row {
                printer: envelope_printer("obico/start_print_response.json"),
                state: PrinterState::Offline,
                raw: "Offline",
                file: Some("benchy.gcode"),
                progress: None,
                heaters: &[],
                failure: Some((0.0, FailureVerdict::Ok)),
                webcams: 0,
            },
            Row {
                printer: envelope_printer("obico/finish_print_response.json"),
                state: PrinterState::Offline,
                raw: "Offline",
                file: None,
                progress: None,
                heaters: &[],
                failure: None,
                webcams: 0,
            },
            Row {
                printer: ws_printer,
                state: PrinterState::Printing,
                raw: "Printing",
                file: Some("temp-tower-220-260_petg_mk3s_4h_34m.gcode"),
                progress: Some(5.315271521675555),
                // chamber has a null reading: skipped.
                heaters: &[
                    (Heater::Tool(0), 220.0, Some(220.0)),
                    (Heater::Bed, 90.0, Some(90.0)),
                ],
                failure: None,
                webcams: 0,
            },
        ];
        for (i, row) in rows.iter().enumerate() {
            let s = status_from(&row.printer);
            assert_eq!(s.state, row.state, "row {i}");
            assert_eq!(s.raw_state, row.raw, "row {i}");
            let job = s.job.clone().unwrap_or_default();
            assert_eq!(job.file.as_deref(), row.file, "row {i}");
            assert_eq!(job.progress, row.progress, "row {i}");
            let heaters: Vec<_> = s
                .heaters
                .iter()
                .map(|h| (h.heater, h.actual, h.target))
                .collect();
            assert_eq!(heaters, row.heaters.to_vec(), "row {i}");
            assert_eq!(
                s.failure.map(|f| (f.score, f.verdict)),
                row.failure,
                "row {i}"
            );
            assert_eq!(s.webcams.len(), row.webcams, "row {i}");
        }
    }

    #[test]
    fn job_details_of_the_samples() {
        let s = status_from(&printer("obico/printer_moonraker_printing.json"));
        let job = s.job.unwrap();
        assert_eq!(job.elapsed, Some(Duration::from_secs_f64(1830.2)));
        assert_eq!(job.remaining, Some(Duration::from_secs(2511)));
        assert_eq!(job.layer, Some(17));
        assert_eq!(job.layer_count, Some(240));
        assert_eq!(job.filament_mm, None);
        assert!(s.webcams[0].can_snapshot);
        let s = status_from(&printer("obico/printer_octoprint_paused.json"));
        let job = s.job.unwrap();
        assert_eq!(job.filament_mm, Some(4210.5));
        assert_eq!(job.layer_count, None);
        assert_eq!(s.message, None, "an empty error string is no message");
    }

    fn with_flags(text: &str, flags: AgentFlags) -> AgentStatus {
        AgentStatus {
            state: Some(AgentState {
                text: text.into(),
                flags,
                error: None,
            }),
            ..Default::default()
        }
    }

    /// One row per line of the state table in the module docs.
    #[test]
    fn state_table() {
        let t = Some(true);
        let f = Some(false);
        let op = AgentFlags {
            operational: t,
            closed_or_error: f,
            ..Default::default()
        };
        let rows: Vec<(AgentStatus, PrinterState)> = vec![
            (
                with_flags(
                    "Operational",
                    AgentFlags {
                        error: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Error,
            ),
            (
                with_flags(
                    "Offline after error",
                    AgentFlags {
                        closed_or_error: t,
                        ..Default::default()
                    },
                ),
                PrinterState::Error,
            ),
            (
                AgentStatus {
                    user_interaction_required: t,
                    ..with_flags(
                        "Paused",
                        AgentFlags {
                            paused: t,
                            ..op.clone()
                        },
                    )
                },
                PrinterState::Attention,
            ),
            (
                with_flags(
                    "Cancelling",
                    AgentFlags {
                        cancelling: t,
                        printing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Cancelling,
            ),
            (
                with_flags(
                    "Cancelling",
                    AgentFlags {
                        printing: t,
                        cancelling: f,
                        ..op.clone()
                    },
                ),
                PrinterState::Cancelling,
            ),
            (
                with_flags(
                    "Pausing",
                    AgentFlags {
                        pausing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Pausing,
            ),
            (
                with_flags(
                    "Pausing",
                    AgentFlags {
                        printing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Pausing,
            ),
            (
                with_flags(
                    "Resuming",
                    AgentFlags {
                        resuming: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Resuming,
            ),
            (
                with_flags(
                    "Paused",
                    AgentFlags {
                        paused: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Paused,
            ),
            (
                with_flags(
                    "Starting",
                    AgentFlags {
                        printing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::WarmingUp,
            ),
            (
                with_flags(
                    "Printing",
                    AgentFlags {
                        printing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Printing,
            ),
            (
                with_flags(
                    "Finishing",
                    AgentFlags {
                        finishing: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Printing,
            ),
            (
                with_flags("G-Code Downloading", op.clone()),
                PrinterState::Busy,
            ),
            (
                with_flags(
                    "Offline",
                    AgentFlags {
                        closed_or_error: t,
                        ..Default::default()
                    },
                ),
                PrinterState::Offline,
            ),
            (
                with_flags("Closed", AgentFlags::default()),
                PrinterState::Offline,
            ),
            (
                with_flags(
                    "Operational",
                    AgentFlags {
                        ready: t,
                        ..op.clone()
                    },
                ),
                PrinterState::Idle,
            ),
            (
                with_flags(
                    "Operational",
                    AgentFlags {
                        operational: t,
                        ..Default::default()
                    },
                ),
                PrinterState::Idle,
            ),
            (
                with_flags(
                    "Mystery",
                    AgentFlags {
                        closed_or_error: f,
                        ..Default::default()
                    },
                ),
                PrinterState::Unknown,
            ),
        ];
        for (status, want) in rows {
            let (got, raw) = state_of(Some(&status));
            assert_eq!(got, want, "{raw}: {:?}", status.state);
            assert_eq!(raw, status.state.as_ref().unwrap().text);
        }
        assert_eq!(state_of(None).0, PrinterState::Offline);
        assert_eq!(
            state_of(Some(&AgentStatus::default())).0,
            PrinterState::Unknown
        );
    }

    #[test]
    fn heater_names_of_both_agents() {
        let rows = [
            ("tool0", Some(Heater::Tool(0))),
            ("tool2", Some(Heater::Tool(2))),
            ("bed", Some(Heater::Bed)),
            ("chamber", Some(Heater::Chamber)),
            ("extruder", Some(Heater::Tool(0))),
            ("extruder1", Some(Heater::Tool(1))),
            ("heater_bed", Some(Heater::Bed)),
            ("chamber_sensor", Some(Heater::Chamber)),
            ("raspberry_pi", None),
            ("toolx", None),
        ];
        for (key, want) in rows {
            assert_eq!(heater_of(key), want, "{key}");
        }
    }

    #[test]
    fn failure_verdicts() {
        let mut p = printer("obico/printer_moonraker_printing.json");
        type Row<'a> = (
            f64,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            FailureVerdict,
        );
        let rows: [Row; 8] = [
            (0.1, None, None, None, FailureVerdict::Ok),
            (0.329, None, None, None, FailureVerdict::Ok),
            (0.33, None, None, None, FailureVerdict::Warning),
            (0.5, None, None, None, FailureVerdict::Warning),
            (0.66, None, None, None, FailureVerdict::Failing),
            (
                0.1,
                Some("2026-01-26T15:00:00Z"),
                None,
                None,
                FailureVerdict::Failing,
            ),
            (
                0.9,
                Some("2026-01-26T15:00:00Z"),
                Some("2026-01-26T15:01:00Z"),
                Some("NOT_FAILED"),
                FailureVerdict::Ok,
            ),
            (
                0.1,
                Some("2026-01-26T15:00:00Z"),
                Some("2026-01-26T15:01:00Z"),
                Some("FAILED"),
                FailureVerdict::Failing,
            ),
        ];
        for (score, alerted, acked, overwrite, want) in rows {
            p.normalized_p = Some(score);
            let cp = p.current_print.as_mut().unwrap();
            cp.alerted_at = alerted.map(String::from);
            cp.alert_acknowledged_at = acked.map(String::from);
            cp.alert_overwrite = overwrite.map(String::from);
            let f = failure_of(&p).unwrap();
            assert_eq!(
                (f.score, f.verdict),
                (score, want),
                "{score} {alerted:?} {overwrite:?}"
            );
        }
        p.current_print = None;
        assert_eq!(failure_of(&p), None);
    }

    #[test]
    fn prints_become_job_records() {
        let prints: Vec<ObicoPrint> =
            serde_json::from_str(&sample("obico/prints_list.json")).unwrap();
        let records: Vec<JobRecord> = prints.iter().map(record_of).collect();
        assert_eq!(records[0].id, "456");
        assert_eq!(records[0].outcome, JobOutcome::Finished);
        assert_eq!(records[0].file.as_deref(), Some("benchy.gcode"));
        assert_eq!(
            records[0].ended.unwrap() - records[0].started.unwrap(),
            70 * 60 + 41
        );
        assert_eq!(records[1].outcome, JobOutcome::Cancelled);
        let open = ObicoPrint {
            id: 9,
            started_at: Some("2026-01-26T15:00:00Z".into()),
            ..Default::default()
        };
        assert_eq!(record_of(&open).outcome, JobOutcome::Running);
        assert_eq!(record_of(&open).ended, None);
    }

    #[test]
    fn prediction_sample_verdict() {
        let r: crate::wire::PredictResponse =
            serde_json::from_str(&sample("obico/predict_response.json")).unwrap();
        let v = prediction_verdict(&r.result);
        assert_eq!(v.score, 0.978);
        assert_eq!(v.verdict, FailureVerdict::Failing);
        let over = Prediction {
            p: 1.7,
            ..r.result.clone()
        };
        assert_eq!(prediction_verdict(&over).score, 1.0);
        let low = Prediction { p: 0.1, ..r.result };
        assert_eq!(prediction_verdict(&low).verdict, FailureVerdict::Ok);
    }
}
