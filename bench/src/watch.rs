//! Table 5, live status: what [`polyprint::watch`] costs.
//!
//! 1. Push: from a server's message to the item on the stream. The parts are measured in
//!    process: decoding and mapping a recorded OctoPrint `current` message
//!    (`status_of`), and the stream's own path from a pushed
//!    status to the consumer (change detection, hand-over, wake-up), against the baseline of
//!    a bare tokio channel's hand-over measured in the same run.
//! 2. Polling: from a state change of a virtual printer to the item, with a 100 ms poll
//!    interval (expected: about half an interval on average).
//! 3. 1,000 watched idle printers of every HTTP backend in the registry for a while, in a
//!    child process of their own (`watch-child`) against the fixed-response server: CPU as a
//!    share of one core, peak RSS, items and errors. The fixed-response server has no
//!    WebSocket, so OctoPrint's watchers fall back to polling and retry push now and then,
//!    as they would behind a proxy that does not pass WebSockets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::watch::{watch, Fleet, StatusFeed, WatchOptions};
use polyprint::{Backend, Command, Feature, Features, PrinterInfo, PrinterState, PrinterStatus};
use serde_json::{json, Value};

use crate::child::{run_self, Server};
use crate::fleet::{build_fleet, Scenario, PORTS, PRINTERS};
use crate::report::Table;
use crate::server::{samples_dir, OCTOPRINT_SAMPLES};
use crate::stats::{cpu_time, fmt_duration, fmt_kib, proc_status_kib, raise_nofile_limit, Summary};

/// A printer that pushes whatever the bench sends it.
struct Pushed {
    inner: VirtualPrinter,
    feed: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<polyprint::Result<PrinterStatus>>>>,
}

#[polyprint::async_trait]
impl Backend for Pushed {
    fn describe(&self) -> PrinterInfo {
        Backend::describe(&self.inner)
    }
    fn capabilities(&self) -> Features {
        Backend::capabilities(&self.inner) | Feature::StatusPush
    }
    async fn read_status(&self) -> polyprint::Result<PrinterStatus> {
        Backend::read_status(&self.inner).await
    }
    async fn run(&self, command: Command) -> polyprint::Result<()> {
        Backend::run(&self.inner, command).await
    }
    async fn open_feed(&self) -> polyprint::Result<StatusFeed> {
        let mut rx = self
            .feed
            .lock()
            .unwrap()
            .take()
            .ok_or(polyprint::Error::Unsupported {
                feature: Feature::StatusPush,
                backend: "bench".into(),
            })?;
        Ok(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed())
    }
}

/// Median time to decode and map one recorded `current` message.
fn decode_cost(rounds: usize) -> Result<Duration, String> {
    let path = samples_dir()
        .join(OCTOPRINT_SAMPLES)
        .join("sockjs_current.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let status = polyprint_octoprint::bench_internals::pushed_status(v["current"].clone())?;
        std::hint::black_box(status);
        samples.push(t.elapsed());
    }
    Ok(Summary::of(&samples).median)
}

/// Median hand-over of a pushed status through the stream, and of a bare channel.
async fn pipeline(rounds: usize) -> Result<(Duration, Duration), String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = Arc::new(Pushed {
        inner: VirtualPrinter::new(),
        feed: Mutex::new(Some(rx)),
    });
    let mut s = watch(printer, WatchOptions::default());
    let status = |i: usize| {
        let mut st = PrinterStatus::new(PrinterState::Printing, "Printing");
        st.job = Some({
            let mut v = polyprint::JobProgress::default();
            v.progress = Some(i as f64 / rounds as f64 * 100.0);
            v
        });
        st
    };
    tx.send(Ok(status(0))).map_err(|e| e.to_string())?;
    s.next()
        .await
        .ok_or("no first item")?
        .map_err(|e| e.to_string())?;
    let mut through = Vec::with_capacity(rounds);
    for i in 1..=rounds {
        let t = Instant::now();
        tx.send(Ok(status(i))).map_err(|e| e.to_string())?;
        s.next()
            .await
            .ok_or("stream ended")?
            .map_err(|e| e.to_string())?;
        through.push(t.elapsed());
    }
    // The baseline: the same hand-over through a bare channel to a task.
    let (btx, mut brx) = tokio::sync::mpsc::unbounded_channel::<PrinterStatus>();
    let (otx, mut orx) = tokio::sync::mpsc::unbounded_channel::<PrinterStatus>();
    tokio::spawn(async move {
        while let Some(s) = brx.recv().await {
            if otx.send(s).is_err() {
                break;
            }
        }
    });
    let mut bare = Vec::with_capacity(rounds);
    for i in 1..=rounds {
        let t = Instant::now();
        btx.send(status(i)).map_err(|e| e.to_string())?;
        orx.recv().await.ok_or("bare channel ended")?;
        bare.push(t.elapsed());
    }
    Ok((Summary::of(&through).median, Summary::of(&bare).median))
}

/// Latencies from a state change to the item, polling every `every`.
async fn polling(changes: usize, every: Duration) -> Result<Vec<Duration>, String> {
    let printer = VirtualPrinter::new();
    let mut s = watch(Arc::new(printer.clone()), WatchOptions::every(every));
    s.next()
        .await
        .ok_or("no first item")?
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(changes);
    for i in 0..changes {
        // Changes at moments unrelated to the poll phase.
        tokio::time::sleep(every.mul_f64(0.37 * (i % 7) as f64 / 7.0 + 0.5)).await;
        let t = Instant::now();
        let mut g = printer.lock();
        if g.view().state == PrinterState::Printing {
            g.cancel().map_err(|e| e.to_string())?;
        } else {
            g.start(DEMO_FILE).map_err(|e| e.to_string())?;
        }
        drop(g);
        loop {
            let u = s
                .next()
                .await
                .ok_or("stream ended")?
                .map_err(|e| e.to_string())?;
            if u.status.state != PrinterState::Cancelling {
                break;
            }
        }
        out.push(t.elapsed());
        // Settle: a cancel passes through Cancelling.
        printer.advance(Duration::from_secs(60));
        tokio::time::sleep(every * 2).await;
        while let Ok(Some(_)) = tokio::time::timeout(every / 4, s.next()).await {}
    }
    Ok(out)
}

/// `watch-child <seconds> <port,port,…>`: watches 1,000 mixed printers, prints JSON.
pub fn child_main(args: &[String]) -> Result<(), String> {
    let [cadence, seconds, ports] = args else {
        return Err("usage: watch-child idle|default SECONDS PORT,PORT,…".into());
    };
    // `idle`: every printer at the idle interval, as an idle fleet is read (the server's
    // recorded bodies show most printers with a job); `default`: the default options as is.
    let options = match cadence.as_str() {
        "idle" => WatchOptions {
            active: WatchOptions::default().idle,
            ..WatchOptions::default()
        },
        "default" => WatchOptions::default(),
        _ => return Err("cadence: idle or default".into()),
    };
    let seconds: u64 = seconds.parse().map_err(|_| "bad seconds")?;
    let ports: Vec<u16> = ports.split(',').filter_map(|p| p.parse().ok()).collect();
    raise_nofile_limit();
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        let fleet = Fleet::new(
            build_fleet(Scenario::Mixed, PRINTERS, "", &ports).map_err(|e| e.to_string())?,
        );
        let mut merged = fleet.watch(options);
        // Warm-up: every printer's first item.
        let mut firsts = 0;
        let mut errors = 0u64;
        let mut first_error: Option<String> = None;
        let mut states = std::collections::BTreeMap::<String, u64>::new();
        let warm = Instant::now() + Duration::from_secs(30);
        while firsts < PRINTERS && Instant::now() < warm {
            match tokio::time::timeout(Duration::from_secs(5), merged.next()).await {
                Ok(Some((_, Ok(u)))) => {
                    firsts += 1;
                    *states.entry(u.status.state.to_string()).or_default() += 1;
                }
                Ok(Some((_, Err(e)))) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
                _ => break,
            }
        }
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        let mut items = 0u64;
        let window = Duration::from_secs(seconds);
        while t0.elapsed() < window {
            let left = window.saturating_sub(t0.elapsed());
            match tokio::time::timeout(left, merged.next()).await {
                Ok(Some((_, Ok(_)))) => items += 1,
                Ok(Some((_, Err(e)))) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
                _ => {}
            }
        }
        let cpu = cpu_time() - cpu0;
        Ok::<Value, String>(json!({
            "firsts": firsts,
            "states": states,
            "seconds": t0.elapsed().as_secs_f64(),
            "cpu_share": cpu.as_secs_f64() / t0.elapsed().as_secs_f64(),
            "hwm_kib": proc_status_kib("VmHWM"),
            "items": items,
            "errors": errors,
            "first_error": first_error,
        }))
    })?;
    println!("{result}");
    Ok(())
}

/// Runs table 5.
pub fn run(quick: bool) -> Table {
    let mut table = Table::new(
        "5. Live status: push and polling latency, 1,000 watched printers",
        "Push: decoding and mapping a recorded OctoPrint `current` message (median), plus the \
         stream's path from a pushed status to the consumer (median of hand-overs), shown \
         against a bare tokio channel's hand-over to a task measured in the same run. \
         Polling: a virtual printer's state change to the item, polling every 100 ms. Fleet: \
         1,000 idle printers of every HTTP backend in the registry, watched with the default \
         options (idle reads 10 s apart) in a child process of their own, against the \
         fixed-response server (no WebSocket there: OctoPrint's watchers poll and retry push).",
        &["measure", "value", "against"],
        "push adds under 1 ms over the server's message; 1,000 idle watched printers under 5% \
         of one core and 100 MB",
    );
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            table.notes.push(format!("no runtime: {e}"));
            return table;
        }
    };
    let rounds = if quick { 200 } else { 2000 };
    match (decode_cost(rounds), rt.block_on(pipeline(rounds))) {
        (Ok(decode), Ok((through, bare))) => {
            let added = decode + through;
            table.row(vec![
                "push: decode and map one `current`".into(),
                fmt_duration(decode),
                String::new(),
            ]);
            table.row(vec![
                "push: stream hand-over".into(),
                fmt_duration(through),
                format!(
                    "{:.1}× a bare channel ({})",
                    through.as_secs_f64() / bare.as_secs_f64().max(1e-9),
                    fmt_duration(bare)
                ),
            ]);
            table.row(vec![
                "push: added in all".into(),
                fmt_duration(added),
                format!("{:.3} of the 1 ms goal", added.as_secs_f64() / 1e-3),
            ]);
            table.check(added < Duration::from_millis(1));
        }
        (Err(e), _) | (_, Err(e)) => {
            table.notes.push(format!("push: could not measure: {e}"));
            table.check(false);
        }
    }
    let every = Duration::from_millis(100);
    match rt.block_on(polling(if quick { 10 } else { 40 }, every)) {
        Ok(latencies) => {
            let s = Summary::of(&latencies);
            table.row(vec![
                "polling: change to item (median)".into(),
                fmt_duration(s.median),
                format!(
                    "{:.2} of the 100 ms interval (p90 {})",
                    s.median.as_secs_f64() / every.as_secs_f64(),
                    fmt_duration(s.p90)
                ),
            ]);
        }
        Err(e) => table.notes.push(format!("polling: could not measure: {e}")),
    }
    drop(rt);
    let server = match Server::start(PORTS) {
        Ok(s) => s,
        Err(e) => {
            table.notes.push(format!("fleet: no server: {e}"));
            table.check(false);
            return table;
        }
    };
    let seconds = if quick { 10 } else { 60 };
    let ports: Vec<String> = server.ports.iter().map(u16::to_string).collect();
    for cadence in ["idle", "default"] {
        let args = vec![
            "watch-child".to_string(),
            cadence.to_string(),
            seconds.to_string(),
            ports.join(","),
        ];
        let v = match run_self(&args).and_then(|l| {
            serde_json::from_str::<Value>(&l)
                .map_err(|e| std::io::Error::other(format!("{e}: {l}")))
        }) {
            Ok(v) => v,
            Err(e) => {
                table
                    .notes
                    .push(format!("fleet ({cadence}): could not measure: {e}"));
                table.check(false);
                continue;
            }
        };
        let share = v["cpu_share"].as_f64().unwrap_or(f64::NAN);
        let hwm = v["hwm_kib"].as_u64().unwrap_or(0);
        let label = match cadence {
            "idle" => "every printer read at the idle interval (10 s)",
            _ => "default options (jobs read every 2 s)",
        };
        table.row(vec![
            format!("fleet, {label}: CPU over {seconds} s"),
            format!("{:.2}% of one core", share * 100.0),
            if cadence == "idle" {
                "goal 5%".into()
            } else {
                String::new()
            },
        ]);
        table.row(vec![
            format!("fleet, {label}: peak RSS"),
            fmt_kib(hwm),
            "goal 100 MB".into(),
        ]);
        table.row(vec![
            format!("fleet, {label}: first statuses / items / errors"),
            format!("{} / {} / {}", v["firsts"], v["items"], v["errors"]),
            format!("states at the start: {}", v["states"]),
        ]);
        if let Some(e) = v["first_error"].as_str() {
            table
                .notes
                .push(format!("fleet ({cadence}): first error: {e}"));
        }
        if cadence == "idle" {
            table.check(share < 0.05 && hwm < 100 * 1024);
        }
    }
    table
}
