//! # polyprint-backends
//!
//! Every polyprint backend in one registry, so an application opens any printer by backend
//! name, with the same call the `polyprint` command line uses. Each adapter is behind a cargo
//! feature of the same name (all on by default); `mock` adds each chosen adapter's mock
//! server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> polyprint::Result<()> {
//! use polyprint::{Endpoint, Printer, PrinterState};
//!
//! // Any backend by name: "octoprint", "prusa-connect", "obico", "octoeverywhere",
//! // "prusalink", "moonraker", "sim".
//! // An OctoPrint would be:
//! //   polyprint_backends::open("octoprint", &Endpoint::new("http://octopi.local", key))?
//! let printer = polyprint_backends::open("sim", &Endpoint::default())?;
//! assert_eq!(printer.status().await?.state, PrinterState::Idle);
//!
//! // A backend that needs more says what, before anything is sent:
//! let err = polyprint_backends::open("octoprint", &Endpoint::default()).err().unwrap();
//! assert!(err.to_string().contains("needs a URL"));
//! # Ok(()) }
//! ```
//!
//! Adding a backend to the project is its crate and one line in [`REGISTRY`].

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use std::sync::Arc;

use polyprint::transport::HttpConfig;
use polyprint::{Descriptor, Endpoint, Error, Printer, Result};

pub use polyprint;
#[cfg(feature = "moonraker")]
pub use polyprint_moonraker as moonraker;
#[cfg(feature = "obico")]
pub use polyprint_obico as obico;
#[cfg(feature = "octoeverywhere")]
pub use polyprint_octoeverywhere as octoeverywhere;
#[cfg(feature = "octoprint")]
pub use polyprint_octoprint as octoprint;
#[cfg(feature = "prusa-connect")]
pub use polyprint_prusa_connect as prusa_connect;
#[cfg(feature = "prusalink")]
pub use polyprint_prusalink as prusalink;

/// Every backend in this build, one line each, the embedded virtual printer first.
pub static REGISTRY: &[&Descriptor] = &[
    &polyprint::sim::DESCRIPTOR,
    #[cfg(feature = "octoprint")]
    &polyprint_octoprint::DESCRIPTOR,
    #[cfg(feature = "prusa-connect")]
    &polyprint_prusa_connect::DESCRIPTOR,
    #[cfg(feature = "obico")]
    &polyprint_obico::DESCRIPTOR,
    #[cfg(feature = "octoeverywhere")]
    &polyprint_octoeverywhere::DESCRIPTOR,
    #[cfg(feature = "prusalink")]
    &polyprint_prusalink::DESCRIPTOR,
    #[cfg(feature = "moonraker")]
    &polyprint_moonraker::DESCRIPTOR,
];

/// The backend called `name`, or [`Error::InvalidArgument`] naming the ones this build has.
pub fn find(name: &str) -> Result<&'static Descriptor> {
    REGISTRY
        .iter()
        .copied()
        .find(|d| d.name() == name)
        .ok_or_else(|| {
            Error::invalid(
                "backend",
                format!(
                    "unknown backend {name:?}; this build knows: {}",
                    names().join(", ")
                ),
            )
        })
}

/// The names of every backend in this build.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|d| d.name()).collect()
}

/// Opens a printer of backend `name` at `endpoint`, with the default transport settings.
/// Checks that the endpoint has what the backend needs; sends nothing.
pub fn open(name: &str, endpoint: &Endpoint) -> Result<Arc<dyn Printer>> {
    open_with(name, endpoint, HttpConfig::default())
}

/// Like [`open`], with transport settings (timeouts, retries, a shared client for a fleet).
pub fn open_with(name: &str, endpoint: &Endpoint, http: HttpConfig) -> Result<Arc<dyn Printer>> {
    find(name)?.open(endpoint, http)
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        for n in &names {
            assert_eq!(find(n).unwrap().name(), *n);
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1, "{n} twice");
        }
        assert!(matches!(find("nope"), Err(Error::InvalidArgument { .. })));
    }

    #[test]
    fn every_network_backend_refuses_an_endpoint_without_url() {
        for d in REGISTRY.iter().filter(|d| d.fields().url) {
            let err = open(d.name(), &Endpoint::default()).err().unwrap();
            assert!(
                err.to_string().contains("needs a URL"),
                "{}: {err}",
                d.name()
            );
        }
    }
}
