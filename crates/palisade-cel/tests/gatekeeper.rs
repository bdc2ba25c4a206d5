//! Gatekeeper ConstraintTemplates with `engine: K8sNativeValidation`, using the gatekeeper-library
//! `k8srequiredlabels` template (its CEL code unchanged) and constraints from its samples.

use palisade_cel::PolicySet;
use palisade_policy::{Action, AdmissionRequest, Inventory, Operation, Violation};
use serde_json::{Value, json};

const REQUIRED_LABELS: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            message:
              type: string
            labels:
              type: array
              items:
                type: object
                properties:
                  key: {type: string}
                  allowedRegex: {type: string}
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
      - engine: K8sNativeValidation
        source:
          validations:
          - expression: '(has(variables.anyObject.metadata) && variables.params.labels.all(entry, has(variables.anyObject.metadata.labels) && entry.key in variables.anyObject.metadata.labels))'
            messageExpression: '"missing required label, requires all of: " + variables.params.labels.map(entry, entry.key).join(", ")'
          - expression: '(has(variables.anyObject.metadata) && variables.params.labels.all(entry, has(variables.anyObject.metadata.labels) && entry.key in variables.anyObject.metadata.labels && (!has(entry.allowedRegex) || string(variables.anyObject.metadata.labels[entry.key]).matches(string(entry.allowedRegex)))))'
            message: "regex mismatch"
      - engine: Rego
        source:
          rego: |
            package k8srequiredlabels
            violation[{"msg": "rego is another engine's job"}] { false }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: all-must-have-owner
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Namespace"]
    excludedNamespaces: ["kube-*"]
  parameters:
    message: "All namespaces must have an `owner` label that points to your company username"
    labels:
      - key: owner
        allowedRegex: "^[a-zA-Z]+.agilebank.demo$"
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: must-have-pizza
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    namespaces: ["shop", "dev-*"]
  parameters:
    labels:
      - key: pizza
"#;

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn pod(namespace: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
}

fn check(policies: &PolicySet, object: Value) -> Vec<Violation> {
    policies
        .evaluate(&AdmissionRequest::for_object(object), &Inventory::new())
        .violations
}

fn loaded() -> PolicySet {
    let mut policies = PolicySet::new();
    assert_eq!(
        policies.load("required-labels.yaml", REQUIRED_LABELS),
        Ok(3)
    );
    policies
}

#[test]
fn required_labels_on_namespaces() {
    let policies = loaded();
    assert!(
        check(
            &policies,
            namespace("allowed", json!({"owner": "user.agilebank.demo"}))
        )
        .is_empty()
    );

    let missing = check(&policies, namespace("disallowed", json!({})));
    let messages: Vec<&str> = missing.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing required label, requires all of: owner",
            "regex mismatch"
        ]
    );
    assert_eq!(missing[0].policy, "K8sRequiredLabels/all-must-have-owner");
    assert_eq!(missing[0].action, Action::Deny);

    let bad_value = check(&policies, namespace("disallowed", json!({"owner": "user"})));
    assert_eq!(bad_value.len(), 1);
    assert_eq!(bad_value[0].message, "regex mismatch");

    // excludedNamespaces applies to a Namespace's own name.
    assert!(check(&policies, namespace("kube-public", json!({}))).is_empty());
}

#[test]
fn enforcement_action_and_namespaces() {
    let policies = loaded();
    let found = check(&policies, pod("shop", json!({"taco": "is-great"})));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|v| v.action == Action::Warn));
    assert_eq!(found[0].policy, "K8sRequiredLabels/must-have-pizza");
    assert!(check(&policies, pod("shop", json!({"pizza": "is-great"}))).is_empty());
    assert_eq!(check(&policies, pod("dev-team", json!({}))).len(), 2);
    assert!(check(&policies, pod("payments", json!({}))).is_empty());
}

#[test]
fn any_object_is_the_old_object_on_delete() {
    let policies = loaded();
    let mut request = AdmissionRequest::for_object(pod("shop", json!({})));
    request.old_object = request.object.take();
    request.operation = Operation::Delete;
    let found = policies.evaluate(&request, &Inventory::new()).violations;
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn constraints_without_a_cel_template_are_left_alone() {
    let mut policies = PolicySet::new();
    let rego_only = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sdisallowedtags}
spec:
  crd: {spec: {names: {kind: K8sDisallowedTags}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sdisallowedtags
      violation[{"msg": "x"}] { true }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDisallowedTags
metadata: {name: no-latest}
spec: {parameters: {tags: [latest]}}
"#;
    assert_eq!(policies.load("rego.yaml", rego_only), Ok(1));
    assert_eq!(policies.templates().count(), 0);
    assert!(check(&policies, pod("shop", json!({}))).is_empty());
}

#[test]
fn broken_templates_and_constraints_are_load_errors() {
    let mut policies = PolicySet::new();
    let broken = REQUIRED_LABELS
        .replace(
            "variables.params.labels.map(entry",
            "variables.params.labels.map(entry,,",
        )
        .replace("enforcementAction: warn", "enforcementAction: scream");
    let errors = policies.load("broken.yaml", &broken).unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("ConstraintTemplate/k8srequiredlabels: spec.targets[0].code[0].source.validations[0].messageExpression: invalid CEL"),
        "{text}"
    );
    assert!(
        text.contains("K8sRequiredLabels/must-have-pizza: spec.enforcementAction: unsupported enforcementAction `scream`"),
        "{text}"
    );
    assert!(errors.0.iter().all(|e| e.line.is_some()), "{text}");
    assert_eq!(policies.constraints().count(), 0);
}
