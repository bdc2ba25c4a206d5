//! Maven versions, ordered as `org.apache.maven.artifact.versioning.ComparableVersion` of Maven 3.9
//! orders them (apache/maven, maven-artifact/src/main/java/org/apache/maven/artifact/versioning/
//! ComparableVersion.java on the maven-3.9.x line, including MNG-6964 and MNG-7644).
//!
//! The version is lowercased and split into items: numbers, qualifiers and sub-lists. A `-` opens a
//! sub-list, and so does every letter/digit transition; a qualifier after a `.` is treated as if it
//! followed a `-` (MNG-7644: `1.0.0.RC1 < 1.0.0-RC2`). Known qualifiers order
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`, `a1`/`b1`/`m1`
//! mean alpha/beta/milestone when a digit follows, unknown qualifiers sort after known ones,
//! lexically. Each list is normalised by removing trailing "null" items (`0`, `""`, empty lists),
//! skipping over a trailing sub-list.
//!
//! Because a new list is always appended to the list being filled and then becomes the one being
//! filled, the lists form a chain (each list's last element is the next list). That allows a flat
//! representation (one item vector, one span per list) and iterative comparison: no recursion, so
//! no stack exhaustion on hostile input such as `a1a1a1...`.
//!
//! Deviations: only ASCII digits are digits (Java's `Character.isDigit` also accepts other Unicode
//! decimal digits), and unknown qualifiers compare by Unicode scalar value where Java compares
//! UTF-16 code units (these differ only between supplementary-plane characters and U+E000..U+FFFF).

use std::cmp::Ordering;

use super::semver::cmp_decimal;
use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    // ComparableVersion accepts every string; only the empty one is refused here, because an
    // advisory bound or installed version that is empty is a data error rather than version "0".
    for v in [a, b] {
        if v.is_empty() {
            return Err(VersionError::new(Scheme::Maven, v, "empty version"));
        }
    }
    let lower_a = a.to_lowercase();
    let lower_b = b.to_lowercase();
    let left = Items::parse(&lower_a);
    let right = Items::parse(&lower_b);
    Ok(cmp_lists(&left, 0, &right, 0))
}

/// Index of the release qualifier `""` in `QUALIFIERS`.
const RELEASE: u8 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier<'a> {
    /// Index in `alpha, beta, milestone, rc, snapshot, "", sp`.
    Known(u8),
    Other(&'a str),
}

impl<'a> Qualifier<'a> {
    /// `StringItem(value, followedByDigit)`.
    fn new(value: &'a str, followed_by_digit: bool) -> Qualifier<'a> {
        let value = match (followed_by_digit, value) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            _ => value,
        };
        match value {
            "alpha" => Qualifier::Known(0),
            "beta" => Qualifier::Known(1),
            "milestone" => Qualifier::Known(2),
            "rc" | "cr" => Qualifier::Known(3),
            "snapshot" => Qualifier::Known(4),
            "" | "ga" | "final" | "release" => Qualifier::Known(RELEASE),
            "sp" => Qualifier::Known(6),
            other => Qualifier::Other(other),
        }
    }

    /// `comparableQualifier(a).compareTo(comparableQualifier(b))`: known ones by index (rendered as
    /// one digit), unknown ones as `"7-" + value`, so after every known one and lexical among
    /// themselves.
    fn cmp(self, other: Qualifier<'_>) -> Ordering {
        match (self, other) {
            (Qualifier::Known(a), Qualifier::Known(b)) => a.cmp(&b),
            (Qualifier::Known(_), Qualifier::Other(_)) => Ordering::Less,
            (Qualifier::Other(_), Qualifier::Known(_)) => Ordering::Greater,
            (Qualifier::Other(a), Qualifier::Other(b)) => a.cmp(b),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item<'a> {
    /// Decimal digits without leading zeros (`""` is zero). Int, Long and BigInteger items order
    /// by value, which for zero-stripped digit strings is length then bytes.
    Number(&'a str),
    Qualifier(Qualifier<'a>),
}

impl Item<'_> {
    fn is_null(self) -> bool {
        match self {
            Item::Number(n) => n.is_empty(),
            Item::Qualifier(q) => q == Qualifier::Known(RELEASE),
        }
    }

    /// `item.compareTo(null)`: how the item compares with a missing one.
    fn cmp_missing(self) -> Ordering {
        match self {
            Item::Number("") => Ordering::Equal,
            Item::Number(_) => Ordering::Greater,
            Item::Qualifier(q) => q.cmp(Qualifier::Known(RELEASE)),
        }
    }

    fn cmp(self, other: Item<'_>) -> Ordering {
        match (self, other) {
            (Item::Number(a), Item::Number(b)) => cmp_decimal(a, b),
            // 1.1 > 1-sp
            (Item::Number(_), Item::Qualifier(_)) => Ordering::Greater,
            (Item::Qualifier(_), Item::Number(_)) => Ordering::Less,
            (Item::Qualifier(a), Item::Qualifier(b)) => a.cmp(b),
        }
    }

    /// `item.compareTo(list)`: a number is greater than a sub-list (1.1 > 1-1), a qualifier less
    /// (1.any < 1-1).
    fn cmp_list(self) -> Ordering {
        match self {
            Item::Number(_) => Ordering::Greater,
            Item::Qualifier(_) => Ordering::Less,
        }
    }
}

/// One list of the chain: its own items and whether the next list is still its last element.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    child: bool,
}

/// The parsed item lists: list `k`'s elements are `items[spans[k].start..spans[k].end]` followed by
/// list `k + 1` when `spans[k].child`.
#[derive(Debug)]
struct Items<'a> {
    items: Vec<Item<'a>>,
    spans: Vec<Span>,
}

fn parse_item(is_digit: bool, text: &str) -> Item<'_> {
    if is_digit {
        Item::Number(text.trim_start_matches('0'))
    } else {
        Item::Qualifier(Qualifier::new(text, false))
    }
}

enum Element<'a> {
    Item(Item<'a>),
    List(usize),
}

impl<'a> Items<'a> {
    /// `ComparableVersion.parseVersion` on an already lowercased version.
    fn parse(version: &'a str) -> Items<'a> {
        let mut parsed = Items {
            items: Vec::with_capacity(8),
            spans: vec![Span {
                start: 0,
                end: 0,
                child: false,
            }],
        };
        let mut is_digit = false;
        let mut start = 0;
        for (i, c) in version.char_indices() {
            let token = version.get(start..i).unwrap_or("");
            if c == '.' {
                parsed.push(if i == start {
                    Item::Number("")
                } else {
                    parse_item(is_digit, token)
                });
                start = i + 1;
            } else if c == '-' {
                parsed.push(if i == start {
                    Item::Number("")
                } else {
                    parse_item(is_digit, token)
                });
                start = i + 1;
                parsed.open_list();
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X.
                    if !parsed.current_is_empty() {
                        parsed.open_list();
                    }
                    parsed.push(Item::Qualifier(Qualifier::new(token, true)));
                    start = i;
                    parsed.open_list();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    parsed.push(parse_item(true, token));
                    start = i;
                    parsed.open_list();
                }
                is_digit = false;
            }
        }
        if version.len() > start {
            if !is_digit && !parsed.current_is_empty() {
                parsed.open_list();
            }
            parsed.push(parse_item(is_digit, version.get(start..).unwrap_or("")));
        }
        parsed.normalize();
        parsed
    }

    fn push(&mut self, item: Item<'a>) {
        self.items.push(item);
        if let Some(last) = self.spans.last_mut() {
            last.end = self.items.len();
        }
    }

    fn current_is_empty(&self) -> bool {
        self.spans.last().is_none_or(|s| s.start == s.end)
    }

    fn open_list(&mut self) {
        if let Some(last) = self.spans.last_mut() {
            last.child = true;
        }
        let at = self.items.len();
        self.spans.push(Span {
            start: at,
            end: at,
            child: false,
        });
    }

    /// `ListItem.normalize()` on every list, innermost first (the order the parser's stack pops).
    fn normalize(&mut self) {
        for k in (0..self.spans.len()).rev() {
            let child_is_empty = self
                .spans
                .get(k + 1)
                .is_none_or(|c| c.start == c.end && !c.child);
            let Some(span) = self.spans.get_mut(k) else {
                continue;
            };
            if span.child && child_is_empty {
                span.child = false;
            }
            while span.end > span.start {
                let last = self.items.get(span.end - 1).copied();
                match last {
                    Some(item) if item.is_null() => span.end -= 1,
                    _ => break,
                }
            }
        }
    }

    fn element(&self, list: usize, index: usize) -> Option<Element<'a>> {
        let span = self.spans.get(list)?;
        let len = span.end - span.start;
        if index < len {
            self.items
                .get(span.start + index)
                .copied()
                .map(Element::Item)
        } else if index == len && span.child {
            Some(Element::List(list + 1))
        } else {
            None
        }
    }

    /// `list.compareTo(null)`: the first element that differs from "missing" decides (MNG-6964).
    fn cmp_missing(&self, mut list: usize) -> Ordering {
        loop {
            let Some(span) = self.spans.get(list) else {
                return Ordering::Equal;
            };
            for item in self.items.get(span.start..span.end).unwrap_or(&[]) {
                let ord = item.cmp_missing();
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            if !span.child {
                return Ordering::Equal;
            }
            list += 1;
        }
    }
}

/// `ListItem.compareTo(ListItem)`; the sub-list is always the last element on both sides, so
/// comparing two sub-lists is a tail call and becomes the next loop iteration.
fn cmp_lists(a: &Items<'_>, mut la: usize, b: &Items<'_>, mut lb: usize) -> Ordering {
    'lists: loop {
        let mut index = 0;
        loop {
            let ord = match (a.element(la, index), b.element(lb, index)) {
                (None, None) => return Ordering::Equal,
                (Some(Element::Item(x)), Some(Element::Item(y))) => x.cmp(y),
                (Some(Element::Item(x)), Some(Element::List(_))) => x.cmp_list(),
                (Some(Element::List(_)), Some(Element::Item(y))) => y.cmp_list().reverse(),
                (Some(Element::List(x)), Some(Element::List(y))) => {
                    la = x;
                    lb = y;
                    continue 'lists;
                }
                (Some(Element::Item(x)), None) => x.cmp_missing(),
                (Some(Element::List(x)), None) => a.cmp_missing(x),
                (None, Some(Element::Item(y))) => y.cmp_missing().reverse(),
                (None, Some(Element::List(y))) => b.cmp_missing(y).reverse(),
            };
            if ord != Ordering::Equal {
                return ord;
            }
            index += 1;
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
    fn qualifier_order() {
        let chain = [
            "1-alpha-1",
            "1-beta-1",
            "1-milestone-1",
            "1-rc-1",
            "1-snapshot",
            "1",
            "1-sp",
            "1-foo",
            "1-1",
            "1.1",
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
        assert_eq!(ord("1.0.RELEASE", "1"), Ordering::Equal);
        assert_eq!(ord("1-cr-1", "1-RC1"), Ordering::Equal);
    }

    #[test]
    fn hostile_nesting_does_not_recurse() {
        let deep = "a1".repeat(50_000);
        assert_eq!(ord(&deep, &deep), Ordering::Equal);
        assert_eq!(ord(&deep, "1"), Ordering::Less);
        assert!(compare("", "1").is_err());
    }
}
