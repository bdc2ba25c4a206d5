//! The compiled condition tree and its evaluation.
//!
//! Missing values follow libsinsp (`sinsp_filter_check::compare_nocache`): when a field has no
//! value the check is false whatever the operator — `!=` included — and only a surrounding
//! `not` turns it true. `exists` is true exactly when there is a value. A list field with no
//! elements counts as having no value, like a plugin extraction that returns nothing.

use crate::fields::{Event, FieldValue};
use std::collections::HashSet;

/// A set of strings from a rule (`in`, `intersects` lists), hashed with foldhash: these sets are
/// probed once per event and check, where SipHash showed in profiles.
pub(crate) type StrSet = HashSet<String, foldhash::fast::FixedState>;
use std::net::IpAddr;

#[derive(Debug)]
pub(crate) enum Cond {
    And(Box<[Cond]>),
    Or(Box<[Cond]>),
    Not(Box<Cond>),
    Check(Box<Check>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FieldRef {
    pub id: u32,
    pub arg: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Check {
    pub field: FieldRef,
    pub test: Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    /// The pattern is stored ASCII-lowercased (libsinsp's icontains is `strcasestr`, ASCII only).
    IContains,
    StartsWith,
    EndsWith,
    Glob,
    IGlob,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A CIDR network (`10.0.0.0/8`) or a single address (prefix = full length).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    pub fn parse(text: &str) -> Option<Net> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

#[derive(Debug)]
pub(crate) enum Test {
    Exists,
    Str(StrOp, String),
    StrIn(StrSet),
    /// Path prefixes, without trailing `/`.
    PMatch(Vec<String>),
    Num(NumOp, i64),
    NumIn(Vec<i64>),
    Bool(bool, bool),
    BoolIn(Vec<bool>),
    /// `=` (true) or `!=` (false) an address.
    Ip(bool, IpAddr),
    /// `=` (true) or `!=` (false) a network: membership, as libsinsp's IPNET fields.
    Net(bool, Net),
    IpIn(Vec<Net>),
    /// Every element of the list field is in the set.
    ListIn(StrSet),
    /// Some element of the list field is in the set.
    ListIntersects(StrSet),
    /// The inner test on a field with several candidate values (`proc.aname`): true when it
    /// holds for one of them.
    AnyOf(Box<Test>),
}

impl Cond {
    pub fn eval(&self, event: &dyn Event) -> bool {
        match self {
            Cond::And(children) => children.iter().all(|c| c.eval(event)),
            Cond::Or(children) => children.iter().any(|c| c.eval(event)),
            Cond::Not(child) => !child.eval(event),
            Cond::Check(check) => {
                let value = event.value(check.field.id, check.field.arg.as_deref());
                check.test.matches(&value)
            }
        }
    }
}

/// Renders a number without allocating: the longest i64 is 20 characters.
struct NumText {
    buf: [u8; 24],
    start: usize,
}

impl NumText {
    fn new(n: i64) -> Self {
        let mut buf = [0u8; 24];
        let mut i = buf.len();
        let neg = n < 0;
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if neg {
            i -= 1;
            buf[i] = b'-';
        }
        NumText { buf, start: i }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(self.start..).unwrap_or(&[])).unwrap_or("")
    }
}

pub(crate) fn with_text<R>(value: &FieldValue<'_>, f: impl FnOnce(&str) -> R) -> Option<R> {
    match value {
        FieldValue::Missing => None,
        FieldValue::Str(s) => Some(f(s)),
        FieldValue::Number(n) => Some(f(NumText::new(*n).as_str())),
        FieldValue::Bool(b) => Some(f(if *b { "true" } else { "false" })),
        // A scalar check on a list value: libsinsp rejects multi-valued extraction for
        // non-list fields, so only a single element is meaningful.
        FieldValue::List(items) => match items.as_slice() {
            [one] => Some(f(one)),
            _ => None,
        },
    }
}

pub(crate) fn as_number(value: &FieldValue<'_>) -> Option<i64> {
    match value {
        FieldValue::Number(n) => Some(*n),
        FieldValue::Str(s) => s.trim().parse().ok(),
        FieldValue::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn as_bool(value: &FieldValue<'_>) -> Option<bool> {
    match value {
        FieldValue::Bool(b) => Some(*b),
        FieldValue::Str(s) => match s.as_ref() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        FieldValue::Number(n) => Some(*n != 0),
        _ => None,
    }
}

impl Test {
    pub fn matches(&self, value: &FieldValue<'_>) -> bool {
        if matches!(value, FieldValue::Missing) {
            return false;
        }
        if let FieldValue::List(items) = value
            && items.is_empty()
        {
            return false;
        }
        match self {
            Test::Exists => true,
            Test::Str(op, pattern) => {
                with_text(value, |s| str_test(*op, s, pattern)).unwrap_or(false)
            }
            Test::StrIn(set) => with_text(value, |s| set.contains(s)).unwrap_or(false),
            Test::PMatch(prefixes) => {
                with_text(value, |s| prefixes.iter().any(|p| path_prefix(p, s))).unwrap_or(false)
            }
            Test::Num(op, n) => as_number(value).is_some_and(|v| match op {
                NumOp::Eq => v == *n,
                NumOp::Ne => v != *n,
                NumOp::Lt => v < *n,
                NumOp::Le => v <= *n,
                NumOp::Gt => v > *n,
                NumOp::Ge => v >= *n,
            }),
            Test::NumIn(set) => as_number(value).is_some_and(|v| set.contains(&v)),
            Test::Bool(eq, b) => as_bool(value).is_some_and(|v| (v == *b) == *eq),
            Test::BoolIn(set) => as_bool(value).is_some_and(|v| set.contains(&v)),
            Test::Ip(eq, ip) => ends_match(value, *eq, |v| v == *ip),
            Test::Net(eq, net) => ends_match(value, *eq, |v| net.contains(v)),
            Test::IpIn(nets) => ends_match(value, true, |v| nets.iter().any(|n| n.contains(v))),
            Test::ListIn(set) => match value {
                FieldValue::List(items) => items.iter().all(|i| set.contains(i.as_ref())),
                other => with_text(other, |s| set.contains(s)).unwrap_or(false),
            },
            Test::ListIntersects(set) => match value {
                FieldValue::List(items) => items.iter().any(|i| set.contains(i.as_ref())),
                other => with_text(other, |s| set.contains(s)).unwrap_or(false),
            },
            Test::AnyOf(inner) => match value {
                FieldValue::List(items) => items
                    .iter()
                    .any(|i| inner.matches(&FieldValue::Str(std::borrow::Cow::Borrowed(i)))),
                other => inner.matches(other),
            },
        }
    }
}

/// An address test on an IP or network field, following libsinsp's `compare_ip`/`compare_net`:
/// a value with several addresses (both ends of a connection, `fd.ip`/`fd.net`) satisfies `=`
/// and `in` when one end does, and `!=` only when no end equals / lies in the operand. An
/// unparsable address satisfies nothing.
fn ends_match(value: &FieldValue<'_>, eq: bool, hit: impl Fn(IpAddr) -> bool) -> bool {
    let test = |s: &str| s.trim().parse::<IpAddr>().ok().map(&hit);
    match value {
        FieldValue::List(items) if items.len() > 1 => {
            let mut hits = items.iter().map(|i| test(i));
            if eq {
                hits.any(|h| h == Some(true))
            } else {
                hits.all(|h| h == Some(false))
            }
        }
        other => with_text(other, test).flatten().is_some_and(|h| h == eq),
    }
}

fn str_test(op: StrOp, s: &str, pattern: &str) -> bool {
    match op {
        StrOp::Eq => s == pattern,
        StrOp::Ne => s != pattern,
        StrOp::Lt => s < pattern,
        StrOp::Le => s <= pattern,
        StrOp::Gt => s > pattern,
        StrOp::Ge => s >= pattern,
        StrOp::Contains => s.contains(pattern),
        StrOp::IContains => contains_ascii_ci(s.as_bytes(), pattern.as_bytes()),
        StrOp::StartsWith => s.starts_with(pattern),
        StrOp::EndsWith => s.ends_with(pattern),
        StrOp::Glob => glob(pattern.as_bytes(), s.as_bytes(), false),
        StrOp::IGlob => glob(pattern.as_bytes(), s.as_bytes(), true),
    }
}

/// `lower_needle` is already lowercase. Candidates are found with `memchr` on the needle's first
/// byte in both cases, then checked; the byte-window loop this replaces was the hottest function
/// of audit-log analysis (user agents tested against every `icontains` rule).
fn contains_ascii_ci(hay: &[u8], lower_needle: &[u8]) -> bool {
    let Some((&first, rest)) = lower_needle.split_first() else {
        return true;
    };
    let last_start = match hay.len().checked_sub(lower_needle.len()) {
        Some(n) => n,
        None => return false,
    };
    let window = hay.get(..=last_start).unwrap_or_default();
    let mut from = 0;
    while let Some(found) = window
        .get(from..)
        .and_then(|w| memchr::memchr2(first, first.to_ascii_uppercase(), w))
    {
        let at = from + found;
        let candidate = hay.get(at + 1..at + lower_needle.len()).unwrap_or_default();
        if candidate.len() == rest.len()
            && candidate
                .iter()
                .zip(rest)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        {
            return true;
        }
        from = at + 1;
    }
    false
}

/// libsinsp's `pmatch`: the value is the prefix directory itself or lies below it.
fn path_prefix(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

/// fnmatch(3) without flags, as libsinsp's `glob`: `*` (also across `/`), `?`, `[...]`,
/// `[!...]`, `\` escapes. Iterative with single backtrack point, so linear in practice and
/// never recursive on hostile patterns.
pub(crate) fn glob(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let tc = text[t];
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => match class(pattern, p + 1, tc, fold) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                // An unclosed `[` is a literal character.
                None => eq(b'[', tc).then_some(p + 1),
            },
            Some(b'\\') if p + 1 < pattern.len() => eq(pattern[p + 1], tc).then_some(p + 2),
            Some(&c) => eq(c, tc).then_some(p + 1),
            None => None,
        };
        match step {
            Some(next) => {
                p = next;
                t += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).unwrap_or(&[]).iter().all(|c| *c == b'*')
}

/// Matches `c` against the bracket expression starting after `[` at `start`; returns whether
/// it matched and the index after `]`, or `None` if the bracket is not closed.
fn class(pattern: &[u8], start: usize, c: u8, fold: bool) -> Option<(bool, usize)> {
    let mut i = start;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    let norm = |x: u8| if fold { x.to_ascii_lowercase() } else { x };
    loop {
        let lo = *pattern.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|h| *h != b']') {
            let hi = *pattern.get(i + 2)?;
            if norm(lo) <= norm(c) && norm(c) <= norm(hi) {
                matched = true;
            }
            i += 3;
        } else {
            if norm(lo) == norm(c) {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icontains_agrees_with_the_byte_window_definition() {
        let naive = |hay: &str, needle: &str| {
            needle.is_empty()
                || hay.as_bytes().windows(needle.len()).any(|w| {
                    w.iter()
                        .zip(needle.as_bytes())
                        .all(|(a, b)| a.to_ascii_lowercase() == *b)
                })
        };
        let hays = [
            "",
            "k",
            "K",
            "kube-hunter",
            "Mozilla KUBE-HUNTER/1",
            "kkube-hunte",
            "xx Kube-Hunter",
            "kube-hunter!",
            "Ünïcode kube-hunter",
            "kubectl/v1.36 kube",
        ];
        let needles = ["", "k", "kube-hunter", "-", "hunter", "ünï", "kube"];
        for hay in hays {
            for needle in needles {
                assert_eq!(
                    contains_ascii_ci(hay.as_bytes(), needle.as_bytes()),
                    naive(hay, needle),
                    "{hay:?} icontains {needle:?}"
                );
            }
        }
    }

    #[test]
    fn glob_semantics() {
        assert!(glob(b"/etc/*", b"/etc/a/b", false));
        assert!(glob(b"*.sh", b"run.sh", false));
        assert!(!glob(b"*.sh", b"run.shx", false));
        assert!(glob(b"r?n[a-c]", b"runb", false));
        assert!(!glob(b"r?n[!a-c]", b"runb", false));
        assert!(glob(b"RUN*", b"runner", true));
        assert!(glob(b"a[", b"a[", false));
        assert!(!glob(b"", b"x", false));
    }

    #[test]
    fn cidr_and_numbers() {
        let net = Net::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.1.2.3".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert_eq!(NumText::new(i64::MIN).as_str(), i64::MIN.to_string());
        assert_eq!(NumText::new(0).as_str(), "0");
    }

    #[test]
    fn pmatch_is_component_aware() {
        assert!(path_prefix("/etc", "/etc/passwd"));
        assert!(path_prefix("/etc", "/etc"));
        assert!(!path_prefix("/etc", "/etcd/x"));
    }
}
