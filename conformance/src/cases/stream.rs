//! The status stream ([`polyprint::watch`]) on every backend: a print's lifecycle seen
//! through the stream, in order, with no two equal items in a row; and a stream that
//! survives a server that stops answering, reports it once, and resumes with a full status.

use std::time::Duration;

use futures_util::StreamExt;
use polyprint::mockserver::Fault;
use polyprint::watch::{changed, watch, Change, StatusStream, StatusUpdate, WatchOptions};
use polyprint::{Feature, PrinterState};

use crate::cases::faults::served;
use crate::cases::lifecycle::shown;
use crate::cases::{none, Case};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_ok, finish, Outcome, Step};

/// Poll often: the virtual clock moves in small steps between reads.
const EVERY: Duration = Duration::from_millis(20);

/// Reads items, moving the virtual clock by `step` between waits, until one shows `want`.
async fn until(
    t: &Target,
    s: &mut StatusStream,
    want: PrinterState,
    step: Duration,
    seen: &mut Vec<StatusUpdate>,
) -> Step {
    // A mock's virtual clock moves by `step` between waits; a live printer moves by itself.
    let control = t.control.as_ref();
    for _ in 0..300 {
        if let Ok(Some(item)) = tokio::time::timeout(EVERY * 3, s.next()).await {
            let u = item.map_err(|e| Outcome::fail(format!("stream error: {e}")))?;
            let done = u.status.state == want;
            seen.push(u);
            if done {
                return Ok(());
            }
        }
        if let Some(control) = control {
            control.printer().advance(step);
        }
    }
    let states: Vec<_> = seen.iter().map(|u| u.status.state).collect();
    Err(Outcome::fail(format!(
        "the stream never showed {want}; it showed {states:?}"
    )))
}

/// Start, pause, resume and cancel, seen through the stream: the first item is the idle
/// printer, then each state the backend reports on the way, in order, and never two equal
/// items in a row.
pub async fn case_lifecycle(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let mut s = watch(t.printer.clone(), WatchOptions::every(EVERY));
            let mut seen = Vec::new();
            // The printer at rest: idle, or still showing how the last job ended.
            let first = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
            let first = match first {
                Ok(Some(Ok(u))) => u,
                other => return Err(Outcome::fail(format!("no first status: {other:?}"))),
            };
            ensure(
                first.change == Change::First && first.status.state.is_ready(),
                || {
                    format!(
                        "the first item is {:?} {}",
                        first.change, first.status.state
                    )
                },
            )?;
            seen.push(first);
            let file = h.long_print_file();
            expect_ok(t.printer.start_print(&file).await, "start_print")?;
            let printing = shown(h, PrinterState::Printing, PrinterState::Printing);
            until(t, &mut s, printing, Duration::from_millis(50), &mut seen).await?;
            expect_ok(t.printer.pause().await, "pause")?;
            let paused = shown(h, PrinterState::Paused, PrinterState::Paused);
            until(t, &mut s, paused, Duration::from_millis(100), &mut seen).await?;
            expect_ok(t.printer.resume().await, "resume")?;
            until(t, &mut s, printing, Duration::from_millis(50), &mut seen).await?;
            expect_ok(t.printer.cancel().await, "cancel")?;
            let cancelled = shown(h, PrinterState::Cancelled, PrinterState::Idle);
            until(t, &mut s, cancelled, Duration::from_millis(50), &mut seen).await?;
            for pair in seen.windows(2) {
                ensure(changed(&pair[0].status, &pair[1].status, 1.0), || {
                    format!("two equal items in a row: {:?}", pair[1].status.state)
                })?;
            }
            Ok(())
        }
        .await,
    )
}

/// The server stops answering (connections closed): the stream yields one error, keeps
/// trying, and when the server answers again yields a fresh full status.
pub async fn case_survives_a_lost_server(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            let mut s = watch(t.printer.clone(), WatchOptions::every(EVERY));
            let first = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
            ensure(matches!(first, Ok(Some(Ok(_)))), || {
                format!("no first status: {first:?}")
            })?;
            // HTTP requests and push sockets alike.
            server.inject(Fault::Drop { count: 1000 });
            server.inject(Fault::SocketsDown);
            let err = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
            server.clear_faults();
            ensure(matches!(err, Ok(Some(Err(_)))), || {
                format!("the lost server was not reported: {err:?}")
            })?;
            let back = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
            match back {
                Ok(Some(Ok(u))) if u.change == Change::Reconnected => Ok(()),
                other => Err(Outcome::fail(format!(
                    "no fresh status after the server came back: {other:?}"
                ))),
            }
        }
        .await,
    )
}

/// A command sent through the same printer shows in its stream soon: within the fast poll
/// after it (a poller reads at once after a command of its client) or within a push period,
/// though idle polls are a minute apart.
pub async fn case_sees_its_own_command_soon(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let options = WatchOptions {
                idle: Duration::from_secs(60),
                active: Duration::from_secs(60),
                fast: Duration::from_millis(200),
                fast_for: Duration::from_secs(2),
                ..WatchOptions::default()
            };
            let mut s = watch(t.printer.clone(), options);
            let first = tokio::time::timeout(Duration::from_secs(10), s.next()).await;
            let first = match first {
                Ok(Some(Ok(u))) => u,
                other => return Err(Outcome::fail(format!("no first status: {other:?}"))),
            };
            expect_ok(
                t.printer.start_print(&h.long_print_file()).await,
                "start_print",
            )?;
            let started = std::time::Instant::now();
            let bound = Duration::from_secs(3);
            let seen = loop {
                let left = bound.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, s.next()).await {
                    Ok(Some(Ok(u))) if u.status.state != first.status.state => break Ok(()),
                    Ok(Some(Ok(_))) => {}
                    Ok(other) => break Err(Outcome::fail(format!("the stream said {other:?}"))),
                    Err(_) => {
                        break Err(Outcome::fail(format!(
                            "the started print did not show within {bound:?}"
                        )))
                    }
                }
            };
            // Leave no print running (a live printer is shared by the cases after this one).
            let _ = t.printer.cancel().await;
            seen
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    use Feature::*;
    vec![
        case!(
            "stream.lifecycle",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            case_lifecycle
        ),
        case!(
            "stream.sees_its_own_command_soon",
            PrintStart | Cancel,
            Printer,
            true,
            case_sees_its_own_command_soon
        ),
        case!(
            "stream.survives_a_lost_server",
            none(),
            ServedMock,
            false,
            case_survives_a_lost_server
        ),
    ]
}
