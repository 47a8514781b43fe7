//! Obico's error answers, mapped to [`polyprint::Error`] kinds.
//!
//! | answer                                                      | kind            |
//! |-------------------------------------------------------------|-----------------|
//! | 401, 403 `{"detail": "Authentication credentials were not provided."}` | Auth |
//! | 404 `Printer is not currently printing.` / `Not currently printing`    | InvalidState |
//! | 404 anything else (`No Printer matches the given query.`, `Not found.`) | NotFound |
//! | 400 field errors (`{"filename": "This field is required."}`)          | InvalidArgument |
//! | 429                                                         | RateLimited     |
//! | 405, 415, 5xx (including Django's HTML error page) and the rest | Api, with a short snippet |
//! | 200 `{"succeeded": false, ...}` (no current print)          | InvalidState    |
//!
//! Bodies are never assumed to be JSON: an HTML page becomes a one-line snippet.

use polyprint::transport::{html_heading, Response};
use polyprint::Error;

/// The server's message in an error body: `detail`, or field errors as `field: message`, or a
/// snippet of whatever else came back (HTML pages included).
pub(crate) fn message_of(response: &Response) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
        return html_heading(&response.body)
            .map(|h| format!("HTML error page: {h}"))
            .unwrap_or_else(|| response.snippet());
    };
    match &value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(d)) = map.get("detail") {
                return d.clone();
            }
            let parts: Vec<String> = map
                .iter()
                .map(|(field, v)| match v {
                    serde_json::Value::String(s) => format!("{field}: {s}"),
                    serde_json::Value::Array(a) => format!(
                        "{field}: {}",
                        a.iter()
                            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => format!("{field}: {other}"),
                })
                .collect();
            if parts.is_empty() {
                response.snippet()
            } else {
                parts.join("; ")
            }
        }
        _ => response.snippet(),
    }
}

/// Passes a 2xx answer through; maps any other status to its error kind (see the module docs).
pub(crate) fn check(response: Response) -> polyprint::Result<Response> {
    if response.is_success() {
        return Ok(response);
    }
    let message = message_of(&response);
    Err(match response.status {
        401 | 403 => Error::Auth { message },
        404 if message
            .to_ascii_lowercase()
            .contains("not currently printing") =>
        {
            Error::state(message)
        }
        404 => Error::NotFound { what: message },
        400 => Error::invalid("request", message),
        429 => Error::RateLimited {
            retry_after: response.retry_after(),
        },
        status => Error::Api { status, message },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::ErrorKind;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/samples/obico/errors/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_error_sample_maps_to_its_kind() {
        let rows = [
            (
                "400_create_printer_missing_name.json",
                400,
                ErrorKind::InvalidArgument,
                "name: This field is required.",
            ),
            (
                "400_predict_missing_img.json",
                400,
                ErrorKind::InvalidArgument,
                "img: This field is required.",
            ),
            (
                "400_start_print_missing_filename.json",
                400,
                ErrorKind::InvalidArgument,
                "filename: This field is required.",
            ),
            (
                "403_not_authenticated.json",
                403,
                ErrorKind::Auth,
                "Authentication credentials were not provided.",
            ),
            (
                "404_acknowledge_not_printing.json",
                404,
                ErrorKind::InvalidState,
                "Not currently printing",
            ),
            (
                "404_not_currently_printing.json",
                404,
                ErrorKind::InvalidState,
                "Printer is not currently printing.",
            ),
            (
                "404_not_found_generic.json",
                404,
                ErrorKind::NotFound,
                "Not found.",
            ),
            (
                "404_printer_not_found.json",
                404,
                ErrorKind::NotFound,
                "No Printer matches the given query.",
            ),
            (
                "405_method_not_allowed.json",
                405,
                ErrorKind::Api,
                "Method \"GET\" not allowed.",
            ),
            (
                "415_predict_json_body.json",
                415,
                ErrorKind::Api,
                "Unsupported media type \"application/json\" in request.",
            ),
        ];
        for (file, status, kind, text) in rows {
            let err = check(response(status, &sample(file))).unwrap_err();
            assert_eq!(err.kind(), kind, "{file}");
            assert!(err.to_string().contains(text), "{file}: {err}");
        }
    }

    #[test]
    fn html_pages_become_short_messages() {
        let page = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";
        let err = check(response(500, page)).unwrap_err();
        assert!(matches!(err, Error::Api { status: 500, .. }), "{err}");
        assert!(err.to_string().contains("Server Error (500)"), "{err}");
        let long = format!("<p>{}</p>", "x".repeat(5000));
        let err = check(response(502, &long)).unwrap_err();
        assert!(err.to_string().len() < 300, "{err}");
        assert!(check(response(200, "anything")).is_ok());
    }
}
