//! The OS package version schemes (dpkg, rpm, apk) against their reference implementations.
//!
//! 1. Fixed tables taken from each implementation's own test suite (cited at each table) run
//!    everywhere.
//! 2. Differential tests generate thousands of version pairs with a seeded PRNG and ask the real
//!    program about the whole batch in one process: `dpkg --compare-versions` (one `sh` loop) and
//!    rpm's own `rpm.ver` comparison (`rpmverCmp`, one `rpm --eval` Lua script). When a program is
//!    missing the test says so and skips, unless `CI` is set, where it fails: scripts/test.sh must
//!    install the Debian packages `dpkg` (always present on Debian) and `rpm`.
//! 3. apk-tools is not packaged in Debian bookworm, so apk relies on its table and on ordering
//!    laws checked over generated versions.

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use palisade_vulndb::version::Scheme;

/// The outcome as the reference programs report it: `<`, `=`, `>`, or `E` for "refused".
fn outcome(scheme: Scheme, a: &str, b: &str) -> char {
    match scheme.compare(a, b) {
        Ok(Ordering::Less) => '<',
        Ok(Ordering::Equal) => '=',
        Ok(Ordering::Greater) => '>',
        Err(_) => 'E',
    }
}

fn flip(c: char) -> char {
    match c {
        '<' => '>',
        '>' => '<',
        other => other,
    }
}

/// Checks a table both ways round and returns how many rows it checked.
fn check_table(scheme: Scheme, rows: &[(&str, &str, char)]) -> usize {
    let mut failures = Vec::new();
    for &(a, b, want) in rows {
        let got = outcome(scheme, a, b);
        if got != want {
            failures.push(format!("{a:?} vs {b:?}: want {want}, got {got}"));
        }
        let back = outcome(scheme, b, a);
        if back != flip(want) {
            failures.push(format!("{b:?} vs {a:?}: want {}, got {back}", flip(want)));
        }
    }
    assert!(failures.is_empty(), "{scheme:?}:\n{}", failures.join("\n"));
    rows.len()
}

// ---------------------------------------------------------------------------------------------
// dpkg

/// dpkg's scripts/t/Dpkg_Version.t `__DATA__` (guillemj/dpkg), which that test also runs through
/// `dpkg --compare-versions`. Three rows differ from the file, because the file is from a newer
/// dpkg than bookworm's 1.21: dpkg 1.21's `parseversion` refuses an empty revision (`0foo-`:
/// "revision number is empty") and an empty upstream version (`-0.6.5`: "version number is
/// empty"), so `dpkg --compare-versions` exits 2 there — written `E` below.
const DPKG_VERSION_T: &[(&str, &str, char)] = &[
    ("1.0-1", "2.0-2", '<'),
    ("2.2~rc-4", "2.2-1", '<'),
    ("2.2-1", "2.2~rc-4", '>'),
    ("1.0000-1", "1.0-1", '='),
    ("1", "0:1", '='),
    ("0", "0:0-0", '='),
    ("2:2.5", "1:7.5", '>'),
    ("1:0foo", "0foo", '>'),
    ("0:0foo", "0foo", '='),
    ("0foo", "0foo", '='),
    ("0foo-", "0foo", 'E'),
    ("0foo-", "0foo-0", 'E'),
    ("0foo", "0fo", '>'),
    ("0foo-", "0foo+", 'E'),
    ("0foo~1", "0foo", '<'),
    ("0foo~foo+Bar", "0foo~foo+bar", '<'),
    ("0foo~~", "0foo~", '<'),
    ("1~", "1", '<'),
    (
        "12345+that-really-is-some-ver-0",
        "12345+that-really-is-some-ver-10",
        '<',
    ),
    ("0foo-0", "0foo-01", '<'),
    ("0foo.bar", "0foobar", '>'),
    ("0foo.bar", "0foo1bar", '>'),
    ("0foo.bar", "0foo0bar", '>'),
    ("0foo1bar-1", "0foobar-1", '<'),
    ("0foo2.0", "0foo2", '>'),
    ("0foo2.0.0", "0foo2.10.0", '<'),
    ("0foo2.0", "0foo2.0.0", '<'),
    ("0foo2.0", "0foo2.10", '<'),
    ("0foo2.1", "0foo2.10", '<'),
    ("1.09", "1.9", '='),
    ("1.0.8+nmu1", "1.0.8", '>'),
    ("3.11", "3.10+nmu1", '>'),
    ("0.9j-20080306-4", "0.9i-20070324-2", '>'),
    ("1.2.0~b7-1", "1.2.0~b6-1", '>'),
    ("1.011-1", "1.06-2", '>'),
    ("0.0.9+dfsg1-1", "0.0.8+dfsg1-3", '>'),
    ("4.6.99+svn6582-1", "4.6.99+svn6496-1", '>'),
    ("53", "52", '>'),
    ("0.9.9~pre122-1", "0.9.9~pre111-1", '>'),
    ("2:2.3.2-2+lenny2", "2:2.3.2-2", '>'),
    ("1:3.8.1-1", "3.8.GA-1", '>'),
    ("1.0.1+gpl-1", "1.0.1-2", '>'),
    ("1a", "1000a", '<'),
    ("-0.6.5", "0.9.1", 'E'),
];

/// dpkg's lib/dpkg/t/t-version.c (guillemj/dpkg): `test_version_compare` objects written as
/// strings, and `test_version_parse`'s accepted spellings (each equal to its parsed object) and
/// refused ones (`test_error`; `test_warn` cases still compare and are absent here). Its
/// `0:0-` case passes in newer dpkg only; bookworm's dpkg 1.21 refuses it.
const DPKG_T_VERSION_C: &[(&str, &str, char)] = &[
    ("0:1-1", "0:2-1", '<'),
    ("0:1-1", "0:1-2", '<'),
    ("0:0-0", "0:0-0", '='),
    ("0:0-00", "0:00-0", '='),
    ("1:2-3", "1:2-3", '='),
    ("0:0-0", "1:0-0", '<'),
    ("0:a-0", "0:b-0", '<'),
    ("0:0-a", "0:0-b", '<'),
    ("0", "0:0", '='),
    ("1:0", "1:0", '='),
    ("5:1", "5:1", '='),
    ("0:0.0-0.0", "0.0-0.0", '='),
    ("0:0-0-0", "0-0-0", '='),
    ("0:0-0-0-0", "0-0-0-0", '='),
    ("0:0:0-0", "0:0:0-0", '='),
    ("0:0:0:0-0", "0:0:0:0-0", '='),
    ("0:0:0-0-0", "0:0:0-0-0", '='),
    ("0:0-0:0-0", "0:0-0:0-0", '='),
    ("0:09azAZ.-+~:-0", "0:09azAZ.-+~:-0", '='),
    ("0:0-azAZ09.+~", "0:0-azAZ09.+~", '='),
    ("  \t0:0-1", "0:0-1", '='),
    ("0:0-1\t  ", "0:0-1", '='),
    ("\t  0:0-1  \t", "0:0-1", '='),
    ("", "0", 'E'),
    ("  ", "0", 'E'),
    ("0:", "0", 'E'),
    ("0:0 0-1", "0", 'E'),
    ("-1:0-1", "0", 'E'),
    ("999999999999999999999999:0-1", "0", 'E'),
    ("a:0-0", "0", 'E'),
    ("A:0-0", "0", 'E'),
    ("-0", "0", 'E'),
    ("0:-0", "0", 'E'),
    ("0:0-", "0", 'E'),
    ("0:abc3-0", "0:abc3-0", '='),
    ("0:0!-0", "0:0#-0", '<'),
];

/// Real Debian bookworm versions, the seeds that generated dpkg pairs mutate.
const DPKG_SEEDS: &[&str] = &[
    "1:2.38.1-5+deb12u1",
    "2.36-9+deb12u4",
    "1.2.13.dfsg-1",
    "3.0.11-1~deb12u2",
    "252.22-1~deb12u1",
    "7.88.1-10+deb12u5",
    "1:9.2p1-2+deb12u2",
    "2.9.14+dfsg-1.3~deb12u1",
    "0.9.8-1.1",
    "1.21.22",
    "5.2.15-2+b2",
    "12.2.0-14",
    "2:8.2.3995-1+deb12u1",
    "1:1.2.13.dfsg-1",
    "6.1.0-18-amd64",
    "20230311",
    "3.11.2-6+deb12u1",
    "0.23.22-1.1~bpo11+1",
];

// ---------------------------------------------------------------------------------------------
// rpm

/// rpm's tests/rpmvercmp.at (rpm-software-management/rpm, as of rpm 4.15 with the caret cases;
/// the caret block is quoted from the copy of that file in insights-core's test_rpm_vercmp.py).
/// Each is `rpm.vercmp(a, b)`; none contains `-` or `:`, so as EVRs they are bare versions.
/// The commented-out "oddities" of that file are kept too: they document rpm's real behaviour.
const RPMVERCMP_AT: &[(&str, &str, char)] = &[
    ("1.0", "1.0", '='),
    ("1.0", "2.0", '<'),
    ("2.0", "1.0", '>'),
    ("2.0.1", "2.0.1", '='),
    ("2.0", "2.0.1", '<'),
    ("2.0.1", "2.0", '>'),
    ("2.0.1a", "2.0.1a", '='),
    ("2.0.1a", "2.0.1", '>'),
    ("2.0.1", "2.0.1a", '<'),
    ("5.5p1", "5.5p1", '='),
    ("5.5p1", "5.5p2", '<'),
    ("5.5p2", "5.5p1", '>'),
    ("5.5p10", "5.5p10", '='),
    ("5.5p1", "5.5p10", '<'),
    ("5.5p10", "5.5p1", '>'),
    ("10xyz", "10.1xyz", '<'),
    ("10.1xyz", "10xyz", '>'),
    ("xyz10", "xyz10", '='),
    ("xyz10", "xyz10.1", '<'),
    ("xyz10.1", "xyz10", '>'),
    ("xyz.4", "xyz.4", '='),
    ("xyz.4", "8", '<'),
    ("8", "xyz.4", '>'),
    ("xyz.4", "2", '<'),
    ("2", "xyz.4", '>'),
    ("5.5p2", "5.6p1", '<'),
    ("5.6p1", "5.5p2", '>'),
    ("5.6p1", "6.5p1", '<'),
    ("6.5p1", "5.6p1", '>'),
    ("6.0.rc1", "6.0", '>'),
    ("6.0", "6.0.rc1", '<'),
    ("10b2", "10a1", '>'),
    ("10a2", "10b2", '<'),
    ("1.0aa", "1.0aa", '='),
    ("1.0a", "1.0aa", '<'),
    ("1.0aa", "1.0a", '>'),
    ("10.0001", "10.0001", '='),
    ("10.0001", "10.1", '='),
    ("10.1", "10.0001", '='),
    ("10.0001", "10.0039", '<'),
    ("10.0039", "10.0001", '>'),
    ("4.999.9", "5.0", '<'),
    ("5.0", "4.999.9", '>'),
    ("20101121", "20101121", '='),
    ("20101121", "20101122", '<'),
    ("20101122", "20101121", '>'),
    ("2_0", "2_0", '='),
    ("2.0", "2_0", '='),
    ("2_0", "2.0", '='),
    ("a", "a", '='),
    ("a+", "a+", '='),
    ("a+", "a_", '='),
    ("a_", "a+", '='),
    ("+a", "+a", '='),
    ("+a", "_a", '='),
    ("_a", "+a", '='),
    ("+_", "+_", '='),
    ("_+", "+_", '='),
    ("_+", "_+", '='),
    ("+", "_", '='),
    ("_", "+", '='),
    ("1.0~rc1", "1.0~rc1", '='),
    ("1.0~rc1", "1.0", '<'),
    ("1.0", "1.0~rc1", '>'),
    ("1.0~rc1", "1.0~rc2", '<'),
    ("1.0~rc2", "1.0~rc1", '>'),
    ("1.0~rc1~git123", "1.0~rc1~git123", '='),
    ("1.0~rc1~git123", "1.0~rc1", '<'),
    ("1.0~rc1", "1.0~rc1~git123", '>'),
    ("1.0^", "1.0^", '='),
    ("1.0^", "1.0", '>'),
    ("1.0", "1.0^", '<'),
    ("1.0^git1", "1.0^git1", '='),
    ("1.0^git1", "1.0", '>'),
    ("1.0", "1.0^git1", '<'),
    ("1.0^git1", "1.0^git2", '<'),
    ("1.0^git2", "1.0^git1", '>'),
    ("1.0^git1", "1.01", '<'),
    ("1.01", "1.0^git1", '>'),
    ("1.0^20160101", "1.0^20160101", '='),
    ("1.0^20160101", "1.0.1", '<'),
    ("1.0.1", "1.0^20160101", '>'),
    ("1.0^20160101^git1", "1.0^20160101^git1", '='),
    ("1.0^20160102", "1.0^20160101^git1", '>'),
    ("1.0^20160101^git1", "1.0^20160102", '<'),
    ("1.0~rc1^git1", "1.0~rc1^git1", '='),
    ("1.0~rc1^git1", "1.0~rc1", '>'),
    ("1.0~rc1", "1.0~rc1^git1", '<'),
    ("1.0^git1~pre", "1.0^git1~pre", '='),
    ("1.0^git1", "1.0^git1~pre", '>'),
    ("1.0^git1~pre", "1.0^git1", '<'),
    // The "oddities" block (RhBug:811992 and non-ASCII bytes, which rpm treats as separators).
    ("1b.fc17", "1b.fc17", '='),
    ("1b.fc17", "1.fc17", '<'),
    ("1.fc17", "1b.fc17", '>'),
    ("1g.fc17", "1g.fc17", '='),
    ("1g.fc17", "1.fc17", '>'),
    ("1.fc17", "1g.fc17", '<'),
    ("1.1.α", "1.1.α", '='),
    ("1.1.α", "1.1.β", '='),
    ("1.1.β", "1.1.α", '='),
    ("1.1.αα", "1.1.α", '='),
    ("1.1.α", "1.1.ββ", '='),
    ("1.1.ββ", "1.1.αα", '='),
];

/// EVR cases built from AlmaLinux 9 OSV records (/work/shared/data/osv/AlmaLinux-9/all.zip);
/// their answers are rpm's `rpmverCmp`, which the differential test re-checks.
const RPM_EVR: &[(&str, &str, char)] = &[
    ("1:7.1.8.1-8.el9_1.alma", "7.1.8.1-8.el9_1.alma", '>'),
    ("0:1.2.3-4.el9_2", "1.2.3-4.el9_2", '='),
    ("1.2.3-4.el9", "1.2.3-4.el9_2", '<'),
    ("5.14.0-162.23.1.el9_1", "5.14.0-70.17.1.el9_0", '>'),
    ("2.34-60.el9_2.7", "2.34-60.el9", '>'),
    ("8.7p1-30.el9_2", "8.7p1-29.el9_2", '>'),
    (
        "3.1.4-1.module_el9.1.0+15+94ba28e4",
        "3.1.4-1.module_el9.1.0+16+00000000",
        '<',
    ),
    ("12:4.4.2-18.b1.el9", "4.4.2-18.b1.el9", '>'),
    ("18.168.6.1-135.el9_2.alma.1", "18.168.6.1-135.el9_2", '>'),
    ("4.17.5-103.el9_2.alma", "4.17.5-102.el9", '>'),
    ("1.0", "1.0-1", '<'),
    ("1.0-", "1.0", '>'),
    (":1.0-1", "0:1.0-1", '='),
    ("0", "0:0", '='),
    ("", "0", 'E'),
];

/// Real AlmaLinux 9 EVRs from the OSV dump, the seeds that generated rpm pairs mutate.
const RPM_SEEDS: &[&str] = &[
    "1.46.5-3.el9",
    "3.1.4-1.module_el9.1.0+15+94ba28e4",
    "7.0.9-1.el9_2",
    "18.168.6.1-135.el9_2.alma.1",
    "1:7.1.8.1-8.el9_1.alma",
    "1:8.19.3-1.16.19.1.1.el9_2",
    "5.14.0-162.23.1.el9_1",
    "2.34-60.el9_2.7",
    "1:1.27.0-2.el9",
    "12:4.4.2-18.b1.el9",
    "8.7p1-30.el9_2",
    "1:17.0.6.0.10-3.el9_1",
    "0.11.3-4.el9_1.3",
    "1.0~rc1^git1-1.fc38",
    "0:1.2.3-4.el9_2",
];

// ---------------------------------------------------------------------------------------------
// apk

/// apk-tools' test/version.data (alpinelinux/apk-tools), verbatim: `a op b`, where `op` is `<`,
/// `=` or `>`; a `#` starts a comment. Rows whose versions apk's own validation rejects
/// (`1.0bc`, `23_foo`) are errors here by design (see src/version/apk.rs) and are listed in
/// [`APK_INVALID_IN_DATA`].
const APK_VERSION_DATA: &str = r#"
2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc		# invalid. do string sort
0.1.0_alpha = 0.1.0_alpha
0.1.0_alpha < 0.1.3_alpha
0.1.3_alpha > 0.1.0_alpha
0.1.0_alpha2 > 0.1.0_alpha
0.1.0_alpha < 2.2.39-r1
2.2.39-r1 > 1.0.4-r3
1.0.4-r3 < 1.0.4-r4
1.0.4-r4 < 1.6
1.6 > 1.0.2
1.0.2 > 0.7-r1
0.7-r1 < 1.0.0
1.0.0 < 1.0.1
1.0.1 < 1.1
1.1 > 1.1_alpha1
1.1_alpha1 < 1.2.1
1.2.1 > 1.2
1.2 < 1.3_alpha
1.3_alpha < 1.3_alpha2
1.3_alpha2 < 1.3_alpha3
1.3_alpha8 > 0.6.0
0.6.0 < 0.6.1
0.6.1 < 0.7.0
0.7.0 < 0.8_beta1
0.8_beta1 < 0.8_beta2
0.8_beta4 < 4.8-r1
4.8-r1 > 3.10.18-r1
3.10.18-r1 > 2.3.0b-r1
2.3.0b-r1 < 2.3.0b-r2
2.3.0b-r2 < 2.3.0b-r3
2.3.0b-r3 < 2.3.0b-r4
2.3.0b-r4 > 0.12.1
0.12.1 < 0.12.2
0.12.2 < 0.12.3
0.12.3 > 0.12
0.12 < 0.13_beta1
0.13_beta1 < 0.13_beta2
0.13_beta2 < 0.13_beta3
0.13_beta3 < 0.13_beta4
0.13_beta4 < 0.13_beta5
0.13_beta5 > 0.9.12
0.9.12 < 0.9.13
0.9.13 > 0.9.12
0.9.12 < 0.9.13
0.9.13 > 0.0.16
0.0.16 < 0.6
0.6 < 2.1.13-r3
2.1.13-r3 < 2.1.15-r2
2.1.15-r2 < 2.1.15-r3
2.1.15-r3 > 1.2.11
1.2.11 < 1.2.12.1
1.2.12.1 < 1.2.13
1.2.13 < 1.2.14-r1
1.2.14-r1 > 0.7.1
0.7.1 > 0.5.4
0.5.4 < 0.7.0
0.7.0 < 1.2.13
1.2.13 > 1.0.8
1.0.8 < 1.2.1
1.2.1 > 0.7-r1
0.7-r1 < 2.4.32
2.4.32 < 2.8-r4
2.8-r4 > 0.9.6
0.9.6 > 0.2.0-r1
0.2.0-r1 = 0.2.0-r1
0.2.0-r1 < 3.1_p16
3.1_p16 < 3.1_p17
3.1_p17 > 1.06-r6
1.06-r6 < 006
006 > 1.0.0
1.0.0 < 1.2.2-r1
1.2.2-r1 > 1.2.2
1.2.2 > 0.3-r1
0.3-r1 < 9.3.2-r4
9.3.2-r4 < 9.3.4-r2
9.3.4-r2 > 9.3.4
9.3.4 > 9.3.2
9.3.2 < 9.3.4
9.3.4 > 1.1.3
1.1.3 < 2.16.1-r3
2.16.1-r3 = 2.16.1-r3
2.16.1-r3 > 2.1.0-r2
2.1.0-r2 < 2.9.3-r1
2.9.3-r1 > 0.9-r1
0.9-r1 > 0.8-r1
0.8-r1 < 1.0.6-r3
1.0.6-r3 > 0.11
0.11 < 0.12
0.12 < 1.2.1-r1
1.2.1-r1 < 1.2.2.1
1.2.2.1 < 1.4.1-r1
1.4.1-r1 < 1.4.1-r2
1.4.1-r2 > 1.2.2
1.2.2 < 1.3
1.3 > 1.0.3-r6
1.0.3-r6 < 1.0.4
1.0.4 < 2.59
2.59 < 20050718-r1
20050718-r1 < 20050718-r2
20050718-r2 > 3.9.8-r5
3.9.8-r5 > 2.01.01_alpha10
2.01.01_alpha10 > 0.94
0.94 < 1.0
1.0 > 0.99.3.20040818
0.99.3.20040818 > 0.7
0.7 < 1.21-r1
1.21-r1 > 0.13
0.13 < 0.90.1-r1
0.90.1-r1 > 0.10.2
0.10.2 < 0.10.3
0.10.3 < 1.6
1.6 < 1.39
1.39 > 1.00_beta2
1.00_beta2 > 0.9.2
0.9.2 < 5.94-r1
5.94-r1 < 6.4
6.4 > 2.6-r5
2.6-r5 > 1.4
1.4 < 2.8.9-r1
2.8.9-r1 > 2.8.9
2.8.9 > 1.1
1.1 > 1.0.3-r2
1.0.3-r2 < 1.3.4-r3
1.3.4-r3 < 2.2
2.2 > 1.2.6
1.2.6 < 7.15.1-r1
7.15.1-r1 > 1.02
1.02 < 1.03-r1
1.03-r1 < 1.12.12-r2
1.12.12-r2 < 2.8.0.6-r1
2.8.0.6-r1 > 0.5.2.7
0.5.2.7 < 4.2.52_p2-r1
4.2.52_p2-r1 < 4.2.52_p4-r2
4.2.52_p4-r2 > 1.02.07
1.02.07 < 1.02.10-r1
1.02.10-r1 < 3.0.3-r9
3.0.3-r9 > 2.0.5-r1
2.0.5-r1 < 4.5
4.5 > 2.8.7-r1
2.8.7-r1 > 1.0.5
1.0.5 < 8
8 < 9
9 > 2.18.3-r10
2.18.3-r10 > 1.05-r18
1.05-r18 < 1.05-r19
1.05-r19 < 2.2.5
2.2.5 < 2.8
2.8 < 2.20.1
2.20.1 < 2.20.3
2.20.3 < 2.31
2.31 < 2.34
2.34 < 2.38
2.38 < 20050405
20050405 > 1.8
1.8 < 2.11-r1
2.11-r1 > 2.11
2.11 > 0.1.6-r3
0.1.6-r3 < 0.47-r1
0.47-r1 < 0.49
0.49 < 3.6.8-r2
3.6.8-r2 > 1.39
1.39 < 2.43
2.43 > 2.0.6-r1
2.0.6-r1 > 0.2-r6
0.2-r6 < 0.4
0.4 < 1.0.0
1.0.0 < 10-r1
10-r1 > 4
4 > 0.7.3-r2
0.7.3-r2 > 0.7.3
0.7.3 < 1.95.8
1.95.8 > 1.1.19
1.1.19 > 1.1.5
1.1.5 < 6.3.2-r1
6.3.2-r1 < 6.3.3
6.3.3 > 4.17-r1
4.17-r1 < 4.18
4.18 < 4.19
4.19 > 4.3.0
4.3.0 < 4.3.2-r1
4.3.2-r1 > 4.3.2
4.3.2 > 0.68-r3
0.68-r3 < 1.0.0
1.0.0 < 1.0.1
1.0.1 > 1.0.0
1.0.0 = 1.0.0
1.0.0 < 1.0.1
1.0.1 < 2.3.2-r1
2.3.2-r1 < 2.4.2
2.4.2 < 20060720
20060720 > 3.0.20060720
3.0.20060720 < 20060720
20060720 > 1.1
1.1 = 1.1
1.1 < 1.1.1-r1
1.1.1-r1 < 1.1.3-r1
1.1.3-r1 < 1.1.3-r2
1.1.3-r2 < 2.1.10-r2
2.1.10-r2 > 0.7.18-r2
0.7.18-r2 < 0.17-r6
0.17-r6 < 2.6.1
2.6.1 < 2.6.3
2.6.3 < 3.1.5-r2
3.1.5-r2 < 3.4.6-r1
3.4.6-r1 < 3.4.6-r2
3.4.6-r2 = 3.4.6-r2
3.4.6-r2 > 2.0.33
2.0.33 < 2.0.34
2.0.34 > 1.8.3-r2
1.8.3-r2 < 1.8.3-r3
1.8.3-r3 < 4.1
4.1 < 8.54
8.54 > 4.1.4
4.1.4 > 1.2.10-r5
1.2.10-r5 < 4.1.4-r3
4.1.4-r3 = 4.1.4-r3
4.1.4-r3 < 4.2.1
4.2.1 > 4.1.0
4.1.0 < 8.11
8.11 > 1.4.4-r1
1.4.4-r1 < 2.1.9.200602141850
2.1.9.200602141850 > 1.6
1.6 < 2.5.1-r8
2.5.1-r8 < 2.5.1a-r1
2.5.1a-r1 > 1.19.2-r1
1.19.2-r1 > 0.97-r2
0.97-r2 < 0.97-r3
0.97-r3 < 1.3.5-r10
1.3.5-r10 > 1.3.5-r8
1.3.5-r8 < 1.3.5-r9
1.3.5-r9 > 1.0
1.0 < 1.1
1.1 > 0.9.11
0.9.11 < 0.9.12
0.9.12 < 0.9.13
0.9.13 < 0.9.14
0.9.14 < 0.9.15
0.9.15 < 0.9.16
0.9.16 > 0.3-r2
0.3-r2 < 6.3
6.3 < 6.6
6.6 < 6.9
6.9 > 0.7.2-r3
0.7.2-r3 < 1.2.10
1.2.10 < 20040923-r2
20040923-r2 > 20040401
20040401 > 2.0.0_rc3-r1
2.0.0_rc3-r1 > 1.5
1.5 < 4.4
4.4 > 1.0.1
1.0.1 < 2.2.0
2.2.0 > 1.1.0-r2
1.1.0-r2 > 0.3
0.3 < 20020207-r2
20020207-r2 > 1.31-r2
1.31-r2 < 3.7
3.7 > 2.0.1
2.0.1 < 2.0.2
2.0.2 > 0.99.163
0.99.163 < 2.6.15.20060110
2.6.15.20060110 < 2.6.16.20060323
2.6.16.20060323 < 2.6.19.20061214
2.6.19.20061214 > 0.6.2-r1
0.6.2-r1 < 0.6.3
0.6.3 < 0.6.5
0.6.5 < 1.3.5-r1
1.3.5-r1 < 1.3.5-r4
1.3.5-r4 < 3.0.0-r2
3.0.0-r2 < 021109-r3
021109-r3 < 20060512
20060512 > 1.24
1.24 > 0.9.16-r1
0.9.16-r1 < 3.9_pre20060124
3.9_pre20060124 > 0.01
0.01 < 0.06
0.06 < 1.1.7
1.1.7 < 6b-r7
6b-r7 > 1.12-r7
1.12-r7 < 1.12-r8
1.12-r8 > 1.1.12
1.1.12 < 1.1.13
1.1.13 > 0.3
0.3 < 0.5
0.5 < 3.96.1
3.96.1 < 3.97
3.97 > 0.10.0-r1
0.10.0-r1 > 0.10.0
0.10.0 < 0.10.1_rc1
0.10.1_rc1 > 0.9.11
0.9.11 < 394
394 > 2.31
2.31 > 1.0.1
1.0.1 = 1.0.1
1.0.1 < 1.0.3
1.0.3 > 1.0.2
1.0.2 = 1.0.2
1.0.2 > 1.0.1
1.0.1 = 1.0.1
1.0.1 < 1.2.2
1.2.2 < 2.1.10
2.1.10 > 1.0.1
1.0.1 < 1.0.2
1.0.2 < 3.5.5
3.5.5 > 1.1.1
1.1.1 > 0.9.1
0.9.1 < 1.0.2
1.0.2 > 1.0.1
1.0.1 < 1.0.2
1.0.2 > 1.0.1
1.0.1 = 1.0.1
1.0.1 < 1.0.5
1.0.5 > 0.8.5
0.8.5 < 0.8.6-r3
0.8.6-r3 < 2.3.17
2.3.17 > 1.10-r5
1.10-r5 < 1.10-r9
1.10-r9 < 2.0.2
2.0.2 > 1.1a
1.1a < 1.3a
1.3a > 1.0.2
1.0.2 < 1.2.2-r1
1.2.2-r1 > 1.0-r1
1.0-r1 > 0.15.1b
0.15.1b < 1.0.1
1.0.1 < 1.06-r1
1.06-r1 < 1.06-r2
1.06-r2 > 0.15.1b-r2
0.15.1b-r2 > 0.15.1b
0.15.1b < 2.5.7
2.5.7 > 1.1.2.1-r1
1.1.2.1-r1 > 0.0.31
0.0.31 < 0.0.50
0.0.50 > 0.0.16
0.0.16 < 0.0.25
0.0.25 < 0.17
0.17 > 0.5.0
0.5.0 < 1.1.2
1.1.2 < 1.1.3
1.1.3 < 1.1.20
1.1.20 > 0.9.4
0.9.4 < 0.9.5
0.9.5 < 6.3
6.3 < 6.6
6.6 > 6.3
6.3 < 6.6
6.6 > 1.2.12-r1
1.2.12-r1 < 1.2.13
1.2.13 < 1.2.14
1.2.14 < 1.2.15
1.2.15 < 8.0.12
8.0.12 > 8.0.9
8.0.9 > 1.2.3-r1
1.2.3-r1 < 1.2.4-r1
1.2.4-r1 > 0.1
0.1 < 0.3.5
0.3.5 < 1.5.22
1.5.22 > 0.1.11
0.1.11 < 0.1.12
0.1.12 < 1.1.4.1
1.1.4.1 > 1.1.0
1.1.0 < 1.1.2
1.1.2 > 1.0.3
1.0.3 > 1.0.2
1.0.2 < 2.6.26
2.6.26 < 2.6.27
2.6.27 > 1.1.17
1.1.17 < 1.4.11
1.4.11 < 22.7-r1
22.7-r1 < 22.7.3-r1
22.7.3-r1 > 22.7
22.7 > 2.1_pre20
2.1_pre20 < 2.1_pre26
2.1_pre26 > 0.2.3-r2
0.2.3-r2 > 0.2.2
0.2.2 < 2.10.0
2.10.0 < 2.10.1
2.10.1 > 02.08.01b
02.08.01b < 4.77
4.77 > 0.17
0.17 < 5.1.1-r1
5.1.1-r1 < 5.1.1-r2
5.1.1-r2 > 5.1.1
5.1.1 > 1.2
1.2 < 5.1
5.1 > 2.02.06
2.02.06 < 2.02.10
2.02.10 < 2.8.5-r3
2.8.5-r3 < 2.8.6-r1
2.8.6-r1 < 2.8.6-r2
2.8.6-r2 > 2.02-r1
2.02-r1 > 1.5.0-r1
1.5.0-r1 > 1.5.0
1.5.0 > 0.9.2
0.9.2 < 8.1.2.20040524-r1
8.1.2.20040524-r1 < 8.1.2.20050715-r1
8.1.2.20050715-r1 < 20030215
20030215 > 3.80-r4
3.80-r4 < 3.81
3.81 > 1.6d
1.6d > 1.2.07.8
1.2.07.8 < 1.2.12.04
1.2.12.04 < 1.2.12.05
1.2.12.05 < 1.3.3
1.3.3 < 2.6.4
2.6.4 > 2.5.2
2.5.2 < 2.6.1
2.6.1 > 2.6
2.6 < 6.5.1-r1
6.5.1-r1 > 1.1.35-r1
1.1.35-r1 < 1.1.35-r2
1.1.35-r2 > 0.9.2
0.9.2 < 1.07-r1
1.07-r1 < 1.07.5
1.07.5 > 1.07
1.07 < 1.19
1.19 < 2.1-r2
2.1-r2 < 2.2
2.2 > 1.0.4
1.0.4 < 20060811
20060811 < 20061003
20061003 > 0.1_pre20060810
0.1_pre20060810 < 0.1_pre20060817
0.1_pre20060817 < 1.0.3
1.0.3 > 1.0.2
1.0.2 > 1.0.1
1.0.1 < 3.2.2-r1
3.2.2-r1 < 3.2.2-r2
3.2.2-r2 < 3.3.17
3.3.17 > 0.59s-r11
0.59s-r11 < 0.65
0.65 > 0.2.10-r2
0.2.10-r2 < 2.01
2.01 < 3.9.10
3.9.10 > 1.2.18
1.2.18 < 1.5.11-r2
1.5.11-r2 < 1.5.13-r1
1.5.13-r1 > 1.3.12-r1
1.3.12-r1 < 2.0.1
2.0.1 < 2.0.2
2.0.2 < 2.0.3
2.0.3 > 0.2.0
0.2.0 < 5.5-r2
5.5-r2 < 5.5-r3
5.5-r3 > 0.25.3
0.25.3 < 0.26.1-r1
0.26.1-r1 < 5.2.1.2-r1
5.2.1.2-r1 < 5.4
5.4 > 1.60-r11
1.60-r11 < 1.60-r12
1.60-r12 < 110-r8
110-r8 > 0.17-r2
0.17-r2 < 1.05-r4
1.05-r4 < 5.28.0
5.28.0 > 0.51.6-r1
0.51.6-r1 < 1.0.6-r6
1.0.6-r6 > 0.8.3
0.8.3 < 1.42
1.42 < 20030719
20030719 > 4.01
4.01 < 4.20
4.20 > 0.20070118
0.20070118 < 0.20070207_rc1
0.20070207_rc1 < 1.0
1.0 < 1.13.0
1.13.0 < 1.13.1
1.13.1 > 0.21
0.21 > 0.3.7-r3
0.3.7-r3 < 0.4.10
0.4.10 < 0.5.0
0.5.0 < 0.5.5
0.5.5 < 0.5.7
0.5.7 < 0.6.11-r1
0.6.11-r1 < 2.3.30-r2
2.3.30-r2 < 3.7_p1
3.7_p1 > 1.3
1.3 > 0.10.1
0.10.1 < 4.3_p2-r1
4.3_p2-r1 < 4.3_p2-r5
4.3_p2-r5 < 4.4_p1-r6
4.4_p1-r6 < 4.5_p1-r1
4.5_p1-r1 > 4.5_p1
4.5_p1 < 4.5_p1-r1
4.5_p1-r1 > 4.5_p1
4.5_p1 > 0.9.8c-r1
0.9.8c-r1 < 0.9.8d
0.9.8d < 2.4.4
2.4.4 < 2.4.7
2.4.7 > 2.0.6
2.0.6 = 2.0.6
2.0.6 > 0.78-r3
0.78-r3 > 0.3.2
0.3.2 < 1.7.1-r1
1.7.1-r1 < 2.5.9
2.5.9 > 0.1.13
0.1.13 < 0.1.15
0.1.15 < 0.4
0.4 < 0.9.6
0.9.6 < 2.2.0-r1
2.2.0-r1 < 2.2.3-r2
2.2.3-r2 < 013
013 < 014-r1
014-r1 > 1.3.1-r1
1.3.1-r1 < 5.8.8-r2
5.8.8-r2 > 5.1.6-r4
5.1.6-r4 < 5.1.6-r6
5.1.6-r6 < 5.2.1-r3
5.2.1-r3 > 0.11.3
0.11.3 = 0.11.3
0.11.3 < 1.10.7
1.10.7 > 1.7-r1
1.7-r1 > 0.1.20
0.1.20 < 0.1.23
0.1.23 < 5b-r9
5b-r9 > 2.2.10
2.2.10 < 2.3.6
2.3.6 < 8.0.12
8.0.12 > 2.4.3-r16
2.4.3-r16 < 2.4.4-r4
2.4.4-r4 < 3.0.3-r5
3.0.3-r5 < 3.0.6
3.0.6 < 3.2.6
3.2.6 < 3.2.7
3.2.7 > 0.3.1_rc8
0.3.1_rc8 < 22.2
22.2 < 22.3
22.3 > 1.2.2
1.2.2 < 2.04
2.04 < 2.4.3-r1
2.4.3-r1 < 2.4.3-r4
2.4.3-r4 > 0.98.6-r1
0.98.6-r1 < 5.7-r2
5.7-r2 < 5.7-r3
5.7-r3 > 5.1_p4
5.1_p4 > 1.0.5
1.0.5 < 3.6.19-r1
3.6.19-r1 > 3.6.19
3.6.19 > 1.0.1
1.0.1 < 3.8
3.8 > 0.2.3
0.2.3 < 1.2.15-r3
1.2.15-r3 > 1.2.6-r1
1.2.6-r1 < 2.6.8-r2
2.6.8-r2 < 2.6.9-r1
2.6.9-r1 > 1.7
1.7 < 1.7b
1.7b < 1.8.4-r3
1.8.4-r3 < 1.8.5
1.8.5 < 1.8.5_p2
1.8.5_p2 > 1.1.3
1.1.3 < 3.0.22-r3
3.0.22-r3 < 3.0.24
3.0.24 = 3.0.24
3.0.24 = 3.0.24
3.0.24 < 4.0.2-r5
4.0.2-r5 < 4.0.3
4.0.3 > 0.98
0.98 < 1.00
1.00 < 4.1.4-r1
4.1.4-r1 < 4.1.5
4.1.5 > 2.3
2.3 < 2.17-r3
2.17-r3 > 0.1.7
0.1.7 < 1.11
1.11 < 4.2.1-r11
4.2.1-r11 > 3.2.3
3.2.3 < 3.2.4
3.2.4 < 3.2.8
3.2.8 < 3.2.9
3.2.9 > 3.2.3
3.2.3 < 3.2.4
3.2.4 < 3.2.8
3.2.8 < 3.2.9
3.2.9 > 1.4.9-r2
1.4.9-r2 < 2.9.11_pre20051101-r2
2.9.11_pre20051101-r2 < 2.9.11_pre20051101-r3
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
2.9.11_pre20051101 < 2.9.11_pre20061021-r1
2.9.11_pre20061021-r1 < 2.9.11_pre20061021-r2
2.9.11_pre20061021-r2 < 5.36-r1
5.36-r1 > 1.0.1
1.0.1 < 7.0-r2
7.0-r2 > 2.4.5
2.4.5 < 2.6.1.2
2.6.1.2 < 2.6.1.3-r1
2.6.1.3-r1 > 2.6.1.3
2.6.1.3 < 2.6.1.3-r1
2.6.1.3-r1 < 12.17.9
12.17.9 > 1.1.12
1.1.12 > 1.1.7
1.1.7 < 2.5.14
2.5.14 < 2.6.6-r1
2.6.6-r1 < 2.6.7
2.6.7 < 2.6.9-r1
2.6.9-r1 > 2.6.9
2.6.9 > 1.39
1.39 > 0.9
0.9 < 2.61-r2
2.61-r2 < 4.5.14
4.5.14 > 4.09-r1
4.09-r1 > 1.3.1
1.3.1 < 1.3.2-r3
1.3.2-r3 < 1.6.8_p12-r1
1.6.8_p12-r1 > 1.6.8_p9-r2
1.6.8_p9-r2 > 1.3.0-r1
1.3.0-r1 < 3.11
3.11 < 3.20
3.20 > 1.6.11-r1
1.6.11-r1 > 1.6.9
1.6.9 < 5.0.5-r2
5.0.5-r2 > 2.86-r5
2.86-r5 < 2.86-r6
2.86-r6 > 1.15.1-r1
1.15.1-r1 < 8.4.9
8.4.9 > 7.6-r8
7.6-r8 > 3.9.4-r2
3.9.4-r2 < 3.9.4-r3
3.9.4-r3 < 3.9.5-r2
3.9.5-r2 > 1.1.9
1.1.9 > 1.0.6
1.0.6 < 5.9
5.9 < 6.5
6.5 > 0.40-r1
0.40-r1 < 2.25b-r5
2.25b-r5 < 2.25b-r6
2.25b-r6 > 1.0.4
1.0.4 < 1.0.5
1.0.5 < 1.4_p12-r2
1.4_p12-r2 < 1.4_p12-r5
1.4_p12-r5 > 1.1
1.1 > 0.2.0-r1
0.2.0-r1 < 0.2.1
0.2.1 < 0.9.28-r1
0.9.28-r1 < 0.9.28-r2
0.9.28-r2 < 0.9.28.1
0.9.28.1 > 0.9.28
0.9.28 < 0.9.28.1
0.9.28.1 < 087-r1
087-r1 < 103
103 < 104-r11
104-r11 > 104-r9
104-r9 > 1.23-r1
1.23-r1 > 1.23
1.23 < 1.23-r1
1.23-r1 > 1.0.2
1.0.2 < 5.52-r1
5.52-r1 > 1.2.5_rc2
1.2.5_rc2 > 0.1
0.1 < 0.71-r1
0.71-r1 < 20040406-r1
20040406-r1 > 2.12r-r4
2.12r-r4 < 2.12r-r5
2.12r-r5 > 0.0.7
0.0.7 < 1.0.3
1.0.3 < 1.8
1.8 < 7.0.17
7.0.17 < 7.0.174
7.0.174 > 7.0.17
7.0.17 < 7.0.174
7.0.174 > 1.0.1
1.0.1 < 1.1.1-r3
1.1.1-r3 > 0.3.4_pre20061029
0.3.4_pre20061029 < 0.4.0
0.4.0 > 0.1.2
0.1.2 < 1.10.2
1.10.2 < 2.16
2.16 < 28
28 > 0.99.4
0.99.4 < 1.13
1.13 > 1.0.1
1.0.1 < 1.1.2-r2
1.1.2-r2 > 1.1.0
1.1.0 < 1.1.1
1.1.1 = 1.1.1
1.1.1 > 0.6.0
0.6.0 < 6.6.3
6.6.3 > 1.1.1
1.1.1 > 1.1.0
1.1.0 = 1.1.0
1.1.0 > 0.2.0
0.2.0 < 0.3.0
0.3.0 < 1.1.1
1.1.1 < 1.2.0
1.2.0 > 1.1.0
1.1.0 < 1.6.5
1.6.5 > 1.1.0
1.1.0 < 1.4.2
1.4.2 > 1.1.1
1.1.1 < 2.8.1
2.8.1 > 1.2.0
1.2.0 < 4.1.0
4.1.0 > 0.4.1
0.4.1 < 1.9.1
1.9.1 < 2.1.1
2.1.1 > 1.4.1
1.4.1 > 0.9.1-r1
0.9.1-r1 > 0.8.1
0.8.1 < 1.2.1-r1
1.2.1-r1 > 1.1.0
1.1.0 < 1.2.1
1.2.1 > 1.1.0
1.1.0 > 0.1.1
0.1.1 < 1.2.1
1.2.1 < 4.1.0
4.1.0 > 0.2.1-r1
0.2.1-r1 < 1.1.0
1.1.0 < 2.7.11
2.7.11 > 1.0.2-r6
1.0.2-r6 > 1.0.2
1.0.2 > 0.8
0.8 < 1.1.1-r4
1.1.1-r4 < 222
222 > 1.0.1
1.0.1 < 1.2.12-r1
1.2.12-r1 > 1.2.8
1.2.8 < 1.2.9.1-r1
1.2.9.1-r1 > 1.2.9.1
1.2.9.1 < 2.31-r1
2.31-r1 > 2.31
2.31 > 1.2.3-r1
1.2.3-r1 > 1.2.3
1.2.3 < 4.2.5
4.2.5 < 4.3.2-r2
1.3-r0 < 1.3.1-r0
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.1_pre1 < 6.1
6.0_p1 > 6.0
6.1_p1 > 6.1
"#;

const APK_INVALID_IN_DATA: &[&str] = &["1.0bc", "23_foo"];

/// Real Alpine/Wolfi versions, the seeds of the generated apk versions.
const APK_SEEDS: &[&str] = &[
    "1.2.3-r0",
    "3.1.4_p1-r2",
    "1.36.1-r15",
    "3.0.12-r4",
    "2.4.57_git20230612-r1",
    "0.9.8c-r1",
    "1.0_alpha2_pre1-r3",
    "6.4_p20231125-r0",
    "1.2.3~a1b2c3d-r0",
];

fn apk_rows() -> Vec<(&'static str, &'static str, char)> {
    APK_VERSION_DATA
        .lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut fields = line.split_whitespace();
            let (a, op, b) = (fields.next()?, fields.next()?, fields.next()?);
            let op = op.chars().next()?;
            let invalid = |v: &str| APK_INVALID_IN_DATA.contains(&v);
            Some((a, b, if invalid(a) || invalid(b) { 'E' } else { op }))
        })
        .collect()
}

#[test]
fn dpkg_fixed_tables() {
    let rows =
        check_table(Scheme::Dpkg, DPKG_VERSION_T) + check_table(Scheme::Dpkg, DPKG_T_VERSION_C);
    assert_eq!(rows, DPKG_VERSION_T.len() + DPKG_T_VERSION_C.len());
}

#[test]
fn rpm_fixed_tables() {
    check_table(Scheme::Rpm, RPMVERCMP_AT);
    check_table(Scheme::Rpm, RPM_EVR);
}

#[test]
fn apk_version_data_table() {
    let rows = apk_rows();
    assert!(
        rows.len() > 700,
        "version.data parsed into only {} rows",
        rows.len()
    );
    check_table(Scheme::Apk, &rows);
}

// ---------------------------------------------------------------------------------------------
// Generated pairs

/// SplitMix64: small, seeded, good enough to spread pairs over the interesting shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn digits(&mut self) -> String {
        let len = match self.below(10) {
            0 => 15 + self.below(25), // long runs: beyond u64
            1 => 2 + self.below(3),
            _ => 1,
        };
        let mut run: String = (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect();
        if self.chance(10) {
            run.insert(0, '0');
        }
        run
    }

    fn letters(&mut self, alphabet: &str) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..1 + self.below(3))
            .map(|_| chars[self.below(chars.len())])
            .collect()
    }
}

/// A string of alternating digit runs, letter runs and separators.
fn segments(rng: &mut Rng, letters: &str, separators: &[&str]) -> String {
    let mut out = rng.digits();
    for _ in 0..rng.below(5) {
        if rng.chance(60) {
            out.push_str(rng.pick(separators));
        }
        if rng.chance(65) {
            out.push_str(&rng.digits());
        } else {
            out.push_str(&rng.letters(letters));
        }
    }
    out
}

/// Replaces, inserts or deletes one character, so that pairs sit right next to each other.
fn mutate(rng: &mut Rng, version: &str, alphabet: &str) -> String {
    let mut chars: Vec<char> = version.chars().collect();
    let pool: Vec<char> = alphabet.chars().collect();
    let at = rng.below(chars.len() + 1);
    let c = pool[rng.below(pool.len())];
    match rng.below(3) {
        0 if at < chars.len() => chars[at] = c,
        1 if at < chars.len() && chars.len() > 1 => {
            chars.remove(at);
        }
        _ => chars.insert(at, c),
    }
    chars.into_iter().collect()
}

/// Pairs made from a generator: half against a near copy of itself, some against seeds, some
/// against an independent version, some identical.
fn pairs(
    rng: &mut Rng,
    count: usize,
    seeds: &[&str],
    alphabet: &str,
    mut fresh: impl FnMut(&mut Rng) -> String,
) -> Vec<(String, String)> {
    (0..count)
        .map(|_| {
            let a = if rng.chance(25) {
                rng.pick(seeds).to_string()
            } else {
                fresh(rng)
            };
            let b = match rng.below(10) {
                0..=4 => mutate(rng, &a, alphabet),
                5 => a.clone(),
                6 => rng.pick(seeds).to_string(),
                7 => {
                    let once = mutate(rng, &a, alphabet);
                    mutate(rng, &once, alphabet)
                }
                _ => fresh(rng),
            };
            (a, b)
        })
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect()
}

const DPKG_ALPHABET: &str = "0123456789abcxyzABZ.+~-:é_";

fn dpkg_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(30) {
        v.push_str(match rng.below(6) {
            0 => "2147483647",
            1 => "01",
            _ => rng.pick(&["0", "1", "2", "10"]),
        });
        v.push(':');
    }
    v.push_str(&segments(rng, "abczAZ", &[".", "+", "~", "~~", ":", "."]));
    if rng.chance(10) {
        v.push_str(&format!("-{}", rng.digits()));
    }
    if rng.chance(70) {
        v.push('-');
        v.push_str(&segments(rng, "abcdebuZ", &[".", "+", "~", "+deb"]));
    }
    if rng.chance(3) {
        v.push('é');
    }
    v
}

const RPM_ALPHABET: &str = "0123456789aelxyzGA._+~^-:α";

fn rpm_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(30) {
        v.push_str(rng.pick(&["0", "1", "12", "", "007", "99999999999999999999999"]));
        v.push(':');
    }
    v.push_str(&segments(rng, "aelxyzG", &[".", "_", "+", "~", "^", "."]));
    if rng.chance(80) {
        v.push('-');
        v.push_str(&segments(rng, "elalmodu", &[".", "_", "~", "^", "."]));
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Reference programs

/// Runs `program args` with `input` on stdin; `None` (after printing why) when it cannot start.
fn run_reference(program: &str, args: &[&str], input: &str) -> Option<String> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            let why = format!("reference program `{program}` is not available: {e}");
            assert!(
                std::env::var_os("CI").is_none(),
                "{why}; scripts/test.sh must install it"
            );
            eprintln!("skipping differential test: {why}");
            return None;
        }
    };
    let mut stdin = child.stdin.take()?;
    let data = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(data.as_bytes()));
    let output = child.wait_with_output().expect("reference program runs");
    writer
        .join()
        .expect("writer thread")
        .expect("reference program reads its input");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn tsv(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect()
}

/// Compares every pair with the reference's answers (one line of `<`, `=`, `>` or `E` each).
fn assert_agrees(scheme: Scheme, reference: &str, pairs: &[(String, String)], answers: &str) {
    let answers: Vec<char> = answers
        .lines()
        .filter_map(|l| l.trim().chars().next())
        .collect();
    assert!(
        answers.len() >= pairs.len(),
        "{reference} answered {} of {} pairs",
        answers.len(),
        pairs.len()
    );
    let mut disagreements = Vec::new();
    let mut tally = [0usize; 4];
    for ((a, b), &want) in pairs.iter().zip(&answers) {
        let got = outcome(scheme, a, b);
        tally["<=>E".find(want).unwrap_or(3)] += 1;
        if got != want {
            disagreements.push(format!(
                "{a:?} vs {b:?}: {reference} says {want}, we say {got}"
            ));
        }
    }
    eprintln!(
        "{scheme:?}: {} pairs agree with {reference} (< {}, = {}, > {}, refused {})",
        pairs.len() - disagreements.len(),
        tally[0],
        tally[1],
        tally[2],
        tally[3]
    );
    disagreements.truncate(40);
    assert!(
        disagreements.is_empty(),
        "{} disagreements with {reference}:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// One `sh` process runs the loop; each pair costs one or two `dpkg --compare-versions` calls
/// (`lt`, then `eq` when not less). Exit status 2 is dpkg refusing a version.
const DPKG_LOOP: &str = r#"while IFS="	" read -r a b; do
  dpkg --compare-versions -- "$a" lt "$b" 2>/dev/null; r=$?
  if [ $r -eq 0 ]; then echo "<"
  elif [ $r -ne 1 ]; then echo E
  elif dpkg --compare-versions -- "$a" eq "$b" 2>/dev/null; then echo "="
  else echo ">"; fi
done"#;

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        let why = "dpkg is not installed";
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}; scripts/test.sh must install it"
        );
        eprintln!("skipping: {why}");
        return;
    }
    let mut rng = Rng(0x0d9c_2026);
    let mut all = pairs(&mut rng, 3000, DPKG_SEEDS, DPKG_ALPHABET, dpkg_version);
    // The fixed tables go through the real program as well (minus blank-padded and empty
    // versions, which the shell loop cannot carry and `--compare-versions` treats specially).
    for &(a, b, _) in DPKG_VERSION_T.iter().chain(DPKG_T_VERSION_C) {
        if !a.trim().is_empty() && a.trim() == a && b.trim() == b && !b.is_empty() {
            all.push((a.to_string(), b.to_string()));
        }
    }
    assert!(all.len() > 2900);
    let Some(answers) = run_reference("sh", &["-c", DPKG_LOOP], &tsv(&all)) else {
        return;
    };
    assert_agrees(Scheme::Dpkg, "dpkg --compare-versions", &all, &answers);
}

/// rpm's embedded Lua: `rpm.ver` parses an EVR with `rpmverParse` and its comparison operators
/// call `rpmverCmp`, the same C code rpm uses for dependency and upgrade decisions.
const RPM_LUA: &str = r#"for line in io.lines() do
  local a, b = line:match("^([^\t]*)\t([^\t]*)$")
  local ok, r = pcall(function()
    local va, vb = rpm.ver(a), rpm.ver(b)
    if va < vb then return "<" elseif va == vb then return "=" else return ">" end
  end)
  io.write(ok and r or "E", "\n")
end"#;

#[test]
fn rpm_agrees_with_rpmvercmp() {
    let mut rng = Rng(0x0e7a_2026);
    let mut all = pairs(&mut rng, 5000, RPM_SEEDS, RPM_ALPHABET, rpm_version);
    for &(a, b, _) in RPMVERCMP_AT.iter().chain(RPM_EVR) {
        if !a.is_empty() && !b.is_empty() {
            all.push((a.to_string(), b.to_string()));
        }
    }
    let script = format!("%{{lua: {RPM_LUA}}}");
    let Some(answers) = run_reference("rpm", &["--eval", &script], &tsv(&all)) else {
        return;
    };
    assert_agrees(Scheme::Rpm, "rpm (rpmverCmp)", &all, &answers);
}

const APK_ALPHABET: &str = "0123456789abpr._-~";

fn apk_version(rng: &mut Rng) -> String {
    let mut v = rng.digits();
    for _ in 0..rng.below(4) {
        v.push('.');
        v.push_str(&rng.digits());
    }
    if rng.chance(20) {
        v.push_str(rng.pick(&["a", "b", "z"]));
    }
    for _ in 0..rng.below(3) {
        v.push('_');
        v.push_str(rng.pick(&["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"]));
        if rng.chance(60) {
            v.push_str(&rng.digits());
        }
    }
    if rng.chance(15) {
        v.push('~');
        v.push_str(rng.pick(&["0f3a", "deadbeef", "1", "abc"]));
    }
    if rng.chance(60) {
        v.push_str("-r");
        v.push_str(&rng.digits());
    }
    v
}

/// Without apk-tools in Debian, apk is held to the laws of an order over generated versions:
/// antisymmetry, reflexivity, and transitivity (sorting, then checking every pair against the
/// sorted positions).
#[test]
fn apk_generated_versions_form_a_total_order() {
    let mut rng = Rng(0x0a9c_2026);
    let mut versions: Vec<String> = (0..300).map(|_| apk_version(&mut rng)).collect();
    versions.extend(APK_SEEDS.iter().map(|s| s.to_string()));
    let near: Vec<String> = versions
        .iter()
        .take(200)
        .map(|v| mutate(&mut rng, v, APK_ALPHABET))
        .filter(|v| Scheme::Apk.compare(v, v).is_ok())
        .collect();
    versions.extend(near);
    for v in &versions {
        assert_eq!(Scheme::Apk.compare(v, v), Ok(Ordering::Equal), "{v}");
    }
    versions.sort_by(|a, b| {
        Scheme::Apk
            .compare(a, b)
            .expect("generated versions are valid")
    });
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            let forward = Scheme::Apk.compare(a, b).expect("valid");
            let backward = Scheme::Apk.compare(b, a).expect("valid");
            assert_eq!(forward, backward.reverse(), "{a} vs {b}");
            assert_ne!(
                forward,
                Ordering::Greater,
                "{a} sorted before {b} but compares greater"
            );
        }
    }
}

/// The matcher's own question, asked of all three schemes: errors come from either side alone,
/// so swapping the arguments never turns an answer into an error.
#[test]
fn errors_do_not_depend_on_argument_order() {
    let mut rng = Rng(7);
    for scheme in [Scheme::Dpkg, Scheme::Rpm, Scheme::Apk] {
        for _ in 0..2000 {
            let (a, b) = (dpkg_version(&mut rng), rpm_version(&mut rng));
            let a = mutate(&mut rng, &a, DPKG_ALPHABET);
            let b = mutate(&mut rng, &b, RPM_ALPHABET);
            let (ab, ba) = (scheme.compare(&a, &b), scheme.compare(&b, &a));
            assert_eq!(ab.is_ok(), ba.is_ok(), "{scheme:?} {a:?} {b:?}");
            if let (Ok(x), Ok(y)) = (ab, ba) {
                assert_eq!(x, y.reverse(), "{scheme:?} {a:?} {b:?}");
            }
        }
    }
}
