//! The OctoPrint entry of the backend registry: connect with `url` and `key` (X-Api-Key), and
//! serve the adapter's mock.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use polyprint::mockserver::VendorMock;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_octoprint::mock::OctoPrintMock;
use polyprint_octoprint::OctoPrint;

use crate::backends::BackendSpec;
use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// OctoPrint.
pub const SPEC: BackendSpec = BackendSpec {
    name: "octoprint",
    about: "OctoPrint: url and API key (X-Api-Key)",
    needs_url: true,
    key_name: Some("an API key"),
    printer_id_name: None,
    connect,
    mock: Some(start_mock),
};

fn connect(entry: &PrinterEntry, http: HttpConfig) -> Result<Arc<dyn Printer>, CliError> {
    let url = entry.url.as_deref().unwrap_or_default();
    let key = entry.key.clone().unwrap_or_default();
    Ok(Arc::new(OctoPrint::with_config(url, key, http)?))
}

fn start_mock(
    printer: VirtualPrinter,
    port: Option<u16>,
) -> BoxFuture<'static, Result<Box<dyn VendorMock>, CliError>> {
    Box::pin(async move {
        let mock = OctoPrintMock::start_on(printer, port).await;
        Ok(Box::new(mock) as Box<dyn VendorMock>)
    })
}
