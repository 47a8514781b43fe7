//! The mock against the recordings of a real PrusaLink 0.8.1, and the adapter against the
//! mock: shapes, error texts, auth, the sticky end states, the upload lag, job ids.
#![cfg(feature = "mock")]

use std::path::Path;
use std::time::Duration;

use polyprint::mockserver::key_paths;
use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::transport::HttpConfig;
use polyprint::{Error, ErrorKind, Printer, PrinterState, Upload};
use polyprint_prusalink::mock::{PrusaLinkMock, END_STATE_FOR, MOCK_API_KEY};
use polyprint_prusalink::{Credential, PrusaLink};
use serde_json::Value;

fn sample(name: &str) -> (u16, String, Vec<u8>) {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/samples/prusalink"
    ))
    .join(format!("{name}.json"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let split = text.iter().position(|b| *b == b'\n').unwrap();
    let head: Value = serde_json::from_slice(&text[..split]).unwrap();
    let ct = head["headers"]["Content-Type"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut body = text[split + 1..].to_vec();
    // Text bodies are verbatim; the recording's file adds a newline after them.
    if let Some(len) = head["headers"]["Content-Length"]
        .as_str()
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|_| !ct.starts_with("application/json"))
    {
        body.truncate(len);
    }
    (head["status"].as_u64().unwrap() as u16, ct, body)
}

async fn raw(
    mock: &PrusaLinkMock,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("{}{path}", mock.uri()));
    if let Some(k) = key {
        req = req.header("X-Api-Key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

fn adapter(mock: &PrusaLinkMock) -> PrusaLink {
    PrusaLink::builder(mock.uri())
        .credential(Credential::parse(MOCK_API_KEY))
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap()
}

/// Compares the mock's answer with a recording: status, content type and JSON keys (or the
/// text body, with the `See:` origin the mock's own).
async fn same_as(mock: &PrusaLinkMock, path: &str, sample_name: &str) {
    same_but(mock, path, sample_name, &[]).await
}

/// [`same_as`], where the mock may have `extra` keys the recording lacks.
async fn same_but(mock: &PrusaLinkMock, path: &str, sample_name: &str, extra: &[&str]) {
    let (status, ct, body) = raw(mock, reqwest::Method::GET, path, Some(MOCK_API_KEY)).await;
    let (want_status, want_ct, want_body) = sample(sample_name);
    assert_eq!(status, want_status, "{sample_name}: status");
    assert_eq!(ct, want_ct, "{sample_name}: content type");
    if want_ct.starts_with("application/json") {
        let got: Value = serde_json::from_slice(&body).unwrap();
        let want: Value = serde_json::from_slice(&want_body).unwrap();
        let mut got = key_paths(&got);
        got.retain(|k| !extra.contains(&k.as_str()));
        assert_eq!(got, key_paths(&want), "{sample_name}: keys");
    }
}

#[tokio::test]
async fn the_mock_answers_in_the_recorded_shapes() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    mock.printer().advance(Duration::from_secs(2)); // first readings
    same_as(&mock, "/api/version", "version").await;
    same_as(&mock, "/api/v1/info", "info").await;
    same_as(&mock, "/api/v1/status", "status_idle").await;
    same_as(&mock, "/api/v1/job", "job_none").await;
    same_as(&mock, "/api/v1/storage", "storage").await;
    same_as(&mock, "/api/v1/cameras", "run2/cameras").await;
    same_as(&mock, "/api/v1/cameras/snap", "run2/cameras_snap").await;
    same_as(&mock, "/api/v1/files/local", "files_local").await;
    same_as(
        &mock,
        &format!("/api/v1/files/local/{DEMO_FILE}"),
        "file_info",
    )
    .await;
    same_as(&mock, "/api/v1/files/local/nope.gcode", "file_info_missing").await;

    mock.printer().lock().start(DEMO_FILE).unwrap();
    mock.printer().advance(Duration::from_secs(1));
    // Recorded before the file's first `M73`: no time left known yet.
    same_but(
        &mock,
        "/api/v1/status",
        "status_printing",
        &[".job.time_remaining"],
    )
    .await;
    same_as(&mock, "/api/v1/job", "job_printing").await;
    mock.printer().lock().pause().unwrap();
    mock.printer().advance(Duration::from_secs(1));
    same_as(&mock, "/api/v1/status", "status_paused").await;
    same_as(&mock, "/api/v1/job", "job_paused").await;
    mock.printer().lock().cancel().unwrap();
    mock.printer().advance(Duration::from_secs(1));
    same_as(&mock, "/api/v1/status", "status_stopped").await;
    same_as(&mock, "/api/v1/job", "job_stopped").await;
    mock.printer().advance(END_STATE_FOR);
    same_as(&mock, "/api/v1/status", "status_after_stop_12s").await;

    mock.printer().lock().disconnect();
    same_as(&mock, "/api/v1/status", "run2/status_no_printer").await;
}

#[tokio::test]
async fn error_texts_and_auth_answers_are_the_real_ones() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    let port = mock.uri().rsplit(':').next().unwrap().to_string();
    let real = |name: &str| {
        let (status, ct, body) = sample(name);
        let text = String::from_utf8(body)
            .unwrap()
            .replace(":18080/", &format!(":{port}/"))
            .replace(":18081/", &format!(":{port}/"));
        (status, ct, text)
    };
    let got = |r: (u16, String, Vec<u8>)| (r.0, r.1, String::from_utf8(r.2).unwrap());
    use reqwest::Method;
    let key = Some(MOCK_API_KEY);
    assert_eq!(
        got(raw(&mock, Method::GET, "/api/v1/files/local/nope.gcode", key).await),
        real("file_info_missing")
    );
    assert_eq!(
        got(raw(&mock, Method::POST, "/api/v1/files/local/nope.gcode", key).await),
        real("run2/print_start_missing")
    );
    assert_eq!(
        got(raw(&mock, Method::GET, "/api/v1/status", Some("wrong")).await),
        real("run2/status_wrong_api_key")
    );
    let (status, _, body) = raw(&mock, Method::GET, "/api/v1/status", None).await;
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("<title>401 - Unauthorized</title>"));

    mock.printer().lock().start(DEMO_FILE).unwrap();
    let (s, _, _) = raw(&mock, Method::PUT, "/api/v1/job/1/resume", key).await;
    assert_eq!(s, 409);
    assert_eq!(
        got(raw(&mock, Method::PUT, "/api/v1/job/1/resume", key).await),
        real("run2/job_resume_while_printing")
    );
    assert_eq!(
        got(raw(&mock, Method::PUT, "/api/v1/job/7/resume", key).await),
        real("job_resume_wrong_id")
    );
    assert_eq!(
        got(raw(
            &mock,
            Method::POST,
            &format!("/api/v1/files/local/{DEMO_FILE}"),
            key
        )
        .await),
        real("print_start_while_printing")
    );
    assert_eq!(
        got(raw(
            &mock,
            Method::DELETE,
            &format!("/api/v1/files/local/{DEMO_FILE}"),
            key
        )
        .await),
        real("run2/file_delete_while_printing")
    );
    // An unknown job command is accepted and does nothing.
    assert_eq!(
        got(raw(&mock, Method::PUT, "/api/v1/job/1/frobnicate", key).await),
        real("run2/job_unknown_command")
    );
    mock.printer().lock().pause().unwrap();
    mock.printer().advance(Duration::from_secs(1));
    assert_eq!(
        got(raw(&mock, Method::PUT, "/api/v1/job/1/pause", key).await),
        real("job_pause_while_paused")
    );
}

#[tokio::test]
async fn digest_and_key_both_work_and_wrong_ones_are_auth_errors() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    let digest = PrusaLink::builder(mock.uri())
        .credential(Credential::parse(&mock.digest_credential()))
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    assert_eq!(digest.status().await.unwrap().state, PrinterState::Idle);
    digest.start_print(DEMO_FILE).await.unwrap();
    digest.pause().await.unwrap();
    // The challenge is met once per client: by the first status's two concurrent reads,
    // each then sent again with its answer; every later request answers at once.
    let auths: Vec<bool> = mock
        .server()
        .journal()
        .iter()
        .map(|r| r.header("authorization").is_some())
        .collect();
    assert_eq!(auths.iter().filter(|a| !**a).count(), 2, "{auths:?}");
    assert!(auths[2..].iter().all(|a| *a), "{auths:?}");

    let wrong_password = PrusaLink::builder(mock.uri())
        .credential(Credential::parse("maker:nope"))
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let e = wrong_password.status().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains("nope"), "{e}");
    let wrong_key = PrusaLink::new(&mock.uri(), "nope").unwrap();
    let e = wrong_key.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
}

#[tokio::test]
async fn an_ended_job_shows_for_eleven_seconds_and_blocks_a_start() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    p.start_print(DEMO_FILE).await.unwrap();
    let left = mock.printer().view().job.unwrap().remaining();
    mock.printer().advance(left + Duration::from_secs(1));
    let s = p.status().await.unwrap();
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Finished, "FINISHED")
    );
    assert!(s.job.is_none(), "PrusaLink shows no job once it ended");
    let e = p.start_print(DEMO_FILE).await.unwrap_err();
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
    assert!(e.to_string().contains("Not in state to print"), "{e}");
    // Pause and cancel: no job to act on, refused before anything is sent.
    let before = mock.server().request_count();
    assert_eq!(
        p.cancel().await.unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    let sent: Vec<String> = mock.server().journal()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(sent, ["GET /api/v1/status"]);
    mock.printer().advance(END_STATE_FOR);
    assert_eq!(p.status().await.unwrap().state, PrinterState::Idle);
    p.start_print(DEMO_FILE).await.unwrap();
    assert_eq!(p.status().await.unwrap().state, PrinterState::Printing);
}

#[tokio::test]
async fn an_upload_can_be_printed_at_once_and_replaces_its_namesake() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    let gcode = "G28\nG1 X10 F3000\n";
    let entry = p
        .upload(Upload::from_bytes("sub dir/new part.gcode", gcode))
        .await
        .unwrap();
    assert_eq!(entry.path, "sub dir/new part.gcode");
    assert_eq!(entry.size, Some(gcode.len() as u64));
    // The mock hides it for a while, like PrusaLink; the upload waited until it showed.
    p.start_print("sub dir/new part.gcode").await.unwrap();
    p.cancel().await.unwrap();
    let files = p.list_files().await.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"sub dir/new part.gcode"), "{paths:?}");
    assert!(paths.contains(&DEMO_FILE), "{paths:?}");

    // Again under the same name: replaced (Overwrite: ?1); without the header, 409.
    p.upload(Upload::from_bytes("again.gcode", "G28\n"))
        .await
        .unwrap();
    p.upload(Upload::from_bytes("again.gcode", "G28\nG28\n"))
        .await
        .unwrap();
    assert_eq!(
        mock.printer().lock().file("again.gcode").unwrap().content,
        "G28\nG28\n"
    );
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/files/local/again.gcode", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .header("Content-Type", "text/x.gcode")
        .body("G1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // A name that would leave the storage is refused before anything is sent.
    let before = mock.server().request_count();
    let e = p
        .upload(Upload::from_bytes("../escape.gcode", "G28\n"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = p.start_print("a/../../escape.gcode").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(mock.server().request_count(), before);

    // A delete returns once the listing no longer shows the file (the mock, like PrusaLink,
    // lists a deleted file a little longer).
    p.delete_file("again.gcode").await.unwrap();
    let files = p.list_files().await.unwrap();
    assert!(!files.iter().any(|f| f.path == "again.gcode"), "{files:?}");
    let e = p.delete_file("again.gcode").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    p.upload(Upload::from_bytes("lag.gcode", "G28\n"))
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .delete(format!("{}/api/v1/files/local/lag.gcode", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/files/local/lag.gcode", mock.uri()))
        .header("X-Api-Key", MOCK_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "still listed right after the delete");
}

#[tokio::test]
async fn pause_resume_cancel_go_to_the_current_job() {
    let mock = PrusaLinkMock::start(VirtualPrinter::new()).await;
    let p = adapter(&mock);
    assert_eq!(p.pause().await.unwrap_err().kind(), ErrorKind::InvalidState);
    p.start_print(DEMO_FILE).await.unwrap();
    p.pause().await.unwrap();
    mock.printer().advance(Duration::from_secs(1));
    assert_eq!(p.status().await.unwrap().state, PrinterState::Paused);
    let e = p.pause().await.unwrap_err();
    assert!(e.to_string().contains("Printer Is Not Printing"), "{e}");
    p.resume().await.unwrap();
    let e = p.resume().await.unwrap_err();
    assert!(e.to_string().contains("Printer Is Not Paused"), "{e}");
    p.cancel().await.unwrap();
    let paths: Vec<String> = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            format!("POST /api/v1/files/local/{DEMO_FILE}"),
            "PUT /api/v1/job/1/pause".into(),
            "PUT /api/v1/job/1/pause".into(),
            "PUT /api/v1/job/1/resume".into(),
            "PUT /api/v1/job/1/resume".into(),
            "DELETE /api/v1/job/1".into(),
        ]
    );
}

#[tokio::test]
async fn a_job_that_changed_is_found_again_once() {
    // A server whose job changed between the id's read and the command: 404 "Not Current
    // Job" for the old id, then the new id is read and the command sent once for it.
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let status = |id: u64| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "printer": {"state": "PRINTING"}, "job": {"id": id, "progress": 5.0}
        }))
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/status"))
        .respond_with(status(1))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/status"))
        .respond_with(status(2))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/job/1/pause"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string(
                "Not Current Job\nGiven job id does not belong to current job\n\n\n",
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/job/2/pause"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let p = PrusaLink::builder(server.uri())
        .credential(Credential::parse("k"))
        .http(HttpConfig::default())
        .build()
        .unwrap();
    p.pause().await.unwrap();
    let puts: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(puts, ["/api/v1/job/1/pause", "/api/v1/job/2/pause"]);
}
