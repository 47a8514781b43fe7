//! Every leaf of the printer and print samples replaced by hostile values (`printTime: 1e300`
//! used to panic in `Duration::from_secs_f64`): decoded or refused, and mapped without a
//! panic or an absurd duration.

use crate::mapping::{record_of, status_from};
use crate::{ObicoPrint, ObicoPrinter};
use polyprint::state::MAX_WIRE_DURATION;
use polyprint_conformance::hostile::mutations;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/samples/obico/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn hostile_values_in_printer_and_print_bodies_never_panic() {
    let mut mapped = 0;
    for name in [
        "printer_octoprint_paused.json",
        "printer_moonraker_printing.json",
        "printer_oauth_idle.json",
    ] {
        for m in mutations(&sample(name)) {
            if let Ok(p) = serde_json::from_value::<ObicoPrinter>(m) {
                let job = status_from(&p).job.unwrap_or_default();
                for d in [job.elapsed, job.remaining].into_iter().flatten() {
                    assert!(d <= MAX_WIRE_DURATION, "{name}: {d:?}");
                }
                mapped += 1;
            }
        }
    }
    for m in mutations(&sample("prints_list.json")) {
        if let Ok(prints) = serde_json::from_value::<Vec<ObicoPrint>>(m) {
            prints.iter().for_each(|p| drop(record_of(p)));
            mapped += 1;
        }
    }
    assert!(mapped > 500, "only {mapped} mutations decoded");
}
