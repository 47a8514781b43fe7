//! [`Backend`] for [`OctoEverywhere`]: the common trait's view of one App Connection.
//!
//! | action         | plugin call                                   | feature (bit)          |
//! |----------------|-----------------------------------------------|------------------------|
//! | status         | `GET status` (785 → Offline status)           | —                      |
//! | pause / resume | `POST pause` (default [`PauseOptions`]), `POST resume` | PauseResume (every host) |
//! | cancel         | `POST cancel`                                 | Cancel (every host)    |
//! | start_print    | `GET files/list` to find `Path`, `POST start` | PrintStart (32)        |
//! | set_light      | `POST set-light` for each light the status lists | LightControl (1)    |
//! | jog            | `POST move-axis` once per moving axis (the plugin's feed rate; `speed` is not sent) | AxisMovement (2) |
//! | home           | `POST home`: all axes only (see below)        | Homing (4)             |
//! | extrude        | `POST extrude` on extruder 0                  | Extrusion (8)          |
//! | set_target     | `POST set-temp` (`ToolC`+`ToolNumber`, `BedC`, `ChamberC`), limits 260/75/75 °C | TemperatureControl (16) |
//! | list_files     | `GET files/list` (the `gcode` root)           | FileList (every host)  |
//! | snapshot       | `GET webcam/snapshot` (default webcam)        | WebcamSnapshot (every host with a webcam) |
//! | failure        | Gadget's score in the status                  | FailureDetection (every host) |
//! | upload, delete, G-code, object cancel, history, queue, connection | none: never claimed | — |
//!
//! The plugin homes every axis at once; its limits say so (`home_all_axes_only`), and the core
//! refuses a request to home some axes only with [`Error::InvalidArgument`] before anything is
//! sent, rather than moving axes the caller did
//! not name.

use polyprint::{
    async_trait, Axis, Backend, BackendExt, Command, Features, FileEntry, Heater, Limits,
    PrinterInfo, PrinterStatus, Result, Snapshot,
};

use crate::client::{OctoEverywhere, PauseOptions, Temperatures};
use crate::mapping::limits;
use crate::BACKEND;

#[async_trait]
impl Backend for OctoEverywhere {
    fn describe(&self) -> PrinterInfo {
        let id = self.connection_id();
        let name = format!("OctoEverywhere {id}");
        PrinterInfo::new(BACKEND, id, name).with_endpoint(self.transport().endpoint())
    }

    fn secrets(&self) -> Vec<polyprint::transport::Secret> {
        self.transport().secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.transport().commands().clone())
    }

    fn capabilities(&self) -> Features {
        self.cached_features()
    }

    /// The host's features are known from the first status.
    fn capabilities_confirmed(&self) -> bool {
        self.features_known()
    }

    fn known_limits(&self) -> Limits {
        limits()
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Reads `status` and caches the host's features.
    async fn refresh_capabilities(&self) -> Result<()> {
        self.refresh().await.map(drop)
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        self.status_now().await
    }

    async fn run(&self, command: Command) -> Result<()> {
        match command {
            Command::StartPrint(file) => self.start_file(&file).await.map(drop),
            Command::Pause => self.pause_with(PauseOptions::default()).await,
            Command::Resume => self.resume_job().await,
            Command::Cancel => self.cancel_job().await,
            Command::SetLight(on) => self.set_lights(on).await,
            Command::Jog(jog) => {
                let jog = jog.get();
                for (axis, mm) in [(Axis::X, jog.x), (Axis::Y, jog.y), (Axis::Z, jog.z)] {
                    if let Some(mm) = mm.filter(|mm| *mm != 0.0) {
                        self.move_axis(axis, mm).await?;
                    }
                }
                Ok(())
            }
            // The core refuses partial homing before this (`Limits::home_all_axes_only`).
            Command::Home(_) => self.home_all().await,
            Command::Extrude(e) => self.extrude_on(0, e.mm()).await,
            Command::SetTarget(t) => {
                let mut temps = Temperatures::default();
                match t.heater() {
                    Heater::Tool(n) => {
                        temps.tool = Some(t.celsius());
                        temps.tool_number = n;
                    }
                    Heater::Bed => temps.bed = Some(t.celsius()),
                    Heater::Chamber => temps.chamber = Some(t.celsius()),
                }
                self.set_temperatures(temps).await
            }
            other => Err(self.unsupported(other.feature())),
        }
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        self.files().await
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        Ok(self.webcam_snapshot(None).await?.snapshot)
    }
}
