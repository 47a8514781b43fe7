//! Waiting for a printer to get somewhere: by moving the virtual clock when the target has
//! mock control (exact and instant), else by polling a live server with short sleeps and a
//! bounded deadline.

use std::time::{Duration, Instant};

use polyprint::{PrinterState, PrinterStatus};

use crate::harness::Target;
use crate::outcome::{Outcome, Step};

/// How long a wait may take: virtual time for a mock, wall-clock time for a live server.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

/// The first virtual step when waiting on a mock; steps double up to [`MAX_STEP`].
const FIRST_STEP: Duration = Duration::from_millis(50);
/// The longest virtual step.
const MAX_STEP: Duration = Duration::from_secs(2);
/// The poll interval against a live server.
const POLL: Duration = Duration::from_millis(50);

/// Reads the status, failing the case on an error.
pub async fn status(t: &Target) -> Step<PrinterStatus> {
    t.printer
        .status()
        .await
        .map_err(|e| Outcome::Fail(format!("status(): {:?}: {e}", e.kind())))
}

/// Lets `d` pass: moves the virtual clock with control, else sleeps.
pub async fn pass_time(t: &Target, d: Duration) {
    match &t.control {
        Some(c) => c.printer().advance(d),
        None => tokio::time::sleep(d).await,
    }
}

/// Polls the status until `check` says done (`Ok(true)`), keeps waiting on `Ok(false)`, and
/// fails at once on `Err` (a state that should not occur on the way). Gives up after `budget`
/// (virtual time with control, wall-clock time without).
pub async fn wait_until<F>(
    t: &Target,
    what: &str,
    budget: Duration,
    mut check: F,
) -> Step<PrinterStatus>
where
    F: FnMut(&PrinterStatus) -> Result<bool, String> + Send,
{
    let started = Instant::now();
    let mut waited = Duration::ZERO;
    let mut step = FIRST_STEP;
    let mut last: Option<PrinterStatus>;
    loop {
        let s = status(t).await?;
        match check(&s) {
            Ok(true) => return Ok(s),
            Ok(false) => {}
            Err(m) => return Err(Outcome::Fail(format!("waiting for {what}: {m}"))),
        }
        last = Some(s);
        match &t.control {
            Some(c) => {
                if waited >= budget {
                    break;
                }
                c.printer().advance(step);
                waited += step;
                step = (step * 2).min(MAX_STEP);
            }
            None => {
                if started.elapsed() >= budget {
                    break;
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
    let seen = last
        .map(|s| format!("{} (raw {:?})", s.state, s.raw_state))
        .unwrap_or_default();
    Err(Outcome::Fail(format!(
        "waiting for {what}: not reached within {} s, last state {seen}",
        budget.as_secs_f64()
    )))
}

/// Waits until the state is `want`, accepting the `transient` states on the way (e.g.
/// Pausing on the way to Paused); any other state fails the case.
pub async fn wait_for_state(
    t: &Target,
    want: PrinterState,
    transient: &[PrinterState],
    budget: Duration,
) -> Step<PrinterStatus> {
    wait_until(t, want.name(), budget, |s| {
        if s.state == want {
            Ok(true)
        } else if transient.contains(&s.state) {
            Ok(false)
        } else {
            Err(format!(
                "unexpected state {} (raw {:?})",
                s.state, s.raw_state
            ))
        }
    })
    .await
}
