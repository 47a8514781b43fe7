//! Manual controls: heater targets, jog, home, extrude, G-code, light, snapshot, object
//! cancel, failure detection and the host's connection to its printer.

use std::time::Duration;

use polyprint::sim::DEMO_FILE;
use polyprint::{Axes, Axis, ErrorKind, FailureVerdict, Feature, Heater, Jog, PrinterState};

use crate::cases::lifecycle::{cleanup_cancel, shown, start_and_wait_printing};
use crate::cases::Case;
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_err, expect_ok, finish, Outcome, Step};
use crate::wait::{status, wait_until};

const SHORT: Duration = Duration::from_secs(10);

async fn wait_targets(t: &Target, tool: f64, bed: f64) -> Step {
    let what = format!("targets tool0 {tool} °C, bed {bed} °C");
    wait_until(t, &what, SHORT, |s| {
        let target = |h| s.heater(h).and_then(|r| r.target).unwrap_or(f64::NAN);
        Ok((target(Heater::Tool(0)) - tool).abs() < 0.01
            && (target(Heater::Bed) - bed).abs() < 0.01)
    })
    .await
    .map(|_| ())
}

/// Sets tool0 and bed targets: the status shows them; then switches both off.
pub async fn case_set_target(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            expect_ok(
                t.printer.set_target(Heater::Tool(0), 200.0).await,
                "set_target(tool0, 200)",
            )?;
            expect_ok(
                t.printer.set_target(Heater::Bed, 60.0).await,
                "set_target(bed, 60)",
            )?;
            wait_targets(t, 200.0, 60.0).await?;
            expect_ok(
                t.printer.set_target(Heater::Tool(0), 0.0).await,
                "set_target(tool0, 0)",
            )?;
            expect_ok(
                t.printer.set_target(Heater::Bed, 0.0).await,
                "set_target(bed, 0)",
            )?;
            wait_targets(t, 0.0, 0.0).await
        }
        .await,
    )
}

/// Jogs X and Y at a feed rate: accepted, and (with control) the head moved by exactly that.
pub async fn case_jog(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let before = t.control.as_ref().map(|c| c.printer().view().position);
            let jog = Jog {
                x: Some(10.0),
                y: Some(5.0),
                z: None,
                speed: Some(3000.0),
            };
            expect_ok(t.printer.jog(jog).await, "jog(x 10, y 5)")?;
            if let (Some(c), Some(b)) = (&t.control, before) {
                let p = c.printer().view().position;
                let moved = [p[0] - b[0], p[1] - b[1], p[2] - b[2]];
                ensure(moved == [10.0, 5.0, 0.0], || {
                    format!("the head moved by {moved:?}, not [10, 5, 0]")
                })?;
            }
            expect_ok(t.printer.jog(Jog::along(Axis::Z, 1.0)).await, "jog(z 1)").map(|_| ())
        }
        .await,
    )
}

/// On a live printer at rest but not idle (a job just finished or was stopped), some
/// backends home only an idle printer (Prusa Connect's HOME runs from IDLE and READY): a
/// refusal for that state is the printer's rule, and the case cannot test homing there.
async fn home_refused_for_state(t: &Target) -> Step {
    if t.control.is_some() {
        return Ok(());
    }
    let s = status(t).await?;
    if s.state == PrinterState::Idle {
        return Ok(());
    }
    match t.printer.home(Axes::all()).await {
        Err(e) if e.kind() == ErrorKind::InvalidState => Err(Outcome::skip(format!(
            "the printer homes only when idle, and it is {}: {e}",
            s.state
        ))),
        _ => Ok(()),
    }
}

/// Homes X and Y: accepted, and (with control) exactly those axes went to 0.
pub async fn case_home(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            if let Some(c) = &t.control {
                c.printer()
                    .lock()
                    .jog(20.0, 30.0, 40.0)
                    .map_err(|e| Outcome::fail(format!("setup jog: {e}")))?;
            }
            home_refused_for_state(t).await?;
            if t.printer.limits().home_all_axes_only {
                // Partial homing is refused before anything is sent; all axes home together.
                let before = t.request_count();
                expect_err(
                    t.printer.home(Axis::X | Axis::Y).await,
                    ErrorKind::InvalidArgument,
                    "home(x, y) on a printer that homes all axes together",
                )?;
                ensure(t.request_count() == before, || {
                    "the refused partial home reached the server".into()
                })?;
                expect_ok(t.printer.home(Axes::all()).await, "home(x, y, z)")?;
                if let Some(c) = &t.control {
                    let p = c.printer().view().position;
                    ensure(p == [0.0; 3], || {
                        format!("after homing every axis the head is at {p:?}")
                    })?;
                }
                return Ok(());
            }
            expect_ok(t.printer.home(Axis::X | Axis::Y).await, "home(x, y)")?;
            if let Some(c) = &t.control {
                let p = c.printer().view().position;
                ensure(p == [0.0, 0.0, 40.0], || {
                    format!("after homing x and y the head is at {p:?}")
                })?;
            }
            expect_ok(t.printer.home(Axis::Z.into()).await, "home(z)").map(|_| ())
        }
        .await,
    )
}

/// Heats the nozzle where the printer allows it (cold extrusion is refused by printers), then
/// extrudes and retracts: both accepted.
pub async fn case_extrude(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            // Printers refuse cold extrusion (Prusa's MOVE_E needs 170 °C; Marlin's own guard
            // too): heat the nozzle first where the printer lets us, as a person would.
            if expect_ok(t.printer.features().await, "features")?
                .contains(Feature::TemperatureControl)
            {
                expect_ok(
                    t.printer.set_target(Heater::Tool(0), 210.0).await,
                    "set_target(tool0, 210)",
                )?;
                wait_until(
                    t,
                    "tool0 at 180 °C or more",
                    Duration::from_secs(60),
                    |s| Ok(s.heater(Heater::Tool(0)).is_some_and(|h| h.actual >= 180.0)),
                )
                .await?;
            }
            expect_ok(t.printer.extrude(5.0).await, "extrude(5)")?;
            expect_ok(t.printer.extrude(-2.0).await, "extrude(-2)")?;
            if expect_ok(t.printer.features().await, "features")?
                .contains(Feature::TemperatureControl)
            {
                expect_ok(
                    t.printer.set_target(Heater::Tool(0), 0.0).await,
                    "set_target(tool0, 0)",
                )?;
            }
            Ok(())
        }
        .await,
    )
}

/// Sends two G-code lines: accepted, and (with control) the printer received them in order.
pub async fn case_gcode(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let lines = vec!["M117 polyprint conformance".to_string(), "M105".to_string()];
            expect_ok(t.printer.send_gcode(&lines).await, "send_gcode")?;
            if let Some(c) = &t.control {
                let log = c.printer().lock().gcode_log().to_vec();
                ensure(log.ends_with(&lines), || {
                    format!("the printer received {log:?}")
                })?;
            }
            Ok(())
        }
        .await,
    )
}

/// Switches the light on, then off: the status follows.
pub async fn case_light(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            for on in [true, false] {
                expect_ok(t.printer.set_light(on).await, &format!("set_light({on})"))?;
                wait_until(t, &format!("light {on}"), SHORT, |s| {
                    Ok(!s.lights.is_empty() && s.lights.iter().any(|l| l.on) == on)
                })
                .await?;
            }
            Ok(())
        }
        .await,
    )
}

/// Takes a snapshot: an image with a body of the type it says.
pub async fn case_snapshot(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let snap = expect_ok(t.printer.snapshot().await, "snapshot")?;
            ensure(snap.content_type.starts_with("image/"), || {
                format!("content type {:?} is not an image", snap.content_type)
            })?;
            ensure(!snap.bytes.is_empty(), || "the snapshot is empty".into())?;
            if snap.content_type == "image/jpeg" {
                ensure(snap.bytes.starts_with(&[0xFF, 0xD8]), || {
                    "not a JPEG (no FF D8)".into()
                })?;
            }
            Ok(())
        }
        .await,
    )
}

/// Cancels one object of a running job; the same object again, or one that does not exist,
/// is NotFound.
pub async fn case_cancel_object(t: &Target, h: &dyn Harness) -> Outcome {
    let result = async {
        start_and_wait_printing(t, h, &h.long_print_file()).await?;
        expect_ok(t.printer.cancel_object(0).await, "cancel_object(0)")?;
        if let Some(c) = &t.control {
            let objects = c.printer().view().objects;
            ensure(objects.iter().any(|o| o.id == 0 && o.cancelled), || {
                format!("objects: {objects:?}")
            })?;
        }
        expect_err(
            t.printer.cancel_object(0).await,
            ErrorKind::NotFound,
            "cancel_object(0) again",
        )?;
        expect_err(
            t.printer.cancel_object(999).await,
            ErrorKind::NotFound,
            "cancel_object(999)",
        )?;
        expect_ok(t.printer.cancel().await, "cancel").map(|_| ())
    }
    .await;
    if result.is_err() {
        cleanup_cancel(t).await;
    }
    finish(result)
}

/// With a high failure score set on the virtual printer, a running job reports it, with the
/// Failing verdict.
pub async fn case_failure_detection(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let Some(c) = &t.control else {
                return Err(Outcome::skip("needs mock control"));
            };
            {
                let mut g = c.printer().lock();
                g.set_failure_score(0.8);
                g.start(DEMO_FILE)
                    .map_err(|e| Outcome::fail(format!("setup: {e}")))?;
            }
            let s = status(t).await?;
            let f = s
                .failure
                .ok_or_else(|| Outcome::fail("no failure detection while printing"))?;
            ensure((f.score - 0.8).abs() < 0.01, || {
                format!("score {} instead of 0.8", f.score)
            })?;
            ensure(f.verdict == FailureVerdict::Failing, || {
                format!("verdict {:?} for 0.8", f.verdict)
            })
        }
        .await,
    )
}

/// Disconnects the host from its printer (Offline), then connects it again (ready: Idle,
/// or Finished/Cancelled where the backend remembers the last job).
pub async fn case_connection(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let offline = shown(h, PrinterState::Offline, PrinterState::Offline);
            expect_ok(t.printer.disconnect().await, "disconnect")?;
            wait_until(t, offline.name(), SHORT, |s| {
                if s.state == offline {
                    Ok(true)
                } else if s.state.is_ready() {
                    Ok(false)
                } else {
                    Err(format!(
                        "unexpected state {} (raw {:?})",
                        s.state, s.raw_state
                    ))
                }
            })
            .await?;
            expect_ok(t.printer.connect().await, "connect")?;
            wait_until(t, "a ready state", SHORT, |s| match s.state {
                s if s.is_ready() => Ok(true),
                PrinterState::Busy | PrinterState::Unknown => Ok(false),
                s if s == offline => Ok(false),
                _ => Err(format!(
                    "unexpected state {} (raw {:?})",
                    s.state, s.raw_state
                )),
            })
            .await
            .map(|_| ())
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    use Feature::*;
    vec![
        case!(
            "controls.set_target",
            TemperatureControl.into(),
            Printer,
            true,
            case_set_target
        ),
        case!("controls.jog", AxisMovement.into(), Printer, true, case_jog),
        case!("controls.home", Homing.into(), Printer, true, case_home),
        case!(
            "controls.extrude",
            Extrusion.into(),
            Printer,
            true,
            case_extrude
        ),
        case!("controls.gcode", GCode.into(), Printer, true, case_gcode),
        case!(
            "controls.light",
            LightControl.into(),
            Printer,
            true,
            case_light
        ),
        case!(
            "controls.snapshot",
            WebcamSnapshot.into(),
            Printer,
            false,
            case_snapshot
        ),
        case!(
            "controls.cancel_object",
            PrintStart | ObjectCancel | Cancel,
            Printer,
            true,
            case_cancel_object
        ),
        case!(
            "controls.failure_detection",
            PrintStart | FailureDetection,
            Control,
            true,
            case_failure_detection
        ),
        case!(
            "controls.connection",
            ConnectionControl.into(),
            Printer,
            true,
            case_connection
        ),
    ]
}
