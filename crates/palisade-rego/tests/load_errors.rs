//! Broken policy input is rejected with the file and line, never with a panic.

use palisade_policy::{AdmissionRequest, Inventory};
use palisade_rego::PolicySet;
use serde_json::json;

const BROKEN_REGO: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: broken
spec:
  crd:
    spec:
      names:
        kind: Broken
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package broken

        violation[{"msg": msg}] {
          msg := sprintf("%v", [input.review.object.kind]
        }
"#;

fn error_text(sources: &[(&str, &str)]) -> String {
    match PolicySet::from_sources(sources.iter().copied()) {
        Ok(set) => panic!("expected a load error, loaded {set:?}"),
        Err(errors) => errors.to_string(),
    }
}

#[test]
fn invalid_rego_names_the_file_and_the_line_in_it() {
    let text = error_text(&[("broken.yaml", BROKEN_REGO)]);
    // The body opened on line 15 of the file (row 3 of the Rego) never closes; regorus reports the
    // brace it expected to match, translated into the YAML file's line and column.
    assert_eq!(text, "broken.yaml:15:33: invalid Rego: expecting }");
    assert!(text.contains("invalid Rego"), "{text}");
}

#[test]
fn a_constraint_without_its_template_is_an_error() {
    let text = error_text(&[(
        "constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\nmetadata:\n  name: orphan\n",
    )]);
    assert_eq!(
        text,
        "constraint.yaml:1:1: constraint `K8sMissing/orphan` has no ConstraintTemplate defining kind `K8sMissing`"
    );
}

#[test]
fn template_without_a_violation_rule_is_an_error() {
    let yaml = BROKEN_REGO.replace(
        "violation[{\"msg\": msg}] {\n          msg := sprintf(\"%v\", [input.review.object.kind]\n        }",
        "deny { true }",
    );
    let text = error_text(&[("noviolation.yaml", &yaml)]);
    assert!(text.contains("no `violation` rule"), "{text}");
    assert!(text.starts_with("noviolation.yaml:13:9:"), "{text}");
}

#[test]
fn bad_constraint_fields_are_errors_at_their_line() {
    let template = BROKEN_REGO.replace(
        "sprintf(\"%v\", [input.review.object.kind]",
        "sprintf(\"%v\", [input.review.object.kind])",
    );
    let text = error_text(&[
        ("template.yaml", &template),
        (
            "constraint.yaml",
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Broken\nmetadata:\n  name: c\nspec:\n  enforcementAction: block\n",
        ),
    ]);
    assert!(
        text.starts_with("constraint.yaml:6:") && text.contains("`block`"),
        "{text}"
    );
    let text = error_text(&[
        ("template.yaml", &template),
        (
            "constraint.yaml",
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Broken\nmetadata:\n  name: c\nspec:\n  match:\n    labelSelector:\n      matchExpressions:\n        - {key: a, operator: Equals}\n",
        ),
    ]);
    assert!(
        text.starts_with("constraint.yaml:6:") && text.contains("Equals"),
        "{text}"
    );
}

#[test]
fn malformed_yaml_and_garbage_never_panic() {
    let inputs = [
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nspec: [",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nspec:\n  crd: {spec: {names: {kind: X}}}\n  targets: [{rego: 42}]\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nspec:\n  crd: {spec: {names: {kind: X}}}\n  targets: [{rego: \"package x\\nviolation[{\\\"msg\\\": 1}] { true }\"}]\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: X\nmetadata: {name: probe}\nspec: {match: {kinds: 3, namespaces: [1]}}\n",
        "\u{0}\u{1}{{{",
        "",
    ];
    for input in inputs {
        let _ = PolicySet::from_sources([("fuzz.yaml", input)]);
    }
    // A template whose `msg` is not a string loads, and its evaluation reports an error.
    let yaml = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nspec:\n  crd: {spec: {names: {kind: X}}}\n  targets: [{rego: \"package x\\nviolation[{\\\"msg\\\": 1}] { true }\"}]\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: X\nmetadata:\n  name: probe\n";
    let set = PolicySet::from_sources([("x.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    let evaluation = set.evaluate(
        &AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Pod"})),
        &Inventory::new(),
    );
    assert!(evaluation.violations.is_empty());
    assert_eq!(evaluation.errors.len(), 1);
    assert_eq!(evaluation.errors[0].policy, "X/probe");
}

#[test]
fn the_whole_set_lists_every_problem() {
    let text = error_text(&[
        ("broken.yaml", BROKEN_REGO),
        (
            "orphan.yaml",
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Nope\nmetadata:\n  name: o\n",
        ),
    ]);
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn duplicate_templates_and_constraints_are_errors() {
    let template = BROKEN_REGO.replace(
        "sprintf(\"%v\", [input.review.object.kind]",
        "sprintf(\"%v\", [input.review.object.kind])",
    );
    let constraint =
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Broken\nmetadata:\n  name: c\n";
    let text = error_text(&[
        ("a.yaml", &template),
        ("b.yaml", &template),
        ("c.yaml", constraint),
        ("d.yaml", constraint),
    ]);
    assert_eq!(
        text,
        "b.yaml:1:1: a second template defines kind `Broken`\nd.yaml:1:1: a second constraint `Broken/c`"
    );
}

#[test]
fn errors_in_libs_point_into_the_lib() {
    let yaml = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: withlib
spec:
  crd:
    spec:
      names:
        kind: WithLib
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package withlib

        import data.lib.helpers.bad

        violation[{"msg": "x"}] { bad(input.review) }
      libs:
        - |
          package lib.helpers

          bad(review) { x := review.kind; y }
"#;
    let text = error_text(&[("withlib.yaml", yaml)]);
    assert_eq!(
        text,
        "withlib.yaml:22:43: invalid Rego: use of undefined variable `y` is unsafe"
    );
}
