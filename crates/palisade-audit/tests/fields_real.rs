//! Field extraction against real kube-apiserver v1.36 audit events (tests/fixtures, see its
//! README).

use std::borrow::Cow;

use palisade_audit::{AuditEvent, AuditRecord, LineReader};
use palisade_rules::FieldValue;

fn attack_events() -> Vec<AuditEvent> {
    let text = include_str!("fixtures/attack-scenario.jsonl");
    let mut reader = LineReader::new(text.as_bytes());
    let events: Vec<AuditEvent> = reader.by_ref().collect();
    let stats = reader.into_stats();
    assert_eq!(
        (stats.malformed, stats.skipped),
        (0, 0),
        "{:?}",
        stats.errors
    );
    events
}

fn by_id<'a>(events: &'a [AuditEvent], id: &str) -> &'a AuditEvent {
    events
        .iter()
        .rfind(|e| e.audit_id == id)
        .unwrap_or_else(|| panic!("no event {id}"))
}

fn strs(v: FieldValue<'_>) -> Vec<String> {
    match v {
        FieldValue::List(items) => items.into_iter().map(Cow::into_owned).collect(),
        FieldValue::Str(s) => vec![s.into_owned()],
        FieldValue::Number(n) => vec![n.to_string()],
        other => panic!("no string value: {other:?}"),
    }
}

#[test]
fn every_line_of_both_logs_decodes() {
    assert_eq!(attack_events().len(), 312);
    let text = include_str!("fixtures/benign-baseline.jsonl");
    let mut reader = LineReader::new(text.as_bytes());
    assert_eq!(reader.by_ref().count(), 346);
    assert_eq!(reader.stats().events, 346);
}

#[test]
fn privileged_host_pod_of_step_11() {
    let events = attack_events();
    let e = events
        .iter()
        .find(|e| {
            e.verb == "create"
                && e.resource() == "pods"
                && e.namespace() == "kube-system"
                && e.subresource().is_empty()
                && e.response_code() == Some(201)
        })
        .expect("step 11 pod create");
    let r = AuditRecord::new(e, Some("shop"));
    assert_eq!(
        strs(r.get("ka.user.name", None)),
        ["system:serviceaccount:dev:ci-deployer"]
    );
    assert_eq!(
        strs(r.get("ka.req.pod.containers.privileged", None)),
        ["true"]
    );
    assert_eq!(strs(r.get("ka.req.pod.volumes.hostpath", None)), ["/"]);
    assert_eq!(strs(r.get("ka.req.pod.host_pid", None)), ["true"]);
    assert_eq!(strs(r.get("ka.req.pod.host_network", None)), ["true"]);
    assert_eq!(strs(r.get("ka.resp.name", None)), ["kube-proxy-debug"]);
    assert_eq!(strs(r.get("ka.response.code", None)), ["201"]);
    assert_eq!(strs(r.get("ka.target.namespace", None)), ["kube-system"]);
    assert_eq!(strs(r.get("ka.auth.decision", None)), ["allow"]);
    assert!(strs(r.get("ka.auth.reason", None))[0].contains("ci-deployer-cluster-admin"));
    assert_eq!(strs(r.get("ka.cluster.name", None)), ["shop"]);
    assert_eq!(
        strs(r.get("ka.uri.param", Some("fieldManager"))),
        ["kubectl-client-side-apply"]
    );
    assert_eq!(strs(r.get("jevt.rawtime", None)).len(), 1);
    assert!(strs(r.get("jevt.time.iso8601", None))[0].starts_with("2026-11-26T16:37:0"));
}

#[test]
fn wildcard_clusterrole_and_cluster_admin_binding() {
    let events = attack_events();
    let role = events
        .iter()
        .find(|e| {
            e.resource() == "clusterroles" && e.verb == "create" && e.response_code() == Some(201)
        })
        .expect("step 9");
    let r = AuditRecord::new(role, None);
    assert!(strs(r.get("ka.req.role.rules.verbs", None)).contains(&"*".to_string()));
    assert!(strs(r.get("ka.req.role.rules.resources", None)).contains(&"*".to_string()));
    let binding = events
        .iter()
        .find(|e| e.resource() == "clusterrolebindings" && e.verb == "create")
        .expect("step 10");
    let r = AuditRecord::new(binding, None);
    assert_eq!(strs(r.get("ka.req.binding.role", None)), ["cluster-admin"]);
    assert!(strs(r.get("ka.req.binding.subjects", None))[0].contains("ServiceAccount"));
}

#[test]
fn exec_impersonation_and_anonymous_probe() {
    let events = attack_events();
    let exec = by_id(&events, "cb58fc93-bfe3-4459-8ee1-db957a6bd0e8");
    let r = AuditRecord::new(exec, None);
    assert_eq!(strs(r.get("ka.target.subresource", None)), ["exec"]);
    assert_eq!(strs(r.get("ka.verb", None)), ["get"]);
    assert_eq!(strs(r.get("ka.uri.param", Some("command"))), ["cat"]);
    assert_eq!(strs(r.get("ka.response.code", None)), ["101"]);

    let imp = by_id(&events, "35cd5342-102b-482e-b100-690c6471f422");
    let r = AuditRecord::new(imp, None);
    assert_eq!(strs(r.get("ka.impuser.name", None)), ["system:admin"]);
    assert!(
        strs(r.get("jevt.value", Some("/impersonatedUser/groups")))[0].contains("system:masters")
    );

    let probe = by_id(&events, "0eb6f7f5-909d-45fe-98c3-f117656c713e");
    let r = AuditRecord::new(probe, None);
    assert_eq!(strs(r.get("ka.useragent", None)), ["kube-hunter"]);
    assert_eq!(
        strs(r.get("ka.sourceips", None)),
        ["198.51.100.23", "127.0.0.1"]
    );
    assert_eq!(strs(r.get("ka.sourceips", Some("0"))), ["198.51.100.23"]);
    assert_eq!(
        strs(r.get("ka.user.groups", None)),
        ["system:unauthenticated"]
    );
    assert_eq!(r.get("ka.target.resource", None), FieldValue::Missing);

    let token = by_id(&events, "0310bd90-ce38-42cd-a168-ab5928e0ee8d");
    let r = AuditRecord::new(token, None);
    assert_eq!(strs(r.get("ka.target.subresource", None)), ["token"]);
    assert!(
        strs(r.get(
            "jevt.value",
            Some("/annotations/authentication.kubernetes.io~1issued-credential-id")
        ))[0]
            .starts_with("JTI=")
    );
}
