//! RubyGems versions, ordered as `Gem::Version#<=>` (rubygems/rubygems, lib/rubygems/version.rb).
//!
//! A version must match `Gem::Version::ANCHORED_VERSION_PATTERN`
//! (`\A\s*([0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z`; blank means `"0"`).
//! Every `-` stands for `.pre.`, the segments are the runs of digits or of letters, and the
//! canonical segments drop trailing zeros from the numeric part and from the part starting at the
//! first letter run. Segments then compare pairwise, missing ones read as 0: numbers by value,
//! strings bytewise (case-sensitively), a string below a number.

use std::cmp::Ordering;

use super::semver::cmp_decimal;
use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = canonical_segments(a)?;
    let right = canonical_segments(b)?;
    let len = left.len().max(right.len());
    for i in 0..len {
        let l = left.get(i).copied().unwrap_or(Segment::Number(""));
        let r = right.get(i).copied().unwrap_or(Segment::Number(""));
        let ord = match (l, r) {
            (Segment::Number(x), Segment::Number(y)) => cmp_decimal(x, y),
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return Ok(ord);
        }
    }
    Ok(Ordering::Equal)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    /// Digits with leading zeros removed (`""` is zero).
    Number(&'a str),
    Text(&'a str),
}

impl Segment<'_> {
    fn is_zero(self) -> bool {
        self == Segment::Number("")
    }
}

/// Ruby's `\s`: space, tab, newline, vertical tab, form feed, carriage return.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

fn is_valid(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let (release, pre) = match v.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (v, None),
    };
    let mut parts = release.split('.');
    let first_is_number = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    });
    first_is_number && rest_ok && pre_ok
}

fn canonical_segments(input: &str) -> Result<Vec<Segment<'_>>, VersionError> {
    let v = input.trim_matches(is_ruby_space);
    if !is_valid(v) {
        return Err(VersionError::new(
            Scheme::RubyGems,
            input,
            "malformed version number string",
        ));
    }
    let mut segments = Vec::with_capacity(8);
    let bytes = v.as_bytes();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if c == b'-' {
            // `gsub("-", ".pre.")`
            segments.push(Segment::Text("pre"));
            i += 1;
        } else if c.is_ascii_digit() || c.is_ascii_alphabetic() {
            let digit = c.is_ascii_digit();
            let start = i;
            while bytes.get(i).is_some_and(|b| {
                if digit {
                    b.is_ascii_digit()
                } else {
                    b.is_ascii_alphabetic()
                }
            }) {
                i += 1;
            }
            let run = v.get(start..i).unwrap_or("");
            segments.push(if digit {
                Segment::Number(run.trim_start_matches('0'))
            } else {
                Segment::Text(run)
            });
        } else {
            i += 1;
        }
    }
    if segments.is_empty() {
        // A blank version is "0".
        return Ok(segments);
    }
    // Trailing zeros dropped separately from the numeric part and the part from the first string.
    let first_text = segments
        .iter()
        .position(|s| matches!(s, Segment::Text(_)))
        .unwrap_or(segments.len());
    let mut tail_end = segments.len();
    while tail_end > first_text && segments.get(tail_end - 1).is_some_and(|s| s.is_zero()) {
        tail_end -= 1;
    }
    let mut head_end = first_text;
    while head_end > 0 && segments.get(head_end - 1).is_some_and(|s| s.is_zero()) {
        head_end -= 1;
    }
    segments.truncate(tail_end);
    segments.drain(head_end..first_text);
    Ok(segments)
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
    fn prerelease_and_canonical_segments() {
        assert_eq!(ord("1.0.0.a.1.0", "1.a.1"), Ordering::Equal);
        assert_eq!(ord("1.0.a", "1.0"), Ordering::Less);
        assert_eq!(ord("1.0-1", "1.0.pre.1"), Ordering::Equal);
        assert_eq!(ord("1.0.A", "1.0.a"), Ordering::Less);
        assert_eq!(ord("", "0"), Ordering::Equal);
        for bad in ["junk", "1.0\n2.0", "1..2", "1.2 3", "1-", "a1"] {
            assert!(compare(bad, "1").is_err(), "{bad:?} should be invalid");
        }
    }
}
