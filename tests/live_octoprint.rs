//! The conformance suite against a real OctoPrint, when one is configured:
//! `OCTOPRINT_URL` and `OCTOPRINT_API_KEY` (see `scripts/octoprint/with-server.sh`, which
//! starts OctoPrint 1.11 with its Virtual Printer on 127.0.0.1 and exports both).
//!
//! Every case that needs no mock control runs, motion included (the printer is virtual).
//! Without the variables the test prints a loud SKIPPED line and passes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use polyprint::transport::HttpConfig;
use polyprint::{Printer, PrinterState};
use polyprint_conformance::{run_suite, Harness, Outcome, Report, RunOptions, Target};
use polyprint_octoprint::OctoPrint;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

/// A quick print for the print-to-the-end case (about 0.1 s on the virtual printer).
const FAST_FILE: &str = "fast-test.gcode";
/// A print long enough to pause, resume and cancel (several seconds).
const SLOW_FILE: &str = "polyprint-conformance-slow.gcode";

/// How long preparing the server may take.
const SETUP_DEADLINE: Duration = Duration::from_secs(20);

/// 400 short moves at F3000 with small extrusions and layer markers, no heating waits.
fn slow_gcode() -> String {
    let mut g = String::from(
        "; polyprint conformance: a slow print for pause and cancel\nG21\nG90\nM83\nG28\n",
    );
    for layer in 0..8 {
        g.push_str(&format!(
            ";LAYER:{layer}\nG1 Z{:.1} F3000\n",
            0.2 * f64::from(layer + 1)
        ));
        for i in 0..50 {
            let (x, y) = if i % 2 == 0 {
                (20, 20 + i)
            } else {
                (40, 20 + i)
            };
            g.push_str(&format!("G1 X{x} Y{y} E0.05 F3000\n"));
        }
    }
    g
}

/// A real OctoPrint server with its Virtual Printer.
struct LiveOctoPrint {
    url: String,
    key: String,
    http: reqwest::Client,
    uploaded: OnceCell<()>,
}

impl LiveOctoPrint {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.url.trim_end_matches('/'))
    }

    async fn get(&self, path: &str) -> Result<(u16, Value), String> {
        let r = self
            .http
            .get(self.url(path))
            .header("X-Api-Key", &self.key)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn post(&self, path: &str, body: Value) -> Result<u16, String> {
        let r = self
            .http
            .post(self.url(path))
            .header("X-Api-Key", &self.key)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        Ok(r.status().as_u16())
    }

    async fn upload(&self, name: &str, content: String) -> Result<(), String> {
        let part = reqwest::multipart::Part::text(content).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = self
            .http
            .post(self.url("api/files/local"))
            .header("X-Api-Key", &self.key)
            .multipart(form)
            .send()
            .await
            .map_err(|e| format!("uploading {name}: {e}"))?;
        match r.status().as_u16() {
            200 | 201 => Ok(()),
            s => Err(format!("uploading {name}: status {s}")),
        }
    }

    /// The job state text (`Operational`, `Printing`, `Offline`, ...).
    async fn job_state(&self) -> Result<String, String> {
        let (_, body) = self.get("api/job").await?;
        Ok(body["state"].as_str().unwrap_or_default().to_string())
    }

    /// Waits until `done` holds for the job state.
    async fn wait_state(&self, what: &str, done: impl Fn(&str) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + SETUP_DEADLINE;
        loop {
            let state = self.job_state().await?;
            if done(&state) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{what}: still {state:?} after {SETUP_DEADLINE:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Brings the server to "connected, no job running".
    async fn settle(&self) -> Result<(), String> {
        let state = self.job_state().await?;
        if state.starts_with("Offline") || state == "Closed" || state.starts_with("Error") {
            let status = self
                .post(
                    "api/connection",
                    json!({"command": "connect", "port": "VIRTUAL", "baudrate": 115200}),
                )
                .await?;
            if status != 204 {
                return Err(format!("connecting VIRTUAL: status {status}"));
            }
        } else if state != "Operational" {
            // A job left over from an earlier case (or one that failed half-way).
            let _ = self.post("api/job", json!({"command": "cancel"})).await?;
        }
        self.wait_state("settling", |s| s == "Operational").await?;
        let deadline = Instant::now() + SETUP_DEADLINE;
        while self.get("api/printer").await?.0 != 200 {
            if Instant::now() > deadline {
                return Err("/api/printer never answered 200".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    fn printer(&self, url: &str, key: &str, http: HttpConfig) -> Option<OctoPrint> {
        Some(
            OctoPrint::with_config(url, key.to_string(), http)
                .ok()?
                .with_port("VIRTUAL")
                .with_baudrate(115200),
        )
    }
}

#[async_trait]
impl Harness for LiveOctoPrint {
    fn name(&self) -> String {
        "octoprint-live".into()
    }

    async fn launch(&self) -> Result<Target, String> {
        self.settle().await?;
        self.uploaded
            .get_or_try_init(|| async {
                let fast_path = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/scripts/octoprint/fast-test.gcode"
                );
                let fast =
                    std::fs::read_to_string(fast_path).map_err(|e| format!("{fast_path}: {e}"))?;
                self.upload(FAST_FILE, fast).await?;
                self.upload(SLOW_FILE, slow_gcode()).await
            })
            .await?;
        let printer = self
            .printer(&self.url, &self.key, HttpConfig::default())
            .ok_or("building the OctoPrint client")?;
        Ok(Target::live(Arc::new(printer)))
    }

    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        Some(Arc::new(self.printer(base_url, credential, http)?))
    }

    fn expected_state(&self, sim_state: PrinterState) -> Option<PrinterState> {
        match sim_state {
            PrinterState::Attention => None,
            s => Some(s),
        }
    }

    fn resume_while_printing_is_noop(&self) -> bool {
        true
    }

    fn long_print_file(&self) -> String {
        SLOW_FILE.into()
    }

    fn short_print_file(&self) -> String {
        FAST_FILE.into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_of_a_live_octoprint() {
    let (Ok(url), Ok(key)) = (
        std::env::var("OCTOPRINT_URL"),
        std::env::var("OCTOPRINT_API_KEY"),
    ) else {
        println!("SKIPPED live OctoPrint conformance: OCTOPRINT_URL not set");
        eprintln!("SKIPPED live OctoPrint conformance: OCTOPRINT_URL not set");
        return;
    };
    let harness = LiveOctoPrint {
        url,
        key,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client"),
        uploaded: OnceCell::new(),
    };
    let options = RunOptions {
        progress: std::env::var_os("POLYPRINT_CONFORMANCE_PROGRESS").is_some(),
        ..RunOptions::allowing_motion()
    };
    let report = run_suite(&harness, &options).await;
    println!("{}", Report::table(std::slice::from_ref(&report)));
    for case in [
        "status.idle",
        "lifecycle.pause_resume_cancel",
        "lifecycle.print_to_end",
        "errors.auth_wrong_key",
        "errors.start_missing_file",
        "controls.set_target",
    ] {
        assert_eq!(
            report.outcome(case),
            Some(&Outcome::Pass),
            "{case} should run and pass live"
        );
    }
    assert_eq!(
        report.outcome("status.paused"),
        Some(&Outcome::skip("needs mock control"))
    );
    assert_eq!(report.failures(), 0, "{}", report.summary());
}
