//! `watch`: follow a printer until its job ends or Ctrl-C, redrawn in place on a terminal,
//! one line per change otherwise. It reads the library's status stream
//! ([`polyprint::watch`]): fast for a few seconds after each change (right after a command
//! the state moves quickly), then at the chosen interval.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use polyprint::watch::WatchOptions;
use polyprint::{Printer, PrinterState, PrinterStatus};
use serde_json::json;

use crate::outcome::{CliError, Reply};
use crate::render;

/// How long after a change polling stays fast.
pub const FAST_FOR: Duration = Duration::from_secs(5);
/// The fast interval.
pub const FAST_INTERVAL: Duration = Duration::from_millis(500);

/// Follows `printer`. Ends when no job is active (at once if none was), on Ctrl-C, or on an
/// error. Returns the final status and the states seen.
pub async fn watch(
    printer: Arc<dyn Printer>,
    interval: Duration,
    json_out: bool,
    tty: bool,
) -> Result<Reply, CliError> {
    let options = WatchOptions {
        idle: interval,
        active: interval,
        fast: FAST_INTERVAL.min(interval),
        fast_for: FAST_FOR,
        ..WatchOptions::default()
    };
    let mut updates = polyprint::watch::watch(printer, options);
    let mut states: Vec<PrinterState> = Vec::new();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut last: Option<PrinterStatus> = None;
    loop {
        let update = tokio::select! {
            u = updates.next() => u,
            _ = &mut ctrl_c => { interrupted = true; break; }
        };
        let Some(update) = update else { break };
        let status = update?.status;
        if states.last() != Some(&status.state) {
            states.push(status.state);
        }
        if !json_out {
            let line = render::status_line(&status);
            let mut out = std::io::stdout().lock();
            if tty {
                let width = console::Term::stdout().size().1.max(20) as usize - 1;
                let shown: String = line.chars().take(width).collect();
                let _ = write!(out, "\r\x1b[2K{shown}");
            } else {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
        }
        let active = status.state.has_active_job();
        last = Some(status);
        if !active {
            break;
        }
    }
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
        let reply = watch(Arc::new(p), Duration::from_millis(100), true, false)
            .await
            .unwrap();
        assert_eq!(reply.data["status"]["state"], "finished");
        assert_eq!(reply.data["states"][0], "printing");
        assert_eq!(reply.data["interrupted"], false);
    }

    #[tokio::test]
    async fn an_idle_printer_is_shown_once() {
        let reply = watch(
            Arc::new(VirtualPrinter::new()),
            Duration::from_secs(1),
            true,
            false,
        )
        .await
        .unwrap();
        assert_eq!(reply.data["states"], json!(["idle"]));
        assert!(interval(0.0).is_err() && interval(2.0).is_ok());
    }
}
