//! Input validation: a table of bad inputs, each refused with InvalidArgument before anything
//! is sent (the mock's journal and the virtual printer are unchanged).

use polyprint::{Axes, ErrorKind, Feature, Heater, Jog, Printer, Upload};

use crate::cases::{case_fn, BoxFuture, Case, Needs, When};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_err, finish, Outcome, Step};

/// An action called with bad input.
pub type BadCall = for<'a> fn(&'a dyn Printer) -> BoxFuture<'a, polyprint::Result<()>>;

/// One bad input: its name, the feature its action needs, and the call.
#[derive(Clone, Copy)]
pub struct BadInput {
    /// Short name; the case is `input.<name>`.
    pub name: &'static str,
    /// The feature the action needs (the case runs only where it is supported).
    pub feature: Feature,
    /// The call.
    pub call: BadCall,
}

impl std::fmt::Debug for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BadInput({}, {})", self.name, self.feature)
    }
}

macro_rules! bad {
    ($name:literal, $feature:ident, |$p:ident| $call:expr) => {
        BadInput {
            name: $name,
            feature: Feature::$feature,
            call: {
                fn call($p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
                    Box::pin(async move { $call.await.map(|_| ()) })
                }
                call
            },
        }
    };
}

fn jog(x: f64, speed: Option<f64>) -> Jog {
    Jog {
        x: Some(x),
        speed,
        ..Jog::default()
    }
}

fn upload(name: &str) -> Upload {
    Upload::from_bytes(name.to_string(), "G28\n")
}

fn lines(n: usize, line: &str) -> Vec<String> {
    vec![line.to_string(); n]
}

/// The bad inputs.
pub static BAD_INPUTS: &[BadInput] = &[
    bad!("file_traversal", PrintStart, |p| p
        .start_print("../../etc/passwd.gcode")),
    bad!("file_inner_traversal", PrintStart, |p| p
        .start_print("models/../../secret.gcode")),
    bad!("file_newline", PrintStart, |p| p
        .start_print("a.gcode\nM104 S300")),
    bad!("file_carriage_return", PrintStart, |p| p
        .start_print("a\r.gcode")),
    bad!("file_nul", PrintStart, |p| p.start_print("nul\0.gcode")),
    bad!("file_empty", PrintStart, |p| p.start_print("")),
    bad!("file_blank", PrintStart, |p| p.start_print("   ")),
    bad!("file_absolute", PrintStart, |p| p
        .start_print("/etc/passwd")),
    bad!("file_backslash", PrintStart, |p| p
        .start_print("..\\windows.gcode")),
    bad!("file_too_long", PrintStart, |p| p
        .start_print(&format!("{}.gcode", "x".repeat(300)))),
    bad!("delete_traversal", FileDelete, |p| p
        .delete_file("../demo-cube.gcode")),
    bad!("delete_absolute", FileDelete, |p| p
        .delete_file("/demo-cube.gcode")),
    bad!("upload_traversal", FileUpload, |p| p
        .upload(upload("../evil.gcode"))),
    bad!("upload_newline_name", FileUpload, |p| p
        .upload(upload("a\nb.gcode"))),
    bad!("upload_text_type", FileUpload, |p| p
        .upload(upload("notes.txt"))),
    bad!("upload_executable_type", FileUpload, |p| p
        .upload(upload("payload.exe"))),
    bad!("upload_no_extension", FileUpload, |p| p
        .upload(upload("gcode"))),
    bad!("target_negative", TemperatureControl, |p| p
        .set_target(Heater::Tool(0), -5.0)),
    bad!("target_nan", TemperatureControl, |p| p
        .set_target(Heater::Tool(0), f64::NAN)),
    bad!("target_infinite", TemperatureControl, |p| p
        .set_target(Heater::Bed, f64::INFINITY)),
    bad!("target_huge_tool", TemperatureControl, |p| p
        .set_target(Heater::Tool(0), 1000.0)),
    bad!("target_huge_bed", TemperatureControl, |p| p
        .set_target(Heater::Bed, 500.0)),
    bad!("target_tool_index", TemperatureControl, |p| p
        .set_target(Heater::Tool(16), 200.0)),
    bad!("jog_zero", AxisMovement, |p| p.jog(jog(0.0, None))),
    bad!("jog_nan", AxisMovement, |p| p.jog(jog(f64::NAN, None))),
    bad!("jog_infinite", AxisMovement, |p| p
        .jog(jog(f64::NEG_INFINITY, None))),
    bad!("jog_huge", AxisMovement, |p| p.jog(jog(1e6, None))),
    bad!("jog_no_axis", AxisMovement, |p| p.jog(Jog::default())),
    bad!("jog_negative_speed", AxisMovement, |p| p
        .jog(jog(1.0, Some(-100.0)))),
    bad!("jog_nan_speed", AxisMovement, |p| p
        .jog(jog(1.0, Some(f64::NAN)))),
    bad!("jog_huge_speed", AxisMovement, |p| p
        .jog(jog(1.0, Some(1e9)))),
    bad!("extrude_zero", Extrusion, |p| p.extrude(0.0)),
    bad!("extrude_nan", Extrusion, |p| p.extrude(f64::NAN)),
    bad!("extrude_huge", Extrusion, |p| p.extrude(1e4)),
    bad!("home_no_axes", Homing, |p| p.home(Axes::empty())),
    bad!("gcode_newline", GCode, |p| p
        .send_gcode(&lines(1, "G28\nM104 S300"))),
    bad!("gcode_carriage_return", GCode, |p| p
        .send_gcode(&lines(1, "G28\rM104 S300"))),
    bad!("gcode_control_char", GCode, |p| p
        .send_gcode(&lines(1, "M117 \u{1b}[2J"))),
    bad!("gcode_nul", GCode, |p| p.send_gcode(&lines(1, "M117 a\0b"))),
    bad!("gcode_non_ascii", GCode, |p| p
        .send_gcode(&lines(1, "M117 Gr\u{fc}\u{df}e \u{202e}"))),
    bad!("gcode_too_many_lines", GCode, |p| p
        .send_gcode(&lines(101, "M105"))),
    bad!("gcode_empty_list", GCode, |p| p.send_gcode(&[])),
    bad!("gcode_blank_line", GCode, |p| p.send_gcode(&lines(1, "  "))),
    bad!("gcode_too_long_line", GCode, |p| p
        .send_gcode(&lines(1, &"G1 X1 ".repeat(60)))),
    bad!("history_limit_zero", JobHistory, |p| p.job_history(0)),
    bad!("history_limit_huge", JobHistory, |p| p
        .job_history(1_000_000)),
];

/// What a target looks like from behind the wire, to prove an action changed nothing.
pub(crate) fn footprint(t: &Target) -> (Option<usize>, Option<polyprint::sim::SimView>) {
    (
        t.request_count(),
        t.control.as_ref().map(|c| c.printer().view()),
    )
}

/// Checks that nothing reached the mock or changed the virtual printer since `before`.
pub(crate) fn unchanged(
    t: &Target,
    before: &(Option<usize>, Option<polyprint::sim::SimView>),
    action: &str,
) -> Step {
    let after = footprint(t);
    if let (Some(b), Some(a)) = (before.0, after.0) {
        ensure(a == b, || {
            format!("{action}: {} request(s) reached the mock", a - b)
        })?;
    }
    ensure(after.1 == before.1, || {
        format!("{action}: the virtual printer changed")
    })
}

/// Calls the bad input: InvalidArgument, and nothing sent.
pub async fn check_bad_input(t: &Target, input: &BadInput) -> Outcome {
    finish(
        async {
            let before = footprint(t);
            let r = (input.call)(t.printer.as_ref()).await;
            let e = expect_err(r, ErrorKind::InvalidArgument, input.name)?;
            ensure(!e.to_string().is_empty(), || "empty error message".into())?;
            unchanged(t, &before, input.name)
        }
        .await,
    )
}

/// A case per bad input.
pub fn cases() -> Vec<Case> {
    BAD_INPUTS
        .iter()
        .map(|input| Case {
            name: format!("input.{}", input.name),
            when: When::Supports(input.feature.into()),
            needs: Needs::Printer,
            destructive: false,
            fresh: false,
            run: case_fn(move |t: &Target, _h: &dyn Harness| Box::pin(check_bad_input(t, input))),
        })
        .collect()
}
