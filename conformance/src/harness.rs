//! What an adapter author writes to run the suite: a [`Harness`] that launches [`Target`]s.
//!
//! A target is a printer in a known state (connected, idle, the demo file stored) plus, when
//! it runs against a mock, a [`MockControl`] that reaches behind the wire: the virtual printer
//! (to put it in a state, or move its clock) and the mock server (journal, faults).

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::descriptor::Expectations;
use polyprint::mockserver::{MockServer, VendorMock};
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::{Printer, PrinterState};

/// One adapter under test, able to launch fresh targets of itself.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The column name in the report, e.g. `octoprint-mock`.
    fn name(&self) -> String;

    /// A fresh target: connected, idle, with [`DEMO_FILE`](polyprint::sim::DEMO_FILE) stored (for a live server: whatever
    /// is there, plus the files [`Harness::long_print_file`] and
    /// [`Harness::short_print_file`] name). Nothing has asked the printer anything yet: its
    /// features may still be only declared.
    async fn launch(&self) -> Result<Target, String>;

    /// The same adapter against an arbitrary URL and credential, with its own HTTP settings
    /// (the network cases: wrong key, closed port, hanging server). `None` for a backend with
    /// no network, such as the embedded virtual printer.
    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>>;

    /// What to expect of this backend: its descriptor's (see
    /// [`polyprint::descriptor::Expectations`]). The methods below read it.
    fn expectations(&self) -> Expectations {
        Expectations::DEFAULT
    }

    /// The state this backend reports when the virtual printer is in `sim_state`, or `None`
    /// when the backend has no way to express it (the status case is then skipped, with that
    /// reason).
    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        (self.expectations().state)(sim_state)
    }

    /// Whether this backend documents `resume` while printing as an accepted no-op (OctoPrint
    /// answers 204 and nothing happens) rather than [`polyprint::Error::InvalidState`].
    fn resume_while_printing_is_noop(&self) -> bool {
        self.expectations().resume_while_printing_is_noop
    }

    /// A stored file whose print lasts long enough to pause, resume and cancel it.
    fn long_print_file(&self) -> String {
        self.expectations().long_print_file.to_string()
    }

    /// A stored file whose print ends quickly (the print-to-the-end case).
    fn short_print_file(&self) -> String {
        self.expectations().short_print_file.to_string()
    }
}

/// A printer to run one case against.
pub struct Target {
    /// The printer, as an application holds it.
    pub printer: Arc<dyn Printer>,
    /// Control behind the wire; `None` for a live server.
    pub control: Option<MockControl>,
}

impl Target {
    /// A target with no control (a live server).
    pub fn live(printer: Arc<dyn Printer>) -> Target {
        Target {
            printer,
            control: None,
        }
    }

    /// Closes the target: the client first, then the mock (whose server the core drops on a
    /// thread of its own, so this never blocks the runtime).
    pub async fn shutdown(self) {
        let Target { printer, control } = self;
        drop(printer);
        drop(control);
    }

    /// How many requests the mock server received so far; `None` without a served mock.
    pub fn request_count(&self) -> Option<usize> {
        self.control
            .as_ref()
            .and_then(|c| c.server())
            .map(MockServer::request_count)
    }

    /// The base URL to reach the same server: the mock's, else the printer's endpoint.
    pub fn base_url(&self) -> Option<String> {
        match &self.control {
            Some(c) => c.base_url(),
            None => self.printer.info().endpoint,
        }
    }
}

/// Something that owns a running mock server (an adapter's mock type).
trait HoldsServer: Send + Sync {
    fn server(&self) -> &MockServer;
}

struct Held<T> {
    owner: T,
    get: fn(&T) -> &MockServer,
}

impl<T: Send + Sync> HoldsServer for Held<T> {
    fn server(&self) -> &MockServer {
        (self.get)(&self.owner)
    }
}

/// Access behind the wire of a mock target: the virtual printer and, for a served mock, the
/// server with its journal and fault injection. Owns the mock: it stops when this drops.
pub struct MockControl {
    printer: VirtualPrinter,
    server: Option<Box<dyn HoldsServer>>,
    credential: Option<String>,
}

impl MockControl {
    /// Control of a virtual printer used directly as the backend (no network, no journal).
    pub fn embedded(printer: VirtualPrinter) -> MockControl {
        MockControl {
            printer,
            server: None,
            credential: None,
        }
    }

    /// Control of a served mock. `owner` is kept alive (an adapter's mock type, or a
    /// [`MockServer`] itself); `server` reaches its [`MockServer`]; `credential` is the key the
    /// mock accepts.
    pub fn served<T: Send + Sync + 'static>(
        owner: T,
        server: fn(&T) -> &MockServer,
        credential: impl Into<String>,
    ) -> MockControl {
        let held = Held { owner, get: server };
        let printer = held.server().printer().clone();
        MockControl {
            printer,
            server: Some(Box::new(held)),
            credential: Some(credential.into()),
        }
    }

    /// Control of an adapter's mock: the server, the printer and the credential come from
    /// its [`VendorMock`] side.
    pub fn of<T: VendorMock>(mock: T) -> MockControl {
        let credential = mock.credential();
        MockControl::served(mock, T::mock_server, credential)
    }

    /// Control of a mock started through a backend's descriptor
    /// ([`polyprint::Descriptor::start_mock`]).
    pub fn of_boxed(mock: Box<dyn VendorMock>) -> MockControl {
        #[allow(clippy::borrowed_box)] // the owner is the box itself
        fn server(mock: &Box<dyn VendorMock>) -> &MockServer {
            mock.mock_server()
        }
        let credential = mock.credential();
        MockControl::served(mock, server, credential)
    }

    /// The virtual printer behind the target.
    pub fn printer(&self) -> &VirtualPrinter {
        &self.printer
    }

    /// The mock server, when the target is served over HTTP.
    pub fn server(&self) -> Option<&MockServer> {
        self.server.as_deref().map(HoldsServer::server)
    }

    /// `http://127.0.0.1:PORT` of the mock server.
    pub fn base_url(&self) -> Option<String> {
        self.server().map(MockServer::uri)
    }

    /// The credential the mock accepts.
    pub fn credential(&self) -> Option<&str> {
        self.credential.as_deref()
    }
}
