//! # polyprint-obico
//!
//! The [Obico](https://www.obico.io) backend for polyprint: one [`Obico`] per Obico printer id,
//! a [`polyprint::Printer`] through the core's blanket implementation of [`polyprint::Backend`].
//!
//! * `client`: constructors, the printer's kind and every REST call, with Obico-only depth:
//!   the agentless print session ([`Obico::start_print_session`], [`Obico::finish_print`]),
//!   failure prediction ([`Obico::predict`]) and [`Obico::confirm`] for dispatched commands.
//! * [`mapping`]: Obico's printer document to the common status (state table, heaters,
//!   failure verdict), in pure functions.
//! * [`errors`]: Obico's statuses and bodies to [`polyprint::Error`] kinds.
//! * [`wire`]: the server's JSON as serde types.
//! * `mock` (feature `mock`): [`mock::ObicoMock`], a faithful Obico server over the virtual
//!   printer.
//!
//! Features depend on the printer ([`PrinterKind::features`]): a printer with an agent can
//! pause, resume, cancel and give snapshots; an agentless (OAuth) printer can start and finish
//! print sessions. Obico has no REST route to jog, home, extrude, set temperatures or send
//! G-code, so those are never claimed and the core refuses them without a request.
//!
//! Commands return `Ok` once **dispatched**: Obico's `succeeded: true` means there was a
//! current print and the command was published to the agent, not that it was carried out.
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::VirtualPrinter;
//! use polyprint::Printer;
//! use polyprint_obico::{mock::ObicoMock, Obico};
//! // A server that answers like Obico (`mock` feature); a real one is the same call.
//! let server = ObicoMock::start(VirtualPrinter::new()).await;
//! let obico = Obico::new(&server.uri(), server.token(), server.printer_id())?;
//! obico.refresh().await?; // learns the printer's kind, and so its features
//! let printer: std::sync::Arc<dyn Printer> = std::sync::Arc::new(obico);
//! let status = printer.status().await?;
//! assert_eq!(status.state, polyprint::PrinterState::Idle);
//! // A printer with an agent pauses and cancels; only an agentless one starts prints.
//! let features = printer.features().await?;
//! assert!(features.contains(polyprint::Feature::Cancel));
//! assert!(!features.contains(polyprint::Feature::PrintStart));
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod backend;
mod client;
pub mod errors;
pub mod mapping;
#[cfg(feature = "mock")]
pub mod mock;
mod time;
pub mod wire;

pub use client::{FinishStatus, Obico, ObicoBuilder, PrinterKind, TokenHeader};
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};
pub use wire::{Detection, ObicoPrint, ObicoPrinter, Prediction, TemporalStats};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "obico";

/// Obico in the registry: a URL, an API token and the numeric printer id. Obico cannot upload
/// files. Its mock serves a printer with an OctoPrint-Obico agent (the default), one with a
/// moonraker-obico agent, and an agentless (OAuth) printer.
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "Obico: url, API token and numeric printer id",
        Fields::url_and_credential("an API token").and_printer_id("the printer id (a number)"),
        open,
    )
    .expecting(expect::OCTOPRINT_AGENT);
    #[cfg(feature = "mock")]
    let d = d.with_mock(mock::start_for_registry, mock::VARIANTS);
    d
};

/// What the conformance suite expects of each kind of Obico printer.
mod expect {
    use polyprint::descriptor::Expectations;
    use polyprint::PrinterState::{self, *};

    const fn agent(state: fn(PrinterState) -> Option<PrinterState>) -> Expectations {
        Expectations {
            state,
            // Obico answers succeeded: true whenever there is a current print.
            resume_while_printing_is_noop: true,
            ..Expectations::DEFAULT
        }
    }

    /// Both agents report a finished or cancelled job as plain "Operational".
    fn octoprint_agent(s: PrinterState) -> Option<PrinterState> {
        Some(match s {
            Finished | Cancelled => Idle,
            s => s,
        })
    }

    /// moonraker-obico also does not send `user_interaction_required`.
    #[cfg(feature = "mock")]
    fn moonraker_agent(s: PrinterState) -> Option<PrinterState> {
        Some(match s {
            Finished | Cancelled => Idle,
            Attention => Paused,
            s => s,
        })
    }

    /// No agent: Obico sees nothing of the printer; its status is always null.
    #[cfg(feature = "mock")]
    fn agentless(s: PrinterState) -> Option<PrinterState> {
        (s == Offline).then_some(Offline)
    }

    pub(crate) const OCTOPRINT_AGENT: Expectations = agent(octoprint_agent);
    #[cfg(feature = "mock")]
    pub(crate) const MOONRAKER_AGENT: Expectations = agent(moonraker_agent);
    #[cfg(feature = "mock")]
    pub(crate) const AGENTLESS: Expectations = agent(agentless);
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: polyprint::transport::HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let raw = endpoint.printer_id_or_empty();
    let id: u64 = raw.trim().parse().map_err(|_| {
        polyprint::Error::invalid(
            "printer id",
            format!("the Obico printer id must be a number, not {raw:?}"),
        )
    })?;
    let printer = Obico::builder(endpoint.url_or_empty())
        .token(endpoint.credential_or_empty().to_string())
        .printer_id(id)
        .http(http)
        .build()?;
    Ok(std::sync::Arc::new(printer))
}

/// What `polyprint-bench` times without a server: recorded bodies decoded and mapped as a status
/// read does. Not part of the API (feature `bench-internals`): no semver promise.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals {
    use polyprint::PrinterStatus;

    /// A printer document, as a status read decodes and maps it.
    pub fn status(printer: &[u8]) -> Result<PrinterStatus, String> {
        let p: crate::ObicoPrinter =
            polyprint::transport::json_from_bytes(printer).map_err(|e| e.to_string())?;
        Ok(crate::mapping::status_from(&p))
    }
}

#[cfg(test)]
mod samples_test;

#[cfg(test)]
mod hostile_test;
