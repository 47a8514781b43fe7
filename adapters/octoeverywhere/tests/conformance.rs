//! The suite itself runs for this adapter from the registry, once per host profile
//! (`cargo test -p polyprint-conformance octoeverywhere`); here: it cannot pass by skipping,
//! and each host's features decide what runs: Moonraker drives every control, OctoPrint none,
//! Bambu the light only; the rest is refused with no request.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::assert_cases_pass;
use polyprint_conformance::{Harness, MockHarness};
use polyprint_octoeverywhere::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_each_host_can_do() {
    let hosts = MockHarness::all(&DESCRIPTOR);
    let names: Vec<String> = hosts.iter().map(|h| h.name()).collect();
    assert_eq!(
        names,
        [
            "octoeverywhere-moonraker",
            "octoeverywhere-octoprint",
            "octoeverywhere-bambu"
        ]
    );
    for host in &hosts {
        assert_cases_pass(
            host,
            &[
                "status.offline",
                "status.paused",
                "lifecycle.pause_resume_cancel",
                "errors.pause_when_idle",
                "errors.start_missing_file",
                "errors.auth_wrong_key",
                "faults.command_sent_once_under_5xx",
                "faults.read_retried_after_5xx",
                "controls.snapshot",
                "controls.failure_detection",
                "files.list",
            ],
        )
        .await;
    }
    let [moonraker, octoprint, bambu] = &hosts[..] else {
        unreachable!("three hosts, checked above")
    };
    assert_cases_pass(
        moonraker,
        &[
            "controls.set_target",
            "controls.jog",
            "controls.home",
            "controls.extrude",
            "controls.light",
        ],
    )
    .await;
    assert_cases_pass(
        octoprint,
        &[
            "unsupported.light_control",
            "unsupported.axis_movement",
            "unsupported.homing",
            "unsupported.extrusion",
            "unsupported.temperature_control",
        ],
    )
    .await;
    assert_cases_pass(
        bambu,
        &["controls.light", "unsupported.temperature_control"],
    )
    .await;
}
