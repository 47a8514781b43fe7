//! `conformance`: runs the shared suite against the configured printer. Cases that move, heat
//! or print run only with `--allow-motion`; a live target is otherwise left alone. Backend
//! `sim` runs against the embedded virtual printer with full control.

use std::sync::Arc;

use polyprint::async_trait;
use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_conformance::{run_suite, Harness, Report, RunOptions, SimHarness, Target};
use serde_json::json;

use crate::backends::{self, BackendSpec};
use crate::config::{self, PrinterEntry};
use crate::outcome::{CliError, Exit, Reply};

/// A configured printer as a harness: every launch is a fresh connection to it.
struct Configured {
    name: String,
    spec: &'static BackendSpec,
    entry: PrinterEntry,
    http: HttpConfig,
}

#[async_trait]
impl Harness for Configured {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn launch(&self) -> Result<Target, String> {
        let printer = self
            .spec
            .open(&self.entry, self.http.clone())
            .map_err(|e| e.message)?;
        Ok(Target::live(printer))
    }

    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        if !self.spec.needs_url {
            return None;
        }
        let entry = PrinterEntry {
            url: Some(base_url.to_string()),
            key: Some(credential.to_string()),
            ..self.entry.clone()
        };
        (self.spec.connect)(&entry, http).ok()
    }
}

/// Runs the suite and reports the case table.
pub async fn run(
    global: &crate::cli::Global,
    allow_motion: bool,
    filter: Option<String>,
) -> Result<Reply, CliError> {
    let target = config::resolve(global, &config::load_for(global)?)?;
    let spec = backends::find(&target.entry.backend)?;
    spec.check(&target.entry)?;
    let options = RunOptions {
        allow_motion,
        filter,
        ..RunOptions::default()
    };
    let report: Report = if spec.name == "sim" {
        run_suite(&SimHarness::new(), &options).await
    } else {
        let harness = Configured {
            name: target.name.clone(),
            spec,
            entry: target.entry.clone(),
            http: backends::http_config(global.timeout)?,
        };
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
