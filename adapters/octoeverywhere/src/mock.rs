//! The OctoEverywhere plugin API over the virtual printer (feature `mock`).
//!
//! [`OctoEverywhereMock`] answers on 127.0.0.1 under `/octoeverywhere-command-api/` the way the
//! service and plugin do (spec Part B):
//!
//! * Auth: `Authorization: Bearer <credential>` or `Basic` of [`BASIC_USER`] and the credential;
//!   anything else is the service's HTTP **606** (its body is not documented; a short text here).
//! * Dispatch as the plugin's: the path after the prefix, lower-cased, matched by prefix in the
//!   plugin's order (`ping`, `status`, `list-webcam`/`webcam/list`, `webcam/snapshot`, `pause`,
//!   `resume`, `cancel`, `start`, `set-light`, `move-axis`, `home`, `extrude`, `set-temp`,
//!   `files/list`); the method is not checked; anything else is
//!   `754 "The command path didn't match any known commands."`.
//! * Arguments from a JSON body when there is one (a body that is not JSON is 751 with
//!   Python's parser text), else from the query string with lower-cased keys and string values
//!   (so control commands sent without a body miss their arguments, as on the plugin).
//! * Answers are envelopes on HTTP 200 with `Content-Type: text/json`; the 400 texts are the
//!   plugin's, exactly (`No args passed`, `No light name passed`, the set-temp range texts, …).
//! * Per-platform behaviour ([`Platform`]): the `Features` value (OctoPrint 32, Moonraker 63,
//!   Bambu 33), the lights (none, `caselight`, `chamber`), the 786 texts (OctoPrint's
//!   `Printer state is not printing.` / `... not paused.`, Moonraker's `Wrong State`), and 788
//!   for every control outside the platform's features (`Light control is not supported on
//!   OctoPrint.`, else `Not Supported`), after the common argument checks, as the plugin does.
//! * The printer's host disconnected (the virtual printer Offline): `785 "Host not connected"`
//!   for status and for commands.
//! * `webcam/snapshot`: the JPEG with `x-oe-webcam-transform: none`; an index with no webcam,
//!   or [`OctoEverywhereMock::set_snapshot_available`] false, falls through to the plugin's
//!   `754` envelope on HTTP 200, as the current plugin does.
//! * `files/list`: the virtual tree (`Root` → folder `gcode` → files with `VirtualPath`,
//!   `PlatformPath`, `SizeBytes`, `ModifiedTimeSec`).
//!
//! Not documented by OctoEverywhere, chosen here (and marked so in the code): the status's
//! `CurrentPrint` is always present (so temperatures show while idle) with a null `FileName`
//! when there has been no job; `start` of a file that is not stored answers
//! `400 "File not found: <path>"` and `start` during a job `786 "Printer is already printing."`;
//! Gadget's `LastScore` is the virtual failure score × 100, null without an active job.
//!
//! Not modelled: the App APIs (`AppToken`), `send-command`, `rekey`, files upload, download and
//! delete, plugin logs, the MJPEG stream, Live Links, smart pause's effects (the options are
//! accepted; the journal shows them), the material system (`MaterialSystem` is null).

use std::sync::{Arc, Mutex};

use base64::Engine;
use polyprint::mockserver::MockServer;
use polyprint::sim::{Phase, SimError, SimView, VirtualPrinter, WEBCAM_JPEG};
use polyprint::{Heater, PrinterState};
use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use crate::client::OctoEverywhere;

/// The path prefix of every plugin call.
pub const PREFIX: &str = "/octoeverywhere-command-api/";
/// The Basic user name the mock accepts (the password is the credential).
pub const BASIC_USER: &str = "polyprint";
/// The credential a mock accepts unless told otherwise.
pub const DEFAULT_CREDENTIAL: &str = "oe-mock-app-connection-token";
/// The body of the mock's 606 (not documented by OctoEverywhere).
pub const BAD_CREDENTIALS: &str = "Missing or invalid App Connection credentials.";
/// The plugin's unknown-command text (754).
pub const UNKNOWN_COMMAND: &str = "The command path didn't match any known commands.";
/// The plugin's status when it cannot reach the host (785).
pub const HOST_NOT_CONNECTED: &str = "Host not connected";

/// The printer host behind the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// OctoPrint: `Features` 32 (print start only), no lights.
    OctoPrint,
    /// Moonraker/Klipper: `Features` 63 (all six), a `caselight`.
    Moonraker,
    /// Bambu Lab: `Features` 33 (light and print start), the `chamber` light.
    Bambu,
}

impl Platform {
    /// Every profile.
    pub const ALL: [Platform; 3] = [Platform::OctoPrint, Platform::Moonraker, Platform::Bambu];

    /// The `Features` value the plugin reports for this host.
    pub fn features(self) -> u32 {
        match self {
            Platform::OctoPrint => 32,
            Platform::Moonraker => 63,
            Platform::Bambu => 33,
        }
    }

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::OctoPrint => "octoprint",
            Platform::Moonraker => "moonraker",
            Platform::Bambu => "bambu",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Platform::OctoPrint => "1.11.8",
            Platform::Moonraker => "v0.9.3",
            Platform::Bambu => "01.08.05.00",
        }
    }

    fn light(self) -> Option<&'static str> {
        match self {
            Platform::OctoPrint => None,
            Platform::Moonraker => Some("caselight"),
            Platform::Bambu => Some("chamber"),
        }
    }

    fn has(self, bit: u32) -> bool {
        self.features() & bit != 0
    }

    fn not_printing(self) -> &'static str {
        match self {
            Platform::Moonraker => "Wrong State",
            _ => "Printer state is not printing.",
        }
    }

    fn not_paused(self) -> &'static str {
        match self {
            Platform::Moonraker => "Wrong State",
            _ => "Printer state is not paused.",
        }
    }
}

#[derive(Debug)]
struct Switches {
    snapshot_available: bool,
}

/// A running mock of one App Connection. Stops when dropped.
pub struct OctoEverywhereMock {
    server: MockServer,
    platform: Platform,
    credential: String,
    switches: Arc<Mutex<Switches>>,
}

impl std::fmt::Debug for OctoEverywhereMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OctoEverywhereMock")
            .field("uri", &self.uri())
            .field("platform", &self.platform)
            .finish()
    }
}

/// The registry's variants of this mock ([`crate::DESCRIPTOR`]): one per host profile, the
/// Moonraker host (every control) first.
pub(crate) const VARIANTS: &[polyprint::descriptor::MockVariant] = &[
    polyprint::descriptor::MockVariant {
        name: "moonraker",
        expect: crate::EXPECT,
    },
    polyprint::descriptor::MockVariant {
        name: "octoprint",
        expect: crate::EXPECT,
    },
    polyprint::descriptor::MockVariant {
        name: "bambu",
        expect: crate::EXPECT,
    },
];

/// The registry's starter: the variant's host profile.
pub(crate) fn start_for_registry(
    printer: VirtualPrinter,
    options: polyprint::descriptor::MockOptions,
) -> polyprint::descriptor::MockFuture {
    let profile = Platform::ALL
        .into_iter()
        .find(|p| Some(p.name()) == options.variant)
        .unwrap_or(Platform::Moonraker);
    Box::pin(async move {
        Box::new(OctoEverywhereMock::start_on(printer, profile, options.port).await)
            as Box<dyn polyprint::mockserver::VendorMock>
    })
}

impl OctoEverywhereMock {
    /// Starts a mock of `printer` behind a `profile` host, on a free port.
    pub async fn start(printer: VirtualPrinter, profile: Platform) -> OctoEverywhereMock {
        OctoEverywhereMock::start_on(printer, profile, None).await
    }

    /// Like [`OctoEverywhereMock::start`], on a given port of 127.0.0.1.
    pub async fn start_on(
        printer: VirtualPrinter,
        profile: Platform,
        port: Option<u16>,
    ) -> OctoEverywhereMock {
        let credential = DEFAULT_CREDENTIAL.to_string();
        let switches = Arc::new(Mutex::new(Switches {
            snapshot_available: true,
        }));
        let dialect = Dialect {
            platform: profile,
            bearer: format!("Bearer {credential}"),
            basic: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{BASIC_USER}:{credential}"))
            ),
            switches: switches.clone(),
        };
        let server = MockServer::start_on(
            move |r: &Request, p: &VirtualPrinter| dialect.respond(r, p),
            printer,
            bad_credentials,
            port,
        )
        .await;
        OctoEverywhereMock {
            server,
            platform: profile,
            credential,
            switches,
        }
    }

    /// The command API's base URL: `http://127.0.0.1:PORT/octoeverywhere-command-api/`.
    pub fn uri(&self) -> String {
        format!("{}{PREFIX}", self.server.uri())
    }

    /// The credential accepted: the Bearer token, and the Basic password of [`BASIC_USER`].
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// The mock server (journal, faults).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The virtual printer behind it.
    pub fn printer(&self) -> &VirtualPrinter {
        self.server.printer()
    }

    /// The host profile.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Whether the webcam gives snapshots (false: the plugin's 754 fall-through).
    pub fn set_snapshot_available(&self, available: bool) {
        self.switches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_available = available;
    }

    /// A builder for a client of this mock with Bearer credentials and quick retries.
    pub fn builder(&self) -> crate::OctoEverywhereBuilder {
        OctoEverywhere::builder(self.uri())
            .bearer(self.credential.clone())
            .http(polyprint::mockserver::quick_http())
    }

    /// A client for this mock with Bearer credentials and quick retries.
    pub fn client(&self) -> OctoEverywhere {
        self.builder().build().expect("the mock's URL is valid")
    }
}

fn bad_credentials() -> ResponseTemplate {
    ResponseTemplate::new(606).set_body_raw(BAD_CREDENTIALS, "text/plain")
}

fn envelope(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "text/json")
}

fn ok(result: Value) -> ResponseTemplate {
    envelope(json!({ "Status": 200, "Result": result }))
}

fn fail(status: u16, error: impl Into<String>) -> ResponseTemplate {
    envelope(json!({ "Status": status, "Error": error.into() }))
}

fn no_args() -> ResponseTemplate {
    fail(400, "No args passed")
}

fn not_supported() -> ResponseTemplate {
    fail(788, "Not Supported")
}

fn host_not_connected() -> ResponseTemplate {
    fail(785, HOST_NOT_CONNECTED)
}

/// A JSON integer (bools are not).
fn int(v: Option<&Value>) -> Option<i64> {
    v.filter(|v| v.is_i64() || v.is_u64())
        .and_then(Value::as_i64)
}

struct Dialect {
    platform: Platform,
    bearer: String,
    basic: String,
    switches: Arc<Mutex<Switches>>,
}

impl Dialect {
    fn respond(&self, request: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if authorization != self.bearer && authorization != self.basic {
            return bad_credentials();
        }
        let Some(command) = request.url.path().strip_prefix(PREFIX) else {
            return ResponseTemplate::new(404).set_body_raw("Not Found", "text/plain");
        };
        let command = command.to_ascii_lowercase();
        let args = match parse_args(request) {
            Ok(a) => a,
            Err(t) => return *t,
        };
        let args = args.as_ref();
        let c = command.as_str();
        if c.starts_with("ping") {
            ok(json!({ "Message": "Pong" }))
        } else if c.starts_with("status") {
            self.status(args, &printer.view())
        } else if c.starts_with("list-webcam") || c.starts_with("webcam/list") {
            ok(webcam_list(true))
        } else if c.starts_with("webcam/snapshot") {
            self.snapshot(args)
        } else if c.starts_with("pause") {
            self.job_command(printer, |g| g.pause(), |p| p.not_printing(), "printing")
        } else if c.starts_with("resume") {
            self.job_command(printer, |g| g.resume(), |p| p.not_paused(), "paused")
        } else if c.starts_with("cancel") {
            self.job_command(printer, |g| g.cancel(), |p| p.not_printing(), "")
        } else if c.starts_with("start") {
            self.start(args, printer)
        } else if c.starts_with("set-light") {
            self.set_light(args, printer)
        } else if c.starts_with("move-axis") {
            self.move_axis(args, printer)
        } else if c.starts_with("home") {
            self.home(printer)
        } else if c.starts_with("extrude") {
            self.extrude(args, printer)
        } else if c.starts_with("set-temp") {
            self.set_temp(args, printer)
        } else if c.starts_with("files/list") {
            ok(file_tree(&printer.view()))
        } else {
            fail(754, UNKNOWN_COMMAND)
        }
    }

    fn status(&self, args: Option<&Map<String, Value>>, view: &SimView) -> ResponseTemplate {
        if let Some(v) = args.and_then(|a| {
            [
                "IncludeMaterialSystem",
                "includeMaterialSystem",
                "include_material_system",
            ]
            .iter()
            .find_map(|k| a.get(*k).or_else(|| a.get(&k.to_ascii_lowercase())))
        }) {
            let valid = match v {
                Value::Bool(_) => true,
                Value::String(s) => matches!(s.as_str(), "true" | "1" | "false" | "0"),
                Value::Number(n) => matches!(n.as_i64(), Some(0 | 1)),
                _ => false,
            };
            if !valid {
                return fail(
                    400,
                    "The optional 'IncludeMaterialSystem' status field must be true or false.",
                );
            }
        }
        if matches!(view.phase, Phase::Offline) {
            return host_not_connected();
        }
        ok(self.status_result(view))
    }

    fn status_result(&self, view: &SimView) -> Value {
        let heater = |h: Heater| view.heaters.iter().find(|x| x.heater == h);
        let reading = |h: Heater, actual: bool| -> Value {
            match heater(h) {
                Some(x) if view.readings_ready => {
                    let v = if actual { x.actual } else { x.target };
                    json!((v * 100.0).round() / 100.0)
                }
                _ => Value::Null,
            }
        };
        let temps = json!({
            "BedActual": reading(Heater::Bed, true),
            "BedTarget": reading(Heater::Bed, false),
            "HotendActual": reading(Heater::Tool(0), true),
            "HotendTarget": reading(Heater::Tool(0), false),
            "ChamberActual": reading(Heater::Chamber, true),
            "ChamberTarget": reading(Heater::Chamber, false),
        });
        // Not documented: CurrentPrint is always sent, FileName null when there was no job.
        let current = match &view.job {
            Some(j) => {
                let mm = j.file.filament_mm.unwrap_or(0.0);
                json!({
                    "Progress": j.progress(),
                    "DurationSec": j.printed.as_secs(),
                    "TimeLeftSec": j.remaining().as_secs(),
                    "FileName": j.file.name,
                    "EstTotalFilUsedMm": mm.round() as i64,
                    // 1.75 mm PLA: 2.405 mm² × 1.24 mg/mm³.
                    "EstTotalFilWeightMg": (mm * 2.405 * 1.24).round() as i64,
                    "CurrentLayer": j.layer(),
                    "TotalLayers": j.file.layers,
                    "Temps": temps,
                })
            }
            None => json!({
                "Progress": 0.0, "DurationSec": 0, "TimeLeftSec": null, "FileName": null,
                "EstTotalFilUsedMm": 0, "EstTotalFilWeightMg": 0, "CurrentLayer": null,
                "TotalLayers": null, "Temps": temps,
            }),
        };
        let active = view.state.has_active_job();
        let score = (view.failure_score * 100.0 * 10.0).round() / 10.0;
        let lights: Vec<Value> = self
            .platform
            .light()
            .map(|name| json!({ "Name": name, "On": view.light_on }))
            .into_iter()
            .collect();
        let error = match &view.phase {
            Phase::Error(m) => json!(m),
            _ => Value::Null,
        };
        json!({
            "JobStatus": {
                "State": view.state.octoeverywhere_word(),
                "SubState": null,
                "Error": error,
                "Lights": lights,
                "CurrentPrint": current,
            },
            "OctoEverywhereStatus": {
                "MostRecentPrintIdStr": view.job.as_ref().map(|j| format!("mock-print-{}", j.id)),
                "PrintStartTimeSec": view.job.as_ref().map(|j| polyprint::sim::EPOCH_BASE + j.started_at.as_secs() as i64),
                "Gadget": {
                    "LastScore": if active { json!(score) } else { Value::Null },
                    "ScoreHistory": if active { json!([score]) } else { json!([]) },
                    "TimeSinceLastScoreSec": if active { json!(12.5) } else { Value::Null },
                    "IntervalSec": 40.0,
                    "IsSuppressed": false,
                    "TimeSinceLastWarnSec": null,
                    "TimeSinceLastPauseSec": null,
                },
            },
            "PlatformVersion": self.platform.version(),
            "Features": self.platform.features(),
            "ListWebcams": webcam_list(false),
        })
    }

    fn snapshot(&self, args: Option<&Map<String, Value>>) -> ResponseTemplate {
        let available = self
            .switches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_available;
        let index = args.and_then(|a| a.get("index")).map(|v| match v {
            Value::String(s) => s.parse::<i64>().ok(),
            other => other.as_i64(),
        });
        if !available || !matches!(index, None | Some(Some(0))) {
            // The raw handler returns nothing; dispatch falls through to "unknown command".
            return fail(754, UNKNOWN_COMMAND);
        }
        ResponseTemplate::new(200)
            .insert_header("x-oe-webcam-transform", "none")
            .set_body_raw(WEBCAM_JPEG, "image/jpeg")
    }

    fn job_command(
        &self,
        printer: &VirtualPrinter,
        op: impl FnOnce(&mut polyprint::sim::SimGuard<'_>) -> Result<(), SimError>,
        refusal: fn(Platform) -> &'static str,
        required_word: &str,
    ) -> ResponseTemplate {
        let mut g = printer.lock();
        if g.state() == PrinterState::Offline {
            return host_not_connected();
        }
        if !required_word.is_empty() && g.state().octoeverywhere_word() != required_word {
            return fail(786, refusal(self.platform));
        }
        match op(&mut g) {
            Ok(()) => ok(json!({})),
            Err(_) => fail(786, refusal(self.platform)),
        }
    }

    fn start(
        &self,
        args: Option<&Map<String, Value>>,
        printer: &VirtualPrinter,
    ) -> ResponseTemplate {
        let Some(args) = args else { return no_args() };
        let path = match args.get("Path").or_else(|| args.get("path")) {
            Some(Value::String(p)) if !p.trim().is_empty() => p.trim().trim_start_matches('/'),
            _ => {
                return fail(
                    400,
                    "Missing Path. Provide a file path like 'gcode/<file>'.",
                )
            }
        };
        let (root, relative) = path.split_once('/').unwrap_or((path, ""));
        if !root.eq_ignore_ascii_case("gcode") {
            return fail(
                400,
                format!("Unsupported path root '{root}'. Use 'gcode/<file>'."),
            );
        }
        let mut g = printer.lock();
        if g.state() == PrinterState::Offline {
            return host_not_connected();
        }
        match g.start(relative) {
            Ok(()) => ok(json!({ "VirtualPath": path, "PlatformPath": relative })),
            // Not documented: the texts of these two refusals.
            Err(SimError::FileNotFound(_)) => fail(400, format!("File not found: {path}")),
            Err(SimError::AlreadyPrinting) => fail(786, "Printer is already printing."),
            Err(e) => fail(752, format!("start failed: {e}")),
        }
    }

    fn set_light(
        &self,
        args: Option<&Map<String, Value>>,
        printer: &VirtualPrinter,
    ) -> ResponseTemplate {
        let Some(args) = args else { return no_args() };
        let Some(Value::String(name)) = args.get("Name") else {
            return fail(400, "No light name passed");
        };
        let Some(Value::Bool(on)) = args.get("On") else {
            return fail(400, "No light on/off state passed");
        };
        match self.platform.light() {
            None => fail(788, "Light control is not supported on OctoPrint."),
            Some(light) if light != name => fail(400, format!("Unknown light name: {name}")),
            Some(_) => {
                printer.lock().set_light(*on);
                ok(json!({}))
            }
        }
    }

    fn move_axis(
        &self,
        args: Option<&Map<String, Value>>,
        printer: &VirtualPrinter,
    ) -> ResponseTemplate {
        let Some(args) = args else { return no_args() };
        let Some(Value::String(axis)) = args.get("Axis") else {
            return fail(400, "No axis specified or invalid type");
        };
        let Some(mm) = args
            .get("DistanceMm")
            .filter(|v| v.is_number())
            .and_then(Value::as_f64)
        else {
            return fail(400, "No distance specified or invalid type");
        };
        let axis = axis.to_ascii_uppercase();
        if !matches!(axis.as_str(), "X" | "Y" | "Z") {
            return fail(400, "Invalid axis. Must be X, Y, or Z");
        }
        if !self.platform.has(2) {
            return not_supported();
        }
        let d = |a: &str| if axis == a { mm } else { 0.0 };
        self.sim_op(printer, |g| g.jog(d("X"), d("Y"), d("Z")), "move-axis")
    }

    fn home(&self, printer: &VirtualPrinter) -> ResponseTemplate {
        if !self.platform.has(4) {
            return not_supported();
        }
        self.sim_op(printer, |g| g.home(true, true, true), "home")
    }

    fn extrude(
        &self,
        args: Option<&Map<String, Value>>,
        printer: &VirtualPrinter,
    ) -> ResponseTemplate {
        let Some(args) = args else { return no_args() };
        let Some(extruder) = int(args.get("Extruder")) else {
            return fail(400, "No extruder specified or invalid type");
        };
        if args.get("DistanceMm").filter(|v| v.is_number()).is_none() {
            return fail(400, "No distanceMm specified or invalid type");
        }
        if !self.platform.has(8) {
            return not_supported();
        }
        if !(0..=10).contains(&extruder) {
            return fail(400, "Invalid extruder index");
        }
        self.sim_op(printer, |g| g.gcode(&["M83".to_string()]), "extrude")
    }

    fn set_temp(
        &self,
        args: Option<&Map<String, Value>>,
        printer: &VirtualPrinter,
    ) -> ResponseTemplate {
        let Some(args) = args else { return no_args() };
        let mut values = [None; 3];
        for (i, (key, text)) in [
            ("BedC", "Invalid bedC type"),
            ("ChamberC", "Invalid chamberC type"),
            ("ToolC", "Invalid toolC type"),
        ]
        .into_iter()
        .enumerate()
        {
            match args.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) => values[i] = n.as_f64(),
                Some(_) => return fail(400, text),
            }
        }
        let tool_number = match args.get("ToolNumber") {
            None | Some(Value::Null) => None,
            v => match int(v) {
                Some(n) => Some(n),
                None => return fail(400, "Invalid toolNumber type"),
            },
        };
        let [bed, chamber, tool] = values;
        if bed.is_none() && chamber.is_none() && tool.is_none() {
            return fail(400, "At least one heater must be specified");
        }
        let out = |v: Option<f64>, max: f64| v.is_some_and(|v| !(0.0..=max).contains(&v));
        if out(bed, 75.0) {
            return fail(400, "Bed temperature must be between 0 and 75.0°C");
        }
        if out(chamber, 75.0) {
            return fail(400, "Chamber temperature must be between 0 and 75.0°C");
        }
        if out(tool, 260.0) {
            return fail(400, "Tool temperature must be between 0 and 260.0°C");
        }
        if tool_number.is_some_and(|n| n < 0) {
            return fail(400, "Tool number must be zero or greater");
        }
        if !self.platform.has(16) {
            return not_supported();
        }
        let tool_heater = Heater::Tool(tool_number.unwrap_or(0).clamp(0, 15) as u8);
        self.sim_op(
            printer,
            |g| {
                if let Some(c) = bed {
                    g.set_target(Heater::Bed, c)?;
                }
                if let Some(c) = chamber {
                    g.set_target(Heater::Chamber, c)?;
                }
                if let Some(c) = tool {
                    g.set_target(tool_heater, c)?;
                }
                Ok(())
            },
            "set-temp",
        )
    }

    /// Runs a Moonraker control on the virtual printer: a disconnected host is 785, a printer
    /// in error is Moonraker's G-code failure (752).
    fn sim_op(
        &self,
        printer: &VirtualPrinter,
        op: impl FnOnce(&mut polyprint::sim::SimGuard<'_>) -> Result<(), SimError>,
        command: &str,
    ) -> ResponseTemplate {
        let mut g = printer.lock();
        if g.state() == PrinterState::Offline {
            return host_not_connected();
        }
        match op(&mut g) {
            Ok(()) => ok(json!({})),
            Err(e) => fail(752, format!("{command} failed on Moonraker: {e}")),
        }
    }
}

/// Arguments as the plugin reads them: the JSON body when there is one, else the query string
/// with lower-cased keys and string values, else none.
fn parse_args(request: &Request) -> Result<Option<Map<String, Value>>, Box<ResponseTemplate>> {
    if !request.body.iter().all(u8::is_ascii_whitespace) {
        return match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(Box::new(fail(400, "Failed to parse args"))),
            // Python's json parser message for a body that is not JSON.
            Err(_) => Err(Box::new(fail(
                751,
                "Expecting value: line 1 column 1 (char 0)",
            ))),
        };
    }
    let pairs: Map<String, Value> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.into_owned())))
        .collect();
    Ok((!pairs.is_empty()).then_some(pairs))
}

fn webcam_list(with_urls: bool) -> Value {
    let url = |u: &str| if with_urls { json!(u) } else { Value::Null };
    json!({
        "DefaultIndex": 0,
        "Webcams": [{
            "Name": "Webcam",
            "FlipH": false,
            "FlipV": false,
            "Rotation": 0,
            "Enabled": true,
            "SnapshotUrl": url("/webcam/?action=snapshot"),
            "StreamUrl": url("/webcam/?action=stream"),
        }],
    })
}

/// The virtual file tree: folder `gcode` with the stored files (sub-folders for paths with
/// slashes), folders first, then by name.
fn file_tree(view: &SimView) -> Value {
    fn folder(name: &str, path: &str) -> Value {
        json!({ "Type": "folder", "Name": name, "VirtualPath": path, "Children": [] })
    }
    fn insert(node: &mut Value, parts: &[&str], prefix: &str, file: &polyprint::sim::SimFile) {
        let children = node["Children"]
            .as_array_mut()
            .expect("folders have children");
        let path = format!("{prefix}/{}", parts[0]);
        if parts.len() == 1 {
            children.push(json!({
                "Type": "file",
                "Name": parts[0],
                "VirtualPath": path,
                "PlatformPath": file.name,
                "SizeBytes": file.content.len(),
                "ModifiedTimeSec": file.uploaded,
                "Permissions": "rw",
            }));
            return;
        }
        let at = match children
            .iter()
            .position(|c| c["VirtualPath"] == path.as_str())
        {
            Some(i) => i,
            None => {
                children.push(folder(parts[0], &path));
                children.len() - 1
            }
        };
        insert(&mut children[at], &parts[1..], &path, file);
    }
    let mut root = folder("gcode", "gcode");
    for f in &view.files {
        let parts: Vec<&str> = f.name.split('/').collect();
        insert(&mut root, &parts, "gcode", f);
    }
    json!({ "Root": [root] })
}

impl polyprint::mockserver::VendorMock for OctoEverywhereMock {
    fn mock_server(&self) -> &MockServer {
        self.server()
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credential(&self) -> String {
        OctoEverywhereMock::credential(self).to_string()
    }
}
