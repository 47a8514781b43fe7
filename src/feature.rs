//! Capability flags: what a printer behind a given backend can do.
//!
//! [`Feature`] is an `enumflags2` bit set over `u32`. The first six bits carry the same values as
//! OctoEverywhere's `Features` integer, so [`Features::bits`](enumflags2::BitFlags::bits) of a
//! set made only of those reads the same number OctoEverywhere reports. Ours start at 64.
//! Every action of the [`Printer`](crate::Printer) trait belongs to exactly one flag.

use enumflags2::{bitflags, BitFlags};

/// One capability. See the module docs for the numbering.
#[bitflags]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Switch lights on and off (OctoEverywhere `LightControl`, 1).
    LightControl = 1 << 0,
    /// Jog the print head (OctoEverywhere `AxisMovement`, 2).
    AxisMovement = 1 << 1,
    /// Home axes (OctoEverywhere `Homing`, 4).
    Homing = 1 << 2,
    /// Extrude or retract filament (OctoEverywhere `Extrusion`, 8).
    Extrusion = 1 << 3,
    /// Set heater targets (OctoEverywhere `TemperatureControl`, 16).
    TemperatureControl = 1 << 4,
    /// Start a print of a stored file (OctoEverywhere `PrintStart`, 32).
    PrintStart = 1 << 5,
    /// Pause and resume the running job.
    PauseResume = 1 << 6,
    /// Cancel the running job.
    Cancel = 1 << 7,
    /// List stored files.
    FileList = 1 << 8,
    /// Upload a file.
    FileUpload = 1 << 9,
    /// Delete a stored file.
    FileDelete = 1 << 10,
    /// Take a webcam snapshot.
    WebcamSnapshot = 1 << 11,
    /// Send raw G-code.
    GCode = 1 << 12,
    /// Cancel one object of the running job.
    ObjectCancel = 1 << 13,
    /// The backend scores the print for failures.
    FailureDetection = 1 << 14,
    /// Read the history of past jobs.
    JobHistory = 1 << 15,
    /// Read and fill a print queue.
    PrintQueue = 1 << 16,
    /// Connect the host to its printer and disconnect it.
    ConnectionControl = 1 << 17,
    /// The server pushes status over a live connection
    /// ([`Printer::status_feed`](crate::Printer::status_feed)); without it,
    /// [`watch`](crate::watch::watch) polls.
    StatusPush = 1 << 18,
}

/// A set of [`Feature`]s.
pub type Features = BitFlags<Feature>;

impl Feature {
    /// Every feature, in bit order.
    pub fn all() -> impl Iterator<Item = Feature> {
        Features::all().iter()
    }

    /// The stable snake_case name used in JSON, the CLI and error messages.
    ///
    /// ```
    /// use polyprint::Feature;
    ///
    /// assert_eq!(Feature::PauseResume.name(), "pause_resume");
    /// assert_eq!(Feature::from_name("pause_resume"), Some(Feature::PauseResume));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Feature::LightControl => "light_control",
            Feature::AxisMovement => "axis_movement",
            Feature::Homing => "homing",
            Feature::Extrusion => "extrusion",
            Feature::TemperatureControl => "temperature_control",
            Feature::PrintStart => "print_start",
            Feature::PauseResume => "pause_resume",
            Feature::Cancel => "cancel",
            Feature::FileList => "file_list",
            Feature::FileUpload => "file_upload",
            Feature::FileDelete => "file_delete",
            Feature::WebcamSnapshot => "webcam_snapshot",
            Feature::GCode => "g_code",
            Feature::ObjectCancel => "object_cancel",
            Feature::FailureDetection => "failure_detection",
            Feature::JobHistory => "job_history",
            Feature::PrintQueue => "print_queue",
            Feature::ConnectionControl => "connection_control",
            Feature::StatusPush => "status_push",
        }
    }

    /// Parses a name as written by [`Feature::name`].
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::all().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_six_bits_match_octoeverywhere() {
        let table = [
            (Feature::LightControl, 1),
            (Feature::AxisMovement, 2),
            (Feature::Homing, 4),
            (Feature::Extrusion, 8),
            (Feature::TemperatureControl, 16),
            (Feature::PrintStart, 32),
        ];
        for (feature, bits) in table {
            assert_eq!(feature as u32, bits, "{feature}");
        }
        // OctoEverywhere's Moonraker host reports 63: all six.
        let oe = Features::from_bits(63).unwrap();
        assert_eq!(oe.len(), 6);
        assert!(!oe.contains(Feature::PauseResume));
    }

    #[test]
    fn ours_start_at_64_and_names_round_trip() {
        let ours: Vec<Feature> = Feature::all().skip(6).collect();
        assert_eq!(ours[0] as u32, 64);
        for f in Feature::all() {
            assert_eq!(Feature::from_name(f.name()), Some(f));
        }
        assert_eq!(Feature::from_name("nope"), None);
    }
}
