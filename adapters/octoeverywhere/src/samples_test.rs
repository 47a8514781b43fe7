//! Every sample in `tests/fixtures/samples/octoeverywhere/` and the `oe_*` files of
//! `tests/fixtures/samples/obico-docs/` decodes into this crate's types and maps to the error
//! kind or status its `Status` says.

use std::path::{Path, PathBuf};

use crate::errors::{read_envelope, Call};
use crate::mapping::{features_from, status_from};
use crate::wire::{Envelope, OeStatus, Pong, StartResult, WebcamList};
use polyprint::transport::Response;
use polyprint::{ErrorKind, Feature, PrinterState};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/samples")
}

fn read(rel: &str) -> String {
    let path = samples().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn response(body: &str) -> Response {
    Response {
        status: 200,
        headers: Default::default(),
        body: bytes::Bytes::from(body.to_string()),
    }
}

fn call_for(name: &str) -> Call {
    let c = |command, feature| Call::action(command, feature);
    match name {
        n if n.contains("extrude") => c("extrude", Feature::Extrusion),
        n if n.contains("move_axis") => c("move-axis", Feature::AxisMovement),
        n if n.contains("set_light") || n.contains("lights") => {
            c("set-light", Feature::LightControl)
        }
        n if n.contains("set_temp") => c("set-temp", Feature::TemperatureControl),
        n if n.contains("home") => c("home", Feature::Homing),
        n if n.contains("pause") || n.contains("786") => c("pause", Feature::PauseResume),
        n if n.contains("status") || n.contains("785") => Call::read("status"),
        _ => c("set-temp", Feature::TemperatureControl),
    }
}

#[test]
fn every_octoeverywhere_sample_decodes() {
    let mut names: Vec<String> = std::fs::read_dir(samples().join("octoeverywhere"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 18, "{names:?}");
    for name in &names {
        let text = read(&format!("octoeverywhere/{name}"));
        let env: Envelope = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = read_envelope(&response(&text), call_for(name), "e", None);
        let status: i64 = name
            .strip_prefix("err_")
            .and_then(|s| s.get(..3))
            .map_or(200, |s| s.parse().unwrap());
        assert_eq!(env.status, status, "{name}");
        if status == 200 {
            let result = r.unwrap_or_else(|e| panic!("{name}: {e}"));
            if name == "ping.json" {
                let pong: Pong = serde_json::from_str(result.get()).unwrap();
                assert_eq!(pong.message, "Pong");
            } else {
                assert_eq!(
                    serde_json::from_str::<serde_json::Value>(result.get()).unwrap(),
                    serde_json::json!({}),
                    "{name}"
                );
            }
            continue;
        }
        let err = r.unwrap_err();
        let want = match status {
            400 => ErrorKind::InvalidArgument,
            751 | 754 if name.contains("unknown") => ErrorKind::Unsupported,
            751 => ErrorKind::Api,
            785 | 786 => ErrorKind::InvalidState,
            788 => ErrorKind::Unsupported,
            other => panic!("{name}: no expectation for {other}"),
        };
        assert_eq!(err.kind(), want, "{name}: {err}");
        let text = env.error.unwrap();
        if want != ErrorKind::Unsupported {
            assert!(
                err.to_string().contains(&text),
                "{name}: {err} lacks {text:?}"
            );
        }
    }
}

#[test]
fn the_documented_examples_decode() {
    let status: Envelope =
        serde_json::from_str(&read("obico-docs/oe_status_response.json")).unwrap();
    let doc: OeStatus = serde_json::from_str(status.result.unwrap().get()).unwrap();
    assert_eq!(doc.features, Some(63));
    assert_eq!(doc.platform_version.as_deref(), Some("1.0.0"));
    let s = status_from(&doc);
    assert_eq!(s.state, PrinterState::Printing);
    assert_eq!(s.raw_state, "printing");
    let job = s.job.as_ref().unwrap();
    assert_eq!(job.file.as_deref(), Some("example-print"));
    assert_eq!(job.progress, Some(42.5));
    assert_eq!(job.elapsed.unwrap().as_secs(), 3600);
    assert_eq!(job.remaining.unwrap().as_secs(), 4800);
    assert_eq!((job.layer, job.layer_count), (Some(62), Some(145)));
    assert_eq!(job.filament_mm, Some(12345.0));
    let chamber = s.heater(polyprint::Heater::Chamber).unwrap();
    assert_eq!((chamber.actual, chamber.target), (38.2, Some(40.0)));
    assert_eq!(s.heater(polyprint::Heater::Tool(0)).unwrap().actual, 219.8);
    assert_eq!(s.lights, vec![polyprint::Light::new("chamber", true)]);
    let f = s.failure.unwrap();
    assert!((f.score - 0.075).abs() < 1e-9, "{}", f.score);
    assert_eq!(f.verdict, polyprint::FailureVerdict::Ok);
    // Features 63 with a light, but the status copy lists no webcam: no snapshot claimed.
    let features = features_from(&doc);
    assert_eq!(features.bits() & 63, 63);
    assert!(!features.contains(Feature::WebcamSnapshot));
    assert!(features.contains(Feature::PauseResume | Feature::Cancel | Feature::FileList));

    let material: serde_json::Value =
        serde_json::from_str(&read("obico-docs/oe_material_system_object.json")).unwrap();
    let mut with_material = doc.clone();
    with_material.job_status.as_mut().unwrap().material_system = Some(material.clone());
    let round: OeStatus =
        serde_json::from_value(serde_json::to_value(&with_material).unwrap()).unwrap();
    assert_eq!(
        round.job_status.unwrap().material_system.unwrap()["Sources"][0]["Material"]["Type"],
        "PLA"
    );

    let webcams: Envelope =
        serde_json::from_str(&read("obico-docs/oe_webcam_list_response.json")).unwrap();
    let list: WebcamList = serde_json::from_str(webcams.result.unwrap().get()).unwrap();
    assert_eq!(list.default_index, Some(0));
    assert_eq!(list.webcams[0].name, "Webcam Name");
    assert_eq!(list.webcams[0].rotation, Some(0));
    assert_eq!(
        list.webcams[0].snapshot_url.as_deref(),
        Some("/webcam/?action=snapshot")
    );

    let start: Envelope =
        serde_json::from_str(&read("obico-docs/oe_start_print_success.json")).unwrap();
    let start: StartResult = serde_json::from_str(start.result.unwrap().get()).unwrap();
    assert_eq!(
        start.virtual_path.as_deref(),
        Some("gcode/models/benchy.gcode")
    );
    assert_eq!(start.platform_path.as_deref(), Some("models/benchy.gcode"));
    assert_eq!(start.printer_response.unwrap()["result"], "ok");

    for (file, kind) in [
        ("obico-docs/oe_control_success.json", None),
        (
            "obico-docs/oe_control_error_786.json",
            Some(ErrorKind::InvalidState),
        ),
        (
            "obico-docs/oe_plugin_error_785.json",
            Some(ErrorKind::InvalidState),
        ),
    ] {
        let r = read_envelope(
            &response(&read(file)),
            Call::action("pause", Feature::PauseResume),
            "e",
            None,
        );
        assert_eq!(r.as_ref().err().map(|e| e.kind()), kind, "{file}");
    }
}
