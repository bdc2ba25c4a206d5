//! Every operator on every field type, and libsinsp's missing-value semantics.
mod common;
use common::*;

fn pod_event() -> AuditEvent {
    let mut e = ev("create", "pods");
    e.namespace = Some("kube-system".into());
    e.user = Some("system:serviceaccount:ci:Deployer".into());
    e.groups = Some(vec!["system:authenticated".into(), "devs".into()]);
    e.code = Some(201);
    e.images = Some(vec!["nginx:1.25".into(), "busybox".into()]);
    e.host_network = Some(true);
    e.ip = Some("10.1.2.3".into());
    e.json.insert("/requestObject/kind".into(), "Pod".into());
    e.uri = Some("/api/v1/namespaces/kube-system/pods/x/exec?command=sh".into());
    e
}

#[test]
fn string_operators() {
    let e = pod_event();
    let yes = [
        "ka.verb = create",
        "ka.verb == create",
        "ka.verb != delete",
        "ka.verb = \"create\"",
        "ka.user.name contains ci:",
        "ka.user.name icontains deployer",
        "ka.user.name bcontains Deploy",
        "ka.user.name startswith system:",
        "ka.user.name bstartswith system:service",
        "ka.user.name endswith Deployer",
        "ka.uri glob /api/v1/*/exec*",
        "ka.uri iglob /API/V1/*EXEC*",
        "ka.verb in (get, create)",
        "ka.verb intersects (create)",
        "ka.uri pmatch (/api/v1/namespaces)",
        "ka.target.namespace in ('kube-system', \"kube public\")",
    ];
    for c in yes {
        assert!(matches(c, &e), "expected match: {c}");
    }
    let no = [
        "ka.verb = get",
        "ka.verb != create",
        "ka.user.name contains CI:",
        "ka.user.name startswith ci",
        "ka.user.name endswith deployer",
        "ka.uri glob /api/v1/pods*",
        "ka.verb in (get, list)",
        "ka.uri pmatch (/api/v1/name)",
    ];
    for c in no {
        assert!(!matches(c, &e), "expected no match: {c}");
    }
}

#[test]
fn number_bool_ip_list_and_argument_fields() {
    let e = pod_event();
    for c in [
        "ka.response.code = 201",
        "ka.response.code != 200",
        "ka.response.code >= 200 and ka.response.code < 300",
        "ka.response.code in (200, 201)",
        "ka.response.code = 0xC9",
        "ka.req.pod.host_network = true",
        "ka.req.pod.host_network != false",
        "ka.source.ip = 10.1.2.3",
        "ka.source.ip in (192.168.0.0/16, 10.0.0.0/8)",
        "ka.user.groups intersects (devs, admins)",
        "ka.user.groups in (system:authenticated, devs, other)",
        "ka.req.pod.containers.image[1] = busybox",
        "ka.req.pod.containers.image intersects (busybox)",
        "jevt.value[/requestObject/kind] = Pod",
        "ka.user.groups exists",
    ] {
        assert!(matches(c, &e), "expected match: {c}");
    }
    for c in [
        "ka.response.code > 201",
        "ka.response.code in (200, 204)",
        "ka.source.ip in (192.168.0.0/16)",
        "ka.user.groups in (devs)",
        "ka.user.groups intersects (admins)",
        "ka.req.pod.containers.image[5] = busybox",
        "jevt.value[/requestObject/metadata/name] exists",
    ] {
        assert!(!matches(c, &e), "expected no match: {c}");
    }
}

#[test]
fn missing_values_fail_every_check_including_not_equal() {
    let e = ev("get", "pods");
    assert!(!matches("ka.user.name != alice", &e));
    assert!(!matches("ka.user.name = alice", &e));
    assert!(!matches("ka.user.name exists", &e));
    assert!(!matches("ka.response.code < 5", &e));
    assert!(matches("not ka.user.name = alice", &e));
    assert!(matches("not ka.user.name exists", &e));
}

#[test]
fn boolean_structure() {
    let e = pod_event();
    assert!(matches(
        "ka.verb = get or (ka.verb = create and not ka.response.code = 500)",
        &e
    ));
    assert!(!matches("not (ka.verb = create)", &e));
    assert!(matches("not not ka.verb = create", &e));
    assert!(matches("(ka.verb=create)and(ka.response.code=201)", &e));
}

#[test]
fn type_mismatches_are_load_errors() {
    let text = |c: &str| {
        format!(
            "- rule: bad\n  desc: d\n  condition: {}\n  output: o\n  priority: ERROR\n  source: k8s_audit\n",
            yaml_quote(c)
        )
    };
    for (c, needle) in [
        (
            "ka.response.code contains 2",
            "operator `contains` cannot be used on numeric field",
        ),
        ("ka.response.code = abc", "`abc` is not a number"),
        (
            "ka.user.groups = devs",
            "only supports operators 'exists', 'in' and 'intersects'",
        ),
        ("ka.req.pod.host_network = yes", "not true/false"),
        ("ka.source.ip = nothost", "not an IP address"),
        ("jevt.value exists", "requires an argument"),
        ("ka.verb[0] = get", "does not take an argument"),
        ("ka.verb < delete", "expected a number value"),
        ("ka.verb regex 'g.t'", "regex operator is not supported"),
        (
            "ka.verb = val(ka.user.name)",
            "comparing with another field",
        ),
    ] {
        let err = load_err(&text(c));
        assert!(err.contains(needle), "{c}: {err}");
        // The condition is on line 3; its errors point there.
        assert!(err.contains("test.yaml:3: rule `bad`"), "{err}");
    }
}

/// The published k8saudit rules' idioms: bare values ending in `?` (`startswith /healthz?`),
/// an empty list behind `not ... in`, a list made of lists, one of them empty.
#[test]
fn bare_question_marks_and_empty_nested_lists() {
    let rules = load(
        r#"
- list: nobody
  items: []
- list: probes
  items: [nobody, "/metrics", nobody]
- macro: health
  condition: ka.uri=/healthz or ka.uri startswith /healthz?
- rule: Unprobed
  desc: d
  condition: not health and not ka.uri in (probes) and not ka.req.pod.containers.image in (nobody)
  output: o
  priority: INFO
  source: k8s_audit
"#,
    );
    let at = |uri: &str| {
        let mut e = ev("get", "pods");
        e.uri = Some(uri.into());
        e.images = Some(vec!["busybox".into()]);
        hits(&rules, &e)
    };
    assert!(at("/healthz").is_empty());
    assert!(at("/healthz?verbose=1").is_empty());
    assert!(at("/metrics").is_empty());
    assert_eq!(at("/healthzx"), ["Unprobed"]);
    assert_eq!(at("/livez"), ["Unprobed"]);
}
