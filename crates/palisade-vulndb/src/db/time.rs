//! The database's view of [`palisade_core::time`]: records order by `modified` as a plain
//! `(seconds, nanos)` pair, staleness compares the last import with the caller's clock, and the CLI
//! needs "now" in the same form.

use std::time::SystemTime;

use palisade_core::time::{self as core_time, Precision, Timestamp};

/// Seconds and nanoseconds since the Unix epoch (seconds negative before 1970: golang/vulndb
/// writes the zero time `0001-01-01T00:00:00Z`).
pub(crate) type Instant = (i64, u32);

/// [`core_time::parse_rfc3339`] as an [`Instant`]. `None` when it is not a valid timestamp.
pub(crate) fn parse_rfc3339(text: &str) -> Option<Instant> {
    core_time::parse_rfc3339(text).map(|time| (time.seconds(), time.subsec_nanos()))
}

/// `time` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds): what the CLI passes as `now`.
pub fn format_rfc3339(time: SystemTime) -> String {
    core_time::format_rfc3339(Timestamp::from(time), Precision::Seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn parses_what_osv_producers_write() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2024-03-01T10:00:00.5Z"),
            Some((1_709_287_200, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T12:00:00+02:00"),
            parse_rfc3339("2024-03-01T10:00:00Z")
        );
        // golang/vulndb's zero time.
        assert_eq!(
            parse_rfc3339("0001-01-01T00:00:00Z"),
            Some((-62_135_596_800, 0))
        );
        assert!(parse_rfc3339("2024-02-30T00:00:00Z").is_none());
        assert!(parse_rfc3339("2024-03-01").is_none());
        assert!(parse_rfc3339("2024-03-01T10:00:00").is_none());
        assert!(parse_rfc3339("2024-03-01T10:00:00.Z").is_none());
        assert!(parse_rfc3339("2024-03-01T25:00:00Z").is_none());
        assert!(parse_rfc3339("").is_none());
        // Fractions order correctly against whole seconds (a string compare would not).
        assert!(parse_rfc3339("2024-03-01T10:00:00.1Z") > parse_rfc3339("2024-03-01T10:00:00Z"));
    }

    #[test]
    fn formats_round_trip() {
        let time = UNIX_EPOCH + Duration::from_secs(1_709_287_200);
        assert_eq!(format_rfc3339(time), "2024-03-01T10:00:00Z");
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339(&format_rfc3339(time)),
            Some((1_709_287_200, 0))
        );
    }
}
