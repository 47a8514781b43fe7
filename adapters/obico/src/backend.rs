//! [`Backend`] for [`Obico`]: the common trait's view of one Obico printer.
//!
//! | action            | agent printer                | agentless printer                     |
//! |-------------------|------------------------------|---------------------------------------|
//! | status            | `GET printers/{id}/`         | same (`status` is null: Offline)      |
//! | pause / resume    | `POST pause_print/`, `resume_print/` | refused (Unsupported)         |
//! | cancel            | `POST cancel_print/`         | `POST finish_print/` `{"status": "cancelled"}` |
//! | start_print       | refused (Unsupported)        | `POST start_print/` `{"filename"}`    |
//! | snapshot          | `pic.img_url`                | refused (Unsupported)                 |
//! | job_history       | `GET prints/`                | `GET prints/`                         |
//! | jog, home, extrude, temperature, light, G-code, files | refused | refused                  |
//!
//! A command returns `Ok` once Obico dispatched it; confirm with [`Obico::confirm`]. The
//! printer's kind decides its features; the core learns it (one safe read) before the first
//! action or features answer.

use polyprint::{
    async_trait, Backend, Command, Error, Features, JobRecord, PrinterInfo, PrinterStatus, Result,
    Snapshot,
};

use crate::client::{Obico, PrinterKind};
use crate::mapping::record_of;
use crate::BACKEND;

#[async_trait]
impl Backend for Obico {
    /// Learns the printer's kind (agent or agentless), which decides its features.
    async fn refresh_capabilities(&self) -> Result<()> {
        self.refresh().await.map(drop)
    }

    fn describe(&self) -> PrinterInfo {
        let name = self
            .cached_name()
            .unwrap_or_else(|| format!("Obico printer {}", self.printer_id()));
        PrinterInfo::new(BACKEND, self.printer_id().to_string(), name)
            .with_endpoint(self.transport().endpoint())
    }

    fn secrets(&self) -> Vec<polyprint::transport::Secret> {
        self.transport().secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.transport().commands().clone())
    }

    fn capabilities(&self) -> Features {
        self.kind().features()
    }

    /// The printer's kind, and so its features, is known from the first fetch.
    fn capabilities_confirmed(&self) -> bool {
        self.kind() != PrinterKind::Unknown
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &[]
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        self.status_now().await
    }

    async fn run(&self, command: Command) -> Result<()> {
        match command {
            Command::Pause => self.pause_print().await.map(drop),
            Command::Resume => self.resume_print().await.map(drop),
            Command::Cancel => self.cancel_print().await.map(drop),
            other => Err(Error::Unsupported {
                feature: other.feature(),
                backend: BACKEND.to_string(),
            }),
        }
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        self.latest_picture().await
    }

    async fn fetch_history(&self, limit: usize) -> Result<Vec<JobRecord>> {
        Ok(self.prints(0, limit).await?.iter().map(record_of).collect())
    }
}
