mod common;

use palisade_report::{Format, TableStyle};
use serde_json::{Value, json};

const SCHEMA: &str = include_str!("fixtures/sarif-schema-2.1.0.json");

fn render(fixture: &common::Fixture) -> Value {
    let text = fixture.render_text(Format::Sarif, TableStyle::default());
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).expect("the SARIF log parses")
}

/// Schema violations of `log`, as readable strings (empty when valid). Formats (`uri`,
/// `uri-reference`) are checked too, which is what catches an unescaped artifact URI.
fn violations(log: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("vendored schema parses");
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the official schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every `artifactLocation.uri` in `log`.
fn artifact_uris(value: &Value, uris: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "artifactLocation" {
                    uris.extend(child["uri"].as_str().map(str::to_string));
                }
                artifact_uris(child, uris);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| artifact_uris(item, uris)),
        _ => {}
    }
}

/// The SARIF schema is draft 4, which has no `uri-reference` format, so artifact URIs are checked
/// with the same library's draft 7 `uri-reference` format instead.
fn invalid_uris(log: &Value) -> Vec<String> {
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&json!({"type": "string", "format": "uri-reference"}))
        .expect("schema compiles");
    let mut uris = Vec::new();
    artifact_uris(log, &mut uris);
    assert!(!uris.is_empty());
    uris.into_iter()
        .filter(|uri| !validator.is_valid(&json!(uri)))
        .collect()
}

fn run(log: &Value) -> &Value {
    &log["runs"][0]
}

fn result_for<'a>(log: &'a Value, rule: &str, fqn: &str) -> &'a Value {
    run(log)["results"]
        .as_array()
        .and_then(|results| {
            results.iter().find(|r| {
                r["ruleId"] == rule
                    && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == fqn
            })
        })
        .unwrap_or_else(|| panic!("no result for {rule} on {fqn}"))
}

#[test]
fn validates_against_the_sarif_2_1_0_schema() {
    for fixture in [common::fixture(), common::clean_fixture()] {
        let log = render(&fixture);
        assert_eq!(violations(&log), Vec::<String>::new());
    }
}

#[test]
fn artifact_uris_are_valid_uri_references() {
    let mut fixture = common::fixture();
    for finding in &mut fixture.findings {
        if finding.evidence.file.is_some() {
            finding.evidence.file = Some("odd dir/a:b#c [é].yaml".into());
        }
    }
    fixture.errors[0].file = "/abs path/%x.yaml".into();
    let log = render(&fixture);
    assert_eq!(invalid_uris(&log), Vec::<String>::new());
    let result = result_for(&log, "privileged", "Deployment/shop/cart");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "odd%20dir/a%3Ab%23c%20%5B%C3%A9%5D.yaml"
    );
    let notification = &run(&log)["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///abs%20path/%25x.yaml"
    );
    // And the check itself rejects what an unescaped path would look like.
    let mut raw = log.clone();
    raw["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("odd dir/a b.yaml");
    assert_eq!(invalid_uris(&raw), vec!["odd dir/a b.yaml".to_string()]);
}

#[test]
fn the_schema_check_can_fail() {
    // Guards the test above against a validator that accepts anything.
    let mut log = render(&common::fixture());
    log["runs"][0]["results"][0]["level"] = json!("fatal");
    log["runs"][0]["results"][1]["locations"][0]["logicalLocations"][0]["kind"] = json!(7);
    assert_eq!(violations(&log).len(), 2, "{:?}", violations(&log));
}

#[test]
fn describes_the_tool_and_every_check_as_a_rule() {
    let log = render(&common::fixture());
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().map(Vec::len), Some(1));
    let driver = &run(&log)["tool"]["driver"];
    assert_eq!(driver["name"], "palisade");
    assert_eq!(driver["version"], "0.1.0");
    assert_eq!(
        driver["informationUri"],
        "https://github.com/palisade-dev/palisade"
    );
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![
            "host-path-sensitive",
            "image-tag-latest",
            "privileged",
            "rbac-wildcard-verbs",
            "runAsNonRoot"
        ]
    );

    let privileged = &driver["rules"][2];
    assert_eq!(privileged["name"], "Privileged");
    assert_eq!(
        privileged["shortDescription"]["text"],
        "Container runs privileged"
    );
    assert_eq!(
        privileged["fullDescription"]["text"],
        "Why `privileged` matters to an attacker."
    );
    assert_eq!(
        privileged["help"]["text"],
        "Fix `privileged`:\nspec:\n  fixed: true"
    );
    assert_eq!(
        privileged["help"]["markdown"],
        "Fix `privileged`:\n\n```yaml\nspec:\n  fixed: true\n```"
    );
    assert!(privileged.get("helpUri").is_none());
    assert_eq!(privileged["defaultConfiguration"]["level"], "error");
    assert_eq!(privileged["properties"]["security-severity"], "9.5");
    assert_eq!(
        privileged["properties"]["tags"],
        json!([
            "security",
            "pod-security",
            "pss/baseline:privileged",
            "cis/5.2.2",
            "nsa/Kubernetes Pod security",
            "mitre/T1611",
            "microsoft/MS-TA9018"
        ])
    );

    let severities: Vec<(&str, &str)> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["properties"]["security-severity"].as_str().unwrap_or(""),
                r["defaultConfiguration"]["level"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        severities,
        vec![
            ("8.0", "error"),
            ("3.0", "note"),
            ("9.5", "error"),
            ("8.0", "error"),
            ("5.5", "warning")
        ]
    );
}

#[test]
fn results_point_at_their_rule_file_and_resource() {
    let fixture = common::fixture();
    let log = render(&fixture);
    let rules = &run(&log)["tool"]["driver"]["rules"];
    let results = run(&log)["results"].as_array().expect("results");
    assert_eq!(results.len(), fixture.findings.len());
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let fingerprint = result["partialFingerprints"]["palisade/v1"]
            .as_str()
            .expect("fingerprint");
        assert!(
            fixture
                .findings
                .iter()
                .any(|f| f.fingerprint() == fingerprint)
        );
    }

    let privileged = result_for(&log, "privileged", "Deployment/shop/cart");
    assert_eq!(privileged["level"], "error");
    assert_eq!(
        privileged["message"]["text"],
        "container `nginx` sets `securityContext.privileged: true` (Deployment shop/cart)"
    );
    assert_eq!(
        privileged["locations"][0]["physicalLocation"],
        json!({
            "artifactLocation": {"uri": "manifests/shop.yaml"},
            "region": {"startLine": 24, "startColumn": 13}
        })
    );
    assert_eq!(
        privileged["locations"][0]["logicalLocations"],
        json!([{"fullyQualifiedName": "Deployment/shop/cart", "kind": "resource"}])
    );
    assert!(privileged.get("suppressions").is_none());

    // A file without a known position: the artifact, escaped, and no region.
    let no_line = result_for(&log, "runAsNonRoot", "Pod/dev/debug pod");
    assert_eq!(no_line["level"], "warning");
    assert_eq!(
        no_line["locations"][0]["physicalLocation"],
        json!({"artifactLocation": {"uri": "my%20manifests/dev%20pod.yaml"}})
    );

    // From a live cluster: only the logical location.
    let live = result_for(&log, "rbac-wildcard-verbs", "ClusterRole/ops-admin");
    assert!(live["locations"][0].get("physicalLocation").is_none());
    assert_eq!(
        live["message"]["text"],
        format!(
            "{} (ClusterRole ops-admin in cluster prod-eu)",
            common::HOSTILE
        )
    );
}

#[test]
fn suppressed_findings_carry_suppressions() {
    let log = render(&common::fixture());
    let annotation = result_for(&log, "runAsNonRoot", "Deployment/shop/cart");
    assert_eq!(
        annotation["suppressions"],
        json!([{"kind": "inSource", "justification": "legacy image, tracked in SHOP-12"}])
    );
    let config = result_for(&log, "image-tag-latest", "Pod/dev/debug pod");
    assert_eq!(config["level"], "note");
    assert_eq!(
        config["suppressions"],
        json!([{"kind": "external", "justification": "debug pods are short-lived"}])
    );
}

#[test]
fn unreadable_inputs_make_the_invocation_unsuccessful() {
    let log = render(&common::fixture());
    let invocation = &run(&log)["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    let errors: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["level"] == "error")
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["message"]["text"], "did not find expected key");
    assert_eq!(
        errors[0]["locations"][0]["physicalLocation"],
        json!({
            "artifactLocation": {"uri": "manifests/broken.yaml"},
            "region": {"startLine": 3, "startColumn": 7}
        })
    );
    assert_eq!(
        errors[1]["locations"][0]["physicalLocation"],
        json!({"artifactLocation": {"uri": "manifests/empty%20dir"}})
    );
    let warnings: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["level"] == "warning")
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("ClusterRoleBinding"))
    );

    let clean = render(&common::clean_fixture());
    let invocation = &run(&clean)["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert!(invocation.get("toolExecutionNotifications").is_none());
    assert_eq!(run(&clean)["results"], json!([]));
    // Checks that found nothing are still listed as rules.
    assert_eq!(
        run(&clean)["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}

#[test]
fn output_is_byte_stable() {
    let fixture = common::fixture();
    let first = fixture.render(Format::Sarif, TableStyle::default());
    assert_eq!(first, fixture.render(Format::Sarif, TableStyle::default()));
    let mut shuffled = common::fixture();
    shuffled.findings.reverse();
    shuffled.checks.reverse();
    shuffled.errors.reverse();
    assert_eq!(first, shuffled.render(Format::Sarif, TableStyle::default()));
}

#[test]
fn rules_carry_the_configured_severity_override() {
    let mut fixture = common::fixture();
    for finding in &mut fixture.findings {
        if finding.check.id == "privileged" {
            finding.severity = palisade_core::Severity::Medium;
        }
    }
    let log = render(&fixture);
    let rule = &run(&log)["tool"]["driver"]["rules"][2];
    assert_eq!(rule["id"], "privileged");
    assert_eq!(rule["properties"]["security-severity"], "5.5");
    assert_eq!(rule["defaultConfiguration"]["level"], "warning");
    assert_eq!(
        result_for(&log, "privileged", "Deployment/shop/cart")["level"],
        "warning"
    );
}
