//! Language-ecosystem version schemes (PEP 440, SemVer, Go, Maven, RubyGems, Packagist, NuGet):
//! fixed tables taken from each reference implementation's own test suite (cited per table), and
//! differential tests against reference programs when they are installed:
//!
//! - PEP 440 against Python's `packaging` (`packaging.version.Version`, or the copy vendored in pip
//!   as `pip._vendor.packaging`): required when `CI` is set.
//! - SemVer against npm's `semver` package (the copy bundled with npm is enough): optional.
//! - Maven against `ComparableVersion` from a locally installed `maven-artifact` jar (Debian's
//!   `libmaven3-core-java`) with `javac`/`java`: optional, and restricted to versions whose order
//!   did not change with MNG-7644 (Maven 3.8.8/3.9.0), since Debian ships 3.8.7.
//!
//! Each differential asks one reference process about the whole batch (pairs on stdin, one answer
//! per line on stdout).

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use palisade_vulndb::version::Scheme;

const LESS: Ordering = Ordering::Less;
const EQUAL: Ordering = Ordering::Equal;
const GREATER: Ordering = Ordering::Greater;

fn cmp(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme.compare(a, b) {
        Ok(o) => o,
        Err(e) => panic!("{scheme:?}: comparing {a:?} with {b:?}: {e}"),
    }
}

/// Asserts `a <op> b` and the mirrored answer for `b` against `a`.
fn check_pairs(scheme: Scheme, table: &[(&str, Ordering, &str)]) {
    for &(a, expected, b) in table {
        assert_eq!(cmp(scheme, a, b), expected, "{scheme:?}: {a:?} vs {b:?}");
        assert_eq!(
            cmp(scheme, b, a),
            expected.reverse(),
            "{scheme:?}: {b:?} vs {a:?}"
        );
    }
}

/// Asserts that the list is strictly increasing, comparing every pair (not only neighbours).
fn check_ascending(scheme: Scheme, versions: &[&str]) {
    for (i, low) in versions.iter().enumerate() {
        for high in versions.iter().skip(i + 1) {
            assert_eq!(
                cmp(scheme, low, high),
                LESS,
                "{scheme:?}: expected {low:?} < {high:?}"
            );
            assert_eq!(
                cmp(scheme, high, low),
                GREATER,
                "{scheme:?}: expected {high:?} > {low:?}"
            );
        }
    }
}

fn check_invalid(scheme: Scheme, versions: &[&str]) {
    for v in versions {
        assert!(
            scheme.compare(v, v).is_err(),
            "{scheme:?}: {v:?} should be invalid"
        );
        let err = scheme
            .compare("1", v)
            .err()
            .or_else(|| scheme.compare(v, "1").err());
        match err {
            Some(e) => assert_eq!(e.scheme, scheme, "error for {v:?} names the wrong scheme"),
            None => panic!("{scheme:?}: {v:?} accepted"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PEP 440
// ---------------------------------------------------------------------------------------------

/// pypa/packaging tests/test_version.py, `VERSIONS` (already in ascending order).
const PEP440_VERSIONS: &[&str] = &[
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0b2-346",
    "1.0c1.dev456",
    "1.0c1",
    "1.0rc2",
    "1.0c3",
    "1.0",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.1.dev1",
    "1.2+123abc",
    "1.2+123abc456",
    "1.2+abc",
    "1.2+abc123",
    "1.2+abc123def",
    "1.2+1234.abc",
    "1.2+123456",
    "1.2.r32+123456",
    "1.2.rev33+123456",
    "1!1.0.dev456",
    "1!1.0a1",
    "1!1.0a2.dev456",
    "1!1.0a12.dev456",
    "1!1.0a12",
    "1!1.0b1.dev456",
    "1!1.0b2",
    "1!1.0b2.post345.dev456",
    "1!1.0b2.post345",
    "1!1.0b2-346",
    "1!1.0c1.dev456",
    "1!1.0c1",
    "1!1.0rc2",
    "1!1.0c3",
    "1!1.0",
    "1!1.0.post456.dev34",
    "1!1.0.post456",
    "1!1.1.dev1",
    "1!1.2+123abc",
    "1!1.2+123abc456",
    "1!1.2+abc",
    "1!1.2+abc123",
    "1!1.2+abc123def",
    "1!1.2+1234.abc",
    "1!1.2+123456",
    "1!1.2.r32+123456",
    "1!1.2.rev33+123456",
];

/// pypa/packaging tests/test_version.py, `test_normalized_versions` (each spelling and the
/// normal form it must equal).
const PEP440_SPELLINGS: &[(&str, &str)] = &[
    ("1.0dev", "1.0.dev0"),
    ("1.0.dev", "1.0.dev0"),
    ("1.0dev1", "1.0.dev1"),
    ("1.0-dev", "1.0.dev0"),
    ("1.0-dev1", "1.0.dev1"),
    ("1.0DEV", "1.0.dev0"),
    ("1.0.DEV", "1.0.dev0"),
    ("1.0DEV1", "1.0.dev1"),
    ("1.0_dev", "1.0.dev0"),
    ("1.0_dev1", "1.0.dev1"),
    ("1.0a", "1.0a0"),
    ("1.0.a", "1.0a0"),
    ("1.0.a1", "1.0a1"),
    ("1.0-a", "1.0a0"),
    ("1.0-a1", "1.0a1"),
    ("1.0alpha", "1.0a0"),
    ("1.0.alpha", "1.0a0"),
    ("1.0.alpha1", "1.0a1"),
    ("1.0-alpha", "1.0a0"),
    ("1.0-alpha1", "1.0a1"),
    ("1.0A", "1.0a0"),
    ("1.0.A", "1.0a0"),
    ("1.0.A1", "1.0a1"),
    ("1.0-A", "1.0a0"),
    ("1.0-A1", "1.0a1"),
    ("1.0ALPHA", "1.0a0"),
    ("1.0.ALPHA", "1.0a0"),
    ("1.0.ALPHA1", "1.0a1"),
    ("1.0_a", "1.0a0"),
    ("1.0_a1", "1.0a1"),
    ("1.0b", "1.0b0"),
    ("1.0.b1", "1.0b1"),
    ("1.0beta", "1.0b0"),
    ("1.0.beta1", "1.0b1"),
    ("1.0-BETA1", "1.0b1"),
    ("1.0c", "1.0rc0"),
    ("1.0.c1", "1.0rc1"),
    ("1.0pre", "1.0rc0"),
    ("1.0.pre1", "1.0rc1"),
    ("1.0preview", "1.0rc0"),
    ("1.0-preview1", "1.0rc1"),
    ("1.0rc", "1.0rc0"),
    ("1.0.RC1", "1.0rc1"),
    ("1.0post", "1.0.post0"),
    ("1.0.post", "1.0.post0"),
    ("1.0post1", "1.0.post1"),
    ("1.0-post1", "1.0.post1"),
    ("1.0POST", "1.0.post0"),
    ("1.0_post1", "1.0.post1"),
    ("1.0r", "1.0.post0"),
    ("1.0.r1", "1.0.post1"),
    ("1.0rev", "1.0.post0"),
    ("1.0-REV1", "1.0.post1"),
    ("1.0-r1", "1.0.post1"),
    ("1.0-1", "1.0.post1"),
    ("1.0+AbC", "1.0+abc"),
    ("1.0+abc_def", "1.0+abc.def"),
    ("1.0+abc-def", "1.0+abc.def"),
    ("1.0+abc.DEF", "1.0+abc.def"),
    ("v1.0", "1.0"),
    ("V1.0", "1.0"),
    ("  v1.0\t\n", "1.0"),
    ("1.0a1.dev", "1.0a1.dev0"),
    ("1.0.post1.dev", "1.0.post1.dev0"),
    ("1.0a.post.dev", "1.0a0.post0.dev0"),
    ("00!01.02", "1.2"),
    ("1.0.0.0", "1"),
];

#[test]
fn pep440_packaging_tables() {
    check_ascending(Scheme::Pep440, PEP440_VERSIONS);
    for (spelling, normal) in PEP440_SPELLINGS {
        assert_eq!(
            cmp(Scheme::Pep440, spelling, normal),
            EQUAL,
            "{spelling:?} == {normal:?}"
        );
    }
    // pypa/packaging tests/test_version.py, `INVALID_VERSIONS` plus malformed separators.
    check_invalid(
        Scheme::Pep440,
        &[
            "french toast",
            "1.0+a+",
            "1.0++",
            "1.0+_foobar",
            "1.0+foo&asd",
            "1.0+1+1",
            "1.0-",
            "1.0.",
            "1..0",
            "v",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// SemVer
// ---------------------------------------------------------------------------------------------

#[test]
fn semver_tables() {
    // semver.org 2.0.0, §11.4.
    check_ascending(
        Scheme::Semver,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ],
    );
    // npm/node-semver test/fixtures/comparisons.js: the first is greater than the second.
    let greater: &[(&str, &str)] = &[
        ("0.0.0", "0.0.0-foo"),
        ("0.0.1", "0.0.0"),
        ("1.0.0", "0.9.9"),
        ("0.10.0", "0.9.0"),
        ("0.99.0", "0.10.0"),
        ("2.0.0", "1.2.3"),
        ("v0.0.0", "0.0.0-foo"),
        ("v0.0.1", "0.0.0"),
        ("v1.0.0", "0.9.9"),
        ("v0.10.0", "0.9.0"),
        ("v0.99.0", "0.10.0"),
        ("v2.0.0", "1.2.3"),
        ("0.0.0", "v0.0.0-foo"),
        ("0.0.1", "v0.0.0"),
        ("1.0.0", "v0.9.9"),
        ("1.2.3", "1.2.3-asdf"),
        ("1.2.3", "1.2.3-4"),
        ("1.2.3", "1.2.3-4-foo"),
        ("1.2.3-5-foo", "1.2.3-5"),
        ("1.2.3-5", "1.2.3-4"),
        ("1.2.3-5-foo", "1.2.3-5-Foo"),
        ("3.0.0", "2.7.2+asdf"),
        ("1.2.3-a.10", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a"),
        ("1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"),
        ("1.2.3-r2", "1.2.3-r100"),
        ("1.2.3-r100", "1.2.3-R2"),
    ];
    let table: Vec<_> = greater.iter().map(|&(a, b)| (a, GREATER, b)).collect();
    check_pairs(Scheme::Semver, &table);
    // npm/node-semver test/fixtures/equality.js (strict-mode entries), and OSV's padding.
    check_pairs(
        Scheme::Semver,
        &[
            ("1.2.3", EQUAL, "v1.2.3"),
            ("1.2.3-0", EQUAL, "v1.2.3-0"),
            ("1.2.3-beta+build", EQUAL, "1.2.3-beta+otherbuild"),
            ("1.2.3+build", EQUAL, "1.2.3+otherbuild"),
            ("  v1.2.3+build", EQUAL, "1.2.3+otherbuild"),
            ("1.2", EQUAL, "1.2.0"),
            ("1", EQUAL, "1.0.0"),
            ("v1.2", LESS, "1.2.1"),
            (
                "1.0.0-18446744073709551616",
                GREATER,
                "1.0.0-18446744073709551615",
            ),
        ],
    );
    check_invalid(
        Scheme::Semver,
        &[
            "",
            "bad",
            "1.2.3.4",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3_4",
            "1.x",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Go
// ---------------------------------------------------------------------------------------------

#[test]
fn go_module_tables() {
    // golang.org/x/mod semver/semver_test.go, `tests` (ascending; neighbours with the same
    // canonical form are equal).
    let ordered: &[&[&str]] = &[
        &["v1.0.0-alpha"],
        &["v1.0.0-alpha.1"],
        &["v1.0.0-alpha.beta"],
        &["v1.0.0-beta"],
        &["v1.0.0-beta.2"],
        &["v1.0.0-beta.11"],
        &["v1.0.0-rc.1"],
        &["v1", "v1.0", "v1.0.0"],
        &["v1.2", "v1.2.0"],
        &["v1.2.3-456"],
        &["v1.2.3-456.789"],
        &["v1.2.3-456-789"],
        &["v1.2.3-456a"],
        &["v1.2.3-pre", "v1.2.3-pre+meta"],
        &["v1.2.3-pre.1"],
        &["v1.2.3-zzz"],
        &[
            "v1.2.3",
            "v1.2.3+meta",
            "v1.2.3+meta-pre",
            "v1.2.3+meta-pre.sha.256a",
        ],
    ];
    for (i, group) in ordered.iter().enumerate() {
        for a in *group {
            for b in *group {
                assert_eq!(cmp(Scheme::Go, a, b), EQUAL, "{a} == {b}");
            }
            for later in ordered.iter().skip(i + 1).flat_map(|g| g.iter()) {
                assert_eq!(cmp(Scheme::Go, a, later), LESS, "{a} < {later}");
                assert_eq!(cmp(Scheme::Go, later, a), GREATER, "{later} > {a}");
            }
        }
    }
    check_invalid(
        Scheme::Go,
        &[
            "bad",
            "v1-alpha.beta.gamma",
            "v1-pre",
            "v1+meta",
            "v1-pre+meta",
            "v1.2-pre",
            "v1.2+meta",
            "v1.2-pre+meta",
            "v1.2.3-01",
            "v01.2.3",
        ],
    );
    // Module-specific forms (x/mod/module pseudo-versions, +incompatible) and OSV's bare versions.
    check_pairs(
        Scheme::Go,
        &[
            ("v2.0.0+incompatible", EQUAL, "v2.0.0"),
            ("2.0.0+incompatible", EQUAL, "v2.0.0"),
            ("v0.0.0-20191109021931-daa7c04131f5", LESS, "v0.0.1"),
            ("v1.2.4-0.20191109021931-daa7c04131f5", GREATER, "v1.2.3"),
            ("v1.2.4-0.20191109021931-daa7c04131f5", LESS, "v1.2.4"),
            (
                "v1.2.3-pre.0.20191109021931-daa7c04131f5",
                GREATER,
                "v1.2.3-pre",
            ),
            (
                "0.0.0-20200101000000-aaaaaaaaaaaa",
                GREATER,
                "0.0.0-20191109021931-daa7c04131f5",
            ),
        ],
    );
}

#[test]
fn go_toolchain_tables() {
    // go/src/internal/gover/gover_test.go, `compareTests` (valid entries).
    check_pairs(
        Scheme::Go,
        &[
            ("1", LESS, "1.1"),
            ("1.5", LESS, "1.6"),
            ("1.5", LESS, "1.10"),
            ("1.6", LESS, "1.6.1"),
            ("1.19", EQUAL, "1.19.0"),
            ("1.19rc1", LESS, "1.19"),
            ("1.20", EQUAL, "1.20.0"),
            ("1.20rc1", LESS, "1.20"),
            ("1.21", LESS, "1.21.0"),
            ("1.21", LESS, "1.21rc1"),
            ("1.21rc1", LESS, "1.21.0"),
            ("1.6", LESS, "1.19"),
            ("1.19", LESS, "1.19.1"),
            ("1.19rc1", LESS, "1.19.1"),
            ("1.19rc1", LESS, "1.19rc2"),
            ("1.19.0", LESS, "1.19.1"),
            ("1.19rc1", LESS, "1.19.0"),
            ("1.19alpha3", LESS, "1.19beta2"),
            ("1.19beta2", LESS, "1.19rc1"),
            ("1.1", LESS, "1.99999999999999998"),
            ("1.99999999999999998", LESS, "1.99999999999999999"),
        ],
    );
    // The same with the `go` prefix of runtime.Version() and build info, and against the SemVer
    // form the Go vulnerability database gives stdlib/toolchain events in OSV.
    check_pairs(
        Scheme::Go,
        &[
            ("go1.21.3", EQUAL, "1.21.3"),
            ("go1.21.3", EQUAL, "v1.21.3"),
            ("go1.9", EQUAL, "1.9.0"),
            ("go1.21rc2", EQUAL, "1.21.0-rc.2"),
            ("go1.21beta1", EQUAL, "1.21.0-beta.1"),
            ("go1.21rc2", GREATER, "1.21.0-rc.1"),
            ("go1.21rc2", LESS, "1.21.0"),
            ("go1.20.14", LESS, "1.21.0-rc.1"),
            ("go1.21", LESS, "1.21.0-beta.1"),
            ("go1.22.0", GREATER, "1.21.99"),
            ("go1.21.3", LESS, "go1.21.10"),
        ],
    );
    check_invalid(
        Scheme::Go,
        &[
            "",
            "x",
            "go",
            "go1.21-rc1",
            "go1.021",
            "go1.21RC1",
            "go1.21.3.4",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Maven
// ---------------------------------------------------------------------------------------------

/// apache/maven maven-artifact/src/test/java/org/apache/maven/artifact/versioning/
/// ComparableVersionTest.java (maven-3.9.x): `VERSIONS_QUALIFIER` and `VERSIONS_NUMBER`.
const MAVEN_QUALIFIER: &[&str] = &[
    "1-alpha2snapshot",
    "1-alpha2",
    "1-alpha-123",
    "1-beta-2",
    "1-beta123",
    "1-m2",
    "1-m11",
    "1-rc",
    "1-cr2",
    "1-rc123",
    "1-SNAPSHOT",
    "1",
    "1-sp",
    "1-sp2",
    "1-sp123",
    "1-abc",
    "1-def",
    "1-pom-1",
    "1-1-snapshot",
    "1-1",
    "1-2",
    "1-123",
];
const MAVEN_NUMBER: &[&str] = &[
    "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
    "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
    "11.a", "11b", "11c", "11m",
];

#[test]
fn maven_comparable_version_tables() {
    check_ascending(Scheme::Maven, MAVEN_QUALIFIER);
    check_ascending(Scheme::Maven, MAVEN_NUMBER);
    // testVersionsEqual
    let equal: &[(&str, &str)] = &[
        ("1", "1"),
        ("1", "1.0"),
        ("1", "1.0.0"),
        ("1.0", "1.0.0"),
        ("1", "1-0"),
        ("1", "1.0-0"),
        ("1.0", "1.0-0"),
        ("1a", "1-a"),
        ("1a", "1.0-a"),
        ("1a", "1.0.0-a"),
        ("1.0a", "1-a"),
        ("1.0.0a", "1-a"),
        ("1x", "1-x"),
        ("1x", "1.0-x"),
        ("1x", "1.0.0-x"),
        ("1.0x", "1-x"),
        ("1.0.0x", "1-x"),
        ("1cr", "1rc"),
        ("1a1", "1-alpha-1"),
        ("1b2", "1-beta-2"),
        ("1m3", "1-milestone-3"),
        ("1X", "1x"),
        ("1A", "1a"),
        ("1B", "1b"),
        ("1M", "1m"),
        ("1Cr", "1Rc"),
        ("1cR", "1rC"),
        ("1m3", "1Milestone3"),
        ("1m3", "1MileStone3"),
        ("1m3", "1MILESTONE3"),
        // testLocaleIndependent
        (
            "1-abcdefghijklmnopqrstuvwxyz",
            "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ),
        // aliases of the release (3.9: ga, final, release)
        ("1ga", "1"),
        ("1release", "1"),
        ("1final", "1"),
        ("1Ga", "1"),
        ("1GA", "1"),
        ("1RELEASE", "1"),
        ("1release", "1"),
        ("1FINAL", "1"),
        ("1FinaL", "1"),
    ];
    for &(a, b) in equal {
        assert_eq!(cmp(Scheme::Maven, a, b), EQUAL, "{a} == {b}");
        assert_eq!(cmp(Scheme::Maven, b, a), EQUAL, "{b} == {a}");
    }
    // testVersionComparing
    let less: &[(&str, &str)] = &[
        ("1", "2"),
        ("1.5", "2"),
        ("1", "2.5"),
        ("1.0", "1.1"),
        ("1.1", "1.2"),
        ("1.0.0", "1.1"),
        ("1.0.1", "1.1"),
        ("1.1", "1.2.0"),
        ("1.0-alpha-1", "1.0"),
        ("1.0-alpha-1", "1.0-alpha-2"),
        ("1.0-alpha-1", "1.0-beta-1"),
        ("1.0-beta-1", "1.0-SNAPSHOT"),
        ("1.0-SNAPSHOT", "1.0"),
        ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
        ("1.0", "1.0-1"),
        ("1.0-1", "1.0-2"),
        ("1.0.0", "1.0-1"),
        ("2.0-1", "2.0.1"),
        ("2.0.1-klm", "2.0.1-lmn"),
        ("2.0.1", "2.0.1-xyz"),
        ("2.0.1", "2.0.1-123"),
        ("2.0.1-xyz", "2.0.1-123"),
        // testMng5568
        ("6.1.0rc3", "6.1.0"),
        ("6.1.0rc3", "6.1H.5-beta"),
        ("6.1.0", "6.1H.5-beta"),
        // testMng6572
        ("20190126.230843", "1234567890.12345"),
        ("1234567890.12345", "123456789012345.1H.5-beta"),
        ("20190126.230843", "123456789012345.1H.5-beta"),
        (
            "123456789012345.1H.5-beta",
            "12345678901234567890.1H.5-beta",
        ),
        ("1234567890.12345", "12345678901234567890.1H.5-beta"),
        ("20190126.230843", "12345678901234567890.1H.5-beta"),
        // testMng6964
        ("1-0.alpha", "1"),
        ("1-0.beta", "1"),
        ("1-0.alpha", "1-0.beta"),
        // testLeadingZeroes
        ("0.7", "2"),
        ("0.2", "1.0.7"),
    ];
    let table: Vec<_> = less.iter().map(|&(a, b)| (a, LESS, b)).collect();
    check_pairs(Scheme::Maven, &table);
    // testMng7644
    for x in [
        "abc",
        "alpha",
        "a",
        "beta",
        "b",
        "def",
        "milestone",
        "m",
        "RC",
    ] {
        check_pairs(
            Scheme::Maven,
            &[
                (&format!("1.0.0.{x}1"), LESS, &format!("1.0.0-{x}2")),
                (&format!("2-{x}"), EQUAL, &format!("2.0.{x}")),
                (&format!("2-{x}"), EQUAL, &format!("2.0.0.{x}")),
                (&format!("2.0.{x}"), EQUAL, &format!("2.0.0.{x}")),
            ],
        );
    }
    // testVersionEqualWithLeadingZeroes / testVersionZeroEqualWithLeadingZeroes
    for zeros in 0..20 {
        let padded = format!("{}1", "0".repeat(zeros));
        assert_eq!(cmp(Scheme::Maven, &padded, "1"), EQUAL, "{padded} == 1");
        let zero = "0".repeat(zeros + 1);
        assert_eq!(cmp(Scheme::Maven, &zero, "0"), EQUAL, "{zero} == 0");
    }
}

// ---------------------------------------------------------------------------------------------
// RubyGems
// ---------------------------------------------------------------------------------------------

#[test]
fn rubygems_tables() {
    // rubygems/rubygems test/rubygems/test_gem_version.rb, `test_spaceship`, `test_eql_eh`,
    // `test_prerelease`-style orderings and `test_canonical_segments`.
    check_pairs(
        Scheme::RubyGems,
        &[
            ("1.0", EQUAL, "1.0.0"),
            ("1.0", GREATER, "1.0.a"),
            ("1.8.2", GREATER, "0.0.0"),
            ("1.8.2", GREATER, "1.8.2.a"),
            ("1.8.2.b", GREATER, "1.8.2.a"),
            ("1.8.2.a", LESS, "1.8.2"),
            ("1.8.2.a10", GREATER, "1.8.2.a9"),
            ("", EQUAL, "0"),
            ("0.beta.1", EQUAL, "0.0.beta.1"),
            ("0.0.beta", LESS, "0.0.beta.1"),
            ("0.0.beta", LESS, "0.beta.1"),
            ("5.a", LESS, "5.0.0.rc2"),
            ("5.x", GREATER, "5.0.0.rc2"),
            ("1.2", EQUAL, "1.2"),
            ("1.2", EQUAL, "1.2.0"),
            ("1.2.b1", LESS, "1.2"),
            ("1.0.0.a.1.0", EQUAL, "1.a.1"),
            ("1.2.3-1", EQUAL, "1.2.3.pre.1"),
            ("1.2.3-1", LESS, "1.2.3"),
            ("1.0.0-rc1", LESS, "1.0.0"),
            ("2.9.b", LESS, "2.9"),
            ("  1.0  ", EQUAL, "1"),
            ("1.0.0-alpha-1", LESS, "1.0.0-alpha-2"),
            ("1.9.3-p551", GREATER, "1.9.3-p100"),
        ],
    );
    // test_initialize_invalid
    check_invalid(
        Scheme::RubyGems,
        &[
            "junk",
            "1.0\n2.0",
            "1..2",
            "1.2 3.4",
            "1.2.3-",
            "-1",
            "1.2.3+build",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Packagist
// ---------------------------------------------------------------------------------------------

#[test]
fn packagist_tables() {
    // composer/semver tests/SemverTest.php, `sortProvider` (first case).
    let mut versions = vec!["1.0", "0.1", "0.1", "3.2.1", "2.4.0-alpha", "2.4.0"];
    versions.sort_by(|a, b| cmp(Scheme::Packagist, a, b));
    assert_eq!(
        versions,
        ["0.1", "0.1", "1.0", "2.4.0-alpha", "2.4.0", "3.2.1"]
    );
    // Stability order of Composer (dev < alpha < beta < RC < stable < patch), spellings from
    // composer/semver tests/VersionParserTest.php `successfulNormalizedVersions`.
    check_ascending(
        Scheme::Packagist,
        &[
            "1.0.0-dev",
            "1.0.0-alpha1-dev",
            "1.0.0-alpha1",
            "1.0.0-a2",
            "1.0.0-beta.1",
            "1.0.0b2",
            "1.0.0-RC1",
            "1.0.0rc2",
            "1.0.0",
            "1.0.0-p1",
            "1.0.0.pl3",
            "1.0.0-patch4",
            "1.0.1-dev",
            "1.0.1",
            "1.x-dev",
            "2.0.0",
        ],
    );
    check_pairs(
        Scheme::Packagist,
        &[
            ("1.0.0", EQUAL, "1.0.0.0"),
            ("v1.0.0", EQUAL, "1.0"),
            ("1.0.0+foo", EQUAL, "1.0.0"),
            ("1.0.0-beta.5+foo", EQUAL, "1.0.0.0-beta5"),
            ("1.0.0-b5", EQUAL, "1.0.0-beta5"),
            ("1.0.0RC1dev", EQUAL, "1.0.0.0-RC1-dev"),
            ("1.0.0-stable", EQUAL, "1.0.0"),
            ("1.0.0+foo as 2.0", EQUAL, "1.0.0"),
            ("1.0.0@beta", EQUAL, "1.0.0"),
            // `2010-01-02` is a date version (`2010.01.02`), `2010.01.02` a classical one
            // (`2010.01.02.0`), and version_compare puts `1.0` before `1.0.0`.
            ("2010-01-02", LESS, "2010.01.02"),
            ("2010-01-02", EQUAL, "2010:01:02"),
            ("2010.01.02", GREATER, "2010.01.01"),
            ("20100102", GREATER, "20100101"),
            ("1.25.0", GREATER, "1.24.0"),
            ("1.25.0", LESS, "1.26.0"),
            ("1.0.0-beta2", LESS, "1.0.0-beta10"),
            ("00.01.03.04", EQUAL, "0.1.3.4"),
        ],
    );
    // VersionParserTest `failingNormalizedVersions`, and named branches (never ordered).
    check_invalid(
        Scheme::Packagist,
        &[
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0.0+foo bar",
            "1.0.1-SNAPSHOT",
            "1.0 .2",
            "~1",
            "^1",
            "1.*",
            "dev-master",
            "master",
            "dev-feature/foo",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// NuGet
// ---------------------------------------------------------------------------------------------

#[test]
fn nuget_tables() {
    // NuGet/NuGet.Client test/NuGet.Core.Tests/NuGet.Versioning.Test: VersionComparerTests
    // (`VersionComparisonDefaultEqual`, `VersionComparisonDefaultLess`) and NuGetVersionTest.
    check_pairs(
        Scheme::NuGet,
        &[
            ("1.0.0", EQUAL, "1.0.0"),
            ("1.0.0-BETA", EQUAL, "1.0.0-beta"),
            ("1.0.0-BETA+AA", EQUAL, "1.0.0-beta+aa"),
            (
                "1.0.0-BETA.X.y.5.77.0+AA",
                EQUAL,
                "1.0.0-beta.x.y.5.77.0+aa",
            ),
            ("1.0.0", EQUAL, "1.0.0+beta"),
            ("1.0", EQUAL, "1.0.0.0"),
            ("1.0+test", EQUAL, "1.0.0.0"),
            ("1.0.0.1-1.2.A", EQUAL, "1.0.0.1-1.2.a+A"),
            ("1.0.01", EQUAL, "1.0.1.0"),
            ("1", EQUAL, "1.0.0"),
            ("0.0.0", LESS, "1.0.0"),
            ("1.1.0", GREATER, "1.0.0"),
            ("1.0.1", GREATER, "1.0.0"),
            ("1.0.0-BETA", LESS, "1.0.0"),
            ("1.0.0-beta+AA", LESS, "1.0.0+aa"),
            ("1.0.0-beta.1", LESS, "1.0.0-beta.2"),
            ("1.0.0-beta.2", LESS, "1.0.0-beta.10"),
            ("1.0.0-beta", LESS, "1.0.0-beta.1"),
            ("1.0.0-1", LESS, "1.0.0-a"),
            ("1.0.0.1", GREATER, "1.0.0"),
            ("1.0.0.1-beta", GREATER, "1.0.0"),
            ("1.0.0-alpha", LESS, "1.0.0-beta"),
            ("1.0.0-x.y.5.77.0", LESS, "1.0.0-x.y.5.77.1"),
        ],
    );
    check_invalid(
        Scheme::NuGet,
        &[
            "",
            "1.2.3.4.5",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-01",
            "a",
            "1.0.0-beta..1",
            "1.0.0-beta_1",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Differential tests
// ---------------------------------------------------------------------------------------------

/// A tiny deterministic PRNG (xorshift64*), so the generated pairs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// Whether a reference program is required (CI) or may be skipped with a printed reason.
fn missing_reference(what: &str) {
    let message = format!("differential test skipped: {what}");
    if std::env::var_os("CI").is_some() {
        panic!("{message} (required when CI is set)");
    }
    eprintln!("{message}");
}

fn hex(s: &str) -> String {
    // Prefixed so that an empty version is still a token.
    let mut out = String::from("x");
    for b in s.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Runs `program args` with `input` on stdin and returns its stdout lines, or why it could not.
fn run_reference(program: &str, args: &[&str], input: &str) -> Result<Vec<String>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn pep440_number(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "0".into(),
        1 => "00".into(),
        2 => format!("0{}", rng.below(10)),
        3 => "18446744073709551616".into(),
        4 => "18446744073709551615".into(),
        _ => rng.below(13).to_string(),
    }
}

fn pep440_version(rng: &mut Rng) -> String {
    let seps = ["", "", ".", "-", "_"];
    let mut v = String::new();
    if rng.chance(5) {
        // Python's `\s` is str.isspace(): Unicode spaces and the U+001C..U+001F separators too.
        v.push_str(rng.pick(&[
            " ", "\t", "  ", "\n", "\u{a0}", "\u{1c}", "\u{3000}", "\u{85}", "\u{200b}",
        ]));
    }
    if rng.chance(10) {
        v.push_str(rng.pick(&["v", "V"]));
    }
    if rng.chance(15) {
        v.push_str(&format!("{}!", rng.below(3)));
    }
    let segments = 1 + rng.below(4);
    for i in 0..segments {
        if i > 0 {
            v.push('.');
        }
        v.push_str(&pep440_number(rng));
    }
    if rng.chance(45) {
        v.push_str(rng.pick(&seps));
        v.push_str(rng.pick(&[
            "a", "A", "alpha", "Alpha", "b", "beta", "BETA", "c", "rc", "RC", "pre", "preview",
        ]));
        v.push_str(rng.pick(&seps));
        if rng.chance(80) {
            v.push_str(&pep440_number(rng));
        }
    }
    if rng.chance(35) {
        if rng.chance(30) {
            v.push('-');
            v.push_str(&pep440_number(rng));
        } else {
            v.push_str(rng.pick(&seps));
            v.push_str(rng.pick(&["post", "POST", "rev", "r", "R"]));
            v.push_str(rng.pick(&seps));
            if rng.chance(80) {
                v.push_str(&pep440_number(rng));
            }
        }
    }
    if rng.chance(35) {
        v.push_str(rng.pick(&seps));
        v.push_str(rng.pick(&["dev", "DEV", "Dev"]));
        v.push_str(rng.pick(&seps));
        if rng.chance(80) {
            v.push_str(&pep440_number(rng));
        }
    }
    if rng.chance(30) {
        v.push('+');
        let parts = 1 + rng.below(3);
        for i in 0..parts {
            if i > 0 {
                v.push_str(rng.pick(&[".", "-", "_"]));
            }
            v.push_str(rng.pick(&[
                "abc", "ABC", "1", "01", "12", "ubuntu", "a1", "9z", "0", "deb10u1",
            ]));
        }
    }
    if rng.chance(5) {
        v.push_str(rng.pick(&[" ", "\t", "\n", "\u{2003}", "\u{1f}"]));
    }
    v
}

/// A near-equal variant: spelling, case, separator, zero-padding or single-character changes
/// (some of which make the version invalid, which must be detected identically).
fn pep440_mutation(rng: &mut Rng, v: &str) -> String {
    let mut out = v.to_string();
    match rng.below(9) {
        0 => out.push_str(".0"),
        1 => out = out.to_uppercase(),
        2 => out = out.replacen('.', rng.pick(&["-", "_", ""]), 1),
        3 => out = out.replacen("a", "alpha", 1).replacen("rc", "c", 1),
        4 => out.push_str(rng.pick(&[".", "-", "_", "+", "+x", ".post", "-1", "a", ".dev"])),
        5 => {
            if !out.is_empty() {
                let at = rng.below(out.len());
                if out.is_char_boundary(at) {
                    out.remove(at);
                }
            }
        }
        6 => out = format!("0!{out}"),
        7 => out = out.replacen("dev", "dev0", 1).replacen("post", "post0", 1),
        _ => {
            let at = rng.below(out.len() + 1);
            if out.is_char_boundary(at) {
                out.insert(
                    at,
                    rng.pick(&["0", "1", ".", "-", "!", "+", "a"])
                        .chars()
                        .next()
                        .unwrap_or('0'),
                );
            }
        }
    }
    out
}

const PACKAGING_SCRIPT: &str = r#"
import sys
try:
    from packaging.version import Version, InvalidVersion
    import packaging
    source = "packaging"
except ImportError:
    from pip._vendor.packaging.version import Version, InvalidVersion
    from pip._vendor import packaging
    source = "pip._vendor.packaging"
print(source, packaging.__version__, flush=True)

def parse(token):
    try:
        return Version(bytes.fromhex(token[1:]).decode())
    except InvalidVersion:
        return None

for line in sys.stdin:
    a, b = (parse(t) for t in line.split())
    if a is None or b is None:
        print("E" if a is None else "-", "E" if b is None else "-")
    else:
        print((a > b) - (a < b))
"#;

fn python_packaging_available() -> Result<(), String> {
    let probe = Command::new("python3")
        .args(["-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('packaging') or u.find_spec('pip._vendor.packaging') else 1)"])
        .output()
        .map_err(|e| format!("python3 is not runnable: {e}"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err("python3 has neither `packaging` nor `pip._vendor.packaging` (install python3-packaging or pip)".into())
    }
}

#[test]
fn pep440_differential_against_python_packaging() {
    if let Err(why) = python_packaging_available() {
        missing_reference(&why);
        return;
    }
    let mut rng = Rng(0x5eed_440a_b1e5_0001);
    let mut pairs = Vec::new();
    // Every table entry against its neighbours, so the reference confirms the tables too.
    for window in PEP440_VERSIONS.windows(2) {
        if let [a, b] = window {
            pairs.push((a.to_string(), b.to_string()));
        }
    }
    for (a, b) in PEP440_SPELLINGS {
        pairs.push((a.to_string(), b.to_string()));
    }
    while pairs.len() < 4000 {
        let a = pep440_version(&mut rng);
        let b = match rng.below(3) {
            0 => pep440_version(&mut rng),
            1 => pep440_mutation(&mut rng, &a),
            _ => {
                let m = pep440_mutation(&mut rng, &a);
                pep440_mutation(&mut rng, &m)
            }
        };
        pairs.push((a, b));
    }
    let input: String = pairs
        .iter()
        .map(|(a, b)| format!("{} {}\n", hex(a), hex(b)))
        .collect();
    let lines = match run_reference("python3", &["-c", PACKAGING_SCRIPT], &input) {
        Ok(lines) => lines,
        Err(why) => {
            missing_reference(&why);
            return;
        }
    };
    let (header, answers) = lines.split_first().expect("python printed nothing");
    assert_eq!(
        answers.len(),
        pairs.len(),
        "python answered {} of {} pairs",
        answers.len(),
        pairs.len()
    );
    let mut disagreements = Vec::new();
    let (mut valid_pairs, mut invalid_sides, mut equal_pairs) = (0, 0, 0);
    for ((a, b), answer) in pairs.iter().zip(answers) {
        let ours = match (Scheme::Pep440.compare(a, b), Scheme::Pep440.compare(b, a)) {
            (Ok(o), Ok(r)) => {
                assert_eq!(o, r.reverse(), "antisymmetry for {a:?} / {b:?}");
                valid_pairs += 1;
                equal_pairs += usize::from(o == EQUAL);
                (o as i8).to_string()
            }
            _ => {
                let a_ok = Scheme::Pep440.compare(a, a).is_ok();
                let b_ok = Scheme::Pep440.compare(b, b).is_ok();
                invalid_sides += usize::from(!a_ok) + usize::from(!b_ok);
                format!(
                    "{} {}",
                    if a_ok { "-" } else { "E" },
                    if b_ok { "-" } else { "E" }
                )
            }
        };
        if &ours != answer {
            disagreements.push(format!("{a:?} vs {b:?}: packaging {answer}, ours {ours}"));
        }
    }
    eprintln!(
        "PEP 440 differential against {header}: {} pairs ({valid_pairs} both valid, {equal_pairs} of them equal, {invalid_sides} invalid sides), {} disagreements",
        pairs.len(),
        disagreements.len()
    );
    assert!(
        valid_pairs > 2500,
        "too few valid pairs ({valid_pairs}) for a meaningful differential"
    );
    assert!(
        equal_pairs > 200,
        "too few equal pairs ({equal_pairs}): the near-equal mutations are not working"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
}

fn semver_identifier(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => rng.below(20).to_string(),
        1 => "0".into(),
        // node-semver compares numeric identifiers as JavaScript numbers (imprecise beyond 2^53)
        // and rejects core numbers beyond it, so the generator stays below.
        2 => "9007199254740990".into(),
        3 => rng
            .pick(&[
                "alpha", "beta", "rc", "Alpha", "RC", "a", "b", "x-y", "-", "0a", "z9",
            ])
            .into(),
        _ => rng.pick(&["1", "2", "10", "11", "pre", "dev"]).into(),
    }
}

fn semver_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(10) {
        v.push('v');
    }
    let numbers = ["0", "1", "2", "10", "11", "9007199254740990"];
    v.push_str(&format!(
        "{}.{}.{}",
        rng.pick(&numbers),
        rng.pick(&numbers),
        rng.pick(&numbers)
    ));
    if rng.chance(60) {
        v.push('-');
        for i in 0..1 + rng.below(3) {
            if i > 0 {
                v.push('.');
            }
            v.push_str(&semver_identifier(rng));
        }
    }
    if rng.chance(15) {
        v.push_str(rng.pick(&["+build", "+b.1", "+001", "+x-y.z"]));
    }
    v
}

const NODE_SEMVER_SCRIPT: &str = r#"
const path = require('path');
const root = require('child_process').execSync('npm root -g').toString().trim();
let semver;
try { semver = require('semver'); } catch (e) { semver = require(path.join(root, 'npm', 'node_modules', 'semver')); }
console.log('semver ' + (semver.SEMVER_SPEC_VERSION || '?'));
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
const dec = t => Buffer.from(t.slice(1), 'hex').toString();
const out = [];
for (const line of lines) {
  const [a, b] = line.split(' ').map(dec);
  const pa = semver.parse(a), pb = semver.parse(b);
  out.push(pa && pb ? String(semver.compare(pa, pb)) : 'skip');
}
console.log(out.join('\n'));
"#;

#[test]
fn semver_differential_against_node_semver() {
    let mut rng = Rng(0x5e30_e200_0000_0002);
    let pairs: Vec<(String, String)> = (0..3000)
        .map(|_| {
            let a = semver_version(&mut rng);
            let b = if rng.chance(40) {
                // Near-equal: same core, different pre-release or build.
                let core = a.split(['-', '+']).next().unwrap_or("").to_string();
                let tail = semver_version(&mut rng);
                let suffix = tail
                    .find(['-', '+'])
                    .map(|i| tail[i..].to_string())
                    .unwrap_or_default();
                format!("{core}{suffix}")
            } else {
                semver_version(&mut rng)
            };
            (a, b)
        })
        .collect();
    let input: String = pairs
        .iter()
        .map(|(a, b)| format!("{} {}\n", hex(a), hex(b)))
        .collect();
    let lines = match run_reference("node", &["-e", NODE_SEMVER_SCRIPT], &input) {
        Ok(lines) => lines,
        Err(why) => {
            // Optional reference: never fails the build, only reports.
            eprintln!("semver differential skipped: {why}");
            return;
        }
    };
    let Some((header, answers)) = lines.split_first() else {
        eprintln!("semver differential skipped: node printed nothing");
        return;
    };
    assert_eq!(answers.len(), pairs.len());
    let mut compared = 0;
    for ((a, b), answer) in pairs.iter().zip(answers) {
        if answer == "skip" {
            // node-semver rejects leading zeros in numeric identifiers, which this scheme reads
            // by value; only versions both accept are compared.
            continue;
        }
        compared += 1;
        let ours = cmp(Scheme::Semver, a, b) as i8;
        assert_eq!(ours.to_string(), *answer, "{a:?} vs {b:?}");
    }
    eprintln!(
        "SemVer differential against node {header}: {compared} of {} pairs compared, all agree",
        pairs.len()
    );
    assert!(
        compared > 2500,
        "too few pairs accepted by node-semver: {compared}"
    );
}

const MAVEN_JAVA: &str = r#"
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOrder {
    static String dec(String t) throws Exception {
        byte[] b = new byte[(t.length() - 1) / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(t.substring(1 + 2 * i, 3 + 2 * i), 16);
        return new String(b, "UTF-8");
    }
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split(" ");
            int c = new ComparableVersion(dec(p[0])).compareTo(new ComparableVersion(dec(p[1])));
            out.append(Integer.signum(c)).append('\n');
        }
        System.out.print(out);
    }
}
"#;

/// Maven versions without a letter right after a `.`, the only inputs whose order MNG-7644
/// (Maven 3.8.8 / 3.9.0) changed, so that Debian's Maven 3.8.7 can serve as the reference.
fn maven_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    let parts = 1 + rng.below(5);
    let mut after_dot = false;
    for i in 0..parts {
        if i > 0 {
            let sep = rng.pick(&[".", ".", "-", "-", ""]);
            after_dot = sep == ".";
            v.push_str(sep);
        }
        let number_only = after_dot || i == 0;
        if number_only || rng.chance(50) {
            v.push_str(rng.pick(&[
                "0",
                "1",
                "2",
                "10",
                "00",
                "01",
                "1234567890",
                "12345678901234567890",
            ]));
        } else {
            v.push_str(rng.pick(&[
                "alpha",
                "a",
                "beta",
                "b",
                "milestone",
                "m",
                "rc",
                "cr",
                "RC",
                "snapshot",
                "SNAPSHOT",
                "ga",
                "final",
                "sp",
                "abc",
                "xyz",
                "Final",
            ]));
            if rng.chance(60) {
                v.push_str(rng.pick(&["1", "2", "10", "0"]));
            }
        }
    }
    v
}

#[test]
fn maven_differential_against_comparable_version() {
    let jar = [
        "/usr/share/java/maven3-artifact.jar",
        "/usr/share/java/maven-artifact-3.x.jar",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    let Some(jar) = jar else {
        eprintln!("maven differential skipped: no maven-artifact jar (Debian libmaven3-core-java)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("palisade-maven-order-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("MavenOrder.java"), MAVEN_JAVA).is_err()
    {
        eprintln!(
            "maven differential skipped: cannot write to {}",
            dir.display()
        );
        return;
    }
    let dir_str = dir.to_string_lossy().to_string();
    let compiled = Command::new("javac")
        .args(["-cp", jar, "-d", &dir_str])
        .arg(dir.join("MavenOrder.java"))
        .output();
    if !compiled.is_ok_and(|o| o.status.success()) {
        eprintln!("maven differential skipped: javac unavailable or failed");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let mut rng = Rng(0x3a7e_0000_0000_0003);
    let mut pairs = Vec::new();
    for window in MAVEN_QUALIFIER.windows(2) {
        if let [a, b] = window {
            pairs.push((a.to_string(), b.to_string()));
        }
    }
    while pairs.len() < 3000 {
        let a = maven_version(&mut rng);
        let b = if rng.chance(30) {
            format!("{a}{}", rng.pick(&["-0", "-1", "0", "-sp", "-ga", "1"]))
        } else {
            maven_version(&mut rng)
        };
        pairs.push((a, b));
    }
    let input: String = pairs
        .iter()
        .map(|(a, b)| format!("{} {}\n", hex(a), hex(b)))
        .collect();
    let classpath = format!("{jar}:{dir_str}");
    let result = run_reference("java", &["-cp", &classpath, "MavenOrder"], &input);
    let _ = std::fs::remove_dir_all(&dir);
    let answers = match result {
        Ok(lines) => lines,
        Err(why) => {
            eprintln!("maven differential skipped: {why}");
            return;
        }
    };
    assert_eq!(answers.len(), pairs.len());
    let mut disagreements = Vec::new();
    for ((a, b), answer) in pairs.iter().zip(&answers) {
        let ours = (cmp(Scheme::Maven, a, b) as i8).to_string();
        if &ours != answer {
            disagreements.push(format!("{a:?} vs {b:?}: maven {answer}, ours {ours}"));
        }
    }
    eprintln!(
        "Maven differential against {jar}: {} pairs, {} disagreements",
        pairs.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{:#?}",
        &disagreements[..disagreements.len().min(20)]
    );
}

#[test]
fn every_scheme_is_antisymmetric_on_mixed_inputs() {
    let samples = [
        "",
        "0",
        "1",
        "1.0",
        "1.0.0",
        "v1.2.3",
        "1.2.3-rc.1",
        "1.2.3-RC1",
        "1.0a1",
        "1.0.post1",
        "1!2.0",
        "1.0+local.7",
        "go1.21rc2",
        "go1.21",
        "1.21",
        "go1.21.0",
        "v2.0.0+incompatible",
        "v0.0.0-20191109021931-daa7c04131f5",
        "1.0-SNAPSHOT",
        "1.0.0.Final",
        "1-sp1",
        "1.2.b3",
        "5.x",
        "1.0.0-beta2",
        "1.x-dev",
        "dev-master",
        "1.0.0.0-beta.1",
        "2147483648.0",
        "1.0.0-9999999999",
        "  1.0 ",
        "é",
        "1..2",
        "a1b2c3",
    ];
    let schemes = [
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::Packagist,
        Scheme::NuGet,
    ];
    let mut accepted = 0;
    for scheme in schemes {
        for a in samples {
            for b in samples {
                match (scheme.compare(a, b), scheme.compare(b, a)) {
                    (Ok(x), Ok(y)) => {
                        accepted += 1;
                        assert_eq!(x, y.reverse(), "{scheme:?}: {a:?} vs {b:?}");
                        if a == b {
                            assert_eq!(x, EQUAL, "{scheme:?}: {a:?} not equal to itself");
                        }
                    }
                    (Err(_), Err(_)) => {}
                    (x, y) => panic!("{scheme:?}: {a:?}/{b:?} accepted one way only: {x:?} {y:?}"),
                }
            }
        }
        // Transitivity over the accepted samples. Maven's ComparableVersion is not transitive
        // (checked against Maven 3.8.7's jar: 1 < 1.x-dev, 1.x-dev < 1.0a1, yet 1 > 1.0a1), and a
        // faithful port inherits that.
        if scheme == Scheme::Maven {
            assert_eq!(cmp(scheme, "1", "1.x-dev"), LESS);
            assert_eq!(cmp(scheme, "1.x-dev", "1.0a1"), LESS);
            assert_eq!(cmp(scheme, "1", "1.0a1"), GREATER);
            continue;
        }
        let valid: Vec<&str> = samples
            .iter()
            .copied()
            .filter(|v| scheme.compare(v, v).is_ok())
            .collect();
        for a in &valid {
            for b in &valid {
                for c in &valid {
                    if cmp(scheme, a, b) != GREATER && cmp(scheme, b, c) != GREATER {
                        assert_ne!(
                            cmp(scheme, a, c),
                            GREATER,
                            "{scheme:?}: {a} <= {b} <= {c} but {a} > {c}"
                        );
                    }
                }
            }
        }
    }
    assert!(accepted > 1000);
}

/// The fuzz target's properties (fuzz/fuzz_targets/version_lang.rs) over deterministic random
/// inputs built from version-like fragments and arbitrary characters, so a regression shows up in
/// `cargo test` and not only under `cargo fuzz`.
#[test]
fn random_inputs_keep_the_fuzz_properties() {
    let fragments = [
        "0",
        "1",
        "01",
        "9",
        "99999999999999999999",
        ".",
        "-",
        "_",
        "+",
        "!",
        "v",
        "V",
        "go",
        "a",
        "alpha",
        "b",
        "beta",
        "rc",
        "RC",
        "c",
        "pre",
        "preview",
        "post",
        "rev",
        "r",
        "dev",
        "DEV",
        "x",
        "*",
        "@",
        " ",
        "\t",
        "\n",
        "é",
        "ǅ",
        "SNAPSHOT",
        "final",
        "ga",
        "sp",
        "m",
        "p",
        "pl",
        "patch",
        "stable",
        "as",
        ",",
        "incompatible",
        "İ",
        "\u{0}",
    ];
    let schemes = [
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::Packagist,
        Scheme::NuGet,
    ];
    let mut rng = Rng(0xf022_0000_0000_0004);
    let random_version =
        |rng: &mut Rng| -> String { (0..rng.below(9)).map(|_| rng.pick(&fragments)).collect() };
    let mut accepted = 0;
    for _ in 0..20_000 {
        let a = random_version(&mut rng);
        let b = random_version(&mut rng);
        for scheme in schemes {
            match (scheme.compare(&a, &b), scheme.compare(&b, &a)) {
                (Ok(x), Ok(y)) => {
                    accepted += 1;
                    assert_eq!(x, y.reverse(), "{scheme:?}: {a:?} vs {b:?}");
                }
                (Err(_), Err(_)) => {}
                (x, y) => panic!("{scheme:?}: {a:?}/{b:?} accepted one way only: {x:?} {y:?}"),
            }
            for v in [&a, &b] {
                if let Ok(ord) = scheme.compare(v, v) {
                    assert_eq!(ord, EQUAL, "{scheme:?}: {v:?} differs from itself");
                }
            }
        }
    }
    assert!(
        accepted > 10_000,
        "too few accepted pairs ({accepted}) to exercise the comparisons"
    );
}
