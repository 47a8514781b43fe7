//! The adapter against its mock: status for both agent flavours, commands on the virtual
//! printer's clock, the agentless lifecycle, errors, and what is (not) sent, from the journal.
#![cfg(feature = "mock")]

use std::time::Duration;

use polyprint::mockserver::{Fault, Recorded};
use polyprint::sim::{self, VirtualPrinter, DEMO_FILE};
use polyprint::{
    Axes, Axis, Backend, Error, ErrorKind, FailureVerdict, Feature, Heater, JobOutcome, Jog,
    Printer, PrinterState, Upload,
};
use polyprint_obico::mock::{AgentFlavour, ObicoMock, HTML_500};
use polyprint_obico::wire::TemporalStats;
use polyprint_obico::{FinishStatus, Obico, PrinterKind, TokenHeader};
use serde_json::Value;

fn sample(rel: &str) -> String {
    std::fs::read_to_string(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples/obico/").to_string() + rel,
    )
    .unwrap()
}

fn posts(journal: &[Recorded], action: &str) -> usize {
    journal
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(&format!("/{action}/")))
        .count()
}

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn raw(
    mock: &ObicoMock,
    method: reqwest::Method,
    path: &str,
    auth: bool,
) -> (u16, Option<String>, String) {
    let mut req = raw_client().request(method, format!("{}{path}", mock.uri()));
    if auth {
        req = req.bearer_auth(mock.token());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, ct, r.text().await.unwrap())
}

fn same_json(body: &str, sample_rel: &str) {
    let got: Value = serde_json::from_str(body).unwrap();
    let want: Value = serde_json::from_str(&sample(sample_rel)).unwrap();
    assert_eq!(got, want, "{sample_rel}");
}

#[tokio::test]
async fn status_of_both_agent_flavours() {
    for flavour in [AgentFlavour::OctoPrint, AgentFlavour::Moonraker] {
        let mock = ObicoMock::start_with(VirtualPrinter::new(), Some(flavour), None).await;
        let obico = mock.client();
        assert_eq!(obico.kind(), PrinterKind::Unknown);
        let s = obico.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Idle, "{flavour:?}");
        assert_eq!(s.raw_state, "Operational");
        assert!(s.heater(Heater::Tool(0)).is_some() && s.heater(Heater::Bed).is_some());
        assert_eq!(s.heaters.len(), 2, "{flavour:?}: sensors are skipped");
        assert!(matches!(obico.kind(), PrinterKind::Agent { .. }));

        mock.printer().lock().start(DEMO_FILE).unwrap();
        mock.printer().advance(Duration::from_secs(3));
        let s = obico.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Printing, "{flavour:?}");
        let job = s.job.clone().unwrap();
        assert_eq!(job.file.as_deref(), Some(DEMO_FILE));
        assert!(job.progress.unwrap() > 0.0 && job.progress.unwrap() < 100.0);
        assert_eq!(job.elapsed.map(|d| d.as_secs()), Some(3));
        assert_eq!(job.layer_count, Some(5));
        assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(60.0));
        let failure = s.failure.unwrap();
        assert_eq!(failure.verdict, FailureVerdict::Ok);
        assert!(s.webcams[0].can_snapshot);

        mock.printer().lock().fail("Thermal Runaway");
        let s = obico.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Error, "{flavour:?}");
        assert_eq!(s.message.as_deref(), Some("Thermal Runaway"));

        mock.printer().lock().disconnect();
        let s = obico.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Offline, "{flavour:?}");
        let raw = obico.printer().await.unwrap();
        match flavour {
            AgentFlavour::OctoPrint => {
                assert_eq!(raw.status.unwrap().state.unwrap().text, "Offline")
            }
            AgentFlavour::Moonraker => {
                assert!(raw.status.is_none(), "Klipper not ready: no status")
            }
        }
    }
}

#[tokio::test]
async fn pause_resume_cancel_follow_the_clock() {
    for flavour in [AgentFlavour::OctoPrint, AgentFlavour::Moonraker] {
        let mock = ObicoMock::start_with(VirtualPrinter::new(), Some(flavour), None).await;
        let obico = mock.client();
        mock.printer().lock().start(DEMO_FILE).unwrap();

        obico.pause().await.unwrap();
        // Dispatched, not done: the agent is still pausing.
        assert_eq!(obico.status().await.unwrap().state, PrinterState::Pausing);
        mock.printer().advance(sim::PAUSING);
        let s = obico
            .confirm(|s| s == PrinterState::Paused, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(s.raw_state, "Paused");

        obico.resume().await.unwrap();
        mock.printer().advance(sim::RESUMING);
        obico
            .confirm(|s| s == PrinterState::Printing, Duration::from_secs(2))
            .await
            .unwrap();

        obico.cancel().await.unwrap();
        assert_eq!(
            obico.status().await.unwrap().state,
            PrinterState::Cancelling
        );
        mock.printer().advance(sim::CANCELLING);
        obico
            .confirm(|s| s == PrinterState::Idle, Duration::from_secs(2))
            .await
            .unwrap();

        let j = mock.server().journal();
        for action in ["pause_print", "resume_print", "cancel_print"] {
            assert_eq!(posts(&j, action), 1, "{flavour:?} {action}");
        }
        let history = obico.job_history(10).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].outcome, JobOutcome::Cancelled);
        assert_eq!(history[0].file.as_deref(), Some(DEMO_FILE));
        assert!(history[0].ended.unwrap() >= history[0].started.unwrap());
    }
}

#[tokio::test]
async fn without_a_print_commands_are_invalid_state() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let obico = mock.client();
    for result in [
        obico.pause().await,
        obico.resume().await,
        obico.cancel().await,
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    }
    let j = mock.server().journal();
    assert_eq!(posts(&j, "pause_print") + posts(&j, "resume_print"), 2);
    assert_eq!(posts(&j, "cancel_print"), 1);
}

#[tokio::test]
async fn a_silent_agent_is_offline_and_commands_are_lost() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let obico = mock.client();
    mock.printer().lock().start(DEMO_FILE).unwrap();
    assert_eq!(obico.status().await.unwrap().state, PrinterState::Printing);
    mock.set_agent_online(false);
    let s = obico.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Offline);
    assert_eq!(
        s.job.unwrap().file.as_deref(),
        Some(DEMO_FILE),
        "current print kept"
    );
    // Obico still answers succeeded: true: Ok means dispatched.
    obico.pause().await.unwrap();
    mock.printer().advance(sim::PAUSING);
    let err = obico
        .confirm(|s| s == PrinterState::Paused, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(
        mock.printer().view().state,
        PrinterState::Printing,
        "command lost"
    );
    mock.set_agent_online(true);
    assert_eq!(obico.status().await.unwrap().state, PrinterState::Printing);
}

#[tokio::test]
async fn a_command_under_a_5xx_burst_is_sent_once() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let obico = mock.client();
    mock.printer().lock().start(DEMO_FILE).unwrap();
    obico.refresh().await.unwrap();
    mock.server().clear_journal();
    mock.server().inject(Fault::Status {
        status: 503,
        count: 3,
    });
    let err = obico.pause().await.unwrap_err();
    // A gateway's 503 for a command: the printer behind it may have it; never retryable.
    assert!(
        matches!(&err, Error::OutcomeUnknown { action, .. } if action == "pause"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(posts(&mock.server().journal(), "pause_print"), 1);
    assert_eq!(mock.printer().view().state, PrinterState::Printing);
    // A read under the rest of the burst is retried and gets through.
    assert_eq!(obico.status().await.unwrap().state, PrinterState::Printing);
    let j = mock.server().journal();
    assert_eq!(j.iter().filter(|r| r.method == "GET").count(), 3);
    assert_eq!(j.len(), 4);
}

#[tokio::test]
async fn actions_obico_lacks_are_refused_with_no_request() {
    for agentless in [false, true] {
        let mock = if agentless {
            ObicoMock::start_agentless(VirtualPrinter::new()).await
        } else {
            ObicoMock::start(VirtualPrinter::new()).await
        };
        let obico = mock.client();
        for step in 0..2 {
            if step == 1 {
                obico.refresh().await.unwrap();
            }
            mock.server().clear_journal();
            let p: &dyn Printer = &obico;
            let errors = [
                p.jog(Jog::along(Axis::X, 10.0)).await.unwrap_err(),
                p.home(Axes::all()).await.unwrap_err(),
                p.set_target(Heater::Bed, 60.0).await.unwrap_err(),
                p.send_gcode(&["G28".to_string()]).await.unwrap_err(),
                p.extrude(5.0).await.unwrap_err(),
                p.set_light(true).await.unwrap_err(),
                p.list_files().await.unwrap_err(),
                p.upload(Upload::from_bytes("a.gcode", "G28\n"))
                    .await
                    .unwrap_err(),
                p.delete_file("a.gcode").await.unwrap_err(),
                p.cancel_object(1).await.unwrap_err(),
                p.connect().await.unwrap_err(),
            ];
            for err in errors {
                assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
                assert!(err.to_string().contains("obico"), "{err}");
            }
            assert_eq!(
                mock.server().request_count(),
                0,
                "agentless={agentless} step={step}"
            );
        }
        // After the refresh, the kind narrows the rest.
        let p: &dyn Printer = &obico;
        assert!(!p.features().await.unwrap().contains(Feature::PrintStart));
        assert_eq!(
            p.start_print(DEMO_FILE).await.unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        if agentless {
            assert!(!p.features().await.unwrap().contains(Feature::PauseResume));
            assert_eq!(p.pause().await.unwrap_err().kind(), ErrorKind::Unsupported);
            assert_eq!(p.cancel().await.unwrap_err().kind(), ErrorKind::Unsupported);
            assert_eq!(
                p.snapshot().await.unwrap_err().kind(),
                ErrorKind::Unsupported
            );
        }
        assert_eq!(mock.server().request_count(), 0);
    }
}

#[tokio::test]
async fn features_start_declared_and_narrow_per_printer() {
    let agent = ObicoMock::start(VirtualPrinter::new()).await;
    let agentless = ObicoMock::start_agentless(VirtualPrinter::new()).await;
    let a = agent.client();
    let b = agentless.client();
    // Before anything was read: the declared set, not yet confirmed.
    assert_eq!(Backend::capabilities(&a), PrinterKind::Unknown.features());
    assert!(!a.capabilities_confirmed());
    assert!(Backend::capabilities(&a).contains(Feature::PauseResume));
    assert!(!Backend::capabilities(&a).contains(Feature::PrintStart));
    a.status().await.unwrap();
    b.status().await.unwrap();
    assert!(a.capabilities_confirmed());
    assert_eq!(
        a.features().await.unwrap(),
        Feature::PauseResume
            | Feature::Cancel
            | Feature::WebcamSnapshot
            | Feature::FailureDetection
            | Feature::JobHistory
    );
    assert_eq!(
        b.features().await.unwrap(),
        Feature::FailureDetection | Feature::JobHistory
    );
    for f in [
        Feature::AxisMovement,
        Feature::Homing,
        Feature::TemperatureControl,
        Feature::GCode,
    ] {
        assert!(
            !a.features().await.unwrap().contains(f) && !b.features().await.unwrap().contains(f)
        );
        assert!(!PrinterKind::Unknown.features().contains(f));
    }
    assert_eq!(a.info().backend, "obico");
    assert_eq!(a.info().id, "123");
    assert_eq!(a.info().name, "Virtual printer");
}

#[tokio::test]
async fn the_agentless_lifecycle() {
    let mock = ObicoMock::start_agentless(VirtualPrinter::new()).await;
    let obico = Obico::open(&mock.uri(), mock.token(), mock.printer_id())
        .await
        .unwrap();
    assert_eq!(obico.kind(), PrinterKind::Agentless);
    let s = obico.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Offline);
    assert!(s.job.is_none() && s.failure.is_none());

    obico.start_print_session("benchy.gcode").await.unwrap();
    let j = mock.server().journal();
    let start = j
        .iter()
        .find(|r| r.path.ends_with("/start_print/"))
        .unwrap();
    let body: Value = serde_json::from_slice(&start.body).unwrap();
    assert_eq!(body, serde_json::json!({"filename": "benchy.gcode"}));
    assert!(start
        .header("authorization")
        .unwrap()
        .starts_with("Bearer "));
    let s = obico.status().await.unwrap();
    assert_eq!(s.job.unwrap().file.as_deref(), Some("benchy.gcode"));
    assert_eq!(
        s.failure.unwrap().score,
        0.0,
        "predict does not move normalized_p"
    );

    // The sample's numbers: prior statistics and detections of 0.541 and 0.437.
    mock.set_prediction_stats(TemporalStats {
        ewm_mean: 0.03,
        rolling_mean_short: 0.02,
        rolling_mean_long: 0.015,
        prediction_num: 41,
        prediction_num_lifetime: 1499,
    });
    mock.printer().lock().set_failure_score(0.978);
    let prediction = obico.predict(sim::WEBCAM_JPEG.to_vec()).await.unwrap();
    let want: polyprint_obico::wire::PredictResponse =
        serde_json::from_str(&sample("predict_response.json")).unwrap();
    assert_eq!(prediction.detections, want.result.detections);
    assert!((prediction.p - 0.978).abs() < 1e-9);
    let ts = prediction.temporal_stats;
    assert!((ts.ewm_mean - want.result.temporal_stats.ewm_mean).abs() < 1e-12);
    assert_eq!(ts.prediction_num, 42);
    assert_eq!(prediction.verdict().verdict, FailureVerdict::Failing);
    let predict = mock
        .server()
        .journal()
        .into_iter()
        .rfind(|r| r.path.ends_with("/predict/"))
        .unwrap();
    assert!(predict
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data"));

    // A new session auto-finishes the open one; finishing twice is InvalidState.
    obico.start_print_session("calib.gcode").await.unwrap();
    let printer = obico.finish_print(FinishStatus::Success).await.unwrap();
    assert!(printer.current_print.is_none());
    let err = obico.finish_print(FinishStatus::Success).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    // A session can end as cancelled. (Through the Printer trait an agentless printer has no
    // print start or cancel: a session starts nothing on a printer.)
    obico.start_print_session("part.gcode").await.unwrap();
    obico.finish_print(FinishStatus::Cancelled).await.unwrap();
    let finish = mock
        .server()
        .journal()
        .into_iter()
        .rfind(|r| r.path.ends_with("/finish_print/"))
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&finish.body).unwrap(),
        serde_json::json!({"status": "cancelled"})
    );
    let history = obico.job_history(2).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].file.as_deref(), Some("part.gcode"));
    assert_eq!(history[0].outcome, JobOutcome::Cancelled);
    assert_eq!(history[1].outcome, JobOutcome::Finished);
    let all = obico.prints(0, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    let q = mock
        .server()
        .journal()
        .into_iter()
        .rfind(|r| r.path == "/api/v1/prints/")
        .unwrap();
    assert!(q.query.unwrap().contains("limit=10"));
}

#[tokio::test]
async fn predict_errors() {
    let mock = ObicoMock::start_agentless(VirtualPrinter::new()).await;
    let obico = mock.client();
    let err = obico.predict(sim::WEBCAM_JPEG.to_vec()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "no session: {err}");
    obico.start_print_session("a.gcode").await.unwrap();

    mock.set_ml_failure(true);
    mock.server().clear_journal();
    let err = obico.predict(sim::WEBCAM_JPEG.to_vec()).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("Server Error (500)"), "{err}");
    assert!(err.to_string().len() < 200, "{err}");
    assert_eq!(mock.server().request_count(), 1, "predict is never retried");
    mock.set_ml_failure(false);

    let url = format!("{}/api/v1/printers/123/predict/", mock.uri());
    let r = raw_client()
        .post(&url)
        .bearer_auth(mock.token())
        .json(&serde_json::json!({"img": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    same_json(
        &r.text().await.unwrap(),
        "errors/415_predict_json_body.json",
    );
    let form = reqwest::multipart::Form::new().text("other", "x");
    let r = raw_client()
        .post(&url)
        .bearer_auth(mock.token())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    same_json(
        &r.text().await.unwrap(),
        "errors/400_predict_missing_img.json",
    );
    let r = raw_client()
        .post(format!("{}/api/v1/printers/123/start_print/", mock.uri()))
        .bearer_auth(mock.token())
        .json(&serde_json::json!({"filename": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    same_json(
        &r.text().await.unwrap(),
        "errors/400_start_print_missing_filename.json",
    );
}

#[tokio::test]
async fn auth_and_secrets() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let bad = Obico::builder(mock.uri())
        .token("not-the-token")
        .printer_id(mock.printer_id())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    let err = bad.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err
        .to_string()
        .contains("Authentication credentials were not provided."));
    assert!(!format!("{bad:?}").contains("not-the-token"));

    let key = Obico::builder(mock.uri())
        .token(mock.token())
        .token_header(TokenHeader::XApiKey)
        .printer_id(mock.printer_id())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    assert_eq!(key.status().await.unwrap().state, PrinterState::Idle);
    let last = mock.server().journal().pop().unwrap();
    assert_eq!(last.header("x-api-key"), Some(mock.token()));
    assert_eq!(last.header("authorization"), None);
    assert_eq!(key.version().await.unwrap(), "1.0.0");

    let good = mock.client();
    assert!(!format!("{good:?}").contains(mock.token()));
    mock.server().inject(Fault::ExpiredAuth);
    let err = good.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains(mock.token()));
    mock.server().clear_faults();

    // The agent's scheme is not accepted on the user API.
    let r = raw_client()
        .get(format!("{}/api/v1/printers/123/", mock.uri()))
        .header("authorization", format!("Token {}", mock.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("www-authenticate").is_none());
    same_json(
        &r.text().await.unwrap(),
        "errors/403_not_authenticated.json",
    );
}

#[tokio::test]
async fn routing_quirks_match_the_server() {
    use reqwest::Method;
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let (status, _, body) = raw(
        &mock,
        Method::GET,
        "/api/v1/printers/123/start_print/",
        true,
    )
    .await;
    assert_eq!(status, 405);
    same_json(&body, "errors/405_method_not_allowed.json");
    let (status, _, body) = raw(&mock, Method::GET, "/api/v1/printers/999/", true).await;
    assert_eq!(status, 404);
    same_json(&body, "errors/404_printer_not_found.json");
    let (status, _, body) = raw(&mock, Method::GET, "/api/v1/printers/abc/", true).await;
    assert_eq!(status, 404);
    same_json(&body, "errors/404_not_found_generic.json");
    let (status, ct, body) = raw(
        &mock,
        Method::POST,
        "/api/v1/printers/abc/pause_print/",
        true,
    )
    .await;
    assert_eq!(status, 500);
    assert!(ct.unwrap().starts_with("text/html"));
    assert_eq!(body, HTML_500);
    let (status, _, _) = raw(
        &mock,
        Method::POST,
        "/api/v1/printers/123/pause_print",
        true,
    )
    .await;
    assert_eq!(status, 404, "a POST without the slash fails");
    let (status, _, _) = raw(&mock, Method::GET, "/api/v1/printers/123", true).await;
    assert_eq!(status, 301);
    let (status, _, body) = raw(&mock, Method::GET, "/api/v1/printers/123/", false).await;
    assert_eq!(status, 403);
    same_json(&body, "errors/403_not_authenticated.json");
    let (status, _, body) = raw(
        &mock,
        Method::POST,
        "/api/v1/printers/123/finish_print/",
        true,
    )
    .await;
    assert_eq!(status, 404);
    same_json(&body, "errors/404_not_currently_printing.json");
    let (status, _, body) = raw(
        &mock,
        Method::GET,
        "/api/v1/printers/123/pause_print/",
        true,
    )
    .await;
    assert_eq!(status, 200, "GET kept for old apps");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["succeeded"], false);
    let (status, _, body) = raw(&mock, Method::GET, "/api/v1/prints/?limit=x", true).await;
    assert_eq!(status, 500);
    assert_eq!(body, HTML_500);

    // Every request the adapter makes ends with a slash.
    mock.server().clear_journal();
    let obico = mock.client();
    obico.status().await.unwrap();
    obico.job_history(5).await.unwrap();
    obico.snapshot().await.unwrap();
    let _ = obico.pause().await;
    for r in mock.server().journal() {
        assert!(
            r.path.ends_with('/') || r.path.starts_with("/media/"),
            "{}",
            r.path
        );
    }
}

/// The mock's documents have the samples' fields.
#[tokio::test]
async fn mock_documents_have_the_samples_shape() {
    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }
    use reqwest::Method;
    let agentless = ObicoMock::start_agentless(VirtualPrinter::new()).await;
    let (_, ct, body) = raw(&agentless, Method::GET, "/api/v1/printers/123/", true).await;
    assert_eq!(ct.as_deref(), Some("application/json"));
    let got: Value = serde_json::from_str(&body).unwrap();
    let want: Value = serde_json::from_str(&sample("printer_oauth_idle.json")).unwrap();
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(got["settings"], want["settings"]);
    assert_eq!(got["status"], Value::Null);
    assert_eq!(got["pic"], Value::Null);
    assert_eq!(got["auth_token"].as_str().unwrap().len(), 20);

    let (_, _, body) = raw(
        &agentless,
        Method::POST,
        "/api/v1/printers/123/pause_print/",
        true,
    )
    .await;
    let got: Value = serde_json::from_str(&body).unwrap();
    let want: Value =
        serde_json::from_str(&sample("pause_print_not_printing_response.json")).unwrap();
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(got["succeeded"], false);

    let obico = agentless.client();
    obico.start_print_session("benchy.gcode").await.unwrap();
    let (_, _, body) = raw(
        &agentless,
        Method::POST,
        "/api/v1/printers/123/pause_print/",
        true,
    )
    .await;
    let got: Value = serde_json::from_str(&body).unwrap();
    let want: Value =
        serde_json::from_str(&sample("pause_print_agent_offline_response.json")).unwrap();
    assert_eq!(got["succeeded"], true);
    assert_eq!(
        keys(&got["printer"]["current_print"]),
        keys(&want["printer"]["current_print"])
    );
    assert_eq!(
        keys(&got["printer"]["current_print"]["printer"]),
        keys(&want["printer"]["current_print"]["printer"])
    );
    obico.finish_print(FinishStatus::Success).await.unwrap();
    let (_, _, body) = raw(&agentless, Method::GET, "/api/v1/prints/", true).await;
    let got: Value = serde_json::from_str(&body).unwrap();
    let want: Value = serde_json::from_str(&sample("prints_list.json")).unwrap();
    assert_eq!(keys(&got[0]), keys(&want[0]));
    assert_eq!(got[0]["ended_at"], got[0]["finished_at"]);

    for (flavour, file) in [
        (AgentFlavour::OctoPrint, "printer_octoprint_paused.json"),
        (AgentFlavour::Moonraker, "printer_moonraker_printing.json"),
    ] {
        let mock = ObicoMock::start_with(VirtualPrinter::new(), Some(flavour), None).await;
        mock.printer().lock().start(DEMO_FILE).unwrap();
        mock.printer().advance(Duration::from_secs(2));
        let (_, _, body) = raw(&mock, Method::GET, "/api/v1/printers/123/", true).await;
        let got: Value = serde_json::from_str(&body).unwrap();
        let want: Value = serde_json::from_str(&sample(file)).unwrap();
        assert_eq!(keys(&got), keys(&want), "{flavour:?}");
        assert_eq!(keys(&got["status"]), keys(&want["status"]), "{flavour:?}");
        assert_eq!(
            keys(&got["status"]["state"]["flags"]),
            keys(&want["status"]["state"]["flags"]),
            "{flavour:?}"
        );
        assert_eq!(
            keys(&got["status"]["progress"]),
            keys(&want["status"]["progress"])
        );
        assert_eq!(got["agent_name"], want["agent_name"]);
        assert_eq!(got["current_print"]["filename"], DEMO_FILE);
        assert_eq!(
            got["status"]["_ts"].is_f64(),
            flavour == AgentFlavour::Moonraker
        );
    }
}

#[tokio::test]
async fn snapshot_and_alerts() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let obico = mock.client();
    let shot = obico.snapshot().await.unwrap();
    assert_eq!(shot.content_type, "image/jpeg");
    assert_eq!(shot.bytes.as_ref(), sim::WEBCAM_JPEG);

    mock.printer().lock().start(DEMO_FILE).unwrap();
    mock.printer().lock().set_failure_score(0.5);
    let f = obico.status().await.unwrap().failure.unwrap();
    assert_eq!((f.score, f.verdict), (0.5, FailureVerdict::Warning));
    mock.printer().lock().set_failure_score(0.8);
    let raw = obico.printer().await.unwrap();
    assert!(raw.current_print.unwrap().alerted_at.is_some());
    // A person says it is fine by resuming: the alert is overwritten as NOT_FAILED.
    mock.printer().lock().set_failure_score(0.2);
    obico.pause().await.unwrap();
    mock.printer().advance(sim::PAUSING);
    obico.resume().await.unwrap();
    let raw = obico.printer().await.unwrap();
    assert_eq!(
        raw.current_print.unwrap().alert_overwrite.as_deref(),
        Some("NOT_FAILED")
    );
    assert_eq!(
        obico.status().await.unwrap().failure.unwrap().verdict,
        FailureVerdict::Ok
    );
}

#[tokio::test]
async fn bad_bodies_are_protocol_errors() {
    let mock = ObicoMock::start(VirtualPrinter::new()).await;
    let obico = mock.client();
    mock.server().inject(Fault::Malformed { count: 1 });
    let err = obico.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    mock.server().inject(Fault::Truncated { count: 1 });
    assert_eq!(
        obico.status().await.unwrap_err().kind(),
        ErrorKind::Protocol
    );
    assert_eq!(obico.status().await.unwrap().state, PrinterState::Idle);
}
