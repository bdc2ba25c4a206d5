//! Debian version ordering (Debian policy §5.6.12), written to agree with dpkg itself: parsing as
//! `parseversion` in dpkg's lib/dpkg/parsehelp.c, ordering as `dpkg_version_compare` and
//! `verrevcmp` in lib/dpkg/version.c. The differential tests hold it to `dpkg --compare-versions`.
//!
//! What is an error here is exactly what `parseversion` reports as an *error* (dpkg 1.21, Debian
//! bookworm): an empty string, embedded blanks, an epoch that is empty, not a number, negative or
//! above `INT_MAX`, nothing after the epoch's colon, an empty revision after the last hyphen, and an
//! empty upstream version. What dpkg only *warns* about — an upstream version not starting with a
//! digit, characters outside the policy's alphabets — it still compares, and so does this module:
//! refusing them would make the scanner disagree with the package manager that installed them.

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = DebianVersion::parse(a)?;
    let b = DebianVersion::parse(b)?;
    Ok(a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision)))
}

/// `[epoch:]upstream[-revision]`, borrowed from the input; a missing revision is empty, which
/// `verrevcmp` orders exactly like dpkg's NULL revision.
struct DebianVersion<'a> {
    epoch: u32,
    upstream: &'a [u8],
    revision: &'a [u8],
}

/// dpkg trims with `c_isblank`: space and tab only.
fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl<'a> DebianVersion<'a> {
    fn parse(text: &'a str) -> Result<Self, VersionError> {
        let fail = |reason: &str| VersionError::new(Scheme::Dpkg, text, reason);
        let bytes = text.as_bytes();
        // dpkg receives C strings: a NUL would silently cut the version short there, so a version
        // holding one cannot have come from a package database.
        if bytes.contains(&0) {
            return Err(fail("version string contains a NUL byte"));
        }
        let start = bytes
            .iter()
            .position(|&c| !is_blank(c))
            .ok_or_else(|| fail("version string is empty"))?;
        let (_, rest) = bytes.split_at(start);
        let len = rest.iter().position(|&c| is_blank(c)).unwrap_or(rest.len());
        let (token, trailing) = rest.split_at(len);
        if !trailing.iter().all(|&c| is_blank(c)) {
            return Err(fail("version string has embedded spaces"));
        }

        let (epoch, body) = match token.iter().position(|&c| c == b':') {
            Some(colon) => {
                let (field, after) = token.split_at(colon);
                let epoch = parse_epoch(field).map_err(fail)?;
                let body = after.get(1..).unwrap_or_default();
                if body.is_empty() {
                    return Err(fail("nothing after colon in version number"));
                }
                (epoch, body)
            }
            None => (0, token),
        };

        let (upstream, revision) = match body.iter().rposition(|&c| c == b'-') {
            Some(hyphen) => {
                let (upstream, after) = body.split_at(hyphen);
                let revision = after.get(1..).unwrap_or_default();
                if revision.is_empty() {
                    return Err(fail("revision number is empty"));
                }
                (upstream, revision)
            }
            None => (body, &[][..]),
        };
        if upstream.is_empty() {
            return Err(fail("version number is empty"));
        }
        Ok(DebianVersion {
            epoch,
            upstream,
            revision,
        })
    }
}

/// The epoch as dpkg reads it: `strtol(string, &end, 10)` must stop exactly at the colon. strtol
/// skips leading C whitespace and takes a sign, so `+1:` and `-0:` are epochs to dpkg too.
fn parse_epoch(field: &[u8]) -> Result<u32, &'static str> {
    let is_c_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let skipped = field.iter().take_while(|c| is_c_space(c)).count();
    let (_, mut digits) = field.split_at(skipped);
    let mut negative = false;
    if let Some((&sign @ (b'+' | b'-'), rest)) = digits.split_first() {
        negative = sign == b'-';
        digits = rest;
    }
    let count = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if count == 0 {
        // No conversion: strtol leaves its end pointer at the start of the field.
        return Err("epoch in version is empty");
    }
    if count != digits.len() {
        return Err("epoch in version is not number");
    }
    // Saturating is enough: anything past i32::MAX is rejected either way.
    let value = digits.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    if negative && value != 0 {
        return Err("epoch in version is negative");
    }
    u32::try_from(value)
        .ok()
        .filter(|&epoch| epoch <= i32::MAX as u32)
        .ok_or("epoch in version is too big")
}

/// dpkg's `order()`: the weight of a non-digit character. dpkg reads `char`, which is signed on the
/// platforms Debian's dpkg is built for (amd64, i386...), so a byte ≥ 0x80 arrives negative, is
/// neither digit nor letter, and weighs `c + 256`, i.e. its unsigned value: after every ASCII
/// letter, before every ASCII symbol.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) if c >= 0x80 => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn is_digit(c: Option<&u8>) -> bool {
    c.is_some_and(u8::is_ascii_digit)
}

/// dpkg's `verrevcmp`: alternate non-digit runs (compared by `order`, where the end of the string
/// weighs 0, so `~` sorts before it) and digit runs (compared as numbers, without parsing them so
/// that no length overflows).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while let (Some(ca), Some(cb)) = (
            a.get(i).filter(|c| c.is_ascii_digit()),
            b.get(j).filter(|c| c.is_ascii_digit()),
        ) {
            if first_diff == Ordering::Equal {
                first_diff = ca.cmp(cb);
            }
            i += 1;
            j += 1;
        }
        if is_digit(a.get(i)) {
            return Ordering::Greater;
        }
        if is_digit(b.get(j)) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
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
    fn tilde_sorts_before_end_and_letters_before_symbols() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(cmp("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(cmp("1.0", "1.0a"), Ordering::Less);
        assert_eq!(cmp("1.0-1", "1.0+1"), Ordering::Less);
    }

    #[test]
    fn digit_runs_compare_as_numbers_of_any_length() {
        assert_eq!(cmp("1.010", "1.10"), Ordering::Equal);
        assert_eq!(
            cmp(
                "1.99999999999999999999999999999",
                "1.100000000000000000000000000000"
            ),
            Ordering::Less
        );
        assert_eq!(cmp("1.2", "1.10"), Ordering::Less);
    }

    #[test]
    fn epoch_dominates_and_missing_epoch_is_zero() {
        assert_eq!(cmp("1:0.1", "9.9"), Ordering::Greater);
        assert_eq!(cmp("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(cmp("+1:1.0", "1:1.0"), Ordering::Equal);
        assert_eq!(cmp("-0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("2147483647:1", "2147483646:9"), Ordering::Greater);
    }

    #[test]
    fn blanks_around_are_trimmed() {
        assert_eq!(cmp(" \t1.0-1\t ", "1.0-1"), Ordering::Equal);
    }

    #[test]
    fn high_bytes_sort_between_letters_and_symbols_as_on_signed_char() {
        assert_eq!(cmp("1é", "1z"), Ordering::Greater);
        assert_eq!(cmp("1é", "1+"), Ordering::Less);
    }

    #[test]
    fn parse_errors_are_the_ones_dpkg_refuses() {
        for (bad, reason) in [
            ("", "version string is empty"),
            (" \t ", "version string is empty"),
            ("1.0 1", "version string has embedded spaces"),
            ("a:1.0", "epoch in version is empty"),
            ("1a:1.0", "epoch in version is not number"),
            ("1.0-a:b", "epoch in version is not number"),
            ("-1:1.0", "epoch in version is negative"),
            ("2147483648:1", "epoch in version is too big"),
            ("99999999999999999999999:1", "epoch in version is too big"),
            ("1:", "nothing after colon in version number"),
            ("1.0-", "revision number is empty"),
            ("-1", "version number is empty"),
            ("1:-1", "version number is empty"),
            ("1.0\0", "version string contains a NUL byte"),
        ] {
            let err = compare(bad, "1.0").expect_err(bad);
            assert_eq!(err.reason, reason, "{bad:?}");
            assert_eq!(err.scheme, Scheme::Dpkg);
            assert!(compare("1.0", bad).is_err(), "{bad:?} on the right");
        }
    }

    #[test]
    fn warnings_of_dpkg_still_compare() {
        assert_eq!(cmp("abc", "abd"), Ordering::Less);
        assert_eq!(cmp("1_0", "1.0"), Ordering::Greater);
        assert_eq!(cmp("1.0-a_b", "1.0-a_b"), Ordering::Equal);
    }
}
