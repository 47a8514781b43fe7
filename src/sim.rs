//! The deterministic virtual printer.
//!
//! [`VirtualPrinter`] is two things:
//! * a backend of its own (`sim`): it implements [`Backend`], so it is a [`Printer`] with no
//!   hardware, the embedded default for the CLI's demo and for applications' tests;
//! * the state behind every adapter's mock server: a mock locks it, reads a [`SimView`] and
//!   renders that in its vendor's dialect, and calls its operations, which fail with a
//!   [`SimError`] the mock translates into the vendor's error response.
//!
//! Time is virtual. With [`Clock::Manual`] (the default) nothing moves until
//! [`VirtualPrinter::advance`] is called, so tests are exact; with [`Clock::Realtime`] it
//! follows the wall clock at a chosen speed (the demo).
//!
//! The job model: a print lasts a duration derived from its file (half a second of virtual
//! time per G-code move, at least five seconds); Pausing, Resuming and Cancelling take as long
//! as they do on a real OctoPrint; heaters approach their targets exponentially.
//!
//! [`Printer`]: crate::Printer

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;

use crate::transport::HttpConfig;

use crate::descriptor::{Descriptor, Endpoint, Expectations, Fields};
use crate::error::{Error, Result};
use crate::feature::{Feature, Features};
use crate::printer::{Backend, CheckedUpload, Command, PrinterInfo, UploadProgress, UploadSource};
use crate::state::{
    FailureDetection, FailureVerdict, FileEntry, Heater, HeaterReading, JobOutcome, JobProgress,
    JobRecord, Light, PrinterState, PrinterStatus, QueuedJob, Snapshot, Webcam,
};

/// The webcam image the virtual printer returns (a 64×48 JPEG).
pub const WEBCAM_JPEG: &[u8] = include_bytes!("../assets/sim-webcam.jpg");

/// The G-code file every virtual printer starts with.
pub const DEMO_FILE: &str = "demo-cube.gcode";

/// The `sim` backend: a fresh virtual printer whose clock follows the wall clock at the
/// endpoint's `speed` option (virtual seconds per real second, default 10). Its `resume` while
/// printing is a documented no-op, as on OctoPrint.
pub const DESCRIPTOR: Descriptor = Descriptor::new(
    "sim",
    "the embedded virtual printer (no hardware; fresh in every process)",
    Fields::NONE,
    open_sim,
)
.expecting(Expectations {
    resume_while_printing_is_noop: true,
    ..Expectations::DEFAULT
});

fn open_sim(endpoint: &Endpoint, _http: HttpConfig) -> Result<Arc<dyn crate::Printer>> {
    let speed = match endpoint.option("speed") {
        None => 10.0,
        Some(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
    };
    if !(speed.is_finite() && speed > 0.0 && speed <= 1e6) {
        return Err(Error::invalid(
            "speed",
            "the virtual printer's speed must be a positive number (virtual seconds per second)",
        ));
    }
    Ok(Arc::new(VirtualPrinter::with_config(SimConfig {
        name: "Virtual printer".to_string(),
        clock: Clock::Realtime { speed },
        ..SimConfig::default()
    })))
}

/// How long a pause takes to settle (OctoPrint's Pausing lasts about 0.6 s).
pub const PAUSING: Duration = Duration::from_millis(600);
/// How long a resume takes to settle.
pub const RESUMING: Duration = Duration::from_millis(50);
/// How long a cancel takes to settle (OctoPrint's Cancelling lasts about 0.2 s).
pub const CANCELLING: Duration = Duration::from_millis(200);
/// How long after connecting the first temperature readings appear (OctoPrint: about 0.5 s).
pub const FIRST_READING: Duration = Duration::from_millis(500);
/// Heater time constant.
const HEATER_TAU: f64 = 1.5;
/// Room temperature.
const AMBIENT: f64 = 21.3;

/// How virtual time moves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// Only [`VirtualPrinter::advance`] moves time.
    Manual,
    /// Time follows the wall clock, multiplied by `speed`.
    Realtime {
        /// Virtual seconds per real second.
        speed: f64,
    },
}

/// Why the virtual printer refused an operation. Mocks turn these into their vendor's errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The printer is not connected (or in error).
    #[error("printer is not operational")]
    NotOperational,
    /// Pause, resume or cancel with no job.
    #[error("printer is neither printing nor paused")]
    NoJob,
    /// Resume while not paused.
    #[error("printer is not paused")]
    NotPaused,
    /// Pause while not printing.
    #[error("printer is not printing")]
    NotPrinting,
    /// Start while a job runs.
    #[error("printer already has an active print job")]
    AlreadyPrinting,
    /// The file does not exist.
    #[error("file not found: {0}")]
    FileNotFound(String),
    /// The file is being printed.
    #[error("file is in use: {0}")]
    FileInUse(String),
    /// The object does not exist or was cancelled already.
    #[error("no such object: {0}")]
    NoSuchObject(u32),
}

impl From<SimError> for Error {
    fn from(e: SimError) -> Self {
        match e {
            SimError::FileNotFound(f) => Error::NotFound { what: f },
            SimError::NoSuchObject(id) => Error::NotFound {
                what: format!("object {id}"),
            },
            other => Error::state(other.to_string()),
        }
    }
}

/// A stored file.
#[derive(Clone, Debug, PartialEq)]
pub struct SimFile {
    /// Path.
    pub name: String,
    /// Content.
    pub content: Bytes,
    /// Upload time, seconds since the epoch (virtual: a fixed base plus virtual time).
    pub uploaded: i64,
    /// How long printing it takes, virtual time.
    pub duration: Duration,
    /// Layers, from `;LAYER:` markers (at least 1).
    pub layers: u32,
    /// Filament length, mm, summed from the moves' E values (None if there are none).
    pub filament_mm: Option<f64>,
}

impl SimFile {
    /// Builds a file, deriving its duration, layers and filament from the G-code.
    pub fn new(name: impl Into<String>, content: impl Into<Bytes>, uploaded: i64) -> SimFile {
        let content = content.into();
        let text = String::from_utf8_lossy(&content);
        let mut moves = 0u32;
        let mut layers = 0u32;
        let mut filament = 0.0f64;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with(";LAYER:") {
                layers += 1;
            }
            let code = line.split(';').next().unwrap_or("");
            if code.starts_with("G1 ") || code.starts_with("G0 ") {
                moves += 1;
                if let Some(e) = code
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix('E'))
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    if e > 0.0 {
                        filament += e;
                    }
                }
            }
        }
        SimFile {
            name: name.into(),
            duration: Duration::from_millis(500 * u64::from(moves)).max(Duration::from_secs(5)),
            layers: layers.max(1),
            filament_mm: (filament > 0.0).then_some(filament),
            content,
            uploaded,
        }
    }
}

/// The phase of the printer.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Not connected.
    Offline,
    /// Connected, no job running.
    Idle,
    /// Printing.
    Printing,
    /// Pausing; settles after the remaining time.
    Pausing(Duration),
    /// Paused.
    Paused,
    /// Resuming; settles after the remaining time.
    Resuming(Duration),
    /// Cancelling; settles after the remaining time.
    Cancelling(Duration),
    /// Error with its message; the host reports it until reconnected.
    Error(String),
}

/// The running or last job.
#[derive(Clone, Debug, PartialEq)]
pub struct SimJob {
    /// Job id, counting from 1.
    pub id: u32,
    /// The file.
    pub file: SimFile,
    /// Virtual time printed.
    pub printed: Duration,
    /// When it started, virtual time since the printer was created.
    pub started_at: Duration,
    /// How it ended, once it has.
    pub outcome: Option<JobOutcome>,
    /// When it ended.
    pub ended_at: Option<Duration>,
}

impl SimJob {
    /// Completion, 0–100.
    pub fn progress(&self) -> f64 {
        let total = self.file.duration.as_secs_f64();
        (self.printed.as_secs_f64() / total * 100.0).clamp(0.0, 100.0)
    }
    /// Virtual time left.
    pub fn remaining(&self) -> Duration {
        self.file.duration.saturating_sub(self.printed)
    }
    /// The current layer (1-based).
    pub fn layer(&self) -> u32 {
        let p = self.progress() / 100.0;
        ((p * f64::from(self.file.layers)).ceil() as u32).clamp(1, self.file.layers)
    }
}

/// One cancellable object of the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimObject {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Whether it was cancelled.
    pub cancelled: bool,
}

/// A heater of the virtual printer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimHeater {
    /// Which.
    pub heater: Heater,
    /// Current temperature.
    pub actual: f64,
    /// Target (0 is off).
    pub target: f64,
}

/// Everything a mock needs to render the printer, read in one lock.
#[derive(Clone, Debug, PartialEq)]
pub struct SimView {
    /// Virtual time since creation.
    pub now: Duration,
    /// A Unix timestamp for "now" (a fixed base plus virtual time).
    pub unix_now: i64,
    /// Phase.
    pub phase: Phase,
    /// The common state of this phase.
    pub state: PrinterState,
    /// Whether the first readings after connecting are in.
    pub readings_ready: bool,
    /// Heaters.
    pub heaters: Vec<SimHeater>,
    /// The running or last job.
    pub job: Option<SimJob>,
    /// Objects of the job.
    pub objects: Vec<SimObject>,
    /// Light.
    pub light_on: bool,
    /// Head position (x, y, z).
    pub position: [f64; 3],
    /// Stored files, by path.
    pub files: Vec<SimFile>,
    /// Failure score 0–1.
    pub failure_score: f64,
    /// Attention message, when the printer waits for a person.
    pub attention: Option<String>,
    /// Finished and cancelled jobs, oldest first.
    pub history: Vec<SimJob>,
    /// Files waiting in the print queue, in order.
    pub queue: Vec<String>,
}

#[derive(Debug)]
struct Sim {
    clock: Clock,
    real_anchor: Instant,
    now: Duration,
    phase: Phase,
    connected_at: Duration,
    heaters: Vec<SimHeater>,
    job: Option<SimJob>,
    next_job_id: u32,
    objects: Vec<SimObject>,
    light_on: bool,
    position: [f64; 3],
    files: BTreeMap<String, SimFile>,
    failure_score: f64,
    attention: Option<String>,
    history: Vec<SimJob>,
    gcode_log: Vec<String>,
    queue: Vec<String>,
}

/// A fixed Unix time the virtual clock starts at (2026-01-01T00:00:00Z), for reproducible
/// timestamps.
pub const EPOCH_BASE: i64 = 1_767_225_600;

/// The demo file: five layers of a small square.
pub fn demo_gcode() -> String {
    let mut g =
        String::from("; generated by polyprint sim\n;TIME:60\nG28\nM104 S200\nM140 S60\nG92 E0\n");
    for layer in 0..5 {
        g.push_str(&format!(
            ";LAYER:{layer}\nG1 Z{:.1} F12000\n",
            0.2 * f64::from(layer + 1)
        ));
        for (x, y) in [(10, 10), (40, 10), (40, 40), (10, 40)] {
            g.push_str(&format!("G1 X{x} Y{y} E1.5 F12000\n"));
        }
    }
    g.push_str("M104 S0\nM140 S0\n");
    g
}

impl Sim {
    fn sync(&mut self) {
        if let Clock::Realtime { speed } = self.clock {
            let now = Instant::now();
            let real = now.duration_since(self.real_anchor);
            self.real_anchor = now;
            self.step(real.mul_f64(speed.max(0.0)));
        }
    }

    fn step(&mut self, mut dt: Duration) {
        while !dt.is_zero() {
            let slice = match &self.phase {
                Phase::Printing => self
                    .job
                    .as_ref()
                    .map_or(dt, |j| j.remaining().max(Duration::from_nanos(1)).min(dt)),
                Phase::Pausing(left) | Phase::Resuming(left) | Phase::Cancelling(left) => {
                    (*left).max(Duration::from_nanos(1)).min(dt)
                }
                _ => dt,
            };
            self.apply(slice);
            dt -= slice;
        }
    }

    fn apply(&mut self, dt: Duration) {
        self.now += dt;
        let k = (-dt.as_secs_f64() / HEATER_TAU).exp();
        for h in &mut self.heaters {
            let goal = if h.target > 0.0 { h.target } else { AMBIENT };
            h.actual = goal + (h.actual - goal) * k;
        }
        match self.phase.clone() {
            Phase::Printing => {
                if let Some(job) = &mut self.job {
                    job.printed += dt;
                    if job.printed >= job.file.duration {
                        job.printed = job.file.duration;
                        self.end_job(JobOutcome::Finished);
                    }
                }
            }
            Phase::Pausing(left) => {
                let left = left.saturating_sub(dt);
                self.phase = if left.is_zero() {
                    Phase::Paused
                } else {
                    Phase::Pausing(left)
                };
            }
            Phase::Resuming(left) => {
                let left = left.saturating_sub(dt);
                self.phase = if left.is_zero() {
                    Phase::Printing
                } else {
                    Phase::Resuming(left)
                };
            }
            Phase::Cancelling(left) => {
                let left = left.saturating_sub(dt);
                if left.is_zero() {
                    self.end_job(JobOutcome::Cancelled);
                } else {
                    self.phase = Phase::Cancelling(left);
                }
            }
            _ => {}
        }
    }

    fn end_job(&mut self, outcome: JobOutcome) {
        self.phase = Phase::Idle;
        if let Some(job) = &mut self.job {
            job.outcome = Some(outcome);
            job.ended_at = Some(self.now);
            self.history.push(job.clone());
        }
        for h in &mut self.heaters {
            h.target = 0.0;
        }
    }

    fn state(&self) -> PrinterState {
        match &self.phase {
            Phase::Offline => PrinterState::Offline,
            Phase::Error(_) => PrinterState::Error,
            Phase::Printing if self.attention.is_some() => PrinterState::Attention,
            Phase::Printing => PrinterState::Printing,
            Phase::Pausing(_) => PrinterState::Pausing,
            Phase::Paused if self.attention.is_some() => PrinterState::Attention,
            Phase::Paused => PrinterState::Paused,
            Phase::Resuming(_) => PrinterState::Resuming,
            Phase::Cancelling(_) => PrinterState::Cancelling,
            Phase::Idle => match self.job.as_ref().and_then(|j| j.outcome) {
                Some(JobOutcome::Finished) => PrinterState::Finished,
                Some(JobOutcome::Cancelled) => PrinterState::Cancelled,
                _ => PrinterState::Idle,
            },
        }
    }

    fn operational(&self) -> Result<(), SimError> {
        match self.phase {
            Phase::Offline | Phase::Error(_) => Err(SimError::NotOperational),
            _ => Ok(()),
        }
    }

    fn job_active(&self) -> bool {
        matches!(
            self.phase,
            Phase::Printing
                | Phase::Pausing(_)
                | Phase::Paused
                | Phase::Resuming(_)
                | Phase::Cancelling(_)
        )
    }

    fn view(&self) -> SimView {
        SimView {
            now: self.now,
            unix_now: EPOCH_BASE + self.now.as_secs() as i64,
            phase: self.phase.clone(),
            state: self.state(),
            readings_ready: !matches!(self.phase, Phase::Offline | Phase::Error(_))
                && self.now.saturating_sub(self.connected_at) >= FIRST_READING,
            heaters: self.heaters.clone(),
            job: self.job.clone(),
            objects: self.objects.clone(),
            light_on: self.light_on,
            position: self.position,
            files: self.files.values().cloned().collect(),
            failure_score: self.failure_score,
            attention: self.attention.clone(),
            history: self.history.clone(),
            queue: self.queue.clone(),
        }
    }
}

/// Settings for a new virtual printer.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Name.
    pub name: String,
    /// Features claimed when used as a backend.
    pub features: Features,
    /// Clock.
    pub clock: Clock,
    /// Connected at start.
    pub connected: bool,
    /// With a heated chamber.
    pub chamber: bool,
    /// Objects each job has.
    pub objects: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            name: "Virtual printer".into(),
            // Everything but push: the virtual printer has no push channel of its own (a
            // watch of it polls; its mocks' servers push where their dialect does).
            features: Features::all() & !Features::from(Feature::StatusPush),
            clock: Clock::Manual,
            connected: true,
            chamber: false,
            objects: 3,
        }
    }
}

/// The virtual printer. Clones share one printer.
///
/// With the default [`SimConfig`] only [`VirtualPrinter::advance`] moves its time, so a test
/// runs a whole print in no time:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use polyprint::sim::{VirtualPrinter, DEMO_FILE};
/// use polyprint::{Printer, PrinterState};
/// use std::time::Duration;
///
/// let printer = VirtualPrinter::new();
/// printer.start_print(DEMO_FILE).await?;
/// assert!(printer.status().await?.state.has_active_job());
/// printer.advance(Duration::from_secs(24 * 3600));
/// assert_eq!(printer.status().await?.state, PrinterState::Finished);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct VirtualPrinter {
    sim: Arc<Mutex<Sim>>,
    name: Arc<str>,
    features: Features,
    objects: u32,
    /// Commands run through [`Backend::run`] (not those of a mock's HTTP clients).
    commands: crate::watch::Commands,
}

impl Default for VirtualPrinter {
    fn default() -> Self {
        VirtualPrinter::new()
    }
}

impl std::fmt::Debug for VirtualPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualPrinter")
            .field("name", &self.name)
            .field("state", &self.view().state)
            .finish()
    }
}

/// A locked virtual printer: call several operations atomically (a mock handling one request).
pub struct SimGuard<'a> {
    sim: MutexGuard<'a, Sim>,
    objects: u32,
}

impl VirtualPrinter {
    /// A connected, idle printer with a manual clock and the demo file stored.
    pub fn new() -> VirtualPrinter {
        VirtualPrinter::with_config(SimConfig::default())
    }

    /// A printer with settings.
    pub fn with_config(config: SimConfig) -> VirtualPrinter {
        let mut heaters = vec![
            SimHeater {
                heater: Heater::Tool(0),
                actual: AMBIENT,
                target: 0.0,
            },
            SimHeater {
                heater: Heater::Bed,
                actual: AMBIENT,
                target: 0.0,
            },
        ];
        if config.chamber {
            heaters.push(SimHeater {
                heater: Heater::Chamber,
                actual: AMBIENT,
                target: 0.0,
            });
        }
        let mut files = BTreeMap::new();
        files.insert(
            DEMO_FILE.to_string(),
            SimFile::new(DEMO_FILE, demo_gcode(), EPOCH_BASE),
        );
        let sim = Sim {
            clock: config.clock,
            real_anchor: Instant::now(),
            // Start past the first-reading delay so a fresh printer has readings.
            now: FIRST_READING,
            phase: if config.connected {
                Phase::Idle
            } else {
                Phase::Offline
            },
            connected_at: Duration::ZERO,
            heaters,
            job: None,
            next_job_id: 1,
            objects: Vec::new(),
            light_on: false,
            position: [0.0; 3],
            files,
            failure_score: 0.02,
            attention: None,
            history: Vec::new(),
            gcode_log: Vec::new(),
            queue: Vec::new(),
        };
        VirtualPrinter {
            sim: Arc::new(Mutex::new(sim)),
            name: Arc::from(config.name),
            features: config.features,
            objects: config.objects,
            commands: crate::watch::Commands::new(),
        }
    }

    /// Carries out a command ([`Backend::run`] without the count).
    fn run_now(&self, command: Command) -> Result<()> {
        let mut g = self.lock();

        match command {
            Command::StartPrint(f) => g.start(f.as_str())?,
            Command::Pause => g.pause()?,
            Command::Resume => g.resume()?,
            Command::Cancel => g.cancel()?,
            Command::CancelObject(id) => g.cancel_object(id)?,
            Command::DeleteFile(f) => g.delete(f.as_str())?,
            Command::SetTarget(t) => g.set_target(t.heater(), t.celsius())?,
            Command::Jog(j) => {
                let j = j.get();
                g.jog(j.x.unwrap_or(0.0), j.y.unwrap_or(0.0), j.z.unwrap_or(0.0))?
            }
            Command::Home(axes) => g.home(
                axes.contains(crate::Axis::X),
                axes.contains(crate::Axis::Y),
                axes.contains(crate::Axis::Z),
            )?,
            Command::Extrude(_) => g.sim.operational()?,
            Command::SetLight(on) => g.set_light(on),
            Command::GCode(lines) => g.gcode(lines.lines())?,
            Command::Connect => g.connect(),
            Command::Disconnect => g.disconnect(),
            Command::Enqueue(f) => g.enqueue(f.as_str())?,
        }
        Ok(())
    }

    /// Locks the printer (after bringing the clock up to date).
    pub fn lock(&self) -> SimGuard<'_> {
        let mut sim = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        sim.sync();
        SimGuard {
            sim,
            objects: self.objects,
        }
    }

    /// Everything about the printer now.
    pub fn view(&self) -> SimView {
        self.lock().view()
    }

    /// Moves virtual time forward (any clock).
    pub fn advance(&self, dt: Duration) {
        self.lock().sim.step(dt);
    }

    /// Switches the clock.
    pub fn set_clock(&self, clock: Clock) {
        let mut g = self.lock();
        g.sim.clock = clock;
        g.sim.real_anchor = Instant::now();
    }

    /// The features this printer claims as a backend.
    pub fn features(&self) -> Features {
        self.features
    }
}

impl SimGuard<'_> {
    /// Everything about the printer now.
    pub fn view(&self) -> SimView {
        self.sim.view()
    }

    /// The common state now.
    pub fn state(&self) -> PrinterState {
        self.sim.state()
    }

    /// Connects (no-op when connected; clears an error).
    pub fn connect(&mut self) {
        if matches!(self.sim.phase, Phase::Offline | Phase::Error(_)) {
            self.sim.phase = Phase::Idle;
            self.sim.connected_at = self.sim.now;
            self.sim.job = None;
        }
    }

    /// Disconnects, abandoning any job.
    pub fn disconnect(&mut self) {
        self.sim.phase = Phase::Offline;
        self.sim.job = None;
        self.sim.attention = None;
        for h in &mut self.sim.heaters {
            h.target = 0.0;
        }
    }

    /// Puts the printer in error (like a thermal runaway); the host drops the connection.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.sim.phase = Phase::Error(message.into());
        self.sim.job = None;
    }

    /// Starts printing a stored file.
    pub fn start(&mut self, name: &str) -> Result<(), SimError> {
        self.sim.operational()?;
        if self.sim.job_active() {
            return Err(SimError::AlreadyPrinting);
        }
        let file = self
            .sim
            .files
            .get(name)
            .cloned()
            .ok_or_else(|| SimError::FileNotFound(name.to_string()))?;
        let id = self.sim.next_job_id;
        self.sim.next_job_id += 1;
        self.sim.job = Some(SimJob {
            id,
            file,
            printed: Duration::ZERO,
            started_at: self.sim.now,
            outcome: None,
            ended_at: None,
        });
        self.sim.objects = (0..self.objects)
            .map(|i| SimObject {
                id: i,
                name: format!("object-{i}"),
                cancelled: false,
            })
            .collect();
        self.sim.phase = Phase::Printing;
        for h in &mut self.sim.heaters {
            h.target = match h.heater {
                Heater::Tool(_) => 200.0,
                Heater::Bed => 60.0,
                Heater::Chamber => 0.0,
            };
        }
        Ok(())
    }

    /// Pauses. Pausing while paused or pausing is a no-op, as on OctoPrint.
    pub fn pause(&mut self) -> Result<(), SimError> {
        self.sim.operational()?;
        match self.sim.phase {
            Phase::Printing | Phase::Resuming(_) => {
                self.sim.phase = Phase::Pausing(PAUSING);
                Ok(())
            }
            Phase::Pausing(_) | Phase::Paused => Ok(()),
            Phase::Cancelling(_) => Err(SimError::NotPrinting),
            _ => Err(SimError::NoJob),
        }
    }

    /// Resumes. Resuming while printing is a no-op, as on OctoPrint.
    pub fn resume(&mut self) -> Result<(), SimError> {
        self.sim.operational()?;
        match self.sim.phase {
            Phase::Paused => {
                self.sim.phase = Phase::Resuming(RESUMING);
                self.sim.attention = None;
                Ok(())
            }
            Phase::Printing | Phase::Resuming(_) => Ok(()),
            Phase::Pausing(_) | Phase::Cancelling(_) => Err(SimError::NotPaused),
            _ => Err(SimError::NoJob),
        }
    }

    /// Cancels the job.
    pub fn cancel(&mut self) -> Result<(), SimError> {
        self.sim.operational()?;
        match self.sim.phase {
            Phase::Printing | Phase::Pausing(_) | Phase::Paused | Phase::Resuming(_) => {
                self.sim.phase = Phase::Cancelling(CANCELLING);
                self.sim.attention = None;
                Ok(())
            }
            Phase::Cancelling(_) => Ok(()),
            _ => Err(SimError::NoJob),
        }
    }

    /// Cancels one object of the running job.
    pub fn cancel_object(&mut self, id: u32) -> Result<(), SimError> {
        self.sim.operational()?;
        if !self.sim.job_active() {
            return Err(SimError::NoJob);
        }
        match self
            .sim
            .objects
            .iter_mut()
            .find(|o| o.id == id && !o.cancelled)
        {
            Some(o) => {
                o.cancelled = true;
                Ok(())
            }
            None => Err(SimError::NoSuchObject(id)),
        }
    }

    /// Sets a heater target. A heater the printer lacks is ignored (as OctoPrint does).
    pub fn set_target(&mut self, heater: Heater, celsius: f64) -> Result<(), SimError> {
        self.sim.operational()?;
        if let Some(h) = self.sim.heaters.iter_mut().find(|h| h.heater == heater) {
            h.target = celsius;
        }
        Ok(())
    }

    /// Jogs the head (relative), clamped to a 250 mm cube.
    pub fn jog(&mut self, x: f64, y: f64, z: f64) -> Result<(), SimError> {
        self.sim.operational()?;
        let p = &mut self.sim.position;
        for (i, d) in [x, y, z].into_iter().enumerate() {
            p[i] = (p[i] + d).clamp(0.0, 250.0);
        }
        Ok(())
    }

    /// Homes the given axes (x, y, z flags).
    pub fn home(&mut self, x: bool, y: bool, z: bool) -> Result<(), SimError> {
        self.sim.operational()?;
        for (i, h) in [x, y, z].into_iter().enumerate() {
            if h {
                self.sim.position[i] = 0.0;
            }
        }
        Ok(())
    }

    /// Records G-code lines (the virtual printer does not interpret them).
    pub fn gcode(&mut self, lines: &[String]) -> Result<(), SimError> {
        self.sim.operational()?;
        self.sim.gcode_log.extend(lines.iter().cloned());
        Ok(())
    }

    /// G-code received so far.
    pub fn gcode_log(&self) -> &[String] {
        &self.sim.gcode_log
    }

    /// Switches the light.
    pub fn set_light(&mut self, on: bool) {
        self.sim.light_on = on;
    }

    /// Stores a file (replacing one of the same name). Refused for the file being printed.
    pub fn store(&mut self, name: &str, content: Bytes) -> Result<SimFile, SimError> {
        if self.busy_file(name) {
            return Err(SimError::FileInUse(name.to_string()));
        }
        let file = SimFile::new(name, content, EPOCH_BASE + self.sim.now.as_secs() as i64);
        self.sim.files.insert(name.to_string(), file.clone());
        Ok(file)
    }

    /// Deletes a file.
    pub fn delete(&mut self, name: &str) -> Result<(), SimError> {
        if !self.sim.files.contains_key(name) {
            return Err(SimError::FileNotFound(name.to_string()));
        }
        if self.busy_file(name) {
            return Err(SimError::FileInUse(name.to_string()));
        }
        self.sim.files.remove(name);
        Ok(())
    }

    fn busy_file(&self, name: &str) -> bool {
        self.sim.job_active() && self.sim.job.as_ref().is_some_and(|j| j.file.name == name)
    }

    /// A stored file.
    pub fn file(&self, name: &str) -> Option<SimFile> {
        self.sim.files.get(name).cloned()
    }

    /// Adds a stored file to the end of the print queue (the virtual printer does not start
    /// queued jobs by itself).
    pub fn enqueue(&mut self, name: &str) -> Result<(), SimError> {
        if !self.sim.files.contains_key(name) {
            return Err(SimError::FileNotFound(name.to_string()));
        }
        self.sim.queue.push(name.to_string());
        Ok(())
    }

    /// Sets the failure score (0–1).
    pub fn set_failure_score(&mut self, score: f64) {
        self.sim.failure_score = score.clamp(0.0, 1.0);
    }

    /// Makes the printer wait for a person (or stop waiting, with `None`). Pauses a running job.
    pub fn set_attention(&mut self, message: Option<String>) {
        if message.is_some() && matches!(self.sim.phase, Phase::Printing) {
            self.sim.phase = Phase::Paused;
        }
        self.sim.attention = message;
    }

    /// Moves virtual time forward.
    pub fn advance(&mut self, dt: Duration) {
        self.sim.step(dt);
    }
}

/// The common status of a view, as the sim backend reports it.
fn status_of(view: &SimView, with_failure: bool) -> PrinterStatus {
    let raw = match &view.phase {
        Phase::Error(_) => "Error".to_string(),
        p => format!("{p:?}")
            .split('(')
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let mut s = PrinterStatus::new(view.state, raw);
    s.message = match &view.phase {
        Phase::Error(m) => Some(m.clone()),
        _ => view.attention.clone(),
    };
    if view.readings_ready {
        s.heaters = view
            .heaters
            .iter()
            .map(|h| HeaterReading {
                heater: h.heater,
                actual: (h.actual * 100.0).round() / 100.0,
                target: Some(h.target),
            })
            .collect();
    }
    s.job = view.job.as_ref().map(|j| JobProgress {
        file: Some(j.file.name.clone()),
        progress: Some(j.progress()),
        elapsed: Some(j.printed),
        remaining: Some(j.remaining()),
        layer: Some(j.layer()),
        layer_count: Some(j.file.layers),
        filament_mm: j.file.filament_mm,
    });
    s.lights = vec![Light {
        name: "chamber".into(),
        on: view.light_on,
    }];
    s.webcams = vec![Webcam {
        name: "sim".into(),
        can_snapshot: true,
    }];
    if with_failure && view.state.has_active_job() {
        s.failure = Some(FailureDetection {
            score: view.failure_score,
            verdict: FailureVerdict::from_score(view.failure_score),
        });
    }
    s
}

fn file_entry(f: &SimFile) -> FileEntry {
    FileEntry {
        path: f.name.clone(),
        name: f.name.rsplit('/').next().unwrap_or(&f.name).to_string(),
        size: Some(f.content.len() as u64),
        modified: Some(f.uploaded),
        estimated_time: Some(f.duration),
    }
}

#[async_trait]
impl Backend for VirtualPrinter {
    fn describe(&self) -> PrinterInfo {
        PrinterInfo {
            backend: "sim".into(),
            id: "sim".into(),
            name: self.name.to_string(),
            endpoint: None,
        }
    }

    fn capabilities(&self) -> Features {
        self.features
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &["gcode", "gco", "g", "bgcode"]
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        Ok(status_of(
            &self.view(),
            self.features.contains(Feature::FailureDetection),
        ))
    }

    fn commands(&self) -> Option<crate::watch::Commands> {
        Some(self.commands.clone())
    }

    async fn run(&self, command: Command) -> Result<()> {
        let result = self.run_now(command);
        self.commands.note();
        result
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        Ok(self.view().files.iter().map(file_entry).collect())
    }

    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let bytes = match &upload.source {
            UploadSource::Bytes(b) => b.clone(),
            UploadSource::Path(p) => {
                Bytes::from(tokio::fs::read(p).await.map_err(|e| Error::NotFound {
                    what: format!("local file {}: {e}", p.display()),
                })?)
            }
        };
        if let Some(progress) = &upload.progress {
            progress(UploadProgress {
                sent: upload.size,
                total: upload.size,
            });
        }
        let file = self.lock().store(upload.name.as_str(), bytes)?;
        Ok(file_entry(&file))
    }

    async fn fetch_queue(&self) -> Result<Vec<QueuedJob>> {
        Ok(self
            .view()
            .queue
            .iter()
            .enumerate()
            .map(|(i, f)| QueuedJob {
                id: (i + 1).to_string(),
                file: f.clone(),
                position: Some(i as u32),
            })
            .collect())
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            content_type: "image/jpeg".into(),
            bytes: Bytes::from_static(WEBCAM_JPEG),
        })
    }

    async fn fetch_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        let view = self.view();
        Ok(view
            .history
            .iter()
            .rev()
            .take(limit)
            .map(|j| JobRecord {
                id: j.id.to_string(),
                file: Some(j.file.name.clone()),
                outcome: j.outcome.unwrap_or(JobOutcome::Unknown),
                started: Some(EPOCH_BASE + j.started_at.as_secs() as i64),
                ended: j.ended_at.map(|t| EPOCH_BASE + t.as_secs() as i64),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Printer;

    #[tokio::test]
    async fn lifecycle_on_a_manual_clock() {
        let p = VirtualPrinter::new();
        assert_eq!(p.status().await.unwrap().state, PrinterState::Idle);
        p.start_print(DEMO_FILE).await.unwrap();
        p.advance(Duration::from_secs(2));
        let s = p.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Printing);
        let progress = s.job.unwrap().progress.unwrap();
        assert!(progress > 0.0 && progress < 100.0, "{progress}");

        p.pause().await.unwrap();
        assert_eq!(p.status().await.unwrap().state, PrinterState::Pausing);
        p.advance(PAUSING);
        assert_eq!(p.status().await.unwrap().state, PrinterState::Paused);
        p.advance(Duration::from_secs(5));
        let paused_progress = p.status().await.unwrap().job.unwrap().progress.unwrap();
        assert_eq!(paused_progress, progress, "no progress while paused");

        assert!(matches!(
            p.start_print(DEMO_FILE).await,
            Err(Error::InvalidState { .. })
        ));
        p.resume().await.unwrap();
        p.advance(RESUMING);
        assert_eq!(p.status().await.unwrap().state, PrinterState::Printing);
        p.cancel().await.unwrap();
        assert_eq!(p.status().await.unwrap().state, PrinterState::Cancelling);
        p.advance(CANCELLING);
        assert_eq!(p.status().await.unwrap().state, PrinterState::Cancelled);

        p.start_print(DEMO_FILE).await.unwrap();
        p.advance(Duration::from_secs(3600));
        let s = p.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Finished);
        assert_eq!(s.job.unwrap().progress, Some(100.0));
        p.enqueue(DEMO_FILE).await.unwrap();
        assert!(matches!(
            p.enqueue("nope.gcode").await,
            Err(Error::NotFound { .. })
        ));
        let queue = p.print_queue().await.unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].file, DEMO_FILE);
        let history = p.job_history(10).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].outcome, JobOutcome::Finished);
        assert_eq!(history[1].outcome, JobOutcome::Cancelled);
    }

    #[tokio::test]
    async fn errors_and_heaters() {
        let p = VirtualPrinter::new();
        assert!(matches!(p.pause().await, Err(Error::InvalidState { .. })));
        assert!(matches!(
            p.start_print("missing.gcode").await,
            Err(Error::NotFound { .. })
        ));
        p.set_target(Heater::Bed, 60.0).await.unwrap();
        p.advance(Duration::from_secs(10));
        let bed = p
            .status()
            .await
            .unwrap()
            .heater(Heater::Bed)
            .unwrap()
            .clone();
        assert!((bed.actual - 60.0).abs() < 0.5, "{bed:?}");
        p.lock().fail("Thermal Runaway");
        let s = p.status().await.unwrap();
        assert_eq!(s.state, PrinterState::Error);
        assert_eq!(s.message.as_deref(), Some("Thermal Runaway"));
        p.connect().await.unwrap();
        assert_eq!(p.status().await.unwrap().state, PrinterState::Idle);
    }

    #[test]
    fn file_analysis() {
        let f = SimFile::new("a.gcode", demo_gcode(), 0);
        assert_eq!(f.layers, 5);
        assert_eq!(f.filament_mm, Some(30.0));
        assert_eq!(f.duration, Duration::from_millis(500 * 25));
    }

    #[test]
    fn realtime_clock_moves() {
        let p = VirtualPrinter::new();
        p.lock().start(DEMO_FILE).unwrap();
        p.set_clock(Clock::Realtime { speed: 1000.0 });
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(p.view().state, PrinterState::Finished);
    }
}
