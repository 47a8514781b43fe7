//! The command line: every flag, subcommand and help text, declared with clap.
//!
//! The exit codes and the configuration precedence are part of the interface and are written
//! out in [`AFTER_HELP`], which `polyprint --help` prints.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The text after `polyprint --help`: exit codes, JSON output, configuration.
pub const AFTER_HELP: &str = "\
Output:
  --json prints exactly one JSON document on stdout, for every command:
    {\"status\":\"success\",\"data\":...}
    {\"status\":\"error\",\"data\":null,\"error\":{\"code\":\"...\",\"message\":\"...\"}}
  (preflight and demo may add \"details\" to the error object). Progress bars, tables and
  logs never go to stdout with --json.

Exit codes:
  0  success
  1  printer or service unreachable, timed out, or the printer is offline
  2  file error: local file missing, not a file, a type the backend refuses, too big,
     or not stored on the printer
  3  printer busy or in the wrong state (already printing, nothing to pause, ...)
  4  anything else: authentication, server or protocol errors, unsupported features,
     invalid input, a destructive command without --confirm, configuration errors
  5  outcome unknown: a command's answer was lost after it was sent (reset, timeout, a
     gateway's 502-504); the printer may have carried it out: check `polyprint status`

Destructive commands (print, cancel, gcode) do nothing without --confirm (exit 4, code
\"confirmation_required\"); no request is sent. polyprint never retries a command.

Configuration (highest precedence first):
  1. flags:        --printer NAME, --backend, --url, --key, --printer-id
  2. environment:  POLYPRINT_PRINTER, POLYPRINT_BACKEND, POLYPRINT_URL, POLYPRINT_KEY,
                   POLYPRINT_PRINTER_ID
  3. config file:  --config PATH, else POLYPRINT_CONFIG, else
                   $XDG_CONFIG_HOME/polyprint/config.toml or ~/.config/polyprint/config.toml
  The printer used is --printer NAME, else the file's `default`, else its only printer;
  --backend/--url/--key/--printer-id then override that printer's fields (or describe an
  ad-hoc printer when there is no file). Keys are never printed.

  default = \"mk4\"
  [printers.mk4]
  backend = \"prusa-connect\"      # a name this build does not know is refused with the list
  url = \"https://connect.prusa3d.com\"
  token = \"...\"                  # `key` and `token` are the same field
  printer_uuid = \"...\"           # `printer_id`, `uuid` and `printer_uuid` are the same field

Backend `sim` is an embedded virtual printer (no hardware, no network). Each run of polyprint
gets a fresh one, so it keeps no state from one command to the next.

Start here: `polyprint demo` needs no configuration and no printer.";

/// Watch and drive 3D printers behind OctoPrint, Moonraker, Prusa Connect, PrusaLink, Obico,
/// OctoEverywhere, or a virtual printer.
#[derive(Debug, Parser)]
#[command(name = "polyprint", version, about, after_long_help = AFTER_HELP)]
#[command(
    after_help = "Exit codes: 0 ok, 1 unreachable/offline, 2 file error, 3 busy/wrong state, 4 other. See --help for more."
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Print exactly one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log what happens (requests, timings) on stderr; repeat for more.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The configuration file.
    #[arg(long, global = true, env = "POLYPRINT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The configured printer to use.
    #[arg(long, global = true, env = "POLYPRINT_PRINTER", value_name = "NAME")]
    pub printer: Option<String>,
    /// Backend for an ad-hoc printer (or to override the configured one).
    #[arg(long, global = true, env = "POLYPRINT_BACKEND", value_name = "BACKEND")]
    pub backend: Option<String>,
    /// The service's URL.
    #[arg(long, global = true, env = "POLYPRINT_URL", value_name = "URL")]
    pub url: Option<String>,
    /// The API key or token (prefer the environment variable: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "POLYPRINT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub key: Option<String>,
    /// The backend's printer id (Prusa Connect UUID, Obico id).
    #[arg(long, global = true, env = "POLYPRINT_PRINTER_ID", value_name = "ID")]
    pub printer_id: Option<String>,
    /// Seconds any one call to the printer's service may take, retries and uploads included.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub timeout: Option<f64>,
}

/// A heater target in °C.
#[derive(Debug, Args, Clone)]
pub struct TempArgs {
    /// Set the nozzle target, °C (0 switches it off).
    #[arg(long, value_name = "CELSIUS", allow_negative_numbers = true)]
    pub tool: Option<f64>,
    /// Which nozzle --tool sets.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub tool_index: u8,
    /// Set the bed target, °C.
    #[arg(long, value_name = "CELSIUS", allow_negative_numbers = true)]
    pub bed: Option<f64>,
    /// Set the chamber target, °C.
    #[arg(long, value_name = "CELSIUS", allow_negative_numbers = true)]
    pub chamber: Option<f64>,
    /// Switch every reported heater off.
    #[arg(long, conflicts_with_all = ["tool", "bed", "chamber"])]
    pub off: bool,
}

/// On or off.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every backend's mock over a virtual printer and drive one print on each, side by side.
    Demo {
        /// Virtual seconds per real second (higher is faster).
        #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
        speed: f64,
    },
    /// Show what the printer is doing (exit 0 whenever the service answers, even if the
    /// printer is offline: use `preflight` for a go/no-go).
    Status,
    /// Follow the printer until the job ends (or Ctrl-C); with --all, every configured
    /// printer until Ctrl-C. Pushed live where the server pushes (OctoPrint), polled
    /// otherwise. With --json: one JSON document per line (NDJSON), one per change, then the
    /// summary.
    Watch {
        /// Seconds between refreshes (polling backends; faster right after a change).
        #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
        interval: f64,
        /// Follow every configured printer (ends on Ctrl-C or --for).
        #[arg(long)]
        all: bool,
        /// Stop after this many seconds.
        #[arg(long = "for", value_name = "SECONDS", allow_negative_numbers = true)]
        for_secs: Option<f64>,
    },
    /// List files stored on the printer.
    Files,
    /// Upload a local file.
    Upload {
        /// The local file.
        file: PathBuf,
        /// Store it under this name instead.
        #[arg(long)]
        name: Option<String>,
    },
    /// Upload a local file and start printing it (runs preflight first). Needs --confirm.
    Print {
        /// The local file (or, with --stored, a file already on the printer).
        file: String,
        /// Really start the print.
        #[arg(long)]
        confirm: bool,
        /// Exit 0 without doing anything when the printer is already printing.
        #[arg(long)]
        skip_if_printing: bool,
        /// Print a file already stored on the printer; upload nothing.
        #[arg(long)]
        stored: bool,
        /// Follow the job afterwards.
        #[arg(long)]
        watch: bool,
    },
    /// Pause the job.
    Pause {
        /// Follow the job afterwards.
        #[arg(long)]
        watch: bool,
    },
    /// Resume the paused job.
    Resume {
        /// Follow the job afterwards.
        #[arg(long)]
        watch: bool,
    },
    /// Cancel the job. Needs --confirm.
    Cancel {
        /// Really cancel.
        #[arg(long)]
        confirm: bool,
    },
    /// Cancel one object of the job.
    CancelObject {
        /// The object's id.
        id: u32,
    },
    /// Check that a print can start: service, printer, heaters, and the file if given.
    Preflight {
        /// A local G-code file to check (or a name stored on the printer).
        file: Option<String>,
    },
    /// Show heaters, or set targets.
    Temp(TempArgs),
    /// Move the print head relative to where it is, mm.
    Jog {
        /// mm along X.
        #[arg(long, allow_negative_numbers = true)]
        x: Option<f64>,
        /// mm along Y.
        #[arg(long, allow_negative_numbers = true)]
        y: Option<f64>,
        /// mm along Z.
        #[arg(long, allow_negative_numbers = true)]
        z: Option<f64>,
        /// Feed rate, mm/min.
        #[arg(long, allow_negative_numbers = true)]
        speed: Option<f64>,
    },
    /// Home axes (all when none are given).
    Home {
        /// Axes: x, y, z.
        axes: Vec<String>,
    },
    /// Extrude filament, mm (negative retracts).
    Extrude {
        /// mm.
        #[arg(allow_negative_numbers = true)]
        mm: f64,
    },
    /// Switch the light.
    Light {
        /// on or off.
        state: OnOff,
    },
    /// Send G-code lines, one per argument. Needs --confirm.
    Gcode {
        /// The lines, e.g. "G28" "M105".
        #[arg(required = true)]
        commands: Vec<String>,
        /// Really send them.
        #[arg(long)]
        confirm: bool,
    },
    /// Save a webcam snapshot.
    Snapshot {
        /// Where to write the image.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Past jobs, newest first.
    Jobs {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Connect the host to its printer (where the backend can), then wait until the
    /// printer settles (not offline, not still connecting).
    Connect {
        /// The serial port to ask for (OctoPrint: `VIRTUAL`, `/dev/ttyACM0`); without one the
        /// host uses its preference or autodetects, which can take a while. Also the
        /// printer's `port` option in the configuration file.
        #[arg(long, value_name = "PORT")]
        port: Option<String>,
        /// The baud rate to ask for (also the `baudrate` option in the configuration file).
        #[arg(long, value_name = "BAUD")]
        baudrate: Option<u32>,
        /// Seconds to wait for the printer to settle (0: do not wait).
        #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
        wait: f64,
    },
    /// Disconnect the host from its printer (where the backend can).
    Disconnect,
    /// What this printer supports.
    Features,
    /// Every configured printer with its state, fetched concurrently.
    Printers,
    /// Write a printer into the configuration file (asks for what flags do not give).
    Init {
        /// The printer's name in the file.
        #[arg(long)]
        name: Option<String>,
        /// Make it the default printer.
        #[arg(long)]
        make_default: bool,
        /// Never ask; fail if something is missing.
        #[arg(long)]
        no_input: bool,
    },
    /// Serve a backend's mock over a virtual printer on 127.0.0.1 until Ctrl-C.
    Mock {
        /// The backend whose dialect to speak.
        backend: String,
        /// The port (default: a free one).
        #[arg(long)]
        port: Option<u16>,
        /// Virtual seconds per real second.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        speed: f64,
        /// Which of the backend's mock variants to serve (default: its first; an unknown name
        /// lists them).
        #[arg(long)]
        variant: Option<String>,
    },
    /// Run the conformance suite against the configured printer.
    Conformance {
        /// Also run cases that move, heat or print (the printer must be safe to move).
        #[arg(long)]
        allow_motion: bool,
        /// Only cases whose name contains this text, e.g. `status.`.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The subcommand's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Demo { .. } => "demo",
            Command::Status => "status",
            Command::Watch { .. } => "watch",
            Command::Files => "files",
            Command::Upload { .. } => "upload",
            Command::Print { .. } => "print",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Cancel { .. } => "cancel",
            Command::CancelObject { .. } => "cancel-object",
            Command::Preflight { .. } => "preflight",
            Command::Temp(_) => "temp",
            Command::Jog { .. } => "jog",
            Command::Home { .. } => "home",
            Command::Extrude { .. } => "extrude",
            Command::Light { .. } => "light",
            Command::Gcode { .. } => "gcode",
            Command::Snapshot { .. } => "snapshot",
            Command::Jobs { .. } => "jobs",
            Command::Connect { .. } => "connect",
            Command::Disconnect => "disconnect",
            Command::Features => "features",
            Command::Printers => "printers",
            Command::Init { .. } => "init",
            Command::Mock { .. } => "mock",
            Command::Conformance { .. } => "conformance",
            Command::Completions { .. } => "completions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn negative_extrusion_parses() {
        let cli = Cli::try_parse_from(["polyprint", "extrude", "-5"]).unwrap();
        assert!(matches!(cli.command, Command::Extrude { mm } if mm == -5.0));
    }
}
