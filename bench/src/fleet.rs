//! Table 2, fleet polling: one `status()` sweep over 1,000 printers of mixed backends (every
//! network backend in the registry in turn), each
//! with its own base URL (10 server ports × 100 path prefixes, e.g.
//! `http://127.0.0.1:PORT/p17/`), with bounded concurrency (`buffer_unordered`).
//!
//! Every scenario runs in a fresh child process (`fleet-child`), so its CPU time and peak RSS
//! are its own: wall time per sweep (median after a warm-up sweep), CPU per status
//! (`getrusage` over the timed sweeps), `VmHWM`, and the sockets left open (how many
//! connections the pools hold).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use polyprint::transport::{build_client, HttpConfig};
use polyprint::{Descriptor, Endpoint, Printer};
use serde_json::{json, Value};

use crate::child::{run_self, Server};
use crate::report::Table;
use crate::stats::{cpu_time, fmt_duration, fmt_kib, proc_status_kib, raise_nofile_limit};

/// Printers per fleet.
pub const PRINTERS: usize = 1000;
/// Server ports (each stands for 100 printers through path prefixes).
pub const PORTS: usize = 10;
/// Concurrent status reads.
pub const CONCURRENCY: usize = 64;

/// A fleet's make-up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// Every network backend in the registry in turn (printer i is backend i mod n), all over
    /// one shared client.
    Mixed,
    /// All OctoPrint over one shared client.
    OctoShared,
    /// All OctoPrint, each with its own client.
    OctoOwn,
    /// All of one network backend (by registry name), over one shared client: what one
    /// printer of that backend keeps in memory.
    Only(&'static str),
}

/// The backends of the mixed fleet: every backend in the registry that is reached over HTTP.
fn mixed_backends() -> Vec<&'static Descriptor> {
    polyprint_backends::REGISTRY
        .iter()
        .copied()
        .filter(|d| d.fields().url)
        .collect()
}

impl Scenario {
    /// Every scenario: the three fleets, then each network backend alone.
    fn all() -> Vec<Scenario> {
        let mut all = vec![Scenario::Mixed, Scenario::OctoShared, Scenario::OctoOwn];
        all.extend(mixed_backends().iter().map(|d| Scenario::Only(d.name())));
        all
    }

    fn name(self) -> String {
        match self {
            Scenario::Mixed => "mixed".into(),
            Scenario::OctoShared => "octoprint-shared".into(),
            Scenario::OctoOwn => "octoprint-own".into(),
            Scenario::Only(backend) => format!("only-{backend}"),
        }
    }

    fn parse(s: &str) -> Option<Scenario> {
        Scenario::all().into_iter().find(|x| x.name() == s)
    }

    fn label(self) -> String {
        match self {
            Scenario::Mixed => {
                let backends = mixed_backends();
                let names: Vec<&str> = backends.iter().map(|d| d.name()).collect();
                format!(
                    "mixed: {} each of {}, one shared client (`HttpConfig::shared_client`)",
                    PRINTERS / backends.len().max(1),
                    names.join(", ")
                )
            }
            Scenario::OctoShared => "1,000 OctoPrint, one shared client".into(),
            Scenario::OctoOwn => "1,000 OctoPrint, one client each".into(),
            Scenario::Only(backend) => format!("1,000 {backend}, one shared client"),
        }
    }
}

/// Opens every printer through the registry, as an application would
/// (`polyprint_backends::open_with`).
pub(crate) fn build_fleet(
    scenario: Scenario,
    ports: &[u16],
) -> polyprint::Result<Vec<Arc<dyn Printer>>> {
    let own = HttpConfig::default();
    let shared = HttpConfig {
        shared_client: Some(build_client(&own)?),
        ..HttpConfig::default()
    };
    let octoprint = polyprint_backends::find("octoprint")?;
    let mixed = mixed_backends();
    let mut fleet: Vec<Arc<dyn Printer>> = Vec::with_capacity(PRINTERS);
    for i in 0..PRINTERS {
        let base = format!(
            "http://127.0.0.1:{}/p{}/",
            ports[i % ports.len()],
            i / ports.len()
        );
        let (backend, http) = match scenario {
            Scenario::Mixed => (mixed[i % mixed.len()], &shared),
            Scenario::OctoShared => (octoprint, &shared),
            Scenario::OctoOwn => (octoprint, &own),
            Scenario::Only(name) => (polyprint_backends::find(name)?, &shared),
        };
        // A number is a printer id every backend takes (the bench server answers any).
        let mut endpoint = Endpoint::new(base, "bench-key");
        if backend.fields().printer_id.is_some() {
            endpoint = endpoint.with_printer_id(i.to_string());
        }
        fleet.push(backend.open(&endpoint, http.clone())?);
    }
    Ok(fleet)
}

/// One sweep: every printer's status, `CONCURRENCY` at a time. Returns the errors.
async fn sweep(fleet: &[Arc<dyn Printer>]) -> Vec<String> {
    futures_util::stream::iter(fleet.iter().cloned())
        .map(|p| async move { p.status().await })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|r| async move { r.err().map(|e| e.to_string()) })
        .collect()
        .await
}

fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// `fleet-child <scenario> <sweeps> <port,port,…>`: measures one scenario, prints JSON.
pub fn child_main(args: &[String]) -> Result<(), String> {
    let [scenario, sweeps, ports] = args else {
        return Err("usage: fleet-child SCENARIO SWEEPS PORT,PORT,…".into());
    };
    let scenario = Scenario::parse(scenario).ok_or("unknown scenario")?;
    let sweeps: usize = sweeps.parse().map_err(|_| "bad sweep count")?;
    let ports: Vec<u16> = ports.split(',').filter_map(|p| p.parse().ok()).collect();
    if ports.is_empty() {
        return Err("no ports".into());
    }
    raise_nofile_limit();
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        let rss_before = proc_status_kib("VmRSS");
        let t = Instant::now();
        let fleet = build_fleet(scenario, &ports).map_err(|e| e.to_string())?;
        let setup = t.elapsed();
        let mut errors = sweep(&fleet).await; // warm-up: connections, kinds learnt
        let cpu0 = cpu_time();
        let mut walls = Vec::with_capacity(sweeps);
        for _ in 0..sweeps {
            let t = Instant::now();
            errors.extend(sweep(&fleet).await);
            walls.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let cpu = cpu_time() - cpu0;
        Ok::<Value, String>(json!({
            "setup_ms": setup.as_secs_f64() * 1000.0,
            "sweeps_ms": walls,
            "cpu_us_per_status": cpu.as_secs_f64() * 1e6 / (sweeps * PRINTERS) as f64,
            "hwm_kib": proc_status_kib("VmHWM"),
            // What the fleet keeps once its sweeps are over, per printer.
            "kept_bytes_per_printer": proc_status_kib("VmRSS").saturating_sub(rss_before) * 1024
                / PRINTERS as u64,
            "sockets": open_sockets(),
            "errors": errors.len(),
            "first_error": errors.first(),
        }))
    })?;
    println!("{result}");
    Ok(())
}

/// Runs table 2: one server child with `PORTS` ports, one measuring child per scenario.
pub fn run(quick: bool) -> Table {
    let mut table = Table::new(
        "2. Fleet polling: one `status()` sweep over 1,000 printers",
        "1,000 printers, each with its own base URL (10 server ports × 100 path prefixes such \
         as `http://127.0.0.1:PORT/p17/`), polled with `buffer_unordered(64)`. Each row is a \
         fresh child process: sweep wall time (median of the timed sweeps after one warm-up \
         sweep), client CPU per status (user+sys), peak RSS of the whole process (`VmHWM`), and \
         what it still holds after the sweeps per printer (`VmRSS` after minus before building \
         the fleet, over 1,000), and the sockets it holds open. The goal applies to the mixed \
         fleet.",
        &[
            "fleet",
            "set-up",
            "sweep wall (median)",
            "sweeps",
            "CPU / status",
            "peak RSS",
            "kept / printer",
            "open sockets",
            "errors",
        ],
        "mixed fleet: sweep under 0.5 s wall, peak RSS under 100 MB",
    );
    let server = match Server::start(PORTS) {
        Ok(s) => s,
        Err(e) => {
            table.notes.push(format!("Could not start the server: {e}"));
            return table;
        }
    };
    let ports: Vec<String> = server.ports.iter().map(u16::to_string).collect();
    let sweeps = if quick { 2 } else { 9 };
    let scenarios: Vec<Scenario> = if quick {
        vec![Scenario::Mixed]
    } else {
        Scenario::all()
    };
    for scenario in scenarios {
        let args = vec![
            "fleet-child".to_string(),
            scenario.name(),
            sweeps.to_string(),
            ports.join(","),
        ];
        let v: Value = match run_self(&args).and_then(|l| {
            serde_json::from_str(&l).map_err(|e| std::io::Error::other(format!("{e}: {l}")))
        }) {
            Ok(v) => v,
            Err(e) => {
                table
                    .notes
                    .push(format!("{}: could not measure: {e}", scenario.name()));
                if scenario == Scenario::Mixed {
                    table.check(false);
                }
                continue;
            }
        };
        let mut walls: Vec<f64> = v["sweeps_ms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        walls.sort_by(f64::total_cmp);
        let median_ms = walls.get(walls.len() / 2).copied().unwrap_or(f64::NAN);
        let hwm = v["hwm_kib"].as_u64().unwrap_or(0);
        let errors = v["errors"].as_u64().unwrap_or(0);
        let ms = |x: f64| fmt_duration(Duration::from_secs_f64(x / 1000.0));
        table.row(vec![
            scenario.label().to_string(),
            ms(v["setup_ms"].as_f64().unwrap_or(0.0)),
            ms(median_ms),
            walls
                .iter()
                .map(|w| format!("{w:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
                + " ms",
            format!("{:.0} µs", v["cpu_us_per_status"].as_f64().unwrap_or(0.0)),
            fmt_kib(hwm),
            format!("{} B", v["kept_bytes_per_printer"].as_u64().unwrap_or(0)),
            v["sockets"].to_string(),
            errors.to_string(),
        ]);
        if let Some(e) = v["first_error"].as_str() {
            table
                .notes
                .push(format!("{}: first error: {e}", scenario.name()));
        }
        if scenario == Scenario::Mixed {
            let ok = median_ms < 500.0 && hwm * 1024 < 100_000_000 && errors == 0;
            table.check(ok);
        }
    }
    drop(server);
    table.notes.push(format!(
        "{PRINTERS} printers, concurrency {CONCURRENCY}, {sweeps} timed sweeps per row after one \
         warm-up sweep; 100 MB = 10^8 bytes; the server (one thread, {PORTS} ports) is another \
         process. In the mixed fleet printer i is the registry's network backend i mod n, opened \
         through the registry; an OctoPrint status is 2 GETs, the others 1. A Prusa Connect \
         printer also reads its supported commands and cameras on its first status (the warm-up \
         sweep), then every 5 minutes."
    ));
    table
}
