//! Watch a mixed fleet live, with no hardware: an OctoPrint mock (which pushes over its
//! websocket) and a Prusa Connect mock (polled), each over its own virtual printer, opened
//! through the registry like any configured printer.
//!
//! ```text
//! cargo run -p polyprint-backends --features mock --example fleet_watch
//! ```

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use polyprint::descriptor::{mock_endpoint, MockOptions};
use polyprint::sim::{Clock, VirtualPrinter, DEMO_FILE};
use polyprint::transport::HttpConfig;
use polyprint::watch::{Fleet, WatchOptions};
use polyprint::{Feature, Printer, PrinterState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut mocks = Vec::new();
    let mut printers: Vec<Arc<dyn Printer>> = Vec::new();
    for backend in ["octoprint", "prusa-connect"] {
        let descriptor = polyprint_backends::find(backend)?;
        // A virtual printer that prints 20× faster than real time.
        let sim = VirtualPrinter::new();
        sim.set_clock(Clock::Realtime { speed: 20.0 });
        let mock = descriptor
            .start_mock(sim.clone(), MockOptions::default())
            .await
            .ok_or("no mock")?;
        let printer = descriptor.open(&mock_endpoint(mock.as_ref()), HttpConfig::default())?;
        let pushes = printer.features().await?.contains(Feature::StatusPush);
        println!("{backend}: {}", if pushes { "pushed" } else { "polled" });
        sim.lock().start(DEMO_FILE)?;
        mocks.push(mock);
        printers.push(printer);
    }

    // One stream over the fleet: (index, update), until every printer has finished.
    let fleet = Fleet::new(printers);
    let options = WatchOptions {
        idle: Duration::from_millis(500),
        active: Duration::from_millis(500),
        ..WatchOptions::default()
    };
    let mut updates = fleet.watch(options);
    let mut finished = vec![false; fleet.printers().len()];
    while let Some((i, update)) = updates.next().await {
        let backend = fleet.printers()[i].info().backend;
        match update {
            Ok(u) => {
                let progress = u.status.job.as_ref().and_then(|j| j.progress);
                println!(
                    "{backend:<14} {:<10} {progress:?}",
                    u.status.state.to_string()
                );
                finished[i] |= u.status.state == PrinterState::Finished;
            }
            Err(e) => println!("{backend:<14} error: {e}"),
        }
        if finished.iter().all(|f| *f) {
            break;
        }
    }
    println!("every printer finished");
    Ok(())
}
