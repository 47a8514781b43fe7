//! `demo`: a virtual printer behind every backend (the sim directly, the others through their
//! mock servers on 127.0.0.1), one print lifecycle driven on each side by side (start, pause,
//! resume, run to the end) while a status table is shown. Needs no configuration or hardware.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::{Feature, JobOutcome, Printer, PrinterState, PrinterStatus};
use serde::Serialize;
use serde_json::json;

use crate::backends::{self, BACKENDS};
use crate::outcome::{CliError, Exit, Reply};
use crate::render;
use polyprint::mockserver::VendorMock;

/// What one backend's lane has seen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Lane {
    /// The backend.
    pub backend: &'static str,
    /// The distinct states observed, in order.
    pub states: Vec<PrinterState>,
    /// Where the lifecycle is: `starting`, `printing`, `pausing`, ...
    pub step: &'static str,
    /// The last status line.
    #[serde(skip)]
    pub line: String,
    /// The last progress.
    pub progress: Option<f64>,
    /// Why it stopped early.
    pub error: Option<String>,
    /// Requests the mock served (none for the sim).
    pub requests: Option<usize>,
    /// Seconds the lane took.
    pub seconds: f64,
    /// What the lane did differently because of the backend's features.
    pub notes: Vec<&'static str>,
    /// The backend said Idle at the end, and its job history said the job finished.
    pub finished_per_history: bool,
}

impl Lane {
    fn reached_finished(&self) -> bool {
        self.error.is_none()
            && (self.states.last() == Some(&PrinterState::Finished) || self.finished_per_history)
    }
}

type Shared = Arc<Mutex<Lane>>;

/// A lane: what it saw, its printer, and the mock behind it (kept alive until the end).
type Running = (
    Shared,
    Arc<dyn Printer>,
    VirtualPrinter,
    Option<Box<dyn VendorMock>>,
);

fn lock(lane: &Shared) -> std::sync::MutexGuard<'_, Lane> {
    lane.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls until `done` says so, recording every state; fails after `deadline`.
async fn wait_for(
    printer: &dyn Printer,
    lane: &Shared,
    deadline: Instant,
    what: &str,
    done: impl Fn(&PrinterStatus) -> bool,
) -> Result<PrinterStatus, String> {
    loop {
        let status = printer.status().await.map_err(|e| e.to_string())?;
        {
            let mut l = lock(lane);
            if l.states.last() != Some(&status.state) {
                l.states.push(status.state);
            }
            l.progress = status.job.as_ref().and_then(|j| j.progress);
            l.line = render::status_line(&status);
        }
        if done(&status) {
            return Ok(status);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out waiting for {what} (state {})",
                status.state
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Drives one lifecycle: start, wait for 30 %, pause, hold, resume, wait for the end. A
/// backend that cannot start prints (an Obico agent) has the print started at the printer
/// itself, as a person would; one that cannot pause skips the pause.
async fn drive(
    printer: &dyn Printer,
    at_the_printer: &VirtualPrinter,
    lane: &Shared,
    speed: f64,
) -> Result<(), String> {
    let step = |s: &'static str| lock(lane).step = s;
    // The demo file prints in 12.5 virtual seconds; allow plenty.
    let deadline = Instant::now() + Duration::from_secs_f64(30.0 / speed + 15.0);
    wait_for(printer, lane, deadline, "a ready printer", |s| {
        s.state.is_ready()
    })
    .await?;
    let features = printer
        .features()
        .await
        .map_err(|e| format!("features: {e}"))?;
    step("starting");
    if features.contains(Feature::PrintStart) {
        printer
            .start_print(DEMO_FILE)
            .await
            .map_err(|e| format!("start: {e}"))?;
    } else {
        lock(lane)
            .notes
            .push("print_start unsupported: started at the printer");
        at_the_printer
            .lock()
            .start(DEMO_FILE)
            .map_err(|e| format!("start at the printer: {e}"))?;
    }
    step("printing");
    let s = wait_for(printer, lane, deadline, "30% progress", |s| {
        !s.state.has_active_job() || s.job.as_ref().and_then(|j| j.progress).unwrap_or(0.0) >= 30.0
    })
    .await?;
    if !s.state.has_active_job() {
        return Err(format!("the job ended early ({})", s.state));
    }
    if !features.contains(Feature::PauseResume) {
        lock(lane)
            .notes
            .push("pause_resume unsupported: not paused");
        step("printing");
        let end = wait_for(printer, lane, deadline, "the end of the job", |s| {
            !s.state.has_active_job()
        })
        .await?;
        return conclude(printer, lane, end).await;
    }
    step("pausing");
    printer.pause().await.map_err(|e| format!("pause: {e}"))?;
    wait_for(printer, lane, deadline, "paused", |s| {
        s.state == PrinterState::Paused
    })
    .await?;
    step("paused");
    let hold = Instant::now() + Duration::from_millis(800);
    wait_for(printer, lane, deadline, "the pause to be held", |_| {
        Instant::now() >= hold
    })
    .await?;
    step("resuming");
    printer.resume().await.map_err(|e| format!("resume: {e}"))?;
    step("printing");
    let end = wait_for(printer, lane, deadline, "the end of the job", |s| {
        !s.state.has_active_job()
    })
    .await?;
    conclude(printer, lane, end).await
}

/// Decides how the job ended. A backend that reports Idle rather than Finished (Obico never
/// says how the last job ended) is asked its job history.
async fn conclude(printer: &dyn Printer, lane: &Shared, end: PrinterStatus) -> Result<(), String> {
    lock(lane).step = "done";
    match end.state {
        PrinterState::Finished => Ok(()),
        PrinterState::Idle
            if printer
                .features()
                .await
                .is_ok_and(|f| f.contains(Feature::JobHistory)) =>
        {
            let history = printer
                .job_history(1)
                .await
                .map_err(|e| format!("history: {e}"))?;
            match history.first().map(|j| j.outcome) {
                Some(JobOutcome::Finished) => {
                    let mut l = lock(lane);
                    l.notes
                        .push("reports idle after a job: finished per its job history");
                    l.finished_per_history = true;
                    Ok(())
                }
                other => Err(format!("the job ended idle; its history says {other:?}")),
            }
        }
        other => Err(format!("the job ended {other}")),
    }
}

fn table(lanes: &[Shared]) -> Vec<String> {
    let mut rows = vec![format!("{:<14} {:<9} {}", "BACKEND", "STEP", "STATUS")];
    for lane in lanes {
        let l = lock(lane);
        let status = match &l.error {
            Some(e) => format!("FAILED: {e}"),
            None => l.line.clone(),
        };
        rows.push(format!("{:<14} {:<9} {}", l.backend, l.step, status));
    }
    rows
}

/// Runs the demo at `speed` virtual seconds per real second.
pub async fn run(speed: f64, json_out: bool, tty: bool) -> Result<Reply, CliError> {
    if !(speed.is_finite() && (0.5..=1000.0).contains(&speed)) {
        return Err(CliError::usage("--speed must be between 0.5 and 1000"));
    }
    let http = backends::http_config(None)?;
    let started = Instant::now();
    let mut lanes: Vec<Running> = Vec::new();
    for spec in BACKENDS
        .iter()
        .copied()
        .filter(|b| backends::is_sim(b) || b.has_mock())
    {
        let vp = backends::realtime_sim(&format!("demo ({})", spec.name()), speed);
        let (printer, mock) = backends::serve(spec, vp.clone(), http.clone()).await?;
        let lane = Arc::new(Mutex::new(Lane {
            backend: spec.name(),
            step: "connecting",
            ..Lane::default()
        }));
        lanes.push((lane, printer, vp, mock));
    }
    let names: Vec<&str> = lanes.iter().map(|(l, _, _, _)| lock(l).backend).collect();
    if !json_out {
        println!(
            "polyprint demo: one virtual printer behind each backend ({}), printing {DEMO_FILE} at {speed}x",
            names.join(", ")
        );
    }
    let shared: Vec<Shared> = lanes.iter().map(|(l, _, _, _)| l.clone()).collect();
    let drivers = futures_util::future::join_all(lanes.iter().map(|(lane, printer, vp, _)| {
        let lane = lane.clone();
        let printer = printer.clone();
        let vp = vp.clone();
        async move {
            let t = Instant::now();
            let result = drive(printer.as_ref(), &vp, &lane, speed).await;
            let mut l = lock(&lane);
            l.seconds = (t.elapsed().as_secs_f64() * 10.0).round() / 10.0;
            if let Err(e) = result {
                l.error = Some(e);
            }
        }
    }));
    tokio::pin!(drivers);
    let mut drawn = 0usize;
    let mut printed: Vec<usize> = vec![0; shared.len()];
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        let finished = tokio::select! {
            _ = &mut drivers => true,
            _ = ticker.tick() => false,
        };
        if !json_out {
            let mut out = std::io::stdout().lock();
            if tty {
                if drawn > 0 {
                    let _ = write!(out, "\x1b[{drawn}A");
                }
                let rows = table(&shared);
                // A wrapped row would break the redraw: cut rows to the terminal's width.
                let width = console::Term::stdout().size().1.max(20) as usize - 1;
                for row in &rows {
                    let row: String = row.chars().take(width).collect();
                    let _ = writeln!(out, "\r\x1b[2K{row}");
                }
                drawn = rows.len();
            } else {
                // Plain lines: one per new state of each backend.
                for (i, lane) in shared.iter().enumerate() {
                    let l = lock(lane);
                    for s in &l.states[printed[i]..] {
                        let _ = writeln!(out, "{:<14} {}", l.backend, s);
                    }
                    printed[i] = l.states.len();
                    if finished {
                        if let Some(e) = &l.error {
                            let _ = writeln!(out, "{:<14} FAILED: {e}", l.backend);
                        }
                    }
                }
            }
            let _ = out.flush();
        }
        if finished {
            break;
        }
    }
    let mut summary: Vec<Lane> = Vec::new();
    for (lane, _, _, mock) in &lanes {
        let mut l = lock(lane).clone();
        l.requests = mock.as_ref().map(|m| m.mock_server().request_count());
        summary.push(l);
    }
    let failed: Vec<String> = summary
        .iter()
        .filter(|l| !l.reached_finished())
        .map(|l| {
            format!(
                "{}: {}",
                l.backend,
                l.error.clone().unwrap_or_else(|| "did not finish".into())
            )
        })
        .collect();
    let backends_json: Vec<_> = summary
        .iter()
        .map(|l| {
            json!({
                "backend": l.backend,
                "finished": l.reached_finished(),
                "states": l.states,
                "error": l.error,
                "requests": l.requests,
                "seconds": l.seconds,
                "notes": l.notes,
            })
        })
        .collect();
    let data = json!({
        "speed": speed,
        "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "backends": backends_json,
    });
    if !failed.is_empty() {
        return Err(CliError::new(
            "demo_failed",
            Exit::Other,
            format!(
                "the demo did not finish on every backend: {}",
                failed.join("; ")
            ),
        )
        .with_details(data));
    }
    let text = summary
        .iter()
        .map(|l| {
            let seq: Vec<&str> = l.states.iter().map(|s| s.name()).collect();
            let mut line = format!("{:<14} {} ({:.1} s)", l.backend, seq.join(" → "), l.seconds);
            for note in &l.notes {
                line.push_str(&format!("\n{:<14}   note: {note}", ""));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Reply::new(data, format!("every backend finished:\n{text}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_backend_reaches_finished_through_a_pause() {
        let reply = run(40.0, true, false).await.unwrap();
        let backends = reply.data["backends"].as_array().unwrap();
        assert!(!backends.is_empty());
        for b in backends {
            assert_eq!(b["finished"], true, "{b}");
            let states: Vec<&str> = b["states"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            if b["notes"].as_array().unwrap().is_empty() {
                assert!(states.contains(&"paused"), "{states:?}");
            }
            assert!(
                states.last() == Some(&"finished") || b["notes"].to_string().contains("history"),
                "{b}"
            );
        }
        assert!(run(0.0, true, false).await.is_err());
    }
}
