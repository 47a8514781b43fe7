//! The configuration file: named printers, a default, and how flags and environment variables
//! override it (flags > environment > file; clap reads the environment for each flag).
//!
//! Keys are never printed: [`PrinterEntry`]'s `Debug` redacts them and the commands that list
//! printers show backend, URL and name only. [`write`] creates the file with mode 0600.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::outcome::CliError;

/// The whole file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The printer used when `--printer` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Printers by name.
    #[serde(default)]
    pub printers: BTreeMap<String, PrinterEntry>,
}

/// One printer: a backend and what it needs to connect.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrinterEntry {
    /// The backend's name in the registry (`polyprint backends` lists them: `sim`, `octoprint`, ...).
    pub backend: String,
    /// The service's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The API key or token.
    #[serde(
        default,
        alias = "token",
        alias = "api_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub key: Option<String>,
    /// The backend's printer id (Prusa Connect UUID, Obico id).
    #[serde(
        default,
        alias = "uuid",
        alias = "printer_uuid",
        skip_serializing_if = "Option::is_none"
    )]
    pub printer_id: Option<String>,
    /// For `sim`: virtual seconds per real second (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Backend settings by name (OctoPrint's serial `port` and `baudrate` for `connect`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for PrinterEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrinterEntry")
            .field("backend", &self.backend)
            .field(
                "url",
                &self
                    .url
                    .as_deref()
                    .map(polyprint::transport::redacted_url_text),
            )
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("printer_id", &self.printer_id)
            .field("speed", &self.speed)
            .field("options", &self.options)
            .finish()
    }
}

/// The printer a command acts on: its name and settings after every override.
#[derive(Clone, Debug)]
pub struct Target {
    /// The name in the file, or the backend's name for an ad-hoc printer.
    pub name: String,
    /// The settings.
    pub entry: PrinterEntry,
}

/// `$XDG_CONFIG_HOME/polyprint/config.toml`, else `~/.config/polyprint/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".config"),
    };
    Some(base.join("polyprint").join("config.toml"))
}

/// The file to use: `--config` / `POLYPRINT_CONFIG`, else [`default_path`].
pub fn path_for(global: &Global) -> Option<PathBuf> {
    global.config.clone().or_else(default_path)
}

/// Reads a file; a missing file is an empty configuration unless `required`.
pub fn load(path: &Path, required: bool) -> Result<ConfigFile, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            CliError::config(format!(
                "{} is not a valid configuration: {}",
                path.display(),
                e.message()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok(ConfigFile::default())
        }
        Err(e) => Err(CliError::config(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Loads the configuration the flags point at (the default file may be missing).
pub fn load_for(global: &Global) -> Result<ConfigFile, CliError> {
    match (&global.config, default_path()) {
        (Some(path), _) => load(path, true),
        (None, Some(path)) => load(&path, false),
        (None, None) => Ok(ConfigFile::default()),
    }
}

/// Chooses the printer and applies the overrides (see the module docs).
pub fn resolve(global: &Global, file: &ConfigFile) -> Result<Target, CliError> {
    let chosen = if let Some(name) = &global.printer {
        Some(name.clone())
    } else if global.backend.is_some() {
        None
    } else if let Some(name) = &file.default {
        Some(name.clone())
    } else if file.printers.len() == 1 {
        file.printers.keys().next().cloned()
    } else {
        None
    };
    let (name, mut entry) = match chosen {
        Some(name) => {
            let entry = file.printers.get(&name).cloned().ok_or_else(|| {
                let known: Vec<&str> = file.printers.keys().map(String::as_str).collect();
                CliError::config(format!(
                    "no printer named {name:?} is configured{}",
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (configured: {})", known.join(", "))
                    }
                ))
            })?;
            (name, entry)
        }
        None => match &global.backend {
            Some(backend) => (backend.clone(), PrinterEntry::default()),
            None if file.printers.is_empty() => {
                return Err(CliError::config(
                    "no printer configured: run `polyprint init`, pass --backend (try \
                     `--backend sim`), or run `polyprint demo`",
                ))
            }
            None => {
                return Err(CliError::config(format!(
                    "several printers are configured and none is the default: pass --printer \
                     NAME (one of: {})",
                    file.printers.keys().cloned().collect::<Vec<_>>().join(", ")
                )))
            }
        },
    };
    if let Some(b) = &global.backend {
        entry.backend = b.clone();
    }
    if let Some(u) = &global.url {
        entry.url = Some(u.clone());
    }
    if let Some(k) = &global.key {
        entry.key = Some(k.clone());
    }
    if let Some(p) = &global.printer_id {
        entry.printer_id = Some(p.clone());
    }
    Ok(Target { name, entry })
}

/// Writes the file with mode 0600 (and its directory with 0700 when created), replacing it
/// atomically.
pub fn write(path: &Path, file: &ConfigFile) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    let text = toml::to_string_pretty(file)
        .map_err(|e| CliError::io(format!("cannot encode the configuration: {e}")))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CliError::io(format!("cannot create {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config"),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // The mode above is masked by the umask and ignored for an existing file: set it.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::io(format!("cannot write {}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        toml::from_str(
            r#"
            default = "mk4"
            [printers.mk4]
            backend = "prusa-connect"
            url = "https://connect.example"
            token = "tok-123"
            printer_uuid = "u-1"
            [printers.octo]
            backend = "octoprint"
            url = "http://127.0.0.1:5000"
            key = "k-456"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn aliases_read_and_the_key_is_never_in_debug() {
        let f = file();
        let mk4 = &f.printers["mk4"];
        assert_eq!(mk4.key.as_deref(), Some("tok-123"));
        assert_eq!(mk4.printer_id.as_deref(), Some("u-1"));
        let debug = format!("{f:?}");
        assert!(
            !debug.contains("tok-123") && !debug.contains("k-456"),
            "{debug}"
        );
    }

    #[test]
    fn precedence_default_then_printer_flag_then_overrides() {
        let f = file();
        let t = resolve(&Global::default(), &f).unwrap();
        assert_eq!(t.name, "mk4");
        let g = Global {
            printer: Some("octo".into()),
            url: Some("http://127.0.0.1:9".into()),
            ..Global::default()
        };
        let t = resolve(&g, &f).unwrap();
        assert_eq!(t.entry.backend, "octoprint");
        assert_eq!(t.entry.url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(t.entry.key.as_deref(), Some("k-456"));
        // An ad-hoc printer needs no file.
        let g = Global {
            backend: Some("sim".into()),
            ..Global::default()
        };
        assert_eq!(
            resolve(&g, &ConfigFile::default()).unwrap().entry.backend,
            "sim"
        );
        // Unknown names and an empty configuration are configuration errors.
        let g = Global {
            printer: Some("nope".into()),
            ..Global::default()
        };
        let err = resolve(&g, &f).unwrap_err();
        assert!(err.message.contains("mk4"), "{}", err.message);
        assert_eq!(
            resolve(&Global::default(), &ConfigFile::default())
                .unwrap_err()
                .code,
            "config"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            toml::from_str::<ConfigFile>("[printers.a]\nbackend = \"sim\"\nurll = \"x\"\n")
                .is_err()
        );
    }

    #[test]
    fn written_files_are_private_and_round_trip() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.toml");
        let f = file();
        write(&path, &f).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path, true).unwrap(), f);
        // Rewriting a file someone loosened makes it private again.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, &f).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
