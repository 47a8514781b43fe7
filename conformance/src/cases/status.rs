//! Status in every state the virtual printer can be put in: the backend's common state must
//! be the one the harness expects (the identity unless declared otherwise).

use std::time::Duration;

use polyprint::sim::{SimGuard, CANCELLING, DEMO_FILE, PAUSING};
use polyprint::PrinterState;

use crate::cases::{none, Case};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_state, finish, Outcome, Step};
use crate::wait::status;

/// Puts the virtual printer into `sim_state` with `setup`, then compares `status().state`
/// with what the harness expects for it.
async fn state_case(
    t: &Target,
    h: &dyn Harness,
    sim_state: PrinterState,
    setup: fn(&mut SimGuard<'_>) -> Result<(), String>,
) -> Outcome {
    finish(check_state(t, h, sim_state, setup).await)
}

async fn check_state(
    t: &Target,
    h: &dyn Harness,
    sim_state: PrinterState,
    setup: fn(&mut SimGuard<'_>) -> Result<(), String>,
) -> Step {
    let Some(expected) = h.expected_state(sim_state) else {
        return Err(Outcome::skip(format!(
            "{} cannot express {sim_state} (declared by its harness)",
            h.name()
        )));
    };
    let Some(control) = &t.control else {
        return Err(Outcome::skip("needs mock control"));
    };
    {
        let mut g = control.printer().lock();
        setup(&mut g).map_err(|e| Outcome::fail(format!("setting up {sim_state}: {e}")))?;
        let reached = g.state();
        ensure(reached == sim_state, || {
            format!("setup put the virtual printer in {reached}, not {sim_state}")
        })?;
    }
    let s = status(t).await?;
    expect_state(&s, expected, &format!("virtual printer {sim_state}"))?;
    ensure(!s.raw_state.is_empty(), || "raw_state is empty".into())?;
    if sim_state.has_active_job() && sim_state != PrinterState::Cancelling {
        let job = s
            .job
            .as_ref()
            .ok_or_else(|| Outcome::fail(format!("{sim_state}: no job in the status")))?;
        if let Some(p) = job.progress {
            ensure((0.0..=100.0).contains(&p), || {
                format!("progress {p} is outside 0-100")
            })?;
        }
        if let Some(file) = &job.file {
            ensure(file.contains("demo-cube"), || {
                format!("job file is {file:?}, not {DEMO_FILE}")
            })?;
        }
    }
    Ok(())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn printing(g: &mut SimGuard<'_>) -> Result<(), String> {
    g.start(DEMO_FILE).map_err(err)?;
    g.advance(Duration::from_secs(1));
    Ok(())
}

/// Connected and idle: needs no control (a fresh target is idle).
pub async fn case_idle(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let Some(expected) = h.expected_state(PrinterState::Idle) else {
                return Err(Outcome::skip("backend cannot express idle"));
            };
            let s = status(t).await?;
            expect_state(&s, expected, "fresh target")?;
            ensure(!s.raw_state.is_empty(), || "raw_state is empty".into())
        }
        .await,
    )
}

/// Disconnected from its printer: Offline (the service answers).
pub async fn case_offline(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Offline, |g| {
        g.disconnect();
        Ok(())
    })
    .await
}

/// Printing the demo file.
pub async fn case_printing(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Printing, printing).await
}

/// A pause asked for, not yet settled.
pub async fn case_pausing(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Pausing, |g| {
        printing(g)?;
        g.pause().map_err(err)
    })
    .await
}

/// Paused.
pub async fn case_paused(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Paused, |g| {
        printing(g)?;
        g.pause().map_err(err)?;
        g.advance(PAUSING);
        Ok(())
    })
    .await
}

/// A resume asked for, not yet settled.
pub async fn case_resuming(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Resuming, |g| {
        printing(g)?;
        g.pause().map_err(err)?;
        g.advance(PAUSING);
        g.resume().map_err(err)
    })
    .await
}

/// A cancel asked for, not yet settled.
pub async fn case_cancelling(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Cancelling, |g| {
        printing(g)?;
        g.cancel().map_err(err)
    })
    .await
}

/// The job ran to its end.
pub async fn case_finished(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Finished, |g| {
        printing(g)?;
        // Just past its end: a server may show an ended job only for a while (PrusaLink).
        let left = g.view().job.map(|j| j.remaining()).unwrap_or_default();
        g.advance(left + Duration::from_secs(1));
        Ok(())
    })
    .await
}

/// The job was cancelled and the cancel settled.
pub async fn case_cancelled(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Cancelled, |g| {
        printing(g)?;
        g.cancel().map_err(err)?;
        g.advance(CANCELLING);
        Ok(())
    })
    .await
}

/// The printer failed (a thermal runaway).
pub async fn case_error(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Error, |g| {
        g.fail("Thermal Runaway, system stopped! Heater_ID: bed");
        Ok(())
    })
    .await
}

/// The printer waits for a person (filament runout during a print).
pub async fn case_attention(t: &Target, h: &dyn Harness) -> Outcome {
    state_case(t, h, PrinterState::Attention, |g| {
        printing(g)?;
        g.set_attention(Some("Filament runout".into()));
        Ok(())
    })
    .await
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    vec![
        case!("status.idle", none(), Printer, false, case_idle),
        case!("status.offline", none(), Control, false, case_offline),
        case!("status.printing", none(), Control, false, case_printing),
        case!("status.pausing", none(), Control, false, case_pausing),
        case!("status.paused", none(), Control, false, case_paused),
        case!("status.resuming", none(), Control, false, case_resuming),
        case!("status.cancelling", none(), Control, false, case_cancelling),
        case!("status.finished", none(), Control, false, case_finished),
        case!("status.cancelled", none(), Control, false, case_cancelled),
        case!("status.error", none(), Control, false, case_error),
        case!("status.attention", none(), Control, false, case_attention),
    ]
}
