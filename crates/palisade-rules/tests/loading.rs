//! Rule files: macros, lists, append/override across files, exceptions, priorities, sources,
//! unknown fields, output rendering and error reporting.
mod common;
use common::*;
use palisade_rules::{Priority, RuleFile, Ruleset};

const BASE: &str = r#"
- required_engine_version: 15
- list: sensitive_verbs
  items: [create, update]
- list: more_verbs
  items: [sensitive_verbs, patch, "delete collection"]
- macro: kcreate
  condition: ka.verb in (more_verbs)
- macro: pods
  condition: ka.target.resource = pods
- rule: Pod Written
  desc: a pod was written
  condition: kcreate and pods
  output: "pod written by %ka.user.name (verb=%ka.verb code=%ka.response.code image=%ka.req.pod.containers.image[0] kind=%jevt.value[/requestObject/kind] groups=%(ka.user.groups)) 100%"
  priority: warning
  source: k8s_audit
  tags: [k8s, T1610]
  exceptions:
    - name: trusted
      fields: [ka.user.name, ka.target.namespace]
      comps: [=, in]
      values:
        - [admin, [kube-system, kube-public]]
    - name: by_image
      fields: ka.req.pod.containers.image
      comps: intersects
      values: [registry.local/tool]
- rule: Syscall Rule
  desc: other source
  condition: proc.name = bash
  output: x
  priority: INFO
- rule: Uses Unknown Field
  desc: unknown field
  condition: ka.verb = get and ka.unknown.field = 1
  output: x
  priority: Debug
  source: k8s_audit
"#;

fn two(base: &str, extra: &str) -> Ruleset {
    match Ruleset::load(
        &[
            RuleFile {
                name: "base.yaml",
                text: base,
            },
            RuleFile {
                name: "local.yaml",
                text: extra,
            },
        ],
        &AuditSource,
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn pod(verb: &str, user: &str, ns: &str) -> AuditEvent {
    let mut e = ev(verb, "pods");
    e.user = Some(user.into());
    e.namespace = Some(ns.into());
    e
}

#[test]
fn macros_lists_exceptions_and_sources() {
    let r = load(BASE);
    let names: Vec<_> = r
        .rules()
        .iter()
        .map(|r| (r.name.as_str(), r.enabled))
        .collect();
    assert_eq!(
        names,
        [("Pod Written", true), ("Uses Unknown Field", false)]
    );
    assert!(
        r.warnings()
            .iter()
            .any(|w| w.contains("Uses Unknown Field") && w.contains("ka.unknown.field")),
        "{:?}",
        r.warnings()
    );
    let info = &r.rules()[0];
    assert_eq!(info.priority, Priority::Warning);
    assert_eq!(info.tags, ["k8s", "T1610"]);
    assert_eq!(info.source, "k8s_audit");

    assert_eq!(hits(&r, &pod("create", "bob", "default")), ["Pod Written"]);
    assert_eq!(
        hits(&r, &pod("delete collection", "bob", "default")),
        ["Pod Written"],
        "nested list with a spaced item"
    );
    assert!(hits(&r, &pod("get", "bob", "default")).is_empty());
    assert!(
        hits(&r, &pod("create", "admin", "kube-system")).is_empty(),
        "exception row"
    );
    assert_eq!(
        hits(&r, &pod("create", "admin", "default")),
        ["Pod Written"],
        "exception needs both fields"
    );
    let mut e = pod("create", "bob", "default");
    e.images = Some(vec!["nginx".into(), "registry.local/tool".into()]);
    assert!(hits(&r, &e).is_empty(), "single-field exception");
}

#[test]
fn output_rendering() {
    let r = load(BASE);
    let mut e = pod("update", "bob", "default");
    e.images = Some(vec!["nginx:1".into(), "sidecar".into()]);
    e.groups = Some(vec!["a".into(), "b".into()]);
    let mut m = Vec::new();
    r.evaluate(&e, &mut m);
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].output,
        "pod written by bob (verb=update code=<NA> image=nginx:1 kind=<NA> groups=(a,b)) 100%"
    );
    let fields: Vec<(&str, &str)> = m[0]
        .output_fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("ka.user.name", "bob"),
            ("ka.verb", "update"),
            ("ka.response.code", "<NA>"),
            ("ka.req.pod.containers.image[0]", "nginx:1"),
            ("jevt.value[/requestObject/kind]", "<NA>"),
            ("ka.user.groups", "(a,b)"),
        ]
    );
}

#[test]
fn legacy_append_and_override() {
    let extra = r#"
- list: sensitive_verbs
  items: [get]
  append: true
- macro: pods
  condition: or ka.target.resource = deployments
  append: true
- rule: Pod Written
  exceptions:
    - name: trusted
      values:
        - [bob, [default]]
  append: true
- rule: Pod Written
  priority: critical
  output: "replaced %ka.verb"
  tags: [replaced]
  override:
    priority: replace
    output: replace
    tags: replace
- rule: Uses Unknown Field
  enabled: false
"#;
    let r = two(BASE, extra);
    assert_eq!(
        hits(&r, &pod("get", "carol", "default")),
        ["Pod Written"],
        "list append"
    );
    let mut dep = ev("create", "deployments");
    dep.user = Some("carol".into());
    assert_eq!(hits(&r, &dep), ["Pod Written"], "macro append");
    assert!(
        hits(&r, &pod("create", "bob", "default")).is_empty(),
        "exception values append"
    );
    let info = &r.rules()[0];
    assert_eq!(info.priority, Priority::Critical);
    assert_eq!(info.tags, ["replaced"]);
    let mut m = Vec::new();
    r.evaluate(&pod("get", "carol", "default"), &mut m);
    assert_eq!(m[0].output, "replaced get");
}

#[test]
fn override_condition_append_and_replace_and_enable() {
    let extra = r#"
- macro: kcreate
  condition: ka.verb = patch
  override:
    condition: replace
- rule: Pod Written
  condition: and ka.user.name != root
  override:
    condition: append
- rule: Pod Written
  enabled: false
  override:
    enabled: replace
"#;
    let r = two(BASE, extra);
    assert!(!r.rules()[0].enabled);
    assert!(hits(&r, &pod("patch", "carol", "default")).is_empty());
    let enable = "- rule: Pod Written\n  enabled: true\n";
    let r = match Ruleset::load(
        &[
            RuleFile {
                name: "base.yaml",
                text: BASE,
            },
            RuleFile {
                name: "local.yaml",
                text: extra,
            },
            RuleFile {
                name: "enable.yaml",
                text: enable,
            },
        ],
        &AuditSource,
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(hits(&r, &pod("patch", "carol", "default")), ["Pod Written"]);
    assert!(
        hits(&r, &pod("patch", "root", "default")).is_empty(),
        "appended condition"
    );
    assert!(
        hits(&r, &pod("create", "carol", "default")).is_empty(),
        "replaced macro"
    );
}

#[test]
fn priorities_parse_case_insensitively() {
    for (text, p) in [
        ("EMERGENCY", Priority::Emergency),
        ("Alert", Priority::Alert),
        ("critical", Priority::Critical),
        ("ERROR", Priority::Error),
        ("Warning", Priority::Warning),
        ("NOTICE", Priority::Notice),
        ("info", Priority::Informational),
        ("INFORMATIONAL", Priority::Informational),
        ("debug", Priority::Debug),
    ] {
        assert_eq!(Priority::parse(text), Some(p), "{text}");
    }
    assert_eq!(Priority::parse("loud"), None);
    assert!(
        Priority::Critical < Priority::Warning,
        "ordered by severity"
    );
}

#[test]
fn errors_name_file_line_item_and_are_reported_together() {
    let text = r#"
- rule: No Output
  desc: d
  condition: ka.verb = get
  priority: INFO
  source: k8s_audit
- macro: broken
  condition: ka.verb = = get
- rule: Bad Priority
  desc: d
  condition: ka.verb = get
  output: o
  priority: loud
  source: k8s_audit
- rule: Undefined Macro
  desc: d
  condition: ka.verb = get and nope
  output: o
  priority: INFO
  source: k8s_audit
- list: ghost
  items: [a]
  append: true
- rule: Bad Syntax
  desc: d
  condition: ka.verb = get and (ka.verb = list
  output: o
  priority: INFO
  source: k8s_audit
"#;
    let err = load_err(text);
    for needle in [
        "test.yaml:2: rule `No Output`: missing key(s) `output`",
        // Condition errors point at the condition's line, not the item's first line.
        "test.yaml:8: macro `broken`: condition syntax error",
        "test.yaml:13: rule `Bad Priority`: invalid priority `loud`",
        "test.yaml:17: rule `Undefined Macro`: undefined macro `nope`",
        "test.yaml:21: list `ghost`: list has `append` or `override` but no list by that name",
        "test.yaml:26: rule `Bad Syntax`: condition syntax error at column 34: expected a ')' token",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    assert!(err.starts_with("6 error(s)"), "{err}");

    let err = load_err("- rule: [unclosed\n");
    assert!(err.contains("invalid YAML"), "{err}");
    let err = load_err("rule: x\n");
    assert!(err.contains("must be a sequence"), "{err}");
    let cyclic = "- macro: a\n  condition: b\n- macro: b\n  condition: a\n- rule: r\n  desc: d\n  condition: a\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
    assert!(load_err(cyclic).contains("references itself"));
}

#[test]
fn empty_and_comment_only_files_load() {
    let r = load("# nothing\n");
    assert!(r.rules().is_empty());
    let r = load("");
    assert!(r.rules().is_empty());
}

#[test]
fn block_scalar_outputs_are_trimmed_as_falco_trims_them() {
    // A folded output spread over lines (the published k8saudit rules write some this way):
    // YAML keeps the final newline, Falco's loader trims it off.
    let r = load(
        r#"
- rule: Folded Output
  desc: d
  condition: ka.verb = create
  output: >
    created by %ka.user.name
    in %ka.target.namespace
  priority: WARNING
  source: k8s_audit
- rule:   Literal Output
  desc: d
  condition: ka.verb = create
  output: |
      literal %ka.verb

  priority: WARNING
  source: k8s_audit
"#,
    );
    let infos = r.rules();
    assert_eq!(
        infos[0].output,
        "created by %ka.user.name in %ka.target.namespace"
    );
    assert_eq!(infos[1].name, "Literal Output");
    assert_eq!(infos[1].output, "literal %ka.verb");
    let mut m = Vec::new();
    r.evaluate(&pod("create", "bob", "dev"), &mut m);
    let outputs: Vec<&str> = m.iter().map(|m| m.output.as_str()).collect();
    assert_eq!(outputs, ["created by bob in dev", "literal create"]);
}
