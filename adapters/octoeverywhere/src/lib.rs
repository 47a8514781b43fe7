//! # polyprint-octoeverywhere
//!
//! The [OctoEverywhere](https://octoeverywhere.com) backend for polyprint: one
//! [`OctoEverywhere`] per App Connection (`https://<id>.octoeverywhere.com`, Basic or Bearer
//! credentials), reaching whatever host the printer runs (OctoPrint, Moonraker/Klipper, Bambu
//! Lab, PrusaLink, Elegoo) through OctoEverywhere's printer-agnostic plugin API. A
//! [`polyprint::Printer`] through the core's blanket implementation of [`polyprint::Backend`].
//!
//! * `client`: constructors, credentials and every plugin call, with OctoEverywhere-only
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
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::{VirtualPrinter, DEMO_FILE};
//! use polyprint::Printer;
//! use polyprint_octoeverywhere::mock::{OctoEverywhereMock, Platform};
//! use polyprint_octoeverywhere::OctoEverywhere;
//! // A server that answers like OctoEverywhere's App Connection (`mock` feature).
//! let server = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
//! let oe = OctoEverywhere::builder(server.uri()).bearer(server.credential()).build()?;
//! oe.refresh().await?; // the host's features
//! let printer: std::sync::Arc<dyn Printer> = std::sync::Arc::new(oe);
//! printer.start_print(DEMO_FILE).await?;
//! let status = printer.status().await?;
//! assert!(status.state.has_active_job(), "{} ({})", status.state, status.raw_state);
//! printer.cancel().await?;
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
pub mod wire;

pub use client::{
    Credential, OctoEverywhere, OctoEverywhereBuilder, PauseOptions, Temperatures, WebcamSnapshot,
    SERVICE_RETRY_STATUSES,
};
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};
pub use wire::OeStatus;

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "octoeverywhere";

/// OctoEverywhere in the registry: the App Connection's base URL and its bearer token (or
/// `user:password` for Basic auth, see [`Credential::parse`]). Its words: a pause or cancel
/// being carried out is still `printing`, a printer waiting for a person is `paused`. The
/// mock serves the same virtual printer behind a Moonraker host (the default, with every
/// control), an OctoPrint host and a Bambu host.
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "OctoEverywhere App Connection: url and bearer token (or user:password for Basic)",
        Fields::url_and_credential("the App Connection's token (or user:password)"),
        open,
    )
    .expecting(EXPECT);
    #[cfg(feature = "mock")]
    let d = d.with_mock(mock::start_for_registry, mock::VARIANTS);
    d
};

const EXPECT: polyprint::descriptor::Expectations = polyprint::descriptor::Expectations {
    state: expected_state,
    ..polyprint::descriptor::Expectations::DEFAULT
};

fn expected_state(state: polyprint::PrinterState) -> Option<polyprint::PrinterState> {
    use polyprint::PrinterState::*;
    Some(match state {
        Pausing | Cancelling => Printing,
        Attention => Paused,
        s => s,
    })
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: polyprint::transport::HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let printer = OctoEverywhere::builder(endpoint.url_or_empty())
        .credential(Credential::parse(endpoint.credential_or_empty()))
        .http(http)
        .build()?;
    Ok(std::sync::Arc::new(printer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_a_colon_are_basic_auth() {
        assert!(
            matches!(Credential::parse("me:secret"), Credential::Basic { user, .. } if user == "me")
        );
        assert!(matches!(
            Credential::parse("token123"),
            Credential::Bearer(_)
        ));
        assert!(matches!(Credential::parse(":odd"), Credential::Bearer(_)));
    }
}

/// What `polyprint-bench` times without a server: recorded bodies decoded and mapped as a status
/// read does. Not part of the API (feature `bench-internals`): no semver promise.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals {
    use polyprint::{Features, PrinterStatus};

    /// A `status` answer (envelope and all), as a status read decodes and maps it, with the
    /// features it caches.
    pub fn status(body: &[u8]) -> Result<(Features, PrinterStatus), String> {
        let envelope: crate::wire::Envelope =
            polyprint::transport::json_from_bytes(body).map_err(|e| e.to_string())?;
        if envelope.status != 200 {
            return Err(format!("plugin status {}", envelope.status));
        }
        let result = envelope.result.ok_or("no Result")?;
        let status: crate::OeStatus =
            serde_json::from_str(result.get()).map_err(|e| e.to_string())?;
        Ok((
            crate::mapping::features_from(&status),
            crate::mapping::status_from(&status),
        ))
    }
}

#[cfg(test)]
mod samples_test;

#[cfg(test)]
mod hostile_test;
