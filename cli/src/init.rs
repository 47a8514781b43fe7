//! `init`: adds (or replaces) a printer in the configuration file, from flags or by asking,
//! and writes the file with mode 0600.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;

use crate::backends::{self, BackendSpec};
use crate::cli::Global;
use crate::config::{self, PrinterEntry};
use crate::outcome::{CliError, Reply};

/// Asks on the terminal; `None` when input is off or empty.
fn ask(interactive: bool, prompt: &str) -> Result<Option<String>, CliError> {
    if !interactive {
        return Ok(None);
    }
    eprint!("{prompt}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::io(format!("cannot read the answer: {e}")))?;
    let line = line.trim().to_string();
    Ok((!line.is_empty()).then_some(line))
}

/// Writes the printer described by the flags (asking for what is missing on a terminal).
pub fn init(
    global: &Global,
    name: Option<String>,
    make_default: bool,
    no_input: bool,
) -> Result<Reply, CliError> {
    let interactive = !no_input && !global.json && std::io::stdin().is_terminal();
    let path = config::path_for(global)
        .ok_or_else(|| CliError::config("no configuration path: pass --config PATH or set HOME"))?;
    let mut file = config::load(&path, false)?;
    let need = |v: Option<String>, prompt: &str, flag: &str| -> Result<String, CliError> {
        match v {
            Some(v) => Ok(v),
            None => ask(interactive, prompt)?
                .ok_or_else(|| CliError::usage(format!("init needs {flag}"))),
        }
    };
    let backend = need(
        global.backend.clone(),
        &format!(
            "backend, one of:\n{}\nbackend",
            backends::BACKENDS
                .iter()
                .map(|b| format!("  {:<14} {}", b.name(), b.about()))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        "--backend",
    )?;
    let spec = backends::find(&backend)?;
    let mut entry = PrinterEntry {
        backend: backend.clone(),
        ..PrinterEntry::default()
    };
    if spec.fields().url {
        entry.url = Some(need(global.url.clone(), "URL", "--url")?);
    }
    if let Some(key_name) = spec.fields().credential {
        entry.key = Some(need(
            global.key.clone(),
            key_name,
            "--key (or POLYPRINT_KEY)",
        )?);
    }
    if let Some(id_name) = spec.fields().printer_id {
        entry.printer_id = Some(need(global.printer_id.clone(), id_name, "--printer-id")?);
    }
    spec.check_entry(&entry)?;
    let name = match name.or_else(|| global.printer.clone()) {
        Some(n) => n,
        None => ask(interactive, &format!("name for this printer [{backend}]"))?
            .unwrap_or(backend.clone()),
    };
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_control() || c == '.' || c.is_whitespace())
    {
        return Err(CliError::usage(
            "the printer name must be a word (no spaces, dots or control characters)",
        ));
    }
    let replaced = file.printers.insert(name.clone(), entry).is_some();
    if make_default || file.default.is_none() {
        file.default = Some(name.clone());
    }
    config::write(&path, &file)?;
    Ok(Reply::new(
        json!({
            "path": path,
            "printer": name,
            "backend": backend,
            "replaced": replaced,
            "default": file.default,
        }),
        format!(
            "{} printer {name:?} ({backend}) in {} (mode 0600){}",
            if replaced { "replaced" } else { "added" },
            path.display(),
            if file.default.as_deref() == Some(name.as_str()) {
                "; it is the default"
            } else {
                ""
            }
        ),
    ))
}
