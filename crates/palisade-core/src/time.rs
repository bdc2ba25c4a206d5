//! RFC 3339 timestamps and proleptic Gregorian dates without a date-time dependency: the one parser
//! and formatter every Palisade crate uses, so a timestamp accepted by the advisory database is
//! accepted by the audit reader and the alert formats too.
//!
//! Pure: nothing here reads the clock. Callers turn their own [`SystemTime`] into a [`Timestamp`].
//!
//! What [`parse_rfc3339`] accepts is the RFC 3339 §5.6 `date-time` grammar:
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, with `t` and `z` in either case (§5.6 NOTE),
//! years `0000`..=`9999`, days checked against the month's length, and second `60` (a leap second)
//! at any minute. Not accepted: a space for `T`, surrounding whitespace, offset hours above 23.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

const NANOS_PER_SECOND: u32 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 (the start of Hinnant's era-aligned year) to 1970-01-01.
const EPOCH_SHIFT: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;

/// A point in time: whole seconds since 1970-01-01T00:00:00Z (negative before) and the nanoseconds
/// after that second, always below one second. Seconds rather than one nanosecond count so that
/// dates far from 1970 fit: golang/vulndb writes the zero time `0001-01-01T00:00:00Z`, which is
/// outside the ±292 years an `i64` of nanoseconds can hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        seconds: 0,
        nanos: 0,
    };

    /// `seconds` since the epoch plus `nanos`; whole seconds in `nanos` carry into `seconds`
    /// (saturating), as [`std::time::Duration::new`] does.
    pub fn new(seconds: i64, nanos: u32) -> Timestamp {
        Timestamp {
            seconds: seconds.saturating_add(i64::from(nanos / NANOS_PER_SECOND)),
            nanos: nanos % NANOS_PER_SECOND,
        }
    }

    /// Nanoseconds since the epoch, negative before it.
    pub fn from_unix_nanos(nanos: i64) -> Timestamp {
        let per_second = i64::from(NANOS_PER_SECOND);
        Timestamp {
            seconds: nanos.div_euclid(per_second),
            // rem_euclid of a positive divisor is in 0..1e9, which fits.
            nanos: u32::try_from(nanos.rem_euclid(per_second)).unwrap_or(0),
        }
    }

    /// Whole seconds since the epoch, rounded towards the past (so `-0.5s` is `-1` and 5e8 nanos).
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// Nanoseconds after [`Self::seconds`], in `0..1_000_000_000`.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the epoch; `None` outside the years 1677..=2262 an `i64` can hold.
    pub fn unix_nanos(self) -> Option<i64> {
        let per_second = i64::from(NANOS_PER_SECOND);
        // Before the epoch, count from the next second down so the earliest representable
        // nanosecond does not overflow on the way.
        let (seconds, nanos) = if self.seconds < 0 && self.nanos > 0 {
            (self.seconds + 1, i64::from(self.nanos) - per_second)
        } else {
            (self.seconds, i64::from(self.nanos))
        };
        seconds.checked_mul(per_second)?.checked_add(nanos)
    }

    /// Milliseconds since the epoch (sub-millisecond part dropped), saturating at the `i64` range.
    pub fn unix_millis(self) -> i64 {
        self.seconds
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }
}

impl From<SystemTime> for Timestamp {
    /// Exact for any `SystemTime` within ±2^63 seconds of the epoch, saturating beyond.
    fn from(time: SystemTime) -> Timestamp {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp {
                seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                nanos: after.subsec_nanos(),
            },
            Err(before) => {
                let before = before.duration();
                let seconds = i64::try_from(before.as_secs()).map_or(i64::MIN, |s| -s);
                match before.subsec_nanos() {
                    0 => Timestamp { seconds, nanos: 0 },
                    // 1.25s before the epoch is 2 seconds before plus 0.75s.
                    nanos => Timestamp {
                        seconds: seconds.saturating_sub(1),
                        nanos: NANOS_PER_SECOND - nanos,
                    },
                }
            }
        }
    }
}

/// How many fraction digits [`format_rfc3339`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-11-27T00:26:36Z`
    Seconds,
    /// `2026-11-27T00:26:36.123Z`
    Millis,
    /// `2026-11-27T00:26:36.123456Z`
    Micros,
    /// `2026-11-27T00:26:36.123456789Z`
    Nanos,
}

/// Parses an RFC 3339 `date-time` (see the module documentation for exactly what is accepted).
/// Fraction digits past nanoseconds are accepted and dropped, since RFC 3339 allows any number of
/// them. `None` for anything else, never a guessed time.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    // The fixed-width head, matched in one pattern: this runs once per audit event.
    let Some(
        &[
            y1,
            y2,
            y3,
            y4,
            b'-',
            mo1,
            mo2,
            b'-',
            d1,
            d2,
            b'T' | b't',
            h1,
            h2,
            b':',
            mi1,
            mi2,
            b':',
            s1,
            s2,
        ],
    ) = bytes.get(..19)
    else {
        return None;
    };
    let year = two_digits(y1, y2)? * 100 + two_digits(y3, y4)?;
    let month = two_digits(mo1, mo2)?;
    let day = two_digits(d1, d2)?;
    let hour = two_digits(h1, h2)?;
    let minute = two_digits(mi1, mi2)?;
    let second = two_digits(s1, s2)?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut rest = bytes.get(19..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        let (digits, after) = fraction.split_at(count);
        let mut scale = NANOS_PER_SECOND;
        for &digit in digits.iter().take(9) {
            scale /= 10;
            nanos += u32::from(digit - b'0') * scale;
        }
        rest = after;
    }

    let offset_seconds = match *rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (two_digits(h1, h2)?, two_digits(m1, m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = i64::from(hours * 3600 + minutes * 60);
            if sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };

    // Four-digit years keep every term far inside i64.
    let days = days_from_civil(i32::try_from(year).ok()?, month, day);
    let seconds =
        days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Some(Timestamp { seconds, nanos })
}

/// [`parse_rfc3339`] as nanoseconds since the epoch: `None` also when the time is outside the
/// years 1677..=2262 an `i64` of nanoseconds can hold.
pub fn parse_rfc3339_nanos(text: &str) -> Option<i64> {
    parse_rfc3339(text)?.unix_nanos()
}

/// `time` in UTC as `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with the fraction `precision` asks for
/// (truncated, not rounded, so a formatted time is never later than the time itself). Years
/// outside 0..=9999 are written with more digits or a sign, which is no longer RFC 3339.
pub fn format_rfc3339(time: Timestamp, precision: Precision) -> String {
    let (year, month, day) = civil_from_days(time.seconds.div_euclid(SECONDS_PER_DAY));
    let of_day = time.seconds.rem_euclid(SECONDS_PER_DAY);
    let mut text = String::with_capacity(32);
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    let _ = match precision {
        Precision::Seconds => Ok(()),
        Precision::Millis => write!(text, ".{:03}", time.nanos / 1_000_000),
        Precision::Micros => write!(text, ".{:06}", time.nanos / 1_000),
        Precision::Nanos => write!(text, ".{:09}", time.nanos),
    };
    text.push('Z');
    text
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// `month` is 1..=12 and `day` 1..=31; other values extrapolate rather than fail.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    // Years start in March so the leap day is the last day of the year.
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT
}

/// `(year, month, day)` of a count of days since 1970-01-01, the inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Saturating only matters within 719 468 days of i64::MAX, which no timestamp reaches.
    let days = days.saturating_add(EPOCH_SHIFT);
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days.rem_euclid(DAYS_PER_ERA);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn two_digits(tens: u8, ones: u8) -> Option<u32> {
    let (tens, ones) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: i64, nanos: u32) -> Option<Timestamp> {
        Some(Timestamp::new(seconds, nanos))
    }

    #[test]
    fn known_epoch_values() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), at(0, 0));
        // `date -u -d 2000-02-29 +%s`
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), at(951_782_400, 0));
        assert_eq!(parse_rfc3339("2024-03-01T10:00:00Z"), at(1_709_287_200, 0));
        assert_eq!(
            parse_rfc3339("2038-01-19T03:14:07Z"),
            at(i64::from(i32::MAX), 0)
        );
        assert_eq!(
            parse_rfc3339("0001-01-01T00:00:00Z"),
            at(-62_135_596_800, 0)
        );
        assert_eq!(
            parse_rfc3339("0000-01-01T00:00:00Z"),
            at(-62_167_219_200, 0)
        );
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59Z"),
            at(253_402_300_799, 0)
        );
        assert_eq!(
            parse_rfc3339_nanos("2026-11-26T16:36:32.975400Z"),
            Some(1_795_710_992_975_400_000)
        );
    }

    #[test]
    fn offsets_and_case() {
        let utc = parse_rfc3339("2026-05-01T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-05-01T12:00:00+02:00"), utc);
        assert_eq!(parse_rfc3339("2026-05-01T04:30:00-05:30"), utc);
        assert_eq!(parse_rfc3339("2026-05-01T10:00:00+00:00"), utc);
        assert_eq!(parse_rfc3339("2026-05-01T10:00:00-00:00"), utc);
        assert_eq!(parse_rfc3339("2026-05-01t10:00:00z"), utc);
        assert_eq!(parse_rfc3339("2026-05-02T09:59:00+23:59"), utc);
        // An offset can move the date across a year boundary.
        assert_eq!(
            parse_rfc3339("1999-12-31T23:00:00-02:00"),
            parse_rfc3339("2000-01-01T01:00:00Z")
        );
    }

    #[test]
    fn fractions() {
        let whole = 1_777_629_600;
        assert_eq!(
            parse_rfc3339("2026-05-01T10:00:00.5Z"),
            at(whole, 500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-05-01T10:00:00.000001Z"),
            at(whole, 1_000)
        );
        assert_eq!(
            parse_rfc3339("2026-05-01T10:00:00.123456789Z"),
            at(whole, 123_456_789)
        );
        // Past nanoseconds, digits are accepted and dropped (not rounded).
        assert_eq!(
            parse_rfc3339("2026-05-01T10:00:00.1234567899999Z"),
            at(whole, 123_456_789)
        );
        assert_eq!(
            parse_rfc3339("2026-05-01T12:00:00.25+02:00"),
            at(whole, 250_000_000)
        );
        // A fraction orders after the whole second, which a string comparison would not show.
        assert!(parse_rfc3339("2026-05-01T10:00:00.1Z") > parse_rfc3339("2026-05-01T10:00:00Z"));
    }

    #[test]
    fn negative_times() {
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), at(-1, 500_000_000));
        assert_eq!(
            parse_rfc3339_nanos("1969-12-31T23:59:59.5Z"),
            Some(-500_000_000)
        );
        assert_eq!(
            Timestamp::from_unix_nanos(-500_000_000),
            Timestamp::new(-1, 500_000_000)
        );
        assert_eq!(
            format_rfc3339(Timestamp::from_unix_nanos(-1), Precision::Nanos),
            "1969-12-31T23:59:59.999999999Z"
        );
        assert_eq!(
            format_rfc3339(Timestamp::new(-62_135_596_800, 0), Precision::Seconds),
            "0001-01-01T00:00:00Z"
        );
        let before = UNIX_EPOCH - Duration::from_millis(1_250);
        assert_eq!(Timestamp::from(before), Timestamp::new(-2, 750_000_000));
        assert_eq!(Timestamp::from(before).unix_millis(), -1_250);
        assert_eq!(
            Timestamp::from(UNIX_EPOCH - Duration::from_secs(3)),
            Timestamp::new(-3, 0)
        );
    }

    #[test]
    fn nanoseconds_only_within_i64() {
        assert_eq!(parse_rfc3339_nanos("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_nanos("9999-12-31T23:59:59Z"), None);
        assert_eq!(
            parse_rfc3339_nanos("2262-04-11T23:47:16.854775807Z"),
            Some(i64::MAX)
        );
        assert_eq!(parse_rfc3339_nanos("2262-04-11T23:47:16.854775808Z"), None);
        assert_eq!(
            parse_rfc3339_nanos("1677-09-21T00:12:43.145224192Z"),
            Some(i64::MIN)
        );
    }

    #[test]
    fn bounds() {
        // The leap second is accepted, at any minute, as every earlier parser did.
        assert_eq!(
            parse_rfc3339("2016-12-31T23:59:60Z"),
            parse_rfc3339("2017-01-01T00:00:00Z")
        );
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
        for bad in [
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-13-10T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-01-01T23:59:61Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+01:60",
            "10000-01-01T00:00:00Z",
            "-001-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "garbage",
            "2024-03-01",
            "2024-03-01T10:00:00",
            "2024-03-01T10:00Z",
            "2024-03-01T10:00:00.Z",
            "2024-03-01T10:00:00.5",
            "2024-03-01T10:00:00ZZ",
            "2024-03-01T10:00:00Zjunk",
            "2024-03-01T10:00:00+0200",
            "2024-03-01T10:00:00+02",
            "2024-03-01T10:00:00+02:00:00",
            "2024-03-01T10:00:00 Z",
            "2024-03-01 10:00:00Z",
            " 2024-03-01T10:00:00Z",
            "2024-03-01T10:00:00Z\n",
            "2024/03/01T10:00:00Z",
            "2024-3-01T10:00:00Z",
            "+024-03-01T10:00:00Z",
            "२०२६-05-01T10:00:00Z",
            "2024-03-01T10:00:00.५Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_every_precision() {
        let time = Timestamp::new(1_795_739_196, 123_456_789);
        assert_eq!(
            format_rfc3339(time, Precision::Seconds),
            "2026-11-27T00:26:36Z"
        );
        assert_eq!(
            format_rfc3339(time, Precision::Millis),
            "2026-11-27T00:26:36.123Z"
        );
        assert_eq!(
            format_rfc3339(time, Precision::Micros),
            "2026-11-27T00:26:36.123456Z"
        );
        assert_eq!(
            format_rfc3339(time, Precision::Nanos),
            "2026-11-27T00:26:36.123456789Z"
        );
        assert_eq!(
            format_rfc3339(Timestamp::new(951_782_400, 5_000_000), Precision::Millis),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(
            format_rfc3339(Timestamp::UNIX_EPOCH, Precision::Millis),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn round_trips() {
        for text in [
            "0000-01-01T00:00:00.000000000Z",
            "0001-01-01T00:00:00.000000000Z",
            "1969-12-31T23:59:59.999999999Z",
            "1970-01-01T00:00:00.000000001Z",
            "2000-02-29T12:34:56.789000000Z",
            "2026-11-26T16:36:32.975400000Z",
            "9999-12-31T23:59:59.999999999Z",
        ] {
            let time = parse_rfc3339(text);
            assert_eq!(
                time.map(|t| format_rfc3339(t, Precision::Nanos)).as_deref(),
                Some(text)
            );
            if let Some(nanos) = time.and_then(Timestamp::unix_nanos) {
                assert_eq!(Some(Timestamp::from_unix_nanos(nanos)), time);
            }
        }
        for days in [
            -719_528_i64,
            -719_162,
            -1,
            0,
            59,
            11_016,
            19_782,
            20_783,
            2_932_896,
        ] {
            let (year, month, day) = civil_from_days(days);
            let year = i32::try_from(year).unwrap_or(i32::MAX);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
        assert_eq!(civil_from_days(-719_528), (0, 1, 1));
    }

    #[test]
    fn system_time_and_millis() {
        let time = UNIX_EPOCH + Duration::new(1_709_287_200, 123_456_789);
        let stamp = Timestamp::from(time);
        assert_eq!(stamp.seconds(), 1_709_287_200);
        assert_eq!(stamp.subsec_nanos(), 123_456_789);
        assert_eq!(stamp.unix_millis(), 1_709_287_200_123);
        assert_eq!(stamp.unix_nanos(), Some(1_709_287_200_123_456_789));
        assert_eq!(
            Timestamp::new(1, 2_500_000_000),
            Timestamp::new(3, 500_000_000)
        );
        assert_eq!(Timestamp::new(i64::MAX, 0).unix_millis(), i64::MAX);
        assert_eq!(Timestamp::new(i64::MAX, 0).unix_nanos(), None);
        // Formatting the extremes must not panic, whatever it writes.
        assert!(
            format_rfc3339(Timestamp::new(i64::MAX, 999_999_999), Precision::Nanos).ends_with('Z')
        );
        assert!(format_rfc3339(Timestamp::new(i64::MIN, 0), Precision::Seconds).ends_with('Z'));
    }
}
