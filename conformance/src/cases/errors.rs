//! Errors an application must be able to tell apart: InvalidState, NotFound, Auth,
//! Unreachable, each for the situation that causes it.

use std::time::{Duration, Instant};

use polyprint::transport::{HttpConfig, RetryPolicy};
use polyprint::{ErrorKind, Feature, PrinterState};

use crate::cases::lifecycle::{cleanup_cancel, shown, start_and_wait_printing};
use crate::cases::{none, Case};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_err, expect_ok, expect_state, finish, Outcome, Step};
use crate::wait::{pass_time, status};

/// HTTP settings for network cases: short timeouts, no retries.
pub fn quick_http(request_timeout: Duration) -> HttpConfig {
    HttpConfig {
        connect_timeout: request_timeout,
        request_timeout,
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    }
}

/// The reason network cases give for an embedded backend.
pub const NO_NETWORK: &str = "no network: embedded backend";

/// Pause with no job is InvalidState.
pub async fn case_pause_when_idle(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        expect_err(
            t.printer.pause().await,
            ErrorKind::InvalidState,
            "pause when idle",
        )
        .map(|_| ()),
    )
}

/// Resume with no job is InvalidState.
pub async fn case_resume_when_idle(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        expect_err(
            t.printer.resume().await,
            ErrorKind::InvalidState,
            "resume when idle",
        )
        .map(|_| ()),
    )
}

/// Cancel with no job is InvalidState.
pub async fn case_cancel_when_idle(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        expect_err(
            t.printer.cancel().await,
            ErrorKind::InvalidState,
            "cancel when idle",
        )
        .map(|_| ()),
    )
}

async fn with_print<F, Fut>(t: &Target, h: &dyn Harness, body: F) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Step>,
{
    let result = async {
        start_and_wait_printing(t, h, &h.long_print_file()).await?;
        body().await?;
        expect_ok(t.printer.cancel().await, "cancel").map(|_| ())
    }
    .await;
    if result.is_err() {
        cleanup_cancel(t).await;
    }
    finish(result)
}

/// Resume while printing is InvalidState, for backends that refuse it. Backends whose harness
/// declares it a documented no-op skip this (and run `resume_while_printing_noop`).
pub async fn case_resume_while_printing_refused(t: &Target, h: &dyn Harness) -> Outcome {
    if h.resume_while_printing_is_noop() {
        return Outcome::skip("declared a no-op by the backend; see resume_while_printing_noop");
    }
    with_print(t, h, || async {
        expect_err(
            t.printer.resume().await,
            ErrorKind::InvalidState,
            "resume while printing",
        )
        .map(|_| ())
    })
    .await
}

/// Resume while printing, for backends that document it as an accepted no-op (OctoPrint's
/// 204): Ok, and the job keeps printing.
pub async fn case_resume_while_printing_noop(t: &Target, h: &dyn Harness) -> Outcome {
    if !h.resume_while_printing_is_noop() {
        return Outcome::skip("backend refuses it; see resume_while_printing_refused");
    }
    with_print(t, h, || async {
        expect_ok(t.printer.resume().await, "resume while printing")?;
        pass_time(t, Duration::from_millis(200)).await;
        let s = status(t).await?;
        expect_state(
            &s,
            shown(h, PrinterState::Printing, PrinterState::Printing),
            "after the no-op resume",
        )
    })
    .await
}

/// Starting a file that does not exist is NotFound.
pub async fn case_start_missing_file(t: &Target, _h: &dyn Harness) -> Outcome {
    let r = t
        .printer
        .start_print("polyprint-conformance-missing.gcode")
        .await;
    finish(expect_err(r, ErrorKind::NotFound, "start_print(missing file)").map(|_| ()))
}

/// Starting while a job runs is InvalidState.
pub async fn case_start_while_printing(t: &Target, h: &dyn Harness) -> Outcome {
    with_print(t, h, || async {
        let r = t.printer.start_print(&h.short_print_file()).await;
        expect_err(r, ErrorKind::InvalidState, "start_print while printing").map(|_| ())
    })
    .await
}

/// A wrong credential is Auth, for a read and (where pausing is supported) for a command.
pub async fn case_auth_wrong_key(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let Some(base) = t.base_url() else {
                return Err(Outcome::skip(NO_NETWORK));
            };
            let Some(p) = h.connect(
                &base,
                "polyprint-wrong-key",
                quick_http(Duration::from_secs(5)),
            ) else {
                return Err(Outcome::skip(NO_NETWORK));
            };
            expect_err(
                p.status().await,
                ErrorKind::Auth,
                "status() with a wrong key",
            )?;
            if expect_ok(t.printer.features().await, "features")?.contains(Feature::PauseResume) {
                expect_err(p.pause().await, ErrorKind::Auth, "pause() with a wrong key")?;
            }
            Ok(())
        }
        .await,
    )
}

/// A closed port is Unreachable, promptly.
pub async fn case_unreachable(_t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0")
                    .map_err(|e| Outcome::fail(format!("binding a port: {e}")))?;
                l.local_addr()
                    .map_err(|e| Outcome::fail(e.to_string()))?
                    .port()
            };
            let url = format!("http://127.0.0.1:{port}");
            let Some(p) = h.connect(&url, "polyprint-key", quick_http(Duration::from_secs(2)))
            else {
                return Err(Outcome::skip(NO_NETWORK));
            };
            let started = Instant::now();
            expect_err(
                p.status().await,
                ErrorKind::Unreachable,
                "status() on a closed port",
            )?;
            let took = started.elapsed();
            ensure(took < Duration::from_secs(2), || {
                format!("took {took:?} to report a closed port")
            })
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    use Feature::*;
    vec![
        case!(
            "errors.pause_when_idle",
            PauseResume.into(),
            Printer,
            false,
            case_pause_when_idle
        ),
        case!(
            "errors.resume_when_idle",
            PauseResume.into(),
            Printer,
            false,
            case_resume_when_idle
        ),
        case!(
            "errors.cancel_when_idle",
            Cancel.into(),
            Printer,
            false,
            case_cancel_when_idle
        ),
        case!(
            "errors.resume_while_printing_refused",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            case_resume_while_printing_refused
        ),
        case!(
            "errors.resume_while_printing_noop",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            case_resume_while_printing_noop
        ),
        case!(
            "errors.start_missing_file",
            PrintStart.into(),
            Printer,
            false,
            case_start_missing_file
        ),
        case!(
            "errors.start_while_printing",
            PrintStart | Cancel,
            Printer,
            true,
            case_start_while_printing
        ),
        case!(
            "errors.auth_wrong_key",
            none(),
            Printer,
            false,
            case_auth_wrong_key
        ),
        case!(
            "errors.unreachable",
            none(),
            Printer,
            false,
            case_unreachable
        ),
    ]
}
