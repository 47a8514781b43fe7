//! The suite itself runs for this adapter from the registry
//! (`cargo test -p polyprint-conformance prusalink`); here: it cannot pass by skipping.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::{assert_cases_pass, why_not};
use polyprint_conformance::MockHarness;
use polyprint_prusalink::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_prusalink_can_do() {
    let h = &MockHarness::all(&DESCRIPTOR)[0];
    assert_cases_pass(
        h,
        &[
            "status.idle",
            "status.offline",
            "status.printing",
            "status.pausing",
            "status.paused",
            "status.resuming",
            "status.cancelling",
            "status.finished",
            "status.cancelled",
            "status.attention",
            "status.error",
            "lifecycle.pause_resume_cancel",
            "lifecycle.print_to_end",
            "errors.pause_when_idle",
            "errors.resume_when_idle",
            "errors.cancel_when_idle",
            "errors.resume_while_printing_refused",
            "errors.start_missing_file",
            "errors.start_while_printing",
            "errors.auth_wrong_key",
            "errors.unreachable",
            "files.list",
            "files.upload",
            "files.delete",
            "files.delete_missing",
            "files.delete_while_printing",
            "input.file_traversal",
            "faults.timeout",
            "faults.malformed_body",
            "faults.truncated_body",
            "faults.read_retried_after_5xx",
            "faults.command_sent_once_under_5xx",
        ],
    )
    .await;
    // No temperature control, jogging or G-code in PrusaLink's v1 API: those cases do not
    // run, and say why.
    for case in ["controls.set_target", "controls.jog", "controls.gcode"] {
        let why = why_not(h, case).await;
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("unsupported") || w.contains("needs")),
            "{case}: {why:?}"
        );
    }
}
