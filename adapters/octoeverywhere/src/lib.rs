//! # polyprint-octoeverywhere
//!
//! The [OctoEverywhere](https://octoeverywhere.com) backend for polyprint: one
//! [`OctoEverywhere`] per App Connection (`https://<id>.octoeverywhere.com`, Basic or Bearer
//! credentials), reaching whatever host the printer runs (OctoPrint, Moonraker/Klipper, Bambu
//! Lab, PrusaLink, Elegoo) through OctoEverywhere's printer-agnostic plugin API. A
//! [`polyprint::Printer`] through the core's blanket implementation of [`polyprint::Backend`].
//!
//! * [`client`]: constructors, credentials and every plugin call, with OctoEverywhere-only
//!   depth: smart pause ([`PauseOptions`]), named lights, per-webcam snapshots with their
//!   transform, the raw status document.
//! * [`mapping`]: the status document to the common status (state table, heaters, Gadget's
//!   failure score) and the `Features` bits to the effective features, in pure functions.
//! * [`errors`]: the service's HTTP 600–613 and the plugin's envelope `Status` codes to
//!   [`polyprint::Error`] kinds.
//! * [`wire`]: the plugin's JSON as serde types.
//! * `mock` (feature `mock`): [`mock::OctoEverywhereMock`], the plugin API over the virtual
//!   printer, with OctoPrint, Moonraker and Bambu host profiles.
//!
//! Features are what the printer's host supports: the six `Features` bits of the status
//! (light 1, axis movement 2, homing 4, extrusion 8, temperature 16, print start 32, the same
//! numbers as [`polyprint::Feature`]'s) plus what every OctoEverywhere host has (pause/resume,
//! cancel, file list, webcam snapshot, failure detection), narrowed when the status lists no
//! lights or no webcam. Before the first status every feature the API has is claimed; call
//! [`OctoEverywhere::refresh`] (or read a status) to narrow them.
//!
//! ```no_run
//! # async fn demo() -> polyprint::Result<()> {
//! use std::sync::Arc;
//! use polyprint::Printer;
//! use polyprint_octoeverywhere::OctoEverywhere;
//!
//! let oe = OctoEverywhere::basic("https://abc123.octoeverywhere.com", "user", "password")?;
//! oe.refresh().await?;
//! let printer: Arc<dyn Printer> = Arc::new(oe);
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
pub mod wire;

pub use client::{Credential, OctoEverywhere, PauseOptions, Temperatures, WebcamSnapshot};
pub use wire::OeStatus;

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "octoeverywhere";
