//! The suite against a live server, when the environment names one (`POLYPRINT_LIVE_BACKEND`,
//! `POLYPRINT_LIVE_URL`, `POLYPRINT_LIVE_KEY`, `POLYPRINT_LIVE_PRINTER_ID`,
//! `POLYPRINT_LIVE_OPTIONS`; `scripts/octoprint/with-server.sh` sets them for a real
//! OctoPrint). The printer behind it must be safe to move: every case that needs no mock
//! control runs, motion included, each from a printer at rest. Without the variables there
//! are no tests, and a loud SKIPPED line says so.

use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use polyprint_conformance::live::env;
use polyprint_conformance::{trials, Harness, LiveHarness, RunOptions};

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // One server, one printer: its cases run one after another.
    args.test_threads = Some(1);
    let harness = match LiveHarness::from_env(polyprint_backends::REGISTRY) {
        Ok(Some(h)) => h.preparing(true),
        Ok(None) => {
            eprintln!("SKIPPED live conformance: {} not set", env::BACKEND);
            return libtest_mimic::run(&args, Vec::new()).exit_code();
        }
        Err(e) => {
            let t = Trial::test("live::configuration", move || Err(Failed::from(e)));
            return libtest_mimic::run(&args, vec![t]).exit_code();
        }
    };
    let harness: Arc<dyn Harness> = Arc::new(harness);
    let mut tests = trials::trials(vec![harness.clone()], RunOptions::allowing_motion());
    // What a live target can and cannot run, whatever the backend.
    let name = harness.name();
    tests.push(Trial::test(format!("{name}::plan"), move || {
        let rt = tokio::runtime::Runtime::new().map_err(|e| Failed::from(e.to_string()))?;
        let plan = rt.block_on(trials::plan(
            harness.as_ref(),
            &RunOptions::allowing_motion(),
        ))?;
        let why = |case: &str| {
            plan.iter()
                .find(|(c, _)| c.name == case)
                .map(|(_, why)| why.clone())
                .ok_or_else(|| Failed::from(format!("no case {case}")))
        };
        if let Some(w) = why("status.idle")? {
            return Err(format!("status.idle does not run live: {w}").into());
        }
        if why("status.paused")?.as_deref() != Some("needs mock control") {
            return Err("status.paused should need mock control".into());
        }
        Ok(())
    }));
    libtest_mimic::run(&args, tests).exit_code()
}
