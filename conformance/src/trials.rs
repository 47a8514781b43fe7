//! The suite as cargo tests: one test per case × target, named `target::case`, so that
//! `cargo test -p polyprint-conformance lifecycle` runs just those and cargo's own filters,
//! `--list`, `--exact` and `--test-threads` work. Independent cases run in parallel, each on
//! a fresh target. A case the target cannot run (a feature it lacks, control a live server
//! does not give) is listed as ignored, with the reason as its kind (`test [not run: needs mock
//! control] octoprint-live::status.paused ... ignored`); a case that finds out only while running that it
//! cannot apply (a state the backend has no word for) passes, with a `skipped …` line on
//! stderr. [`crate::run_suite`] gives the same outcomes as a case × target table.
//!
//! An adapter author's test target (`harness = false` in its `[[test]]`) is one line:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     polyprint_conformance::trials::main(&[&polyprint::sim::DESCRIPTOR])
//! }
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use polyprint::sim::SimConfig;
use polyprint::{Descriptor, Feature};

use crate::cases::{self, Case};
use crate::harness::Harness;
use crate::mocked::MockHarness;
use crate::outcome::Outcome;
use crate::runner::{gate, run_case, Probe, RunOptions};
use crate::SimHarness;

/// The in-process harnesses for a registry: every variant of every backend's mock, and for
/// the embedded virtual printer the printer itself, in full and narrowed to a few features
/// (so the refusal cases run too).
pub fn mock_harnesses(registry: &[&'static Descriptor]) -> Vec<Arc<dyn Harness>> {
    let mut out: Vec<Arc<dyn Harness>> = Vec::new();
    for d in registry {
        if d.name() == polyprint::sim::DESCRIPTOR.name() {
            out.push(Arc::new(SimHarness::new()));
            out.push(Arc::new(narrow_sim()));
        }
        for h in MockHarness::all(d) {
            out.push(Arc::new(h));
        }
    }
    out
}

/// A virtual printer that can only report, list files and heat: the rest must be refused.
pub fn narrow_sim() -> SimHarness {
    SimHarness::with_config(
        "sim-narrow",
        SimConfig {
            features: Feature::FileList | Feature::TemperatureControl,
            ..SimConfig::default()
        },
    )
}

/// Every case with the reason it does not run on `harness`'s targets (`None`: it runs).
pub async fn plan(
    harness: &dyn Harness,
    options: &RunOptions,
) -> Result<Vec<(Case, Option<String>)>, String> {
    let probe = Probe::of(harness).await?;
    Ok(cases::all()
        .into_iter()
        .map(|case| {
            let why = gate(&case, &probe, options);
            (case, why)
        })
        .collect())
}

/// Panics unless every case in `names` runs on a fresh target of `harness` and passes (not
/// skipped): the suite cannot pass a backend by skipping what it claims.
pub async fn assert_cases_pass(harness: &dyn Harness, names: &[&str]) {
    let options = RunOptions::default();
    let plan = plan(harness, &options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", harness.name()));
    for name in names {
        match plan.iter().find(|(c, _)| c.name == *name) {
            None => panic!("no case {name}"),
            Some((_, Some(why))) => panic!("{name} does not run on {}: {why}", harness.name()),
            Some((case, None)) => {
                let outcome = run_case(harness, case, &options).await;
                assert_eq!(outcome, Outcome::Pass, "{name} on {}", harness.name());
            }
        }
    }
}

/// Runs the case called `name` on a fresh target of `harness`, whether or not its gate would
/// let it (for tests that check what a case does on a given backend).
pub async fn run_named(harness: &dyn Harness, name: &str) -> Outcome {
    let case = cases::all()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    run_case(harness, &case, &RunOptions::default()).await
}

/// The reason `name` does not run on `harness`'s targets, `None` when it runs.
pub async fn why_not(harness: &dyn Harness, name: &str) -> Option<String> {
    let plan = plan(harness, &RunOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", harness.name()));
    plan.into_iter()
        .find(|(c, _)| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .1
}

/// A runtime for one test: the mock servers run on threads of their own.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The tests for `harnesses`: one per case × harness.
pub fn trials(harnesses: Vec<Arc<dyn Harness>>, options: RunOptions) -> Vec<Trial> {
    let rt = runtime();
    let options = Arc::new(options);
    let mut out = Vec::new();
    for harness in harnesses {
        let name = harness.name();
        let plan = match rt.block_on(plan(harness.as_ref(), &options)) {
            Ok(plan) => plan,
            Err(e) => {
                out.push(Trial::test(format!("{name}::launch"), move || {
                    Err(Failed::from(e))
                }));
                continue;
            }
        };
        for (case, why) in plan {
            let name = name.clone();
            let harness = harness.clone();
            let options = options.clone();
            let gated = why.is_some();
            let reason = why.clone();
            let test_name = format!("{name}::{}", case.name);
            let trial = Trial::test(test_name, move || {
                if gated {
                    // Run with --ignored: nothing to run here, by design.
                    return Ok(());
                }
                match runtime().block_on(run_case(harness.as_ref(), &case, &options)) {
                    Outcome::Fail(m) => Err(Failed::from(m)),
                    Outcome::Pass => Ok(()),
                    // Found out while running (a state the backend cannot express): not a
                    // failure, and said so, since the harness cannot mark it ignored now.
                    Outcome::Skip(why) => {
                        eprintln!("skipped {name}::{}: {why}", case.name);
                        Ok(())
                    }
                }
            });
            // An ignored case says why in the listing: `test [not run: needs mock control] …`.
            let trial = match reason {
                Some(why) => trial.with_kind(format!("not run: {why}")),
                None => trial,
            };
            out.push(trial.with_ignored_flag(gated));
        }
    }
    out
}

/// The test binary's `main` for a registry's mocks (see the module docs).
pub fn main(registry: &[&'static Descriptor]) -> ExitCode {
    run(mock_harnesses(registry), RunOptions::default())
}

/// The test binary's `main` for any harnesses.
pub fn run(harnesses: Vec<Arc<dyn Harness>>, options: RunOptions) -> ExitCode {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials(harnesses, options)).exit_code()
}
