//! Preflight: the checks that say whether a print can start, each reported on its own.
//!
//! Service reachable; printer connected and operational; no error state; not already printing;
//! heater readings plausible; and, for a file: present, an extension the backend accepts, a
//! sane size, and the slicer's metadata when the file has it. `print` runs these first.

use std::path::{Path, PathBuf};

use polyprint::{CheckedUpload, Feature, Features, Heater, PrinterState, PrinterStatus};
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::Connected;
use crate::outcome::{CliError, Exit};
use polyprint::gcode::GcodeMeta;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fine.
    Pass,
    /// Worth knowing; does not stop a print.
    Warn,
    /// Stops a print.
    Fail,
    /// Not run (an earlier check failed, or nothing to check).
    Skip,
}

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// A stable name, e.g. `printer_connected`.
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found, for people.
    pub detail: String,
    /// The error code when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip)]
    exit: Exit,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Pass,
            detail: detail.into(),
            code: None,
            exit: Exit::Success,
        }
    }
    fn warn(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Warn,
            ..Check::pass(name, detail)
        }
    }
    fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Skip,
            ..Check::pass(name, detail)
        }
    }
    fn fail(name: &'static str, code: &str, exit: Exit, detail: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Fail,
            detail: detail.into(),
            code: Some(code.to_string()),
            exit,
        }
    }
}

/// Which file to check.
#[derive(Clone, Debug)]
pub enum FileArg {
    /// A local file (what `print` uploads).
    Local(PathBuf),
    /// A file stored on the printer.
    Stored(String),
    /// A local file if it exists, else a stored one (`preflight FILE`).
    Either(String),
}

/// Everything preflight found.
#[derive(Debug, Default)]
pub struct Report {
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// The status read, if the service answered.
    pub status: Option<PrinterStatus>,
    /// The slicer's metadata, if a local G-code file had some.
    pub meta: Option<GcodeMeta>,
    /// The stored path to print, when the file is on the printer already.
    pub stored_path: Option<String>,
}

/// Readings outside these bounds mean a broken or missing thermistor.
fn plausible(heater: Heater, actual: f64) -> bool {
    let max = match heater {
        Heater::Tool(_) => 350.0,
        Heater::Bed => 150.0,
        Heater::Chamber => 100.0,
    };
    actual.is_finite() && (5.0..=max).contains(&actual)
}

/// Runs every check, and the file checks when a file is given.
pub async fn run(conn: &Connected, file: Option<FileArg>) -> Report {
    let mut report = Report::default();
    let checks = &mut report.checks;
    match conn.printer.status().await {
        Err(e) => {
            let err = CliError::from(e);
            checks.push(Check::fail(
                "service_reachable",
                &err.code,
                err.exit,
                err.message,
            ));
            for name in [
                "printer_connected",
                "no_error",
                "not_printing",
                "heaters_plausible",
            ] {
                checks.push(Check::skip(name, "the service did not answer"));
            }
        }
        Ok(status) => {
            let info = conn.printer.info();
            checks.push(Check::pass(
                "service_reachable",
                format!("{} answered", info.endpoint.unwrap_or(info.backend)),
            ));
            // OctoPrint's "Offline after error" is an Error whose host has also dropped the
            // printer: not connected either.
            let disconnected = status.state == PrinterState::Offline
                || (status.state == PrinterState::Error
                    && status.raw_state.to_ascii_lowercase().contains("offline"));
            checks.push(if disconnected {
                Check::fail(
                    "printer_connected",
                    "offline",
                    Exit::Unreachable,
                    format!(
                        "the service answers but its printer is not connected ({})",
                        status.raw_state
                    ),
                )
            } else {
                Check::pass(
                    "printer_connected",
                    format!("state {} ({})", status.state, status.raw_state),
                )
            });
            checks.push(match status.state {
                PrinterState::Error | PrinterState::Attention | PrinterState::Unknown => {
                    Check::fail(
                        "no_error",
                        "printer_error",
                        Exit::State,
                        format!(
                            "the printer reports {}{}",
                            status.state,
                            status
                                .message
                                .as_ref()
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        ),
                    )
                }
                _ => Check::pass("no_error", "no error reported"),
            });
            checks.push(
                if status.state.has_active_job() || status.state == PrinterState::Busy {
                    Check::fail(
                        "not_printing",
                        "busy",
                        Exit::State,
                        format!("the printer is {}", status.state),
                    )
                } else {
                    Check::pass("not_printing", format!("ready ({})", status.state))
                },
            );
            let bad: Vec<String> = status
                .heaters
                .iter()
                .filter(|h| !plausible(h.heater, h.actual))
                .map(|h| format!("{} reads {:.1}°C", h.heater, h.actual))
                .collect();
            checks.push(if status.heaters.is_empty() {
                Check::warn("heaters_plausible", "no heater readings reported")
            } else if bad.is_empty() {
                Check::pass(
                    "heaters_plausible",
                    status
                        .heaters
                        .iter()
                        .map(crate::render::heater)
                        .collect::<Vec<_>>()
                        .join("  "),
                )
            } else {
                Check::fail(
                    "heaters_plausible",
                    "heaters_implausible",
                    Exit::State,
                    format!("implausible readings (thermistor?): {}", bad.join(", ")),
                )
            });
            report.status = Some(status);
        }
    }
    if let Some(file) = file {
        check_file(conn, file, &mut report).await;
    }
    report
}

async fn check_file(conn: &Connected, file: FileArg, report: &mut Report) {
    let (local, stored) = match file {
        FileArg::Local(p) => (Some(p), None),
        FileArg::Stored(s) => (None, Some(s)),
        FileArg::Either(s) if Path::new(&s).exists() => (Some(PathBuf::from(s)), None),
        FileArg::Either(s) => (None, Some(s)),
    };
    // Confirmed by the server where the printer decides them; none when it did not answer.
    let features = conn.printer.features().await.unwrap_or_default();
    if let Some(path) = local {
        check_local(conn, features, &path, report);
    } else if let Some(name) = stored {
        let check = if report.status.is_none() {
            Check::skip("file_present", "the service did not answer")
        } else if !features.contains(Feature::FileList) {
            Check::warn(
                "file_present",
                format!("{} cannot list files; not checked", conn.spec.name()),
            )
        } else {
            match conn.printer.list_files().await {
                Ok(files) => match files.iter().find(|f| f.path == name || f.name == name) {
                    Some(f) => {
                        report.stored_path = Some(f.path.clone());
                        Check::pass(
                            "file_present",
                            format!("{} is stored on the printer", f.path),
                        )
                    }
                    None => Check::fail(
                        "file_present",
                        "file_not_found",
                        Exit::File,
                        format!("{name} is neither a local file nor stored on the printer"),
                    ),
                },
                Err(e) => {
                    let err = CliError::from(e);
                    Check::fail("file_present", &err.code, err.exit, err.message)
                }
            }
        };
        report.checks.push(check);
    }
}

fn check_local(conn: &Connected, features: Features, path: &Path, report: &mut Report) {
    let checks = &mut report.checks;
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            checks.push(Check::fail(
                "file_present",
                "invalid_file",
                Exit::File,
                format!("{} is not a file", path.display()),
            ));
            return;
        }
        Err(e) => {
            checks.push(Check::fail(
                "file_present",
                "file_not_found",
                Exit::File,
                format!("cannot open {}: {e}", path.display()),
            ));
            return;
        }
    };
    checks.push(Check::pass("file_present", path.display().to_string()));
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let accepted = conn.printer.file_types();
    checks.push(if !features.contains(Feature::FileUpload) {
        Check::fail(
            "file_type",
            "invalid_file",
            Exit::File,
            format!(
                "{} cannot upload files: print a file already on the printer with --stored",
                conn.spec.name()
            ),
        )
    } else if accepted.contains(&ext) {
        Check::pass(
            "file_type",
            format!(".{ext} is accepted by {}", conn.spec.name()),
        )
    } else {
        Check::fail(
            "file_type",
            "invalid_file",
            Exit::File,
            format!(
                "{} does not accept {:?} files; use one of: {}",
                conn.spec.name(),
                if ext.is_empty() {
                    "extension-less".to_string()
                } else {
                    format!(".{ext}")
                },
                accepted.join(", ")
            ),
        )
    });
    let size = meta.len();
    checks.push(if size == 0 {
        Check::fail("file_size", "invalid_file", Exit::File, "the file is empty")
    } else if size > CheckedUpload::MAX_SIZE {
        Check::fail(
            "file_size",
            "invalid_file",
            Exit::File,
            format!(
                "{size} bytes is more than the limit of {} bytes",
                CheckedUpload::MAX_SIZE
            ),
        )
    } else {
        Check::pass("file_size", format!("{size} bytes"))
    });
    match GcodeMeta::read_path(path) {
        Ok(m) if m.is_empty() => {
            checks.push(Check::skip("gcode_metadata", "no slicer metadata found"))
        }
        Ok(m) => {
            let mut parts = Vec::new();
            if let Some(t) = m.estimated_time {
                parts.push(format!("estimated {}", crate::render::duration(t)));
            }
            if let Some(f) = m.filament_mm {
                parts.push(format!("{:.2} m filament", f / 1000.0));
            }
            if let Some(p) = &m.printer_model {
                parts.push(format!("sliced for {p}"));
            }
            if let Some(l) = m.layer_height {
                parts.push(format!("{l} mm layers"));
            }
            if let Some(g) = &m.generator {
                parts.push(format!("by {g}"));
            }
            checks.push(Check::pass("gcode_metadata", parts.join(", ")));
            report.meta = Some(m);
        }
        Err(e) => checks.push(Check::warn(
            "gcode_metadata",
            format!("could not read: {e}"),
        )),
    }
}

impl Report {
    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }

    /// Whether every check passed (warnings and skips allowed).
    pub fn ok(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The JSON data: checks, metadata, state.
    pub fn data(&self) -> Value {
        json!({
            "ok": self.ok(),
            "checks": self.checks,
            "gcode_metadata": self.meta,
            "state": self.status.as_ref().map(|s| s.state),
        })
    }

    /// The table for people.
    pub fn text(&self) -> String {
        self.checks
            .iter()
            .map(|c| {
                let mark = match c.verdict {
                    Verdict::Pass => "ok  ",
                    Verdict::Warn => "warn",
                    Verdict::Fail => "FAIL",
                    Verdict::Skip => "skip",
                };
                format!("{mark}  {:<18} {}", c.name, c.detail)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The error for a failed preflight: the first failure's code and exit code, every
    /// failure in the message, the checks in `details`.
    pub fn error(&self) -> Option<CliError> {
        let first = self.failures().next()?;
        let all: Vec<String> = self
            .failures()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        Some(
            CliError::new(
                first.code.as_deref().unwrap_or("preflight_failed"),
                first.exit,
                format!("preflight failed: {}", all.join("; ")),
            )
            .with_details(json!({ "checks": self.checks })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends;
    use polyprint::sim::VirtualPrinter;
    use std::sync::Arc;

    fn sim(printer: VirtualPrinter) -> Connected {
        Connected {
            name: "t".into(),
            spec: backends::find("sim").unwrap(),
            printer: Arc::new(printer),
        }
    }

    #[tokio::test]
    async fn an_idle_printer_and_a_good_file_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cube.gcode");
        std::fs::write(
            &path,
            "; generated by PrusaSlicer 2.8.0\nG28\n; printer_model = MK4\n",
        )
        .unwrap();
        let report = run(&sim(VirtualPrinter::new()), Some(FileArg::Local(path))).await;
        assert!(report.ok(), "{}", report.text());
        assert_eq!(
            report.meta.as_ref().unwrap().printer_model.as_deref(),
            Some("MK4")
        );
        assert!(report.error().is_none());
    }

    #[tokio::test]
    async fn printing_offline_and_bad_files_fail_with_their_exit_codes() {
        let p = VirtualPrinter::new();
        p.lock().start(polyprint::sim::DEMO_FILE).unwrap();
        let report = run(
            &sim(p),
            Some(FileArg::Stored(polyprint::sim::DEMO_FILE.into())),
        )
        .await;
        let err = report.error().unwrap();
        assert_eq!((err.code.as_str(), err.exit), ("busy", Exit::State));
        assert_eq!(
            report.stored_path.as_deref(),
            Some(polyprint::sim::DEMO_FILE)
        );

        let p = VirtualPrinter::new();
        p.lock().disconnect();
        let err = run(&sim(p), None).await.error().unwrap();
        assert_eq!(
            (err.code.as_str(), err.exit),
            ("offline", Exit::Unreachable)
        );

        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("notes.txt");
        std::fs::write(&txt, "hello").unwrap();
        let err = run(&sim(VirtualPrinter::new()), Some(FileArg::Local(txt)))
            .await
            .error()
            .unwrap();
        assert_eq!((err.code.as_str(), err.exit), ("invalid_file", Exit::File));
        let err = run(
            &sim(VirtualPrinter::new()),
            Some(FileArg::Either("missing.gcode".into())),
        )
        .await
        .error()
        .unwrap();
        assert_eq!(
            (err.code.as_str(), err.exit),
            ("file_not_found", Exit::File)
        );
        assert!(err.details.is_some());
    }

    #[test]
    fn heater_bounds() {
        assert!(plausible(Heater::Tool(0), 21.0));
        assert!(!plausible(Heater::Tool(0), -14.0));
        assert!(!plausible(Heater::Bed, 400.0));
        assert!(!plausible(Heater::Bed, f64::NAN));
    }
}
