//! A small report exercising every branch the formats have: findings with and without a file and a
//! position, from files and from a live cluster, suppressed by annotation and by configuration, a
//! check with no findings, a kind that was not assessed and unreadable inputs.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_core::{
    Category, Check, Evidence, Finding, Frameworks, NotAssessed, ResourceRef, Severity,
    SourceError, Suppression, SuppressionSource,
};
use palisade_report::{Format, Report, TableStyle};

/// Characters that must survive every format intact or be escaped: XML markup, quotes, an ANSI
/// escape sequence and a bell.
pub const HOSTILE: &str = "rule 0 grants <all> & \"every\" 'verb' \u{1b}[31mred\u{7}";

pub struct Fixture {
    pub target: String,
    pub findings: Vec<Finding>,
    pub not_assessed: Vec<NotAssessed>,
    pub errors: Vec<SourceError>,
    pub assessed_by_kind: BTreeMap<String, usize>,
    pub checks: Vec<Arc<Check>>,
}

impl Fixture {
    pub fn with_report<R>(&self, f: impl FnOnce(&Report<'_>) -> R) -> R {
        let checks: Vec<&Check> = self.checks.iter().map(Arc::as_ref).collect();
        let report = Report {
            tool_version: "0.1.0",
            target: &self.target,
            findings: &self.findings,
            not_assessed: &self.not_assessed,
            errors: &self.errors,
            assessed_by_kind: &self.assessed_by_kind,
            checks: &checks,
        };
        f(&report)
    }

    pub fn render(&self, format: Format, style: TableStyle) -> Vec<u8> {
        self.with_report(|report| {
            let mut out = Vec::new();
            palisade_report::write(report, format, style, &mut out).expect("writing to a Vec");
            out
        })
    }

    pub fn render_text(&self, format: Format, style: TableStyle) -> String {
        String::from_utf8(self.render(format, style)).expect("reports are UTF-8")
    }

    /// The checks in the order given here, by ID.
    pub fn check(&self, id: &str) -> Arc<Check> {
        self.checks
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .expect("fixture check")
    }
}

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    category: Category,
    frameworks: Frameworks,
) -> Arc<Check> {
    Arc::new(Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category,
        description: format!("Why `{id}` matters to an attacker."),
        remediation: format!("Fix `{id}`:\nspec:\n  fixed: true"),
        frameworks,
    })
}

fn evidence(path: &str, file: Option<&str>, line: Option<u32>, column: Option<u32>) -> Evidence {
    Evidence {
        path: path.to_string(),
        file: file.map(Arc::from),
        line,
        column,
        template: None,
    }
}

pub fn fixture() -> Fixture {
    let privileged = check(
        "privileged",
        "Container runs privileged",
        Severity::Critical,
        Category::PodSecurity,
        Frameworks {
            pss: vec!["baseline:privileged".into()],
            cis: vec!["5.2.2".into()],
            nsa: vec!["Kubernetes Pod security".into()],
            mitre: vec!["T1611".into()],
            microsoft: vec!["MS-TA9018: Privileged container".into()],
        },
    );
    let run_as_non_root = check(
        "runAsNonRoot",
        "Container may run as root",
        Severity::Medium,
        Category::PodSecurity,
        Frameworks {
            pss: vec!["restricted:runAsNonRoot".into()],
            ..Frameworks::default()
        },
    );
    let wildcard = check(
        "rbac-wildcard-verbs",
        "Role grants every verb",
        Severity::High,
        Category::Rbac,
        Frameworks::default(),
    );
    let latest = check(
        "image-tag-latest",
        "Image uses the latest tag",
        Severity::Low,
        Category::Image,
        Frameworks::default(),
    );
    let host_path = check(
        "host-path-sensitive",
        "Pod mounts a sensitive host path",
        Severity::High,
        Category::Workload,
        Frameworks::default(),
    );

    let cart = ResourceRef::new("apps/v1", "Deployment", Some("shop"), "cart");
    let debug = ResourceRef::new("v1", "Pod", Some("dev"), "debug pod");
    let ops = ResourceRef::new(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        None,
        "ops-admin",
    );
    let shop_file = Some("manifests/shop.yaml");
    let dev_file = Some("my manifests/dev pod.yaml");

    let findings = vec![
        // Deliberately not in report order: the formats must order them themselves.
        Finding {
            check: latest.clone(),
            severity: Severity::Low,
            resource: debug.clone(),
            container: Some("shell".into()),
            message: "container `shell` uses image `busybox:latest`".into(),
            evidence: evidence("spec.containers[0].image", dev_file, None, None),
            suppressed: Some(Suppression {
                reason: "debug pods are short-lived".into(),
                source: SuppressionSource::Config,
            }),
            cluster: None,
        },
        Finding {
            check: wildcard.clone(),
            severity: Severity::High,
            resource: ops,
            container: None,
            message: HOSTILE.into(),
            evidence: evidence("rules[0].verbs", None, None, None),
            suppressed: None,
            cluster: Some(Arc::from("prod-eu")),
        },
        Finding {
            check: privileged.clone(),
            severity: Severity::Critical,
            resource: cart.clone(),
            container: Some("nginx".into()),
            message: "container `nginx` sets `securityContext.privileged: true`".into(),
            evidence: evidence(
                "spec.template.spec.containers[0].securityContext.privileged",
                shop_file,
                Some(24),
                Some(13),
            ),
            suppressed: None,
            cluster: None,
        },
        Finding {
            check: run_as_non_root.clone(),
            severity: Severity::Medium,
            resource: cart,
            container: Some("nginx".into()),
            message: "container `nginx` does not set `runAsNonRoot: true`, and neither does the \
                      pod, so the image's user decides whether it runs as root"
                .into(),
            evidence: evidence(
                "spec.template.spec.containers[0].securityContext",
                shop_file,
                Some(22),
                Some(11),
            ),
            suppressed: Some(Suppression {
                reason: "legacy image, tracked in SHOP-12".into(),
                source: SuppressionSource::Annotation,
            }),
            cluster: None,
        },
        Finding {
            check: run_as_non_root.clone(),
            severity: Severity::Medium,
            resource: debug,
            container: None,
            message: "the pod sets no `securityContext`".into(),
            evidence: evidence("spec", dev_file, None, None),
            suppressed: None,
            cluster: None,
        },
    ];

    Fixture {
        target: "manifests in examples/shop".into(),
        findings,
        not_assessed: vec![NotAssessed {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "ClusterRoleBinding".into(),
            namespace: None,
            reason: "forbidden: the credentials may not list clusterrolebindings".into(),
        }],
        errors: vec![
            SourceError {
                file: "manifests/broken.yaml".into(),
                line: Some(3),
                column: Some(7),
                message: "did not find expected key".into(),
            },
            SourceError {
                file: "manifests/empty dir".into(),
                line: None,
                column: None,
                message: "is a directory with no manifests".into(),
            },
        ],
        assessed_by_kind: BTreeMap::from([
            ("ClusterRole".to_string(), 4),
            ("Deployment".to_string(), 2),
            ("Pod".to_string(), 1),
            ("Service".to_string(), 3),
        ]),
        checks: vec![privileged, run_as_non_root, wildcard, latest, host_path],
    }
}

/// A scan that found nothing and could read everything.
pub fn clean_fixture() -> Fixture {
    let mut fixture = fixture();
    fixture.findings.clear();
    fixture.not_assessed.clear();
    fixture.errors.clear();
    fixture
}
