mod common;

use palisade_report::{Format, Summary, TableStyle};
use serde_json::{Value, json};

fn render(fixture: &common::Fixture) -> (String, Value) {
    let text = fixture.render_text(Format::Json, TableStyle::default());
    let value = serde_json::from_str(&text).expect("the JSON report parses");
    (text, value)
}

#[test]
fn top_level_fields_come_in_the_documented_order() {
    let (text, value) = render(&common::fixture());
    assert!(
        text.ends_with("}\n"),
        "pretty-printed with a trailing newline"
    );
    let keys = [
        "version",
        "tool",
        "target",
        "summary",
        "findings",
        "not_assessed",
        "errors",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(&format!("\n  \"{k}\":"))
                .unwrap_or_else(|| panic!("top-level `{k}` missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(value["version"], 1);
    assert_eq!(
        value["tool"],
        json!({"name": "palisade", "version": "0.1.0"})
    );
    assert_eq!(value["target"], "manifests in examples/shop");
}

#[test]
fn summary_counts_unsuppressed_findings_by_severity() {
    let fixture = common::fixture();
    let (_, value) = render(&fixture);
    assert_eq!(
        value["summary"],
        json!({
            "critical": 1, "high": 1, "medium": 1, "low": 0, "info": 0,
            "suppressed": 2, "total": 5,
            "objects": {
                "assessed": 10,
                "by_kind": {"ClusterRole": 4, "Deployment": 2, "Pod": 1, "Service": 3}
            },
            "not_assessed": 1, "errors": 2
        })
    );
    // The public Summary is what the JSON shows.
    let summary = fixture.with_report(Summary::of);
    assert_eq!(
        serde_json::to_value(&summary).ok(),
        Some(value["summary"].clone())
    );
    assert_eq!(summary.unsuppressed(), 3);
}

#[test]
fn every_severity_count_is_present_when_there_are_no_findings() {
    let (_, value) = render(&common::clean_fixture());
    for severity in ["critical", "high", "medium", "low", "info"] {
        assert_eq!(value["summary"][severity], 0, "{severity}");
    }
    assert_eq!(value["findings"], json!([]));
    assert_eq!(value["not_assessed"], json!([]));
    assert_eq!(value["errors"], json!([]));
}

#[test]
fn findings_serialise_through_finding_in_report_order() {
    let fixture = common::fixture();
    let (_, value) = render(&fixture);
    let findings = value["findings"].as_array().expect("findings array");
    let order: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or(""),
                f["check_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("critical", "privileged"),
            ("high", "rbac-wildcard-verbs"),
            ("medium", "runAsNonRoot"),
            ("medium", "runAsNonRoot"),
            ("low", "image-tag-latest"),
        ]
    );

    // Each entry is exactly Finding's own serialisation.
    for entry in findings {
        let id = entry["id"].as_str().unwrap_or("");
        let finding = fixture
            .findings
            .iter()
            .find(|f| f.fingerprint() == id)
            .expect("every entry is a fixture finding");
        assert_eq!(serde_json::to_value(finding).ok().as_ref(), Some(entry));
    }

    let privileged = &findings[0];
    assert_eq!(
        privileged["resource"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"})
    );
    assert_eq!(
        privileged["evidence"],
        json!({
            "path": "spec.template.spec.containers[0].securityContext.privileged",
            "file": "manifests/shop.yaml", "line": 24, "column": 13
        })
    );
    assert_eq!(privileged["suppressed"], false);
    assert_eq!(privileged["suppression"], Value::Null);
    assert_eq!(privileged["frameworks"]["mitre"], json!(["T1611"]));

    let live = &findings[1];
    assert_eq!(live["cluster"], "prod-eu");
    assert_eq!(live["container"], Value::Null);
    assert_eq!(live["evidence"], json!({"path": "rules[0].verbs"}));
    assert_eq!(live["message"], common::HOSTILE);

    let suppressed = &findings[2];
    assert_eq!(suppressed["suppressed"], true);
    assert_eq!(
        suppressed["suppression"],
        json!({"reason": "legacy image, tracked in SHOP-12", "source": "annotation"})
    );
}

#[test]
fn not_assessed_kinds_and_errors_are_listed() {
    let (_, value) = render(&common::fixture());
    assert_eq!(
        value["not_assessed"],
        json!([{
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "reason": "forbidden: the credentials may not list clusterrolebindings"
        }])
    );
    assert_eq!(
        value["errors"],
        json!([
            {"file": "manifests/broken.yaml", "line": 3, "column": 7,
             "message": "did not find expected key"},
            {"file": "manifests/empty dir", "message": "is a directory with no manifests"}
        ])
    );
}

#[test]
fn output_is_byte_stable() {
    let fixture = common::fixture();
    let first = fixture.render(Format::Json, TableStyle::default());
    assert_eq!(first, fixture.render(Format::Json, TableStyle::default()));

    // Input order (how sessions from several threads were merged) does not matter either.
    let mut shuffled = common::fixture();
    shuffled.findings.reverse();
    shuffled.errors.reverse();
    assert_eq!(first, shuffled.render(Format::Json, TableStyle::default()));
}

/// Every field path in `value` (array elements collapse to `[]`), e.g. `findings[].evidence.file`.
fn shape(value: &Value, prefix: &str, paths: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                // `by_kind` keys are data (kind names), not fields.
                let path = if prefix.ends_with("by_kind") {
                    format!("{prefix}.<kind>")
                } else if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                paths.insert(path.clone());
                shape(child, &path, paths);
            }
        }
        Value::Array(items) => {
            for item in items {
                shape(item, &format!("{prefix}[]"), paths);
            }
        }
        _ => {}
    }
}

#[test]
fn the_documented_example_has_the_shape_of_real_output() {
    let doc = include_str!("../../../docs/json-report.md");
    let example = doc
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/json-report.md has a ```json example");
    let example: Value = serde_json::from_str(example).expect("the documented example parses");
    let (_, real) = render(&common::fixture());
    let (mut documented, mut produced) = (Default::default(), Default::default());
    shape(&example, "", &mut documented);
    shape(&real, "", &mut produced);
    assert_eq!(documented, produced);
    // Every documented field has its own table row.
    for field in [
        "not_assessed",
        "objects.by_kind",
        "evidence.path",
        "suppression",
        "cluster",
    ] {
        assert!(
            doc.contains(&format!("`{field}`")),
            "{field} is not explained"
        );
    }
}
