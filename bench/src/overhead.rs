//! Table 1, per-call overhead: one `status()` through the library against a bare reqwest
//! client making the same requests to the same fixed-response server, call by call.
//!
//! The bare client is the floor: it sends the same GETs with the same credential header and
//! reads the bodies as bytes, without decoding them (and, in rows of its own, also parses them
//! as JSON keeping nothing: the least any reader pays). OctoPrint's status needs two requests;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// The bare client that also parses each body as JSON, keeping nothing (serde's
    /// `IgnoredAny`): what any client reading these answers pays at least.
    ParseOcto,
    ParseObico,
    ParsePrusa,
    ParseOe,
    ParsePrusaLink,
    ParseMoonraker,
}

const VARIANTS: [Variant; 19] = [
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
    Variant::ParseOcto,
    Variant::ParseObico,
    Variant::ParsePrusa,
    Variant::ParseOe,
    Variant::ParsePrusaLink,
    Variant::ParseMoonraker,
];

impl Variant {
    /// The registry name of the backend this variant reads.
    fn backend(self) -> &'static str {
        match self {
            Variant::LibOcto
            | Variant::BareOctoSeq
            | Variant::BareOctoConc
            | Variant::ParseOcto => "octoprint",
            Variant::LibObico | Variant::BareObico | Variant::ParseObico => "obico",
            Variant::LibPrusa | Variant::BarePrusa | Variant::ParsePrusa => "prusa-connect",
            Variant::LibOe | Variant::BareOe | Variant::ParseOe => "octoeverywhere",
            Variant::LibPrusaLink | Variant::BarePrusaLink | Variant::ParsePrusaLink => "prusalink",
            Variant::LibMoonraker | Variant::BareMoonraker | Variant::ParseMoonraker => "moonraker",
        }
    }

    /// For a library (or parsing) variant, the bare client it is measured against
    /// (OctoPrint's: the two GETs concurrently, as the library sends them).
    fn bare(self) -> Option<Variant> {
        match self {
            Variant::LibOcto | Variant::ParseOcto => Some(Variant::BareOctoConc),
            Variant::LibObico | Variant::ParseObico => Some(Variant::BareObico),
            Variant::LibPrusa | Variant::ParsePrusa => Some(Variant::BarePrusa),
            Variant::LibOe | Variant::ParseOe => Some(Variant::BareOe),
            Variant::LibPrusaLink | Variant::ParsePrusaLink => Some(Variant::BarePrusaLink),
            Variant::LibMoonraker | Variant::ParseMoonraker => Some(Variant::BareMoonraker),
            _ => None,
        }
    }

    /// What a bare variant does with the bodies: the parsing ones are those measured against
    /// a bare client that are not the library.
    fn body(self) -> Body {
        if self.bare().is_some() && !self.is_library() {
            Body::Parse
        } else {
            Body::Read
        }
    }

    /// Whether this is the library's `status()` (the rows the goal is about).
    fn is_library(self) -> bool {
        matches!(
            self,
            Variant::LibOcto
                | Variant::LibObico
                | Variant::LibPrusa
                | Variant::LibOe
                | Variant::LibPrusaLink
                | Variant::LibMoonraker
        )
    }

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
            Variant::ParseOcto => "OctoPrint bare reqwest, 2 GETs concurrently + JSON parse only",
            Variant::ParseObico => "Obico bare reqwest, 1 GET + JSON parse only",
            Variant::ParsePrusa => "Prusa Connect bare reqwest, 1 GET + JSON parse only",
            Variant::ParseOe => "OctoEverywhere bare reqwest, 1 GET + JSON parse only",
            Variant::ParsePrusaLink => {
                "PrusaLink bare reqwest, 2 GETs concurrently + JSON parse only"
            }
            Variant::ParseMoonraker => "Moonraker bare reqwest, 2 GETs + JSON parse only",
        }
    }
}

/// About how long table 1's timed calls may take against a real server.
const LIVE_BUDGET: Duration = Duration::from_secs(90);

/// `--live BACKEND=URL`: table 1 against a real server, the key from `POLYPRINT_BENCH_KEY`.
#[derive(Clone, Debug)]
pub struct Live {
    backend: &'static str,
    url: String,
    key: String,
}

impl Live {
    /// The backends a live run can measure: those addressed by URL and key alone.
    const BACKENDS: [&'static str; 3] = ["octoprint", "prusalink", "moonraker"];

    /// Parses `BACKEND=URL`; the key comes from the environment so that it is not shown in
    /// the process list or the report.
    pub fn parse(arg: &str) -> Result<Live, String> {
        let (backend, url) = arg
            .split_once('=')
            .ok_or("--live takes BACKEND=URL, e.g. octoprint=http://127.0.0.1:5000")?;
        let backend = Live::BACKENDS
            .into_iter()
            .find(|b| *b == backend)
            .ok_or_else(|| format!("--live measures {} only", Live::BACKENDS.join(", ")))?;
        let key = std::env::var("POLYPRINT_BENCH_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or("--live needs the server's API key in POLYPRINT_BENCH_KEY")?;
        Ok(Live {
            backend,
            url: url.trim_end_matches('/').to_string(),
            key,
        })
    }
}

struct Clients {
    key: String,
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

/// How the bare client treats a body: reads it, or also parses it as JSON keeping nothing.
#[derive(Clone, Copy)]
enum Body {
    Read,
    Parse,
}

async fn bare_get(
    client: &reqwest::Client,
    key: &str,
    url: &str,
    bearer: bool,
    body: Body,
) -> Result<(), String> {
    let req = client.get(url);
    let req = if bearer {
        req.bearer_auth(key)
    } else {
        req.header("X-Api-Key", key)
    };
    let r = req.send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("{url}: HTTP {}", r.status()));
    }
    // A 204 has no body to parse (PrusaLink's `/api/v1/job` with no job).
    let empty = r.status() == reqwest::StatusCode::NO_CONTENT;
    let bytes = r.bytes().await.map_err(|e| e.to_string())?;
    if let (Body::Parse, false) = (body, empty) {
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| format!("{url}: {e}"))?;
    }
    Ok(())
}

impl Clients {
    fn new(base: &str, key: &str) -> Result<Clients, String> {
        let config = HttpConfig::default();
        let e = |e: polyprint::Error| e.to_string();
        Ok(Clients {
            key: key.to_string(),
            octo: Arc::new(
                OctoPrint::builder(base)
                    .api_key(key)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            obico: Arc::new(
                Obico::builder(base)
                    .token(key)
                    .printer_id(OBICO_ID)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            prusa: Arc::new(
                PrusaConnect::builder(base)
                    .token(key)
                    .printer(PRUSA_UUID)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            oe: Arc::new(
                OctoEverywhere::builder(base)
                    .bearer(key)
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            prusalink: Arc::new(
                polyprint_prusalink::PrusaLink::builder(base)
                    .credential(polyprint_prusalink::Credential::parse(key))
                    .http(config.clone())
                    .build()
                    .map_err(e)?,
            ),
            moonraker: Arc::new(
                polyprint_moonraker::Moonraker::builder(base)
                    .api_key(key)
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

    async fn get(&self, url: &str, bearer: bool, body: Body) -> Result<(), String> {
        bare_get(&self.bare, &self.key, url, bearer, body).await
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
                self.get(&self.printer_url, false, Body::Read).await?;
                self.get(&self.job_url, false, Body::Read).await
            }
            Variant::BareOctoConc | Variant::ParseOcto => {
                let body = v.body();
                let (a, b) = tokio::join!(
                    self.get(&self.printer_url, false, body),
                    self.get(&self.job_url, false, body)
                );
                a.and(b)
            }
            Variant::BareObico | Variant::ParseObico => {
                self.get(&self.obico_url, true, v.body()).await
            }
            Variant::LibPrusa => self
                .prusa
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BarePrusa | Variant::ParsePrusa => {
                self.get(&self.prusa_url, true, v.body()).await
            }
            Variant::LibOe => self.oe.status().await.map(drop).map_err(|e| e.to_string()),
            Variant::BareOe | Variant::ParseOe => self.get(&self.oe_url, true, v.body()).await,
            Variant::LibPrusaLink => self
                .prusalink
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BarePrusaLink | Variant::ParsePrusaLink => {
                let [a, b] = &self.prusalink_urls;
                let body = v.body();
                let (a, b) = tokio::join!(self.get(a, false, body), self.get(b, false, body));
                a.and(b)
            }
            Variant::LibMoonraker => self
                .moonraker
                .status()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Variant::BareMoonraker | Variant::ParseMoonraker => {
                let [a, b] = &self.moonraker_urls;
                self.get(a, false, v.body()).await?;
                self.get(b, false, v.body()).await
            }
        }
    }
}

/// Runs table 1 against a fresh one-port server (or the `live` one), for the network backends
/// in `backends` (all when `None`).
pub async fn run(quick: bool, backends: Option<&[String]>, live: Option<&Live>) -> Table {
    let mut table = Table::new(
        "1. Per-call overhead: `status()` vs a bare reqwest client",
        "Each call is timed alone, one after another, against the same server (by default a \
         local fixed-response one in its own process, answering canned bodies from the \
         recorded samples in `adapters/*/tests/fixtures/samples`). The bare client sends the \
         same GETs with the same credential header and reads the bodies without decoding \
         them; the library also decodes and maps them. The `+ JSON parse only` rows are the bare \
         client also parsing each body as JSON and keeping nothing (serde's `IgnoredAny`): \
         the least that any client reading these answers does. Ratio = library median / bare median \
         over all calls; the spread is the lowest and highest ratio of the interleaved \
         rounds' medians. The OctoPrint rows with a waiting server repeat it against a server \
         that takes a few milliseconds per request, as a real one does.",
        &[
            "client",
            "calls",
            "median",
            "p90",
            "CPU / call",
            "ratio (median; rounds' lowest–highest)",
        ],
        "every adapter's `status()` within 1.1× of the bare client making its requests \
         (OctoPrint's and PrusaLink's two concurrently)",
    );
    if let Err(e) = measure(&mut table, quick, backends, live).await {
        table.notes.push(format!("Could not measure: {e}"));
        table.met = None;
    }
    table
}

async fn measure(
    table: &mut Table,
    quick: bool,
    backends: Option<&[String]>,
    live: Option<&Live>,
) -> Result<(), String> {
    let wanted = |b: &str| match (live, backends) {
        (Some(l), _) => l.backend == b,
        (None, Some(list)) => list.iter().any(|x| x == b),
        (None, None) => true,
    };
    let variants: Vec<Variant> = VARIANTS
        .into_iter()
        .filter(|v| wanted(v.backend()))
        .collect();
    if variants.is_empty() {
        return Err("no network backend of the registry chosen".into());
    }
    let server = match live {
        Some(_) => None,
        None => Some(Server::start(1).map_err(|e| e.to_string())?),
    };
    let clients = match (live, &server) {
        (Some(l), _) => Clients::new(&l.url, &l.key)?,
        (None, Some(s)) => Clients::new(&s.url(0), KEY)?,
        (None, None) => unreachable!("a server is started when not live"),
    };
    let (rounds, mut per_round, warmup) = match (quick, live.is_some()) {
        (true, _) => (3, 100, 50),
        // A real server is slower and shared with its own work: fewer calls per round.
        (false, true) => (10, 100, 20),
        (false, false) => (10, 1000, 500),
    };
    let warm = Instant::now();
    for v in &variants {
        for _ in 0..warmup {
            clients.call(*v).await?;
        }
    }
    if live.is_some() {
        // A real Moonraker answers an objects query on Klipper's 0.25 s tick: fit the calls
        // in about LIVE_BUDGET, with at least 10 per round.
        let per_call = warm.elapsed() / (warmup * variants.len()) as u32;
        let calls = (LIVE_BUDGET.as_secs_f64() / per_call.as_secs_f64()) as usize;
        per_round = (calls / (rounds * variants.len())).clamp(10, per_round);
    }
    let mut samples: Vec<Vec<Duration>> =
        vec![Vec::with_capacity(rounds * per_round); variants.len()];
    let mut round_medians: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); variants.len()];
    let mut cpu = vec![Duration::ZERO; variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            let cpu0 = cpu_time();
            let mut round = Vec::with_capacity(per_round);
            for _ in 0..per_round {
                let t = Instant::now();
                clients.call(*v).await?;
                round.push(t.elapsed());
            }
            cpu[i] += cpu_time() - cpu0;
            round_medians[i].push(Summary::of(&round).median.as_secs_f64());
            samples[i].extend(round);
        }
    }
    drop(server);

    let summaries: Vec<Summary> = samples.iter().map(|s| Summary::of(s)).collect();
    let index = |v: Variant| variants.iter().position(|x| *x == v);
    let med = |v: Variant| index(v).map(|i| summaries[i].median.as_secs_f64());
    // The ratio of two variants per round: lowest and highest.
    let spread = |lib: Variant, bare: Variant| -> Option<(f64, f64)> {
        let (l, b) = (index(lib)?, index(bare)?);
        let ratios: Vec<f64> = round_medians[l]
            .iter()
            .zip(&round_medians[b])
            .map(|(x, y)| x / y)
            .collect();
        Some((
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
        ))
    };
    let ratio_text = |lib: Variant, bare: Variant, what: &str| -> Option<String> {
        let r = med(lib)? / med(bare)?;
        let (lo, hi) = spread(lib, bare)?;
        Some(format!("{r:.2}× of {what} ({lo:.2}–{hi:.2})"))
    };
    let mut checks = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let ratio = match v.bare() {
            Some(bare) => {
                let mut text = ratio_text(*v, bare, "bare").unwrap_or_default();
                if *v == Variant::LibOcto {
                    if let Some(seq) = ratio_text(*v, Variant::BareOctoSeq, "bare sequential") {
                        text = format!("{text}; {seq}");
                    }
                }
                if let (true, Some(l), Some(b)) = (v.is_library(), med(*v), med(bare)) {
                    checks.push((v.backend(), l / b));
                }
                text
            }
            None => "1 (floor)".to_string(),
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
    if live.is_none() {
        let decode = decode_costs(if quick { 1_000 } else { 10_000 })?;
        for (backend, label, d) in [
            (
                "octoprint",
                "OctoPrint decode + map only, no I/O (2 bodies)",
                decode.0,
            ),
            (
                "obico",
                "Obico decode + map only, no I/O (1 body)",
                decode.1,
            ),
            (
                "prusa-connect",
                "Prusa Connect decode + map only, no I/O (1 body)",
                decode.2,
            ),
            (
                "octoeverywhere",
                "OctoEverywhere decode + map only, no I/O (1 body)",
                decode.3,
            ),
        ] {
            if !wanted(backend) {
                continue;
            }
            let (time, allocations) = d;
            table.row(vec![
                label.to_string(),
                "—".into(),
                fmt_duration(time),
                "—".into(),
                fmt_duration(time),
                format!("part of the library's time; {allocations} heap allocations"),
            ]);
        }
        if wanted("octoprint") {
            let latency = with_latency(quick).await?;
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
        }
    }
    let mut verdicts = Vec::new();
    for (backend, r) in &checks {
        table.check(*r <= 1.1);
        verdicts.push(format!("{backend} {r:.2}× {}", ok(*r <= 1.1)));
    }
    table.notes.push(format!(
        "Checks (≤ 1.1× of bare): {}. {rounds} interleaved rounds of {per_round} calls per \
         client after {warmup} warm-up calls each; client on a multi-threaded tokio runtime; {}.",
        verdicts.join("; "),
        match live {
            Some(l) => format!("the server: a real {} at {}", l.backend, l.url),
            None => "the server on one thread of its own process".to_string(),
        }
    ));
    Ok(())
}

/// `profile BACKEND lib|bare CALLS`: makes CALLS status reads of one backend, by the library
/// or by the bare client, against a fresh bench server (after 200 warm-up calls), and nothing
/// else; run it under `valgrind --tool=callgrind` to count where the instructions go (the
/// server is a child process, not traced). Prints the median call time.
pub fn profile_main(args: &[String]) -> Result<(), String> {
    let [backend, side, calls] = args else {
        return Err("usage: profile BACKEND lib|bare CALLS".into());
    };
    let calls: usize = calls.parse().map_err(|_| "bad call count")?;
    let lib = VARIANTS
        .into_iter()
        .find(|v| v.backend() == backend && v.bare().is_some())
        .ok_or("unknown backend")?;
    let variant = match side.as_str() {
        "lib" => lib,
        "bare" => lib.bare().expect("a library variant has a bare one"),
        _ => return Err("say lib or bare".into()),
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let server = Server::start(1).map_err(|e| e.to_string())?;
        let clients = Clients::new(&server.url(0), KEY)?;
        for _ in 0..200 {
            clients.call(variant).await?;
        }
        let mut samples = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            clients.call(variant).await?;
            samples.push(t.elapsed());
        }
        println!("{}", fmt_duration(Summary::of(&samples).median));
        Ok(())
    })
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
    let clients = Clients::new(&server.url(0), KEY)?;
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

/// One status's decode and map: its median time in a hot loop, and its heap allocations.
type Decode = (Duration, usize);

/// What decoding and mapping the sample bodies costs, per status: (OctoPrint, Obico, Prusa
/// Connect, OctoEverywhere).
fn decode_costs(iterations: usize) -> Result<(Decode, Decode, Decode, Decode), String> {
    let dir = crate::server::samples_dir();
    let read = |rel: &str| std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let printer = read(&format!("{OCTOPRINT_SAMPLES}/printer_printing.json"))?;
    let job = read(&format!("{OCTOPRINT_SAMPLES}/job_printing.json"))?;
    let obico = read(&format!("{OBICO_SAMPLES}/printer_octoprint_paused.json"))?;
    let time = |f: &dyn Fn() -> Result<(), String>| -> Result<Decode, String> {
        // One call counted; the timed calls below run with counting off again.
        crate::heap::start();
        let before = crate::heap::allocations();
        let first = f();
        let allocations = crate::heap::allocations() - before;
        crate::heap::stop();
        first?;
        // Batches of 100, so the clock's own cost does not count; median of the batches.
        let mut batches = Vec::with_capacity(iterations / 100);
        for _ in 0..iterations / 100 {
            let t = Instant::now();
            for _ in 0..100 {
                f()?;
            }
            batches.push(t.elapsed() / 100);
        }
        Ok((Summary::of(&batches).median, allocations))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_parse_only_rows_parse_their_bodies() {
        for v in VARIANTS {
            let parses = matches!(v.body(), Body::Parse);
            assert_eq!(parses, v.label().ends_with("JSON parse only"), "{v:?}");
        }
    }
}
