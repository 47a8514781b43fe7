//! Hostile bodies for decoder tests: every leaf of a recorded sample replaced, one at a time,
//! by a value that has broken decoders before (`1e300` reaching `Duration::from_secs_f64`, a
//! number where text was expected, control characters, a very long string). An adapter's
//! sample tests decode and map each mutation and must not panic; a decode error is fine.
//!
//! ```
//! use polyprint_conformance::hostile::{mutations, HOSTILE};
//! use serde_json::json;
//!
//! let sample = json!({"progress": {"printTime": 12.5, "completion": 40}});
//! let all = mutations(&sample);
//! assert_eq!(all.len(), 2 * HOSTILE.len() + 1); // and one long string
//! assert!(all.contains(&json!({"progress": {"printTime": 1e300, "completion": 40}})));
//! ```

use serde_json::{json, Value};

/// The hostile values, as JSON text (parsed by [`hostile_values`]).
pub const HOSTILE: &[&str] = &[
    "1e300",
    "-1e300",
    "1.7976931348623157e308",
    "18446744073709551615",
    "-9223372036854775808",
    "-1",
    "0",
    "0.5",
    "\"1e300\"",
    "\"NaN\"",
    "\"-inf\"",
    "\"\"",
    "\"\\u001b[2J\\u0007\\r\\nFAKE\"",
    "null",
    "true",
    "[]",
    "{}",
];

/// The [`HOSTILE`] values, parsed.
pub fn hostile_values() -> Vec<Value> {
    HOSTILE
        .iter()
        .map(|t| serde_json::from_str(t).expect("hostile values are valid JSON"))
        .collect()
}

/// Every copy of `sample` with exactly one leaf (a number, string, bool or null inside any
/// object or array) replaced by one of the [`HOSTILE`] values, plus one copy per leaf with a
/// 100,000-character string.
pub fn mutations(sample: &Value) -> Vec<Value> {
    let values = hostile_values();
    let mut paths = Vec::new();
    leaves(sample, &mut Vec::new(), &mut paths);
    let mut out = Vec::with_capacity(paths.len() * values.len());
    for path in &paths {
        for v in &values {
            let mut copy = sample.clone();
            if let Some(slot) = at(&mut copy, path) {
                *slot = v.clone();
            }
            out.push(copy);
        }
    }
    // Long text once per sample (a long string in every leaf would make many large copies).
    if let Some(path) = paths.first() {
        let mut copy = sample.clone();
        if let Some(slot) = at(&mut copy, path) {
            *slot = json!("x".repeat(100_000));
        }
        out.push(copy);
    }
    out
}

/// A step into a JSON value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn leaves(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                here.push(Step::Key(k.clone()));
                leaves(child, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(Step::Index(i));
                leaves(child, here, out);
                here.pop();
            }
        }
        _ => out.push(here.clone()),
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k),
        Step::Index(i) => v.get_mut(*i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_gets_every_value() {
        let sample = json!({"a": [1, {"b": "x"}], "c": null, "d": {}});
        let all = mutations(&sample);
        // Leaves: a[0], a[1].b, c (an empty object has none); plus one long string.
        assert_eq!(all.len(), 3 * HOSTILE.len() + 1);
        assert!(all.contains(&json!({"a": [1, {"b": 1e300}], "c": null, "d": {}})));
        assert!(all.contains(&json!({"a": [1, {"b": "x"}], "c": [], "d": {}})));
    }
}
