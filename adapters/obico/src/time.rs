//! Obico's timestamps: DRF's RFC 3339 UTC strings (`2026-01-26T15:00:00.183920Z`), to and from
//! Unix seconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`) into Unix seconds
/// (fractions dropped). Returns `None` for anything else.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// Formats Unix seconds as DRF does for a whole second: `2026-01-01T00:00:05Z`.
#[cfg(any(test, feature = "mock"))]
pub fn format_iso8601(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_drf_timestamps() {
        assert_eq!(parse_iso8601("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(
            parse_iso8601("2026-01-26T15:00:00.183920Z"),
            Some(1_767_225_600 + 25 * 86_400 + 15 * 3600)
        );
        assert_eq!(
            parse_iso8601("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(format_iso8601(1_767_225_605), "2026-01-01T00:00:05Z");
        for t in [0, 951_782_400, 1_709_164_800, 1_767_225_600, 4_102_444_799] {
            assert_eq!(parse_iso8601(&format_iso8601(t)), Some(t));
        }
    }
}
