//! PrusaLink's error answers, mapped to [`polyprint::Error`].
//!
//! PrusaLink's error bodies are `text/plain`: a title line, a text line, and often a
//! `See: <url>` line (`"Printer Is Not Printing\nOperation you want can only be done when
//! printer is printing.\n\n\n"`). The message is the title and the text joined; the status
//! code decides the error:
//!
//! | answer | error |
//! |---|---|
//! | 401 (no or wrong credentials; the HTML page with the Digest challenge) | [`Error::Auth`] |
//! | 403 `Bad X-Api-Key.` | [`Error::Auth`] |
//! | 404 `Not Current Job` | [`Error::InvalidState`] (the job id is no longer the current job) |
//! | 404, anything else (`File Not Found`) | [`Error::NotFound`] naming what was looked for |
//! | 409 (`Not in state to print`, `Printer Is Not Printing`, `Printer Is Not Paused`, `File Already Exists`, `File is currently printed`) | [`Error::InvalidState`] |
//! | 415 `Unsupported Media Type` | [`Error::InvalidArgument`] (`file type`) |
//! | 400 | [`Error::InvalidArgument`] |
//! | 429 | [`Error::RateLimited`] |
//! | 503 `Printer Unavailable.` | [`Error::Api`], retryable (the daemon is starting); a status read shows it as Offline instead |
//! | other 5xx | [`Error::Api`] |

use polyprint::transport::{html_heading, snippet, Response};
use polyprint::Error;

/// The title of PrusaLink's 404 for a job id that is not the current job.
pub(crate) const NOT_CURRENT_JOB: &str = "Not Current Job";

/// The server's message: the first two lines of a text body (title and text), an HTML
/// page's heading, or a snippet.
pub(crate) fn server_message(response: &Response) -> String {
    let is_html = response
        .content_type()
        .is_some_and(|c| c.starts_with("text/html"));
    if is_html {
        if let Some(h) = html_heading(&response.body) {
            return h;
        }
    }
    let text = String::from_utf8_lossy(&response.body[..response.body.len().min(2048)]);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("See: "))
        .take(2)
        .collect();
    if lines.is_empty() {
        return snippet(&response.body);
    }
    let joined = match lines.as_slice() {
        [title, text] => format!("{}: {text}", title.trim_end_matches('.')),
        [one] => one.to_string(),
        _ => String::new(),
    };
    snippet(joined.as_bytes())
}

/// The title line of a text body (`Not Current Job`).
pub(crate) fn title(response: &Response) -> String {
    String::from_utf8_lossy(&response.body[..response.body.len().min(256)])
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Maps a non-2xx answer. `what` names what a 404 did not find (`file test.gcode`).
pub(crate) fn error_for(response: &Response, what: &str) -> Error {
    let message = server_message(response);
    match response.status {
        401 => Error::Auth {
            message: format!("PrusaLink refused the credentials ({message})"),
        },
        403 => Error::Auth {
            message: format!("PrusaLink refused the API key ({message})"),
        },
        404 if title(response) == NOT_CURRENT_JOB => Error::InvalidState { message },
        404 => Error::NotFound {
            what: format!("{what} on the PrusaLink server"),
        },
        409 => Error::InvalidState { message },
        415 => Error::invalid(polyprint::CheckedUpload::WHAT_FILE_TYPE, message),
        400 => Error::invalid("request", message),
        429 => Error::RateLimited {
            retry_after: response.retry_after(),
        },
        status => Error::Api { status, message },
    }
}

/// `Ok` for a 2xx answer (not decoded: PrusaLink's 201 and 204 are empty), else the error.
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

    fn resp(status: u16, content_type: &str, body: &str) -> Response {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::CONTENT_TYPE, content_type.parse().unwrap());
        Response {
            status,
            headers,
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    /// The recorded bodies, a row each.
    #[test]
    fn recorded_answers() {
        let text = "text/plain; charset=utf-8";
        let rows = [
            (401, "text/html; charset=utf-8", "<html><title>401 - Unauthorized</title></html>", ErrorKind::Auth, "401 - Unauthorized"),
            (403, "text/html; charset=utf-8", "Bad X-Api-Key.", ErrorKind::Auth, "Bad X-Api-Key."),
            (404, text, "Not Current Job\nGiven job id does not belong to current job\n\n\nSee: http://127.0.0.1:18080/error/not-found\n", ErrorKind::InvalidState, "Not Current Job: Given job id does not belong to current job"),
            (404, text, "File Not Found\nFile you want was not found.\n\n\nSee: http://127.0.0.1:18080/error/not-found", ErrorKind::NotFound, "file x.gcode"),
            (409, text, "Printer Is Not Printing\nOperation you want can only be done when printer is printing.\n\n\n", ErrorKind::InvalidState, "Printer Is Not Printing: Operation you want can only be done when printer is printing."),
            (409, text, "Not in state to print\nPrinter is not in state to print.\n\n\nSee: http://127.0.0.1:18080/error/not-state-to-print", ErrorKind::InvalidState, "Not in state to print: Printer is not in state to print."),
            (415, text, "Unsupported Media Type\nOnly G-Code for FDM printer can be uploaded.\n\n\nSee: x", ErrorKind::InvalidArgument, "Only G-Code for FDM printer can be uploaded."),
            (503, text, "Printer Unavailable.\nPrusaLink not finished initializing or Printer not connected.\n\n\nSee: x", ErrorKind::Api, "Printer Unavailable: PrusaLink not finished initializing"),
            (500, "text/html", "<html><head><title>500 - Internal Server Error</title></head></html>", ErrorKind::Api, "500 - Internal Server Error"),
        ];
        for (status, ct, body, kind, says) in rows {
            let e = error_for(&resp(status, ct, body), "file x.gcode");
            assert_eq!(e.kind(), kind, "{status} {body:?}: {e}");
            assert!(e.to_string().contains(says), "{status}: {e}");
        }
        assert!(error_for(&resp(503, text, "Printer Unavailable."), "x").is_retryable());
        // Whatever the body, nothing panics and the message stays one short line.
        for body in ["", "\n\n\n", "é\u{0}", &"x".repeat(100_000)] {
            let e = error_for(&resp(409, text, body), "x");
            assert!(e.to_string().len() < 400, "{}", e.to_string().len());
        }
    }
}
