//! Every leaf of the recorded status answer replaced by hostile values (`DurationSec: 1e300`
//! used to panic in `Duration::from_secs_f64`): decoded or refused, and mapped without a panic
//! or an absurd duration.

use crate::mapping::status_from;
use crate::OeStatus;
use polyprint::state::MAX_WIRE_DURATION;
use polyprint_conformance::hostile::mutations;
use serde_json::Value;

fn status_sample() -> Value {
    let path = format!(
        "{}/tests/fixtures/samples/obico-docs/oe_status_response.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["Result"].clone()
}

#[test]
fn hostile_values_in_the_status_never_panic() {
    let mut mapped = 0;
    for m in mutations(&status_sample()) {
        if let Ok(s) = serde_json::from_value::<OeStatus>(m) {
            let job = status_from(&s).job.unwrap_or_default();
            for d in [job.elapsed, job.remaining].into_iter().flatten() {
                assert!(d <= MAX_WIRE_DURATION, "{d:?}");
            }
            mapped += 1;
        }
    }
    assert!(mapped > 200, "only {mapped} mutations decoded");
}
