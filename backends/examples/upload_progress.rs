//! Upload a large file with a progress bar (indicatif), streamed from disk, to an OctoPrint
//! mock: the bytes never sit in memory whole, and the bar follows what the server took.
//!
//! ```text
//! cargo run -p polyprint-backends --features mock --example upload_progress
//! ```

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use polyprint::descriptor::{mock_endpoint, MockOptions};
use polyprint::sim::VirtualPrinter;
use polyprint::transport::HttpConfig;
use polyprint::Upload;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptor = polyprint_backends::find("octoprint")?;
    let mock = descriptor
        .start_mock(VirtualPrinter::new(), MockOptions::default())
        .await
        .ok_or("no mock")?;
    let printer = descriptor.open(&mock_endpoint(mock.as_ref()), HttpConfig::default())?;

    // A 16 MB G-code file on disk.
    let file = tempfile_path("big-part.gcode");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let mut written = 0usize;
        let mut i = 0u64;
        while written < 16 << 20 {
            let line = format!("G1 X{} Y{} E0.01 F3000\n", i % 200, (i / 200) % 200);
            out.write_all(line.as_bytes())?;
            written += line.len();
            i += 1;
        }
        out.flush()?;
    }
    let size = std::fs::metadata(&file)?.len();

    let bar = ProgressBar::new(size);
    bar.set_style(ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
    )?);
    bar.set_message("uploading big-part.gcode");
    let shown = bar.clone();
    let entry = printer
        .upload(Upload::from_path(&file).on_progress(move |p| shown.set_position(p.sent)))
        .await?;
    bar.finish_with_message("uploaded");
    println!(
        "{} on the printer, {} bytes",
        entry.path,
        entry.size.unwrap_or(0)
    );

    let listed = printer.list_files().await?;
    let stored = listed
        .iter()
        .find(|f| f.path == entry.path)
        .ok_or("not listed")?;
    if stored.size != Some(size) {
        return Err(format!("listed with {:?} bytes, sent {size}", stored.size).into());
    }
    std::fs::remove_file(&file)?;
    Ok(())
}

/// A path for the example's file in the system's temporary directory.
fn tempfile_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("polyprint-example-{}-{name}", std::process::id()))
}
