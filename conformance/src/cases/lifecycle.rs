//! A job's life: start → printing with advancing progress → pause → paused → resume →
//! printing → cancel → cancelled; a print run to its end; the history it leaves.

use std::time::Duration;

use polyprint::{Feature, JobOutcome, PrinterState, PrinterStatus};

use crate::cases::Case;
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_ok, expect_state, finish, Outcome, Step};
use crate::wait::{pass_time, status, wait_for_state, wait_until, DEFAULT_BUDGET};

/// How long a print's progress may take to move on.
const PROGRESS_BUDGET: Duration = Duration::from_secs(10);

/// The state the backend shows for a virtual-printer state; a state it cannot express falls
/// back to `fallback`.
pub(crate) fn shown(h: &dyn Harness, s: PrinterState, fallback: PrinterState) -> PrinterState {
    h.expected_state(s).unwrap_or(fallback)
}

/// The states a backend may show between accepting a start and showing the job.
pub(crate) fn before_job(h: &dyn Harness) -> Vec<PrinterState> {
    [
        PrinterState::Idle,
        PrinterState::Finished,
        PrinterState::Cancelled,
        PrinterState::Busy,
        PrinterState::WarmingUp,
    ]
    .into_iter()
    .filter_map(|s| h.expected_state(s))
    .collect()
}

/// Starts `file` and waits until the backend shows it printing.
pub(crate) async fn start_and_wait_printing(
    t: &Target,
    h: &dyn Harness,
    file: &str,
) -> Step<PrinterStatus> {
    expect_ok(t.printer.start_print(file).await, "start_print")?;
    let printing = shown(h, PrinterState::Printing, PrinterState::Printing);
    wait_for_state(t, printing, &before_job(h), DEFAULT_BUDGET).await
}

/// Cancels whatever runs, ignoring errors (cleanup after a case on a live server).
pub(crate) async fn cleanup_cancel(t: &Target) {
    if t.control.is_none() {
        let _ = t.printer.cancel().await;
    }
}

fn progress_of(s: &PrinterStatus) -> Step<f64> {
    let p = s
        .job
        .as_ref()
        .and_then(|j| j.progress)
        .ok_or_else(|| Outcome::fail(format!("{}: no job progress in the status", s.state)))?;
    ensure((0.0..=100.0).contains(&p), || {
        format!("progress {p} is outside 0-100")
    })?;
    Ok(p)
}

/// upload → start → printing with advancing progress → pause → paused (no progress) →
/// resume → printing → cancel → cancelled, accepting the transient states on the way.
pub async fn case_pause_resume_cancel(t: &Target, h: &dyn Harness) -> Outcome {
    let result = pause_resume_cancel(t, h).await;
    if result.is_err() {
        cleanup_cancel(t).await;
    }
    finish(result)
}

async fn pause_resume_cancel(t: &Target, h: &dyn Harness) -> Step {
    use PrinterState::*;
    let file = h.long_print_file();
    let printing = shown(h, Printing, Printing);
    let s = start_and_wait_printing(t, h, &file).await?;
    let job_file = s
        .job
        .as_ref()
        .and_then(|j| j.file.clone())
        .unwrap_or_default();
    ensure(
        job_file.contains(file.rsplit('/').next().unwrap_or(&file)),
        || format!("job file is {job_file:?}, expected {file:?}"),
    )?;
    let p1 = progress_of(&s)?;
    // Progress moves on within a few seconds (a printer may report whole percents only:
    // PrusaLink's come from the file's `M73` lines).
    wait_until(t, "progress to advance", PROGRESS_BUDGET, |s| {
        if s.state != printing {
            return Err(format!("{} while waiting for progress", s.state));
        }
        Ok(progress_of(s).map_err(|o| format!("{o:?}"))? > p1)
    })
    .await?;

    expect_ok(t.printer.pause().await, "pause")?;
    let paused = shown(h, Paused, Paused);
    let s = wait_for_state(
        t,
        paused,
        &[printing, shown(h, Pausing, Printing)],
        DEFAULT_BUDGET,
    )
    .await?;
    let p3 = progress_of(&s)?;
    pass_time(t, Duration::from_secs(1)).await;
    let s = status(t).await?;
    expect_state(&s, paused, "one second after pausing")?;
    let p4 = progress_of(&s)?;
    ensure((p4 - p3).abs() < 1e-9, || {
        format!("progress moved while paused: {p3} then {p4}")
    })?;

    expect_ok(t.printer.resume().await, "resume")?;
    wait_for_state(
        t,
        printing,
        &[paused, shown(h, Resuming, Printing)],
        DEFAULT_BUDGET,
    )
    .await?;

    expect_ok(t.printer.cancel().await, "cancel")?;
    let cancelled = shown(h, Cancelled, Idle);
    wait_for_state(
        t,
        cancelled,
        &[printing, shown(h, Cancelling, Printing)],
        DEFAULT_BUDGET,
    )
    .await?;
    Ok(())
}

/// Prints the harness's short file and waits until the backend shows it finished.
pub(crate) async fn print_to_end(t: &Target, h: &dyn Harness) -> Step<PrinterStatus> {
    use PrinterState::*;
    let file = h.short_print_file();
    expect_ok(t.printer.start_print(&file).await, "start_print")?;
    let finished = shown(h, Finished, Idle);
    let mut on_the_way = before_job(h);
    on_the_way.push(shown(h, Printing, Printing));
    let mut seen_job = false;
    wait_until(t, finished.name(), DEFAULT_BUDGET, move |s| {
        let progress = s.job.as_ref().and_then(|j| j.progress);
        seen_job |= s.state.has_active_job();
        if s.state == finished && (progress == Some(100.0) || (seen_job && progress.is_none())) {
            return Ok(true);
        }
        if on_the_way.contains(&s.state) {
            return Ok(false);
        }
        Err(format!(
            "unexpected state {} (raw {:?})",
            s.state, s.raw_state
        ))
    })
    .await
}

/// Prints to the end: Finished, with progress 100 where the backend reports progress.
pub async fn case_print_to_end(t: &Target, h: &dyn Harness) -> Outcome {
    let result = print_to_end(t, h).await.map(|_| ());
    if result.is_err() {
        cleanup_cancel(t).await;
    }
    finish(result)
}

/// After a print ran to its end, the history's newest record is that job, finished.
pub async fn case_job_history(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            print_to_end(t, h).await?;
            let records = expect_ok(t.printer.job_history(5).await, "job_history(5)")?;
            ensure(!records.is_empty() && records.len() <= 5, || {
                format!("{} records for a limit of 5", records.len())
            })?;
            let newest = &records[0];
            ensure(newest.outcome == JobOutcome::Finished, || {
                format!("newest record is {:?}, not finished", newest.outcome)
            })?;
            let file = h.short_print_file();
            let base = file.rsplit('/').next().unwrap_or(&file);
            ensure(
                newest.file.as_deref().is_some_and(|f| f.contains(base)),
                || format!("newest record's file is {:?}, not {file:?}", newest.file),
            )
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    use Feature::*;
    vec![
        case!(
            "lifecycle.pause_resume_cancel",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            case_pause_resume_cancel
        ),
        case!(
            "lifecycle.print_to_end",
            PrintStart.into(),
            Printer,
            true,
            case_print_to_end
        ),
        case!(
            "lifecycle.job_history",
            PrintStart | JobHistory,
            Printer,
            true,
            case_job_history
        ),
    ]
}
