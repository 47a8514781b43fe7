//! The conformance suite against the Moonraker mock: every case listed must run and pass
//! (it cannot pass by skipping), and the cases that do not run say why. The suite also runs
//! for this adapter from the registry once it is listed there.
#![cfg(feature = "mock")]

use polyprint_conformance::trials::{assert_cases_pass, run_named, why_not};
use polyprint_conformance::MockHarness;
use polyprint_moonraker::DESCRIPTOR;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_runs_what_moonraker_can_do() {
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
            "status.error",
            "status.attention",
            "claims.hold_on_a_fresh_printer",
            "lifecycle.pause_resume_cancel",
            "lifecycle.print_to_end",
            "lifecycle.job_history",
            "files.list",
            "files.upload",
            "files.delete",
            "files.delete_missing",
            "files.delete_while_printing",
            "files.print_queue",
            "controls.set_target",
            "controls.jog",
            "controls.home",
            "controls.extrude",
            "controls.gcode",
            "controls.snapshot",
            "controls.cancel_object",
            "errors.pause_when_idle",
            "errors.resume_when_idle",
            "errors.cancel_when_idle",
            "errors.resume_while_printing_refused",
            "errors.start_missing_file",
            "errors.start_while_printing",
            "errors.auth_wrong_key",
            "errors.unreachable",
            "faults.timeout",
            "faults.malformed_body",
            "faults.truncated_body",
            "faults.expired_auth",
            "faults.read_retried_after_5xx",
            "faults.read_retried_after_drop",
            "faults.command_sent_once_under_5xx",
            "hostile.command_answer_lost",
            "hostile.read_redirected_away",
            "hostile.command_redirected_away",
            "hostile.endless_and_huge_answers",
            "hostile.error_echoes_the_credential",
            "stream.lifecycle",
            "stream.sees_its_own_command_soon",
            "stream.survives_a_lost_server",
            "input.file_traversal",
            "input.file_inner_traversal",
            "input.file_newline",
            "input.file_carriage_return",
            "input.file_nul",
            "input.file_empty",
            "input.file_blank",
            "input.file_absolute",
            "input.file_backslash",
            "input.file_too_long",
            "input.delete_traversal",
            "input.delete_absolute",
            "input.upload_traversal",
            "input.upload_newline_name",
            "input.upload_text_type",
            "input.upload_executable_type",
            "input.upload_no_extension",
            "input.target_negative",
            "input.target_nan",
            "input.target_infinite",
            "input.target_huge_tool",
            "input.target_huge_bed",
            "input.target_tool_index",
            "input.jog_zero",
            "input.jog_nan",
            "input.jog_infinite",
            "input.jog_huge",
            "input.jog_no_axis",
            "input.jog_negative_speed",
            "input.jog_nan_speed",
            "input.jog_huge_speed",
            "input.extrude_zero",
            "input.extrude_nan",
            "input.extrude_huge",
            "input.home_no_axes",
            "input.gcode_newline",
            "input.gcode_carriage_return",
            "input.gcode_control_char",
            "input.gcode_nul",
            "input.gcode_non_ascii",
            "input.gcode_too_many_lines",
            "input.gcode_empty_list",
            "input.gcode_blank_line",
            "input.gcode_too_long_line",
            "input.history_limit_zero",
            "input.history_limit_huge",
            "unsupported.light_control",
            "unsupported.failure_detection",
            "unsupported.connection_control",
        ],
    )
    .await;
    // What Moonraker does not offer: refused without a request (the `unsupported.*` cases
    // above), and the cases that need it do not run.
    for (case, feature) in [
        ("controls.light", "light_control"),
        ("controls.failure_detection", "failure_detection"),
        ("controls.connection", "connection_control"),
    ] {
        let why = why_not(h, case).await;
        assert!(
            why.as_deref().is_some_and(|w| w.contains(feature)),
            "{case}: {why:?}"
        );
    }
    // Resume while printing is refused (before sending): the no-op case is for backends that
    // accept it, and skips itself here.
    assert!(run_named(h, "errors.resume_while_printing_noop")
        .await
        .is_skip());
    for supported in [
        "unsupported.status_push",
        "unsupported.object_cancel",
        "unsupported.g_code",
    ] {
        assert!(why_not(h, supported).await.is_some(), "{supported}");
    }
}
