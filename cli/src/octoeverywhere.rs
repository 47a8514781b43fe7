//! The OctoEverywhere entry of the backend registry: connect with `url` (the App Connection's
//! base URL) and `key` (the App Connection's bearer token, or `user:password` for Basic auth),
//! and serve the adapter's mock (a Moonraker host, which has every control).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use polyprint::mockserver::VendorMock;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_octoeverywhere::mock::{OctoEverywhereMock, Platform};
use polyprint_octoeverywhere::{Credential, OctoEverywhere};

use crate::backends::BackendSpec;
use crate::config::PrinterEntry;
use crate::outcome::CliError;

/// OctoEverywhere.
pub const SPEC: BackendSpec = BackendSpec {
    name: "octoeverywhere",
    about: "OctoEverywhere App Connection: url and bearer token (or user:password for Basic)",
    needs_url: true,
    key_name: Some("the App Connection's token (or user:password)"),
    printer_id_name: None,
    connect,
    mock: Some(start_mock),
};

/// A `user:password` key is Basic auth; anything else is a bearer token.
fn credential(key: &str) -> Credential {
    match key.split_once(':') {
        Some((user, password)) if !user.is_empty() => Credential::Basic {
            user: user.to_string(),
            password: password.to_string().into(),
        },
        _ => Credential::Bearer(key.to_string().into()),
    }
}

fn connect(entry: &PrinterEntry, http: HttpConfig) -> Result<Arc<dyn Printer>, CliError> {
    let url = entry.url.as_deref().unwrap_or_default();
    let key = entry.key.as_deref().unwrap_or_default();
    Ok(Arc::new(OctoEverywhere::with_config(
        url,
        credential(key),
        http,
    )?))
}

fn start_mock(
    printer: VirtualPrinter,
    port: Option<u16>,
) -> BoxFuture<'static, Result<Box<dyn VendorMock>, CliError>> {
    Box::pin(async move {
        let mock = OctoEverywhereMock::start_on(printer, Platform::Moonraker, port).await;
        Ok(Box::new(mock) as Box<dyn VendorMock>)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_a_colon_are_basic_auth() {
        assert!(matches!(credential("me:secret"), Credential::Basic { user, .. } if user == "me"));
        assert!(matches!(credential("token123"), Credential::Bearer(_)));
        assert!(matches!(credential(":odd"), Credential::Bearer(_)));
    }
}
