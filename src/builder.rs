//! What every adapter's builder shares: where the server is, how to reach it (transport
//! settings, an optional shared `reqwest::Client`), a name for people, and reading settings
//! from environment variables.
//!
//! An adapter's builder (`OctoPrint::builder(url)`, `Moonraker::builder(url)`, ...) holds a
//! [`Connection`] plus what only that backend needs (a key, a printer id), and turns the
//! connection into a [`Transport`] once it knows the credential. Nothing is sent while building.
//!
//! Every builder starts from the transport defaults tabled on [`HttpConfig`].

use crate::transport::{Auth, HttpConfig, Transport};
use crate::{Error, Result};

/// The part of an adapter's builder that every backend has.
///
/// ```
/// use polyprint::builder::Connection;
/// use polyprint::transport::{Auth, HttpConfig};
/// use std::time::Duration;
///
/// let mut connection = Connection::new("http://127.0.0.1:5000");
/// connection.set_http(HttpConfig {
///     request_timeout: Duration::from_secs(5),
///     ..HttpConfig::default()
/// });
/// let transport = connection.transport(Auth::None)?;
/// assert_eq!(transport.host_label(), "127.0.0.1:5000");
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Connection {
    base_url: String,
    http: HttpConfig,
    client: Option<reqwest::Client>,
    name: Option<String>,
}

impl Connection {
    /// A connection to the server at `base_url` with the default transport settings. The URL
    /// is checked when the transport is built.
    pub fn new(base_url: impl Into<String>) -> Connection {
        Connection {
            base_url: base_url.into(),
            http: HttpConfig::default(),
            client: None,
            name: None,
        }
    }

    /// The base URL as given.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Replaces the base URL (an adapter whose API lives under a fixed path adds it here).
    pub fn set_base_url(&mut self, base_url: impl Into<String>) {
        self.base_url = base_url.into();
    }

    /// Replaces the transport settings. A client set with [`Connection::set_client`] is kept
    /// whichever is called first.
    pub fn set_http(&mut self, http: HttpConfig) {
        self.http = http;
    }

    /// Shares `client` (and so its connection pool) with other printers. Its own timeouts
    /// apply to connecting; build it with [`crate::transport::build_client`] for the same
    /// settings.
    pub fn set_client(&mut self, client: reqwest::Client) {
        self.client = Some(client);
    }

    /// Names the printer for people.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = Some(name.into());
    }

    /// The name set with [`Connection::set_name`], if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The transport to the server with `auth`. Fails with [`Error::InvalidArgument`] for a URL
    /// that is not `http(s)://host[:port][/path]` or a credential a header cannot carry.
    pub fn transport(&self, auth: Auth) -> Result<Transport> {
        let mut http = self.http.clone();
        if let Some(client) = &self.client {
            http.shared_client = Some(client.clone());
        }
        Transport::new(&self.base_url, auth, http)
    }
}

/// The value of environment variable `name`, trimmed; `None` when it is unset or blank. A value
/// that is not Unicode is an [`Error::InvalidArgument`] naming the variable (never its value).
pub fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid(name, "is not valid Unicode")),
    }
}

/// Like [`env_var`], for a variable that must be set: its absence is an
/// [`Error::InvalidArgument`] naming it.
pub fn require_env(name: &str) -> Result<String> {
    env_var(name)?.ok_or_else(|| Error::invalid(name, "is not set"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_shared_client_survives_later_settings() {
        let client = crate::transport::build_client(&HttpConfig::default()).unwrap();
        let mut c = Connection::new("http://127.0.0.1:1");
        c.set_client(client);
        c.set_http(HttpConfig {
            max_response_bytes: 7,
            ..HttpConfig::default()
        });
        assert!(c.client.is_some());
        let t = c.transport(Auth::None).unwrap();
        assert_eq!(t.config().max_response_bytes, 7);
        assert!(t.config().shared_client.is_some());
    }

    #[test]
    fn a_bad_url_is_refused_when_built() {
        let c = Connection::new("ftp://example.invalid");
        let err = c.transport(Auth::None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn environment_values_are_trimmed_and_blank_is_unset() {
        // Names no other test uses; the process environment is shared between tests.
        std::env::set_var("POLYPRINT_BUILDER_TEST_SET", "  value \n");
        std::env::set_var("POLYPRINT_BUILDER_TEST_BLANK", "  ");
        assert_eq!(
            env_var("POLYPRINT_BUILDER_TEST_SET").unwrap().as_deref(),
            Some("value")
        );
        assert_eq!(env_var("POLYPRINT_BUILDER_TEST_BLANK").unwrap(), None);
        let err = require_env("POLYPRINT_BUILDER_TEST_UNSET").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("POLYPRINT_BUILDER_TEST_UNSET"));
    }
}
