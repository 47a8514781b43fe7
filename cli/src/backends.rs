//! The backend registry: every backend the CLI knows, how to connect to it from a
//! [`PrinterEntry`], and how to serve its mock over a virtual printer.
//!
//! Adding a backend is one [`BackendSpec`] in [`BACKENDS`]: a connect function and, when the
//! adapter has a `mock` feature, a function that starts its mock. `demo`, `mock`, `init` and the
//! configuration checks all read this table.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use polyprint::mockserver::VendorMock;
use polyprint::sim::{Clock, SimConfig, VirtualPrinter};
use polyprint::transport::HttpConfig;
use polyprint::Printer;

use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// The configuration entry that reaches a running mock of backend `backend`.
pub fn mock_entry(backend: &str, mock: &dyn VendorMock) -> PrinterEntry {
    PrinterEntry {
        backend: backend.into(),
        url: Some(mock.base_url()),
        key: Some(mock.credential()),
        printer_id: mock.printer_id(),
        ..PrinterEntry::default()
    }
}

/// Starts a backend's mock over a virtual printer, on a port of 127.0.0.1 (`None`: a free one).
pub type MockStarter =
    fn(VirtualPrinter, Option<u16>) -> BoxFuture<'static, Result<Box<dyn VendorMock>, CliError>>;

/// Connects to a printer.
pub type Connector = fn(&PrinterEntry, HttpConfig) -> Result<Arc<dyn Printer>, CliError>;

/// One backend.
pub struct BackendSpec {
    /// The name used in the configuration and on the command line.
    pub name: &'static str,
    /// One line for people.
    pub about: &'static str,
    /// Needs `url`.
    pub needs_url: bool,
    /// Needs `key`, and what the vendor calls it.
    pub key_name: Option<&'static str>,
    /// Needs `printer_id`, and what the vendor calls it.
    pub printer_id_name: Option<&'static str>,
    /// Connects.
    pub connect: Connector,
    /// Starts its mock, if it has one.
    pub mock: Option<MockStarter>,
}

impl std::fmt::Debug for BackendSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// Every backend in this build.
pub static BACKENDS: &[BackendSpec] = &[
    BackendSpec {
        name: "sim",
        about: "the embedded virtual printer (no hardware; fresh in every process)",
        needs_url: false,
        key_name: None,
        printer_id_name: None,
        connect: connect_sim,
        mock: None,
    },
    crate::octoprint::SPEC,
    crate::prusa_connect::SPEC,
    crate::obico::SPEC,
    crate::octoeverywhere::SPEC,
];

/// The backend called `name`.
pub fn find(name: &str) -> Result<&'static BackendSpec, CliError> {
    BACKENDS.iter().find(|b| b.name == name).ok_or_else(|| {
        CliError::config(format!(
            "unknown backend {name:?}; this build knows: {}",
            names().join(", ")
        ))
    })
}

/// The names of every backend.
pub fn names() -> Vec<&'static str> {
    BACKENDS.iter().map(|b| b.name).collect()
}

impl BackendSpec {
    /// Checks that `entry` has what this backend needs.
    pub fn check(&self, entry: &PrinterEntry) -> Result<(), CliError> {
        let missing = |what: &str, flag: &str| {
            CliError::config(format!(
                "backend {} needs {what}: pass {flag} or set it in the configuration file",
                self.name
            ))
        };
        if self.needs_url && entry.url.as_deref().unwrap_or("").is_empty() {
            return Err(missing("a URL", "--url (POLYPRINT_URL)"));
        }
        if let Some(key) = self.key_name {
            if entry.key.as_deref().unwrap_or("").is_empty() {
                return Err(missing(key, "--key (POLYPRINT_KEY)"));
            }
        }
        if let Some(id) = self.printer_id_name {
            if entry.printer_id.as_deref().unwrap_or("").is_empty() {
                return Err(missing(id, "--printer-id (POLYPRINT_PRINTER_ID)"));
            }
        }
        Ok(())
    }

    /// Checks `entry` and connects.
    pub fn open(
        &self,
        entry: &PrinterEntry,
        http: HttpConfig,
    ) -> Result<Arc<dyn Printer>, CliError> {
        self.check(entry)?;
        (self.connect)(entry, http)
    }

    /// Puts `printer` behind this backend: the sim directly, any other through its mock.
    /// Returns the connected printer and the running mock (keep it alive while in use).
    pub async fn serve(
        &self,
        printer: VirtualPrinter,
        http: HttpConfig,
    ) -> Result<(Arc<dyn Printer>, Option<Box<dyn VendorMock>>), CliError> {
        if self.name == "sim" {
            return Ok((Arc::new(printer), None));
        }
        let start = self.mock.ok_or_else(|| {
            CliError::usage(format!("backend {} has no mock in this build", self.name))
        })?;
        let mock = start(printer, None).await?;
        let connected = self.open(&mock_entry(self.name, mock.as_ref()), http)?;
        Ok((connected, Some(mock)))
    }
}

/// The transport settings for this run: `--timeout` bounds each request.
pub fn http_config(timeout: Option<f64>) -> Result<HttpConfig, CliError> {
    let mut http = HttpConfig::default();
    if let Some(secs) = timeout {
        if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
            return Err(CliError::usage(
                "--timeout must be between 0 and 3600 seconds",
            ));
        }
        let t = Duration::from_secs_f64(secs);
        http.request_timeout = t;
        http.connect_timeout = http.connect_timeout.min(t);
    }
    Ok(http)
}

/// A virtual printer whose clock follows the wall clock at `speed`.
pub fn realtime_sim(name: &str, speed: f64) -> VirtualPrinter {
    VirtualPrinter::with_config(SimConfig {
        name: name.to_string(),
        clock: Clock::Realtime { speed },
        ..SimConfig::default()
    })
}

fn connect_sim(entry: &PrinterEntry, _http: HttpConfig) -> Result<Arc<dyn Printer>, CliError> {
    let speed = entry.speed.unwrap_or(10.0);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(CliError::config("sim speed must be a positive number"));
    }
    Ok(Arc::new(realtime_sim("Virtual printer", speed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        for n in &names {
            assert_eq!(find(n).unwrap().name, *n);
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1);
        }
        assert_eq!(find("nope").unwrap_err().code, "config");
    }

    #[test]
    fn missing_fields_are_named() {
        for spec in BACKENDS.iter().filter(|b| b.needs_url) {
            let err = spec
                .check(&PrinterEntry {
                    backend: spec.name.into(),
                    ..PrinterEntry::default()
                })
                .unwrap_err();
            assert!(err.message.contains("--url"), "{}", err.message);
        }
        let sim = find("sim").unwrap();
        assert!(sim.check(&PrinterEntry::default()).is_ok());
    }
}
