//! Text for people: statuses, files, heaters and durations. (JSON output serialises the core's
//! types directly and never goes through here.)

use std::time::Duration;

use polyprint::{FileEntry, HeaterReading, JobRecord, PrinterInfo, PrinterStatus};

use crate::outcome::terminal_safe;

/// A server-supplied string on one line of text output (no control characters, no line
/// breaks of its own).
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    terminal_safe(s, false)
}

/// `1:02:03`, `2:03`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `tool0 199.8/200°C`, `bed 21.3°C`.
pub fn heater(h: &HeaterReading) -> String {
    match h.target {
        Some(t) if t > 0.0 => format!("{} {:.1}/{:.0}°C", h.heater, h.actual, t),
        _ => format!("{} {:.1}°C", h.heater, h.actual),
    }
}

/// One line: state, job progress, heaters.
pub fn status_line(s: &PrinterStatus) -> String {
    let mut parts = vec![format!("{:<10}", s.state.name())];
    if let Some(job) = s
        .job
        .as_ref()
        .filter(|_| s.state.has_active_job() || s.state == polyprint::PrinterState::Finished)
    {
        let mut j = job
            .file
            .as_deref()
            .map_or_else(|| "job".into(), |f| one_line(f).into_owned());
        if let Some(p) = job.progress {
            j.push_str(&format!(" {p:5.1}%"));
        }
        if let (Some(l), Some(n)) = (job.layer, job.layer_count) {
            j.push_str(&format!(" layer {l}/{n}"));
        }
        if let Some(r) = job.remaining.filter(|_| s.state.has_active_job()) {
            j.push_str(&format!(" {} left", duration(r)));
        }
        parts.push(j);
    }
    if !s.heaters.is_empty() {
        parts.push(s.heaters.iter().map(heater).collect::<Vec<_>>().join("  "));
    }
    if let Some(m) = &s.message {
        parts.push(format!("({})", one_line(m)));
    }
    parts.join("  ")
}

/// A full status, several lines.
pub fn status(info: &PrinterInfo, s: &PrinterStatus) -> String {
    let mut out = format!(
        "{} ({}{})\n",
        one_line(&info.name),
        info.backend,
        endpoint(info)
    );
    out.push_str(&format!(
        "state:    {} ({})\n",
        s.state,
        one_line(&s.raw_state)
    ));
    if let Some(m) = &s.message {
        out.push_str(&format!("message:  {}\n", one_line(m)));
    }
    if let Some(job) = &s.job {
        let mut line = job
            .file
            .as_deref()
            .map_or_else(|| "(unnamed)".into(), |f| one_line(f).into_owned());
        if let Some(p) = job.progress {
            line.push_str(&format!("  {p:.1}%"));
        }
        if let Some(e) = job.elapsed {
            line.push_str(&format!("  elapsed {}", duration(e)));
        }
        if let Some(r) = job.remaining {
            line.push_str(&format!("  left {}", duration(r)));
        }
        if let (Some(l), Some(n)) = (job.layer, job.layer_count) {
            line.push_str(&format!("  layer {l}/{n}"));
        }
        out.push_str(&format!("job:      {line}\n"));
    }
    if !s.heaters.is_empty() {
        let hs: Vec<String> = s.heaters.iter().map(heater).collect();
        out.push_str(&format!("heaters:  {}\n", hs.join("  ")));
    }
    if !s.lights.is_empty() {
        let ls: Vec<String> = s
            .lights
            .iter()
            .map(|l| format!("{} {}", one_line(&l.name), if l.on { "on" } else { "off" }))
            .collect();
        out.push_str(&format!("lights:   {}\n", ls.join("  ")));
    }
    if let Some(f) = &s.failure {
        out.push_str(&format!(
            "failure:  {:?} (score {:.2})\n",
            f.verdict, f.score
        ));
    }
    out
}

/// ` http://host:port/` or nothing.
pub fn endpoint(info: &PrinterInfo) -> String {
    info.endpoint
        .as_ref()
        .map(|e| format!(" {}", one_line(e)))
        .unwrap_or_default()
}

/// A file table.
pub fn files(files: &[FileEntry]) -> String {
    if files.is_empty() {
        return "no files".into();
    }
    let width = files.iter().map(|f| f.path.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<width$}  {:>10}  {:>8}\n", "PATH", "SIZE", "ESTIMATE");
    for f in files {
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>8}\n",
            one_line(&f.path),
            f.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            f.estimated_time.map(duration).unwrap_or_else(|| "-".into()),
        ));
    }
    out
}

/// A job history table.
pub fn jobs(jobs: &[JobRecord]) -> String {
    if jobs.is_empty() {
        return "no jobs".into();
    }
    let mut out = String::from("ID        OUTCOME     FILE\n");
    for j in jobs {
        out.push_str(&format!(
            "{:<9} {:<11} {}\n",
            one_line(&j.id),
            format!("{:?}", j.outcome).to_lowercase(),
            one_line(j.file.as_deref().unwrap_or("-"))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyprint::{Heater, JobProgress, PrinterState};

    #[test]
    fn durations_and_lines() {
        assert_eq!(duration(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(duration(Duration::from_secs(65)), "1:05");
        let mut s = PrinterStatus::new(PrinterState::Printing, "Printing");
        s.job = Some({
            let mut v = JobProgress::default();
            v.file = Some("cube.gcode".into());
            v.progress = Some(42.0);
            v.remaining = Some(Duration::from_secs(90));
            v
        });
        s.heaters
            .push(HeaterReading::new(Heater::Bed, 59.94, Some(60.0)));
        let line = status_line(&s);
        assert!(line.starts_with("printing"), "{line}");
        assert!(line.contains("cube.gcode  42.0%"), "{line}");
        assert!(line.contains("1:30 left"), "{line}");
        assert!(line.contains("bed 59.9/60°C"), "{line}");
        // A server's strings cannot draw on the terminal or add lines of their own.
        s.raw_state = "Printing\u{1b}[2J".into();
        s.message = Some("ok\nFAKE: done".into());
        let info = PrinterInfo::new("octoprint", "1", "mk4\r\u{7}");
        let text = status(&info, &s);
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(!text.contains("\nFAKE"), "{text:?}");
        assert!(!status_line(&s).contains('\n'));
    }
}
