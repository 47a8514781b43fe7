//! `polyprint conformance` against `polyprint mock <backend>` gives the same table as the
//! suite run in-process against the same backend's mock, for every backend in the registry
//! that has a mock: the CLI knows every backend's quirks because it reads them from the same
//! descriptor.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use polyprint::descriptor::{mock_endpoint, MockOptions};
use polyprint::sim::{Clock, SimConfig, VirtualPrinter};
use polyprint::transport::HttpConfig;
use polyprint_conformance::{run_suite, LiveHarness, Outcome, RunOptions};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_polyprint");

/// Virtual seconds per real second, for both sides: the demo file (12.5 virtual seconds) still
/// prints for more than the second the pause case waits into it, on backends that cannot
/// upload the suite's slow print.
const SPEED: f64 = 5.0;

/// A `polyprint mock` child, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `polyprint mock <backend>` and reads where it listens.
fn serve(backend: &str, home: &std::path::Path) -> (Served, Value) {
    let mut child = Command::new(BIN)
        .args(["mock", backend, "--json", "--speed", &SPEED.to_string()])
        .env_clear()
        .env("HOME", home)
        .stdout(Stdio::piped())
        .spawn()
        .expect("polyprint mock");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (Served(child), v["data"].clone())
}

/// The CLI's table: case → `pass`, `fail: why` or `skip: why`.
fn cli_table(backend: &str) -> BTreeMap<String, String> {
    let home = tempfile::tempdir().unwrap();
    let (_served, mock) = serve(backend, home.path());
    let mut args: Vec<String> = vec!["--json".into(), "--backend".into(), backend.into()];
    args.extend(["--url".into(), mock["url"].as_str().unwrap().into()]);
    if let Some(key) = mock["key"].as_str() {
        args.extend(["--key".into(), key.into()]);
    }
    if let Some(id) = mock["printer_id"].as_str() {
        args.extend(["--printer-id".into(), id.into()]);
    }
    args.extend(["conformance".into(), "--allow-motion".into()]);
    let out = Command::new(BIN)
        .args(&args)
        .env_clear()
        .env("HOME", home.path())
        .output()
        .expect("polyprint conformance");
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let data = if doc["status"] == "success" {
        &doc["data"]
    } else {
        &doc["error"]["details"]
    };
    data["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("no cases: {doc}"))
        .iter()
        .map(|c| {
            let outcome = c["outcome"].as_str().unwrap();
            let shown = match c["message"].as_str() {
                Some(m) if outcome != "pass" => format!("{outcome}: {m}"),
                _ => outcome.to_string(),
            };
            (c["case"].as_str().unwrap().to_string(), shown)
        })
        .collect()
}

/// The in-process table for the same backend: its mock served in this process over a
/// virtual printer at the same speed, reached through the suite's generic live harness.
async fn in_process_table(backend: &str) -> BTreeMap<String, String> {
    let d = polyprint_backends::find(backend).unwrap();
    let printer = VirtualPrinter::with_config(SimConfig {
        clock: Clock::Realtime { speed: SPEED },
        ..SimConfig::default()
    });
    let mock = d
        .start_mock(printer, MockOptions::default())
        .await
        .expect("a mock");
    let harness =
        LiveHarness::new(d, mock_endpoint(mock.as_ref()), HttpConfig::default()).preparing(true);
    let report = run_suite(&harness, &RunOptions::allowing_motion()).await;
    report
        .rows
        .iter()
        .map(|r| {
            let shown = match &r.outcome {
                Outcome::Pass => "pass".to_string(),
                Outcome::Fail(m) => format!("fail: {m}"),
                Outcome::Skip(m) => format!("skip: {m}"),
            };
            (r.case.clone(), shown)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_conformance_against_each_mock_equals_the_in_process_table() {
    let backends: Vec<&str> = polyprint_backends::REGISTRY
        .iter()
        .filter(|d| d.has_mock())
        .map(|d| d.name())
        .collect();
    assert!(backends.len() >= 4, "{backends:?}");
    // Each backend on its own mocks, all at once.
    let runs: Vec<_> = backends
        .into_iter()
        .map(|backend| {
            tokio::spawn(async move {
                let cli = tokio::task::spawn_blocking(move || cli_table(backend));
                let lib = in_process_table(backend).await;
                (backend, cli.await.unwrap(), lib)
            })
        })
        .collect();
    for run in runs {
        let (backend, cli, lib) = run.await.unwrap();
        let passed = lib.values().filter(|o| *o == "pass").count();
        assert!(
            passed > 10,
            "{backend}: only {passed} cases passed: {lib:#?}"
        );
        let failed: Vec<_> = lib.iter().filter(|(_, o)| o.starts_with("fail")).collect();
        assert!(failed.is_empty(), "{backend} in-process: {failed:#?}");
        assert_eq!(
            cli, lib,
            "{backend}: the CLI's table differs from the in-process one"
        );
    }
}
