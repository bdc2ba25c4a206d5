//! Packagist (Composer) versions, ordered the way Composer matches constraints: both sides are
//! normalised with `Composer\Semver\VersionParser::normalize` (composer/semver,
//! src/VersionParser.php) and compared with PHP's `version_compare` (php-src,
//! ext/standard/versioning.c), as `Composer\Semver\Constraint\Constraint::versionCompare` does.
//!
//! Normalisation: trim, drop an `as` alias and an `@stability` flag, drop `+build` metadata, then
//! `v?M[.m[.p[.b]]]` padded to four parts (or a date version such as `2010-01-02`), followed by an
//! optional stability modifier (`alpha`/`a`, `beta`/`b`, `RC`, `patch`/`pl`/`p`, with numbers) and
//! an optional `dev` suffix: `1.0.0-beta2` → `1.0.0.0-beta2`, `1.0rc1-dev` → `1.0.0.0-RC1-dev`.
//! Numeric branches become `9999999` parts (`2.x-dev` → `2.9999999.9999999.9999999-dev`).
//! Named branches (`dev-master`, `dev-feature`) are refused: Composer never orders them against
//! versions (`versionCompare` returns false for every operator), so no answer here would be right.
//!
//! `version_compare` then splits at `.`/`-` and digit/letter changes and orders
//! `dev < alpha = a < beta = b < RC = rc < (number) < pl = p` (so `patch`, which starts with `p`,
//! sorts after a release), numbers numerically with C `strtol` saturation.

use std::cmp::Ordering;

use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = normalize(a).map_err(|reason| VersionError::new(Scheme::Packagist, a, reason))?;
    let right = normalize(b).map_err(|reason| VersionError::new(Scheme::Packagist, b, reason))?;
    Ok(version_compare(&left, &right))
}

/// PCRE's `\s`.
fn is_pcre_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// `VersionParser::normalize`; `Err` for versions Composer rejects and for branch names.
pub(super) fn normalize(input: &str) -> Result<String, String> {
    // PHP's trim(): space, \t, \n, \r, \0, \x0B.
    let mut version = input.trim_matches([' ', '\t', '\n', '\r', '\0', '\u{b}']);

    // Strip off aliasing: `^([^,\s]++) ++as ++([^,\s]++)$`.
    if let Some(head_end) = version.find(|c: char| c == ',' || is_pcre_space(c))
        && head_end > 0
        && let Some((head, rest)) = version.split_at_checked(head_end)
    {
        let after_spaces = rest.trim_start_matches(' ');
        if after_spaces.len() < rest.len()
            && let Some(after_as) = after_spaces.strip_prefix("as")
        {
            let alias = after_as.trim_start_matches(' ');
            if alias.len() < after_as.len()
                && !alias.is_empty()
                && !alias.contains(|c: char| c == ',' || is_pcre_space(c))
            {
                version = head;
            }
        }
    }

    // Strip off a stability flag: `@(?:stable|RC|beta|alpha|dev)$` case-insensitively.
    for flag in ["stable", "rc", "beta", "alpha", "dev"] {
        let cut = version.len().checked_sub(flag.len() + 1);
        if let Some(cut) = cut
            && let Some(tail) = version.get(cut..)
            && tail.starts_with('@')
            && tail.get(1..).is_some_and(|t| t.eq_ignore_ascii_case(flag))
        {
            version = version.get(..cut).unwrap_or("");
            break;
        }
    }

    if matches!(version, "master" | "trunk" | "default")
        || version
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("dev-"))
    {
        return Err("a branch name, which Composer does not order against versions".into());
    }

    // Strip off build metadata: `^([^,\s+]++)\+[^\s]++$`.
    if let Some(plus) = version.find(|c: char| c == ',' || c == '+' || is_pcre_space(c))
        && plus > 0
        && version.get(plus..plus + 1) == Some("+")
    {
        let build = version.get(plus + 1..).unwrap_or("");
        if !build.is_empty() && !build.contains(is_pcre_space) {
            version = version.get(..plus).unwrap_or("");
        }
    }

    if let Some(normalized) = classical(version).or_else(|| date_based(version)) {
        return Ok(normalized);
    }

    // Numeric dev branches: `(.*?)[.-]?dev$`, unanchored, and `.` stops at a newline.
    let line_start = version.rfind('\n').map_or(0, |i| i + 1);
    let line = version.get(line_start..).unwrap_or("");
    if line.len() >= 3
        && let Some(dev) = line.get(line.len() - 3..)
        && dev.eq_ignore_ascii_case("dev")
    {
        let mut name = line.get(..line.len() - 3).unwrap_or("");
        if let Some(stripped) = name.strip_suffix(['.', '-']) {
            name = stripped;
        }
        if let Some(branch) = numeric_branch(name) {
            return Ok(branch);
        }
    }
    Err("not a Composer version".into())
}

fn digit_run(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// `^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?<modifier>$`i, rendered as Composer renders it. The
/// pattern is deterministic: the modifier cannot start with a digit, so the major number is the
/// whole leading digit run, and each release part takes its whole digit run.
fn classical(version: &str) -> Option<String> {
    let s = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let major_len = digit_run(s);
    if !(1..=5).contains(&major_len) {
        return None;
    }
    let (major, mut rest) = s.split_at(major_len);
    let mut out = String::with_capacity(version.len() + 16);
    out.push_str(major);
    for _ in 0..3 {
        let part = rest.strip_prefix('.').map(digit_run).filter(|&n| n > 0);
        match part {
            Some(n) => {
                out.push_str(rest.get(..n + 1).unwrap_or(""));
                rest = rest.get(n + 1..).unwrap_or("");
            }
            None => out.push_str(".0"),
        }
    }
    let modifier = Modifier::parse(rest)?;
    modifier.append_to(&mut out);
    Some(out)
}

/// `^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)<modifier>$`i, with the date part's separators
/// turned into dots. The candidate ends of the date part are tried in the regex engine's
/// preference order (greedy repetitions, separators taken when possible).
fn date_based(version: &str) -> Option<String> {
    let s = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let bytes = s.as_bytes();
    if bytes.len() < 4 || !bytes.iter().take(4).all(u8::is_ascii_digit) {
        return None;
    }
    let mut ends = Vec::new();
    date_pairs(bytes, 4, 0, &mut ends);
    for end in ends {
        let (date, rest) = s.split_at_checked(end)?;
        if let Some(modifier) = Modifier::parse(rest) {
            let mut out: String = date
                .chars()
                .map(|c| if c.is_ascii_digit() { c } else { '.' })
                .collect();
            modifier.append_to(&mut out);
            return Some(out);
        }
    }
    None
}

/// Collects, in preference order, where `(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?` can end when it
/// starts at `pos` having matched `reps` repetitions so far.
fn date_pairs(s: &[u8], pos: usize, reps: usize, ends: &mut Vec<usize>) {
    if reps < 6 {
        for start in separator_then(s, pos) {
            if s.get(start..start + 2)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            {
                date_pairs(s, start + 2, reps + 1, ends);
            }
        }
    }
    if reps >= 1 {
        for start in separator_then(s, pos) {
            for len in (1..=3).rev() {
                if s.get(start..start + len)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                {
                    ends.push(start + len);
                }
            }
        }
        ends.push(pos);
    }
}

/// Positions after an optional `[.:-]` at `pos`: with it first (greedy), then without.
fn separator_then(s: &[u8], pos: usize) -> impl Iterator<Item = usize> {
    let with = matches!(s.get(pos), Some(b'.' | b':' | b'-')).then_some(pos + 1);
    with.into_iter().chain(std::iter::once(pos))
}

/// The stability alternatives in the regex's order; where one is a prefix of another the longer is
/// listed first, which is the only one that can lead to a match.
const STABILITIES: [&str; 9] = [
    "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p",
];

/// A match of `[._-]?(?:(stability)((?:[.-]?\d+)*+)?)?([.-]?dev)?$`i.
struct Modifier<'a> {
    stability: Option<&'a str>,
    numbers: &'a str,
    dev: bool,
}

impl<'a> Modifier<'a> {
    fn parse(rest: &'a str) -> Option<Modifier<'a>> {
        let leading = rest
            .strip_prefix(['.', '_', '-'])
            .into_iter()
            .chain(std::iter::once(rest));
        for after_sep in leading {
            let mut options: Vec<(Option<&str>, &str)> = STABILITIES
                .iter()
                .filter_map(|word| {
                    let head = after_sep.get(..word.len())?;
                    head.eq_ignore_ascii_case(word)
                        .then(|| (Some(head), after_sep.get(word.len()..).unwrap_or("")))
                })
                .take(1)
                .collect();
            options.push((None, after_sep));
            for (stability, after_word) in options {
                let numbers_len = if stability.is_some() {
                    possessive_numbers(after_word)
                } else {
                    0
                };
                let (numbers, tail) = after_word.split_at(numbers_len);
                let dev = match tail {
                    "" => Some(false),
                    _ => {
                        let t = tail.strip_prefix(['.', '-']).unwrap_or(tail);
                        (t.eq_ignore_ascii_case("dev") || tail.eq_ignore_ascii_case("dev"))
                            .then_some(true)
                    }
                };
                if let Some(dev) = dev {
                    return Some(Modifier {
                        stability,
                        numbers,
                        dev,
                    });
                }
            }
        }
        None
    }

    /// The normalised suffix: `-` + expanded stability + numbers without leading `.`/`-`, then
    /// `-dev`; an exact `stable` ends the version there (dev flag included).
    fn append_to(&self, out: &mut String) {
        if let Some(stability) = self.stability {
            if stability == "stable" {
                return;
            }
            out.push('-');
            out.push_str(&expand_stability(stability));
            out.push_str(self.numbers.trim_start_matches(['.', '-']));
        }
        if self.dev {
            out.push_str("-dev");
        }
    }
}

/// Length of `(?:[.-]?\d+)*+` at the start of `s`.
fn possessive_numbers(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut pos = 0;
    loop {
        let start = if matches!(bytes.get(pos), Some(b'.' | b'-')) {
            pos + 1
        } else {
            pos
        };
        let digits = bytes
            .get(start..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if digits == 0 {
            return pos;
        }
        pos = start + digits;
    }
}

/// `VersionParser::expandStability`.
fn expand_stability(stability: &str) -> String {
    let lower = stability.to_ascii_lowercase();
    match lower.as_str() {
        "a" => "alpha".into(),
        "b" => "beta".into(),
        "p" | "pl" => "patch".into(),
        "rc" => "RC".into(),
        _ => lower,
    }
}

/// `VersionParser::normalizeBranch` for numeric branches (`1.x`, `2.0.*`); `None` for names.
fn numeric_branch(name: &str) -> Option<String> {
    let name = name.trim_matches([' ', '\t', '\n', '\r', '\0', '\u{b}']);
    let s = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let first = digit_run(s);
    if first == 0 {
        return None;
    }
    let (major, mut rest) = s.split_at(first);
    let mut out = String::from(major);
    for _ in 0..3 {
        let Some(after_dot) = rest.strip_prefix('.') else {
            out.push_str(".9999999");
            continue;
        };
        let n = digit_run(after_dot);
        if n > 0 {
            out.push('.');
            out.push_str(after_dot.get(..n).unwrap_or(""));
            rest = after_dot.get(n..).unwrap_or("");
        } else if after_dot.starts_with(['x', 'X', '*']) {
            out.push_str(".9999999");
            rest = after_dot.get(1..).unwrap_or("");
        } else {
            return None;
        }
    }
    if !rest.is_empty() {
        return None;
    }
    out.push_str("-dev");
    Some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part<'a> {
    Number(&'a str),
    Word(&'a str),
}

/// The parts `php_canonicalize_version` produces for a normalised version (which contains only
/// ASCII letters, digits, `.` and `-`): runs of digits or letters.
fn parts(v: &str) -> impl Iterator<Item = Part<'_>> {
    let mut rest = v;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
        let first = rest.chars().next()?;
        let len = if first.is_ascii_digit() {
            digit_run(rest)
        } else {
            rest.bytes().take_while(u8::is_ascii_alphabetic).count()
        };
        let (part, tail) = rest.split_at(len.max(1));
        rest = tail;
        Some(if first.is_ascii_digit() {
            Part::Number(part)
        } else {
            Part::Word(part)
        })
    })
}

/// `compare_special_version_forms`' order: the first form the part starts with; `#` stands for a
/// number; unknown words rank lowest.
fn special_form_order(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, order)| order)
}

const NUMBER_FORM: i8 = 4;

/// C `strtol` on a digit run: saturates at `LONG_MAX`.
fn strtol(digits: &str) -> i64 {
    digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    })
}

/// PHP's `version_compare($a, $b)` for normalised versions.
fn version_compare(a: &str, b: &str) -> Ordering {
    let mut left = parts(a);
    let mut right = parts(b);
    loop {
        let ord = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            // The longer version decides by its next part: a number wins, a word is compared with
            // a number (`1.0 < 1.0.pl1`, `1.0-beta < 1.0`).
            (Some(Part::Number(_)), None) => Ordering::Greater,
            (None, Some(Part::Number(_))) => Ordering::Less,
            (Some(Part::Word(w)), None) => special_form_order(w).cmp(&NUMBER_FORM),
            (None, Some(Part::Word(w))) => NUMBER_FORM.cmp(&special_form_order(w)),
            (Some(Part::Number(x)), Some(Part::Number(y))) => strtol(x).cmp(&strtol(y)),
            (Some(Part::Word(x)), Some(Part::Word(y))) => {
                special_form_order(x).cmp(&special_form_order(y))
            }
            (Some(Part::Number(_)), Some(Part::Word(y))) => NUMBER_FORM.cmp(&special_form_order(y)),
            (Some(Part::Word(x)), Some(Part::Number(_))) => special_form_order(x).cmp(&NUMBER_FORM),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VersionParserTest::successfulNormalizedVersions (composer/semver tests/VersionParserTest.php).
    #[test]
    fn normalizes_like_composer() {
        for (input, expected) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.13.11.0-beta0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010.1.555", "2010.1.555.0"),
            ("2010.10.200", "2010.10.200.0"),
            ("v20100102", "20100102"),
            ("2010-01-02", "2010.01.02"),
            ("2012.06.07", "2012.06.07.0"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102.x-dev", "20100102.9999999.9999999.9999999-dev"),
            (
                "20100102.203040.x-dev",
                "20100102.203040.9999999.9999999-dev",
            ),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("201903.0", "201903.0"),
            ("201903.x-dev", "201903.9999999.9999999.9999999-dev"),
            ("201903.0-p2", "201903.0-patch2"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
            ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
            ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
            ("1.0.0+foo as 2.0", "1.0.0.0"),
            ("00.01.03.04", "00.01.03.04"),
            ("000.001.003.004", "000.001.003.004"),
            ("0.000.103.204", "0.000.103.204"),
            ("0700", "0700.0.0.0"),
            ("041.x-dev", "041.9999999.9999999.9999999-dev"),
            (" 1.0.0", "1.0.0.0"),
            ("1.0.0 ", "1.0.0.0"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("1.0.0@beta", "1.0.0.0"),
        ] {
            assert_eq!(
                normalize(input).as_deref(),
                Ok(expected),
                "normalize({input:?})"
            );
        }
    }

    /// VersionParserTest::failingNormalizedVersions, plus branch names (refused here).
    #[test]
    fn refuses_what_composer_refuses() {
        // A six-digit "major" is no classical version but a date version.
        assert_eq!(normalize("123456").as_deref(), Ok("123456"));
        for input in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0.0+foo bar",
            "1.0.1-SNAPSHOT",
            "1.0.0<1.0.5-dev",
            "1.0.0-dev<1.0.5-dev",
            "foo bar-dev",
            "1.0 .2",
            " as ",
            " as 1.2",
            "^",
            "~",
            "~1",
            "^1",
            "1.*",
            "dev-master",
            "master",
            "DEV-foo",
            "1.2.3.x-dev-foo",
        ] {
            assert!(
                normalize(input).is_err(),
                "{input:?} should be refused, got {:?}",
                normalize(input)
            );
        }
    }
}
