//! `printers`: every configured printer with its state, fetched concurrently. Shows name,
//! backend and URL, never a key.

use std::time::Duration;

use std::sync::Arc;

use polyprint::watch::Fleet;
use polyprint::Printer;
use serde_json::{json, Value};

use crate::app::{self, Ctx};
use crate::config::{self, Target};
use crate::outcome::{CliError, Reply};

/// How long one printer may take before it is reported as not answering.
const PER_PRINTER: Duration = Duration::from_secs(20);

/// How many printers are read at once.
const CONCURRENCY: usize = 32;

/// Lists and polls every configured printer, through the library's fleet sweep (bounded
/// concurrency, a deadline per printer; one slow printer holds up no other).
pub async fn printers(ctx: &Ctx) -> Result<Reply, CliError> {
    let file = config::load_for(&ctx.global)?;
    let mut rows = Vec::new();
    let mut opened: Vec<(usize, Arc<dyn Printer>)> = Vec::new();
    for (name, entry) in &file.printers {
        rows.push(json!({
            "name": name,
            "backend": entry.backend,
            "url": entry.url.as_deref().map(polyprint::transport::redacted_url_text),
            "default": file.default.as_deref() == Some(name.as_str()),
            "state": null,
            "error": null,
        }));
        let target = Target {
            name: name.clone(),
            entry: entry.clone(),
        };
        match app::open(target, ctx.global.timeout) {
            Ok(conn) => opened.push((rows.len() - 1, conn.printer)),
            Err(e) => set_error(rows.last_mut().expect("just pushed"), &e),
        }
    }
    let fleet = Fleet::new(opened.iter().map(|(_, p)| p.clone()).collect());
    let swept = fleet.sweep(CONCURRENCY, PER_PRINTER).await;
    for ((row, _), (_, polled)) in opened.iter().zip(swept) {
        let row = &mut rows[*row];
        match polled {
            Ok(s) => {
                row["state"] = json!(s.state);
                row["progress"] = json!(s
                    .job
                    .as_ref()
                    .filter(|_| s.state.has_active_job())
                    .and_then(|j| j.progress));
            }
            Err(e) => set_error(row, &CliError::from(e)),
        }
    }
    Ok(Reply::new(json!({ "printers": rows }), text(&rows)))
}

fn set_error(row: &mut Value, e: &CliError) {
    row["error"] = json!({ "code": e.code, "message": e.message });
}

fn text(rows: &[Value]) -> String {
    if rows.is_empty() {
        return "no printers configured (run `polyprint init`)".into();
    }
    let mut out = format!(
        "{:<2}{:<16} {:<14} {:<12} {}\n",
        "", "NAME", "BACKEND", "STATE", "URL"
    );
    for r in rows {
        let state = match r["state"].as_str() {
            Some(s) => s.to_string(),
            None => format!("({})", r["error"]["code"].as_str().unwrap_or("error")),
        };
        out.push_str(&format!(
            "{:<2}{:<16} {:<14} {:<12} {}\n",
            if r["default"] == true { "*" } else { "" },
            r["name"].as_str().unwrap_or(""),
            r["backend"].as_str().unwrap_or(""),
            state,
            r["url"].as_str().unwrap_or("-"),
        ));
    }
    out
}
