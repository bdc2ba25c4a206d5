//! `authorizer` for CEL expressions, answered from the RBAC objects in the inventory
//! (Roles, ClusterRoles, RoleBindings, ClusterRoleBindings) for the requesting user, the way the
//! API server's RBAC authorizer would: `authorizer.group('apps').resource('deployments')
//! .namespace('shop').check('delete').allowed()`, `authorizer.path('/healthz').check('get')`,
//! `authorizer.serviceAccount('ns', 'name')…`, `authorizer.requestResource.check('update')`.
//!
//! What cannot be answered offline is said in the decision's `reason()`: only RBAC is consulted
//! (no Node, webhook or ABAC authorizers), ClusterRole aggregation is taken as already resolved by
//! the controller (as in objects read from a cluster), and the user's groups are those of the
//! request (offline requests have none).

use std::sync::Arc;

use cel::ExecutionError;
use cel::extractors::This;
use cel::objects::{Opaque, Value};
use palisade_policy::AdmissionRequest;
use serde_json::Value as Json;

const AUTHORIZER: &str = "kubernetes.authorization.Authorizer";
const RESOURCE_CHECK: &str = "kubernetes.authorization.ResourceCheck";
const PATH_CHECK: &str = "kubernetes.authorization.PathCheck";
const DECISION: &str = "kubernetes.authorization.Decision";

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Principal {
    username: String,
    groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rule {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    non_resource_urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    /// `RoleBinding/ns/name` or `ClusterRoleBinding/name`, for the decision's reason.
    binding: String,
    /// The namespace a RoleBinding grants in; `None` for a ClusterRoleBinding.
    namespace: Option<String>,
    subjects: Vec<(String, String, String)>,
    rules: Vec<Rule>,
}

/// The RBAC grants of an inventory, resolved once per evaluation that needs them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rbac {
    grants: Vec<Grant>,
}

/// What one `check` asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Attributes {
    verb: String,
    group: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
    /// Set for non-resource requests (`authorizer.path`).
    path: Option<String>,
}

impl Rbac {
    /// Reads the RBAC objects of an inventory in Gatekeeper layout ([`Inventory::to_value`]).
    ///
    /// [`Inventory::to_value`]: palisade_policy::Inventory::to_value
    pub fn from_inventory(tree: &Json) -> Rbac {
        const GV: &str = "rbac.authorization.k8s.io/v1";
        let objects = |root: Option<&Json>, kind: &str| -> Vec<Json> {
            root.and_then(|r| r.get(GV))
                .and_then(|r| r.get(kind))
                .and_then(Json::as_object)
                .map(|by_name| by_name.values().cloned().collect())
                .unwrap_or_default()
        };
        let cluster = tree.get("cluster");
        let cluster_roles = objects(cluster, "ClusterRole");
        let rules_of = |role: Option<&Json>| -> Vec<Rule> {
            role.and_then(|r| r.get("rules"))
                .and_then(Json::as_array)
                .map(|rules| rules.iter().map(rule).collect())
                .unwrap_or_default()
        };
        let find = |roles: &[Json], name: &str| -> Option<Json> {
            roles
                .iter()
                .find(|r| r.pointer("/metadata/name").and_then(Json::as_str) == Some(name))
                .cloned()
        };
        let mut grants = Vec::new();
        for binding in objects(cluster, "ClusterRoleBinding") {
            let role_name = text(binding.pointer("/roleRef/name"));
            grants.push(Grant {
                binding: format!(
                    "ClusterRoleBinding/{}",
                    text(binding.pointer("/metadata/name"))
                ),
                namespace: None,
                subjects: subjects(&binding),
                rules: rules_of(find(&cluster_roles, &role_name).as_ref()),
            });
        }
        let namespaces = tree
            .get("namespace")
            .and_then(Json::as_object)
            .into_iter()
            .flatten();
        for (namespace, tree) in namespaces {
            let roles = objects(Some(tree), "Role");
            for binding in objects(Some(tree), "RoleBinding") {
                let role_name = text(binding.pointer("/roleRef/name"));
                let role = match text(binding.pointer("/roleRef/kind")).as_str() {
                    "Role" => find(&roles, &role_name),
                    _ => find(&cluster_roles, &role_name),
                };
                grants.push(Grant {
                    binding: format!(
                        "RoleBinding/{namespace}/{}",
                        text(binding.pointer("/metadata/name"))
                    ),
                    namespace: Some(namespace.clone()),
                    subjects: subjects(&binding),
                    rules: rules_of(role.as_ref()),
                });
            }
        }
        Rbac { grants }
    }

    fn decide(&self, principal: &Principal, attributes: &Attributes) -> Decision {
        if principal.groups.iter().any(|g| g == "system:masters") {
            return Decision::allow("the user is in group system:masters");
        }
        for grant in &self.grants {
            // A RoleBinding grants only inside its namespace, and never non-resource URLs.
            if let Some(namespace) = &grant.namespace
                && (attributes.path.is_some() || *namespace != attributes.namespace)
            {
                continue;
            }
            if !grant.subjects.iter().any(|s| subject_matches(s, principal)) {
                continue;
            }
            if grant.rules.iter().any(|r| rule_allows(r, attributes)) {
                return Decision::allow(&format!("RBAC: allowed by {}", grant.binding));
            }
        }
        Decision {
            allowed: false,
            reason: "no RBAC rule in the inventory allows it (only RBAC is consulted)".into(),
        }
    }
}

fn text(value: Option<&Json>) -> String {
    value.and_then(Json::as_str).unwrap_or("").to_string()
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn rule(value: &Json) -> Rule {
    Rule {
        verbs: strings(value.get("verbs")),
        api_groups: strings(value.get("apiGroups")),
        resources: strings(value.get("resources")),
        resource_names: strings(value.get("resourceNames")),
        non_resource_urls: strings(value.get("nonResourceURLs")),
    }
}

/// `(kind, namespace, name)` of every subject.
fn subjects(binding: &Json) -> Vec<(String, String, String)> {
    binding
        .get("subjects")
        .and_then(Json::as_array)
        .map(|subjects| {
            subjects
                .iter()
                .map(|s| {
                    (
                        text(s.get("kind")),
                        text(s.get("namespace")),
                        text(s.get("name")),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn subject_matches((kind, namespace, name): &(String, String, String), who: &Principal) -> bool {
    match kind.as_str() {
        "User" => *name == who.username,
        "Group" => who.groups.iter().any(|g| g == name),
        "ServiceAccount" => who.username == format!("system:serviceaccount:{namespace}:{name}"),
        _ => false,
    }
}

fn rule_allows(rule: &Rule, attributes: &Attributes) -> bool {
    let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
    if !any(&rule.verbs, &attributes.verb) {
        return false;
    }
    if let Some(path) = &attributes.path {
        return rule.non_resource_urls.iter().any(|url| {
            url == "*"
                || url == path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        });
    }
    let resource_ok = rule.resources.iter().any(|r| {
        if attributes.subresource.is_empty() {
            r == "*" || *r == attributes.resource
        } else {
            r == "*"
                || *r == format!("{}/{}", attributes.resource, attributes.subresource)
                || *r == format!("*/{}", attributes.subresource)
                || *r == format!("{}/*", attributes.resource)
        }
    });
    any(&rule.api_groups, &attributes.group)
        && resource_ok
        && (rule.resource_names.is_empty()
            || (!attributes.name.is_empty() && rule.resource_names.contains(&attributes.name)))
}

/// The `authorizer` value: the principal plus the grants to judge by, and the request's own
/// resource for `authorizer.requestResource`.
#[derive(Debug, PartialEq, Eq)]
struct Authorizer {
    principal: Principal,
    rbac: Arc<Rbac>,
    request: Attributes,
}

impl Opaque for Authorizer {
    fn runtime_type_name(&self) -> &str {
        AUTHORIZER
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Check {
    principal: Principal,
    rbac: Arc<Rbac>,
    attributes: Attributes,
}

impl Opaque for Check {
    fn runtime_type_name(&self) -> &str {
        if self.attributes.path.is_some() {
            PATH_CHECK
        } else {
            RESOURCE_CHECK
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Decision {
    allowed: bool,
    reason: String,
}

impl Decision {
    fn allow(reason: &str) -> Decision {
        Decision {
            allowed: true,
            reason: reason.to_string(),
        }
    }
}

impl Opaque for Decision {
    fn runtime_type_name(&self) -> &str {
        DECISION
    }
}

/// The function `authorizer.requestResource` is rewritten to call at load: cel cannot select a
/// field of an opaque value.
pub(crate) const REQUEST_RESOURCE: &str = "@palisade.requestResource";

/// The `authorizer` variable for a request.
pub(crate) fn authorizer_for(request: &AdmissionRequest, rbac: Arc<Rbac>) -> Value {
    Value::Opaque(Arc::new(Authorizer {
        principal: Principal {
            username: request.user_info.username.clone(),
            groups: request.user_info.groups.clone(),
        },
        rbac,
        request: Attributes {
            group: request.resource.group.clone(),
            resource: request.resource.resource.clone(),
            subresource: request.sub_resource.clone().unwrap_or_default(),
            namespace: request.namespace.clone(),
            name: request.name.clone(),
            ..Attributes::default()
        },
    }))
}

fn check_value(principal: Principal, rbac: Arc<Rbac>, attributes: Attributes) -> Value {
    Value::Opaque(Arc::new(Check {
        principal,
        rbac,
        attributes,
    }))
}

fn as_authorizer<'v>(value: &'v Value, function: &str) -> Result<&'v Authorizer, ExecutionError> {
    match value {
        Value::Opaque(o) => o.downcast_ref::<Authorizer>(),
        _ => None,
    }
    .ok_or_else(|| ExecutionError::function_error(function, "expects an authorizer"))
}

fn as_check<'v>(value: &'v Value, function: &str) -> Result<&'v Check, ExecutionError> {
    match value {
        Value::Opaque(o) => o.downcast_ref::<Check>(),
        _ => None,
    }
    .ok_or_else(|| ExecutionError::function_error(function, "expects an authorization check"))
}

fn as_decision<'v>(value: &'v Value, function: &str) -> Result<&'v Decision, ExecutionError> {
    match value {
        Value::Opaque(o) => o.downcast_ref::<Decision>(),
        _ => None,
    }
    .ok_or_else(|| ExecutionError::function_error(function, "expects an authorization decision"))
}

/// Registers the authorizer library's functions.
pub(crate) fn register(context: &mut cel::Context<'static, 'static>) {
    let _ = context.add_function(REQUEST_RESOURCE, |This(this): This<Value>| {
        let authorizer = as_authorizer(&this, "requestResource")?;
        Ok::<_, ExecutionError>(check_value(
            authorizer.principal.clone(),
            authorizer.rbac.clone(),
            authorizer.request.clone(),
        ))
    });
    let _ = context.add_function("group", |This(this): This<Value>, group: Arc<String>| {
        let authorizer = as_authorizer(&this, "group")?;
        Ok::<_, ExecutionError>(check_value(
            authorizer.principal.clone(),
            authorizer.rbac.clone(),
            Attributes {
                group: group.to_string(),
                ..Attributes::default()
            },
        ))
    });
    let _ = context.add_function("path", |This(this): This<Value>, path: Arc<String>| {
        let authorizer = as_authorizer(&this, "path")?;
        Ok::<_, ExecutionError>(check_value(
            authorizer.principal.clone(),
            authorizer.rbac.clone(),
            Attributes {
                path: Some(path.to_string()),
                ..Attributes::default()
            },
        ))
    });
    let _ = context.add_function(
        "serviceAccount",
        |This(this): This<Value>, namespace: Arc<String>, name: Arc<String>| {
            let authorizer = as_authorizer(&this, "serviceAccount")?;
            Ok::<_, ExecutionError>(Value::Opaque(Arc::new(Authorizer {
                principal: Principal {
                    username: format!("system:serviceaccount:{namespace}:{name}"),
                    groups: vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{namespace}"),
                        "system:authenticated".into(),
                    ],
                },
                rbac: authorizer.rbac.clone(),
                request: authorizer.request.clone(),
            })))
        },
    );
    for (method, set) in [
        ("resource", set_resource as fn(&mut Attributes, String)),
        ("subresource", |a, v| a.subresource = v),
        ("namespace", |a, v| a.namespace = v),
        ("name", |a, v| a.name = v),
    ] {
        let _ = context.add_function(
            method,
            move |This(this): This<Value>, value: Arc<String>| {
                let check = as_check(&this, method)?;
                let mut attributes = check.attributes.clone();
                set(&mut attributes, value.to_string());
                Ok::<_, ExecutionError>(check_value(
                    check.principal.clone(),
                    check.rbac.clone(),
                    attributes,
                ))
            },
        );
    }
    let _ = context.add_function("check", |This(this): This<Value>, verb: Arc<String>| {
        let check = as_check(&this, "check")?;
        let mut attributes = check.attributes.clone();
        attributes.verb = verb.to_string();
        Ok::<_, ExecutionError>(Value::Opaque(Arc::new(
            check.rbac.decide(&check.principal, &attributes),
        )))
    });
    let _ = context.add_function("allowed", |This(this): This<Value>| {
        Ok::<_, ExecutionError>(Value::Bool(as_decision(&this, "allowed")?.allowed))
    });
    let _ = context.add_function("reason", |This(this): This<Value>| {
        let decision = as_decision(&this, "reason")?;
        Ok::<_, ExecutionError>(Value::String(Arc::new(decision.reason.clone())))
    });
    // RBAC answers from the inventory never fail to evaluate.
    let _ = context.add_function("errored", |This(this): This<Value>| {
        as_decision(&this, "errored").map(|_| Value::Bool(false))
    });
    let _ = context.add_function("error", |This(this): This<Value>| {
        as_decision(&this, "error").map(|_| Value::String(Arc::new(String::new())))
    });
}

fn set_resource(attributes: &mut Attributes, value: String) {
    attributes.resource = value;
}
