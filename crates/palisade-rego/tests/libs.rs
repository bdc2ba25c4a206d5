//! Template `libs` imported by the template's Rego (`import data.lib.<name>.<rule>`), in Rego v1
//! (`code[].source.version: v1`) and Rego v0, including a lib that imports another lib. The
//! templates follow gatekeeper-library's k8spspprivilegedcontainer (Apache-2.0), whose container
//! helpers moved into a lib.

use palisade_policy::{AdmissionRequest, Inventory, Operation};
use palisade_rego::PolicySet;
use serde_json::{Value, json};

const V1_WITH_LIBS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8spspprivilegedcontainer
spec:
  crd:
    spec:
      names:
        kind: K8sPSPPrivilegedContainer
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: Rego
          source:
            version: "v1"
            rego: |
              package k8spspprivileged

              import data.lib.exclude_update.is_update
              import data.lib.workload.input_containers

              violation contains {"msg": msg, "details": {}} if {
                not is_update(input.review)
                c := input_containers[_]
                c.securityContext.privileged
                msg := sprintf("Privileged container is not allowed: %v, securityContext: %v", [c.name, c.securityContext])
              }
            libs:
              - |
                package lib.exclude_update

                is_update(review) if {
                  review.operation == "UPDATE"
                }
              - |
                package lib.workload

                input_containers contains c if {
                  c := input.review.object.spec.containers[_]
                }

                input_containers contains c if {
                  c := input.review.object.spec.initContainers[_]
                }

                input_containers contains c if {
                  c := input.review.object.spec.template.spec.containers[_]
                }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
"#;

const V0_WITH_LIBS: &str = r#"apiVersion: templates.gatekeeper.sh/v1beta1
kind: ConstraintTemplate
metadata:
  name: k8spspprivilegedcontainer
spec:
  crd:
    spec:
      names:
        kind: K8sPSPPrivilegedContainer
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8spspprivileged

        import data.lib.workload.input_containers

        violation[{"msg": msg}] {
          c := input_containers[_]
          c.securityContext.privileged
          msg := sprintf("Privileged container is not allowed: %v", [c.name])
        }
      libs:
        - |
          package lib.workload

          input_containers[c] {
            c := input.review.object.spec.containers[_]
          }

          input_containers[c] {
            c := input.review.object.spec.template.spec.containers[_]
          }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
"#;

/// The rule's lib imports a second lib (`lib.pods` reads the containers `lib.workload` gathers).
const LIB_IMPORTING_A_LIB: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8spspprivilegedcontainer
spec:
  crd:
    spec:
      names:
        kind: K8sPSPPrivilegedContainer
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: Rego
          source:
            version: "v1"
            rego: |
              package k8spspprivileged

              import data.lib.pods.privileged_names

              violation contains {"msg": msg} if {
                some name in privileged_names
                msg := sprintf("Privileged container is not allowed: %v", [name])
              }
            libs:
              - |
                package lib.pods

                import data.lib.workload.input_containers

                privileged_names contains c.name if {
                  some c in input_containers
                  c.securityContext.privileged == true
                }
              - |
                package lib.workload

                input_containers contains c if {
                  some c in input.review.object.spec.containers
                }

                input_containers contains c if {
                  some c in input.review.object.spec.template.spec.containers
                }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
"#;

fn pod(privileged: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"containers": [
        {"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": privileged}},
        {"name": "sidecar", "image": "envoy:1.30"}
    ]}})
}

fn deployment(privileged: bool) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": privileged}}
    ]}}}})
}

fn messages(yaml: &str, request: &AdmissionRequest) -> Vec<String> {
    let set = PolicySet::from_sources([("template.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    let evaluation = set.evaluate(request, &Inventory::new());
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    let mut messages: Vec<String> = evaluation
        .violations
        .into_iter()
        .map(|v| v.message)
        .collect();
    messages.sort();
    messages
}

#[test]
fn v1_template_reads_rules_imported_from_v1_libs() {
    let privileged = AdmissionRequest::for_object(pod(true));
    assert_eq!(
        messages(V1_WITH_LIBS, &privileged),
        [r#"Privileged container is not allowed: app, securityContext: {"privileged": true}"#]
    );
    let workload = AdmissionRequest::for_object(deployment(true));
    assert_eq!(messages(V1_WITH_LIBS, &workload).len(), 1);
    assert!(messages(V1_WITH_LIBS, &AdmissionRequest::for_object(pod(false))).is_empty());
    // The lib's function still decides: updates are exempt.
    let mut update = AdmissionRequest::for_object(pod(true));
    update.operation = Operation::Update;
    assert!(messages(V1_WITH_LIBS, &update).is_empty());
}

#[test]
fn v0_template_reads_rules_imported_from_v0_libs() {
    assert_eq!(
        messages(V0_WITH_LIBS, &AdmissionRequest::for_object(pod(true))),
        ["Privileged container is not allowed: app"]
    );
    assert_eq!(
        messages(
            V0_WITH_LIBS,
            &AdmissionRequest::for_object(deployment(true))
        ),
        ["Privileged container is not allowed: app"]
    );
    assert!(messages(V0_WITH_LIBS, &AdmissionRequest::for_object(pod(false))).is_empty());
}

#[test]
fn a_lib_may_import_another_lib() {
    assert_eq!(
        messages(
            LIB_IMPORTING_A_LIB,
            &AdmissionRequest::for_object(pod(true))
        ),
        ["Privileged container is not allowed: app"]
    );
    assert_eq!(
        messages(
            LIB_IMPORTING_A_LIB,
            &AdmissionRequest::for_object(deployment(true))
        ),
        ["Privileged container is not allowed: app"]
    );
    assert!(
        messages(
            LIB_IMPORTING_A_LIB,
            &AdmissionRequest::for_object(pod(false))
        )
        .is_empty()
    );
}
