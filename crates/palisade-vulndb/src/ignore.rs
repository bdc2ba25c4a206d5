//! The ignore file (`--ignore-file`): findings a team has decided to live with, each with the
//! reason it was accepted and, optionally, the date the decision must be reviewed by. A YAML
//! shape like Trivy's `.trivyignore.yaml`, but strict: an unknown key or a missing reason is an
//! error, since a typo must not turn an exemption into one that silently exempts nothing (or
//! everything). See docs/vex-and-ignore.md.

use palisade_core::purl_unescape;
use saphyr_parser::ScanError;
use thiserror::Error;

use crate::matching::{Suppressed, Vulnerability};
use crate::scan::ImageScan;

/// What [`Suppressed::by`] says for ignore-file suppressions.
pub const SUPPRESSED_BY: &str = "ignore-file";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}: {message}")]
pub struct IgnoreError {
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFile {
    /// The name given to [`read`]; warnings quote it.
    pub name: String,
    pub entries: Vec<IgnoreEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// A vulnerability ID or any alias of it.
    pub id: String,
    pub reason: String,
    /// `YYYY-MM-DD`: the last day the entry applies.
    pub expires: Option<String>,
    /// Package purl prefixes (qualifiers and subpath ignored); empty means any package.
    pub purls: Vec<String>,
    /// Globs over the package's location in the image; empty means anywhere.
    pub paths: Vec<String>,
    /// Line of the entry in the file, for warnings.
    pub line: usize,
}

/// Reads an ignore file.
pub fn read(name: &str, text: &str) -> Result<IgnoreFile, IgnoreError> {
    let error = |line: usize, message: String| IgnoreError {
        file: name.to_string(),
        line,
        message,
    };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(yaml::Error::Scan(scan)) => {
            return Err(error(scan.marker().line(), scan_message(&scan)));
        }
        Err(yaml::Error::At(line, message)) => return Err(error(line, message)),
    };
    let mut entries = Vec::new();
    let Some(root) = root else {
        // An empty file ignores nothing, which is what it says.
        return Ok(IgnoreFile {
            name: name.to_string(),
            entries,
        });
    };
    let yaml::Node::Mapping(pairs, _) = &root else {
        return Err(error(
            root.line(),
            "expected a mapping with a `vulnerabilities` list".into(),
        ));
    };
    for (key, key_line, value) in pairs {
        match key.as_str() {
            "vulnerabilities" => {}
            other => {
                return Err(error(
                    *key_line,
                    format!("unknown key `{other}` (only `vulnerabilities` is read)"),
                ));
            }
        }
        let items = match value {
            yaml::Node::Sequence(items, _) => items.as_slice(),
            // `vulnerabilities:` with nothing under it.
            yaml::Node::Scalar(text, _) if text.is_empty() => &[],
            other => {
                return Err(error(
                    other.line(),
                    "`vulnerabilities` must be a list".into(),
                ));
            }
        };
        for item in items {
            entries.push(entry(item).map_err(|(line, message)| error(line, message))?);
        }
    }
    Ok(IgnoreFile {
        name: name.to_string(),
        entries,
    })
}

fn scan_message(scan: &ScanError) -> String {
    format!(
        "not valid YAML: {} (column {})",
        scan.info(),
        scan.marker().col() + 1
    )
}

fn entry(node: &yaml::Node) -> Result<IgnoreEntry, (usize, String)> {
    let yaml::Node::Mapping(pairs, line) = node else {
        return Err((
            node.line(),
            "an entry must be a mapping with `id` and `reason`".into(),
        ));
    };
    let mut entry = IgnoreEntry {
        id: String::new(),
        reason: String::new(),
        expires: None,
        purls: Vec::new(),
        paths: Vec::new(),
        line: *line,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (key, key_line, value) in pairs {
        if seen.contains(&key.as_str()) {
            return Err((*key_line, format!("`{key}` is given twice")));
        }
        match key.as_str() {
            "id" => entry.id = text(key, value)?,
            "reason" => entry.reason = text(key, value)?,
            "expires" => {
                let date = text(key, value)?;
                if !is_date(&date) {
                    return Err((
                        value.line(),
                        format!("`expires: {date}` is not a date (YYYY-MM-DD)"),
                    ));
                }
                entry.expires = Some(date);
            }
            "purls" => entry.purls = list(key, value)?,
            "paths" => entry.paths = list(key, value)?,
            // Trivy's spelling of the reason: close enough to name the right key.
            "statement" => {
                return Err((
                    *key_line,
                    "unknown key `statement` (did you mean `reason`?)".into(),
                ));
            }
            other => {
                return Err((
                    *key_line,
                    format!("unknown key `{other}` (expected id, reason, expires, purls or paths)"),
                ));
            }
        }
        seen.push(key.as_str());
    }
    if entry.id.is_empty() {
        return Err((*line, "an entry needs an `id`".into()));
    }
    if entry.reason.is_empty() {
        return Err((
            *line,
            format!(
                "the entry for {} needs a `reason`: say why it is acceptable",
                entry.id
            ),
        ));
    }
    if let Some(purl) = entry.purls.iter().find(|purl| !purl.starts_with("pkg:")) {
        return Err((*line, format!("`{purl}` is not a purl (pkg:type/…)")));
    }
    Ok(entry)
}

fn text(key: &str, node: &yaml::Node) -> Result<String, (usize, String)> {
    match node {
        yaml::Node::Scalar(text, _) => Ok(text.trim().to_string()),
        other => Err((other.line(), format!("`{key}` must be a single value"))),
    }
}

fn list(key: &str, node: &yaml::Node) -> Result<Vec<String>, (usize, String)> {
    match node {
        yaml::Node::Sequence(items, _) => items
            .iter()
            .map(|item| match item {
                yaml::Node::Scalar(text, _) if !text.trim().is_empty() => {
                    Ok(text.trim().to_string())
                }
                other => Err((
                    other.line(),
                    format!("`{key}` items must be non-empty strings"),
                )),
            })
            .collect(),
        other => Err((other.line(), format!("`{key}` must be a list"))),
    }
}

/// `YYYY-MM-DD` naming a real day.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|part| part.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Suppresses the findings each live entry covers and returns warnings: entries past their
/// expiry date (they suppress nothing any more) and live entries that covered no finding (stale
/// or mistyped). `today` is the caller's date as `YYYY-MM-DD`. Findings already suppressed (by
/// VEX) keep that suppression but still count as covered.
pub fn apply(file: &IgnoreFile, today: &str, scan: &mut ImageScan) -> Vec<String> {
    let mut warnings = Vec::new();
    for entry in &file.entries {
        if let Some(expires) = &entry.expires
            && today > expires.as_str()
        {
            warnings.push(format!(
                "{}:{}: the entry for {} expired on {expires} and no longer suppresses anything: review it and renew or remove it",
                file.name, entry.line, entry.id
            ));
            continue;
        }
        let mut covered = false;
        for vulnerability in &mut scan.vulnerabilities {
            if !entry.covers(vulnerability) {
                continue;
            }
            covered = true;
            if vulnerability.suppressed.is_none() {
                let reason = match &entry.expires {
                    Some(expires) => format!("{} (until {expires})", entry.reason),
                    None => entry.reason.clone(),
                };
                vulnerability.suppressed = Some(Suppressed {
                    by: SUPPRESSED_BY.to_string(),
                    reason,
                });
            }
        }
        if !covered {
            warnings.push(format!(
                "{}:{}: the entry for {} matched no finding",
                file.name, entry.line, entry.id
            ));
        }
    }
    scan.refresh_summary();
    warnings
}

impl IgnoreEntry {
    fn covers(&self, vulnerability: &Vulnerability) -> bool {
        vulnerability
            .ids()
            .any(|id| id.eq_ignore_ascii_case(&self.id))
            && (self.purls.is_empty()
                || self
                    .purls
                    .iter()
                    .any(|prefix| purl_has_prefix(&vulnerability.package.purl, prefix)))
            && (self.paths.is_empty()
                || self
                    .paths
                    .iter()
                    .any(|glob| glob_matches(glob, &vulnerability.package.location)))
    }
}

/// Whether `purl` starts with `prefix` at a component boundary (`pkg:deb/debian/libxml2` covers
/// `…/libxml2@2.9.14` but not `…/libxml2-utils`), comparing percent-decoded text without
/// qualifiers or subpath.
fn purl_has_prefix(purl: &str, prefix: &str) -> bool {
    let base = |text: &str| -> String {
        let text = text.trim();
        let text = text.split_once('#').map_or(text, |(before, _)| before);
        let text = text.split_once('?').map_or(text, |(before, _)| before);
        purl_unescape(text.trim_end_matches('/'))
    };
    let (purl, prefix) = (base(purl), base(prefix));
    match purl.strip_prefix(&prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with(['@', '/']),
        None => false,
    }
}

/// Glob over a path: `*` and `?` stay within one path segment, `**` crosses segments, and
/// `**/` also matches no directory at all (`/app/**/x` matches `/app/x`). Dynamic programming
/// over (pattern, text) positions, so no pattern costs more than their product.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Literal(char),
        Any,
        Star,
        /// `**`; `slash` when written `**/`, which may also match nothing.
        Globstar {
            slash: bool,
        },
    }
    let chars: Vec<char> = glob.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        match c {
            '*' if chars.get(index + 1) == Some(&'*') => {
                let slash = chars.get(index + 2) == Some(&'/');
                tokens.push(Token::Globstar { slash });
                index += if slash { 3 } else { 2 };
                // `***` reads as `**`.
                while chars.get(index) == Some(&'*') {
                    index += 1;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                index += 1;
            }
            '?' => {
                tokens.push(Token::Any);
                index += 1;
            }
            other => {
                tokens.push(Token::Literal(other));
                index += 1;
            }
        }
    }
    let text: Vec<char> = path.chars().collect();
    // matched[j]: the tokens so far match text[..j].
    let mut matched = vec![false; text.len() + 1];
    if let Some(first) = matched.first_mut() {
        *first = true;
    }
    for token in tokens {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            let here = matched.get(j).copied().unwrap_or(false);
            let previous_char = j.checked_sub(1).and_then(|p| text.get(p)).copied();
            let previous_next = j
                .checked_sub(1)
                .and_then(|p| next.get(p))
                .copied()
                .unwrap_or(false);
            let previous_matched = j
                .checked_sub(1)
                .and_then(|p| matched.get(p))
                .copied()
                .unwrap_or(false);
            let value = match token {
                Token::Literal(c) => previous_matched && previous_char == Some(c),
                Token::Any => previous_matched && previous_char.is_some_and(|p| p != '/'),
                Token::Star => here || (previous_next && previous_char.is_some_and(|p| p != '/')),
                // Any run of characters; `**/` is narrowed to runs ending in `/` below.
                Token::Globstar { .. } => here || (previous_next && previous_char.is_some()),
            };
            if let Some(slot) = next.get_mut(j) {
                *slot = value;
            }
        }
        // `**/` consumed a `/` in the pattern: when it matched more than nothing, the text it
        // covered must end at a segment boundary.
        if let Token::Globstar { slash: true } = token {
            for j in 0..=text.len() {
                let here = matched.get(j).copied().unwrap_or(false);
                let ends_with_slash = j.checked_sub(1).and_then(|p| text.get(p)) == Some(&'/');
                if let Some(slot) = next.get_mut(j) {
                    *slot = here || (*slot && ends_with_slash);
                }
            }
        }
        matched = next;
    }
    matched.last().copied().unwrap_or(false)
}

/// A small YAML document tree with line numbers, built from `saphyr-parser` events. Anchors and
/// aliases are refused: an ignore file has no use for them, and expanding them is how YAML
/// bombs work.
mod yaml {
    use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

    #[derive(Debug)]
    pub enum Node {
        /// Text (empty for a null such as `key:` with nothing after it).
        Scalar(String, usize),
        Sequence(Vec<Node>, usize),
        /// Key, line of the key, value.
        Mapping(Vec<(String, usize, Node)>, usize),
    }

    impl Node {
        pub fn line(&self) -> usize {
            match self {
                Node::Scalar(_, line) | Node::Sequence(_, line) | Node::Mapping(_, line) => *line,
            }
        }
    }

    pub enum Error {
        Scan(ScanError),
        At(usize, String),
    }

    enum Frame {
        Sequence(Vec<Node>, usize),
        Mapping {
            pairs: Vec<(String, usize, Node)>,
            line: usize,
            key: Option<(String, usize)>,
        },
    }

    /// Deeper nesting than an ignore file can need; bounds the stack for hostile input.
    const MAX_DEPTH: usize = 64;

    /// The first document of `text`, `None` when it has none. More than one document is an
    /// error: the others would be ignored silently.
    pub fn parse(text: &str) -> Result<Option<Node>, Error> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        let mut documents = 0;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(Error::Scan)?;
            let line = span.start.line();
            let complete = match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(Error::At(
                            line,
                            "more than one YAML document: put every entry in one".into(),
                        ));
                    }
                    continue;
                }
                Event::Alias(_) => {
                    return Err(Error::At(
                        line,
                        "YAML aliases are not supported here".into(),
                    ));
                }
                Event::Scalar(_, _, anchor, _) if anchor != 0 => {
                    return Err(Error::At(
                        line,
                        "YAML anchors are not supported here".into(),
                    ));
                }
                // A plain `~` or `null` is YAML's null: `reason: ~` gives no reason.
                Event::Scalar(value, ScalarStyle::Plain, ..)
                    if matches!(value.as_ref(), "~" | "null" | "Null" | "NULL") =>
                {
                    Node::Scalar(String::new(), line)
                }
                Event::Scalar(value, ..) => Node::Scalar(value.into_owned(), line),
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
                    return Err(Error::At(
                        line,
                        "YAML anchors are not supported here".into(),
                    ));
                }
                Event::SequenceStart(..) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::At(line, "nested too deeply".into()));
                    }
                    stack.push(Frame::Sequence(Vec::new(), line));
                    continue;
                }
                Event::MappingStart(..) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::At(line, "nested too deeply".into()));
                    }
                    stack.push(Frame::Mapping {
                        pairs: Vec::new(),
                        line,
                        key: None,
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                    Some(Frame::Sequence(items, line)) => Node::Sequence(items, line),
                    Some(Frame::Mapping { pairs, line, .. }) => Node::Mapping(pairs, line),
                    None => continue,
                },
                _ => continue,
            };
            match stack.last_mut() {
                None => root = Some(complete),
                Some(Frame::Sequence(items, _)) => items.push(complete),
                Some(Frame::Mapping { pairs, key, .. }) => match key.take() {
                    Some((name, key_line)) => pairs.push((name, key_line, complete)),
                    None => match complete {
                        Node::Scalar(name, key_line) => *key = Some((name, key_line)),
                        other => {
                            return Err(Error::At(
                                other.line(),
                                "mapping keys must be plain strings".into(),
                            ));
                        }
                    },
                },
            }
        }
        Ok(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches(
            "/app/**",
            "/app/node_modules/lodash/package.json"
        ));
        assert!(glob_matches("/app/**", "/app/"));
        assert!(!glob_matches("/app/**", "/application/x"));
        assert!(glob_matches("/app/**/package.json", "/app/package.json"));
        assert!(glob_matches(
            "/app/**/package.json",
            "/app/a/b/package.json"
        ));
        assert!(!glob_matches(
            "/app/**/package.json",
            "/app/a/b/package.jsonx"
        ));
        assert!(!glob_matches("/app/**/package.json", "/app/xpackage.json"));
        assert!(glob_matches("/usr/lib/*.so.?", "/usr/lib/libz.so.1"));
        assert!(!glob_matches("/usr/lib/*.so.?", "/usr/lib/x/libz.so.1"));
        assert!(glob_matches("*", "status"));
        assert!(!glob_matches("*", "var/status"));
        assert!(glob_matches("**", "var/lib/dpkg/status"));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "x"));
        assert!(glob_matches("/var/lib/dpkg/status", "/var/lib/dpkg/status"));
        // Pathological pattern stays polynomial.
        let long = "a".repeat(200);
        assert!(!glob_matches(&"*a".repeat(50).replace('a', "*b"), &long));
    }

    #[test]
    fn purl_prefixes() {
        let purl = "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=debian-12";
        assert!(purl_has_prefix(purl, "pkg:deb/debian/libxml2"));
        assert!(purl_has_prefix(purl, "pkg:deb/debian/libxml2?arch=arm64"));
        assert!(purl_has_prefix(
            purl,
            "pkg:deb/debian/libxml2@2.9.14+dfsg-1.3~deb12u1"
        ));
        assert!(purl_has_prefix(purl, "pkg:deb/debian"));
        assert!(!purl_has_prefix(purl, "pkg:deb/debian/libxml"));
        assert!(!purl_has_prefix(
            "pkg:deb/debian/libxml2-utils@1",
            "pkg:deb/debian/libxml2"
        ));
        assert!(purl_has_prefix(
            "pkg:npm/%40types/node@20.1.0",
            "pkg:npm/@types/node"
        ));
    }

    #[test]
    fn dates() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2023-1-01"));
        assert!(!is_date("2023-13-01"));
        assert!(!is_date("２０２３-01-01"));
    }

    #[test]
    fn yaml_refusals() {
        for (text, line) in [
            ("a: &x 1\nb: *x\n", 1),
            ("vulnerabilities: []\n---\nvulnerabilities: []\n", 2),
            ("? [a]\n: b\n", 1),
        ] {
            match yaml::parse(text) {
                Err(yaml::Error::At(at, _)) => assert_eq!(at, line, "{text}"),
                _ => panic!("{text} should be refused"),
            }
        }
        let deep = "[".repeat(200);
        assert!(yaml::parse(&deep).is_err());
    }
}
