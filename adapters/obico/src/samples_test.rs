//! Every sample in `tests/fixtures/samples/obico/` (and the agent status example of
//! `tests/fixtures/samples/obico-docs/`) decodes into this crate's types, with the values it
//! carries.

use std::path::{Path, PathBuf};

use crate::wire::{AgentStatus, Envelope, PredictResponse};
use crate::{ObicoPrint, ObicoPrinter};
use polyprint::ErrorKind;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/samples/obico")
}

fn read(rel: &str) -> String {
    let path = dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(sub: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir().join(sub))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_obico_sample_decodes() {
    let mut seen = Vec::new();
    for name in files("") {
        let text = read(&name);
        match name.as_str() {
            "printer_oauth_idle.json" => {
                let p: ObicoPrinter = serde_json::from_str(&text).unwrap();
                assert_eq!(p.id, 123);
                assert!(p.status.is_none() && p.pic.is_none() && p.agent_name.is_none());
                assert_eq!(p.normalized_p, Some(0.0));
            }
            "printer_moonraker_printing.json" => {
                let p: ObicoPrinter = serde_json::from_str(&text).unwrap();
                assert_eq!(p.agent_name.as_deref(), Some("moonraker_obico"));
                let st = p.status.unwrap();
                assert_eq!(st.ts, Some(1769440000.512));
                assert_eq!(st.temperatures["chamber_sensor"].target, None);
                assert_eq!(st.state.unwrap().flags.closed_or_error, Some(false));
                assert_eq!(p.settings.unwrap().webcams[0].name, "Default");
                assert_eq!(p.current_print.unwrap().id, 789);
            }
            "printer_octoprint_paused.json" => {
                let p: ObicoPrinter = serde_json::from_str(&text).unwrap();
                let st = p.status.unwrap();
                assert_eq!(st.state.as_ref().unwrap().flags.paused, Some(true));
                assert_eq!(st.state.unwrap().error.as_deref(), Some(""));
                assert_eq!(st.progress.unwrap().print_time_left, Some(1390.0));
                assert!(p.pic.unwrap().img_url.unwrap().ends_with(".jpg"));
            }
            "printers_list_oauth.json" => {
                let list: Vec<ObicoPrinter> = serde_json::from_str(&text).unwrap();
                assert_eq!(list.len(), 1);
            }
            "start_print_response.json" | "pause_print_agent_offline_response.json" => {
                let e: Envelope = serde_json::from_str(&text).unwrap();
                assert!(e.succeeded);
                assert_eq!(
                    e.printer.current_print.unwrap().filename.as_deref(),
                    Some("benchy.gcode")
                );
            }
            "finish_print_response.json" => {
                let e: Envelope = serde_json::from_str(&text).unwrap();
                assert!(e.succeeded && e.printer.current_print.is_none());
            }
            "pause_print_not_printing_response.json" => {
                let e: Envelope = serde_json::from_str(&text).unwrap();
                assert!(!e.succeeded);
            }
            "predict_response.json" => {
                let r: PredictResponse = serde_json::from_str(&text).unwrap();
                assert_eq!(r.result.detections.len(), 2);
                assert_eq!(r.result.detections[0].label, "failure");
                assert_eq!(r.result.detections[0].bbox, [422.79, 236.3, 61.93, 74.49]);
                let sum: f64 = r.result.detections.iter().map(|d| d.confidence).sum();
                assert!((sum - r.result.p).abs() < 1e-9);
                assert_eq!(r.result.temporal_stats.prediction_num_lifetime, 1500);
            }
            "prints_list.json" => {
                let prints: Vec<ObicoPrint> = serde_json::from_str(&text).unwrap();
                assert_eq!(prints.len(), 2);
                assert!(prints[1].cancelled_at.is_some() && prints[1].finished_at.is_none());
            }
            other => panic!("sample {other} has no decoding test: add one"),
        }
        seen.push(name);
    }
    assert_eq!(seen.len(), 10, "{seen:?}");
}

#[test]
fn every_error_sample_decodes_to_its_kind() {
    use polyprint::transport::Response;
    let kinds = [
        (
            "400_create_printer_missing_name.json",
            400,
            ErrorKind::InvalidArgument,
        ),
        (
            "400_predict_missing_img.json",
            400,
            ErrorKind::InvalidArgument,
        ),
        (
            "400_start_print_missing_filename.json",
            400,
            ErrorKind::InvalidArgument,
        ),
        ("403_not_authenticated.json", 403, ErrorKind::Auth),
        (
            "404_acknowledge_not_printing.json",
            404,
            ErrorKind::InvalidState,
        ),
        (
            "404_not_currently_printing.json",
            404,
            ErrorKind::InvalidState,
        ),
        ("404_not_found_generic.json", 404, ErrorKind::NotFound),
        ("404_printer_not_found.json", 404, ErrorKind::NotFound),
        ("405_method_not_allowed.json", 405, ErrorKind::Api),
        ("415_predict_json_body.json", 415, ErrorKind::Api),
    ];
    let names = files("errors");
    assert_eq!(names.len(), kinds.len(), "{names:?}");
    for (name, status, kind) in kinds {
        assert!(names.iter().any(|n| n == name), "{name}");
        let body = read(&format!("errors/{name}"));
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(value.is_object(), "{name}");
        let response = Response {
            status,
            headers: Default::default(),
            body: body.into(),
        };
        let err = crate::errors::check(response).unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
    }
}

#[test]
fn the_documented_agent_status_decodes() {
    let path = dir().join("../obico-docs/obico_agent_ws_status_printing_example.strict.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let st: AgentStatus = serde_json::from_value(v["status"].clone()).unwrap();
    assert_eq!(st.state.unwrap().text, "Printing");
    assert_eq!(st.temperatures["chamber"].actual, None);
    assert_eq!(st.current_layer_height, Some(23.0));
    assert_eq!(
        st.file_metadata.unwrap().obico.unwrap().total_layer_count,
        Some(608)
    );
}
