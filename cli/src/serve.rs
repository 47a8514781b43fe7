//! `mock <backend>`: serves a backend's mock over a virtual printer on 127.0.0.1 until Ctrl-C,
//! for application developers. Prints the URL and the credential to use.

use std::io::Write;

use serde_json::json;

use polyprint::descriptor::MockOptions;

use crate::backends;
use crate::outcome::{success_document, CliError, Reply};

/// Runs the mock until Ctrl-C.
pub async fn mock(
    backend: &str,
    port: Option<u16>,
    speed: f64,
    variant: Option<&str>,
    json_out: bool,
) -> Result<Reply, CliError> {
    let spec = backends::find(backend)?;
    if !(speed.is_finite() && speed > 0.0 && speed <= 1000.0) {
        return Err(CliError::usage("--speed must be between 0 and 1000"));
    }
    if !spec.has_mock() {
        let with: Vec<&str> = backends::BACKENDS
            .iter()
            .filter(|b| b.has_mock())
            .map(|b| b.name())
            .collect();
        return Err(CliError::usage(format!(
            "backend {} has no mock server{}",
            spec.name(),
            if with.is_empty() {
                String::new()
            } else {
                format!("; these do: {}", with.join(", "))
            }
        )));
    }
    let variant = spec.mock_variant(variant).ok_or_else(|| {
        let names: Vec<&str> = spec.mock_variants().iter().map(|v| v.name).collect();
        CliError::usage(format!(
            "backend {} has no mock variant {:?}; it has: {}",
            spec.name(),
            variant.unwrap_or_default(),
            names.join(", ")
        ))
    })?;
    let variant = Some(variant.name);
    if let Some(p) = port {
        // Fail with a message rather than a panic inside the mock when the port is taken.
        std::net::TcpListener::bind(("127.0.0.1", p))
            .map_err(|e| CliError::usage(format!("cannot listen on 127.0.0.1:{p}: {e}")))?;
    }
    let printer = backends::realtime_sim(&format!("mock {}", spec.name()), speed);
    let running = spec
        .start_mock(printer, MockOptions { port, variant })
        .await
        .ok_or_else(|| CliError::usage(format!("backend {} has no mock", spec.name())))?;
    let entry = backends::mock_entry(spec.name(), running.as_ref());
    let data = json!({
        "backend": spec.name(),
        "variant": variant,
        "url": entry.url,
        "key": entry.key,
        "printer_id": entry.printer_id,
    });
    // The mock's credential is made up for it and must be shown: it is how to connect.
    if json_out {
        println!("{}", success_document(data));
    } else {
        let mut example = format!(
            "polyprint --backend {} --url {}",
            spec.name(),
            entry.url.clone().unwrap_or_default()
        );
        if entry.printer_id.is_some() {
            example.push_str(&format!(
                " --printer-id {}",
                entry.printer_id.clone().unwrap_or_default()
            ));
        }
        println!(
            "{} mock on {} (virtual printer at {speed}x)",
            spec.name(),
            entry.url.clone().unwrap_or_default()
        );
        if let Some(k) = &entry.key {
            println!("credential: {k}");
            println!("try:  POLYPRINT_KEY={k} {example} status");
        } else {
            println!("try:  {example} status");
        }
        println!("Ctrl-C stops it.");
    }
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::io(format!("cannot wait for Ctrl-C: {e}")))?;
    if !json_out {
        eprintln!("served {} requests", running.mock_server().request_count());
    }
    // Already printed: main prints nothing more.
    Ok(Reply::default())
}
