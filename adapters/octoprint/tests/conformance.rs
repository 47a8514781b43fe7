//! The suite itself runs for this adapter from the registry
//! (`cargo test -p polyprint-conformance octoprint`); here: it cannot pass by skipping.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::{assert_cases_pass, why_not};
use polyprint_conformance::MockHarness;
use polyprint_octoprint::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_octoprint_can_do() {
    let h = &MockHarness::all(&DESCRIPTOR)[0];
    assert_cases_pass(
        h,
        &[
            "status.idle",
            "status.offline",
            "status.printing",
            "status.pausing",
            "status.paused",
            "status.cancelling",
            "status.finished",
            "status.cancelled",
            "status.error",
            "lifecycle.pause_resume_cancel",
            "lifecycle.print_to_end",
            "errors.pause_when_idle",
            "errors.start_missing_file",
            "errors.resume_while_printing_noop",
            "errors.auth_wrong_key",
            "errors.unreachable",
            "controls.set_target",
            "input.file_traversal",
            "input.target_nan",
            "input.gcode_newline",
            "faults.timeout",
            "faults.malformed_body",
            "faults.truncated_body",
            "faults.read_retried_after_5xx",
            "faults.command_sent_once_under_5xx",
        ],
    )
    .await;
    // OctoPrint has no state for a printer waiting on a person: skipped when run.
    assert_eq!(why_not(h, "status.attention").await, None);
    let t = polyprint_conformance::trials::run_named(h, "status.attention").await;
    assert!(t.is_skip(), "{t:?}");
}
