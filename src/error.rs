//! The one error type every backend returns.
//!
//! Errors are semantic, not per vendor: an adapter translates OctoPrint's 409, Obico's
//! `succeeded: false` or OctoEverywhere's 786 into [`Error::InvalidState`], and so on.
//! Messages never contain secrets: they are built from status codes, paths and short,
//! redacted body snippets.

use std::time::Duration;

use crate::feature::Feature;

/// `Result` with polyprint's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error a polyprint [`Error`] came from (an I/O, TLS, HTTP or JSON error), for
/// applications that look past the kind: [`std::error::Error::source`] returns it, and
/// `downcast_ref` finds, say, the [`std::io::Error`] of a refused connection. It carries no
/// credential: request URLs are stripped from HTTP errors before they are kept, and headers
/// are never part of them. Cloning is a reference count.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use polyprint::transport::{Auth, HttpConfig, Request, Transport};
///
/// let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
/// let t = Transport::new(&format!("http://{closed}"), Auth::None, HttpConfig::default()).unwrap();
/// let err = t.send(Request::get("x")).await.unwrap_err();
/// let mut source = std::error::Error::source(&err);
/// let mut refused = false;
/// while let Some(e) = source {
///     refused |= e.downcast_ref::<std::io::Error>()
///         .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
///     source = e.source();
/// }
/// assert!(refused, "{err}");
/// # }
/// ```
#[derive(Clone)]
pub struct Cause(std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    /// Keeps `error` as a cause.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Cause {
        Cause(std::sync::Arc::new(error))
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The kept error itself is the next link, so that `downcast_ref` finds it.
        Some(self.0.as_ref())
    }
}

/// What went wrong, in terms an application can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The printer behind this backend cannot do this. Nothing was sent.
    #[error("{backend} does not support {feature} on this printer")]
    Unsupported {
        /// The feature the action needs.
        feature: Feature,
        /// The backend kind, e.g. `octoprint`.
        backend: String,
    },
    /// The input was refused: by polyprint's own checks, before anything was sent, or by the
    /// server as invalid (a 400 with its validation message). The conformance suite checks the
    /// first kind sends nothing.
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// What was invalid, e.g. `file name` or `bed target`.
        what: String,
        /// Why, in words a person can act on.
        reason: String,
    },
    /// The printer's state forbids this now (printing, idle, offline, ...).
    #[error("not possible in the printer's current state: {message}")]
    InvalidState {
        /// The server's or the library's explanation.
        message: String,
    },
    /// The file, printer or resource does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The credentials were missing, wrong or expired.
    #[error("authentication failed: {message}")]
    Auth {
        /// The server's explanation (never the credential).
        message: String,
    },
    /// The service asks us to slow down.
    #[error("rate limited{}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The service could not be reached (connection refused, DNS, TLS, reset).
    #[error("cannot reach {endpoint}: {message}")]
    Unreachable {
        /// The endpoint, without credentials.
        endpoint: String,
        /// What the network stack said.
        message: String,
        /// The underlying error (I/O, TLS, DNS, HTTP), when there is one:
        /// [`std::error::Error::source`] returns it.
        #[source]
        cause: Option<Cause>,
    },
    /// The service did not answer in time.
    #[error("{endpoint} did not answer within {} ms", after.as_millis())]
    Timeout {
        /// The endpoint, without credentials.
        endpoint: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The server answered something we cannot understand.
    #[error("unexpected response: {message}")]
    Protocol {
        /// What was wrong, with a short, secret-free snippet of the body.
        message: String,
        /// The underlying error (a JSON decoder's, an HTTP parser's), when there is one.
        #[source]
        cause: Option<Cause>,
    },
    /// Any other error status from the server.
    #[error("server error {status}: {message}")]
    Api {
        /// The HTTP status (or the vendor's own status code).
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A command may have reached the printer, but its answer was lost: the connection was
    /// reset or closed after the request went out, no answer came within the timeout, or a
    /// gateway answered 502, 503 or 504 for it. The printer may or may not have carried it
    /// out; read [`Printer::status`](crate::Printer::status) to find out before sending it
    /// again. Never retried, never [`is_retryable`](Error::is_retryable).
    #[error("the answer to {action} was lost ({message}): the printer may have carried it out; check its status before sending it again")]
    OutcomeUnknown {
        /// The command, e.g. `cancel` (or the request, `POST /api/job`).
        action: String,
        /// What happened to the answer.
        message: String,
    },
    /// The server answered with a redirect polyprint does not follow: to another origin (the
    /// credential would go with it), or for a command (a command never follows a redirect
    /// and never changes method). Only the first request was sent.
    #[error("{endpoint} answered {status} redirecting to {location}; not followed")]
    Redirected {
        /// The endpoint, without credentials.
        endpoint: String,
        /// The redirect status (301, 302, 303, 307, 308).
        status: u16,
        /// Where it pointed, without credentials or query.
        location: String,
    },
}

/// The kind of an [`Error`], without its details: stable for matching, JSON and exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Unsupported`]
    Unsupported,
    /// [`Error::InvalidArgument`]
    InvalidArgument,
    /// [`Error::InvalidState`]
    InvalidState,
    /// [`Error::NotFound`]
    NotFound,
    /// [`Error::Auth`]
    Auth,
    /// [`Error::RateLimited`]
    RateLimited,
    /// [`Error::Unreachable`]
    Unreachable,
    /// [`Error::Timeout`]
    Timeout,
    /// [`Error::Protocol`]
    Protocol,
    /// [`Error::Api`]
    Api,
    /// [`Error::OutcomeUnknown`]
    OutcomeUnknown,
    /// [`Error::Redirected`]
    Redirected,
}

impl ErrorKind {
    /// A stable snake_case code, e.g. `invalid_state`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidState => "invalid_state",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Api => "api",
            ErrorKind::OutcomeUnknown => "outcome_unknown",
            ErrorKind::Redirected => "redirected",
        }
    }
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::InvalidState { .. } => ErrorKind::InvalidState,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::Api { .. } => ErrorKind::Api,
            Error::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
            Error::Redirected { .. } => ErrorKind::Redirected,
        }
    }

    /// Whether trying the same request again later may succeed: network trouble, timeouts,
    /// rate limits and the server's transient 5xx (502, 503, 504). The transport retries these
    /// itself for requests that are safe to repeat, and never for commands.
    ///
    /// A command's error is never a reason to resend it blindly. Where its answer was lost
    /// (reset, closed or timed out after sending, or a gateway's 502, 503 or 504), the core
    /// reports [`Error::OutcomeUnknown`], which is not retryable; what is left retryable
    /// after a command is only what provably sent nothing (a connection never established,
    /// a 429 asking to wait). [`Printer::status`](crate::Printer::status) tells what happened.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unreachable { .. } | Error::Timeout { .. } | Error::RateLimited { .. } => true,
            Error::Api { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// What an error of the command `action` (`cancel`, `upload`) tells its caller: a
    /// gateway's 502, 503 or 504 becomes [`Error::OutcomeUnknown`] (the printer behind it may
    /// have received the command), and an OutcomeUnknown from the transport is named after
    /// the command. Everything else is as it was. The core applies this to every command.
    pub fn of_command(self, action: &str) -> Error {
        match self {
            Error::Api {
                status: status @ 502..=504,
                message,
            } => Error::OutcomeUnknown {
                action: action.to_string(),
                message: format!("a gateway answered {status}: {message}"),
            },
            Error::OutcomeUnknown { message, .. } => Error::OutcomeUnknown {
                action: action.to_string(),
                message,
            },
            other => other,
        }
    }

    /// The same error with every secret in `secrets` replaced by `***` in its texts: a server
    /// that echoes the request (its headers, its credential) into an error body cannot get a
    /// credential into a message. Secrets shorter than four characters are left alone (they
    /// would shred ordinary words). The core applies this to every error of every backend
    /// ([`Backend::secrets`](crate::Backend::secrets)).
    pub fn scrub(self, secrets: &[crate::transport::Secret]) -> Error {
        let clean = |mut text: String| {
            for s in secrets.iter().map(|s| s.expose()).filter(|s| s.len() >= 4) {
                if text.contains(s) {
                    text = text.replace(s, "***");
                }
            }
            text
        };
        match self {
            Error::Unsupported { feature, backend } => Error::Unsupported { feature, backend },
            Error::InvalidArgument { what, reason } => Error::InvalidArgument {
                what: clean(what),
                reason: clean(reason),
            },
            Error::InvalidState { message } => Error::InvalidState {
                message: clean(message),
            },
            Error::NotFound { what } => Error::NotFound { what: clean(what) },
            Error::Auth { message } => Error::Auth {
                message: clean(message),
            },
            Error::RateLimited { retry_after } => Error::RateLimited { retry_after },
            Error::Unreachable {
                endpoint,
                message,
                cause,
            } => Error::Unreachable {
                endpoint: clean(endpoint),
                message: clean(message),
                cause,
            },
            Error::Timeout { endpoint, after } => Error::Timeout {
                endpoint: clean(endpoint),
                after,
            },
            Error::Protocol { message, cause } => Error::Protocol {
                message: clean(message),
                cause,
            },
            Error::Api { status, message } => Error::Api {
                status,
                message: clean(message),
            },
            Error::OutcomeUnknown { action, message } => Error::OutcomeUnknown {
                action: clean(action),
                message: clean(message),
            },
            Error::Redirected {
                endpoint,
                status,
                location,
            } => Error::Redirected {
                endpoint: clean(endpoint),
                status,
                location: clean(location),
            },
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidState`].
    pub fn state(message: impl Into<String>) -> Self {
        Error::InvalidState {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Protocol`], without a cause.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol {
            message: message.into(),
            cause: None,
        }
    }

    /// [`Error::Protocol`] with the error it came from.
    pub fn protocol_from(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Protocol {
            message: message.into(),
            cause: Some(Cause::new(cause)),
        }
    }

    /// [`Error::Unreachable`]: `endpoint` (without credentials) could not be reached, as
    /// `message` says, without a cause.
    pub fn unreachable(endpoint: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Unreachable {
            endpoint: endpoint.into(),
            message: message.into(),
            cause: None,
        }
    }

    /// The generic mapping of an HTTP error status to a kind, for adapters whose server has no
    /// quirk for that status: 401/403 Auth, 404 NotFound, 409 InvalidState, 429 RateLimited,
    /// anything else Api.
    pub fn from_status(status: u16, message: impl Into<String>) -> Self {
        let message = message.into();
        match status {
            401 | 403 => Error::Auth { message },
            404 => Error::NotFound { what: message },
            409 => Error::InvalidState { message },
            429 => Error::RateLimited { retry_after: None },
            _ => Error::Api { status, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_secrets_from_every_text() {
        use crate::transport::Secret;
        let secrets = [Secret::new("k3y-0123456789"), Secret::new("ab")];
        let e = Error::Api {
            status: 400,
            message: "bad request; x-api-key: k3y-0123456789; tab".into(),
        }
        .scrub(&secrets);
        assert_eq!(
            e.to_string(),
            "server error 400: bad request; x-api-key: ***; tab"
        );
        let e = Error::OutcomeUnknown {
            action: "cancel".into(),
            message: "reset (k3y-0123456789)".into(),
        }
        .scrub(&secrets);
        assert!(!format!("{e} {e:?}").contains("k3y"), "{e:?}");
    }

    #[test]
    fn retryable_table() {
        let cases: Vec<(Error, bool)> = vec![
            (Error::from_status(502, "bad gateway"), true),
            (Error::from_status(503, "unavailable"), true),
            (Error::from_status(504, "gateway timeout"), true),
            (Error::from_status(500, "internal"), false),
            (Error::from_status(409, "busy"), false),
            (Error::from_status(403, "no"), false),
            (
                Error::Timeout {
                    endpoint: "x".into(),
                    after: Duration::from_secs(1),
                },
                true,
            ),
            (Error::unreachable("x", "refused"), true),
            (Error::RateLimited { retry_after: None }, true),
            (Error::protocol("bad json"), false),
            (Error::invalid("file name", "empty"), false),
        ];
        for (err, retryable) in cases {
            assert_eq!(err.is_retryable(), retryable, "{err}");
        }
    }

    #[test]
    fn status_mapping() {
        assert_eq!(Error::from_status(401, "").kind(), ErrorKind::Auth);
        assert_eq!(Error::from_status(403, "").kind(), ErrorKind::Auth);
        assert_eq!(Error::from_status(404, "").kind(), ErrorKind::NotFound);
        assert_eq!(Error::from_status(409, "").kind(), ErrorKind::InvalidState);
        assert_eq!(Error::from_status(429, "").kind(), ErrorKind::RateLimited);
        assert_eq!(Error::from_status(418, "").kind(), ErrorKind::Api);
        assert_eq!(ErrorKind::InvalidState.code(), "invalid_state");
    }
}
