//! The commands that read or drive one printer: each calls the [`Printer`] trait and turns
//! the answer into a [`Reply`]. Input checks and capability checks happen in the core;
//! destructive commands check `--confirm` here before anything is connected or sent.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use polyprint::{Axes, Axis, Feature, Heater, Jog, PrinterState, Upload};
use serde_json::json;

use crate::app::{Connected, Ctx};
use crate::cli::{OnOff, TempArgs};
use crate::outcome::{CliError, Exit, Reply};
use crate::preflight::{self, FileArg};
use crate::{render, watch};

/// `status`.
pub async fn status(conn: &Connected) -> Result<Reply, CliError> {
    let s = conn.printer.status().await?;
    let info = conn.printer.info();
    Ok(Reply::new(
        json!({ "printer": conn.name, "info": info, "status": s }),
        render::status(&info, &s),
    ))
}

/// An [`Exit::Unreachable`] error when a command failed because the printer is offline.
async fn offline_aware(conn: &Connected, err: polyprint::Error) -> CliError {
    if err.kind() == polyprint::ErrorKind::InvalidState {
        if let Ok(s) = conn.printer.status().await {
            if s.state == PrinterState::Offline {
                return CliError::new(
                    "offline",
                    Exit::Unreachable,
                    format!("the printer is offline ({}): {err}", s.raw_state),
                );
            }
        }
    }
    err.into()
}

/// Runs a simple command and says what was done.
async fn act<F>(conn: &Connected, what: &str, fut: F) -> Result<Reply, CliError>
where
    F: std::future::Future<Output = polyprint::Result<()>>,
{
    match fut.await {
        Ok(()) => Ok(Reply::new(json!({ "done": what }), format!("{what}: ok"))),
        Err(e) => Err(offline_aware(conn, e).await),
    }
}

/// Follows the job after a command, fast at first.
async fn then_watch(
    ctx: &Ctx,
    conn: &Connected,
    reply: Reply,
    follow: bool,
) -> Result<Reply, CliError> {
    if !follow {
        return Ok(reply);
    }
    if !ctx.json {
        println!("{}", reply.text);
    }
    // After a command, `--json` keeps to one document: the updates are only in its summary.
    let shown = if ctx.json {
        watch::Shown::Quiet
    } else {
        watch::Shown::Text { tty: ctx.tty }
    };
    let w = watch::watch(
        &conn.name,
        conn.printer.clone(),
        Duration::from_secs(2),
        None,
        shown,
    )
    .await?;
    Ok(Reply::new(
        json!({ "done": reply.data["done"], "watch": w.data }),
        String::new(),
    ))
}

/// `pause`.
pub async fn pause(ctx: &Ctx, conn: &Connected, follow: bool) -> Result<Reply, CliError> {
    let r = act(conn, "pause", conn.printer.pause()).await?;
    then_watch(ctx, conn, r, follow).await
}

/// `resume`.
pub async fn resume(ctx: &Ctx, conn: &Connected, follow: bool) -> Result<Reply, CliError> {
    let r = act(conn, "resume", conn.printer.resume()).await?;
    then_watch(ctx, conn, r, follow).await
}

/// `cancel` (after `--confirm` was checked).
pub async fn cancel(conn: &Connected) -> Result<Reply, CliError> {
    act(conn, "cancel", conn.printer.cancel()).await
}

/// `cancel-object`.
pub async fn cancel_object(conn: &Connected, id: u32) -> Result<Reply, CliError> {
    match conn.printer.cancel_object(id).await {
        Ok(()) => Ok(Reply::new(
            json!({ "done": "cancel_object", "object": id }),
            format!("object {id} cancelled"),
        )),
        // A missing object is not a file error.
        Err(polyprint::Error::NotFound { what }) => Err(CliError::new(
            "not_found",
            Exit::Other,
            format!("not found: {what} (is it in the running job?)"),
        )),
        Err(e) => Err(offline_aware(conn, e).await),
    }
}

/// `files`.
pub async fn files(conn: &Connected) -> Result<Reply, CliError> {
    let files = conn.printer.list_files().await?;
    Ok(Reply::new(json!({ "files": files }), render::files(&files)))
}

/// Uploads a local file, with a progress bar on a terminal (never with `--json`).
async fn upload_file(
    ctx: &Ctx,
    conn: &Connected,
    path: &Path,
    name: Option<String>,
) -> Result<polyprint::FileEntry, CliError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(CliError::new(
                "invalid_file",
                Exit::File,
                format!("{} is not a file", path.display()),
            ))
        }
        Err(e) => {
            return Err(CliError::new(
                "file_not_found",
                Exit::File,
                format!("cannot open {}: {e}", path.display()),
            ))
        }
    }
    let mut upload = Upload::from_path(path);
    if let Some(n) = name {
        upload = upload.named(n);
    }
    let bar = (!ctx.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(format!("uploading {}", upload.name));
        bar
    });
    if let Some(bar) = &bar {
        let b = bar.clone();
        upload = upload.on_progress(move |p| {
            b.set_length(p.total);
            b.set_position(p.sent);
        });
    }
    let result = conn.printer.upload(upload).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(result?)
}

/// `upload`.
pub async fn upload(
    ctx: &Ctx,
    conn: &Connected,
    path: &Path,
    name: Option<String>,
) -> Result<Reply, CliError> {
    let entry = upload_file(ctx, conn, path, name).await?;
    let text = format!(
        "uploaded {} ({} bytes)",
        entry.path,
        entry.size.map_or("?".into(), |s| s.to_string())
    );
    Ok(Reply::new(json!({ "file": entry }), text))
}

/// `print` (after `--confirm` was checked): preflight, upload, start.
pub async fn print(
    ctx: &Ctx,
    conn: &Connected,
    file: &str,
    skip_if_printing: bool,
    stored: bool,
    follow: bool,
) -> Result<Reply, CliError> {
    let arg = if stored {
        FileArg::Stored(file.to_string())
    } else {
        FileArg::Local(PathBuf::from(file))
    };
    let report = preflight::run(conn, Some(arg)).await;
    let printing = report
        .status
        .as_ref()
        .is_some_and(|s| s.state.has_active_job());
    if skip_if_printing && printing {
        let state = report.status.as_ref().map(|s| s.state);
        return Ok(Reply::new(
            json!({ "skipped": true, "state": state }),
            format!(
                "skipped: the printer is already {}",
                state.map_or("printing", |s| s.name())
            ),
        ));
    }
    if let Some(err) = report.error() {
        if !ctx.json {
            eprintln!("{}", report.text());
        }
        return Err(err);
    }
    let path = if stored {
        report
            .stored_path
            .clone()
            .unwrap_or_else(|| file.to_string())
    } else {
        upload_file(ctx, conn, Path::new(file), None).await?.path
    };
    if let Err(e) = conn.printer.start_print(&path).await {
        return Err(offline_aware(conn, e).await);
    }
    let reply = Reply::new(
        json!({ "done": "print", "file": path, "skipped": false, "gcode_metadata": report.meta }),
        format!("printing {path}"),
    );
    then_watch(ctx, conn, reply, follow).await
}

/// `preflight`.
pub async fn preflight(
    ctx: &Ctx,
    conn: &Connected,
    file: Option<String>,
) -> Result<Reply, CliError> {
    let report = preflight::run(conn, file.map(FileArg::Either)).await;
    match report.error() {
        Some(err) => {
            if !ctx.json {
                // People see every check, not only the failures.
                eprintln!("{}", report.text());
            }
            Err(err)
        }
        None => Ok(Reply::new(
            report.data(),
            format!("{}\nready to print", report.text()),
        )),
    }
}

/// How long `temp` waits for the targets it set to show in a status.
const TARGET_SHOWN_WITHIN: Duration = Duration::from_secs(5);

/// `temp`: show, or set targets. Before sending, the heaters the printer reports are checked:
/// a `--tool-index` it does not list is invalid input, a chamber it does not have is
/// unsupported (nothing is sent either way; a printer that reports no heaters yet is not
/// second-guessed). After sending, the status is read until it shows the new targets (up to
/// 5 s: servers report targets a moment late), so the heaters shown are the ones set.
pub async fn temp(conn: &Connected, args: &TempArgs) -> Result<Reply, CliError> {
    let mut targets: Vec<(Heater, f64)> = Vec::new();
    let before = conn.printer.status().await?;
    let listed: Vec<Heater> = before.heaters.iter().map(|h| h.heater).collect();
    if args.off {
        targets.extend(listed.iter().map(|h| (*h, 0.0)));
        if targets.is_empty() {
            targets.extend([(Heater::Tool(0), 0.0), (Heater::Bed, 0.0)]);
        }
    }
    if let Some(t) = args.tool {
        let tool = Heater::Tool(args.tool_index);
        let tools: Vec<String> = listed
            .iter()
            .filter(|h| matches!(h, Heater::Tool(_)))
            .map(|h| h.to_string())
            .collect();
        if !tools.is_empty() && !listed.contains(&tool) {
            return Err(CliError::new(
                "invalid_argument",
                Exit::Other,
                format!(
                    "invalid --tool-index: the printer reports {} only, not {tool}",
                    tools.join(", ")
                ),
            ));
        }
        targets.push((tool, t));
    }
    if let Some(t) = args.bed {
        targets.push((Heater::Bed, t));
    }
    if let Some(t) = args.chamber {
        if !listed.is_empty() && !listed.contains(&Heater::Chamber) {
            return Err(CliError::new(
                "unsupported",
                Exit::Other,
                format!(
                    "unsupported: the printer reports no chamber heater (it has {})",
                    listed
                        .iter()
                        .map(|h| h.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        targets.push((Heater::Chamber, t));
    }
    let mut set = Vec::new();
    for (heater, celsius) in &targets {
        if let Err(e) = conn.printer.set_target(*heater, *celsius).await {
            return Err(offline_aware(conn, e).await);
        }
        set.push(json!({ "heater": heater, "target": celsius }));
    }
    let started = std::time::Instant::now();
    let s = loop {
        let s = conn.printer.status().await?;
        let shown = targets.iter().all(|(heater, celsius)| {
            s.heater(*heater)
                .is_none_or(|h| h.target.is_some_and(|t| (t - celsius).abs() < 0.05))
        });
        if targets.is_empty() || shown || started.elapsed() >= TARGET_SHOWN_WITHIN {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mut text = String::new();
    for t in &set {
        text.push_str(&format!(
            "set {} to {}°C\n",
            t["heater"].as_str().unwrap_or("?"),
            t["target"]
        ));
    }
    if s.heaters.is_empty() {
        text.push_str("no heater readings");
    } else {
        text.push_str(
            &s.heaters
                .iter()
                .map(render::heater)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    Ok(Reply::new(
        json!({ "set": set, "heaters": s.heaters }),
        text,
    ))
}

/// `jog`.
pub async fn jog(
    conn: &Connected,
    x: Option<f64>,
    y: Option<f64>,
    z: Option<f64>,
    speed: Option<f64>,
) -> Result<Reply, CliError> {
    act(conn, "jog", conn.printer.jog(Jog { x, y, z, speed })).await
}

/// `home`.
pub async fn home(conn: &Connected, axes: &[String]) -> Result<Reply, CliError> {
    let mut set = Axes::empty();
    for a in axes {
        for part in a.split(',').filter(|p| !p.is_empty()) {
            set |= part.parse::<Axis>()?;
        }
    }
    if set.is_empty() {
        set = Axes::all();
    }
    act(conn, "home", conn.printer.home(set)).await
}

/// `extrude`.
pub async fn extrude(conn: &Connected, mm: f64) -> Result<Reply, CliError> {
    act(conn, "extrude", conn.printer.extrude(mm)).await
}

/// `light`.
pub async fn light(conn: &Connected, state: OnOff) -> Result<Reply, CliError> {
    act(conn, "light", conn.printer.set_light(state == OnOff::On)).await
}

/// `gcode` (after `--confirm` was checked).
pub async fn gcode(conn: &Connected, lines: &[String]) -> Result<Reply, CliError> {
    let r = act(conn, "gcode", conn.printer.send_gcode(lines)).await?;
    Ok(Reply::new(
        json!({ "done": "gcode", "lines": lines.len() }),
        r.text,
    ))
}

/// `snapshot -o FILE`.
pub async fn snapshot(conn: &Connected, output: &Path) -> Result<Reply, CliError> {
    // Whether a camera can take snapshots is the server's to say (OctoPrint's settings).
    conn.printer.refresh_features().await?;
    let snap = conn.printer.snapshot().await?;
    std::fs::write(output, &snap.bytes).map_err(|e| {
        CliError::new(
            "io",
            Exit::File,
            format!("cannot write {}: {e}", output.display()),
        )
    })?;
    Ok(Reply::new(
        json!({ "path": output, "bytes": snap.bytes.len(), "content_type": snap.content_type }),
        format!(
            "wrote {} ({} bytes, {})",
            output.display(),
            snap.bytes.len(),
            snap.content_type
        ),
    ))
}

/// `jobs`.
pub async fn jobs(conn: &Connected, limit: usize) -> Result<Reply, CliError> {
    let jobs = conn.printer.job_history(limit).await?;
    Ok(Reply::new(json!({ "jobs": jobs }), render::jobs(&jobs)))
}

/// `connect`: sends the connect command, then waits up to `wait` until the printer settles
/// (neither offline nor busy connecting: OctoPrint autodetecting a port reads "Detecting
/// serial connection" for seconds). A printer still not settled by then is an error
/// (exit 3), not a success.
pub async fn connect(conn: &Connected, wait: Duration) -> Result<Reply, CliError> {
    if let Err(e) = conn.printer.connect().await {
        return Err(offline_aware(conn, e).await);
    }
    let started = std::time::Instant::now();
    loop {
        let s = conn.printer.status().await?;
        let settled = !matches!(s.state, PrinterState::Offline | PrinterState::Busy);
        let waited = started.elapsed();
        if settled || waited >= wait {
            let data = json!({
                "done": "connect",
                "state": s.state,
                "raw_state": s.raw_state,
                "waited_s": (waited.as_secs_f64() * 10.0).round() / 10.0,
            });
            if !settled && !wait.is_zero() {
                return Err(CliError::new(
                    "not_settled",
                    Exit::State,
                    format!(
                        "connect was accepted, but after {:.0} s the printer is still {} ({})",
                        wait.as_secs_f64(),
                        s.state,
                        s.raw_state
                    ),
                )
                .with_details(data));
            }
            let text = format!("connect: ok, printer {} ({})", s.state, s.raw_state);
            return Ok(Reply::new(data, text));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `disconnect`.
pub async fn disconnect(conn: &Connected) -> Result<Reply, CliError> {
    act(conn, "disconnect", conn.printer.disconnect()).await
}

/// `features`: what this printer supports, as its server says now.
pub async fn features(conn: &Connected) -> Result<Reply, CliError> {
    let info = conn.printer.info();
    let have = conn.printer.refresh_features().await?;
    let list: Vec<_> = Feature::all()
        .map(|f| json!({ "feature": f.name(), "supported": have.contains(f) }))
        .collect();
    let mut text = format!(
        "{} ({}{})\n",
        conn.name,
        info.backend,
        render::endpoint(&info)
    );
    for f in Feature::all() {
        text.push_str(&format!(
            "  {} {}\n",
            if have.contains(f) { "yes" } else { "no " },
            f.name()
        ));
    }
    Ok(Reply::new(
        json!({
            "printer": conn.name,
            "backend": info.backend,
            "endpoint": info.endpoint,
            "bits": have.bits(),
            "features": list,
        }),
        text,
    ))
}
