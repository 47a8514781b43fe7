//! The adapter against a real OctoPrint, when `OCTOPRINT_URL` and `OCTOPRINT_API_KEY` are set
//! (`scripts/octoprint/with-server.sh cargo test -p polyprint-octoprint --test live`).
//! Skipped otherwise. It uploads, prints and deletes its own file on the virtual printer.

use std::time::{Duration, Instant};

use polyprint::{Error, Heater, Printer, PrinterState, Upload};
use polyprint_octoprint::OctoPrint;

fn target() -> Option<OctoPrint> {
    std::env::var("OCTOPRINT_URL").ok()?;
    // The variables a user's program would read too.
    let builder = polyprint_octoprint::OctoPrintBuilder::from_env().unwrap();
    Some(builder.port("VIRTUAL").build().unwrap())
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

/// What two statuses of the same moment share exactly (readings and elapsed times move).
fn moment(s: &polyprint::PrinterStatus) -> impl PartialEq + std::fmt::Debug {
    let targets: Vec<_> = s.heaters.iter().map(|h| (h.heater, h.target)).collect();
    (
        s.state,
        s.raw_state.clone(),
        s.message.clone(),
        s.job.as_ref().and_then(|j| j.file.clone()),
        targets,
    )
}

/// The next pushed status within 5 s.
async fn pushed(feed: &mut polyprint::watch::StatusFeed) -> polyprint::PrinterStatus {
    use futures_util::StreamExt;
    tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("a push within 5 s")
        .expect("the feed goes on")
        .expect("a pushed status")
}

/// A real print seen through the websocket, compared with REST reads of the same moments:
/// idle before, printing during, finished after, and the two agree where the printer
/// stands still.
#[tokio::test]
async fn live_push_agrees_with_rest() {
    let Some(p) = target() else {
        eprintln!("SKIPPED: OCTOPRINT_URL / OCTOPRINT_API_KEY not set");
        return;
    };
    p.connect().await.unwrap();
    wait_for(&p, &[PrinterState::Idle], Duration::from_secs(5)).await;
    let mut feed = p.status_feed().await.unwrap();
    let first = pushed(&mut feed).await;
    // `history` comes first; then `current` every ~0.5 s. Settled: the next push and a read.
    let settled = pushed(&mut feed).await;
    let read = p.status().await.unwrap();
    assert_eq!(moment(&settled), moment(&read), "idle");
    assert!(first.state.is_ready(), "{first:?}");

    let name = "polyprint push.gcode";
    // Long enough (a few seconds) that pushes every ~0.5 s catch it printing.
    p.upload(Upload::from_bytes(
        name,
        polyprint_conformance::live::slow_gcode(),
    ))
    .await
    .unwrap();
    p.start_print(name).await.unwrap();
    let mut states = Vec::new();
    let started = Instant::now();
    loop {
        let s = pushed(&mut feed).await;
        // Until the server has taken the new job, the last one's Finished may still show.
        let ours = s.job.as_ref().and_then(|j| j.file.as_deref()) == Some(name);
        if !ours {
            continue;
        }
        if states.last() != Some(&s.state) {
            states.push(s.state);
        }
        if s.state == PrinterState::Finished || started.elapsed() > Duration::from_secs(90) {
            break;
        }
    }
    assert!(states.contains(&PrinterState::Printing), "{states:?}");
    assert_eq!(states.last(), Some(&PrinterState::Finished), "{states:?}");
    // Finished holds: a push and a read now show the same moment, progress included.
    let after = pushed(&mut feed).await;
    let read = p.status().await.unwrap();
    assert_eq!(moment(&after), moment(&read), "finished");
    assert_eq!(after.job.as_ref().and_then(|j| j.progress), Some(100.0));
    p.delete_file(name).await.unwrap();
}
