//! What an application does with each kind of error, on an OctoPrint mock: every error has a
//! kind to match on, a stable code, and says whether trying again can help. A command whose
//! answer was lost is never retried by polyprint: read the status, then decide.
//!
//! ```text
//! cargo run -p polyprint-backends --features mock --example errors_by_kind
//! ```

use polyprint::descriptor::{mock_endpoint, MockOptions};
use polyprint::mockserver::Fault;
use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::transport::HttpConfig;
use polyprint::{Endpoint, Error, ErrorKind, Heater};

/// How an application might react to an error.
fn advice(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::Unsupported => "hide the button: this printer cannot do it",
        ErrorKind::InvalidArgument => "fix the input: nothing was sent",
        ErrorKind::InvalidState => "wait for the right state, then ask again",
        ErrorKind::NotFound => "pick another file",
        ErrorKind::Auth => "ask the person for a new key",
        ErrorKind::OutcomeUnknown => "read the status before sending it again",
        _ if e.is_retryable() => "try again later",
        _ => "report it",
    }
}

fn show(what: &str, e: &Error) {
    println!(
        "{what:<28} {:<16} retryable={:<5} -> {}\n{:<28} {e}",
        e.kind().code(),
        e.is_retryable(),
        advice(e),
        ""
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptor = polyprint_backends::find("octoprint")?;
    let mock = descriptor
        .start_mock(VirtualPrinter::new(), MockOptions::default())
        .await
        .ok_or("no mock")?;
    let endpoint = mock_endpoint(mock.as_ref());
    let printer = descriptor.open(&endpoint, HttpConfig::default())?;
    let mut seen = Vec::new();
    let mut check = |what: &str, r: polyprint::Result<()>, want: ErrorKind| match r {
        Err(e) if e.kind() == want => {
            show(what, &e);
            seen.push(want);
        }
        other => panic!("{what}: expected {want:?}, got {other:?}"),
    };

    check(
        "light on (OctoPrint has none)",
        printer.set_light(true).await,
        ErrorKind::Unsupported,
    );
    check(
        "bed to NaN °C",
        printer.set_target(Heater::Bed, f64::NAN).await,
        ErrorKind::InvalidArgument,
    );
    check(
        "pause with nothing printing",
        printer.pause().await,
        ErrorKind::InvalidState,
    );
    check(
        "start a missing file",
        printer.start_print("nope.gcode").await,
        ErrorKind::NotFound,
    );
    let wrong = descriptor.open(
        &Endpoint::new(endpoint.url_or_empty(), "wrong-key"),
        HttpConfig::default(),
    )?;
    check(
        "status with a wrong key",
        wrong.status().await.map(drop),
        ErrorKind::Auth,
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let gone = descriptor.open(
        &Endpoint::new(format!("http://127.0.0.1:{closed}"), "key"),
        HttpConfig::default(),
    )?;
    check(
        "status of a server that is gone",
        gone.status().await.map(drop),
        ErrorKind::Unreachable,
    );

    // The start reaches the server, which closes the connection without answering.
    mock.mock_server().inject(Fault::Drop { count: 1 });
    check(
        "start, answer lost",
        printer.start_print(DEMO_FILE).await,
        ErrorKind::OutcomeUnknown,
    );
    let s = printer.status().await?;
    let verdict = if s.state.has_active_job() {
        "the start was carried out: do not send it again"
    } else {
        "the start was not carried out: it is safe to send it again"
    };
    println!("{:<28} the status says {}: {verdict}", "", s.state);
    assert_eq!(seen.len(), 7);
    Ok(())
}
