//! Table 4, CLI start-up: `polyprint status --json` as a whole process against the local
//! fixed-response server (OctoPrint paths), against `polyprint --version` as the floor.
//!
//! The binary is looked for next to this one (`target/release/polyprint`). It runs with an
//! empty configuration home and without `POLYPRINT_*` variables, so only the flags count.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::Server;
use crate::report::Table;
use crate::stats::{fmt_duration, Summary};

/// Where the CLI binary should be: next to the bench's own executable.
pub fn cli_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("polyprint"))
}

fn command(cli: &Path, args: &[&str], config_home: &Path) -> Command {
    let mut c = Command::new(cli);
    c.args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("POLYPRINT_") {
            c.env_remove(k);
        }
    }
    c
}

/// Times `runs` runs; errors if any run fails.
fn time_runs(mut make: impl FnMut() -> Command, runs: usize) -> Result<Vec<Duration>, String> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut c = make();
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let t = Instant::now();
        let status = c.status().map_err(|e| e.to_string())?;
        samples.push(t.elapsed());
        if !status.success() {
            return Err(format!("exited with {status}"));
        }
    }
    Ok(samples)
}

/// Runs table 4.
pub fn run(quick: bool) -> Table {
    let mut table = Table::new(
        "4. CLI start-up: `polyprint status --json` vs `polyprint --version`",
        "Whole-process wall time (spawn to exit) of the CLI, run one after another. `status` \
         goes to the local fixed-response server speaking OctoPrint (ad-hoc printer: \
         `--backend octoprint --url URL --key KEY`); `--version` is the floor (process start, \
         argument parsing, no network).",
        &["command", "runs", "median", "p90"],
        "`status --json` under 20 ms median",
    );
    if let Err(e) = measure(&mut table, quick) {
        table.notes.push(format!("Could not measure: {e}"));
        table.met = None;
    }
    table
}

fn measure(table: &mut Table, quick: bool) -> Result<(), String> {
    let cli = cli_path().ok_or("cannot locate this executable")?;
    if !cli.exists() {
        return Err(format!(
            "the CLI binary is MISSING at {} (build it with `cargo build --release -p \
             polyprint-cli`)",
            cli.display()
        ));
    }
    let home = std::env::temp_dir().join(format!("polyprint-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let result = measure_with(table, &cli, &home, quick);
    let _ = std::fs::remove_dir_all(&home);
    result
}

fn measure_with(table: &mut Table, cli: &Path, home: &Path, quick: bool) -> Result<(), String> {
    let server = Server::start(1).map_err(|e| e.to_string())?;
    let url = server.url(0);
    let status_args = [
        "status",
        "--json",
        "--backend",
        "octoprint",
        "--url",
        &url,
        "--key",
        "bench-key",
    ];
    // One checked run first: it must succeed and print the JSON document.
    let out = command(cli, &status_args, home)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains("\"success\"") {
        return Err(format!(
            "`polyprint {}` failed ({}): {} {}",
            status_args.join(" "),
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let runs = if quick { 5 } else { 30 };
    let version = time_runs(|| command(cli, &["--version"], home), runs)?;
    let status = time_runs(|| command(cli, &status_args, home), runs)?;
    drop(server);
    for (label, samples) in [
        ("`polyprint --version` (floor)", &version),
        (
            "`polyprint status --json --backend octoprint --url URL --key KEY`",
            &status,
        ),
    ] {
        let s = Summary::of(samples);
        table.row(vec![
            label.into(),
            samples.len().to_string(),
            fmt_duration(s.median),
            fmt_duration(s.p90),
        ]);
    }
    let s = Summary::of(&status);
    let v = Summary::of(&version);
    table.check(s.median < Duration::from_millis(20));
    table.notes.push(format!(
        "`status` costs {} over the `--version` floor (medians). Binary: {}.",
        fmt_duration(s.median.saturating_sub(v.median)),
        cli.display()
    ));
    Ok(())
}
