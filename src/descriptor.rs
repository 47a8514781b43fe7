//! A backend's descriptor: everything the rest of the project needs to know about a backend,
//! owned by the backend's crate.
//!
//! Each adapter crate exports one [`Descriptor`]: its name and one line for people, the
//! [`Endpoint`] fields it needs, how to open a printer from them, how to serve its mock over a
//! virtual printer (feature `mock-server`), and what the conformance suite should expect of it
//! ([`Expectations`]). A registry (the `polyprint-backends` crate) lists the descriptors; the
//! CLI, the bench and the conformance harnesses read only that list, so adding a backend is
//! its crate and one registry line.
//!
//! ```
//! use polyprint::descriptor::Endpoint;
//! use polyprint::transport::HttpConfig;
//!
//! // The embedded virtual printer is a backend like any other.
//! let printer = polyprint::sim::DESCRIPTOR
//!     .open(&Endpoint::default(), HttpConfig::default())
//!     .unwrap();
//! assert_eq!(printer.info().backend, "sim");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::state::PrinterState;
use crate::transport::{HttpConfig, Secret};

/// Where a printer is and how to prove who we are: what [`Descriptor::open`] takes.
/// `Debug` never shows the credential.
#[derive(Clone, Default, PartialEq)]
pub struct Endpoint {
    /// The service's base URL.
    pub url: Option<String>,
    /// The API key, token or `user:password`, as the backend takes it.
    pub credential: Option<Secret>,
    /// The backend's id of the printer (a Prusa Connect UUID, an Obico number).
    pub printer_id: Option<String>,
    /// Backend-specific settings by name (the virtual printer's `speed`, OctoPrint's serial
    /// `port` and `baudrate`). A backend ignores names it does not know.
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .field("printer_id", &self.printer_id)
            .field("options", &self.options)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint at `url` with `credential`.
    pub fn new(url: impl Into<String>, credential: impl Into<Secret>) -> Endpoint {
        Endpoint {
            url: Some(url.into()),
            credential: Some(credential.into()),
            ..Endpoint::default()
        }
    }

    /// The same endpoint for the printer `id`.
    pub fn with_printer_id(mut self, id: impl Into<String>) -> Endpoint {
        self.printer_id = Some(id.into());
        self
    }

    /// The same endpoint with the option `name` set to `value`.
    pub fn with_option(mut self, name: impl Into<String>, value: impl Into<String>) -> Endpoint {
        self.options.insert(name.into(), value.into());
        self
    }

    /// The URL, or `""` when there is none (for adapters whose descriptor requires it, the
    /// check in [`Descriptor::open`] has already refused that).
    pub fn url_or_empty(&self) -> &str {
        self.url.as_deref().unwrap_or_default()
    }

    /// The credential, or `""`.
    pub fn credential_or_empty(&self) -> &str {
        self.credential
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default()
    }

    /// The printer id, or `""`.
    pub fn printer_id_or_empty(&self) -> &str {
        self.printer_id.as_deref().unwrap_or_default()
    }

    /// The option `name`, if set.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }
}

/// Which [`Endpoint`] fields a backend needs, with what the vendor calls them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// Needs a URL.
    pub url: bool,
    /// Needs a credential, and what the vendor calls it ("an API key").
    pub credential: Option<&'static str>,
    /// Needs a printer id, and what the vendor calls it ("the printer's UUID").
    pub printer_id: Option<&'static str>,
}

impl Fields {
    /// Nothing: a backend with no network (the virtual printer).
    pub const NONE: Fields = Fields {
        url: false,
        credential: None,
        printer_id: None,
    };

    /// A URL and a credential called `credential`.
    pub const fn url_and_credential(credential: &'static str) -> Fields {
        Fields {
            url: true,
            credential: Some(credential),
            printer_id: None,
        }
    }

    /// The same fields plus a printer id called `printer_id`.
    pub const fn and_printer_id(self, printer_id: &'static str) -> Fields {
        Fields {
            printer_id: Some(printer_id),
            ..self
        }
    }
}

/// What a backend reports and how it behaves where backends legitimately differ; the
/// conformance suite checks each backend against its own.
#[derive(Clone, Copy)]
pub struct Expectations {
    /// The state the backend reports while the virtual printer behind it is in the given
    /// state; `None` where the backend has no way to express it.
    pub state: fn(PrinterState) -> Option<PrinterState>,
    /// `resume` while printing is a documented, accepted no-op (OctoPrint answers 204 and
    /// does nothing) rather than [`Error::InvalidState`].
    pub resume_while_printing_is_noop: bool,
    /// A job that ended (Finished, Cancelled) keeps showing so for a while and the server
    /// refuses a new start meanwhile (PrusaLink's 11 s): a printer is at rest only once it is
    /// Idle again.
    pub ended_job_blocks_start: bool,
    /// A stored file whose print lasts long enough to pause, resume and cancel it.
    pub long_print_file: &'static str,
    /// A stored file whose print ends quickly.
    pub short_print_file: &'static str,
}

fn same_state(state: PrinterState) -> Option<PrinterState> {
    Some(state)
}

impl Expectations {
    /// Every state as the virtual printer has it, no documented no-ops, the virtual printer's
    /// demo file for both prints.
    pub const DEFAULT: Expectations = Expectations {
        state: same_state,
        resume_while_printing_is_noop: false,
        ended_job_blocks_start: false,
        long_print_file: DEMO_FILE,
        short_print_file: DEMO_FILE,
    };
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations::DEFAULT
    }
}

impl fmt::Debug for Expectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expectations")
            .field(
                "resume_while_printing_is_noop",
                &self.resume_while_printing_is_noop,
            )
            .field("ended_job_blocks_start", &self.ended_job_blocks_start)
            .field("long_print_file", &self.long_print_file)
            .field("short_print_file", &self.short_print_file)
            .finish_non_exhaustive()
    }
}

/// The file every virtual printer stores (the same as `sim::DEMO_FILE`).
const DEMO_FILE: &str = "demo-cube.gcode";

/// Opens a printer from an endpoint that passed [`Descriptor::check`].
pub type Opener = fn(&Endpoint, HttpConfig) -> Result<Arc<dyn Printer>>;

/// One way a backend's mock can be served (OctoEverywhere in front of an OctoPrint, a
/// Moonraker or a Bambu host; Obico with or without an agent), with what to expect of it.
#[derive(Clone, Copy, Debug)]
pub struct MockVariant {
    /// Its name, unique within the backend (`default` where there is only one).
    pub name: &'static str,
    /// What the suite expects of the backend against this variant.
    pub expect: Expectations,
}

#[cfg(feature = "mock-server")]
mod mocks {
    use futures_util::future::BoxFuture;

    use crate::mockserver::VendorMock;
    use crate::sim::VirtualPrinter;

    /// How to serve a mock.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct MockOptions {
        /// The port on 127.0.0.1; `None` for a free one.
        pub port: Option<u16>,
        /// The variant by name; `None` for the backend's first.
        pub variant: Option<&'static str>,
    }

    /// A mock being started.
    pub type MockFuture = BoxFuture<'static, Box<dyn VendorMock>>;

    /// Starts a backend's mock over a virtual printer.
    pub type MockStarter = fn(VirtualPrinter, MockOptions) -> MockFuture;
}

#[cfg(feature = "mock-server")]
pub use mocks::{MockFuture, MockOptions, MockStarter};

/// Everything the project needs to know about one backend. Each adapter crate exports one,
/// built with the `const` methods below; see the module docs.
#[derive(Clone, Copy)]
pub struct Descriptor {
    name: &'static str,
    about: &'static str,
    fields: Fields,
    open: Opener,
    expect: Expectations,
    variants: &'static [MockVariant],
    #[cfg(feature = "mock-server")]
    mock: Option<MockStarter>,
}

impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Descriptor")
            .field("name", &self.name)
            .field("fields", &self.fields)
            .field("variants", &self.variants)
            .finish_non_exhaustive()
    }
}

impl Descriptor {
    /// A backend called `name` (as in configuration files and on the command line), described
    /// to people by `about`, that needs `fields` and opens printers with `open`.
    pub const fn new(
        name: &'static str,
        about: &'static str,
        fields: Fields,
        open: Opener,
    ) -> Descriptor {
        Descriptor {
            name,
            about,
            fields,
            open,
            expect: Expectations::DEFAULT,
            variants: &[],
            #[cfg(feature = "mock-server")]
            mock: None,
        }
    }

    /// What to expect of the backend against a live server (and of a mock variant that has
    /// no expectations of its own).
    pub const fn expecting(self, expect: Expectations) -> Descriptor {
        Descriptor { expect, ..self }
    }

    /// The backend's mock: how to start it, and its variants (the first is the default).
    /// Without the core's `mock-server` feature the starter is dropped; adapters call this
    /// under their own `mock` feature, which turns that on.
    #[cfg(feature = "mock-server")]
    pub const fn with_mock(
        self,
        start: MockStarter,
        variants: &'static [MockVariant],
    ) -> Descriptor {
        Descriptor {
            mock: Some(start),
            variants,
            ..self
        }
    }

    /// The name used in configuration files and on the command line.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// One line for people.
    pub const fn about(&self) -> &'static str {
        self.about
    }

    /// The endpoint fields this backend needs.
    pub const fn fields(&self) -> Fields {
        self.fields
    }

    /// What to expect of the backend against a live server.
    pub const fn expectations(&self) -> Expectations {
        self.expect
    }

    /// The mock's variants, default first; empty without a mock.
    pub fn mock_variants(&self) -> &'static [MockVariant] {
        #[cfg(feature = "mock-server")]
        if self.mock.is_some() {
            return self.variants;
        }
        &[]
    }

    /// Checks that `endpoint` has every field this backend needs, with a message that names
    /// the missing one as the vendor calls it.
    pub fn check(&self, endpoint: &Endpoint) -> Result<()> {
        let missing = |what: &'static str, called: &str| {
            Err(Error::invalid(
                what,
                format!("backend {} needs {called}", self.name),
            ))
        };
        if self.fields.url && endpoint.url.as_deref().unwrap_or("").is_empty() {
            return missing("url", "a URL");
        }
        if let Some(called) = self.fields.credential {
            if endpoint.credential_or_empty().is_empty() {
                return missing("credential", called);
            }
        }
        if let Some(called) = self.fields.printer_id {
            if endpoint.printer_id_or_empty().is_empty() {
                return missing("printer id", called);
            }
        }
        Ok(())
    }

    /// Checks `endpoint` and opens a printer on it. Nothing is sent yet.
    pub fn open(&self, endpoint: &Endpoint, http: HttpConfig) -> Result<Arc<dyn Printer>> {
        self.check(endpoint)?;
        (self.open)(endpoint, http)
    }

    /// Whether this backend has a mock in this build.
    pub fn has_mock(&self) -> bool {
        !self.mock_variants().is_empty()
    }
}

#[cfg(feature = "mock-server")]
impl Descriptor {
    /// Starts this backend's mock over `printer`; `None` when it has none in this build.
    pub async fn start_mock(
        &self,
        printer: crate::sim::VirtualPrinter,
        options: MockOptions,
    ) -> Option<Box<dyn crate::mockserver::VendorMock>> {
        let start = self.mock?;
        Some(start(printer, options).await)
    }

    /// Starts the mock and opens a printer on it: the printer as an application would hold
    /// it, and the running mock (keep it alive while the printer is in use).
    pub async fn serve(
        &self,
        printer: crate::sim::VirtualPrinter,
        options: MockOptions,
        http: HttpConfig,
    ) -> Result<(Arc<dyn Printer>, Box<dyn crate::mockserver::VendorMock>)> {
        let mock = self.start_mock(printer, options).await.ok_or_else(|| {
            Error::invalid(
                "backend",
                format!("{} has no mock in this build", self.name),
            )
        })?;
        let connected = self.open(&mock_endpoint(mock.as_ref()), http)?;
        Ok((connected, mock))
    }

    /// The variant called `name`, or the default when `name` is `None`.
    pub fn mock_variant(&self, name: Option<&str>) -> Option<&'static MockVariant> {
        let variants = self.mock_variants();
        match name {
            None => variants.first(),
            Some(n) => variants.iter().find(|v| v.name == n),
        }
    }
}

/// The endpoint that reaches a running mock.
#[cfg(feature = "mock-server")]
pub fn mock_endpoint(mock: &dyn crate::mockserver::VendorMock) -> Endpoint {
    Endpoint {
        url: Some(mock.base_url()),
        credential: Some(Secret::new(mock.credential())),
        printer_id: mock.printer_id(),
        options: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &Endpoint, _: HttpConfig) -> Result<Arc<dyn Printer>> {
        Err(Error::protocol("not opened in this test"))
    }

    const NEEDY: Descriptor = Descriptor::new(
        "needy",
        "needs everything",
        Fields::url_and_credential("an API key").and_printer_id("the printer's UUID"),
        never,
    );

    #[test]
    fn missing_fields_are_named_as_the_vendor_calls_them() {
        let err = NEEDY.check(&Endpoint::default()).unwrap_err();
        assert!(err.to_string().contains("a URL"), "{err}");
        let err = NEEDY
            .check(&Endpoint {
                url: Some("http://127.0.0.1:1".into()),
                ..Endpoint::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("an API key"), "{err}");
        let err = NEEDY
            .check(&Endpoint::new("http://127.0.0.1:1", "k"))
            .unwrap_err();
        assert!(err.to_string().contains("the printer's UUID"), "{err}");
        assert!(NEEDY
            .check(&Endpoint::new("http://127.0.0.1:1", "k").with_printer_id("u"))
            .is_ok());
        assert!(!NEEDY.has_mock());
    }

    #[test]
    fn debug_hides_the_credential() {
        let e = Endpoint::new("http://127.0.0.1:1", "sekrit-key");
        let shown = format!("{e:?}");
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains("127.0.0.1"), "{shown}");
    }

    #[cfg(feature = "sim")]
    #[test]
    fn the_default_files_are_the_virtual_printers() {
        assert_eq!(DEMO_FILE, crate::sim::DEMO_FILE);
    }
}
