//! Gatekeeper `ConstraintTemplate`s whose code is `engine: K8sNativeValidation` (CEL), and their
//! constraints. The template's `source` is a ValidatingAdmissionPolicy body; Gatekeeper adds two
//! variables before the template's own — `variables.params` (the constraint's
//! `spec.parameters`) and `variables.anyObject` (`object`, or `oldObject` on DELETE) — and binds
//! `params` to the whole constraint. Which requests a constraint applies to is decided by its
//! `spec.match` block with Gatekeeper's semantics, not by VAP match rules.

use std::collections::BTreeMap;

use palisade_policy::selector::labels_of;
use palisade_policy::{Action, AdmissionRequest, LabelSelector};
use serde_json::Value as Json;

use crate::load::Policy;

pub const TEMPLATE_KIND: &str = "ConstraintTemplate";
pub(crate) const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
pub(crate) const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";
pub(crate) const ENGINE: &str = "K8sNativeValidation";

/// Gatekeeper's definitions of its preamble variables (`pkg/drivers/k8scel`).
pub(crate) const PARAMS_EXPRESSION: &str =
    "has(params.spec) && has(params.spec.parameters) ? params.spec.parameters : null";
pub(crate) const ANY_OBJECT_EXPRESSION: &str = "object == null ? oldObject : object";

/// A ConstraintTemplate with CEL code.
pub struct Template {
    pub name: String,
    pub file: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub constraint_kind: String,
    pub(crate) policy: Policy,
}

/// A constraint: an instance of a template's kind.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub file: String,
    /// `spec.enforcementAction`: `deny` (default), `warn`, `dryrun` (→ audit).
    pub action: Action,
    pub(crate) matcher: ConstraintMatch,
    /// The constraint as written: CEL sees it as `params`.
    pub(crate) object: Json,
}

/// `spec.match` of a constraint.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConstraintMatch {
    /// `(apiGroups, kinds)` pairs; empty lists match anything.
    pub kinds: Vec<(Vec<String>, Vec<String>)>,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: LabelSelector,
    pub namespace_selector: LabelSelector,
    /// `*` (default), `Cluster` or `Namespaced`.
    pub scope: String,
    /// Object name, `*` allowed as prefix or suffix wildcard.
    pub name: Option<String>,
}

impl ConstraintMatch {
    pub fn matches(
        &self,
        request: &AdmissionRequest,
        namespace_labels: &BTreeMap<String, String>,
    ) -> bool {
        let object = request.subject();
        let is_namespace = request.kind.kind == "Namespace" && request.kind.group.is_empty();
        // Namespace matching looks at a Namespace's own name; other cluster-scoped objects are
        // never disqualified by namespace rules (Gatekeeper's `namespacesMatch`).
        let namespace = if is_namespace {
            Some(request.name.as_str())
        } else if request.namespace.is_empty() {
            None
        } else {
            Some(request.namespace.as_str())
        };
        let kinds_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|(groups, kinds)| {
                (groups.is_empty() || groups.iter().any(|g| g == "*" || *g == request.kind.group))
                    && (kinds.is_empty()
                        || kinds.iter().any(|k| k == "*" || *k == request.kind.kind))
            });
        let namespaces_ok = match namespace {
            Some(ns) => {
                (self.namespaces.is_empty() || self.namespaces.iter().any(|p| glob(p, ns)))
                    && !self.excluded_namespaces.iter().any(|p| glob(p, ns))
            }
            None => true,
        };
        let scope_ok = match self.scope.as_str() {
            "Cluster" => request.namespace.is_empty(),
            "Namespaced" => !request.namespace.is_empty(),
            _ => true,
        };
        let labels_ok = self.label_selector.is_empty()
            || object.is_some_and(|o| self.label_selector.matches(&labels_of(o)));
        let namespace_selector_ok = self.namespace_selector.is_empty()
            || if is_namespace {
                object.is_some_and(|o| self.namespace_selector.matches(&labels_of(o)))
            } else if request.namespace.is_empty() {
                true
            } else {
                self.namespace_selector.matches(namespace_labels)
            };
        let name_ok = self.name.as_deref().is_none_or(|p| glob(p, &request.name));
        kinds_ok && namespaces_ok && scope_ok && labels_ok && namespace_selector_ok && name_ok
    }
}

/// Gatekeeper's namespace and name wildcards: `kube-*` (prefix) and `*-system` (suffix).
fn glob(pattern: &str, value: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        value.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        value.ends_with(suffix)
    } else {
        pattern == value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespace_wildcards() {
        assert!(glob("kube-*", "kube-system"));
        assert!(glob("*-system", "gatekeeper-system"));
        assert!(!glob("kube-*", "shop"));
        assert!(glob("shop", "shop"));
    }

    #[test]
    fn match_block() {
        let matcher = ConstraintMatch {
            kinds: vec![(vec!["".into()], vec!["Pod".into()])],
            excluded_namespaces: vec!["kube-*".into()],
            ..ConstraintMatch::default()
        };
        let pod = |ns: &str| {
            AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": ns}}))
        };
        let none = BTreeMap::new();
        assert!(matcher.matches(&pod("shop"), &none));
        assert!(!matcher.matches(&pod("kube-system"), &none));
        let deployment = AdmissionRequest::for_object(json!({"apiVersion": "apps/v1",
            "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"}}));
        assert!(!matcher.matches(&deployment, &none));
    }
}
