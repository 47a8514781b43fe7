//! The conformance suite against every backend that runs in-process: the embedded virtual
//! printer (in full, and narrowed to a few features so the refusal cases run), and the
//! OctoPrint adapter against its mock. Prints the combined table and fails on any failure.

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::sim::{SimConfig, VirtualPrinter};
use polyprint::transport::HttpConfig;
use polyprint::{Feature, Printer, PrinterState};
use polyprint_conformance::{
    run_suite, Harness, MockControl, Outcome, Report, RunOptions, SimHarness, Target,
};
use polyprint_octoprint::mock::OctoPrintMock;
use polyprint_octoprint::OctoPrint;

/// The OctoPrint adapter against its mock, over a fresh virtual printer per launch.
struct OctoPrintMockHarness;

#[async_trait]
impl Harness for OctoPrintMockHarness {
    fn name(&self) -> String {
        "octoprint-mock".into()
    }

    async fn launch(&self) -> Result<Target, String> {
        let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
        let key = mock.api_key().to_string();
        let printer = OctoPrint::with_config(&mock.uri(), key.clone(), HttpConfig::default())
            .map_err(|e| e.to_string())?;
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
        let printer = OctoPrint::with_config(base_url, credential.to_string(), http).ok()?;
        Some(Arc::new(printer))
    }

    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        match sim_state {
            // OctoPrint has no state for a printer waiting on a person.
            PrinterState::Attention => None,
            s => Some(s),
        }
    }

    fn resume_while_printing_is_noop(&self) -> bool {
        // OctoPrint answers 204 and does nothing.
        true
    }
}

/// A virtual printer that can only report, list files and heat: the rest must be refused.
fn narrow_sim() -> SimHarness {
    SimHarness::with_config(
        "sim-narrow",
        SimConfig {
            features: Feature::FileList | Feature::TemperatureControl,
            ..SimConfig::default()
        },
    )
}

fn assert_pass(report: &Report, cases: &[&str]) {
    for case in cases {
        assert_eq!(
            report.outcome(case),
            Some(&Outcome::Pass),
            "{case} on {} should run and pass",
            report.target
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_of_in_process_backends() {
    // POLYPRINT_CONFORMANCE_PROGRESS=1 prints each case as it finishes.
    let options = RunOptions {
        progress: std::env::var_os("POLYPRINT_CONFORMANCE_PROGRESS").is_some(),
        ..RunOptions::default()
    };
    let sim = run_suite(&SimHarness::new(), &options).await;
    let narrow = run_suite(&narrow_sim(), &options).await;
    let octoprint = run_suite(&OctoPrintMockHarness, &options).await;
    let reports = [sim, narrow, octoprint];
    println!("{}", Report::table(&reports));
    let [sim, narrow, octoprint] = &reports;

    // The suite cannot pass by skipping: what each target can do, it did.
    let states = [
        "status.idle",
        "status.offline",
        "status.printing",
        "status.pausing",
        "status.paused",
        "status.cancelling",
        "status.finished",
        "status.cancelled",
        "status.error",
    ];
    for report in [sim, octoprint] {
        assert_pass(report, &states);
        assert_pass(
            report,
            &[
                "lifecycle.pause_resume_cancel",
                "lifecycle.print_to_end",
                "errors.pause_when_idle",
                "errors.start_missing_file",
                "controls.set_target",
                "input.file_traversal",
                "input.target_nan",
                "input.gcode_newline",
            ],
        );
    }
    assert_pass(
        sim,
        &[
            "status.attention",
            "errors.resume_while_printing_noop",
            "controls.cancel_object",
        ],
    );
    assert_pass(
        octoprint,
        &[
            "errors.resume_while_printing_noop",
            "errors.auth_wrong_key",
            "errors.unreachable",
            "faults.timeout",
            "faults.malformed_body",
            "faults.truncated_body",
            "faults.read_retried_after_5xx",
            "faults.command_sent_once_under_5xx",
        ],
    );
    assert!(matches!(
        octoprint.outcome("status.attention"),
        Some(Outcome::Skip(_))
    ));
    assert_eq!(
        sim.outcome("errors.unreachable"),
        Some(&Outcome::skip("no network: embedded backend"))
    );
    assert_pass(
        narrow,
        &[
            "unsupported.print_start",
            "unsupported.g_code",
            "unsupported.light_control",
            "files.list",
        ],
    );
    assert!(
        matches!(narrow.outcome("input.jog_nan"), Some(Outcome::Skip(r)) if r.starts_with("unsupported"))
    );

    for report in &reports {
        assert_eq!(report.failures(), 0, "{}", report.summary());
    }
}
