//! Text helpers shared by the formats: making untrusted strings safe to print, wrapping, naming.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that must not reach a terminal or an XML document as they are: C0 and C1 controls
/// (an ESC in a manifest value could rewrite the user's terminal) and the Unicode bidirectional
/// overrides that make text display differently from what it is ("Trojan Source").
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}')
}

/// `s` with every unsafe character written as a visible Rust-style escape (`\u{1b}`), so the
/// reader still sees that something odd was there. Line breaks and tabs become spaces because the
/// callers lay text out themselves.
pub(crate) fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\t' | '\r' => out.push(' '),
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Display width of `s`, counted in characters: exact for the ASCII text reports are made of and
/// close enough for the rest (wide East Asian characters count as one).
pub(crate) fn width(s: &str) -> usize {
    s.chars().count()
}

/// Breaks `text` into lines of at most `width` characters at spaces. Always returns at least one
/// line so callers can print a row even for an empty message.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, width)
}

/// Like [`wrap`], with a different width for the first line (a message that starts further right
/// on its row). A word longer than a line is cut, preferably after a `.`, `/`, `-`, `_` or `=` so
/// field paths and image references break where a reader expects.
pub(crate) fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let line_width = |lines: &Vec<String>| if lines.is_empty() { first } else { rest }.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word;
        loop {
            let limit = line_width(&lines);
            let word_width = self::width(word);
            let needed = if line.is_empty() {
                word_width
            } else {
                used + 1 + word_width
            };
            if needed <= limit {
                if !line.is_empty() {
                    line.push(' ');
                    used += 1;
                }
                line.push_str(word);
                used += word_width;
                break;
            }
            // A word that would fit on a line of its own moves there; a longer one is cut to fill
            // the rest of the current line.
            let room = if line.is_empty() {
                limit
            } else {
                limit.saturating_sub(used + 1)
            };
            let cut = if word_width <= rest {
                None
            } else {
                cut_point(word, room)
            };
            match cut {
                Some(at) => {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(&word[..at]);
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                    word = &word[at..];
                }
                None => {
                    if line.is_empty() {
                        // Not even one character fits (zero room): take one to make progress.
                        let at = word.chars().next().map_or(word.len(), char::len_utf8);
                        lines.push(word[..at].to_string());
                        word = &word[at..];
                    } else {
                        lines.push(std::mem::take(&mut line));
                        used = 0;
                    }
                }
            }
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where to cut `word` so at most `room` characters stay on this line: after the last separator
/// that fits, unless that would leave the line mostly empty, else exactly at `room`. `None` when
/// nothing fits.
fn cut_point(word: &str, room: usize) -> Option<usize> {
    if room == 0 {
        return None;
    }
    let hard = word
        .char_indices()
        .nth(room)
        .map_or(word.len(), |(at, _)| at);
    let soft = word[..hard]
        .char_indices()
        .filter(|(_, c)| matches!(c, '.' | '/' | '-' | '_' | '=' | ','))
        .map(|(at, c)| at + c.len_utf8())
        .next_back();
    match soft {
        Some(at) if word[..at].chars().count() * 3 >= room => Some(at),
        _ => Some(hard),
    }
}

/// `host-path-sensitive` → `HostPathSensitive`, `allowPrivilegeEscalation` →
/// `AllowPrivilegeEscalation`: SARIF's `name` is meant to be such an identifier.
pub(crate) fn pascal_case(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut upper = true;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_terminal_controls_and_bidi_overrides() {
        assert_eq!(printable("plain `text`"), "plain `text`");
        assert_eq!(printable("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("x\u{202e}y\u{85}"), "x\\u{202e}y\\u{85}");
        assert_eq!(printable("two\nlines"), "two lines");
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("x  y", 10), vec!["x y"]);
        assert_eq!(wrap("ab ééééé", 3), vec!["ab", "ééé", "éé"]);
        assert_eq!(
            wrap("set securityContext.allowPrivilegeEscalation=false", 24),
            vec!["set securityContext.", "allowPrivilegeEscalation", "=false"]
        );
        assert_eq!(
            wrap_hanging("one two three four", 4, 9),
            vec!["one", "two three", "four"]
        );
        assert_eq!(wrap("abc", 0), vec!["a", "b", "c"]);
    }

    #[test]
    fn pascal_cases_check_ids() {
        assert_eq!(pascal_case("host-path-sensitive"), "HostPathSensitive");
        assert_eq!(
            pascal_case("allowPrivilegeEscalation"),
            "AllowPrivilegeEscalation"
        );
        assert_eq!(pascal_case("rbac.wildcard_verbs"), "RbacWildcardVerbs");
    }
}
