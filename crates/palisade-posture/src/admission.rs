//! Built-in checks as admission policies: the `admission.rules` of `palisade.yaml` name checks and
//! an action (`{checks: [privileged], action: deny}`), and a request's object is judged by the
//! per-object checks alone — checks that need the rest of the cluster (RBAC "who can", exposure)
//! cannot judge one object and do not run here.

use palisade_core::{Finding, Node, Resource, Source};
use palisade_policy::{AdmissionRequest, Operation, Violation};

use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::emit::Context;

/// The violations of the configured admission rules for `request`. Suppressed findings
/// (`palisade.dev/ignore`, exemptions) never deny. DELETE and CONNECT cannot introduce a
/// misconfiguration and are not judged.
pub fn admission_violations(
    request: &AdmissionRequest,
    catalogue: &Catalogue,
    config: &Config,
) -> Vec<Violation> {
    if config.admission_rules.is_empty()
        || !matches!(request.operation, Operation::Create | Operation::Update)
    {
        return Vec::new();
    }
    let kind = request.kind.kind.as_str();
    let namespace = request.namespace.as_str();
    let rules: Vec<_> = config
        .admission_rules
        .iter()
        .filter(|rule| rule.applies_to(kind, namespace))
        .collect();
    let Some(object) = request.object.as_ref().filter(|_| !rules.is_empty()) else {
        return Vec::new();
    };
    let mut node = Node::from_json(object.clone());
    // Objects in a request may omit their namespace (it is in the request itself).
    if !namespace.is_empty()
        && let Some(metadata) = node.get_mut("metadata")
        && metadata.get("namespace").is_none()
    {
        metadata.insert("namespace", Node::string(namespace));
    }
    let Some(resource) = Resource::from_object(node, Source::default()) else {
        return Vec::new();
    };
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|rule| {
            rule.label_selector
                .as_ref()
                .is_none_or(|selector| selector.matches_object(object))
        })
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    let wanted: std::collections::BTreeSet<String> = rules
        .iter()
        .flat_map(|rule| rule.checks.iter().cloned())
        .collect();
    let mut findings: Vec<Finding> = Vec::new();
    crate::checks::assess_object(
        &resource,
        Context {
            catalogue,
            config,
            only: Some(&wanted),
        },
        &mut findings,
        true,
    );
    let mut violations = Vec::new();
    for finding in findings.iter().filter(|f| !f.is_suppressed()) {
        for rule in rules
            .iter()
            .filter(|r| r.checks.contains(&finding.check.id))
        {
            violations.push(Violation {
                policy: finding.check.id.clone(),
                message: format!("{}: {}", finding.check.title, finding.message),
                details: None,
                action: rule.action,
                reason: None,
            });
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_policy::Action;

    fn config(yaml: &str, catalogue: &Catalogue) -> Config {
        let root = palisade_kube::yaml::read_document(yaml.as_bytes(), "palisade.yaml")
            .unwrap()
            .unwrap();
        Config::from_node(&root, catalogue).unwrap()
    }

    fn pod(privileged: bool, namespace: &str) -> AdmissionRequest {
        AdmissionRequest::for_object(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                "securityContext": {"privileged": privileged}}]}}))
    }

    #[test]
    fn one_line_denies_privileged_containers() {
        let catalogue = Catalogue::builtin();
        let config = config(
            "admission:\n  rules:\n    - {checks: [privileged], action: deny}\n    - {checks: [image-tag-latest], action: warn, excludedNamespaces: [\"dev-*\"]}\n",
            &catalogue,
        );
        let violations = admission_violations(&pod(true, "shop"), &catalogue, &config);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].action, Action::Deny);
        assert!(
            violations[0].message.contains("privileged"),
            "{}",
            violations[0].message
        );
        assert!(admission_violations(&pod(false, "shop"), &catalogue, &config).is_empty());

        let mut delete = pod(true, "shop");
        delete.operation = Operation::Delete;
        assert!(admission_violations(&delete, &catalogue, &config).is_empty());
    }

    #[test]
    fn rules_are_checked_and_scoped() {
        let catalogue = Catalogue::builtin();
        let root = palisade_kube::yaml::read_document(
            &b"admission:\n  rules:\n    - {checks: [privilegd], action: deny}\n"[..],
            "palisade.yaml",
        )
        .unwrap()
        .unwrap();
        let err = Config::from_node(&root, &catalogue).unwrap_err();
        assert!(
            err.to_string().contains("did you mean `privileged`"),
            "{err}"
        );
        let config = config(
            "admission:\n  rules:\n    - {checks: [privileged], action: deny, namespaces: [prod]}\n",
            &catalogue,
        );
        assert!(admission_violations(&pod(true, "dev"), &catalogue, &config).is_empty());
        assert_eq!(
            admission_violations(&pod(true, "prod"), &catalogue, &config).len(),
            1
        );
    }
}
