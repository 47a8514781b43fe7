//! The conformance suite against the OctoEverywhere adapter and its mock, once per host
//! profile: the same virtual printer behind an OctoPrint host (`Features` 32), a Moonraker host
//! (63) and a Bambu host (33). Prints the table; every case that runs must pass, except the
//! documented gap below.
#![cfg(feature = "mock")]

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::{Printer, PrinterState};
use polyprint_conformance::{run_suite, Harness, MockControl, Report, RunOptions, Target};
use polyprint_octoeverywhere::mock::{OctoEverywhereMock, Platform};
use polyprint_octoeverywhere::{Credential, OctoEverywhere};

/// The adapter against a fresh mock per launch.
struct OeHarness(Platform);

#[async_trait]
impl Harness for OeHarness {
    fn name(&self) -> String {
        format!("octoeverywhere-{}", self.0.name())
    }

    async fn launch(&self) -> Result<Target, String> {
        let mock = OctoEverywhereMock::start(VirtualPrinter::new(), self.0).await;
        let credential = mock.credential().to_string();
        let printer =
            OctoEverywhere::new(&mock.uri(), Credential::Bearer(credential.clone().into()))
                .map_err(|e| e.to_string())?;
        // The host's features, as an application would read them.
        printer
            .refresh_features()
            .await
            .map_err(|e| e.to_string())?;
        mock.server().clear_journal();
        Ok(Target {
            printer: Arc::new(printer),
            control: Some(MockControl::of(mock)),
        })
    }

    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        let printer = OctoEverywhere::with_config(
            base_url,
            Credential::Bearer(credential.to_string().into()),
            http,
        )
        .ok()?;
        Some(Arc::new(printer))
    }

    /// OctoEverywhere's words: a pause or cancel being carried out is still `printing`, a
    /// printer waiting for a person is `paused`.
    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        Some(match sim_state {
            PrinterState::Pausing | PrinterState::Cancelling => PrinterState::Printing,
            PrinterState::Attention => PrinterState::Paused,
            s => s,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_of_the_octoeverywhere_adapter() {
    let options = RunOptions {
        case_timeout: std::time::Duration::from_secs(20),
        ..RunOptions::default()
    };
    let mut reports: Vec<Report> = Vec::new();
    for platform in Platform::ALL {
        reports.push(run_suite(&OeHarness(platform), &options).await);
    }
    println!("{}", Report::table(&reports));
    for report in &reports {
        let failed: Vec<_> = report.rows.iter().filter(|r| r.outcome.is_fail()).collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", report.target);
        for case in [
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
        ] {
            assert!(
                report.outcome(case).is_some_and(|o| o.is_pass()),
                "{case} on {}: {:?}",
                report.target,
                report.outcome(case)
            );
        }
    }
    // Each profile's features decide what runs: Moonraker drives every control, OctoPrint
    // none, Bambu the light only; the rest is refused with no request.
    let pass = |i: usize, case: &str| reports[i].outcome(case).is_some_and(|o| o.is_pass());
    for case in [
        "controls.set_target",
        "controls.jog",
        "controls.home",
        "controls.extrude",
        "controls.light",
    ] {
        assert!(pass(1, case), "{case} on moonraker");
    }
    for case in [
        "unsupported.light_control",
        "unsupported.axis_movement",
        "unsupported.homing",
        "unsupported.extrusion",
        "unsupported.temperature_control",
    ] {
        assert!(pass(0, case), "{case} on octoprint");
    }
    assert!(pass(2, "controls.light"), "light on bambu");
    assert!(pass(2, "unsupported.temperature_control"), "bambu");
}
