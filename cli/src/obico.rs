//! The Obico entry of the backend registry: connect with `url`, `key` (an API token) and
//! `printer_id` (a number), and serve the adapter's mock. Obico cannot upload files: print a
//! file already on the printer with `print --stored`.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use polyprint::mockserver::VendorMock;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_obico::mock::ObicoMock;
use polyprint_obico::Obico;

use crate::backends::BackendSpec;
use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// Obico.
pub const SPEC: BackendSpec = BackendSpec {
    name: "obico",
    about: "Obico: url, API token and numeric printer id",
    needs_url: true,
    key_name: Some("an API token"),
    printer_id_name: Some("the printer id (a number)"),
    connect,
    mock: Some(start_mock),
};

fn connect(entry: &PrinterEntry, http: HttpConfig) -> Result<Arc<dyn Printer>, CliError> {
    let url = entry.url.as_deref().unwrap_or_default();
    let token = entry.key.clone().unwrap_or_default();
    let raw = entry.printer_id.as_deref().unwrap_or_default();
    let id: u64 = raw.trim().parse().map_err(|_| {
        CliError::config(format!(
            "the Obico printer id must be a number, not {raw:?}"
        ))
    })?;
    Ok(Arc::new(Obico::with_config(url, token, id, http)?))
}

fn start_mock(
    printer: VirtualPrinter,
    port: Option<u16>,
) -> BoxFuture<'static, Result<Box<dyn VendorMock>, CliError>> {
    Box::pin(async move {
        let mock = ObicoMock::start_on(printer, port).await;
        Ok(Box::new(mock) as Box<dyn VendorMock>)
    })
}
