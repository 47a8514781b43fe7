//! What `features()` claims holds from the first call: on a fresh printer, before any status,
//! every claimed action is tried once with valid input and none is refused as Unsupported.
//! (Other refusals are fine here: an idle printer cannot pause, a missing file is NotFound;
//! those have cases of their own.)

use polyprint::{Axes, Axis, Error, Feature, Heater, Jog, Printer, Upload};

use crate::cases::{none, BoxFuture, Case};
use crate::harness::{Harness, Target};
use crate::outcome::{expect_ok, finish, Outcome, Step};

/// A file name no printer has.
const MISSING: &str = "polyprint-claims-missing.gcode";

/// One valid call of the action that needs `feature`; `None` where the trait has no action.
fn try_action(p: &dyn Printer, feature: Feature) -> Option<BoxFuture<'_, polyprint::Result<()>>> {
    Some(match feature {
        Feature::LightControl => Box::pin(async move { p.set_light(false).await }),
        Feature::AxisMovement => Box::pin(async move { p.jog(Jog::along(Axis::Z, 1.0)).await }),
        Feature::Homing => Box::pin(async move { p.home(Axes::all()).await }),
        Feature::Extrusion => Box::pin(async move { p.extrude(1.0).await }),
        Feature::TemperatureControl => {
            Box::pin(async move { p.set_target(Heater::Bed, 0.0).await })
        }
        Feature::PrintStart => Box::pin(async move { p.start_print(MISSING).await }),
        Feature::PauseResume => Box::pin(async move { p.pause().await }),
        Feature::Cancel => Box::pin(async move { p.cancel().await }),
        Feature::FileList => Box::pin(async move { p.list_files().await.map(drop) }),
        Feature::FileUpload => Box::pin(async move {
            let name = "polyprint-claims.gcode";
            p.upload(Upload::from_bytes(name, "G28\n")).await.map(drop)
        }),
        Feature::FileDelete => Box::pin(async move { p.delete_file(MISSING).await }),
        Feature::WebcamSnapshot => Box::pin(async move { p.snapshot().await.map(drop) }),
        Feature::GCode => Box::pin(async move { p.send_gcode(&["M105".to_string()]).await }),
        Feature::ObjectCancel => Box::pin(async move { p.cancel_object(0).await }),
        Feature::JobHistory => Box::pin(async move { p.job_history(5).await.map(drop) }),
        Feature::ConnectionControl => Box::pin(async move { p.connect().await }),
        Feature::PrintQueue => Box::pin(async move { p.print_queue().await.map(drop) }),
        Feature::StatusPush => Box::pin(async move { p.status_feed().await.map(drop) }),
        Feature::FailureDetection => return None,
    })
}

async fn claims_hold(t: &Target) -> Step {
    let claimed = expect_ok(t.printer.features().await, "features() on a fresh printer")?;
    for feature in claimed.iter() {
        let Some(call) = try_action(t.printer.as_ref(), feature) else {
            continue;
        };
        if let Err(Error::Unsupported { feature: f, .. }) = call.await {
            return Err(Outcome::fail(format!(
                "features() claimed {feature}, then its action was refused as Unsupported({f})"
            )));
        }
    }
    Ok(())
}

/// On a fresh printer: nothing `features()` claims is then refused with Unsupported.
pub async fn case_hold_on_a_fresh_printer(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(claims_hold(t).await)
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    let mut hold = case!(
        "claims.hold_on_a_fresh_printer",
        none(),
        Printer,
        true,
        case_hold_on_a_fresh_printer
    );
    hold.fresh = true;
    vec![hold]
}
