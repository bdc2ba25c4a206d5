//! Each thread keeps the engines it evaluated a policy set with for the set's next requests. These
//! tests make sure that reuse never changes an answer: across reloaded sets, evaluation limits set
//! later, evaluations stopped halfway, inventories and threads.

use std::time::Duration;

use palisade_policy::{AdmissionRequest, Inventory};
use palisade_rego::{PolicySet, PreparedInventory};
use serde_json::{Value, json};

/// A template reporting `message`, with a constraint matching everything.
fn saying(message: &str) -> String {
    format!(
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8ssay
spec:
  crd:
    spec:
      names:
        kind: K8sSay
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8ssay

        violation[{{"msg": msg}}] {{
          msg := sprintf("%v: %v", ["{message}", input.review.object.metadata.name])
        }}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSay
metadata:
  name: say
"#
    )
}

fn set(yaml: &str) -> PolicySet {
    PolicySet::from_sources([("policies.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"))
}

fn pod(name: &str) -> AdmissionRequest {
    AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"}, "spec": {"n": 1}}))
}

fn messages(set: &PolicySet, request: &AdmissionRequest, inventory: &Inventory) -> Vec<String> {
    let evaluation = set.evaluate(request, inventory);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    evaluation
        .violations
        .into_iter()
        .map(|v| v.message)
        .collect()
}

#[test]
fn a_reloaded_set_never_answers_with_the_old_policies() {
    let old = set(&saying("old"));
    let new = set(&saying("new"));
    let inventory = Inventory::new();
    for name in ["a", "b", "c"] {
        assert_eq!(
            messages(&old, &pod(name), &inventory),
            [format!("old: {name}")]
        );
        assert_eq!(
            messages(&new, &pod(name), &inventory),
            [format!("new: {name}")]
        );
    }
    drop(old);
    let newer = set(&saying("newer"));
    assert_eq!(messages(&newer, &pod("d"), &inventory), ["newer: d"]);
    assert_eq!(messages(&new, &pod("d"), &inventory), ["new: d"]);
}

#[test]
fn more_sets_than_a_thread_keeps_still_answer_right() {
    let sets: Vec<(String, PolicySet)> = (0..10)
        .map(|i| {
            let message = format!("set {i}");
            let set = set(&saying(&message));
            (message, set)
        })
        .collect();
    let inventory = Inventory::new();
    for round in 0..3 {
        for (message, set) in &sets {
            let name = format!("pod-{round}");
            assert_eq!(
                messages(set, &pod(&name), &inventory),
                [format!("{message}: {name}")]
            );
        }
    }
}

const COUNTING: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: counting
spec:
  crd:
    spec:
      names:
        kind: Counting
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package counting

        violation[{"msg": "counted"}] {
          r := numbers.range(1, input.review.object.spec.n)
          count([s | x := r[_]; y := r[_]; s := x + y; s < 0]) == 0
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: Counting
metadata:
  name: counting
"#;

fn counting(n: u64) -> AdmissionRequest {
    AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"}, "spec": {"n": n}}))
}

#[test]
fn a_limit_set_after_evaluations_applies_and_a_stopped_engine_is_not_reused() {
    let mut set = set(COUNTING);
    let inventory = Inventory::new();
    // Fills this thread's engines before the limit exists.
    assert_eq!(messages(&set, &counting(2), &inventory), ["counted"]);
    set.set_evaluation_limit(Duration::from_millis(20));
    let start = std::time::Instant::now();
    let stopped = set.evaluate(&counting(3000), &inventory);
    assert_eq!(stopped.errors.len(), 1, "{stopped:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The next request starts from a clean engine and gets the full answer.
    assert_eq!(messages(&set, &counting(2), &inventory), ["counted"]);
    assert_eq!(messages(&set, &counting(3), &inventory), ["counted"]);
}

const UNIQUE_HOST: &str = r#"apiVersion: templates.gatekeeper.sh/v1
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

        violation[{"msg": msg}] {
          host := input.review.object.spec.rules[_].host
          other := data.inventory.namespace[ns][_]["Ingress"][name]
          other.spec.rules[_].host == host
          msg := sprintf("host %v is taken by %v/%v", [host, ns, name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueIngressHost
metadata:
  name: unique-hosts
"#;

fn ingress(namespace: &str, name: &str, host: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"rules": [{"host": host}]}})
}

fn inventory_with(objects: &[Value]) -> Inventory {
    let mut inventory = Inventory::new();
    for object in objects {
        inventory.insert(object.clone());
    }
    inventory
}

#[test]
fn each_inventory_is_seen_by_its_own_requests() {
    let set = set(UNIQUE_HOST);
    let request = AdmissionRequest::for_object(ingress("lab", "new", "shop.example.com"));
    let shop = inventory_with(&[ingress("shop", "front", "shop.example.com")]);
    let web = inventory_with(&[ingress("web", "edge", "shop.example.com")]);
    let empty = Inventory::new();
    let prepared_shop = PreparedInventory::new(shop.clone());
    let prepared_web = PreparedInventory::new(web.clone());
    for _ in 0..2 {
        assert_eq!(
            messages(&set, &request, &shop),
            ["host shop.example.com is taken by shop/front"]
        );
        assert_eq!(
            messages(&set, &request, &web),
            ["host shop.example.com is taken by web/edge"]
        );
        assert!(messages(&set, &request, &empty).is_empty());
        let prepared = |inventory: &PreparedInventory| -> Vec<String> {
            let evaluation = set.evaluate_prepared(&request, inventory);
            assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
            evaluation
                .violations
                .into_iter()
                .map(|v| v.message)
                .collect()
        };
        assert_eq!(
            prepared(&prepared_shop),
            ["host shop.example.com is taken by shop/front"]
        );
        assert_eq!(
            prepared(&prepared_web),
            ["host shop.example.com is taken by web/edge"]
        );
    }
}

#[test]
fn threads_evaluating_one_set_agree() {
    let yaml = format!("{}---\n{}", saying("shared"), COUNTING);
    let set = std::sync::Arc::new(set(&yaml));
    let expected = messages(&set, &counting(2), &Inventory::new());
    assert_eq!(expected.len(), 2);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let set = std::sync::Arc::clone(&set);
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| messages(&set, &counting(2), &Inventory::new()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        let answers = worker
            .join()
            .unwrap_or_else(|_| panic!("a worker panicked"));
        assert_eq!(answers.len(), 25);
        assert!(
            answers.iter().all(|answer| *answer == expected),
            "{answers:?}"
        );
    }
}
