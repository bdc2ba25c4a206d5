//! rpm's version ordering: `rpmvercmp` (rpmio/rpmvercmp.c, rpm ≥ 4.15, with `~` and `^`) over the
//! parts of an `[epoch:]version[-release]` string split as rpm's `parseEVR` does, compared as
//! `rpmverCmp` (rpmio/rpmver.c) does: epoch (missing = `0`), then version, then release, where a
//! missing release sorts before any present one. That is also the order of `rpmVersionCompare` on
//! installed headers and of OSV's Red Hat/AlmaLinux records (`1:7.1.8.1-8.el9_1.alma`).
//!
//! rpm rejects no version string, so neither does this module, except the two it could never be
//! handed: an empty string (`rpmverParse` returns no version for it) and one holding a NUL byte
//! (rpm's C strings would end there).

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = Evr::parse(a)?;
    let b = Evr::parse(b)?;
    Ok(rpmvercmp(a.epoch, b.epoch)
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(ra), Some(rb)) => rpmvercmp(ra, rb),
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        }))
}

struct Evr<'a> {
    epoch: &'a [u8],
    version: &'a [u8],
    release: Option<&'a [u8]>,
}

impl<'a> Evr<'a> {
    /// rpm's `parseEVR`: an epoch is a (possibly empty) run of digits right before the first
    /// character, ended by `:`; the release follows the last `-`. Anything else — a letter before a
    /// colon, several hyphens — stays in the version, where `rpmvercmp` treats it as separators.
    fn parse(text: &'a str) -> Result<Self, VersionError> {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Err(VersionError::new(
                Scheme::Rpm,
                text,
                "version string is empty",
            ));
        }
        if bytes.contains(&0) {
            return Err(VersionError::new(
                Scheme::Rpm,
                text,
                "version string contains a NUL byte",
            ));
        }
        let digits = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
        let (lead, after_digits) = bytes.split_at(digits);
        let (epoch, rest): (&[u8], &[u8]) = match after_digits.split_first() {
            Some((b':', rest)) if lead.is_empty() => (b"0", rest),
            Some((b':', rest)) => (lead, rest),
            _ => (b"0", bytes),
        };
        let (version, release) = match rest.iter().rposition(|&c| c == b'-') {
            Some(hyphen) => {
                let (version, after) = rest.split_at(hyphen);
                (version, Some(after.get(1..).unwrap_or_default()))
            }
            None => (rest, None),
        };
        Ok(Evr {
            epoch,
            version,
            release,
        })
    }
}

/// Bytes rpmvercmp steps over between segments: anything but ASCII letters, digits, `~` and `^`
/// (rpm's `risalnum` is ASCII-only, so every non-ASCII byte is a separator too).
fn is_separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

fn skip_separators(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| is_separator(c)).count();
    s.get(n..).unwrap_or_default()
}

fn split_run(s: &[u8], keep: fn(&u8) -> bool) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| keep(c)).count();
    s.split_at(n)
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    s.get(n..).unwrap_or_default()
}

/// rpm's `rpmvercmp`, on slices instead of NUL-patched copies so that it allocates nothing.
fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut one, mut two) = (a, b);
    while !one.is_empty() || !two.is_empty() {
        one = skip_separators(one);
        two = skip_separators(two);
        let (c1, c2) = (one.first().copied(), two.first().copied());

        // `~` sorts before everything, even the end of the string.
        if c1 == Some(b'~') || c2 == Some(b'~') {
            if c1 != Some(b'~') {
                return Ordering::Greater;
            }
            if c2 != Some(b'~') {
                return Ordering::Less;
            }
            one = one.get(1..).unwrap_or_default();
            two = two.get(1..).unwrap_or_default();
            continue;
        }
        // `^` sorts after the end of the string but before anything else.
        if c1 == Some(b'^') || c2 == Some(b'^') {
            if c1.is_none() {
                return Ordering::Less;
            }
            if c2.is_none() {
                return Ordering::Greater;
            }
            if c1 != Some(b'^') {
                return Ordering::Greater;
            }
            if c2 != Some(b'^') {
                return Ordering::Less;
            }
            one = one.get(1..).unwrap_or_default();
            two = two.get(1..).unwrap_or_default();
            continue;
        }
        let Some(first) = c1 else { break };
        if c2.is_none() {
            break;
        }

        let numeric = first.is_ascii_digit();
        let keep: fn(&u8) -> bool = if numeric {
            u8::is_ascii_digit
        } else {
            u8::is_ascii_alphabetic
        };
        let (seg1, rest1) = split_run(one, keep);
        let (seg2, rest2) = split_run(two, keep);
        // Segments of different kinds: a number is newer than letters.
        if seg2.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let order = if numeric {
            let (n1, n2) = (trim_zeros(seg1), trim_zeros(seg2));
            n1.len().cmp(&n2.len()).then_with(|| n1.cmp(n2))
        } else {
            seg1.cmp(seg2)
        };
        if order != Ordering::Equal {
            return order;
        }
        one = rest1;
        two = rest2;
    }
    // Every segment matched; only separators may differ. Whichever has characters left wins.
    match (one.is_empty(), two.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(order) => order,
            Err(e) => panic!("{a:?} vs {b:?}: {e}"),
        }
    }

    #[test]
    fn evr_parts_compare_in_order() {
        assert_eq!(cmp("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(cmp("0:1.2.3-4.el9_2", "1.2.3-4.el9_2"), Ordering::Equal);
        assert_eq!(cmp(":1.0-1", "0:1.0-1"), Ordering::Equal);
        assert_eq!(cmp("1.2.3-4.el9", "1.2.3-10.el9"), Ordering::Less);
        assert_eq!(cmp("1.2.3-4.el9_2", "1.2.3-4.el9"), Ordering::Greater);
        assert_eq!(cmp("001:1.0", "1:1.0"), Ordering::Equal);
        assert_eq!(
            cmp("99999999999999999999999:1", "99999999999999999999998:2"),
            Ordering::Greater
        );
    }

    #[test]
    fn missing_release_sorts_before_any_release() {
        assert_eq!(cmp("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("1.0-", "1.0"), Ordering::Greater);
        assert_eq!(cmp("1.0-", "1.0-0"), Ordering::Less);
    }

    #[test]
    fn only_a_leading_digit_run_is_an_epoch() {
        // `a:` is no epoch: the colon is a separator inside the version.
        assert_eq!(cmp("a:2", "a.2"), Ordering::Equal);
        assert_eq!(cmp("1.0:2-1", "1.0.2-1"), Ordering::Equal);
    }

    #[test]
    fn tilde_and_caret() {
        assert_eq!(cmp("1.0~rc1-1", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("1.0^git1-1", "1.0-1"), Ordering::Greater);
        assert_eq!(cmp("1.0^git1-1", "1.0.1-1"), Ordering::Less);
        assert_eq!(cmp("1.0~rc1^git1", "1.0~rc1"), Ordering::Greater);
    }

    #[test]
    fn long_digit_runs_do_not_overflow() {
        assert_eq!(
            cmp("1.000000000000000000000000000000000002", "1.2"),
            Ordering::Equal
        );
        assert_eq!(
            cmp(
                "1.123456789012345678901234567890",
                "1.123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn empty_and_nul_are_errors() {
        for bad in ["", "1.0\0-1"] {
            let err = compare(bad, "1.0").expect_err(bad);
            assert_eq!(err.scheme, Scheme::Rpm);
            assert!(compare("1.0", bad).is_err());
        }
    }
}
