//! RFC 3339 timestamps without a date-time dependency: alerts carry their time as text, and each
//! wire format wants it differently (epoch milliseconds for OCSF and CEF, epoch seconds for Splunk,
//! at most microseconds for RFC 5424).

use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    pub seconds: i64,
    pub nanos: u32,
}

impl Instant {
    pub fn now() -> Instant {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Instant {
                seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            Err(_) => Instant {
                seconds: 0,
                nanos: 0,
            },
        }
    }

    pub fn epoch_millis(self) -> i64 {
        self.seconds
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// `2026-05-01T10:00:00.123456Z`: UTC, microseconds when there is a fraction (RFC 5424 allows
    /// at most six digits), none otherwise.
    pub fn to_rfc3339_micros(self) -> String {
        let (date, hms) = civil(self.seconds);
        let micros = self.nanos / 1000;
        if micros == 0 {
            format!("{date}T{hms}Z")
        } else {
            format!("{date}T{hms}.{micros:06}Z")
        }
    }

    /// `2026-05-01T10:00:00.123456789Z`, the way Falco prints `time`.
    pub fn to_rfc3339_nanos(self) -> String {
        let (date, hms) = civil(self.seconds);
        format!("{date}T{hms}.{:09}Z", self.nanos)
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. `None` for anything else: callers fall back
/// to a format's "unknown" value rather than inventing a time.
pub fn parse_rfc3339(text: &str) -> Option<Instant> {
    let bytes = text.trim().as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = bytes.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let year = digits(0, 4)?;
    let month = digits(5, 2)?;
    let day = digits(8, 2)?;
    let hour = digits(11, 2)?;
    let minute = digits(14, 2)?;
    let second = digits(17, 2)?;
    if bytes.get(4) != Some(&b'-')
        || bytes.get(7) != Some(&b'-')
        || !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut nanos: u32 = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while let Some(digit) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(digit - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset_seconds = match bytes.get(at) {
        Some(b'Z' | b'z') if at + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) if at + 6 == bytes.len() && bytes.get(at + 3) == Some(&b':') => {
            let hours = digits(at + 1, 2)?;
            let minutes = digits(at + 4, 2)?;
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(Instant { seconds, nanos })
}

/// Howard Hinnant's days-from-civil: proleptic Gregorian date to days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse: `("YYYY-MM-DD", "HH:MM:SS")` for seconds since the epoch.
fn civil(seconds: i64) -> (String, String) {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            of_day / 3600,
            (of_day % 3600) / 60,
            of_day % 60
        ),
    )
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
    }
}
