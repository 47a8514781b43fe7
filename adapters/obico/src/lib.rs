//! # polyprint-obico
//!
//! The [Obico](https://www.obico.io) backend for polyprint: one [`Obico`] per Obico printer id,
//! a [`polyprint::Printer`] through the core's blanket implementation of [`polyprint::Backend`].
//!
//! * [`client`]: constructors, the printer's kind and every REST call, with Obico-only depth:
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
//! ```no_run
//! # async fn demo() -> polyprint::Result<()> {
//! use std::sync::Arc;
//! use polyprint::Printer;
//! use polyprint_obico::Obico;
//!
//! let printer: Arc<dyn Printer> = Arc::new(Obico::open("https://app.obico.io", "token", 123).await?);
//! let status = printer.status().await?;
//! println!("{} ({})", status.state, status.raw_state);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod backend;
pub mod client;
pub mod errors;
pub mod mapping;
#[cfg(feature = "mock")]
pub mod mock;
pub mod time;
pub mod wire;

pub use client::{FinishStatus, Obico, PrinterKind, TokenHeader};
pub use wire::{Detection, ObicoPrint, ObicoPrinter, Prediction, TemporalStats};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "obico";
