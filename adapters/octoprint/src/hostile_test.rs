//! Every leaf of the recorded printer, job and file-list answers replaced by hostile values
//! (`printTime: 1e300` used to panic in `Duration::from_secs_f64`): each mutation is decoded
//! or refused, and what decodes maps without a panic and with no absurd duration.

use crate::mapping::file_entries;
use crate::mapping::map_status;
use crate::wire::{FilesResponse, JobResponse, PrinterResponse};
use polyprint::state::MAX_WIRE_DURATION;
use polyprint::PrinterStatus;
use polyprint_conformance::hostile::mutations;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/samples/octoprint/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn sane(s: &PrinterStatus) {
    let job = s.job.clone().unwrap_or_default();
    for d in [job.elapsed, job.remaining].into_iter().flatten() {
        assert!(d <= MAX_WIRE_DURATION, "{d:?}");
    }
}

#[test]
fn hostile_values_in_status_and_file_bodies_never_panic() {
    let printer_v = sample("printer_printing.json");
    let job_v = sample("job_printing.json");
    let printer: PrinterResponse = serde_json::from_value(printer_v.clone()).unwrap();
    let job: JobResponse = serde_json::from_value(job_v.clone()).unwrap();
    let mut mapped = 0;
    for m in mutations(&job_v) {
        if let Ok(j) = serde_json::from_value::<JobResponse>(m) {
            sane(&map_status(Some(printer.clone()), j.clone()));
            sane(&map_status(None, j));
            mapped += 1;
        }
    }
    for m in mutations(&printer_v) {
        if let Ok(p) = serde_json::from_value::<PrinterResponse>(m) {
            sane(&map_status(Some(p), job.clone()));
            mapped += 1;
        }
    }
    for m in mutations(&sample("files_list_recursive.json")) {
        if let Ok(f) = serde_json::from_value::<FilesResponse>(m) {
            file_entries(&f.files);
            mapped += 1;
        }
    }
    assert!(mapped > 500, "only {mapped} mutations decoded");

    let mut huge = job_v;
    huge["progress"]["printTime"] = serde_json::json!(1e300);
    huge["progress"]["printTimeLeft"] = serde_json::json!(-1e300);
    let j: JobResponse = serde_json::from_value(huge).unwrap();
    let job = map_status(Some(printer), j).job.unwrap();
    assert_eq!((job.elapsed, job.remaining), (None, None));
}
