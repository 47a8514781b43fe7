//! Upload a print, start it and watch it to the end, on a PrusaLink mock over a virtual
//! printer that runs 30× faster than real time: what an automation agent does, with no
//! hardware. Exits non-zero if the print does not finish.
//!
//! ```text
//! cargo run -p polyprint-backends --features mock --example print_and_watch
//! ```

use std::time::Duration;

use futures_util::StreamExt;
use polyprint::descriptor::{mock_endpoint, MockOptions};
use polyprint::sim::{Clock, VirtualPrinter};
use polyprint::transport::HttpConfig;
use polyprint::watch::{watch, WatchOptions};
use polyprint::{PrinterState, Upload};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = VirtualPrinter::new();
    sim.set_clock(Clock::Realtime { speed: 30.0 });
    let descriptor = polyprint_backends::find("prusalink")?;
    let mock = descriptor
        .start_mock(sim, MockOptions::default())
        .await
        .ok_or("no mock")?;
    let printer = descriptor.open(&mock_endpoint(mock.as_ref()), HttpConfig::default())?;

    // Forty moves across the bed: about 20 s of virtual time.
    let mut gcode = String::from("G28\n");
    for i in 0..40 {
        gcode.push_str(&format!("G1 X{} Y{} F3000\n", 10 + (i % 2) * 100, 10 + i));
    }
    let entry = printer
        .upload(Upload::from_bytes("agent-job.gcode", gcode))
        .await?;
    println!(
        "uploaded {} ({} bytes)",
        entry.path,
        entry.size.unwrap_or(0)
    );
    // The upload returned once the printer lists the file, so it can be started at once.
    printer.start_print(&entry.path).await?;

    let options = WatchOptions {
        idle: Duration::from_millis(200),
        active: Duration::from_millis(200),
        ..WatchOptions::default()
    };
    let mut updates = Box::pin(watch(printer.clone(), options));
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            update = updates.next() => {
                let Some(update) = update else { break };
                let s = update?.status;
                let progress = s.job.as_ref().and_then(|j| j.progress);
                println!("{:<10} {:>6}", s.state.to_string(), progress.map(|p| format!("{p:.1}%")).unwrap_or_default());
                if s.state == PrinterState::Finished {
                    println!("finished");
                    return Ok(());
                }
                if matches!(s.state, PrinterState::Error | PrinterState::Cancelled) {
                    return Err(format!("the print ended {}", s.state).into());
                }
            }
            () = &mut deadline => break,
        }
    }
    Err("the print did not finish within 30 s".into())
}
