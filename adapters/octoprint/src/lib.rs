//! # polyprint-octoprint
//!
//! The [OctoPrint](https://octoprint.org) adapter for polyprint: [`OctoPrint`] is a
//! [`polyprint::Backend`], and so a [`polyprint::Printer`]. Measured against OctoPrint 1.11.8
//! (see `shared/specs/octoprint.md`).
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::{VirtualPrinter, DEMO_FILE};
//! use polyprint::Printer;
//! use polyprint_octoprint::{mock::OctoPrintMock, OctoPrint};
//! // A server that answers like OctoPrint 1.11 (`mock` feature); a real one is the same call.
//! let server = OctoPrintMock::start(VirtualPrinter::new()).await;
//! let printer = OctoPrint::builder(server.uri())
//!     .api_key(server.api_key())
//!     .port("VIRTUAL")
//!     .build()?;
//! printer.set_target(polyprint::Heater::Bed, 60.0).await?;
//! printer.start_print(DEMO_FILE).await?;
//! let status = printer.status().await?;
//! assert!(status.state.has_active_job(), "{} ({})", status.state, status.raw_state);
//! printer.cancel().await?;
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
//! ```
//!
//! ## Status
//!
//! A status reads `GET /api/printer` and `GET /api/job` concurrently and maps them with one
//! pure function, `map_status`. `/api/printer` answers **409 "Printer is not operational"**
//! whenever the printer is offline, connecting or in error: that is a state, not an error, and
//! the state then comes from `/api/job`'s `state` (and its top-level `error`).
//! `raw_state` always carries OctoPrint's own text.
//!
//! | OctoPrint `state.text` (or `/api/job` `state`) | `/api/printer` | flags set | [`PrinterState`](polyprint::PrinterState) |
//! |---|---|---|---|
//! | `Offline`, `Closed` | 409 | — | Offline |
//! | `Opening serial connection`, `Detecting serial connection`, `Detecting baudrate`, `Connecting` | 409 | — | Busy |
//! | `Operational`, no file selected | 200 | operational, ready, sdReady | Idle |
//! | `Operational`, file selected, `completion` 100 | 200 | operational, ready, sdReady | Finished |
//! | `Operational`, file selected, every `progress` field `null` | 200 | operational, ready, sdReady | Cancelled |
//! | `Starting` (also `Starting print from SD`, `Starting to send file to SD`) | 200 | operational, printing, sdReady | WarmingUp |
//! | `Printing` (also `Printing from SD`, `Sending file to SD`) | 200 | operational, printing, sdReady | Printing |
//! | `Pausing` | 200 | operational, pausing, printing, sdReady | Pausing |
//! | `Paused` | 200 | operational, paused, sdReady (printing **false**) | Paused |
//! | `Resuming` | 200 | operational, resuming, printing, sdReady | Resuming |
//! | `Finishing` | 200 | finishing, operational, printing, sdReady | Printing (the job is still winding up) |
//! | `Cancelling` | 200 | cancelling, operational, printing, sdReady | Cancelling |
//! | `Error`, `Offline after error` | 409 | — | Error, message = `/api/job` top-level `error` |
//! | `Transferring file to SD` | 200 | operational | Busy |
//! | any other text | 200 | by flags: error → Error, cancelling, pausing, resuming, paused, printing/finishing → Printing, ready → Idle, operational → Busy | |
//! | any other text | 409 | — | Unknown |
//!
//! Notes: a file that was selected but never printed also has every progress field `null`, so
//! it reads as Cancelled (OctoPrint's answer does not tell them apart). Heaters are `tool0..N`,
//! `bed` and `chamber`; right after connecting `temperature` is `{}` and there are none. The
//! job's progress, elapsed and remaining time come from `completion`, `printTime` and
//! `printTimeLeft`; the filament is the sum of the tools' lengths; values OctoPrint sends as
//! `null` stay `None`. OctoPrint's `printTimeLeft` is derived from the file's analysis and can
//! be far off on its virtual printer.
//!
//! ## Features
//!
//! Claimed: PrintStart, PauseResume, Cancel, FileList, FileUpload, FileDelete,
//! TemperatureControl, AxisMovement, Homing, Extrusion, GCode, ConnectionControl, and
//! WebcamSnapshot only when asked for ([`OctoPrintBuilder::webcam`]) or detected
//! ([`OctoPrint::detect_webcam`]): OctoPrint's settings say the webcam is enabled even when no
//! camera is configured, and its snapshot endpoint then answers 500.
//!
//! Not claimed, because OctoPrint's core REST API has no endpoint for them (plugins may add
//! them, with their own APIs): LightControl, ObjectCancel (the Cancelobject plugin),
//! FailureDetection (Obico/The Spaghetti Detective plugins), JobHistory (the PrintJobHistory
//! plugin), PrintQueue (Continuous Print plugin).
//!
//! The set does not shrink while the printer is disconnected: the actions stay possible once it
//! is connected, and until then OctoPrint refuses them with 409, which is
//! [`Error::InvalidState`](polyprint::Error::InvalidState), not `Unsupported`.
//!
//! ## Commands
//!
//! Every command is one request, never retried, answered 204 with an empty body:
//!
//! | action | request |
//! |---|---|
//! | start a stored file | `POST /api/files/local/<path>` `{"command":"select","print":true}` |
//! | pause / resume | `POST /api/job` `{"command":"pause","action":"pause"}` / `"resume"` |
//! | cancel | `POST /api/job` `{"command":"cancel"}` |
//! | tool / bed / chamber target | `POST /api/printer/tool` `{"command":"target","targets":{"tool0":210}}`, `/bed` and `/chamber` `{"command":"target","target":60}` |
//! | jog | `POST /api/printer/printhead` `{"command":"jog","x":10,"y":-5,"speed":3000}` (absent axes left out) |
//! | home | `POST /api/printer/printhead` `{"command":"home","axes":["x","y","z"]}` |
//! | extrude | `POST /api/printer/tool` `{"command":"extrude","amount":5}` |
//! | G-code | `POST /api/printer/command` `{"commands":["G28"]}` |
//! | delete a file | `DELETE /api/files/local/<path>` |
//! | connect / disconnect | `POST /api/connection` `{"command":"connect"}` (plus `port`/`baudrate` when configured with [`OctoPrintBuilder::port`]) / `{"command":"disconnect"}` |
//!
//! OctoPrint accepts some commands that then do nothing (pause while paused, a target for a
//! tool the printer lacks, connect while connected): confirm with a status.
//!
//! Errors are mapped as described in [`errors`].
//!
//! ## Files
//!
//! Listing reads `GET /api/files?recursive=true` and flattens folders; only files of origin
//! `local` are listed (SD card files cannot be started through `/api/files/local`). Uploads are
//! a streamed multipart `POST /api/files/local` (field `file`, plus `path` for a folder);
//! accepted extensions are `gcode`, `gco` and `g`.
//!
//! ## Mock
//!
//! With the `mock` feature, [`mock::OctoPrintMock`] serves the virtual printer the way
//! OctoPrint 1.11.8 does.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod client;
pub mod errors;
pub mod mapping;
#[cfg(feature = "mock")]
pub mod mock;
mod push;
pub mod wire;

pub use client::{base_features, OctoPrint, OctoPrintBuilder, ENV_API_KEY, ENV_URL};
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "octoprint";

/// OctoPrint in the registry: a URL and an API key (`X-Api-Key`); the endpoint's `port` and
/// `baudrate` options are what `connect` asks for ([`OctoPrintBuilder::port`]).
/// A printer waiting for a person has no state of its own in OctoPrint, and `resume` while
/// printing is accepted and does nothing (204).
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "OctoPrint: url and API key (X-Api-Key)",
        Fields::url_and_credential("an API key"),
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
    resume_while_printing_is_noop: true,
    ..polyprint::descriptor::Expectations::DEFAULT
};

fn expected_state(state: polyprint::PrinterState) -> Option<polyprint::PrinterState> {
    match state {
        // OctoPrint has no state for a printer waiting on a person.
        polyprint::PrinterState::Attention => None,
        s => Some(s),
    }
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let mut builder = OctoPrint::builder(endpoint.url_or_empty())
        .api_key(endpoint.credential_or_empty().to_string())
        .http(http);
    if let Some(port) = endpoint.option("port") {
        builder = builder.port(port);
    }
    if let Some(baud) = endpoint.option("baudrate") {
        let baud = baud.trim().parse::<u32>().map_err(|_| {
            polyprint::Error::invalid("baudrate", format!("{baud:?} is not a number"))
        })?;
        builder = builder.baudrate(baud);
    }
    let printer = builder.build()?;
    Ok(std::sync::Arc::new(printer))
}

/// What `polyprint-bench` times without a server: recorded bodies decoded and mapped as a status
/// read does. Not part of the API (feature `bench-internals`): no semver promise.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals {
    use polyprint::PrinterStatus;

    /// `/api/printer` and `/api/job` bodies, as a status read decodes and maps them.
    pub fn status(printer: &[u8], job: &[u8]) -> Result<PrinterStatus, String> {
        let p: crate::wire::PrinterResponse =
            polyprint::transport::json_from_bytes(printer).map_err(|e| e.to_string())?;
        let j: crate::wire::JobResponse =
            polyprint::transport::json_from_bytes(job).map_err(|e| e.to_string())?;
        Ok(crate::mapping::map_status(Some(p), j))
    }

    /// A pushed `current` message, as the push feed decodes and maps it.
    pub fn pushed_status(current: serde_json::Value) -> Result<PrinterStatus, String> {
        let push: crate::push::PushState =
            serde_json::from_value(current).map_err(|e| e.to_string())?;
        Ok(crate::push::status_of(&push, &mut None))
    }
}

#[cfg(test)]
mod samples_test;

#[cfg(test)]
mod hostile_test;
