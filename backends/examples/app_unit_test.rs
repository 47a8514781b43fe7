//! An application's own code, tested without a printer or a server: `cool_down` is the
//! application's; its unit tests (run by `cargo test --examples`) give it a
//! `polyprint::MockBackend`, which stands behind the same checks as every real backend.
//!
//! ```text
//! cargo run -p polyprint-backends --features mock --example app_unit_test
//! cargo test -p polyprint-backends --features mock --example app_unit_test
//! ```

use std::sync::Arc;

use polyprint::{Feature, Heater, Printer, PrinterState};

/// The application's rule: once a job has ended, switch every reported heater off; say how
/// many were switched off. A printer still printing is left alone.
pub async fn cool_down(printer: &dyn Printer) -> polyprint::Result<usize> {
    let s = printer.status().await?;
    if s.state.has_active_job() {
        return Ok(0);
    }
    if !printer
        .features()
        .await?
        .contains(Feature::TemperatureControl)
    {
        return Ok(0);
    }
    let hot: Vec<Heater> = s
        .heaters
        .iter()
        .filter(|h| h.target.is_some_and(|t| t > 0.0))
        .map(|h| h.heater)
        .collect();
    for heater in &hot {
        printer.set_target(*heater, 0.0).await?;
    }
    Ok(hot.len())
}

#[tokio::main]
async fn main() -> polyprint::Result<()> {
    let sim = polyprint::sim::VirtualPrinter::new();
    sim.lock().set_target(Heater::Bed, 60.0).expect("a target");
    let printer: Arc<dyn Printer> = Arc::new(sim);
    let n = cool_down(printer.as_ref()).await?;
    println!("switched {n} heater(s) off");
    assert_eq!(printer.status().await?.state, PrinterState::Idle);
    assert_eq!(n, 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::{Command, HeaterReading, MockBackend, PrinterStatus};

    fn status(state: PrinterState, bed_target: f64) -> PrinterStatus {
        let mut s = PrinterStatus::new(state, "mock");
        s.heaters
            .push(HeaterReading::new(Heater::Bed, 58.0, Some(bed_target)));
        s
    }

    #[tokio::test]
    async fn switches_a_hot_bed_off_after_the_job() {
        let mut mock = MockBackend::with_features(Feature::TemperatureControl.into());
        mock.expect_read_status()
            .returning(|| Ok(status(PrinterState::Finished, 60.0)));
        mock.expect_run()
            .withf(|c| matches!(c, Command::SetTarget(t) if t.heater() == Heater::Bed && t.celsius() == 0.0))
            .times(1)
            .returning(|_| Ok(()));
        assert_eq!(cool_down(&mock).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn leaves_a_printing_printer_alone() {
        let mut mock = MockBackend::with_features(Feature::TemperatureControl.into());
        mock.expect_read_status()
            .returning(|| Ok(status(PrinterState::Printing, 60.0)));
        mock.expect_run().never();
        assert_eq!(cool_down(&mock).await.unwrap(), 0);
    }
}
