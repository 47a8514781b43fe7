//! `watch`: follow a printer until its job ends, or every configured printer (`--all`) until
//! Ctrl-C; redrawn in place on a terminal, one line per change otherwise, one JSON document
//! per line with `--json` (NDJSON: each update, then the summary every command prints). It
//! reads the library's status stream ([`polyprint::watch`]): pushed where the server pushes,
//! else polled, fast for a few seconds after each change, then at the chosen interval.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use polyprint::watch::{Fleet, StatusUpdate, WatchOptions};
use polyprint::{Printer, PrinterState, PrinterStatus};
use serde_json::{json, Value};

use crate::app::{self, Ctx};
use crate::config::{self, Target};
use crate::outcome::{terminal_safe, CliError, Reply};
use crate::render;

/// How long after a change polling stays fast.
pub const FAST_FOR: Duration = Duration::from_secs(5);
/// The fast interval.
pub const FAST_INTERVAL: Duration = Duration::from_millis(500);

/// How updates are shown while watching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// One line per change, or one line redrawn in place on a terminal.
    Text {
        /// Whether stdout is a terminal.
        tty: bool,
    },
    /// One JSON document per line (NDJSON).
    JsonLines,
    /// Nothing until the summary.
    Quiet,
}

impl Shown {
    /// What `--json` and the terminal ask for.
    pub fn of(ctx: &Ctx) -> Shown {
        if ctx.json {
            Shown::JsonLines
        } else {
            Shown::Text { tty: ctx.tty }
        }
    }
}

fn options(interval: Duration) -> WatchOptions {
    WatchOptions {
        idle: interval,
        active: interval,
        fast: FAST_INTERVAL.min(interval),
        fast_for: FAST_FOR,
        ..WatchOptions::default()
    }
}

/// The NDJSON line of one update of printer `name`, or of its error.
pub fn update_document(name: &str, item: Result<&StatusUpdate, &CliError>) -> Value {
    match item {
        Ok(u) => json!({
            "printer": name,
            "change": u.change.as_str(),
            "status": u.status,
        }),
        Err(e) => json!({ "printer": name, "error": { "code": e.code, "message": e.message } }),
    }
}

fn write_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Shows one update of printer `name` (`prefix` names it in text, for fleets).
fn show(shown: Shown, name: &str, prefix: bool, item: Result<&StatusUpdate, &CliError>) {
    let text = |body: String| {
        if prefix {
            format!("{:<16} {body}", terminal_safe(name, false))
        } else {
            body
        }
    };
    match shown {
        Shown::Quiet => {}
        Shown::JsonLines => write_line(&update_document(name, item).to_string()),
        Shown::Text { tty } => {
            let line = match item {
                Ok(u) => text(render::status_line(&u.status)),
                Err(e) => text(format!("error: {}", terminal_safe(&e.message, false))),
            };
            if tty && !prefix {
                let width = console::Term::stdout().size().1.max(20) as usize - 1;
                let shown: String = line.chars().take(width).collect();
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "\r\x1b[2K{shown}");
                let _ = out.flush();
            } else {
                write_line(&line);
            }
        }
    }
}

/// Follows `printer` (named `name`). Ends when no job is active (at once if none was), on
/// Ctrl-C, after `limit`, or on an error. Returns the final status and the states seen.
pub async fn watch(
    name: &str,
    printer: Arc<dyn Printer>,
    interval: Duration,
    limit: Option<Duration>,
    shown: Shown,
) -> Result<Reply, CliError> {
    let mut updates = polyprint::watch::watch(printer, options(interval));
    let mut states: Vec<PrinterState> = Vec::new();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let time_up = sleep_for(limit);
    tokio::pin!(time_up);
    let mut last: Option<PrinterStatus> = None;
    loop {
        let update = tokio::select! {
            u = updates.next() => u,
            _ = &mut ctrl_c => { interrupted = true; break; }
            _ = &mut time_up => break,
        };
        let Some(update) = update else { break };
        let update = update.map_err(CliError::from);
        show(shown, name, false, update.as_ref());
        let status = update?.status;
        if states.last() != Some(&status.state) {
            states.push(status.state);
        }
        let active = status.state.has_active_job();
        last = Some(status);
        if !active {
            break;
        }
    }
    if shown == (Shown::Text { tty: true }) {
        println!();
    }
    Ok(Reply::new(
        json!({ "status": last, "states": states, "interrupted": interrupted }),
        String::new(),
    ))
}

/// Resolves after `limit`; never without one.
async fn sleep_for(limit: Option<Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// `watch --all`: every configured printer through the library's [`Fleet`] stream, until
/// Ctrl-C or `limit`. A printer that cannot be opened or read is shown with its error and the
/// others go on.
pub async fn watch_all(
    ctx: &Ctx,
    interval: Duration,
    limit: Option<Duration>,
) -> Result<Reply, CliError> {
    let shown = Shown::of(ctx);
    let file = config::load_for(&ctx.global)?;
    if file.printers.is_empty() {
        return Err(CliError::usage(
            "no printers configured (run `polyprint init`)",
        ));
    }
    let mut names = Vec::new();
    let mut printers = Vec::new();
    for (name, entry) in &file.printers {
        let target = Target {
            name: name.clone(),
            entry: entry.clone(),
        };
        match app::open(target, ctx.global.timeout) {
            Ok(conn) => {
                names.push(name.clone());
                printers.push(conn.printer);
            }
            Err(e) => show(shown, name, true, Err(&e)),
        }
    }
    let mut merged = Fleet::new(printers).watch(options(interval));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let time_up = sleep_for(limit);
    tokio::pin!(time_up);
    let mut updates = 0u64;
    let mut interrupted = false;
    loop {
        let item = tokio::select! {
            item = merged.next() => item,
            _ = &mut ctrl_c => { interrupted = true; break; }
            _ = &mut time_up => break,
        };
        let Some((i, update)) = item else { break };
        updates += 1;
        match &update {
            Ok(u) => show(shown, &names[i], true, Ok(u)),
            Err(e) => show(shown, &names[i], true, Err(&CliError::from(e))),
        }
    }
    Ok(Reply::new(
        json!({ "printers": names, "updates": updates, "interrupted": interrupted }),
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
        let reply = watch(
            "p",
            Arc::new(p),
            Duration::from_millis(100),
            None,
            Shown::Quiet,
        )
        .await
        .unwrap();
        assert_eq!(reply.data["status"]["state"], "finished");
        assert_eq!(reply.data["states"][0], "printing");
        assert_eq!(reply.data["interrupted"], false);
    }

    #[tokio::test]
    async fn an_idle_printer_is_shown_once() {
        let reply = watch(
            "p",
            Arc::new(VirtualPrinter::new()),
            Duration::from_secs(1),
            None,
            Shown::Quiet,
        )
        .await
        .unwrap();
        assert_eq!(reply.data["states"], json!(["idle"]));
        assert!(interval(0.0).is_err() && interval(2.0).is_ok());
    }
}
