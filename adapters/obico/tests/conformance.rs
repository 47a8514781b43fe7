//! The suite itself runs for this adapter from the registry, once per kind of printer
//! (`cargo test -p polyprint-conformance obico`); here: it cannot pass by skipping.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::assert_cases_pass;
use polyprint_conformance::{Harness, MockHarness};
use polyprint_obico::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_each_kind_of_obico_printer_can_do() {
    let harnesses = MockHarness::all(&DESCRIPTOR);
    let names: Vec<String> = harnesses.iter().map(|h| h.name()).collect();
    assert_eq!(
        names,
        [
            "obico-octoprint-agent",
            "obico-moonraker-agent",
            "obico-agentless"
        ]
    );
    for agent in &harnesses[..2] {
        assert_cases_pass(
            agent,
            &[
                "status.paused",
                "errors.pause_when_idle",
                "faults.command_sent_once_under_5xx",
            ],
        )
        .await;
    }
    assert_cases_pass(&harnesses[2], &["status.offline"]).await;
}
