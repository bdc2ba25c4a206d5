//! Idioms of Falco's syscall rules (falcosecurity/rules, falco_rules.yaml) that depend on how
//! libsinsp and Falco's loader treat values: list items carrying their own quotes, network
//! fields compared with `=`/`!=`/`in`, and `proc.aname`/`proc.apid` meaning "any ancestor".

use palisade_rules::{Event, FieldInfo, FieldSource, FieldType, FieldValue, RuleFile, Ruleset};
use std::borrow::Cow;

struct SyscallSource;

const FIELDS: &[(&str, FieldType, Option<bool>)] = &[
    ("evt.type", FieldType::String, None),
    ("proc.name", FieldType::String, None),
    ("proc.aname", FieldType::AnyString, Some(false)),
    ("proc.apid", FieldType::AnyNumber, Some(false)),
    ("fd.ip", FieldType::Ip, None),
    ("fd.sip", FieldType::Ip, None),
    ("fd.net", FieldType::IpNet, None),
    ("fd.snet", FieldType::IpNet, None),
    ("fd.name", FieldType::String, None),
];

impl FieldSource for SyscallSource {
    fn source_name(&self) -> &str {
        "syscall"
    }
    fn field(&self, name: &str) -> Option<FieldInfo> {
        let i = FIELDS.iter().position(|(n, _, _)| *n == name)?;
        let (_, kind, argument) = FIELDS.get(i)?;
        Some(FieldInfo {
            id: u32::try_from(i).ok()?,
            kind: *kind,
            argument: *argument,
        })
    }
    fn index_fields(&self) -> &[&str] {
        &["evt.type"]
    }
}

/// A process event: its name, its ancestors (parent first) and the socket ends it uses.
#[derive(Default)]
struct Proc {
    name: &'static str,
    ancestors: Vec<(&'static str, i64)>,
    /// Local then remote address, when the event has a socket.
    ends: Vec<&'static str>,
    path: Option<&'static str>,
}

impl Event for Proc {
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_> {
        let ancestor = |pick: &dyn Fn(&(&'static str, i64)) -> String| match argument {
            Some(n) => n
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|n| self.ancestors.get(n))
                .map_or(FieldValue::Missing, |a| {
                    FieldValue::Str(Cow::Owned(pick(a)))
                }),
            None => FieldValue::List(self.ancestors.iter().map(|a| Cow::Owned(pick(a))).collect()),
        };
        match id {
            0 => FieldValue::Str(Cow::Borrowed("execve")),
            1 => FieldValue::Str(Cow::Borrowed(self.name)),
            2 => ancestor(&|a| a.0.to_string()),
            3 => ancestor(&|a| a.1.to_string()),
            4 | 6 => match self.ends.as_slice() {
                [] => FieldValue::Missing,
                ends => FieldValue::List(ends.iter().map(|e| Cow::Borrowed(*e)).collect()),
            },
            // The server end is the remote one: these events are outbound connections.
            5 | 7 => self
                .ends
                .last()
                .map_or(FieldValue::Missing, |e| FieldValue::Str(Cow::Borrowed(*e))),
            8 => self
                .path
                .map_or(FieldValue::Missing, |p| FieldValue::Str(Cow::Borrowed(p))),
            _ => FieldValue::Missing,
        }
    }
}

fn load(text: &str) -> Ruleset {
    match Ruleset::load(
        &[RuleFile {
            name: "falco_idioms.yaml",
            text,
        }],
        &SyscallSource,
    ) {
        Ok(r) => r,
        Err(e) => panic!("load failed: {e}"),
    }
}

fn hits(rules: &Ruleset, event: &Proc) -> Vec<String> {
    let mut m = Vec::new();
    rules.evaluate(event, &mut m);
    let names: Vec<String> = m
        .iter()
        .filter_map(|m| rules.rules().get(m.rule))
        .map(|r| r.name.clone())
        .collect();
    // The index must never change the answer.
    let mut unindexed = Vec::new();
    rules.evaluate_unindexed(event, &mut unindexed);
    assert_eq!(
        m.len(),
        unindexed.len(),
        "index and full evaluation disagree"
    );
    names
}

/// Rules with one condition each, named after it.
fn rules(lists: &str, conditions: &[&str]) -> Ruleset {
    let mut text = lists.to_string();
    for c in conditions {
        text.push_str(&format!(
            "- rule: '{}'\n  desc: d\n  condition: '{}'\n  output: o\n  priority: WARNING\n",
            c.replace('\'', "''"),
            c.replace('\'', "''")
        ));
    }
    load(&text)
}

fn check(rules: &Ruleset, event: &Proc, expected: &[&str], conditions: &[&str]) {
    let got = hits(rules, event);
    for c in conditions {
        assert_eq!(
            got.iter().any(|g| g == c),
            expected.contains(c),
            "condition `{c}` (matched: {got:?})"
        );
    }
}

/// The lists as falco_rules.yaml writes them: items with their own quotes, which Falco's
/// loader splices into the condition text where the parser strips them.
const LISTS: &str = r#"
- list: rfc_1918_addresses
  items: ['"10.0.0.0/8"', '"172.16.0.0/12"', '"192.168.0.0/16"']
- list: shell_binaries
  items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash]
- list: known_parents
  items: ['"(systemd)"', "'sshd'", 'my\ tool']
- list: trusted_dirs
  items: ["'/usr/bin'", '"/opt/with space"', '"esc\"aped"']
- list: nested
  items: [known_parents, '"extra"']
"#;

#[test]
fn quoted_list_items_lose_their_quotes_as_in_falco() {
    let conds = [
        "proc.name in (known_parents)",
        "proc.name in (nested)",
        "fd.name in (trusted_dirs)",
        "fd.name pmatch (trusted_dirs)",
    ];
    let r = rules(LISTS, &conds);
    let ev = |name, path| Proc {
        name,
        path: Some(path),
        ..Default::default()
    };
    check(&r, &ev("(systemd)", "/usr/bin"), &conds, &conds);
    check(
        &r,
        &ev("sshd", "/usr/bin/env"),
        &[
            "proc.name in (known_parents)",
            "proc.name in (nested)",
            "fd.name pmatch (trusted_dirs)",
        ],
        &conds,
    );
    check(
        &r,
        &ev("extra", "/opt/with space"),
        &[
            "proc.name in (nested)",
            "fd.name in (trusted_dirs)",
            "fd.name pmatch (trusted_dirs)",
        ],
        &conds,
    );
    // The parser's escapes apply inside the quotes; an unquoted item stays as written.
    check(&r, &ev("my\\ tool", "esc\"aped"), &conds, &conds);
    // The quotes are not part of the value any more.
    check(&r, &ev("\"(systemd)\"", "'/usr/bin'"), &[], &conds);
}

#[test]
fn quoted_exception_values_are_unquoted_too() {
    let r = load(
        r#"
- rule: shell
  desc: d
  condition: proc.name = bash
  output: o
  priority: WARNING
  exceptions:
    - name: parents
      fields: [proc.aname, fd.name]
      comps: [=, in]
      values:
        - ['"(systemd)"', ["'/usr/bin'"]]
"#,
    );
    let excepted = Proc {
        name: "bash",
        ancestors: vec![("(systemd)", 1)],
        path: Some("/usr/bin"),
        ..Default::default()
    };
    assert!(hits(&r, &excepted).is_empty());
    let other = Proc {
        path: Some("/tmp"),
        ..excepted
    };
    assert_eq!(hits(&r, &other), ["shell"]);
}

/// falco_rules.yaml's `outbound` and `Unexpected outbound connection destination` idioms.
const NET_CONDS: &[&str] = &[
    r#"fd.net != "127.0.0.0/8""#,
    "fd.net = 127.0.0.0/8",
    "fd.snet in (rfc_1918_addresses)",
    "not fd.snet in (rfc_1918_addresses)",
    "fd.snet = 10.0.0.0/8",
    "fd.snet != 10.0.0.0/8",
    "fd.net in (rfc_1918_addresses)",
    "fd.ip = 10.1.2.3",
    "fd.ip != 10.1.2.3",
    "fd.sip in (10.0.0.0/8)",
];

#[test]
fn network_fields_test_membership() {
    let r = rules(LISTS, NET_CONDS);
    // A private outbound connection: 10.1.2.3 -> 192.168.5.5.
    let private = Proc {
        name: "curl",
        ends: vec!["10.1.2.3", "192.168.5.5"],
        ..Default::default()
    };
    check(
        &r,
        &private,
        &[
            r#"fd.net != "127.0.0.0/8""#,
            "fd.snet in (rfc_1918_addresses)",
            "fd.snet != 10.0.0.0/8",
            "fd.net in (rfc_1918_addresses)",
            "fd.ip = 10.1.2.3",
        ],
        NET_CONDS,
    );
    // Public destination from a private address.
    let public = Proc {
        name: "curl",
        ends: vec!["10.1.2.3", "8.8.8.8"],
        ..Default::default()
    };
    check(
        &r,
        &public,
        &[
            r#"fd.net != "127.0.0.0/8""#,
            "not fd.snet in (rfc_1918_addresses)",
            "fd.snet != 10.0.0.0/8",
            "fd.net in (rfc_1918_addresses)",
            "fd.ip = 10.1.2.3",
        ],
        NET_CONDS,
    );
    // Loopback: `!=` needs both ends outside the network (libsinsp's compare_net).
    let loopback = Proc {
        name: "curl",
        ends: vec!["127.0.0.1", "127.0.0.53"],
        ..Default::default()
    };
    check(
        &r,
        &loopback,
        &[
            "fd.net = 127.0.0.0/8",
            "not fd.snet in (rfc_1918_addresses)",
            "fd.snet != 10.0.0.0/8",
            "fd.ip != 10.1.2.3",
        ],
        NET_CONDS,
    );
    let half_loopback = Proc {
        name: "curl",
        ends: vec!["127.0.0.1", "10.0.0.1"],
        ..Default::default()
    };
    assert!(!hits(&r, &half_loopback).iter().any(|h| h == NET_CONDS[0]));
    assert!(hits(&r, &half_loopback).iter().any(|h| h == NET_CONDS[1]));
    // No socket: every test false, only `not` true.
    let none = Proc {
        name: "curl",
        ..Default::default()
    };
    check(
        &r,
        &none,
        &["not fd.snet in (rfc_1918_addresses)"],
        NET_CONDS,
    );
}

#[test]
fn network_operands_are_checked_at_load() {
    for bad in [
        "fd.snet = not-a-net",
        "fd.snet in (10.0.0.0/33)",
        "fd.snet contains 10",
        "fd.sip = 10.0.0.0/8",
    ] {
        let text = format!(
            "- rule: r\n  desc: d\n  condition: '{bad}'\n  output: o\n  priority: WARNING\n"
        );
        assert!(
            Ruleset::load(
                &[RuleFile {
                    name: "bad.yaml",
                    text: &text
                }],
                &SyscallSource
            )
            .is_err(),
            "`{bad}` should fail to load"
        );
    }
}

const ANAME_CONDS: &[&str] = &[
    "proc.aname = sshd",
    "proc.aname in (sshd, systemd)",
    "not proc.aname in (sshd, systemd)",
    "proc.aname != sshd",
    "not proc.aname = sshd",
    "proc.aname[2] = sshd",
    "proc.aname[1] = sshd",
    "proc.aname startswith ss",
    "proc.aname exists",
    "proc.apid = 1",
    "proc.apid > 100",
    "proc.apid[1] = 30",
];

#[test]
fn ancestor_fields_without_index_mean_any_ancestor() {
    let r = rules("", ANAME_CONDS);
    // bash <- sudo(30) <- sshd(20) <- systemd(1)
    let shell = Proc {
        name: "bash",
        ancestors: vec![("sudo", 30), ("sshd", 20), ("systemd", 1)],
        ..Default::default()
    };
    check(
        &r,
        &shell,
        &[
            "proc.aname = sshd",
            "proc.aname in (sshd, systemd)",
            "proc.aname != sshd",
            "proc.aname[2] = sshd",
            "proc.aname startswith ss",
            "proc.aname exists",
            "proc.apid = 1",
            "proc.apid[1] = 30",
        ],
        ANAME_CONDS,
    );
    let unrelated = Proc {
        name: "bash",
        ancestors: vec![("containerd-shim", 400), ("runc", 500)],
        ..Default::default()
    };
    check(
        &r,
        &unrelated,
        &[
            "not proc.aname in (sshd, systemd)",
            "proc.aname != sshd",
            "not proc.aname = sshd",
            "proc.aname exists",
            "proc.apid > 100",
        ],
        ANAME_CONDS,
    );
    // No ancestors: a missing value, so only the negations hold.
    let orphan = Proc {
        name: "init",
        ..Default::default()
    };
    check(
        &r,
        &orphan,
        &["not proc.aname in (sshd, systemd)", "not proc.aname = sshd"],
        ANAME_CONDS,
    );
}

/// falco_rules.yaml's "Run shell untrusted" shape: a shell whose parent is not trusted, with
/// `proc.aname` exclusions.
#[test]
fn run_shell_untrusted_shape() {
    let r = load(
        r#"
- list: shell_binaries
  items: [ash, bash, csh, ksh, sh, tcsh, zsh, dash]
- macro: shell_procs
  condition: proc.name in (shell_binaries)
- rule: Run shell untrusted
  desc: d
  condition: >
    evt.type = execve and shell_procs
    and not proc.aname in ("(systemd)", systemd, sshd)
    and not proc.aname[2] in (cron)
  output: o
  priority: NOTICE
"#,
    );
    let in_container = Proc {
        name: "sh",
        ancestors: vec![("node", 40), ("containerd-shim", 30)],
        ..Default::default()
    };
    assert_eq!(hits(&r, &in_container), ["Run shell untrusted"]);
    let from_sshd = Proc {
        name: "bash",
        ancestors: vec![("sudo", 40), ("sshd", 30), ("systemd", 1)],
        ..Default::default()
    };
    assert!(hits(&r, &from_sshd).is_empty());
    let from_cron = Proc {
        name: "sh",
        ancestors: vec![("run-parts", 40), ("cron", 30)],
        ..Default::default()
    };
    assert!(hits(&r, &from_cron).is_empty());
}
