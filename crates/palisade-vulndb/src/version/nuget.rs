//! NuGet versions, ordered as `NuGet.Versioning.VersionComparer.Default` orders `NuGetVersion`s
//! (NuGet/NuGet.Client, src/NuGet.Core/NuGet.Versioning: NuGetVersionFactory.cs, VersionComparer.cs).
//!
//! Parsing (`NuGetVersion.TryParse`): trimmed; `M[.m[.b[.r]]]` (`System.Version` with 1 to 4
//! non-negative `int` parts, missing parts are 0), then `-label(.label)*` and `+metadata`, labels
//! and metadata made of `[0-9A-Za-z-]`, numeric labels without leading zeros. Ordering: the four
//! numbers, then a release before its pre-releases, labels compared in turn (`CompareRelease`):
//! labels `Int32.TryParse` accepts compare as integers and before the others, the others
//! case-insensitively (ordinal), fewer labels first. Metadata is ignored.
//!
//! Deviation: `System.Version` also accepts whitespace and a `+` sign inside a part (`"1. 2"`);
//! those are refused here.

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left =
        NuGetVersion::parse(a).map_err(|reason| VersionError::new(Scheme::NuGet, a, reason))?;
    let right =
        NuGetVersion::parse(b).map_err(|reason| VersionError::new(Scheme::NuGet, b, reason))?;
    Ok(left
        .numbers
        .cmp(&right.numbers)
        .then_with(|| match (left.labels, right.labels) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => cmp_labels(x, y),
        }))
}

#[derive(Debug, Clone, Copy)]
struct NuGetVersion<'a> {
    numbers: [i32; 4],
    labels: Option<&'a str>,
}

fn is_part(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

impl<'a> NuGetVersion<'a> {
    fn parse(input: &'a str) -> Result<NuGetVersion<'a>, String> {
        let text = input.trim();
        // ParseSections: the version ends at the first `-` or `+`, labels at the next `+`.
        let (head, metadata) = match text.split_once('+') {
            Some((head, metadata)) => (head, Some(metadata)),
            None => (text, None),
        };
        let (numbers_text, labels) = match head.split_once('-') {
            Some((numbers, labels)) => (numbers, Some(labels)),
            None => (head, None),
        };
        if let Some(metadata) = metadata
            && !metadata.split('.').all(is_part)
        {
            return Err("malformed metadata".into());
        }
        if let Some(labels) = labels {
            let well_formed = labels.split('.').all(|label| {
                is_part(label)
                    && !(label.len() > 1
                        && label.starts_with('0')
                        && label.bytes().all(|c| c.is_ascii_digit()))
            });
            if !well_formed {
                return Err("malformed release label".into());
            }
        }
        let mut numbers = [0i32; 4];
        for (count, part) in numbers_text.split('.').enumerate() {
            let slot = numbers
                .get_mut(count)
                .ok_or("more than four numeric parts")?;
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err("numeric parts must be decimal numbers".into());
            }
            *slot = part
                .parse::<i32>()
                .map_err(|_| "numeric part out of range")?;
        }
        Ok(NuGetVersion { numbers, labels })
    }
}

/// `Int32.TryParse` on a label (labels never contain whitespace or `+`, but may start with `-`).
fn label_number(label: &str) -> Option<i32> {
    let digits = label.strip_prefix('-').unwrap_or(label);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    label.parse::<i32>().ok()
}

fn cmp_labels(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        let (l, r) = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) => (l, r),
        };
        let ord = match (label_number(l), label_number(r)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            // StringComparer.OrdinalIgnoreCase: upper-cased UTF-16 code units (ASCII here).
            (None, None) => l
                .bytes()
                .map(|c| c.to_ascii_uppercase())
                .cmp(r.bytes().map(|c| c.to_ascii_uppercase())),
        };
        if ord != Ordering::Equal {
            return ord;
        }
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
    fn four_parts_and_labels() {
        assert_eq!(ord("1", "1.0.0.0"), Ordering::Equal);
        assert_eq!(ord("1.0.0.1", "1.0.0"), Ordering::Greater);
        assert_eq!(ord("1.0.0-BETA", "1.0.0-beta+build"), Ordering::Equal);
        assert_eq!(ord("1.0.0-beta.2", "1.0.0-beta.10"), Ordering::Less);
        assert_eq!(ord("1.0.0-2", "1.0.0-beta"), Ordering::Less);
        // Beyond Int32 a numeric label is compared as text.
        assert_eq!(ord("1.0.0-9999999999", "1.0.0-a"), Ordering::Less);
        assert_eq!(
            ord("1.0.0-2147483648", "1.0.0-2147483647"),
            Ordering::Greater
        );
        for bad in [
            "",
            "1.2.3.4.5",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-01",
            "a.b",
            "1.0.0-beta..1",
            "2147483648.0",
        ] {
            assert!(compare(bad, "1.0").is_err(), "{bad:?} should be invalid");
        }
    }
}
