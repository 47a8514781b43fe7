//! The generic harness for a live server: any backend in a registry, reached through an
//! [`Endpoint`], named by environment variables or by the CLI's configuration.
//!
//! Every launch opens a fresh client ([`Descriptor::open`]). When the run may move and print
//! ([`LiveHarness::preparing`]), each launch first brings the printer to rest through the
//! common API (connects it where it is offline, cancels a job left over from an earlier case,
//! then waits until it is idle), and the first launch uploads two prints of known length
//! where the backend can upload: [`SLOW_FILE`] for pause, resume and cancel, [`FAST_FILE`]
//! for a print to its end. A run that may not move touches nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use polyprint::descriptor::Expectations;
use polyprint::transport::{HttpConfig, Secret};
use polyprint::{Descriptor, Endpoint, Feature, Printer, PrinterState, Upload};
use tokio::sync::OnceCell;

use crate::harness::{Harness, Target};

/// A print that ends quickly on a virtual printer: fast travel moves only, no heating waits.
pub const FAST_GCODE: &str = include_str!("fast-test.gcode");
/// The name [`FAST_GCODE`] is uploaded under.
pub const FAST_FILE: &str = "polyprint-conformance-fast.gcode";
/// The name of the slow print ([`slow_gcode`]).
pub const SLOW_FILE: &str = "polyprint-conformance-slow.gcode";

/// How long bringing a live printer to rest may take.
const SETTLE_DEADLINE: Duration = Duration::from_secs(20);

/// The environment variables [`LiveHarness::from_env`] reads.
pub mod env {
    /// The backend's name in the registry (`octoprint`, `prusa-connect`, ...).
    pub const BACKEND: &str = "POLYPRINT_LIVE_BACKEND";
    /// The server's base URL.
    pub const URL: &str = "POLYPRINT_LIVE_URL";
    /// The credential (API key, token, `user:password`).
    pub const KEY: &str = "POLYPRINT_LIVE_KEY";
    /// The backend's printer id, where it needs one.
    pub const PRINTER_ID: &str = "POLYPRINT_LIVE_PRINTER_ID";
    /// Backend options, `name=value` pairs separated by commas (`port=VIRTUAL,baudrate=115200`).
    pub const OPTIONS: &str = "POLYPRINT_LIVE_OPTIONS";
}

/// 400 short moves at F3000 with layer markers, no heating and no extrusion (Klipper refuses
/// to extrude below `min_extrude_temp`): long enough to pause, resume and cancel on a
/// virtual printer. Progress lines (`M73 P<percent> R<minutes>`, as slicers write them) every
/// 4 moves, so printers that report progress from the file (PrusaLink) show it move on; two
/// objects (`EXCLUDE_OBJECT_DEFINE`, as slicers label them for Klipper), so one can be
/// cancelled. Other printers answer `ok` to the lines they do not know.
pub fn slow_gcode() -> String {
    let mut g = String::from(
        "; polyprint conformance: a slow print for pause and cancel\n\
         EXCLUDE_OBJECT_DEFINE NAME=part_0 CENTER=30,32 POLYGON=[[20,20],[40,20],[40,45],[20,45]]\n\
         EXCLUDE_OBJECT_DEFINE NAME=part_1 CENTER=30,57 POLYGON=[[20,45],[40,45],[40,70],[20,70]]\n\
         G21\nG90\nG28\n",
    );
    const MOVES: u32 = 400;
    for layer in 0..8 {
        g.push_str(&format!(
            ";LAYER:{layer}\nG1 Z{:.1} F3000\n",
            0.2 * f64::from(layer + 1)
        ));
        for i in 0..50 {
            let n = layer * 50 + i;
            // Moves 0-24 of a layer draw part 0, 25-49 part 1.
            if i % 25 == 0 {
                g.push_str(&format!("EXCLUDE_OBJECT_START NAME=part_{}\n", i / 25));
            }
            if n % 4 == 0 {
                // 20 mm at 50 mm/s: 0.4 s a move.
                let minutes_left = (f64::from(MOVES - n) * 0.4 / 60.0).ceil();
                g.push_str(&format!("M73 P{} R{minutes_left}\n", n * 100 / MOVES));
            }
            let (x, y) = if i % 2 == 0 {
                (20, 20 + i)
            } else {
                (40, 20 + i)
            };
            g.push_str(&format!("G1 X{x} Y{y} F3000\n"));
            if i % 25 == 24 {
                g.push_str(&format!("EXCLUDE_OBJECT_END NAME=part_{}\n", i / 25));
            }
        }
    }
    g
}

/// A live server of one backend.
pub struct LiveHarness {
    name: String,
    descriptor: &'static Descriptor,
    endpoint: Endpoint,
    http: HttpConfig,
    prepare: bool,
    /// Whether the test prints were uploaded (set once, by the first prepared launch).
    uploaded: OnceCell<bool>,
}

impl LiveHarness {
    /// A harness for the printer at `endpoint`, of backend `descriptor`, that touches nothing
    /// (see [`LiveHarness::preparing`]).
    pub fn new(descriptor: &'static Descriptor, endpoint: Endpoint, http: HttpConfig) -> Self {
        LiveHarness {
            name: format!("{}-live", descriptor.name()),
            descriptor,
            endpoint,
            http,
            prepare: false,
            uploaded: OnceCell::new(),
        }
    }

    /// The same harness under another column name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether each launch brings the printer to rest and the first uploads the test prints
    /// (for runs that may move and print: the printer behind the server is virtual).
    pub fn preparing(mut self, prepare: bool) -> Self {
        self.prepare = prepare;
        self
    }

    /// The harness the environment names ([`env`](mod@env)), with its backend found in `registry`;
    /// `Ok(None)` when [`env::BACKEND`] is not set.
    pub fn from_env(registry: &[&'static Descriptor]) -> Result<Option<LiveHarness>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(backend) = var(env::BACKEND) else {
            return Ok(None);
        };
        let descriptor = registry
            .iter()
            .copied()
            .find(|d| d.name() == backend)
            .ok_or_else(|| format!("{}={backend:?} is not in the registry", env::BACKEND))?;
        let mut endpoint = Endpoint {
            url: var(env::URL),
            credential: var(env::KEY).map(Secret::new),
            printer_id: var(env::PRINTER_ID),
            ..Endpoint::default()
        };
        for pair in var(env::OPTIONS).unwrap_or_default().split(',') {
            if let Some((k, v)) = pair.split_once('=') {
                endpoint = endpoint.with_option(k.trim(), v.trim());
            }
        }
        descriptor.check(&endpoint).map_err(|e| e.to_string())?;
        Ok(Some(LiveHarness::new(
            descriptor,
            endpoint,
            HttpConfig::default(),
        )))
    }

    fn open(&self) -> Result<Arc<dyn Printer>, String> {
        self.descriptor
            .open(&self.endpoint, self.http.clone())
            .map_err(|e| e.to_string())
    }

    /// Uploads the two test prints, where the backend can; `Ok(false)` where it cannot.
    async fn upload_prints(&self, printer: &dyn Printer) -> Result<bool, String> {
        let features = printer
            .features()
            .await
            .map_err(|e| format!("features: {e}"))?;
        if !features.contains(Feature::FileUpload) {
            return Ok(false);
        }
        for (name, body) in [
            (FAST_FILE, FAST_GCODE.to_string()),
            (SLOW_FILE, slow_gcode()),
        ] {
            printer
                .upload(Upload::from_bytes(name, body))
                .await
                .map_err(|e| format!("uploading {name}: {e}"))?;
        }
        Ok(true)
    }
}

/// Brings a printer to rest: connected, no job running. Sends at most one connect and one
/// cancel (commands are never repeated), then polls until the printer is idle (or shows its
/// last job's end, where that does not block a new start: `ended_blocks_start` false).
pub async fn settle(printer: &dyn Printer, ended_blocks_start: bool) -> Result<(), String> {
    let deadline = Instant::now() + SETTLE_DEADLINE;
    let features = printer
        .features()
        .await
        .map_err(|e| format!("features: {e}"))?;
    let (mut connected, mut cancelled) = (false, false);
    loop {
        let last = match printer.status().await {
            Ok(s) => {
                use PrinterState::*;
                match s.state {
                    Idle => return Ok(()),
                    Finished | Cancelled if !ended_blocks_start => return Ok(()),
                    Offline | Error
                        if !connected && features.contains(Feature::ConnectionControl) =>
                    {
                        connected = true;
                        settled_anyway(printer.connect().await, "connect")?;
                    }
                    Printing | Paused | WarmingUp | Pausing | Attention
                        if !cancelled && features.contains(Feature::Cancel) =>
                    {
                        cancelled = true;
                        settled_anyway(printer.cancel().await, "cancel")?;
                    }
                    _ => {}
                }
                format!("{} ({})", s.state, s.raw_state)
            }
            Err(e) => format!("status: {e}"),
        };
        if Instant::now() > deadline {
            return Err(format!("not at rest after {SETTLE_DEADLINE:?}: {last}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A command's answer while settling: an InvalidState refusal means the printer moved on by
/// itself (a job ending as it was cancelled), so the polling goes on.
fn settled_anyway(result: polyprint::Result<()>, what: &str) -> Result<(), String> {
    match result {
        Err(e) if e.kind() != polyprint::ErrorKind::InvalidState => Err(format!("{what}: {e}")),
        _ => Ok(()),
    }
}

#[async_trait]
impl Harness for LiveHarness {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn launch(&self) -> Result<Target, String> {
        let printer = self.open()?;
        if self.prepare {
            settle(
                printer.as_ref(),
                self.descriptor.expectations().ended_job_blocks_start,
            )
            .await?;
            self.uploaded
                .get_or_try_init(|| self.upload_prints(printer.as_ref()))
                .await?;
        }
        Ok(Target::live(printer))
    }

    fn connect(
        &self,
        base_url: &str,
        credential: &str,
        http: HttpConfig,
    ) -> Option<Arc<dyn Printer>> {
        if !self.descriptor.fields().url {
            return None;
        }
        let endpoint = Endpoint {
            url: Some(base_url.to_string()),
            credential: Some(Secret::new(credential)),
            ..self.endpoint.clone()
        };
        self.descriptor.open(&endpoint, http).ok()
    }

    fn expectations(&self) -> Expectations {
        let expect = self.descriptor.expectations();
        if self.uploaded.get() == Some(&true) {
            Expectations {
                long_print_file: SLOW_FILE,
                short_print_file: FAST_FILE,
                ..expect
            }
        } else {
            expect
        }
    }
}
