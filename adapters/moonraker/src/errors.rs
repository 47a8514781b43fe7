//! Moonraker's error answers, mapped to [`polyprint::Error`].
//!
//! Every error body is `{"error": {"code", "message", "traceback"}}`. The traceback is a
//! whole Python trace with install paths and is never shown. When `message` is only a
//! reason phrase (`Unknown`, `Bad Request`, `Forbidden`, ...: Moonraker puts those there
//! whenever the text holds a newline, `<` or `>`), the text is taken from the traceback's
//! last `tornado.web.HTTPError: HTTP <code>: …` line instead. The text then decides:
//!
//! | answer | error |
//! |---|---|
//! | 401 `Unauthorized` (no key where one is needed, a wrong key even from a trusted client) | [`Error::Auth`] |
//! | 403 `File currently in use` (deleting the file being printed) | [`Error::InvalidState`] |
//! | 403, anything else | [`Error::Api`] |
//! | 404 (`Metadata not available for <f>`, a missing route) | [`Error::NotFound`] naming what was looked for |
//! | 400 `Unable to open file`, `Invalid file path: …` (delete of a missing file), `… does not exist` | [`Error::NotFound`] |
//! | 400 `SD busy`, `Must home axis first`, `Extrude below minimum temp`, the shutdown and not-ready texts (`Printer is shutdown`, `Printer is not ready`, `Printer is halted`) | [`Error::InvalidState`] |
//! | 400, any other text (`Requested temperature (999.0) out of range (0.0:300.0)`, `Error on '…': unable to parse …`, `Move out of range: …`) | [`Error::InvalidArgument`] |
//! | 503 `Klippy Host not connected` | [`Error::InvalidState`] (not retried by the caller: Klippy is down) |
//! | 429 | [`Error::RateLimited`] |
//! | anything else (500, a proxy's 502–504) | [`Error::Api`] |

use polyprint::transport::{snippet, Response};
use polyprint::Error;
use serde_json::Value;

use crate::mapping::one_line;

/// Moonraker's text while Klippy is not connected (503 on every `/printer/` route).
pub(crate) const KLIPPY_NOT_CONNECTED: &str = "Klippy Host not connected";

/// The reason phrases Moonraker puts in `message` when the real text could not go there.
const REASON_PHRASES: &[&str] = &[
    "Unknown",
    "Bad Request",
    "Unauthorized",
    "Forbidden",
    "Not Found",
    "Method Not Allowed",
    "Conflict",
    "Internal Server Error",
    "Service Unavailable",
];

/// The text after the last `tornado.web.HTTPError: HTTP <code>: ` of a traceback, with a
/// reason phrase's detail (`Bad Request (Invalid file path: x)`) unwrapped.
fn traceback_text(traceback: &str) -> Option<String> {
    const MARK: &str = "tornado.web.HTTPError: HTTP ";
    let at = traceback.rfind(MARK)? + MARK.len();
    let rest = &traceback[at..];
    let text = rest.split_once(": ").map(|(_, t)| t).unwrap_or(rest);
    let text = one_line(text);
    for phrase in REASON_PHRASES {
        if let Some(inner) = text
            .strip_prefix(phrase)
            .and_then(|t| t.trim().strip_prefix('('))
            .and_then(|t| t.strip_suffix(')'))
        {
            return Some(inner.to_string());
        }
    }
    Some(text)
}

/// The server's message: `message`, or the traceback's text when `message` is only a reason
/// phrase; for a body that is not Moonraker's error object, a short snippet. One line, no
/// traceback, at most 300 characters.
pub(crate) fn server_message(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return snippet(body);
    };
    match v.get("error") {
        Some(Value::Object(e)) => {
            let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
            let generic = message.is_empty() || REASON_PHRASES.contains(&message.trim());
            if generic {
                if let Some(t) = e
                    .get("traceback")
                    .and_then(Value::as_str)
                    .and_then(traceback_text)
                    .filter(|t| !t.is_empty())
                {
                    return t;
                }
            }
            if message.is_empty() {
                snippet(body)
            } else {
                one_line(message)
            }
        }
        Some(Value::String(s)) => one_line(s),
        _ => snippet(body),
    }
}

/// Whether a text says Klippy cannot take commands now.
pub(crate) fn klippy_not_ready(text: &str) -> bool {
    [
        KLIPPY_NOT_CONNECTED,
        "Printer is shutdown",
        "Printer is not ready",
        "Printer is halted",
        "Klipper state: Shutdown",
        "Shutdown due to",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// Maps a non-2xx answer. `what` names what a 404 did not find (`file x.gcode`).
pub(crate) fn error_for(response: &Response, what: &str) -> Error {
    let text = server_message(&response.body);
    let has = |t: &str| text.contains(t);
    match response.status {
        401 => Error::Auth {
            message: format!("Moonraker refused the request ({text})"),
        },
        403 if has("in use") => Error::InvalidState { message: text },
        404 => Error::NotFound {
            what: format!("{what} on the Moonraker server ({text})"),
        },
        400 if has("Unable to open file")
            || has("Invalid file path")
            || has("does not exist")
            || has("File not found") =>
        {
            Error::NotFound {
                what: format!("{what} on the Moonraker server ({text})"),
            }
        }
        400 if has("SD busy")
            || has("Must home axis first")
            || has("Extrude below minimum temp")
            || klippy_not_ready(&text) =>
        {
            Error::InvalidState { message: text }
        }
        400 => Error::invalid("request", text),
        409 => Error::InvalidState { message: text },
        429 => Error::RateLimited {
            retry_after: response.retry_after(),
        },
        503 if has(KLIPPY_NOT_CONNECTED) => Error::InvalidState { message: text },
        status => Error::Api {
            status,
            message: text,
        },
    }
}

/// `Ok` for a 2xx answer, else its error.
pub(crate) fn check(response: Response, what: &str) -> polyprint::Result<Response> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(error_for(&response, what))
    }
}

/// Decodes a 2xx answer's `{"result": T}`, or maps the error.
pub(crate) fn result<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &str,
) -> polyprint::Result<T> {
    let r = check(response, what)?;
    Ok(r.json::<crate::wire::Envelope<T>>()?.result)
}

/// Checks a command's answer: a 2xx whose body is `{"result": "ok"}` (or any `result`).
pub(crate) fn ok(response: Response, what: &str) -> polyprint::Result<()> {
    result::<Value>(response, what).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::ErrorKind;
    use serde_json::json;

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn moonraker(status: u16, message: &str, last: &str) -> Response {
        let traceback = format!(
            "Traceback (most recent call last):\n\n  File \"/opt/venv/lib/python3.11/site-packages/x.py\", line 1\n\ntornado.web.HTTPError: HTTP {status}: {last}\n"
        );
        resp(
            status,
            json!({"error": {"code": status, "message": message, "traceback": traceback}}),
        )
    }

    #[test]
    fn recorded_answers() {
        let rows = [
            (moonraker(400, "Unable to open file", "Unable to open file"), ErrorKind::NotFound, "Unable to open file"),
            (moonraker(400, "SD busy", "SD busy"), ErrorKind::InvalidState, "SD busy"),
            (moonraker(400, "Bad Request", "Bad Request (Invalid file path: gcodes/missing.gcode)"), ErrorKind::NotFound, "Invalid file path: gcodes/missing.gcode"),
            (moonraker(403, "Forbidden", "Forbidden (File currently in use)"), ErrorKind::InvalidState, "File currently in use"),
            (moonraker(404, "Unknown", "Metadata not available for <missing.gcode>"), ErrorKind::NotFound, "Metadata not available for <missing.gcode>"),
            (moonraker(400, "Unknown", "Shutdown due to webhooks request\nOnce the underlying issue is corrected, use the\n\"FIRMWARE_RESTART\" command\nPrinter is shutdown\n"), ErrorKind::InvalidState, "Shutdown due to webhooks request Once the"),
            (moonraker(400, "Requested temperature (999.0) out of range (0.0:300.0)", "x"), ErrorKind::InvalidArgument, "out of range (0.0:300.0)"),
            (moonraker(400, "Error on 'SET_GCODE_OFFSET Z=abc': unable to parse abc", "x"), ErrorKind::InvalidArgument, "unable to parse abc"),
            (moonraker(400, "Must home axis first: 10.000 0.000 0.000 [0.000]", "x"), ErrorKind::InvalidState, "Must home axis first"),
            (moonraker(400, "Unknown", "Extrude below minimum temp\nSee the 'min_extrude_temp' config option for details"), ErrorKind::InvalidState, "Extrude below minimum temp"),
            (moonraker(400, "G-Code File missing.gcode does not exist", "x"), ErrorKind::NotFound, "does not exist"),
            (moonraker(401, "Unauthorized", "Unauthorized (Invalid API Key)"), ErrorKind::Auth, "Invalid API Key"),
            (moonraker(503, "Klippy Host not connected", "Klippy Host not connected"), ErrorKind::InvalidState, KLIPPY_NOT_CONNECTED),
            (moonraker(500, "Internal Server Error", "Internal Server Error (Unable to save file)"), ErrorKind::Api, "Unable to save file"),
        ];
        for (r, kind, says) in rows {
            let e = error_for(&r, "file x.gcode");
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.to_string().contains(says), "{e}");
            assert!(!e.to_string().contains("Traceback"), "{e}");
            assert!(!e.to_string().contains("/opt/venv"), "{e}");
        }
    }

    #[test]
    fn any_body_gives_a_short_line() {
        let long = "x\n".repeat(100_000);
        for body in [
            json!({}),
            json!({"error": 5}),
            json!({"error": {"message": 5, "traceback": ["a"]}}),
            json!({"error": {"message": "Unknown", "traceback": "HTTP 400:"}}),
            json!({"error": {"message": "Unknown", "traceback": long}}),
            json!("tornado.web.HTTPError: HTTP 400: "),
        ] {
            let e = error_for(&resp(400, body), "x");
            assert!(e.to_string().len() < 400, "{}", e.to_string().len());
        }
        let raw = Response {
            status: 502,
            headers: Default::default(),
            body: bytes::Bytes::from_static(b"<html>Bad Gateway</html>"),
        };
        assert!(error_for(&raw, "x").is_retryable());
    }
}
