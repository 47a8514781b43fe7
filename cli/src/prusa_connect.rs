//! The Prusa Connect entry of the backend registry: connect with `url`, `key` (a bearer
//! token) and `printer_id` (the printer's UUID), and serve the adapter's mock.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use polyprint::mockserver::VendorMock;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_prusa_connect::mock::PrusaConnectMock;
use polyprint_prusa_connect::PrusaConnect;

use crate::backends::BackendSpec;
use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// Prusa Connect.
pub const SPEC: BackendSpec = BackendSpec {
    name: "prusa-connect",
    about: "Prusa Connect: url, token (bearer) and printer UUID",
    needs_url: true,
    key_name: Some("a token"),
    printer_id_name: Some("the printer's UUID"),
    connect,
    mock: Some(start_mock),
};

fn connect(entry: &PrinterEntry, http: HttpConfig) -> Result<Arc<dyn Printer>, CliError> {
    let url = entry.url.as_deref().unwrap_or_default();
    let token = entry.key.clone().unwrap_or_default();
    let uuid = entry.printer_id.as_deref().unwrap_or_default();
    Ok(Arc::new(PrusaConnect::with_config(url, token, uuid, http)?))
}

fn start_mock(
    printer: VirtualPrinter,
    port: Option<u16>,
) -> BoxFuture<'static, Result<Box<dyn VendorMock>, CliError>> {
    Box::pin(async move {
        let mock = PrusaConnectMock::start_on(printer, port).await;
        Ok(Box::new(mock) as Box<dyn VendorMock>)
    })
}
