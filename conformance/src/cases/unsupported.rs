//! For every feature a target lacks: its action is refused with Unsupported (naming that
//! feature), even with bad input, and nothing reaches the mock.

use polyprint::sim::DEMO_FILE;
use polyprint::{Axis, Error, Feature, Heater, Jog, Printer, Upload};

use crate::cases::input::{footprint, unchanged};
use crate::cases::{case_fn, BoxFuture, Case, Needs, When};
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, finish, Outcome, Step};
use crate::wait::status;

type Probe = for<'a> fn(&'a dyn Printer) -> BoxFuture<'a, polyprint::Result<()>>;

macro_rules! probe {
    (|$p:ident| $call:expr) => {{
        fn call($p: &dyn Printer) -> BoxFuture<'_, polyprint::Result<()>> {
            Box::pin(async move { $call.await.map(|_| ()) })
        }
        call as Probe
    }};
}

/// The calls that need `feature` (one with bad input, where there is input: the refusal
/// must win over validation).
fn probes(feature: Feature) -> Vec<Probe> {
    match feature {
        Feature::LightControl => vec![probe!(|p| p.set_light(true))],
        Feature::AxisMovement => vec![
            probe!(|p| p.jog(Jog::along(Axis::X, 1.0))),
            probe!(|p| p.jog(Jog::along(Axis::X, f64::NAN))),
        ],
        Feature::Homing => vec![probe!(|p| p.home(Axis::X.into()))],
        Feature::Extrusion => vec![probe!(|p| p.extrude(1.0)), probe!(|p| p.extrude(0.0))],
        Feature::TemperatureControl => vec![
            probe!(|p| p.set_target(Heater::Bed, 50.0)),
            probe!(|p| p.set_target(Heater::Bed, -5.0)),
        ],
        Feature::PrintStart => vec![
            probe!(|p| p.start_print(DEMO_FILE)),
            probe!(|p| p.start_print("../x.gcode")),
        ],
        Feature::PauseResume => vec![probe!(|p| p.pause()), probe!(|p| p.resume())],
        Feature::Cancel => vec![probe!(|p| p.cancel())],
        Feature::FileList => vec![probe!(|p| p.list_files())],
        Feature::FileUpload => vec![
            probe!(|p| p.upload(Upload::from_bytes("polyprint.gcode", "G28\n"))),
            probe!(|p| p.upload(Upload::from_bytes("../x.txt", "G28\n"))),
        ],
        Feature::FileDelete => vec![probe!(|p| p.delete_file(DEMO_FILE))],
        Feature::WebcamSnapshot => vec![probe!(|p| p.snapshot())],
        Feature::GCode => vec![
            probe!(|p| p.send_gcode(&["M105".to_string()])),
            probe!(|p| p.send_gcode(&[])),
        ],
        Feature::ObjectCancel => vec![probe!(|p| p.cancel_object(0))],
        Feature::JobHistory => vec![probe!(|p| p.job_history(5)), probe!(|p| p.job_history(0))],
        Feature::ConnectionControl => vec![probe!(|p| p.connect()), probe!(|p| p.disconnect())],
        Feature::PrintQueue => vec![
            probe!(|p| p.print_queue()),
            probe!(|p| p.enqueue(DEMO_FILE)),
            probe!(|p| p.enqueue("../x.gcode")),
        ],
        Feature::StatusPush => vec![probe!(|p| p.status_feed())],
        Feature::FailureDetection => Vec::new(),
    }
}

async fn refused(t: &Target, feature: Feature) -> Step {
    if feature == Feature::FailureDetection {
        // Not an action: a backend without it must not report a failure score.
        let s = status(t).await?;
        return ensure(s.failure.is_none(), || {
            "reports failure detection it does not claim".into()
        });
    }
    let calls = probes(feature);
    if calls.is_empty() {
        return Err(Outcome::skip(format!(
            "the Printer trait has no action for {feature}"
        )));
    }
    for (i, call) in calls.into_iter().enumerate() {
        let action = format!("{feature} call {}", i + 1);
        let before = footprint(t);
        match call(t.printer.as_ref()).await {
            Err(Error::Unsupported { feature: f, .. }) if f == feature => {}
            Err(e) => {
                return Err(Outcome::fail(format!(
                    "{action}: expected Unsupported({feature}), got {e}"
                )))
            }
            Ok(()) => {
                return Err(Outcome::fail(format!(
                    "{action}: expected Unsupported({feature}), got Ok"
                )))
            }
        }
        unchanged(t, &before, &action)?;
    }
    Ok(())
}

/// The generated case for one lacking feature.
pub async fn case_refused(t: &Target, _h: &dyn Harness, feature: Feature) -> Outcome {
    finish(refused(t, feature).await)
}

/// A case per feature, run where the target lacks it.
pub fn cases() -> Vec<Case> {
    Feature::all()
        .map(|feature| Case {
            name: format!("unsupported.{}", feature.name()),
            when: When::Lacks(feature),
            needs: Needs::Printer,
            destructive: false,
            fresh: false,
            run: case_fn(move |t: &Target, h: &dyn Harness| Box::pin(case_refused(t, h, feature))),
        })
        .collect()
}
