//! The adapter against its mock, beyond the shared suite: the plugin's exact texts, both error
//! layers, the service's temporary statuses on reads, commands sent once, the snapshot's JSON
//! fall-through, Basic credentials, smart pause options.
#![cfg(feature = "mock")]

use std::time::Duration;

use polyprint::mockserver::Fault;
use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::{ErrorKind, Feature, Heater, Printer, PrinterState};
use polyprint_octoeverywhere::mock::{OctoEverywhereMock, Platform, BASIC_USER};
use polyprint_octoeverywhere::{OctoEverywhere, PauseOptions, Temperatures};
use serde_json::{json, Value};

async fn post(mock: &OctoEverywhereMock, command: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut r = client
        .post(format!("{}{command}", mock.uri()))
        .bearer_auth(mock.credential());
    if let Some(b) = body {
        r = r.body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/json");
    resp.json().await.unwrap()
}

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/samples/octoeverywhere/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_mock_answers_the_plugins_exact_texts() {
    let oct = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
    let moon = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::Moonraker).await;
    let rows: Vec<(&OctoEverywhereMock, &str, Option<Value>, &str)> = vec![
        (
            &moon,
            "extrude",
            Some(json!({"DistanceMm": 1})),
            "err_400_extrude_bad_extruder.json",
        ),
        (
            &moon,
            "move-axis",
            Some(json!({"Axis": "E", "DistanceMm": 1})),
            "err_400_move_axis_bad_axis.json",
        ),
        (
            &moon,
            "move-axis",
            Some(json!({"Axis": "X"})),
            "err_400_move_axis_no_distance.json",
        ),
        (&moon, "set-temp", None, "err_400_no_args.json"),
        (
            &moon,
            "set-light",
            Some(json!({"On": true})),
            "err_400_set_light_no_name.json",
        ),
        (
            &moon,
            "set-light",
            Some(json!({"Name": "caselight"})),
            "err_400_set_light_no_state.json",
        ),
        (
            &moon,
            "set-temp",
            Some(json!({"BedC": 80})),
            "err_400_set_temp_bed_range.json",
        ),
        (
            &moon,
            "set-temp",
            Some(json!({"ToolNumber": 0})),
            "err_400_set_temp_no_heater.json",
        ),
        (
            &moon,
            "set-temp",
            Some(json!({"ToolC": 261.5})),
            "err_400_set_temp_tool_range.json",
        ),
        (
            &moon,
            "no-such-command",
            None,
            "err_754_unknown_command.json",
        ),
        (
            &oct,
            "pause",
            Some(json!({})),
            "err_786_pause_not_printing_octoprint.json",
        ),
        (
            &oct,
            "home",
            Some(json!({})),
            "err_788_home_not_supported_octoprint.json",
        ),
        (
            &oct,
            "set-light",
            Some(json!({"Name": "x", "On": true})),
            "err_788_set_light_octoprint.json",
        ),
        (&moon, "ping", None, "ping.json"),
        (
            &moon,
            "cancel",
            Some(json!({})),
            "err_786_pause_not_printing_octoprint.json",
        ),
    ];
    for (i, (mock, command, body, file)) in rows.into_iter().enumerate() {
        let got = post(mock, command, body).await;
        let mut want = sample(file);
        if i == 14 {
            // Moonraker's wording for the same refusal.
            want["Error"] = json!("Wrong State");
        }
        assert_eq!(got, want, "{command} ({file})");
    }
    // A body that is not JSON: 751 with the parser's text.
    let r = reqwest::Client::new()
        .post(format!("{}pause", moon.uri()))
        .bearer_auth(moon.credential())
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        sample("err_751_bad_json_body.json")
    );
    // Host disconnected: 785 for status.
    moon.printer().lock().disconnect();
    let r = reqwest::Client::new()
        .get(format!("{}status", moon.uri()))
        .bearer_auth(moon.credential())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        sample("err_785_status_host_not_connected.json")
    );
}

#[tokio::test]
async fn offline_is_a_status_for_reads_and_an_error_for_commands() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::Moonraker).await;
    let p = mock.client();
    p.refresh().await.unwrap();
    mock.printer().lock().disconnect();
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Offline);
    assert_eq!(s.raw_state, "Host not connected");
    let err = p.pause().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("Host not connected"), "{err}");
    assert_eq!(
        p.home(polyprint::Axes::all()).await.unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // The cached features are kept while the host is away.
    assert!(p.features().await.unwrap().contains(Feature::Homing));
}

#[tokio::test]
async fn a_command_under_a_5xx_burst_is_sent_exactly_once() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::Moonraker).await;
    let p = mock.client();
    p.refresh().await.unwrap();
    for (name, status) in [
        ("pause", 503),
        ("set-temp", 502),
        ("home", 504),
        ("cancel", 601),
    ] {
        mock.server().clear_journal();
        mock.server().inject(Fault::Status { status, count: 5 });
        let r = match name {
            "pause" => p.pause().await,
            "set-temp" => p.set_target(Heater::Bed, 50.0).await,
            "home" => p.home(polyprint::Axes::all()).await,
            _ => p.cancel().await,
        };
        mock.server().clear_faults();
        let err = r.unwrap_err();
        // A gateway's 502-504 may hide a command the plugin got: unknown, never retryable.
        // 601 says the plugin is not connected: nothing reached the printer.
        if status == 601 {
            assert_eq!(err.kind(), ErrorKind::Unreachable, "{name}: {err}");
        } else {
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{name}: {err}");
            assert!(!err.is_retryable(), "{name}: {err}");
        }
        let journal = mock.server().journal();
        assert_eq!(journal.len(), 1, "{name}: {journal:?}");
        assert_eq!(journal[0].method, "POST");
        assert_eq!(
            journal[0].path,
            format!("/octoeverywhere-command-api/{name}")
        );
    }
    // Start looks the file up (a read, retried) and then sends the command once.
    mock.server().clear_journal();
    mock.server().inject(Fault::Status {
        status: 503,
        count: 5,
    });
    assert!(p.start_print(DEMO_FILE).await.is_err());
    mock.server().clear_faults();
    let posts: Vec<_> = mock
        .server()
        .journal()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(mock.printer().view().state, PrinterState::Idle);
}

#[tokio::test]
async fn temporary_service_statuses_are_retried_on_reads_only() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
    let p = mock.client();
    for status in [601, 602, 609] {
        mock.server().clear_journal();
        mock.server().inject(Fault::Status { status, count: 2 });
        p.status().await.unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(mock.server().request_count(), 3, "{status}");
    }
    // Beyond the attempts: the kind says it is temporary.
    mock.server().inject(Fault::Status {
        status: 601,
        count: 10,
    });
    let err = p.status().await.unwrap_err();
    mock.server().clear_faults();
    assert_eq!(err.kind(), ErrorKind::Unreachable);
    assert!(err.is_retryable());
    // Permanent statuses are not retried.
    for (status, kind) in [
        (603, ErrorKind::Auth),
        (604, ErrorKind::Auth),
        (606, ErrorKind::Auth),
        (607, ErrorKind::Api),
    ] {
        mock.server().clear_journal();
        mock.server().inject(Fault::Status { status, count: 1 });
        let err = p.status().await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        assert!(!err.is_retryable(), "{status}");
        assert_eq!(mock.server().request_count(), 1, "{status}");
    }
    mock.server().inject(Fault::Status {
        status: 605,
        count: 1,
    });
    let err = mock
        .builder()
        .app_id("app-42")
        .build()
        .unwrap()
        .status()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("nosupporterperks?appid=app-42"),
        "{err}"
    );
}

#[tokio::test]
async fn features_follow_the_host_profile() {
    for (platform, bits) in [
        (Platform::OctoPrint, 32),
        (Platform::Moonraker, 63),
        (Platform::Bambu, 33),
    ] {
        let mock = OctoEverywhereMock::start(VirtualPrinter::new(), platform).await;
        let p = mock.client();
        let f = p.refresh_features().await.unwrap();
        assert_eq!(f.bits() & 63, bits, "{platform:?}");
        assert!(f.contains(Feature::PauseResume | Feature::Cancel | Feature::FileList));
        assert!(f.contains(Feature::WebcamSnapshot | Feature::FailureDetection));
        assert!(!f.contains(Feature::FileUpload | Feature::GCode));
        // Refused by the core, before any request.
        mock.server().clear_journal();
        if bits & 16 == 0 {
            let err = p.set_target(Heater::Bed, 50.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported);
        }
        if bits & 1 == 0 {
            assert_eq!(
                p.set_light(true).await.unwrap_err().kind(),
                ErrorKind::Unsupported
            );
        }
        assert_eq!(mock.server().request_count(), 0);
    }
}

#[tokio::test]
async fn controls_reach_the_printer_with_the_documented_bodies() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::Moonraker).await;
    let p = mock.client();
    p.refresh().await.unwrap();
    // Limits are the plugin's ranges: refused before sending.
    mock.server().clear_journal();
    for (h, c) in [
        (Heater::Bed, 76.0),
        (Heater::Chamber, 80.0),
        (Heater::Tool(0), 261.0),
    ] {
        assert_eq!(
            p.set_target(h, c).await.unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(mock.server().request_count(), 0);
    p.set_target(Heater::Tool(1), 200.0).await.unwrap();
    p.set_temperatures(Temperatures {
        bed: Some(60.0),
        ..Temperatures::default()
    })
    .await
    .unwrap();
    p.jog(polyprint::Jog {
        x: Some(5.0),
        z: Some(1.0),
        ..Default::default()
    })
    .await
    .unwrap();
    p.extrude(-2.0).await.unwrap();
    p.set_light(true).await.unwrap();
    assert!(mock.printer().view().light_on);
    assert_eq!(mock.printer().view().position, [5.0, 0.0, 1.0]);
    // Homing some axes only is refused: the plugin would home all of them.
    mock.server().clear_journal();
    assert_eq!(
        p.home(polyprint::Axis::X.into()).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(mock.server().request_count(), 0);
    p.home(polyprint::Axes::all()).await.unwrap();
    assert_eq!(mock.printer().view().position, [0.0, 0.0, 0.0]);
    let bodies: Vec<Value> = mock
        .server()
        .journal()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies, vec![json!({})]);
    // Start sends the VirtualPath from files/list; smart pause sends its options.
    mock.server().clear_journal();
    p.start_print(DEMO_FILE).await.unwrap();
    p.pause_with(PauseOptions {
        smart_pause: true,
        z_lift_mm: 10,
        ..PauseOptions::default()
    })
    .await
    .unwrap();
    let journal = mock.server().journal();
    let paths: Vec<&str> = journal.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/octoeverywhere-command-api/files/list",
            "/octoeverywhere-command-api/start",
            "/octoeverywhere-command-api/pause"
        ]
    );
    let start: Value = serde_json::from_slice(&journal[1].body).unwrap();
    assert_eq!(start, json!({"Path": "gcode/demo-cube.gcode"}));
    let pause: Value = serde_json::from_slice(&journal[2].body).unwrap();
    assert_eq!(pause["SmartPause"], true);
    assert_eq!(pause["ZLiftMm"], 10);
    mock.printer().advance(Duration::from_secs(1));
    assert_eq!(p.status().await.unwrap().state, PrinterState::Paused);
}

#[tokio::test]
async fn snapshots_check_the_content_type() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::Bambu).await;
    let p = mock.client();
    let snap = p.webcam_snapshot(None).await.unwrap();
    assert_eq!(snap.snapshot.content_type, "image/jpeg");
    assert!(snap.snapshot.bytes.starts_with(&[0xFF, 0xD8]));
    assert_eq!(snap.transform.as_deref(), Some("none"));
    let err = p.webcam_snapshot(Some(3)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    mock.set_snapshot_available(false);
    assert_eq!(p.snapshot().await.unwrap_err().kind(), ErrorKind::NotFound);
    let list = p.webcams().await.unwrap();
    assert_eq!(list.webcams.len(), 1);
    assert!(list.webcams[0].snapshot_url.is_some());
}

#[tokio::test]
async fn basic_credentials_work_and_wrong_ones_are_auth() {
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
    let good = OctoEverywhere::builder(mock.uri())
        .basic(BASIC_USER, mock.credential().to_string())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    assert_eq!(good.ping().await.unwrap(), "Pong");
    let files = good.list_files().await.unwrap();
    assert!(files
        .iter()
        .any(|f| f.path == DEMO_FILE && f.size.is_some()));
    let bad = OctoEverywhere::builder(mock.uri())
        .basic(BASIC_USER, "wrong-password")
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let err = bad.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains("wrong-password"));
    assert!(!format!("{bad:?}").contains("wrong-password"));
}

#[tokio::test]
async fn a_fresh_client_learns_the_hosts_features_before_its_first_command() {
    // An OctoPrint host (Features 32) has no axis movement: before any status, the client
    // claims the declared set; its first command reads the status (a safe GET) and is then
    // refused as unsupported without being sent.
    let mock = OctoEverywhereMock::start(VirtualPrinter::new(), Platform::OctoPrint).await;
    let p = mock.client();
    assert!(!p.features_known());
    let err = Printer::jog(&p, polyprint::Jog::along(polyprint::Axis::X, 5.0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let methods: Vec<String> = mock
        .server()
        .journal()
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["GET"], "only the status was read");
    assert!(p.features_known());
    assert!(!Printer::features(&p)
        .await
        .unwrap()
        .contains(Feature::AxisMovement));
}
