//! OctoPrint's error answers, mapped to [`polyprint::Error`].
//!
//! | answer | error |
//! |---|---|
//! | 401, 403 | [`Error::Auth`] (a bad or missing key on a GET) |
//! | 400 `{"error":"CSRF validation failed"}` | [`Error::Auth`] (a bad or missing key on a POST or DELETE) |
//! | 400, anything else | [`Error::InvalidArgument`] with the server's text |
//! | 404 | [`Error::NotFound`] naming what was looked for (OctoPrint's text is Flask's generic one) |
//! | 409 | [`Error::InvalidState`] with the server's text |
//! | 415 | [`Error::InvalidArgument`] (an upload of a type the server refuses) |
//! | 429 | [`Error::RateLimited`] with `Retry-After` |
//! | 5xx | [`Error::Api`]; 502–504 are retryable |
//!
//! A 400 other than the CSRF one means the server refused a value that polyprint's own checks
//! let through ("port is invalid", "axis is invalid"): invalid input, as every adapter reports a
//! server's validation refusal.
//!
//! Messages are the server's `error` text, or for a body that is not JSON (OctoPrint's 500 HTML
//! page) its `<title>` or a short one-line snippet. Bodies never panic the decoder.

use polyprint::transport::{html_heading, snippet, Response};
use polyprint::Error;

use crate::wire::ErrorBody;

/// OctoPrint's answer to a POST or DELETE with a bad or missing API key.
pub(crate) const CSRF_FAILED: &str = "CSRF validation failed";

/// The server's message from an error body: the JSON `error`, an HTML page's heading, or a
/// snippet.
pub(crate) fn server_message(body: &[u8]) -> String {
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
        return e.error;
    }
    html_heading(body).unwrap_or_else(|| snippet(body))
}

/// Maps a non-2xx answer to an error. `what` names what a 404 did not find, e.g.
/// `file test.gcode`.
pub(crate) fn error_for(response: &Response, what: &str) -> Error {
    let message = server_message(&response.body);
    match response.status {
        400 if message == CSRF_FAILED => Error::Auth {
            message: format!("the API key was refused ({message})"),
        },
        401 | 403 => Error::Auth { message },
        404 => Error::NotFound {
            what: format!("{what} on the OctoPrint server"),
        },
        409 => Error::InvalidState { message },
        400 => Error::invalid("request", message),
        415 => Error::invalid(polyprint::CheckedUpload::WHAT_FILE_TYPE, message),
        429 => Error::RateLimited {
            retry_after: response.retry_after(),
        },
        status => Error::Api { status, message },
    }
}

/// `Ok` for a 2xx answer (whose body, often an empty 204, is not decoded), else the error.
pub(crate) fn check(response: Response, what: &str) -> polyprint::Result<Response> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(error_for(&response, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::ErrorKind;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn statuses() {
        let cases = [
            (
                403,
                r#"{"error":"You don't have the permission"}"#,
                ErrorKind::Auth,
            ),
            (
                400,
                r#"{"error":"CSRF validation failed"}"#,
                ErrorKind::Auth,
            ),
            (
                400,
                r#"{"error":"port is invalid"}"#,
                ErrorKind::InvalidArgument,
            ),
            (
                404,
                r#"{"error":"The requested URL was not found"}"#,
                ErrorKind::NotFound,
            ),
            (
                409,
                r#"{"error":"Printer is not operational"}"#,
                ErrorKind::InvalidState,
            ),
            (
                415,
                r#"{"error":"Could not upload file, invalid type"}"#,
                ErrorKind::InvalidArgument,
            ),
            (429, "", ErrorKind::RateLimited),
            (
                500,
                "<html><title>500: Internal Server Error</title></html>",
                ErrorKind::Api,
            ),
            (503, "Service Unavailable", ErrorKind::Api),
        ];
        for (status, body, kind) in cases {
            assert_eq!(
                error_for(&resp(status, body), "x").kind(),
                kind,
                "{status} {body}"
            );
        }
        let e = error_for(&resp(409, r#"{"error":"Printer is not operational"}"#), "x");
        assert_eq!(
            e.to_string(),
            "not possible in the printer's current state: Printer is not operational"
        );
        let e = error_for(
            &resp(
                500,
                "<html><title>500: Internal Server Error</title><body>x</body></html>",
            ),
            "x",
        );
        assert_eq!(
            e.to_string(),
            "server error 500: 500: Internal Server Error"
        );
        assert!(error_for(&resp(503, ""), "x").is_retryable());
        assert!(!error_for(&resp(500, ""), "x").is_retryable());
        let e = error_for(&resp(404, "{}"), "file a.gcode");
        assert_eq!(
            e.to_string(),
            "not found: file a.gcode on the OctoPrint server"
        );
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "x".repeat(10_000);
        let msg = server_message(body.as_bytes());
        assert!(msg.chars().count() <= 201, "{}", msg.len());
    }
}
