//! End-to-end tests: the built `polyprint` binary against the sim backend and against an
//! OctoPrint mock started in this process. Every test asserts stdout is exactly one JSON
//! document with `--json`, and the exit code of each class of failure.

use std::path::Path;
use std::process::{Command, Output};

use polyprint::sim::VirtualPrinter;
use polyprint::PrinterState;
use polyprint_backends::octoprint::mock::OctoPrintMock;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_polyprint");

/// Runs the binary with a clean environment: no POLYPRINT_* variables and a HOME with no
/// configuration, so nothing on this machine leaks in.
fn run_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running polyprint")
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    run_in(home.path(), args, env)
}

/// Runs in a blocking thread so the mock in this process keeps serving.
async fn run_async(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&args, &env)
    })
    .await
    .unwrap()
}

/// Exactly one JSON document on stdout, and the exit code.
fn doc(out: &Output) -> (i32, Value) {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        stdout.trim_end().lines().count(),
        1,
        "one line of JSON expected: {stdout:?}"
    );
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:?}"));
    match v["status"].as_str() {
        Some("success") => assert!(v.get("error").is_none()),
        Some("error") => {
            assert!(v["data"].is_null());
            assert!(
                v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                "{v}"
            );
        }
        other => panic!("bad status {other:?}: {v}"),
    }
    (out.status.code().unwrap(), v)
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn mock_args(mock: &OctoPrintMock, key: &str, rest: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "--json".into(),
        "--backend".into(),
        "octoprint".into(),
        "--url".into(),
        mock.uri(),
    ];
    a.extend(["--key".into(), key.into()]);
    a.extend(rest.iter().map(|s| s.to_string()));
    a
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
    // dropped here: nothing listens on it any more
}

#[test]
fn sim_status_is_one_success_document() {
    let (exit, v) = doc(&run(&["--json", "--backend", "sim", "status"], &[]));
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["status"]["state"], "idle");
    assert_eq!(v["data"]["info"]["backend"], "sim");
    // The same through the environment.
    let (exit, v) = doc(&run(&["status", "--json"], &[("POLYPRINT_BACKEND", "sim")]));
    assert_eq!((exit, v["status"].as_str()), (0, Some("success")));
}

#[test]
fn exit_codes_for_each_class_of_failure() {
    // 1: nothing listens.
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "octoprint",
            "--url",
            &url,
            "--key",
            "k",
            "status",
        ],
        &[],
    ));
    assert_eq!((exit, code(&v)), (1, "unreachable"), "{v}");
    // 2: a local file that does not exist.
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "sim",
            "upload",
            "/nonexistent/cube.gcode",
        ],
        &[],
    ));
    assert_eq!((exit, code(&v)), (2, "file_not_found"), "{v}");
    // 3: pause with no job.
    let (exit, v) = doc(&run(&["--json", "--backend", "sim", "pause"], &[]));
    assert_eq!((exit, code(&v)), (3, "invalid_state"), "{v}");
    // 4: bad input, caught by the core before anything is sent.
    let (exit, v) = doc(&run(
        &["--json", "--backend", "sim", "temp", "--bed", "500"],
        &[],
    ));
    assert_eq!((exit, code(&v)), (4, "invalid_argument"), "{v}");
    // 4: negative numbers reach the checks and get their message (not a parse error).
    for args in [
        &["jog", "--x", "1", "--speed", "-5"][..],
        &["--timeout", "-1", "status"][..],
        &["watch", "--interval", "-2"][..],
    ] {
        let mut all = vec!["--json", "--backend", "sim"];
        all.extend_from_slice(args);
        let (exit, v) = doc(&run(&all, &[]));
        assert_eq!(exit, 4, "{args:?}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("unexpected argument"),
            "{args:?}: {message}"
        );
    }
    // 4: a command line clap refuses, still as JSON.
    let (exit, v) = doc(&run(
        &["--json", "--backend", "sim", "extrude", "lots"],
        &[],
    ));
    assert_eq!((exit, code(&v)), (4, "usage"), "{v}");
    // The whole of clap's message: what is missing, by name, and the usage line.
    let (exit, v) = doc(&run(&["--json", "--backend", "sim", "upload"], &[]));
    assert_eq!((exit, code(&v)), (4, "usage"), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("<FILE>") && message.contains("Usage:"),
        "{message}"
    );
    assert!(!message.starts_with("error:"), "{message}");
    // 4: no printer configured at all.
    let (exit, v) = doc(&run(&["--json", "status"], &[]));
    assert_eq!((exit, code(&v)), (4, "config"), "{v}");
    // Without --json, errors go to stderr as one line and stdout stays empty.
    let out = run(&["--backend", "sim", "pause"], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octoprint_mock_bad_key_is_auth_and_good_key_works() {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let (exit, v) = doc(&run_async(mock_args(&mock, "wrong-key", &["status"]), vec![]).await);
    assert_eq!((exit, code(&v)), (4, "auth"), "{v}");
    assert!(!v.to_string().contains("wrong-key"), "the key leaked: {v}");
    let (exit, v) = doc(&run_async(mock_args(&mock, mock.api_key(), &["status"]), vec![]).await);
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["status"]["state"], "idle");
    assert_eq!(v["data"]["info"]["backend"], "octoprint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_commands_need_confirm_and_send_nothing_without_it() {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cube.gcode");
    std::fs::write(
        &file,
        "; generated by PrusaSlicer 2.8.0\nG28\nG1 X10 E1\n; printer_model = MK4\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let key = mock.api_key().to_string();
    for args in [vec!["print", file], vec!["cancel"], vec!["gcode", "G28"]] {
        let (exit, v) = doc(&run_async(mock_args(&mock, &key, &args), vec![]).await);
        assert_eq!(
            (exit, code(&v)),
            (4, "confirmation_required"),
            "{args:?}: {v}"
        );
    }
    assert_eq!(
        mock.server().request_count(),
        0,
        "{:?}",
        mock.server().journal()
    );

    // With --confirm: preflight, upload, start.
    let (exit, v) = doc(&run_async(
        mock_args(&mock, &key, &["print", file, "--confirm"]),
        vec![],
    )
    .await);
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["file"], "cube.gcode");
    assert_eq!(v["data"]["gcode_metadata"]["printer_model"], "MK4");
    assert!(mock.printer().view().state.has_active_job());
    // Already printing: refused with 3, or skipped with 0.
    let (exit, v) = doc(&run_async(
        mock_args(&mock, &key, &["print", file, "--confirm"]),
        vec![],
    )
    .await);
    assert_eq!((exit, code(&v)), (3, "busy"), "{v}");
    let commands_before = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    let (exit, v) = doc(&run_async(
        mock_args(
            &mock,
            &key,
            &["print", file, "--confirm", "--skip-if-printing"],
        ),
        vec![],
    )
    .await);
    assert_eq!(
        (exit, v["data"]["skipped"].as_bool()),
        (0, Some(true)),
        "{v}"
    );
    let commands_after = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        commands_before, commands_after,
        "a skipped print sent a command"
    );

    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["cancel", "--confirm"]), vec![]).await);
    assert_eq!(exit, 0, "{v}");
    let s = mock.printer().view().state;
    assert!(
        matches!(s, PrinterState::Cancelling | PrinterState::Cancelled),
        "{s:?}"
    );
}

#[test]
fn a_missing_local_file_for_print_is_a_file_error() {
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "sim",
            "print",
            "/nonexistent/a.gcode",
            "--confirm",
        ],
        &[],
    ));
    assert_eq!((exit, code(&v)), (2, "file_not_found"), "{v}");
    // preflight lists every check in the details.
    assert!(
        v["error"]["details"]["checks"]
            .as_array()
            .is_some_and(|c| c.len() > 3),
        "{v}"
    );
}

#[test]
fn preflight_reads_the_slicer_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("part.gcode");
    std::fs::write(
        &file,
        "G28\n; estimated printing time (normal mode) = 1h 2m 3s\n; printer_model = MK4\n",
    )
    .unwrap();
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "sim",
            "preflight",
            file.to_str().unwrap(),
        ],
        &[],
    ));
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["ok"], true);
    assert_eq!(v["data"]["gcode_metadata"]["estimated_time"], 3723);
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "x").unwrap();
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "sim",
            "preflight",
            txt.to_str().unwrap(),
        ],
        &[],
    ));
    assert_eq!((exit, code(&v)), (2, "invalid_file"), "{v}");
}

#[test]
fn init_writes_a_private_file_and_keys_are_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("conf").join("polyprint.toml");
    let cfg_s = cfg.to_str().unwrap();
    let secret = "SECRET-KEY-0123456789";
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (exit, v) = doc(&run_in(
        home.path(),
        &[
            "--json",
            "--config",
            cfg_s,
            "init",
            "--no-input",
            "--name",
            "octo",
            "--backend",
            "octoprint",
            "--url",
            &url,
        ],
        &[("POLYPRINT_KEY", secret)],
    ));
    assert_eq!(exit, 0, "{v}");
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&cfg).unwrap().contains(secret));
    let (exit, v) = doc(&run_in(
        home.path(),
        &[
            "--json",
            "--config",
            cfg_s,
            "init",
            "--no-input",
            "--name",
            "desk",
            "--backend",
            "sim",
        ],
        &[],
    ));
    assert_eq!(exit, 0, "{v}");

    // `printers` polls both concurrently: one unreachable, one idle; no key anywhere.
    let out = run_in(
        home.path(),
        &["--json", "printers"],
        &[("POLYPRINT_CONFIG", cfg_s)],
    );
    let (exit, v) = doc(&out);
    assert_eq!(exit, 0, "{v}");
    let rows = v["data"]["printers"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let desk = rows.iter().find(|r| r["name"] == "desk").unwrap();
    assert_eq!(desk["state"], "idle");
    let octo = rows.iter().find(|r| r["name"] == "octo").unwrap();
    assert_eq!(octo["error"]["code"], "unreachable");
    assert_eq!(octo["default"], true);
    for args in [
        vec!["printers"],
        vec!["--printer", "octo", "features"],
        vec!["--printer", "octo", "status"],
        vec!["--printer", "octo", "--help"],
        vec!["--printer", "octo", "status", "-vv"],
    ] {
        let out = run_in(
            home.path(),
            &args,
            &[("POLYPRINT_CONFIG", cfg_s), ("POLYPRINT_KEY", secret)],
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(secret), "{args:?} printed the key: {all}");
    }
}

#[test]
fn demo_finishes_on_every_backend() {
    let (exit, v) = doc(&run(&["--json", "demo", "--speed", "25"], &[]));
    assert_eq!(exit, 0, "{v}");
    let backends = v["data"]["backends"].as_array().unwrap();
    let names: Vec<&str> = backends
        .iter()
        .map(|b| b["backend"].as_str().unwrap())
        .collect();
    // Every backend in the registry has a lane (the sim directly, the others via their mocks).
    assert_eq!(names, polyprint_backends::names(), "{v}");
    for b in backends {
        assert_eq!(b["finished"], true, "{b}");
        let states = b["states"].as_array().unwrap();
        assert!(states.contains(&Value::from("printing")), "{b}");
        // A backend that can say Finished ends on it (Obico cannot: its history tells).
        let d = polyprint_backends::find(b["backend"].as_str().unwrap()).unwrap();
        let expect = d
            .mock_variants()
            .first()
            .map_or(d.expectations(), |v| v.expect);
        if (expect.state)(PrinterState::Finished) == Some(PrinterState::Finished) {
            assert_eq!(states.last().unwrap(), "finished", "{b}");
        }
    }
}

#[test]
fn mock_serves_until_killed_and_prints_how_to_connect() {
    use std::io::{BufRead, BufReader};
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["mock", "octoprint", "--json"])
        .env_clear()
        .env("HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let url = v["data"]["url"].as_str().unwrap().to_string();
    let key = v["data"]["key"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (exit, s) = doc(&run(
        &["--json", "--backend", "octoprint", "--url", &url, "status"],
        &[("POLYPRINT_KEY", &key)],
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(exit, 0, "{s}");
    assert_eq!(s["data"]["status"]["state"], "idle");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Exit codes:",
        "3  printer busy",
        "5  outcome unknown",
        "--confirm",
        "POLYPRINT_CONFIG",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn conformance_runs_against_the_sim_and_completions_are_generated() {
    let (exit, v) = doc(&run(
        &[
            "--json",
            "--backend",
            "sim",
            "conformance",
            "--filter",
            "status.",
        ],
        &[],
    ));
    assert_eq!(exit, 0, "{v}");
    assert!(v["data"]["passed"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["data"]["failed"], 0);
    let out = run(&["completions", "bash"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("polyprint"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_printer_is_exit_1_for_commands_and_a_state_for_status() {
    let printer = VirtualPrinter::new();
    printer.lock().disconnect();
    let mock = OctoPrintMock::start(printer).await;
    let key = mock.api_key().to_string();
    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["status"]), vec![]).await);
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["status"]["state"], "offline");
    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["pause"]), vec![]).await);
    assert_eq!((exit, code(&v)), (1, "offline"), "{v}");
    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["preflight"]), vec![]).await);
    assert_eq!((exit, code(&v)), (1, "offline"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_answer_is_lost_is_exit_5_and_says_to_check_the_status() {
    use polyprint::mockserver::Fault;
    let printer = VirtualPrinter::new();
    printer.lock().start(polyprint::sim::DEMO_FILE).unwrap();
    let mock = OctoPrintMock::start(printer).await;
    let key = mock.api_key().to_string();
    // The pause reaches the server, and its connection is closed with no answer.
    mock.server().inject(Fault::Drop { count: 1 });
    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["pause"]), vec![]).await);
    assert_eq!((exit, code(&v)), (5, "outcome_unknown"), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("polyprint status"), "{message}");
    assert!(message.contains("pause"), "{message}");
    let posts = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "sent once, never retried");
}

/// `watch --all --json`: NDJSON, one line per update of every configured printer (pushed by
/// the OctoPrint mock, polled for the sim), an error line for the one that cannot be
/// reached, then the summary; never the key.
#[tokio::test(flavor = "multi_thread")]
async fn watch_all_follows_every_printer_as_ndjson() {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("polyprint.toml");
    let cfg_s = cfg.to_str().unwrap().to_string();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    for (name, backend, url, key) in [
        ("octo", "octoprint", Some(mock.uri()), Some(mock.api_key())),
        ("desk", "sim", None, None),
        ("gone", "octoprint", Some(dead), Some("GONE-KEY-0123456789")),
    ] {
        let mut args = vec![
            "--json",
            "--config",
            &cfg_s,
            "init",
            "--no-input",
            "--name",
            name,
            "--backend",
            backend,
        ];
        if let Some(url) = &url {
            args.extend(["--url", url.as_str()]);
        }
        let env: Vec<(&str, &str)> = key.map(|k| ("POLYPRINT_KEY", k)).into_iter().collect();
        let out = run_in(home.path(), &args, &env);
        assert_eq!(doc(&out).0, 0);
    }
    let home_path = home.path().to_path_buf();
    let cfg_env = cfg_s.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_in(
            &home_path,
            &["--json", "watch", "--all", "--for", "3"],
            &[("POLYPRINT_CONFIG", cfg_env.as_str())],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(mock.api_key()) && !stdout.contains("GONE-KEY"));
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let (summary, updates) = lines.split_last().unwrap();
    assert_eq!(summary["status"], "success", "{summary}");
    assert_eq!(
        summary["data"]["updates"].as_u64(),
        Some(updates.len() as u64)
    );
    for name in ["octo", "desk"] {
        let first = updates
            .iter()
            .find(|u| u["printer"] == name)
            .unwrap_or_else(|| panic!("no update of {name}: {stdout}"));
        assert_eq!(first["change"], "first", "{first}");
        assert_eq!(first["status"]["state"], "idle", "{first}");
    }
    let gone = updates.iter().find(|u| u["printer"] == "gone").unwrap();
    assert_eq!(gone["error"]["code"], "unreachable", "{gone}");
    // The OctoPrint printer was followed over its socket.
    assert!(mock
        .server()
        .journal()
        .iter()
        .any(|r| r.path == "/sockjs/websocket"));
}

/// `connect` names the port and baud rate it was given and waits for the printer to settle;
/// `temp` refuses a tool the printer does not list and a chamber it lacks before sending,
/// and shows the target it set; `preflight` fails `printer_connected` on OctoPrint's
/// "Offline after error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_waits_and_temp_checks_heaters_before_sending() {
    let printer = VirtualPrinter::new();
    printer.lock().disconnect();
    let mock = OctoPrintMock::start(printer).await;
    let key = mock.api_key().to_string();
    let connect = mock_args(
        &mock,
        &key,
        &["connect", "--port", "VIRTUAL", "--baudrate", "115200"],
    );
    let (exit, v) = doc(&run_async(connect, vec![]).await);
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["data"]["state"], "idle", "{v}");
    let sent: Vec<Value> = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/connection")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        sent,
        [serde_json::json!({"command": "connect", "port": "VIRTUAL", "baudrate": 115200})]
    );
    mock.printer().advance(std::time::Duration::from_secs(2)); // first readings
    let posts = || {
        mock.server()
            .journal()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    let before = posts();
    let temp = |rest: &[&str]| mock_args(&mock, &key, &[&["temp"], rest].concat());
    let (exit, v) = doc(&run_async(temp(&["--tool", "200", "--tool-index", "5"]), vec![]).await);
    assert_eq!((exit, code(&v)), (4, "invalid_argument"), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("tool0"),
        "{v}"
    );
    let (exit, v) = doc(&run_async(temp(&["--chamber", "40"]), vec![]).await);
    assert_eq!((exit, code(&v)), (4, "unsupported"), "{v}");
    assert_eq!(posts(), before, "nothing sent for either");
    let (exit, v) = doc(&run_async(temp(&["--tool", "190"]), vec![]).await);
    assert_eq!(exit, 0, "{v}");
    let tool0 = v["data"]["heaters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["heater"] == serde_json::json!({"tool": 0}))
        .cloned()
        .unwrap();
    assert_eq!(tool0["target"], 190.0, "{v}");

    mock.printer().lock().fail("Thermal Runaway");
    let (exit, v) = doc(&run_async(mock_args(&mock, &key, &["preflight"]), vec![]).await);
    assert_eq!((exit, code(&v)), (1, "offline"), "{v}");
    let checks = v["error"]["details"]["checks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let connected = checks.iter().find(|c| c["name"] == "printer_connected");
    assert!(
        connected.is_some_and(|c| c["verdict"] == "fail"),
        "{checks:?}"
    );
}
