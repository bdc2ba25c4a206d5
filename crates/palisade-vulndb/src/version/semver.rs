//! Semantic Versioning 2.0.0 precedence (npm, crates.io, OSV `SEMVER` ranges).
//!
//! Precedence follows semver.org §11: major, minor and patch numerically; a version with a
//! pre-release sorts before the same version without; pre-release identifiers compare in turn,
//! numeric ones numerically (at any length) and before alphanumeric ones, alphanumeric ones in ASCII
//! order, and a shorter list before a longer list it prefixes. Build metadata is validated and
//! ignored.
//!
//! OSV's `SEMVER` range type allows a leading `v` and some records carry fewer than three components
//! (`1.2`); like osv-scanner's `semantic` package this pads them with zeros. Numbers with leading
//! zeros are read by value rather than rejected, for the same reason (advisory data is not always
//! strict), which keeps the ordering total.

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = SemVer::parse(a).map_err(|reason| VersionError::new(Scheme::Semver, a, reason))?;
    let right = SemVer::parse(b).map_err(|reason| VersionError::new(Scheme::Semver, b, reason))?;
    Ok(left.precedence(&right))
}

/// Orders two ASCII decimal digit strings by value, whatever their length and leading zeros.
pub(super) fn cmp_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Whether `s` is a dot-separated list of non-empty `[0-9A-Za-z-]` identifiers.
pub(super) fn is_identifier_list(s: &str) -> bool {
    s.split('.')
        .all(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
}

/// Compares dot-separated pre-release identifier lists by SemVer §11.4 (both non-empty).
pub(super) fn cmp_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        let (l, r) = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) => (l, r),
        };
        let ord = match (is_decimal(l), is_decimal(r)) {
            (true, true) => cmp_decimal(l, r),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => l.cmp(r),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

/// A parsed version borrowing the input; missing minor/patch are `"0"`.
#[derive(Debug, Clone, Copy)]
struct SemVer<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    pre: Option<&'a str>,
}

impl<'a> SemVer<'a> {
    fn parse(input: &'a str) -> Result<SemVer<'a>, String> {
        let text = input.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let (text, build) = match text.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build
            && !is_identifier_list(build)
        {
            return Err("malformed build metadata".into());
        }
        // The core ends at the first `-`: identifiers after it may themselves contain `-`.
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        if let Some(pre) = pre
            && !is_identifier_list(pre)
        {
            return Err("malformed pre-release".into());
        }
        let mut numbers = core.split('.');
        let major = numbers.next().unwrap_or("");
        let minor = numbers.next().unwrap_or("0");
        let patch = numbers.next().unwrap_or("0");
        if numbers.next().is_some() {
            return Err("more than three numeric components".into());
        }
        if ![major, minor, patch].iter().all(|n| is_decimal(n)) {
            return Err("major, minor and patch must be decimal numbers".into());
        }
        Ok(SemVer {
            major,
            minor,
            patch,
            pre,
        })
    }

    fn precedence(&self, other: &SemVer<'_>) -> Ordering {
        cmp_decimal(self.major, other.major)
            .then_with(|| cmp_decimal(self.minor, other.minor))
            .then_with(|| cmp_decimal(self.patch, other.patch))
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => cmp_prerelease(a, b),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn specification_example_chain() {
        // semver.org §11.4's example.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                ord(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(ord(pair[1], pair[0]), Ordering::Greater);
        }
    }

    #[test]
    fn osv_leniencies() {
        assert_eq!(ord("v1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(ord("1", "1.0.0+build.7"), Ordering::Equal);
        assert_eq!(
            ord(
                "1.0.0-99999999999999999999999",
                "1.0.0-100000000000000000000000"
            ),
            Ordering::Less
        );
        for bad in [
            "",
            "v",
            "1.2.3.4",
            "1..2",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "x.y.z",
            "1.2.3-é",
        ] {
            assert!(compare(bad, "1.0.0").is_err(), "{bad:?} should be invalid");
        }
    }
}
