//! The built-in detections over the real attack scenario and benign baseline (tests/fixtures,
//! see its README): every attack step raises the alert mapped to it, the baseline nothing above
//! low severity.

use std::collections::BTreeSet;

use palisade_audit::detections::{Detector, DetectorOptions, analyze};
use palisade_core::{Alert, AlertSeverity};

/// Attack step → the alert type that must be raised on one of the step's own audit events.
/// Every step of steps.json is here: the audit log shows all twenty.
const EXPECTED: &[(u64, &str)] = &[
    (1, "K8S_PenTestToolsKubeHunter"),
    (2, "K8S_AnonymousCredentialAccessAttempt"),
    (3, "K8S_PermissionEnumeration"),
    (4, "K8S_SecretsListedClusterWide"),
    (5, "K8S_SecretReadByUser"),
    (6, "K8S_ImpersonationDenied"),
    // The refused create carries no body (the API server refuses before reading it), so the
    // wildcard is invisible: the refused RBAC write is what shows.
    (7, "K8S_RbacWriteDenied"),
    (8, "K8S_ServiceAccountTokenCreated"),
    (9, "K8S_HighPrivilegesRole"),
    (10, "K8S_ClusterAdminBinding"),
    (11, "K8S_PrivilegedContainer"),
    (12, "K8S_ExecIntoContainer"),
    (13, "K8S_ExecIntoContainer"),
    (14, "K8S_PortForward"),
    // The CronJob body is not logged (Metadata level), so "downloads and runs a script" cannot
    // be seen; the CronJob creation can.
    (15, "K8S_CronJobCreated"),
    (16, "K8S_AdmissionController"),
    (17, "K8S_CoreDnsModification"),
    // Services are logged at Metadata level: the type is unknown, the dashboard namespace is not.
    (18, "K8S_ExposedDashboard"),
    (19, "K8S_Impersonation"),
    (20, "K8S_DeleteEvents"),
];

fn run(log: &str) -> Vec<Alert> {
    let mut detector = Detector::new(DetectorOptions {
        cluster_name: Some("shop".into()),
        ..DetectorOptions::default()
    })
    .expect("built-in rules load");
    assert!(detector.warnings().is_empty(), "{:?}", detector.warnings());
    let analysis = analyze(&mut detector, log.as_bytes()).expect("in-memory read");
    assert_eq!((analysis.stats.malformed, analysis.stats.skipped), (0, 0));
    analysis.alerts
}

#[test]
fn every_attack_step_raises_its_alert() {
    let alerts = run(include_str!("fixtures/attack-scenario.jsonl"));
    let steps: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/steps.json")).expect("steps.json");
    let steps = steps.as_array().expect("array of steps");
    assert_eq!(steps.len(), EXPECTED.len(), "every step is mapped");
    let mut missing = Vec::new();
    for step in steps {
        let number = step["step"].as_u64().expect("step number");
        let ids: BTreeSet<&str> = step["auditIDs"]
            .as_array()
            .expect("auditIDs")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let expected = EXPECTED
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, t)| *t)
            .expect("mapped step");
        let raised = alerts.iter().any(|a| {
            a.alert_type == expected && a.audit_ids.iter().any(|id| ids.contains(id.as_str()))
        });
        if !raised {
            missing.push((number, expected));
        }
    }
    assert!(missing.is_empty(), "steps without their alert: {missing:?}");
}

#[test]
fn alerts_carry_entities_mitre_and_aggregate() {
    let alerts = run(include_str!("fixtures/attack-scenario.jsonl"));
    let binding = alerts
        .iter()
        .find(|a| a.alert_type == "K8S_ClusterAdminBinding")
        .expect("cluster-admin binding alert");
    assert_eq!(binding.severity, AlertSeverity::High);
    assert_eq!(
        binding.entities.user.as_deref(),
        Some("system:serviceaccount:dev:ci-deployer")
    );
    assert_eq!(
        binding.entities.resource.as_deref(),
        Some("clusterrolebindings")
    );
    assert_eq!(binding.mitre.techniques, ["T1098.006"]);
    assert_eq!(binding.hostname, "shop");
    assert_eq!(binding.source, "k8s_audit");
    assert!(!binding.output.is_empty());
    // WebSocket exec logs two stages with one audit ID: one request, one count.
    let exec = alerts
        .iter()
        .find(|a| {
            a.alert_type == "K8S_ExecIntoContainer"
                && a.entities.namespace.as_deref() == Some("shop")
        })
        .expect("exec alert");
    assert_eq!((exec.count, exec.audit_ids.len()), (1, 1));
}

#[test]
fn benign_baseline_raises_nothing_above_low() {
    let alerts = run(include_str!("fixtures/benign-baseline.jsonl"));
    let loud: Vec<_> = alerts
        .iter()
        .filter(|a| a.severity > AlertSeverity::Low)
        .map(|a| (&a.rule, &a.entities.user, &a.audit_ids))
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
}

#[test]
fn user_rules_become_custom_alerts_and_builtins_can_be_left_out() {
    let rule = "- rule: Lease Renewal\n  desc: test\n  condition: ka.target.resource = leases and ka.verb = update\n  output: lease %ka.target.name\n  priority: NOTICE\n  source: k8s_audit\n  tags: [k8s, mitre_persistence, T1078]\n";
    let mut detector = Detector::new(DetectorOptions {
        builtin_rules: false,
        rule_files: vec![("lease.yaml".into(), rule.into())],
        window_nanos: 1_000_000_000_000,
        ..DetectorOptions::default()
    })
    .expect("rule loads");
    let analysis = analyze(
        &mut detector,
        include_str!("fixtures/benign-baseline.jsonl").as_bytes(),
    )
    .expect("read");
    assert!(analysis.alerts.iter().all(|a| a.rule == "Lease Renewal"));
    let lease = analysis
        .alerts
        .first()
        .expect("leases are renewed every 10 s");
    assert_eq!(lease.alert_type, "K8S_CustomRule");
    assert_eq!(lease.severity, AlertSeverity::Low);
    assert_eq!(lease.mitre.tactics, ["Persistence"]);
    assert_eq!(lease.mitre.techniques, ["T1078"]);
    // One node's lease, renewed every 10 s for two minutes, within one long window: one alert.
    assert!(analysis.alerts.iter().any(|a| a.count > 5));
    assert!(
        analysis
            .alerts
            .iter()
            .all(|a| a.count as usize >= a.audit_ids.len())
    );
}
