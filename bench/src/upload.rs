//! Table 3, streamed upload: a large G-code file through the OctoPrint adapter's `upload()`
//! (`Upload::from_path`, a streamed multipart POST) against `curl -F` to the same sink server.
//!
//! The library upload runs in a fresh child process (`upload-child`) so its memory is its own:
//! RSS growth = `VmHWM` after the upload − `VmRSS` just before it (after one status call has
//! warmed up the runtime and the client). Library time is measured around `upload()` in the
//! child; curl's is its own `%{time_total}`, so neither includes process start-up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use polyprint::transport::HttpConfig;
use polyprint::{Printer, Upload};
use polyprint_octoprint::OctoPrint;
use serde_json::{json, Value};

use crate::child::{run_self, Server};
use crate::report::Table;
use crate::stats::{fmt_kib, proc_status_kib};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("polyprint-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `bytes` bytes of plausible G-code to `path`.
fn write_gcode(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut block = Vec::with_capacity(1 << 20);
    let mut n = 0u64;
    while block.len() < (1 << 20) - 64 {
        block.extend_from_slice(
            format!("G1 X{}.{} Y{} E0.0421 F1800\n", n % 220, n % 10, n % 200).as_bytes(),
        );
        n += 1;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut left = bytes;
    while left > 0 {
        let take = (block.len() as u64).min(left) as usize;
        f.write_all(&block[..take])?;
        left -= take as u64;
    }
    f.flush()
}

/// `upload-child BASE_URL PATH`: one library upload, printed as JSON.
pub fn child_main(args: &[String]) -> Result<(), String> {
    let [base, path] = args else {
        return Err("usage: upload-child BASE_URL PATH".into());
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let v = rt.block_on(async {
        let printer = OctoPrint::builder(base)
            .api_key("bench-key")
            .http(HttpConfig::default())
            .build()
            .map_err(|e| e.to_string())?;
        printer.status().await.map_err(|e| e.to_string())?;
        let rss_before = proc_status_kib("VmRSS");
        let t = Instant::now();
        let entry = printer
            .upload(Upload::from_path(path))
            .await
            .map_err(|e| e.to_string())?;
        let secs = t.elapsed().as_secs_f64();
        Ok::<Value, String>(json!({
            "secs": secs,
            "rss_before_kib": rss_before,
            "hwm_kib": proc_status_kib("VmHWM"),
            "stored_as": entry.path,
        }))
    })?;
    println!("{v}");
    Ok(())
}

/// Result of one curl upload: seconds, or why not.
fn curl_upload(url: &str, path: &Path) -> Result<f64, String> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{time_total}",
            "-F",
        ])
        .arg(format!("file=@{}", path.display()))
        .arg(url)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "curl is not installed".to_string()
            } else {
                format!("curl: {e}")
            }
        })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    match text.split_whitespace().collect::<Vec<_>>()[..] {
        ["201", secs] => secs.parse().map_err(|_| format!("curl said {text:?}")),
        _ => Err(format!("curl failed ({}): {text:?}", out.status)),
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Runs table 3.
pub fn run(quick: bool) -> Table {
    let mb: u64 = if quick { 20 } else { 200 };
    let mut table = Table::new(
        "3. Streamed upload: `upload()` vs curl",
        &format!(
            "A {mb} MB G-code file (10^6-byte MB, in a temporary directory, removed after) \
             uploaded as multipart `POST /api/files/local` to a local sink server that reads \
             and discards the body and answers 201. Library: `OctoPrint::upload(\
             Upload::from_path(..))` in a fresh child process; RSS growth = VmHWM − VmRSS \
             before the upload. curl: `curl -s -F file=@PATH URL`, timed by its own \
             `%{{time_total}}`. Throughput is the median over the runs, alternating."
        ),
        &[
            "client",
            "runs",
            "time (median)",
            "throughput",
            "vs curl",
            "RSS growth (max)",
        ],
        "library ≥ 80% of curl's throughput, RSS growth under 32 MB",
    );
    if let Err(e) = measure(&mut table, mb, quick) {
        table.notes.push(format!("Could not measure: {e}"));
        table.met = None;
    }
    table
}

fn measure(table: &mut Table, mb: u64, quick: bool) -> Result<(), String> {
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let path = dir.0.join("bench-upload.gcode");
    let bytes = mb * 1_000_000;
    write_gcode(&path, bytes).map_err(|e| e.to_string())?;
    let server = Server::start(1).map_err(|e| e.to_string())?;
    let base = server.url(0);
    let runs = if quick { 1 } else { 5 };
    let (mut lib, mut growth, mut curl) = (Vec::new(), Vec::new(), Vec::new());
    let mut curl_error = None;
    for _ in 0..runs {
        let line = run_self(&[
            "upload-child".to_string(),
            base.clone(),
            path.display().to_string(),
        ])
        .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
        lib.push(v["secs"].as_f64().unwrap_or(f64::NAN));
        growth.push(
            v["hwm_kib"]
                .as_u64()
                .unwrap_or(0)
                .saturating_sub(v["rss_before_kib"].as_u64().unwrap_or(0)),
        );
        match curl_upload(&format!("{base}/api/files/local"), &path) {
            Ok(s) => curl.push(s),
            Err(e) => curl_error = Some(e),
        }
    }
    drop(server);
    let mbps = |secs: f64| bytes as f64 / 1e6 / secs;
    let lib_secs = median(lib).ok_or("no library run")?;
    let growth_kib = growth.iter().copied().max().unwrap_or(0);
    let curl_secs = median(curl);
    let ratio = curl_secs.map(|c| mbps(lib_secs) / mbps(c));
    table.row(vec![
        "polyprint `upload()` (OctoPrint, streamed multipart)".into(),
        runs.to_string(),
        format!("{:.3} s", lib_secs),
        format!("{:.0} MB/s", mbps(lib_secs)),
        ratio.map_or("—".into(), |r| format!("{:.0}%", r * 100.0)),
        fmt_kib(growth_kib),
    ]);
    match (curl_secs, &curl_error) {
        (Some(c), None) => table.row(vec![
            "curl -F".into(),
            runs.to_string(),
            format!("{c:.3} s"),
            format!("{:.0} MB/s", mbps(c)),
            "100%".into(),
            "—".into(),
        ]),
        (_, Some(e)) => {
            table.row(vec![
                "curl -F".into(),
                "0".into(),
                format!("not measured: {e}"),
                "—".into(),
                "—".into(),
                "—".into(),
            ]);
        }
        (None, None) => {}
    }
    table.check(growth_kib * 1024 < 32 * 1024 * 1024);
    match ratio {
        Some(r) => table.check(r >= 0.8),
        None => table
            .notes
            .push("Throughput goal not checked: no curl measurement.".into()),
    }
    Ok(())
}
