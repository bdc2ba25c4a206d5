//! Alert times on top of [`palisade_core::time`]: alerts carry their time as text, and each wire
//! format wants it differently (epoch milliseconds for OCSF and CEF, epoch seconds for Splunk, at
//! most microseconds for RFC 5424).

use std::time::SystemTime;

use palisade_core::time::{self as core_time, Precision, Timestamp};

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    pub seconds: i64,
    pub nanos: u32,
}

impl Instant {
    pub fn now() -> Instant {
        Instant::from(Timestamp::from(SystemTime::now()))
    }

    pub fn epoch_millis(self) -> i64 {
        self.timestamp().unix_millis()
    }

    /// `2026-05-01T10:00:00.123456Z`: UTC, microseconds when there is a fraction (RFC 5424 allows
    /// at most six digits), none otherwise.
    pub fn to_rfc3339_micros(self) -> String {
        let timestamp = self.timestamp();
        let precision = if timestamp.subsec_nanos() / 1000 == 0 {
            Precision::Seconds
        } else {
            Precision::Micros
        };
        core_time::format_rfc3339(timestamp, precision)
    }

    /// `2026-05-01T10:00:00.123456789Z`, the way Falco prints `time`.
    pub fn to_rfc3339_nanos(self) -> String {
        core_time::format_rfc3339(self.timestamp(), Precision::Nanos)
    }

    fn timestamp(self) -> Timestamp {
        Timestamp::new(self.seconds, self.nanos)
    }
}

impl From<Timestamp> for Instant {
    fn from(time: Timestamp) -> Instant {
        Instant {
            seconds: time.seconds(),
            nanos: time.subsec_nanos(),
        }
    }
}

/// [`core_time::parse_rfc3339`] as an [`Instant`]. `None` for anything else: callers fall back to
/// a format's "unknown" value rather than inventing a time.
pub fn parse_rfc3339(text: &str) -> Option<Instant> {
    core_time::parse_rfc3339(text).map(Instant::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        let t = parse_rfc3339("2026-05-01T10:00:00.123456789Z").unwrap();
        assert_eq!(t.seconds, 1_777_629_600);
        assert_eq!(t.nanos, 123_456_789);
        let shifted = parse_rfc3339("2026-05-01T12:00:00+02:00").unwrap();
        assert_eq!(shifted.seconds, 1_777_629_600);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap().seconds, 0);
        assert_eq!(
            parse_rfc3339("2026-05-01T10:00:00.5Z").unwrap().nanos,
            500_000_000
        );
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "2026-05-01",
            "2026-13-01T00:00:00Z",
            "2026-05-01T10:00:00",
            "2026-05-01T10:00:00.Z",
            "2026-05-01T10:00:00Zjunk",
            "२०२६-05-01T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }

    #[test]
    fn formats_round_trip() {
        let t = parse_rfc3339("2024-02-29T23:59:59.000001Z").unwrap();
        assert_eq!(t.to_rfc3339_micros(), "2024-02-29T23:59:59.000001Z");
        assert_eq!(t.to_rfc3339_nanos(), "2024-02-29T23:59:59.000001000Z");
        assert_eq!(t.epoch_millis(), 1_709_251_199_000);
        let whole = parse_rfc3339("1999-12-31T00:00:00Z").unwrap();
        assert_eq!(whole.to_rfc3339_micros(), "1999-12-31T00:00:00Z");
        // Below a microsecond there is nothing RFC 5424 can show.
        let sub_micro = parse_rfc3339("1999-12-31T00:00:00.000000999Z").unwrap();
        assert_eq!(sub_micro.to_rfc3339_micros(), "1999-12-31T00:00:00Z");
    }
}
