//! Running the suite against one harness: gating each case on the target's features and
//! controls, a fresh target per case, a time limit per case, and a [`Report`].

use std::time::Duration;

use polyprint::Features;

use crate::cases::{self, Case, Needs, When};
use crate::harness::Harness;
use crate::outcome::Outcome;
use crate::report::Report;

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Run cases that move, heat or print on targets without mock control (live servers).
    /// Mocks always run them. Off by default: a live printer is left alone.
    pub allow_motion: bool,
    /// Only cases whose name contains this text.
    pub filter: Option<String>,
    /// The longest one case may take (wall clock) before it counts as failed.
    pub case_timeout: Duration,
    /// Print each case's outcome to stderr as it finishes.
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            allow_motion: false,
            filter: None,
            case_timeout: Duration::from_secs(60),
            progress: false,
        }
    }
}

impl RunOptions {
    /// Options for a live target that may be moved, heated and printed on (a virtual printer
    /// behind a real server).
    pub fn allowing_motion() -> RunOptions {
        RunOptions {
            allow_motion: true,
            ..RunOptions::default()
        }
    }
}

/// What the probe launch found out about the harness's targets.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// The target's (confirmed) features.
    pub features: Features,
    /// Whether the target has mock control.
    pub control: bool,
    /// Whether the target is a served mock (journal, faults).
    pub served: bool,
}

impl Probe {
    /// Launches one target of `harness` and asks it what it can do.
    pub async fn of(harness: &dyn Harness) -> Result<Probe, String> {
        let target = harness
            .launch()
            .await
            .map_err(|e| format!("launch failed: {e}"))?;
        let features = target.printer.features().await;
        let probe = features.map(|features| Probe {
            features,
            control: target.control.is_some(),
            served: target
                .control
                .as_ref()
                .is_some_and(|c| c.server().is_some()),
        });
        target.shutdown().await;
        probe.map_err(|e| format!("features: {e}"))
    }
}

/// Why a case does not run on targets like `probe`, if it does not.
pub fn gate(case: &Case, probe: &Probe, options: &RunOptions) -> Option<String> {
    match case.when {
        When::Supports(needed) => {
            let missing = needed & !probe.features;
            if !missing.is_empty() {
                let names: Vec<&str> = missing.iter().map(|f| f.name()).collect();
                return Some(format!("unsupported: {}", names.join(", ")));
            }
        }
        When::Lacks(feature) => {
            if probe.features.contains(feature) {
                return Some("supported".into());
            }
        }
    }
    match case.needs {
        Needs::Printer => {}
        Needs::Control if !probe.control => return Some("needs mock control".into()),
        Needs::ServedMock if !probe.control => return Some("needs mock control".into()),
        Needs::ServedMock if !probe.served => return Some(cases::errors::NO_NETWORK.into()),
        Needs::Control | Needs::ServedMock => {}
    }
    if case.destructive && !probe.control && !options.allow_motion {
        return Some("moves or prints: not allowed".into());
    }
    None
}

/// Runs every case (that the filter keeps) against fresh targets of `harness`.
pub async fn run_suite(harness: &dyn Harness, options: &RunOptions) -> Report {
    let mut report = Report::new(harness.name());
    let probe = match Probe::of(harness).await {
        Ok(probe) => probe,
        Err(e) => {
            report.push("launch", Outcome::fail(e));
            return report;
        }
    };
    for case in cases::all() {
        if let Some(filter) = &options.filter {
            if !case.name.contains(filter.as_str()) {
                continue;
            }
        }
        let outcome = match gate(&case, &probe, options) {
            Some(reason) => Outcome::Skip(reason),
            None => run_case(harness, &case, options).await,
        };
        if options.progress {
            eprintln!("[{}] {}: {outcome}", report.target, case.name);
        }
        report.push(case.name.clone(), outcome);
    }
    report
}

/// Runs one case against a fresh target, within the time limit. Unless the case wants the
/// printer exactly as launched ([`Case::fresh`]), the target confirms its features first and a
/// served mock's journal is cleared, so the requests a case counts are its own.
pub async fn run_case(harness: &dyn Harness, case: &Case, options: &RunOptions) -> Outcome {
    let target = match harness.launch().await {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("launch failed: {e}")),
    };
    let run = async {
        if !case.fresh {
            if let Err(e) = target.printer.features().await {
                return Outcome::fail(format!("features: {e}"));
            }
            if let Some(server) = target.control.as_ref().and_then(|c| c.server()) {
                server.clear_journal();
            }
        }
        (case.run)(&target, harness).await
    };
    let outcome = match tokio::time::timeout(options.case_timeout, run).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::fail(format!(
            "did not finish within {} s",
            options.case_timeout.as_secs_f64()
        )),
    };
    target.shutdown().await;
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use polyprint::sim::{Clock, VirtualPrinter};
    use polyprint::transport::HttpConfig;
    use polyprint::{Printer, PrinterState};

    use super::*;
    use crate::harness::Target;
    use crate::SimHarness;

    /// The virtual printer, with a harness that expects the wrong state for Paused.
    struct Mistaken(SimHarness);

    #[async_trait]
    impl Harness for Mistaken {
        fn name(&self) -> String {
            "mistaken".into()
        }
        async fn launch(&self) -> Result<Target, String> {
            self.0.launch().await
        }
        fn connect(&self, _: &str, _: &str, _: HttpConfig) -> Option<Arc<dyn Printer>> {
            None
        }
        fn expected_state(&self, s: PrinterState) -> Option<PrinterState> {
            Some(if s == PrinterState::Paused {
                PrinterState::Printing
            } else {
                s
            })
        }
    }

    /// The virtual printer on a realtime clock (5× speed), seen as a live target: no control.
    struct Uncontrolled;

    #[async_trait]
    impl Harness for Uncontrolled {
        fn name(&self) -> String {
            "uncontrolled".into()
        }
        async fn launch(&self) -> Result<Target, String> {
            let printer = VirtualPrinter::new();
            printer.set_clock(Clock::Realtime { speed: 5.0 });
            Ok(Target::live(Arc::new(printer)))
        }
        fn connect(&self, _: &str, _: &str, _: HttpConfig) -> Option<Arc<dyn Printer>> {
            None
        }
    }

    #[tokio::test]
    async fn a_wrong_state_fails_the_case() {
        let options = RunOptions {
            filter: Some("status.".into()),
            ..RunOptions::default()
        };
        let report = run_suite(&Mistaken(SimHarness::new()), &options).await;
        assert_eq!(report.failures(), 1, "{report}");
        assert!(
            matches!(report.outcome("status.paused"), Some(Outcome::Fail(m)) if m.contains("expected state printing, got paused")),
            "{report}"
        );
        assert_eq!(report.outcome("status.printing"), Some(&Outcome::Pass));
        assert!(report.outcome("input.file_nul").is_none(), "filtered out");
    }

    #[tokio::test]
    async fn live_targets_skip_motion_and_control_unless_allowed() {
        let report = run_suite(&Uncontrolled, &RunOptions::default()).await;
        assert_eq!(report.failures(), 0, "{report}");
        assert_eq!(report.outcome("status.idle"), Some(&Outcome::Pass));
        assert_eq!(
            report.outcome("status.paused"),
            Some(&Outcome::skip("needs mock control"))
        );
        assert_eq!(
            report.outcome("lifecycle.pause_resume_cancel"),
            Some(&Outcome::skip("moves or prints: not allowed"))
        );
        assert_eq!(report.outcome("input.jog_nan"), Some(&Outcome::Pass));
        let options = RunOptions {
            filter: Some("lifecycle.pause_resume_cancel".into()),
            ..RunOptions::allowing_motion()
        };
        let allowed = run_suite(&Uncontrolled, &options).await;
        assert_eq!(
            allowed.outcome("lifecycle.pause_resume_cancel"),
            Some(&Outcome::Pass)
        );
    }
}
