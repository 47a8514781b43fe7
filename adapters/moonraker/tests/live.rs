//! The adapter against a real Moonraker + Klipper, when `MOONRAKER_URL` is set
//! (`scripts/moonraker/with-server.sh cargo test -p polyprint-moonraker --features mock --test
//! live -- --test-threads=1`); skipped otherwise. The tests share the printer: run them one at
//! a time. Each starts by bringing the printer to rest (Klippy ready, no job, last job
//! cleared, heaters off), uploads its own short files (G28 and fast moves, no heating, no
//! extrusion) and deletes them.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use polyprint::{
    Axes, Axis, ErrorKind, Feature, Heater, JobOutcome, Jog, Printer, PrinterState, PrinterStatus,
    Upload,
};
use polyprint_moonraker::Moonraker;

const LONG: &str = "polyprint-live-long.gcode";
const SHORT: &str = "polyprint-live-short.gcode";

fn target() -> Option<Moonraker> {
    let url = std::env::var("MOONRAKER_URL").ok()?;
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "live tests only talk to servers on 127.0.0.1, not {url}"
    );
    // The variables a user's program would read too.
    let builder = polyprint_moonraker::MoonrakerBuilder::from_env().unwrap();
    Some(builder.build().unwrap())
}

macro_rules! live {
    () => {
        match target() {
            Some(p) => p,
            None => {
                eprintln!(
                    "SKIPPED: MOONRAKER_URL not set (run under scripts/moonraker/with-server.sh)"
                );
                return;
            }
        }
    };
}

/// A print of two objects over `layers` layers: G28, then squares at F6000, with
/// `EXCLUDE_OBJECT_DEFINE` and `SET_PRINT_STATS_INFO`; no heating, no extrusion.
fn gcode(layers: u32) -> String {
    let mut g = String::from(
        "; polyprint live test\n\
         EXCLUDE_OBJECT_DEFINE NAME=part_a CENTER=50,50 POLYGON=[[40,40],[60,40],[60,60],[40,60]]\n\
         EXCLUDE_OBJECT_DEFINE NAME=part_b CENTER=150,50 POLYGON=[[140,40],[160,40],[160,60],[140,60]]\n\
         G28\nG90\n",
    );
    g.push_str(&format!("SET_PRINT_STATS_INFO TOTAL_LAYER={layers}\n"));
    for layer in 1..=layers {
        g.push_str(&format!(
            "SET_PRINT_STATS_INFO CURRENT_LAYER={layer}\nG1 Z{:.1} F600\n",
            0.2 * f64::from(layer)
        ));
        for (name, x) in [("part_a", 40), ("part_b", 140)] {
            g.push_str(&format!("EXCLUDE_OBJECT_START NAME={name}\n"));
            for (dx, dy) in [(0, 0), (20, 0), (20, 20), (0, 20), (0, 0)] {
                g.push_str(&format!("G1 X{} Y{} F6000\n", x + dx, 40 + dy));
            }
            g.push_str(&format!("EXCLUDE_OBJECT_END NAME={name}\n"));
        }
    }
    g.push_str("G1 X0 Y0 F6000\n");
    g
}

async fn wait_for(p: &Moonraker, want: &[PrinterState], within: Duration) -> PrinterStatus {
    let start = Instant::now();
    loop {
        let s = p.status().await.unwrap();
        if want.contains(&s.state) || start.elapsed() > within {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Brings the printer to rest: Klippy ready, no job, the last job cleared, heaters off.
async fn at_rest(p: &Moonraker) {
    let s = wait_for(
        p,
        &[
            PrinterState::Idle,
            PrinterState::Finished,
            PrinterState::Cancelled,
            PrinterState::Printing,
            PrinterState::Paused,
            PrinterState::WarmingUp,
            PrinterState::Busy,
            PrinterState::Error,
        ],
        Duration::from_secs(20),
    )
    .await;
    if s.state == PrinterState::Error && s.raw_state == "shutdown" {
        p.firmware_restart().await.unwrap();
    }
    let s = wait_for(
        p,
        &[
            PrinterState::Idle,
            PrinterState::Finished,
            PrinterState::Cancelled,
            PrinterState::Printing,
            PrinterState::Paused,
            PrinterState::WarmingUp,
        ],
        Duration::from_secs(20),
    )
    .await;
    if s.state.has_active_job() || s.state == PrinterState::WarmingUp {
        p.cancel().await.unwrap();
    }
    let s = wait_for(
        p,
        &[
            PrinterState::Idle,
            PrinterState::Finished,
            PrinterState::Cancelled,
        ],
        Duration::from_secs(20),
    )
    .await;
    if s.state != PrinterState::Idle {
        p.clear_last_job().await.unwrap();
    }
    for h in [Heater::Tool(0), Heater::Bed] {
        p.set_target(h, 0.0).await.unwrap();
    }
    let s = wait_for(p, &[PrinterState::Idle], Duration::from_secs(20)).await;
    assert_eq!(s.state, PrinterState::Idle, "{s:?}");
}

async fn upload(p: &Moonraker, name: &str, layers: u32) {
    let e = p
        .upload(Upload::from_bytes(name, gcode(layers)))
        .await
        .unwrap();
    assert_eq!(e.path, name);
}

#[tokio::test]
async fn live_lifecycle_and_refusals_while_printing() {
    let p = live!();
    at_rest(&p).await;
    upload(&p, LONG, 12).await;
    assert!(p.list_files().await.unwrap().iter().any(|f| f.path == LONG));
    p.start_print(LONG).await.unwrap();
    let s = wait_for(&p, &[PrinterState::Printing], Duration::from_secs(10)).await;
    assert_eq!(s.state, PrinterState::Printing, "{s:?}");
    let j = s.job.clone().unwrap();
    assert_eq!(j.file.as_deref(), Some(LONG));
    assert_eq!(j.layer_count, Some(12));
    let p1 = j.progress.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p2 = p.status().await.unwrap().job.unwrap().progress.unwrap();
    assert!(p2 > p1, "progress {p1} then {p2}");

    // Refused before sending while printing.
    for (what, r, kind) in [
        ("start", p.start_print(SHORT).await, ErrorKind::InvalidState),
        ("resume", p.resume().await, ErrorKind::InvalidState),
        (
            "jog",
            p.jog(Jog::along(Axis::X, 1.0)).await,
            ErrorKind::InvalidState,
        ),
        ("home", p.home(Axes::all()).await, ErrorKind::InvalidState),
        ("object 5", p.cancel_object(5).await, ErrorKind::NotFound),
    ] {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), kind, "{what}: {e}");
    }
    // Deleting the file being printed: Moonraker's 403.
    let e = p.delete_file(LONG).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    // Cancel one object: EXCLUDE_OBJECT with Klipper's (upper-cased) name.
    p.cancel_object(1).await.unwrap();
    let spec = vec![("exclude_object".to_string(), None)];
    let o = p.query_objects(&spec).await.unwrap();
    let (objects, excluded) = o.job_objects();
    assert_eq!(objects, ["PART_A", "PART_B"]);
    assert_eq!(excluded, ["PART_B"]);
    let e = p.cancel_object(1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    p.pause().await.unwrap();
    let s = wait_for(&p, &[PrinterState::Paused], Duration::from_secs(10)).await;
    assert_eq!(s.state, PrinterState::Paused);
    let paused_at = s.job.unwrap().progress;
    // Start while paused would abandon the job: refused, and the job is still there.
    let e = p.start_print(LONG).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    let e = p.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let s = p.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Paused);
    assert_eq!(s.job.as_ref().and_then(|j| j.file.as_deref()), Some(LONG));
    assert_eq!(
        s.job.unwrap().progress,
        paused_at,
        "no progress while paused"
    );

    p.resume().await.unwrap();
    let s = wait_for(&p, &[PrinterState::Printing], Duration::from_secs(10)).await;
    assert_eq!(s.state, PrinterState::Printing);
    p.cancel().await.unwrap();
    let s = wait_for(&p, &[PrinterState::Cancelled], Duration::from_secs(10)).await;
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Cancelled, "cancelled")
    );
    assert_eq!(
        s.job.unwrap().progress,
        None,
        "the cancel unloaded the file"
    );
    let h = p.job_history(3).await.unwrap();
    assert_eq!(h[0].outcome, JobOutcome::Cancelled, "{h:?}");
    assert_eq!(h[0].file.as_deref(), Some(LONG));
    // Cancelled stays until cleared.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p.status().await.unwrap().state, PrinterState::Cancelled);
    p.clear_last_job().await.unwrap();
    assert_eq!(
        wait_for(&p, &[PrinterState::Idle], Duration::from_secs(5))
            .await
            .state,
        PrinterState::Idle
    );
    p.delete_file(LONG).await.unwrap();
    let e = p.delete_file(LONG).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn live_print_to_the_end() {
    let p = live!();
    at_rest(&p).await;
    upload(&p, SHORT, 1).await;
    p.start_print(SHORT).await.unwrap();
    let s = wait_for(&p, &[PrinterState::Finished], Duration::from_secs(60)).await;
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Finished, "complete")
    );
    let j = s.job.unwrap();
    assert_eq!(j.progress, Some(100.0));
    assert_eq!((j.layer, j.layer_count), (Some(1), Some(1)));
    assert!(j.elapsed.is_some_and(|e| e > Duration::ZERO));
    let h = p.job_history(1).await.unwrap();
    assert_eq!(
        (h[0].outcome, h[0].file.as_deref()),
        (JobOutcome::Finished, Some(SHORT))
    );
    assert!(h[0].ended >= h[0].started);
    p.clear_last_job().await.unwrap();
    p.delete_file(SHORT).await.unwrap();
}

#[tokio::test]
async fn live_refusals_when_idle_send_nothing() {
    let p = live!();
    at_rest(&p).await;
    let paused = |p: Moonraker| async move {
        let spec = vec![("pause_resume".to_string(), None)];
        p.query_objects(&spec).await.unwrap().is_paused()
    };
    for (what, r) in [
        ("pause", p.pause().await),
        ("resume", p.resume().await),
        ("cancel", p.cancel().await),
        ("cancel_object", p.cancel_object(0).await),
    ] {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::InvalidState, "{what}: {e}");
    }
    // A pause sent while idle would have set Klipper's pause flag.
    assert!(!paused(p.clone()).await);
    // Unknown G-code: Klipper would answer ok; refused, and not in its G-code store.
    let e = p
        .send_gcode(&["POLYPRINT_NO_SUCH_COMMAND X=1".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = p.send_gcode(&["M106 S100".into()]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "no fan section: {e}");
    let store = p.gcode_store(50).await.unwrap();
    assert!(!store
        .iter()
        .any(|e| e.message.contains("POLYPRINT_NO_SUCH_COMMAND")));
    let e = p.set_target(Heater::Chamber, 40.0).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = p.extrude(5.0).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "cold: {e}");
    // Limits from the printer's config.
    let l = p.limits();
    assert_eq!(
        (l.tool_max, l.bed_max, l.jog_max_mm, l.extrude_max_mm),
        (300.0, 130.0, 250.0, 50.0)
    );
    let e = p.set_target(Heater::Bed, 131.0).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

#[tokio::test]
async fn live_controls() {
    let p = live!();
    at_rest(&p).await;
    let f = p.features().await.unwrap();
    for want in [
        Feature::PrintStart,
        Feature::PauseResume,
        Feature::Cancel,
        Feature::ObjectCancel,
        Feature::TemperatureControl,
        Feature::AxisMovement,
        Feature::Homing,
        Feature::Extrusion,
        Feature::GCode,
        Feature::FileList,
        Feature::FileUpload,
        Feature::FileDelete,
        Feature::JobHistory,
        Feature::PrintQueue,
        Feature::StatusPush,
    ] {
        assert!(f.contains(want), "{want} not in {f:?}");
    }
    assert!(!f.contains(Feature::LightControl) && !f.contains(Feature::ConnectionControl));
    let config = p.printer_config().unwrap();
    assert_eq!(config.heaters, [Heater::Tool(0), Heater::Bed]);
    assert_eq!(
        config.axes,
        [Some((0.0, 220.0)), Some((0.0, 220.0)), Some((0.0, 250.0))]
    );
    assert_eq!(config.min_extrude_temp, Some(170.0));

    p.set_target(Heater::Bed, 30.0).await.unwrap();
    let s = p.status().await.unwrap();
    assert_eq!(s.heater(Heater::Bed).unwrap().target, Some(30.0));
    p.set_target(Heater::Bed, 0.0).await.unwrap();
    p.home(Axes::all()).await.unwrap();
    p.jog(Jog {
        x: Some(10.0),
        y: Some(5.0),
        z: Some(1.0),
        speed: None,
    })
    .await
    .unwrap();
    let spec = vec![(
        "toolhead".to_string(),
        Some(&["position", "homed_axes"][..]),
    )];
    let o = p.query_objects(&spec).await.unwrap();
    assert_eq!(o.homed_axes().as_deref(), Some("xyz"));
    let at = o.position().unwrap();
    assert!(
        (at[0] - 10.0).abs() < 1e-6 && (at[1] - 5.0).abs() < 1e-6 && (at[2] - 1.0).abs() < 1e-6,
        "{at:?}"
    );
    // The jog left the G-code mode absolute (a relative jog restores the saved state).
    let gm = p
        .query_objects(&[(
            "gcode_move".to_string(),
            Some(&["absolute_coordinates"][..]),
        )])
        .await
        .unwrap();
    assert_eq!(gm.flag("gcode_move", "absolute_coordinates"), Some(true));
    let e = p.jog(Jog::along(Axis::X, 215.0)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "past 220 mm: {e}");
    p.send_gcode(&["M117 polyprint live".into(), "G1 X20 F6000".into()])
        .await
        .unwrap();
    let store = p.gcode_store(10).await.unwrap();
    assert!(store
        .iter()
        .any(|e| e.message.contains("M117 polyprint live")));
    // The file queue: Moonraker starts it paused.
    upload(&p, SHORT, 1).await;
    p.enqueue(SHORT).await.unwrap();
    let q = p.print_queue().await.unwrap();
    assert_eq!(q.last().map(|j| j.file.as_str()), Some(SHORT));
    let e = p.enqueue("polyprint-missing.gcode").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let r = p
        .transport()
        .send(polyprint::transport::Request::new(
            reqwest::Method::DELETE,
            "server/job_queue/job?all=true",
            polyprint::transport::Idempotency::Command,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    // A file in a folder.
    let e = p
        .upload(Upload::from_bytes("polyprint dir/a (1).gcode", gcode(1)))
        .await
        .unwrap();
    assert_eq!(e.path, "polyprint dir/a (1).gcode");
    assert!(p
        .list_files()
        .await
        .unwrap()
        .iter()
        .any(|f| f.path == e.path));
    p.delete_file(&e.path).await.unwrap();
    p.delete_file(SHORT).await.unwrap();
}

/// A webcam whose snapshot URL points at a small server of this test: the feature appears,
/// the snapshot is its image, and goes away with the webcam.
#[tokio::test]
async fn live_webcam_snapshot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let p = live!();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let img = polyprint::sim::WEBCAM_JPEG;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                img.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(img).await;
        }
    });
    let cam = serde_json::json!({"name": "polyprint-live", "service": "mjpegstreamer",
        "stream_url": format!("http://127.0.0.1:{port}/stream"),
        "snapshot_url": format!("http://127.0.0.1:{port}/snap.jpg")});
    let mut add = polyprint::transport::Request::new(
        reqwest::Method::POST,
        "server/webcams/item",
        polyprint::transport::Idempotency::Command,
    );
    add.body = polyprint::transport::Body::json(&cam);
    assert_eq!(p.transport().send(add).await.unwrap().status, 200);
    let f = p.refresh_features().await.unwrap();
    assert!(f.contains(Feature::WebcamSnapshot));
    let snap = p.snapshot().await.unwrap();
    assert_eq!(snap.content_type, "image/jpeg");
    assert_eq!(&snap.bytes[..], polyprint::sim::WEBCAM_JPEG);
    let del = polyprint::transport::Request::new(
        reqwest::Method::DELETE,
        "server/webcams/item?name=polyprint-live",
        polyprint::transport::Idempotency::Command,
    );
    assert_eq!(p.transport().send(del).await.unwrap().status, 200);
    let f = p.refresh_features().await.unwrap();
    assert!(!f.contains(Feature::WebcamSnapshot));
    server.abort();
}

/// What two statuses of the same moment share exactly (readings and times move).
fn moment(s: &PrinterStatus) -> impl PartialEq + std::fmt::Debug {
    let targets: Vec<_> = s.heaters.iter().map(|h| (h.heater, h.target)).collect();
    (
        s.state,
        s.raw_state.clone(),
        s.message.clone(),
        s.job
            .as_ref()
            .map(|j| (j.file.clone(), j.progress, j.layer, j.layer_count)),
        targets,
    )
}

async fn pushed(feed: &mut polyprint::watch::StatusFeed) -> PrinterStatus {
    tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("a push within 10 s")
        .expect("the feed goes on")
        .expect("a pushed status")
}

/// A print seen through the websocket, against REST reads of the same moments.
#[tokio::test]
async fn live_push_agrees_with_rest() {
    let p = live!();
    at_rest(&p).await;
    let mut feed = p.status_feed().await.unwrap();
    let first = pushed(&mut feed).await;
    assert_eq!(moment(&first), moment(&p.status().await.unwrap()), "idle");
    upload(&p, SHORT, 2).await;
    p.start_print(SHORT).await.unwrap();
    let mut states = Vec::new();
    let started = Instant::now();
    let last = loop {
        let s = pushed(&mut feed).await;
        if states.last() != Some(&s.state) {
            states.push(s.state);
        }
        if s.state == PrinterState::Finished || started.elapsed() > Duration::from_secs(60) {
            break s;
        }
    };
    assert!(states.contains(&PrinterState::Printing), "{states:?}");
    assert_eq!(states.last(), Some(&PrinterState::Finished), "{states:?}");
    // Finished holds: the last push and a read agree, progress included.
    assert_eq!(
        moment(&last),
        moment(&p.status().await.unwrap()),
        "finished"
    );
    assert_eq!(last.job.as_ref().and_then(|j| j.progress), Some(100.0));
    // A target set now shows in the feed as in a read.
    p.set_target(Heater::Bed, 25.0).await.unwrap();
    let mut s = pushed(&mut feed).await;
    while s.heater(Heater::Bed).and_then(|h| h.target) != Some(25.0) {
        s = pushed(&mut feed).await;
    }
    assert_eq!(moment(&s), moment(&p.status().await.unwrap()), "bed target");
    p.set_target(Heater::Bed, 0.0).await.unwrap();
    p.clear_last_job().await.unwrap();
    p.delete_file(SHORT).await.unwrap();
}

/// An emergency stop and a firmware restart, seen by REST and by the websocket (which
/// subscribes again after Klippy's restart).
#[tokio::test]
async fn live_emergency_stop_and_firmware_restart() {
    let p = live!();
    at_rest(&p).await;
    let mut feed = p.status_feed().await.unwrap();
    assert_eq!(pushed(&mut feed).await.state, PrinterState::Idle);
    p.emergency_stop().await.unwrap();
    let s = wait_for(&p, &[PrinterState::Error], Duration::from_secs(5)).await;
    assert_eq!(
        (s.state, s.raw_state.as_str()),
        (PrinterState::Error, "shutdown")
    );
    assert!(
        s.message
            .as_deref()
            .unwrap_or_default()
            .contains("Shutdown due to webhooks request"),
        "{s:?}"
    );
    let mut seen = pushed(&mut feed).await;
    while seen.state != PrinterState::Error {
        seen = pushed(&mut feed).await;
    }
    assert_eq!(seen.raw_state, "shutdown");
    let e = p.start_print(SHORT).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    assert!(e.to_string().contains("shutdown"), "{e}");
    let e = p.send_gcode(&["G28".into()]).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidState,
        "Klipper's refusal while shut down: {e}"
    );
    let t = Instant::now();
    p.firmware_restart().await.unwrap();
    let s = wait_for(&p, &[PrinterState::Idle], Duration::from_secs(30)).await;
    assert_eq!(s.state, PrinterState::Idle, "{s:?}");
    eprintln!("firmware_restart -> Idle in {:?}", t.elapsed());
    // The feed went through Offline (Klippy disconnected) and is subscribed again.
    let mut states = vec![seen.state];
    loop {
        let s = pushed(&mut feed).await;
        if states.last() != Some(&s.state) {
            states.push(s.state);
        }
        if s.state == PrinterState::Idle {
            break;
        }
    }
    assert!(states.contains(&PrinterState::Offline), "{states:?}");
    p.set_target(Heater::Bed, 26.0).await.unwrap();
    let mut s = pushed(&mut feed).await;
    while s.heater(Heater::Bed).and_then(|h| h.target) != Some(26.0) {
        s = pushed(&mut feed).await;
    }
    p.set_target(Heater::Bed, 0.0).await.unwrap();
}

#[tokio::test]
async fn live_wrong_key_is_auth() {
    let p = live!();
    let wrong = Moonraker::builder(p.transport().endpoint())
        .api_key("polyprint-wrong-key")
        .build()
        .unwrap();
    let e = wrong.status().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!format!("{e} {e:?}").contains("polyprint-wrong-key"));
    let e = wrong.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
}

/// status() latency against the real stack (printed, never asserted on): `server/info`
/// plus an object query that Klippy answers on its 0.25 s tick.
#[tokio::test]
async fn live_status_latency() {
    let p = live!();
    at_rest(&p).await;
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        p.status().await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let mut info = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        p.server_info().await.unwrap();
        info.push(t.elapsed());
    }
    info.sort();
    println!(
        "status() latency against the real stack: median {:?}, p90 {:?}, min {:?}, max {:?} (server/info alone: median {:?})",
        times[10], times[18], times[0], times[19], info[10]
    );
}
