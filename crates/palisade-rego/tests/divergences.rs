//! The OPA behaviours regorus 0.14.1 lacks (or has) on its own, checked through whole templates.

use palisade_policy::{AdmissionRequest, Inventory};
use palisade_rego::PolicySet;
use serde_json::json;

fn template(kind: &str, rego: &str) -> String {
    let body: String = rego.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {lower}\nspec:\n  crd:\n    spec:\n      names:\n        kind: {kind}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n{body}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: {kind}\nmetadata:\n  name: test\n",
        lower = kind.to_lowercase()
    )
}

fn messages(rego: &str, object: serde_json::Value) -> Vec<String> {
    let yaml = template("Probe", rego);
    let set =
        PolicySet::from_sources([("probe.yaml", yaml.as_str())]).unwrap_or_else(|e| panic!("{e}"));
    let evaluation = set.evaluate(&AdmissionRequest::for_object(object), &Inventory::new());
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    let mut messages: Vec<String> = evaluation
        .violations
        .into_iter()
        .map(|v| v.message)
        .collect();
    messages.sort();
    messages
}

fn pod(image: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

#[test]
fn functions_with_several_bodies_use_every_body() {
    // Regorus alone evaluates only the first body: `kind_of("b")` would be undefined.
    let rego = r#"package probe

kind_of(image) = "latest" {
  endswith(image, ":latest")
} {
  not contains(image, ":")
}

violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  k := kind_of(c.image)
  msg := sprintf("%v uses a %v tag", [c.name, k])
}"#;
    assert_eq!(
        messages(rego, pod("nginx:latest")),
        ["app uses a latest tag"]
    );
    assert_eq!(messages(rego, pod("nginx")), ["app uses a latest tag"]);
    assert!(messages(rego, pod("nginx:1.27")).is_empty());
}

#[test]
fn sprintf_prints_missing_and_extra_arguments_like_go() {
    let rego = r#"package probe

violation[{"msg": msg}] {
  msg := sprintf("image %v in %v", [input.review.object.spec.containers[0].image])
}

violation[{"msg": msg}] {
  msg := sprintf("extra: %v", ["a", 1, "b"])
}

violation[{"msg": msg}] {
  msg := sprintf("%d%% %s %q %5.2f|%-4v|%03d", [42, "s", "q", 3.14159, "x", 7])
}"#;
    assert_eq!(
        messages(rego, pod("nginx")),
        [
            r#"42% s "q"  3.14|x   |007"#,
            "extra: a%!(EXTRA int=1, string=b)",
            "image nginx in %!v(MISSING)",
        ]
    );
}

#[test]
fn sprintf_prints_collections_as_rego_text() {
    let rego = r#"package probe

violation[{"msg": msg}] {
  msg := sprintf("%v %v %v %v %d %s %t", [{"b", "a"}, ["x", 2], {"k": true}, null, "nan", 5, true])
}"#;
    assert_eq!(
        messages(rego, pod("nginx")),
        [r#"{"a", "b"} ["x", 2] {"k": true} null %!d(string=nan) %!s(int=5) %!t(string=true)"#]
    );
}

#[test]
fn not_over_a_function_of_an_undefined_reference_is_true() {
    let rego = r#"package probe

has_limits(container) {
  container.resources.limits.memory
}

violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  not has_limits(c)
  not startswith(input.review.object.spec.missing, "x")
  msg := sprintf("%v has no memory limit", [c.name])
}"#;
    assert_eq!(messages(rego, pod("nginx")), ["app has no memory limit"]);
}

#[test]
fn rego_v1_declared_by_import() {
    let rego = r#"package probe

import rego.v1

violation contains {"msg": msg} if {
  some c in input.review.object.spec.containers
  c.image == "nginx"
  msg := "plain nginx"
}"#;
    assert_eq!(messages(rego, pod("nginx")), ["plain nginx"]);
}
