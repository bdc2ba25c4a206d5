//! Role-based access control: wildcard rules, dangerous bindings, and who can do what that leads to
//! cluster compromise.
//!
//! Rules are matched the way the API server's RBAC authorizer matches them
//! (`pkg/apis/rbac/v1/evaluation_helpers.go`): `*` in verbs, apiGroups and resources matches
//! everything, subresources included; `*/exec` matches the `exec` subresource of every resource;
//! `pods/*` is *not* a pattern (it only matches a subresource literally named `*`, which does not
//! exist); an empty `resourceNames` means every object, and a non-empty one can never match a
//! `create` or `deletecollection` of a whole collection (the request carries no name then).
//!
//! Who counts as a Kubernetes component (and is therefore not reported): users and groups named
//! `system:…` (`system:masters`, `system:nodes`, `system:kube-scheduler`, …) except the three
//! catch-all identities `system:anonymous`, `system:unauthenticated` and `system:authenticated`,
//! and except service accounts. Service accounts (`kind: ServiceAccount`,
//! `system:serviceaccount:<ns>:<name>` users and `system:serviceaccounts[:<ns>]` groups) are
//! components only in `kube-system` *and* only when the binding or the role it grants is a
//! `system:` one (kubeadm's `system:coredns`, EKS's `eks:kube-proxy` → `system:node-proxier`):
//! a `kube-system` service account bound to `cluster-admin` or to a custom role is exactly what an
//! attacker plants for persistence, so it is reported. Bindings Kubernetes itself maintains
//! (`kubernetes.io/bootstrapping: rbac-defaults`) are never reported.
//!
//! "Who can" findings are one per (binding, subject, capability), on `subjects[i]` of the binding.
//! A namespaced grant is one severity level below a cluster-wide one, and a grant limited by
//! `resourceNames` one more; a namespaced grant that reaches a service account holding
//! cluster-wide power in the same namespace (minting its token, impersonating it, running a pod as
//! it, reading its legacy token Secret) is critical whatever its scope, and says which account.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Category, Check, FieldPath, Finding, Frameworks, Node, Resource, Severity};

use crate::emit::{Context, Emitter};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";
const BOOTSTRAP_VALUE: &str = "rbac-defaults";
const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
const SERVICE_ACCOUNT_GROUP: &str = "system:serviceaccounts";
const COMPONENT_NAMESPACE: &str = "kube-system";
const NSA_AUTHZ: &str = "Authentication and authorization";

const WILDCARD_VERBS: &str = "rbac-wildcard-verbs";
const WILDCARD_RESOURCES: &str = "rbac-wildcard-resources";
const CLUSTER_ADMIN_BINDING: &str = "rbac-cluster-admin-binding";
const ANONYMOUS_BINDING: &str = "rbac-anonymous-binding";
const AUTHENTICATED_BINDING: &str = "rbac-authenticated-binding";
const READ_SECRETS: &str = "rbac-read-secrets";
const CREATE_PODS: &str = "rbac-create-pods";
const POD_EXEC: &str = "rbac-pod-exec";
const ESCALATE_BIND: &str = "rbac-escalate-bind";
const IMPERSONATE: &str = "rbac-impersonate";
const NODES_PROXY: &str = "rbac-nodes-proxy";
const CREATE_TOKEN: &str = "rbac-create-token";
const APPROVE_CSR: &str = "rbac-approve-csr";
const WEBHOOK_CONFIG: &str = "rbac-webhook-config";
const CREATE_PERSISTENT_VOLUMES: &str = "rbac-create-persistent-volumes";

pub(crate) fn checks() -> Vec<Check> {
    vec![
        check(
            WILDCARD_VERBS,
            "Role grants every verb (`*`)",
            Severity::High,
            "A rule with `verbs: [\"*\"]` grants every current and future verb on its resources, \
             including `escalate`, `bind`, `impersonate` and `deletecollection`, which are rarely \
             intended. Whoever is bound to the role can do far more than the job needs, and the \
             grant silently widens as the API grows.",
            "List the verbs actually needed in `rules[].verbs`, for example \
             `verbs: [\"get\", \"list\", \"watch\"]` for read access; keep `\"*\"` to the built-in \
             `cluster-admin` role.",
            Map {
                cis: &["5.1.3"],
                ..Map::default()
            },
        ),
        check(
            WILDCARD_RESOURCES,
            "Role grants access to every resource (`*`)",
            Severity::High,
            "`resources: [\"*\"]` covers every resource and subresource of the listed API groups \
             (Secrets, `pods/exec`, `serviceaccounts/token`, `nodes/proxy`) and every custom \
             resource installed later; with `apiGroups: [\"*\"]` it spans the whole API. \
             `nonResourceURLs: [\"*\"]` likewise opens every non-resource endpoint of the API \
             server, debugging endpoints included.",
            "Name the resources and their groups: `apiGroups: [\"apps\"]`, \
             `resources: [\"deployments\", \"deployments/scale\"]`; replace \
             `nonResourceURLs: [\"*\"]` with the exact paths (for example `/metrics`).",
            Map {
                cis: &["5.1.3"],
                ..Map::default()
            },
        ),
        check(
            CLUSTER_ADMIN_BINDING,
            "Binding grants cluster-admin or an equivalent role",
            Severity::Critical,
            "`cluster-admin`, and any role granting every verb on every resource, is unrestricted \
             control: the holder reads every Secret, runs privileged pods on any node and grants \
             itself anything. Through a RoleBinding it is full control of the namespace, its \
             Secrets and service account tokens included. A CI system or service account holding \
             it turns one leaked token into a cluster takeover.",
            "Bind a role with only the permissions needed (a deployment pipeline needs a \
             namespaced Role on `deployments`, `services` and `configmaps`) and delete the \
             binding (`kubectl delete clusterrolebinding <name>`); keep cluster-admin for \
             break-glass identities.",
            Map {
                cis: &["5.1.1"],
                mitre: &["T1078.003", "T1098.006"],
                microsoft: &["MS-TA9019: Cluster-admin binding"],
            },
        ),
        check(
            ANONYMOUS_BINDING,
            "Role bound to anonymous requests",
            Severity::Critical,
            "The user `system:anonymous` and the group `system:unauthenticated` are every request \
             that carries no credentials. Whatever is bound to them can be done by anyone who \
             reaches the API server, with no credential to revoke and nothing in the audit log to \
             attribute it to.",
            "Remove `system:anonymous` and `system:unauthenticated` from `subjects` (or delete the \
             binding). Health checks need nothing beyond the built-in \
             `system:public-info-viewer`; consider `--anonymous-auth=false` on kube-apiserver.",
            Map {
                mitre: &["T1078.001"],
                ..Map::default()
            },
        ),
        check(
            AUTHENTICATED_BINDING,
            "Role bound to every authenticated identity",
            Severity::High,
            "The group `system:authenticated` holds every identity the API server accepts: every \
             user, node and pod service account token (on some managed clusters it has included \
             any account of the cloud provider). `system:serviceaccounts` holds every pod's \
             service account. Whatever is bound to them is available to an attacker after any \
             compromise, however small.",
            "Bind the role to the groups or service accounts that need it instead, for example \
             `subjects: [{kind: Group, name: platform-viewers}]`.",
            Map {
                mitre: &["T1078"],
                ..Map::default()
            },
        ),
        check(
            READ_SECRETS,
            "Subject can read Secrets",
            Severity::Critical,
            "`get`, `list` or `watch` on Secrets returns their values; `list` and `watch` return \
             every Secret of the namespace at once, not only the names. Secrets hold database \
             passwords, API keys, TLS keys and service account tokens, so reading them, \
             cluster-wide or in a namespace holding a powerful account's token, leads straight to \
             other identities.",
            "Remove `secrets` from the role's rules, or limit the rule to the Secrets the subject \
             needs with `resourceNames` and `verbs: [\"get\"]`; give workloads their Secrets as \
             volumes or environment variables instead of API access.",
            Map {
                cis: &["5.1.2"],
                mitre: &["T1552.007"],
                microsoft: &["MS-TA9025: List Kubernetes secrets"],
            },
        ),
        check(
            CREATE_PODS,
            "Subject can create pods or workload controllers",
            Severity::Critical,
            "Creating a pod, directly or through a Deployment, DaemonSet, StatefulSet, ReplicaSet, \
             Job, CronJob or ReplicationController, runs any image as any service account of the \
             namespace and, unless Pod Security Admission enforces `baseline` there, as a \
             privileged pod mounting the node's root filesystem. Cluster-wide that includes \
             `kube-system` and every node.",
            "Grant `create` on pods and workload controllers only to deployment pipelines, scoped \
             to their namespaces, and enforce Pod Security Admission on every namespace where pods \
             can be created (`pod-security.kubernetes.io/enforce: restricted`).",
            Map {
                cis: &["5.1.4"],
                mitre: &["T1610", "T1611"],
                microsoft: &["MS-TA9008: New container"],
            },
        ),
        check(
            POD_EXEC,
            "Subject can exec into or attach to containers",
            Severity::Critical,
            "`create` or `get` on `pods/exec` or `pods/attach` runs commands in running \
             containers (`kubectl exec` uses `create` over SPDY and `get` over WebSocket, its \
             default since kubectl 1.30). The holder gets the container's files, environment, \
             mounted Secrets and service account token; in a privileged or host-namespace pod, \
             such as the node agents in `kube-system`, that is the node.",
            "Remove `pods/exec` and `pods/attach` from the role; grant them temporarily, in the \
             namespace being debugged, when someone needs them.",
            Map {
                mitre: &["T1609"],
                microsoft: &["MS-TA9006: Exec into container"],
                ..Map::default()
            },
        ),
        check(
            ESCALATE_BIND,
            "Subject can escalate or bind roles",
            Severity::Critical,
            "The API server refuses to let anyone create or update a role, or bind one, granting \
             more than they already hold, unless they have `escalate` (write roles beyond their \
             own rights) or `bind` (bind roles they do not hold). Either verb on `roles` or \
             `clusterroles` turns a limited identity into any role, up to cluster-admin.",
            "Remove `escalate` and `bind` from the rule; if a controller must bind a specific \
             role, restrict `bind` with `resourceNames: [\"<role>\"]`.",
            Map {
                cis: &["5.1.8"],
                mitre: &["T1098.006"],
                microsoft: &["MS-TA9019: Cluster-admin binding"],
            },
        ),
        check(
            IMPERSONATE,
            "Subject can impersonate other identities",
            Severity::Critical,
            "`impersonate` on `users`, `groups` or `serviceaccounts` lets the holder send requests \
             as any of them (`kubectl --as=admin --as-group=system:masters`): impersonating the \
             `system:masters` group is cluster-admin, and impersonating a service account gains \
             its rights. Granted in a namespace, it covers that namespace's service accounts.",
            "Remove the `impersonate` verb; where a proxy must impersonate, limit the rule with \
             `resourceNames` to the exact users, groups or service accounts.",
            Map {
                cis: &["5.1.8"],
                mitre: &["T1078"],
                ..Map::default()
            },
        ),
        check(
            NODES_PROXY,
            "Subject can reach the kubelet API through nodes/proxy",
            Severity::Critical,
            "`nodes/proxy` forwards requests through the API server to the kubelet with the API \
             server's own credentials: the holder lists the node's pods and runs commands in any \
             of its containers (`/exec`, `/run`), and `get` alone suffices over WebSocket. The \
             API server's audit log shows only the proxied request, not what ran.",
            "Remove `nodes/proxy` from the role; monitoring agents need only `get` on \
             `nodes/metrics` and `nodes/stats`.",
            Map {
                cis: &["5.1.10"],
                mitre: &["T1609"],
                ..Map::default()
            },
        ),
        check(
            CREATE_TOKEN,
            "Subject can mint service account tokens",
            Severity::Critical,
            "`create` on `serviceaccounts/token` (the TokenRequest API behind \
             `kubectl create token`) issues a token for a service account of the namespace \
             without touching any pod. The holder gains every right of every service account it \
             can name, including controllers and CI accounts bound to powerful roles; the \
             built-in `edit` and `admin` roles include it.",
            "Remove `serviceaccounts/token` from the role (bind a narrower custom role instead of \
             `edit` or `admin`), or limit it with `resourceNames` to service accounts holding no \
             more than the subject already has.",
            Map {
                cis: &["5.1.13"],
                mitre: &["T1528"],
                ..Map::default()
            },
        ),
        check(
            APPROVE_CSR,
            "Subject can approve certificate signing requests",
            Severity::Critical,
            "With `update` on `certificatesigningrequests/approval` and `approve` on a signer, the \
             holder approves its own CertificateSigningRequests; for the \
             `kubernetes.io/kube-apiserver-client` signer that is a client certificate for any \
             user and group, `system:masters` included, which RBAC cannot revoke.",
            "Leave CSR approval to kube-controller-manager: remove \
             `certificatesigningrequests/approval` and `approve` on `signers` from custom roles, \
             or limit `approve` with `resourceNames` to a signer that issues no API client \
             certificates.",
            Map {
                cis: &["5.1.11"],
                mitre: &["T1649"],
                ..Map::default()
            },
        ),
        check(
            WEBHOOK_CONFIG,
            "Subject can change admission webhooks",
            Severity::High,
            "Validating and mutating webhook configurations decide what the API server admits. \
             Whoever can create or change them can switch policy enforcement off (delete a \
             validating webhook or set `failurePolicy: Ignore`) or register a mutating webhook \
             that injects containers into every pod and receives every object sent to it.",
            "Limit `create`, `update`, `patch` and `delete` on `validatingwebhookconfigurations` \
             and `mutatingwebhookconfigurations` to the admission controller's installer; a \
             controller that only rotates its CA bundle needs `update` with `resourceNames`.",
            Map {
                cis: &["5.1.12"],
                mitre: &["T1546", "T1562.001"],
                microsoft: &["MS-TA9015: Malicious admission controller"],
            },
        ),
        check(
            CREATE_PERSISTENT_VOLUMES,
            "Subject can create PersistentVolumes",
            Severity::High,
            "A PersistentVolume can point at any `hostPath` of a node; whoever creates one and a \
             claim bound to it mounts the node's filesystem into a pod, which Pod Security \
             Admission does not prevent because it restricts `hostPath` only in pod specs.",
            "Provision volumes through StorageClasses and remove `create` on `persistentvolumes` \
             from the roles of users and workloads.",
            Map {
                cis: &["5.1.9"],
                mitre: &["T1611"],
                ..Map::default()
            },
        ),
    ]
}

/// Framework references of one check (the NSA section is the same for all of them).
#[derive(Default)]
struct Map {
    cis: &'static [&'static str],
    mitre: &'static [&'static str],
    microsoft: &'static [&'static str],
}

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    description: &str,
    remediation: &str,
    map: Map,
) -> Check {
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category: Category::Rbac,
        description: description.to_string(),
        remediation: remediation.to_string(),
        frameworks: Frameworks {
            pss: Vec::new(),
            cis: owned(map.cis),
            nsa: vec![NSA_AUTHZ.to_string()],
            mitre: owned(map.mitre),
            microsoft: owned(map.microsoft),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Per-object checks: wildcards in Roles and ClusterRoles.
// ---------------------------------------------------------------------------------------------

pub(crate) fn assess(resource: &Resource, emit: &mut Emitter<'_>) {
    if !is_rbac(resource)
        || !matches!(resource.kind(), "Role" | "ClusterRole")
        || is_kubernetes_maintained(resource)
    {
        return;
    }
    // Aggregated ClusterRoles get their rules from the aggregation controller; whatever rules the
    // object carries (filled in on a live cluster, usually empty in a manifest) are assessed as is,
    // and the roles it aggregates are assessed on their own.
    for (index, node) in rules_of(resource).iter().enumerate() {
        let rule = Rule::from_node(node);
        let path = FieldPath::root().key("rules").index(index);
        // `*` verbs on named non-resource URLs (`/healthz`, `/metrics`) open nothing beyond those
        // endpoints; non-resource rules are reported only for a wildcard URL.
        if !rule.resources.is_empty() {
            if let Some(at) = position(node, "verbs", "*") {
                emit.emit(
                    WILDCARD_VERBS,
                    None,
                    &path.key("verbs").index(at),
                    format!(
                        "rules[{index}] grants every verb (`*`) on {}",
                        rule.describe_target()
                    ),
                );
            }
            if let Some(at) = position(node, "resources", "*") {
                emit.emit(
                    WILDCARD_RESOURCES,
                    None,
                    &path.key("resources").index(at),
                    format!(
                        "rules[{index}] grants {} on {}",
                        rule.describe_verbs(),
                        rule.describe_target()
                    ),
                );
            }
        }
        if let Some(at) = position(node, "nonResourceURLs", "*") {
            emit.emit(
                WILDCARD_RESOURCES,
                None,
                &path.key("nonResourceURLs").index(at),
                format!(
                    "rules[{index}] grants {} on every non-resource URL (`nonResourceURLs: [\"*\"]`)",
                    rule.describe_verbs()
                ),
            );
        }
    }
}

/// Index of the first item of the string list `key` equal to `value`.
fn position(node: &Node, key: &str, value: &str) -> Option<usize> {
    node.get(key)?
        .items()
        .iter()
        .position(|item| item.as_str() == Some(value))
}

// ---------------------------------------------------------------------------------------------
// Policy rules and how the authorizer matches them.
// ---------------------------------------------------------------------------------------------

/// One policy rule, borrowed from an object or from the built-in role table.
#[derive(Debug, Clone)]
struct Rule<'a> {
    verbs: Vec<&'a str>,
    api_groups: Vec<&'a str>,
    resources: Vec<&'a str>,
    resource_names: Vec<&'a str>,
}

impl<'a> Rule<'a> {
    fn from_node(node: &'a Node) -> Rule<'a> {
        Rule {
            verbs: strings(node, "verbs"),
            api_groups: strings(node, "apiGroups"),
            resources: strings(node, "resources"),
            resource_names: strings(node, "resourceNames"),
        }
    }

    fn from_static(rule: &StaticRule) -> Rule<'static> {
        Rule {
            verbs: rule.verbs.to_vec(),
            api_groups: rule.groups.to_vec(),
            resources: rule.resources.to_vec(),
            resource_names: Vec::new(),
        }
    }

    /// Whether the rule covers `verb` on `group`/`resource`[/`subresource`], ignoring
    /// `resourceNames` (the caller decides what a name-limited grant is worth).
    fn covers(&self, verb: &str, group: &str, resource: &str, subresource: &str) -> bool {
        let verb_ok = self.verbs.iter().any(|v| *v == "*" || *v == verb);
        let group_ok = self.api_groups.iter().any(|g| *g == "*" || *g == group);
        verb_ok && group_ok && self.covers_resource(resource, subresource)
    }

    fn covers_resource(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if *r == "*" {
                return true;
            }
            let exact = if subresource.is_empty() {
                *r == resource
            } else {
                r.strip_prefix(resource)
                    .and_then(|rest| rest.strip_prefix('/'))
                    == Some(subresource)
            };
            // `*/<subresource>`: that subresource of every resource.
            exact || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
        })
    }

    /// Every verb on every resource of every group, for every object: cluster-admin's rule.
    fn is_everything(&self) -> bool {
        self.resource_names.is_empty()
            && self.verbs.contains(&"*")
            && self.api_groups.contains(&"*")
            && self.resources.contains(&"*")
    }

    fn describe_verbs(&self) -> String {
        if self.verbs.contains(&"*") {
            "every verb".to_string()
        } else {
            format!("`{}`", self.verbs.join(", "))
        }
    }

    /// "every resource in every API group", "`secrets`, `configmaps` in the core API group", …
    fn describe_target(&self) -> String {
        let resources = if self.resources.contains(&"*") {
            "every resource".to_string()
        } else {
            quoted_list(&self.resources)
        };
        let groups = if self.api_groups.contains(&"*") {
            "every API group".to_string()
        } else if self.api_groups.is_empty() {
            "no API group".to_string()
        } else {
            let names: Vec<&str> = self
                .api_groups
                .iter()
                .map(|g| if g.is_empty() { "core" } else { g })
                .collect();
            let noun = if names.len() == 1 {
                "API group"
            } else {
                "API groups"
            };
            format!("the {} {noun}", quoted_list(&names))
        };
        let mut text = format!("{resources} in {groups}");
        if !self.resource_names.is_empty() {
            text.push_str(&format!(
                " (limited to objects named {})",
                quoted_list(&self.resource_names)
            ));
        }
        text
    }
}

fn strings<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    node.get(key)
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rules_of(resource: &Resource) -> &[Node] {
    resource.object.get("rules").map(Node::items).unwrap_or(&[])
}

// ---------------------------------------------------------------------------------------------
// Built-in roles, for bindings to roles that are not among the scanned objects (manifest scans).
// Rules as served by kube-apiserver v1.36 (testdata/cluster-roles.yaml of the bootstrap policy).
// ---------------------------------------------------------------------------------------------

struct StaticRule {
    groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
}

const fn rule(
    groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
) -> StaticRule {
    StaticRule {
        groups,
        resources,
        verbs,
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const CLUSTER_ADMIN_RULES: &[StaticRule] = &[rule(&["*"], &["*"], &["*"])];

const AGGREGATE_TO_ADMIN: &[StaticRule] = &[
    rule(
        &["authorization.k8s.io"],
        &["localsubjectaccessreviews"],
        &["create"],
    ),
    rule(&[RBAC_GROUP], &["rolebindings", "roles"], READ_WRITE),
];

const AGGREGATE_TO_EDIT: &[StaticRule] = &[
    rule(
        &[""],
        &[
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "secrets",
            "services/proxy",
        ],
        READ,
    ),
    rule(&[""], &["serviceaccounts"], &["impersonate"]),
    rule(
        &[""],
        &[
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
        ],
        WRITE,
    ),
    rule(&[""], &["pods/eviction"], &["create"]),
    rule(
        &[""],
        &[
            "configmaps",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    rule(&[""], &["serviceaccounts/token"], &["create"]),
    rule(&["", "events.k8s.io"], &["events"], WRITE),
    rule(
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    rule(&["batch"], &["cronjobs", "jobs"], WRITE),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "ingresses",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicationcontrollers/scale",
        ],
        WRITE,
    ),
    rule(&["policy"], &["poddisruptionbudgets"], WRITE),
    rule(
        &["networking.k8s.io"],
        &["ingresses", "networkpolicies"],
        WRITE,
    ),
    rule(&["coordination.k8s.io"], &["leases"], READ_WRITE),
    rule(
        &["resource.k8s.io"],
        &["resourceclaims", "resourceclaimtemplates"],
        WRITE,
    ),
];

const AGGREGATE_TO_VIEW: &[StaticRule] = &[
    rule(
        &[""],
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    rule(
        &[""],
        &[
            "bindings",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    rule(&[""], &["namespaces"], READ),
    rule(&["", "events.k8s.io"], &["events"], READ),
    rule(&["discovery.k8s.io"], &["endpointslices"], READ),
    rule(
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    rule(
        &["autoscaling"],
        &[
            "horizontalpodautoscalers",
            "horizontalpodautoscalers/status",
        ],
        READ,
    ),
    rule(
        &["batch"],
        &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        READ,
    ),
    rule(
        &["extensions"],
        &[
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        READ,
    ),
    rule(
        &["policy"],
        &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        READ,
    ),
    rule(
        &["networking.k8s.io"],
        &["ingresses", "ingresses/status", "networkpolicies"],
        READ,
    ),
    rule(
        &["resource.k8s.io"],
        &[
            "resourceclaims",
            "resourceclaims/status",
            "resourceclaimtemplates",
        ],
        READ,
    ),
];

const TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// A user-facing ClusterRole every cluster has, with the rules it ends up with.
struct BuiltinRole {
    name: &'static str,
    /// `admin` aggregates `edit`, which aggregates `view`: each includes the ones below it.
    rules: &'static [&'static [StaticRule]],
    /// Labels that aggregate further ClusterRoles into it (directly or through the roles below).
    aggregates: &'static [&'static str],
}

const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "cluster-admin",
        rules: &[CLUSTER_ADMIN_RULES],
        aggregates: &[],
    },
    BuiltinRole {
        name: "admin",
        rules: &[AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW],
        aggregates: &[TO_ADMIN, TO_EDIT, TO_VIEW],
    },
    BuiltinRole {
        name: "edit",
        rules: &[AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW],
        aggregates: &[TO_EDIT, TO_VIEW],
    },
    BuiltinRole {
        name: "view",
        rules: &[AGGREGATE_TO_VIEW],
        aggregates: &[TO_VIEW],
    },
];

fn builtin_role(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|role| role.name == name)
}

// ---------------------------------------------------------------------------------------------
// Capabilities: what a grant lets its holder do, as authorization requests to probe.
// ---------------------------------------------------------------------------------------------

/// Whether a request is about a namespaced object (grantable by a RoleBinding) or a
/// cluster-scoped one (only a ClusterRoleBinding grants it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Namespaced,
    Cluster,
}

/// Authorization requests that exercise a capability.
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    subresource: &'static str,
    scope: Scope,
}

const fn probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    subresource: &'static str,
    scope: Scope,
) -> Probe {
    Probe {
        verbs,
        group,
        resource,
        subresource,
        scope,
    }
}

/// How a namespaced grant can reach the rights of a more powerful service account of the same
/// namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takeover {
    None,
    /// Any service account of the namespace can be used (token minting, impersonation, a pod
    /// running as it); names in `resourceNames` are service account names.
    ServiceAccounts,
    /// Only through legacy token Secrets stored in the namespace.
    TokenSecrets,
}

struct Capability {
    check: &'static str,
    /// Completes "… can {action} …".
    action: &'static str,
    /// Every requirement must be met by at least one of its probes (CSR approval needs both the
    /// approval subresource and a signer).
    requirements: &'static [&'static [Probe]],
    /// Severity when granted cluster-wide; a namespaced grant is one level lower.
    cluster_wide: Severity,
    /// Whether a grant limited by `resourceNames` is still reported (reading a few named Secrets
    /// is the least-privilege form the read-secrets check recommends, for instance).
    report_named: bool,
    takeover: Takeover,
}

const CAPABILITIES: &[Capability] = &[
    Capability {
        check: READ_SECRETS,
        action: "read Secrets",
        requirements: &[&[probe(READ, "", "secrets", "", Scope::Namespaced)]],
        cluster_wide: Severity::Critical,
        report_named: false,
        takeover: Takeover::TokenSecrets,
    },
    Capability {
        check: CREATE_PODS,
        action: "create pods or workload controllers",
        requirements: &[&[
            probe(&["create"], "", "pods", "", Scope::Namespaced),
            probe(&["create"], "apps", "deployments", "", Scope::Namespaced),
            probe(&["create"], "apps", "daemonsets", "", Scope::Namespaced),
            probe(&["create"], "apps", "statefulsets", "", Scope::Namespaced),
            probe(&["create"], "apps", "replicasets", "", Scope::Namespaced),
            probe(&["create"], "batch", "jobs", "", Scope::Namespaced),
            probe(&["create"], "batch", "cronjobs", "", Scope::Namespaced),
            probe(
                &["create"],
                "",
                "replicationcontrollers",
                "",
                Scope::Namespaced,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: false,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: POD_EXEC,
        action: "run commands in containers",
        requirements: &[&[
            probe(&["create", "get"], "", "pods", "exec", Scope::Namespaced),
            probe(&["create", "get"], "", "pods", "attach", Scope::Namespaced),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: ESCALATE_BIND,
        action: "grant itself roles it does not hold",
        requirements: &[&[
            probe(
                &["escalate", "bind"],
                RBAC_GROUP,
                "roles",
                "",
                Scope::Namespaced,
            ),
            // Binding a ClusterRole in a RoleBinding is authorized in the binding's namespace.
            probe(&["bind"], RBAC_GROUP, "clusterroles", "", Scope::Namespaced),
            probe(
                &["escalate"],
                RBAC_GROUP,
                "clusterroles",
                "",
                Scope::Cluster,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: IMPERSONATE,
        action: "impersonate other identities",
        requirements: &[&[
            probe(&["impersonate"], "", "users", "", Scope::Cluster),
            probe(&["impersonate"], "", "groups", "", Scope::Cluster),
            probe(
                &["impersonate"],
                "",
                "serviceaccounts",
                "",
                Scope::Namespaced,
            ),
        ]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: NODES_PROXY,
        action: "call the kubelet API of nodes",
        requirements: &[&[probe(
            &["get", "create"],
            "",
            "nodes",
            "proxy",
            Scope::Cluster,
        )]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: CREATE_TOKEN,
        action: "mint service account tokens",
        requirements: &[&[probe(
            &["create"],
            "",
            "serviceaccounts",
            "token",
            Scope::Namespaced,
        )]],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::ServiceAccounts,
    },
    Capability {
        check: APPROVE_CSR,
        action: "approve certificate signing requests",
        requirements: &[
            &[probe(
                &["update", "patch"],
                "certificates.k8s.io",
                "certificatesigningrequests",
                "approval",
                Scope::Cluster,
            )],
            &[probe(
                &["approve"],
                "certificates.k8s.io",
                "signers",
                "",
                Scope::Cluster,
            )],
        ],
        cluster_wide: Severity::Critical,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: WEBHOOK_CONFIG,
        action: "change admission webhooks",
        requirements: &[&[
            probe(
                &["create", "update", "patch", "delete", "deletecollection"],
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                "",
                Scope::Cluster,
            ),
            probe(
                &["create", "update", "patch", "delete", "deletecollection"],
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "",
                Scope::Cluster,
            ),
        ]],
        cluster_wide: Severity::High,
        report_named: true,
        takeover: Takeover::None,
    },
    Capability {
        check: CREATE_PERSISTENT_VOLUMES,
        action: "create PersistentVolumes",
        requirements: &[&[probe(
            &["create"],
            "",
            "persistentvolumes",
            "",
            Scope::Cluster,
        )]],
        cluster_wide: Severity::High,
        report_named: false,
        takeover: Takeover::None,
    },
];

/// What a set of rules grants of one capability.
#[derive(Debug)]
struct Grant<'a> {
    /// `None`: every object; otherwise only the objects with these names.
    names: Option<BTreeSet<&'a str>>,
    /// `("pods/exec", ["create", "get"])`, in probe order, for the message.
    details: Vec<(String, Vec<&'static str>)>,
}

impl Grant<'_> {
    /// "`pods`, `jobs.batch` (create), `pods/exec` (create, get)": resources sharing the same
    /// verbs are listed together.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut run: Vec<&str> = Vec::new();
        for (i, (resource, verbs)) in self.details.iter().enumerate() {
            run.push(resource);
            let next_same = self.details.get(i + 1).is_some_and(|(_, v)| v == verbs);
            if !next_same {
                parts.push(format!("{} ({})", quoted_list(&run), verbs.join(", ")));
                run.clear();
            }
        }
        parts.join(", ")
    }
}

/// What `rules` grant of `capability`, counting only requests a binding of this reach can
/// authorize.
fn evaluate<'a>(
    capability: &Capability,
    rules: &[Rule<'a>],
    cluster_wide: bool,
) -> Option<Grant<'a>> {
    let mut details: Vec<(String, Vec<&'static str>)> = Vec::new();
    let mut limited_to: Option<BTreeSet<&'a str>> = None;
    for requirement in capability.requirements {
        let mut full = false;
        let mut named = BTreeSet::new();
        for probe in requirement.iter() {
            if probe.scope == Scope::Cluster && !cluster_wide {
                continue;
            }
            for verb in probe.verbs {
                let Some(access) = access(rules, verb, probe) else {
                    continue;
                };
                match access {
                    Access::All => full = true,
                    Access::Named(names) => named.extend(names),
                }
                let shown = display_resource(probe);
                match details.iter_mut().find(|(r, _)| *r == shown) {
                    Some((_, verbs)) => {
                        if !verbs.contains(verb) {
                            verbs.push(verb)
                        }
                    }
                    None => details.push((shown, vec![verb])),
                }
            }
        }
        if !full {
            if named.is_empty() {
                return None;
            }
            limited_to.get_or_insert_with(BTreeSet::new).extend(named);
        }
    }
    Some(Grant {
        names: limited_to,
        details,
    })
}

enum Access<'a> {
    All,
    Named(Vec<&'a str>),
}

/// Whether `rules` authorize `verb` as described by `probe`, and for which objects.
fn access<'a>(rules: &[Rule<'a>], verb: &str, probe: &Probe) -> Option<Access<'a>> {
    // A create of a new object (or a deletecollection) carries no object name, so a rule limited
    // by resourceNames never matches it; a create on a subresource names its parent object.
    let names_apply =
        !(probe.subresource.is_empty() && matches!(verb, "create" | "deletecollection"));
    let mut named = Vec::new();
    for rule in rules {
        if !rule.covers(verb, probe.group, probe.resource, probe.subresource) {
            continue;
        }
        if rule.resource_names.is_empty() {
            return Some(Access::All);
        }
        if names_apply {
            named.extend(rule.resource_names.iter().copied());
        }
    }
    (!named.is_empty()).then_some(Access::Named(named))
}

/// `pods/exec`, `deployments.apps`, `certificatesigningrequests.certificates.k8s.io/approval`.
fn display_resource(probe: &Probe) -> String {
    let mut text = probe.resource.to_string();
    if !probe.group.is_empty() {
        text.push('.');
        text.push_str(probe.group);
    }
    if !probe.subresource.is_empty() {
        text.push('/');
        text.push_str(probe.subresource);
    }
    text
}

fn one_level_lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster facts: roles, bindings and service-account token Secrets.
// ---------------------------------------------------------------------------------------------

/// The RBAC objects seen so far (small objects, kept whole so findings can point into them), and
/// where legacy service account tokens are stored.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    roles: Vec<Resource>,
    bindings: Vec<Resource>,
    token_secrets: Vec<TokenSecret>,
}

/// A `kubernetes.io/service-account-token` Secret: whoever reads it holds the account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TokenSecret {
    cluster: Option<String>,
    namespace: String,
    secret: String,
    service_account: String,
}

impl Facts {
    pub(crate) fn collect(&mut self, resource: &Resource) {
        if is_rbac(resource) {
            match resource.kind() {
                "Role" | "ClusterRole" => self.roles.push(super::compact_copy(resource)),
                "RoleBinding" | "ClusterRoleBinding" => {
                    self.bindings.push(super::compact_copy(resource))
                }
                _ => {}
            }
        } else if resource.kind() == "Secret"
            && resource.reference.api_version == "v1"
            && resource.object.str_at("type") == Some("kubernetes.io/service-account-token")
        {
            let account = resource.annotation("kubernetes.io/service-account.name");
            if let (Some(namespace), Some(account)) = (resource.namespace(), account) {
                self.token_secrets.push(TokenSecret {
                    cluster: resource.source.cluster.as_deref().map(str::to_string),
                    namespace: namespace.to_string(),
                    secret: resource.name().to_string(),
                    service_account: account.to_string(),
                });
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Facts) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.token_secrets.extend(other.token_secrets);
    }

    pub(crate) fn assess(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        // Sorted so that what is reported, and how it is worded, does not depend on the order
        // objects arrived in or on how threads split them.
        let roles = sorted(&self.roles);
        let bindings = sorted(&self.bindings);
        let index = RoleIndex::new(&roles);
        let resolved: Vec<Option<ResolvedRole>> =
            bindings.iter().map(|b| index.resolve(b)).collect();
        let powers = Powers::find(&bindings, &resolved);
        let mut token_secrets = self.token_secrets.clone();
        token_secrets.sort();
        let assessor = Assessor {
            context,
            powers: &powers,
            token_secrets: &token_secrets,
        };
        for (binding, role) in bindings.iter().zip(&resolved) {
            assessor.binding(binding, role.as_ref(), findings);
        }
    }
}

fn sorted(list: &[Resource]) -> Vec<&Resource> {
    let mut refs: Vec<&Resource> = list.iter().collect();
    refs.sort_by(|a, b| {
        a.reference
            .cmp(&b.reference)
            .then_with(|| a.source.cluster.cmp(&b.source.cluster))
            .then_with(|| a.source.file.cmp(&b.source.file))
            .then_with(|| a.source.document.cmp(&b.source.document))
            // Two versions of the same object from the same place: fall back to their content.
            .then_with(|| {
                let text = |r: &Resource| serde_json::to_string(&r.object).unwrap_or_default();
                text(a).cmp(&text(b))
            })
    });
    refs
}

fn is_rbac(resource: &Resource) -> bool {
    resource.reference.group() == RBAC_GROUP
}

fn has_bootstrap_label(resource: &Resource) -> bool {
    resource.label(BOOTSTRAP_LABEL) == Some(BOOTSTRAP_VALUE)
}

/// Roles Kubernetes creates and reconciles itself: labelled as bootstrap policy, or using the
/// reserved `system:` prefix.
fn is_kubernetes_maintained(resource: &Resource) -> bool {
    has_bootstrap_label(resource) || resource.name().starts_with("system:")
}

fn cluster_of(resource: &Resource) -> Option<&str> {
    resource.source.cluster.as_deref()
}

// ---------------------------------------------------------------------------------------------
// Resolving what a binding grants.
// ---------------------------------------------------------------------------------------------

type ClusterKey<'a> = (Option<&'a str>, &'a str);
type NamespacedKey<'a> = (Option<&'a str>, Option<&'a str>, &'a str);

struct RoleIndex<'a> {
    /// ClusterRoles by (cluster, name); several when the same object was read more than once.
    cluster_roles: BTreeMap<ClusterKey<'a>, Vec<&'a Resource>>,
    /// Roles by (cluster, namespace, name).
    roles: BTreeMap<NamespacedKey<'a>, Vec<&'a Resource>>,
}

/// The role a binding refers to, with every rule it grants.
#[derive(Debug)]
struct ResolvedRole<'a> {
    kind: &'a str,
    name: &'a str,
    rules: Vec<Rule<'a>>,
    /// The role is not among the scanned objects: its rules are Kubernetes' built-in ones.
    builtin: bool,
    /// Found among the scanned objects.
    in_inventory: bool,
    /// Carries the bootstrap label.
    bootstrap_label: bool,
}

impl ResolvedRole<'_> {
    fn describe_short(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    fn describe(&self) -> String {
        let mut text = format!("{} `{}`", self.kind, self.name);
        if self.builtin {
            text.push_str(" (not among the scanned objects: built-in rules of Kubernetes 1.36)");
        }
        text
    }

    fn grants_everything(&self) -> bool {
        self.rules.iter().any(Rule::is_everything)
    }

    /// One of the roles Kubernetes itself grants to broad groups (`system:basic-user`,
    /// `system:discovery`, `system:public-info-viewer`, …).
    fn is_system_default(&self) -> bool {
        self.name.starts_with("system:") && (self.bootstrap_label || !self.in_inventory)
    }
}

impl<'a> RoleIndex<'a> {
    fn new(roles: &[&'a Resource]) -> RoleIndex<'a> {
        let mut index = RoleIndex {
            cluster_roles: BTreeMap::new(),
            roles: BTreeMap::new(),
        };
        for &role in roles {
            let cluster = cluster_of(role);
            match role.kind() {
                "ClusterRole" => index
                    .cluster_roles
                    .entry((cluster, role.name()))
                    .or_default()
                    .push(role),
                "Role" => index
                    .roles
                    .entry((cluster, role.namespace(), role.name()))
                    .or_default()
                    .push(role),
                _ => {}
            }
        }
        index
    }

    fn resolve(&self, binding: &'a Resource) -> Option<ResolvedRole<'a>> {
        let role_ref = binding.object.get("roleRef")?;
        let kind = role_ref.str_at("kind")?;
        let name = role_ref.str_at("name")?;
        let cluster = cluster_of(binding);
        match kind {
            // The API server rejects a ClusterRoleBinding to a Role: it grants nothing.
            "Role" if binding.kind() == "RoleBinding" => {
                let found = self.roles.get(&(cluster, binding.namespace(), name))?;
                Some(ResolvedRole {
                    kind,
                    name,
                    rules: found
                        .iter()
                        .flat_map(|r| rules_of(r).iter().map(Rule::from_node))
                        .collect(),
                    builtin: false,
                    in_inventory: true,
                    bootstrap_label: found.iter().any(|r| has_bootstrap_label(r)),
                })
            }
            "ClusterRole" => {
                let inventory = self.cluster_roles.get(&(cluster, name));
                let (rules, builtin) = self.cluster_role_rules(cluster, name)?;
                Some(ResolvedRole {
                    kind,
                    name,
                    rules,
                    builtin,
                    in_inventory: inventory.is_some(),
                    bootstrap_label: inventory
                        .is_some_and(|list| list.iter().any(|r| has_bootstrap_label(r))),
                })
            }
            _ => None,
        }
    }

    /// The rules of ClusterRole `name` including the ClusterRoles it aggregates, as the
    /// aggregation controller would fill them in; `None` when the role is unknown. The flag says
    /// whether built-in rules were used.
    fn cluster_role_rules(
        &self,
        cluster: Option<&'a str>,
        name: &'a str,
    ) -> Option<(Vec<Rule<'a>>, bool)> {
        let mut rules = Vec::new();
        let mut used_builtin = false;
        let mut visited = BTreeSet::new();
        // A work list rather than recursion: aggregation chains come from input and may be long
        // or cyclic.
        let mut pending = vec![name];
        while let Some(current) = pending.pop() {
            if !visited.insert(current) {
                continue;
            }
            let inventory = self.cluster_roles.get(&(cluster, current));
            let mut own_rules = 0;
            let mut selected = Vec::new();
            if let Some(list) = inventory {
                for role in list {
                    let before = rules.len();
                    rules.extend(rules_of(role).iter().map(Rule::from_node));
                    own_rules += rules.len() - before;
                    let selectors = role
                        .object
                        .at(&["aggregationRule", "clusterRoleSelectors"])
                        .map(Node::items)
                        .unwrap_or(&[]);
                    if !selectors.is_empty() {
                        selected.extend(self.cluster_roles_where(cluster, |labels| {
                            selectors.iter().any(|s| selector_matches(s, labels))
                        }));
                    }
                }
            }
            // Built-in knowledge fills in a role that is missing, or one present but not yet
            // aggregated (a manifest dump of the bootstrap roles carries `rules: null`).
            let unfilled = inventory
                .is_some_and(|list| list.iter().any(|r| has_bootstrap_label(r)))
                && own_rules == 0
                && selected.is_empty();
            let builtin = builtin_role(current).filter(|_| inventory.is_none() || unfilled);
            if let Some(builtin) = builtin {
                used_builtin = true;
                for group in builtin.rules {
                    rules.extend(group.iter().map(|r| -> Rule<'a> { Rule::from_static(r) }));
                }
                selected.extend(self.cluster_roles_where(cluster, |labels| {
                    builtin
                        .aggregates
                        .iter()
                        .any(|label| labels.str_at(label) == Some("true"))
                }));
            }
            if current == name && inventory.is_none() && builtin.is_none() {
                return None;
            }
            pending.extend(selected.into_iter().filter(|n| *n != current));
        }
        Some((rules, used_builtin))
    }

    /// Names of the ClusterRoles of `cluster` whose labels satisfy `accept`.
    fn cluster_roles_where(
        &self,
        cluster: Option<&'a str>,
        accept: impl Fn(&Node) -> bool,
    ) -> Vec<&'a str> {
        self.cluster_roles
            .iter()
            .filter(|((c, _), _)| *c == cluster)
            .filter(|(_, list)| {
                list.iter().any(|role| {
                    let labels = role.metadata().get("labels").unwrap_or(Node::null());
                    accept(labels)
                })
            })
            .map(|((_, name), _)| *name)
            .collect()
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`) against a labels map. An
/// empty selector matches everything, as in the aggregation controller; anything malformed
/// matches nothing.
fn selector_matches(selector: &Node, labels: &Node) -> bool {
    if !selector.is_map() {
        return false;
    }
    let label = |key: &str| labels.get(key).and_then(Node::to_text);
    let match_labels = selector
        .get("matchLabels")
        .map(Node::entries)
        .unwrap_or(&[]);
    for (key, value) in match_labels {
        if value.to_text().is_none() || label(key) != value.to_text() {
            return false;
        }
    }
    let expressions = selector
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or(&[]);
    expressions.iter().all(|expression| {
        let Some(key) = expression.str_at("key") else {
            return false;
        };
        let values: Vec<String> = expression
            .get("values")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::to_text)
            .collect();
        let actual = label(key);
        match expression.str_at("operator") {
            Some("In") => actual.is_some_and(|v| values.contains(&v)),
            Some("NotIn") => actual.is_none_or(|v| !values.contains(&v)),
            Some("Exists") => actual.is_some(),
            Some("DoesNotExist") => actual.is_none(),
            _ => false,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Subjects.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

#[derive(Debug, Clone, Copy)]
struct Subject<'a> {
    /// Position in `subjects`, for the finding's path.
    index: usize,
    kind: SubjectKind,
    name: &'a str,
    /// The service account's namespace (defaulted to the binding's for a RoleBinding).
    namespace: Option<&'a str>,
}

/// Who a subject stands for, as far as the checks are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// A Kubernetes component: not reported.
    Component,
    /// `system:anonymous` or `system:unauthenticated`.
    Anonymous,
    /// `system:authenticated` or `system:serviceaccounts`.
    Everyone,
    /// A person, team, service account or anything else.
    Principal,
}

fn subjects_of(binding: &Resource) -> Vec<Subject<'_>> {
    let items = binding
        .object
        .get("subjects")
        .map(Node::items)
        .unwrap_or(&[]);
    items
        .iter()
        .enumerate()
        .filter_map(|(index, node)| {
            let kind = match node.str_at("kind")? {
                "User" => SubjectKind::User,
                "Group" => SubjectKind::Group,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                _ => return None,
            };
            let namespace = node
                .str_at("namespace")
                .filter(|ns| !ns.is_empty())
                .or_else(|| (kind == SubjectKind::ServiceAccount).then(|| binding.namespace())?);
            Some(Subject {
                index,
                kind,
                name: node.str_at("name")?,
                namespace,
            })
        })
        .collect()
}

impl<'a> Subject<'a> {
    /// `(namespace, name)` when the subject is one service account, in either spelling.
    fn service_account(&self) -> Option<(&'a str, &'a str)> {
        match self.kind {
            SubjectKind::ServiceAccount => Some((self.namespace?, self.name)),
            SubjectKind::User => self
                .name
                .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?
                .split_once(':'),
            SubjectKind::Group => None,
        }
    }

    /// The namespace whose service accounts this subject stands for, if it is a service account
    /// or a namespace's service-account group.
    fn service_account_namespace(&self) -> Option<&'a str> {
        match self.kind {
            SubjectKind::Group => self
                .name
                .strip_prefix(SERVICE_ACCOUNT_GROUP)?
                .strip_prefix(':'),
            _ => self.service_account().map(|(ns, _)| ns),
        }
    }

    fn audience(&self, binding: &str, role: &str) -> Audience {
        match (self.kind, self.name) {
            (SubjectKind::User, "system:anonymous")
            | (SubjectKind::Group, "system:unauthenticated") => return Audience::Anonymous,
            (SubjectKind::Group, "system:authenticated" | SERVICE_ACCOUNT_GROUP) => {
                return Audience::Everyone;
            }
            _ => {}
        }
        if let Some(namespace) = self.service_account_namespace() {
            let component_grant = binding.starts_with("system:") || role.starts_with("system:");
            return if namespace == COMPONENT_NAMESPACE && component_grant {
                Audience::Component
            } else {
                Audience::Principal
            };
        }
        if self.kind != SubjectKind::ServiceAccount && self.name.starts_with("system:") {
            Audience::Component
        } else {
            Audience::Principal
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            SubjectKind::ServiceAccount => match self.namespace {
                Some(ns) => format!("ServiceAccount `{ns}/{}`", self.name),
                None => format!("ServiceAccount `{}`", self.name),
            },
            SubjectKind::User => {
                let note = match self.name {
                    "system:anonymous" => " (every request without credentials)",
                    _ => "",
                };
                format!("User `{}`{note}", self.name)
            }
            SubjectKind::Group => {
                let note = match self.name {
                    "system:unauthenticated" => " (every request without credentials)".to_string(),
                    "system:authenticated" => " (every authenticated identity)".to_string(),
                    SERVICE_ACCOUNT_GROUP => " (every service account of the cluster)".to_string(),
                    _ => match self.service_account_namespace() {
                        Some(ns) => format!(" (every service account of namespace `{ns}`)"),
                        None => String::new(),
                    },
                };
                format!("Group `{}`{note}", self.name)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Powerful service accounts: what a namespaced grant can reach by acting as one of them.
// ---------------------------------------------------------------------------------------------

/// Why a service account is powerful, for the message.
#[derive(Debug, Clone)]
struct Power {
    what: String,
    binding: String,
    /// Lower is stronger; the strongest reason is kept.
    rank: usize,
}

/// Service accounts that hold cluster-wide power, by (cluster, namespace, account).
#[derive(Debug, Default)]
struct Powers<'a> {
    by_account: BTreeMap<(Option<&'a str>, &'a str, &'a str), Power>,
}

impl<'a> Powers<'a> {
    /// Looks at every ClusterRoleBinding, those Kubernetes maintains included: whoever can act as
    /// a controller's service account holds that controller's rights.
    fn find(bindings: &[&'a Resource], roles: &[Option<ResolvedRole<'a>>]) -> Powers<'a> {
        let mut powers = Powers::default();
        for (binding, role) in bindings.iter().zip(roles) {
            let Some(role) = role else { continue };
            if binding.kind() != "ClusterRoleBinding" {
                continue;
            }
            let strongest = if role.grants_everything() {
                let what = if role.name == "cluster-admin" {
                    "holds cluster-admin".to_string()
                } else {
                    format!("holds every permission through {}", role.describe_short())
                };
                Some((0, what))
            } else {
                CAPABILITIES
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.cluster_wide == Severity::Critical)
                    .find(|(_, c)| {
                        evaluate(c, &role.rules, true).is_some_and(|g| g.names.is_none())
                    })
                    .map(|(i, c)| (i + 1, format!("can {} cluster-wide", c.action)))
            };
            let Some((rank, what)) = strongest else {
                continue;
            };
            for subject in subjects_of(binding) {
                let Some((namespace, account)) = subject.service_account() else {
                    continue;
                };
                let key = (cluster_of(binding), namespace, account);
                let candidate = Power {
                    what: what.clone(),
                    binding: binding.name().to_string(),
                    rank,
                };
                match powers.by_account.get(&key) {
                    Some(known) if known.rank <= rank => {}
                    _ => {
                        powers.by_account.insert(key, candidate);
                    }
                }
            }
        }
        powers
    }

    /// The powerful service accounts of a namespace, strongest first.
    fn in_namespace(&self, cluster: Option<&str>, namespace: &str) -> Vec<(&'a str, &Power)> {
        let mut found: Vec<(&'a str, &Power)> = self
            .by_account
            .iter()
            .filter(|((c, ns, _), _)| *c == cluster && *ns == namespace)
            .map(|((_, _, account), power)| (*account, power))
            .collect();
        found.sort_by(|a, b| a.1.rank.cmp(&b.1.rank).then(a.0.cmp(b.0)));
        found
    }

    fn get(&self, cluster: Option<&str>, namespace: &str, account: &str) -> Option<&Power> {
        self.by_account
            .iter()
            .find(|((c, ns, a), _)| *c == cluster && *ns == namespace && *a == account)
            .map(|(_, power)| power)
    }
}

// ---------------------------------------------------------------------------------------------
// Assessing bindings.
// ---------------------------------------------------------------------------------------------

struct Assessor<'c, 'p> {
    context: Context<'c>,
    powers: &'p Powers<'p>,
    token_secrets: &'p [TokenSecret],
}

impl Assessor<'_, '_> {
    fn binding(
        &self,
        binding: &Resource,
        role: Option<&ResolvedRole>,
        findings: &mut Vec<Finding>,
    ) {
        if has_bootstrap_label(binding) {
            return;
        }
        let cluster_wide = match binding.kind() {
            "ClusterRoleBinding" => true,
            "RoleBinding" => false,
            _ => return,
        };
        let Some(role_ref) = binding.object.get("roleRef") else {
            return;
        };
        let role_kind = role_ref.str_at("kind").unwrap_or("ClusterRole");
        let role_name = role_ref.str_at("name").unwrap_or("");
        let role_text = match role {
            Some(role) => role.describe(),
            None => format!("{role_kind} `{role_name}`"),
        };
        let scope = match (cluster_wide, binding.namespace()) {
            (true, _) => "cluster-wide".to_string(),
            (false, Some(ns)) => format!("in namespace `{ns}`"),
            (false, None) => "in the namespace the binding is applied to".to_string(),
        };
        let scaled = |severity: Severity| {
            if cluster_wide {
                severity
            } else {
                one_level_lower(severity)
            }
        };
        for subject in subjects_of(binding) {
            let audience = subject.audience(binding.name(), role_name);
            if audience == Audience::Component {
                continue;
            }
            let who = subject.describe();
            let public_info = role.is_none_or(|r| r.is_system_default())
                && role_name == "system:public-info-viewer";
            if audience == Audience::Anonymous && !public_info {
                self.report(
                    binding,
                    findings,
                    ANONYMOUS_BINDING,
                    subject.index,
                    format!("binds {role_text} to {who} {scope}"),
                    Severity::Critical,
                );
            }
            let system_default = match role {
                Some(role) => role.is_system_default(),
                None => role_name.starts_with("system:"),
            };
            if audience == Audience::Everyone && !system_default {
                self.report(
                    binding,
                    findings,
                    AUTHENTICATED_BINDING,
                    subject.index,
                    format!("binds {role_text} to {who} {scope}"),
                    scaled(Severity::High),
                );
            }
            let Some(role) = role else { continue };
            if role.grants_everything() {
                let what = if role.name == "cluster-admin" {
                    String::new()
                } else {
                    " (every verb on every resource, like cluster-admin)".to_string()
                };
                let reach = if cluster_wide {
                    ""
                } else {
                    " (full control of the namespace, its Secrets and service accounts included)"
                };
                self.report(
                    binding,
                    findings,
                    CLUSTER_ADMIN_BINDING,
                    subject.index,
                    format!(
                        "binds {}{what} to {who} {scope}{reach}",
                        role.describe_short()
                    ),
                    scaled(Severity::Critical),
                );
                // Everything below would only restate that the role grants everything.
                continue;
            }
            for capability in CAPABILITIES {
                let Some(grant) = evaluate(capability, &role.rules, cluster_wide) else {
                    continue;
                };
                if grant.names.is_some() && !capability.report_named {
                    continue;
                }
                let mut severity = scaled(capability.cluster_wide);
                let mut message = format!(
                    "{who} can {} {scope} via {role_text}: {}",
                    capability.action,
                    grant.describe()
                );
                if let Some(names) = &grant.names {
                    severity = one_level_lower(severity);
                    message.push_str(&format!(
                        " (only objects named {})",
                        quoted_list(&names.iter().collect::<Vec<_>>())
                    ));
                }
                if !cluster_wide
                    && let Some(path) = self.takeover(capability, binding, &subject, &grant)
                {
                    severity = Severity::Critical;
                    message.push_str(&path);
                }
                self.report(
                    binding,
                    findings,
                    capability.check,
                    subject.index,
                    message,
                    severity,
                );
            }
        }
    }

    /// How a grant in the binding's namespace reaches a more powerful service account there.
    fn takeover(
        &self,
        capability: &Capability,
        binding: &Resource,
        subject: &Subject,
        grant: &Grant,
    ) -> Option<String> {
        let namespace = binding.namespace()?;
        let cluster = cluster_of(binding);
        let itself = |account: &str| subject.service_account() == Some((namespace, account));
        match capability.takeover {
            Takeover::None => None,
            Takeover::ServiceAccounts => {
                let (account, power) = self
                    .powers
                    .in_namespace(cluster, namespace)
                    .into_iter()
                    .filter(|(account, _)| !itself(account))
                    .find(|(account, _)| grant.names.as_ref().is_none_or(|n| n.contains(account)))?;
                Some(format!(
                    "; ServiceAccount `{namespace}/{account}` there {} (ClusterRoleBinding `{}`), so this reaches the same power",
                    power.what, power.binding
                ))
            }
            Takeover::TokenSecrets => self
                .token_secrets
                .iter()
                .filter(|s| s.cluster.as_deref() == cluster && s.namespace == namespace)
                .filter(|s| !itself(&s.service_account))
                .filter_map(|s| {
                    let power = self.powers.get(cluster, namespace, &s.service_account)?;
                    Some((power.rank, s, power))
                })
                .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
                .map(|(_, secret, power)| {
                    format!(
                        "; Secret `{}` there holds a token of ServiceAccount `{namespace}/{}`, which {} (ClusterRoleBinding `{}`)",
                        secret.secret, secret.service_account, power.what, power.binding
                    )
                }),
        }
    }

    /// Emits a finding on subject `subject` of `binding` with a severity that depends on what the
    /// binding reaches (a severity set in the configuration still wins).
    fn report(
        &self,
        binding: &Resource,
        findings: &mut Vec<Finding>,
        check: &str,
        subject: usize,
        message: String,
        severity: Severity,
    ) {
        let path = FieldPath::root().key("subjects").index(subject);
        Emitter::new(self.context, binding, findings).emit_with_severity(
            check,
            Some(severity),
            None,
            &path,
            message,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{findings, findings_with, resources};
    use crate::{Catalogue, Config, Session};

    // Trimmed from the demo cluster's manifests (data set A, manifests/70-rbac.yaml,
    // 00-node-components-rbac.yaml, 10-kube-system.yaml, 30-payments.yaml, 50-dev.yaml,
    // 60-kubernetes-dashboard.yaml).
    const PLATFORM_SUPERUSER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: platform-superuser
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
- nonResourceURLs: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: platform-superusers
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: platform-superuser
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: platform-admins
"#;

    const SECRET_READER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: developers-secret-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-reader
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: developers
"#;

    const RBAC_DELEGATOR: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: rbac-delegator
rules:
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "clusterroles"]
  verbs: ["get", "list", "escalate", "bind"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["rolebindings", "clusterrolebindings"]
  verbs: ["get", "list", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["users", "groups", "serviceaccounts"]
  verbs: ["impersonate"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops-automation-rbac-delegator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: rbac-delegator
subjects:
- kind: ServiceAccount
  name: ops-automation
  namespace: monitoring
"#;

    const POD_EXEC_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pod-exec
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["pods/exec", "pods/attach", "pods/portforward"]
  verbs: ["create", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: developers-exec
  namespace: shop
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: pod-exec
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: developers
"#;

    const DEVELOPERS_EDIT: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: developers-edit
  namespace: dev
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: developers
"#;

    const CI_DEPLOYER_CLUSTER_ADMIN: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-deployer-cluster-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: ci-deployer
  namespace: dev
"#;

    const CI_DEPLOYER_TOKEN: &str = r#"
apiVersion: v1
kind: Secret
metadata:
  name: ci-deployer-token
  namespace: dev
  annotations:
    kubernetes.io/service-account.name: ci-deployer
type: kubernetes.io/service-account-token
"#;

    const AUTHENTICATED_INVENTORY: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-inventory-reader
rules:
- apiGroups: [""]
  resources: ["namespaces", "nodes"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: authenticated-cluster-inventory
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-inventory-reader
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:authenticated
"#;

    /// Components: none of these may produce a finding.
    const NODE_COMPONENTS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:nodes-kubelet
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:node
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:cloud-controller-manager
rules:
- apiGroups: [""]
  resources: ["services/status"]
  verbs: ["patch", "update"]
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:cloud-controller-manager
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:cloud-controller-manager
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:cloud-controller-manager
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
  labels:
    kubernetes.io/bootstrapping: rbac-defaults
rules:
- apiGroups: [""]
  resources: ["endpoints", "services", "pods", "namespaces"]
  verbs: ["list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
  labels:
    kubernetes.io/bootstrapping: rbac-defaults
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
- kind: ServiceAccount
  name: coredns
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: eks:kube-proxy
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:node-proxier
subjects:
- kind: ServiceAccount
  name: kube-proxy
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-admin
  labels:
    kubernetes.io/bootstrapping: rbac-defaults
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:masters
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:public-info-viewer
  labels:
    kubernetes.io/bootstrapping: rbac-defaults
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:public-info-viewer
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:authenticated
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:unauthenticated
"#;

    fn rbac_findings(yaml: &str) -> Vec<Finding> {
        findings(yaml)
            .into_iter()
            .filter(|f| f.check.id.starts_with("rbac-"))
            .collect()
    }

    /// The findings of check `id` on the resource printed as `resource` (`Kind/ns/name`).
    fn of<'a>(all: &'a [Finding], id: &str, resource: &str) -> Vec<&'a Finding> {
        all.iter()
            .filter(|f| f.check.id == id && f.resource.to_string() == resource)
            .collect()
    }

    fn only<'a>(all: &'a [Finding], id: &str, resource: &str) -> &'a Finding {
        let found = of(all, id, resource);
        assert_eq!(
            found.len(),
            1,
            "expected one {id} on {resource}, got {all:#?}"
        );
        found[0]
    }

    fn ids_on(all: &[Finding], resource: &str) -> Vec<String> {
        let mut ids: Vec<String> = all
            .iter()
            .filter(|f| f.resource.to_string() == resource)
            .map(|f| f.check.id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn role(rules: &str) -> Vec<Resource> {
        resources(&format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\nrules:\n{rules}"
        ))
    }

    fn parsed_rules(resources: &[Resource]) -> Vec<Rule<'_>> {
        resources
            .iter()
            .flat_map(|r| rules_of(r).iter().map(Rule::from_node))
            .collect()
    }

    #[test]
    fn wildcards_are_reported_at_the_wildcard() {
        let all = rbac_findings(PLATFORM_SUPERUSER);
        let verbs = only(&all, WILDCARD_VERBS, "ClusterRole/platform-superuser");
        assert_eq!(verbs.evidence.path, "rules[0].verbs[0]");
        assert_eq!(verbs.evidence.line, Some(9));
        assert!(verbs.message.contains("every resource in every API group"));
        let mut paths: Vec<&str> = of(&all, WILDCARD_RESOURCES, "ClusterRole/platform-superuser")
            .iter()
            .map(|f| f.evidence.path.as_str())
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            ["rules[0].resources[0]", "rules[1].nonResourceURLs[0]"]
        );
    }

    #[test]
    fn specific_rules_are_not_wildcards() {
        let all = rbac_findings(SECRET_READER);
        assert!(of(&all, WILDCARD_VERBS, "ClusterRole/secret-reader").is_empty());
        assert!(of(&all, WILDCARD_RESOURCES, "ClusterRole/secret-reader").is_empty());
        // `*/scale` names one subresource of every resource: not "every resource".
        let all = rbac_findings(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: scaler, namespace: shop}\nrules:\n- apiGroups: [apps]\n  resources: [\"*/scale\"]\n  verbs: [get, update]\n",
        );
        assert!(all.is_empty(), "{all:#?}");
    }

    #[test]
    fn wildcard_in_a_role_limited_by_name_says_so() {
        let all = rbac_findings(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: cm, namespace: shop}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [cart-config]\n  verbs: [\"*\"]\n",
        );
        let finding = only(&all, WILDCARD_VERBS, "Role/shop/cm");
        assert!(
            finding
                .message
                .contains("limited to objects named `cart-config`"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn roles_kubernetes_maintains_are_not_wildcard_findings() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:controller:generic-garbage-collector
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list, watch, patch, update, delete]
"#;
        assert!(rbac_findings(yaml).is_empty());
    }

    #[test]
    fn cluster_admin_binding_to_a_service_account() {
        let all = rbac_findings(CI_DEPLOYER_CLUSTER_ADMIN);
        let finding = only(
            &all,
            CLUSTER_ADMIN_BINDING,
            "ClusterRoleBinding/ci-deployer-cluster-admin",
        );
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.evidence.path, "subjects[0]");
        assert_eq!(
            finding.message,
            "binds ClusterRole `cluster-admin` to ServiceAccount `dev/ci-deployer` cluster-wide"
        );
        // The capabilities cluster-admin implies are not restated one by one.
        assert_eq!(
            ids_on(&all, "ClusterRoleBinding/ci-deployer-cluster-admin"),
            [CLUSTER_ADMIN_BINDING]
        );
    }

    #[test]
    fn cluster_admin_in_a_role_binding_is_high() {
        let all = rbac_findings(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ns-admin, namespace: shop}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects:\n- {kind: User, name: alice}\n",
        );
        let finding = only(&all, CLUSTER_ADMIN_BINDING, "RoleBinding/shop/ns-admin");
        assert_eq!(finding.severity, Severity::High);
        assert!(finding.message.contains("User `alice` in namespace `shop`"));
    }

    #[test]
    fn a_role_granting_everything_counts_as_cluster_admin() {
        let all = rbac_findings(PLATFORM_SUPERUSER);
        let finding = only(
            &all,
            CLUSTER_ADMIN_BINDING,
            "ClusterRoleBinding/platform-superusers",
        );
        assert_eq!(finding.severity, Severity::Critical);
        assert!(finding.message.contains("like cluster-admin"));
        assert!(finding.message.contains("Group `platform-admins`"));
    }

    #[test]
    fn components_and_bootstrap_bindings_produce_nothing() {
        let all = rbac_findings(NODE_COMPONENTS);
        assert!(all.is_empty(), "{all:#?}");
    }

    #[test]
    fn a_kube_system_service_account_bound_to_cluster_admin_is_reported() {
        // What an attacker plants for persistence (step 10 of the demo cluster's attack).
        let all = rbac_findings(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: kube-proxy-debug}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects:\n- {kind: ServiceAccount, name: kube-proxy-debug, namespace: kube-system}\n",
        );
        let finding = only(
            &all,
            CLUSTER_ADMIN_BINDING,
            "ClusterRoleBinding/kube-proxy-debug",
        );
        assert!(finding.message.contains("`kube-system/kube-proxy-debug`"));
    }

    #[test]
    fn anonymous_bindings_are_critical() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: anyone-views, namespace: shop}
roleRef: {kind: ClusterRole, name: view}
subjects:
- {kind: User, name: system:anonymous}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: health}
roleRef: {kind: ClusterRole, name: system:public-info-viewer}
subjects:
- {kind: Group, name: system:unauthenticated}
"#;
        let all = rbac_findings(yaml);
        let finding = only(&all, ANONYMOUS_BINDING, "RoleBinding/shop/anyone-views");
        assert_eq!(finding.severity, Severity::Critical);
        assert!(finding.message.contains("User `system:anonymous`"));
        // Binding the role Kubernetes already gives to everyone adds nothing.
        assert!(of(&all, ANONYMOUS_BINDING, "ClusterRoleBinding/health").is_empty());
    }

    #[test]
    fn authenticated_binding_to_a_custom_role() {
        let all = rbac_findings(AUTHENTICATED_INVENTORY);
        let finding = only(
            &all,
            AUTHENTICATED_BINDING,
            "ClusterRoleBinding/authenticated-cluster-inventory",
        );
        assert_eq!(finding.severity, Severity::High);
        assert!(finding.message.contains("every authenticated identity"));
        // Listing nodes and namespaces is none of the dangerous capabilities.
        assert_eq!(
            ids_on(&all, "ClusterRoleBinding/authenticated-cluster-inventory"),
            [AUTHENTICATED_BINDING]
        );
    }

    #[test]
    fn broad_groups_bound_to_default_or_builtin_roles() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: basic}
roleRef: {kind: ClusterRole, name: system:basic-user}
subjects:
- {kind: Group, name: system:authenticated}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-views}
roleRef: {kind: ClusterRole, name: view}
subjects:
- {kind: Group, name: system:serviceaccounts}
"#;
        let all = rbac_findings(yaml);
        assert!(of(&all, AUTHENTICATED_BINDING, "ClusterRoleBinding/basic").is_empty());
        let finding = only(
            &all,
            AUTHENTICATED_BINDING,
            "ClusterRoleBinding/everyone-views",
        );
        assert!(
            finding
                .message
                .contains("every service account of the cluster")
        );
    }

    #[test]
    fn secret_readers_cluster_wide_and_in_a_namespace() {
        let all = rbac_findings(SECRET_READER);
        let finding = only(
            &all,
            READ_SECRETS,
            "ClusterRoleBinding/developers-secret-reader",
        );
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.container, None);
        assert_eq!(
            finding.message,
            "Group `developers` can read Secrets cluster-wide via ClusterRole `secret-reader`: `secrets` (get, list, watch)"
        );
        let namespaced = format!(
            "{SECRET_READER}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: readers, namespace: shop}}\nroleRef: {{kind: ClusterRole, name: secret-reader}}\nsubjects:\n- {{kind: User, name: bob}}\n"
        );
        let all = rbac_findings(&namespaced);
        let finding = only(&all, READ_SECRETS, "RoleBinding/shop/readers");
        assert_eq!(finding.severity, Severity::High);
        assert!(finding.message.contains("in namespace `shop`"));
    }

    #[test]
    fn reading_named_secrets_is_not_reported() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["kubernetes-dashboard-key-holder", "kubernetes-dashboard-certs"]
  verbs: ["get", "update", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
roleRef: {kind: Role, name: kubernetes-dashboard}
subjects:
- {kind: ServiceAccount, name: kubernetes-dashboard, namespace: kubernetes-dashboard}
"#;
        assert!(rbac_findings(yaml).is_empty());
    }

    #[test]
    fn delegator_can_escalate_bind_and_impersonate() {
        let all = rbac_findings(RBAC_DELEGATOR);
        let binding = "ClusterRoleBinding/ops-automation-rbac-delegator";
        assert_eq!(ids_on(&all, binding), [ESCALATE_BIND, IMPERSONATE]);
        let escalate = only(&all, ESCALATE_BIND, binding);
        assert_eq!(escalate.severity, Severity::Critical);
        assert!(
            escalate
                .message
                .starts_with("ServiceAccount `monitoring/ops-automation` can")
        );
        assert!(
            escalate
                .message
                .contains("`roles.rbac.authorization.k8s.io` (escalate, bind)")
        );
        let impersonate = only(&all, IMPERSONATE, binding);
        assert!(
            impersonate
                .message
                .contains("`users`, `groups`, `serviceaccounts` (impersonate)"),
            "{}",
            impersonate.message
        );
    }

    #[test]
    fn cluster_scoped_grants_do_not_count_in_a_role_binding() {
        let yaml = format!(
            "{RBAC_DELEGATOR}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: delegate, namespace: ops}}\nroleRef: {{kind: ClusterRole, name: rbac-delegator}}\nsubjects:\n- {{kind: User, name: carol}}\n"
        );
        let all = rbac_findings(&yaml);
        let impersonate = only(&all, IMPERSONATE, "RoleBinding/ops/delegate");
        assert_eq!(impersonate.severity, Severity::High);
        // Users and groups are cluster-scoped: only the namespace's service accounts remain.
        assert!(
            impersonate
                .message
                .ends_with("`serviceaccounts` (impersonate)")
        );
        let escalate = only(&all, ESCALATE_BIND, "RoleBinding/ops/delegate");
        // `escalate` on ClusterRoles is cluster-scoped; `bind` of a ClusterRole is not.
        assert!(
            escalate
                .message
                .contains("`clusterroles.rbac.authorization.k8s.io` (bind)"),
            "{}",
            escalate.message
        );
    }

    #[test]
    fn exec_in_a_namespace() {
        let all = rbac_findings(POD_EXEC_ROLE);
        let finding = only(&all, POD_EXEC, "RoleBinding/shop/developers-exec");
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(
            finding.message,
            "Group `developers` can run commands in containers in namespace `shop` via ClusterRole `pod-exec`: `pods/exec`, `pods/attach` (create, get)"
        );
        // Reading pods is not creating them.
        assert_eq!(ids_on(&all, "RoleBinding/shop/developers-exec"), [POD_EXEC]);
    }

    #[test]
    fn edit_grants_pods_exec_secrets_tokens_and_impersonation() {
        let all = rbac_findings(DEVELOPERS_EDIT);
        let binding = "RoleBinding/dev/developers-edit";
        assert_eq!(
            ids_on(&all, binding),
            [
                CREATE_PODS,
                CREATE_TOKEN,
                IMPERSONATE,
                POD_EXEC,
                READ_SECRETS
            ]
        );
        for finding in of(&all, CREATE_TOKEN, binding) {
            assert_eq!(finding.severity, Severity::High);
            assert!(
                finding
                    .message
                    .contains("built-in rules of Kubernetes 1.36")
            );
        }
        let exec = only(&all, POD_EXEC, binding);
        // `get` (WebSocket) and `create` (SPDY) both come from the built-in edit role.
        assert!(exec.message.contains("(create, get)"), "{}", exec.message);
    }

    #[test]
    fn a_namespace_grant_reaching_a_cluster_admin_service_account_is_critical() {
        let yaml = format!("{DEVELOPERS_EDIT}---{CI_DEPLOYER_CLUSTER_ADMIN}---{CI_DEPLOYER_TOKEN}");
        let all = rbac_findings(&yaml);
        let binding = "RoleBinding/dev/developers-edit";
        for id in [CREATE_TOKEN, IMPERSONATE, CREATE_PODS] {
            let finding = only(&all, id, binding);
            assert_eq!(finding.severity, Severity::Critical, "{id}");
            assert!(
                finding
                    .message
                    .contains("ServiceAccount `dev/ci-deployer` there holds cluster-admin (ClusterRoleBinding `ci-deployer-cluster-admin`)"),
                "{}",
                finding.message
            );
        }
        let secrets = only(&all, READ_SECRETS, binding);
        assert_eq!(secrets.severity, Severity::Critical);
        assert!(
            secrets
                .message
                .contains("Secret `ci-deployer-token` there holds a token")
        );
        // Exec reaches pods, not service accounts: unchanged.
        assert_eq!(only(&all, POD_EXEC, binding).severity, Severity::High);
    }

    #[test]
    fn minting_a_token_for_itself_is_no_escalation() {
        let yaml = format!(
            "{CI_DEPLOYER_CLUSTER_ADMIN}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: self-token, namespace: dev}}\nrules:\n- apiGroups: [\"\"]\n  resources: [serviceaccounts/token]\n  resourceNames: [ci-deployer]\n  verbs: [create]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: self-token, namespace: dev}}\nroleRef: {{kind: Role, name: self-token}}\nsubjects:\n- {{kind: ServiceAccount, name: ci-deployer}}\n- {{kind: User, name: dave}}\n"
        );
        let all = rbac_findings(&yaml);
        let tokens = of(&all, CREATE_TOKEN, "RoleBinding/dev/self-token");
        assert_eq!(tokens.len(), 2);
        let own = tokens
            .iter()
            .find(|f| f.evidence.path == "subjects[0]")
            .unwrap();
        assert_eq!(own.severity, Severity::Medium);
        assert!(own.message.contains("only objects named `ci-deployer`"));
        let other = tokens
            .iter()
            .find(|f| f.evidence.path == "subjects[1]")
            .unwrap();
        assert_eq!(other.severity, Severity::Critical);
    }

    #[test]
    fn named_impersonation_is_reported_one_level_lower() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-alice}
rules:
- apiGroups: [""]
  resources: ["users"]
  resourceNames: ["alice"]
  verbs: ["impersonate"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: proxy}
roleRef: {kind: ClusterRole, name: impersonate-alice}
subjects:
- {kind: ServiceAccount, name: auth-proxy, namespace: proxy}
"#;
        let all = rbac_findings(yaml);
        let finding = only(&all, IMPERSONATE, "ClusterRoleBinding/proxy");
        assert_eq!(finding.severity, Severity::High);
        assert!(finding.message.ends_with("(only objects named `alice`)"));
    }

    #[test]
    fn node_proxy_webhooks_csr_and_volumes() {
        let cluster_role = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: platform-ops}
rules:
- apiGroups: [""]
  resources: ["nodes/proxy", "persistentvolumes"]
  verbs: ["get", "create"]
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["mutatingwebhookconfigurations"]
  verbs: ["patch"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
"#;
        let bindings = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: platform-ops}
roleRef: {kind: ClusterRole, name: platform-ops}
subjects:
- {kind: Group, name: platform-ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: platform-ops, namespace: shop}
roleRef: {kind: ClusterRole, name: platform-ops}
subjects:
- {kind: Group, name: platform-ops}
"#;
        let all = rbac_findings(&format!("{cluster_role}---{bindings}"));
        // Approving a CSR also needs `approve` on a signer, which this role lacks.
        assert_eq!(
            ids_on(&all, "ClusterRoleBinding/platform-ops"),
            [CREATE_PERSISTENT_VOLUMES, NODES_PROXY, WEBHOOK_CONFIG]
        );
        assert_eq!(
            only(&all, NODES_PROXY, "ClusterRoleBinding/platform-ops").severity,
            Severity::Critical
        );
        // All three concern cluster-scoped objects: a RoleBinding grants none of them.
        assert!(ids_on(&all, "RoleBinding/shop/platform-ops").is_empty());

        let signer = "- apiGroups: [\"certificates.k8s.io\"]\n  resources: [\"signers\"]\n  resourceNames: [\"kubernetes.io/kube-apiserver-client\"]\n  verbs: [\"approve\"]\n";
        let all = rbac_findings(&format!("{cluster_role}{signer}---{bindings}"));
        let finding = only(&all, APPROVE_CSR, "ClusterRoleBinding/platform-ops");
        assert_eq!(finding.severity, Severity::High);
        assert!(
            finding
                .message
                .contains("kubernetes.io/kube-apiserver-client")
        );
    }

    #[test]
    fn matching_follows_the_authorizer() {
        let parsed = role(
            "- apiGroups: [\"\"]\n  resources: [\"pods/*\"]\n  verbs: [create]\n- apiGroups: [\"\"]\n  resources: [\"*/attach\"]\n  verbs: [get]\n- apiGroups: []\n  resources: [\"*\"]\n  verbs: [\"*\"]\n",
        );
        let rules = parsed_rules(&parsed);
        let [pods_star, star_attach, no_groups] = &rules[..] else {
            panic!("three rules expected")
        };
        assert!(!pods_star.covers("create", "", "pods", "exec"));
        assert!(star_attach.covers("get", "", "pods", "attach"));
        assert!(!star_attach.covers("get", "", "pods", ""));
        assert!(!no_groups.covers("get", "", "secrets", ""));

        let everything = role("- apiGroups: [\"*\"]\n  resources: [\"*\"]\n  verbs: [\"*\"]\n");
        let rule = parsed_rules(&everything).remove(0);
        assert!(rule.covers("create", "", "pods", "exec"));
        assert!(rule.covers("approve", "certificates.k8s.io", "signers", ""));
        assert!(rule.is_everything());
    }

    #[test]
    fn resource_names_never_limit_a_create() {
        let named = role(
            "- apiGroups: [\"\"]\n  resources: [pods, pods/exec]\n  resourceNames: [web-0]\n  verbs: [create]\n",
        );
        let rules = parsed_rules(&named);
        let create_pods = probe(&["create"], "", "pods", "", Scope::Namespaced);
        assert!(access(&rules, "create", &create_pods).is_none());
        let exec = probe(&["create"], "", "pods", "exec", Scope::Namespaced);
        assert!(matches!(
            access(&rules, "create", &exec),
            Some(Access::Named(names)) if names == ["web-0"]
        ));
    }

    #[test]
    fn aggregated_roles_get_the_rules_they_select() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring-admin}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {acme.io/aggregate-to-monitoring-admin: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-secrets
  labels: {acme.io/aggregate-to-monitoring-admin: "true"}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitoring-admins}
roleRef: {kind: ClusterRole, name: monitoring-admin}
subjects:
- {kind: Group, name: sre}
"#;
        let all = rbac_findings(yaml);
        let finding = only(&all, READ_SECRETS, "ClusterRoleBinding/monitoring-admins");
        assert!(finding.message.contains("`secrets` (list)"));
    }

    #[test]
    fn built_in_roles_include_what_is_aggregated_into_them() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: node-debugging
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [""]
  resources: ["nodes/proxy"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {kind: ClusterRole, name: admin}
subjects:
- {kind: User, name: erin}
"#;
        let all = rbac_findings(yaml);
        // admin aggregates edit, which aggregates view, which aggregates node-debugging.
        let finding = only(&all, NODES_PROXY, "ClusterRoleBinding/admins");
        assert!(finding.message.contains("via ClusterRole `admin`"));
    }

    #[test]
    fn aggregation_cycles_terminate() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a, labels: {loop: "a"}}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: loop, operator: In, values: ["b"]}]
rules:
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: b, labels: {loop: "b"}}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: loop, operator: Exists}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: loop}
roleRef: {kind: ClusterRole, name: b}
subjects:
- {kind: User, name: frank}
"#;
        let all = rbac_findings(yaml);
        only(&all, CREATE_TOKEN, "ClusterRoleBinding/loop");
    }

    #[test]
    fn service_accounts_spelled_as_users() {
        let yaml = format!(
            "{SECRET_READER}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: sa-user}}\nroleRef: {{kind: ClusterRole, name: secret-reader}}\nsubjects:\n- {{kind: User, name: \"system:serviceaccount:ci:builder\"}}\n- {{kind: User, name: \"system:serviceaccount:kube-system:builder\"}}\n"
        );
        let all = rbac_findings(&yaml);
        let found = of(&all, READ_SECRETS, "ClusterRoleBinding/sa-user");
        // Both: a kube-system account bound through a non-system binding to a non-system role
        // is not a component.
        assert_eq!(found.len(), 2);
    }

    fn outcome(findings: Vec<Finding>) -> Vec<(String, String, String, Severity, String)> {
        let mut list: Vec<_> = findings
            .into_iter()
            .map(|f| {
                (
                    f.check.id.clone(),
                    f.resource.to_string(),
                    f.evidence.path.clone(),
                    f.severity,
                    f.message,
                )
            })
            .collect();
        list.sort();
        list
    }

    #[test]
    fn input_order_and_thread_split_do_not_matter() {
        let yaml = [
            PLATFORM_SUPERUSER,
            SECRET_READER,
            RBAC_DELEGATOR,
            POD_EXEC_ROLE,
            DEVELOPERS_EDIT,
            CI_DEPLOYER_CLUSTER_ADMIN,
            CI_DEPLOYER_TOKEN,
            AUTHENTICATED_INVENTORY,
            NODE_COMPONENTS,
        ]
        .join("---\n");
        let objects = resources(&yaml);
        let catalogue = Catalogue::builtin();
        let config = Config::default();
        let run = |order: &[&Resource]| {
            let mut session = Session::new(&catalogue, &config);
            for resource in order {
                session.assess(resource);
            }
            outcome(session.finish().findings)
        };
        let forward: Vec<&Resource> = objects.iter().collect();
        let backward: Vec<&Resource> = objects.iter().rev().collect();
        let expected = run(&forward);
        // 4 platform-superuser, 1 secret reader, 2 delegator, 1 exec, 5 edit, 1 ci-deployer,
        // 1 authenticated; the components none.
        assert_eq!(expected.len(), 15, "{expected:#?}");
        assert_eq!(run(&backward), expected);

        // Every other object on a second "thread": facts merge.
        let mut first = Session::new(&catalogue, &config);
        let mut second = Session::new(&catalogue, &config);
        for (i, resource) in objects.iter().enumerate() {
            if i % 2 == 0 {
                first.assess(resource);
            } else {
                second.assess(resource);
            }
        }
        second.merge(first);
        assert_eq!(outcome(second.finish().findings), expected);
    }

    #[test]
    fn a_configured_severity_wins_over_the_scope() {
        let mut config = Config::default();
        config.severity.insert(POD_EXEC.to_string(), Severity::Low);
        let all = findings_with(POD_EXEC_ROLE, &config);
        let finding = only(&all, POD_EXEC, "RoleBinding/shop/developers-exec");
        assert_eq!(finding.severity, Severity::Low);
    }

    #[test]
    fn suppression_annotations_apply_to_binding_findings() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: break-glass
  annotations:
    palisade.dev/ignore: rbac-cluster-admin-binding
    palisade.dev/ignore-reason: emergency access, audited
roleRef: {kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: break-glass}
"#;
        let all = rbac_findings(yaml);
        let finding = only(
            &all,
            CLUSTER_ADMIN_BINDING,
            "ClusterRoleBinding/break-glass",
        );
        assert_eq!(
            finding.suppressed.as_ref().map(|s| s.reason.as_str()),
            Some("emergency access, audited")
        );
    }

    #[test]
    fn malformed_objects_are_skipped_without_panicking() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: odd}
rules: "everything"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: odder}
aggregationRule: {clusterRoleSelectors: [null, 3, {matchExpressions: [{operator: In}]}]}
rules:
- verbs: "*"
  resources: [1, 2]
- null
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: no-role-ref}
subjects: [{kind: User, name: x}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bad-subjects}
roleRef: {kind: ClusterRole, name: odder}
subjects: {kind: User}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: role-in-cluster-binding}
roleRef: {kind: Role, name: odd}
subjects: [{kind: ServiceAccount, name: sa}, {kind: Martian, name: m}, {name: nobody}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: unknown-role, namespace: shop}
roleRef: {kind: ClusterRole, name: does-not-exist}
subjects: [{kind: User, name: y}]
---
apiVersion: v1
kind: Secret
metadata: {name: token}
type: kubernetes.io/service-account-token
"#;
        assert!(rbac_findings(yaml).is_empty());
    }

    #[test]
    fn every_check_is_in_the_catalogue() {
        let ids: Vec<String> = checks().into_iter().map(|c| c.id).collect();
        for capability in CAPABILITIES {
            assert!(
                ids.iter().any(|id| id == capability.check),
                "{}",
                capability.check
            );
        }
        assert_eq!(ids.len(), 15);
    }
}
