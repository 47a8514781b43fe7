//! A hostile server, through the mock's fault injection: answers lost after a command went
//! out, and redirects to another origin on reads and on commands. No command is sent twice,
//! a lost answer is OutcomeUnknown (never "unreachable", never retryable), no credential
//! reaches another origin, and a redirected command is never reported as done.

use std::time::{Duration, Instant};

use polyprint::mockserver::{quick_http, Fault, Recorded};
use polyprint::transport::HttpConfig;
use polyprint::ErrorKind;
use wiremock::{Mock, MockServer as Catcher, ResponseTemplate};

use crate::cases::faults::{commands, served, CommandCall};
use crate::cases::{none, Case};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_err, expect_ok, finish, Outcome, Step};

/// The commands this target has, with their names, in an order the virtual printer can take
/// them: those for an idle printer first (the faults keep them from being carried out).
async fn supported(t: &Target) -> Step<Vec<(&'static str, CommandCall)>> {
    let features = expect_ok(t.printer.features().await, "features")?;
    let mut list: Vec<_> = commands()
        .into_iter()
        .filter(|(_, f, _)| features.contains(*f))
        .map(|(name, _, call)| (name, call))
        .collect();
    list.sort_by_key(|(name, _)| needs_a_job(name));
    if list.is_empty() {
        return Err(Outcome::skip(
            "no command among pause, cancel, start, set_target",
        ));
    }
    Ok(list)
}

/// Whether the command is for a printer with a job (pause, cancel).
fn needs_a_job(name: &str) -> bool {
    matches!(name, "pause" | "cancel")
}

/// Puts the virtual printer where the command makes sense, so a backend that checks the
/// state first (Prusa Connect) sends it: a print for pause and cancel.
fn prepare(t: &Target, name: &str) -> Step {
    let (control, _) = served(t)?;
    let mut p = control.printer().lock();
    if needs_a_job(name) && p.view().job.is_none() {
        p.start(polyprint::sim::DEMO_FILE)
            .map_err(|e| Outcome::fail(format!("starting a print for {name}: {e}")))?;
    }
    Ok(())
}

/// The command requests (any method but GET) in a journal.
fn command_requests(journal: &[Recorded]) -> Vec<&Recorded> {
    journal.iter().filter(|r| r.method != "GET").collect()
}

/// Each command whose answer is lost: its connection closed after the request with no
/// answer, a gateway's 502 or 504 for it, or the answer (the command carried out) arriving
/// only after the client's timeout. Exactly one request, and OutcomeUnknown (the printer may
/// have it), not retryable.
pub async fn case_command_answer_lost(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (control, server) = served(t)?;
            // A client of the same printer that gives up on an answer after 300 ms, for the
            // late answers (the target's own waits seconds).
            let timeout = Duration::from_millis(300);
            let impatient = t
                .base_url()
                .and_then(|url| {
                    let http = HttpConfig {
                        request_timeout: timeout,
                        deadline: Duration::from_secs(3),
                        ..quick_http()
                    };
                    h.connect(&url, control.credential().unwrap_or_default(), http)
                })
                .ok_or_else(|| Outcome::fail("cannot connect a second client to the mock"))?;
            let faults = [
                ("closed", Fault::Drop { count: 1 }),
                (
                    "502",
                    Fault::Status {
                        status: 502,
                        count: 1,
                    },
                ),
                (
                    "504",
                    Fault::Status {
                        status: 504,
                        count: 1,
                    },
                ),
                (
                    "answered after the timeout",
                    Fault::Late {
                        delay: timeout * 3,
                        count: 1,
                    },
                ),
            ];
            for (name, call) in supported(t).await? {
                for (how, fault) in &faults {
                    prepare(t, name)?;
                    server.clear_faults();
                    server.clear_journal();
                    server.inject(Fault::OnCommands(Box::new(fault.clone())));
                    let printer = match fault {
                        Fault::Late { .. } => impatient.as_ref(),
                        _ => t.printer.as_ref(),
                    };
                    let started = Instant::now();
                    let r = call(printer).await;
                    let took = started.elapsed();
                    server.clear_faults();
                    let what = format!("{name} ({how})");
                    let e = expect_err(r, ErrorKind::OutcomeUnknown, &what)?;
                    ensure(!e.is_retryable(), || format!("{what}: {e} is retryable"))?;
                    let journal = server.journal();
                    let sent = command_requests(&journal);
                    ensure(sent.len() == 1, || {
                        format!("{what} sent {} command requests", sent.len())
                    })?;
                    if matches!(fault, Fault::Late { .. }) {
                        ensure(took < timeout * 3, || {
                            format!("{what} waited {took:?} for a {timeout:?} timeout")
                        })?;
                    }
                }
            }
            Ok(())
        }
        .await,
    )
}

/// A server on another origin that records what reaches it.
async fn catcher() -> Catcher {
    let c = Catcher::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&c)
        .await;
    c
}

/// Reads redirected (302) to another origin: an error of its own kind, and nothing at all
/// reaches the other origin (so neither does the credential).
pub async fn case_read_redirected_away(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            let away = catcher().await;
            server.inject(Fault::Redirect {
                status: 302,
                location: format!("{}/elsewhere?token=stolen", away.uri()),
                count: 20,
            });
            let r = t.printer.status().await;
            server.clear_faults();
            let e = expect_err(r, ErrorKind::Redirected, "status() redirected away")?;
            ensure(!e.to_string().contains("stolen"), || {
                format!("the error shows the redirect's query: {e}")
            })?;
            let reached = away.received_requests().await.unwrap_or_default();
            ensure(reached.is_empty(), || {
                format!("{} requests reached the other origin", reached.len())
            })
        }
        .await,
    )
}

/// Each command answered with a 301, 302, 307 or 308 to another origin: not reported as
/// done, sent once, not re-sent there (with or without the credential, as any method).
pub async fn case_command_redirected_away(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (_, server) = served(t)?;
            let away = catcher().await;
            for (name, call) in supported(t).await? {
                for status in [301u16, 302, 307, 308] {
                    prepare(t, name)?;
                    server.clear_faults();
                    server.clear_journal();
                    server.inject(Fault::OnCommands(Box::new(Fault::Redirect {
                        status,
                        location: format!("{}/{name}", away.uri()),
                        count: 1,
                    })));
                    let r = call(t.printer.as_ref()).await;
                    server.clear_faults();
                    expect_err(
                        r,
                        ErrorKind::Redirected,
                        &format!("{name} under a {status}"),
                    )?;
                    let journal = server.journal();
                    let sent = command_requests(&journal);
                    ensure(sent.len() == 1, || {
                        format!("{name} under a {status} sent {} requests", sent.len())
                    })?;
                }
            }
            let reached = away.received_requests().await.unwrap_or_default();
            ensure(reached.is_empty(), || {
                format!("{} requests reached the other origin", reached.len())
            })
        }
        .await,
    )
}

/// An error body that echoes the request, credential included, on a read and on each
/// command: the error (its text and its `Debug`) never shows the credential.
pub async fn case_error_echoes_the_credential(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let (control, server) = served(t)?;
            let credential = control.credential().unwrap_or_default().to_string();
            ensure(credential.len() >= 4, || {
                "the mock has no credential".into()
            })?;
            let check = |what: &str, e: &polyprint::Error| {
                let shown = format!("{e} {e:?}");
                ensure(!shown.contains(&credential), || {
                    format!("{what}: the error shows the credential: {shown}")
                })
            };
            server.inject(Fault::EchoHeaders { count: 20 });
            let r = t.printer.status().await;
            server.clear_faults();
            match r {
                Err(e) => check("status()", &e)?,
                Ok(_) => return Err(Outcome::fail("status() under an echoing 400 returned Ok")),
            }
            let calls = supported(t).await.unwrap_or_default();
            for (name, call) in calls {
                prepare(t, name)?;
                server.inject(Fault::OnCommands(Box::new(Fault::EchoHeaders { count: 1 })));
                let r = call(t.printer.as_ref()).await;
                server.clear_faults();
                if let Err(e) = r {
                    check(name, &e)?;
                }
            }
            Ok(())
        }
        .await,
    )
}

/// The same backend against servers that drip, never finish their headers, flood headers,
/// or send endless bodies: each `status()` returns an error within its deadline (never hangs,
/// never panics, never buffers the endless body): a timeout for the slow ones, a protocol
/// error for the floods.
pub async fn case_endless_and_huge_answers(t: &Target, h: &dyn Harness) -> Outcome {
    use crate::hostile_server::{Behaviour, HostileServer};
    use std::time::{Duration, Instant};
    finish(
        async {
            let deadline = Duration::from_millis(600);
            let http = polyprint::transport::HttpConfig {
                deadline,
                ..crate::cases::errors::quick_http(Duration::from_millis(300))
            };
            let credential = t
                .control
                .as_ref()
                .and_then(|c| c.credential().map(str::to_string))
                .unwrap_or_else(|| "polyprint-hostile".into());
            for behaviour in Behaviour::ALL {
                let server = HostileServer::start(behaviour)
                    .await
                    .map_err(|e| Outcome::fail(format!("hostile server: {e}")))?;
                let Some(p) = h.connect(server.url(), &credential, http.clone()) else {
                    return Err(Outcome::skip(crate::cases::errors::NO_NETWORK));
                };
                let started = Instant::now();
                let r = tokio::time::timeout(deadline * 5, p.status()).await;
                let took = started.elapsed();
                let want = match behaviour {
                    Behaviour::Drip | Behaviour::EndlessHeaders => ErrorKind::Timeout,
                    _ => ErrorKind::Protocol,
                };
                match r {
                    Err(_) => {
                        return Err(Outcome::fail(format!(
                            "{behaviour:?}: status() still running after {took:?}"
                        )))
                    }
                    Ok(r) => {
                        expect_err(r, want, &format!("{behaviour:?}"))?;
                    }
                }
                ensure(took <= deadline * 3, || {
                    format!("{behaviour:?}: status() took {took:?}, deadline {deadline:?}")
                })?;
            }
            Ok(())
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    vec![
        case!(
            "hostile.command_answer_lost",
            none(),
            ServedMock,
            false,
            case_command_answer_lost
        ),
        case!(
            "hostile.read_redirected_away",
            none(),
            ServedMock,
            false,
            case_read_redirected_away
        ),
        case!(
            "hostile.command_redirected_away",
            none(),
            ServedMock,
            false,
            case_command_redirected_away
        ),
        case!(
            "hostile.endless_and_huge_answers",
            none(),
            Printer,
            false,
            case_endless_and_huge_answers
        ),
        case!(
            "hostile.error_echoes_the_credential",
            none(),
            ServedMock,
            false,
            case_error_echoes_the_credential
        ),
    ]
}
