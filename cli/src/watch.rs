//! `watch`: follow a printer until its job ends or Ctrl-C, redrawn in place on a terminal,
//! one line per change otherwise. Polls fast for the first seconds (right after a command the
//! state moves quickly), then at the chosen interval.

use std::io::Write;
use std::time::{Duration, Instant};

use polyprint::{Printer, PrinterState, PrinterStatus};
use serde_json::json;

use crate::outcome::{CliError, Reply};
use crate::render;

/// How long after the start polling stays fast.
pub const FAST_FOR: Duration = Duration::from_secs(5);
/// The fast interval.
pub const FAST_INTERVAL: Duration = Duration::from_millis(500);

/// Follows `printer`. Ends when no job is active (at once if none was), on Ctrl-C, or on an
/// error. Returns the final status and the states seen.
pub async fn watch(
    printer: &dyn Printer,
    interval: Duration,
    json_out: bool,
    tty: bool,
) -> Result<Reply, CliError> {
    let started = Instant::now();
    let mut states: Vec<PrinterState> = Vec::new();
    let mut last_line = String::new();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let last: PrinterStatus = loop {
        let status = printer.status().await?;
        if states.last() != Some(&status.state) {
            states.push(status.state);
        }
        let line = render::status_line(&status);
        if !json_out {
            let mut out = std::io::stdout().lock();
            if tty {
                let width = console::Term::stdout().size().1.max(20) as usize - 1;
                let shown: String = line.chars().take(width).collect();
                let _ = write!(out, "\r\x1b[2K{shown}");
            } else if line != last_line {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
        }
        last_line = line;
        if !status.state.has_active_job() {
            break status;
        }
        let wait = if started.elapsed() < FAST_FOR {
            FAST_INTERVAL.min(interval)
        } else {
            interval
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut ctrl_c => { interrupted = true; break status; }
        }
    };
    if tty && !json_out {
        println!();
    }
    Ok(Reply::new(
        json!({ "status": last, "states": states, "interrupted": interrupted }),
        String::new(),
    ))
}

/// `--interval` checked.
pub fn interval(secs: f64) -> Result<Duration, CliError> {
    if secs.is_finite() && (0.1..=3600.0).contains(&secs) {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(CliError::usage(
            "--interval must be between 0.1 and 3600 seconds",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::sim::{Clock, VirtualPrinter, DEMO_FILE};

    #[tokio::test]
    async fn follows_a_job_to_its_end() {
        let p = VirtualPrinter::new();
        p.set_clock(Clock::Realtime { speed: 100.0 });
        p.lock().start(DEMO_FILE).unwrap();
        let reply = watch(&p, Duration::from_millis(100), true, false)
            .await
            .unwrap();
        assert_eq!(reply.data["status"]["state"], "finished");
        assert_eq!(reply.data["states"][0], "printing");
        assert_eq!(reply.data["interrupted"], false);
    }

    #[tokio::test]
    async fn an_idle_printer_is_shown_once() {
        let reply = watch(&VirtualPrinter::new(), Duration::from_secs(1), true, false)
            .await
            .unwrap();
        assert_eq!(reply.data["states"], json!(["idle"]));
        assert!(interval(0.0).is_err() && interval(2.0).is_ok());
    }
}
