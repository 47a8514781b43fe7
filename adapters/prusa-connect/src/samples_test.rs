//! Every sample in `tests/fixtures/samples/prusa-connect/` decodes (SUSPECT and MANGLED ones
//! are checked to be what they are: not the real shape).

use crate::client::FailureTag;
use crate::state::status_of;
use crate::wire::*;
use crate::CommandSet;
use polyprint::{Heater, PrinterState};
use serde_json::Value;
use std::time::Duration;

fn sample(rel: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/samples/prusa-connect/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn page<T: serde::de::DeserializeOwned>(rel: &str, key: &str) -> Page<T> {
    Page::from_value(sample(rel), key).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn ha_captures() {
    let p: Page<Printer> = page("ha-prusa-connect/printers.json", "printers");
    assert_eq!(p.items.len(), 1);
    assert!(p.pager.is_none(), "this capture has no pager");
    assert_eq!(status_of(&p.items[0]).state, PrinterState::Idle);

    let d: Printer =
        serde_json::from_value(sample("ha-prusa-connect/printer_detail.json")).unwrap();
    let s = status_of(&d);
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Idle, "IDLE")
    );
    assert_eq!(s.heater(Heater::Tool(0)).unwrap().actual, 28.0);
    assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(0.0));
    assert_eq!(s.heater(Heater::Chamber).unwrap().actual, 26.2);
    assert!(s.job.is_none());
    assert_eq!(d.printable_extension.len(), 6);
    assert_eq!(d.last_online, Some(1786403115.9183064));

    let jobs: Page<Job> = page("ha-prusa-connect/jobs.json", "jobs");
    let j = &jobs.items[0];
    assert_eq!((j.id, j.state.as_str()), (1, "FIN_OK"));
    let meta = j.file.as_ref().unwrap().meta.as_ref().unwrap();
    assert_eq!(meta.nozzle_high_flow, Some(1));
    assert_eq!(
        meta.objects_info.as_ref().unwrap().objects[0].polygon.len(),
        49
    );
    assert_eq!(meta.estimated_print_time, Some(1180.0));

    let cmds: Page<CommandDefinition> =
        page("ha-prusa-connect/supported_commands.json", "commands");
    assert_eq!(cmds.items.len(), 48);
    assert_eq!(
        cmds.items
            .iter()
            .filter(|c| c.command == "CANCEL_OBJECT")
            .count(),
        2
    );
    let set = CommandSet::new(cmds.items);
    assert_eq!(set.limits().tool_max, 290.0);
    assert_eq!(set.limits().bed_max, 150.0);
    assert_eq!(set.min_extrude_temp(), Some(170.0));
}

#[test]
fn omarchy_captures() {
    let p: Page<Printer> = page("omarchy-prusa-connect/printing.json", "printers");
    let s = status_of(&p.items[0]);
    assert_eq!(s.state, PrinterState::Printing);
    let job = s.job.unwrap();
    assert_eq!(job.progress, Some(1.0), "1.0 is 1 %");
    assert_eq!(job.remaining, None, "0 means not estimated yet");
    assert_eq!(job.elapsed, Some(Duration::from_secs(117)));
    assert_eq!(
        job.file.as_deref(),
        Some("Shape-Cylinder_0.4n_0.2mm_PETG_MK4IS_45s.bgcode")
    );

    let p: Page<Printer> = page("omarchy-prusa-connect/printers.json", "printers");
    assert_eq!(
        p.pager.as_ref().unwrap().sort_by.as_ref().unwrap()[0].column,
        "name"
    );
    let states: Vec<PrinterState> = p.items.iter().map(|x| status_of(x).state).collect();
    assert_eq!(
        states,
        [
            PrinterState::Offline,
            PrinterState::Attention,
            PrinterState::Offline
        ]
    );
    let xl = status_of(&p.items[1]);
    assert_eq!(xl.raw_state, "FINISHED");
    assert!(xl
        .message
        .clone()
        .unwrap()
        .starts_with("DISPLAY PROBLEM DETECTED"));
    assert!(xl.heater(Heater::Tool(1)).is_some(), "second XL tool");
    assert!(
        status_of(&p.items[0]).heaters.is_empty(),
        "offline: no telemetry"
    );
    assert_eq!(
        p.items[1].dialog_info.as_ref().unwrap().id,
        Some(3_586_002_496)
    );

    let p: Page<Printer> = page("omarchy-prusa-connect/attention.json", "printers");
    let got: Vec<(PrinterState, bool)> = p
        .items
        .iter()
        .map(|x| {
            let s = status_of(x);
            (s.state, s.message.is_some())
        })
        .collect();
    assert_eq!(
        got,
        [
            (PrinterState::Attention, true),
            (PrinterState::Offline, false),
            (PrinterState::Attention, false),
            (PrinterState::Idle, false),
        ]
    );
}

#[test]
fn transcribed_errors_and_prusaslicer() {
    for (f, code) in [
        ("401_unauthorized.json", "UNAUTHORIZED"),
        ("404_endpoint_not_found.json", "NOT_FOUND_ENDPOINT"),
        ("404_snapshot_not_found.json", "NOT_FOUND_SNAPSHOT"),
    ] {
        let e: ApiError =
            serde_json::from_value(sample(&format!("transcribed/errors/{f}"))).unwrap();
        assert_eq!(e.code, code);
    }
    let s: Page<Storage> = page(
        "transcribed/prusaslicer/printer_storages_response.json",
        "storages",
    );
    assert_eq!(s.items[0].mountpoint, "/usb");
    let u: UploadStatus =
        serde_json::from_value(sample("transcribed/prusaslicer/upload_init_response.json"))
            .unwrap();
    assert_eq!(
        (u.id, u.state.as_str(), u.hash.unwrap().len()),
        (1234, "INITIATED", 28)
    );
}

#[test]
fn seed_captures() {
    let real: Page<CommandDefinition> =
        page("ha-prusa-connect/supported_commands.json", "commands");
    let set = CommandSet::new(real.items);
    for f in [
        "cancel_object",
        "flash",
        "move",
        "pause_print",
        "stop_print",
        "template",
    ] {
        let v = sample(&format!(
            "transcribed/seed-capture/commands_sync_request_{f}.json"
        ));
        let name = v["command"].as_str().unwrap();
        let kwargs = v["kwargs"].as_object().unwrap();
        let checked = set.check(name, kwargs);
        assert_eq!(checked.is_ok(), f != "template", "{f}: {checked:?}");
    }
    for f in ["pause_print", "stop_print"] {
        let r: CommandResponse = serde_json::from_value(sample(&format!(
            "transcribed/seed-capture/commands_sync_response_{f}.json"
        )))
        .unwrap();
        assert_eq!(r.command.state, "CREATED");
        assert_eq!(
            r.event.unwrap().state.as_deref(),
            Some("PRINTING"),
            "pre-command state"
        );
    }
    for f in ["download_queue_empty", "queue_get_limit1_empty"] {
        let q: Page<PlannedJob> = page(
            &format!("transcribed/seed-capture/{f}.json"),
            "planned_jobs",
        );
        assert!(q.items.is_empty());
        assert!(
            q.pager.unwrap().from.unwrap() > 1.7e9,
            "from is a timestamp"
        );
    }
    let e: Page<Event> = page(
        "transcribed/seed-capture/events_state_changed.json",
        "events",
    );
    assert_eq!(e.items[0].state.as_deref(), Some("READY"));
    assert_eq!(e.pager.unwrap().total, None, "events pager has no total");
    let inv = sample("transcribed/seed-capture/invitations_empty.json");
    assert!(inv["invitations"].as_array().unwrap().is_empty() && inv["refused"].is_array());

    // Shape only: arrays elided with "..." strings.
    let mut d = sample("transcribed/seed-capture/job_detail_cancelable.elided.json");
    for o in d["cancelable"]["objects"].as_array_mut().unwrap() {
        o["polygon"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p.is_array());
    }
    d["file"]["meta"]["objects_info"]["objects"][0]["polygon"] = Value::Array(vec![]);
    let job: Job = serde_json::from_value(d).unwrap();
    let o = &job.cancelable.unwrap().objects[0];
    assert_eq!((o.id, o.canceled), (0, false));

    let r: FailureReason = serde_json::from_value(
        sample("transcribed/seed-capture/job_patch_reason_request.all_tags.json")["reason"].clone(),
    )
    .unwrap();
    assert_eq!(r.tag.len(), 13);
    assert!(
        r.tag.iter().all(|t| FailureTag::parse(t).is_some()),
        "{r:?}"
    );

    assert_eq!(
        sample("transcribed/seed-capture/notifications_unseen.json")["unseen"],
        1
    );
    let cams: Page<Camera> = page("transcribed/seed-capture/printer_cameras.json", "cameras");
    assert_eq!(cams.items[0].id, 414362);
    assert!(!format!("{:?}", cams.items[0]).contains("token: Some(\"...\")"));
    let types: Page<PrinterType> = page(
        "transcribed/seed-capture/printer_types.elided.json",
        "printer_types",
    );
    assert_eq!(
        (types.items[0].id.as_str(), types.items[0].kind),
        ("1.2.5", 1)
    );
    let q = sample("transcribed/seed-capture/queue_post_request.json");
    assert_eq!(q["path"], "/usb/filename.bgcode");
    let u: Page<UploadStatus> = page(
        "transcribed/seed-capture/team_uploads_state_uploading_empty.json",
        "uploads",
    );
    assert!(u.items.is_empty());
    let v: Version =
        serde_json::from_value(sample("transcribed/seed-capture/version.json")).unwrap();
    assert_eq!(v.commit, "baef7db3");
}

#[test]
fn suspect_and_mangled_are_not_the_real_shape() {
    // MANGLED: args as bare strings do not decode as definitions.
    let mangled = sample("transcribed/seed-capture/supported_commands.MANGLED.json");
    assert!(Page::<CommandDefinition>::from_value(mangled, "commands").is_err());
    // SUSPECT: fields the real capture never has.
    let suspect = sample("transcribed/seed-capture/jobs_list.SUSPECT.json");
    let job = &suspect["jobs"][0];
    assert!(
        job.get("files").is_some()
            && job.get("ts_started").is_some()
            && job["time_remaining"].is_null()
    );
}
