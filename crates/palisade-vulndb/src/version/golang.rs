//! Go versions: module versions and the Go toolchain (`stdlib`/`toolchain` packages).
//!
//! Module versions follow `golang.org/x/mod/semver`: `vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]`, numbers
//! without leading zeros, `v1` = `v1.0.0`, `v1.2` = `v1.2.0`, build metadata (including
//! `+incompatible`) ignored for ordering. Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`) are ordinary pre-releases and need no special case. OSV
//! writes Go versions without the `v`, so it is optional here.
//!
//! Toolchain versions follow Go's `internal/gover` (src/internal/gover/gover.go), accepted with a
//! `go` prefix (`go1.21.3`, `go1.21rc2`, `go1.9`) or bare (`1.21.3`, `1.21rc2`): `1` is `1.0.0`,
//! `1.x` is `1.x.0` before Go 1.21, and from 1.21 on `1.21` is the *language* version, which
//! gover orders as `1.21 < 1.21rc1 < 1.21.0` (its `Compare` doc comment). Two toolchain versions are
//! compared with gover's `Compare` exactly.
//!
//! When a toolchain version meets a module-style version (an SBOM's `go1.21rc2` against an OSV
//! `stdlib` event `1.21.0-rc.2`), both are placed on the SemVer line the way the Go vulnerability
//! database converts toolchain tags (x/vulndb `GoTagToSemver`): `1.21rc2` is `1.21.0-rc.2`,
//! `1.21beta1` is `1.21.0-beta.1`, and the language version `1.21` is `1.21.0-0`, the lowest
//! pre-release, which keeps it below every pre-release as gover does.

use std::cmp::Ordering;

use super::semver::{cmp_decimal, cmp_prerelease};
use super::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let left = GoVersion::parse(a).ok_or_else(|| invalid(a))?;
    let right = GoVersion::parse(b).ok_or_else(|| invalid(b))?;
    Ok(match (left, right) {
        (GoVersion::Toolchain(x), GoVersion::Toolchain(y)) => gover_compare(&x, &y),
        (x, y) => x.semver_key().cmp_key(&y.semver_key()),
    })
}

fn invalid(version: &str) -> VersionError {
    VersionError::new(
        Scheme::Go,
        version,
        "neither a module version (v1.2.3[-pre][+build]) nor a Go toolchain version (go1.21.3, go1.21rc2)",
    )
}

#[derive(Debug, Clone, Copy)]
enum GoVersion<'a> {
    Toolchain(Gover<'a>),
    Module(Module<'a>),
}

impl<'a> GoVersion<'a> {
    fn parse(input: &'a str) -> Option<GoVersion<'a>> {
        let text = input.trim();
        if let Some(rest) = text.strip_prefix("go") {
            return Gover::parse(rest).map(GoVersion::Toolchain);
        }
        if let Some(rest) = text.strip_prefix('v') {
            return Module::parse(rest).map(GoVersion::Module);
        }
        // Bare: a toolchain version when gover accepts it (`1.21.3`, `1.21rc2`, `1.9`), otherwise
        // an OSV module version without its `v` (`1.2.3-pre`, pseudo-versions).
        if let Some(gover) = Gover::parse(text) {
            return Some(GoVersion::Toolchain(gover));
        }
        Module::parse(text).map(GoVersion::Module)
    }

    fn semver_key(&self) -> SemverKey<'a> {
        match *self {
            GoVersion::Module(m) => SemverKey {
                major: m.major,
                minor: m.minor,
                patch: m.patch,
                pre: match m.prerelease {
                    Some(pre) => Pre::Dotted(pre),
                    None => Pre::Release,
                },
            },
            GoVersion::Toolchain(g) => {
                let pre = match (g.kind, g.pre) {
                    ("", _) if g.patch.is_empty() => Pre::Dotted("0"),
                    ("", _) => Pre::Release,
                    (kind, pre) => Pre::Parts(kind, pre),
                };
                SemverKey {
                    major: g.major,
                    minor: if g.minor.is_empty() { "0" } else { g.minor },
                    patch: if g.patch.is_empty() { "0" } else { g.patch },
                    pre,
                }
            }
        }
    }
}

/// `golang.org/x/mod/semver`'s parsed form (without the `v`).
#[derive(Debug, Clone, Copy)]
struct Module<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    prerelease: Option<&'a str>,
}

/// x/mod/semver's `parseInt`: decimal digits without an unnecessary leading zero.
fn cut_int(s: &str) -> Option<(&str, &str)> {
    let end = s
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    Some((digits, rest))
}

impl<'a> Module<'a> {
    fn parse(s: &'a str) -> Option<Module<'a>> {
        let (major, rest) = cut_int(s)?;
        if rest.is_empty() {
            return Some(Module {
                major,
                minor: "0",
                patch: "0",
                prerelease: None,
            });
        }
        let (minor, rest) = cut_int(rest.strip_prefix('.')?)?;
        if rest.is_empty() {
            return Some(Module {
                major,
                minor,
                patch: "0",
                prerelease: None,
            });
        }
        // Shorthands (`v1`, `v1.2`) may not carry a pre-release or build suffix.
        let (patch, rest) = cut_int(rest.strip_prefix('.')?)?;
        let (rest, build) = match rest.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (rest, None),
        };
        if let Some(build) = build
            && !super::semver::is_identifier_list(build)
        {
            return None;
        }
        let prerelease = match rest {
            "" => None,
            _ => {
                let pre = rest.strip_prefix('-')?;
                let well_formed = super::semver::is_identifier_list(pre)
                    && pre.split('.').all(|id| {
                        // x/mod/semver's isBadNum: numeric identifiers have no leading zero.
                        !(id.len() > 1
                            && id.starts_with('0')
                            && id.bytes().all(|c| c.is_ascii_digit()))
                    });
                if !well_formed {
                    return None;
                }
                Some(pre)
            }
        };
        Some(Module {
            major,
            minor,
            patch,
            prerelease,
        })
    }
}

/// `internal/gover.Version`: decimal strings, `""` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gover<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    kind: &'a str,
    pre: Option<&'a str>,
}

impl<'a> Gover<'a> {
    /// gover's `Parse`, returning `None` where it returns the zero Version.
    fn parse(x: &'a str) -> Option<Gover<'a>> {
        let mut v = Gover {
            major: "",
            minor: "",
            patch: "",
            kind: "",
            pre: None,
        };
        let (major, x) = cut_int(x)?;
        v.major = major;
        if x.is_empty() {
            // Interpret "1" as "1.0.0".
            v.minor = "0";
            v.patch = "0";
            return Some(v);
        }
        let (minor, x) = cut_int(x.strip_prefix('.')?)?;
        v.minor = minor;
        if x.is_empty() {
            // Patch missing is "0" before Go 1.21; from 1.21 on it is the language version.
            if cmp_decimal(minor, "21") == Ordering::Less {
                v.patch = "0";
            }
            return Some(v);
        }
        if let Some(x) = x.strip_prefix('.') {
            let (patch, x) = cut_int(x)?;
            v.patch = patch;
            if !x.is_empty() {
                (v.kind, v.pre) = parse_prerelease(x)?;
            }
            return Some(v);
        }
        (v.kind, v.pre) = parse_prerelease(x)?;
        Some(v)
    }
}

/// gover's `parsePreRelease`: a lowercase kind (`alpha`, `beta`, `rc`, ...) and an optional number.
fn parse_prerelease(x: &str) -> Option<(&str, Option<&str>)> {
    let end = x
        .bytes()
        .position(|c| c.is_ascii_digit())
        .unwrap_or(x.len());
    let (kind, rest) = x.split_at(end);
    if kind.is_empty() || !kind.bytes().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if rest.is_empty() {
        return Some((kind, None));
    }
    let (pre, rest) = cut_int(rest)?;
    rest.is_empty().then_some((kind, Some(pre)))
}

/// gover's `CmpInt` on possibly-empty decimals: `""` sorts before any number.
fn cmp_int(x: &str, y: &str) -> Ordering {
    // No leading zeros (cut_int), so length then bytes is value order, and "" is shortest.
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// gover's `Compare`.
fn gover_compare(x: &Gover<'_>, y: &Gover<'_>) -> Ordering {
    cmp_int(x.major, y.major)
        .then_with(|| cmp_int(x.minor, y.minor))
        .then_with(|| cmp_int(x.patch, y.patch))
        .then_with(|| {
            // "" < alpha < beta < rc as strings; for a patch release a release sorts after its
            // pre-releases instead.
            let c = x.kind.cmp(y.kind);
            if c != Ordering::Equal && !x.patch.is_empty() {
                if x.kind.is_empty() {
                    return Ordering::Greater;
                }
                if y.kind.is_empty() {
                    return Ordering::Less;
                }
            }
            c
        })
        .then_with(|| cmp_int(x.pre.unwrap_or(""), y.pre.unwrap_or("")))
}

/// A pre-release on the SemVer line.
#[derive(Debug, Clone, Copy)]
enum Pre<'a> {
    Release,
    /// Dot-separated identifiers.
    Dotted(&'a str),
    /// A gover kind and optional number, i.e. identifiers `kind[.number]`.
    Parts(&'a str, Option<&'a str>),
}

#[derive(Debug, Clone, Copy)]
struct SemverKey<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    pre: Pre<'a>,
}

impl SemverKey<'_> {
    fn cmp_key(&self, other: &SemverKey<'_>) -> Ordering {
        cmp_decimal(self.major, other.major)
            .then_with(|| cmp_decimal(self.minor, other.minor))
            .then_with(|| cmp_decimal(self.patch, other.patch))
            .then_with(|| cmp_pre(self.pre, other.pre))
    }
}

fn cmp_pre(a: Pre<'_>, b: Pre<'_>) -> Ordering {
    match (a, b) {
        (Pre::Release, Pre::Release) => Ordering::Equal,
        (Pre::Release, _) => Ordering::Greater,
        (_, Pre::Release) => Ordering::Less,
        (Pre::Dotted(x), Pre::Dotted(y)) => cmp_prerelease(x, y),
        (Pre::Parts(kind, n), Pre::Dotted(y)) => cmp_parts_dotted(kind, n, y),
        (Pre::Dotted(x), Pre::Parts(kind, n)) => cmp_parts_dotted(kind, n, x).reverse(),
        (Pre::Parts(k1, n1), Pre::Parts(k2, n2)) => {
            // Kinds are alphabetic, numbers decimal: identifier-wise that is kind, then a missing
            // number before a present one.
            k1.cmp(k2).then_with(|| match (n1, n2) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => cmp_decimal(x, y),
            })
        }
    }
}

/// Compares identifiers `kind[.n]` with a dotted identifier list without building a string.
fn cmp_parts_dotted(kind: &str, n: Option<&str>, dotted: &str) -> Ordering {
    let mut ids = dotted.split('.');
    let Some(first) = ids.next() else {
        return Ordering::Greater;
    };
    let ord = cmp_prerelease(kind, first);
    if ord != Ordering::Equal {
        return ord;
    }
    match (n, ids.next()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(n), Some(second)) => cmp_prerelease(n, second).then_with(|| {
            if ids.next().is_some() {
                Ordering::Less
            } else {
                Ordering::Equal
            }
        }),
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
    fn language_version_sorts_before_its_release_candidates() {
        // gover.go: "1.21 < 1.21rc1 < 1.21.0".
        let chain = [
            "go1.20",
            "1.21",
            "go1.21beta1",
            "go1.21rc1",
            "go1.21rc2",
            "1.21.0",
            "go1.21.1",
            "v1.21.2",
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
        assert_eq!(ord("go1.9", "1.9.0"), Ordering::Equal);
        assert_eq!(ord("go1", "v1.0.0"), Ordering::Equal);
    }

    #[test]
    fn toolchain_tags_meet_osv_semver_events() {
        assert_eq!(ord("go1.21rc2", "1.21.0-rc.2"), Ordering::Equal);
        assert_eq!(ord("go1.21rc2", "1.21.0-rc.10"), Ordering::Less);
        assert_eq!(ord("go1.21beta1", "1.21.0-rc.1"), Ordering::Less);
        assert_eq!(ord("go1.20.7", "1.20.8"), Ordering::Less);
    }

    #[test]
    fn module_versions() {
        assert_eq!(ord("v2.0.0+incompatible", "v2.0.0"), Ordering::Equal);
        assert_eq!(
            ord("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"),
            Ordering::Less
        );
        assert_eq!(
            ord("v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5"),
            Ordering::Less
        );
        assert_eq!(
            ord(
                "0.0.0-20191109021931-daa7c04131f5",
                "0.0.0-20200101000000-aaaaaaaaaaaa"
            ),
            Ordering::Less
        );
        for bad in [
            "",
            "v",
            "v01.2.3",
            "v1.2-pre",
            "v1.2.3-01",
            "go1.21-rc1",
            "go",
            "1.2.3.4",
            "vgo1.2",
        ] {
            assert!(compare(bad, "v1.0.0").is_err(), "{bad:?} should be invalid");
        }
    }
}
