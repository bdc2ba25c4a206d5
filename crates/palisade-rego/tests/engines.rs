//! A template carrying both `K8sNativeValidation` and `Rego` code belongs to the CEL engine (as in
//! Gatekeeper, whose CEL driver comes first): the Rego engine must not evaluate it too, or every
//! violation would be reported twice.

use palisade_policy::{AdmissionRequest, Inventory};
use palisade_rego::PolicySet;
use serde_json::json;

const BOTH: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sdenyall
spec:
  crd:
    spec:
      names:
        kind: K8sDenyAll
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
      - engine: K8sNativeValidation
        source:
          validations:
          - expression: "false"
            message: "denied by CEL"
      - engine: Rego
        source:
          rego: |
            package k8sdenyall
            violation[{"msg": "denied by Rego"}] { true }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDenyAll
metadata:
  name: everything
"#;

#[test]
fn templates_with_cel_code_are_left_to_the_cel_engine() {
    let set = PolicySet::from_sources([("both.yaml", BOTH)]).expect("loads without error");
    assert!(set.constraints().is_empty());
    let request = AdmissionRequest::for_object(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
    );
    assert!(
        set.evaluate(&request, &Inventory::new())
            .violations
            .is_empty()
    );
}
