//! The adapter against its mock: lifecycle, commands sent once, capabilities TTL, refresh,
//! and the mock's faithfulness to the real wire format.
#![cfg(feature = "mock")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use polyprint::mockserver::Fault;
use polyprint::sim::{VirtualPrinter, CANCELLING, DEMO_FILE, PAUSING, RESUMING};
use polyprint::{Backend, Error, Feature, Heater, JobOutcome, Printer, PrinterState, Upload};
use polyprint_prusa_connect::mock::PrusaConnectMock;
use polyprint_prusa_connect::{Credentials, PrusaConnect};
use serde_json::{json, Value};

async fn setup() -> (PrusaConnectMock, PrusaConnect) {
    let mock = PrusaConnectMock::start(VirtualPrinter::new()).await;
    let p = PrusaConnect::builder(mock.uri())
        .token(mock.token())
        .printer(mock.printer_uuid())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    (mock, p)
}

fn posts(mock: &PrusaConnectMock) -> Vec<Value> {
    mock.server()
        .journal()
        .iter()
        .filter(|r| r.path.ends_with("/commands/sync"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn lifecycle_start_pause_resume_cancel_object_stop() {
    let (mock, p) = setup().await;
    // Before anything was read: the declared set, not yet confirmed.
    assert_eq!(
        Backend::capabilities(&p),
        polyprint_prusa_connect::declared_features()
    );
    assert!(!p.capabilities_confirmed());
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Idle, "IDLE")
    );
    let f = p.features().await.unwrap();
    assert!(f.contains(Feature::ObjectCancel | Feature::PrintStart | Feature::LightControl));
    assert!(!f.contains(Feature::GCode), "CORE One has no SEND_GCODE");
    assert_eq!(p.limits().bed_max, 150.0);

    p.start_print(DEMO_FILE).await.unwrap();
    mock.printer().advance(Duration::from_secs(2));
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Printing);
    let job = s.job.unwrap();
    assert!(job.progress.unwrap() > 0.0 && job.remaining.is_some());

    p.pause().await.unwrap();
    mock.printer().advance(PAUSING);
    assert_eq!(p.status().await.unwrap().state, PrinterState::Paused);
    p.resume().await.unwrap();
    mock.printer().advance(RESUMING);
    assert_eq!(p.status().await.unwrap().state, PrinterState::Printing);

    p.cancel_object(1).await.unwrap();
    assert!(mock.printer().view().objects[1].cancelled);
    let err = p.cancel_object(1).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. }),
        "already cancelled: {err}"
    );
    let err = p.cancel_object(42).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");

    p.cancel().await.unwrap();
    mock.printer().advance(CANCELLING);
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Cancelled, "STOPPED")
    );

    let sent: Vec<String> = posts(&mock)
        .iter()
        .map(|b| b["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sent,
        [
            "START_PRINT",
            "PAUSE_PRINT",
            "RESUME_PRINT",
            "CANCEL_OBJECT",
            "STOP_PRINT"
        ]
    );
    assert_eq!(posts(&mock)[0]["kwargs"]["path"], "/usb/demo-cube.gcode");

    let history = p.job_history(10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].outcome, JobOutcome::Cancelled);
}

#[tokio::test]
async fn through_the_adapter_reads_retry_and_the_command_goes_once() {
    let (mock, p) = setup().await;
    mock.printer().lock().start(DEMO_FILE).unwrap();
    p.status().await.unwrap();
    mock.server().clear_journal();
    // The adapter's state read before the command meets the burst and is retried; the
    // command itself goes out once.
    mock.server().inject(Fault::Status {
        status: 503,
        count: 2,
    });
    p.pause().await.unwrap();
    let j = mock.server().journal();
    let gets = j.iter().filter(|r| r.method == "GET").count();
    let post: Vec<_> = j.iter().filter(|r| r.method == "POST").collect();
    assert_eq!((gets, post.len()), (3, 1), "{j:?}");
    assert!(!post[0].faulted);
}

#[tokio::test]
async fn command_burst_journal_exact() {
    let (mock, p) = setup().await;
    mock.printer().lock().start(DEMO_FILE).unwrap();
    p.status().await.unwrap();
    // Serve the pre-command GET, then fault the POST (and anything after) with 502s.
    let client = p.client().clone();
    mock.server().clear_journal();
    mock.server().inject(Fault::Status {
        status: 502,
        count: 4,
    });
    let err = client
        .send_command(mock.printer_uuid(), "PAUSE_PRINT", serde_json::Map::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 502, .. }), "{err}");
    let j = mock.server().journal();
    assert_eq!(j.len(), 1, "sent exactly once: {j:?}");
    assert!(j[0].faulted && j[0].method == "POST");
    // A read under the same burst is retried.
    mock.server().clear_journal();
    p.status().await.unwrap();
    assert_eq!(
        mock.server().journal().len(),
        4,
        "3 faulted GETs + 1 answered"
    );
}

#[tokio::test]
async fn invalid_state_and_bad_arguments_send_nothing() {
    let (mock, p) = setup().await;
    p.status().await.unwrap();
    let err = p.pause().await.unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    let err = p.extrude(5.0).await.unwrap_err();
    assert!(err.to_string().contains("170"), "cold nozzle: {err}");
    let err = p.extrude(-20.0).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { .. }),
        "MOVE_E min -10: {err}"
    );
    let err = p.set_target(Heater::Bed, 151.0).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let err = p.set_target(Heater::Chamber, 30.0).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(posts(&mock).is_empty());

    let c = p.client();
    let uuid = mock.printer_uuid();
    for (name, args) in [
        ("NOPE", json!({})),
        ("START_PRINT", json!({})),
        ("SET_SPEED", json!({"speed": "fast"})),
        ("SET_SPEED", json!({"speed": 301})),
    ] {
        let err = c
            .execute_command(uuid, name, args.as_object().unwrap().clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { .. }),
            "{name}: {err}"
        );
    }
    assert!(posts(&mock).is_empty());
    // The mock itself answers 409 with the pre-command state when asked directly.
    let err = c
        .send_command(uuid, "PAUSE_PRINT", Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");

    p.set_target(Heater::Bed, 60.0).await.unwrap();
    p.set_target(Heater::Tool(0), 215.0).await.unwrap();
    mock.printer().advance(Duration::from_secs(20));
    p.extrude(5.0).await.unwrap();
    p.jog(polyprint::Jog {
        x: Some(10.0),
        z: Some(1.0),
        ..Default::default()
    })
    .await
    .unwrap();
    p.home(polyprint::Axis::X | polyprint::Axis::Z)
        .await
        .unwrap();
    p.set_light(true).await.unwrap();
    let names: Vec<String> = posts(&mock)
        .iter()
        .skip(1)
        .map(|b| b["command"].as_str().unwrap().into())
        .collect();
    assert_eq!(
        names,
        [
            "SET_HEATBED_TEMPERATURE",
            "SET_NOZZLE_TEMPERATURE",
            "MOVE_E",
            "MOVE",
            "MOVE_Z",
            "HOME",
            "SET_CHAMBER_LED_INTENSITY"
        ]
    );
    let view = mock.printer().view();
    assert_eq!(
        view.position,
        [0.0, 0.0, 0.0],
        "homed X and Z after moving; Y never moved"
    );
    assert!(view.light_on);
    let s = p.status().await.unwrap();
    assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(60.0));
}

#[tokio::test]
async fn capabilities_cache_really_expires() {
    let mock = PrusaConnectMock::start(VirtualPrinter::new()).await;
    let p = PrusaConnect::builder(mock.uri())
        .token(mock.token())
        .printer(mock.printer_uuid())
        .http(polyprint::mockserver::quick_http())
        .capabilities_ttl(Duration::from_millis(150))
        .build()
        .unwrap();
    let fetches = || {
        mock.server()
            .journal()
            .iter()
            .filter(|r| r.path.ends_with("/supported-commands"))
            .count()
    };
    p.status().await.unwrap();
    p.status().await.unwrap();
    assert_eq!(fetches(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(p.supported_commands().is_none(), "expired");
    p.status().await.unwrap();
    assert_eq!(fetches(), 2);
    // Without a camera, snapshots are narrowed away.
    mock.set_camera(false);
    p.refresh_capabilities().await.unwrap();
    assert!(!p
        .features()
        .await
        .unwrap()
        .contains(Feature::WebcamSnapshot));
}

#[tokio::test]
async fn files_upload_snapshot_and_queue() {
    let (mock, p) = setup().await;
    p.status().await.unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let data = "G28\n;LAYER:0\nG1 X1 Y1 E1\n".repeat(5000);
    let up = Upload::from_bytes("part.gcode", data.clone()).on_progress(move |pr| {
        s2.store(pr.sent, Ordering::SeqCst);
    });
    let entry = p.upload(up).await.unwrap();
    assert_eq!(entry.path, "usb/part.gcode");
    assert_eq!(sent.load(Ordering::SeqCst), data.len() as u64);
    let put = mock
        .server()
        .journal()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.header("content-type"), Some("text/x.gcode"));
    assert_eq!(put.body.len(), data.len());
    let files = p.list_files().await.unwrap();
    assert!(files
        .iter()
        .any(|f| f.path == "usb/part.gcode" && f.size == Some(data.len() as u64)));
    p.start_print(&entry.path).await.unwrap();
    assert_eq!(mock.printer().view().job.unwrap().file.name, "part.gcode");

    let snap = p.snapshot().await.unwrap();
    assert_eq!(snap.content_type, "image/jpeg");
    assert_eq!(&snap.bytes[..], polyprint::sim::WEBCAM_JPEG);
    // 304 only for conditional requests.
    let c = p.client();
    let img = c.snapshot(414362, None).await.unwrap().unwrap();
    let tag = img.etag.unwrap();
    assert!(c.snapshot(414362, Some(&tag)).await.unwrap().is_none());
    assert!(c
        .snapshot(414362, Some("\"other\""))
        .await
        .unwrap()
        .is_some());
    let err = c.snapshot(1, None).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. }) && err.to_string().contains("NOT_FOUND_SNAPSHOT")
    );

    c.add_to_queue(mock.printer_uuid(), "/usb/demo-cube.gcode", 0, false)
        .await
        .unwrap();
    let q = c.queue(mock.printer_uuid(), 10, 0).await.unwrap();
    assert_eq!(q.items.len(), 1);
    assert!(q.pager.unwrap().from.is_some());
    let team = c.team_files(1).await.unwrap();
    assert_eq!(team.items.len(), 1);
    let hash = team.items[0].hash.clone().unwrap();
    assert_eq!(hash.len(), 28);
    assert_eq!(
        c.download_team_file(1, &hash).await.unwrap().len(),
        data.len()
    );
    assert!(p.delete_file("usb/demo-cube.gcode").await.is_ok());
}

#[tokio::test]
async fn prusa_surface_against_the_mock() {
    let (mock, p) = setup().await;
    let c = p.client();
    let uuid = mock.printer_uuid();
    let cfg = c.app_config().await.unwrap();
    assert_eq!(cfg.auth.backends, ["PRUSA_AUTH"]);
    let cfg_req = mock
        .server()
        .journal()
        .into_iter()
        .find(|r| r.path == "/app/config")
        .unwrap();
    assert!(
        cfg_req.header("authorization").is_none(),
        "public: no credentials sent"
    );
    assert_eq!(c.printer_types().await.unwrap()[0].id, "7.1.0");
    assert_eq!(c.all_printers().await.unwrap().len(), 1);
    assert_eq!(
        c.supported_commands(uuid)
            .await
            .unwrap()
            .definitions()
            .len(),
        48
    );
    mock.printer().lock().start(DEMO_FILE).unwrap();
    mock.printer().advance(Duration::from_secs(60));
    let jobs = c
        .printer_jobs(
            uuid,
            &polyprint_prusa_connect::JobQuery {
                states: vec!["FIN_OK".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(jobs.items.len(), 1);
    assert!(jobs.pager.as_ref().unwrap().to.is_some());
    let id = jobs.items[0].id;
    c.set_failure_reason(
        uuid,
        id,
        &polyprint_prusa_connect::FailureTag::ALL,
        Some("note"),
    )
    .await
    .unwrap();
    assert_eq!(c.job(uuid, id).await.unwrap().reason.unwrap().tag.len(), 14);
    assert_eq!(
        c.team_jobs(&Default::default()).await.unwrap().items.len(),
        1
    );
    let w = polyprint_prusa_connect::Window {
        from: 1_767_000_000,
        to: 1_768_000_000,
    };
    assert_eq!(c.stats_usage(uuid, w).await.unwrap().data.len(), 2);
    assert_eq!(c.stats_material(uuid, w).await.unwrap().data[0].name, "PLA");
    assert_eq!(
        c.stats_planned_tasks(uuid, w).await.unwrap().x_axis.len(),
        24
    );
    assert_eq!(
        c.stats_jobs_success(uuid, w).await.unwrap().series[0].data,
        [1.0]
    );
    assert!(c
        .events(uuid, None, 5)
        .await
        .unwrap()
        .pager
        .unwrap()
        .total
        .is_none());
    assert_eq!(c.teams().await.unwrap().items[0].id, 1);
    assert_eq!(c.team(1).await.unwrap().users.len(), 1);
    let invite = polyprint_prusa_connect::wire::Invite {
        email: "a@b.c".into(),
        rights_ro: true,
        rights_use: false,
        rights_rw: false,
    };
    c.invite_user(1, &invite).await.unwrap();
    assert_eq!(mock.invited(), ["a@b.c"]);
    assert_eq!(c.storages(uuid).await.unwrap()[0].mountpoint, "/usb");
    assert_eq!(c.cameras().await.unwrap().items.len(), 1);
    assert_eq!(c.notifications(10, 0).await.unwrap().items.len(), 0);
    assert_eq!(c.unseen_notifications().await.unwrap(), 0);
    assert_eq!(c.version().await.unwrap().commit, "0mock000");
}

#[tokio::test]
async fn auth_refresh_and_secrets() {
    let mock = PrusaConnectMock::start(VirtualPrinter::new()).await;
    let bad = PrusaConnect::builder(mock.uri())
        .token("wrong-token-XYZ")
        .printer(mock.printer_uuid())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let err = bad.status().await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert!(
        !err.to_string().contains("wrong-token-XYZ")
            && !format!("{bad:?}").contains("wrong-token-XYZ")
    );

    // An expiring token is refreshed first, against the configured token endpoint.
    let claims = polyprint_prusa_connect::mock::make_token("x", "access");
    let near = {
        let mut parts: Vec<String> = claims.split('.').map(String::from).collect();
        parts[1] = "eyJleHAiOjEwfQ".into(); // {"exp":10}
        parts.join(".")
    };
    mock.expire_tokens();
    mock.server().clear_journal();
    let creds = Credentials::token(near)
        .with_refresh_token(mock.refresh_token())
        .with_token_url(mock.token_url());
    let p = PrusaConnect::builder(mock.uri())
        .credentials(creds)
        .printer(mock.printer_uuid())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    assert_eq!(p.status().await.unwrap().state, PrinterState::Idle);
    let j = mock.server().journal();
    assert_eq!(j[0].path, "/o/token/");
    assert!(!String::from_utf8_lossy(&j[0].body).is_empty());
    // The rotated refresh token is kept: a second forced refresh works.
    p.client().refresh_token().await.unwrap();
    // A wrong refresh token is an Auth error without the token in it.
    let creds = Credentials::token("a")
        .with_refresh_token("bad-refresh-SECRET")
        .with_token_url(mock.token_url());
    let q = PrusaConnect::builder(mock.uri())
        .credentials(creds)
        .printer(mock.printer_uuid())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let err = q.client().refresh_token().await.unwrap_err();
    assert!(
        matches!(err, Error::Auth { .. }) && !err.to_string().contains("SECRET"),
        "{err}"
    );
}

#[tokio::test]
async fn mock_wire_format_is_faithful() {
    let (mock, p) = setup().await;
    let c = reqwest::Client::new();
    let get = |path: &str, auth: bool| {
        let mut r = c.get(format!("{}{path}", mock.uri()));
        if auth {
            r = r.bearer_auth(mock.token());
        }
        r.send()
    };
    let r = get("/app/printers", false).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Missing or invalid security token", "code": "UNAUTHORIZED"})
    );
    let r = get("/app/nowhere", true).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "NOT_FOUND_ENDPOINT"
    );

    // Supported commands: exactly the real capture.
    let real: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/samples/prusa-connect/ha-prusa-connect/supported_commands.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let served: Value = get(
        &format!("/app/printers/{}/supported-commands", mock.printer_uuid()),
        true,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(served, real);

    // No nulls anywhere; offline printers keep a sticky state and lose telemetry.
    mock.printer().lock().start(DEMO_FILE).unwrap();
    mock.printer().advance(Duration::from_secs(1));
    mock.printer()
        .lock()
        .set_attention(Some("Filament runout".into()));
    let uuid = mock.printer_uuid().to_string();
    for path in [
        "/app/printers",
        &format!("/app/printers/{uuid}"),
        &format!("/app/printers/{uuid}/jobs"),
        &format!("/app/printers/{uuid}/jobs/1"),
        &format!("/app/printers/{uuid}/files"),
    ] {
        let body = get(path, true).await.unwrap().text().await.unwrap();
        assert!(!body.contains("null"), "{path}: {body}");
    }
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Attention, "ATTENTION")
    );
    assert_eq!(s.message.as_deref(), Some("ATTENTION: Filament runout"));
    mock.printer().lock().disconnect();
    let d: Value = get(&format!("/app/printers/{uuid}"), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (d["connect_state"].as_str(), d["printer_state"].as_str()),
        (Some("OFFLINE"), Some("ATTENTION"))
    );
    assert!(d.get("temp").is_none() && d.get("job_info").is_none());
    assert_eq!(p.status().await.unwrap().state, PrinterState::Offline);
    let err = p.cancel().await.unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");

    // Jobs: the real shape, not the SUSPECT sample's.
    let jobs: Value = get(&format!("/app/printers/{uuid}/jobs"), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pager = &jobs["pager"];
    assert!(pager["from"].is_i64() && pager["to"].is_i64() && pager["total"].is_u64());
    for j in jobs["jobs"].as_array().unwrap() {
        for suspect in ["files", "ts_started", "ts_ended", "mode", "data"] {
            assert!(j.get(suspect).is_none(), "{suspect} in {j}");
        }
        assert!(j["file"]["type"] == "PRINT_FILE");
    }
    // sync answers {command, event} with the pre-command state; kwargs may be absent.
    mock.printer().lock().connect();
    mock.printer().lock().start(DEMO_FILE).unwrap();
    let r = c
        .post(format!("{}/app/printers/{uuid}/commands/sync", mock.uri()))
        .bearer_auth(mock.token())
        .json(&json!({"command": "STOP_PRINT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["command"]["state"].as_str(), v["event"]["state"].as_str()),
        (Some("CREATED"), Some("PRINTING"))
    );
    // The PATCH of a failure reason and the raw PUT answer 204 with no body.
    let r = c
        .patch(format!("{}/app/printers/{uuid}/jobs/2", mock.uri()))
        .bearer_auth(mock.token())
        .json(&json!({"reason": {"tag": ["WARPING"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
}

/// The printer's file list pages by `limit` and `offset`, and its pager says what was asked.
#[tokio::test]
async fn printer_files_page_by_limit_and_offset() {
    let (mock, p) = setup().await;
    p.upload(Upload::from_bytes("second.gcode", "G28\n"))
        .await
        .unwrap();
    let get = |q: &'static str| {
        let url = format!(
            "{}/app/printers/{}/files{q}",
            mock.uri(),
            mock.printer_uuid()
        );
        let token = mock.token().to_string();
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let all = get("").await;
    let total = all["pager"]["total"].as_u64().unwrap();
    assert!(total >= 2, "{all}");
    assert_eq!(all["pager"]["limit"], 100);
    let one = get("?limit=1&offset=1").await;
    assert_eq!(one["files"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(
        (
            one["pager"]["limit"].clone(),
            one["pager"]["offset"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(one["files"][0], all["files"][1]);
    assert_eq!(one["pager"]["total"], total);
}

#[tokio::test]
async fn previews_camera_triggers_error_order_and_event_sources_are_as_captured() {
    let (mock, p) = setup().await;
    let c = reqwest::Client::new();
    let token = mock.token().to_string();
    let get = |path: String| {
        c.get(format!("{}{path}", mock.uri()))
            .bearer_auth(&token)
            .send()
    };

    // Error bodies carry `message` before `code`, byte for byte as captured.
    let r = get("/app/nowhere".into()).await.unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"Endpoint not found","code":"NOT_FOUND_ENDPOINT"}"#
    );

    // Every file's preview_url serves a PNG; an unknown hash is 404.
    let uuid = mock.printer_uuid().to_string();
    let files: Value = get(format!("/app/printers/{uuid}/files"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let preview = files["files"][0]["preview_url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = get(preview).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let r = get(format!(
        "/app/teams/{}/files/nope/preview",
        polyprint_prusa_connect::mock::TEAM_ID
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 404);

    // A camera can be asked for a fresh snapshot (inferred: 204), by its token.
    mock.set_camera(true);
    let trigger = |token: &str| {
        c.post(format!("{}/app/cameras/{token}/snapshots", mock.uri()))
            .bearer_auth(mock.token())
            .send()
    };
    let camera_token = polyprint_prusa_connect::mock::CAMERA_TOKEN;
    assert_eq!(trigger(camera_token).await.unwrap().status(), 204);
    assert_eq!(trigger("not-a-camera").await.unwrap().status(), 404);

    // A command that changes no state leaves no STATE_CHANGED event; one that does leaves
    // one with the printer as its source; job records say UNKNOWN.
    let events = || async {
        let v: Value = get(format!("/app/printers/{uuid}/events"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["events"].as_array().cloned().unwrap_or_default()
    };
    let before = events().await.len();
    p.set_target(Heater::Bed, 50.0).await.unwrap();
    assert_eq!(
        events().await.len(),
        before,
        "a heater target changes no state"
    );
    p.start_print(DEMO_FILE).await.unwrap();
    let after = events().await;
    assert_eq!(after.len(), before + 1);
    assert!(after.iter().all(|e| e["source"] == "UNKNOWN"), "{after:?}");
    let jobs: Value = get(format!("/app/printers/{uuid}/jobs"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jobs["jobs"][0]["source"], "UNKNOWN", "{jobs}");
}
