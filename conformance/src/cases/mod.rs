//! The cases, grouped by feature, and the registry that says what each needs.
//!
//! Every case is a plain `pub async fn case_x(t: &Target, h: &dyn Harness) -> Outcome` in
//! its group's module, so an adapter's own tests can call one directly. [`all`] lists them
//! with their requirements; the runner gates on those.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use polyprint::{Feature, Features};

use crate::harness::{Harness, Target};
use crate::outcome::Outcome;

pub mod controls;
pub mod errors;
pub mod faults;
pub mod files;
pub mod input;
pub mod lifecycle;
pub mod status;
pub mod unsupported;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A case, callable through the registry.
pub type CaseFn =
    Arc<dyn for<'a> Fn(&'a Target, &'a dyn Harness) -> BoxFuture<'a, Outcome> + Send + Sync>;

/// Which features decide whether a case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The target supports all of these (the empty set: always).
    Supports(Features),
    /// The target lacks this one (the generated refusal cases).
    Lacks(Feature),
}

/// What a case needs besides features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Only the printer.
    Printer,
    /// Mock control: the virtual printer behind the target (embedded or served).
    Control,
    /// A served mock: journal and fault injection over HTTP.
    ServedMock,
}

/// One registered case.
#[derive(Clone)]
pub struct Case {
    /// `group.name`, e.g. `status.paused`.
    pub name: String,
    /// When it runs.
    pub when: When,
    /// What it needs besides features.
    pub needs: Needs,
    /// Whether it moves, heats or prints (live targets run these only when allowed).
    pub destructive: bool,
    /// The case itself.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("when", &self.when)
            .field("needs", &self.needs)
            .field("destructive", &self.destructive)
            .finish()
    }
}

/// Wraps a case function (or closure) for the registry.
pub fn case_fn<F>(f: F) -> CaseFn
where
    F: for<'a> Fn(&'a Target, &'a dyn Harness) -> BoxFuture<'a, Outcome> + Send + Sync + 'static,
{
    Arc::new(f)
}

macro_rules! case {
    ($name:expr, $features:expr, $needs:ident, $destructive:expr, $f:path) => {
        Case {
            name: $name.to_string(),
            when: When::Supports($features),
            needs: Needs::$needs,
            destructive: $destructive,
            run: case_fn(|t, h| Box::pin($f(t, h))),
        }
    };
}

fn none() -> Features {
    Features::empty()
}

/// Every case of the suite, in the order the table shows them.
pub fn all() -> Vec<Case> {
    use Feature::*;
    let mut cases = vec![
        case!("status.idle", none(), Printer, false, status::case_idle),
        case!(
            "status.offline",
            none(),
            Control,
            false,
            status::case_offline
        ),
        case!(
            "status.printing",
            none(),
            Control,
            false,
            status::case_printing
        ),
        case!(
            "status.pausing",
            none(),
            Control,
            false,
            status::case_pausing
        ),
        case!("status.paused", none(), Control, false, status::case_paused),
        case!(
            "status.resuming",
            none(),
            Control,
            false,
            status::case_resuming
        ),
        case!(
            "status.cancelling",
            none(),
            Control,
            false,
            status::case_cancelling
        ),
        case!(
            "status.finished",
            none(),
            Control,
            false,
            status::case_finished
        ),
        case!(
            "status.cancelled",
            none(),
            Control,
            false,
            status::case_cancelled
        ),
        case!("status.error", none(), Control, false, status::case_error),
        case!(
            "status.attention",
            none(),
            Control,
            false,
            status::case_attention
        ),
        case!(
            "lifecycle.pause_resume_cancel",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            lifecycle::case_pause_resume_cancel
        ),
        case!(
            "lifecycle.print_to_end",
            PrintStart.into(),
            Printer,
            true,
            lifecycle::case_print_to_end
        ),
        case!(
            "lifecycle.job_history",
            PrintStart | JobHistory,
            Printer,
            true,
            lifecycle::case_job_history
        ),
        case!(
            "files.list",
            FileList.into(),
            Printer,
            false,
            files::case_list
        ),
        case!(
            "files.upload",
            FileUpload.into(),
            Printer,
            false,
            files::case_upload
        ),
        case!(
            "files.delete",
            FileUpload | FileDelete,
            Printer,
            false,
            files::case_delete
        ),
        case!(
            "files.delete_missing",
            FileDelete.into(),
            Printer,
            false,
            files::case_delete_missing
        ),
        case!(
            "files.delete_while_printing",
            FileDelete | PrintStart | Cancel,
            Printer,
            true,
            files::case_delete_while_printing
        ),
        case!(
            "files.print_queue",
            PrintQueue.into(),
            Printer,
            false,
            files::case_print_queue
        ),
        case!(
            "controls.set_target",
            TemperatureControl.into(),
            Printer,
            true,
            controls::case_set_target
        ),
        case!(
            "controls.jog",
            AxisMovement.into(),
            Printer,
            true,
            controls::case_jog
        ),
        case!(
            "controls.home",
            Homing.into(),
            Printer,
            true,
            controls::case_home
        ),
        case!(
            "controls.extrude",
            Extrusion.into(),
            Printer,
            true,
            controls::case_extrude
        ),
        case!(
            "controls.gcode",
            GCode.into(),
            Printer,
            true,
            controls::case_gcode
        ),
        case!(
            "controls.light",
            LightControl.into(),
            Printer,
            true,
            controls::case_light
        ),
        case!(
            "controls.snapshot",
            WebcamSnapshot.into(),
            Printer,
            false,
            controls::case_snapshot
        ),
        case!(
            "controls.cancel_object",
            PrintStart | ObjectCancel | Cancel,
            Printer,
            true,
            controls::case_cancel_object
        ),
        case!(
            "controls.failure_detection",
            PrintStart | FailureDetection,
            Control,
            true,
            controls::case_failure_detection
        ),
        case!(
            "controls.connection",
            ConnectionControl.into(),
            Printer,
            true,
            controls::case_connection
        ),
        case!(
            "errors.pause_when_idle",
            PauseResume.into(),
            Printer,
            false,
            errors::case_pause_when_idle
        ),
        case!(
            "errors.resume_when_idle",
            PauseResume.into(),
            Printer,
            false,
            errors::case_resume_when_idle
        ),
        case!(
            "errors.cancel_when_idle",
            Cancel.into(),
            Printer,
            false,
            errors::case_cancel_when_idle
        ),
        case!(
            "errors.resume_while_printing_refused",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            errors::case_resume_while_printing_refused
        ),
        case!(
            "errors.resume_while_printing_noop",
            PrintStart | PauseResume | Cancel,
            Printer,
            true,
            errors::case_resume_while_printing_noop
        ),
        case!(
            "errors.start_missing_file",
            PrintStart.into(),
            Printer,
            false,
            errors::case_start_missing_file
        ),
        case!(
            "errors.start_while_printing",
            PrintStart | Cancel,
            Printer,
            true,
            errors::case_start_while_printing
        ),
        case!(
            "errors.auth_wrong_key",
            none(),
            Printer,
            false,
            errors::case_auth_wrong_key
        ),
        case!(
            "errors.unreachable",
            none(),
            Printer,
            false,
            errors::case_unreachable
        ),
        case!(
            "faults.timeout",
            none(),
            ServedMock,
            false,
            faults::case_timeout
        ),
        case!(
            "faults.malformed_body",
            none(),
            ServedMock,
            false,
            faults::case_malformed
        ),
        case!(
            "faults.truncated_body",
            none(),
            ServedMock,
            false,
            faults::case_truncated
        ),
        case!(
            "faults.expired_auth",
            none(),
            ServedMock,
            false,
            faults::case_expired_auth
        ),
        case!(
            "faults.read_retried_after_5xx",
            none(),
            ServedMock,
            false,
            faults::case_read_retried
        ),
        case!(
            "faults.read_retried_after_drop",
            none(),
            ServedMock,
            false,
            faults::case_read_after_drop
        ),
        case!(
            "faults.command_sent_once_under_5xx",
            none(),
            ServedMock,
            false,
            faults::case_command_sent_once
        ),
    ];
    cases.extend(input::cases());
    cases.extend(unsupported::cases());
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_grouped() {
        let cases = all();
        let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.iter().all(|n| n.contains('.')),
            "every case is group.name"
        );
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate case names");
        assert!(input::BAD_INPUTS.len() >= 20);
        assert_eq!(
            cases
                .iter()
                .filter(|c| matches!(c.when, When::Lacks(_)))
                .count(),
            Feature::all().count()
        );
    }
}
