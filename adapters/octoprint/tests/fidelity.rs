//! Mock fidelity: the same request sequence against the OctoPrint mock and against a real
//! OctoPrint must give the same status codes, the same content types and the same JSON key
//! structure (values may differ).
//!
//! Runs when `OCTOPRINT_URL` and `OCTOPRINT_API_KEY` point at a real server with its virtual
//! printer connected and idle (`scripts/octoprint/with-server.sh` provides exactly that);
//! otherwise it says loudly that it skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use polyprint::sim::VirtualPrinter;
use polyprint_octoprint::mock::OctoPrintMock;
use reqwest::Method;
use serde_json::Value;

/// Makes an upload's content.
type Content = fn() -> String;

/// One request of the sequence.
struct Step {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// Upload a file as multipart `file`: its name and content.
    upload: Option<(&'static str, Content)>,
    bad_key: bool,
    /// Let both printers settle first: the mock's clock moves a minute on, the real server is
    /// polled until its job is back to Operational.
    settle_first: bool,
}

fn step(name: &'static str, method: Method, path: &'static str, body: Option<Value>) -> Step {
    Step {
        name,
        method,
        path,
        body,
        upload: None,
        bad_key: false,
        settle_first: false,
    }
}

/// A file that prints in about 0.1 s on the real virtual printer.
fn fast_gcode() -> String {
    polyprint_conformance::live::FAST_GCODE.to_string()
}

/// A file that prints for several seconds on the real virtual printer, so the job can be
/// cancelled while it runs.
fn slow_gcode() -> String {
    let mut g = String::from("G21\nG90\nG28\nG92 E0\n");
    for layer in 0..4 {
        g.push_str(&format!(";LAYER:{layer}\nG1 Z{}.2 F3000\n", layer));
        for i in 0..50 {
            let x = 10 + (i % 2) * 80;
            g.push_str(&format!("G1 X{x} Y{} E{}.1 F3000\n", 10 + i, i));
        }
    }
    g
}

const UPLOAD_NAME: &str = "fidelity-test.gcode";
const FAST_NAME: &str = "fidelity-fast.gcode";

fn sequence() -> Vec<Step> {
    use serde_json::json;
    vec![
        step("version", Method::GET, "/api/version", None),
        step("server", Method::GET, "/api/server", None),
        step("connection", Method::GET, "/api/connection", None),
        step("settings", Method::GET, "/api/settings", None),
        step("appkeys probe", Method::GET, "/plugin/appkeys/probe", None),
        step(
            "appkeys request without app",
            Method::POST,
            "/plugin/appkeys/request",
            Some(json!({})),
        ),
        step(
            "appkeys request",
            Method::POST,
            "/plugin/appkeys/request",
            Some(json!({"app": "polyprint fidelity"})),
        ),
        step(
            "appkeys poll unknown",
            Method::GET,
            "/plugin/appkeys/request/not-a-token",
            None,
        ),
        step("printer idle", Method::GET, "/api/printer", None),
        step("job idle", Method::GET, "/api/job", None),
        Step {
            upload: Some((UPLOAD_NAME, slow_gcode)),
            ..step("upload", Method::POST, "/api/files/local", None)
        },
        step(
            "file info",
            Method::GET,
            "/api/files/local/fidelity-test.gcode",
            None,
        ),
        step("files", Method::GET, "/api/files", None),
        Step {
            upload: Some((".dotted.gcode.", fast_gcode)),
            ..step(
                "upload a dotted name",
                Method::POST,
                "/api/files/local",
                None,
            )
        },
        Step {
            upload: Some(("..", fast_gcode)),
            ..step(
                "upload a name of dots",
                Method::POST,
                "/api/files/local",
                None,
            )
        },
        step(
            "file info missing",
            Method::GET,
            "/api/files/local/nope.gcode",
            None,
        ),
        step(
            "pause when idle",
            Method::POST,
            "/api/job",
            Some(json!({"command":"pause","action":"pause"})),
        ),
        step(
            "cancel when idle",
            Method::POST,
            "/api/job",
            Some(json!({"command":"cancel"})),
        ),
        step(
            "bad job command",
            Method::POST,
            "/api/job",
            Some(json!({"command":"explode"})),
        ),
        step(
            "tool target",
            Method::POST,
            "/api/printer/tool",
            Some(json!({"command":"target","targets":{"tool0":0}})),
        ),
        step(
            "bed target",
            Method::POST,
            "/api/printer/bed",
            Some(json!({"command":"target","target":0})),
        ),
        step(
            "jog",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"jog","x":1,"y":1,"z":1})),
        ),
        step(
            "home",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"home","axes":["x","y"]})),
        ),
        step(
            "extrude",
            Method::POST,
            "/api/printer/tool",
            Some(json!({"command":"extrude","amount":1})),
        ),
        step(
            "gcode",
            Method::POST,
            "/api/printer/command",
            Some(json!({"commands":["M105"]})),
        ),
        step(
            "gcode empty",
            Method::POST,
            "/api/printer/command",
            Some(json!({})),
        ),
        step(
            "home bad axis",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"home","axes":["q"]})),
        ),
        step(
            "restart not paused",
            Method::POST,
            "/api/job",
            Some(json!({"command":"restart"})),
        ),
        step(
            "home without axes",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"home"})),
        ),
        step(
            "extrude without amount",
            Method::POST,
            "/api/printer/tool",
            Some(json!({"command":"extrude"})),
        ),
        step(
            "targets not an object",
            Method::POST,
            "/api/printer/tool",
            Some(json!({"command":"target","targets":[200]})),
        ),
        step(
            "targets bad tool",
            Method::POST,
            "/api/printer/tool",
            Some(json!({"command":"target","targets":{"nozzle":200}})),
        ),
        step(
            "select missing",
            Method::POST,
            "/api/files/local/missing.gcode",
            Some(json!({"command":"select","print":true})),
        ),
        Step {
            bad_key: true,
            ..step("bad key GET", Method::GET, "/api/printer", None)
        },
        Step {
            bad_key: true,
            ..step(
                "bad key POST",
                Method::POST,
                "/api/job",
                Some(json!({"command":"start"})),
            )
        },
        step(
            "select only",
            Method::POST,
            "/api/files/local/fidelity-test.gcode",
            Some(json!({"command":"select"})),
        ),
        step("job selected", Method::GET, "/api/job", None),
        step(
            "select and print",
            Method::POST,
            "/api/files/local/fidelity-test.gcode",
            Some(json!({"command":"select","print":true})),
        ),
        step("job printing", Method::GET, "/api/job", None),
        Step {
            upload: Some((UPLOAD_NAME, slow_gcode)),
            ..step(
                "overwrite while printing",
                Method::POST,
                "/api/files/local",
                None,
            )
        },
        step(
            "jog while printing",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"jog","x":1})),
        ),
        step(
            "home while printing",
            Method::POST,
            "/api/printer/printhead",
            Some(json!({"command":"home","axes":["x"]})),
        ),
        step(
            "start while printing",
            Method::POST,
            "/api/job",
            Some(json!({"command":"start"})),
        ),
        step(
            "delete while printing",
            Method::DELETE,
            "/api/files/local/fidelity-test.gcode",
            None,
        ),
        step(
            "cancel",
            Method::POST,
            "/api/job",
            Some(json!({"command":"cancel"})),
        ),
        Step {
            settle_first: true,
            ..step("job after cancel", Method::GET, "/api/job", None)
        },
        step("printer after cancel", Method::GET, "/api/printer", None),
        step(
            "file after cancel",
            Method::GET,
            "/api/files/local/fidelity-test.gcode",
            None,
        ),
        Step {
            upload: Some((FAST_NAME, fast_gcode)),
            ..step("upload fast", Method::POST, "/api/files/local", None)
        },
        step(
            "print fast",
            Method::POST,
            "/api/files/local/fidelity-fast.gcode",
            Some(json!({"command":"select","print":true})),
        ),
        Step {
            settle_first: true,
            ..step("job after finish", Method::GET, "/api/job", None)
        },
        step(
            "file after finish",
            Method::GET,
            "/api/files/local/fidelity-fast.gcode",
            None,
        ),
        step("files after prints", Method::GET, "/api/files", None),
        step("camera", Method::GET, "/downloads/camera/current", None),
    ]
}

/// What is compared of one answer.
#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    content_type: String,
    shape: Option<Value>,
}

/// The key structure of a JSON value: objects keep their keys (and the value of a `name`
/// key, to pair up list entries), leaves become their type. `null` matches anything (see
/// `diff`).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let s = if k == "name" && v.is_string() {
                        v.clone()
                    } else {
                        shape(v)
                    };
                    (k.clone(), s)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::Null => Value::Null,
        Value::Bool(_) => Value::String("bool".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::String(_) => Value::String("string".into()),
    }
}

/// Compares shapes; returns the paths that differ. `null` on either side matches anything,
/// because the same field is null or set depending on timing (analysis, progress).
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
            // Entries with a `name` (files) are paired by name; the mock's own demo file has
            // no partner on the real server. Other lists compare their first entries.
            let named = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
            if x.iter().chain(y).all(|v| named(v).is_some()) {
                for l in x {
                    let n = named(l).unwrap_or_default();
                    if let Some(r) = y.iter().find(|r| named(r).as_deref() == Some(n.as_str())) {
                        diff(&format!("{path}[{n}]"), l, r, out);
                    }
                }
            } else if let (Some(l), Some(r)) = (x.first(), y.first()) {
                diff(&format!("{path}[0]"), l, r, out);
            }
        }
        (Value::String(_), Value::String(_)) if path.ends_with(".name") => {}
        _ if a != b => out.push(format!("{path}: mock {a} vs real {b}")),
        _ => {}
    }
}

async fn run(client: &reqwest::Client, base: &str, key: &str, s: &Step) -> Observed {
    let url = format!("{base}{}", s.path);
    let key = if s.bad_key { "wrong-key" } else { key };
    let mut req = client
        .request(s.method.clone(), &url)
        .header("X-Api-Key", key);
    if let Some(body) = &s.body {
        req = req.json(body);
    }
    if let Some((name, content)) = s.upload {
        let part = reqwest::multipart::Part::bytes(content().into_bytes())
            .file_name(name)
            .mime_str("application/octet-stream")
            .unwrap();
        req = req.multipart(reqwest::multipart::Form::new().part("file", part));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let bytes = resp.bytes().await.expect("body");
    let shape = if content_type == "application/json" {
        Some(shape(&serde_json::from_slice(&bytes).expect("JSON body")))
    } else {
        None
    };
    Observed {
        status,
        content_type,
        shape,
    }
}

/// Polls `GET {base}{path}` on the real server every 50 ms until `done` says so; panics with
/// `what` after `limit`.
async fn poll_until(
    client: &reqwest::Client,
    (base, key): (&str, &str),
    path: &str,
    limit: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let answer: Value = client
            .get(format!("{base}{path}"))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&answer) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the real server did not {what} within {limit:?}");
}

/// Waits until an uploaded file's analysis is in.
async fn wait_for_analysis(client: &reqwest::Client, base: &str, key: &str, name: &str) {
    let path = format!("/api/files/local/{name}");
    poll_until(
        client,
        (base, key),
        &path,
        Duration::from_secs(10),
        "analyse the upload",
        |v| v.get("gcodeAnalysis").is_some(),
    )
    .await;
}

/// Waits until the real server's job is back to Operational (after a cancel or a print).
async fn wait_operational(client: &reqwest::Client, base: &str, key: &str) {
    poll_until(
        client,
        (base, key),
        "/api/job",
        Duration::from_secs(20),
        "settle its job",
        |v| v["state"] == "Operational",
    )
    .await;
    // `lastPrintTime` may still be null on the first Operational poll (spec §10.11).
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Deletes the uploaded files so later tests start clean.
async fn cleanup(client: &reqwest::Client, base: &str, key: &str) {
    for name in [UPLOAD_NAME, FAST_NAME, "dotted.gcode"] {
        let r = client
            .delete(format!("{base}/api/files/local/{name}"))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204, "cleanup delete of {name}");
    }
}

#[tokio::test]
async fn mock_and_real_octoprint_answer_alike() {
    let (Ok(real), Ok(real_key)) = (
        std::env::var("OCTOPRINT_URL"),
        std::env::var("OCTOPRINT_API_KEY"),
    ) else {
        println!(
            "SKIPPED mock fidelity against real OctoPrint: OCTOPRINT_URL / OCTOPRINT_API_KEY \
             not set (run under scripts/octoprint/with-server.sh)"
        );
        return;
    };
    assert!(
        real.starts_with("http://127.0.0.1:"),
        "tests only talk to servers on 127.0.0.1, not {real}"
    );
    push_alike(&real, &real_key).await;
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let client = reqwest::Client::new();
    let mut mismatches: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    println!("\nmock fidelity: OctoPrint mock vs real OctoPrint at {real}");
    println!(
        "{:<24} {:<7} {:<38} {:>5} {:>5}  result",
        "step", "method", "path", "mock", "real"
    );
    for s in sequence() {
        if s.settle_first {
            mock.printer().advance(Duration::from_secs(60));
            wait_operational(&client, &real, &real_key).await;
        }
        // The real server analyses an upload in a subprocess (about 0.4 s, held back while a
        // print runs); file entries carry `gcodeAnalysis` once that is done. The mock's
        // analysis is instant.
        match s.name {
            "file info" => wait_for_analysis(&client, &real, &real_key, UPLOAD_NAME).await,
            "file after finish" => wait_for_analysis(&client, &real, &real_key, FAST_NAME).await,
            _ => {}
        }
        let m = run(&client, &mock.uri(), mock.api_key(), &s).await;
        let r = run(&client, &real, &real_key, &s).await;
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
        println!(
            "{:<24} {:<7} {:<38} {:>5} {:>5}  {}",
            s.name,
            s.method.as_str(),
            s.path,
            m.status,
            r.status,
            if problems.is_empty() {
                "same"
            } else {
                "DIFFERENT"
            }
        );
        if !problems.is_empty() {
            mismatches.insert(s.name, problems);
        }
    }
    cleanup(&client, &real, &real_key).await;
    assert!(
        mismatches.is_empty(),
        "mock and real OctoPrint differ:\n{mismatches:#?}"
    );
    timings_alike(&client, &real, &real_key).await;
}

/// What a connect goes through, with when: the `/api/job` states seen in order (polled every
/// 50 ms, wall time on the real server, virtual time on the mock) and when `/api/printer`
/// first had a `tool0` temperature.
#[derive(Debug)]
struct Connecting {
    states: Vec<(String, Duration)>,
    temps_after: Option<Duration>,
}

async fn post_connection(client: &reqwest::Client, base: &str, key: &str, body: Value) {
    let r = client
        .post(format!("{base}/api/connection"))
        .header("X-Api-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{body}");
}

/// Disconnects, connects with `body`, and watches until there are temperatures (at most
/// 30 s). With `mock`, time is the mock's: it moves 50 ms a poll.
async fn watch_connect(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    body: Value,
    mock: Option<&OctoPrintMock>,
) -> Connecting {
    use serde_json::json;
    post_connection(client, base, key, json!({"command": "disconnect"})).await;
    if mock.is_none() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    post_connection(client, base, key, body).await;
    let started = Instant::now();
    let mut elapsed = Duration::ZERO;
    let mut seen = Connecting {
        states: Vec::new(),
        temps_after: None,
    };
    let get = |path: &'static str| {
        client
            .get(format!("{base}{path}"))
            .header("X-Api-Key", key)
            .send()
    };
    while elapsed < Duration::from_secs(30) {
        let job: Value = get("/api/job").await.unwrap().json().await.unwrap();
        let state = job["state"].as_str().unwrap_or("").to_string();
        if seen.states.last().map(|(s, _)| s) != Some(&state) {
            seen.states.push((state, elapsed));
        }
        let printer = get("/api/printer").await.unwrap();
        if printer.status().as_u16() == 200 {
            let v: Value = printer.json().await.unwrap();
            if v["temperature"].get("tool0").is_some() {
                seen.temps_after = Some(elapsed);
                break;
            }
        }
        match mock {
            Some(m) => {
                m.printer().advance(Duration::from_millis(50));
                elapsed += Duration::from_millis(50);
            }
            None => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                elapsed = started.elapsed();
            }
        }
    }
    seen
}

/// Issue 13, item 7: the real server's connect timings, and the mock's. With the port, the
/// printer is Operational at once and has temperatures about 2 s later; without one,
/// OctoPrint autodetects ("Detecting serial connection") before it is Operational. The mock
/// must go through the same states, with temperatures within a second of the real server's.
async fn timings_alike(client: &reqwest::Client, real: &str, key: &str) {
    use serde_json::json;
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let with_port = json!({"command": "connect", "port": "VIRTUAL", "baudrate": 115200});
    let real_port = watch_connect(client, real, key, with_port.clone(), None).await;
    let mock_port =
        watch_connect(client, &mock.uri(), mock.api_key(), with_port, Some(&mock)).await;
    let no_port = json!({"command": "connect"});
    let real_auto = watch_connect(client, real, key, no_port.clone(), None).await;
    let mock_auto = watch_connect(client, &mock.uri(), mock.api_key(), no_port, Some(&mock)).await;
    println!("\nconnect timings (real: wall time; mock: virtual time)");
    for (what, c) in [
        ("real, port VIRTUAL", &real_port),
        ("mock, port VIRTUAL", &mock_port),
        ("real, no port", &real_auto),
        ("mock, no port", &mock_auto),
    ] {
        println!(
            "{what:<20} states {:?}, temperatures after {:?}",
            c.states, c.temps_after
        );
    }
    let names = |c: &Connecting| -> Vec<String> {
        c.states
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| s != "Offline" && s != "Opening serial connection" && s != "Connecting")
            .collect()
    };
    for (real, mock, what) in [
        (&real_port, &mock_port, "with the port"),
        (&real_auto, &mock_auto, "without a port"),
    ] {
        let (r, m) = (real.temps_after, mock.temps_after);
        let (Some(r), Some(m)) = (r, m) else {
            panic!("{what}: no temperatures within 30 s: real {real:?}, mock {mock:?}");
        };
        assert_eq!(names(real), names(mock), "{what}: the states seen differ");
        let start = |c: &Connecting| {
            c.states
                .iter()
                .find(|(s, _)| s == "Operational")
                .map(|(_, t)| *t)
                .unwrap_or_default()
        };
        let (r_temps, m_temps) = (r - start(real), m - start(mock));
        assert!(
            r_temps.abs_diff(m_temps) <= Duration::from_secs(1),
            "{what}: temperatures {r_temps:?} after Operational on the real server, {m_temps:?} on the mock"
        );
    }

    // Pausing: both show "Pausing" for a moment, then "Paused".
    let real_pause = watch_pause(client, real, key, None).await;
    let mock_pause = watch_pause(client, &mock.uri(), mock.api_key(), Some(&mock)).await;
    println!("real, pause           states {real_pause:?}");
    println!("mock, pause           states {mock_pause:?}");
    let pausing = |c: &[(String, Duration)]| {
        let at = |s: &str| c.iter().find(|(x, _)| x == s).map(|(_, t)| *t);
        at("Paused").zip(at("Pausing")).map(|(b, a)| b - a)
    };
    let (r, m) = (pausing(&real_pause), pausing(&mock_pause));
    let (Some(r), Some(m)) = (r, m) else {
        panic!("Pausing then Paused expected: real {real_pause:?}, mock {mock_pause:?}");
    };
    assert!(
        r.abs_diff(m) <= Duration::from_millis(1500),
        "Pausing lasted {r:?} on the real server, {m:?} on the mock"
    );
}

/// One poll's wait: 50 ms of the mock's time, or of the wall clock for the real server.
async fn tick(mock: Option<&OctoPrintMock>, elapsed: &mut Duration, started: Instant) {
    match mock {
        Some(m) => {
            m.printer().advance(Duration::from_millis(50));
            *elapsed += Duration::from_millis(50);
        }
        None => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            *elapsed = started.elapsed();
        }
    }
}

/// Uploads the slow print, starts it, pauses it once it prints, and records the `/api/job`
/// states from the pause on (polled every 50 ms; the mock's time moves 50 ms a poll), until
/// Paused; then cancels.
async fn watch_pause(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    mock: Option<&OctoPrintMock>,
) -> Vec<(String, Duration)> {
    use serde_json::json;
    let part = reqwest::multipart::Part::bytes(slow_gcode().into_bytes())
        .file_name("fidelity-pause.gcode")
        .mime_str("application/octet-stream")
        .unwrap();
    let r = client
        .post(format!("{base}/api/files/local"))
        .header("X-Api-Key", key)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("X-Api-Key", key)
            .json(&body)
            .send()
    };
    let r = post(
        "/api/files/local/fidelity-pause.gcode",
        json!({"command": "select", "print": true}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let job_state = || async {
        let v: Value = client
            .get(format!("{base}/api/job"))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["state"].as_str().unwrap_or("").to_string()
    };
    let started = Instant::now();
    let mut elapsed = Duration::ZERO;
    while job_state().await != "Printing" && elapsed < Duration::from_secs(10) {
        tick(mock, &mut elapsed, started).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = post("/api/job", json!({"command": "pause", "action": "pause"}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let started = Instant::now();
    let mut elapsed = Duration::ZERO;
    let mut states: Vec<(String, Duration)> = Vec::new();
    while elapsed < Duration::from_secs(15) {
        let state = job_state().await;
        if states.last().map(|(s, _)| s) != Some(&state) {
            states.push((state.clone(), elapsed));
        }
        if state == "Paused" {
            break;
        }
        tick(mock, &mut elapsed, started).await;
    }
    let _ = post("/api/job", json!({"command": "cancel"})).await;
    states
}

/// The push channel's messages as one server sends them: the passive login's body, then
/// `connected`, `history` and the first `current` on the socket.
async fn push_messages(base: &str, key: &str) -> Vec<(&'static str, Value)> {
    use polyprint::socket::SocketConfig;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/login"))
        .header("X-Api-Key", key)
        .json(&serde_json::json!({"passive": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = polyprint_octoprint::OctoPrint::new(base, key).unwrap();
    let mut socket = p
        .transport()
        .websocket("sockjs/websocket", SocketConfig::default())
        .await
        .unwrap();
    let mut out = vec![("login", login.clone())];
    let first: Value = socket.next_json().await.unwrap();
    out.push(("connected", first));
    let auth = format!(
        "{}:{}",
        login["name"].as_str().unwrap(),
        login["session"].as_str().unwrap()
    );
    socket
        .send_json(&serde_json::json!({ "auth": auth }))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < 4 && Instant::now() < deadline {
        let m: Value = socket.next_json().await.unwrap();
        for kind in ["history", "current"] {
            if m.get(kind).is_some() && !out.iter().any(|(k, _)| *k == kind) {
                out.push((kind, m.clone()));
            }
        }
    }
    out
}

/// The push channel of the mock and of a real OctoPrint, both fresh: the same messages in the
/// same order with the same key structure. Called first by the sequence test (the servers'
/// state then is the same).
async fn push_alike(real: &str, real_key: &str) {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let m = push_messages(&mock.uri(), mock.api_key()).await;
    let r = push_messages(real, real_key).await;
    let kinds = |v: &[(&'static str, Value)]| v.iter().map(|(k, _)| *k).collect::<Vec<&str>>();
    assert_eq!(kinds(&m), kinds(&r), "message order");
    let mut problems = Vec::new();
    for ((kind, a), (_, b)) in m.iter().zip(&r) {
        diff(kind, &shape(a), &shape(b), &mut problems);
    }
    println!(
        "push fidelity: {} messages, {} differences",
        m.len(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "mock and real push differ:\n{problems:#?}"
    );
}
