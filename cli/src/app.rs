//! The run's context: the global options, whether output is JSON or for a terminal, and how
//! the printer a command acts on is found and connected.

use std::io::IsTerminal;
use std::sync::Arc;

use polyprint::Printer;

use polyprint::Descriptor;

use crate::backends::{self, BackendSpec};
use crate::cli::Global;
use crate::config::{self, Target};
use crate::outcome::CliError;

/// What every command gets.
#[derive(Debug)]
pub struct Ctx {
    /// The global options.
    pub global: Global,
    /// `--json`.
    pub json: bool,
    /// Whether stdout is a terminal (and not `--json`): redraw in place, show progress.
    pub tty: bool,
}

/// A connected printer with its name and backend.
pub struct Connected {
    /// The configured name (or the backend's, ad hoc).
    pub name: String,
    /// The backend.
    pub spec: &'static Descriptor,
    /// The printer.
    pub printer: Arc<dyn Printer>,
}

impl Ctx {
    /// The context for these options.
    pub fn new(global: Global) -> Ctx {
        let json = global.json;
        Ctx {
            json,
            tty: !json && std::io::stdout().is_terminal(),
            global,
        }
    }

    /// The printer the options point at, not yet connected.
    pub fn target(&self) -> Result<Target, CliError> {
        let file = config::load_for(&self.global)?;
        config::resolve(&self.global, &file)
    }

    /// Resolves and connects (no request is sent yet).
    pub fn connect(&self) -> Result<Connected, CliError> {
        let target = self.target()?;
        open(target, self.global.timeout)
    }
}

/// Connects to a resolved target.
pub fn open(target: Target, timeout: Option<f64>) -> Result<Connected, CliError> {
    let spec = backends::find(&target.entry.backend)?;
    let printer = spec.open_entry(&target.entry, backends::http_config(timeout)?)?;
    Ok(Connected {
        name: target.name,
        spec,
        printer,
    })
}
