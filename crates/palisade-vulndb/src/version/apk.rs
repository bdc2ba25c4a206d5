//! apk-tools' version ordering (src/version.c of current apk-tools, the tokenizer that knows `~hash`
//! commit tokens): `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`, where `_alpha < _beta <
//! _pre < _rc` sort before the bare release and `_cvs < _svn < _git < _hg < _p` after it.
//!
//! Invalid versions: apk compares them anyway, token by token until one side stops parsing, and
//! then ranks "invalid" below "ended" — so `1.0_foo` and `1.0_bar` come out *equal* and any garbage
//! tail sorts as an old version. apk never installs such a version (abuild runs `apk version
//! --check`, the same validation), so an invalid string reaching the matcher is a data problem;
//! answering with apk's arbitrary order would turn it into a silent wrong match. This module
//! therefore returns an error whenever either side fails apk's `apk_version_validate`, and orders
//! valid versions exactly as apk does.
//!
//! One deliberate difference: apk reads numbers into a `uint64_t` that wraps past 20 digits; here
//! digit runs compare by value at any length, which agrees with apk for every number below 2⁶⁴.

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    validate(a)?;
    validate(b)?;
    Ok(compare_valid(a.as_bytes(), b.as_bytes()))
}

/// What kind of part a token is; the declaration order is apk's `enum PARTS`, which the
/// comparison uses to rank versions whose tokens stop matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffixes in apk's order; `Release` stands for the absence of a suffix (apk's `SUFFIX_NONE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    Release,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn parse(name: &[u8]) -> Option<Suffix> {
        Some(match name {
            b"alpha" => Suffix::Alpha,
            b"beta" => Suffix::Beta,
            b"pre" => Suffix::Pre,
            b"rc" => Suffix::Rc,
            b"cvs" => Suffix::Cvs,
            b"svn" => Suffix::Svn,
            b"git" => Suffix::Git,
            b"hg" => Suffix::Hg,
            b"p" => Suffix::P,
            _ => return None,
        })
    }
}

/// apk's `struct token_state` plus the unread rest of the version.
struct Tokens<'a> {
    part: Part,
    suffix: Suffix,
    /// The token's text (digits without the leading `.`, the letter, the suffix name, the hash).
    value: &'a [u8],
    rest: &'a [u8],
}

fn split_while(s: &[u8], keep: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|&&c| keep(c)).count();
    s.split_at(n)
}

impl<'a> Tokens<'a> {
    /// apk's `token_first`: every version starts with digits.
    fn first(version: &'a [u8]) -> Self {
        let mut tokens = Tokens {
            part: Part::InitialDigit,
            suffix: Suffix::Release,
            value: &[],
            rest: version,
        };
        tokens.take_digits();
        tokens
    }

    fn take_digits(&mut self) {
        let (digits, rest) = split_while(self.rest, |c| c.is_ascii_digit());
        self.value = digits;
        self.rest = rest;
        if digits.is_empty() {
            self.part = Part::Invalid;
        }
    }

    /// apk's `token_next`: the next token, judged by its first character and by which tokens may
    /// follow the current one.
    fn advance(&mut self) {
        let Some((&c, after)) = self.rest.split_first() else {
            self.part = Part::End;
            return;
        };
        match c {
            b'a'..=b'z' if self.part <= Part::Digit => {
                self.value = self.rest.get(..1).unwrap_or_default();
                self.rest = after;
                self.part = Part::Letter;
            }
            b'.' if self.part <= Part::Digit => {
                self.rest = after;
                self.part = Part::Digit;
                self.take_digits();
            }
            b'0'..=b'9' => match self.part {
                Part::InitialDigit | Part::Digit => {
                    self.part = Part::Digit;
                    self.take_digits();
                }
                Part::Suffix => {
                    self.part = Part::SuffixNo;
                    self.take_digits();
                }
                _ => self.part = Part::Invalid,
            },
            b'_' if self.part <= Part::SuffixNo => {
                let (name, rest) = split_while(after, |c| c.is_ascii_lowercase());
                match Suffix::parse(name) {
                    Some(suffix) => {
                        self.value = name;
                        self.suffix = suffix;
                        self.rest = rest;
                        self.part = Part::Suffix;
                    }
                    None => self.part = Part::Invalid,
                }
            }
            b'~' if self.part < Part::CommitHash => {
                let (hash, rest) = split_while(after, |c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                if hash.is_empty() {
                    self.part = Part::Invalid;
                } else {
                    self.value = hash;
                    self.rest = rest;
                    self.part = Part::CommitHash;
                }
            }
            b'-' if self.part < Part::RevisionNo => match after.split_first() {
                Some((b'r', rest)) => {
                    self.rest = rest;
                    self.part = Part::RevisionNo;
                    self.take_digits();
                }
                _ => self.part = Part::Invalid,
            },
            _ => self.part = Part::Invalid,
        }
    }
}

/// apk's `apk_version_validate`: the tokens must run to the end.
fn validate(version: &str) -> Result<(), VersionError> {
    let mut tokens = Tokens::first(version.as_bytes());
    while tokens.part < Part::End {
        tokens.advance();
    }
    if tokens.part == Part::End {
        return Ok(());
    }
    let consumed = version.len() - tokens.rest.len();
    let reason = if version.is_empty() {
        "version string is empty".to_string()
    } else {
        format!(
            "not an apk version (digits{{.digits}}[letter]{{_suffix[N]}}[~hash][-rN]): \
             cannot continue at byte {consumed}"
        )
    };
    Err(VersionError::new(Scheme::Apk, version, reason))
}

/// Digit runs by value: leading zeros dropped, then the longer run is the larger number.
fn numeric(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let a = a.get(trim(a)..).unwrap_or_default();
    let b = b.get(trim(b)..).unwrap_or_default();
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// apk's `token_cmp` for two tokens of the same part.
fn token_cmp(a: &Tokens<'_>, b: &Tokens<'_>) -> Ordering {
    match a.part {
        // A later dotted component with a leading zero compares as text, Gentoo style: 1.02 < 1.1.
        Part::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => {
            a.value.cmp(b.value)
        }
        Part::InitialDigit | Part::Digit | Part::SuffixNo | Part::RevisionNo => {
            numeric(a.value, b.value)
        }
        Part::Letter => a.value.first().cmp(&b.value.first()),
        Part::Suffix => a.suffix.cmp(&b.suffix),
        Part::CommitHash | Part::End | Part::Invalid => a.value.cmp(b.value),
    }
}

/// apk's `apk_version_compare_fuzzy` without fuzziness.
fn compare_valid(a: &[u8], b: &[u8]) -> Ordering {
    let mut ta = Tokens::first(a);
    let mut tb = Tokens::first(b);
    while ta.part == tb.part && ta.part < Part::End {
        let order = token_cmp(&ta, &tb);
        if order != Ordering::Equal {
            return order;
        }
        ta.advance();
        tb.advance();
    }
    if ta.part == tb.part {
        return Ordering::Equal;
    }
    // Equal so far and one side goes on: it is newer, unless what follows is a pre-release suffix.
    if ta.part == Part::Suffix && ta.suffix < Suffix::Release {
        return Ordering::Less;
    }
    if tb.part == Part::Suffix && tb.suffix < Suffix::Release {
        return Ordering::Greater;
    }
    tb.part.cmp(&ta.part)
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
    fn suffixes_rank_around_the_release() {
        let ordered = [
            "1.0_alpha",
            "1.0_alpha1",
            "1.0_beta",
            "1.0_pre2",
            "1.0_rc1",
            "1.0",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git20200101",
            "1.0_hg",
            "1.0_p1",
            "1.0_p10",
            "1.0a",
            "1.0.1",
        ];
        for pair in ordered.windows(2) {
            if let [lo, hi] = pair {
                assert_eq!(cmp(lo, hi), Ordering::Less, "{lo} < {hi}");
                assert_eq!(cmp(hi, lo), Ordering::Greater, "{hi} > {lo}");
            }
        }
    }

    #[test]
    fn revisions_and_hashes() {
        assert_eq!(cmp("1.2.3-r1", "1.2.3-r10"), Ordering::Less);
        assert_eq!(cmp("1.2.3", "1.2.3-r0"), Ordering::Less);
        assert_eq!(cmp("1.2.3~abc-r0", "1.2.3-r0"), Ordering::Greater);
        assert_eq!(cmp("1.2.3~abc", "1.2.3~abd"), Ordering::Less);
        assert_eq!(cmp("1.0_git1~0f-r2", "1.0_git1~0f-r2"), Ordering::Equal);
    }

    #[test]
    fn leading_zero_components_compare_as_text() {
        assert_eq!(cmp("1.02", "1.1"), Ordering::Less);
        assert_eq!(cmp("1.010", "1.01"), Ordering::Greater);
        assert_eq!(cmp("006", "1.0"), Ordering::Greater);
    }

    #[test]
    fn numbers_beyond_u64_do_not_overflow() {
        assert_eq!(
            cmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less
        );
        assert_eq!(
            cmp("1_p99999999999999999999999999", "1_p1"),
            Ordering::Greater
        );
    }

    #[test]
    fn invalid_versions_are_errors() {
        for bad in [
            "",
            "a1",
            "1.0bc",
            "1.0_foo",
            "1.0-1",
            "1.0-r",
            "1..0",
            "1.0~",
            "1.0~AB",
            "1.0A",
            "1a2",
            "1.0-r1-r2",
            "1.0-r1_p1",
            "1.0~ab_p1",
            "1.0\0",
            "1.0 ",
        ] {
            let err = compare(bad, "1.0").expect_err(bad);
            assert_eq!(err.scheme, Scheme::Apk);
            assert!(compare("1.0", bad).is_err(), "{bad:?}");
        }
    }
}
