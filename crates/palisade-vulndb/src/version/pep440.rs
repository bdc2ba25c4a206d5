//! PEP 440 versions (PyPI), ordered exactly as Python's `packaging.version.Version` orders them.
//!
//! The accepted syntax is `packaging`'s `VERSION_PATTERN` (matched case-insensitively, with
//! surrounding whitespace allowed):
//!
//! ```text
//! v? (N!)? N(.N)* ([-_.]? (a|b|c|rc|alpha|beta|pre|preview) [-_.]? N?)?
//!    (-N | [-_.]? (post|rev|r) [-_.]? N?)? ([-_.]? dev [-_.]? N?)? (+ local)?
//! ```
//!
//! and the ordering is `packaging`'s `_cmpkey`: epoch, release with trailing zeros removed,
//! pre-release (a development release without pre or post sorts before every pre-release of its
//! release), post-release, development release, then the local label segment by segment (a numeric
//! segment sorts after an alphanumeric one). Versions are parsed into borrowed slices of the input, so
//! a comparison does not allocate.
//!
//! Deviation: Python's case-insensitive regex also folds a few non-ASCII letters onto ASCII ones
//! (`ſ` U+017F onto `s`, `K` U+212A onto `k`, `ı` U+0131 onto `i`), so `packaging` accepts
//! `1.0.poſt1` or `1.0+ı`; those are refused here. Only ASCII letters occur in real PyPI versions.

use std::cmp::Ordering;

use super::semver::cmp_decimal;
use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = Pep440::parse(a).map_err(|reason| VersionError::new(Scheme::Pep440, a, reason))?;
    let right = Pep440::parse(b).map_err(|reason| VersionError::new(Scheme::Pep440, b, reason))?;
    Ok(left.cmp_key(&right))
}

/// The pre-release phase, in `packaging`'s normalised spelling; declared in sort order
/// (`a` < `b` < `rc`, which is also the lexical order `packaging` compares them in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Alpha,
    Beta,
    Candidate,
}

/// A parsed version; numbers are decimal digit strings of the input (Python integers are unbounded,
/// so they are compared as decimals, never converted).
#[derive(Debug, Clone, Copy)]
struct Pep440<'a> {
    epoch: &'a str,
    /// Dot-separated decimal release segments.
    release: &'a str,
    pre: Option<(Phase, &'a str)>,
    post: Option<&'a str>,
    dev: Option<&'a str>,
    /// Local label without the `+`, segments separated by `-`, `_` or `.`.
    local: Option<&'a str>,
}

/// Python's `str.isspace`, which is what `\s` in `packaging`'s regex matches: Unicode White_Space
/// plus the ASCII information separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A cursor over the ASCII-lowercased view of the input (only ASCII letters ever match, so byte
/// positions are shared with the original).
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn digits(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.text.get(start..self.pos).unwrap_or(""))
    }

    fn separator(&mut self) -> bool {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the longest of `words` (case-insensitively) at the cursor. Longest-first is what the
    /// regex's backtracking amounts to: in every alternation of the pattern a shorter spelling that
    /// is a prefix of a longer one (`a`/`alpha`, `pre`/`preview`, `r`/`rev`) can never be followed by
    /// the rest of the longer one, so at most one alternative can lead to a full match.
    fn word<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<T> {
        let rest = self.rest().as_bytes();
        let mut best: Option<(usize, T)> = None;
        for &(word, value) in words {
            let len = word.len();
            let matches = rest
                .get(..len)
                .is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()));
            if matches && best.is_none_or(|(best_len, _)| len > best_len) {
                best = Some((len, value));
            }
        }
        let (len, value) = best?;
        self.pos += len;
        Some(value)
    }
}

const PRE_WORDS: &[(&str, Phase)] = &[
    ("a", Phase::Alpha),
    ("alpha", Phase::Alpha),
    ("b", Phase::Beta),
    ("beta", Phase::Beta),
    ("c", Phase::Candidate),
    ("rc", Phase::Candidate),
    ("pre", Phase::Candidate),
    ("preview", Phase::Candidate),
];
const POST_WORDS: &[(&str, ())] = &[("post", ()), ("rev", ()), ("r", ())];
const DEV_WORDS: &[(&str, ())] = &[("dev", ())];

/// The number that stands for an omitted one (`1.0a` is `1.0a0`).
const ZERO: &str = "0";

impl<'a> Pep440<'a> {
    fn parse(input: &'a str) -> Result<Pep440<'a>, String> {
        let text = input.trim_matches(is_python_space);
        let mut cur = Cursor { text, pos: 0 };
        if matches!(cur.peek(), Some(b'v' | b'V')) {
            cur.pos += 1;
        }

        let first = cur.digits().ok_or("no release number")?;
        let (epoch, release_start) = if cur.peek() == Some(b'!') {
            cur.pos += 1;
            let start = cur.pos;
            cur.digits().ok_or("no release number after the epoch")?;
            (first, start)
        } else {
            (ZERO, cur.pos - first.len())
        };
        // `(\.[0-9]+)*`: a dot not followed by a digit belongs to what comes next.
        loop {
            let save = cur.pos;
            if cur.peek() == Some(b'.') {
                cur.pos += 1;
                if cur.digits().is_some() {
                    continue;
                }
            }
            cur.pos = save;
            break;
        }
        let release = text.get(release_start..cur.pos).unwrap_or("");

        // Each optional group is tried greedily and abandoned (cursor restored) when it does not
        // match; the regex engine's first successful path is the same one, because a separator
        // consumed at the end of a group can always be omitted at the start of the next.
        let pre = {
            let save = cur.pos;
            cur.separator();
            match cur.word(PRE_WORDS) {
                Some(phase) => {
                    cur.separator();
                    Some((phase, cur.digits().unwrap_or(ZERO)))
                }
                None => {
                    cur.pos = save;
                    None
                }
            }
        };

        let post = {
            let save = cur.pos;
            let implicit = if cur.peek() == Some(b'-') {
                cur.pos += 1;
                cur.digits()
            } else {
                None
            };
            match implicit {
                Some(n) => Some(n),
                None => {
                    cur.pos = save;
                    cur.separator();
                    match cur.word(POST_WORDS) {
                        Some(()) => {
                            cur.separator();
                            Some(cur.digits().unwrap_or(ZERO))
                        }
                        None => {
                            cur.pos = save;
                            None
                        }
                    }
                }
            }
        };

        let dev = {
            let save = cur.pos;
            cur.separator();
            match cur.word(DEV_WORDS) {
                Some(()) => {
                    cur.separator();
                    Some(cur.digits().unwrap_or(ZERO))
                }
                None => {
                    cur.pos = save;
                    None
                }
            }
        };

        let local = if cur.peek() == Some(b'+') {
            cur.pos += 1;
            let local = cur.rest();
            let well_formed = local.split(['-', '_', '.']).all(|segment| {
                !segment.is_empty() && segment.bytes().all(|c| c.is_ascii_alphanumeric())
            });
            if !well_formed {
                return Err("malformed local version label".into());
            }
            cur.pos = text.len();
            Some(local)
        } else {
            None
        };

        if cur.pos != text.len() {
            return Err(format!("unexpected {:?}", cur.rest()));
        }
        Ok(Pep440 {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    fn cmp_key(&self, other: &Pep440<'_>) -> Ordering {
        cmp_decimal(self.epoch, other.epoch)
            .then_with(|| cmp_release(self.release, other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| cmp_optional(self.post, other.post, Ordering::Less))
            .then_with(|| cmp_optional(self.dev, other.dev, Ordering::Greater))
            .then_with(|| match (self.local, other.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_local(a, b),
            })
    }

    /// `packaging`'s pre-release key: `1.0.dev0` (dev only) sorts before `1.0a0`, and a version
    /// without pre-release after every pre-release.
    fn pre_key(&self) -> PreKey<'a> {
        match self.pre {
            None if self.post.is_none() && self.dev.is_some() => PreKey::BeforeAll,
            None => PreKey::AfterAll,
            Some((phase, n)) => PreKey::Phase(phase, Decimal(n)),
        }
    }
}

/// A decimal digit string ordered by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal<'a>(&'a str);

impl Ord for Decimal<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_decimal(self.0, other.0)
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    BeforeAll,
    Phase(Phase, Decimal<'a>),
    AfterAll,
}

/// Orders two optional numbers where absence sorts `absent` relative to any presence.
fn cmp_optional(a: Option<&str>, b: Option<&str>, absent: Ordering) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => absent,
        (Some(_), None) => absent.reverse(),
        (Some(a), Some(b)) => cmp_decimal(a, b),
    }
}

/// Release tuples with trailing zeros removed, compared as tuples: the same as comparing
/// segment-wise with missing segments read as zero.
fn cmp_release(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (l, r) => {
                let ord = cmp_decimal(l.unwrap_or(ZERO), r.unwrap_or(ZERO));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Local labels: segments compared in turn, a numeric segment (by value) after any alphanumeric one
/// (case-insensitively, lexically), a shorter label before a longer one that extends it.
fn cmp_local(a: &str, b: &str) -> Ordering {
    let mut left = a.split(['-', '_', '.']);
    let mut right = b.split(['-', '_', '.']);
    loop {
        let (l, r) = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) => (l, r),
        };
        let l_numeric = l.bytes().all(|c| c.is_ascii_digit());
        let r_numeric = r.bytes().all(|c| c.is_ascii_digit());
        let ord = match (l_numeric, r_numeric) {
            (true, true) => cmp_decimal(l, r),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => l
                .bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(r.bytes().map(|c| c.to_ascii_lowercase())),
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
    fn spellings_normalise_to_the_same_version() {
        for (a, b) in [
            ("1.0alpha1", "1.0a1"),
            ("1.0-preview.2", "1.0rc2"),
            ("1.0c1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("1.0.rev", "1.0.post0"),
            ("V1.0.DEV", "1.0.dev0"),
            (" 1.0\n", "1.0.0"),
            ("0!1.0", "1"),
            ("1.0+ABC.1", "1.0+abc-1"),
        ] {
            assert_eq!(ord(a, b), Ordering::Equal, "{a} == {b}");
        }
    }

    #[test]
    fn release_phases_are_ordered() {
        let chain = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
            "1!0.1",
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
    fn invalid_versions_are_rejected() {
        for bad in [
            "",
            "1.0-",
            "french toast",
            "1.0+",
            "1.0+a..b",
            "1.0.",
            "1!",
            "1.0-dev-x",
            "1.0 a",
        ] {
            assert!(compare(bad, "1").is_err(), "{bad:?} should be invalid");
        }
        // Python's `\s` includes Unicode spaces and U+001C..U+001F, but not U+200B.
        assert_eq!(ord("\u{1c}1.0\u{3000}", "1.0"), Ordering::Equal);
        assert_eq!(ord("\u{a0}1.0\u{85}", "1.0"), Ordering::Equal);
        assert!(compare("\u{200b}1.0", "1.0").is_err());
        // A trailing separator after a phase's optional number is part of the grammar.
        assert_eq!(ord("1.0a.", "1.0a0"), Ordering::Equal);
    }
}
