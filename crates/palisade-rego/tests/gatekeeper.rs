//! Gatekeeper library policies, evaluated as Gatekeeper would. The templates follow
//! open-policy-agent/gatekeeper-library (Apache-2.0): k8srequiredlabels, k8spspprivilegedcontainer,
//! k8sallowedrepos and k8suniqueingresshost, trimmed to their Rego and parameters.

use palisade_policy::{Action, AdmissionRequest, Inventory, Operation};
use palisade_rego::PolicySet;
use serde_json::{Value, json};

const REQUIRED_LABELS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels

        get_message(parameters, _default) = msg {
          not parameters.message
          msg := _default
        }

        get_message(parameters, _default) = msg {
          msg := parameters.message
        }

        violation[{"msg": msg, "details": {"missing_labels": missing}}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_].key}
          missing := required - provided
          count(missing) > 0
          def_msg := sprintf("you must provide labels: %v", [missing])
          msg := get_message(input.parameters, def_msg)
        }

        violation[{"msg": msg}] {
          value := input.review.object.metadata.labels[key]
          expected := input.parameters.labels[_]
          expected.key == key
          expected.allowedRegex != ""
          not regex.match(expected.allowedRegex, value)
          def_msg := sprintf("Label <%v: %v> does not satisfy allowed regex: %v", [key, value, expected.allowedRegex])
          msg := get_message(input.parameters, def_msg)
        }
"#;

const PRIVILEGED: &str = r#"apiVersion: templates.gatekeeper.sh/v1beta1
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

        import data.lib.exclude_update.is_update

        violation[{"msg": msg, "details": {}}] {
            not is_update(input.review)
            c := input_containers[_]
            c.securityContext.privileged
            msg := sprintf("Privileged container is not allowed: %v, securityContext: %v", [c.name, c.securityContext])
        }

        input_containers[c] {
            c := input.review.object.spec.containers[_]
        }
        input_containers[c] {
            c := input.review.object.spec.initContainers[_]
        }
      libs:
        - |
          package lib.exclude_update

          is_update(review) {
              review.operation == "UPDATE"
          }
"#;

const ALLOWED_REPOS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sallowedrepos
spec:
  crd:
    spec:
      names:
        kind: K8sAllowedRepos
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: Rego
          source:
            version: "v1"
            rego: |
              package k8sallowedrepos

              violation contains {"msg": msg} if {
                container := input.review.object.spec.containers[_]
                not strings.any_prefix_match(container.image, input.parameters.repos)
                msg := sprintf("container <%v> has an invalid image repo <%v>, allowed repos are %v", [container.name, container.image, input.parameters.repos])
              }
"#;

const UNIQUE_INGRESS_HOST: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8suniqueingresshost
spec:
  crd:
    spec:
      names:
        kind: K8sUniqueIngressHost
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8suniqueingresshost

        identical(obj, review) {
          obj.metadata.namespace == review.object.metadata.namespace
          obj.metadata.name == review.object.metadata.name
        }

        violation[{"msg": msg}] {
          input.review.kind.kind == "Ingress"
          regex.match("^(extensions|networking.k8s.io)$", input.review.kind.group)
          host := input.review.object.spec.rules[_].host
          other := data.inventory.namespace[_][otherapiversion]["Ingress"][name]
          regex.match("^(extensions|networking.k8s.io)/.+$", otherapiversion)
          other.spec.rules[_].host == host
          not identical(other, input.review)
          msg := sprintf("ingress host conflicts with an existing ingress <%v>", [host])
        }
"#;

const CONSTRAINTS: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: must-have-owner
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Namespace"]
  parameters:
    labels:
      - key: owner
        allowedRegex: "^[a-z]+$"
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    excludedNamespaces: ["kube-*"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedRepos
metadata:
  name: trusted-repos
spec:
  enforcementAction: dryrun
  match:
    kinds:
      - apiGroups: ["*"]
        kinds: ["Pod"]
    namespaceSelector:
      matchLabels:
        tier: prod
  parameters:
    repos: ["registry.shop.example/"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueIngressHost
metadata:
  name: unique-hosts
spec:
  match:
    kinds:
      - apiGroups: ["extensions", "networking.k8s.io"]
        kinds: ["Ingress"]
"#;

fn policies() -> PolicySet {
    PolicySet::from_sources([
        ("required-labels.yaml", REQUIRED_LABELS),
        ("privileged.yaml", PRIVILEGED),
        ("allowed-repos.yaml", ALLOWED_REPOS),
        ("unique-ingress-host.yaml", UNIQUE_INGRESS_HOST),
        ("constraints.yaml", CONSTRAINTS),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn pod(namespace: &str, privileged: bool, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"containers": [{"name": "nginx", "image": image,
            "securityContext": {"privileged": privileged}}]}})
}

fn shop_inventory() -> Inventory {
    let mut inventory = Inventory::new();
    inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"tier": "prod"}}}));
    inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "lab", "labels": {"tier": "dev"}}}));
    inventory.insert(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "front", "namespace": "shop"},
        "spec": {"rules": [{"host": "shop.example.com"}]}}),
    );
    inventory
}

#[test]
fn policy_set_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PolicySet>();
}

#[test]
fn required_labels_reports_missing_and_malformed_labels() {
    let set = policies();
    let inventory = Inventory::new();
    let missing = AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop"}}));
    let evaluation = set.evaluate(&missing, &inventory);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    assert_eq!(evaluation.violations.len(), 1);
    let violation = &evaluation.violations[0];
    assert_eq!(violation.policy, "K8sRequiredLabels/must-have-owner");
    assert_eq!(violation.message, r#"you must provide labels: {"owner"}"#);
    assert_eq!(
        violation.details,
        Some(json!({"missing_labels": ["owner"]}))
    );
    assert_eq!(violation.action, Action::Deny);

    let bad = AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"owner": "Team-1"}}}));
    let messages: Vec<String> = set
        .evaluate(&bad, &inventory)
        .violations
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(
        messages,
        ["Label <owner: Team-1> does not satisfy allowed regex: ^[a-z]+$"]
    );

    let good = AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"owner": "web"}}}));
    assert!(set.evaluate(&good, &inventory).violations.is_empty());
}

#[test]
fn privileged_containers_warn_outside_excluded_namespaces() {
    let set = policies();
    let inventory = Inventory::new();
    let request = AdmissionRequest::for_object(pod("lab", true, "nginx"));
    let violations = set.evaluate(&request, &inventory).violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].action, Action::Warn);
    // OPA prints objects as Rego text.
    assert_eq!(
        violations[0].message,
        r#"Privileged container is not allowed: nginx, securityContext: {"privileged": true}"#
    );

    let system = AdmissionRequest::for_object(pod("kube-system", true, "nginx"));
    assert!(set.evaluate(&system, &inventory).violations.is_empty());

    let unprivileged = AdmissionRequest::for_object(pod("lab", false, "nginx"));
    assert!(
        set.evaluate(&unprivileged, &inventory)
            .violations
            .is_empty()
    );

    // The library exempts updates (the field is immutable): `not is_update(...)` through a lib.
    let mut update = AdmissionRequest::for_object(pod("lab", true, "nginx"));
    update.operation = Operation::Update;
    assert!(set.evaluate(&update, &inventory).violations.is_empty());
}

#[test]
fn allowed_repos_v1_rego_with_namespace_selector_and_dryrun() {
    let set = policies();
    let inventory = shop_inventory();
    let untrusted = AdmissionRequest::for_object(pod("shop", false, "docker.io/nginx"));
    let violations = set.evaluate(&untrusted, &inventory).violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].policy, "K8sAllowedRepos/trusted-repos");
    assert_eq!(violations[0].action, Action::Audit);
    assert_eq!(
        violations[0].message,
        r#"container <nginx> has an invalid image repo <docker.io/nginx>, allowed repos are ["registry.shop.example/"]"#
    );

    let trusted = AdmissionRequest::for_object(pod("shop", false, "registry.shop.example/web:1"));
    assert!(set.evaluate(&trusted, &inventory).violations.is_empty());

    // `lab` is not a prod namespace, so the constraint does not apply there.
    let lab = AdmissionRequest::for_object(pod("lab", false, "docker.io/nginx"));
    assert!(set.evaluate(&lab, &inventory).violations.is_empty());
}

#[test]
fn unique_ingress_host_reads_the_inventory() {
    let set = policies();
    let inventory = shop_inventory();
    let ingress = |name: &str, host: &str| {
        AdmissionRequest::for_object(json!({"apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress", "metadata": {"name": name, "namespace": "lab"},
            "spec": {"rules": [{"host": host}]}}))
    };
    let clash = set.evaluate(&ingress("copy", "shop.example.com"), &inventory);
    assert!(clash.errors.is_empty(), "{:?}", clash.errors);
    assert_eq!(clash.violations.len(), 1);
    assert_eq!(
        clash.violations[0].message,
        "ingress host conflicts with an existing ingress <shop.example.com>"
    );
    assert!(
        set.evaluate(&ingress("new", "lab.example.com"), &inventory)
            .violations
            .is_empty()
    );
    // The object itself, already in the inventory, does not conflict with itself.
    let mut same = ingress("front", "shop.example.com");
    if let Some(object) = same.object.as_mut() {
        object["metadata"]["namespace"] = json!("shop");
    }
    same.namespace = "shop".into();
    assert!(set.evaluate(&same, &inventory).violations.is_empty());
}

#[test]
fn delete_requests_are_judged_on_the_old_object() {
    let set = policies();
    let mut request = AdmissionRequest::for_object(pod("lab", true, "nginx"));
    request.operation = Operation::Delete;
    request.old_object = request.object.take();
    // As in Gatekeeper's webhook, the match block and the Rego (`input.review.object`) both see
    // the object being deleted.
    let evaluation = set.evaluate(&request, &Inventory::new());
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    let policies: Vec<&str> = evaluation
        .violations
        .iter()
        .map(|v| v.policy.as_str())
        .collect();
    assert_eq!(policies, ["K8sPSPPrivilegedContainer/no-privileged"]);
}

#[test]
fn evaluation_is_fast_once_compiled() {
    let set = policies();
    let inventory = shop_inventory();
    let request = AdmissionRequest::for_object(pod("shop", true, "docker.io/nginx"));
    let runs = 200;
    let start = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..runs {
        total += set.evaluate(&request, &inventory).violations.len();
    }
    let per_request = start.elapsed() / runs;
    println!("evaluation of 4 constraints: {per_request:?} per request");
    assert_eq!(total, 2 * runs as usize);
}

#[test]
fn cel_only_templates_and_their_constraints_are_left_to_the_cel_engine() {
    let yaml = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8scelonly
spec:
  crd:
    spec:
      names:
        kind: K8sCelOnly
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source:
            validations:
              - expression: "true"
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sCelOnly
metadata:
  name: cel
"#;
    let set = PolicySet::from_sources([("cel.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.template_kinds().count(), 0);
    assert!(set.constraints().is_empty());
}

#[test]
fn a_runaway_policy_stops_at_the_evaluation_limit() {
    let yaml = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: slow
spec:
  crd:
    spec:
      names:
        kind: Slow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package slow

        violation[{"msg": "never"}] {
          r := numbers.range(1, 3000)
          count([s | x := r[_]; y := r[_]; s := x + y; s < 0]) > 0
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: Slow
metadata:
  name: slow
"#;
    let mut set = PolicySet::from_sources([("slow.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    set.set_evaluation_limit(std::time::Duration::from_millis(20));
    let start = std::time::Instant::now();
    let evaluation = set.evaluate(
        &AdmissionRequest::for_object(pod("shop", false, "nginx")),
        &Inventory::new(),
    );
    assert_eq!(evaluation.errors.len(), 1, "{evaluation:?}");
    assert_eq!(evaluation.errors[0].policy, "Slow/slow");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn prepared_inventory_gives_the_same_answers() {
    let set = policies();
    let prepared = palisade_rego::PreparedInventory::new(shop_inventory());
    let request = AdmissionRequest::for_object(json!({"apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress", "metadata": {"name": "copy", "namespace": "lab"},
        "spec": {"rules": [{"host": "shop.example.com"}]}}));
    let prepared_result = set.evaluate_prepared(&request, &prepared);
    assert_eq!(
        prepared_result,
        set.evaluate(&request, prepared.inventory())
    );
    assert_eq!(prepared_result.violations.len(), 1);

    let runs = 200;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        assert_eq!(
            set.evaluate_prepared(&request, &prepared).violations.len(),
            1
        );
    }
    println!(
        "referential evaluation: {:?} per request",
        start.elapsed() / runs
    );
}
