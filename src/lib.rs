//! # polyprint
//!
//! One async API for watching and driving 3D printers, whatever service stands in front of
//! them: OctoPrint, Prusa Connect, Obico, or the embedded virtual printer.
//!
//! * [`Printer`]: the object-safe trait applications use (`Arc<dyn Printer>`).
//! * [`PrinterStatus`] and [`PrinterState`]: one state model that keeps the vendor's own words.
//! * [`Feature`]: capability flags; the first six bits equal OctoEverywhere's `Features`.
//! * [`Error`]: one semantic error type with [`Error::is_retryable`].
//! * [`Backend`]: what an adapter implements; the core enforces capabilities and checks input
//!   before an adapter sees a [`Command`].
//! * [`transport`]: the shared HTTP layer (timeouts, safe retries, secret redaction, caps).
//! * [`sim`]: the deterministic virtual printer (feature `sim`, on by default).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> polyprint::Result<()> {
//! use polyprint::{Feature, Heater, Printer, sim::VirtualPrinter};
//!
//! let printer = VirtualPrinter::new();
//! if printer.features().contains(Feature::TemperatureControl) {
//!     printer.set_target(Heater::Bed, 60.0).await?;
//! }
//! // Bad input is refused before anything is sent:
//! assert!(printer.set_target(Heater::Bed, -5.0).await.is_err());
//! let status = printer.status().await?;
//! println!("{} ({})", status.state, status.raw_state);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod builder;
pub mod descriptor;
pub mod digest;
pub mod error;
pub mod feature;
pub mod gcode;
#[cfg(feature = "mock-server")]
pub mod mockserver;
#[cfg(feature = "mock-server")]
pub mod mocksocket;
pub mod printer;
#[cfg(feature = "sim")]
pub mod sim;
pub mod socket;
pub mod state;
pub mod transport;
pub mod validate;
pub mod watch;

pub use descriptor::{Descriptor, Endpoint};
pub use error::{Cause, Error, ErrorKind, Result};
pub use feature::{Feature, Features};
/// Re-exported under `mock` so an application's tests use the same mockall version.
#[cfg(feature = "mock")]
pub use mockall;
#[cfg(feature = "mock")]
pub use printer::MockBackend;
pub use printer::{
    Backend, BackendExt, CheckedUpload, Command, Printer, PrinterInfo, ProgressFn, Upload,
    UploadProgress, UploadSource,
};
pub use state::{
    FailureDetection, FailureVerdict, FileEntry, Heater, HeaterReading, JobOutcome, JobProgress,
    JobRecord, Light, PrinterState, PrinterStatus, QueuedJob, Snapshot, Webcam,
};
pub use validate::{Axes, Axis, Jog, Limits};

/// Re-exported so adapters and applications use the same version.
pub use async_trait::async_trait;

pub use enumflags2;
