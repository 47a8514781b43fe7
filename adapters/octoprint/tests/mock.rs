//! The adapter against its mock, and the mock against the recorded answers of a real server.
#![cfg(feature = "mock")]

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use polyprint::mockserver::Fault;
use polyprint::sim::{self, SimConfig, VirtualPrinter, CANCELLING, DEMO_FILE, PAUSING, RESUMING};
use polyprint::{Axes, Axis, Error, Feature, Heater, Jog, Printer, PrinterState, Upload};
use polyprint_octoprint::mock::{OctoPrintMock, MOCK_API_KEY, THERMAL_RUNAWAY};
use polyprint_octoprint::OctoPrint;
use serde_json::{json, Value};

async fn setup_with(printer: VirtualPrinter) -> (OctoPrintMock, OctoPrint) {
    let mock = OctoPrintMock::start(printer).await;
    let client = OctoPrint::builder(mock.uri())
        .api_key(mock.api_key())
        .http(polyprint::mockserver::quick_http())
        .port("VIRTUAL")
        .build()
        .unwrap();
    (mock, client)
}

async fn setup() -> (OctoPrintMock, OctoPrint) {
    setup_with(VirtualPrinter::new()).await
}

async fn state(p: &OctoPrint) -> PrinterState {
    p.status().await.unwrap().state
}

fn posts(mock: &OctoPrintMock, path: &str) -> Vec<Value> {
    mock.server()
        .journal()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

#[tokio::test]
async fn lifecycle_start_pause_resume_cancel() {
    let (mock, p) = setup().await;
    let vp = mock.printer();
    assert_eq!(state(&p).await, PrinterState::Idle);

    p.start_print(DEMO_FILE).await.unwrap();
    assert_eq!(
        posts(&mock, &format!("/api/files/local/{DEMO_FILE}")),
        [json!({"command": "select", "print": true})]
    );
    vp.advance(Duration::from_secs(2));
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Printing, "Printing")
    );
    let job = s.job.unwrap();
    assert_eq!(job.file.as_deref(), Some(DEMO_FILE));
    let first = job.progress.unwrap();
    assert!(first > 0.0 && first < 100.0, "{first}");
    assert_eq!(job.elapsed, Some(Duration::from_secs(2)));
    assert!(job.remaining.is_some());
    assert_eq!(job.filament_mm, Some(30.0));
    vp.advance(Duration::from_secs(3));
    let second = p.status().await.unwrap().job.unwrap().progress.unwrap();
    assert!(second > first, "{second} > {first}");

    p.pause().await.unwrap();
    assert_eq!(state(&p).await, PrinterState::Pausing);
    vp.advance(PAUSING);
    assert_eq!(state(&p).await, PrinterState::Paused);
    vp.advance(Duration::from_secs(10));
    assert_eq!(
        p.status().await.unwrap().job.unwrap().progress,
        Some(second)
    );

    p.resume().await.unwrap();
    assert_eq!(state(&p).await, PrinterState::Resuming);
    vp.advance(RESUMING);
    assert_eq!(state(&p).await, PrinterState::Printing);

    p.cancel().await.unwrap();
    assert_eq!(state(&p).await, PrinterState::Cancelling);
    vp.advance(CANCELLING);
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Cancelled, "Operational")
    );
    let job = s.job.unwrap();
    assert_eq!(
        job.file.as_deref(),
        Some(DEMO_FILE),
        "the file stays selected"
    );
    assert_eq!(job.progress, None);

    assert_eq!(
        posts(&mock, "/api/job"),
        [
            json!({"command": "pause", "action": "pause"}),
            json!({"command": "pause", "action": "resume"}),
            json!({"command": "cancel"}),
        ]
    );

    p.start_print(DEMO_FILE).await.unwrap();
    vp.advance(Duration::from_secs(3600));
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Finished);
    let job = s.job.unwrap();
    assert_eq!(
        (job.progress, job.remaining),
        (Some(100.0), Some(Duration::ZERO))
    );
}

#[tokio::test]
async fn bad_key_is_auth_on_get_and_on_post() {
    let (mock, _) = setup().await;
    let p = OctoPrint::builder(mock.uri())
        .api_key("wrong-key")
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let err = p.status().await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    let err = p.pause().await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert!(err.to_string().contains("CSRF validation failed"), "{err}");
    assert!(!err.to_string().contains("wrong-key"));
    assert_eq!(posts(&mock, "/api/job").len(), 1);
    // The key travels in the header only, never in the query.
    for r in mock.server().journal() {
        assert_eq!(r.header("x-api-key"), Some("wrong-key"));
        assert!(r.query.is_none_or(|q| !q.contains("apikey")));
    }
}

#[tokio::test]
async fn pause_when_idle_is_invalid_state() {
    let (_mock, p) = setup().await;
    let err = p.pause().await.unwrap_err();
    match err {
        Error::InvalidState { message } => assert_eq!(
            message,
            "Printer is neither printing nor paused, 'pause' command cannot be performed"
        ),
        other => panic!("{other}"),
    }
    assert!(matches!(p.cancel().await, Err(Error::InvalidState { .. })));
}

#[tokio::test]
async fn missing_files_are_not_found() {
    let (_mock, p) = setup().await;
    assert!(matches!(
        p.start_print("missing.gcode").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        p.delete_file("missing.gcode").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(state(&p).await, PrinterState::Idle);
}

#[tokio::test]
async fn upload_streams_and_the_file_is_listed() {
    let (mock, p) = setup().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let content = sim::demo_gcode().repeat(300); // several chunks
    let size = content.len() as u64;
    let (c, l) = (calls.clone(), last.clone());
    let upload =
        Upload::from_bytes("sub/my part (1).gcode", content.clone()).on_progress(move |u| {
            c.fetch_add(1, Ordering::SeqCst);
            l.store(u.sent, Ordering::SeqCst);
            assert_eq!(u.total, size);
        });
    let entry = p.upload(upload).await.unwrap();
    assert_eq!(entry.path, "sub/my part (1).gcode");
    assert_eq!(entry.name, "my part (1).gcode");
    assert_eq!(entry.size, Some(size));
    assert!(
        calls.load(Ordering::SeqCst) >= 2,
        "progress reported as it goes"
    );
    assert_eq!(last.load(Ordering::SeqCst), size);
    let stored = mock.printer().lock().file("sub/my part (1).gcode").unwrap();
    assert_eq!(stored.content, content.as_bytes());

    let files = p.list_files().await.unwrap();
    let listed = files
        .iter()
        .find(|f| f.path == "sub/my part (1).gcode")
        .unwrap();
    assert_eq!(listed.size, Some(size));
    assert!(listed.estimated_time.is_some());
    assert!(files.iter().any(|f| f.path == DEMO_FILE));

    // It can be printed and, once done, deleted.
    p.start_print("sub/my part (1).gcode").await.unwrap();
    assert!(matches!(
        p.delete_file("sub/my part (1).gcode").await,
        Err(Error::InvalidState { .. })
    ));
    p.cancel().await.unwrap();
    mock.printer().advance(CANCELLING);
    p.delete_file("sub/my part (1).gcode").await.unwrap();
    assert!(p
        .list_files()
        .await
        .unwrap()
        .iter()
        .all(|f| f.path != "sub/my part (1).gcode"));
    let j = mock.server().journal();
    assert!(j.iter().any(
        |r| r.method == "DELETE" && r.path == "/api/files/local/sub/my%20part%20%281%29.gcode"
    ));

    // Not a G-code file: refused before anything is sent.
    let before = mock.server().request_count();
    let err = p
        .upload(Upload::from_bytes("notes.txt", "hi"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert_eq!(mock.server().request_count(), before);
}

#[tokio::test]
async fn commands_are_sent_once_under_faults_and_reads_retry() {
    let (mock, p) = setup().await;
    p.start_print(DEMO_FILE).await.unwrap();
    mock.server().clear_journal();
    mock.server().inject(Fault::Status {
        status: 503,
        count: 3,
    });
    let err = p.pause().await.unwrap_err();
    // The printer may have paused (a gateway can answer 503 after passing the command on):
    // an application must read the status, not resend.
    assert!(
        matches!(&err, Error::OutcomeUnknown { action, .. } if action == "pause"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        mock.server().request_count(),
        1,
        "a command is never retried"
    );
    mock.server().clear_faults();

    mock.server().inject(Fault::Status {
        status: 502,
        count: 2,
    });
    let s = p.status().await.unwrap();
    assert_eq!(
        s.state,
        PrinterState::Printing,
        "the pause never reached the printer"
    );
    assert_eq!(
        mock.server().journal().iter().filter(|r| r.faulted).count(),
        3
    );
}

#[tokio::test]
async fn offline_connect_and_first_readings() {
    let printer = VirtualPrinter::with_config(SimConfig {
        connected: false,
        ..SimConfig::default()
    });
    let (mock, p) = setup_with(printer).await;
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Offline, "Offline")
    );
    assert!(s.heaters.is_empty());
    let c = p.connection().await.unwrap();
    assert_eq!(c.current.state, "Closed");
    assert!(matches!(
        p.set_target(Heater::Bed, 50.0).await,
        Err(Error::InvalidState { .. })
    ));

    p.connect().await.unwrap();
    assert_eq!(
        posts(&mock, "/api/connection"),
        [json!({"command": "connect", "port": "VIRTUAL"})]
    );
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Idle);
    assert!(
        s.heaters.is_empty(),
        "temperature is {{}} right after connecting"
    );
    // The first temperatures come as the real server's do, about 2 s after the connect.
    mock.printer()
        .advance(polyprint_octoprint::mock::TEMPS_AFTER_CONNECT);
    let s = p.status().await.unwrap();
    assert_eq!(
        s.heaters.iter().map(|h| h.heater).collect::<Vec<_>>(),
        [Heater::Tool(0), Heater::Bed]
    );
    assert_eq!(
        p.connection().await.unwrap().current.port.as_deref(),
        Some("VIRTUAL")
    );

    p.disconnect().await.unwrap();
    assert_eq!(state(&p).await, PrinterState::Offline);

    // Without a configured port, no port is forced.
    let plain = OctoPrint::builder(mock.uri())
        .api_key(MOCK_API_KEY)
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    plain.connect().await.unwrap();
    assert_eq!(
        posts(&mock, "/api/connection").last(),
        Some(&json!({"command": "connect"}))
    );
    // Without a port OctoPrint autodetects first, as the real server does.
    assert_eq!(state(&plain).await, PrinterState::Busy);
    mock.printer()
        .advance(polyprint_octoprint::mock::AUTODETECT);
    assert_eq!(state(&plain).await, PrinterState::Idle);

    let bad = OctoPrint::builder(mock.uri())
        .api_key(MOCK_API_KEY)
        .http(polyprint::mockserver::quick_http())
        .port("/dev/nonexistent")
        .build()
        .unwrap();
    let err = bad.connect().await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("port is invalid"), "{err}");
}

#[tokio::test]
async fn fatal_error_is_error_with_the_message() {
    let (_mock, p) = setup().await;
    p.send_gcode(&["!!DEBUG:trigger_fatal_error_marlin".to_string()])
        .await
        .unwrap();
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Error);
    assert_eq!(s.raw_state, "Offline after error");
    assert_eq!(s.message.as_deref(), Some(THERMAL_RUNAWAY));
    assert_eq!(p.connection().await.unwrap().current.state, "Closed");
    p.connect().await.unwrap();
    assert_eq!(state(&p).await, PrinterState::Idle);
}

#[tokio::test]
async fn heaters_motion_and_gcode() {
    let (mock, p) = setup().await;
    p.set_target(Heater::Tool(0), 210.0).await.unwrap();
    p.set_target(Heater::Bed, 65.0).await.unwrap();
    let s = p.status().await.unwrap();
    assert_eq!(s.heater(Heater::Tool(0)).unwrap().target, Some(210.0));
    assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(65.0));
    assert!(matches!(
        p.set_target(Heater::Chamber, 40.0).await,
        Err(Error::InvalidState { .. })
    ));
    p.jog(Jog {
        x: Some(10.0),
        y: Some(5.0),
        z: None,
        speed: Some(3000.0),
    })
    .await
    .unwrap();
    assert_eq!(mock.printer().view().position, [10.0, 5.0, 0.0]);
    p.home(Axis::X | Axis::Y).await.unwrap();
    assert_eq!(mock.printer().view().position, [0.0, 0.0, 0.0]);
    p.extrude(5.0).await.unwrap();
    p.send_gcode(&["M105".to_string(), "G91".to_string()])
        .await
        .unwrap();
    assert_eq!(mock.printer().lock().gcode_log(), ["M105", "G91"]);
    assert!(matches!(
        p.home(Axes::empty()).await,
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(
        posts(&mock, "/api/printer/tool"),
        [
            json!({"command": "target", "targets": {"tool0": 210}}),
            json!({"command": "extrude", "amount": 5}),
        ]
    );
    assert_eq!(
        posts(&mock, "/api/printer/printhead"),
        [
            json!({"command": "jog", "x": 10, "y": 5, "speed": 3000}),
            json!({"command": "home", "axes": ["x", "y"]}),
        ]
    );
}

#[tokio::test]
async fn unsupported_features_send_nothing() {
    let (mock, p) = setup().await;
    for f in [
        Feature::LightControl,
        Feature::ObjectCancel,
        Feature::FailureDetection,
        Feature::JobHistory,
        Feature::PrintQueue,
        Feature::WebcamSnapshot,
    ] {
        assert!(!p.features().await.unwrap().contains(f), "{f}");
    }
    assert!(matches!(
        p.set_light(true).await,
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(p.snapshot().await, Err(Error::Unsupported { .. })));
    assert!(matches!(
        p.cancel_object(1).await,
        Err(Error::Unsupported { .. })
    ));
    assert_eq!(mock.server().request_count(), 0);
}

#[tokio::test]
async fn webcam_snapshot() {
    let (mock, p) = setup().await;
    assert!(!p.detect_webcam().await.unwrap());
    let forced = OctoPrint::builder(mock.uri())
        .api_key(mock.api_key())
        .http(polyprint::mockserver::quick_http())
        .webcam(true)
        .build()
        .unwrap();
    let err = forced.snapshot().await.unwrap_err();
    match &err {
        Error::Api {
            status: 500,
            message,
        } => assert_eq!(message, "500: Internal Server Error"),
        other => panic!("{other}"),
    }
    mock.set_webcam(true);
    assert!(p.detect_webcam().await.unwrap());
    assert!(p
        .features()
        .await
        .unwrap()
        .contains(Feature::WebcamSnapshot));
    let shot = p.snapshot().await.unwrap();
    assert_eq!(shot.content_type, "image/jpeg");
    assert_eq!(&shot.bytes[..], sim::WEBCAM_JPEG);
    assert!(p.status().await.unwrap().webcams[0].can_snapshot);
}

// ---- The mock's own answers, compared with the recorded ones. ----

fn sample(name: &str) -> Value {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/octoprint"
    ))
    .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The same keys, recursively (arrays: their first elements).
fn same_keys(path: &str, got: &Value, want: &Value) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let gk: Vec<&String> = g.keys().collect();
            let wk: Vec<&String> = w.keys().collect();
            assert_eq!(gk, wk, "keys at {path}");
            for (k, v) in w {
                same_keys(&format!("{path}.{k}"), &g[k], v);
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if let (Some(g), Some(w)) = (g.first(), w.first()) {
                same_keys(&format!("{path}[0]"), g, w);
            }
        }
        (Value::Object(_), _) | (_, Value::Object(_)) if !got.is_null() && !want.is_null() => {
            panic!("{path}: {got} vs {want}")
        }
        _ => {}
    }
}

struct Raw {
    client: reqwest::Client,
    base: String,
}

impl Raw {
    fn new(mock: &OctoPrintMock) -> Raw {
        Raw {
            client: reqwest::Client::new(),
            base: mock.uri(),
        }
    }
    async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, String, Vec<u8>) {
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.bytes().await.unwrap().to_vec())
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = self
            .send(
                self.client
                    .get(format!("{}{path}", self.base))
                    .header("X-Api-Key", MOCK_API_KEY),
            )
            .await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: Value) -> (u16, String, Vec<u8>) {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .header("X-Api-Key", MOCK_API_KEY)
                .json(&body),
        )
        .await
    }
}

#[tokio::test]
async fn mock_shapes_match_the_samples() {
    let printer = VirtualPrinter::with_config(SimConfig {
        connected: false,
        ..SimConfig::default()
    });
    let mock = OctoPrintMock::start(printer).await;
    let raw = Raw::new(&mock);
    let vp = mock.printer();

    assert_eq!(raw.get("/api/version").await, (200, sample("version.json")));
    assert_eq!(raw.get("/api/server").await, (200, sample("server.json")));
    assert_eq!(
        raw.get("/api/printer").await,
        (409, sample("printer_disconnected.json"))
    );
    let (s, job) = raw.get("/api/job").await;
    assert_eq!((s, &job), (200, &sample("job_disconnected.json")));
    let (_, c) = raw.get("/api/connection").await;
    same_keys("connection", &c, &sample("connection_disconnected.json"));
    assert_eq!(
        c["current"],
        sample("connection_disconnected.json")["current"]
    );

    let (s, ct, body) = raw
        .post(
            "/api/connection",
            json!({"command": "connect", "port": "VIRTUAL", "baudrate": 115200}),
        )
        .await;
    assert_eq!((s, ct.as_str(), body.len()), (204, "text/plain", 0));
    let (_, p) = raw.get("/api/printer").await;
    assert_eq!(
        p,
        sample("printer_operational.json"),
        "temperature is {{}} at first"
    );
    vp.advance(polyprint_octoprint::mock::TEMPS_AFTER_CONNECT);
    let (_, p) = raw.get("/api/printer").await;
    assert_eq!(p, sample("printer_operational_with_temps.json"));
    assert_eq!(
        raw.get("/api/job").await.1,
        sample("job_operational_idle.json")
    );
    let (_, c) = raw.get("/api/connection").await;
    assert_eq!(
        c["current"],
        sample("connection_operational.json")["current"]
    );
    assert_eq!(
        raw.get("/api/printer/tool").await.1,
        sample("printer_tool_operational.json")
    );
    assert_eq!(
        raw.get("/api/printer/bed").await.1,
        sample("printer_bed_operational.json")
    );
    assert_eq!(
        raw.get("/api/printer/sd").await.1,
        sample("printer_sd.json")
    );
    assert_eq!(
        raw.get("/api/printer?exclude=temperature,sd").await.1,
        sample("printer_exclude_temp.json")
    );

    // Upload, info, list.
    let part =
        reqwest::multipart::Part::bytes(sim::demo_gcode().into_bytes()).file_name("test.gcode");
    let form = reqwest::multipart::Form::new().part("file", part);
    let (s, _, body) = raw
        .send(
            raw.client
                .post(format!("{}/api/files/local", raw.base))
                .header("X-Api-Key", MOCK_API_KEY)
                .multipart(form),
        )
        .await;
    assert_eq!(s, 201);
    let up: Value = serde_json::from_slice(&body).unwrap();
    same_keys("upload", &up, &sample("upload_gcode.json"));
    let port = mock.server().port();
    assert_eq!(
        up["files"]["local"]["refs"]["resource"],
        format!("http://127.0.0.1:{port}/api/files/local/test.gcode")
    );
    let (s, info) = raw.get("/api/files/local/test.gcode").await;
    assert_eq!(s, 200);
    same_keys("file", &info, &sample("file_info.json"));
    let (_, list) = raw.get("/api/files?recursive=true").await;
    same_keys("files", &list, &sample("files_list_recursive.json"));
    assert_eq!(
        raw.get("/api/files/local/nope.gcode").await,
        (404, sample("file_info_missing.json"))
    );

    // Printing, paused, finished, cancelled.
    let (s, _, _) = raw
        .post(
            "/api/files/local/test.gcode",
            json!({"command": "select", "print": true}),
        )
        .await;
    assert_eq!(s, 204);
    vp.advance(Duration::from_secs(2));
    let (_, p) = raw.get("/api/printer").await;
    same_keys("printer", &p, &sample("printer_printing.json"));
    assert_eq!(p["state"], sample("printer_printing.json")["state"]);
    let (_, j) = raw.get("/api/job").await;
    same_keys("job", &j, &sample("job_printing.json"));
    assert_eq!(j["state"], "Printing");
    let (_, c) = raw.get("/api/connection").await;
    assert_eq!(c["current"], sample("connection_printing.json")["current"]);
    assert_eq!(
        raw.post(
            "/api/files/local/test.gcode",
            json!({"command": "select", "print": true})
        )
        .await
        .2,
        serde_json::to_vec(&sample("select_while_printing.json")).unwrap()
    );
    let (s, _, b) = raw
        .send(
            raw.client
                .delete(format!("{}/api/files/local/test.gcode", raw.base))
                .header("X-Api-Key", MOCK_API_KEY),
        )
        .await;
    assert_eq!(
        (s, serde_json::from_slice::<Value>(&b).unwrap()),
        (409, sample("delete_while_printing.json"))
    );
    let (s, _, b) = raw.post("/api/job", json!({"command": "start"})).await;
    assert_eq!(
        (s, serde_json::from_slice::<Value>(&b).unwrap()),
        (409, sample("job_start_while_printing.json"))
    );

    raw.post("/api/job", json!({"command": "pause", "action": "pause"}))
        .await;
    let (_, p) = raw.get("/api/printer?exclude=temperature,sd").await;
    assert_eq!(p, sample("printer_right_after_pause.json"));
    vp.advance(PAUSING);
    let (_, p) = raw.get("/api/printer").await;
    assert_eq!(p["state"], sample("printer_paused.json")["state"]);
    let (_, j) = raw.get("/api/job").await;
    same_keys("job paused", &j, &sample("job_paused.json"));
    assert_eq!(j["progress"]["printTimeLeftOrigin"], "analysis");
    let (s, _, b) = raw
        .post("/api/job", json!({"command": "pause", "action": "pause"}))
        .await;
    assert_eq!((s, b.len()), (204, 0), "pause while paused is a no-op");

    raw.post("/api/job", json!({"command": "cancel"})).await;
    let (_, p) = raw.get("/api/printer?exclude=temperature,sd").await;
    assert_eq!(p, sample("printer_right_after_cancel.json"));
    vp.advance(CANCELLING);
    let (_, j) = raw.get("/api/job").await;
    same_keys("job cancelled", &j, &sample("job_after_cancel.json"));
    assert_eq!(j["progress"], sample("job_after_cancel.json")["progress"]);
    assert_eq!(j["state"], "Operational");

    raw.post("/api/job", json!({"command": "start"})).await;
    vp.advance(Duration::from_secs(3600));
    let (_, j) = raw.get("/api/job").await;
    same_keys("job finished", &j, &sample("job_after_completed.json"));
    assert_eq!(j["progress"]["completion"], 100.0);
    assert_eq!(j["progress"]["printTimeLeft"], 0);
    assert_eq!(
        raw.get("/api/printer").await.1["state"],
        sample("printer_after_completed.json")["state"]
    );

    // Error.
    raw.post(
        "/api/printer/command",
        json!({"command": "!!DEBUG:trigger_fatal_error_marlin"}),
    )
    .await;
    assert_eq!(
        raw.get("/api/printer").await,
        (409, sample("printer_error.json"))
    );
    assert_eq!(raw.get("/api/job").await.1, sample("job_error.json"));
    assert_eq!(
        raw.get("/api/connection").await.1["current"],
        sample("connection_error.json")["current"]
    );
}

#[tokio::test]
async fn mock_error_answers_match_the_samples() {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let raw = Raw::new(&mock);
    let json_of = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap();
    let url = |p: &str| format!("{}{p}", raw.base);

    let (s, _, b) = raw
        .send(
            raw.client
                .get(url("/api/printer"))
                .header("X-Api-Key", "wrongkey"),
        )
        .await;
    assert_eq!((s, json_of(&b)), (403, sample("bad_apikey.json")));
    let (s, _, b) = raw.send(raw.client.get(url("/api/version"))).await;
    assert_eq!((s, json_of(&b)), (403, sample("no_apikey_version.json")));
    let (s, _, b) = raw
        .send(
            raw.client
                .post(url("/api/job"))
                .header("X-Api-Key", "wrongkey")
                .json(&json!({"command": "start"})),
        )
        .await;
    assert_eq!((s, json_of(&b)), (400, sample("bad_apikey_post_job.json")));

    let cases = [
        (
            "/api/job",
            json!({"command": "pause", "action": "pause"}),
            409,
            "job_pause_not_printing.json",
        ),
        (
            "/api/job",
            json!({"command": "cancel"}),
            409,
            "job_cancel_not_printing.json",
        ),
        (
            "/api/job",
            json!({"command": "pause", "action": "resume"}),
            409,
            "job_resume_not_paused.json",
        ),
        (
            "/api/job",
            json!({"command": "pause"}),
            409,
            "job_toggle_not_printing.json",
        ),
        (
            "/api/job",
            json!({"command": "explode"}),
            400,
            "job_bad_command.json",
        ),
        (
            "/api/files/local/missing.gcode",
            json!({"command": "select", "print": true}),
            404,
            "select_missing_file.json",
        ),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": {"tool0": "hot"}}),
            400,
            "tool_target_string.json",
        ),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": {"tool0": -5}}),
            500,
            "tool_target_negative.json",
        ),
        (
            "/api/printer/bed",
            json!({"command": "target", "target": "x"}),
            400,
            "bed_target_string.json",
        ),
        (
            "/api/printer/printhead",
            json!({"command": "home", "axes": ["q"]}),
            400,
            "printhead_home_bad_axis.json",
        ),
        (
            "/api/printer/printhead",
            json!({"command": "jog", "x": "far"}),
            400,
            "printhead_jog_bad.json",
        ),
        ("/api/printer/command", json!({}), 400, "command_empty.json"),
        (
            "/api/connection",
            json!({"command": "connect", "port": "/dev/nonexistent"}),
            400,
            "connect_bad_port.json",
        ),
        (
            "/api/connection",
            json!({"command": "frobnicate"}),
            400,
            "connection_bad_command.json",
        ),
    ];
    for (path, body, status, file) in cases {
        let (s, ct, b) = raw.post(path, body.clone()).await;
        assert_eq!((s, json_of(&b)), (status, sample(file)), "{path} {body}");
        assert_eq!(ct, "application/json", "{file}");
    }
    // 204s: empty text/plain.
    for (path, body) in [
        ("/api/job", json!({"command": "start"})),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": {"tool5": 210}}),
        ),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": {"tool0": 999}}),
        ),
        (
            "/api/printer/command",
            json!({"commands": ["M105", "G91", "G1 X1", "G90"]}),
        ),
        (
            "/api/connection",
            json!({"command": "connect", "port": "VIRTUAL"}),
        ),
    ] {
        assert_eq!(
            raw.post(path, body.clone()).await,
            (204, "text/plain".into(), vec![]),
            "{path} {body}"
        );
    }
    let (s, _, b) = raw
        .send(
            raw.client
                .post(url("/api/job"))
                .header("X-Api-Key", MOCK_API_KEY)
                .form(&[("command", "start")]),
        )
        .await;
    assert_eq!((s, json_of(&b)), (415, sample("job_no_json.json")));

    let upload = |name: &'static str, field: &'static str| {
        let form = reqwest::multipart::Form::new().part(
            field,
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name(name),
        );
        raw.client
            .post(url("/api/files/local"))
            .header("X-Api-Key", MOCK_API_KEY)
            .multipart(form)
    };
    let (s, _, b) = raw.send(upload("notes.txt", "file")).await;
    assert_eq!((s, json_of(&b)), (415, sample("upload_non_gcode.json")));
    let form = reqwest::multipart::Form::new().text("foo", "bar");
    let (s, _, b) = raw
        .send(
            raw.client
                .post(url("/api/files/local"))
                .header("X-Api-Key", MOCK_API_KEY)
                .multipart(form),
        )
        .await;
    assert_eq!((s, json_of(&b)), (400, sample("upload_no_file.json")));
    let (s, _, b) = raw.send(upload("my test (1).gcode", "file")).await;
    assert_eq!(s, 201);
    let port = mock.server().port();
    let want = sample("upload_gcode_spaces.json");
    let got = json_of(&b);
    for r in ["download", "resource"] {
        let w = want["files"]["local"]["refs"][r]
            .as_str()
            .unwrap()
            .replace("44555", &port.to_string());
        assert_eq!(got["files"]["local"]["refs"][r], w, "{r}");
    }

    let (s, ct, b) = raw
        .send(
            raw.client
                .get(url("/downloads/camera/current"))
                .header("X-Api-Key", MOCK_API_KEY),
        )
        .await;
    let want = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/octoprint/downloads_camera_current_no_webcam.txt"
    ))
    .unwrap();
    assert_eq!((s, ct.as_str(), b), (500, "text/html; charset=UTF-8", want));
}

/// Like the real server: the head does not move while a job runs (409, one text for offline
/// and printing), which the adapter reports as InvalidState; it moves again when paused.
#[tokio::test]
async fn jog_and_home_while_printing_are_refused_with_409() {
    let (mock, p) = setup().await;
    p.start_print(DEMO_FILE).await.unwrap();
    let jog = p.jog(Jog::along(Axis::X, 5.0)).await;
    assert!(matches!(jog, Err(Error::InvalidState { .. })), "{jog:?}");
    let home = p.home(Axis::X.into()).await;
    assert!(matches!(home, Err(Error::InvalidState { .. })), "{home:?}");
    let r = reqwest::Client::new()
        .post(format!("{}/api/printer/printhead", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .json(&json!({"command": "jog", "x": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "Printer is not operational or currently printing"
    );
    p.pause().await.unwrap();
    mock.printer().advance(Duration::from_secs(30));
    p.jog(Jog::along(Axis::X, 5.0)).await.unwrap();
}

/// Like Tornado: a doubled slash reaches the same route.
#[tokio::test]
async fn a_doubled_slash_reaches_the_same_route() {
    let (mock, _p) = setup().await;
    let r = reqwest::Client::new()
        .post(format!("{}//api/printer/bed", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .json(&json!({"command": "target", "target": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let bed = mock
        .printer()
        .view()
        .heaters
        .into_iter()
        .find(|h| h.heater == Heater::Bed);
    assert_eq!(bed.map(|h| h.target), Some(50.0));
}

/// Like the real server: `select` without `print` selects the file (shown by `/api/job` with
/// no progress), and a following `start` prints it.
#[tokio::test]
async fn select_then_start_prints_the_selected_file() {
    let (mock, _p) = setup().await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", mock.uri()))
            .header("X-Api-Key", MOCK_API_KEY)
            .json(&body)
            .send()
    };
    let r = post(
        &format!("/api/files/local/{DEMO_FILE}"),
        json!({"command": "select"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let job: Value = client
        .get(format!("{}/api/job", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["job"]["file"]["name"], DEMO_FILE, "{job}");
    assert_eq!(job["progress"]["completion"], Value::Null, "{job}");
    assert_eq!(job["state"], "Operational");
    assert_eq!(mock.printer().view().state, PrinterState::Idle);
    let r = post("/api/job", json!({"command": "start"})).await.unwrap();
    assert_eq!(r.status(), 204);
    let view = mock.printer().view();
    assert_eq!(view.state, PrinterState::Printing);
    assert_eq!(view.job.map(|j| j.file.name), Some(DEMO_FILE.to_string()));
}

/// Error answers with the real server's status and text (measured on OctoPrint 1.11.8).
#[tokio::test]
async fn error_texts_are_the_real_servers() {
    let (mock, _p) = setup().await;
    let client = reqwest::Client::new();
    let rows = [
        (
            "/api/job",
            json!({"command": "restart"}),
            409,
            "Printer does not have an active print job or is not paused",
        ),
        (
            "/api/printer/printhead",
            json!({"command": "home"}),
            400,
            "Mandatory parameters missing",
        ),
        (
            "/api/printer/tool",
            json!({"command": "extrude"}),
            400,
            "Mandatory parameters missing",
        ),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": {"nozzle": 200}}),
            400,
            "targets contains invalid tool",
        ),
        (
            "/api/printer/tool",
            json!({"command": "target", "targets": [200]}),
            500,
            polyprint_octoprint::mock::INTERNAL,
        ),
        (
            "/api/printer/bed",
            json!({"command": "target", "target": "x"}),
            400,
            "target is invalid",
        ),
    ];
    for (path, body, status, text) in rows {
        let r = client
            .post(format!("{}{path}", mock.uri()))
            .header("X-Api-Key", MOCK_API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path} {body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["error"], text, "{path} {body}");
    }
}

/// The Application Keys flow an application uses to get a key: probe, request, poll while
/// pending, then the key once the person (here the test) approves; a denied or unknown token
/// is 404.
#[tokio::test]
async fn app_keys_are_requested_polled_and_granted() {
    let (mock, _p) = setup().await;
    let client = reqwest::Client::new();
    let base = mock.uri();
    let probe = client
        .get(format!("{base}/plugin/appkeys/probe"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 204);
    let request = |app: Value| {
        client
            .post(format!("{base}/plugin/appkeys/request"))
            .json(&app)
            .send()
    };
    let r = request(json!({})).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = request(json!({"app": "polyprint"})).await.unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let token = body["app_token"].as_str().unwrap().to_string();
    assert!(
        location.ends_with(&format!("/plugin/appkeys/request/{token}")),
        "{location}"
    );
    let poll = || client.get(&location).send();
    let pending = poll().await.unwrap();
    assert_eq!(pending.status(), 202);
    mock.decide_app_keys(true);
    let granted: Value = poll().await.unwrap().json().await.unwrap();
    assert_eq!(granted["api_key"], MOCK_API_KEY);
    // The key works; the token is used up.
    let with_key = OctoPrint::new(&base, granted["api_key"].as_str().unwrap()).unwrap();
    assert!(with_key.status().await.is_ok());
    assert_eq!(poll().await.unwrap().status(), 404);
    mock.decide_app_keys(false);
    let r = request(json!({"app": "other"})).await.unwrap();
    let token: Value = r.json().await.unwrap();
    let denied = client
        .get(format!(
            "{base}/plugin/appkeys/request/{}",
            token["app_token"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 404);
}

/// The real server's timings: a connect without a port autodetects ("Detecting serial
/// connection", about 7 s on the measuring host) before it is Operational; temperatures come
/// about 2 s after a connect; a connect with the port is up at once. The push channel says the
/// same as the REST reads.
#[tokio::test]
async fn connecting_takes_the_real_servers_time() {
    use polyprint_octoprint::mock::{AUTODETECT, DETECTING, TEMPS_AFTER_CONNECT};
    let (mock, p) = setup().await;
    p.disconnect().await.unwrap();
    let plain = OctoPrint::builder(mock.uri())
        .api_key(MOCK_API_KEY)
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    plain.connect().await.unwrap();
    let s = plain.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Busy, DETECTING)
    );
    let job: Value = reqwest::Client::new()
        .get(format!("{}/api/connection", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["current"]["state"], DETECTING);
    mock.printer()
        .advance(AUTODETECT - Duration::from_millis(500));
    assert_eq!(plain.status().await.unwrap().state, PrinterState::Busy);
    mock.printer().advance(Duration::from_millis(500));
    let s = plain.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Idle);
    assert!(
        s.heaters.is_empty(),
        "no temperatures right after connecting: {s:?}"
    );
    mock.printer().advance(TEMPS_AFTER_CONNECT);
    assert!(!plain.status().await.unwrap().heaters.is_empty());

    // With the port: up at once, temperatures 2 s later.
    p.disconnect().await.unwrap();
    p.connect().await.unwrap();
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Idle);
    assert!(s.heaters.is_empty());
    mock.printer().advance(TEMPS_AFTER_CONNECT);
    assert!(!p.status().await.unwrap().heaters.is_empty());
}

/// Upload names as OctoPrint 1.11.8 treats them (measured): the base name is kept and the dots
/// around it dropped; what is left without a G-code extension is 415; overwriting the file
/// being printed is 409 with the real text.
#[tokio::test]
async fn upload_names_and_overwrite_while_printing_answer_as_measured() {
    let (mock, _p) = setup().await;
    let upload = |name: &'static str| {
        let part = reqwest::multipart::Part::bytes(b"G28\n".to_vec())
            .file_name(name)
            .mime_str("application/octet-stream")
            .unwrap();
        reqwest::Client::new()
            .post(format!("{}/api/files/local", mock.uri()))
            .header("X-Api-Key", MOCK_API_KEY)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    for (name, status, stored) in [
        (".hidden.gcode", 201, Some("hidden.gcode")),
        ("a/../b.gcode", 201, Some("b.gcode")),
        ("x.gcode.", 201, Some("x.gcode")),
        ("..", 415, None),
        (" .gcode", 415, None),
    ] {
        let r = upload(name).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{name}");
        let body: Value = r.json().await.unwrap();
        match stored {
            Some(path) => assert_eq!(body["files"]["local"]["path"], path, "{name}"),
            None => assert_eq!(body["error"], "Could not upload file, invalid type"),
        }
    }
    mock.printer().lock().start("hidden.gcode").unwrap();
    let r = upload("hidden.gcode").await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "Trying to overwrite file that is currently being printed"
    );
}
