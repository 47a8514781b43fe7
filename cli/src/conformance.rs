//! `conformance`: runs the shared suite against the configured printer, through the suite's
//! generic live harness. Cases that move, heat or print run only with `--allow-motion` (which
//! also lets each case start from a printer at rest, with the suite's test prints uploaded);
//! a live target is otherwise left alone. Backend `sim` runs against the embedded virtual
//! printer with full control.

use polyprint_conformance::{run_suite, LiveHarness, Report, RunOptions, SimHarness};
use serde_json::json;

use crate::backends::{self, BackendSpec};
use crate::config;
use crate::outcome::{CliError, Exit, Reply};

/// Runs the suite and reports the case table.
pub async fn run(
    global: &crate::cli::Global,
    allow_motion: bool,
    filter: Option<String>,
) -> Result<Reply, CliError> {
    let target = config::resolve(global, &config::load_for(global)?)?;
    let spec = backends::find(&target.entry.backend)?;
    spec.check_entry(&target.entry)?;
    let options = RunOptions {
        allow_motion,
        filter,
        ..RunOptions::default()
    };
    let report: Report = if backends::is_sim(spec) {
        run_suite(&SimHarness::new(), &options).await
    } else {
        // The same generic harness the suite's own live runs use.
        let harness = LiveHarness::new(
            spec,
            backends::endpoint(&target.entry),
            backends::http_config(global.timeout)?,
        )
        .named(target.name.clone())
        .preparing(allow_motion);
        run_suite(&harness, &options).await
    };
    let rows: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            let (outcome, message) = match &r.outcome {
                polyprint_conformance::Outcome::Pass => ("pass", None),
                polyprint_conformance::Outcome::Fail(m) => ("fail", Some(m.clone())),
                polyprint_conformance::Outcome::Skip(m) => ("skip", Some(m.clone())),
            };
            json!({ "case": r.case, "outcome": outcome, "message": message })
        })
        .collect();
    let data = json!({
        "target": report.target,
        "allow_motion": allow_motion,
        "passed": report.passes(),
        "failed": report.failures(),
        "skipped": report.skips(),
        "cases": rows,
    });
    let table = Report::table(std::slice::from_ref(&report));
    if report.failures() > 0 {
        if !global.json {
            println!("{}", table.trim_end());
        }
        let failed: Vec<&str> = report
            .rows
            .iter()
            .filter(|r| r.outcome.is_fail())
            .map(|r| r.case.as_str())
            .collect();
        return Err(CliError::new(
            "conformance_failed",
            Exit::Other,
            format!("{}; failed: {}", report.summary(), failed.join(", ")),
        )
        .with_details(data));
    }
    Ok(Reply::new(data, table))
}
