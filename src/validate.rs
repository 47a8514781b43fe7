//! Input validation, in one place, before anything is sent.
//!
//! Each checked value is a newtype with a private field: a [`Command`](crate::Command) can only
//! carry values that passed these checks, so an adapter never sees a bad one. Every rejection is
//! [`Error::InvalidArgument`] with a reason a person can act on.

use enumflags2::{bitflags, BitFlags};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::Heater;

/// A machine axis the print head moves along.
#[bitflags]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// X.
    X = 1,
    /// Y.
    Y = 2,
    /// Z.
    Z = 4,
}

/// A set of axes, e.g. for homing.
pub type Axes = BitFlags<Axis>;

impl Axis {
    /// `x`, `y` or `z`.
    pub fn letter(self) -> &'static str {
        match self {
            Axis::X => "x",
            Axis::Y => "y",
            Axis::Z => "z",
        }
    }
}

impl std::str::FromStr for Axis {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "x" => Ok(Axis::X),
            "y" => Ok(Axis::Y),
            "z" => Ok(Axis::Z),
            _ => Err(Error::invalid("axis", format!("{s:?} is not x, y or z"))),
        }
    }
}

/// The highest targets a printer accepts, °C. Adapters narrow these when their server says
/// what the printer allows; the defaults are conservative for common FDM printers.
///
/// ```
/// use polyprint::{Heater, Limits};
///
/// let mut limits = Limits::default();
/// limits.bed_max = 100.0; // what this printer's config allows
/// assert_eq!(limits.max_for(Heater::Bed), 100.0);
/// assert_eq!(limits.max_for(Heater::Tool(0)), 300.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Limits {
    /// Highest nozzle target.
    pub tool_max: f64,
    /// Highest bed target.
    pub bed_max: f64,
    /// Highest chamber target.
    pub chamber_max: f64,
    /// Longest single jog, mm.
    pub jog_max_mm: f64,
    /// Longest single extrusion or retraction, mm.
    pub extrude_max_mm: f64,
    /// The printer homes X, Y and Z together only (a request for some axes is refused).
    pub home_all_axes_only: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tool_max: 300.0,
            bed_max: 120.0,
            chamber_max: 80.0,
            jog_max_mm: 300.0,
            extrude_max_mm: 100.0,
            home_all_axes_only: false,
        }
    }
}

impl Limits {
    /// The highest target for one heater.
    pub fn max_for(&self, heater: Heater) -> f64 {
        match heater {
            Heater::Tool(_) => self.tool_max,
            Heater::Bed => self.bed_max,
            Heater::Chamber => self.chamber_max,
        }
    }
}

fn check_text(what: &str, s: &str, max_len: usize) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::invalid(what, "must not be empty"));
    }
    if s.len() > max_len {
        return Err(Error::invalid(
            what,
            format!("is {} bytes long, the limit is {max_len}", s.len()),
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        let reason = match c {
            '\n' | '\r' => "must not contain a line break".to_string(),
            _ => format!("must not contain control character U+{:04X}", c as u32),
        };
        return Err(Error::invalid(what, reason));
    }
    Ok(())
}

/// A stored file's path on the printer's host: relative, no `..`, no empty segments, no
/// backslashes, no control characters or line breaks, at most 255 bytes.
///
/// ```
/// use polyprint::validate::FileName;
///
/// let name = FileName::parse("parts/bracket.gcode")?;
/// assert_eq!(name.base_name(), "bracket.gcode");
/// assert_eq!(name.extension().as_deref(), Some("gcode"));
/// // Refused before anything is sent: escaping the storage, absolute paths, line breaks.
/// assert!(FileName::parse("../escape.gcode").is_err());
/// assert!(FileName::parse("/etc/passwd").is_err());
/// assert!(FileName::parse("cube.gcode\nM112").is_err());
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileName(String);

impl FileName {
    /// Checks a path.
    pub fn parse(path: &str) -> Result<FileName> {
        const WHAT: &str = "file name";
        check_text(WHAT, path, 255)?;
        if path.starts_with('/') {
            return Err(Error::invalid(WHAT, "must be relative, not start with '/'"));
        }
        if path.contains('\\') {
            return Err(Error::invalid(WHAT, "must not contain '\\'"));
        }
        for segment in path.split('/') {
            match segment {
                "" => return Err(Error::invalid(WHAT, "must not contain empty segments")),
                "." | ".." => {
                    return Err(Error::invalid(
                        WHAT,
                        "must not contain '.' or '..' segments",
                    ))
                }
                s if s.trim() != s => {
                    return Err(Error::invalid(
                        WHAT,
                        "segments must not start or end with spaces",
                    ))
                }
                _ => {}
            }
        }
        Ok(FileName(path.to_string()))
    }

    /// The whole path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn base_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The extension of the last segment, lower-cased, without the dot.
    pub fn extension(&self) -> Option<String> {
        let base = self.base_name();
        let (stem, ext) = base.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
    }
}

impl std::fmt::Display for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A heater target that is finite, not negative, and within the printer's [`Limits`].
/// 0 switches the heater off.
///
/// ```
/// use polyprint::validate::HeaterTarget;
/// use polyprint::{ErrorKind, Heater, Limits};
///
/// let limits = Limits::default();
/// let target = HeaterTarget::new(Heater::Bed, 60.0, &limits)?;
/// assert_eq!(target.celsius(), 60.0);
/// for bad in [f64::NAN, -5.0, 500.0] {
///     let err = HeaterTarget::new(Heater::Bed, bad, &limits).unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::InvalidArgument);
/// }
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeaterTarget {
    heater: Heater,
    celsius: f64,
}

impl HeaterTarget {
    /// Checks a target against limits.
    pub fn new(heater: Heater, celsius: f64, limits: &Limits) -> Result<HeaterTarget> {
        let what = format!("{heater} target");
        if !celsius.is_finite() {
            return Err(Error::invalid(what, "must be a finite number"));
        }
        if celsius < 0.0 {
            return Err(Error::invalid(
                what,
                format!("{celsius} °C is negative; use 0 to switch the heater off"),
            ));
        }
        let max = limits.max_for(heater);
        if celsius > max {
            return Err(Error::invalid(
                what,
                format!("{celsius} °C is above this printer's limit of {max} °C"),
            ));
        }
        if let Heater::Tool(n) = heater {
            if n > 15 {
                return Err(Error::invalid(what, "tool index must be 0 to 15"));
            }
        }
        Ok(HeaterTarget { heater, celsius })
    }

    /// The heater.
    pub fn heater(&self) -> Heater {
        self.heater
    }

    /// The target, °C.
    pub fn celsius(&self) -> f64 {
        self.celsius
    }
}

/// A relative move of the print head, as asked for. Checked into a [`JogMove`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Jog {
    /// mm along X.
    pub x: Option<f64>,
    /// mm along Y.
    pub y: Option<f64>,
    /// mm along Z.
    pub z: Option<f64>,
    /// Feed rate, mm/min.
    pub speed: Option<f64>,
}

impl Jog {
    /// A move along one axis.
    pub fn along(axis: Axis, mm: f64) -> Jog {
        let mut jog = Jog::default();
        match axis {
            Axis::X => jog.x = Some(mm),
            Axis::Y => jog.y = Some(mm),
            Axis::Z => jog.z = Some(mm),
        }
        jog
    }
}

/// A checked [`Jog`]: at least one axis moves, every distance finite and within
/// [`Limits::jog_max_mm`], speed positive and at most 30 000 mm/min.
///
/// ```
/// use polyprint::validate::JogMove;
/// use polyprint::{Axis, Jog, Limits};
///
/// let limits = Limits::default();
/// let checked = JogMove::new(Jog::along(Axis::Z, 5.0), &limits)?;
/// assert_eq!(checked.get().z, Some(5.0));
/// assert!(JogMove::new(Jog::along(Axis::X, 10_000.0), &limits).is_err());
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JogMove(Jog);

impl JogMove {
    /// The fastest feed rate accepted, mm/min.
    pub const MAX_SPEED: f64 = 30_000.0;

    /// Checks a jog.
    pub fn new(jog: Jog, limits: &Limits) -> Result<JogMove> {
        let mut moves = 0;
        for (axis, value) in [("x", jog.x), ("y", jog.y), ("z", jog.z)] {
            let Some(mm) = value else { continue };
            let what = format!("{axis} distance");
            if !mm.is_finite() {
                return Err(Error::invalid(what, "must be a finite number"));
            }
            if mm.abs() > limits.jog_max_mm {
                return Err(Error::invalid(
                    what,
                    format!("{mm} mm is beyond the limit of ±{} mm", limits.jog_max_mm),
                ));
            }
            if mm != 0.0 {
                moves += 1;
            }
        }
        if moves == 0 {
            return Err(Error::invalid("jog", "at least one axis must move"));
        }
        if let Some(speed) = jog.speed {
            if !speed.is_finite() || speed <= 0.0 || speed > Self::MAX_SPEED {
                return Err(Error::invalid(
                    "jog speed",
                    format!(
                        "{speed} mm/min must be above 0 and at most {}",
                        Self::MAX_SPEED
                    ),
                ));
            }
        }
        Ok(JogMove(jog))
    }

    /// The move, as checked.
    pub fn get(&self) -> Jog {
        self.0
    }
}

/// A checked extrusion: finite, not zero, within [`Limits::extrude_max_mm`]. Negative retracts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extrusion(f64);

impl Extrusion {
    /// Checks an amount in mm.
    pub fn new(mm: f64, limits: &Limits) -> Result<Extrusion> {
        if !mm.is_finite() || mm == 0.0 {
            return Err(Error::invalid(
                "extrusion",
                "must be a finite, non-zero length in mm",
            ));
        }
        if mm.abs() > limits.extrude_max_mm {
            return Err(Error::invalid(
                "extrusion",
                format!(
                    "{mm} mm is beyond the limit of ±{} mm",
                    limits.extrude_max_mm
                ),
            ));
        }
        Ok(Extrusion(mm))
    }

    /// mm; negative retracts.
    pub fn mm(&self) -> f64 {
        self.0
    }
}

/// Checked G-code: 1 to 100 lines, each non-blank, at most 256 bytes, printable ASCII only
/// (space to `~`): no line break or other control character smuggled inside (one line is one
/// command), and no character a firmware's parser may take apart byte by byte (`M117 Grüße`
/// is refused; write `M117 Gruesse`).
///
/// ```
/// use polyprint::validate::GcodeBatch;
///
/// let batch = GcodeBatch::new(&["G28", "M117 Hello"])?;
/// assert_eq!(batch.lines().len(), 2);
/// // One line is one command: nothing can be smuggled inside a line.
/// assert!(GcodeBatch::new(&["M117 hi\nM112"]).is_err());
/// assert!(GcodeBatch::new::<&str>(&[]).is_err());
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcodeBatch(Vec<String>);

impl GcodeBatch {
    /// The most lines one batch may carry.
    pub const MAX_LINES: usize = 100;

    /// Checks lines.
    pub fn new<S: AsRef<str>>(lines: &[S]) -> Result<GcodeBatch> {
        if lines.is_empty() {
            return Err(Error::invalid("G-code", "give at least one line"));
        }
        if lines.len() > Self::MAX_LINES {
            return Err(Error::invalid(
                "G-code",
                format!(
                    "{} lines given, at most {} at once; upload a file instead",
                    lines.len(),
                    Self::MAX_LINES
                ),
            ));
        }
        let mut out = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let line = line.as_ref();
            let what = format!("G-code line {}", i + 1);
            check_text(&what, line, 256)?;
            if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(Error::invalid(
                    what,
                    format!(
                        "only printable ASCII goes to the firmware; found U+{:04X}",
                        c as u32
                    ),
                ));
            }
            out.push(line.trim().to_string());
        }
        Ok(GcodeBatch(out))
    }

    /// The lines.
    pub fn lines(&self) -> &[String] {
        &self.0
    }
}

/// Checks home axes: at least one, and all three where the printer homes them only together
/// ([`Limits::home_all_axes_only`]).
pub fn home_axes(axes: Axes, limits: &Limits) -> Result<Axes> {
    if axes.is_empty() {
        return Err(Error::invalid("home axes", "name at least one of x, y, z"));
    }
    if limits.home_all_axes_only && axes != Axes::all() {
        return Err(Error::invalid(
            "home axes",
            "this printer homes x, y and z together only; ask for all three",
        ));
    }
    Ok(axes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let good = ["a.gcode", "dir/my test (1).gcode", "ünï.bgcode"];
        for name in good {
            assert!(FileName::parse(name).is_ok(), "{name}");
        }
        let bad = [
            "",
            "   ",
            "../etc/passwd",
            "a/../b.gcode",
            "/abs.gcode",
            "a\\b.gcode",
            "a\nb.gcode",
            "a\rb.gcode",
            "nul\0.gcode",
            "a//b.gcode",
            "./a.gcode",
            " lead.gcode",
        ];
        for name in bad {
            let err = FileName::parse(name).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument { .. }), "{name:?}");
        }
        assert!(FileName::parse(&"x".repeat(256)).is_err());
        let f = FileName::parse("dir/Part.GCODE").unwrap();
        assert_eq!(f.base_name(), "Part.GCODE");
        assert_eq!(f.extension().as_deref(), Some("gcode"));
        assert_eq!(FileName::parse(".hidden").unwrap().extension(), None);
    }

    #[test]
    fn heater_targets() {
        let l = Limits::default();
        assert!(HeaterTarget::new(Heater::Tool(0), 0.0, &l).is_ok());
        assert!(HeaterTarget::new(Heater::Tool(0), 300.0, &l).is_ok());
        for (h, t) in [
            (Heater::Tool(0), -1.0),
            (Heater::Tool(0), f64::NAN),
            (Heater::Tool(0), f64::INFINITY),
            (Heater::Tool(0), 300.5),
            (Heater::Bed, 121.0),
            (Heater::Chamber, 90.0),
            (Heater::Tool(16), 200.0),
        ] {
            assert!(HeaterTarget::new(h, t, &l).is_err(), "{h} {t}");
        }
        let tight = Limits {
            tool_max: 250.0,
            ..Limits::default()
        };
        assert!(HeaterTarget::new(Heater::Tool(0), 260.0, &tight).is_err());
    }

    #[test]
    fn jogs_and_extrusion() {
        let l = Limits::default();
        assert!(JogMove::new(Jog::along(Axis::X, 10.0), &l).is_ok());
        assert!(JogMove::new(Jog::default(), &l).is_err());
        assert!(JogMove::new(Jog::along(Axis::Z, 0.0), &l).is_err());
        assert!(JogMove::new(Jog::along(Axis::Y, f64::NAN), &l).is_err());
        assert!(JogMove::new(Jog::along(Axis::Y, 1e6), &l).is_err());
        let fast = Jog {
            speed: Some(-1.0),
            ..Jog::along(Axis::X, 1.0)
        };
        assert!(JogMove::new(fast, &l).is_err());
        assert!(Extrusion::new(5.0, &l).is_ok());
        assert!(Extrusion::new(-2.0, &l).is_ok());
        assert!(Extrusion::new(0.0, &l).is_err());
        assert!(Extrusion::new(1000.0, &l).is_err());
        assert!(home_axes(Axes::empty(), &l).is_err());
        assert!(home_axes(Axis::X.into(), &l).is_ok());
        let together = Limits {
            home_all_axes_only: true,
            ..Limits::default()
        };
        assert!(home_axes(Axis::X | Axis::Y, &together).is_err());
        assert!(home_axes(Axes::all(), &together).is_ok());
        assert_eq!("Y".parse::<Axis>().unwrap(), Axis::Y);
        assert!("e".parse::<Axis>().is_err());
    }

    #[test]
    fn gcode_lines() {
        assert_eq!(
            GcodeBatch::new(&["G28", " M105 "]).unwrap().lines()[1],
            "M105"
        );
        let empty: [&str; 0] = [];
        assert!(GcodeBatch::new(&empty).is_err());
        assert!(GcodeBatch::new(&["G28\nM104 S300"]).is_err());
        assert!(GcodeBatch::new(&["G28\rM104"]).is_err());
        assert!(GcodeBatch::new(&[""]).is_err());
        assert!(GcodeBatch::new(&["M117 \u{1b}[2J"]).is_err());
        let err = GcodeBatch::new(&["M117 Grüße"]).unwrap_err();
        assert!(err.to_string().contains("U+00FC"), "{err}");
        assert!(GcodeBatch::new(&["M117 \u{202E}evil"]).is_err());
        assert!(GcodeBatch::new(&["M117 ok ~!@#$%^&*()"]).is_ok());
        assert!(GcodeBatch::new(&vec!["M105"; 101]).is_err());
        assert!(GcodeBatch::new(&["G1 ".to_string() + &"X1 ".repeat(100)]).is_err());
    }
}
