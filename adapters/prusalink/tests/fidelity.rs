//! Mock fidelity: the same request sequence against the PrusaLink mock and against a real
//! PrusaLink must give the same status codes, the same content types and the same JSON key
//! structure (values may differ), through a whole job: upload, conflicts, start, pause,
//! resume, stop, the 11 s of STOPPED, delete.
//!
//! Runs when `PRUSALINK_URL` and `PRUSALINK_API_KEY` point at a real, idle server
//! (`scripts/prusalink/with-server.sh` provides exactly that); otherwise it says loudly that
//! it skipped.
#![cfg(feature = "mock")]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use polyprint::mockserver::key_paths;
use polyprint::sim::VirtualPrinter;
use polyprint_prusalink::mock::{PrusaLinkMock, MOCK_API_KEY};
use reqwest::Method;
use serde_json::Value;

/// One server under test.
struct Side {
    name: &'static str,
    base: String,
    key: String,
    mock: Option<PrusaLinkMock>,
    client: reqwest::Client,
}

/// What is compared of an answer.
#[derive(Debug, PartialEq)]
struct Shape {
    status: u16,
    content_type: String,
    keys: BTreeSet<String>,
    /// The first line of a text body (PrusaLink's error title).
    title: String,
}

impl Side {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (Shape, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-Api-Key", &self.key);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = r.bytes().await.unwrap();
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let title = if content_type.starts_with("text/plain") {
            String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        } else {
            String::new()
        };
        (
            Shape {
                status,
                content_type,
                keys: key_paths(&json),
                title,
            },
            json,
        )
    }

    async fn state(&self) -> String {
        let (_, v) = self.send(Method::GET, "/api/v1/status", &[], None).await;
        v["printer"]["state"].as_str().unwrap_or("").to_string()
    }

    /// Until the printer's state is `want`: the mock's clock moves on, the real server is
    /// polled (bounded).
    async fn settle(&self, want: &str, within: Duration) {
        let started = Instant::now();
        loop {
            let now = self.state().await;
            if now == want {
                return;
            }
            assert!(
                started.elapsed() < within,
                "{}: still {now} after {within:?}, waiting for {want}",
                self.name
            );
            match &self.mock {
                Some(m) => m.printer().advance(Duration::from_millis(500)),
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn job_id(&self) -> u64 {
        let (_, v) = self.send(Method::GET, "/api/v1/status", &[], None).await;
        v["job"]["id"].as_u64().expect("a job id")
    }
}

/// A slow print (each move is real time on the emulated printer) with progress lines.
fn slow() -> String {
    polyprint_conformance::live::slow_gcode()
}

#[tokio::test]
async fn the_mock_answers_like_a_real_prusalink() {
    let (Ok(url), Ok(key)) = (
        std::env::var("PRUSALINK_URL"),
        std::env::var("PRUSALINK_API_KEY"),
    ) else {
        eprintln!(
            "\n!!! SKIPPED: mock fidelity needs a real PrusaLink (PRUSALINK_URL, \
             PRUSALINK_API_KEY); run it with scripts/prusalink/with-server.sh !!!\n"
        );
        return;
    };
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    mock.printer().advance(Duration::from_secs(2)); // first readings
    let client = reqwest::Client::new();
    let real = Side {
        name: "real",
        base: url.trim_end_matches('/').to_string(),
        key,
        mock: None,
        client: client.clone(),
    };
    let mocked = Side {
        name: "mock",
        base: mock.uri(),
        key: MOCK_API_KEY.to_string(),
        mock: Some(mock),
        client,
    };
    let sides = [&real, &mocked];
    let mut compared = 0;
    let mut differences = Vec::new();

    // `same!(name, method, path [, headers, body])`, or for each side's current job:
    // `same!(name, method, job "/api/v1/job/{}/pause")`.
    macro_rules! same {
        ($name:expr, $method:expr, job $fmt:literal) => {{
            let pr = format!($fmt, real.job_id().await);
            let pm = format!($fmt, mocked.job_id().await);
            let (r, _) = real.send($method, &pr, &[], None).await;
            let (m, _) = mocked.send($method, &pm, &[], None).await;
            compared += 1;
            if r != m {
                differences.push(format!("{}:\n  real {r:?}\n  mock {m:?}", $name));
            }
        }};
        ($name:expr, $method:expr, $path:expr) => {
            same!($name, $method, $path, &[], None)
        };
        ($name:expr, $method:expr, $path:expr, $headers:expr, $body:expr) => {{
            let (r, _) = real.send($method, $path, $headers, $body).await;
            let (m, _) = mocked.send($method, $path, $headers, $body).await;
            compared += 1;
            if r != m {
                differences.push(format!("{}:\n  real {r:?}\n  mock {m:?}", $name));
            }
        }};
    }
    let gcode = ("Content-Type", "text/x.gcode");

    same!("version", Method::GET, "/api/version");
    same!("info", Method::GET, "/api/v1/info");
    same!("status idle", Method::GET, "/api/v1/status");
    same!("job none", Method::GET, "/api/v1/job");
    same!("storage", Method::GET, "/api/v1/storage");
    same!("cameras", Method::GET, "/api/v1/cameras");
    same!("snapshot", Method::GET, "/api/v1/cameras/snap");
    same!(
        "file missing",
        Method::GET,
        "/api/v1/files/local/polyprint-missing.gcode"
    );
    same!(
        "start missing",
        Method::POST,
        "/api/v1/files/local/polyprint-missing.gcode"
    );
    same!(
        "delete missing",
        Method::DELETE,
        "/api/v1/files/local/polyprint-missing.gcode"
    );
    // Auth: a wrong key is 403; no credentials at all 401 with the Digest challenge.
    for side in sides {
        let r = side
            .client
            .get(format!("{}/api/v1/status", side.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{}", side.name);
        let challenge = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            challenge.starts_with(
                "Digest realm=\"Administrator\",qop=\"auth\",algorithm=\"MD5-sess\",nonce="
            ),
            "{}: {challenge}",
            side.name
        );
        let r = side
            .client
            .get(format!("{}/api/v1/status", side.base))
            .header("X-Api-Key", "wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{}", side.name);
        assert_eq!(r.text().await.unwrap(), "Bad X-Api-Key.", "{}", side.name);
    }

    let body = slow();
    same!(
        "upload",
        Method::PUT,
        "/api/v1/files/local/fidelity%20test.gcode",
        &[gcode],
        Some(&body)
    );
    same!(
        "upload again without Overwrite",
        Method::PUT,
        "/api/v1/files/local/fidelity%20test.gcode",
        &[gcode],
        Some(&body)
    );
    same!(
        "upload again with Overwrite: yes",
        Method::PUT,
        "/api/v1/files/local/fidelity%20test.gcode",
        &[gcode, ("Overwrite", "yes")],
        Some(&body)
    );
    same!(
        "upload a text file",
        Method::PUT,
        "/api/v1/files/local/notes.txt",
        &[("Content-Type", "text/plain")],
        Some("hello")
    );
    tokio::time::sleep(Duration::from_millis(500)).await; // both lists the upload now
    same!(
        "upload again with Overwrite: ?1",
        Method::PUT,
        "/api/v1/files/local/fidelity%20test.gcode",
        &[gcode, ("Overwrite", "?1")],
        Some(&body)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    same!(
        "file info",
        Method::GET,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    same!(
        "file head",
        Method::HEAD,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    same!("file list", Method::GET, "/api/v1/files/local");

    same!(
        "start",
        Method::POST,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    for side in sides {
        side.settle("PRINTING", Duration::from_secs(5)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // the real job's first M73 lines
    mocked
        .mock
        .as_ref()
        .unwrap()
        .printer()
        .advance(Duration::from_secs(1));
    same!("status printing", Method::GET, "/api/v1/status");
    same!("job printing", Method::GET, "/api/v1/job");
    same!(
        "start while printing",
        Method::POST,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    same!(
        "delete the printed file",
        Method::DELETE,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    same!(
        "resume while printing",
        Method::PUT,
        job "/api/v1/job/{}/resume"
    );
    same!("pause another job", Method::PUT, "/api/v1/job/999/pause");
    same!(
        "unknown job command",
        Method::PUT,
        job "/api/v1/job/{}/frobnicate"
    );
    same!("pause", Method::PUT, job "/api/v1/job/{}/pause");
    for side in sides {
        side.settle("PAUSED", Duration::from_secs(20)).await;
    }
    same!("status paused", Method::GET, "/api/v1/status");
    same!("job paused", Method::GET, "/api/v1/job");
    same!(
        "pause while paused",
        Method::PUT,
        job "/api/v1/job/{}/pause"
    );
    same!(
        "start while paused",
        Method::POST,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    let id_real = real.job_id().await;
    let id_mock = mocked.job_id().await;
    let stop = |id: u64| format!("/api/v1/job/{id}");
    let (r, _) = real.send(Method::DELETE, &stop(id_real), &[], None).await;
    let (m, _) = mocked.send(Method::DELETE, &stop(id_mock), &[], None).await;
    assert_eq!(r, m, "stop");
    for side in sides {
        side.settle("STOPPED", Duration::from_secs(10)).await;
    }
    same!("status stopped", Method::GET, "/api/v1/status");
    same!("job stopped", Method::GET, "/api/v1/job");
    same!(
        "start while stopped",
        Method::POST,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    let (r, _) = real.send(Method::DELETE, &stop(id_real), &[], None).await;
    let (m, _) = mocked.send(Method::DELETE, &stop(id_mock), &[], None).await;
    assert_eq!(r, m, "stop while stopped");
    for side in sides {
        side.settle("IDLE", Duration::from_secs(20)).await;
    }
    same!("status idle again", Method::GET, "/api/v1/status");
    same!(
        "delete",
        Method::DELETE,
        "/api/v1/files/local/fidelity%20test.gcode"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    same!(
        "delete again",
        Method::DELETE,
        "/api/v1/files/local/fidelity%20test.gcode"
    );

    eprintln!("{compared} requests compared, {} differ", differences.len());
    assert!(
        differences.is_empty(),
        "the mock differs from the real server:\n{}",
        differences.join("\n")
    );
}
