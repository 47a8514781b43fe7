//! The adapter against a real OctoPrint, when `OCTOPRINT_URL` and `OCTOPRINT_API_KEY` are set
//! (`scripts/octoprint/with-server.sh cargo test -p polyprint-octoprint --test live`).
//! Skipped otherwise. It uploads, prints and deletes its own file on the virtual printer.

use std::time::{Duration, Instant};

use polyprint::{Error, Heater, Printer, PrinterState, Upload};
use polyprint_octoprint::OctoPrint;

fn target() -> Option<OctoPrint> {
    let url = std::env::var("OCTOPRINT_URL").ok()?;
    let key = std::env::var("OCTOPRINT_API_KEY").ok()?;
    Some(OctoPrint::new(&url, key).unwrap().with_port("VIRTUAL"))
}

async fn wait_for(p: &OctoPrint, want: &[PrinterState], within: Duration) -> PrinterState {
    let start = Instant::now();
    loop {
        let s = p.status().await.unwrap().state;
        if want.contains(&s) || start.elapsed() > within {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn live_lifecycle() {
    let Some(p) = target() else {
        eprintln!("SKIPPED: OCTOPRINT_URL / OCTOPRINT_API_KEY not set");
        return;
    };
    p.connect().await.unwrap();
    assert!(wait_for(
        &p,
        &[
            PrinterState::Idle,
            PrinterState::Finished,
            PrinterState::Cancelled
        ],
        Duration::from_secs(5)
    )
    .await
    .is_ready());

    let bad = OctoPrint::new(p.transport().endpoint(), "wrong").unwrap();
    assert!(matches!(bad.status().await, Err(Error::Auth { .. })));
    assert!(matches!(bad.pause().await, Err(Error::Auth { .. })));
    assert!(matches!(p.pause().await, Err(Error::InvalidState { .. })));
    assert!(matches!(
        p.start_print("polyprint-missing.gcode").await,
        Err(Error::NotFound { .. })
    ));

    let gcode = polyprint_conformance::live::FAST_GCODE;
    let entry = p
        .upload(Upload::from_bytes("polyprint live (1).gcode", gcode))
        .await
        .unwrap();
    assert_eq!(entry.path, "polyprint live (1).gcode");
    assert!(p
        .list_files()
        .await
        .unwrap()
        .iter()
        .any(|f| f.path == entry.path));

    p.set_target(Heater::Bed, 30.0).await.unwrap();
    p.set_target(Heater::Bed, 0.0).await.unwrap();

    p.start_print(&entry.path).await.unwrap();
    let s = wait_for(&p, &[PrinterState::Finished], Duration::from_secs(20)).await;
    assert_eq!(s, PrinterState::Finished);
    let status = p.status().await.unwrap();
    assert_eq!(status.job.unwrap().progress, Some(100.0));
    assert!(!status.heaters.is_empty());

    p.delete_file(&entry.path).await.unwrap();
    assert!(matches!(
        p.delete_file(&entry.path).await,
        Err(Error::NotFound { .. })
    ));
}
