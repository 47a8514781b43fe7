//! `printers`: every configured printer with its state, fetched concurrently. Shows name,
//! backend and URL, never a key.

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::{self, Ctx};
use crate::config::{self, Target};
use crate::outcome::{CliError, Reply};

/// How long one printer may take before it is reported as not answering.
const PER_PRINTER: Duration = Duration::from_secs(20);

/// Lists and polls every configured printer.
pub async fn printers(ctx: &Ctx) -> Result<Reply, CliError> {
    let file = config::load_for(&ctx.global)?;
    let rows = futures_util::future::join_all(file.printers.iter().map(|(name, entry)| {
        let target = Target {
            name: name.clone(),
            entry: entry.clone(),
        };
        let is_default = file.default.as_deref() == Some(name.as_str());
        let timeout = ctx.global.timeout;
        async move {
            let mut row = json!({
                "name": target.name,
                "backend": target.entry.backend,
                "url": target.entry.url.as_deref().map(polyprint::transport::redacted_url_text),
                "default": is_default,
                "state": null,
                "error": null,
            });
            let polled = match app::open(target, timeout) {
                Ok(conn) => match tokio::time::timeout(PER_PRINTER, conn.printer.status()).await {
                    Ok(Ok(s)) => Ok(s),
                    Ok(Err(e)) => Err(CliError::from(e)),
                    Err(_) => Err(CliError::new(
                        "timeout",
                        crate::outcome::Exit::Unreachable,
                        "no answer in time",
                    )),
                },
                Err(e) => Err(e),
            };
            match polled {
                Ok(s) => {
                    row["state"] = json!(s.state);
                    row["progress"] = json!(s
                        .job
                        .as_ref()
                        .filter(|_| s.state.has_active_job())
                        .and_then(|j| j.progress));
                }
                Err(e) => row["error"] = json!({ "code": e.code, "message": e.message }),
            }
            row
        }
    }))
    .await;
    Ok(Reply::new(json!({ "printers": rows }), text(&rows)))
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
