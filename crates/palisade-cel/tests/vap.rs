//! ValidatingAdmissionPolicy behaviour, mostly with the examples of the Kubernetes documentation
//! ("Validating Admission Policy" task page), loaded from YAML and evaluated like the API server.

use palisade_cel::{LoadErrors, PolicySet};
use palisade_policy::{Action, AdmissionRequest, Inventory, Operation, Violation};
use serde_json::{Value, json};

fn set(yaml: &str) -> PolicySet {
    let mut policies = PolicySet::new();
    match policies.load("policy.yaml", yaml) {
        Ok(count) => assert!(count > 0, "nothing loaded"),
        Err(errors) => panic!("load failed:\n{errors}"),
    }
    policies
}

fn load_errors(yaml: &str) -> LoadErrors {
    let mut policies = PolicySet::new();
    match policies.load("broken.yaml", yaml) {
        Ok(count) => panic!("{count} objects loaded from a broken file"),
        Err(errors) => errors,
    }
}

fn deployment(namespace: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web"}},
        "spec": {"replicas": replicas}})
}

fn pod(namespace: &str, containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": namespace, "labels": {"app": "web"}},
        "spec": {"containers": containers}})
}

fn violations(policies: &PolicySet, object: Value, inventory: &Inventory) -> Vec<Violation> {
    policies
        .evaluate(&AdmissionRequest::for_object(object), inventory)
        .violations
}

const REPLICA_LIMIT: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "demo-policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
    - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "demo-binding-test.example.com"
spec:
  policyName: "demo-policy.example.com"
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
"#;

fn namespaces() -> Inventory {
    let mut inventory = Inventory::new();
    inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "test-ns", "labels": {"environment": "test"}}}));
    inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "prod-ns", "labels": {"environment": "prod"}}}));
    inventory
}

#[test]
fn replica_limit_with_default_message_and_namespace_selector() {
    let policies = set(REPLICA_LIMIT);
    let inventory = namespaces();
    let found = violations(&policies, deployment("test-ns", 6), &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].policy, "demo-binding-test.example.com");
    assert_eq!(
        found[0].message,
        "failed expression: object.spec.replicas <= 5"
    );
    assert_eq!(found[0].action, Action::Deny);
    assert_eq!(found[0].reason.as_deref(), Some("Invalid"));
    assert!(violations(&policies, deployment("test-ns", 5), &inventory).is_empty());
    // The binding only covers namespaces labelled environment=test.
    assert!(violations(&policies, deployment("prod-ns", 6), &inventory).is_empty());
    // Pods are not in the policy's resource rules.
    assert!(violations(&policies, pod("test-ns", json!([])), &inventory).is_empty());
}

const PARAMETERISED: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "replicalimit-policy.example.com"
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: rules.example.com/v1
    kind: ReplicaLimit
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
    - expression: "object.spec.replicas <= params.maxReplicas"
      messageExpression: "'object.spec.replicas must be no greater than ' + string(params.maxReplicas)"
      reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "replicalimit-binding-test.example.com"
spec:
  policyName: "replicalimit-policy.example.com"
  validationActions: [Deny]
  paramRef:
    name: "replica-limit-test.example.com"
    namespace: "default"
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
"#;

fn replica_limit(max: i64) -> Value {
    json!({"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit",
        "metadata": {"name": "replica-limit-test.example.com", "namespace": "default"},
        "maxReplicas": max})
}

#[test]
fn params_come_from_the_inventory_and_feed_message_expression() {
    let policies = set(PARAMETERISED);
    let mut inventory = namespaces();
    inventory.insert(replica_limit(3));
    let found = violations(&policies, deployment("test-ns", 4), &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "object.spec.replicas must be no greater than 3"
    );
    assert!(violations(&policies, deployment("test-ns", 3), &inventory).is_empty());
}

#[test]
fn missing_params_follow_parameter_not_found_action() {
    let policies = set(PARAMETERISED);
    let inventory = namespaces();
    let found = violations(&policies, deployment("test-ns", 1), &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.contains("no params found"),
        "{}",
        found[0].message
    );

    let allow = set(&PARAMETERISED.replace(
        "parameterNotFoundAction: Deny",
        "parameterNotFoundAction: Allow",
    ));
    assert!(violations(&allow, deployment("test-ns", 100), &inventory).is_empty());
}

#[test]
fn params_by_selector_evaluate_once_per_parameter() {
    let policies = set(&PARAMETERISED.replace(
        "    name: \"replica-limit-test.example.com\"\n    namespace: \"default\"",
        "    selector:\n      matchLabels:\n        tier: web",
    ));
    let mut inventory = namespaces();
    for (name, max) in [("a", 2), ("b", 10)] {
        inventory.insert(
            json!({"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit",
            "metadata": {"name": name, "namespace": "test-ns", "labels": {"tier": "web"}},
            "maxReplicas": max}),
        );
    }
    let found = violations(&policies, deployment("test-ns", 5), &inventory);
    assert_eq!(found.len(), 1, "only the limit of 2 is exceeded: {found:?}");
    assert!(found[0].message.ends_with("than 2"), "{}", found[0].message);
}

const PRIVILEGED: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: deny-privileged
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["*"]
      resources: ["pods"]
  matchConditions:
    - name: exclude-kube-system
      expression: "request.namespace != 'kube-system'"
  validations:
    - expression: >-
        object.spec.containers.all(c, !has(c.securityContext) ||
        !has(c.securityContext.privileged) || !c.securityContext.privileged)
      message: privileged containers are not allowed
      reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: deny-privileged
spec:
  policyName: deny-privileged
  validationActions: [Warn, Audit]
"#;

#[test]
fn privileged_containers_with_match_conditions_and_warn_audit() {
    let policies = set(PRIVILEGED);
    let inventory = Inventory::new();
    let privileged = json!([{"name": "a", "image": "nginx"},
        {"name": "b", "image": "nginx", "securityContext": {"privileged": true}}]);
    let found = violations(&policies, pod("shop", privileged.clone()), &inventory);
    let actions: Vec<Action> = found.iter().map(|v| v.action).collect();
    assert_eq!(actions, vec![Action::Warn, Action::Audit]);
    assert!(
        found
            .iter()
            .all(|v| v.message == "privileged containers are not allowed")
    );
    assert_eq!(found[0].reason.as_deref(), Some("Forbidden"));

    assert!(violations(&policies, pod("kube-system", privileged), &inventory).is_empty());
    let fine = json!([{"name": "a", "image": "nginx", "securityContext": {"privileged": false}},
        {"name": "b", "image": "nginx", "securityContext": {}}]);
    assert!(violations(&policies, pod("shop", fine), &inventory).is_empty());
}

const LABELS_WITH_VARIABLES: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: required-labels
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  variables:
    - name: labels
      expression: "has(object.metadata.labels) ? object.metadata.labels : {}"
    - name: missing
      expression: "['team', 'app'].filter(l, !(l in variables.labels))"
    - name: broken
      expression: "object.spec.doesNotExist.at.all"
  validations:
    - expression: "size(variables.missing) == 0"
      messageExpression: "'missing labels: ' + variables.missing.join(', ')"
    - expression: "!has(object.spec.paused) || variables.broken"
      message: paused deployments need the broken field
  auditAnnotations:
    - key: team
      valueExpression: "'team' in variables.labels ? variables.labels['team'] : null"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: required-labels
spec:
  policyName: required-labels
  validationActions: [Audit]
"#;

#[test]
fn variables_are_lazy_and_shared() {
    let policies = set(LABELS_WITH_VARIABLES);
    let inventory = Inventory::new();
    // `broken` would error, but nothing reads it: no failure.
    let found = violations(&policies, deployment("shop", 1), &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "missing labels: team");
    assert_eq!(found[0].action, Action::Audit);

    let mut labelled = deployment("shop", 1);
    labelled["metadata"]["labels"]["team"] = json!("payments");
    let evaluation = policies.evaluate(&AdmissionRequest::for_object(labelled), &inventory);
    assert!(
        evaluation.violations.is_empty(),
        "{:?}",
        evaluation.violations
    );
    assert_eq!(evaluation.audit_annotations.len(), 1);
    assert_eq!(evaluation.audit_annotations[0].key, "required-labels/team");
    assert_eq!(evaluation.audit_annotations[0].value, "payments");

    // Reaching the failing variable surfaces its error, through failurePolicy.
    let mut paused = deployment("shop", 1);
    paused["spec"]["paused"] = json!(true);
    paused["metadata"]["labels"]["team"] = json!("payments");
    let found = violations(&policies, paused, &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.contains("variable `broken` failed"),
        "{}",
        found[0].message
    );
}

const RUNTIME_ERROR: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: needs-field
spec:
  failurePolicy: FAILURE_POLICY
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
    - expression: "object.spec.template.spec.hostNetwork == false"
    - expression: "object.metadata.name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: needs-field
spec:
  policyName: needs-field
  validationActions: [Deny]
"#;

#[test]
fn runtime_errors_follow_failure_policy() {
    let inventory = Inventory::new();
    let fail = set(&RUNTIME_ERROR.replace("FAILURE_POLICY", "Fail"));
    let found = violations(&fail, deployment("shop", 1), &inventory);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].message.starts_with(
            "expression 'object.spec.template.spec.hostNetwork == false' resulted in error"
        ),
        "{}",
        found[0].message
    );
    assert!(
        found[1]
            .message
            .contains("must evaluate to bool, got string")
    );
    assert_eq!(found[0].action, Action::Deny);

    let ignore = set(&RUNTIME_ERROR.replace("FAILURE_POLICY", "Ignore"));
    assert!(violations(&ignore, deployment("shop", 1), &inventory).is_empty());
}

#[test]
fn request_old_object_and_namespace_object_are_bound() {
    let policies = set(r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: env}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}
  validations:
    - expression: "oldObject == null || request.operation == 'UPDATE'"
      message: oldObject must be null on CREATE
    - expression: "request.userInfo.username != 'mallory'"
      message: no mallory
    - expression: "namespaceObject.metadata.labels.environment == 'test'"
      message: test namespaces only
    - expression: "!request.dryRun"
      message: no dry runs
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: env}
spec: {policyName: env, validationActions: [Deny]}
"#);
    let inventory = namespaces();
    let mut request = AdmissionRequest::for_object(deployment("test-ns", 1));
    let found = policies.evaluate(&request, &inventory).violations;
    assert!(found.is_empty(), "{found:?}");

    request.user_info.username = "mallory".into();
    request.dry_run = Some(true);
    request.old_object = Some(deployment("test-ns", 2));
    request.operation = Operation::Create;
    let messages: Vec<String> = policies
        .evaluate(&request, &inventory)
        .violations
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(
        messages,
        [
            "oldObject must be null on CREATE",
            "no mallory",
            "no dry runs"
        ]
    );

    let other = AdmissionRequest::for_object(deployment("prod-ns", 1));
    let found = policies.evaluate(&other, &inventory).violations;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "test namespaces only");
}

#[test]
fn kubernetes_cel_libraries_are_available() {
    let policies = set(r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: libs}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
  validations:
    - expression: >-
        object.spec.containers.all(c, quantity(c.resources.limits.memory).compareTo(quantity('1Gi')) <= 0)
      message: memory limit above 1Gi
    - expression: "object.spec.containers.all(c, c.image.matches('^registry\\\\.example\\\\.com/'))"
      message: untrusted registry
    - expression: "cidr('10.0.0.0/8').containsIP(ip(object.metadata.annotations['egress-ip']))"
      message: egress IP outside 10.0.0.0/8
    - expression: "url(object.metadata.annotations['docs']).getScheme() == 'https'"
      message: docs must be https
    - expression: "object.metadata.name.lowerAscii() == object.metadata.name"
      message: lower-case names only
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: libs}
spec: {policyName: libs, validationActions: [Deny]}
"#);
    let object = |memory: &str, image: &str, ip: &str, docs: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop",
                "annotations": {"egress-ip": ip, "docs": docs}},
            "spec": {"containers": [{"name": "c", "image": image,
                "resources": {"limits": {"memory": memory}}}]}})
    };
    let inventory = Inventory::new();
    let good = object(
        "512Mi",
        "registry.example.com/app:1",
        "10.1.2.3",
        "https://docs",
    );
    let found = violations(&policies, good, &inventory);
    assert!(found.is_empty(), "{found:?}");
    let bad = object("2Gi", "docker.io/app:1", "192.168.0.1", "http://docs");
    let messages: Vec<String> = violations(&policies, bad, &inventory)
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(
        messages,
        [
            "memory limit above 1Gi",
            "untrusted registry",
            "egress IP outside 10.0.0.0/8",
            "docs must be https"
        ]
    );
}

const AUTHZ: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: authz}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"]}
  validations:
  - expression: "authorizer.group('apps').resource('deployments').namespace(request.namespace).check('delete').allowed()"
    messageExpression: "'only users who may delete deployments may create them: ' + authorizer.group('apps').resource('deployments').namespace(request.namespace).check('delete').reason()"
  - expression: "authorizer.requestResource.check('patch').allowed()"
    message: may not patch what it creates
  - expression: "!authorizer.serviceAccount('shop', 'deployer').group('apps').resource('deployments').subresource('scale').namespace('shop').check('update').allowed() || authorizer.path('/healthz').check('get').allowed()"
    message: service account check or path check failed
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: authz}
spec: {policyName: authz, validationActions: [Deny]}
"#;

fn rbac() -> Inventory {
    let mut inventory = Inventory::new();
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "deployment-admin"},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "alice-deployments"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "deployment-admin"},
            "subjects": [{"kind": "User", "name": "alice"}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "scaler", "namespace": "shop"},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["update"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch", "delete"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "scalers", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "scaler"},
            "subjects": [{"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "namespace": "shop", "name": "deployer"}]}),
    ] {
        inventory.insert(object);
    }
    inventory
}

fn as_user(namespace: &str, username: &str, groups: &[&str]) -> AdmissionRequest {
    let mut request = AdmissionRequest::for_object(deployment(namespace, 1));
    request.user_info.username = username.into();
    request.user_info.groups = groups.iter().map(|g| g.to_string()).collect();
    request
}

#[test]
fn authorizer_answers_from_rbac_in_the_inventory() {
    let policies = set(AUTHZ);
    let inventory = rbac();
    let messages = |request: &AdmissionRequest| -> Vec<String> {
        policies
            .evaluate(request, &inventory)
            .violations
            .into_iter()
            .map(|v| v.message)
            // The third validation is the subject of the next test.
            .filter(|m| m != "service account check or path check failed")
            .collect()
    };
    // A ClusterRoleBinding grants alice everything on deployments, everywhere.
    assert!(messages(&as_user("prod", "alice", &[])).is_empty());
    // Group devs may delete and patch deployments in shop only (RoleBinding).
    assert!(messages(&as_user("shop", "bob", &["devs"])).is_empty());
    let elsewhere = messages(&as_user("prod", "bob", &["devs"]));
    assert_eq!(elsewhere.len(), 2, "{elsewhere:?}");
    assert!(
        elsewhere[0]
            .starts_with("only users who may delete deployments may create them: no RBAC rule"),
        "{}",
        elsewhere[0]
    );
    assert_eq!(elsewhere[1], "may not patch what it creates");
    // system:masters is always allowed.
    assert!(messages(&as_user("prod", "root", &["system:masters"])).is_empty());
}

#[test]
fn authorizer_service_accounts_and_paths() {
    let policies = set(AUTHZ);
    // The service account may update deployments/scale in shop, and nobody may GET /healthz: the
    // third validation fails for everyone but system:masters.
    let found = policies
        .evaluate(&as_user("shop", "alice", &[]), &rbac())
        .violations;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "service account check or path check failed"
    );

    let mut inventory = rbac();
    inventory.insert(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "health"},
        "rules": [{"nonResourceURLs": ["/healthz*"], "verbs": ["get"]}]}),
    );
    inventory.insert(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "health"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "health"},
        "subjects": [{"kind": "User", "name": "alice"}]}));
    assert!(
        policies
            .evaluate(&as_user("shop", "alice", &[]), &inventory)
            .violations
            .is_empty()
    );
}

#[test]
fn bindings_without_their_policy_do_nothing() {
    let mut policies = set(&REPLICA_LIMIT.replace(
        "policyName: \"demo-policy.example.com\"",
        "policyName: elsewhere",
    ));
    assert_eq!(policies.unbound().count(), 1);
    assert!(violations(&policies, deployment("test-ns", 9), &namespaces()).is_empty());
    // A later file brings the policy in.
    let policy_only = REPLICA_LIMIT
        .split("---")
        .next()
        .unwrap_or_default()
        .replace("demo-policy.example.com", "elsewhere");
    assert_eq!(policies.load("second.yaml", &policy_only), Ok(1));
    assert_eq!(
        violations(&policies, deployment("test-ns", 9), &namespaces()).len(),
        1
    );
}

#[test]
fn bad_cel_names_file_line_policy_and_field() {
    let errors = load_errors(&PRIVILEGED.replace(
        "message: privileged containers are not allowed",
        "message: ok\n    - expression: \"object.spec.containers.all(c, \"",
    ));
    assert_eq!(errors.0.len(), 1, "{errors}");
    let error = &errors.0[0];
    assert_eq!(error.object, "ValidatingAdmissionPolicy/deny-privileged");
    assert_eq!(error.field, "spec.validations[1].expression");
    assert_eq!(error.line, Some(21));
    let text = error.to_string();
    assert!(
        text.starts_with("broken.yaml:21: ValidatingAdmissionPolicy/deny-privileged: spec.validations[1].expression: invalid CEL expression"),
        "{text}"
    );
}

#[test]
fn undeclared_identifiers_and_variables_are_load_errors() {
    let errors = load_errors(&LABELS_WITH_VARIABLES.replace(
        "size(variables.missing) == 0",
        "size(variables.absent) == 0 && objct.spec.replicas > 0",
    ));
    let text = errors.to_string();
    assert!(text.contains("spec.validations[0].expression"), "{text}");
    assert!(
        text.contains("objct") || text.contains("variables.absent"),
        "{text}"
    );
}

#[test]
fn wrong_field_types_are_reported_without_panics() {
    let errors = load_errors(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: typed}
spec:
  failurePolicy: Sometimes
  matchConstraints:
    resourceRules: "pods"
  validations:
    - expression: 5
    - message: no expression
  variables: {a: b}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: typed}
spec:
  policyName: typed
  validationActions: [Deny, Warn, Block]
  paramRef: {namespace: x}
"#,
    );
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    for expected in [
        "spec.failurePolicy",
        "spec.matchConstraints.resourceRules",
        "spec.validations[0].expression",
        "spec.validations[1].expression",
        "spec.variables",
        "spec.validationActions[2]",
        "spec.validationActions",
        "spec.paramRef",
    ] {
        assert!(
            fields.contains(&expected),
            "no error for {expected}: {errors}"
        );
    }
    assert!(errors.0.iter().all(|e| e.line.is_some()), "{errors}");
}

#[test]
fn bad_yaml_is_an_error_and_loads_nothing() {
    let mut policies = PolicySet::new();
    let broken = format!("{REPLICA_LIMIT}---\nkind: [unclosed\n");
    let errors = policies.load("broken.yaml", &broken).unwrap_err();
    assert!(errors.to_string().starts_with("broken.yaml:"), "{errors}");
    assert_eq!(policies.policies().count(), 0);
    assert_eq!(policies.bindings().count(), 0);
    // Other kinds in a policy file are not ours: ignored, not errors.
    assert_eq!(
        policies.load(
            "params.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        ),
        Ok(0)
    );
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "---\n---\n",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x}\nspec: []\n",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: x}\nspec: {policyName: 3, matchResources: {namespaceSelector: {matchExpressions: [{key: a, operator: Nope}]}}}\n",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x}\nspec: {matchConstraints: {resourceRules: [{resources: [pods]}]}, validations: [{expression: \"((((\"}]}\n",
        "{\"apiVersion\": ",
    ];
    for input in inputs {
        let mut policies = PolicySet::new();
        let result = policies.load("garbage.yaml", input);
        if let Err(errors) = &result {
            assert!(!errors.0.is_empty());
        }
        let evaluation = policies.evaluate(&AdmissionRequest::default(), &Inventory::new());
        assert!(evaluation.violations.is_empty());
    }
}

#[test]
fn policy_sets_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<PolicySet>();
}

#[test]
fn params_default_to_the_request_namespace_then_cluster_scope() {
    let policies = set(&PARAMETERISED
        .replace("    namespace: \"default\"\n", "")
        .replace(
            "  matchResources:\n    namespaceSelector:\n      matchLabels:\n        environment: test\n",
            "",
        ));
    let mut inventory = namespaces();
    let mut local = replica_limit(2);
    local["metadata"]["namespace"] = json!("test-ns");
    inventory.insert(local);
    let mut cluster_wide = replica_limit(8);
    if let Some(metadata) = cluster_wide["metadata"].as_object_mut() {
        metadata.remove("namespace");
    }
    inventory.insert(cluster_wide);
    // test-ns has its own limit of 2; prod-ns falls back to the cluster-scoped one (8).
    assert_eq!(
        violations(&policies, deployment("test-ns", 3), &inventory).len(),
        1
    );
    assert!(violations(&policies, deployment("prod-ns", 3), &inventory).is_empty());
    assert_eq!(
        violations(&policies, deployment("prod-ns", 9), &inventory).len(),
        1
    );
}

#[test]
fn resource_names_subresources_and_object_selector_on_delete() {
    let policies = set(r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: protect}
spec:
  matchConstraints:
    objectSelector:
      matchLabels: {protected: "true"}
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["DELETE"]
      resources: ["deployments"]
      resourceNames: ["web"]
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["UPDATE"]
      resources: ["deployments/scale"]
  validations:
  - expression: "false"
    message: protected deployment
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: protect}
spec: {policyName: protect, validationActions: [Deny]}
"#);
    let inventory = Inventory::new();
    let mut protected = deployment("shop", 1);
    protected["metadata"]["labels"]["protected"] = json!("true");

    // DELETE: the object is gone, the old object carries the label.
    let mut delete = AdmissionRequest::for_object(protected.clone());
    delete.old_object = delete.object.take();
    delete.operation = Operation::Delete;
    assert_eq!(policies.evaluate(&delete, &inventory).violations.len(), 1);
    delete.name = "other".into();
    assert!(policies.evaluate(&delete, &inventory).violations.is_empty());

    let mut scale = AdmissionRequest::for_object(protected.clone());
    scale.operation = Operation::Update;
    assert!(policies.evaluate(&scale, &inventory).violations.is_empty());
    scale.sub_resource = Some("scale".into());
    assert_eq!(policies.evaluate(&scale, &inventory).violations.len(), 1);

    let mut unlabelled = AdmissionRequest::for_object(deployment("shop", 1));
    unlabelled.sub_resource = Some("scale".into());
    unlabelled.operation = Operation::Update;
    assert!(
        policies
            .evaluate(&unlabelled, &inventory)
            .violations
            .is_empty()
    );
}

#[test]
fn optional_syntax_as_kubernetes_enables_it() {
    let policies = set(r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: owner}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}
  validations:
  - expression: "object.metadata.?annotations.?owner.orValue('') != ''"
    message: an owner annotation is required
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: owner}
spec: {policyName: owner, validationActions: [Deny]}
"#);
    let inventory = Inventory::new();
    let found = violations(&policies, deployment("shop", 1), &inventory);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "an owner annotation is required");
    let mut owned = deployment("shop", 1);
    owned["metadata"]["annotations"] = json!({"owner": "team-a"});
    assert!(violations(&policies, owned, &inventory).is_empty());
}
