//! The CLI's view of the backend registry (`polyprint_backends::REGISTRY`): finding a backend
//! by name, checking a [`PrinterEntry`] against what it needs (with the flags to pass),
//! opening it, and serving its mock over a virtual printer. `demo`, `mock`, `init`,
//! `conformance` and the configuration checks all read the registry through here; nothing in
//! the CLI names a backend.

use std::sync::Arc;
use std::time::Duration;

use polyprint::descriptor::{Descriptor, MockOptions};
use polyprint::mockserver::VendorMock;
use polyprint::sim::{Clock, SimConfig, VirtualPrinter};
use polyprint::transport::{HttpConfig, Secret};
use polyprint::{Endpoint, Printer};

use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// Every backend in this build.
pub use polyprint_backends::REGISTRY as BACKENDS;

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

/// The backend called `name`.
pub fn find(name: &str) -> Result<&'static Descriptor, CliError> {
    polyprint_backends::find(name).map_err(|e| match e {
        polyprint::Error::InvalidArgument { reason, .. } => CliError::config(reason),
        other => CliError::config(other.to_string()),
    })
}

/// Whether `d` is the embedded virtual printer (served directly, never through a mock).
pub fn is_sim(d: &Descriptor) -> bool {
    d.name() == polyprint::sim::DESCRIPTOR.name()
}

/// The endpoint a configuration entry describes.
pub fn endpoint(entry: &PrinterEntry) -> Endpoint {
    let mut endpoint = Endpoint {
        url: entry.url.clone(),
        credential: entry.key.clone().map(Secret::new),
        printer_id: entry.printer_id.clone(),
        ..Endpoint::default()
    };
    for (name, value) in &entry.options {
        endpoint = endpoint.with_option(name.clone(), value.clone());
    }
    if let Some(speed) = entry.speed {
        endpoint = endpoint.with_option("speed", speed.to_string());
    }
    endpoint
}

/// What the CLI does with a descriptor.
pub trait BackendSpec {
    /// Checks that `entry` has what this backend needs, naming the flag that supplies it.
    fn check_entry(&self, entry: &PrinterEntry) -> Result<(), CliError>;
    /// Checks `entry` and opens the printer.
    fn open_entry(
        &self,
        entry: &PrinterEntry,
        http: HttpConfig,
    ) -> Result<Arc<dyn Printer>, CliError>;
}

impl BackendSpec for Descriptor {
    fn check_entry(&self, entry: &PrinterEntry) -> Result<(), CliError> {
        let fields = self.fields();
        let missing = |what: &str, flag: &str| {
            CliError::config(format!(
                "backend {} needs {what}: pass {flag} or set it in the configuration file",
                self.name()
            ))
        };
        if fields.url && entry.url.as_deref().unwrap_or("").is_empty() {
            return Err(missing("a URL", "--url (POLYPRINT_URL)"));
        }
        if let Some(key) = fields.credential {
            if entry.key.as_deref().unwrap_or("").is_empty() {
                return Err(missing(key, "--key (POLYPRINT_KEY)"));
            }
        }
        if let Some(id) = fields.printer_id {
            if entry.printer_id.as_deref().unwrap_or("").is_empty() {
                return Err(missing(id, "--printer-id (POLYPRINT_PRINTER_ID)"));
            }
        }
        Ok(())
    }

    fn open_entry(
        &self,
        entry: &PrinterEntry,
        http: HttpConfig,
    ) -> Result<Arc<dyn Printer>, CliError> {
        self.check_entry(entry)?;
        Descriptor::open(self, &endpoint(entry), http).map_err(|e| match e {
            polyprint::Error::InvalidArgument { reason, .. } => CliError::config(reason),
            other => CliError::from(other),
        })
    }
}

/// Puts `printer` behind backend `d`: the sim directly, any other through its mock.
/// Returns the connected printer and the running mock (keep it alive while in use).
pub async fn serve(
    d: &'static Descriptor,
    printer: VirtualPrinter,
    http: HttpConfig,
) -> Result<(Arc<dyn Printer>, Option<Box<dyn VendorMock>>), CliError> {
    if is_sim(d) {
        return Ok((Arc::new(printer), None));
    }
    let mock = d
        .start_mock(printer, MockOptions::default())
        .await
        .ok_or_else(|| {
            CliError::usage(format!("backend {} has no mock in this build", d.name()))
        })?;
    let connected = d.open_entry(&mock_entry(d.name(), mock.as_ref()), http)?;
    Ok((connected, Some(mock)))
}

/// The transport settings for this run: `--timeout` bounds each call to the printer's
/// service as a whole (every attempt and wait of it, uploads included).
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
        http.deadline = t;
        http.upload_timeout = t;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = polyprint_backends::names();
        for n in &names {
            assert_eq!(find(n).unwrap().name(), *n);
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1);
        }
        assert_eq!(find("nope").unwrap_err().code, "config");
    }

    #[test]
    fn missing_fields_are_named() {
        for spec in BACKENDS.iter().filter(|b| b.fields().url) {
            let err = spec
                .check_entry(&PrinterEntry {
                    backend: spec.name().into(),
                    ..PrinterEntry::default()
                })
                .unwrap_err();
            assert!(err.message.contains("--url"), "{}", err.message);
        }
        let sim = find("sim").unwrap();
        assert!(sim.check_entry(&PrinterEntry::default()).is_ok());
    }

    #[test]
    fn a_bad_sim_speed_is_a_config_error() {
        let entry = PrinterEntry {
            backend: "sim".into(),
            speed: Some(-1.0),
            ..PrinterEntry::default()
        };
        let err = find("sim")
            .unwrap()
            .open_entry(&entry, HttpConfig::default())
            .err()
            .unwrap();
        assert_eq!(err.code, "config");
    }
}
