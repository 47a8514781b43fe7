//! The shared conformance suite against the Prusa Connect adapter and its mock.
#![cfg(feature = "mock")]

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::{Printer, PrinterState};
use polyprint_conformance::{run_suite, Harness, MockControl, Report, RunOptions, Target};
use polyprint_prusa_connect::mock::{PrusaConnectMock, PRINTER_UUID};
use polyprint_prusa_connect::PrusaConnect;

/// The adapter against a fresh mock per launch.
struct PrusaConnectMockHarness;

#[async_trait]
impl Harness for PrusaConnectMockHarness {
    fn name(&self) -> String {
        "prusa-connect-mock".into()
    }

    async fn launch(&self) -> Result<Target, String> {
        let mock = PrusaConnectMock::start(VirtualPrinter::new()).await;
        let token = mock.token().to_string();
        let printer = PrusaConnect::with_config(
            &mock.uri(),
            token.clone(),
            PRINTER_UUID,
            HttpConfig::default(),
        )
        .map_err(|e| e.to_string())?;
        // Narrows the features from the printer's supported commands, as an application would.
        printer.status().await.map_err(|e| e.to_string())?;
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
        let printer =
            PrusaConnect::with_config(base_url, credential.to_string(), PRINTER_UUID, http).ok()?;
        Some(Arc::new(printer))
    }

    /// Prusa Connect has no transitional states: a printer pausing, resuming or stopping
    /// still reports PRINTING until it settles.
    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        Some(match sim_state {
            PrinterState::Pausing | PrinterState::Resuming | PrinterState::Cancelling => {
                PrinterState::Printing
            }
            s => s,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    let report = run_suite(
        &PrusaConnectMockHarness,
        &RunOptions {
            case_timeout: std::time::Duration::from_secs(10),
            ..RunOptions::default()
        },
    )
    .await;
    println!("{}", Report::table(std::slice::from_ref(&report)));
    assert_eq!(report.failures(), 0, "{report}");
    for case in [
        "controls.extrude",
        "faults.command_sent_once_under_5xx",
        "lifecycle.pause_resume_cancel",
        "controls.cancel_object",
        "files.print_queue",
    ] {
        assert!(
            report.outcome(case).is_some_and(|o| o.is_pass()),
            "{case} did not pass: {report}"
        );
    }
}
