//! The mock against the recordings of a real Moonraker 0.11 + Klipper (statuses, envelopes,
//! JSON keys, error texts, quirks), and the adapter against the mock: a print's lifecycle,
//! the wrong-state commands refused before anything is sent, push and REST agreeing, Klippy
//! restarts, an emergency stop, a Klippy that is not connected, auth.
#![cfg(feature = "mock")]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use polyprint::mockserver::quick_http;
use polyprint::sim::{SimConfig, VirtualPrinter, CANCELLING, DEMO_FILE, PAUSING};
use polyprint::{
    Axes, Axis, Backend, Error, ErrorKind, Feature, Heater, Jog, Printer, PrinterState,
    PrinterStatus, Upload,
};
use polyprint_moonraker::mock::{MoonrakerMock, MOCK_API_KEY};
use polyprint_moonraker::Moonraker;
use reqwest::Method;
use serde_json::{json, Value};

const RUN1_QUERY: &str = "/printer/objects/query?print_stats&virtual_sdcard&pause_resume&extruder=temperature,target,power&heater_bed=temperature,target,power&toolhead=position,homed_axes,print_time&webhooks&idle_timeout&display_status";
const RUN2_QUERY: &str = "/printer/objects/query?print_stats&virtual_sdcard&pause_resume&idle_timeout&webhooks&exclude_object&extruder=temperature,target,power&heater_bed=temperature,target,power";

fn sample(name: &str) -> Value {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/moonraker"
    ))
    .join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap()
}

/// The key paths of a JSON value (array elements merged under `[]`).
fn keys(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, at: String, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let p = format!("{at}.{k}");
                    out.insert(p.clone());
                    walk(v, p, out);
                }
            }
            Value::Array(a) => {
                for v in a {
                    walk(v, format!("{at}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(v, String::new(), &mut out);
    out
}

async fn raw(
    mock: &MoonrakerMock,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("{}{path}", mock.uri()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = r.bytes().await.unwrap();
    let v = if ct.starts_with("application/json") {
        serde_json::from_slice(&bytes).unwrap()
    } else {
        Value::Null
    };
    (status, v)
}

/// The mock's answer has the recording's status and keys.
async fn same_as(
    mock: &MoonrakerMock,
    method: Method,
    path: &str,
    body: Option<Value>,
    name: &str,
    status: u16,
) -> Value {
    same_but(mock, method, path, body, name, status, &[]).await
}

/// [`same_as`], where the mock may have `extra` keys the recording lacks (keys that depend
/// on the file: a slicer's estimate).
async fn same_but(
    mock: &MoonrakerMock,
    method: Method,
    path: &str,
    body: Option<Value>,
    name: &str,
    status: u16,
    extra: &[&str],
) -> Value {
    let (got_status, got) = raw(mock, method, path, body).await;
    assert_eq!(got_status, status, "{name}: status ({got})");
    let want = sample(name);
    let mut k = keys(&got);
    let mut w = keys(&want);
    // Tracebacks differ in depth only; warnings and lists may be empty on one side.
    for set in [&mut k, &mut w] {
        set.retain(|p| !p.starts_with(".result.warnings"));
    }
    k.retain(|p| !extra.contains(&p.as_str()));
    // A list empty on one side says nothing about its entries' keys.
    let (k0, w0) = (k.clone(), w.clone());
    let entries = |set: &BTreeSet<String>, list: &str| {
        set.iter().any(|p| p.starts_with(&format!("{list}[]")))
    };
    for (set, other) in [(&mut k, &w0), (&mut w, &k0)] {
        set.retain(|p| match p.split_once("[]") {
            Some((list, _)) => !other.contains(list) || entries(other, list),
            None => true,
        });
    }
    assert_eq!(k, w, "{name}: keys\nmock: {got}\nreal: {want}");
    if let Some(m) = want["error"]["message"].as_str() {
        assert_eq!(got["error"]["message"].as_str(), Some(m), "{name}: message");
    }
    got
}

fn adapter(mock: &MoonrakerMock) -> Moonraker {
    Moonraker::builder(mock.uri())
        .http(quick_http())
        .build()
        .unwrap()
}

fn commands_sent(mock: &MoonrakerMock) -> Vec<String> {
    mock.server()
        .journal()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn start_printing(mock: &MoonrakerMock) {
    let mut g = mock.printer().lock();
    g.start(DEMO_FILE).unwrap();
    g.advance(Duration::from_secs(2));
}

#[tokio::test]
async fn the_mock_answers_in_the_recorded_shapes() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    same_as(&mock, Method::GET, "/server/info", None, "server_info", 200).await;
    same_as(
        &mock,
        Method::GET,
        "/printer/info",
        None,
        "printer_info",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/objects/list",
        None,
        "printer_objects_list",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_standby",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/server/job_queue/status",
        None,
        "run2/job_queue_status_empty",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/server/files/roots",
        None,
        "run2/files_roots",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/access/info",
        None,
        "run2/access_info",
        200,
    )
    .await;
    // Commands on an idle printer: ok, as Klipper answers them (the adapter refuses them).
    for (path, name) in [
        ("/printer/print/pause", "run2/print_pause_idle"),
        ("/printer/print/resume", "run2/print_resume_idle"),
        ("/printer/print/cancel", "run2/print_cancel_idle"),
    ] {
        same_as(&mock, Method::POST, path, None, name, 200).await;
    }
    same_as(
        &mock,
        Method::GET,
        RUN2_QUERY,
        None,
        "run2/objects_query_after_pause_idle",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=FOO_BAR",
        None,
        "run2/gcode_unknown",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/server/gcode_store?count=3",
        None,
        "run2/gcode_store",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=M104%20S999",
        None,
        "run2/gcode_M104_out_of_range",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=SET_GCODE_OFFSET%20Z%3Dabc",
        None,
        "gcode_error",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=M104%20S210",
        None,
        "gcode_M104",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/start?filename=missing.gcode",
        None,
        "print_start_missing",
        400,
    )
    .await;
    // Files.
    let objects_gcode = std::fs::read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/moonraker/run2/objects.gcode"
    )))
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(objects_gcode).file_name("objects.gcode"),
    );
    let r = reqwest::Client::new()
        .post(format!("{}/server/files/upload", mock.uri()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let up: Value = r.json().await.unwrap();
    assert_eq!(keys(&up), keys(&sample("run2/files_upload")));
    same_as(
        &mock,
        Method::GET,
        "/server/files/list?root=gcodes",
        None,
        "run2/files_list",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/server/files/metadata?filename=objects.gcode",
        None,
        "run2/files_metadata",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/server/files/metadata?filename=missing.gcode",
        None,
        "run2/files_metadata_missing",
        404,
    )
    .await;
    same_as(
        &mock,
        Method::DELETE,
        "/server/files/gcodes/missing.gcode",
        None,
        "run2/files_delete_missing",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/server/job_queue/job?filenames=objects.gcode",
        None,
        "run2/job_queue_add",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::DELETE,
        "/server/job_queue/job?all=true",
        None,
        "run2/job_queue_delete_all",
        200,
    )
    .await;
    let cam = json!({"name": "ci-cam", "service": "mjpegstreamer", "stream_url": "/webcam/?action=stream", "snapshot_url": "/webcam/?action=snapshot"});
    same_as(
        &mock,
        Method::POST,
        "/server/webcams/item",
        Some(cam),
        "run2/webcams_add",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::DELETE,
        "/server/webcams/item?name=ci-cam",
        None,
        "run2/webcams_delete",
        200,
    )
    .await;
    // A print: printing, start while printing, delete in use, pause, paused, cancel.
    same_as(
        &mock,
        Method::POST,
        "/printer/print/start?filename=objects.gcode",
        None,
        "print_start",
        200,
    )
    .await;
    mock.printer().advance(Duration::from_secs(3));
    same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_printing",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/objects/query?exclude_object&print_stats",
        None,
        "run2/objects_query_exclude_object_printing",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/start?filename=objects.gcode",
        None,
        "run2/print_start_while_printing",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::DELETE,
        "/server/files/gcodes/objects.gcode",
        None,
        "run2/files_delete_in_use",
        403,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/resume",
        None,
        "run2/print_resume_while_printing",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=EXCLUDE_OBJECT%20NAME%3Dobject-1",
        None,
        "run2/gcode_exclude_object",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=EXCLUDE_OBJECT%20NAME%3Dnope",
        None,
        "run2/gcode_exclude_object_unknown",
        200,
    )
    .await;
    let after = same_as(
        &mock,
        Method::GET,
        "/printer/objects/query?exclude_object&print_stats",
        None,
        "run2/objects_query_exclude_object_after",
        200,
    )
    .await;
    assert_eq!(
        after["result"]["status"]["exclude_object"]["excluded_objects"],
        json!(["NOPE", "OBJECT-1"])
    );
    same_as(
        &mock,
        Method::POST,
        "/printer/print/pause",
        None,
        "print_pause",
        200,
    )
    .await;
    mock.printer().advance(PAUSING);
    same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_paused",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/pause",
        None,
        "run2/print_pause_while_paused",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/resume",
        None,
        "print_resume",
        200,
    )
    .await;
    mock.printer().advance(Duration::from_secs(1));
    same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_resumed",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/cancel",
        None,
        "print_cancel",
        200,
    )
    .await;
    mock.printer().advance(CANCELLING);
    let c = same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_cancelled",
        200,
    )
    .await;
    assert_eq!(c["result"]["status"]["print_stats"]["state"], "cancelled");
    assert_eq!(
        c["result"]["status"]["virtual_sdcard"]["file_path"],
        Value::Null
    );
    same_as(
        &mock,
        Method::GET,
        RUN2_QUERY,
        None,
        "run2/objects_query_cancelled_2",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=SDCARD_RESET_FILE",
        None,
        "run2/gcode_sdcard_reset_file",
        200,
    )
    .await;
    let reset = same_as(
        &mock,
        Method::GET,
        RUN2_QUERY,
        None,
        "run2/objects_query_after_reset_file",
        200,
    )
    .await;
    assert_eq!(reset["result"]["status"]["print_stats"]["state"], "standby");
    // To the end.
    same_as(
        &mock,
        Method::POST,
        "/printer/print/start?filename=objects.gcode",
        None,
        "print_start_2",
        200,
    )
    .await;
    mock.printer().advance(Duration::from_secs(3600));
    let done = same_as(
        &mock,
        Method::GET,
        RUN1_QUERY,
        None,
        "objects_query_complete",
        200,
    )
    .await;
    assert_eq!(done["result"]["status"]["print_stats"]["state"], "complete");
    assert_eq!(done["result"]["status"]["virtual_sdcard"]["progress"], 1.0);
    // As recorded: the finished file is closed, its size and position kept.
    let recorded = sample("objects_query_complete");
    for field in ["file_path", "is_active"] {
        assert_eq!(
            done["result"]["status"]["virtual_sdcard"][field],
            recorded["result"]["status"]["virtual_sdcard"][field],
            "{field}"
        );
    }
    same_as(
        &mock,
        Method::GET,
        "/server/history/totals",
        None,
        "run2/history_totals",
        200,
    )
    .await;
    // Paused, then a start: accepted, the paused job abandoned (the quirk).
    same_as(
        &mock,
        Method::POST,
        "/printer/print/start?filename=objects.gcode",
        None,
        "print_start",
        200,
    )
    .await;
    mock.printer().advance(Duration::from_secs(1));
    same_as(
        &mock,
        Method::POST,
        "/printer/print/pause",
        None,
        "print_pause",
        200,
    )
    .await;
    mock.printer().advance(PAUSING);
    same_as(
        &mock,
        Method::POST,
        &format!("/printer/print/start?filename={DEMO_FILE}"),
        None,
        "run2/print_start_while_paused",
        200,
    )
    .await;
    let (_, q) = raw(&mock, Method::GET, RUN2_QUERY, None).await;
    assert_eq!(q["result"]["status"]["print_stats"]["state"], "printing");
    assert_eq!(q["result"]["status"]["print_stats"]["filename"], DEMO_FILE);
    assert_eq!(
        q["result"]["status"]["pause_resume"]["is_paused"], true,
        "the pause flag stays"
    );
    let (s, e) = raw(&mock, Method::POST, "/printer/print/resume", None).await;
    assert_eq!((s, e["error"]["message"].as_str()), (400, Some("SD busy")));
    // The history now holds files with and without heater commands, like the recording's.
    same_but(
        &mock,
        Method::GET,
        "/server/history/list?limit=6&order=desc",
        None,
        "run2/history_list_2",
        200,
        &[".result.jobs[].metadata.estimated_time"],
    )
    .await;
    // An emergency stop: shutdown everywhere, printer routes refuse with Klippy's text.
    same_as(
        &mock,
        Method::POST,
        "/printer/emergency_stop",
        None,
        "estop",
        200,
    )
    .await;
    let shut = same_as(
        &mock,
        Method::GET,
        "/printer/info",
        None,
        "printer_info_shutdown",
        200,
    )
    .await;
    assert_eq!(
        shut["result"]["state_message"],
        sample("printer_info_shutdown")["result"]["state_message"]
    );
    same_as(
        &mock,
        Method::GET,
        "/server/info",
        None,
        "server_info_shutdown",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=G28",
        None,
        "run2/gcode_G28_shutdown",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=M105",
        None,
        "run2/gcode_shutdown",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        &format!("/printer/print/start?filename={DEMO_FILE}"),
        None,
        "run2/print_start_shutdown",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/print/pause",
        None,
        "run2/print_pause_shutdown",
        400,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/firmware_restart",
        None,
        "firmware_restart",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/info",
        None,
        "printer_info_after_restart",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::POST,
        "/printer/restart",
        None,
        "run2/printer_restart",
        200,
    )
    .await;
}

#[tokio::test]
async fn auth_and_a_missing_klippy_answer_as_recorded() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    mock.require_api_key(true);
    same_as(
        &mock,
        Method::GET,
        "/server/info",
        None,
        "run2/auth_no_key",
        401,
    )
    .await;
    let r = reqwest::Client::new()
        .get(format!("{}/server/info", mock.uri()))
        .header("X-Api-Key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(keys(&body), keys(&sample("run2/auth_wrong_key")));
    // Klippy never connected since Moonraker started: the printer routes are 404.
    let offline = VirtualPrinter::with_config(SimConfig {
        connected: false,
        ..SimConfig::default()
    });
    let mock = MoonrakerMock::start(offline).await;
    same_as(
        &mock,
        Method::GET,
        "/server/info",
        None,
        "no-klipper/server_info",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/info",
        None,
        "no-klipper/printer_info",
        404,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/objects/query?print_stats&webhooks",
        None,
        "no-klipper/printer_objects_query_print_stats_webhooks",
        404,
    )
    .await;
    // Connected once, then lost: 503 "Klippy Host not connected".
    mock.printer().lock().connect();
    let (s, _) = raw(&mock, Method::GET, "/printer/info", None).await;
    assert_eq!(s, 200);
    mock.printer().lock().disconnect();
    let (s, e) = raw(
        &mock,
        Method::POST,
        "/printer/gcode/script?script=M105",
        None,
    )
    .await;
    assert_eq!(
        (s, e["error"]["message"].as_str()),
        (503, Some("Klippy Host not connected"))
    );
    // Klippy up without its MCU: startup.
    mock.set_offline_as_startup(true);
    same_as(
        &mock,
        Method::GET,
        "/printer/objects/query?webhooks&print_stats",
        None,
        "run2/objects_query_no_mcu",
        200,
    )
    .await;
    same_as(
        &mock,
        Method::GET,
        "/printer/info",
        None,
        "run2/printer_info_no_mcu",
        200,
    )
    .await;
}

/// A state read (the status of the printer) must not count as a command.
fn no_command_since(mock: &MoonrakerMock, before: usize, what: &str) {
    let sent = commands_sent(mock);
    assert_eq!(sent.len(), before, "{what} sent {:?}", &sent[before..]);
}

async fn refused(
    mock: &MoonrakerMock,
    r: polyprint::Result<()>,
    kind: ErrorKind,
    what: &str,
) -> Error {
    let before = commands_sent(mock).len();
    let e = r.expect_err(what);
    assert_eq!(e.kind(), kind, "{what}: {e}");
    no_command_since(mock, before, what);
    e
}

#[tokio::test]
async fn wrong_state_commands_are_refused_before_sending() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    p.features().await.unwrap();
    mock.server().clear_journal();
    use ErrorKind::*;
    // Idle: Moonraker would answer ok (and pause would set Klipper's pause flag).
    refused(&mock, p.pause().await, InvalidState, "pause when idle").await;
    refused(&mock, p.resume().await, InvalidState, "resume when idle").await;
    refused(&mock, p.cancel().await, InvalidState, "cancel when idle").await;
    refused(
        &mock,
        p.cancel_object(0).await,
        InvalidState,
        "cancel_object when idle",
    )
    .await;
    let e = refused(
        &mock,
        p.send_gcode(&["FOO_BAR".into()]).await,
        InvalidArgument,
        "unknown G-code",
    )
    .await;
    assert!(e.to_string().contains("FOO_BAR"), "{e}");
    refused(
        &mock,
        p.send_gcode(&["G28".into(), "M106 S255".into()]).await,
        InvalidArgument,
        "M106 without a fan",
    )
    .await;
    refused(
        &mock,
        p.set_target(Heater::Chamber, 40.0).await,
        InvalidArgument,
        "no chamber",
    )
    .await;
    refused(
        &mock,
        p.set_target(Heater::Tool(1), 200.0).await,
        InvalidArgument,
        "no second tool",
    )
    .await;
    refused(&mock, p.extrude(5.0).await, InvalidState, "cold extrusion").await;
    refused(
        &mock,
        p.jog(Jog::along(Axis::X, 300.0)).await,
        InvalidArgument,
        "past the axis's travel (jog limit)",
    )
    .await;
    refused(
        &mock,
        p.jog(Jog::along(Axis::X, -1.0)).await,
        InvalidArgument,
        "below 0",
    )
    .await;
    mock.set_homed("");
    let e = refused(
        &mock,
        p.jog(Jog::along(Axis::Y, 1.0)).await,
        InvalidState,
        "unhomed",
    )
    .await;
    assert!(e.to_string().contains("home y"), "{e}");
    mock.set_homed("xyz");
    // Printing.
    start_printing(&mock);
    refused(
        &mock,
        p.start_print(DEMO_FILE).await,
        InvalidState,
        "start while printing",
    )
    .await;
    refused(
        &mock,
        p.resume().await,
        InvalidState,
        "resume while printing",
    )
    .await;
    refused(
        &mock,
        p.jog(Jog::along(Axis::X, 1.0)).await,
        InvalidState,
        "jog while printing",
    )
    .await;
    refused(
        &mock,
        p.home(Axes::all()).await,
        InvalidState,
        "home while printing",
    )
    .await;
    refused(&mock, p.cancel_object(7).await, NotFound, "no object 7").await;
    p.cancel_object(1).await.unwrap();
    refused(&mock, p.cancel_object(1).await, NotFound, "object 1 again").await;
    // An unknown name excluded by hand shows in excluded_objects; it is no object of ours.
    mock.printer().lock().pause().unwrap();
    mock.printer().advance(PAUSING);
    // Paused: Moonraker would abandon the job and start the new one.
    let e = refused(
        &mock,
        p.start_print(DEMO_FILE).await,
        InvalidState,
        "start while paused",
    )
    .await;
    assert!(e.to_string().contains("abandon"), "{e}");
    refused(&mock, p.pause().await, InvalidState, "pause while paused").await;
    // Moves are allowed while paused (a filament change).
    mock.server().clear_journal();
    p.jog(Jog::along(Axis::Z, 1.0)).await.unwrap();
    assert_eq!(commands_sent(&mock), ["POST /printer/gcode/script"]);
    // The jog left the mode as it was (the script restores the G-code state).
    assert!(!mock.state().relative);
    // Klippy down: every command refused without a request.
    mock.printer().lock().disconnect();
    mock.server().clear_journal();
    for (what, r) in [
        ("start", p.start_print(DEMO_FILE).await),
        ("pause", p.pause().await),
        ("home", p.home(Axis::X.into()).await),
    ] {
        let e = refused(&mock, r, InvalidState, what).await;
        assert!(e.to_string().contains("not connected"), "{e}");
    }
    assert!(!mock
        .server()
        .journal()
        .iter()
        .any(|r| r.path.starts_with("/printer/")));
}

#[tokio::test]
async fn a_failing_jog_restores_the_gcode_state() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    // Klipper stops a script at its first failing line: the restore at its end never runs.
    let script = "SAVE_GCODE_STATE NAME=T\nG91\nG1 X999\nRESTORE_GCODE_STATE NAME=T";
    let (s, e) = raw(
        &mock,
        Method::POST,
        "/printer/gcode/script",
        Some(json!({ "script": script })),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Move out of range"),
        "{e}"
    );
    assert!(mock.state().relative, "left in relative mode");
    let (s, _) = raw(
        &mock,
        Method::POST,
        "/printer/gcode/script",
        Some(json!({"script": "RESTORE_GCODE_STATE NAME=T"})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!mock.state().relative);
    // So when a jog's script is refused, the adapter restores the state with one more
    // command (here the refusal is injected: the checks before sending catch the real ones).
    let p = adapter(&mock);
    p.features().await.unwrap();
    mock.server().clear_journal();
    mock.server()
        .inject(polyprint::mockserver::Fault::OnCommands(Box::new(
            polyprint::mockserver::Fault::Status {
                status: 400,
                count: 1,
            },
        )));
    let e = p.jog(Jog::along(Axis::X, 10.0)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let posts: Vec<_> = mock
        .server()
        .journal()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].faulted);
    let second: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(second["script"], "RESTORE_GCODE_STATE NAME=POLYPRINT_STATE");
    // A lost answer is not a refusal: nothing more is sent.
    mock.server().clear_journal();
    mock.server()
        .inject(polyprint::mockserver::Fault::OnCommands(Box::new(
            polyprint::mockserver::Fault::Drop { count: 1 },
        )));
    let e = p.jog(Jog::along(Axis::X, 10.0)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{e}");
    assert_eq!(commands_sent(&mock).len(), 1);
}

#[tokio::test]
async fn a_print_lifecycle_through_the_adapter() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    let features = p.features().await.unwrap();
    for f in [
        Feature::PrintStart,
        Feature::PauseResume,
        Feature::Cancel,
        Feature::ObjectCancel,
        Feature::TemperatureControl,
        Feature::GCode,
        Feature::JobHistory,
        Feature::PrintQueue,
        Feature::WebcamSnapshot,
        Feature::StatusPush,
    ] {
        assert!(features.contains(f), "{f}");
    }
    assert!(!features.contains(Feature::LightControl));
    let l = p.limits();
    assert_eq!(
        (l.tool_max, l.bed_max, l.jog_max_mm, l.extrude_max_mm),
        (300.0, 120.0, 250.0, 50.0)
    );
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Idle, "standby")
    );
    assert_eq!(s.heaters.len(), 2);
    assert!(s.job.is_none());

    p.start_print(DEMO_FILE).await.unwrap();
    // Right at the start nothing is printed and the heaters are cold: warming up.
    assert_eq!(p.status().await.unwrap().state, PrinterState::WarmingUp);
    mock.printer().advance(Duration::from_secs(3));
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Printing);
    let j = s.job.unwrap();
    assert_eq!(j.file.as_deref(), Some(DEMO_FILE));
    assert!(j.progress.unwrap() > 0.0 && j.progress.unwrap() < 100.0);
    // The demo file says ;TIME:60: the metadata's estimate gives the time left.
    assert!(
        j.remaining.is_some() && j.remaining.unwrap() < Duration::from_secs(60),
        "{j:?}"
    );
    // No slicer's filament total in the demo file (Klipper's metadata has none either).
    assert_eq!(j.filament_mm, None);
    p.pause().await.unwrap();
    mock.printer().advance(PAUSING);
    assert_eq!(p.status().await.unwrap().state, PrinterState::Paused);
    p.resume().await.unwrap();
    mock.printer().advance(Duration::from_secs(1));
    assert_eq!(p.status().await.unwrap().state, PrinterState::Printing);
    p.cancel().await.unwrap();
    mock.printer().advance(CANCELLING);
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Cancelled, "cancelled")
    );
    assert_eq!(
        s.job.unwrap().progress,
        None,
        "a cancelled job's file is unloaded"
    );
    // The cancel macro turns the heaters off.
    assert!(s.heaters.iter().all(|h| h.target == Some(0.0)));
    p.clear_last_job().await.unwrap();
    assert_eq!(p.status().await.unwrap().state, PrinterState::Idle);
    p.start_print(DEMO_FILE).await.unwrap();
    mock.printer().advance(Duration::from_secs(3600));
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Finished);
    assert_eq!(s.job.unwrap().progress, Some(100.0));
    let history = p.job_history(5).await.unwrap();
    assert_eq!(
        history.iter().map(|j| j.outcome).collect::<Vec<_>>(),
        [
            polyprint::JobOutcome::Finished,
            polyprint::JobOutcome::Cancelled
        ]
    );
    assert_eq!(history[0].id, "000002");
    // Finished stays until the next start, which Klipper takes.
    p.start_print(DEMO_FILE).await.unwrap();
    p.cancel().await.unwrap();
    mock.printer().advance(CANCELLING);

    // Manual controls.
    p.set_target(Heater::Bed, 55.5).await.unwrap();
    assert_eq!(
        p.status()
            .await
            .unwrap()
            .heater(Heater::Bed)
            .unwrap()
            .target,
        Some(55.5)
    );
    p.set_target(Heater::Tool(0), 210.0).await.unwrap();
    mock.printer().advance(Duration::from_secs(30));
    p.extrude(5.0).await.unwrap();
    p.extrude(-2.0).await.unwrap();
    p.home(Axis::X | Axis::Y).await.unwrap();
    p.jog(Jog {
        x: Some(10.0),
        y: Some(5.0),
        z: None,
        speed: Some(1200.0),
    })
    .await
    .unwrap();
    assert_eq!(mock.printer().view().position[..2], [10.0, 5.0]);
    p.send_gcode(&[
        "M117 hello".into(),
        "set_heater_temperature heater=extruder target=0".into(),
    ])
    .await
    .unwrap();
    assert!(mock.gcode_store().iter().any(|m| m == "M117 hello"));
    let snap = p.snapshot().await.unwrap();
    assert_eq!(snap.content_type, "image/jpeg");
    assert!(snap.bytes.starts_with(&[0xFF, 0xD8]));

    // Files: a subfolder, metadata, delete.
    let gcode = "; generated by PrusaSlicer 2.6.0\nG28\nG1 Z0.2 F600\nG1 X10 Y10 F6000\n; estimated printing time (normal mode) = 1h 2m 3s\n; filament used [mm] = 123.45\n";
    let entry = p
        .upload(Upload::from_bytes("sub dir/part (1).gcode", gcode))
        .await
        .unwrap();
    assert_eq!(
        (entry.path.as_str(), entry.name.as_str()),
        ("sub dir/part (1).gcode", "part (1).gcode")
    );
    assert_eq!(entry.size, Some(gcode.len() as u64));
    let files = p.list_files().await.unwrap();
    let listed = files.iter().find(|f| f.path == entry.path).unwrap();
    assert_eq!(listed.estimated_time, Some(Duration::from_secs(3723)));
    p.enqueue(&entry.path).await.unwrap();
    assert_eq!(
        p.print_queue().await.unwrap().last().unwrap().file,
        entry.path
    );
    p.delete_file(&entry.path).await.unwrap();
    let e = p.delete_file(&entry.path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = p.start_print("missing.gcode").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Every command went out once.
    let posts = commands_sent(&mock);
    assert!(posts.iter().all(|c| !c.contains("/api/")), "{posts:?}");
}

/// What two statuses of the same moment share exactly.
fn moment(s: &PrinterStatus) -> impl PartialEq + std::fmt::Debug {
    let targets: Vec<_> = s
        .heaters
        .iter()
        .map(|h| (h.heater, h.target, h.actual))
        .collect();
    (
        s.state,
        s.raw_state.clone(),
        s.message.clone(),
        s.job.clone(),
        targets,
    )
}

async fn next(feed: &mut polyprint::watch::StatusFeed) -> PrinterStatus {
    tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("a push within 5 s")
        .expect("the feed goes on")
        .expect("a pushed status")
}

/// Pushed statuses until one satisfies `done`.
async fn until(
    feed: &mut polyprint::watch::StatusFeed,
    done: impl Fn(&PrinterStatus) -> bool,
) -> PrinterStatus {
    for _ in 0..40 {
        let s = next(feed).await;
        if done(&s) {
            return s;
        }
    }
    panic!("the feed never showed what was waited for");
}

#[tokio::test]
async fn push_and_rest_agree() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    let mut feed = p.status_feed().await.unwrap();
    let first = next(&mut feed).await;
    assert_eq!(moment(&first), moment(&p.status().await.unwrap()), "idle");
    start_printing(&mock);
    let pushed = until(&mut feed, |s| s.state == PrinterState::Printing).await;
    assert_eq!(
        moment(&pushed),
        moment(&p.status().await.unwrap()),
        "printing"
    );
    p.pause().await.unwrap();
    mock.printer().advance(PAUSING);
    let pushed = until(&mut feed, |s| s.state == PrinterState::Paused).await;
    assert_eq!(
        moment(&pushed),
        moment(&p.status().await.unwrap()),
        "paused"
    );
    p.cancel().await.unwrap();
    mock.printer().advance(CANCELLING);
    let pushed = until(&mut feed, |s| s.state == PrinterState::Cancelled).await;
    assert_eq!(
        moment(&pushed),
        moment(&p.status().await.unwrap()),
        "cancelled"
    );
    // An emergency stop: shutdown, with Klipper's message.
    p.emergency_stop().await.unwrap();
    let pushed = until(&mut feed, |s| s.state == PrinterState::Error).await;
    let read = p.status().await.unwrap();
    assert_eq!(moment(&pushed), moment(&read), "shutdown");
    assert_eq!(read.raw_state, "shutdown");
    assert!(
        read.message
            .as_deref()
            .unwrap()
            .starts_with("Shutdown due to webhooks request"),
        "{read:?}"
    );
    // A firmware restart: Klippy goes away and comes back; the feed subscribes again.
    p.firmware_restart().await.unwrap();
    let pushed = until(&mut feed, |s| s.state == PrinterState::Idle).await;
    assert_eq!(
        moment(&pushed),
        moment(&p.status().await.unwrap()),
        "after the restart"
    );
    start_printing(&mock);
    until(&mut feed, |s| s.state == PrinterState::Printing).await;
    // Klippy disconnected, then back.
    mock.printer().lock().disconnect();
    let pushed = until(&mut feed, |s| s.state == PrinterState::Offline).await;
    assert_eq!(
        moment(&pushed),
        moment(&p.status().await.unwrap()),
        "disconnected"
    );
    mock.printer().lock().connect();
    until(&mut feed, |s| s.state == PrinterState::Idle).await;
}

#[tokio::test]
async fn the_push_channel_follows_the_credential() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    mock.require_api_key(true);
    let keyless = adapter(&mock);
    let e = keyless.status().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let e = match keyless.status_feed().await {
        Ok(mut feed) => feed.next().await.unwrap().unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let keyed = Moonraker::builder(mock.uri())
        .api_key(MOCK_API_KEY)
        .http(quick_http())
        .build()
        .unwrap();
    assert_eq!(keyed.status().await.unwrap().state, PrinterState::Idle);
    let mut feed = keyed.status_feed().await.unwrap();
    assert_eq!(next(&mut feed).await.state, PrinterState::Idle);
    let wrong = Moonraker::builder(mock.uri())
        .api_key("wrong-key")
        .http(quick_http())
        .build()
        .unwrap();
    let e = wrong.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-key"));
}

#[tokio::test]
async fn offline_and_startup_are_offline() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    mock.printer().lock().disconnect();
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Offline, "disconnected")
    );
    mock.set_offline_as_startup(true);
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Offline, "startup")
    );
    assert!(s.message.unwrap().contains("Printer is not ready"));
    // Features cannot be confirmed without Klippy: declared, asked again later.
    assert!(p.features().await.unwrap().contains(Feature::PauseResume));
    assert!(!p.capabilities_confirmed());
    mock.printer().lock().connect();
    p.features().await.unwrap();
    assert!(p.capabilities_confirmed());
}

#[tokio::test]
async fn status_latency_on_the_mock() {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    p.status().await.unwrap();
    let n = 50;
    let started = Instant::now();
    for _ in 0..n {
        p.status().await.unwrap();
    }
    let each = started.elapsed() / n;
    println!("status() latency on the mock: {each:?} per call ({n} calls)");
}

/// The mock's websocket answers in the recorded shapes: identify's and subscribe's answers
/// and a `notify_status_update` as in `ws_subscribe_stream.json`.
#[tokio::test]
async fn the_mock_websocket_answers_in_the_recorded_shapes() {
    use polyprint::socket::SocketConfig;
    let recorded: Vec<Value> = serde_json::from_value(sample("ws_subscribe_stream")).unwrap();
    let by_id = |id: u64| {
        recorded
            .iter()
            .find(|m| m["id"] == json!(id))
            .unwrap()
            .clone()
    };
    let first_update = recorded
        .iter()
        .find(|m| m["method"] == "notify_status_update")
        .unwrap()
        .clone();
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    let mut ws = p
        .transport()
        .websocket("websocket", SocketConfig::default())
        .await
        .unwrap();
    ws.send_json(
        &json!({"jsonrpc": "2.0", "method": "server.connection.identify",
        "params": json!({"client_name": "polyprint", "version": env!("CARGO_PKG_VERSION"), "type": "other", "url": "https://example.invalid/polyprint"}), "id": 1}),
    )
    .await
    .unwrap();
    // The objects the recording subscribed to.
    let objects = json!({"print_stats": null, "virtual_sdcard": ["progress", "is_active"],
        "extruder": ["temperature", "target"], "heater_bed": ["temperature", "target"],
        "pause_resume": null, "webhooks": null});
    ws.send_json(
        &json!({"jsonrpc": "2.0", "method": "printer.objects.subscribe",
        "params": {"objects": objects}, "id": 2}),
    )
    .await
    .unwrap();
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let m: Value = ws.next_json().await.unwrap();
        if m.get("id").is_some() {
            answers.push(m);
        }
    }
    answers.sort_by_key(|m| m["id"].as_u64());
    assert_eq!(keys(&answers[0]), keys(&by_id(1)));
    assert_eq!(keys(&answers[1]), keys(&by_id(2)));
    start_printing(&mock);
    let update = loop {
        let m: Value = ws.next_json().await.unwrap();
        if m["method"] == "notify_status_update" && m["params"][0].get("print_stats").is_some() {
            break m;
        }
    };
    assert!(update["params"][1].is_f64(), "{update}");
    // The recording's first update has the job's start: the same objects changed.
    let changed = |m: &Value| {
        m["params"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    assert!(
        changed(&first_update).is_subset(&changed(&update)),
        "{update}"
    );
}

/// Commands can have a longer timeout than reads (a cancel during `M109` is answered late),
/// and still count as this client's commands.
#[tokio::test]
async fn commands_can_wait_longer_than_reads() {
    use polyprint::mockserver::Fault;
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let http = polyprint::transport::HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..quick_http()
    };
    start_printing(&mock);
    let quick = Moonraker::builder(mock.uri())
        .http(http.clone())
        .build()
        .unwrap();
    mock.server()
        .inject(Fault::OnCommands(Box::new(Fault::Late {
            delay: Duration::from_millis(800),
            count: 1,
        })));
    let e = quick.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{e}");
    mock.printer().advance(PAUSING);
    let patient = Moonraker::builder(mock.uri())
        .http(http)
        .command_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let count = Backend::commands(&patient).unwrap();
    mock.server()
        .inject(Fault::OnCommands(Box::new(Fault::Late {
            delay: Duration::from_millis(800),
            count: 1,
        })));
    patient.resume().await.unwrap();
    assert_eq!(count.count(), 1);
    // The registry's option does the same, and refuses nonsense.
    let endpoint = polyprint::Endpoint {
        url: Some(mock.uri()),
        ..polyprint::Endpoint::default()
    };
    let ok = endpoint.clone().with_option("command_timeout", "120");
    assert!(polyprint_moonraker::DESCRIPTOR
        .open(&ok, quick_http())
        .is_ok());
    for bad in ["0", "-1", "soon", "1e9"] {
        let e = polyprint_moonraker::DESCRIPTOR
            .open(
                &endpoint.clone().with_option("command_timeout", bad),
                quick_http(),
            )
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
    // No credential is needed: the descriptor opens a trusted client.
    assert_eq!(polyprint_moonraker::DESCRIPTOR.fields().credential, None);
}

/// A Moonraker that lists the `webcam` component but has no webcam route (404) has no camera
/// to claim: learning its features does not fail on it.
#[tokio::test]
async fn a_webcam_component_without_its_route_claims_no_snapshot() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/server/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": {
            "klippy_connected": true, "klippy_state": "startup",
            "components": ["webcam", "history"], "failed_components": []}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/server/webcams/list"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": 404, "message": "Not Found"}})),
        )
        .mount(&server)
        .await;
    let p = Moonraker::builder(server.uri())
        .http(quick_http())
        .build()
        .unwrap();
    let features = p.features().await.unwrap();
    assert!(!features.contains(Feature::WebcamSnapshot));
    assert!(features.contains(Feature::JobHistory));
}
