//! The suite itself runs for this adapter from the registry
//! (`cargo test -p polyprint-conformance prusa-connect`); here: it cannot pass by skipping.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::assert_cases_pass;
use polyprint_conformance::MockHarness;
use polyprint_prusa_connect::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_prusa_connect_can_do() {
    assert_cases_pass(
        &MockHarness::all(&DESCRIPTOR)[0],
        &[
            "controls.extrude",
            "faults.command_sent_once_under_5xx",
            "lifecycle.pause_resume_cancel",
            "controls.cancel_object",
            "files.print_queue",
        ],
    )
    .await;
}
