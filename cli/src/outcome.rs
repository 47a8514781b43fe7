//! What a command ends with: its data, or a [`CliError`] with a stable code and an exit code,
//! and how both are printed (one JSON document with `--json`, text otherwise).

use std::fmt;
use std::io::Write;

use polyprint::{CheckedUpload, Error, ErrorKind};
use serde_json::Value;

/// The process exit codes, as documented in `--help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success = 0,
    /// 1: the printer or its service is unreachable, timed out, or the printer is offline.
    Unreachable = 1,
    /// 2: a file error (missing, not a file, refused type, too big, not on the printer).
    File = 2,
    /// 3: the printer is busy or in the wrong state.
    State = 3,
    /// 4: anything else (auth, server, protocol, unsupported, invalid input, configuration).
    Other = 4,
    /// 5: a command's answer was lost: the printer may or may not have carried it out.
    OutcomeUnknown = 5,
}

/// A command's failure: a stable code, one line a person can act on, and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// A stable snake_case code: the core's [`ErrorKind::code`] or one of the CLI's own
    /// (`confirmation_required`, `config`, `file_not_found`, `invalid_file`, `offline`,
    /// `busy`, `preflight_failed`, `demo_failed`, `usage`, `io`).
    pub code: String,
    /// The message.
    pub message: String,
    /// The exit code.
    pub exit: Exit,
    /// Extra structured details for the JSON error object (preflight checks, demo summary).
    pub details: Option<Value>,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl CliError {
    /// An error with a code, a message and an exit code.
    pub fn new(code: &str, exit: Exit, message: impl Into<String>) -> CliError {
        CliError {
            code: code.to_string(),
            message: message.into(),
            exit,
            details: None,
        }
    }

    /// Adds structured details to the JSON error object.
    pub fn with_details(mut self, details: Value) -> CliError {
        self.details = Some(details);
        self
    }

    /// A destructive command without `--confirm`.
    pub fn confirmation_required(command: &str) -> CliError {
        CliError::new(
            "confirmation_required",
            Exit::Other,
            format!(
                "`{command}` acts on the printer: add --confirm to really do it (nothing was sent)"
            ),
        )
    }

    /// A configuration problem.
    pub fn config(message: impl Into<String>) -> CliError {
        CliError::new("config", Exit::Other, message)
    }

    /// Bad input caught by the CLI itself.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new("usage", Exit::Other, message)
    }

    /// A local I/O failure that is not about the input file.
    pub fn io(message: impl Into<String>) -> CliError {
        CliError::new("io", Exit::Other, message)
    }
}

/// The exit code for a core error.
pub fn exit_for(err: &Error) -> Exit {
    match err.kind() {
        ErrorKind::Unreachable | ErrorKind::Timeout => Exit::Unreachable,
        ErrorKind::NotFound => Exit::File,
        // The core's upload checks: a refused extension, a source that is not a file, or
        // too many bytes.
        ErrorKind::InvalidArgument if CheckedUpload::refused_file(err) => Exit::File,
        ErrorKind::InvalidState => Exit::State,
        ErrorKind::OutcomeUnknown => Exit::OutcomeUnknown,
        _ => Exit::Other,
    }
}

impl From<Error> for CliError {
    fn from(err: Error) -> CliError {
        CliError::from(&err)
    }
}

impl From<&Error> for CliError {
    fn from(err: &Error) -> CliError {
        let message = match err {
            Error::OutcomeUnknown { action, message } => format!(
                "the printer may have carried out {action}: its answer was lost ({message}); \
                 check `polyprint status` before sending it again"
            ),
            _ => err.to_string(),
        };
        CliError::new(err.kind().code(), exit_for(err), message)
    }
}

/// What a successful command hands back: data for `--json`, text for people.
#[derive(Debug, Default)]
pub struct Reply {
    /// The `data` of the JSON document.
    pub data: Value,
    /// What a person sees (may be empty when the command printed as it went).
    pub text: String,
}

impl Reply {
    /// A reply with data and text.
    pub fn new(data: Value, text: impl Into<String>) -> Reply {
        Reply {
            data,
            text: text.into(),
        }
    }
}

/// The JSON document for a success, keys in the documented order.
pub fn success_document(data: Value) -> String {
    format!("{{\"status\":\"success\",\"data\":{data}}}")
}

/// The JSON document for an error, keys in the documented order.
pub fn error_document(err: &CliError) -> String {
    let mut error = format!(
        "{{\"code\":{},\"message\":{}",
        Value::from(err.code.as_str()),
        Value::from(err.message.as_str())
    );
    if let Some(details) = &err.details {
        error.push_str(&format!(",\"details\":{details}"));
    }
    format!("{{\"status\":\"error\",\"data\":null,\"error\":{error}}}}}")
}

/// Prints the outcome and returns the exit code.
/// Text made safe for a terminal: control characters (escape sequences, carriage returns,
/// bells) and bidirectional overrides become `\u{FFFD}`; newlines stay only when
/// `keep_newlines` (text the CLI laid out itself). JSON output needs none of this: its
/// strings are escaped.
pub fn terminal_safe(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().any(unsafe_char) {
        text.chars()
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

pub fn emit(json: bool, outcome: Result<Reply, CliError>) -> Exit {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match outcome {
        Ok(reply) => {
            if json {
                let _ = writeln!(out, "{}", success_document(reply.data));
            } else if !reply.text.is_empty() {
                let _ = writeln!(out, "{}", terminal_safe(reply.text.trim_end(), true));
            }
            Exit::Success
        }
        Err(err) => {
            if json {
                let _ = writeln!(out, "{}", error_document(&err));
            } else {
                eprintln!("error: {}", terminal_safe(&err.message, false));
            }
            err.exit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn text_output_is_safe_for_terminals() {
        let hostile = "Printing\u{1b}[2J\u{7}\rOK\nFAKE \u{202E}gnp.exe";
        let line = terminal_safe(hostile, false);
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(!line.contains('\u{202E}'), "{line:?}");
        assert!(line.starts_with("Printing\u{FFFD}[2J"), "{line:?}");
        assert_eq!(terminal_safe(hostile, true).matches('\n').count(), 1);
        assert!(matches!(
            terminal_safe("plain text", false),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn exit_codes_follow_the_error_kind() {
        let table: Vec<(Error, Exit)> = vec![
            (
                Error::unreachable("http://127.0.0.1:1/", "refused"),
                Exit::Unreachable,
            ),
            (
                Error::Timeout {
                    endpoint: "x".into(),
                    after: Duration::from_secs(1),
                },
                Exit::Unreachable,
            ),
            (
                Error::NotFound {
                    what: "a.gcode".into(),
                },
                Exit::File,
            ),
            (
                Error::invalid(CheckedUpload::WHAT_FILE_TYPE, "no"),
                Exit::File,
            ),
            (Error::invalid("bed target", "too hot"), Exit::Other),
            (Error::state("printing"), Exit::State),
            (
                Error::Auth {
                    message: "403".into(),
                },
                Exit::Other,
            ),
            (Error::from_status(500, "boom"), Exit::Other),
            (Error::protocol("junk"), Exit::Other),
        ];
        for (err, exit) in table {
            assert_eq!(exit_for(&err), exit, "{err}");
        }
    }

    #[test]
    fn documents_have_the_documented_shape() {
        let text = success_document(json!({"a": 1}));
        assert!(text.starts_with(r#"{"status":"success","data":"#), "{text}");
        let ok: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ok["status"], "success");
        assert_eq!(ok["data"]["a"], 1);
        let err = CliError::from(Error::state("busy"));
        let text = error_document(&err.with_details(json!({"x": "a\"b"})));
        assert!(
            text.starts_with(r#"{"status":"error","data":null,"error":{"code":"#),
            "{text}"
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["status"], "error");
        assert!(doc["data"].is_null());
        assert_eq!(doc["error"]["code"], "invalid_state");
        assert_eq!(doc["error"]["details"]["x"], "a\"b");
    }
}
