//! The result of one case against one target, and the small vocabulary cases are written in.

use std::fmt;

use polyprint::{Error, ErrorKind, PrinterState, PrinterStatus};

/// How one case went against one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A check failed; the message says which and what was seen.
    Fail(String),
    /// The case did not apply; the reason says why (a missing feature, no mock control, ...).
    Skip(String),
}

impl Outcome {
    /// Whether this is a [`Outcome::Fail`].
    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail(_))
    }

    /// Whether this is a [`Outcome::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    /// Whether this is a [`Outcome::Skip`].
    pub fn is_skip(&self) -> bool {
        matches!(self, Outcome::Skip(_))
    }

    /// A failure.
    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome::Fail(message.into())
    }

    /// A skip.
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skip(reason.into())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Pass => f.write_str("pass"),
            Outcome::Fail(m) => write!(f, "FAIL: {m}"),
            Outcome::Skip(r) => write!(f, "skip({r})"),
        }
    }
}

impl From<String> for Outcome {
    fn from(message: String) -> Outcome {
        Outcome::Fail(message)
    }
}

/// A step of a case: `Err` ends the case with that outcome (usually a failure, sometimes a
/// skip), so checks compose with `?`.
pub type Step<T = ()> = Result<T, Outcome>;

/// The outcome of a case body.
pub fn finish(step: Step) -> Outcome {
    match step {
        Ok(()) => Outcome::Pass,
        Err(outcome) => outcome,
    }
}

/// Fails the case with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Step {
    if condition {
        Ok(())
    } else {
        Err(Outcome::Fail(message()))
    }
}

/// Unwraps an action's result, failing the case with the error when it is not `Ok`.
pub fn expect_ok<T>(result: polyprint::Result<T>, action: &str) -> Step<T> {
    result.map_err(|e| Outcome::Fail(format!("{action}: expected Ok, got {:?}: {e}", e.kind())))
}

/// Checks that an action failed with an error of `kind`, and returns that error.
pub fn expect_err<T: fmt::Debug>(
    result: polyprint::Result<T>,
    kind: ErrorKind,
    action: &str,
) -> Step<Error> {
    match result {
        Err(e) if e.kind() == kind => Ok(e),
        Err(e) => Err(Outcome::Fail(format!(
            "{action}: expected {}, got {}: {e}",
            kind.code(),
            e.kind().code()
        ))),
        Ok(v) => Err(Outcome::Fail(format!(
            "{action}: expected {}, got Ok({v:?})",
            kind.code()
        ))),
    }
}

/// Checks a status's state.
pub fn expect_state(status: &PrinterStatus, want: PrinterState, context: &str) -> Step {
    ensure(status.state == want, || {
        format!(
            "{context}: expected state {want}, got {} (raw {:?})",
            status.state, status.raw_state
        )
    })
}
