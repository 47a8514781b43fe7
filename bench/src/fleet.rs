//! Table 2, fleet polling: one `status()` sweep over N printers (1,000 by default; `--printers`
//! takes a list) of mixed backends (every network backend in the registry in turn, or those
//! `--backends` names), each with its own base URL (10 server ports × N/10 path prefixes, e.g.
//! `http://127.0.0.1:PORT/p17/`), with bounded concurrency (`buffer_unordered`, 64 by default,
//! `--concurrency`).
//!
//! Every scenario runs in a fresh child process (`fleet-child`), so its CPU time and memory
//! are its own: wall time per sweep (median after a warm-up sweep), CPU per status
//! (`getrusage` over the timed sweeps), `VmHWM`, the live heap the fleet keeps per printer
//! (counted by [`crate::heap`]: bytes allocated and not freed, which `VmRSS` overstates), and
//! the sockets left open (how many connections the pools hold).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use polyprint::transport::{build_client, HttpConfig};
use polyprint::{Descriptor, Endpoint, Printer};
use serde_json::{json, Value};

use crate::child::{run_self, Server};
use crate::report::Table;
use crate::stats::{cpu_time, fmt_duration, fmt_kib, proc_status_kib, raise_nofile_limit};

/// Printers per fleet unless `--printers` says otherwise.
pub const PRINTERS: usize = 1000;
/// Server ports (each stands for a tenth of the printers through path prefixes).
pub const PORTS: usize = 10;
/// Concurrent status reads unless `--concurrency` says otherwise.
pub const CONCURRENCY: usize = 64;

/// What the command line chose for table 2.
#[derive(Clone, Debug)]
pub struct Options {
    /// Fleet sizes, one set of rows each.
    pub sizes: Vec<usize>,
    /// Concurrent status reads.
    pub concurrency: usize,
    /// The network backends to include (registry names); `None` is all of them.
    pub backends: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sizes: vec![PRINTERS],
            concurrency: CONCURRENCY,
            backends: None,
        }
    }
}

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

/// The backends of the mixed fleet: every backend in the registry that is reached over HTTP,
/// or those of `only` (a comma-separated list of registry names; empty is all).
fn mixed_backends(only: &str) -> Vec<&'static Descriptor> {
    polyprint_backends::REGISTRY
        .iter()
        .copied()
        .filter(|d| d.fields().url)
        .filter(|d| only.is_empty() || only.split(',').any(|n| n == d.name()))
        .collect()
}

impl Scenario {
    /// Every scenario for the backends in `only` (empty: all): the mixed fleet, OctoPrint
    /// with a shared and with its own clients, then each network backend alone.
    fn all(only: &str) -> Vec<Scenario> {
        let backends = mixed_backends(only);
        let mut all = vec![Scenario::Mixed];
        if backends.iter().any(|d| d.name() == "octoprint") {
            all.extend([Scenario::OctoShared, Scenario::OctoOwn]);
        }
        all.extend(backends.iter().map(|d| Scenario::Only(d.name())));
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
        Scenario::all("").into_iter().find(|x| x.name() == s)
    }

    fn label(self, printers: usize, only: &str) -> String {
        let n = thousands(printers);
        match self {
            Scenario::Mixed => {
                let backends = mixed_backends(only);
                let names: Vec<&str> = backends.iter().map(|d| d.name()).collect();
                format!(
                    "{n} mixed: {} each of {}, one shared client",
                    thousands(printers / backends.len().max(1)),
                    names.join(", ")
                )
            }
            Scenario::OctoShared => format!("{n} OctoPrint, one shared client"),
            Scenario::OctoOwn => format!("{n} OctoPrint, one client each"),
            Scenario::Only(backend) => format!("{n} {backend}, one shared client"),
        }
    }
}

/// 10000 → "10,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Opens every printer through the registry, as an application would
/// (`polyprint_backends::open_with`).
pub(crate) fn build_fleet(
    scenario: Scenario,
    printers: usize,
    only: &str,
    ports: &[u16],
) -> polyprint::Result<Vec<Arc<dyn Printer>>> {
    let own = HttpConfig::default();
    let shared = HttpConfig {
        shared_client: Some(build_client(&own)?),
        ..HttpConfig::default()
    };
    let octoprint = polyprint_backends::find("octoprint")?;
    let mixed = mixed_backends(only);
    if mixed.is_empty() {
        return Err(polyprint::Error::invalid(
            "backends",
            format!("{only:?} names no network backend of the registry"),
        ));
    }
    let mut fleet: Vec<Arc<dyn Printer>> = Vec::with_capacity(printers);
    for i in 0..printers {
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

/// One sweep: every printer's status, `concurrency` at a time. Returns the errors.
async fn sweep(fleet: &[Arc<dyn Printer>], concurrency: usize) -> Vec<String> {
    futures_util::stream::iter(fleet.iter().cloned())
        .map(|p| async move { p.status().await })
        .buffer_unordered(concurrency)
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

/// `fleet-child <scenario> <printers> <concurrency> <sweeps> <port,port,…> [backend,…]`:
/// measures one scenario, prints JSON.
pub fn child_main(args: &[String]) -> Result<(), String> {
    let (scenario, printers, concurrency, sweeps, ports, only) =
        match args {
            [a, b, c, d, e] => (a, b, c, d, e, ""),
            [a, b, c, d, e, f] => (a, b, c, d, e, f.as_str()),
            _ => return Err(
                "usage: fleet-child SCENARIO PRINTERS CONCURRENCY SWEEPS PORT,PORT,… [BACKEND,…]"
                    .into(),
            ),
        };
    let scenario = Scenario::parse(scenario).ok_or("unknown scenario")?;
    let printers: usize = printers.parse().map_err(|_| "bad printer count")?;
    let concurrency: usize = concurrency.parse().map_err(|_| "bad concurrency")?;
    let sweeps: usize = sweeps.parse().map_err(|_| "bad sweep count")?;
    let ports: Vec<u16> = ports.split(',').filter_map(|p| p.parse().ok()).collect();
    if ports.is_empty() {
        return Err("no ports".into());
    }
    raise_nofile_limit();
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        let rss_before = proc_status_kib("VmRSS");
        crate::heap::start();
        let heap_before = crate::heap::live();
        let t = Instant::now();
        let fleet = build_fleet(scenario, printers, only, &ports).map_err(|e| e.to_string())?;
        let setup = t.elapsed();
        let heap_built = (crate::heap::live() - heap_before).max(0) as u64;
        let mut errors = sweep(&fleet, concurrency).await; // warm-up: connections, kinds learnt
        let cpu0 = cpu_time();
        let mut walls = Vec::with_capacity(sweeps);
        let mut heap_after_sweeps = Vec::with_capacity(sweeps);
        for _ in 0..sweeps {
            let t = Instant::now();
            errors.extend(sweep(&fleet, concurrency).await);
            walls.push(t.elapsed().as_secs_f64() * 1000.0);
            heap_after_sweeps.push(crate::heap::live() - heap_before);
        }
        let cpu = cpu_time() - cpu0;
        // What the fleet keeps between sweeps: the smallest reading after a sweep (idle
        // connections' buffers come and go; the printers' own state stays).
        let heap_kept = heap_after_sweeps.iter().copied().min().unwrap_or(0).max(0) as u64;
        Ok::<Value, String>(json!({
            "setup_ms": setup.as_secs_f64() * 1000.0,
            "sweeps_ms": walls,
            "cpu_us_per_status": cpu.as_secs_f64() * 1e6 / (sweeps * printers) as f64,
            "hwm_kib": proc_status_kib("VmHWM"),
            // What the fleet keeps once its sweeps are over, per printer: resident memory
            // (allocator slack included) and live heap.
            "kept_bytes_per_printer": proc_status_kib("VmRSS").saturating_sub(rss_before) * 1024
                / printers as u64,
            "heap_bytes_per_printer": heap_kept / printers as u64,
            "heap_kept_bytes": heap_kept,
            "heap_built_bytes_per_printer": heap_built / printers as u64,
            "sockets": open_sockets(),
            "errors": errors.len(),
            "first_error": errors.first(),
        }))
    })?;
    println!("{result}");
    Ok(())
}

/// Runs table 2: one server child with `PORTS` ports, one measuring child per scenario and
/// fleet size.
pub fn run(quick: bool, options: &Options) -> Table {
    let only = options
        .backends
        .as_ref()
        .map(|b| b.join(","))
        .unwrap_or_default();
    let sizes: Vec<String> = options.sizes.iter().map(|n| thousands(*n)).collect();
    let mut table = Table::new(
        &format!(
            "2. Fleet polling: one `status()` sweep over {} printers",
            sizes.join(", ")
        ),
        "Each printer has its own base URL (10 server ports × path prefixes such as \
         `http://127.0.0.1:PORT/p17/`) and is opened through the registry; a sweep reads every \
         status with `buffer_unordered`. Each row is a fresh child process: sweep wall time \
         (median of the timed sweeps after one warm-up sweep), client CPU per status \
         (user+sys), peak RSS of the whole process (`VmHWM`), what the fleet keeps per printer \
         after its sweeps as live heap (bytes allocated and not freed, counted by the bench's \
         allocator) and as resident memory (`VmRSS` after minus before, which also counts \
         what the allocator keeps after frees), and the sockets it holds open. The goal \
         applies to the mixed fleet at 10,000 printers (at the largest size run when that is \
         not among them).",
        &[
            "fleet",
            "set-up",
            "sweep wall (median)",
            "sweeps",
            "CPU / status",
            "peak RSS",
            "heap / printer built",
            "heap kept / printer",
            "RSS kept / printer",
            "open sockets",
            "errors",
        ],
        "mixed fleet of 10,000: sweep under 0.5 s wall, peak RSS under 100 MB; every \
         backend under 2 KiB of heap per printer",
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
    let largest = options.sizes.iter().copied().max().unwrap_or(PRINTERS);
    let mut all_ok = true;
    // Per scenario: (printers, live heap kept) at each size, for the marginal cost.
    let mut kept: Vec<(Scenario, Vec<(usize, u64)>)> = Vec::new();
    for &printers in &options.sizes {
        let scenarios: Vec<Scenario> = if quick {
            vec![Scenario::Mixed]
        } else {
            Scenario::all(&only)
                .into_iter()
                // The OctoPrint client comparison once, at the first size.
                .filter(|s| {
                    printers == options.sizes[0]
                        || !matches!(s, Scenario::OctoShared | Scenario::OctoOwn)
                })
                .collect()
        };
        for scenario in scenarios {
            let mut args = vec![
                "fleet-child".to_string(),
                scenario.name(),
                printers.to_string(),
                options.concurrency.to_string(),
                sweeps.to_string(),
                ports.join(","),
            ];
            if !only.is_empty() {
                args.push(only.clone());
            }
            let v: Value = match run_self(&args).and_then(|l| {
                serde_json::from_str(&l).map_err(|e| std::io::Error::other(format!("{e}: {l}")))
            }) {
                Ok(v) => v,
                Err(e) => {
                    table.notes.push(format!(
                        "{} at {printers}: could not measure: {e}",
                        scenario.name()
                    ));
                    all_ok = false;
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
            let heap = v["heap_bytes_per_printer"].as_u64().unwrap_or(u64::MAX);
            let errors = v["errors"].as_u64().unwrap_or(0);
            let ms = |x: f64| fmt_duration(Duration::from_secs_f64(x / 1000.0));
            table.row(vec![
                scenario.label(printers, &only),
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
                format!(
                    "{} B",
                    v["heap_built_bytes_per_printer"].as_u64().unwrap_or(0)
                ),
                format!("{heap} B"),
                format!("{} B", v["kept_bytes_per_printer"].as_u64().unwrap_or(0)),
                v["sockets"].to_string(),
                errors.to_string(),
            ]);
            if let Some(e) = v["first_error"].as_str() {
                table.notes.push(format!(
                    "{} at {printers}: first error: {e}",
                    scenario.name()
                ));
            }
            all_ok &= errors == 0;
            let total = v["heap_kept_bytes"].as_u64().unwrap_or(u64::MAX);
            match kept.iter_mut().find(|(s, _)| *s == scenario) {
                Some((_, sizes)) => sizes.push((printers, total)),
                None => kept.push((scenario, vec![(printers, total)])),
            }
            if options.sizes.len() == 1 && matches!(scenario, Scenario::Only(_)) {
                all_ok &= heap < 2048;
            }
            if scenario == Scenario::Mixed && printers == largest {
                all_ok &= median_ms < 500.0 && hwm * 1024 < 100_000_000;
            }
        }
    }
    // With two sizes or more, what one more printer costs: the growth of the live heap from
    // the smallest fleet to the largest, over the printers added. Fixed costs (the runtime,
    // the pooled connections, which concurrency bounds) cancel out.
    if options.sizes.len() > 1 {
        let mut marginal = Vec::new();
        for (scenario, sizes) in &kept {
            let (Some(small), Some(large)) = (
                sizes.iter().min_by_key(|x| x.0),
                sizes.iter().max_by_key(|x| x.0),
            ) else {
                continue;
            };
            if large.0 == small.0 {
                continue;
            }
            let bytes = (large.1 as f64 - small.1 as f64) / (large.0 - small.0) as f64;
            if matches!(scenario, Scenario::Only(_)) {
                all_ok &= bytes < 2048.0;
            }
            marginal.push(format!("{} {bytes:.0} B", scenario.name()));
        }
        table.notes.push(format!(
            "Heap per added printer (live heap kept at the largest size minus at the smallest, \
             over the printers added; goal under 2,048 B for each backend): {}.",
            marginal.join(", ")
        ));
    }
    table.check(all_ok);
    drop(server);
    table.notes.push(format!(
        "Concurrency {}, {sweeps} timed sweeps per row after one warm-up sweep; 100 MB = 10^8 \
         bytes; the server (one thread, {PORTS} ports) is another process. In the mixed fleet \
         printer i is the registry's network backend i mod n, opened through the registry; an \
         OctoPrint or PrusaLink status is 2 GETs, a Moonraker status 2 in turn, the others 1. \
         A Prusa Connect printer also reads its supported commands and cameras on its first \
         status (the warm-up sweep), then every 5 minutes. Heap kept is the smallest reading \
         after a timed sweep (idle connections' buffers come and go).",
        options.concurrency
    ));
    table
}
