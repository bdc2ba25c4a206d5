//! Declared licenses as the SBOM formats want them: a known SPDX license id, a valid SPDX
//! license expression, or free text that has to be carried as a name (CycloneDX) or a
//! `LicenseRef-` (SPDX).
//!
//! The id lists are the SPDX License List 3.28 as the CycloneDX 1.6 schema enumerates it
//! (deprecated ids included, since old package metadata uses them), split into licenses and
//! exceptions. They are sorted case-insensitively: SPDX ids match without regard to case, and
//! the canonical spelling is what gets written.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::LazyLock;

const LICENSE_IDS: &str = include_str!("spdx-license-ids.txt");
const EXCEPTION_IDS: &str = include_str!("spdx-exception-ids.txt");

/// Parentheses nest at most this deep: real expressions use two or three levels, and the bound
/// keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 32;

/// How one declared license is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// A single SPDX license id (canonical spelling), maybe with `+`.
    Id(String),
    /// A valid compound SPDX expression, normalized (canonical ids, single spaces).
    Expression(String),
    /// Anything else, as declared.
    Name(String),
}

impl License {
    pub(crate) fn classify(declared: &str) -> License {
        let declared = declared.trim();
        match normalize_expression(declared) {
            Some((expression, false)) => match canonical(&expression, &LICENSES) {
                Some(id) => License::Id(id.to_string()),
                // `LicenseRef-…` or `GPL-2.0+`: valid, but not a plain listed id.
                None => License::Expression(expression),
            },
            Some((expression, true)) => License::Expression(expression),
            None => License::Name(declared.to_string()),
        }
    }
}

/// Classifications by declared text: an image's packages share a handful of license texts, and
/// parsing every occurrence again would dominate writing a large inventory.
#[derive(Default)]
pub(crate) struct Classifier<'a> {
    known: HashMap<&'a str, License>,
}

impl<'a> Classifier<'a> {
    pub(crate) fn classify(&mut self, declared: &'a str) -> &License {
        self.known
            .entry(declared)
            .or_insert_with(|| License::classify(declared))
    }
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

static LICENSES: LazyLock<Vec<&'static str>> = LazyLock::new(|| LICENSE_IDS.lines().collect());
static EXCEPTIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| EXCEPTION_IDS.lines().collect());

/// The canonical spelling of `id` in `list`, if listed.
fn canonical(id: &str, list: &[&'static str]) -> Option<&'static str> {
    list.binary_search_by(|line| cmp_ignore_case(line, id))
        .ok()
        .and_then(|index| list.get(index).copied())
}

/// An SPDX `idstring`: letters, digits, `.` and `-`.
fn is_idstring(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

/// `LicenseRef-x` or `DocumentRef-y:LicenseRef-x`.
fn is_license_ref(text: &str) -> bool {
    let local = match text.split_once(':') {
        Some((document, local)) => {
            match document.strip_prefix("DocumentRef-") {
                Some(id) if is_idstring(id) => {}
                _ => return false,
            }
            local
        }
        None => text,
    };
    local.strip_prefix("LicenseRef-").is_some_and(is_idstring)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    Word(&'a str),
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        let mut rest = chunk;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('(') {
                out.push(Token::Open);
                rest = after;
            } else if let Some(after) = rest.strip_prefix(')') {
                out.push(Token::Close);
                rest = after;
            } else {
                let end = rest.find(['(', ')']).unwrap_or(rest.len());
                let (word, after) = rest.split_at(end);
                out.push(Token::Word(word));
                rest = after;
            }
        }
    }
    out
}

/// Parses `text` as an SPDX license expression (SPDX 2.3 annex D). Returns the normalized text
/// and whether it is compound (has an operator), or `None` if it is not a valid expression.
pub(crate) fn normalize_expression(text: &str) -> Option<(String, bool)> {
    let tokens = tokens(text);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        compound: false,
    };
    let expression = parser.or_expression(0)?;
    (parser.at == tokens.len()).then_some((expression, parser.compound))
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
    compound: bool,
}

impl Parser<'_, '_> {
    fn peek_word(&self, word: &str) -> bool {
        self.tokens.get(self.at) == Some(&Token::Word(word))
    }

    fn or_expression(&mut self, depth: usize) -> Option<String> {
        let mut out = self.and_expression(depth)?;
        while self.peek_word("OR") {
            self.at += 1;
            self.compound = true;
            out.push_str(" OR ");
            out.push_str(&self.and_expression(depth)?);
        }
        Some(out)
    }

    fn and_expression(&mut self, depth: usize) -> Option<String> {
        let mut out = self.with_expression(depth)?;
        while self.peek_word("AND") {
            self.at += 1;
            self.compound = true;
            out.push_str(" AND ");
            out.push_str(&self.with_expression(depth)?);
        }
        Some(out)
    }

    fn with_expression(&mut self, depth: usize) -> Option<String> {
        let mut out = self.primary(depth)?;
        if self.peek_word("WITH") {
            self.at += 1;
            self.compound = true;
            let Some(Token::Word(exception)) = self.tokens.get(self.at).copied() else {
                return None;
            };
            self.at += 1;
            let exception = canonical(exception, &EXCEPTIONS)
                .map(str::to_string)
                .or_else(|| {
                    exception
                        .strip_prefix("AdditionRef-")
                        .filter(|id| is_idstring(id))
                        .map(|_| exception.to_string())
                })?;
            out.push_str(" WITH ");
            out.push_str(&exception);
        }
        Some(out)
    }

    fn primary(&mut self, depth: usize) -> Option<String> {
        match self.tokens.get(self.at).copied()? {
            Token::Open => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let inner = self.or_expression(depth + 1)?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return None;
                }
                self.at += 1;
                Some(format!("({inner})"))
            }
            Token::Close => None,
            Token::Word(word) => {
                if matches!(word, "AND" | "OR" | "WITH") {
                    return None;
                }
                self.at += 1;
                if is_license_ref(word) {
                    return Some(word.to_string());
                }
                let (id, plus) = match word.strip_suffix('+') {
                    Some(id) => (id, "+"),
                    None => (word, ""),
                };
                canonical(id, &LICENSES).map(|id| format!("{id}{plus}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        for list in [LICENSE_IDS, EXCEPTION_IDS] {
            let lines: Vec<&str> = list.lines().collect();
            assert!(lines.len() > 80);
            assert!(
                lines
                    .windows(2)
                    .all(|pair| cmp_ignore_case(pair[0], pair[1]) == Ordering::Less)
            );
        }
    }

    #[test]
    fn classifies_declared_licenses() {
        assert_eq!(License::classify("mit"), License::Id("MIT".into()));
        assert_eq!(License::classify("GPL-2.0"), License::Id("GPL-2.0".into()));
        // Deprecated `+` ids are listed as ids; `+` on a current id makes an expression.
        assert_eq!(
            License::classify("GPL-2.0+"),
            License::Id("GPL-2.0+".into())
        );
        assert_eq!(
            License::classify("LGPL-2.1-only+"),
            License::Expression("LGPL-2.1-only+".into())
        );
        assert_eq!(
            License::classify("(mit OR apache-2.0) AND BSD-3-Clause"),
            License::Expression("(MIT OR Apache-2.0) AND BSD-3-Clause".into())
        );
        assert_eq!(
            License::classify("GPL-2.0-only WITH classpath-exception-2.0"),
            License::Expression("GPL-2.0-only WITH Classpath-exception-2.0".into())
        );
        assert_eq!(
            License::classify("LicenseRef-Proprietary"),
            License::Expression("LicenseRef-Proprietary".into())
        );
        assert_eq!(
            License::classify("BSD-like"),
            License::Name("BSD-like".into())
        );
        assert_eq!(
            License::classify("Apache License, Version 2.0"),
            License::Name("Apache License, Version 2.0".into())
        );
    }

    #[test]
    fn rejects_malformed_expressions() {
        for text in [
            "",
            "MIT OR",
            "(MIT",
            "MIT)",
            "MIT AND AND MIT",
            "MIT WITH MIT",
            "and",
            "LicenseRef-",
            "LicenseRef-a_b",
        ] {
            assert_eq!(normalize_expression(text), None, "{text}");
        }
        let deep = format!("{}MIT{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(normalize_expression(&deep), None);
    }
}
