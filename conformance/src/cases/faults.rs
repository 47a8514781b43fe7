//! Faults injected into a served mock: a server that hangs, bodies that cannot be decoded,
//! expired credentials, transient 5xx bursts and dropped connections. Reads recover by
//! retrying; commands are never sent twice.

use std::time::{Duration, Instant};

use polyprint::mockserver::{Fault, MockServer, Recorded};
use polyprint::sim::DEMO_FILE;
use polyprint::{ErrorKind, Feature, Heater, Printer};

use crate::cases::errors::{quick_http, NO_NETWORK};
use crate::cases::BoxFuture;
use crate::cases::{none, Case};
use crate::harness::{Harness, MockControl, Target};
use crate::outcome::{ensure, expect_err, expect_ok, finish, Outcome, Step};

/// The request timeout of the hanging-server case.
pub const HANG_TIMEOUT: Duration = Duration::from_millis(300);

/// The control and server of a served mock, or the skip reason.
pub(crate) fn served(t: &Target) -> Step<(&MockControl, &MockServer)> {
    let control = t
        .control
        .as_ref()
        .ok_or_else(|| Outcome::skip("needs mock control"))?;
    let server = control.server().ok_or_else(|| Outcome::skip(NO_NETWORK))?;
    Ok((control, server))
}

/// The same adapter on the mock, with its own HTTP settings.
fn reconnect(
    t: &Target,
    h: &dyn Harness,
    http: polyprint::transport::HttpConfig,
) -> Step<std::sync::Arc<dyn Printer>> {
    let (control, server) = served(t)?;
    h.connect(
        &server.uri(),
        control.credential().unwrap_or_default(),
        http,
    )
    .ok_or_else(|| Outcome::skip(NO_NETWORK))
}

/// A server that never answers: Timeout, within five times the request timeout.
pub async fn case_timeout(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            let p = reconnect(t, h, quick_http(HANG_TIMEOUT))?;
            server.inject(Fault::Hang);
            let started = Instant::now();
            let r = p.status().await;
            let took = started.elapsed();
            server.clear_faults();
            expect_err(r, ErrorKind::Timeout, "status() against a hanging server")?;
            ensure(took < HANG_TIMEOUT * 5, || {
                format!("returned after {took:?}, more than 5 × {HANG_TIMEOUT:?}")
            })
        }
        .await,
    )
}

async fn undecodable(t: &Target, h: &dyn Harness, fault: Fault) -> Step {
    let (control, server) = served(t)?;
    let p = reconnect(t, h, quick_http(Duration::from_secs(5)))?;
    server.inject(fault.clone());
    let r = p.status().await;
    server.clear_faults();
    let e = expect_err(r, ErrorKind::Protocol, &format!("status() under {fault:?}"))?;
    if let Some(key) = control.credential().filter(|k| !k.is_empty()) {
        ensure(!e.to_string().contains(key), || {
            "the error message contains the credential".into()
        })?;
    }
    Ok(())
}

/// A 200 whose body is not JSON: Protocol (no retries).
pub async fn case_malformed(t: &Target, h: &dyn Harness) -> Outcome {
    finish(undecodable(t, h, Fault::Malformed { count: 4 }).await)
}

/// A 200 whose JSON is cut off: Protocol (no retries).
pub async fn case_truncated(t: &Target, h: &dyn Harness) -> Outcome {
    finish(undecodable(t, h, Fault::Truncated { count: 4 }).await)
}

/// Credentials that stop working: Auth; once they work again, reads succeed.
pub async fn case_expired_auth(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            server.inject(Fault::ExpiredAuth);
            let r = t.printer.status().await;
            server.clear_faults();
            expect_err(r, ErrorKind::Auth, "status() with expired credentials")?;
            expect_ok(
                t.printer.status().await,
                "status() after the credentials work again",
            )
            .map(|_| ())
        }
        .await,
    )
}

/// Every faulted request in the journal was retried: a later unfaulted request with the
/// same method and path follows it.
fn all_retried(journal: &[Recorded]) -> Step {
    for (i, r) in journal.iter().enumerate().filter(|(_, r)| r.faulted) {
        ensure(r.method == "GET", || {
            format!("faulted request {} {} is not a read", r.method, r.path)
        })?;
        let retried = journal[i + 1..]
            .iter()
            .any(|later| !later.faulted && later.method == r.method && later.path == r.path);
        ensure(retried, || {
            format!("{} {} was not retried", r.method, r.path)
        })?;
    }
    Ok(())
}

fn faulted(journal: &[Recorded]) -> usize {
    journal.iter().filter(|r| r.faulted).count()
}

/// Two 503s, then the server recovers: status() succeeds, and the journal shows the retries.
pub async fn case_read_retried(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            server.clear_journal();
            server.inject(Fault::Status {
                status: 503,
                count: 2,
            });
            let r = t.printer.status().await;
            server.clear_faults();
            expect_ok(r, "status() after two 503s")?;
            let journal = server.journal();
            ensure(faulted(&journal) == 2, || {
                format!(
                    "{} faulted requests in the journal, expected the 2 injected",
                    faulted(&journal)
                )
            })?;
            all_retried(&journal)
        }
        .await,
    )
}

/// A connection closed with no answer, then the server recovers: status() succeeds.
pub async fn case_read_after_drop(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            server.clear_journal();
            server.inject(Fault::Drop { count: 1 });
            let r = t.printer.status().await;
            server.clear_faults();
            expect_ok(r, "status() after a dropped connection")?;
            let journal = server.journal();
            ensure(faulted(&journal) == 1, || {
                format!("{} faulted requests", faulted(&journal))
            })?;
            all_retried(&journal)
        }
        .await,
    )
}

/// One command, called on a printer.
pub(crate) type CommandCall = for<'a> fn(&'a dyn Printer) -> BoxFuture<'a, polyprint::Result<()>>;

/// The commands the fault cases send, each with its feature.
pub(crate) fn commands() -> Vec<(&'static str, Feature, CommandCall)> {
    fn pause(p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
        Box::pin(p.pause())
    }
    fn cancel(p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
        Box::pin(p.cancel())
    }
    fn start(p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
        Box::pin(p.start_print(DEMO_FILE))
    }
    fn heat(p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
        Box::pin(p.set_target(Heater::Bed, 50.0))
    }
    vec![
        ("pause", Feature::PauseResume, pause),
        ("cancel", Feature::Cancel, cancel),
        ("start_print", Feature::PrintStart, start),
        ("set_target", Feature::TemperatureControl, heat),
    ]
}

/// Under a burst of five 503s, each command (pause, cancel, start, set_target, where
/// supported) fails and reaches the server at most once: commands are never retried. Reads a
/// backend makes before its command (a state pre-check, PrusaLink's job id) are safe and may
/// be retried; only the command requests (anything but GET) are counted. A command whose
/// pre-check the burst refused is not sent at all, which is fine; at least one command must
/// have reached the server for the case to say anything.
pub async fn case_command_sent_once(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            let features = expect_ok(t.printer.features().await, "features")?;
            let supported: Vec<_> = commands()
                .into_iter()
                .filter(|(_, f, _)| features.contains(*f))
                .collect();
            if supported.is_empty() {
                return Err(Outcome::skip(
                    "no command among pause, cancel, start, set_target",
                ));
            }
            let mut result = Ok(());
            let mut reached = 0;
            for (name, _, call) in supported {
                server.clear_faults();
                server.inject(Fault::Status {
                    status: 503,
                    count: 5,
                });
                server.clear_journal();
                let r = call(t.printer.as_ref()).await;
                let journal = server.journal();
                let sent: Vec<_> = journal.iter().filter(|r| r.method != "GET").collect();
                reached += sent.len();
                let check = match r {
                    Ok(()) => Err(Outcome::fail(format!("{name} under a 503 returned Ok"))),
                    Err(e) if e.is_retryable() => Err(Outcome::fail(format!(
                        "{name} under a 503: {e} is retryable; a command's error never is"
                    ))),
                    Err(_) => ensure(sent.len() <= 1 && sent.iter().all(|r| r.faulted), || {
                        let all: Vec<String> = journal
                            .iter()
                            .map(|r| format!("{} {}", r.method, r.path))
                            .collect();
                        format!(
                            "{name} under a 503 burst sent {} command requests (all: {all:?})",
                            sent.len()
                        )
                    }),
                };
                if check.is_err() {
                    result = check;
                    break;
                }
            }
            server.clear_faults();
            if result.is_ok() && reached == 0 {
                result = Err(Outcome::fail(
                    "no command reached the server under the 503 burst".to_string(),
                ));
            }
            result
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    vec![
        case!("faults.timeout", none(), ServedMock, false, case_timeout),
        case!(
            "faults.malformed_body",
            none(),
            ServedMock,
            false,
            case_malformed
        ),
        case!(
            "faults.truncated_body",
            none(),
            ServedMock,
            false,
            case_truncated
        ),
        case!(
            "faults.expired_auth",
            none(),
            ServedMock,
            false,
            case_expired_auth
        ),
        case!(
            "faults.read_retried_after_5xx",
            none(),
            ServedMock,
            false,
            case_read_retried
        ),
        case!(
            "faults.read_retried_after_drop",
            none(),
            ServedMock,
            false,
            case_read_after_drop
        ),
        case!(
            "faults.command_sent_once_under_5xx",
            none(),
            ServedMock,
            false,
            case_command_sent_once
        ),
    ]
}
