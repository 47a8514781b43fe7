//! Mock fidelity: the same requests to the Moonraker mock and to a real Moonraker + Klipper
//! must give the same status codes, content types, JSON key structure (values may differ),
//! the same error texts, and the same states at the points that matter (after a pause, a
//! cancel, a reset, a finished print, an emergency stop and a firmware restart); and their
//! websockets the same message shapes.
//!
//! Runs when `MOONRAKER_URL` points at a fresh real stack
//! (`scripts/moonraker/with-server.sh cargo test -p polyprint-moonraker --features mock --test
//! fidelity`); otherwise it says loudly that it skipped.
#![cfg(feature = "mock")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use polyprint::sim::{VirtualPrinter, CANCELLING, PAUSING};
use polyprint::socket::SocketConfig;
use polyprint_moonraker::mock::MoonrakerMock;
use polyprint_moonraker::Moonraker;
use reqwest::Method;
use serde_json::{json, Value};

const LONG: &str = "fidelity-long.gcode";
const SHORT: &str = "fidelity-short.gcode";

/// What the adapter's status read asks for.
const STATUS_QUERY: &str = "/printer/objects/query?webhooks&print_stats&virtual_sdcard&pause_resume&idle_timeout&display_status&extruder=temperature,target&heater_bed=temperature,target";
/// What its command checks add.
const CHECK_QUERY: &str = "/printer/objects/query?webhooks&print_stats&toolhead=position,homed_axes,extruder&exclude_object";

fn gcode(layers: u32) -> String {
    let mut g = String::from(
        "; fidelity\nEXCLUDE_OBJECT_DEFINE NAME=part_a CENTER=50,50 POLYGON=[[40,40],[60,40],[60,60],[40,60]]\n\
         EXCLUDE_OBJECT_DEFINE NAME=part_b CENTER=150,50 POLYGON=[[140,40],[160,40],[160,60],[140,60]]\nG28\nG90\n",
    );
    g.push_str(&format!("SET_PRINT_STATS_INFO TOTAL_LAYER={layers}\n"));
    for layer in 1..=layers {
        g.push_str(&format!(
            "SET_PRINT_STATS_INFO CURRENT_LAYER={layer}\nG1 Z{:.1} F600\n",
            0.2 * f64::from(layer)
        ));
        for (name, x) in [("part_a", 40), ("part_b", 140)] {
            g.push_str(&format!("EXCLUDE_OBJECT_START NAME={name}\n"));
            for (dx, dy) in [(0, 0), (20, 0), (20, 20), (0, 20), (0, 0)] {
                g.push_str(&format!("G1 X{} Y{} F6000\n", x + dx, 40 + dy));
            }
            g.push_str(&format!("EXCLUDE_OBJECT_END NAME={name}\n"));
        }
    }
    g
}

/// Where both printers must be before a step: the mock's clock moves, the real one is polled.
#[derive(Clone, Copy, Debug)]
enum Settle {
    /// `print_stats.state` is this.
    Print(&'static str),
    /// Klippy is ready.
    Ready,
    /// Klippy is in shutdown.
    Shutdown,
}

/// Values compared exactly (beside the shapes).
type Pick = fn(&Value) -> Value;

struct Step {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    upload: Option<(&'static str, u32)>,
    key: Option<&'static str>,
    settle: Option<Settle>,
    pick: Option<Pick>,
}

fn step(name: &'static str, method: Method, path: impl Into<String>) -> Step {
    Step {
        name,
        method,
        path: path.into(),
        body: None,
        upload: None,
        key: None,
        settle: None,
        pick: None,
    }
}

fn get(name: &'static str, path: impl Into<String>) -> Step {
    step(name, Method::GET, path)
}

fn post(name: &'static str, path: impl Into<String>) -> Step {
    step(name, Method::POST, path)
}

fn script(name: &'static str, script: &str) -> Step {
    Step {
        body: Some(json!({ "script": script })),
        ..post(name, "/printer/gcode/script")
    }
}

impl Step {
    fn after(mut self, s: Settle) -> Step {
        self.settle = Some(s);
        self
    }
    fn pick(mut self, p: Pick) -> Step {
        self.pick = Some(p);
        self
    }
}

fn error_message(v: &Value) -> Value {
    v["error"]["message"].clone()
}

fn print_state(v: &Value) -> Value {
    let s = &v["result"]["status"];
    json!([
        s["print_stats"]["state"],
        s["webhooks"]["state"],
        s["pause_resume"]["is_paused"]
    ])
}

fn sequence() -> Vec<Step> {
    vec![
        get("server info", "/server/info").pick(|v| v["result"]["klippy_state"].clone()),
        get("printer info", "/printer/info").pick(|v| v["result"]["state"].clone()),
        get("objects list", "/printer/objects/list").pick(|v| {
            let mut names: Vec<String> = v["result"]["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            names.sort();
            json!(names)
        }),
        get("gcode help", "/printer/gcode/help"),
        get("status objects", STATUS_QUERY).pick(print_state),
        get("check objects", CHECK_QUERY),
        get("access info", "/access/info"),
        get("files roots", "/server/files/roots"),
        get("webcams", "/server/webcams/list"),
        get("queue", "/server/job_queue/status"),
        get("history empty", "/server/history/list?limit=3&order=desc"),
        Step {
            upload: Some((LONG, 12)),
            ..post("upload long", "/server/files/upload")
        },
        Step {
            upload: Some((SHORT, 1)),
            ..post("upload short", "/server/files/upload")
        },
        get("files", "/server/files/list?root=gcodes"),
        get(
            "metadata",
            format!("/server/files/metadata?filename={LONG}"),
        ),
        get(
            "metadata missing",
            "/server/files/metadata?filename=missing.gcode",
        )
        .pick(error_message),
        step(
            "delete missing",
            Method::DELETE,
            "/server/files/gcodes/missing.gcode",
        )
        .pick(error_message),
        post("pause idle", "/printer/print/pause"),
        get("after pause idle", STATUS_QUERY).pick(print_state),
        post("resume idle", "/printer/print/resume"),
        post("cancel idle", "/printer/print/cancel"),
        get("after cancel idle", STATUS_QUERY).pick(print_state),
        script("unknown gcode", "FOO_BAR"),
        get("gcode store", "/server/gcode_store?count=2").pick(|v| {
            json!(v["result"]["gcode_store"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["message"].clone())
                .collect::<Vec<_>>())
        }),
        script("temperature out of range", "M104 S999").pick(error_message),
        script("unparsable", "SET_GCODE_OFFSET Z=abc").pick(error_message),
        script("home", "G28"),
        script("move out of range", "G90\nG1 X-5 F6000").pick(error_message),
        script("cold extrusion", "M83\nG1 E5 F300").pick(error_message),
        script(
            "set bed",
            "SET_HEATER_TEMPERATURE HEATER=heater_bed TARGET=25",
        ),
        get("bed target", STATUS_QUERY)
            .pick(|v| v["result"]["status"]["heater_bed"]["target"].clone()),
        script("bed off", "M140 S0"),
        post(
            "start missing",
            "/printer/print/start?filename=missing.gcode",
        )
        .pick(error_message),
        post("start", format!("/printer/print/start?filename={LONG}")),
        get("printing", STATUS_QUERY)
            .after(Settle::Print("printing"))
            .pick(|v| {
                let s = &v["result"]["status"];
                json!([
                    print_state(v),
                    s["virtual_sdcard"]["file_path"].is_string(),
                    s["virtual_sdcard"]["is_active"],
                    s["idle_timeout"]["state"],
                    s["print_stats"]["info"]["total_layer"]
                ])
            }),
        post(
            "start while printing",
            format!("/printer/print/start?filename={SHORT}"),
        )
        .pick(error_message),
        step(
            "delete while printing",
            Method::DELETE,
            format!("/server/files/gcodes/{LONG}"),
        )
        .pick(error_message),
        post("resume while printing", "/printer/print/resume"),
        script("exclude part_b", "EXCLUDE_OBJECT NAME=part_b"),
        get(
            "objects after exclude",
            "/printer/objects/query?exclude_object&print_stats",
        )
        .pick(|v| v["result"]["status"]["exclude_object"]["excluded_objects"].clone()),
        post("pause", "/printer/print/pause"),
        get("paused", STATUS_QUERY)
            .after(Settle::Print("paused"))
            .pick(|v| {
                let s = &v["result"]["status"];
                json!([
                    print_state(v),
                    s["virtual_sdcard"]["file_path"].is_string(),
                    s["virtual_sdcard"]["is_active"]
                ])
            }),
        post("pause while paused", "/printer/print/pause"),
        post(
            "start while paused",
            format!("/printer/print/start?filename={LONG}"),
        ),
        get("after start while paused", STATUS_QUERY)
            .after(Settle::Print("printing"))
            .pick(print_state),
        post("cancel", "/printer/print/cancel"),
        get("cancelled", STATUS_QUERY)
            .after(Settle::Print("cancelled"))
            .pick(|v| {
                let s = &v["result"]["status"];
                json!([
                    s["print_stats"]["state"],
                    s["virtual_sdcard"]["file_path"],
                    s["virtual_sdcard"]["progress"],
                    s["pause_resume"]["is_paused"]
                ])
            }),
        script("reset file", "SDCARD_RESET_FILE"),
        get("after reset", STATUS_QUERY)
            .after(Settle::Print("standby"))
            .pick(print_state),
        post(
            "start short",
            format!("/printer/print/start?filename={SHORT}"),
        ),
        get("complete", STATUS_QUERY)
            .after(Settle::Print("complete"))
            .pick(|v| {
                let s = &v["result"]["status"];
                let sd = &s["virtual_sdcard"];
                json!([
                    s["print_stats"]["state"],
                    sd["file_path"],
                    sd["progress"],
                    sd["is_active"],
                    s["print_stats"]["info"]
                ])
            }),
        get("history", "/server/history/list?limit=3&order=desc").pick(|v| {
            json!(v["result"]["jobs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|j| j["status"].clone())
                .collect::<Vec<_>>())
        }),
        Step {
            body: Some(json!({"filenames": [SHORT]})),
            ..post("enqueue", "/server/job_queue/job")
        },
        post(
            "enqueue missing",
            "/server/job_queue/job?filenames=missing.gcode",
        )
        .pick(error_message),
        step(
            "queue clear",
            Method::DELETE,
            "/server/job_queue/job?all=true",
        ),
        Step {
            key: Some("polyprint-wrong-key"),
            ..get("wrong key", "/server/info")
        },
        get("unknown route", "/server/no_such_route"),
        post("emergency stop", "/printer/emergency_stop"),
        get("server info shutdown", "/server/info")
            .after(Settle::Shutdown)
            .pick(|v| v["result"]["klippy_state"].clone()),
        get(
            "objects shutdown",
            "/printer/objects/query?webhooks&print_stats",
        )
        .pick(|v| v["result"]["status"]["webhooks"].clone()),
        post(
            "start shutdown",
            format!("/printer/print/start?filename={SHORT}"),
        )
        .pick(error_message),
        script("M105 shutdown", "M105"),
        script("G28 shutdown", "G28").pick(error_message),
        post("firmware restart", "/printer/firmware_restart"),
        get("after restart", STATUS_QUERY)
            .after(Settle::Ready)
            .pick(print_state),
        get("homed after restart", CHECK_QUERY)
            .pick(|v| v["result"]["status"]["toolhead"]["homed_axes"].clone()),
        step(
            "delete",
            Method::DELETE,
            format!("/server/files/gcodes/{SHORT}"),
        ),
    ]
}

#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    content_type: String,
    shape: Option<Value>,
    picked: Option<Value>,
}

/// The key structure: objects keep their keys, leaves become their type.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::Null => Value::Null,
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
    }
}

/// Paths that differ; `null` on either side matches anything (timing decides whether a
/// field is set), lists compare their first entries, a traceback's depth is the server's.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(x), Value::Object(y)) => {
            for k in x
                .keys()
                .chain(y.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => diff(&p, l, r, out),
                    (Some(_), None) => out.push(format!("{p}: only in mock")),
                    (None, Some(_)) => out.push(format!("{p}: only in real")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if let (Some(l), Some(r)) = (x.first(), y.first()) {
                diff(&format!("{path}[0]"), l, r, out);
            }
        }
        _ if a != b => out.push(format!("{path}: mock {a} vs real {b}")),
        _ => {}
    }
}

async fn run(client: &reqwest::Client, base: &str, s: &Step) -> Observed {
    let mut req = client.request(s.method.clone(), format!("{base}{}", s.path));
    if let Some(k) = s.key {
        req = req.header("X-Api-Key", k);
    }
    if let Some(b) = &s.body {
        req = req.json(b);
    }
    if let Some((name, layers)) = s.upload {
        let part = reqwest::multipart::Part::bytes(gcode(layers).into_bytes())
            .file_name(name)
            .mime_str("application/octet-stream")
            .unwrap();
        req = req.multipart(
            reqwest::multipart::Form::new()
                .text("root", "gcodes")
                .part("file", part),
        );
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = r.bytes().await.expect("body");
    let body: Option<Value> = content_type
        .starts_with("application/json")
        .then(|| serde_json::from_slice(&bytes).expect("JSON body"));
    let mut shape = body.as_ref().map(shape);
    // Tracebacks differ in text only; warnings in number.
    if let Some(Value::Object(m)) = shape.as_mut() {
        if let Some(Value::Object(e)) = m.get_mut("error") {
            e.remove("traceback");
        }
    }
    Observed {
        status,
        content_type,
        picked: match (s.pick, &body) {
            (Some(p), Some(b)) => Some(p(b)),
            _ => None,
        },
        shape,
    }
}

async fn real_state(client: &reqwest::Client, base: &str) -> (String, String) {
    let v: Value = client
        .get(format!("{base}/printer/objects/query?print_stats&webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    let s = &v["result"]["status"];
    (
        s["print_stats"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        s["webhooks"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn settle(client: &reqwest::Client, real: &str, mock: &MoonrakerMock, s: Settle) {
    let p = mock.printer();
    match s {
        Settle::Print("printing") => p.advance(Duration::from_secs(2)),
        Settle::Print("paused") => p.advance(PAUSING),
        Settle::Print("cancelled") => p.advance(CANCELLING),
        Settle::Print("complete") => p.advance(Duration::from_secs(3600)),
        _ => {}
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (print, klippy) = real_state(client, real).await;
        let done = match s {
            Settle::Print(want) => klippy == "ready" && print == want,
            Settle::Ready => klippy == "ready",
            Settle::Shutdown => klippy == "shutdown",
        };
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the real server never reached {s:?} ({print}, {klippy})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_and_real_moonraker_answer_alike() {
    let Ok(real) = std::env::var("MOONRAKER_URL") else {
        println!(
            "SKIPPED mock fidelity against a real Moonraker: MOONRAKER_URL not set \
             (run under scripts/moonraker/with-server.sh)"
        );
        return;
    };
    assert!(
        real.starts_with("http://127.0.0.1:"),
        "tests only talk to 127.0.0.1, not {real}"
    );
    websockets_alike(&real).await;
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let client = reqwest::Client::new();
    let mut mismatches: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    println!("\nmock fidelity: Moonraker mock vs real Moonraker at {real}");
    println!(
        "{:<26} {:<7} {:>5} {:>5}  result",
        "step", "method", "mock", "real"
    );
    let started = Instant::now();
    for s in sequence() {
        if let Some(settled) = s.settle {
            settle(&client, &real, &mock, settled).await;
        }
        let m = run(&client, &mock.uri(), &s).await;
        let r = run(&client, &real, &s).await;
        let mut problems = Vec::new();
        if m.status != r.status {
            problems.push(format!("status mock {} vs real {}", m.status, r.status));
        }
        if m.content_type != r.content_type {
            problems.push(format!(
                "content type mock {:?} vs real {:?}",
                m.content_type, r.content_type
            ));
        }
        if let (Some(a), Some(b)) = (&m.shape, &r.shape) {
            diff("$", a, b, &mut problems);
        }
        if m.picked != r.picked {
            problems.push(format!("values mock {:?} vs real {:?}", m.picked, r.picked));
        }
        println!(
            "{:<26} {:<7} {:>5} {:>5}  {}{}",
            s.name,
            s.method.as_str(),
            m.status,
            r.status,
            if problems.is_empty() {
                "same"
            } else {
                "DIFFERENT"
            },
            r.picked
                .as_ref()
                .map(|p| format!("  {p}"))
                .unwrap_or_default()
        );
        if !problems.is_empty() {
            mismatches.insert(s.name, problems);
        }
    }
    println!("fidelity sequence: {:?}", started.elapsed());
    // Leave the real server as found: the long file deleted too.
    let _ = client
        .delete(format!("{real}/server/files/gcodes/{LONG}"))
        .send()
        .await;
    assert!(
        mismatches.is_empty(),
        "mock and real Moonraker differ:\n{mismatches:#?}"
    );
}

/// The websocket's messages on one server: identify's and subscribe's answers, an unknown
/// method's error, the first `notify_status_update` after a bed target, and the Klippy
/// notifications of a firmware restart.
async fn socket_messages(base: &str) -> (Vec<(&'static str, Value)>, Vec<String>) {
    let p = Moonraker::new(base).unwrap();
    let mut ws = p
        .transport()
        .websocket("websocket", SocketConfig::default())
        .await
        .unwrap();
    let identify = json!({"client_name": "polyprint", "version": env!("CARGO_PKG_VERSION"), "type": "other", "url": "https://example.invalid/polyprint"});
    ws.send_json(&json!({"jsonrpc": "2.0", "method": "server.connection.identify", "params": identify, "id": 1}))
        .await
        .unwrap();
    let objects = json!({"webhooks": null, "print_stats": null, "virtual_sdcard": null, "pause_resume": null,
        "idle_timeout": null, "display_status": null, "extruder": ["temperature", "target"],
        "heater_bed": ["temperature", "target"]});
    ws.send_json(&json!({"jsonrpc": "2.0", "method": "printer.objects.subscribe", "params": {"objects": objects}, "id": 2}))
        .await
        .unwrap();
    ws.send_json(&json!({"jsonrpc": "2.0", "method": "no.such.method", "id": 3}))
        .await
        .unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < 3 && Instant::now() < deadline {
        let m: Value = ws.next_json().await.unwrap();
        match m.get("id").and_then(Value::as_u64) {
            Some(1) => out.push(("identify", m)),
            Some(2) => out.push(("subscribe", m)),
            Some(3) => out.push(("unknown method", m)),
            _ => {}
        }
    }
    out.sort_by_key(|(k, _)| *k);
    let client = reqwest::Client::new();
    client
        .post(format!("{base}/printer/gcode/script"))
        .json(&json!({"script": "M140 S21"}))
        .send()
        .await
        .unwrap();
    loop {
        let m: Value = ws.next_json().await.unwrap();
        if m["method"] == "notify_status_update" && m["params"][0]["heater_bed"]["target"] == 21.0 {
            out.push(("status update", m));
            break;
        }
    }
    client
        .post(format!("{base}/printer/gcode/script"))
        .json(&json!({"script": "M140 S0"}))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/printer/firmware_restart"))
        .send()
        .await
        .unwrap();
    let mut klippy = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let m: Value = ws.next_json().await.unwrap();
        if let Some(method) = m["method"]
            .as_str()
            .filter(|m| m.starts_with("notify_klippy_"))
        {
            klippy.push(method.to_string());
            if method == "notify_klippy_ready" {
                break;
            }
        }
    }
    (out, klippy)
}

async fn websockets_alike(real: &str) {
    let mock = MoonrakerMock::start(VirtualPrinter::new()).await;
    let (m, mk) = socket_messages(&mock.uri()).await;
    let (r, rk) = socket_messages(real).await;
    let kinds = |v: &[(&'static str, Value)]| v.iter().map(|(k, _)| *k).collect::<Vec<&str>>();
    assert_eq!(kinds(&m), kinds(&r), "messages");
    let mut problems = Vec::new();
    for ((kind, a), (_, b)) in m.iter().zip(&r) {
        let (mut a, mut b) = (shape(a), shape(b));
        if *kind == "status update" {
            // A delta holds what changed in its tick: timing decides which other fields
            // (idle_timeout's while Klipper runs the command) come along. Compare the fields
            // both sent; the bed's target is among them.
            for v in [&mut a, &mut b] {
                assert_eq!(v["params"][1], json!("number"), "eventtime");
            }
            let (da, db) = (a["params"][0].clone(), b["params"][0].clone());
            let keep = |x: &Value, other: &Value| -> Value {
                let mut out = serde_json::Map::new();
                for (obj, fields) in x.as_object().into_iter().flatten() {
                    if let (Some(f), Some(o)) = (
                        fields.as_object(),
                        other.get(obj).and_then(Value::as_object),
                    ) {
                        let common: serde_json::Map<String, Value> = f
                            .iter()
                            .filter(|(k, _)| o.contains_key(*k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        out.insert(obj.clone(), Value::Object(common));
                    }
                }
                Value::Object(out)
            };
            a["params"][0] = keep(&da, &db);
            b["params"][0] = keep(&db, &da);
            assert_eq!(a["params"][0]["heater_bed"]["target"], json!("number"));
        }
        diff(kind, &a, &b, &mut problems);
    }
    println!(
        "websocket fidelity: {} messages, {} differences; Klippy restart: mock {mk:?}, real {rk:?}",
        m.len(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "mock and real websockets differ:\n{problems:#?}"
    );
    // Whatever comes before, a restart ends with Klippy disconnected, then ready.
    for k in [&mk, &rk] {
        assert!(
            k.ends_with(&[
                "notify_klippy_disconnected".to_string(),
                "notify_klippy_ready".to_string()
            ]),
            "{k:?}"
        );
    }
    // The real Klippy takes about 2 s to be ready again; the sequence starts from there.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while real_state(&client, real).await.1 != "ready" {
        assert!(
            Instant::now() < deadline,
            "the real Klippy did not come back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
