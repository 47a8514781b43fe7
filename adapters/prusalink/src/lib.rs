//! # polyprint-prusalink
//!
//! The [PrusaLink](https://github.com/prusa3d/Prusa-Link) adapter for polyprint: [`PrusaLink`]
//! is a [`polyprint::Backend`], and so a [`polyprint::Printer`]. PrusaLink is the local HTTP
//! API of Prusa printers: the Python daemon on a Raspberry Pi wired to an MK3/MK3S/MK2.5, and
//! the firmware of the MK4, MK3.9, XL, MINI and CORE One. Measured against the 0.8.1 daemon
//! with an emulated MK3S (`scripts/prusalink/`); the firmware's PrusaLink serves its API under
//! similar names, but nothing here was verified against it.
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::{VirtualPrinter, DEMO_FILE};
//! use polyprint::Printer;
//! use polyprint_prusalink::{mock::{PrusaLinkMock, MOCK_API_KEY}, PrusaLink};
//! // A server that answers like PrusaLink 0.8 (`mock` feature); a real one is the same call.
//! let server = PrusaLinkMock::start(VirtualPrinter::new()).await;
//! let printer = PrusaLink::builder(server.uri()).api_key(MOCK_API_KEY).build()?;
//! printer.start_print(DEMO_FILE).await?;
//! let status = printer.status().await?;
//! assert!(status.state.has_active_job(), "{} ({})", status.state, status.raw_state);
//! printer.cancel().await?;
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
//! ```
//!
//! ## Credentials
//!
//! The API key from the printer's settings goes in `X-Api-Key` (a wrong key is 403, none is
//! 401). A credential written `user:password` (`maker:<password>`) is HTTP Digest instead:
//! PrusaLink accepts only `MD5-sess` answers, which the core transport gives
//! ([`polyprint::digest`]). Its first request meets the 401 challenge and is sent once more
//! with the answer; the challenge is then kept for every later request.
//!
//! ## Status
//!
//! A status reads `GET /api/v1/status` and `GET /api/v1/job` concurrently (the job only
//! names the file; it is 204 whenever no job runs or is paused) and maps them with one pure
//! function, `map_status`. `raw_state` is `printer.state`.
//!
//! | PrusaLink | [`PrinterState`](polyprint::PrinterState) | notes |
//! |---|---|---|
//! | 503 "Printer Unavailable" (after the transport's retries) | Offline | the daemon is starting (about 6 s) or has no printer yet; `raw_state` `UNAVAILABLE` |
//! | `ERROR`, `status_printer.message` "Serial device does not exist" | Offline | no printer on the serial port |
//! | `IDLE`, `READY` | Idle | |
//! | `BUSY` | Busy | at start, and while the printer reports `busy: processing` |
//! | `PRINTING` | Printing | also for the 1.7 s between a pause's 204 and `PAUSED`, and between a stop's 204 and `STOPPED` |
//! | `PAUSED` | Paused | |
//! | `FINISHED` | Finished | for 11 s after the end, then `IDLE`; a start is refused (409) meanwhile |
//! | `STOPPED` | Cancelled | for 11 s after a stop, then `IDLE`; a start is refused meanwhile |
//! | `ATTENTION` | Attention | the printer waits for a person |
//! | `ERROR` | Error | `message` is `status_printer.message` |
//! | anything else | Unknown | |
//!
//! The job's file is `/api/v1/job`'s `file.display_name`; progress (0–100) and time left
//! come from the file's own `M73` lines through the printer; `time_printing` 0 (a printer
//! without an SD timer) is unknown. Heaters are `tool0` (the nozzle) and `bed`. Layers and
//! filament are not reported. Telemetry follows the printer's 2 s autoreport, so a new target
//! shows up to 2 s late.
//!
//! ## Features
//!
//! Claimed: PrintStart, PauseResume, Cancel, FileList, FileUpload, FileDelete. Live updates
//! come from the core's adaptive polling: PrusaLink has no push channel.
//!
//! Not claimed, because PrusaLink's v1 API has no route for them: TemperatureControl,
//! AxisMovement, Homing, Extrusion, GCode (the 0.8.1 daemon keeps an OctoPrint-style legacy
//! API with some of these, outside v1 and absent from the firmware's newer releases:
//! polyprint does not drive printers through it), LightControl, ObjectCancel, JobHistory,
//! PrintQueue, ConnectionControl, FailureDetection, StatusPush. WebcamSnapshot is not claimed
//! either: `/api/v1/cameras/snap` answers 404 without a camera, and none was available to
//! measure.
//!
//! ## Commands
//!
//! Each is sent once, never retried; PrusaLink answers 204 with an empty body.
//!
//! | action | request |
//! |---|---|
//! | start a stored file | `POST /api/v1/files/local/<path>` |
//! | pause / resume | `PUT /api/v1/job/<id>/pause` / `resume` |
//! | cancel | `DELETE /api/v1/job/<id>` |
//! | delete a file | `DELETE /api/v1/files/local/<path>` |
//!
//! The job id is read from `/api/v1/status` right before a job command; without a running or
//! paused job the command is [`Error::InvalidState`](polyprint::Error::InvalidState) and
//! nothing is sent. PrusaLink's 404 "Not Current Job" (the job changed in between: nothing was
//! carried out) reads the id again and sends the command once for the new job.
//!
//! PrusaLink refuses what it cannot do with 409: pausing a paused job ("Printer Is Not
//! Printing"), resuming a printing one ("Printer Is Not Paused"), starting while a job runs
//! or in the 11 s of `FINISHED`/`STOPPED` ("Not in state to print"), deleting the file being
//! printed. Those are [`Error::InvalidState`](polyprint::Error::InvalidState); see [`errors`].
//!
//! ## Files
//!
//! Listing reads `GET /api/v1/files/local` and each folder's own listing (8 levels, 200
//! folders at most); only the local storage is listed (the SD card is read only through
//! PrusaLink). An upload is a streamed `PUT /api/v1/files/local/<path>` with
//! `Content-Type: text/x.gcode` and `Overwrite: ?1` (a file of the same name is replaced, as
//! on every backend; without the header PrusaLink answers 409), then waits up to
//! [`UPLOAD_VISIBLE_WITHIN`] for the file to show: PrusaLink lists a new file 0.07–0.24 s
//! after its 201, and a print started earlier gets 404. Names with `..` or other traversal
//! are refused before sending (PrusaLink 0.8.1 writes `..%2F` names outside its storage).
//! Accepted extensions are `gcode`, `gco` and `g`. A delete likewise returns once the file is
//! gone from the listing (about 0.12 s after PrusaLink's 204).
//!
//! ## Mock
//!
//! With the `mock` feature, [`mock::PrusaLinkMock`] serves the virtual printer the way the
//! 0.8.1 daemon does.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod client;
pub mod errors;
pub mod mapping;
#[cfg(feature = "mock")]
pub mod mock;
pub mod wire;

pub use client::{
    base_features, Credential, PrusaLink, PrusaLinkBuilder, ENV_API_KEY, ENV_PASSWORD, ENV_URL,
    ENV_USER, UPLOAD_VISIBLE_WITHIN,
};
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "prusalink";

/// PrusaLink in the registry: a URL and a credential, the API key or `user:password` for
/// Digest. An ended job shows for 11 s and blocks a new start meanwhile; a pause, a resume and
/// a cancel show as Printing until the printer confirms them.
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "PrusaLink: url and API key (X-Api-Key), or user:password (HTTP Digest)",
        Fields::url_and_credential("an API key or user:password"),
        open,
    )
    .expecting(EXPECT);
    #[cfg(feature = "mock")]
    let d = d.with_mock(
        mock::start_for_registry,
        &[polyprint::descriptor::MockVariant {
            name: "default",
            expect: EXPECT,
        }],
    );
    d
};

const EXPECT: polyprint::descriptor::Expectations = polyprint::descriptor::Expectations {
    state: expected_state,
    ended_job_blocks_start: true,
    ..polyprint::descriptor::Expectations::DEFAULT
};

fn expected_state(state: polyprint::PrinterState) -> Option<polyprint::PrinterState> {
    use polyprint::PrinterState::*;
    match state {
        // PrusaLink has no words for the moments between a command and its effect: the job
        // reads PRINTING until the printer confirms.
        Pausing | Resuming | Cancelling => Some(Printing),
        s => Some(s),
    }
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let credential = Credential::parse(endpoint.credential_or_empty());
    // The transport takes the fleet's shared client from `http` when there is one.
    let printer = PrusaLink::builder(endpoint.url_or_empty())
        .credential(credential)
        .http(http)
        .build()?;
    Ok(std::sync::Arc::new(printer))
}

#[cfg(test)]
mod samples_test;
