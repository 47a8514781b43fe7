//! The adapter against a real PrusaLink, when `PRUSALINK_URL` and `PRUSALINK_API_KEY` (and
//! for Digest `PRUSALINK_USER`, `PRUSALINK_PASSWORD`) are set
//! (`scripts/prusalink/with-server.sh cargo test -p polyprint-prusalink --test live`).
//! Skipped otherwise. It uploads, prints and deletes its own files on the emulated printer.

use std::time::{Duration, Instant};

use polyprint::transport::HttpConfig;
use polyprint::{ErrorKind, Printer, PrinterState, Upload};
use polyprint_prusalink::{Credential, PrusaLink};

struct Live {
    key: PrusaLink,
    digest: PrusaLink,
    url: String,
}

fn target() -> Option<Live> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let url = var("PRUSALINK_URL")?;
    var("PRUSALINK_API_KEY")?;
    let user = var("PRUSALINK_USER")?;
    let password = var("PRUSALINK_PASSWORD")?;
    Some(Live {
        // The variables a user's program would read too (the key wins over Digest).
        key: polyprint_prusalink::PrusaLinkBuilder::from_env()
            .unwrap()
            .build()
            .unwrap(),
        digest: PrusaLink::builder(&url)
            .digest(user, password)
            .build()
            .unwrap(),
        url,
    })
}

/// Polls until the state is one of `want`; returns the last one seen.
async fn wait_for(p: &PrusaLink, want: &[PrinterState], within: Duration) -> PrinterState {
    let start = Instant::now();
    loop {
        let s = p.status().await.unwrap().state;
        if want.contains(&s) || start.elapsed() > within {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn live_lifecycle_with_key_and_digest() {
    let Some(live) = target() else {
        eprintln!("SKIPPED: PRUSALINK_URL / PRUSALINK_API_KEY / PRUSALINK_USER / PRUSALINK_PASSWORD not set");
        return;
    };
    let (p, d) = (&live.key, &live.digest);
    assert_eq!(
        wait_for(p, &[PrinterState::Idle], Duration::from_secs(15)).await,
        PrinterState::Idle
    );
    // Both credentials read the same printer; wrong ones are Auth errors.
    let s = d.status().await.unwrap();
    assert_eq!(s.state, PrinterState::Idle);
    assert!(!s.heaters.is_empty(), "{s:?}");
    let wrong_key = PrusaLink::new(&live.url, "wrong-key").unwrap();
    assert_eq!(
        wrong_key.status().await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    let wrong_password = PrusaLink::builder(&live.url)
        .credential(Credential::parse("maker:wrong-password"))
        .http(HttpConfig::default())
        .build()
        .unwrap();
    let e = wrong_password.status().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains("wrong-password"), "{e}");

    // Refusals: no job to pause; a file that is not there.
    assert_eq!(p.pause().await.unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(
        d.start_print("polyprint-missing.gcode")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // An upload (Digest) can be printed at once: the adapter waited until it showed.
    let slow = polyprint_conformance::live::slow_gcode();
    let entry = d
        .upload(Upload::from_bytes("polyprint live (1).gcode", slow.clone()))
        .await
        .unwrap();
    assert_eq!(entry.path, "polyprint live (1).gcode");
    assert_eq!(entry.size, Some(slow.len() as u64));
    // Uploading again replaces it.
    d.upload(Upload::from_bytes("polyprint live (1).gcode", slow.clone()))
        .await
        .unwrap();
    d.start_print("polyprint live (1).gcode").await.unwrap();
    assert_eq!(
        wait_for(p, &[PrinterState::Printing], Duration::from_secs(5)).await,
        PrinterState::Printing
    );
    let s = p.status().await.unwrap();
    let job = s.job.expect("a job while printing");
    assert_eq!(job.file.as_deref(), Some("polyprint live (1).gcode"));
    assert!(job.progress.is_some_and(|p| (0.0..=100.0).contains(&p)));
    assert_eq!(
        p.start_print("polyprint live (1).gcode")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        p.delete_file("polyprint live (1).gcode")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidState
    );

    // Pause (PAUSED comes a few seconds later: moves queued before M601 finish first).
    p.pause().await.unwrap();
    assert_eq!(
        wait_for(p, &[PrinterState::Paused], Duration::from_secs(15)).await,
        PrinterState::Paused
    );
    let e = p.pause().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    assert!(e.to_string().contains("Printer Is Not Printing"), "{e}");
    d.resume().await.unwrap();
    assert_eq!(
        wait_for(p, &[PrinterState::Printing], Duration::from_secs(5)).await,
        PrinterState::Printing
    );
    let e = p.resume().await.unwrap_err();
    assert!(e.to_string().contains("Printer Is Not Paused"), "{e}");

    // Cancel: STOPPED (Cancelled) for 11 s, a start refused meanwhile, then Idle.
    p.cancel().await.unwrap();
    assert_eq!(
        wait_for(p, &[PrinterState::Cancelled], Duration::from_secs(10)).await,
        PrinterState::Cancelled
    );
    let e = p.start_print("polyprint live (1).gcode").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    assert_eq!(
        p.cancel().await.unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        wait_for(p, &[PrinterState::Idle], Duration::from_secs(20)).await,
        PrinterState::Idle
    );

    // A short print runs to Finished.
    let fast = polyprint_conformance::live::FAST_GCODE;
    p.upload(Upload::from_bytes("sub/polyprint-live-fast.gcode", fast))
        .await
        .unwrap();
    p.start_print("sub/polyprint-live-fast.gcode")
        .await
        .unwrap();
    assert_eq!(
        wait_for(p, &[PrinterState::Finished], Duration::from_secs(30)).await,
        PrinterState::Finished
    );
    let files = p.list_files().await.unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        paths.contains(&"sub/polyprint-live-fast.gcode"),
        "{paths:?}"
    );
    assert!(paths.contains(&"polyprint live (1).gcode"), "{paths:?}");
    for f in ["sub/polyprint-live-fast.gcode", "polyprint live (1).gcode"] {
        d.delete_file(f).await.unwrap();
    }
    // PrusaLink's file tree follows the disk about 0.12 s late.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        p.delete_file("polyprint live (1).gcode")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}
