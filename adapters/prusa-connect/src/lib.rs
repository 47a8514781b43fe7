//! # polyprint-prusa-connect
//!
//! The Prusa Connect adapter for polyprint: one printer (by UUID) of a Prusa Connect account
//! as a [`polyprint::Printer`], plus the Prusa-specific surface on [`PrusaConnectClient`]
//! (printers, supported commands and validated command execution, jobs, failure reasons,
//! queue, team files and uploads, storages, teams, cameras, stats, events, notifications).
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::{VirtualPrinter, DEMO_FILE};
//! use polyprint::Printer;
//! use polyprint_prusa_connect::{mock::PrusaConnectMock, PrusaConnect};
//! // A server that answers like Prusa Connect (`mock` feature); for Prusa's own service the
//! // URL is `DEFAULT_BASE_URL` and the token the account's.
//! let server = PrusaConnectMock::start(VirtualPrinter::new()).await;
//! let printer = PrusaConnect::builder(server.uri())
//!     .token(server.token())
//!     .printer(server.printer_uuid())
//!     .build()?;
//! printer.start_print(DEMO_FILE).await?;
//! let status = printer.status().await?;
//! assert!(status.state.has_active_job(), "{} ({})", status.state, status.raw_state);
//! printer.cancel().await?;
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
//! ```
//!
//! With the `mock` feature, [`mock::PrusaConnectMock`] serves a virtual printer in Prusa
//! Connect's dialect on 127.0.0.1.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod adapter;
pub mod auth;
pub mod client;
mod commands;
#[cfg(feature = "mock")]
pub mod mock;
mod state;
pub mod wire;

pub use adapter::{
    declared_features, PrusaConnect, PrusaConnectBuilder, DEFAULT_CAPABILITIES_TTL, ENV_PRINTER,
    ENV_URL,
};
pub use auth::Credentials;
pub use client::{FailureTag, JobQuery, PrusaConnectClient, Window};
pub use commands::CommandSet;
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "prusa-connect";

/// Prusa Connect in the registry: a URL, a bearer token and the printer's UUID. Connect has
/// no transitional states: a printer pausing, resuming or stopping still reports PRINTING
/// until it settles.
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "Prusa Connect: url, token (bearer) and printer UUID",
        Fields::url_and_credential("a token").and_printer_id("the printer's UUID"),
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
    ..polyprint::descriptor::Expectations::DEFAULT
};

fn expected_state(state: polyprint::PrinterState) -> Option<polyprint::PrinterState> {
    use polyprint::PrinterState::*;
    Some(match state {
        Pausing | Resuming | Cancelling => Printing,
        s => s,
    })
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: polyprint::transport::HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let printer = PrusaConnect::builder(endpoint.url_or_empty())
        .token(endpoint.credential_or_empty().to_string())
        .printer(endpoint.printer_id_or_empty())
        .http(http)
        .build()?;
    Ok(std::sync::Arc::new(printer))
}

/// Prusa Connect's address.
pub const DEFAULT_BASE_URL: &str = "https://connect.prusa3d.com";

/// What `polyprint-bench` times without a server: recorded bodies decoded and mapped as a status
/// read does. Not part of the API (feature `bench-internals`): no semver promise.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals {
    use polyprint::PrinterStatus;

    /// A printer document, as a status read decodes and maps it.
    pub fn status(printer: &[u8]) -> Result<PrinterStatus, String> {
        let p: crate::wire::Printer =
            polyprint::transport::json_from_bytes(printer).map_err(|e| e.to_string())?;
        Ok(crate::state::status_of(&p))
    }
}

#[cfg(test)]
mod samples_test;
