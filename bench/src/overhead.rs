//! Table 1, per-call overhead: one `status()` through the library against a bare reqwest
//! client making the same requests to the same fixed-response server, call by call.
//!
//! The bare client is the floor: it sends the same GETs with the same credential header and
//! reads the bodies as bytes, without decoding them. OctoPrint's status needs two requests;
//! the bare client makes them one after the other and, separately, concurrently. Variants run
//! interleaved in rounds so drift in the machine affects them alike. CPU per call is this
//! process's `getrusage` user+sys over a variant's calls (the server is another process).

use std::sync::Arc;
use std::time::{Duration, Instant};

use polyprint::transport::HttpConfig;
use polyprint::Printer;
use polyprint_obico::Obico;
use polyprint_octoeverywhere::OctoEverywhere;
use polyprint_octoprint::OctoPrint;
use polyprint_prusa_connect::PrusaConnect;

use crate::child::Server;
use crate::report::Table;
use crate::server::{OBICO_SAMPLES, OCTOPRINT_SAMPLES, PRUSA_CONNECT_SAMPLES};
use crate::stats::{cpu_time, fmt_duration, Summary};

const KEY: &str = "bench-api-key";
/// The objects a Moonraker status asks for, as the adapter asks (the bench server answers any).
const MOONRAKER_QUERY: &str = "webhooks&print_stats&virtual_sdcard&pause_resume&idle_timeout&display_status&extruder&heater_bed";
const OBICO_ID: u64 = 125;
/// A Prusa Connect printer UUID.
pub const PRUSA_UUID: &str = "11111111-2222-3333-4444-555555555555";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    LibOcto,
    BareOctoSeq,
    BareOctoConc,
    LibObico,
    BareObico,
    LibPrusa,
    BarePrusa,
    LibOe,
    BareOe,
    LibPrusaLink,
    BarePrusaLink,
    LibMoonraker,
    BareMoonraker,
}

const VARIANTS: [Variant; 13] = [
    Variant::LibOcto,
    Variant::BareOctoSeq,
    Variant::BareOctoConc,
    Variant::LibObico,
    Variant::BareObico,
    Variant::LibPrusa,
    Variant::BarePrusa,
    Variant::LibOe,
    Variant::BareOe,
    Variant::LibPrusaLink,
    Variant::BarePrusaLink,
    Variant::LibMoonraker,
    Variant::BareMoonraker,
];

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::LibOcto => "OctoPrint `status()` (library, 2 GETs concurrently)",
            Variant::BareOctoSeq => "OctoPrint bare reqwest, 2 GETs one after the other",
            Variant::BareOctoConc => "OctoPrint bare reqwest, 2 GETs concurrently",
            Variant::LibObico => "Obico `status()` (library, 1 GET)",
            Variant::BareObico => "Obico bare reqwest, 1 GET",
            Variant::LibPrusa => {
                "Prusa Connect `status()` (library, 1 GET once capabilities are cached)"
            }
            Variant::BarePrusa => "Prusa Connect bare reqwest, 1 GET",
            Variant::LibOe => "OctoEverywhere `status()` (library, 1 GET)",
            Variant::BareOe => "OctoEverywhere bare reqwest, 1 GET",
            Variant::LibPrusaLink => "PrusaLink `status()` (library, 2 GETs concurrently)",
            Variant::BarePrusaLink => "PrusaLink bare reqwest, 2 GETs concurrently",
            Variant::LibMoonraker => {
                "Moonraker `status()` (library, server/info then one objects query)"
            }
            Variant::BareMoonraker => "Moonraker bare reqwest, the same 2 GETs one after the other",
        }
    }
}

struct Clients {
    octo: Arc<dyn Printer>,
    obico: Arc<dyn Printer>,
    prusa: Arc<dyn Printer>,
    oe: Arc<dyn Printer>,
    prusalink: Arc<dyn Printer>,
    moonraker: Arc<dyn Printer>,
    bare: reqwest::Client,
    printer_url: String,
    job_url: String,
    obico_url: String,
    prusa_url: String,
    oe_url: String,
    prusalink_urls: [String; 2],
    moonraker_urls: [String; 2],
}

async fn bare_get(client: &reqwest::Client, url: &str, bearer: bool) -> Result<(), String> {
    let req = client.get(url);
    let req = if bearer {
        req.bearer_auth(KEY)
    } else {
        req.header("X-Api-Key", KEY)
    };
    let r = req.send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("{url}: HTTP {}", r.status()));
    }
    r.bytes().await.map(drop).map_err(|e| e.to_string())
}

impl Clients {
    fn new(base: &str) -> Result<Clients, String> {
        let config = HttpConfig::default();
        let e = |e: polyprint::Error| e.to_string();
        Ok(Clients {
            octo: Arc::new(
                OctoPrint::builder(base)
                    .api_key(KEY)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            obico: Arc::new(
                Obico::builder(base)
                    .token(KEY)
                    .printer_id(OBICO_ID)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            prusa: Arc::new(
                PrusaConnect::builder(base)
                    .token(KEY)
                    .printer(PRUSA_UUID)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            oe: Arc::new(
                OctoEverywhere::builder(base)
                    .bearer(KEY)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            prusalink: Arc::new(
                polyprint_prusalink::PrusaLink::builder(base)
                    .credential(polyprint_prusalink::Credential::parse(KEY))
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            moonraker: Arc::new(
                polyprint_moonraker::Moonraker::builder(base)
                    .api_key(KEY)
                    .http(config)
                    .build()
                    .map_err(e)?,
            ),
            // The same timeouts as the library's transport (every request is bounded there), so
            // the comparison is of the same guarantees.
            bare: reqwest::Client::builder()
                .tcp_nodelay(true)
                .connect_timeout(HttpConfig::default().connect_timeout)
                .timeout(HttpConfig::default().request_timeout)
                .build()
                .map_err(|e| e.to_string())?,
            printer_url: format!("{base}/api/printer"),
            job_url: format!("{base}/api/job"),
            obico_url: format!("{base}/api/v1/printers/{OBICO_ID}/"),
            prusa_url: format!("{base}/app/printers/{PRUSA_UUID}"),
            // What the adapter asks for: `<base>/octoeverywhere-command-api/` joined with `status`.
            oe_url: format!("{base}/octoeverywhere-command-api/status"),
            prusalink_urls: [
                format!("{base}/api/v1/status"),
                format!("{base}/api/v1/job"),
            ],
            moonraker_urls: [
                format!("{base}/server/info"),
                format!("{base}/printer/objects/query?{}", MOONRAKER_QUERY),
            ],
        })
    }

    async fn call(&self, v: Variant) -> Result<(), String> {
        match v {
            Variant::LibOcto => self
                .octo
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::LibObico => self
                .obico
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BareOctoSeq => {
                bare_get(&self.bare, &self.printer_url, false).await?;
                bare_get(&self.bare, &self.job_url, false).await
            }
            Variant::BareOctoConc => {
                let (a, b) = tokio::join!(
                    bare_get(&self.bare, &self.printer_url, false),
                    bare_get(&self.bare, &self.job_url, false)
                );
                a.and(b)
            }
            Variant::BareObico => bare_get(&self.bare, &self.obico_url, true).await,
            Variant::LibPrusa => self
                .prusa
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BarePrusa => bare_get(&self.bare, &self.prusa_url, true).await,
            Variant::LibOe => self.oe.status().await.map(drop).map_err(|e| e.to_string()),
            Variant::BareOe => bare_get(&self.bare, &self.oe_url, true).await,
            Variant::LibPrusaLink => self
                .prusalink
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BarePrusaLink => {
                let [a, b] = &self.prusalink_urls;
                let (a, b) = tokio::join!(
                    bare_get(&self.bare, a, false),
                    bare_get(&self.bare, b, false)
                );
                a.and(b)
            }
            Variant::LibMoonraker => self
                .moonraker
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BareMoonraker => {
                let [a, b] = &self.moonraker_urls;
                bare_get(&self.bare, a, false).await?;
                bare_get(&self.bare, b, false).await
            }
        }
    }
}

/// Runs table 1 against a fresh one-port server.
pub async fn run(quick: bool) -> Table {
    let mut table = Table::new(
        "1. Per-call overhead: `status()` vs a bare reqwest client",
        "Each call is timed alone, one after another, against the same local fixed-response \
         server (its own process, canned bodies from the recorded samples in \
         `adapters/*/tests/fixtures/samples`). The bare client sends the same GETs with the \
         same credential header and reads the bodies without decoding them; the library also \
         decodes and maps them. Ratio = library median / bare median. The last three rows \
         repeat OctoPrint against a server that waits before answering, as a real one does.",
        &[
            "client",
            "calls",
            "median",
            "p90",
            "CPU / call",
            "ratio (median)",
        ],
        "Obico, Prusa Connect and OctoEverywhere within 1.2× of bare; OctoPrint faster than bare sequential and within 1.2× of \
         bare concurrent",
    );
    if let Err(e) = measure(&mut table, quick).await {
        table.notes.push(format!("Could not measure: {e}"));
        table.met = None;
    }
    table
}

async fn measure(table: &mut Table, quick: bool) -> Result<(), String> {
    let server = Server::start(1).map_err(|e| e.to_string())?;
    let clients = Clients::new(&server.url(0))?;
    let (rounds, per_round, warmup) = if quick { (3, 100, 50) } else { (10, 1000, 500) };
    for v in VARIANTS {
        for _ in 0..warmup {
            clients.call(v).await?;
        }
    }
    let mut samples: Vec<Vec<Duration>> =
        vec![Vec::with_capacity(rounds * per_round); VARIANTS.len()];
    let mut cpu = vec![Duration::ZERO; VARIANTS.len()];
    for _ in 0..rounds {
        for (i, v) in VARIANTS.iter().enumerate() {
            let cpu0 = cpu_time();
            for _ in 0..per_round {
                let t = Instant::now();
                clients.call(*v).await?;
                samples[i].push(t.elapsed());
            }
            cpu[i] += cpu_time() - cpu0;
        }
    }
    drop(server);
    let decode = decode_costs(if quick { 1_000 } else { 10_000 })?;
    let latency = with_latency(quick).await?;

    let summaries: Vec<Summary> = samples.iter().map(|s| Summary::of(s)).collect();
    let med = |v: Variant| {
        let i = VARIANTS
            .iter()
            .position(|x| *x == v)
            .expect("known variant");
        summaries[i].median.as_secs_f64()
    };
    for (i, v) in VARIANTS.iter().enumerate() {
        let ratio = match v {
            Variant::LibOcto => format!(
                "{:.2}× of bare sequential, {:.2}× of bare concurrent",
                med(Variant::LibOcto) / med(Variant::BareOctoSeq),
                med(Variant::LibOcto) / med(Variant::BareOctoConc)
            ),
            Variant::LibObico => format!(
                "{:.2}× of bare",
                med(Variant::LibObico) / med(Variant::BareObico)
            ),
            Variant::LibPrusa => format!(
                "{:.2}× of bare",
                med(Variant::LibPrusa) / med(Variant::BarePrusa)
            ),
            Variant::LibOe => format!("{:.2}× of bare", med(Variant::LibOe) / med(Variant::BareOe)),
            Variant::LibPrusaLink => format!(
                "{:.2}× of bare",
                med(Variant::LibPrusaLink) / med(Variant::BarePrusaLink)
            ),
            Variant::LibMoonraker => format!(
                "{:.2}× of bare",
                med(Variant::LibMoonraker) / med(Variant::BareMoonraker)
            ),
            _ => "1 (floor)".to_string(),
        };
        table.row(vec![
            v.label().to_string(),
            samples[i].len().to_string(),
            fmt_duration(summaries[i].median),
            fmt_duration(summaries[i].p90),
            fmt_duration(cpu[i] / samples[i].len() as u32),
            ratio,
        ]);
    }
    for (label, d) in [
        ("OctoPrint decode + map only, no I/O (2 bodies)", decode.0),
        ("Obico decode + map only, no I/O (1 body)", decode.1),
        ("Prusa Connect decode + map only, no I/O (1 body)", decode.2),
        (
            "OctoEverywhere decode + map only, no I/O (1 body)",
            decode.3,
        ),
    ] {
        table.row(vec![
            label.to_string(),
            "—".into(),
            fmt_duration(d),
            "—".into(),
            fmt_duration(d),
            "part of the library's time".into(),
        ]);
    }
    let lat_med = |i: usize| latency[i].1.median.as_secs_f64();
    for (i, (v, s)) in latency.iter().enumerate() {
        let label = v.label().replacen(
            "OctoPrint",
            &format!("OctoPrint, server taking {LATENCY_MS} ms per request:"),
            1,
        );
        table.row(vec![
            label,
            latency_calls(quick).to_string(),
            fmt_duration(s.median),
            fmt_duration(s.p90),
            "—".into(),
            if i == 0 {
                format!(
                    "{:.2}× of bare sequential, {:.2}× of bare concurrent",
                    lat_med(0) / lat_med(1),
                    lat_med(0) / lat_med(2)
                )
            } else {
                "1 (floor)".into()
            },
        ]);
    }
    let extra =
        |lib: Variant, bare: Variant| Duration::from_secs_f64((med(lib) - med(bare)).max(0.0));
    table.notes.push(format!(
        "Where the library's extra time goes: OctoPrint is {} slower than bare concurrent, of \
         which decoding and mapping the two bodies take {}; Obico is {} slower than bare, of \
         which decoding and mapping its body takes {}; Prusa Connect is {} slower than bare, of \
         which decoding and mapping its body takes {}; OctoEverywhere is {} slower than bare, of \
         which decoding and mapping its body takes {}. The rest is the transport and adapter \
         around each request.",
        fmt_duration(extra(Variant::LibOcto, Variant::BareOctoConc)),
        fmt_duration(decode.0),
        fmt_duration(extra(Variant::LibObico, Variant::BareObico)),
        fmt_duration(decode.1),
        fmt_duration(extra(Variant::LibPrusa, Variant::BarePrusa)),
        fmt_duration(decode.2),
        fmt_duration(extra(Variant::LibOe, Variant::BareOe)),
        fmt_duration(decode.3),
    ));
    let octo_seq = med(Variant::LibOcto) / med(Variant::BareOctoSeq);
    let octo_conc = med(Variant::LibOcto) / med(Variant::BareOctoConc);
    let obico = med(Variant::LibObico) / med(Variant::BareObico);
    let prusa = med(Variant::LibPrusa) / med(Variant::BarePrusa);
    let oe = med(Variant::LibOe) / med(Variant::BareOe);
    table.check(obico <= 1.2);
    table.check(prusa <= 1.2);
    table.check(oe <= 1.2);
    table.check(octo_seq < 1.0);
    table.check(octo_conc <= 1.2);
    table.notes.push(format!(
        "Checks: Obico {obico:.2}× ≤ 1.2 {}; Prusa Connect {prusa:.2}× ≤ 1.2 {}; \
         OctoEverywhere {oe:.2}× ≤ 1.2 {}; OctoPrint {octo_seq:.2}× < 1 vs sequential {}; \
         OctoPrint {octo_conc:.2}× ≤ 1.2 vs concurrent {}. {rounds} interleaved rounds of \
         {per_round} calls per client after {warmup} warm-up calls each; client on a \
         multi-threaded tokio runtime, server on one thread of its own process.",
        ok(obico <= 1.2),
        ok(prusa <= 1.2),
        ok(oe <= 1.2),
        ok(octo_seq < 1.0),
        ok(octo_conc <= 1.2)
    ));
    table.notes.push(format!(
        "With a server taking {LATENCY_MS} ms per request (a real OctoPrint takes about 3 ms), \
         OctoPrint's `status()` is {:.2}× of the bare client's sequential time: the two \
         requests overlap. Against the zero-work server above, the two requests cost mostly \
         CPU on a 2-core machine shared with the server, so overlapping them saves little.",
        lat_med(0) / lat_med(1)
    ));
    Ok(())
}

/// The simulated server work per request in the latency rows (a real OctoPrint takes about
/// 3 ms).
const LATENCY_MS: u64 = 3;

/// Calls per client in the latency rows.
fn latency_calls(quick: bool) -> usize {
    if quick {
        20
    } else {
        200
    }
}

/// OctoPrint's three clients against a server that takes `LATENCY_MS` per request, where
/// making the two requests concurrently matters.
async fn with_latency(quick: bool) -> Result<Vec<(Variant, Summary)>, String> {
    let server = Server::start_with_delay(1, LATENCY_MS).map_err(|e| e.to_string())?;
    let clients = Clients::new(&server.url(0))?;
    let variants = [
        Variant::LibOcto,
        Variant::BareOctoSeq,
        Variant::BareOctoConc,
    ];
    let mut samples = vec![Vec::new(); variants.len()];
    for v in variants {
        for _ in 0..5 {
            clients.call(v).await?;
        }
    }
    let rounds = 4;
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            for _ in 0..latency_calls(quick) / rounds {
                let t = Instant::now();
                clients.call(*v).await?;
                samples[i].push(t.elapsed());
            }
        }
    }
    Ok(variants
        .into_iter()
        .zip(samples.iter().map(|s| Summary::of(s)))
        .collect())
}

/// Median time to decode and map the sample bodies, per status: (OctoPrint, Obico, Prusa
/// Connect, OctoEverywhere).
fn decode_costs(iterations: usize) -> Result<(Duration, Duration, Duration, Duration), String> {
    let dir = crate::server::samples_dir();
    let read = |rel: &str| std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let printer = read(&format!("{OCTOPRINT_SAMPLES}/printer_printing.json"))?;
    let job = read(&format!("{OCTOPRINT_SAMPLES}/job_printing.json"))?;
    let obico = read(&format!("{OBICO_SAMPLES}/printer_octoprint_paused.json"))?;
    let time = |f: &dyn Fn() -> Result<(), String>| -> Result<Duration, String> {
        // Batches of 100, so the clock's own cost does not count; median of the batches.
        let mut batches = Vec::with_capacity(iterations / 100);
        for _ in 0..iterations / 100 {
            let t = Instant::now();
            for _ in 0..100 {
                f()?;
            }
            batches.push(t.elapsed() / 100);
        }
        Ok(Summary::of(&batches).median)
    };
    let octo = time(&|| {
        std::hint::black_box(polyprint_octoprint::bench_internals::status(
            &printer, &job,
        )?);
        Ok(())
    })?;
    let obico = time(&|| {
        std::hint::black_box(polyprint_obico::bench_internals::status(&obico)?);
        Ok(())
    })?;
    let prusa_body = read(&format!(
        "{PRUSA_CONNECT_SAMPLES}/ha-prusa-connect/printer_detail.json"
    ))?;
    let prusa = time(&|| {
        std::hint::black_box(polyprint_prusa_connect::bench_internals::status(
            &prusa_body,
        )?);
        Ok(())
    })?;
    // The body the server answers, decoded as the adapter does: the envelope, then its
    // `Result` as the status document, then the mapping (and the features it caches).
    let oe_body = crate::server::oe_envelope(read(crate::server::OE_STATUS_SAMPLE)?)
        .map_err(|e| e.to_string())?;
    let oe = time(&|| {
        std::hint::black_box(polyprint_octoeverywhere::bench_internals::status(&oe_body)?);
        Ok(())
    })?;
    Ok((octo, obico, prusa, oe))
}

fn ok(b: bool) -> &'static str {
    if b {
        "(met)"
    } else {
        "(NOT met)"
    }
}
