//! The conformance suite against the Obico adapter and its mock: a printer with an
//! OctoPrint-Obico agent, one with a moonraker-obico agent, and an agentless (OAuth) printer.
//! Prints the table; every case that runs must pass.
#![cfg(feature = "mock")]

use std::sync::Arc;

use async_trait::async_trait;
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::{Printer, PrinterState};
use polyprint_conformance::{run_suite, Harness, MockControl, Report, RunOptions, Target};
use polyprint_obico::mock::{AgentFlavour, ObicoMock};
use polyprint_obico::Obico;

/// The Obico adapter against its mock, with a fresh virtual printer per launch.
struct ObicoHarness {
    agent: Option<AgentFlavour>,
}

#[async_trait]
impl Harness for ObicoHarness {
    fn name(&self) -> String {
        match self.agent {
            Some(AgentFlavour::OctoPrint) => "obico-octoprint-agent",
            Some(AgentFlavour::Moonraker) => "obico-moonraker-agent",
            None => "obico-agentless",
        }
        .into()
    }

    async fn launch(&self) -> Result<Target, String> {
        let mock = ObicoMock::start_with(VirtualPrinter::new(), self.agent, None).await;
        let token = mock.token().to_string();
        let printer =
            Obico::new(&mock.uri(), token.clone(), mock.printer_id()).map_err(|e| e.to_string())?;
        // Learn the printer's kind now, so its features are this printer's.
        printer.refresh().await.map_err(|e| e.to_string())?;
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
        let printer = Obico::with_config(base_url, credential, ObicoMock::PRINTER_ID, http).ok()?;
        Some(Arc::new(printer))
    }

    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        use PrinterState::*;
        match (self.agent, sim_state) {
            // No agent: Obico sees nothing of the printer; its status is always null.
            (None, Offline) => Some(Offline),
            (None, _) => None,
            // Both agents report a finished or cancelled job as plain "Operational".
            (Some(_), Finished | Cancelled) => Some(Idle),
            // moonraker-obico does not send user_interaction_required.
            (Some(AgentFlavour::Moonraker), Attention) => Some(Paused),
            (Some(_), s) => Some(s),
        }
    }

    fn resume_while_printing_is_noop(&self) -> bool {
        // Obico answers succeeded: true whenever there is a current print.
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_of_the_obico_adapter() {
    let options = RunOptions::default();
    let mut reports: Vec<Report> = Vec::new();
    for agent in [
        Some(AgentFlavour::OctoPrint),
        Some(AgentFlavour::Moonraker),
        None,
    ] {
        reports.push(run_suite(&ObicoHarness { agent }, &options).await);
    }
    println!("{}", Report::table(&reports));
    for report in &reports {
        let failed: Vec<_> = report.rows.iter().filter(|r| r.outcome.is_fail()).collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", report.target);
    }
    for report in &reports[..2] {
        for case in [
            "status.paused",
            "errors.pause_when_idle",
            "faults.command_sent_once_under_5xx",
        ] {
            assert!(
                report.outcome(case).is_some_and(|o| o.is_pass()),
                "{case} on {}",
                report.target
            );
        }
    }
    assert!(
        reports[2]
            .outcome("status.offline")
            .is_some_and(|o| o.is_pass()),
        "status.offline on agentless"
    );
}
